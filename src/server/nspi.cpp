#include "server/nspi.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/propbag.h"
#include "core/restriction.h"
#include "core/unicode.h"
#include "server/frontend.h"
#include "server/mapihttp.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace openmapi::server {

namespace nspi {

namespace {

// Error codes NSPI answers with (MS-OXNSPI 2.2.1.2).
namespace err {
constexpr uint32_t Success = 0;
constexpr uint32_t UnbindSuccess = 1;
constexpr uint32_t ErrorsReturned = 0x00040380;
constexpr uint32_t GeneralFailure = 0x80004005;
constexpr uint32_t NotSupported = 0x80040102;
constexpr uint32_t NotFound = 0x8004010F;
constexpr uint32_t TableTooBig = 0x80040403;
constexpr uint32_t InvalidBookmark = 0x80040405;
constexpr uint32_t AccessDenied = 0x80070005;
constexpr uint32_t InvalidParameter = 0x80070057;
}  // namespace err

// Request Flags (MS-OXNSPI 2.2.1.3, 2.2.1.4).
constexpr uint32_t fEphID = 0x2;
constexpr uint32_t NspiAddressCreationTemplates = 0x2, NspiUnicodeStrings = 0x4;
constexpr uint32_t DT_MAILUSER = 0x0, DT_CONTAINER = 0x100;
constexpr size_t kMaxColumns = 100;
constexpr uint32_t kMaxRows = 5000;

// The tags of a mail user (MS-OXOABK 2.2), by id.
constexpr uint16_t idDisplayName = 0x3001, idAddressType = 0x3002, idEmailAddress = 0x3003, idSearchKey = 0x300B,
                   idEntryId = 0x0FFF, idRecordKey = 0x0FF9, idInstanceKey = 0x0FF6, idMappingSignature = 0x0FF8,
                   idObjectType = 0x0FFE, idDisplayType = 0x3900, idDisplayTypeEx = 0x3905, idTemplateid = 0x3902,
                   idSmtpAddress = 0x39FE, idPrintable = 0x39FF, idAccount = 0x3A00, idTransmittable = 0x3A20,
                   idSendRichInfo = 0x3A40, idOriginalEntryId = 0x3A12, idProxyAddresses = 0x800F, idContainerId = 0xFFFD,
                   idContainerFlags = 0x3600, idDepth = 0x3005, idIsMaster = 0xFFFB, idAnr = 0x360C;

bool multi(PropType t) { return (uint16_t(t) & 0x1000) != 0; }

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  return s;
}

// A stable Minimal Entry ID for an address: a hash, above the reserved values below 0x10.
uint32_t mid_of(const std::string& address) {
  uint32_t h = 2166136261u;
  for (unsigned char c : ascii_lower(address)) h = (h ^ c) * 16777619u;
  return 0x10 + h % 0x7FFFFF00u;
}

}  // namespace

const Guid kNspiGuid = Guid::from_string("C840A7DC-42C0-1A10-B4B9-08002B2FE182");

Stat read_stat(BinaryReader& r) {
  Stat s;
  s.sort_type = r.u32();
  s.container_id = r.u32();
  s.current_rec = r.u32();
  s.delta = r.i32();
  s.num_pos = r.u32();
  s.total_recs = r.u32();
  s.code_page = r.u32();
  s.template_locale = r.u32();
  s.sort_locale = r.u32();
  return s;
}

void write_stat(BinaryWriter& w, const Stat& s) {
  w.u32(s.sort_type);
  w.u32(s.container_id);
  w.u32(s.current_rec);
  w.i32(s.delta);
  w.u32(s.num_pos);
  w.u32(s.total_recs);
  w.u32(s.code_page);
  w.u32(s.template_locale);
  w.u32(s.sort_locale);
}

void write_value(BinaryWriter& w, const PropValue& v) {
  const PropType t = v.type();
  auto one_string = [&](const std::string& s, bool wide) {
    if (wide) w.utf16z(s);
    else w.str8z(s);
  };
  switch (t) {
    case PropType::String:
    case PropType::String8:
      w.u8(0xFF);  // HasValue
      one_string(*v.get_if<std::string>(), t == PropType::String);
      return;
    case PropType::Binary: {
      const auto& b = v.get<Bytes>();
      w.u8(0xFF);
      w.u32(uint32_t(b.size()));
      w.bytes(b);
      return;
    }
    case PropType::ErrorCode: w.u32(uint32_t(v.get<int32_t>())); return;
    case PropType::Boolean: w.u8(v.get<bool>() ? 1 : 0); return;
    default: break;
  }
  if (multi(t)) {
    w.u8(0xFF);
    if (t == PropType::MultipleString || t == PropType::MultipleString8) {
      const auto& l = std::get<std::vector<std::string>>(v.storage());
      w.u32(uint32_t(l.size()));
      for (const auto& s : l) {
        w.u8(0xFF);
        one_string(s, t == PropType::MultipleString);
      }
      return;
    }
    if (t == PropType::MultipleBinary) {
      const auto& l = std::get<std::vector<Bytes>>(v.storage());
      w.u32(uint32_t(l.size()));
      for (const auto& b : l) {
        w.u8(0xFF);
        w.u32(uint32_t(b.size()));
        w.bytes(b);
      }
      return;
    }
  }
  openmapi::write_value(w, v, true);  // fixed-size values and their multi-valued forms: as in ROPs, 32-bit counts
}

