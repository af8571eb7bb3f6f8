// Mail flow into `openmapi serve` with real clients over loopback: swaks (SMTP, STARTTLS, AUTH,
// implicit TLS, LMTP) and curl (SMTP), the delivered messages read back through the store API.
// Hostile input (a client that vanishes mid-DATA, a message over the limit, garbage) from a raw
// socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <random>

#include "core/propbag.h"
#include "serve_util.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace openmapi;
using openmapi::testing::Out;
using openmapi::testing::quote;
using openmapi::testing::sh;
using openmapi::testing::slurp;

namespace {

const std::string kAlice = "alice@example.com", kBob = "bob@example.com", kPassword = "s3cret pass";

class MailFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-smtp-" + std::to_string(rd()));
    fs::create_directories(dir);
    data = dir / "data";
    for (const auto& [address, name] : {std::pair{kAlice, "Alice Example"}, std::pair{kBob, "Bob Example"}}) {
      Out add = openmapi::testing::add_user(data, address, name, kPassword);
      ASSERT_EQ(add.status, 0) << add.text;
    }
  }
  void TearDown() override {
    server.stop();
    fs::remove_all(dir);
  }
  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--listen", "smtp=127.0.0.1:0",        "--listen", "submission=127.0.0.1:0",
                                     "--listen", "submissions=127.0.0.1:0", "--listen", "lmtp=127.0.0.1:0",
                                     "--listen", "pop3=127.0.0.1:0",        "--listen", "pop3s=127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string why;
    ASSERT_TRUE(server.start(dir, data, args, {"smtp", "submission", "submissions", "lmtp", "pop3", "pop3s"}, why)) << why;
  }
  std::string swaks(const std::string& proto, const std::string& args) const {
    return "swaks --silent 1 --timeout 30 --server 127.0.0.1 --port " + server.port(proto) + " " + args;
  }
  // curl against POP3 on `proto` (STLS required on pop3), as `user`, verifying the certificate.
  Out pop3(const std::string& proto, const std::string& path, const std::string& extra = "", const std::string& password = kPassword) const {
    const std::string scheme = proto == "pop3s" ? "pop3s" : "pop3";
    return sh("curl -sS --max-time 30 --cacert " + quote((data / "tls" / "server.crt").string()) + (proto == "pop3" ? " --ssl-reqd" : "") +
              " -u " + quote(kAlice + ":" + password) + " " + extra + " " + scheme + "://localhost:" + server.port(proto) + path);
  }
  // How many messages `address`'s Inbox shows (soft-deleted ones are out of view).
  uint32_t inbox_count(const std::string& address) const {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(data.string(), address));
    return mb->contents_table(mb->special_folder(store::SpecialFolder::Inbox))->row_count();
  }
  // The messages of `address`'s Inbox, oldest first.
  std::vector<Message> inbox(const std::string& address) const {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(data.string(), address));
    const store::FolderId in = mb->special_folder(store::SpecialFolder::Inbox);
    std::vector<Message> out;
    for (const auto& c : mb->changes_since(0, in))
      if (c.kind == store::ChangeKind::Created && !c.is_folder) out.push_back(mb->load_message(c.id));
    return out;
  }

  fs::path dir, data;
  openmapi::testing::ServerProcess server;
};

