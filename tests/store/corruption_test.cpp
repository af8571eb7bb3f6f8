// Opening files that are not (or no longer) OpenMAPI mailboxes: random bytes, other
// applications' SQLite databases, truncated or partly overwritten mailboxes, and a mailbox of a
// newer schema. Each gives a MapiError with the documented code (store.h: MAPI_E_NOT_FOUND,
// MAPI_E_CORRUPT_STORE, MAPI_E_VERSION), never a crash, and leaves the file as it was.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/entryid.h"
#include "core/error.h"
#include "store/store.h"

#include "test_util.h"

using namespace openmapi;
using namespace openmapi::store;
namespace fs = std::filesystem;

namespace {

using openmapi::testing::read_file;

void write_file(const fs::path& p, const Bytes& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

Bytes random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& c : b) c = uint8_t(rng());
  return b;
}

// Runs SQL on a database with the plain SQLite C API (as another application would).
void sql(const fs::path& p, const std::string& statements) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// What opening `p` did: Success or the MapiError's code; other exceptions fail the test.
ErrorCode open_code(const fs::path& p, std::string* message = nullptr) {
  try {
    auto mb = open_sqlite_mailbox(p.string());
    return ErrorCode::Success;
  } catch (const MapiError& e) {
    if (message) *message = e.what();
    return e.code();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "open threw a non-MAPI exception: " << e.what();
    return ErrorCode::MAPI_E_CALL_FAILED;
  }
}

// Opening `p` fails with `want`, and the file's bytes are what they were.
void expect_open_fails(const fs::path& p, ErrorCode want, const std::string& what) {
  SCOPED_TRACE(what);
  Bytes before = read_file(p);
  std::string message;
  ErrorCode got = open_code(p, &message);
  EXPECT_EQ(error_name(got), error_name(want)) << message;
  EXPECT_TRUE(read_file(p) == before) << "opening changed the file";
  // No journal left behind either (SQLite removes its -wal when the last connection closes).
  EXPECT_FALSE(fs::exists(p.string() + "-wal"));
  EXPECT_FALSE(fs::exists(p.string() + "-journal"));
}

Message sample_message(int i) {
  std::mt19937_64 rng{uint64_t(i)};
  Message m;
  std::string subject = "Corruption sample " + std::to_string(i);
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  m.props.set(PropValue::string(tags::PidTagSubject, subject));
  m.props.set(PropValue::string(tags::PidTagSenderName, "Sender " + std::to_string(i % 7)));
  m.props.set(PropValue::time(tags::PidTagMessageDeliveryTime, 133'000'000'000'000'000 + int64_t(i) * 10'000'000));
  std::string body(1000 + rng() % 6000, 'x');
  for (auto& c : body) c = char('a' + rng() % 26);
  m.props.set(PropValue::string(tags::PidTagBody, body));
  m.recipients.push_back(PropertyBag{PropValue::i32(tags::PidTagRecipientType, recipient_type::To),
                                     PropValue::string(tags::PidTagDisplayName, "Recipient"),
                                     PropValue::string(tags::PidTagEmailAddress, "r@example.org")});
  if (i % 4 == 0) {  // some large values: chunked storage
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "data.bin"));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, random_bytes(40000 + rng() % 60000, uint64_t(i))));
    m.attachments.push_back(std::move(a));
  }
  return m;
}

class Corruption : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("openmapi-corruption-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    pristine_ = dir_ / "pristine.db";
    auto mb = create_sqlite_mailbox(pristine_.string(), {"Corruption", "c@example.org", 0});
    FolderId inbox = mb->special_folder(SpecialFolder::Inbox);
    for (int i = 0; i < 120; ++i) mb->save_message(inbox, sample_message(i));
  }  // closing the last connection checkpoints the WAL: the file alone is the whole mailbox
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // A fresh copy of the pristine mailbox.
  fs::path copy(const std::string& name) {
    fs::path p = dir_ / name;
    fs::remove(p);
    fs::copy_file(pristine_, p);
    return p;
  }
  fs::path file(const std::string& name, const Bytes& data) {
    fs::path p = dir_ / name;
    write_file(p, data);
    return p;
  }

  static fs::path dir_, pristine_;
};
fs::path Corruption::dir_, Corruption::pristine_;

