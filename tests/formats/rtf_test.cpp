// Compressed RTF (MS-OXRTFCP) and RTF de-encapsulation (MS-OXRTFEX).
// Truth: the spec examples in ../shared/spec-vectors/oxrtfcp, the corpus streams lifted from .msg
// files with the outputs of the npm peer @kenjiuno/decompressrtf, and expectations written by
// hand from the RTF files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/error.h"
#include "core/unicode.h"
#include "formats/rtf/compressed_rtf.h"
#include "formats/rtf/rtf_deencapsulate.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::rtf;
using openmapi::testing::code_of;
namespace fs = std::filesystem;

namespace {

const fs::path kShared = OPENMAPI_SHARED_DIR;

using openmapi::testing::read_file;

std::string as_string(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes as_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

uint32_t le32(const Bytes& b, size_t at) {
  return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 |
         uint32_t(b[at + 3]) << 24;
}
void put_le32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

std::vector<fs::path> corpus_streams() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kShared / "corpus" / "rtf"))
    if (e.path().extension() == ".lzfu") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

Bytes corpus_expected(const fs::path& stream) {
  return read_file(kShared / "corpus" / "expected" / "rtf" /
                   (stream.filename().string() + ".decompressrtf.rtf"));
}

const fs::path kVectors = kShared / "spec-vectors" / "oxrtfcp";

}  // namespace

// --- spec vectors --------------------------------------------------------------------------

TEST(CompressedRtf, SpecExample1HelloWorld) {
  Bytes in = read_file(kVectors / "ex1_hello_world.lzfu.bin");
  CompressedRtfHeader h = parse_compressed_rtf_header(in);
  EXPECT_EQ(h.comp_size, 0x2Du);
  EXPECT_EQ(h.raw_size, 0x2Bu);
  EXPECT_EQ(h.comp_type, kCompTypeCompressed);
  EXPECT_EQ(h.crc, 0xA7C7C5F1u);
  EXPECT_EQ(compressed_rtf_crc(ByteView(in).subspan(16)), 0xA7C7C5F1u);
  Bytes out = decompress_rtf(in);
  EXPECT_EQ(out, read_file(kVectors / "ex1_hello_world.expected.rtf"));
  EXPECT_EQ(as_string(out), "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n");
}

TEST(CompressedRtf, SpecExample2ReferenceOverlapsOutput) {
  Bytes in = read_file(kVectors / "ex2_wxyz_dictionary_wrap.lzfu.bin");
  CompressedRtfHeader h = parse_compressed_rtf_header(in);
  EXPECT_EQ(h.comp_size, 0x1Au);
  EXPECT_EQ(h.raw_size, 0x1Cu);
  EXPECT_EQ(h.crc, 0x514BD4E2u);
  EXPECT_EQ(compressed_rtf_crc(ByteView(in).subspan(16)), 0x514BD4E2u);
  Bytes out = decompress_rtf(in);
  EXPECT_EQ(out, read_file(kVectors / "ex2_wxyz.expected.rtf"));
  EXPECT_EQ(as_string(out), "{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}");
}

TEST(CompressedRtf, SpecExample3Uncompressed) {
  Bytes in = read_file(kVectors / "ex3_wxyz_uncompressed.mela.bin");
  CompressedRtfHeader h = parse_compressed_rtf_header(in);
  EXPECT_EQ(h.comp_type, kCompTypeUncompressed);
  EXPECT_EQ(h.crc, 0u);
  EXPECT_EQ(h.comp_size, h.raw_size + 12);
  RtfDecompressOptions strict;
  strict.strict = true;
  EXPECT_EQ(decompress_rtf(in, strict), read_file(kVectors / "ex2_wxyz.expected.rtf"));
  // Our MELA writer produces the same bytes.
  EXPECT_EQ(compress_rtf(read_file(kVectors / "ex2_wxyz.expected.rtf"), RtfCompression::Uncompressed),
            in);
}