// A connection of our own, for what no polite client sends.
class RawClient {
 public:
  explicit RawClient(const std::string& port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(std::stoi(port)));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { close(); }
  bool connected() const { return connected_; }
  void send(const std::string& s) { ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  // Reads until `lines` reply lines (final ones: "NNN ") have come, or the server closes.
  std::string read_replies(int lines) {
    std::string got;
    char buf[4096];
    for (;;) {
      int finals = 0;
      size_t at = 0;
      while ((at = got.find("\r\n", at)) != std::string::npos) {
        const size_t start = got.rfind("\n", at - 1);
        const std::string line = got.substr(start == std::string::npos ? 0 : start + 1, at - (start == std::string::npos ? 0 : start + 1));
        if (line.size() >= 4 && line[3] == ' ') ++finals;
        at += 2;
      }
      if (finals >= lines) return got;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, size_t(n));
    }
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace

TEST_F(MailFlow, SwaksDeliversThroughSmtpAndTheInboxHasTheMessageWithItsAttachment) {
  start();
  std::ofstream(dir / "report.pdf", std::ios::binary) << std::string("%PDF-1.4 not really a pdf \x01\x02\x03", 30);
  Out s = sh(swaks("smtp", "--ehlo client.example.net --from carol@example.net --to " + kAlice +
                               " --header 'Subject: Quarterly figures' --body 'Please find the figures attached.' --attach " +
                               quote((dir / "report.pdf").string())));
  ASSERT_EQ(s.status, 0) << s.text;

  auto msgs = inbox(kAlice);
  ASSERT_EQ(msgs.size(), 1u);
  const Message& m = msgs[0];
  EXPECT_EQ(m.props.get_string(tags::PidTagSubject), "Quarterly figures");
  EXPECT_EQ(m.props.get_string(tags::PidTagSenderEmailAddress), "carol@example.net");
  EXPECT_NE(m.props.get_string(tags::PidTagBody).value_or("").find("Please find the figures attached."), std::string::npos);
  ASSERT_EQ(m.recipients.size(), 1u);
  EXPECT_EQ(m.recipients[0].get_string(tags::PidTagSmtpAddress).value_or(m.recipients[0].get_string(tags::PidTagEmailAddress).value_or("")),
            kAlice);
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].props.get_string(tags::PidTagAttachLongFilename), "report.pdf");
  const PropValue* bin = m.attachments[0].props.find(tags::PidTagAttachDataBinary);
  ASSERT_NE(bin, nullptr);
  EXPECT_EQ(bin->get<Bytes>().size(), 30u);
  // The delivery properties (MS-OXOMSG 2.2.1.x) and the trace headers of RFC 5321 4.4.
  EXPECT_EQ(m.props.get_string(tags::PidTagReceivedByEmailAddress), kAlice);
  EXPECT_EQ(m.props.get_string(tags::PidTagReceivedByName), "Alice Example");
  EXPECT_EQ(m.props.get_string(tags::PidTagReceivedRepresentingSmtpAddress), kAlice);
  EXPECT_TRUE(m.props.get_i64(tags::PidTagMessageDeliveryTime).has_value());
  EXPECT_EQ(m.props.get_i32(tags::PidTagMessageFlags).value_or(-1) & msgflag::Read, 0);  // unread
  const std::string headers = m.props.get_string(tags::PidTagTransportMessageHeaders).value_or("");
  EXPECT_EQ(headers.rfind("Return-Path: <carol@example.net>", 0), 0u) << headers;
  EXPECT_NE(headers.find("Received: from client.example.net ([127.0.0.1])"), std::string::npos) << headers;
  EXPECT_NE(headers.find("with ESMTP id"), std::string::npos) << headers;
  EXPECT_NE(headers.find("for <" + kAlice + ">"), std::string::npos) << headers;
  EXPECT_TRUE(inbox(kBob).empty());
  EXPECT_NE(server.log().find("delivered as message"), std::string::npos);
}

// Load from Postfix's smtp-source, over SMTP and over LMTP, several sessions at once: every
// message arrives once (bounded: 300 each way).
TEST_F(MailFlow, SmtpSourceLoadArrivesExactlyOnce) {
  start();
  for (const auto& [proto, flag] : {std::pair{"smtp", ""}, std::pair{"lmtp", "-L"}}) {
    Out o = sh(std::string("/usr/sbin/smtp-source ") + flag + " -s 4 -m 300 -l 3000 -f load@sender.test -t " + kBob + " -S 'load " + proto +
               "' 127.0.0.1:" + server.port(proto));
    ASSERT_EQ(o.status, 0) << o.text << server.log();
  }
  EXPECT_EQ(inbox_count(kBob), 600u);
  size_t smtp = 0, lmtp = 0;
  for (const Message& m : inbox(kBob)) {
    const std::string subject = m.props.get_string(tags::PidTagSubject).value_or("");
    smtp += subject == "load smtp";
    lmtp += subject == "load lmtp";
  }
  EXPECT_EQ(smtp, 300u);
  EXPECT_EQ(lmtp, 300u);
}

