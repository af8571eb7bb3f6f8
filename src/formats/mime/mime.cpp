#include "formats/mime/mime.h"

#include "formats/mime/dsn.h"

#include <gmime/gmime.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "core/entryid.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "formats/body/body.h"
#include "formats/tnef/tnef.h"

namespace openmapi::formats {
namespace {

// ---- tags used here (MS-OXPROPS) ------------------------------------------------
constexpr PropTag PidTagReplyRecipientEntries{0x004F, PropType::Binary};
constexpr PropTag PidTagReplyRecipientNames{0x0050, PropType::String};
constexpr PropTag PidTagSentRepresentingEntryId{0x0041, PropType::Binary};
constexpr PropTag PidTagSentRepresentingSearchKey{0x003B, PropType::Binary};
constexpr PropTag PidTagSentRepresentingAddressType{0x0064, PropType::String};
constexpr PropTag PidTagSentRepresentingSmtpAddress{0x5D02, PropType::String};
constexpr PropTag PidTagSenderEntryId{0x0C19, PropType::Binary};
constexpr PropTag PidTagSenderSearchKey{0x0C1D, PropType::Binary};
constexpr PropTag PidTagSenderSmtpAddress{0x5D01, PropType::String};
constexpr PropTag PidTagInternetReferences{0x1039, PropType::String};
constexpr PropTag PidTagInReplyToId{0x1042, PropType::String};
constexpr PropTag PidTagAttachContentLocation{0x3713, PropType::String};
constexpr PropTag PidTagAttachmentHidden{0x7FFE, PropType::Boolean};
constexpr int32_t kAttachMhtmlRef = 0x4;  // PidTagAttachFlags ATT_MHTML_REF

// ---- GObject ownership --------------------------------------------------------------
template <class T>
struct GPtr {
  T* p = nullptr;
  GPtr() = default;
  explicit GPtr(T* x) : p(x) {}
  GPtr(const GPtr&) = delete;
  GPtr& operator=(const GPtr&) = delete;
  GPtr(GPtr&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
  ~GPtr() {
    if (p) g_object_unref(p);
  }
  T* get() const { return p; }
  T* release() { return std::exchange(p, nullptr); }
  explicit operator bool() const { return p != nullptr; }
};

struct GFree {
  char* p;
  explicit GFree(char* x) : p(x) {}
  ~GFree() { g_free(p); }
  std::string str() const { return p ? std::string(p) : std::string(); }
};

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return std::string(s.substr(b, e - b));
}

std::string unfold(std::string_view v);

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// windows-1252 (which is what mail labelled ISO-8859-1 or US-ASCII means in practice, as the
// WHATWG Encoding Standard and mail clients treat it): 0x80-0x9F map to these code points.
constexpr uint16_t kCp1252High[32] = {0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                                      0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

std::string from_cp1252(std::string_view s) {
  std::string out;
  for (unsigned char c : s) append_utf8(out, c >= 0x80 && c < 0xA0 ? kCp1252High[c - 0x80] : c);
  return out;
}

// UTF-8 with each invalid byte replaced by U+FFFD.
std::string lossy_utf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    if (i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// Text in a MIME charset, as UTF-8. Unknown or failing charsets fall back to windows-1252
// (or UTF-8 when the bytes are valid UTF-8), so that text is never lost.
std::string to_utf8(std::string_view bytes, std::string charset) {
  charset = lower(trim(charset));
  if (charset.empty() || charset == "x-unknown" || charset == "unknown-8bit" || charset == "unknown")
    return is_valid_utf8(bytes) ? std::string(bytes) : from_cp1252(bytes);
  if (charset == "utf-8" || charset == "utf8") return lossy_utf8(bytes);
  if (charset == "us-ascii" || charset == "ascii" || charset == "iso-8859-1" || charset == "iso_8859-1" ||
      charset == "latin1" || charset == "l1" || charset == "windows-1252" || charset == "cp1252")
    return is_valid_utf8(bytes) && charset.find("ascii") != std::string::npos ? std::string(bytes) : from_cp1252(bytes);
  if (charset == "ks_c_5601-1987") charset = "cp949";  // the label Outlook uses
  gsize written = 0;
  GError* err = nullptr;
  char* out = g_convert(bytes.data(), gssize(bytes.size()), "UTF-8", charset.c_str(), nullptr, &written, &err);
  if (!out) {
    g_clear_error(&err);
    return is_valid_utf8(bytes) ? std::string(bytes) : from_cp1252(bytes);
  }
  std::string result(out, written);
  g_free(out);
  return result;
}

// RFC 3676: text/plain; format=flowed joins soft-broken lines (a line ending in a space goes on
// in the next one; with delsp=yes that space goes too), after removing space-stuffing.
std::string unflow(const std::string& text, bool delsp) {
  std::string out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(i, nl - i);
    bool had_cr = !line.empty() && line.back() == '\r';
    if (had_cr) line.pop_back();
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);  // space-stuffing
    bool soft = !line.empty() && line.back() == ' ' && line != "-- ";
    if (soft && delsp) line.pop_back();
    out += line;
    if (nl == text.size()) break;
    if (!soft) out += had_cr ? "\r\n" : "\n";
    i = nl + 1;
  }
  return out;
}

// Header values may carry raw 8-bit text; the model wants UTF-8.
std::string clean_utf8(std::string s) { return is_valid_utf8(s) ? s : from_cp1252(s); }

// RFC 2047 decoding of an unstructured header value (Subject): each encoded word is decoded on
// its own, whitespace between adjacent encoded words is dropped, and the bytes of adjacent words
// in one charset are joined before conversion so that a character split across words survives.
std::string decode_rfc2047(std::string_view v) {
  std::string out, pending, pending_charset;
  auto flush = [&] {
    if (!pending.empty()) out += to_utf8(pending, pending_charset);
    pending.clear();
  };
  size_t i = 0;
  bool last_was_word = false;
  while (i < v.size()) {
    size_t start = v.find("=?", i);
    size_t q1 = start == std::string_view::npos ? std::string_view::npos : v.find('?', start + 2);
    size_t q2 = q1 == std::string_view::npos ? std::string_view::npos : v.find('?', q1 + 1);
    size_t end = q2 == std::string_view::npos ? std::string_view::npos : v.find("?=", q2 + 1);
    if (end == std::string_view::npos || q2 != q1 + 2) {
      flush();
      out += clean_utf8(std::string(v.substr(i)));
      break;
    }
    std::string_view between = v.substr(i, start - i);
    bool blank = between.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!(last_was_word && blank)) {
      flush();
      out += clean_utf8(std::string(between));
    }
    std::string charset = lower(std::string(v.substr(start + 2, q1 - start - 2)));
    if (size_t star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
    char enc = char(std::tolower(static_cast<unsigned char>(v[q1 + 1])));
    std::string_view text = v.substr(q2 + 1, end - q2 - 1);
    std::string bytes;
    if (enc == 'b') {
      gsize n = 0;
      std::string t(text);
      while (t.size() % 4) t += '=';
      guchar* d = g_base64_decode(t.c_str(), &n);
      bytes.assign(reinterpret_cast<char*>(d), n);
      g_free(d);
    } else {
      for (size_t k = 0; k < text.size(); ++k) {
        if (text[k] == '_') bytes += ' ';
        else if (text[k] == '=' && k + 2 < text.size() && g_ascii_isxdigit(text[k + 1]) && g_ascii_isxdigit(text[k + 2])) {
          bytes += char(g_ascii_xdigit_value(text[k + 1]) * 16 + g_ascii_xdigit_value(text[k + 2]));
          k += 2;
        } else bytes += text[k];
      }
    }
    if (charset != pending_charset) flush();
    pending_charset = charset;
    pending += bytes;
    last_was_word = true;
    i = end + 2;
  }
  flush();
  return out;
}

// The raw value of the first header `name`, unfolded.
std::optional<std::string> first_header(GMimeObject* obj, const char* name) {
  GMimeHeaderList* headers = g_mime_object_get_header_list(obj);
  for (int i = 0, n = g_mime_header_list_get_count(headers); i < n; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
    if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0) {
      const char* raw = g_mime_header_get_raw_value(h);
      return unfold(raw ? raw : "");
    }
  }
  return std::nullopt;
}

// Unfolds a raw header value (RFC 5322 2.2.3: the line breaks go, the whitespace after them stays).
std::string unfold(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n') out += c;
  return trim(out);
}

Bytes stream_bytes(GMimeStream* stream) {
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
  return arr ? Bytes(arr->data, arr->data + arr->len) : Bytes();
}

// The decoded content of a leaf part (transfer encoding removed, charset untouched).
Bytes part_content(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return {};
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(wrapper, mem.get());
  return stream_bytes(mem.get());
}

// An entity written out whole, as it was (for opaque S/MIME content).
Bytes entity_bytes(GMimeObject* obj) {
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  GMimeFormatOptions* opts = g_mime_format_options_clone(nullptr);
  g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
  g_mime_object_write_to_stream(obj, opts, mem.get());
  g_mime_format_options_free(opts);
  return stream_bytes(mem.get());
}

std::string mime_type(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (!ct) return "text/plain";
  return lower(GFree(g_mime_content_type_get_mime_type(ct)).str());
}

bool is_attachment_disposition(GMimeObject* obj) {
  GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
  return d && g_mime_content_disposition_is_attachment(d);
}

// ---- addresses ----------------------------------------------------------------------------

// The domain of the addresses write_mime encapsulates (IMCEA, below): RFC 2606's reserved
// "invalid", since a file converter has no mail domain of its own, and the one domain
// parse_mime de-encapsulates.
constexpr const char* kEncapsulationDomain = "invalid";

// MS-OXCMAIL 2.1.3.1.8: an address of another type (an Exchange DN, a fax number) as an SMTP
// address, "IMCEA" type "-" the address with "/" as "_" and every octet but letters, digits,
// "-" and "=" as "+" and two hex digits, "@" domain.
std::string imcea_encapsulate(const std::string& type, const std::string& address, const std::string& domain) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "IMCEA" + type + "-";
  for (unsigned char c : address) {
    if (std::isalnum(c) && c < 0x80) out += char(c);
    else if (c == '-' || c == '=') out += char(c);
    else if (c == '/') out += '_';
    else out += '+', out += kHex[c >> 4], out += kHex[c & 15];
  }
  return out + "@" + domain;
}

