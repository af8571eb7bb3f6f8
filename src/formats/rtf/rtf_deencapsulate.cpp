#include "core/unicode.h"
#include "formats/rtf/rtf_deencapsulate.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace openmapi::rtf {

namespace {

constexpr size_t kMaxDepth = 1024;
constexpr size_t kMaxControlWord = 32;  // letters in a control word (MSFT-RTF)
constexpr size_t kMaxParamDigits = 10;
constexpr uint32_t kDefaultCodePage = 1252;

[[noreturn]] void corrupt(const std::string& what) {
  throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "RTF: " + what);
}

// glibc iconv names for Windows code page numbers.
std::string iconv_name(uint32_t cp) {
  switch (cp) {
    case 65001: return "UTF-8";
    case 20127: return "ASCII";
    case 10000: return "MACINTOSH";
    case 1361: return "JOHAB";
    case 20866: return "KOI8-R";
    case 21866: return "KOI8-U";
    case 50220: case 50221: case 50222: return "ISO-2022-JP";
    case 51932: return "EUC-JP";
    case 51949: return "EUC-KR";
    case 54936: return "GB18030";
    default: break;
  }
  if (cp >= 28591 && cp <= 28606) return "ISO-8859-" + std::to_string(cp - 28590);
  return "CP" + std::to_string(cp);
}

}  // namespace

uint32_t charset_code_page(int64_t charset) {
  switch (charset) {
    case 0: return 1252;
    case 77: return 10000;
    case 128: return 932;
    case 129: return 949;
    case 130: return 1361;
    case 134: return 936;
    case 136: return 950;
    case 161: return 1253;
    case 162: return 1254;
    case 163: return 1258;
    case 177: return 1255;
    case 178: return 1256;
    case 186: return 1257;
    case 204: return 1251;
    case 222: return 874;
    case 238: return 1250;
    case 254: return 437;
    case 255: return 850;
    default: return 0;  // 1 DEFAULT, 2 SYMBOL and anything unknown
  }
}

namespace {

// iconv descriptors opened on demand, one per code page, closed at the end of a call.
class CodePageDecoder {
 public:
  CodePageDecoder() = default;
  CodePageDecoder(const CodePageDecoder&) = delete;
  CodePageDecoder& operator=(const CodePageDecoder&) = delete;
  ~CodePageDecoder() {
    for (auto& [cp, cd] : open_)
      if (cd != invalid()) iconv_close(cd);
  }

  void decode(std::string_view in, uint32_t cp, std::string& out) {
    bool ascii = true;
    for (char c : in) ascii &= static_cast<unsigned char>(c) < 0x80;
    if (ascii) return out.append(in), void();
    iconv_t cd = get(cp);
    if (cd == invalid() && cp != kDefaultCodePage) cd = get(kDefaultCodePage);
    if (cd == invalid()) {  // no iconv at all: Latin-1
      for (char c : in) append_utf8(out, static_cast<unsigned char>(c));
      return;
    }
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    char* src = const_cast<char*>(in.data());
    size_t src_left = in.size();
    char buf[1024];
    while (src_left > 0) {
      char* dst = buf;
      size_t dst_left = sizeof buf;
      size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
      out.append(buf, static_cast<size_t>(dst - buf));
      if (r != static_cast<size_t>(-1)) break;
      if (errno == E2BIG) continue;
      // EILSEQ (invalid byte) or EINVAL (incomplete sequence at the end): one U+FFFD per byte
      // skipped, then go on from the next byte.
      append_utf8(out, 0xFFFD);
      ++src, --src_left;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }

 private:
  static iconv_t invalid() { return reinterpret_cast<iconv_t>(-1); }
  iconv_t get(uint32_t cp) {
    auto it = open_.find(cp);
    if (it != open_.end()) return it->second;
    iconv_t cd = iconv_open("UTF-8", iconv_name(cp).c_str());
    open_.emplace(cp, cd);
    return cd;
  }
  std::map<uint32_t, iconv_t> open_;
};

// One RTF token.
struct Token {
  enum Kind { End, GroupStart, GroupEnd, ControlWord, ControlSymbol, HexByte, Text } kind = End;
  std::string_view word;  // ControlWord: the letters
  bool has_param = false;
  int64_t param = 0;
  char symbol = 0;   // ControlSymbol
  uint8_t byte = 0;  // HexByte / Text
};

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view in) : in_(in) {}
  size_t position() const { return pos_; }
  void skip_bytes(uint64_t n) { pos_ += static_cast<size_t>(std::min<uint64_t>(n, in_.size() - pos_)); }

