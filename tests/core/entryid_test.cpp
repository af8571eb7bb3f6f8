// Entry IDs, object ids, XIDs and PCLs. The byte strings below are assembled field by field from the
// tables in MS-OXCDATA 2.2.1 / 2.2.4 / 2.2.5 and MS-OXCFXICS 2.2.2 (the fixed values, e.g. the
// provider UIDs and "EMSMDB.DLL", are the bytes those sections print).
#include "test_util.h"
#include "core/entryid.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"

using namespace openmapi;

namespace {

using openmapi::testing::code_of;

const Guid kG1 = Guid::from_string("00112233-4455-6677-8899-aabbccddeeff");
const Guid kG2 = Guid::from_string("fedcba98-7654-3210-0123-456789abcdef");
// The same GUIDs in wire order (Data1..Data3 little-endian).
const std::string kG1Hex = "33221100554477668899aabbccddeeff";
const std::string kG2Hex = "98badcfe547610320123456789abcdef";

// MS-OXCDATA fixed provider UIDs, as printed there (%x...).
const std::string kStoreWrapUid = "38a1bb1005e5101aa1bb08002b2a56c2";
const std::string kMailboxUid = "1b55fa20aa6611cd9bc800aa002fc45a";
const std::string kPublicUid = "1c830210aa6611cd9bc800aa002fc45a";
const std::string kOneOffUid = "812b1fa4bea310199d6e00dd010f5402";
const std::string kAbUid = "dca740c8c042101ab4b908002b2fe182";

}  // namespace

TEST(EntryId, ProviderUidConstantsMatchTheirGuidText) {
  EXPECT_EQ(kG1Hex, to_hex(kG1.bytes));
  EXPECT_EQ(to_hex(kStoreWrapProviderUid.bytes), kStoreWrapUid);
  EXPECT_EQ(to_hex(kMailboxStoreProviderUid.bytes), kMailboxUid);
  EXPECT_EQ(kMailboxStoreProviderUid.to_string(), "20fa551b-66aa-cd11-9bc8-00aa002fc45a");
  EXPECT_EQ(to_hex(kPublicStoreProviderUid.bytes), kPublicUid);
  EXPECT_EQ(kOneOffProviderUid.to_string(), "a41f2b81-a3be-1910-9d6e-00dd010f5402");
  EXPECT_EQ(kAddressBookProviderUid.to_string(), "c840a7dc-42c0-1a10-b4b9-08002b2fe182");
}

