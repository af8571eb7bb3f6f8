// The SQLite mailbox engine: folders, messages, properties, streams, deletes, change tracking, quotas.
#include "test_util.h"
#include <fstream>

#include "core/entryid.h"
#include "core/namedprop.h"
#include "store/named_ids.h"
#include "store_fixture.h"

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::MailboxTest;
using openmapi::testing::simple_message;

namespace {

using openmapi::testing::code_of;

std::string child_names(Mailbox& mb, FolderId f) {
  std::string out;
  for (FolderId c : mb.child_folders(f)) {
    if (!out.empty()) out += ",";
    out += *mb.folder_properties(c).get_string(tags::PidTagDisplayName);
  }
  return out;
}

}  // namespace

TEST_F(MailboxTest, DefaultFolderTreeMatchesOutlookExpectations) {
  FolderId root = mb->special_folder(SpecialFolder::Root);
  FolderId ipm = mb->special_folder(SpecialFolder::IpmSubtree);
  EXPECT_EQ(mb->parent_folder(root), std::nullopt);
  EXPECT_EQ(*mb->parent_folder(ipm), root);
  EXPECT_EQ(child_names(*mb, ipm),
            "Inbox,Outbox,Sent Items,Deleted Items,Drafts,Calendar,Contacts,Tasks,Notes,Journal,Junk Email,Sync Issues,"
            "Conversation Action Settings");
  EXPECT_EQ(child_names(*mb, mb->special_folder(SpecialFolder::SyncIssues)), "Conflicts,Local Failures,Server Failures");
  // MS-OXOSFLD container classes.
  auto cls = [&](SpecialFolder f) { return mb->folder_properties(mb->special_folder(f)).get_string(tags::PidTagContainerClass); };
  EXPECT_EQ(cls(SpecialFolder::Inbox), "IPF.Note");
  EXPECT_EQ(cls(SpecialFolder::Calendar), "IPF.Appointment");
  EXPECT_EQ(cls(SpecialFolder::Contacts), "IPF.Contact");
  EXPECT_EQ(cls(SpecialFolder::Tasks), "IPF.Task");
  EXPECT_EQ(cls(SpecialFolder::Notes), "IPF.StickyNote");
  EXPECT_EQ(cls(SpecialFolder::Journal), "IPF.Journal");
  EXPECT_EQ(mb->folder_properties(root).get_i32(tags::PidTagFolderType), 0);  // FOLDER_ROOT
  EXPECT_EQ(mb->folder_properties(ipm).get_i32(tags::PidTagFolderType), 1);   // FOLDER_GENERIC
}

