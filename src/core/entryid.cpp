// Entry IDs and object ids (MS-OXCDATA 2.2), XIDs and PCLs (MS-OXCFXICS 2.2.2).
#include "core/entryid.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace openmapi {

// Wire-order bytes as MS-OXCDATA prints them (%xNN.NN...).
constexpr Guid kStoreWrapProviderUid{{0x38, 0xA1, 0xBB, 0x10, 0x05, 0xE5, 0x10, 0x1A, 0xA1, 0xBB, 0x08, 0x00, 0x2B, 0x2A, 0x56, 0xC2}};
constexpr Guid kMailboxStoreProviderUid{{0x1B, 0x55, 0xFA, 0x20, 0xAA, 0x66, 0x11, 0xCD, 0x9B, 0xC8, 0x00, 0xAA, 0x00, 0x2F, 0xC4, 0x5A}};
constexpr Guid kPublicStoreProviderUid{{0x1C, 0x83, 0x02, 0x10, 0xAA, 0x66, 0x11, 0xCD, 0x9B, 0xC8, 0x00, 0xAA, 0x00, 0x2F, 0xC4, 0x5A}};
constexpr Guid kOneOffProviderUid{{0x81, 0x2B, 0x1F, 0xA4, 0xBE, 0xA3, 0x10, 0x19, 0x9D, 0x6E, 0x00, 0xDD, 0x01, 0x0F, 0x54, 0x02}};
constexpr Guid kAddressBookProviderUid{{0xDC, 0xA7, 0x40, 0xC8, 0xC0, 0x42, 0x10, 0x1A, 0xB4, 0xB9, 0x08, 0x00, 0x2B, 0x2F, 0xE1, 0x82}};

namespace {

constexpr size_t kFolderEntryIdSize = 46;   // MS-OXCDATA 2.2.4.1
constexpr size_t kMessageEntryIdSize = 70;  // MS-OXCDATA 2.2.4.2
constexpr size_t kLongTermIdSize = 24;      // MS-OXCDATA 2.2.1.3.1
constexpr size_t kDllNameSize = 14;         // MS-OXCDATA 2.2.4.3 DLLFileName
constexpr uint32_t kWrappedTypeMailbox = 0x0000000C;
constexpr uint32_t kWrappedTypePublic = 0x00000006;
constexpr uint16_t kOneOffUnicode = 0x8000;     // MAPI_ONE_OFF_UNICODE
constexpr uint16_t kOneOffNoRichInfo = 0x0001;  // MAPI_ONE_OFF_NO_RICH_INFO
constexpr uint32_t kAddressBookVersion = 1;     // MS-OXCDATA 2.2.5.2 Version

[[noreturn]] void invalid(const std::string& what) { throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, what); }
[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, what); }

// Runs a parser, turning the reader's truncation and encoding errors into `code`.
template <class F>
auto parse_as(ErrorCode code, const char* what, F&& f) {
  try {
    return f();
  } catch (const MapiError& e) {
    if (e.code() == code) throw;
    throw_error(code, std::string(what) + ": " + e.what());
  }
}

Guid read_guid(BinaryReader& r) {
  Guid g;
  auto b = r.bytes(16);
  std::copy(b.begin(), b.end(), g.bytes.begin());
  return g;
}

// MS-OXCDATA 2.2.1.1: the GLOBCNT is 6 bytes, most significant first.
GlobalCounter read_gc(BinaryReader& r) {
  auto b = r.bytes(6);
  GlobalCounter v = 0;
  for (uint8_t x : b) v = v << 8 | x;
  return v;
}

void check_gc(GlobalCounter gc) {
  if (gc > kMaxGlobalCounter) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "global counter 0x%llX does not fit in 48 bits", static_cast<unsigned long long>(gc));
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, buf);
  }
}

void write_gc(BinaryWriter& w, GlobalCounter gc) {
  check_gc(gc);
  for (int i = 5; i >= 0; --i) w.u8(uint8_t(gc >> (8 * i)));
}

void read_pad(BinaryReader& r, const char* where) {
  if (r.u16() != 0) invalid(std::string(where) + ": Pad is not zero");
}

