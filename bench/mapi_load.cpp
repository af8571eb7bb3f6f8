// mapi_load: `openmapi serve` under MAPI over HTTP load, over loopback TLS with keep-alive.
//
//   1. Executes: each session runs OpenFolder(Inbox) + GetContentsTable + SetColumns(6) +
//      QueryRows(50) + two Releases in one Execute, over and over, on a 200-message Inbox, with
//      1, 4 and 64 concurrent sessions (a TLS connection each). Executes per second (wall) and
//      per server CPU-second (the server process's utime + stime from /proc), client latency.
//   2. Idle sessions: RSS growth of the server per connected (Connect) session, 10,000 of them.
//   3. Waiters: 1,000 sessions with a Logon and RopRegisterNotification each hold a
//      NotificationWait; the server's CPU while they wait, then the time until all 1,000 have
//      their answer after one message is saved into the mailbox.
// The figures of Gromox for the same Execute, measured by the issue on this kind of machine,
// are printed beside ours (Gromox is not built here). Results go to docs/PERFORMANCE.md.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/bytes.h"
#include "server/frontend.h"
#include "serve_child.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/store.h"

using namespace openmapi;
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

const char* kUser = "bench@example.com";
const char* kPassword = "bench password";

using openmapi::bench::slurp;

// The server process's CPU seconds (utime + stime) and resident KiB.
double cpu_seconds(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (in >> field) f.push_back(field);
  // Fields after "(comm)": state is f[0]; utime is field 14 of the line, f[11]; stime f[12].
  const double ticks = double(sysconf(_SC_CLK_TCK));
  return (std::stod(f.at(11)) + std::stod(f.at(12))) / ticks;
}
long rss_kib(pid_t pid) {
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

std::string base64(const std::string& s) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < s.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(s[i])) << 16 | (i + 1 < s.size() ? uint32_t(uint8_t(s[i + 1])) << 8 : 0) | (i + 2 < s.size() ? uint8_t(s[i + 2]) : 0);
    out += t[v >> 18 & 63];
    out += t[v >> 12 & 63];
    out += i + 1 < s.size() ? t[v >> 6 & 63] : '=';
    out += i + 2 < s.size() ? t[v & 63] : '=';
  }
  return out;
}

// One keep-alive TLS connection to the server.
class Client {
 public:
  Client(asio::io_context& io, ssl::context& ctx, const std::string& port) : stream_(io, ctx) {
    tcp::resolver resolver(io);
    beast::get_lowest_layer(stream_).connect(*resolver.resolve("127.0.0.1", port).begin());
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true));
    stream_.handshake(ssl::stream_base::client);
  }
  void send(const std::string& path, const std::string& type, const Bytes& body, const std::string& cookie) {
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Basic " + base64(std::string(kUser) + ":" + kPassword));
    req.set(http::field::content_type, "application/mapi-http");
    req.set("X-RequestType", type);
    req.set("X-RequestId", "{B0B0B0B0-0000-0000-0000-000000000000}:" + std::to_string(++id_));
    req.set("X-ClientInfo", "{B0B0B0B0-0000-0000-0000-000000000001}:1");
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    req.body().assign(body.begin(), body.end());
    req.prepare_payload();
    http::write(stream_, req);
  }
  // The reply's binary body (after the meta-tags) and, when there is one, its Set-Cookie.
  Bytes receive(std::string* set_cookie = nullptr) {
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (res["X-ResponseCode"] != "0") throw std::runtime_error("X-ResponseCode " + std::string(res["X-ResponseCode"]) + ": " + res.body());
    if (set_cookie) {
      const std::string sc(res[http::field::set_cookie]);
      *set_cookie = sc.substr(0, sc.find(';'));
    }
    const std::string& b = res.body();
    const size_t end = b.find("\r\n\r\n");
    if (end == std::string::npos) return {};
    return Bytes(b.begin() + long(end) + 4, b.end());
  }
  Bytes call(const std::string& path, const std::string& type, const Bytes& body, const std::string& cookie, std::string* set_cookie = nullptr) {
    send(path, type, body, cookie);
    return receive(set_cookie);
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  uint64_t id_ = 0;
};

Bytes connect_body(const std::string& dn) {
  BinaryWriter w;
  w.str8z(dn);
  w.u32(0);
  w.u32(1252);
  w.u32(0x409);
  w.u32(0x409);
  w.u32(0);
  return w.take();
}

