// The Extended MAPI object model: the provider interface that every door speaks (DESIGN.md:
// "The object model is the provider interface"). A Logon is one user on one store; through it
// come the store object, folders, messages, attachments, streams and tables: IMsgStore,
// IMAPIFolder, IMessage, IAttach, IStream and IMAPITable, over any store::Mailbox backend
// (SQLite, a read-only PST file; PostgreSQL and remote stores later).
//
// Ownership and lifetime: Logon::open returns the Logon as a shared_ptr; every object opened
// through it shares the Logon's state (objects are shared_ptrs too), so the session lasts while
// any of them does. Once Logon::logoff() has run, every call on an object opened through it
// fails with MAPI_E_END_OF_SESSION: no Folder, Message, Attach or Stream outlives its Logon in
// use (a Table holds only the mailbox and goes on reading it). An Attach and a Stream keep the
// object they were opened on alive; changes go up one level at a time (a Stream's
// commit to its object, an Attach's save_changes to its Message, an embedded Message's to its
// Attach) and reach the store only with the top-level Message's save_changes.
//
// Errors: every call throws MapiError. MAPI_E_NO_ACCESS when the Logon's user lacks the right or
// the object was opened read-only (every write on a read-only provider), MAPI_E_NOT_FOUND for
// missing objects, MAPI_E_OBJECT_CHANGED when a save meets a newer version, MAPI_E_INVALID_PARAMETER
// for arguments that cannot be right, MAPI_E_END_OF_SESSION after logoff.
//
// Thread safety: a Logon and everything opened through it is used by one thread at a time (the
// protocol layer gives each session its own Logon); notifications arrive on the feed's thread.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/namedprop.h"
#include "core/propbag.h"
#include "store/notify.h"
#include "store/store.h"
#include "store/table.h"

