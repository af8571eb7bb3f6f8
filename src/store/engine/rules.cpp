#include "store/engine/rules.h"

#include <string>
#include <vector>

#include "core/entryid.h"
#include "core/error.h"

namespace openmapi::store::engine {

bool is_computed_message_tag(PropTag t) {
  switch (t.id()) {
    case 0x674A:  // PidTagMid
    case 0x6748:  // PidTagFolderId
    case 0x0FFF:  // PidTagEntryId
    case 0x0E09:  // PidTagParentEntryId
    case 0x0FF9:  // PidTagRecordKey
    case 0x0FF6:  // PidTagInstanceKey
    case 0x0E1B:  // PidTagHasAttachments
    case 0x67A4:  // PidTagChangeNumber
    case 0x0E08:  // PidTagMessageSize
    case 0x0E12:  // PidTagMessageRecipients
    case 0x0E13:  // PidTagMessageAttachments
    case 0x0FFB:  // PidTagStoreEntryId
    case 0x0FFA:  // PidTagStoreRecordKey
    case 0x0FFE:  // PidTagObjectType
    case 0x0FF4:  // PidTagAccess
    case 0x0FF7:  // PidTagAccessLevel
    case 0x65E1:  // PidTagParentSourceKey
    case 0x65E0:  // PidTagSourceKey
      return true;
    default: return false;
  }
}

bool is_computed_folder_tag(PropTag t) {
  switch (t.id()) {
    case 0x3602:  // PidTagContentCount
    case 0x3603:  // PidTagContentUnreadCount
    case 0x360A:  // PidTagSubfolders
    case 0x6638:  // PidTagFolderChildCount
    case 0x6748:  // PidTagFolderId
    case 0x6749:  // PidTagParentFolderId
    case 0x0FFF:  // PidTagEntryId
    case 0x0E09:  // PidTagParentEntryId
    case 0x67A4:  // PidTagChangeNumber
    case 0x0E08:  // PidTagMessageSize
    case 0x3601:  // PidTagFolderType
    case 0x0FFE:  // PidTagObjectType
    case 0x0FFB:  // PidTagStoreEntryId
    case 0x3617:  // PidTagAssociatedContentCount
      return true;
    default: return false;
  }
}

bool is_computed_attachment_tag(PropTag t) {
  switch (t.id()) {
    case 0x0E21:  // PidTagAttachNumber
    case 0x0FFE:  // PidTagObjectType
    case 0x0FF9:  // PidTagRecordKey
    case 0x0FF6:  // PidTagInstanceKey
      return true;
    default: return false;
  }
}

std::array<PropValue, 2> change_stamp(const Guid& replica, int64_t cn, const PropValue* old_pcl) {
  std::vector<Xid> pcl;
  if (old_pcl && old_pcl->get_if<Bytes>()) pcl = parse_pcl(*old_pcl->get_if<Bytes>());
  const Xid change = make_xid(replica, GlobalCounter(cn));
  pcl_merge(pcl, change);
  return {PropValue::binary(tags::PidTagChangeKey, change.serialize()),
          PropValue::binary(tags::PidTagPredecessorChangeList, serialize_pcl(pcl))};
}

DeleteAction delete_action(DeleteMode mode, FolderId folder, FolderId deleted_items) {
  if (mode == DeleteMode::Hard) return DeleteAction::Remove;
  return folder == deleted_items ? DeleteAction::Hide : DeleteAction::MoveToDeletedItems;
}

int32_t read_flags(int32_t flags, bool read) {
  return read ? (flags | msgflag::Read | msgflag::EverRead) : (flags & ~msgflag::Read);
}

void check_quota(int64_t total, int64_t quota, int64_t old_size, int64_t size) {
  if (quota > 0 && total > quota && size > old_size)
    throw_error(ErrorCode::MAPI_E_STORE_FULL, "saving this message (" + std::to_string(size) +
                                                  " bytes) would exceed the mailbox quota of " + std::to_string(quota) + " bytes");
}

namespace {
constexpr SpecialFolderSpec kLayout[] = {
    {SpecialFolder::Root, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::DeferredAction, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::SpoolerQueue, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::IpmSubtree, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::CommonViews, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::Schedule, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::Finder, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::Views, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::Shortcuts, SpecialFolder::Root, nullptr, false},
    {SpecialFolder::Inbox, SpecialFolder::IpmSubtree, "IPF.Note", false},
    {SpecialFolder::Outbox, SpecialFolder::IpmSubtree, "IPF.Note", false},
    {SpecialFolder::SentItems, SpecialFolder::IpmSubtree, "IPF.Note", false},
    {SpecialFolder::DeletedItems, SpecialFolder::IpmSubtree, "IPF.Note", false},
    {SpecialFolder::Drafts, SpecialFolder::IpmSubtree, "IPF.Note", false},
    {SpecialFolder::Calendar, SpecialFolder::IpmSubtree, "IPF.Appointment", false},
    {SpecialFolder::Contacts, SpecialFolder::IpmSubtree, "IPF.Contact", false},
    {SpecialFolder::Tasks, SpecialFolder::IpmSubtree, "IPF.Task", false},
    {SpecialFolder::Notes, SpecialFolder::IpmSubtree, "IPF.StickyNote", false},
    {SpecialFolder::Journal, SpecialFolder::IpmSubtree, "IPF.Journal", false},
    {SpecialFolder::JunkEmail, SpecialFolder::IpmSubtree, "IPF.Note", false},
    {SpecialFolder::SyncIssues, SpecialFolder::IpmSubtree, "IPF.Note", false},
    {SpecialFolder::Conflicts, SpecialFolder::SyncIssues, "IPF.Note", false},
    {SpecialFolder::LocalFailures, SpecialFolder::SyncIssues, "IPF.Note", false},
    {SpecialFolder::ServerFailures, SpecialFolder::SyncIssues, "IPF.Note", false},
    {SpecialFolder::QuickContacts, SpecialFolder::Contacts, "IPF.Contact.MOC.QuickContacts", true},
    {SpecialFolder::ImContactList, SpecialFolder::Contacts, "IPF.Contact.MOC.ImContactList", true},
    {SpecialFolder::ConversationActionSettings, SpecialFolder::IpmSubtree, "IPF.Configuration", true},
};
}  // namespace

std::span<const SpecialFolderSpec> special_folder_layout() { return kLayout; }

}  // namespace openmapi::store::engine
