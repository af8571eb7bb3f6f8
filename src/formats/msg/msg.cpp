// MS-OXMSG reader and writer. Section numbers refer to [MS-OXMSG].
#include "formats/msg/msg.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <set>

#include "core/error.h"
#include "core/unicode.h"

namespace openmapi::msg {
namespace {

constexpr const char* kProps = "__properties_version1.0";
constexpr const char* kNameId = "__nameid_version1.0";
constexpr const char* kRecipPrefix = "__recip_version1.0_#";
constexpr const char* kAttachPrefix = "__attach_version1.0_#";
constexpr uint32_t kAttachDataObject = 0x3701000D;
constexpr uint16_t kAttachDataId = 0x3701;
constexpr PropTag kMessageCodepage(0x3FFD, PropType::Integer32);
constexpr PropTag kInternetCodepage(0x3FDE, PropType::Integer32);
constexpr PropTag kMessageLocaleId(0x3FF1, PropType::Integer32);
constexpr PropTag kAttachMethod(0x3705, PropType::Integer32);
constexpr int kMaxEmbedding = 64;
constexpr uint32_t kFlagsReadWrite = 0x00000006;  // PROPATTR_READABLE | PROPATTR_WRITABLE (2.4.2.1)

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, ".msg: " + what); }

std::string hex8(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08X", v);
  return buf;
}

// UTF-16LE bytes to UTF-8; a trailing odd byte is dropped, trailing U+0000 are removed and
// unpaired surrogates become U+FFFD (real files have them; a value is better than a failure).
std::string utf16le_to_utf8(ByteView b) {
  std::u16string s;
  s.reserve(b.size() / 2);
  for (size_t i = 0; i + 1 < b.size(); i += 2) s.push_back(char16_t(b[i] | (b[i + 1] << 8)));
  while (!s.empty() && s.back() == 0) s.pop_back();
  for (size_t i = 0; i < s.size(); ++i) {
    char16_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF) {
      if (i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
        ++i;
        continue;
      }
      s[i] = 0xFFFD;
    } else if (c >= 0xDC00 && c <= 0xDFFF) {
      s[i] = 0xFFFD;
    }
  }
  return utf16_to_utf8(s);
}


const char* iconv_name(uint32_t cp) {
  switch (cp) {
    case 65001: return "UTF-8";
    case 20127: return "ASCII";
    case 1200: return "UTF-16LE";
    case 1201: return "UTF-16BE";
    case 20866: return "KOI8-R";
    case 21866: return "KOI8-U";
    case 50220: case 50221: case 50222: return "ISO-2022-JP";
    case 51932: return "EUC-JP";
    case 51949: return "EUC-KR";
    case 52936: return "HZ-GB-2312";
    case 54936: return "GB18030";
    case 932: return "CP932";
    case 936: return "CP936";
    case 949: return "CP949";
    case 950: return "CP950";
    default: break;
  }
  if (cp >= 28591 && cp <= 28606) {
    static thread_local char buf[24];
    std::snprintf(buf, sizeof buf, "ISO-8859-%u", cp - 28590);
    return buf;
  }
  return nullptr;
}

std::string latin1_fallback(ByteView b) {
  // Windows-1252: 0x80-0x9F carry punctuation; others map to the same code point.
  static const char16_t k80[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                   0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                   0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
  std::u16string s;
  for (uint8_t c : b) s.push_back(c >= 0x80 && c < 0xA0 ? k80[c - 0x80] : char16_t(c));
  return utf16_to_utf8(s);
}

}  // namespace

std::string decode_codepage(ByteView bytes, uint32_t codepage) {
  if (bytes.empty()) return {};
  std::string name;
  if (const char* n = iconv_name(codepage)) {
    name = n;
  } else if (codepage >= 37 && codepage < 65536) {
    name = "CP" + std::to_string(codepage);
  }
  if (!name.empty() && codepage != 1252) {
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd != iconv_t(-1)) {
      std::string out(bytes.size() * 4 + 16, '\0');
      char* in = const_cast<char*>(reinterpret_cast<const char*>(bytes.data()));
      size_t in_left = bytes.size();
      char* op = out.data();
      size_t out_left = out.size();
      size_t r = iconv(cd, &in, &in_left, &op, &out_left);
      iconv_close(cd);
      if (r != size_t(-1) && in_left == 0) {
        out.resize(out.size() - out_left);
        if (is_valid_utf8(out)) return out;
      }
    }
  }
  return latin1_fallback(bytes);
}

