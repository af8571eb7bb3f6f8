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
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace openmapi::mapi {

struct MessageService {
  // "mailbox" (a SQLite mailbox), "pst" (a PST/OST file, read-only) or "remote" (a mailbox on a
  // MAPI over HTTP server, through the remote provider: mapi/remote.h)
  std::string kind;
  std::string name;          // the mailbox name (mailbox), the file name (pst), the user's address (remote)
  // The absolute path of the file, or for "remote" the server's https:// URL; empty: not
  // configured yet.
  std::string path;
  std::string display_name;  // shown in the message store table
  // The service's MAPIUID (PR_SERVICE_UID) as 32 hex digits: kept in the file once a program
  // has seen it through IMsgServiceAdmin; empty: derived from kind, name and path (uid()).
  std::string uid_hex = {};
  // "remote" only: the password (the profile file is the user's alone, mode 0600; empty: none
  // kept, the logon fails with MAPI_E_LOGON_FAILED unless OPENMAPI_PASSWORD is set) and a PEM
  // file of the CA that signed the server's certificate (empty: the system's CAs).
  std::string password = {};
  std::string ca_file = {};
  // The UID: uid_hex's bytes, or 16 bytes derived from kind, name and path.
  std::array<uint8_t, 16> uid() const;
  friend bool operator==(const MessageService&, const MessageService&) = default;
};

struct Profile {
  std::string name;
  std::vector<MessageService> services;  // the first is the default store
  friend bool operator==(const Profile&, const Profile&) = default;
};

// The whole file: the profiles and which is the default ("": the first).
struct ProfileFile {
  std::vector<Profile> profiles;
  std::string default_profile;
  // The default profile's name: default_profile, else the first's; "" when there are none.
  std::string default_name() const;
  friend bool operator==(const ProfileFile&, const ProfileFile&) = default;
};

// The profile file's form: {"version": 1, "default": NAME (optional), "profiles": [{"name",
// "services": [{kind, name, path, display_name, uid, password, ca_file (the last three
// optional)}]}]}. Parsing checks everything
// (types, kinds, names, sizes, that the default names a profile) and never trusts a count:
// MAPI_E_CORRUPT_DATA otherwise.
ProfileFile parse_profile_file(std::string_view text);
std::string serialize_profile_file(const ProfileFile& file);
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
  // The default profile (MAPI_USE_DEFAULT): MAPI_E_NOT_FOUND when there is no profile.
  Profile get_default() const;
  void create(const Profile& p);
  void remove(const std::string& name);
  // The whole file, read and replaced at once (IProfAdmin, IMsgServiceAdmin); store() checks it
  // as parsing does.
  ProfileFile load() const;
  void store(const ProfileFile& file) const;

 private:
  std::string path_;
};

}  // namespace openmapi::mapi
