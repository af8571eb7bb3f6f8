// Message ROPs (MS-OXCMSG, MS-OXOMSG, MS-OXCROPS 2.2.6 and 2.2.7): messages, recipients,
// attachments, submission.
#include <set>

#include "server/recipient_row.h"
#include "server/rop_context.h"

namespace openmapi::server {

namespace {

// The part OpenRecipientRow and ReadRecipientRow share (MS-OXCROPS 2.2.6.1.2, 2.2.6.6.2):
// RecipientType, CodePageId (Unicode), Reserved, RecipientRowSize, RecipientRow. False (and
// nothing written) for a row too long for its 16-bit size.
bool write_recipient_entry(BinaryWriter& w, const PropertyBag& r, const std::vector<PropTag>& columns) {
  BinaryWriter row;
  write_recipient_row(row, r, columns);
  if (row.size() > 0xFFFF) return false;
  w.u8(uint8_t(r.get_i32(tags::PidTagRecipientType).value_or(1)));
  w.u16(1200);  // CodePageId: Unicode strings
  w.u16(0);
  w.u16(uint16_t(row.size()));
  w.bytes(row.data());
  return true;
}

}  // namespace

void write_message_summary(BinaryWriter& w, store::Message& m) {
  auto props = m.get_props({tags::PidTagSubjectPrefix, tags::PidTagNormalizedSubject}).values;
  const auto recipients = m.recipients();
  w.u8(0);  // HasNamedProperties (none are listed here)
  // SubjectPrefix and NormalizedSubject as TypedStrings (MS-OXCDATA 2.11.3): 0x00 none, 0x01 empty, 0x04 Unicode.
  for (const auto& v : props) {
    const std::string* text = v.type() == PropType::String ? v.get_if<std::string>() : nullptr;
    if (!text) w.u8(0x00);
    else if (text->empty()) w.u8(0x01);
    else {
      w.u8(0x04);
      w.utf16z(*text);
    }
  }
  w.u16(uint16_t(std::min<size_t>(recipients.size(), 0xFFFF)));  // RecipientCount
  // MS-OXCMSG 2.2.3.1.2 lets the server send fewer rows than RecipientCount: the client reads
  // the rest with RopReadRecipients. The rows go with the default recipient columns while the
  // response stays small.
  const auto& columns = default_recipient_columns();
  w.u16(uint16_t(columns.size()));
  for (PropTag t : columns) w.u32(t.value);
  const size_t count_at = w.size();
  w.u8(0);
  uint8_t rows = 0;
  for (const auto& r : recipients) {
    if (rows == 0xFF || w.size() > 0x3000 || !write_recipient_entry(w, r, columns)) break;
    ++rows;
  }
  w.patch_u8(count_at, rows);  // RowCount
}

namespace {

std::shared_ptr<store::Message> message(RopContext& c) { return c.input(Kind::Message)->message; }

void open_message(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  c.in.u16();  // CodePageId
  const uint64_t folder = c.in.u64();
  const uint8_t mode = c.in.u8();
  const uint64_t mid = c.in.u64();
  auto o = c.object(in_index);
  if (o->kind != Kind::Logon && o->kind != Kind::Folder) throw RopFailure{ec::NotSupported};
  uint32_t& out_slot = c.slot(c.index);
  auto m = RopContext::derived(*o, Kind::Message);
  // OpenModeFlags (MS-OXCMSG 2.2.3.1.1): ReadOnly 0x00, ReadWrite 0x01, BestAccess 0x03.
  m->message = o->logon->open_message(message_of(mid), (mode & 0x01) != 0);
  if (m->message->folder() != folder_of(folder)) throw RopFailure{ec::NotFound};
  BinaryWriter summary;
  write_message_summary(summary, *m->message);
  c.add(out_slot, m);
  c.ok();
  c.out.bytes(summary.data());
}

void reload_cached_information(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u16();  // Reserved
  auto m = message(c);
  BinaryWriter summary;
  write_message_summary(summary, *m);
  c.ok();
  c.out.bytes(summary.data());
}

void create_message(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  c.in.u16();  // CodePageId
  const uint64_t folder = c.in.u64();
  const bool associated = c.in.u8() != 0;
  auto o = c.object(in_index);
  if (o->kind != Kind::Logon && o->kind != Kind::Folder) throw RopFailure{ec::NotSupported};
  uint32_t& out_slot = c.slot(c.index);
  auto m = RopContext::derived(*o, Kind::Message);
  m->message = o->logon->open_folder(folder_of(folder))->create_message(associated);
  c.add(out_slot, m);
  c.ok();
  c.out.u8(0);  // HasMessageId: the id comes with RopSaveChangesMessage
}

void save_changes_message(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();  // ResponseHandleIndex
  const uint8_t in_index = c.in.u8();
  const uint8_t flags = c.in.u8();
  auto o = c.object(in_index, Kind::Message);
  o->message->save_changes(flags & 0x07);
  c.ok();
  c.out.u8(in_index);
  c.out.u64(o->message->id() ? wire_id(uint64_t(*o->message->id())) : 0);
}

void remove_all_recipients(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u32();  // Reserved
  message(c)->modify_recipients(0, {});
  c.ok();
}

void modify_recipients(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const auto columns = c.tags(c.in.u16());
  const uint16_t count = c.in.u16();
  // ModifyRecipientRow (MS-OXCROPS 2.2.6.5.1): RowId, RecipientType, RecipientRowSize, RecipientRow.
  struct Change {
    uint32_t row_id;
    std::optional<PropertyBag> row;  // none: the row goes
  };
  std::vector<Change> changes;
  for (uint16_t i = 0; i < count; ++i) {
    Change ch{c.in.u32(), std::nullopt};
    const uint8_t type = c.in.u8();
    const uint16_t size = c.in.u16();
    if (size > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a RecipientRow longer than the ROP buffer");
    if (size > 0) {
      BinaryReader row(c.in.bytes(size));
      PropertyBag bag = read_recipient_row(row, columns);
      bag.set(PropValue::i32(tags::PidTagRecipientType, type));
      bag.set(PropValue::i32(tags::PidTagRowid, int32_t(ch.row_id)));
      ch.row = std::move(bag);
    } else {
      c.in.bytes(0);
    }
    changes.push_back(std::move(ch));
  }
  auto m = message(c);
  // A row id the message has is replaced, a new one added, a row without data removed.
  std::set<int32_t> existing;
  for (const auto& r : m->recipients())
    if (auto id = r.get_i32(tags::PidTagRowid)) existing.insert(*id);
  std::vector<PropertyBag> add, modify, remove;
  for (auto& ch : changes) {
    const bool has = existing.count(int32_t(ch.row_id)) > 0;
    if (!ch.row) {
      if (has) {
        PropertyBag gone;
        gone.set(PropValue::i32(tags::PidTagRowid, int32_t(ch.row_id)));
        remove.push_back(std::move(gone));
      }
    } else if (has) {
      modify.push_back(std::move(*ch.row));
    } else {
      add.push_back(std::move(*ch.row));
    }
  }
  if (!remove.empty()) m->modify_recipients(store::modrecip::Remove, remove);
  if (!modify.empty()) m->modify_recipients(store::modrecip::Modify, modify);
  if (!add.empty()) m->modify_recipients(store::modrecip::Add | store::modrecip::KeepRowIds, add);
  c.ok();
}

void read_recipients(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint32_t first = c.in.u32();  // RowId
  c.in.u16();                         // Reserved
  auto m = message(c);
  const auto& columns = default_recipient_columns();
  BinaryWriter rows;
  uint8_t n = 0;
  for (const auto& r : m->recipients()) {
    const auto row_id = r.get_i32(tags::PidTagRowid);
    if (!row_id || uint32_t(*row_id) < first) continue;
    // ReadRecipientRow: the RowId, then the entry (its RecipientRow and 16 bytes for the fields
    // counted against MaxRopOut).
    BinaryWriter entry;
    if (n == 0xFF || !write_recipient_entry(entry, r, columns)) break;
    const size_t row_size = entry.size() - 7;  // the entry less RecipientType, CodePageId, Reserved, RecipientRowSize
    if (rows.size() + row_size + 16 + c.out.size() + 64 > c.max_out) break;
    rows.u32(uint32_t(*row_id));
    rows.bytes(entry.data());
    ++n;
  }
  if (n == 0) throw RopFailure{ec::NotFound};  // no row at or after RowId
  c.ok();
  c.out.u8(n);
  c.out.bytes(rows.data());
}

void set_message_read_flag(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();  // ResponseHandleIndex
  const uint8_t in_index = c.in.u8();
  const uint8_t flags = c.in.u8();
  // (ClientData follows only on public-folder logons, which this server does not open.)
  auto o = c.object(in_index, Kind::Message);
  auto read = [&] {
    auto v = o->message->get_prop(tags::PidTagMessageFlags);
    const int32_t* f = v ? v->get_if<int32_t>() : nullptr;
    return f && (*f & 0x01) != 0;  // MSGFLAG_READ
  };
  const bool before = read();
  o->message->set_read_flag(flags);
  const bool after = read();
  c.ok();
  c.out.u8(before != after ? 1 : 0);  // ReadStatusChanged
}

void get_attachment_table(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // TableFlags (Unicode: strings are Unicode here anyway)
  auto o = c.object(in_index, Kind::Message);
  uint32_t& out_slot = c.slot(c.index);
  auto t = RopContext::derived(*o, Kind::Table);
  t->message = o->message;  // the table's rows come from it: keep it
  t->table = std::shared_ptr<store::Table>(o->message->attachment_table());
  c.add(out_slot, t);
  c.ok();
}

void open_attachment(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // OpenAttachmentFlags
  const uint32_t num = c.in.u32();
  auto o = c.object(in_index, Kind::Message);
  uint32_t& out_slot = c.slot(c.index);
  auto a = RopContext::derived(*o, Kind::Attach);
  a->message = o->message;
  a->attach = o->message->open_attach(num);
  c.add(out_slot, a);
  c.ok();
}

void create_attachment(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  auto o = c.object(in_index, Kind::Message);
  uint32_t& out_slot = c.slot(c.index);
  auto a = RopContext::derived(*o, Kind::Attach);
  a->message = o->message;
  a->attach = o->message->create_attach();
  const uint32_t num = a->attach->number();
  c.add(out_slot, a);
  c.ok();
  c.out.u32(num);  // AttachmentID
}

void delete_attachment(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint32_t num = c.in.u32();
  message(c)->delete_attach(num);
  c.ok();
}

void save_changes_attachment(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();  // ResponseHandleIndex
  const uint8_t in_index = c.in.u8();
  const uint8_t flags = c.in.u8();
  auto o = c.object(in_index, Kind::Attach);
  o->attach->save_changes(flags & 0x07);
  c.ok();
}

void open_embedded_message(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  c.in.u16();  // CodePageId
  const uint8_t mode = c.in.u8();  // ReadOnly 0x00, ReadWrite 0x01, Create 0x02
  auto o = c.object(in_index, Kind::Attach);
  uint32_t& out_slot = c.slot(c.index);
  auto m = RopContext::derived(*o, Kind::Message);
  m->attach = o->attach;  // the embedded message lives in it
  m->message = o->attach->open_embedded((mode & 0x02) != 0);
  BinaryWriter summary;
  write_message_summary(summary, *m->message);
  c.add(out_slot, m);
  c.ok();
  c.out.u8(0);   // Reserved
  c.out.u64(0);  // MessageId: an embedded message has none of its own
  c.out.bytes(summary.data());
}

void get_valid_attachments(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto m = message(c);
  std::vector<uint32_t> nums;
  for (const auto& a : m->attachments())
    if (auto n = a.get_i32(tags::PidTagAttachNumber)) nums.push_back(uint32_t(*n));
  c.ok();
  c.out.u16(uint16_t(std::min<size_t>(nums.size(), 0xFFFF)));
  for (size_t i = 0; i < nums.size() && i < 0xFFFF; ++i) c.out.u32(nums[i]);
}

void submit_message(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // SubmitFlags (PreProcess, NeedsSpooler): one queue here
  message(c)->submit();
  c.ok();
}

void abort_submit(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u64();  // FolderId
  const uint64_t mid = c.in.u64();
  auto o = c.input(Kind::Logon);
  o->logon->open_message(message_of(mid), true)->abort_submit();
  c.ok();
}

void transport_send(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  // Sent through the same outgoing queue as RopSubmitMessage (the transport comes with mail flow).
  message(c)->submit();
  c.ok();
  c.out.u8(1);  // NoPropertiesReturned
}

const RopEntry kMessageRops[] = {
    {{0x03, "RopOpenMessage", "2.2.6.1"}, open_message},
    {{0x06, "RopCreateMessage", "2.2.6.2"}, create_message},
    {{0x0C, "RopSaveChangesMessage", "2.2.6.3"}, save_changes_message},
    {{0x0D, "RopRemoveAllRecipients", "2.2.6.4"}, remove_all_recipients},
    {{0x0E, "RopModifyRecipients", "2.2.6.5"}, modify_recipients},
    {{0x0F, "RopReadRecipients", "2.2.6.6"}, read_recipients},
    {{0x10, "RopReloadCachedInformation", "2.2.6.7"}, reload_cached_information},
    {{0x11, "RopSetMessageReadFlag", "2.2.6.11"}, set_message_read_flag},
    {{0x21, "RopGetAttachmentTable", "2.2.6.17"}, get_attachment_table},
    {{0x22, "RopOpenAttachment", "2.2.6.12"}, open_attachment},
    {{0x23, "RopCreateAttachment", "2.2.6.13"}, create_attachment},
    {{0x24, "RopDeleteAttachment", "2.2.6.14"}, delete_attachment},
    {{0x25, "RopSaveChangesAttachment", "2.2.6.15"}, save_changes_attachment},
    {{0x32, "RopSubmitMessage", "2.2.7.1"}, submit_message},
    {{0x34, "RopAbortSubmit", "2.2.7.2"}, abort_submit},
    {{0x46, "RopOpenEmbeddedMessage", "2.2.6.16"}, open_embedded_message},
    {{0x4A, "RopTransportSend", "2.2.7.6"}, transport_send},
    {{0x52, "RopGetValidAttachments", "2.2.6.18"}, get_valid_attachments},
};

}  // namespace

std::span<const RopEntry> message_rops() { return kMessageRops; }

}  // namespace openmapi::server