uint32_t name_crc32(std::string_view name) {
  // CRC-32 (reflected polynomial 0xEDB88320), initial value 0, no final inversion, over the
  // UTF-16LE name (the variant the corpus's hash-bucket streams hold; checked in msg_test).
  Bytes b = utf8_to_utf16le(name);
  uint32_t crc = 0;
  for (uint8_t byte : b) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return crc;
}

size_t header_size(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::TopLevel: return 32;
    case ObjectKind::Embedded: return 24;
    case ObjectKind::RecipientOrAttachment: return 8;
  }
  return 8;
}

std::string value_stream_name(uint32_t tag) { return "__substg1.0_" + hex8(tag); }

// ---------------------------------------------------------------------------------------------
// Reading

namespace {

bool stored_in_stream(PropType t) {
  if (is_multi_valued(t)) return true;
  switch (t) {
    case PropType::String:
    case PropType::String8:
    case PropType::Binary:
    case PropType::Guid:
    case PropType::ServerId:
    case PropType::RuleAction:
    case PropType::Object:
      return true;
    default:
      return false;
  }
}

// The value of a fixed-length entry (2.4.2.1): the first bytes of the 8-byte Value field.
PropValue fixed_value(PropTag tag, ByteView v8) {
  if (tag.type() == PropType::Null) return PropValue(tag, std::monostate{});
  if (is_multi_valued(tag.type()) || fixed_size(tag.type()) == 0) corrupt("not a fixed-length type");
  BinaryReader r(v8);
  return read_value(r, tag);  // the fixed forms of MS-OXCDATA 2.11.1, as every format stores them
}

std::string decode_string(ByteView b, PropType base, uint32_t cp) {
  if (base == PropType::String) return utf16le_to_utf8(b);
  size_t n = b.size();
  while (n > 0 && b[n - 1] == 0) --n;
  return decode_codepage(b.first(n), cp);
}

// A value kept in streams (2.1.3, 2.1.4); nullopt when its streams are absent or its type is
// one we do not keep. Tags come back with Unicode string types.
std::optional<PropValue> stream_value(const cfb::Storage& st, PropTag tag, uint32_t cp) {
  PropType t = tag.type();
  PropType base = base_type(t);
  const std::string name = value_stream_name(tag.value);
  const Bytes* data = st.find_stream(name);
  if (!data) return std::nullopt;
  PropTag out_tag = tag;
  if (base == PropType::String8) out_tag = tag.with_type(is_multi_valued(t) ? PropType::MultipleString : PropType::String);
  if (!is_multi_valued(t)) {
    switch (t) {
      case PropType::String:
      case PropType::String8: return PropValue(out_tag, decode_string(*data, base, cp));
      case PropType::Binary:
      case PropType::ServerId:
      case PropType::RuleAction: return PropValue(tag, *data);
      case PropType::Guid: {
        if (data->size() < 16) corrupt(name + " is shorter than a GUID");
        Guid g;
        std::copy(data->begin(), data->begin() + 16, g.bytes.begin());
        return PropValue(tag, g);
      }
      default: return std::nullopt;
    }
  }
  // 2.1.4.1 fixed-length multiple-valued: one stream, values back to back.
  size_t fs = fixed_size(base);
  if (base == PropType::Guid) fs = 16;
  if (fs > 0) {
    if (data->size() % fs != 0) corrupt(name + " is not a whole number of values");
    BinaryReader r(*data);
    size_t n = data->size() / fs;
    switch (base) {
      case PropType::Integer16: {
        std::vector<int16_t> v;
        for (size_t i = 0; i < n; ++i) v.push_back(r.i16());
        return PropValue(tag, std::move(v));
      }
      case PropType::Integer32: {
        std::vector<int32_t> v;
        for (size_t i = 0; i < n; ++i) v.push_back(r.i32());
        return PropValue(tag, std::move(v));
      }
      case PropType::Floating32: {
        std::vector<float> v;
        for (size_t i = 0; i < n; ++i) v.push_back(r.f32());
        return PropValue(tag, std::move(v));
      }
      case PropType::Floating64:
      case PropType::FloatingTime: {
        std::vector<double> v;
        for (size_t i = 0; i < n; ++i) v.push_back(r.f64());
        return PropValue(tag, std::move(v));
      }
      case PropType::Currency:
      case PropType::Integer64:
      case PropType::Time: {
        std::vector<int64_t> v;
        for (size_t i = 0; i < n; ++i) v.push_back(r.i64());
        return PropValue(tag, std::move(v));
      }
      case PropType::Guid: {
        std::vector<Guid> v;
        for (size_t i = 0; i < n; ++i) {
          Guid g;
          auto b = r.bytes(16);
          std::copy(b.begin(), b.end(), g.bytes.begin());
          v.push_back(g);
        }
        return PropValue(tag, std::move(v));
      }
      default: return std::nullopt;
    }
  }
  // 2.1.4.2 variable-length multiple-valued: a length stream (4-byte entries for strings,
  // 8-byte for binaries) and one stream per value, "<name>-NNNNNNNN".
  if (base != PropType::String && base != PropType::String8 && base != PropType::Binary) return std::nullopt;
  const size_t entry = base == PropType::Binary ? 8 : 4;
  if (data->size() % entry != 0) corrupt(name + " length stream is not a whole number of entries");
  const size_t n = data->size() / entry;
  std::vector<std::string> strings;
  std::vector<Bytes> binaries;
  for (size_t i = 0; i < n; ++i) {
    const std::string ename = name + "-" + hex8(uint32_t(i));
    const Bytes* e = st.find_stream(ename);
    if (!e) corrupt("missing value stream " + ename);
    if (base == PropType::Binary)
      binaries.push_back(*e);
    else
      strings.push_back(decode_string(*e, base, cp));
  }
  if (base == PropType::Binary) return PropValue(tag, std::move(binaries));
  return PropValue(out_tag, std::move(strings));
}

}  // namespace

