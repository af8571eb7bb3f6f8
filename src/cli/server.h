// The server commands of `openmapi`: users and `serve`.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace openmapi::cli {

// `user add|passwd|rm|ls`. Passwords come from the first line of stdin (--password-stdin),
// never from the command line.
void user_add(const std::string& data_dir, const std::string& address, const std::string& display_name, const std::string& mailbox);
void user_passwd(const std::string& data_dir, const std::string& address);
void user_rm(const std::string& data_dir, const std::string& address);
void user_ls(const std::string& data_dir, bool json);
// The password on stdin's first line (without its line end); MAPI_E_INVALID_PARAMETER when empty.
std::string read_password_stdin();

struct ServeOptions {
  std::string config;               // --config FILE
  std::vector<std::string> listen;  // --listen PROTO=ADDR:PORT..., over the config's
  std::string data_dir;             // the data directory (the global --data-dir, or the default)
  bool data_dir_given = false;      // --data-dir or $OPENMAPI_DATA_DIR was given: it wins over the config
  // Called once the listeners are bound, with their base URLs ("https://host:port").
  std::function<void(const std::vector<std::string>&)> ready;
};
// `openmapi serve`: runs until SIGINT or SIGTERM (SIGHUP reopens the log file).
void serve(const ServeOptions& o);

}  // namespace openmapi::cli
