#include "server/frontend.h"

#include <boost/asio/post.hpp>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/base64.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/unicode.h"
#include "core/guid.h"
#include "server/autodiscover.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace openmapi::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kVerifiedFor = std::chrono::minutes(5);

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

HttpReply text_reply(http::status status, const std::string& text) {
  HttpReply r;
  r.msg.result(status);
  r.msg.set(http::field::content_type, "text/plain; charset=utf-8");
  r.msg.body() = text;
  return r;
}

}  // namespace

std::string user_legacy_dn(const std::string& organization, const std::string& address) {
  const std::string a = ascii_lower(address);
  std::string local;
  for (char c : a.substr(0, a.rfind('@')))
    local += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), digest);
  return "/o=" + organization + "/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + local + "-" + hex(digest, 4);
}

Frontend::Frontend(ServerConfig config, std::string base_url)
    : config_(std::move(config)), base_url_(std::move(base_url)), verifiers_(2) {
  unsigned char key[32];
  RAND_bytes(key, sizeof key);
  cache_key_.assign(reinterpret_cast<const char*>(key), sizeof key);
  deployment_id_ = Guid::random().to_string();  // (per run for now; NSPI's server GUID will share it)
  emsmdb_ = std::make_unique<Emsmdb>(config_, "/o=" + config_.organization + "/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)");
  nspi_ = std::make_unique<Nspi>(config_, base_url_);
}

std::chrono::milliseconds Frontend::penalty(const std::string& user, const std::string& remote) {
  std::lock_guard lk(mutex_);
  uint32_t worst = 0;
  for (const std::string& key : {"u:" + ascii_lower(user), "a:" + remote}) {
    auto it = failures_.find(key);
    if (it != failures_.end()) worst = std::max(worst, it->second.count);
  }
  if (worst < config_.auth_failures_before_delay) return std::chrono::milliseconds(0);
  const uint32_t steps = std::min<uint32_t>(worst - config_.auth_failures_before_delay, 4);
  return std::chrono::milliseconds(500 << steps);  // 0.5 s .. 8 s
}

void Frontend::failed(const std::string& user, const std::string& remote) {
  std::lock_guard lk(mutex_);
  const auto now = Clock::now();
  // Forget stale entries now and then, so that the map stays bounded by recent offenders.
  if (failures_.size() > 10000)
    for (auto it = failures_.begin(); it != failures_.end();) it = now - it->second.last > std::chrono::minutes(15) ? failures_.erase(it) : std::next(it);
  for (const std::string& key : {"u:" + ascii_lower(user), "a:" + remote}) {
    auto& f = failures_[key];
    if (now - f.last > std::chrono::minutes(15)) f.count = 0;
    ++f.count;
    f.last = now;
  }
}

void Frontend::succeeded(const std::string& user, const std::string& remote) {
  std::lock_guard lk(mutex_);
  failures_.erase("u:" + ascii_lower(user));
  failures_.erase("a:" + remote);
}

std::optional<std::pair<std::string, std::string>> Frontend::credentials(const HttpRequest& req) {
  const auto auth = req.msg[http::field::authorization];
  std::string_view a(auth.data(), auth.size());
  std::optional<std::string> creds;
  if (a.size() > 6 && ascii_lower(a.substr(0, 6)) == "basic ") {
    std::string_view b64 = a.substr(6);
    while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
    if (b64.size() <= 4096) creds = base64_decode_strict(b64);
  }
  const size_t colon = creds ? creds->find(':') : std::string::npos;
  if (colon == std::string::npos) return std::nullopt;
  std::string name = creds->substr(0, colon), password = creds->substr(colon + 1);
  // DOMAIN\user and user@domain both name the user by address here.
  if (auto bs = name.find('\\'); bs != std::string::npos) name = name.substr(bs + 1);
  return std::make_pair(std::move(name), std::move(password));
}

std::string Frontend::password_mac(const std::string& password) const {
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), cache_key_.data(), int(cache_key_.size()), reinterpret_cast<const unsigned char*>(password.data()), password.size(),
       mac, &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

bool Frontend::verified_recently(const std::string& name, const std::string& mac) {
  std::lock_guard lk(mutex_);
  auto it = verified_.find(ascii_lower(name));
  return it != verified_.end() && it->second.second > Clock::now() && it->second.first.size() == mac.size() &&
         CRYPTO_memcmp(it->second.first.data(), mac.data(), mac.size()) == 0;
}

