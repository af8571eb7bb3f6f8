// The SQLite mailbox: one database file per mailbox (see schema.h and docs/STORE.md).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "core/entryid.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "store/named_ids.h"
#include "store/sqlite/db.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlfilter.h"
#include "store/sqlite/values.h"
#include "store/engine/rules.h"
#include "store/memory_stream.h"
#include "store/notify.h"
#include "store/store.h"

namespace openmapi::store {

const char* change_kind_name(ChangeKind k) {
  switch (k) {
    case ChangeKind::Created: return "created";
    case ChangeKind::Modified: return "modified";
    case ChangeKind::ReadStateChanged: return "read-state-changed";
    case ChangeKind::Moved: return "moved";
    case ChangeKind::Copied: return "copied";
    case ChangeKind::SoftDeleted: return "soft-deleted";
    case ChangeKind::HardDeleted: return "hard-deleted";
    case ChangeKind::Restored: return "restored";
    case ChangeKind::SearchComplete: return "search-complete";
  }
  return "unknown";
}

const char* special_folder_name(SpecialFolder f) {
  switch (f) {
    case SpecialFolder::Root: return "Root Container";
    case SpecialFolder::DeferredAction: return "Deferred Action";
    case SpecialFolder::SpoolerQueue: return "Spooler Queue";
    case SpecialFolder::IpmSubtree: return "Top of Information Store";
    case SpecialFolder::Inbox: return "Inbox";
    case SpecialFolder::Outbox: return "Outbox";
    case SpecialFolder::SentItems: return "Sent Items";
    case SpecialFolder::DeletedItems: return "Deleted Items";
    case SpecialFolder::CommonViews: return "Common Views";
    case SpecialFolder::Schedule: return "Schedule";
    case SpecialFolder::Finder: return "Finder";
    case SpecialFolder::Views: return "Views";
    case SpecialFolder::Shortcuts: return "Shortcuts";
    case SpecialFolder::Drafts: return "Drafts";
    case SpecialFolder::Calendar: return "Calendar";
    case SpecialFolder::Contacts: return "Contacts";
    case SpecialFolder::Tasks: return "Tasks";
    case SpecialFolder::Notes: return "Notes";
    case SpecialFolder::Journal: return "Journal";
    case SpecialFolder::JunkEmail: return "Junk Email";
    case SpecialFolder::SyncIssues: return "Sync Issues";
    case SpecialFolder::Conflicts: return "Conflicts";
    case SpecialFolder::LocalFailures: return "Local Failures";
    case SpecialFolder::ServerFailures: return "Server Failures";
    case SpecialFolder::QuickContacts: return "Quick Contacts";
    case SpecialFolder::ImContactList: return "IM Contact List";
    case SpecialFolder::ConversationActionSettings: return "Conversation Action Settings";
  }
  return "?";
}

namespace sqlite {
namespace {

using namespace std::string_literals;

constexpr PropTag PidTagAttributeHidden{0x10F4, PropType::Boolean};
constexpr PropTag PidTagAssociatedContentCount{0x3617, PropType::Integer32};
constexpr PropTag PidTagStoreRecordKeyTag{0x0FFA, PropType::Binary};

int64_t now_filetime() {
  return to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
}

using engine::is_computed_message_tag;
using engine::is_computed_folder_tag;

class SqliteMailbox;

// Rows of a contents table: SQL narrows and orders, core's evaluator decides inexact cases.
class ContentsSource : public RowSource {
 public:
  // `search`: the folder is a search folder (the caller looked its type up).
  ContentsSource(SqliteMailbox& mb, FolderId folder, uint32_t flags, bool search) : mb_(mb), folder_(folder), flags_(flags) {
    if (search) load_search();
  }
  std::vector<LeafRow> leaf_rows(const Restriction* r, const SortOrderSet& s) override;
  std::vector<PropertyBag> fetch(const std::vector<int64_t>& ids, const std::vector<PropTag>& columns) override;
  std::unique_ptr<PropertySource> row_source(int64_t id) override;
  std::optional<std::vector<int64_t>> page(const Restriction* r, const SortOrderSet& s, size_t offset,
                                           size_t limit) override;
  std::optional<std::vector<std::pair<int64_t, Row>>> page_rows(const Restriction* r, const SortOrderSet& s, size_t offset,
                                                                size_t limit, const std::vector<PropTag>& columns) override;
  std::optional<size_t> count(const Restriction* r) override;
  // The newest journal row of a message in (or moved out of) this folder.
  std::optional<int64_t> version() override;
  std::optional<std::vector<int64_t>> modified_since(int64_t since) override;
  void invalidate() override { load_search(); }

 private:
  // A search folder's rows: messages of the scope folders satisfying the criteria.
  void load_search();
  // `r` and the search criteria together (the criteria alone when `r` is null).
  const Restriction* with_criteria(const Restriction* r, Restriction& holder) const;
  // "FROM messages m WHERE <this folder's rows> AND <filter>", with its parameters bound by bind().
  // `whole`: the statement visits every row that passes (a count, a full enumeration), so rows
  // that a filter must read are visited in id order, which is storage order (see from_where).
  std::string from_where(const SqlFragment& filter, bool whole = false) const;
  int bind(Stmt& q, const SqlFragment& filter) const;
  std::optional<PropertyBag> fast_row(Stmt& q, const std::vector<std::pair<PropTag, const char*>>& plan,
                                      const std::set<uint16_t>& wanted);

  SqliteMailbox& mb_;
  FolderId folder_;
  uint32_t flags_;
  bool search_ = false;
  std::string scope_sql_;  // "id,id,..." of the searched folders
  std::optional<Restriction> criteria_;
};

// Rows of a hierarchy table: the child folders (or all descendants), in memory.
class HierarchySource : public RowSource {
 public:
  HierarchySource(SqliteMailbox& mb, FolderId folder, uint32_t flags) : mb_(mb), folder_(folder), flags_(flags) {}
  std::vector<LeafRow> leaf_rows(const Restriction* r, const SortOrderSet& s) override;
  std::vector<PropertyBag> fetch(const std::vector<int64_t>& ids, const std::vector<PropTag>& columns) override;
  std::unique_ptr<PropertySource> row_source(int64_t id) override;
  // Any change in the store may change a folder row (its counts): the newest journal row.
  std::optional<int64_t> version() override;

 private:
  void load();
  SqliteMailbox& mb_;
  FolderId folder_;
  uint32_t flags_;
  std::map<int64_t, PropertyBag> rows_;
  std::vector<int64_t> depth_first_;  // the folders in tree order: each followed by its subfolders
  bool loaded_ = false;
};

struct OwnedMessage : PropertySource {
  Message m;
  const PropValue* find(PropTag tag) const override { return m.find(tag); }
  std::vector<const PropertySource*> subobjects(PropTag t) const override { return m.subobjects(t); }
};

struct OwnedBag : PropertySource {
  PropertyBag b;
  const PropValue* find(PropTag tag) const override { return b.find(tag); }
};

class LargeStream : public PropertyStream {
 public:
  LargeStream(Db& db, int64_t id, uint64_t size) : q_(db, "SELECT data FROM large_chunks WHERE value_id = ? ORDER BY seq"), size_(size) {
    q_.bind(1, id);
  }
  uint64_t size() const override { return size_; }
  size_t read(uint8_t* out, size_t n) override {
    size_t done = 0;
    while (done < n) {
      if (at_ == chunk_.size()) {
        // Once done, never step again: SQLite would restart the query.
        if (finished_ || !q_.step()) {
          finished_ = true;
          break;
        }
        chunk_ = q_.blob(0);
        at_ = 0;
      }
      size_t k = std::min(n - done, chunk_.size() - at_);
      std::copy_n(chunk_.begin() + at_, k, out + done);
      at_ += k;
      done += k;
    }
    return done;
  }

 private:
  Stmt q_;
  uint64_t size_;
  Bytes chunk_;
  size_t at_ = 0;
  bool finished_ = false;
};

// A read transaction for the statements of one call when none is open: one snapshot and one
// WAL read lock instead of one per statement. Writers are not held up (WAL).
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Db& db) : db_(db), own_(sqlite3_get_autocommit(db.handle()) != 0 && !statement_running(db)) {
    if (own_) db_.exec("BEGIN");
  }
  ~ReadSnapshot() {
    if (own_ && sqlite3_get_autocommit(db_.handle()) == 0) sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr);
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  // A statement in mid-step (its own read transaction): then this call simply joins it.
  static bool statement_running(Db& db) {
    for (sqlite3_stmt* st = sqlite3_next_stmt(db.handle(), nullptr); st; st = sqlite3_next_stmt(db.handle(), st))
      if (sqlite3_stmt_busy(st)) return true;
    return false;
  }
  Db& db_;
  bool own_;
};

class SqliteMailbox final : public Mailbox {
 public:
  SqliteMailbox(const std::string& path, bool create) : path_(path), db_(path, create) {
    register_collation(db_);
    db_.exec("PRAGMA foreign_keys = ON");
    std::error_code ec;
    feed_key_ = std::filesystem::weakly_canonical(path_, ec).string();
    if (ec) feed_key_ = path_;
    db_.on_commit = [key = feed_key_] { ChangeFeed::committed(key); };
  }

  void initialize(const MailboxOptions& o) {
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("PRAGMA synchronous = FULL");
    Transaction tx(db_);
    db_.exec(kSchema);
    db_.exec(kPropTablesV6);
    db_.exec(kJournalSchema);
    db_.exec(kQueueSchema);
    migrate_queue_state();
    db_.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    set_info("mailbox_guid", Guid::random());
    set_info("replica_guid", Guid::random());
    set_info_int("next_gc", 1);
    set_info_int("next_cn", 1);
    set_info_int("mailbox_size", 0);
    set_info_int("quota", o.quota_bytes);
    set_info_text("display_name", o.display_name);
    set_info_text("email_address", o.email_address);
    load_info();
    for (const auto& s : engine::special_folder_layout()) {
      std::optional<FolderId> parent;
      if (s.folder != SpecialFolder::Root) parent = specials_.at(s.parent);
      FolderId id = insert_folder(parent, special_folder_name(s.folder), s.folder == SpecialFolder::Root ? FolderType::Root : FolderType::Generic,
                                  int(s.folder));
      specials_[s.folder] = id;
      std::vector<PropValue> props;
      if (s.container_class) props.push_back(PropValue::string(tags::PidTagContainerClass, s.container_class));
      if (s.hidden) props.push_back(PropValue::boolean(PidTagAttributeHidden, true));
      if (!props.empty()) write_props(db_, kFolderProps, int64_t(id), props);
    }
    tx.commit();
  }

