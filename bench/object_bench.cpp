// object_bench: the MAPI object model (store/objects.h) on the SQLite store.
//
//   1. SetProps of one property + SaveChanges, on a message with a 10 MB attachment and on one
//      without: the partial save should cost the same (the attachment is not written again).
//   2. Notification latency: from a change's journal time to its delivery to an Advise sink,
//      for changes made in this process and by another process; median and p99.
//   3. Peak memory of a 200 MB attachment written through a Stream and saved, then read back
//      through a Stream, each in a fresh child process (ru_maxrss), against the same child doing
//      nothing but opening the mailbox.
// Results go to docs/PERFORMANCE.md.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/filetime.h"
#include "store/objects.h"

using namespace openmapi;
using namespace openmapi::store;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[i];
}

int64_t now_filetime() {
  return to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
}

MessageId make_message(Folder& f, size_t attachment_bytes) {
  auto m = f.create_message();
  m->set_props({PropValue::string(tags::PidTagSubject, "bench"), PropValue::string(tags::PidTagBody, std::string(2000, 'b'))});
  if (attachment_bytes) {
    auto a = m->create_attach();
    a->set_props({PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue)});
    auto s = a->open_property(tags::PidTagAttachDataBinary, open_flags::ReadWrite | open_flags::Create);
    std::vector<uint8_t> chunk(65536);
    for (size_t at = 0; at < attachment_bytes; at += chunk.size()) {
      for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = uint8_t(at + i * 7);
      s->write(chunk.data(), std::min(chunk.size(), attachment_bytes - at));
    }
    s->commit();
    a->save_changes();
  }
  m->save_changes();
  return *m->id();
}

// 1. One property on messages with and without a 10 MB attachment.
void partial_save(const std::string& dir, int runs) {
  std::shared_ptr<Mailbox> mb = create_sqlite_mailbox(dir + "/partial.sqlite", {"Bench", "bench@example.com", 0});
  auto logon = Logon::open(mb, LogonIdentity{"bench@example.com"});
  auto inbox = logon->open_special(SpecialFolder::Inbox);
  MessageId big = make_message(*inbox, 10 << 20), small = make_message(*inbox, 0);
  std::printf("1. SetProps(PidTagImportance) + SaveChanges, median of %d (open, set, save)\n", runs);
  double med[2];
  for (int which = 0; which < 2; ++which) {
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) {
      auto t0 = Clock::now();
      auto m = logon->open_message(which ? small : big, true);
      m->set_props({PropValue::i32(tags::PidTagImportance, i % 3)});
      m->save_changes();
      t.push_back(ms_since(t0));
    }
    med[which] = pct(t, 0.5);
    std::printf("   %-28s median %.3f ms, p90 %.3f ms\n", which ? "without an attachment" : "with a 10 MB attachment", med[which],
                pct(t, 0.9));
  }
  std::printf("   ratio with/without: %.2f\n\n", med[0] / med[1]);
}

