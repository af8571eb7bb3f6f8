// `openmapi serve` as clients meet it: curl over loopback against the binary, TLS 1.2+ with the
// self-signed certificate it makes (verified by curl against that certificate), HTTP Basic
// against the users, POX Autodiscover answers that xmllint parses, limits, backoff, signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "core/bytes.h"
#include "core/propbag.h"
#include "store/data_dir.h"
#include "store/store.h"
#include "serve_util.h"

namespace fs = std::filesystem;

namespace {

using openmapi::testing::Out;
using openmapi::testing::quote;
using openmapi::testing::sh;
using openmapi::testing::slurp;

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
    std::string why;
    ASSERT_TRUE(server.start(dir, data, args, {"https"}, why)) << why;
    pid = server.pid();
    port = server.port("https");
  }
  // SIGTERM, then its exit status (-1 when it had to be killed).
  int stop() {
    pid = -1;
    return server.stop();
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
  openmapi::testing::ServerProcess server;
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
  // Method, path, a malformed NSPI body.
  EXPECT_EQ(sh(curl() + auth() + "-o /dev/null -w '%{http_code}' " + quote(url())).text, "405");
  EXPECT_EQ(sh(curl() + auth() + "-o /dev/null -w '%{http_code}' " + quote(url("/nothing"))).text, "404");
  Out nspi = sh(curl() + auth() + "-D - -o /dev/null -H 'X-RequestType: Bind' -H 'X-RequestId: {1}:1' --data x " + quote(url("/mapi/nspi/")));  // a body cut short
  EXPECT_NE(nspi.text.find("X-ResponseCode: 12"), std::string::npos) << nspi.text;  // invalid request body
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
  server.adopt(pid);
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
  Out proto = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " serve --listen nntp=127.0.0.1:119");
  EXPECT_NE(proto.status, 0);
  EXPECT_NE(proto.text.find("MAPI_E_INVALID_PARAMETER"), std::string::npos) << proto.text;
}

namespace {
// A response of the MAPI/HTTP endpoint: headers and the binary body after the meta-tags.
struct MapiReply {
  std::string headers;
  std::string meta;  // PROCESSING ... up to the empty line
  std::string body;
  std::string header(const std::string& name) const {
    std::smatch m;
    std::regex re("(^|\r\n)" + name + ": ([^\r]*)", std::regex::icase);
    return std::regex_search(headers, m, re) ? std::string(m[2]) : std::string();
  }
  uint32_t u32(size_t at) const {
    return uint32_t(uint8_t(body[at])) | uint32_t(uint8_t(body[at + 1])) << 8 | uint32_t(uint8_t(body[at + 2])) << 16 |
           uint32_t(uint8_t(body[at + 3])) << 24;
  }
};

std::string le32(uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }
}  // namespace

