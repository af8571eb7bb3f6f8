// The remote provider (mapi/remote.h): store::Mailbox over ROPs.
#include "mapi/remote.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/entryid.h"
#include "core/filetime.h"
#include "core/namedprop.h"
#include "core/restriction.h"
#include "core/sortorder.h"
#include "core/unicode.h"
#include "mapi/remote_client.h"
#include "server/nspi.h"
#include "server/recipient_row.h"
#include "store/notify.h"
#include "store/objects.h"
#include "store/sort_check.h"
#include "server/rops.h"

namespace openmapi::mapi {

using store::Change;
using store::ChangeKind;

namespace {
std::string feed_key_of(const RemoteOptions& o);
std::unique_ptr<store::Mailbox> open_remote_reader(const RemoteOptions& options);
}  // namespace

using store::FolderId;
using store::MessageId;
using store::SpecialFolder;

namespace {

// ---- ids and small helpers ---------------------------------------------------------------
constexpr uint16_t kReplId = 1;
uint64_t wire(uint64_t gc) { return ObjectId{kReplId, GlobalCounter(gc)}.to_u64(); }
uint64_t gc_of(uint64_t wire_id) { return uint64_t(ObjectId::from_u64(wire_id).gc); }

// Values up to this size go in GetPropertiesAll and SetProperties; larger ones through streams
// (a ROP buffer is 32 KiB, and a PtypBinary's count in it 16 bits).
constexpr uint16_t kInlineLimit = 0x1000;
constexpr size_t kStreamChunk = 0x4000;
constexpr uint16_t kReadChunk = 0x7000;
constexpr uint32_t ecWarnWithErrors = 0x00040380;

struct W {  // a request being written: RopId, LogonId 0, then the fields
  BinaryWriter w;
  explicit W(uint8_t id) {
    w.u8(id);
    w.u8(0);
  }
  W& u8(uint8_t v) { return w.u8(v), *this; }
  W& u16(uint16_t v) { return w.u16(v), *this; }
  W& u32(uint32_t v) { return w.u32(v), *this; }
  W& u64(uint64_t v) { return w.u64(v), *this; }
  W& i32(int32_t v) { return w.i32(v), *this; }
  W& bytes(ByteView v) { return w.bytes(v), *this; }
  W& tags(const std::vector<PropTag>& t) {
    w.u16(uint16_t(t.size()));
    for (PropTag p : t) w.u32(p.value);
    return *this;
  }
  W& ids(const std::vector<uint64_t>& v) {
    w.u16(uint16_t(v.size()));
    for (uint64_t x : v) w.u64(x);
    return *this;
  }
  W& sized(ByteView v) {
    if (v.size() > 0xFFFF) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a restriction or bookmark of more than 64 KiB");
    w.u16(uint16_t(v.size()));
    return bytes(v);
  }
  Bytes take() { return w.take(); }
};

bool large_type(PropType t) { return t == PropType::Binary || t == PropType::String || t == PropType::String8; }

// The properties a server computes: never sent in a save (it would refuse them one by one).
bool server_computed(PropTag t) {
  static const std::set<uint16_t> ids = {
      tags::PidTagMid.id(),        tags::PidTagEntryId.id(),         tags::PidTagChangeKey.id(),
      tags::PidTagChangeNumber.id(), tags::PidTagPredecessorChangeList.id(), tags::PidTagMessageSize.id(),
      tags::PidTagParentEntryId.id(), tags::PidTagRecordKey.id(),      tags::PidTagStoreEntryId.id(),
      tags::PidTagStoreRecordKey.id(), tags::PidTagInstanceKey.id(),   tags::PidTagAccessLevel.id(),
      tags::PidTagHasAttachments.id(), tags::PidTagFolderId.id(),     tags::PidTagParentFolderId.id(),
      tags::PidTagAttachNumber.id(),  tags::PidTagObjectType.id(),     tags::PidTagMessageSizeExtended.id(),
      tags::PidTagSourceKey.id(),     tags::PidTagParentSourceKey.id(), tags::PidTagAttachDataObject.id(),
      tags::PidTagRowid.id(),         tags::PidTagLastModificationTime.id(), tags::PidTagCreationTime.id(),
      tags::PidTagMessageRecipients.id(), tags::PidTagMessageAttachments.id(),
  };
  return ids.count(t.id()) > 0;
}

}  // namespace

// ---- the shared state of a remote mailbox and its tables and streams -----------------------
struct RemoteState {
  explicit RemoteState(const RemoteOptions& o) : options(o), client(o) {}
  ~RemoteState() {
    if (logon) client.disconnect();
  }
  RemoteOptions options;
  std::mutex mutex;  // one call at a time on the connection
  MapiHttpClient client;
  uint32_t logon = 0;
  Guid mailbox_guid, replica_guid;
  std::map<SpecialFolder, FolderId> specials;
  bool specials_complete = false;
  std::map<MessageId, FolderId> message_folders;  // what has been seen of where messages are
  std::map<PropertyName, uint16_t> name_ids;
  std::map<uint16_t, PropertyName> id_names;
  // The large values load_message(id, false) left out, by (message, attachment or -1).
  std::map<std::pair<MessageId, int64_t>, std::vector<std::pair<PropTag, uint64_t>>> large;

  // ---- the notifications of a reader (open_remote_reader): the server's RopNotify turned into
  // journal rows, numbered here in the order they came (the ChangeFeed of this mailbox reads them).
  static constexpr size_t kJournalKept = 100000;
  std::mutex journal_mutex;  // guards what follows (taken inside `mutex`, never around it)
  std::deque<Change> journal;
  int64_t last_change = 0;
  std::map<MessageId, int32_t> new_mail_flags;  // NewMail comes before ObjectCreated: its message flags
  bool more_pending = false;                    // a RopPending came: an Execute has more to tell
  std::string feed_key;

  void append(Change c) {
    c.change_number = ++last_change;
    c.time = to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
    journal.push_back(c);
    if (journal.size() > kJournalKept) journal.pop_front();
  }
  // RopNotify and RopPending responses (MS-OXCROPS 2.2.14.2, 2.2.14.3) as journal rows; a
  // notification it cannot read ends the reading (the rest of the tail is dropped).
  void on_notify(ByteView tail) {
    size_t added = 0;
    {
      std::lock_guard lk(journal_mutex);
      BinaryReader r(tail);
      try {
        while (!r.at_end()) {
          const uint8_t id = r.u8();
          if (id == 0x6E) {  // RopPending: SessionIndex
            r.u16();
            more_pending = true;
            continue;
          }
          if (id != 0x2A) break;
          r.u32();  // NotificationHandle: one registration, for the whole store
          r.u8();   // LogonId
          if (auto c = read_notification(r)) {
            append(*c);
            ++added;
          }
        }
      } catch (const MapiError& e) {
        spdlog::warn("a notification from {} could not be read: {}", client.server(), e.describe());
      }
    }
    if (added && !feed_key.empty()) store::ChangeFeed::committed(feed_key);
  }
  // NotificationData (MS-OXCROPS 2.2.14.2.1.1) as the journal row whose events (events_of) are
  // the one notified; nullopt for NewMail (its flags wait for the ObjectCreated that follows).
  std::optional<Change> read_notification(BinaryReader& r) {
    const uint16_t flags = r.u16();
    const uint16_t type = flags & 0x0FFF;
    const bool m = flags & 0x8000, total = flags & 0x1000, unread = flags & 0x2000, search = flags & 0x4000;
    // Table events carry rows in the table's columns, extended ones a payload of their own:
    // neither is registered for, so neither can be read here.
    if (type == store::fnev::TableModified || (type & 0x0400) || type == 0)
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a notification of type " + std::to_string(type) + " nobody asked for");
    using namespace store::fnev;
    const bool cdmc = type == ObjectCreated || type == ObjectDeleted || type == ObjectMoved || type == ObjectCopied;
    Change c;
    c.is_folder = !m;
    const uint64_t folder = gc_of(r.u64());
    const uint64_t message = m ? gc_of(r.u64()) : 0;
    uint64_t parent = 0;
    if (cdmc && (search || !m)) parent = gc_of(r.u64());
    if (type == ObjectMoved || type == ObjectCopied) {
      const uint64_t old_folder = gc_of(r.u64());
      if (m) {
        c.old_parent = old_folder;
        c.old_id = gc_of(r.u64());
      } else {
        c.old_id = old_folder;
        c.old_parent = gc_of(r.u64());
      }
    }
    if (type == ObjectCreated || type == ObjectModified) {
      const uint16_t n = r.u16();
      if (n != 0xFFFF) r.skip(size_t(n) * 4);  // the changed tags
    }
    if (total) r.u32();
    if (unread) r.u32();
    int32_t new_mail = 0;
    if (type == NewMail) {
      new_mail = int32_t(r.u32());
      const bool unicode = r.u8() != 0;
      if (unicode) r.utf16z();
      else r.str8z();
    }
    if (m) {
      c.id = message;
      c.parent = folder;
    } else {
      c.id = folder;
      c.parent = parent;
    }
    switch (type) {
      case NewMail:
        new_mail_flags[MessageId(c.id)] = new_mail;
        if (new_mail_flags.size() > 1000) new_mail_flags.erase(new_mail_flags.begin());
        return std::nullopt;
      case ObjectCreated: {
        c.kind = ChangeKind::Created;
        // With a NewMail before it, the flags it told; else flags that raise no NewMail.
        auto it = new_mail_flags.find(MessageId(c.id));
        c.message_flags = it != new_mail_flags.end() ? it->second : msgflag::Unsent;
        if (it != new_mail_flags.end()) new_mail_flags.erase(it);
        return c;
      }
      case ObjectDeleted: c.kind = ChangeKind::HardDeleted; return c;
      case ObjectModified: c.kind = ChangeKind::Modified; return c;
      case ObjectMoved: c.kind = ChangeKind::Moved; return c;
      case ObjectCopied: c.kind = ChangeKind::Copied; return c;
      case SearchComplete: c.kind = ChangeKind::SearchComplete; return c;
      default: throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a notification of type " + std::to_string(type));
    }
  }

  // RopRelease, with the next batch (MapiHttpClient::pending_releases).
  void release(uint32_t handle) noexcept {
    if (handle == 0xFFFFFFFF) return;
    try {
      client.pending_releases.push_back(handle);
    } catch (...) {  // no memory: the server drops the object with the session
    }
  }
  // Releases a handle of a batch when it goes out of scope.
  struct Held {
    RemoteState* s;
    uint32_t h;
    Held(RemoteState* st, uint32_t handle) : s(st), h(handle) {}
    Held(const Held&) = delete;
    ~Held() { s->release(h); }
  };