PropValue read_value(BinaryReader& r, PropTag tag) {
  const PropType t = tag.type();
  auto has = [&] { return r.u8() != 0; };
  switch (t) {
    case PropType::String:
    case PropType::String8:
      if (!has()) return PropValue::string(tag, "");
      return PropValue::string(tag, t == PropType::String ? r.utf16z() : r.str8z());
    case PropType::Binary: {
      if (!has()) return PropValue::binary(tag, {});
      const uint32_t n = r.u32();
      if (n > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a binary value claims " + std::to_string(n) + " bytes");
      return PropValue::binary(tag, r.copy(n));
    }
    case PropType::Boolean: return PropValue::boolean(tag, r.u8() != 0);
    case PropType::Unspecified:
    case PropType::Null:
    case PropType::Object:
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an address-book value of type " + tag.hex());
    default: break;
  }
  if (multi(t)) {
    if (!has()) return PropValue(tag, std::vector<std::string>{});
    const uint32_t n = r.u32();
    if (n > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a multi-value claims " + std::to_string(n) + " values");
    if (t == PropType::MultipleString || t == PropType::MultipleString8) {
      std::vector<std::string> l;
      for (uint32_t i = 0; i < n; ++i) l.push_back(has() ? (t == PropType::MultipleString ? r.utf16z() : r.str8z()) : std::string());
      return PropValue(tag, std::move(l));
    }
    if (t == PropType::MultipleBinary) {
      std::vector<Bytes> l;
      for (uint32_t i = 0; i < n; ++i) {
        if (!has()) {
          l.emplace_back();
          continue;
        }
        const uint32_t len = r.u32();
        if (len > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a binary value claims " + std::to_string(len) + " bytes");
        l.push_back(r.copy(len));
      }
      return PropValue(tag, std::move(l));
    }
  }
  return openmapi::read_value(r, tag, true);
}

void write_row(BinaryWriter& w, const std::vector<PropTag>& columns, const std::vector<PropValue>& values) {
  bool flagged = false;
  for (const auto& v : values) flagged = flagged || v.type() == PropType::ErrorCode;
  w.u8(flagged ? 0x01 : 0x00);
  for (size_t i = 0; i < columns.size(); ++i) {
    const PropValue& v = values.at(i);
    const bool error = v.type() == PropType::ErrorCode && columns[i].type() != PropType::ErrorCode;
    // PtypUnspecified columns carry the type: AddressBookTypedPropertyValue, or
    // AddressBookFlaggedPropertyValueWithType (the type before the flag).
    if (columns[i].type() == PropType::Unspecified) w.u16(uint16_t(error ? PropType::ErrorCode : v.type()));
    if (flagged) w.u8(error ? 0x0A : 0x00);
    if (error) {
      w.u32(uint32_t(v.get<int32_t>()));
      continue;
    }
    nspi::write_value(w, v);
  }
}

void write_value_list(BinaryWriter& w, const std::vector<PropValue>& values) {
  w.u32(uint32_t(values.size()));
  for (const auto& v : values) {
    w.u32(v.tag().value);
    nspi::write_value(w, v);
  }
}

// (Built in a reserved buffer: GCC 12 -O3 warns falsely on a BinaryWriter growing from empty here.)
namespace {
void put32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}
}  // namespace

Bytes permanent_entry_id(uint32_t display_type, const std::string& dn) {
  Bytes out;
  out.reserve(28 + dn.size() + 1);
  put32(out, 0);  // ID type 0x00 and R1..R3
  out.insert(out.end(), kNspiGuid.bytes.begin(), kNspiGuid.bytes.end());
  put32(out, 1);  // R4
  put32(out, display_type);
  out.insert(out.end(), dn.begin(), dn.end());
  out.push_back(0);
  return out;
}

Bytes ephemeral_entry_id(const Guid& server, uint32_t display_type, uint32_t mid) {
  Bytes out;
  out.reserve(32);
  put32(out, 0x87);  // ID type 0x87, R1..R3
  out.insert(out.end(), server.bytes.begin(), server.bytes.end());
  put32(out, 1);
  put32(out, display_type);
  put32(out, mid);
  return out;
}

Gal::Gal(const std::vector<User>& users, const std::string& organization) {
  std::vector<uint32_t> taken;
  std::vector<User> by_address = users;
  std::sort(by_address.begin(), by_address.end(), [](const User& a, const User& b) { return ascii_lower(a.address) < ascii_lower(b.address); });
  for (const User& u : by_address) {
    GalEntry e;
    e.address = u.address;
    e.display_name = u.display_name.empty() ? u.address : u.display_name;
    e.legacy_dn = user_legacy_dn(organization, u.address);
    e.mid = mid_of(u.address);
    while (std::find(taken.begin(), taken.end(), e.mid) != taken.end()) e.mid = 0x10 + (e.mid - 0x10 + 1) % 0x7FFFFF00u;  // a collision: the next free
    taken.push_back(e.mid);
    entries_.push_back(std::move(e));
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const GalEntry& a, const GalEntry& b) {
    const std::string fa = fold_case(a.display_name), fb = fold_case(b.display_name);
    return fa != fb ? fa < fb : ascii_lower(a.address) < ascii_lower(b.address);
  });
}

std::optional<size_t> Gal::index_of(uint32_t mid) const {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].mid == mid) return i;
  return std::nullopt;
}

