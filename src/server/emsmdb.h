// The EMSMDB endpoint of MAPI over HTTP (MS-OXCMAPIHTTP): /mapi/emsmdb/ with the request types
// Connect, Disconnect, Execute and PING, session contexts in a cookie, and the response framing
// (PROCESSING / DONE meta-tags, X-ElapsedTime, X-StartTime, X-RequestId echoed, X-ResponseCode).
//
// What is done: Connect (checks the UserDn against the authenticated user, answers the DN
// prefix and display name), Disconnect, PING, Execute (its request body and RPC_HEADER_EXT
// buffers: XOR obfuscation and LZ77 compression undone, the ROPs run by the session's
// RopSession (rops.h), responses compressed unless the client says NoCompression, 32 KiB per
// buffer), and NotificationWait (a long poll answered when a notification is queued, or after
// kNotificationWaitMax). What is not: the sequence cookie, auxiliary buffers (read and ignored).
//
// Bad input: bodies are read with bounds checks (BinaryReader); a size field larger than what
// follows is X-ResponseCode 12 (invalid request body), nothing is allocated for it. Unknown
// request types: 5; a missing or unknown session cookie: 10 (context not found); another user's
// context: 11 (no privilege).
// Thread safety: handle() may be called from several threads; sessions are guarded.
#pragma once
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "server/http.h"
#include "server/mapihttp.h"
#include "server/rops.h"
#include "server/users.h"

namespace openmapi::server {


// The request and response bodies (MS-OXCMAPIHTTP 2.2.4.1, 2.2.4.2).
struct ConnectRequest {
  std::string user_dn;
  uint32_t flags = 0, default_code_page = 0, lcid_sort = 0, lcid_string = 0;
  Bytes auxiliary;
};
// MAPI_E_CORRUPT_DATA for a body that is not one.
ConnectRequest parse_connect_request(ByteView body);
struct ConnectResponse {
  uint32_t status = 0, error = 0, polls_max = 60000, retry_count = 6, retry_delay = 10000;
  std::string dn_prefix, display_name;
  Bytes auxiliary;
};
Bytes serialize(const ConnectResponse& r);

struct ExecuteRequest {
  uint32_t flags = 0;
  Bytes rop_buffer;
  uint32_t max_rop_out = 0;
  Bytes auxiliary;
};
ExecuteRequest parse_execute_request(ByteView body);
struct ExecuteResponse {
  uint32_t status = 0, error = 0, flags = 0;
  Bytes rop_buffer;
  Bytes auxiliary;
};
Bytes serialize(const ExecuteResponse& r);

// MS-OXCRPC 2.2.2.1 RPC_HEADER_EXT and the buffers it frames: the payloads of a chained buffer,
// each de-obfuscated (XorMagic, MS-OXCRPC 3.1.4.1.1.3) and decompressed (Compressed: LZ77 +
// DIRECT2, 3.1.4.1.1.2; core/lz77.h). MAPI_E_CORRUPT_DATA for a malformed one, including a
// compressed payload that does not decompress to exactly its SizeActual.
struct RpcHeaderExt {
  uint16_t version = 0, flags = 0, size = 0, size_actual = 0;
};
namespace rpc_flags {
inline constexpr uint16_t Compressed = 0x0001;
inline constexpr uint16_t XorMagic = 0x0002;
inline constexpr uint16_t Last = 0x0004;
}  // namespace rpc_flags
std::vector<Bytes> parse_rpc_buffers(ByteView buffer);
// One buffer with the Last flag: compressed when `compress` and that makes it smaller, never
// obfuscated. MAPI_E_TOO_BIG for a payload over 64 KiB.
Bytes frame_rpc_buffer(ByteView payload, bool compress = false);
// Execute request Flags (MS-OXCRPC 3.1.4.2 pulFlags).
namespace execute_flags {
inline constexpr uint32_t NoCompression = 0x0001;
inline constexpr uint32_t NoXorMagic = 0x0002;
inline constexpr uint32_t Chain = 0x0004;
}  // namespace execute_flags
// The most ROP output one response buffer carries (MS-OXCRPC 3.1.4.2.1.1.1: 32 KiB).
inline constexpr size_t kMaxRopOutPerBuffer = 0x8000;

class Emsmdb {
 public:
  Emsmdb(ServerConfig config, std::string dn_prefix);
  HttpReply handle(const HttpRequest& req, const User& user);
  size_t session_count();

  static constexpr std::chrono::minutes kContextLifetime{30};
  // The longest a NotificationWait is held without an event (then it answers EventPending 0
  // and the client asks again); below X-PendingPeriod, so no keep-alive is needed meanwhile.
  static constexpr std::chrono::seconds kNotificationWaitMax{25};

 private:
  struct Session {
    std::string user;  // the address, lower case
    std::atomic<std::chrono::steady_clock::time_point> last_use;  // also set when a NotificationWait ends
    std::mutex execute_mutex;    // one Execute at a time per context
    std::unique_ptr<RopSession> rops;
  };
  HttpReply connect(const HttpRequest& req, const User& user);
  HttpReply execute(const HttpRequest& req, const std::shared_ptr<Session>& s);
  HttpReply disconnect(const HttpRequest& req, const std::string& cookie);
  HttpReply notification_wait(const HttpRequest& req, const std::shared_ptr<Session>& s);
  // The session of the request's MapiContext cookie, or the reply that says why there is none.
  std::shared_ptr<Session> session_of(const HttpRequest& req, const User& user, HttpReply& reply, std::string& cookie);
  void expire();

  ServerConfig config_;
  std::string dn_prefix_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;  // by cookie value
};


}  // namespace openmapi::server
