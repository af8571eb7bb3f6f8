#include "store/pst/pst_mailbox.h"

#include <filesystem>
#include <functional>

#include "core/entryid.h"
#include "core/unicode.h"
#include "store/memory_stream.h"

namespace openmapi::store {
namespace {

[[noreturn]] void read_only(const std::string& what) {
  throw_error(ErrorCode::MAPI_E_NO_ACCESS, "a PST file is opened read-only: cannot " + what);
}

// The NID a PST entry ID names (MS-PST 2.4.3.3: rgbFlags, uid, nid).
std::optional<uint32_t> nid_of(const Bytes& id) {
  if (id.size() != 24) return std::nullopt;
  BinaryReader r(id);
  r.skip(20);
  return r.u32();
}

int64_t object_id(uint64_t nid) { return int64_t(ObjectId{kLocalReplicaId, nid}.to_u64()); }

class PstMailbox final : public Mailbox {
 public:
  explicit PstMailbox(pst::PstFile f) : f_(std::move(f)) {
    specials_[SpecialFolder::Root] = f_.root_folder();
    if (f_.ipm_subtree()) specials_[SpecialFolder::IpmSubtree] = f_.ipm_subtree();
    for (const auto& [nid, sf] : pst_special_folders(f_)) specials_.emplace(sf, nid);
    // Parents and the folder of every message, from one walk of the tree (row ids only).
    std::function<void(uint32_t)> walk = [&](uint32_t folder) {
      for (uint32_t m : f_.messages(folder)) message_folder_[m] = folder;
      for (uint32_t m : f_.messages(folder, true)) message_folder_[m] = folder;
      for (uint32_t c : f_.subfolders(folder))
        if (!parent_.count(c) && c != f_.root_folder()) {
          parent_[c] = folder;
          walk(c);
        }
    };
    walk(f_.root_folder());
    const PropValue* rk = f_.store_properties().find(tags::PidTagRecordKey);
    if (rk && rk->get_if<Bytes>() && rk->get_if<Bytes>()->size() == 16)
      std::copy(rk->get_if<Bytes>()->begin(), rk->get_if<Bytes>()->end(), guid_.bytes.begin());
  }

  PropertyBag store_properties() override {
    PropertyBag b = f_.store_properties();
    b.set(PropValue::i64(tags::PidTagMessageSizeExtended, mailbox_size()));
    return b;
  }
  Guid mailbox_guid() override { return guid_; }
  Guid replica_guid() override { return guid_; }
  int64_t mailbox_size() override { return int64_t(f_.info().file_size); }
  void set_quota(int64_t) override { read_only("set a quota"); }

  uint16_t named_property_id(const PropertyName& name, bool create) override {
    if (auto id = f_.names().find(name.canonical())) return *id;
    if (auto id = f_.names().find(name)) return *id;
    if (create) read_only("map the named property " + name.to_string());
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "named property " + name.to_string() + " is not mapped in this PST");
  }
  std::optional<PropertyName> named_property_name(uint16_t id) override {
    if (const PropertyName* n = f_.names().find(id)) return *n;
    return std::nullopt;
  }

  FolderId special_folder(SpecialFolder f) override {
    auto it = specials_.find(f);
    if (it == specials_.end())
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, std::string("this PST has no ") + special_folder_name(f) + " folder");
    return it->second;
  }

  FolderId folder_by_path(const std::string& path) override {
    if (path == "/") return f_.root_folder();
    FolderId at = specials_.count(SpecialFolder::IpmSubtree) ? specials_.at(SpecialFolder::IpmSubtree) : f_.root_folder();
    size_t start = 0;
    while (start < path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      std::string part = path.substr(start, end - start);
      start = end + 1;
      if (part.empty()) continue;
      std::optional<FolderId> next;
      for (uint32_t c : f_.subfolders(uint32_t(at)))
        if (fold_case(f_.folder_name(c)) == fold_case(part)) next = c;
      if (!next) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder '" + part + "' in path '" + path + "'");
      at = *next;
    }
    return at;
  }

  FolderId create_folder(FolderId, const std::string& name, const std::string&, FolderType) override {
    read_only("create folder '" + name + "'");
  }

  PropertyBag folder_properties(FolderId id) override {
    require_folder(id);
    PropertyBag b = f_.folder_properties(uint32_t(id));
    b.set(PropValue::i64(tags::PidTagFolderId, object_id(id)));
    if (auto p = parent_folder(id)) b.set(PropValue::i64(tags::PidTagParentFolderId, object_id(*p)));
    auto children = f_.subfolders(uint32_t(id));
    b.set(PropValue::boolean(tags::PidTagSubfolders, !children.empty()));
    b.set(PropValue::i32(tags::PidTagFolderChildCount, int32_t(children.size())));
    if (!b.has(tags::PidTagContentCount)) b.set(PropValue::i32(tags::PidTagContentCount, int32_t(f_.messages(uint32_t(id)).size())));
    if (!b.has(tags::PidTagContentUnreadCount)) b.set(PropValue::i32(tags::PidTagContentUnreadCount, 0));
    b.set(PropValue::i32(tags::PidTagObjectType, 3));  // MAPI_FOLDER
    b.set(PropValue::binary(tags::PidTagEntryId, entry_id(uint32_t(id))));
    if (auto p = parent_folder(id)) b.set(PropValue::binary(tags::PidTagParentEntryId, entry_id(uint32_t(*p))));
    return b;
  }

