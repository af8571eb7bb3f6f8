// Relaying (spooler.h, smtp_client.h) between real servers over loopback: `openmapi serve` A,
// whose users are @example.com, relays what they send to other domains through a smarthost B (a
// second `openmapi serve`, submission with STARTTLS and AUTH required, its certificate checked),
// or directly to a domain literal's host (Python's smtpd, a peer SMTP server). Messages go in
// through MAPI (the store's queue) and through swaks on A's submission port; refusals and expiry
// come back as RFC 3464 reports that the store reads as REPORT.IPM.Note.NDR; a kill -9 of A with
// messages queued loses none and sends none twice.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include <random>

#include "core/propbag.h"
#include "serve_util.h"
#include "server/delivery.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace openmapi;
using openmapi::testing::Out;
using openmapi::testing::quote;
using openmapi::testing::sh;
using openmapi::testing::slurp;

namespace {

const std::string kAlice = "alice@example.com", kCarol = "carol@example.com", kBob = "bob@remote.test", kPassword = "s3cret pass";

// A port nobody listens on now (bound, then let go).
std::string free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
  close(s);
  return std::to_string(ntohs(a.sin_port));
}

bool wait_for(const std::function<bool()>& done, int seconds = 30) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

class Relay : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-relay-" + std::to_string(rd()));
    fs::create_directories(dir / "a");
    fs::create_directories(dir / "b");
    a_data = dir / "a" / "data";
    b_data = dir / "b" / "data";
    add_user(a_data, kAlice, "Alice Example");
    add_user(a_data, kCarol, "Carol Example");
    add_user(b_data, kBob, "Bob Remote");
    add_user(b_data, kAlice, "Alice at the provider");  // the account A's relay logs in with
    std::ofstream(dir / "relay.password") << kPassword << "\n";
  }
  void TearDown() override {
    a.stop();
    b.stop();
    fs::remove_all(dir);
  }
  static void add_user(const fs::path& data, const std::string& address, const std::string& name) {
    Out add = openmapi::testing::add_user(data, address, name, kPassword);
    ASSERT_EQ(add.status, 0) << add.text;
  }
  // The smarthost: submission (STARTTLS, then AUTH) on `port` (0: any).
  void start_b(const std::string& port = "0") {
    std::ofstream(dir / "b.conf") << "relay = none\n";  // only its own users: anything else is refused at RCPT
    std::string why;
    ASSERT_TRUE(b.start(dir / "b", b_data, {"--config", (dir / "b.conf").string(), "--listen", "submission=127.0.0.1:" + port}, {"submission"}, why))
        << why;
  }
  // Our server, relaying as `relay_lines` say (config lines).
  void start_a(const std::string& relay_lines) {
    std::ofstream(dir / "a.conf") << relay_lines;
    std::string why;
    ASSERT_TRUE(a.start(dir / "a", a_data, {"--config", (dir / "a.conf").string(), "--listen", "submission=127.0.0.1:0"}, {"submission"}, why))
        << why;
  }
  std::string smarthost_lines(const std::string& port) const {
    return "relay = 127.0.0.1:" + port + "\nrelay_user = " + kAlice + "\nrelay_password_file = " + (dir / "relay.password").string() +
           "\nrelay_ca_file = " + (b_data / "tls" / "server.crt").string() + "\nrelay_timeout = 20\n";
  }
  // A message in Alice's Outbox with an attachment, submitted.
  store::MessageId submit(const std::vector<std::pair<std::string, std::string>>& to, const std::string& subject, bool rich = false) {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(a_data.string(), kAlice));
    Message m;
    m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
    m.props.set(PropValue::string(tags::PidTagSubject, subject));
    m.props.set(PropValue::string(tags::PidTagBody, "Körper des Briefes.\r\nSecond line.\r\n"));
    m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Unsent));
    for (const auto& [name, address] : to) {
      PropertyBag r;
      r.set(PropValue::i32(tags::PidTagRowid, int32_t(m.recipients.size())));
      r.set(PropValue::i32(tags::PidTagRecipientType, recipient_type::To));
      r.set(PropValue::string(tags::PidTagDisplayName, name));
      r.set(PropValue::string(tags::PidTagAddressType, "SMTP"));
      r.set(PropValue::string(tags::PidTagEmailAddress, address));
      r.set(PropValue::string(tags::PidTagSmtpAddress, address));
      if (rich) r.set(PropValue::boolean(PropTag(0x3A40, PropType::Boolean), true));  // PidTagSendRichInfo
      m.recipients.push_back(r);
    }
    Attachment att;
    att.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    att.props.set(PropValue::string(tags::PidTagAttachLongFilename, "data.bin"));
    Bytes data(5000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7);
    att.props.set(PropValue::binary(tags::PidTagAttachDataBinary, data));
    m.attachments.push_back(std::move(att));
    const store::MessageId id = mb->save_message(mb->special_folder(store::SpecialFolder::Outbox), m);
    mb->submit_message(id);
    return id;
  }
  // The messages of `address`'s Inbox, oldest first, with their ids.
  static std::vector<std::pair<store::MessageId, Message>> inbox_ids(const fs::path& data, const std::string& address) {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(data.string(), address));
    const store::FolderId in = mb->special_folder(store::SpecialFolder::Inbox);
    std::vector<std::pair<store::MessageId, Message>> out;
    for (const auto& c : mb->changes_since(0, in))
      if (c.kind == store::ChangeKind::Created && !c.is_folder) out.emplace_back(c.id, mb->load_message(c.id));
    return out;
  }
  static std::vector<Message> inbox(const fs::path& data, const std::string& address) {
    std::vector<Message> out;
    for (auto& [id, m] : inbox_ids(data, address)) out.push_back(std::move(m));
    return out;
  }
  size_t queued() const {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(a_data.string(), kAlice));
    return mb->queue_entries().size();
  }

  fs::path dir, a_data, b_data;
  openmapi::testing::ServerProcess a, b;
};

}  // namespace

