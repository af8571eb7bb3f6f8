// The server's users: Argon2id hashes that the reference argon2 tool agrees with, addresses
// compared without case, a users file only its owner reads, and errors with MAPI codes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "server/users.h"
#include "store/data_dir.h"
#include "store/store.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::server;
using openmapi::testing::code_of;
namespace fs = std::filesystem;

namespace {

class Users : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-users-" + std::to_string(rd()));
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
};

// What the argon2 command (the reference implementation's CLI) prints as the encoded hash.
std::string argon2_cli(const std::string& password, const std::string& salt) {
  const std::string cmd = "printf '%s' '" + password + "' | argon2 '" + salt + "' -id -t 2 -k 19456 -p 1 -l 32 -e 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

TEST(Passwords, OurHashesAreArgon2idAndTheReferenceToolsHashesVerify) {
  const std::string h = hash_password("correct horse");
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << h;
  EXPECT_TRUE(verify_password(h, "correct horse"));
  EXPECT_FALSE(verify_password(h, "correct horse "));
  EXPECT_NE(hash_password("correct horse"), h);  // a new salt each time
  // A hash the argon2 tool made verifies here, and the wrong password does not.
  const std::string theirs = argon2_cli("battery staple", "saltsaltsalt16by");
  ASSERT_EQ(theirs.rfind("$argon2id$", 0), 0u) << "argon2 printed: " << theirs;
  EXPECT_TRUE(verify_password(theirs, "battery staple"));
  EXPECT_FALSE(verify_password(theirs, "battery stapler"));
  EXPECT_FALSE(verify_password("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA", "x"));  // not argon2id
  EXPECT_FALSE(verify_password("garbage", "x"));
  EXPECT_EQ(code_of([] { hash_password(""); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST_F(Users, AddFindAuthenticateChangeAndRemove) {
  UserDirectory users(dir.string(), true);
  User u = users.add("Alice@Example.com", "", "pw one");
  EXPECT_EQ(u.display_name, "Alice");
  EXPECT_EQ(u.mailbox, "alice@example.com");
  // Its mailbox exists, with the user as owner.
  auto mb = store::open_sqlite_mailbox(store::mailbox_file(dir.string(), "alice@example.com"));
  EXPECT_EQ(mb->owner_address(), "Alice@Example.com");
  EXPECT_TRUE(users.find("ALICE@example.COM"));
  EXPECT_TRUE(users.authenticate("alice@example.com", "pw one"));
  EXPECT_FALSE(users.authenticate("alice@example.com", "pw two"));
  EXPECT_FALSE(users.authenticate("nobody@example.com", "pw one"));
  EXPECT_EQ(code_of([&] { users.add("alice@EXAMPLE.com", "", "x"); }), ErrorCode::MAPI_E_COLLISION);
  users.set_password("alice@example.com", "pw two");
  EXPECT_FALSE(users.authenticate("alice@example.com", "pw one"));
  EXPECT_TRUE(users.authenticate("alice@example.com", "pw two"));
  users.add("bob@example.com", "Bob B", "b", "shared");
  ASSERT_EQ(users.list().size(), 2u);
  EXPECT_EQ(users.list()[1].mailbox, "shared");
  users.remove("ALICE@example.com");
  EXPECT_FALSE(users.find("alice@example.com"));
  EXPECT_TRUE(fs::exists(store::mailbox_file(dir.string(), "alice@example.com")));  // the mailbox stays
  EXPECT_EQ(code_of([&] { users.remove("alice@example.com"); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { users.set_password("alice@example.com", "x"); }), ErrorCode::MAPI_E_NOT_FOUND);
  // Only the owner may read the hashes.
  struct stat st {};
  ASSERT_EQ(stat((dir / "users.sqlite").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(Users, BadAddressesAndForeignFilesAreRefused) {
  UserDirectory users(dir.string(), true);
  for (const char* bad : {"", "alice", "@example.com", "alice@", "a b@example.com", "alice@exa_mple.com", "alice@.example.com",
                          "alice@example..com", "al\x01ice@example.com", "<alice@example.com>"})
    EXPECT_EQ(code_of([&] { users.add(bad, "", "pw"); }), ErrorCode::MAPI_E_INVALID_PARAMETER) << bad;
  EXPECT_EQ(code_of([&] { users.add(std::string(65, 'a') + "@example.com", "", "pw"); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([&] { users.add("carol@example.com", "", ""); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_TRUE(users.list().empty());
  // A users file that is some other SQLite database.
  const fs::path other = dir / "other";
  fs::create_directories(other);
  {
    auto mb = store::create_sqlite_mailbox((other / "users.sqlite").string(), {"x", "x@example.com", 0});
  }
  EXPECT_EQ(code_of([&] { UserDirectory u(other.string()); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  // A data directory without users has none.
  UserDirectory empty((dir / "nothing").string());
  EXPECT_TRUE(empty.list().empty());
  EXPECT_FALSE(empty.authenticate("alice@example.com", "pw"));
}