TEST_F(MailboxTest, SpecialFolderEntryIdsArePublishedWhereClientsLook) {
  PropertyBag store = mb->store_properties();
  auto entry_of = [&](SpecialFolder f) { return *mb->folder_properties(mb->special_folder(f)).find(tags::PidTagEntryId); };
  // On the store object (MS-OXCSTOR / MS-OXOSFLD 2.2.2).
  EXPECT_EQ(store.find(tags::PidTagIpmSubtreeEntryId)->get<Bytes>(), entry_of(SpecialFolder::IpmSubtree).get<Bytes>());
  EXPECT_EQ(store.find(tags::PidTagIpmOutboxEntryId)->get<Bytes>(), entry_of(SpecialFolder::Outbox).get<Bytes>());
  EXPECT_EQ(store.find(tags::PidTagIpmWastebasketEntryId)->get<Bytes>(), entry_of(SpecialFolder::DeletedItems).get<Bytes>());
  EXPECT_EQ(store.find(tags::PidTagIpmSentMailEntryId)->get<Bytes>(), entry_of(SpecialFolder::SentItems).get<Bytes>());
  EXPECT_EQ(store.find(tags::PidTagFinderEntryId)->get<Bytes>(), entry_of(SpecialFolder::Finder).get<Bytes>());
  // On the Inbox and the root (MS-OXOSFLD 2.2.3, 2.2.4).
  for (FolderId f : {mb->special_folder(SpecialFolder::Inbox), mb->special_folder(SpecialFolder::Root)}) {
    PropertyBag p = mb->folder_properties(f);
    EXPECT_EQ(p.find(tags::PidTagIpmAppointmentEntryId)->get<Bytes>(), entry_of(SpecialFolder::Calendar).get<Bytes>());
    EXPECT_EQ(p.find(tags::PidTagIpmContactEntryId)->get<Bytes>(), entry_of(SpecialFolder::Contacts).get<Bytes>());
    EXPECT_EQ(p.find(tags::PidTagIpmTaskEntryId)->get<Bytes>(), entry_of(SpecialFolder::Tasks).get<Bytes>());
    EXPECT_EQ(p.find(tags::PidTagIpmNoteEntryId)->get<Bytes>(), entry_of(SpecialFolder::Notes).get<Bytes>());
    EXPECT_EQ(p.find(tags::PidTagIpmJournalEntryId)->get<Bytes>(), entry_of(SpecialFolder::Journal).get<Bytes>());
    EXPECT_EQ(p.find(tags::PidTagIpmDraftsEntryId)->get<Bytes>(), entry_of(SpecialFolder::Drafts).get<Bytes>());
    const auto& ren = p.find(tags::PidTagAdditionalRenEntryIds)->get<std::vector<Bytes>>();
    ASSERT_EQ(ren.size(), 5u);
    EXPECT_EQ(ren[0], entry_of(SpecialFolder::Conflicts).get<Bytes>());
    EXPECT_EQ(ren[1], entry_of(SpecialFolder::SyncIssues).get<Bytes>());
    EXPECT_EQ(ren[2], entry_of(SpecialFolder::LocalFailures).get<Bytes>());
    EXPECT_EQ(ren[3], entry_of(SpecialFolder::ServerFailures).get<Bytes>());
    EXPECT_EQ(ren[4], entry_of(SpecialFolder::JunkEmail).get<Bytes>());
  }
  // A folder entry ID is the 46-byte MS-OXCDATA 2.2.4.1 form naming this store and replica.
  FolderEntryId e = FolderEntryId::parse(entry_of(SpecialFolder::Inbox).get<Bytes>());
  EXPECT_EQ(e.provider_uid, mb->mailbox_guid());
  EXPECT_EQ(e.database, mb->replica_guid());
  EXPECT_EQ(e.gc, mb->special_folder(SpecialFolder::Inbox));
  EXPECT_EQ(e.type, FolderEntryType::PrivateFolder);
}