namespace openmapi::store {

// ---- flags (values of MAPI's headers and MS-OXC* wire fields)
namespace save_flags {  // MS-OXCMSG 2.2.3.3.1 RopSaveChangesMessage SaveFlags / IMAPIProp::SaveChanges
inline constexpr uint32_t KeepOpenReadOnly = 0x01;
inline constexpr uint32_t KeepOpenReadWrite = 0x02;
inline constexpr uint32_t ForceSave = 0x04;
}  // namespace save_flags
namespace open_flags {  // IMAPIProp::OpenProperty / RopOpenStream OpenModeFlags (MS-OXCPRPT 2.2.14.1)
inline constexpr uint32_t ReadOnly = 0x00;
inline constexpr uint32_t ReadWrite = 0x01;  // MAPI_MODIFY
inline constexpr uint32_t Create = 0x02;     // MAPI_CREATE: start empty
}  // namespace open_flags
namespace copy_flags {  // IMAPIProp::CopyTo / CopyProps
inline constexpr uint32_t Move = 0x01;       // MAPI_MOVE: delete from the source after copying
inline constexpr uint32_t NoReplace = 0x02;  // MAPI_NOREPLACE: keep values the target has
}  // namespace copy_flags
namespace modrecip {  // IMessage::ModifyRecipients (MS-OXCMSG 2.2.3.5 RopModifyRecipients RowId)
inline constexpr uint32_t Add = 0x02;
inline constexpr uint32_t Modify = 0x04;
inline constexpr uint32_t Remove = 0x08;
// With Add: a row that carries a PidTagRowid keeps it (RopModifyRecipients names rows by the
// client's RowId); MAPI_E_COLLISION if a row has it already.
inline constexpr uint32_t KeepRowIds = 0x80000000;
}  // namespace modrecip
namespace readflag {  // MS-OXCMSG 2.2.3.10 RopSetMessageReadFlag ReadFlags
inline constexpr uint32_t Default = 0x00;
inline constexpr uint32_t SuppressReceipt = 0x01;
inline constexpr uint32_t ClearReadFlag = 0x04;
inline constexpr uint32_t GenerateReceiptOnly = 0x10;
inline constexpr uint32_t ClearRnPending = 0x20;
inline constexpr uint32_t ClearNrnPending = 0x40;
}  // namespace readflag
namespace msgstatus {  // IMAPIFolder::SetMessageStatus (PidTagMessageStatus bits, MS-OXCMSG 2.2.1.8)
inline constexpr uint32_t Highlighted = 0x0001;
inline constexpr uint32_t Tagged = 0x0002;
inline constexpr uint32_t Hidden = 0x0004;
inline constexpr uint32_t DelMarked = 0x0008;
inline constexpr uint32_t Draft = 0x0100;
inline constexpr uint32_t Answered = 0x0200;
}  // namespace msgstatus
namespace folder_flags {  // IMAPIFolder::CreateFolder / RopCreateFolder
inline constexpr uint32_t OpenIfExists = 0x01;
}

// MAPI object types (PidTagObjectType).
enum class ObjectType : int32_t { Store = 1, Folder = 3, Message = 5, Attachment = 7 };

// One entry of an SPropProblemArray: the index of the value or tag in the call, its tag, why.
struct PropProblem {
  uint32_t index = 0;
  PropTag tag;
  ErrorCode error = ErrorCode::MAPI_E_CALL_FAILED;
  friend bool operator==(const PropProblem&, const PropProblem&) = default;
};
using PropProblems = std::vector<PropProblem>;

// What GetProps returns: one value per requested tag, in order; a property the object lacks is
// a PtypErrorCode value (MAPI_E_NOT_FOUND, or MAPI_E_NOT_ENOUGH_MEMORY for a value too large to
// return: read it through open_property), and `status` is then MAPI_W_ERRORS_RETURNED.
struct PropsResult {
  ErrorCode status = ErrorCode::Success;
  std::vector<PropValue> values;
};

// Values larger than this come back from get_props as MAPI_E_NOT_ENOUGH_MEMORY (read them as
// streams), as Exchange and the PST provider do for long bodies and attachment data.
inline constexpr uint64_t kGetPropsLimit = 1u << 20;

class Logon;
struct LogonState;
class Stream;

// IMAPIProp: the property interface every object has.
class MapiProp : public std::enable_shared_from_this<MapiProp> {
 public:
  virtual ~MapiProp() = default;
  virtual ObjectType object_type() const = 0;

  // GetProps. An empty `tags` asks for every property (GetProps with a null tag array). A
  // PtypUnspecified tag asks for the stored type; PtypString8 and PtypString are one.
  PropsResult get_props(const std::vector<PropTag>& tags);
  // One property, or nullopt if the object has none with that id (and a fitting type).
  std::optional<PropValue> get_prop(PropTag tag);
  // GetPropList: every property the object has (large ones included), in id order.
  virtual std::vector<PropTag> get_prop_list() = 0;
  // SetProps / DeleteProps: the values that can be set are set, the others come back one by one
  // (MAPI_E_COMPUTED for computed and read-only properties, MAPI_E_INVALID_TYPE for PtypError,
  // PtypObject and PtypUnspecified values). MAPI_E_NO_ACCESS for the whole call when the object
  // is read-only. A missing property in delete_props is no problem.
  virtual PropProblems set_props(const std::vector<PropValue>& values) = 0;
  virtual PropProblems delete_props(const std::vector<PropTag>& tags) = 0;
  // SaveChanges: transacted objects (Message, Attach) make their changes permanent; the store and
  // folders change at once and need none (a no-op).
  virtual void save_changes(uint32_t flags = save_flags::KeepOpenReadWrite) {}
  // OpenProperty as IStream (PtypBinary, PtypString, PtypString8): open_flags. Streams see and
  // change the object's pending value; MAPI_E_NOT_FOUND for a missing property unless Create.
  virtual std::unique_ptr<Stream> open_property(PropTag tag, uint32_t flags = open_flags::ReadOnly);
  // GetIDsFromNames (MAPI_CREATE when `create`): a name not mapped (and not created) comes back as
  // a PtypErrorCode tag with id 0. GetNamesFromIDs: nullopt for ids below 0x8000 or unmapped.
  std::vector<PropTag> get_ids_from_names(const std::vector<PropertyName>& names, bool create);
  std::vector<std::optional<PropertyName>> get_names_from_ids(const std::vector<PropTag>& tags);
  // CopyTo: every property except `excluded` onto `dest` (another object, maybe of another
  // store: named properties travel by name). CopyProps: only `tags`. copy_flags::NoReplace keeps
  // what `dest` has; copy_flags::Move deletes the copied properties from this object. Computed
  // properties are not copied. Returns `dest`'s problems. Neither saves: call save_changes.
  PropProblems copy_to(MapiProp& dest, const std::vector<PropTag>& excluded = {}, uint32_t flags = 0);
  PropProblems copy_props(MapiProp& dest, const std::vector<PropTag>& tags, uint32_t flags = 0);

