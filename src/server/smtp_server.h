// The SMTP, submission and LMTP listeners of `openmapi serve`: SmtpEngine (smtp.h) over Asio
// sockets, STARTTLS (and implicit TLS for `submissions`) with the server's certificate, password
// checks and deliveries (delivery.h) on worker threads so that no io thread waits for Argon2id or
// a disk flush.
//
// Every connection has ServerConfig::io_timeout per read and write; one address may hold
// ServerConfig::smtp_max_connections_per_address connections at once (then 421); a failed
// authentication is answered after one second.
// Thread safety: construct, start() and bound() from the controlling thread before the io
// context runs; stop() from any thread (it posts onto the io context).
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/delivery.h"
#include "server/http.h"

namespace openmapi::server {

class SmtpServer {
 public:
  // `io`: the context the listeners run on (the HTTPS server's); the certificate pair as for
  // HttpServer.
  SmtpServer(boost::asio::io_context& io, const ServerConfig& config, const std::string& tls_certificate,
             const std::string& tls_key);
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  // Binds every smtp, submission, submissions and lmtp entry of the config (port 0: a free one).
  // MAPI_E_NETWORK_ERROR naming the address when one cannot be bound.
  void start();
  std::vector<ListenSpec> bound() const;
  // Closes the listeners (connections end with the io context).
  void stop();

  struct Shared;  // what the connections use (config, TLS, delivery, workers, per-address counts)

 private:
  struct Listener;
  boost::asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace openmapi::server
