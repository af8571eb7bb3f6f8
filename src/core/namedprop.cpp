// Named properties: property sets (MS-OXPROPS 1.3.2), PropertyName (MS-OXCDATA 2.6.1) and the
// per-store name <-> id map (ids 0x8000..0xFFFE, MS-OXCPRPT 3.1.5.4).
#include "core/namedprop.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/unicode.h"

namespace openmapi {
namespace {

// "00062008-0000-0000-C000-000000000046" -> wire order, at compile time, so the set GUIDs are
// constant-initialized and safe to use from other translation units' static initializers.
constexpr uint8_t hex_nibble(char c) {
  return c >= '0' && c <= '9' ? uint8_t(c - '0') : c >= 'a' && c <= 'f' ? uint8_t(c - 'a' + 10) : uint8_t(c - 'A' + 10);
}
constexpr Guid guid_literal(const char (&s)[37]) {
  uint8_t raw[16]{};
  int n = 0;
  for (int i = 0; i < 36; i += 2) {
    if (s[i] == '-') --i;  // the loop's += 2 then lands on the next digit pair
    else raw[n++] = uint8_t(hex_nibble(s[i]) << 4 | hex_nibble(s[i + 1]));
  }
  Guid g;
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; ++i) g.bytes[size_t(i)] = raw[order[i]];
  return g;
}

}  // namespace

namespace propset {
// MS-OXPROPS 1.3.2 "Commonly Used Property Sets"; PSETID_Attachment and PSETID_CalendarAssistant as
// given with the properties of those sets in MS-OXPROPS section 2.
constexpr Guid PS_MAPI = guid_literal("00020328-0000-0000-C000-000000000046");
constexpr Guid PS_PUBLIC_STRINGS = guid_literal("00020329-0000-0000-C000-000000000046");
constexpr Guid PS_INTERNET_HEADERS = guid_literal("00020386-0000-0000-C000-000000000046");
constexpr Guid PSETID_Common = guid_literal("00062008-0000-0000-C000-000000000046");
constexpr Guid PSETID_Address = guid_literal("00062004-0000-0000-C000-000000000046");
constexpr Guid PSETID_Appointment = guid_literal("00062002-0000-0000-C000-000000000046");
constexpr Guid PSETID_Meeting = guid_literal("6ED8DA90-450B-101B-98DA-00AA003F1305");
constexpr Guid PSETID_Log = guid_literal("0006200A-0000-0000-C000-000000000046");
constexpr Guid PSETID_Messaging = guid_literal("41F28F13-83F4-4114-A584-EEDB5A6B0BFF");
constexpr Guid PSETID_Note = guid_literal("0006200E-0000-0000-C000-000000000046");
constexpr Guid PSETID_PostRss = guid_literal("00062041-0000-0000-C000-000000000046");
constexpr Guid PSETID_Task = guid_literal("00062003-0000-0000-C000-000000000046");
constexpr Guid PSETID_UnifiedMessaging = guid_literal("4442858E-A9E3-4E80-B900-317A210CC15B");
constexpr Guid PSETID_AirSync = guid_literal("71035549-0739-4DCB-9163-00F0580DBBDF");
constexpr Guid PSETID_Sharing = guid_literal("00062040-0000-0000-C000-000000000046");
constexpr Guid PSETID_XmlExtractedEntities = guid_literal("23239608-685D-4732-9C55-4C95CB4E8E33");
constexpr Guid PSETID_Attachment = guid_literal("96357F7F-59E1-47D0-99A7-46515C183B54");
constexpr Guid PSETID_CalendarAssistant = guid_literal("11000E07-B51B-40D6-AF21-CAA85EDAB1D0");

namespace {
struct Known {
  const Guid* guid;
  std::string_view name;
};
const Known kKnown[] = {
    {&PS_MAPI, "PS_MAPI"},
    {&PS_PUBLIC_STRINGS, "PS_PUBLIC_STRINGS"},
    {&PS_INTERNET_HEADERS, "PS_INTERNET_HEADERS"},
    {&PSETID_Common, "PSETID_Common"},
    {&PSETID_Address, "PSETID_Address"},
    {&PSETID_Appointment, "PSETID_Appointment"},
    {&PSETID_Meeting, "PSETID_Meeting"},
    {&PSETID_Log, "PSETID_Log"},
    {&PSETID_Messaging, "PSETID_Messaging"},
    {&PSETID_Note, "PSETID_Note"},
    {&PSETID_PostRss, "PSETID_PostRss"},
    {&PSETID_Task, "PSETID_Task"},
    {&PSETID_UnifiedMessaging, "PSETID_UnifiedMessaging"},
    {&PSETID_AirSync, "PSETID_AirSync"},
    {&PSETID_Sharing, "PSETID_Sharing"},
    {&PSETID_XmlExtractedEntities, "PSETID_XmlExtractedEntities"},
    {&PSETID_Attachment, "PSETID_Attachment"},
    {&PSETID_CalendarAssistant, "PSETID_CalendarAssistant"},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}
}  // namespace

std::string name(const Guid& g) {
  for (const auto& k : kKnown)
    if (*k.guid == g) return std::string(k.name);
  return g.to_string();
}

std::optional<Guid> from_name(std::string_view text) {
  for (const auto& k : kKnown)
    if (iequals(k.name, text)) return *k.guid;
  return Guid::parse(text);  // "{00062008-...}" or "00062008-..." for any other set
}
}  // namespace propset

