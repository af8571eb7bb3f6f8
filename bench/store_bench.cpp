// store_bench: the SQLite mailbox engine against raw SQLite as the limit.
//
//   1. ingest N synthetic messages with realistic property sets (two recipients, 30% with an
//      attachment of 5-50 KB), one save_message (= one transaction) each;
//   2. a contents table sorted by PidTagMessageDeliveryTime descending: first 50 rows;
//   3. a subject-substring restriction (RES_CONTENT, FL_SUBSTRING | FL_IGNORECASE) matching 1%
//      of the messages: the full result and its row count.
// The same rows go into one flat table of a plain SQLite database (one transaction per row, the
// same journal mode and synchronous setting), where the same sort + LIMIT and LIKE queries run
// on a matching index: what SQLite alone costs for the same data, the limit we compare with.
// Results go to docs/PERFORMANCE.md.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/restriction.h"
#include "core/sortorder.h"
#include "store/store.h"

using namespace openmapi;
using namespace openmapi::store;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  size_t messages = 100000;
  std::string dir = "/tmp/openmapi-bench";
  int runs = 9;          // repetitions of each query; the median is reported
  size_t batch = 1000;   // rows per transaction of the extra batched raw-SQLite ingest
  bool keep = false;     // keep the databases
};

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// ---- synthetic messages ----------------------------------------------------------

constexpr const char* kWords[] = {
    "project", "meeting", "quarterly", "report",  "budget",  "review",   "draft",   "update",  "invoice",
    "schedule", "team",   "customer",  "release", "planning", "minutes", "proposal", "contract", "status",
    "weekly",  "agenda",  "feedback",  "server",  "migration", "travel", "offsite",  "hiring",  "roadmap",
    "deadline", "launch", "design",    "security", "audit",   "training", "lunch",   "question", "follow-up"};
constexpr const char* kFirst[] = {"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
                                  "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter"};
constexpr const char* kLast[] = {"Smith", "Jones", "Garcia", "Miller", "Davis", "Martin", "Bernard", "Dubois",
                                 "Müller", "Schmidt", "Rossi", "Tanaka", "Kowalski", "Novak", "Larsen"};
// 1% of subjects carry this word, in varying case: the restriction looks for it.
constexpr const char* kNeedle = "zebra";

struct Person {
  std::string name, email;
};
struct Recipient {
  int32_t type;
  Person who;
  Bytes search_key;
};

// One synthetic message in plain fields, fed to both the store and the flat table.
struct Synth {
  std::string subject, prefix, normalized, body, message_id, display_to, display_cc;
  Person sender, represented;
  int64_t delivery = 0, submit = 0;
  int32_t importance = 1, flags = 0;
  Recipient rcpt[2];
  bool has_attachment = false;
  std::string att_name, att_ext, att_mime;
  Bytes att_data;
};

Person person(std::mt19937_64& rng) {
  std::string first = kFirst[rng() % std::size(kFirst)], last = kLast[rng() % std::size(kLast)];
  std::string local = first + "." + last;
  for (auto& c : local) c = char(std::tolower(uint8_t(c)));
  return {first + " " + last, local + "@example.com"};
}

std::string words(std::mt19937_64& rng, size_t count) {
  std::string s;
  for (size_t i = 0; i < count; ++i) {
    if (i) s += ' ';
    s += kWords[rng() % std::size(kWords)];
  }
  return s;
}