class Emsmdb : public Serve {
 protected:
  // A MAPI/HTTP request to EMSMDB with the session cookie `cookie` (its value).
  MapiReply mapi(const std::string& type, const std::string& body, const std::string& cookie = "", int id = 1) {
    return mapi_at(url("/mapi/emsmdb/?MailboxId=x@example.com"), type, body, cookie.empty() ? "" : "MapiContext=" + cookie, id);
  }
  // A MAPI/HTTP request to `target` (either endpoint) with a whole Cookie header value.
  MapiReply mapi_at(const std::string& target, const std::string& type, const std::string& body, const std::string& cookie, int id = 1) {
    std::ofstream(dir / "mapi.bin", std::ios::binary) << body;
    std::string cmd = curl() + auth() + "-o " + quote((dir / "mapi.out").string()) + " -D " + quote((dir / "mapi.head").string()) +
                      " -H 'Content-Type: application/mapi-http' -H 'X-RequestType: " + type + "' -H 'X-RequestId: {8A5D2F35-0001}:" +
                      std::to_string(id) + "' -H 'X-ClientInfo: {C0FFEE00-0000}:1' -H 'X-ClientApplication: Outlook/16.0.0.0'";
    if (!cookie.empty()) cmd += " -H " + quote("Cookie: " + cookie);
    cmd += " --data-binary @" + quote((dir / "mapi.bin").string()) + " " + quote(target);
    Out o = sh(cmd);
    EXPECT_EQ(o.status, 0) << o.text;
    MapiReply r;
    r.headers = slurp(dir / "mapi.head");
    const std::string all = slurp(dir / "mapi.out");
    const size_t end = all.find("\r\n\r\n");
    if (all.rfind("PROCESSING\r\n", 0) == 0 && end != std::string::npos) {
      r.meta = all.substr(0, end + 2);
      r.body = all.substr(end + 4);
    } else {
      r.body = all;
    }
    return r;
  }
  std::string legacy_dn() {
    Out r = post(request_for(kUser), auth());
    return xpath(body_of(r), "string(//*[local-name()='LegacyDN'])");
  }
  static std::string connect_body(const std::string& dn) { return dn + std::string(1, '\0') + le32(0) + le32(1252) + le32(0x409) + le32(0x409) + le32(0); }
  // An Execute body around `rops` with handle table `handles`; NoCompression, so the reply's
  // buffer can be read as it is.
  static std::string execute_with(const std::string& rops, const std::vector<uint32_t>& handles) {
    std::string payload = std::string{char(2 + rops.size()), char((2 + rops.size()) >> 8)} + rops;
    for (uint32_t h : handles) payload += le32(h);
    const std::string header = std::string("\x00\x00\x04\x00", 4) + std::string{char(payload.size()), char(payload.size() >> 8)} +
                               std::string{char(payload.size()), char(payload.size() >> 8)};
    return le32(1) + le32(uint32_t(header.size() + payload.size())) + header + payload + le32(0x10008) + le32(0);
  }
  // The ROP responses of an Execute reply made with execute_with (one uncompressed buffer).
  static std::string rops_of(const MapiReply& r) {
    if (r.body.size() < 16 + 8 + 2) return {};
    const uint32_t rop_size = uint32_t(uint8_t(r.body[24])) | uint32_t(uint8_t(r.body[25])) << 8;
    return r.body.substr(26, rop_size - 2);
  }
  static std::string logon_rop(const std::string& dn) {
    std::string logon = std::string("\xFE\x00\x00\x01", 4) + le32(0x0100000C) + le32(0);
    logon += char(dn.size() + 1);
    logon += char(0);
    return logon + dn + std::string(1, '\0');
  }
  std::string cookie_of(const MapiReply& c) {
    std::smatch m;
    const std::string sc = c.header("Set-Cookie");
    return std::regex_search(sc, m, std::regex("^MapiContext=([0-9a-f]+);")) ? std::string(m[1]) : std::string();
  }
  static std::string execute_body() {
    // RopBuffer: one RPC_HEADER_EXT (Last) around RopSize 2 and an empty handle table.
    const std::string rop = std::string("\x00\x00\x04\x00\x02\x00\x02\x00\x02\x00", 10);
    return le32(0) + le32(uint32_t(rop.size())) + rop + le32(0x10008) + le32(0);
  }
};

TEST_F(Emsmdb, ConnectExecuteDisconnectWithASessionCookie) {
  start();
  const std::string dn = legacy_dn();
  ASSERT_FALSE(dn.empty());
  MapiReply c = mapi("Connect", connect_body(dn));
  ASSERT_LT(dn.size(), 250u);
  EXPECT_EQ(c.header("X-ResponseCode"), "0") << c.headers;
  EXPECT_EQ(c.header("X-RequestType"), "Connect");
  EXPECT_EQ(c.header("X-RequestId"), "{8A5D2F35-0001}:1");  // echoed
  EXPECT_EQ(c.header("X-ClientInfo"), "{C0FFEE00-0000}:1");
  EXPECT_EQ(c.header("Content-Type"), "application/mapi-http");
  EXPECT_FALSE(c.header("X-ExpirationInfo").empty());
  EXPECT_EQ(c.meta.rfind("PROCESSING\r\nDONE\r\nX-ElapsedTime: ", 0), 0u) << c.meta;
  EXPECT_NE(c.meta.find("\r\nX-StartTime: "), std::string::npos);
  std::smatch m;
  const std::string set_cookie = c.header("Set-Cookie");
  ASSERT_TRUE(std::regex_search(set_cookie, m, std::regex("^MapiContext=([0-9a-f]+);"))) << set_cookie;
  const std::string cookie = m[1];
  // StatusCode, ErrorCode 0; PollsMax, RetryCount, RetryDelay; the DN prefix; "Alice Example" in UTF-16LE.
  ASSERT_GE(c.body.size(), 20u);
  EXPECT_EQ(c.u32(0), 0u);
  EXPECT_EQ(c.u32(4), 0u);
  EXPECT_EQ(c.u32(8), 60000u);
  const std::string prefix = "/o=OpenMAPI/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)";
  EXPECT_EQ(c.body.substr(20, prefix.size() + 1), prefix + std::string(1, '\0'));
  EXPECT_EQ(c.body.substr(20 + prefix.size() + 1, 4), std::string("A\0l\0", 4));

  // Execute in the session: an empty ROP list, then a RopLogon (LogonId 0x0C) whose handle the
  // next Execute finds again.
  MapiReply e = mapi("Execute", execute_body(), cookie, 2);
  EXPECT_EQ(e.header("X-ResponseCode"), "0") << e.headers << e.body;
  ASSERT_GE(e.body.size(), 16u);
  EXPECT_EQ(e.u32(0), 0u);   // StatusCode
  EXPECT_EQ(e.u32(4), 0u);   // ErrorCode
  EXPECT_EQ(e.u32(12), 10u); // RopBufferSize: RPC_HEADER_EXT (8) + RopSize (2), no ROPs
  std::string logon = std::string("\xFE\x0C\x00\x01", 4) + le32(0x0100000C) + le32(0);
  logon += char(dn.size() + 1);
  logon += char(0);
  logon += dn + std::string(1, '\0');
  std::string payload = std::string{char(2 + logon.size()), char((2 + logon.size()) >> 8)} + logon + le32(0xFFFFFFFF);
  std::string header = std::string("\x00\x00\x04\x00", 4) + std::string{char(payload.size()), char(payload.size() >> 8)} +
                       std::string{char(payload.size()), char(payload.size() >> 8)};
  MapiReply l = mapi("Execute", le32(0) + le32(uint32_t(header.size() + payload.size())) + header + payload + le32(0x10008) + le32(0), cookie, 3);
  ASSERT_EQ(l.header("X-ResponseCode"), "0") << l.headers;
  ASSERT_EQ(l.u32(4), 0u);
  const uint32_t rop_size = l.u32(12);
  const std::string rops = l.body.substr(16, rop_size);
  ASSERT_GE(rops.size(), 8u + 2 + 6 + 4);
  EXPECT_EQ(rops.substr(8 + 2, 6), std::string("\xFE\x00\x00\x00\x00\x00", 6));          // RopLogon ok
  EXPECT_EQ(rops.substr(rops.size() - 4), std::string("\x00\x00\x00\x0C", 4));              // handle 0x0C000000
  EXPECT_EQ(mapi("PING", "", cookie).header("X-ResponseCode"), "0");
  MapiReply d = mapi("Disconnect", le32(0), cookie);
  EXPECT_EQ(d.header("X-ResponseCode"), "0");
  EXPECT_EQ(d.body, le32(0) + le32(0) + le32(0));
  // The context is gone.
  EXPECT_EQ(mapi("Execute", execute_body(), cookie).header("X-ResponseCode"), "10");
}

