// Notifications: the change feed delivers every journal row after advise, in order, to the
// subscriptions whose scope and mask it matches; changes of another process arrive too.
#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

#include "store/notify.h"
#include "store_fixture.h"

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::code_of;
using openmapi::testing::MailboxTest;
using openmapi::testing::simple_message;

namespace {

// Collects notifications; wait_for(n) blocks until n have arrived (or 30 s have passed).
class Collector {
 public:
  NotificationSink sink() {
    return [this](const Notification& n) {
      std::lock_guard lk(m_);
      got_.push_back(n);
      cv_.notify_all();
    };
  }
  std::vector<Notification> wait_for(size_t n) {
    std::unique_lock lk(m_);
    cv_.wait_for(lk, std::chrono::seconds(30), [&] { return got_.size() >= n; });
    return got_;
  }
  std::vector<Notification> now() {
    std::lock_guard lk(m_);
    return got_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Notification> got_;
};

std::vector<std::string> names(const std::vector<Notification>& ns) {
  std::vector<std::string> out;
  for (const auto& n : ns) out.push_back(event_name(n.event));
  return out;
}

}  // namespace

TEST_F(MailboxTest, InProcessChangesAreNotifiedInOrderByScopeAndMask) {
  auto feed = mb->change_feed();
  ASSERT_TRUE(feed);
  EXPECT_EQ(feed, mb->change_feed());  // one feed per mailbox and process
  FolderId other = mb->create_folder(inbox(), "Other", "IPF.Note");
  Collector store_wide, inbox_only, new_mail, one_message;
  feed->advise(fnev::All, AdviseScope::store(), store_wide.sink());
  feed->advise(fnev::All, AdviseScope::folder(inbox()), inbox_only.sink());
  feed->advise(fnev::NewMail, AdviseScope::store(), new_mail.sink());

  MessageId a = mb->save_message(inbox(), simple_message("a"));
  feed->advise(fnev::All, AdviseScope::message(a), one_message.sink());
  mb->save_message(inbox(), simple_message("a2"), a);
  mb->set_read_flag({a}, true);
  MessageId moved = mb->move_messages({a}, other).at(0);
  Message fai = simple_message("view", 0, msgflag::Associated);
  mb->save_message(inbox(), fai);                            // FAI: no NewMail
  mb->save_message(other, simple_message("elsewhere"));      // not the receive folder: no NewMail
  mb->delete_messages({moved}, DeleteMode::Hard);

  auto all = store_wide.wait_for(8);
  EXPECT_EQ(names(all), (std::vector<std::string>{"NewMail", "ObjectCreated", "ObjectModified", "ObjectModified", "ObjectMoved",
                                                  "ObjectCreated", "ObjectCreated", "ObjectDeleted"}));
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GE(all[i].change.change_number, all[i - 1].change.change_number);
  EXPECT_EQ(all[4].change.old_id, a);
  EXPECT_EQ(all[4].change.id, moved);
  // The Inbox saw a arrive, change twice, leave, and the FAI message.
  auto in = inbox_only.wait_for(6);
  EXPECT_EQ(names(in), (std::vector<std::string>{"NewMail", "ObjectCreated", "ObjectModified", "ObjectModified", "ObjectMoved",
                                                 "ObjectCreated"}));
  auto nm = new_mail.wait_for(1);
  ASSERT_EQ(nm.size(), 1u);
  EXPECT_EQ(nm[0].change.id, a);
  // Advised after a was created: its changes and its move, nothing before.
  auto one = one_message.wait_for(3);
  EXPECT_EQ(names(one), (std::vector<std::string>{"ObjectModified", "ObjectModified", "ObjectMoved"}));
  // Nothing more came in meanwhile (the last change was delivered to everyone).
  EXPECT_EQ(store_wide.now().size(), 8u);
}

TEST_F(MailboxTest, UnadviseStopsDeliveryAndUnknownConnectionsAreNotFound) {
  auto feed = mb->change_feed();
  Collector c;
  uint32_t conn = feed->advise(fnev::ObjectCreated, AdviseScope::store(), c.sink());
  mb->save_message(inbox(), simple_message("1"));
  ASSERT_EQ(c.wait_for(1).size(), 1u);
  feed->unadvise(conn);
  EXPECT_EQ(code_of([&] { feed->unadvise(conn); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { feed->advise(0, AdviseScope::store(), c.sink()); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  // A later subscriber sees the next change; the unadvised one does not.
  Collector later;
  feed->advise(fnev::ObjectCreated, AdviseScope::store(), later.sink());
  mb->save_message(inbox(), simple_message("2"));
  ASSERT_EQ(later.wait_for(1).size(), 1u);
  EXPECT_EQ(c.now().size(), 1u);
}

TEST_F(MailboxTest, ARolledBackBatchNotifiesNothing) {
  auto feed = mb->change_feed();
  Collector c;
  feed->advise(fnev::All, AdviseScope::store(), c.sink());
  {
    auto batch = mb->begin_batch();
    mb->save_message(inbox(), simple_message("never"));
  }  // rolled back
  MessageId kept = mb->save_message(inbox(), simple_message("kept"));
  auto got = c.wait_for(2);  // NewMail + ObjectCreated of "kept" only
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].change.id, kept);
  EXPECT_EQ(got[1].change.id, kept);
}

// The cross-process test: another process makes 1,000 changes while this one watches.
// Every one arrives, in order. (Latency is measured in bench/, not asserted here.)
TEST_F(MailboxTest, AThousandChangesOfAnotherProcessAllArriveInOrder) {
  constexpr int kChanges = 1000;
  const std::string path = dir.file("mb.sqlite");
  const FolderId folder = inbox();
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  // Fork before this process starts any thread (the feed's), so the child is a clean copy.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    try {
      auto writer = open_sqlite_mailbox(path);
      MessageId last = 0;
      for (int i = 0; i < kChanges; ++i) {
        if (i % 2 == 0) last = writer->save_message(folder, simple_message("m" + std::to_string(i)));
        else writer->set_read_flag({last}, true);
      }
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  auto feed = mb->change_feed();
  Collector c;
  feed->advise(fnev::ObjectCreated | fnev::ObjectModified, AdviseScope::folder(folder), c.sink());
  ASSERT_EQ(write(go[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto got = c.wait_for(kChanges);
  ASSERT_EQ(got.size(), size_t(kChanges));
  for (int i = 0; i < kChanges; ++i) {
    EXPECT_EQ(got[i].event, i % 2 == 0 ? fnev::ObjectCreated : fnev::ObjectModified) << i;
    if (i) EXPECT_GT(got[i].change.change_number, got[i - 1].change.change_number) << i;
  }
  close(go[0]);
  close(go[1]);
}
