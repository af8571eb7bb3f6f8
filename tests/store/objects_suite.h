// The writable half of the object-model suite (store/objects.h): what MS-OXCPRPT, MS-OXCMSG and
// MS-OXCFOLD specify, through a Logon, on any writable provider. Included by
// tests/store/objects_test.cpp (the local SQLite store) and tests/mapi/remote_test.cpp (the
// remote provider against `openmapi serve`), each of which defines objects_mailbox() and
// instantiates the suites for its provider.
#pragma once
#include "test_util.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/entryid.h"
#include "store/objects.h"
#include "store/sqlite/db.h"
#include "store_fixture.h"

namespace openmapi::objects_suite {

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::code_of;
using openmapi::testing::TempDir;

inline Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 31 + (i >> 12));
  return b;
}

inline void write_all(Stream& s, const Bytes& data) {
  size_t at = 0;
  while (at < data.size()) at += s.write(data.data() + at, std::min<size_t>(100000, data.size() - at));
}

inline MessageId mid_of(const Row& r, size_t col) { return MessageId(ObjectId::from_u64(uint64_t(r[col].get<int64_t>())).gc); }

inline std::vector<MessageId> message_ids(Folder& f, uint32_t flags = 0) {
  auto t = f.contents_table(flags);
  t->set_columns({tags::PidTagMid});
  std::vector<MessageId> out;
  for (auto& r : t->query_rows(100000)) out.push_back(mid_of(r, 0));
  return out;
}

// ---- the writable store ----------------------------------------------------------------

// The mailbox of a test, made by the test file that instantiates the suite: `fresh` makes a new
// one (its owner's address in `owner`), otherwise another independent connection to the same one.
std::shared_ptr<Mailbox> objects_mailbox(const std::string& provider, TempDir& dir, bool fresh, std::string& owner);

class Objects : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    mb = objects_mailbox(GetParam(), dir, true, owner);
    logon = Logon::open(mb, LogonIdentity{owner});
    inbox = logon->open_special(SpecialFolder::Inbox);
  }
  // A second, independent connection to the same mailbox (another client).
  std::shared_ptr<Logon> second() { return Logon::open(objects_mailbox(GetParam(), dir, false, owner), LogonIdentity{owner}); }
  MessageId saved(const std::string& subject) {
    auto m = inbox->create_message();
    m->set_props({PropValue::string(tags::PidTagSubject, subject), PropValue::string(tags::PidTagMessageClass, "IPM.Note")});
    m->save_changes();
    return *m->id();
  }
  // The local SQLite store (its database can be looked into), not a server's mailbox.
  bool local() const { return GetParam() == "sqlite"; }

  TempDir dir;
  std::string owner;
  std::shared_ptr<Mailbox> mb;
  std::shared_ptr<Logon> logon;
  std::shared_ptr<Folder> inbox;
};

// Notifications of objects (Logon::advise): the local store's change feed, and through the
// remote provider the server's RopNotify.
class LiveObjects : public Objects {};
// Notifications of tables (Table::advise): what only a local store has yet (the remote
// provider does not register table notifications: docs/REMOTE.md).
class LiveTables : public Objects {};


TEST_P(Objects, SetPropsReportsProblemsOneByOneAndAppliesTheRest) {
  auto m = inbox->create_message();
  PropProblems p = m->set_props({PropValue::string(tags::PidTagSubject, "hello"),
                                 PropValue::binary(tags::PidTagEntryId, Bytes{1, 2, 3}),           // computed
                                 PropValue::error(0x1000, ErrorCode::MAPI_E_NOT_FOUND),            // not a value
                                 PropValue::i32(tags::PidTagImportance, 2)});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], (PropProblem{1, tags::PidTagEntryId, ErrorCode::MAPI_E_COMPUTED}));
  EXPECT_EQ(p[1].index, 2u);
  EXPECT_EQ(p[1].error, ErrorCode::MAPI_E_INVALID_TYPE);
  EXPECT_EQ(m->get_prop(tags::PidTagSubject)->get<std::string>(), "hello");
  EXPECT_EQ(m->get_prop(tags::PidTagImportance)->get<int32_t>(), 2);
  // PtypString8 asks for the same value as PtypString; PtypUnspecified for the stored type.
  EXPECT_EQ(m->get_prop(tags::PidTagSubject.with_type(PropType::String8))->type(), PropType::String8);
  EXPECT_EQ(m->get_prop(PropTag(tags::PidTagImportance.id(), PropType::Unspecified))->type(), PropType::Integer32);
  // DeleteProps: computed ones refused, a missing one is no problem.
  PropProblems d = m->delete_props({tags::PidTagImportance, tags::PidTagMid, PropTag(0x7FF1, PropType::Integer32)});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].tag, tags::PidTagMid);
  EXPECT_FALSE(m->get_prop(tags::PidTagImportance));
  m->save_changes();
  // After the first save, PidTagMessageFlags is read-only (MS-OXCMSG 2.2.1.6).
  EXPECT_EQ(m->set_props({PropValue::i32(tags::PidTagMessageFlags, 0)}).at(0).error, ErrorCode::MAPI_E_COMPUTED);
}