// The code page of an object's 8-bit strings: PidTagMessageCodepage, else PidTagInternetCodepage,
// else the ANSI code page of PidTagMessageLocaleId (MS-OXCMSG 2.2.1.5: a message without a code
// page is in its locale's), else `inherited`.
uint32_t codepage_of(const PropertyBag& bag, uint32_t inherited) {
  for (PropTag t : {kMessageCodepage, kInternetCodepage})
    if (auto v = bag.get_i32(t); v && *v > 0) return uint32_t(*v);
  if (auto lcid = bag.get_i32(kMessageLocaleId))
    if (uint32_t cp = ansi_codepage_of_lcid(uint32_t(*lcid))) return cp;
  return inherited;
}

PropertyBag read_properties(const cfb::Storage& st, ObjectKind kind, uint32_t codepage, PropertyStreamHeader* header) {
  const Bytes* ps = st.find_stream(kProps);
  if (!ps) corrupt(std::string("no ") + kProps + " stream");
  const size_t hs = header_size(kind);
  if (ps->size() < hs) corrupt("property stream shorter than its header");
  BinaryReader r(*ps);
  r.skip(8);
  if (header && kind != ObjectKind::RecipientOrAttachment) {
    header->next_recipient_id = r.u32();
    header->next_attachment_id = r.u32();
    header->recipient_count = r.u32();
    header->attachment_count = r.u32();
  }
  r = BinaryReader(ByteView(*ps).subspan(hs));
  struct Entry {
    PropTag tag;
    ByteView value;
  };
  std::vector<Entry> entries;
  while (r.remaining() >= 16) {
    PropTag tag(r.u32());
    r.u32();  // flags
    entries.push_back({tag, r.bytes(8)});
  }
  PropertyBag bag;
  // Fixed-length values first: the code page is one of them.
  for (auto& e : entries) {
    PropType t = e.tag.type();
    if (!is_known_type(t) || stored_in_stream(t) || t == PropType::Unspecified || t == PropType::Restriction) continue;
    if (bag.has(e.tag)) continue;
    bag.set(fixed_value(e.tag, e.value));
  }
  const uint32_t cp = codepage_of(bag, codepage == 0 ? 1252 : codepage);
  std::set<uint32_t> listed;
  for (auto& e : entries) {
    PropType t = e.tag.type();
    if (!is_known_type(t) || !stored_in_stream(t) || t == PropType::Object) continue;
    listed.insert(e.tag.value);
    if (bag.find(PropTag(e.tag.id(), PropType::Unspecified))) continue;
    if (auto v = stream_value(st, e.tag, cp)) bag.set(std::move(*v));
  }
  // Value streams without an entry in the property stream (some writers omit entries).
  for (auto& [name, data] : st.streams) {
    if (name.size() != 20 || name.rfind("__substg1.0_", 0) != 0) continue;
    uint32_t tag = 0;
    bool ok = true;
    for (char c : name.substr(12)) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) ok = false;
      tag = tag << 4 | uint32_t(d < 0 ? 0 : d);
    }
    PropTag pt(tag);
    if (!ok || listed.count(tag) || !is_known_type(pt.type()) || !stored_in_stream(pt.type()) ||
        pt.type() == PropType::Object)
      continue;
    if (bag.find(PropTag(pt.id(), PropType::Unspecified))) continue;
    if (auto v = stream_value(st, pt, cp)) bag.set(std::move(*v));
  }
  return bag;
}