  void validate() {
    check_file_size();
    int64_t app_id = 0;
    {
      Stmt app(db_, "PRAGMA application_id");
      app_id = app.step() ? app.int64(0) : 0;
    }
    if (app_id != kApplicationId)
      throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "'" + path_ + "' is not an OpenMAPI mailbox (application id " + std::to_string(app_id) + ")");
    int64_t v = 0;
    {
      Stmt ver(db_, "PRAGMA user_version");  // given back (reset) before a migration changes the schema
      v = ver.step() ? ver.int64(0) : 0;
    }
    if (v > kSchemaVersion)
      throw_error(ErrorCode::MAPI_E_VERSION, "mailbox '" + path_ + "' has schema version " + std::to_string(v) +
                                                  ", newer than this build understands (" + std::to_string(kSchemaVersion) + ")");
    db_.exec("PRAGMA synchronous = FULL");
    if (v < kSchemaVersion) migrate(int(v));
    load_info();
    Stmt q(db_, "SELECT special, id FROM folders WHERE special IS NOT NULL");
    while (q.step()) specials_[SpecialFolder(q.int64(0))] = FolderId(q.int64(1));
    for (const auto& s : engine::special_folder_layout())
      if (!specials_.count(s.folder))
        throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, std::string("mailbox is missing its special folder ") + special_folder_name(s.folder));
    reload_named();
  }

  // Brings an older schema up to kSchemaVersion in one transaction (all or nothing).
  void migrate(int from) {
    Transaction tx(db_);
    if (from < 2) db_.exec(kJournalSchema);  // version 2: the change journal starts empty
    if (from < 3) db_.exec(kQueueSchema);    // version 3: an empty outgoing queue
    if (from < 4) db_.exec(kFlagsIndexV4);   // version 4: messages_by_flags in id order
    if (from < 5) migrate_recipients();      // version 5: recipients in the messages row
    if (from < 6) migrate_prop_keys();       // version 6: property tables keyed by owner << 32 | tag
    if (from < 7) migrate_queue_state();     // version 7: the spooler's state with each queue entry
    db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
    spdlog::info("mailbox '{}' migrated from schema version {} to {}", path_, from, kSchemaVersion);
  }

  void migrate_queue_state() {
    for (const auto& [name, definition] : kQueueStateColumnsV7) {
      Stmt has(db_, "SELECT 1 FROM pragma_table_info('outgoing') WHERE name = ?");
      has.bind(1, std::string_view(name));
      const bool present = has.step();
      has.reset();
      if (!present) db_.exec(std::string("ALTER TABLE outgoing ADD COLUMN ") + definition);
    }
  }

  // Version 5: each message's recipients and their properties (large ones included) become its
  // messages.recipients value; the old tables and the last-modified index go.
  void migrate_recipients() {
    db_.exec(kRecipientsColumnV5);
    Stmt has(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'recipient_props'");
    if (has.step()) {
      Stmt props(db_, "SELECT tag, value, large_id FROM recipient_props WHERE recipient_id = ?");
      Stmt q(db_, "SELECT message_id, id, row_num FROM recipients ORDER BY message_id, row_num");
      Stmt ins(db_, "UPDATE messages SET recipients = ?2 WHERE id = ?1");
      std::vector<PropertyBag> rows;
      int64_t message = -1;
      auto flush = [&] {
        if (rows.empty()) return;
        ins.bind(1, message).bind(2, ByteView(encode_recipient_rows(rows))).run();
        ins.reset();
        rows.clear();
      };
      while (q.step()) {
        if (q.int64(0) != message) flush();
        message = q.int64(0);
        PropertyBag row;
        props.bind(1, q.int64(1));
        while (props.step()) {
          const PropTag tag(uint32_t(props.int64(0)));
          if (props.is_null(2)) {
            row.set(column_value(props, 1, tag));
          } else {
            Bytes data = read_large(db_, props.int64(2));
            if (tag.type() == PropType::Binary) row.set(PropValue(tag, std::move(data)));
            else if (tag.type() == PropType::String) row.set(PropValue(tag, std::string(data.begin(), data.end())));
            else throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "a large recipient value has the tag " + tag.hex());
          }
        }
        props.reset();
        row.set(PropValue::i32(tags::PidTagRowid, int32_t(q.int64(2))));
        rows.push_back(std::move(row));
      }
      flush();
      // Their large values go with them (the delete trigger is dropped first).
      Stmt(db_, "DELETE FROM large_values WHERE id IN (SELECT large_id FROM recipient_props WHERE large_id IS NOT NULL)").run();
    }
    has.reset();
    db_.exec(kDropV4Recipients);
  }

  // Version 6: the three property tables re-keyed (values.h), the rows copied in key order.
  void migrate_prop_keys() {
    Stmt keyed(db_, "SELECT 1 FROM pragma_table_info('message_props') WHERE name = 'key'");
    const bool done = keyed.step();
    keyed.reset();
    if (done) return;
    db_.exec(kPropTablesFromV5);
    db_.exec(kPropTablesV6);
    db_.exec(kPropTablesFromV5Copy);
  }

  // A cheap look for truncation: with no write-ahead log to supply pages, the file must hold
  // every page the database header counts. Damage inside pages shows when they are read
  // (MAPI_E_CORRUPT_STORE) and in check_integrity().
  void check_file_size() {
    std::error_code ec;
    auto wal_size = std::filesystem::file_size(path_ + "-wal", ec);
    if (!ec && wal_size > 0) return;
    Stmt ps(db_, "PRAGMA page_size");
    Stmt pc(db_, "PRAGMA page_count");
    if (!ps.step() || !pc.step()) return;
    uint64_t expected = uint64_t(ps.int64(0)) * uint64_t(pc.int64(0));
    uint64_t actual = std::filesystem::file_size(path_, ec);
    if (!ec && actual < expected)
      throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "mailbox database '" + path_ + "' is truncated: " + std::to_string(actual) +
                                                       " bytes, its header counts " + std::to_string(expected));
  }

  // ---- store --------------------------------------------------------------
  Guid mailbox_guid() override { return mailbox_guid_; }
  Guid replica_guid() override { return replica_guid_; }
  int64_t mailbox_size() override { return get_info_int("mailbox_size"); }
  void set_quota(int64_t bytes) override {
    if (bytes < 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "quota cannot be negative");
    Transaction tx(db_);
    set_info_int("quota", bytes);
    tx.commit();
  }

  PropertyBag store_properties() override {
    PropertyBag b;
    std::string name = get_info_text("display_name");
    b.set(PropValue::string(tags::PidTagDisplayName, name.empty() ? "Mailbox" : name));
    b.set(PropValue::string(tags::PidTagMailboxOwnerName, name));
    Bytes key(mailbox_guid_.bytes.begin(), mailbox_guid_.bytes.end());
    b.set(PropValue::binary(tags::PidTagRecordKey, key));
    b.set(PropValue::binary(PidTagStoreRecordKeyTag, key));
    b.set(PropValue::binary(tags::PidTagStoreEntryId, store_entry_id()));
    b.set(PropValue::i32(tags::PidTagObjectType, 1));  // MAPI_STORE
    // MS-OXCSTOR 2.2.2.1.1.x: STORE_ENTRYID_UNIQUE | MODIFY | CREATE | ATTACH | OLE | MV_PROPS |
    // RTF | CATEGORIZE | RESTRICTION | SORT | HTML | UNICODE
    b.set(PropValue::i32(tags::PidTagStoreSupportMask, 0x00000001 | 0x08 | 0x10 | 0x20 | 0x100 | 0x200 | 0x800 | 0x400 |
                                                           0x1000 | 0x2000 | 0x10000 | 0x40000));
    b.set(PropValue::i64(tags::PidTagMessageSizeExtended, mailbox_size()));
    int64_t quota = get_info_int("quota");
    if (quota > 0) {  // quota properties are in KiB
      b.set(PropValue::i32(tags::PidTagProhibitSendQuota, int32_t(quota / 1024)));
      b.set(PropValue::i32(tags::PidTagProhibitReceiveQuota, int32_t(quota / 1024)));
      b.set(PropValue::i32(tags::PidTagStorageQuotaLimit, int32_t(quota / 1024)));
    }
    struct { PropTag tag; SpecialFolder f; } published[] = {
        {tags::PidTagIpmSubtreeEntryId, SpecialFolder::IpmSubtree},
        {tags::PidTagIpmOutboxEntryId, SpecialFolder::Outbox},
        {tags::PidTagIpmWastebasketEntryId, SpecialFolder::DeletedItems},
        {tags::PidTagIpmSentMailEntryId, SpecialFolder::SentItems},
        {tags::PidTagViewsEntryId, SpecialFolder::Views},
        {tags::PidTagCommonViewsEntryId, SpecialFolder::CommonViews},
        {tags::PidTagFinderEntryId, SpecialFolder::Finder},
    };
    for (const auto& p : published) b.set(PropValue::binary(p.tag, folder_entry_id(specials_.at(p.f))));
    return b;
  }

  uint16_t named_property_id(const PropertyName& name, bool create) override {
    const PropertyName c = name.canonical();
    if (auto id = named_.find(c)) return *id;
    try {
      // Under the write lock, re-read the map: another process may have mapped names meanwhile.
      Transaction tx(db_);
      reload_named();
      if (auto id = named_.find(c)) return *id;
      if (!create) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "named property " + name.to_string() + " is not mapped");
      uint16_t id = named_.get_or_create(c, true);
      Stmt ins(db_, "INSERT INTO named_props(id, guid, kind, lid, name) VALUES(?, ?, ?, ?, ?)");
      ins.bind(1, int64_t(id)).bind(2, ByteView(c.set.bytes)).bind(3, int64_t(c.kind));
      if (c.kind == NameKind::Id) ins.bind(4, int64_t(c.lid)).bind_null(5);
      else ins.bind_null(4).bind(5, std::string_view(c.name));
      ins.run();
      tx.commit();
      return id;
    } catch (...) {
      reload_named();  // after the rollback: the in-memory map must not run ahead of the database
      throw;
    }
  }

  std::optional<PropertyName> named_property_name(uint16_t id) override {
    if (const PropertyName* n = named_.find(id)) return *n;
    return std::nullopt;
  }

  // ---- folders -------------------------------------------------------------
  FolderId special_folder(SpecialFolder f) override { return specials_.at(f); }

  FolderId folder_by_path(const std::string& path) override {
    if (path == "/" ) return specials_.at(SpecialFolder::Root);
    FolderId at = specials_.at(SpecialFolder::IpmSubtree);
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      std::string part = path.substr(start, end - start);
      start = end + 1;
      if (part.empty()) {
        if (end == path.size()) break;
        continue;
      }
      Stmt q(db_, "SELECT id FROM folders WHERE parent_id = ? AND display_name = ? COLLATE NOCASE");
      q.bind(1, int64_t(at)).bind(2, std::string_view(part));
      if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder '" + part + "' in path '" + path + "'");
      at = FolderId(q.int64(0));
    }
    return at;
  }

  FolderId create_folder(FolderId parent, const std::string& name, const std::string& container_class,
                         FolderType type) override {
    check_folder_name(name);
    require_folder(parent);
    if (type == FolderType::Root) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "only the store has a root folder");
    Transaction tx(db_);
    FolderId id = insert_folder(parent, name, type, std::nullopt);
    if (!container_class.empty())
      write_props(db_, kFolderProps, int64_t(id), {PropValue::string(tags::PidTagContainerClass, container_class)});
    tx.commit();
    return id;
  }

  PropertyBag folder_properties(FolderId id) override {
    Stmt q(db_, "SELECT parent_id, folder_type, display_name, change_number, special FROM folders WHERE id = ?");
    q.bind(1, int64_t(id));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder with id " + std::to_string(id));
    PropertyBag b = read_props(db_, kFolderProps, int64_t(id), true);
    for (PropTag t : {kSearchRestriction, kSearchFolders, kSearchState}) b.erase(t);  // the backend's own
    // (a plain id and a flag rather than std::optional: GCC 12 warns of a maybe-uninitialized one)
    const bool has_parent = !q.is_null(0);
    const FolderId parent = has_parent ? FolderId(q.int64(0)) : FolderId(0);
    b.set(PropValue::string(tags::PidTagDisplayName, q.text(2)));
    b.set(PropValue::i32(tags::PidTagFolderType, int32_t(q.int64(1))));
    b.set(PropValue::i64(tags::PidTagChangeNumber, int64_t(ObjectId{kLocalReplicaId, GlobalCounter(q.int64(3))}.to_u64())));
    b.set(PropValue::i64(tags::PidTagFolderId, fid(id)));
    b.set(PropValue::binary(tags::PidTagEntryId, folder_entry_id(id)));
    b.set(PropValue::binary(tags::PidTagRecordKey, folder_entry_id(id)));
    b.set(PropValue::binary(tags::PidTagSourceKey, make_xid(replica_guid_, id).serialize()));
    b.set(PropValue::i32(tags::PidTagObjectType, 3));  // MAPI_FOLDER
    b.set(PropValue::binary(tags::PidTagStoreEntryId, store_entry_id()));
    b.set(PropValue::binary(PidTagStoreRecordKeyTag, Bytes(mailbox_guid_.bytes.begin(), mailbox_guid_.bytes.end())));
    if (has_parent) {
      b.set(PropValue::i64(tags::PidTagParentFolderId, fid(parent)));
      b.set(PropValue::binary(tags::PidTagParentEntryId, folder_entry_id(parent)));
      b.set(PropValue::binary(tags::PidTagParentSourceKey, make_xid(replica_guid_, parent).serialize()));
    }
    Stmt c(db_,
           "SELECT COUNT(*), COALESCE(SUM(message_flags & 1 = 0), 0), COALESCE(SUM(message_size), 0) FROM messages "
           "WHERE folder_id = ? AND associated = 0 AND soft_deleted = 0");
    c.bind(1, int64_t(id));
    c.step();
    b.set(PropValue::i32(tags::PidTagContentCount, int32_t(c.int64(0))));
    b.set(PropValue::i32(tags::PidTagContentUnreadCount, int32_t(c.int64(1))));
    b.set(PropValue::i64(tags::PidTagMessageSizeExtended, c.int64(2)));
    b.set(PropValue::i32(tags::PidTagMessageSize, int32_t(std::min<int64_t>(c.int64(2), INT32_MAX))));
    Stmt a(db_, "SELECT COUNT(*) FROM messages WHERE folder_id = ? AND associated = 1 AND soft_deleted = 0");
    a.bind(1, int64_t(id));
    a.step();
    b.set(PropValue::i32(PidTagAssociatedContentCount, int32_t(a.int64(0))));
    Stmt d(db_, "SELECT COUNT(*) FROM messages WHERE folder_id = ? AND soft_deleted = 1");
    d.bind(1, int64_t(id));
    d.step();
    b.set(PropValue::i32(tags::PidTagDeletedCountTotal, int32_t(d.int64(0))));
    Stmt f(db_, "SELECT COUNT(*) FROM folders WHERE parent_id = ?");
    f.bind(1, int64_t(id));
    f.step();
    b.set(PropValue::i32(tags::PidTagFolderChildCount, int32_t(f.int64(0))));
    b.set(PropValue::boolean(tags::PidTagSubfolders, f.int64(0) > 0));
    // MS-OXOSFLD 2.2.3/2.2.4: the Root and Inbox publish the special folders' entry IDs.
    if (id == specials_.at(SpecialFolder::Root) || id == specials_.at(SpecialFolder::Inbox)) {
      struct { PropTag tag; SpecialFolder f; } published[] = {
          {tags::PidTagIpmAppointmentEntryId, SpecialFolder::Calendar},
          {tags::PidTagIpmContactEntryId, SpecialFolder::Contacts},
          {tags::PidTagIpmJournalEntryId, SpecialFolder::Journal},
          {tags::PidTagIpmNoteEntryId, SpecialFolder::Notes},
          {tags::PidTagIpmTaskEntryId, SpecialFolder::Tasks},
          {tags::PidTagIpmDraftsEntryId, SpecialFolder::Drafts},
      };
      for (const auto& p : published) b.set(PropValue::binary(p.tag, folder_entry_id(specials_.at(p.f))));
      // PidTagAdditionalRenEntryIds: Conflicts, Sync Issues, Local Failures, Server Failures, Junk Email.
      std::vector<Bytes> ren;
      for (SpecialFolder f : {SpecialFolder::Conflicts, SpecialFolder::SyncIssues, SpecialFolder::LocalFailures,
                              SpecialFolder::ServerFailures, SpecialFolder::JunkEmail})
        ren.push_back(folder_entry_id(specials_.at(f)));
      b.set(PropValue(tags::PidTagAdditionalRenEntryIds, std::move(ren)));
    }
    return b;
  }

  void set_folder_properties(FolderId id, const PropertyBag& props) override {
    require_folder(id);
    Transaction tx(db_);
    std::vector<PropValue> values;
    for (const auto& v : props.values()) {
      if (v.tag().id() == tags::PidTagDisplayName.id()) {
        const auto* s = v.get_if<std::string>();
        if (!s) throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "PidTagDisplayName must be a string");
        rename_in_tx(id, *s);
        continue;
      }
      if (is_computed_folder_tag(v.tag()))
        throw_error(ErrorCode::MAPI_E_COMPUTED, "property " + v.tag().hex() + " is computed by the store");
      values.push_back(v);
    }
    write_props(db_, kFolderProps, int64_t(id), values);
    bump_folder_change(id);
    tx.commit();
  }

  void delete_folder_properties(FolderId id, const std::vector<PropTag>& tags) override {
    require_folder(id);
    for (PropTag t : tags)
      if (is_computed_folder_tag(t) || t.id() == tags::PidTagDisplayName.id())
        throw_error(ErrorCode::MAPI_E_COMPUTED, "property " + t.hex() + " cannot be deleted");
    Transaction tx(db_);
    delete_props(db_, kFolderProps, int64_t(id), tags);
    bump_folder_change(id);
    tx.commit();
  }

  std::string owner_address() override { return get_info_text("email_address"); }

  void rename_folder(FolderId id, const std::string& new_name) override {
    require_folder(id);
    Transaction tx(db_);
    rename_in_tx(id, new_name);
    tx.commit();
  }

  void move_folder(FolderId id, FolderId new_parent) override {
    require_folder(id);
    require_folder(new_parent);
    if (is_special(id)) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "special folders cannot be moved");
    for (std::optional<FolderId> at = new_parent; at; at = parent_folder(*at))
      if (*at == id) throw_error(ErrorCode::MAPI_E_FOLDER_CYCLE, "cannot move a folder into itself or its subfolders");
    Transaction tx(db_);
    std::optional<FolderId> old_parent = parent_folder(id);
    Stmt(db_, "UPDATE folders SET parent_id = ? WHERE id = ?").bind(1, int64_t(new_parent)).bind(2, int64_t(id)).run();
    bump_folder_change(id, ChangeKind::Moved, old_parent.value_or(0));
    tx.commit();
  }

  void delete_folder(FolderId id, uint32_t flags) override {
    require_folder(id);
    if (is_special(id)) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "special folders cannot be deleted");
    Transaction tx(db_);
    delete_folder_in_tx(id, flags);
    tx.commit();
  }

  std::vector<FolderId> child_folders(FolderId id) override {
    require_folder(id);
    Stmt q(db_, "SELECT id FROM folders WHERE parent_id = ? ORDER BY id");
    q.bind(1, int64_t(id));
    std::vector<FolderId> out;
    while (q.step()) out.push_back(FolderId(q.int64(0)));
    return out;
  }

  std::optional<FolderId> parent_folder(FolderId id) override {
    Stmt q(db_, "SELECT parent_id FROM folders WHERE id = ?");
    q.bind(1, int64_t(id));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder with id " + std::to_string(id));
    if (q.is_null(0)) return std::nullopt;
    return FolderId(q.int64(0));
  }

  // ---- messages ------------------------------------------------------------
  MessageId save_message(FolderId folder, const Message& msg, std::optional<MessageId> existing,
                         const std::vector<StreamedValue>& streams) override {
    return save_impl(folder, msg, existing, streams, std::nullopt);
  }

  // save_message; `copied_from` (message, folder) journals the new message as a copy.
  MessageId save_impl(FolderId folder, const Message& msg, std::optional<MessageId> existing,
                      const std::vector<StreamedValue>& streams, std::optional<std::pair<MessageId, FolderId>> copied_from) {
    require_folder(folder);
    for (const auto& s : streams) require_streamable(s.tag);
    Transaction tx(db_);
    int64_t old_size = 0;
    std::optional<PropValue> old_pcl;
    // A new message keeps a creation time it brings (an import); an edit keeps the stored one.
    int64_t created = msg.props.get_i64(tags::PidTagCreationTime).value_or(now_filetime());
    bool associated = false;
    if (existing) {
      Stmt q(db_, "SELECT message_size, associated, folder_id FROM messages WHERE id = ? AND folder_id IS NOT NULL");
      q.bind(1, int64_t(*existing));
      if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no message with id " + std::to_string(*existing));
      if (FolderId(q.int64(2)) != folder)
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "message " + std::to_string(*existing) + " is not in folder " + std::to_string(folder));
      old_size = q.int64(0);
      associated = q.int64(1) != 0;
      PropertyBag old = read_props(db_, kMessageProps, int64_t(*existing), false);
      if (auto p = old.find(tags::PidTagPredecessorChangeList)) old_pcl = *p;
      if (auto c = old.get_i64(tags::PidTagCreationTime)) created = *c;
      // Replace the content: properties, recipients, attachments and embedded messages go with the row.
      Stmt(db_, "DELETE FROM messages WHERE id = ?").bind(1, int64_t(*existing)).run();
    } else if (auto f = msg.props.get_i32(tags::PidTagMessageFlags)) {
      associated = (*f & msgflag::Associated) != 0;
    }
    MessageId id = existing ? *existing : next_gc();
    int64_t cn = next_cn();
    std::vector<PropValue> extra;
    for (auto& v : engine::change_stamp(replica_guid_, cn, old_pcl ? &*old_pcl : nullptr)) extra.push_back(std::move(v));
    extra.push_back(PropValue::binary(tags::PidTagSourceKey, make_xid(replica_guid_, id).serialize()));
    extra.push_back(PropValue::time(tags::PidTagCreationTime, created));
    if (!msg.props.has(tags::PidTagLastModificationTime) || existing)
      extra.push_back(PropValue::time(tags::PidTagLastModificationTime, now_filetime()));
    int64_t size = write_message_rows(id, folder, std::nullopt, msg, associated, cn, extra, streams);
    Stmt(db_, "UPDATE messages SET message_size = ? WHERE id = ?").bind(1, size).bind(2, int64_t(id)).run();
    // Fresh: PidTagMessageSize is computed, so the rows just written (an edit's old ones went
    // with its row) do not hold it.
    write_props(db_, kMessageProps, int64_t(id), {PropValue::i32(tags::PidTagMessageSize, int32_t(std::min<int64_t>(size, INT32_MAX)))}, true);
    charge_size(old_size, size);
    if (copied_from)
      journal(cn, ChangeKind::Copied, false, id, folder, copied_from->first, copied_from->second, message_flags(id));
    else
      journal(cn, existing ? ChangeKind::Modified : ChangeKind::Created, false, id, folder, {}, {}, message_flags(id));
    tx.commit();
    return id;
  }

  MessageId write_message(FolderId folder, std::optional<MessageId> existing, bool associated,
                          const MessageChanges& c) override {
    require_folder(folder);
    for (const auto& s : c.props.streams) require_streamable(s.tag);
    for (const auto& a : c.attachments)
      for (const auto& s : a.props.streams) require_streamable(s.tag);
    Transaction tx(db_);
    int64_t old_size = 0;
    std::optional<PropValue> old_pcl;
    MessageId id = 0;
    const int64_t now = now_filetime();
    if (existing) {
      Stmt q(db_, "SELECT message_size, folder_id FROM messages WHERE id = ? AND folder_id IS NOT NULL");
      q.bind(1, int64_t(*existing));
      if (!q.step()) throw_error(ErrorCode::MAPI_E_OBJECT_DELETED, "message " + std::to_string(*existing) + " is gone (deleted or moved)");
      if (FolderId(q.int64(1)) != folder)
        throw_error(ErrorCode::MAPI_E_OBJECT_DELETED, "message " + std::to_string(*existing) + " is no longer in folder " + std::to_string(folder));
      old_size = q.int64(0);
      id = *existing;
      Stmt sub(db_, "SELECT 1 FROM outgoing WHERE message_id = ?");
      sub.bind(1, int64_t(id));
      if (sub.step()) throw_error(ErrorCode::MAPI_E_SUBMITTED, "message " + std::to_string(id) + " is submitted: abort the submission to change it");
      PropertyBag stamps = read_tags(kMessageProps, int64_t(id), {tags::PidTagChangeKey, tags::PidTagPredecessorChangeList});
      if (c.expected_change_key) {
        const PropValue* ck = stamps.find(tags::PidTagChangeKey);
        if (!ck || ck->get<Bytes>() != *c.expected_change_key)
          throw_error(ErrorCode::MAPI_E_OBJECT_CHANGED, "message " + std::to_string(id) + " was changed since it was opened");
      }
      if (auto p = stamps.find(tags::PidTagPredecessorChangeList)) old_pcl = *p;
    } else {
      id = MessageId(next_gc());
      Stmt(db_, "INSERT INTO messages(id, folder_id, associated, change_number) VALUES(?, ?, ?, 0)")
          .bind(1, int64_t(id)).bind(2, int64_t(folder)).bind(3, int64_t(associated)).run();
    }
    const int64_t cn = next_cn();
    apply_changes(kMessageProps, int64_t(id), c.props, is_computed_message_tag);
    if (existing && changes_content(c)) drop_internet_message(id);
    if (c.recipients) {
      std::vector<PropertyBag> rows = *c.recipients;
      for (size_t i = 0; i < rows.size(); ++i)
        if (!rows[i].has(tags::PidTagRowid)) rows[i].set(PropValue::i32(tags::PidTagRowid, int32_t(i)));
      Stmt u(db_, "UPDATE messages SET recipients = ? WHERE id = ?");
      if (rows.empty()) u.bind_null(1); else u.bind(1, ByteView(recipients_value(rows).data));
      u.bind(2, int64_t(id)).run();
    }
    for (const AttachmentChange& a : c.attachments) {
      if (a.created) {
        Stmt e(db_, "SELECT 1 FROM attachments WHERE message_id = ? AND attach_num = ?");
        e.bind(1, int64_t(id)).bind(2, int64_t(a.attach_num));
        if (e.step()) throw_error(ErrorCode::MAPI_E_COLLISION, "attachment " + std::to_string(a.attach_num) + " exists already");
        Stmt(db_, "INSERT INTO attachments(message_id, attach_num) VALUES(?, ?)").bind(1, int64_t(id)).bind(2, int64_t(a.attach_num)).run();
      }
      const int64_t aid = attachment_row(id, a.attach_num);
      if (a.deleted) {
        Stmt(db_, "DELETE FROM attachments WHERE id = ?").bind(1, aid).run();
        continue;
      }
      apply_changes(kAttachmentProps, aid, a.props, engine::is_computed_attachment_tag);
      if (a.embedded) {
        Stmt(db_, "DELETE FROM messages WHERE parent_attachment_id = ?").bind(1, aid).run();
        write_message_rows(MessageId(next_gc()), std::nullopt, aid, *a.embedded, false, cn, {}, {});
      }
    }
    // The stamps of a change (MS-OXCFXICS 2.2.1.2: change key, PCL; MS-OXCMSG: times, flags).
    std::vector<PropValue> stamps;
    for (auto& v : engine::change_stamp(replica_guid_, cn, old_pcl ? &*old_pcl : nullptr)) stamps.push_back(std::move(v));
    PropertyBag now_set;
    for (const auto& v : c.props.set) now_set.set(v);
    if (!existing) {
      stamps.push_back(PropValue::binary(tags::PidTagSourceKey, make_xid(replica_guid_, id).serialize()));
      stamps.push_back(PropValue::time(tags::PidTagCreationTime, now_set.get_i64(tags::PidTagCreationTime).value_or(now)));
    }
    if (existing || !now_set.has(tags::PidTagLastModificationTime))
      stamps.push_back(PropValue::time(tags::PidTagLastModificationTime, now));
    Stmt ac(db_, "SELECT COUNT(*) FROM attachments WHERE message_id = ?");
    ac.bind(1, int64_t(id));
    ac.step();
    PropertyBag fl = read_tags(kMessageProps, int64_t(id), {tags::PidTagMessageFlags});
    int32_t flags = fl.get_i32(tags::PidTagMessageFlags).value_or(0);
    flags = ac.int64(0) > 0 ? (flags | msgflag::HasAttach) : (flags & ~msgflag::HasAttach);
    Stmt as(db_, "SELECT associated FROM messages WHERE id = ?");
    as.bind(1, int64_t(id));
    as.step();
    if (as.int64(0)) flags |= msgflag::Associated;
    stamps.push_back(PropValue::i32(tags::PidTagMessageFlags, flags));
    write_props(db_, kMessageProps, int64_t(id), stamps);
    const int64_t size = total_size(id);
    write_props(db_, kMessageProps, int64_t(id), {PropValue::i32(tags::PidTagMessageSize, int32_t(std::min<int64_t>(size, INT32_MAX)))});
    refresh_mirror(id, cn, size);
    charge_size(old_size, size);
    journal(cn, existing ? ChangeKind::Modified : ChangeKind::Created, false, id, folder, {}, {}, flags);
    tx.commit();
    return id;
  }

  // Whether `c` changes more than the status of a message (named_ids.h: is_status_property).
  bool changes_content(const MessageChanges& c) const {
    if (c.recipients || !c.attachments.empty()) return true;
    auto content = [&](PropTag t) { return !is_status_property(t, t.is_named() ? named_.find(t.id()) : nullptr); };
    for (const auto& v : c.props.set)
      if (content(v.tag())) return true;
    for (PropTag t : c.props.removed)
      if (content(t)) return true;
    for (const auto& st : c.props.streams)
      if (content(st.tag)) return true;
    return false;
  }
  // The message's content changed: its Internet form and the envelope worked out from it
  // (named_ids.h) no longer say the same.
  void drop_internet_message(MessageId id) {
    for (const auto& [name, type] : {std::pair{internet_message_name(), PropType::Binary}, std::pair{imap_envelope_name(), PropType::String}}) {
      const PropertyName n = name.canonical();
      Stmt(db_, "DELETE FROM message_props WHERE key = (? << 32) | ((SELECT id FROM named_props WHERE guid = ? AND kind = ? AND name = ?) << 16) | ?")
          .bind(1, int64_t(id)).bind(2, ByteView(n.set.bytes)).bind(3, int64_t(n.kind)).bind(4, std::string_view(n.name))
          .bind(5, int64_t(uint16_t(type))).run();
    }
  }

  // Only strings and binaries are stored as streams (MAPI_E_INVALID_TYPE otherwise).
  static void require_streamable(PropTag tag) {
    const size_t k = storage_index(tag.type());
    if (k != 7 && k != 9)
      throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "only string and binary properties can be streamed (" + tag.hex() + ")");
  }

  // A message's size changes from `old_size` to `size`: the mailbox total follows, and a message
  // that grows past the quota fails the save (MAPI_E_STORE_FULL; the transaction rolls back).
  void charge_size(int64_t old_size, int64_t size) {
    Stmt q(db_, "UPDATE store_info SET value = value + ? WHERE key = 'mailbox_size' RETURNING value, "
                "(SELECT value FROM store_info WHERE key = 'quota')");
    q.bind(1, size - old_size);
    if (!q.step()) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "mailbox has no 'mailbox_size' record");
    const int64_t total = q.int64(0), quota = q.int64(1);
    q.run();
    engine::check_quota(total, quota, old_size, size);  // throws: the caller's transaction rolls back
  }

  // Applies one bag's changes: computed tags, errors and objects are skipped (the object model
  // reports them as problems before it gets here).
  void apply_changes(const PropTableSpec& t, int64_t owner, const PropChanges& p, bool (*computed)(PropTag)) {
    std::vector<PropValue> set;
    for (const auto& v : p.set)
      if (!computed(v.tag()) && v.type() != PropType::Object && v.type() != PropType::ErrorCode) set.push_back(v);
    write_props(db_, t, owner, set);
    std::vector<PropTag> removed;
    for (PropTag r : p.removed)
      if (!computed(r)) removed.push_back(r);
    if (!removed.empty()) delete_props(db_, t, owner, removed);
    for (const StreamedValue& s : p.streams) {
      PropTag tag = s.tag.type() == PropType::String8 ? s.tag.with_type(PropType::String) : s.tag;
      delete_props(db_, t, owner, {tag});
      uint64_t streamed = 0;
      int64_t lid = write_large_stream(db_, s.source, streamed);
      Stmt(db_, std::string("INSERT INTO ") + t.table + "(key, value, large_id) VALUES(?, NULL, ?)")
          .bind(1, prop_key(owner, tag.value)).bind(2, lid).run();
    }
  }

  // The small values of `tags` (by id) of one owner.
  PropertyBag read_tags(const PropTableSpec& t, int64_t owner, const std::vector<PropTag>& wanted) {
    PropertyBag b;
    Stmt q(db_, std::string("SELECT tag, value FROM ") + t.table + " WHERE key BETWEEN ? AND ? AND large_id IS NULL");
    for (PropTag w : wanted) {
      const KeyRange r = prop_id_keys(owner, w.id());  // every type of the id: one key range
      q.bind(1, r.first).bind(2, r.last);
      while (q.step()) b.set(column_value(q, 1, PropTag(uint32_t(q.int64(0)))));
      q.reset();
    }
    return b;
  }

  // The stored size of one owner's values (large ones by their recorded size).
  int64_t props_size(const PropTableSpec& t, int64_t owner) {
    Stmt q(db_, std::string("SELECT p.tag, p.value, v.size FROM ") + t.table +
                    " p LEFT JOIN large_values v ON v.id = p.large_id WHERE p.key BETWEEN ? AND ?");
    const KeyRange r = owner_keys(owner);
    q.bind(1, r.first).bind(2, r.last);
    int64_t size = 0;
    while (q.step()) {
      PropTag tag(uint32_t(q.int64(0)));
      if (tag.id() == tags::PidTagMessageSize.id()) continue;
      size += q.is_null(2) ? int64_t(column_value(q, 1, tag).size()) : q.int64(2);
    }
    return size;
  }

  // PidTagMessageSize: everything the message holds (as save_message counts it).
  int64_t total_size(MessageId id) {
    int64_t size = props_size(kMessageProps, int64_t(id));
    Stmt r(db_, "SELECT recipients FROM messages WHERE id = ? AND recipients IS NOT NULL");
    r.bind(1, int64_t(id));
    if (r.step()) size += recipient_rows_size(r.blob_view(0));
    Stmt a(db_, "SELECT id FROM attachments WHERE message_id = ?");
    a.bind(1, int64_t(id));
    while (a.step()) {
      size += props_size(kAttachmentProps, a.int64(0));
      Stmt e(db_, "SELECT id FROM messages WHERE parent_attachment_id = ?");
      e.bind(1, a.int64(0));
      while (e.step()) size += total_size(MessageId(e.int64(0)));
    }
    return size;
  }

  // The columns of `messages` that mirror properties, from message_props.
  void refresh_mirror(MessageId id, int64_t cn, int64_t size) {
    PropertyBag b = read_tags(kMessageProps, int64_t(id),
                              {tags::PidTagMessageDeliveryTime, tags::PidTagLastModificationTime, tags::PidTagSubject,
                               tags::PidTagNormalizedSubject, tags::PidTagSenderName, tags::PidTagMessageClass,
                               tags::PidTagImportance, tags::PidTagMessageFlags});
    Stmt u(db_,
           "UPDATE messages SET change_number = ?, message_size = ?, message_flags = ?, delivery_time = ?, last_modified = ?, "
           "subject = ?, normalized_subject = ?, sender_name = ?, message_class = ?, importance = ? WHERE id = ?");
    u.bind(1, cn).bind(2, size).bind(3, int64_t(b.get_i32(tags::PidTagMessageFlags).value_or(0)));
    auto opt_i64 = [&](int i, std::optional<int64_t> v) { if (v) u.bind(i, *v); else u.bind_null(i); };
    auto opt_str = [&](int i, PropTag t) { if (auto v = b.get_string(t)) u.bind(i, std::string_view(*v)); else u.bind_null(i); };
    opt_i64(4, b.get_i64(tags::PidTagMessageDeliveryTime));
    opt_i64(5, b.get_i64(tags::PidTagLastModificationTime));
    opt_str(6, tags::PidTagSubject);
    opt_str(7, tags::PidTagNormalizedSubject);
    opt_str(8, tags::PidTagSenderName);
    opt_str(9, tags::PidTagMessageClass);
    auto imp = b.get_i32(tags::PidTagImportance);
    opt_i64(10, imp ? std::optional<int64_t>(*imp) : std::nullopt);
    u.bind(11, int64_t(id)).run();
  }

  // ---- search folders: the criteria in private folder properties (MAPI's provider range)
  static constexpr PropTag kSearchRestriction{0x67F0, PropType::Binary};
  static constexpr PropTag kSearchFolders{0x67F1, PropType::MultipleInteger64};
  static constexpr PropTag kSearchState{0x67F2, PropType::Integer32};

  void set_search_criteria(FolderId id, const std::optional<Restriction>& restriction, const std::vector<FolderId>& folders,
                           uint32_t flags) override {
    require_folder(id);
    if (!is_search_folder(id)) throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "folder " + std::to_string(id) + " is not a search folder");
    if ((flags & searchflag::Recursive) && (flags & searchflag::Shallow))
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a search is recursive or shallow, not both");
    for (FolderId f : folders) {
      require_folder(f);
      if (is_search_folder(f))
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a search folder cannot search search folders");
    }
    Transaction tx(db_);
    PropertyBag old = read_props(db_, kFolderProps, int64_t(id), false);
    std::vector<PropValue> values;
    if (restriction) values.push_back(PropValue::binary(kSearchRestriction, serialize_restriction(*restriction)));
    else if (!old.has(kSearchRestriction)) values.push_back(PropValue::binary(kSearchRestriction, serialize_restriction(Restriction())));
    if (!folders.empty()) {
      std::vector<int64_t> ids(folders.begin(), folders.end());
      values.push_back(PropValue(kSearchFolders, std::move(ids)));
    } else if (!old.has(kSearchFolders)) {
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the first search criteria need the folders to search");
    }
    int32_t state = old.get_i32(kSearchState).value_or(searchflag::Running);
    if (flags & searchflag::Recursive) state |= searchflag::StateRecursive;
    if (flags & searchflag::Shallow) state &= ~searchflag::StateRecursive;
    if (flags & searchflag::Stop) state &= ~searchflag::Running;
    if (flags & searchflag::Restart) state |= searchflag::Running;
    state |= searchflag::Complete;  // evaluated when read: always complete
    values.push_back(PropValue::i32(kSearchState, state));
    write_props(db_, kFolderProps, int64_t(id), values);
    int64_t cn = next_cn();
    Stmt(db_, "UPDATE folders SET change_number = ? WHERE id = ?").bind(1, cn).bind(2, int64_t(id)).run();
    journal(cn, ChangeKind::SearchComplete, true, id, parent_folder(id).value_or(0));
    tx.commit();
  }

  SearchCriteria get_search_criteria(FolderId id) override {
    require_folder(id);
    return search_criteria_of(id);
  }

  bool is_search_folder(FolderId id) {
    Stmt t(db_, "SELECT folder_type FROM folders WHERE id = ?");
    t.bind(1, int64_t(id));
    return t.step() && t.int64(0) == int64_t(FolderType::Search);
  }

  // The criteria of a search folder; MAPI_E_NO_SUPPORT for other folders, MAPI_E_NOT_INITIALIZED
  // before criteria were set.
  SearchCriteria search_criteria_of(FolderId id) {
    if (!is_search_folder(id))
      throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "folder " + std::to_string(id) + " is not a search folder");
    PropertyBag p = read_props(db_, kFolderProps, int64_t(id), false);
    const PropValue* r = p.find(kSearchRestriction);
    const PropValue* f = p.find(kSearchFolders);
    if (!r || !f) throw_error(ErrorCode::MAPI_E_NOT_INITIALIZED, "search folder " + std::to_string(id) + " has no criteria yet");
    SearchCriteria c;
    c.restriction = parse_restriction(r->get<Bytes>());
    for (int64_t v : f->get<std::vector<int64_t>>()) c.folders.push_back(FolderId(v));
    c.state = uint32_t(p.get_i32(kSearchState).value_or(0));
    return c;
  }

  // ---- the outgoing queue
  void submit_message(MessageId id) override {
    Transaction tx(db_);
    FolderId f = message_folder(id);
    Stmt r(db_, "SELECT recipients FROM messages WHERE id = ? AND recipients IS NOT NULL");
    r.bind(1, int64_t(id));
    if (!r.step() || decode_recipient_rows(r.blob_view(0)).empty()) throw_error(ErrorCode::MAPI_E_NO_RECIPIENTS, "message " + std::to_string(id) + " has no recipients to send to");
    Stmt in(db_, "SELECT 1 FROM outgoing WHERE message_id = ?");
    in.bind(1, int64_t(id));
    if (in.step()) throw_error(ErrorCode::MAPI_E_SUBMITTED, "message " + std::to_string(id) + " is submitted already");
    const int32_t flags = message_flags(id) | msgflag::Submitted;
    set_flags(id, flags);
    Stmt(db_, "INSERT INTO outgoing(message_id, submitted) VALUES(?, ?)").bind(1, int64_t(id)).bind(2, now_filetime()).run();
    journal(next_cn(), ChangeKind::Modified, false, id, f, {}, {}, flags);
    tx.commit();
  }

  void abort_submit(MessageId id) override {
    Transaction tx(db_);
    FolderId f = message_folder(id);
    Stmt(db_, "DELETE FROM outgoing WHERE message_id = ?").bind(1, int64_t(id)).run();
    if (db_.changes() == 0) throw_error(ErrorCode::MAPI_E_NOT_IN_QUEUE, "message " + std::to_string(id) + " is not in the outgoing queue");
    const int32_t flags = message_flags(id) & ~msgflag::Submitted;
    set_flags(id, flags);
    journal(next_cn(), ChangeKind::Modified, false, id, f, {}, {}, flags);
    tx.commit();
  }

  MessageId finish_submit(MessageId id, const std::vector<PropValue>& stamp) override {
    Transaction tx(db_);
    const FolderId f = message_folder(id);
    Stmt(db_, "DELETE FROM outgoing WHERE message_id = ?").bind(1, int64_t(id)).run();
    if (db_.changes() == 0) throw_error(ErrorCode::MAPI_E_NOT_IN_QUEUE, "message " + std::to_string(id) + " is not in the outgoing queue");
    const bool delete_after = read_tags(kMessageProps, int64_t(id), {tags::PidTagDeleteAfterSubmit})
                                  .get_bool(tags::PidTagDeleteAfterSubmit)
                                  .value_or(false);
    const int32_t flags = (message_flags(id) & ~(msgflag::Submitted | msgflag::Unsent)) | msgflag::Read;
    if (!stamp.empty()) write_props(db_, kMessageProps, int64_t(id), stamp);
    set_flags(id, flags);
    if (delete_after) {
      Stmt q(db_, "SELECT message_size FROM messages WHERE id = ?");
      q.bind(1, int64_t(id));
      const int64_t size = q.step() ? q.int64(0) : 0;
      set_info_int("mailbox_size", get_info_int("mailbox_size") - size);
      Stmt(db_, "DELETE FROM messages WHERE id = ?").bind(1, int64_t(id)).run();
      journal(next_cn(), ChangeKind::HardDeleted, false, id, f, {}, {}, flags);
      tx.commit();
      return 0;
    }
    {
      // The stamp may change mirrored columns (the sender's name) and the size.
      Stmt q(db_, "SELECT change_number, message_size FROM messages WHERE id = ?");
      q.bind(1, int64_t(id));
      q.step();
      const int64_t cn = q.int64(0), old_size = q.int64(1);
      const int64_t size = total_size(id);
      write_props(db_, kMessageProps, int64_t(id), {PropValue::i32(tags::PidTagMessageSize, int32_t(std::min<int64_t>(size, INT32_MAX)))});
      charge_size(old_size, size);
      refresh_mirror(id, cn, size);
    }
    const MessageId sent = move_in_tx(id, specials_.at(SpecialFolder::SentItems));
    tx.commit();
    return sent;
  }

  std::vector<std::pair<MessageId, int64_t>> outgoing_queue() override {
    Stmt q(db_, "SELECT message_id, submitted FROM outgoing ORDER BY submitted, message_id");
    std::vector<std::pair<MessageId, int64_t>> out;
    while (q.step()) out.emplace_back(MessageId(q.int64(0)), q.int64(1));
    return out;
  }

  std::vector<QueueEntry> queue_entries() override {
    Stmt q(db_, "SELECT message_id, submitted, attempts, next_attempt, finished, last_error FROM outgoing ORDER BY submitted, message_id");
    std::vector<QueueEntry> out;
    while (q.step()) {
      QueueEntry e{MessageId(q.int64(0)), q.int64(1), {}};
      e.state.attempts = uint32_t(std::clamp<int64_t>(q.int64(2), 0, UINT32_MAX));
      e.state.next_attempt = q.int64(3);
      const std::string finished = q.text(4);
      for (size_t start = 0; start < finished.size();) {
        size_t end = finished.find('\n', start);
        if (end == std::string::npos) end = finished.size();
        if (end > start) e.state.finished.push_back(finished.substr(start, end - start));
        start = end + 1;
      }
      e.state.last_error = q.text(5);
      out.push_back(std::move(e));
    }
    return out;
  }

  void set_queue_state(MessageId id, const QueueState& state) override {
    std::string finished;
    for (const std::string& a : state.finished) {
      if (a.empty() || a.find('\n') != std::string::npos) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a finished recipient must be one non-empty line");
      finished += a + "\n";
    }
    Transaction tx(db_);
    Stmt(db_, "UPDATE outgoing SET attempts = ?, next_attempt = ?, finished = ?, last_error = ? WHERE message_id = ?")
        .bind(1, int64_t(state.attempts))
        .bind(2, state.next_attempt)
        .bind(3, std::string_view(finished))
        .bind(4, std::string_view(state.last_error))
        .bind(5, int64_t(id))
        .run();
    if (db_.changes() == 0) throw_error(ErrorCode::MAPI_E_NOT_IN_QUEUE, "message " + std::to_string(id) + " is not in the outgoing queue");
    tx.commit();
  }

  void set_flags(MessageId id, int32_t flags) {
    Stmt(db_, "UPDATE messages SET message_flags = ? WHERE id = ?").bind(1, int64_t(flags)).bind(2, int64_t(id)).run();
    write_props(db_, kMessageProps, int64_t(id), {PropValue::i32(tags::PidTagMessageFlags, flags)});
  }

  // ---- receive folders (store_info "receive_folder:<class>")
  std::vector<std::pair<std::string, FolderId>> receive_folders() override {
    std::vector<std::pair<std::string, FolderId>> out{{"", specials_.at(SpecialFolder::Inbox)}};
    Stmt q(db_, "SELECT key, value FROM store_info WHERE key LIKE 'receive_folder:%' ORDER BY key");
    while (q.step()) {
      std::string cls = q.text(0).substr(15);
      if (cls.empty()) out[0].second = FolderId(q.int64(1));
      else out.emplace_back(cls, FolderId(q.int64(1)));
    }
    return out;
  }

  void set_receive_folder(const std::string& message_class, std::optional<FolderId> folder) override {
    const std::string cls = ascii_lower(message_class);
    if (cls.size() > 255) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "message class too long");
    Transaction tx(db_);
    if (folder) {
      require_folder(*folder);
      set_info_int(("receive_folder:" + cls).c_str(), int64_t(*folder));
    } else {
      if (cls.empty()) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the default receive folder cannot be removed");
      Stmt(db_, "DELETE FROM store_info WHERE key = ?").bind(1, std::string_view("receive_folder:" + cls)).run();
    }
    tx.commit();
  }

  Message load_message(MessageId id, bool large_values) override {
    ReadSnapshot snapshot(db_);
    Stmt q(db_, "SELECT folder_id, message_size, change_number, message_flags FROM messages WHERE id = ?");
    q.bind(1, int64_t(id));
    if (!q.step()) {
      // Properties without their message row: the file is damaged, not the id wrong.
      Stmt orphan(db_, "SELECT 1 FROM message_props WHERE key BETWEEN ? AND ? LIMIT 1");
      const KeyRange r = owner_keys(int64_t(id));
      orphan.bind(1, r.first).bind(2, r.last);
      if (orphan.step())
        throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "message " + std::to_string(id) + " has properties but no row: the mailbox is damaged");
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no message with id " + std::to_string(id));
    }
    std::optional<FolderId> folder = q.is_null(0) ? std::nullopt : std::optional<FolderId>(FolderId(q.int64(0)));
    Message m = read_message(id, large_values);
    if (folder) add_computed(m.props, id, *folder, q.int64(2));
    return m;
  }

  FolderId message_folder(MessageId id) override {
    Stmt q(db_, "SELECT folder_id FROM messages WHERE id = ? AND folder_id IS NOT NULL");
    q.bind(1, int64_t(id));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no message with id " + std::to_string(id));
    return FolderId(q.int64(0));
  }

  std::unique_ptr<PropertyStream> open_stream(MessageId id, PropTag tag) override {
    return open_value_stream(kMessageProps, int64_t(id), tag, "message " + std::to_string(id));
  }

  std::vector<IndexEntry> message_index(FolderId folder, const std::vector<PropTag>& marks) override {
    ReadSnapshot snapshot(db_);
    if (marks.size() > 32) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "at most 32 marks");
    require_folder(folder);
    std::string sql = "SELECT id, message_flags, change_number";
    for (size_t k = 0; k < marks.size(); ++k) sql += ", EXISTS(SELECT 1 FROM message_props WHERE key = (m.id << 32) | ?)";
    sql += " FROM messages m WHERE folder_id = ? AND associated = 0 AND soft_deleted = 0 ORDER BY id";
    Stmt q(db_, sql);
    int n = 1;
    for (PropTag t : marks) q.bind(n++, int64_t((t.type() == PropType::String8 ? t.with_type(PropType::String) : t).value));
    q.bind(n, int64_t(folder));
    std::vector<IndexEntry> out;
    while (q.step()) {
      IndexEntry e;
      e.id = MessageId(q.int64(0));
      e.message_flags = int32_t(q.int64(1));
      e.change_number = q.int64(2);
      for (size_t k = 0; k < marks.size(); ++k)
        if (q.int64(int(3 + k))) e.marks |= 1u << k;
      out.push_back(e);
    }
    return out;
  }

  std::vector<PropertyBag> message_rows(FolderId folder, const std::vector<MessageId>& ids, const std::vector<PropTag>& tags) override {
    ReadSnapshot snapshot(db_);  // one read transaction (one WAL lock) for all its statements
    std::vector<PropertyBag> out;
    out.reserve(ids.size());
    ContentsSource source(*this, folder, 0, false);
    constexpr size_t kChunk = 500;  // well under SQLite's limit of bound parameters
    for (size_t at = 0; at < ids.size(); at += kChunk) {
      const size_t n = std::min(kChunk, ids.size() - at);
      // By rowid only: with the folder in the WHERE clause SQLite walks the folder's index instead.
      std::string sql = "SELECT id, folder_id FROM messages WHERE id IN (";
      for (size_t i = 0; i < n; ++i) sql += i ? ",?" : "?";
      Stmt q(db_, sql + ")");
      for (size_t i = 0; i < n; ++i) q.bind(int(i + 1), int64_t(ids[at + i]));
      std::set<int64_t> here;
      while (q.step())
        if (!q.is_null(1) && FolderId(q.int64(1)) == folder) here.insert(q.int64(0));
      std::vector<int64_t> present;
      for (size_t i = 0; i < n; ++i)
        if (here.count(int64_t(ids[at + i]))) present.push_back(int64_t(ids[at + i]));
      std::vector<PropertyBag> rows = present.empty() ? std::vector<PropertyBag>() : source.fetch(present, tags);
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) {
        if (here.count(int64_t(ids[at + i])) && k < rows.size()) out.push_back(std::move(rows[k++]));
        else out.emplace_back();
      }
    }
    return out;
  }

  std::unique_ptr<PropertyStream> open_attachment_stream(MessageId id, uint32_t attach_num, PropTag tag) override {
    return open_value_stream(kAttachmentProps, attachment_row(id, attach_num), tag,
                             "attachment " + std::to_string(attach_num) + " of message " + std::to_string(id));
  }

  std::vector<std::pair<PropTag, uint64_t>> large_properties(MessageId id, std::optional<uint32_t> attach_num) override {
    const PropTableSpec& t = attach_num ? kAttachmentProps : kMessageProps;
    const int64_t owner = attach_num ? attachment_row(id, *attach_num) : int64_t(id);
    Stmt q(db_, std::string("SELECT p.tag, v.size FROM ") + t.table +
                    " p JOIN large_values v ON v.id = p.large_id WHERE p.key BETWEEN ? AND ? ORDER BY p.key");
    const KeyRange r = owner_keys(owner);
    q.bind(1, r.first).bind(2, r.last);
    std::vector<std::pair<PropTag, uint64_t>> out;
    while (q.step()) out.emplace_back(PropTag(uint32_t(q.int64(0))), uint64_t(q.int64(1)));
    return out;
  }

  // The attachments row of attachment `num` of message `id` (MAPI_E_NOT_FOUND if none).
  int64_t attachment_row(MessageId id, uint32_t num) {
    Stmt q(db_, "SELECT id FROM attachments WHERE message_id = ? AND attach_num = ?");
    q.bind(1, int64_t(id)).bind(2, int64_t(num));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "message " + std::to_string(id) + " has no attachment " + std::to_string(num));
    return q.int64(0);
  }

  std::unique_ptr<PropertyStream> open_value_stream(const PropTableSpec& spec, int64_t owner, PropTag tag, const std::string& what) {
    PropTag t = tag.type() == PropType::String8 ? tag.with_type(PropType::String) : tag;
    require_streamable(tag);
    Stmt q(db_, std::string("SELECT value, large_id FROM ") + spec.table + " WHERE key = ?");
    q.bind(1, prop_key(owner, t.value));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, what + " has no property " + tag.hex());
    if (q.is_null(1)) {
      PropValue v = column_value(q, 0, t);
      if (const auto* s = v.get_if<std::string>()) return std::make_unique<MemoryStream>(Bytes(s->begin(), s->end()));
      return std::make_unique<MemoryStream>(v.get<Bytes>());
    }
    int64_t lid = q.int64(1);
    Stmt s(db_, "SELECT size FROM large_values WHERE id = ?");
    s.bind(1, lid);
    if (!s.step()) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "large value " + std::to_string(lid) + " is missing");
    return std::make_unique<LargeStream>(db_, lid, uint64_t(s.int64(0)));
  }

  void delete_messages(const std::vector<MessageId>& ids, DeleteMode mode) override {
    Transaction tx(db_);
    FolderId deleted_items = specials_.at(SpecialFolder::DeletedItems);
    for (MessageId id : ids) {
      FolderId f = message_folder(id);
      Stmt q(db_, "SELECT message_size, message_flags FROM messages WHERE id = ?");
      q.bind(1, int64_t(id));
      q.step();
      const int32_t flags = int32_t(q.int64(1));
      switch (engine::delete_action(mode, f, deleted_items)) {
        case engine::DeleteAction::Remove:
          set_info_int("mailbox_size", get_info_int("mailbox_size") - q.int64(0));
          Stmt(db_, "DELETE FROM messages WHERE id = ?").bind(1, int64_t(id)).run();
          journal(next_cn(), ChangeKind::HardDeleted, false, id, f, {}, {}, flags);
          break;
        case engine::DeleteAction::Hide: {
          int64_t cn = next_cn();
          Stmt(db_, "UPDATE messages SET soft_deleted = 1, change_number = ? WHERE id = ?").bind(1, cn).bind(2, int64_t(id)).run();
          write_props(db_, kMessageProps, int64_t(id), {PropValue::time(tags::PidTagDeletedOn, now_filetime())});
          journal(cn, ChangeKind::SoftDeleted, false, id, f, {}, {}, flags);
          break;
        }
        case engine::DeleteAction::MoveToDeletedItems: move_in_tx(id, deleted_items); break;
      }
    }
    tx.commit();
  }

  void undelete_messages(const std::vector<MessageId>& ids) override {
    Transaction tx(db_);
    for (MessageId id : ids) {
      FolderId f = message_folder(id);
      int64_t cn = next_cn();
      Stmt(db_, "UPDATE messages SET soft_deleted = 0, change_number = ? WHERE id = ?").bind(1, cn).bind(2, int64_t(id)).run();
      delete_props(db_, kMessageProps, int64_t(id), {tags::PidTagDeletedOn});
      journal(cn, ChangeKind::Restored, false, id, f, {}, {}, message_flags(id));
    }
    tx.commit();
  }

  void set_read_flag(const std::vector<MessageId>& ids, bool read) override {
    Transaction tx(db_);
    for (MessageId id : ids) {
      Stmt q(db_, "SELECT message_flags, folder_id FROM messages WHERE id = ? AND folder_id IS NOT NULL");
      q.bind(1, int64_t(id));
      if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no message with id " + std::to_string(id));
      const int32_t old_flags = int32_t(q.int64(0));
      const int32_t flags = engine::read_flags(old_flags, read);
      if (flags == old_flags) continue;  // nothing changes, nothing is journaled
      // MS-OXCMSG 3.2.5.3: read-state changes do not alter the change number used for content
      // sync; the journal gives them a change number of their own (MS-OXCFXICS: CnsetRead).
      set_flags(id, flags);
      journal(next_cn(), ChangeKind::ReadStateChanged, false, id, FolderId(q.int64(1)), {}, {}, flags);
    }
    tx.commit();
  }

  std::vector<MessageId> move_messages(const std::vector<MessageId>& ids, FolderId to) override {
    require_folder(to);
    Transaction tx(db_);
    std::vector<MessageId> moved;
    for (MessageId id : ids) moved.push_back(move_in_tx(id, to));
    tx.commit();
    return moved;
  }

  // ---- batches: one outer transaction; each call's own Transaction nests in it as a savepoint.
  class SqliteBatch final : public Batch {
   public:
    explicit SqliteBatch(SqliteMailbox& mb) : mb_(mb) {
      tx_.emplace(mb_.db_);
      mb_.in_batch_ = true;
    }
    ~SqliteBatch() override {
      mb_.in_batch_ = false;
      if (!tx_) return;
      tx_.reset();  // rolls back
      try {
        mb_.reload_named();  // names mapped in the batch are gone with it
      } catch (const MapiError& e) {
        spdlog::warn("after rolling back a batch: {}", e.what());
      }
    }
    void commit() override {
      if (!tx_) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "the batch is already committed");
      tx_->commit();
      tx_.reset();
    }

   private:
    SqliteMailbox& mb_;
    std::optional<Transaction> tx_;
  };
  std::unique_ptr<Batch> begin_batch() override {
    if (in_batch_) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "a batch is already open on this mailbox");
    return std::make_unique<SqliteBatch>(*this);
  }

  std::vector<MessageId> copy_messages(const std::vector<MessageId>& ids, FolderId to) override {
    require_folder(to);
    std::vector<Message> copies;
    for (MessageId id : ids) copies.push_back(load_message(id, true));
    std::vector<MessageId> out;
    Transaction tx(db_);
    for (size_t i = 0; i < copies.size(); ++i) {
      Message& m = copies[i];
      // A copy is a new object: it gets its own ids and change history.
      m.props.erase(tags::PidTagChangeKey);
      m.props.erase(tags::PidTagPredecessorChangeList);
      out.push_back(save_impl(to, m, std::nullopt, {}, std::make_pair(ids[i], message_folder(ids[i]))));
    }
    tx.commit();
    return out;
  }

  // ---- the change journal ---------------------------------------------------
  std::vector<Change> changes_since(int64_t after, std::optional<FolderId> folder, size_t limit) override {
    std::string sql = "SELECT cn, time, kind, is_folder, object_id, folder_id, old_object_id, old_folder_id, flags FROM changes WHERE cn > ?1";
    if (folder)
      sql = "SELECT * FROM (" + sql + " AND folder_id = ?2 UNION " + sql + " AND old_folder_id = ?2)";
    sql += " ORDER BY cn LIMIT ?3";
    Stmt q(db_, sql);
    q.bind(1, after);
    if (folder) q.bind(2, int64_t(*folder));
    q.bind(3, int64_t(std::min<size_t>(limit, INT64_MAX)));
    std::vector<Change> out;
    while (q.step()) {
      Change c;
      c.change_number = q.int64(0);
      c.time = q.int64(1);
      c.kind = ChangeKind(q.int64(2));
      c.is_folder = q.int64(3) != 0;
      c.id = uint64_t(q.int64(4));
      c.parent = uint64_t(q.int64(5));
      if (!q.is_null(6)) c.old_id = uint64_t(q.int64(6));
      if (!q.is_null(7)) c.old_parent = uint64_t(q.int64(7));
      c.message_flags = int32_t(q.int64(8));
      out.push_back(c);
    }
    return out;
  }

  std::shared_ptr<ChangeFeed> change_feed() override {
    return ChangeFeed::get(feed_key_, [p = path_] { return open_sqlite_mailbox(p); });
  }

  int64_t last_change_number() override {
    Stmt q(db_, "SELECT COALESCE(MAX(cn), 0) FROM changes");
    q.step();
    return q.int64(0);
  }

  void set_journal_retention(std::chrono::seconds keep) override {
    if (keep.count() <= 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the journal retention must be positive");
    Transaction tx(db_);
    set_info_int("journal_retention", keep.count());
    tx.commit();
  }

  size_t prune_journal(std::chrono::seconds keep) override {
    const int64_t cutoff = now_filetime() - int64_t(keep.count()) * 10'000'000;
    Transaction tx(db_);
    size_t n = 0;
    for (;;) {  // in steps, each over the oldest rows, until a step finds none old enough
      size_t k = prune_oldest(cutoff, last_change_number(), 4096);
      n += k;
      if (k == 0) break;
    }
    tx.commit();
    return n;
  }

  // ---- tables --------------------------------------------------------------
  std::unique_ptr<Table> hierarchy_table(FolderId id, uint32_t flags) override {
    require_folder(id);
    return std::make_unique<ViewTable>(std::make_unique<HierarchySource>(*this, id, flags),
                                       std::vector<PropTag>{tags::PidTagDisplayName, tags::PidTagContentCount,
                                                            tags::PidTagContentUnreadCount, tags::PidTagSubfolders,
                                                            tags::PidTagContainerClass, tags::PidTagFolderId});
  }

  std::unique_ptr<Table> contents_table(FolderId id, uint32_t flags) override {
    Stmt t(db_, "SELECT folder_type FROM folders WHERE id = ?");
    t.bind(1, int64_t(id));
    if (!t.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder with id " + std::to_string(id));
    const bool search = t.int64(0) == int64_t(FolderType::Search);
    return std::make_unique<ViewTable>(std::make_unique<ContentsSource>(*this, id, flags, search),
                                       std::vector<PropTag>{tags::PidTagSubject, tags::PidTagSenderName,
                                                            tags::PidTagMessageDeliveryTime, tags::PidTagMessageSize,
                                                            tags::PidTagMid});
  }

  std::vector<std::string> check_integrity() override {
    std::vector<std::string> problems;
    Stmt q(db_, "PRAGMA integrity_check");
    while (q.step())
      if (q.text(0) != "ok") problems.push_back(q.text(0));
    Stmt fk(db_, "PRAGMA foreign_key_check");
    while (fk.step()) problems.push_back("foreign key violation in " + fk.text(0));
    return problems;
  }

  // ---- used by the table sources -------------------------------------------
  Db& db() { return db_; }

  // What a restriction or an in-memory sort needs of a message: the properties with the ids of
  // `tags` (large values read whole, so that a content restriction sees all of a long body), the
  // computed ones, and recipients and attachments only when `subobjects`.
  Message load_for_evaluation(MessageId id, const std::vector<PropTag>& tags, bool subobjects) {
    if (subobjects) return load_message(id, true);
    Stmt info(db_, "SELECT folder_id, change_number FROM messages WHERE id = ?");
    info.bind(1, int64_t(id));
    if (!info.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no message with id " + std::to_string(id));
    Message m;
    Stmt q(db_, "SELECT tag, value, large_id FROM message_props WHERE key BETWEEN ? AND ?");
    std::set<uint16_t> ids;
    for (PropTag t : tags) ids.insert(t.id());
    for (uint16_t pid : ids) {
      const KeyRange r = prop_id_keys(int64_t(id), pid);
      q.bind(1, r.first).bind(2, r.last);
      while (q.step()) {
        PropTag tag(uint32_t(q.int64(0)));
        m.props.set(q.is_null(2) ? column_value(q, 1, tag) : large_value(tag, q.int64(2)));
      }
      q.reset();
    }
    if (!info.is_null(0)) add_computed(m.props, id, FolderId(info.int64(0)), info.int64(1), &ids);
    return m;
  }

  PropValue large_value(PropTag tag, int64_t large_id) {
    Bytes data = read_large(db_, large_id);
    if (storage_index(tag.type()) == 7) return PropValue(tag, std::string(data.begin(), data.end()));
    return PropValue(tag, std::move(data));
  }

  PropertyBag message_columns(int64_t id, FolderId folder, int64_t change_number, const std::vector<PropTag>& columns,
                              std::map<uint32_t, PropValue>& stored) {
    PropertyBag b;
    for (auto& [tag, v] : stored) b.set(std::move(v));
    std::set<uint16_t> wanted;
    for (PropTag c : columns) wanted.insert(c.id());
    PropertyBag computed;
    add_computed(computed, MessageId(id), folder, change_number, &wanted);
    for (const auto& v : computed.values()) b.set(v);
    return b;
  }

  // The computed property `prop_id` of a message (nullopt: not a computed one); `flags` is its
  // PidTagMessageFlags when known.
  std::optional<PropValue> computed_value(uint16_t prop_id, MessageId id, FolderId folder, int64_t change_number,
                                          std::optional<int32_t> flags) {
    switch (prop_id) {
      case tags::PidTagMid.id(): return PropValue::i64(tags::PidTagMid, fid(id));
      case tags::PidTagFolderId.id(): return PropValue::i64(tags::PidTagFolderId, fid(folder));
      case tags::PidTagEntryId.id(): return PropValue::binary(tags::PidTagEntryId, message_entry_id(folder, id));
      case tags::PidTagRecordKey.id(): return PropValue::binary(tags::PidTagRecordKey, message_entry_id(folder, id));
      case tags::PidTagParentEntryId.id(): return PropValue::binary(tags::PidTagParentEntryId, folder_entry_id(folder));
      case tags::PidTagParentSourceKey.id():
        return PropValue::binary(tags::PidTagParentSourceKey, make_xid(replica_guid_, folder).serialize());
      case tags::PidTagChangeNumber.id():
        return PropValue::i64(tags::PidTagChangeNumber, int64_t(ObjectId{kLocalReplicaId, GlobalCounter(change_number)}.to_u64()));
      case tags::PidTagObjectType.id(): return PropValue::i32(tags::PidTagObjectType, 5);  // MAPI_MESSAGE
      case tags::PidTagStoreEntryId.id(): return PropValue::binary(tags::PidTagStoreEntryId, store_entry_id());
      case tags::PidTagHasAttachments.id():
        return PropValue::boolean(tags::PidTagHasAttachments, flags && (*flags & msgflag::HasAttach));
      default: return std::nullopt;
    }
  }

  void add_computed(PropertyBag& b, MessageId id, FolderId folder, int64_t change_number,
                    const std::set<uint16_t>* only = nullptr) {
    auto add = [&](uint16_t prop_id) {
      auto flags = b.get_i32(tags::PidTagMessageFlags);
      // With a column list, PidTagHasAttachments only when the flags are there to say it.
      if (prop_id == tags::PidTagHasAttachments.id() && only && !flags) return;
      if (auto v = computed_value(prop_id, id, folder, change_number, flags)) b.set(std::move(*v));
    };
    // Walk the (few) wanted ids rather than asking the set for every computed tag.
    if (only) {
      for (uint16_t p : *only) add(p);
      return;
    }
    for (PropTag t : {tags::PidTagMid, tags::PidTagFolderId, tags::PidTagEntryId, tags::PidTagRecordKey, tags::PidTagParentEntryId,
                      tags::PidTagParentSourceKey, tags::PidTagChangeNumber, tags::PidTagObjectType, tags::PidTagStoreEntryId,
                      tags::PidTagHasAttachments})
      add(t.id());
  }

 private:
  // -- info
  void set_info(const char* key, const Guid& g) {
    Stmt(db_, "INSERT OR REPLACE INTO store_info(key, value) VALUES(?, ?)").bind(1, std::string_view(key)).bind(2, ByteView(g.bytes)).run();
  }
  void set_info_int(const char* key, int64_t v) {
    Stmt(db_, "INSERT OR REPLACE INTO store_info(key, value) VALUES(?, ?)").bind(1, std::string_view(key)).bind(2, v).run();
  }
  void set_info_text(const char* key, const std::string& v) {
    Stmt(db_, "INSERT OR REPLACE INTO store_info(key, value) VALUES(?, ?)").bind(1, std::string_view(key)).bind(2, std::string_view(v)).run();
  }
  int64_t get_info_int(const char* key) {
    Stmt q(db_, "SELECT value FROM store_info WHERE key = ?");
    q.bind(1, std::string_view(key));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, std::string("mailbox has no '") + key + "' record");
    return q.int64(0);
  }
  std::string get_info_text(const char* key) {
    Stmt q(db_, "SELECT value FROM store_info WHERE key = ?");
    q.bind(1, std::string_view(key));
    return q.step() ? q.text(0) : std::string();
  }
  Guid get_info_guid(const char* key) {
    Stmt q(db_, "SELECT value FROM store_info WHERE key = ?");
    q.bind(1, std::string_view(key));
    if (!q.step() || q.blob_view(0).size() != 16)
      throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, std::string("mailbox has no valid '") + key + "' record");
    Guid g;
    auto b = q.blob_view(0);
    std::copy(b.begin(), b.end(), g.bytes.begin());
    return g;
  }
  void load_info() {
    mailbox_guid_ = get_info_guid("mailbox_guid");
    replica_guid_ = get_info_guid("replica_guid");
  }
  void reload_named() {
    named_ = NamedPropertyMap();
    Stmt n(db_, "SELECT id, guid, kind, lid, name FROM named_props");
    while (n.step()) {
      auto b = n.blob_view(1);
      if (b.size() != 16 || n.int64(0) < NamedPropertyMap::kFirstId || n.int64(0) > NamedPropertyMap::kLastId)
        throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "bad named property mapping " + std::to_string(n.int64(0)));
      Guid g;
      std::copy(b.begin(), b.end(), g.bytes.begin());
      named_.insert(uint16_t(n.int64(0)), n.int64(2) == int64_t(NameKind::Id) ? PropertyName::by_id(g, uint32_t(n.int64(3)))
                                                                               : PropertyName::by_name(g, n.text(4)));
    }
  }
  int64_t next_gc() {
    int64_t v = take_counter("next_gc");
    // The property keys (values.h) hold an owner id below 2^31; kMaxGlobalCounter is the MAPI limit.
    if (uint64_t(v) >= kMaxGlobalCounter || v > kMaxPropOwner)
      throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_RESOURCES, "object id space exhausted");
    return v;
  }
  int64_t next_cn() { return take_counter("next_cn"); }
  // The counter's value, leaving it one higher (one statement; inside the caller's transaction,
  // so a rollback gives the value back).
  int64_t take_counter(const char* key) {
    Stmt q(db_, "UPDATE store_info SET value = value + 1 WHERE key = ? RETURNING value - 1");
    q.bind(1, std::string_view(key));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, std::string("mailbox has no '") + key + "' record");
    const int64_t v = q.int64(0);
    q.run();
    return v;
  }

  // -- ids
  int64_t fid(uint64_t gc) const { return int64_t(ObjectId{kLocalReplicaId, gc}.to_u64()); }
  Bytes folder_entry_id(FolderId id) const {
    FolderEntryId e;
    e.provider_uid = mailbox_guid_;
    e.type = FolderEntryType::PrivateFolder;
    e.database = replica_guid_;
    e.gc = id;
    return e.serialize();
  }
  Bytes message_entry_id(FolderId folder, MessageId id) const {
    MessageEntryId e;
    e.provider_uid = mailbox_guid_;
    e.type = FolderEntryType::PrivateMessage;
    e.folder_database = replica_guid_;
    e.folder_gc = folder;
    e.message_database = replica_guid_;
    e.message_gc = id;
    return e.serialize();
  }
  Bytes store_entry_id() {
    StoreEntryId e;
    e.wrapped_provider_uid = Guid::from_string("20fa551b-66aa-cd11-9bc8-00aa002fc45a");
    e.wrapped_type = 0x0C;
    e.server_short_name = "localhost";
    std::string owner = get_info_text("email_address");
    e.mailbox_dn = "/o=OpenMAPI/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + owner.substr(0, owner.find('@'));
    return e.serialize();
  }

  // -- folders
  void check_folder_name(const std::string& name) {
    if (name.empty() || name.size() > 256 || !is_valid_utf8(name) || name.find('/') != std::string::npos)
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "invalid folder name '" + name + "' (1-256 UTF-8 bytes, no '/')");
  }
  void require_folder(FolderId id) {
    Stmt q(db_, "SELECT 1 FROM folders WHERE id = ?");
    q.bind(1, int64_t(id));
    if (!q.step()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no folder with id " + std::to_string(id));
  }
  bool is_special(FolderId id) {
    for (const auto& [f, fid] : specials_)
      if (fid == id) return true;
    return false;
  }
  FolderId insert_folder(std::optional<FolderId> parent, const std::string& name, FolderType type, std::optional<int> special) {
    FolderId id = FolderId(next_gc());
    int64_t cn = next_cn();
    Stmt ins(db_, "INSERT INTO folders(id, parent_id, special, folder_type, display_name, change_number) VALUES(?, ?, ?, ?, ?, ?)");
    ins.bind(1, int64_t(id));
    if (parent) ins.bind(2, int64_t(*parent)); else ins.bind_null(2);
    if (special) ins.bind(3, int64_t(*special)); else ins.bind_null(3);
    ins.bind(4, int64_t(type)).bind(5, std::string_view(name)).bind(6, cn);
    try {
      ins.run();
    } catch (const MapiError& e) {
      if (e.code() == ErrorCode::MAPI_E_COLLISION) throw_error(ErrorCode::MAPI_E_COLLISION, "a folder named '" + name + "' already exists there");
      throw;
    }
    journal(cn, ChangeKind::Created, true, id, parent.value_or(0));
    const int64_t now = now_filetime();
    auto [change_key, pcl] = engine::change_stamp(replica_guid_, cn, nullptr);
    write_props(db_, kFolderProps, int64_t(id),
                {change_key, pcl, PropValue::time(tags::PidTagCreationTime, now), PropValue::time(tags::PidTagLastModificationTime, now)});
    return id;
  }
  // A new change number for folder `id`: change key, PCL, modification time and a journal row
  // (`kind` Moved with the folder's previous parent).
  void bump_folder_change(FolderId id, ChangeKind kind = ChangeKind::Modified, std::optional<FolderId> old_parent = std::nullopt) {
    int64_t cn = next_cn();
    Stmt(db_, "UPDATE folders SET change_number = ? WHERE id = ?").bind(1, cn).bind(2, int64_t(id)).run();
    journal(cn, kind, true, id, parent_folder(id).value_or(0), old_parent ? std::optional<uint64_t>(id) : std::nullopt, old_parent);
    PropertyBag old = read_tags(kFolderProps, int64_t(id), {tags::PidTagPredecessorChangeList});
    auto [change_key, pcl] = engine::change_stamp(replica_guid_, cn, old.find(tags::PidTagPredecessorChangeList));
    write_props(db_, kFolderProps, int64_t(id), {change_key, pcl, PropValue::time(tags::PidTagLastModificationTime, now_filetime())});
  }
  void rename_in_tx(FolderId id, const std::string& name) {
    check_folder_name(name);
    if (is_special(id)) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "special folders cannot be renamed");
    try {
      Stmt(db_, "UPDATE folders SET display_name = ? WHERE id = ?").bind(1, std::string_view(name)).bind(2, int64_t(id)).run();
    } catch (const MapiError& e) {
      if (e.code() == ErrorCode::MAPI_E_COLLISION) throw_error(ErrorCode::MAPI_E_COLLISION, "a folder named '" + name + "' already exists there");
      throw;
    }
    bump_folder_change(id);
  }
  void delete_folder_in_tx(FolderId id, uint32_t flags) {
    Stmt c(db_, "SELECT COUNT(*) FROM folders WHERE parent_id = ?");
    c.bind(1, int64_t(id));
    c.step();
    if (c.int64(0) > 0 && !(flags & delfolder::DelFolders))
      throw_error(ErrorCode::MAPI_E_HAS_FOLDERS, "folder has subfolders (use the delete-folders flag)");
    Stmt m(db_, "SELECT COUNT(*), COALESCE(SUM(message_size), 0) FROM messages WHERE folder_id = ?");
    m.bind(1, int64_t(id));
    m.step();
    if (m.int64(0) > 0 && !(flags & delfolder::DelMessages))
      throw_error(ErrorCode::MAPI_E_HAS_MESSAGES, "folder has messages (use the delete-messages flag)");
    for (FolderId child : child_folders(id)) delete_folder_in_tx(child, flags);
    set_info_int("mailbox_size", get_info_int("mailbox_size") - m.int64(1));
    std::optional<FolderId> parent = parent_folder(id);
    Stmt(db_, "DELETE FROM messages WHERE folder_id = ?").bind(1, int64_t(id)).run();
    Stmt(db_, "DELETE FROM folders WHERE id = ?").bind(1, int64_t(id)).run();
    journal(next_cn(), ChangeKind::HardDeleted, true, id, parent.value_or(0));
  }

  // -- messages
  // Moves message `id` to `to` under a new id, as Exchange does (MS-OXCFXICS: a move is a new
  // message in the target and a deletion in the source): its rows are re-pointed, not copied.
  // Returns the new id.
  MessageId move_in_tx(MessageId old_id, FolderId to) {
    const FolderId from = message_folder(old_id);
    const MessageId id = MessageId(next_gc());
    const int64_t cn = next_cn();
    Stmt(db_,
         "INSERT INTO messages(id, folder_id, parent_attachment_id, associated, soft_deleted, change_number, message_size, "
         "message_flags, delivery_time, last_modified, subject, normalized_subject, sender_name, message_class, importance, recipients) "
         "SELECT ?, ?, NULL, associated, 0, ?, message_size, message_flags, delivery_time, last_modified, subject, "
         "normalized_subject, sender_name, message_class, importance, recipients FROM messages WHERE id = ?")
        .bind(1, int64_t(id)).bind(2, int64_t(to)).bind(3, cn).bind(4, int64_t(old_id)).run();
    {
      // The values are re-keyed in place (the new id is above every old one: no key collides).
      const KeyRange r = owner_keys(int64_t(old_id));
      Stmt(db_, "UPDATE message_props SET key = key + ? WHERE key BETWEEN ? AND ?")
          .bind(1, prop_key(int64_t(id), 0) - r.first).bind(2, r.first).bind(3, r.last).run();
    }
    Stmt(db_, "UPDATE attachments SET message_id = ? WHERE message_id = ?").bind(1, int64_t(id)).bind(2, int64_t(old_id)).run();
    Stmt(db_, "DELETE FROM messages WHERE id = ?").bind(1, int64_t(old_id)).run();
    delete_props(db_, kMessageProps, int64_t(id), {tags::PidTagDeletedOn});
    PropertyBag old = read_tags(kMessageProps, int64_t(id), {tags::PidTagPredecessorChangeList});
    auto [change_key, pcl] = engine::change_stamp(replica_guid_, cn, old.find(tags::PidTagPredecessorChangeList));
    write_props(db_, kMessageProps, int64_t(id),
                {change_key, pcl, PropValue::binary(tags::PidTagSourceKey, make_xid(replica_guid_, id).serialize())});
    journal(cn, ChangeKind::Moved, false, id, to, old_id, from, message_flags(id));
    return id;
  }

  int32_t message_flags(MessageId id) {
    Stmt q(db_, "SELECT message_flags FROM messages WHERE id = ?");
    q.bind(1, int64_t(id));
    return q.step() ? int32_t(q.int64(0)) : 0;
  }

  // Writes the journal row of change `cn`.
  void journal(int64_t cn, ChangeKind kind, bool is_folder, uint64_t id, uint64_t parent,
               std::optional<uint64_t> old_id = std::nullopt, std::optional<uint64_t> old_parent = std::nullopt,
               int32_t flags = 0) {
    Stmt ins(db_,
             "INSERT INTO changes(cn, time, kind, is_folder, object_id, folder_id, old_object_id, old_folder_id, flags) "
             "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, cn).bind(2, now_filetime()).bind(3, int64_t(kind)).bind(4, int64_t(is_folder)).bind(5, int64_t(id)).bind(6, int64_t(parent));
    if (old_id) ins.bind(7, int64_t(*old_id)); else ins.bind_null(7);
    if (old_parent) ins.bind(8, int64_t(*old_parent)); else ins.bind_null(8);
    ins.bind(9, int64_t(flags)).run();
    // Every 1024th change also drops the rows past the retention, inside the same transaction.
    if (cn % 1024 == 0) prune_oldest(now_filetime() - journal_retention().count() * 10'000'000, cn, 4096);
  }

  // Drops journal rows older than `cutoff` (FILETIME) among the oldest `limit` rows, never `keep`
  // or later; returns how many. Times rise with change numbers, so the oldest rows come first.
  size_t prune_oldest(int64_t cutoff, int64_t keep, int64_t limit) {
    Stmt(db_, "DELETE FROM changes WHERE cn IN (SELECT cn FROM changes WHERE cn < ? ORDER BY cn LIMIT ?) AND time < ?")
        .bind(1, keep).bind(2, limit).bind(3, cutoff).run();
    return size_t(db_.changes());
  }

  std::chrono::seconds journal_retention() {
    Stmt q(db_, "SELECT value FROM store_info WHERE key = 'journal_retention'");
    return std::chrono::seconds(q.step() ? q.int64(0) : int64_t(kDefaultJournalRetention.count()));
  }

  // Writes the messages row, its properties, recipients and attachments (recursively for
  // embedded messages). Returns the PidTagMessageSize of what was written: the sizes of all
  // stored values, streamed ones included, of the message and everything it holds.
  int64_t write_message_rows(MessageId id, std::optional<FolderId> folder, std::optional<int64_t> parent_attachment,
                             const Message& msg, bool associated, int64_t cn, const std::vector<PropValue>& extra,
                             const std::vector<StreamedValue>& streams) {
    std::vector<PropValue> values;
    for (const auto& v : msg.props.values())
      if (!is_computed_message_tag(v.tag()) && v.type() != PropType::Object && v.type() != PropType::ErrorCode)
        values.push_back(normalize(v));
    for (const auto& v : extra) values.push_back(v);
    int32_t flags = msg.props.get_i32(tags::PidTagMessageFlags).value_or(0);
    flags = msg.attachments.empty() ? (flags & ~msgflag::HasAttach) : (flags | msgflag::HasAttach);
    if (associated) flags |= msgflag::Associated;
    values.push_back(PropValue::i32(tags::PidTagMessageFlags, flags));
    PropertyBag bag;
    for (auto& v : values) bag.set(std::move(v));
    auto str = [&](PropTag t) -> std::optional<std::string> { return bag.get_string(t); };
    Stmt ins(db_,
             "INSERT INTO messages(id, folder_id, parent_attachment_id, associated, change_number, message_flags, "
             "delivery_time, last_modified, subject, normalized_subject, sender_name, message_class, importance, recipients) "
             "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, int64_t(id));
    if (folder) ins.bind(2, int64_t(*folder)); else ins.bind_null(2);
    if (parent_attachment) ins.bind(3, *parent_attachment); else ins.bind_null(3);
    ins.bind(4, int64_t(associated)).bind(5, cn).bind(6, int64_t(flags));
    auto bind_opt_i64 = [&](int i, std::optional<int64_t> v) { if (v) ins.bind(i, *v); else ins.bind_null(i); };
    auto bind_opt_str = [&](int i, std::optional<std::string> v) { if (v) ins.bind(i, std::string_view(*v)); else ins.bind_null(i); };
    bind_opt_i64(7, bag.get_i64(tags::PidTagMessageDeliveryTime));
    bind_opt_i64(8, bag.get_i64(tags::PidTagLastModificationTime));
    bind_opt_str(9, str(tags::PidTagSubject));
    bind_opt_str(10, str(tags::PidTagNormalizedSubject));
    bind_opt_str(11, str(tags::PidTagSenderName));
    bind_opt_str(12, str(tags::PidTagMessageClass));
    auto imp = bag.get_i32(tags::PidTagImportance);
    bind_opt_i64(13, imp ? std::optional<int64_t>(*imp) : std::nullopt);
    std::vector<PropertyBag> rows = msg.recipients;
    for (size_t i = 0; i < rows.size(); ++i) rows[i].set(PropValue::i32(tags::PidTagRowid, int32_t(i)));
    const RecipientsValue recipients = recipients_value(rows);
    if (rows.empty()) ins.bind_null(14); else ins.bind(14, ByteView(recipients.data));
    ins.run();
    write_props(db_, kMessageProps, int64_t(id), bag.values(), true);
    int64_t size = recipients.size;
    for (const auto& v : bag.values()) size += int64_t(v.size());
    for (const auto& s : streams) {
      PropTag t = s.tag.type() == PropType::String8 ? s.tag.with_type(PropType::String) : s.tag;
      uint64_t streamed_size = 0;
      int64_t lid = write_large_stream(db_, s.source, streamed_size);
      Stmt(db_, "INSERT OR REPLACE INTO message_props(key, value, large_id) VALUES(?, NULL, ?)")
          .bind(1, prop_key(int64_t(id), t.value)).bind(2, lid).run();
      size += int64_t(streamed_size);
    }
    Stmt ains(db_, "INSERT INTO attachments(message_id, attach_num) VALUES(?, ?)");
    for (size_t i = 0; i < msg.attachments.size(); ++i) {
      const Attachment& a = msg.attachments[i];
      ains.bind(1, int64_t(id)).bind(2, int64_t(i)).run();
      ains.reset();
      int64_t aid = db_.last_insert_rowid();
      std::vector<PropValue> av;
      for (const auto& v : a.props.values())
        if (v.tag().id() != tags::PidTagAttachNumber.id() && v.type() != PropType::Object) av.push_back(v);
      write_props(db_, kAttachmentProps, aid, av, true);
      for (const auto& v : av) size += int64_t(v.size());
      if (a.embedded) {
        MessageId eid = MessageId(next_gc());
        size += write_message_rows(eid, std::nullopt, aid, *a.embedded, false, cn, {}, {});
      }
    }
    return size;
  }

  // The messages.recipients value of `rows` (each with its PidTagRowid), and their share of the
  // message size (what recipient_rows_size(data) counts, without decoding it again).
  struct RecipientsValue {
    Bytes data;
    int64_t size = 0;
  };
  static RecipientsValue recipients_value(const std::vector<PropertyBag>& rows) {
    RecipientsValue r;
    if (rows.empty()) return r;
    r.data = encode_recipient_rows(rows);
    for (const PropertyBag& row : rows)
      for (const PropValue& v : row.values())
        if (v.tag().id() != tags::PidTagRowid.id() && v.type() != PropType::ErrorCode && v.type() != PropType::Object)
          r.size += int64_t(v.size());
    return r;
  }

  Message read_message(MessageId id, bool large_values) {
    Message m;
    m.props = read_props(db_, kMessageProps, int64_t(id), large_values);
    Stmt r(db_, "SELECT recipients FROM messages WHERE id = ? AND recipients IS NOT NULL");
    r.bind(1, int64_t(id));
    if (r.step()) m.recipients = decode_recipient_rows(r.blob_view(0));
    Stmt a(db_, "SELECT id, attach_num FROM attachments WHERE message_id = ? ORDER BY attach_num");
    a.bind(1, int64_t(id));
    while (a.step()) {
      Attachment att;
      att.props = read_props(db_, kAttachmentProps, a.int64(0), large_values);
      att.props.set(PropValue::i32(tags::PidTagAttachNumber, int32_t(a.int64(1))));
      Stmt e(db_, "SELECT id FROM messages WHERE parent_attachment_id = ?");
      e.bind(1, a.int64(0));
      if (e.step()) att.embedded = std::make_unique<Message>(read_message(MessageId(e.int64(0)), large_values));
      m.attachments.push_back(std::move(att));
    }
    return m;
  }

  std::string path_;
  std::string feed_key_;  // the canonical path: one change feed per file and process
  Db db_;
  Guid mailbox_guid_, replica_guid_;
  std::map<SpecialFolder, FolderId> specials_;
  NamedPropertyMap named_;
  bool in_batch_ = false;
};

// ---- contents tables ---------------------------------------------------------

std::string ContentsSource::from_where(const SqlFragment& filter, bool whole) const {
  // A filter that reads the messages rows (a subject substring, a class, a flag) reads every
  // row of the folder. Walked in a sort index's order those reads jump about the table; in
  // id order (messages_by_flags) they follow the rows as stored, 4-5 times faster on a large
  // folder (measured: docs/PERFORMANCE.md), and SQLite sorts what passes. SQLite's planner
  // prices both walks the same, so the statement names the index; not for filters on
  // delivery time, which messages_by_delivery narrows to a range.
  const bool id_order = whole && filter.sql != "1" && filter.sql.find("delivery_time") == std::string::npos;
  const std::string from = id_order ? " FROM messages m INDEXED BY messages_by_flags" : " FROM messages m";
  if (search_)
    return from + " WHERE m.folder_id IN (" + scope_sql_ + ") AND m.associated = ? AND m.soft_deleted = ? AND " + filter.sql;
  return from + " WHERE m.folder_id = ? AND m.associated = ? AND m.soft_deleted = ? AND " + filter.sql;
}

void ContentsSource::load_search() {
  search_ = false;
  criteria_.reset();
  scope_sql_.clear();
  if (!mb_.is_search_folder(folder_)) return;  // an ordinary folder (the common case: no exception)
  SearchCriteria c;
  try {
    c = mb_.search_criteria_of(folder_);
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_NOT_INITIALIZED) throw;
    search_ = true;  // a search folder without criteria: empty
    scope_sql_ = "NULL";
    return;
  }
  search_ = true;
  criteria_ = c.restriction;
  std::set<FolderId> scope;
  std::function<void(FolderId)> add = [&](FolderId f) {
    if (!scope.insert(f).second) return;
    if (c.state & searchflag::StateRecursive)
      for (FolderId child : mb_.child_folders(f)) add(child);
  };
  for (FolderId f : c.folders) {
    try {
      add(f);
    } catch (const MapiError& e) {
      if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;  // a scope folder deleted since
    }
  }
  for (FolderId f : scope) {
    if (!scope_sql_.empty()) scope_sql_ += ',';
    scope_sql_ += std::to_string(f);
  }
  if (scope_sql_.empty()) scope_sql_ = "NULL";
}