// Its inverse (MS-OXCMAIL 2.5.x), for addresses in `domain` only, as the specification asks
// (de-encapsulate only what a local server would): the type and the address, or nullopt.
std::optional<std::pair<std::string, std::string>> imcea_decapsulate(const std::string& smtp, const std::string& domain) {
  if (smtp.size() < 6 || lower(smtp.substr(0, 5)) != "imcea") return std::nullopt;
  const size_t dash = smtp.find('-', 5), at = smtp.rfind('@');
  if (dash == std::string::npos || at == std::string::npos || at < dash || dash == 5) return std::nullopt;
  if (lower(smtp.substr(at + 1)) != lower(domain)) return std::nullopt;
  std::string address;
  for (size_t i = dash + 1; i < at; ++i) {
    const char c = smtp[i];
    if (c == '_') {
      address += '/';
    } else if (c == '+' && i + 2 < at && std::isxdigit(static_cast<unsigned char>(smtp[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(smtp[i + 2]))) {
      address += char(std::stoi(smtp.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      address += c;
    }
  }
  return std::make_pair(smtp.substr(5, dash - 5), address);
}

// An address as MAPI keeps it: the name, the address and its type ("SMTP"; the original type
// of a de-encapsulated address; "" for a name without an address, from an empty group).
struct Mailbox {
  std::string name, address;
  std::string type = "SMTP";
};

// RFC 5322 groups do not nest; GMime reads a header full of colons as groups inside groups
// (thousands deep in a hostile header), so members are followed this far and no further.
constexpr int kMaxGroupDepth = 4;

void collect_mailboxes(InternetAddressList* list, std::vector<Mailbox>& out, int depth = 0) {
  if (!list || depth > kMaxGroupDepth) return;
  int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      InternetAddressList* members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
      const char* name = internet_address_get_name(ia);
      // "Name:;" is how write_mime keeps a name that has no address.
      if (internet_address_list_length(members) == 0 && name && *name) out.push_back(Mailbox{clean_utf8(name), "", ""});
      collect_mailboxes(members, out, depth + 1);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      const char* name = internet_address_get_name(ia);
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
      Mailbox m{clean_utf8(name ? name : ""), clean_utf8(addr ? addr : "")};
      if (auto original = imcea_decapsulate(m.address, kEncapsulationDomain)) {
        m.type = original->first;
        m.address = original->second;
      }
      if (!m.name.empty() || !m.address.empty()) out.push_back(std::move(m));
    }
  }
}


Bytes one_off(const Mailbox& m) {
  OneOffEntryId e;
  e.display_name = m.name.empty() ? m.address : m.name;
  e.address_type = m.type;
  e.email_address = m.address;
  return e.serialize();
}

PropertyBag recipient_bag(const Mailbox& m, int32_t type) {
  if (m.type.empty()) return PropertyBag{PropValue::i32(tags::PidTagRecipientType, type), PropValue::string(tags::PidTagDisplayName, m.name)};
  if (m.type != "SMTP")
    return PropertyBag{
        PropValue::i32(tags::PidTagRecipientType, type),
        PropValue::string(tags::PidTagDisplayName, m.name.empty() ? m.address : m.name),
        PropValue::string(tags::PidTagAddressType, m.type),
        PropValue::string(tags::PidTagEmailAddress, m.address),
        PropValue::binary(tags::PidTagEntryId, one_off(m)),
        PropValue::binary(tags::PidTagSearchKey, address_search_key(m.type, m.address)),
    };
  return PropertyBag{
      PropValue::i32(tags::PidTagRecipientType, type),
      PropValue::string(tags::PidTagDisplayName, m.name.empty() ? m.address : m.name),
      PropValue::string(tags::PidTagAddressType, "SMTP"),
      PropValue::string(tags::PidTagEmailAddress, m.address),
      PropValue::string(tags::PidTagSmtpAddress, m.address),
      PropValue::binary(tags::PidTagEntryId, one_off(m)),
      PropValue::binary(tags::PidTagSearchKey, address_search_key("SMTP", m.address)),
  };
}

// MS-OXCDATA 2.3.3 FlatEntryList: count, total size, then (size, entry ID, padding to 4).
Bytes flat_entry_list(const std::vector<Bytes>& entries) {
  BinaryWriter body;
  for (const auto& e : entries) {
    body.u32(uint32_t(e.size()));
    body.bytes(e);
    while (body.size() % 4) body.u8(0);
  }
  BinaryWriter w;
  w.u32(uint32_t(entries.size()));
  w.u32(uint32_t(body.size()));
  w.bytes(body.data());
  return w.take();
}

std::vector<Bytes> parse_flat_entry_list(ByteView data) {
  BinaryReader r(data);
  uint32_t count = r.u32();
  r.u32();
  r.need_elements(count, 4);
  std::vector<Bytes> out;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t n = r.u32();
    out.push_back(r.copy(n));
    r.skip(std::min<size_t>((4 - n % 4) % 4, r.remaining()));
  }
  return out;
}

// ---- dates ----------------------------------------------------------------------------------

int64_t filetime_of(GDateTime* dt) {
  int64_t unix_us = g_date_time_to_unix(dt) * 1'000'000 + g_date_time_get_microsecond(dt);
  return to_filetime(SysTime(std::chrono::microseconds(unix_us)));
}

// The date of the topmost Received header ("...; <date>"), which is when the message arrived.
std::optional<int64_t> received_time(GMimeObject* obj) {
  GMimeHeaderList* headers = g_mime_object_get_header_list(obj);
  int n = g_mime_header_list_get_count(headers);
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
    if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Received") != 0) continue;
    std::string v = unfold(g_mime_header_get_raw_value(h) ? g_mime_header_get_raw_value(h) : "");
    size_t semi = v.rfind(';');
    if (semi == std::string::npos) return std::nullopt;
    GDateTime* dt = g_mime_utils_header_decode_date(v.c_str() + semi + 1);
    if (!dt) return std::nullopt;
    int64_t ft = filetime_of(dt);
    g_date_time_unref(dt);
    return ft;
  }
  return std::nullopt;
}