Synth synth(uint64_t i) {
  std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ull + 1);
  Synth s;
  s.normalized = words(rng, 3 + rng() % 6);
  s.normalized[0] = char(std::toupper(uint8_t(s.normalized[0])));
  if (i % 100 == 37) {  // exactly 1% (for N a multiple of 100) match the restriction
    static const char* forms[] = {"zebra", "Zebra", "ZEBRA", "zebras"};
    s.normalized += std::string(" ") + forms[(i / 100) % std::size(forms)] + " crossing";
  }
  switch (rng() % 10) {
    case 0: case 1: case 2: s.prefix = "RE: "; break;
    case 3: s.prefix = "FW: "; break;
    default: break;
  }
  s.subject = s.prefix + s.normalized;
  s.sender = person(rng);
  s.represented = s.sender;
  // Delivery times over three years, not in ingest order.
  s.delivery = 133'100'000'000'000'000 + int64_t(rng() % (3ull * 365 * 86400)) * 10'000'000;
  s.submit = s.delivery - int64_t(1 + rng() % 120) * 10'000'000;
  s.importance = int32_t(rng() % 10 == 0 ? 2 : 1);
  s.flags = (rng() % 5 ? msgflag::Read : 0);
  size_t body_size = 1024 + rng() % (3 * 1024);
  s.body = "Hello,\r\n\r\n";
  while (s.body.size() < body_size) s.body += words(rng, 8 + rng() % 8) + ".\r\n";
  s.body.resize(body_size);
  s.message_id = "<" + std::to_string(i) + "." + std::to_string(rng() % 1000000) + "@mail.example.com>";
  for (int k = 0; k < 2; ++k) {
    Recipient& r = s.rcpt[k];
    r.type = k == 0 ? recipient_type::To : recipient_type::Cc;
    r.who = person(rng);
    std::string key = "SMTP:" + r.who.email;
    for (auto& c : key) c = char(std::toupper(uint8_t(c)));
    r.search_key.assign(key.begin(), key.end());
    r.search_key.push_back(0);
  }
  s.display_to = s.rcpt[0].who.name;
  s.display_cc = s.rcpt[1].who.name;
  if (rng() % 10 < 3) {
    static const char* kinds[][2] = {{"pdf", "application/pdf"}, {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
                                     {"png", "image/png"}, {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}};
    const auto* k = kinds[rng() % std::size(kinds)];
    s.has_attachment = true;
    s.att_ext = std::string(".") + k[0];
    s.att_name = words(rng, 2) + s.att_ext;
    s.att_mime = k[1];
    s.att_data.resize(5 * 1024 + rng() % (45 * 1024));
    for (size_t j = 0; j < s.att_data.size(); j += 8) {
      uint64_t r = rng();
      std::memcpy(s.att_data.data() + j, &r, std::min<size_t>(8, s.att_data.size() - j));
    }
  }
  return s;
}

Message to_message(const Synth& s) {
  Message m;
  auto& p = m.props;
  p.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  p.set(PropValue::string(tags::PidTagSubject, s.subject));
  if (!s.prefix.empty()) p.set(PropValue::string(tags::PidTagSubjectPrefix, s.prefix));
  p.set(PropValue::string(tags::PidTagNormalizedSubject, s.normalized));
  p.set(PropValue::string(tags::PidTagConversationTopic, s.normalized));
  p.set(PropValue::string(tags::PidTagSenderName, s.sender.name));
  p.set(PropValue::string(tags::PidTagSenderEmailAddress, s.sender.email));
  p.set(PropValue::string(tags::PidTagSenderAddressType, "SMTP"));
  p.set(PropValue::string(tags::PidTagSentRepresentingName, s.represented.name));
  p.set(PropValue::string(tags::PidTagSentRepresentingEmailAddress, s.represented.email));
  p.set(PropValue::time(tags::PidTagMessageDeliveryTime, s.delivery));
  p.set(PropValue::time(tags::PidTagClientSubmitTime, s.submit));
  p.set(PropValue::i32(tags::PidTagImportance, s.importance));
  p.set(PropValue::i32(tags::PidTagPriority, 0));
  p.set(PropValue::i32(tags::PidTagSensitivity, 0));
  p.set(PropValue::i32(tags::PidTagMessageFlags, s.flags));
  p.set(PropValue::i32(tags::PidTagInternetCodepage, 65001));
  p.set(PropValue::i32(tags::PidTagMessageLocaleId, 1033));
  p.set(PropValue::string(tags::PidTagBody, s.body));
  p.set(PropValue::string(tags::PidTagInternetMessageId, s.message_id));
  p.set(PropValue::string(tags::PidTagDisplayTo, s.display_to));
  p.set(PropValue::string(tags::PidTagDisplayCc, s.display_cc));
  for (const Recipient& r : s.rcpt)
    m.recipients.push_back(PropertyBag{PropValue::i32(tags::PidTagRecipientType, r.type),
                                       PropValue::string(tags::PidTagDisplayName, r.who.name),
                                       PropValue::string(tags::PidTagEmailAddress, r.who.email),
                                       PropValue::string(tags::PidTagAddressType, "SMTP"),
                                       PropValue::string(tags::PidTagSmtpAddress, r.who.email),
                                       PropValue::binary(tags::PidTagSearchKey, r.search_key)});
  if (s.has_attachment) {
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachLongFilename, s.att_name));
    a.props.set(PropValue::string(tags::PidTagAttachFilename, s.att_name.substr(0, 8) + s.att_ext));
    a.props.set(PropValue::string(tags::PidTagAttachExtension, s.att_ext));
    a.props.set(PropValue::string(tags::PidTagAttachMimeTag, s.att_mime));
    a.props.set(PropValue::i32(tags::PidTagRenderingPosition, -1));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, s.att_data));
    m.attachments.push_back(std::move(a));
  }
  return m;
}

