// One IMAP connection's session (RFC 9051 IMAP4rev2, and IMAP4rev1 clients) over the user's
// mailbox: the states (not authenticated, authenticated, selected, logout) and every command.
//
// Mailboxes are the mail folders below the IPM subtree (container class IPF.Note or none;
// calendars, contacts and the like are not mail and stay out), "/"-separated, INBOX being the
// Inbox; Sent Items, Drafts, Deleted Items and Junk Email carry \Sent \Drafts \Trash \Junk.
// A message's UID is its message id: ids come from the store's one counter, so a message new to
// a folder (delivered, appended, copied or moved there: a move gives a new id) always has a
// larger UID than any before it, and UIDs stay across restarts; UIDVALIDITY is the folder id
// (a folder deleted and created again is a new folder). Flags map to MAPI: \Seen the read flag,
// \Flagged PidTagFlagStatus (followupFlagged), \Answered and $Forwarded PidTagLastVerbExecuted
// (reply / forward, with PidTagIconIndex), \Draft MSGFLAG_UNSENT (set by APPEND only),
// keywords the categories (PidNameKeywords), and \Deleted a named property of OpenMAPI's (MAPI
// has no such state). EXPUNGE deletes for good, as IMAP says.
//
// The selected mailbox follows the change journal: what other doors do (a delivery, Outlook
// moving a message, a read flag set over MAPI) reaches the client as EXISTS, EXPUNGE and FETCH
// responses after its next command, or at once during IDLE (the mailbox's change feed wakes the
// connection). EXPUNGE responses wait while a FETCH, STORE or SEARCH by sequence number runs.
// Messages are served as they came in, else as the MIME that formats/mime renders from the store.
// A folder read once is kept (process-wide, bounded) as its last session left it, and the next
// SELECT of it reads only the journal rows since.
//
// Thread safety: one thread at a time (execute and the rest block on the store and on password
// checks: call them on a worker thread); the waker may be called from the feed's thread.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/http.h"
#include "server/imap.h"
#include "store/store.h"

namespace openmapi::store {
class ChangeFeed;
}

namespace openmapi::server {

class ImapSession {
 public:
  ImapSession(const ServerConfig& config, std::string remote, bool tls);
  ~ImapSession();
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;

  std::string greeting() const;

  struct Result {
    enum Next {
      Continue,      // read the next command
      More,          // call resume() (a long FETCH goes out in pieces, to keep memory bounded)
      StartTls,      // start TLS, then read on (drop what was pipelined)
      AuthContinue,  // read a line for auth_response()
      Idle,          // read a line for idle_done(); idle_poll() when woken
      Close,
    } next = Continue;
    std::chrono::milliseconds delay{0};  // before the output is sent (failed logins)
  };
  Result execute(const ImapCommand& cmd, std::string& out);
  Result resume(std::string& out);
  Result auth_response(const std::string& line, std::string& out);
  Result idle_done(const std::string& line, std::string& out);
  void idle_poll(std::string& out);
  void tls_started() { tls_ = true; }
  // Called (from any thread) when the selected mailbox changed; set before SELECT.
  void set_waker(std::function<void()> waker);
  bool authenticated() const { return mailbox_ != nullptr; }

  // Flag bits of a message as the session caches them.
  // (Msg::modseq follows from the change journal: MODSEQ values are change numbers, and
  // HIGHESTMODSEQ is the mailbox's newest change number, which no message's MODSEQ passes.)
  enum Flag : uint8_t { Seen = 1, Answered = 2, Flagged = 4, Deleted = 8, Draft = 16, Forwarded = 32 };
  struct Msg {
    uint32_t uid = 0;
    uint8_t flags = 0;
    int64_t modseq = 0;  // CONDSTORE: the change number of its last change (content, flags or read state)
    std::vector<std::string> keywords;
  };

 private:
  struct FetchJob;
  struct Tags;

  Result not_authenticated(const ImapCommand& c, std::string& out);
  Result login(const ImapCommand& c, const std::string& user, const std::string& password, std::string& out);
  Result command(const ImapCommand& c, std::string& out);

