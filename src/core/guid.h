// GUIDs as MAPI stores them (MS-OXCDATA 2.5.1 / MS-DTYP 2.3.4.2: Data1..Data3 little-endian).
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace openmapi {

struct Guid {
  std::array<uint8_t, 16> bytes{};  // wire order

  // From "{00062008-0000-0000-C000-000000000046}" or without braces; nullopt if malformed.
  static std::optional<Guid> parse(std::string_view text);
  // Throws MAPI_E_INVALID_PARAMETER if malformed; for literals.
  static Guid from_string(std::string_view text);
  static Guid random();
  // "00062008-0000-0000-c000-000000000046" (lowercase, no braces).
  std::string to_string() const;
  bool is_null() const;

  auto operator<=>(const Guid&) const = default;
};

}  // namespace openmapi
