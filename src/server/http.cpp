#include "server/http.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <optional>

#include "core/error.h"
#include "server/tls.h"

namespace openmapi::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string ListenSpec::text() const {
  const bool v6 = address.find(':') != std::string::npos;
  return proto + "=" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

ListenSpec parse_listen(const std::string& s) {
  auto bad = [&](const std::string& why) -> ListenSpec {
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "--listen '" + s.substr(0, 100) + "': " + why + " (PROTO=ADDRESS:PORT, e.g. https=127.0.0.1:8443)");
  };
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return bad("no PROTO=");
  ListenSpec l;
  l.proto = s.substr(0, eq);
  if (l.proto != "https" && l.proto != "smtp" && l.proto != "submission" && l.proto != "submissions" && l.proto != "lmtp" &&
      l.proto != "pop3" && l.proto != "pop3s" && l.proto != "imap" && l.proto != "imaps")
    return bad("PROTO is https, smtp, submission, submissions, lmtp, imap, imaps, pop3 or pop3s");
  std::string rest = s.substr(eq + 1);
  size_t colon;
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return bad("an IPv6 address is [ADDRESS]:PORT");
    l.address = rest.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad("no ADDRESS:PORT");
    l.address = rest.substr(0, colon);
  }
  const std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    return bad("the port is not 0-65535");
  l.port = uint16_t(std::stoul(port));
  boost::system::error_code ec;
  asio::ip::make_address(l.address, ec);
  if (ec) return bad("'" + l.address + "' is not an IP address");
  return l;
}

void listen_on(tcp::acceptor& acceptor, ListenSpec& spec) {
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(spec.address), spec.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "cannot listen on " + spec.text() + ": " + ec.message());
  spec.port = acceptor.local_endpoint().port();
}

ServerConfig load_config(const std::string& path, ServerConfig c) {
  std::ifstream in(path);
  if (!in) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no configuration file " + path);
  std::string line;
  int n = 0;
  bool listen_given = false;
  auto trim = [](std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.size() > 4096) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, path + ":" + std::to_string(n) + ": the line is too long");
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    auto where = [&] { return path + ":" + std::to_string(n) + ": "; };
    if (eq == std::string::npos) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, where() + "expected key = value");
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    auto number = [&](uint64_t max) -> uint64_t {
      if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string::npos || std::stoull(value) > max)
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, where() + key + " wants a number up to " + std::to_string(max));
      return std::stoull(value);
    };
    if (key == "data_dir") c.data_dir = value;
    else if (key == "listen") {
      if (!listen_given) c.listen.clear();
      listen_given = true;
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(',', start);
        if (end == std::string::npos) end = value.size();
        std::string item = trim(value.substr(start, end - start));
        if (!item.empty()) c.listen.push_back(parse_listen(item));
        start = end + 1;
      }
    } else if (key == "certificate") c.certificate = value;
    else if (key == "private_key") c.private_key = value;
    else if (key == "host_name") c.host_name = value;
    else if (key == "public_url") c.public_url = value;
    else if (key == "organization") c.organization = value;
    else if (key == "max_request_body") c.max_request_body = number(uint64_t(1) << 32);
    else if (key == "io_timeout") c.io_timeout = std::chrono::seconds(number(86400));
    else if (key == "threads") c.threads = unsigned(std::max<uint64_t>(1, number(256)));
    else if (key == "log_file") c.log_file = value;
    else if (key == "log_level") {
      if (spdlog::level::from_str(value) == spdlog::level::off && value != "off")
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, where() + "log_level is one of trace, debug, info, warn, error, critical, off");
      c.log_level = value;
    } else if (key == "auth_failures_before_delay") c.auth_failures_before_delay = uint32_t(number(1000));
    else if (key == "smtp_max_message_size") c.smtp.max_message_size = std::max<uint64_t>(1024, number(uint64_t(1) << 32));
    else if (key == "smtp_max_recipients") c.smtp.max_recipients = uint32_t(std::max<uint64_t>(1, number(100000)));
    else if (key == "smtp_max_command_line") c.smtp.max_command_line = size_t(std::max<uint64_t>(512, number(1u << 20)));
    else if (key == "smtp_max_errors") c.smtp.max_errors = uint32_t(std::max<uint64_t>(1, number(1000)));
    else if (key == "smtp_max_connections_per_address") c.smtp_max_connections_per_address = uint32_t(std::max<uint64_t>(1, number(100000)));
    else if (key == "relay") {
      c.relay = value == "MX" ? "mx" : value == "NONE" ? "none" : value;
      try {
        c.smarthost();
      } catch (const MapiError& e) {
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, where() + e.what());
      }
    } else if (key == "relay_port") c.relay_port = uint16_t(std::max<uint64_t>(1, number(65535)));
    else if (key == "relay_user") c.relay_user = value;
    else if (key == "relay_password_file") {
      std::ifstream pf(value);
      if (!pf) throw_error(ErrorCode::MAPI_E_NOT_FOUND, where() + "cannot read the relay password file " + value);
      std::getline(pf, c.relay_password);
      while (!c.relay_password.empty() && (c.relay_password.back() == '\r' || c.relay_password.back() == '\n')) c.relay_password.pop_back();
    } else if (key == "relay_tls") {
      if (value == "none") c.relay_tls = RelayTls::None;
      else if (value == "opportunistic") c.relay_tls = RelayTls::Opportunistic;
      else if (value == "required") c.relay_tls = RelayTls::Required;
      else throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, where() + "relay_tls is one of none, opportunistic, required");
    } else if (key == "relay_tls_verify") {
      if (value == "yes" || value == "true") c.relay_tls_verify = true;
      else if (value == "no" || value == "false") c.relay_tls_verify = false;
      else throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, where() + "relay_tls_verify is yes or no");
    } else if (key == "relay_ca_file") c.relay_ca_file = value;
    else if (key == "relay_timeout") c.relay_timeout = std::chrono::seconds(std::max<uint64_t>(1, number(3600)));
    else if (key == "queue_lifetime") c.queue_lifetime = std::chrono::seconds(std::max<uint64_t>(1, number(100 * 86400)));
    else throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, where() + "unknown key '" + key.substr(0, 60) + "'");
  }
  return c;
}