// Everything a reader does with a mailbox it could open. What fails must fail with a MapiError
// (anything else propagates and fails the test); returns how often each code came, by name.
// MAPI_E_NOT_FOUND for a probed id that is no message is not counted.
struct Outcome {
  bool integrity_problems = false;  // check_integrity() reported problems or threw
  std::map<std::string, int> errors;
  int failures() const {
    int n = 0;
    for (const auto& [name, count] : errors) n += count;
    return n;
  }
  std::string to_string() const {
    std::string s = integrity_problems ? "check_integrity: damaged;" : "check_integrity: ok;";
    for (const auto& [name, count] : errors) s += " " + name + " x" + std::to_string(count);
    return s;
  }
};

Outcome exercise(Mailbox& mb) {
  Outcome out;
  auto attempt = [&](const std::function<void()>& f, bool probe = false) {
    try {
      f();
    } catch (const MapiError& e) {
      if (!probe || e.code() != ErrorCode::MAPI_E_NOT_FOUND) ++out.errors[error_name(e.code())];
    }
  };
  try {
    out.integrity_problems = !mb.check_integrity().empty();
  } catch (const MapiError& e) {
    out.integrity_problems = true;
    ++out.errors[error_name(e.code())];
  }
  attempt([&] { mb.store_properties(); });
  attempt([&] { mb.folder_properties(mb.special_folder(SpecialFolder::Inbox)); });
  attempt([&] {
    auto t = mb.hierarchy_table(mb.special_folder(SpecialFolder::Root), tableflag::Depth);
    t->query_rows(1000);
  });
  std::vector<MessageId> ids;
  attempt([&] {
    auto t = mb.contents_table(mb.special_folder(SpecialFolder::Inbox));
    t->set_columns({tags::PidTagMid, tags::PidTagSubject, tags::PidTagBody, tags::PidTagMessageDeliveryTime});
    t->sort(SortOrderSet{{{tags::PidTagMessageDeliveryTime, SortDirection::Descending}}, 0, 0});
    for (const Row& r : t->query_rows(1000))
      if (const auto* v = r.at(0).get_if<int64_t>()) ids.push_back(ObjectId::from_u64(uint64_t(*v)).gc);
  });
  for (MessageId id : ids) attempt([&] { mb.load_message(id); });
  // Message ids are small global counters: also try ids the table may have missed.
  for (MessageId id = 1; id < 200; ++id) attempt([&] { mb.load_message(id); }, true);
  return out;
}

}  // namespace

TEST_F(Corruption, PristineCopyOpens) {
  fs::path p = copy("pristine-copy.db");
  Bytes before = read_file(p);
  {
    auto mb = open_sqlite_mailbox(p.string());
    EXPECT_TRUE(mb->check_integrity().empty());
    EXPECT_EQ(mb->folder_properties(mb->special_folder(SpecialFolder::Inbox)).get_i32(tags::PidTagContentCount), 120);
    Outcome o = exercise(*mb);
    EXPECT_FALSE(o.integrity_problems);
    EXPECT_EQ(o.failures(), 0) << o.to_string();
  }
  EXPECT_TRUE(read_file(p) == before) << "reading a mailbox changed its file";
}

TEST_F(Corruption, MissingFileIsNotFound) {
  fs::path p = dir_ / "does-not-exist.db";
  EXPECT_EQ(error_name(open_code(p)), "MAPI_E_NOT_FOUND");
  EXPECT_FALSE(fs::exists(p)) << "opening created the file";
  EXPECT_EQ(error_name(open_code(dir_ / "no-such-dir" / "mailbox.db")), "MAPI_E_NOT_FOUND");
}

TEST_F(Corruption, EmptyFile) { expect_open_fails(file("empty.db", {}), ErrorCode::MAPI_E_CORRUPT_STORE, "empty file"); }

TEST_F(Corruption, RandomBytes) {
  for (size_t n : {1, 15, 100, 511, 4096, 65536, 1 << 20})
    expect_open_fails(file("random.db", random_bytes(n, n)), ErrorCode::MAPI_E_CORRUPT_STORE,
                      std::to_string(n) + " random bytes");
}

TEST_F(Corruption, TextFile) {
  std::string mbox = "From alice@example.org Mon Jan  1 00:00:00 2024\nSubject: hello\n\nnot a database\n";
  expect_open_fails(file("mbox.db", Bytes(mbox.begin(), mbox.end())), ErrorCode::MAPI_E_CORRUPT_STORE, "an mbox file");
}

