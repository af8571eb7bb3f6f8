#include "server/emsmdb.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>

#include "core/error.h"
#include "core/lz77.h"
#include "core/unicode.h"
#include "server/frontend.h"
#include "server/mapihttp.h"

namespace openmapi::server {

namespace {

using namespace mapihttp;
constexpr const char* kCookie = "MapiContext";
constexpr uint32_t ecAccessDenied = 0x80070005;

}  // namespace

ConnectRequest parse_connect_request(ByteView body) {
  BinaryReader r(body);
  ConnectRequest c;
  c.user_dn = r.str8z();
  c.flags = r.u32();
  c.default_code_page = r.u32();
  c.lcid_sort = r.u32();
  c.lcid_string = r.u32();
  c.auxiliary = counted(r);
  return c;
}

Bytes serialize(const ConnectResponse& c) {
  BinaryWriter w;
  w.u32(c.status);
  w.u32(c.error);
  w.u32(c.polls_max);
  w.u32(c.retry_count);
  w.u32(c.retry_delay);
  w.str8z(c.dn_prefix);
  w.utf16z(c.display_name);
  w.u32(uint32_t(c.auxiliary.size()));
  w.bytes(c.auxiliary);
  return w.data();
}

ExecuteRequest parse_execute_request(ByteView body) {
  BinaryReader r(body);
  ExecuteRequest e;
  e.flags = r.u32();
  e.rop_buffer = counted(r);
  e.max_rop_out = r.u32();
  e.auxiliary = counted(r);
  return e;
}

Bytes serialize(const ExecuteResponse& e) {
  BinaryWriter w;
  w.u32(e.status);
  w.u32(e.error);
  w.u32(e.flags);
  w.u32(uint32_t(e.rop_buffer.size()));
  w.bytes(e.rop_buffer);
  w.u32(uint32_t(e.auxiliary.size()));
  w.bytes(e.auxiliary);
  return w.data();
}

std::vector<Bytes> parse_rpc_buffers(ByteView buffer) {
  BinaryReader r(buffer);
  std::vector<Bytes> out;
  for (;;) {
    RpcHeaderExt h;
    h.version = r.u16();
    h.flags = r.u16();
    h.size = r.u16();
    h.size_actual = r.u16();
    if (h.version != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "RPC_HEADER_EXT version " + std::to_string(h.version) + " (0 expected)");
    if (h.size > r.remaining())
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "RPC_HEADER_EXT claims " + std::to_string(h.size) + " bytes, " + std::to_string(r.remaining()) + " follow");
    const bool compressed = (h.flags & rpc_flags::Compressed) != 0;
    if (!compressed && h.size_actual != h.size) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an uncompressed RPC_HEADER_EXT with Size != SizeActual");
    Bytes payload = r.copy(h.size);
    // Obfuscation covers the bytes as sent, so it comes off first; then the payload decompresses
    // (into at most SizeActual bytes, a 16-bit count).
    if (h.flags & rpc_flags::XorMagic)
      for (auto& b : payload) b ^= 0xA5;
    if (compressed) payload = lz77_decompress(payload, h.size_actual);
    out.push_back(std::move(payload));
    if (h.flags & rpc_flags::Last) break;
    if (r.at_end()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a chained ROP buffer ends without the Last flag");
  }
  return out;
}

Bytes frame_rpc_buffer(ByteView payload, bool compress) {
  if (payload.size() > 0xFFFF) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a ROP response buffer over 64 KiB");
  Bytes packed;
  // Small buffers gain too little to be worth a client's decompression.
  if (compress && payload.size() >= 256) packed = lz77_compress(payload);
  const bool use = !packed.empty() && packed.size() < payload.size();
  BinaryWriter w;
  w.u16(0);
  w.u16(uint16_t(rpc_flags::Last | (use ? rpc_flags::Compressed : 0)));
  w.u16(uint16_t(use ? packed.size() : payload.size()));
  w.u16(uint16_t(payload.size()));
  w.bytes(use ? ByteView(packed) : payload);
  return w.data();
}


Emsmdb::Emsmdb(ServerConfig config, std::string dn_prefix) : config_(std::move(config)), dn_prefix_(std::move(dn_prefix)) {}

size_t Emsmdb::session_count() {
  std::lock_guard lk(mutex_);
  return sessions_.size();
}

void Emsmdb::expire() {
  const auto now = Clock::now();
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = now - it->second->last_use.load() > kContextLifetime ? sessions_.erase(it) : std::next(it);
}

HttpReply Emsmdb::handle(const HttpRequest& req, const User& user) {
  const auto rt = req.msg["X-RequestType"];
  const std::string type(rt.substr(0, 40));
  if (auto bad = check_request(req, type)) return *bad;
  try {
    if (type == "Connect") return connect(req, user);
    if (type == "PING") return reply_for(req, type, response_code::Success);
    if (type != "Execute" && type != "Disconnect" && type != "NotificationWait")
      return failure(req, type, response_code::InvalidRequestType,
                     "request type '" + type + "' is not served (EMSMDB: Connect, Execute, Disconnect, NotificationWait, PING)");
    HttpReply reply;
    std::string value;
    auto s = session_of(req, user, reply, value);
    if (!s) return reply;
    if (type == "Disconnect") return disconnect(req, value);
    if (type == "NotificationWait") return notification_wait(req, s);
    return execute(req, s);
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA || e.code() == ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY)
      return failure(req, type, response_code::InvalidRequestBody, "invalid request body: " + e.describe());
    throw;
  }
}

