// The POP3 engine (server/pop3.h) driven directly: RFC 1939 transcripts, RFC 2449 CAPA,
// RFC 2595 STLS, RFC 5034 SASL PLAIN, and hostile input.
#include <gtest/gtest.h>

#include "core/base64.h"
#include "server/pop3.h"

using namespace openmapi;
using namespace openmapi::server;

namespace {

const std::string kFirst = "Subject: one\r\n\r\nline 1\r\n.starts with a dot\r\nline 3\r\n";
const std::string kSecond = "Subject: two\r\nX-A: b\r\n\r\nbody\r\n";

struct Client {
  explicit Client(bool tls) : engine("pop.example.org", true, tls) {}
  std::string send(const std::string& bytes) {
    engine.feed(bytes.data(), bytes.size());
    std::string out;
    for (;;) {
      last = engine.step(out);
      switch (last) {
        case Pop3Engine::Need::Login:
          if (engine.credentials().user == "alice@example.org" && engine.credentials().password == "pass word")
            engine.logged_in(std::vector<Pop3Message>{{"101", kFirst.size()}, {"205", kSecond.size()}}, out);
          else engine.logged_in(std::nullopt, out);
          continue;
        case Pop3Engine::Need::Fetch:
          fetched.push_back(engine.fetch_index());
          engine.fetched(engine.fetch_index() == 0 ? kFirst : kSecond, out);
          continue;
        case Pop3Engine::Need::Commit:
          deleted = engine.to_delete();
          engine.committed(true, out);
          continue;
        case Pop3Engine::Need::StartTls:
          engine.tls_started();
          return out;
        default: return out;
      }
    }
  }
  Pop3Engine engine;
  Pop3Engine::Need last = Pop3Engine::Need::Input;
  std::vector<size_t> fetched, deleted;
};

}  // namespace

TEST(Pop3, NoPasswordBeforeTlsAndStlsDropsWhatWasPipelined) {
  Client c(false);
  EXPECT_EQ(c.engine.greeting(), "+OK pop.example.org OpenMAPI POP3 ready\r\n");
  const std::string capa = c.send("CAPA\r\n");
  EXPECT_NE(capa.find("\r\nSTLS\r\n"), std::string::npos) << capa;
  EXPECT_EQ(capa.find("USER"), std::string::npos) << capa;
  EXPECT_EQ(c.send("USER alice@example.org\r\n").substr(0, 11), "-ERR [AUTH]");
  EXPECT_EQ(c.send("STLS\r\nUSER evil\r\nPASS x\r\n"), "+OK begin TLS negotiation\r\n");
  EXPECT_EQ(c.send("CAPA\r\n").find("STLS"), std::string::npos);
  EXPECT_EQ(c.send("PASS x\r\n").substr(0, 14), "-ERR USER firs");  // the pipelined USER was dropped
}

