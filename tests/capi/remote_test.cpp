// One mailbox, three providers, one C program: the mailbox alice (two corpus messages in its
// Inbox) is a SQLite mailbox of the data directory, the same mailbox written to a PST file by
// `openmapi export pst`, and the same mailbox served by a real `openmapi serve` on 127.0.0.1 and
// reached through the remote provider. c_session.c (the Extended MAPI interfaces through their
// C tables) runs on a profile of each and must print the same lines. Then the remote service as
// a Windows program makes it (IMsgServiceAdmin, "MSEMS", PR_PROFILE_UNRESOLVED_SERVER/NAME), and
// the logon errors a network store meets.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "mapiguid.h"
#include "mapitags.h"
#include "mapiutil.h"
#include "mapix.h"

#include "capi_fixture.h"
#include "server/serve_util.h"

namespace fs = std::filesystem;
using capi_testing::run;
using openmapi::testing::quote;

namespace {

// What c_session prints for alice's Inbox: the subjects in order, the first one's attachment
// count (HtmlSampleEmail.msg has none, EXPECTED.md), "ok".
const std::string kInbox = "HtmlSampleEmail\nThis is the subject\n0 attachments\nok\n";

class CapiRemote : public capi_testing::CapiMailbox {
 protected:
  void SetUp() override {
    CapiMailbox::SetUp();
    cli("import message -m alice " + (capi_testing::kCorpus / "msg" / "HtmlSampleEmail.msg").string());
    // The server's user alice@example.com owns the mailbox alice.
    int status = 0;
    const std::string out = run("printf 'secret\\n' | " + quote(OPENMAPI_BIN) + " --data-dir " + quote(data().string()) +
                                    " user add alice@example.com --display-name Alice --mailbox alice --password-stdin",
                                &status);
    ASSERT_EQ(status, 0) << out;
    std::string why;
    ASSERT_TRUE(server_.start(dir_, data(), {"--listen", "https=127.0.0.1:0"}, {"https"}, why)) << why;
    url_ = "https://127.0.0.1:" + server_.port("https");
    ca_ = (data() / "tls" / "server.crt").string();
  }
  void TearDown() override {
    server_.stop();
    ::unsetenv("OPENMAPI_PASSWORD");
    ::unsetenv("SSL_CERT_FILE");
    CapiMailbox::TearDown();
  }
  // `openmapi profile create NAME --server ...`, the password on standard input.
  int remote_profile(const std::string& name, const std::string& password, std::string* out = nullptr) {
    int status = 0;
    const std::string text = run("printf '%s\\n' " + quote(password) + " | " + quote(OPENMAPI_BIN) + " profile create " + name +
                                     " --server " + url_ + " --user alice@example.com --ca-file " + quote(ca_) + " --password-stdin",
                                 &status);
    if (out) *out = text;
    return status;
  }
  std::string c_session(const std::string& profile, int* status) { return run(std::string(OPENMAPI_C_SESSION) + " " + profile, status); }

  openmapi::testing::ServerProcess server_;
  std::string url_, ca_;
};

}  // namespace

TEST_F(CapiRemote, TheSameCProgramSeesTheSameMailboxLocallyInAPstAndOnTheServer) {
  int status = 0;
  // Local: the fixture's profile "work" on the mailbox file.
  EXPECT_EQ(c_session("work", &status), kInbox);
  EXPECT_EQ(status, 0);
  // PST: the mailbox written to a Unicode PST.
  const fs::path pst = dir_ / "alice.pst";
  cli("export pst -m alice " + pst.string());
  cli("profile create archive --pst " + pst.string());
  EXPECT_EQ(c_session("archive", &status), kInbox);
  EXPECT_EQ(status, 0);
  // Remote: the server's mailbox through MAPI over HTTP.
  std::string made;
  ASSERT_EQ(remote_profile("server", "secret", &made), 0) << made;
  EXPECT_EQ(c_session("server", &status), kInbox) << server_.log();
  EXPECT_EQ(status, 0);
  // The profile says what it is.
  const std::string shown = cli("profile show server");
  EXPECT_NE(shown.find(url_), std::string::npos) << shown;

  // Its address book has the server's Global Address List: IAddrBook::ResolveName of the user's
  // display name finds the server's user (NSPI ResolveNames), as an SMTP recipient.
  LPMAPISESSION session = nullptr;
  ASSERT_EQ(MAPILogonEx(0, (LPTSTR) "server", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &session), S_OK);
  LPADRBOOK ab = nullptr;
  ASSERT_EQ(session->OpenAddressBook(0, nullptr, 0, &ab), S_OK);
  LPADRLIST list = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(CbNewADRLIST(1), (LPVOID*)&list), S_OK);
  list->cEntries = 1;
  ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), (LPVOID*)&list->aEntries[0].rgPropVals), S_OK);
  list->aEntries[0].cValues = 1;
  list->aEntries[0].rgPropVals[0].ulPropTag = PR_DISPLAY_NAME_A;
  list->aEntries[0].rgPropVals[0].Value.lpszA = (LPSTR) "alice";
  ASSERT_EQ(ab->ResolveName(0, 0, nullptr, list), S_OK);
  LPSPropValue address = PpropFindProp(list->aEntries[0].rgPropVals, list->aEntries[0].cValues, PR_EMAIL_ADDRESS_A);
  LPSPropValue name = PpropFindProp(list->aEntries[0].rgPropVals, list->aEntries[0].cValues, PR_DISPLAY_NAME_A);
  ASSERT_NE(address, nullptr);
  ASSERT_NE(name, nullptr);
  EXPECT_STREQ(address->Value.lpszA, "alice@example.com");
  EXPECT_STREQ(name->Value.lpszA, "Alice");
  FreePadrlist(list);
  ab->Release();
  session->Logoff(0, 0, 0);
  session->Release();
}

