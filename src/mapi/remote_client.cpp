#include "mapi/remote_client.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/base64.h"
#include "core/propvalue.h"
#include "mapi/remote.h"
#include "server/emsmdb.h"
#include "server/nspi.h"
#include "server/rops.h"

namespace openmapi::mapi {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxReplyBody = 64u << 20;  // no MAPI/HTTP reply of ours comes near this
constexpr size_t kMaxRopRequest = 24 * 1024;

struct Url {
  std::string host, port;
};
Url parse_url(const std::string& url) {
  const std::string scheme = "https://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the server URL must start with https:// ('" + url.substr(0, 80) + "')");
  std::string rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  Url u;
  if (!rest.empty() && rest[0] == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string::npos) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a bracketed host without ']' in " + url.substr(0, 80));
    u.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    u.port = !rest.empty() && rest[0] == ':' ? rest.substr(1) : "443";
  } else {
    const size_t colon = rest.rfind(':');
    u.host = rest.substr(0, colon);
    u.port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "not a server URL https://host[:port]: '" + url.substr(0, 80) + "'");
  return u;
}

// The text between <tag> and </tag> after `from` (the first such element), or "".
std::string element(const std::string& xml, const std::string& tag, size_t from = 0) {
  const size_t open = xml.find("<" + tag + ">", from);
  if (open == std::string::npos) return {};
  const size_t start = open + tag.size() + 2;
  const size_t close = xml.find("</" + tag + ">", start);
  if (close == std::string::npos) return {};
  std::string v = xml.substr(start, close - start);
  // The five XML entities (the values here are DNs and URLs).
  const std::pair<const char*, char> entities[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (size_t i = 0; i < v.size();) {
    bool done = false;
    for (const auto& [e, c] : entities)
      if (v.compare(i, std::strlen(e), e) == 0) {
        out += c;
        i += std::strlen(e);
        done = true;
        break;
      }
    if (!done) out += v[i++];
  }
  return out;
}

std::string xml_text(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      default: o += c;
    }
  }
  return o;
}

}  // namespace

struct MapiHttpClient::Connection {
  Connection(const RemoteOptions& o) : options(o), url(parse_url(o.url)), tls(ssl::context::tls_client) {
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                    ssl::context::no_tlsv1_1);
    if (o.insecure) {
      tls.set_verify_mode(ssl::verify_none);
    } else {
      tls.set_verify_mode(ssl::verify_peer);
      boost::system::error_code ec;
      if (!o.ca_file.empty()) tls.load_verify_file(o.ca_file, ec);
      else tls.set_default_verify_paths(ec);
      if (ec) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the CA file '" + o.ca_file + "' cannot be used: " + ec.message());
      tls.set_verify_callback(ssl::host_name_verification(url.host));
    }
    server = url.host + ":" + url.port;
    const std::string creds = o.user + ":" + o.password;
    auth = "Basic " + base64_encode(ByteView(reinterpret_cast<const uint8_t*>(creds.data()), creds.size()));
  }

  void open() {
    stream.reset();
    stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, tls);
    if (!SSL_set_tlsext_host_name(stream->native_handle(), url.host.c_str()))
      throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "TLS: the host name " + url.host + " cannot be sent");
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "the server " + server + " cannot be found: " + ec.message());
    auto& tcp_stream = beast::get_lowest_layer(*stream);
    tcp_stream.expires_after(options.timeout);
    tcp_stream.connect(endpoints, ec);
    if (ec) throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "the server " + server + " cannot be reached: " + ec.message());
    tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    stream->handshake(ssl::stream_base::client, ec);
    if (ec) throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "TLS with " + server + " failed: " + ec.message());
    buffer.clear();
  }

  // One request and its reply; a keep-alive connection the server closed meanwhile is opened
  // again once (before anything of the reply was read).
  http::response<http::string_body> round_trip(http::request<http::string_body>& req) {
    for (int attempt = 0;; ++attempt) {
      if (!stream) open();
      beast::error_code ec;
      beast::get_lowest_layer(*stream).expires_after(options.timeout);
      http::write(*stream, req, ec);
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxReplyBody);
      if (!ec) http::read(*stream, buffer, parser, ec);
      if (!ec) {
        auto res = parser.release();
        if (!res.keep_alive()) stream.reset();
        return res;
      }
      stream.reset();
      const bool stale = ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
                         ec == asio::ssl::error::stream_truncated;
      if (attempt == 0 && stale && !(stop && stop->load())) continue;
      throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "the connection to " + server + " failed: " + ec.message());
    }
  }

  RemoteOptions options;
  Url url;
  std::string server, auth;
  const std::atomic<bool>* stop = nullptr;  // set: a broken connection is not opened again
  asio::io_context io;
  ssl::context tls;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
};

