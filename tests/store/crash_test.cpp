// Crash safety of the SQLite mailbox: a writer process is killed with SIGKILL at random
// moments, 20 times; after each kill the mailbox is reopened, passes its integrity check, and
// every message whose save_message returned is there whole. Messages are never half there:
// a message the writer was saving when it died is either absent or complete.
//
// The writer is a fork()ed child that uses only the store API and leaves with _exit(): no
// gtest machinery runs in it. It reports over a pipe, one fixed-size record per event:
// "begin seq" before each save and "committed seq, id, checksum" after save_message returns.
// The parent counts an id as committed only once it has read that whole record.
//
// The seed of the kill delays is logged; rerun a failure with OPENMAPI_CRASH_SEED=<seed>.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/entryid.h"
#include "core/error.h"
#include "store/store.h"

using namespace openmapi;
using namespace openmapi::store;
namespace fs = std::filesystem;

namespace {

constexpr int kRounds = 20;
constexpr int kMinDelayMs = 1;
constexpr int kMaxDelayMs = 300;
// Each round's messages get sequence numbers from round * kSeqStride, so a sequence number
// names one message of the whole run.
constexpr uint64_t kSeqStride = 1'000'000;

// ---- the deterministic message of a sequence number ---------------------------

std::string text_of(std::mt19937_64& rng, size_t n) {
  static const char kWords[][10] = {"mailbox ", "quarterly", " report ", "meeting ", "the ", "budget ",
                                    "draft ", "please ", "review ", "Grüße ", "naïve ", "日本 "};
  std::string s;
  s.reserve(n + 16);
  while (s.size() < n) s += kWords[rng() % std::size(kWords)];
  // Cut on a UTF-8 boundary: the store keeps strings as UTF-8.
  size_t cut = n;
  while (cut > 0 && (uint8_t(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

Bytes bytes_of(std::mt19937_64& rng, size_t n) {
  Bytes b(n);
  for (auto& c : b) c = uint8_t(rng());
  return b;
}

// Sizes: mostly small, some medium, and some over the 32 KiB large-value threshold so that
// they go to chunked storage (and some over the 64 KiB chunk size: several chunks).
size_t pick_size(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0: return 33 * 1024 + rng() % (100 * 1024);  // large, 1-3 chunks
    case 1:
    case 2: return 4 * 1024 + rng() % (28 * 1024);    // medium, stays inline
    default: return 50 + rng() % 4000;                // small
  }
}

PropertyBag make_recipient(std::mt19937_64& rng, uint64_t seq, int i) {
  std::string name = "Recipient " + std::to_string(seq) + "." + std::to_string(i);
  std::string addr = "r" + std::to_string(seq) + "." + std::to_string(i) + "@example.org";
  return PropertyBag{PropValue::i32(tags::PidTagRecipientType, int32_t(1 + rng() % 3)),
                     PropValue::string(tags::PidTagDisplayName, name),
                     PropValue::string(tags::PidTagEmailAddress, addr),
                     PropValue::string(tags::PidTagAddressType, "SMTP"),
                     PropValue::string(tags::PidTagSmtpAddress, addr),
                     PropValue::binary(tags::PidTagSearchKey, bytes_of(rng, 16 + rng() % 48))};
}

Message make_message(uint64_t seq, int depth = 0) {
  std::mt19937_64 rng(seq * 0x9E3779B97F4A7C15ull + uint64_t(depth));
  Message m;
  std::string subject = "Crash test " + std::to_string(seq) + (depth ? " (embedded)" : "") + " " + text_of(rng, rng() % 60);
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  m.props.set(PropValue::string(tags::PidTagSubject, subject));
  m.props.set(PropValue::string(tags::PidTagNormalizedSubject, subject));
  m.props.set(PropValue::string(tags::PidTagInternetMessageId, "<" + std::to_string(seq) + "." + std::to_string(depth) +
                                                                   "@crash.openmapi.test>"));
  m.props.set(PropValue::string(tags::PidTagSenderName, "Sender " + std::to_string(rng() % 100)));
  m.props.set(PropValue::string(tags::PidTagSenderEmailAddress, "sender@example.org"));
  m.props.set(PropValue::time(tags::PidTagMessageDeliveryTime, int64_t(133'000'000'000'000'000 + seq * 10'000'000)));
  m.props.set(PropValue::i32(tags::PidTagImportance, int32_t(rng() % 3)));
  m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read));
  m.props.set(PropValue::string(tags::PidTagBody, text_of(rng, pick_size(rng))));
  if (rng() % 4 == 0) m.props.set(PropValue::binary(tags::PidTagRtfCompressed, bytes_of(rng, pick_size(rng))));
  int nrcpt = int(rng() % 5);
  for (int i = 0; i < nrcpt; ++i) m.recipients.push_back(make_recipient(rng, seq, i));
  int natt = depth ? int(rng() % 2) : int(rng() % 4);
  for (int i = 0; i < natt; ++i) {
    Attachment a;
    std::string name = "file" + std::to_string(i) + ".bin";
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachLongFilename, name));
    a.props.set(PropValue::string(tags::PidTagAttachFilename, name));
    a.props.set(PropValue::string(tags::PidTagAttachMimeTag, "application/octet-stream"));
    a.props.set(PropValue::i32(tags::PidTagRenderingPosition, -1));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, bytes_of(rng, pick_size(rng))));
    m.attachments.push_back(std::move(a));
  }
  // An embedded message now and then (one level deep).
  if (depth == 0 && seq % 5 == 2) {
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
    a.props.set(PropValue::string(tags::PidTagDisplayName, "Forwarded message " + std::to_string(seq)));
    a.embedded = std::make_unique<Message>(make_message(seq, depth + 1));
    m.attachments.push_back(std::move(a));
  }
  return m;
}

// Every third message passes its body as a stream (save_message's other large-value path).
bool streams_body(uint64_t seq) { return seq % 3 == 0; }

// ---- content checksum (FNV-1a over the wire form of every value) --------------

void hash_bytes(uint64_t& h, ByteView b) {
  for (uint8_t c : b) h = (h ^ c) * 0x100000001B3ull;
}
void hash_bag(uint64_t& h, const PropertyBag& bag) {
  for (const auto& v : bag.values()) {
    BinaryWriter w;
    write_tagged_value(w, v);
    hash_bytes(h, w.data());
  }
}
void hash_message(uint64_t& h, const Message& m) {
  hash_bag(h, m.props);
  hash_bytes(h, Bytes{uint8_t(m.recipients.size()), 0xFE});
  for (const auto& r : m.recipients) hash_bag(h, r);
  hash_bytes(h, Bytes{uint8_t(m.attachments.size()), 0xFD});
  for (const auto& a : m.attachments) {
    hash_bag(h, a.props);
    if (a.embedded) hash_message(h, *a.embedded);
  }
}
uint64_t checksum(const Message& m) {
  uint64_t h = 0xCBF29CE484222325ull;
  hash_message(h, m);
  return h;
}

// ---- comparing a loaded message with the one that was saved --------------------
// Only the properties the generator set are compared: the store adds computed ones (PidTagMid,
// entry ids, change keys, times, sizes, PidTagRowid, PidTagAttachNumber). PidTagMessageFlags
// gains mfHasAttach from the store.

std::string describe(const PropValue* v) { return v ? v->tag().hex() + " " + v->to_display() : "(missing)"; }

std::string bag_difference(const PropertyBag& want, const PropertyBag& got, const std::string& where) {
  for (const auto& w : want.values()) {
    const PropValue* g = got.find(w.tag());
    if (w.tag() == tags::PidTagMessageFlags && g && g->get_if<int32_t>()) {
      if ((*g->get_if<int32_t>() & ~msgflag::HasAttach) != w.get<int32_t>())
        return where + ": flags " + describe(&w) + " != " + describe(g);
      continue;
    }
    if (!g || !(*g == w)) {
      std::string wd = w.to_display(), gd = g ? g->to_display() : "(missing)";
      if (wd.size() > 80) wd = wd.substr(0, 80) + "...";
      if (gd.size() > 80) gd = gd.substr(0, 80) + "...";
      return where + ": " + w.tag().hex() + " want " + wd + " got " + gd;
    }
  }
  return "";
}

std::string message_difference(const Message& want, const Message& got, const std::string& where = "message") {
  if (auto d = bag_difference(want.props, got.props, where); !d.empty()) return d;
  if (want.recipients.size() != got.recipients.size())
    return where + ": " + std::to_string(got.recipients.size()) + " recipients, want " + std::to_string(want.recipients.size());
  for (size_t i = 0; i < want.recipients.size(); ++i)
    if (auto d = bag_difference(want.recipients[i], got.recipients[i], where + " recipient " + std::to_string(i)); !d.empty())
      return d;
  if (want.attachments.size() != got.attachments.size())
    return where + ": " + std::to_string(got.attachments.size()) + " attachments, want " + std::to_string(want.attachments.size());
  for (size_t i = 0; i < want.attachments.size(); ++i) {
    std::string at = where + " attachment " + std::to_string(i);
    if (auto d = bag_difference(want.attachments[i].props, got.attachments[i].props, at); !d.empty()) return d;
    if (bool(want.attachments[i].embedded) != bool(got.attachments[i].embedded)) return at + ": embedded message presence differs";
    if (want.attachments[i].embedded)
      if (auto d = message_difference(*want.attachments[i].embedded, *got.attachments[i].embedded, at + " embedded"); !d.empty())
        return d;
  }
  return "";
}

// ---- the writer process --------------------------------------------------------

enum : uint32_t { kBegin = 0x42454749, kCommitted = 0x434F4D4D };
struct Record {
  uint32_t kind = 0;
  uint32_t pad = 0;
  uint64_t seq = 0;
  uint64_t id = 0;
  uint64_t checksum = 0;
};
static_assert(sizeof(Record) == 32 && sizeof(Record) <= PIPE_BUF, "records are written atomically");

void write_all(int fd, const void* p, size_t n) {
  auto c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t k = ::write(fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) _exit(3);
    c += k;
    n -= size_t(k);
  }
}

