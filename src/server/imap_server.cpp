#include "server/imap_server.h"

#include <spdlog/spdlog.h>

#include "server/imap.h"
#include "server/imap_session.h"

namespace openmapi::server {

namespace {

constexpr std::chrono::seconds kAuthenticatedTimeout{30 * 60};

class ImapProtocol final : public LineProtocol {
 public:
  ImapProtocol(const ServerConfig& config, std::string remote, bool tls)
      : session_(config, std::move(remote), tls), reader_(limits(config)) {}

  std::string greeting() override { return session_.greeting(); }
  std::string too_many_connections() override { return "* BYE [UNAVAILABLE] too many connections from your address\r\n"; }
  void feed(const char* data, size_t n) override { reader_.feed(data, n); }
  void tls_started() override { session_.tls_started(); }
  void set_waker(std::function<void()> waker) override { session_.set_waker(std::move(waker)); }

  Step step(std::string& out) override {
    const std::chrono::seconds timeout = session_.authenticated() ? kAuthenticatedTimeout : std::chrono::seconds(0);
    switch (mode_) {
      case ImapSession::Result::Close: return {Step::Close, {}};
      case ImapSession::Result::StartTls:
        mode_ = ImapSession::Result::Continue;
        reader_.clear();  // RFC 9051 6.2.1: nothing sent before the handshake counts
        return {Step::StartTls, {}};
      case ImapSession::Result::More:
        return {Step::Work, [this] {
                  std::string o;
                  const ImapSession::Result r = session_.resume(o);
                  return answer(std::move(o), r);
                }};
      case ImapSession::Result::AuthContinue:
      case ImapSession::Result::Idle: {
        bool too_long = false;
        std::optional<std::string> line = reader_.line(too_long);
        if (too_long) {
          out += "* BYE [TOOBIG] line too long\r\n";
          return {Step::Close, {}};
        }
        const bool idle = mode_ == ImapSession::Result::Idle;
        if (!line) {
          if (!idle) return {Step::Input, {}, timeout};
          return {Step::Idle, [this] {
                    std::string o;
                    session_.idle_poll(o);
                    return Answer{[o](std::string& out) { out += o; }, {}};
                  },
                  timeout};
        }
        return {Step::Work, [this, idle, line = std::move(*line)] {
                  std::string o;
                  const ImapSession::Result r = idle ? session_.idle_done(line, o) : session_.auth_response(line, o);
                  return answer(std::move(o), r);
                }};
      }
      case ImapSession::Result::Continue: break;
    }
    while (true) {
      ImapReader::Result r = reader_.next();
      switch (r.event) {
        case ImapReader::Event::NeedInput: return {Step::Input, {}, timeout};
        case ImapReader::Event::Continue:
          out += "+ Ready for literal data\r\n";
          return {Step::Input, {}, timeout};
        case ImapReader::Event::Reply:
          out += r.reply;
          if (++errors_ > 50) {
            out += "* BYE too many bad commands\r\n";
            return {Step::Close, {}};
          }
          continue;
        case ImapReader::Event::Fatal: out += r.reply; return {Step::Close, {}};
        case ImapReader::Event::Command:
          return {Step::Work, [this, cmd = std::move(r.command)] {
                    std::string o;
                    ImapSession::Result result = session_.execute(cmd, o);
                    return answer(std::move(o), result);
                  }};
      }
    }
  }

 private:
  static ImapLimits limits(const ServerConfig& config) {
    ImapLimits l;
    l.max_append = config.smtp.max_message_size;
    return l;
  }
  // Runs on the worker; the returned answer is applied on the connection.
  Answer answer(std::string o, ImapSession::Result r) {
    return {[this, o = std::move(o), next = r.next](std::string& out) {
              out += o;
              mode_ = next;
            },
            r.delay};
  }

  ImapSession session_;
  ImapReader reader_;
  ImapSession::Result::Next mode_ = ImapSession::Result::Continue;
  int errors_ = 0;
};

}  // namespace

void add_imap_doors(LineServer& server, const ServerConfig& config) {
  for (const auto& [proto, implicit] : {std::pair{"imap", false}, std::pair{"imaps", true}}) {
    server.add(proto, implicit, [&config](const std::string& remote, bool tls) -> std::unique_ptr<LineProtocol> {
      return std::make_unique<ImapProtocol>(config, remote, tls);
    });
  }
}

}  // namespace openmapi::server