TEST_F(Relay, AMessageSubmittedThroughMapiReachesTheLocalRecipientAndTheSmarthostIntact) {
  start_b();
  start_a(smarthost_lines(b.port("submission")));
  submit({{"Carol Example", kCarol}, {"Bob Remote", kBob}}, "Quarterly figures");
  ASSERT_TRUE(wait_for([&] { return inbox(b_data, kBob).size() == 1 && queued() == 0; })) << a.log() << b.log();
  for (const Message& m : {inbox(b_data, kBob).at(0), inbox(a_data, kCarol).at(0)}) {
    EXPECT_EQ(m.props.get_string(tags::PidTagSubject), "Quarterly figures");
    EXPECT_NE(m.props.get_string(tags::PidTagBody).value_or("").find("Körper des Briefes."), std::string::npos);
    EXPECT_EQ(m.props.get_string(tags::PidTagSenderSmtpAddress).value_or(m.props.get_string(tags::PidTagSenderEmailAddress).value_or("")), kAlice);
    ASSERT_EQ(m.attachments.size(), 1u);
    const PropValue* data = m.attachments[0].props.find(tags::PidTagAttachDataBinary);
    ASSERT_TRUE(data);
    const Bytes got = data->get<Bytes>();
    ASSERT_EQ(got.size(), 5000u);
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], uint8_t(i * 7)) << i;
    ASSERT_EQ(m.recipients.size(), 2u);  // both in the To line
  }
  // B received it over TLS from an authenticated client (RFC 3848 "ESMTPSA" in its Received line).
  const std::string headers = inbox(b_data, kBob).at(0).props.get_string(tags::PidTagTransportMessageHeaders).value_or("");
  EXPECT_NE(headers.find("with ESMTPSA"), std::string::npos) << headers;
  // Alice: sent, in Sent Items, nothing queued.
  auto mb = store::open_sqlite_mailbox(store::mailbox_file(a_data.string(), kAlice));
  EXPECT_EQ(mb->contents_table(mb->special_folder(store::SpecialFolder::SentItems))->row_count(), 1u);
  EXPECT_EQ(mb->contents_table(mb->special_folder(store::SpecialFolder::Outbox))->row_count(), 0u);
  EXPECT_NE(a.log().find("(TLS)"), std::string::npos) << a.log();
  auto bob = store::open_sqlite_mailbox(store::mailbox_file(b_data.string(), kBob));
  EXPECT_EQ(server::message_mime(*bob, inbox_ids(b_data, kBob).at(0).first).find("application/ms-tnef"), std::string::npos);
}

