// Property types and tags (MS-OXCDATA 2.9 and 2.11.1).
#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace openmapi {

// MS-OXCDATA 2.11.1 property data types; values are the wire values.
enum class PropType : uint16_t {
  Unspecified = 0x0000,
  Null = 0x0001,
  Integer16 = 0x0002,
  Integer32 = 0x0003,
  Floating32 = 0x0004,
  Floating64 = 0x0005,
  Currency = 0x0006,
  FloatingTime = 0x0007,
  ErrorCode = 0x000A,
  Boolean = 0x000B,
  Object = 0x000D,
  Integer64 = 0x0014,
  String8 = 0x001E,
  String = 0x001F,
  Time = 0x0040,
  Guid = 0x0048,
  ServerId = 0x00FB,
  Restriction = 0x00FD,
  RuleAction = 0x00FE,
  Binary = 0x0102,
  MultipleInteger16 = 0x1002,
  MultipleInteger32 = 0x1003,
  MultipleFloating32 = 0x1004,
  MultipleFloating64 = 0x1005,
  MultipleCurrency = 0x1006,
  MultipleFloatingTime = 0x1007,
  MultipleInteger64 = 0x1014,
  MultipleString8 = 0x101E,
  MultipleString = 0x101F,
  MultipleTime = 0x1040,
  MultipleGuid = 0x1048,
  MultipleBinary = 0x1102,
};

inline constexpr uint16_t kMultiValueFlag = 0x1000;
// MVI_FLAG: a multi-valued property asked for one value per row in a table (MS-OXCTABL 2.2.2.1.1).
inline constexpr uint16_t kMultiValueInstanceFlag = 0x2000;

constexpr bool is_multi_valued(PropType t) { return (uint16_t(t) & kMultiValueFlag) != 0; }
// PropType::MultipleString -> PropType::String; single types map to themselves.
constexpr PropType base_type(PropType t) { return PropType(uint16_t(t) & ~(kMultiValueFlag | kMultiValueInstanceFlag)); }
constexpr PropType multi_type(PropType t) { return PropType(uint16_t(t) | kMultiValueFlag); }
// True for every type listed in MS-OXCDATA 2.11.1 (multi-valued forms included).
bool is_known_type(PropType t);
// Fixed wire size of a single value of `t` (0 for variable-size types).
size_t fixed_size(PropType t);
// "PtypString", "PtypMultipleInteger32", ...; "0x1234" when unknown.
std::string type_name(PropType t);
// Accepts "PtypString", "String", "PT_UNICODE" and the like; nullopt if unknown.
std::optional<PropType> type_from_name(std::string_view name);

// A property tag: id in the high 16 bits, type in the low 16 bits (MS-OXCDATA 2.9).
struct PropTag {
  uint32_t value = 0;

  constexpr PropTag() = default;
  constexpr explicit PropTag(uint32_t v) : value(v) {}
  constexpr PropTag(uint16_t id, PropType type) : value(uint32_t(id) << 16 | uint16_t(type)) {}

  constexpr uint16_t id() const { return uint16_t(value >> 16); }
  constexpr PropType type() const { return PropType(uint16_t(value & 0xFFFF)); }
  constexpr PropTag with_type(PropType t) const { return PropTag(id(), t); }
  // Named properties live at ids 0x8000..0xFFFE (MS-OXPROPS 1.3.2 / MS-OXCPRPT 3.1.5.4).
  constexpr bool is_named() const { return id() >= 0x8000; }
  std::string hex() const;  // "0x0037001F"

  constexpr auto operator<=>(const PropTag&) const = default;
};

// Parses "0x0037001F" or "0037001F".
std::optional<PropTag> parse_tag(std::string_view text);

