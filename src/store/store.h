// The mailbox engine: one driver-agnostic interface (a mailbox with folders, messages and
// tables); backends register behind it (sqlite/ now, postgres/ later). Protocol and CLI code
// only ever talk to this interface.
//
// Errors: every method throws MapiError. MAPI_E_NOT_FOUND for an unknown folder or message,
// MAPI_E_INVALID_PARAMETER for arguments that cannot be right, MAPI_E_STORE_FULL when a save
// would exceed the quota, MAPI_E_CORRUPT_STORE for a damaged or foreign database.
// Thread safety: one Mailbox object is used by one thread at a time; several processes may
// open the same mailbox (SQLite WAL serialises writers).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/namedprop.h"
#include "core/propbag.h"
#include "core/restriction.h"
#include "core/sortorder.h"
#include "store/table.h"

namespace openmapi::store {

class ChangeFeed;  // store/notify.h

// Internal object ids are the 48-bit global counters of FIDs/MIDs (MS-OXCDATA 2.2.1.1);
// PidTagFolderId/PidTagMid expose them with replica id 1.
using FolderId = uint64_t;
using MessageId = uint64_t;
inline constexpr uint16_t kLocalReplicaId = 1;

// The folders every mailbox has (MS-OXOSFLD 2.2.1/2.2.2), in creation order.
enum class SpecialFolder : int {
  Root = 1, DeferredAction, SpoolerQueue, IpmSubtree, Inbox, Outbox, SentItems, DeletedItems,
  CommonViews, Schedule, Finder, Views, Shortcuts, Drafts, Calendar, Contacts, Tasks, Notes,
  Journal, JunkEmail, SyncIssues, Conflicts, LocalFailures, ServerFailures, QuickContacts,
  ImContactList, ConversationActionSettings,
};
const char* special_folder_name(SpecialFolder f);

// MS-OXCFOLD 2.2.1.2 folder types.
enum class FolderType : int32_t { Root = 0, Generic = 1, Search = 2 };

struct MailboxOptions {
  std::string display_name;     // PidTagMailboxOwnerName / PidTagDisplayName of the store
  std::string email_address;    // SMTP address of the owner
  int64_t quota_bytes = 0;      // 0: no quota
};

// How a message is deleted (MS-OXCFOLD 3.1.4.11 RopDeleteMessages / Outlook behaviour):
// Soft moves it to Deleted Items (or, already there, hides it as soft-deleted, recoverable);
// Hard removes it and everything it owns.
enum class DeleteMode { Soft, Hard };

// MS-OXCFOLD 2.2.1.3 RopDeleteFolder flags.
namespace delfolder {
inline constexpr uint32_t DelMessages = 0x01;
inline constexpr uint32_t DelFolders = 0x04;
inline constexpr uint32_t HardDelete = 0x10;
}  // namespace delfolder

// What a contents table shows (MS-OXCFOLD 2.2.1.14 RopGetContentsTable TableFlags).
namespace tableflag {
inline constexpr uint32_t Associated = 0x02;
inline constexpr uint32_t Depth = 0x04;        // hierarchy tables: all descendants
inline constexpr uint32_t SoftDeletes = 0x20;
}  // namespace tableflag

// Reads a large property value chunk by chunk, without holding it whole.
class PropertyStream {
 public:
  virtual ~PropertyStream() = default;
  virtual uint64_t size() const = 0;
  // Reads up to `n` bytes into `out`; returns how many (0 at the end). Strings are UTF-8.
  virtual size_t read(uint8_t* out, size_t n) = 0;
};

// A source of bytes for a large value written with save_message: returns bytes read, 0 at the end.
using StreamSource = std::function<size_t(uint8_t* buf, size_t n)>;
struct StreamedValue {
  PropTag tag;   // PtypBinary or PtypString (UTF-8 bytes)
  StreamSource source;
};

// ---- the change journal -------------------------------------------------------
// Every change to a folder or message takes a change number and leaves one journal row, in
// change-number order (which is commit order: writers are serialised). Live tables,
// notifications, and later IMAP UIDs/MODSEQ and ICS all read this one journal.
enum class ChangeKind : uint8_t {
  Created = 1,           // a new object (for folders too)
  Modified = 2,          // its properties, recipients or attachments changed
  ReadStateChanged = 3,  // only PidTagMessageFlags' read bit: journaled apart (MS-OXCFXICS read state)
  Moved = 4,             // messages: a new id in `parent`, gone from `old_parent` as `old_id`; folders keep their id
  Copied = 5,            // a new object `id` in `parent`, copied from `old_id` in `old_parent`
  SoftDeleted = 6,       // hidden as soft-deleted in its folder (recoverable)
  HardDeleted = 7,       // gone for good (a tombstone)
  Restored = 8,          // a soft-deleted message back in view
  SearchComplete = 9,    // a search folder's criteria were set (its contents follow the store from then on)
};
const char* change_kind_name(ChangeKind k);

inline constexpr std::chrono::seconds kDefaultJournalRetention{30 * 24 * 3600};

struct Change {
  int64_t change_number = 0;  // the 48-bit global counter of the change (journal order)
  int64_t time = 0;           // FILETIME of the change
  ChangeKind kind = ChangeKind::Modified;
  bool is_folder = false;
  uint64_t id = 0;                      // the message or folder (after the change)
  uint64_t parent = 0;                  // the folder holding it (for folders: the parent folder; 0 for the root)
  std::optional<uint64_t> old_id;       // moves and copies: the source object
  std::optional<uint64_t> old_parent;   // moves and copies: the source folder
  int32_t message_flags = 0;            // messages: PidTagMessageFlags after the change (MSGFLAG_ASSOCIATED marks FAI)
};

// ---- search folders (MS-OXCFOLD 2.2.1.4 RopSetSearchCriteria, 2.2.1.5 RopGetSearchCriteria)
namespace searchflag {
// SetSearchCriteria flags.
inline constexpr uint32_t Stop = 0x00000001;
inline constexpr uint32_t Restart = 0x00000002;
inline constexpr uint32_t Recursive = 0x00000004;
inline constexpr uint32_t Shallow = 0x00000008;
// GetSearchCriteria state.
inline constexpr uint32_t Running = 0x00000001;
inline constexpr uint32_t Complete = 0x00001000;
inline constexpr uint32_t StateRecursive = 0x00000004;
}  // namespace searchflag
struct SearchCriteria {
  std::optional<Restriction> restriction;
  std::vector<FolderId> folders;  // the folders searched (with their subfolders when recursive)
  uint32_t state = 0;             // searchflag::Running | Complete | StateRecursive
};

// ---- partial writes (the transacted Message object saves through these) ----------------
// Changes to one property bag: values to set, tags to remove, large values to stream in.
struct PropChanges {
  std::vector<PropValue> set;
  std::vector<PropTag> removed;
  std::vector<StreamedValue> streams;
  bool empty() const { return set.empty() && removed.empty() && streams.empty(); }
};
// One attachment's changes: a new one (`created`), a removed one, or changed properties; an
// embedded message is replaced whole.
struct AttachmentChange {
  uint32_t attach_num = 0;
  bool created = false;
  bool deleted = false;
  PropChanges props;
  std::optional<Message> embedded;
};
struct MessageChanges {
  PropChanges props;
  std::optional<std::vector<PropertyBag>> recipients;  // the whole new recipient table, if it changed
  std::vector<AttachmentChange> attachments;
  // The PidTagChangeKey the writer started from: a stored message with another one fails the
  // write with MAPI_E_OBJECT_CHANGED (nullopt: overwrite, FORCE_SAVE).
  std::optional<Bytes> expected_change_key;
};

class Mailbox {
 public:
  virtual ~Mailbox() = default;