// An Execute body around one ROP buffer (Flags: NoCompression | NoXorMagic unless `compress`).
Bytes execute_body(const Bytes& rops, const std::vector<uint32_t>& handles, bool compress = false) {
  BinaryWriter payload;
  payload.u16(uint16_t(2 + rops.size()));
  payload.bytes(rops);
  for (uint32_t h : handles) payload.u32(h);
  BinaryWriter w;
  w.u32(compress ? 0 : 3);
  w.u32(uint32_t(8 + payload.size()));
  w.u16(0);
  w.u16(0x0004);  // Last
  w.u16(uint16_t(payload.size()));
  w.u16(uint16_t(payload.size()));
  w.bytes(payload.data());
  w.u32(0x10008);
  w.u32(0);
  return w.take();
}

// The ROP output of an Execute response: (rops, handles).
std::pair<Bytes, std::vector<uint32_t>> rop_output(const Bytes& body) {
  BinaryReader r(body);
  if (r.u32() != 0 || r.u32() != 0) throw std::runtime_error("Execute failed");
  r.u32();  // Flags
  const uint32_t size = r.u32();
  BinaryReader b(r.bytes(size));
  const uint16_t flags = (b.u16(), b.u16());
  if (flags & 0x0001) throw std::runtime_error("a compressed response where none was asked for");
  const uint16_t n = b.u16();
  b.u16();
  BinaryReader p(b.bytes(n));
  const uint16_t rop_size = p.u16();
  Bytes rops = p.copy(rop_size - 2);
  std::vector<uint32_t> handles;
  while (!p.at_end()) handles.push_back(p.u32());
  return {rops, handles};
}

Bytes logon_rop(const std::string& dn) {
  BinaryWriter w;
  w.u8(0xFE);
  w.u8(0);
  w.u8(0);
  w.u8(0x01);
  w.u32(0x0100000C);
  w.u32(0);
  w.u16(uint16_t(dn.size() + 1));
  w.str8z(dn);
  return w.take();
}

uint64_t wire_fid(uint64_t gc) {
  uint8_t b[8] = {0x01, 0x00, uint8_t(gc >> 40), uint8_t(gc >> 32), uint8_t(gc >> 24), uint8_t(gc >> 16), uint8_t(gc >> 8), uint8_t(gc)};
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | b[i];
  return v;
}

// The Execute of the issue: OpenFolder + GetContentsTable + SetColumns + QueryRows(50), and the
// Releases a client sends with it.
Bytes contents_rops(uint64_t inbox) {
  BinaryWriter w;
  w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(wire_fid(inbox)); w.u8(0);
  w.u8(0x05); w.u8(0); w.u8(1); w.u8(2); w.u8(0x10);  // NoNotifications (as a one-shot view)
  const uint32_t cols[] = {0x0037001F, 0x0C1A001F, 0x0E060040, 0x0E080003, 0x0E070003, 0x674A0014};
  w.u8(0x12); w.u8(0); w.u8(2); w.u8(0); w.u16(6);
  for (uint32_t c : cols) w.u32(c);
  w.u8(0x15); w.u8(0); w.u8(2); w.u8(0); w.u8(1); w.u16(50);
  w.u8(0x01); w.u8(0); w.u8(2);
  w.u8(0x01); w.u8(0); w.u8(1);
  return w.take();
}

struct Session {
  std::unique_ptr<Client> client;
  std::string cookie;
  uint32_t logon = 0;
};

