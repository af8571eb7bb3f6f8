// A temporary mailbox per test.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "store/store.h"
#include "test_util.h"

namespace openmapi::testing {

class MailboxTest : public ::testing::Test {
 protected:
  void SetUp() override { mb = store::create_sqlite_mailbox(dir.file("mb.sqlite"), {"Test User", "test@example.com", 0}); }
  void reopen() {
    mb.reset();
    mb = store::open_sqlite_mailbox(dir.file("mb.sqlite"));
  }
  store::FolderId inbox() { return mb->special_folder(store::SpecialFolder::Inbox); }

  TempDir dir;
  std::unique_ptr<store::Mailbox> mb;
};

inline Message simple_message(const std::string& subject, int64_t delivery = 0, int32_t flags = 0) {
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  m.props.set(PropValue::string(tags::PidTagSubject, subject));
  m.props.set(PropValue::string(tags::PidTagNormalizedSubject, subject));
  if (delivery) m.props.set(PropValue::time(tags::PidTagMessageDeliveryTime, delivery));
  m.props.set(PropValue::i32(tags::PidTagMessageFlags, flags));
  return m;
}

}  // namespace openmapi::testing