  Token next() {
    Token t;
    for (;;) {
      if (pos_ >= in_.size()) return t;
      char c = in_[pos_];
      if (c == '\r' || c == '\n' || c == '\0') {  // not part of the text (MSFT-RTF)
        ++pos_;
        continue;
      }
      break;
    }
    char c = in_[pos_++];
    if (c == '{') return t.kind = Token::GroupStart, t;
    if (c == '}') return t.kind = Token::GroupEnd, t;
    if (c != '\\') return t.kind = Token::Text, t.byte = static_cast<uint8_t>(c), t;
    if (pos_ >= in_.size()) return t.kind = Token::ControlSymbol, t.symbol = '\\', t;
    c = in_[pos_];
    if (is_letter(c)) {
      size_t start = pos_;
      while (pos_ < in_.size() && is_letter(in_[pos_]) && pos_ - start < kMaxControlWord) ++pos_;
      t.kind = Token::ControlWord;
      t.word = in_.substr(start, pos_ - start);
      bool negative = false;
      if (pos_ < in_.size() && in_[pos_] == '-' && pos_ + 1 < in_.size() && is_digit(in_[pos_ + 1]))
        negative = true, ++pos_;
      size_t digits = 0;
      while (pos_ < in_.size() && is_digit(in_[pos_])) {
        if (digits++ < kMaxParamDigits) t.param = t.param * 10 + (in_[pos_] - '0');
        ++pos_;
      }
      if (digits > 0) t.has_param = true;
      if (negative) t.param = -t.param;
      if (pos_ < in_.size() && in_[pos_] == ' ') ++pos_;  // the delimiting space
      return t;
    }
    ++pos_;
    if (c == '\'') {
      int hi = pos_ < in_.size() ? hex(in_[pos_]) : -1;
      int lo = pos_ + 1 < in_.size() ? hex(in_[pos_ + 1]) : -1;
      if (hi < 0 || lo < 0) return t.kind = Token::ControlSymbol, t.symbol = '\'', t;  // ignored
      pos_ += 2;
      return t.kind = Token::HexByte, t.byte = static_cast<uint8_t>(hi * 16 + lo), t;
    }
    if (c == '\r' || c == '\n') return t.kind = Token::ControlWord, t.word = "par", t;
    return t.kind = Token::ControlSymbol, t.symbol = c, t;
  }

 private:
  static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

void require_rtf(std::string_view rtf) {
  if (rtf.substr(0, 5) != "{\\rtf") corrupt("the document does not start with {\\rtf");
}

struct HeaderInfo {
  RtfEncapsulation kind = RtfEncapsulation::None;
  uint32_t code_page = kDefaultCodePage;
};

// MS-OXRTFEX 2.2.3.1: FROMHTML / FROMTEXT among the first tokens of the header.
HeaderInfo scan_header(std::string_view rtf) {
  require_rtf(rtf);
  HeaderInfo info;
  Tokenizer tz(rtf);
  int tokens = 0;
  for (;;) {
    Token t = tz.next();
    if (t.kind == Token::End || t.kind == Token::Text || t.kind == Token::GroupEnd) break;
    if (++tokens > 10) break;
    if (t.kind != Token::ControlWord) continue;
    if (t.word == "fonttbl" || t.word == "colortbl" || t.word == "stylesheet") break;
    if (t.word == "ansicpg" && t.has_param && t.param > 0 && t.param <= 65535)
      info.code_page = static_cast<uint32_t>(t.param);
    if (info.kind == RtfEncapsulation::None) {
      if (t.word == "fromhtml" && (!t.has_param || t.param == 1)) info.kind = RtfEncapsulation::Html;
      if (t.word == "fromtext") info.kind = RtfEncapsulation::Text;
    }
  }
  // \ansicpg may come after the 10-token window in odd writers; look a little further for it.
  if (info.code_page == kDefaultCodePage) {
    Tokenizer more(rtf);
    for (int i = 0; i < 64; ++i) {
      Token t = more.next();
      if (t.kind == Token::End) break;
      if (t.kind == Token::ControlWord && t.word == "fonttbl") break;
      if (t.kind == Token::ControlWord && t.word == "ansicpg" && t.has_param && t.param > 0 &&
          t.param <= 65535) {
        info.code_page = static_cast<uint32_t>(t.param);
        break;
      }
    }
  }
  return info;
}

enum class Dest { Normal, Skip, FontTable, HtmlTag };

struct GroupState {
  Dest dest = Dest::Normal;
  bool htmlrtf = false;
  int64_t font = -1;
  int64_t uc = 1;
};

bool is_skipped_destination(std::string_view w) {
  static constexpr std::string_view kSkip[] = {
      "colortbl", "stylesheet", "info", "pict", "object", "header", "headerl", "headerr",
      "headerf", "footer", "footerl", "footerr", "footerf", "footnote", "listtable",
      "listoverridetable", "rsidtbl", "generator", "xmlnstbl", "fldinst", "themedata",
      "colorschememapping", "latentstyles", "datastore", "revtbl", "filetbl", "nonshppict",
      "shppict", "pntext", "pntxta", "pntxtb", "author", "operator", "title", "subject",
      "comment", "keywords", "doccomm", "company", "bkmkstart", "bkmkend", "mhtmltag", "fonttbl"};
  for (auto s : kSkip)
    if (w == s) return true;
  return false;
}

class Deencapsulator {
 public:
  Deencapsulator(std::string_view rtf, const HeaderInfo& header)
      : tz_(rtf), kind_(header.kind), default_cp_(header.code_page) {}

