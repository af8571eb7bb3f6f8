// The text of RTF documents (formats/rtf/rtf_text.h). Truth: RTF written by hand with the text
// an RTF reader shows (RTF 1.9.1), and Outlook's own PidTagBody beside the RTF in the corpus's
// .msg files (Outlook writes both bodies of one message).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "formats/msg/msg.h"
#include "formats/rtf/compressed_rtf.h"
#include "formats/rtf/rtf_deencapsulate.h"
#include "formats/rtf/rtf_text.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::rtf;
using openmapi::testing::code_of;
namespace fs = std::filesystem;

TEST(RtfText, WhatAReaderShows) {
  EXPECT_EQ(rtf_to_text("{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0\\green0\\blue0;}\\f0 Hello\\par World}"), "Hello\r\nWorld");
  // \'hh in the document's code page; \uN with its fallback skipped; \ucN.
  EXPECT_EQ(rtf_to_text("{\\rtf1\\ansi\\ansicpg1252 caf\\'e9 \\u8364?uro}"), "caf\xC3\xA9 \xE2\x82\xACuro");
  EXPECT_EQ(rtf_to_text("{\\rtf1\\ansicpg1251 \\'cf\\'f0\\'e8}"), "\xD0\x9F\xD1\x80\xD0\xB8");  // "При"
  EXPECT_EQ(rtf_to_text("{\\rtf1{\\uc2\\u21704\\'b0\\'a1}x}"), "\xE5\x93\x88x");  // U+54C8
  EXPECT_EQ(rtf_to_text("{\\rtf1 \\u-10179?\\u-8704?}"), "\xF0\x9F\x98\x80");  // a surrogate pair (U+1F600)
  // Ignorable and hidden destinations, fields show their result, \bin data is skipped.
  EXPECT_EQ(rtf_to_text("{\\rtf1{\\*\\generator Riched20;}{\\info{\\title T}}a{\\*\\unknown x}b}"), "ab");
  // A hyperlink's target follows its text, as Outlook writes it in PidTagBody; a link inside the
  // document (\\l) has none.
  EXPECT_EQ(rtf_to_text("{\\rtf1{\\field{\\*\\fldinst HYPERLINK \"http://x\"}{\\fldrslt link}} after}"), "link <http://x> after");
  EXPECT_EQ(rtf_to_text("{\\rtf1{\\field{\\*\\fldinst HYPERLINK \\\\l \"top\"}{\\fldrslt up}}}"), "up");
  // Fonts: \\'hh in the code page of the font's \\fcharset; the Symbol font's bullet as Outlook writes it.
  EXPECT_EQ(rtf_to_text("{\\rtf1\\ansicpg1252{\\fonttbl{\\f0\\fcharset204 A;}{\\f1\\fcharset2 Symbol;}}\\f0\\'cf{\\f1\\'b7}\\'cf}"),
            "\xD0\x9F*\xD0\x9F");
  EXPECT_EQ(rtf_to_text("{\\rtf1 a{\\pict\\bin4 }}}}b}"), "a");
  EXPECT_EQ(rtf_to_text("{\\rtf1 x\\bin3 {}}y}"), "xy");
  EXPECT_EQ(rtf_to_text("{\\rtf1 a\\tab b\\line c\\emdash d\\~e\\{\\}\\\\}"), "a\tb\r\nc\xE2\x80\x94" "d\xC2\xA0" "e{}\\");
  // Line breaks of the source are not text; "\" at a line end is a paragraph.
  EXPECT_EQ(rtf_to_text("{\\rtf1 one\r\ntwo\\\ntree}"), "onetwo\r\ntree");
  // Damage: not RTF; nesting too deep; unbalanced at the end is tolerated.
  EXPECT_EQ(code_of([] { rtf_to_text("plain"); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([] { rtf_to_text("{\\rtf1" + std::string(2000, '{')); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(rtf_to_text("{\\rtf1 open"), "open");
  EXPECT_EQ(rtf_to_text("{\\rtf1 \\'"), "");
}

namespace {
// Words, to compare texts that differ only in white space and line breaks.
std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool nbsp = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0;
    if (nbsp) ++i;
    if (nbsp || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!w.empty()) out.push_back(std::move(w)), w.clear();
    } else {
      w += char(c);
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}
}  // namespace

// Outlook wrote both the RTF and the text of these messages: the RTF's text is Outlook's text.
TEST(RtfText, OutlooksOwnTextOfTheCorpusMessages) {
  size_t compared = 0;
  for (const auto& f : fs::directory_iterator(fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "msg")) {
    if (f.path().extension() != ".msg") continue;
    msg::MsgFile m;
    try {
      m = msg::read_msg(openmapi::testing::read_file(f.path()));
    } catch (const MapiError&) {
      continue;  // the corpus's damaged files
    }
    const PropValue* rtf = m.message.props.find(PropTag(0x1009, PropType::Binary));
    const auto body = m.message.props.get_string(PropTag(0x1000, PropType::String));
    if (!rtf || !body || body->empty()) continue;
    std::string text;
    try {
      const Bytes raw = decompress_rtf(rtf->get<Bytes>());
      if (detect_rtf_encapsulation(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size())) != RtfEncapsulation::None) continue;
      text = rtf_to_text(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    } catch (const MapiError&) {
      continue;
    }
    if (words(text) != words(*body)) {
      std::ofstream(std::string("/tmp/rtfdiff-") + f.path().stem().string() + ".ours") << text;
      std::ofstream(std::string("/tmp/rtfdiff-") + f.path().stem().string() + ".outlook") << *body;
    }
    EXPECT_EQ(words(text), words(*body)) << f.path().filename();
    ++compared;
  }
  EXPECT_GE(compared, 5u);
}