TEST_P(Objects, ChangesAreInvisibleUntilSaveChanges) {
  MessageId id = saved("v1");
  auto other = second();
  auto m = logon->open_message(id, true);
  m->set_props({PropValue::string(tags::PidTagSubject, "v2")});
  EXPECT_EQ(m->get_prop(tags::PidTagSubject)->get<std::string>(), "v2");                       // this object sees it
  EXPECT_EQ(other->open_message(id)->get_prop(tags::PidTagSubject)->get<std::string>(), "v1");  // nobody else does
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagSubject), "v1");
  // A new message is not in the folder before its save.
  auto fresh = inbox->create_message();
  fresh->set_props({PropValue::string(tags::PidTagSubject, "fresh")});
  EXPECT_EQ(inbox->contents_table()->row_count(), 1u);
  EXPECT_FALSE(fresh->id());
  m->save_changes();
  fresh->save_changes();
  EXPECT_EQ(other->open_message(id)->get_prop(tags::PidTagSubject)->get<std::string>(), "v2");
  EXPECT_EQ(inbox->contents_table()->row_count(), 2u);
  // A message dropped without saving leaves nothing.
  {
    auto dropped = inbox->create_message();
    dropped->set_props({PropValue::string(tags::PidTagSubject, "never")});
  }
  EXPECT_EQ(inbox->contents_table()->row_count(), 2u);
}

TEST_P(Objects, TheSecondOfTwoConflictingSavesFailsUnlessForced) {
  MessageId id = saved("base");
  auto a = logon->open_message(id, true);
  auto b = second()->open_message(id, true);
  a->set_props({PropValue::string(tags::PidTagSubject, "from a")});
  b->set_props({PropValue::string(tags::PidTagSubject, "from b")});
  a->save_changes();
  EXPECT_EQ(code_of([&] { b->save_changes(); }), ErrorCode::MAPI_E_OBJECT_CHANGED);
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagSubject), "from a");
  // The failed save kept b's changes: forced, they win.
  b->save_changes(save_flags::ForceSave);
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagSubject), "from b");
  // An object saving twice does not conflict with itself.
  a = logon->open_message(id, true);
  a->set_props({PropValue::i32(tags::PidTagImportance, 2)});
  a->save_changes();
  a->set_props({PropValue::i32(tags::PidTagImportance, 0)});
  a->save_changes();
  EXPECT_EQ(mb->load_message(id).props.get_i32(tags::PidTagImportance), 0);
  // KeepOpenReadOnly: the object stays open, for reading only.
  a->set_props({PropValue::i32(tags::PidTagImportance, 1)});
  a->save_changes(save_flags::KeepOpenReadOnly);
  EXPECT_EQ(code_of([&] { a->set_props({PropValue::i32(tags::PidTagImportance, 2)}); }), ErrorCode::MAPI_E_NO_ACCESS);
  EXPECT_EQ(a->get_prop(tags::PidTagImportance)->get<int32_t>(), 1);
  // A message deleted meanwhile: MAPI_E_OBJECT_DELETED.
  auto c = logon->open_message(id, true);
  inbox->delete_messages({id}, true);
  c->set_props({PropValue::i32(tags::PidTagImportance, 2)});
  EXPECT_EQ(code_of([&] { c->save_changes(); }), ErrorCode::MAPI_E_OBJECT_DELETED);
  // Read-only objects refuse changes.
  MessageId id2 = saved("ro");
  auto ro = logon->open_message(id2);
  EXPECT_EQ(code_of([&] { ro->set_props({PropValue::i32(tags::PidTagImportance, 2)}); }), ErrorCode::MAPI_E_NO_ACCESS);
}

TEST_P(Objects, SavingOnePropertyDoesNotRewriteALargeAttachment) {
  auto m = inbox->create_message();
  m->set_props({PropValue::string(tags::PidTagSubject, "with a big attachment")});
  auto att = m->create_attach();
  att->set_props({PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue),
                  PropValue::string(tags::PidTagAttachLongFilename, "big.bin")});
  const Bytes big = pattern(10 << 20, 7);
  {
    auto s = att->open_property(tags::PidTagAttachDataBinary, open_flags::ReadWrite | open_flags::Create);
    write_all(*s, big);
    s->commit();
  }
  att->save_changes();
  m->save_changes();
  const MessageId id = *m->id();
  auto large_rows = [&] {
    store::sqlite::Db db(dir.file("mb.sqlite"), false);
    store::sqlite::Stmt q(db, "SELECT a.large_id, v.size FROM attachment_props a JOIN large_values v ON v.id = a.large_id");
    std::vector<std::pair<int64_t, int64_t>> out;
    while (q.step()) out.emplace_back(q.int64(0), q.int64(1));
    return out;
  };
  std::vector<std::pair<int64_t, int64_t>> before;
  if (local()) {
    before = large_rows();
    ASSERT_EQ(before.size(), 1u);
    EXPECT_EQ(before[0].second, int64_t(big.size()));
  }
  const int64_t size_before = *mb->load_message(id, false).props.get_i32(tags::PidTagMessageSize);
  EXPECT_GT(size_before, int64_t(big.size()));

  auto e = logon->open_message(id, true);
  e->set_props({PropValue::i32(tags::PidTagImportance, 2)});
  e->save_changes();
  if (local()) EXPECT_EQ(large_rows(), before);  // the same stored value: not written again
  EXPECT_EQ(*mb->load_message(id, false).props.get_i32(tags::PidTagMessageSize), size_before + 4);
  // The attachment reads back whole, and a seek lands where it should.
  auto back = logon->open_message(id)->open_attach(0)->open_property(tags::PidTagAttachDataBinary);
  EXPECT_EQ(back->size(), big.size());
  back->seek(5'000'000, Stream::Origin::Set);
  uint8_t buf[16];
  ASSERT_EQ(back->read(buf, sizeof buf), sizeof buf);
  EXPECT_TRUE(std::equal(buf, buf + 16, big.begin() + 5'000'000));
  back->seek(0, Stream::Origin::Set);
  EXPECT_EQ(back->read_all(), big);
  // get_props does not return a value this large: MAPI_E_NOT_ENOUGH_MEMORY (use the stream).
  auto r = logon->open_message(id)->open_attach(0)->get_props({tags::PidTagAttachDataBinary});
  EXPECT_EQ(r.values[0].type(), PropType::ErrorCode);
  EXPECT_EQ(ErrorCode(uint32_t(r.values[0].get<int32_t>())), ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
  EXPECT_EQ(mb->mailbox_size(), *mb->load_message(id, false).props.get_i32(tags::PidTagMessageSize));
  if (local()) EXPECT_TRUE(mb->check_integrity().empty());
}

