#include "server/imap_mime.h"

#include <algorithm>

#include "core/base64.h"
#include "core/unicode.h"
#include "server/imap.h"

namespace openmapi::server {

namespace {

constexpr int kMaxDepth = 16;
constexpr size_t kMaxParts = 2000;

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Where the header of the entity at `start` ends (the body begins) within [start, end).
size_t header_end(std::string_view text, size_t start, size_t end) {
  size_t p = start;
  while (p < end) {
    size_t lf = text.find('\n', p);
    if (lf == std::string_view::npos || lf >= end) return end;
    std::string_view line = text.substr(p, lf - p);
    if (line.empty() || line == "\r") return lf + 1;
    p = lf + 1;
  }
  return end;
}

// The fields of a header block: name and unfolded raw value, in order.
struct Field {
  std::string_view name;
  std::string value;
  size_t begin, end;  // the field's lines, CRLF included
};
std::vector<Field> fields_of(std::string_view text, size_t start, size_t body) {
  std::vector<Field> out;
  size_t p = start;
  while (p < body) {
    size_t lf = text.find('\n', p);
    size_t next = (lf == std::string_view::npos || lf >= body) ? body : lf + 1;
    std::string_view line = text.substr(p, next - p);
    if (trim(line).empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
      out.back().value += std::string(trim(line).empty() ? "" : " ") + std::string(trim(line));
      out.back().end = next;
    } else {
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) out.push_back({trim(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))), p, next});
      else out.push_back({{}, {}, p, next});  // a line that is no field: kept for HEADER.FIELDS.NOT
    }
    p = next;
  }
  return out;
}

// "text/plain; charset=us-ascii; name="a b"" -> type, subtype, parameters.
void parse_content_type(std::string_view v, MimeEntity& e, bool& has) {
  size_t semi = v.find(';');
  std::string_view t = trim(v.substr(0, semi));
  size_t slash = t.find('/');
  if (slash != std::string_view::npos && slash > 0 && slash + 1 < t.size()) {
    e.type = ascii_lower(trim(t.substr(0, slash)));
    e.subtype = ascii_lower(trim(t.substr(slash + 1)));
    has = true;
  }
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : v.substr(semi + 1);
  while (!rest.empty()) {
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string name = ascii_lower(trim(rest.substr(0, eq)));
    rest.remove_prefix(eq + 1);
    rest = trim(rest);
    std::string value;
    if (!rest.empty() && rest[0] == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value += rest[i];
      }
      rest.remove_prefix(std::min(rest.size(), i + 1));
      size_t s = rest.find(';');
      rest = s == std::string_view::npos ? std::string_view() : rest.substr(s + 1);
    } else {
      size_t s = rest.find(';');
      value = std::string(trim(rest.substr(0, s)));
      rest = s == std::string_view::npos ? std::string_view() : rest.substr(s + 1);
    }
    if (!name.empty()) e.params.emplace_back(std::move(name), std::move(value));
  }
}

std::string param(const MimeEntity& e, std::string_view name) {
  for (const auto& [k, v] : e.params)
    if (k == name) return v;
  return {};
}

void parse_entity(std::string_view text, MimeEntity& e, int depth, bool digest_default) {
  e.body = header_end(text, e.start, e.end);
  bool has_type = false;
  for (const Field& f : fields_of(text, e.start, e.body))
    if (iequal(f.name, "Content-Type")) {
      parse_content_type(f.value, e, has_type);
      break;
    }
  if (!has_type && digest_default) {
    e.type = "message";
    e.subtype = "rfc822";
  }
  if (depth >= kMaxDepth) return;
  if (e.type == "multipart") {
    const std::string boundary = param(e, "boundary");
    if (boundary.empty()) return;
    const std::string delim = "--" + boundary;
    // Delimiter lines start a line; the line break before one belongs to it.
    size_t p = e.body;
    std::optional<size_t> part_start;
    while (p < e.end) {
      size_t lf = text.find('\n', p);
      size_t next = (lf == std::string_view::npos || lf >= e.end) ? e.end : lf + 1;
      std::string_view line = text.substr(p, next - p);
      if (line.size() >= delim.size() && line.substr(0, delim.size()) == delim) {
        std::string_view after = trim(line.substr(delim.size()));
        const bool close = after.substr(0, 2) == "--";
        if (after.empty() || close) {
          if (part_start) {
            size_t part_end = p;
            if (part_end > *part_start && text[part_end - 1] == '\n') --part_end;
            if (part_end > *part_start && text[part_end - 1] == '\r') --part_end;
            MimeEntity child;
            child.start = *part_start;
            child.end = std::max(part_end, *part_start);
            if (e.parts.size() < kMaxParts) {
              parse_entity(text, child, depth + 1, e.subtype == "digest");
              e.parts.push_back(std::move(child));
            }
          }
          if (close) {
            part_start.reset();
            break;
          }
          part_start = next;
        }
      }
      p = next;
    }
    if (part_start && *part_start < e.end && e.parts.size() < kMaxParts) {  // no close delimiter
      MimeEntity child;
      child.start = *part_start;
      child.end = e.end;
      parse_entity(text, child, depth + 1, e.subtype == "digest");
      e.parts.push_back(std::move(child));
    }
  } else if (e.type == "message" && (e.subtype == "rfc822" || e.subtype == "global")) {
    MimeEntity m;
    m.start = e.body;
    m.end = e.end;
    parse_entity(text, m, depth + 1, false);
    e.embedded.push_back(std::move(m));
  }
}

