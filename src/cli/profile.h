// `openmapi profile create|ls|show|rm` and `openmapi ab resolve` (mapi/).
#pragma once
#include <string>
#include <vector>

namespace openmapi::cli {

// A mailbox on a MAPI over HTTP server (`--server URL --user ADDRESS`): the remote provider's
// service. The password comes from standard input (`--password-stdin`, kept in the profile file,
// which is the user's alone) or, at every logon, from OPENMAPI_PASSWORD.
struct RemoteServiceOptions {
  std::string url, user, ca_file;
  bool password_stdin = false;
};

// A profile of the mailbox `mailbox` of `data_dir` (if given), the server mailbox of `remote` (if
// its url is given) and the PST files `psts`, in that order: the first is the default store.
// Files must exist and open; a server must accept the logon.
void profile_create(const std::string& data_dir, const std::string& name, const std::string& mailbox,
                    const RemoteServiceOptions& remote, const std::vector<std::string>& psts, const std::string& display_name);
void profile_ls(bool as_json);
void profile_show(const std::string& name, bool as_json);
void profile_rm(const std::string& name);
void ab_resolve(const std::string& profile, const std::string& text, bool as_json);

}  // namespace openmapi::cli
