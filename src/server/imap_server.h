// The IMAP doors of `openmapi serve` on a LineServer (line_server.h): `imap` (STARTTLS; LOGIN
// and AUTHENTICATE only once TLS is on) and `imaps` (implicit TLS), an ImapSession
// (imap_session.h) per connection fed by an ImapReader (imap.h).
//
// Every command runs as one piece of work on the worker threads, in order (pipelined commands
// wait their turn); a long FETCH is sent in pieces of about a megabyte. IDLE waits for input
// and for the selected mailbox's change feed, which wakes the connection: changes made through
// any door reach the client within the feed's poll interval. A client may stay silent for 30
// minutes once logged in (RFC 9051 5.4), for the io timeout before.
#pragma once
#include "server/line_server.h"

namespace openmapi::server {

void add_imap_doors(LineServer& server, const ServerConfig& config);

}  // namespace openmapi::server