  // ---- objects -----------------------------------------------------------------------------
  uint32_t open_folder(FolderId id) {
    RopBatch b(client);
    const Slot l = b.known(logon), f = b.fresh();
    b.add(W(0x02).u8(l).u8(f).u64(wire(id)).u8(0).take(), [](BinaryReader& r, uint32_t rv) {
      if (rv == 0) r.skip(2);  // HasRules, IsGhosted
      return rv == 0;
    });
    b.keep(f);
    b.run();
    return b.handle(f);
  }
  // A message open on the server, and its recipient count (RopOpenMessage's summary).
  struct Opened {
    uint32_t handle = 0xFFFFFFFF;
    uint16_t recipients = 0;
  };
  static uint16_t read_summary(BinaryReader& r) {
    r.u8();  // HasNamedProperties
    for (int i = 0; i < 2; ++i) {  // SubjectPrefix, NormalizedSubject: TypedString
      const uint8_t t = r.u8();
      if (t == 0x02 || t == 0x03) r.str8z();
      else if (t == 0x04) r.utf16z();
    }
    const uint16_t count = r.u16();
    const uint16_t ncol = r.u16();
    std::vector<PropTag> cols;
    for (uint16_t i = 0; i < ncol; ++i) cols.push_back(PropTag(r.u32()));
    const uint8_t rows = r.u8();
    for (uint8_t i = 0; i < rows; ++i) {
      r.u8();
      r.u16();
      r.u16();
      r.skip(r.u16());
    }
    return count;
  }
  Opened open_message(FolderId folder, MessageId id, bool write) {
    RopBatch b(client);
    const Slot l = b.known(logon), m = b.fresh();
    Opened o;
    b.add(W(0x03).u8(l).u8(m).u16(0x0FFF).u64(wire(folder)).u8(write ? 0x01 : 0x00).u64(wire(id)).take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv == 0) o.recipients = read_summary(r);
      return rv == 0;
    });
    b.keep(m);
    b.run();
    o.handle = b.handle(m);
    return o;
  }
  // Opens message `id`, looking for its folder when the one known is wrong.
  Opened open_message(MessageId id, bool write, FolderId* folder_out = nullptr) {
    auto it = message_folders.find(id);
    if (it != message_folders.end()) {
      try {
        if (folder_out) *folder_out = it->second;
        return open_message(it->second, id, write);
      } catch (const MapiError& e) {
        if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
        message_folders.erase(id);
      }
    }
    const FolderId f = find_message_folder(id);
    message_folders[id] = f;
    if (folder_out) *folder_out = f;
    return open_message(f, id, write);
  }

  // Every folder of the mailbox (root first).
  std::vector<FolderId> all_folders() {
    const FolderId root = special(SpecialFolder::Root);
    std::vector<FolderId> out{root};
    for (auto& row : table_rows(root, false, store::tableflag::Depth, {tags::PidTagFolderId}))
      if (row[0].type() == PropType::Integer64) out.push_back(gc_of(uint64_t(row[0].get<int64_t>())));
    return out;
  }
  // The folder holding message `id`: a restricted contents table (normal, then FAI) per folder.
  // The folder holding message `id`: a restricted contents table (normal and associated) per
  // folder, 60 folders an Execute; a folder that cannot be opened is passed over.
  FolderId find_message_folder(MessageId id) {
    const Bytes r = serialize_restriction(Restriction{Restriction::Property{RelOp::Eq, tags::PidTagMid, PropValue::i64(tags::PidTagMid, int64_t(wire(id)))}});
    const std::vector<FolderId> folders = all_folders();
    for (size_t at = 0; at < folders.size(); at += 60) {
      const size_t n = std::min<size_t>(60, folders.size() - at);
      std::vector<uint32_t> counts(n, 0);
      RopBatch b(client);
      const Slot l = b.known(logon);
      for (size_t i = 0; i < n; ++i) {
        const Slot fs = b.fresh();
        b.add(W(0x02).u8(l).u8(fs).u64(wire(folders[at + i])).u8(0).take(), [](BinaryReader& rd, uint32_t rv) {
          if (rv == 0) rd.skip(2);
          return true;
        });
        for (int assoc = 0; assoc < 2; ++assoc) {
          const Slot t = b.fresh();
          b.add(W(0x05).u8(fs).u8(t).u8(uint8_t(0x10 | (assoc ? 0x02 : 0))).take(), [](BinaryReader& rd, uint32_t rv) {
            if (rv == 0) rd.u32();
            return true;
          });
          b.add(W(0x12).u8(t).u8(0).tags({tags::PidTagMid}).take(), [](BinaryReader& rd, uint32_t rv) { return rv != 0 || (rd.u8(), true); });
          b.add(W(0x14).u8(t).u8(0).sized(r).take(), [](BinaryReader& rd, uint32_t rv) { return rv != 0 || (rd.u8(), true); });
          b.add(W(0x17).u8(t).take(), [&counts, i](BinaryReader& rd, uint32_t rv) {
            if (rv != 0) return true;
            rd.u32();
            counts[i] += rd.u32();
            return true;
          });
        }
      }
      b.run();  // every parser accepts failures: they only leave a count at 0
      for (size_t i = 0; i < n; ++i)
        if (counts[i]) return folders[at + i];
    }
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "message " + std::to_string(id) + " is not in this mailbox");
  }

  // The rows of a whole table (columns `cols`) of folder `f`.
  std::vector<store::Row> table_rows(FolderId f, bool contents, uint32_t flags, const std::vector<PropTag>& cols) {
    const uint32_t folder = open_folder(f);
    Held hf(this, folder);
    RopBatch b(client);
    const Slot fs = b.known(folder), t = b.fresh();
    b.add(W(contents ? 0x05 : 0x04).u8(fs).u8(t).u8(uint8_t(flags | 0x10)).take(), [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u32(), true); });
    b.add(W(0x12).u8(t).u8(0).tags(cols).take(), [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u8(), true); });
    b.keep(t);
    b.run();
    Held ht(this, b.handle(t));
    std::vector<store::Row> rows;
    for (;;) {
      RopBatch q(client);
      const Slot ts = q.known(ht.h);
      bool end = false;
      size_t got = 0;
      q.add(W(0x15).u8(ts).u8(0).u8(1).u16(0xFFFF).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        end = r.u8() == 0x02;
        const uint16_t n = r.u16();
        for (uint16_t i = 0; i < n; ++i) rows.push_back(read_property_row(r, cols));
        got = n;
        return true;
      });
      q.run();
      if (end || got == 0) break;
    }
    return rows;
  }

  FolderId special(SpecialFolder f) {
    if (auto it = specials.find(f); it != specials.end()) return it->second;
    if (!specials_complete) {
      specials_complete = true;
      // MS-OXOSFLD 2.2.3: the Root publishes the other special folders' entry IDs.
      const uint32_t h = open_folder(specials.at(SpecialFolder::Root));
      Held held(this, h);
      PropertyBag props = read_props(h, nullptr, true);
      auto from_entry = [&](PropTag t, SpecialFolder which) {
        const PropValue* v = props.find(t);
        if (v && v->type() == PropType::Binary) try {
            specials[which] = FolderEntryId::parse(v->get<Bytes>()).gc;
          } catch (const MapiError&) {
          }
      };
      from_entry(tags::PidTagIpmAppointmentEntryId, SpecialFolder::Calendar);
      from_entry(tags::PidTagIpmContactEntryId, SpecialFolder::Contacts);
      from_entry(tags::PidTagIpmJournalEntryId, SpecialFolder::Journal);
      from_entry(tags::PidTagIpmNoteEntryId, SpecialFolder::Notes);
      from_entry(tags::PidTagIpmTaskEntryId, SpecialFolder::Tasks);
      from_entry(tags::PidTagIpmDraftsEntryId, SpecialFolder::Drafts);
      if (const PropValue* ren = props.find(tags::PidTagAdditionalRenEntryIds); ren && ren->type() == PropType::MultipleBinary) {
        const auto& list = std::get<std::vector<Bytes>>(ren->storage());
        const SpecialFolder order[] = {SpecialFolder::Conflicts, SpecialFolder::SyncIssues, SpecialFolder::LocalFailures,
                                       SpecialFolder::ServerFailures, SpecialFolder::JunkEmail};
        for (size_t i = 0; i < list.size() && i < 5; ++i) try {
            specials[order[i]] = FolderEntryId::parse(list[i]).gc;
          } catch (const MapiError&) {
          }
      }
      // The rest by their names, anywhere in the mailbox.
      std::vector<store::Row> rows;
      for (auto& row : table_rows(specials.at(SpecialFolder::Root), false, store::tableflag::Depth, {tags::PidTagFolderId, tags::PidTagDisplayName}))
        rows.push_back(std::move(row));
      for (int i = int(SpecialFolder::Root); i <= int(SpecialFolder::ConversationActionSettings); ++i) {
        const SpecialFolder s = SpecialFolder(i);
        if (specials.count(s)) continue;
        for (const auto& row : rows)
          if (row[1].type() == PropType::String && row[0].type() == PropType::Integer64 && row[1].get<std::string>() == store::special_folder_name(s)) {
            specials[s] = gc_of(uint64_t(row[0].get<int64_t>()));
            break;
          }
      }
    }
    if (auto it = specials.find(f); it != specials.end()) return it->second;
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, std::string("the server names no ") + store::special_folder_name(f) + " folder");
  }

  // ---- properties --------------------------------------------------------------------------
  // Every property of the object `h`: GetPropertiesList and GetPropertiesAll, the values too
  // large for the latter read through streams (or, without `large_values`, listed in `large`
  // with their sizes).
  // What GetPropertiesList and GetPropertiesAll (values up to kInlineLimit) answered.
  struct PropsRead {
    std::vector<PropTag> list;
    PropertyBag bag;
    std::vector<uint16_t> too_big;  // ids whose values were over the limit
  };
  void add_read_props(RopBatch& b, Slot s, PropsRead& out) {
    b.add(W(0x09).u8(s).take(), [&out](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      const uint16_t n = r.u16();
      for (uint16_t i = 0; i < n; ++i) out.list.push_back(PropTag(r.u32()));
      return true;
    });
    b.add(W(0x08).u8(s).u16(kInlineLimit).u16(1).take(), [&out](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      const uint16_t n = r.u16();
      for (uint16_t i = 0; i < n; ++i) {
        const PropTag t(r.u32());
        if (t.type() == PropType::ErrorCode) {
          const uint32_t code = r.u32();
          if (ErrorCode(code) == ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY) out.too_big.push_back(t.id());
          continue;
        }
        out.bag.set(server::read_rop_value(r, t));
      }
      return true;
    });
  }
  // Every property of `h`: large values through streams (or, for binaries unless
  // `large_values`, only their sizes into `large_out`).
  PropertyBag read_props(uint32_t h, std::vector<std::pair<PropTag, uint64_t>>* large_out, bool large_values) {
    PropsRead pr;
    RopBatch b(client);
    add_read_props(b, b.known(h), pr);
    b.run();
    return finish_read_props(h, pr, large_out, large_values);
  }
  PropertyBag finish_read_props(uint32_t h, PropsRead& pr, std::vector<std::pair<PropTag, uint64_t>>* large_out, bool large_values) {
    const std::vector<PropTag>& list = pr.list;
    PropertyBag& bag = pr.bag;
    for (uint16_t id : pr.too_big) {
      auto it = std::find_if(list.begin(), list.end(), [&](PropTag t) { return t.id() == id; });
      if (it == list.end()) continue;
      const PropTag t = *it;
      if (t.type() == PropType::Binary && !large_values && large_out) {
        large_out->emplace_back(t, stream_size(h, t));
      } else if (large_type(t.type())) {
        const PropTag as = t.type() == PropType::Binary ? t : t.with_type(PropType::String);
        Bytes data = read_stream_whole(h, as);
        if (as.type() == PropType::Binary) bag.set(PropValue::binary(t, std::move(data)));
        else bag.set(PropValue::string(t.with_type(PropType::String), utf16le_text(data)));
      } else {  // a large multi-value: asked for alone, without a size limit
        RopBatch one(client);
        const Slot os = one.known(h);
        one.add(W(0x07).u8(os).u16(0).u16(1).tags({t}).take(), [&](BinaryReader& r, uint32_t rv) {
          if (rv != 0) return false;
          auto row = read_property_row(r, {t});
          if (row[0].type() != PropType::ErrorCode) bag.set(row[0]);
          return true;
        });
        one.run();
      }
    }
    return std::move(bag);
  }
  static std::string utf16le_text(const Bytes& b) {
    std::u16string w;
    w.reserve(b.size() / 2);
    for (size_t i = 0; i + 1 < b.size(); i += 2) w.push_back(char16_t(b[i] | b[i + 1] << 8));
    while (!w.empty() && w.back() == 0) w.pop_back();
    return utf16_to_utf8(w);
  }
  uint64_t stream_size(uint32_t h, PropTag t) {
    RopBatch b(client);
    const Slot s = b.known(h), st = b.fresh();
    uint64_t size = 0;
    b.add(W(0x2B).u8(s).u8(st).u32(t.value).u8(0).take(), [&](BinaryReader& r, uint32_t rv) { return rv == 0 && (size = r.u32(), true); });
    b.run();  // the stream is released at the end
    return size;
  }
  uint32_t open_stream(uint32_t h, PropTag t, uint8_t mode, uint64_t* size = nullptr) {
    RopBatch b(client);
    const Slot s = b.known(h), st = b.fresh();
    b.add(W(0x2B).u8(s).u8(st).u32(t.value).u8(mode).take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      const uint32_t n = r.u32();
      if (size) *size = n;
      return true;
    });
    b.keep(st);
    b.run();
    return b.handle(st);
  }
  // Up to `n` bytes from stream `st`.
  Bytes read_stream(uint32_t st, uint16_t n) {
    Bytes out;
    RopBatch b(client);
    const Slot s = b.known(st);
    b.add(W(0x2C).u8(s).u16(n).take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      out = r.copy(r.u16());
      return true;
    });
    b.run();
    return out;
  }
  Bytes read_stream_whole(uint32_t h, PropTag t) {
    uint64_t size = 0;
    const uint32_t st = open_stream(h, t, 0, &size);
    Held held(this, st);
    Bytes all;
    if (size > store::Stream::kMaxStreamSize) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a stream of " + std::to_string(size) + " bytes");
    all.reserve(size_t(size));
    for (;;) {
      Bytes part = read_stream(st, kReadChunk);
      if (part.empty()) break;
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }

  // Sets `values` on object `h`: small ones with SetProperties (in pieces that fit a request),
  // large strings and binaries through streams. Problems other than computed properties throw.
  void set_props(uint32_t h, const std::vector<PropValue>& values, bool strict) {
    std::vector<const PropValue*> inline_values, streamed;
    for (const auto& v : values) {
      if (v.type() == PropType::ErrorCode || v.type() == PropType::Object || v.type() == PropType::Unspecified) continue;
      (large_type(v.type()) && v.size() > kInlineLimit ? streamed : inline_values).push_back(&v);
    }
    size_t at = 0;
    while (at < inline_values.size()) {
      BinaryWriter vals;
      uint16_t count = 0;
      while (at < inline_values.size() && (count == 0 || vals.size() < 0x3000)) {
        vals.u32(inline_values[at]->tag().value);
        server::write_rop_value(vals, *inline_values[at]);
        ++count;
        ++at;
      }
      BinaryWriter body;
      body.u16(count);
      body.bytes(vals.data());
      if (body.size() > 0xFFFF) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a property value too large for one ROP");
      RopBatch b(client);
      const Slot s = b.known(h);
      std::optional<MapiError> problem;
      b.add(W(0x0A).u8(s).sized(body.data()).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        const uint16_t n = r.u16();
        for (uint16_t i = 0; i < n; ++i) {
          r.u16();
          const PropTag t(r.u32());
          const ErrorCode e = ErrorCode(r.u32());
          if (strict && e != ErrorCode::MAPI_E_COMPUTED && !problem) problem = MapiError(e, "the server refused property " + t.hex());
        }
        return true;
      });
      b.run();
      if (problem) throw *problem;
    }
    for (const PropValue* v : streamed) {
      if (v->type() == PropType::Binary) {
        const Bytes& data = v->get<Bytes>();
        size_t pos = 0;
        write_stream(h, v->tag(), [&](uint8_t* out, size_t n) {
          const size_t k = std::min(n, data.size() - pos);
          std::copy(data.begin() + long(pos), data.begin() + long(pos + k), out);
          pos += k;
          return k;
        });
      } else {
        const Bytes wide = utf8_to_utf16le(v->get<std::string>());
        size_t pos = 0;
        write_stream(h, v->tag().with_type(PropType::String), [&](uint8_t* out, size_t n) {
          const size_t k = std::min(n, wide.size() - pos);
          std::copy(wide.begin() + long(pos), wide.begin() + long(pos + k), out);
          pos += k;
          return k;
        });
      }
    }
  }
  // Writes a whole value through a new stream on `h` (RopOpenStream Create|ReadWrite, WriteStream
  // in pieces, CommitStream), `source` giving the bytes in the stream's form.
  void write_stream(uint32_t h, PropTag t, const store::StreamSource& source) {
    const uint32_t st = open_stream(h, t, 0x03);
    Held held(this, st);
    Bytes chunk(kStreamChunk);
    RopBatch b(client);
    const Slot s = b.known(st);
    for (;;) {
      const size_t n = source(chunk.data(), chunk.size());
      if (n == 0) break;
      b.add(W(0x2D).u8(s).sized(ByteView(chunk.data(), n)).take(), [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u16(), true); }, 2);
      if (b.pending_bytes() > 20000) b.run();
    }
    b.add(W(0x5D).u8(s).take());
    b.run();
  }
  void delete_props(uint32_t h, const std::vector<PropTag>& t) {
    if (t.empty()) return;
    RopBatch b(client);
    const Slot s = b.known(h);
    b.add(W(0x0B).u8(s).tags(t).take(), [](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      const uint16_t n = r.u16();
      r.skip(size_t(n) * 10);
      return true;
    });
    b.run();
  }

  // ---- recipients and attachments ----------------------------------------------------------
  // ReadRecipients from row `from`: the rows into `out`; `done` when no row follows.
  void add_read_recipients(RopBatch& b, Slot s, uint32_t from, std::vector<PropertyBag>& out, bool& done) {
    b.add(W(0x0F).u8(s).u32(from).u16(0).take(), [&out, &done](BinaryReader& r, uint32_t rv) {
      if (rv == uint32_t(ErrorCode::MAPI_E_NOT_FOUND)) return done = true;
      if (rv != 0) return false;
      const uint8_t n = r.u8();
      for (uint8_t i = 0; i < n; ++i) {
        const uint32_t row_id = r.u32();
        const uint8_t type = r.u8();
        r.u16();  // CodePageId
        r.u16();  // Reserved
        const uint16_t size = r.u16();
        BinaryReader row(r.bytes(size));
        PropertyBag bag = server::read_recipient_row(row, server::default_recipient_columns());
        bag.set(PropValue::i32(tags::PidTagRecipientType, type));
        bag.set(PropValue::i32(tags::PidTagRowid, int32_t(row_id)));
        out.push_back(std::move(bag));
      }
      if (n == 0) done = true;
      return true;
    });
  }
  // The recipients after those in `out` (already read), until `count` or the last.
  void finish_read_recipients(uint32_t h, uint16_t count, std::vector<PropertyBag>& out, bool done) {
    while (!done && out.size() < count) {
      const size_t before = out.size();
      const uint32_t from = out.empty() ? 0 : uint32_t(*out.back().get_i32(tags::PidTagRowid)) + 1;
      RopBatch b(client);
      add_read_recipients(b, b.known(h), from, out, done);
      b.run();
      if (out.size() == before) break;
    }
  }
  std::vector<PropertyBag> read_recipients(uint32_t h, uint16_t count) {
    std::vector<PropertyBag> out;
    finish_read_recipients(h, count, out, count == 0);
    return out;
  }
  void add_attachment_numbers(RopBatch& b, Slot s, std::vector<uint32_t>& nums) {
    b.add(W(0x52).u8(s).take(), [&nums](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      const uint16_t n = r.u16();
      for (uint16_t i = 0; i < n; ++i) nums.push_back(r.u32());
      return true;
    });
  }
  std::vector<uint32_t> attachment_numbers(uint32_t h) {
    std::vector<uint32_t> nums;
    RopBatch b(client);
    add_attachment_numbers(b, b.known(h), nums);
    b.run();
    return nums;
  }
  uint32_t open_attach(uint32_t m, uint32_t num, bool write) {
    RopBatch b(client);
    const Slot s = b.known(m), a = b.fresh();
    b.add(W(0x22).u8(s).u8(a).u8(write ? 0x01 : 0x00).u32(num).take());
    b.keep(a);
    b.run();
    return b.handle(a);
  }
  // The embedded message of attachment `a` (create: a new one), and its recipient count.
  Opened open_embedded(uint32_t a, bool create) {
    RopBatch b(client);
    const Slot s = b.known(a), e = b.fresh();
    Opened o;
    b.add(W(0x46).u8(s).u8(e).u16(0x0FFF).u8(create ? 0x03 : 0x00).take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      r.u8();
      r.u64();
      o.recipients = read_summary(r);
      return true;
    });
    b.keep(e);
    b.run();
    o.handle = b.handle(e);
    return o;
  }

  // A whole message (or embedded message) open as `h`.
  openmapi::Message read_message(uint32_t h, uint16_t recipient_count, std::optional<MessageId> id, bool large_values) {
    openmapi::Message m;
    // Properties, the first recipients and the attachment numbers in one Execute.
    PropsRead pr;
    bool recipients_done = recipient_count == 0;
    std::vector<uint32_t> nums;
    {
      RopBatch b(client);
      const Slot s = b.known(h);
      add_read_props(b, s, pr);
      if (!recipients_done) add_read_recipients(b, s, 0, m.recipients, recipients_done);
      add_attachment_numbers(b, s, nums);
      b.run();
    }
    std::vector<std::pair<PropTag, uint64_t>> big;
    m.props = finish_read_props(h, pr, id ? &big : nullptr, large_values || !id);
    if (id) large[{*id, -1}] = big;
    finish_read_recipients(h, recipient_count, m.recipients, recipients_done);
    for (uint32_t num : nums) {
      const uint32_t a = open_attach(h, num, false);
      Held ha(this, a);
      Attachment att;
      std::vector<std::pair<PropTag, uint64_t>> abig;
      att.props = read_props(a, id ? &abig : nullptr, large_values || !id);
      if (id) large[{*id, int64_t(num)}] = abig;
      if (!att.props.has(tags::PidTagAttachNumber)) att.props.set(PropValue::i32(tags::PidTagAttachNumber, int32_t(num)));
      if (att.props.get_i32(tags::PidTagAttachMethod) == 5) {  // afEmbeddedMessage
        try {
          Opened e = open_embedded(a, false);
          Held he(this, e.handle);
          att.embedded = std::make_unique<openmapi::Message>(read_message(e.handle, e.recipients, std::nullopt, true));
        } catch (const MapiError& e) {
          if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
        }
      }
      m.attachments.push_back(std::move(att));
    }
    return m;
  }

  // Replaces the recipient table of `h` with `rows` (RemoveAllRecipients, ModifyRecipients).
  void write_recipients(uint32_t h, const std::vector<PropertyBag>& rows) {
    RopBatch b(client);
    const Slot s = b.known(h);
    b.add(W(0x0D).u8(s).u32(0).take());
    // The columns: every property of the rows that the standard part of a RecipientRow does not carry.
    static const std::set<uint16_t> standard = {tags::PidTagAddressType.id(), tags::PidTagEmailAddress.id(), tags::PidTagDisplayName.id(),
                                                0x3A20, 0x3A40, 0x0E0F, 0x39FF, tags::PidTagRowid.id(), tags::PidTagRecipientType.id()};
    std::vector<PropTag> columns;
    for (const auto& r : rows)
      for (const auto& v : r.values())
        if (!standard.count(v.tag().id()) && v.type() != PropType::ErrorCode &&
            std::none_of(columns.begin(), columns.end(), [&](PropTag c) { return c.id() == v.tag().id(); }))
          columns.push_back(v.tag());
    uint32_t next_id = 0;
    for (const auto& r : rows)
      if (auto id = r.get_i32(tags::PidTagRowid)) next_id = std::max(next_id, uint32_t(*id) + 1);
    size_t at = 0;
    while (at < rows.size()) {
      W req(0x0E);
      req.u8(s).tags(columns);
      BinaryWriter body;
      uint16_t n = 0;
      while (at < rows.size() && (n == 0 || body.size() < 0x3000)) {
        const PropertyBag& r = rows[at++];
        BinaryWriter row;
        server::write_recipient_row(row, r, columns);
        if (row.size() > 0xFFFF) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a recipient too large for a RecipientRow");
        auto id = r.get_i32(tags::PidTagRowid);
        body.u32(id ? uint32_t(*id) : next_id++);
        body.u8(uint8_t(r.get_i32(tags::PidTagRecipientType).value_or(1)));
        body.u16(uint16_t(row.size()));
        body.bytes(row.data());
        ++n;
      }
      req.u16(n).bytes(body.data());
      b.add(req.take());
      if (b.pending_bytes() > 16000) b.run();
    }
    b.run();
  }

  // Everything of `m` onto the new (embedded) message `h`: properties, recipients, attachments.
  void write_whole(uint32_t h, const openmapi::Message& m) {
    std::vector<PropValue> values;
    for (const auto& v : m.props.values())
      if (!server_computed(v.tag())) values.push_back(v);
    set_props(h, values, false);
    if (!m.recipients.empty()) write_recipients(h, m.recipients);
    for (const auto& a : m.attachments) write_attachment(h, a.props, a.embedded.get());
  }
  void write_attachment(uint32_t h, const PropertyBag& props, const openmapi::Message* embedded) {
    RopBatch b(client);
    const Slot s = b.known(h), as = b.fresh();
    b.add(W(0x23).u8(s).u8(as).take(), [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u32(), true); });
    b.keep(as);
    b.run();
    Held ha(this, b.handle(as));
    std::vector<PropValue> values;
    for (const auto& v : props.values())
      if (!server_computed(v.tag())) values.push_back(v);
    set_props(ha.h, values, false);
    if (embedded) {
      Opened e = open_embedded(ha.h, true);
      Held he(this, e.handle);
      write_whole(e.handle, *embedded);
      save_message_object(e.handle, 0x02);
    }
    save_attachment(ha.h);
  }
  MessageId save_message_object(uint32_t h, uint8_t flags) {
    RopBatch b(client);
    const Slot s = b.known(h);
    uint64_t mid = 0;
    b.add(W(0x0C).u8(s).u8(s).u8(flags).take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      r.u8();
      mid = r.u64();
      return true;
    });
    b.run();
    return gc_of(mid);
  }
  void save_attachment(uint32_t a) {
    RopBatch b(client);
    const Slot s = b.known(a);
    b.add(W(0x25).u8(s).u8(s).u8(0x02).take());
    b.run();
  }
  uint32_t create_message(FolderId folder, bool associated) {
    RopBatch b(client);
    const Slot l = b.known(logon), m = b.fresh();
    b.add(W(0x06).u8(l).u8(m).u16(0x0FFF).u64(wire(folder)).u8(associated ? 1 : 0).take(), [](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      if (r.u8()) r.u64();
      return true;
    });
    b.keep(m);
    b.run();
    return b.handle(m);
  }
  // The message ids of folder `f` (normal and FAI).
  std::set<MessageId> message_ids(FolderId f) {
    std::set<MessageId> out;
    for (uint32_t flags : {0u, store::tableflag::Associated})
      for (auto& row : table_rows(f, true, flags, {tags::PidTagMid}))
        if (row[0].type() == PropType::Integer64) out.insert(gc_of(uint64_t(row[0].get<int64_t>())));
    return out;
  }
  // Runs `fill` on a batch over folder `f` (slot given), for the folder ROPs.
  void on_folder(FolderId f, const std::function<void(RopBatch&, Slot)>& fill) {
    const uint32_t h = open_folder(f);
    Held held(this, h);
    RopBatch b(client);
    const Slot s = b.known(h);
    fill(b, s);
    b.run();
  }
  std::map<FolderId, std::vector<uint64_t>> by_folder(const std::vector<MessageId>& ids) {
    std::map<FolderId, std::vector<uint64_t>> out;
    for (MessageId id : ids) {
      auto it = message_folders.find(id);
      const FolderId f = it != message_folders.end() ? it->second : (message_folders[id] = find_message_folder(id));
      out[f].push_back(wire(id));
    }
    return out;
  }
  PropertyBag folder_props(FolderId id) {
    const uint32_t h = open_folder(id);
    Held held(this, h);
    return read_props(h, nullptr, true);
  }
};

