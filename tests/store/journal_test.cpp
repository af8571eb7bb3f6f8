// The change journal: one row per change, in change-number order, queryable per folder; the
// schema-1 mailbox migrated on open; retention.
#include "test_util.h"

#include "core/entryid.h"
#include "store/sqlite/db.h"
#include "store_fixture.h"

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::code_of;
using openmapi::testing::MailboxTest;
using openmapi::testing::simple_message;

namespace {

// What a version-4 build kept of recipients: two tables, a large-value trigger, and the
// last-modified index (the messages row had no recipients column).
constexpr const char* kV4Recipients = R"sql(
ALTER TABLE messages DROP COLUMN recipients;
CREATE INDEX messages_by_modified ON messages(folder_id, associated, soft_deleted, last_modified);
CREATE TABLE recipients(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  row_num INTEGER NOT NULL);
CREATE INDEX recipients_by_message ON recipients(message_id);
CREATE TABLE recipient_props(
  recipient_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
  tag INTEGER NOT NULL, value, large_id INTEGER,
  PRIMARY KEY(recipient_id, tag)) WITHOUT ROWID;
CREATE TRIGGER recipient_props_large AFTER DELETE ON recipient_props WHEN old.large_id IS NOT NULL
  BEGIN DELETE FROM large_values WHERE id = old.large_id; END;
)sql";

// The property tables as version 5 and older kept them: (owner, tag) WITHOUT ROWID, cascading
// from their owner; the rows of the version-6 tables carried over.
constexpr const char* kV5PropTables = R"sql(
DROP TRIGGER folder_props_owner; DROP TRIGGER message_props_owner; DROP TRIGGER attachment_props_owner;
DROP TRIGGER folder_props_large; DROP TRIGGER message_props_large; DROP TRIGGER attachment_props_large;
CREATE TABLE folder_props_old(
  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
  tag INTEGER NOT NULL, value, large_id INTEGER,
  PRIMARY KEY(folder_id, tag)) WITHOUT ROWID;
CREATE TABLE message_props_old(
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  tag INTEGER NOT NULL, value, large_id INTEGER,
  PRIMARY KEY(message_id, tag)) WITHOUT ROWID;
CREATE TABLE attachment_props_old(
  attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
  tag INTEGER NOT NULL, value, large_id INTEGER,
  PRIMARY KEY(attachment_id, tag)) WITHOUT ROWID;
INSERT INTO folder_props_old SELECT folder_id, tag, value, large_id FROM folder_props;
INSERT INTO message_props_old SELECT message_id, tag, value, large_id FROM message_props;
INSERT INTO attachment_props_old SELECT attachment_id, tag, value, large_id FROM attachment_props;
DROP TABLE folder_props; DROP TABLE message_props; DROP TABLE attachment_props;
ALTER TABLE folder_props_old RENAME TO folder_props;
ALTER TABLE message_props_old RENAME TO message_props;
ALTER TABLE attachment_props_old RENAME TO attachment_props;
CREATE TRIGGER folder_props_large AFTER DELETE ON folder_props WHEN old.large_id IS NOT NULL
  BEGIN DELETE FROM large_values WHERE id = old.large_id; END;
CREATE TRIGGER message_props_large AFTER DELETE ON message_props WHEN old.large_id IS NOT NULL
  BEGIN DELETE FROM large_values WHERE id = old.large_id; END;
CREATE TRIGGER attachment_props_large AFTER DELETE ON attachment_props WHEN old.large_id IS NOT NULL
  BEGIN DELETE FROM large_values WHERE id = old.large_id; END;
)sql";

int64_t count_rows(store::sqlite::Db& db, const std::string& sql) {
  store::sqlite::Stmt q(db, sql);
  return q.step() ? q.int64(0) : -1;
}

std::vector<ChangeKind> kinds(const std::vector<Change>& cs) {
  std::vector<ChangeKind> out;
  for (const auto& c : cs) out.push_back(c.kind);
  return out;
}

}  // namespace

