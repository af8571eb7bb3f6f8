// TLS for every listener: the configured certificate and key, or a self-signed pair made once
// under <data-dir>/tls/ (server.crt, server.key with mode 0600) for localhost, the host's name
// and the loopback addresses. TLS 1.2 and 1.3 only.
// Errors: MAPI_E_NOT_FOUND for a configured file that is missing, MAPI_E_INVALID_PARAMETER for
// one OpenSSL cannot use (named in the message), MAPI_E_CALL_FAILED when making a pair fails.
#pragma once
#include <boost/asio/ssl/context.hpp>

#include <string>

namespace openmapi::server {

struct TlsFiles {
  std::string certificate;  // PEM, the chain after the leaf
  std::string private_key;  // PEM
  bool self_signed = false; // made here (this run or an earlier one)
  bool created = false;     // made by this call
};

// The files to use: `certificate`/`private_key` when given (both or neither), else the
// self-signed pair under `data_dir`, made if missing (an EC P-256 key, valid 825 days, SHA-256).
TlsFiles ensure_tls_files(const std::string& data_dir, const std::string& certificate, const std::string& private_key,
                          const std::string& host_name);

// Loads the pair into `ctx` and allows TLS 1.2 and 1.3 only (every listener's settings).
// MAPI_E_INVALID_PARAMETER when OpenSSL refuses a file or the key is not the certificate's.
void configure_server_tls(boost::asio::ssl::context& ctx, const std::string& certificate, const std::string& private_key);

}  // namespace openmapi::server