std::optional<std::pair<std::string, uint16_t>> ServerConfig::smarthost() const {
  if (relay == "mx" || relay == "none") return std::nullopt;
  std::string host = relay;
  uint16_t port = relay_port;
  // HOST, HOST:PORT, [ADDRESS]:PORT or an IPv6 address in brackets.
  size_t colon = host.rfind(':');
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string::npos) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "relay: a '[' without its ']'");
    colon = close + 1 < host.size() && host[close + 1] == ':' ? close + 1 : std::string::npos;
    if (close + 1 < host.size() && colon == std::string::npos) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "relay: text after ']'");
  } else if (colon != std::string::npos && host.find(':') != colon) {
    colon = std::string::npos;  // a bare IPv6 address
  }
  if (colon != std::string::npos) {
    const std::string p = host.substr(colon + 1);
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos || std::stoul(p) == 0 || std::stoul(p) > 65535)
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "relay: '" + p.substr(0, 10) + "' is not a port");
    port = uint16_t(std::stoul(p));
    host.resize(colon);
  }
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > 253 || host.find_first_of(" \t/") != std::string::npos)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "relay is mx, none or HOST[:PORT], not '" + relay.substr(0, 60) + "'");
  return std::pair{host, port};
}

namespace {

// One connection: TLS handshake, then requests until the client or an error ends it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ssl::context& ctx, const ServerConfig& config, const Handler& handler)
      : stream_(std::move(socket), ctx), config_(config), handler_(handler), timer_(stream_.get_executor()) {
    boost::system::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    remote_ = ec ? "?" : ep.address().to_string();
  }