void expect_end(const BinaryReader& r, const char* where) {
  if (!r.at_end()) invalid(std::string(where) + ": " + std::to_string(r.remaining()) + " bytes left over");
}

void check_no_nul(std::string_view s, const char* field) {
  if (s.find('\0') != std::string_view::npos)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, std::string(field) + " contains a NUL character");
}

bool is_folder_type(uint16_t t) {
  return t == uint16_t(FolderEntryType::PrivateFolder) || t == uint16_t(FolderEntryType::PublicFolder) ||
         t == uint16_t(FolderEntryType::MappedPublicFolder) || t == uint16_t(FolderEntryType::PublicNewsgroupFolder);
}
bool is_message_type(uint16_t t) {
  return t == uint16_t(FolderEntryType::PrivateMessage) || t == uint16_t(FolderEntryType::PublicMessage) ||
         t == uint16_t(FolderEntryType::MappedPublicMessage);
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lo = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lo(x) == lo(y);
         });
}

std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04X", v);
  return buf;
}

}  // namespace

// --- ObjectId (MS-OXCDATA 2.2.1.1/2.2.1.2) ------------------------------------

uint64_t ObjectId::to_u64() const {
  check_gc(gc);
  // Byte i of the little-endian u64: 0-1 REPLID (LE), 2-7 GLOBCNT (BE).
  uint64_t v = uint64_t(replid);
  for (int i = 0; i < 6; ++i) v |= uint64_t((gc >> (8 * (5 - i))) & 0xFF) << (8 * (2 + i));
  return v;
}

ObjectId ObjectId::from_u64(uint64_t v) {
  ObjectId id;
  id.replid = uint16_t(v & 0xFFFF);
  for (int i = 0; i < 6; ++i) id.gc = id.gc << 8 | ((v >> (8 * (2 + i))) & 0xFF);
  return id;
}

// --- LongTermID (MS-OXCDATA 2.2.1.3.1) ----------------------------------------

Bytes LongTermId::serialize() const {
  BinaryWriter w;
  w.bytes(database.bytes);
  write_gc(w, gc);
  w.u16(0);
  return w.take();
}

LongTermId LongTermId::parse(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_INVALID_ENTRYID, "LongTermID", [&] {
    if (data.size() != kLongTermIdSize)
      invalid("LongTermID is " + std::to_string(data.size()) + " bytes, want 24");
    BinaryReader r(data);
    LongTermId id;
    id.database = read_guid(r);
    id.gc = read_gc(r);
    read_pad(r, "LongTermID");
    return id;
  });
}

// --- Folder EntryID (MS-OXCDATA 2.2.4.1) --------------------------------------
// Flags (4), ProviderUID (16), FolderType (2), DatabaseGuid (16), GlobalCounter (6), Pad (2).

Bytes FolderEntryId::serialize() const {
  if (!is_folder_type(uint16_t(type)))
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "FolderType " + hex16(uint16_t(type)) + " is not a folder type");
  BinaryWriter w;
  w.u32(flags);
  w.bytes(provider_uid.bytes);
  w.u16(uint16_t(type));
  w.bytes(database.bytes);
  write_gc(w, gc);
  w.u16(0);
  return w.take();
}

FolderEntryId FolderEntryId::parse(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_INVALID_ENTRYID, "Folder EntryID", [&] {
    if (data.size() != kFolderEntryIdSize)
      invalid("Folder EntryID is " + std::to_string(data.size()) + " bytes, want 46");
    BinaryReader r(data);
    FolderEntryId id;
    id.flags = r.u32();
    id.provider_uid = read_guid(r);
    uint16_t t = r.u16();
    if (!is_folder_type(t)) invalid("Folder EntryID FolderType " + hex16(t) + " is not a folder type");
    id.type = FolderEntryType(t);
    id.database = read_guid(r);
    id.gc = read_gc(r);
    read_pad(r, "Folder EntryID");
    return id;
  });
}

// --- Message EntryID (MS-OXCDATA 2.2.4.2) -------------------------------------
// Flags, ProviderUID, MessageType, FolderDatabaseGuid, FolderGlobalCounter, Pad,
// MessageDatabaseGuid, MessageGlobalCounter, Pad.

