// The Extended MAPI object model (store/objects.h): what MS-OXCPRPT, MS-OXCMSG and MS-OXCFOLD
// specify, through a Logon. The read part runs against every provider (the SQLite store and a
// PST file holding the same messages); the rest against the writable ones.
#include "test_util.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/entryid.h"
#include "store/objects.h"
#include "store/pst/pst_mailbox.h"
#include "store/sqlite/db.h"
#include "objects_suite.h"
#include "store_fixture.h"

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::code_of;
using openmapi::testing::simple_message;
using openmapi::testing::TempDir;
using namespace openmapi::objects_suite;
namespace fs = std::filesystem;

namespace {

const fs::path kPst = fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "pst";

// ---- the provider-independent read suite ------------------------------------------------
// Each provider holds the messages of the corpus PST sample1.pst: the PST itself, and a SQLite
// mailbox the messages were copied into. The same checks run on both.
struct Provider {
  std::string name;
  std::string pst;  // the corpus file whose messages the provider holds
  bool writable;
};

// Every folder of a store, the root first.
std::vector<FolderId> all_folders(Mailbox& mb) {
  std::vector<FolderId> out{mb.special_folder(SpecialFolder::Root)};
  auto t = mb.hierarchy_table(out[0], tableflag::Depth);
  t->set_columns({tags::PidTagFolderId});
  for (auto& r : t->query_rows(10000)) out.push_back(FolderId(ObjectId::from_u64(uint64_t(r[0].get<int64_t>())).gc));
  return out;
}

std::shared_ptr<Mailbox> open_provider(const Provider& p, TempDir& dir) {
  std::shared_ptr<Mailbox> pst = open_pst_mailbox((kPst / p.pst).string());
  if (!p.writable) return pst;
  std::shared_ptr<Mailbox> mb = create_sqlite_mailbox(dir.file("copy.sqlite"), {"Copy", "copy@example.com", 0});
  for (FolderId f : all_folders(*pst)) {
    auto t = pst->contents_table(f);
    t->set_columns({tags::PidTagMid});
    for (auto& r : t->query_rows(1000)) {
      openmapi::Message m = pst->load_message(mid_of(r, 0), true);
      // Named properties are the PST's ids: leave them out (this copy is for the read suite).
      auto strip = [](PropertyBag& b) {
        std::vector<PropTag> named;
        for (const auto& v : b.values())
          if (v.tag().id() >= 0x8000) named.push_back(v.tag());
        for (PropTag t : named) b.erase(t);
      };
      strip(m.props);
      for (auto& rc : m.recipients) strip(rc);
      for (auto& a : m.attachments) {
        strip(a.props);
        a.embedded.reset();
        if (a.props.get_i32(tags::PidTagAttachMethod) == attach_method::EmbeddedMessage) a.props.erase(tags::PidTagAttachMethod);
      }
      mb->save_message(mb->special_folder(SpecialFolder::Inbox), m);
    }
  }
  return mb;
}

class ProviderRead : public ::testing::TestWithParam<Provider> {
 protected:
  void SetUp() override {
    mb = open_provider(GetParam(), dir);
    logon = Logon::open(mb, LogonIdentity{"copy@example.com"});  // the copy's owner; a PST file has none
  }
  TempDir dir;
  std::shared_ptr<Mailbox> mb;
  std::shared_ptr<Logon> logon;
};

}  // namespace

