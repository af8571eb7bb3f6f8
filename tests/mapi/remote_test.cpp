// The remote provider (mapi/remote.h) against a real `openmapi serve` over loopback TLS: the
// object-model suite (tests/store/objects_suite.h) and the table suite (table_suite.h) run
// through it as they run on the local store, object notifications included (LiveObjects: the
// server's RopNotify through NotificationWait) — except table notifications (LiveTables:
// docs/REMOTE.md) — and what only a network store meets: wrong passwords, unreachable servers,
// certificates that do not verify.
#include "store/objects_suite.h"
#include "store/table_suite.h"

#include "mapi/remote.h"
#include "mapi/session.h"
#include "server/serve_util.h"
#include "server/users.h"
#include "store/data_dir.h"

using namespace openmapi;
using namespace openmapi::store;
using namespace openmapi::objects_suite;
using openmapi::testing::code_of;
using openmapi::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// One server for the whole test program; each test gets a user (and so a mailbox) of its own.
struct RemoteServer {
  TempDir dir;
  fs::path data = dir.path() / "data";
  openmapi::testing::ServerProcess process;
  std::string port, why;
  int users = 0;
  bool up = false;
  RemoteServer() {
    fs::create_directories(data);
    server::UserDirectory(data.string(), true);
    // Mail for other domains goes to a smarthost that is never up: what the suite submits stays
    // in the queue (the spooler retries later) instead of leaving the Outbox while a test looks.
    const fs::path config = dir.path() / "serve.conf";
    std::ofstream(config) << "relay = 127.0.0.1:1\n";
    up = process.start(dir.path(), data, {"--config", config.string(), "--listen", "https=127.0.0.1:0"}, {"https"}, why);
    port = process.port("https");
  }
  ~RemoteServer() {
    if (std::getenv("OPENMAPI_REMOTE_TEST_LOG")) std::cerr << process.log();
  }
  std::string url() const { return "https://127.0.0.1:" + port; }
  std::string ca() const { return (data / "tls" / "server.crt").string(); }
  mapi::RemoteOptions options(const std::string& user, const std::string& password = "secret") const {
    mapi::RemoteOptions o;
    o.url = url();
    o.user = user;
    o.password = password;
    o.ca_file = ca();
    return o;
  }
  std::string add_user() {
    const std::string address = "remote" + std::to_string(++users) + "@example.com";
    server::UserDirectory(data.string()).add(address, "Test User", "secret");
    return address;
  }
};

RemoteServer& remote_server() {
  static RemoteServer s;
  return s;
}

}  // namespace

namespace openmapi::objects_suite {
std::shared_ptr<Mailbox> objects_mailbox(const std::string&, TempDir&, bool fresh, std::string& owner) {
  RemoteServer& s = remote_server();
  if (!s.up) throw std::runtime_error("the server did not start: " + s.why);
  if (fresh) owner = s.add_user();
  return mapi::open_remote_mailbox(s.options(owner));
}
}  // namespace openmapi::objects_suite

namespace openmapi::table_suite {
std::shared_ptr<Mailbox> table_mailbox(const std::string&, TempDir& dir) {
  std::string owner;
  return objects_suite::objects_mailbox("remote", dir, true, owner);
}
}  // namespace openmapi::table_suite