TEST_F(CapiRemote, AWrongPasswordOrAnUnreachableServerIsALogonError) {
  std::string out;
  // profile create logs on once: a wrong password is refused then, and no profile is made.
  EXPECT_NE(remote_profile("bad", "wrong", &out), 0);
  EXPECT_NE(out.find("MAPI_E_LOGON_FAILED"), std::string::npos) << out;
  EXPECT_EQ(run(std::string(OPENMAPI_BIN) + " profile show bad").find("server"), std::string::npos);

  // A service made as a Windows program makes an Exchange one, with no password kept.
  LPPROFADMIN admin = nullptr;
  ASSERT_EQ(MAPIAdminProfiles(0, &admin), S_OK);
  ASSERT_EQ(admin->CreateProfile((LPTSTR) "exchange", nullptr, 0, 0), S_OK);
  LPSERVICEADMIN services = nullptr;
  ASSERT_EQ(admin->AdminServices((LPTSTR) "exchange", nullptr, 0, 0, &services), S_OK);
  ASSERT_EQ(services->CreateMsgService((LPTSTR) "MSEMS", nullptr, 0, 0), S_OK);
  LPMAPITABLE t = nullptr;
  ASSERT_EQ(services->GetMsgServiceTable(0, &t), S_OK);
  SizedSPropTagArray(2, cols) = {2, {PR_SERVICE_UID, PR_SERVICE_NAME_A}};
  LPSRowSet rows = nullptr;
  ASSERT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&cols, nullptr, nullptr, 0, &rows), S_OK);
  t->Release();
  ASSERT_EQ(rows->cRows, 1u);
  EXPECT_STREQ(rows->aRow[0].lpProps[1].Value.lpszA, "MSEMS");
  MAPIUID uid;
  memcpy(&uid, rows->aRow[0].lpProps[0].Value.bin.lpb, sizeof uid);
  FreeProws(rows);
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "exchange", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), MAPI_E_UNCONFIGURED);
  SPropValue props[2]{};
  props[0].ulPropTag = PR_PROFILE_UNRESOLVED_SERVER;
  props[0].Value.lpszA = (LPSTR) "ftp://127.0.0.1";
  EXPECT_EQ(services->ConfigureMsgService(&uid, 0, 0, 1, props), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(services->ConfigureMsgService(&uid, 0, 0, 0, props), MAPI_E_UNCONFIGURED);  // no server, no user yet
  const std::string host = "127.0.0.1:" + server_.port("https");  // a host name means https
  props[0].Value.lpszA = (LPSTR)host.c_str();
  props[1].ulPropTag = PR_PROFILE_UNRESOLVED_NAME;
  props[1].Value.lpszA = (LPSTR) "alice@example.com";
  ASSERT_EQ(services->ConfigureMsgService(&uid, 0, 0, 2, props), S_OK);
  services->Release();
  admin->Release();

  // No password anywhere: MAPI_E_LOGON_FAILED, with the reason.
  ::setenv("SSL_CERT_FILE", ca_.c_str(), 1);  // the server's self-signed certificate, for OpenSSL's default paths
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "exchange", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), MAPI_E_LOGON_FAILED);
  ::setenv("OPENMAPI_PASSWORD", "wrong", 1);
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "exchange", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), MAPI_E_LOGON_FAILED);
  ::setenv("OPENMAPI_PASSWORD", "secret", 1);
  ASSERT_EQ(MAPILogonEx(0, (LPTSTR) "exchange", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), S_OK);
  s->Logoff(0, 0, 0);
  s->Release();
  int status = 0;
  EXPECT_EQ(c_session("exchange", &status), kInbox);
  // Without the CA, the certificate does not verify: a network error, not a logon.
  ::unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "exchange", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), MAPI_E_NETWORK_ERROR);
  // A stopped server: MAPI_E_NETWORK_ERROR.
  ::setenv("SSL_CERT_FILE", ca_.c_str(), 1);
  server_.stop();
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "exchange", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), MAPI_E_NETWORK_ERROR);
  EXPECT_EQ(c_session("server", &status).find("ok"), std::string::npos);
  EXPECT_NE(status, 0);
}