std::string PropertyName::to_string() const {
  std::string out = propset::name(set) + ":";
  if (kind == NameKind::Id) {
    char buf[16];
    std::snprintf(buf, sizeof buf, lid <= 0xFFFF ? "0x%04X" : "0x%08X", lid);
    return out + buf;
  }
  return out + name;
}

std::optional<PropertyName> PropertyName::parse(std::string_view text) {
  // The set part never contains ':', a string name may (e.g. "urn:schemas:calendar:location").
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto set = propset::from_name(text.substr(0, colon));
  if (!set) return std::nullopt;
  std::string_view rest = text.substr(colon + 1);
  if (rest.size() > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') && rest.size() <= 10) {
    uint32_t v = 0;
    bool ok = true;
    for (char c : rest.substr(2)) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) {
        ok = false;
        break;
      }
      v = v << 4 | uint32_t(d);
    }
    if (ok) return by_id(*set, v);
  }
  if (rest.empty()) return std::nullopt;
  return by_name(*set, std::string(rest));
}

PropertyName PropertyName::canonical() const {
  PropertyName c = *this;
  if (kind == NameKind::Id) c.name.clear();
  else c.lid = 0;
  // MS-OXCDATA / MS-OXPROPS: names in PS_INTERNET_HEADERS are Internet header names, which are
  // case-insensitive (RFC 5322), so they are compared in lower case.
  if (kind == NameKind::String && set == propset::PS_INTERNET_HEADERS) c.name = fold_case(name);
  return c;
}

// MS-OXCDATA 2.6.1: Kind (1 byte), GUID (16), then LID (4) for Kind 0x00 or NameSize (1) + Name
// (UTF-16LE with a terminating U+0000; NameSize counts the bytes of Name, terminator included).
void write_property_name(BinaryWriter& w, const PropertyName& n) {
  w.u8(uint8_t(n.kind));
  w.bytes(n.set.bytes);
  if (n.kind == NameKind::Id) {
    w.u32(n.lid);
    return;
  }
  BinaryWriter name;
  name.utf16z(n.name);
  if (name.size() > 0xFF)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER,
                "property name '" + n.name + "' is too long for a PropertyName (NameSize is one byte)");
  w.u8(uint8_t(name.size()));
  w.bytes(name.data());
}

PropertyName read_property_name(BinaryReader& r) {
  uint8_t kind = r.u8();
  Guid set;
  auto g = r.bytes(16);
  std::copy(g.begin(), g.end(), set.bytes.begin());
  if (kind == uint8_t(NameKind::Id)) return PropertyName::by_id(set, r.u32());
  if (kind != uint8_t(NameKind::String)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "PropertyName Kind 0x%02X is not a name (want 0x00 or 0x01)", kind);
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, buf);
  }
  uint8_t size = r.u8();
  if (size < 2 || size % 2 != 0)
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PropertyName NameSize " + std::to_string(size) +
                                                    " is not a whole UTF-16 string with its terminator");
  auto raw = r.bytes(size);
  std::u16string units;
  units.reserve(size / 2 - 1);
  for (size_t i = 0; i + 2 < raw.size(); i += 2) {
    char16_t u = char16_t(raw[i] | raw[i + 1] << 8);
    if (u == 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PropertyName Name has a U+0000 before its end");
    units.push_back(u);
  }
  if (raw[size - 2] != 0 || raw[size - 1] != 0)
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PropertyName Name is not terminated by U+0000");
  return PropertyName::by_name(set, utf16_to_utf8(units));
}

std::optional<uint16_t> NamedPropertyMap::find(const PropertyName& name) const {
  auto it = by_name_.find(name.canonical());
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

const PropertyName* NamedPropertyMap::find(uint16_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

uint16_t NamedPropertyMap::get_or_create(const PropertyName& name, bool create) {
  PropertyName key = name.canonical();
  if (auto it = by_name_.find(key); it != by_name_.end()) return it->second;
  if (!create) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "named property " + name.to_string() + " is not mapped");
  if (key.kind == NameKind::String && key.name.empty())
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a named property needs a non-empty name");
  // next_ only moves up; ids restored by insert() are skipped.
  while (next_ <= kLastId && by_id_.count(next_)) ++next_;
  if (next_ > kLastId)
    throw_error(ErrorCode::MAPI_E_NAMED_PROP_QUOTA_EXCEEDED,
                "no named property id left for " + name.to_string() + " (0x8000-0xFFFE are all mapped)");
  uint16_t id = next_++;
  by_id_.emplace(id, key);
  by_name_.emplace(std::move(key), id);
  return id;
}

void NamedPropertyMap::insert(uint16_t id, const PropertyName& name) {
  if (id < kFirstId || id > kLastId) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "named property id 0x%04X is outside 0x8000-0xFFFE", id);
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, buf);
  }
  PropertyName key = name.canonical();
  auto by_id = by_id_.find(id);
  auto by_name = by_name_.find(key);
  if (by_id != by_id_.end() && by_name != by_name_.end() && by_name->second == id) return;  // already there
  if (by_id != by_id_.end()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%04X", id);
    throw_error(ErrorCode::MAPI_E_COLLISION, std::string("named property id ") + buf + " is already mapped to " +
                                                 by_id->second.to_string() + ", not " + name.to_string());
  }
  if (by_name != by_name_.end()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%04X, not 0x%04X", by_name->second, id);
    throw_error(ErrorCode::MAPI_E_COLLISION, "named property " + name.to_string() + " is already mapped to " + buf);
  }
  by_id_.emplace(id, key);
  by_name_.emplace(std::move(key), id);
}

}  // namespace openmapi
