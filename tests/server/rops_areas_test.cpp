// The ROPs of each area beyond the first slice: recipients, attachments and streams, named
// properties, moving and copying, table navigation, store ids and receive folders, message
// status, read flags and submission. Requests are built byte by byte from MS-OXCROPS and
// MS-OXCDATA layouts; results are checked on the wire and in the store.
#include "core/namedprop.h"
#include "core/unicode.h"
#include "rop_test_util.h"
#include "test_util.h"

#include <chrono>
#include <thread>

using namespace openmapi::rop_testing;

namespace {

void put_name(BinaryWriter& w, uint8_t kind, const Guid& set, uint32_t lid, const std::string& name) {
  // PropertyName (MS-OXCDATA 2.6.1): Kind, GUID, then LID or NameSize + UTF-16LE name with its NUL.
  w.u8(kind);
  w.bytes(set.bytes);
  if (kind == 0x00) w.u32(lid);
  if (kind == 0x01) {
    BinaryWriter n;
    n.utf16z(name);
    w.u8(uint8_t(n.size()));
    w.bytes(n.data());
  }
}

Bytes utf16z(const std::string& s) {
  BinaryWriter w;
  w.utf16z(s);
  return w.take();
}

}  // namespace

TEST_F(Rops, RecipientsAreWrittenReadAndRemovedAsRecipientRows) {
  const uint64_t inbox = fid_of(store::SpecialFolder::Inbox);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x06); w.u8(0); w.u8(0); w.u8(1); w.u16(0x0FFF); w.u64(inbox); w.u8(0);  // RopCreateMessage into 1
  // RopModifyRecipients: one column (PidTagSmtpAddress), two rows.
  w.u8(0x0E); w.u8(0); w.u8(1); w.u16(1); w.u32(0x39FE001F); w.u16(2);
  {
    BinaryWriter row;  // SMTP (Type 3) with E, D, U: 0x0003 | 0x0008 | 0x0010 | 0x0200
    row.u16(0x021B);
    row.utf16z("bob@example.com");
    row.utf16z("Bob");
    row.u16(1);   // RecipientColumnCount
    row.u8(0x00);  // StandardPropertyRow
    row.utf16z("bob@example.com");
    w.u32(0); w.u8(1); w.u16(uint16_t(row.size())); w.bytes(row.data());  // RowId 0, To
  }
  {
    BinaryWriter row;  // X500DN (Type 1) with D, U; the DN is 8-bit whatever U says
    row.u16(0x0211);
    row.u8(0);  // AddressPrefixUsed
    row.u8(0);  // DisplayType: DT_MAILUSER
    row.str8z("/o=Example/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=carol");
    row.utf16z("Carol");
    row.u16(0);  // no RecipientProperties
    row.u8(0x00);
    w.u32(1); w.u8(2); w.u16(uint16_t(row.size())); w.bytes(row.data());  // RowId 1, Cc
  }
  w.u8(0x0C); w.u8(0); w.u8(1); w.u8(1); w.u8(0x02);  // RopSaveChangesMessage, KeepOpenReadWrite
  w.u8(0x0F); w.u8(0); w.u8(1); w.u32(0); w.u16(0);   // RopReadRecipients from RowId 0
  Output o = run(w.data(), {0, 0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x06, 1);
  r.u8();  // HasMessageId
  expect_header(r, 0x0E, 1);
  expect_header(r, 0x0C, 1);
  EXPECT_EQ(r.u8(), 1);
  const store::MessageId mid = store::MessageId(ObjectId::from_u64(r.u64()).gc);
  expect_header(r, 0x0F, 1);
  ASSERT_EQ(r.u8(), 2);  // RowCount
  // ReadRecipientRow: RowId, RecipientType, CodePageId, Reserved, RecipientRowSize, RecipientRow.
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_EQ(r.u8(), 1);
  EXPECT_EQ(r.u16(), 1200);
  EXPECT_EQ(r.u16(), 0);
  {
    BinaryReader row(r.bytes(r.u16()));
    EXPECT_EQ(row.u16(), 0x021B);
    EXPECT_EQ(row.utf16z(), "bob@example.com");
    EXPECT_EQ(row.utf16z(), "Bob");
  }
  EXPECT_EQ(r.u32(), 1u);
  EXPECT_EQ(r.u8(), 2);
  r.skip(4);
  {
    BinaryReader row(r.bytes(r.u16()));
    EXPECT_EQ(row.u16(), 0x0211);
    EXPECT_EQ(row.u8(), 0);
    EXPECT_EQ(row.u8(), 0);
    EXPECT_EQ(row.str8z(), "/o=Example/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=carol");
    EXPECT_EQ(row.utf16z(), "Carol");
  }
  EXPECT_TRUE(r.at_end());

  Message stored = mb->load_message(mid);
  ASSERT_EQ(stored.recipients.size(), 2u);
  EXPECT_EQ(stored.recipients[0].get_string(tags::PidTagAddressType), "SMTP");
  EXPECT_EQ(stored.recipients[0].get_string(tags::PidTagEmailAddress), "bob@example.com");
  EXPECT_EQ(stored.recipients[0].get_string(tags::PidTagSmtpAddress), "bob@example.com");
  EXPECT_EQ(stored.recipients[0].get_string(tags::PidTagDisplayName), "Bob");
  EXPECT_EQ(stored.recipients[0].get_i32(tags::PidTagRecipientType), 1);
  EXPECT_EQ(stored.recipients[1].get_string(tags::PidTagAddressType), "EX");
  EXPECT_EQ(stored.recipients[1].get_i32(tags::PidTagRecipientType), 2);

  // A row with RecipientRowSize 0 goes; then RopRemoveAllRecipients empties the list.
  BinaryWriter w2;
  w2.u8(0x0E); w2.u8(0); w2.u8(1); w2.u16(0); w2.u16(1); w2.u32(0); w2.u8(1); w2.u16(0);
  w2.u8(0x0C); w2.u8(0); w2.u8(1); w2.u8(1); w2.u8(0x02);
  Output o2 = run(w2.data(), o.handles);
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x0E, 1);
  stored = mb->load_message(mid);
  ASSERT_EQ(stored.recipients.size(), 1u);
  EXPECT_EQ(stored.recipients[0].get_string(tags::PidTagDisplayName), "Carol");
  BinaryWriter w3;
  w3.u8(0x0D); w3.u8(0); w3.u8(1); w3.u32(0);
  w3.u8(0x0C); w3.u8(0); w3.u8(1); w3.u8(1); w3.u8(0x02);
  w3.u8(0x0F); w3.u8(0); w3.u8(1); w3.u32(0); w3.u16(0);
  Output o3 = run(w3.data(), o.handles);
  BinaryReader r3(o3.rops);
  expect_header(r3, 0x0D, 1);
  r3.skip(6 + 1 + 8);
  expect_header(r3, 0x0F, 1, 0x8004010F);  // no recipient left to read
  EXPECT_TRUE(mb->load_message(mid).recipients.empty());

  // A RecipientColumnCount beyond the columns is a corrupt buffer.
  BinaryWriter bad;
  bad.u8(0x0E); bad.u8(0); bad.u8(1); bad.u16(0); bad.u16(1); bad.u32(5); bad.u8(1);
  bad.u16(5); bad.u16(0x0200); bad.u16(3); bad.u8(0);
  EXPECT_EQ(openmapi::testing::code_of([&] { run(bad.data(), o.handles); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

TEST_F(Rops, AttachmentsAreCreatedWrittenThroughStreamsAndDeleted) {
  Bytes data(6000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 13 + 5);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x06); w.u8(0); w.u8(0); w.u8(1); w.u16(0x0FFF); w.u64(fid_of(store::SpecialFolder::Inbox)); w.u8(0);
  w.u8(0x23); w.u8(0); w.u8(1); w.u8(2);  // RopCreateAttachment into 2
  {
    BinaryWriter v;  // RopSetProperties on it: PidTagAttachMethod 1, PidTagAttachLongFilename
    v.u16(2);
    v.u32(0x37050003); v.u32(1);
    v.u32(0x3707001F); v.utf16z("numbers.bin");
    w.u8(0x0A); w.u8(0); w.u8(2); w.u16(uint16_t(v.size())); w.bytes(v.data());
  }
  w.u8(0x2B); w.u8(0); w.u8(2); w.u8(3); w.u32(0x37010102); w.u8(0x02);  // RopOpenStream, Create, into 3
  for (size_t at = 0; at < data.size(); at += 3000) {                     // RopWriteStream twice
    w.u8(0x2D); w.u8(0); w.u8(3); w.u16(3000); w.bytes(ByteView(data.data() + at, 3000));
  }
  w.u8(0x5E); w.u8(0); w.u8(3);                                // RopGetStreamSize
  w.u8(0x2E); w.u8(0); w.u8(3); w.u8(0); w.u64(10);            // RopSeekStream to 10
  w.u8(0x2C); w.u8(0); w.u8(3); w.u16(5);                      // RopReadStream 5 bytes
  w.u8(0x5D); w.u8(0); w.u8(3);                                // RopCommitStream
  w.u8(0x25); w.u8(0); w.u8(2); w.u8(2); w.u8(0);              // RopSaveChangesAttachment
  w.u8(0x0C); w.u8(0); w.u8(1); w.u8(1); w.u8(0x02);           // RopSaveChangesMessage
  w.u8(0x52); w.u8(0); w.u8(1);                                // RopGetValidAttachments
  Output o = run(w.data(), {0, 0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x06, 1);
  r.u8();
  expect_header(r, 0x23, 2);
  EXPECT_EQ(r.u32(), 0u);  // AttachmentID
  expect_header(r, 0x0A, 2);
  EXPECT_EQ(r.u16(), 0);  // no problems
  expect_header(r, 0x2B, 3);
  EXPECT_EQ(r.u32(), 0u);  // StreamSize of a new stream
  for (int i = 0; i < 2; ++i) {
    expect_header(r, 0x2D, 3);
    EXPECT_EQ(r.u16(), 3000);  // WrittenSize
  }
  expect_header(r, 0x5E, 3);
  EXPECT_EQ(r.u32(), 6000u);
  expect_header(r, 0x2E, 3);
  EXPECT_EQ(r.u64(), 10u);
  expect_header(r, 0x2C, 3);
  EXPECT_EQ(r.u16(), 5);
  EXPECT_EQ(r.copy(5), Bytes(data.begin() + 10, data.begin() + 15));
  expect_header(r, 0x5D, 3);
  expect_header(r, 0x25, 2);
  expect_header(r, 0x0C, 1);
  EXPECT_EQ(r.u8(), 1);
  const store::MessageId mid = store::MessageId(ObjectId::from_u64(r.u64()).gc);
  expect_header(r, 0x52, 1);
  EXPECT_EQ(r.u16(), 1);
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_TRUE(r.at_end());

  Message stored = mb->load_message(mid);
  ASSERT_EQ(stored.attachments.size(), 1u);
  const PropValue* bin = stored.attachments[0].props.find(tags::PidTagAttachDataBinary);
  ASSERT_TRUE(bin);
  EXPECT_EQ(bin->get<Bytes>(), data);
  EXPECT_EQ(stored.attachments[0].props.get_string(tags::PidTagAttachLongFilename), "numbers.bin");

  // RopDeleteAttachment: gone once the message is saved.
  BinaryWriter w2;
  w2.u8(0x24); w2.u8(0); w2.u8(1); w2.u32(0);
  w2.u8(0x0C); w2.u8(0); w2.u8(1); w2.u8(1); w2.u8(0x02);
  Output o2 = run(w2.data(), o.handles);
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x24, 1);
  EXPECT_TRUE(mb->load_message(mid).attachments.empty());
}

TEST_F(Rops, NamedPropertiesAreMappedListedAndNamed) {
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x56); w.u8(0); w.u8(0); w.u8(0x02); w.u16(2);  // RopGetPropertyIdsFromNames, create
  put_name(w, 0x00, propset::PSETID_Common, 0x8501, "");
  put_name(w, 0x01, propset::PS_PUBLIC_STRINGS, 0, "x-openmapi-test");
  Output o = run(w.data(), {0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x56, 0);
  ASSERT_EQ(r.u16(), 2);
  const uint16_t lid_id = r.u16(), name_id = r.u16();
  EXPECT_GE(lid_id, 0x8000);
  EXPECT_GE(name_id, 0x8000);
  EXPECT_NE(lid_id, name_id);
  EXPECT_EQ(mb->named_property_id(PropertyName{propset::PSETID_Common, NameKind::Id, 0x8501, ""}, false), lid_id);

  BinaryWriter w2;
  w2.u8(0x55); w2.u8(0); w2.u8(0); w2.u16(3); w2.u16(name_id); w2.u16(lid_id); w2.u16(0xFFF0);  // GetNamesFromPropertyIds
  w2.u8(0x56); w2.u8(0); w2.u8(0); w2.u8(0x00); w2.u16(1);                                       // an unknown name, no create
  put_name(w2, 0x01, propset::PS_PUBLIC_STRINGS, 0, "never-mapped");
  w2.u8(0x5F); w2.u8(0); w2.u8(0); w2.u8(0x00); w2.u8(1); w2.bytes(propset::PSETID_Common.bytes);  // QueryNamedProperties
  Output o2 = run(w2.data(), {o.handles[0]});
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x55, 0);
  ASSERT_EQ(r2.u16(), 3);
  EXPECT_EQ(r2.u8(), 0x01);
  EXPECT_EQ(r2.copy(16), Bytes(propset::PS_PUBLIC_STRINGS.bytes.begin(), propset::PS_PUBLIC_STRINGS.bytes.end()));
  EXPECT_EQ(r2.u8(), utf16z("x-openmapi-test").size());
  EXPECT_EQ(r2.utf16z(), "x-openmapi-test");
  EXPECT_EQ(r2.u8(), 0x00);
  r2.skip(16);
  EXPECT_EQ(r2.u32(), 0x8501u);
  EXPECT_EQ(r2.u8(), 0xFF);  // nothing maps 0xFFF0
  r2.skip(16);
  expect_header(r2, 0x56, 0, 0x00040380);  // ecWarnWithErrors: one name has no id
  EXPECT_EQ(r2.u16(), 1);
  EXPECT_EQ(r2.u16(), 0);
  expect_header(r2, 0x5F, 0);
  const uint16_t n = r2.u16();
  std::vector<uint16_t> ids;
  for (uint16_t i = 0; i < n; ++i) ids.push_back(r2.u16());
  EXPECT_NE(std::find(ids.begin(), ids.end(), lid_id), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), name_id), ids.end());  // another property set
  for (uint16_t i = 0; i < n; ++i) {
    EXPECT_EQ(r2.u8(), 0x00);
    EXPECT_EQ(r2.copy(16), Bytes(propset::PSETID_Common.bytes.begin(), propset::PSETID_Common.bytes.end()));
    r2.u32();
  }
  EXPECT_TRUE(r2.at_end());
}

