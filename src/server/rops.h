// The ROP processor (MS-OXCROPS): the ROP requests of one Execute, run against the objects of
// one EMSMDB session through the object model (store/objects.h), and the response buffer.
//
// Server object handles are numbered as Exchange numbers them: the LogonId in the top byte and
// a per-logon counter below it (the Logon of LogonId 0x0C is 0x0C000000, the next object opened
// on it 0x0C000001); they live across Execute requests until RopRelease, a new RopLogon with the
// same LogonId, or the end of the session.
//
// ROPs served (docs/ROPS.md is generated from kRopTable): see rop_table(). Every other RopId gets
// a response with ReturnValue ecNotSupported, and the ROPs after it in the same buffer are not
// run (their lengths are not known). A ROP that fails gets its own error response
// (RopId, handle index, ReturnValue); the next ROP runs.
// Bad input: every field is read with bounds checks; a truncated ROP ends the buffer with
// MAPI_E_CORRUPT_DATA (the Execute fails with its error code, the session stays); a handle index
// outside the handle table is ecNullObject for that ROP.
// Thread safety: one Execute at a time per RopSession (the EMSMDB session serialises them).
#pragma once
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/propvalue.h"
#include "server/http.h"
#include "server/users.h"

namespace openmapi::store {
class MapiProp;
}

namespace openmapi::server {

// MS-OXCDATA 2.4 error codes used in ROP responses.
namespace ec {
inline constexpr uint32_t None = 0;
inline constexpr uint32_t NotSupported = 0x80040102;
inline constexpr uint32_t NotFound = 0x8004010F;
inline constexpr uint32_t InvalidParameter = 0x80070057;
inline constexpr uint32_t NullObject = 0x000004B9;
inline constexpr uint32_t LoginPerm = 0x000003F2;
inline constexpr uint32_t UnknownUser = 0x000003EB;
inline constexpr uint32_t AccessDenied = 0x80070005;
}  // namespace ec

struct RopInfo {
  uint8_t id;
  const char* name;
  const char* spec;  // MS-OXCROPS section of its request buffer
};
// The ROPs this server runs, in RopId order.
const std::vector<RopInfo>& rop_table();
// docs/ROPS.md as made from rop_table() (a test keeps the file equal to it).
std::string rops_markdown();

// Notifications (MS-OXCNOTIF): RopRegisterNotification subscribes a notification object, and
// every contents or hierarchy table opened without NoNotifications is subscribed to its
// changes. Changes committed through any door queue here (on the store's notification thread);
// each Execute response carries the queued ones as RopNotify after the ROP responses, and
// RopPending when they do not all fit. NotificationWait waits through on_pending().
class RopSession {
 public:
  RopSession(ServerConfig config, User user);
  ~RopSession();
  // One ROP input buffer (RopSize, the ROPs, the server object handle table; MS-OXCROPS 2.2.1)
  // in, the ROP output buffer out. MAPI_E_CORRUPT_DATA for a buffer whose sizes do not hold.
  Bytes execute(ByteView payload, size_t max_out);
  size_t object_count() const { return objects_.size(); }

  // Whether notifications wait to be fetched by an Execute. Any thread.
  bool notifications_pending();
  // `wake` is called once (on the store's notification thread, or at once here if some are
  // pending already) when a notification is queued; a later call replaces an earlier `wake`,
  // and an empty function removes it. Any thread.
  void on_pending(std::function<void()> wake);

  struct Object;  // what a server handle names (src/server/rop_context.h)
  struct Queued;  // a notification not yet sent
  struct WideText;  // the UTF-16LE form of a stream on a string property
  // Queues a notification (the sinks of the subscriptions call it). Any thread.
  void queue(Queued q);

 private:
  friend struct RopContext;
  uint32_t add(uint8_t logon_id, std::shared_ptr<Object> o);
  void release(uint32_t handle);
  void append_notifications(BinaryWriter& out, size_t budget);

  ServerConfig config_;
  User user_;
  // Declared before objects_: the objects' subscriptions end (in their destructors) while the
  // queue they feed still exists.
  std::mutex notify_mutex_;
  std::deque<Queued> queued_;
  std::function<void()> wake_;
  std::map<uint32_t, std::shared_ptr<Object>> objects_;
  std::map<uint8_t, uint32_t> next_in_logon_;
};

// The MS-OXCDATA 2.8 PropertyRow of `values` for `columns`: a StandardPropertyRow when every
// value is there, else a FlaggedPropertyRow (0x0A and the error code for the missing ones);
// columns of type PtypUnspecified get a TypedPropertyValue. Counts as in ROP buffers
// (MS-OXCDATA 2.11.1.1: 16-bit byte counts for PtypBinary, 32-bit value counts for multi-values).
void write_property_row(BinaryWriter& w, const std::vector<PropTag>& columns, const std::vector<PropValue>& values);
// One value in ROP-buffer form (no tag), and back (MAPI_E_CORRUPT_DATA for a truncated one or a
// type no value can have: PtypUnspecified, PtypNull, PtypObject, PtypErrorCode).
void write_rop_value(BinaryWriter& w, const PropValue& v);
PropValue read_rop_value(BinaryReader& r, PropTag tag);

}  // namespace openmapi::server