TEST_F(Emsmdb, WrongContextsTypesAndBodiesGetTheirResponseCodes) {
  start();
  EXPECT_EQ(mapi("Execute", execute_body()).header("X-ResponseCode"), "13");                    // no cookie
  EXPECT_EQ(mapi("Execute", execute_body(), "0123abcd").header("X-ResponseCode"), "10");        // unknown context
  EXPECT_EQ(mapi("NotARequest", "").header("X-ResponseCode"), "5");
  EXPECT_EQ(mapi("Connect", "no terminator").header("X-ResponseCode"), "12");
  // Someone else's DN: refused in the body, and no context is made.
  MapiReply other = mapi("Connect", connect_body("/o=OpenMAPI/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=bob"));
  EXPECT_EQ(other.header("X-ResponseCode"), "0");
  EXPECT_EQ(other.u32(4), 0x80070005u);
  EXPECT_TRUE(other.header("Set-Cookie").empty());
  // A good session, then an Execute body that lies about its sizes: 12, and the session survives.
  MapiReply c = mapi("Connect", connect_body(legacy_dn()));
  std::smatch m;
  const std::string sc = c.header("Set-Cookie");
  ASSERT_TRUE(std::regex_search(sc, m, std::regex("^MapiContext=([0-9a-f]+);")));
  const std::string cookie = m[1];
  EXPECT_EQ(mapi("Execute", le32(0) + le32(0x7FFFFFFF) + "xx", cookie).header("X-ResponseCode"), "12");
  EXPECT_EQ(mapi("Execute", execute_body(), cookie).header("X-ResponseCode"), "0");
  // A session belongs to its user: another user with the cookie gets 11.
  Out add = sh("printf 'bob pw\\n' | " + quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " user add bob@example.com --password-stdin");
  ASSERT_EQ(add.status, 0) << add.text;
  std::ofstream(dir / "mapi.bin", std::ios::binary) << execute_body();
  Out bob = sh(curl() + "-u 'bob@example.com:bob pw' -D - -o /dev/null -H 'X-RequestType: Execute' -H 'X-RequestId: {1}:1' -H " +
               quote("Cookie: MapiContext=" + cookie) + " --data-binary @" + quote((dir / "mapi.bin").string()) + " " + quote(url("/mapi/emsmdb/")));
  EXPECT_NE(bob.text.find("X-ResponseCode: 11"), std::string::npos) << bob.text;
}