TEST_F(MailboxTest, FolderCreateRenameMoveDelete) {
  FolderId p = mb->create_folder(inbox(), "Projects", "IPF.Note");
  FolderId a = mb->create_folder(p, "Alpha", "IPF.Note");
  EXPECT_EQ(mb->folder_by_path("Inbox/Projects/Alpha"), a);
  EXPECT_EQ(mb->folder_by_path("inbox/PROJECTS"), p);  // names compare case-insensitively
  EXPECT_EQ(code_of([&] { mb->create_folder(inbox(), "projects", ""); }), ErrorCode::MAPI_E_COLLISION);
  EXPECT_EQ(code_of([&] { mb->create_folder(inbox(), "", ""); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([&] { mb->folder_by_path("Inbox/Nope"); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { mb->create_folder(999999, "X", ""); }), ErrorCode::MAPI_E_NOT_FOUND);

  int64_t cn_before = *mb->folder_properties(a).get_i64(tags::PidTagChangeNumber);
  mb->rename_folder(a, "Beta");
  EXPECT_EQ(mb->folder_properties(a).get_string(tags::PidTagDisplayName), "Beta");
  EXPECT_GT(*mb->folder_properties(a).get_i64(tags::PidTagChangeNumber), cn_before);

  EXPECT_EQ(code_of([&] { mb->move_folder(p, a); }), ErrorCode::MAPI_E_FOLDER_CYCLE);
  mb->move_folder(a, inbox());
  EXPECT_EQ(*mb->parent_folder(a), inbox());
  EXPECT_EQ(mb->folder_properties(p).get_bool(tags::PidTagSubfolders), false);
  EXPECT_EQ(mb->folder_properties(inbox()).get_bool(tags::PidTagSubfolders), true);

  EXPECT_EQ(code_of([&] { mb->delete_folder(inbox(), delfolder::DelFolders | delfolder::DelMessages); }), ErrorCode::MAPI_E_NO_ACCESS);
  EXPECT_EQ(code_of([&] { mb->rename_folder(inbox(), "Post"); }), ErrorCode::MAPI_E_NO_ACCESS);
  mb->save_message(p, simple_message("in p"));
  FolderId sub = mb->create_folder(p, "Sub", "");
  EXPECT_EQ(code_of([&] { mb->delete_folder(p, 0); }), ErrorCode::MAPI_E_HAS_FOLDERS);
  EXPECT_EQ(code_of([&] { mb->delete_folder(p, delfolder::DelFolders); }), ErrorCode::MAPI_E_HAS_MESSAGES);
  mb->delete_folder(p, delfolder::DelFolders | delfolder::DelMessages);
  EXPECT_EQ(code_of([&] { mb->folder_properties(p); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { mb->folder_properties(sub); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(mb->mailbox_size(), 0);
  EXPECT_TRUE(mb->check_integrity().empty());
}

TEST_F(MailboxTest, MessageRoundTripWithRecipientsAttachmentsAndEmbedded) {
  Message m = simple_message("Hello", 133'000'000'000'000'000LL);
  m.props.set(PropValue::string(tags::PidTagBody, "Body text with ünïcödé"));
  m.props.set(PropValue(PropTag(0x8001, PropType::MultipleString), std::vector<std::string>{"a", "b"}));
  m.props.set(PropValue(PropTag(0x8002, PropType::MultipleInteger32), std::vector<int32_t>{1, -2, 3}));
  m.props.set(PropValue(PropTag(0x8003, PropType::Floating64), 2.5));
  m.props.set(PropValue(PropTag(0x8004, PropType::Guid), Guid::from_string("00062008-0000-0000-c000-000000000046")));
  m.props.set(PropValue(PropTag(0x8005, PropType::Currency), int64_t(123456)));
  m.props.set(PropValue(PropTag(0x8006, PropType::Integer16), int16_t(-7)));
  m.props.set(PropValue(PropTag(0x8007, PropType::MultipleBinary), std::vector<Bytes>{{1, 2}, {}, {3}}));
  m.recipients.push_back(PropertyBag{PropValue::string(tags::PidTagDisplayName, "Bob"), PropValue::i32(tags::PidTagRecipientType, 1)});
  m.recipients.push_back(PropertyBag{PropValue::string(tags::PidTagDisplayName, "Carol"), PropValue::i32(tags::PidTagRecipientType, 2)});
  Attachment a;
  a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "a.bin"));
  a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, Bytes{0, 1, 2, 255}));
  m.attachments.push_back(a);
  Attachment e;
  e.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
  e.embedded = std::make_unique<Message>(simple_message("Inner"));
  e.embedded->recipients.push_back(PropertyBag{PropValue::string(tags::PidTagDisplayName, "Dan")});
  m.attachments.push_back(std::move(e));

  MessageId id = mb->save_message(inbox(), m);
  reopen();
  Message got = mb->load_message(id);
  for (const auto& v : m.props.values()) {
    if (v.tag() == tags::PidTagMessageFlags) continue;
    const PropValue* g = got.props.find(v.tag());
    ASSERT_NE(g, nullptr) << v.tag().hex();
    EXPECT_EQ(*g, v) << v.tag().hex();
  }
  EXPECT_EQ(*got.props.get_i32(tags::PidTagMessageFlags) & msgflag::HasAttach, msgflag::HasAttach);
  EXPECT_EQ(got.props.get_bool(tags::PidTagHasAttachments), true);
  ASSERT_EQ(got.recipients.size(), 2u);
  EXPECT_EQ(got.recipients[1].get_string(tags::PidTagDisplayName), "Carol");
  EXPECT_EQ(got.recipients[1].get_i32(tags::PidTagRowid), 1);
  ASSERT_EQ(got.attachments.size(), 2u);
  EXPECT_EQ(got.attachments[0].props.find(tags::PidTagAttachDataBinary)->get<Bytes>(), (Bytes{0, 1, 2, 255}));
  ASSERT_TRUE(got.attachments[1].embedded);
  EXPECT_EQ(got.attachments[1].embedded->props.get_string(tags::PidTagSubject), "Inner");
  EXPECT_EQ(got.attachments[1].embedded->recipients.at(0).get_string(tags::PidTagDisplayName), "Dan");
  // Store-computed identity.
  EXPECT_EQ(ObjectId::from_u64(uint64_t(*got.props.get_i64(tags::PidTagMid))).gc, id);
  EXPECT_EQ(ObjectId::from_u64(uint64_t(*got.props.get_i64(tags::PidTagFolderId))).gc, inbox());
  MessageEntryId me = MessageEntryId::parse(got.props.find(tags::PidTagEntryId)->get<Bytes>());
  EXPECT_EQ(me.message_gc, id);
  EXPECT_EQ(me.folder_gc, inbox());
  EXPECT_GT(*got.props.get_i32(tags::PidTagMessageSize), 0);
  EXPECT_EQ(mb->mailbox_size(), *got.props.get_i32(tags::PidTagMessageSize));
}

TEST_F(MailboxTest, String8IsStoredAsUnicodeString) {
  Message m;
  m.props.set(PropValue::string(PropTag(0x0037, PropType::String8), "eight-bit"));
  MessageId id = mb->save_message(inbox(), m);
  Message got = mb->load_message(id);
  ASSERT_NE(got.props.find(tags::PidTagSubject), nullptr);
  EXPECT_EQ(got.props.find(tags::PidTagSubject)->type(), PropType::String);
  EXPECT_EQ(got.props.get_string(tags::PidTagSubject), "eight-bit");
}

TEST_F(MailboxTest, ChangeKeysAndPredecessorChangeLists) {
  MessageId id = mb->save_message(inbox(), simple_message("v1"));
  Message v1 = mb->load_message(id);
  Bytes ck1 = v1.props.find(tags::PidTagChangeKey)->get<Bytes>();
  ASSERT_EQ(ck1.size(), 22u);  // MS-OXCFXICS 2.2.2.2: 16-byte GUID + 6-byte counter
  EXPECT_EQ(Xid::parse(ck1).namespace_guid, mb->replica_guid());
  int64_t cn1 = *v1.props.get_i64(tags::PidTagChangeNumber);

  Message edit = simple_message("v2");
  mb->save_message(inbox(), edit, id);
  Message v2 = mb->load_message(id);
  Bytes ck2 = v2.props.find(tags::PidTagChangeKey)->get<Bytes>();
  EXPECT_NE(ck1, ck2);
  EXPECT_GT(*v2.props.get_i64(tags::PidTagChangeNumber), cn1);
  auto pcl = parse_pcl(v2.props.find(tags::PidTagPredecessorChangeList)->get<Bytes>());
  ASSERT_EQ(pcl.size(), 1u);  // one replica: the newer change replaces the older entry
  EXPECT_EQ(pcl[0].serialize(), ck2);
  EXPECT_EQ(v2.props.get_string(tags::PidTagSubject), "v2");
  EXPECT_EQ(v2.props.get_i64(tags::PidTagCreationTime), v1.props.get_i64(tags::PidTagCreationTime));
  EXPECT_EQ(v2.props.find(tags::PidTagSourceKey)->get<Bytes>(), v1.props.find(tags::PidTagSourceKey)->get<Bytes>());

  // A move is a change too, and the message gets a new id in the target (as Exchange does).
  FolderId other = mb->create_folder(inbox(), "Other", "IPF.Note");
  auto moved = mb->move_messages({id}, other);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_NE(moved[0], id);
  EXPECT_EQ(code_of([&] { mb->load_message(id); }), ErrorCode::MAPI_E_NOT_FOUND);
  Message v3 = mb->load_message(moved[0]);
  EXPECT_GT(*v3.props.get_i64(tags::PidTagChangeNumber), *v2.props.get_i64(tags::PidTagChangeNumber));
  EXPECT_EQ(v3.props.get_string(tags::PidTagSubject), "v2");
  EXPECT_EQ(mb->message_folder(moved[0]), other);
  EXPECT_TRUE(mb->check_integrity().empty());
}

TEST_F(MailboxTest, ReadFlagAndCounts) {
  MessageId a = mb->save_message(inbox(), simple_message("a"));
  MessageId b = mb->save_message(inbox(), simple_message("b", 0, msgflag::Read));
  PropertyBag f = mb->folder_properties(inbox());
  EXPECT_EQ(f.get_i32(tags::PidTagContentCount), 2);
  EXPECT_EQ(f.get_i32(tags::PidTagContentUnreadCount), 1);
  mb->set_read_flag({a}, true);
  EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentUnreadCount), 0);
  mb->set_read_flag({a, b}, false);
  EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentUnreadCount), 2);
  EXPECT_EQ(*mb->load_message(a).props.get_i32(tags::PidTagMessageFlags) & msgflag::Read, 0);
  EXPECT_EQ(code_of([&] { mb->set_read_flag({424242}, true); }), ErrorCode::MAPI_E_NOT_FOUND);
  // The failed call changed nothing.
  EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentUnreadCount), 2);
}

