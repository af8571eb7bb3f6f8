// libFuzzer target: compressed RTF (MS-OXRTFCP), RTF de-encapsulation (MS-OXRTFEX) and the
// text of RTF (rtf_to_text).
// Arbitrary bytes are decompressed (CRC checked and not), the result is de-encapsulated and
// compressed again; the round trip must give the same RTF back. The input is also de-encapsulated
// as RTF directly. Only MapiError may escape a parser.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "formats/rtf/compressed_rtf.h"
#include "formats/rtf/rtf_deencapsulate.h"
#include "formats/rtf/rtf_text.h"

using namespace openmapi;
using namespace openmapi::rtf;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "rtf_fuzz: %s\n", what);
  std::abort();
}

void round_trip(const Bytes& rtf) {
  for (auto kind : {RtfCompression::Compressed, RtfCompression::Uncompressed}) {
    Bytes packed = compress_rtf(rtf, kind);
    RtfDecompressOptions strict;
    strict.strict = true;
    if (decompress_rtf(packed, strict) != rtf) fail("compress/decompress round trip differs");
  }
}

void deencapsulate(ByteView rtf) {
  try {
    DeencapsulatedRtf d = deencapsulate_rtf(rtf);
    if (d.kind == RtfEncapsulation::None && !d.content.empty()) fail("content without encapsulation");
  } catch (const MapiError&) {
  }
  // The text of the RTF: never more than the input can make (each byte gives at most a few).
  try {
    const std::string text = rtf_to_text(std::string_view(reinterpret_cast<const char*>(rtf.data()), rtf.size()));
    if (text.size() > 8 * rtf.size() + 64) fail("rtf_to_text made more text than its input can hold");
  } catch (const MapiError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  RtfDecompressOptions small;
  small.max_output = 16 << 20;
  for (bool verify : {true, false}) {
    small.verify_crc = verify;
    try {
      Bytes rtf = decompress_rtf(in, small);
      deencapsulate(rtf);
      round_trip(rtf);
    } catch (const MapiError&) {
    }
  }
  deencapsulate(in);
  // Raw input as RTF to compress: the round trip must hold for any bytes.
  if (size <= 4096) round_trip(Bytes(in.begin(), in.end()));
  return 0;
}
