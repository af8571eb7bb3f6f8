#include "store/engine/rules.h"

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

}  // namespace openmapi::store::engine