// MS-OXCMAIL 2.4.3.4: a recipient with PidTagSendRichInfo gets the message with its TNEF
// (winmail.dat) too, which the smarthost's delivery unpacks into the message; the others get
// plain MIME (the first test).
TEST_F(Relay, ARichFormatRecipientGetsTheTnef) {
  start_b();
  start_a(smarthost_lines(b.port("submission")));
  submit({{"Bob Remote", kBob}}, "With TNEF", true);
  ASSERT_TRUE(wait_for([&] { return inbox(b_data, kBob).size() == 1 && queued() == 0; })) << a.log() << b.log();
  auto bob = store::open_sqlite_mailbox(store::mailbox_file(b_data.string(), kBob));
  const std::string mime = server::message_mime(*bob, inbox_ids(b_data, kBob).at(0).first);
  EXPECT_NE(mime.find("application/ms-tnef"), std::string::npos);
  const Message m = inbox(b_data, kBob).at(0);
  EXPECT_EQ(m.props.get_string(tags::PidTagSubject), "With TNEF");
  ASSERT_EQ(m.attachments.size(), 1u);  // data.bin, from the TNEF (winmail.dat itself is not kept)
  EXPECT_EQ(m.attachments[0].props.get_string(tags::PidTagAttachLongFilename), "data.bin");
}

TEST_F(Relay, SwaksOnTheSubmissionPortIsRelayedAndLeavesNoCopyBehind) {
  start_b();
  start_a(smarthost_lines(b.port("submission")));
  const std::string mail = "swaks --silent 1 --timeout 30 --server 127.0.0.1 --port " + a.port("submission") +
                           " --tls --tls-verify --tls-ca-path " + quote((a_data / "tls" / "server.crt").string()) +
                           " --tls-sni localhost --auth PLAIN --auth-user " + kAlice + " --auth-password " + quote(kPassword) + " --from " + kAlice +
                           " --to " + kBob + "," + kCarol + " --header 'Subject: swaks relayed' --body 'Sent with swaks.'";
  Out o = sh(mail);
  ASSERT_EQ(o.status, 0) << o.text << a.log();
  ASSERT_TRUE(wait_for([&] { return inbox(b_data, kBob).size() == 1 && queued() == 0; })) << a.log() << b.log();
  const Message m = inbox(b_data, kBob).at(0);
  EXPECT_EQ(m.props.get_string(tags::PidTagSubject), "swaks relayed");
  EXPECT_NE(m.props.get_string(tags::PidTagBody).value_or("").find("Sent with swaks."), std::string::npos);
  // As it came, with A's Received line before swaks's header: byte for byte after the trace lines.
  auto bob = store::open_sqlite_mailbox(store::mailbox_file(b_data.string(), kBob));
  const std::string relayed = server::message_mime(*bob, inbox_ids(b_data, kBob).at(0).first);
  EXPECT_NE(relayed.find("by localhost"), std::string::npos);
  EXPECT_EQ(inbox(a_data, kCarol).size(), 1u);  // the local recipient directly
  auto mb = store::open_sqlite_mailbox(store::mailbox_file(a_data.string(), kAlice));
  EXPECT_EQ(mb->contents_table(mb->special_folder(store::SpecialFolder::SentItems))->row_count(), 0u);
  EXPECT_EQ(mb->contents_table(mb->special_folder(store::SpecialFolder::Outbox))->row_count(), 0u);
}

