// MS-OXCTABL table behaviour on any provider's tables: columns, restrictions, sorts, cursor,
// bookmarks, FindRow, categories. Results are checked against brute force over the messages
// with core's evaluator and comparator, which the SQL fast paths (and a server's tables, through
// the remote provider) must agree with. Included by tests/store/table_test.cpp (the SQLite
// store) and tests/mapi/remote_test.cpp (the remote provider against `openmapi serve`), each of
// which defines table_mailbox() and instantiates TableTest for its provider.
#pragma once
#include <algorithm>
#include <memory>
#include <random>

#include "core/entryid.h"
#include "core/restriction.h"
#include "core/sortorder.h"
#include "store_fixture.h"

namespace openmapi::table_suite {

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::simple_message;
using openmapi::testing::TempDir;
using Message = openmapi::Message;  // the serialised message, not the object model's store::Message

constexpr int64_t kDay = 864'000'000'000LL;
constexpr int64_t kBase = 133'500'000'000'000'000LL;

inline uint64_t id_of(const Row& r, size_t col) { return ObjectId::from_u64(uint64_t(r.at(col).get<int64_t>())).gc; }

// A new, empty mailbox of the provider named by the test's parameter.
std::shared_ptr<Mailbox> table_mailbox(const std::string& provider, TempDir& dir);

class TableTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { mb = table_mailbox(GetParam(), dir); }
  FolderId inbox() { return mb->special_folder(SpecialFolder::Inbox); }
  // Messages with known properties: subjects s0..s(n-1), senders cycling over 3 names,
  // delivery times spread out, every third unread, importance cycling 0..2.
  void fill(int n) {
    const char* senders[] = {"Alice", "bob", "Carol"};
    for (int i = 0; i < n; ++i) {
      Message m = simple_message("s" + std::to_string(i), kBase + (i * 7 % n) * kDay, i % 3 == 0 ? 0 : msgflag::Read);
      m.props.set(PropValue::string(tags::PidTagSenderName, senders[i % 3]));
      m.props.set(PropValue::i32(tags::PidTagImportance, i % 3));
      ids.push_back(mb->save_message(inbox(), m));
    }
  }
  TempDir dir;
  std::shared_ptr<Mailbox> mb;
  std::vector<MessageId> ids;
};

inline std::vector<uint64_t> all_ids(Table& t) {
  t.set_columns({tags::PidTagMid});
  t.seek_row(BookmarkOrigin::Beginning, 0);
  std::vector<uint64_t> out;
  for (const auto& r : t.query_rows(1u << 20)) out.push_back(id_of(r, 0));
  return out;
}

TEST_P(TableTest, ColumnsAndMissingValues) {
  fill(3);
  auto t = mb->contents_table(inbox());
  t->set_columns({tags::PidTagSubject, tags::PidTagBody, tags::PidTagMid, tags::PidTagRowType, tags::PidTagDepth});
  EXPECT_THROW(t->set_columns({}), MapiError);
  auto rows = t->query_rows(10);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0].tag(), tags::PidTagSubject);
    // A column the row lacks comes back as PtypErrorCode MAPI_E_NOT_FOUND with the column's id.
    EXPECT_EQ(r[1].tag(), PropTag(0x1000, PropType::ErrorCode));
    EXPECT_EQ(uint32_t(r[1].get<int32_t>()), uint32_t(ErrorCode::MAPI_E_NOT_FOUND));
    EXPECT_EQ(r[3].get<int32_t>(), rowtype::Leaf);
    EXPECT_EQ(r[4].get<int32_t>(), 0);
  }
  // PtypString8 columns get the string as PtypString8.
  t->set_columns({PropTag(0x0037, PropType::String8)});
  t->seek_row(BookmarkOrigin::Beginning, 0);
  EXPECT_EQ(t->query_rows(1)[0][0].tag(), PropTag(0x0037, PropType::String8));
}

