// A PST file browsed through the mailbox interface: folders, tables, messages; read-only.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/entryid.h"
#include "core/restriction.h"
#include "store/pst/pst_mailbox.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::code_of;
namespace fs = std::filesystem;

namespace {
const fs::path kPst = fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "pst";
}

TEST(PstMailbox, FoldersTablesAndMessagesLikeAMailbox) {
  auto mb = open_pst_mailbox((kPst / "dist-list.pst").string());
  // Default folders found through the PST's published entry IDs (pffexport's tree names them).
  EXPECT_EQ(*mb->folder_properties(mb->special_folder(SpecialFolder::Calendar)).get_string(tags::PidTagDisplayName), "Calendar");
  EXPECT_EQ(*mb->folder_properties(mb->special_folder(SpecialFolder::JunkEmail)).get_string(tags::PidTagDisplayName), "Junk E-mail");
  EXPECT_EQ(*mb->folder_properties(mb->special_folder(SpecialFolder::DeletedItems)).get_string(tags::PidTagDisplayName),
            "Deleted Items");
  FolderId contacts = mb->folder_by_path("contacts");
  EXPECT_EQ(contacts, mb->special_folder(SpecialFolder::Contacts));
  EXPECT_EQ(*mb->parent_folder(contacts), mb->special_folder(SpecialFolder::IpmSubtree));
  // A contents table: sorted, restricted, with store-computed ids.
  auto t = mb->contents_table(contacts);
  t->set_columns({tags::PidTagSubject, tags::PidTagMessageClass, tags::PidTagMid});
  t->sort({{{tags::PidTagSubject, SortDirection::Ascending}}, 0, 0});
  auto rows = t->query_rows(10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].get<std::string>(), "contact name 1");
  EXPECT_EQ(rows[1][1].get<std::string>(), "IPM.DistList");
  t->restrict(parse_restriction_text("class == \"IPM.Contact\""));
  EXPECT_EQ(t->row_count(), 1u);
  MessageId id = ObjectId::from_u64(uint64_t(rows[0][2].get<int64_t>())).gc;
  EXPECT_EQ(mb->message_folder(id), contacts);
  EXPECT_EQ(mb->load_message(id).props.get_string(tags::PidTagSubject), "contact name 1");
  // The hierarchy below the IPM subtree, as pffexport lists it.
  auto h = mb->hierarchy_table(mb->special_folder(SpecialFolder::IpmSubtree), tableflag::Depth);
  EXPECT_EQ(h->row_count(), 12u);
  // Read-only.
  EXPECT_EQ(code_of([&] { mb->create_folder(contacts, "x", "IPF.Note"); }), ErrorCode::MAPI_E_NO_ACCESS);
  EXPECT_EQ(code_of([&] { mb->delete_messages({id}, DeleteMode::Hard); }), ErrorCode::MAPI_E_NO_ACCESS);
  EXPECT_EQ(code_of([&] { mb->save_message(contacts, Message()); }), ErrorCode::MAPI_E_NO_ACCESS);
  EXPECT_EQ(code_of([&] { mb->load_message(12345); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(code_of([&] { open_pst_mailbox((kPst / "missing.pst").string()); }), ErrorCode::MAPI_E_NOT_FOUND);
}