[[noreturn]] void writer_main(const std::string& path, FolderId folder, uint64_t first_seq, int fd) {
  try {
    auto mb = open_sqlite_mailbox(path);
    for (uint64_t seq = first_seq; seq < first_seq + kSeqStride; ++seq) {
      Message m = make_message(seq);
      uint64_t sum = checksum(m);
      Record begin{kBegin, 0, seq, 0, 0};
      write_all(fd, &begin, sizeof begin);
      std::vector<StreamedValue> streams;
      std::string body;
      size_t at = 0;
      if (streams_body(seq)) {
        body = *m.props.get_string(tags::PidTagBody);
        m.props.erase(tags::PidTagBody);
        streams.push_back({tags::PidTagBody, [&](uint8_t* buf, size_t n) {
                             size_t k = std::min(n, body.size() - at);
                             std::memcpy(buf, body.data() + at, k);
                             at += k;
                             return k;
                           }});
      }
      MessageId id = mb->save_message(folder, m, std::nullopt, streams);
      // Reported only after save_message has returned.
      Record done{kCommitted, 0, seq, id, sum};
      write_all(fd, &done, sizeof done);
    }
    _exit(0);
  } catch (const std::exception& e) {
    std::string msg = std::string("crash_test writer: ") + e.what() + "\n";
    write_all(2, msg.data(), msg.size());
    _exit(2);
  } catch (...) {
    _exit(2);
  }
}

