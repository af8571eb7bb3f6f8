// IProfAdmin and IMsgServiceAdmin as a Windows setup program uses them: profiles and their
// services made, configured, renamed, copied and removed through MAPI are the profiles of
// `openmapi profile` (checked with `openmapi profile ls --json`), and a logon follows them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "capi_fixture.h"
#include "mapiguid.h"
#include "mapitags.h"
#include "mapiutil.h"
#include "mapix.h"

using capi_testing::kCorpus;
namespace fs = std::filesystem;

namespace {

class ProfAdmin : public capi_testing::CapiMailbox {
 protected:
  nlohmann::json profiles() { return nlohmann::json::parse(cli("profile ls --json"))["profiles"]; }
  const nlohmann::json* profile(const nlohmann::json& all, const std::string& name) {
    for (const auto& p : all)
      if (p["name"] == name) return &p;
    return nullptr;
  }
  // The UIDs of the services of `name`, in order.
  std::vector<MAPIUID> services(LPSERVICEADMIN admin) {
    LPMAPITABLE t = nullptr;
    EXPECT_EQ(admin->GetMsgServiceTable(0, &t), S_OK);
    SizedSPropTagArray(2, cols) = {2, {PR_SERVICE_UID, PR_SERVICE_NAME_A}};
    LPSRowSet rows = nullptr;
    EXPECT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&cols, nullptr, nullptr, 0, &rows), S_OK);
    t->Release();
    std::vector<MAPIUID> out;
    for (ULONG i = 0; rows && i < rows->cRows; ++i) {
      MAPIUID u;
      EXPECT_EQ(rows->aRow[i].lpProps[0].Value.bin.cb, sizeof u.ab);
      std::memcpy(u.ab, rows->aRow[i].lpProps[0].Value.bin.lpb, sizeof u.ab);
      out.push_back(u);
    }
    FreeProws(rows);
    return out;
  }
};

}  // namespace