TEST(ObjectId, U64Layout) {
  // MS-OXCDATA 2.2.1.1: REPLID (2 bytes) then GLOBCNT (6 bytes); the GC is big-endian.
  ObjectId id{0x0001, 0x000000000123};
  uint64_t v = id.to_u64();
  Bytes le;
  for (int i = 0; i < 8; ++i) le.push_back(uint8_t(v >> (8 * i)));
  EXPECT_EQ(to_hex(le), "0100" "000000000123");
  EXPECT_EQ(v, 0x2301000000000001ull);
  EXPECT_EQ(ObjectId::from_u64(v), id);
  ObjectId big{0xABCD, kMaxGlobalCounter};
  EXPECT_EQ(ObjectId::from_u64(big.to_u64()), big);
  EXPECT_EQ(code_of([] { (void)ObjectId{1, kMaxGlobalCounter + 1}.to_u64(); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  for (uint64_t x : {0ull, 1ull, 0xFFFFFFFFFFFFFFFFull, 0x0123456789ABCDEFull}) EXPECT_EQ(ObjectId::from_u64(x).to_u64(), x);
}

TEST(LongTermId, Bytes) {
  // MS-OXCDATA 2.2.1.3.1: DatabaseGuid (16), GlobalCounter (6), Pad (2).
  LongTermId l{kG1, 0x0A0B0C0D0E0F};
  EXPECT_EQ(to_hex(l.serialize()), kG1Hex + "0a0b0c0d0e0f" + "0000");
  EXPECT_EQ(LongTermId::parse(l.serialize()), l);
  EXPECT_EQ(code_of([&] { LongTermId::parse(from_hex(kG1Hex + "0a0b0c0d0e0f0100")); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(code_of([&] { LongTermId::parse(from_hex(kG1Hex + "0a0b0c0d0e0f")); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
}

TEST(FolderEntryId, BytesAndRoundTrip) {
  // MS-OXCDATA 2.2.4.1: Flags, ProviderUID, FolderType, DatabaseGuid, GlobalCounter, Pad = 46 bytes.
  FolderEntryId f{0, kG1, FolderEntryType::PrivateFolder, kG2, 0x000000000001};
  Bytes b = f.serialize();
  EXPECT_EQ(b.size(), 46u);
  EXPECT_EQ(to_hex(b), "00000000" + kG1Hex + "0100" + kG2Hex + "000000000001" + "0000");
  EXPECT_EQ(FolderEntryId::parse(b), f);
  EXPECT_EQ(classify_entry_id(b), EntryIdKind::Folder);

  FolderEntryId pub{0, kG2, FolderEntryType::PublicFolder, kG1, kMaxGlobalCounter};
  EXPECT_EQ(FolderEntryId::parse(pub.serialize()), pub);
}

TEST(FolderEntryId, Malformed) {
  Bytes good = FolderEntryId{0, kG1, FolderEntryType::PrivateFolder, kG2, 5}.serialize();
  auto bad = [](Bytes b) { return code_of([&] { FolderEntryId::parse(b); }); };
  EXPECT_EQ(bad({}), ErrorCode::MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(bad(Bytes(good.begin(), good.end() - 1)), ErrorCode::MAPI_E_INVALID_ENTRYID);  // truncated
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(bad(longer), ErrorCode::MAPI_E_INVALID_ENTRYID);
  Bytes wrong_type = good;
  wrong_type[20] = 0x07;  // a message type
  EXPECT_EQ(bad(wrong_type), ErrorCode::MAPI_E_INVALID_ENTRYID);
  Bytes pad = good;
  pad[45] = 1;
  EXPECT_EQ(bad(pad), ErrorCode::MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(code_of([] { FolderEntryId{0, kG1, FolderEntryType::PrivateMessage, kG2, 1}.serialize(); }),
            ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([] { FolderEntryId{0, kG1, FolderEntryType::PrivateFolder, kG2, kMaxGlobalCounter + 1}.serialize(); }),
            ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST(MessageEntryId, BytesAndRoundTrip) {
  // MS-OXCDATA 2.2.4.2: Flags, ProviderUID, MessageType, FolderDatabaseGuid, FolderGlobalCounter, Pad,
  // MessageDatabaseGuid, MessageGlobalCounter, Pad = 70 bytes.
  MessageEntryId m{0, kG1, FolderEntryType::PrivateMessage, kG2, 0x10, kG1, 0x0102030405};
  Bytes b = m.serialize();
  EXPECT_EQ(b.size(), 70u);
  EXPECT_EQ(to_hex(b), "00000000" + kG1Hex + "0700" + kG2Hex + "000000000010" + "0000" + kG1Hex + "000102030405" + "0000");
  EXPECT_EQ(MessageEntryId::parse(b), m);
  EXPECT_EQ(classify_entry_id(b), EntryIdKind::Message);

  Bytes folder_type = b;
  folder_type[20] = 0x01;
  EXPECT_EQ(code_of([&] { MessageEntryId::parse(folder_type); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(classify_entry_id(folder_type), EntryIdKind::Unknown);
  Bytes pad = b;
  pad[44] = 1;  // the first Pad
  EXPECT_EQ(code_of([&] { MessageEntryId::parse(pad); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(code_of([&] { MessageEntryId::parse(Bytes(b.begin(), b.begin() + 46)); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
}

TEST(StoreEntryId, MailboxBytes) {
  // MS-OXCDATA 2.2.4.3: Flags, ProviderUID (%x38.A1.BB.10...), Version 0, Flag 0,
  // DLLFileName %x45.4D.53.4D.44.42.2E.44.4C.4C.00.00.00.00, WrappedFlags 0,
  // WrappedProviderUID (mailbox %x1B.55.FA.20...), WrappedType 0x0C, ServerShortname, MailboxDN.
  StoreEntryId s;
  s.wrapped_provider_uid = kMailboxStoreProviderUid;
  s.server_short_name = "srv";
  s.mailbox_dn = "/o=x";
  Bytes b = s.serialize();
  EXPECT_EQ(to_hex(b), "00000000" + kStoreWrapUid + "00" "00" "454d534d44422e444c4c00000000" "00000000" + kMailboxUid +
                           "0c000000" "73727600" "2f6f3d7800");
  EXPECT_EQ(StoreEntryId::parse(b), s);
  EXPECT_EQ(classify_entry_id(b), EntryIdKind::Store);
}

TEST(StoreEntryId, PublicStoreHasNoMailboxDn) {
  StoreEntryId s;
  s.wrapped_provider_uid = kPublicStoreProviderUid;
  s.wrapped_type = 0x06;
  s.server_short_name = "pf";
  Bytes b = s.serialize();
  EXPECT_EQ(to_hex(b), "00000000" + kStoreWrapUid + "0000" "454d534d44422e444c4c00000000" "00000000" + kPublicUid +
                           "06000000" "706600");
  EXPECT_EQ(StoreEntryId::parse(b), s);
  s.mailbox_dn = "/o=x";
  EXPECT_EQ(code_of([&] { s.serialize(); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST(StoreEntryId, LowerCaseDllNameIsAccepted) {
  StoreEntryId s;
  s.dll_name = "emsmdb.dll";
  s.wrapped_provider_uid = kMailboxStoreProviderUid;
  s.server_short_name = "a";
  s.mailbox_dn = "b";
  EXPECT_EQ(StoreEntryId::parse(s.serialize()), s);
}

TEST(StoreEntryId, Malformed) {
  StoreEntryId s;
  s.wrapped_provider_uid = kMailboxStoreProviderUid;
  s.server_short_name = "srv";
  s.mailbox_dn = "/o=x";
  const Bytes good = s.serialize();
  auto bad = [](const Bytes& b) { return code_of([&] { StoreEntryId::parse(b); }); };
  for (size_t n = 0; n < good.size(); ++n) EXPECT_EQ(bad(Bytes(good.begin(), good.begin() + ptrdiff_t(n))), ErrorCode::MAPI_E_INVALID_ENTRYID) << n;
  Bytes b = good;
  b[4] ^= 1;  // ProviderUID
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b[20] = 1;  // Version
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b[22] = 'X';  // DLL name
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b[22 + 13] = 'X';  // no terminator in the 14 bytes
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b[40] ^= 1;  // WrappedProviderUID
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b[56] = 0x07;  // WrappedType
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b.push_back(0);
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  s.dll_name = "a-very-long-name.dll";
  EXPECT_EQ(code_of([&] { s.serialize(); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST(OneOffEntryId, UnicodeBytes) {
  // MS-OXCDATA 2.2.5.1: Flags 0, ProviderUID %x81.2B.1F.A4..., Version (16-bit, 0), flags (16-bit,
  // MAPI_ONE_OFF_UNICODE 0x8000), then DisplayName, AddressType, EmailAddress (UTF-16LE, terminated).
  OneOffEntryId o{"A", "SMTP", "a@b", true, false};
  Bytes b = o.serialize();
  EXPECT_EQ(to_hex(b), "00000000" + kOneOffUid + "0000" "0080" "41000000" "53004d00540050000000" "6100400062000000");
  EXPECT_EQ(OneOffEntryId::parse(b), o);
  EXPECT_EQ(classify_entry_id(b), EntryIdKind::OneOff);
}

TEST(OneOffEntryId, AnsiAndFlags) {
  OneOffEntryId o{"Bob", "SMTP", "bob@example.com", false, true};
  Bytes b = o.serialize();
  EXPECT_EQ(to_hex(b), "00000000" + kOneOffUid + "0000" "0100" "426f6200" "534d545000" + to_hex(Bytes{'b', 'o', 'b', '@'}) +
                           "6578616d706c652e636f6d00");
  EXPECT_EQ(OneOffEntryId::parse(b), o);
  // Other bits of the flags word survive a round trip.
  OneOffEntryId p{"Ünïcödé 😀", "EX", "/o=x", true, true, 0x1000};
  EXPECT_EQ(OneOffEntryId::parse(p.serialize()), p);
  Bytes pb = p.serialize();
  EXPECT_EQ(to_hex(Bytes(pb.begin() + 22, pb.begin() + 24)), "0190");
}

TEST(OneOffEntryId, Malformed) {
  const Bytes good = OneOffEntryId{"A", "SMTP", "a@b", true, false}.serialize();
  auto bad = [](const Bytes& b) { return code_of([&] { OneOffEntryId::parse(b); }); };
  for (size_t n = 0; n < good.size(); ++n) EXPECT_EQ(bad(Bytes(good.begin(), good.begin() + ptrdiff_t(n))), ErrorCode::MAPI_E_INVALID_ENTRYID) << n;
  Bytes b = good;
  b[5] ^= 0xFF;
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b[20] = 1;  // Version
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b.push_back(0);
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  b = good;
  b[24] = 0x00;
  b[25] = 0xD8;  // DisplayName starts with a lone high surrogate
  EXPECT_EQ(bad(b), ErrorCode::MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(code_of([] { OneOffEntryId{std::string("a\0b", 3), "SMTP", "x"}.serialize(); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST(AddressBookEntryId, BytesAndMalformed) {
  // MS-OXCDATA 2.2.5.2: Flags, ProviderUID %xDC.A7.40.C8..., Version 1, Type, X500DN (NUL-terminated).
  AddressBookEntryId a{0, 0, "/o=Org/cn=u"};
  Bytes b = a.serialize();
  EXPECT_EQ(to_hex(b), "00000000" + kAbUid + "01000000" "00000000" "2f6f3d4f72672f636e3d7500");
  EXPECT_EQ(AddressBookEntryId::parse(b), a);
  EXPECT_EQ(classify_entry_id(b), EntryIdKind::AddressBook);
  AddressBookEntryId dl{0, 1, "/o=Org/cn=list"};
  EXPECT_EQ(AddressBookEntryId::parse(dl.serialize()), dl);

  auto bad = [](const Bytes& x) { return code_of([&] { AddressBookEntryId::parse(x); }); };
  for (size_t n = 0; n < b.size(); ++n) EXPECT_EQ(bad(Bytes(b.begin(), b.begin() + ptrdiff_t(n))), ErrorCode::MAPI_E_INVALID_ENTRYID) << n;
  Bytes v = b;
  v[20] = 2;  // Version
  EXPECT_EQ(bad(v), ErrorCode::MAPI_E_INVALID_ENTRYID);
  v = b;
  v[19] ^= 1;
  EXPECT_EQ(bad(v), ErrorCode::MAPI_E_INVALID_ENTRYID);
}

TEST(EntryId, ClassifyUnknown) {
  EXPECT_EQ(classify_entry_id({}), EntryIdKind::Unknown);
  EXPECT_EQ(classify_entry_id(Bytes(19, 0)), EntryIdKind::Unknown);
  EXPECT_EQ(classify_entry_id(Bytes(46, 0)), EntryIdKind::Unknown);  // FolderType 0
  EXPECT_EQ(classify_entry_id(Bytes(100, 0)), EntryIdKind::Unknown);
}

TEST(Xid, BytesAndPcl) {
  // MS-OXCFXICS 2.2.2.2: XID = NamespaceGuid (16) + LocalId (variable); 2.2.2.3/2.2.2.4: a PCL is a
  // list of SizedXid (XidSize, 1 byte, then the XID).
  Xid a = make_xid(kG1, 0x000000000005);
  EXPECT_EQ(to_hex(a.serialize()), kG1Hex + "000000000005");
  EXPECT_EQ(Xid::parse(a.serialize()), a);
  Xid b = make_xid(kG2, 0x0000000A0000);
  std::vector<Xid> pcl{a, b};
  Bytes wire = serialize_pcl(pcl);
  EXPECT_EQ(to_hex(wire), "16" + kG1Hex + "000000000005" + "16" + kG2Hex + "0000000a0000");
  EXPECT_EQ(parse_pcl(wire), pcl);
  EXPECT_TRUE(parse_pcl({}).empty());
  // Other LocalId sizes are legal (1..8 bytes).
  Xid short_id{kG1, {0x07}};
  EXPECT_EQ(parse_pcl(serialize_pcl({short_id})), std::vector<Xid>{short_id});
}

TEST(Xid, MalformedPcl) {
  auto bad = [](const std::string& hex) { return code_of([&] { parse_pcl(from_hex(hex)); }); };
  EXPECT_EQ(bad("16" + kG1Hex + "0000000005"), ErrorCode::MAPI_E_CORRUPT_DATA);   // truncated XID
  EXPECT_EQ(bad("10" + kG1Hex), ErrorCode::MAPI_E_CORRUPT_DATA);                   // XidSize 16: no LocalId
  EXPECT_EQ(bad("19" + kG1Hex + "000000000000000005"), ErrorCode::MAPI_E_CORRUPT_DATA);  // 25 bytes
  EXPECT_EQ(bad("00"), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([] { Xid::parse(Bytes(16, 0)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([] { Xid{kG1, {}}.serialize(); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([] { make_xid(kG1, kMaxGlobalCounter + 1); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST(Xid, PclMerge) {
  std::vector<Xid> pcl{make_xid(kG1, 5)};
  pcl_merge(pcl, make_xid(kG1, 7));  // newer: replaces
  EXPECT_EQ(pcl, std::vector<Xid>{make_xid(kG1, 7)});
  pcl_merge(pcl, make_xid(kG1, 6));  // older: ignored
  EXPECT_EQ(pcl, std::vector<Xid>{make_xid(kG1, 7)});
  pcl_merge(pcl, make_xid(kG2, 1));  // another namespace: added
  EXPECT_EQ(pcl, (std::vector<Xid>{make_xid(kG1, 7), make_xid(kG2, 1)}));
  pcl_merge(pcl, Xid{kG2, {0x02}});  // a shorter LocalId compares by value
  EXPECT_EQ(pcl[1], (Xid{kG2, {0x02}}));
  pcl_merge(pcl, make_xid(kG2, 0x100));
  EXPECT_EQ(pcl[1], make_xid(kG2, 0x100));
  pcl_merge(pcl, Xid{kG2, {0xFF}});
  EXPECT_EQ(pcl[1], make_xid(kG2, 0x100));
}