TEST_F(MailboxTest, SoftDeleteMovesToDeletedItemsThenHidesThenHardDeletes) {
  FolderId deleted = mb->special_folder(SpecialFolder::DeletedItems);
  MessageId id = mb->save_message(inbox(), simple_message("bye"));
  int64_t size = mb->mailbox_size();
  mb->delete_messages({id}, DeleteMode::Soft);
  EXPECT_EQ(code_of([&] { mb->message_folder(id); }), ErrorCode::MAPI_E_NOT_FOUND);  // moved: a new id
  auto in_deleted = mb->changes_since(0, deleted);
  ASSERT_FALSE(in_deleted.empty());
  EXPECT_EQ(in_deleted.back().kind, ChangeKind::Moved);
  EXPECT_EQ(in_deleted.back().old_id, id);
  id = in_deleted.back().id;
  EXPECT_EQ(mb->message_folder(id), deleted);
  EXPECT_EQ(mb->folder_properties(deleted).get_i32(tags::PidTagContentCount), 1);
  mb->delete_messages({id}, DeleteMode::Soft);  // from Deleted Items: soft-deleted, recoverable
  EXPECT_EQ(mb->folder_properties(deleted).get_i32(tags::PidTagContentCount), 0);
  EXPECT_EQ(mb->folder_properties(deleted).get_i32(tags::PidTagDeletedCountTotal), 1);
  EXPECT_TRUE(mb->load_message(id).props.has(tags::PidTagDeletedOn));
  auto t = mb->contents_table(deleted, tableflag::SoftDeletes);
  EXPECT_EQ(t->row_count(), 1u);
  mb->undelete_messages({id});
  EXPECT_EQ(mb->folder_properties(deleted).get_i32(tags::PidTagContentCount), 1);
  EXPECT_EQ(mb->mailbox_size(), size);
  mb->delete_messages({id}, DeleteMode::Hard);
  EXPECT_EQ(code_of([&] { mb->load_message(id); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(mb->mailbox_size(), 0);
  EXPECT_TRUE(mb->check_integrity().empty());
}

TEST_F(MailboxTest, CopyMakesANewObject) {
  MessageId id = mb->save_message(inbox(), simple_message("orig"));
  FolderId other = mb->create_folder(inbox(), "Copies", "");
  auto copies = mb->copy_messages({id}, other);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_NE(copies[0], id);
  Message a = mb->load_message(id), b = mb->load_message(copies[0]);
  EXPECT_EQ(b.props.get_string(tags::PidTagSubject), "orig");
  EXPECT_NE(a.props.find(tags::PidTagSourceKey)->get<Bytes>(), b.props.find(tags::PidTagSourceKey)->get<Bytes>());
  EXPECT_EQ(mb->mailbox_size(), 2 * *a.props.get_i32(tags::PidTagMessageSize));
}

TEST_F(MailboxTest, LargeValuesAreChunkedAndStreamed) {
  std::string big(300 * 1024 + 17, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
  Message m = simple_message("big");
  m.props.set(PropValue::string(tags::PidTagBody, big));
  MessageId id = mb->save_message(inbox(), m);
  // Whole, when asked for.
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagBody), big);
  // Left out when not, and read back in pieces through the stream.
  EXPECT_FALSE(mb->load_message(id, false).props.has(tags::PidTagBody));
  auto s = mb->open_stream(id, tags::PidTagBody);
  EXPECT_EQ(s->size(), big.size());
  std::string read;
  uint8_t buf[4000];
  while (size_t n = s->read(buf, sizeof buf)) read.append(reinterpret_cast<char*>(buf), n);
  EXPECT_EQ(read, big);
  // Tables show a cut value.
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagBody});
  auto rows = t->query_rows(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_LT(rows[0][0].get<std::string>().size(), 1024u);
  EXPECT_EQ(rows[0][0].get<std::string>(), big.substr(0, rows[0][0].get<std::string>().size()));
}

TEST_F(MailboxTest, StreamedWritesNeverHoldTheWholeValue) {
  const size_t total = 1 << 20;
  size_t produced = 0;
  StreamedValue sv{PropTag(0x6801, PropType::Binary),
                   [&](uint8_t* buf, size_t n) {
                     size_t k = std::min(n, total - produced);
                     for (size_t i = 0; i < k; ++i) buf[i] = uint8_t((produced + i) * 7);
                     produced += k;
                     return k;
                   }};
  MessageId id = mb->save_message(inbox(), simple_message("streamed"), std::nullopt, {sv});
  auto s = mb->open_stream(id, PropTag(0x6801, PropType::Binary));
  ASSERT_EQ(s->size(), total);
  Bytes got(total);
  size_t at = 0;
  while (size_t n = s->read(got.data() + at, std::min<size_t>(10000, total - at))) at += n;
  ASSERT_EQ(at, total);
  for (size_t i = 0; i < total; i += 4099) ASSERT_EQ(got[i], uint8_t(i * 7)) << i;
  EXPECT_GE(*mb->load_message(id, false).props.get_i32(tags::PidTagMessageSize), int32_t(total));
  EXPECT_EQ(code_of([&] { mb->open_stream(id, PropTag(0x6802, PropType::Binary)); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { mb->open_stream(id, PropTag(0x6802, PropType::Integer32)); }), ErrorCode::MAPI_E_INVALID_TYPE);
}

TEST_F(MailboxTest, QuotaRefusesAndChangesNothing) {
  mb->set_quota(4000);
  Message m = simple_message("fits");
  m.props.set(PropValue::string(tags::PidTagBody, std::string(1000, 'a')));
  MessageId ok = mb->save_message(inbox(), m);
  int64_t size = mb->mailbox_size();
  Message big = simple_message("too big");
  big.props.set(PropValue::binary(PropTag(0x8010, PropType::Binary), Bytes(5000, 1)));
  EXPECT_EQ(code_of([&] { mb->save_message(inbox(), big); }), ErrorCode::MAPI_E_STORE_FULL);
  EXPECT_EQ(mb->mailbox_size(), size);
  EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentCount), 1);
  EXPECT_EQ(mb->store_properties().get_i32(tags::PidTagProhibitSendQuota), 3);  // KiB
  // Shrinking a message is always allowed, even over quota.
  mb->set_quota(10);
  mb->save_message(inbox(), simple_message("smaller"), ok);
  EXPECT_LT(mb->mailbox_size(), size);
}