const GalEntry* Gal::find(uint32_t mid) const {
  auto i = index_of(mid);
  return i ? &entries_[*i] : nullptr;
}

const GalEntry* Gal::find_dn(std::string_view dn) const {
  const std::string want = ascii_lower(dn);
  for (const auto& e : entries_)
    if (ascii_lower(e.legacy_dn) == want) return &e;
  return nullptr;
}

std::vector<const GalEntry*> Gal::resolve(std::string_view text) const {
  while (!text.empty() && (text.front() == '=' || text.front() == ' ')) text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (const size_t colon = text.find(':'); colon != std::string_view::npos && colon < 10 && text.front() != '/')
    text.remove_prefix(colon + 1);  // SMTP:x, EX:/o=...
  if (text.empty()) return {};
  const std::string want = fold_case(text);
  auto local = [](const std::string& a) { return a.substr(0, a.find('@')); };
  std::vector<const GalEntry*> exact, prefix;
  for (const auto& e : entries_) {
    const std::string addr = fold_case(e.address), name = fold_case(e.display_name);
    if (addr == want || name == want || fold_case(e.legacy_dn) == want || local(addr) == want) {
      exact.push_back(&e);
      continue;
    }
    bool starts = addr.rfind(want, 0) == 0;
    // A word of the display name.
    for (size_t at = 0; !starts && at < name.size();) {
      if (name.compare(at, want.size(), want) == 0) starts = true;
      const size_t space = name.find(' ', at);
      if (space == std::string::npos) break;
      at = space + 1;
    }
    if (starts) prefix.push_back(&e);
  }
  return exact.empty() ? prefix : exact;
}

std::vector<PropTag> property_list() {
  return {PropTag(idDisplayName, PropType::String),    PropTag(idAddressType, PropType::String),
          PropTag(idEmailAddress, PropType::String),   PropTag(idSearchKey, PropType::Binary),
          PropTag(idEntryId, PropType::Binary),        PropTag(idRecordKey, PropType::Binary),
          PropTag(idOriginalEntryId, PropType::Binary), PropTag(idInstanceKey, PropType::Binary),
          PropTag(idMappingSignature, PropType::Binary), PropTag(idObjectType, PropType::Integer32),
          PropTag(idDisplayType, PropType::Integer32), PropTag(idDisplayTypeEx, PropType::Integer32),
          PropTag(idTemplateid, PropType::Binary),     PropTag(idSmtpAddress, PropType::String),
          PropTag(idPrintable, PropType::String),      PropTag(idAccount, PropType::String),
          PropTag(idTransmittable, PropType::String),  PropTag(idSendRichInfo, PropType::Boolean),
          PropTag(idProxyAddresses, PropType::MultipleString), PropTag(idContainerId, PropType::Integer32)};
}