namespace {

// Substorages "<prefix>XXXXXXXX" in the order of their numbers.
std::vector<const cfb::Storage*> numbered(const cfb::Storage& st, const std::string& prefix) {
  std::map<uint32_t, const cfb::Storage*> found;
  for (auto& [name, sub] : st.storages) {
    if (name.size() != prefix.size() + 8 || name.compare(0, prefix.size(), prefix) != 0) continue;
    uint32_t n = 0;
    bool ok = true;
    for (char c : name.substr(prefix.size())) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) ok = false;
      n = n << 4 | uint32_t(d < 0 ? 0 : d);
    }
    if (ok) found.emplace(n, &sub);
  }
  std::vector<const cfb::Storage*> out;
  for (auto& [n, s] : found) out.push_back(s);
  return out;
}

Message read_message(const cfb::Storage& st, ObjectKind kind, uint32_t parent_cp, int depth) {
  if (depth > kMaxEmbedding) corrupt("embedded messages nested too deeply");
  Message m;
  m.props = read_properties(st, kind, parent_cp);
  // Strings were decoded with this object's own code page; sub-objects inherit it.
  const uint32_t cp = codepage_of(m.props, parent_cp);
  for (const cfb::Storage* r : numbered(st, kRecipPrefix))
    m.recipients.push_back(read_properties(*r, ObjectKind::RecipientOrAttachment, cp));
  for (const cfb::Storage* a : numbered(st, kAttachPrefix)) {
    Attachment att;
    att.props = read_properties(*a, ObjectKind::RecipientOrAttachment, cp);
    if (const cfb::Storage* obj = a->find_storage(value_stream_name(kAttachDataObject))) {
      auto method = att.props.get_i32(kAttachMethod);
      if (method && *method == attach_method::Storage) {
        att.props.set(PropValue(PropTag(kAttachDataId, PropType::Binary), cfb::write_compound_file(*obj)));
      } else {
        att.embedded = std::make_unique<Message>(read_message(*obj, ObjectKind::Embedded, cp, depth + 1));
      }
    }
    m.attachments.push_back(std::move(att));
  }
  return m;
}

NamedPropertyMap read_names(const cfb::Storage& root) {
  NamedPropertyMap names;
  const cfb::Storage* ns = root.find_storage(kNameId);
  if (!ns) return names;
  static const Bytes kEmpty;
  auto stream = [&](uint32_t id) -> const Bytes& {
    const Bytes* b = ns->find_stream(value_stream_name(id << 16 | 0x0102));
    return b ? *b : kEmpty;
  };
  const Bytes& guids = stream(0x0002);
  const Bytes& entries = stream(0x0003);
  const Bytes& strings = stream(0x0004);
  if (entries.size() % 8 != 0) corrupt("named property entry stream is not a whole number of entries");
  BinaryReader r(entries);
  while (!r.at_end()) {
    uint32_t id_or_offset = r.u32();
    uint32_t index_kind = r.u32();
    const bool is_string = index_kind & 1;
    const uint32_t guid_index = (index_kind >> 1) & 0x7FFF;
    const uint32_t prop_index = index_kind >> 16;
    Guid set;
    if (guid_index == 1) {
      set = propset::PS_MAPI;
    } else if (guid_index == 2) {
      set = propset::PS_PUBLIC_STRINGS;
    } else if (guid_index >= 3 && size_t(guid_index - 3) * 16 + 16 <= guids.size()) {
      std::copy(guids.begin() + (guid_index - 3) * 16, guids.begin() + (guid_index - 3) * 16 + 16, set.bytes.begin());
    } else {
      corrupt("named property entry with GUID index " + std::to_string(guid_index) + " out of range");
    }
    PropertyName name;
    if (is_string) {
      BinaryReader sr(strings);
      sr.skip(id_or_offset);
      uint32_t len = sr.u32();
      name = PropertyName::by_name(set, utf16le_to_utf8(sr.bytes(len)));
    } else {
      name = PropertyName::by_id(set, id_or_offset);
    }
    const uint32_t id = 0x8000 + prop_index;
    if (id > NamedPropertyMap::kLastId) corrupt("named property index out of range");
    // A name or id listed twice keeps its first mapping.
    if (names.find(uint16_t(id)) || names.find(name)) continue;
    names.insert(uint16_t(id), name);
  }
  return names;
}

}  // namespace