TEST_F(Emsmdb, NotificationWaitReturnsWhenMailArrivesThroughAnotherDoor) {
  start();
  const std::string dn = legacy_dn();
  const std::string cookie = cookie_of(mapi("Connect", connect_body(dn)));
  ASSERT_FALSE(cookie.empty());
  // RopLogon into slot 0, RopRegisterNotification (NewMail | ObjectCreated, whole store) into 1.
  const std::string reg = std::string("\x29\x00\x00\x01\x06\x00\x01", 7);
  MapiReply l = mapi("Execute", execute_with(logon_rop(dn) + reg, {0xFFFFFFFF, 0xFFFFFFFF}), cookie, 2);
  ASSERT_EQ(l.header("X-ResponseCode"), "0") << l.headers;
  const std::string rops = rops_of(l);
  ASSERT_GT(rops.size(), 6u);
  EXPECT_EQ(rops.substr(rops.size() - 6), std::string("\x29\x01\x00\x00\x00\x00", 6));  // registered

  // A NotificationWait in flight while the CLI, another process, puts a message into the Inbox.
  auto wait = std::async(std::launch::async, [&] {
    std::string cmd = curl() + auth() + "-o " + quote((dir / "wait.out").string()) + " -D " + quote((dir / "wait.head").string()) +
                      " -H 'Content-Type: application/mapi-http' -H 'X-RequestType: NotificationWait' -H 'X-RequestId: {8A5D2F35-0002}:1'" +
                      " -H " + quote("Cookie: MapiContext=" + cookie) + " --data-binary @" + quote((dir / "wait.bin").string()) + " " +
                      quote(url("/mapi/emsmdb/"));
    std::ofstream(dir / "wait.bin", std::ios::binary) << le32(0) + le32(0);
    return sh(cmd);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Out users = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " user ls --json");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(users.text, m, std::regex("\"mailbox\": ?\"([^\"]+)\""))) << users.text;
  std::ofstream(dir / "new.eml") << "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: ping\r\n\r\nhello\r\n";
  Out imp = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " import message -m " + quote(m[1]) + " " + quote((dir / "new.eml").string()));
  ASSERT_EQ(imp.status, 0) << imp.text;
  Out waited = wait.get();
  ASSERT_EQ(waited.status, 0) << waited.text;
  const std::string all = slurp(dir / "wait.out");
  const size_t end = all.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << all;
  EXPECT_EQ(all.rfind("PROCESSING\r\n", 0), 0u);
  const std::string body = all.substr(end + 4);
  ASSERT_EQ(body.size(), 16u);
  EXPECT_EQ(body.substr(8, 4), le32(1));  // EventPending: before the 25-second limit, because of the mail
  EXPECT_NE(slurp(dir / "wait.head").find("X-ResponseCode: 0"), std::string::npos);

  // The next Execute brings the notifications: RopNotify for handle 0x00000001, LogonId 0,
  // NewMail on a message (0x8002), then the Inbox's id and the message's.
  MapiReply n = mapi("Execute", execute_with("", {0x00000000, 0x00000001}), cookie, 3);
  const std::string notes = rops_of(n);
  ASSERT_GE(notes.size(), 6u + 2 + 16) << n.body.size();
  EXPECT_EQ(notes.substr(0, 8), std::string("\x2A\x01\x00\x00\x00\x00\x02\x80", 8));
  EXPECT_NE(notes.find(std::string("I\0P\0M\0.\0N\0o\0t\0e\0\0\0", 18)), std::string::npos);  // its class
  EXPECT_NE(notes.find(std::string("\x2A\x01\x00\x00\x00\x00\x04\x80", 8)), std::string::npos);  // ObjectCreated too
}

