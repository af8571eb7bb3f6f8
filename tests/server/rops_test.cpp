// The ROP processor against MS-OXCROPS buffer layouts: requests built byte by byte (and the spec
// vectors of ../shared/spec-vectors/oxcrops), responses read byte by byte, values compared with
// what the store holds.
#include <ctime>

#include "rop_test_util.h"
#include "test_util.h"

using namespace openmapi::rop_testing;
using openmapi::testing::code_of;

TEST_F(Rops, LogonAnswersThePrivateMailboxLayout) {
  // The spec vector's layout, with this user's DN.
  const Bytes spec = vector_file("derived_roplogon_private_request.bin");
  ASSERT_EQ(spec.size(), 99u);
  const Bytes ours = logon_rop(0, 0, "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=user1");
  EXPECT_EQ(ours, spec);  // our request builder writes the spec vector's bytes
  Output o = run(logon_rop(0x0C, 0, dn), {0xFFFFFFFF});
  BinaryReader r(o.rops);
  EXPECT_EQ(r.u8(), 0xFE);
  EXPECT_EQ(r.u8(), 0);              // OutputHandleIndex
  EXPECT_EQ(r.u32(), 0u);            // ReturnValue
  EXPECT_EQ(r.u8(), 0x01);           // LogonFlags: Private
  using SF = store::SpecialFolder;
  for (SF f : {SF::Root, SF::DeferredAction, SF::SpoolerQueue, SF::IpmSubtree, SF::Inbox, SF::Outbox, SF::SentItems, SF::DeletedItems,
               SF::CommonViews, SF::Schedule, SF::Finder, SF::Views, SF::Shortcuts})
    EXPECT_EQ(r.u64(), fid_bytes(mb->special_folder(f))) << int(f);
  EXPECT_EQ(r.u8(), 0x07);           // ResponseFlags: Reserved | OwnerRight | SendAsRight
  const Guid mailbox_guid = mb->mailbox_guid(), replica_guid = mb->replica_guid();
  EXPECT_EQ(r.copy(16), Bytes(mailbox_guid.bytes.begin(), mailbox_guid.bytes.end()));
  EXPECT_EQ(r.u16(), 1);             // ReplId
  EXPECT_EQ(r.copy(16), Bytes(replica_guid.bytes.begin(), replica_guid.bytes.end()));
  r.skip(6);
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  EXPECT_EQ(r.u16(), tm.tm_year + 1900);  // LogonTime's year
  r.u64();                                  // GwartTime
  EXPECT_EQ(r.u32(), 0u);                   // StoreState
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(o.handles[0], 0x0C000000u);     // LogonId 0x0C: handle 0x0C000000

  // Another user's DN: ecLoginPerm, and the handle slot is left as it was.
  Output other = run(logon_rop(1, 0, "/o=OpenMAPI/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=bob"), {0xFFFFFFFF});
  EXPECT_EQ(other.rops, (Bytes{0xFE, 0, 0xF2, 0x03, 0, 0}));
  EXPECT_EQ(other.handles[0], 0xFFFFFFFFu);
}