  // ---- the store object
  // The store's own properties: PidTagDisplayName, PidTagMailboxOwnerName, PidTagRecordKey,
  // PidTagStoreRecordKey, PidTagStoreEntryId, PidTagIpm*EntryId of the special folders,
  // PidTagMessageSizeExtended (mailbox size), quota properties.
  virtual PropertyBag store_properties() = 0;
  virtual Guid mailbox_guid() = 0;
  virtual Guid replica_guid() = 0;
  virtual int64_t mailbox_size() = 0;
  // The owner's SMTP address (empty for stores without one, such as a PST file: whoever opens
  // the file owns it).
  virtual std::string owner_address() { return {}; }
  virtual void set_quota(int64_t bytes) = 0;

  // ---- named properties (per store, ids 0x8000 and up)
  virtual uint16_t named_property_id(const PropertyName& name, bool create) = 0;
  virtual std::optional<PropertyName> named_property_name(uint16_t id) = 0;

  // ---- folders
  virtual FolderId special_folder(SpecialFolder f) = 0;
  // Resolves "Inbox/Projects" below the IPM subtree (or "/" for the root; names compare case-insensitively).
  virtual FolderId folder_by_path(const std::string& path) = 0;
  virtual FolderId create_folder(FolderId parent, const std::string& name, const std::string& container_class,
                                 FolderType type = FolderType::Generic) = 0;
  // Properties incl. computed ones (PidTagContentCount, PidTagContentUnreadCount, PidTagSubfolders,
  // PidTagFolderChildCount, PidTagFolderId, PidTagParentFolderId, PidTagEntryId, PidTagParentEntryId,
  // PidTagChangeNumber, PidTagMessageSizeExtended).
  virtual PropertyBag folder_properties(FolderId id) = 0;
  virtual void set_folder_properties(FolderId id, const PropertyBag& props) = 0;
  // Removes folder properties (computed ones and the display name: MAPI_E_COMPUTED).
  virtual void delete_folder_properties(FolderId id, const std::vector<PropTag>& tags) {
    throw_error(ErrorCode::MAPI_E_NO_ACCESS, "this store is read-only");
  }
  virtual void rename_folder(FolderId id, const std::string& new_name) = 0;
  virtual void move_folder(FolderId id, FolderId new_parent) = 0;
  // Special folders cannot be deleted (MAPI_E_NO_ACCESS); a folder with content needs the flags
  // (MAPI_E_HAS_MESSAGES / MAPI_E_HAS_FOLDERS).
  virtual void delete_folder(FolderId id, uint32_t flags) = 0;
  virtual std::vector<FolderId> child_folders(FolderId id) = 0;
  virtual std::optional<FolderId> parent_folder(FolderId id) = 0;
  // Whole-folder operations a provider may do in one step of its own (a server: one ROP, atomic
  // on its side). The object model asks these first; nullopt / false means "not offered", and it
  // then does them through the calls above inside one batch. copy: folder `id` (with its
  // subfolders when `recursive`) as a new child of `dest` named `new_name` (empty: the same
  // name), giving the copy's id; empty: every message (and the associated ones when `associated`)
  // and every subfolder of `id`, hard deleted.
  virtual std::optional<FolderId> copy_folder_whole(FolderId id, FolderId dest, const std::string& new_name, bool recursive) {
    return std::nullopt;
  }
  virtual bool empty_folder_whole(FolderId id, bool associated) { return false; }