TEST_F(Rops, MessagesAndFoldersMoveCopyAndEmpty) {
  const store::MessageId a = save("a"), b = save("b");
  save("c");
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(fid_bytes(inbox)); w.u8(0);             // OpenFolder Inbox into 1
  w.u8(0x1C); w.u8(0); w.u8(1); w.u8(2); w.u8(1); w.u8(1); w.u8(0); w.u8(0);           // CreateFolder "Archive" into 2
  w.bytes(utf16z("Archive")); w.bytes(utf16z(""));
  w.u8(0x33); w.u8(0); w.u8(1); w.u8(2); w.u16(1); w.u64(fid_bytes(a)); w.u8(0); w.u8(1);  // copy a
  w.u8(0x33); w.u8(0); w.u8(1); w.u8(2); w.u16(1); w.u64(fid_bytes(b)); w.u8(0); w.u8(0);  // move b
  w.u8(0x33); w.u8(0); w.u8(1); w.u8(5); w.u16(1); w.u64(fid_bytes(b)); w.u8(0); w.u8(0);  // to an empty slot
  Output o = run(w.data(), {0, 0, 0, 0, 0, 0xFFFFFFFF});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x02, 1);
  r.skip(2);
  expect_header(r, 0x1C, 2);
  const store::FolderId archive = store::FolderId(ObjectId::from_u64(r.u64()).gc);
  EXPECT_EQ(r.u8(), 0);  // IsExistingFolder
  expect_header(r, 0x33, 1);
  EXPECT_EQ(r.u8(), 0);  // PartialCompletion
  expect_header(r, 0x33, 1);
  EXPECT_EQ(r.u8(), 0);
  expect_header(r, 0x33, 1, 0x00000503);  // ecDstNullObject, then DestHandleIndex and PartialCompletion
  EXPECT_EQ(r.u32(), 5u);
  EXPECT_EQ(r.u8(), 0);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(mb->contents_table(inbox)->row_count(), 2u);    // c and a
  EXPECT_EQ(mb->contents_table(archive)->row_count(), 2u);  // a's copy and b

  // MoveFolder the archive under the IPM subtree with a new name; EmptyFolder on it.
  const store::FolderId ipm = mb->special_folder(store::SpecialFolder::IpmSubtree);
  BinaryWriter w2;
  w2.u8(0x02); w2.u8(0); w2.u8(0); w2.u8(3); w2.u64(fid_bytes(ipm)); w2.u8(0);   // OpenFolder IPM subtree into 3
  w2.u8(0x35); w2.u8(0); w2.u8(1); w2.u8(3); w2.u8(0); w2.u8(1); w2.u64(fid_bytes(archive));
  w2.bytes(utf16z("Old mail"));
  w2.u8(0x58); w2.u8(0); w2.u8(2); w2.u8(0); w2.u8(0);                          // EmptyFolder (handle 2: the archive)
  Output o2 = run(w2.data(), o.handles);
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x02, 3);
  r2.skip(2);
  expect_header(r2, 0x35, 1);
  EXPECT_EQ(r2.u8(), 0);
  expect_header(r2, 0x58, 2);
  EXPECT_EQ(r2.u8(), 0);
  EXPECT_EQ(mb->parent_folder(archive), ipm);
  EXPECT_EQ(mb->folder_properties(archive).get_string(tags::PidTagDisplayName), "Old mail");
  EXPECT_EQ(mb->contents_table(archive)->row_count(), 0u);
  EXPECT_EQ(mb->contents_table(inbox)->row_count(), 2u);
}