TEST_F(Rops, HandlesCountUpPerLogonAndTablesAnswerRows) {
  save("b");
  save("a");
  save("c");
  BinaryWriter w;
  w.bytes(logon_rop(0x0C, 0, dn));
  w.u8(0x02); w.u8(0x0C); w.u8(0); w.u8(1);                 // RopOpenFolder from handle 0 into 1
  w.u64(fid_bytes(mb->special_folder(store::SpecialFolder::Inbox)));
  w.u8(0);
  w.u8(0x05); w.u8(0x0C); w.u8(1); w.u8(2); w.u8(0);        // RopGetContentsTable from 1 into 2
  w.u8(0x12); w.u8(0x0C); w.u8(2); w.u8(0); w.u16(3);       // RopSetColumns on 2
  w.u32(tags::PidTagSubject.value);
  w.u32(tags::PidTagMessageFlags.value);
  w.u32(0x1000001F);                                         // PidTagBody: none stored
  Output o = run(w.data(), {0, 0, 0});
  EXPECT_EQ(o.handles, (std::vector<uint32_t>{0x0C000000, 0x0C000001, 0x0C000002}));
  BinaryReader r(o.rops);
  r.skip(1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4);  // the Logon response
  EXPECT_EQ(r.copy(8), (Bytes{0x02, 1, 0, 0, 0, 0, 0, 0}));      // OpenFolder: ok, no rules, not ghosted
  EXPECT_EQ(r.copy(6), (Bytes{0x05, 2, 0, 0, 0, 0}));
  EXPECT_EQ(r.u32(), 3u);                                         // RowCount
  EXPECT_EQ(r.copy(7), (Bytes{0x12, 2, 0, 0, 0, 0, 0}));         // SetColumns: TBLSTAT_COMPLETE
  EXPECT_TRUE(r.at_end());

  // The spec's RopQueryRows (Advance, forward, 50 rows) on handle index 0, holding the table.
  const Bytes query = vector_file("spec_oxctabl_queryrows_request.bin");
  ASSERT_EQ(query, (Bytes{0x15, 0, 0, 0, 1, 0x32, 0}));
  Output q = run(query, {0x0C000002});
  BinaryReader rr(q.rops);
  EXPECT_EQ(rr.u8(), 0x15);
  EXPECT_EQ(rr.u8(), 0);
  EXPECT_EQ(rr.u32(), 0u);
  EXPECT_EQ(rr.u8(), 0x02);  // Origin: BOOKMARK_END, every row read
  ASSERT_EQ(rr.u16(), 3);
  std::vector<std::string> subjects;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rr.u8(), 0x01);  // FlaggedPropertyRow: the body is missing
    EXPECT_EQ(rr.u8(), 0x00);
    subjects.push_back(rr.utf16z());
    EXPECT_EQ(rr.u8(), 0x00);
    EXPECT_EQ(rr.u32() & 1, 1u);  // MSGFLAG_READ
    EXPECT_EQ(rr.u8(), 0x0A);
    EXPECT_EQ(rr.u32(), 0x8004010Fu);  // MAPI_E_NOT_FOUND
  }
  EXPECT_TRUE(rr.at_end());
  // The store's own order for the same table (no sort: as the store lists them).
  auto t = mb->contents_table(mb->special_folder(store::SpecialFolder::Inbox));
  t->set_columns({tags::PidTagSubject});
  std::vector<std::string> stored;
  for (const auto& row : t->query_rows(10)) stored.push_back(row[0].get<std::string>());
  EXPECT_EQ(subjects, stored);
}