const Restriction* ContentsSource::with_criteria(const Restriction* r, Restriction& holder) const {
  if (!criteria_) return r;
  if (!r) return &*criteria_;
  holder = Restriction(Restriction::And{{*criteria_, *r}});
  return &holder;
}

int ContentsSource::bind(Stmt& q, const SqlFragment& filter) const {
  int p = 1;
  if (!search_) q.bind(p++, int64_t(folder_));  // a search folder's scope is in the SQL text
  q.bind(p++, int64_t((flags_ & tableflag::Associated) ? 1 : 0));
  q.bind(p++, int64_t((flags_ & tableflag::SoftDeletes) ? 1 : 0));
  for (const auto& v : filter.params) bind_value(q, p++, v);
  return p;
}

std::optional<std::vector<int64_t>> ContentsSource::page(const Restriction* r0, const SortOrderSet& s, size_t offset,
                                                         size_t limit) {
  Restriction holder;
  const Restriction* r = with_criteria(r0, holder);
  SqlFragment filter = r ? compile_restriction(*r) : SqlFragment{"1", {}, true};
  auto order = compile_sort(s);
  if (!filter.exact || !order) return std::nullopt;
  Stmt q(mb_.db(), "SELECT m.id" + from_where(filter) + " ORDER BY " + *order + " LIMIT ? OFFSET ?");
  int p = bind(q, filter);
  q.bind(p, int64_t(std::min<size_t>(limit, INT64_MAX)));
  q.bind(p + 1, int64_t(offset));
  std::vector<int64_t> ids;
  while (q.step()) ids.push_back(q.int64(0));
  return ids;
}

