// Live tables (MS-OXCTABL, MS-OXCNOTIF): an open table follows its folder as messages are added,
// changed, moved and deleted through any connection; the cursor and bookmarks keep their rows;
// refresh() reports the changes as table notifications.
#include "test_util.h"

#include "core/entryid.h"
#include "store_fixture.h"

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::MailboxTest;
using openmapi::testing::simple_message;

namespace {

std::vector<std::string> subjects(const std::vector<Row>& rows, size_t col = 0) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r[col].type() == PropType::ErrorCode ? "-" : r[col].get<std::string>());
  return out;
}

Bytes key_of(MessageId id) {
  BinaryWriter w;
  w.u64(id);
  return w.take();
}

}  // namespace

TEST_F(MailboxTest, AnOpenTableShowsChangesOfAnotherConnectionAndKeepsItsCursor) {
  for (const char* s : {"b", "d", "f", "h"}) mb->save_message(inbox(), simple_message(s));
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagSubject});
  t->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 0, 0});
  EXPECT_EQ(subjects(t->query_rows(2)), (std::vector<std::string>{"b", "d"}));  // read page by page
  // Another connection adds a row before the cursor and one after it.
  auto other = open_sqlite_mailbox(dir.file("mb.sqlite"));
  other->save_message(inbox(), simple_message("a"));
  other->save_message(inbox(), simple_message("e"));
  EXPECT_EQ(t->row_count(), 6u);
  // The cursor stays after "d": no row twice, the new row after it shows.
  EXPECT_EQ(subjects(t->query_rows(10)), (std::vector<std::string>{"e", "f", "h"}));
  EXPECT_EQ(t->query_position(), std::make_pair(6u, 6u));
  t->seek_row(BookmarkOrigin::Beginning, 0);
  EXPECT_EQ(subjects(t->query_rows(10)), (std::vector<std::string>{"a", "b", "d", "e", "f", "h"}));
}

TEST_F(MailboxTest, CursorAndBookmarksKeepTheirRowsWhenRowsAroundThemGo) {
  std::map<std::string, MessageId> ids;
  for (const char* s : {"a", "b", "c", "d", "e"}) ids[s] = mb->save_message(inbox(), simple_message(s));
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagSubject});
  t->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 0, 0});
  EXPECT_EQ(t->row_count(), 5u);
  t->seek_row(BookmarkOrigin::Beginning, 3);  // on "d"
  t->seek_row(BookmarkOrigin::Beginning, 1);
  uint32_t on_b = t->create_bookmark();
  t->seek_row(BookmarkOrigin::Beginning, 3);
  mb->delete_messages({ids["a"], ids["c"]}, DeleteMode::Hard);
  mb->save_message(inbox(), simple_message("0"));  // sorts first
  EXPECT_EQ(subjects(t->query_rows(1)), (std::vector<std::string>{"d"}));
  int32_t sought = 0;
  EXPECT_TRUE(t->seek_row_bookmark(on_b, 0, &sought));
  EXPECT_EQ(subjects(t->query_rows(1)), (std::vector<std::string>{"b"}));
  // A bookmark whose row goes: not visible any more, positioned where it was.
  uint32_t on_e = [&] {
    t->seek_row(BookmarkOrigin::Beginning, 3);
    return t->create_bookmark();
  }();
  mb->delete_messages({ids["e"]}, DeleteMode::Hard);
  EXPECT_FALSE(t->seek_row_bookmark(on_e, 0, &sought));
  EXPECT_EQ(t->row_count(), 3u);
}

TEST_F(MailboxTest, RefreshReportsRowsAddedModifiedAndDeletedWithTheirNeighbours) {
  MessageId b = mb->save_message(inbox(), simple_message("b"));
  MessageId d = mb->save_message(inbox(), simple_message("d"));
  FolderId other_folder = mb->create_folder(inbox(), "Other", "IPF.Note");
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagSubject, tags::PidTagMid});
  t->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 0, 0});
  EXPECT_TRUE(t->refresh().empty());  // starts keeping events
  EXPECT_TRUE(t->refresh().empty());  // nothing changed
  MessageId c = mb->save_message(inbox(), simple_message("c"));
  auto ev = t->refresh();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, table_event::RowAdded);
  EXPECT_EQ(ev[0].instance_key, key_of(c));
  EXPECT_EQ(ev[0].prior_instance_key, key_of(b));  // inserted after "b"
  EXPECT_EQ(ev[0].row[0].get<std::string>(), "c");
  // A change of content and of read state: RowModified.
  mb->set_read_flag({d}, true);
  ev = t->refresh();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, table_event::RowModified);
  EXPECT_EQ(ev[0].instance_key, key_of(d));
  EXPECT_EQ(ev[0].prior_instance_key, key_of(c));
  // A move out of the folder: RowDeleted; a row added first has no prior row.
  mb->move_messages({b}, other_folder);
  MessageId a = mb->save_message(inbox(), simple_message("a"));
  ev = t->refresh();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].event, table_event::RowDeleted);
  EXPECT_EQ(ev[0].instance_key, key_of(b));
  EXPECT_EQ(ev[1].event, table_event::RowAdded);
  EXPECT_EQ(ev[1].instance_key, key_of(a));
  EXPECT_TRUE(ev[1].prior_instance_key.empty());
  // Changes elsewhere do not concern this table.
  mb->save_message(other_folder, simple_message("elsewhere"));
  EXPECT_TRUE(t->refresh().empty());
  // A new restriction: TABLE_CHANGED.
  t->restrict(parse_restriction_text("subject == \"a\""));
  ev = t->refresh();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, table_event::Changed);
}