TEST_F(Rops, PropertiesReceiveFoldersAndFailuresOneRopAtATime) {
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x27); w.u8(0); w.u8(0); w.str8z("IPM.Note.Custom");   // RopGetReceiveFolder
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1);                      // RopOpenFolder Inbox into 1
  w.u64(fid_bytes(mb->special_folder(store::SpecialFolder::Inbox)));
  w.u8(0);
  Output o = run(w.data(), {0, 0});
  BinaryReader r(o.rops);
  r.skip(1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4);
  EXPECT_EQ(r.copy(6), (Bytes{0x27, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.u64(), fid_bytes(mb->special_folder(store::SpecialFolder::Inbox)));  // the default receive folder
  EXPECT_EQ(r.str8z(), "");                                                        // registered for ""
  EXPECT_EQ(r.copy(8), (Bytes{0x02, 1, 0, 0, 0, 0, 0, 0}));

  // The spec vector's RopGetPropertiesSpecific (handle index 1, Unicode, Subject and MessageClass)
  // on the folder: neither exists there; then its display name, unspecified type.
  const Bytes gps = vector_file("derived_getpropertiesspecific_request.bin");
  BinaryWriter w2;
  w2.bytes(gps);
  w2.u8(0x07); w2.u8(0); w2.u8(1); w2.u16(0); w2.u16(1); w2.u16(1);
  w2.u32(0x30010000);  // PidTagDisplayName, PtypUnspecified
  Output p = run(w2.data(), o.handles);
  BinaryReader pr(p.rops);
  EXPECT_EQ(pr.copy(6), (Bytes{0x07, 1, 0, 0, 0, 0}));
  EXPECT_EQ(pr.u8(), 0x01);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(pr.u8(), 0x0A);
    EXPECT_EQ(pr.u32(), 0x8004010Fu);
  }
  EXPECT_EQ(pr.copy(6), (Bytes{0x07, 1, 0, 0, 0, 0}));
  EXPECT_EQ(pr.u8(), 0x00);     // StandardPropertyRow
  EXPECT_EQ(pr.u16(), 0x001F);  // TypedPropertyValue: PtypString
  EXPECT_EQ(pr.utf16z(), "Inbox");
  EXPECT_TRUE(pr.at_end());

  // RopRelease (no response), then the released handle: ecNullObject; an index past the table:
  // ecNullObject; an unknown ROP: ecNotSupported and the rest of the buffer is not run.
  BinaryWriter w3;
  w3.u8(0x01); w3.u8(0); w3.u8(1);                            // release the folder
  w3.u8(0x04); w3.u8(0); w3.u8(1); w3.u8(1); w3.u8(0);        // GetHierarchyTable on it
  w3.u8(0x04); w3.u8(0); w3.u8(9); w3.u8(1); w3.u8(0);        // index 9: no such slot
  w3.u8(0x3F); w3.u8(0); w3.u8(0); w3.u8(1); w3.u8(0);       // RopGetRulesTable: not served (yet)
  w3.u8(0x27); w3.u8(0); w3.u8(0); w3.str8z("");              // not run
  Output f = run(w3.data(), o.handles);
  EXPECT_EQ(f.rops, (Bytes{0x04, 1, 0xB9, 0x04, 0, 0, 0x04, 1, 0xB9, 0x04, 0, 0, 0x3F, 0, 0x02, 0x01, 0x04, 0x80}));
  EXPECT_EQ(session->object_count(), 1u);  // the Logon

  // A ROP cut short is a corrupt buffer; a RopSize larger than the buffer too.
  EXPECT_EQ(code_of([&] { run(Bytes{0x02, 0, 0}, {0}); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { session->execute(Bytes{0xFF, 0x00, 1, 2}, 0x8000); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { session->execute(Bytes{0x02, 0x00, 1}, 0x8000); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // 1-byte handle table
}

TEST_F(Rops, TablesSortSeekAndTellTheirPositionAndObjectsListTheirProperties) {
  save("b");
  save("a");
  save("c");
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1);
  w.u64(fid_bytes(mb->special_folder(store::SpecialFolder::Inbox)));
  w.u8(0);
  w.u8(0x05); w.u8(0); w.u8(1); w.u8(2); w.u8(0);
  w.u8(0x12); w.u8(0); w.u8(2); w.u8(0); w.u16(1); w.u32(tags::PidTagSubject.value);
  w.u8(0x13); w.u8(0); w.u8(2); w.u8(0); w.u16(1); w.u16(0); w.u16(0);   // RopSortTable: subject descending
  w.u32(tags::PidTagSubject.value); w.u8(0x01);
  w.u8(0x15); w.u8(0); w.u8(2); w.u8(0); w.u8(1); w.u16(1);               // QueryRows(1)
  w.u8(0x17); w.u8(0); w.u8(2);                                           // QueryPosition
  w.u8(0x18); w.u8(0); w.u8(2); w.u8(0); w.i32(5); w.u8(1);               // SeekRow(BEGINNING, 5)
  w.u8(0x16); w.u8(0); w.u8(2);                                           // GetStatus
  w.u8(0x13); w.u8(0); w.u8(2); w.u8(0); w.u16(1); w.u16(0); w.u16(0);    // a sort order 0x02: invalid
  w.u32(tags::PidTagSubject.value); w.u8(0x02);
  Output o = run(w.data(), {0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4);
  r.skip(8 + 10 + 7);                                             // OpenFolder, GetContentsTable, SetColumns
  EXPECT_EQ(r.copy(7), (Bytes{0x13, 2, 0, 0, 0, 0, 0}));           // SortTable: TBLSTAT_COMPLETE
  EXPECT_EQ(r.copy(6), (Bytes{0x15, 2, 0, 0, 0, 0}));
  EXPECT_EQ(r.u8(), 0x01);                                         // Origin: BOOKMARK_CURRENT (one of three read)
  EXPECT_EQ(r.u16(), 1);
  EXPECT_EQ(r.u8(), 0x00);                                         // StandardPropertyRow
  EXPECT_EQ(r.utf16z(), "c");                                      // descending: c first
  EXPECT_EQ(r.copy(6), (Bytes{0x17, 2, 0, 0, 0, 0}));
  EXPECT_EQ(r.u32(), 1u);                                          // Numerator: the cursor
  EXPECT_EQ(r.u32(), 3u);                                          // Denominator: the rows
  EXPECT_EQ(r.copy(6), (Bytes{0x18, 2, 0, 0, 0, 0}));
  EXPECT_EQ(r.u8(), 1);                                            // HasSoughtLess: only 3 rows
  EXPECT_EQ(r.i32(), 3);                                           // RowsSought
  EXPECT_EQ(r.copy(7), (Bytes{0x16, 2, 0, 0, 0, 0, 0}));           // GetStatus
  EXPECT_EQ(r.copy(6), (Bytes{0x13, 2, 0x57, 0, 0x07, 0x80}));     // ecInvalidParameter (0x80070057)
  EXPECT_TRUE(r.at_end());

  // The folder's property list and all its properties (MS-OXCPRPT): its display name among them.
  BinaryWriter w2;
  w2.u8(0x09); w2.u8(0); w2.u8(1);                                // GetPropertiesList on the folder
  w2.u8(0x08); w2.u8(0); w2.u8(1); w2.u16(0); w2.u16(1);         // GetPropertiesAll, Unicode
  Output p = run(w2.data(), o.handles);
  BinaryReader pr(p.rops);
  EXPECT_EQ(pr.copy(6), (Bytes{0x09, 1, 0, 0, 0, 0}));
  const uint16_t n = pr.u16();
  bool listed = false;
  for (uint16_t i = 0; i < n; ++i)
    if (PropTag(pr.u32()).id() == tags::PidTagDisplayName.id()) listed = true;
  EXPECT_TRUE(listed);
  EXPECT_EQ(pr.copy(6), (Bytes{0x08, 1, 0, 0, 0, 0}));
  const uint16_t count = pr.u16();
  EXPECT_GT(count, 3u);
  std::string name;
  for (uint16_t i = 0; i < count; ++i) {
    const PropTag t(pr.u32());
    if (t.type() == PropType::ErrorCode) {
      pr.u32();
      continue;
    }
    // ROP-buffer counts (MS-OXCDATA 2.11.1.1): 16-bit for a binary, 32-bit for a multi-value.
    if (t.type() == PropType::Binary) {
      pr.copy(pr.u16());
    } else if (t.type() == PropType::MultipleBinary) {
      for (uint32_t k = 0, m = pr.u32(); k < m; ++k) pr.copy(pr.u16());
    } else {
      PropValue v = read_value(pr, t, true);
      if (t == tags::PidTagDisplayName) name = v.get<std::string>();
    }
  }
  EXPECT_EQ(name, "Inbox");
  EXPECT_TRUE(pr.at_end());
}

TEST_F(Rops, OpenMessageAnswersItsSubjectAndRecipientCountAndItsProperties) {
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  m.props.set(PropValue::string(tags::PidTagSubject, "RE: hello"));
  m.props.set(PropValue::string(tags::PidTagSubjectPrefix, "RE: "));
  m.props.set(PropValue::string(tags::PidTagNormalizedSubject, "hello"));
  m.recipients.push_back(PropertyBag{PropValue::i32(tags::PidTagRecipientType, 1), PropValue::string(tags::PidTagDisplayName, "Bob")});
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  const store::MessageId id = mb->save_message(inbox, m);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x03); w.u8(0); w.u8(0); w.u8(1); w.u16(0x0FFF);           // RopOpenMessage into 1 (CodePageId: the logon's)
  w.u64(fid_bytes(inbox)); w.u8(0x00); w.u64(fid_bytes(id));        // read-only
  w.u8(0x07); w.u8(0); w.u8(1); w.u16(0); w.u16(1); w.u16(2);      // GetPropertiesSpecific on it
  w.u32(tags::PidTagSubject.value); w.u32(0x001A001F);
  w.u8(0x03); w.u8(0); w.u8(0); w.u8(2); w.u16(0x0FFF);             // the same message in the wrong folder
  w.u64(fid_bytes(mb->special_folder(store::SpecialFolder::Outbox))); w.u8(0x00); w.u64(fid_bytes(id));
  Output o = run(w.data(), {0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4);
  EXPECT_EQ(r.copy(7), (Bytes{0x03, 1, 0, 0, 0, 0, 0}));  // ok, no named properties
  EXPECT_EQ(r.u8(), 0x04);                                 // SubjectPrefix: Unicode
  EXPECT_EQ(r.utf16z(), "RE: ");
  EXPECT_EQ(r.u8(), 0x04);
  EXPECT_EQ(r.utf16z(), "hello");
  EXPECT_EQ(r.u16(), 1);                                   // RecipientCount
  const uint16_t columns = r.u16();                        // RecipientColumns, then the rows
  EXPECT_GT(columns, 0);
  r.skip(size_t(columns) * 4);
  EXPECT_EQ(r.u8(), 1);                                    // RowCount
  EXPECT_EQ(r.u8(), 1);                                    // RecipientType: To
  EXPECT_EQ(r.u16(), 1200);                                // CodePageId: Unicode
  EXPECT_EQ(r.u16(), 0);                                   // Reserved
  const uint16_t row_size = r.u16();
  BinaryReader row(r.bytes(row_size));
  // RecipientFlags (MS-OXCDATA 2.8.3.1): no address type (Type 0, no O), D (0x0010) and U (0x0200).
  EXPECT_EQ(row.u16(), 0x0210);
  EXPECT_EQ(row.utf16z(), "Bob");
  EXPECT_EQ(row.u16(), columns);                           // RecipientColumnCount
  EXPECT_EQ(row.u8(), 0x01);                               // FlaggedPropertyRow: none of the columns is set
  for (uint16_t i = 0; i < columns; ++i) {
    EXPECT_EQ(row.u8(), 0x0A);
    EXPECT_EQ(row.u32(), 0x8004010Fu);
  }
  EXPECT_TRUE(row.at_end());
  EXPECT_EQ(r.copy(6), (Bytes{0x07, 1, 0, 0, 0, 0}));
  EXPECT_EQ(r.u8(), 0x00);                                 // both there
  EXPECT_EQ(r.utf16z(), "RE: hello");
  EXPECT_EQ(r.utf16z(), "IPM.Note");
  EXPECT_EQ(r.copy(6), (Bytes{0x03, 2, 0x0F, 0x01, 0x04, 0x80}));  // MAPI_E_NOT_FOUND
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(o.handles[1], 0x00000001u);
  EXPECT_EQ(o.handles[2], 0u);  // left as it was
}

TEST_F(Rops, AnAttachmentIsListedOpenedAndReadThroughAStream) {
  Bytes data(20000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7 + 3);
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  m.props.set(PropValue::string(tags::PidTagSubject, "with a file"));
  Attachment a;
  a.props.set(PropValue::i32(tags::PidTagAttachMethod, 1));
  a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "report.pdf"));
  a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, data));
  m.attachments.push_back(std::move(a));
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  const store::MessageId id = mb->save_message(inbox, m);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x03); w.u8(0); w.u8(0); w.u8(1); w.u16(0x0FFF); w.u64(fid_bytes(inbox)); w.u8(0); w.u64(fid_bytes(id));
  w.u8(0x21); w.u8(0); w.u8(1); w.u8(2); w.u8(0x40);                         // GetAttachmentTable into 2
  w.u8(0x12); w.u8(0); w.u8(2); w.u8(0); w.u16(2);
  w.u32(tags::PidTagAttachNumber.value); w.u32(tags::PidTagAttachLongFilename.value);
  w.u8(0x15); w.u8(0); w.u8(2); w.u8(0); w.u8(1); w.u16(10);
  w.u8(0x22); w.u8(0); w.u8(1); w.u8(3); w.u8(0); w.u32(0);                  // OpenAttachment 0 into 3
  w.u8(0x2B); w.u8(0); w.u8(3); w.u8(4); w.u32(tags::PidTagAttachDataBinary.value); w.u8(0);  // OpenStream into 4
  w.u8(0x5E); w.u8(0); w.u8(4);                                               // GetStreamSize
  Output o = run(w.data(), {0, 0, 0, 0, 0});
  BinaryReader q(o.rops);
  q.skip(1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4);
  EXPECT_EQ(q.copy(7), (Bytes{0x03, 1, 0, 0, 0, 0, 0}));
  for (int i = 0; i < 2; ++i) {
    const uint8_t type = q.u8();
    if (type == 0x04) q.utf16z();
  }
  q.u16();                      // RecipientCount
  q.skip(size_t(q.u16()) * 4);  // RecipientColumns
  EXPECT_EQ(q.u8(), 0);         // RowCount: there are no recipients
  EXPECT_EQ(q.copy(6), (Bytes{0x21, 2, 0, 0, 0, 0}));
  EXPECT_EQ(q.copy(7), (Bytes{0x12, 2, 0, 0, 0, 0, 0}));
  EXPECT_EQ(q.copy(6), (Bytes{0x15, 2, 0, 0, 0, 0}));
  EXPECT_EQ(q.u8(), 0x02);
  ASSERT_EQ(q.u16(), 1);
  EXPECT_EQ(q.u8(), 0x00);
  EXPECT_EQ(q.u32(), 0u);                 // PidTagAttachNumber 0
  EXPECT_EQ(q.utf16z(), "report.pdf");
  EXPECT_EQ(q.copy(6), (Bytes{0x22, 3, 0, 0, 0, 0}));
  EXPECT_EQ(q.copy(6), (Bytes{0x2B, 4, 0, 0, 0, 0}));
  EXPECT_EQ(q.u32(), 20000u);             // StreamSize
  EXPECT_EQ(q.copy(6), (Bytes{0x5E, 4, 0, 0, 0, 0}));
  EXPECT_EQ(q.u32(), 20000u);
  EXPECT_TRUE(q.at_end());

  // ReadStream with 0xBABE and a MaximumByteCount, Execute after Execute until it is all read.
  Bytes got;
  for (int i = 0; i < 10 && got.size() < data.size(); ++i) {
    BinaryWriter rs;
    rs.u8(0x2C); rs.u8(0); rs.u8(4); rs.u16(0xBABE); rs.u32(8000);
    Output p = run(rs.data(), o.handles);
    BinaryReader pr(p.rops);
    ASSERT_EQ(pr.copy(6), (Bytes{0x2C, 4, 0, 0, 0, 0}));
    const uint16_t n = pr.u16();
    ASSERT_LE(n, 8000);
    ASSERT_GT(n, 0);
    Bytes chunk = pr.copy(n);
    got.insert(got.end(), chunk.begin(), chunk.end());
  }
  EXPECT_EQ(got, data);
  // SeekStream back to the start (STREAM_SEEK_SET), and a read of 16 bytes.
  BinaryWriter sk;
  sk.u8(0x2E); sk.u8(0); sk.u8(4); sk.u8(0); sk.i64(0);
  sk.u8(0x2C); sk.u8(0); sk.u8(4); sk.u16(16);
  Output k = run(sk.data(), o.handles);
  BinaryReader kr(k.rops);
  EXPECT_EQ(kr.copy(6), (Bytes{0x2E, 4, 0, 0, 0, 0}));
  EXPECT_EQ(kr.u64(), 0u);
  EXPECT_EQ(kr.copy(6), (Bytes{0x2C, 4, 0, 0, 0, 0}));
  ASSERT_EQ(kr.u16(), 16);
  EXPECT_EQ(kr.copy(16), Bytes(data.begin(), data.begin() + 16));
}