std::optional<size_t> ContentsSource::count(const Restriction* r0) {
  Restriction holder;
  const Restriction* r = with_criteria(r0, holder);
  SqlFragment filter = r ? compile_restriction(*r) : SqlFragment{"1", {}, true};
  if (!filter.exact) return std::nullopt;
  Stmt q(mb_.db(), "SELECT COUNT(*)" + from_where(filter, true));
  bind(q, filter);
  q.step();
  return size_t(q.int64(0));
}

std::vector<LeafRow> ContentsSource::leaf_rows(const Restriction* r0, const SortOrderSet& s) {
  Restriction holder;
  const Restriction* r = with_criteria(r0, holder);
  SqlFragment filter = r ? compile_restriction(*r) : SqlFragment{"1", {}, true};
  auto order = compile_sort(s);
  const bool in_sql_order = order.has_value();
  // Unread counts matter only for category headers; without categories the ids alone come
  // straight from the sort index.
  const bool want_flags = s.categories > 0;
  std::string select = want_flags ? "SELECT m.id, m.message_flags" : "SELECT m.id, 0";
  if (in_sql_order)
    for (size_t i = 0; i < s.categories; ++i) select += ", " + *message_column_sql(s.orders[i].tag);
  std::string sql = select + from_where(filter, true);
  if (in_sql_order) sql += " ORDER BY " + *order;
  Stmt q(mb_.db(), sql);
  bind(q, filter);
  std::vector<LeafRow> rows;
  while (q.step()) {
    LeafRow row;
    row.id = q.int64(0);
    row.unread = !(q.int64(1) & msgflag::Read);
    if (in_sql_order)
      for (size_t i = 0; i < s.categories; ++i) {
        PropTag t = s.orders[i].tag;
        if (t.type() == PropType::String8) t = t.with_type(PropType::String);
        row.category_keys.push_back(q.is_null(2 + int(i)) ? std::nullopt : std::optional<PropValue>(column_value(q, 2 + int(i), t)));
      }
    rows.push_back(std::move(row));
  }
  if (filter.exact && in_sql_order) return rows;
  // Exact evaluation and/or in-memory ordering over the SQL candidates, loading only what
  // the restriction and the sort read.
  std::vector<PropTag> needed{tags::PidTagMessageFlags};
  bool subobjects = false;
  if (r && !filter.exact) collect_restriction_tags(*r, needed, subobjects);
  for (const auto& o : s.orders) needed.push_back(o.tag);
  std::vector<std::unique_ptr<OwnedMessage>> loaded;
  std::vector<std::pair<int64_t, const PropertySource*>> candidates;
  for (const auto& row : rows) {
    auto m = std::make_unique<OwnedMessage>();
    m->m = mb_.load_for_evaluation(MessageId(row.id), needed, subobjects);
    candidates.emplace_back(row.id, m.get());
    loaded.push_back(std::move(m));
  }
  if (in_sql_order) {
    std::vector<LeafRow> kept;
    EvalState state;
    for (size_t i = 0; i < rows.size(); ++i)
      if (evaluate(*r, *candidates[i].second, state)) kept.push_back(std::move(rows[i]));
    return kept;
  }
  return order_rows(std::move(candidates), filter.exact ? nullptr : r, s, tags::PidTagMessageFlags);
}

