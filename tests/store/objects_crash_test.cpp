// Crash safety of the object model's write paths: a writer process saves messages through
// Message::save_changes (a property and a streamed body of the same generation), moves them
// between folders and copies a folder, and is killed with SIGKILL at random moments. After each
// kill the mailbox passes its integrity check; every save that returned is there; no message is
// half saved (its subject and streamed body are always of one generation); a moved message is in
// exactly one folder; a copied folder is there whole or not at all.
//
// The writer is a fork()ed child that uses only the store API and leaves with _exit(). It reports
// over a pipe after each operation returned. Rerun a failure with OPENMAPI_CRASH_SEED=<seed>.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "core/entryid.h"
#include "store/objects.h"
#include "store_fixture.h"

using namespace openmapi;
using namespace openmapi::store;
namespace fs = std::filesystem;

namespace {

constexpr int kRounds = 8;
constexpr int kMessages = 6;

// The streamed body of generation `g` of message `n`: 40 KB (over the large-value threshold).
std::string body_of(int n, uint32_t g) {
  std::string s;
  s.reserve(40 * 1024 + 32);
  while (s.size() < 40 * 1024) s += "message " + std::to_string(n) + " generation " + std::to_string(g) + "; ";
  return s;
}

struct Report {
  int32_t kind;  // 1: save of (n, g) returned; 2: a move of n returned; 3: a folder copy returned
  int32_t n;
  uint32_t g;
};

std::vector<MessageId> ids_in(Mailbox& mb, FolderId f) {
  auto t = mb.contents_table(f);
  t->set_columns({tags::PidTagMid});
  std::vector<MessageId> out;
  for (const auto& r : t->query_rows(100000)) out.push_back(MessageId(ObjectId::from_u64(uint64_t(r[0].get<int64_t>())).gc));
  return out;
}

// The writer: forever, for a random message: save a new generation (subject and body), or move
// it to the other folder, or copy the "Source" folder into "Copies".
[[noreturn]] void writer(const std::string& path, FolderId a, FolderId b, FolderId source, FolderId copies, uint64_t seed, int fd) {
  try {
    std::shared_ptr<Mailbox> mb = open_sqlite_mailbox(path);
    auto logon = Logon::open(mb, LogonIdentity::system_user());
    std::mt19937_64 rng(seed);
    for (;;) {
      const int n = int(rng() % kMessages);
      const std::string marker = "<crash-" + std::to_string(n) + "@objects.test>";
      // Find message n (it may have moved, and has a new id after each move).
      MessageId id = 0;
      FolderId where = 0;
      for (FolderId f : {a, b})
        for (MessageId m : ids_in(*mb, f))
          if (mb->load_message(m, false).props.get_string(tags::PidTagInternetMessageId) == marker) id = m, where = f;
      if (!id) _exit(5);
      Report rep{};
      switch (rng() % 5) {
        case 0: {
          auto from = logon->open_folder(where);
          auto to = logon->open_folder(where == a ? b : a);
          from->copy_messages({id}, *to, copy_flags::Move);
          rep = {2, n, 0};
          break;
        }
        case 1: {
          logon->open_folder(source)->copy_folder(mb->child_folders(source).at(0), *logon->open_folder(copies), "copy " + std::to_string(rng()));
          rep = {3, 0, 0};
          break;
        }
        default: {
          auto m = logon->open_message(id, true);
          // The next generation after the stored one (a killed writer's last save may be there).
          const std::string subject = m->get_prop(tags::PidTagSubject)->get<std::string>();
          const uint32_t g = uint32_t(std::strtoul(subject.c_str() + 11, nullptr, 10)) + 1;
          m->set_props({PropValue::string(tags::PidTagSubject, "generation " + std::to_string(g))});
          auto s = m->open_property(tags::PidTagBody, open_flags::ReadWrite | open_flags::Create);
          const std::string body = body_of(n, g);
          s->write(reinterpret_cast<const uint8_t*>(body.data()), body.size());
          s->commit();
          m->save_changes(save_flags::ForceSave);
          rep = {1, n, g};
        }
      }
      if (::write(fd, &rep, sizeof rep) != sizeof rep) _exit(3);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer: %s\n", e.what());
    _exit(2);
  }
}

}  // namespace

TEST(ObjectsCrash, SigkillDuringSavesMovesAndFolderCopiesLeavesNoHalfObject) {
  const char* env = std::getenv("OPENMAPI_CRASH_SEED");
  const uint64_t seed = env ? std::strtoull(env, nullptr, 0) : std::random_device{}();
  std::printf("objects_crash_test seed: %llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  openmapi::testing::TempDir dir;
  const std::string path = dir.file("mb.sqlite");
  FolderId a, b, source, copies;
  {
    auto mb = create_sqlite_mailbox(path, {"Crash", "crash@example.org", 0});
    FolderId inbox = mb->special_folder(SpecialFolder::Inbox);
    a = mb->create_folder(inbox, "A", "IPF.Note");
    b = mb->create_folder(inbox, "B", "IPF.Note");
    source = mb->create_folder(inbox, "Source", "IPF.Note");
    copies = mb->create_folder(inbox, "Copies", "IPF.Note");
    FolderId inner = mb->create_folder(source, "Inner", "IPF.Note");
    for (int i = 0; i < 3; ++i) mb->save_message(inner, openmapi::testing::simple_message("inner " + std::to_string(i)));
    for (int n = 0; n < kMessages; ++n) {
      openmapi::Message m = openmapi::testing::simple_message("generation 0");
      m.props.set(PropValue::string(tags::PidTagInternetMessageId, "<crash-" + std::to_string(n) + "@objects.test>"));
      m.props.set(PropValue::string(tags::PidTagBody, body_of(n, 0)));
      Attachment att;  // a large attachment that the saves must leave alone
      att.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
      att.props.set(PropValue::binary(tags::PidTagAttachDataBinary, Bytes(200 * 1024, uint8_t(n))));
      m.attachments.push_back(std::move(att));
      mb->save_message(a, m);
    }
  }
  std::map<int, uint32_t> reported;  // the newest generation whose save returned
  size_t saves = 0, moves = 0, folder_copies = 0;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      writer(path, a, b, source, copies, rng(), fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 500));
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself (status " << status << ")";
    Report rep;
    while (::read(fds[0], &rep, sizeof rep) == ssize_t(sizeof rep)) {
      if (rep.kind == 1) {
        reported[rep.n] = std::max(reported[rep.n], rep.g), ++saves;
      } else if (rep.kind == 2) {
        ++moves;
      } else {
        ++folder_copies;
      }
    }
    ::close(fds[0]);

    auto mb = open_sqlite_mailbox(path);
    auto problems = mb->check_integrity();
    ASSERT_TRUE(problems.empty()) << problems.front();
    std::map<int, int> found;
    for (FolderId f : {a, b}) {
      for (MessageId id : ids_in(*mb, f)) {
        openmapi::Message m = mb->load_message(id, true);
        auto marker = m.props.get_string(tags::PidTagInternetMessageId).value_or("");
        int n = std::atoi(marker.c_str() + 7);
        ++found[n];
        // One generation throughout: the subject and the streamed body saved together.
        uint32_t g = uint32_t(std::strtoul(m.props.get_string(tags::PidTagSubject)->c_str() + 11, nullptr, 10));
        EXPECT_EQ(m.props.get_string(tags::PidTagBody), body_of(n, g)) << "message " << n << " half saved";
        // Every save that returned is there (a later one, killed before it reported, may be too).
        EXPECT_GE(g, reported[n]) << "message " << n << " lost a save";
        ASSERT_EQ(m.attachments.size(), 1u);
        EXPECT_EQ(m.attachments[0].props.find(tags::PidTagAttachDataBinary)->get<Bytes>(), Bytes(200 * 1024, uint8_t(n)));
      }
    }
    for (int n = 0; n < kMessages; ++n) EXPECT_EQ(found[n], 1) << "message " << n << " is not in exactly one folder";
    // Folder copies: whole or absent.
    for (FolderId c : mb->child_folders(copies)) EXPECT_EQ(ids_in(*mb, c).size(), 3u) << "a folder copied in part";
    EXPECT_EQ(mb->mailbox_size(), [&] {
      int64_t total = 0;
      std::function<void(FolderId)> walk = [&](FolderId f) {
        total += mb->folder_properties(f).get_i32(tags::PidTagMessageSize).value_or(-1);
        for (FolderId c : mb->child_folders(f)) walk(c);
      };
      walk(mb->special_folder(SpecialFolder::Root));
      return total;
    }()) << "the mailbox size no longer adds up";
  }
  std::printf("%zu saves, %zu moves, %zu folder copies returned over %d kills\n", saves, moves, folder_copies, kRounds);
  EXPECT_GT(saves, 0u);
  EXPECT_GT(moves + folder_copies, 0u);
}