namespace {

auto partial = [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u8(), true); };  // PartialCompletion

// ---- tables -----------------------------------------------------------------------------
class RemoteTable : public store::Table {
 public:
  RemoteTable(std::shared_ptr<RemoteState> s, uint32_t handle, std::optional<FolderId> folder) : s_(std::move(s)), h_(handle), folder_(folder) {}
  ~RemoteTable() override {
    std::lock_guard lk(s_->mutex);
    s_->release(h_);
  }
  // SetColumns, Restrict and SortTable go with the table's next request (as Outlook sends them
  // with the QueryRows that follows): a view costs one round trip, not four. A server's refusal
  // of one of them is thrown by that next call.
  void set_columns(std::vector<PropTag> columns) override {
    if (columns.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "SetColumns needs a column");
    deferred_.push_back([columns](RopBatch& b, Slot t) { b.add(W(0x12).u8(t).u8(0).tags(columns).take(), status); });
    columns_ = std::move(columns);
  }
  const std::vector<PropTag>& columns() const override { return columns_; }
  void restrict(std::optional<Restriction> r) override {
    const Bytes data = r ? serialize_restriction(*r) : Bytes{};
    deferred_.push_back([data](RopBatch& b, Slot t) { b.add(W(0x14).u8(t).u8(0).sized(data).take(), status); });
  }
  void sort(const SortOrderSet& set) override {
    store::check_sort_order(set);  // what a server would refuse, refused now
    W req(0x13);
    req.u8(0).u8(0).u16(uint16_t(set.orders.size())).u16(uint16_t(set.categories)).u16(uint16_t(set.expanded));
    for (const auto& o : set.orders) req.u32(o.tag.value).u8(uint8_t(o.direction));
    Bytes rop = req.take();  // the handle index (byte 2) is set when it goes
    deferred_.push_back([rop](RopBatch& b, Slot t) {
      Bytes r = rop;
      r[2] = t;
      b.add(std::move(r), status);
    });
  }
  std::vector<store::Row> query_rows(uint32_t count, bool forward) override {
    std::vector<store::Row> out;
    std::lock_guard lk(s_->mutex);
    while (out.size() < count) {
      const uint16_t want = uint16_t(std::min<uint32_t>(count - uint32_t(out.size()), 0xFFFF));
      std::vector<store::Row> got;
      uint8_t origin = 0;
      RopBatch b(s_->client);
      const Slot t = b.known(h_);
      flush(b, t);
      b.add(W(0x15).u8(t).u8(0).u8(forward ? 1 : 0).u16(want).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        origin = r.u8();
        const uint16_t n = r.u16();
        for (uint16_t i = 0; i < n; ++i) got.push_back(read_property_row(r, columns_));
        return true;
      });
      b.run();
      note(got);
      if (forward) out.insert(out.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
      else out.insert(out.begin(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
      if (got.size() == 0 || (forward && origin == 0x02) || (!forward && origin == 0x00) || got.size() == want) {
        if (got.size() < want || got.size() == 0) break;
      }
    }
    return out;
  }
  int32_t seek_row(store::BookmarkOrigin origin, int32_t offset) override {
    int32_t moved = 0;
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x18).u8(t).u8(uint8_t(origin)).i32(offset).u8(1).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        r.u8();
        moved = r.i32();
        return true;
      });
    });
    return moved;
  }
  void seek_row_approx(uint32_t numerator, uint32_t denominator) override {
    if (denominator == 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "SeekRowApprox needs a denominator");
    run([&](RopBatch& b, Slot t) { b.add(W(0x1A).u8(t).u32(numerator).u32(denominator).take()); });
  }
  uint32_t create_bookmark() override {
    uint32_t bm = 0;
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x1B).u8(t).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        BinaryReader v(r.bytes(r.u16()));
        bm = v.u32();
        return true;
      });
    });
    return bm;
  }
  bool seek_row_bookmark(uint32_t bookmark, int32_t offset, int32_t* rows_sought) override {
    bool visible = true;
    run([&](RopBatch& b, Slot t) {
      BinaryWriter bm;
      bm.u32(bookmark);
      b.add(W(0x19).u8(t).sized(bm.data()).i32(offset).u8(1).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        visible = r.u8() == 0;
        r.u8();
        const int32_t n = r.i32();
        if (rows_sought) *rows_sought = n;
        return true;
      });
    });
    return visible;
  }
  void free_bookmark(uint32_t bookmark) override {
    run([&](RopBatch& b, Slot t) {
      BinaryWriter bm;
      bm.u32(bookmark);
      b.add(W(0x89).u8(t).sized(bm.data()).take());
    });
  }
  std::optional<store::Row> find_row(const Restriction& r, store::BookmarkOrigin origin, bool forward) override {
    std::optional<store::Row> row;
    const Bytes data = serialize_restriction(r);
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x4F).u8(t).u8(forward ? 0 : 1).sized(data).u8(uint8_t(origin)).u16(0).take(), [&](BinaryReader& rd, uint32_t rv) {
        if (rv == uint32_t(ErrorCode::MAPI_E_NOT_FOUND)) return true;
        if (rv != 0) return false;
        rd.u8();
        if (rd.u8()) row = read_property_row(rd, columns_);
        return true;
      });
    });
    if (row) note({*row});
    return row;
  }
  uint32_t row_count() override { return query_position().second; }
  std::pair<uint32_t, uint32_t> query_position() override {
    std::pair<uint32_t, uint32_t> p;
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x17).u8(t).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        p.first = r.u32();
        p.second = r.u32();
        return true;
      });
    });
    return p;
  }
  uint32_t expand_row(const Bytes& key) override {
    uint32_t n = 0;
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x59).u8(t).u16(0).u64(category(key)).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        n = r.u32();
        r.u16();
        return true;
      });
    });
    return n;
  }
  uint32_t collapse_row(const Bytes& key) override {
    uint32_t n = 0;
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x5A).u8(t).u64(category(key)).take(), [&](BinaryReader& r, uint32_t rv) { return rv == 0 && (n = r.u32(), true); });
    });
    return n;
  }
  Bytes get_collapse_state(const Bytes& key) override {
    Bytes state;
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x6B).u8(t).u64(key.empty() ? 0 : category(key)).u32(0).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        state = r.copy(r.u16());
        return true;
      });
    });
    return state;
  }
  uint32_t set_collapse_state(const Bytes& state) override {
    uint32_t bm = 0;
    run([&](RopBatch& b, Slot t) {
      b.add(W(0x6C).u8(t).sized(state).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        BinaryReader v(r.bytes(r.u16()));
        bm = v.u32();
        return true;
      });
    });
    return bm;
  }

 private:
  static bool status(BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u8(), true); }
  // The server's CategoryId of a header row: its instance key read as a number.
  static uint64_t category(const Bytes& key) {
    if (key.size() != 8) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "not an instance key of this table");
    BinaryReader r(key);
    return r.u64();
  }
  void run(const std::function<void(RopBatch&, Slot)>& fill) {
    std::lock_guard lk(s_->mutex);
    RopBatch b(s_->client);
    const Slot t = b.known(h_);
    flush(b, t);
    fill(b, t);
    b.run();
  }
  // The deferred SetColumns, Restrict and SortTable, in the order they were made, first.
  void flush(RopBatch& b, Slot t) {
    for (const auto& d : deferred_) d(b, t);
    deferred_.clear();
  }
  // Rows with PidTagMid of a folder's contents table tell where those messages are.
  void note(const std::vector<store::Row>& rows) {
    if (!folder_) return;
    for (size_t c = 0; c < columns_.size(); ++c)
      if (columns_[c] == tags::PidTagMid) {
        for (const auto& r : rows)
          if (r[c].type() == PropType::Integer64) s_->message_folders[gc_of(uint64_t(r[c].get<int64_t>()))] = *folder_;
      }
  }
  std::shared_ptr<RemoteState> s_;
  uint32_t h_;
  std::optional<FolderId> folder_;
  std::vector<PropTag> columns_;
  std::vector<std::function<void(RopBatch&, Slot)>> deferred_;
};

