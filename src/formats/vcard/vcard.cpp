// vCard <-> IPM.Contact (MS-OXVCARD).
#include "formats/vcard/vcard.h"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "core/base64.h"
#include "core/catalog.h"
#include "core/error.h"
#include "core/filetime.h"
#include "core/unicode.h"

namespace openmapi::vcard {

namespace {

constexpr size_t kMaxLine = 1 << 20;

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "vCard: " + what); }

std::string upper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = char(std::toupper(static_cast<unsigned char>(c)));
  return r;
}
std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = char(std::tolower(static_cast<unsigned char>(c)));
  return r;
}
bool iequals(std::string_view a, std::string_view b) { return upper(a) == upper(b); }
std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// --- tags through the catalogue ---------------------------------------------------------------

PropTag ptag(std::string_view canonical) { return catalog_tag(canonical); }
PropTag ntag(NamedPropertyMap& names, std::string_view canonical) { return catalog_named_tag(names, canonical); }
std::optional<PropTag> ntag_find(const NamedPropertyMap& names, std::string_view canonical) {
  return catalog_named_tag(names, canonical);
}

// --- decoding ---------------------------------------------------------------------------------

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = char(std::toupper(static_cast<unsigned char>(c)));
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string qp_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size()) {
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out += char(h * 16 + l);
        i += 2;
        continue;
      }
    }
    if (s[i] == '=' && i + 1 == s.size()) break;  // a soft break left at the very end
    out += s[i];
  }
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += char(c);
    } else {
      out += char(0xC0 | (c >> 6));
      out += char(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// Bytes in `charset` as UTF-8; UTF-8 input is kept, anything undecodable falls back to Latin-1.
std::string to_utf8(std::string_view bytes, std::string_view charset) {
  std::string cs = lower(charset);
  if (cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii") {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    cs = "windows-1252";
  }
  iconv_t cd = iconv_open("UTF-8", cs.c_str());
  if (cd == iconv_t(-1)) return is_valid_utf8(bytes) ? std::string(bytes) : latin1_to_utf8(bytes);
  std::string out(bytes.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  size_t inleft = bytes.size();
  char* op = out.data();
  size_t outleft = out.size();
  size_t rc = iconv(cd, &in, &inleft, &op, &outleft);
  iconv_close(cd);
  if (rc == size_t(-1)) return latin1_to_utf8(bytes);
  out.resize(out.size() - outleft);
  return out;
}

// The value's bytes after ENCODING and CHARSET (text still escaped).
std::string decoded_text(const VcardProperty& p) {
  std::string v = p.value;
  auto enc = p.param("ENCODING");
  if (!enc.empty() && iequals(enc[0], "QUOTED-PRINTABLE")) v = qp_decode(v);
  auto cs = p.param("CHARSET");
  return to_utf8(v, cs.empty() ? "" : cs[0]);
}

std::optional<int64_t> parse_date(std::string_view v) {
  std::string s = trim(v);
  if (s.size() >= 2 && s[0] == '-' && s[1] == '-') return std::nullopt;  // no year (vCard 4 --MMDD)
  std::string digits;
  for (char c : s) {
    if (c == 'T' || c == 't') break;
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    else if (c != '-') return std::nullopt;
  }
  if (digits.size() != 8) return std::nullopt;
  return parse_filetime(digits.substr(0, 4) + "-" + digits.substr(4, 2) + "-" + digits.substr(6, 2));
}

}  // namespace

// --- public helpers ---------------------------------------------------------------------------

std::vector<std::string> VcardProperty::param(std::string_view name) const {
  std::vector<std::string> r;
  for (const auto& [n, vals] : params)
    if (n == name) r.insert(r.end(), vals.begin(), vals.end());
  return r;
}

bool VcardProperty::has_type(std::string_view type) const {
  for (const auto& t : param("TYPE"))
    if (iequals(t, type)) return true;
  return false;
}

std::string unescape_text(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      char c = v[++i];
      if (c == 'n' || c == 'N') out += '\n';
      else out += c;  // \, \; \\ and anything else: the character itself
    } else {
      out += v[i];
    }
  }
  return out;
}

std::vector<std::string> split_escaped(std::string_view v, char sep) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      parts.back() += v[i];
      parts.back() += v[++i];
    } else if (v[i] == sep) {
      parts.emplace_back();
    } else {
      parts.back() += v[i];
    }
  }
  return parts;
}