MsgFile read_msg(const cfb::Storage& root) {
  MsgFile f;
  f.names = read_names(root);
  f.message = read_message(root, ObjectKind::TopLevel, 1252, 0);
  return f;
}

MsgFile read_msg(ByteView data) { return read_msg(cfb::load_tree(data)); }

// ---------------------------------------------------------------------------------------------
// Writing

void write_properties(cfb::Storage& st, std::span<const PropValue> values, ObjectKind kind,
                      const PropertyStreamHeader& header) {
  BinaryWriter w;
  w.u64(0);
  if (kind != ObjectKind::RecipientOrAttachment) {
    w.u32(header.next_recipient_id);
    w.u32(header.next_attachment_id);
    w.u32(header.recipient_count);
    w.u32(header.attachment_count);
    if (kind == ObjectKind::TopLevel) w.u64(0);
  }
  for (const PropValue& v : values) {
    PropType t = v.type();
    PropType base = base_type(t);
    if (t == PropType::Object || t == PropType::Restriction || t == PropType::Unspecified || t == PropType::Null ||
        base == PropType::Restriction)
      continue;
    // 8-bit strings are written as Unicode (see msg.h).
    PropTag tag = v.tag();
    if (base == PropType::String8) tag = tag.with_type(is_multi_valued(t) ? PropType::MultipleString : PropType::String);
    const std::string sname = value_stream_name(tag.value);
    if (!stored_in_stream(t)) {
      // 2.4.2.1 fixed-length property entry: the value padded to 8 bytes.
      w.u32(tag.value);
      w.u32(kFlagsReadWrite);
      BinaryWriter val;
      switch (t) {
        case PropType::Integer16: val.i16(v.get<int16_t>()); break;
        case PropType::Integer32:
        case PropType::ErrorCode: val.i32(v.get<int32_t>()); break;
        case PropType::Floating32: val.f32(v.get<float>()); break;
        case PropType::Floating64:
        case PropType::FloatingTime: val.f64(v.get<double>()); break;
        case PropType::Currency:
        case PropType::Integer64:
        case PropType::Time: val.i64(v.get<int64_t>()); break;
        case PropType::Boolean: val.u8(v.get<bool>() ? 1 : 0); break;
        default: break;
      }
      while (val.size() < 8) val.u8(0);
      w.bytes(val.data());
      continue;
    }
    // 2.4.2.2 variable-length entry: Size then Reserved; the value goes to streams.
    uint32_t size = 0;
    if (!is_multi_valued(t)) {
      Bytes data;
      if (base == PropType::String || base == PropType::String8) {
        data = utf8_to_utf16le(v.get<std::string>());
        size = uint32_t(data.size() + 2);
      } else if (t == PropType::Guid) {
        const Guid& g = v.get<Guid>();
        data.assign(g.bytes.begin(), g.bytes.end());
        size = 16;
      } else {
        data = v.get<Bytes>();
        size = uint32_t(data.size());
      }
      st.streams[sname] = std::move(data);
    } else if (base == PropType::String || base == PropType::String8 || base == PropType::Binary) {
      BinaryWriter lengths;
      if (base == PropType::Binary) {
        const auto& vals = v.get<std::vector<Bytes>>();
        for (size_t i = 0; i < vals.size(); ++i) {
          lengths.u32(uint32_t(vals[i].size()));
          lengths.u32(0);
          st.streams[sname + "-" + hex8(uint32_t(i))] = vals[i];
        }
      } else {
        const auto& vals = v.get<std::vector<std::string>>();
        for (size_t i = 0; i < vals.size(); ++i) {
          Bytes data = utf8_to_utf16le(vals[i]);
          data.push_back(0);
          data.push_back(0);
          lengths.u32(uint32_t(data.size()));
          st.streams[sname + "-" + hex8(uint32_t(i))] = std::move(data);
        }
      }
      size = uint32_t(lengths.size());
      st.streams[sname] = lengths.take();
    } else {
      BinaryWriter data;
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::vector<int16_t>>) {
              for (auto e : x) data.i16(e);
            } else if constexpr (std::is_same_v<T, std::vector<int32_t>>) {
              for (auto e : x) data.i32(e);
            } else if constexpr (std::is_same_v<T, std::vector<float>>) {
              for (auto e : x) data.f32(e);
            } else if constexpr (std::is_same_v<T, std::vector<double>>) {
              for (auto e : x) data.f64(e);
            } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
              for (auto e : x) data.i64(e);
            } else if constexpr (std::is_same_v<T, std::vector<Guid>>) {
              for (auto& e : x) data.bytes(e.bytes);
            }
          },
          v.storage());
      size = uint32_t(data.size());
      st.streams[sname] = data.take();
    }
    w.u32(tag.value);
    w.u32(kFlagsReadWrite);
    w.u32(size);
    w.u32(0);
  }
  st.streams[kProps] = w.take();
}