  std::string run() {
    for (;;) {
      Token t = tz_.next();
      switch (t.kind) {
        case Token::End:
          flush();
          return std::move(out_);
        case Token::GroupStart:
          flush();
          if (stack_.size() >= kMaxDepth) corrupt("groups nested deeper than 1024 levels");
          stack_.push_back(cur_);
          group_start_ = true, star_ = false, fallback_ = 0;
          continue;
        case Token::GroupEnd:
          flush();
          fallback_ = 0, group_start_ = false, star_ = false;
          if (stack_.empty()) return std::move(out_);
          cur_ = stack_.back();
          stack_.pop_back();
          if (stack_.empty()) return std::move(out_);  // closed the document group
          continue;
        case Token::ControlWord:
          control_word(t);
          group_start_ = false;
          continue;
        case Token::ControlSymbol:
          control_symbol(t.symbol);
          continue;
        case Token::HexByte:
        case Token::Text:
          group_start_ = false;
          text_byte(t.byte);
          continue;
      }
    }
  }

 private:
  bool emitting() const {
    if (cur_.dest == Dest::HtmlTag) return true;
    return cur_.dest == Dest::Normal && !cur_.htmlrtf;
  }

  uint32_t text_code_page() const {
    // Inside an htmltag group the document code page applies; elsewhere the current font's.
    if (cur_.dest == Dest::HtmlTag) return default_cp_;
    int64_t f = cur_.font >= 0 ? cur_.font : deff_;
    auto it = font_cp_.find(f);
    return it != font_cp_.end() ? it->second : default_cp_;
  }

  void text_byte(uint8_t b) {
    if (fallback_ > 0) return --fallback_, void();
    if (!emitting()) return;
    uint32_t cp = text_code_page();
    if (!pending_.empty() && cp != pending_cp_) flush();
    pending_cp_ = cp;
    pending_.push_back(static_cast<char>(b));
  }

  void flush() {
    if (!pending_.empty()) {
      drop_high_surrogate();
      decoder_.decode(pending_, pending_cp_, out_);
      pending_.clear();
    }
  }

  void drop_high_surrogate() {
    if (high_surrogate_) append_utf8(out_, 0xFFFD), high_surrogate_ = 0;
  }

  void emit(uint32_t cp) {
    flush();
    if (cp >= 0xDC00 && cp <= 0xDFFF && high_surrogate_) {
      append_utf8(out_, 0x10000 + ((high_surrogate_ - 0xD800) << 10) + (cp - 0xDC00));
      high_surrogate_ = 0;
      return;
    }
    drop_high_surrogate();
    if (cp >= 0xD800 && cp <= 0xDBFF) return high_surrogate_ = cp, void();
    append_utf8(out_, cp);
  }

  void emit_ascii(std::string_view s) {
    flush();
    drop_high_surrogate();
    out_.append(s);
  }

  void control_symbol(char c) {
    if (c == '*') return star_ = true, void();
    group_start_ = false;
    if (fallback_ > 0) return --fallback_, void();
    if (!emitting()) return;
    switch (c) {
      case '\\': case '{': case '}': return text_byte(static_cast<uint8_t>(c));
      case '~': return emit(0x00A0);
      case '_': return emit(0x2011);
      case '-': return;  // optional hyphen
      case '|': case ':': return;
      default: return;
    }
  }