TEST_P(Objects, StreamsCommitToTheObjectAndRevert) {
  MessageId id = saved("streams");
  auto m = logon->open_message(id, true);
  auto s = m->open_property(tags::PidTagBody, open_flags::ReadWrite | open_flags::Create);
  const std::string text = "Hello, stream";
  s->write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_FALSE(m->get_prop(tags::PidTagBody));  // not committed: the message does not see it
  s->commit();
  EXPECT_EQ(m->get_prop(tags::PidTagBody)->get<std::string>(), text);
  EXPECT_FALSE(mb->load_message(id).props.has(tags::PidTagBody));  // not saved: the store does not
  // Writes after the commit, then revert: back to the committed text.
  s->seek(0, Stream::Origin::End);
  s->write(reinterpret_cast<const uint8_t*>("!!!"), 3);
  EXPECT_EQ(s->size(), text.size() + 3);
  s->revert();
  EXPECT_EQ(s->size(), text.size());
  s->set_size(5);
  s->commit();
  EXPECT_EQ(m->get_prop(tags::PidTagBody)->get<std::string>(), "Hello");
  m->save_changes();
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagBody), "Hello");
  // Read-only streams, missing properties, seeking before the start, bad types.
  auto ro = logon->open_message(id)->open_property(tags::PidTagBody);
  EXPECT_EQ(code_of([&] { ro->write(reinterpret_cast<const uint8_t*>("x"), 1); }), ErrorCode::MAPI_E_NO_ACCESS);
  EXPECT_EQ(code_of([&] { ro->seek(-1, Stream::Origin::Set); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([&] { m->open_property(tags::PidTagBodyHtml); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { m->open_property(tags::PidTagImportance); }), ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED);
  // Writing into an existing value keeps what is not overwritten.
  auto w = m->open_property(tags::PidTagBody, open_flags::ReadWrite);
  w->seek(1, Stream::Origin::Set);
  w->write(reinterpret_cast<const uint8_t*>("EL"), 2);
  w->commit();
  EXPECT_EQ(m->get_prop(tags::PidTagBody)->get<std::string>(), "HELlo");
}

TEST_P(Objects, RecipientsAreModifiedByRowId) {
  auto m = inbox->create_message();
  auto rcpt = [](const std::string& name, int32_t type) {
    return PropertyBag{PropValue::string(tags::PidTagDisplayName, name), PropValue::i32(tags::PidTagRecipientType, type)};
  };
  m->modify_recipients(modrecip::Add, {rcpt("Alice", recipient_type::To), rcpt("Bob", recipient_type::Cc), rcpt("Carol", recipient_type::Bcc)});
  auto rows = m->recipients();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].get_i32(tags::PidTagRowid), 2);
  PropertyBag bob = rcpt("Robert", recipient_type::To);
  bob.set(PropValue::i32(tags::PidTagRowid, 1));
  m->modify_recipients(modrecip::Modify, {bob});
  PropertyBag alice;
  alice.set(PropValue::i32(tags::PidTagRowid, 0));
  m->modify_recipients(modrecip::Remove, {alice});
  PropertyBag ghost;
  ghost.set(PropValue::i32(tags::PidTagRowid, 42));
  EXPECT_EQ(code_of([&] { m->modify_recipients(modrecip::Remove, {ghost}); }), ErrorCode::MAPI_E_NOT_FOUND);
  m->modify_recipients(modrecip::Add, {rcpt("Dave", recipient_type::To)});
  m->save_changes();
  auto back = logon->open_message(*m->id());
  auto t = back->recipient_table();
  t->set_columns({tags::PidTagRowid, tags::PidTagDisplayName, tags::PidTagRecipientType});
  auto r = t->query_rows(10);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0][1].get<std::string>(), "Robert");
  EXPECT_EQ(r[0][0].get<int32_t>(), 1);
  EXPECT_EQ(r[1][1].get<std::string>(), "Carol");
  EXPECT_EQ(r[2][1].get<std::string>(), "Dave");
  EXPECT_EQ(r[2][0].get<int32_t>(), 3);  // a new row id, never one that was used
}