 protected:
  explicit MapiProp(std::shared_ptr<LogonState> logon) : logon_(std::move(logon)) {}
  // Every value the object has without reading large ones whole, with computed properties.
  virtual PropertyBag current() = 0;
  // The large values current() leaves out: tag and size; read one whole with read_large.
  virtual std::vector<std::pair<PropTag, uint64_t>> large_values() { return {}; }
  virtual PropValue read_large(PropTag tag);
  // Opens the committed (or pending) value `tag` for reading, for streams.
  virtual std::unique_ptr<PropertyStream> open_value(PropTag tag);
  // Takes a stream's committed content as this object's pending value (transacted objects).
  virtual void stream_committed(PropTag tag, std::shared_ptr<class SpillBuffer> content);
  // Throws MAPI_E_END_OF_SESSION after logoff.
  LogonState& logon() const;
  std::shared_ptr<LogonState> logon_;
  friend class Stream;
};

// IStream over one property. Reads see the value as it stood when the stream was opened (or last
// committed); writes go to a private copy (kept in memory up to 1 MiB, then in an unlinked
// temporary file: a 200 MB value goes in and out with flat memory) until commit hands it to the
// object (a transacted one keeps it pending until its own save_changes). Revert drops the writes
// since the last commit. Closing a written stream without commit drops the writes too.
// Errors: MAPI_E_NO_ACCESS for writes on a read-only stream; MAPI_E_INVALID_PARAMETER for a seek
// before the start; MAPI_E_TOO_BIG past kMaxStreamSize.
class Stream {
 public:
  static constexpr uint64_t kMaxStreamSize = uint64_t(4) << 30;
  enum class Origin { Set = 0, Current = 1, End = 2 };  // STREAM_SEEK_*
  ~Stream();
  size_t read(uint8_t* out, size_t n);
  size_t write(const uint8_t* data, size_t n);
  // Returns the new position.
  uint64_t seek(int64_t offset, Origin origin);
  void set_size(uint64_t size);
  uint64_t size();  // Stat's cbSize
  PropTag tag() const { return tag_; }
  void commit();
  void revert();
  // Convenience: the rest of the stream from the position / replace the whole content.
  Bytes read_all();
  // IStream::Clone (RopCloneStream): a second stream on the same bytes with its own seek
  // pointer, starting where this one is. A writable stream shares its private copy with the
  // clone, so each sees the other's writes; either commits them (then both go on writing into
  // what was committed, until the next commit).
  std::unique_ptr<Stream> clone();