struct RoundResult {
  std::vector<Record> committed;
  bool killed_mid_save = false;  // the last record read was a "begin" without its "committed"
  bool killed = false;           // the child was still running when SIGKILL arrived
  int status = 0;
};

RoundResult run_round(const std::string& path, FolderId folder, uint64_t first_seq, std::chrono::milliseconds delay) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    writer_main(path, folder, first_seq, fds[1]);
  }
  ::close(fds[1]);
  std::this_thread::sleep_for(delay);
  RoundResult r;
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  r.killed = WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL;
  // The child is gone: read its records to the end; a partial trailing record does not count.
  std::vector<uint8_t> data;
  uint8_t buf[4096];
  for (;;) {
    ssize_t k = ::read(fds[0], buf, sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    data.insert(data.end(), buf, buf + k);
  }
  ::close(fds[0]);
  uint64_t open_seq = 0;
  bool open = false;
  for (size_t at = 0; at + sizeof(Record) <= data.size(); at += sizeof(Record)) {
    Record rec;
    std::memcpy(&rec, data.data() + at, sizeof rec);
    if (rec.kind == kBegin) {
      open = true;
      open_seq = rec.seq;
    } else if (rec.kind == kCommitted) {
      if (!open || rec.seq != open_seq) throw std::runtime_error("writer records out of order");
      open = false;
      r.committed.push_back(rec);
    } else {
      throw std::runtime_error("garbled writer record");
    }
  }
  r.killed_mid_save = open;
  return r;
}