Bytes MessageEntryId::serialize() const {
  if (!is_message_type(uint16_t(type)))
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "MessageType " + hex16(uint16_t(type)) + " is not a message type");
  BinaryWriter w;
  w.u32(flags);
  w.bytes(provider_uid.bytes);
  w.u16(uint16_t(type));
  w.bytes(folder_database.bytes);
  write_gc(w, folder_gc);
  w.u16(0);
  w.bytes(message_database.bytes);
  write_gc(w, message_gc);
  w.u16(0);
  return w.take();
}

MessageEntryId MessageEntryId::parse(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_INVALID_ENTRYID, "Message EntryID", [&] {
    if (data.size() != kMessageEntryIdSize)
      invalid("Message EntryID is " + std::to_string(data.size()) + " bytes, want 70");
    BinaryReader r(data);
    MessageEntryId id;
    id.flags = r.u32();
    id.provider_uid = read_guid(r);
    uint16_t t = r.u16();
    if (!is_message_type(t)) invalid("Message EntryID MessageType " + hex16(t) + " is not a message type");
    id.type = FolderEntryType(t);
    id.folder_database = read_guid(r);
    id.folder_gc = read_gc(r);
    read_pad(r, "Message EntryID");
    id.message_database = read_guid(r);
    id.message_gc = read_gc(r);
    read_pad(r, "Message EntryID");
    return id;
  });
}

// --- Store Object EntryID (MS-OXCDATA 2.2.4.3) --------------------------------
// Flags (4), ProviderUID (16, kStoreWrapProviderUid), Version (1, 0), Flag (1, 0), DLLFileName (14),
// WrappedFlags (4), WrappedProviderUID (16), WrappedType (4), ServerShortname (8-bit, NUL-terminated),
// MailboxDN (8-bit, NUL-terminated; mailbox stores only).

Bytes StoreEntryId::serialize() const {
  if (dll_name.size() >= kDllNameSize)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "DLLFileName '" + dll_name + "' does not fit in 14 bytes");
  check_no_nul(dll_name, "DLLFileName");
  check_no_nul(server_short_name, "ServerShortname");
  check_no_nul(mailbox_dn, "MailboxDN");
  if (wrapped_type != kWrappedTypeMailbox && !mailbox_dn.empty())
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "MailboxDN is only present in a mailbox store's entry ID");
  BinaryWriter w;
  w.u32(flags);
  w.bytes(kStoreWrapProviderUid.bytes);
  w.u8(version);
  w.u8(flag);
  Bytes name(kDllNameSize, 0);
  std::copy(dll_name.begin(), dll_name.end(), name.begin());
  w.bytes(name);
  w.u32(wrapped_flags);
  w.bytes(wrapped_provider_uid.bytes);
  w.u32(wrapped_type);
  w.str8z(server_short_name);
  if (wrapped_type == kWrappedTypeMailbox) w.str8z(mailbox_dn);
  return w.take();
}

StoreEntryId StoreEntryId::parse(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_INVALID_ENTRYID, "Store EntryID", [&] {
    BinaryReader r(data);
    StoreEntryId id;
    id.flags = r.u32();
    if (read_guid(r) != kStoreWrapProviderUid) invalid("Store EntryID ProviderUID is not the wrapped-store UID");
    id.version = r.u8();
    id.flag = r.u8();
    if (id.version != 0 || id.flag != 0) invalid("Store EntryID Version and Flag must be zero");
    auto name = r.bytes(kDllNameSize);
    auto nul = std::find(name.begin(), name.end(), uint8_t(0));
    if (nul == name.end()) invalid("Store EntryID DLLFileName is not NUL-terminated");
    if (std::any_of(nul, name.end(), [](uint8_t b) { return b != 0; }))
      invalid("Store EntryID DLLFileName has bytes after its terminator");
    id.dll_name.assign(name.begin(), nul);
    if (!iequals_ascii(id.dll_name, "emsmdb.dll")) invalid("Store EntryID DLLFileName '" + id.dll_name + "' is not emsmdb.dll");
    id.wrapped_flags = r.u32();
    id.wrapped_provider_uid = read_guid(r);
    if (id.wrapped_provider_uid != kMailboxStoreProviderUid && id.wrapped_provider_uid != kPublicStoreProviderUid)
      invalid("Store EntryID WrappedProviderUID is neither the mailbox nor the public store UID");
    id.wrapped_type = r.u32();
    if (id.wrapped_type != kWrappedTypeMailbox && id.wrapped_type != kWrappedTypePublic)
      invalid("Store EntryID WrappedType " + std::to_string(id.wrapped_type) + " is neither 0x0C nor 0x06");
    id.server_short_name = r.str8z();
    if (id.wrapped_type == kWrappedTypeMailbox) id.mailbox_dn = r.str8z();
    expect_end(r, "Store EntryID");
    return id;
  });
}

