// What the two MAPI over HTTP endpoints (MS-OXCMAPIHTTP: EMSMDB at /mapi/emsmdb/, NSPI at
// /mapi/nspi/) share: X-ResponseCode values, the common response headers, the framing of a
// successful body (PROCESSING / DONE meta-tags, X-ElapsedTime, X-StartTime), session-context
// cookies, counted buffers in request bodies.
// Thread safety: plain functions.
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "server/http.h"

namespace openmapi::server {

// MS-OXCMAPIHTTP 2.2.3.3.3 X-ResponseCode values used here.
namespace response_code {
inline constexpr int Success = 0;
inline constexpr int UnknownFailure = 1;
inline constexpr int InvalidVerb = 2;
inline constexpr int InvalidPath = 3;
inline constexpr int InvalidRequestType = 5;
inline constexpr int MissingHeader = 7;
inline constexpr int ContextNotFound = 10;
inline constexpr int NoPrivilege = 11;
inline constexpr int InvalidRequestBody = 12;
inline constexpr int MissingCookie = 13;
}  // namespace response_code

namespace mapihttp {

using Clock = std::chrono::steady_clock;

// The current time as an RFC 1123 date (X-StartTime).
std::string http_date();
// 48 random hex digits (session-context cookie values).
std::string random_token();
// The value of cookie `name` in the request's Cookie header.
std::optional<std::string> cookie(const HttpRequest& req, const std::string& name);
// A reply with the common headers (MS-OXCMAPIHTTP 2.2.3.2, 2.2.3.3): X-RequestType,
// X-RequestId and X-ClientInfo echoed, X-ResponseCode `code`, X-ServerApplication, X-PendingPeriod.
HttpReply reply_for(const HttpRequest& req, const std::string& request_type, int code);
// A failure the client reads as text (X-ResponseCode not 0).
HttpReply failure(const HttpRequest& req, const std::string& request_type, int code, const std::string& text);
// A successful reply: reply_for(…, 0), Content-Type application/mapi-http, the framed `body`.
HttpReply success(const HttpRequest& req, const std::string& request_type, ByteView body, Clock::time_point start, const std::string& start_date);
// The rest of `r` as a counted buffer: a uint32 size, then that many bytes (checked against what
// is there before anything is copied; MAPI_E_CORRUPT_DATA otherwise).
Bytes counted(BinaryReader& r);
// The checks every request makes (POST, X-RequestType, X-RequestId): the failure reply, or nullopt.
std::optional<HttpReply> check_request(const HttpRequest& req, const std::string& type);

}  // namespace mapihttp

// The framing of a successful MAPI/HTTP response: "PROCESSING\r\nDONE\r\nX-ElapsedTime: ms\r\n
// X-StartTime: date\r\n\r\n" and the body.
std::string mapi_http_body(ByteView body, std::chrono::steady_clock::time_point start, const std::string& start_date);

}  // namespace openmapi::server