TEST_P(Objects, AttachmentsAndEmbeddedMessagesGoUpOneLevelAtATime) {
  auto m = inbox->create_message();
  m->set_props({PropValue::string(tags::PidTagSubject, "outer")});
  auto a0 = m->create_attach();
  a0->set_props({PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue), PropValue::binary(tags::PidTagAttachDataBinary, Bytes{1, 2, 3})});
  EXPECT_TRUE(m->attachments().empty());  // not saved into the message yet
  a0->save_changes();
  ASSERT_EQ(m->attachments().size(), 1u);
  auto a1 = m->create_attach();
  EXPECT_EQ(a1->number(), 1u);
  auto inner = a1->open_embedded(true);
  inner->set_props({PropValue::string(tags::PidTagSubject, "inner"), PropValue::string(tags::PidTagMessageClass, "IPM.Note")});
  inner->modify_recipients(modrecip::Add, {PropertyBag{PropValue::string(tags::PidTagDisplayName, "Eve")}});
  inner->save_changes();
  a1->save_changes();
  m->save_changes();
  const MessageId id = *m->id();
  openmapi::Message stored = mb->load_message(id);
  ASSERT_EQ(stored.attachments.size(), 2u);
  EXPECT_EQ(stored.attachments[0].props.find(tags::PidTagAttachDataBinary)->get<Bytes>(), (Bytes{1, 2, 3}));
  ASSERT_TRUE(stored.attachments[1].embedded);
  EXPECT_EQ(stored.attachments[1].embedded->props.get_string(tags::PidTagSubject), "inner");
  EXPECT_EQ(stored.attachments[1].embedded->recipients.size(), 1u);
  EXPECT_TRUE(*mb->load_message(id).props.get_bool(tags::PidTagHasAttachments));
  // Change the embedded message of a stored message; delete the other attachment.
  auto e = logon->open_message(id, true);
  auto ea = e->open_attach(1);
  auto ei = ea->open_embedded();
  EXPECT_EQ(ei->get_prop(tags::PidTagSubject)->get<std::string>(), "inner");
  ei->set_props({PropValue::string(tags::PidTagSubject, "inner v2")});
  ei->save_changes();
  ea->save_changes();
  e->delete_attach(0);
  EXPECT_EQ(code_of([&] { e->open_attach(0); }), ErrorCode::MAPI_E_NOT_FOUND);
  e->save_changes();
  stored = mb->load_message(id);
  ASSERT_EQ(stored.attachments.size(), 1u);
  EXPECT_EQ(stored.attachments[0].props.get_i32(tags::PidTagAttachNumber), 1);
  EXPECT_EQ(stored.attachments[0].embedded->props.get_string(tags::PidTagSubject), "inner v2");
  EXPECT_EQ(code_of([&] { logon->open_message(id)->open_attach(1)->open_embedded()->save_changes(); }), ErrorCode::MAPI_E_NO_ACCESS);
  if (local()) EXPECT_TRUE(mb->check_integrity().empty());
}

TEST_P(Objects, NamedPropertiesAndCopyToAcrossStores) {
  const PropertyName keywords = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords");
  auto m = inbox->create_message();
  EXPECT_EQ(m->get_ids_from_names({keywords}, false)[0].type(), PropType::ErrorCode);  // not mapped yet
  PropTag kw = m->get_ids_from_names({keywords}, true)[0];
  ASSERT_GE(kw.id(), 0x8000);
  EXPECT_EQ(m->get_names_from_ids({kw})[0], keywords);
  EXPECT_EQ(m->get_ids_from_names({keywords}, false)[0].id(), kw.id());
  m->set_props({PropValue::string(tags::PidTagSubject, "named"), PropValue::string(kw.with_type(PropType::String), "red"),
                PropValue::i32(tags::PidTagImportance, 2)});
  m->save_changes();

  // Another store maps the same name to another id first.
  auto other_mb = std::shared_ptr<Mailbox>(create_sqlite_mailbox(dir.file("other.sqlite"), {"Other", "test@example.com", 0}));
  other_mb->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "something else"), true);
  auto other = Logon::open(other_mb, LogonIdentity{"test@example.com"});
  auto target = other->open_special(SpecialFolder::Inbox)->create_message();
  target->set_props({PropValue::i32(tags::PidTagImportance, 0)});
  PropProblems p = m->copy_to(*target, {tags::PidTagSubject}, copy_flags::NoReplace);
  EXPECT_TRUE(p.empty());
  target->save_changes();
  openmapi::Message copied = other_mb->load_message(*target->id());
  EXPECT_FALSE(copied.props.has(tags::PidTagSubject));               // excluded
  EXPECT_EQ(copied.props.get_i32(tags::PidTagImportance), 0);         // kept: NoReplace
  uint16_t there = other_mb->named_property_id(keywords, false);
  EXPECT_NE(there, kw.id());
  EXPECT_EQ(copied.props.get_string(PropTag(there, PropType::String)), "red");  // by name
  // copy_props with Move removes what was copied from the source.
  auto src = logon->open_message(*m->id(), true);
  auto dst = inbox->create_message();
  src->copy_props(*dst, {tags::PidTagImportance}, copy_flags::Move);
  EXPECT_EQ(dst->get_prop(tags::PidTagImportance)->get<int32_t>(), 2);
  EXPECT_FALSE(src->get_prop(tags::PidTagImportance));
}

