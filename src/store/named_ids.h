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

// OpenMAPI's own property set, for what MAPI has no property for.
extern const Guid kPsetOpenMapi;
// "InternetMessage" (PtypBinary): the message as it came in over SMTP, LMTP or IMAP APPEND, its
// MIME byte for byte. IMAP and POP3 send it rather than a rendering. A store drops it in the same
// transaction as any change to the message's content (anything but what is_status_property
// names), so that it never says other than the message.
PropertyName internet_message_name();
// "ImapEnvelope" (PtypString): IMAP's ENVELOPE of the InternetMessage, worked out when it was
// stored (so that a FETCH of many envelopes reads one short value each); dropped with it.
PropertyName imap_envelope_name();
// "ImapDeleted" (PtypBoolean): IMAP's \Deleted flag.
PropertyName imap_deleted_name();
// Whether changing `tag` (for a named one, `name`: nullptr when unknown) leaves a message's
// content as it was: the read state and message flags, follow-up flags and icon, the last verb,
// the categories (PS_PUBLIC_STRINGS Keywords), IMAP's \Deleted, the Internet form itself.
bool is_status_property(PropTag tag, const PropertyName* name);

}  // namespace openmapi::store