// A 50 MB message against the default limit of 25 MB, without SIZE=: read to its end, refused
// with 552, nothing stored, and the connection goes on (the next message is delivered).
TEST_F(MailFlow, AFiftyMegabyteMessageOverTheLimitIsRefusedAndNothingIsStored) {
  start();
  RawClient c(server.port("smtp"));
  ASSERT_TRUE(c.connected());
  c.read_replies(1);
  c.send("EHLO x.example\r\nMAIL FROM:<x@example.net>\r\nRCPT TO:<" + kBob + ">\r\nDATA\r\n");
  c.read_replies(4);
  c.send("Subject: too big\r\n\r\n");
  const std::string line = std::string(998, 'y') + "\r\n";
  std::string chunk;
  for (int i = 0; i < 1000; ++i) chunk += line;  // 1 MB
  for (int i = 0; i < 50; ++i) c.send(chunk);
  c.send(".\r\n");
  const std::string r = c.read_replies(1);
  EXPECT_NE(r.find("552 5.3.4"), std::string::npos) << r;
  c.send("MAIL FROM:<x@example.net>\r\nRCPT TO:<" + kBob + ">\r\nDATA\r\n");
  c.read_replies(3);
  c.send("Subject: small after big\r\n\r\nok\r\n.\r\n");
  EXPECT_NE(c.read_replies(1).find("250"), std::string::npos);
  const auto msgs = inbox(kBob);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].props.get_string(tags::PidTagSubject), "small after big");
}

TEST_F(MailFlow, AnUnknownRecipientIsRefusedAtRcptAndNothingIsStored) {
  start();
  Out s = sh(swaks("smtp", "--from carol@example.net --to nobody@example.com --header 'Subject: lost'"));
  EXPECT_NE(s.status, 0);
  EXPECT_NE(s.text.find("550 5.1.1"), std::string::npos) << s.text;
  EXPECT_TRUE(inbox(kAlice).empty());
}

TEST_F(MailFlow, SubmissionTakesAuthOnlyOverTlsAndDeliversToBob) {
  start();
  const std::string ca = quote((data / "tls" / "server.crt").string());
  // Over TLS (STARTTLS, the certificate verified) with AUTH PLAIN.
  Out ok = sh(swaks("submission", "-tls --tls-verify --tls-ca-path " + ca + " --tls-sni localhost --auth PLAIN --auth-user " + kAlice +
                                      " --auth-password " + quote(kPassword) + " --from " + kAlice + " --to " + kBob +
                                      " --header 'Subject: lunch?'"));
  ASSERT_EQ(ok.status, 0) << ok.text;
  auto msgs = inbox(kBob);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].props.get_string(tags::PidTagSubject), "lunch?");
  EXPECT_NE(msgs[0].props.get_string(tags::PidTagTransportMessageHeaders).value_or("").find("with ESMTPSA id"), std::string::npos);
  // Authenticated, but sending as somebody else: refused at MAIL.
  Out spoof = sh(swaks("submission", "-tls --auth PLAIN --auth-user " + kAlice + " --auth-password " + quote(kPassword) +
                                         " --from ceo@example.com --to " + kBob));
  EXPECT_NE(spoof.status, 0);
  EXPECT_NE(spoof.text.find("553 5.7.1"), std::string::npos) << spoof.text;
  // A wrong password: 535.
  Out wrong = sh(swaks("submission", "-tls --auth LOGIN --auth-user " + kAlice + " --auth-password nope --from " + kAlice + " --to " + kBob));
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.text.find("535 5.7.8"), std::string::npos) << wrong.text;
  // No TLS: no AUTH offered, and MAIL without it refused.
  Out clear = sh(swaks("submission", "--from " + kAlice + " --to " + kBob));
  EXPECT_NE(clear.status, 0);
  EXPECT_NE(clear.text.find("530 5.7.0"), std::string::npos) << clear.text;
  // Implicit TLS (port 465 style), AUTH LOGIN.
  Out tlsc = sh(swaks("submissions", "--tls-on-connect --auth LOGIN --auth-user " + kAlice + " --auth-password " + quote(kPassword) +
                                         " --from " + kAlice + " --to " + kBob + " --header 'Subject: over 465'"));
  ASSERT_EQ(tlsc.status, 0) << tlsc.text;
  EXPECT_EQ(inbox(kBob).size(), 2u);
  EXPECT_EQ(inbox(kAlice).size(), 0u);
  EXPECT_NE(server.log().find("authentication failed for '" + kAlice + "'"), std::string::npos);
}

