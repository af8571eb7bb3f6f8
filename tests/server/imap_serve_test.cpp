// IMAP in `openmapi serve` with real clients over loopback: swaks delivers, imapflow (node),
// curl and mbsync (isync) read, edit and mirror, and the store API checks what they did; POP3
// (curl) returns the same bytes as IMAP.
// Hostile input from a raw socket and from openssl s_client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include <random>

#include "core/propbag.h"
#include "core/entryid.h"
#include "core/namedprop.h"
#include "serve_util.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace openmapi;
using json = nlohmann::json;
using openmapi::testing::Out;
using openmapi::testing::quote;
using openmapi::testing::sh;
using openmapi::testing::slurp;

namespace {

const std::string kAlice = "alice@example.com", kPassword = "s3cret pass";

class Imap : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-imap-" + std::to_string(rd()));
    fs::create_directories(dir);
    data = dir / "data";
    Out add = openmapi::testing::add_user(data, kAlice, "Alice Example", kPassword);
    ASSERT_EQ(add.status, 0) << add.text;
    std::string why;
    ASSERT_TRUE(server.start(dir, data,
                             {"--listen", "smtp=127.0.0.1:0", "--listen", "imap=127.0.0.1:0", "--listen", "imaps=127.0.0.1:0", "--listen",
                              "pop3s=127.0.0.1:0"},
                             {"smtp", "imap", "imaps", "pop3s"}, why))
        << why;
  }
  void TearDown() override {
    server.stop();
    fs::remove_all(dir);
  }
  std::string ca() const { return (data / "tls" / "server.crt").string(); }
  void send(const std::string& subject, const std::string& extra = "") {
    Out o = sh("swaks --silent 1 --timeout 30 --server 127.0.0.1 --port " + server.port("smtp") + " --from bob@example.org --to " + kAlice +
               " --header " + quote("Subject: " + subject) + " " + extra);
    ASSERT_EQ(o.status, 0) << o.text;
  }
  json imapflow(const std::string& scenario) const {
    Out o = sh("timeout 60 node " + std::string(OPENMAPI_SOURCE_DIR) + "/tests/peers/imapflow-session.js " + scenario + " " +
               server.port("imaps") + " " + quote(ca()) + " " + quote(kAlice) + " " + quote(kPassword));
    EXPECT_EQ(o.status, 0) << o.text;
    // The last line is the result.
    size_t start = o.text.find_last_of('\n', o.text.size() >= 2 ? o.text.size() - 2 : 0);
    const std::string last = o.text.substr(start == std::string::npos ? 0 : start + 1);
    if (last.empty() || last[0] != '{') {
      ADD_FAILURE() << o.text;
      return json::object({{"error", o.text}});
    }
    return json::parse(last);

  }
  Out curl(const std::string& url_path, const std::string& extra = "", const std::string& password = kPassword) const {
    return sh("curl -sS --max-time 30 --cacert " + quote(ca()) + " -u " + quote(kAlice + ":" + password) + " " + extra + " " +
              quote("imaps://localhost:" + server.port("imaps") + url_path));
  }
  std::unique_ptr<store::Mailbox> mailbox() const { return store::open_sqlite_mailbox(store::mailbox_file(data.string(), kAlice)); }
  std::vector<Message> messages(const std::string& folder) const {
    auto mb = mailbox();
    auto t = mb->contents_table(mb->folder_by_path(folder));
    t->set_columns({tags::PidTagMid});
    std::vector<Message> out;
    for (const auto& row : t->query_rows(1000)) out.push_back(mb->load_message(ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc));
    return out;
  }

  fs::path dir, data;
  openmapi::testing::ServerProcess server;
};

