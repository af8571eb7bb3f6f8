// The SMTP/LMTP protocol engine (server/smtp.h) driven directly: transcripts after RFC 5321,
// RFC 2033, RFC 3030, RFC 3207, RFC 4954 and RFC 4616, and hostile input.
#include <gtest/gtest.h>

#include "core/base64.h"
#include "server/smtp.h"

using namespace openmapi;
using namespace openmapi::server;

namespace {

// Drives an engine as a connection would: feeds a client's bytes, answers its requests with the
// given outcomes, and collects everything it says.
struct Client {
  explicit Client(SmtpMode mode, SmtpLimits limits = {}, bool tls = false)
      : engine(mode, limits, "mx.example.org",
               [](const std::string& a, const SmtpEnvelope&) -> std::optional<SmtpReply> {
                 std::string l = a;
                 for (char& ch : l) ch = char(std::tolower(static_cast<unsigned char>(ch)));
                 if (l.find("@example.org") != std::string::npos || l == "postmaster") return std::nullopt;
                 return SmtpReply{550, "5.1.1 <" + a + ">: no such user here"};
               },
               true, tls, "192.0.2.7") {}

  // Sends `bytes`; returns what the server answered, running its requests to their end.
  std::string send(const std::string& bytes) {
    engine.feed(bytes.data(), bytes.size());
    std::string out;
    for (;;) {
      last = engine.step(out);
      if (last == SmtpEngine::Need::Authenticate) {
        seen_credentials.push_back(engine.credentials());
        const bool ok = engine.credentials().user == "alice@example.org" && engine.credentials().password == "secret";
        engine.auth_done(ok ? std::optional<std::string>("alice@example.org") : std::nullopt, out);
        continue;
      }
      if (last == SmtpEngine::Need::Deliver) {
        delivered.push_back({engine.envelope(), engine.message()});
        std::vector<SmtpReply> r;
        for (const auto& rc : engine.envelope().recipients)
          r.push_back(rc.address.rfind("full", 0) == 0 ? SmtpReply{552, "5.2.2 mailbox full"} : SmtpReply{250, "2.0.0 delivered"});
        engine.delivered(r, out);
        continue;
      }
      if (last == SmtpEngine::Need::StartTls) {
        starttls = true;
        engine.tls_started();
      }
      return out;
    }
  }

  SmtpEngine engine;
  SmtpEngine::Need last = SmtpEngine::Need::Input;
  std::vector<std::pair<SmtpEnvelope, std::string>> delivered;
  std::vector<SmtpEngine::Credentials> seen_credentials;
  bool starttls = false;
};

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find("\r\n", start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 2;
  }
  return out;
}

std::vector<int> codes(const std::string& s) {
  std::vector<int> out;
  for (const auto& l : lines(s))
    if (l.size() >= 4 && l[3] == ' ') out.push_back(std::stoi(l.substr(0, 3)));
  return out;
}

}  // namespace

TEST(Smtp, EhloAdvertisesTheExtensionsAndStartTlsOnlyWithoutTls) {
  Client c(SmtpMode::Smtp);
  EXPECT_EQ(c.engine.greeting(), "220 mx.example.org ESMTP OpenMAPI\r\n");
  auto l = lines(c.send("EHLO client.example.net\r\n"));
  ASSERT_GE(l.size(), 8u);
  EXPECT_EQ(l.front(), "250-mx.example.org greets client.example.net");
  for (const char* ext : {"PIPELINING", "SIZE 26214400", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "SMTPUTF8", "DSN", "STARTTLS"})
    EXPECT_NE(std::find_if(l.begin(), l.end(), [&](const std::string& x) { return x.substr(4) == ext; }), l.end()) << ext;
  // No AUTH without TLS: a password is never sent in the clear.
  for (const auto& x : l) EXPECT_EQ(x.find("AUTH"), std::string::npos) << x;
  EXPECT_EQ(l.back().substr(0, 4), "250 ");
  EXPECT_EQ(c.send("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==\r\n").substr(0, 10), "538 5.7.11");
}

