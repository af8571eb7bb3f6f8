// `openmapi serve` as clients meet it: curl over loopback against the binary, TLS 1.2+ with the
// self-signed certificate it makes (verified by curl against that certificate), HTTP Basic
// against the users, POX Autodiscover answers that xmllint parses, limits, backoff, signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Out {
  int status = -1;
  std::string text;
};

Out sh(const std::string& cmd) {
  Out o;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  const int rc = p ? pclose(p) : -1;
  o.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return o;
}

const std::string kUser = "alice@example.com", kPassword = "s3cret pass";

std::string request_for(const std::string& address) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover "
         "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>" +
         address +
         "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
         "</AcceptableResponseSchema></Request></Autodiscover>";
}

class Serve : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-serve-" + std::to_string(rd()));
    fs::create_directories(dir);
    data = dir / "data";
    Out add = sh("printf '%s\\n' " + quote(kPassword) + " | " + quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) +
                 " user add Alice@Example.com --display-name 'Alice Example' --password-stdin");
    ASSERT_EQ(add.status, 0) << add.text;
  }
  void TearDown() override {
    stop();
    fs::remove_all(dir);
  }
  // Starts the server with `args`; waits (30 s at most) until it says where it listens.
  void start(const std::vector<std::string>& args = {"--listen", "https=127.0.0.1:0"}) {
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::vector<std::string> argv = {OPENMAPI_BIN, "--data-dir", data.string(), "serve"};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      FILE* out = freopen((dir / "out").c_str(), "w", stdout);
      FILE* err = freopen((dir / "err").c_str(), "w", stderr);
      (void)out;
      (void)err;
      execv(OPENMAPI_BIN, cargv.data());
      _exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::smatch m;
    while (std::chrono::steady_clock::now() < until) {
      const std::string err = slurp(dir / "err");
      static const std::regex re("listening on https://127\\.0\\.0\\.1:([0-9]+)");
      if (std::regex_search(err, m, re)) {
        port = m[1];
        return;
      }
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        FAIL() << "the server exited: " << err;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the server did not start: " << slurp(dir / "err");
  }
  // SIGTERM, then its exit status (-1 when it had to be killed).
  int stop() {
    if (pid <= 0) return 0;
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    pid = -1;
    return -1;
  }
  std::string url(const std::string& path = "/autodiscover/autodiscover.xml") const { return "https://127.0.0.1:" + port + path; }
  // curl against the server's own certificate (so TLS is verified, not skipped).
  std::string curl() const { return "curl -sS --max-time 30 --cacert " + quote((data / "tls" / "server.crt").string()) + " "; }
  std::string auth(const std::string& password = kPassword) const { return "-u " + quote(kUser + ":" + password) + " "; }
  // POSTs `body`; returns "<status>\n<body>".
  Out post(const std::string& body, const std::string& extra = "") const {
    std::ofstream(dir / "req.xml") << body;
    return sh(curl() + extra + " -H 'Content-Type: text/xml' --data-binary @" + quote((dir / "req.xml").string()) +
              " -w '\\n%{http_code}' " + quote(url()));
  }
  std::string xpath(const std::string& xml, const std::string& expr) const {
    std::ofstream(dir / "resp.xml") << xml;
    std::string out = sh("xmllint --xpath " + quote(expr) + " " + quote((dir / "resp.xml").string())).text;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  fs::path dir, data;
  pid_t pid = -1;
  std::string port;
};

// The body of an Out from post() (without the status line).
std::string body_of(const Out& o) { return o.text.substr(0, o.text.rfind('\n')); }
std::string status_of(const Out& o) { return o.text.substr(o.text.rfind('\n') + 1); }

}  // namespace