Session open_session(asio::io_context& io, ssl::context& ctx, const std::string& port, const std::string& dn, bool logon = true) {
  Session s;
  s.client = std::make_unique<Client>(io, ctx, port);
  s.client->call("/mapi/emsmdb/", "Connect", connect_body(dn), "", &s.cookie);
  if (logon) {
    auto [rops, handles] = rop_output(s.client->call("/mapi/emsmdb/", "Execute", execute_body(logon_rop(dn), {0xFFFFFFFF}), s.cookie));
    if (rops.size() < 6 || rops[0] != 0xFE || rops[2] != 0) throw std::runtime_error("RopLogon failed");
    s.logon = handles.at(0);
  }
  return s;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string server_bin = OPENMAPI_BIN;
  double seconds = 5;
  long max_executes = 200000;
  int idle = 10000, waiters = 1000;
  std::vector<int> levels = {1, 4, 64};
  bool compress = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--seconds") seconds = std::stod(next());
    else if (a == "--max-executes") max_executes = std::stol(next());
    else if (a == "--idle") idle = std::stoi(next());
    else if (a == "--waiters") waiters = std::stoi(next());
    else if (a == "--server") server_bin = next();
    else if (a == "--compress") compress = true;
    else if (a == "--sessions") {
      levels.clear();
      std::stringstream s(next());
      std::string n;
      while (std::getline(s, n, ',')) levels.push_back(std::stoi(n));
    } else {
      std::printf("usage: mapi_load [--sessions 1,4,64] [--seconds 5] [--max-executes N] [--idle 10000] [--waiters 1000] [--compress] [--server PATH]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  const fs::path dir = fs::temp_directory_path() / ("openmapi-mapi-load-" + std::to_string(getpid()));
  fs::create_directories(dir);
  server::User user;
  {
    server::UserDirectory users(dir.string(), true);
    user = users.add(kUser, "Bench User", kPassword);
  }
  std::shared_ptr<store::Mailbox> mb = store::open_sqlite_mailbox(store::mailbox_file(dir.string(), user.mailbox));
  const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
  for (int i = 0; i < 200; ++i) {
    Message m;
    m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
    m.props.set(PropValue::string(tags::PidTagSubject, "Load message " + std::to_string(i)));
    m.props.set(PropValue::string(PropTag(0x0C1A, PropType::String), "Sender " + std::to_string(i % 17)));
    m.props.set(PropValue::time(PropTag(0x0E06, PropType::Time), 133000000000000000LL + int64_t(i) * 600000000LL));
    m.props.set(PropValue::i32(tags::PidTagMessageFlags, i % 3 ? 1 : 0));
    m.props.set(PropValue::string(tags::PidTagBody, std::string(1500, char('a' + i % 26))));
    mb->save_message(inbox, m);
  }
  // The defaults (2 io threads, log level info: one line per request), the log to a file.
  std::ofstream(dir / "serve.conf") << "threads = 2\nlog_file = " << (dir / "serve.log").string() << "\n";

  const openmapi::bench::ServeChild server = openmapi::bench::start_serve(server_bin, dir);
  const pid_t pid = server.pid;
  const std::string port = server.port;
  if (port.empty()) {
    std::fprintf(stderr, "the server did not start: %s\n", slurp(dir / "err").c_str());
    fs::remove_all(dir);
    return 1;
  }
  const std::string dn = server::user_legacy_dn("OpenMAPI", kUser);
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);  // loopback, the server's self-signed certificate
  int status = 0;
  try {
    std::printf("mapi_load: openmapi serve (2 io threads, a log line per request to a file), Inbox of 200 messages, %s\n",
                compress ? "responses LZ77-compressed" : "NoCompression | NoXorMagic");
    std::printf("\n1. Execute [OpenFolder + GetContentsTable + SetColumns(6) + QueryRows(50) + 2 x Release], %.0f s per level (at most %ld)\n",
                seconds, max_executes);
    std::printf("  %8s %12s %14s %16s %10s %10s\n", "sessions", "Executes", "Executes/s", "per server CPU-s", "p50 ms", "p99 ms");
    for (int n : levels) {
      std::vector<Session> sessions;
      for (int i = 0; i < n; ++i) sessions.push_back(open_session(io, ctx, port, dn));
      // The first answer is checked (uncompressed): QueryRows succeeded with 50 rows.
      {
        const std::vector<uint32_t> h = {sessions[0].logon, 0xFFFFFFFF, 0xFFFFFFFF};
        auto [rops, handles] = rop_output(sessions[0].client->call("/mapi/emsmdb/", "Execute", execute_body(contents_rops(inbox), h), sessions[0].cookie));
        const Bytes want_rows = {0x15, 2, 0, 0, 0, 0};
        auto at = std::search(rops.begin(), rops.end(), want_rows.begin(), want_rows.end());
        if (at == rops.end() || rops.end() - at < 9 || (at[7] | at[8] << 8) != 50) throw std::runtime_error("QueryRows did not answer 50 rows");
      }
      std::atomic<long> done{0};
      std::vector<std::vector<double>> lat(static_cast<size_t>(n));
      const double cpu0 = cpu_seconds(pid);
      const auto t0 = Clock::now();
      const auto until = t0 + std::chrono::duration<double>(seconds);
      std::vector<std::thread> threads;
      std::atomic<bool> failed{false};
      for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
          try {
            Session& s = sessions[size_t(i)];
            const Bytes mine = execute_body(contents_rops(inbox), {s.logon, 0xFFFFFFFF, 0xFFFFFFFF}, compress);
            while (Clock::now() < until && done.load() < max_executes) {
              const auto a = Clock::now();
              s.client->call("/mapi/emsmdb/", "Execute", mine, s.cookie);
              lat[size_t(i)].push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
              ++done;
            }
          } catch (const std::exception& e) {
            std::fprintf(stderr, "session %d: %s\n", i, e.what());
            failed = true;
          }
        });
      for (auto& t : threads) t.join();
      if (failed) throw std::runtime_error("a session failed");
      const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      const double cpu = cpu_seconds(pid) - cpu0;
      std::vector<double> all;
      for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
      std::printf("  %8d %12ld %14.0f %16.0f %10.2f %10.2f\n", n, done.load(), double(done.load()) / wall, double(done.load()) / std::max(cpu, 1e-9),
                  pct(all, 0.5), pct(all, 0.99));
    }
    std::printf("  Gromox 3.10 (the issue's figures, same Execute over TLS and keep-alive): 261/s with 1 client, 399/s with 4,\n"
                "  about 445-550 Executes per server CPU-second. Target: at least 5x Gromox per server CPU-second.\n");

    // 2. Idle sessions.
    if (idle > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const long rss0 = rss_kib(pid);
      const int conns = 8;
      std::vector<std::thread> threads;
      std::atomic<int> made{0};
      for (int c = 0; c < conns; ++c)
        threads.emplace_back([&] {
          Client cl(io, ctx, port);
          std::string cookie;
          while (made.fetch_add(1) < idle) cl.call("/mapi/emsmdb/", "Connect", connect_body(dn), "", &cookie);
        });
      for (auto& t : threads) t.join();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const long rss1 = rss_kib(pid);
      std::printf("\n2. %d idle sessions (Connect): server RSS %ld -> %ld KiB, %.2f KiB per session (Gromox: 15.4 KiB; target: at most 4 KiB)\n", idle, rss0,
                  rss1, double(rss1 - rss0) / idle);
    }

    // 3. Waiters.
    if (waiters > 0) {
      std::vector<Session> ws;
      const Bytes reg = [&] {
        BinaryWriter w;
        w.bytes(logon_rop(dn));
        w.u8(0x29); w.u8(0); w.u8(0); w.u8(1); w.u8(0x06); w.u8(0); w.u8(1);  // NewMail | ObjectCreated, whole store
        return w.take();
      }();
      const long rss0 = rss_kib(pid);
      for (int i = 0; i < waiters; ++i) {
        Session s;
        s.client = std::make_unique<Client>(io, ctx, port);
        s.client->call("/mapi/emsmdb/", "Connect", connect_body(dn), "", &s.cookie);
        auto [rops, handles] = rop_output(s.client->call("/mapi/emsmdb/", "Execute", execute_body(reg, {0xFFFFFFFF, 0xFFFFFFFF}), s.cookie));
        (void)rops;
        BinaryWriter nw;
        nw.u32(0);
        nw.u32(0);
        s.client->send("/mapi/emsmdb/", "NotificationWait", nw.data(), s.cookie);
        ws.push_back(std::move(s));
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const long rss1 = rss_kib(pid);
      const double cpu0 = cpu_seconds(pid);
      std::this_thread::sleep_for(std::chrono::seconds(3));
      const double idle_cpu = cpu_seconds(pid) - cpu0;
      Message m;
      m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
      m.props.set(PropValue::string(tags::PidTagSubject, "wake up"));
      const auto t0 = Clock::now();
      mb->save_message(inbox, m);
      int pending = 0;
      for (auto& s : ws) {
        Bytes b = s.client->receive();
        if (b.size() >= 12 && b[8] == 1) ++pending;
      }
      const double fan = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::printf("\n3. %d sessions in NotificationWait (each with a Logon and RopRegisterNotification): server RSS +%ld KiB (%.1f KiB each),\n"
                  "   server CPU while they wait %.3f s in 3 s; one message saved by another process: %d of %d answered EventPending 1,\n"
                  "   the last %.0f ms after the save (the server's change feed polls other processes' commits every 200 ms)\n",
                  waiters, rss1 - rss0, double(rss1 - rss0) / waiters, idle_cpu, pending, waiters, fan);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mapi_load: %s\nthe server's log ends:\n%s\n%s\n", e.what(), slurp(dir / "serve.log").substr(0, 4000).c_str(), slurp(dir / "err").substr(0, 6000).c_str());
    status = 1;
  }
  kill(pid, SIGTERM);
  int ws = 0;
  waitpid(pid, &ws, 0);
  mb.reset();
  fs::remove_all(dir);
  return status;
}