 private:
  friend class MapiProp;
  Stream(std::shared_ptr<MapiProp> owner, PropTag tag, uint32_t flags);
  Stream(const Stream& from, bool);  // clone()'s
  void ensure_copy();
  uint64_t current_size();
  std::shared_ptr<MapiProp> owner_;  // the object the stream was opened on, kept alive
  PropTag tag_;
  bool writable_;
  uint64_t pos_ = 0;
  // Reading the committed value: a sequential reader and where it stands.
  std::unique_ptr<PropertyStream> reader_;
  uint64_t reader_pos_ = 0;
  uint64_t committed_size_ = 0;
  std::shared_ptr<SpillBuffer> copy_;  // the private copy, once written
};

class Folder;
class Message;
class Attach;

// Who a Logon acts for. The store's owner has every right; anyone else has none until ACLs and
// delegates plug into LogonState::require (the one place rights are checked).
struct LogonIdentity {
  std::string user;            // an SMTP address; compared with the store owner's, ignoring case
  uint32_t code_page = 65001;  // for PtypString8 at the edges
  uint32_t locale = 1033;      // LCID
  bool system = false;         // the server itself (delivery, the spooler, the CLI's admin commands)
  static LogonIdentity system_user() { return {"SYSTEM", 65001, 1033, true}; }
};

// The rights LogonState::require checks (MS-OXCPERM PidTagMemberRights bits).
namespace rights {
inline constexpr uint32_t ReadAny = 0x0001;
inline constexpr uint32_t Create = 0x0002;
inline constexpr uint32_t EditOwned = 0x0008;
inline constexpr uint32_t DeleteOwned = 0x0010;
inline constexpr uint32_t EditAny = 0x0020;
inline constexpr uint32_t DeleteAny = 0x0040;
inline constexpr uint32_t CreateSubfolder = 0x0080;
inline constexpr uint32_t FolderOwner = 0x0100;
inline constexpr uint32_t All = 0x01FB;
}  // namespace rights

// IMsgStore, with the Logon it is opened under. Not transacted.
class Logon : public MapiProp {
 public:
  // Logs `who` on to `mailbox`. MAPI_E_LOGON_FAILED when the user may not open it at all.
  static std::shared_ptr<Logon> open(std::shared_ptr<Mailbox> mailbox, LogonIdentity who);
  ~Logon() override;
  ObjectType object_type() const override { return ObjectType::Store; }
  const LogonIdentity& identity() const;
  // Every later call on this Logon or its objects: MAPI_E_END_OF_SESSION.
  void logoff();

  std::vector<PropTag> get_prop_list() override;
  PropProblems set_props(const std::vector<PropValue>& values) override;
  PropProblems delete_props(const std::vector<PropTag>& tags) override;

  // OpenEntry: a folder or message entry ID of this store (MAPI_E_INVALID_ENTRYID for one of
  // another store or a malformed one, MAPI_E_NOT_FOUND for a deleted object).
  struct Entry {
    std::shared_ptr<Folder> folder;
    std::shared_ptr<Message> message;
  };
  Entry open_entry(const Bytes& entry_id, bool write = false);
  // CompareEntryIDs: true when both name the same object (long-term and short forms alike).
  bool compare_entry_ids(const Bytes& a, const Bytes& b);
  std::shared_ptr<Folder> open_folder(FolderId id);
  std::shared_ptr<Folder> open_special(SpecialFolder f);
  // Opens a message read-only or for writing (MAPI_E_NO_ACCESS when the user may not change it).
  std::shared_ptr<Message> open_message(MessageId id, bool write = false);

  // GetReceiveFolder: the folder for `message_class` (the longest registered prefix; "" is the
  // default: the Inbox), and the class it was registered for. SetReceiveFolder registers one;
  // an empty `folder` removes the registration. GetReceiveFolderTable: every registration.
  std::pair<FolderId, std::string> get_receive_folder(const std::string& message_class);
  void set_receive_folder(const std::string& message_class, std::optional<FolderId> folder);
  std::vector<std::pair<std::string, FolderId>> receive_folder_table();
  // The outgoing queue (the spooler's view): message ids, oldest submission first.
  std::vector<MessageId> outgoing_queue();

  // Advise on the store (scope store), a folder or a message; see store/notify.h. The returned
  // connection belongs to this Logon: logoff ends it.
  uint32_t advise(uint32_t event_mask, AdviseScope scope, NotificationSink sink);
  void unadvise(uint32_t connection);

