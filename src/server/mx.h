// Where mail for a domain goes (RFC 5321 5.1): the hosts of its MX records, lowest preference
// first; a domain without MX records is its own host (the implicit MX); a domain literal
// ("[192.0.2.1]", "[IPv6:2001:db8::1]") is that address; a null MX (RFC 7505: one record naming
// ".") accepts no mail.
// Errors are replies: 550 5.1.2 for a domain that does not exist, 556 5.1.10 for a null MX,
// 451 4.4.3 when the DNS does not answer (try later).
// Thread safety: resolve_mx is reentrant (its own resolver state per call).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "server/smtp.h"

namespace openmapi::server {

struct MxRoute {
  std::vector<std::string> hosts;  // names or addresses to connect to, in order
  std::optional<SmtpReply> failure;
};

MxRoute resolve_mx(const std::string& domain);

struct MxRecord {
  uint16_t preference = 0;
  std::string host;  // without the final dot; "" for the root (a null MX)
};
// The MX records of a DNS answer (RFC 1035 4.1), in the order given. MAPI_E_CORRUPT_DATA for a
// malformed message.
std::vector<MxRecord> parse_mx_answer(ByteView answer);

// "[192.0.2.1]" -> "192.0.2.1", "[IPv6:2001:db8::1]" -> "2001:db8::1"; nullopt for a domain
// name or a literal that is not an address.
std::optional<std::string> domain_literal_address(const std::string& domain);

}  // namespace openmapi::server