TEST_F(Rops, TablesRestrictFindBookmarkAndSeekFractions) {
  for (const char* s : {"b", "c", "a"}) save(s);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(fid_of(store::SpecialFolder::Inbox)); w.u8(0);
  w.u8(0x05); w.u8(0); w.u8(1); w.u8(2); w.u8(0);                                   // GetContentsTable into 2
  w.u8(0x12); w.u8(0); w.u8(2); w.u8(0); w.u16(1); w.u32(0x0037001F);              // SetColumns: Subject
  w.u8(0x13); w.u8(0); w.u8(2); w.u8(0); w.u16(1); w.u16(0); w.u16(0); w.u32(0x0037001F); w.u8(0);  // sort ascending
  // RopRestrict with RES_PROPERTY (0x04), RELOP_EQ (0x04), Subject = "b" (MS-OXCDATA 2.12.5).
  BinaryWriter res;
  res.u8(0x04); res.u8(0x04); res.u32(0x0037001F); res.u32(0x0037001F); res.utf16z("b");
  w.u8(0x14); w.u8(0); w.u8(2); w.u8(0); w.u16(uint16_t(res.size())); w.bytes(res.data());
  w.u8(0x15); w.u8(0); w.u8(2); w.u8(0); w.u8(1); w.u16(10);                      // QueryRows
  w.u8(0x14); w.u8(0); w.u8(2); w.u8(0); w.u16(0);                                // no restriction
  // RopFindRow for Subject = "c" from the beginning; then a bookmark on it.
  BinaryWriter find;
  find.u8(0x04); find.u8(0x04); find.u32(0x0037001F); find.u32(0x0037001F); find.utf16z("c");
  w.u8(0x4F); w.u8(0); w.u8(2); w.u8(0); w.u16(uint16_t(find.size())); w.bytes(find.data()); w.u8(0); w.u16(0);
  w.u8(0x1B); w.u8(0); w.u8(2);                                                    // CreateBookmark
  w.u8(0x1A); w.u8(0); w.u8(2); w.u32(1); w.u32(3);                               // SeekRowFractional 1/3
  w.u8(0x17); w.u8(0); w.u8(2);                                                    // QueryPosition
  w.u8(0x37); w.u8(0); w.u8(2);                                                    // QueryColumnsAll
  Output o = run(w.data(), {0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x02, 1);
  r.skip(2);
  expect_header(r, 0x05, 2);
  EXPECT_EQ(r.u32(), 3u);
  expect_header(r, 0x12, 2);
  r.u8();
  expect_header(r, 0x13, 2);
  r.u8();
  expect_header(r, 0x14, 2);
  EXPECT_EQ(r.u8(), 0);  // TableStatus
  expect_header(r, 0x15, 2);
  r.u8();                // Origin
  ASSERT_EQ(r.u16(), 1);
  EXPECT_EQ(r.u8(), 0x00);
  EXPECT_EQ(r.utf16z(), "b");
  expect_header(r, 0x14, 2);
  r.u8();
  expect_header(r, 0x4F, 2);
  EXPECT_EQ(r.u8(), 0);  // RowNoLongerVisible
  EXPECT_EQ(r.u8(), 1);  // HasRowData
  EXPECT_EQ(r.u8(), 0x00);
  EXPECT_EQ(r.utf16z(), "c");
  expect_header(r, 0x1B, 2);
  const Bytes bookmark = r.copy(r.u16());
  expect_header(r, 0x1A, 2);
  expect_header(r, 0x17, 2);
  EXPECT_EQ(r.u32(), 1u);  // a third of three rows
  EXPECT_EQ(r.u32(), 3u);
  expect_header(r, 0x37, 2);
  const uint16_t n = r.u16();
  std::vector<uint32_t> all;
  for (uint16_t i = 0; i < n; ++i) all.push_back(r.u32());
  EXPECT_NE(std::find(all.begin(), all.end(), 0x0037001Fu), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), 0x674D0014u), all.end());  // PidTagInstID
  EXPECT_TRUE(r.at_end());

  // Back to the bookmark ("c", the last row), read it; free it; a freed bookmark is ecInvalidBookmark.
  BinaryWriter w2;
  w2.u8(0x19); w2.u8(0); w2.u8(2); w2.u16(uint16_t(bookmark.size())); w2.bytes(bookmark); w2.i32(0); w2.u8(1);
  w2.u8(0x15); w2.u8(0); w2.u8(2); w2.u8(0); w2.u8(1); w2.u16(10);
  w2.u8(0x89); w2.u8(0); w2.u8(2); w2.u16(uint16_t(bookmark.size())); w2.bytes(bookmark);
  w2.u8(0x19); w2.u8(0); w2.u8(2); w2.u16(uint16_t(bookmark.size())); w2.bytes(bookmark); w2.i32(0); w2.u8(1);
  Output o2 = run(w2.data(), o.handles);
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x19, 2);
  EXPECT_EQ(r2.u8(), 0);  // RowNoLongerVisible
  EXPECT_EQ(r2.u8(), 0);  // HasSoughtLess
  EXPECT_EQ(r2.i32(), 0);
  expect_header(r2, 0x15, 2);
  EXPECT_EQ(r2.u8(), 0x02);  // at the end after reading it
  ASSERT_EQ(r2.u16(), 1);
  r2.u8();
  EXPECT_EQ(r2.utf16z(), "c");
  expect_header(r2, 0x89, 2);
  expect_header(r2, 0x19, 2, 0x80040405);
  EXPECT_TRUE(r2.at_end());
}