// Sends `input` to 127.0.0.1:`port` in one write (or, with `pieces`, one write per piece) and
// returns what the server said until it closed (or 10 s passed).
std::string raw_exchange(const std::string& port, const std::vector<std::string>& pieces) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(std::stoi(port)));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "connect failed";
  timeval tv{10, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[4096];
  ssize_t n = recv(s, buf, sizeof buf, 0);  // the greeting
  if (n > 0) got.append(buf, size_t(n));
  for (const auto& p : pieces) {
    (void)send(s, p.data(), p.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  shutdown(s, SHUT_WR);
  while ((n = recv(s, buf, sizeof buf, 0)) > 0) got.append(buf, size_t(n));
  close(s);
  return got;
}

}  // namespace

TEST_F(Imap, ASwaksMessageReadsTheSameThroughImapflowCurlAndTheStore) {
  const fs::path attachment = dir / "report.csv";
  std::ofstream(attachment) << "quarter,revenue\nQ1,100\nQ2,250\n";
  send("Quarterly report", "--body 'The numbers are attached.' --attach-type text/csv --attach-name report.csv --attach @" +
                               quote(attachment.string()));
  const json r = imapflow("read");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  // The folders, with the special ones flagged (RFC 6154).
  std::map<std::string, std::string> uses;
  for (const auto& m : r["mailboxes"]) uses[m["path"]] = m["specialUse"].is_null() ? "" : m["specialUse"].get<std::string>();
  EXPECT_EQ(uses.count("INBOX"), 1u);
  EXPECT_EQ(uses["Sent Items"], "\\Sent");
  EXPECT_EQ(uses["Deleted Items"], "\\Trash");
  EXPECT_EQ(uses["Drafts"], "\\Drafts");
  EXPECT_EQ(uses["Junk Email"], "\\Junk");
  EXPECT_EQ(uses.count("Calendar"), 0u);  // not mail
  ASSERT_EQ(r["messages"].size(), 1u) << r.dump();
  const json& m = r["messages"][0];
  EXPECT_EQ(m["subject"], "Quarterly report");
  EXPECT_EQ(m["from"][0], "bob@example.org");
  EXPECT_EQ(m["to"][0], kAlice);
  EXPECT_EQ(m["size"], m["sourceLength"]);  // RFC822.SIZE is the size of BODY[]
  ASSERT_EQ(m["attachments"].size(), 1u) << m.dump();
  EXPECT_EQ(m["attachments"][0]["filename"], "report.csv");
  EXPECT_EQ(m["parsed"]["subject"], "Quarterly report");
  EXPECT_NE(m["parsed"]["text"].get<std::string>().find("The numbers are attached."), std::string::npos);
  ASSERT_EQ(m["parsed"]["attachments"].size(), 1u);
  EXPECT_EQ(m["parsed"]["attachments"][0]["size"], fs::file_size(attachment));
  EXPECT_EQ(m["flags"].size(), 0u);  // not \Seen: imapflow fetched BODY.PEEK[]

  // The store says the same, and the UID is the message id.
  const std::vector<Message> inbox = messages("Inbox");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].props.get_string(tags::PidTagSubject).value_or(""), "Quarterly report");
  EXPECT_EQ(inbox[0].attachments.size(), 1u);
  EXPECT_EQ(inbox[0].props.get_i64(tags::PidTagMid).value_or(0),
            int64_t(ObjectId{store::kLocalReplicaId, m["uid"].get<uint64_t>()}.to_u64()));

  // curl, over implicit TLS and over STARTTLS, reads a header field and the whole message.
  const std::string uid = std::to_string(m["uid"].get<uint64_t>());
  Out subject = curl("/INBOX;UID=" + uid + ";SECTION=HEADER.FIELDS%20(SUBJECT)");
  EXPECT_EQ(subject.status, 0) << subject.text;
  EXPECT_EQ(subject.text, "Subject: Quarterly report\r\n\r\n");
  Out whole = sh("curl -sS --max-time 30 --ssl-reqd --cacert " + quote(ca()) + " -u " + quote(kAlice + ":" + kPassword) +
                 " 'imap://localhost:" + server.port("imap") + "/INBOX;UID=" + uid + "'");
  EXPECT_EQ(whole.status, 0) << whole.text;
  EXPECT_EQ(whole.text.size(), m["size"].get<size_t>());
  EXPECT_NE(whole.text.find("report.csv"), std::string::npos);
  // POP3 sends the very same bytes.
  Out pop = sh("curl -sS --max-time 30 --cacert " + quote(ca()) + " -u " + quote(kAlice + ":" + kPassword) + " pop3s://localhost:" +
               server.port("pop3s") + "/1");
  EXPECT_EQ(pop.status, 0) << pop.text;
  EXPECT_EQ(pop.text, whole.text);
  // Reading BODY[] (curl does not PEEK) made it \Seen, in the store too.
  EXPECT_TRUE(messages("Inbox")[0].props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Read);
  // A wrong password is refused (curl: 67, login denied).
  EXPECT_EQ(curl("/INBOX", "", "wrong").status, 67);
}