TEST_F(MailboxTest, ACollapsedCategoryStaysCollapsedWhenTheTableChanges) {
  auto from = [](const std::string& sender, const std::string& subject) {
    Message m = simple_message(subject);
    m.props.set(PropValue::string(tags::PidTagSenderName, sender));
    return m;
  };
  mb->save_message(inbox(), from("alice", "a1"));
  mb->save_message(inbox(), from("bob", "b1"));
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagSenderName, tags::PidTagSubject, tags::PidTagInstanceKey, tags::PidTagRowType});
  t->sort({{{tags::PidTagSenderName, SortDirection::Ascending}, {tags::PidTagSubject, SortDirection::Ascending}}, 1, 1});
  auto rows = t->query_rows(10);
  ASSERT_EQ(rows.size(), 4u);  // alice, a1, bob, b1
  t->collapse_row(rows[0][2].get<Bytes>());
  EXPECT_EQ(t->row_count(), 3u);
  t->refresh();
  mb->save_message(inbox(), from("alice", "a2"));
  mb->save_message(inbox(), from("bob", "b2"));
  EXPECT_EQ(t->row_count(), 4u);  // alice (collapsed), bob, b1, b2
  t->seek_row(BookmarkOrigin::Beginning, 0);
  rows = t->query_rows(10);
  EXPECT_EQ(subjects(rows, 1), (std::vector<std::string>{"-", "-", "b1", "b2"}));
  EXPECT_EQ(rows[0][3].get<int32_t>(), rowtype::CollapsedCategory);
  auto ev = t->refresh();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, table_event::Changed);  // categorized tables report TABLE_CHANGED
}

TEST_F(MailboxTest, AHierarchyTableFollowsTheFolderTree) {
  auto t = mb->hierarchy_table(inbox());
  t->set_columns({tags::PidTagDisplayName, tags::PidTagContentCount});
  EXPECT_EQ(t->row_count(), 0u);
  FolderId f = mb->create_folder(inbox(), "New", "IPF.Note");
  EXPECT_EQ(t->row_count(), 1u);
  mb->save_message(f, simple_message("x"));
  t->seek_row(BookmarkOrigin::Beginning, 0);
  auto rows = t->query_rows(10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1].get<int32_t>(), 1);
}

TEST_F(MailboxTest, SeekRowApproxMovesToAFractionOfTheTable) {
  for (int i = 0; i < 10; ++i) mb->save_message(inbox(), simple_message(std::string(1, char('a' + i))));
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagSubject});
  t->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 0, 0});
  t->seek_row_approx(3, 10);
  EXPECT_EQ(subjects(t->query_rows(1)), (std::vector<std::string>{"d"}));
  t->seek_row_approx(1, 2);
  EXPECT_EQ(t->query_position().first, 5u);
  t->seek_row_approx(7, 7);
  EXPECT_TRUE(t->query_rows(1).empty());
  EXPECT_EQ(openmapi::testing::code_of([&] { t->seek_row_approx(1, 0); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST_F(MailboxTest, CollapseStateOutlivesTheTableObject) {
  auto from = [](const std::string& sender, const std::string& subject) {
    Message m = simple_message(subject);
    m.props.set(PropValue::string(tags::PidTagSenderName, sender));
    return m;
  };
  for (const char* s : {"alice", "bob", "carol"}) {
    mb->save_message(inbox(), from(s, std::string(s) + "1"));
    mb->save_message(inbox(), from(s, std::string(s) + "2"));
  }
  const SortOrderSet byfrom{{{tags::PidTagSenderName, SortDirection::Ascending}, {tags::PidTagSubject, SortDirection::Ascending}}, 1, 1};
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagSenderName, tags::PidTagSubject, tags::PidTagInstanceKey});
  t->sort(byfrom);
  auto rows = t->query_rows(20);  // alice a1 a2 bob b1 b2 carol c1 c2
  ASSERT_EQ(rows.size(), 9u);
  t->collapse_row(rows[3][2].get<Bytes>());  // bob
  Bytes state = t->get_collapse_state(rows[7][2].get<Bytes>());  // remember the row "carol1"
  // A new table object, and a message for bob meanwhile: the state is by value.
  mb->save_message(inbox(), from("bob", "bob3"));
  auto u = mb->contents_table(inbox());
  u->set_columns({tags::PidTagSenderName, tags::PidTagSubject, tags::PidTagInstanceKey});
  u->sort(byfrom);
  EXPECT_EQ(u->row_count(), 10u);
  uint32_t bm = u->set_collapse_state(state);
  EXPECT_EQ(u->row_count(), 7u);  // bob collapsed: alice a1 a2 bob carol c1 c2
  ASSERT_TRUE(u->seek_row_bookmark(bm, 0));
  auto at = u->query_rows(1);
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0][1].get<std::string>(), "carol1");
  Bytes bad = state;
  bad[0] = 9;
  EXPECT_EQ(openmapi::testing::code_of([&] { u->set_collapse_state(bad); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  bad = state;
  bad.push_back(0);
  EXPECT_EQ(openmapi::testing::code_of([&] { u->set_collapse_state(bad); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(openmapi::testing::code_of([&] { u->set_collapse_state(Bytes(state.begin(), state.begin() + 3)); }),
            ErrorCode::MAPI_E_CORRUPT_DATA);
}