std::optional<User> Frontend::authenticate(const HttpRequest& req, HttpReply& reply) {
  auto challenge = [&](const std::string& why) {
    reply = text_reply(http::status::unauthorized, why + "\n");
    reply.msg.set(http::field::www_authenticate, "Basic realm=\"OpenMAPI\", charset=\"UTF-8\"");
  };
  if (req.msg[http::field::authorization].empty()) {
    challenge("authentication required (HTTP Basic over TLS)");
    return std::nullopt;
  }
  auto creds = credentials(req);
  if (!creds) {
    challenge("malformed Basic credentials");
    failed("", req.remote);
    reply.delay = penalty("", req.remote);
    return std::nullopt;
  }
  const auto& [name, password] = *creds;
  reply.user = name.substr(0, 100);
  const std::string mac = password_mac(password);
  const std::chrono::milliseconds held = penalty(name, req.remote);
  std::optional<User> user;
  {
    const bool cached = verified_recently(name, mac);
    // One users connection per thread, kept: opening the file per request cost more than the
    // request (UserDirectory is one-thread-at-a-time; the file may change under it).
    thread_local std::map<std::string, std::unique_ptr<UserDirectory>> directories;
    auto& users = directories[config_.data_dir];
    if (!users) users = std::make_unique<UserDirectory>(config_.data_dir);
    if (cached) user = users->find(name);
    else user = users->authenticate(name, password);
  }
  if (!user) {
    failed(name, req.remote);
    spdlog::warn("{}: authentication failed for '{}'", req.remote, name.substr(0, 100));
    challenge("wrong user name or password");
    reply.user = name.substr(0, 100);
    reply.delay = std::max(held, penalty(name, req.remote));
    return std::nullopt;
  }
  succeeded(name, req.remote);
  {
    std::lock_guard lk(mutex_);
    if (verified_.size() > 10000) verified_.clear();
    verified_[ascii_lower(name)] = {mac, Clock::now() + kVerifiedFor};
  }
  reply.user = user->address;
  reply.delay = held;  // a correct password after failures is held back as well: no oracle
  return user;
}

HttpReply Frontend::handle(const HttpRequest& req) {
  // A password not verified in the last minutes costs an Argon2id verification (tens of
  // milliseconds of CPU): that request is answered from the verifier threads, so the io
  // threads keep serving everyone else meanwhile.
  if (!req.msg[http::field::authorization].empty()) {
    auto creds = credentials(req);
    if (creds && !verified_recently(creds->first, password_mac(creds->second))) {
      HttpReply later;
      auto copy = std::make_shared<HttpRequest>(req);
      later.deferred = [this, copy](boost::asio::any_io_executor, ReplyCompletion done) {
        boost::asio::post(verifiers_, [this, copy, done = std::move(done)] { done(route(*copy)); });
      };
      return later;
    }
  }
  return route(req);
}

HttpReply Frontend::route(const HttpRequest& req) {
  const std::string target(req.msg.target());
  const std::string path = ascii_lower(target.substr(0, target.find('?')));
  HttpReply reply;
  auto user = authenticate(req, reply);
  if (!user) return reply;
  const auto delay = reply.delay;
  const std::string who = reply.user;
  if (path == "/autodiscover/autodiscover.xml") {
    reply = autodiscover(req, *user);
    reply.request_type = "Autodiscover";
  } else if (path == "/mapi/emsmdb" || path == "/mapi/emsmdb/") {
    reply = emsmdb_->handle(req, *user);
  } else if (path == "/mapi/nspi" || path == "/mapi/nspi/") {
    reply = nspi_->handle(req, *user);
  } else {
    reply = text_reply(http::status::not_found, "not found\n");
  }
  reply.user = who;
  reply.delay = delay;
  return reply;
}

HttpReply Frontend::autodiscover(const HttpRequest& req, const User& user) {
  if (req.msg.method() != http::verb::post) {
    HttpReply r = text_reply(http::status::method_not_allowed, "Autodiscover takes POST requests (MS-OXDSCLI)\n");
    r.msg.set(http::field::allow, "POST");
    return r;
  }
  HttpReply r;
  r.msg.result(http::status::ok);
  r.msg.set(http::field::content_type, "text/xml; charset=utf-8");
  auto request = parse_autodiscover_request(req.msg.body());
  if (!request) {
    r.msg.body() = autodiscover_error(600, "Invalid Request");
    return r;
  }
  const std::string want = ascii_lower(request->schema);
  if (!want.empty() && want != "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a") {
    r.msg.body() = autodiscover_error(603, "The requested schema is not provided by this server");
    return r;
  }
  // A user may discover its own mailbox (other mailboxes come with rights: delegates, ACLs).
  if (ascii_lower(request->email) != ascii_lower(user.address)) {
    r.msg.body() = autodiscover_error(500, "The e-mail address cannot be found.");
    return r;
  }
  AutodiscoverSettings s;
  s.display_name = user.display_name;
  s.email = user.address;
  s.legacy_dn = user_legacy_dn(config_.organization, user.address);
  s.deployment_id = deployment_id_;
  s.server = config_.host_name;
  const std::string domain = user.address.substr(user.address.rfind('@') + 1);
  auto mb = store::open_sqlite_mailbox(store::mailbox_file(config_.data_dir, user.mailbox));
  s.mailbox_id = mb->mailbox_guid().to_string() + "@" + domain;
  s.base_url = base_url_;
  s.server_dn = "/o=" + config_.organization + "/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=" + s.mailbox_id;
  s.mdb_dn = s.server_dn + "/cn=Microsoft Private MDB";
  s.mapi_http = !req.msg["X-MapiHttpCapability"].empty();
  r.msg.body() = autodiscover_response(s);
  return r;
}

}  // namespace openmapi::server
