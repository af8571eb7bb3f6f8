// What `openmapi serve` answers over HTTPS: authentication and routing.
//
// Every request must carry HTTP Basic credentials of a user (users.h); without them, or with
// wrong ones, the answer is 401 with a Basic challenge. Failures are counted per user and per
// client address: after ServerConfig::auth_failures_before_delay of them in a row, every further
// answer to that user or address is held back 0.5 s, then 1 s, 2 s ... up to 8 s (a success
// resets the count), and each failure is logged. A verified password is remembered for five
// minutes (as an HMAC under a key of this process), so that a client that authenticates every
// request does not pay Argon2id every time; a request whose password is not remembered is
// answered from two verifier threads of its own (a deferred reply), so that Argon2id never runs
// on the io threads.
//
// Routes: /autodiscover/autodiscover.xml (any case) takes POX Autodiscover POSTs
// (autodiscover.h); /mapi/emsmdb/ is EMSMDB (emsmdb.h); /mapi/nspi/ the address book
// (nspi.h); anything else is 404.
// Thread safety: handle() may be called from several threads at once.
#pragma once
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "server/emsmdb.h"
#include "server/nspi.h"
#include "server/http.h"
#include "server/users.h"

namespace openmapi::server {

class Frontend {
 public:
  // `base_url`: https://host:port of the first listener (or the configured public URL).
  Frontend(ServerConfig config, std::string base_url);
  HttpReply handle(const HttpRequest& req);

 private:
  struct Failures {
    uint32_t count = 0;
    std::chrono::steady_clock::time_point last;
  };
  // The authenticated user of `req`, or nullopt (and the reply says why).
  std::optional<User> authenticate(const HttpRequest& req, HttpReply& reply);
  // Authentication, then the endpoint of the request's path.
  HttpReply route(const HttpRequest& req);
  // The Basic credentials (name, password) of `req`, or nullopt for missing or malformed ones.
  static std::optional<std::pair<std::string, std::string>> credentials(const HttpRequest& req);
  std::string password_mac(const std::string& password) const;
  bool verified_recently(const std::string& name, const std::string& mac);
  std::chrono::milliseconds penalty(const std::string& user, const std::string& remote);
  void failed(const std::string& user, const std::string& remote);
  void succeeded(const std::string& user, const std::string& remote);
  HttpReply autodiscover(const HttpRequest& req, const User& user);

  ServerConfig config_;
  std::string base_url_;
  std::unique_ptr<Emsmdb> emsmdb_;
  std::unique_ptr<Nspi> nspi_;
  std::string deployment_id_;
  std::mutex mutex_;  // guards the maps below
  std::map<std::string, Failures> failures_;                                          // "u:<user>" and "a:<address>"
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> verified_;  // user -> (HMAC, until)
  std::string cache_key_;
  // Runs the requests whose password needs an Argon2id verification (declared last: it is
  // joined first, while everything its tasks use still exists).
  boost::asio::thread_pool verifiers_;
};

// The LegacyDN of a user (MS-OXDSCLI, MS-OXNSPI): /o=ORG/ou=Exchange Administrative Group
// (FYDIBOHF23SPDLT)/cn=Recipients/cn=<local part><-8 hex digits of the address>, stable for an
// address.
std::string user_legacy_dn(const std::string& organization, const std::string& address);

}  // namespace openmapi::server
