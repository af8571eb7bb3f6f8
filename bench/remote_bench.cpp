// remote_bench: what a mailbox on a server costs through the remote provider (mapi/remote.h)
// against the same calls of the object model on the local SQLite store, in one run on one
// mailbox: the local store is the limit, the remote provider adds ROPs over loopback TLS to a
// real `openmapi serve` (whose own store is that same mailbox file).
//
//   1. Outlook's first view: the Inbox opened, its contents table with 5 columns, the first 50
//      rows (Folder::contents_table + set_columns + query_rows), repeated R times.
//   2. M messages opened by id and 6 properties read (Logon::open_message + get_props).
//   3. S messages created with a recipient and saved (Folder::create_message, set_props,
//      modify_recipients, save_changes).
//   4. Notification latency: a message written into the mailbox file (as delivery does) until
//      an advise sink on the remote Logon has its NewMail, median of 10.
//
//   remote_bench [--rounds R] [--opens M] [--saves S]
// Results go to docs/PERFORMANCE.md.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/sortorder.h"
#include "mapi/remote.h"
#include "serve_child.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/notify.h"
#include "store/objects.h"

using namespace openmapi;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Figures {
  double first_view = 0, opens = 0, saves = 0;
};

Figures run(store::Logon& logon, size_t rounds, const std::vector<store::MessageId>& ids, size_t saves) {
  Figures f;
  auto t0 = Clock::now();
  for (size_t i = 0; i < rounds; ++i) {
    auto inbox = logon.open_special(store::SpecialFolder::Inbox);
    auto t = inbox->contents_table();
    t->set_columns({tags::PidTagMid, tags::PidTagSubject, tags::PidTagSenderName, tags::PidTagMessageDeliveryTime, tags::PidTagMessageFlags});
    t->sort({{{tags::PidTagMessageDeliveryTime, SortDirection::Descending}}, 0, 0});
    if (t->query_rows(50).size() != 50) std::fprintf(stderr, "remote_bench: the first view has not 50 rows\n");
  }
  f.first_view = seconds_since(t0);
  t0 = Clock::now();
  for (store::MessageId id : ids) {
    auto m = logon.open_message(id);
    m->get_props({tags::PidTagSubject, tags::PidTagSenderName, tags::PidTagMessageDeliveryTime, tags::PidTagMessageFlags,
                  tags::PidTagMessageClass, tags::PidTagBody});
  }
  f.opens = seconds_since(t0);
  t0 = Clock::now();
  auto drafts = logon.open_special(store::SpecialFolder::Drafts);
  for (size_t i = 0; i < saves; ++i) {
    auto m = drafts->create_message();
    m->set_props({PropValue::string(tags::PidTagSubject, "draft " + std::to_string(i)), PropValue::string(tags::PidTagBody, std::string(2000, 'd'))});
    m->modify_recipients(store::modrecip::Add, {PropertyBag{PropValue::string(tags::PidTagDisplayName, "Bob"),
                                                            PropValue::string(tags::PidTagEmailAddress, "bob@example.org"),
                                                            PropValue::string(tags::PidTagAddressType, "SMTP"),
                                                            PropValue::i32(tags::PidTagRecipientType, 1)}});
    m->save_changes();
  }
  f.saves = seconds_since(t0);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  size_t rounds = 200, opens = 500, saves = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::strtoul(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--opens") == 0) opens = std::strtoul(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--saves") == 0) saves = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const fs::path dir = fs::temp_directory_path() / ("openmapi-remote-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string user_address = "bench@example.com", password = "bench password";
  server::User user;
  {
    server::UserDirectory users(dir.string(), true);
    user = users.add(user_address, "Bench User", password);
  }
  const std::string file = store::mailbox_file(dir.string(), user.mailbox);
  std::vector<store::MessageId> ids;
  {
    auto mb = store::open_sqlite_mailbox(file);
    const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
    for (int i = 0; i < 200; ++i) {  // the Inbox of issue 14's load figures
      Message m;
      m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
      m.props.set(PropValue::string(tags::PidTagSubject, "Bench message " + std::to_string(i)));
      m.props.set(PropValue::string(tags::PidTagSenderName, "Sender " + std::to_string(i % 17)));
      m.props.set(PropValue::time(tags::PidTagMessageDeliveryTime, 133000000000000000LL + int64_t(i) * 600000000LL));
      m.props.set(PropValue::i32(tags::PidTagMessageFlags, i % 3 ? 1 : 0));
      m.props.set(PropValue::string(tags::PidTagBody, std::string(1500, char('a' + i % 26))));
      ids.push_back(mb->save_message(inbox, m));
    }
  }
  std::vector<store::MessageId> to_open;
  for (size_t i = 0; i < opens; ++i) to_open.push_back(ids[i % ids.size()]);

  std::ofstream(dir / "serve.conf") << "log_file = " << (dir / "serve.log").string() << "\nrelay = none\n";
  const bench::ServeChild server = bench::start_serve(OPENMAPI_BIN, dir);
  const pid_t pid = server.pid;
  const std::string port = server.port;
  int status = 1;
  if (port.empty()) {
    std::fprintf(stderr, "the server did not start: %s\n", bench::slurp(dir / "err").c_str());
  } else {
    try {
      mapi::RemoteOptions o;
      o.url = "https://127.0.0.1:" + port;
      o.user = user_address;
      o.password = password;
      o.ca_file = (dir / "tls" / "server.crt").string();
      const store::LogonIdentity who{user_address};
      auto local = store::Logon::open(std::shared_ptr<store::Mailbox>(store::open_sqlite_mailbox(file)), who);
      const auto c0 = Clock::now();
      auto remote = store::Logon::open(mapi::open_remote_mailbox(o), who);
      const double connect = seconds_since(c0);
      const Figures l = run(*local, rounds, to_open, saves);
      const Figures r = run(*remote, rounds, to_open, saves);

      // Notification latency through the server: NewMail on the remote Logon.
      std::mutex mu;
      std::condition_variable cv;
      size_t got = 0;
      remote->advise(store::fnev::NewMail, store::AdviseScope::store(), [&](const store::Notification&) {
        std::lock_guard lk(mu);
        ++got;
        cv.notify_all();
      });
      auto writer = store::open_sqlite_mailbox(file);
      std::vector<double> latencies;
      for (int i = 0; i < 10; ++i) {
        Message m;
        m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
        m.props.set(PropValue::string(tags::PidTagSubject, "new " + std::to_string(i)));
        const auto t0 = Clock::now();
        writer->save_message(writer->special_folder(store::SpecialFolder::Inbox), m);
        std::unique_lock lk(mu);
        if (!cv.wait_for(lk, std::chrono::seconds(10), [&] { return got > size_t(i); })) {
          std::fprintf(stderr, "remote_bench: no NewMail within 10 s\n");
          break;
        }
        latencies.push_back(seconds_since(t0));
      }
      std::sort(latencies.begin(), latencies.end());

      std::printf("| what | local (limit) | remote | ratio |\n|---|---:|---:|---:|\n");
      auto row = [](const char* what, size_t n, const char* unit, double a, double b) {
        std::printf("| %s | %.3f s, %.0f %s/s | %.3f s, %.0f %s/s | %.1fx |\n", what, a, double(n) / a, unit, b, double(n) / b, unit, b / a);
      };
      row("Inbox opened, contents table (5 columns, sorted), first 50 rows", rounds, "views", l.first_view, r.first_view);
      row("message opened by id, 6 properties read", opens, "msg", l.opens, r.opens);
      row("message created with a recipient, saved", saves, "msg", l.saves, r.saves);
      std::printf("\nconnect (Autodiscover, Connect, Logon): %.1f ms\n", connect * 1000);
      if (!latencies.empty())
        std::printf("NewMail from a write to the mailbox file to the remote sink: median %.0f ms, max %.0f ms (%zu)\n",
                    latencies[latencies.size() / 2] * 1000, latencies.back() * 1000, latencies.size());
      status = 0;
    } catch (const MapiError& e) {
      std::fprintf(stderr, "remote_bench: %s\n", e.describe().c_str());
    }
  }
  if (!port.empty()) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  if (std::getenv("REMOTE_BENCH_KEEP")) std::fprintf(stderr, "kept %s (the server's log: serve.log)\n", dir.c_str());
  else fs::remove_all(dir);
  return status;
}
