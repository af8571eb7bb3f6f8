// MAPI profiles: named sets of message services (a local mailbox, a PST file; later a remote
// server and an SMTP transport), kept in one JSON file under the user's configuration directory
// ($XDG_CONFIG_HOME/openmapi/profiles.json, else ~/.config/openmapi/profiles.json).
//
// Errors: MAPI_E_NOT_FOUND for an unknown profile, MAPI_E_COLLISION for a name in use,
// MAPI_E_INVALID_PARAMETER for a bad name or service, MAPI_E_CORRUPT_DATA for a profile file that
// is not ours (with what is wrong and where), MAPI_E_DISK_ERROR when it cannot be written.
// Writes replace the file whole (a temporary file renamed over it, mode 0600): a crash leaves the
// old file or the new one. Thread safety: none; two processes changing profiles at once may lose
// one change (the last rename wins).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace openmapi::mapi {

struct MessageService {
  std::string kind;          // "mailbox" (a SQLite mailbox) or "pst" (a PST/OST file, read-only)
  std::string name;          // the mailbox name (mailbox) or the file name (pst)
  std::string path;          // the absolute path of the file
  std::string display_name;  // shown in the message store table
  friend bool operator==(const MessageService&, const MessageService&) = default;
};

struct Profile {
  std::string name;
  std::vector<MessageService> services;  // the first is the default store
  friend bool operator==(const Profile&, const Profile&) = default;
};

// The profile file's form: {"version": 1, "profiles": [{"name", "services": [{kind, name, path,
// display_name}]}]}. Parsing checks everything (types, kinds, names, sizes) and never trusts a
// count: MAPI_E_CORRUPT_DATA otherwise.
std::vector<Profile> parse_profiles(std::string_view text);
std::string serialize_profiles(const std::vector<Profile>& profiles);
// 1-64 characters of [A-Za-z0-9._@-]; MAPI_E_INVALID_PARAMETER otherwise.
void check_profile_name(const std::string& name);

class ProfileStore {
 public:
  // The profile file at `path` (created on the first change).
  explicit ProfileStore(std::string path) : path_(std::move(path)) {}
  static std::string default_path();
  const std::string& path() const { return path_; }

  std::vector<Profile> list() const;
  Profile get(const std::string& name) const;
  void create(const Profile& p);
  void remove(const std::string& name);

 private:
  void save(const std::vector<Profile>& all) const;
  std::string path_;
};

}  // namespace openmapi::mapi