TEST_P(TableTest, MultiLevelSortAgreesWithCoreComparator) {
  fill(30);
  auto t = mb->contents_table(inbox());
  SortOrderSet s{{{tags::PidTagSenderName, SortDirection::Ascending}, {tags::PidTagMessageDeliveryTime, SortDirection::Descending}}, 0, 0};
  t->sort(s);
  auto got = all_ids(*t);
  // Brute force: load every message and sort with compare_values.
  std::vector<Message> msgs;
  for (auto id : ids) msgs.push_back(mb->load_message(id));
  std::vector<size_t> idx(ids.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    int c = compare_values(msgs[a].props.find(tags::PidTagSenderName), msgs[b].props.find(tags::PidTagSenderName));
    if (c) return c < 0;
    c = compare_values(msgs[a].props.find(tags::PidTagMessageDeliveryTime), msgs[b].props.find(tags::PidTagMessageDeliveryTime));
    if (c) return c > 0;
    return false;
  });
  ASSERT_EQ(got.size(), ids.size());
  for (size_t i = 0; i < idx.size(); ++i) EXPECT_EQ(got[i], ids[idx[i]]) << "row " << i;
  // Case-insensitive: "bob" sorts between "Alice" and "Carol".
  t->set_columns({tags::PidTagSenderName});
  t->seek_row(BookmarkOrigin::Beginning, 10);
  EXPECT_EQ(t->query_rows(1)[0][0].get<std::string>(), "bob");
}

TEST_P(TableTest, SortOnAPropertyOnlyTheEavTableHasAndOnEntryIds) {
  fill(12);
  auto t = mb->contents_table(inbox());
  t->sort({{{PropTag(0x0E1D, PropType::String), SortDirection::Descending}}, 0, 0});
  t->set_columns({tags::PidTagNormalizedSubject});
  auto rows = t->query_rows(100);
  ASSERT_EQ(rows.size(), 12u);
  for (size_t i = 1; i < rows.size(); ++i)
    EXPECT_GE(compare_values(&rows[i - 1][0], &rows[i][0]), 0) << i;
  // PidTagEntryId is computed, so this sort runs in memory; it must still be total and stable.
  t->sort({{{tags::PidTagEntryId, SortDirection::Ascending}}, 0, 0});
  t->set_columns({tags::PidTagEntryId});
  rows = t->query_rows(100);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_LT(compare_values(&rows[i - 1][0], &rows[i][0]), 0);
}

TEST_P(TableTest, RestrictionsAgreeWithCoreEvaluator) {
  // A varied folder: random subjects, bodies, flags, importance, recipients.
  std::mt19937 rng(42);
  const char* words[] = {"Report", "report", "budget", "Lunch", "ÄRGER", "ärger", "plan", "50%_off"};
  for (int i = 0; i < 120; ++i) {
    std::string subject = std::string(words[rng() % 8]) + " " + words[rng() % 8];
    Message m = simple_message(subject, kBase + int64_t(rng() % 1000) * kDay, (rng() % 2) ? msgflag::Read : 0);
    if (rng() % 4) m.props.set(PropValue::i32(tags::PidTagImportance, int32_t(rng() % 3)));
    if (rng() % 2) m.props.set(PropValue::string(tags::PidTagBody, std::string(rng() % 300, 'x')));
    if (rng() % 3 == 0) m.props.set(PropValue::string(tags::PidTagSenderName, words[rng() % 8]));
    if (rng() % 2)
      m.recipients.push_back(PropertyBag{PropValue::string(tags::PidTagDisplayName, rng() % 2 ? "Bob" : "Alice")});
    ids.push_back(mb->save_message(inbox(), m));
  }
  const char* restrictions[] = {
      "subject ~ \"report\"",
      "subject ^= \"ärger\"",
      "subject ~= \"Report plan\"",
      "content(subject, \"Report\", substring)",
      "subject ~ \"50%_\"",
      "importance >= 1",
      "importance == 0 or not exists(importance)",
      "not importance == 2",
      "bitmask(flags, 0x1) == 0",
      "bitmask(flags, 0x1) != 0 and subject ~ \"lunch\"",
      "exists(body) and size(body) > 200",
      "exists(PidTagSenderName)",
      "not subject ~ \"plan\"",
      "recipients(PidTagDisplayName ~ \"bob\")",
      "received >= 2024-01-01 and received < 2025-06-01",
      "subject == \"budget budget\"",
      "sender == subject",
      "true",
      "false",
  };
  std::vector<Message> msgs;
  for (auto id : ids) msgs.push_back(mb->load_message(id));
  auto t = mb->contents_table(inbox());
  t->sort({{{tags::PidTagMid, SortDirection::Ascending}}, 0, 0});
  size_t selective = 0;  // restrictions that keep some rows and drop others: the test is not vacuous
  for (const char* text : restrictions) {
    Restriction r = parse_restriction_text(text);
    std::vector<uint64_t> want;
    for (size_t i = 0; i < msgs.size(); ++i)
      if (evaluate(r, msgs[i])) want.push_back(ids[i]);
    if (!want.empty() && want.size() < msgs.size()) ++selective;
    t->restrict(r);
    EXPECT_EQ(all_ids(*t), want) << text;
    EXPECT_EQ(t->row_count(), want.size()) << text;
  }
  EXPECT_GE(selective, 15u);
  t->restrict(std::nullopt);
  EXPECT_EQ(t->row_count(), ids.size());
}