size_t count_lines(std::string_view s) {
  size_t n = size_t(std::count(s.begin(), s.end(), '\n'));
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

// ---- addresses (RFC 5322 3.4) for ENVELOPE

struct Address {
  std::optional<std::string> name, adl, mailbox, host;
};

// Removes comments, keeping the text of the last one (the old "addr (Name)" form).
std::string strip_comments(std::string_view s, std::string* comment) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  std::string current;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      out += c;
      if (c == '\\' && i + 1 < s.size()) out += s[++i];
      else if (c == '"') quoted = false;
    } else if (depth > 0) {
      if (c == '(') ++depth;
      else if (c == ')') {
        if (--depth == 0 && comment) *comment = std::string(trim(current));
      } else current += c;
    } else if (c == '(') {
      depth = 1;
      current.clear();
    } else {
      if (c == '"') quoted = true;
      out += c;
    }
  }
  return out;
}

std::string unquote(std::string_view s) {
  s = trim(s);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') continue;
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return std::string(trim(out));
}

Address one_address(std::string_view item) {
  Address a;
  std::string comment;
  const std::string s = strip_comments(item, &comment);
  size_t lt = std::string::npos;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    else if (s[i] == '\\' && quoted) ++i;
    else if (s[i] == '<' && !quoted) {
      lt = i;
      break;
    }
  }
  std::string spec;
  if (lt != std::string::npos) {
    size_t gt = s.find('>', lt);
    spec = s.substr(lt + 1, gt == std::string::npos ? std::string::npos : gt - lt - 1);
    std::string name = unquote(s.substr(0, lt));
    if (!name.empty()) a.name = name;
    size_t colon = spec.find(':');
    if (colon != std::string::npos && !spec.empty() && spec[0] == '@') {
      a.adl = std::string(trim(std::string_view(spec).substr(0, colon)));
      spec = spec.substr(colon + 1);
    }
  } else {
    spec = s;
    if (!comment.empty()) a.name = comment;
  }
  spec = std::string(trim(spec));
  size_t at = spec.rfind('@');
  if (at == std::string::npos) {
    a.mailbox = unquote(spec);
    a.host = "";
  } else {
    a.mailbox = spec.substr(0, at);
    if (a.mailbox->size() >= 2 && a.mailbox->front() == '"' && a.mailbox->back() == '"') a.mailbox = unquote(*a.mailbox);
    a.host = std::string(trim(std::string_view(spec).substr(at + 1)));
  }
  return a;
}

// The top-level items of an address list: split at commas outside quotes, comments and angles,
// with group starts and ends as their own entries.
std::vector<Address> address_list(std::string_view v) {
  std::vector<Address> out;
  std::string cur;
  int comment = 0;
  bool quoted = false, angle = false;
  auto flush = [&] {
    if (!trim(cur).empty()) out.push_back(one_address(cur));
    cur.clear();
  };
  for (size_t i = 0; i < v.size() && out.size() < 1000; ++i) {
    char c = v[i];
    if (quoted) {
      cur += c;
      if (c == '\\' && i + 1 < v.size()) cur += v[++i];
      else if (c == '"') quoted = false;
      continue;
    }
    if (comment > 0) {
      cur += c;
      if (c == '(') ++comment;
      else if (c == ')') --comment;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '(') comment = 1;
    else if (c == '<') angle = true;
    else if (c == '>') angle = false;
    else if (!angle && c == ',') {
      flush();
      continue;
    } else if (!angle && c == ':') {
      Address g;  // a group: (NIL NIL "name" NIL)
      g.mailbox = unquote(strip_comments(cur, nullptr));
      out.push_back(g);
      cur.clear();
      continue;
    } else if (!angle && c == ';') {
      flush();
      out.push_back(Address{});  // the end of a group: (NIL NIL NIL NIL)
      continue;
    }
    cur += c;
  }
  flush();
  return out;
}