  Mailbox& mailbox();

 protected:
  PropertyBag current() override;

 private:
  explicit Logon(std::shared_ptr<LogonState> s);
};

// IMAPIFolder. Not transacted: every call takes effect at once.
class Folder : public MapiProp {
 public:
  ObjectType object_type() const override { return ObjectType::Folder; }
  FolderId id() const { return id_; }

  std::vector<PropTag> get_prop_list() override;
  PropProblems set_props(const std::vector<PropValue>& values) override;
  PropProblems delete_props(const std::vector<PropTag>& tags) override;

  // GetHierarchyTable / GetContentsTable (tableflag::Associated, SoftDeletes, Depth).
  std::unique_ptr<Table> hierarchy_table(uint32_t flags = 0);
  std::unique_ptr<Table> contents_table(uint32_t flags = 0);

  // CreateMessage: a new message (FAI when `associated`), open for writing, not stored until its
  // save_changes.
  std::shared_ptr<Message> create_message(bool associated = false);
  // CopyMessages (with copy_flags::Move: MoveMessages) into `dest`; returns the new ids.
  std::vector<MessageId> copy_messages(const std::vector<MessageId>& ids, Folder& dest, uint32_t flags = 0);
  // DeleteMessages: soft (to Deleted Items, or hidden there) or hard.
  void delete_messages(const std::vector<MessageId>& ids, bool hard = false);
  // CreateFolder: MAPI_E_COLLISION for an existing name unless folder_flags::OpenIfExists.
  std::shared_ptr<Folder> create_folder(const std::string& name, const std::string& container_class = "",
                                        FolderType type = FolderType::Generic, uint32_t flags = 0);
  // CopyFolder (with copy_flags::Move: MoveFolder) of subfolder `id` into `dest` as `new_name`
  // (empty: its own name); `recursive` copies its subfolders too. Returns the new folder's id.
  FolderId copy_folder(FolderId id, Folder& dest, const std::string& new_name = "", bool recursive = true, uint32_t flags = 0);
  // DeleteFolder of subfolder `id` (delfolder flags).
  void delete_folder(FolderId id, uint32_t flags);
  // EmptyFolder: every message (normal; FAI too with `associated`) and subfolder, hard.
  void empty_folder(bool associated = false);
  // SetReadFlags (readflag flags) on `ids` (empty: every message of the folder).
  void set_read_flags(const std::vector<MessageId>& ids, uint32_t flags = readflag::Default);
  // SetSearchCriteria / GetSearchCriteria (search folders only: MAPI_E_NO_SUPPORT otherwise;
  // see Mailbox::set_search_criteria). The contents table of a search folder shows the matching
  // messages of the searched folders, live; fnevSearchComplete follows each set.
  void set_search_criteria(const std::optional<Restriction>& restriction, const std::vector<FolderId>& folders,
                           uint32_t flags = 0);
  SearchCriteria get_search_criteria();
  // GetMessageStatus / SetMessageStatus: PidTagMessageStatus bits; set returns the old status.
  uint32_t get_message_status(MessageId id);
  uint32_t set_message_status(MessageId id, uint32_t status, uint32_t mask);

 protected:
  PropertyBag current() override;

 private:
  friend class Logon;
  Folder(std::shared_ptr<LogonState> s, FolderId id) : MapiProp(std::move(s)), id_(id) {}
  FolderId id_;
};

// IMessage, transacted (MS-OXCMSG): changes stay in the object, invisible to everyone else, until
// save_changes writes only what changed (one changed property of a message with a 10 MB
// attachment writes that property). Two objects open on one message: the second save meets the
// first's change key and fails with MAPI_E_OBJECT_CHANGED, unless save_flags::ForceSave.
class Message : public MapiProp {
 public:
  ~Message() override;
  ObjectType object_type() const override { return ObjectType::Message; }
  // The message id once stored (nullopt for a new message before its first save, and for
  // embedded messages).
  std::optional<MessageId> id() const;
  FolderId folder() const;
  bool writable() const;

