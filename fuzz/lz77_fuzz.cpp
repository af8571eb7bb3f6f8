// libFuzzer target: LZ77 + DIRECT2 (MS-OXCRPC 3.1.4.1.1.2). Arbitrary bytes are decompressed
// with sizes taken from the input (at most 64 KiB, as RPC_HEADER_EXT allows); whatever comes
// out is compressed again and must decompress to itself. The raw input must round-trip too.
// Only MapiError may escape the decoder.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/lz77.h"

using namespace openmapi;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "lz77_fuzz: %s\n", what);
  std::abort();
}

void round_trip(const Bytes& plain) {
  const Bytes packed = lz77_compress(plain);
  if (lz77_decompress(packed, plain.size()) != plain) fail("compress/decompress round trip differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t claimed = size_t(data[0]) | size_t(data[1]) << 8;  // a SizeActual
  ByteView in(data + 2, size - 2);
  try {
    round_trip(lz77_decompress(in, claimed));
  } catch (const MapiError&) {
  }
  round_trip(Bytes(in.begin(), in.end()));
  return 0;
}
