// IMAP against Dovecot on the same messages, in one run: `imap_bench [--messages N] [--no-dovecot]
// [--keep]`. Both servers get the same N MIME messages (deterministic, 1-4 KB of text each, one in
// ten with a 2-10 KB attachment) in their INBOX: `openmapi serve` in a mailbox filled through
// the store API as delivery fills it (the parsed message, its MIME as it came and its ENVELOPE),
// Dovecot (Debian's dovecot-imapd, started on a configuration of its own in a temporary directory) in a
// Maildir holding the same bytes. One client for both (below: OpenSSL, reading every response
// and literal up to the tagged reply) logs in over TLS, selects INBOX and runs each measured
// command; the figures are the command's time from sending it to its tagged OK, twice per
// command on new connections (Dovecot builds its index and cache on the first), the bytes
// received, and the servers' peak memory: the VmHWM of `openmapi serve`, and of Dovecot's imap
// processes (sampled every 50 ms while the client runs).
//
// Commands: UID FETCH 1:* (FLAGS ENVELOPE), UID FETCH 1:* BODY.PEEK[] (every message whole), and
// UID SEARCH SUBJECT for a word one message in a hundred has.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/namedprop.h"
#include "core/propbag.h"
#include "formats/mime/mime.h"
#include "server/imap_mime.h"
#include "store/data_dir.h"
#include "store/named_ids.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace openmapi;

namespace {

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) pclose(p);
  return out;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

const char* kWords[] = {"report", "meeting", "budget", "travel", "review", "launch", "invoice", "contract", "summary", "plan",
                        "draft", "update", "question", "schedule", "proposal", "notes"};

// Message `i`: deterministic MIME with CRLF line ends.
std::string make_message(size_t i) {
  std::mt19937_64 rng(i * 7919 + 1);
  auto word = [&] { return std::string(kWords[rng() % 16]); };
  std::string subject = word() + " " + word() + " " + std::to_string(i);
  if (i % 100 == 7) subject += " zebra";
  const int day = int(1 + i % 28), hour = int(i % 24), minute = int(i % 60);
  char date[64];
  std::snprintf(date, sizeof date, "%s, %02d Nov 2026 %02d:%02d:00 +0000", "Mon", day, hour, minute);
  std::string m = "Return-Path: <sender" + std::to_string(i % 500) + "@example.org>\r\n";
  m += "Received: from mx.example.org by bench.example.com with ESMTP id " + std::to_string(i) + "; " + date + "\r\n";
  m += "From: Sender " + std::to_string(i % 500) + " <sender" + std::to_string(i % 500) + "@example.org>\r\n";
  m += "To: Bench User <bench@example.com>\r\n";
  if (i % 3 == 0) m += "Cc: \"Team, All\" <team@example.com>, ops@example.com\r\n";
  m += "Subject: " + subject + "\r\nDate: " + std::string(date) + "\r\nMessage-ID: <bench." + std::to_string(i) + "@example.org>\r\n";
  m += "MIME-Version: 1.0\r\n";
  std::string body;
  const size_t body_size = 1024 + rng() % 3072;
  while (body.size() < body_size) {
    std::string line;
    while (line.size() < 70) line += word() + " ";
    body += line + "\r\n";
  }
  if (i % 10 == 3) {
    m += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n";
    m += "--b" + std::to_string(i) + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + body;
    m += "--b" + std::to_string(i) + "\r\nContent-Type: application/octet-stream; name=\"data" + std::to_string(i) +
         ".bin\"\r\nContent-Disposition: attachment; filename=\"data" + std::to_string(i) + ".bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    const size_t att = 2048 + rng() % 8192;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string line;
    for (size_t k = 0; k < att * 4 / 3; ++k) {
      line += b64[rng() % 64];
      if (line.size() == 76) {
        m += line + "\r\n";
        line.clear();
      }
    }
    m += line + "\r\n--b" + std::to_string(i) + "--\r\n";
  } else {
    m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body;
  }
  return m;
}

struct Timing {
  double seconds = 0;
  uint64_t bytes = 0;
  std::string error;
};