TEST(CompressedRtf, CrcOfKnownStrings) {
  // The spec CRC is CRC-32 without the initial and final inversion.
  EXPECT_EQ(compressed_rtf_crc({}), 0u);
  Bytes a = as_bytes("a");
  EXPECT_EQ(compressed_rtf_crc(a), 0x3AB551CEu);  // zlib: ~crc32(b"a", 0xFFFFFFFF)
  // Continuation equals one pass.
  Bytes ab = as_bytes("hello world");
  uint32_t part = compressed_rtf_crc(ByteView(ab).first(5));
  EXPECT_EQ(compressed_rtf_crc(ByteView(ab).subspan(5), part), compressed_rtf_crc(ab));
}

// --- corpus --------------------------------------------------------------------------------

TEST(CompressedRtf, CorpusDecompressesLikeThePeer) {
  auto files = corpus_streams();
  ASSERT_GE(files.size(), 40u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    Bytes in = read_file(f);
    Bytes expected = corpus_expected(f);
    Bytes out;
    ASSERT_NO_THROW(out = decompress_rtf(in));
    EXPECT_EQ(out.size(), expected.size());
    EXPECT_TRUE(out == expected);
  }
}

TEST(CompressedRtf, CorpusHeadersAndCrcs) {
  for (const auto& f : corpus_streams()) {
    SCOPED_TRACE(f.filename().string());
    Bytes in = read_file(f);
    CompressedRtfHeader h = parse_compressed_rtf_header(in);
    EXPECT_EQ(uint64_t{h.comp_size} + 4, in.size());
    if (h.comp_type == kCompTypeCompressed)
      EXPECT_EQ(compressed_rtf_crc(ByteView(in).subspan(16)), h.crc);
    else
      EXPECT_EQ(h.crc, 0u);
  }
}