TEST_P(Objects, FolderOperations) {
  auto projects = inbox->create_folder("Projects", "IPF.Note");
  EXPECT_EQ(code_of([&] { inbox->create_folder("projects"); }), ErrorCode::MAPI_E_COLLISION);
  EXPECT_EQ(inbox->create_folder("projects", "", FolderType::Generic, folder_flags::OpenIfExists)->id(), projects->id());
  projects->set_props({PropValue::string(tags::PidTagComment, "work")});
  PropProblems p = projects->set_props({PropValue::i32(tags::PidTagContentCount, 9)});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].error, ErrorCode::MAPI_E_COMPUTED);
  auto sub = projects->create_folder("2026");
  auto m = projects->create_message();
  m->set_props({PropValue::string(tags::PidTagSubject, "plan")});
  m->save_changes();
  auto fai = projects->create_message(true);
  fai->set_props({PropValue::string(tags::PidTagMessageClass, "IPM.Microsoft.FolderDesign.NamedView")});
  fai->save_changes();
  EXPECT_EQ(message_ids(*projects, tableflag::Associated).size(), 1u);
  // CopyFolder, recursive, with its messages (normal and FAI) and properties.
  auto archive = logon->open_special(SpecialFolder::IpmSubtree)->create_folder("Archive");
  FolderId copy = inbox->copy_folder(projects->id(), *archive, "Projects copy");
  auto c = logon->open_folder(copy);
  EXPECT_EQ(c->get_prop(tags::PidTagComment)->get<std::string>(), "work");
  EXPECT_EQ(message_ids(*c).size(), 1u);
  EXPECT_EQ(message_ids(*c, tableflag::Associated).size(), 1u);
  EXPECT_EQ(mb->child_folders(copy).size(), 1u);
  EXPECT_EQ(message_ids(*projects).size(), 1u);  // the original stays
  EXPECT_EQ(code_of([&] { archive->copy_folder(copy, *c); }), ErrorCode::MAPI_E_FOLDER_CYCLE);
  // MoveFolder keeps the id.
  FolderId moved = inbox->copy_folder(projects->id(), *archive, "", true, copy_flags::Move);
  EXPECT_EQ(moved, projects->id());
  EXPECT_EQ(*mb->parent_folder(moved), archive->id());
  // Messages: status, read flags, moving, deleting only what is in the folder.
  MessageId plan = message_ids(*projects)[0];
  EXPECT_EQ(projects->set_message_status(plan, msgstatus::Highlighted | msgstatus::Tagged, msgstatus::Highlighted), 0u);
  EXPECT_EQ(projects->get_message_status(plan), msgstatus::Highlighted);
  projects->set_read_flags({}, readflag::ClearReadFlag);
  EXPECT_EQ(projects->get_prop(tags::PidTagContentUnreadCount)->get<int32_t>(), 1);
  projects->set_read_flags({plan});
  EXPECT_EQ(projects->get_prop(tags::PidTagContentUnreadCount)->get<int32_t>(), 0);
  EXPECT_EQ(code_of([&] { inbox->delete_messages({plan}); }), ErrorCode::MAPI_E_NOT_FOUND);
  auto moved_ids = projects->copy_messages({plan}, *inbox, copy_flags::Move);
  ASSERT_EQ(moved_ids.size(), 1u);
  EXPECT_EQ(message_ids(*inbox), moved_ids);
  // EmptyFolder: messages and subfolders; FAI only when asked.
  projects->empty_folder();
  EXPECT_TRUE(mb->child_folders(projects->id()).empty());
  EXPECT_EQ(message_ids(*projects, tableflag::Associated).size(), 1u);
  projects->empty_folder(true);
  EXPECT_TRUE(message_ids(*projects, tableflag::Associated).empty());
  archive->delete_folder(projects->id(), 0);
  EXPECT_EQ(code_of([&] { logon->open_folder(projects->id()); }), ErrorCode::MAPI_E_NOT_FOUND);
  if (local()) EXPECT_TRUE(mb->check_integrity().empty());
}

