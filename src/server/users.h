// The server's users: one per SMTP address, its login name, with a display name, an Argon2id
// password hash and the mailbox it owns. Kept in <data-dir>/users.sqlite (created by the first
// `add`); the mailboxes are the data directory's mailboxes (<data-dir>/mailboxes/<address>.sqlite,
// the address in lower case), so the CLI browses a user's mailbox with `-m ADDRESS`.
//
// Errors: MAPI_E_INVALID_PARAMETER for a malformed address, display name or empty password;
// MAPI_E_COLLISION for an address that exists; MAPI_E_NOT_FOUND for one that does not;
// MAPI_E_CORRUPT_STORE for a users file that is not ours. A wrong password is not an error:
// authenticate() returns nullopt, for unknown users too, after the same work (no timing tells
// which addresses exist).
// Thread safety: one UserDirectory per thread (each opens its own connection); several
// processes may share the file (SQLite's locking).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace openmapi::store::sqlite {
class Db;
}

namespace openmapi::server {

struct User {
  std::string address;       // as given at creation (case kept); compared case-insensitively
  std::string display_name;  // defaults to the address's local part
  std::string mailbox;       // the mailbox name in the data directory (the address, lower case)
  int64_t created = 0;       // FILETIME
};

// Argon2id parameters (RFC 9106 second recommended option, and OWASP's: 19 MiB, t=2, p=1);
// stored in the encoded hash, so raising them later keeps old hashes valid.
struct PasswordCost {
  uint32_t t_cost = 2;
  uint32_t m_cost_kib = 19 * 1024;
  uint32_t parallelism = 1;
};

// "$argon2id$v=19$m=...,t=...,p=...$salt$hash" for `password` (a random 16-byte salt).
std::string hash_password(const std::string& password, const PasswordCost& cost = {});
// Whether `password` matches an encoded Argon2id hash (false for a malformed one).
bool verify_password(const std::string& encoded, const std::string& password);

class UserDirectory {
 public:
  // Opens (creating when `create`) <data_dir>/users.sqlite. Without `create`, a data directory
  // without users has none (list() is empty, find() nullopt).
  explicit UserDirectory(std::string data_dir, bool create = false);
  ~UserDirectory();
  UserDirectory(const UserDirectory&) = delete;
  UserDirectory& operator=(const UserDirectory&) = delete;

  // A new user and, unless one exists by that name, its mailbox (the default folders, its
  // display name and address): `mailbox` names it in the data directory (empty: the address in
  // lower case; an existing mailbox is taken over as it is). Returns the user.
  User add(const std::string& address, const std::string& display_name, const std::string& password,
           const std::string& mailbox = "");
  void set_password(const std::string& address, const std::string& password);
  // Removes the user; its mailbox stays in the data directory (remove it with `mailbox rm`).
  void remove(const std::string& address);
  std::optional<User> find(const std::string& address);
  std::vector<User> list();
  // The user whose address and password these are, or nullopt.
  std::optional<User> authenticate(const std::string& address, const std::string& password);

  const std::string& data_dir() const { return dir_; }

 private:
  void open(bool create);
  std::string dir_;
  std::unique_ptr<store::sqlite::Db> db_;
};

// The calling thread's directory of `data_dir`, opened on first use and kept for the thread's
// life (the worker threads of the mail doors share no connection).
UserDirectory& thread_user_directory(const std::string& data_dir);

// "local@domain" with 1-64 characters before the '@', a domain of letters, digits, '-' and '.',
// 254 characters in all, no spaces or control characters; the checked address.
std::string check_address(const std::string& address);

}  // namespace openmapi::server