MapiHttpClient::MapiHttpClient(const RemoteOptions& options) : c_(std::make_unique<Connection>(options)) {}
MapiHttpClient::~MapiHttpClient() = default;
const std::string& MapiHttpClient::server() const { return c_->server; }

MapiHttpClient::Reply MapiHttpClient::post(const std::string& path, const std::string& request_type, const std::string& content_type,
                                           const std::string& body, const std::string& cookie) {
  return post_on(*c_, path, request_type, content_type, body, cookie);
}

MapiHttpClient::Reply MapiHttpClient::post_on(Connection& conn, const std::string& path, const std::string& request_type,
                                              const std::string& content_type, const std::string& body, const std::string& cookie) {
  Connection* c_ = &conn;  // the connection this request goes on
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, c_->url.host);
  req.set(http::field::authorization, c_->auth);
  req.set(http::field::content_type, content_type);
  req.set(http::field::user_agent, "OpenMAPI remote provider");
  if (!request_type.empty()) {
    req.set("X-RequestType", request_type);
    req.set("X-RequestId", "{6F1E3A44-0A0B-4C2D-9E8F-0123456789AB}:" + std::to_string(++request_id_));
    req.set("X-ClientInfo", "{6F1E3A44-0A0B-4C2D-9E8F-0123456789AC}:1");
    req.set("X-ClientApplication", "OpenMAPI/1.0");
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
  } else {
    req.set("X-MapiHttpCapability", "1");
  }
  req.body() = body;
  req.prepare_payload();
  auto res = c_->round_trip(req);
  Reply r;
  r.status = res.result_int();
  r.response_code = std::string(res["X-ResponseCode"]);
  r.set_cookie = std::string(res[http::field::set_cookie]);
  r.body = std::move(res.body());
  if (r.status == 401) throw_error(ErrorCode::MAPI_E_LOGON_FAILED, "the server " + c_->server + " refused the user name or password of " + c_->options.user);
  return r;
}

Bytes MapiHttpClient::mapi_body(const Reply& r, const char* what) {
  if (r.status != 200) throw_error(ErrorCode::MAPI_E_CALL_FAILED, std::string(what) + ": the server answered HTTP " + std::to_string(r.status));
  if (r.response_code != "0") {
    const std::string text = r.body.substr(0, 200);
    if (r.response_code == "10" || r.response_code == "13")
      throw_error(ErrorCode::MAPI_E_END_OF_SESSION, std::string(what) + ": the server no longer knows this session (" + text + ")");
    throw_error(ErrorCode::MAPI_E_CALL_FAILED, std::string(what) + ": X-ResponseCode " + r.response_code.substr(0, 8) + ": " + text);
  }
  // PROCESSING / PENDING ... DONE, the trailing headers, an empty line, then the body.
  const size_t done = r.body.find("DONE\r\n");
  const size_t end = done == std::string::npos ? std::string::npos : r.body.find("\r\n\r\n", done);
  if (end == std::string::npos) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, std::string(what) + ": a response without its DONE meta-tag");
  return Bytes(r.body.begin() + long(end) + 4, r.body.end());
}