// --- content lines ----------------------------------------------------------------------------

namespace {

// The part before the value (name and parameters) contains QUOTED-PRINTABLE.
bool is_qp_line(std::string_view line) {
  size_t colon = line.find(':');
  return colon != std::string_view::npos && upper(line.substr(0, colon)).find("QUOTED-PRINTABLE") != std::string::npos;
}

std::optional<VcardProperty> parse_line(std::string_view line) {
  VcardProperty p;
  size_t i = 0;
  std::string name;
  while (i < line.size() && line[i] != ';' && line[i] != ':') name += line[i++];
  if (i == line.size()) return std::nullopt;  // no value: not a content line
  size_t dot = name.find('.');
  if (dot != std::string::npos) {
    p.group = name.substr(0, dot);
    name = name.substr(dot + 1);
  }
  p.name = upper(trim(name));
  while (i < line.size() && line[i] == ';') {
    ++i;
    std::string pname;
    std::vector<std::string> vals;
    bool has_eq = false;
    while (i < line.size() && line[i] != '=' && line[i] != ';' && line[i] != ':') pname += line[i++];
    if (i < line.size() && line[i] == '=') {
      has_eq = true;
      ++i;
      std::string cur;
      bool quoted = false;
      while (i < line.size()) {
        char c = line[i];
        if (c == '"') {
          quoted = !quoted;
        } else if (!quoted && (c == ';' || c == ':')) {
          break;
        } else if (!quoted && c == ',') {
          vals.push_back(cur);
          cur.clear();
        } else if (quoted && c == ',') {
          vals.push_back(cur);  // TYPE="work,voice": a list in quotes
          cur.clear();
        } else {
          cur += c;
        }
        ++i;
      }
      vals.push_back(cur);
    }
    pname = upper(trim(pname));
    if (pname.empty()) continue;
    if (!has_eq) {
      // vCard 2.1 bare parameters.
      if (pname == "QUOTED-PRINTABLE" || pname == "BASE64" || pname == "8BIT" || pname == "7BIT" || pname == "B")
        p.params.push_back({"ENCODING", {pname}});
      else
        p.params.push_back({"TYPE", {pname}});
    } else {
      if (pname == "ENCODING") for (auto& v : vals) v = upper(v);
      p.params.push_back({pname, vals});
    }
  }
  if (i >= line.size() || line[i] != ':') return std::nullopt;
  p.value = std::string(line.substr(i + 1));
  return p;
}

}  // namespace

std::vector<VcardCard> parse_vcard_text(std::string_view text) {
  // Physical lines (CRLF, LF or CR).
  std::vector<std::string_view> phys;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      phys.push_back(text.substr(start, i - start));
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < text.size()) phys.push_back(text.substr(start));

  // Logical lines: unfold, and join quoted-printable soft line breaks.
  std::vector<std::string> logical;
  std::string cur;
  bool have = false;
  auto flush = [&] {
    if (have && !trim(cur).empty()) logical.push_back(std::move(cur));
    cur.clear();
    have = false;
  };
  for (std::string_view l : phys) {
    if (have && !l.empty() && (l[0] == ' ' || l[0] == '\t')) {
      cur.append(l.substr(1));
    } else if (have && !cur.empty() && cur.back() == '=' && is_qp_line(cur)) {
      cur.pop_back();
      cur.append(l);
    } else {
      flush();
      cur.assign(l);
      have = true;
    }
    if (cur.size() > kMaxLine) corrupt("content line longer than 1 MiB");
  }
  flush();

  std::vector<VcardCard> cards;
  int depth = 0;
  for (const std::string& l : logical) {
    auto p = parse_line(l);
    if (!p) continue;
    std::string value = upper(trim(p->value));
    if (p->name == "BEGIN" && value == "VCARD") {
      if (depth++ == 0) cards.emplace_back();
      continue;
    }
    if (p->name == "END" && value == "VCARD") {
      if (depth == 0) corrupt("END:VCARD without BEGIN:VCARD");
      --depth;
      continue;
    }
    if (depth != 1) continue;  // outside a card, or in a nested (AGENT) card
    if (p->name == "VERSION") {
      cards.back().version = trim(p->value);
      continue;
    }
    cards.back().properties.push_back(std::move(*p));
  }
  if (depth != 0) corrupt("BEGIN:VCARD without END:VCARD");
  if (cards.empty()) corrupt("no BEGIN:VCARD");
  return cards;
}