TEST_F(Imap, ImapflowCreatesAppendsCopiesFlagsAndMovesAndTheStoreSeesIt) {
  send("to be filed");
  const json r = imapflow("edit");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  ASSERT_TRUE(r["appended"]["uid"].is_number()) << r.dump();
  const uint64_t appended = r["appended"]["uid"];
  ASSERT_EQ(r["projectUids"].size(), 2u) << r.dump();
  const uint64_t copy = r["projectUids"][1];
  EXPECT_GT(copy, appended);  // UIDs grow in a mailbox
  EXPECT_EQ(r["copied"].size(), 1u);
  EXPECT_EQ(r["flagged"], json::array({copy}));
  EXPECT_EQ(r["seen"], json::array({appended}));
  EXPECT_EQ(r["keyword"], json::array({appended}));
  EXPECT_EQ(r["left"], 1);  // the moved message is gone from Projects/2026
  ASSERT_EQ(r["moved"].size(), 1u) << r.dump();

  // Through the store: the folder, the appended message read and with its category, the moved
  // copy back in the Inbox and flagged for follow-up (PidTagFlagStatus 2).
  auto mb = mailbox();
  const store::FolderId projects = mb->folder_by_path("Projects/2026");
  EXPECT_EQ(mb->folder_properties(projects).get_string(tags::PidTagContainerClass).value_or(""), "IPF.Note");
  const std::vector<Message> filed = messages("Projects/2026");
  ASSERT_EQ(filed.size(), 1u);
  EXPECT_EQ(filed[0].props.get_string(tags::PidTagSubject).value_or(""), "appended by imapflow");
  EXPECT_TRUE(filed[0].props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Read);
  const PropTag keywords(mb->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords"), false), PropType::MultipleString);
  const PropValue* k = filed[0].props.find(keywords);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->get<std::vector<std::string>>(), std::vector<std::string>{"Work"});
  const std::vector<Message> inbox = messages("Inbox");
  ASSERT_EQ(inbox.size(), 2u);
  int flagged = 0;
  for (const auto& msg : inbox) flagged += msg.props.get_i32(PropTag(0x1090, PropType::Integer32)).value_or(0) == 2;
  EXPECT_EQ(flagged, 1);
}