TEST_F(Relay, ARecipientTheSmarthostRefusesComesBackAsAReport) {
  start_b();
  start_a(smarthost_lines(b.port("submission")));
  submit({{"Nobody", "nobody@remote.test"}, {"Bob Remote", kBob}}, "To one who is not there");
  ASSERT_TRUE(wait_for([&] { return queued() == 0 && inbox(a_data, kAlice).size() == 1; })) << a.log() << b.log();
  EXPECT_EQ(inbox(b_data, kBob).size(), 1u);
  const Message ndr = inbox(a_data, kAlice).at(0);
  EXPECT_EQ(ndr.props.get_string(tags::PidTagMessageClass), "REPORT.IPM.Note.NDR");
  EXPECT_EQ(ndr.props.get_string(tags::PidTagSubject), "Undeliverable: To one who is not there");
  EXPECT_EQ(ndr.props.get_string(tags::PidTagOriginalSubject), "To one who is not there");
  ASSERT_EQ(ndr.recipients.size(), 1u);
  const PropertyBag& r = ndr.recipients[0];
  EXPECT_EQ(r.get_string(tags::PidTagSmtpAddress), "nobody@remote.test");
  EXPECT_EQ(r.get_string(tags::PidTagDisplayName), "Nobody");
  EXPECT_EQ(r.get_i32(tags::PidTagNonDeliveryReportStatusCode), 571);  // B: 550 5.7.1 (it relays to no other)
  EXPECT_EQ(r.get_i32(tags::PidTagNonDeliveryReportDiagCode), 29);      // MAPI_DIAG_SUBMISSION_PROHIBITED
  EXPECT_EQ(r.get_string(tags::PidTagRemoteMessageTransferAgent), "127.0.0.1");
  // Over IMAP and POP3 it is the RFC 3464 report itself.
  auto mb = store::open_sqlite_mailbox(store::mailbox_file(a_data.string(), kAlice));
  const std::string mime = server::message_mime(*mb, inbox_ids(a_data, kAlice).at(0).first);
  EXPECT_NE(mime.find("multipart/report; report-type=delivery-status"), std::string::npos);
  EXPECT_NE(mime.find("Final-Recipient: rfc822; nobody@remote.test"), std::string::npos) << mime;
  EXPECT_NE(mime.find("Return-Path: <>"), std::string::npos);  // the null sender: no report on a report
}

TEST_F(Relay, ASmarthostThatIsDownKeepsTheQueueThroughAKillAndAFlushSendsEachOnce) {
  const std::string port = free_port();
  start_a(smarthost_lines(port));
  for (int i = 0; i < 3; ++i) submit({{"Bob Remote", kBob}}, "Queued " + std::to_string(i));
  // Each is tried, fails for now and stays queued with the reason.
  ASSERT_TRUE(wait_for([&] {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(a_data.string(), kAlice));
    auto q = mb->queue_entries();
    return q.size() == 3 && std::all_of(q.begin(), q.end(), [](const auto& e) { return e.state.attempts >= 1; });
  })) << a.log();
  Out ls = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(a_data.string()) + " queue ls --json");
  ASSERT_EQ(ls.status, 0) << ls.text;
  const auto j = nlohmann::json::parse(ls.text);
  ASSERT_EQ(j["count"], 3);
  EXPECT_GE(j["queue"][0]["attempts"].get<int>(), 1);
  EXPECT_NE(j["queue"][0]["last_error"].get<std::string>().find("cannot connect"), std::string::npos) << ls.text;
  EXPECT_FALSE(j["queue"][0]["next_attempt"].get<std::string>().empty());

  kill(a.pid(), SIGKILL);
  a.reap();
  start_b(port);
  start_a(smarthost_lines(port));
  // The next try is 30 s away (kept across the restart); a flush makes it now.
  Out flush = sh(quote(OPENMAPI_BIN) + " --data-dir " + quote(a_data.string()) + " queue flush");
  ASSERT_EQ(flush.status, 0) << flush.text;
  ASSERT_TRUE(wait_for([&] { return queued() == 0; })) << a.log() << b.log();
  std::vector<Message> got = inbox(b_data, kBob);
  ASSERT_EQ(got.size(), 3u) << a.log();
  std::set<std::string> subjects;
  for (const Message& m : got) subjects.insert(m.props.get_string(tags::PidTagSubject).value_or(""));
  EXPECT_EQ(subjects, (std::set<std::string>{"Queued 0", "Queued 1", "Queued 2"}));
}