// ---- the parser ------------------------------------------------------------------------------

class MimeReader {
 public:
  explicit MimeReader(NamedPropertyMap& names) : names_(names) {}

  Message read_message(GMimeMessage* msg) {
    Message m;
    auto& p = m.props;
    GMimeObject* obj = GMIME_OBJECT(msg);
    p.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
    p.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read));

    // Subject (MS-OXCMAIL 2.2.3.2.14; MS-OXOMSG PidTagSubjectPrefix).
    // The first Subject header, decoded word by word (RFC 2047 6.2).
    std::string subject = decode_rfc2047(first_header(obj, "Subject").value_or(""));
    std::string prefix = subject_prefix(subject);
    std::string normalized = subject.substr(prefix.size());
    p.set(PropValue::string(tags::PidTagSubject, subject));
    p.set(PropValue::string(tags::PidTagSubjectPrefix, prefix));
    p.set(PropValue::string(tags::PidTagNormalizedSubject, normalized));
    p.set(PropValue::string(tags::PidTagConversationTopic, normalized));

    // Originator, sender, reply-to.
    std::vector<Mailbox> from, sender, reply_to;
    collect_mailboxes(g_mime_message_get_from(msg), from);
    collect_mailboxes(g_mime_message_get_sender(msg), sender);
    collect_mailboxes(g_mime_message_get_reply_to(msg), reply_to);
    if (sender.empty()) sender = from;
    // An originator: its name, and its address, type, entry ID and search key when it has an
    // address (an SMTP one also as the SMTP address property).
    auto originator = [&](const Mailbox& a, PropTag name, PropTag email, PropTag type, PropTag smtp, PropTag entry, PropTag key) {
      p.set(PropValue::string(name, a.name.empty() ? a.address : a.name));
      if (a.type.empty()) return;
      p.set(PropValue::string(email, a.address));
      p.set(PropValue::string(type, a.type));
      if (a.type == "SMTP") p.set(PropValue::string(smtp, a.address));
      p.set(PropValue::binary(entry, one_off(a)));
      p.set(PropValue::binary(key, address_search_key(a.type, a.address)));
    };
    if (!from.empty())
      originator(from.front(), tags::PidTagSentRepresentingName, tags::PidTagSentRepresentingEmailAddress, PidTagSentRepresentingAddressType,
                 PidTagSentRepresentingSmtpAddress, PidTagSentRepresentingEntryId, PidTagSentRepresentingSearchKey);
    if (!sender.empty())
      originator(sender.front(), tags::PidTagSenderName, tags::PidTagSenderEmailAddress, tags::PidTagSenderAddressType,
                 PidTagSenderSmtpAddress, PidTagSenderEntryId, PidTagSenderSearchKey);
    if (!reply_to.empty()) {
      std::string names;
      std::vector<Bytes> entries;
      for (const auto& r : reply_to) {
        names += (names.empty() ? "" : "; ") + (r.name.empty() ? r.address : r.name);
        entries.push_back(one_off(r));
      }
      p.set(PropValue::string(PidTagReplyRecipientNames, names));
      p.set(PropValue::binary(PidTagReplyRecipientEntries, flat_entry_list(entries)));
    }

    // Recipients, and the display lists derived from them.
    const std::pair<GMimeAddressType, int32_t> kinds[] = {{GMIME_ADDRESS_TYPE_TO, recipient_type::To},
                                                          {GMIME_ADDRESS_TYPE_CC, recipient_type::Cc},
                                                          {GMIME_ADDRESS_TYPE_BCC, recipient_type::Bcc}};
    const PropTag displays[] = {tags::PidTagDisplayTo, tags::PidTagDisplayCc, tags::PidTagDisplayBcc};
    for (size_t k = 0; k < 3; ++k) {
      std::vector<Mailbox> list;
      collect_mailboxes(g_mime_message_get_addresses(msg, kinds[k].first), list);
      std::string display;
      for (const auto& r : list) {
        m.recipients.push_back(recipient_bag(r, kinds[k].second));
        display += (display.empty() ? "" : "; ") + (r.name.empty() ? r.address : r.name);
      }
      p.set(PropValue::string(displays[k], display));
    }

    // Dates (MS-OXCMAIL 2.2.3.2.x): Date is the submit time, the first Received the delivery time.
    if (GDateTime* dt = g_mime_message_get_date(msg)) {
      int64_t ft = filetime_of(dt);
      p.set(PropValue::time(tags::PidTagClientSubmitTime, ft));
      p.set(PropValue::time(tags::PidTagMessageDeliveryTime, received_time(obj).value_or(ft)));
    } else if (auto rt = received_time(obj)) {
      p.set(PropValue::time(tags::PidTagMessageDeliveryTime, *rt));
    }

    // Identification and threading.
    if (const char* id = g_mime_message_get_message_id(msg); id && *id)
      p.set(PropValue::string(tags::PidTagInternetMessageId, "<" + clean_utf8(id) + ">"));
    if (const char* v = g_mime_object_get_header(obj, "In-Reply-To"))
      if (std::string s = unfold(v); !s.empty()) p.set(PropValue::string(PidTagInReplyToId, clean_utf8(s)));
    if (const char* v = g_mime_object_get_header(obj, "References"))
      if (std::string s = unfold(v); !s.empty()) p.set(PropValue::string(PidTagInternetReferences, clean_utf8(s)));

    // Importance, priority, sensitivity (MS-OXCMAIL 2.2.3.2.x).
    int32_t importance = 1;
    if (const char* v = g_mime_object_get_header(obj, "Importance")) {
      std::string s = lower(trim(v));
      importance = s == "high" ? 2 : s == "low" ? 0 : 1;
    } else if (const char* xp = g_mime_object_get_header(obj, "X-Priority")) {
      int n = std::atoi(trim(xp).c_str());
      importance = (n == 1 || n == 2) ? 2 : (n == 4 || n == 5) ? 0 : 1;
    }
    p.set(PropValue::i32(tags::PidTagImportance, importance));
    if (const char* v = g_mime_object_get_header(obj, "Priority")) {
      std::string s = lower(trim(v));
      p.set(PropValue::i32(tags::PidTagPriority, s == "urgent" ? 1 : s == "non-urgent" ? -1 : 0));
    }
    if (const char* v = g_mime_object_get_header(obj, "Sensitivity")) {
      std::string s = lower(trim(v));
      int32_t sens = s == "personal" ? 1 : s == "private" ? 2 : s == "company-confidential" ? 3 : 0;
      p.set(PropValue::i32(tags::PidTagSensitivity, sens));
    }

    // The header block, and X- headers as PS_INTERNET_HEADERS named properties.
    GFree headers(g_mime_object_get_headers(obj, nullptr));
    p.set(PropValue::string(tags::PidTagTransportMessageHeaders, clean_utf8(headers.str())));
    GMimeHeaderList* list = g_mime_object_get_header_list(obj);
    for (int i = 0, n = g_mime_header_list_get_count(list); i < n; ++i) {
      GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
      std::string name = g_mime_header_get_name(h);
      if (name.size() < 3 || lower(name.substr(0, 2)) != "x-") continue;
      const char* value = g_mime_header_get_value(h);
      uint16_t id = names_.get_or_create(PropertyName::by_name(propset::PS_INTERNET_HEADERS, lower(name)), true);
      p.set(PropValue::string(PropTag(id, PropType::String), clean_utf8(value ? value : "")));
    }

    // Body and attachments.
    GMimeObject* root = g_mime_message_get_mime_part(msg);
    if (root) walk(root, m, false);
    finish_bodies(m);
    if (root) read_report(root, m);
    return m;
  }

 private:
  // A delivery status notification (multipart/report; report-type=delivery-status, RFC 3462 and
  // 3464; RFC 6533's global form too) becomes the MAPI report MS-OXCMAIL 2.2.3.7.1 describes. One
  // whose status part does not read stays an ordinary message.
  void read_report(GMimeObject* root, Message& m) {
    if (!GMIME_IS_MULTIPART(root) || mime_type(root) != "multipart/report") return;
    const char* report_type = g_mime_object_get_content_type_parameter(root, "report-type");
    if (!report_type || (lower(report_type) != "delivery-status" && lower(report_type) != "global-delivery-status")) return;
    GMimeMultipart* mp = GMIME_MULTIPART(root);
    for (int i = 0, n = g_mime_multipart_get_count(mp); i < n; ++i) {
      GMimeObject* child = g_mime_multipart_get_part(mp, i);
      if (!GMIME_IS_PART(child)) continue;
      const std::string type = mime_type(child);
      if (type != "message/delivery-status" && type != "message/global-delivery-status") continue;
      const Bytes body = part_content(GMIME_PART(child));
      try {
        const DeliveryStatus status = parse_delivery_status(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
        apply_delivery_status(m, status, m.props.get_i64(tags::PidTagClientSubmitTime).value_or(0));
      } catch (const MapiError&) {
        continue;  // a status part that does not read (prose under that type, seen in the wild): maybe a later one does
      }
      // The report's third part is the original message or its header (RFC 3462 2): its subject
      // is the report's PidTagOriginalSubject.
      if (i + 1 < n) {
        GMimeObject* original = g_mime_multipart_get_part(mp, i + 1);
        std::optional<std::string> subject;
        if (GMIME_IS_MESSAGE_PART(original)) {
          if (GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(original)))
            subject = decode_rfc2047(first_header(GMIME_OBJECT(inner), "Subject").value_or(""));
        } else if (GMIME_IS_PART(original) && (mime_type(original) == "text/rfc822-headers" || mime_type(original) == "text/global-headers")) {
          const Bytes h = part_content(GMIME_PART(original));
          GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(h.data()), h.size()));
          GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
          GPtr<GMimeMessage> headers(g_mime_parser_construct_message(parser.get(), nullptr));
          if (headers) subject = decode_rfc2047(first_header(GMIME_OBJECT(headers.get()), "Subject").value_or(""));
        }
        if (subject) m.props.set(PropValue::string(tags::PidTagOriginalSubject, *subject));
      }
      return;
    }
  }

  void walk(GMimeObject* obj, Message& m, bool in_related) {
    if (GMIME_IS_MULTIPART_SIGNED(obj)) {
      // MS-OXOSMIME 2.1.3.2: a clear-signed message keeps the whole multipart/signed entity in
      // one attachment; its first part is shown as the body.
      m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note.SMIME.MultipartSigned"));
      add_opaque(m, obj, "multipart/signed");
      if (GMimeObject* signed_part = g_mime_multipart_get_part(GMIME_MULTIPART(obj), 0)) {
        Message scratch;  // the signed content's bodies only; its attachments live inside the entity
        walk(signed_part, scratch, false);
        for (auto* tag : {&tags::PidTagBody, &tags::PidTagHtml})
          if (const PropValue* v = scratch.props.find(*tag)) m.props.set(*v);
        if (auto cp = scratch.props.get_i32(tags::PidTagInternetCodepage)) m.props.set(PropValue::i32(tags::PidTagInternetCodepage, *cp));
      }
      return;
    }
    if (GMIME_IS_APPLICATION_PKCS7_MIME(obj) || GMIME_IS_MULTIPART_ENCRYPTED(obj)) {
      m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note.SMIME"));
      add_opaque(m, obj, mime_type(obj));
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      std::string type = mime_type(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(mp, i);
        // In multipart/related, parts after the root are resources the HTML refers to.
        walk(child, m, type == "multipart/related" && i > 0);
      }
      return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      Attachment a;
      a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
      a.props.set(PropValue::string(tags::PidTagAttachMimeTag, mime_type(obj)));
      a.props.set(PropValue::i32(tags::PidTagRenderingPosition, -1));
      if (inner) {
        a.embedded = std::make_unique<Message>(read_message(inner));
        a.props.set(PropValue::string(tags::PidTagDisplayName, a.embedded->props.get_string(tags::PidTagSubject).value_or("")));
      } else {
        a.embedded = std::make_unique<Message>();
      }
      m.attachments.push_back(std::move(a));
      return;
    }
    if (!GMIME_IS_PART(obj)) return;
    GMimePart* part = GMIME_PART(obj);
    std::string type = mime_type(obj);
    bool attachment = is_attachment_disposition(obj) || in_related;
    if (!attachment && (type == "text/plain" || type == "text/html") && !has_body(m, type)) {
      add_body(m, part, type);
      return;
    }
    // MS-OXCMAIL 2.4.3.4: a TNEF part (winmail.dat) carries the message's MAPI properties and
    // attachments; it is merged into the message. One that does not read stays an attachment.
    std::string filename = lower(part_filename(part));
    if (type == "application/ms-tnef" || filename == "winmail.dat") {
      Bytes data = part_content(part);
      try {
        tnef::apply_tnef(m, data, names_);
        return;
      } catch (const MapiError&) {
      }
    }
    add_attachment(m, part, type, in_related);
  }

  static bool has_body(const Message& m, const std::string& type) {
    return m.props.has(type == "text/html" ? tags::PidTagHtml : tags::PidTagBody);
  }

  void add_body(Message& m, GMimePart* part, const std::string& type) {
    Bytes raw = part_content(part);
    const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    std::string text = to_utf8(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()), charset ? charset : "");
    const int32_t cp = 65001;  // the bodies are stored as UTF-8
    if (type == "text/plain") {
      const char* format = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "format");
      const char* delsp = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "delsp");
      if (format && g_ascii_strcasecmp(format, "flowed") == 0) text = unflow(text, delsp && g_ascii_strcasecmp(delsp, "yes") == 0);
    }
    if (type == "text/html") {
      m.props.set(PropValue::binary(tags::PidTagHtml, Bytes(text.begin(), text.end())));
    } else {
      m.props.set(PropValue::string(tags::PidTagBody, text));
    }
    m.props.set(PropValue::i32(tags::PidTagInternetCodepage, cp));
  }

  void add_attachment(Message& m, GMimePart* part, const std::string& type, bool inline_resource) {
    GMimeObject* obj = GMIME_OBJECT(part);
    Attachment a;
    Bytes data = part_content(part);
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachMimeTag, type));
    std::string filename = part_filename(part);
    if (!filename.empty()) {
      a.props.set(PropValue::string(tags::PidTagAttachLongFilename, filename));
      a.props.set(PropValue::string(tags::PidTagAttachFilename, filename));
      a.props.set(PropValue::string(tags::PidTagDisplayName, filename));
      if (size_t dot = filename.rfind('.'); dot != std::string::npos && dot + 1 < filename.size())
        a.props.set(PropValue::string(tags::PidTagAttachExtension, filename.substr(dot)));
    }
    if (const char* cid = g_mime_object_get_content_id(obj); cid && *cid)
      a.props.set(PropValue::string(tags::PidTagAttachContentId, clean_utf8(cid)));
    if (const char* loc = g_mime_part_get_content_location(part); loc && *loc)
      a.props.set(PropValue::string(PidTagAttachContentLocation, clean_utf8(loc)));
    GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
    bool is_inline = inline_resource || (d && !g_mime_content_disposition_is_attachment(d) &&
                                         g_mime_object_get_content_id(obj));
    if (is_inline) {
      a.props.set(PropValue::i32(tags::PidTagAttachFlags, kAttachMhtmlRef));
      a.props.set(PropValue::boolean(PidTagAttachmentHidden, true));
    }
    a.props.set(PropValue::i32(tags::PidTagAttachSize, int32_t(std::min<size_t>(data.size(), INT32_MAX))));
    a.props.set(PropValue::i32(tags::PidTagRenderingPosition, -1));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, std::move(data)));
    m.attachments.push_back(std::move(a));
  }

  void add_opaque(Message& m, GMimeObject* obj, const std::string& type) {
    Attachment a;
    Bytes data = entity_bytes(obj);
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachMimeTag, type));
    a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "smime.p7m"));
    a.props.set(PropValue::string(tags::PidTagAttachFilename, "smime.p7m"));
    a.props.set(PropValue::string(tags::PidTagDisplayName, "smime.p7m"));
    a.props.set(PropValue::i32(tags::PidTagAttachSize, int32_t(std::min<size_t>(data.size(), INT32_MAX))));
    a.props.set(PropValue::i32(tags::PidTagRenderingPosition, -1));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, std::move(data)));
    m.attachments.push_back(std::move(a));
  }

  static std::string part_filename(GMimePart* part) {
    const char* f = g_mime_part_get_filename(part);
    return f ? clean_utf8(f) : std::string();
  }

  static void finish_bodies(Message& m) {
    int32_t flags = m.props.get_i32(tags::PidTagMessageFlags).value_or(0);
    if (!m.attachments.empty()) flags |= msgflag::HasAttach;
    m.props.set(PropValue::i32(tags::PidTagMessageFlags, flags));
    // A TNEF part may have said already (a message whose attachments are all hidden, say).
    if (!m.props.has(tags::PidTagHasAttachments))
      m.props.set(PropValue::boolean(tags::PidTagHasAttachments, !m.attachments.empty()));
  }

  NamedPropertyMap& names_;
};