// --- One-Off EntryID (MS-OXCDATA 2.2.5.1) -------------------------------------
// Flags (4), ProviderUID (16, kOneOffProviderUid), Version (2, 0), flags (2), then DisplayName,
// AddressType, EmailAddress: UTF-16LE when MAPI_ONE_OFF_UNICODE is set, else 8-bit; each NUL-terminated.

Bytes OneOffEntryId::serialize() const {
  if (other_flags & (kOneOffUnicode | kOneOffNoRichInfo))
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "other_flags repeats the Unicode / no-rich-info bits");
  check_no_nul(display_name, "DisplayName");
  check_no_nul(address_type, "AddressType");
  check_no_nul(email_address, "EmailAddress");
  BinaryWriter w;
  w.u32(0);
  w.bytes(kOneOffProviderUid.bytes);
  w.u16(0);
  w.u16(uint16_t(other_flags | (unicode ? kOneOffUnicode : 0) | (no_rich_info ? kOneOffNoRichInfo : 0)));
  for (const std::string* s : {&display_name, &address_type, &email_address}) {
    if (unicode) w.utf16z(*s);
    else w.str8z(*s);
  }
  return w.take();
}

OneOffEntryId OneOffEntryId::parse(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_INVALID_ENTRYID, "One-Off EntryID", [&] {
    BinaryReader r(data);
    if (r.u32() != 0) invalid("One-Off EntryID Flags must be zero");
    if (read_guid(r) != kOneOffProviderUid) invalid("One-Off EntryID ProviderUID is not MAPI_ONE_OFF_UID");
    if (r.u16() != 0) invalid("One-Off EntryID Version must be zero");
    uint16_t f = r.u16();
    OneOffEntryId id;
    id.unicode = (f & kOneOffUnicode) != 0;
    id.no_rich_info = (f & kOneOffNoRichInfo) != 0;
    id.other_flags = uint16_t(f & ~(kOneOffUnicode | kOneOffNoRichInfo));
    for (std::string* s : {&id.display_name, &id.address_type, &id.email_address}) *s = id.unicode ? r.utf16z() : r.str8z();
    expect_end(r, "One-Off EntryID");
    return id;
  });
}

// --- Address Book EntryID (MS-OXCDATA 2.2.5.2) --------------------------------
// Flags (4), ProviderUID (16, kAddressBookProviderUid), Version (4, 1), Type (4), X500DN (8-bit, NUL-terminated).

Bytes AddressBookEntryId::serialize() const {
  check_no_nul(x500_dn, "X500DN");
  BinaryWriter w;
  w.u32(flags);
  w.bytes(kAddressBookProviderUid.bytes);
  w.u32(kAddressBookVersion);
  w.u32(type);
  w.str8z(x500_dn);
  return w.take();
}

AddressBookEntryId AddressBookEntryId::parse(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_INVALID_ENTRYID, "Address Book EntryID", [&] {
    BinaryReader r(data);
    AddressBookEntryId id;
    id.flags = r.u32();
    if (read_guid(r) != kAddressBookProviderUid) invalid("Address Book EntryID ProviderUID is not the Exchange address book UID");
    if (r.u32() != kAddressBookVersion) invalid("Address Book EntryID Version must be 1");
    id.type = r.u32();
    id.x500_dn = r.str8z();
    expect_end(r, "Address Book EntryID");
    return id;
  });
}