// The recipients of the flat table: their six properties per recipient, in one blob.
Bytes recipients_blob(const Synth& s) {
  Bytes b;
  auto put = [&](std::string_view v) {
    b.insert(b.end(), v.begin(), v.end());
    b.push_back(0);
  };
  for (const Recipient& r : s.rcpt) {
    b.push_back(uint8_t(r.type));
    put(r.who.name);
    put(r.who.email);
    put("SMTP");
    put(r.who.email);
    b.insert(b.end(), r.search_key.begin(), r.search_key.end());
  }
  return b;
}

uint64_t file_bytes(const std::string& path) {
  uint64_t n = 0;
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    auto k = fs::file_size(path + suffix, ec);
    if (!ec && std::string(suffix) != "-shm") n += k;
  }
  return n;
}

// ---- raw SQLite --------------------------------------------------------------------

struct Sqlite {
  sqlite3* db = nullptr;
  explicit Sqlite(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + path);
  }
  ~Sqlite() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("SQL failed: " + m);
    }
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("prepare failed: ") + sqlite3_errmsg(db));
    return s;
  }
  void step_done(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) throw std::runtime_error(std::string("step failed: ") + sqlite3_errmsg(db));
    sqlite3_reset(s);
  }
};

constexpr const char* kFlatSchema = R"sql(
CREATE TABLE messages(
  id INTEGER PRIMARY KEY, folder_id INTEGER NOT NULL, message_class TEXT, subject TEXT, subject_prefix TEXT,
  normalized_subject TEXT, conversation_topic TEXT, sender_name TEXT, sender_email TEXT, sender_addrtype TEXT,
  sent_repr_name TEXT, sent_repr_email TEXT, delivery_time INTEGER, submit_time INTEGER, importance INTEGER,
  priority INTEGER, sensitivity INTEGER, flags INTEGER, codepage INTEGER, locale INTEGER, size INTEGER,
  body TEXT, internet_message_id TEXT, display_to TEXT, display_cc TEXT, recipients BLOB,
  attach_name TEXT, attach_short_name TEXT, attach_ext TEXT, attach_mime TEXT, attach_data BLOB);
CREATE INDEX messages_by_delivery ON messages(folder_id, delivery_time);
)sql";

void bind_text(sqlite3_stmt* s, int i, const std::string& v) { sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_STATIC); }

