// The spooler (server/spooler.h): a message submitted into a user's outgoing queue reaches the
// local recipients (Bcc ones too, without being named in the others' copies), leaves for Sent
// Items, and the sender gets a non-delivery report for a recipient of another domain.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/entryid.h"
#include "server/spooler.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/store.h"
#include "serve_util.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::server;

namespace {

PropertyBag recipient(int32_t type, const std::string& name, const std::string& address) {
  return PropertyBag{PropValue::i32(tags::PidTagRecipientType, type), PropValue::string(tags::PidTagDisplayName, name),
                     PropValue::string(tags::PidTagAddressType, "SMTP"), PropValue::string(tags::PidTagEmailAddress, address),
                     PropValue::string(tags::PidTagSmtpAddress, address)};
}

// The messages a folder's contents table shows, in id order.
std::vector<Message> messages_in(store::Mailbox& mb, store::SpecialFolder f) {
  auto table = mb.contents_table(mb.special_folder(f));
  table->set_columns({tags::PidTagMid});
  std::vector<uint64_t> ids;
  for (const auto& row : table->query_rows(1000)) ids.push_back(ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc);
  std::sort(ids.begin(), ids.end());
  std::vector<Message> out;
  for (uint64_t id : ids) out.push_back(mb.load_message(id));
  return out;
}

class SpoolerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config.data_dir = dir.path().string();
    config.host_name = "mail.example.com";
    UserDirectory users(config.data_dir, true);
    for (const char* a : {"alice@example.com", "bob@example.com", "carol@example.com"}) users.add(a, "", "pw");
  }
  std::unique_ptr<store::Mailbox> mailbox(const std::string& address) {
    return store::open_sqlite_mailbox(store::mailbox_file(config.data_dir, address));
  }
  // A message from Alice's Outbox, submitted.
  store::MessageId submit(const std::vector<PropertyBag>& to, bool delete_after = false) {
    auto mb = mailbox("alice@example.com");
    Message m;
    m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
    m.props.set(PropValue::string(tags::PidTagSubject, "Budget 2027"));
    m.props.set(PropValue::string(tags::PidTagBody, "The numbers are in."));
    m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Unsent | msgflag::Read));
    if (delete_after) m.props.set(PropValue::boolean(tags::PidTagDeleteAfterSubmit, true));
    m.recipients = to;
    const store::MessageId id = mb->save_message(mb->special_folder(store::SpecialFolder::Outbox), m);
    mb->submit_message(id);
    return id;
  }

  openmapi::testing::TempDir dir;
  ServerConfig config;
};

}  // namespace

