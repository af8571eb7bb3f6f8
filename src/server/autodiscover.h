// Autodiscover, the POX flavour (MS-OXDSCLI): the request a client POSTs to
// /autodiscover/autodiscover.xml and the response that tells it where the mailbox is.
// Bad input: parse_autodiscover_request takes at most kMaxRequest bytes, never allocates for
// a claim, and returns nullopt for anything that is not a request (no exceptions).
// Thread-safe: pure functions.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace openmapi::server {

inline constexpr size_t kMaxAutodiscoverRequest = 64 * 1024;

// MS-OXDSCLI 2.2.3: Autodiscover/Request/EMailAddress and AcceptableResponseSchema (any prefix).
struct AutodiscoverRequest {
  std::string email;
  std::string schema;  // AcceptableResponseSchema (the outlook/responseschema/2006a one is what we answer)
};
std::optional<AutodiscoverRequest> parse_autodiscover_request(std::string_view body);

// What the response says about one mailbox.
struct AutodiscoverSettings {
  std::string display_name;
  std::string email;          // AutoDiscoverSMTPAddress
  std::string legacy_dn;      // the user's LegacyDN
  std::string deployment_id;  // a GUID naming this server's organization
  std::string server;         // the host clients connect to
  std::string mailbox_id;     // "<mailbox guid>@<domain>": the MailboxId of the MAPI/HTTP URLs
  std::string base_url;       // "https://host:port"
  std::string server_dn;      // the server's DN (EXCH)
  std::string mdb_dn;         // the mailbox database's DN (EXCH)
  bool mapi_http = false;     // the client sent X-MapiHttpCapability: add the mapiHttp Protocol
};
// MS-OXDSCLI 2.2.4: the Response of the outlook schema: User, Account with the EXCH and EXPR
// protocols and, for a MAPI/HTTP client, the mapiHttp protocol with the MailStore (EMSMDB) and
// AddressBook (NSPI) URLs.
std::string autodiscover_response(const AutodiscoverSettings& s);
// MS-OXDSCLI 2.2.4.1.1.1: the Error response (ErrorCode 500 for an address that is not found,
// 600 for an invalid request, 603 for a schema we do not provide).
std::string autodiscover_error(int code, const std::string& message);
// XML character data: & < > " ' escaped.
std::string xml_escape(std::string_view s);

}  // namespace openmapi::server
