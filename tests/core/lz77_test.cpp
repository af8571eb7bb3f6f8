// LZ77 + DIRECT2 (MS-OXCRPC 3.1.4.1.1.2 = MS-XCA Plain LZ77) against the MS-XCA 3.1 examples,
// round trips of varied data, and hostile streams.
#include "core/lz77.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_util.h"

using namespace openmapi;
using openmapi::testing::code_of;

namespace {
Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }
}  // namespace

TEST(Lz77, TheMsXcaExamplesCompressAndDecompressByteForByte) {
  // MS-XCA 3.1: 26 literals — flag word 0x0000003F (26 literal bits, then "end" bits), the letters.
  const Bytes alphabet = bytes_of("abcdefghijklmnopqrstuvwxyz");
  Bytes expected = {0x3F, 0x00, 0x00, 0x00};
  expected.insert(expected.end(), alphabet.begin(), alphabet.end());
  EXPECT_EQ(lz77_compress(alphabet), expected);
  EXPECT_EQ(lz77_decompress(expected, alphabet.size()), alphabet);

  // MS-XCA 3.1: "abc" 100 times — three literals and one match 3 back of 297 bytes, its length in
  // the nibble (15), the byte (255) and 16 bits (294 = 297 - 3).
  std::string abc;
  for (int i = 0; i < 100; ++i) abc += "abc";
  const Bytes repeated = bytes_of(abc);
  const Bytes spec = {0xFF, 0xFF, 0xFF, 0x1F, 0x61, 0x62, 0x63, 0x17, 0x00, 0x0F, 0xFF, 0x26, 0x01};
  EXPECT_EQ(lz77_compress(repeated), spec);
  EXPECT_EQ(lz77_decompress(spec, repeated.size()), repeated);
}

TEST(Lz77, VariedDataRoundTrips) {
  std::mt19937 rng(7);
  std::vector<Bytes> inputs = {{}, {0x42}, Bytes(40000, 0), bytes_of("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")};
  Bytes noise(30000);
  for (auto& b : noise) b = uint8_t(rng());
  inputs.push_back(noise);
  Bytes text;  // ROP-buffer-like: repeated structures with small changes, far and near matches
  for (int i = 0; i < 3000; ++i) {
    const std::string row = "IPM.Note\0Subject " + std::to_string(i % 37) + " from user" + std::to_string(i % 11) + "@example.com";
    text.insert(text.end(), row.begin(), row.end());
    text.push_back(uint8_t(rng() % 4));
  }
  inputs.push_back(text);
  // Many long matches in a row: both nibbles of the shared length byte are used.
  Bytes runs;
  for (int i = 0; i < 200; ++i) runs.insert(runs.end(), size_t(20 + i % 50), uint8_t('A' + i % 26));
  inputs.push_back(runs);
  // 32 literals exactly (a full flag group at the end) and 31 and 33.
  for (size_t n : {31u, 32u, 33u, 64u}) {
    Bytes distinct;
    for (size_t i = 0; i < n; ++i) distinct.push_back(uint8_t(i * 7));
    inputs.push_back(distinct);
  }
  for (const Bytes& in : inputs) {
    const Bytes c = lz77_compress(in);
    EXPECT_EQ(lz77_decompress(c, in.size()), in) << in.size() << " bytes";
  }
  EXPECT_LT(lz77_compress(text).size(), text.size() / 3);  // it does compress
}

TEST(Lz77, HostileStreamsAreCorruptNotCrashes) {
  const Bytes ok = lz77_compress(bytes_of("hello hello hello hello"));
  // The announced size must be met exactly, and never exceeded.
  EXPECT_EQ(code_of([&] { lz77_decompress(ok, 10); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { lz77_decompress(ok, 100); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // A match before the start of the output.
  EXPECT_EQ(code_of([&] { lz77_decompress(Bytes{0x00, 0x00, 0x00, 0x80, 0x10, 0x00}, 3); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // Cut short: a flag word, a match, a length nibble, a 16-bit length.
  EXPECT_EQ(code_of([&] { lz77_decompress(Bytes{0x00, 0x00}, 1); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { lz77_decompress(Bytes{0x00, 0x00, 0x00, 0x40, 0x61, 0x00}, 4); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { lz77_decompress(Bytes{0x00, 0x00, 0x00, 0x40, 0x61, 0x07, 0x00}, 20); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { lz77_decompress(Bytes{0x00, 0x00, 0x00, 0x40, 0x61, 0x07, 0x00, 0x0F, 0xFF, 0x01}, 500); }),
            ErrorCode::MAPI_E_CORRUPT_DATA);
  // A claimed run of 4 GiB into a 64-byte buffer stops at the buffer.
  EXPECT_EQ(code_of([&] { lz77_decompress(Bytes{0x00, 0x00, 0x00, 0x40, 0x61, 0x07, 0x00, 0x0F, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}, 64); }),
            ErrorCode::MAPI_E_CORRUPT_DATA);
}
