// Internal to the remote provider (src/mapi/remote*.cpp): the client side of MAPI over HTTP.
//
// MapiHttpClient is one keep-alive HTTPS connection to a server (Boost.Beast over OpenSSL, TLS
// 1.2 and 1.3 only, the peer verified against the system's or a given CA unless told not to),
// HTTP Basic credentials on every request, Autodiscover (MS-OXDSCLI POX with
// X-MapiHttpCapability) for the user's LegacyDN and the EMSMDB URL, and the EMSMDB request
// types Connect, Execute and Disconnect (MS-OXCMAPIHTTP 2.2.4) with the session cookies.
//
// RopBatch gathers ROP requests (MS-OXCROPS) for one or more Execute requests: each ROP names
// its objects by logical handle slots of the batch, which become server handles as the server
// answers, so a chain like OpenFolder -> GetContentsTable -> Release travels in one round trip.
// Responses are read in order by the parser each ROP came with; RopBufferTooSmall makes the
// batch send the remaining ROPs again (MS-OXCROPS 2.2.15.1), and requests are split so that no
// Execute carries more than about 24 KiB of ROPs.
//
// Errors: MAPI_E_NETWORK_ERROR for a server that cannot be reached or a connection that breaks
// (named with host and port), MAPI_E_LOGON_FAILED for credentials the server refuses (401),
// MAPI_E_END_OF_SESSION when the server no longer knows the session (X-ResponseCode 10),
// MAPI_E_CALL_FAILED for other refusals (with the server's text), MAPI_E_CORRUPT_DATA for a
// response that does not parse. A ROP that fails throws its ReturnValue as a MapiError after
// the batch's other responses were read.
// Thread safety: none; one thread at a time per client (the provider serialises its calls).
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/error.h"
#include "core/propvalue.h"

namespace openmapi::mapi {

struct RemoteOptions;

class MapiHttpClient {
 public:
  explicit MapiHttpClient(const RemoteOptions& options);
  ~MapiHttpClient();
  MapiHttpClient(const MapiHttpClient&) = delete;
  MapiHttpClient& operator=(const MapiHttpClient&) = delete;

  // Autodiscover: the user's LegacyDN and the EMSMDB and NSPI URLs.
  void discover();
  // Autodiscover, then Connect. Afterwards legacy_dn() and display_name() are the user's.
  void connect();
  // One Execute: a ROP input buffer (RopSize, ROPs, handle table) in, the ROP output buffer out.
  Bytes execute(const Bytes& rop_buffer);
  // Disconnect (best effort: errors are swallowed; the server expires the context anyway).
  void disconnect() noexcept;

  // NotificationWait (MS-OXCMAPIHTTP 2.2.4.4) on a second connection of the same session, so
  // that Execute requests go on meanwhile: blocks until the server has notifications for the
  // session (true) or its wait ended without (false). interrupt_wait(), from another thread,
  // ends a wait in progress (it throws MAPI_E_NETWORK_ERROR then).
  bool notification_wait();
  void interrupt_wait() noexcept;
  // Called with what an Execute response carries after the responses of its ROPs (RopNotify and
  // RopPending, MS-OXCROPS 2.2.14), by RopBatch and poll(); empty: those bytes are ignored.
  std::function<void(ByteView)> on_notify;
  // Server handles to release: RopRelease has no response, so the releases ride along with the
  // next RopBatch instead of costing a round trip each (at most 64 a batch).
  std::vector<uint32_t> pending_releases;

  // The address book endpoint (MS-OXCMAPIHTTP 2.2.5, after discover()): Bind gives the NSPI
  // context cookie the other requests carry, Unbind ends it. nspi() posts one request of `type`
  // and returns the body after StatusCode and ErrorCode; a failing ErrorCode throws as the MAPI
  // error it is (ErrorsReturned, some values missing, is a success).
  void nspi_bind();
  Bytes nspi(const std::string& type, const Bytes& body);
  void nspi_unbind() noexcept;

  const std::string& legacy_dn() const { return legacy_dn_; }
  const std::string& display_name() const { return display_name_; }
  const std::string& server() const;  // host:port, for messages

 private:
  struct Connection;
  struct Reply {
    unsigned status = 0;
    std::string response_code;  // X-ResponseCode
    std::string set_cookie;
    std::string body;
  };
  Reply post(const std::string& path, const std::string& request_type, const std::string& content_type, const std::string& body,
             const std::string& cookie);
  // The binary part of a successful MAPI/HTTP reply (after the meta-tags), or the error it is.
  Bytes mapi_body(const Reply& r, const char* what);

