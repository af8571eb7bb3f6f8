// The backend-independent MAPI rules (store/engine/rules.h), against the specifications' own
// statements: XIDs and PCLs are built and read here byte by byte (MS-OXCFXICS 2.2.2.2, 2.2.2.4),
// not with the serializers the rules use.
#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

#include "store/engine/rules.h"

using namespace openmapi;
using namespace openmapi::store;
using openmapi::testing::code_of;

namespace {

Guid guid_of(uint8_t fill) {
  Guid g;
  g.bytes.fill(fill);
  return g;
}

// An XID of a 6-byte LocalId: the GUID, then the counter big-endian (MS-OXCFXICS 2.2.2.2).
Bytes xid(const Guid& g, uint64_t counter) {
  Bytes b(g.bytes.begin(), g.bytes.end());
  for (int i = 5; i >= 0; --i) b.push_back(uint8_t(counter >> (8 * i)));
  return b;
}

// A PCL: each XID preceded by its size in one byte (MS-OXCFXICS 2.2.2.4, SizedXid).
Bytes pcl_of(const std::vector<Bytes>& xids) {
  Bytes out;
  for (const auto& x : xids) {
    out.push_back(uint8_t(x.size()));
    out.insert(out.end(), x.begin(), x.end());
  }
  return out;
}

std::set<Bytes> xids_in(const Bytes& pcl) {
  std::set<Bytes> out;
  for (size_t at = 0; at < pcl.size();) {
    const size_t n = pcl[at];
    EXPECT_LE(at + 1 + n, pcl.size());
    out.insert(Bytes(pcl.begin() + long(at) + 1, pcl.begin() + long(at + 1 + n)));
    at += 1 + n;
  }
  return out;
}

}  // namespace

TEST(Rules, AChangeStampsItsXidAndKeepsOneXidPerReplicaInThePcl) {
  const Guid a = guid_of(0xAA), b = guid_of(0xBB);
  // A new object: the change key is the change's XID, and the PCL holds just it.
  auto [key, pcl] = engine::change_stamp(a, 5, nullptr);
  EXPECT_EQ(key.tag(), tags::PidTagChangeKey);
  EXPECT_EQ(key.get<Bytes>(), xid(a, 5));
  EXPECT_EQ(pcl.tag(), tags::PidTagPredecessorChangeList);
  EXPECT_EQ(xids_in(pcl.get<Bytes>()), (std::set<Bytes>{xid(a, 5)}));

  // An object changed before on this replica and on another: this replica's XID is replaced by
  // the newer one, the other replica's stays.
  const PropValue old = PropValue::binary(tags::PidTagPredecessorChangeList, pcl_of({xid(b, 7), xid(a, 5)}));
  auto [key2, pcl2] = engine::change_stamp(a, 0x123456789A, &old);
  EXPECT_EQ(key2.get<Bytes>(), xid(a, 0x123456789A));
  EXPECT_EQ(xids_in(pcl2.get<Bytes>()), (std::set<Bytes>{xid(b, 7), xid(a, 0x123456789A)}));
}

TEST(Rules, DeletesMoveToDeletedItemsHideThereAndHardDeletesRemove) {
  const FolderId inbox = 10, deleted = 20;
  EXPECT_EQ(engine::delete_action(DeleteMode::Soft, inbox, deleted), engine::DeleteAction::MoveToDeletedItems);
  EXPECT_EQ(engine::delete_action(DeleteMode::Soft, deleted, deleted), engine::DeleteAction::Hide);
  EXPECT_EQ(engine::delete_action(DeleteMode::Hard, inbox, deleted), engine::DeleteAction::Remove);
  EXPECT_EQ(engine::delete_action(DeleteMode::Hard, deleted, deleted), engine::DeleteAction::Remove);
}

TEST(Rules, ReadStateSetsEverReadAndUnreadKeepsIt) {
  // MS-OXCMSG 2.2.1.6: mfRead 0x00000001, mfEverRead 0x00000400.
  EXPECT_EQ(engine::read_flags(0x0, true), 0x401);
  EXPECT_EQ(engine::read_flags(0x401 | 0x10, false), 0x400 | 0x10);
  EXPECT_EQ(engine::read_flags(0x2, false), 0x2);
}

TEST(Rules, AQuotaRefusesGrowthPastItButNeverShrinking) {
  EXPECT_EQ(code_of([] { engine::check_quota(1001, 1000, 10, 20); }), ErrorCode::MAPI_E_STORE_FULL);
  EXPECT_NO_THROW(engine::check_quota(1000, 1000, 10, 20));  // up to the quota itself
  EXPECT_NO_THROW(engine::check_quota(5000, 1000, 30, 20));  // over, but shrinking
  EXPECT_NO_THROW(engine::check_quota(5000, 0, 10, 20));     // no quota
}

TEST(Rules, TheFolderLayoutHasEveryParentBeforeItsChildren) {
  std::set<SpecialFolder> seen;
  bool inbox = false;
  for (const auto& s : engine::special_folder_layout()) {
    if (s.folder != SpecialFolder::Root) EXPECT_TRUE(seen.count(s.parent)) << int(s.folder);
    seen.insert(s.folder);
    if (s.folder == SpecialFolder::Inbox) {
      inbox = true;
      EXPECT_EQ(s.parent, SpecialFolder::IpmSubtree);
      EXPECT_STREQ(s.container_class, "IPF.Note");  // MS-OXOSFLD 2.2.1
    }
    if (s.folder == SpecialFolder::Calendar) EXPECT_STREQ(s.container_class, "IPF.Appointment");
  }
  EXPECT_TRUE(inbox);
  EXPECT_EQ(engine::special_folder_layout().front().folder, SpecialFolder::Root);
}