TEST_P(TableTest, QueryRowsForwardBackwardSeekAndPosition) {
  fill(10);
  auto t = mb->contents_table(inbox());
  t->sort({{{tags::PidTagMid, SortDirection::Ascending}}, 0, 0});
  t->set_columns({tags::PidTagMid});
  auto first = t->query_rows(3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(id_of(first[0], 0), ids[0]);
  EXPECT_EQ(t->query_position(), (std::pair<uint32_t, uint32_t>{3, 10}));
  auto back = t->query_rows(2, false);  // the two rows before the cursor, in table order
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(id_of(back[0], 0), ids[1]);
  EXPECT_EQ(id_of(back[1], 0), ids[2]);
  EXPECT_EQ(t->query_position().first, 1u);
  EXPECT_EQ(t->seek_row(BookmarkOrigin::Current, 100), 9);  // clamped at the end
  EXPECT_TRUE(t->query_rows(5).empty());
  EXPECT_EQ(t->seek_row(BookmarkOrigin::End, -2), -2);
  EXPECT_EQ(id_of(t->query_rows(1)[0], 0), ids[8]);
  EXPECT_EQ(t->seek_row(BookmarkOrigin::Beginning, -5), 0);
  EXPECT_EQ(t->query_position().first, 0u);
  EXPECT_EQ(t->query_rows(0).size(), 0u);
}

TEST_P(TableTest, BookmarksAndFindRow) {
  fill(10);
  auto t = mb->contents_table(inbox());
  t->sort({{{tags::PidTagMid, SortDirection::Ascending}}, 0, 0});
  t->set_columns({tags::PidTagMid, tags::PidTagSubject});
  t->seek_row(BookmarkOrigin::Beginning, 4);
  uint32_t bm = t->create_bookmark();
  t->seek_row(BookmarkOrigin::Beginning, 0);
  int32_t moved = 0;
  EXPECT_TRUE(t->seek_row_bookmark(bm, 1, &moved));
  EXPECT_EQ(moved, 1);
  EXPECT_EQ(id_of(t->query_rows(1)[0], 0), ids[5]);
  t->free_bookmark(bm);
  try {
    t->seek_row_bookmark(bm, 0);
    ADD_FAILURE() << "freed bookmark accepted";
  } catch (const MapiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::MAPI_E_INVALID_BOOKMARK);
  }
  // FindRow forward from the beginning, then backward from the end.
  auto row = t->find_row(parse_restriction_text("subject == \"s7\""), BookmarkOrigin::Beginning, true);
  ASSERT_TRUE(row);
  EXPECT_EQ((*row)[1].get<std::string>(), "s7");
  EXPECT_EQ(t->query_position().first, 7u);
  row = t->find_row(parse_restriction_text("importance == 0"), BookmarkOrigin::End, false);
  ASSERT_TRUE(row);
  EXPECT_EQ(id_of(*row, 0), ids[9]);
  row = t->find_row(parse_restriction_text("importance == 1"), BookmarkOrigin::Current, false);
  ASSERT_TRUE(row);
  EXPECT_EQ(id_of(*row, 0), ids[7]);
  EXPECT_FALSE(t->find_row(parse_restriction_text("subject == \"nope\""), BookmarkOrigin::Beginning, true));
  // A bookmark on a row that is filtered away: the seek reports it.
  t->seek_row(BookmarkOrigin::Beginning, 2);
  uint32_t bm2 = t->create_bookmark();
  t->restrict(parse_restriction_text("importance == 0"));
  EXPECT_FALSE(t->seek_row_bookmark(bm2, 0));
}

