// The spooler of `openmapi serve` (MS-OXOMSG 3.3.4): what the users submit through MAPI
// (RopSubmitMessage, the object model's SubmitMessage) or through SMTP submission leaves their
// outgoing queues here.
//
// Each queued message gets the owner as sender and sent-representing (when the client set
// none), a Message-ID when it has none (stable for the submission:
// <openmapi.MAILBOX-GUID.MESSAGE-ID.SUBMIT-TIME@host>) and its submit time; it is rendered to
// MIME (formats/mime; Bcc recipients are in the envelope, not the header) — or sent as it came,
// for a message submitted over SMTP — and delivered to every local recipient (delivery.h) and
// relayed for the others: to the smarthost of `relay`, or to each domain's MX hosts (mx.h,
// smtp_client.h). Then the message leaves the queue for Sent Items (or goes, with
// PidTagDeleteAfterSubmit) in one transaction of the sender's mailbox (Mailbox::finish_submit).
//
// Failures: a permanent one (5xx), and a temporary one still there after queue_lifetime, are
// reported to the sender in one delivery status notification (RFC 3464: multipart/report, which
// the store reads as REPORT.IPM.Note.NDR, MS-OXCMAIL 2.2.3.7.1) delivered to their Inbox. A
// temporary failure leaves the message queued: it is tried again after 30 s, 1, 2, 4 ... up to
// 30 minutes. A newer DATA_DIR/spool.flush (`openmapi queue flush` writes it) has every queued
// message tried at the next look.
//
// Crash safety: the spooler's state (tries, next try, finished recipients, last error) lives in
// the queue entry (Mailbox::QueueState), written after each delivery step: a recipient is never
// sent to again once that is recorded. A local recipient's copy is committed before the record;
// a spooler that stops between the two sends again after a restart, and delivery skips a
// recipient that has that Message-ID already, so nobody local gets it twice (a remote host
// that accepted the message just before a crash may get it twice: SMTP cannot prevent that,
// RFC 1047). Reports have a Message-ID made from the message and the recipients they name, and
// are delivered the same way.
// Thread safety: run_once() from one thread at a time; start()/stop() from the controlling one.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "server/delivery.h"
#include "server/http.h"
#include "store/store.h"

namespace openmapi::store {
class Mailbox;
}

namespace openmapi::server {

// The file whose modification has the spooler try every queued message now.
std::string spool_flush_file(const std::string& data_dir);

class Spooler {
 public:
  Spooler(const ServerConfig& config, std::shared_ptr<LocalDelivery> delivery);
  ~Spooler();
  // Sends what the users' outgoing queues hold now; returns how many messages left a queue.
  size_t run_once();
  // Runs run_once() on a thread of its own every `interval` until stop().
  void start(std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  void stop();

 private:
  // Sends one message; true when it left the queue.
  bool send(store::Mailbox& mb, const std::string& owner, const std::string& owner_name, const store::Mailbox::QueueEntry& entry);
  // Relays `mime` to `recipients` (remote addresses); one reply each.
  std::vector<SmtpReply> relay(const std::string& from, const std::vector<std::string>& recipients, const std::string& mime,
                               std::vector<std::string>& remote_mta);

  const ServerConfig& config_;
  std::shared_ptr<LocalDelivery> delivery_;
  std::map<std::string, std::unique_ptr<store::Mailbox>> open_;  // mailbox name -> the open mailbox
  std::filesystem::file_time_type flushed_{};                // spool.flush's time when last seen (at construction first)
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace openmapi::server