TEST_F(MailboxTest, NamedPropertiesMapFrom0x8000AndPersist) {
  PropertyName keywords = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords");
  PropertyName busy = PropertyName::by_id(propset::PSETID_Appointment, 0x8205);
  EXPECT_EQ(code_of([&] { mb->named_property_id(keywords, false); }), ErrorCode::MAPI_E_NOT_FOUND);
  uint16_t k = mb->named_property_id(keywords, true);
  uint16_t b = mb->named_property_id(busy, true);
  EXPECT_EQ(k, 0x8000);
  EXPECT_EQ(b, 0x8001);
  EXPECT_EQ(mb->named_property_id(keywords, true), k);
  // PS_INTERNET_HEADERS names are case-insensitive.
  uint16_t h = mb->named_property_id(PropertyName::by_name(propset::PS_INTERNET_HEADERS, "X-Mailer"), true);
  EXPECT_EQ(mb->named_property_id(PropertyName::by_name(propset::PS_INTERNET_HEADERS, "x-mailer"), false), h);
  reopen();
  EXPECT_EQ(mb->named_property_id(keywords, false), k);
  EXPECT_EQ(mb->named_property_name(b), busy);
  EXPECT_EQ(mb->named_property_name(0x9999), std::nullopt);
}

// A batch: calls inside it stay each all-or-nothing; other connections see nothing until the
// batch commits; a batch dropped without commit leaves the mailbox (names included) as before.
TEST_F(MailboxTest, BatchesCommitTogetherOrNotAtAll) {
  const std::string path = dir.file("mb.sqlite");
  PropertyName tag = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "BatchTag");
  {
    auto batch = mb->begin_batch();
    EXPECT_EQ(code_of([&] { mb->begin_batch(); }), ErrorCode::MAPI_E_CALL_FAILED);  // one at a time
    uint16_t id = mb->named_property_id(tag, true);
    for (int i = 0; i < 3; ++i) {
      Message m = simple_message("kept " + std::to_string(i));
      m.props.set(PropValue::string(PropTag(id, PropType::String), "x"));
      mb->save_message(inbox(), m);
    }
    // A failing call inside the batch changes nothing and does not spoil the rest.
    EXPECT_EQ(code_of([&] { mb->save_message(77777, simple_message("nowhere")); }), ErrorCode::MAPI_E_NOT_FOUND);
    EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentCount), 3);  // seen from inside
    auto other = store::open_sqlite_mailbox(path);
    EXPECT_EQ(other->folder_properties(other->special_folder(store::SpecialFolder::Inbox)).get_i32(tags::PidTagContentCount), 0);
    batch->commit();
    EXPECT_EQ(code_of([&] { batch->commit(); }), ErrorCode::MAPI_E_CALL_FAILED);
    EXPECT_EQ(other->folder_properties(other->special_folder(store::SpecialFolder::Inbox)).get_i32(tags::PidTagContentCount), 3);
  }
  const uint16_t kept_id = mb->named_property_id(tag, false);
  {
    auto batch = mb->begin_batch();
    mb->save_message(inbox(), simple_message("dropped"));
    mb->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Dropped"), true);
  }  // no commit
  EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentCount), 3);
  EXPECT_EQ(code_of([&] { mb->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Dropped"), false); }),
            ErrorCode::MAPI_E_NOT_FOUND);
  // The id the dropped name had is handed out again, and this time it lasts.
  uint16_t next = mb->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "After"), true);
  EXPECT_EQ(next, kept_id + 1);
  reopen();
  EXPECT_EQ(mb->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "After"), false), next);
  EXPECT_EQ(mb->named_property_id(tag, false), kept_id);
  EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentCount), 3);
  EXPECT_TRUE(mb->check_integrity().empty());
}

