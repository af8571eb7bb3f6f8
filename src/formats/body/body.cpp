#include "formats/body/body.h"

#include <cstdint>

#include "core/unicode.h"
#include "formats/msg/msg.h"
#include "formats/rtf/compressed_rtf.h"
#include "formats/rtf/rtf_deencapsulate.h"

namespace openmapi::formats {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The named entities mail HTML uses; numeric ones are decoded in general.
struct Entity {
  const char* name;
  uint32_t cp;
};
constexpr Entity kEntities[] = {{"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
                                {"apos", '\''},    {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},
                                {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
                                {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
                                {"bull", 0x2022},  {"euro", 0x20AC},  {"auml", 0xE4},    {"ouml", 0xF6},
                                {"uuml", 0xFC},    {"Auml", 0xC4},    {"Ouml", 0xD6},    {"Uuml", 0xDC},
                                {"szlig", 0xDF},   {"eacute", 0xE9},  {"egrave", 0xE8},  {"agrave", 0xE0},
                                {"ccedil", 0xE7},  {"middot", 0xB7},  {"laquo", 0xAB},   {"raquo", 0xBB}};

bool is_block(const std::string& tag) {
  static const char* kBlocks[] = {"p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                                  "ul", "ol", "blockquote", "pre", "hr", "title", "dd", "dt"};
  for (const char* b : kBlocks)
    if (tag == b) return true;
  return false;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  std::string out;
  bool space_pending = false;
  auto newline = [&] {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\r\n";
    space_pending = false;
  };
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '<') {
      if (html.compare(i, 4, "<!--") == 0) {
        size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      size_t end = html.find('>', i + 1);
      if (end == std::string_view::npos) break;
      std::string_view inside = html.substr(i + 1, end - i - 1);
      bool closing = !inside.empty() && inside[0] == '/';
      if (closing) inside.remove_prefix(1);
      size_t n = 0;
      while (n < inside.size() && (std::isalnum(static_cast<unsigned char>(inside[n])))) ++n;
      std::string tag = lower(inside.substr(0, n));
      i = end + 1;
      if (!closing && (tag == "script" || tag == "style" || tag == "head")) {
        std::string close = "</" + tag;
        size_t stop = lower(html.substr(i)).find(close);
        i = stop == std::string::npos ? html.size() : i + stop;
        continue;
      }
      if (tag == "br") newline();
      else if (is_block(tag) && !out.empty() && !(out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0)) newline();
      continue;
    }
    if (c == '&') {
      size_t semi = html.find(';', i + 1);
      if (semi != std::string_view::npos && semi - i <= 10) {
        std::string_view name = html.substr(i + 1, semi - i - 1);
        uint32_t cp = 0;
        if (!name.empty() && name[0] == '#') {
          bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
          std::string digits(name.substr(hex ? 2 : 1));
          char* endp = nullptr;
          unsigned long v = digits.empty() ? 0 : std::strtoul(digits.c_str(), &endp, hex ? 16 : 10);
          if (endp && *endp == 0) cp = uint32_t(std::min<unsigned long>(v, 0x10FFFF));
        } else {
          for (const auto& e : kEntities)
            if (name == e.name) cp = e.cp;
        }
        if (cp) {
          if (space_pending && !out.empty()) out += ' ';
          space_pending = false;
          append_utf8(out, cp == 0xA0 ? ' ' : cp);
          i = semi + 1;
          continue;
        }
      }
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space_pending = !out.empty() && out.back() != '\n';
      ++i;
      continue;
    }
    if (space_pending) out += ' ';
    space_pending = false;
    out += c;
    ++i;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string text_to_rtf(std::string_view text) {
  std::string rtf = "{\\rtf1\\ansi\\ansicpg1252\\fromtext \\fbidis \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\r\n"
                    "{\\*\\generator OpenMAPI;}\\uc1\\pard\\plain\\f0\\fs20 ";
  std::u16string units = utf8_to_utf16(is_valid_utf8(text) ? text : std::string_view());
  for (size_t i = 0; i < units.size(); ++i) {
    char16_t u = units[i];
    if (u == '\r') continue;
    if (u == '\n') rtf += "\\par\r\n";
    else if (u == '\t') rtf += "\\tab ";
    else if (u == '\\' || u == '{' || u == '}') rtf += '\\', rtf += char(u);
    else if (u >= 0x20 && u < 0x80) rtf += char(u);
    else if (u < 0x20) continue;
    else rtf += "\\u" + std::to_string(int16_t(u)) + "?";  // \uN takes a signed 16-bit value
  }
  rtf += "\\par\r\n}";
  return rtf;
}

std::optional<std::string> html_text(const PropertyBag& props) {
  const PropValue* h = props.find(tags::PidTagHtml);
  if (!h) return std::nullopt;
  if (const auto* s = h->get_if<std::string>()) return *s;
  const auto* b = h->get_if<Bytes>();
  if (!b) return std::nullopt;
  const uint32_t cp = uint32_t(props.get_i32(tags::PidTagInternetCodepage).value_or(0));
  std::string_view raw(reinterpret_cast<const char*>(b->data()), b->size());
  if ((cp == 0 || cp == 65001) && is_valid_utf8(raw)) return std::string(raw);
  return msg::decode_codepage(*b, cp == 0 || cp == 65001 ? 1252 : cp);
}

void complete_bodies(Message& m, bool with_rtf) {
  auto& p = m.props;
  const PropValue* rtf = p.find(tags::PidTagRtfCompressed);
  if (rtf && rtf->get_if<Bytes>() && (!p.has(tags::PidTagHtml) || !p.has(tags::PidTagBody))) {
    try {
      Bytes raw = rtf::decompress_rtf(*rtf->get_if<Bytes>());
      rtf::DeencapsulatedRtf d = rtf::deencapsulate_rtf(raw);
      if (d.kind == rtf::RtfEncapsulation::Html && !p.has(tags::PidTagHtml)) {
        // De-encapsulated HTML is UTF-8: say so, as PidTagHtml is read in the internet code page.
        p.set(PropValue::binary(tags::PidTagHtml, Bytes(d.content.begin(), d.content.end())));
        p.set(PropValue::i32(tags::PidTagInternetCodepage, 65001));
      }
      else if (d.kind == rtf::RtfEncapsulation::Text && !p.has(tags::PidTagBody))
        p.set(PropValue::string(tags::PidTagBody, d.content));
    } catch (const MapiError&) {
      // A damaged RTF body is kept as it is; the other bodies are derived without it.
    }
  }
  if (!p.has(tags::PidTagBody))
    if (auto html = html_text(p)) p.set(PropValue::string(tags::PidTagBody, html_to_text(*html)));
  if (with_rtf && !p.has(tags::PidTagRtfCompressed) && p.has(tags::PidTagBody) && !p.has(tags::PidTagHtml)) {
    std::string r = text_to_rtf(*p.get_string(tags::PidTagBody));
    p.set(PropValue::binary(tags::PidTagRtfCompressed, rtf::compress_rtf(ByteView(reinterpret_cast<const uint8_t*>(r.data()), r.size()))));
    p.set(PropValue::boolean(tags::PidTagRtfInSync, true));
  }
  for (auto& a : m.attachments)
    if (a.embedded) complete_bodies(*a.embedded, with_rtf);
}

}  // namespace openmapi::formats