TEST_F(Relay, AMessageStillUndeliveredAfterTheQueueLifetimeIsReturned) {
  start_a(smarthost_lines(free_port()) + "queue_lifetime = 1\n");
  submit({{"Bob Remote", kBob}}, "Too late");
  ASSERT_TRUE(wait_for([&] { return queued() == 0 && inbox(a_data, kAlice).size() == 1; })) << a.log();
  const Message ndr = inbox(a_data, kAlice).at(0);
  EXPECT_EQ(ndr.props.get_string(tags::PidTagMessageClass), "REPORT.IPM.Note.NDR");
  ASSERT_EQ(ndr.recipients.size(), 1u);
  EXPECT_EQ(ndr.recipients[0].get_i32(tags::PidTagNonDeliveryReportStatusCode), 547);  // 4.4.7, final now: 5.4.7
  EXPECT_EQ(ndr.recipients[0].get_i32(tags::PidTagNonDeliveryReportDiagCode), 5);      // MAPI_DIAG_MAXIMUM_TIME_EXPIRED
  EXPECT_NE(ndr.recipients[0].get_string(tags::PidTagSupplementaryInfo).value_or("").find("cannot connect"), std::string::npos);
}

// Direct delivery (relay = mx) to a domain literal: the host is the address itself; the peer is
// Python's smtpd, which prints what it receives.
TEST_F(Relay, DirectDeliveryToADomainLiteralReachesAPeerServer) {
  const std::string port = free_port();
  const fs::path peer_out = dir / "smtpd.out";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    FILE* out = freopen(peer_out.c_str(), "w", stdout);
    FILE* err = freopen((dir / "smtpd.err").c_str(), "w", stderr);
    (void)out;
    (void)err;
    execlp("python3", "python3", "-W", "ignore", "-u", "-m", "smtpd", "-n", "-c", "DebuggingServer", ("127.0.0.1:" + port).c_str(), nullptr);
    _exit(127);
  }
  openmapi::testing::ServerProcess peer;
  peer.adopt(pid);
  ASSERT_TRUE(wait_for([&] { return sh("bash -c 'echo > /dev/tcp/127.0.0.1/" + port + "'").status == 0; }, 20)) << slurp(dir / "smtpd.err");
  start_a("relay = mx\nrelay_port = " + port + "\nrelay_timeout = 20\n");
  submit({{"Dave", "dave@[127.0.0.1]"}}, "Straight to the host");
  ASSERT_TRUE(wait_for([&] { return queued() == 0; })) << a.log();
  ASSERT_TRUE(wait_for([&] { return slurp(peer_out).find("Straight to the host") != std::string::npos; }, 10)) << slurp(peer_out);
  const std::string got = slurp(peer_out);
  EXPECT_NE(got.find("X-Peer:"), std::string::npos);
  EXPECT_NE(got.find("data.bin"), std::string::npos) << got;  // the attachment went along
  EXPECT_NE(got.find("From: Alice Example <alice@example.com>"), std::string::npos) << got;
  EXPECT_EQ(inbox(a_data, kAlice).size(), 0u);  // no report
  peer.stop();
}
