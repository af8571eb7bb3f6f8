#include "server/line_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <mutex>

#include "core/error.h"
#include "server/tls.h"

namespace openmapi::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

struct LineServer::Shared {
  Shared(const ServerConfig& c, const std::string& cert, const std::string& key) : config(c), tls(ssl::context::tls_server), workers(2) {
    configure_server_tls(tls, cert, key);
  }
  const ServerConfig& config;
  ssl::context tls;
  asio::thread_pool workers;
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

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<LineServer::Shared> shared, std::string proto, bool implicit_tls, bool admitted,
             std::string remote, std::unique_ptr<LineProtocol> protocol)
      : stream_(std::move(socket)), shared_(std::move(shared)), proto_(std::move(proto)), implicit_tls_(implicit_tls),
        admitted_(admitted), remote_(std::move(remote)), timer_(stream_.get_executor()), protocol_(std::move(protocol)) {}
  ~Connection() {
    if (admitted_) shared_->leave(remote_);
  }

  void run() {
    std::weak_ptr<Connection> weak = shared_from_this();
    auto executor = stream_.get_executor();
    protocol_->set_waker([weak, executor] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock()) self->wake();
      });
    });
    if (!admitted_) {
      spdlog::warn("{} {}: refused: {} connections from this address already", proto_, remote_,
                   shared_->config.smtp_max_connections_per_address);
      if (implicit_tls_) return handshake([self = shared_from_this()] { self->write(self->protocol_->too_many_connections(), true); });
      return write(protocol_->too_many_connections(), true);
    }
    if (implicit_tls_) return handshake([self = shared_from_this()] { self->write(self->protocol_->greeting(), false); });
    write(protocol_->greeting(), false);
  }

 private:
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

  std::chrono::seconds read_timeout() const {
    return read_timeout_.count() > 0 ? read_timeout_ : std::chrono::duration_cast<std::chrono::seconds>(shared_->config.io_timeout);
  }

  void read() {
    stream_.expires_after(read_timeout());
    auto on_read = [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      self->idle_ = false;
      if (ec) {
        if (ec == beast::error::timeout) {
          // The stream is closed by the timeout: nothing more can be sent on it.
          spdlog::debug("{} {}: timed out", self->proto_, self->remote_);
        }
        return self->close();
      }
      self->protocol_->feed(self->buf_.data(), n);
      if (self->polling_) {
        self->input_waiting_ = true;  // the wake's work is running: go on once it is done
        return;
      }
      self->process();
    };
    if (tls_) tls_->async_read_some(asio::buffer(buf_), on_read);
    else stream_.async_read_some(asio::buffer(buf_), on_read);
  }

  // Sends `out`, then calls `then` (nothing is read in between).
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
  void write(std::string out, bool close_after) {
    auto self = shared_from_this();
    write_then(std::move(out), [self, close_after] { close_after ? self->close() : self->read(); });
  }

  // Step::Idle: the protocol's waker was called. Runs the idle work unless one runs already
  // (then once more after it), and sends its answer while the read waits.
  void wake() {
    if (!idle_ || polling_) {
      woken_ = true;
      return;
    }
    woken_ = false;
    polling_ = true;
    on_worker(idle_work_, [self = shared_from_this()](const LineProtocol::Answer& answer) {
      std::string out;
      if (answer.apply) answer.apply(out);
      auto done = [self] {
        self->polling_ = false;
        if (self->input_waiting_) {
          self->input_waiting_ = false;
          return self->process();
        }
        self->stream_.expires_after(self->read_timeout());
        if (self->woken_) self->wake();
      };
      if (out.empty()) return done();
      auto data = std::make_shared<std::string>(std::move(out));
      auto written = [self, data, done](boost::system::error_code ec, size_t) {
        if (ec) {
          self->polling_ = false;
          return self->close();
        }
        done();
      };
      if (self->tls_) asio::async_write(*self->tls_, asio::buffer(*data), written);
      else asio::async_write(self->stream_, asio::buffer(*data), written);
    });
  }

  void process() {
    std::string out;
    LineProtocol::Step step = protocol_->step(out);
    auto self = shared_from_this();
    read_timeout_ = step.read_timeout;
    switch (step.kind) {
      case LineProtocol::Step::Input: return write(std::move(out), false);
      case LineProtocol::Step::Idle:
        return write_then(std::move(out), [self, work = std::move(step.work)] {
          self->idle_work_ = work;
          self->idle_ = true;
          self->read();
          if (self->woken_) self->wake();
        });
      case LineProtocol::Step::Close: return write(std::move(out), true);
      case LineProtocol::Step::StartTls:
        return write_then(std::move(out), [self] {
          self->handshake([self] {
            self->protocol_->tls_started();
            self->process();
          });
        });
      case LineProtocol::Step::Work:
        return write_then(std::move(out), [self, work = std::move(step.work)] { self->run_work(work); });
    }
  }

  // Runs `work` on a worker thread, then `then(answer)` on the connection's strand.
  template <typename Then>
  void on_worker(const std::function<LineProtocol::Answer()>& work, Then then) {
    auto self = shared_from_this();
    asio::post(shared_->workers, [self, work, then] {
      LineProtocol::Answer answer;
      try {
        answer = work();
      } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", self->proto_, self->remote_, e.what());
      }
      asio::post(self->stream_.get_executor(), [then, answer = std::move(answer)] { then(answer); });
    });
  }

  void run_work(const std::function<LineProtocol::Answer()>& work) {
    on_worker(work, [self = shared_from_this()](const LineProtocol::Answer& answer) {
      auto apply = [self, answer] {
        std::string out;
        if (answer.apply) answer.apply(out);
        self->write_then(std::move(out), [self] { self->process(); });
      };
      if (answer.delay.count() <= 0) return apply();
      self->timer_.expires_after(answer.delay);
      self->timer_.async_wait([apply](boost::system::error_code) { apply(); });
    });
  }

  void close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::unique_ptr<ssl::stream<beast::tcp_stream&>> tls_;
  std::shared_ptr<LineServer::Shared> shared_;
  std::string proto_;
  bool implicit_tls_;
  bool admitted_;
  std::string remote_;
  asio::steady_timer timer_;
  std::unique_ptr<LineProtocol> protocol_;
  std::array<char, 64 * 1024> buf_{};
  std::chrono::seconds read_timeout_{0};
  // Step::Idle: a read waits; `polling_` while the idle work runs (input then waits for it).
  bool idle_ = false, polling_ = false, woken_ = false, input_waiting_ = false;
  std::function<LineProtocol::Answer()> idle_work_;
};

}  // namespace

