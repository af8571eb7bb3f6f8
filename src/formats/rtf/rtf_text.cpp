// The plain text of an RTF document (formats/rtf/rtf_text.h).
#include "formats/rtf/rtf_text.h"

#include <cstdint>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/unicode.h"
#include "formats/rtf/rtf_deencapsulate.h"

namespace openmapi::rtf {

namespace {

constexpr int kMaxDepth = 1024;

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Destinations whose content a reader does not show.
bool hidden_destination(std::string_view w) {
  static constexpr std::string_view kHidden[] = {
      "fonttbl", "colortbl", "stylesheet", "info", "pict", "objdata", "header", "footer", "headerl", "headerr",
      "headerf", "footerl", "footerr", "footerf", "listtable", "listoverridetable", "rsidtbl", "generator", "xmlnstbl",
      "filetbl", "revtbl", "themedata", "colorschememapping", "datastore", "latentstyles", "pgdsctbl", "fldinst",
      "private", "userprops", "mmathPr", "author", "operator", "title", "subject", "keywords", "comment", "doccomm"};
  for (std::string_view h : kHidden)
    if (w == h) return true;
  return false;
}

struct Group {
  bool hidden = false;
  int uc = 1;           // \ucN: characters to skip after \uN
  int font = -1;        // \fN in effect (-1: none yet)
  bool fonttbl = false;  // inside \fonttbl: \fN and \fcharsetN define fonts
  bool field = false;    // this group is a \field
  bool fldinst = false;  // inside a field's instruction: its text is kept, not shown
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  std::string run() {
    groups_.push_back({});  // outside the document
    while (i_ < in_.size()) {
      const char c = in_[i_];
      if (c == '{') {
        ++i_;
        if (int(groups_.size()) >= kMaxDepth) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "RTF groups nested deeper than 1024 levels");
        groups_.push_back(groups_.back());
        groups_.back().field = false;  // a field's inner groups are not fields themselves
        first_in_group_ = true;
        continue;
      }
      if (c == '}') {
        ++i_;
        first_in_group_ = false;
        if (groups_.size() <= 2) break;  // the document's group has closed: what follows is not RTF
        const bool field_end = groups_.back().field;
        groups_.pop_back();
        if (field_end) end_field();
        set_code_page();
        continue;
      }
      if (c == '\\') {
        control();
        continue;
      }
      ++i_;
      first_in_group_ = false;
      if (c == '\r' || c == '\n') continue;  // line breaks in the source are not text
      if (groups_.back().fldinst) {
        if (!fields_.empty() && fields_.back().size() < 4096) fields_.back() += c;
        continue;
      }
      if (skip_ > 0) {
        --skip_;
        continue;
      }
      byte(uint8_t(c));
    }
    flush();
    return std::move(out_);
  }

 private:
  bool hidden() const { return groups_.back().hidden; }

  void byte(uint8_t b) {
    if (hidden()) return;
    if (cp_ == 0) {  // the Symbol charset: its bullet as Outlook writes it in text, the rest as U+F0xx
      if (b == 0xB7) text("*");
      else if (b >= 0x20) code_point(0xF000 + b);
      return;
    }
    pending_.push_back(char(b));
  }
  // The code page of the font in effect (its \fcharset), else the document's \ansicpg.
  void set_code_page() {
    const int font = groups_.back().font;
    int cp = -1;
    if (font >= 0)
      if (auto it = fonts_.find(font); it != fonts_.end()) cp = it->second;
    cp = cp < 0 ? int(code_page_) : cp;
    if (cp != cp_) {
      flush();
      cp_ = cp;
    }
  }
  // A field ends: a hyperlink's target follows its text, as Outlook writes hyperlinks in text.
  void end_field() {
    if (fields_.empty()) return;
    std::string inst = std::move(fields_.back());
    fields_.pop_back();
    const size_t at = inst.find("HYPERLINK");
    if (at == std::string::npos || inst.find_first_not_of(' ') != at) return;
    std::string target;
    const size_t next = inst.find_first_not_of(' ', at + 9);
    if (next != std::string::npos && inst.compare(next, 2, "\\l") == 0) return;  // a link inside the document
    const size_t q = inst.find('"', at);
    if (q != std::string::npos) {
      const size_t e = inst.find('"', q + 1);
      target = inst.substr(q + 1, e == std::string::npos ? std::string::npos : e - q - 1);
    } else {
      size_t b = inst.find_first_not_of(' ', at + 9);
      if (b != std::string::npos) target = inst.substr(b, inst.find(' ', b) - b);
    }
    if (target.empty()) return;
    text(" <" + target + ">");
  }
  void text(std::string_view utf8) {
    if (hidden()) return;
    flush();
    out_ += utf8;
  }
  void code_point(char32_t cp) {
    if (hidden()) return;
    flush();
    append_utf8(out_, cp);
  }
  // 8-bit bytes gathered since the last flush, decoded in the document's code page.
  void flush() {
    if (pending_.empty()) return;
    out_ += cp_ == 65001 ? pending_ : decode_code_page(pending_, uint32_t(cp_));
    pending_.clear();
  }

