// Store ROPs (MS-OXCSTOR, MS-OXCROPS 2.2.3): Logon, receive folders, ids, per-user data, and the
// transport ROPs that answer from the store.
#include <ctime>

#include "core/unicode.h"
#include "server/frontend.h"
#include "server/rop_context.h"
#include "store/data_dir.h"

namespace openmapi::server {

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

void logon(RopContext& c) {
  const uint8_t logon_id = c.in.u8();
  c.index = c.in.u8();
  const uint8_t flags = c.in.u8();
  c.in.u32();  // OpenFlags
  c.in.u32();  // StoreState
  const uint16_t essdn_size = c.in.u16();
  ByteView essdn = c.in.bytes(essdn_size);
  std::string dn(reinterpret_cast<const char*>(essdn.data()), essdn.size());
  if (auto nul = dn.find('\0'); nul != std::string::npos) dn.resize(nul);
  if (!(flags & 0x01)) throw RopFailure{ec::NotSupported};  // public folders: not yet
  // Another user's mailbox needs rights this server does not grant yet (delegates, ACLs).
  if (!dn.empty() && ascii_lower(dn) != ascii_lower(user_legacy_dn(c.config().organization, c.user().address)))
    throw RopFailure{ec::LoginPerm};
  uint32_t& out_slot = c.slot(c.index);
  // A LogonId in use: that logon ends first (MS-OXCROPS 2.2.3.1.1).
  for (auto& [handle, o] : c.objects())
    if (o->logon_id == logon_id && o->kind == Kind::Logon) {
      c.release(handle);
      break;
    }
  std::shared_ptr<store::Mailbox> mb = store::open_sqlite_mailbox(store::mailbox_file(c.config().data_dir, c.user().mailbox));
  auto o = std::make_shared<RopSession::Object>();
  o->kind = Kind::Logon;
  o->logon_id = logon_id;
  o->logon = store::Logon::open(mb, store::LogonIdentity{c.user().address});
  const uint32_t handle = uint32_t(logon_id) << 24;  // the logon itself is counter 0
  c.objects()[handle] = o;
  out_slot = handle;
  c.ok();
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
}

void release(RopContext& c) {  // no response
  c.respond = false;
  c.in.u8();
  const uint8_t i = c.in.u8();
  if (i < c.handles.size()) c.release(c.handles[i]);
}

void get_receive_folder(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const std::string cls = c.in.str8z();
  auto o = c.input(Kind::Logon);
  auto [folder, explicit_class] = o->logon->get_receive_folder(cls);
  c.ok();
  c.out.u64(fid(folder));
  c.out.str8z(explicit_class);
}

void set_receive_folder(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint64_t folder = c.in.u64();
  const std::string cls = c.in.str8z();
  auto o = c.input(Kind::Logon);
  // MS-OXCSTOR 3.2.5.2: FolderId 0 removes the class's entry; the default class cannot be removed.
  o->logon->set_receive_folder(cls, folder ? std::optional(folder_of(folder)) : std::nullopt);
  c.ok();
}

void get_receive_folder_table(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto o = c.input(Kind::Logon);
  const auto entries = o->logon->receive_folder_table();
  c.ok();
  c.out.u32(uint32_t(entries.size()));
  // MS-OXCROPS 2.2.3.4.2: rows of PidTagFolderId, PidTagMessageClass (8-bit), PidTagLastModificationTime.
  for (const auto& [cls, folder] : entries) {
    c.out.u8(0);  // StandardPropertyRow
    c.out.u64(fid(folder));
    c.out.str8z(cls);
    std::optional<PropValue> t;
    try {
      t = o->logon->open_folder(folder)->get_prop(tags::PidTagLastModificationTime);
    } catch (const MapiError&) {
    }
    c.out.u64(t && t->type() == PropType::Time ? uint64_t(t->get<int64_t>()) : 0);
  }
}

void get_store_state(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.input(Kind::Logon);
  c.ok();
  c.out.u32(0);  // StoreState: no search of the store is kept
}

void long_term_id_from_id(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const ObjectId id = ObjectId::from_u64(c.in.u64());
  auto o = c.input(Kind::Logon);
  if (id.replid != kReplId) throw RopFailure{ec::NotFound};
  c.ok();
  c.out.bytes(LongTermId{o->logon->mailbox().replica_guid(), id.gc}.serialize());
}

void id_from_long_term_id(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const LongTermId lt = LongTermId::parse(c.in.bytes(24));
  auto o = c.input(Kind::Logon);
  if (lt.database != o->logon->mailbox().replica_guid()) throw RopFailure{ec::NotFound};
  c.ok();
  c.out.u64(wire_id(lt.gc));
}

void get_per_user_long_term_ids(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.bytes(16);  // DatabaseGuid
  c.input(Kind::Logon);
  c.ok();
  c.out.u16(0);  // no public folders, so no per-user read state kept for them
}

void get_per_user_guid(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.bytes(24);  // LongTermId
  c.input(Kind::Logon);
  throw RopFailure{ec::NotFound};  // (ditto: MS-OXCSTOR 3.2.5.7 answers ecNotFound without data)
}

void get_address_types(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.input(Kind::Logon);
  c.ok();
  BinaryWriter types;
  for (const char* t : {"SMTP", "EX"}) types.str8z(t);
  c.out.u16(2);
  c.out.u16(uint16_t(types.size()));
  c.out.bytes(types.data());
}

void get_transport_folder(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto o = c.input(Kind::Logon);
  c.ok();
  c.out.u64(fid(o->logon->mailbox().special_folder(store::SpecialFolder::Outbox)));
}

void options_data(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.str8z();  // AddressType
  c.in.u8();     // WantWin32
  c.input(Kind::Logon);
  c.ok();
  c.out.u8(1);   // Reserved
  c.out.u16(0);  // OptionsInfoSize: no transport options dialog
  c.out.u16(0);  // HelpFileSize (and so no HelpFileName)
}

void progress(RopContext& c) {
  const uint8_t logon_id = c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // WantCancel
  c.object(c.index);
  c.ok();
  // Every operation here completes before its ROP answers: nothing is in progress.
  c.out.u8(logon_id);
  c.out.u32(0);  // CompletedTaskCount
  c.out.u32(0);  // TotalTaskCount
}

const RopEntry kStoreRops[] = {
    {{0x01, "RopRelease", "2.2.15.3"}, release},
    {{0x26, "RopSetReceiveFolder", "2.2.3.3"}, set_receive_folder},
    {{0x27, "RopGetReceiveFolder", "2.2.3.2"}, get_receive_folder},
    {{0x43, "RopLongTermIdFromId", "2.2.3.8"}, long_term_id_from_id},
    {{0x44, "RopIdFromLongTermId", "2.2.3.9"}, id_from_long_term_id},
    {{0x49, "RopGetAddressTypes", "2.2.7.3"}, get_address_types},
    {{0x50, "RopProgress", "2.2.15.1"}, progress},
    {{0x60, "RopGetPerUserLongTermIds", "2.2.3.10"}, get_per_user_long_term_ids},
    {{0x61, "RopGetPerUserGuid", "2.2.3.11"}, get_per_user_guid},
    {{0x68, "RopGetReceiveFolderTable", "2.2.3.4"}, get_receive_folder_table},
    {{0x6D, "RopGetTransportFolder", "2.2.7.7"}, get_transport_folder},
    {{0x6F, "RopOptionsData", "2.2.7.9"}, options_data},
    {{0x7B, "RopGetStoreState", "2.2.3.5"}, get_store_state},
    {{0xFE, "RopLogon", "2.2.3.1"}, logon},
};

}  // namespace

std::span<const RopEntry> store_rops() { return kStoreRops; }

}  // namespace openmapi::server
