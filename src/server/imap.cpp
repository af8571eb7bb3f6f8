#include "server/imap.h"

#include <algorithm>
#include <charconv>

#include "core/unicode.h"

namespace openmapi::server {

namespace {

constexpr int kMaxDepth = 32;

bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7F; }

// The literal announced at the end of `line` ("{12}", "{12+}", "~{12}"): its size and whether
// it synchronises; nullopt when the line ends otherwise. A size too long to be a number gives
// SIZE_MAX (refused by any limit).
struct LiteralSpec {
  size_t size;
  bool sync;
};
std::optional<LiteralSpec> literal_at_end(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  bool sync = true;
  if (!inner.empty() && (inner.back() == '+' || inner.back() == '-')) {
    sync = false;
    inner.remove_suffix(1);
  }
  if (inner.empty() || !std::all_of(inner.begin(), inner.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  size_t n = 0;
  auto [p, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), n);
  if (ec != std::errc() || p != inner.data() + inner.size()) n = SIZE_MAX;
  return LiteralSpec{n, sync};
}

// The tag and upper-case command name at the start of a command, as far as they can be read.
std::pair<std::string, std::string> head_of(std::string_view cmd) {
  size_t sp = cmd.find_first_of(" \r\n");
  std::string tag(cmd.substr(0, std::min(sp, size_t(64))));
  std::string name;
  if (sp != std::string_view::npos && cmd[sp] == ' ') {
    size_t end = cmd.find_first_of(" \r\n{", sp + 1);
    name = ascii_lower(cmd.substr(sp + 1, std::min(end, cmd.size()) - sp - 1));
    for (char& c : name) c = char(std::toupper(static_cast<unsigned char>(c)));
  }
  bool tag_ok = !tag.empty() && std::none_of(tag.begin(), tag.end(), [](char c) {
    return is_ctl(static_cast<unsigned char>(c)) || c == '+' || c == '(' || c == ')' || c == '{' || c == '"' || c == '\\' ||
           c == '%' || c == '*' || static_cast<unsigned char>(c) >= 0x80;
  });
  if (!tag_ok) tag.clear();
  return {tag, name};
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  ImapCommand command() {
    ImapCommand c;
    size_t sp = s_.find(' ');
    auto [tag, name] = head_of(s_);
    tag_ = tag;
    if (tag_.empty()) fail("the command has no valid tag");
    if (sp == std::string_view::npos || sp != tag_.size()) fail("a tag is followed by a space and a command");
    c.tag = tag_;
    pos_ = sp + 1;
    c.name = upper(atom_text());
    if (c.name.empty()) fail("a command name is expected after the tag");
    if (c.name == "UID") {
      expect(' ');
      c.name += ' ';
      c.name += upper(atom_text());
    }
    while (!at_end()) {
      expect(' ');
      c.args.push_back(value(0));
    }
    return c;
  }

 private:
  [[noreturn]] void fail(const std::string& message) { throw ImapSyntaxError{tag_, message}; }
  static std::string upper(std::string s) {
    for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
  bool at_end() const { return pos_ + 2 == s_.size() && s_[pos_] == '\r' && s_[pos_ + 1] == '\n'; }
  void expect(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) fail(std::string("'") + c + "' expected at position " + std::to_string(pos_));
    ++pos_;
  }

  // Atom characters, with a [section] (spaces and lists allowed inside) and a <partial> taken in.
  std::string atom_text() {
    size_t start = pos_;
    int brackets = 0;
    while (pos_ < s_.size()) {
      unsigned char c = s_[pos_];
      if (c == '\r' || c == '\n') break;
      if (brackets > 0) {
        if (c == '[') ++brackets;
        else if (c == ']') --brackets;
        else if (is_ctl(c)) fail("a control character inside a section");
        ++pos_;
        continue;
      }
      if (c == ' ' || c == '(' || c == ')' || c == '{' || c == '"' || is_ctl(c)) break;
      if (c == '[') ++brackets;
      ++pos_;
    }
    if (brackets > 0) fail("an unclosed '['");
    return std::string(s_.substr(start, pos_ - start));
  }

  ImapArg value(int depth) {
    if (depth > kMaxDepth) fail("lists nest too deep");
    if (pos_ >= s_.size()) fail("a value is expected");
    ImapArg a;
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      a.kind = ImapArg::Kind::List;
      while (pos_ < s_.size() && s_[pos_] != ')') {
        if (!a.list.empty()) expect(' ');
        a.list.push_back(value(depth + 1));
      }
      expect(')');
      return a;
    }
    if (c == '"') {
      ++pos_;
      a.kind = ImapArg::Kind::String;
      while (true) {
        if (pos_ >= s_.size()) fail("an unterminated quoted string");
        char q = s_[pos_++];
        if (q == '"') break;
        if (q == '\r' || q == '\n' || q == '\0') fail("a line break or NUL inside a quoted string");
        if (q == '\\') {
          if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\\')) fail("a quoted string escapes only \\ and \"");
          q = s_[pos_++];
        }
        a.text += q;
      }
      return a;
    }
    if (c == '{' || (c == '~' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '{')) {
      a.kind = ImapArg::Kind::String;
      a.literal8 = c == '~';
      pos_ += a.literal8 ? 2 : 1;
      size_t close = s_.find('}', pos_);
      if (close == std::string_view::npos) fail("an unterminated literal size");
      std::string_view digits = s_.substr(pos_, close - pos_);
      if (!digits.empty() && (digits.back() == '+' || digits.back() == '-')) digits.remove_suffix(1);
      size_t n = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) fail("a literal size is a number");
      pos_ = close + 1;
      expect('\r');
      expect('\n');
      if (n > s_.size() - pos_) fail("the literal is shorter than announced");
      a.text = std::string(s_.substr(pos_, n));
      pos_ += n;
      return a;
    }
    a.text = atom_text();
    if (a.text.empty()) fail(std::string("unexpected '") + c + "' at position " + std::to_string(pos_));
    return a;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string tag_;
};

}  // namespace

