// A message's named properties between the id spaces of a file (or a parsed MIME message) and a
// mailbox: what every door that files a message (import, delivery) and every export needs.
// Thread safety: as the Mailbox given (the functions keep no state).
#pragma once
#include <set>

#include "core/namedprop.h"
#include "core/propbag.h"

namespace openmapi::store {

class Mailbox;

// The named ids a message uses (its own, its recipients', attachments', embedded messages').
void named_ids(const Message& m, std::set<uint16_t>& out);
// The message with its named tags rewritten from the ids of `from` to the mailbox's (mapping the
// names there as needed). Named ids `from` gives no name are dropped: they mean nothing elsewhere.
Message to_mailbox_ids(const Message& m, const NamedPropertyMap& from, Mailbox& mb);
// The mailbox's names for the named ids `m` uses: the map to write `m` to a file with.
NamedPropertyMap mailbox_names_for(const Message& m, Mailbox& mb);

}  // namespace openmapi::store
