#include "server/rops.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/entryid.h"
#include "core/error.h"
#include "core/unicode.h"
#include "core/propvalue.h"
#include "core/sortorder.h"
#include "server/frontend.h"
#include "store/data_dir.h"
#include "store/objects.h"
#include "store/store.h"

namespace openmapi::server {

namespace {

constexpr uint16_t kReplId = 1;  // the local replica (store/sqlite: kLocalReplicaId)

uint64_t fid(store::FolderId id) { return ObjectId{kReplId, GlobalCounter(id)}.to_u64(); }
store::FolderId folder_of(uint64_t wire) { return store::FolderId(ObjectId::from_u64(wire).gc); }

// A ROP that fails with `code` (its error response is written by the dispatcher).
struct RopFailure {
  uint32_t code;
};

}  // namespace

const std::vector<RopInfo>& rop_table() {
  static const std::vector<RopInfo> t = {
      {0x01, "RopRelease", "2.2.15.3"},
      {0x02, "RopOpenFolder", "2.2.4.1"},
      {0x03, "RopOpenMessage", "2.2.6.1"},
      {0x04, "RopGetHierarchyTable", "2.2.4.13"},
      {0x05, "RopGetContentsTable", "2.2.4.14"},
      {0x06, "RopCreateMessage", "2.2.6.2"},
      {0x07, "RopGetPropertiesSpecific", "2.2.8.3"},
      {0x08, "RopGetPropertiesAll", "2.2.8.4"},
      {0x09, "RopGetPropertiesList", "2.2.8.5"},
      {0x0A, "RopSetProperties", "2.2.8.6"},
      {0x0C, "RopSaveChangesMessage", "2.2.6.3"},
      {0x12, "RopSetColumns", "2.2.5.1"},
      {0x13, "RopSortTable", "2.2.5.2"},
      {0x15, "RopQueryRows", "2.2.5.4"},
      {0x16, "RopGetStatus", "2.2.5.5"},
      {0x17, "RopQueryPosition", "2.2.5.7"},
      {0x18, "RopSeekRow", "2.2.5.8"},
      {0x1C, "RopCreateFolder", "2.2.4.2"},
      {0x1D, "RopDeleteFolder", "2.2.4.3"},
      {0x1E, "RopDeleteMessages", "2.2.4.11"},
      {0x21, "RopGetAttachmentTable", "2.2.6.17"},
      {0x22, "RopOpenAttachment", "2.2.6.12"},
      {0x27, "RopGetReceiveFolder", "2.2.3.2"},
      {0x2B, "RopOpenStream", "2.2.9.1"},
      {0x2C, "RopReadStream", "2.2.9.2"},
      {0x2E, "RopSeekStream", "2.2.9.8"},
      {0x5E, "RopGetStreamSize", "2.2.9.6"},
      {0x66, "RopSetReadFlags", "2.2.6.10"},
      {0x91, "RopHardDeleteMessages", "2.2.4.12"},
      {0xFE, "RopLogon", "2.2.3.1"},
  };
  return t;
}

std::string rops_markdown() {
  std::string md =
      "# ROPs served by `openmapi serve`\n\n"
      "Generated from the dispatch table (`rop_table()` in src/server/rops.cpp); "
      "`tests/server/rops_test.cpp` fails when this file and the table differ.\n\n"
      "Every other ROP is answered with ReturnValue ecNotSupported (0x80040102), and the ROPs after it in the same "
      "Execute are not run. A ROP that fails gets its own error response and the next ROP runs.\n\n"
      "| RopId | ROP | MS-OXCROPS |\n| --- | --- | --- |\n";
  char id[8];
  for (const auto& r : rop_table()) {
    std::snprintf(id, sizeof id, "0x%02X", r.id);
    md += std::string("| ") + id + " | " + r.name + " | " + r.spec + " |\n";
  }
  md += "\n" + std::to_string(rop_table().size()) + " ROPs.\n";
  return md;
}

struct RopSession::Object {
  enum class Kind { Logon, Folder, Table, Message, Attach, Stream } kind;
  uint8_t logon_id = 0;
  std::shared_ptr<store::Logon> logon;
  std::shared_ptr<store::Folder> folder;
  std::shared_ptr<store::Table> table;
  std::shared_ptr<store::Message> message;
  std::shared_ptr<store::Attach> attach;
  std::shared_ptr<store::Stream> stream;
};

RopSession::RopSession(ServerConfig config, User user) : config_(std::move(config)), user_(std::move(user)) {}
RopSession::~RopSession() = default;

uint32_t RopSession::add(uint8_t logon_id, std::shared_ptr<Object> o) {
  uint32_t& n = next_in_logon_[logon_id];
  if (n >= 0x00FFFFFF) throw RopFailure{uint32_t(ErrorCode::MAPI_E_NOT_ENOUGH_RESOURCES)};  // the logon's counter ran out
  const uint32_t handle = (uint32_t(logon_id) << 24) | ++n;
  objects_[handle] = std::move(o);
  return handle;
}

void RopSession::release(uint32_t handle) {
  auto it = objects_.find(handle);
  if (it == objects_.end()) return;
  if (it->second->kind == Object::Kind::Logon) {
    // A Logon's release ends everything opened on it.
    const uint8_t id = it->second->logon_id;
    for (auto o = objects_.begin(); o != objects_.end();) o = o->second->logon_id == id ? objects_.erase(o) : std::next(o);
    next_in_logon_.erase(id);
    return;
  }
  objects_.erase(it);
}

void write_rop_value(BinaryWriter& w, const PropValue& v) {
  // MS-OXCDATA 2.11.1.1: in ROP buffers a PtypBinary byte count is 16 bits, a multi-value count 32.
  switch (v.type()) {
    case PropType::Binary: {
      const auto& b = v.get<Bytes>();
      w.u16(uint16_t(std::min<size_t>(b.size(), 0xFFFF)));
      w.bytes(ByteView(b.data(), std::min<size_t>(b.size(), 0xFFFF)));
      return;
    }
    case PropType::MultipleBinary: {
      const auto& bs = std::get<std::vector<Bytes>>(v.storage());
      w.u32(uint32_t(bs.size()));
      for (const auto& b : bs) {
        w.u16(uint16_t(std::min<size_t>(b.size(), 0xFFFF)));
        w.bytes(ByteView(b.data(), std::min<size_t>(b.size(), 0xFFFF)));
      }
      return;
    }
    default: write_value(w, v, true);
  }
}

PropValue read_rop_value(BinaryReader& r, PropTag tag) {
  // The counts of write_rop_value: 16-bit for PtypBinary, 32-bit for multi-values.
  switch (tag.type()) {
    case PropType::Binary: return PropValue::binary(tag, r.copy(r.u16()));
    case PropType::MultipleBinary: {
      const uint32_t n = r.u32();
      if (size_t(n) * 2 > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a multi-valued binary claims more values than follow");
      std::vector<Bytes> values;
      for (uint32_t i = 0; i < n; ++i) values.push_back(r.copy(r.u16()));
      return PropValue(tag, std::move(values));
    }
    case PropType::Unspecified:
    case PropType::Null:
    case PropType::Object:
    case PropType::ErrorCode:
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a property value of type " + tag.hex() + " cannot be set");
    default: return read_value(r, tag, true);
  }
}

void write_property_row(BinaryWriter& w, const std::vector<PropTag>& columns, const std::vector<PropValue>& values) {
  bool flagged = false;
  for (const auto& v : values) flagged = flagged || v.type() == PropType::ErrorCode;
  w.u8(flagged ? 0x01 : 0x00);
  for (size_t i = 0; i < columns.size(); ++i) {
    const PropValue& v = values.at(i);
    const bool error = v.type() == PropType::ErrorCode && columns[i].type() != PropType::ErrorCode;
    if (flagged) w.u8(error ? 0x0A : 0x00);
    if (error) {
      w.u32(uint32_t(v.get<int32_t>()));
      continue;
    }
    if (columns[i].type() == PropType::Unspecified) w.u16(uint16_t(v.type()));  // TypedPropertyValue
    write_rop_value(w, v);
  }
}

// One Execute: the request buffer, the handle table and the output.
struct RopContext {
  RopSession& s;
  BinaryReader in;
  BinaryWriter out;
  std::vector<uint32_t>& handles;

  uint32_t& slot(uint8_t index) {
    if (index >= handles.size()) throw RopFailure{ec::NullObject};
    return handles[index];
  }
  std::shared_ptr<RopSession::Object> object(uint8_t index) {
    auto it = s.objects_.find(slot(index));
    if (it == s.objects_.end()) throw RopFailure{ec::NullObject};
    return it->second;
  }
  // The object at `index`, which this ROP needs to be of `kind` (ecNotSupported otherwise).
  std::shared_ptr<RopSession::Object> object(uint8_t index, RopSession::Object::Kind kind) {
    auto o = object(index);
    if (o->kind != kind) throw RopFailure{ec::NotSupported};
    return o;
  }
  // A new object of `kind` opened from `parent`, on its logon.
  static std::shared_ptr<RopSession::Object> derived(const RopSession::Object& parent, RopSession::Object::Kind kind) {
    auto o = std::make_shared<RopSession::Object>();
    o->kind = kind;
    o->logon_id = parent.logon_id;
    o->logon = parent.logon;
    return o;
  }
  std::vector<PropTag> tags(uint16_t count) {
    if (size_t(count) * 4 > in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a property tag array longer than the ROP buffer");
    std::vector<PropTag> t;
    for (uint16_t i = 0; i < count; ++i) t.push_back(PropTag(in.u32()));
    return t;
  }
  static store::MapiProp& prop_object(RopSession::Object& o) {
    switch (o.kind) {
      case RopSession::Object::Kind::Logon: return *o.logon;
      case RopSession::Object::Kind::Folder: return *o.folder;
      case RopSession::Object::Kind::Message: return *o.message;
      case RopSession::Object::Kind::Attach: return *o.attach;
      default: throw RopFailure{ec::NotSupported};
    }
  }
  void header(uint8_t rop, uint8_t index, uint32_t rv = ec::None) {
    out.u8(rop);
    out.u8(index);
    out.u32(rv);
  }
};

namespace {

void logon_time(BinaryWriter& w) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  w.u8(uint8_t(tm.tm_sec));
  w.u8(uint8_t(tm.tm_min));
  w.u8(uint8_t(tm.tm_hour));
  w.u8(uint8_t(tm.tm_wday));
  w.u8(uint8_t(tm.tm_mday));
  w.u8(uint8_t(tm.tm_mon + 1));
  w.u16(uint16_t(tm.tm_year + 1900));
}

}  // namespace

Bytes RopSession::execute(ByteView payload, size_t max_out) {
  BinaryReader head(payload);
  const uint16_t rop_size = head.u16();
  if (rop_size < 2 || rop_size > payload.size())
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "RopSize " + std::to_string(rop_size) + " does not fit a buffer of " + std::to_string(payload.size()));
  const ByteView rops = payload.subspan(2, rop_size - 2), table = payload.subspan(rop_size);
  if (table.size() % 4 != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "the server object handle table is not a whole number of handles");
  std::vector<uint32_t> handles;
  BinaryReader th(table);
  while (!th.at_end()) handles.push_back(th.u32());

  RopContext c{*this, BinaryReader(rops), BinaryWriter(), handles};
  bool stop = false;
  while (!stop && !c.in.at_end()) {
    const size_t rop_start = c.in.position();
    const uint8_t id = c.in.u8();
    uint8_t index = 0;  // the handle index its response names
    try {
      switch (id) {
        case 0xFE: {  // RopLogon
          const uint8_t logon_id = c.in.u8();
          index = c.in.u8();
          const uint8_t flags = c.in.u8();
          c.in.u32();  // OpenFlags
          c.in.u32();  // StoreState
          const uint16_t essdn_size = c.in.u16();
          ByteView essdn = c.in.bytes(essdn_size);
          std::string dn(reinterpret_cast<const char*>(essdn.data()), essdn.size());
          if (auto nul = dn.find('\0'); nul != std::string::npos) dn.resize(nul);
          if (!(flags & 0x01)) throw RopFailure{ec::NotSupported};  // public folders: not yet
          if (!dn.empty() && ascii_lower(dn) != ascii_lower(user_legacy_dn(config_.organization, user_.address))) throw RopFailure{ec::LoginPerm};
          uint32_t& out_slot = c.slot(index);
          // A LogonId in use: that logon ends first (MS-OXCROPS 2.2.3.1.1).
          for (auto it = objects_.begin(); it != objects_.end(); ++it)
            if (it->second->logon_id == logon_id && it->second->kind == Object::Kind::Logon) {
              release(it->first);
              break;
            }
          std::shared_ptr<store::Mailbox> mb = store::open_sqlite_mailbox(store::mailbox_file(config_.data_dir, user_.mailbox));
          auto o = std::make_shared<Object>();
          o->kind = Object::Kind::Logon;
          o->logon_id = logon_id;
          o->logon = store::Logon::open(mb, store::LogonIdentity{user_.address});
          const uint32_t handle = uint32_t(logon_id) << 24;
          objects_[handle] = o;
          next_in_logon_[logon_id] = 0;
          out_slot = handle;
          c.header(0xFE, index);
          c.out.u8(flags & 0x07);  // Private, Undercover, Ghosted as asked
          using SF = store::SpecialFolder;
          for (SF f : {SF::Root, SF::DeferredAction, SF::SpoolerQueue, SF::IpmSubtree, SF::Inbox, SF::Outbox, SF::SentItems,
                       SF::DeletedItems, SF::CommonViews, SF::Schedule, SF::Finder, SF::Views, SF::Shortcuts})
            c.out.u64(fid(mb->special_folder(f)));
          c.out.u8(0x01 | 0x02 | 0x04);  // Reserved, OwnerRight, SendAsRight
          c.out.bytes(mb->mailbox_guid().bytes);
          c.out.u16(kReplId);
          c.out.bytes(mb->replica_guid().bytes);
          logon_time(c.out);
          c.out.u64(0);  // GwartTime: no address-book changes to tell of
          c.out.u32(0);  // StoreState
          break;
        }
        case 0x01: {  // RopRelease: no response
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          if (in_index < handles.size()) release(handles[in_index]);
          continue;
        }
        case 0x27: {  // RopGetReceiveFolder
          c.in.u8();
          index = c.in.u8();
          const std::string cls = c.in.str8z();
          auto o = c.object(index, Object::Kind::Logon);
          auto [folder, explicit_class] = o->logon->get_receive_folder(cls);
          c.header(0x27, index);
          c.out.u64(fid(folder));
          c.out.str8z(explicit_class);
          break;
        }
        case 0x02: {  // RopOpenFolder
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          const uint64_t folder = c.in.u64();
          c.in.u8();  // OpenModeFlags
          auto o = c.object(in_index);
          uint32_t& out_slot = c.slot(index);
          auto f = RopContext::derived(*o, Object::Kind::Folder);
          f->folder = o->logon->open_folder(folder_of(folder));
          out_slot = add(o->logon_id, f);
          c.header(0x02, index);
          c.out.u8(0);  // HasRules
          c.out.u8(0);  // IsGhosted
          break;
        }
        case 0x03: {  // RopOpenMessage
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          c.in.u16();  // CodePageId
          const uint64_t folder = c.in.u64();
          const uint8_t mode = c.in.u8();
          const uint64_t mid = c.in.u64();
          auto o = c.object(in_index);
          uint32_t& out_slot = c.slot(index);
          const store::MessageId id(ObjectId::from_u64(mid).gc);
          auto m = RopContext::derived(*o, Object::Kind::Message);
          // OpenModeFlags (MS-OXCMSG 2.2.3.1.1): ReadOnly 0x00, ReadWrite 0x01, BestAccess 0x03.
          m->message = o->logon->open_message(id, (mode & 0x01) != 0);
          if (m->message->folder() != folder_of(folder)) throw RopFailure{ec::NotFound};
          auto props = m->message->get_props({tags::PidTagSubjectPrefix, tags::PidTagNormalizedSubject}).values;
          const auto recipients = m->message->recipients().size();
          out_slot = add(o->logon_id, m);
          c.header(0x03, index);
          c.out.u8(0);  // HasNamedProperties (none are listed here)
          // SubjectPrefix and NormalizedSubject as TypedStrings (MS-OXCDATA 2.11.3): 0x00 none, 0x01 empty, 0x04 Unicode.
          for (const auto& v : props) {
            const std::string* text = v.type() == PropType::String ? v.get_if<std::string>() : nullptr;
            if (!text) c.out.u8(0x00);
            else if (text->empty()) c.out.u8(0x01);
            else {
              c.out.u8(0x04);
              c.out.utf16z(*text);
            }
          }
          c.out.u16(uint16_t(std::min<size_t>(recipients, 0xFFFF)));  // RecipientCount
          c.out.u16(0);  // ColumnCount: the rows come with RopReadRecipients (MS-OXCMSG 2.2.3.1.2 lets the server send fewer)
          c.out.u8(0);   // RowCount
          break;
        }
        case 0x21: {  // RopGetAttachmentTable
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          c.in.u8();  // TableFlags (Unicode: strings are Unicode here anyway)
          auto o = c.object(in_index, Object::Kind::Message);
          uint32_t& out_slot = c.slot(index);
          auto t = RopContext::derived(*o, Object::Kind::Table);
          t->message = o->message;  // the table's rows come from it: keep it
          t->table = std::shared_ptr<store::Table>(o->message->attachment_table());
          out_slot = add(o->logon_id, t);
          c.header(0x21, index);
          break;
        }
        case 0x22: {  // RopOpenAttachment
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          c.in.u8();  // OpenAttachmentFlags
          const uint32_t num = c.in.u32();
          auto o = c.object(in_index, Object::Kind::Message);
          uint32_t& out_slot = c.slot(index);
          auto a = RopContext::derived(*o, Object::Kind::Attach);
          a->message = o->message;
          a->attach = o->message->open_attach(num);
          out_slot = add(o->logon_id, a);
          c.header(0x22, index);
          break;
        }
        case 0x2B: {  // RopOpenStream
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          const PropTag tag(c.in.u32());
          const uint8_t mode = c.in.u8();
          auto o = c.object(in_index);
          uint32_t& out_slot = c.slot(index);
          // OpenModeFlags (MS-OXCPRPT 2.2.14.1): ReadOnly 0x00, ReadWrite 0x01, Create 0x02.
          if (mode > 0x02 && mode != 0x03) throw RopFailure{ec::InvalidParameter};
          auto st = RopContext::derived(*o, Object::Kind::Stream);
          st->stream = std::shared_ptr<store::Stream>(RopContext::prop_object(*o).open_property(tag, mode));
          const uint64_t size = st->stream->size();
          out_slot = add(o->logon_id, st);
          c.header(0x2B, index);
          c.out.u32(uint32_t(std::min<uint64_t>(size, 0xFFFFFFFF)));  // StreamSize
          break;
        }
        case 0x2C: {  // RopReadStream
          c.in.u8();
          index = c.in.u8();
          uint32_t want = c.in.u16();
          if (want == 0xBABE) want = c.in.u32();  // MaximumByteCount follows
          auto o = c.object(index, Object::Kind::Stream);
          // What fits the response: the ROP output stays within MaxRopOut (and a DataSize is 16 bits).
          const size_t room = max_out > c.out.size() + 64 ? max_out - c.out.size() - 64 : 0;
          const size_t n = std::min<size_t>({want, 0xFFF0, room});
          Bytes buf(n);
          const size_t got = n ? o->stream->read(buf.data(), n) : 0;
          c.header(0x2C, index);
          c.out.u16(uint16_t(got));
          c.out.bytes(ByteView(buf.data(), got));
          break;
        }
        case 0x2E: {  // RopSeekStream
          c.in.u8();
          index = c.in.u8();
          const uint8_t origin = c.in.u8();
          const int64_t offset = c.in.i64();
          if (origin > 2) throw RopFailure{ec::InvalidParameter};
          auto o = c.object(index, Object::Kind::Stream);
          const uint64_t at = o->stream->seek(offset, store::Stream::Origin(origin));
          c.header(0x2E, index);
          c.out.u64(at);  // NewPosition
          break;
        }
        case 0x5E: {  // RopGetStreamSize
          c.in.u8();
          index = c.in.u8();
          auto o = c.object(index, Object::Kind::Stream);
          c.header(0x5E, index);
          c.out.u32(uint32_t(std::min<uint64_t>(o->stream->size(), 0xFFFFFFFF)));
          break;
        }
        case 0x06: {  // RopCreateMessage
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          c.in.u16();  // CodePageId
          const uint64_t folder = c.in.u64();
          const bool associated = c.in.u8() != 0;
          auto o = c.object(in_index);
          uint32_t& out_slot = c.slot(index);
          auto m = RopContext::derived(*o, Object::Kind::Message);
          m->message = o->logon->open_folder(folder_of(folder))->create_message(associated);
          out_slot = add(o->logon_id, m);
          c.header(0x06, index);
          c.out.u8(0);  // HasMessageId: the id comes with RopSaveChangesMessage
          break;
        }
        case 0x0A: {  // RopSetProperties
          c.in.u8();
          index = c.in.u8();
          const uint16_t size = c.in.u16();
          if (size > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PropertyValueSize is larger than the ROP buffer");
          BinaryReader values(c.in.bytes(size));
          const uint16_t count = values.u16();
          std::vector<PropValue> set;
          for (uint16_t i = 0; i < count; ++i) {
            const PropTag tag(values.u32());
            set.push_back(read_rop_value(values, tag));
          }
          auto o = c.object(index);
          auto problems = RopContext::prop_object(*o).set_props(set);
          c.header(0x0A, index);
          c.out.u16(uint16_t(problems.size()));
          for (const auto& p : problems) {  // PropertyProblem (MS-OXCDATA 2.7)
            c.out.u16(uint16_t(p.index));
            c.out.u32(p.tag.value);
            c.out.u32(uint32_t(p.error));
          }
          break;
        }
        case 0x0C: {  // RopSaveChangesMessage
          c.in.u8();
          index = c.in.u8();  // ResponseHandleIndex
          const uint8_t in_index = c.in.u8();
          const uint8_t flags = c.in.u8();
          auto o = c.object(in_index, Object::Kind::Message);
          o->message->save_changes(flags & 0x07);
          c.header(0x0C, index);
          c.out.u8(in_index);
          c.out.u64(ObjectId{kReplId, GlobalCounter(*o->message->id())}.to_u64());
          break;
        }
        case 0x1C: {  // RopCreateFolder
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          const uint8_t type = c.in.u8();
          const bool unicode = c.in.u8() != 0;
          const bool open_existing = c.in.u8() != 0;
          c.in.u8();  // Reserved
          const std::string name = unicode ? c.in.utf16z() : c.in.str8z();
          const std::string comment = unicode ? c.in.utf16z() : c.in.str8z();
          auto o = c.object(in_index, Object::Kind::Folder);
          if (type != 1 && type != 2) throw RopFailure{ec::InvalidParameter};  // FOLDER_GENERIC, FOLDER_SEARCH
          uint32_t& out_slot = c.slot(index);
          const store::FolderType ft = type == 2 ? store::FolderType::Search : store::FolderType::Generic;
          std::shared_ptr<store::Folder> folder;
          bool existing = false;
          try {
            folder = o->folder->create_folder(name, "", ft);
          } catch (const MapiError& e) {
            if (e.code() != ErrorCode::MAPI_E_COLLISION || !open_existing) throw;
            folder = o->folder->create_folder(name, "", ft, store::folder_flags::OpenIfExists);
            existing = true;
          }
          if (!comment.empty() && !existing) folder->set_props({PropValue::string(tags::PidTagComment, comment)});
          auto f = RopContext::derived(*o, Object::Kind::Folder);
          f->folder = folder;
          out_slot = add(o->logon_id, f);
          c.header(0x1C, index);
          c.out.u64(fid(folder->id()));
          c.out.u8(existing ? 1 : 0);
          if (existing) {
            c.out.u8(0);  // HasRules
            c.out.u8(0);  // IsGhosted
          }
          break;
        }
        case 0x1D: {  // RopDeleteFolder
          c.in.u8();
          index = c.in.u8();
          const uint8_t flags = c.in.u8();
          const uint64_t folder = c.in.u64();
          auto o = c.object(index, Object::Kind::Folder);
          o->folder->delete_folder(folder_of(folder), flags & (store::delfolder::DelMessages | store::delfolder::DelFolders));
          c.header(0x1D, index);
          c.out.u8(0);  // PartialCompletion
          break;
        }
        case 0x1E:    // RopDeleteMessages
        case 0x91:    // RopHardDeleteMessages
        case 0x66: {  // RopSetReadFlags
          c.in.u8();
          index = c.in.u8();
          c.in.u8();  // WantAsynchronous: done at once
          const uint8_t second = c.in.u8();  // NotifyNonRead, or the ReadFlags
          const uint16_t count = c.in.u16();
          if (size_t(count) * 8 > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a message id list longer than the ROP buffer");
          std::vector<store::MessageId> ids;
          for (uint16_t i = 0; i < count; ++i) ids.push_back(store::MessageId(ObjectId::from_u64(c.in.u64()).gc));
          auto o = c.object(index, Object::Kind::Folder);
          if (id == 0x66) o->folder->set_read_flags(ids, second);
          else o->folder->delete_messages(ids, id == 0x91);
          c.header(id, index);
          c.out.u8(0);  // PartialCompletion
          break;
        }
        case 0x04:    // RopGetHierarchyTable
        case 0x05: {  // RopGetContentsTable
          c.in.u8();
          const uint8_t in_index = c.in.u8();
          index = c.in.u8();
          const uint8_t table_flags = c.in.u8();
          auto o = c.object(in_index, Object::Kind::Folder);
          uint32_t& out_slot = c.slot(index);
          // MS-OXCFOLD 2.2.1.13/14: Associated 0x02, Depth 0x04, SoftDeletes 0x20 map to ours.
          uint32_t flags = 0;
          if (table_flags & 0x02) flags |= store::tableflag::Associated;
          if (table_flags & 0x04) flags |= store::tableflag::Depth;
          if (table_flags & 0x20) flags |= store::tableflag::SoftDeletes;
          auto t = RopContext::derived(*o, Object::Kind::Table);
          t->table = id == 0x04 ? std::shared_ptr<store::Table>(o->folder->hierarchy_table(flags))
                                : std::shared_ptr<store::Table>(o->folder->contents_table(flags));
          const uint32_t rows = t->table->row_count();
          out_slot = add(o->logon_id, t);
          c.header(id, index);
          c.out.u32(rows);
          break;
        }
        case 0x12: {  // RopSetColumns
          c.in.u8();
          index = c.in.u8();
          c.in.u8();  // SetColumnsFlags (synchronous or not: always done at once)
          auto columns = c.tags(c.in.u16());
          auto o = c.object(index, Object::Kind::Table);
          if (columns.empty()) throw RopFailure{ec::InvalidParameter};
          o->table->set_columns(columns);
          c.header(0x12, index);
          c.out.u8(0x00);  // TableStatus: TBLSTAT_COMPLETE
          break;
        }
        case 0x15: {  // RopQueryRows
          c.in.u8();
          index = c.in.u8();
          const uint8_t qflags = c.in.u8();
          const bool forward = c.in.u8() != 0;
          const uint16_t count = c.in.u16();
          auto o = c.object(index, Object::Kind::Table);
          const auto before = o->table->query_position();
          auto rows = o->table->query_rows(count, forward);
          if (qflags & 0x02) {  // NoAdvance: the cursor goes back where it was
            o->table->seek_row(store::BookmarkOrigin::Beginning, int32_t(before.first));
          }
          const auto [at, total] = o->table->query_position();
          c.header(0x15, index);
          c.out.u8(at == 0 ? 0x00 : at >= total ? 0x02 : 0x01);  // Origin: BOOKMARK_BEGINNING / END / CURRENT
          c.out.u16(uint16_t(rows.size()));
          const auto& columns = o->table->columns();
          for (const auto& r : rows) write_property_row(c.out, columns, r);
          break;
        }
        case 0x07: {  // RopGetPropertiesSpecific
          c.in.u8();
          index = c.in.u8();
          const uint16_t size_limit = c.in.u16();
          const uint16_t want_unicode = c.in.u16();
          auto tags = c.tags(c.in.u16());
          auto o = c.object(index);
          auto result = RopContext::prop_object(*o).get_props(tags);
          std::vector<PropTag> columns = tags;
          for (size_t i = 0; i < tags.size(); ++i) {
            PropValue& v = result.values[i];
            // An unspecified string comes back as Unicode when the client wants it, else 8-bit.
            if (tags[i].type() == PropType::Unspecified && v.type() == PropType::String && !want_unicode)
              v = PropValue::string(v.tag().with_type(PropType::String8), *v.get_if<std::string>());
            if (size_limit && v.type() != PropType::ErrorCode && v.size() > size_limit)
              v = PropValue::error(tags[i].id(), ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
          }
          c.header(0x07, index);
          write_property_row(c.out, columns, result.values);
          break;
        }
        case 0x08: {  // RopGetPropertiesAll
          c.in.u8();
          index = c.in.u8();
          const uint16_t size_limit = c.in.u16();
          const uint16_t want_unicode = c.in.u16();
          auto o = c.object(index);
          auto result = RopContext::prop_object(*o).get_props({});
          c.header(0x08, index);
          c.out.u16(uint16_t(std::min<size_t>(result.values.size(), 0xFFFF)));
          for (PropValue v : result.values) {
            if (v.type() == PropType::String && !want_unicode)
              v = PropValue::string(v.tag().with_type(PropType::String8), *v.get_if<std::string>());
            if (v.type() != PropType::ErrorCode && size_limit && v.size() > size_limit)
              v = PropValue::error(v.tag().id(), ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
            c.out.u32(v.tag().value);  // TaggedPropertyValue
            if (v.type() == PropType::ErrorCode) c.out.u32(uint32_t(v.get<int32_t>()));
            else write_rop_value(c.out, v);
          }
          break;
        }
        case 0x09: {  // RopGetPropertiesList
          c.in.u8();
          index = c.in.u8();
          auto o = c.object(index);
          auto list = RopContext::prop_object(*o).get_prop_list();
          c.header(0x09, index);
          c.out.u16(uint16_t(std::min<size_t>(list.size(), 0xFFFF)));
          for (size_t i = 0; i < list.size() && i < 0xFFFF; ++i) c.out.u32(list[i].value);
          break;
        }
        case 0x13: {  // RopSortTable
          c.in.u8();
          index = c.in.u8();
          c.in.u8();  // SortTableFlags: done at once
          const uint16_t count = c.in.u16();
          SortOrderSet set;
          set.categories = c.in.u16();
          set.expanded = c.in.u16();
          if (size_t(count) * 5 > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a sort order longer than the ROP buffer");
          for (uint16_t i = 0; i < count; ++i) {
            SortOrder so;
            so.tag = PropTag(c.in.u32());
            const uint8_t order = c.in.u8();
            if (order != 0x00 && order != 0x01 && order != 0x04 && order != 0x08) throw RopFailure{ec::InvalidParameter};
            so.direction = SortDirection(order);
            set.orders.push_back(so);
          }
          auto o = c.object(index, Object::Kind::Table);
          if (set.categories > set.orders.size() || set.expanded > set.categories) throw RopFailure{ec::InvalidParameter};
          o->table->sort(set);
          c.header(0x13, index);
          c.out.u8(0x00);  // TableStatus: TBLSTAT_COMPLETE
          break;
        }
        case 0x16: {  // RopGetStatus
          c.in.u8();
          index = c.in.u8();
          auto o = c.object(index, Object::Kind::Table);
          c.header(0x16, index);
          c.out.u8(0x00);  // TBLSTAT_COMPLETE: every table operation here is synchronous
          break;
        }
        case 0x17: {  // RopQueryPosition
          c.in.u8();
          index = c.in.u8();
          auto o = c.object(index, Object::Kind::Table);
          const auto [at, total] = o->table->query_position();
          c.header(0x17, index);
          c.out.u32(at);     // Numerator
          c.out.u32(total);  // Denominator
          break;
        }
        case 0x18: {  // RopSeekRow
          c.in.u8();
          index = c.in.u8();
          const uint8_t origin = c.in.u8();
          const int32_t rows = c.in.i32();
          const bool want_moved = c.in.u8() != 0;
          if (origin > 2) throw RopFailure{ec::InvalidParameter};
          auto o = c.object(index, Object::Kind::Table);
          const int32_t moved = o->table->seek_row(store::BookmarkOrigin(origin), rows);
          c.header(0x18, index);
          c.out.u8(moved != rows ? 1 : 0);  // HasSoughtLess
          c.out.i32(want_moved ? moved : 0);  // RowsSought
          break;
        }
        default: {
          // Unknown to this server: its length is unknown too, so the ROPs after it cannot be found.
          index = rop_start + 2 < rops.size() ? rops[rop_start + 2] : 0;
          c.header(id, index, ec::NotSupported);
          stop = true;
          break;
        }
      }
    } catch (const RopFailure& f) {
      c.header(id, index, f.code);
    } catch (const MapiError& e) {
      if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA) throw;  // the buffer itself is bad
      c.header(id, index, uint32_t(e.code()));
    }
    if (c.out.size() + 2 + handles.size() * 4 > max_out) {
      spdlog::debug("an Execute response grew past MaxRopOut ({} bytes)", max_out);
      // (RopBufferTooSmall comes with the response-size handling of issue 14.)
    }
  }
  BinaryWriter w;
  w.u16(uint16_t(2 + c.out.size()));
  w.bytes(c.out.data());
  for (uint32_t h : handles) w.u32(h);
  return w.data();
}

}  // namespace openmapi::server