// --- card -> contact --------------------------------------------------------------------------

namespace {

struct Phone {
  const char* tag;
};

std::string tel_value(const VcardProperty& p) {
  std::string v = trim(unescape_text(decoded_text(p)));
  if (v.size() > 4 && iequals(v.substr(0, 4), "tel:")) v = v.substr(4);
  return v;
}

bool is_pref(const VcardProperty& p) { return p.has_type("PREF") || !p.param("PREF").empty(); }

// Line breaks inside MAPI strings are CRLF.
std::string crlf(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) out += '\r';
    out += v[i];
  }
  return out;
}

void set_string(Message& m, PropTag tag, const std::string& v) {
  if (!v.empty()) m.props.set(PropValue::string(tag, crlf(v)));
}

}  // namespace

Message card_to_contact(const VcardCard& card, NamedPropertyMap& names) {
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Contact"));
  std::string display;
  for (const auto& p : card.properties)
    if (p.name == "FN") display = trim(unescape_text(decoded_text(p)));

  std::vector<std::string> emails, pref_emails;
  std::vector<std::string> categories;
  for (const auto& p : card.properties) {
    const std::string& n = p.name;
    if (n == "N") {
      auto parts = split_escaped(decoded_text(p), ';');
      parts.resize(5);
      set_string(m, ptag("PidTagSurname"), trim(unescape_text(parts[0])));
      set_string(m, ptag("PidTagGivenName"), trim(unescape_text(parts[1])));
      set_string(m, ptag("PidTagMiddleName"), trim(unescape_text(parts[2])));
      set_string(m, ptag("PidTagDisplayNamePrefix"), trim(unescape_text(parts[3])));
      set_string(m, ptag("PidTagGeneration"), trim(unescape_text(parts[4])));
    } else if (n == "FN") {
      set_string(m, tags::PidTagDisplayName, display);
      set_string(m, ntag(names, "PidLidFileUnder"), display);
    } else if (n == "NICKNAME") {
      set_string(m, ptag("PidTagNickname"), trim(unescape_text(split_escaped(decoded_text(p), ',')[0])));
    } else if (n == "ORG") {
      auto parts = split_escaped(decoded_text(p), ';');
      set_string(m, ptag("PidTagCompanyName"), trim(unescape_text(parts[0])));
      if (parts.size() > 1) set_string(m, ptag("PidTagDepartmentName"), trim(unescape_text(parts[1])));
    } else if (n == "TITLE") {
      set_string(m, ptag("PidTagTitle"), trim(unescape_text(decoded_text(p))));
    } else if (n == "ROLE") {
      set_string(m, ptag("PidTagProfession"), trim(unescape_text(decoded_text(p))));
    } else if (n == "EMAIL") {
      std::string addr = trim(unescape_text(decoded_text(p)));
      if (addr.size() > 7 && iequals(addr.substr(0, 7), "mailto:")) addr = addr.substr(7);
      if (addr.empty()) continue;
      (is_pref(p) ? pref_emails : emails).push_back(addr);
    } else if (n == "TEL") {
      std::string v = tel_value(p);
      if (v.empty()) continue;
      bool work = p.has_type("WORK"), home = p.has_type("HOME");
      std::vector<const char*> choice;
      if (p.has_type("FAX")) {
        choice = {work ? "PidTagBusinessFaxNumber" : home ? "PidTagHomeFaxNumber" : "PidTagPrimaryFaxNumber"};
      } else if (p.has_type("CELL") || p.has_type("MOBILE") || p.has_type("IPHONE")) {
        choice = {"PidTagMobileTelephoneNumber"};
      } else if (p.has_type("PAGER")) {
        choice = {"PidTagPagerTelephoneNumber"};
      } else if (p.has_type("CAR")) {
        choice = {"PidTagCarTelephoneNumber"};
      } else if (p.has_type("ISDN")) {
        choice = {"PidTagIsdnNumber"};
      } else if (p.has_type("TEXTPHONE") || p.has_type("TTY")) {
        choice = {"PidTagTelecommunicationsDeviceForDeafTelephoneNumber"};
      } else if (work) {
        choice = {"PidTagBusinessTelephoneNumber", "PidTagBusiness2TelephoneNumber"};
      } else if (home) {
        choice = {"PidTagHomeTelephoneNumber", "PidTagHome2TelephoneNumber"};
      } else if (is_pref(p) || p.has_type("MAIN")) {
        choice = {"PidTagPrimaryTelephoneNumber"};
      }
      choice.push_back("PidTagOtherTelephoneNumber");
      for (const char* c : choice) {
        const CatalogEntry* e = catalog_find(c);
        if (!e) continue;
        if (!m.props.has(e->tag)) {
          m.props.set(PropValue::string(e->tag, v));
          break;
        }
      }
    } else if (n == "ADR") {
      auto parts = split_escaped(decoded_text(p), ';');
      parts.resize(7);
      for (auto& s : parts) s = trim(unescape_text(s));
      if (parts[2].empty()) parts[2] = parts[1];
      const char* pre[6];
      bool named = false;
      if (p.has_type("HOME")) {
        const char* h[6] = {"PidTagHomeAddressPostOfficeBox", "PidTagHomeAddressStreet", "PidTagHomeAddressCity",
                            "PidTagHomeAddressStateOrProvince", "PidTagHomeAddressPostalCode", "PidTagHomeAddressCountry"};
        std::copy(h, h + 6, pre);
      } else if (p.has_type("WORK")) {
        const char* w[6] = {"PidLidWorkAddressPostOfficeBox", "PidLidWorkAddressStreet", "PidLidWorkAddressCity",
                            "PidLidWorkAddressState", "PidLidWorkAddressPostalCode", "PidLidWorkAddressCountry"};
        std::copy(w, w + 6, pre);
        named = true;
      } else {
        const char* o[6] = {"PidTagOtherAddressPostOfficeBox", "PidTagOtherAddressStreet", "PidTagOtherAddressCity",
                            "PidTagOtherAddressStateOrProvince", "PidTagOtherAddressPostalCode", "PidTagOtherAddressCountry"};
        std::copy(o, o + 6, pre);
      }
      PropTag first = named ? ntag(names, pre[1]) : ptag(pre[1]);
      bool taken = false;
      for (int k = 0; k < 6; ++k) {
        PropTag t = named ? ntag(names, pre[k]) : ptag(pre[k]);
        if (m.props.has(t)) taken = true;
      }
      (void)first;
      if (taken) continue;  // the first address of each kind wins
      const int comp[6] = {0, 2, 3, 4, 5, 6};
      for (int k = 0; k < 6; ++k) set_string(m, named ? ntag(names, pre[k]) : ptag(pre[k]), parts[comp[k]]);
    } else if (n == "BDAY" || n == "ANNIVERSARY" || n == "X-MS-ANNIVERSARY" || n == "X-ANNIVERSARY") {
      if (auto ft = parse_date(decoded_text(p)))
        m.props.set(PropValue::time(ptag(n == "BDAY" ? "PidTagBirthday" : "PidTagWeddingAnniversary"), *ft));
    } else if (n == "NOTE") {
      set_string(m, tags::PidTagBody, unescape_text(decoded_text(p)));
    } else if (n == "URL") {
      std::string v = trim(unescape_text(decoded_text(p)));
      PropTag t = ptag(p.has_type("HOME") ? "PidTagPersonalHomePage" : "PidTagBusinessHomePage");
      if (!m.props.has(t)) set_string(m, t, v);
    } else if (n == "CATEGORIES") {
      for (auto& c : split_escaped(decoded_text(p), ',')) {
        std::string s = trim(unescape_text(c));
        if (!s.empty() && std::find(categories.begin(), categories.end(), s) == categories.end()) categories.push_back(s);
      }
    } else if (n == "X-MS-IMADDRESS" || n == "IMPP") {
      PropTag t = ntag(names, "PidLidInstantMessagingAddress");
      if (!m.props.has(t)) set_string(m, t, trim(unescape_text(decoded_text(p))));
    } else if (n == "X-MS-MANAGER") {
      set_string(m, ptag("PidTagManagerName"), trim(unescape_text(decoded_text(p))));
    } else if (n == "X-MS-ASSISTANT") {
      set_string(m, ptag("PidTagAssistant"), trim(unescape_text(decoded_text(p))));
    } else if (n == "PHOTO" || n == "LOGO") {
      if (n == "LOGO") continue;
      if (!m.attachments.empty()) continue;
      std::optional<Bytes> data;
      std::string mime = "image/jpeg";
      auto enc = p.param("ENCODING");
      std::string v = trim(p.value);
      if (!enc.empty() && (enc[0] == "B" || enc[0] == "BASE64")) {
        data = base64_decode_lenient(v);
        auto types = p.param("TYPE");
        if (!types.empty()) {
          std::string t = lower(types[0]);
          mime = t.find('/') != std::string::npos ? t : "image/" + t;
        }
      } else if (v.size() > 5 && iequals(v.substr(0, 5), "data:")) {
        size_t comma = v.find(',');
        if (comma == std::string::npos) continue;
        std::string head = v.substr(5, comma - 5);
        size_t semi = head.find(';');
        mime = lower(head.substr(0, semi));
        if (head.find(";base64") == std::string::npos) continue;
        data = base64_decode_lenient(std::string_view(v).substr(comma + 1));
      }
      if (!data || data->empty()) continue;
      std::string ext = mime == "image/png" ? ".png" : mime == "image/gif" ? ".gif" : mime == "image/bmp" ? ".bmp" : ".jpg";
      Attachment a;
      a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
      a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, std::move(*data)));
      a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "ContactPicture" + ext));
      a.props.set(PropValue::string(tags::PidTagAttachFilename, "ContactPicture" + ext));
      a.props.set(PropValue::string(tags::PidTagAttachExtension, ext));
      a.props.set(PropValue::string(tags::PidTagAttachMimeTag, mime));
      a.props.set(PropValue::i32(tags::PidTagRenderingPosition, -1));
      a.props.set(PropValue::boolean(ptag("PidTagAttachmentContactPhoto"), true));
      m.attachments.push_back(std::move(a));
      m.props.set(PropValue::boolean(ntag(names, "PidLidHasPicture"), true));
    }
  }
  // Emails: preferred first, at most three (MS-OXVCARD 2.1.3.2.1).
  pref_emails.insert(pref_emails.end(), emails.begin(), emails.end());
  static const char* slots[3][4] = {
      {"PidLidEmail1EmailAddress", "PidLidEmail1DisplayName", "PidLidEmail1AddressType", "PidLidEmail1OriginalDisplayName"},
      {"PidLidEmail2EmailAddress", "PidLidEmail2DisplayName", "PidLidEmail2AddressType", "PidLidEmail2OriginalDisplayName"},
      {"PidLidEmail3EmailAddress", "PidLidEmail3DisplayName", "PidLidEmail3AddressType", "PidLidEmail3OriginalDisplayName"}};
  for (size_t i = 0; i < pref_emails.size() && i < 3; ++i) {
    const std::string& addr = pref_emails[i];
    m.props.set(PropValue::string(ntag(names, slots[i][0]), addr));
    m.props.set(PropValue::string(ntag(names, slots[i][1]), display.empty() ? addr : display + " (" + addr + ")"));
    m.props.set(PropValue::string(ntag(names, slots[i][2]), "SMTP"));
    m.props.set(PropValue::string(ntag(names, slots[i][3]), addr));
  }
  if (!categories.empty()) m.props.set(PropValue(ntag(names, "PidNameKeywords"), categories));
  if (!m.attachments.empty()) m.props.set(PropValue::boolean(tags::PidTagHasAttachments, true));
  return m;
}

