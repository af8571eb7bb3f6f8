#include "core/guid.h"

#include <cstdio>
#include <random>

#include "core/error.h"

namespace openmapi {

std::optional<Guid> Guid::parse(std::string_view t) {
  if (t.size() == 38 && t.front() == '{' && t.back() == '}') t = t.substr(1, 36);
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
  uint8_t raw[16];
  int n = 0;
  int hi = -1;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    char c = t[i];
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (v < 0) return std::nullopt;
    if (hi < 0) hi = v;
    else raw[n++] = static_cast<uint8_t>(hi << 4 | v), hi = -1;
  }
  // Text is big-endian for Data1..3; the wire form is little-endian for them.
  Guid g;
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; ++i) g.bytes[i] = raw[order[i]];
  return g;
}

Guid Guid::from_string(std::string_view text) {
  auto g = parse(text);
  if (!g) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "malformed GUID '" + std::string(text) + "'");
  return *g;
}

Guid Guid::random() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Guid g;
  for (int i = 0; i < 16; i += 8) {
    uint64_t v = rng();
    for (int k = 0; k < 8; ++k) g.bytes[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  g.bytes[7] = (g.bytes[7] & 0x0F) | 0x40;  // version 4
  g.bytes[8] = (g.bytes[8] & 0x3F) | 0x80;  // RFC 4122 variant
  return g;
}

std::string Guid::to_string() const {
  const auto& b = bytes;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return buf;
}

bool Guid::is_null() const {
  for (auto b : bytes)
    if (b) return false;
  return true;
}

}  // namespace openmapi