// ---- the writer --------------------------------------------------------------------------------

GDateTime* date_time_of(int64_t ft) {
  int64_t us = from_filetime(ft).time_since_epoch().count();
  GDateTime* base = g_date_time_new_from_unix_utc(us / 1'000'000);
  return base;
}

void add_mailbox(GMimeMessage* msg, GMimeAddressType type, const std::string& name, const std::string& address) {
  g_mime_message_add_mailbox(msg, type, name == address ? "" : name.c_str(), address.c_str());
}

// The headers write_mime makes itself: a copy among the PS_INTERNET_HEADERS properties (Outlook
// keeps PidNameContentType there, the original message's multipart type and boundary) would
// come out a second time, and a reader takes the first (no body, no attachments).
bool is_written_header(const std::string& lower_name) {
  static const std::set<std::string> kOwn = {
      "content-type", "content-transfer-encoding", "content-disposition", "content-id", "content-location",
      "content-description", "content-base", "mime-version", "from", "sender", "reply-to", "to", "cc", "bcc",
      "subject", "date", "message-id", "in-reply-to", "references", "importance", "priority", "sensitivity"};
  return kOwn.count(lower_name) > 0;
}

class MimeWriter {
 public:
  MimeWriter(const NamedPropertyMap& names, const MimeWriteOptions& options) : names_(names), options_(options) {}

