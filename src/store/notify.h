// Notifications (MS-OXCNOTIF): the change journal of a mailbox, delivered to subscribers as it
// grows. One ChangeFeed per mailbox file and process reads the journal on a thread of its own,
// through a connection of its own: a commit made in this process wakes it at once, a commit made
// by another process (the CLI importing while a server runs) is seen at the next poll (every
// kPollInterval). Nothing is lost and nothing comes twice: the feed walks the journal by change
// number, so subscribers see every change after they advised, in commit order.
//
// Thread safety: every ChangeFeed method may be called from any thread. Sinks are called on the
// feed's thread, one notification at a time, in change-number order; a sink must not block for
// long (it delays every other subscriber of the mailbox). A sink may call unadvise, its own too.
// Lifetime: a feed lives while someone holds it (Advise handles hold it); the process-wide
// registry only keeps weak references.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/store.h"

namespace openmapi::store {

// MS-OXCNOTIF 2.2.1.1.1 NotificationType / MAPI's fnev* event mask bits.
namespace fnev {
inline constexpr uint32_t CriticalError = 0x0001;
inline constexpr uint32_t NewMail = 0x0002;
inline constexpr uint32_t ObjectCreated = 0x0004;
inline constexpr uint32_t ObjectDeleted = 0x0008;
inline constexpr uint32_t ObjectModified = 0x0010;
inline constexpr uint32_t ObjectMoved = 0x0020;
inline constexpr uint32_t ObjectCopied = 0x0040;
inline constexpr uint32_t SearchComplete = 0x0080;
inline constexpr uint32_t TableModified = 0x0100;
inline constexpr uint32_t All = 0x01FF;
}  // namespace fnev
// "NewMail", "ObjectCreated", ... for one bit; "0x...." otherwise.
std::string event_name(uint32_t event);

// One notification: the event and the journal row that caused it.
struct Notification {
  uint32_t event = 0;  // one fnev bit
  Change change;       // object, folder, change number, the source of a move or copy
};

// The events a journal row raises, for the object it names. A message created in a receive
// folder (the Inbox), not FAI and not unsent, raises NewMail before ObjectCreated. A soft delete
// takes a message out of view (ObjectDeleted), a restore brings it back (ObjectCreated).
std::vector<uint32_t> events_of(const Change& c, FolderId receive_folder);

// What a subscription watches (MS-OXCNOTIF 2.2.1.2.1 RopRegisterNotification WantWholeStore,
// FolderId, MessageId): the whole store, one folder (objects in it or moved out of it, and the
// folder itself), or one message.
struct AdviseScope {
  enum class Kind { Store, Folder, Message } kind = Kind::Store;
  uint64_t id = 0;
  static AdviseScope store() { return {}; }
  static AdviseScope folder(FolderId f) { return {Kind::Folder, f}; }
  static AdviseScope message(MessageId m) { return {Kind::Message, m}; }
  bool matches(const Change& c) const;
};

using NotificationSink = std::function<void(const Notification&)>;

// What a table shows, for a table subscription: its columns, restriction and sort.
struct TableView {
  std::vector<PropTag> columns;
  std::optional<Restriction> restriction;
  SortOrderSet sort;
};
enum class TableKind { Contents, Hierarchy };

class ChangeFeed {
 public:
  // How often the feed looks for commits of other processes.
  static constexpr std::chrono::milliseconds kPollInterval{200};

  // Opens a reader of the mailbox (a new connection, used only on the feed's thread).
  using ReaderFactory = std::function<std::unique_ptr<Mailbox>()>;

  // The feed of the mailbox known as `key` (its canonical path) in this process, started with a
  // reader from `open_reader` if there is none yet.
  static std::shared_ptr<ChangeFeed> get(const std::string& key, const ReaderFactory& open_reader);
  // Tells the feed of `key`, if there is one, that a commit happened in this process: it reads
  // the journal now instead of at the next poll. Cheap; safe to call from any thread.
  static void committed(const std::string& key);

  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Subscribes `sink` to the events in `event_mask` within `scope`, for changes after
  // `after` (default: the journal's newest change when advise is called). Returns the connection
  // number for unadvise. MAPI_E_INVALID_PARAMETER for an empty mask or sink.
  uint32_t advise(uint32_t event_mask, AdviseScope scope, NotificationSink sink, std::optional<int64_t> after = std::nullopt);
  // fnevTableModified: subscribes `sink` to the changes of the contents or hierarchy table of
  // `folder` (table flags `flags`, tableflag::*) as `view` shows it. The feed keeps a table of
  // its own on its reader connection, with the same folder, flags and view; after each batch of
  // journal rows that touches the table's rows it delivers, in order, what that table's
  // refresh() reports (RowAdded / RowModified with the row and the instance key of the row
  // before it, RowDeleted with the key of the row that went; Changed for categorized views).
  // Errors of opening the table (MAPI_E_NOT_FOUND for a folder that is gone, a bad view) are
  // thrown here.
  uint32_t advise_table(TableKind kind, FolderId folder, uint32_t flags, const TableView& view, TableSink sink);
  // Gives a table subscription a new view (the client's table changed its columns, restriction
  // or sort): nothing is delivered for the change itself. Unknown connection: MAPI_E_NOT_FOUND.
  void set_table_view(uint32_t connection, const TableView& view);
  // Ends a subscription (of either kind): when unadvise returns (from any thread but the
  // feed's own), its sink is not running and will not be called again. Unknown connections:
  // MAPI_E_NOT_FOUND.
  void unadvise(uint32_t connection);
  // The change number the feed has delivered up to.
  int64_t delivered() const { return delivered_.load(); }

 private:
  ChangeFeed(std::string key, std::unique_ptr<Mailbox> reader);
  void run();
  void poke();

  struct Subscription {
    uint32_t mask;
    AdviseScope scope;
    NotificationSink sink;
    int64_t after;
    std::atomic<bool> live{true};  // false once unadvised
    // Table subscriptions: the feed's own table (used under reader_mutex_) and the sink.
    std::unique_ptr<Table> table;
    TableSink table_sink;
  };
  static void apply_view(Table& t, const TableView& view);

  const std::string key_;
  std::unique_ptr<Mailbox> reader_;  // used under reader_mutex_
  std::mutex reader_mutex_;
  FolderId receive_folder_ = 0;

  std::mutex mutex_;  // guards subs_, next_id_, poked_, stop_
  std::condition_variable wake_;
  std::map<uint32_t, std::shared_ptr<Subscription>> subs_;
  uint32_t next_id_ = 1;
  bool poked_ = false;
  bool stop_ = false;

  std::recursive_mutex dispatch_mutex_;  // held while sinks run; unadvise waits on it
  std::atomic<int64_t> delivered_{0};
  std::thread thread_;
};

}  // namespace openmapi::store