TEST_F(MailboxTest, EveryMessageChangeLeavesOneJournalRowInOrder) {
  const int64_t start = mb->last_change_number();
  ASSERT_GT(start, 0);  // the default folders were created through the journal
  FolderId other = mb->create_folder(inbox(), "Other", "IPF.Note");
  MessageId a = mb->save_message(inbox(), simple_message("a"));
  mb->save_message(inbox(), simple_message("a2"), a);
  mb->set_read_flag({a}, true);
  mb->set_read_flag({a}, true);  // no change: no row
  MessageId moved = mb->move_messages({a}, other).at(0);
  MessageId copy = mb->copy_messages({moved}, inbox()).at(0);
  mb->delete_messages({copy}, DeleteMode::Hard);

  auto all = mb->changes_since(start);
  ASSERT_EQ(kinds(all), (std::vector<ChangeKind>{ChangeKind::Created, ChangeKind::Created, ChangeKind::Modified,
                                                 ChangeKind::ReadStateChanged, ChangeKind::Moved, ChangeKind::Copied,
                                                 ChangeKind::HardDeleted}));
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].change_number, all[i - 1].change_number);
  EXPECT_TRUE(all[0].is_folder);
  EXPECT_EQ(all[0].id, other);
  EXPECT_EQ(all[0].parent, inbox());
  EXPECT_EQ(all[1].id, a);
  EXPECT_EQ(all[3].message_flags & msgflag::Read, msgflag::Read);
  // The move: a new id in the target, the old one named with the source folder.
  EXPECT_EQ(all[4].id, moved);
  EXPECT_NE(moved, a);
  EXPECT_EQ(all[4].parent, other);
  EXPECT_EQ(all[4].old_id, a);
  EXPECT_EQ(all[4].old_parent, inbox());
  EXPECT_EQ(all[5].old_id, moved);
  EXPECT_EQ(all[5].parent, inbox());
  EXPECT_EQ(all[6].id, copy);
  EXPECT_EQ(mb->last_change_number(), all.back().change_number);
  // The content change number is the journal's for content changes (not for read state).
  EXPECT_EQ(int64_t(ObjectId::from_u64(uint64_t(*mb->load_message(moved).props.get_i64(tags::PidTagChangeNumber))).gc),
            all[4].change_number);

  // Per folder: what is or was in it. The Inbox saw a's creation, change, read, move away, the
  // copy arriving and its deletion; "Other" its own creation (in the Inbox, not in it) and the move in.
  auto in_other = mb->changes_since(start, other);
  EXPECT_EQ(kinds(in_other), (std::vector<ChangeKind>{ChangeKind::Moved, ChangeKind::Copied}));
  auto in_inbox = mb->changes_since(start, inbox());
  EXPECT_EQ(in_inbox.size(), 7u);
  // Paging with `after` and `limit` walks the same rows.
  std::vector<Change> paged;
  for (int64_t at = start;;) {
    auto page = mb->changes_since(at, std::nullopt, 2);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 2u);
    at = page.back().change_number;
    paged.insert(paged.end(), page.begin(), page.end());
  }
  EXPECT_EQ(kinds(paged), kinds(all));
}

TEST_F(MailboxTest, SoftDeleteRestoreAndFolderChangesAreJournaled) {
  FolderId deleted = mb->special_folder(SpecialFolder::DeletedItems);
  const int64_t start = mb->last_change_number();
  MessageId m = mb->save_message(deleted, simple_message("x"));
  mb->delete_messages({m}, DeleteMode::Soft);
  mb->undelete_messages({m});
  FolderId f = mb->create_folder(inbox(), "F", "");
  FolderId g = mb->create_folder(inbox(), "G", "");
  mb->rename_folder(f, "F2");
  mb->move_folder(f, g);
  mb->delete_folder(g, delfolder::DelFolders | delfolder::DelMessages);
  auto all = mb->changes_since(start);
  EXPECT_EQ(kinds(all), (std::vector<ChangeKind>{ChangeKind::Created, ChangeKind::SoftDeleted, ChangeKind::Restored,
                                                 ChangeKind::Created, ChangeKind::Created, ChangeKind::Modified,
                                                 ChangeKind::Moved, ChangeKind::HardDeleted, ChangeKind::HardDeleted}));
  EXPECT_EQ(all[6].id, f);
  EXPECT_EQ(all[6].parent, g);
  EXPECT_EQ(all[6].old_parent, inbox());
  EXPECT_EQ(all[7].id, f);  // the subfolder goes first
  EXPECT_EQ(all[8].id, g);
}