uint64_t seq_of(const Message& m) {
  auto id = m.props.get_string(tags::PidTagInternetMessageId);
  if (!id || id->size() < 2) return UINT64_MAX;
  return std::strtoull(id->c_str() + 1, nullptr, 10);
}

uint64_t pick_seed() {
  if (const char* s = std::getenv("OPENMAPI_CRASH_SEED")) return std::strtoull(s, nullptr, 0);
  return std::random_device{}();
}

}  // namespace

TEST(Crash, GeneratorIsDeterministic) {
  // The parent checks the child's work by building the same message again.
  for (uint64_t seq : {0ull, 2ull, 3ull, 7ull, 1'000'002ull}) {
    Message a = make_message(seq), b = make_message(seq);
    EXPECT_EQ(checksum(a), checksum(b));
    EXPECT_TRUE(a == b);
    EXPECT_EQ(message_difference(a, b), "");
  }
  EXPECT_NE(checksum(make_message(1)), checksum(make_message(2)));
}

TEST(Crash, SigkillDuringSavesLosesNothingCommitted) {
  const uint64_t seed = pick_seed();
  std::printf("crash_test seed: %llu (rerun with OPENMAPI_CRASH_SEED=%llu)\n", (unsigned long long)seed,
              (unsigned long long)seed);
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  fs::path dir = fs::temp_directory_path() / ("openmapi-crash-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct RemoveDir {
    fs::path dir;
    ~RemoveDir() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};  // also when an assertion ends the test early
  const std::string path = (dir / "mailbox.db").string();
  FolderId folder;
  {
    auto mb = create_sqlite_mailbox(path, {"Crash Test", "crash@example.org", 0});
    folder = mb->create_folder(mb->special_folder(SpecialFolder::Inbox), "Crash", "IPF.Note");
  }  // closed before any fork: the child opens its own connection

  std::map<MessageId, uint64_t> committed;  // id -> seq, every round
  std::set<MessageId> verified;
  size_t mid_save_kills = 0, unreported_present = 0;
  std::uniform_int_distribution<int> delay_ms(kMinDelayMs, kMaxDelayMs);

  for (int round = 0; round < kRounds; ++round) {
    auto delay = std::chrono::milliseconds(delay_ms(rng));
    RoundResult r = run_round(path, folder, uint64_t(round + 1) * kSeqStride, delay);
    ASSERT_TRUE(r.killed) << "round " << round << ": the writer ended before the kill (status " << r.status << ")";
    if (r.killed_mid_save) ++mid_save_kills;
    std::printf("round %2d: kill after %3d ms, %3zu saves committed%s\n", round, int(delay.count()), r.committed.size(),
                r.killed_mid_save ? ", killed during a save" : "");

    std::unique_ptr<Mailbox> mb;
    ASSERT_NO_THROW(mb = open_sqlite_mailbox(path)) << "round " << round;
    std::vector<std::string> problems = mb->check_integrity();
    ASSERT_TRUE(problems.empty()) << "round " << round << ": " << problems.front();

    // Every message whose save returned is there, whole.
    for (const Record& rec : r.committed) {
      Message want = make_message(rec.seq);
      ASSERT_EQ(checksum(want), rec.checksum) << "seq " << rec.seq << ": the writer built a different message";
      Message got;
      ASSERT_NO_THROW(got = mb->load_message(MessageId(rec.id))) << "round " << round << ", committed seq " << rec.seq;
      ASSERT_EQ(message_difference(want, got), "") << "round " << round << ", seq " << rec.seq;
      ASSERT_TRUE(committed.emplace(MessageId(rec.id), rec.seq).second) << "id " << rec.id << " reported twice";
      verified.insert(MessageId(rec.id));
    }

    // Nothing else is half there: every message in the folder is complete. At most one per round
    // (the save in flight when the kill came) may be present without having been reported.
    auto table = mb->contents_table(folder);
    table->set_columns({tags::PidTagMid});
    size_t rows = 0, unreported = 0;
    for (;;) {
      auto batch = table->query_rows(500);
      if (batch.empty()) break;
      for (const Row& row : batch) {
        ++rows;
        ASSERT_EQ(row.at(0).tag(), tags::PidTagMid);
        MessageId id = ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc;
        if (committed.count(id)) continue;
        ++unreported;
        if (verified.count(id)) continue;  // seen in an earlier round
        Message got = mb->load_message(id);
        uint64_t seq = seq_of(got);
        ASSERT_EQ(message_difference(make_message(seq), got), "") << "unreported message " << id << " (seq " << seq << ")";
        verified.insert(id);
      }
    }
    EXPECT_EQ(rows, committed.size() + unreported);
    EXPECT_LE(unreported, size_t(round + 1)) << "more unreported messages than kills";
    unreported_present = unreported;
  }

  // A last full pass, in a fresh process state: every committed message, whole.
  {
    auto mb = open_sqlite_mailbox(path);
    EXPECT_TRUE(mb->check_integrity().empty());
    for (const auto& [id, seq] : committed)
      ASSERT_EQ(message_difference(make_message(seq), mb->load_message(id)), "") << "final pass, seq " << seq;
  }
  std::printf("%zu messages committed over %d kills (%zu during a save; %zu complete but unreported)\n", committed.size(),
              kRounds, mid_save_kills, unreported_present);
  // Not vacuous: saves were committed, and kills did land while saves were in flight.
  EXPECT_GT(committed.size(), 0u);
  EXPECT_GT(mid_save_kills, 0u);
}

