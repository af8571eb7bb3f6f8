// The pieces of relaying that need no second server: SMTP replies as the client reads them
// (RFC 5321 4.2), DNS MX answers (RFC 1035 4.1, RFC 7505 null MX), domain literals (RFC 5321
// 4.1.3) and the relay settings of the configuration file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/http.h"
#include "server/mx.h"
#include "server/smtp_client.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::server;

namespace {

// A DNS response for `domain` with MX records (preference, host), built as RFC 1035 4.1 lays it
// out: header, the question, then answers whose owner is a pointer to the question's name.
Bytes mx_answer(const std::string& domain, const std::vector<std::pair<uint16_t, std::string>>& records) {
  Bytes b;
  auto u16 = [&](uint16_t v) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
  };
  auto name = [&](const std::string& n) {
    size_t start = 0;
    while (start < n.size()) {
      size_t dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      b.push_back(uint8_t(dot - start));
      b.insert(b.end(), n.begin() + long(start), n.begin() + long(dot));
      start = dot + 1;
    }
    b.push_back(0);
  };
  u16(0x1234);
  u16(0x8180);  // a response, recursion desired and available, no error
  u16(1);
  u16(uint16_t(records.size()));
  u16(0);
  u16(0);
  name(domain);
  u16(15);  // MX
  u16(1);   // IN
  for (const auto& [pref, host] : records) {
    u16(0xC00C);  // the question's name
    u16(15);
    u16(1);
    u16(0);
    u16(3600);
    const size_t len_at = b.size();
    u16(0);
    u16(pref);
    name(host);
    const size_t rdlen = b.size() - len_at - 2;
    b[len_at] = uint8_t(rdlen >> 8);
    b[len_at + 1] = uint8_t(rdlen);
  }
  return b;
}

}  // namespace

TEST(SmtpReplyReader, MultilineRepliesAndEhloKeywords) {
  SmtpReplyReader r;
  EXPECT_EQ(r.line("250-mx.example.org greets you"), SmtpReplyReader::State::More);
  EXPECT_EQ(r.line("250-size 10240000"), SmtpReplyReader::State::More);
  EXPECT_EQ(r.line("250-STARTTLS"), SmtpReplyReader::State::More);
  EXPECT_EQ(r.line("250 AUTH PLAIN LOGIN"), SmtpReplyReader::State::Done);
  EXPECT_EQ(r.reply().code, 250);
  EXPECT_EQ(r.keywords(), (std::vector<std::string>{"SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN"}));
  r.clear();
  EXPECT_EQ(r.line("550 5.1.1 no such user"), SmtpReplyReader::State::Done);
  EXPECT_EQ(r.reply().text, "5.1.1 no such user");
  r.clear();
  EXPECT_EQ(r.line("220"), SmtpReplyReader::State::Done);  // a code alone is a reply
  // Not SMTP: other codes, letters, a code that changes in mid-reply.
  for (const char* bad : {"", "25", "abc", "650 x", "199 x", "250x"}) {
    r.clear();
    EXPECT_EQ(r.line(bad), SmtpReplyReader::State::Bad) << bad;
  }
  r.clear();
  EXPECT_EQ(r.line("250-a"), SmtpReplyReader::State::More);
  EXPECT_EQ(r.line("251 b"), SmtpReplyReader::State::Bad);
}

TEST(Mx, AnswersAreReadInTheirOrderAndANullMxIsNamed) {
  auto records = parse_mx_answer(mx_answer("example.org", {{20, "backup.example.org"}, {10, "mx.example.org"}}));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].preference, 20);
  EXPECT_EQ(records[0].host, "backup.example.org");
  EXPECT_EQ(records[1].host, "mx.example.org");
  // RFC 7505: "MX 0 ." — the root as the host.
  records = parse_mx_answer(mx_answer("nomail.example", {{0, ""}}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].host, "");
}

TEST(Mx, DamagedAnswersAreRefusedWithACode) {
  const Bytes good = mx_answer("example.org", {{10, "mx.example.org"}});
  for (size_t cut : {size_t(0), size_t(5), size_t(12), good.size() - 3}) {
    try {
      parse_mx_answer(ByteView(good.data(), cut));
      ADD_FAILURE() << "a cut at " << cut << " was accepted";
    } catch (const MapiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::MAPI_E_CORRUPT_DATA) << cut;
    }
  }
  Bytes claims = good;
  claims[7] = 200;  // 200 answers claimed, one there
  EXPECT_THROW(parse_mx_answer(claims), MapiError);
}

TEST(Mx, DomainLiteralsAreTheirAddress) {
  EXPECT_EQ(domain_literal_address("[192.0.2.1]"), "192.0.2.1");
  EXPECT_EQ(domain_literal_address("[IPv6:2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(domain_literal_address("[2001:db8::1]"), std::nullopt);  // IPv6 needs its tag
  EXPECT_EQ(domain_literal_address("[IPv6:192.0.2.1]"), std::nullopt);
  EXPECT_EQ(domain_literal_address("[300.1.1.1]"), std::nullopt);
  EXPECT_EQ(domain_literal_address("example.org"), std::nullopt);
  EXPECT_EQ(resolve_mx("[192.0.2.7]").hosts, std::vector<std::string>{"192.0.2.7"});
  ASSERT_TRUE(resolve_mx("[nonsense]").failure);
  EXPECT_EQ(resolve_mx("[nonsense]").failure->code, 550);
}

TEST(RelayConfig, KeysAreReadAndBadValuesNamed) {
  openmapi::testing::TempDir dir;
  const std::string pw = dir.file("pw"), conf = dir.file("c.conf");
  std::ofstream(pw) << "the password\n";
  std::ofstream(conf) << "relay = smtp.example.net:587\nrelay_user = me@example.com\nrelay_password_file = " << pw
                      << "\nrelay_tls = required\nrelay_tls_verify = no\nrelay_timeout = 30\nqueue_lifetime = 3600\n";
  const ServerConfig c = load_config(conf);
  ASSERT_TRUE(c.smarthost());
  EXPECT_EQ(c.smarthost()->first, "smtp.example.net");
  EXPECT_EQ(c.smarthost()->second, 587);
  EXPECT_EQ(c.relay_password, "the password");
  EXPECT_EQ(c.relay_tls, RelayTls::Required);
  EXPECT_FALSE(c.relay_tls_verify);
  EXPECT_EQ(c.queue_lifetime.count(), 3600);
  EXPECT_FALSE(ServerConfig{}.smarthost());  // the default: mx
  ServerConfig v6;
  v6.relay = "[2001:db8::25]:2525";
  EXPECT_EQ(v6.smarthost()->first, "2001:db8::25");
  EXPECT_EQ(v6.smarthost()->second, 2525);
  for (const char* bad : {"relay = host:99999", "relay = host:", "relay_tls = maybe", "relay_password_file = /nonexistent/pw", "relay = a b"}) {
    std::ofstream(conf) << bad << "\n";
    try {
      load_config(conf);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const MapiError& e) {
      EXPECT_NE(std::string(e.what()).find("c.conf:1"), std::string::npos) << e.what();
    }
  }
}
