// Simple MAPI as a Windows program uses it (mapi.h only, its own status codes): logon, send with
// recipients resolved by address and by name and a file attached, find and read the Inbox,
// save, delete, resolve a name; the dialogs' answer. What is sent is checked through another
// door: the command line's queue, and `openmapi serve`, whose spooler delivers it to a second
// local user.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "capi_fixture.h"
#include "mapi.h"
#include "server/serve_util.h"

using capi_testing::kCorpus;
namespace fs = std::filesystem;

namespace {

class SimpleMapi : public capi_testing::CapiMailbox {
 protected:
  // alice and bob are users of the server (alice's mailbox has the corpus message); John Doe is
  // a contact of alice's.
  void make_mailbox() override {
    for (const char* who : {"alice", "bob"}) {
      auto o = openmapi::testing::add_user(data(), std::string(who) + "@example.com", who, "secret-" + std::string(who));
      ASSERT_EQ(o.status, 0) << o.text;
    }
    cli("user ls");
    cli("import message -m alice@example.com " + (kCorpus / "msg" / "EmailWithAttachments.msg").string());
    cli("import message -m alice@example.com -f Contacts " + (kCorpus / "vcf" / "John_Doe_MS_OUTLOOK.vcf").string());
  }
  void SetUp() override {
    char tmpl[] = "/tmp/openmapi-capi-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::setenv("XDG_CONFIG_HOME", (dir_ / "conf").c_str(), 1);
    ::setenv("TMPDIR", dir_.c_str(), 1);
    make_mailbox();
    cli("profile create work --mailbox alice@example.com");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  LHANDLE logon() {
    LHANDLE h = 0;
    EXPECT_EQ(MAPILogon(0, (LPSTR) "work", nullptr, MAPI_NEW_SESSION, 0, &h), SUCCESS_SUCCESS);
    return h;
  }
};

}  // namespace

TEST_F(SimpleMapi, SendMailIsQueuedAndTheServerDeliversIt) {
  LHANDLE h = logon();
  const fs::path file = dir_ / "report.txt";
  std::ofstream(file) << "the numbers\n";
  MapiRecipDesc to[2]{};
  to[0].ulRecipClass = MAPI_TO;
  to[0].lpszName = (LPSTR) "Bob";
  to[0].lpszAddress = (LPSTR) "SMTP:bob@example.com";
  to[1].ulRecipClass = MAPI_CC;
  to[1].lpszName = (LPSTR) "john";  // no address: resolved in the address book (alice's Contacts)
  MapiFileDesc files[1]{};
  files[0].nPosition = ULONG(-1);
  files[0].lpszPathName = (LPSTR)file.c_str();
  files[0].lpszFileName = (LPSTR) "Report.txt";
  MapiMessage m{};
  m.lpszSubject = (LPSTR) "Quarterly \xE2\x82\xAC figures";  // UTF-8 "€"
  m.lpszNoteText = (LPSTR) "See the attachment.";
  m.nRecipCount = 2;
  m.lpRecips = to;
  m.nFileCount = 1;
  m.lpFiles = files;
  ASSERT_EQ(MAPISendMail(h, 0, &m, 0, 0), SUCCESS_SUCCESS);

  // Queued for the spooler, with both recipients (the second as the address book has it).
  const auto queue = nlohmann::json::parse(cli("queue ls --json"))["queue"];
  ASSERT_EQ(queue.size(), 1u) << queue.dump();
  EXPECT_EQ(queue[0]["subject"], "Quarterly \xE2\x82\xAC figures");
  EXPECT_NE(queue[0]["recipients"].dump().find("bob@example.com"), std::string::npos) << queue.dump();
  EXPECT_NE(queue[0]["recipients"].dump().find("john.doe@ibm.cm"), std::string::npos) << queue.dump();

  // The server's spooler delivers it to bob (a local user); john's domain has no server, which
  // is the spooler's business from here on (retries, then a report).
  openmapi::testing::ServerProcess server;
  std::string why;
  const fs::path conf = dir_ / "serve.conf";
  std::ofstream(conf) << "relay = none\n";
  ASSERT_TRUE(server.start(dir_, data(), {"--config", conf.string(), "--listen", "submission=127.0.0.1:0"}, {"submission"}, why)) << why;
  nlohmann::json inbox;
  for (int i = 0; i < 200; ++i) {  // 20 s at most
    inbox = nlohmann::json::parse(cli("message ls -m bob@example.com --json"));
    if (inbox["total"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(inbox["total"], 1) << server.log();
  const std::string id = inbox["rows"][0]["id"].is_string() ? inbox["rows"][0]["id"].get<std::string>()
                                                            : std::to_string(inbox["rows"][0]["id"].get<uint64_t>());
  const std::string shown = cli("message show -m bob@example.com " + id + " --json");
  EXPECT_NE(shown.find("Quarterly \xE2\x82\xAC figures"), std::string::npos);
  EXPECT_NE(shown.find("Report.txt"), std::string::npos) << shown;
  EXPECT_NE(shown.find("alice@example.com"), std::string::npos);  // the sender
  server.stop();
  EXPECT_EQ(MAPILogoff(h, 0, 0, 0), SUCCESS_SUCCESS);
  EXPECT_EQ(MAPILogoff(h, 0, 0, 0), MAPI_E_INVALID_SESSION);
}

TEST_F(SimpleMapi, FindNextReadMailSaveMailDeleteMail) {
  LHANDLE h = logon();
  char id[64] = {0};
  ASSERT_EQ(MAPIFindNext(h, 0, nullptr, nullptr, 0, 0, id), SUCCESS_SUCCESS);
  EXPECT_EQ(std::strlen(id), 16u);
  char next[64] = {0};
  EXPECT_EQ(MAPIFindNext(h, 0, nullptr, id, 0, 0, next), MAPI_E_NO_MESSAGES);  // only one
  EXPECT_EQ(MAPIFindNext(h, 0, (LPSTR) "IPM.Appointment", nullptr, 0, 0, next), MAPI_E_NO_MESSAGES);

  // MAPI_PEEK leaves it unread; the corpus values are msgreader's (EXPECTED.md).
  lpMapiMessage m = nullptr;
  ASSERT_EQ(MAPIReadMail(h, 0, id, MAPI_PEEK, 0, &m), SUCCESS_SUCCESS);
  EXPECT_STREQ(m->lpszSubject, "This is the subject");
  EXPECT_STREQ(m->lpszMessageType, "IPM.Note");
  EXPECT_TRUE(m->flFlags & MAPI_UNREAD);
  ASSERT_EQ(m->nRecipCount, 3u);
  EXPECT_STREQ(m->lpRecips[0].lpszAddress, "SMTP:crocodile@neverland.com");
  ASSERT_NE(m->lpOriginator, nullptr);
  EXPECT_STREQ(m->lpOriginator->lpszName, "Kees");
  ASSERT_EQ(m->nFileCount, 2u);
  EXPECT_STREQ(m->lpFiles[0].lpszFileName, "peterpan.jpg");
  EXPECT_EQ(fs::file_size(m->lpFiles[0].lpszPathName), 39150u);  // contentLength
  EXPECT_TRUE(fs::path(m->lpFiles[0].lpszPathName).string().rfind(dir_.string(), 0) == 0);  // under $TMPDIR
  EXPECT_EQ(MAPIFreeBuffer(m), 0u);
  ASSERT_EQ(MAPIFindNext(h, 0, nullptr, nullptr, MAPI_UNREAD_ONLY, 0, next), SUCCESS_SUCCESS);
  ASSERT_EQ(MAPIReadMail(h, 0, id, MAPI_ENVELOPE_ONLY, 0, &m), SUCCESS_SUCCESS);  // reads it: now read
  EXPECT_EQ(m->lpszNoteText, nullptr);
  EXPECT_EQ(m->nFileCount, 0u);
  MAPIFreeBuffer(m);
  EXPECT_EQ(MAPIFindNext(h, 0, nullptr, nullptr, MAPI_UNREAD_ONLY, 0, next), MAPI_E_NO_MESSAGES);

  // MAPISaveMail: a new Inbox message, then changed in place.
  MapiRecipDesc to{};
  to.ulRecipClass = MAPI_TO;
  to.lpszAddress = (LPSTR) "carol@example.net";
  MapiMessage mine{};
  mine.lpszSubject = (LPSTR) "draft one";
  mine.lpszNoteText = (LPSTR) "text";
  mine.nRecipCount = 1;
  mine.lpRecips = &to;
  char saved[64] = "";
  ASSERT_EQ(MAPISaveMail(h, 0, &mine, 0, 0, saved), SUCCESS_SUCCESS);
  mine.lpszSubject = (LPSTR) "draft two";
  char same[64];
  std::strcpy(same, saved);
  ASSERT_EQ(MAPISaveMail(h, 0, &mine, 0, 0, same), SUCCESS_SUCCESS);
  EXPECT_STREQ(same, saved);
  ASSERT_EQ(MAPIReadMail(h, 0, saved, MAPI_PEEK, 0, &m), SUCCESS_SUCCESS);
  EXPECT_STREQ(m->lpszSubject, "draft two");
  ASSERT_EQ(m->nRecipCount, 1u);
  EXPECT_STREQ(m->lpRecips[0].lpszAddress, "SMTP:carol@example.net");
  MAPIFreeBuffer(m);
  EXPECT_NE(cli("message ls -m alice@example.com").find("draft two"), std::string::npos);

  ASSERT_EQ(MAPIDeleteMail(h, 0, saved, 0, 0), SUCCESS_SUCCESS);
  EXPECT_EQ(cli("message ls -m alice@example.com").find("draft two"), std::string::npos);
  EXPECT_NE(cli("message ls -m alice@example.com -f 'Deleted Items'").find("draft two"), std::string::npos);
  EXPECT_EQ(MAPIReadMail(h, 0, (LPSTR) "not an id", 0, 0, &m), MAPI_E_INVALID_MESSAGE);
  MAPILogoff(h, 0, 0, 0);
}

TEST_F(SimpleMapi, ResolveNameAndWhatNeedsADialogOrASession) {
  lpMapiRecipDesc r = nullptr;
  // Session 0: a logon to the default profile for the one call.
  ASSERT_EQ(MAPIResolveName(0, 0, (LPSTR) "John", 0, 0, &r), SUCCESS_SUCCESS);
  EXPECT_STREQ(r->lpszName, "Mr. John Richter James Doe Sr.");  // the vCard's FN
  EXPECT_STREQ(r->lpszAddress, "SMTP:john.doe@ibm.cm");         // and EMAIL
  EXPECT_GT(r->ulEIDSize, 0u);
  MAPIFreeBuffer(r);
  EXPECT_EQ(MAPIResolveName(0, 0, (LPSTR) "Nobody Known", 0, 0, &r), MAPI_E_UNKNOWN_RECIPIENT);
  EXPECT_EQ(MAPIResolveName(0, 0, (LPSTR) "John", MAPI_DIALOG, 0, &r), MAPI_E_NOT_SUPPORTED);

  LHANDLE bad = 0;
  EXPECT_EQ(MAPILogon(0, (LPSTR) "nonesuch", nullptr, 0, 0, &bad), MAPI_E_LOGIN_FAILURE);
  EXPECT_EQ(MAPIFindNext(0xDEAD, 0, nullptr, nullptr, 0, 0, (LPSTR) "x"), MAPI_E_INVALID_SESSION);
  MapiMessage empty{};
  EXPECT_EQ(MAPISendMail(0, 0, &empty, 0, 0), MAPI_E_INVALID_RECIPS);
  MapiRecipDesc to{};
  to.ulRecipClass = 7;
  to.lpszAddress = (LPSTR) "x@example.com";
  empty.nRecipCount = 1;
  empty.lpRecips = &to;
  EXPECT_EQ(MAPISendMail(0, 0, &empty, 0, 0), MAPI_E_BAD_RECIPTYPE);
  to.ulRecipClass = MAPI_TO;
  MapiFileDesc missing{};
  missing.lpszPathName = (LPSTR) "/nonexistent/file.txt";
  empty.nFileCount = 1;
  empty.lpFiles = &missing;
  EXPECT_EQ(MAPISendMail(0, 0, &empty, 0, 0), MAPI_E_ATTACHMENT_NOT_FOUND);
  EXPECT_EQ(MAPISendMail(0, 0, &empty, MAPI_DIALOG, 0), MAPI_E_NOT_SUPPORTED);
  EXPECT_EQ(MAPISendDocuments(0, (LPSTR) ";", (LPSTR) "/etc/hostname", nullptr, 0), MAPI_E_NOT_SUPPORTED);
  EXPECT_EQ(MAPIDetails(0, 0, &to, 0, 0), MAPI_E_NOT_SUPPORTED);
  ULONG n = 5;
  EXPECT_EQ(MAPIAddress(0, 0, nullptr, 1, nullptr, 0, nullptr, 0, 0, &n, &r), MAPI_E_NOT_SUPPORTED);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(cli("queue ls --json").find("x@example.com"), std::string::npos);  // nothing half-sent
}

TEST_F(SimpleMapi, SendMailWTakesUtf16) {
  LHANDLE h = logon();
  const WCHAR subject[] = {'H', 'i', ' ', 0x4E16, 0x754C, 0};  // "Hi 世界"
  const WCHAR address[] = {'b', 'o', 'b', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0};
  MapiRecipDescW to{};
  to.ulRecipClass = MAPI_TO;
  to.lpszAddress = (PWSTR)address;
  MapiMessageW m{};
  m.lpszSubject = (PWSTR)subject;
  m.nRecipCount = 1;
  m.lpRecips = &to;
  ASSERT_EQ(MAPISendMailW(h, 0, &m, 0, 0), SUCCESS_SUCCESS);
  const auto queue = nlohmann::json::parse(cli("queue ls --json"))["queue"];
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0]["subject"], "Hi \xE4\xB8\x96\xE7\x95\x8C");
  MAPILogoff(h, 0, 0, 0);
}