INSTANTIATE_TEST_SUITE_P(Remote, Objects, ::testing::Values(std::string("remote")), [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Remote, LiveObjects, ::testing::Values(std::string("remote")), [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LiveTables);
using openmapi::table_suite::TableTest;
INSTANTIATE_TEST_SUITE_P(Remote, TableTest, ::testing::Values(std::string("remote")), [](const auto& info) { return info.param; });

TEST(RemoteProvider, RefusesWrongPasswordsUnknownUsersAndUnreachableServers) {
  RemoteServer& s = remote_server();
  ASSERT_TRUE(s.up) << s.why;
  const std::string user = s.add_user();
  EXPECT_EQ(code_of([&] { mapi::open_remote_mailbox(s.options(user, "wrong")); }), ErrorCode::MAPI_E_LOGON_FAILED);
  EXPECT_EQ(code_of([&] { mapi::open_remote_mailbox(s.options("nobody@example.com")); }), ErrorCode::MAPI_E_LOGON_FAILED);
  // Nothing listens on port 1 of the loopback.
  auto closed = s.options(user);
  closed.url = "https://127.0.0.1:1";
  EXPECT_EQ(code_of([&] { mapi::open_remote_mailbox(closed); }), ErrorCode::MAPI_E_NETWORK_ERROR);
  // The self-signed certificate does not verify against the system's CAs.
  auto unverified = s.options(user);
  unverified.ca_file.clear();
  EXPECT_EQ(code_of([&] { mapi::open_remote_mailbox(unverified); }), ErrorCode::MAPI_E_NETWORK_ERROR);
  auto bad_url = s.options(user);
  bad_url.url = "http://127.0.0.1:" + s.port;
  EXPECT_EQ(code_of([&] { mapi::open_remote_mailbox(bad_url); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  // With the right password, the mailbox is there, with its special folders.
  auto mb = mapi::open_remote_mailbox(s.options(user));
  EXPECT_NE(mb->special_folder(SpecialFolder::Inbox), mb->special_folder(SpecialFolder::Outbox));
  EXPECT_NE(mb->special_folder(SpecialFolder::Calendar), 0u);
  EXPECT_EQ(mb->folder_by_path("Inbox"), mb->special_folder(SpecialFolder::Inbox));
}

// What one client writes through the server, the server's own store holds, and the reverse.
TEST(RemoteProvider, SeesTheServersMailbox) {
  RemoteServer& s = remote_server();
  ASSERT_TRUE(s.up) << s.why;
  const std::string user = s.add_user();
  auto remote = Logon::open(mapi::open_remote_mailbox(s.options(user)), LogonIdentity{user});
  auto m = remote->open_special(SpecialFolder::Inbox)->create_message();
  const std::string body(100000, 'x');  // larger than a ROP buffer: written through a stream
  m->set_props({PropValue::string(tags::PidTagSubject, "through the server"), PropValue::string(tags::PidTagBody, body)});
  m->modify_recipients(modrecip::Add, {PropertyBag{PropValue::string(tags::PidTagDisplayName, "Bob"),
                                                   PropValue::string(tags::PidTagEmailAddress, "bob@example.com"),
                                                   PropValue::string(tags::PidTagAddressType, "SMTP"),
                                                   PropValue::i32(tags::PidTagRecipientType, recipient_type::To)}});
  m->save_changes();
  // The mailbox file the server keeps has it.
  auto local = open_sqlite_mailbox(store::mailbox_file(s.data.string(), server::UserDirectory(s.data.string()).find(user)->mailbox));
  openmapi::Message stored = local->load_message(*m->id());
  EXPECT_EQ(stored.props.get_string(tags::PidTagSubject), "through the server");
  EXPECT_EQ(stored.props.get_string(tags::PidTagBody), body);
  ASSERT_EQ(stored.recipients.size(), 1u);
  EXPECT_EQ(stored.recipients[0].get_string(tags::PidTagEmailAddress), "bob@example.com");
  // A message the server's store gets otherwise is seen through the provider.
  openmapi::Message other;
  other.props.set(PropValue::string(tags::PidTagSubject, "filed on the server"));
  other.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  const MessageId id = local->save_message(local->special_folder(SpecialFolder::Inbox), other);
  EXPECT_EQ(remote->open_message(id)->get_prop(tags::PidTagSubject)->get<std::string>(), "filed on the server");
}

// A profile that names a server brings the server's Global Address List (NSPI) into the
// session's address book: its users are entries, and the server's name resolution resolves them.
TEST(RemoteProvider, TheAddressBookHasTheServersGlobalAddressList) {
  RemoteServer& s = remote_server();
  ASSERT_TRUE(s.up) << s.why;
  const std::string user = s.add_user();
  const std::string other = "carol.gal@example.com";
  server::UserDirectory(s.data.string()).add(other, "Carol Directory", "pw");
  mapi::MessageService svc{"remote", user, s.url(), "Server"};
  svc.password = "secret";
  svc.ca_file = s.ca();
  auto session = mapi::Session::logon_as_owner(mapi::Profile{"gal", {svc}});
  auto& ab = session->address_book();
  std::optional<mapi::AddressBook::Container> gal;
  for (auto& c : ab.containers())
    if (c.directory) gal = c;
  ASSERT_TRUE(gal);
  EXPECT_EQ(gal->name, "Global Address List");
  const auto entries = ab.entries(*gal);
  // Every user the server's directory holds, by SMTP address (the GAL is the server's users).
  const auto users = server::UserDirectory(s.data.string()).list();
  EXPECT_EQ(entries.size(), users.size());
  bool found = false;
  for (const auto& e : entries)
    if (e.email_address == other) {
      found = true;
      EXPECT_EQ(e.display_name, "Carol Directory");
      EXPECT_EQ(e.address_type, "SMTP");
      EXPECT_EQ(OneOffEntryId::parse(e.entry_id).email_address, other);
    }
  EXPECT_TRUE(found);
  // A word of the display name, and the local part of the address (the server's ANR rule).
  EXPECT_EQ(ab.resolve_name("Directory").email_address, other);
  EXPECT_EQ(ab.resolve_name("carol.gal").email_address, other);
  EXPECT_EQ(ab.resolve_name("carol.gal").container, "Global Address List");
  // Nobody: an address becomes a one-off, a name is not found.
  EXPECT_EQ(ab.resolve_name("x@elsewhere.org").container, "");
  EXPECT_EQ(code_of([&] { ab.resolve_name("Nobody Atall"); }), ErrorCode::MAPI_E_NOT_FOUND);
}

// Notifications come from any door: a message the server's store gets without the provider
// (here written into the server's mailbox file, as delivery does) is NewMail and ObjectCreated;
// a move through the provider names the old and the new message; a delete is ObjectDeleted.
TEST(RemoteProvider, NotificationsFollowTheServersStoreFromAnyDoor) {
  RemoteServer& s = remote_server();
  ASSERT_TRUE(s.up) << s.why;
  const std::string user = s.add_user();
  auto remote = Logon::open(mapi::open_remote_mailbox(s.options(user)), LogonIdentity{user});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Notification> got;
  remote->advise(fnev::All & ~fnev::TableModified, AdviseScope::store(), [&](const Notification& n) {
    std::lock_guard lk(mu);
    got.push_back(n);
    cv.notify_all();
  });
  auto wait_for = [&](uint32_t event) {
    std::unique_lock lk(mu);
    cv.wait_for(lk, std::chrono::seconds(30), [&] {
      return std::any_of(got.begin(), got.end(), [&](const Notification& n) { return n.event == event; });
    });
    for (const auto& n : got)
      if (n.event == event) return n;
    ADD_FAILURE() << "no " << event_name(event) << " came";
    return Notification{};
  };
  auto local = open_sqlite_mailbox(store::mailbox_file(s.data.string(), server::UserDirectory(s.data.string()).find(user)->mailbox));
  openmapi::Message delivered;
  delivered.props.set(PropValue::string(tags::PidTagSubject, "delivered"));
  delivered.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  const FolderId inbox = local->special_folder(SpecialFolder::Inbox);
  const MessageId id = local->save_message(inbox, delivered);
  const Notification mail = wait_for(fnev::NewMail);
  EXPECT_EQ(mail.change.id, id);
  EXPECT_EQ(mail.change.parent, inbox);
  EXPECT_EQ(wait_for(fnev::ObjectCreated).change.id, id);

  const FolderId deleted = remote->mailbox().special_folder(SpecialFolder::DeletedItems);
  auto from = remote->open_special(SpecialFolder::Inbox);
  auto to = remote->open_special(SpecialFolder::DeletedItems);
  from->copy_messages({id}, *to, copy_flags::Move);
  const Notification moved = wait_for(fnev::ObjectMoved);
  EXPECT_EQ(moved.change.parent, deleted);
  ASSERT_TRUE(moved.change.old_id);
  EXPECT_EQ(*moved.change.old_id, id);
  ASSERT_TRUE(moved.change.old_parent);
  EXPECT_EQ(*moved.change.old_parent, inbox);
  const MessageId now = MessageId(moved.change.id);
  EXPECT_EQ(remote->open_message(now)->get_prop(tags::PidTagSubject)->get<std::string>(), "delivered");
  to->delete_messages({now}, true);
  const Notification gone = wait_for(fnev::ObjectDeleted);
  EXPECT_EQ(gone.change.id, now);
  EXPECT_EQ(gone.change.parent, deleted);
  // In the order they happened (NewMail and ObjectCreated are one change).
  std::lock_guard lk(mu);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LE(got[i - 1].change.change_number, got[i].change.change_number);
}