// A stream read from the server in pieces; the objects behind it stay open until it goes.
class RemoteStream : public store::PropertyStream {
 public:
  RemoteStream(std::shared_ptr<RemoteState> s, std::vector<uint32_t> handles, uint64_t size)
      : s_(std::move(s)), handles_(std::move(handles)), size_(size) {}
  ~RemoteStream() override {
    std::lock_guard lk(s_->mutex);
    for (auto it = handles_.rbegin(); it != handles_.rend(); ++it) s_->release(*it);
  }
  uint64_t size() const override { return size_; }
  size_t read(uint8_t* out, size_t n) override {
    size_t done = 0;
    std::lock_guard lk(s_->mutex);
    while (done < n) {
      if (pos_ == buf_.size()) {
        buf_ = s_->read_stream(handles_.back(), kReadChunk);
        pos_ = 0;
        if (buf_.empty()) break;
      }
      const size_t k = std::min(n - done, buf_.size() - pos_);
      std::copy(buf_.begin() + long(pos_), buf_.begin() + long(pos_ + k), out + done);
      pos_ += k;
      done += k;
    }
    return done;
  }

 private:
  std::shared_ptr<RemoteState> s_;
  std::vector<uint32_t> handles_;  // the message (attachment) and the stream, outermost first
  uint64_t size_;
  Bytes buf_;
  size_t pos_ = 0;
};