TEST_F(Corruption, SqliteHeaderThenGarbage) {
  Bytes b = random_bytes(64 * 1024, 7);
  const char magic[] = "SQLite format 3";  // with its NUL: 16 bytes
  std::copy(magic, magic + 16, b.begin());
  expect_open_fails(file("fake-header.db", b), ErrorCode::MAPI_E_CORRUPT_STORE, "SQLite magic, then random bytes");
  // A plausible header (4096-byte pages) over random pages.
  b[16] = 0x10, b[17] = 0x00, b[18] = 1, b[19] = 1, b[20] = 0, b[21] = 64, b[22] = 32, b[23] = 32;
  expect_open_fails(file("fake-header2.db", b), ErrorCode::MAPI_E_CORRUPT_STORE, "plausible header, random pages");
}

TEST_F(Corruption, SqliteDatabaseOfAnotherApplication) {
  fs::path p = dir_ / "other-app.db";
  fs::remove(p);
  sql(p, "CREATE TABLE notes(id INTEGER PRIMARY KEY, title TEXT, body TEXT);"
         "INSERT INTO notes(title, body) VALUES('groceries', 'milk, eggs'), ('todo', 'write tests');");
  expect_open_fails(p, ErrorCode::MAPI_E_CORRUPT_STORE, "another application's database");

  fs::path wal = dir_ / "other-app-wal.db";
  fs::remove(wal);
  sql(wal, "PRAGMA journal_mode = WAL; PRAGMA application_id = 1234;"
           "CREATE TABLE messages(id INTEGER PRIMARY KEY, subject TEXT); INSERT INTO messages VALUES(1, 'x');");
  expect_open_fails(wal, ErrorCode::MAPI_E_CORRUPT_STORE, "another application's WAL database with a 'messages' table");

  // Our application id, but none of our tables: still not a mailbox.
  fs::path fake = dir_ / "fake-app-id.db";
  fs::remove(fake);
  sql(fake, "PRAGMA application_id = 1330462032; CREATE TABLE t(x);");
  expect_open_fails(fake, ErrorCode::MAPI_E_CORRUPT_STORE, "OpenMAPI application id, foreign schema");

  // Our schema, but no store records or special folders.
  fs::path empty_schema = dir_ / "empty-schema.db";
  fs::remove(empty_schema);
  sql(empty_schema, "PRAGMA application_id = 1330462032; PRAGMA user_version = 1;"
                    "CREATE TABLE store_info(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
                    "CREATE TABLE folders(id INTEGER PRIMARY KEY, parent_id INTEGER, special INTEGER UNIQUE,"
                    " folder_type INTEGER NOT NULL, display_name TEXT NOT NULL, change_number INTEGER NOT NULL);"
                    "CREATE TABLE named_props(id INTEGER PRIMARY KEY, guid BLOB NOT NULL, kind INTEGER NOT NULL, lid INTEGER, name TEXT);");
  expect_open_fails(empty_schema, ErrorCode::MAPI_E_CORRUPT_STORE, "OpenMAPI schema without content");
}

TEST_F(Corruption, NewerSchemaVersion) {
  fs::path p = copy("newer.db");
  sql(p, "PRAGMA user_version = 99;");
  expect_open_fails(p, ErrorCode::MAPI_E_VERSION, "user_version 99");
}

TEST_F(Corruption, TruncatedMailbox) {
  Bytes full = read_file(pristine_);
  ASSERT_GT(full.size(), 64u * 4096) << "the sample mailbox should span many pages";
  ASSERT_EQ(full.size() % 4096, 0u);
  // Cut inside the header, after the first pages, and on page boundaries further on: SQLite sees
  // that the header's page count exceeds the file.
  for (size_t n : {size_t(10), size_t(50), size_t(99), size_t(100), size_t(4096), size_t(3 * 4096) + 17,
                   full.size() / 4, full.size() / 2, full.size() - 2 * 4096, full.size() - 4096}) {
    Bytes cut(full.begin(), full.begin() + ptrdiff_t(n));
    expect_open_fails(file("truncated.db", cut), ErrorCode::MAPI_E_CORRUPT_STORE,
                      "truncated to " + std::to_string(n) + " of " + std::to_string(full.size()) + " bytes");
  }
}