  void control_word(const Token& t) {
    std::string_view w = t.word;
    if (group_start_ || star_) {
      // The first control word of a group names its destination.
      if (star_) {
        star_ = false;
        if (w == "htmltag" && kind_ == RtfEncapsulation::Html && cur_.dest != Dest::Skip)
          cur_.dest = Dest::HtmlTag;
        else
          cur_.dest = Dest::Skip;
        return;
      }
      if (w == "fonttbl") {
        cur_.dest = cur_.dest == Dest::Skip ? Dest::Skip : Dest::FontTable;
        return;
      }
      if (is_skipped_destination(w)) return cur_.dest = Dest::Skip, void();
    }
    if (w == "bin") {  // binary data: skip N bytes whatever the destination
      if (t.has_param && t.param > 0) tz_.skip_bytes(static_cast<uint64_t>(t.param));
      return;
    }
    if (cur_.dest == Dest::Skip) return;
    if (cur_.dest == Dest::FontTable) {
      if (w == "f" && t.has_param) defining_font_ = t.param;
      if (w == "fcharset" && t.has_param && defining_font_ >= 0) {
        if (uint32_t cp = charset_code_page(t.param)) font_cp_[defining_font_] = cp;
      }
      if (w == "cpg" && t.has_param && defining_font_ >= 0 && t.param > 0 && t.param <= 65535)
        font_cp_[defining_font_] = static_cast<uint32_t>(t.param);
      return;
    }
    if (w == "u" && t.has_param) {
      int64_t n = t.param;
      if (n < 0) n += 65536;
      if (emitting()) emit(n >= 0 && n <= 0x10FFFF ? static_cast<uint32_t>(n) : 0xFFFD);
      fallback_ = cur_.uc;
      return;
    }
    if (fallback_ > 0) return --fallback_, void();
    if (w == "uc") return cur_.uc = t.has_param ? std::clamp<int64_t>(t.param, 0, 16) : 1, void();
    if (w == "htmlrtf") return flush(), cur_.htmlrtf = !t.has_param || t.param != 0, void();
    if (w == "f" && t.has_param) return flush(), cur_.font = t.param, void();
    if (w == "deff" && t.has_param) return deff_ = t.param, void();
    if (!emitting()) return;
    if (w == "par" || w == "line") return emit_ascii("\r\n");
    if (w == "tab") return emit_ascii("\t");
    if (w == "lquote") return emit(0x2018);
    if (w == "rquote") return emit(0x2019);
    if (w == "ldblquote") return emit(0x201C);
    if (w == "rdblquote") return emit(0x201D);
    if (w == "bullet") return emit(0x2022);
    if (w == "endash") return emit(0x2013);
    if (w == "emdash") return emit(0x2014);
    if (w == "enspace") return emit(0x2002);
    if (w == "emspace") return emit(0x2003);
    if (w == "qmspace") return emit(0x2005);
    if (w == "zwj") return emit(0x200D);
    if (w == "zwnj") return emit(0x200C);
    if (w == "ltrmark") return emit(0x200E);
    if (w == "rtlmark") return emit(0x200F);
    // Every other control word is formatting without a textual form (MS-OXRTFEX 2.2.3.3).
  }

  Tokenizer tz_;
  RtfEncapsulation kind_;
  uint32_t default_cp_;
  int64_t deff_ = -1;
  int64_t defining_font_ = -1;
  std::map<int64_t, uint32_t> font_cp_;
  std::vector<GroupState> stack_;
  GroupState cur_;
  bool group_start_ = false;
  bool star_ = false;
  int64_t fallback_ = 0;
  uint32_t high_surrogate_ = 0;
  std::string pending_;
  uint32_t pending_cp_ = kDefaultCodePage;
  std::string out_;
  CodePageDecoder decoder_;
};

}  // namespace

std::string_view encapsulation_name(RtfEncapsulation kind) {
  switch (kind) {
    case RtfEncapsulation::Html: return "html";
    case RtfEncapsulation::Text: return "text";
    case RtfEncapsulation::None: break;
  }
  return "none";
}

RtfEncapsulation detect_rtf_encapsulation(std::string_view rtf) { return scan_header(rtf).kind; }

DeencapsulatedRtf deencapsulate_rtf(std::string_view rtf) {
  HeaderInfo header = scan_header(rtf);
  DeencapsulatedRtf result;
  result.kind = header.kind;
  result.code_page = header.code_page;
  if (header.kind == RtfEncapsulation::None) return result;
  result.content = Deencapsulator(rtf, header).run();
  return result;
}

std::string decode_code_page(std::string_view bytes, uint32_t code_page) {
  CodePageDecoder decoder;
  std::string out;
  decoder.decode(bytes, code_page, out);
  return out;
}

}  // namespace openmapi::rtf