// A value held whole (a string read as UTF-16 and turned into UTF-8).
class WholeStream : public store::PropertyStream {
 public:
  explicit WholeStream(Bytes b) : b_(std::move(b)) {}
  uint64_t size() const override { return b_.size(); }
  size_t read(uint8_t* out, size_t n) override {
    const size_t k = std::min(n, b_.size() - pos_);
    std::copy(b_.begin() + long(pos_), b_.begin() + long(pos_ + k), out);
    pos_ += k;
    return k;
  }

 private:
  Bytes b_;
  size_t pos_ = 0;
};

// ---- the mailbox -------------------------------------------------------------------------
class RemoteMailbox : public store::Mailbox {
 public:
  explicit RemoteMailbox(std::shared_ptr<RemoteState> s) : s_(std::move(s)) {}

  PropertyBag store_properties() override {
    std::lock_guard lk(s_->mutex);
    return s_->read_props(s_->logon, nullptr, true);
  }
  Guid mailbox_guid() override { return s_->mailbox_guid; }
  Guid replica_guid() override { return s_->replica_guid; }
  int64_t mailbox_size() override { return store_properties().get_i64(tags::PidTagMessageSizeExtended).value_or(0); }
  std::string owner_address() override { return s_->options.user; }
  void set_quota(int64_t) override {
    throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the quota of a mailbox on a server is set by the server's administrator");
  }