// A cut of less than one page keeps the header's page count (it rounds up) and SQLite reads the
// missing tail as zeros: check_integrity() would find nothing while the last chunk of a large
// value silently changed. A mailbox file is always whole pages, so open refuses it.
TEST_F(Corruption, TruncatedWithinTheLastPage) {
  fs::path src = dir_ / "last-page.db";
  fs::remove(src);
  {
    auto mb = create_sqlite_mailbox(src.string(), {"Tail", "t@example.org", 0});
    Message m = sample_message(1);
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, random_bytes(200000, 5)));
    m.attachments.push_back(std::move(a));
    mb->save_message(mb->special_folder(SpecialFolder::Inbox), m);
  }
  Bytes full = read_file(src);
  for (size_t lost : {size_t(1), size_t(100), size_t(4095)}) {
    Bytes cut(full.begin(), full.end() - ptrdiff_t(lost));
    expect_open_fails(file("truncated-tail.db", cut), ErrorCode::MAPI_E_CORRUPT_STORE,
                      "last " + std::to_string(lost) + " bytes cut off");
  }
}

// Garbage over a run of pages in the middle of the file. Open reads only the header, the store
// records and the folders, so it may not see the damage (finding it at open would take a full
// scan); then check_integrity() reports it, and reading damaged data fails with
// MAPI_E_CORRUPT_STORE.
TEST_F(Corruption, GarbageInMiddlePages) {
  Bytes full = read_file(pristine_);
  size_t pages = full.size() / 4096;
  for (uint64_t seed : {11, 12, 13}) {
    Bytes b = full;
    size_t first = pages * (seed - 9) / 10, count = pages / 5;  // 20-40%, 30-50%, 40-60% of the file
    Bytes junk = random_bytes(count * 4096, seed);
    std::copy(junk.begin(), junk.end(), b.begin() + ptrdiff_t(first * 4096));
    fs::path p = file("garbage-middle.db", b);
    SCOPED_TRACE("pages " + std::to_string(first) + "-" + std::to_string(first + count) + " of " + std::to_string(pages));
    try {
      auto mb = open_sqlite_mailbox(p.string());
      Outcome o = exercise(*mb);
      EXPECT_TRUE(o.integrity_problems) << o.to_string();
      EXPECT_GT(o.errors["MAPI_E_CORRUPT_STORE"], 0) << o.to_string();
      EXPECT_EQ(o.errors["MAPI_E_CORRUPT_STORE"], o.failures()) << "only MAPI_E_CORRUPT_STORE: " << o.to_string();
    } catch (const MapiError& e) {
      EXPECT_EQ(error_name(e.code()), "MAPI_E_CORRUPT_STORE") << e.what();
    }
    EXPECT_TRUE(read_file(p) == b) << "opening changed the file";
    EXPECT_FALSE(fs::exists(p.string() + "-wal"));
  }
}

// Damage anywhere past the first page (whole pages of garbage, or a few scribbled bytes):
// whatever a reader then does works or fails with MAPI_E_CORRUPT_STORE, never crashes, and the
// file stays as it was. (Scribbles over value bytes can go unseen: SQLite keeps no checksums of
// cell content, and neither does the store.)
TEST_F(Corruption, RandomDamageNeverCrashes) {
  Bytes full = read_file(pristine_);
  size_t pages = full.size() / 4096;
  int refused = 0, detected = 0, unseen = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    std::mt19937_64 rng(seed);
    Bytes b = full;
    int n = 1 + int(rng() % 3);
    for (int k = 0; k < n; ++k) {
      size_t page = 1 + rng() % (pages - 1);
      if (seed % 2) {
        Bytes junk = random_bytes(4096, rng());
        std::copy(junk.begin(), junk.end(), b.begin() + ptrdiff_t(page * 4096));
      } else {
        for (int j = 0; j < 16; ++j) b[page * 4096 + rng() % 4096] = uint8_t(rng());
      }
    }
    fs::path p = file("damaged.db", b);
    SCOPED_TRACE("seed " + std::to_string(seed));
    try {
      auto mb = open_sqlite_mailbox(p.string());
      Outcome o = exercise(*mb);
      (o.integrity_problems || o.failures() ? detected : unseen)++;
      EXPECT_EQ(o.errors["MAPI_E_CORRUPT_STORE"], o.failures()) << "only MAPI_E_CORRUPT_STORE: " << o.to_string();
    } catch (const MapiError& e) {
      ++refused;
      EXPECT_EQ(error_name(e.code()), "MAPI_E_CORRUPT_STORE") << e.what();
    }
    EXPECT_TRUE(read_file(p) == b) << "reading a damaged mailbox changed its file";
    EXPECT_FALSE(fs::exists(p.string() + "-wal"));
  }
  std::printf("damaged mailboxes: %d refused at open, %d opened with the damage seen, %d opened with it unseen\n",
              refused, detected, unseen);
}