TEST_P(ProviderRead, MessagesReadThroughObjectsAsTheyAreStored) {
  std::vector<MessageId> ids;
  for (FolderId f : all_folders(*mb)) {
    auto more = message_ids(*logon->open_folder(f));
    ids.insert(ids.end(), more.begin(), more.end());
  }
  ASSERT_FALSE(ids.empty());
  for (MessageId id : ids) {
    openmapi::Message stored = mb->load_message(id, true);
    auto m = logon->open_message(id);
    EXPECT_EQ(m->object_type(), ObjectType::Message);
    // GetProps with PtypUnspecified gives every stored value with its stored type.
    for (const auto& v : stored.props.values()) {
      if (v.type() == PropType::ErrorCode || v.type() == PropType::Object) continue;
      PropsResult r = m->get_props({PropTag(v.tag().id(), PropType::Unspecified)});
      ASSERT_EQ(r.values.size(), 1u);
      if (v.size() > kGetPropsLimit) {
        EXPECT_EQ(r.values[0].type(), PropType::ErrorCode);
        continue;
      }
      EXPECT_EQ(r.values[0], v) << v.tag().hex();
      // ...and streams read the same bytes.
      if (v.type() == PropType::Binary || v.type() == PropType::String) {
        auto s = m->open_property(v.tag());
        Bytes got = s->read_all();
        Bytes want = v.type() == PropType::Binary ? v.get<Bytes>() : Bytes(v.get<std::string>().begin(), v.get<std::string>().end());
        EXPECT_EQ(got, want) << v.tag().hex();
        EXPECT_EQ(s->size(), want.size());
      }
    }
    EXPECT_EQ(m->recipients().size(), stored.recipients.size());
    EXPECT_EQ(m->attachments().size(), stored.attachments.size());
    for (size_t i = 0; i < stored.attachments.size(); ++i) {
      const auto& a = stored.attachments[i];
      auto att = m->open_attach(uint32_t(a.props.get_i32(tags::PidTagAttachNumber).value_or(int32_t(i))));
      if (const PropValue* data = a.props.find(tags::PidTagAttachDataBinary)) {
        auto s = att->open_property(tags::PidTagAttachDataBinary);
        EXPECT_EQ(s->read_all(), data->get<Bytes>());
      }
    }
    // A missing property: PtypErrorCode MAPI_E_NOT_FOUND and MAPI_W_ERRORS_RETURNED.
    PropsResult missing = m->get_props({tags::PidTagSubject, PropTag(0x7FF0, PropType::Integer32)});
    EXPECT_EQ(missing.status, ErrorCode::MAPI_W_ERRORS_RETURNED);
    EXPECT_EQ(missing.values[1].tag(), PropTag(0x7FF0, PropType::ErrorCode));
    EXPECT_EQ(ErrorCode(uint32_t(missing.values[1].get<int32_t>())), ErrorCode::MAPI_E_NOT_FOUND);
    // The entry ID opens the same message.
    auto eid = m->get_prop(tags::PidTagEntryId);
    if (eid) {
      auto again = logon->open_entry(eid->get<Bytes>());
      ASSERT_TRUE(again.message);
      EXPECT_EQ(again.message->id(), id);
    }
  }
}

TEST_P(ProviderRead, WritesNeedAWritableProvider) {
  std::shared_ptr<Folder> inbox;
  std::vector<MessageId> ids;
  for (FolderId f : all_folders(*mb)) {
    inbox = logon->open_folder(f);
    ids = message_ids(*inbox);
    if (!ids.empty()) break;
  }
  ASSERT_FALSE(ids.empty());
  auto m = logon->open_message(ids[0], true);
  EXPECT_TRUE(m->set_props({PropValue::string(tags::PidTagSubject, "changed")}).empty());
  ErrorCode save = code_of([&] { m->save_changes(); });
  ErrorCode create = code_of([&] { inbox->create_folder("New"); });
  if (GetParam().writable) {
    EXPECT_EQ(save, ErrorCode::Success);
    EXPECT_EQ(create, ErrorCode::Success);
  } else {
    EXPECT_EQ(save, ErrorCode::MAPI_E_NO_ACCESS);
    EXPECT_EQ(create, ErrorCode::MAPI_E_NO_ACCESS);
    EXPECT_EQ(code_of([&] { inbox->delete_messages({ids[0]}, true); }), ErrorCode::MAPI_E_NO_ACCESS);
  }
}

INSTANTIATE_TEST_SUITE_P(Providers, ProviderRead,
                         ::testing::Values(Provider{"sqlite_dist_list", "dist-list.pst", true}, Provider{"pst_dist_list", "dist-list.pst", false},
                                           Provider{"sqlite_sample1", "sample1.pst", true}, Provider{"pst_sample1", "sample1.pst", false},
                                           Provider{"sqlite_unicode", "test_unicode.pst", true},
                                           Provider{"pst_unicode", "test_unicode.pst", false}),
                         [](const auto& info) { return info.param.name; });

// ---- the writable store: tests/store/objects_suite.h, here on the local SQLite store -------
namespace openmapi::objects_suite {
std::shared_ptr<Mailbox> objects_mailbox(const std::string& provider, TempDir& dir, bool fresh, std::string& owner) {
  owner = "Test@Example.com";
  if (fresh) return create_sqlite_mailbox(dir.file("mb.sqlite"), {"Test User", "test@example.com", 0});
  return open_sqlite_mailbox(dir.file("mb.sqlite"));
}
}  // namespace openmapi::objects_suite

INSTANTIATE_TEST_SUITE_P(Local, Objects, ::testing::Values(std::string("sqlite")), [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Local, LiveObjects, ::testing::Values(std::string("sqlite")), [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Local, LiveTables, ::testing::Values(std::string("sqlite")), [](const auto& info) { return info.param; });
