// The MAPI subsystem: profiles in their file, a session over a mailbox and a PST file, the
// message store table, OpenEntry across providers, and the address book over Contacts folders.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/catalog.h"
#include "core/entryid.h"
#include "mapi/session.h"
#include "store/pst/pst_mailbox.h"
#include "store/store_fixture.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::mapi;
using openmapi::testing::code_of;
using openmapi::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path kPst = fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "pst";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A contact with an e-mail address in the first slot (MS-OXOCNTC PidLidEmail1EmailAddress).
void add_contact(store::Logon& logon, const std::string& name, const std::string& address) {
  auto contacts = logon.open_special(store::SpecialFolder::Contacts);
  auto m = contacts->create_message();
  PropTag email = m->get_ids_from_names({*catalog_find("PidLidEmail1EmailAddress")->name}, true)[0];
  m->set_props({PropValue::string(tags::PidTagMessageClass, "IPM.Contact"), PropValue::string(tags::PidTagDisplayName, name),
                PropValue::string(PropTag(email.id(), PropType::String), address)});
  m->save_changes();
}

}  // namespace

TEST(Profiles, CreateListShowRemoveInOneFile) {
  TempDir dir;
  ProfileStore ps(dir.file("conf/openmapi/profiles.json"));
  EXPECT_TRUE(ps.list().empty());  // no file yet
  Profile work{"work", {{"mailbox", "alice", "/var/lib/openmapi/alice.sqlite", "Alice"}, {"pst", "old.pst", "/home/a/old.pst", "Archive"}}};
  ps.create(work);
  ps.create({"home", {{"pst", "x.pst", "/x.pst", ""}}});
  EXPECT_EQ(ps.list().size(), 2u);
  EXPECT_EQ(ps.get("work"), work);
  EXPECT_EQ(code_of([&] { ps.create(work); }), ErrorCode::MAPI_E_COLLISION);
  EXPECT_EQ(code_of([&] { ps.create({"bad name", {{"pst", "x", "/x", ""}}}); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([&] { ps.create({"empty", {}}); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([&] { ps.create({"rel", {{"pst", "x", "relative.pst", ""}}}); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  struct stat st{};
  ASSERT_EQ(::stat(ps.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // paths of a user's mail: private
  EXPECT_FALSE(fs::exists(ps.path() + ".openmapi-tmp"));
  ps.remove("home");
  EXPECT_EQ(code_of([&] { ps.get("home"); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { ps.remove("home"); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(parse_profiles(serialize_profiles(ps.list())), ps.list());
}

TEST(Profiles, AFileThatIsNotOursIsRefusedWithWhatIsWrong) {
  auto refused = [](const std::string& text, const std::string& what) {
    try {
      parse_profiles(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const MapiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::MAPI_E_CORRUPT_DATA) << text;
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refused("", "not JSON");
  refused("[1,2]", "not a JSON object");
  refused(R"({"version": 2, "profiles": []})", "version");
  refused(R"({"version": 1, "profiles": {}})", "'profiles' must be an array");
  refused(R"({"version": 1, "profiles": [{"name": 5, "services": []}]})", "'name' must be a string");
  refused(R"({"version": 1, "profiles": [{"name": "a/b", "services": []}]})", "invalid profile name");
  refused(R"({"version": 1, "profiles": [{"name": "a", "services": [{"kind": "imap", "name": "", "path": "/x", "display_name": ""}]}]})",
          "unknown kind");
  refused(R"({"version": 1, "profiles": [{"name": "a", "services": []}, {"name": "a", "services": []}]})", "used twice");
  refused(std::string(5 << 20, ' '), "larger than 4 MiB");
  refused(std::string(100000, '[') + std::string(100000, ']'), "not a JSON object");
  TempDir dir;
  write_file(dir.file("p.json"), "{ broken");
  EXPECT_EQ(code_of([&] { ProfileStore(dir.file("p.json")).list(); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

TEST(Session, StoresOfAProfileEntriesAcrossThemAndTheAddressBook) {
  TempDir dir;
  const std::string mbox = dir.file("alice.sqlite");
  {
    std::shared_ptr<store::Mailbox> mb = store::create_sqlite_mailbox(mbox, {"Alice", "alice@example.com", 0});
    auto logon = store::Logon::open(mb, {"alice@example.com"});
    add_contact(*logon, "Bob Chen", "bob@example.com");
    add_contact(*logon, "Bob Marley", "marley@example.org");
    add_contact(*logon, "Carol Diaz", "carol@example.com");
  }
  Profile p{"work", {{"mailbox", "alice", mbox, "Alice's mailbox"}, {"pst", "dist-list.pst", (kPst / "dist-list.pst").string(), "Archive"}}};
  auto s = Session::logon(p, {"alice@example.com"});
  ASSERT_EQ(s->store_count(), 2u);
  auto t = s->message_store_table();
  t->set_columns({tags::PidTagDisplayName, tags::PidTagDefaultStore, tags::PidTagProviderDisplay, tags::PidTagRecordKey});
  auto rows = t->query_rows(10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].get<std::string>(), "Alice's mailbox");
  EXPECT_TRUE(rows[0][1].get<bool>());
  EXPECT_FALSE(rows[1][1].get<bool>());
  EXPECT_EQ(rows[1][2].get<std::string>(), "pst");
  EXPECT_EQ(s->open_msg_store(rows[1][3].get<Bytes>()), s->open_msg_store(size_t(1)));
  // OpenEntry finds the store an entry ID belongs to.
  auto pst_contacts = s->open_msg_store(size_t(1))->open_special(store::SpecialFolder::Contacts);
  Bytes pst_eid = pst_contacts->get_prop(tags::PidTagEntryId)->get<Bytes>();
  auto found = s->open_entry(pst_eid);
  ASSERT_TRUE(found.folder);
  EXPECT_EQ(found.folder->id(), pst_contacts->id());
  Bytes mb_eid = s->default_store()->open_special(store::SpecialFolder::Inbox)->get_prop(tags::PidTagEntryId)->get<Bytes>();
  EXPECT_EQ(s->open_entry(mb_eid).folder->id(), s->default_store()->mailbox().special_folder(store::SpecialFolder::Inbox));
  Bytes foreign = mb_eid;
  foreign[5] ^= 0xFF;
  EXPECT_EQ(code_of([&] { s->open_entry(foreign); }), ErrorCode::MAPI_E_INVALID_ENTRYID);
  // The address book: a container per Contacts folder of every store.
  auto& ab = s->address_book();
  auto containers = ab.containers();
  ASSERT_GE(containers.size(), 2u);
  EXPECT_EQ(ab.entries(containers[0]).size(), 3u);
  AddressEntry carol = ab.resolve_name("carol");
  EXPECT_EQ(carol.email_address, "carol@example.com");
  EXPECT_EQ(carol.display_name, "Carol Diaz");
  OneOffEntryId oo = OneOffEntryId::parse(carol.entry_id);
  EXPECT_EQ(oo.email_address, "carol@example.com");
  EXPECT_EQ(ab.resolve_name("MARLEY").email_address, "marley@example.org");   // a word of the name
  EXPECT_EQ(ab.resolve_name("bob@example.com").display_name, "Bob Chen");     // an exact address
  EXPECT_EQ(code_of([&] { ab.resolve_name("bob"); }), ErrorCode::MAPI_E_AMBIGUOUS_RECIP);
  EXPECT_EQ(code_of([&] { ab.resolve_name("nobody"); }), ErrorCode::MAPI_E_NOT_FOUND);
  AddressEntry stranger = ab.resolve_name("dave@example.net");  // an address nobody knows: one-off
  EXPECT_TRUE(stranger.container.empty());
  EXPECT_EQ(OneOffEntryId::parse(stranger.entry_id).email_address, "dave@example.net");
  // A new contact shows at once (containers are read afresh).
  add_contact(*s->default_store(), "Erin Schröder", "erin@example.de");
  EXPECT_EQ(ab.resolve_name("erin").email_address, "erin@example.de");
  s->logoff();
  EXPECT_EQ(code_of([&] { pst_contacts->contents_table(); }), ErrorCode::MAPI_E_END_OF_SESSION);
  // A profile whose store file is gone.
  Profile gone{"gone", {{"mailbox", "x", dir.file("missing.sqlite"), ""}}};
  EXPECT_EQ(code_of([&] { Session::logon(gone, {"x@example.com"}); }), ErrorCode::MAPI_E_NOT_FOUND);
}
