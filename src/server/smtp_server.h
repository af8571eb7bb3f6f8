// The SMTP doors of `openmapi serve` on a LineServer (line_server.h): `smtp`, `submission`
// (STARTTLS, AUTH), `submissions` (implicit TLS) and `lmtp`, each an SmtpEngine (smtp.h) whose
// password checks and deliveries (delivery.h) run as work on the worker threads. A failed
// authentication is answered after one second.
#pragma once
#include "server/line_server.h"

namespace openmapi::server {

void add_smtp_doors(LineServer& server, const ServerConfig& config);

}  // namespace openmapi::server
