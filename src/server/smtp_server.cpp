#include "server/smtp_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <spdlog/spdlog.h>

#include <array>

#include "core/error.h"
#include "server/tls.h"
#include "server/users.h"

namespace openmapi::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

struct SmtpServer::Shared {
  Shared(const ServerConfig& c, const std::string& cert, const std::string& key)
      : config(c), tls(ssl::context::tls_server), delivery(c.data_dir, c.host_name), workers(2) {
    configure_server_tls(tls, cert, key);
  }
  const ServerConfig& config;
  ssl::context tls;
  LocalDelivery delivery;
  asio::thread_pool workers;  // Argon2id checks and deliveries
  std::mutex mutex;
  std::map<std::string, uint32_t> connections;  // per client address

  bool admit(const std::string& address) {
    std::lock_guard lock(mutex);
    uint32_t& n = connections[address];
    if (n >= config.smtp_max_connections_per_address) return false;
    ++n;
    return true;
  }
  void leave(const std::string& address) {
    std::lock_guard lock(mutex);
    auto it = connections.find(address);
    if (it != connections.end() && --it->second == 0) connections.erase(it);
  }
};

namespace {

SmtpMode mode_of(const std::string& proto) {
  return proto == "lmtp" ? SmtpMode::Lmtp : proto == "smtp" ? SmtpMode::Smtp : SmtpMode::Submission;
}

// The user directory of a worker thread.
UserDirectory& worker_users(const std::string& data_dir) {
  thread_local std::string dir;
  thread_local std::unique_ptr<UserDirectory> users;
  if (!users || dir != data_dir) {
    users = std::make_unique<UserDirectory>(data_dir);
    dir = data_dir;
  }
  return *users;
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<SmtpServer::Shared> shared, std::string proto, bool admitted, std::string remote)
      : stream_(std::move(socket)), shared_(std::move(shared)), proto_(std::move(proto)), admitted_(admitted),
        remote_(std::move(remote)), timer_(stream_.get_executor()),
        engine_(mode_of(proto_), shared_->config.smtp, shared_->config.host_name, recipient_check(), true, proto_ == "submissions",
                remote_) {}
  ~Connection() {
    if (admitted_) shared_->leave(remote_);
  }

  void run() {
    if (!admitted_) {
      spdlog::warn("{} {}: refused: {} connections from this address already", proto_, remote_,
                   shared_->config.smtp_max_connections_per_address);
      return write("421 4.7.0 " + shared_->config.host_name + " too many connections from your address\r\n", true);
    }
    if (proto_ == "submissions") return handshake([self = shared_from_this()] { self->write(self->engine_.greeting(), false); });
    write(engine_.greeting(), false);
  }

 private:
  SmtpEngine::RecipientCheck recipient_check() {
    const bool submission = proto_ == "submission" || proto_ == "submissions";
    auto shared = shared_;
    return [shared, submission](const std::string& address, const SmtpEnvelope&) -> std::optional<SmtpReply> {
      auto refused = shared->delivery.check_recipient(address);
      if (refused && submission && refused->code == 550)
        return SmtpReply{550, "5.7.1 <" + address + ">: not a local user, and this server relays to no other (the spooler is to come)"};
      return refused;
    };
  }

  template <typename Then>
  void handshake(Then then) {
    tls_ = std::make_unique<ssl::stream<beast::tcp_stream&>>(stream_, shared_->tls);
    stream_.expires_after(shared_->config.io_timeout);
    tls_->async_handshake(ssl::stream_base::server, [self = shared_from_this(), then](boost::system::error_code ec) {
      if (ec) {
        spdlog::debug("{} {}: TLS handshake failed: {}", self->proto_, self->remote_, ec.message());
        return self->close();
      }
      then();
    });
  }