TEST_F(Rops, StoreIdsReceiveFoldersAndTransportAnswers) {
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  const store::FolderId outbox = mb->special_folder(store::SpecialFolder::Outbox);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x43); w.u8(0); w.u8(0); w.u64(fid_bytes(inbox));                       // LongTermIdFromId
  w.u8(0x26); w.u8(0); w.u8(0); w.u64(fid_bytes(outbox)); w.str8z("IPM.Note.Custom");  // SetReceiveFolder
  w.u8(0x68); w.u8(0); w.u8(0);                                                  // GetReceiveFolderTable
  w.u8(0x49); w.u8(0); w.u8(0);                                                  // GetAddressTypes
  w.u8(0x6D); w.u8(0); w.u8(0);                                                  // GetTransportFolder
  w.u8(0x7B); w.u8(0); w.u8(0);                                                  // GetStoreState
  Output o = run(w.data(), {0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x43, 0);
  // LongTermID (MS-OXCDATA 2.2.1.3.1): the replica GUID, the 6-byte global counter, 2 zero bytes.
  const Bytes lt = r.copy(24);
  const Guid replica = mb->replica_guid();
  EXPECT_EQ(Bytes(lt.begin(), lt.begin() + 16), Bytes(replica.bytes.begin(), replica.bytes.end()));
  const uint64_t wire = fid_bytes(inbox);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(lt[16 + i], uint8_t(wire >> (16 + 8 * i))) << i;
  EXPECT_EQ(lt[22], 0);
  EXPECT_EQ(lt[23], 0);
  expect_header(r, 0x26, 0);
  expect_header(r, 0x68, 0);
  const uint32_t rows = r.u32();
  bool custom = false;
  for (uint32_t i = 0; i < rows; ++i) {
    EXPECT_EQ(r.u8(), 0x00);
    const uint64_t folder = r.u64();
    const std::string cls = r.str8z();
    r.u64();  // PidTagLastModificationTime
    if (ascii_lower(cls) == "ipm.note.custom") {  // message classes compare without case
      custom = true;
      EXPECT_EQ(folder, fid_bytes(outbox));
    }
  }
  EXPECT_TRUE(custom);
  expect_header(r, 0x49, 0);
  EXPECT_EQ(r.u16(), 2);
  EXPECT_EQ(r.u16(), 8);
  EXPECT_EQ(r.copy(8), (Bytes{'S', 'M', 'T', 'P', 0, 'E', 'X', 0}));
  expect_header(r, 0x6D, 0);
  EXPECT_EQ(r.u64(), fid_bytes(outbox));
  expect_header(r, 0x7B, 0);
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_TRUE(r.at_end());

  // And the LongTermID back to the id; one of another database is not found.
  BinaryWriter w2;
  w2.u8(0x44); w2.u8(0); w2.u8(0); w2.bytes(lt);
  Bytes other = lt;
  other[0] ^= 0xFF;
  w2.u8(0x44); w2.u8(0); w2.u8(0); w2.bytes(other);
  Output o2 = run(w2.data(), o.handles);
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x44, 0);
  EXPECT_EQ(r2.u64(), fid_bytes(inbox));
  expect_header(r2, 0x44, 0, 0x8004010F);
  EXPECT_TRUE(r2.at_end());
}

