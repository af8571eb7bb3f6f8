// The listeners of the line protocols of `openmapi serve` (SMTP, submission, LMTP, POP3, IMAP): Asio
// sockets, STARTTLS (or implicit TLS) with the server's certificate, and a LineProtocol per
// connection that turns bytes into replies. Anything slow a protocol must do (an Argon2id check,
// a delivery, a mailbox read) it hands back as work, which runs on two worker threads so that no
// io thread waits for it; the connection reads nothing meanwhile.
//
// Every read and write has ServerConfig::io_timeout; one client address may hold
// ServerConfig::smtp_max_connections_per_address connections at once over all these listeners
// (then the protocol's refusal is sent and the connection closed).
// Thread safety: add(), start() and bound() from the controlling thread before the io context
// runs; stop() from any thread (it posts onto the io context). A LineProtocol is used by one
// thread at a time (its connection's strand, or the worker running its work).
#pragma once
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/http.h"

namespace openmapi::server {

class LineProtocol {
 public:
  virtual ~LineProtocol() = default;
  virtual std::string greeting() = 0;
  // What to send instead of the greeting when the address has too many connections.
  virtual std::string too_many_connections() = 0;
  virtual void feed(const char* data, size_t n) = 0;

  // The answer of a piece of work: applied on the connection (it appends replies), after `delay`.
  struct Answer {
    std::function<void(std::string& out)> apply;
    std::chrono::milliseconds delay{0};
  };
  struct Step {
    // Idle: read as for Input, and meanwhile run `work` each time the protocol's waker is called
    // (IMAP's IDLE): its answer is sent while the read goes on. The protocol is not fed until
    // that work is done, so it is still used by one thread at a time.
    enum Kind { Input, StartTls, Work, Close, Idle } kind = Input;
    std::function<Answer()> work;  // Work: run on a worker thread; Idle: run when woken
    std::chrono::seconds read_timeout{0};  // Input and Idle: how long the client may be silent (0: the io timeout)
  };
  // Processes what was fed: appends replies to `out` and says what comes next (after the
  // output is sent: read more, the TLS handshake, the work, or the end).
  virtual Step step(std::string& out) = 0;
  // The handshake after Step::StartTls succeeded.
  virtual void tls_started() = 0;
  // Gives the protocol the function that wakes its connection in Step::Idle (callable from any
  // thread, also after the connection is gone; a wake outside Idle is remembered until the next).
  virtual void set_waker(std::function<void()> waker) {}
};

// Makes the protocol of a new connection: the client's address, and whether the connection is
// TLS from its first byte.
using ProtocolFactory = std::function<std::unique_ptr<LineProtocol>(const std::string& remote, bool tls)>;

class LineServer {
 public:
  LineServer(boost::asio::io_context& io, const ServerConfig& config, const std::string& tls_certificate, const std::string& tls_key);
  ~LineServer();
  LineServer(const LineServer&) = delete;
  LineServer& operator=(const LineServer&) = delete;

  // Serves `proto` (a ListenSpec proto of the config) with `factory`; `implicit_tls`: the TLS
  // handshake comes first (ports 465, 995).
  void add(const std::string& proto, bool implicit_tls, ProtocolFactory factory);
  // Binds every listen entry of the config whose proto was added (port 0: a free one).
  // MAPI_E_NETWORK_ERROR naming the address when one cannot be bound.
  void start();
  std::vector<ListenSpec> bound() const;
  void stop();

  struct Shared;

 private:
  struct Listener;
  struct Door {
    bool implicit_tls;
    ProtocolFactory factory;
  };
  boost::asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  std::map<std::string, Door> doors_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace openmapi::server
