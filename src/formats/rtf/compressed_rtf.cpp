#include "formats/rtf/compressed_rtf.h"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace openmapi::rtf {

namespace {

// MS-OXRTFCP 2.1.2.1 (Dictionary): the initial contents of the 4096-byte ring; the first write
// position is its length (207).
constexpr std::string_view kInitialDictionary =
    "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
    "\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
    "\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
static_assert(kInitialDictionary.size() == 207);

constexpr size_t kRingSize = 4096;
constexpr size_t kRingMask = kRingSize - 1;
constexpr size_t kMinMatch = 2;   // a reference stores length - 2 in 4 bits (2.1.3.1.5)
constexpr size_t kMaxMatch = 17;
// Largest expansion of LZFu contents: a control byte and eight 2-byte references give 8 * 17
// output bytes for 17 input bytes, i.e. at most 8 output bytes per contents byte.
constexpr uint64_t kMaxExpansion = 8;

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

[[noreturn]] void corrupt(const std::string& what) {
  throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "compressed RTF: " + what);
}

std::string hex32(uint32_t v) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (int i = 7; i >= 0; --i) s.push_back(digits[(v >> (4 * i)) & 0xF]);
  return s;
}

Bytes decompress_lzfu(ByteView contents, uint32_t raw_size) {
  if (raw_size > kMaxExpansion * contents.size())
    corrupt("RAWSIZE " + std::to_string(raw_size) + " cannot come from " +
            std::to_string(contents.size()) + " bytes of LZFu contents");

  std::array<uint8_t, kRingSize> ring{};
  std::copy(kInitialDictionary.begin(), kInitialDictionary.end(), ring.begin());
  size_t write = kInitialDictionary.size();

  Bytes out;
  out.reserve(raw_size);  // bounded by the expansion check above
  auto put = [&](uint8_t b) {
    if (out.size() >= raw_size) corrupt("contents decode to more than RAWSIZE bytes");
    out.push_back(b);
    ring[write] = b;
    write = (write + 1) & kRingMask;
  };
  auto end_of_input = [&]() {
    // Out of contents without the end-of-stream reference: tolerated only when the claimed
    // size was reached exactly.
    if (out.size() != raw_size) corrupt("contents end without the end-of-stream reference");
  };

  BinaryReader r(contents);
  for (;;) {
    if (r.at_end()) return end_of_input(), out;
    uint8_t control = r.u8();
    for (int bit = 0; bit < 8; ++bit) {
      if (r.at_end()) return end_of_input(), out;
      if ((control & (1u << bit)) == 0) {
        put(r.u8());
        continue;
      }
      // Dictionary reference, big-endian: 12-bit offset, 4-bit length - 2 (2.1.3.1.5).
      uint16_t hi = r.u8();
      uint16_t word = static_cast<uint16_t>((hi << 8) | r.u8());
      size_t offset = word >> 4;
      size_t length = (word & 0xF) + kMinMatch;
      if (offset == write) {
        if (out.size() != raw_size)
          corrupt("output is " + std::to_string(out.size()) + " bytes, RAWSIZE claims " +
                  std::to_string(raw_size));
        return out;
      }
      // Byte by byte: a reference may overlap the bytes it is producing.
      for (size_t i = 0; i < length; ++i) put(ring[(offset + i) & kRingMask]);
    }
  }
}

}  // namespace

CompressedRtfHeader parse_compressed_rtf_header(ByteView data) {
  BinaryReader r(data);
  if (data.size() < kCompressedRtfHeaderSize)
    corrupt("header needs 16 bytes, got " + std::to_string(data.size()));
  CompressedRtfHeader h;
  h.comp_size = r.u32();
  h.raw_size = r.u32();
  h.comp_type = r.u32();
  h.crc = r.u32();
  if (h.comp_type != kCompTypeCompressed && h.comp_type != kCompTypeUncompressed)
    corrupt("unknown COMPTYPE " + hex32(h.comp_type));
  return h;
}

uint32_t compressed_rtf_crc(ByteView data, uint32_t crc) {
  for (uint8_t b : data) crc = kCrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc;
}

Bytes decompress_rtf(ByteView data, const RtfDecompressOptions& options) {
  CompressedRtfHeader h = parse_compressed_rtf_header(data);
  if (h.comp_size < kCompressedRtfHeaderSize - 4)
    corrupt("COMPSIZE " + std::to_string(h.comp_size) + " is smaller than the header");
  uint64_t declared_total = uint64_t{h.comp_size} + 4;
  if (declared_total > data.size())
    corrupt("COMPSIZE " + std::to_string(h.comp_size) + " claims " +
            std::to_string(declared_total) + " bytes, only " + std::to_string(data.size()) +
            " present");
  if (options.strict && declared_total != data.size())
    corrupt(std::to_string(data.size() - declared_total) + " bytes follow COMPSIZE");

  BinaryReader r(data);
  r.skip(kCompressedRtfHeaderSize);
  ByteView contents = r.bytes(static_cast<size_t>(declared_total - kCompressedRtfHeaderSize));

  if (h.comp_type == kCompTypeUncompressed) {
    // MS-OXRTFCP 2.1.3.1.1: RAWDATA, CRC zero.
    if (options.strict) {
      if (h.crc != 0) corrupt("MELA stream with non-zero CRC " + hex32(h.crc));
      if (uint64_t{h.raw_size} + 12 != h.comp_size)
        corrupt("MELA COMPSIZE " + std::to_string(h.comp_size) + " != RAWSIZE + 12");
    }
    size_t n = std::min<uint64_t>(contents.size(), h.raw_size);
    if (n > options.max_output)
      throw_error(ErrorCode::MAPI_E_TOO_BIG, "compressed RTF: " + std::to_string(n) +
                                                 " bytes exceed the limit of " +
                                                 std::to_string(options.max_output));
    return Bytes(contents.begin(), contents.begin() + static_cast<std::ptrdiff_t>(n));
  }

  uint32_t crc = compressed_rtf_crc(contents);
  if (options.verify_crc && crc != h.crc)
    corrupt("CRC mismatch: header " + hex32(h.crc) + ", contents " + hex32(crc));
  if (h.raw_size > kMaxExpansion * contents.size())
    corrupt("RAWSIZE " + std::to_string(h.raw_size) + " cannot come from " +
            std::to_string(contents.size()) + " bytes of LZFu contents");
  if (h.raw_size > options.max_output)
    throw_error(ErrorCode::MAPI_E_TOO_BIG, "compressed RTF: RAWSIZE " +
                                               std::to_string(h.raw_size) +
                                               " exceeds the limit of " +
                                               std::to_string(options.max_output));
  return decompress_lzfu(contents, h.raw_size);
}