struct LineServer::Listener : std::enable_shared_from_this<LineServer::Listener> {
  Listener(asio::io_context& io, std::shared_ptr<Shared> shared, ListenSpec spec, Door door)
      : io(io), shared(std::move(shared)), spec(std::move(spec)), door(std::move(door)), acceptor(asio::make_strand(io)) {}

  void open() {
    listen_on(acceptor, spec);
  }
  void accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        auto ep = socket.remote_endpoint(ec);
        const std::string remote = ec ? "?" : ep.address().to_string();
        const bool admitted = self->shared->admit(remote);
        try {
          auto protocol = self->door.factory(remote, self->door.implicit_tls);
          std::make_shared<Connection>(std::move(socket), self->shared, self->spec.proto, self->door.implicit_tls, admitted, remote,
                                       std::move(protocol))
              ->run();
        } catch (const std::exception& e) {
          if (admitted) self->shared->leave(remote);
          spdlog::error("{} {}: {}", self->spec.proto, remote, e.what());
        }
      }
      self->accept();
    });
  }

  asio::io_context& io;
  std::shared_ptr<Shared> shared;
  ListenSpec spec;
  Door door;
  tcp::acceptor acceptor;
};

LineServer::LineServer(asio::io_context& io, const ServerConfig& config, const std::string& tls_certificate, const std::string& tls_key)
    : io_(io), shared_(std::make_shared<Shared>(config, tls_certificate, tls_key)) {}

LineServer::~LineServer() {
  for (auto& l : listeners_) {
    boost::system::error_code ec;
    l->acceptor.close(ec);
  }
  shared_->workers.join();
}

void LineServer::add(const std::string& proto, bool implicit_tls, ProtocolFactory factory) {
  doors_[proto] = Door{implicit_tls, std::move(factory)};
}

void LineServer::start() {
  for (const auto& spec : shared_->config.listen) {
    auto door = doors_.find(spec.proto);
    if (door == doors_.end()) continue;
    auto l = std::make_shared<Listener>(io_, shared_, spec, door->second);
    l->open();
    listeners_.push_back(l);
  }
  for (auto& l : listeners_) l->accept();
}

std::vector<ListenSpec> LineServer::bound() const {
  std::vector<ListenSpec> out;
  for (const auto& l : listeners_) out.push_back(l->spec);
  return out;
}

void LineServer::stop() {
  auto listeners = listeners_;
  asio::post(io_, [listeners] {
    for (auto& l : listeners) {
      boost::system::error_code ec;
      l->acceptor.close(ec);
    }
  });
}

}  // namespace openmapi::server