  uint16_t named_property_id(const PropertyName& name, bool create) override {
    const PropertyName c = name.canonical();
    std::lock_guard lk(s_->mutex);
    if (auto it = s_->name_ids.find(c); it != s_->name_ids.end()) return it->second;
    uint16_t id = 0;
    RopBatch b(s_->client);
    const Slot l = b.known(s_->logon);
    W req(0x56);
    req.u8(l).u8(create ? 0x02 : 0x00).u16(1);
    write_property_name(req.w, c);
    b.add(req.take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0 && rv != ecWarnWithErrors) return false;
      if (r.u16() >= 1) id = r.u16();
      return true;
    });
    b.run();
    if (id == 0) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "named property " + name.to_string() + " is not mapped");
    s_->name_ids[c] = id;
    s_->id_names[id] = c;
    return id;
  }
  std::optional<PropertyName> named_property_name(uint16_t id) override {
    std::lock_guard lk(s_->mutex);
    if (auto it = s_->id_names.find(id); it != s_->id_names.end()) return it->second;
    std::optional<PropertyName> name;
    RopBatch b(s_->client);
    const Slot l = b.known(s_->logon);
    b.add(W(0x55).u8(l).u16(1).u16(id).take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      if (r.u16() < 1) return true;
      // PropertyName: Kind 0xFF (none) is followed by a GUID only.
      BinaryReader peek = r;
      if (peek.u8() == 0xFF) {
        r.skip(17);
        return true;
      }
      name = read_property_name(r);
      return true;
    });
    b.run();
    if (name) {
      s_->id_names[id] = *name;
      s_->name_ids[name->canonical()] = id;
    }
    return name;
  }

  FolderId special_folder(SpecialFolder f) override {
    std::lock_guard lk(s_->mutex);
    return s_->special(f);
  }
  FolderId folder_by_path(const std::string& path) override {
    std::lock_guard lk(s_->mutex);
    if (path.empty() || path == "/") return s_->special(SpecialFolder::Root);
    FolderId at = s_->special(SpecialFolder::IpmSubtree);
    size_t pos = path[0] == '/' ? 1 : 0;
    while (pos <= path.size()) {
      size_t slash = path.find('/', pos);
      if (slash == std::string::npos) slash = path.size();
      const std::string part = path.substr(pos, slash - pos);
      pos = slash + 1;
      if (part.empty()) continue;
      bool found = false;
      for (auto& row : s_->table_rows(at, false, 0, {tags::PidTagFolderId, tags::PidTagDisplayName}))
        if (row[1].type() == PropType::String && fold_case(row[1].get<std::string>()) == fold_case(part) && row[0].type() == PropType::Integer64) {
          at = gc_of(uint64_t(row[0].get<int64_t>()));
          found = true;
          break;
        }
      if (!found) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder '" + path + "'");
    }
    return at;
  }
  FolderId create_folder(FolderId parent, const std::string& name, const std::string& container_class, store::FolderType type) override {
    std::lock_guard lk(s_->mutex);
    const uint32_t p = s_->open_folder(parent);
    RemoteState::Held hp(s_.get(), p);
    RopBatch b(s_->client);
    const Slot ps = b.known(p), f = b.fresh();
    uint64_t fid = 0;
    W req(0x1C);
    req.u8(ps).u8(f).u8(type == store::FolderType::Search ? 2 : 1).u8(1).u8(0).u8(0);
    req.w.utf16z(name);
    req.w.utf16z("");
    b.add(req.take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      fid = r.u64();
      if (r.u8()) r.skip(2);
      return true;
    });
    if (!container_class.empty()) {
      BinaryWriter v;
      v.u16(1);
      v.u32(tags::PidTagContainerClass.value);
      server::write_rop_value(v, PropValue::string(tags::PidTagContainerClass, container_class));
      b.add(W(0x0A).u8(f).sized(v.data()).take(), [](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        r.skip(size_t(r.u16()) * 10);
        return true;
      });
    }
    b.run();
    return gc_of(fid);
  }
  PropertyBag folder_properties(FolderId id) override {
    std::lock_guard lk(s_->mutex);
    return s_->folder_props(id);
  }
  void set_folder_properties(FolderId id, const PropertyBag& props) override {
    std::lock_guard lk(s_->mutex);
    const uint32_t h = s_->open_folder(id);
    RemoteState::Held held(s_.get(), h);
    s_->set_props(h, props.values(), true);
  }
  void delete_folder_properties(FolderId id, const std::vector<PropTag>& t) override {
    std::lock_guard lk(s_->mutex);
    const uint32_t h = s_->open_folder(id);
    RemoteState::Held held(s_.get(), h);
    s_->delete_props(h, t);
  }
  void rename_folder(FolderId id, const std::string& new_name) override {
    PropertyBag b;
    b.set(PropValue::string(tags::PidTagDisplayName, new_name));
    set_folder_properties(id, b);
  }
  void move_folder(FolderId id, FolderId new_parent) override {
    const auto parent = parent_folder(id);
    if (!parent) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the root folder cannot be moved");
    std::lock_guard lk(s_->mutex);
    folder_to_folder(*parent, new_parent, [&](Slot from, Slot to) {
      W req(0x35);
      req.u8(from).u8(to).u8(0).u8(1).u64(wire(id));
      req.w.utf16z("");
      return req.take();
    });
  }
  // RopMoveFolder / RopCopyFolder: one ROP from the folder `from` (the parent) to `to`.
  template <class MakeRop>
  void folder_to_folder(FolderId from, FolderId to, MakeRop make) {
    const uint32_t src = s_->open_folder(from);
    RemoteState::Held hs(s_.get(), src);
    const uint32_t dst = s_->open_folder(to);
    RemoteState::Held hd(s_.get(), dst);
    RopBatch b(s_->client);
    const Slot ss = b.known(src), ds = b.known(dst);
    b.add(make(ss, ds), partial, 1);
    b.run();
  }
  // RopCopyFolder: the server copies in one step. Its response names no folder, so the copy is
  // found as the destination's child of that name (sibling names are unique).
  std::optional<FolderId> copy_folder_whole(FolderId id, FolderId dest, const std::string& new_name, bool recursive) override {
    const auto parent = parent_folder(id);
    if (!parent) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the root folder cannot be copied");
    const std::string name = new_name.empty() ? folder_properties(id).get_string(tags::PidTagDisplayName).value_or("") : new_name;
    std::lock_guard lk(s_->mutex);
    folder_to_folder(*parent, dest, [&](Slot from, Slot to) {
      W req(0x36);
      req.u8(from).u8(to).u8(0).u8(recursive ? 1 : 0).u8(1).u64(wire(id));
      req.w.utf16z(name);
      return req.take();
    });
    for (auto& row : s_->table_rows(dest, false, 0, {tags::PidTagFolderId, tags::PidTagDisplayName}))
      if (row[1].type() == PropType::String && fold_case(row[1].get<std::string>()) == fold_case(name) && row[0].type() == PropType::Integer64)
        return gc_of(uint64_t(row[0].get<int64_t>()));
    throw_error(ErrorCode::MAPI_E_CALL_FAILED, "the server copied folder " + std::to_string(id) + " but its copy '" + name + "' is not there");
  }
  // RopEmptyFolder: hard deletes on the server, in one step.
  bool empty_folder_whole(FolderId id, bool associated) override {
    std::lock_guard lk(s_->mutex);
    s_->on_folder(id, [&](RopBatch& b, Slot f) { b.add(W(0x58).u8(f).u8(0).u8(associated ? 1 : 0).take(), partial, 1); });
    std::erase_if(s_->message_folders, [&](const auto& kv) { return kv.second == id; });
    return true;
  }
  void delete_folder(FolderId id, uint32_t flags) override {
    const auto parent = parent_folder(id);
    if (!parent) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the root folder cannot be deleted");
    std::lock_guard lk(s_->mutex);
    s_->on_folder(*parent, [&](RopBatch& b, Slot f) { b.add(W(0x1D).u8(f).u8(uint8_t(flags)).u64(wire(id)).take(), partial, 1); });
  }
  std::vector<FolderId> child_folders(FolderId id) override {
    std::lock_guard lk(s_->mutex);
    std::vector<FolderId> out;
    for (auto& row : s_->table_rows(id, false, 0, {tags::PidTagFolderId}))
      if (row[0].type() == PropType::Integer64) out.push_back(gc_of(uint64_t(row[0].get<int64_t>())));
    return out;
  }
  std::optional<FolderId> parent_folder(FolderId id) override {
    std::lock_guard lk(s_->mutex);
    if (id == s_->special(SpecialFolder::Root)) return std::nullopt;
    PropertyBag b = s_->folder_props(id);
    auto p = b.get_i64(tags::PidTagParentFolderId);
    if (!p || *p == 0) return std::nullopt;
    return gc_of(uint64_t(*p));
  }

  MessageId save_message(FolderId folder, const openmapi::Message& msg, std::optional<MessageId> existing,
                         const std::vector<store::StreamedValue>& streams) override {
    std::lock_guard lk(s_->mutex);
    uint32_t h;
    if (existing) {
      h = s_->open_message(*existing, true).handle;
      RemoteState::Held held(s_.get(), h);
      // Replaced whole: what the new version lacks goes first.
      std::vector<PropTag> gone;
      for (const auto& [t, v] : [&] {
             std::vector<std::pair<PropTag, int>> list;
             RopBatch b(s_->client);
             const Slot s = b.known(h);
             b.add(W(0x09).u8(s).take(), [&](BinaryReader& r, uint32_t rv) {
               if (rv != 0) return false;
               const uint16_t n = r.u16();
               for (uint16_t i = 0; i < n; ++i) list.emplace_back(PropTag(r.u32()), 0);
               return true;
             });
             b.run();
             return list;
           }())
        if (!msg.props.find(PropTag(t.id(), PropType::Unspecified)) && !server_computed(t)) gone.push_back(t);
      s_->delete_props(h, gone);
      for (uint32_t num : s_->attachment_numbers(h)) {
        RopBatch b(s_->client);
        const Slot s = b.known(h);
        b.add(W(0x24).u8(s).u32(num).take());
        b.run();
      }
      return finish_save(h, folder, msg, streams, 0x04 | 0x02);
    }
    h = s_->create_message(folder, (msg.props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Associated) != 0);
    RemoteState::Held held(s_.get(), h);
    return finish_save(h, folder, msg, streams, 0x02);
  }
  openmapi::Message load_message(MessageId id, bool large_values) override {
    std::lock_guard lk(s_->mutex);
    auto o = s_->open_message(id, false);
    RemoteState::Held held(s_.get(), o.handle);
    return s_->read_message(o.handle, o.recipients, id, large_values);
  }
  FolderId message_folder(MessageId id) override {
    std::lock_guard lk(s_->mutex);
    auto it = s_->message_folders.find(id);
    if (it != s_->message_folders.end()) return it->second;
    return s_->message_folders[id] = s_->find_message_folder(id);
  }
  std::unique_ptr<store::PropertyStream> open_stream(MessageId id, PropTag tag) override {
    std::lock_guard lk(s_->mutex);
    auto o = s_->open_message(id, false);
    return stream_on(o.handle, {o.handle}, tag);
  }
  std::unique_ptr<store::PropertyStream> open_attachment_stream(MessageId id, uint32_t attach_num, PropTag tag) override {
    std::lock_guard lk(s_->mutex);
    auto o = s_->open_message(id, false);
    uint32_t a;
    try {
      a = s_->open_attach(o.handle, attach_num, false);
    } catch (...) {
      s_->release(o.handle);
      throw;
    }
    return stream_on(a, {o.handle, a}, tag);
  }
  std::vector<std::pair<PropTag, uint64_t>> large_properties(MessageId id, std::optional<uint32_t> attach_num) override {
    const std::pair<MessageId, int64_t> key{id, attach_num ? int64_t(*attach_num) : -1};
    {
      std::lock_guard lk(s_->mutex);
      if (auto it = s_->large.find(key); it != s_->large.end()) return it->second;
    }
    load_message(id, false);
    std::lock_guard lk(s_->mutex);
    return s_->large[key];
  }
  void delete_messages(const std::vector<MessageId>& ids, store::DeleteMode mode) override {
    std::lock_guard lk(s_->mutex);
    for (const auto& [f, batch_ids] : s_->by_folder(ids))
      s_->on_folder(f, [&, &list = batch_ids](RopBatch& b, Slot s) {
        b.add(W(mode == store::DeleteMode::Hard ? 0x91 : 0x1E).u8(s).u8(0).u8(0).ids(list).take(), partial, 1);
      });
    for (MessageId id : ids) s_->message_folders.erase(id);
  }
  void undelete_messages(const std::vector<MessageId>&) override {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "soft-deleted messages of a mailbox on a server are restored on the server");
  }
  void set_read_flag(const std::vector<MessageId>& ids, bool read) override {
    std::lock_guard lk(s_->mutex);
    for (const auto& [f, batch_ids] : s_->by_folder(ids))
      s_->on_folder(f, [&, &list = batch_ids](RopBatch& b, Slot s) {
        b.add(W(0x66).u8(s).u8(0).u8(read ? store::readflag::SuppressReceipt : store::readflag::ClearReadFlag | store::readflag::SuppressReceipt)
                  .ids(list)
                  .take(),
              partial, 1);
      });
  }
  std::vector<MessageId> move_messages(const std::vector<MessageId>& ids, FolderId to) override { return move_copy(ids, to, false); }
  std::vector<MessageId> copy_messages(const std::vector<MessageId>& ids, FolderId to) override { return move_copy(ids, to, true); }

  MessageId write_message(FolderId folder, std::optional<MessageId> existing, bool associated, const store::MessageChanges& changes) override {
    std::lock_guard lk(s_->mutex);
    uint32_t h;
    if (existing) {
      try {
        h = s_->open_message(*existing, true).handle;
      } catch (const MapiError& e) {
        if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
        throw_error(ErrorCode::MAPI_E_OBJECT_DELETED, "message " + std::to_string(*existing) + " was deleted meanwhile");
      }
    } else {
      h = s_->create_message(folder, associated);
    }
    RemoteState::Held held(s_.get(), h);
    if (existing && changes.expected_change_key) {
      std::optional<Bytes> now;
      RopBatch b(s_->client);
      const Slot s = b.known(h);
      b.add(W(0x07).u8(s).u16(0).u16(1).tags({tags::PidTagChangeKey}).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        auto row = read_property_row(r, {tags::PidTagChangeKey});
        if (row[0].type() == PropType::Binary) now = row[0].get<Bytes>();
        return true;
      });
      b.run();
      if (now && *now != *changes.expected_change_key)
        throw_error(ErrorCode::MAPI_E_OBJECT_CHANGED, "the message was changed by someone else since it was opened");
    }
    apply(h, changes.props, true);
    if (changes.recipients) s_->write_recipients(h, *changes.recipients);
    for (const auto& a : changes.attachments) {
      if (a.deleted) {
        RopBatch b(s_->client);
        const Slot s = b.known(h);
        b.add(W(0x24).u8(s).u32(a.attach_num).take());
        b.run();
        continue;
      }
      if (a.created) {
        // Created with its values, then its streams.
        RopBatch b(s_->client);
        const Slot s = b.known(h), as = b.fresh();
        b.add(W(0x23).u8(s).u8(as).take(), [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u32(), true); });
        b.keep(as);
        b.run();
        RemoteState::Held ha(s_.get(), b.handle(as));
        apply(ha.h, a.props, false);
        if (a.embedded) write_embedded(ha.h, *a.embedded);
        s_->save_attachment(ha.h);
        continue;
      }
      const uint32_t at = s_->open_attach(h, a.attach_num, true);
      RemoteState::Held ha(s_.get(), at);
      apply(at, a.props, true);
      if (a.embedded) write_embedded(at, *a.embedded);
      s_->save_attachment(at);
    }
    // Without an expected change key the save overwrites (FORCE_SAVE).
    const uint8_t flags = changes.expected_change_key ? 0x02 : 0x06;
    const MessageId id = s_->save_message_object(h, flags);
    s_->message_folders[id] = folder;
    s_->large.erase({id, -1});
    for (auto it = s_->large.begin(); it != s_->large.end();) it = it->first.first == id ? s_->large.erase(it) : std::next(it);
    return id;
  }

  void set_search_criteria(FolderId id, const std::optional<Restriction>& restriction, const std::vector<FolderId>& folders, uint32_t flags) override {
    std::lock_guard lk(s_->mutex);
    const Bytes data = restriction ? serialize_restriction(*restriction) : Bytes{};
    std::vector<uint64_t> fids;
    for (FolderId f : folders) fids.push_back(wire(f));
    s_->on_folder(id, [&](RopBatch& b, Slot s) { b.add(W(0x30).u8(s).sized(data).ids(fids).u32(flags).take()); });
  }
  store::SearchCriteria get_search_criteria(FolderId id) override {
    std::lock_guard lk(s_->mutex);
    store::SearchCriteria sc;
    s_->on_folder(id, [&](RopBatch& b, Slot s) {
      b.add(W(0x31).u8(s).u8(1).u8(1).u8(1).take(), [&](BinaryReader& r, uint32_t rv) {
        if (rv != 0) return false;
        const ByteView data = r.bytes(r.u16());
        if (!data.empty()) sc.restriction = parse_restriction(data);
        r.u8();
        const uint16_t n = r.u16();
        for (uint16_t i = 0; i < n; ++i) sc.folders.push_back(gc_of(r.u64()));
        sc.state = r.u32();
        return true;
      });
    });
    return sc;
  }

  std::pair<bool, uint64_t> resolve_entry_id(const Bytes& entry_id) override {
    auto r = store::Mailbox::resolve_entry_id(entry_id);
    if (!r.first) {  // a message entry ID names its folder too
      const MessageEntryId m = MessageEntryId::parse(entry_id);
      std::lock_guard lk(s_->mutex);
      s_->message_folders[m.message_gc] = m.folder_gc;
    }
    return r;
  }

  void submit_message(MessageId id) override {
    std::lock_guard lk(s_->mutex);
    auto o = s_->open_message(id, true);
    RemoteState::Held held(s_.get(), o.handle);
    RopBatch b(s_->client);
    const Slot s = b.known(o.handle);
    b.add(W(0x32).u8(s).u8(0).take());
    b.run();
  }
  void abort_submit(MessageId id) override {
    std::lock_guard lk(s_->mutex);
    FolderId f = 0;
    {
      auto o = s_->open_message(id, false, &f);
      s_->release(o.handle);
    }
    RopBatch b(s_->client);
    const Slot l = b.known(s_->logon);
    b.add(W(0x34).u8(l).u64(wire(f)).u64(wire(id)).take());
    b.run();
  }

  // The queue as a client sees it: the Outbox's submitted messages (MSGFLAG_SUBMITTED), oldest
  // first, with their submit times; the server's spooler keeps the queue itself.
  std::vector<std::pair<MessageId, int64_t>> outgoing_queue() override {
    std::lock_guard lk(s_->mutex);
    const FolderId outbox = s_->special(SpecialFolder::Outbox);
    std::vector<std::pair<MessageId, int64_t>> out;
    for (auto& row : s_->table_rows(outbox, true, 0, {tags::PidTagMid, tags::PidTagMessageFlags, tags::PidTagClientSubmitTime}))
      if (row[0].type() == PropType::Integer64 && row[1].type() == PropType::Integer32 && (row[1].get<int32_t>() & msgflag::Submitted))
        out.emplace_back(gc_of(uint64_t(row[0].get<int64_t>())), row[2].type() == PropType::Time ? row[2].get<int64_t>() : 0);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return out;
  }

  std::vector<std::pair<std::string, FolderId>> receive_folders() override {
    std::lock_guard lk(s_->mutex);
    std::vector<std::pair<std::string, FolderId>> out;
    RopBatch b(s_->client);
    const Slot l = b.known(s_->logon);
    b.add(W(0x68).u8(l).take(), [&](BinaryReader& r, uint32_t rv) {
      if (rv != 0) return false;
      const uint32_t n = r.u32();
      for (uint32_t i = 0; i < n; ++i) {
        r.u8();
        const uint64_t fid = r.u64();
        std::string cls = r.str8z();
        r.u64();
        out.emplace_back(ascii_lower(cls), gc_of(fid));
      }
      return true;
    });
    b.run();
    return out;
  }
  void set_receive_folder(const std::string& message_class, std::optional<FolderId> folder) override {
    std::lock_guard lk(s_->mutex);
    RopBatch b(s_->client);
    const Slot l = b.known(s_->logon);
    W req(0x26);
    req.u8(l).u64(folder ? wire(*folder) : 0);
    req.w.str8z(message_class);
    b.add(req.take());
    b.run();
  }

  std::unique_ptr<Batch> begin_batch() override {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "a mailbox on a server takes no batches: each call is its own");
  }
  // One feed per server mailbox in this process, fed by a reader connection that has the server
  // notify it of every change of the store (open_remote_reader).
  std::shared_ptr<store::ChangeFeed> change_feed() override {
    const RemoteOptions o = s_->options;
    return store::ChangeFeed::get(feed_key_of(o), [o] { return open_remote_reader(o); });
  }
  std::vector<Change> changes_since(int64_t after, std::optional<FolderId> folder, size_t limit) override {
    std::lock_guard lk(s_->journal_mutex);
    std::vector<Change> out;
    auto it = std::upper_bound(s_->journal.begin(), s_->journal.end(), after,
                               [](int64_t n, const Change& c) { return n < c.change_number; });
    for (; it != s_->journal.end() && out.size() < limit; ++it)
      if (!folder || it->parent == *folder || (it->old_parent && *it->old_parent == *folder)) out.push_back(*it);
    return out;
  }
  int64_t last_change_number() override {
    std::lock_guard lk(s_->journal_mutex);
    return s_->last_change;
  }
  std::unique_ptr<store::Table> hierarchy_table(FolderId id, uint32_t flags) override { return table(id, false, flags); }
  std::unique_ptr<store::Table> contents_table(FolderId id, uint32_t flags) override { return table(id, true, flags); }
  std::vector<std::string> check_integrity() override {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "the integrity of a mailbox on a server is checked on the server");
  }

 private:
  std::unique_ptr<store::Table> table(FolderId id, bool contents, uint32_t flags) {
    std::lock_guard lk(s_->mutex);
    const uint32_t f = s_->open_folder(id);
    RemoteState::Held hf(s_.get(), f);
    RopBatch b(s_->client);
    const Slot fs = b.known(f), t = b.fresh();
    const uint8_t wire_flags = uint8_t((flags & (store::tableflag::Associated | store::tableflag::Depth | store::tableflag::SoftDeletes)) | 0x10);
    b.add(W(contents ? 0x05 : 0x04).u8(fs).u8(t).u8(wire_flags).take(), [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u32(), true); });
    b.keep(t);
    b.run();
    return std::make_unique<RemoteTable>(s_, b.handle(t), contents && !(flags & store::tableflag::Depth) ? std::optional(id) : std::nullopt);
  }
  std::unique_ptr<store::PropertyStream> stream_on(uint32_t object, std::vector<uint32_t> held, PropTag tag) {
    try {
      if (tag.type() == PropType::String || tag.type() == PropType::String8) {
        const Bytes wide = s_->read_stream_whole(object, tag.with_type(PropType::String));
        const std::string text = RemoteState::utf16le_text(wide);
        for (auto it = held.rbegin(); it != held.rend(); ++it) s_->release(*it);
        return std::make_unique<WholeStream>(Bytes(text.begin(), text.end()));
      }
      uint64_t size = 0;
      const uint32_t st = s_->open_stream(object, tag, 0, &size);
      held.push_back(st);
      // The mutex is held by the caller; the stream takes it per read.
      return std::make_unique<RemoteStream>(s_, std::move(held), size);
    } catch (...) {
      for (auto it = held.rbegin(); it != held.rend(); ++it) s_->release(*it);
      throw;
    }
  }
  // Applies one bag's changes to `h`: set, removed, streamed values.
  void apply(uint32_t h, const store::PropChanges& c, bool strict) {
    s_->set_props(h, c.set, strict);
    s_->delete_props(h, c.removed);
    for (const auto& st : c.streams) {
      if (st.tag.type() == PropType::String || st.tag.type() == PropType::String8) {
        std::string text;
        uint8_t buf[16384];
        for (size_t n; (n = st.source(buf, sizeof buf)) > 0;) text.append(reinterpret_cast<const char*>(buf), n);
        const Bytes wide = utf8_to_utf16le(text);
        size_t pos = 0;
        s_->write_stream(h, st.tag.with_type(PropType::String), [&](uint8_t* out, size_t n) {
          const size_t k = std::min(n, wide.size() - pos);
          std::copy(wide.begin() + long(pos), wide.begin() + long(pos + k), out);
          pos += k;
          return k;
        });
      } else {
        s_->write_stream(h, st.tag, st.source);
      }
    }
  }
  void write_embedded(uint32_t a, const openmapi::Message& m) {
    auto e = s_->open_embedded(a, true);
    RemoteState::Held he(s_.get(), e.handle);
    s_->write_whole(e.handle, m);
    s_->save_message_object(e.handle, 0x02);
  }
  MessageId finish_save(uint32_t h, FolderId folder, const openmapi::Message& msg, const std::vector<store::StreamedValue>& streams, uint8_t flags) {
    s_->write_whole(h, msg);
    store::PropChanges c;
    c.streams = streams;
    apply(h, c, false);
    const MessageId id = s_->save_message_object(h, flags);
    s_->message_folders[id] = folder;
    for (auto it = s_->large.begin(); it != s_->large.end();) it = it->first.first == id ? s_->large.erase(it) : std::next(it);
    return id;
  }
  std::vector<MessageId> move_copy(const std::vector<MessageId>& ids, FolderId to, bool copy) {
    std::lock_guard lk(s_->mutex);
    // RopMoveCopyMessages answers no ids: the new ones are those the destination gained.
    const std::set<MessageId> before = s_->message_ids(to);
    const uint32_t dst = s_->open_folder(to);
    RemoteState::Held hd(s_.get(), dst);
    for (const auto& [f, list] : s_->by_folder(ids)) {
      const uint32_t src = s_->open_folder(f);
      RemoteState::Held hs(s_.get(), src);
      RopBatch b(s_->client);
      const Slot ss = b.known(src), ds = b.known(dst);
      b.add(W(0x33).u8(ss).u8(ds).ids(list).u8(0).u8(copy ? 1 : 0).take(), partial, 1);
      b.run();
    }
    std::vector<MessageId> out;
    for (MessageId id : s_->message_ids(to))
      if (!before.count(id)) {
        out.push_back(id);
        s_->message_folders[id] = to;
      }
    if (!copy)
      for (MessageId id : ids) s_->message_folders.erase(id);
    return out;
  }

  std::shared_ptr<RemoteState> s_;
};

}  // namespace