std::shared_ptr<Emsmdb::Session> Emsmdb::session_of(const HttpRequest& req, const User& user, HttpReply& reply, std::string& value) {
  const std::string type(req.msg["X-RequestType"]);
  auto c = cookie(req, kCookie);
  if (!c) {
    reply = failure(req, type, response_code::MissingCookie, "no session context cookie (Connect first)");
    return nullptr;
  }
  std::lock_guard lk(mutex_);
  expire();
  auto it = sessions_.find(*c);
  if (it == sessions_.end()) {
    reply = failure(req, type, response_code::ContextNotFound, "the session context is not known (or expired): Connect again");
    return nullptr;
  }
  if (it->second->user != ascii_lower(user.address)) {
    reply = failure(req, type, response_code::NoPrivilege, "the session context belongs to another user");
    return nullptr;
  }
  it->second->last_use = Clock::now();
  value = *c;
  return it->second;
}

HttpReply Emsmdb::connect(const HttpRequest& req, const User& user) {
  const auto start = Clock::now();
  const std::string date = http_date();
  const auto& b = req.msg.body();
  ConnectRequest cr = parse_connect_request(ByteView(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  ConnectResponse resp;
  resp.dn_prefix = dn_prefix_;
  HttpReply r = reply_for(req, "Connect", response_code::Success);
  if (ascii_lower(cr.user_dn) != ascii_lower(user_legacy_dn(config_.organization, user.address))) {
    // The DN of someone else (or no one): the connection is refused in the body, as EcDoConnectEx does.
    resp.error = ecAccessDenied;
    spdlog::warn("{}: Connect as '{}' with the UserDn of another user: '{}'", req.remote, user.address, cr.user_dn.substr(0, 200));
  } else {
    resp.display_name = user.display_name;
    const std::string token = random_token();
    {
      std::lock_guard lk(mutex_);
      expire();
      auto session = std::make_shared<Session>();
      session->user = ascii_lower(user.address);
      session->last_use = Clock::now();
      session->rops = std::make_unique<RopSession>(config_, user);
      sessions_[token] = std::move(session);
    }
    r.msg.set(http::field::set_cookie, std::string(kCookie) + "=" + token + "; path=/mapi/emsmdb; secure; HttpOnly");
  }
  r.msg.set("X-ExpirationInfo", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(kContextLifetime).count()));
  r.msg.set(http::field::content_type, "application/mapi-http");
  r.msg.body() = mapi_http_body(serialize(resp), start, date);
  return r;
}

HttpReply Emsmdb::disconnect(const HttpRequest& req, const std::string& value) {
  const auto start = Clock::now();
  const std::string date = http_date();
  {
    std::lock_guard lk(mutex_);
    sessions_.erase(value);
  }
  HttpReply r = reply_for(req, "Disconnect", response_code::Success);
  BinaryWriter w;
  w.u32(0);  // StatusCode
  w.u32(0);  // ErrorCode
  w.u32(0);  // AuxiliaryBufferSize
  r.msg.set(http::field::content_type, "application/mapi-http");
  r.msg.set(http::field::set_cookie, std::string(kCookie) + "=; path=/mapi/emsmdb; secure; HttpOnly; Max-Age=0");
  r.msg.body() = mapi_http_body(w.data(), start, date);
  return r;
}

HttpReply Emsmdb::notification_wait(const HttpRequest& req, const std::shared_ptr<Session>& s) {
  const auto start = Clock::now();
  const std::string date = http_date();
  // MS-OXCMAPIHTTP 2.2.4.4.1: Flags (reserved), AuxiliaryBufferSize, AuxiliaryBuffer.
  const auto& b = req.msg.body();
  BinaryReader r(ByteView(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  r.u32();
  counted(r);
  HttpReply base = reply_for(req, "NotificationWait", response_code::Success);
  base.msg.set(http::field::content_type, "application/mapi-http");
  // The response body (2.2.4.4.2): StatusCode, ErrorCode, EventPending (1: notifications wait
  // for an Execute), AuxiliaryBufferSize.
  auto answer = [base, start, date](bool pending) {
    HttpReply out = base;
    BinaryWriter w;
    w.u32(0);
    w.u32(0);
    w.u32(pending ? 1 : 0);
    w.u32(0);
    out.msg.body() = mapi_http_body(w.data(), start, date);
    return out;
  };
  if (s->rops->notifications_pending()) return answer(true);
  HttpReply later;
  later.request_type = "NotificationWait";
  later.deferred = [s, answer](boost::asio::any_io_executor ex, ReplyCompletion done) {
    struct Wait {
      explicit Wait(boost::asio::any_io_executor ex) : strand(boost::asio::make_strand(ex)), timer(strand) {}
      boost::asio::strand<boost::asio::any_io_executor> strand;
      boost::asio::steady_timer timer;
      std::atomic<bool> fired{false};
    };
    auto wait = std::make_shared<Wait>(ex);
    // Whichever comes first, an event or the time limit, answers; the other finds it done.
    auto fire = [wait, s, answer, done](bool pending) {
      if (wait->fired.exchange(true)) return;
      if (!pending) s->rops->on_pending(nullptr);
      boost::asio::post(wait->strand, [wait] { wait->timer.cancel(); });
      s->last_use = Clock::now();
      done(answer(pending));
    };
    wait->timer.expires_after(kNotificationWaitMax);
    wait->timer.async_wait([fire](boost::system::error_code ec) {
      if (!ec) fire(false);
    });
    s->rops->on_pending([fire] { fire(true); });
  };
  return later;
}

HttpReply Emsmdb::execute(const HttpRequest& req, const std::shared_ptr<Session>& s) {
  const auto start = Clock::now();
  const std::string date = http_date();
  const auto& b = req.msg.body();
  ExecuteRequest er = parse_execute_request(ByteView(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  ExecuteResponse resp;
  try {
    auto buffers = parse_rpc_buffers(er.rop_buffer);
    std::lock_guard lk(s->execute_mutex);
    Bytes out;
    // MaxRopOut bounds the ROP output, and one response buffer holds at most 32 KiB; what does
    // not fit is answered with RopBufferTooSmall for the client to send again.
    const size_t max_out = std::min<size_t>(er.max_rop_out ? er.max_rop_out : kMaxRopOutPerBuffer, kMaxRopOutPerBuffer);
    const bool compress = !(er.flags & execute_flags::NoCompression);
    for (const Bytes& payload : buffers) {
      Bytes part = s->rops->execute(payload, max_out);
      Bytes framed = frame_rpc_buffer(part, compress);
      out.insert(out.end(), framed.begin(), framed.end());
    }
    resp.rop_buffer = std::move(out);
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA) throw;  // 12: invalid request body
    resp.error = uint32_t(e.code());  // a response too big
  }
  HttpReply r = reply_for(req, "Execute", response_code::Success);
  r.msg.set(http::field::content_type, "application/mapi-http");
  r.msg.set("X-ExpirationInfo", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(kContextLifetime).count()));
  r.msg.body() = mapi_http_body(serialize(resp), start, date);
  return r;
}

}  // namespace openmapi::server