TEST_F(MailboxTest, AFailedCallLeavesNoJournalRow) {
  const int64_t start = mb->last_change_number();
  mb->set_quota(1);
  EXPECT_EQ(code_of([&] { mb->save_message(inbox(), simple_message("too big")); }), ErrorCode::MAPI_E_STORE_FULL);
  EXPECT_EQ(code_of([&] { mb->move_messages({4242}, inbox()); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_TRUE(mb->changes_since(start).empty());
}

TEST_F(MailboxTest, JournalSurvivesReopenAndIsPrunedByAge) {
  mb->save_message(inbox(), simple_message("a"));
  const int64_t last = mb->last_change_number();
  reopen();
  EXPECT_EQ(mb->last_change_number(), last);
  EXPECT_EQ(code_of([&] { mb->set_journal_retention(std::chrono::seconds(0)); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  // Rows older than an hour: none yet. Then age them by hand and prune: only the newest stays.
  EXPECT_EQ(mb->prune_journal(std::chrono::hours(1)), 0u);
  {
    store::sqlite::Db db(dir.file("mb.sqlite"), false);
    db.exec("UPDATE changes SET time = time - 36000000000");  // an hour earlier
  }
  size_t rows = mb->changes_since(0).size();
  ASSERT_GT(rows, 1u);
  EXPECT_EQ(mb->prune_journal(std::chrono::minutes(30)), rows - 1);
  auto left = mb->changes_since(0);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].change_number, last);
}

TEST(JournalMigration, ASchemaOneMailboxGainsAnEmptyJournalAQueueAndTheIdOrderedFlagsIndex) {
  openmapi::testing::TempDir dir;
  const std::string path = dir.file("old.sqlite");
  {
    auto mb = create_sqlite_mailbox(path, {"Old", "old@example.com", 0});
    mb->save_message(mb->special_folder(SpecialFolder::Inbox), openmapi::testing::simple_message("kept"));
  }
  {
    // Make it what a version-1 build wrote: no journal, the flags index of then, user_version 1.
    store::sqlite::Db db(path, false);
    db.exec("DROP TABLE changes");
    db.exec("DROP TABLE outgoing");
    db.exec("DROP INDEX messages_by_flags");
    db.exec("CREATE INDEX messages_by_flags ON messages(folder_id, associated, soft_deleted, message_flags)");
    db.exec(kV5PropTables);
    db.exec(kV4Recipients);
    db.exec("PRAGMA user_version = 1");
  }
  auto mb = open_sqlite_mailbox(path);
  EXPECT_EQ(mb->last_change_number(), 0);
  auto t = mb->contents_table(mb->special_folder(SpecialFolder::Inbox));
  EXPECT_EQ(t->row_count(), 1u);
  MessageId id = mb->save_message(mb->special_folder(SpecialFolder::Inbox), openmapi::testing::simple_message("new"));
  auto cs = mb->changes_since(0);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].id, id);
  EXPECT_TRUE(mb->check_integrity().empty());
  store::sqlite::Db db(path, false);
  store::sqlite::Stmt v(db, "PRAGMA user_version");
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.int64(0), 7);
  // Version 7: the queue keeps the spooler's state.
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM pragma_table_info('outgoing') WHERE name IN ('attempts', 'next_attempt', 'finished', 'last_error')"), 4);
  // Version 4: the flags index in id order, so a folder's messages in id order need no sort.
  store::sqlite::Stmt plan(db, "EXPLAIN QUERY PLAN SELECT id FROM messages WHERE folder_id = 1 AND associated = 0 AND soft_deleted = 0 ORDER BY id LIMIT 5");
  std::string steps;
  while (plan.step()) steps += plan.text(3) + "\n";
  EXPECT_NE(steps.find("messages_by_flags"), std::string::npos) << steps;
  EXPECT_EQ(steps.find("TEMP B-TREE"), std::string::npos) << steps;
}

TEST(JournalMigration, ASchemaFourMailboxKeepsEveryRecipientValueInTheMessagesRow) {
  openmapi::testing::TempDir dir;
  const std::string path = dir.file("v4.sqlite");
  MessageId id = 0, bare = 0;
  {
    auto mb = create_sqlite_mailbox(path, {"Old", "old@example.com", 0});
    id = mb->save_message(mb->special_folder(SpecialFolder::Inbox), openmapi::testing::simple_message("with recipients"));
    bare = mb->save_message(mb->special_folder(SpecialFolder::Inbox), openmapi::testing::simple_message("without"));
  }
  const Bytes big(40000, 0x5A);  // over the 32 KiB threshold: version 4 kept it in large_values
  {
    // The recipient rows as a version-4 build wrote them: one row per property, the large
    // value in chunks, row numbers 0 and 3 (a gap left by a removed row).
    store::sqlite::Db db(path, false);
    db.exec(kV5PropTables);
    db.exec(kV4Recipients);
    db.exec("INSERT INTO recipients(id, message_id, row_num) VALUES(1, " + std::to_string(id) + ", 0), (2, " + std::to_string(id) + ", 3)");
    store::sqlite::Stmt(db, "INSERT INTO large_values(id, size) VALUES(77, ?)").bind(1, int64_t(big.size())).run();
    store::sqlite::Stmt(db, "INSERT INTO large_chunks(value_id, seq, data) VALUES(77, 0, ?)").bind(1, ByteView(big)).run();
    auto prop = [&](int64_t rid, PropTag tag, auto value) {
      store::sqlite::Stmt(db, "INSERT INTO recipient_props(recipient_id, tag, value) VALUES(?, ?, ?)")
          .bind(1, rid).bind(2, int64_t(tag.value)).bind(3, value).run();
    };
    prop(1, tags::PidTagDisplayName, std::string_view("Zoë Example"));
    prop(1, tags::PidTagSmtpAddress, std::string_view("zoe@example.com"));
    prop(1, tags::PidTagRecipientType, int64_t(1));
    prop(2, tags::PidTagDisplayName, std::string_view("Bcc Person"));
    prop(2, tags::PidTagRecipientType, int64_t(3));
    store::sqlite::Stmt(db, "INSERT INTO recipient_props(recipient_id, tag, value, large_id) VALUES(2, ?, NULL, 77)")
        .bind(1, int64_t(tags::PidTagEntryId.value)).run();
    db.exec("PRAGMA user_version = 4");
  }
  auto mb = open_sqlite_mailbox(path);
  Message m = mb->load_message(id);
  ASSERT_EQ(m.recipients.size(), 2u);
  EXPECT_EQ(m.recipients[0].get_i32(tags::PidTagRowid), 0);
  EXPECT_EQ(m.recipients[0].get_string(tags::PidTagDisplayName), "Zoë Example");
  EXPECT_EQ(m.recipients[0].get_string(tags::PidTagSmtpAddress), "zoe@example.com");
  EXPECT_EQ(m.recipients[0].get_i32(tags::PidTagRecipientType), 1);
  EXPECT_EQ(m.recipients[1].get_i32(tags::PidTagRowid), 3);
  EXPECT_EQ(m.recipients[1].get_string(tags::PidTagDisplayName), "Bcc Person");
  EXPECT_EQ(m.recipients[1].get_i32(tags::PidTagRecipientType), 3);
  const PropValue* entry = m.recipients[1].find(tags::PidTagEntryId);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->get<Bytes>(), big);
  EXPECT_TRUE(mb->load_message(bare).recipients.empty());
  EXPECT_TRUE(mb->check_integrity().empty());
  // Recipients still change through the new layout after the migration.
  m.recipients.pop_back();
  mb->save_message(mb->special_folder(SpecialFolder::Inbox), m, id);
  EXPECT_EQ(mb->load_message(id).recipients.size(), 1u);

  store::sqlite::Db db(path, false);
  EXPECT_EQ(count_rows(db, "PRAGMA user_version"), 7);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('recipients', 'recipient_props', "
                           "'recipients_by_message', 'recipient_props_large', 'messages_by_modified')"), 0);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM large_values WHERE id = 77"), 0);  // went with its row
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM large_chunks WHERE value_id = 77"), 0);
}

