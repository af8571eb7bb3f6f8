#include "server/smtp_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <memory>

#include "core/base64.h"
#include "core/unicode.h"

namespace openmapi::server {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kMaxReplyLine = 4096;
constexpr size_t kMaxReplyLines = 64;

bool has_8bit(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return true;
  return false;
}

// A failure before or outside a transaction: every recipient gets it.
struct SessionFailure {
  SmtpReply reply;
  bool next_host;
};

class Connection {
 public:
  Connection(const SmtpClientOptions& o) : options_(o), socket_(ioc_), ctx_(ssl::context::tls_client) {}

  void connect(const std::string& host, uint16_t port, std::string& peer) {
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    error_code ec = run([&](auto done) {
      resolver.async_resolve(host, std::to_string(port), [&, done](error_code e, tcp::resolver::results_type r) {
        endpoints = std::move(r);
        done(e);
      });
    });
    if (ec) throw SessionFailure{{451, "4.4.4 cannot find " + host + ": " + ec.message()}, true};
    tcp::endpoint connected;
    ec = run([&](auto done) {
      asio::async_connect(socket_, endpoints, [&, done](error_code e, const tcp::endpoint& ep) {
        connected = ep;
        done(e);
      });
    });
    if (ec) throw SessionFailure{{451, "4.4.1 cannot connect to " + host + ":" + std::to_string(port) + ": " + ec.message()}, true};
    peer = host + "[" + connected.address().to_string() + "]:" + std::to_string(port);
  }

  void start_tls(const std::string& host) {
    ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                     ssl::context::no_tlsv1_1);
    if (options_.verify) {
      error_code ec;
      if (options_.ca_file.empty()) ctx_.set_default_verify_paths(ec);
      else ctx_.load_verify_file(options_.ca_file, ec);
      if (ec) throw SessionFailure{{454, "4.7.5 cannot load the trusted certificates " + options_.ca_file + ": " + ec.message()}, false};
      ctx_.set_verify_mode(ssl::verify_peer);
    } else {
      ctx_.set_verify_mode(ssl::verify_none);
    }
    tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, ctx_);
    SSL* s = tls_->native_handle();
    error_code addr_ec;
    const auto address = asio::ip::make_address(host, addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(s, host.c_str());  // SNI names hosts, not addresses
    if (options_.verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(s);
      const int ok = addr_ec ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                             : X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str());
      if (ok != 1) throw SessionFailure{{454, "4.7.5 cannot check certificates for " + host}, false};
    }
    error_code ec = run([&](auto done) { tls_->async_handshake(ssl::stream_base::client, [done](error_code e) { done(e); }); });
    if (ec) {
      std::string why = ec.message();
      if (options_.verify && SSL_get_verify_result(s) != X509_V_OK)
        why = std::string("the certificate is not trusted: ") + X509_verify_cert_error_string(SSL_get_verify_result(s));
      tls_.reset();
      throw SessionFailure{{454, "4.7.5 TLS with " + host + " failed: " + why}, true};
    }
  }
  bool tls() const { return tls_ != nullptr; }

  // One reply; a broken connection or a malformed reply is a SessionFailure.
  SmtpReplyReader& read_reply() {
    reader_.clear();
    for (size_t lines = 0;; ++lines) {
      if (lines == kMaxReplyLines) fail("4.5.0 the server's reply has too many lines");
      std::string l = read_line();
      switch (reader_.line(l)) {
        case SmtpReplyReader::State::More: continue;
        case SmtpReplyReader::State::Done: return reader_;
        case SmtpReplyReader::State::Bad: fail("4.5.0 the server's reply is not SMTP: " + printable(l));
      }
    }
  }

  void write(std::string_view data) {
    error_code ec = run([&](auto done) {
      auto handler = [done](error_code e, size_t) { done(e); };
      if (tls_) asio::async_write(*tls_, asio::buffer(data.data(), data.size()), handler);
      else asio::async_write(socket_, asio::buffer(data.data(), data.size()), handler);
    });
    if (ec) fail("4.4.2 the connection broke while sending: " + ec.message());
  }

  SmtpReplyReader& command(const std::string& line) {
    write(line + "\r\n");
    return read_reply();
  }

  // Ends the session politely when the connection still works (errors ignored).
  void quit() {
    try {
      write("QUIT\r\n");
      read_reply();
    } catch (const SessionFailure&) {
    }
  }

  [[noreturn]] void fail(const std::string& text) { throw SessionFailure{{421, text}, false}; }

 private:
  // Runs one asynchronous operation to its end or the timeout (then the socket is closed and the
  // operation's error is timed_out).
  template <class Start>
  error_code run(Start start) {
    bool finished = false;
    error_code result;
    start([&](error_code e) {
      finished = true;
      result = e;
    });
    ioc_.restart();
    ioc_.run_for(options_.timeout);
    if (!finished) {
      error_code ignored;
      socket_.cancel(ignored);
      socket_.close(ignored);
      ioc_.restart();
      ioc_.run();
      return asio::error::timed_out;
    }
    return result;
  }

  std::string read_line() {
    for (;;) {
      if (size_t end = buffer_.find("\r\n"); end != std::string::npos) {
        if (end > kMaxReplyLine) fail("4.5.0 the server's reply line is too long");
        std::string l = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return l;
      }
      if (buffer_.size() > kMaxReplyLine) fail("4.5.0 the server's reply line is too long");
      char chunk[4096];
      size_t got = 0;
      error_code ec = run([&](auto done) {
        auto handler = [&, done](error_code e, size_t n) {
          got = n;
          done(e);
        };
        if (tls_) tls_->async_read_some(asio::buffer(chunk), handler);
        else socket_.async_read_some(asio::buffer(chunk), handler);
      });
      if (ec) fail(ec == asio::error::timed_out ? "4.4.2 the server did not answer in time" : "4.4.2 the connection broke: " + ec.message());
      buffer_.append(chunk, got);
    }
  }

  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
    return out;
  }

  const SmtpClientOptions& options_;
  asio::io_context ioc_;
  tcp::socket socket_;
  ssl::context ctx_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  std::string buffer_;
  SmtpReplyReader reader_;
};