// --- classification ------------------------------------------------------------

EntryIdKind classify_entry_id(ByteView data) {
  if (data.size() < 20) return EntryIdKind::Unknown;
  Guid uid;
  std::copy(data.begin() + 4, data.begin() + 20, uid.bytes.begin());
  if (uid == kOneOffProviderUid) return EntryIdKind::OneOff;
  if (uid == kAddressBookProviderUid) return EntryIdKind::AddressBook;
  if (uid == kStoreWrapProviderUid) return EntryIdKind::Store;
  if (data.size() == kFolderEntryIdSize || data.size() == kMessageEntryIdSize) {
    uint16_t t = uint16_t(data[20] | data[21] << 8);
    if (data.size() == kFolderEntryIdSize && is_folder_type(t)) return EntryIdKind::Folder;
    if (data.size() == kMessageEntryIdSize && is_message_type(t)) return EntryIdKind::Message;
  }
  return EntryIdKind::Unknown;
}

// --- XID and PredecessorChangeList (MS-OXCFXICS 2.2.2.2 - 2.2.2.4) ------------

Bytes Xid::serialize() const {
  if (local_id.empty() || local_id.size() > 8)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "XID LocalId must be 1 to 8 bytes, not " + std::to_string(local_id.size()));
  BinaryWriter w;
  w.bytes(namespace_guid.bytes);
  w.bytes(local_id);
  return w.take();
}

Xid Xid::parse(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_CORRUPT_DATA, "XID", [&] {
    if (data.size() < 17 || data.size() > 24) corrupt("XID is " + std::to_string(data.size()) + " bytes, want 17 to 24");
    BinaryReader r(data);
    Xid x;
    x.namespace_guid = read_guid(r);
    x.local_id = r.copy(r.remaining());
    return x;
  });
}

Xid make_xid(const Guid& g, GlobalCounter gc) {
  BinaryWriter w;
  write_gc(w, gc);
  return Xid{g, w.take()};
}

std::vector<Xid> parse_pcl(ByteView data) {
  return parse_as(ErrorCode::MAPI_E_CORRUPT_DATA, "PredecessorChangeList", [&] {
    BinaryReader r(data);
    std::vector<Xid> out;
    while (!r.at_end()) {
      uint8_t size = r.u8();  // SizedXid: XidSize (1 byte), then the XID
      out.push_back(Xid::parse(r.bytes(size)));
    }
    return out;
  });
}

Bytes serialize_pcl(const std::vector<Xid>& pcl) {
  BinaryWriter w;
  for (const auto& x : pcl) {
    Bytes b = x.serialize();
    w.u8(uint8_t(b.size()));
    w.bytes(b);
  }
  return w.take();
}

namespace {
// LocalIds compare as unsigned big-endian numbers (a change number's GLOBCNT grows).
bool newer(const Bytes& a, const Bytes& b) {
  auto skip = [](const Bytes& v) {
    size_t i = 0;
    while (i < v.size() && v[i] == 0) ++i;
    return i;
  };
  size_t ia = skip(a), ib = skip(b);
  size_t la = a.size() - ia, lb = b.size() - ib;
  if (la != lb) return la > lb;
  return std::lexicographical_compare(b.begin() + ptrdiff_t(ib), b.end(), a.begin() + ptrdiff_t(ia), a.end());
}
}  // namespace

void pcl_merge(std::vector<Xid>& pcl, const Xid& change) {
  for (auto& x : pcl) {
    if (x.namespace_guid == change.namespace_guid) {
      if (newer(change.local_id, x.local_id)) x.local_id = change.local_id;
      return;
    }
  }
  pcl.push_back(change);
}

Bytes address_search_key(std::string_view type, std::string_view address) {
  Bytes key;
  key.reserve(type.size() + address.size() + 2);
  auto upper = [&](std::string_view s) {
    for (char c : s) key.push_back(uint8_t(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
  };
  upper(type);
  key.push_back(':');
  upper(address);
  key.push_back(0);
  return key;
}

}  // namespace openmapi