TEST_P(TableTest, CategorizedViewWithExpandAndCollapse) {
  fill(9);  // senders Alice, bob, Carol x3; every third (all of Alice's) unread
  auto t = mb->contents_table(inbox());
  SortOrderSet s{{{tags::PidTagSenderName, SortDirection::Ascending}, {tags::PidTagMid, SortDirection::Ascending}}, 1, 1};
  t->sort(s);
  t->set_columns({tags::PidTagRowType, tags::PidTagDepth, tags::PidTagSenderName, tags::PidTagContentCount,
                  tags::PidTagContentUnreadCount, tags::PidTagInstanceKey, tags::PidTagMid});
  EXPECT_EQ(t->row_count(), 12u);  // 3 headers + 9 leaves
  auto rows = t->query_rows(100);
  ASSERT_EQ(rows.size(), 12u);
  EXPECT_EQ(rows[0][0].get<int32_t>(), rowtype::ExpandedCategory);
  EXPECT_EQ(rows[0][1].get<int32_t>(), 0);
  EXPECT_EQ(rows[0][2].get<std::string>(), "Alice");
  EXPECT_EQ(rows[0][3].get<int32_t>(), 3);
  EXPECT_EQ(rows[0][4].get<int32_t>(), 3);
  EXPECT_EQ(rows[0][6].type(), PropType::ErrorCode);  // headers have no message columns
  EXPECT_EQ(rows[1][0].get<int32_t>(), rowtype::Leaf);
  EXPECT_EQ(rows[1][1].get<int32_t>(), 1);
  EXPECT_EQ(rows[4][2].get<std::string>(), "bob");
  EXPECT_EQ(rows[4][4].get<int32_t>(), 0);
  Bytes bob_key = rows[4][5].get<Bytes>();

  t->seek_row(BookmarkOrigin::Beginning, 6);  // on a leaf of bob
  EXPECT_EQ(t->collapse_row(bob_key), 3u);
  EXPECT_EQ(t->row_count(), 9u);
  EXPECT_EQ(t->query_position().first, 4u);  // the cursor moved to the collapsed header
  auto after = t->query_rows(1);
  EXPECT_EQ(after[0][0].get<int32_t>(), rowtype::CollapsedCategory);
  EXPECT_EQ(t->collapse_row(bob_key), 0u);
  EXPECT_EQ(t->expand_row(bob_key), 3u);
  EXPECT_EQ(t->row_count(), 12u);
  EXPECT_THROW(t->expand_row(Bytes{1, 2, 3}), MapiError);
  EXPECT_THROW(t->expand_row(rows[1][5].get<Bytes>()), MapiError);  // a leaf is no category

  // Collapsed from the start: cExpandedCategories = 0.
  s.expanded = 0;
  t->sort(s);
  EXPECT_EQ(t->row_count(), 3u);
}

TEST_P(TableTest, TwoCategoryLevels) {
  fill(12);
  auto t = mb->contents_table(inbox());
  t->sort({{{tags::PidTagSenderName, SortDirection::Ascending}, {tags::PidTagImportance, SortDirection::Descending},
            {tags::PidTagMid, SortDirection::Ascending}}, 2, 2});
  t->set_columns({tags::PidTagRowType, tags::PidTagDepth, tags::PidTagSenderName, tags::PidTagImportance, tags::PidTagContentCount});
  auto rows = t->query_rows(100);
  // Senders cycle with i%3 and importance is i%3: each sender has one importance: 3 + 3 headers + 12 leaves.
  ASSERT_EQ(rows.size(), 18u);
  EXPECT_EQ(rows[0][1].get<int32_t>(), 0);
  EXPECT_EQ(rows[1][1].get<int32_t>(), 1);
  EXPECT_EQ(rows[1][2].get<std::string>(), "Alice");  // a level-2 header carries the level-1 value too
  EXPECT_EQ(rows[1][4].get<int32_t>(), 4);
  EXPECT_EQ(rows[2][1].get<int32_t>(), 2);
  EXPECT_EQ(rows[2][0].get<int32_t>(), rowtype::Leaf);
  EXPECT_THROW(t->sort({{{tags::PidTagSenderName, SortDirection::Ascending}}, 2, 0}), MapiError);
}