// SIGKILL in the middle of a batch: the batches committed before are all there, the open one not
// at all (never a part of it), and the mailbox passes its integrity check.
TEST(Crash, SigkillDuringABatchLosesOnlyThatBatch) {
  fs::path dir = fs::temp_directory_path() / ("openmapi-crash-batch-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "mailbox.db").string();
  FolderId inbox;
  {
    auto mb = create_sqlite_mailbox(path, {"Batch Crash", "batch@example.org", 0});
    inbox = mb->special_folder(SpecialFolder::Inbox);
  }
  constexpr int kPerBatch = 40;
  for (int round = 1; round <= 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      try {
        auto mb = open_sqlite_mailbox(path);
        {
          auto batch = mb->begin_batch();
          for (int i = 0; i < kPerBatch; ++i) {
            Message m;
            m.props.set(PropValue::string(tags::PidTagSubject, "round " + std::to_string(round)));
            m.props.set(PropValue::string(tags::PidTagBody, std::string(2000, 'c')));
            mb->save_message(inbox, m);
          }
          batch->commit();
        }
        char c = 1;
        if (::write(fds[1], &c, 1) != 1) _exit(3);
        auto open = mb->begin_batch();  // never committed: saves until killed
        for (;;) {
          Message m;
          m.props.set(PropValue::string(tags::PidTagSubject, "uncommitted"));
          m.props.set(PropValue::string(tags::PidTagBody, std::string(2000, 'u')));
          mb->save_message(inbox, m);
        }
      } catch (...) {
        _exit(2);
      }
    }
    ::close(fds[1]);
    char c = 0;
    ASSERT_EQ(::read(fds[0], &c, 1), 1);
    ::close(fds[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * round));
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended before it was killed";
    auto mb = open_sqlite_mailbox(path);
    EXPECT_EQ(mb->folder_properties(inbox).get_i32(tags::PidTagContentCount), kPerBatch * round) << round;
    auto t = mb->contents_table(inbox);
    t->set_columns({tags::PidTagSubject});
    for (const auto& row : t->query_rows(100000))
      EXPECT_NE(row[0].get_if<std::string>() ? *row[0].get_if<std::string>() : "", "uncommitted");
    EXPECT_TRUE(mb->check_integrity().empty());
  }
  fs::remove_all(dir);
}