// A minimal IMAP client over TLS: sends a command, reads every response (literals counted, not
// parsed) up to its tagged reply.
class Client {
 public:
  ~Client() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  bool connect(uint16_t port, std::string& error) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return error = "connect failed", false;
    ctx_ = SSL_CTX_new(TLS_client_method());
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) return error = "TLS handshake failed", false;
    std::string greeting;
    return read_line(greeting);
  }
  bool send_line(const std::string& line) {
    const std::string l = line + "\r\n";
    return SSL_write(ssl_, l.data(), int(l.size())) > 0;
  }
  // Reads lines until one contains `needle` (true) or `seconds` pass (false).
  bool wait_for_line(const std::string& needle, int seconds) {
    timeval tv{seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string l;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < until && read_line(l))
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  // Runs `command`: its time to the tagged OK and the bytes of its responses, or an error.
  Timing run(const std::string& command) {
    Timing t;
    const std::string tag = "Z" + std::to_string(++tags_);
    const std::string line = tag + " " + command + "\r\n";
    const auto start = std::chrono::steady_clock::now();
    if (SSL_write(ssl_, line.data(), int(line.size())) <= 0) return t.error = "write failed", t;
    std::string l;
    while (read_line(l)) {
      t.bytes += l.size() + 2;
      // A line that ends in {n} goes on after n bytes of literal.
      while (!l.empty() && l.back() == '}') {
        const size_t open = l.rfind('{');
        if (open == std::string::npos) break;
        const uint64_t n = std::stoull(l.substr(open + 1));
        if (!skip(n)) return t.error = "connection lost in a literal", t;
        t.bytes += n;
        if (!read_line(l)) return t.error = "connection lost", t;
        t.bytes += l.size() + 2;
      }
      if (l.rfind(tag + " ", 0) == 0) {
        t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (l.rfind(tag + " OK", 0) != 0) t.error = l;
        return t;
      }
    }
    t.error = "connection lost";
    return t;
  }

 private:
  bool fill() {
    char b[65536];
    const int n = SSL_read(ssl_, b, sizeof b);
    if (n <= 0) return false;
    buf_.append(b, size_t(n));
    return true;
  }
  bool read_line(std::string& line) {
    size_t crlf;
    while ((crlf = buf_.find("\r\n", pos_)) == std::string::npos) {
      buf_.erase(0, pos_);
      pos_ = 0;
      if (!fill()) return false;
    }
    line.assign(buf_, pos_, crlf - pos_);
    pos_ = crlf + 2;
    return true;
  }
  bool skip(uint64_t n) {
    while (buf_.size() - pos_ < n) {
      n -= buf_.size() - pos_;
      buf_.clear();
      pos_ = 0;
      if (!fill()) return false;
    }
    pos_ += size_t(n);
    return true;
  }
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
  size_t pos_ = 0;
  int tags_ = 0;
};

// A new connection: LOGIN, SELECT INBOX (its time in `select_seconds`), then `command`.
Timing imap_run(uint16_t port, const std::string& user, const std::string& pass, const std::string& command, double& select_seconds) {
  Client c;
  Timing t;
  if (!c.connect(port, t.error)) return t;
  Timing login = c.run("LOGIN \"" + user + "\" \"" + pass + "\"");
  if (!login.error.empty()) return login;
  Timing select = c.run("SELECT INBOX");
  if (!select.error.empty()) return select;
  select_seconds = select.seconds;
  t = c.run(command);
  c.run("LOGOUT");
  return t;
}

uint64_t status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  return 0;
}