void MapiHttpClient::discover() {
  if (discovered_) return;
  // Autodiscover (MS-OXDSCLI 2.2.3 POX request): the LegacyDN and the EMSMDB URL.
  const std::string request =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover "
      "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>" +
      xml_text(c_->options.user) +
      "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
      "</AcceptableResponseSchema></Request></Autodiscover>";
  Reply ad = post("/autodiscover/autodiscover.xml", "", "text/xml", request, "");
  if (ad.status != 200) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "Autodiscover at " + c_->server + " answered HTTP " + std::to_string(ad.status));
  legacy_dn_ = element(ad.body, "LegacyDN");
  if (legacy_dn_.empty()) {
    const std::string why = element(ad.body, "Message");
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "Autodiscover at " + c_->server + " knows no mailbox for " + c_->options.user + (why.empty() ? "" : ": " + why));
  }
  const size_t mapi = ad.body.find("Type=\"mapiHttp\"");
  if (mapi != std::string::npos) {
    // The path of the InternalUrl of the mapiHttp protocol's <MailStore> or <AddressBook>.
    auto path_of = [&](const char* section, std::string& out) {
      const size_t at = ad.body.find(section, mapi);
      const std::string url = at == std::string::npos ? "" : element(ad.body, "InternalUrl", at);
      const size_t scheme = url.find("://");
      const size_t path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
      if (path != std::string::npos) out = url.substr(path);
    };
    path_of("<MailStore>", emsmdb_path_);
    path_of("<AddressBook>", nspi_path_);
  }
  discovered_ = true;
}

void MapiHttpClient::connect() {
  discover();

  // Connect (MS-OXCMAPIHTTP 2.2.4.1.1): UserDn, Flags, DefaultCodePage, LcidSort, LcidString, no auxiliary buffer.
  BinaryWriter w;
  w.str8z(legacy_dn_);
  w.u32(0);
  w.u32(65001);
  w.u32(0x409);
  w.u32(0x409);
  w.u32(0);
  const Bytes& b = w.data();
  Reply r = post(emsmdb_path_, "Connect", "application/mapi-http", std::string(b.begin(), b.end()), "");
  Bytes body = mapi_body(r, "Connect");
  BinaryReader in(body);
  const uint32_t status = in.u32(), error = in.u32();
  if (status != 0) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "Connect to " + c_->server + " failed with status " + std::to_string(status));
  if (error != 0) throw_error(ErrorCode::MAPI_E_LOGON_FAILED, "the server " + c_->server + " refused the connection of " + c_->options.user);
  in.u32();  // PollsMax
  in.u32();  // RetryCount
  in.u32();  // RetryDelay
  in.str8z();  // DnPrefix
  display_name_ = in.utf16z();
  const size_t semi = r.set_cookie.find(';');
  context_cookie_ = r.set_cookie.substr(0, semi);
  if (context_cookie_.empty()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "Connect to " + c_->server + " gave no session context cookie");
}

Bytes MapiHttpClient::execute(const Bytes& rop_buffer) {
  // MS-OXCMAPIHTTP 2.2.4.2.1: Flags (no compression, no obfuscation asked of the server), the
  // RPC_HEADER_EXT-framed buffer, MaxRopOut, no auxiliary buffer.
  const Bytes framed = server::frame_rpc_buffer(rop_buffer, false);
  BinaryWriter w;
  w.u32(server::execute_flags::NoCompression | server::execute_flags::NoXorMagic);
  w.u32(uint32_t(framed.size()));
  w.bytes(framed);
  w.u32(server::kMaxRopOutPerBuffer);
  w.u32(0);
  const Bytes& b = w.data();
  Reply r = post(emsmdb_path_, "Execute", "application/mapi-http", std::string(b.begin(), b.end()), context_cookie_);
  Bytes body = mapi_body(r, "Execute");
  BinaryReader in(body);
  const uint32_t status = in.u32(), error = in.u32();
  if (status != 0) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "Execute failed with status " + std::to_string(status));
  if (error != 0) throw_error(ErrorCode(error), "the server could not run the ROPs");
  in.u32();  // Flags
  const uint32_t size = in.u32();
  if (size > in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an Execute response claims a ROP buffer larger than its body");
  const auto buffers = server::parse_rpc_buffers(in.bytes(size));
  if (buffers.size() != 1) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an Execute response with " + std::to_string(buffers.size()) + " ROP buffers for one request");
  return buffers[0];
}

void MapiHttpClient::disconnect() noexcept {
  if (context_cookie_.empty()) return;
  try {
    BinaryWriter w;
    w.u32(0);
    post(emsmdb_path_, "Disconnect", "application/mapi-http", std::string(4, '\0'), context_cookie_);
  } catch (...) {
  }
  context_cookie_.clear();
}