TEST_P(Objects, LogonRightsEntryIdsReceiveFoldersAndLogoff) {
  // Someone else's logon has no rights on this mailbox (ACLs and delegates come later).
  auto stranger = Logon::open(mb, LogonIdentity{"mallory@example.com"});
  EXPECT_EQ(code_of([&] { stranger->open_special(SpecialFolder::Inbox); }), ErrorCode::MAPI_E_NO_ACCESS);
  EXPECT_EQ(stranger->get_prop(tags::PidTagAccessLevel)->get<int32_t>(), 0);
  auto system = Logon::open(mb, LogonIdentity::system_user());
  EXPECT_NO_THROW(system->open_special(SpecialFolder::Inbox));
  // Entry IDs.
  MessageId id = saved("by entry id");
  Bytes eid = logon->open_message(id)->get_prop(tags::PidTagEntryId)->get<Bytes>();
  EXPECT_EQ(logon->open_entry(eid).message->id(), id);
  Bytes feid = inbox->get_prop(tags::PidTagEntryId)->get<Bytes>();
  EXPECT_EQ(logon->open_entry(feid).folder->id(), inbox->id());
  EXPECT_TRUE(logon->compare_entry_ids(feid, feid));
  EXPECT_FALSE(logon->compare_entry_ids(feid, eid));
  EXPECT_EQ(code_of([&] { logon->open_entry(Bytes{1, 2, 3}); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
  auto other_mb = std::shared_ptr<Mailbox>(create_sqlite_mailbox(dir.file("o.sqlite"), {"O", "test@example.com", 0}));
  Bytes foreign = Logon::open(other_mb, LogonIdentity{"test@example.com"})->open_special(SpecialFolder::Inbox)->get_prop(tags::PidTagEntryId)->get<Bytes>();
  EXPECT_EQ(code_of([&] { logon->open_entry(foreign); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
  // Receive folders: the longest registered prefix (MS-OXCSTOR 3.2.5.2).
  auto reports = inbox->create_folder("Reports");
  EXPECT_EQ(logon->get_receive_folder("IPM.Note").first, inbox->id());
  logon->set_receive_folder("IPM.Note.Report", reports->id());
  EXPECT_EQ(logon->get_receive_folder("IPM.Note.Report.Delivery"), std::make_pair(reports->id(), std::string("ipm.note.report")));
  EXPECT_EQ(logon->get_receive_folder("IPM.Note.Reporting").first, inbox->id());  // not at a '.'
  EXPECT_EQ(logon->receive_folder_table().size(), 2u);
  logon->set_receive_folder("IPM.Note.Report", std::nullopt);
  EXPECT_EQ(logon->get_receive_folder("IPM.Note.Report").first, inbox->id());
  EXPECT_EQ(code_of([&] { logon->set_receive_folder("", std::nullopt); }), ErrorCode::MAPI_E_NO_ACCESS);
  // Logoff: every object opened through the logon stops working.
  auto m = logon->open_message(id, true);
  auto s = m->open_property(tags::PidTagSubject);
  auto t = inbox->contents_table();
  logon->logoff();
  EXPECT_EQ(code_of([&] { m->get_props({tags::PidTagSubject}); }), ErrorCode::MAPI_E_END_OF_SESSION);
  EXPECT_EQ(code_of([&] { s->read_all(); }), ErrorCode::MAPI_E_END_OF_SESSION);
  EXPECT_EQ(code_of([&] { inbox->create_message(); }), ErrorCode::MAPI_E_END_OF_SESSION);
}

TEST_P(LiveObjects, AdviseThroughTheLogonEndsWithLogoff) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Notification> got;
  logon->advise(fnev::ObjectCreated | fnev::NewMail, AdviseScope::folder(inbox->id()), [&](const Notification& n) {
    std::lock_guard lk(mu);
    got.push_back(n);
    cv.notify_all();
  });
  MessageId id = saved("notify me");
  {
    std::unique_lock lk(mu);
    cv.wait_for(lk, std::chrono::seconds(30), [&] { return got.size() >= 1; });
  }
  ASSERT_GE(got.size(), 1u);
  EXPECT_EQ(got[0].change.id, id);
  EXPECT_EQ(got[0].event, fnev::ObjectCreated);  // created unsent by a client: no NewMail
  logon->logoff();
  auto other = second();
  other->open_special(SpecialFolder::Inbox)->create_message()->save_changes();
  std::this_thread::sleep_for(ChangeFeed::kPollInterval * 2);
  std::lock_guard lk(mu);
  EXPECT_EQ(got.size(), 1u);
}

TEST_P(LiveObjects, SearchFoldersFollowTheStore) {
  auto finder = logon->open_special(SpecialFolder::Finder);
  auto search = finder->create_folder("Important", "IPF.Note", FolderType::Search);
  EXPECT_EQ(code_of([&] { search->get_search_criteria(); }), ErrorCode::MAPI_E_NOT_INITIALIZED);
  EXPECT_EQ(code_of([&] { inbox->set_search_criteria(Restriction(), {inbox->id()}); }), ErrorCode::MAPI_E_NO_SUPPORT);
  auto sub = inbox->create_folder("Sub");
  auto important = [&](Folder& f, const std::string& subject, int32_t importance) {
    auto m = f.create_message();
    m->set_props({PropValue::string(tags::PidTagSubject, subject), PropValue::i32(tags::PidTagImportance, importance)});
    m->save_changes();
    return *m->id();
  };
  important(*inbox, "inbox high", 2);
  important(*inbox, "inbox low", 0);
  MessageId deep = important(*sub, "sub high", 2);
  std::mutex mu;
  std::vector<Notification> got;
  std::condition_variable cv;
  logon->advise(fnev::SearchComplete, AdviseScope::store(), [&](const Notification& n) {
    std::lock_guard lk(mu);
    got.push_back(n);
    cv.notify_all();
  });
  search->set_search_criteria(parse_restriction_text("importance == 2"), {inbox->id()}, searchflag::Recursive);
  SearchCriteria c = search->get_search_criteria();
  EXPECT_EQ(c.folders, std::vector<FolderId>{inbox->id()});
  EXPECT_TRUE(c.state & searchflag::StateRecursive);
  EXPECT_TRUE(c.state & searchflag::Complete);
  ASSERT_TRUE(c.restriction);
  EXPECT_EQ(to_text(*c.restriction), to_text(parse_restriction_text("importance == 2")));
  {
    std::unique_lock lk(mu);
    cv.wait_for(lk, std::chrono::seconds(30), [&] { return !got.empty(); });
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].change.id, search->id());
  }
  auto t = search->contents_table();
  t->set_columns({tags::PidTagSubject, tags::PidTagParentEntryId});
  t->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 0, 0});
  auto rows = t->query_rows(10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].get<std::string>(), "inbox high");
  EXPECT_EQ(rows[1][0].get<std::string>(), "sub high");
  EXPECT_EQ(rows[1][1].get<Bytes>(), sub->get_prop(tags::PidTagEntryId)->get<Bytes>());  // the row's own folder
  // The store changes: the open table follows (a new match, a changed one, a deleted one).
  important(*inbox, "another high", 2);
  auto e = logon->open_message(deep, true);
  e->set_props({PropValue::i32(tags::PidTagImportance, 1)});
  e->save_changes();
  t->seek_row(BookmarkOrigin::Beginning, 0);
  rows = t->query_rows(10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].get<std::string>(), "another high");
  EXPECT_EQ(rows[1][0].get<std::string>(), "inbox high");
  // A new subfolder of the scope is searched too (recursive); shallow criteria stop that.
  auto sub2 = inbox->create_folder("Sub2");
  important(*sub2, "sub2 high", 2);
  EXPECT_EQ(t->row_count(), 3u);
  search->set_search_criteria(std::nullopt, {}, searchflag::Shallow);
  EXPECT_EQ(search->contents_table()->row_count(), 2u);
  EXPECT_EQ(code_of([&] { search->create_message(); }), ErrorCode::MAPI_E_NO_SUPPORT);
  EXPECT_EQ(code_of([&] { search->set_search_criteria(std::nullopt, {search->id()}); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  // The criteria are private: not among the folder's properties.
  for (PropTag tag : search->get_prop_list()) EXPECT_LT(tag.id(), 0x67F0) << tag.hex();
}

TEST_P(Objects, SubmitMessagePutsItIntoTheOutgoingQueueUntilAborted) {
  auto outbox = logon->open_special(SpecialFolder::Outbox);
  auto m = outbox->create_message();
  m->set_props({PropValue::string(tags::PidTagSubject, "to send")});
  EXPECT_EQ(code_of([&] { m->submit(); }), ErrorCode::MAPI_E_NO_RECIPIENTS);  // saved, but not queued
  EXPECT_TRUE(logon->outgoing_queue().empty());
  // A recipient of another domain: on a server (the remote run) the spooler cannot relay it (its
  // smarthost is down), so it stays queued while the test looks.
  m->modify_recipients(modrecip::Add, {PropertyBag{PropValue::string(tags::PidTagDisplayName, "Bob"),
                                                   PropValue::string(tags::PidTagEmailAddress, "bob@elsewhere.test"),
                                                   PropValue::string(tags::PidTagAddressType, "SMTP"),
                                                   PropValue::i32(tags::PidTagRecipientType, recipient_type::To)}});
  m->submit();
  const MessageId id = *m->id();
  EXPECT_EQ(logon->outgoing_queue(), std::vector<MessageId>{id});
  EXPECT_TRUE(*m->get_prop(tags::PidTagMessageFlags)->get_if<int32_t>() & msgflag::Submitted);
  EXPECT_EQ(code_of([&] { m->submit(); }), ErrorCode::MAPI_E_SUBMITTED);
  // A queued message cannot change.
  auto e = logon->open_message(id, true);
  e->set_props({PropValue::string(tags::PidTagSubject, "changed")});
  EXPECT_EQ(code_of([&] { e->save_changes(); }), ErrorCode::MAPI_E_SUBMITTED);
  m->abort_submit();
  EXPECT_TRUE(logon->outgoing_queue().empty());
  EXPECT_FALSE(*m->get_prop(tags::PidTagMessageFlags)->get_if<int32_t>() & msgflag::Submitted);
  EXPECT_EQ(code_of([&] { m->abort_submit(); }), ErrorCode::MAPI_E_NOT_IN_QUEUE);
  e->save_changes(save_flags::ForceSave);
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagSubject), "changed");
  // Deleting a queued message takes it out of the queue.
  logon->open_message(id, true)->submit();
  outbox->delete_messages({id}, true);
  EXPECT_TRUE(logon->outgoing_queue().empty());
}