// The peak RSS (kB) of the processes named `name` (their VmHWM), sampled until `done`.
class PeakSampler {
 public:
  explicit PeakSampler(std::string name) : name_(std::move(name)), thread_([this] { run(); }) {}
  ~PeakSampler() { stop(); }
  uint64_t stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  void run() {
    while (!done_) {
      for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string pid = e.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream comm(e.path() / "comm");
        std::string c;
        std::getline(comm, c);
        if (c == name_) peak_ = std::max(peak_, status_kb(pid_t(std::stoi(pid)), "VmHWM"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::string name_;
  std::atomic<bool> done_{false};
  uint64_t peak_ = 0;
  std::thread thread_;
};

uint16_t free_port() {
  const std::string r = sh("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
  return uint16_t(std::stoi(r));
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  std::cout << std::flush;  // or the child's copy of the buffer is written again
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    FILE* f = freopen(log.c_str(), "w", stderr);
    FILE* g = freopen(log.c_str(), "a", stdout);
    (void)f;
    (void)g;
    execv(a[0], a.data());
    _exit(127);
  }
  return pid;
}

bool wait_for(const std::function<bool()>& ready, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 250000;
  bool dovecot = true, keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--messages" && i + 1 < argc) n = std::stoull(argv[++i]);
    else if (a == "--no-dovecot") dovecot = false;
    else if (a == "--keep") keep = true;
    else {
      std::cerr << "usage: imap_bench [--messages N] [--no-dovecot] [--keep]\n";
      return 2;
    }
  }
  if (dovecot && sh("command -v /usr/sbin/dovecot").empty()) {
    std::cerr << "imap_bench: Dovecot is not installed (apt-get install dovecot-imapd), or run with --no-dovecot\n";
    return 2;
  }
  const fs::path dir = fs::temp_directory_path() / ("openmapi-imap-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string user = "bench@example.com", pass = "bench";
  std::cout << "imap_bench: " << n << " messages in " << dir << "\n";

  // ---- OpenMAPI: a user, the messages through the store as delivery files them.
  const fs::path data = dir / "openmapi";
  sh("printf '%s\\n' " + quote(pass) + " | " + quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " user add " + user +
     " --password-stdin");
  uint64_t mime_bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(data.string(), user));
    const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
    const PropTag raw(mb->named_property_id(store::internet_message_name(), true), PropType::Binary);
    const PropTag envelope_tag(mb->named_property_id(store::imap_envelope_name(), true), PropType::String);
    std::unique_ptr<store::Mailbox::Batch> batch;
    for (size_t i = 0; i < n; ++i) {
      if (i % 1000 == 0) {
        if (batch) batch->commit();
        batch.reset();
        batch = mb->begin_batch();
      }
      const std::string text = make_message(i);
      mime_bytes += text.size();
      NamedPropertyMap names;
      Message m = store::to_mailbox_ids(formats::parse_mime(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()), names), names, *mb);
      m.props.set(PropValue::time(tags::PidTagMessageDeliveryTime, 133000000000000000LL + int64_t(i) * 10000000LL));
      m.props.set(PropValue::binary(raw, Bytes(text.begin(), text.end())));
      if (auto envelope = server::envelope_to_keep(text)) m.props.set(PropValue::string(envelope_tag, *envelope));
      mb->save_message(inbox, m);
      if ((i + 1) % 25000 == 0) std::cout << "  openmapi: " << (i + 1) << " messages stored, " << seconds_since(t0) << " s\n" << std::flush;
    }
    if (batch) batch->commit();
  }
  std::cout << "  openmapi mailbox filled in " << seconds_since(t0) << " s (" << mime_bytes / n << " bytes of MIME per message)\n";

  // ---- openmapi serve
  const fs::path om_log = dir / "openmapi.log";
  pid_t om_pid = spawn({OPENMAPI_BIN, "--data-dir", data.string(), "serve", "--listen", "imaps=127.0.0.1:0"}, om_log);
  uint16_t om_port = 0;
  wait_for([&] {
    std::ifstream in(om_log);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string s = ss.str();
    const size_t at = s.find("listening on imaps://127.0.0.1:");
    if (at == std::string::npos) return false;
    om_port = uint16_t(std::stoi(s.substr(at + 31)));
    return true;
  }, 30);
  if (!om_port) {
    std::cerr << "imap_bench: openmapi serve did not start\n";
    return 1;
  }

  // ---- Dovecot: a Maildir with the same bytes, its own configuration.
  const fs::path dc = dir / "dovecot";
  uint16_t dc_port = 0;
  pid_t dc_pid = -1;
  if (dovecot) {
    const fs::path maildir = dc / "home" / "Maildir";
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(maildir / sub);
    t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) {
      const std::string text = make_message(i);
      std::ofstream(maildir / "cur" / (std::to_string(1700000000 + i) + ".M" + std::to_string(i) + ".bench,S=" + std::to_string(text.size()) + ":2,"),
                    std::ios::binary)
          << text;
    }
    std::cout << "  dovecot Maildir written in " << seconds_since(t0) << " s\n";
    fs::create_directories(dc / "run");
    fs::create_directories(dc / "state");
    dc_port = free_port();
    const fs::path conf = dc / "dovecot.conf";
    std::ofstream(conf) << "protocols = imap\nlisten = 127.0.0.1\nbase_dir = " << (dc / "run").string() << "\nstate_dir = "
                        << (dc / "state").string() << "\nlog_path = " << (dc / "log").string()
                        << "\nssl = required\nssl_cert = <" << (data / "tls" / "server.crt").string() << "\nssl_key = <"
                        << (data / "tls" / "server.key").string() << "\nauth_mechanisms = plain\n"
                        << "passdb {\n  driver = static\n  args = password=" << pass << "\n}\n"
                        << "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=" << (dc / "home").string() << "\n}\n"
                        << "mail_location = maildir:~/Maildir\nfirst_valid_uid = 1\n"
                        << "service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = " << dc_port
                        << "\n    ssl = yes\n  }\n}\n";
    sh("chown -R nobody:nogroup " + quote((dc / "home").string()) + " && chmod o+x " + quote(dir.string()) + " " + quote(dc.string()));
    sh("chmod -R o+r " + quote((data / "tls").string()));
    dc_pid = spawn({"/usr/sbin/dovecot", "-F", "-c", conf.string()}, dc / "stdout");
    if (!wait_for([&] { return sh("curl -s -k --max-time 2 -u " + quote(user + ":" + pass) + " imaps://127.0.0.1:" + std::to_string(dc_port) + "/").find("INBOX") != std::string::npos; }, 30)) {
      std::cerr << "imap_bench: Dovecot did not start: " << sh("cat " + quote((dc / "log").string()) + " " + quote((dc / "stdout").string())) << "\n";
      kill(dc_pid, SIGTERM);
      dovecot = false;
    }
  }