// TABLE_SORT_CATEG_MAX / _MIN (MS-OXCDATA 2.13.1), as Outlook's conversation view uses it:
// categories ordered by the newest (oldest) delivery time among their rows, not by their value.
// The sender is stored twice: PidTagSenderName is sorted in memory, PidTagSentRepresentingName (a
// mirrored column) would otherwise be sorted by SQL; both must give the same orders.
TEST_P(TableTest, CategoriesOrderedByTheirNewestOrOldestRow) {
  // (sender, day): Alice's newest is day 5, bob's day 9, Carol's day 7; oldest 1, 8, 0.
  const std::vector<std::pair<std::string, int>> mail = {{"Alice", 1}, {"bob", 9}, {"Carol", 0}, {"Alice", 5},
                                                         {"bob", 8},   {"Carol", 7}, {"Alice", 3}};
  for (const auto& [who, day] : mail) {
    Message m = simple_message(who + " " + std::to_string(day), kBase + day * kDay);
    m.props.set(PropValue::string(tags::PidTagSenderName, who));
    m.props.set(PropValue::string(tags::PidTagSentRepresentingName, who));
    mb->save_message(inbox(), m);
  }
  for (PropTag sender : {tags::PidTagSenderName, tags::PidTagSentRepresentingName}) {
    SCOPED_TRACE(sender.hex());
    auto t = mb->contents_table(inbox());
    t->set_columns({tags::PidTagRowType, sender, tags::PidTagMessageDeliveryTime});
    auto order = [&](const SortOrderSet& s) {
      t->sort(s);
      t->seek_row(BookmarkOrigin::Beginning, 0);
      std::vector<std::string> out;
      for (const auto& r : t->query_rows(100)) {
        std::string who = r[1].get<std::string>();
        if (r[0].get<int32_t>() == rowtype::Leaf)
          out.push_back(who + "@" + std::to_string((r[2].get<int64_t>() - kBase) / kDay));
        else
          out.push_back("[" + who + "]");
      }
      return out;
    };
    using V = std::vector<std::string>;
    // Newest conversation first: bob (9), Carol (7), Alice (5); newest row first inside each.
    EXPECT_EQ(order({{{sender, SortDirection::Descending}, {tags::PidTagMessageDeliveryTime, SortDirection::CategoryMaximum}}, 1, 1}),
              (V{"[bob]", "bob@9", "bob@8", "[Carol]", "Carol@7", "Carol@0", "[Alice]", "Alice@5", "Alice@3", "Alice@1"}));
    // By each category's oldest row, oldest first: Carol (0), Alice (1), bob (8); oldest row first inside.
    EXPECT_EQ(order({{{sender, SortDirection::Ascending}, {tags::PidTagMessageDeliveryTime, SortDirection::CategoryMinimum}}, 1, 1}),
              (V{"[Carol]", "Carol@0", "Carol@7", "[Alice]", "Alice@1", "Alice@3", "Alice@5", "[bob]", "bob@8", "bob@9"}));
    // A plain descending order sorts the categories by their value (case-insensitively) instead.
    EXPECT_EQ(order({{{sender, SortDirection::Descending}, {tags::PidTagMessageDeliveryTime, SortDirection::Descending}}, 1, 0}),
              (V{"[Carol]", "[bob]", "[Alice]"}));
  }
}