TEST_F(Imap, IdleReportsADeliveryWhileWaiting) {
  send("before idle");
  const fs::path out = dir / "idle.out";
  const std::string cmd = "timeout 60 node " + std::string(OPENMAPI_SOURCE_DIR) + "/tests/peers/imapflow-session.js idle " + server.port("imaps") +
                          " " + quote(ca()) + " " + quote(kAlice) + " " + quote(kPassword) + " > " + quote(out.string()) + " 2>&1 &";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {
    ready = slurp(out).find("\"ready\":true") != std::string::npos;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready) << slurp(out);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // imapflow enters IDLE after selecting
  send("arrived during idle");
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text = slurp(out);
    if (text.find("newMessage") != std::string::npos || text.find("error") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(text.find("newMessage"), std::string::npos) << text << server.log();
  const json r = json::parse(text.substr(text.find_last_of('\n', text.size() - 2) + 1));
  EXPECT_EQ(r["newMessage"]["subject"], "arrived during idle");
}

TEST_F(Imap, MbsyncMirrorsTheMailboxToAMaildirAndBack) {
  send("mirror me");
  const fs::path maildir = dir / "Maildir";
  fs::create_directories(maildir);
  const fs::path rc = dir / "mbsyncrc";
  std::ofstream(rc) << "IMAPAccount test\nHost localhost\nPort " << server.port("imaps") << "\nUser " << kAlice << "\nPass \"" << kPassword
                    << "\"\nSSLType IMAPS\nCertificateFile " << ca() << "\n\nIMAPStore remote\nAccount test\n\nMaildirStore local\nPath "
                    << maildir.string() << "/\nInbox " << maildir.string() << "/INBOX\nSubFolders Verbatim\n\nChannel mirror\nFar :remote:\n"
                    << "Near :local:\nPatterns INBOX \"Sent Items\"\nCreate Both\nSyncState *\nSync All\nExpunge Both\n";
  Out sync = sh("timeout 60 mbsync -c " + quote(rc.string()) + " -a");
  ASSERT_EQ(sync.status, 0) << sync.text << server.log();
  // The message is a file in the Maildir's INBOX.
  std::string found;
  for (const auto& sub : {"new", "cur"})
    if (fs::exists(maildir / "INBOX" / sub))
      for (const auto& f : fs::directory_iterator(maildir / "INBOX" / sub)) found += slurp(f.path());
  EXPECT_NE(found.find("Subject: mirror me"), std::string::npos) << found;
  EXPECT_TRUE(fs::exists(maildir / "Sent Items"));
  // A message written into the Maildir, and one marked seen there, go back to the server.
  std::ofstream(maildir / "INBOX" / "new" / "1700000000.local.host") << "From: dave@example.net\r\nTo: " << kAlice
                                                                      << "\r\nSubject: written locally\r\n\r\nfrom the maildir\r\n";
  for (const auto& sub : {"new", "cur"})
    for (const auto& f : fs::directory_iterator(maildir / "INBOX" / sub)) {
      if (slurp(f.path()).find("mirror me") == std::string::npos) continue;
      std::string name = f.path().filename().string();
      const size_t info = name.find(":2,");
      name = (info == std::string::npos ? name : name.substr(0, info)) + ":2,S";
      fs::rename(f.path(), maildir / "INBOX" / "cur" / name);
    }
  sync = sh("timeout 60 mbsync -c " + quote(rc.string()) + " -a");
  ASSERT_EQ(sync.status, 0) << sync.text;
  const std::vector<Message> inbox = messages("Inbox");
  ASSERT_EQ(inbox.size(), 2u);
  for (const auto& m : inbox) {
    const std::string subject = m.props.get_string(tags::PidTagSubject).value_or("");
    EXPECT_TRUE(subject == "mirror me" || subject == "written locally") << subject;
    if (subject == "mirror me") EXPECT_TRUE(m.props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Read);
  }
  // A third run has nothing to do and changes nothing.
  sync = sh("timeout 60 mbsync -c " + quote(rc.string()) + " -a");
  EXPECT_EQ(sync.status, 0) << sync.text;
  EXPECT_EQ(messages("Inbox").size(), 2u);
}

TEST_F(Imap, HostileInputGetsProtocolErrorsAndStoresNothing) {
  const std::string port = server.port("imap");
  // No password goes over plaintext.
  std::string got = raw_exchange(port, {"a1 LOGIN alice@example.com secret\r\na2 AUTHENTICATE PLAIN\r\na3 LOGOUT\r\n"});
  EXPECT_NE(got.find("a1 NO [PRIVACYREQUIRED]"), std::string::npos) << got;
  EXPECT_NE(got.find("a2 NO [PRIVACYREQUIRED]"), std::string::npos) << got;
  EXPECT_NE(got.find("a3 OK"), std::string::npos) << got;
  // An over-long line ends the connection; a huge literal is refused before it is read;
  // garbage gets BAD and the connection goes on.
  got = raw_exchange(port, {"a1 NOOP " + std::string(100000, 'x') + "\r\n"});
  EXPECT_NE(got.find("* BYE [TOOBIG]"), std::string::npos) << got.substr(0, 300);
  got = raw_exchange(port, {"a1 APPEND INBOX {50000000}\r\n", "\x01\x02garbage(\r\n", "a2 CAPABILITY\r\n"});
  EXPECT_NE(got.find("a1 NO [TOOBIG]"), std::string::npos) << got;
  EXPECT_NE(got.find("* BAD"), std::string::npos) << got;
  EXPECT_NE(got.find("a2 OK CAPABILITY"), std::string::npos) << got;
  // A client that logs in over TLS and vanishes in the middle of an APPEND stores nothing.
  const std::string script = "(printf 'a1 LOGIN %s %s\\r\\n' " + quote(kAlice) + " " + quote("\"" + kPassword + "\"") +
                             "; sleep 2; printf 'a2 APPEND INBOX {1000+}\\r\\nSubject: half\\r\\n\\r\\nonly part'; sleep 1) | timeout 20 "
                             "openssl s_client -quiet -connect 127.0.0.1:" + server.port("imaps") + " -CAfile " + quote(ca()) + " 2>/dev/null";
  Out half = sh(script);
  EXPECT_NE(half.text.find("a1 OK"), std::string::npos) << half.text;
  EXPECT_EQ(messages("Inbox").size(), 0u);
  // The server is still there.
  EXPECT_EQ(curl("/").status, 0);
}

TEST_F(Imap, MessagesComeBackByteForByteAsTheyCameIn) {
  // Oddities a rendering would not keep: header case and order, a folded header, an unusual
  // boundary, a quoted-printable part with trailing spaces, no final line break.
  const std::string mime =
      "subject: Byte   for byte\r\nFROM: Carol <carol@example.net>\r\nto: alice@example.com\r\nX-Custom:  first\r\n\tfolded\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"=_odd\"\r\n\r\n--=_odd\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe   \r\n"
      "--=_odd\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>\r\n--=_odd--";
  const fs::path file = dir / "odd.eml";
  std::ofstream(file, std::ios::binary) << mime;
  // APPEND (curl uploads with APPEND), then FETCH BODY[] of it.
  Out append = curl("/INBOX", "-T " + quote(file.string()));
  ASSERT_EQ(append.status, 0) << append.text;
  Out back = curl("/INBOX;MAILINDEX=1");
  ASSERT_EQ(back.status, 0) << back.text;
  EXPECT_EQ(back.text, mime);
  // Delivered over SMTP: what swaks sent (it ends the data with a line break of its own), after
  // our Return-Path and Received.
  Out sent = sh("swaks --silent 1 --timeout 30 --server 127.0.0.1 --port " + server.port("smtp") + " --from carol@example.net --to " + kAlice +
                " --data @" + quote(file.string()));
  ASSERT_EQ(sent.status, 0) << sent.text;
  back = curl("/INBOX;MAILINDEX=2");
  ASSERT_EQ(back.status, 0) << back.text;
  EXPECT_EQ(back.text.rfind("Return-Path: <carol@example.net>\r\nReceived: from ", 0), 0u) << back.text.substr(0, 200);
  ASSERT_GE(back.text.size(), mime.size() + 2);
  EXPECT_EQ(back.text.substr(back.text.size() - mime.size() - 2), mime + "\r\n");
  // Flags leave it as it is; a content change through MAPI makes it a rendering of the new content.
  EXPECT_EQ(curl("/INBOX;MAILINDEX=1").status, 0);
  {
    auto mb = mailbox();
    auto t = mb->contents_table(mb->special_folder(store::SpecialFolder::Inbox));
    t->set_columns({tags::PidTagMid});
    const auto rows = t->query_rows(10);
    ASSERT_EQ(rows.size(), 2u);
    const store::MessageId first = ObjectId::from_u64(uint64_t(rows[0][0].get<int64_t>())).gc;
    store::MessageChanges c;
    c.props.set = {PropValue::string(tags::PidTagSubject, "Edited in Outlook")};
    mb->write_message(mb->special_folder(store::SpecialFolder::Inbox), first, false, c);
  }
  back = curl("/INBOX;MAILINDEX=1");
  EXPECT_NE(back.text.find("Subject: Edited in Outlook"), std::string::npos) << back.text.substr(0, 300);
}

TEST_F(Imap, CondstoreAndQresyncTellWhatChangedSinceAModSequence) {
  send("first");
  send("second");
  const json r = imapflow("condstore");
  ASSERT_FALSE(r.contains("error")) << r.dump();
  ASSERT_EQ(r["uids"].size(), 2u) << r.dump();
  const uint64_t flagged = r["uids"][0], deleted = r["uids"][1];
  const uint64_t before = std::stoull(r["highestModseq"].get<std::string>());
  // FETCH (CHANGEDSINCE) gives the flagged message only, with a MODSEQ past the old HIGHESTMODSEQ.
  ASSERT_EQ(r["changed"].size(), 1u) << r.dump();
  EXPECT_EQ(r["changed"][0]["uid"], flagged);
  EXPECT_NE(r["changed"][0]["flags"].dump().find("Flagged"), std::string::npos);
  EXPECT_GT(std::stoull(r["changed"][0]["modseq"].get<std::string>()), before);
  // The deletion came as VANISHED (QRESYNC is on).
  ASSERT_FALSE(r["expunges"].empty()) << r.dump();
  EXPECT_TRUE(r["expunges"][0]["vanished"].get<bool>()) << r.dump();
  EXPECT_EQ(r["expunges"][0]["uid"], deleted);
  EXPECT_GT(std::stoull(r["highestAfter"].get<std::string>()), before);
  // A later session resynchronises from the old state in its SELECT (RFC 7162 3.2.5).
  const std::string script = "(printf 'a1 LOGIN %s %s\\r\\n' " + quote(kAlice) + " " + quote("\"" + kPassword + "\"") +
                             "; sleep 1; printf 'a2 ENABLE QRESYNC\\r\\na3 SELECT INBOX (QRESYNC (" + r["uidValidity"].get<std::string>() + " " +
                             std::to_string(before) + "))\\r\\n'; sleep 1; printf 'a4 LOGOUT\\r\\n'; sleep 1) | timeout 20 openssl s_client -quiet " +
                             "-connect 127.0.0.1:" + server.port("imaps") + " -CAfile " + quote(ca()) + " 2>/dev/null";
  Out resync = sh(script);
  EXPECT_NE(resync.text.find("* ENABLED QRESYNC"), std::string::npos) << resync.text;
  EXPECT_NE(resync.text.find("* OK [HIGHESTMODSEQ "), std::string::npos) << resync.text;
  EXPECT_NE(resync.text.find("* VANISHED (EARLIER) " + std::to_string(deleted) + "\r\n"), std::string::npos) << resync.text;
  EXPECT_NE(resync.text.find("FETCH (UID " + std::to_string(flagged) + " FLAGS (\\Flagged) MODSEQ ("), std::string::npos) << resync.text;
  EXPECT_NE(resync.text.find("a3 OK [READ-WRITE]"), std::string::npos) << resync.text;
}

TEST_F(Imap, ASecondSessionSeesWhatChangedSinceTheFirstLeft) {
  send("one");
  send("two");
  // The first session reads the folder (and leaves it to the next as a snapshot).
  Out first = curl("/INBOX", "-X " + quote("UID FETCH 1:* (FLAGS)"));
  ASSERT_EQ(first.status, 0) << first.text;
  ASSERT_NE(first.text.find("* 2 FETCH"), std::string::npos) << first.text;
  // Meanwhile, through the store: one deleted for good, one marked read, one new.
  std::vector<store::MessageId> ids;
  {
    auto mb = mailbox();
    const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
    auto t = mb->contents_table(inbox);
    t->set_columns({tags::PidTagMid});
    for (const auto& row : t->query_rows(10)) ids.push_back(ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc);
    std::sort(ids.begin(), ids.end());
    ASSERT_EQ(ids.size(), 2u);
    mb->delete_messages({ids[0]}, store::DeleteMode::Hard);
    mb->set_read_flag({ids[1]}, true);
  }
  send("three");
  Out second = curl("/INBOX", "-X " + quote("UID FETCH 1:* (FLAGS)"));
  ASSERT_EQ(second.status, 0) << second.text;
  EXPECT_EQ(second.text.find("UID " + std::to_string(ids[0]) + " "), std::string::npos) << second.text;
  EXPECT_NE(second.text.find("* 1 FETCH (UID " + std::to_string(ids[1]) + " FLAGS (\\Seen))"), std::string::npos) << second.text;
  EXPECT_NE(second.text.find("* 2 FETCH (UID "), std::string::npos) << second.text;
  EXPECT_EQ(second.text.find("* 3 FETCH"), std::string::npos) << second.text;
  Out status = curl("/", "-X " + quote("STATUS INBOX (MESSAGES UNSEEN)"));
  EXPECT_NE(status.text.find("MESSAGES 2 UNSEEN 1"), std::string::npos) << status.text;
}