  void read() {
    stream_.expires_after(shared_->config.io_timeout);
    auto on_read = [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) {
        if (ec == beast::error::timeout) self->write("421 4.4.2 " + self->shared_->config.host_name + " timeout, closing the connection\r\n", true);
        else self->close();
        return;
      }
      self->engine_.feed(self->buf_.data(), n);
      self->process();
    };
    if (tls_) tls_->async_read_some(asio::buffer(buf_), on_read);
    else stream_.async_read_some(asio::buffer(buf_), on_read);
  }

  // Writes `out`, then reads on (or closes).
  void write(std::string out, bool close_after) {
    if (out.empty()) return close_after ? close() : read();
    auto data = std::make_shared<std::string>(std::move(out));
    stream_.expires_after(shared_->config.io_timeout);
    auto done = [self = shared_from_this(), data, close_after](boost::system::error_code ec, size_t) {
      if (ec || close_after) return self->close();
      self->read();
    };
    if (tls_) asio::async_write(*tls_, asio::buffer(*data), done);
    else asio::async_write(stream_, asio::buffer(*data), done);
  }

  // Sends `out` and then calls `then` (no read in between).
  template <typename Then>
  void write_then(std::string out, Then then) {
    if (out.empty()) return then();
    auto data = std::make_shared<std::string>(std::move(out));
    stream_.expires_after(shared_->config.io_timeout);
    auto done = [self = shared_from_this(), data, then](boost::system::error_code ec, size_t) {
      if (ec) return self->close();
      then();
    };
    if (tls_) asio::async_write(*tls_, asio::buffer(*data), done);
    else asio::async_write(stream_, asio::buffer(*data), done);
  }

  void process() {
    std::string out;
    const SmtpEngine::Need need = engine_.step(out);
    auto self = shared_from_this();
    switch (need) {
      case SmtpEngine::Need::Input: return write(std::move(out), false);
      case SmtpEngine::Need::Close: return write(std::move(out), true);
      case SmtpEngine::Need::StartTls:
        return write_then(std::move(out), [self] {
          self->handshake([self] {
            self->engine_.tls_started();
            self->read();
          });
        });
      case SmtpEngine::Need::Authenticate:
        return write_then(std::move(out), [self] { self->authenticate(); });
      case SmtpEngine::Need::Deliver:
        return write_then(std::move(out), [self] { self->deliver(); });
    }
  }

  void authenticate() {
    auto self = shared_from_this();
    const SmtpEngine::Credentials c = engine_.credentials();
    asio::post(shared_->workers, [self, c] {
      std::optional<std::string> user;
      try {
        // RFC 4616: an authorization identity other than the user's own is not granted.
        if (c.authzid.empty() || c.authzid == c.user)
          if (auto u = worker_users(self->shared_->config.data_dir).authenticate(c.user, c.password)) user = u->address;
      } catch (const std::exception& e) {
        spdlog::error("{} {}: checking a password: {}", self->proto_, self->remote_, e.what());
      }
      asio::post(self->stream_.get_executor(), [self, user, name = c.user] {
        if (user) spdlog::info("{} {}: authenticated as {}", self->proto_, self->remote_, *user);
        else spdlog::warn("{} {}: authentication failed for '{}'", self->proto_, self->remote_, name.substr(0, 100));
        auto answer = [self, user] {
          std::string out;
          self->engine_.auth_done(user, out);
          self->write_then(std::move(out), [self] { self->process(); });
        };
        if (user) return answer();
        self->timer_.expires_after(std::chrono::seconds(1));
        self->timer_.async_wait([answer](boost::system::error_code) { answer(); });
      });
    });
  }

  void deliver() {
    auto self = shared_from_this();
    asio::post(shared_->workers, [self] {
      std::vector<SmtpReply> replies;
      try {
        replies = self->shared_->delivery.deliver(self->engine_.envelope(), self->engine_.message(), self->engine_.mode());
      } catch (const std::exception& e) {
        spdlog::error("{} {}: delivery: {}", self->proto_, self->remote_, e.what());
      }
      asio::post(self->stream_.get_executor(), [self, replies = std::move(replies)] {
        std::string out;
        self->engine_.delivered(replies, out);
        self->write_then(std::move(out), [self] { self->process(); });
      });
    });
  }

  void close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::unique_ptr<ssl::stream<beast::tcp_stream&>> tls_;
  std::shared_ptr<SmtpServer::Shared> shared_;
  std::string proto_;
  bool admitted_;
  std::string remote_;
  asio::steady_timer timer_;
  SmtpEngine engine_;
  std::array<char, 64 * 1024> buf_{};
};

}  // namespace

struct SmtpServer::Listener : std::enable_shared_from_this<SmtpServer::Listener> {
  Listener(asio::io_context& io, std::shared_ptr<Shared> shared, ListenSpec spec)
      : io(io), shared(std::move(shared)), spec(std::move(spec)), acceptor(asio::make_strand(io)) {}

  void open() {
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(spec.address), spec.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "cannot listen on " + spec.text() + ": " + ec.message());
    spec.port = acceptor.local_endpoint().port();
  }
  void accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        auto ep = socket.remote_endpoint(ec);
        const std::string remote = ec ? "?" : ep.address().to_string();
        const bool admitted = self->shared->admit(remote);
        std::make_shared<Connection>(std::move(socket), self->shared, self->spec.proto, admitted, remote)->run();
      }
      self->accept();
    });
  }

  asio::io_context& io;
  std::shared_ptr<Shared> shared;
  ListenSpec spec;
  tcp::acceptor acceptor;
};

SmtpServer::SmtpServer(asio::io_context& io, const ServerConfig& config, const std::string& tls_certificate, const std::string& tls_key)
    : io_(io), shared_(std::make_shared<Shared>(config, tls_certificate, tls_key)) {}

SmtpServer::~SmtpServer() {
  for (auto& l : listeners_) {
    boost::system::error_code ec;
    l->acceptor.close(ec);
  }
  shared_->workers.join();
}

void SmtpServer::start() {
  for (const auto& spec : shared_->config.listen) {
    if (spec.proto == "https") continue;
    auto l = std::make_shared<Listener>(io_, shared_, spec);
    l->open();
    listeners_.push_back(l);
  }
  for (auto& l : listeners_) l->accept();
}

std::vector<ListenSpec> SmtpServer::bound() const {
  std::vector<ListenSpec> out;
  for (const auto& l : listeners_) out.push_back(l->spec);
  return out;
}

void SmtpServer::stop() {
  auto listeners = listeners_;
  asio::post(io_, [listeners] {
    for (auto& l : listeners) {
      boost::system::error_code ec;
      l->acceptor.close(ec);
    }
  });
}

}  // namespace openmapi::server
