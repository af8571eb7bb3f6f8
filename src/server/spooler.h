// The spooler of `openmapi serve` (MS-OXOMSG 3.3.4): what the users submit through MAPI
// (RopSubmitMessage, the object model's SubmitMessage) leaves their outgoing queues here.
//
// Each queued message gets the owner as sender and sent-representing (when the client set
// none), a Message-ID when it has none (stable for the submission:
// <openmapi.MAILBOX-GUID.MESSAGE-ID.SUBMIT-TIME@host>) and its submit time; it is rendered to
// MIME (formats/mime; Bcc recipients are in the envelope, not the header) and delivered to every
// local recipient (delivery.h). Recipients of other domains cannot be reached yet (no relay, no
// MX): the sender gets a non-delivery report (REPORT.IPM.Note.NDR) naming them. Then the message
// leaves the queue for Sent Items (or goes, with PidTagDeleteAfterSubmit) in one transaction of
// the sender's mailbox (Mailbox::finish_submit).
//
// Crash safety: a recipient's copy is committed before the sender's queue entry goes; a spooler
// that stops between the two sends the message again after a restart, and delivery skips the
// recipients that have that Message-ID already, so nobody gets it twice. A temporary delivery
// failure leaves the message queued and it is tried again after 30 s, 1, 2, 4 ... up to 30
// minutes (in this process; a restart tries at once). A newer DATA_DIR/spool.flush
// (`openmapi queue flush` writes it) has every queued message tried at the next look.
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
  bool send(store::Mailbox& mb, const std::string& owner, const std::string& owner_name, uint64_t id, int64_t submitted);

  const ServerConfig& config_;
  std::shared_ptr<LocalDelivery> delivery_;
  std::map<std::string, std::unique_ptr<store::Mailbox>> open_;  // mailbox name -> the open mailbox
  struct Retry {
    std::chrono::steady_clock::time_point next;
    std::chrono::seconds wait{30};
  };
  std::map<std::pair<std::string, uint64_t>, Retry> retry_;  // (mailbox, message) -> when to try again
  std::filesystem::file_time_type flushed_{};                // spool.flush's time when last seen
  bool flush_seen_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace openmapi::server