  // MS-PST 2.3.3.3 (the EntryID of an object in a PST): 4 flag bytes, the store's record key and
  // the NID, 24 bytes.
  Bytes entry_id(uint32_t nid) const {
    BinaryWriter w;
    w.u32(0);
    w.bytes(ByteView(guid_.bytes));
    w.u32(nid);
    return w.take();
  }

  // Both the PST's own form (entry_id) and the folder and message entry IDs of MS-OXCDATA
  // 2.2.4 that the object model's callers (the C ABI) make for any store, with the NID as the
  // global counter.
  std::pair<bool, uint64_t> resolve_entry_id(const Bytes& e) override {
    uint64_t id = 0;
    if (e.size() == 46 || e.size() == 70) {
      auto [is_folder, gc] = Mailbox::resolve_entry_id(e);
      if (gc > 0xFFFFFFFFu) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no object " + std::to_string(gc) + " in this PST");
      id = gc;
      if (is_folder != (id == f_.root_folder() || parent_.count(uint32_t(id)) != 0))
        throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no " + std::string(is_folder ? "folder " : "message ") + std::to_string(id) + " in this PST");
    } else {
      if (e.size() != 24 || !std::equal(guid_.bytes.begin(), guid_.bytes.end(), e.begin() + 4))
        throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "not an entry ID of this PST");
      BinaryReader r(ByteView(e.data() + 20, 4));
      id = r.u32();
    }
    const uint32_t nid = uint32_t(id);
    if (message_folder_.count(nid)) return {false, nid};
    if (nid == f_.root_folder() || parent_.count(nid)) return {true, nid};
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no object " + std::to_string(nid) + " in this PST");
  }
  void set_folder_properties(FolderId, const PropertyBag&) override { read_only("change folder properties"); }
  void rename_folder(FolderId, const std::string&) override { read_only("rename a folder"); }
  void move_folder(FolderId, FolderId) override { read_only("move a folder"); }
  void delete_folder(FolderId, uint32_t) override { read_only("delete a folder"); }
  std::vector<FolderId> child_folders(FolderId id) override {
    require_folder(id);
    std::vector<FolderId> out;
    for (uint32_t c : f_.subfolders(uint32_t(id))) out.push_back(c);
    return out;
  }
  std::optional<FolderId> parent_folder(FolderId id) override {
    require_folder(id);
    auto it = parent_.find(uint32_t(id));
    if (it == parent_.end()) return std::nullopt;
    return it->second;
  }

  MessageId save_message(FolderId, const Message&, std::optional<MessageId>, const std::vector<StreamedValue>&) override {
    read_only("save a message");
  }
  std::unique_ptr<Batch> begin_batch() override { read_only("begin a batch of writes"); }
  Message load_message(MessageId id, bool) override {
    FolderId folder = message_folder(id);
    Message m = f_.read_message(uint32_t(id));
    m.props.set(PropValue::i64(tags::PidTagMid, object_id(id)));
    m.props.set(PropValue::i64(tags::PidTagFolderId, object_id(folder)));
    m.props.set(PropValue::binary(tags::PidTagEntryId, entry_id(uint32_t(id))));
    m.props.set(PropValue::binary(tags::PidTagParentEntryId, entry_id(uint32_t(folder))));
    return m;
  }
  FolderId message_folder(MessageId id) override {
    auto it = message_folder_.find(uint32_t(id));
    if (it == message_folder_.end() || id > UINT32_MAX)
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no message with id " + std::to_string(id) + " in this PST");
    return it->second;
  }
  std::unique_ptr<PropertyStream> open_stream(MessageId id, PropTag tag) override {
    Message m = load_message(id, true);
    const PropValue* v = m.props.find(tag);
    if (!v) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "message " + std::to_string(id) + " has no property " + tag.hex());
    if (const auto* s = v->get_if<std::string>()) return std::make_unique<MemoryStream>(Bytes(s->begin(), s->end()));
    if (const auto* b = v->get_if<Bytes>()) return std::make_unique<MemoryStream>(*b);
    throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "only string and binary properties can be streamed (" + tag.hex() + ")");
  }
  void delete_messages(const std::vector<MessageId>&, DeleteMode) override { read_only("delete messages"); }
  void undelete_messages(const std::vector<MessageId>&) override { read_only("undelete messages"); }
  void set_read_flag(const std::vector<MessageId>&, bool) override { read_only("change read flags"); }
  std::vector<MessageId> move_messages(const std::vector<MessageId>&, FolderId) override { read_only("move messages"); }
  std::vector<MessageId> copy_messages(const std::vector<MessageId>&, FolderId) override { read_only("copy messages"); }

  std::unique_ptr<Table> hierarchy_table(FolderId id, uint32_t flags) override {
    require_folder(id);
    auto load = [this, id, flags] {
      std::vector<std::pair<int64_t, Message>> rows;
      std::function<void(FolderId, int)> visit = [&](FolderId f, int depth) {
        for (FolderId c : child_folders(f)) {
          Message m;
          m.props = folder_properties(c);
          m.props.set(PropValue::i32(tags::PidTagDepth, depth));
          rows.emplace_back(int64_t(c), std::move(m));
          if (flags & tableflag::Depth) visit(c, depth + 1);
        }
      };
      visit(id, 0);
      return rows;
    };
    return std::make_unique<ViewTable>(std::make_unique<MessageRowSource>(load),
                                       std::vector<PropTag>{tags::PidTagDisplayName, tags::PidTagContentCount,
                                                            tags::PidTagContentUnreadCount, tags::PidTagSubfolders,
                                                            tags::PidTagContainerClass, tags::PidTagFolderId});
  }

  std::unique_ptr<Table> contents_table(FolderId id, uint32_t flags) override {
    require_folder(id);
    auto load = [this, id, flags] {
      std::vector<std::pair<int64_t, Message>> rows;
      if (flags & tableflag::SoftDeletes) return rows;  // a PST keeps no soft-deleted messages
      for (uint32_t m : f_.messages(uint32_t(id), (flags & tableflag::Associated) != 0)) {
        try {
          rows.emplace_back(int64_t(m), load_message(m, false));
        } catch (const MapiError&) {
          // listed in the file's problems (check_integrity)
        }
      }
      return rows;
    };
    return std::make_unique<ViewTable>(std::make_unique<MessageRowSource>(load, tags::PidTagMessageFlags),
                                       std::vector<PropTag>{tags::PidTagSubject, tags::PidTagSenderName,
                                                            tags::PidTagMessageDeliveryTime, tags::PidTagMessageSize,
                                                            tags::PidTagMid});
  }

  std::vector<std::string> check_integrity() override {
    std::vector<std::string> out;
    for (const auto& p : f_.problems()) out.push_back(p.what);
    return out;
  }

 private:
  void require_folder(FolderId id) {
    if (id != f_.root_folder() && !parent_.count(uint32_t(id)))
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder with id " + std::to_string(id) + " in this PST");
  }

  pst::PstFile f_;
  std::map<SpecialFolder, FolderId> specials_;
  std::map<uint32_t, uint32_t> parent_;
  std::map<uint32_t, uint32_t> message_folder_;
  Guid guid_;
};

}  // namespace