TEST_F(Emsmdb, TheAddressBookBindsAndResolvesNamesOverHttps) {
  start();
  // MS-OXCMAPIHTTP Bind: Flags, HasState 0xFF + STAT (CodePage 1252, locales 0x409), no auxiliary buffer.
  const std::string stat = le32(0) + le32(0) + le32(0) + le32(0) + le32(0) + le32(0) + le32(1252) + le32(0x409) + le32(0x409);
  auto nspi = [&](const std::string& type, const std::string& body, const std::string& cookie) {
    return mapi_at(url("/mapi/nspi/?MailboxId=x@example.com"), type, body, cookie);
  };
  MapiReply bind = nspi("Bind", le32(0) + "\xFF" + stat + le32(0), "");
  ASSERT_EQ(bind.header("X-ResponseCode"), "0") << bind.headers;
  std::smatch m;
  const std::string sc = bind.header("Set-Cookie");
  ASSERT_TRUE(std::regex_search(sc, m, std::regex("^(NspiContext=[0-9a-f]+);"))) << sc;
  const std::string cookie = m[1];
  ASSERT_EQ(bind.body.size(), 4u + 4 + 16 + 4);
  EXPECT_EQ(bind.u32(0), 0u);
  EXPECT_EQ(bind.u32(4), 0u);
  // ResolveNames "alice" with PidTagSmtpAddress: resolved, and the row says the address.
  std::string names = le32(1);
  for (char ch : std::string("alice")) names += std::string{ch, '\0'};
  names += std::string(2, '\0');
  MapiReply res = nspi("ResolveNames", le32(0) + "\xFF" + stat + "\xFF" + le32(1) + le32(0x39FE001F) + "\xFF" + names + le32(0), cookie);
  ASSERT_EQ(res.header("X-ResponseCode"), "0") << res.headers;
  EXPECT_EQ(res.u32(4), 0u);                 // ErrorCode
  EXPECT_EQ(res.body.substr(12, 1), "\xFF");  // HasMinimalIds
  EXPECT_EQ(res.u32(13), 1u);
  EXPECT_EQ(res.u32(17), 2u);                // MID_RESOLVED
  std::string address;
  for (char ch : std::string("Alice@Example.com")) address += std::string{ch, '\0'};
  EXPECT_NE(res.body.find(address), std::string::npos);
  MapiReply unbind = nspi("Unbind", le32(0) + le32(0), cookie);
  EXPECT_EQ(unbind.header("X-ResponseCode"), "0");
  EXPECT_EQ(unbind.u32(4), 1u);  // UnbindSuccess
  EXPECT_EQ(nspi("QueryColumns", le32(0) + le32(0) + le32(0), cookie).header("X-ResponseCode"), "10");
}

namespace {
std::string str(const openmapi::Bytes& b) { return std::string(b.begin(), b.end()); }
openmapi::Bytes bytes(const std::string& s) { return openmapi::Bytes(s.begin(), s.end()); }
}  // namespace