TEST_F(MailboxTest, UnknownObjectsGiveNotFound) {
  EXPECT_EQ(code_of([&] { mb->load_message(77777); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { mb->contents_table(77777); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { mb->save_message(77777, simple_message("x")); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { mb->save_message(inbox(), simple_message("x"), 77777); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { mb->delete_messages({77777}, DeleteMode::Hard); }), ErrorCode::MAPI_E_NOT_FOUND);
}

TEST(MailboxFiles, CreateRefusesExistingAndOpenRefusesForeignFiles) {
  openmapi::testing::TempDir dir;
  auto mb = create_sqlite_mailbox(dir.file("a.sqlite"), {});
  mb.reset();
  EXPECT_EQ(code_of([&] { create_sqlite_mailbox(dir.file("a.sqlite"), {}); }), ErrorCode::MAPI_E_COLLISION);
  EXPECT_EQ(code_of([&] { open_sqlite_mailbox(dir.file("missing.sqlite")); }), ErrorCode::MAPI_E_NOT_FOUND);
  {
    std::ofstream f(dir.file("junk.sqlite"), std::ios::binary);
    f << std::string(8192, 'J');
  }
  EXPECT_EQ(code_of([&] { open_sqlite_mailbox(dir.file("junk.sqlite")); }), ErrorCode::MAPI_E_CORRUPT_STORE);
}

TEST_F(MailboxTest, MessageRowsReadTheNamedMessagesOfAFolderOnly) {
  const MessageId a = mb->save_message(inbox(), simple_message("first", 10));
  const MessageId b = mb->save_message(inbox(), simple_message("second", 20, msgflag::Read));
  const MessageId elsewhere = mb->save_message(mb->special_folder(SpecialFolder::Drafts), simple_message("draft"));
  const auto rows = mb->message_rows(inbox(), {b, 999999, elsewhere, a},
                                     {tags::PidTagSubject, tags::PidTagMessageFlags, tags::PidTagMid, tags::PidTagMessageDeliveryTime});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].get_string(tags::PidTagSubject).value_or(""), "second");
  EXPECT_TRUE(rows[0].get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Read);
  EXPECT_EQ(rows[0].get_i64(tags::PidTagMid).value_or(0), int64_t(ObjectId{kLocalReplicaId, b}.to_u64()));
  EXPECT_TRUE(rows[1].empty());  // no such message
  EXPECT_TRUE(rows[2].empty());  // not in this folder
  EXPECT_EQ(rows[3].get_string(tags::PidTagSubject).value_or(""), "first");
  EXPECT_EQ(rows[3].get_i64(tags::PidTagMessageDeliveryTime).value_or(0), 10);
  // The default implementation (other providers) answers the same.
  const auto generic = mb->Mailbox::message_rows(inbox(), {b, 999999, elsewhere, a}, {tags::PidTagSubject});
  ASSERT_EQ(generic.size(), 4u);
  EXPECT_EQ(generic[0].get_string(tags::PidTagSubject).value_or(""), "second");
  EXPECT_TRUE(generic[1].empty());
  EXPECT_TRUE(generic[2].empty());
}

TEST_F(MailboxTest, TheInternetFormOfAMessageGoesWhenItsContentChangesNotWhenItsFlagsDo) {
  const PropTag raw(mb->named_property_id(internet_message_name(), true), PropType::Binary);
  const PropTag keywords(mb->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords"), true), PropType::MultipleString);
  Message m = simple_message("as it came");
  const std::string mime = "Subject: as it came\r\n\r\n" + std::string(100000, 'x') + "\r\n";  // a large value
  m.props.set(PropValue::binary(raw, Bytes(mime.begin(), mime.end())));
  const PropTag envelope(mb->named_property_id(imap_envelope_name(), true), PropType::String);
  m.props.set(PropValue::string(envelope, "(NIL \"as it came\" NIL NIL NIL NIL NIL NIL NIL NIL)"));
  const MessageId id = mb->save_message(inbox(), m);
  auto has_raw = [&] {
    const Message now = mb->load_message(id);
    EXPECT_EQ(now.props.find(raw) != nullptr, now.props.find(envelope) != nullptr);  // they go together
    return now.props.find(raw) != nullptr;
  };
  ASSERT_TRUE(has_raw());
  // Flags, follow-up, the last verb and categories are status, not content.
  MessageChanges status;
  status.props.set = {PropValue::i32(PropTag(0x1090, PropType::Integer32), 2), PropValue::i32(PropTag(0x1081, PropType::Integer32), 102),
                      PropValue(keywords, std::vector<std::string>{"Work"})};
  mb->write_message(inbox(), id, false, status);
  mb->set_read_flag({id}, true);
  EXPECT_TRUE(has_raw());
  // A new subject is content: the Internet form no longer says the same, and goes with the change.
  MessageChanges content;
  content.props.set = {PropValue::string(tags::PidTagSubject, "edited in Outlook")};
  mb->write_message(inbox(), id, false, content);
  EXPECT_FALSE(has_raw());
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagSubject).value_or(""), "edited in Outlook");
  // A new recipient table is content too.
  const MessageId id2 = mb->save_message(inbox(), m);
  MessageChanges recipients;
  recipients.recipients = std::vector<PropertyBag>{};
  mb->write_message(inbox(), id2, false, recipients);
  EXPECT_EQ(mb->load_message(id2).props.find(raw), nullptr);
}

TEST_F(MailboxTest, TheMessageIndexListsAFoldersMessagesWithFlagsChangeNumbersAndMarks) {
  const PropTag flag_status(0x1090, PropType::Integer32);
  Message flagged = simple_message("flagged", 1, msgflag::Read);
  flagged.props.set(PropValue::i32(flag_status, 2));
  const MessageId b = mb->save_message(inbox(), simple_message("plain"));
  const MessageId a = mb->save_message(inbox(), flagged);
  const MessageId gone = mb->save_message(inbox(), simple_message("deleted"));
  mb->delete_messages({gone}, DeleteMode::Soft);  // moves it to Deleted Items
  MessageChanges assoc;
  assoc.props.set = {PropValue::string(tags::PidTagSubject, "fai")};
  mb->write_message(inbox(), std::nullopt, true, assoc);
  for (const bool generic : {false, true}) {
    const auto index = generic ? mb->Mailbox::message_index(inbox(), {tags::PidTagBody, flag_status})
                               : mb->message_index(inbox(), {tags::PidTagBody, flag_status});
    ASSERT_EQ(index.size(), 2u) << generic;  // no FAI, nothing deleted
    EXPECT_EQ(index[0].id, std::min(a, b));
    EXPECT_LT(index[0].id, index[1].id);
    const auto& fa = index[0].id == a ? index[0] : index[1];
    const auto& fb = index[0].id == b ? index[0] : index[1];
    EXPECT_TRUE(fa.message_flags & msgflag::Read);
    EXPECT_FALSE(fb.message_flags & msgflag::Read);
    EXPECT_EQ(fa.marks, 0b10u) << generic;  // PidTagFlagStatus, no body
    EXPECT_EQ(fb.marks, 0u) << generic;
    EXPECT_EQ(fa.change_number, int64_t(ObjectId::from_u64(uint64_t(mb->load_message(a).props.get_i64(tags::PidTagChangeNumber).value_or(0))).gc));
  }
  EXPECT_EQ(code_of([&] { mb->message_index(inbox(), std::vector<PropTag>(33, flag_status)); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}