namespace {

std::shared_ptr<RemoteState> logon_state(const RemoteOptions& options);

std::string feed_key_of(const RemoteOptions& o) { return "remote:" + o.url + "#" + ascii_lower(o.user); }

// The reader of a ChangeFeed: a connection of its own whose logon registered for every
// notification of the store (RopRegisterNotification, WantWholeStore), and a thread that waits
// for them (NotificationWait on a second connection) and fetches them (an Execute without ROPs:
// RopNotify responses come after the ROPs' answers, MS-OXCNOTIF 3.1.5.2).
class RemoteReader final : public RemoteMailbox {
 public:
  explicit RemoteReader(std::shared_ptr<RemoteState> s) : RemoteMailbox(s), st_(std::move(s)) {
    st_->feed_key = feed_key_of(st_->options);
    st_->client.on_notify = [st = st_.get()](ByteView tail) { st->on_notify(tail); };
    {
      std::lock_guard lk(st_->mutex);
      RopBatch b(st_->client);
      const Slot l = b.known(st_->logon), n = b.fresh();
      // NotificationTypes: every object event and SearchComplete (the low byte of fnev).
      b.add(W(0x29).u8(l).u8(n).u8(uint8_t(store::fnev::All & 0xFE)).u8(0).u8(1).take());
      b.keep(n);
      b.run();
    }
    thread_ = std::thread([this] { listen(); });
  }
  ~RemoteReader() override {
    stop_ = true;
    st_->client.interrupt_wait();
    if (thread_.joinable()) thread_.join();
    st_->client.on_notify = nullptr;
  }