std::optional<PropValue> property(const GalEntry& e, PropTag tag, const AbContext& ctx) {
  const uint16_t id = tag.id();
  const PropType want = tag.type();
  auto text = [&](const std::string& s) -> std::optional<PropValue> {
    if (want != PropType::String && want != PropType::String8 && want != PropType::Unspecified) return std::nullopt;
    return PropValue::string(want == PropType::String8 ? tag : tag.with_type(PropType::String), s);
  };
  auto typed = [&](PropType t, PropValue v) -> std::optional<PropValue> {
    if (want != t && want != PropType::Unspecified) return std::nullopt;
    return v;
  };
  switch (id) {
    case idDisplayName:
    case idPrintable:
    case idTransmittable: return text(e.display_name);
    case idAddressType: return text("EX");
    case idEmailAddress: return text(e.legacy_dn);
    case idSmtpAddress:
    case idAccount: return text(e.address);
    case idProxyAddresses:
      if (want != PropType::MultipleString && want != PropType::MultipleString8 && want != PropType::Unspecified) return std::nullopt;
      return PropValue(want == PropType::MultipleString8 ? tag : tag.with_type(PropType::MultipleString), std::vector<std::string>{"SMTP:" + e.address});
    case idEntryId:
    case idRecordKey:
    case idOriginalEntryId:
      return typed(PropType::Binary, PropValue::binary(tag.with_type(PropType::Binary),
                                                       ctx.ephemeral && id == idEntryId ? ephemeral_entry_id(ctx.server_guid, DT_MAILUSER, e.mid)
                                                                                       : permanent_entry_id(DT_MAILUSER, e.legacy_dn)));
    case idTemplateid: return typed(PropType::Binary, PropValue::binary(tag.with_type(PropType::Binary), permanent_entry_id(DT_MAILUSER, e.legacy_dn)));
    case idInstanceKey: {
      BinaryWriter w;
      w.u32(e.mid);
      return typed(PropType::Binary, PropValue::binary(tag.with_type(PropType::Binary), w.take()));
    }
    case idSearchKey: {
      const std::string k = "EX:" + upper(e.legacy_dn);
      Bytes b(k.begin(), k.end());
      b.push_back(0);
      return typed(PropType::Binary, PropValue::binary(tag.with_type(PropType::Binary), std::move(b)));
    }
    case idMappingSignature:
      return typed(PropType::Binary, PropValue::binary(tag.with_type(PropType::Binary), Bytes(kNspiGuid.bytes.begin(), kNspiGuid.bytes.end())));
    case idObjectType: return typed(PropType::Integer32, PropValue::i32(tag.with_type(PropType::Integer32), 6));  // MAPI_MAILUSER
    case idDisplayType: return typed(PropType::Integer32, PropValue::i32(tag.with_type(PropType::Integer32), int32_t(DT_MAILUSER)));
    case idDisplayTypeEx:
      return typed(PropType::Integer32, PropValue::i32(tag.with_type(PropType::Integer32), int32_t(0x40000000 | DT_MAILUSER)));  // DTE_FLAG_ACL_CAPABLE
    case idSendRichInfo: return typed(PropType::Boolean, PropValue::boolean(tag.with_type(PropType::Boolean), true));
    case idContainerId: return typed(PropType::Integer32, PropValue::i32(tag.with_type(PropType::Integer32), 0));
    default: return std::nullopt;
  }
}