  GMimeMessage* build(const Message& m) {
    GMimeMessage* msg = g_mime_message_new(TRUE);
    GMimeObject* obj = GMIME_OBJECT(msg);
    const auto& p = m.props;
    auto str = [&](PropTag t) { return p.get_string(t).value_or(""); };

    if (auto s = p.get_string(tags::PidTagSubject)) g_mime_message_set_subject(msg, s->c_str(), "utf-8");
    std::string from_addr = internet(str(PidTagSentRepresentingSmtpAddress), str(PidTagSentRepresentingAddressType),
                                     str(tags::PidTagSentRepresentingEmailAddress));
    std::string from_name = str(tags::PidTagSentRepresentingName);
    std::string sender_addr = internet(str(PidTagSenderSmtpAddress), str(tags::PidTagSenderAddressType), str(tags::PidTagSenderEmailAddress));
    // No address of its own: the sender's, when the sender is the same person (or unnamed).
    if (from_addr.empty() && (from_name.empty() || from_name == str(tags::PidTagSenderName))) {
      from_addr = sender_addr;
      if (from_name.empty()) from_name = str(tags::PidTagSenderName);
    }
    // A name without any address is the group "name:;", which RFC 6854 allows in From.
    add_address(msg, GMIME_ADDRESS_TYPE_FROM, from_name, from_addr);
    if (!sender_addr.empty() && sender_addr != from_addr)
      add_mailbox(msg, GMIME_ADDRESS_TYPE_SENDER, str(tags::PidTagSenderName), sender_addr);
    if (const PropValue* rt = p.find(PidTagReplyRecipientEntries); rt && rt->get_if<Bytes>()) {
      try {
        for (const auto& e : parse_flat_entry_list(*rt->get_if<Bytes>())) {
          OneOffEntryId o = OneOffEntryId::parse(e);
          add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, o.display_name, o.email_address);
        }
      } catch (const MapiError&) {
        // Reply-to entries that are not one-off entry IDs have no Internet address to write.
      }
    }
    // A delivery report is addressed to who received it; its recipient table is the reported
    // recipients, written in its message/delivery-status part (MS-OXCMAIL 2.1.3.6).
    const bool report = is_delivery_report_class(str(tags::PidTagMessageClass));
    if (report) {
      for (auto [n, t, e, smtp] : {std::tuple{tags::PidTagReceivedRepresentingName, tags::PidTagReceivedRepresentingAddressType,
                                              tags::PidTagReceivedRepresentingEmailAddress, tags::PidTagReceivedRepresentingSmtpAddress},
                                   std::tuple{tags::PidTagReceivedByName, tags::PidTagReceivedByAddressType, tags::PidTagReceivedByEmailAddress,
                                              tags::PidTagReceivedBySmtpAddress}}) {
        const std::string addr = internet(str(smtp), str(t), str(e));
        if (addr.empty() && str(n).empty()) continue;
        add_address(msg, GMIME_ADDRESS_TYPE_TO, str(n), addr);
        break;
      }
    }
    for (const auto& r : m.recipients) {
      if (report) break;
      int32_t type = r.get_i32(tags::PidTagRecipientType).value_or(recipient_type::To);
      std::string addr = internet(r.get_string(tags::PidTagSmtpAddress).value_or(""), r.get_string(tags::PidTagAddressType).value_or(""),
                                  r.get_string(tags::PidTagEmailAddress).value_or(""));
      std::string name = r.get_string(tags::PidTagDisplayName).value_or(addr);
      add_address(msg, type == recipient_type::Cc ? GMIME_ADDRESS_TYPE_CC : type == recipient_type::Bcc ? GMIME_ADDRESS_TYPE_BCC
                                                                                                           : GMIME_ADDRESS_TYPE_TO,
                  name, addr);
    }
    if (auto t = p.get_i64(tags::PidTagClientSubmitTime)) {
      GDateTime* dt = date_time_of(*t);
      g_mime_message_set_date(msg, dt);
      g_date_time_unref(dt);
    }
    if (auto id = p.get_string(tags::PidTagInternetMessageId)) {
      std::string v = trim(*id);
      if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
      if (!v.empty()) g_mime_message_set_message_id(msg, v.c_str());
    }
    if (auto v = p.get_string(PidTagInReplyToId)) g_mime_object_set_header(obj, "In-Reply-To", v->c_str(), nullptr);
    if (auto v = p.get_string(PidTagInternetReferences)) g_mime_object_set_header(obj, "References", v->c_str(), nullptr);
    if (auto imp = p.get_i32(tags::PidTagImportance); imp && *imp != 1)
      g_mime_object_set_header(obj, "Importance", *imp >= 2 ? "high" : "low", nullptr);
    if (auto pri = p.get_i32(tags::PidTagPriority); pri && *pri != 0)
      g_mime_object_set_header(obj, "Priority", *pri > 0 ? "urgent" : "non-urgent", nullptr);
    if (auto sens = p.get_i32(tags::PidTagSensitivity); sens && *sens > 0 && *sens <= 3) {
      static const char* kSens[] = {"", "Personal", "Private", "Company-Confidential"};
      g_mime_object_set_header(obj, "Sensitivity", kSens[*sens], nullptr);
    }
    for (const auto& v : p.values()) {
      if (!v.tag().is_named() || !v.get_if<std::string>()) continue;
      const PropertyName* n = names_.find(v.tag().id());
      if (!n || n->set != propset::PS_INTERNET_HEADERS || n->kind != NameKind::String || is_written_header(lower(n->name))) continue;
      g_mime_object_set_header(obj, header_case(n->name).c_str(), v.get_if<std::string>()->c_str(), "utf-8");
    }