TEST_F(Serve, AutodiscoverTellsItsUserWhereTheMailboxIs) {
  start();
  // The certificate it made names the loopback address, and curl verifies it.
  Out san = sh("openssl x509 -noout -ext subjectAltName -in " + quote((data / "tls" / "server.crt").string()));
  EXPECT_NE(san.text.find("IP Address:127.0.0.1"), std::string::npos) << san.text;

  Out noauth = post(request_for(kUser));
  EXPECT_EQ(status_of(noauth), "401");
  Out head = sh(curl() + "-o /dev/null -D - " + quote(url()));
  EXPECT_NE(head.text.find("WWW-Authenticate: Basic realm=\"OpenMAPI\""), std::string::npos) << head.text;

  // A MAPI/HTTP client: the mapiHttp protocol with the EMSMDB and NSPI URLs of this server.
  Out r = post(request_for(kUser), auth() + "-H 'X-MapiHttpCapability: 1'");
  ASSERT_EQ(status_of(r), "200") << r.text;
  const std::string xml = body_of(r);
  EXPECT_EQ(sh("printf '%s' " + quote(xml) + " | xmllint --noout -").status, 0) << xml;
  auto text = [&](const std::string& e) { return xpath(xml, "string(" + e + ")"); };
  EXPECT_EQ(text("//*[local-name()='User']/*[local-name()='DisplayName']"), "Alice Example");
  EXPECT_EQ(text("//*[local-name()='AutoDiscoverSMTPAddress']"), "Alice@Example.com");
  EXPECT_EQ(text("//*[local-name()='LegacyDN']").rfind("/o=OpenMAPI/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=", 0), 0u);
  const std::string store = text("//*[local-name()='Protocol'][@Type='mapiHttp']/*[local-name()='MailStore']/*[local-name()='InternalUrl']");
  const std::string book = text("//*[local-name()='Protocol'][@Type='mapiHttp']/*[local-name()='AddressBook']/*[local-name()='ExternalUrl']");
  // Listening on loopback only, the server names itself localhost (in its certificate too).
  EXPECT_EQ(store.rfind("https://localhost:" + port + "/mapi/emsmdb/?MailboxId=", 0), 0u) << store;
  EXPECT_EQ(book.rfind("https://localhost:" + port + "/mapi/nspi/?MailboxId=", 0), 0u) << book;
  EXPECT_NE(store.find("@Example.com"), std::string::npos);
  EXPECT_EQ(text("//*[local-name()='Protocol'][*[local-name()='Type']='EXCH']/*[local-name()='ServerVersion']"), "73C0834F");

  // A client without X-MapiHttpCapability: EXCH and EXPR, no mapiHttp.
  Out old = post(request_for(kUser), auth());
  EXPECT_EQ(xpath(body_of(old), "count(//*[local-name()='Protocol'][@Type='mapiHttp'])"), "0");
  EXPECT_EQ(xpath(body_of(old), "count(//*[local-name()='Protocol'][*[local-name()='Type']='EXPR'])"), "1");
  // Another address, a request that is none, another schema: the error responses.
  auto error_code = [&](const Out& o) { return xpath(body_of(o), "string(//*[local-name()='Error']/*[local-name()='ErrorCode'])"); };
  EXPECT_EQ(error_code(post(request_for("bob@example.com"), auth())), "500");
  EXPECT_EQ(error_code(post("<nothing/>", auth())), "600");
  std::string other_schema = request_for(kUser);
  other_schema.replace(other_schema.find("outlook/responseschema/2006a"), 28, "mobilesync/responseschema/2006");
  EXPECT_EQ(error_code(post(other_schema, auth())), "603");
  // Method, path, endpoints not there yet.
  EXPECT_EQ(sh(curl() + auth() + "-o /dev/null -w '%{http_code}' " + quote(url())).text, "405");
  EXPECT_EQ(sh(curl() + auth() + "-o /dev/null -w '%{http_code}' " + quote(url("/nothing"))).text, "404");
  Out mapi = sh(curl() + auth() + "-D - -o /dev/null -H 'X-RequestType: Connect' --data x " + quote(url("/mapi/emsmdb/")));
  EXPECT_NE(mapi.text.find("501"), std::string::npos) << mapi.text;
  EXPECT_NE(mapi.text.find("X-ResponseCode: 3"), std::string::npos) << mapi.text;
  // One log line per request: address, user, request type, status, time.
  const std::string log = slurp(dir / "err");
  EXPECT_NE(log.find("127.0.0.1 Alice@Example.com Autodiscover 200 "), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1 - /autodiscover/autodiscover.xml 401 "), std::string::npos) << log;
  EXPECT_EQ(stop(), 0);
  EXPECT_NE(slurp(dir / "err").find("stopped"), std::string::npos);
}

TEST_F(Serve, OldTlsHugeBodiesAndGarbageAreRefused) {
  start();
  EXPECT_NE(sh(curl() + "--tlsv1.1 --tls-max 1.1 -o /dev/null " + quote(url())).status, 0);  // TLS 1.1: no handshake
  EXPECT_EQ(sh(curl() + "--tlsv1.3 -o /dev/null -w '%{http_code}' " + quote(url())).text, "401");
  EXPECT_EQ(sh(curl() + "--tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' " + quote(url())).text, "401");
  // A body claiming 4 GiB: refused at once, before anything is read or allocated for it.
  Out huge = sh(curl() + auth() + "-o /dev/null -w '%{http_code}' -H 'Content-Length: 4294967296' -X POST --data-binary x " + quote(url()));
  EXPECT_EQ(huge.text, "413");
  // Not HTTP at all, inside TLS: 400 and the connection closes.
  Out junk = sh("printf 'HELLO THERE\\r\\n\\r\\n' | timeout 20 openssl s_client -quiet -connect 127.0.0.1:" + port + " 2>/dev/null");
  EXPECT_NE(junk.text.find("400 Bad Request"), std::string::npos) << junk.text;
  // Malformed Basic credentials.
  EXPECT_EQ(sh(curl() + "-H 'Authorization: Basic %%%%' -o /dev/null -w '%{http_code}' " + quote(url())).text, "401");
  // Still serving.
  EXPECT_EQ(status_of(post(request_for(kUser), auth())), "200");
}

TEST_F(Serve, RepeatedFailuresAreSlowedDownAndLogged) {
  start();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(status_of(post(request_for(kUser), auth("wrong"))), "401");
  // The fourth failure in a row waits at least half a second (a lower bound: slowness cannot fail it).
  Out slow = sh(curl() + auth("wrong") + "-o /dev/null -w '%{http_code} %{time_total}' " + quote(url()));
  ASSERT_EQ(slow.text.substr(0, 3), "401") << slow.text;
  EXPECT_GE(std::stod(slow.text.substr(4)), 0.45) << slow.text;
  EXPECT_NE(slurp(dir / "err").find("authentication failed for 'alice@example.com'"), std::string::npos);
  // The right password still works (held back as long, so it tells nothing), and resets the count.
  EXPECT_EQ(status_of(post(request_for(kUser), auth())), "200");
  Out fast = sh(curl() + auth("wrong") + "-o /dev/null -w '%{http_code} %{time_total}' " + quote(url()));
  EXPECT_EQ(fast.text.substr(0, 3), "401");
}

TEST_F(Serve, AConfigFileSetsListenersAndLogsAndBadKeysAreNamed) {
  const fs::path log = dir / "serve.log";
  std::ofstream(dir / "openmapi.conf") << "# test configuration\nlisten = https=127.0.0.1:0\nlog_file = " << log.string()
                                       << "\nmax_request_body = 1000\n";
  // The listening line goes to the log file; start() reads stderr, so watch the file here.
  pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(OPENMAPI_BIN, OPENMAPI_BIN, "--data-dir", data.c_str(), "serve", "--config", (dir / "openmapi.conf").c_str(), nullptr);
    _exit(127);
  }
  std::smatch m;
  for (int i = 0; i < 600 && port.empty(); ++i) {
    const std::string text = slurp(log);
    static const std::regex re("listening on https://127\\.0\\.0\\.1:([0-9]+)");
    if (std::regex_search(text, m, re)) port = m[1];
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(port.empty()) << slurp(log);
  // max_request_body = 1000: a 2000-byte body is too large.
  EXPECT_EQ(status_of(post(std::string(2000, 'x'), auth())), "413");
  EXPECT_EQ(status_of(post(request_for(kUser), auth())), "200");
  EXPECT_EQ(stop(), 0);
  EXPECT_NE(slurp(log).find("Autodiscover 200"), std::string::npos);

  std::ofstream(dir / "bad.conf") << "listen = https=127.0.0.1:0\nlisten_port = 8443\n";
  Out bad = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " serve --config " + quote((dir / "bad.conf").string()));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.text.find("MAPI_E_INVALID_PARAMETER"), std::string::npos) << bad.text;
  EXPECT_NE(bad.text.find("bad.conf:2: unknown key 'listen_port'"), std::string::npos) << bad.text;
  Out proto = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " serve --listen imap=127.0.0.1:143");
  EXPECT_NE(proto.status, 0);
  EXPECT_NE(proto.text.find("MAPI_E_INVALID_PARAMETER"), std::string::npos) << proto.text;
}
