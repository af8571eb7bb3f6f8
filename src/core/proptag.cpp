#include "core/proptag.h"

#include <array>
#include <cstdio>
#include <utility>

#include "core/unicode.h"

namespace openmapi {
namespace {

struct TypeInfo {
  PropType type;
  std::string_view name;     // MS-OXCDATA 2.11.1 name
  std::string_view pt_name;  // the MAPI header name
  size_t fixed;
};

constexpr std::array<TypeInfo, 32> kTypes = {{
    {PropType::Unspecified, "PtypUnspecified", "PT_UNSPECIFIED", 0},
    {PropType::Null, "PtypNull", "PT_NULL", 0},
    {PropType::Integer16, "PtypInteger16", "PT_SHORT", 2},
    {PropType::Integer32, "PtypInteger32", "PT_LONG", 4},
    {PropType::Floating32, "PtypFloating32", "PT_FLOAT", 4},
    {PropType::Floating64, "PtypFloating64", "PT_DOUBLE", 8},
    {PropType::Currency, "PtypCurrency", "PT_CURRENCY", 8},
    {PropType::FloatingTime, "PtypFloatingTime", "PT_APPTIME", 8},
    {PropType::ErrorCode, "PtypErrorCode", "PT_ERROR", 4},
    {PropType::Boolean, "PtypBoolean", "PT_BOOLEAN", 1},
    {PropType::Object, "PtypObject", "PT_OBJECT", 0},
    {PropType::Integer64, "PtypInteger64", "PT_I8", 8},
    {PropType::String8, "PtypString8", "PT_STRING8", 0},
    {PropType::String, "PtypString", "PT_UNICODE", 0},
    {PropType::Time, "PtypTime", "PT_SYSTIME", 8},
    {PropType::Guid, "PtypGuid", "PT_CLSID", 16},
    {PropType::ServerId, "PtypServerId", "PT_SVREID", 0},
    {PropType::Restriction, "PtypRestriction", "PT_SRESTRICTION", 0},
    {PropType::RuleAction, "PtypRuleAction", "PT_ACTIONS", 0},
    {PropType::Binary, "PtypBinary", "PT_BINARY", 0},
    {PropType::MultipleInteger16, "PtypMultipleInteger16", "PT_MV_SHORT", 2},
    {PropType::MultipleInteger32, "PtypMultipleInteger32", "PT_MV_LONG", 4},
    {PropType::MultipleFloating32, "PtypMultipleFloating32", "PT_MV_FLOAT", 4},
    {PropType::MultipleFloating64, "PtypMultipleFloating64", "PT_MV_DOUBLE", 8},
    {PropType::MultipleCurrency, "PtypMultipleCurrency", "PT_MV_CURRENCY", 8},
    {PropType::MultipleFloatingTime, "PtypMultipleFloatingTime", "PT_MV_APPTIME", 8},
    {PropType::MultipleInteger64, "PtypMultipleInteger64", "PT_MV_I8", 8},
    {PropType::MultipleString8, "PtypMultipleString8", "PT_MV_STRING8", 0},
    {PropType::MultipleString, "PtypMultipleString", "PT_MV_UNICODE", 0},
    {PropType::MultipleTime, "PtypMultipleTime", "PT_MV_SYSTIME", 8},
    {PropType::MultipleGuid, "PtypMultipleGuid", "PT_MV_CLSID", 16},
    {PropType::MultipleBinary, "PtypMultipleBinary", "PT_MV_BINARY", 0},
}};

const TypeInfo* info(PropType t) {
  for (const auto& i : kTypes)
    if (i.type == t) return &i;
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

}  // namespace

bool is_known_type(PropType t) { return info(t) != nullptr; }

size_t fixed_size(PropType t) {
  const auto* i = info(t);
  return i ? i->fixed : 0;
}

std::string type_name(PropType t) {
  if (const auto* i = info(t)) return std::string(i->name);
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04X", unsigned(t));
  return buf;
}

std::optional<PropType> type_from_name(std::string_view name) {
  for (const auto& i : kTypes) {
    if (iequals(name, i.name) || iequals(name, i.pt_name) ||
        (name.size() + 4 == i.name.size() && iequals(name, i.name.substr(4))))
      return i.type;
  }
  // Common aliases.
  if (iequals(name, "PtypUnicode") || iequals(name, "Unicode")) return PropType::String;
  if (iequals(name, "PtypSystime") || iequals(name, "SysTime")) return PropType::Time;
  return std::nullopt;
}

std::string PropTag::hex() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", value);
  return buf;
}

std::optional<PropTag> parse_tag(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty() || text.size() > 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | uint32_t(d);
  }
  return PropTag(v);
}

}  // namespace openmapi