std::vector<Message> read_vcards(std::string_view text, NamedPropertyMap& names) {
  std::vector<Message> out;
  for (const auto& c : parse_vcard_text(text)) out.push_back(card_to_contact(c, names));
  return out;
}

Message read_vcard(std::string_view text, NamedPropertyMap& names) {
  auto cards = parse_vcard_text(text);
  return card_to_contact(cards.front(), names);
}

// --- contact -> vCard -------------------------------------------------------------------------

namespace {

std::string escape_text(std::string_view s, bool compound) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': break;
      case ',': out += "\\,"; break;
      case ';': out += "\\;"; break;
      default: out += c;
    }
  }
  (void)compound;
  return out;
}

// Folds at 75 octets, never inside a UTF-8 sequence (RFC 6350 3.2).
void emit(std::string& out, const std::string& line) {
  size_t col = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    bool lead = (c & 0xC0) != 0x80;
    if (lead && col >= 75) {
      out += "\r\n ";
      col = 1;
    }
    out += line[i];
    ++col;
  }
  out += "\r\n";
}

std::string date_text(int64_t ft, VcardVersion v) {
  std::string s = format_filetime(ft).substr(0, 10);  // YYYY-MM-DD
  if (v == VcardVersion::V4) s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

}  // namespace

std::string write_vcard(const Message& c, const NamedPropertyMap& names, VcardVersion version) {
  const bool v4 = version == VcardVersion::V4;
  auto str = [&](PropTag t) { return c.props.get_string(t).value_or(""); };
  auto pstr = [&](const char* name) { return str(ptag(name)); };
  auto nstr = [&](const char* name) {
    auto t = ntag_find(names, name);
    return t ? str(*t) : std::string();
  };
  std::string out;
  emit(out, "BEGIN:VCARD");
  emit(out, v4 ? "VERSION:4.0" : "VERSION:3.0");
  std::string fn = str(tags::PidTagDisplayName);
  std::string n = escape_text(pstr("PidTagSurname"), true) + ";" + escape_text(pstr("PidTagGivenName"), true) + ";" +
                  escape_text(pstr("PidTagMiddleName"), true) + ";" + escape_text(pstr("PidTagDisplayNamePrefix"), true) +
                  ";" + escape_text(pstr("PidTagGeneration"), true);
  if (fn.empty()) {
    for (const char* k : {"PidTagGivenName", "PidTagSurname"}) {
      std::string s = pstr(k);
      if (!s.empty()) fn += (fn.empty() ? "" : " ") + s;
    }
  }
  emit(out, "FN:" + escape_text(fn, false));  // FN is required in 3.0 and 4.0
  emit(out, "N:" + n);
  if (auto s = pstr("PidTagNickname"); !s.empty()) emit(out, "NICKNAME:" + escape_text(s, false));
  {
    std::string org = pstr("PidTagCompanyName"), dept = pstr("PidTagDepartmentName");
    if (!org.empty() || !dept.empty())
      emit(out, "ORG:" + escape_text(org, true) + (dept.empty() ? "" : ";" + escape_text(dept, true)));
  }
  if (auto s = pstr("PidTagTitle"); !s.empty()) emit(out, "TITLE:" + escape_text(s, false));
  if (auto s = pstr("PidTagProfession"); !s.empty()) emit(out, "ROLE:" + escape_text(s, false));
  const char* email_names[3] = {"PidLidEmail1EmailAddress", "PidLidEmail2EmailAddress", "PidLidEmail3EmailAddress"};
  for (int i = 0; i < 3; ++i) {
    std::string e = nstr(email_names[i]);
    if (e.empty()) continue;
    std::string params = v4 ? (i == 0 ? ";PREF=1" : "") : (i == 0 ? ";TYPE=INTERNET,PREF" : ";TYPE=INTERNET");
    emit(out, "EMAIL" + params + ":" + escape_text(e, false));
  }
  static const std::pair<const char*, const char*> phones[] = {
      {"PidTagBusinessTelephoneNumber", "work,voice"}, {"PidTagBusiness2TelephoneNumber", "work,voice"},
      {"PidTagHomeTelephoneNumber", "home,voice"},     {"PidTagHome2TelephoneNumber", "home,voice"},
      {"PidTagMobileTelephoneNumber", "cell"},         {"PidTagBusinessFaxNumber", "work,fax"},
      {"PidTagHomeFaxNumber", "home,fax"},             {"PidTagPrimaryFaxNumber", "fax"},
      {"PidTagPagerTelephoneNumber", "pager"},         {"PidTagCarTelephoneNumber", "car"},
      {"PidTagIsdnNumber", "isdn"},                    {"PidTagPrimaryTelephoneNumber", "pref"},
      {"PidTagTelecommunicationsDeviceForDeafTelephoneNumber", "textphone"},
      {"PidTagOtherTelephoneNumber", "voice"}};
  for (const auto& [name, type] : phones) {
    std::string s = pstr(name);
    if (s.empty()) continue;
    std::string t = type;
    std::string params;
    if (!v4) params = ";TYPE=" + upper(t);
    else if (t == "pref") params = ";TYPE=voice;PREF=1";
    else params = ";TYPE=\"" + t + "\"";
    emit(out, "TEL" + params + ":" + escape_text(s, false));
  }
  struct Adr {
    const char* type;
    bool named;
    const char* f[6];
  };
  static const Adr adrs[] = {
      {"HOME", false, {"PidTagHomeAddressPostOfficeBox", "PidTagHomeAddressStreet", "PidTagHomeAddressCity",
                       "PidTagHomeAddressStateOrProvince", "PidTagHomeAddressPostalCode", "PidTagHomeAddressCountry"}},
      {"WORK", true, {"PidLidWorkAddressPostOfficeBox", "PidLidWorkAddressStreet", "PidLidWorkAddressCity",
                      "PidLidWorkAddressState", "PidLidWorkAddressPostalCode", "PidLidWorkAddressCountry"}},
      {"", false, {"PidTagOtherAddressPostOfficeBox", "PidTagOtherAddressStreet", "PidTagOtherAddressCity",
                   "PidTagOtherAddressStateOrProvince", "PidTagOtherAddressPostalCode", "PidTagOtherAddressCountry"}}};
  for (const auto& a : adrs) {
    std::string f[6];
    bool any = false;
    for (int k = 0; k < 6; ++k) {
      f[k] = a.named ? nstr(a.f[k]) : pstr(a.f[k]);
      any |= !f[k].empty();
    }
    if (!any) continue;
    std::string type = *a.type ? std::string(a.type) : std::string(v4 ? "" : "");
    if (v4) type = lower(type);
    std::string line = "ADR" + (type.empty() ? std::string() : ";TYPE=" + type) + ":" + escape_text(f[0], true) + ";;" +
                       escape_text(f[1], true);
    for (int k = 2; k < 6; ++k) line += ";" + escape_text(f[k], true);
    emit(out, line);
  }
  if (auto v = c.props.get_i64(ptag("PidTagBirthday"))) emit(out, "BDAY:" + date_text(*v, version));
  if (auto v = c.props.get_i64(ptag("PidTagWeddingAnniversary")))
    emit(out, std::string(v4 ? "ANNIVERSARY:" : "X-MS-ANNIVERSARY:") + date_text(*v, version));
  if (auto s = str(tags::PidTagBody); !s.empty()) emit(out, "NOTE:" + escape_text(s, false));
  if (auto s = pstr("PidTagBusinessHomePage"); !s.empty()) emit(out, std::string("URL;TYPE=") + (v4 ? "work" : "WORK") + ":" + s);
  if (auto s = pstr("PidTagPersonalHomePage"); !s.empty()) emit(out, std::string("URL;TYPE=") + (v4 ? "home" : "HOME") + ":" + s);
  if (auto t = ntag_find(names, "PidNameKeywords")) {
    if (const PropValue* v = c.props.find(*t)) {
      if (auto* list = v->get_if<std::vector<std::string>>(); list && !list->empty()) {
        std::string line = "CATEGORIES:";
        for (size_t i = 0; i < list->size(); ++i) line += (i ? "," : "") + escape_text((*list)[i], false);
        emit(out, line);
      }
    }
  }
  if (auto s = nstr("PidLidInstantMessagingAddress"); !s.empty()) emit(out, "X-MS-IMADDRESS:" + escape_text(s, false));
  if (auto s = pstr("PidTagManagerName"); !s.empty()) emit(out, "X-MS-MANAGER:" + escape_text(s, false));
  if (auto s = pstr("PidTagAssistant"); !s.empty()) emit(out, "X-MS-ASSISTANT:" + escape_text(s, false));
  for (const auto& a : c.attachments) {
    if (!a.props.get_bool(ptag("PidTagAttachmentContactPhoto")).value_or(false)) continue;
    const PropValue* d = a.props.find(tags::PidTagAttachDataBinary);
    if (!d) continue;
    std::string mime = a.props.get_string(tags::PidTagAttachMimeTag).value_or("image/jpeg");
    const Bytes& b = d->get<Bytes>();
    if (v4) {
      emit(out, "PHOTO:data:" + mime + ";base64," + base64_encode(b));
    } else {
      std::string t = mime.rfind("image/", 0) == 0 ? upper(mime.substr(6)) : "JPEG";
      emit(out, "PHOTO;ENCODING=b;TYPE=" + t + ":" + base64_encode(b));
    }
    break;
  }
  emit(out, "END:VCARD");
  return out;
}

}  // namespace openmapi::vcard
