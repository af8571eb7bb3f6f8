// A PST or OST file as a read-only mailbox: the same folders, messages and tables the SQLite
// store gives, so everything that browses a mailbox browses a PST too. Every change is refused
// with MAPI_E_NO_ACCESS. Folder and message ids are the file's NIDs.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "formats/pst/pst.h"
#include "store/store.h"

namespace openmapi::store {

// MAPI_E_NOT_FOUND for a missing file; the reader's errors (MAPI_E_CORRUPT_DATA, MAPI_E_NO_SUPPORT)
// for a file it cannot read.
std::unique_ptr<Mailbox> open_pst_mailbox(const std::string& path);

// The file's default folders, found where MS-OXOSFLD publishes them (the store object, the root
// folder and the Inbox: PidTagIpm*EntryId, PidTagAdditionalRenEntryIds), by NID.
std::map<uint32_t, SpecialFolder> pst_special_folders(pst::PstFile& f);

}  // namespace openmapi::store