TEST_F(SpoolerTest, ASubmittedMessageReachesTheLocalRecipientsAndLeavesForSentItems) {
  submit({recipient(recipient_type::To, "Bob", "bob@example.com"), recipient(recipient_type::Bcc, "Carol", "carol@example.com")});
  Spooler spooler(config, std::make_shared<LocalDelivery>(config.data_dir, config.host_name));
  EXPECT_EQ(spooler.run_once(), 1u);

  auto bob = mailbox("bob@example.com");
  auto got = messages_in(*bob, store::SpecialFolder::Inbox);
  ASSERT_EQ(got.size(), 1u);
  const Message& m = got[0];
  EXPECT_EQ(m.props.get_string(tags::PidTagSubject), "Budget 2027");
  EXPECT_NE(m.props.get_string(tags::PidTagBody).value_or("").find("The numbers are in."), std::string::npos);
  EXPECT_EQ(m.props.get_string(tags::PidTagSenderEmailAddress), "alice@example.com");
  const std::string message_id = m.props.get_string(tags::PidTagInternetMessageId).value_or("");
  EXPECT_EQ(message_id.rfind("<openmapi.", 0), 0u) << message_id;
  EXPECT_NE(message_id.find("@mail.example.com>"), std::string::npos) << message_id;
  // Bob sees himself, not the Bcc recipient; Carol has her copy.
  ASSERT_EQ(m.recipients.size(), 1u);
  EXPECT_EQ(m.recipients[0].get_string(tags::PidTagSmtpAddress).value_or(m.recipients[0].get_string(tags::PidTagEmailAddress).value_or("")),
            "bob@example.com");
  auto carol = mailbox("carol@example.com");
  ASSERT_EQ(messages_in(*carol, store::SpecialFolder::Inbox).size(), 1u);
  EXPECT_EQ(messages_in(*carol, store::SpecialFolder::Inbox)[0].props.get_string(tags::PidTagInternetMessageId), message_id);

  // Alice: the queue is empty, the message is in Sent Items, sent (not unsent or submitted),
  // with the Message-ID the recipients have; no report.
  auto alice = mailbox("alice@example.com");
  EXPECT_TRUE(alice->outgoing_queue().empty());
  EXPECT_EQ(alice->contents_table(alice->special_folder(store::SpecialFolder::Outbox))->row_count(), 0u);
  auto sent = alice->contents_table(alice->special_folder(store::SpecialFolder::SentItems));
  ASSERT_EQ(sent->row_count(), 1u);
  auto sent_msgs = messages_in(*alice, store::SpecialFolder::SentItems);
  ASSERT_EQ(sent_msgs.size(), 1u);
  const int32_t flags = sent_msgs[0].props.get_i32(tags::PidTagMessageFlags).value_or(-1);
  EXPECT_EQ(flags & (msgflag::Unsent | msgflag::Submitted), 0);
  EXPECT_EQ(sent_msgs[0].props.get_string(tags::PidTagInternetMessageId), message_id);
  EXPECT_EQ(sent_msgs[0].recipients.size(), 2u);  // the sender's copy keeps the Bcc
  EXPECT_EQ(alice->contents_table(alice->special_folder(store::SpecialFolder::Inbox))->row_count(), 0u);
  // Nothing more to do.
  EXPECT_EQ(spooler.run_once(), 0u);
}

TEST_F(SpoolerTest, ARecipientOfAnotherDomainGetsTheSenderAReport) {
  submit({recipient(recipient_type::To, "Bob", "bob@example.com"), recipient(recipient_type::Cc, "Dave", "dave@elsewhere.org")});
  config.relay = "none";  // this server relays to no other domain
  Spooler spooler(config, std::make_shared<LocalDelivery>(config.data_dir, config.host_name));
  EXPECT_EQ(spooler.run_once(), 1u);
  auto bob = mailbox("bob@example.com");
  EXPECT_EQ(messages_in(*bob, store::SpecialFolder::Inbox).size(), 1u);
  auto alice = mailbox("alice@example.com");
  auto reports = messages_in(*alice, store::SpecialFolder::Inbox);
  ASSERT_EQ(reports.size(), 1u);
  const Message& ndr = reports[0];
  EXPECT_EQ(ndr.props.get_string(tags::PidTagMessageClass), "REPORT.IPM.Note.NDR");
  EXPECT_EQ(ndr.props.get_string(tags::PidTagSubject), "Undeliverable: Budget 2027");
  EXPECT_EQ(ndr.props.get_string(tags::PidTagOriginalSubject), "Budget 2027");
  ASSERT_EQ(ndr.recipients.size(), 1u);
  EXPECT_EQ(ndr.recipients[0].get_string(tags::PidTagSmtpAddress), "dave@elsewhere.org");
  EXPECT_NE(ndr.recipients[0].get_string(tags::PidTagSupplementaryInfo).value_or("").find("5.7.1"), std::string::npos);
  EXPECT_TRUE(alice->outgoing_queue().empty());
}