std::optional<uint64_t> size_limit(const std::vector<std::string>& keywords) {
  for (const std::string& k : keywords)
    if (k.rfind("SIZE", 0) == 0) {
      if (k.size() > 5 && k[4] == ' ' && k.find_first_not_of("0123456789", 5) == std::string::npos && k.size() - 5 <= 19) {
        const uint64_t n = std::stoull(k.substr(5));
        if (n > 0) return n;  // SIZE 0: no fixed limit
      }
      return std::nullopt;
    }
  return std::nullopt;
}

bool offers(const std::vector<std::string>& keywords, std::string_view name) {
  for (const std::string& k : keywords)
    if (k == name || (k.size() > name.size() && k.compare(0, name.size(), name) == 0 && k[name.size()] == ' ')) return true;
  return false;
}

bool offers_auth(const std::vector<std::string>& keywords, std::string_view mechanism) {
  for (const std::string& k : keywords) {
    if (k.rfind("AUTH ", 0) != 0 && k.rfind("AUTH=", 0) != 0) continue;
    size_t pos = 5;
    while (pos < k.size()) {
      size_t end = k.find(' ', pos);
      if (end == std::string::npos) end = k.size();
      if (k.compare(pos, end - pos, mechanism) == 0) return true;
      pos = end + 1;
    }
  }
  return false;
}

std::string reply_text(const SmtpReply& r) {
  std::string t = r.text;
  for (char& c : t)
    if (c == '\n') c = ' ';
  return t;
}