TEST(Pop3, ATransactionListsRetrievesTopsAndDeletesAtQuit) {
  Client c(true);
  EXPECT_EQ(c.send("USER alice@example.org\r\n"), "+OK send PASS\r\n");
  EXPECT_EQ(c.send("PASS pass word\r\n").substr(0, 24), "+OK maildrop has 2 messa");
  EXPECT_EQ(c.send("STAT\r\n"), "+OK 2 " + std::to_string(kFirst.size() + kSecond.size()) + "\r\n");
  EXPECT_EQ(c.send("LIST\r\n"), "+OK\r\n1 " + std::to_string(kFirst.size()) + "\r\n2 " + std::to_string(kSecond.size()) + "\r\n.\r\n");
  EXPECT_EQ(c.send("UIDL\r\n"), "+OK\r\n1 101\r\n2 205\r\n.\r\n");
  EXPECT_EQ(c.send("UIDL 2\r\n"), "+OK 2 205\r\n");
  // RETR byte-stuffs the line that starts with a dot (RFC 1939 3).
  EXPECT_EQ(c.send("RETR 1\r\n"), "+OK " + std::to_string(kFirst.size()) +
                                      " octets\r\nSubject: one\r\n\r\nline 1\r\n..starts with a dot\r\nline 3\r\n.\r\n");
  // TOP: the header, the blank line, and N body lines.
  EXPECT_EQ(c.send("TOP 1 1\r\n"), "+OK " + std::to_string(kFirst.size()) + " octets\r\nSubject: one\r\n\r\nline 1\r\n.\r\n");
  EXPECT_EQ(c.send("TOP 2 0\r\n"), "+OK " + std::to_string(kSecond.size()) + " octets\r\nSubject: two\r\nX-A: b\r\n\r\n.\r\n");
  EXPECT_EQ(c.send("DELE 2\r\n"), "+OK message 2 deleted\r\n");
  EXPECT_EQ(c.send("RETR 2\r\n").substr(0, 4), "-ERR");
  EXPECT_EQ(c.send("STAT\r\n"), "+OK 1 " + std::to_string(kFirst.size()) + "\r\n");
  EXPECT_EQ(c.send("LIST\r\n"), "+OK\r\n1 " + std::to_string(kFirst.size()) + "\r\n.\r\n");
  EXPECT_EQ(c.send("RSET\r\n").substr(0, 3), "+OK");
  EXPECT_EQ(c.send("STAT\r\n").substr(0, 6), "+OK 2 ");
  c.send("DELE 1\r\n");
  EXPECT_TRUE(c.deleted.empty());  // nothing before QUIT
  EXPECT_EQ(c.send("QUIT\r\n"), "+OK pop.example.org signing off (1 messages deleted)\r\n");
  EXPECT_EQ(c.deleted, std::vector<size_t>{0});
  EXPECT_EQ(c.last, Pop3Engine::Need::Close);
  EXPECT_EQ(c.fetched, (std::vector<size_t>{0, 0, 1}));
}

TEST(Pop3, MessageNumbersAreCheckedBeforeAnythingIsRead) {
  Client c(true);
  c.send("USER alice@example.org\r\nPASS pass word\r\n");
  for (const char* bad : {"RETR 0\r\n", "RETR 3\r\n", "RETR 99999999999999\r\n", "RETR -1\r\n", "RETR\r\n", "TOP 1\r\n", "TOP 1 x\r\n",
                          "DELE 7\r\n", "LIST 9\r\n"})
    EXPECT_EQ(c.send(bad).substr(0, 4), "-ERR") << bad;
  EXPECT_TRUE(c.fetched.empty());
}

TEST(Pop3, SaslPlainAndThreeFailedLoginsClose) {
  Client c(true);
  const std::string plain("\0alice@example.org\0pass word", 28);
  EXPECT_EQ(c.send("AUTH\r\n"), "+OK\r\nPLAIN\r\n.\r\n");
  EXPECT_EQ(c.send("AUTH PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(c.send(base64_encode(ByteView(reinterpret_cast<const uint8_t*>(plain.data()), plain.size())) + "\r\n").substr(0, 3), "+OK");
  Client d(true);
  const std::string wrong("\0alice@example.org\0nope", 23);
  const std::string b64 = base64_encode(ByteView(reinterpret_cast<const uint8_t*>(wrong.data()), wrong.size()));
  EXPECT_EQ(d.send("AUTH PLAIN " + b64 + "\r\n"), "-ERR [AUTH] authentication failed\r\n");
  EXPECT_EQ(d.send("AUTH PLAIN !!!\r\n").substr(0, 4), "-ERR");
  d.send("USER alice@example.org\r\nPASS nope\r\n");
  EXPECT_NE(d.send("USER alice@example.org\r\nPASS nope again\r\n").find("closing the connection"), std::string::npos);
  EXPECT_EQ(d.last, Pop3Engine::Need::Close);
}

TEST(Pop3, LongLinesAndGarbageAreRefusedAndEnd) {
  Client c(true);
  EXPECT_EQ(c.send(std::string(100000, 'x')).substr(0, 4), "-ERR");
  EXPECT_EQ(c.send("yyy\r\nCAPA\r\n").substr(0, 3), "+OK");  // the rest of the long line dropped
  std::string junk;
  for (int i = 0; i < 25; ++i) junk += "\x01garbage\r\n";
  EXPECT_NE(c.send(junk).find("too many errors"), std::string::npos);
  EXPECT_EQ(c.last, Pop3Engine::Need::Close);
}