namespace {

PropTag remap_tag(PropTag tag, const std::map<uint16_t, uint16_t>& ids) {
  if (!tag.is_named()) return tag;
  auto it = ids.find(tag.id());
  if (it == ids.end())
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, ".msg: named property " + tag.hex() + " has no name in the map");
  return PropTag(it->second, tag.type());
}

PropertyBag remap_bag(const PropertyBag& bag, const std::map<uint16_t, uint16_t>& ids) {
  PropertyBag out;
  for (const PropValue& v : bag.values()) out.set(PropValue(remap_tag(v.tag(), ids), v.storage()));
  return out;
}

Message remap_message(const Message& m, const std::map<uint16_t, uint16_t>& ids) {
  Message out;
  out.props = remap_bag(m.props, ids);
  for (auto& r : m.recipients) out.recipients.push_back(remap_bag(r, ids));
  for (auto& a : m.attachments) {
    Attachment b;
    b.props = remap_bag(a.props, ids);
    if (a.embedded) b.embedded = std::make_unique<Message>(remap_message(*a.embedded, ids));
    out.attachments.push_back(std::move(b));
  }
  return out;
}

void write_message(cfb::Storage& st, const Message& m, ObjectKind kind) {
  PropertyStreamHeader h;
  h.next_recipient_id = h.recipient_count = uint32_t(m.recipients.size());
  h.next_attachment_id = h.attachment_count = uint32_t(m.attachments.size());
  write_properties(st, m.props.values(), kind, h);
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    cfb::Storage& rs = st.storage(kRecipPrefix + hex8(uint32_t(i)));
    write_properties(rs, m.recipients[i].values(), ObjectKind::RecipientOrAttachment, {});
  }
  for (size_t i = 0; i < m.attachments.size(); ++i) {
    const Attachment& a = m.attachments[i];
    cfb::Storage& as = st.storage(kAttachPrefix + hex8(uint32_t(i)));
    std::vector<PropValue> values;
    std::optional<cfb::Storage> ole;
    auto method = a.props.get_i32(kAttachMethod);
    for (const PropValue& v : a.props.values()) {
      if (v.tag().id() == kAttachDataId && v.type() == PropType::Binary && !a.embedded && method &&
          *method == attach_method::Storage) {
        try {
          ole = cfb::load_tree(v.get<Bytes>());
          continue;
        } catch (const MapiError&) {
          // Not a compound file: keep it as binary data.
        }
      }
      values.push_back(v);
    }
    const bool has_object = a.embedded || ole;
    write_properties(as, values, ObjectKind::RecipientOrAttachment, {});
    if (has_object) {
      // 2.4.2.2: the PtypObject entry of PidTagAttachDataObject has Size 0xFFFFFFFF.
      Bytes& ps = as.streams[kProps];
      BinaryWriter e;
      e.u32(kAttachDataObject);
      e.u32(kFlagsReadWrite);
      e.u32(0xFFFFFFFF);
      e.u32(0);
      ps.insert(ps.end(), e.data().begin(), e.data().end());
      cfb::Storage& obj = as.storage(value_stream_name(kAttachDataObject));
      if (a.embedded)
        write_message(obj, *a.embedded, ObjectKind::Embedded);
      else
        obj = std::move(*ole);
    }
  }
}