  // ---- messages
  // Saves `msg` as a new message in `folder` (or replaces message `existing`), in one transaction:
  // either all of it is stored or nothing. Assigns PidTagMid, PidTagChangeNumber, PidTagChangeKey,
  // PidTagPredecessorChangeList, PidTagMessageSize, PidTagLastModificationTime, PidTagCreationTime.
  virtual MessageId save_message(FolderId folder, const Message& msg, std::optional<MessageId> existing = {},
                                 const std::vector<StreamedValue>& streams = {}) = 0;
  // The whole message (recipients, attachments, embedded messages) with computed properties.
  // With `large_values` false, values stored as streams are left out (read them with open_stream).
  virtual Message load_message(MessageId id, bool large_values = true) = 0;
  virtual FolderId message_folder(MessageId id) = 0;
  // The values of `tags` of the messages `ids` of `folder` as its contents table shows them
  // (computed properties included), in the order of `ids`; a message that is not there gives an
  // empty bag. Reads those rows only (a table restricted to a list of ids visits every row of
  // the folder): what a door that keeps its own list of a folder's messages (IMAP) needs.
  virtual std::vector<PropertyBag> message_rows(FolderId folder, const std::vector<MessageId>& ids, const std::vector<PropTag>& tags);
  // The messages of `folder` (not FAI, not soft-deleted) in id order, each with its
  // PidTagMessageFlags, its change number (the 48-bit counter) and which of `marks` (at most 32
  // properties) it has, as bits in mark order: a door's list of a folder (IMAP's SELECT) in one
  // indexed pass. MAPI_E_INVALID_PARAMETER for more than 32 marks.
  struct IndexEntry {
    MessageId id = 0;
    int32_t message_flags = 0;
    int64_t change_number = 0;
    uint32_t marks = 0;
  };
  virtual std::vector<IndexEntry> message_index(FolderId folder, const std::vector<PropTag>& marks);
  virtual std::unique_ptr<PropertyStream> open_stream(MessageId id, PropTag tag) = 0;
  virtual void delete_messages(const std::vector<MessageId>& ids, DeleteMode mode) = 0;
  // Restores soft-deleted messages of Deleted Items into view.
  virtual void undelete_messages(const std::vector<MessageId>& ids) = 0;
  virtual void set_read_flag(const std::vector<MessageId>& ids, bool read) = 0;
  // Moves messages to `to`; each gets a new id there (MS-OXCFXICS: as Exchange does). Returns the new ids.
  virtual std::vector<MessageId> move_messages(const std::vector<MessageId>& ids, FolderId to) = 0;
  virtual std::vector<MessageId> copy_messages(const std::vector<MessageId>& ids, FolderId to) = 0;