std::map<uint32_t, SpecialFolder> pst_special_folders(pst::PstFile& f) {
  using SF = SpecialFolder;
  std::map<uint32_t, SF> out;
  auto add = [&](const PropertyBag& bag, PropTag tag, SF sf) {
    if (const PropValue* v = bag.find(tag); v && v->get_if<Bytes>())
      if (auto nid = nid_of(*v->get_if<Bytes>())) out.emplace(*nid, sf);
  };
  const PropertyBag& st = f.store_properties();
  add(st, tags::PidTagIpmOutboxEntryId, SF::Outbox);
  add(st, tags::PidTagIpmWastebasketEntryId, SF::DeletedItems);
  add(st, tags::PidTagIpmSentMailEntryId, SF::SentItems);
  add(st, tags::PidTagFinderEntryId, SF::Finder);
  std::vector<PropertyBag> publishers{f.folder_properties(f.root_folder())};
  if (f.ipm_subtree())
    for (uint32_t c : f.subfolders(f.ipm_subtree()))
      if (fold_case(f.folder_name(c)) == "inbox") {
        out.emplace(c, SF::Inbox);
        publishers.push_back(f.folder_properties(c));
      }
  for (const auto& bag : publishers) {
    add(bag, tags::PidTagIpmAppointmentEntryId, SF::Calendar);
    add(bag, tags::PidTagIpmContactEntryId, SF::Contacts);
    add(bag, tags::PidTagIpmJournalEntryId, SF::Journal);
    add(bag, tags::PidTagIpmNoteEntryId, SF::Notes);
    add(bag, tags::PidTagIpmTaskEntryId, SF::Tasks);
    add(bag, tags::PidTagIpmDraftsEntryId, SF::Drafts);
    if (const PropValue* ren = bag.find(tags::PidTagAdditionalRenEntryIds); ren && ren->get_if<std::vector<Bytes>>()) {
      const SF kRen[] = {SF::Conflicts, SF::SyncIssues, SF::LocalFailures, SF::ServerFailures, SF::JunkEmail};
      const auto& ids = *ren->get_if<std::vector<Bytes>>();
      for (size_t i = 0; i < ids.size() && i < 5; ++i)
        if (auto nid = nid_of(ids[i])) out.emplace(*nid, kRen[i]);
    }
  }
  return out;
}

std::unique_ptr<Mailbox> open_pst_mailbox(const std::string& path) {
  if (!std::filesystem::exists(path)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no PST file at '" + path + "'");
  return std::make_unique<PstMailbox>(pst::PstFile::open(path));
}

}  // namespace openmapi::store
