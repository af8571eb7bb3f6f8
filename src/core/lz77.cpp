#include "core/lz77.h"

#include <array>
#include <string>

#include "core/error.h"

namespace openmapi {

namespace {

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "LZ77 stream: " + what); }

uint32_t le(ByteView in, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint32_t(in[at + i]) << (8 * i);
  return v;
}

constexpr size_t kWindow = 8192;      // 13 bits of offset
constexpr size_t kMinMatch = 3;
constexpr size_t kMaxMatch = 65535 + 3;  // the 16-bit length form holds length - 3

}  // namespace

Bytes lz77_decompress(ByteView in, size_t size) {
  Bytes out;
  out.reserve(size);
  size_t ip = 0;
  uint32_t flags = 0;
  int flag_count = 0;
  size_t nibble_at = SIZE_MAX;  // the byte whose high nibble the next long length uses
  for (;;) {
    if (flag_count == 0) {
      if (ip == in.size()) break;
      if (in.size() - ip < 4) corrupt("a flag word cut short");
      flags = le(in, ip, 4);
      ip += 4;
      flag_count = 32;
    }
    --flag_count;
    if (!(flags & (uint32_t(1) << flag_count))) {
      if (ip == in.size()) break;  // an encoder that pads with literal bits
      if (out.size() == size) corrupt("more output than the " + std::to_string(size) + " bytes announced");
      out.push_back(in[ip++]);
      continue;
    }
    if (ip == in.size()) break;  // the end: MS-XCA pads the last flag word with match bits
    if (in.size() - ip < 2) corrupt("a match cut short");
    const uint32_t m = le(in, ip, 2);
    ip += 2;
    size_t length = m & 7;
    const size_t offset = (m >> 3) + 1;
    if (length == 7) {
      if (nibble_at == SIZE_MAX) {
        if (ip == in.size()) corrupt("a length nibble cut short");
        length = in[ip] & 15;
        nibble_at = ip++;
      } else {
        length = in[nibble_at] >> 4;
        nibble_at = SIZE_MAX;
      }
      if (length == 15) {
        if (ip == in.size()) corrupt("a length byte cut short");
        length = in[ip++];
        if (length == 255) {
          if (in.size() - ip < 2) corrupt("a 16-bit length cut short");
          length = le(in, ip, 2);
          ip += 2;
          if (length == 0) {  // MS-XCA's 32-bit form
            if (in.size() - ip < 4) corrupt("a 32-bit length cut short");
            length = le(in, ip, 4);
            ip += 4;
          }
          if (length < 15 + 7) corrupt("a 16-bit length below 22");
          length -= 15 + 7;
        }
        length += 15;
      }
      length += 7;
    }
    length += 3;
    if (offset > out.size()) corrupt("a match " + std::to_string(offset) + " bytes back with " + std::to_string(out.size()) + " written");
    if (length > size - out.size()) corrupt("more output than the " + std::to_string(size) + " bytes announced");
    // Byte by byte: a match may overlap the bytes it produces.
    const size_t from = out.size() - offset;
    for (size_t i = 0; i < length; ++i) out.push_back(out[from + i]);
  }
  if (out.size() != size) corrupt(std::to_string(out.size()) + " bytes out, " + std::to_string(size) + " announced");
  return out;
}

Bytes lz77_compress(ByteView in) {
  Bytes out;
  out.reserve(in.size() + in.size() / 8 + 8);
  size_t flag_at = 0;
  uint32_t flags = 0;
  int flag_count = 0;
  size_t nibble_at = SIZE_MAX;
  auto item = [&](bool match) {
    if (flag_count == 32) {
      for (int i = 0; i < 4; ++i) out[flag_at + i] = uint8_t(flags >> (8 * i));
      flag_count = 0;
      flags = 0;
    }
    if (flag_count == 0) {
      flag_at = out.size();
      out.insert(out.end(), 4, 0);
    }
    flags = (flags << 1) | (match ? 1 : 0);
    ++flag_count;
  };
  auto put16 = [&](uint32_t v) {
    out.push_back(uint8_t(v));
    out.push_back(uint8_t(v >> 8));
  };

  std::array<uint32_t, 1 << 13> last{};  // hash of 3 bytes -> position + 1
  auto hash = [&](size_t p) { return ((uint32_t(in[p]) << 16 | uint32_t(in[p + 1]) << 8 | in[p + 2]) * 2654435761u) >> 19; };
  size_t p = 0;
  while (p < in.size()) {
    size_t best = 0, best_offset = 0;
    if (in.size() - p >= kMinMatch) {
      const uint32_t h = hash(p);
      const size_t cand = last[h];
      last[h] = uint32_t(p + 1);
      if (cand && p - (cand - 1) <= kWindow) {
        const size_t c = cand - 1;
        const size_t limit = std::min(in.size() - p, kMaxMatch);
        size_t n = 0;
        while (n < limit && in[c + n] == in[p + n]) ++n;
        if (n >= kMinMatch) {
          best = n;
          best_offset = p - c;
        }
      }
    }
    if (!best) {
      item(false);
      out.push_back(in[p++]);
      continue;
    }
    item(true);
    size_t v = best - 3;
    const uint32_t code = uint32_t(best_offset - 1) << 3;
    if (v < 7) {
      put16(code | uint32_t(v));
    } else {
      put16(code | 7);
      v -= 7;
      const uint8_t nib = uint8_t(std::min<size_t>(v, 15));
      if (nibble_at == SIZE_MAX) {
        nibble_at = out.size();
        out.push_back(nib);
      } else {
        out[nibble_at] |= uint8_t(nib << 4);
        nibble_at = SIZE_MAX;
      }
      if (v >= 15) {
        v -= 15;
        if (v < 255) {
          out.push_back(uint8_t(v));
        } else {
          out.push_back(255);
          put16(uint32_t(best - 3));
        }
      }
    }
    // Index the positions the match covers (a few, so long runs stay cheap).
    const size_t end = p + best;
    for (size_t q = p + 1; q < end && q + kMinMatch <= in.size() && q < p + 16; ++q) last[hash(q)] = uint32_t(q + 1);
    p = end;
  }
  // The unused bits of the last flag word say "match" (the end); a full last group gets a flag
  // word of its own so that a decoder reading flags first meets the end there.
  if (flag_count == 32) {
    for (int i = 0; i < 4; ++i) out[flag_at + i] = uint8_t(flags >> (8 * i));
    flag_count = 0;
    flags = 0;
    flag_at = out.size();
    out.insert(out.end(), 4, 0);
  }
  if (flag_count == 0 && out.empty()) {
    flag_at = 0;
    out.insert(out.end(), 4, 0);
  }
  const int unused = 32 - flag_count;
  const uint32_t word = unused == 32 ? 0xFFFFFFFFu : (flags << unused) | ((uint32_t(1) << unused) - 1);
  for (int i = 0; i < 4; ++i) out[flag_at + i] = uint8_t(word >> (8 * i));
  return out;
}

}  // namespace openmapi