TEST_F(Rops, MessageStatusReadFlagAndSubmission) {
  const store::MessageId unread = save("unread", 0);
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(fid_bytes(inbox)); w.u8(0);
  w.u8(0x20); w.u8(0); w.u8(1); w.u64(fid_bytes(unread)); w.u32(0x0002); w.u32(0x0002);  // SetMessageStatus: Tagged
  w.u8(0x1F); w.u8(0); w.u8(1); w.u64(fid_bytes(unread));                               // GetMessageStatus
  w.u8(0x03); w.u8(0); w.u8(0); w.u8(2); w.u16(0x0FFF); w.u64(fid_bytes(inbox)); w.u8(1); w.u64(fid_bytes(unread));
  w.u8(0x11); w.u8(0); w.u8(2); w.u8(2); w.u8(0x00);  // SetMessageReadFlag: read
  w.u8(0x11); w.u8(0); w.u8(2); w.u8(2); w.u8(0x00);  // again: nothing changes
  Output o = run(w.data(), {0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x02, 1);
  r.skip(2);
  expect_header(r, 0x20, 1);
  EXPECT_EQ(r.u32(), 0u);  // the status before
  expect_header(r, 0x1F, 1);
  EXPECT_EQ(r.u32(), 0x0002u);
  expect_header(r, 0x03, 2);
  r.u8();  // HasNamedProperties
  for (int i = 0; i < 2; ++i)  // SubjectPrefix, NormalizedSubject (TypedString)
    if (r.u8() == 0x04) r.utf16z();
  r.u16();
  r.skip(size_t(r.u16()) * 4);
  r.u8();
  expect_header(r, 0x11, 2);
  EXPECT_EQ(r.u8(), 1);  // ReadStatusChanged
  expect_header(r, 0x11, 2);
  EXPECT_EQ(r.u8(), 0);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(mb->load_message(unread).props.get_i32(tags::PidTagMessageFlags).value_or(0) & 1, 1);

  // A message made in the Outbox, submitted, then taken back.
  const uint64_t outbox = fid_of(store::SpecialFolder::Outbox);
  BinaryWriter w2;
  w2.u8(0x06); w2.u8(0); w2.u8(0); w2.u8(1); w2.u16(0x0FFF); w2.u64(outbox); w2.u8(0);
  w2.u8(0x0E); w2.u8(0); w2.u8(1); w2.u16(0); w2.u16(1);
  {
    BinaryWriter row;
    row.u16(0x021B);
    row.utf16z("bob@example.com");
    row.utf16z("Bob");
    row.u16(0);
    row.u8(0);
    w2.u32(0); w2.u8(1); w2.u16(uint16_t(row.size())); w2.bytes(row.data());
  }
  w2.u8(0x0C); w2.u8(0); w2.u8(1); w2.u8(1); w2.u8(0x02);
  w2.u8(0x32); w2.u8(0); w2.u8(1); w2.u8(0);  // RopSubmitMessage
  Output o2 = run(w2.data(), o.handles);
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x06, 1);
  r2.u8();
  expect_header(r2, 0x0E, 1);
  expect_header(r2, 0x0C, 1);
  r2.u8();
  const uint64_t mid = r2.u64();
  expect_header(r2, 0x32, 1);
  EXPECT_TRUE(r2.at_end());
  auto queue = mb->outgoing_queue();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(fid_bytes(queue[0].first), mid);
  BinaryWriter w3;
  w3.u8(0x34); w3.u8(0); w3.u8(0); w3.u64(outbox); w3.u64(mid);  // RopAbortSubmit on the logon
  Output o3 = run(w3.data(), o.handles);
  EXPECT_EQ(o3.rops, (Bytes{0x34, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(mb->outgoing_queue().empty());
}

TEST_F(Rops, WhatDoesNotFitMaxRopOutComesBackAsRopBufferTooSmall) {
  BinaryWriter rest;
  rest.u8(0x08); rest.u8(0); rest.u8(0); rest.u16(0); rest.u16(1);        // RopGetPropertiesAll on the logon
  rest.u8(0x27); rest.u8(0); rest.u8(0); rest.str8z("IPM.Note");          // RopGetReceiveFolder
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.bytes(rest.data());
  // 300 bytes of output: the logon's answer fits, the store's properties do not.
  const Bytes out = session->execute(rop_buffer(w.data(), {0}), 300);
  BinaryReader r0(out);
  const uint16_t rop_size = r0.u16();
  BinaryReader r(r0.bytes(rop_size - 2));
  r.skip(kLogonResponseSize);
  EXPECT_EQ(r.u8(), 0xFF);            // RopBufferTooSmall
  EXPECT_GE(r.u16(), 300);            // SizeNeeded
  EXPECT_EQ(r.copy(rest.size()), rest.data());  // RequestBuffers: the ROPs not run, as sent
  EXPECT_TRUE(r.at_end());
  const uint32_t logon = r0.u32();
  EXPECT_EQ(logon, 0u);
  EXPECT_TRUE(r0.at_end());
  // Sent again with room, they run.
  Output o = run(rest.data(), {logon});
  BinaryReader r2(o.rops);
  expect_header(r2, 0x08, 0);
  const uint16_t count = r2.u16();
  EXPECT_GT(count, 0);
}

TEST_F(Rops, OpenTablesAreToldOfNewRowsThroughRopNotify) {
  save("first");
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(fid_bytes(inbox)); w.u8(0);
  w.u8(0x05); w.u8(0); w.u8(1); w.u8(2); w.u8(0x00);                        // contents table, notifications on
  w.u8(0x12); w.u8(0); w.u8(2); w.u8(0); w.u16(1); w.u32(0x0037001F);      // SetColumns: Subject
  w.u8(0x05); w.u8(0); w.u8(1); w.u8(3); w.u8(0x10);                        // another, NoNotifications
  Output o = run(w.data(), {0, 0, 0, 0});
  EXPECT_FALSE(session->notifications_pending());
  const store::MessageId added = save("second");
  // The store's notification thread queues it (a commit in this process wakes it at once).
  for (int i = 0; i < 200 && !session->notifications_pending(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(session->notifications_pending());
  Output n = run(Bytes{}, o.handles);
  BinaryReader r(n.rops);
  // RopNotify: NotificationHandle (the first table), LogonId, TableModified on messages (0x8100),
  // TABLE_ROW_ADDED, FID, MID, Instance, InsertAfter FID/MID/Instance, the row in its columns.
  EXPECT_EQ(r.u8(), 0x2A);
  EXPECT_EQ(r.u32(), o.handles[2]);
  EXPECT_EQ(r.u8(), 0);
  EXPECT_EQ(r.u16(), 0x8100);
  EXPECT_EQ(r.u16(), 0x0003);
  EXPECT_EQ(r.u64(), fid_bytes(inbox));
  EXPECT_EQ(r.u64(), fid_bytes(added));
  EXPECT_EQ(r.u32(), 0u);
  r.skip(8 + 8 + 4);  // InsertAfter: the row before it
  const uint16_t size = r.u16();
  BinaryReader row(r.bytes(size));
  EXPECT_EQ(row.u8(), 0x00);
  EXPECT_EQ(row.utf16z(), "second");
  EXPECT_TRUE(row.at_end());
  EXPECT_TRUE(r.at_end());  // nothing for the table that asked for no notifications
  EXPECT_FALSE(session->notifications_pending());
}

TEST_F(Rops, CategoriesExpandWithTheirRowsAndCollapse) {
  for (const char* s : {"a", "b", "a"}) save(s);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(fid_of(store::SpecialFolder::Inbox)); w.u8(0);
  w.u8(0x05); w.u8(0); w.u8(1); w.u8(2); w.u8(0x10);
  w.u8(0x12); w.u8(0); w.u8(2); w.u8(0); w.u16(3); w.u32(0x0037001F); w.u32(0x674D0014); w.u32(0x0FF50003);  // Subject, InstID, RowType
  // One category on the subject, none expanded (MS-OXCTABL 2.2.2.2.1: CategorizedCount 1, ExpandedCount 0).
  w.u8(0x13); w.u8(0); w.u8(2); w.u8(0); w.u16(1); w.u16(1); w.u16(0); w.u32(0x0037001F); w.u8(0);
  w.u8(0x15); w.u8(0); w.u8(2); w.u8(0); w.u8(1); w.u16(10);
  Output o = run(w.data(), {0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize + 8 + 10 + 7 + 7);
  expect_header(r, 0x15, 2);
  r.u8();
  ASSERT_EQ(r.u16(), 2);  // two collapsed headers: "a" and "b"
  std::vector<uint64_t> headers;
  for (int i = 0; i < 2; ++i) {
    const uint8_t flag = r.u8();
    if (flag == 0x01) r.u8();
    r.utf16z();
    if (flag == 0x01) r.u8();
    headers.push_back(r.u64());
    if (flag == 0x01) r.u8();
    EXPECT_EQ(r.u32(), 4u);  // TBL_COLLAPSED_CATEGORY (MAPI: leaf 1, empty 2, expanded 3, collapsed 4)
  }
  // RopExpandRow on "a": two rows became visible, and they come with the answer.
  BinaryWriter w2;
  w2.u8(0x59); w2.u8(0); w2.u8(2); w2.u16(10); w2.u64(headers[0]);
  w2.u8(0x5A); w2.u8(0); w2.u8(2); w2.u64(headers[0]);  // and RopCollapseRow again
  Output o2 = run(w2.data(), o.handles);
  BinaryReader r2(o2.rops);
  expect_header(r2, 0x59, 2);
  EXPECT_EQ(r2.u32(), 2u);  // ExpandedRowCount
  ASSERT_EQ(r2.u16(), 2);   // RowCount
  for (int i = 0; i < 2; ++i) {
    const uint8_t flag = r2.u8();
    if (flag == 0x01) r2.u8();
    EXPECT_EQ(r2.utf16z(), "a");
    if (flag == 0x01) r2.u8();
    r2.u64();
    if (flag == 0x01) r2.u8();
    EXPECT_EQ(r2.u32(), 1u);  // TBL_LEAF_ROW
  }
  expect_header(r2, 0x5A, 2);
  EXPECT_EQ(r2.u32(), 2u);  // CollapsedRowCount
  EXPECT_TRUE(r2.at_end());
}

TEST_F(Rops, AClonedStreamSharesTheBytesWithItsOwnPosition) {
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x06); w.u8(0); w.u8(0); w.u8(1); w.u16(0x0FFF); w.u64(fid_of(store::SpecialFolder::Inbox)); w.u8(0);
  w.u8(0x2B); w.u8(0); w.u8(1); w.u8(2); w.u32(0x1000001F); w.u8(0x02);          // OpenStream(PidTagBody, Create) into 2
  w.u8(0x2D); w.u8(0); w.u8(2); w.u16(6); w.bytes(Bytes{'h', 0, 'e', 0, 'y', 0});  // "hey"
  w.u8(0x3B); w.u8(0); w.u8(2); w.u8(3);                                           // RopCloneStream into 3
  w.u8(0x2D); w.u8(0); w.u8(3); w.u16(4); w.bytes(Bytes{'!', 0, '!', 0});          // the clone writes where it stands
  w.u8(0x5E); w.u8(0); w.u8(2);                                                    // the original's size: 10
  w.u8(0x2E); w.u8(0); w.u8(2); w.u8(0); w.u64(0);                                 // the original rewinds
  w.u8(0x2C); w.u8(0); w.u8(2); w.u16(100);                                        // and reads both writes
  w.u8(0x5D); w.u8(0); w.u8(3);                                                    // the clone commits
  w.u8(0x0C); w.u8(0); w.u8(1); w.u8(1); w.u8(0x02);
  Output o = run(w.data(), {0, 0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x06, 1);
  r.u8();
  expect_header(r, 0x2B, 2);
  r.u32();
  expect_header(r, 0x2D, 2);
  EXPECT_EQ(r.u16(), 6);
  expect_header(r, 0x3B, 3);
  EXPECT_NE(o.handles[3], o.handles[2]);
  expect_header(r, 0x2D, 3);
  EXPECT_EQ(r.u16(), 4);
  expect_header(r, 0x5E, 2);
  EXPECT_EQ(r.u32(), 10u);
  expect_header(r, 0x2E, 2);
  EXPECT_EQ(r.u64(), 0u);
  expect_header(r, 0x2C, 2);
  EXPECT_EQ(r.copy(r.u16()), (Bytes{'h', 0, 'e', 0, 'y', 0, '!', 0, '!', 0}));
  expect_header(r, 0x5D, 3);
  expect_header(r, 0x0C, 1);
  r.u8();
  const store::MessageId mid = store::MessageId(ObjectId::from_u64(r.u64()).gc);
  EXPECT_EQ(mb->load_message(mid).props.get_string(tags::PidTagBody), "hey!!");
}

TEST_F(Rops, AStringPropertyStreamsAsUtf16) {
  // MS-OXCPRPT: a stream on a PtypString property carries the value as UTF-16LE.
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  m.props.set(PropValue::string(tags::PidTagBody, "Grüße"));
  const store::MessageId id = mb->save_message(mb->special_folder(store::SpecialFolder::Inbox), m);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x03); w.u8(0); w.u8(0); w.u8(1); w.u16(0x0FFF); w.u64(fid_of(store::SpecialFolder::Inbox)); w.u8(1); w.u64(fid_bytes(id));
  w.u8(0x2B); w.u8(0); w.u8(1); w.u8(2); w.u32(0x1000001F); w.u8(0x01);  // OpenStream(PidTagBody, ReadWrite)
  w.u8(0x2C); w.u8(0); w.u8(2); w.u16(100);
  w.u8(0x2E); w.u8(0); w.u8(2); w.u8(2); w.u64(0);                       // to the end, and one more character
  w.u8(0x2D); w.u8(0); w.u8(2); w.u16(2); w.bytes(Bytes{0x21, 0x00});    // "!"
  w.u8(0x01); w.u8(0); w.u8(2);                                           // RopRelease commits it
  w.u8(0x0C); w.u8(0); w.u8(1); w.u8(1); w.u8(0x02);
  Output o = run(w.data(), {0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(kLogonResponseSize);
  expect_header(r, 0x03, 1);
  r.u8();
  for (int i = 0; i < 2; ++i)
    if (r.u8() == 0x04) r.utf16z();
  r.u16();
  r.skip(size_t(r.u16()) * 4);
  r.u8();
  expect_header(r, 0x2B, 2);
  EXPECT_EQ(r.u32(), 10u);  // five UTF-16 code units
  expect_header(r, 0x2C, 2);
  EXPECT_EQ(r.copy(r.u16()), from_hex("47007200fc00df006500"));
  expect_header(r, 0x2E, 2);
  EXPECT_EQ(r.u64(), 10u);
  expect_header(r, 0x2D, 2);
  EXPECT_EQ(r.u16(), 2);
  expect_header(r, 0x0C, 1);
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagBody), "Grüße!");
}