TEST_P(TableTest, AssociatedAndHierarchyTables) {
  fill(2);
  Message fai = simple_message("view settings", 0, msgflag::Associated);
  mb->save_message(inbox(), fai);
  EXPECT_EQ(mb->contents_table(inbox())->row_count(), 2u);
  EXPECT_EQ(mb->contents_table(inbox(), tableflag::Associated)->row_count(), 1u);
  EXPECT_EQ(mb->folder_properties(inbox()).get_i32(tags::PidTagContentCount), 2);

  FolderId a = mb->create_folder(inbox(), "A", "IPF.Note");
  mb->create_folder(a, "A1", "IPF.Task");
  mb->create_folder(inbox(), "B", "IPF.Contact");
  auto h = mb->hierarchy_table(inbox());
  EXPECT_EQ(h->row_count(), 2u);
  auto deep = mb->hierarchy_table(inbox(), tableflag::Depth);
  deep->set_columns({tags::PidTagDisplayName, tags::PidTagDepth});
  auto rows = deep->query_rows(10);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0].get<std::string>(), "A");
  EXPECT_EQ(rows[1][0].get<std::string>(), "A1");
  EXPECT_EQ(rows[1][1].get<int32_t>(), 1);
  deep->restrict(parse_restriction_text("PidTagContainerClass == \"IPF.Contact\""));
  deep->seek_row(BookmarkOrigin::Beginning, 0);
  rows = deep->query_rows(10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].get<std::string>(), "B");
  deep->restrict(std::nullopt);
  deep->sort({{{tags::PidTagDisplayName, SortDirection::Descending}}, 0, 0});
  EXPECT_EQ(deep->query_rows(1)[0][0].get<std::string>(), "B");
}

TEST_P(TableTest, ContentRestrictionsSeeWholeLargeBodies) {
  Message big = simple_message("long one");
  big.props.set(PropValue::string(tags::PidTagBody, std::string(100 * 1024, 'x') + " Nädel am Ende"));
  MessageId big_id = mb->save_message(inbox(), big);
  Message small = simple_message("short one");
  small.props.set(PropValue::string(tags::PidTagBody, "nothing here"));
  mb->save_message(inbox(), small);
  auto t = mb->contents_table(inbox());
  for (const char* text : {"body ~ \"am ende\"", "body ~ \"NÄDEL\"", "not body ~ \"nothing\""}) {
    t->restrict(parse_restriction_text(text));
    auto got = all_ids(*t);
    ASSERT_EQ(got.size(), 1u) << text;
    EXPECT_EQ(got[0], big_id) << text;
  }
}

TEST_P(TableTest, PagedReadsAgreeWithTheFullyOrderedView) {
  fill(40);
  SortOrderSet s{{{tags::PidTagMessageDeliveryTime, SortDirection::Descending}}, 0, 0};
  Restriction r = parse_restriction_text("importance >= 1 and bitmask(flags, 0x1) != 0");
  // The whole view, ordered at once (a bookmark needs every row).
  auto full = mb->contents_table(inbox());
  full->sort(s);
  full->restrict(r);
  full->set_columns({tags::PidTagMid});
  full->create_bookmark();
  std::vector<uint64_t> want;
  for (const auto& row : full->query_rows(1000)) want.push_back(id_of(row, 0));
  ASSERT_GT(want.size(), 10u);
  // The same view read four rows at a time from the top.
  auto paged = mb->contents_table(inbox());
  paged->sort(s);
  paged->restrict(r);
  paged->set_columns({tags::PidTagMid, tags::PidTagInstanceKey, tags::PidTagRowType});
  EXPECT_EQ(paged->row_count(), want.size());
  std::vector<uint64_t> got;
  for (;;) {
    auto rows = paged->query_rows(4);
    if (rows.empty()) break;
    for (const auto& row : rows) {
      got.push_back(id_of(row, 0));
      EXPECT_EQ(row[2].get<int32_t>(), rowtype::Leaf);
      EXPECT_EQ(row[1].get<Bytes>().size(), 8u);
    }
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(paged->query_position(), (std::pair<uint32_t, uint32_t>{uint32_t(want.size()), uint32_t(want.size())}));
  // Going back after paged reads continues from the same place.
  paged->seek_row(BookmarkOrigin::Beginning, 8);
  auto back = paged->query_rows(2, false);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(id_of(back[0], 0), want[6]);
  EXPECT_EQ(id_of(back[1], 0), want[7]);
}

}  // namespace openmapi::table_suite