bool ImapArg::is_atom(std::string_view upper_name) const {
  if (kind != Kind::Atom || text.size() != upper_name.size()) return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(text[i])) != static_cast<unsigned char>(upper_name[i])) return false;
  return true;
}

void ImapReader::clear() {
  in_.clear();
  cmd_.clear();
  literal_left_ = 0;
}

ImapCommand parse_imap_command(std::string_view text) { return Parser(text).command(); }

ImapReader::Result ImapReader::next() {
  size_t pos = 0;
  Result r;
  while (true) {
    if (literal_left_ > 0) {
      size_t take = std::min(literal_left_, in_.size() - pos);
      cmd_.append(in_, pos, take);
      pos += take;
      literal_left_ -= take;
      if (literal_left_ > 0) break;
    }
    size_t lf = in_.find('\n', pos);
    if (lf == std::string::npos) {
      if (in_.size() - pos > limits_.max_line) {
        clear();
        return {Event::Fatal, {}, "* BYE [TOOBIG] command line too long\r\n"};
      }
      break;
    }
    if (lf - pos > limits_.max_line) {
      clear();
      return {Event::Fatal, {}, "* BYE [TOOBIG] command line too long\r\n"};
    }
    std::string_view line(in_.data() + pos, lf - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    cmd_.append(line);
    cmd_ += "\r\n";
    pos = lf + 1;
    if (auto lit = literal_at_end(line)) {
      auto [tag, name] = head_of(cmd_);
      const size_t limit = name == "APPEND" ? limits_.max_append : limits_.max_literal;
      if (lit->size > limit) {
        cmd_.clear();
        in_.erase(0, pos);
        if (!lit->sync) {
          clear();
          return {Event::Fatal, {}, "* BYE [TOOBIG] a literal over " + std::to_string(limit) + " bytes\r\n"};
        }
        return {Event::Reply, {}, (tag.empty() ? "*" : tag) + " NO [TOOBIG] a literal over " + std::to_string(limit) + " bytes\r\n"};
      }
      if (cmd_.size() + lit->size > limits_.max_append + 16 * limits_.max_line) {
        clear();
        return {Event::Fatal, {}, "* BYE [TOOBIG] command too long\r\n"};
      }
      literal_left_ = lit->size;
      if (lit->sync) {
        in_.erase(0, pos);
        return {Event::Continue, {}, {}};
      }
      continue;
    }
    in_.erase(0, pos);
    return finish();
  }
  in_.erase(0, pos);
  return r;
}

ImapReader::Result ImapReader::finish() {
  Result r;
  std::string text;
  text.swap(cmd_);
  try {
    r.command = parse_imap_command(text);
    r.event = Event::Command;
  } catch (const ImapSyntaxError& e) {
    r.event = Event::Reply;
    r.reply = (e.tag.empty() ? "*" : e.tag) + " BAD " + e.message + "\r\n";
  }
  return r;
}

std::optional<std::string> ImapReader::line(bool& too_long) {
  too_long = false;
  size_t lf = in_.find('\n');
  if (lf == std::string::npos || lf > limits_.max_line) {
    if ((lf == std::string::npos ? in_.size() : lf) > limits_.max_line) {
      too_long = true;
      clear();
    }
    return std::nullopt;
  }
  std::string l = in_.substr(0, lf);
  if (!l.empty() && l.back() == '\r') l.pop_back();
  in_.erase(0, lf + 1);
  return l;
}

// ---- sequence sets

bool ImapSequenceSet::contains(uint32_t n) const {
  for (auto [lo, hi] : ranges)
    if (n >= lo && n <= hi) return true;
  return false;
}

std::optional<ImapSequenceSet> parse_sequence_set(std::string_view text, uint32_t star) {
  ImapSequenceSet set;
  auto number = [&](std::string_view t) -> std::optional<uint32_t> {
    if (t == "*") {
      set.has_star = true;
      return star;
    }
    if (t.empty() || t[0] == '0' || t.size() > 10) return std::nullopt;
    uint64_t v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + uint64_t(c - '0');
    }
    if (v > UINT32_MAX) return std::nullopt;
    return uint32_t(v);
  };
  if (text.empty()) return std::nullopt;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    size_t colon = item.find(':');
    auto a = number(item.substr(0, colon));
    if (!a) return std::nullopt;
    uint32_t b = *a;
    if (colon != std::string_view::npos) {
      auto bb = number(item.substr(colon + 1));
      if (!bb) return std::nullopt;
      b = *bb;
    }
    set.ranges.emplace_back(std::min(*a, b), std::max(*a, b));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return set;
}