namespace {
// Columns a table makes itself (MS-OXCTABL 2.2.1): never read from the message.
bool made_by_table(PropTag t) {
  switch (t.id()) {
    case 0x0FF5: case 0x3005: case 0x0FF6: case 0x674E: case 0x3602: case 0x3603: return true;
    default: return false;
  }
}
}  // namespace

namespace {
// The plan of a page read from the `messages` rows alone: the mirrored columns among `columns`,
// or nullopt when a column needs message_props (every other column is computed or made by the
// table).
std::optional<std::vector<std::pair<PropTag, const char*>>> fast_plan(const std::vector<PropTag>& columns) {
  std::vector<std::pair<PropTag, const char*>> mirrored;
  for (PropTag c : columns) {
    PropTag t = c.type() == PropType::String8 ? c.with_type(PropType::String) : c;
    if (const char* col = mirrored_column(t)) mirrored.emplace_back(t, col);
    else if (t.type() == PropType::Unspecified || !(made_by_table(t) || engine::is_computed_message_tag(t))) return std::nullopt;
  }
  return mirrored;
}

// "id, folder_id, change_number, message_flags, <mirrored columns>" of the plan, for `alias`.
std::string fast_select(const std::vector<std::pair<PropTag, const char*>>& plan, const char* alias) {
  std::string sql = std::string("SELECT ") + alias + "id, " + alias + "folder_id, " + alias + "change_number, " + alias + "message_flags";
  for (const auto& [t, col] : plan) sql += std::string(", ") + alias + col;
  return sql;
}

std::set<uint16_t> wanted_ids(const std::vector<PropTag>& columns) {
  std::set<uint16_t> wanted;
  for (PropTag c : columns) wanted.insert(c.id());
  return wanted;
}

}  // namespace