// The message as DATA sends it: CRLF line ends, leading dots doubled, the final CRLF.CRLF.
std::string data_form(std::string_view m) {
  std::string out;
  out.reserve(m.size() + m.size() / 50 + 8);
  bool line_start = true;
  for (size_t i = 0; i < m.size(); ++i) {
    const char c = m[i];
    if (line_start && c == '.') out += '.';
    if (c == '\n' && (i == 0 || m[i - 1] != '\r')) out += '\r';
    out += c;
    line_start = c == '\n';
  }
  if (!out.empty() && !line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace

SmtpReplyReader::State SmtpReplyReader::line(std::string_view l) {
  if (l.size() < 3 || !std::isdigit(static_cast<unsigned char>(l[0])) || l[0] < '2' || l[0] > '5' ||
      !std::isdigit(static_cast<unsigned char>(l[1])) || !std::isdigit(static_cast<unsigned char>(l[2])) ||
      (l.size() > 3 && l[3] != ' ' && l[3] != '-'))
    return State::Bad;
  const int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
  if (!lines_.empty() && code != reply_.code) return State::Bad;
  reply_.code = code;
  const std::string text(l.size() > 4 ? l.substr(4) : std::string_view());
  if (!reply_.text.empty() || !lines_.empty()) reply_.text += '\n';
  reply_.text += text;
  lines_.push_back(text);
  return l.size() > 3 && l[3] == '-' ? State::More : State::Done;
}

std::vector<std::string> SmtpReplyReader::keywords() const {
  std::vector<std::string> out;
  for (size_t i = 1; i < lines_.size(); ++i) {
    std::string k = lines_[i];
    for (char& c : k) c = char(std::toupper(static_cast<unsigned char>(c)));
    out.push_back(std::move(k));
  }
  return out;
}

void SmtpReplyReader::clear() {
  reply_ = {};
  lines_.clear();
}

SmtpSendResult smtp_send(const std::string& host, uint16_t port, const SmtpClientOptions& options, const std::string& from,
                         const std::vector<std::string>& recipients, std::string_view message) {
  SmtpSendResult result;
  result.replies.assign(recipients.size(), SmtpReply{451, "4.4.2 not attempted"});
  auto everyone = [&](const SmtpReply& r) {
    for (SmtpReply& each : result.replies) each = r;
  };
  Connection c(options);
  bool in_transaction = false;
  try {
    c.connect(host, port, result.peer);
    const SmtpReply greeting = c.read_reply().reply();
    if (greeting.code != 220) throw SessionFailure{{greeting.code >= 500 ? 554 : 421, "the server refuses sessions: " + reply_text(greeting)}, true};
    auto hello = [&] {
      SmtpReplyReader& r = c.command("EHLO " + options.helo);
      if (r.reply().code == 250) return r.keywords();
      if (r.reply().code >= 500 && c.command("HELO " + options.helo).reply().code == 250) return std::vector<std::string>{};
      throw SessionFailure{{421, "4.5.0 the server refuses our EHLO: " + reply_text(r.reply())}, true};
    };
    std::vector<std::string> keywords = hello();
    if (options.tls != RelayTls::None && offers(keywords, "STARTTLS")) {
      const SmtpReply r = c.command("STARTTLS").reply();
      if (r.code == 220) {
        c.start_tls(host);
        keywords = hello();
      } else if (options.tls == RelayTls::Required) {
        throw SessionFailure{{454, "4.7.4 the server refuses STARTTLS: " + reply_text(r)}, true};
      }
    } else if (options.tls == RelayTls::Required) {
      throw SessionFailure{{454, "4.7.4 TLS is required, but " + host + " does not offer STARTTLS"}, true};
    }
    result.tls = c.tls();
    if (!options.user.empty()) {
      if (!c.tls()) throw SessionFailure{{454, "4.7.0 the password is only sent over TLS, and " + host + " gave none"}, true};
      SmtpReply r;
      if (offers_auth(keywords, "PLAIN")) {
        const std::string token = std::string(1, '\0') + options.user + '\0' + options.password;
        r = c.command("AUTH PLAIN " + base64_encode(ByteView(reinterpret_cast<const uint8_t*>(token.data()), token.size()))).reply();
      } else if (offers_auth(keywords, "LOGIN")) {
        r = c.command("AUTH LOGIN").reply();
        if (r.code == 334)
          r = c.command(base64_encode(ByteView(reinterpret_cast<const uint8_t*>(options.user.data()), options.user.size()))).reply();
        if (r.code == 334)
          r = c.command(base64_encode(ByteView(reinterpret_cast<const uint8_t*>(options.password.data()), options.password.size()))).reply();
      } else {
        throw SessionFailure{{454, "4.7.0 " + host + " offers neither AUTH PLAIN nor LOGIN"}, false};
      }
      // A refused password is a configuration to fix, not a reason to return mail: temporary.
      if (r.code != 235) throw SessionFailure{{454, "4.7.0 " + host + " did not accept our credentials: " + reply_text(r)}, false};
    }

    // What this server can take.
    if (auto limit = size_limit(keywords); limit && message.size() > *limit)
      throw SessionFailure{{552, "5.3.4 the message (" + std::to_string(message.size()) + " bytes) is over " + host + "'s limit of " +
                                     std::to_string(*limit)}, false};
    const bool eight_bit = has_8bit(message);
    if (eight_bit && !offers(keywords, "8BITMIME"))
      throw SessionFailure{{554, "5.6.3 the message has 8-bit content and " + host + " does not take 8BITMIME"}, false};
    bool utf8 = has_8bit(from);
    for (const std::string& r : recipients) utf8 = utf8 || has_8bit(r);
    if (utf8 && !offers(keywords, "SMTPUTF8"))
      throw SessionFailure{{553, "5.6.7 the addresses are UTF-8 and " + host + " does not take SMTPUTF8"}, false};

    std::string mail = "MAIL FROM:<" + from + ">";
    if (size_limit(keywords) || offers(keywords, "SIZE")) mail += " SIZE=" + std::to_string(message.size());
    if (eight_bit) mail += " BODY=8BITMIME";
    if (utf8) mail += " SMTPUTF8";
    in_transaction = true;
    const SmtpReply m = c.command(mail).reply();
    if (m.code != 250) {
      everyone(SmtpReply{m.code >= 500 ? m.code : 451, reply_text(m)});
      c.quit();
      return result;
    }
    std::vector<size_t> accepted;
    for (size_t i = 0; i < recipients.size(); ++i) {
      const SmtpReply r = c.command("RCPT TO:<" + recipients[i] + ">").reply();
      result.replies[i] = SmtpReply{r.code, reply_text(r)};
      if (r.code == 250 || r.code == 251) accepted.push_back(i);
      else if (r.code < 400) result.replies[i] = SmtpReply{451, "4.5.0 an unexpected answer to RCPT: " + reply_text(r)};
    }
    if (accepted.empty()) {
      c.quit();
      return result;
    }
    const SmtpReply d = c.command("DATA").reply();
    if (d.code != 354) {
      for (size_t i : accepted) result.replies[i] = SmtpReply{d.code >= 500 ? d.code : 451, reply_text(d)};
      c.quit();
      return result;
    }
    c.write(data_form(message));
    const SmtpReply done = c.read_reply().reply();
    for (size_t i : accepted)
      result.replies[i] = done.code == 250 ? SmtpReply{250, reply_text(done)} : SmtpReply{done.code >= 500 ? done.code : 451, reply_text(done)};
    c.quit();
  } catch (const SessionFailure& f) {
    // Only a session that handed nothing over may go to another host. Inside a transaction a
    // recipient the server refused for good keeps that answer; the others did not get the
    // message (a 421 there is any other temporary failure).
    result.next_host = f.next_host && !in_transaction;
    for (SmtpReply& r : result.replies)
      if (!(in_transaction && r.code >= 500)) r = in_transaction && f.reply.code < 500 ? SmtpReply{451, f.reply.text} : f.reply;
  }
  return result;
}

}  // namespace openmapi::server