 private:
  void listen() {
    int failures = 0;
    while (!stop_) {
      bool pending = false;
      try {
        pending = st_->client.notification_wait();
        failures = 0;
      } catch (const MapiError& e) {
        if (stop_) return;
        // A server that went away: try again, less often the longer it stays away.
        spdlog::debug("waiting for notifications from {}: {}", st_->client.server(), e.describe());
        for (int i = 0; i < std::min(10, ++failures) * 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (!pending || stop_) continue;
      try {
        std::lock_guard lk(st_->mutex);
        // RopPending says more wait: fetch again (bounded; the next wait comes back at once otherwise).
        for (int round = 0; round < 64 && !stop_; ++round) {
          {
            std::lock_guard jl(st_->journal_mutex);
            st_->more_pending = false;
          }
          BinaryWriter buffer;
          buffer.u16(2);  // RopSize: no ROPs
          buffer.u32(st_->logon);
          const Bytes out = st_->client.execute(buffer.data());
          BinaryReader r(out);
          const uint16_t rop_size = r.u16();
          if (rop_size < 2 || rop_size > out.size()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an Execute response with RopSize " + std::to_string(rop_size));
          st_->on_notify(ByteView(out).subspan(2, rop_size - 2));
          std::lock_guard jl(st_->journal_mutex);
          if (!st_->more_pending) break;
        }
      } catch (const MapiError& e) {
        spdlog::warn("fetching notifications from {}: {}", st_->client.server(), e.describe());
      }
    }
  }

  std::shared_ptr<RemoteState> st_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::unique_ptr<store::Mailbox> open_remote_reader(const RemoteOptions& options) { return std::make_unique<RemoteReader>(logon_state(options)); }

}  // namespace

std::shared_ptr<store::Mailbox> open_remote_mailbox(const RemoteOptions& options) { return std::make_shared<RemoteMailbox>(logon_state(options)); }

namespace {
// Connect and RopLogon: the state of one connection to the user's mailbox.
std::shared_ptr<RemoteState> logon_state(const RemoteOptions& options) {
  auto s = std::make_shared<RemoteState>(options);
  std::lock_guard lk(s->mutex);
  s->client.connect();
  // RopLogon (MS-OXCROPS 2.2.3.1): the private mailbox of the user, by its LegacyDN.
  RopBatch b(s->client);
  const Slot l = b.fresh();
  W req(0xFE);
  req.u8(l).u8(0x01).u32(0x01000000).u32(0);
  req.u16(uint16_t(s->client.legacy_dn().size() + 1));
  req.w.str8z(s->client.legacy_dn());
  b.add(req.take(), [&](BinaryReader& r, uint32_t rv) {
    if (rv != 0) return false;
    r.u8();  // LogonFlags
    using SF = SpecialFolder;
    for (SF f : {SF::Root, SF::DeferredAction, SF::SpoolerQueue, SF::IpmSubtree, SF::Inbox, SF::Outbox, SF::SentItems, SF::DeletedItems,
                 SF::CommonViews, SF::Schedule, SF::Finder, SF::Views, SF::Shortcuts})
      s->specials[f] = gc_of(r.u64());
    r.u8();  // ResponseFlags
    ByteView g = r.bytes(16);
    std::copy(g.begin(), g.end(), s->mailbox_guid.bytes.begin());
    r.u16();  // ReplId
    g = r.bytes(16);
    std::copy(g.begin(), g.end(), s->replica_guid.bytes.begin());
    r.skip(8 + 8 + 4);  // LogonTime, GwartTime, StoreState
    return true;
  });
  b.keep(l);
  try {
    b.run();
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode(0x000003F2)) throw_error(ErrorCode::MAPI_E_LOGON_FAILED, "the server does not let " + options.user + " open this mailbox");
    throw;
  }
  s->logon = b.handle(l);
  return s;
}
}  // namespace

namespace {

// ---- the Global Address List through NSPI -----------------------------------------------
class RemoteDirectory final : public Directory {
 public:
  explicit RemoteDirectory(const RemoteOptions& o) : options_(o) {}
  ~RemoteDirectory() override {
    if (client_) client_->nspi_unbind();
  }

  std::string name() override { return "Global Address List"; }
  // MS-OXNSPI 2.2.9.3: the permanent entry ID of the GAL container (DN "/").
  Bytes entry_id() override { return server::nspi::permanent_entry_id(0x100 /* DT_CONTAINER */, "/"); }

  // QueryRows from the beginning of the GAL, 100 rows a request, following the returned STAT.
  std::vector<AddressEntry> entries() override {
    std::lock_guard lk(mutex_);
    bind();
    server::nspi::Stat stat;
    stat.code_page = 65001;
    std::vector<AddressEntry> out;
    while (out.size() < kMaxDirectoryEntries) {
      BinaryWriter w;
      w.u32(0);  // Flags
      w.u8(0xFF);
      server::nspi::write_stat(w, stat);
      w.u32(0);    // ExplicitTableCount
      w.u32(100);  // RowCount
      w.u8(0xFF);
      write_columns(w);
      w.u32(0);  // AuxiliaryBufferSize
      const Bytes body = client_->nspi("QueryRows", w.data());
      BinaryReader r(body);
      if (!r.u8()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an NSPI QueryRows response without its STAT");
      stat = server::nspi::read_stat(r);
      const size_t got = read_rows(r, out);
      if (got == 0 || stat.current_rec == server::nspi::MID_END_OF_TABLE) break;
    }
    return out;
  }

  // ResolveNames: the server's ambiguous name resolution (MS-OXNSPI 3.1.4.7).
  std::optional<AddressEntry> resolve(const std::string& text) override {
    std::lock_guard lk(mutex_);
    bind();
    BinaryWriter w;
    w.u32(0);  // Reserved
    w.u8(0xFF);
    server::nspi::Stat stat;
    stat.code_page = 65001;
    server::nspi::write_stat(w, stat);
    w.u8(0xFF);
    write_columns(w);
    w.u8(0xFF);  // HasNames
    w.u32(1);
    w.utf16z(text);
    w.u32(0);  // AuxiliaryBufferSize
    const Bytes body = client_->nspi("ResolveNames", w.data());
    BinaryReader r(body);
    r.u32();  // CodePage
    uint32_t result = server::nspi::MID_UNRESOLVED;
    if (r.u8()) {  // HasMIds
      const uint32_t n = r.u32();
      if (n != 1) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an NSPI ResolveNames response with " + std::to_string(n) + " results for one name");
      result = r.u32();
    }
    std::vector<AddressEntry> rows;
    read_rows(r, rows);
    if (result != server::nspi::MID_RESOLVED || rows.size() != 1) return std::nullopt;
    return rows[0];
  }

 private:
  // PidTagDisplayName, PidTagSmtpAddress, PidTagEmailAddress (the DN), in UTF-16.
  static constexpr PropTag kColumns[3] = {PropTag(0x3001, PropType::String), PropTag(0x39FE, PropType::String),
                                          PropTag(0x3003, PropType::String)};
  static void write_columns(BinaryWriter& w) {
    w.u32(3);
    for (PropTag t : kColumns) w.u32(t.value);
  }
  void bind() {
    if (client_) return;
    auto c = std::make_unique<MapiHttpClient>(options_);
    c->nspi_bind();
    client_ = std::move(c);
  }
  // The rows of an NSPI response (read_address_book_rows) appended to `out` as SMTP entries;
  // returns how many rows came.
  size_t read_rows(BinaryReader& r, std::vector<AddressEntry>& out) {
    std::vector<PropTag> cols;
    const auto rows = read_address_book_rows(r, &cols);
    for (const auto& row : rows) {
      std::string display, smtp;
      for (size_t i = 0; i < cols.size(); ++i) {
        const auto* text = row[i].get_if<std::string>();
        if (!text) continue;
        if (cols[i].id() == 0x3001) display = *text;
        else if (cols[i].id() == 0x39FE) smtp = *text;
      }
      if (smtp.empty()) continue;  // an entry without an Internet address cannot be written to
      AddressEntry e;
      e.display_name = display.empty() ? smtp : display;
      e.email_address = smtp;
      OneOffEntryId o;
      o.display_name = e.display_name;
      o.address_type = "SMTP";
      o.email_address = smtp;
      e.entry_id = o.serialize();
      e.container = name();
      out.push_back(std::move(e));
    }
    return rows.size();
  }

  RemoteOptions options_;
  std::mutex mutex_;
  std::unique_ptr<MapiHttpClient> client_;
};

}  // namespace

std::shared_ptr<Directory> open_remote_directory(const RemoteOptions& options) { return std::make_shared<RemoteDirectory>(options); }

}  // namespace openmapi::mapi
