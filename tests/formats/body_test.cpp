// Keeping the three bodies consistent: derived bodies checked against the corpus and by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "formats/body/body.h"
#include "formats/msg/msg.h"
#include "formats/rtf/compressed_rtf.h"
#include "formats/rtf/rtf_deencapsulate.h"

#include "test_util.h"

using namespace openmapi;
using namespace openmapi::formats;
namespace fs = std::filesystem;

namespace {

using openmapi::testing::read_file;

std::string html_of(const Message& m) {
  const PropValue* h = m.props.find(tags::PidTagHtml);
  if (!h || !h->get_if<Bytes>()) return "";
  const Bytes& b = *h->get_if<Bytes>();
  return std::string(b.begin(), b.end());
}

}  // namespace

TEST(Bodies, HtmlComesOutOfRtfThatEncapsulatesIt) {
  // HtmlSampleEmail.msg has text and RTF only (EXPECTED.md: "text+rtf"); its RTF carries HTML.
  auto f = msg::read_msg(read_file(fs::path(OPENMAPI_SHARED_DIR) / "corpus/msg/HtmlSampleEmail.msg"));
  ASSERT_FALSE(f.message.props.has(tags::PidTagHtml));
  std::string text = *f.message.props.get_string(tags::PidTagBody);
  complete_bodies(f.message);
  std::string html = html_of(f.message);
  ASSERT_FALSE(html.empty());
  EXPECT_NE(html.find("<html"), std::string::npos);
  EXPECT_EQ(*f.message.props.get_string(tags::PidTagBody), text);  // an existing body is never replaced
  // The words of the text body appear in the text of the derived HTML.
  std::string from_html = html_to_text(html);
  size_t found = 0, words = 0;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      ++words;
      if (from_html.find(word) != std::string::npos) ++found;
      word.clear();
    }
  }
  ASSERT_GT(words, 5u);
  EXPECT_GE(found * 10, words * 9) << from_html;
}

TEST(Bodies, TextGetsAnRtfBodyThatDecodesToIt) {
  Message m;
  const std::string text = "Grüße aus Köln\r\n{braces} and \\backslash\\\r\n\tTabbed — 😀 done";
  m.props.set(PropValue::string(tags::PidTagBody, text));
  complete_bodies(m);
  ASSERT_TRUE(m.props.has(tags::PidTagRtfCompressed));
  EXPECT_EQ(m.props.get_bool(tags::PidTagRtfInSync), true);
  Bytes raw = rtf::decompress_rtf(m.props.find(tags::PidTagRtfCompressed)->get<Bytes>());
  rtf::DeencapsulatedRtf d = rtf::deencapsulate_rtf(raw);
  EXPECT_EQ(d.kind, rtf::RtfEncapsulation::Text);
  // The de-encapsulated text ends with the final \par's line break.
  EXPECT_EQ(d.content, text + "\r\n");
}

TEST(Bodies, TextFromHtml) {
  EXPECT_EQ(html_to_text("<html><head><title>x</title><style>p{}</style></head><body><p>Hello&nbsp;<b>world</b></p>"
                         "<p>a &amp; b &lt;c&gt; &#233;&#x20AC;</p><script>var x;</script>line<br>break<!-- no --></body></html>"),
            "Hello world\r\na & b <c> é€\r\nline\r\nbreak");
  EXPECT_EQ(html_to_text("  spaced \n\n  out  "), "spaced out");
  EXPECT_EQ(html_to_text("<div>unterminated <b"), "unterminated");
  Message m;
  std::string html = "<p>Only <i>HTML</i></p>";
  m.props.set(PropValue::binary(tags::PidTagHtml, Bytes(html.begin(), html.end())));
  complete_bodies(m);
  EXPECT_EQ(m.props.get_string(tags::PidTagBody), "Only HTML");
  EXPECT_FALSE(m.props.has(tags::PidTagRtfCompressed));  // HTML messages keep HTML as their best body
}

TEST(Bodies, DamagedRtfIsLeftAlone) {
  Message m;
  m.props.set(PropValue::binary(tags::PidTagRtfCompressed, Bytes{1, 2, 3, 4, 5}));
  std::string html = "<b>x</b>";
  m.props.set(PropValue::binary(tags::PidTagHtml, Bytes(html.begin(), html.end())));
  complete_bodies(m);
  EXPECT_EQ(m.props.find(tags::PidTagRtfCompressed)->get<Bytes>(), (Bytes{1, 2, 3, 4, 5}));
  EXPECT_EQ(m.props.get_string(tags::PidTagBody), "x");
}