TEST(Smtp, AMessageThroughDataIsDotUnstuffedAndDelivered) {
  Client c(SmtpMode::Smtp);
  c.send("EHLO client.example.net\r\n");
  EXPECT_EQ(codes(c.send("MAIL FROM:<bob@example.net> SIZE=120 BODY=8BITMIME\r\n")), std::vector<int>{250});
  EXPECT_EQ(codes(c.send("RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.org\r\n")), std::vector<int>{250});
  EXPECT_EQ(codes(c.send("RCPT TO:<nobody@elsewhere.net>\r\n")), std::vector<int>{550});
  EXPECT_EQ(codes(c.send("DATA\r\n")), std::vector<int>{354});
  EXPECT_EQ(c.send("Subject: hi\r\n\r\n..a line starting with a dot\r\n"), "");
  EXPECT_EQ(codes(c.send(".\r\n")), std::vector<int>{250});
  ASSERT_EQ(c.delivered.size(), 1u);
  const auto& [env, msg] = c.delivered[0];
  EXPECT_EQ(msg, "Subject: hi\r\n\r\n.a line starting with a dot\r\n");
  EXPECT_EQ(env.from, "bob@example.net");
  EXPECT_EQ(env.helo, "client.example.net");
  EXPECT_EQ(env.remote, "192.0.2.7");
  EXPECT_EQ(env.body, "8BITMIME");
  ASSERT_EQ(env.recipients.size(), 1u);
  EXPECT_EQ(env.recipients[0].address, "alice@example.org");
  EXPECT_EQ(env.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(env.recipients[0].orcpt, "rfc822;alice@example.org");
  // The transaction is over: a new one starts with MAIL.
  EXPECT_EQ(codes(c.send("RCPT TO:<alice@example.org>\r\n")), std::vector<int>{503});
  EXPECT_EQ(codes(c.send("QUIT\r\n")), std::vector<int>{221});
  EXPECT_EQ(c.last, SmtpEngine::Need::Close);
}

TEST(Smtp, PipelinedCommandsAreAnsweredInOrderInOneGo) {
  Client c(SmtpMode::Smtp);
  const std::string out = c.send(
      "EHLO a.example\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n"
      "Subject: bounce\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n");
  auto cs = codes(out);
  ASSERT_EQ(cs.size(), 8u) << out;
  EXPECT_EQ(cs, (std::vector<int>{250, 250, 250, 250, 354, 250, 250, 221}));
  ASSERT_EQ(c.delivered.size(), 1u);
  EXPECT_EQ(c.delivered[0].first.from, "");  // the null reverse path (a bounce)
  EXPECT_EQ(c.delivered[0].first.recipients.size(), 2u);
}

TEST(Smtp, BdatChunksAreTakenByteForByteAndOversizedOnesAreDropped) {
  SmtpLimits small;
  small.max_message_size = 100;
  Client c(SmtpMode::Smtp, small);
  c.send("EHLO a.example\r\nMAIL FROM:<b@example.net>\r\nRCPT TO:<alice@example.org>\r\n");
  // A chunk holds CRLF.CRLF and bare LFs as data: BDAT does no dot-stuffing.
  EXPECT_EQ(codes(c.send("BDAT 11\r\nab\r\n.\r\ncd\nx")), std::vector<int>{250});
  EXPECT_EQ(codes(c.send("BDAT 3 LAST\r\nend")), std::vector<int>{250});
  ASSERT_EQ(c.delivered.size(), 1u);
  EXPECT_EQ(c.delivered[0].second, "ab\r\n.\r\ncd\nxend");
  // A claim beyond the limit: the bytes are read (the stream stays framed), nothing is kept.
  c.send("MAIL FROM:<b@example.net>\r\nRCPT TO:<alice@example.org>\r\n");
  EXPECT_EQ(codes(c.send("BDAT 150 LAST\r\n" + std::string(150, 'x'))), std::vector<int>{552});
  EXPECT_EQ(c.delivered.size(), 1u);
  EXPECT_EQ(codes(c.send("NOOP\r\n")), std::vector<int>{250});
  // A claim no message could have: refused before anything is allocated, then the bytes drained.
  c.send("MAIL FROM:<b@example.net>\r\nRCPT TO:<alice@example.org>\r\n");
  EXPECT_EQ(codes(c.send("BDAT 9999999999999999999\r\n")), std::vector<int>{});
  EXPECT_TRUE(c.engine.message().empty());
  // An unparseable size leaves the stream unframed: the connection ends.
  Client d(SmtpMode::Smtp);
  d.send("EHLO a.example\r\nMAIL FROM:<b@example.net>\r\nRCPT TO:<alice@example.org>\r\n");
  EXPECT_EQ(codes(d.send("BDAT lots\r\n")), std::vector<int>{501});
  EXPECT_EQ(d.last, SmtpEngine::Need::Close);
}

TEST(Smtp, AMessageOverTheLimitIsReadToItsEndAndRefused) {
  SmtpLimits small;
  small.max_message_size = 1000;
  Client c(SmtpMode::Smtp, small);
  EXPECT_EQ(codes(c.send("EHLO a.example\r\nMAIL FROM:<b@example.net> SIZE=5000\r\n")), (std::vector<int>{250, 552}));
  c.send("MAIL FROM:<b@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n");
  std::string big;
  for (int i = 0; i < 100; ++i) big += std::string(70, 'y') + "\r\n";
  EXPECT_EQ(c.send(big), "");
  EXPECT_EQ(codes(c.send(".\r\n")), std::vector<int>{552});
  EXPECT_TRUE(c.delivered.empty());
  EXPECT_EQ(codes(c.send("RSET\r\n")), std::vector<int>{250});
}

TEST(Smtp, AnOverlongLineIsRefusedAndSkippedWithoutBeingKept) {
  Client c(SmtpMode::Smtp);
  c.send("EHLO a.example\r\n");
  std::string out = c.send(std::string(100000, 'A'));
  EXPECT_EQ(codes(out), std::vector<int>{500});
  EXPECT_EQ(c.send(std::string(5000, 'B') + "\r\nNOOP\r\n").substr(0, 3), "250");  // the rest of it dropped
}

TEST(Smtp, GarbageClosesTheConnectionAfterTheErrorLimit) {
  SmtpLimits l;
  l.max_errors = 5;
  Client c(SmtpMode::Smtp, l);
  std::string garbage;
  for (int i = 0; i < 10; ++i) garbage += "\x01\x02 \xff junk\r\n";
  auto cs = codes(c.send(garbage));
  EXPECT_EQ(cs, (std::vector<int>{500, 500, 500, 500, 500, 421}));
  EXPECT_EQ(c.last, SmtpEngine::Need::Close);
}

TEST(Smtp, StartTlsDiscardsWhatWasPipelinedBehindIt) {
  Client c(SmtpMode::Submission);
  c.send("EHLO a.example\r\n");
  // CVE-2011-0411: a command injected after STARTTLS in the same packet must not run under TLS.
  EXPECT_EQ(codes(c.send("STARTTLS\r\nRSET\r\nMAIL FROM:<evil@example.net>\r\n")), std::vector<int>{220});
  EXPECT_TRUE(c.starttls);
  EXPECT_TRUE(c.engine.tls());
  // The session starts over: EHLO again, and now AUTH is offered and STARTTLS no longer.
  auto l = lines(c.send("EHLO a.example\r\n"));
  auto has = [&](const std::string& ext) {
    return std::find_if(l.begin(), l.end(), [&](const std::string& x) { return x.substr(4) == ext; }) != l.end();
  };
  EXPECT_TRUE(has("AUTH PLAIN LOGIN"));
  EXPECT_FALSE(has("STARTTLS"));
  EXPECT_EQ(codes(c.send("STARTTLS\r\n")), std::vector<int>{503});
}

TEST(Smtp, SubmissionWantsAuthenticationAndTakesPlainAndLogin) {
  Client c(SmtpMode::Submission, {}, true);
  c.send("EHLO a.example\r\n");
  EXPECT_EQ(c.send("MAIL FROM:<alice@example.org>\r\n").substr(0, 9), "530 5.7.0");
  // PLAIN with the initial response (RFC 4616 "\0user\0password"), a wrong password first.
  EXPECT_EQ(codes(c.send("AUTH PLAIN " + base64_encode(ByteView(reinterpret_cast<const uint8_t*>("\0alice@example.org\0wrong"), 24)) + "\r\n")),
            std::vector<int>{535});
  EXPECT_EQ(codes(c.send("AUTH PLAIN\r\n")), std::vector<int>{334});
  const std::string plain("\0alice@example.org\0secret", 25);
  EXPECT_EQ(c.send(base64_encode(ByteView(reinterpret_cast<const uint8_t*>(plain.data()), plain.size())) + "\r\n"),
            "235 2.7.0 authentication successful\r\n");
  ASSERT_EQ(c.seen_credentials.size(), 2u);
  EXPECT_EQ(c.seen_credentials[1].user, "alice@example.org");
  EXPECT_EQ(c.seen_credentials[1].password, "secret");
  EXPECT_EQ(codes(c.send("AUTH PLAIN\r\n")), std::vector<int>{503});  // once per session
  // A user sends as itself: another sender, or the null one, is refused.
  EXPECT_EQ(c.send("MAIL FROM:<ceo@example.org>\r\n").substr(0, 9), "553 5.7.1");
  EXPECT_EQ(codes(c.send("MAIL FROM:<>\r\n")), std::vector<int>{553});
  EXPECT_EQ(codes(c.send("MAIL FROM:<Alice@Example.org>\r\n")), std::vector<int>{250});

  // LOGIN: user and password in two challenges.
  Client d(SmtpMode::Submission, {}, true);
  d.send("EHLO a.example\r\n");
  EXPECT_EQ(d.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  const std::string u = "alice@example.org", p = "secret";
  EXPECT_EQ(d.send(base64_encode(ByteView(reinterpret_cast<const uint8_t*>(u.data()), u.size())) + "\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(codes(d.send(base64_encode(ByteView(reinterpret_cast<const uint8_t*>(p.data()), p.size())) + "\r\n")), std::vector<int>{235});
  EXPECT_EQ(d.engine.envelope().user, "alice@example.org");
}

TEST(Smtp, BadSaslResponsesAreRefusedAndThreeFailuresClose) {
  Client c(SmtpMode::Submission, {}, true);
  c.send("EHLO a.example\r\n");
  EXPECT_EQ(c.send("AUTH PLAIN !!!notbase64\r\n").substr(0, 9), "501 5.5.2");
  EXPECT_EQ(codes(c.send("AUTH PLAIN " + base64_encode(ByteView(reinterpret_cast<const uint8_t*>("no-nuls"), 7)) + "\r\n")),
            std::vector<int>{501});
  EXPECT_EQ(codes(c.send("AUTH LOGIN\r\n*\r\n")), (std::vector<int>{334, 501}));
  EXPECT_EQ(codes(c.send("AUTH CRAM-MD5\r\n")), std::vector<int>{504});
  const std::string wrong("\0alice@example.org\0nope", 23);
  const std::string b64 = base64_encode(ByteView(reinterpret_cast<const uint8_t*>(wrong.data()), wrong.size()));
  EXPECT_EQ(codes(c.send("AUTH PLAIN " + b64 + "\r\n")), std::vector<int>{535});
  EXPECT_EQ(codes(c.send("AUTH PLAIN " + b64 + "\r\n")), std::vector<int>{535});
  EXPECT_EQ(codes(c.send("AUTH PLAIN " + b64 + "\r\n")), (std::vector<int>{535, 421}));
  EXPECT_EQ(c.last, SmtpEngine::Need::Close);
}

TEST(Smtp, LmtpAnswersTheDataOncePerRecipient) {
  Client c(SmtpMode::Lmtp);
  EXPECT_EQ(c.engine.greeting(), "220 mx.example.org LMTP OpenMAPI\r\n");
  EXPECT_EQ(codes(c.send("EHLO a.example\r\n")), std::vector<int>{500});  // RFC 2033: LHLO
  c.send("LHLO a.example\r\nMAIL FROM:<b@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<full@example.org>\r\n"
         "RCPT TO:<gone@elsewhere.net>\r\n");
  EXPECT_EQ(codes(c.send("DATA\r\nSubject: x\r\n\r\ny\r\n.\r\n")), (std::vector<int>{354, 250, 552}));
  ASSERT_EQ(c.delivered.size(), 1u);
  EXPECT_EQ(c.delivered[0].first.recipients.size(), 2u);
}

TEST(Smtp, SmtpAnswersTheDataOnceEvenWhenARecipientFails) {
  Client c(SmtpMode::Smtp);
  c.send("EHLO a.example\r\nMAIL FROM:<b@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<full@example.org>\r\n");
  // One recipient has it; the other's failure is permanent: 250 (a retry would not help).
  EXPECT_EQ(codes(c.send("DATA\r\nSubject: x\r\n\r\ny\r\n.\r\n")), (std::vector<int>{354, 250}));
  c.send("MAIL FROM:<b@example.net>\r\nRCPT TO:<full@example.org>\r\n");
  EXPECT_EQ(codes(c.send("DATA\r\nSubject: x\r\n\r\ny\r\n.\r\n")), (std::vector<int>{354, 552}));
}

TEST(Smtp, AddressesAndParametersAreChecked) {
  Client c(SmtpMode::Smtp);
  EXPECT_EQ(codes(c.send("MAIL FROM:<b@example.net>\r\n")), std::vector<int>{503});  // EHLO first
  c.send("EHLO a.example\r\n");
  EXPECT_EQ(codes(c.send("MAIL FROM:b@example.net\r\n")), std::vector<int>{501});  // no brackets
  EXPECT_EQ(codes(c.send("MAIL FROM:<b@example.net> FOO=1\r\n")), std::vector<int>{555});
  EXPECT_EQ(codes(c.send("MAIL FROM:<jörg@example.net>\r\n")), std::vector<int>{553});  // non-ASCII without SMTPUTF8
  EXPECT_EQ(codes(c.send("MAIL FROM:<jörg@example.net> SMTPUTF8\r\n")), std::vector<int>{250});
  EXPECT_TRUE(c.engine.envelope().smtputf8);
  EXPECT_EQ(codes(c.send("MAIL FROM:<b@example.net>\r\n")), std::vector<int>{503});  // nested
  EXPECT_EQ(codes(c.send("RCPT TO:<@relay.example:alice@example.org>\r\n")), std::vector<int>{250});  // source route ignored
  EXPECT_EQ(c.engine.envelope().recipients.back().address, "alice@example.org");
  EXPECT_EQ(codes(c.send("RCPT TO:<ALICE@example.org>\r\n")), std::vector<int>{250});  // the same, once
  EXPECT_EQ(c.engine.envelope().recipients.size(), 1u);
  EXPECT_EQ(codes(c.send("RCPT TO:<>\r\n")), std::vector<int>{501});
  EXPECT_EQ(codes(c.send("VRFY alice\r\nEXPN staff\r\nHELP\r\nFROB\r\n")), (std::vector<int>{252, 502, 214, 500}));
}

TEST(Smtp, TheRecipientLimitIsATemporaryRefusal) {
  SmtpLimits l;
  l.max_recipients = 2;
  Client c(SmtpMode::Smtp, l);
  c.send("EHLO a.example\r\nMAIL FROM:<b@example.net>\r\n");
  EXPECT_EQ(codes(c.send("RCPT TO:<a1@example.org>\r\nRCPT TO:<a2@example.org>\r\nRCPT TO:<a3@example.org>\r\n")),
            (std::vector<int>{250, 250, 452}));
}