void write_names(cfb::Storage& root, const NamedPropertyMap& names) {
  cfb::Storage& ns = root.storage(kNameId);
  BinaryWriter guids, entries, strings;
  std::vector<Guid> guid_list;
  std::map<uint32_t, BinaryWriter> buckets;
  for (auto& [id, name] : names.entries()) {
    uint32_t guid_index;
    if (name.set == propset::PS_MAPI) {
      guid_index = 1;
    } else if (name.set == propset::PS_PUBLIC_STRINGS) {
      guid_index = 2;
    } else {
      auto it = std::find(guid_list.begin(), guid_list.end(), name.set);
      if (it == guid_list.end()) {
        guid_list.push_back(name.set);
        guids.bytes(name.set.bytes);
        it = guid_list.end() - 1;
      }
      guid_index = 3 + uint32_t(it - guid_list.begin());
    }
    const uint32_t kind = name.kind == NameKind::String ? 1 : 0;
    const uint32_t index_kind = uint32_t(id - 0x8000) << 16 | guid_index << 1 | kind;
    uint32_t key;
    if (kind) {
      entries.u32(uint32_t(strings.size()));
      Bytes n = utf8_to_utf16le(name.name);
      strings.u32(uint32_t(n.size()));
      strings.bytes(n);
      while (strings.size() % 4) strings.u8(0);
      key = name_crc32(name.name);
    } else {
      entries.u32(name.lid);
      key = name.lid;
    }
    entries.u32(index_kind);
    // 2.2.3.2.2 property name to property ID mapping streams (hash buckets).
    uint32_t bucket = 0x1000 + ((key ^ (guid_index << 1 | kind)) % 0x1F);
    buckets[bucket].u32(key);
    buckets[bucket].u32(index_kind);
  }
  ns.streams[value_stream_name(0x00020102)] = guids.take();
  ns.streams[value_stream_name(0x00030102)] = entries.take();
  ns.streams[value_stream_name(0x00040102)] = strings.take();
  for (auto& [bucket, w] : buckets) ns.streams[value_stream_name(bucket << 16 | 0x0102)] = w.take();
}

void collect_named(const Message& m, std::set<uint16_t>& out) {
  auto bag = [&](const PropertyBag& b) {
    for (auto& v : b.values())
      if (v.tag().is_named()) out.insert(v.tag().id());
  };
  bag(m.props);
  for (auto& r : m.recipients) bag(r);
  for (auto& a : m.attachments) {
    bag(a.props);
    if (a.embedded) collect_named(*a.embedded, out);
  }
}

}  // namespace

cfb::Storage write_msg_tree(const Message& message, const NamedPropertyMap& names) {
  bool dense = true;
  uint16_t expect = 0x8000;
  for (auto& [id, name] : names.entries()) dense = dense && id == expect++;
  cfb::Storage root;
  if (dense) {
    // Ids are kept; a named id without a name (files have them) is written as it is.
    write_message(root, message, ObjectKind::TopLevel);
    write_names(root, names);
  } else {
    std::set<uint16_t> used;
    collect_named(message, used);
    for (uint16_t id : used)
      if (!names.find(id))
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER,
                    ".msg: named property id 0x" + hex8(id).substr(4) + " has no name in the map");
    std::map<uint16_t, uint16_t> ids;
    NamedPropertyMap compact;
    for (auto& [id, name] : names.entries()) {
      ids[id] = uint16_t(0x8000 + ids.size());
      compact.insert(ids[id], name);
    }
    write_message(root, remap_message(message, ids), ObjectKind::TopLevel);
    write_names(root, compact);
  }
  return root;
}

Bytes write_msg(const Message& message, const NamedPropertyMap& names) {
  return cfb::write_compound_file(write_msg_tree(message, names));
}

Message remap_named_properties(const Message& message, const NamedPropertyMap& from, NamedPropertyMap& to,
                               bool create) {
  std::set<uint16_t> used;
  collect_named(message, used);
  std::map<uint16_t, uint16_t> ids;
  for (uint16_t id : used) {
    const PropertyName* n = from.find(id);
    if (!n) throw_error(ErrorCode::MAPI_E_NOT_FOUND, ".msg: named property id has no name");
    ids[id] = to.get_or_create(*n, create);
  }
  return remap_message(message, ids);
}

}  // namespace openmapi::msg