    // With TNEF requested, it carries everything (also for S/MIME messages, whose entity is an
    // attachment inside it).
    if (options_.tnef) {
      // The bodies for any reader, and the whole message in winmail.dat for a MAPI reader.
      GMimeMultipart* mixed = g_mime_multipart_new_with_subtype("mixed");
      GMimeObject* body = body_part(m);
      g_mime_multipart_add(mixed, body);
      g_object_unref(body);
      Bytes data = tnef::write_tnef(m, names_);
      GMimePart* part = g_mime_part_new_with_type("application", "ms-tnef");
      g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
      g_mime_part_set_filename(part, "winmail.dat");
      GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(data.data()), data.size()));
      GPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
      g_mime_part_set_content(part, wrapper.get());
      g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
      g_mime_multipart_add(mixed, GMIME_OBJECT(part));
      g_object_unref(part);
      g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
      g_object_unref(mixed);
      return msg;
    }
    // An opaque S/MIME message is its stored entity, unchanged.
    std::string cls = str(tags::PidTagMessageClass);
    if (cls.rfind("IPM.Note.SMIME", 0) == 0 && m.attachments.size() == 1)
      if (GMimeObject* entity = parse_entity(m.attachments[0])) {
        g_mime_message_set_mime_part(msg, entity);
        g_object_unref(entity);
        return msg;
      }

    const bool has_body = m.props.has(tags::PidTagBody) || m.props.has(tags::PidTagHtml);
    GMimeObject* body = has_body || m.attachments.empty() || report ? body_part(m) : nullptr;
    std::vector<GMimeObject*> inline_parts, attached;
    GMimeObject* status_part = nullptr;  // a report's message/delivery-status, as it was read
    for (const auto& a : m.attachments) {
      if (report && !status_part && lower(a.props.get_string(tags::PidTagAttachMimeTag).value_or("")) == "message/delivery-status") {
        status_part = attachment_part(a, false);
        if (status_part) continue;
      }
      // Hidden attachments with a Content-ID are resources of the HTML body: multipart/related.
      bool resource = body && a.props.get_bool(PidTagAttachmentHidden).value_or(false) &&
                      a.props.has(tags::PidTagAttachContentId);
      GMimeObject* part = attachment_part(a, resource);
      if (!part) continue;
      (resource ? inline_parts : attached).push_back(part);
    }
    if (!inline_parts.empty()) {
      GMimeMultipart* related = g_mime_multipart_new_with_subtype("related");
      g_mime_multipart_add(related, body);
      g_object_unref(body);
      for (auto* part : inline_parts) {
        g_mime_multipart_add(related, part);
        g_object_unref(part);
      }
      body = GMIME_OBJECT(related);
    }
    if (report) {
      // multipart/report: the text, the status (the one read, else made from the recipients),
      // then the original message or its header and anything else attached (RFC 3462 2).
      GMimeMultipart* mp = g_mime_multipart_new_with_subtype("report");
      g_mime_object_set_content_type_parameter(GMIME_OBJECT(mp), "report-type", "delivery-status");
      g_mime_multipart_add(mp, body);
      g_object_unref(body);
      if (!status_part) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        const std::string text = write_delivery_status(delivery_status_of(m, host));
        GMimePart* part = g_mime_part_new_with_type("message", "delivery-status");
        GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
        GPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
        g_mime_part_set_content(part, wrapper.get());
        status_part = GMIME_OBJECT(part);
      }
      g_mime_multipart_add(mp, status_part);
      g_object_unref(status_part);
      for (auto* part : attached) {
        g_mime_multipart_add(mp, part);
        g_object_unref(part);
      }
      g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
      g_object_unref(mp);
      return msg;
    }
    if (!attached.empty()) {
      GMimeMultipart* mixed = g_mime_multipart_new_with_subtype("mixed");
      if (body) {
        g_mime_multipart_add(mixed, body);
        g_object_unref(body);
      }
      for (auto* part : attached) {
        g_mime_multipart_add(mixed, part);
        g_object_unref(part);
      }
      body = GMIME_OBJECT(mixed);
    }
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);
    return msg;
  }

 private:
  // The Internet address of a MAPI address: the SMTP address when there is one, an SMTP-typed
  // (or untyped) address with an "@", else another type's address IMCEA-encapsulated; "" when
  // there is no address at all.
  std::string internet(const std::string& smtp, const std::string& type, const std::string& email) const {
    if (!smtp.empty()) return smtp;
    if (email.empty()) return "";
    if ((type.empty() || lower(type) == "smtp") && email.find('@') != std::string::npos) return email;
    return imcea_encapsulate(type.empty() ? "UNKNOWN" : type, email, kEncapsulationDomain);
  }

  // A mailbox, or for a name without any address the RFC 5322 group "name:;", so that nothing
  // the message holds disappears (an address header needs an address or a group).
  static void add_address(GMimeMessage* msg, GMimeAddressType type, const std::string& name, const std::string& address) {
    if (!address.empty()) {
      add_mailbox(msg, type, name, address);
      return;
    }
    if (name.empty()) return;
    InternetAddressList* list = g_mime_message_get_addresses(msg, type);
    InternetAddress* group = internet_address_group_new(name.c_str());
    internet_address_list_add(list, group);
    g_object_unref(group);
  }

  static std::string header_case(const std::string& lower_name) {
    std::string out = lower_name;
    bool up = true;
    for (char& c : out) {
      if (up) c = char(std::toupper(static_cast<unsigned char>(c)));
      up = c == '-';
    }
    return out;
  }

  static GMimeObject* text_part(const char* subtype, const std::string& text) {
    GMimeTextPart* t = g_mime_text_part_new_with_subtype(subtype);
    g_mime_text_part_set_text(t, text.c_str());
    return GMIME_OBJECT(t);
  }

  static GMimeObject* body_part(const Message& m) {
    std::optional<std::string> text = m.props.get_string(tags::PidTagBody);
    std::optional<std::string> html = html_text(m.props);  // decoded with its code page
    if (text && html) {
      GMimeMultipart* alt = g_mime_multipart_new_with_subtype("alternative");
      GMimeObject* a = text_part("plain", *text);
      GMimeObject* b = text_part("html", *html);
      g_mime_multipart_add(alt, a);
      g_mime_multipart_add(alt, b);
      g_object_unref(a);
      g_object_unref(b);
      return GMIME_OBJECT(alt);
    }
    if (html) return text_part("html", *html);
    return text_part("plain", text.value_or(""));
  }

  GMimeObject* attachment_part(const Attachment& a, bool resource) {
    int32_t method = a.props.get_i32(tags::PidTagAttachMethod).value_or(attach_method::ByValue);
    if (method == attach_method::EmbeddedMessage && a.embedded) {
      GMimeMessage* inner = build(*a.embedded);
      GMimeMessagePart* mp = g_mime_message_part_new_with_message("rfc822", inner);
      g_object_unref(inner);
      // Named as Outlook shows it (attachment_name), as a .eml file.
      const std::string name = attachment_name(a);
      g_mime_object_set_disposition(GMIME_OBJECT(mp), "attachment");
      if (!name.empty()) g_mime_object_set_content_disposition_parameter(GMIME_OBJECT(mp), "filename", (name + ".eml").c_str());
      return GMIME_OBJECT(mp);
    }
    const PropValue* data = a.props.find(tags::PidTagAttachDataBinary);
    std::string type = a.props.get_string(tags::PidTagAttachMimeTag).value_or("application/octet-stream");
    size_t slash = type.find('/');
    std::string major = slash == std::string::npos ? "application" : type.substr(0, slash);
    std::string minor = slash == std::string::npos ? "octet-stream" : type.substr(slash + 1);
    GMimePart* part = g_mime_part_new_with_type(major.c_str(), minor.c_str());
    const std::string filename = attachment_name(a);
    g_mime_object_set_disposition(GMIME_OBJECT(part), resource ? "inline" : "attachment");
    if (!filename.empty()) g_mime_part_set_filename(part, filename.c_str());
    if (auto cid = a.props.get_string(tags::PidTagAttachContentId)) g_mime_object_set_content_id(GMIME_OBJECT(part), cid->c_str());
    if (auto loc = a.props.get_string(PidTagAttachContentLocation)) g_mime_part_set_content_location(part, loc->c_str());
    const Bytes empty;
    const Bytes& bytes = data && data->get_if<Bytes>() ? *data->get_if<Bytes>() : empty;
    GPtr<GMimeStream> stream(bytes.empty() ? g_mime_stream_mem_new()
                                           : g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    GPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(part, wrapper.get());
    // Quoted-printable keeps text readable, but a reader turns its line breaks into CRLF: text
    // whose bytes have other line breaks (or NULs) goes as base64, so that it comes back intact.
    bool canonical = major == "text";
    for (size_t i = 0; canonical && i < bytes.size(); ++i) {
      const uint8_t c = bytes[i];
      if (c == 0 || (c == '\n' && (i == 0 || bytes[i - 1] != '\r')) || (c == '\r' && (i + 1 == bytes.size() || bytes[i + 1] != '\n')))
        canonical = false;
    }
    g_mime_part_set_content_encoding(part, canonical ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE : GMIME_CONTENT_ENCODING_BASE64);
    return GMIME_OBJECT(part);
  }

  static GMimeObject* parse_entity(const Attachment& a) {
    const PropValue* data = a.props.find(tags::PidTagAttachDataBinary);
    if (!data || !data->get_if<Bytes>()) return nullptr;
    const Bytes& b = *data->get_if<Bytes>();
    if (b.empty()) return nullptr;
    GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(b.data()), b.size()));
    GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    return g_mime_parser_construct_part(parser.get(), nullptr);
  }

  const NamedPropertyMap& names_;
  MimeWriteOptions options_;
};

}  // namespace