// Collects table notifications; wait_for(n) blocks until n have arrived (or 30 s have passed).
class TableCollector {
 public:
  TableSink sink() {
    return [this](const TableNotification& n) {
      std::lock_guard lk(m_);
      got_.push_back(n);
      cv_.notify_all();
    };
  }
  std::vector<TableNotification> wait_for(size_t n) {
    std::unique_lock lk(m_);
    cv_.wait_for(lk, std::chrono::seconds(30), [&] { return got_.size() >= n; });
    return got_;
  }
  // Blocks until `done` holds for what arrived (or 30 s have passed).
  std::vector<TableNotification> wait_until(const std::function<bool(const std::vector<TableNotification>&)>& done) {
    std::unique_lock lk(m_);
    cv_.wait_for(lk, std::chrono::seconds(30), [&] { return done(got_); });
    return got_;
  }
  std::vector<TableNotification> take(size_t n) {
    auto got = wait_for(n);
    std::lock_guard lk(m_);
    got_.clear();
    return got;
  }
  size_t count() {
    std::lock_guard lk(m_);
    return got_.size();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<TableNotification> got_;
};

// The instance key of the row whose first column (the subject) is `subject`.
Bytes key_of(Table& t, const std::string& subject) {
  t.seek_row(BookmarkOrigin::Beginning, 0);
  for (const auto& r : t.query_rows(1000))
    if (r[0].get_if<std::string>() && *r[0].get_if<std::string>() == subject) return r[1].get<Bytes>();
  ADD_FAILURE() << "no row " << subject;
  return {};
}

// MS-OXCNOTIF 3.1.4.2 / IMAPITable::Advise: an advised table is told of rows added, changed and
// deleted by any connection, each with the row before it in the table's own view, also after
// the view changes; unadvise and the end of the table end it.
TEST_P(LiveTables, AdvisedContentsTablesPushRowChangesInTheirView) {
  const MessageId b = saved("b");
  const MessageId d = saved("d");
  auto table = inbox->contents_table();
  table->set_columns({tags::PidTagSubject, tags::PidTagInstanceKey, tags::PidTagRowType});
  table->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 0, 0});
  TableCollector tc;
  const uint32_t conn = table->advise(tc.sink());

  auto other = second();
  auto other_inbox = other->open_special(SpecialFolder::Inbox);
  auto c = other_inbox->create_message();
  c->set_props({PropValue::string(tags::PidTagSubject, "c")});
  c->save_changes();
  auto got = tc.take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, table_event::RowAdded);
  ASSERT_EQ(got[0].row.size(), 3u);
  EXPECT_EQ(got[0].row[0].get<std::string>(), "c");
  EXPECT_EQ(got[0].row[2].get<int32_t>(), rowtype::Leaf);
  EXPECT_EQ(got[0].instance_key, got[0].row[1].get<Bytes>());
  EXPECT_EQ(got[0].prior_instance_key, key_of(*table, "b"));  // b, c, d

  auto e = other->open_message(d, true);
  e->set_props({PropValue::string(tags::PidTagSubject, "e")});
  e->save_changes();
  got = tc.take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, table_event::RowModified);
  EXPECT_EQ(got[0].row[0].get<std::string>(), "e");
  EXPECT_EQ(got[0].prior_instance_key, key_of(*table, "c"));

  const Bytes b_key = key_of(*table, "b");
  other_inbox->delete_messages({b}, true);
  got = tc.take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, table_event::RowDeleted);
  EXPECT_EQ(got[0].instance_key, b_key);

  // The subscription follows the table's new view: descending, the new row "a" comes last.
  table->sort({{{tags::PidTagSubject, SortDirection::Descending}}, 0, 0});
  auto a = other_inbox->create_message();
  a->set_props({PropValue::string(tags::PidTagSubject, "a")});
  a->save_changes();
  got = tc.take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, table_event::RowAdded);
  EXPECT_EQ(got[0].prior_instance_key, key_of(*table, "c"));  // e, c, a

  // A restriction the new row misses: nothing to say.
  table->restrict(Restriction::Property{RelOp::Ge, tags::PidTagSubject, PropValue::string(tags::PidTagSubject, "c")});
  auto x = other_inbox->create_message();
  x->set_props({PropValue::string(tags::PidTagSubject, "b2")});
  x->save_changes();
  auto y = other_inbox->create_message();
  y->set_props({PropValue::string(tags::PidTagSubject, "f")});
  y->save_changes();
  got = tc.take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].row[0].get<std::string>(), "f");

  table->unadvise(conn);
  EXPECT_EQ(code_of([&] { table->unadvise(conn); }), ErrorCode::MAPI_E_NOT_FOUND);
  other_inbox->create_message()->save_changes();
  std::this_thread::sleep_for(ChangeFeed::kPollInterval * 2);
  EXPECT_EQ(tc.count(), 0u);
}

