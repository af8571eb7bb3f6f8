#include "server/mapihttp.h"

#include <openssl/rand.h>

#include <ctime>

#include "core/error.h"

namespace openmapi::server {

namespace mapihttp {

Bytes counted(BinaryReader& r) {
  const uint32_t n = r.u32();
  if (n > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a buffer claims " + std::to_string(n) + " bytes, " + std::to_string(r.remaining()) + " follow");
  return r.copy(n);
}

std::string http_date() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string random_token() {
  unsigned char b[24];
  RAND_bytes(b, sizeof b);
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

std::optional<std::string> cookie(const HttpRequest& req, const std::string& name) {
  const auto h = req.msg[http::field::cookie];
  std::string_view v(h.data(), h.size());
  while (!v.empty()) {
    const size_t semi = v.find(';');
    std::string_view part = v.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    v.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

HttpReply reply_for(const HttpRequest& req, const std::string& request_type, int code) {
  HttpReply r;
  r.msg.result(http::status::ok);
  r.request_type = request_type;
  r.msg.set("X-RequestType", request_type);
  for (const char* h : {"X-RequestId", "X-ClientInfo"}) {
    const auto v = req.msg[h];
    if (!v.empty()) r.msg.set(h, std::string(v.substr(0, 200)));
  }
  r.msg.set("X-ResponseCode", std::to_string(code));
  r.msg.set("X-ServerApplication", "Exchange/15.00.0847.4040");
  r.msg.set("X-PendingPeriod", "30000");
  return r;
}

HttpReply failure(const HttpRequest& req, const std::string& request_type, int code, const std::string& text) {
  HttpReply r = reply_for(req, request_type, code);
  r.msg.set(http::field::content_type, "text/html; charset=utf-8");
  r.msg.body() = text + "\n";
  return r;
}

HttpReply success(const HttpRequest& req, const std::string& request_type, ByteView body, Clock::time_point start, const std::string& start_date) {
  HttpReply r = reply_for(req, request_type, response_code::Success);
  r.msg.set(http::field::content_type, "application/mapi-http");
  r.msg.body() = mapi_http_body(body, start, start_date);
  return r;
}

std::optional<HttpReply> check_request(const HttpRequest& req, const std::string& type) {
  if (req.msg.method() != http::verb::post)
    return failure(req, type.empty() ? "-" : type, response_code::InvalidVerb, "MAPI over HTTP takes POST requests");
  if (type.empty()) return failure(req, "-", response_code::MissingHeader, "the X-RequestType header is missing");
  if (req.msg["X-RequestId"].empty()) return failure(req, type, response_code::MissingHeader, "the X-RequestId header is missing");
  return std::nullopt;
}

}  // namespace mapihttp

std::string mapi_http_body(ByteView body, std::chrono::steady_clock::time_point start, const std::string& start_date) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::string out = "PROCESSING\r\nDONE\r\nX-ElapsedTime: " + std::to_string(ms) + "\r\nX-StartTime: " + start_date + "\r\n\r\n";
  out.append(reinterpret_cast<const char*>(body.data()), body.size());
  return out;
}

}  // namespace openmapi::server