bool MapiHttpClient::notification_wait() {
  if (!wait_) {
    wait_ = std::make_unique<Connection>(c_->options);
    wait_->stop = &wait_interrupted_;
  }
  if (!wait_->stream) wait_->open();
  // The server holds a wait about 25 s at most, within the request timeout.
  wait_fd_ = int(beast::get_lowest_layer(*wait_->stream).socket().native_handle());
  struct Clear {
    std::atomic<int>& fd;
    ~Clear() { fd = -1; }
  } clear{wait_fd_};
  if (wait_interrupted_) throw_error(ErrorCode::MAPI_E_NETWORK_ERROR, "the notification wait was ended");
  // MS-OXCMAPIHTTP 2.2.4.4.1: Flags (reserved), no auxiliary buffer.
  Reply r = post_on(*wait_, emsmdb_path_, "NotificationWait", "application/mapi-http", std::string(8, '\0'), context_cookie_);
  Bytes body = mapi_body(r, "NotificationWait");
  BinaryReader in(body);
  const uint32_t status = in.u32(), error = in.u32();
  if (status != 0 || error != 0) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "NotificationWait failed with status " + std::to_string(status));
  return (in.u32() & 0x1) != 0;  // EventPending
}

void MapiHttpClient::interrupt_wait() noexcept {
  wait_interrupted_ = true;
  const int fd = wait_fd_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void MapiHttpClient::nspi_bind() {
  discover();
  // Bind (MS-OXCMAPIHTTP 2.2.5.1.1): Flags 0, a STAT (code page 65001: strings come as asked),
  // no auxiliary buffer.
  BinaryWriter w;
  w.u32(0);
  w.u8(0xFF);
  server::nspi::Stat stat;
  stat.code_page = 65001;
  server::nspi::write_stat(w, stat);
  w.u32(0);
  const Bytes& b = w.data();
  Reply r = post(nspi_path_, "Bind", "application/mapi-http", std::string(b.begin(), b.end()), "");
  Bytes body = mapi_body(r, "NSPI Bind");
  BinaryReader in(body);
  const uint32_t status = in.u32(), error = in.u32();
  if (status != 0) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "NSPI Bind at " + c_->server + " failed with status " + std::to_string(status));
  if (error != 0) throw_error(ErrorCode(error), "the address book of " + c_->server + " refused the Bind");
  nspi_cookie_ = r.set_cookie.substr(0, r.set_cookie.find(';'));
  if (nspi_cookie_.empty()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "NSPI Bind at " + c_->server + " gave no context cookie");
}

Bytes MapiHttpClient::nspi(const std::string& type, const Bytes& body) {
  Reply r = post(nspi_path_, type, "application/mapi-http", std::string(body.begin(), body.end()), nspi_cookie_);
  Bytes out = mapi_body(r, ("NSPI " + type).c_str());
  BinaryReader in(out);
  const uint32_t status = in.u32(), error = in.u32();
  if (status != 0) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "NSPI " + type + " failed with status " + std::to_string(status));
  // ErrorsReturned (0x00040380) is a success with some values missing.
  if (error != 0 && error != 0x00040380) throw_error(ErrorCode(error), "the address book of " + c_->server + " answered " + type + " with an error");
  return Bytes(out.begin() + 8, out.end());  // what follows ErrorCode
}

void MapiHttpClient::nspi_unbind() noexcept {
  if (nspi_cookie_.empty()) return;
  try {
    post(nspi_path_, "Unbind", "application/mapi-http", std::string(8, '\0'), nspi_cookie_);
  } catch (...) {
  }
  nspi_cookie_.clear();
}

// ---- RopBatch ----------------------------------------------------------------------------

RopBatch::~RopBatch() = default;

Slot RopBatch::known(uint32_t handle) {
  if (slots_.size() >= 255) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a ROP batch names at most 255 objects");
  slots_.push_back(handle);
  fresh_.push_back(false);
  kept_.push_back(false);
  return Slot(slots_.size() - 1);
}