// sample.lzfu is MELA with RAWSIZE = COMPSIZE (2341) although only 2329 bytes of RTF follow the
// header; the peer returns those 2329 bytes and so do we. Strict mode refuses it.
TEST(CompressedRtf, MelaWithOverstatedRawSize) {
  Bytes in = read_file(kShared / "corpus" / "rtf" / "sample.lzfu");
  CompressedRtfHeader h = parse_compressed_rtf_header(in);
  ASSERT_EQ(h.comp_type, kCompTypeUncompressed);
  EXPECT_EQ(h.raw_size, h.comp_size);
  EXPECT_EQ(decompress_rtf(in).size(), in.size() - 16);
  RtfDecompressOptions strict;
  strict.strict = true;
  EXPECT_EQ(code_of([&] { decompress_rtf(in, strict); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

TEST(CompressedRtf, CorpusRoundTripsThroughOurCompressor) {
  size_t total_in = 0, total_out = 0, identical = 0;
  for (const auto& f : corpus_streams()) {
    SCOPED_TRACE(f.filename().string());
    Bytes rtf = corpus_expected(f);
    Bytes packed = compress_rtf(rtf);
    // Header fields and CRC.
    ASSERT_GE(packed.size(), 16u);
    EXPECT_EQ(le32(packed, 0), packed.size() - 4);
    EXPECT_EQ(le32(packed, 4), rtf.size());
    EXPECT_EQ(le32(packed, 8), kCompTypeCompressed);
    EXPECT_EQ(le32(packed, 12), compressed_rtf_crc(ByteView(packed).subspan(16)));
    RtfDecompressOptions strict;
    strict.strict = true;
    Bytes back = decompress_rtf(packed, strict);
    EXPECT_TRUE(back == rtf);
    EXPECT_LT(packed.size(), rtf.size());
    Bytes original = read_file(f);
    bool same = packed == original;
    identical += same;
    std::printf("[ ratio    ] %-70s raw %7zu  ours %6zu (%.1f%%)  original %6zu%s\n",
                f.filename().c_str(), rtf.size(), packed.size(),
                100.0 * double(packed.size()) / double(rtf.size()), original.size(),
                same ? "  byte-identical" : "");
    total_in += rtf.size(), total_out += packed.size();
  }
  std::printf("[ ratio    ] total raw %zu, compressed %zu (%.1f%%); %zu streams byte-identical to "
              "the original writer's\n",
              total_in, total_out, 100.0 * double(total_out) / double(total_in), identical);
}

TEST(CompressedRtf, CompressorEdgeCases) {
  std::vector<std::string> inputs = {
      "",
      "{",
      "{\\rtf1\\ansi\\mac\\deff0\\deftab720",  // all from the initial dictionary
      std::string(5000, 'A'),                    // long overlapping runs
      std::string(4096 * 3 + 17, 'x') + "{\\rtf1 tail}",
  };
  // Pseudo-random bytes that do not compress, and text longer than the ring.
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i) noise.push_back(char((x = x * 1103515245 + 12345) >> 24));
  inputs.push_back(noise);
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "\\par line " + std::to_string(i * 7919 % 1000) + " ";
  inputs.push_back(text);
  for (const auto& s : inputs) {
    SCOPED_TRACE(s.size());
    Bytes rtf = as_bytes(s);
    Bytes packed = compress_rtf(rtf);
    EXPECT_EQ(decompress_rtf(packed), rtf);
    EXPECT_EQ(decompress_rtf(compress_rtf(rtf, RtfCompression::Uncompressed)), rtf);
  }
  // The spec example 1 text compresses to exactly the spec's bytes (same matches, same tie-break,
  // same end marker and CRC).
  Bytes hello = read_file(kVectors / "ex1_hello_world.expected.rtf");
  EXPECT_EQ(compress_rtf(hello), read_file(kVectors / "ex1_hello_world.lzfu.bin"));
}

// --- malformed input -----------------------------------------------------------------------

TEST(CompressedRtf, TruncatedInputsAreCorruptData) {
  Bytes in = read_file(kShared / "corpus" / "rtf" / "HtmlSampleEmailWithAttachment.lzfu");
  for (size_t n = 0; n < in.size(); n += (n < 64 ? 1 : 97)) {
    Bytes cut(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(code_of([&] { decompress_rtf(cut); }), ErrorCode::MAPI_E_CORRUPT_DATA) << n;
    // Even with the CRC check off and COMPSIZE fixed up, a cut stream is refused.
    if (n >= 16) {
      put_le32(cut, 0, static_cast<uint32_t>(n - 4));
      RtfDecompressOptions lax;
      lax.verify_crc = false;
      EXPECT_EQ(code_of([&] { decompress_rtf(cut, lax); }), ErrorCode::MAPI_E_CORRUPT_DATA) << n;
    }
  }
}

TEST(CompressedRtf, CrcMismatchIsRejectedUnlessAllowed) {
  Bytes in = read_file(kVectors / "ex1_hello_world.lzfu.bin");
  Bytes bad = in;
  bad[12] ^= 1;  // header CRC
  EXPECT_EQ(code_of([&] { decompress_rtf(bad); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  RtfDecompressOptions lax;
  lax.verify_crc = false;
  EXPECT_EQ(decompress_rtf(bad, lax), read_file(kVectors / "ex1_hello_world.expected.rtf"));
  // A flipped contents byte changes the CRC too.
  Bytes flipped = in;
  flipped[20] ^= 0x40;
  EXPECT_EQ(code_of([&] { decompress_rtf(flipped); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

TEST(CompressedRtf, HeaderValidation) {
  Bytes in = read_file(kVectors / "ex1_hello_world.lzfu.bin");
  auto with = [&](size_t at, uint32_t v) {
    Bytes b = in;
    put_le32(b, at, v);
    return b;
  };
  auto code = [](const Bytes& b, RtfDecompressOptions o = {}) {
    return code_of([&] { decompress_rtf(b, o); });
  };
  EXPECT_EQ(code(with(8, 0x12345678)), ErrorCode::MAPI_E_CORRUPT_DATA);  // COMPTYPE
  EXPECT_EQ(code(with(0, 0xFFFFFFFF)), ErrorCode::MAPI_E_CORRUPT_DATA);  // COMPSIZE too big
  EXPECT_EQ(code(with(0, 11)), ErrorCode::MAPI_E_CORRUPT_DATA);          // COMPSIZE < 12
  EXPECT_EQ(code(with(4, 0x2A)), ErrorCode::MAPI_E_CORRUPT_DATA);        // RAWSIZE too small
  EXPECT_EQ(code(with(4, 0x2C)), ErrorCode::MAPI_E_CORRUPT_DATA);        // RAWSIZE too large
  // Trailing padding after COMPSIZE: accepted, refused in strict mode.
  Bytes padded = in;
  padded.insert(padded.end(), {0, 0, 0, 0});
  EXPECT_EQ(decompress_rtf(padded), read_file(kVectors / "ex1_hello_world.expected.rtf"));
  RtfDecompressOptions strict;
  strict.strict = true;
  EXPECT_EQ(code(padded, strict), ErrorCode::MAPI_E_CORRUPT_DATA);
  // Output ceiling.
  RtfDecompressOptions small;
  small.max_output = 10;
  EXPECT_EQ(code(in, small), ErrorCode::MAPI_E_TOO_BIG);
}

TEST(CompressedRtf, HugeRawSizeDoesNotAllocate) {
  // RAWSIZE 0xFFFFFFFF over a few bytes of contents, with a correct CRC so the size check is
  // what refuses it (ASan would report a multi-gigabyte allocation as an error).
  Bytes in = read_file(kVectors / "ex1_hello_world.lzfu.bin");
  put_le32(in, 4, 0xFFFFFFFF);
  EXPECT_EQ(code_of([&] { decompress_rtf(in); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  RtfDecompressOptions lax;
  lax.verify_crc = false;
  lax.max_output = ~size_t{0};
  EXPECT_EQ(code_of([&] { decompress_rtf(in, lax); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // MELA with a huge RAWSIZE yields only the bytes present.
  Bytes mela = compress_rtf(as_bytes("{\\rtf1 x}"), RtfCompression::Uncompressed);
  put_le32(mela, 4, 0xFFFFFFFF);
  EXPECT_EQ(as_string(decompress_rtf(mela)), "{\\rtf1 x}");
}

TEST(CompressedRtf, EndMarkerAndShortStreams) {
  // Contents that end without the end-of-stream reference: accepted only when RAWSIZE is met.
  // Control 0x00 + 3 literals "abc", no end marker.
  Bytes contents = {0x00, 'a', 'b', 'c'};
  auto make = [&](uint32_t raw) {
    BinaryWriter w;
    w.u32(static_cast<uint32_t>(contents.size() + 12));
    w.u32(raw);
    w.u32(kCompTypeCompressed);
    w.u32(compressed_rtf_crc(contents));
    w.bytes(contents);
    return w.take();
  };
  EXPECT_EQ(as_string(decompress_rtf(make(3))), "abc");
  EXPECT_EQ(code_of([&] { decompress_rtf(make(4)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { decompress_rtf(make(2)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // A reference cut after its first byte.
  contents = {0x01, 0xCF};
  EXPECT_EQ(code_of([&] { decompress_rtf(make(0)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // The end marker for an empty document: offset 207 (the first write position), length 0.
  contents = {0x01, 0x0C, 0xF0};
  EXPECT_EQ(decompress_rtf(make(0)), Bytes{});
  EXPECT_EQ(compress_rtf({}), make(0));
}

// --- de-encapsulation (MS-OXRTFEX) ---------------------------------------------------------

namespace {

DeencapsulatedRtf deencap_corpus(const std::string& name) {
  return deencapsulate_rtf(
      read_file(kShared / "corpus" / "expected" / "rtf" / (name + ".lzfu.decompressrtf.rtf")));
}

bool contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

// UTF-16 code units of a UTF-8 string (what JavaScript's String.length counts).
size_t utf16_units(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
    if (c >= 0xF0) ++n;
  }
  return n;
}

// "bodyTextLength": N from the msgreader JSON of the .msg the stream came from.
size_t msgreader_body_length(const std::string& name) {
  Bytes json = read_file(kShared / "corpus" / "expected" / "msg" / (name + ".msg.msgreader.json"));
  std::string j = as_string(json);
  auto at = j.find("\"bodyTextLength\":");
  if (at == std::string::npos) throw std::runtime_error("no bodyTextLength");
  return std::stoul(j.substr(at + 17));
}

}  // namespace

TEST(RtfDeencapsulate, DetectsEveryCorpusDocument) {
  // Kinds read off the headers by hand (see the \fromhtml1 / \fromtext control words).
  const std::vector<std::string> text = {"51873", "TxtSampleEmailWithAttachment",
                                         "logsat.com_signatures_valid", "qwerty_1-orig",
                                         "qwerty_2-with_custom_properties", "qwerty_3"};
  const std::vector<std::string> none = {"RtfSampleEmail", "RtfSampleEmailWithAttachment",
                                         "chinese-traditional", "note", "outlook_30_msg", "quick"};
  for (const auto& f : corpus_streams()) {
    std::string name = f.stem().string();
    SCOPED_TRACE(name);
    Bytes rtf = corpus_expected(f);
    RtfEncapsulation want = RtfEncapsulation::Html;
    if (std::find(text.begin(), text.end(), name) != text.end()) want = RtfEncapsulation::Text;
    if (std::find(none.begin(), none.end(), name) != none.end()) want = RtfEncapsulation::None;
    std::string_view view(reinterpret_cast<const char*>(rtf.data()), rtf.size());
    EXPECT_EQ(detect_rtf_encapsulation(view), want);
    DeencapsulatedRtf d = deencapsulate_rtf(rtf);
    EXPECT_EQ(d.kind, want);
    if (want == RtfEncapsulation::None) EXPECT_TRUE(d.content.empty());
    if (want != RtfEncapsulation::None) EXPECT_FALSE(d.content.empty());
    EXPECT_TRUE(is_valid_utf8(d.content));
  }
  // The three plain RTF files from MSGReader.
  EXPECT_EQ(deencapsulate_rtf(read_file(kShared / "corpus/rtf/LZFu.rtf")).kind,
            RtfEncapsulation::Text);
  EXPECT_EQ(deencapsulate_rtf(read_file(kShared / "corpus/rtf/Issue332.rtf")).kind,
            RtfEncapsulation::Html);
}

TEST(RtfDeencapsulate, FromTextMatchesTheMessageBody) {
  // The .msg files these streams came from also carry PidTagBody; msgreader reports its length
  // in UTF-16 units, and the de-encapsulated text must be exactly that long.
  for (std::string name : {"51873", "TxtSampleEmailWithAttachment", "logsat.com_signatures_valid",
                           "qwerty_1-orig"}) {
    SCOPED_TRACE(name);
    DeencapsulatedRtf d = deencap_corpus(name);
    ASSERT_EQ(d.kind, RtfEncapsulation::Text);
    EXPECT_EQ(utf16_units(d.content), msgreader_body_length(name));
  }
  // And the whole text of one, written out from the RTF by hand (\'a0 is a no-break space).
  DeencapsulatedRtf d = deencap_corpus("TxtSampleEmailWithAttachment");
  EXPECT_EQ(d.code_page, 1252u);
  EXPECT_EQ(d.content,
            "This is a sample plain text email with an attachment\r\n\r\n"
            "________________________________\r\nChris Wilson\r\nLead Developer, eServices\r\n"
            "Corporate ICT\r\nLeeds City Council\xC2\xA0\r\nTel: 0113 37 85294\r\n"
            "Email: chris.wilson@leeds.gov.uk\r\nwww.leeds.gov.uk\r\n\r\n");
  EXPECT_EQ(deencapsulate_rtf(read_file(kShared / "corpus/rtf/LZFu.rtf")).content, "body\r\n");
}

TEST(RtfDeencapsulate, FromHtmlCorpusExpectations) {
  DeencapsulatedRtf d = deencap_corpus("HtmlSampleEmailWithAttachment");
  ASSERT_EQ(d.kind, RtfEncapsulation::Html);
  const std::string& h = d.content;
  EXPECT_EQ(h.rfind("<html xmlns:v=\"urn:schemas-microsoft-com:vml\"", 0), 0u);
  // \par inside htmltag groups -> CRLF, \tab -> TAB, \{ \} -> braces.
  EXPECT_TRUE(contains(h, "<style><!--\r\n/* Font Definitions */\r\n@font-face\r\n\t{font-family:"
                          "\"Cambria Math\";"));
  EXPECT_TRUE(contains(h, "<body lang=EN-GB link=\"#0563C1\" vlink=\"#954F72\">"
                          "<div class=WordSection1><p class=MsoNormal>This is a sample HTML email "
                          "with an attachment<o:p></o:p></p>"));
  // {\*\htmltag84 &nbsp;}\htmlrtf \'a0\htmlrtf0: the entity is kept, the RTF-only byte is not.
  EXPECT_TRUE(contains(h, "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"));
  EXPECT_FALSE(contains(h, "\xC2\xA0"));
  EXPECT_TRUE(contains(h, "Chris Wilson<br>Lead Developer, eServices<br>"));
  EXPECT_TRUE(h.ends_with("</html>")) << h.substr(h.size() - 40);
  EXPECT_FALSE(contains(h, "\\htmlrtf"));
  EXPECT_FALSE(contains(h, "\\par"));
  EXPECT_FALSE(contains(h, "Courier New;"));  // the font table is not content

  DeencapsulatedRtf big = deencap_corpus("HtmlSampleEmail");
  EXPECT_TRUE(contains(big.content, "<p class=MsoNormal><span style='font-size:10.0pt;font-family:"
                                    "\"Courier New\";color:black;mso-fareast-language:EN-GB'>"
                                    "BOOK ONE: 1805<o:p></o:p></span></p>"));
  EXPECT_TRUE(big.content.ends_with("</html>"));

  // \'e0 in a 1252 document: "Voilà".
  EXPECT_TRUE(contains(deencap_corpus("EmailWithSpecialCharsInSubject_2").content,
                       "<p class=MsoNormal>Voil\xC3\xA0<span"));
  EXPECT_TRUE(contains(deencap_corpus("bug66335").content, "Deine Bestellbest\xC3\xA4tigung vom"));
  // A 1251 document (sample.lzfu, MELA) and a 65001 one.
  DeencapsulatedRtf s = deencap_corpus("sample");
  EXPECT_EQ(s.code_page, 1251u);
  EXPECT_TRUE(contains(s.content, "<title>Testing Manuel Lemos' MIME E-mail composing and sending "
                                  "PHP class: HTML message</title>"));
  DeencapsulatedRtf ev = deencap_corpus("message_1979");
  EXPECT_EQ(ev.code_page, 65001u);
  EXPECT_TRUE(contains(ev.content, "<DIV class=EVShortcutBanner>This message has been archived. "
                                   "</DIV><DIV class=EVShortcutMsgBody>Hi George,\r\n\r\n"));
  EXPECT_TRUE(contains(ev.content, "&nbsp;&nbsp;&nbsp;&nbsp;Alec\r\n</DIV></BODY></HTML>"));
}

TEST(RtfDeencapsulate, HandWrittenHtml) {
  std::string rtf =
      "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}"
      "{\\f1\\fnil\\fcharset204 Cyr;}}{\\colortbl\\red0\\green0\\blue0;}\n"
      "{\\*\\htmltag19 <html>}{\\*\\htmltag50 <body>}\\htmlrtf {\\htmlrtf0 caf\\'e9 "
      "{\\*\\htmltag84 &amp;}\\htmlrtf &\\htmlrtf0  \\{x\\} \\\\ \\tab!\\par}\\htmlrtf0 "
      "{\\f1 \\'c0\\'e1}{\\*\\mhtmltag84 <a href=\"cid:x\">}{\\*\\htmltag84 <a href=\"y\">}"
      "\\uc1\\u8364?\\u-10179?\\u-8704? \\uc0\\u252 ok"
      "{\\*\\htmltag0 \\'e9\\par}{\\*\\unknown drop me}{\\*\\htmltag27 </html>}}";
  DeencapsulatedRtf d = deencapsulate_rtf(std::string_view(rtf));
  ASSERT_EQ(d.kind, RtfEncapsulation::Html);
  EXPECT_EQ(d.content,
            "<html><body>caf\xC3\xA9 &amp; {x} \\ \t!\r\n"
            "\xD0\x90\xD0\xB1"  // \'c0\'e1 in font 1 (fcharset204 = 1251): "Аб"
            "<a href=\"y\">"
            "\xE2\x82\xAC"        // \u8364 euro, fallback "?" skipped
            "\xF0\x9F\x98\x80"    // \u-10179 \u-8704: surrogate pair U+1F600
            " \xC3\xBCok"         // \uc0: no fallback to skip; the space delimits \u252
            "\xC3\xA9\r\n</html>");
}

TEST(RtfDeencapsulate, HandWrittenText) {
  std::string rtf =
      "{\\rtf1\\ansi\\ansicpg1250\\fromtext \\deff0{\\fonttbl{\\f0 Arial;}}"
      "{\\*\\generator x;}{\\info{\\title T}}\\pard\\plain \\f0 \\'8a\\'e8\\par "
      "a\\tab b\\line c\\~d\\lquote q\\rquote{\\pict\\bin4 }}}}x}\\emdash}";
  DeencapsulatedRtf d = deencapsulate_rtf(std::string_view(rtf));
  ASSERT_EQ(d.kind, RtfEncapsulation::Text);
  EXPECT_EQ(d.code_page, 1250u);
  // 1250: 0x8A = Š, 0xE8 = č.
  EXPECT_EQ(d.content, "\xC5\xA0\xC4\x8D\r\na\tb\r\nc\xC2\xA0" "d\xE2\x80\x98q\xE2\x80\x99\xE2\x80\x94");
}

TEST(RtfDeencapsulate, CodePages) {
  EXPECT_EQ(decode_code_page("\xC0\xE1", 1251), "\xD0\x90\xD0\xB1");
  EXPECT_EQ(decode_code_page("\x80\xE9", 1252), "\xE2\x82\xAC\xC3\xA9");
  EXPECT_EQ(decode_code_page("\x8A\xE8", 1250), "\xC5\xA0\xC4\x8D");
  EXPECT_EQ(decode_code_page("\xE2\x82\xAC", 65001), "\xE2\x82\xAC");
  EXPECT_EQ(decode_code_page("\x82\xA0", 932), "\xE3\x81\x82");  // Shift-JIS hiragana A
  EXPECT_EQ(decode_code_page("a\xFF" "b", 65001), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(decode_code_page("plain", 99999), "plain");
  EXPECT_EQ(decode_code_page("\xE9", 99999), "\xC3\xA9");  // unknown: 1252
}

TEST(RtfDeencapsulate, PlainRtfAndMalformedInput) {
  EXPECT_EQ(deencapsulate_rtf(std::string_view("{\\rtf1\\ansi hello}")).kind, RtfEncapsulation::None);
  EXPECT_EQ(code_of([] { deencapsulate_rtf(std::string_view("")); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([] { deencapsulate_rtf(std::string_view("<html>")); }),
            ErrorCode::MAPI_E_CORRUPT_DATA);
  // Unbalanced or cut documents end quietly.
  for (std::string cut : {"{\\rtf1\\fromtext abc", "{\\rtf1\\fromtext abc\\", "{\\rtf1\\fromtext a\\'e",
                          "{\\rtf1\\fromtext a\\u", "{\\rtf1\\fromtext a}}}}", "{\\rtf1\\fromtext \\bin999 x"}) {
    SCOPED_TRACE(cut);
    EXPECT_EQ(code_of([&] { deencapsulate_rtf(std::string_view(cut)); }), ErrorCode::Success);
  }
  // Deep nesting is refused, not a stack overflow.
  std::string deep = "{\\rtf1\\fromhtml1 " + std::string(5000, '{');
  EXPECT_EQ(code_of([&] { deencapsulate_rtf(std::string_view(deep)); }),
            ErrorCode::MAPI_E_CORRUPT_DATA);
  // Every prefix of a real document de-encapsulates or fails with MAPI_E_CORRUPT_DATA.
  Bytes rtf = corpus_expected(kShared / "corpus" / "rtf" / "HtmlSampleEmailWithAttachment.lzfu");
  for (size_t n = 0; n < rtf.size(); n += 37) {
    ErrorCode c = code_of([&] { deencapsulate_rtf(ByteView(rtf).first(n)); });
    EXPECT_TRUE(c == ErrorCode::Success || c == ErrorCode::MAPI_E_CORRUPT_DATA) << n;
  }
}