void insert_flat(sqlite3_stmt* ins, const Synth& s, int64_t id) {
  int64_t size = int64_t(s.subject.size() + s.body.size() + s.att_data.size() + 400);
  Bytes rb = recipients_blob(s);
  int c = 1;
  sqlite3_bind_int64(ins, c++, id);
  sqlite3_bind_int64(ins, c++, 5);
  bind_text(ins, c++, "IPM.Note");
  bind_text(ins, c++, s.subject);
  bind_text(ins, c++, s.prefix);
  bind_text(ins, c++, s.normalized);
  bind_text(ins, c++, s.normalized);
  bind_text(ins, c++, s.sender.name);
  bind_text(ins, c++, s.sender.email);
  bind_text(ins, c++, "SMTP");
  bind_text(ins, c++, s.represented.name);
  bind_text(ins, c++, s.represented.email);
  sqlite3_bind_int64(ins, c++, s.delivery);
  sqlite3_bind_int64(ins, c++, s.submit);
  sqlite3_bind_int64(ins, c++, s.importance);
  sqlite3_bind_int64(ins, c++, 0);
  sqlite3_bind_int64(ins, c++, 0);
  sqlite3_bind_int64(ins, c++, s.flags);
  sqlite3_bind_int64(ins, c++, 65001);
  sqlite3_bind_int64(ins, c++, 1033);
  sqlite3_bind_int64(ins, c++, size);
  bind_text(ins, c++, s.body);
  bind_text(ins, c++, s.message_id);
  bind_text(ins, c++, s.display_to);
  bind_text(ins, c++, s.display_cc);
  sqlite3_bind_blob(ins, c++, rb.data(), int(rb.size()), SQLITE_TRANSIENT);
  if (s.has_attachment) {
    bind_text(ins, c++, s.att_name);
    std::string short_name = s.att_name.substr(0, 8) + s.att_ext;
    sqlite3_bind_text(ins, c++, short_name.data(), int(short_name.size()), SQLITE_TRANSIENT);
    bind_text(ins, c++, s.att_ext);
    bind_text(ins, c++, s.att_mime);
    sqlite3_bind_blob(ins, c++, s.att_data.data(), int(s.att_data.size()), SQLITE_STATIC);
  } else {
    for (int k = 0; k < 5; ++k) sqlite3_bind_null(ins, c++);
  }
}

struct IngestResult {
  double seconds = 0;       // wall time of the inserts and commits (message generation excluded)
  double cpu_seconds = 0;   // this thread's CPU time (user + system) in the same calls
  uint64_t bytes_written = 0;  // write(2)/pwrite(2) bytes of the whole phase (WAL and checkpoints)
  uint64_t bytes_on_disk = 0;
};

// This thread's CPU time in seconds (user and system).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// Bytes this process has passed to write calls so far (/proc/self/io "wchar"; 0 if unreadable).
uint64_t bytes_written_so_far() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