TEST_F(Rops, CreateSetAndSaveAMessage) {
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x06); w.u8(0); w.u8(0); w.u8(1); w.u16(0x0FFF); w.u64(fid_bytes(inbox)); w.u8(0);  // CreateMessage into 1
  Output o = run(w.data(), {0, 0});
  BinaryReader r(o.rops);
  r.skip(1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4);
  EXPECT_EQ(r.copy(7), (Bytes{0x06, 1, 0, 0, 0, 0, 0}));  // ok, HasMessageId 0
  EXPECT_TRUE(r.at_end());

  // MS-OXCPRPT's own SetProperties example (InputHandleIndex 0: the new message goes in slot 0),
  // then a computed property, refused one by one, and SaveChangesMessage.
  const Bytes spec = vector_file("spec_oxcprpt_setprops_request.bin");
  ASSERT_EQ(spec.size(), 41u);
  BinaryWriter w2;
  w2.bytes(spec);
  BinaryWriter values;
  values.u16(2);
  values.u32(tags::PidTagMessageClass.with_type(PropType::String8).value);
  values.str8z("IPM.Note");
  values.u32(0x0E080003);  // PidTagMessageSize: computed
  values.u32(5);
  w2.u8(0x0A); w2.u8(0); w2.u8(0); w2.u16(uint16_t(values.size()));
  w2.bytes(values.data());
  w2.u8(0x0C); w2.u8(0); w2.u8(1); w2.u8(0); w2.u8(0x02);  // SaveChangesMessage (KeepOpenReadWrite), response in 1
  Output p = run(w2.data(), {o.handles[1], 0});
  BinaryReader pr(p.rops);
  EXPECT_EQ(pr.copy(8), (Bytes{0x0A, 0, 0, 0, 0, 0, 0, 0}));  // no problems
  EXPECT_EQ(pr.copy(6), (Bytes{0x0A, 0, 0, 0, 0, 0}));
  ASSERT_EQ(pr.u16(), 1);                                      // one problem
  EXPECT_EQ(pr.u16(), 1);                                      // the second value
  EXPECT_EQ(pr.u32(), 0x0E080003u);
  EXPECT_EQ(pr.u32(), uint32_t(ErrorCode::MAPI_E_COMPUTED));
  EXPECT_EQ(pr.copy(6), (Bytes{0x0C, 1, 0, 0, 0, 0}));
  EXPECT_EQ(pr.u8(), 0);                                       // InputHandleIndex
  const uint64_t mid = pr.u64();
  EXPECT_TRUE(pr.at_end());
  // The store holds what was set.
  const store::MessageId id(ObjectId::from_u64(mid).gc);
  Message stored = mb->load_message(id);
  EXPECT_EQ(stored.props.get_string(tags::PidTagNormalizedSubject), "Hello World");
  EXPECT_EQ(stored.props.get_string(tags::PidTagSubjectPrefix), "");
  EXPECT_EQ(stored.props.get_string(tags::PidTagMessageClass), "IPM.Note");
  EXPECT_EQ(mb->message_folder(id), inbox);
  // A value cut short is a corrupt buffer.
  BinaryWriter w3;
  w3.u8(0x0A); w3.u8(0); w3.u8(0); w3.u16(8); w3.u16(1); w3.u32(0x00370102); w3.u16(0x7FFF);
  EXPECT_EQ(code_of([&] { run(w3.data(), {o.handles[1]}); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

TEST_F(Rops, FoldersAreCreatedAndDeletedAndMessagesMarkedAndDeleted) {
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  Message m;
  m.props.set(PropValue::string(tags::PidTagSubject, "one"));
  m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read));
  const store::MessageId a = mb->save_message(inbox, m);
  const store::MessageId b = mb->save_message(inbox, m);
  auto name = [](const std::string& s) {
    BinaryWriter w;
    w.utf16z(s);
    return w.data();
  };
  BinaryWriter w;
  w.bytes(logon_rop(0, 0, dn));
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(fid_bytes(inbox)); w.u8(0);
  w.u8(0x1C); w.u8(0); w.u8(1); w.u8(2); w.u8(1); w.u8(1); w.u8(0); w.u8(0);  // CreateFolder "Projects" (Unicode)
  w.bytes(name("Projects")); w.bytes(name("work"));
  w.u8(0x1C); w.u8(0); w.u8(1); w.u8(3); w.u8(1); w.u8(1); w.u8(1); w.u8(0);  // again, OpenExisting
  w.bytes(name("Projects")); w.bytes(name(""));
  w.u8(0x1C); w.u8(0); w.u8(1); w.u8(3); w.u8(1); w.u8(1); w.u8(0); w.u8(0);  // again, without: a collision
  w.bytes(name("Projects")); w.bytes(name(""));
  w.u8(0x66); w.u8(0); w.u8(1); w.u8(0); w.u8(0x04); w.u16(2);               // SetReadFlags CLEAR_READ_FLAG
  w.u64(fid_bytes(a)); w.u64(fid_bytes(b));
  w.u8(0x1E); w.u8(0); w.u8(1); w.u8(0); w.u8(0); w.u16(1); w.u64(fid_bytes(a));  // DeleteMessages: to Deleted Items
  w.u8(0x91); w.u8(0); w.u8(1); w.u8(0); w.u8(0); w.u16(1); w.u64(fid_bytes(b));  // HardDeleteMessages
  Output o = run(w.data(), {0, 0, 0, 0});
  BinaryReader r(o.rops);
  r.skip(1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4);
  EXPECT_EQ(r.copy(8), (Bytes{0x02, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.copy(6), (Bytes{0x1C, 2, 0, 0, 0, 0}));
  const uint64_t projects = r.u64();
  EXPECT_EQ(r.u8(), 0);                                      // IsExistingFolder: new
  EXPECT_EQ(r.copy(6), (Bytes{0x1C, 3, 0, 0, 0, 0}));
  EXPECT_EQ(r.u64(), projects);                              // the same folder
  EXPECT_EQ(r.u8(), 1);                                      // IsExistingFolder
  EXPECT_EQ(r.copy(2), (Bytes{0, 0}));                       // HasRules, IsGhosted
  EXPECT_EQ(r.copy(6), (Bytes{0x1C, 3, 0x04, 0x06, 0x04, 0x80}));  // MAPI_E_COLLISION
  EXPECT_EQ(r.copy(7), (Bytes{0x66, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.copy(7), (Bytes{0x1E, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.copy(7), (Bytes{0x91, 1, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(r.at_end());
  // What the store says: the folder with its comment, the flags cleared, a moved and b gone.
  const store::FolderId pf(ObjectId::from_u64(projects).gc);
  EXPECT_EQ(mb->parent_folder(pf), inbox);
  EXPECT_EQ(mb->folder_properties(pf).get_string(tags::PidTagComment), "work");
  auto deleted = mb->contents_table(mb->special_folder(store::SpecialFolder::DeletedItems));
  deleted->set_columns({tags::PidTagSubject, tags::PidTagMessageFlags});
  auto rows = deleted->query_rows(10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1].get<int32_t>() & msgflag::Read, 0);  // cleared before the move
  EXPECT_EQ(code_of([&] { mb->message_folder(b); }), ErrorCode::MAPI_E_NOT_FOUND);
  // DeleteFolder from the Inbox's handle.
  BinaryWriter w2;
  w2.u8(0x1D); w2.u8(0); w2.u8(1); w2.u8(0x05); w2.u64(projects);
  Output d = run(w2.data(), o.handles);
  EXPECT_EQ(d.rops, (Bytes{0x1D, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(code_of([&] { mb->parent_folder(pf); }), ErrorCode::MAPI_E_NOT_FOUND);
}

TEST(RopsDoc, TheListInDocsIsTheDispatchTable) {
  const std::string path = std::string(OPENMAPI_SOURCE_DIR) + "/docs/ROPS.md";
  std::ifstream in(path);
  const std::string doc((std::istreambuf_iterator<char>(in)), {});
  if (std::getenv("OPENMAPI_WRITE_DOCS")) std::ofstream(path) << rops_markdown();
  EXPECT_EQ(doc, rops_markdown()) << "regenerate with OPENMAPI_WRITE_DOCS=1 " << "tests/server_rops_test";
}