  void cmd_list(const ImapCommand& c, bool lsub, std::string& out);
  void cmd_status(const ImapCommand& c, std::string& out);
  void cmd_select(const ImapCommand& c, bool read_only, std::string& out);
  void cmd_create(const ImapCommand& c, std::string& out);
  void cmd_delete(const ImapCommand& c, std::string& out);
  void cmd_rename(const ImapCommand& c, std::string& out);
  void cmd_subscribe(const ImapCommand& c, bool subscribe, std::string& out);
  void cmd_append(const ImapCommand& c, std::string& out);
  Result cmd_fetch(const ImapCommand& c, bool uid, std::string& out);
  void cmd_store(const ImapCommand& c, bool uid, std::string& out);
  void cmd_copy(const ImapCommand& c, bool uid, bool move, std::string& out);
  void cmd_expunge(const ImapCommand& c, const std::optional<ImapSequenceSet>& uids, std::string& out);
  void cmd_search(const ImapCommand& c, bool uid, std::string& out);

  // Mailbox names <-> folders.
  struct FolderInfo {
    store::FolderId id = 0;
    std::string name;  // the IMAP name (UTF-8), "/"-separated
    std::string special_use;
    bool has_children = false;
    bool subscribed = true;
  };
  std::vector<FolderInfo> folders();
  std::optional<store::FolderId> folder_of(const std::string& name);
  // folder_of, answering NO [NONEXISTENT] for a mailbox that is not there.
  std::optional<store::FolderId> existing_folder(const ImapCommand& c, const std::string& name, std::string& out);
  std::string decode_name(const ImapArg& a) const;
  std::string encode_name(const std::string& name) const;

  // The selected mailbox.
  void select(store::FolderId folder, bool read_only);
  void advise_changes(store::FolderId folder);  // the change feed wakes IDLE for this folder
  void deselect();
  // Reads the journal since the last look and tells the client what changed; expunges only
  // when `expunge` (otherwise they wait).
  void refresh(std::string& out, bool expunge);
  std::vector<Msg> read_flags(const std::vector<store::MessageId>& ids);
  std::optional<size_t> index_of_uid(uint32_t uid) const;
  // The messages a sequence set (by sequence number or UID) names, as indices into msgs_.
  std::vector<size_t> resolve_set(const ImapSequenceSet& set, bool uid) const;
  std::string flags_text(const Msg& m) const;
  // CONDSTORE (RFC 7162).
  void enable_condstore();
  void ensure_modseqs();  // the read-state changes of the journal, once per selection
  int64_t highest_modseq() const;
  std::string modseq_item(const Msg& m) const;  // " MODSEQ (n)" once CONDSTORE is on, else ""
  // UIDs of `folder` expunged after change `since` (QRESYNC), from the journal; nullopt when
  // the journal no longer reaches back that far.
  std::optional<std::vector<uint32_t>> expunged_since(int64_t since);
  // Tells the client that the messages at `indices` (ascending) are gone: EXPUNGE, or VANISHED
  // under QRESYNC; drops them.
  void report_expunged(const std::vector<size_t>& indices, std::string& out);
  const std::string& mime_of(uint32_t uid);  // rendered, cached for the last few
  void mark_seen(const std::vector<size_t>& indices);

  const ServerConfig& config_;
  std::string remote_;
  bool tls_;
  bool utf8_ = false;
  bool rev2_ = false;
  bool condstore_ = false, qresync_ = false;
  bool modseqs_complete_ = false;
  std::string user_address_;
  std::string mailbox_key_;  // the mailbox file
  std::unique_ptr<store::Mailbox> mailbox_;
  std::unique_ptr<Tags> tags_;
  std::string pending_auth_tag_;
  std::string idle_tag_;

  // Selected state.
  std::optional<store::FolderId> selected_;
  bool read_only_ = false;
  std::vector<Msg> msgs_;  // in UID order; sequence number = index + 1
  std::set<uint32_t> expunge_pending_;
  int64_t journal_cn_ = 0;
  std::shared_ptr<store::ChangeFeed> feed_;
  uint32_t advise_ = 0;
  std::shared_ptr<std::function<void()>> waker_;

  std::unique_ptr<FetchJob> fetch_;
  std::map<uint32_t, std::string> mime_cache_;
};

}  // namespace openmapi::server