TEST_F(MailFlow, LmtpRepliesPerRecipientAndDeliversToEach) {
  start();
  Out s = sh(swaks("lmtp", "--protocol LMTP --from carol@example.net --to " + kAlice + "," + kBob + " --header 'Subject: for both'"));
  ASSERT_EQ(s.status, 0) << s.text;
  ASSERT_EQ(inbox(kAlice).size(), 1u);
  ASSERT_EQ(inbox(kBob).size(), 1u);
  EXPECT_EQ(inbox(kBob)[0].props.get_string(tags::PidTagSubject), "for both");
  // The raw conversation: one reply per accepted recipient after the data.
  RawClient c(server.port("lmtp"));
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c.read_replies(1).substr(0, 3), "220");
  c.send("LHLO mta.example.net\r\nMAIL FROM:<carol@example.net>\r\nRCPT TO:<" + kAlice + ">\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<" +
         kBob + ">\r\nDATA\r\n");
  const std::string head = c.read_replies(6);
  EXPECT_NE(head.find("550 5.1.1 <nobody@example.com>"), std::string::npos) << head;
  c.send("Subject: raw\r\n\r\nhello\r\n.\r\nQUIT\r\n");
  const std::string tail = c.read_replies(3);
  EXPECT_NE(tail.find("250 2.0.0 <" + kAlice + "> delivered"), std::string::npos) << tail;
  EXPECT_NE(tail.find("250 2.0.0 <" + kBob + "> delivered"), std::string::npos) << tail;
  EXPECT_EQ(inbox(kAlice).size(), 2u);
}

TEST_F(MailFlow, CurlSendsAFileByteForByte) {
  start();
  const std::string eml =
      "From: Dave <dave@example.net>\r\nTo: Alice <alice@example.com>\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"
      "Message-ID: <curl-1@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\nZoë says hello.\r\n.leading dot\r\n";
  std::ofstream(dir / "m.eml", std::ios::binary) << eml;
  Out s = sh("curl -sS --max-time 30 smtp://127.0.0.1:" + server.port("smtp") + " --mail-from dave@example.net --mail-rcpt " + kAlice +
             " -T " + quote((dir / "m.eml").string()));
  ASSERT_EQ(s.status, 0) << s.text;
  auto msgs = inbox(kAlice);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].props.get_string(tags::PidTagSubject), "Grüße");
  EXPECT_EQ(msgs[0].props.get_string(tags::PidTagInternetMessageId), "<curl-1@example.net>");
  const std::string body = msgs[0].props.get_string(tags::PidTagBody).value_or("");
  EXPECT_NE(body.find("Zoë says hello."), std::string::npos) << body;
  // Dot-stuffed by curl, unstuffed by us: one dot, as in the file.
  EXPECT_NE(body.find("\n.leading dot"), std::string::npos) << body;
  EXPECT_EQ(body.find("..leading"), std::string::npos) << body;
}

TEST_F(MailFlow, HostileClientsLeaveNothingBehindAndTheServerGoesOn) {
  std::ofstream(dir / "small.conf") << "smtp_max_message_size = 100000\nsmtp_max_errors = 5\n";
  start({"--config", (dir / "small.conf").string()});
  {
    // Gone in the middle of DATA: nothing is stored.
    RawClient c(server.port("smtp"));
    ASSERT_TRUE(c.connected());
    c.read_replies(1);
    c.send("EHLO x.example\r\nMAIL FROM:<x@example.net>\r\nRCPT TO:<" + kAlice + ">\r\nDATA\r\n");
    c.read_replies(4);
    c.send("Subject: half\r\n\r\nthe first half of a message");
  }
  {
    // Over the limit (SIZE= given, and then the data anyway).
    RawClient c(server.port("smtp"));
    c.read_replies(1);
    c.send("EHLO x.example\r\nMAIL FROM:<x@example.net> SIZE=200000\r\n");
    EXPECT_NE(c.read_replies(2).find("552 5.3.4"), std::string::npos);
    c.send("MAIL FROM:<x@example.net>\r\nRCPT TO:<" + kAlice + ">\r\nDATA\r\n");
    c.read_replies(3);
    std::string big;
    for (int i = 0; i < 3000; ++i) big += std::string(76, 'z') + "\r\n";
    c.send("Subject: big\r\n\r\n" + big + ".\r\n");
    EXPECT_NE(c.read_replies(1).find("552 5.3.4"), std::string::npos);
  }
  {
    // Garbage: refused line by line, then the connection is closed.
    RawClient c(server.port("smtp"));
    c.read_replies(1);
    std::string junk;
    for (int i = 0; i < 10; ++i) junk += "\x16\x03\x01 garbage \xff\xfe\r\n";
    c.send(junk);
    const std::string r = c.read_replies(6);
    EXPECT_NE(r.find("421 4.7.0"), std::string::npos) << r;
  }
  {
    // A 100 KB line with no end, then the connection goes.
    RawClient c(server.port("submission"));
    c.read_replies(1);
    c.send(std::string(100000, 'A'));
    EXPECT_NE(c.read_replies(1).find("500 5.5.2 line too long"), std::string::npos);
  }
  // The server still delivers, and nothing of the above reached a mailbox.
  Out s = sh(swaks("smtp", "--from carol@example.net --to " + kAlice + " --header 'Subject: after the storm'"));
  ASSERT_EQ(s.status, 0) << s.text;
  auto msgs = inbox(kAlice);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].props.get_string(tags::PidTagSubject), "after the storm");
}