TEST(JournalMigration, ASchemaFiveMailboxKeepsEveryPropertyUnderTheNewKeys) {
  openmapi::testing::TempDir dir;
  const std::string path = dir.file("v5.sqlite");
  const Bytes big(40000, 0x42), attached(70000, 0x17);  // both over the 32 KiB threshold: chunks
  MessageId id = 0;
  FolderId folder = 0;
  Message before;
  {
    auto mb = create_sqlite_mailbox(path, {"Old", "old@example.com", 0});
    folder = mb->create_folder(mb->special_folder(SpecialFolder::Inbox), "Projects", "IPF.Note");
    PropertyBag fp;
    fp.set(PropValue::string(tags::PidTagComment, "a folder comment"));
    mb->set_folder_properties(folder, fp);
    Message m = simple_message("every kind of value");
    m.props.set(PropValue::string(tags::PidTagBody, std::string(5000, 'b')));
    m.props.set(PropValue::binary(tags::PidTagRtfCompressed, big));
    m.props.set(PropValue::i32(tags::PidTagImportance, 2));
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "data.bin"));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, attached));
    m.attachments.push_back(a);
    id = mb->save_message(folder, m);
    before = mb->load_message(id);
  }
  int64_t large_before = 0;
  {
    store::sqlite::Db db(path, false);
    db.exec(kV5PropTables);
    db.exec("PRAGMA user_version = 5");
    large_before = count_rows(db, "SELECT COUNT(*) FROM large_values");
  }
  ASSERT_EQ(large_before, 2);
  {
    auto mb = open_sqlite_mailbox(path);
    Message after = mb->load_message(id);
    EXPECT_EQ(after.props.values().size(), before.props.values().size());
    for (const PropValue& v : before.props.values()) {
      const PropValue* w = after.props.find(v.tag());
      ASSERT_NE(w, nullptr) << v.tag().hex();
      EXPECT_TRUE(*w == v) << v.tag().hex();
    }
    ASSERT_EQ(after.attachments.size(), 1u);
    EXPECT_EQ(after.attachments[0].props.get_string(tags::PidTagAttachLongFilename), "data.bin");
    const PropValue* data = after.attachments[0].props.find(tags::PidTagAttachDataBinary);
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->get<Bytes>(), attached);
    EXPECT_EQ(mb->folder_properties(folder).get_string(tags::PidTagComment), "a folder comment");
    EXPECT_TRUE(mb->check_integrity().empty());
    // The new triggers take a deleted message's values and their chunks.
    mb->delete_messages({id}, DeleteMode::Hard);
  }
  store::sqlite::Db db(path, false);
  EXPECT_EQ(count_rows(db, "PRAGMA user_version"), 7);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM pragma_table_info('message_props') WHERE name = 'key'"), 1);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%_v5'"), 0);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM message_props"), 0);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM attachment_props"), 0);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM large_values"), 0);
  EXPECT_EQ(count_rows(db, "SELECT COUNT(*) FROM large_chunks"), 0);
}