Slot RopBatch::fresh() {
  const Slot s = known(0xFFFFFFFF);
  fresh_[s] = true;
  return s;
}

void RopBatch::keep(Slot s) { kept_.at(s) = true; }

void RopBatch::add(Bytes request, Parser parse, size_t failure_tail) { rops_.push_back({std::move(request), std::move(parse), failure_tail, false}); }
void RopBatch::add_silent(Bytes request) { rops_.push_back({std::move(request), {}, 0, true}); }

size_t RopBatch::pending_bytes() const {
  size_t n = 0;
  for (const auto& r : rops_) n += r.request.size();
  return n;
}

void RopBatch::send(size_t from, size_t to, std::optional<MapiError>& first_error, size_t& resend_from) {
  BinaryWriter rops;
  for (size_t i = from; i < to; ++i) rops.bytes(rops_[i].request);
  BinaryWriter buffer;
  buffer.u16(uint16_t(2 + rops.size()));
  buffer.bytes(rops.data());
  for (uint32_t h : slots_) buffer.u32(h);
  const Bytes out = execute_(buffer.data());
  BinaryReader r(out);
  const uint16_t rop_size = r.u16();
  if (rop_size < 2 || rop_size > out.size()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an Execute response with RopSize " + std::to_string(rop_size));
  BinaryReader responses(ByteView(out).subspan(2, rop_size - 2));
  BinaryReader table(ByteView(out).subspan(rop_size));
  // The handle table as the server left it: new objects in the output slots.
  for (size_t i = 0; i < slots_.size() && table.remaining() >= 4; ++i) slots_[i] = table.u32();
  resend_from = to;
  for (size_t i = from; i < to; ++i) {
    Rop& rop = rops_[i];
    if (rop.silent) continue;
    if (responses.at_end()) {  // the server stopped (an unknown ROP before): the rest did not run
      if (!first_error) first_error = MapiError(ErrorCode::MAPI_E_CALL_FAILED, "the server did not answer every ROP");
      return;
    }
    const uint8_t id = responses.u8();
    if (id == 0xFF) {  // RopBufferTooSmall: this ROP and the rest go again
      resend_from = i;
      return;
    }
    if (id != rop.request[0])
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a response to RopId " + std::to_string(id) + " where " + std::to_string(rop.request[0]) + " was sent");
    responses.u8();  // handle index
    const uint32_t rv = responses.u32();
    bool handled = false;
    if (rop.parse) handled = rop.parse(responses, rv);
    if (!handled && rv != 0) {
      if (rv == 0x00000503) responses.u32();  // ecDstNullObject: DestHandleIndex
      responses.skip(rop.failure_tail);
      if (!first_error) first_error = MapiError(ErrorCode(rv), "RopId 0x" + [&] {
                                                  char hex[3];
                                                  std::snprintf(hex, sizeof hex, "%02X", rop.request[0]);
                                                  return std::string(hex);
                                                }() + " failed");
    }
  }
  // What follows the answers: the session's notifications.
  if (notify_ && !responses.at_end()) notify_(responses.bytes(responses.remaining()));
}

void RopBatch::run() {
  // The releases waiting on the client go first (their objects are no longer used by anyone).
  if (client_ && !client_->pending_releases.empty()) {
    auto& pending = client_->pending_releases;
    const size_t n = std::min<size_t>({pending.size(), 64, 255 - slots_.size()});
    std::vector<Rop> releases;
    for (size_t i = 0; i < n; ++i) {
      Rop r;
      r.request = Bytes{0x01, 0x00, known(pending[i])};
      r.silent = true;
      releases.push_back(std::move(r));
    }
    pending.erase(pending.begin(), pending.begin() + long(n));
    rops_.insert(rops_.begin(), std::make_move_iterator(releases.begin()), std::make_move_iterator(releases.end()));
  }
  std::optional<MapiError> first_error;
  try {
    size_t at = 0;
    while (at < rops_.size()) {
      // As many ROPs as fit one request.
      size_t to = at, bytes = 0;
      while (to < rops_.size() && (to == at || bytes + rops_[to].request.size() <= kMaxRopRequest)) bytes += rops_[to++].request.size();
      size_t next = to;
      send(at, to, first_error, next);
      if (next == at) throw_error(ErrorCode::MAPI_E_TOO_BIG, "the server has no room for the answer of one ROP");
      at = next;
    }
  } catch (...) {
    rops_.clear();
    throw;
  }
  rops_.clear();
  // Objects opened for the batch only are released (the ROPs that failed opened none): with the
  // client's next batch, or at once without a client.
  BinaryWriter release;
  bool any = false;
  for (size_t i = 0; i < slots_.size(); ++i)
    if (fresh_[i] && !kept_[i] && slots_[i] != 0xFFFFFFFF) {
      fresh_[i] = false;
      if (client_) {
        client_->pending_releases.push_back(slots_[i]);
        continue;
      }
      release.u8(0x01);
      release.u8(0);
      release.u8(uint8_t(i));
      any = true;
    }
  if (any) {
    BinaryWriter buffer;
    buffer.u16(uint16_t(2 + release.size()));
    buffer.bytes(release.data());
    for (uint32_t h : slots_) buffer.u32(h);
    try {
      execute_(buffer.data());
    } catch (const MapiError&) {
    }
  }
  if (first_error) throw *first_error;
}

std::vector<PropValue> read_property_row(BinaryReader& r, const std::vector<PropTag>& columns) {
  const uint8_t kind = r.u8();
  if (kind > 1) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a PropertyRow of kind " + std::to_string(kind));
  std::vector<PropValue> row;
  row.reserve(columns.size());
  for (PropTag c : columns) {
    if (kind == 1) {
      const uint8_t flag = r.u8();
      if (flag == 0x0A || flag == 0x01) {
        const uint32_t code = flag == 0x0A ? r.u32() : uint32_t(ErrorCode::MAPI_E_NOT_FOUND);
        row.push_back(PropValue::error(c.id(), ErrorCode(code)));
        continue;
      }
      if (flag != 0x00) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a FlaggedPropertyValue with flag " + std::to_string(flag));
    }
    PropTag t = c;
    if (c.type() == PropType::Unspecified) t = PropTag(c.id(), PropType(r.u16()));
    if (t.type() == PropType::ErrorCode) {
      row.push_back(PropValue::error(c.id(), ErrorCode(r.u32())));
      continue;
    }
    row.push_back(server::read_rop_value(r, t));
  }
  return row;
}

std::vector<std::vector<PropValue>> read_address_book_rows(BinaryReader& r, std::vector<PropTag>* columns_out) {
  std::vector<std::vector<PropValue>> rows;
  if (!r.u8()) return rows;  // HasColumnsAndRows
  const uint32_t ncols = r.u32();
  if (ncols > 64 || size_t(ncols) * 4 > r.remaining())
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an NSPI row set claims " + std::to_string(ncols) + " columns");
  std::vector<PropTag> cols;
  for (uint32_t i = 0; i < ncols; ++i) cols.push_back(PropTag(r.u32()));
  const uint32_t nrows = r.u32();
  if (nrows > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an NSPI row set claims " + std::to_string(nrows) + " rows");
  for (uint32_t i = 0; i < nrows; ++i) {
    const bool flagged = r.u8() != 0;
    std::vector<PropValue> row;
    for (PropTag col : cols) {
      PropTag t = col;
      if (t.type() == PropType::Unspecified) t = t.with_type(PropType(r.u16()));  // AddressBookTypedPropertyValue
      if (flagged) {
        const uint8_t f = r.u8();
        if (f == 0x1) {  // no value
          row.push_back(PropValue::error(t.id(), ErrorCode::MAPI_E_NOT_FOUND));
          continue;
        }
        if (f == 0xA) {  // the value is an error code
          row.push_back(PropValue::error(t.id(), ErrorCode(r.u32())));
          continue;
        }
        if (f != 0x0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an NSPI value flag " + std::to_string(f));
      }
      if (t.type() == PropType::ErrorCode) {
        row.push_back(PropValue::error(t.id(), ErrorCode(r.u32())));
        continue;
      }
      row.push_back(server::nspi::read_value(r, t));
    }
    rows.push_back(std::move(row));
  }
  if (columns_out) *columns_out = cols;
  return rows;
}

}  // namespace openmapi::mapi