Bytes compress_rtf(ByteView rtf, RtfCompression compression) {
  if (rtf.size() > std::numeric_limits<uint32_t>::max() - 64)
    throw_error(ErrorCode::MAPI_E_TOO_BIG, "compressed RTF: input too large for RAWSIZE");

  BinaryWriter body;
  if (compression == RtfCompression::Uncompressed) {
    body.bytes(rtf);
  } else {
    // MS-OXRTFCP 2.3.3.2. The stream S = initial dictionary + input; stream position p lives in
    // ring slot p % 4096 at the moment it is written, so a match source q with p - q <= 4095 is
    // still intact in the ring when the reference at p is decoded. Copies run byte by byte, so
    // a match may run past p (overlap), exactly as in an ordinary LZ77 window.
    const size_t dict = kInitialDictionary.size();
    std::vector<uint8_t> s;
    s.reserve(dict + rtf.size());
    s.insert(s.end(), kInitialDictionary.begin(), kInitialDictionary.end());
    s.insert(s.end(), rtf.begin(), rtf.end());

    // Hash chains keyed on the next two bytes (the shortest useful match).
    constexpr int32_t kNone = -1;
    constexpr size_t kMaxChain = kRingSize;
    std::vector<int32_t> head(65536, kNone);
    std::vector<int32_t> prev(s.size(), kNone);
    auto key = [&](size_t p) { return (size_t{s[p]} << 8) | s[p + 1]; };
    auto insert = [&](size_t p) {
      if (p + 1 >= s.size()) return;
      size_t k = key(p);
      prev[p] = head[k];
      head[k] = static_cast<int32_t>(p);
    };
    for (size_t p = 0; p < dict; ++p) insert(p);

    uint8_t control = 0;
    uint8_t control_bit = 1;
    std::array<uint8_t, 16> tokens{};
    size_t token_len = 0;
    auto flush = [&]() {
      body.u8(control);
      body.bytes(ByteView(tokens.data(), token_len));
      control = 0, control_bit = 1, token_len = 0;
    };
    auto next_token = [&]() {
      if (control_bit == 0x80) return flush();
      control_bit = static_cast<uint8_t>(control_bit << 1);
    };
    auto reference = [&](size_t offset, size_t length_minus_2) {
      uint16_t word = static_cast<uint16_t>(((offset & kRingMask) << 4) | length_minus_2);
      tokens[token_len++] = static_cast<uint8_t>(word >> 8);
      tokens[token_len++] = static_cast<uint8_t>(word & 0xFF);
      control |= control_bit;
    };

    size_t p = dict;
    while (p < s.size()) {
      size_t best_len = 0, best_pos = 0;
      size_t limit = std::min(kMaxMatch, s.size() - p);
      if (limit >= kMinMatch) {
        size_t chain = 0;
        for (int32_t q = head[key(p)]; q != kNone && chain < kMaxChain; q = prev[q], ++chain) {
          size_t qs = static_cast<size_t>(q);
          if (p - qs > kRingSize - 1) break;  // chains run from newest to oldest
          size_t len = 0;
          while (len < limit && s[qs + len] == s[p + len]) ++len;
          // Among equally long matches take the lowest ring offset, as a scan of the ring from
          // offset 0 would (this reproduces the streams Outlook writes).
          if (len > best_len || (len == best_len && (qs & kRingMask) < (best_pos & kRingMask)))
            best_len = len, best_pos = qs;
        }
      }
      if (best_len >= kMinMatch) {
        reference(best_pos, best_len - kMinMatch);
      } else {
        best_len = 1;
        tokens[token_len++] = s[p];
      }
      for (size_t i = 0; i < best_len; ++i) insert(p + i);
      p += best_len;
      next_token();
    }
    // End of stream: a reference to the current write position, length 0 (2.3.3.2 step 8).
    reference(p & kRingMask, 0);
    flush();
  }

  Bytes contents = body.take();
  BinaryWriter w;
  w.u32(static_cast<uint32_t>(contents.size() + 12));
  w.u32(static_cast<uint32_t>(rtf.size()));
  if (compression == RtfCompression::Uncompressed) {
    w.u32(kCompTypeUncompressed);
    w.u32(0);
  } else {
    w.u32(kCompTypeCompressed);
    w.u32(compressed_rtf_crc(contents));
  }
  w.bytes(contents);
  return w.take();
}

}  // namespace openmapi::rtf