std::string format_sequence_set(const std::vector<uint32_t>& sorted) {
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(sorted[i]);
    if (j > i) {
      out += ':';
      out += std::to_string(sorted[j]);
    }
    i = j + 1;
  }
  return out;
}

// ---- strings

std::string imap_string(std::string_view s, bool utf8) {
  bool quotable = s.size() <= 1024;
  for (unsigned char c : s) {
    if (c == '\r' || c == '\n' || c == 0 || (c >= 0x80 && !utf8)) {
      quotable = false;
      break;
    }
  }
  if (quotable && utf8 && !is_valid_utf8(s)) quotable = false;
  if (!quotable) {
    std::string lit = "{";
    lit += std::to_string(s.size());
    lit += "}\r\n";
    lit.append(s);
    return lit;
  }
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string imap_nstring(const std::optional<std::string>& s, bool utf8) { return s ? imap_string(*s, utf8) : "NIL"; }

// ---- modified UTF-7 (RFC 3501 5.1.3)

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
int b64_value(char c) {
  const char* p = std::find(kB64, kB64 + 64, c);
  return p == kB64 + 64 ? -1 : int(p - kB64);
}
}  // namespace

std::string mutf7_encode(std::string_view utf8) {
  std::string out;
  std::u16string run;
  auto flush = [&] {
    if (run.empty()) return;
    out += '&';
    uint32_t bits = 0;
    int nbits = 0;
    for (char16_t u : run) {
      bits = (bits << 16) | u;
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out += kB64[(bits >> nbits) & 0x3F];
      }
    }
    if (nbits > 0) out += kB64[(bits << (6 - nbits)) & 0x3F];
    out += '-';
    run.clear();
  };
  const std::u16string u16 = utf8_to_utf16(utf8);
  for (char16_t u : u16) {
    if (u >= 0x20 && u <= 0x7E) {
      flush();
      if (u == '&') out += "&-";
      else out += char(u);
    } else {
      run += u;
    }
  }
  flush();
  return out;
}

std::optional<std::string> mutf7_decode(std::string_view s) {
  std::u16string u16;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c < 0x20 || c > 0x7E) return std::nullopt;
    if (c != '&') {
      u16 += char16_t(c);
      continue;
    }
    size_t end = s.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {
      u16 += u'&';
      i = end;
      continue;
    }
    uint32_t bits = 0;
    int nbits = 0;
    for (size_t j = i + 1; j < end; ++j) {
      int v = b64_value(s[j]);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | uint32_t(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        u16 += char16_t((bits >> nbits) & 0xFFFF);
      }
    }
    if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) return std::nullopt;
    i = end;
  }
  try {
    return utf16_to_utf8(u16);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace openmapi::server
