// MAPI rules that hold for every backend (DESIGN.md: "MAPI rules live in engine/"): which
// properties the store computes and a client cannot set, how a change is stamped, what a delete
// does, how read state and quotas behave, which folders a mailbox has. Backends and the object
// model both ask here, so the answer is the same through every door and every backend (the
// PostgreSQL backend reuses them unchanged). Pure functions: thread-safe, no state.
#pragma once
#include <array>
#include <cstdint>
#include <span>

#include "core/guid.h"
#include "core/propvalue.h"
#include "core/proptag.h"
#include "store/store.h"

namespace openmapi::store::engine {

// Message properties the store computes (MS-OXCMSG 2.2.1, MS-OXCPRPT): ids, entry IDs, sizes,
// change tracking, access; values a client supplies for them are refused (SetProps) or ignored
// (a whole message saved by value).
bool is_computed_message_tag(PropTag t);
// Folder properties the store computes (MS-OXCFOLD 2.2.2.2.1): counts, ids, entry IDs, sizes.
bool is_computed_folder_tag(PropTag t);
// Attachment properties the store computes: PidTagAttachNumber, PidTagObjectType, PidTagRecordKey.
bool is_computed_attachment_tag(PropTag t);


// ---- change tracking (MS-OXCFXICS 2.2.1.2) ----------------------------------------------------
// What change number `cn` of replica `replica` stamps on an object whose predecessor change list
// was `old_pcl` (null, or not binary: the object is new): PidTagChangeKey, the XID of the change
// (MS-OXCFXICS 2.2.1.2.7), and PidTagPredecessorChangeList, the old list with the change merged
// in (2.2.1.2.8: one XID per replica, the newest).
std::array<PropValue, 2> change_stamp(const Guid& replica, int64_t cn, const PropValue* old_pcl);

// ---- deletes (RopDeleteMessages, IMAPIFolder::DeleteMessages; Outlook's Deleted Items) -----------
enum class DeleteAction {
  Remove,              // hard delete: the message and its rows go (a tombstone in the journal)
  Hide,                // soft delete in Deleted Items: kept, hidden, PidTagDeletedOn set (recoverable)
  MoveToDeletedItems,  // soft delete elsewhere: moved to Deleted Items (a new id there)
};
DeleteAction delete_action(DeleteMode mode, FolderId folder, FolderId deleted_items);

// ---- read state (MS-OXCMSG 2.2.1.6) --------------------------------------------------------------
// PidTagMessageFlags after marking a message read (MSGFLAG_READ and MSGFLAG_EVERREAD set) or
// unread (MSGFLAG_READ cleared; EVERREAD stays).
int32_t read_flags(int32_t flags, bool read);

// ---- quotas (a mailbox that is full takes no more: MAPI_E_STORE_FULL) ----------------------------
// Throws MAPI_E_STORE_FULL when a message that grows from `old_size` to `size` bytes takes the
// mailbox total to `total` bytes, past `quota` (0: none). Shrinking is always allowed.
void check_quota(int64_t total, int64_t quota, int64_t old_size, int64_t size);

// ---- the folders of a private mailbox (MS-OXOSFLD 2.2.1, 2.2.2) ---------------------------------
struct SpecialFolderSpec {
  SpecialFolder folder;
  SpecialFolder parent;         // Root for the root itself
  const char* container_class;  // PidTagContainerClass, null for none
  bool hidden;                  // PidTagAttributeHidden
};
// Parents before children: a backend creates them in this order.
std::span<const SpecialFolderSpec> special_folder_layout();

}  // namespace openmapi::store::engine
