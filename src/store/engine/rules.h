// MAPI rules that hold for every backend (DESIGN.md: "MAPI rules live in engine/"): which
// properties the store computes and a client cannot set. Backends and the object model both
// ask here, so the answer is the same through every door.
#pragma once
#include "core/proptag.h"

namespace openmapi::store::engine {

// Message properties the store computes (MS-OXCMSG 2.2.1, MS-OXCPRPT): ids, entry IDs, sizes,
// change tracking, access; values a client supplies for them are refused (SetProps) or ignored
// (a whole message saved by value).
bool is_computed_message_tag(PropTag t);
// Folder properties the store computes (MS-OXCFOLD 2.2.2.2.1): counts, ids, entry IDs, sizes.
bool is_computed_folder_tag(PropTag t);
// Attachment properties the store computes: PidTagAttachNumber, PidTagObjectType, PidTagRecordKey.
bool is_computed_attachment_tag(PropTag t);

}  // namespace openmapi::store::engine