std::string addresses(const std::optional<std::string>& v, bool utf8) {
  if (!v) return "NIL";
  const std::vector<Address> list = address_list(*v);
  if (list.empty()) return "NIL";
  std::string out = "(";
  for (const Address& a : list)
    out += "(" + imap_nstring(a.name, utf8) + " " + imap_nstring(a.adl, utf8) + " " + imap_nstring(a.mailbox, utf8) + " " +
           imap_nstring(a.host, utf8) + ")";
  return out + ")";
}

std::string params_list(const std::vector<std::pair<std::string, std::string>>& params, bool utf8) {
  if (params.empty()) return "NIL";
  std::string out = "(";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out += ' ';
    out += imap_string(params[i].first, utf8) + " " + imap_string(params[i].second, utf8);
  }
  return out + ")";
}

std::string upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Disposition, language, location: the extension data every body part ends with.
std::string extension_tail(std::string_view text, const MimeEntity& e, bool utf8) {
  std::string out;
  if (auto d = mime_header(text, e, "Content-Disposition")) {
    MimeEntity tmp;
    bool has = false;
    std::string v = *d;
    size_t semi = v.find(';');
    std::string kind(trim(std::string_view(v).substr(0, semi)));
    if (semi != std::string::npos) parse_content_type("x/x" + v.substr(semi), tmp, has);
    out += " (" + imap_string(ascii_lower(kind), utf8) + " " + params_list(tmp.params, utf8) + ")";
  } else {
    out += " NIL";
  }
  auto lang = mime_header(text, e, "Content-Language");
  out += " " + imap_nstring(lang ? std::optional<std::string>(std::string(trim(*lang))) : std::nullopt, utf8);
  out += " " + imap_nstring(mime_header(text, e, "Content-Location"), utf8);
  return out;
}

struct Resolved {
  const MimeEntity* entity = nullptr;
  bool message_level = false;  // the path names a message (the top, or inside message/rfc822)
};

// Walks the part numbers of a section. An empty path is the top message.
std::optional<Resolved> resolve(const MimeEntity& top, const std::vector<uint32_t>& path) {
  const MimeEntity* cur = &top;
  bool message = true;  // `cur` is a message (its header is a message header)
  for (uint32_t n : path) {
    if (!message && !cur->embedded.empty()) {  // a message/rfc822 part: go into its message
      cur = &cur->embedded.front();
      message = true;
    }
    if (cur->type == "multipart") {
      if (n == 0 || n > cur->parts.size()) return std::nullopt;
      cur = &cur->parts[n - 1];
      message = false;
    } else if (n == 1) {
      message = false;  // the body of a single-part message is its part 1
    } else {
      return std::nullopt;
    }
  }
  return Resolved{cur, message};
}

}  // namespace

MimeEntity parse_mime_structure(std::string_view text) {
  MimeEntity top;
  top.start = 0;
  top.end = text.size();
  parse_entity(text, top, 0, false);
  return top;
}

MimeEntity parse_mime_header(std::string_view text) {
  MimeEntity top;
  top.start = 0;
  top.end = text.size();
  parse_entity(text, top, kMaxDepth, false);
  return top;
}

std::optional<std::string> mime_header(std::string_view text, const MimeEntity& e, std::string_view name) {
  for (const Field& f : fields_of(text, e.start, e.body))
    if (iequal(f.name, name)) return f.value;
  return std::nullopt;
}