namespace {

// The values of `columns` for `e` (MAPI_E_NOT_FOUND for the ones it has not).
std::vector<PropValue> values_of(const GalEntry& e, const std::vector<PropTag>& columns, const AbContext& ctx) {
  std::vector<PropValue> out;
  out.reserve(columns.size());
  for (PropTag c : columns) {
    auto v = property(e, c, ctx);
    out.push_back(v ? *v : PropValue::error(c.id(), ErrorCode::MAPI_E_NOT_FOUND));
  }
  return out;
}

// Every property of `e`, as a PropertySource restrictions are evaluated on.
PropertyBag bag_of(const GalEntry& e, const AbContext& ctx) {
  PropertyBag b;
  for (PropTag t : property_list())
    if (auto v = property(e, t, ctx)) b.set(*v);
  return b;
}

std::vector<PropTag> read_tags(BinaryReader& r) {  // LargePropertyTagArray
  const uint32_t n = r.u32();
  if (size_t(n) * 4 > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a property tag array claims " + std::to_string(n) + " tags");
  std::vector<PropTag> t;
  for (uint32_t i = 0; i < n; ++i) t.push_back(PropTag(r.u32()));
  return t;
}
void write_tags(BinaryWriter& w, const std::vector<PropTag>& tags) {
  w.u32(uint32_t(tags.size()));
  for (PropTag t : tags) w.u32(t.value);
}
std::vector<uint32_t> read_mids(BinaryReader& r) {
  const uint32_t n = r.u32();
  if (size_t(n) * 4 > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a Minimal Entry ID array claims " + std::to_string(n) + " ids");
  std::vector<uint32_t> m;
  for (uint32_t i = 0; i < n; ++i) m.push_back(r.u32());
  return m;
}
void write_mids(BinaryWriter& w, const std::vector<uint32_t>& mids) {
  w.u8(0xFF);  // HasMinimalIds
  w.u32(uint32_t(mids.size()));
  for (uint32_t m : mids) w.u32(m);
}
std::optional<Stat> read_optional_stat(BinaryReader& r) {
  if (!r.u8()) return std::nullopt;
  return read_stat(r);
}
bool has(BinaryReader& r) { return r.u8() != 0; }
// Strings of the "Names" of requests: u32 count, then NUL-terminated strings.
std::vector<std::string> read_strings(BinaryReader& r, bool wide) {
  const uint32_t n = r.u32();
  if (n > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a string array claims " + std::to_string(n) + " strings");
  std::vector<std::string> s;
  for (uint32_t i = 0; i < n; ++i) s.push_back(wide ? r.utf16z() : r.str8z());
  return s;
}

// The columns QueryRows uses when the request names none (MS-OXNSPI 3.1.4.1.8).
const std::vector<PropTag>& default_columns() {
  static const std::vector<PropTag> c = {PropTag(idContainerId, PropType::Integer32), PropTag(idObjectType, PropType::Integer32),
                                         PropTag(idDisplayType, PropType::Integer32), PropTag(idDisplayName, PropType::String8),
                                         PropTag(0x3A1A, PropType::String8),  // PidTagPrimaryTelephoneNumber
                                         PropTag(0x3A18, PropType::String8),  // PidTagDepartmentName
                                         PropTag(0x3A19, PropType::String8)};  // PidTagOfficeLocation
  return c;
}

// Columns, RowCount, rows (the "HasColumnsAndRows" part of QueryRows, GetMatches, ...).
void write_columns_and_rows(BinaryWriter& w, const std::vector<PropTag>& columns, const std::vector<const GalEntry*>& rows, const AbContext& ctx) {
  w.u8(0xFF);
  write_tags(w, columns);
  w.u32(uint32_t(rows.size()));
  for (const GalEntry* e : rows) write_row(w, columns, values_of(*e, columns, ctx));
}

// The row index a STAT names, with its Delta applied, clamped to [0, n] (n: past the end).
size_t position(const Stat& s, const Gal& g) {
  const size_t n = g.entries().size();
  size_t at;
  switch (s.current_rec) {
    case MID_BEGINNING_OF_TABLE: at = 0; break;
    case MID_END_OF_TABLE: at = n; break;
    case MID_CURRENT: at = s.total_recs ? size_t(uint64_t(s.num_pos) * n / s.total_recs) : 0; break;
    default: {
      auto i = g.index_of(s.current_rec);
      if (!i) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no address book entry with Minimal Entry ID " + std::to_string(s.current_rec));
      at = *i;
    }
  }
  const int64_t moved = int64_t(at) + s.delta;
  return size_t(std::clamp<int64_t>(moved, 0, int64_t(n)));
}

// The STAT after positioning on row `at` (MS-OXNSPI 3.1.4.8, UpdateStat).
void settle(Stat& s, size_t at, const Gal& g) {
  const size_t n = g.entries().size();
  s.current_rec = at < n ? g.entries()[at].mid : MID_END_OF_TABLE;
  s.num_pos = uint32_t(at);
  s.total_recs = uint32_t(n);
  s.delta = 0;
}

struct NspiFailure {
  uint32_t code;
};

// What a response of `type` carries after a failed ErrorCode: its fields with every Has* byte 0
// (clients read the same layout whatever the ErrorCode says).
void write_failure_tail(BinaryWriter& w, const std::string& type, uint32_t code_page) {
  if (type == "Bind") w.bytes(Guid{}.bytes);
  else if (type == "CompareMIds") w.i32(0);
  else if (type == "DNToMId" || type == "GetPropList" || type == "QueryColumns") w.u8(0);
  else if (type == "GetMatches") {
    w.u8(0);
    w.u8(0);
    w.u8(0);
  } else if (type == "GetProps" || type == "GetTemplateInfo") {
    w.u32(code_page);
    w.u8(0);
  } else if (type == "GetSpecialTable" || type == "ResolveNames") {
    w.u32(code_page);
    w.u8(0);
    w.u8(0);
  } else if (type == "QueryRows" || type == "SeekEntries" || type == "ResortRestriction" || type == "UpdateStat") {
    w.u8(0);
    w.u8(0);
  } else if (type == "GetMailboxUrl" || type == "GetAddressBookUrl") {
    w.utf16z("");
  }
}

void require_gal(const Stat& s) {
  if (s.container_id != 0) throw NspiFailure{err::InvalidBookmark};  // only the GAL is a container here
}

}  // namespace

}  // namespace nspi

using namespace nspi;
using namespace mapihttp;

Nspi::Nspi(ServerConfig config, std::string base_url)
    : config_(std::move(config)), base_url_(std::move(base_url)), server_guid_(Guid::random()) {
  if (server_guid_ == kNspiGuid) server_guid_ = Guid::random();
}

size_t Nspi::context_count() {
  std::lock_guard lk(mutex_);
  return contexts_.size();
}

void Nspi::expire() {
  const auto now = Clock::now();
  for (auto it = contexts_.begin(); it != contexts_.end();)
    it = now - it->second->last_use > kContextLifetime ? contexts_.erase(it) : std::next(it);
}

std::string Nspi::mailbox_id(const User& user) {
  auto mb = store::open_sqlite_mailbox(store::mailbox_file(config_.data_dir, user.mailbox));
  return mb->mailbox_guid().to_string() + "@" + user.address.substr(user.address.rfind('@') + 1);
}

HttpReply Nspi::handle(const HttpRequest& req, const User& user) {
  const auto start = Clock::now();
  const std::string date = http_date();
  const std::string type(req.msg["X-RequestType"].substr(0, 40));
  if (auto bad = check_request(req, type)) return *bad;
  if (type == "PING") return reply_for(req, type, response_code::Success);
  static const char* const kTypes[] = {"Bind",     "Unbind",       "CompareMIds", "DNToMId",       "GetMatches",  "GetPropList",
                                       "GetProps", "GetSpecialTable", "GetTemplateInfo", "ModLinkAtt", "ModProps",  "QueryColumns",
                                       "QueryRows", "ResolveNames", "ResortRestriction", "SeekEntries", "UpdateStat", "GetMailboxUrl",
                                       "GetAddressBookUrl"};
  if (std::find_if(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return type == t; }) == std::end(kTypes))
    return failure(req, type, response_code::InvalidRequestType, "request type '" + type + "' is not an NSPI request type");

  const auto& b = req.msg.body();
  BinaryReader r(ByteView(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  BinaryWriter w;  // the body after StatusCode
  std::string set_cookie;
  try {
    std::shared_ptr<Context> ctx;
    if (type == "Bind") {
      const uint32_t flags = r.u32();
      read_optional_stat(r);
      counted(r);
      auto c = std::make_shared<Context>(Context{ascii_lower(user.address), Clock::now(), flags,
                                                 Gal(UserDirectory(config_.data_dir).list(), config_.organization)});
      const std::string token = random_token();
      {
        std::lock_guard lk(mutex_);
        expire();
        contexts_[token] = c;
      }
      set_cookie = std::string(kCookie) + "=" + token + "; path=/mapi/nspi; secure; HttpOnly";
      w.u32(err::Success);
      w.bytes(server_guid_.bytes);
    } else {
      auto cookie_value = cookie(req, kCookie);
      if (!cookie_value) return failure(req, type, response_code::MissingCookie, "no NSPI context cookie (Bind first)");
      {
        std::lock_guard lk(mutex_);
        expire();
        auto it = contexts_.find(*cookie_value);
        if (it == contexts_.end()) return failure(req, type, response_code::ContextNotFound, "the NSPI context is not known (or expired): Bind again");
        if (it->second->user != ascii_lower(user.address)) return failure(req, type, response_code::NoPrivilege, "the NSPI context belongs to another user");
        ctx = it->second;
        ctx->last_use = Clock::now();
        if (type == "Unbind") contexts_.erase(it);
      }
      const Gal& gal = ctx->gal;
      AbContext abc{server_guid_, config_.organization, false};
      try {
        if (type == "Unbind") {
          r.u32();
          counted(r);
          w.u32(err::UnbindSuccess);
          set_cookie = std::string(kCookie) + "=; path=/mapi/nspi; secure; HttpOnly; Max-Age=0";
        } else if (type == "GetSpecialTable") {
          const uint32_t flags = r.u32();
          auto stat = read_optional_stat(r);
          std::optional<uint32_t> version;
          if (has(r)) version = r.u32();
          counted(r);
          w.u32(err::Success);
          w.u32(stat ? stat->code_page : 1252);
          w.u8(0xFF);
          w.u32(version ? *version + 1 : 1);
          if (flags & NspiAddressCreationTemplates) {
            w.u8(0xFF);
            w.u32(0);  // no address creation templates
          } else {
            // One container: the Global Address List (MS-OXOABK 2.2.2).
            const bool unicode = (flags & NspiUnicodeStrings) != 0;
            std::vector<PropValue> row = {
                PropValue::binary(PropTag(idEntryId, PropType::Binary), permanent_entry_id(DT_CONTAINER, "/")),
                PropValue::i32(PropTag(idContainerFlags, PropType::Integer32), 0x1 | 0x8),  // AB_RECIPIENTS | AB_UNMODIFIABLE
                PropValue::i32(PropTag(idDepth, PropType::Integer32), 0),
                PropValue::i32(PropTag(idContainerId, PropType::Integer32), 0),
                PropValue::string(PropTag(idDisplayName, unicode ? PropType::String : PropType::String8), ""),
                PropValue::boolean(PropTag(idIsMaster, PropType::Boolean), false)};
            w.u8(0xFF);
            w.u32(1);
            write_value_list(w, row);
          }
        } else if (type == "QueryRows") {
          const uint32_t flags = r.u32();
          Stat stat = read_optional_stat(r).value_or(Stat{});
          const std::vector<uint32_t> explicit_table = read_mids(r);
          const uint32_t count = r.u32();
          std::vector<PropTag> columns = has(r) ? read_tags(r) : default_columns();
          counted(r);
          if (columns.size() > kMaxColumns) throw NspiFailure{err::TableTooBig};
          abc.ephemeral = (flags & fEphID) != 0;
          std::vector<const GalEntry*> rows;
          if (!explicit_table.empty()) {
            for (uint32_t m : explicit_table)
              if (auto e = gal.find(m)) rows.push_back(e);
          } else {
            if (count == 0) throw NspiFailure{err::InvalidParameter};
            require_gal(stat);
            const size_t at = position(stat, gal);
            const size_t n = std::min<size_t>({count, kMaxRows, gal.entries().size() - at});
            for (size_t i = 0; i < n; ++i) rows.push_back(&gal.entries()[at + i]);
            settle(stat, at + n, gal);
          }
          w.u32(err::Success);
          w.u8(0xFF);
          write_stat(w, stat);
          write_columns_and_rows(w, columns, rows, abc);
        } else if (type == "QueryColumns") {
          r.u32();
          r.u32();  // MapiFlags (NspiUnicodeProptypes: String types either way)
          counted(r);
          w.u32(err::Success);
          w.u8(0xFF);
          write_tags(w, property_list());
        } else if (type == "GetProps") {
          const uint32_t flags = r.u32();
          Stat stat = read_optional_stat(r).value_or(Stat{});
          std::optional<std::vector<PropTag>> tags;
          if (has(r)) tags = read_tags(r);
          counted(r);
          abc.ephemeral = (flags & fEphID) != 0;
          const GalEntry* e = gal.find(stat.current_rec);
          if (!e) throw NspiFailure{err::NotFound};
          std::vector<PropValue> values;
          bool missing = false;
          if (tags) {
            if (tags->size() > kMaxColumns * 10) throw NspiFailure{err::TableTooBig};
            for (PropTag t : *tags) {
              auto v = property(*e, t, abc);
              missing = missing || !v;
              values.push_back(v ? *v : PropValue::error(t.id(), ErrorCode::MAPI_E_NOT_FOUND));
            }
          } else {
            for (PropTag t : property_list())
              if (auto v = property(*e, t, abc)) values.push_back(*v);
          }
          w.u32(missing ? err::ErrorsReturned : err::Success);
          w.u32(stat.code_page);
          w.u8(0xFF);
          write_value_list(w, values);
        } else if (type == "GetPropList") {
          r.u32();
          const uint32_t mid = r.u32();
          r.u32();  // CodePage
          counted(r);
          if (!gal.find(mid)) throw NspiFailure{err::NotFound};
          w.u32(err::Success);
          w.u8(0xFF);
          write_tags(w, property_list());
        } else if (type == "DNToMId") {
          r.u32();
          std::vector<std::string> names;
          if (has(r)) names = read_strings(r, false);
          counted(r);
          std::vector<uint32_t> mids;
          for (const auto& dn : names) {
            const GalEntry* e = gal.find_dn(dn);
            mids.push_back(e ? e->mid : 0);
          }
          w.u32(err::Success);
          write_mids(w, mids);
        } else if (type == "ResolveNames") {
          r.u32();
          Stat stat = read_optional_stat(r).value_or(Stat{});
          std::vector<PropTag> columns = default_columns();
          if (has(r)) columns = read_tags(r);
          std::vector<std::string> names;
          if (has(r)) names = read_strings(r, true);
          counted(r);
          if (columns.size() > kMaxColumns) throw NspiFailure{err::TableTooBig};
          std::vector<uint32_t> mids;
          std::vector<const GalEntry*> rows;
          for (const auto& name : names) {
            auto found = gal.resolve(name);
            if (found.size() == 1) {
              mids.push_back(MID_RESOLVED);
              rows.push_back(found[0]);
            } else {
              mids.push_back(found.empty() ? MID_UNRESOLVED : MID_AMBIGUOUS);
            }
          }
          w.u32(err::Success);
          w.u32(stat.code_page);
          write_mids(w, mids);
          write_columns_and_rows(w, columns, rows, abc);
        } else if (type == "GetMatches") {
          r.u32();
          Stat stat = read_optional_stat(r).value_or(Stat{});
          std::optional<std::vector<uint32_t>> within;
          if (has(r)) within = read_mids(r);
          r.u32();  // InterfaceOptionFlags
          std::optional<Restriction> filter;
          if (has(r)) filter = read_restriction(r, 0, RestrictionForm::Extended);
          const bool by_link = has(r);
          if (by_link) r.bytes(16 + 4);  // PropertyNameGuid, PropertyNameId: a link attribute (members of a list)
          const uint32_t count = r.u32();
          std::optional<std::vector<PropTag>> columns;
          if (has(r)) columns = read_tags(r);
          counted(r);
          require_gal(stat);
          if (columns && columns->size() > kMaxColumns) throw NspiFailure{err::TableTooBig};
          std::vector<const GalEntry*> hits;
          if (!by_link) {
            // PidTagAnr restrictions resolve a name; other restrictions are evaluated on every entry.
            const auto* prop = filter ? std::get_if<Restriction::Property>(&filter->node) : nullptr;
            if (prop && prop->tag.id() == idAnr && prop->value.get_if<std::string>()) {
              hits = gal.resolve(*prop->value.get_if<std::string>());
            } else {
              for (const auto& e : gal.entries()) {
                if (filter && !evaluate(*filter, bag_of(e, abc))) continue;
                hits.push_back(&e);
              }
            }
          }
          if (within)
            hits.erase(std::remove_if(hits.begin(), hits.end(), [&](const GalEntry* e) { return std::find(within->begin(), within->end(), e->mid) == within->end(); }),
                       hits.end());
          if (hits.size() > std::min(count ? count : kMaxRows, kMaxRows)) throw NspiFailure{err::TableTooBig};
          std::vector<uint32_t> mids;
          for (const GalEntry* e : hits) mids.push_back(e->mid);
          w.u32(err::Success);
          w.u8(0xFF);
          write_stat(w, stat);
          write_mids(w, mids);
          if (columns) write_columns_and_rows(w, *columns, hits, abc);
          else w.u8(0);
        } else if (type == "SeekEntries") {
          r.u32();
          Stat stat = read_optional_stat(r).value_or(Stat{});
          std::optional<PropValue> target;
          if (has(r)) {
            const PropTag tag(r.u32());
            target = nspi::read_value(r, tag);
          }
          std::optional<std::vector<uint32_t>> explicit_table;
          if (has(r)) explicit_table = read_mids(r);
          std::optional<std::vector<PropTag>> columns;
          if (has(r)) columns = read_tags(r);
          counted(r);
          require_gal(stat);
          if (!target || target->tag().id() != idDisplayName || !target->get_if<std::string>()) throw NspiFailure{err::NotSupported};
          // The first entry (of the explicit table, or of the GAL) whose display name sorts at or after the target.
          const std::string want = fold_case(*target->get_if<std::string>());
          std::vector<const GalEntry*> table;
          if (explicit_table) {
            for (uint32_t m : *explicit_table)
              if (auto e = gal.find(m)) table.push_back(e);
          } else {
            for (const auto& e : gal.entries()) table.push_back(&e);
          }
          size_t at = 0;
          while (at < table.size() && fold_case(table[at]->display_name) < want) ++at;
          if (at == table.size()) throw NspiFailure{err::NotFound};
          if (!explicit_table) settle(stat, at, gal);
          else stat.current_rec = table[at]->mid;
          w.u32(err::Success);
          w.u8(0xFF);
          write_stat(w, stat);
          if (columns) write_columns_and_rows(w, *columns, std::vector<const GalEntry*>(table.begin() + long(at), table.end()), abc);
          else w.u8(0);
        } else if (type == "UpdateStat") {
          r.u32();
          Stat stat = read_optional_stat(r).value_or(Stat{});
          const bool want_delta = r.u8() != 0;
          counted(r);
          require_gal(stat);
          Stat origin = stat;
          origin.delta = 0;
          const size_t from = position(origin, gal);
          const size_t at = position(stat, gal);
          settle(stat, at, gal);
          w.u32(err::Success);
          w.u8(0xFF);
          write_stat(w, stat);
          w.u8(want_delta ? 0xFF : 0);
          if (want_delta) w.i32(int32_t(int64_t(at) - int64_t(from)));
        } else if (type == "CompareMIds") {
          r.u32();
          read_optional_stat(r);
          const uint32_t a = r.u32(), bb = r.u32();
          counted(r);
          auto ia = gal.index_of(a), ib = gal.index_of(bb);
          if (!ia || !ib) throw NspiFailure{err::NotFound};
          w.u32(err::Success);
          w.i32(*ia < *ib ? -1 : *ia > *ib ? 1 : 0);
        } else if (type == "ResortRestriction") {
          r.u32();
          Stat stat = read_optional_stat(r).value_or(Stat{});
          std::vector<uint32_t> mids;
          if (has(r)) mids = read_mids(r);
          counted(r);
          std::vector<std::pair<size_t, uint32_t>> known;
          for (uint32_t m : mids)
            if (auto i = gal.index_of(m)) known.emplace_back(*i, m);
          std::sort(known.begin(), known.end());
          std::vector<uint32_t> sorted;
          for (const auto& [i, m] : known) sorted.push_back(m);
          stat.total_recs = uint32_t(sorted.size());
          stat.num_pos = 0;
          stat.current_rec = sorted.empty() ? MID_END_OF_TABLE : sorted[0];
          w.u32(err::Success);
          w.u8(0xFF);
          write_stat(w, stat);
          write_mids(w, sorted);
        } else if (type == "GetMailboxUrl" || type == "GetAddressBookUrl") {
          r.u32();
          r.utf16z();  // ServerDn / UserDn: every user's mailbox is on this server
          counted(r);
          const std::string id = mailbox_id(user);
          w.u32(err::Success);
          w.utf16z(base_url_ + (type == "GetMailboxUrl" ? "/mapi/emsmdb/?MailboxId=" : "/mapi/nspi/?MailboxId=") + id);
        } else if (type == "GetTemplateInfo") {
          throw NspiFailure{err::NotSupported};  // display templates: not yet
        } else {  // ModProps, ModLinkAtt
          throw NspiFailure{err::AccessDenied};  // the GAL is the server's users: changed with `openmapi user`
        }
      } catch (const NspiFailure& f) {
        w = BinaryWriter();
        w.u32(f.code);
        write_failure_tail(w, type, 1252);
      } catch (const MapiError& e) {
        if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA) throw;
        w = BinaryWriter();
        w.u32(e.code() == ErrorCode::MAPI_E_NOT_FOUND ? err::NotFound : err::GeneralFailure);
        write_failure_tail(w, type, 1252);
        spdlog::debug("NSPI {}: {}", type, e.describe());
      }
    }
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA) return failure(req, type, response_code::InvalidRequestBody, "invalid request body: " + e.describe());
    throw;
  }
  // StatusCode 0, ErrorCode and the rest, AuxiliaryBufferSize 0.
  BinaryWriter body;
  body.u32(0);
  body.bytes(w.data());
  body.u32(0);
  HttpReply reply = success(req, type, body.data(), start, date);
  if (!set_cookie.empty()) reply.msg.set(http::field::set_cookie, set_cookie);
  reply.msg.set("X-ExpirationInfo", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(kContextLifetime).count()));
  return reply;
}

}  // namespace openmapi::server
