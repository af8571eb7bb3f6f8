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

// The spooler's queue: every user's submitted messages not yet sent (oldest first). An ID is
// "MAILBOX:MESSAGE-ID". `flush` has a running server try every queued message now (the spooler
// looks at the data directory's spool.flush); `rm` takes a message out of the queue (it stays in
// the sender's Outbox, unsent, as RopAbortSubmit leaves it). MAPI_E_NOT_FOUND for an unknown
// mailbox, MAPI_E_NOT_IN_QUEUE for a message that is not queued.
void queue_ls(const std::string& data_dir, bool json);
void queue_flush(const std::string& data_dir);
void queue_rm(const std::string& data_dir, const std::string& id);
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