// The row `q` stands on (selected by fast_select): its stored and computed columns, or nullopt
// for a large text (tables cut those, on the general path).
std::optional<PropertyBag> ContentsSource::fast_row(Stmt& q, const std::vector<std::pair<PropTag, const char*>>& plan,
                                                    const std::set<uint16_t>& wanted) {
  PropertyBag b;
  b.set(PropValue::i32(tags::PidTagMessageFlags, int32_t(q.int64(3))));
  for (size_t i = 0; i < plan.size(); ++i) {
    const int c = int(4 + i);
    if (q.is_null(c)) continue;
    if (q.column_type(c) == SQLITE_TEXT && sqlite3_column_bytes(q.raw(), c) > int(kLargeValueThreshold)) return std::nullopt;
    b.set(column_value(q, c, plan[i].first));
  }
  mb_.add_computed(b, MessageId(q.int64(0)), FolderId(q.int64(1)), q.int64(2), &wanted);
  return b;
}

std::optional<std::vector<std::pair<int64_t, Row>>> ContentsSource::page_rows(const Restriction* r0, const SortOrderSet& s,
                                                                               size_t offset, size_t limit,
                                                                               const std::vector<PropTag>& columns) {
  auto plan = fast_plan(columns);
  if (!plan) return std::nullopt;
  Restriction holder;
  const Restriction* r = with_criteria(r0, holder);
  SqlFragment filter = r ? compile_restriction(*r) : SqlFragment{"1", {}, true};
  auto order = compile_sort(s);
  if (!filter.exact || !order) return std::nullopt;
  Stmt q(mb_.db(), fast_select(*plan, "m.") + from_where(filter) + " ORDER BY " + *order + " LIMIT ? OFFSET ?");
  int p = bind(q, filter);
  q.bind(p, int64_t(std::min<size_t>(limit, INT64_MAX)));
  q.bind(p + 1, int64_t(offset));
  // Where each column comes from: a selected column (its index in the statement), or computed.
  std::vector<int> from(columns.size(), -1);
  for (size_t c = 0; c < columns.size(); ++c) {
    PropTag t = columns[c].type() == PropType::String8 ? columns[c].with_type(PropType::String) : columns[c];
    if (t.id() == tags::PidTagMessageFlags.id()) from[c] = 3;
    for (size_t i = 0; i < plan->size(); ++i)
      if ((*plan)[i].first == t) from[c] = int(4 + i);
  }
  std::vector<std::pair<int64_t, Row>> out;
  while (q.step()) {
    const MessageId id(q.int64(0));
    const int32_t flags = int32_t(q.int64(3));
    Row row;
    row.reserve(columns.size());
    for (size_t c = 0; c < columns.size(); ++c) {
      std::optional<PropValue> v;
      if (from[c] == 3) {
        v = PropValue::i32(tags::PidTagMessageFlags, flags);
      } else if (from[c] >= 0) {
        const int k = from[c];
        if (q.column_type(k) == SQLITE_TEXT && sqlite3_column_bytes(q.raw(), k) > int(kLargeValueThreshold))
          return std::nullopt;  // a large text: tables cut it, on the general path
        if (!q.is_null(k)) v = column_value(q, k, (*plan)[size_t(k - 4)].first);
      } else {
        v = mb_.computed_value(columns[c].id(), id, FolderId(q.int64(1)), q.int64(2), flags);
      }
      row.push_back(table_cell(v ? &*v : nullptr, columns[c]));
    }
    out.emplace_back(int64_t(id), std::move(row));
  }
  return out;
}