  // Writes `changes` to message `existing` (or, without it, a new message in `folder`, FAI when
  // `associated`) in one transaction, touching only what changed: a new change number, change
  // key, PCL, modification time, size and a journal row. MAPI_E_OBJECT_CHANGED (see
  // expected_change_key), MAPI_E_STORE_FULL past the quota, MAPI_E_NO_ACCESS on read-only stores.
  virtual MessageId write_message(FolderId folder, std::optional<MessageId> existing, bool associated,
                                  const MessageChanges& changes) {
    throw_error(ErrorCode::MAPI_E_NO_ACCESS, "this store is read-only");
  }
  // The values of a message (or of its attachment `attach_num`) that load_message(id, false)
  // leaves out, with their sizes.
  virtual std::vector<std::pair<PropTag, uint64_t>> large_properties(MessageId id, std::optional<uint32_t> attach_num) { return {}; }
  // Reads a value of attachment `attach_num` of message `id` as a stream.
  virtual std::unique_ptr<PropertyStream> open_attachment_stream(MessageId id, uint32_t attach_num, PropTag tag) {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "this store does not stream attachment values");
  }

  // ---- search folders
  // Sets the criteria of search folder `id` (FolderType::Search): its contents table then shows
  // every message of `folders` (recursively with searchflag::Recursive) that satisfies
  // `restriction`, and follows the store as messages change. searchflag::Stop freezes nothing
  // here (searches are evaluated when read) but is remembered in the state. A restriction or
  // folder list left empty keeps the previous one. MAPI_E_NO_SUPPORT for a folder that is not a
  // search folder; MAPI_E_NOT_FOUND for missing scope folders.
  virtual void set_search_criteria(FolderId id, const std::optional<Restriction>& restriction,
                                   const std::vector<FolderId>& folders, uint32_t flags) {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "this store has no search folders");
  }
  // MAPI_E_NOT_INITIALIZED before criteria were set.
  virtual SearchCriteria get_search_criteria(FolderId id) {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "this store has no search folders");
  }

  // ---- entry IDs
  // What an entry ID of this store names: a folder (true) or a message, and its id.
  // MAPI_E_INVALID_ENTRYID for a malformed one or one of another store. The default reads the
  // MS-OXCDATA 2.2.4 folder (46 bytes) and message (70 bytes) forms of this mailbox's GUID.
  virtual std::pair<bool, uint64_t> resolve_entry_id(const Bytes& entry_id);

  // ---- the outgoing queue (for the spooler; MS-OXOMSG 3.2.4.1 submitting a message)
  // Puts a message into the queue and sets MSGFLAG_SUBMITTED. MAPI_E_NO_RECIPIENTS without
  // recipients, MAPI_E_SUBMITTED when queued already. A queued message cannot be changed
  // (write_message: MAPI_E_SUBMITTED) until abort_submit takes it out (MAPI_E_NOT_IN_QUEUE when
  // it is not there) or the spooler has sent it.
  virtual void submit_message(MessageId id) { throw_error(ErrorCode::MAPI_E_NO_ACCESS, "this store is read-only"); }
  virtual void abort_submit(MessageId id) { throw_error(ErrorCode::MAPI_E_NO_ACCESS, "this store is read-only"); }
  // The queue, oldest first: message and FILETIME of its submission.
  virtual std::vector<std::pair<MessageId, int64_t>> outgoing_queue() { return {}; }
  // The spooler's record of a queued message, kept with the queue entry so that it survives a
  // restart: how often it was tried, when to try next, which recipients are finished (delivered
  // or reported as failed: never sent to again), and why the last try did not finish.
  struct QueueState {
    uint32_t attempts = 0;
    int64_t next_attempt = 0;           // FILETIME; 0: at once
    std::vector<std::string> finished;  // SMTP addresses, as the spooler wrote them
    std::string last_error;
  };
  struct QueueEntry {
    MessageId id = 0;
    int64_t submitted = 0;  // FILETIME of SubmitMessage
    QueueState state;
  };
  // The queue with each entry's state, oldest first.
  virtual std::vector<QueueEntry> queue_entries();
  // Replaces the state of queued message `id` (durable when it returns). MAPI_E_NOT_IN_QUEUE when
  // it is not queued.
  virtual void set_queue_state(MessageId id, const QueueState& state) {
    throw_error(ErrorCode::MAPI_E_NO_ACCESS, "this store is read-only");
  }
  // The spooler has sent message `id` (MS-OXOMSG 3.3.4.x): in one transaction it leaves the
  // queue, `stamp` is set on it (the sender, the Message-ID, the submit time the spooler used),
  // MSGFLAG_SUBMITTED and MSGFLAG_UNSENT are cleared and MSGFLAG_READ set, and it moves to Sent
  // Items — or is deleted when PidTagDeleteAfterSubmit is true. Returns its id in Sent Items (0
  // when deleted). MAPI_E_NOT_IN_QUEUE when it is not queued (aborted meanwhile).
  virtual MessageId finish_submit(MessageId id, const std::vector<PropValue>& stamp) {
    throw_error(ErrorCode::MAPI_E_NO_ACCESS, "this store is read-only");
  }

  // ---- receive folders (MS-OXCSTOR RopGetReceiveFolder / RopSetReceiveFolder)
  // Every registration: message class (lower case; "" is the default) -> folder. The default
  // is the Inbox until set otherwise.
  virtual std::vector<std::pair<std::string, FolderId>> receive_folders() { return {{"", special_folder(SpecialFolder::Inbox)}}; }
  // Registers `folder` for `message_class`, or removes the registration (nullopt; the default
  // registration cannot be removed: MAPI_E_NO_ACCESS).
  virtual void set_receive_folder(const std::string& message_class, std::optional<FolderId> folder) {
    throw_error(ErrorCode::MAPI_E_NO_ACCESS, "this store is read-only");
  }

  // ---- batches (bulk import)
  // Opens a batch: until it commits, the calls made through this Mailbox stay each all-or-nothing
  // (a failed call changes nothing) but none is durable, and other connections do not see them;
  // commit() makes them durable together, with one flush instead of one per call. A batch that
  // goes without commit() is rolled back whole, and so is one cut short by a crash: the mailbox
  // is then as it was before the batch. One batch at a time per Mailbox (MAPI_E_CALL_FAILED).
  class Batch {
   public:
    virtual ~Batch() = default;
    virtual void commit() = 0;
  };
  virtual std::unique_ptr<Batch> begin_batch() = 0;

  // ---- the change journal
  // The journal rows after change number `after` in order, at most `limit`; with `folder`, only
  // those whose object is or was in that folder (`parent` or `old_parent`). Rows older than the
  // retention are pruned (prune_journal), so a reader that fell behind that far must resync.
  // Providers without a journal (read-only files) return nothing.
  virtual std::vector<Change> changes_since(int64_t after, std::optional<FolderId> folder = std::nullopt,
                                            size_t limit = 10000) { return {}; }
  // The newest change number in the journal (0 when empty).
  virtual int64_t last_change_number() { return 0; }
  // How long journal rows are kept (kDefaultJournalRetention unless set); older ones are dropped
  // as changes are made. MAPI_E_INVALID_PARAMETER for zero or less.
  virtual void set_journal_retention(std::chrono::seconds keep) { throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "this store keeps no journal"); }
  // The process-wide notification feed of this mailbox (store/notify.h); nullptr for providers
  // whose content never changes (read-only files).
  virtual std::shared_ptr<ChangeFeed> change_feed() { return nullptr; }
  // Removes journal rows older than `keep` (never the newest row); returns how many.
  virtual size_t prune_journal(std::chrono::seconds keep) { return 0; }

  // ---- tables (MS-OXCTABL)
  virtual std::unique_ptr<Table> hierarchy_table(FolderId id, uint32_t flags = 0) = 0;
  virtual std::unique_ptr<Table> contents_table(FolderId id, uint32_t flags = 0) = 0;

  // ---- maintenance
  // Runs SQLite's integrity check; returns the problems found (empty: healthy).
  virtual std::vector<std::string> check_integrity() = 0;
};

// Creates a new mailbox database at `path` (MAPI_E_COLLISION if it exists).
std::unique_ptr<Mailbox> create_sqlite_mailbox(const std::string& path, const MailboxOptions& options);
// Opens an existing mailbox (MAPI_E_NOT_FOUND if missing; MAPI_E_CORRUPT_STORE if not an
// OpenMAPI mailbox or damaged; MAPI_E_VERSION for a newer schema).
std::unique_ptr<Mailbox> open_sqlite_mailbox(const std::string& path);

}  // namespace openmapi::store
