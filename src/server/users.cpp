#include "server/users.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "store/data_dir.h"
#include "store/sqlite/db.h"
#include "store/store.h"

namespace openmapi::server {

using store::sqlite::Db;
using store::sqlite::Stmt;
using store::sqlite::Transaction;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS users(
  address TEXT PRIMARY KEY COLLATE NOCASE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  mailbox TEXT NOT NULL,
  created INTEGER NOT NULL);
)sql";
constexpr int kApplicationId = 0x4F4D5553;  // "OMUS"

int64_t now_filetime() {
  return to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
}

User user_of(const Stmt& q) { return User{q.text(0), q.text(1), q.text(2), q.int64(3)}; }

// A hash of a random password: what authenticate() verifies against for an unknown address, so
// both answers cost the same.
const std::string& decoy_hash() {
  static const std::string h = hash_password("decoy password, never valid");
  return h;
}

}  // namespace

std::string hash_password(const std::string& password, const PasswordCost& cost) {
  if (password.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the password is empty");
  if (password.size() > 4096) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the password is longer than 4096 bytes");
  uint8_t salt[16];
  if (RAND_bytes(salt, sizeof salt) != 1) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "no random bytes for a password salt");
  const size_t len = argon2_encodedlen(cost.t_cost, cost.m_cost_kib, cost.parallelism, sizeof salt, 32, Argon2_id);
  std::string out(len, '\0');
  int rc = argon2id_hash_encoded(cost.t_cost, cost.m_cost_kib, cost.parallelism, password.data(), password.size(), salt,
                                 sizeof salt, 32, out.data(), out.size());
  if (rc != ARGON2_OK) throw_error(ErrorCode::MAPI_E_CALL_FAILED, std::string("hashing a password: ") + argon2_error_message(rc));
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool verify_password(const std::string& encoded, const std::string& password) {
  if (encoded.rfind("$argon2id$", 0) != 0 || password.size() > 4096) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string check_address(const std::string& address) {
  const size_t at = address.rfind('@');
  bool ok = at != std::string::npos && at >= 1 && at <= 64 && at + 1 < address.size() && address.size() <= 254;
  for (size_t i = 0; ok && i < address.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(address[i]);
    if (c <= 0x20 || c == 0x7F || c == '"' || c == '\\' || c == '<' || c == '>' || c == ',' || c == ';' || c == '/') ok = false;
    if (i > at && !(std::isalnum(c) || c == '-' || c == '.')) ok = false;
    if (i < at && c == '@') ok = false;
  }
  if (ok) {
    const std::string domain = address.substr(at + 1);
    ok = domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string::npos;
  }
  if (!ok) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + address.substr(0, 80) + "' is not an e-mail address (local@domain)");
  return address;
}

UserDirectory::UserDirectory(std::string data_dir, bool create) : dir_(std::move(data_dir)) { open(create); }
UserDirectory::~UserDirectory() = default;

void UserDirectory::open(bool create) {
  const std::string path = (std::filesystem::path(dir_) / "users.sqlite").string();
  if (!create && !std::filesystem::exists(path)) return;
  std::filesystem::create_directories(dir_);
  db_ = std::make_unique<Db>(path, create);
  int64_t id = 0, objects = 0;
  {
    Stmt app(*db_, "PRAGMA application_id");
    app.step();
    id = app.int64(0);
  }
  if (id != 0 && id != kApplicationId) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, path + " is not an OpenMAPI users file");
  if (id == 0) {
    {
      Stmt t(*db_, "SELECT COUNT(*) FROM sqlite_schema");
      t.step();
      objects = t.int64(0);
    }
    if (objects != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, path + " is not an OpenMAPI users file");
    db_->exec("PRAGMA journal_mode = WAL");
    db_->exec(kSchema);
    db_->exec("PRAGMA application_id = " + std::to_string(kApplicationId));
  }
  db_->exec("PRAGMA synchronous = FULL");
  std::error_code ec;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace, ec);  // password hashes: owner only
}

User UserDirectory::add(const std::string& address, const std::string& display_name, const std::string& password,
                        const std::string& mailbox) {
  check_address(address);
  if (display_name.size() > 256) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the display name is longer than 256 bytes");
  for (char c : display_name)
    if (static_cast<unsigned char>(c) < 0x20) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the display name holds a control character");
  const std::string hash = hash_password(password);
  if (!db_) open(true);
  if (find(address)) throw_error(ErrorCode::MAPI_E_COLLISION, "a user '" + address + "' exists already");
  User u;
  u.address = address;
  u.display_name = display_name.empty() ? address.substr(0, address.rfind('@')) : display_name;
  u.mailbox = mailbox.empty() ? ascii_lower(address) : mailbox;
  u.created = now_filetime();
  const std::string mbox = store::mailbox_file(dir_, u.mailbox);  // checks the name (64 characters at most)
  if (!std::filesystem::exists(mbox)) {
    std::filesystem::create_directories(std::filesystem::path(mbox).parent_path());
    store::create_sqlite_mailbox(mbox, {u.display_name, address, 0});
  }
  Stmt(*db_, "INSERT INTO users(address, display_name, password_hash, mailbox, created) VALUES(?, ?, ?, ?, ?)")
      .bind(1, std::string_view(u.address))
      .bind(2, std::string_view(u.display_name))
      .bind(3, std::string_view(hash))
      .bind(4, std::string_view(u.mailbox))
      .bind(5, u.created)
      .run();
  return u;
}

void UserDirectory::set_password(const std::string& address, const std::string& password) {
  const std::string hash = hash_password(password);
  if (!db_ || !find(address)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no user '" + address + "'");
  Stmt(*db_, "UPDATE users SET password_hash = ? WHERE address = ?").bind(1, std::string_view(hash)).bind(2, std::string_view(address)).run();
}

void UserDirectory::remove(const std::string& address) {
  if (!db_ || !find(address)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no user '" + address + "'");
  Stmt(*db_, "DELETE FROM users WHERE address = ?").bind(1, std::string_view(address)).run();
}

std::optional<User> UserDirectory::find(const std::string& address) {
  if (!db_) open(false);  // made since this directory was opened?
  if (!db_) return std::nullopt;
  Stmt q(*db_, "SELECT address, display_name, mailbox, created FROM users WHERE address = ?");
  q.bind(1, std::string_view(address));
  if (!q.step()) return std::nullopt;
  return user_of(q);
}

std::vector<User> UserDirectory::list() {
  std::vector<User> out;
  if (!db_) open(false);
  if (!db_) return out;
  Stmt q(*db_, "SELECT address, display_name, mailbox, created FROM users ORDER BY address");
  while (q.step()) out.push_back(user_of(q));
  return out;
}

std::optional<User> UserDirectory::authenticate(const std::string& address, const std::string& password) {
  std::string hash;
  std::optional<User> u;
  if (!db_) open(false);
  if (db_ && address.size() <= 254) {
    Stmt q(*db_, "SELECT address, display_name, mailbox, created, password_hash FROM users WHERE address = ?");
    q.bind(1, std::string_view(address));
    if (q.step()) {
      u = user_of(q);
      hash = q.text(4);
    }
  }
  const bool ok = verify_password(u ? hash : decoy_hash(), password);
  if (!u || !ok) return std::nullopt;
  return u;
}

UserDirectory& thread_user_directory(const std::string& data_dir) {
  thread_local std::string dir;
  thread_local std::unique_ptr<UserDirectory> users;
  if (!users || dir != data_dir) {
    users = std::make_unique<UserDirectory>(data_dir);
    dir = data_dir;
  }
  return *users;
}

}  // namespace openmapi::server
