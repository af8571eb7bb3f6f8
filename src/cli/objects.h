// The commands that go through the MAPI object model (store/objects.h): `message show`,
// `message set`, `message rm`, and `watch`. The CLI logs on as the system (an administrator's
// tool), so the one rights check in the engine lets it do what the store allows.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "store/objects.h"

namespace openmapi::cli {

// A Logon on the mailbox `name` (or a .pst/.ost file) of data directory `dir`.
std::shared_ptr<store::Logon> logon_mailbox(const std::string& dir, const std::string& name);

void message_show(store::Logon& logon, store::MessageId id, bool as_json);
// Sets PROP=VALUE assignments and deletes properties in one SaveChanges. PROP is a canonical
// name, a PR_ name, an alias of the restriction syntax or a hex tag; named properties (PidLid*,
// PidName*) are mapped in the store. VALUE is read by the property's type: integers (decimal or
// 0x hex), true/false, floating point, ISO 8601 times, hex binaries, GUIDs, text. A property that
// cannot be set fails the whole command and nothing is saved (MAPI_E_COMPUTED, MAPI_E_INVALID_TYPE).
void message_set(store::Logon& logon, store::MessageId id, const std::vector<std::string>& assignments,
                 const std::vector<std::string>& deletions);
void message_rm(store::Logon& logon, const std::vector<store::MessageId>& ids, bool hard);
// Prints one line per notification (with --json one object per line) until SIGINT or SIGTERM.
void watch(store::Logon& logon, const std::string& folder, bool as_json);

}  // namespace openmapi::cli