std::vector<PropertyBag> ContentsSource::fetch(const std::vector<int64_t>& ids, const std::vector<PropTag>& columns) {
  Db& db = mb_.db();
  std::string idlist;
  for (int64_t id : ids) idlist += (idlist.empty() ? "" : ",") + std::to_string(id);
  // The common case: every column is mirrored in `messages`, computed, or made by the table;
  // one indexed read of the rows then gives the page.
  if (auto plan = fast_plan(columns)) {
    // Parameters, not literals: the statement is the same for every page of a size, and stays
    // in the connection's statement cache.
    std::string sql = fast_select(*plan, "") + " FROM messages WHERE id IN (";
    for (size_t i = 0; i < ids.size(); ++i) sql += i ? ",?" : "?";
    Stmt q(db, sql + ")");
    for (size_t i = 0; i < ids.size(); ++i) q.bind(int(i + 1), ids[i]);
    const std::set<uint16_t> wanted = wanted_ids(columns);
    std::map<int64_t, PropertyBag> rows;
    bool fast = true;
    while (fast && q.step()) {
      auto b = fast_row(q, *plan, wanted);
      if (b) rows[q.int64(0)] = std::move(*b);
      else fast = false;
    }
    if (fast) {
      std::vector<PropertyBag> out;
      out.reserve(ids.size());
      for (int64_t id : ids) out.push_back(rows.count(id) ? std::move(rows[id]) : PropertyBag());
      return out;
    }
  }
  std::vector<uint32_t> stored_tags;
  for (PropTag c : columns) stored_tags.push_back((c.type() == PropType::String8 ? c.with_type(PropType::String) : c).value);
  std::map<int64_t, std::map<uint32_t, PropValue>> stored;
  std::map<int64_t, std::pair<FolderId, int64_t>> info;
  {
    Stmt q(db, "SELECT id, folder_id, change_number FROM messages WHERE id IN (" + idlist + ")");
    while (q.step()) info[q.int64(0)] = {FolderId(q.int64(1)), q.int64(2)};
  }
  {
    // One look-up of the key per cell (a rowid search each).
    Stmt q(db, "SELECT value, large_id FROM message_props WHERE key = ?");
    for (int64_t id : ids) {
      if (!info.count(id)) continue;
      for (uint32_t t : stored_tags) {
        q.bind(1, prop_key(id, t));
        if (q.step()) {
          const PropTag tag(t);
          stored[id].emplace(t, q.is_null(1) ? column_value(q, 0, tag) : large_value_for_table(db, tag, q.int64(1)));
        }
        q.reset();
      }
    }
  }
  std::vector<PropertyBag> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    auto it = info.find(id);
    if (it == info.end()) {  // deleted since the view was built
      out.emplace_back();
      continue;
    }
    out.push_back(mb_.message_columns(id, it->second.first, it->second.second, columns, stored[id]));
  }
  return out;
}