std::string subject_prefix(std::string_view subject) {
  size_t colon = subject.find(':');
  if (colon == std::string_view::npos || colon == 0) return "";
  // 1 to 3 characters (code points), none a digit or a space.
  size_t chars = 0;
  for (size_t i = 0; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(subject[i]);
    if (c == ' ' || c == '\t' || (c >= '0' && c <= '9')) return "";
    if ((c & 0xC0) != 0x80) ++chars;
  }
  if (chars > 3) return "";
  size_t end = colon + 1;
  while (end < subject.size() && (subject[end] == ' ' || subject[end] == '\t')) ++end;
  return std::string(subject.substr(0, end));
}

int32_t codepage_of_charset(std::string_view charset) {
  std::string c = lower(std::string(charset));
  static const std::pair<const char*, int32_t> kMap[] = {
      {"utf-8", 65001}, {"utf8", 65001}, {"us-ascii", 20127}, {"ascii", 20127}, {"iso-8859-1", 28591},
      {"iso-8859-2", 28592}, {"iso-8859-5", 28595}, {"iso-8859-7", 28597}, {"iso-8859-9", 28599},
      {"iso-8859-15", 28605}, {"windows-1250", 1250}, {"windows-1251", 1251}, {"windows-1252", 1252},
      {"windows-1253", 1253}, {"windows-1254", 1254}, {"koi8-r", 20866}, {"koi8-u", 21866},
      {"shift_jis", 932}, {"iso-2022-jp", 50220}, {"euc-jp", 51932}, {"gb2312", 936}, {"gbk", 936},
      {"gb18030", 54936}, {"big5", 950}, {"ks_c_5601-1987", 949}, {"euc-kr", 51949}, {"utf-16", 1200},
      {"utf-7", 65000},
  };
  for (const auto& [name, cp] : kMap)
    if (c == name) return cp;
  return 0;
}