  Reply post_on(Connection& c, const std::string& path, const std::string& request_type, const std::string& content_type,
                const std::string& body, const std::string& cookie);

  std::unique_ptr<Connection> c_;
  std::unique_ptr<Connection> wait_;  // NotificationWait's connection (made on first use)
  std::atomic<int> wait_fd_{-1};      // its socket while a wait is in progress
  std::atomic<bool> wait_interrupted_{false};
  std::string legacy_dn_, display_name_;
  std::string emsmdb_path_ = "/mapi/emsmdb/";
  std::string context_cookie_;  // "MapiContext=..."
  std::string nspi_path_ = "/mapi/nspi/";
  std::string nspi_cookie_;  // the NSPI context's cookie
  bool discovered_ = false;
  uint64_t request_id_ = 0;
};

// One logical object of a batch: a server handle once known.
using Slot = uint8_t;

class RopBatch {
 public:
  // Sends through `client`; or through `execute` (a ROP input buffer in, the output buffer out:
  // what the fuzz target and tests put in place of a server).
  using Transport = std::function<Bytes(const Bytes&)>;
  explicit RopBatch(MapiHttpClient& client)
      : client_(&client), execute_([&client](const Bytes& b) { return client.execute(b); }), notify_(client.on_notify) {}
  explicit RopBatch(Transport execute) : execute_(std::move(execute)) {}
  ~RopBatch();

  // A slot for an object whose server handle is known (the logon, a table kept open).
  Slot known(uint32_t handle);
  // A slot for an object a ROP of this batch opens (OutputHandleIndex).
  Slot fresh();
  // The server handle of a slot after the batch ran (0xFFFFFFFF when its ROP failed).
  uint32_t handle(Slot s) const { return slots_.at(s); }
  // Keeps the object of `s` open after the batch (otherwise every fresh slot still open at the
  // end of run() is released, so no object leaks on the server when a ROP fails midway).
  void keep(Slot s);

  // Reads one response: `r` starts after RopId, the handle index and ReturnValue; `rv` is the
  // ReturnValue. Return true when the response was handled (also for an accepted failure);
  // false lets the batch treat a non-zero ReturnValue as the ROP's error.
  using Parser = std::function<bool(BinaryReader& r, uint32_t rv)>;
  // Appends a ROP: `request` is its whole request (RopId first); `failure_tail` the bytes its
  // error response carries after ReturnValue (PartialCompletion and the like).
  void add(Bytes request, Parser parse = {}, size_t failure_tail = 0);
  // A ROP without a response (RopRelease).
  void add_silent(Bytes request);
  size_t pending_bytes() const;

  // Sends what was added (in as many Executes as needed) and runs the parsers; then throws the
  // first ROP error, if any. The batch can be used again afterwards.
  void run();

 private:
  struct Rop {
    Bytes request;
    Parser parse;
    size_t failure_tail = 0;
    bool silent = false;
  };
  void send(size_t from, size_t to, std::optional<MapiError>& first_error, size_t& resend_from);
  MapiHttpClient* client_ = nullptr;  // for its pending releases
  Transport execute_;
  std::function<void(ByteView)> notify_;
  std::vector<uint32_t> slots_;
  std::vector<bool> fresh_, kept_;
  std::vector<Rop> rops_;
};

// The MS-OXCDATA 2.8 PropertyRow of `columns` (StandardPropertyRow or FlaggedPropertyRow, typed
// values for PtypUnspecified columns): a value per column, PtypErrorCode for the missing.
std::vector<PropValue> read_property_row(BinaryReader& r, const std::vector<PropTag>& columns);

// The HasColumnsAndRows part of NSPI responses (MS-OXCMAPIHTTP 2.2.1.2, 2.2.1.3): nothing when
// the flag is 0; else the columns (in `columns` when given) and each AddressBookPropertyRow as
// its values, PtypErrorCode for those the server flags as missing. At most 64 columns;
// MAPI_E_CORRUPT_DATA for counts larger than what follows.
std::vector<std::vector<PropValue>> read_address_book_rows(BinaryReader& r, std::vector<PropTag>* columns = nullptr);

}  // namespace openmapi::mapi
