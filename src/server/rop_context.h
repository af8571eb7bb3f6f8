// Internal to the ROP processor (src/server/rops*.cpp): the objects behind server handles, the
// context one ROP runs in, and the handler tables of each area. Not a public header.
//
// A handler reads its request fields from `c.in` (bounds-checked: a truncated ROP throws
// MAPI_E_CORRUPT_DATA, which ends the buffer), sets `c.index` to the handle index its response
// names as soon as it has read it, and writes its whole response (c.header(...) first) to
// `c.out`. A handler that fails throws RopFailure{ec} or a MapiError; the dispatcher then writes
// the error response (RopId, c.index, ReturnValue) in place of whatever the handler began.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/entryid.h"
#include "core/error.h"
#include "server/rops.h"
#include "store/notify.h"
#include "store/objects.h"
#include "store/store.h"

namespace openmapi::server {

inline constexpr uint16_t kReplId = 1;  // the local replica (store/sqlite: kLocalReplicaId)

// MS-OXCDATA 2.2.1.1 ids (ReplicaId + GlobalCounter) for our objects, and back.
inline uint64_t wire_id(uint64_t counter) { return ObjectId{kReplId, GlobalCounter(counter)}.to_u64(); }
inline uint64_t fid(store::FolderId id) { return wire_id(uint64_t(id)); }
inline store::FolderId folder_of(uint64_t wire) { return store::FolderId(ObjectId::from_u64(wire).gc); }
inline store::MessageId message_of(uint64_t wire) { return store::MessageId(ObjectId::from_u64(wire).gc); }

// A ROP that fails with `code` (its error response is written by the dispatcher).
struct RopFailure {
  uint32_t code;
};
inline constexpr uint32_t ecDstNullObject = 0x00000503;

struct RopSession::WideText {
  Bytes data;
  bool writable = false;
  bool dirty = false;  // written since the last flush into the store's stream
};

struct RopSession::Object {
  enum class Kind { Logon, Folder, Table, Message, Attach, Stream, Notification } kind;
  uint8_t logon_id = 0;
  std::shared_ptr<store::Logon> logon;
  std::shared_ptr<store::Folder> folder;
  std::shared_ptr<store::Table> table;
  std::shared_ptr<store::Message> message;
  std::shared_ptr<store::Attach> attach;
  std::shared_ptr<store::Stream> stream;
  bool contents_table = false;              // a Table: of messages (else of folders, or attachments)
  // A Stream on a PtypString property: its UTF-16LE form (shared with clones) and the position
  // in it (rops_property.cpp).
  std::shared_ptr<WideText> wide;
  uint64_t wide_pos = 0;
  std::optional<uint32_t> advise;           // a Notification's Logon connection, or a Table's own
  ~Object() {
    // The subscription ends before the object: no sink runs for it after this.
    if (!advise) return;
    try {
      if (kind == Kind::Table && table) table->unadvise(*advise);
      else if (logon) logon->unadvise(*advise);
    } catch (const MapiError&) {  // the logon ended first (its subscriptions with it)
    }
  }
};

// A notification waiting for an Execute: an object event (from a notification object) or a
// table's (from a table), with the handle it is for.
struct RopSession::Queued {
  uint32_t handle = 0;
  uint8_t logon_id = 0;
  std::optional<store::Notification> object;
  std::optional<store::TableNotification> table;
  uint64_t table_folder = 0;     // the table's folder
  bool contents_table = false;
  std::vector<PropTag> columns;  // the table's columns when it was queued
};
using Kind = RopSession::Object::Kind;
using ObjectPtr = std::shared_ptr<RopSession::Object>;

// One ROP of one Execute: the request buffer, the handle table, the output.
struct RopContext {
  RopSession& s;
  BinaryReader in;
  BinaryWriter out;
  std::vector<uint32_t>& handles;
  size_t max_out;
  uint8_t id = 0;       // the RopId being run
  uint8_t index = 0;    // the handle index its response names
  bool respond = true;  // false: this ROP has no response (RopRelease)
  // What the error response of this ROP carries after its ReturnValue (e.g. PartialCompletion),
  // and for ecDstNullObject the DestHandleIndex first.
  Bytes failure_tail;
  std::optional<uint8_t> null_destination;

  const ServerConfig& config() const { return s.config_; }
  const User& user() const { return s.user_; }