std::string charset_of_codepage(int32_t codepage) {
  static const std::pair<int32_t, const char*> kMap[] = {
      {65001, "utf-8"}, {20127, "us-ascii"}, {28591, "iso-8859-1"}, {28592, "iso-8859-2"}, {1250, "windows-1250"},
      {1251, "windows-1251"}, {1252, "windows-1252"}, {932, "shift_jis"}, {50220, "iso-2022-jp"},
      {936, "gb2312"}, {950, "big5"}, {949, "ks_c_5601-1987"}, {20866, "koi8-r"}, {28605, "iso-8859-15"},
  };
  for (const auto& [cp, name] : kMap)
    if (cp == codepage) return name;
  return "";
}

Message parse_mime(ByteView data, NamedPropertyMap& names) {
  init_gmime();
  if (data.empty()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "empty input is not a MIME message");
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(data.data()), data.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  // Raw 8-bit header text: UTF-8 when it is, else windows-1252 (what such mail means in practice).
  GMimeParserOptions* options = g_mime_parser_options_clone(nullptr);
  const char* fallback[] = {"utf-8", "windows-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(options, fallback);
  GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), options));
  g_mime_parser_options_free(options);
  if (!msg) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "not a MIME message: no header block found");
  return MimeReader(names).read_message(msg.get());
}

Bytes write_mime(const Message& message, const NamedPropertyMap& names, const MimeWriteOptions& options) {
  init_gmime();
  GPtr<GMimeMessage> msg(MimeWriter(names, options).build(message));
  return entity_bytes(GMIME_OBJECT(msg.get()));
}

}  // namespace openmapi::formats
