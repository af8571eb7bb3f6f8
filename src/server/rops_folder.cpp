// Folder ROPs (MS-OXCFOLD, MS-OXCROPS 2.2.4): folders, the messages in them, search criteria.
#include "core/restriction.h"
#include "server/rop_context.h"

namespace openmapi::server {

namespace {

std::vector<store::MessageId> message_ids(const std::vector<uint64_t>& wire) {
  std::vector<store::MessageId> ids;
  ids.reserve(wire.size());
  for (uint64_t w : wire) ids.push_back(message_of(w));
  return ids;
}

void open_folder(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  const uint64_t folder = c.in.u64();
  c.in.u8();  // OpenModeFlags
  auto o = c.object(in_index);
  if (o->kind != Kind::Logon && o->kind != Kind::Folder) throw RopFailure{ec::NotSupported};
  uint32_t& out_slot = c.slot(c.index);
  auto f = RopContext::derived(*o, Kind::Folder);
  f->folder = o->logon->open_folder(folder_of(folder));
  c.add(out_slot, f);
  c.ok();
  c.out.u8(0);  // HasRules
  c.out.u8(0);  // IsGhosted
}

void create_folder(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  const uint8_t type = c.in.u8();
  const bool unicode = c.in.u8() != 0;
  const bool open_existing = c.in.u8() != 0;
  c.in.u8();  // Reserved
  const std::string name = c.string(unicode);
  const std::string comment = c.string(unicode);
  auto o = c.object(in_index, Kind::Folder);
  if (type != 1 && type != 2) throw RopFailure{ec::InvalidParameter};  // FOLDER_GENERIC, FOLDER_SEARCH
  uint32_t& out_slot = c.slot(c.index);
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
  auto f = RopContext::derived(*o, Kind::Folder);
  f->folder = folder;
  c.add(out_slot, f);
  c.ok();
  c.out.u64(fid(folder->id()));
  c.out.u8(existing ? 1 : 0);
  if (existing) {
    c.out.u8(0);  // HasRules
    c.out.u8(0);  // IsGhosted
  }
}

void delete_folder(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint8_t flags = c.in.u8();
  const uint64_t folder = c.in.u64();
  c.failure_tail = {0};  // PartialCompletion
  auto o = c.input(Kind::Folder);
  // DeleteFolderFlags (MS-OXCFOLD 2.2.1.3.1): DEL_MESSAGES 0x01, DEL_FOLDERS 0x04, DELETE_HARD_DELETE 0x10.
  o->folder->delete_folder(folder_of(folder), flags & (store::delfolder::DelMessages | store::delfolder::DelFolders | store::delfolder::HardDelete));
  c.ok();
  c.out.u8(0);  // PartialCompletion
}

// RopMoveFolder and RopCopyFolder: the source folder's subfolder `FolderId` into the destination.
void move_copy_folder(RopContext& c) {
  const bool copy = c.id == 0x36;
  c.in.u8();
  c.index = c.in.u8();  // SourceHandleIndex
  const uint8_t dest_index = c.in.u8();
  c.in.u8();  // WantAsynchronous: done at once
  const bool recursive = copy ? c.in.u8() != 0 : true;
  const bool unicode = c.in.u8() != 0;
  const uint64_t folder = c.in.u64();
  const std::string name = c.string(unicode);
  c.failure_tail = {0};  // PartialCompletion
  auto src = c.input(Kind::Folder);
  auto dest = c.destination(dest_index, Kind::Folder);
  src->folder->copy_folder(folder_of(folder), *dest->folder, name, recursive, copy ? 0 : store::copy_flags::Move);
  c.ok();
  c.out.u8(0);  // PartialCompletion
}

// RopEmptyFolder and RopHardDeleteMessagesAndSubfolders (both delete hard here).
void empty_folder(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // WantAsynchronous
  const bool associated = c.in.u8() != 0;
  c.failure_tail = {0};  // PartialCompletion
  auto o = c.input(Kind::Folder);
  o->folder->empty_folder(associated);
  c.ok();
  c.out.u8(0);  // PartialCompletion
}

// RopDeleteMessages, RopHardDeleteMessages, RopSetReadFlags: a folder and a list of message ids.
void message_list(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // WantAsynchronous: done at once
  const uint8_t second = c.in.u8();  // NotifyNonRead, or the ReadFlags
  const auto wire = c.ids(c.in.u16());
  c.failure_tail = {0};  // PartialCompletion
  const auto ids = message_ids(wire);
  auto o = c.input(Kind::Folder);
  if (c.id == 0x66) o->folder->set_read_flags(ids, second);
  else o->folder->delete_messages(ids, c.id == 0x91);
  c.ok();
  c.out.u8(0);  // PartialCompletion
}

void move_copy_messages(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();  // SourceHandleIndex
  const uint8_t dest_index = c.in.u8();
  const auto wire = c.ids(c.in.u16());
  c.in.u8();  // WantAsynchronous
  const bool copy = c.in.u8() != 0;
  c.failure_tail = {0};  // PartialCompletion
  const auto ids = message_ids(wire);
  auto src = c.input(Kind::Folder);
  auto dest = c.destination(dest_index, Kind::Folder);
  src->folder->copy_messages(ids, *dest->folder, copy ? 0 : store::copy_flags::Move);
  c.ok();
  c.out.u8(0);  // PartialCompletion
}

void get_table(RopContext& c) {  // RopGetHierarchyTable, RopGetContentsTable
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  const uint8_t table_flags = c.in.u8();
  auto o = c.object(in_index, Kind::Folder);
  uint32_t& out_slot = c.slot(c.index);
  // MS-OXCFOLD 2.2.1.13/14: Associated 0x02, Depth 0x04, SoftDeletes 0x20 map to ours.
  uint32_t flags = 0;
  if (table_flags & 0x02) flags |= store::tableflag::Associated;
  if (table_flags & 0x04) flags |= store::tableflag::Depth;
  if (table_flags & 0x20) flags |= store::tableflag::SoftDeletes;
  auto t = RopContext::derived(*o, Kind::Table);
  t->folder = o->folder;
  t->contents_table = c.id == 0x05;
  t->table = c.id == 0x04 ? std::shared_ptr<store::Table>(o->folder->hierarchy_table(flags))
                          : std::shared_ptr<store::Table>(o->folder->contents_table(flags));
  const uint32_t rows = t->table->row_count();
  c.add(out_slot, t);
  if (!(table_flags & 0x10)) advise_table(c, *t, out_slot);  // not NoNotifications
  c.ok();
  c.out.u32(rows);
}

void set_search_criteria(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const ByteView data = c.sized16();
  const auto wire = c.ids(c.in.u16());
  const uint32_t flags = c.in.u32();
  std::optional<Restriction> r;
  if (!data.empty()) r = parse_restriction(data);
  std::vector<store::FolderId> folders;
  for (uint64_t w : wire) folders.push_back(folder_of(w));
  auto o = c.input(Kind::Folder);
  o->folder->set_search_criteria(r, folders, flags);
  c.ok();
}

void get_search_criteria(RopContext& c) {
  const uint8_t logon_id = c.in.u8();
  c.index = c.in.u8();
  const bool unicode = c.in.u8() != 0;
  const bool want_restriction = c.in.u8() != 0;
  const bool want_folders = c.in.u8() != 0;
  auto o = c.input(Kind::Folder);
  store::SearchCriteria sc = o->folder->get_search_criteria();
  Bytes data;
  // UseUnicode: the restriction's strings go out with the types they were set with.
  (void)unicode;
  if (want_restriction && sc.restriction) data = serialize_restriction(*sc.restriction);
  if (data.size() > 0xFFFF) throw RopFailure{uint32_t(ErrorCode::MAPI_E_TOO_BIG)};
  c.ok();
  c.out.u16(uint16_t(data.size()));
  c.out.bytes(data);
  c.out.u8(logon_id);
  const size_t n = want_folders ? std::min<size_t>(sc.folders.size(), 0xFFFF) : 0;
  c.out.u16(uint16_t(n));
  for (size_t i = 0; i < n; ++i) c.out.u64(fid(sc.folders[i]));
  c.out.u32(sc.state);  // SearchFlags
}

// RopGetMessageStatus / RopSetMessageStatus: the same response (the status before any change).
void message_status(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const store::MessageId mid = message_of(c.in.u64());
  uint32_t status = 0, mask = 0;
  if (c.id == 0x20) {
    status = c.in.u32();
    mask = c.in.u32();
  }
  auto o = c.input(Kind::Folder);
  const uint32_t before = c.id == 0x20 ? o->folder->set_message_status(mid, status, mask) : o->folder->get_message_status(mid);
  c.ok();
  c.out.u32(before);
}

const RopEntry kFolderRops[] = {
    {{0x02, "RopOpenFolder", "2.2.4.1"}, open_folder},
    {{0x04, "RopGetHierarchyTable", "2.2.4.13"}, get_table},
    {{0x05, "RopGetContentsTable", "2.2.4.14"}, get_table},
    {{0x1C, "RopCreateFolder", "2.2.4.2"}, create_folder},
    {{0x1D, "RopDeleteFolder", "2.2.4.3"}, delete_folder},
    {{0x1E, "RopDeleteMessages", "2.2.4.11"}, message_list},
    {{0x1F, "RopGetMessageStatus", "2.2.6.9"}, message_status},
    {{0x20, "RopSetMessageStatus", "2.2.6.8"}, message_status},
    {{0x30, "RopSetSearchCriteria", "2.2.4.4"}, set_search_criteria},
    {{0x31, "RopGetSearchCriteria", "2.2.4.5"}, get_search_criteria},
    {{0x33, "RopMoveCopyMessages", "2.2.4.6"}, move_copy_messages},
    {{0x35, "RopMoveFolder", "2.2.4.7"}, move_copy_folder},
    {{0x36, "RopCopyFolder", "2.2.4.8"}, move_copy_folder},
    {{0x58, "RopEmptyFolder", "2.2.4.9"}, empty_folder},
    {{0x66, "RopSetReadFlags", "2.2.6.10"}, message_list},
    {{0x91, "RopHardDeleteMessages", "2.2.4.12"}, message_list},
    {{0x92, "RopHardDeleteMessagesAndSubfolders", "2.2.4.10"}, empty_folder},
};

}  // namespace

std::span<const RopEntry> folder_rops() { return kFolderRops; }

}  // namespace openmapi::server