TEST_F(ProfAdmin, ProfilesAndServicesMadeThroughMapiAreTheCommandLinesProfiles) {
  LPPROFADMIN admin = nullptr;
  ASSERT_EQ(MAPIAdminProfiles(0, &admin), S_OK);
  LPMAPITABLE t = nullptr;
  ASSERT_EQ(admin->GetProfileTable(0, &t), S_OK);
  SizedSPropTagArray(2, cols) = {2, {PR_DISPLAY_NAME_A, PR_DEFAULT_PROFILE}};
  LPSRowSet rows = nullptr;
  ASSERT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&cols, nullptr, nullptr, 0, &rows), S_OK);
  t->Release();
  ASSERT_EQ(rows->cRows, 1u);
  EXPECT_STREQ(rows->aRow[0].lpProps[0].Value.lpszA, "work");
  EXPECT_TRUE(rows->aRow[0].lpProps[1].Value.b);  // the only one is the default
  FreeProws(rows);

  ASSERT_EQ(admin->CreateProfile((LPTSTR) "second", nullptr, 0, 0), S_OK);
  EXPECT_EQ(admin->CreateProfile((LPTSTR) "second", nullptr, 0, 0), MAPI_E_NO_ACCESS);
  EXPECT_EQ(admin->CreateProfile((LPTSTR) "bad name", nullptr, 0, 0), MAPI_E_INVALID_PARAMETER);
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "second", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), MAPI_E_UNCONFIGURED);  // no service

  // A mailbox service, made unconfigured, then given its file.
  LPSERVICEADMIN services_admin = nullptr;
  ASSERT_EQ(admin->AdminServices((LPTSTR) "second", nullptr, 0, 0, &services_admin), S_OK);
  ASSERT_EQ(services_admin->CreateMsgService((LPTSTR) "OPENMAPI_MAILBOX", (LPTSTR) "Alice again", 0, 0), S_OK);
  EXPECT_EQ(services_admin->CreateMsgService((LPTSTR) "MSFAX XP", nullptr, 0, 0), MAPI_E_NOT_FOUND);
  std::vector<MAPIUID> uids = services(services_admin);
  ASSERT_EQ(uids.size(), 1u);
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "second", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), MAPI_E_UNCONFIGURED);
  const std::string mailbox = (data() / "mailboxes" / "alice.sqlite").string();
  SPropValue path{};
  path.ulPropTag = PR_PST_PATH_A;
  path.Value.lpszA = (LPSTR) "/nonexistent/x.sqlite";
  EXPECT_EQ(services_admin->ConfigureMsgService(&uids[0], 0, 0, 1, &path), MAPI_E_NOT_FOUND);
  const fs::path junk = dir_ / "junk.sqlite";
  std::ofstream(junk) << "not a database";
  path.Value.lpszA = (LPSTR)junk.c_str();
  EXPECT_TRUE(FAILED(services_admin->ConfigureMsgService(&uids[0], 0, 0, 1, &path)));  // does not open as a mailbox
  path.Value.lpszA = (LPSTR)mailbox.c_str();
  ASSERT_EQ(services_admin->ConfigureMsgService(&uids[0], 0, 0, 1, &path), S_OK);
  // And a PST file beside it.
  ASSERT_EQ(services_admin->CreateMsgService((LPTSTR) "MSUPST MS", (LPTSTR) "Archive", 0, 0), S_OK);
  uids = services(services_admin);
  ASSERT_EQ(uids.size(), 2u);
  const std::string pst = (kCorpus / "pst" / "dist-list.pst").string();
  path.Value.lpszA = (LPSTR)pst.c_str();
  ASSERT_EQ(services_admin->ConfigureMsgService(&uids[1], 0, 0, 1, &path), S_OK);
  EXPECT_EQ(services(services_admin)[0].ab[0], uids[0].ab[0]);  // UIDs stay what they were

  // The command line sees the same profile.
  nlohmann::json all = profiles();
  const nlohmann::json* second = profile(all, "second");
  ASSERT_NE(second, nullptr) << all.dump();
  ASSERT_EQ((*second)["stores"].size(), 2u);
  EXPECT_EQ((*second)["stores"][0]["kind"], "mailbox");
  EXPECT_EQ((*second)["stores"][0]["path"], mailbox);
  EXPECT_EQ((*second)["stores"][0]["display_name"], "Alice again");
  EXPECT_EQ((*second)["stores"][1]["kind"], "pst");
  EXPECT_EQ((*second)["default"], false);
  EXPECT_NE(cli("profile show second").find("Archive"), std::string::npos);

  // SetDefaultProfile: MAPI_USE_DEFAULT logs on to it; its stores are the services.
  ASSERT_EQ(admin->SetDefaultProfile((LPTSTR) "second", 0), S_OK);
  EXPECT_EQ(admin->SetDefaultProfile((LPTSTR) "nonesuch", 0), MAPI_E_NOT_FOUND);
  EXPECT_EQ((*profile(profiles(), "second"))["default"], true);
  ASSERT_EQ(MAPILogonEx(0, nullptr, nullptr, MAPI_EXTENDED | MAPI_USE_DEFAULT | MAPI_NEW_SESSION, &s), S_OK);
  ASSERT_EQ(s->GetMsgStoresTable(0, &t), S_OK);
  SizedSPropTagArray(1, name) = {1, {PR_DISPLAY_NAME_A}};
  ASSERT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&name, nullptr, nullptr, 0, &rows), S_OK);
  t->Release();
  ASSERT_EQ(rows->cRows, 2u);
  EXPECT_STREQ(rows->aRow[0].lpProps[0].Value.lpszA, "Alice again");
  EXPECT_STREQ(rows->aRow[1].lpProps[0].Value.lpszA, "Archive");
  FreeProws(rows);
  LPSERVICEADMIN from_session = nullptr;
  ASSERT_EQ(s->AdminServices(0, &from_session), S_OK);
  EXPECT_EQ(services(from_session).size(), 2u);
  from_session->Release();
  s->Logoff(0, 0, 0);
  s->Release();

  // Rename keeps the default with the profile; copy makes a second one; delete removes it.
  ASSERT_EQ(services_admin->RenameMsgService(&uids[1], 0, (LPTSTR) "Old mail"), S_OK);
  ASSERT_EQ(services_admin->DeleteMsgService(&uids[1]), S_OK);
  EXPECT_EQ(services_admin->DeleteMsgService(&uids[1]), MAPI_E_NOT_FOUND);
  services_admin->Release();
  ASSERT_EQ(admin->RenameProfile((LPTSTR) "second", nullptr, (LPTSTR) "third", 0, 0), S_OK);
  ASSERT_EQ(admin->CopyProfile((LPTSTR) "third", nullptr, (LPTSTR) "fourth", 0, 0), S_OK);
  EXPECT_EQ(admin->CopyProfile((LPTSTR) "third", nullptr, (LPTSTR) "work", 0, 0), MAPI_E_NO_ACCESS);
  all = profiles();
  EXPECT_EQ(profile(all, "second"), nullptr);
  ASSERT_NE(profile(all, "third"), nullptr);
  EXPECT_EQ((*profile(all, "third"))["default"], true);
  EXPECT_EQ((*profile(all, "third"))["stores"].size(), 1u);
  ASSERT_NE(profile(all, "fourth"), nullptr);
  ASSERT_EQ(admin->DeleteProfile((LPTSTR) "fourth", 0), S_OK);
  EXPECT_EQ(admin->DeleteProfile((LPTSTR) "fourth", 0), MAPI_E_NOT_FOUND);
  EXPECT_EQ(profile(profiles(), "fourth"), nullptr);
  EXPECT_EQ(admin->ChangeProfilePassword((LPTSTR) "third", nullptr, (LPTSTR) "x", 0), MAPI_E_NO_SUPPORT);
  LPMAPIERROR err = nullptr;
  ASSERT_EQ(admin->GetLastError(MAPI_E_NO_SUPPORT, 0, &err), S_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err->lpszError).find("password"), std::string::npos);
  MAPIFreeBuffer(err);
  admin->Release();
}