// Frequently used tags, by their MS-OXPROPS canonical names.
namespace tags {
#define OPENMAPI_TAG(name, id, type) inline constexpr PropTag name{uint16_t(id), PropType::type}
OPENMAPI_TAG(PidTagMessageClass, 0x001A, String);
OPENMAPI_TAG(PidTagImportance, 0x0017, Integer32);
OPENMAPI_TAG(PidTagPriority, 0x0026, Integer32);
OPENMAPI_TAG(PidTagSensitivity, 0x0036, Integer32);
OPENMAPI_TAG(PidTagSubject, 0x0037, String);
OPENMAPI_TAG(PidTagClientSubmitTime, 0x0039, Time);
OPENMAPI_TAG(PidTagSubjectPrefix, 0x003D, String);
OPENMAPI_TAG(PidTagSentRepresentingName, 0x0042, String);
OPENMAPI_TAG(PidTagReceivedByEntryId, 0x003F, Binary);
OPENMAPI_TAG(PidTagTransportMessageHeaders, 0x007D, String);
OPENMAPI_TAG(PidTagReportTime, 0x0032, Time);
OPENMAPI_TAG(PidTagSentRepresentingEntryId, 0x0041, Binary);
OPENMAPI_TAG(PidTagOriginalSubject, 0x0049, String);
OPENMAPI_TAG(PidTagOriginalMessageClass, 0x004B, String);
OPENMAPI_TAG(PidTagSentRepresentingAddressType, 0x0064, String);
OPENMAPI_TAG(PidTagNonDeliveryReportReasonCode, 0x0C04, Integer32);
OPENMAPI_TAG(PidTagNonDeliveryReportDiagCode, 0x0C05, Integer32);
OPENMAPI_TAG(PidTagSenderEntryId, 0x0C19, Binary);
OPENMAPI_TAG(PidTagSupplementaryInfo, 0x0C1B, String);
OPENMAPI_TAG(PidTagNonDeliveryReportStatusCode, 0x0C20, Integer32);
OPENMAPI_TAG(PidTagRemoteMessageTransferAgent, 0x0C21, String);
OPENMAPI_TAG(PidTagReportingMessageTransferAgent, 0x6820, String);
OPENMAPI_TAG(PidTagDeliverTime, 0x0010, Time);
OPENMAPI_TAG(PidTagDeleteAfterSubmit, 0x0E01, Boolean);
OPENMAPI_TAG(PidTagSenderSmtpAddress, 0x5D01, String);
OPENMAPI_TAG(PidTagSentRepresentingSmtpAddress, 0x5D02, String);
OPENMAPI_TAG(PidTagReceivedByName, 0x0040, String);
OPENMAPI_TAG(PidTagReceivedRepresentingEntryId, 0x0043, Binary);
OPENMAPI_TAG(PidTagReceivedRepresentingName, 0x0044, String);
OPENMAPI_TAG(PidTagReceivedBySearchKey, 0x0051, Binary);
OPENMAPI_TAG(PidTagReceivedRepresentingSearchKey, 0x0052, Binary);
OPENMAPI_TAG(PidTagReceivedByAddressType, 0x0075, String);
OPENMAPI_TAG(PidTagReceivedByEmailAddress, 0x0076, String);
OPENMAPI_TAG(PidTagReceivedRepresentingAddressType, 0x0077, String);
OPENMAPI_TAG(PidTagReceivedRepresentingEmailAddress, 0x0078, String);
OPENMAPI_TAG(PidTagReceivedBySmtpAddress, 0x5D07, String);
OPENMAPI_TAG(PidTagReceivedRepresentingSmtpAddress, 0x5D08, String);
OPENMAPI_TAG(PidTagSentRepresentingEmailAddress, 0x0065, String);
OPENMAPI_TAG(PidTagConversationTopic, 0x0070, String);
OPENMAPI_TAG(PidTagInternetMessageId, 0x1035, String);
OPENMAPI_TAG(PidTagSenderName, 0x0C1A, String);
OPENMAPI_TAG(PidTagSenderEmailAddress, 0x0C1F, String);
OPENMAPI_TAG(PidTagSenderAddressType, 0x0C1E, String);
OPENMAPI_TAG(PidTagDisplayBcc, 0x0E02, String);
OPENMAPI_TAG(PidTagDisplayCc, 0x0E03, String);
OPENMAPI_TAG(PidTagDisplayTo, 0x0E04, String);
OPENMAPI_TAG(PidTagParentDisplay, 0x0E05, String);
OPENMAPI_TAG(PidTagMessageDeliveryTime, 0x0E06, Time);
OPENMAPI_TAG(PidTagMessageFlags, 0x0E07, Integer32);
OPENMAPI_TAG(PidTagMessageSize, 0x0E08, Integer32);
OPENMAPI_TAG(PidTagMessageSizeExtended, 0x0E08, Integer64);
OPENMAPI_TAG(PidTagParentEntryId, 0x0E09, Binary);
OPENMAPI_TAG(PidTagMessageStatus, 0x0E17, Integer32);
OPENMAPI_TAG(PidTagHasAttachments, 0x0E1B, Boolean);
OPENMAPI_TAG(PidTagNormalizedSubject, 0x0E1D, String);
OPENMAPI_TAG(PidTagRtfInSync, 0x0E1F, Boolean);
OPENMAPI_TAG(PidTagAttachSize, 0x0E20, Integer32);
OPENMAPI_TAG(PidTagAttachNumber, 0x0E21, Integer32);
OPENMAPI_TAG(PidTagAccess, 0x0FF4, Integer32);
OPENMAPI_TAG(PidTagRowType, 0x0FF5, Integer32);
OPENMAPI_TAG(PidTagInstanceKey, 0x0FF6, Binary);
OPENMAPI_TAG(PidTagAccessLevel, 0x0FF7, Integer32);
// Message store table columns of MAPI (PR_DEFAULT_STORE, PR_PROVIDER_DISPLAY; not in MS-OXPROPS).
OPENMAPI_TAG(PidTagDefaultStore, 0x3400, Boolean);
OPENMAPI_TAG(PidTagProviderDisplay, 0x3006, String);
OPENMAPI_TAG(PidTagRecordKey, 0x0FF9, Binary);
OPENMAPI_TAG(PidTagStoreRecordKey, 0x0FFA, Binary);
OPENMAPI_TAG(PidTagStoreEntryId, 0x0FFB, Binary);
OPENMAPI_TAG(PidTagObjectType, 0x0FFE, Integer32);
OPENMAPI_TAG(PidTagEntryId, 0x0FFF, Binary);
OPENMAPI_TAG(PidTagBody, 0x1000, String);
OPENMAPI_TAG(PidTagRtfCompressed, 0x1009, Binary);
OPENMAPI_TAG(PidTagHtml, 0x1013, Binary);
OPENMAPI_TAG(PidTagBodyHtml, 0x1013, String);
OPENMAPI_TAG(PidTagInternetCodepage, 0x3FDE, Integer32);
OPENMAPI_TAG(PidTagMessageRecipients, 0x0E12, Object);
OPENMAPI_TAG(PidTagMessageAttachments, 0x0E13, Object);
OPENMAPI_TAG(PidTagRecipientType, 0x0C15, Integer32);
OPENMAPI_TAG(PidTagRowid, 0x3000, Integer32);
OPENMAPI_TAG(PidTagDisplayName, 0x3001, String);
OPENMAPI_TAG(PidTagAddressType, 0x3002, String);
OPENMAPI_TAG(PidTagEmailAddress, 0x3003, String);
OPENMAPI_TAG(PidTagComment, 0x3004, String);
OPENMAPI_TAG(PidTagDepth, 0x3005, Integer32);
OPENMAPI_TAG(PidTagCreationTime, 0x3007, Time);
OPENMAPI_TAG(PidTagLastModificationTime, 0x3008, Time);
OPENMAPI_TAG(PidTagSearchKey, 0x300B, Binary);
OPENMAPI_TAG(PidTagSmtpAddress, 0x39FE, String);
OPENMAPI_TAG(PidTagRecipientDisplayName, 0x5FF6, String);
OPENMAPI_TAG(PidTagStoreSupportMask, 0x340D, Integer32);
OPENMAPI_TAG(PidTagStoreState, 0x340E, Integer32);
OPENMAPI_TAG(PidTagIpmSubtreeSearchKey, 0x3410, Binary);
OPENMAPI_TAG(PidTagIpmSubtreeEntryId, 0x35E0, Binary);
OPENMAPI_TAG(PidTagIpmOutboxEntryId, 0x35E2, Binary);
OPENMAPI_TAG(PidTagIpmWastebasketEntryId, 0x35E3, Binary);
OPENMAPI_TAG(PidTagIpmSentMailEntryId, 0x35E4, Binary);
OPENMAPI_TAG(PidTagViewsEntryId, 0x35E5, Binary);
OPENMAPI_TAG(PidTagCommonViewsEntryId, 0x35E6, Binary);
OPENMAPI_TAG(PidTagFinderEntryId, 0x35E7, Binary);
OPENMAPI_TAG(PidTagContainerFlags, 0x3600, Integer32);
OPENMAPI_TAG(PidTagFolderType, 0x3601, Integer32);
OPENMAPI_TAG(PidTagContentCount, 0x3602, Integer32);
OPENMAPI_TAG(PidTagContentUnreadCount, 0x3603, Integer32);
OPENMAPI_TAG(PidTagSubfolders, 0x360A, Boolean);
OPENMAPI_TAG(PidTagContainerClass, 0x3613, String);
OPENMAPI_TAG(PidTagFolderChildCount, 0x6638, Integer32);
OPENMAPI_TAG(PidTagIpmAppointmentEntryId, 0x36D0, Binary);
OPENMAPI_TAG(PidTagIpmContactEntryId, 0x36D1, Binary);
OPENMAPI_TAG(PidTagIpmJournalEntryId, 0x36D2, Binary);
OPENMAPI_TAG(PidTagIpmNoteEntryId, 0x36D3, Binary);
OPENMAPI_TAG(PidTagIpmTaskEntryId, 0x36D4, Binary);
OPENMAPI_TAG(PidTagRemindersOnlineEntryId, 0x36D5, Binary);
OPENMAPI_TAG(PidTagIpmDraftsEntryId, 0x36D7, Binary);
OPENMAPI_TAG(PidTagAdditionalRenEntryIds, 0x36D8, MultipleBinary);
OPENMAPI_TAG(PidTagAttachDataBinary, 0x3701, Binary);
OPENMAPI_TAG(PidTagAttachDataObject, 0x3701, Object);
OPENMAPI_TAG(PidTagAttachExtension, 0x3703, String);
OPENMAPI_TAG(PidTagAttachFilename, 0x3704, String);
OPENMAPI_TAG(PidTagAttachMethod, 0x3705, Integer32);
OPENMAPI_TAG(PidTagAttachLongFilename, 0x3707, String);
OPENMAPI_TAG(PidTagAttachMimeTag, 0x370E, String);
OPENMAPI_TAG(PidTagAttachContentId, 0x3712, String);
OPENMAPI_TAG(PidTagRenderingPosition, 0x370B, Integer32);
OPENMAPI_TAG(PidTagAttachFlags, 0x3714, Integer32);
OPENMAPI_TAG(PidTagMessageLocaleId, 0x3FF1, Integer32);
OPENMAPI_TAG(PidTagCreatorName, 0x3FF8, String);
OPENMAPI_TAG(PidTagLastModifierName, 0x3FFA, String);
OPENMAPI_TAG(PidTagInternetArticleNumber, 0x0E23, Integer32);
OPENMAPI_TAG(PidTagFolderId, 0x6748, Integer64);
OPENMAPI_TAG(PidTagParentFolderId, 0x6749, Integer64);
OPENMAPI_TAG(PidTagMid, 0x674A, Integer64);
OPENMAPI_TAG(PidTagInstID, 0x674D, Integer64);
OPENMAPI_TAG(PidTagInstanceNum, 0x674E, Integer32);
OPENMAPI_TAG(PidTagSourceKey, 0x65E0, Binary);
OPENMAPI_TAG(PidTagParentSourceKey, 0x65E1, Binary);
OPENMAPI_TAG(PidTagChangeKey, 0x65E2, Binary);
OPENMAPI_TAG(PidTagPredecessorChangeList, 0x65E3, Binary);
OPENMAPI_TAG(PidTagChangeNumber, 0x67A4, Integer64);
OPENMAPI_TAG(PidTagLocalCommitTime, 0x6709, Time);
OPENMAPI_TAG(PidTagDeletedOn, 0x668F, Time);
OPENMAPI_TAG(PidTagMailboxOwnerName, 0x661C, String);
OPENMAPI_TAG(PidTagProhibitReceiveQuota, 0x666A, Integer32);
OPENMAPI_TAG(PidTagProhibitSendQuota, 0x666E, Integer32);
OPENMAPI_TAG(PidTagStorageQuotaLimit, 0x3FF5, Integer32);
OPENMAPI_TAG(PidTagDeletedCountTotal, 0x670B, Integer32);
#undef OPENMAPI_TAG
}  // namespace tags

}  // namespace openmapi
