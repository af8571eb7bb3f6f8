// The HTTPS listener of `openmapi serve`: Boost.Beast over Asio and OpenSSL (TLS 1.2 and 1.3
// only), HTTP/1.1 with keep-alive, every request handed to one Handler.
//
// Bad input: a request head over 16 KiB or a body over ServerConfig::max_request_body is refused
// (431 / 413) before anything is allocated for it (Beast's parser limits; a claimed
// Content-Length is checked when the head arrives); a malformed request gets 400 and the
// connection closes; a client that stalls (TLS handshake, head or body) is dropped after
// ServerConfig::io_timeout.
// Thread safety: the handler is called on the io threads, concurrently for different
// connections; start/run/stop from one controlling thread (stop also from a signal handler
// posted onto the io context).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/smtp.h"
#include "server/smtp_client.h"

namespace openmapi::server {

namespace http = boost::beast::http;

// One --listen: PROTO=ADDR:PORT ("https=127.0.0.1:8443", "https=[::1]:443", "smtp=0.0.0.0:25").
// PROTO: https (MAPI over HTTP, Autodiscover), smtp (port 25: mail for local users),
// submission (587: authenticated clients, STARTTLS), submissions (465: implicit TLS), lmtp
// (delivery from an MTA), imap (143: STARTTLS), imaps (993: implicit TLS), pop3 (110: STLS),
// pop3s (995: implicit TLS).
struct ListenSpec {
  std::string proto;
  std::string address;
  uint16_t port = 0;
  std::string text() const;
};
// MAPI_E_INVALID_PARAMETER for anything else, or a PROTO this server does not speak (yet).
ListenSpec parse_listen(const std::string& s);
// Opens, binds and listens `acceptor` on `spec` (address reuse on), and sets spec.port to the
// bound port (for port 0). MAPI_E_NETWORK_ERROR naming the address when it cannot.
void listen_on(boost::asio::ip::tcp::acceptor& acceptor, ListenSpec& spec);

// The settings of `openmapi serve` (docs/SERVER.md lists every key with its default).
struct ServerConfig {
  std::string data_dir = "var";
  std::vector<ListenSpec> listen;         // default: https=127.0.0.1:8443
  std::string certificate, private_key;   // PEM files; empty: a self-signed pair under data_dir/tls
  std::string host_name;                  // the name in URLs and the certificate; default: this host's name
  std::string public_url;                 // the base of the URLs Autodiscover hands out; default https://host_name:port
  std::string organization = "OpenMAPI";  // the o= of LegacyDNs
  uint64_t max_request_body = 16u << 20;  // bytes
  std::chrono::seconds io_timeout{60};    // per handshake, request head, body
  unsigned threads = 2;                   // io threads
  std::string log_file;                   // empty: stderr
  std::string log_level = "info";
  uint32_t auth_failures_before_delay = 3;  // per user and per address, then 0.5 s, 1 s, 2 s ... up to 8 s
  SmtpLimits smtp;                          // smtp_max_message_size, smtp_max_recipients, smtp_max_command_line, smtp_max_errors
  uint32_t smtp_max_connections_per_address = 20;  // SMTP, submission and LMTP connections at once from one client address
  // Relaying what local users send to other domains (spooler.h; docs/SERVER.md "Relay").
  std::string relay = "mx";                // "mx": to each domain's MX hosts; "none": not at all (the sender gets a report); or a smarthost HOST[:PORT]
  uint16_t relay_port = 25;                // the port of MX hosts, and of a smarthost named without one
  std::string relay_user, relay_password;  // AUTH at the smarthost (the password from relay_password_file)
  std::optional<RelayTls> relay_tls;       // none | opportunistic | required; unset: required for a smarthost with relay_user, else opportunistic
  bool relay_tls_verify = true;            // check the smarthost's certificate (MX hosts: opportunistic TLS, unchecked, RFC 7435)
  std::string relay_ca_file;               // PEM of the CAs trusted for the smarthost; empty: the system's
  std::chrono::seconds relay_timeout{300}; // per connect, command and reply
  std::chrono::seconds queue_lifetime{5 * 24 * 3600};  // then a message still not delivered is returned to its sender (4.4.7)
  // The smarthost as host and port (nullopt for "mx" and "none"); MAPI_E_INVALID_PARAMETER for a bad one.
  std::optional<std::pair<std::string, uint16_t>> smarthost() const;
};
// Reads `key = value` lines ('#' starts a comment; `listen` may repeat, or hold a list with
// commas) over the defaults. MAPI_E_NOT_FOUND for a missing file, MAPI_E_INVALID_PARAMETER
// naming the line of an unknown key or a bad value.
ServerConfig load_config(const std::string& path, ServerConfig base = {});

struct HttpRequest {
  http::request<http::string_body> msg;
  std::string remote;  // the client's address
};
struct HttpReply;
// Completes a deferred reply: call it exactly once, from any thread.
using ReplyCompletion = std::function<void(HttpReply)>;
struct HttpReply {
  http::response<http::string_body> msg;
  std::chrono::milliseconds delay{0};  // held back this long before it is sent (authentication backoff)
  std::string user;                    // for the request log ("-": none)
  std::string request_type;            // for the request log (X-RequestType, or the path)
  // A reply that comes later (a long poll): when set, the server ignores the rest of this reply
  // and calls `deferred` once, on an io thread, with the connection's executor (for timers) and
  // the completion that sends the real reply. No io thread waits meanwhile.
  std::function<void(boost::asio::any_io_executor, ReplyCompletion)> deferred;
};
using Handler = std::function<HttpReply(const HttpRequest&)>;

class HttpServer {
 public:
  // `tls_certificate`/`tls_key`: PEM files. MAPI_E_INVALID_PARAMETER when OpenSSL refuses them.
  HttpServer(const ServerConfig& config, const std::string& tls_certificate, const std::string& tls_key, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on every https entry of the config (port 0: a free port).
  // MAPI_E_NETWORK_ERROR naming the address when one cannot be bound.
  void start();
  // The bound listeners: each spec with its actual port.
  std::vector<ListenSpec> bound() const;
  // Runs the io threads until stop(); returns when they are done.
  void run();
  // Stops accepting and ends every connection; run() returns.
  void stop();
  boost::asio::io_context& io() { return io_; }

 private:
  struct Listener;
  ServerConfig config_;
  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace openmapi::server