// 2. Notification latency, in-process and cross-process.
void latency(const std::string& dir, int changes) {
  const std::string path = dir + "/notify.sqlite";
  FolderId inbox;
  {
    auto mb = create_sqlite_mailbox(path, {"Bench", "bench@example.com", 0});
    inbox = mb->special_folder(SpecialFolder::Inbox);
  }
  for (int cross = 0; cross < 2; ++cross) {
    int go[2];
    if (pipe(go) != 0) std::abort();
    pid_t child = -1;
    if (cross) {
      child = fork();  // before any thread of this process: a clean child
      if (child == 0) {
        char c;
        if (read(go[0], &c, 1) != 1) _exit(2);
        auto w = open_sqlite_mailbox(path);
        for (int i = 0; i < changes; ++i) {
          openmapi::Message m;
          m.props.set(PropValue::string(tags::PidTagSubject, std::to_string(i)));
          w->save_message(inbox, m);
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        _exit(0);
      }
    }
    std::shared_ptr<Mailbox> mb = open_sqlite_mailbox(path);
    auto logon = Logon::open(mb, LogonIdentity{"bench@example.com"});
    std::mutex mu;
    std::condition_variable cv;
    std::vector<double> lat;
    logon->advise(fnev::ObjectCreated, AdviseScope::folder(inbox), [&](const Notification& n) {
      double ms = double(now_filetime() - n.change.time) / 10'000.0;
      std::lock_guard lk(mu);
      lat.push_back(ms);
      cv.notify_all();
    });
    auto t0 = Clock::now();
    if (cross) {
      if (write(go[1], "g", 1) != 1) std::abort();
    } else {
      auto w = open_sqlite_mailbox(path);  // another connection of this process
      for (int i = 0; i < changes; ++i) {
        openmapi::Message m;
        m.props.set(PropValue::string(tags::PidTagSubject, std::to_string(i)));
        w->save_message(inbox, m);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    {
      std::unique_lock lk(mu);
      cv.wait_for(lk, std::chrono::seconds(120), [&] { return lat.size() >= size_t(changes); });
    }
    if (cross) waitpid(child, nullptr, 0);
    close(go[0]);
    close(go[1]);
    std::lock_guard lk(mu);
    std::printf("2. notification latency, %s: %zu of %d changes delivered in %.0f ms; median %.2f ms, p99 %.2f ms, max %.2f ms\n",
                cross ? "another process" : "this process", lat.size(), changes, ms_since(t0), pct(lat, 0.5), pct(lat, 0.99),
                pct(lat, 1.0));
  }
  std::printf("\n");
}

long peak_rss_kib() {
  struct rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Runs `work` in a child process and returns its peak RSS in KiB.
template <class F>
long child_peak(F work) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    work();
    long kib = peak_rss_kib();
    if (write(fds[1], &kib, sizeof kib) != sizeof kib) _exit(3);
    _exit(0);
  }
  long kib = -1;
  if (read(fds[0], &kib, sizeof kib) != sizeof kib) kib = -1;
  waitpid(pid, nullptr, 0);
  close(fds[0]);
  close(fds[1]);
  return kib;
}

// 3. A 200 MB attachment through streams.
void stream_memory(const std::string& dir, size_t mb_size) {
  const std::string path = dir + "/stream.sqlite";
  create_sqlite_mailbox(path, {"Bench", "bench@example.com", 0});
  const size_t bytes = mb_size << 20;
  long base = child_peak([&] {
    std::shared_ptr<Mailbox> mb = open_sqlite_mailbox(path);
    auto logon = Logon::open(mb, LogonIdentity{"bench@example.com"});
    logon->open_special(SpecialFolder::Inbox)->contents_table()->row_count();
  });
  MessageId id = 0;
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  auto t0 = Clock::now();
  long write_peak = child_peak([&] {
    std::shared_ptr<Mailbox> mb = open_sqlite_mailbox(path);
    auto logon = Logon::open(mb, LogonIdentity{"bench@example.com"});
    MessageId made = make_message(*logon->open_special(SpecialFolder::Inbox), bytes);
    if (write(fds[1], &made, sizeof made) != sizeof made) _exit(4);
  });
  double write_ms = ms_since(t0);
  if (read(fds[0], &id, sizeof id) != sizeof id) std::abort();
  close(fds[0]);
  close(fds[1]);
  t0 = Clock::now();
  size_t got = 0;
  long read_peak = child_peak([&] {
    std::shared_ptr<Mailbox> mb = open_sqlite_mailbox(path);
    auto logon = Logon::open(mb, LogonIdentity{"bench@example.com"});
    auto s = logon->open_message(id)->open_attach(0)->open_property(tags::PidTagAttachDataBinary);
    std::vector<uint8_t> buf(65536);
    size_t n, total = 0;
    while ((n = s->read(buf.data(), buf.size())) > 0) total += n;
    if (total != bytes) _exit(5);
  });
  double read_ms = ms_since(t0);
  (void)got;
  std::printf("3. a %zu MB attachment through streams (peak RSS of a child process)\n", mb_size);
  std::printf("   baseline (open the mailbox, one table): %.1f MiB\n", base / 1024.0);
  std::printf("   write through a Stream + SaveChanges:   %.1f MiB, %.0f ms (%.0f MB/s)\n", write_peak / 1024.0, write_ms,
              double(mb_size) / (write_ms / 1000.0));
  std::printf("   read back through a Stream:             %.1f MiB, %.0f ms (%.0f MB/s)\n", read_peak / 1024.0, read_ms,
              double(mb_size) / (read_ms / 1000.0));
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/openmapi-object-bench";
  int runs = 51, changes = 1000;
  size_t stream_mb = 200;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--dir") dir = next();
    else if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--changes") changes = std::atoi(next().c_str());
    else if (a == "--stream-mb") stream_mb = size_t(std::atoll(next().c_str()));
    else {
      std::printf("usage: object_bench [--dir DIR] [--runs N] [--changes N] [--stream-mb MB]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  try {
    stream_memory(dir, stream_mb);  // first: its children fork before this process has threads
    std::printf("\n");
    latency(dir, changes);
    partial_save(dir, runs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "object_bench: %s\n", e.what());
    return 1;
  }
  fs::remove_all(dir);
  return 0;
}
