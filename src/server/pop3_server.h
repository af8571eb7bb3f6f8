// The POP3 doors of `openmapi serve` on a LineServer (line_server.h): `pop3` (STLS) and `pop3s`
// (implicit TLS), a Pop3Engine (pop3.h) per connection over the user's Inbox.
//
// The maildrop is the Inbox's messages at login (not FAI, not soft-deleted), in id order; a
// message's UIDL is its message id (kept across sessions; a message moved away and back is a new
// one, as its id is). Messages are rendered as MIME from the store (formats/mime), which is what
// LIST counts and RETR and TOP send. RETR marks the message read; DELE'd messages are
// soft-deleted at QUIT in one call (recoverable, as MAPI's soft delete is), or none.
// Logins are checked on the worker threads, a failure answered after one second.
#pragma once
#include "server/line_server.h"

namespace openmapi::server {

void add_pop3_doors(LineServer& server, const ServerConfig& config);

}  // namespace openmapi::server
