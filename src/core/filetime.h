// FILETIME (100 ns ticks since 1601-01-01 UTC) on the wire, std::chrono inside.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace openmapi {

using SysTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// Seconds between 1601-01-01 and 1970-01-01.
inline constexpr int64_t kFileTimeEpochOffsetSeconds = 11644473600LL;

constexpr int64_t to_filetime(SysTime t) {
  return t.time_since_epoch().count() * 10 + kFileTimeEpochOffsetSeconds * 10'000'000LL;
}
constexpr SysTime from_filetime(int64_t ft) {
  // Divide first: any int64 FILETIME then fits without overflow.
  return SysTime(std::chrono::microseconds(ft / 10 - kFileTimeEpochOffsetSeconds * 1'000'000LL));
}
// The FILETIME of 10000-01-01: format_filetime shows times in [0, this) as dates.
inline constexpr int64_t kFileTimeYear10000 = 2650467744000000000LL;
// "2024-01-31T12:00:00Z" (with fractional seconds only when present); a value outside
// years 1601..9999 as "filetime(N)".
std::string format_filetime(int64_t ft);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z]" for years 1601..9999; always UTC.
std::optional<int64_t> parse_filetime(std::string_view text);

}  // namespace openmapi
