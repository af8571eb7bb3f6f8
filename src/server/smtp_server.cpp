#include "server/smtp_server.h"

#include <spdlog/spdlog.h>

#include "server/delivery.h"
#include "server/users.h"

namespace openmapi::server {

namespace {

class SmtpProtocol final : public LineProtocol {
 public:
  SmtpProtocol(const ServerConfig& config, std::shared_ptr<LocalDelivery> delivery, std::string proto, std::string remote, bool tls)
      : config_(config), delivery_(std::move(delivery)), proto_(std::move(proto)), remote_(remote),
        engine_(proto_ == "lmtp" ? SmtpMode::Lmtp : proto_ == "smtp" ? SmtpMode::Smtp : SmtpMode::Submission, config.smtp,
                config.host_name, recipient_check(), true, tls, remote) {}

  std::string greeting() override { return engine_.greeting(); }
  std::string too_many_connections() override {
    return "421 4.7.0 " + config_.host_name + " too many connections from your address\r\n";
  }
  void feed(const char* data, size_t n) override { engine_.feed(data, n); }
  void tls_started() override { engine_.tls_started(); }

  Step step(std::string& out) override {
    switch (engine_.step(out)) {
      case SmtpEngine::Need::Input: return {Step::Input, {}};
      case SmtpEngine::Need::Close: return {Step::Close, {}};
      case SmtpEngine::Need::StartTls: return {Step::StartTls, {}};
      case SmtpEngine::Need::Authenticate: return {Step::Work, [this] { return authenticate(); }};
      case SmtpEngine::Need::Deliver: return {Step::Work, [this] { return deliver(); }};
    }
    return {Step::Close, {}};
  }

 private:
  SmtpEngine::RecipientCheck recipient_check() {
    const bool submission = proto_ == "submission" || proto_ == "submissions";
    const bool relays = config_.relay != "none";
    auto delivery = delivery_;
    return [delivery, submission, relays](const std::string& address, const SmtpEnvelope&) -> std::optional<SmtpReply> {
      auto refused = delivery->check_recipient(address);
      if (refused && submission && refused->code == 550) {
        if (relays) return std::nullopt;  // the spooler relays it (queue_for_relay)
        return SmtpReply{550, "5.7.1 <" + address + ">: not a local user, and this server relays to no other (relay = none)"};
      }
      return refused;
    };
  }

  // On a worker thread.
  Answer authenticate() {
    const SmtpEngine::Credentials c = engine_.credentials();
    std::optional<std::string> user;
    try {
      // RFC 4616: an authorization identity other than the user's own is not granted.
      if (c.authzid.empty() || c.authzid == c.user)
        if (auto u = thread_user_directory(config_.data_dir).authenticate(c.user, c.password)) user = u->address;
    } catch (const std::exception& e) {
      spdlog::error("{} {}: checking a password: {}", proto_, remote_, e.what());
    }
    if (user) spdlog::info("{} {}: authenticated as {}", proto_, remote_, *user);
    else spdlog::warn("{} {}: authentication failed for '{}'", proto_, remote_, c.user.substr(0, 100));
    return {[this, user](std::string& out) { engine_.auth_done(user, out); },
            user ? std::chrono::milliseconds(0) : std::chrono::milliseconds(1000)};
  }

  // On a worker thread.
  Answer deliver() {
    const SmtpEnvelope& env = engine_.envelope();
    std::vector<SmtpReply> replies(env.recipients.size());
    // Submission: local recipients get it now, the others through the sender's queue.
    SmtpEnvelope local = env;
    local.recipients.clear();
    std::vector<size_t> local_index, remote_index;
    std::vector<std::string> remote;
    for (size_t i = 0; i < env.recipients.size(); ++i) {
      const auto refused = engine_.mode() == SmtpMode::Submission ? delivery_->check_recipient(env.recipients[i].address) : std::nullopt;
      if (refused && refused->code == 550) {
        remote.push_back(env.recipients[i].address);
        remote_index.push_back(i);
      } else {
        local.recipients.push_back(env.recipients[i]);
        local_index.push_back(i);
      }
    }
    if (!local.recipients.empty()) {
      const std::vector<SmtpReply> r = delivery_->deliver(local, engine_.message(), engine_.mode());
      for (size_t k = 0; k < r.size(); ++k) replies[local_index[k]] = r[k];
    }
    if (!remote.empty()) {
      const SmtpReply r = delivery_->queue_for_relay(env, remote, engine_.message());
      for (size_t i : remote_index) replies[i] = r;
    }
    return {[this, replies](std::string& out) { engine_.delivered(replies, out); }, {}};
  }

  const ServerConfig& config_;
  std::shared_ptr<LocalDelivery> delivery_;
  std::string proto_, remote_;
  SmtpEngine engine_;
};

}  // namespace

void add_smtp_doors(LineServer& server, const ServerConfig& config) {
  auto delivery = std::make_shared<LocalDelivery>(config.data_dir, config.host_name);
  for (const auto& [proto, implicit] : {std::pair{"smtp", false}, std::pair{"submission", false}, std::pair{"submissions", true},
                                        std::pair{"lmtp", false}}) {
    const std::string p = proto;
    server.add(p, implicit, [&config, delivery, p](const std::string& remote, bool tls) -> std::unique_ptr<LineProtocol> {
      return std::make_unique<SmtpProtocol>(config, delivery, p, remote, tls);
    });
  }
}

}  // namespace openmapi::server