  void control() {
    ++i_;  // the backslash
    if (i_ >= in_.size()) return;
    const char c = in_[i_];
    if (!is_alpha(c)) {  // a control symbol
      ++i_;
      const bool first = first_in_group_;
      first_in_group_ = false;
      switch (c) {
        case '\\': case '{': case '}':
          if (groups_.back().fldinst) {
            if (!fields_.empty() && fields_.back().size() < 4096) fields_.back() += c;
          } else if (skip_ > 0) {
            --skip_;
          } else {
            byte(uint8_t(c));
          }
          return;
        case '~': code_point(0x00A0); return;
        case '_': code_point(0x2011); return;
        case '-': return;  // an optional hyphen
        case '*':
          // An ignorable destination: left out, unless its word is one we read (\fldinst).
          if (first) groups_.back().hidden = true, first_in_group_ = true;
          return;
        case '\'': {
          if (i_ + 2 > in_.size()) return;
          const int h = hex_value(in_[i_]), l = hex_value(in_[i_ + 1]);
          i_ += 2;
          if (h < 0 || l < 0) return;
          if (skip_ > 0) {
            --skip_;
            return;
          }
          byte(uint8_t(h * 16 + l));
          return;
        }
        case '\r': case '\n': text("\r\n"); return;  // "\<newline>" is \par
        default: return;
      }
    }
    const size_t start = i_;
    while (i_ < in_.size() && is_alpha(in_[i_]) && i_ - start < 32) ++i_;
    const std::string_view word = in_.substr(start, i_ - start);
    bool has_param = false, negative = false;
    int64_t param = 0;
    if (i_ < in_.size() && in_[i_] == '-') negative = true, ++i_;
    while (i_ < in_.size() && is_digit(in_[i_])) {
      has_param = true;
      if (param < 1000000000) param = param * 10 + (in_[i_] - '0');
      ++i_;
    }
    if (negative) param = -param;
    if (i_ < in_.size() && in_[i_] == ' ') ++i_;  // the delimiter
    const bool first = first_in_group_;
    first_in_group_ = false;

    Group& g = groups_.back();
    if (g.fonttbl) {  // font definitions: \fN opens one, \fcharsetN gives its code page
      if (word == "f" && has_param) defining_font_ = int(param);
      else if (word == "fcharset" && has_param && defining_font_ >= 0) {
        const uint32_t cp = charset_code_page(param);  // 0: the document's, except Symbol (2)
        fonts_[defining_font_] = param == 2 ? 0 : cp ? int(cp) : -1;
      }
      return;
    }
    if (first && word == "fonttbl") {
      g.hidden = true;
      g.fonttbl = true;
      return;
    }
    if (first && word == "field") {
      g.field = true;
      fields_.emplace_back();
      return;
    }
    if (first && word == "fldinst") {
      g.hidden = true;
      g.fldinst = true;
      return;
    }
    if (first && hidden_destination(word)) {
      g.hidden = true;
      return;
    }
    if (word == "f" && has_param) {
      g.font = int(param > 100000 ? -1 : param);
      set_code_page();
      return;
    }
    if (word == "bin") {  // binary data: skipped, bounded by the input
      const size_t n = has_param && param > 0 ? size_t(param) : 0;
      i_ = n > in_.size() - i_ ? in_.size() : i_ + n;
      return;
    }
    if (word == "ansicpg" && has_param && param > 0 && param < 100000) {
      code_page_ = uint32_t(param);
      set_code_page();
      return;
    }
    if (word == "uc" && has_param && param >= 0) {
      groups_.back().uc = int(param > 16 ? 16 : param);
      return;
    }
    if (word == "u" && has_param) {
      int64_t v = param < 0 ? param + 65536 : param;
      if (v >= 0 && v <= 0xFFFF) {
        // A high surrogate waits for its low one.
        if (v >= 0xD800 && v <= 0xDBFF) high_ = char32_t(v);
        else if (v >= 0xDC00 && v <= 0xDFFF && high_) code_point(0x10000 + ((high_ - 0xD800) << 10) + (char32_t(v) - 0xDC00)), high_ = 0;
        else code_point(char32_t(v));
      }
      skip_ = groups_.back().uc;
      return;
    }
    skip_ = 0;
    if (word == "par" || word == "line" || word == "row" || word == "sect" || word == "page") text("\r\n");
    else if (word == "tab" || word == "cell") text("\t");
    else if (word == "emdash") code_point(0x2014);
    else if (word == "endash") code_point(0x2013);
    else if (word == "emspace") code_point(0x2003);
    else if (word == "enspace") code_point(0x2002);
    else if (word == "qmspace") code_point(0x2005);
    else if (word == "bullet") code_point(0x2022);
    else if (word == "lquote") code_point(0x2018);
    else if (word == "rquote") code_point(0x2019);
    else if (word == "ldblquote") code_point(0x201C);
    else if (word == "rdblquote") code_point(0x201D);
    // Every other control word changes formatting only.
  }

  std::string_view in_;
  size_t i_ = 0;
  std::vector<Group> groups_;
  bool first_in_group_ = false;
  int skip_ = 0;
  char32_t high_ = 0;
  uint32_t code_page_ = 1252;  // the document's \ansicpg
  int cp_ = 1252;              // the code page \'hh bytes are in now
  std::map<int, int> fonts_;   // font number -> code page (0: Symbol)
  int defining_font_ = -1;
  std::vector<std::string> fields_;  // the instructions of the open fields
  std::string pending_;
  std::string out_;
};

}  // namespace

std::string rtf_to_text(std::string_view rtf) {
  if (rtf.substr(0, 5) != "{\\rtf") throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "not RTF (it does not start with {\\rtf)");
  return Reader(rtf).run();
}

}  // namespace openmapi::rtf
