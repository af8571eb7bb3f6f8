// Where a data directory keeps its mailboxes: <data-dir>/mailboxes/<name>.sqlite. One rule for
// every door (the CLI, the server's users), so a name means the same file everywhere.
#pragma once
#include <string>

namespace openmapi::store {

// <data-dir>/mailboxes/<name>.sqlite; a name is 1-64 of [A-Za-z0-9._@-], not starting with '.'
// and not ending in .pst or .ost (MAPI_E_INVALID_PARAMETER otherwise). Thread-safe (no state).
std::string mailbox_file(const std::string& data_dir, const std::string& name);

}  // namespace openmapi::store
