// The fixture of the C ABI tests that need a mailbox and a profile: a temporary directory with
// a data directory (the mailbox alice, owner alice@example.com, made and filled through the
// openmapi command), the profile "work" on it in a configuration directory of its own
// (XDG_CONFIG_HOME), and MAPIInitialize / MAPIUninitialize around each test.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "mapix.h"

namespace capi_testing {

namespace fs = std::filesystem;

inline const fs::path kCorpus = fs::path(OPENMAPI_SHARED_DIR) / "corpus";

inline std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  if (status) *status = rc;
  return out;
}

class CapiMailbox : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/openmapi-capi-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::setenv("XDG_CONFIG_HOME", (dir_ / "conf").c_str(), 1);
    ::setenv("TMPDIR", dir_.c_str(), 1);  // where MAPIReadMail writes attachments
    make_mailbox();
    cli("profile create work --mailbox alice");
    ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
  }
  void TearDown() override {
    MAPIUninitialize();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The mailbox alice with one corpus message in its Inbox.
  virtual void make_mailbox() {
    cli("mailbox create alice --display-name Alice --email alice@example.com");
    cli("import message -m alice " + (kCorpus / "msg" / "EmailWithAttachments.msg").string());
  }
  std::string cli(const std::string& args) {
    int status = 0;
    std::string out = run(std::string(OPENMAPI_BIN) + " --data-dir " + data().string() + " " + args, &status);
    EXPECT_EQ(status, 0) << args << ": " << out;
    return out;
  }
  fs::path data() const { return dir_ / "data"; }
  fs::path dir_;
};

}  // namespace capi_testing
