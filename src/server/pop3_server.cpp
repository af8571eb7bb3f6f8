#include "server/pop3_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/entryid.h"
#include "formats/mime/mime.h"
#include "server/delivery.h"
#include "server/pop3.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/named_ids.h"
#include "store/store.h"

namespace openmapi::server {

namespace {

std::string render(store::Mailbox& mb, store::MessageId id) { return message_mime(mb, id); }

class Pop3Protocol final : public LineProtocol {
 public:
  Pop3Protocol(const ServerConfig& config, std::string proto, std::string remote, bool tls)
      : config_(config), proto_(std::move(proto)), remote_(std::move(remote)), engine_(config.host_name, true, tls) {}

  std::string greeting() override { return engine_.greeting(); }
  std::string too_many_connections() override { return "-ERR [SYS/TEMP] too many connections from your address\r\n"; }
  void feed(const char* data, size_t n) override { engine_.feed(data, n); }
  void tls_started() override { engine_.tls_started(); }

  Step step(std::string& out) override {
    switch (engine_.step(out)) {
      case Pop3Engine::Need::Input: return {Step::Input, {}};
      case Pop3Engine::Need::Close: return {Step::Close, {}};
      case Pop3Engine::Need::StartTls: return {Step::StartTls, {}};
      case Pop3Engine::Need::Login: return {Step::Work, [this] { return login(); }};
      case Pop3Engine::Need::Fetch: return {Step::Work, [this] { return fetch(); }};
      case Pop3Engine::Need::Commit: return {Step::Work, [this] { return commit(); }};
    }
    return {Step::Close, {}};
  }

 private:
  // On a worker thread, as the rest below.
  Answer login() {
    const Pop3Engine::Credentials c = engine_.credentials();
    std::optional<User> user;
    try {
      user = thread_user_directory(config_.data_dir).authenticate(c.user, c.password);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: checking a password: {}", proto_, remote_, e.what());
    }
    if (!user) {
      spdlog::warn("{} {}: authentication failed for '{}'", proto_, remote_, c.user.substr(0, 100));
      return {[this](std::string& out) { engine_.logged_in(std::nullopt, out); }, std::chrono::milliseconds(1000)};
    }
    try {
      mailbox_ = store::open_sqlite_mailbox(store::mailbox_file(config_.data_dir, user->mailbox));
      auto table = mailbox_->contents_table(mailbox_->special_folder(store::SpecialFolder::Inbox));
      table->set_columns({tags::PidTagMid});
      std::vector<store::MessageId> ids;
      for (const auto& row : table->query_rows(UINT32_MAX)) ids.push_back(ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc);
      std::sort(ids.begin(), ids.end());
      std::vector<Pop3Message> drop;
      for (store::MessageId id : ids) drop.push_back({std::to_string(id), render(*mailbox_, id).size()});
      ids_ = std::move(ids);
      spdlog::info("{} {}: {} logged in, {} messages", proto_, remote_, user->address, drop.size());
      return {[this, drop = std::move(drop)](std::string& out) mutable { engine_.logged_in(std::move(drop), out); }, {}};
    } catch (const std::exception& e) {
      spdlog::error("{} {}: opening the maildrop of {}: {}", proto_, remote_, user->address, e.what());
      mailbox_.reset();
      return {[this](std::string& out) { engine_.logged_in(std::nullopt, out, "the maildrop cannot be opened now"); }, {}};
    }
  }

  Answer fetch() {
    std::optional<std::string> text;
    const store::MessageId id = ids_.at(engine_.fetch_index());
    try {
      text = render(*mailbox_, id);
      // RETR reads the message: it is read now (as Exchange's POP3 marks it); TOP does not.
      if (engine_.fetch_whole()) mailbox_->set_read_flag({id}, true);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: reading message {}: {}", proto_, remote_, id, e.what());
    }
    return {[this, text = std::move(text)](std::string& out) { engine_.fetched(text, out); }, {}};
  }

  Answer commit() {
    std::vector<store::MessageId> gone;
    for (size_t i : engine_.to_delete()) gone.push_back(ids_.at(i));
    bool ok = true;
    try {
      mailbox_->delete_messages(gone, store::DeleteMode::Soft);
      spdlog::info("{} {}: {} messages deleted", proto_, remote_, gone.size());
    } catch (const std::exception& e) {
      ok = false;
      spdlog::error("{} {}: deleting {} messages: {}", proto_, remote_, gone.size(), e.what());
    }
    return {[this, ok](std::string& out) { engine_.committed(ok, out); }, {}};
  }

  const ServerConfig& config_;
  std::string proto_, remote_;
  Pop3Engine engine_;
  std::unique_ptr<store::Mailbox> mailbox_;
  std::vector<store::MessageId> ids_;
};

}  // namespace

void add_pop3_doors(LineServer& server, const ServerConfig& config) {
  for (const auto& [proto, implicit] : {std::pair{"pop3", false}, std::pair{"pop3s", true}}) {
    const std::string p = proto;
    server.add(p, implicit, [&config, p](const std::string& remote, bool tls) -> std::unique_ptr<LineProtocol> {
      return std::make_unique<Pop3Protocol>(config, p, remote, tls);
    });
  }
}

}  // namespace openmapi::server