TEST_P(LiveTables, AdvisedTablesEndWithTheTableAndTellCategorizedViewsTheyChanged) {
  saved("one");
  TableCollector gone, categorized, folders;
  {
    auto t = inbox->contents_table();
    t->advise(gone.sink());
  }  // the subscription ends with its table
  auto cat = inbox->contents_table();
  cat->set_columns({tags::PidTagSubject, tags::PidTagInstanceKey});
  cat->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 1, 1});
  cat->advise(categorized.sink());
  auto hierarchy = logon->open_special(SpecialFolder::Root)->hierarchy_table(tableflag::Depth);
  hierarchy->set_columns({tags::PidTagDisplayName, tags::PidTagInstanceKey});
  hierarchy->advise(folders.sink());

  saved("two");
  auto got = categorized.take(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, table_event::Changed);
  inbox->create_folder("Projects");
  auto projects_added = [](const std::vector<TableNotification>& ns) {
    for (const auto& n : ns)
      if (n.event == table_event::RowAdded && n.row[0].get_if<std::string>() && *n.row[0].get_if<std::string>() == "Projects") return true;
    return false;
  };
  EXPECT_TRUE(projects_added(folders.wait_until(projects_added)));
  std::this_thread::sleep_for(ChangeFeed::kPollInterval * 2);
  EXPECT_EQ(gone.count(), 0u);
  // After logoff a table cannot be advised; its existing subscriptions are over.
  logon->logoff();
  EXPECT_EQ(code_of([&] { cat->advise(categorized.sink()); }), ErrorCode::MAPI_E_END_OF_SESSION);
}

}  // namespace openmapi::objects_suite