// The flat table, filled one message at a time (`per_tx` messages per transaction).
class RawIngest {
 public:
  RawIngest(const std::string& path, size_t per_tx, size_t total) : db_(std::make_unique<Sqlite>(path)), per_tx_(per_tx), total_(total) {
    db_->exec("PRAGMA journal_mode = WAL");
    db_->exec("PRAGMA synchronous = FULL");
    db_->exec(kFlatSchema);
    ins_ = db_->prepare("INSERT INTO messages VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    begin_ = db_->prepare("BEGIN IMMEDIATE");
    commit_ = db_->prepare("COMMIT");
  }
  void add(size_t i) {
    Synth s = synth(i);
    auto t0 = Clock::now();
    const double c0 = thread_cpu_seconds();
    if (i % per_tx_ == 0) db_->step_done(begin_);
    insert_flat(ins_, s, int64_t(i + 1));
    db_->step_done(ins_);
    sqlite3_clear_bindings(ins_);
    if (i % per_tx_ == per_tx_ - 1 || i + 1 == total_) db_->step_done(commit_);
    r.cpu_seconds += thread_cpu_seconds() - c0;
    r.seconds += ms_since(t0) / 1000;
  }
  // Closes the database: closing checkpoints the WAL, as the store's close does.
  void finish() {
    sqlite3_finalize(ins_);
    sqlite3_finalize(begin_);
    sqlite3_finalize(commit_);
    db_.reset();
  }
  IngestResult r;

 private:
  std::unique_ptr<Sqlite> db_;
  size_t per_tx_, total_;
  sqlite3_stmt* ins_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

IngestResult raw_ingest(const std::string& path, const Options& o, size_t per_tx) {
  const uint64_t written0 = bytes_written_so_far();
  RawIngest raw(path, per_tx, o.messages);
  for (size_t i = 0; i < o.messages; ++i) raw.add(i);
  raw.finish();
  raw.r.bytes_written = bytes_written_so_far() - written0;
  return raw.r;
}

struct QueryResult {
  std::vector<double> ms;
  size_t rows = 0;
};

std::string query_plan(const std::string& path, const std::string& sql) {
  Sqlite db(path);
  sqlite3_stmt* s = db.prepare("EXPLAIN QUERY PLAN " + sql);
  std::string plan;
  while (sqlite3_step(s) == SQLITE_ROW) plan += std::string(plan.empty() ? "" : "; ") + (const char*)sqlite3_column_text(s, 3);
  sqlite3_finalize(s);
  return plan;
}

QueryResult raw_query(const std::string& path, const std::string& sql, int runs) {
  Sqlite db(path);
  QueryResult q;
  for (int run = 0; run < runs; ++run) {
    auto t0 = Clock::now();
    sqlite3_stmt* s = db.prepare(sql);
    size_t rows = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
      // Touch the columns, as a table would copy them out.
      for (int c = 0; c < sqlite3_column_count(s); ++c) (void)sqlite3_column_text(s, c);
      ++rows;
    }
    sqlite3_finalize(s);
    q.ms.push_back(ms_since(t0));
    q.rows = rows;
  }
  return q;
}

// ---- the store -------------------------------------------------------------------

// The store, one save_message (one transaction) per message.
class StoreIngest {
 public:
  explicit StoreIngest(const std::string& path)
      : mb_(create_sqlite_mailbox(path, {"Bench", "bench@example.com", 0})), inbox_(mb_->special_folder(SpecialFolder::Inbox)) {}
  void add(size_t i) {
    Message m = to_message(synth(i));
    auto t0 = Clock::now();
    const double c0 = thread_cpu_seconds();
    mb_->save_message(inbox_, m);
    r.cpu_seconds += thread_cpu_seconds() - c0;
    r.seconds += ms_since(t0) / 1000;
  }
  void finish() { mb_.reset(); }  // closing checkpoints the WAL: those writes belong to the ingest
  IngestResult r;

