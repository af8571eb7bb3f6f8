// Named properties (MS-OXCDATA 2.6, MS-OXPROPS 1.3.2): a property set GUID plus a LID
// (MNID_ID) or a string name (MNID_STRING), mapped per store to ids 0x8000 and up.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/guid.h"
#include "core/bytes.h"
#include "core/proptag.h"

namespace openmapi {

// Well-known property sets (MS-OXPROPS 1.3.2).
namespace propset {
extern const Guid PS_MAPI;
extern const Guid PS_PUBLIC_STRINGS;
extern const Guid PS_INTERNET_HEADERS;
extern const Guid PSETID_Common;
extern const Guid PSETID_Address;
extern const Guid PSETID_Appointment;
extern const Guid PSETID_Meeting;
extern const Guid PSETID_Log;
extern const Guid PSETID_Messaging;
extern const Guid PSETID_Note;
extern const Guid PSETID_PostRss;
extern const Guid PSETID_Task;
extern const Guid PSETID_UnifiedMessaging;
extern const Guid PSETID_AirSync;
extern const Guid PSETID_Sharing;
extern const Guid PSETID_XmlExtractedEntities;
extern const Guid PSETID_Attachment;
extern const Guid PSETID_CalendarAssistant;
// "PSETID_Common" etc. for a known set, else the GUID text.
std::string name(const Guid& g);
std::optional<Guid> from_name(std::string_view name);
}  // namespace propset

// MS-OXCDATA 2.6.1 PropertyName Kind values.
enum class NameKind : uint8_t { Id = 0x00, String = 0x01 };

struct PropertyName {
  Guid set;
  NameKind kind = NameKind::Id;
  uint32_t lid = 0;    // kind == Id
  std::string name;    // kind == String (PS_INTERNET_HEADERS names are case-insensitive)

  static PropertyName by_id(const Guid& set, uint32_t lid) { return {set, NameKind::Id, lid, {}}; }
  static PropertyName by_name(const Guid& set, std::string name) { return {set, NameKind::String, 0, std::move(name)}; }
  // "PSETID_Common:0x8514" or "PS_PUBLIC_STRINGS:Keywords".
  std::string to_string() const;
  // The inverse of to_string(): "<set name or GUID>:0x<hex LID>" or "<set name or GUID>:<name>";
  // nullopt if the set is unknown and not a GUID, or nothing follows the colon.
  static std::optional<PropertyName> parse(std::string_view text);
  // The form used for look-ups (the name lowercased for PS_INTERNET_HEADERS).
  PropertyName canonical() const;

  auto operator<=>(const PropertyName&) const = default;
};

// MS-OXCDATA 2.6.1 PropertyName wire form (Kind, GUID, LID | NameSize + UTF-16LE name).
void write_property_name(BinaryWriter& w, const PropertyName& n);
PropertyName read_property_name(BinaryReader& r);

// A store's bidirectional map. Ids are handed out from 0x8000 up to 0xFFFE; past that
// MAPI_E_NAMED_PROP_QUOTA_EXCEEDED. The map does no I/O: a store persists what it adds.
class NamedPropertyMap {
 public:
  static constexpr uint16_t kFirstId = 0x8000;
  static constexpr uint16_t kLastId = 0xFFFE;

  // The id for `name`, if mapped.
  std::optional<uint16_t> find(const PropertyName& name) const;
  // The name mapped to `id`, if any.
  const PropertyName* find(uint16_t id) const;
  // The id for `name`, mapping it to the next free id when `create` (MAPI_CREATE) is set;
  // throws MAPI_E_NOT_FOUND when absent and !create.
  uint16_t get_or_create(const PropertyName& name, bool create);
  // Restores a mapping read from storage; throws MAPI_E_COLLISION if id or name is taken otherwise.
  void insert(uint16_t id, const PropertyName& name);
  size_t size() const { return by_id_.size(); }
  const std::map<uint16_t, PropertyName>& entries() const { return by_id_; }

 private:
  std::map<PropertyName, uint16_t> by_name_;
  std::map<uint16_t, PropertyName> by_id_;
  uint16_t next_ = kFirstId;
};

}  // namespace openmapi