// An Outlook-like first start, every step over HTTPS with curl and bodies built from the specs:
// Autodiscover, NSPI Bind and name resolution, Connect, Logon, the receive folder, the special
// folders' entry IDs, the hierarchy table, the Inbox's contents table with the columns Outlook
// asks for, a message with an attachment read through a stream, a message created and
// submitted, and new mail told through NotificationWait.
TEST_F(Emsmdb, AnOutlookLikeFirstStartEndToEnd) {
  using openmapi::BinaryReader;
  using openmapi::BinaryWriter;
  // A message with an attachment in the Inbox, imported by the CLI before the server starts.
  std::ofstream(dir / "with-file.eml") << "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: the report\r\n"
                                          "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <report@example.com>\r\n"
                                          "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
                                          "--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                                          "--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"r.bin\"\r\n"
                                          "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b1--\r\n";
  Out imp = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " import message -m alice@example.com " + quote((dir / "with-file.eml").string()));
  ASSERT_EQ(imp.status, 0) << imp.text;
  start();

  // 1. Autodiscover with the MAPI/HTTP capability: the two URLs and the LegacyDN.
  Out ad = post(request_for(kUser), auth() + "-H 'X-MapiHttpCapability: 1'");
  const std::string xml = body_of(ad);
  const std::string dn = xpath(xml, "string(//*[local-name()='LegacyDN'])");
  const std::string mailstore = xpath(xml, "string(//*[local-name()='MailStore']/*[local-name()='InternalUrl'])");
  const std::string abook = xpath(xml, "string(//*[local-name()='AddressBook']/*[local-name()='InternalUrl'])");
  ASSERT_FALSE(dn.empty()) << xml;
  EXPECT_NE(mailstore.find("/mapi/emsmdb/?MailboxId="), std::string::npos) << xml;
  EXPECT_NE(abook.find("/mapi/nspi/?MailboxId="), std::string::npos) << xml;

  // 2. NSPI: Bind, then DNToMId of the LegacyDN and GetProps of the user's display name.
  auto nspi = [&](const std::string& type, const BinaryWriter& body, const std::string& cookie, std::string* set_cookie = nullptr) {
    MapiReply r = mapi_at(abook, type, str(body.data()), cookie);
    EXPECT_EQ(r.header("X-ResponseCode"), "0") << type << r.headers;
    std::smatch m;
    const std::string sc = r.header("Set-Cookie");
    if (set_cookie && std::regex_search(sc, m, std::regex("^(NspiContext=[0-9a-f]+);"))) *set_cookie = m[1];
    return bytes(r.body);
  };
  auto stat = [](BinaryWriter& w, uint32_t current) {
    w.u8(0xFF);
    for (uint32_t v : {0u, 0u, current, 0u, 0u, 0u, 1252u, 0x409u, 0x409u}) w.u32(v);
  };
  std::string ab_cookie;
  {
    BinaryWriter b;
    b.u32(0);
    stat(b, 0);
    b.u32(0);
    nspi("Bind", b, "", &ab_cookie);
  }
  ASSERT_FALSE(ab_cookie.empty());
  uint32_t mid = 0;
  {
    BinaryWriter d;
    d.u32(0);
    d.u8(0xFF);
    d.u32(1);
    d.str8z(dn);
    d.u32(0);
    const openmapi::Bytes got = nspi("DNToMId", d, ab_cookie);
    BinaryReader r(got);
    r.skip(8);
    ASSERT_EQ(r.u8(), 0xFF);
    ASSERT_EQ(r.u32(), 1u);
    mid = r.u32();
    ASSERT_GE(mid, 0x10u);
  }
  {
    BinaryWriter g;
    g.u32(0);
    stat(g, mid);
    g.u8(0xFF);
    g.u32(1);
    g.u32(0x3001001F);
    g.u32(0);
    const openmapi::Bytes got = nspi("GetProps", g, ab_cookie);
    BinaryReader r(got);
    EXPECT_EQ(r.u32(), 0u);
    EXPECT_EQ(r.u32(), 0u);
    r.u32();
    ASSERT_EQ(r.u8(), 0xFF);
    ASSERT_EQ(r.u32(), 1u);
    EXPECT_EQ(r.u32(), 0x3001001Fu);
    EXPECT_EQ(r.u8(), 0xFF);
    EXPECT_EQ(r.utf16z(), "Alice Example");
  }

  // 3. EMSMDB: Connect with the LegacyDN; then Execute after Execute on its handles.
  const std::string cookie = cookie_of(mapi("Connect", connect_body(dn)));
  ASSERT_FALSE(cookie.empty());
  int request = 10;
  auto execute = [&](const BinaryWriter& rops, std::vector<uint32_t>& handles) {
    MapiReply r = mapi("Execute", execute_with(str(rops.data()), handles), cookie, ++request);
    EXPECT_EQ(r.header("X-ResponseCode"), "0") << r.headers;
    const std::string out = rops_of(r);
    // The handle table comes after the ROP responses.
    const size_t table = 26 + out.size();
    for (size_t i = 0; i < handles.size() && table + 4 * i + 4 <= r.body.size(); ++i) handles[i] = r.u32(table + 4 * i);
    return bytes(out);
  };
  auto header = [](BinaryReader& r, uint8_t rop, uint8_t index) {
    EXPECT_EQ(r.u8(), rop);
    EXPECT_EQ(r.u8(), index);
    EXPECT_EQ(r.u32(), 0u) << "RopId " << int(rop);
  };
  std::vector<uint32_t> h(8, 0xFFFFFFFF);
  uint64_t inbox = 0;
  openmapi::Bytes subtree_eid;
  std::vector<uint64_t> fids;  // the Logon's special folders (MS-OXCROPS 2.2.3.1.2 order)
  {
    BinaryWriter w;
    w.bytes(bytes(logon_rop(dn)));
    w.u8(0x27); w.u8(0); w.u8(0); w.str8z("IPM.Note");  // RopGetReceiveFolder
    w.u8(0x07); w.u8(0); w.u8(0); w.u16(0); w.u16(1); w.u16(3);  // the store's special-folder entry IDs
    w.u32(0x35E00102); w.u32(0x35E20102); w.u32(0x35E40102);
    const openmapi::Bytes got = execute(w, h);
    BinaryReader r(got);
    header(r, 0xFE, 0);
    r.skip(1);
    for (int i = 0; i < 13; ++i) fids.push_back(r.u64());
    r.skip(1 + 16 + 2 + 16 + 8 + 8 + 4);
    header(r, 0x27, 0);
    inbox = r.u64();
    EXPECT_EQ(inbox, fids[4]);  // the Inbox of the logon's answer
    r.str8z();
    header(r, 0x07, 0);
    EXPECT_EQ(r.u8(), 0x00);  // all three there
    for (int i = 0; i < 3; ++i) {
      openmapi::Bytes eid = r.copy(r.u16());
      EXPECT_EQ(eid.size(), 46u);  // MS-OXCDATA 2.2.4.1 Folder EntryID
      if (i == 0) subtree_eid = eid;
    }
  }
  ASSERT_EQ(h[0], 0u);
  // 4. The hierarchy under the IPM subtree: the folder its entry ID names (the global counter
  // at offset 38 of the Folder EntryID is the one in the Logon's fourth folder id).
  ASSERT_EQ(subtree_eid.size(), 46u);
  {
    const uint64_t subtree = fids[3];
    for (int i = 0; i < 6; ++i) EXPECT_EQ(subtree_eid[size_t(38 + i)], uint8_t(subtree >> (16 + 8 * i))) << i;
    BinaryWriter w;
    w.u8(0x02); w.u8(0); w.u8(0); w.u8(1); w.u64(subtree); w.u8(0);  // OpenFolder into 1, its hierarchy table into 2
    w.u8(0x04); w.u8(0); w.u8(1); w.u8(2); w.u8(0x00);
    w.u8(0x12); w.u8(0); w.u8(2); w.u8(0); w.u16(3); w.u32(0x3001001F); w.u32(0x36020003); w.u32(0x3613001F);
    w.u8(0x15); w.u8(0); w.u8(2); w.u8(0); w.u8(1); w.u16(100);
    const openmapi::Bytes got = execute(w, h);
    BinaryReader r(got);
    header(r, 0x02, 1);
    r.skip(2);
    header(r, 0x04, 2);
    const uint32_t rows = r.u32();
    EXPECT_GE(rows, 5u);
    header(r, 0x12, 2);
    r.u8();
    header(r, 0x15, 2);
    r.u8();
    const uint16_t n = r.u16();
    EXPECT_EQ(n, rows);
    bool saw_inbox = false;
    for (uint16_t i = 0; i < n; ++i) {
      const uint8_t flag = r.u8();
      std::string name;
      for (int c = 0; c < 3; ++c) {
        if (flag == 0x01 && r.u8() == 0x0A) {
          r.u32();
          continue;
        }
        if (c == 0) name = r.utf16z();
        else if (c == 1) r.u32();
        else r.utf16z();
      }
      saw_inbox = saw_inbox || name == "Inbox";
    }
    EXPECT_TRUE(saw_inbox);
  }
  // 5. The Inbox's contents table with Outlook's columns, newest first; the message found.
  uint64_t message = 0;
  {
    BinaryWriter w;
    w.u8(0x02); w.u8(0); w.u8(0); w.u8(3); w.u64(inbox); w.u8(0);
    w.u8(0x05); w.u8(0); w.u8(3); w.u8(4); w.u8(0x00);
    w.u8(0x12); w.u8(0); w.u8(4); w.u8(0); w.u16(4); w.u32(0x674A0014); w.u32(0x0037001F); w.u32(0x0E1B000B); w.u32(0x0E060040);
    w.u8(0x13); w.u8(0); w.u8(4); w.u8(0); w.u16(1); w.u16(0); w.u16(0); w.u32(0x0E060040); w.u8(0x01);  // delivery time, descending
    w.u8(0x15); w.u8(0); w.u8(4); w.u8(0); w.u8(1); w.u16(50);
    const openmapi::Bytes got = execute(w, h);
    BinaryReader r(got);
    header(r, 0x02, 3);
    r.skip(2);
    header(r, 0x05, 4);
    EXPECT_EQ(r.u32(), 1u);
    header(r, 0x12, 4);
    r.u8();
    header(r, 0x13, 4);
    r.u8();
    header(r, 0x15, 4);
    r.u8();
    ASSERT_EQ(r.u16(), 1);
    ASSERT_EQ(r.u8(), 0x00);
    message = r.u64();
    EXPECT_EQ(r.utf16z(), "the report");
    EXPECT_EQ(r.u8(), 1);  // PidTagHasAttachments
    r.u64();
  }
  // 6. Open it, its attachment table, the attachment, its data through a stream.
  {
    BinaryWriter w;
    w.u8(0x03); w.u8(0); w.u8(3); w.u8(5); w.u16(0x0FFF); w.u64(inbox); w.u8(0); w.u64(message);
    w.u8(0x22); w.u8(0); w.u8(5); w.u8(6); w.u8(0); w.u32(0);                                  // OpenAttachment 0
    w.u8(0x2B); w.u8(0); w.u8(6); w.u8(7); w.u32(0x37010102); w.u8(0);                       // OpenStream
    w.u8(0x2C); w.u8(0); w.u8(7); w.u16(100);                                                  // ReadStream
    const openmapi::Bytes out = execute(w, h);
    const openmapi::Bytes read = {0x2C, 7, 0, 0, 0, 0, 10, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // the ten bytes of the base64 part
    EXPECT_NE(std::search(out.begin(), out.end(), read.begin(), read.end()), out.end());
  }
  // 7. A new message in the Outbox, with a subject and a recipient, saved and submitted.
  {
    BinaryWriter w;
    w.u8(0x06); w.u8(0); w.u8(0); w.u8(5); w.u16(0x0FFF); w.u64(fids[5]); w.u8(0);  // CreateMessage in the Outbox into 5
    BinaryWriter v;
    v.u16(1);
    v.u32(0x0037001F);
    v.utf16z("hello bob");
    w.u8(0x0A); w.u8(0); w.u8(5); w.u16(uint16_t(v.size())); w.bytes(v.data());  // SetProperties
    BinaryWriter row;  // SMTP, E, D, U
    row.u16(0x021B);
    row.utf16z("bob@example.com");
    row.utf16z("Bob");
    row.u16(0);
    row.u8(0);
    w.u8(0x0E); w.u8(0); w.u8(5); w.u16(0); w.u16(1); w.u32(0); w.u8(1); w.u16(uint16_t(row.size())); w.bytes(row.data());
    w.u8(0x0C); w.u8(0); w.u8(5); w.u8(5); w.u8(0x02);  // SaveChangesMessage
    w.u8(0x32); w.u8(0); w.u8(5); w.u8(0);              // SubmitMessage
    w.u8(0x07); w.u8(0); w.u8(5); w.u16(0); w.u16(1); w.u16(1); w.u32(0x0E070003);  // PidTagMessageFlags
    const openmapi::Bytes got = execute(w, h);
    BinaryReader r(got);
    header(r, 0x06, 5);
    r.u8();
    header(r, 0x0A, 5);
    EXPECT_EQ(r.u16(), 0);
    header(r, 0x0E, 5);
    header(r, 0x0C, 5);
    r.skip(1 + 8);
    header(r, 0x32, 5);
    header(r, 0x07, 5);
    EXPECT_EQ(r.u8(), 0x00);
    EXPECT_NE(r.u32() & 0x4, 0u);  // MSGFLAG_SUBMIT: in the outgoing queue
  }
  // 8. Notifications: registered, waited for, told through the next Execute.
  {
    BinaryWriter w;
    w.u8(0x29); w.u8(0); w.u8(0); w.u8(1); w.u8(0x02); w.u8(0); w.u8(1);  // NewMail, whole store, into 1
    const openmapi::Bytes got = execute(w, h);
    BinaryReader r(got);
    header(r, 0x29, 1);
  }
  auto wait = std::async(std::launch::async, [&] {
    std::ofstream(dir / "wait.bin", std::ios::binary) << le32(0) + le32(0);
    return sh(curl() + auth() + "-o " + quote((dir / "wait.out").string()) + " -H 'X-RequestType: NotificationWait' -H 'X-RequestId: {1}:9'" +
              " -H " + quote("Cookie: MapiContext=" + cookie) + " --data-binary @" + quote((dir / "wait.bin").string()) + " " + quote(mailstore));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // New mail (another message: importing the first again would add nothing).
  std::ofstream(dir / "second.eml") << "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: one more\r\n"
                                       "Date: Tue, 01 Dec 2026 11:00:00 +0000\r\nMessage-ID: <second@example.com>\r\n\r\nhello\r\n";
  ASSERT_EQ(sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " import message -m alice@example.com " + quote((dir / "second.eml").string())).status, 0);
  ASSERT_EQ(wait.get().status, 0);
  const std::string waited = slurp(dir / "wait.out");
  EXPECT_EQ(waited.substr(waited.find("\r\n\r\n") + 4 + 8, 4), le32(1));  // EventPending
  std::vector<uint32_t> none = h;
  openmapi::Bytes notes = execute(BinaryWriter(), none);
  ASSERT_GE(notes.size(), 8u);
  EXPECT_EQ(notes[0], 0x2A);  // RopNotify
  // Among them a NewMail: RopNotify, a handle, the logon, NotificationType 0x8002 (NewMail on a
  // message). The wait may have ended on an earlier event (the spooler's moves change an open
  // table), and the import's NewMail then comes with a later Execute: a few more are asked.
  bool new_mail = false;
  for (int attempt = 0; attempt < 50 && !new_mail; ++attempt) {
    for (size_t i = 0; i + 8 <= notes.size() && !new_mail; ++i)
      new_mail = notes[i] == 0x2A && notes[i + 6] == 0x02 && notes[i + 7] == 0x80;
    if (new_mail) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    none = h;
    notes = execute(BinaryWriter(), none);
  }
  EXPECT_TRUE(new_mail);

  // 9. The spooler took the submitted message: it is in Sent Items, and as bob@example.com is no
  // user here (and nothing is relayed yet), a non-delivery report is in the Inbox.
  auto mb = openmapi::store::open_sqlite_mailbox(openmapi::store::mailbox_file(data.string(), "alice@example.com"));
  auto subjects_in = [&](openmapi::store::SpecialFolder f) {
    auto t = mb->contents_table(mb->special_folder(f));
    t->set_columns({openmapi::tags::PidTagSubject});
    std::vector<std::string> out;
    for (const auto& row : t->query_rows(100))
      if (const auto* s = row[0].get_if<std::string>()) out.push_back(*s);
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  for (int i = 0; i < 100 && !has(subjects_in(openmapi::store::SpecialFolder::SentItems), "hello bob"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(has(subjects_in(openmapi::store::SpecialFolder::SentItems), "hello bob"));
  EXPECT_TRUE(subjects_in(openmapi::store::SpecialFolder::Outbox).empty());
  EXPECT_TRUE(has(subjects_in(openmapi::store::SpecialFolder::Inbox), "Undeliverable: hello bob"));
}