TEST_F(MailFlow, ASwaksMessageIsSeenThroughPop3WithCurlAndDeletedAtQuit) {
  start();
  std::ofstream(dir / "notes.txt") << "attached notes\n";
  for (const char* subject : {"first over pop3", "second over pop3"}) {
    Out s = sh(swaks("smtp", "--from carol@example.net --to " + kAlice + " --header " + quote(std::string("Subject: ") + subject) +
                                 " --body 'pop3 body text' --attach " + quote((dir / "notes.txt").string())));
    ASSERT_EQ(s.status, 0) << s.text;
  }
  // LIST over STLS (curl --ssl-reqd, the certificate checked for localhost).
  Out list = pop3("pop3", "/");
  ASSERT_EQ(list.status, 0) << list.text;
  EXPECT_NE(list.text.find("1 "), std::string::npos) << list.text;
  EXPECT_NE(list.text.find("2 "), std::string::npos) << list.text;
  // RETR over implicit TLS: the MIME rendered from the store, with the same subject, sender,
  // recipient, body and attachment as the message swaks sent.
  Out one = pop3("pop3s", "/1");
  ASSERT_EQ(one.status, 0) << one.text;
  EXPECT_NE(one.text.find("Subject: first over pop3"), std::string::npos) << one.text;
  EXPECT_NE(one.text.find("carol@example.net"), std::string::npos) << one.text;
  EXPECT_NE(one.text.find(kAlice), std::string::npos) << one.text;
  EXPECT_NE(one.text.find("pop3 body text"), std::string::npos) << one.text;
  EXPECT_NE(one.text.find("notes.txt"), std::string::npos) << one.text;
  // The size LIST gave is what RETR sent.
  const size_t sp = list.text.find("1 ");
  const size_t listed = std::stoul(list.text.substr(sp + 2));
  EXPECT_EQ(listed, one.text.size()) << one.text;
  // UIDL: the message ids, the same in a second session.
  Out uidl = pop3("pop3", "/", "-X UIDL");
  ASSERT_EQ(uidl.status, 0) << uidl.text;
  EXPECT_EQ(pop3("pop3", "/", "-X UIDL").text, uidl.text);
  // RETR marked it read; the other one stays unread.
  auto msgs = inbox(kAlice);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_NE(msgs[0].props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Read, 0);
  EXPECT_EQ(msgs[1].props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Read, 0);
  // DELE 1 then QUIT: soft-deleted, out of the Inbox's view.
  Out dele = pop3("pop3", "/1", "-X DELE -I");
  EXPECT_EQ(dele.status, 0) << dele.text;
  EXPECT_EQ(inbox_count(kAlice), 1u);
  Out again = pop3("pop3", "/");
  EXPECT_EQ(again.text.find("2 "), std::string::npos) << again.text;
  // A wrong password: curl fails, the server logs it.
  Out wrong = pop3("pop3", "/", "", "wrong");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(server.log().find("pop3 127.0.0.1: authentication failed"), std::string::npos);
}