TEST_F(SpoolerTest, DeleteAfterSubmitLeavesNoCopyAndAResendGivesNobodyASecond) {
  submit({recipient(recipient_type::To, "Bob", "bob@example.com")}, true);
  Spooler spooler(config, std::make_shared<LocalDelivery>(config.data_dir, config.host_name));
  EXPECT_EQ(spooler.run_once(), 1u);
  auto alice = mailbox("alice@example.com");
  EXPECT_EQ(alice->contents_table(alice->special_folder(store::SpecialFolder::SentItems))->row_count(), 0u);
  auto bob = mailbox("bob@example.com");
  auto got = messages_in(*bob, store::SpecialFolder::Inbox);
  ASSERT_EQ(got.size(), 1u);
  // A spooler that stopped after delivering and before the queue entry went sends the message
  // again with the same Message-ID: the recipient who has it gets no second copy.
  LocalDelivery delivery(config.data_dir, config.host_name);
  SmtpEnvelope env;
  env.from = "alice@example.com";
  env.recipients = {{"bob@example.com", "", ""}, {"carol@example.com", "", ""}};
  const std::string message_id = got[0].props.get_string(tags::PidTagInternetMessageId).value_or("");
  const std::string mime = "Message-ID: " + message_id + "\r\nSubject: Budget 2027\r\n\r\nagain\r\n";
  auto replies = delivery.deliver(env, mime, SmtpMode::Smtp, message_id);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].code, 250);
  EXPECT_NE(replies[0].text.find("has it already"), std::string::npos);
  EXPECT_EQ(messages_in(*bob, store::SpecialFolder::Inbox).size(), 1u);
  auto carol = mailbox("carol@example.com");
  EXPECT_EQ(messages_in(*carol, store::SpecialFolder::Inbox).size(), 1u);  // Carol had none: she gets it
}

// `openmapi queue`: what is queued, taking a message out (it stays in the Outbox, unsent), and
// the flush request a running spooler looks for.
TEST_F(SpoolerTest, TheQueueCommandListsRemovesAndFlushes) {
  const store::MessageId id = submit({recipient(1, "Bob", "bob@example.com"), recipient(1, "Dave", "dave@elsewhere.example")});
  const std::string cli = openmapi::testing::quote(OPENMAPI_BIN) + " --data-dir " + openmapi::testing::quote(config.data_dir) + " queue ";
  auto ls = openmapi::testing::sh(cli + "ls --json");
  ASSERT_EQ(ls.status, 0) << ls.text;
  const auto j = nlohmann::json::parse(ls.text);
  ASSERT_EQ(j["count"], 1) << ls.text;
  EXPECT_EQ(j["queue"][0]["id"], "alice@example.com:" + std::to_string(id));
  EXPECT_EQ(j["queue"][0]["user"], "alice@example.com");
  EXPECT_EQ(j["queue"][0]["subject"], "Budget 2027");
  EXPECT_EQ(j["queue"][0]["recipients"], nlohmann::json::array({"bob@example.com", "dave@elsewhere.example"}));
  auto table = openmapi::testing::sh(cli + "ls");
  EXPECT_NE(table.text.find("Budget 2027"), std::string::npos) << table.text;

  auto bad = openmapi::testing::sh(cli + "rm 12345");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.text.find("MAPI_E_INVALID_PARAMETER"), std::string::npos) << bad.text;
  auto gone = openmapi::testing::sh(cli + "rm alice@example.com:999999");
  EXPECT_NE(gone.status, 0);
  EXPECT_NE(gone.text.find("MAPI_E_"), std::string::npos) << gone.text;
  auto rm = openmapi::testing::sh(cli + "rm alice@example.com:" + std::to_string(id));
  ASSERT_EQ(rm.status, 0) << rm.text;
  EXPECT_EQ(nlohmann::json::parse(openmapi::testing::sh(cli + "ls --json").text)["count"], 0);
  auto mb = mailbox("alice@example.com");
  EXPECT_TRUE(mb->outgoing_queue().empty());
  const Message kept = mb->load_message(id);
  EXPECT_FALSE(kept.props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Submitted);
  EXPECT_EQ(mb->message_folder(id), mb->special_folder(store::SpecialFolder::Outbox));
  // A spooler that ran before the flush request takes it as a change.
  Spooler spooler(config, std::make_shared<LocalDelivery>(config.data_dir, config.host_name));
  spooler.run_once();
  auto flush = openmapi::testing::sh(cli + "flush");
  ASSERT_EQ(flush.status, 0) << flush.text;
  EXPECT_TRUE(std::filesystem::exists(spool_flush_file(config.data_dir)));
}