  void run() {
    beast::get_lowest_layer(stream_).expires_after(config_.io_timeout);
    stream_.async_handshake(ssl::stream_base::server, beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
  }

 private:
  struct RequestHead {
    unsigned version;
    bool keep_alive;
    std::string target;
    Clock::time_point start;
  };

  void on_handshake(beast::error_code ec) {
    if (ec) {
      spdlog::debug("{}: TLS handshake failed: {}", remote_, ec.message());
      return;
    }
    read();
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(config_.max_request_body);
    beast::get_lowest_layer(stream_).expires_after(config_.io_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == ssl::error::stream_truncated) return shutdown();
    if (ec) {
      const bool too_big = ec == http::error::body_limit;
      const bool head_too_big = ec == http::error::header_limit;
      // A parse error of Beast's HTTP parser is the client's fault: say so. Anything else (the
      // connection went, a timeout, TLS) ends the connection silently.
      const bool parse_error = ec.category() == http::make_error_code(http::error::bad_method).category();
      if (!parse_error) {
        spdlog::debug("{}: reading a request: {}", remote_, ec.message());
        return;  // the connection went, or stalled
      }
      http::response<http::string_body> res{too_big ? http::status::payload_too_large
                                            : head_too_big ? http::status::request_header_fields_too_large
                                                           : http::status::bad_request,
                                            11};
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = too_big ? "the request body is larger than the server accepts (" + std::to_string(config_.max_request_body) + " bytes)\n"
                   : head_too_big ? std::string("the request head is larger than 16 KiB\n")
                                  : "malformed request: " + ec.message() + "\n";
      res.keep_alive(false);
      res.prepare_payload();
      spdlog::info("{} - - {} {} 0ms", remote_, "-", res.result_int());
      return send(std::move(res), std::chrono::milliseconds(0), true);
    }
    const auto t0 = Clock::now();
    HttpRequest req{parser_->release(), remote_};
    HttpReply reply;
    try {
      reply = handler_(req);
    } catch (const std::exception& e) {
      spdlog::error("{}: handling {}: {}", remote_, std::string(req.msg.target()), e.what());
      reply.msg = http::response<http::string_body>{http::status::internal_server_error, req.msg.version()};
      reply.msg.set(http::field::content_type, "text/plain; charset=utf-8");
      reply.msg.body() = "internal error\n";
    }
    auto head = std::make_shared<RequestHead>(RequestHead{req.msg.version(), req.msg.keep_alive(), std::string(req.msg.target()).substr(0, 200), t0});
    dispatch(head, std::move(reply));
  }

  // Sends `reply`, or, for a deferred one, starts it: its completion comes back here on the
  // connection's executor (and may itself be deferred again: a long poll after a slow login).
  void dispatch(const std::shared_ptr<RequestHead>& head, HttpReply reply) {
    if (reply.deferred) {
      // The reply is sent when the handler completes it; the connection reads nothing meanwhile.
      beast::get_lowest_layer(stream_).expires_never();
      auto self = shared_from_this();
      auto executor = stream_.get_executor();
      auto start = std::move(reply.deferred);
      start(executor, [self, executor, head](HttpReply done) {
        asio::post(executor, [self, head, done = std::move(done)]() mutable { self->dispatch(head, std::move(done)); });
      });
      return;
    }
    finish(*head, std::move(reply));
  }

  void finish(const RequestHead& head, HttpReply reply) {
    reply.msg.version(head.version);
    const bool close = !head.keep_alive || !reply.msg.keep_alive();
    reply.msg.keep_alive(!close);
    reply.msg.set(http::field::server, "OpenMAPI");
    reply.msg.prepare_payload();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - head.start).count();
    spdlog::info("{} {} {} {} {}ms", remote_, reply.user.empty() ? "-" : reply.user,
                 reply.request_type.empty() ? head.target : reply.request_type, reply.msg.result_int(), ms);
    send(std::move(reply.msg), reply.delay, close);
  }

  void send(http::response<http::string_body> res, std::chrono::milliseconds delay, bool close) {
    auto self = shared_from_this();
    auto out = std::make_shared<http::response<http::string_body>>(std::move(res));
    auto write = [this, self, out, close] {
      beast::get_lowest_layer(stream_).expires_after(config_.io_timeout);
      http::async_write(stream_, *out, [this, self, out, close](beast::error_code ec, size_t) {
        if (ec) return;
        if (close) return shutdown();
        read();
      });
    };
    if (delay.count() <= 0) return write();
    timer_.expires_after(delay);
    timer_.async_wait([write](beast::error_code ec) {
      if (!ec) write();
    });
  }

  void shutdown() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  const ServerConfig& config_;
  const Handler& handler_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
};

}  // namespace

struct HttpServer::Listener : std::enable_shared_from_this<HttpServer::Listener> {
  Listener(asio::io_context& io, ssl::context& ctx, const ServerConfig& config, const Handler& handler, ListenSpec spec)
      : io(io), ctx(ctx), config(config), handler(handler), spec(std::move(spec)), acceptor(asio::make_strand(io)) {}

  void open() {
    listen_on(acceptor, spec);
  }
  void accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), self->ctx, self->config, self->handler)->run();
      }
      self->accept();
    });
  }

  asio::io_context& io;
  ssl::context& ctx;
  const ServerConfig& config;
  const Handler& handler;
  ListenSpec spec;
  tcp::acceptor acceptor;
};

HttpServer::HttpServer(const ServerConfig& config, const std::string& tls_certificate, const std::string& tls_key, Handler handler)
    : config_(config), handler_(std::move(handler)), io_(int(std::max(1u, config.threads))), ssl_(ssl::context::tls_server) {
  configure_server_tls(ssl_, tls_certificate, tls_key);
}

HttpServer::~HttpServer() = default;

void HttpServer::start() {
  for (const auto& spec : config_.listen) {
    if (spec.proto != "https") continue;
    auto l = std::make_shared<Listener>(io_, ssl_, config_, handler_, spec);
    l->open();
    listeners_.push_back(l);
  }
  for (auto& l : listeners_) l->accept();
}

std::vector<ListenSpec> HttpServer::bound() const {
  std::vector<ListenSpec> out;
  for (const auto& l : listeners_) out.push_back(l->spec);
  return out;
}

void HttpServer::run() {
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < std::max(1u, config_.threads); ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : threads) t.join();
}

void HttpServer::stop() {
  asio::post(io_, [this] {
    for (auto& l : listeners_) {
      boost::system::error_code ec;
      l->acceptor.close(ec);
    }
    io_.stop();
  });
}

}  // namespace openmapi::server