  struct Row {
    std::string what;
    Timing om[2], dc[2];
    double om_select[2] = {0, 0}, dc_select[2] = {0, 0};
    uint64_t dc_peak_kb = 0;
  };
  std::vector<Row> rows;
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"UID FETCH 1:* (FLAGS ENVELOPE)", "UID FETCH 1:* (FLAGS ENVELOPE)"},
      {"UID FETCH 1:* BODY.PEEK[]", "UID FETCH 1:* BODY.PEEK[]"},
      {"UID SEARCH SUBJECT zebra", "UID SEARCH SUBJECT zebra"},
  };
  for (const auto& [what, command] : commands) {
    Row r;
    r.what = what;
    for (int k = 0; k < 2; ++k) {
      r.om[k] = imap_run(om_port, user, pass, command, r.om_select[k]);
      if (dovecot) {
        PeakSampler s("imap");
        r.dc[k] = imap_run(dc_port, user, pass, command, r.dc_select[k]);
        r.dc_peak_kb = std::max(r.dc_peak_kb, s.stop());
      }
      std::cout << "  " << what << " #" << (k + 1) << ": openmapi " << r.om[k].seconds << " s (" << r.om[k].bytes << " bytes)"
                << (dovecot ? ", dovecot " + std::to_string(r.dc[k].seconds) + " s (" + std::to_string(r.dc[k].bytes) + " bytes)" : "") << "\n"
                << std::flush;
      std::cout << "    SELECT INBOX before it: openmapi " << r.om_select[k] << " s" << (dovecot ? ", dovecot " + std::to_string(r.dc_select[k]) + " s" : "") << "\n";
      if (!r.om[k].error.empty()) std::cout << "    openmapi: " << r.om[k].error << "\n";
      if (dovecot && !r.dc[k].error.empty()) std::cout << "    dovecot: " << r.dc[k].error << "\n";
    }
    rows.push_back(r);
  }
  // IDLE: how long a message that another process files takes to show as EXISTS. OpenMAPI: a
  // save_message through the store from this process (the server's change feed sees commits of
  // other processes at its poll); Dovecot: a file moved into the Maildir's new/ (inotify).
  auto idle_latency = [&](uint16_t port, const std::function<void(size_t)>& deliver) -> double {
    std::vector<double> seen;
    Client c;
    std::string error;
    if (!c.connect(port, error) || !c.run("LOGIN \"" + user + "\" \"" + pass + "\"").error.empty() || !c.run("SELECT INBOX").error.empty())
      return -1;
    for (size_t k = 0; k < 5; ++k) {
      if (!c.send_line("I" + std::to_string(k) + " IDLE") || !c.wait_for_line("+ ", 10)) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const auto t = std::chrono::steady_clock::now();
      deliver(n + k);
      if (!c.wait_for_line(" EXISTS", 30)) return -1;
      seen.push_back(seconds_since(t));
      if (!c.send_line("DONE") || !c.wait_for_line("I" + std::to_string(k) + " OK", 10)) return -1;
    }
    std::sort(seen.begin(), seen.end());
    return seen[seen.size() / 2];
  };
  const double om_idle = idle_latency(om_port, [&](size_t i) {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(data.string(), user));
    const std::string text = make_message(i);
    NamedPropertyMap names;
    Message m = store::to_mailbox_ids(formats::parse_mime(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()), names), names, *mb);
    mb->save_message(mb->special_folder(store::SpecialFolder::Inbox), m);
  });
  double dc_idle = -1;
  if (dovecot)
    dc_idle = idle_latency(dc_port, [&](size_t i) {
      const std::string text = make_message(i);
      const fs::path tmp = dc / "home" / "Maildir" / "tmp" / ("idle." + std::to_string(i));
      std::ofstream(tmp, std::ios::binary) << text;
      sh("chown nobody:nogroup " + quote(tmp.string()));
      fs::rename(tmp, dc / "home" / "Maildir" / "new" / ("idle." + std::to_string(i)));
    });
  std::cout << "  IDLE, a new message to EXISTS (median of 5): openmapi " << om_idle << " s" << (dovecot ? ", dovecot " + std::to_string(dc_idle) + " s" : "")
            << "\n";
  const uint64_t om_peak = status_kb(om_pid, "VmHWM");
  kill(om_pid, SIGTERM);
  waitpid(om_pid, nullptr, 0);
  if (dc_pid > 0) {
    kill(dc_pid, SIGTERM);
    waitpid(dc_pid, nullptr, 0);
  }

  std::cout << "\n| " << n << " messages | openmapi (first, second) | dovecot (first, second) | dovecot / openmapi (second) |\n|---|---|---|---|\n";
  for (const Row& r : rows) {
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %.2f s, %.2f s | %s | %s |\n", r.what.c_str(), r.om[0].seconds, r.om[1].seconds,
                  dovecot ? (std::to_string(r.dc[0].seconds).substr(0, 5) + " s, " + std::to_string(r.dc[1].seconds).substr(0, 5) + " s").c_str() : "-",
                  dovecot && r.om[1].seconds > 0 ? std::to_string(r.dc[1].seconds / r.om[1].seconds).substr(0, 4).c_str() : "-");
    std::cout << line;
  }
  uint64_t dc_peak = 0;
  for (const Row& r : rows) dc_peak = std::max(dc_peak, r.dc_peak_kb);
  std::cout << "\npeak memory: openmapi serve " << om_peak / 1024 << " MB (VmHWM)";
  if (dovecot) std::cout << ", dovecot imap " << dc_peak / 1024 << " MB";
  std::cout << "\n";
  for (const Row& r : rows)
    if (dovecot && (r.om[1].bytes == 0 || r.dc[1].bytes == 0)) std::cout << "warning: " << r.what << " returned nothing on one side\n";
  if (!keep) fs::remove_all(dir);
  return 0;
}
