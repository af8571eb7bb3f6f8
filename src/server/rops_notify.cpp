// Notifications (MS-OXCNOTIF, MS-OXCROPS 2.2.14): RopRegisterNotification, the table
// subscriptions of opened tables, and the NotificationData of RopNotify.
#include <spdlog/spdlog.h>

#include "server/rop_context.h"

namespace openmapi::server {

namespace {

// NotificationFlags: the M bit above the 12-bit type (MS-OXCROPS 2.2.14.2.1.1). T and U (the
// folder's counts follow) and S (a search folder) are not sent.
constexpr uint16_t kMessage = 0x8000;
// TableEventType (MS-OXCNOTIF 2.2.1.4.1.2).
constexpr uint16_t kTableChanged = 0x0001, kRowAdded = 0x0003, kRowDeleted = 0x0004, kRowModified = 0x0005;

void register_notification(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  const uint8_t types = c.in.u8();  // NotificationTypes: the fnev bits of MS-OXCNOTIF 2.2.1.1.1 (low byte)
  c.in.u8();                        // Reserved
  const bool whole_store = c.in.u8() != 0;
  uint64_t folder = 0, message = 0;
  if (!whole_store) {
    folder = c.in.u64();
    message = c.in.u64();
  }
  auto o = c.object(in_index);
  if (o->kind != Kind::Logon) throw RopFailure{ec::NotSupported};
  uint32_t& out_slot = c.slot(c.index);
  if ((types & ~0xFE) || types == 0) throw RopFailure{ec::InvalidParameter};
  store::AdviseScope scope = whole_store ? store::AdviseScope::store()
                             : message   ? store::AdviseScope::message(message_of(message))
                                         : store::AdviseScope::folder(folder_of(folder));
  auto n = RopContext::derived(*o, Kind::Notification);
  c.add(out_slot, n);
  const uint32_t handle = out_slot;
  const uint8_t logon_id = o->logon_id;
  RopSession* s = &c.s;
  try {
    n->advise = o->logon->advise(types, scope, [s, handle, logon_id](const store::Notification& event) {
      RopSession::Queued q;
      q.handle = handle;
      q.logon_id = logon_id;
      q.object = event;
      s->queue(std::move(q));
    });
  } catch (...) {
    c.release(handle);
    throw;
  }
  c.ok();
}

const RopEntry kNotifyRops[] = {
    {{0x29, "RopRegisterNotification", "2.2.14.1"}, register_notification},
};

uint64_t key_id(const Bytes& key) {
  if (key.size() != 8) return 0;
  BinaryReader r(key);
  return r.u64();
}

}  // namespace

std::span<const RopEntry> notify_rops() { return kNotifyRops; }

void advise_table(RopContext& c, RopSession::Object& o, uint32_t handle) {
  RopSession* s = &c.s;
  const uint8_t logon_id = o.logon_id;
  const uint64_t folder = o.folder ? uint64_t(o.folder->id()) : 0;
  const bool contents = o.contents_table;
  try {
    o.advise = o.table->advise([s, handle, logon_id, folder, contents](const store::TableNotification& tn) {
      RopSession::Queued q;
      q.handle = handle;
      q.logon_id = logon_id;
      q.table = tn;
      q.table_folder = folder;
      q.contents_table = contents;
      s->queue(std::move(q));
    });
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_NO_SUPPORT) throw;  // (attachment and recipient tables)
  }
}

std::optional<Bytes> notification_data(RopSession::Object* table_object, const RopSession::Queued& q) {
  // `table_object`: the object the notification is for (a table, or a notification object on its logon).
  BinaryWriter w;
  if (q.table) {
    const store::TableNotification& tn = *q.table;
    const uint16_t event = tn.event == store::table_event::RowAdded      ? kRowAdded
                           : tn.event == store::table_event::RowDeleted  ? kRowDeleted
                           : tn.event == store::table_event::RowModified ? kRowModified
                                                                         : kTableChanged;
    const bool m = q.contents_table;
    w.u16(uint16_t(store::fnev::TableModified | (m ? kMessage : 0)));
    w.u16(event);
    if (event == kTableChanged) return w.take();
    // A row names its object by instance key: a message of the table's folder, or a folder.
    auto ids = [&](const Bytes& key) {
      const uint64_t id = key_id(key);
      if (m) {
        w.u64(key.empty() ? 0 : fid(q.table_folder));
        w.u64(key.empty() ? 0 : wire_id(id));
        w.u32(0);  // Instance: one per row here
      } else {
        w.u64(key.empty() ? 0 : wire_id(id));
      }
    };
    ids(tn.instance_key);
    if (event == kRowDeleted) return w.take();
    ids(tn.prior_instance_key);  // InsertAfter: 0 for the first row
    if (!table_object || !table_object->table) return std::nullopt;
    const auto& columns = table_object->table->columns();
    if (tn.row.size() != columns.size()) {
      // The table's columns changed since the row was made: the client reads the table again.
      BinaryWriter changed;
      changed.u16(uint16_t(store::fnev::TableModified | (m ? kMessage : 0)));
      changed.u16(kTableChanged);
      return changed.take();
    }
    BinaryWriter row;
    write_property_row(row, columns, tn.row);
    if (row.size() > 0xFFFF) return std::nullopt;
    w.u16(uint16_t(row.size()));
    w.bytes(row.data());
    return w.take();
  }

  const store::Notification& n = *q.object;
  const store::Change& ch = n.change;
  const bool m = !ch.is_folder;
  const uint16_t type = uint16_t(n.event);
  w.u16(uint16_t(type | (m ? kMessage : 0)));
  // FolderId, and MessageId for a message (MS-OXCROPS 2.2.14.2.1.1).
  w.u64(fid(m ? store::FolderId(ch.parent) : store::FolderId(ch.id)));
  if (m) w.u64(wire_id(ch.id));
  const bool created_deleted_moved_copied = type == store::fnev::ObjectCreated || type == store::fnev::ObjectDeleted ||
                                            type == store::fnev::ObjectMoved || type == store::fnev::ObjectCopied;
  // ParentFolderId: for folders (S and M both clear; messages of search folders are not told apart here).
  if (created_deleted_moved_copied && !m) w.u64(ch.parent ? fid(store::FolderId(ch.parent)) : 0);
  if (type == store::fnev::ObjectMoved || type == store::fnev::ObjectCopied) {
    if (m) {
      w.u64(fid(store::FolderId(ch.old_parent.value_or(0))));  // OldFolderId
      w.u64(wire_id(ch.old_id.value_or(0)));                   // OldMessageId
    } else {
      w.u64(fid(store::FolderId(ch.old_id.value_or(0))));      // OldFolderId
      w.u64(fid(store::FolderId(ch.old_parent.value_or(0))));  // OldParentFolderId
    }
  }
  if (type == store::fnev::ObjectCreated || type == store::fnev::ObjectModified) w.u16(0);  // TagCount: no tag list
  if (type == store::fnev::NewMail) {
    w.u32(uint32_t(ch.message_flags));
    w.u8(1);  // UnicodeFlag
    std::string cls = "IPM.Note";
    if (table_object && table_object->logon) {
      try {
        auto msg = table_object->logon->open_message(store::MessageId(ch.id));
        if (auto v = msg->get_prop(tags::PidTagMessageClass); v && v->get_if<std::string>()) cls = *v->get_if<std::string>();
      } catch (const MapiError& e) {
        spdlog::debug("new mail {} is gone before its notification went out: {}", ch.id, e.describe());
      }
    }
    w.utf16z(cls);
  }
  return w.take();
}

}  // namespace openmapi::server