std::string imap_envelope(std::string_view text, const MimeEntity& e, bool utf8) {
  const std::vector<Field> fields = fields_of(text, e.start, e.body);  // once, for the ten lookups
  auto h = [&](std::string_view n) -> std::optional<std::string> {
    for (const Field& f : fields)
      if (iequal(f.name, n)) return f.value;
    return std::nullopt;
  };
  auto from = h("From");
  auto sender = h("Sender");
  auto reply_to = h("Reply-To");
  return "(" + imap_nstring(h("Date"), utf8) + " " + imap_nstring(h("Subject"), utf8) + " " + addresses(from, utf8) + " " +
         addresses(sender ? sender : from, utf8) + " " + addresses(reply_to ? reply_to : from, utf8) + " " + addresses(h("To"), utf8) +
         " " + addresses(h("Cc"), utf8) + " " + addresses(h("Bcc"), utf8) + " " + imap_nstring(h("In-Reply-To"), utf8) + " " +
         imap_nstring(h("Message-ID"), utf8) + ")";
}

std::optional<std::string> envelope_to_keep(std::string_view mime) {
  std::string envelope = imap_envelope(mime, parse_mime_header(mime), false);
  if (envelope.find('\n') != std::string::npos ||
      std::any_of(envelope.begin(), envelope.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    return std::nullopt;
  return envelope;
}

std::string imap_body_structure(std::string_view text, const MimeEntity& e, bool extended, bool utf8) {
  if (e.type == "multipart") {
    std::string out = "(";
    for (const MimeEntity& p : e.parts) out += imap_body_structure(text, p, extended, utf8);
    if (e.parts.empty()) {  // RFC 9051 requires one part at least: show an empty text part
      out += "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)";
    }
    out += " " + imap_string(e.subtype, utf8);
    if (extended) out += " " + params_list(e.params, utf8) + extension_tail(text, e, utf8);
    return out + ")";
  }
  const std::string_view body = text.substr(e.body, e.end - e.body);
  auto enc = mime_header(text, e, "Content-Transfer-Encoding");
  std::string out = "(" + imap_string(e.type, utf8) + " " + imap_string(e.subtype, utf8) + " ";
  auto ps = e.params;
  if (ps.empty() && e.type == "text") ps.emplace_back("charset", "us-ascii");
  out += params_list(ps, utf8) + " " + imap_nstring(mime_header(text, e, "Content-ID"), utf8) + " " +
         imap_nstring(mime_header(text, e, "Content-Description"), utf8) + " " +
         imap_string(enc ? upper(std::string(trim(*enc))) : "7BIT", utf8) + " " + std::to_string(body.size());
  if (!e.embedded.empty()) {
    const MimeEntity& m = e.embedded.front();
    out += " " + imap_envelope(text, m, utf8) + " " + imap_body_structure(text, m, extended, utf8) + " " +
           std::to_string(count_lines(body));
  } else if (e.type == "text") {
    out += " " + std::to_string(count_lines(body));
  }
  if (extended) out += " " + imap_nstring(mime_header(text, e, "Content-MD5"), utf8) + extension_tail(text, e, utf8);
  return out + ")";
}

std::optional<std::string> imap_section(std::string_view text, const MimeEntity& top, std::string_view section, std::string& error) {
  std::vector<uint32_t> path;
  std::string_view rest = section;
  while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
    size_t dot = rest.find('.');
    std::string_view num = rest.substr(0, dot);
    uint32_t n = 0;
    for (char c : num) {
      if (c < '0' || c > '9' || n > 100000) {
        error = "a part number is a number";
        return std::nullopt;
      }
      n = n * 10 + uint32_t(c - '0');
    }
    if (n == 0) {
      error = "part numbers start at 1";
      return std::nullopt;
    }
    path.push_back(n);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  auto r = resolve(top, path);
  std::string spec = upper(std::string(trim(rest)));
  std::string list;
  if (size_t sp = spec.find(' '); sp != std::string::npos) {
    list = std::string(trim(std::string_view(spec).substr(sp + 1)));
    spec = spec.substr(0, sp);
  }
  if (spec != "" && spec != "HEADER" && spec != "TEXT" && spec != "MIME" && spec != "HEADER.FIELDS" && spec != "HEADER.FIELDS.NOT") {
    error = "unknown section " + std::string(section.substr(0, 100));
    return std::nullopt;
  }
  if ((spec == "HEADER.FIELDS" || spec == "HEADER.FIELDS.NOT") == list.empty()) {
    error = "HEADER.FIELDS takes a list of field names, other sections none";
    return std::nullopt;
  }
  if (spec == "MIME" && path.empty()) {
    error = "MIME needs a part number";
    return std::nullopt;
  }
  if (!r) return std::nullopt;
  const MimeEntity* e = r->entity;
  if (spec.empty()) {
    if (path.empty()) return std::string(text);
    return std::string(text.substr(e->body, e->end - e->body));
  }
  if (spec == "MIME") return std::string(text.substr(e->start, e->body - e->start));
  // HEADER, TEXT and HEADER.FIELDS name the message at the path (inside a message/rfc822 part).
  if (!r->message_level) {
    if (e->embedded.empty()) return std::nullopt;
    e = &e->embedded.front();
  }
  if (spec == "TEXT") return std::string(text.substr(e->body, e->end - e->body));
  if (spec == "HEADER") return std::string(text.substr(e->start, e->body - e->start));
  // HEADER.FIELDS (A B) / .NOT
  std::vector<std::string> names;
  {
    std::string l = list;
    if (!l.empty() && l.front() == '(') l.erase(0, 1);
    if (!l.empty() && l.back() == ')') l.pop_back();
    size_t p = 0;
    while (p < l.size()) {
      size_t sp = l.find(' ', p);
      std::string n = l.substr(p, sp == std::string::npos ? std::string::npos : sp - p);
      if (n.size() >= 2 && n.front() == '"' && n.back() == '"') n = n.substr(1, n.size() - 2);
      if (!n.empty()) names.push_back(n);
      if (sp == std::string::npos) break;
      p = sp + 1;
    }
  }
  const bool negate = spec == "HEADER.FIELDS.NOT";
  std::string out;
  for (const Field& f : fields_of(text, e->start, e->body)) {
    bool listed = false;
    for (const auto& n : names) listed = listed || (!f.name.empty() && iequal(f.name, n));
    if (listed != negate && !f.name.empty()) out += std::string(text.substr(f.begin, f.end - f.begin));
  }
  out += "\r\n";
  return out;
}

std::optional<std::string> imap_binary_section(std::string_view text, const MimeEntity& top, std::string_view part, std::string& error) {
  std::string body_error;
  std::vector<uint32_t> path;
  if (!part.empty()) {
    auto s = imap_section(text, top, part, body_error);  // validates the numbers
    if (!body_error.empty()) {
      error = body_error;
      return std::nullopt;
    }
    size_t p = 0;
    while (p < part.size()) {
      size_t dot = part.find('.', p);
      std::string_view num = part.substr(p, dot == std::string_view::npos ? std::string_view::npos : dot - p);
      uint32_t n = 0;
      for (char c : num) {
        if (c < '0' || c > '9') {
          error = "BINARY takes part numbers only";
          return std::nullopt;
        }
        n = n * 10 + uint32_t(c - '0');
      }
      path.push_back(n);
      if (dot == std::string_view::npos) break;
      p = dot + 1;
    }
    (void)s;
  }
  auto r = resolve(top, path);
  if (!r) return std::nullopt;
  const MimeEntity* e = r->entity;
  if (path.empty()) return std::string(text);
  if (e->type == "multipart") {
    error = "BINARY of a multipart";
    return std::nullopt;
  }
  std::string_view body = text.substr(e->body, e->end - e->body);
  auto enc_h = mime_header(text, *e, "Content-Transfer-Encoding");
  const std::string enc = enc_h ? ascii_lower(trim(*enc_h)) : "7bit";
  if (enc == "7bit" || enc == "8bit" || enc == "binary") return std::string(body);
  if (enc == "base64") {
    auto b = base64_decode_lenient(body);
    if (!b) {
      error = "the part's base64 cannot be decoded";
      return std::nullopt;
    }
    return std::string(b->begin(), b->end());
  }
  if (enc == "quoted-printable") {
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c != '=') {
        out += c;
        continue;
      }
      if (i + 1 < body.size() && (body[i + 1] == '\r' || body[i + 1] == '\n')) {  // a soft line break
        ++i;
        if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
        continue;
      }
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        return -1;
      };
      if (i + 2 < body.size() && hex(body[i + 1]) >= 0 && hex(body[i + 2]) >= 0) {
        out += char(hex(body[i + 1]) * 16 + hex(body[i + 2]));
        i += 2;
      } else {
        out += c;
      }
    }
    return out;
  }
  error = "UNKNOWN-CTE";
  return std::nullopt;
}

}  // namespace openmapi::server