std::unique_ptr<PropertySource> ContentsSource::row_source(int64_t id) {
  auto m = std::make_unique<OwnedMessage>();
  m->m = mb_.load_message(MessageId(id), true);
  return m;
}

// ---- hierarchy tables --------------------------------------------------------

void HierarchySource::load() {
  if (loaded_) return;
  std::function<void(FolderId, int)> visit = [&](FolderId f, int depth) {
    for (FolderId c : mb_.child_folders(f)) {
      PropertyBag b = mb_.folder_properties(c);
      b.set(PropValue::i32(tags::PidTagDepth, depth));
      rows_[int64_t(c)] = std::move(b);
      depth_first_.push_back(int64_t(c));
      if (flags_ & tableflag::Depth) visit(c, depth + 1);
    }
  };
  visit(folder_, 0);
  loaded_ = true;
}

std::optional<int64_t> ContentsSource::version() {
  if (search_) return mb_.last_change_number();  // any folder of the scope may change
  Stmt q(mb_.db(),
         "SELECT MAX(COALESCE((SELECT MAX(cn) FROM changes WHERE folder_id = ?1), 0), "
         "COALESCE((SELECT MAX(cn) FROM changes WHERE old_folder_id = ?1), 0))");
  q.bind(1, int64_t(folder_));
  q.step();
  return q.int64(0);
}

std::optional<std::vector<int64_t>> ContentsSource::modified_since(int64_t since) {
  if (search_) {
    Stmt q(mb_.db(), "SELECT object_id FROM changes WHERE cn > ? AND is_folder = 0 AND kind IN (?, ?)");
    q.bind(1, since).bind(2, int64_t(ChangeKind::Modified)).bind(3, int64_t(ChangeKind::ReadStateChanged));
    std::vector<int64_t> out;
    while (q.step()) out.push_back(q.int64(0));
    return out;
  }
  Stmt q(mb_.db(), "SELECT object_id FROM changes WHERE folder_id = ? AND cn > ? AND is_folder = 0 AND kind IN (?, ?)");
  q.bind(1, int64_t(folder_)).bind(2, since).bind(3, int64_t(ChangeKind::Modified)).bind(4, int64_t(ChangeKind::ReadStateChanged));
  std::vector<int64_t> out;
  while (q.step()) out.push_back(q.int64(0));
  return out;
}

std::optional<int64_t> HierarchySource::version() { return mb_.last_change_number(); }

std::vector<LeafRow> HierarchySource::leaf_rows(const Restriction* r, const SortOrderSet& s) {
  loaded_ = false;
  rows_.clear();
  depth_first_.clear();
  load();
  if (s.orders.empty()) {  // unsorted: tree order, each folder followed by its subfolders
    std::vector<LeafRow> out;
    EvalState state;
    for (int64_t id : depth_first_) {
      OwnedBag src;
      src.b = rows_.at(id);
      if (!r || evaluate(*r, src, state)) out.push_back({id, {}, false});
    }
    return out;
  }
  std::vector<std::pair<int64_t, const PropertySource*>> rows;
  std::vector<std::unique_ptr<OwnedBag>> holders;
  for (auto& [id, bag] : rows_) {
    auto h = std::make_unique<OwnedBag>();
    h->b = bag;
    rows.emplace_back(id, h.get());
    holders.push_back(std::move(h));
  }
  return order_rows(std::move(rows), r, s);
}

std::vector<PropertyBag> HierarchySource::fetch(const std::vector<int64_t>& ids, const std::vector<PropTag>&) {
  load();
  std::vector<PropertyBag> out;
  for (int64_t id : ids) {
    auto it = rows_.find(id);
    out.push_back(it == rows_.end() ? PropertyBag() : it->second);
  }
  return out;
}

std::unique_ptr<PropertySource> HierarchySource::row_source(int64_t id) {
  load();
  auto h = std::make_unique<OwnedBag>();
  if (auto it = rows_.find(id); it != rows_.end()) h->b = it->second;
  return h;
}

}  // namespace
}  // namespace sqlite

std::unique_ptr<Mailbox> create_sqlite_mailbox(const std::string& path, const MailboxOptions& options) {
  if (std::filesystem::exists(path)) throw_error(ErrorCode::MAPI_E_COLLISION, "mailbox database '" + path + "' already exists");
  try {
    auto mb = std::make_unique<sqlite::SqliteMailbox>(path, true);
    mb->initialize(options);
    return mb;
  } catch (...) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
    throw;
  }
}

std::unique_ptr<Mailbox> open_sqlite_mailbox(const std::string& path) {
  if (!std::filesystem::exists(path)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no mailbox database at '" + path + "'");
  auto mb = std::make_unique<sqlite::SqliteMailbox>(path, false);
  try {
    mb->validate();
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_CALL_FAILED)
      throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "'" + path + "' is not a usable mailbox: " + e.what());
    throw;
  }
  return mb;
}

}  // namespace openmapi::store