  uint32_t& slot(uint8_t i) {
    if (i >= handles.size()) throw RopFailure{ec::NullObject};
    return handles[i];
  }
  ObjectPtr object(uint8_t i) {
    auto it = s.objects_.find(slot(i));
    if (it == s.objects_.end()) throw RopFailure{ec::NullObject};
    return it->second;
  }
  // The object at `i`, which this ROP needs to be of `kind` (ecNotSupported otherwise).
  ObjectPtr object(uint8_t i, Kind kind) {
    auto o = object(i);
    if (o->kind != kind) throw RopFailure{ec::NotSupported};
    return o;
  }
  // A ROP's input object at handle index `i`: c.index names it in the response.
  ObjectPtr input(Kind kind) { return object(index, kind); }
  // The destination object of a two-object ROP: a missing one is ecDstNullObject, whose response
  // names DestHandleIndex.
  ObjectPtr destination(uint8_t i, Kind kind) {
    auto it = i < handles.size() ? s.objects_.find(handles[i]) : s.objects_.end();
    if (it == s.objects_.end()) {
      null_destination = i;
      throw RopFailure{ecDstNullObject};
    }
    if (it->second->kind != kind) throw RopFailure{ec::NotSupported};
    return it->second;
  }
  // A new object of `kind` opened from `parent`, on its logon.
  static ObjectPtr derived(const RopSession::Object& parent, Kind kind) {
    auto o = std::make_shared<RopSession::Object>();
    o->kind = kind;
    o->logon_id = parent.logon_id;
    o->logon = parent.logon;
    return o;
  }
  // Registers `o` under the next handle of its logon and puts that handle in `out_slot`.
  void add(uint32_t& out_slot, ObjectPtr o) {
    const uint8_t logon_id = o->logon_id;  // before the move: argument order is unspecified
    out_slot = s.add(logon_id, std::move(o));
  }
  void release(uint32_t handle) { s.release(handle); }
  std::map<uint32_t, ObjectPtr>& objects() { return s.objects_; }

  // Request-field helpers (all bounds-checked against the buffer before anything is allocated).
  std::vector<PropTag> tags(uint16_t count) {
    if (size_t(count) * 4 > in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a property tag array longer than the ROP buffer");
    std::vector<PropTag> t;
    t.reserve(count);
    for (uint16_t i = 0; i < count; ++i) t.push_back(PropTag(in.u32()));
    return t;
  }
  std::vector<uint64_t> ids(uint16_t count) {
    if (size_t(count) * 8 > in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an id list longer than the ROP buffer");
    std::vector<uint64_t> v;
    v.reserve(count);
    for (uint16_t i = 0; i < count; ++i) v.push_back(in.u64());
    return v;
  }
  // A u16-counted blob (restrictions, bookmarks, collapse states).
  ByteView sized16() {
    const uint16_t n = in.u16();
    if (n > in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a field claims " + std::to_string(n) + " bytes, " + std::to_string(in.remaining()) + " follow");
    return in.bytes(n);
  }
  // An 8-bit or UTF-16 NUL-terminated string, as the ROP's Unicode flag says.
  std::string string(bool unicode) { return unicode ? in.utf16z() : in.str8z(); }

  static store::MapiProp& prop_object(RopSession::Object& o) {
    switch (o.kind) {
      case Kind::Logon: return *o.logon;
      case Kind::Folder: return *o.folder;
      case Kind::Message: return *o.message;
      case Kind::Attach: return *o.attach;
      default: throw RopFailure{ec::NotSupported};
    }
  }
  void header(uint8_t rop, uint8_t i, uint32_t rv = ec::None) {
    out.u8(rop);
    out.u8(i);
    out.u32(rv);
  }
  // The success header of the running ROP.
  void ok() { header(id, index); }
};

using RopHandler = void (*)(RopContext&);
struct RopEntry {
  RopInfo info;
  RopHandler run;
};

// The handlers of each area, in any order (rops.cpp merges them into the dispatch table).
std::span<const RopEntry> store_rops();     // rops_store.cpp: logon, receive folders, ids, transport
std::span<const RopEntry> folder_rops();    // rops_folder.cpp: folders and the messages in them
std::span<const RopEntry> table_rops();     // rops_table.cpp
std::span<const RopEntry> message_rops();   // rops_message.cpp: messages, recipients, attachments
std::span<const RopEntry> property_rops();  // rops_property.cpp: properties, named properties, streams
std::span<const RopEntry> notify_rops();    // rops_notify.cpp: RegisterNotification

// Subscribes the table of `o` (a contents or hierarchy table just opened) to its changes,
// queued for its handle; tables that cannot be advised are left as they are.
void advise_table(RopContext& c, RopSession::Object& o, uint32_t handle);
// RopNotify's NotificationData (MS-OXCROPS 2.2.14.2) for `q`, which is for `target` (the table
// or notification object of its handle); nullopt when it cannot be told.
std::optional<Bytes> notification_data(RopSession::Object* target, const RopSession::Queued& q);

// Hands a Stream object's writes to the store's stream (its UTF-16 copy first, as UTF-8) and
// commits it: RopCommitStream, RopWriteAndCommitStream, and RopRelease of a stream.
void flush_stream(RopSession::Object& o);

// Shared response pieces.
// MS-OXCDATA 2.7 PropertyProblem array with its u16 count.
void write_problems(BinaryWriter& w, const store::PropProblems& problems);
// The reply of RopOpenMessage after its first fields (HasNamedProperties .. RecipientRows), also
// that of RopReloadCachedInformation and the tail of RopOpenEmbeddedMessage.
void write_message_summary(BinaryWriter& w, store::Message& m);

}  // namespace openmapi::server