 private:
  std::unique_ptr<Mailbox> mb_;
  FolderId inbox_;
};

// Both sides one transaction per message, taking turns in blocks of kIngestBlock messages, so
// that a machine that speeds up or slows down during the run (a shared VM does) weighs on both
// alike. Each side's bytes are counted around its own blocks.
constexpr size_t kIngestBlock = 500;

void ingest_interleaved(const std::string& store_path, const std::string& raw_path, const Options& o, IngestResult& store,
                        IngestResult& raw) {
  StoreIngest s(store_path);
  RawIngest f(raw_path, 1, o.messages);
  const size_t step = std::max<size_t>(kIngestBlock, o.messages / 10 / kIngestBlock * kIngestBlock);
  double store_at = 0, raw_at = 0;
  for (size_t begin = 0; begin < o.messages; begin += kIngestBlock) {
    const size_t end = std::min(o.messages, begin + kIngestBlock);
    uint64_t w0 = bytes_written_so_far();
    for (size_t i = begin; i < end; ++i) s.add(i);
    uint64_t w1 = bytes_written_so_far();
    for (size_t i = begin; i < end; ++i) f.add(i);
    uint64_t w2 = bytes_written_so_far();
    s.r.bytes_written += w1 - w0;
    f.r.bytes_written += w2 - w1;
    if (end % step == 0 || end == o.messages) {
      const double n = double(std::min(step, end));
      std::fprintf(stderr, "  ingest: %zu messages; last %zu: store %.0f msg/s, raw SQLite %.0f msg/s\n", end, size_t(n),
                   n / (s.r.seconds - store_at), n / (f.r.seconds - raw_at));
      store_at = s.r.seconds;
      raw_at = f.r.seconds;
    }
  }
  uint64_t w0 = bytes_written_so_far();
  s.finish();
  uint64_t w1 = bytes_written_so_far();
  f.finish();
  s.r.bytes_written += w1 - w0;
  f.r.bytes_written += bytes_written_so_far() - w1;
  store = s.r;
  raw = f.r;
}

const std::vector<PropTag> kColumns = {tags::PidTagSubject, tags::PidTagSenderName, tags::PidTagMessageDeliveryTime,
                                       tags::PidTagMessageSize};
const SortOrderSet kByDeliveryDesc{{{tags::PidTagMessageDeliveryTime, SortDirection::Descending}}, 0, 0};

QueryResult store_first50(Mailbox& mb, FolderId inbox, int runs) {
  QueryResult q;
  for (int run = 0; run < runs; ++run) {
    auto t0 = Clock::now();
    auto table = mb.contents_table(inbox);
    table->set_columns(kColumns);
    table->sort(kByDeliveryDesc);
    auto rows = table->query_rows(50);
    q.ms.push_back(ms_since(t0));
    q.rows = rows.size();
    for (size_t k = 1; k < rows.size(); ++k)
      if (rows[k - 1][2].get<int64_t>() < rows[k][2].get<int64_t>()) throw std::runtime_error("rows out of order");
  }
  return q;
}

QueryResult store_substring(Mailbox& mb, FolderId inbox, int runs, uint32_t* row_count) {
  QueryResult q;
  Restriction r = Restriction::Content{fuzzy::Substring | fuzzy::IgnoreCase, tags::PidTagSubject,
                                       PropValue::string(tags::PidTagSubject, kNeedle)};
  for (int run = 0; run < runs; ++run) {
    auto t0 = Clock::now();
    auto table = mb.contents_table(inbox);
    table->set_columns(kColumns);
    table->sort(kByDeliveryDesc);
    table->restrict(r);
    uint32_t n = table->row_count();
    auto rows = table->query_rows(n);
    q.ms.push_back(ms_since(t0));
    q.rows = rows.size();
    *row_count = n;
  }
  return q;
}

// ---- report ----------------------------------------------------------------------

void row(const char* what, const std::string& ours, const std::string& limit, const std::string& ratio) {
  std::printf("| %-48s | %18s | %18s | %9s |\n", what, ours.c_str(), limit.c_str(), ratio.c_str());
}
// How many times the limit's cost ours is.
std::string ratio(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2fx" : "%.0fx", v);
  return buf;
}
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void usage() {
  std::printf(
      "usage: store_bench [--messages N] [--dir DIR] [--runs R] [--batch B] [--keep]\n"
      "  --messages N  synthetic messages to ingest (default 100000)\n"
      "  --dir DIR     where the databases go (default /tmp/openmapi-bench; emptied first)\n"
      "  --runs R      repetitions of each query, median reported (default 9)\n"
      "  --batch B     rows per transaction of the extra batched raw ingest (default 1000)\n"
      "  --keep        keep the databases afterwards\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--messages") o.messages = std::stoul(value());
    else if (a == "--dir") o.dir = value();
    else if (a == "--runs") o.runs = std::stoi(value());
    else if (a == "--batch") o.batch = std::stoul(value());
    else if (a == "--keep") o.keep = true;
    else {
      usage();
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (o.messages == 0 || o.runs <= 0 || o.batch == 0) {
    usage();
    return 2;
  }
  try {
    fs::remove_all(o.dir);
    fs::create_directories(o.dir);
    const std::string store_path = o.dir + "/mailbox.db", raw_path = o.dir + "/flat.db", batched_path = o.dir + "/flat-batched.db";
    std::printf("store_bench: %zu messages, %d query runs, SQLite %s, databases in %s\n", o.messages, o.runs,
                sqlite3_libversion(), o.dir.c_str());

    // Generation alone, to say how much of a wall-clock ingest it would be (not in the figures).
    auto g0 = Clock::now();
    uint64_t payload = 0;
    size_t with_attachment = 0;
    for (size_t i = 0; i < std::min<size_t>(o.messages, 10000); ++i) {
      Synth s = synth(i);
      payload += s.subject.size() + s.body.size() + s.att_data.size();
      with_attachment += s.has_attachment;
    }
    double gen_us = ms_since(g0) * 1000 / double(std::min<size_t>(o.messages, 10000));
    std::printf("synthetic messages: %.1f%% with an attachment, %.1f KB payload on average, %.0f us to generate each\n",
                100.0 * double(with_attachment) / double(std::min<size_t>(o.messages, 10000)),
                double(payload) / 1024 / double(std::min<size_t>(o.messages, 10000)), gen_us);

    std::fprintf(stderr, "ingesting into the store and the flat table, one transaction per message, in turns of %zu...\n", kIngestBlock);
    IngestResult store, raw;
    ingest_interleaved(store_path, raw_path, o, store, raw);
    store.bytes_on_disk = file_bytes(store_path);  // closed: the WAL is checkpointed and removed
    raw.bytes_on_disk = file_bytes(raw_path);
    std::fprintf(stderr, "ingesting into the flat table, %zu rows per transaction...\n", o.batch);
    IngestResult batched = raw_ingest(batched_path, o, o.batch);

    std::fprintf(stderr, "queries...\n");
    auto mb = open_sqlite_mailbox(store_path);
    FolderId inbox = mb->special_folder(SpecialFolder::Inbox);
    uint32_t count = mb->folder_properties(inbox).get_i32(tags::PidTagContentCount).value_or(-1);
    QueryResult s50 = store_first50(*mb, inbox, o.runs);
    uint32_t matches = 0;
    QueryResult ssub = store_substring(*mb, inbox, o.runs, &matches);
    const std::string first50_sql =
        "SELECT id, subject, sender_name, delivery_time, size FROM messages WHERE folder_id = 5 "
        "ORDER BY delivery_time DESC LIMIT 50";
    const std::string like_sql = std::string("SELECT id, subject, sender_name, delivery_time, size FROM messages WHERE "
                                             "folder_id = 5 AND subject LIKE '%") + kNeedle + "%' ORDER BY delivery_time DESC";
    QueryResult r50 = raw_query(raw_path, first50_sql, o.runs);
    QueryResult rsub = raw_query(raw_path, like_sql, o.runs);
    std::string plan50 = query_plan(raw_path, first50_sql), plan_like = query_plan(raw_path, like_sql);
    // A tighter limit: an index that covers both queries (the table scan of the LIKE query
    // otherwise walks pages full of bodies and attachments).
    {
      Sqlite db(raw_path);
      db.exec("CREATE INDEX messages_view ON messages(folder_id, delivery_time, subject, sender_name, size)");
    }
    QueryResult c50 = raw_query(raw_path, first50_sql, o.runs);
    QueryResult csub = raw_query(raw_path, like_sql, o.runs);
    std::string cplan50 = query_plan(raw_path, first50_sql), cplan_like = query_plan(raw_path, like_sql);
    auto integrity = mb->check_integrity();
    mb.reset();

    double store_rate = double(o.messages) / store.seconds, raw_rate = double(o.messages) / raw.seconds;
    std::printf("\nmailbox: %u messages in the Inbox; substring restriction: row_count %u (flat table: %zu rows); "
                "integrity %s\n\n",
                count, matches, rsub.rows, integrity.empty() ? "ok" : integrity.front().c_str());
    std::printf("| %-48s | %18s | %18s | %9s |\n", "", "OpenMAPI store", "raw SQLite (limit)", "ratio");
    std::printf("|%s|%s|%s|%s|\n", std::string(50, '-').c_str(), std::string(20, '-').c_str(),
                std::string(20, '-').c_str(), std::string(11, '-').c_str());
    row("ingest, 1 transaction per message (msg/s)", fmt("%.0f", store_rate), fmt("%.0f", raw_rate),
        ratio(raw_rate / store_rate));
    row("ingest time (s)", fmt("%.1f", store.seconds), fmt("%.1f", raw.seconds), ratio(store.seconds / raw.seconds));
    const double n = double(o.messages);
    row("  CPU per message (us)", fmt("%.0f", store.cpu_seconds * 1e6 / n), fmt("%.0f", raw.cpu_seconds * 1e6 / n),
        ratio(store.cpu_seconds / raw.cpu_seconds));
    row("  bytes written per message (KiB)", fmt("%.1f", double(store.bytes_written) / 1024 / n),
        fmt("%.1f", double(raw.bytes_written) / 1024 / n), ratio(double(store.bytes_written) / double(raw.bytes_written)));
    row(("raw ingest, " + std::to_string(o.batch) + " rows per transaction (msg/s)").c_str(), "-",
        fmt("%.0f", double(o.messages) / batched.seconds), "-");
    row("database size on disk (MiB)", fmt("%.1f", double(store.bytes_on_disk) / 1048576),
        fmt("%.1f", double(raw.bytes_on_disk) / 1048576), ratio(double(store.bytes_on_disk) / double(raw.bytes_on_disk)));
    row("sorted by delivery desc, first 50 rows (ms)", fmt("%.2f", median(s50.ms)), fmt("%.3f", median(r50.ms)),
        ratio(median(s50.ms) / median(r50.ms)));
    row("  same, first run (ms)", fmt("%.2f", s50.ms.front()), fmt("%.3f", r50.ms.front()),
        ratio(s50.ms.front() / r50.ms.front()));
    row("subject substring, full result (ms)", fmt("%.2f", median(ssub.ms)), fmt("%.3f", median(rsub.ms)),
        ratio(median(ssub.ms) / median(rsub.ms)));
    row("  rows", std::to_string(ssub.rows), std::to_string(rsub.rows), "");
    row("with a covering index: first 50 rows (ms)", fmt("%.2f", median(s50.ms)), fmt("%.3f", median(c50.ms)),
        ratio(median(s50.ms) / median(c50.ms)));
    row("with a covering index: substring (ms)", fmt("%.2f", median(ssub.ms)), fmt("%.3f", median(csub.ms)),
        ratio(median(ssub.ms) / median(csub.ms)));
    std::printf("\nQuery times are medians of %d runs (min..max: store first-50 %.2f..%.2f ms, substring %.2f..%.2f ms).\n",
                o.runs, *std::min_element(s50.ms.begin(), s50.ms.end()), *std::max_element(s50.ms.begin(), s50.ms.end()),
                *std::min_element(ssub.ms.begin(), ssub.ms.end()), *std::max_element(ssub.ms.begin(), ssub.ms.end()));
    std::printf("Flat table plans: first 50: %s | substring: %s\n", plan50.c_str(), plan_like.c_str());
    std::printf("With the covering index: first 50: %s | substring: %s\n", cplan50.c_str(), cplan_like.c_str());
    std::printf("Both databases: journal_mode=WAL, synchronous=FULL (the store sets these on create/open).\n");
    if (!o.keep) fs::remove_all(o.dir);
    if (!integrity.empty() || s50.rows != std::min<size_t>(50, o.messages) || ssub.rows != rsub.rows) {
      std::fprintf(stderr, "store_bench: results disagree\n");
      return 1;
    }
  } catch (const MapiError& e) {
    std::fprintf(stderr, "store_bench: %s\n", e.describe().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