  std::vector<PropTag> get_prop_list() override;
  PropProblems set_props(const std::vector<PropValue>& values) override;
  PropProblems delete_props(const std::vector<PropTag>& tags) override;
  // flags: save_flags. The object stays open read/write (as Exchange does without a flag, and
  // with KeepOpenReadWrite or ForceSave); with KeepOpenReadOnly, later changes are MAPI_E_NO_ACCESS.
  void save_changes(uint32_t flags = save_flags::KeepOpenReadWrite) override;

  // The recipient rows (each with PidTagRowid) and ModifyRecipients: modrecip::Add appends rows
  // (new row ids), Modify replaces the rows with the given PidTagRowid, Remove drops them; 0
  // replaces the whole table. MAPI_E_NOT_FOUND for a row id that is not there.
  std::vector<PropertyBag> recipients();
  void modify_recipients(uint32_t flags, const std::vector<PropertyBag>& rows);
  std::unique_ptr<Table> recipient_table();
  // The attachment rows (each with PidTagAttachNumber) and the attachment table.
  std::vector<PropertyBag> attachments();
  std::unique_ptr<Table> attachment_table();
  std::shared_ptr<Attach> create_attach();
  std::shared_ptr<Attach> open_attach(uint32_t attach_num);
  void delete_attach(uint32_t attach_num);
  // SetReadFlag (readflag flags): at once for a stored message, pending for a new one.
  void set_read_flag(uint32_t flags = readflag::Default);
  // SubmitMessage: saves pending changes and puts the message into the store's outgoing queue
  // (MSGFLAG_SUBMITTED; see Mailbox::submit_message for the errors). The spooler that sends
  // queued messages comes with mail flow. AbortSubmit takes it out again.
  void submit();
  void abort_submit();

  // The whole message with its pending changes (large values read whole): for converters.
  openmapi::Message snapshot();

 protected:
  PropertyBag current() override;
  std::vector<std::pair<PropTag, uint64_t>> large_values() override;
  PropValue read_large(PropTag tag) override;
  std::unique_ptr<PropertyStream> open_value(PropTag tag) override;
  void stream_committed(PropTag tag, std::shared_ptr<SpillBuffer> content) override;

 private:
  friend class Logon;
  friend class Folder;
  friend class Attach;
  struct State;
  Message(std::shared_ptr<LogonState> s, std::shared_ptr<State> st);
  void load();
  std::shared_ptr<State> st_;
};

// IAttach, transacted: its save_changes hands its changes to its Message (which stores them with
// its own save_changes). PidTagAttachDataObject opens the embedded message (open_embedded).
class Attach : public MapiProp {
 public:
  ~Attach() override;
  ObjectType object_type() const override { return ObjectType::Attachment; }
  uint32_t number() const;

  std::vector<PropTag> get_prop_list() override;
  PropProblems set_props(const std::vector<PropValue>& values) override;
  PropProblems delete_props(const std::vector<PropTag>& tags) override;
  void save_changes(uint32_t flags = save_flags::KeepOpenReadWrite) override;
  // OpenProperty(PidTagAttachDataObject): the embedded message; `create` makes a new one (and
  // sets PidTagAttachMethod to afEmbeddedMessage). MAPI_E_NOT_FOUND when there is none.
  std::shared_ptr<Message> open_embedded(bool create = false);

 protected:
  PropertyBag current() override;
  std::vector<std::pair<PropTag, uint64_t>> large_values() override;
  PropValue read_large(PropTag tag) override;
  std::unique_ptr<PropertyStream> open_value(PropTag tag) override;
  void stream_committed(PropTag tag, std::shared_ptr<SpillBuffer> content) override;

 private:
  friend class Message;
  struct State;
  Attach(std::shared_ptr<LogonState> s, std::shared_ptr<State> st);
  std::shared_ptr<State> st_;
};

}  // namespace openmapi::store
