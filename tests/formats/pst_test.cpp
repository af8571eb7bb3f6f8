// PST reader tests: the MS-PST sample header, block encodings, the corpus against pffexport and
// readpst, and damaged copies of the corpus.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "formats/pst/ltp.h"
#include "formats/pst/ndb.h"

using namespace openmapi;
using namespace openmapi::pst;
namespace fs = std::filesystem;

namespace {

const fs::path kShared = OPENMAPI_SHARED_DIR;

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<fs::path> corpus() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(kShared / "corpus/pst"))
    if (e.path().extension() == ".pst") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// MS-PST 3.2 sample header, as /work/shared/spec-vectors/README.md lists its fields.
TEST(PstHeader, SpecSampleHeader) {
  Bytes b = read_file(kShared / "spec-vectors/pst/sample_unicode_header.bin");
  ASSERT_EQ(b.size(), 564u);
  Header h = parse_header(b);
  EXPECT_EQ(h.crc_partial, 0x379AA90Eu);
  EXPECT_EQ(h.crc_partial_computed, 0x379AA90Eu);
  EXPECT_EQ(h.crc_full, 0x1FD283D6u);
  EXPECT_EQ(h.crc_full_computed, 0x1FD283D6u);
  EXPECT_TRUE(h.unicode);
  EXPECT_EQ(h.magic_client, 0x4D53);
  EXPECT_EQ(h.ver, 23);
  EXPECT_EQ(h.ver_client, 19);
  EXPECT_EQ(h.platform_create, 1);
  EXPECT_EQ(h.platform_access, 1);
  EXPECT_EQ(h.reserved1, 0x75Cu);
  EXPECT_EQ(h.reserved2, 0x0B997BD0u);
  EXPECT_EQ(h.bid_unused, 0x100000004u);
  EXPECT_EQ(h.bid_next_p, 0x254u);
  EXPECT_EQ(h.unique, 0x45u);
  EXPECT_EQ(h.file_eof, 0x9F2400u);
  EXPECT_EQ(h.amap_last, 0x9B4400u);
  EXPECT_EQ(h.amap_free, 0x12F240u);
  EXPECT_EQ(h.pmap_free, 0u);
  EXPECT_EQ(h.nbt.bid, 0x24Bu);
  EXPECT_EQ(h.nbt.ib, 0x905200u);
  EXPECT_EQ(h.bbt.bid, 0x253u);
  EXPECT_EQ(h.bbt.ib, 0x900A00u);
  EXPECT_EQ(h.amap_valid, 2);
  EXPECT_EQ(h.sentinel, 0x80);
  EXPECT_EQ(h.crypt_method, 1);
  EXPECT_EQ(h.bid_next_b, 0x1434u);

  // A flipped byte inside the CRC'd range shows as a mismatch, not an exception.
  b[100] ^= 0xFF;
  Header bad = parse_header(b);
  EXPECT_FALSE(bad.crc_partial_ok());
  EXPECT_FALSE(bad.crc_full_ok());
}

TEST(PstHeader, RejectsNonPstAndUnsupported) {
  Bytes b = read_file(kShared / "spec-vectors/pst/sample_unicode_header.bin");
  Bytes wrong = b;
  wrong[0] = 'X';
  EXPECT_THROW(parse_header(wrong), MapiError);
  Bytes four_k = b;
  four_k[10] = 36;
  try {
    parse_header(four_k);
    FAIL() << "wVer 36 accepted";
  } catch (const MapiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::MAPI_E_NO_SUPPORT);
  }
  EXPECT_THROW(parse_header(ByteView(b).first(100)), MapiError);
}

TEST(PstCrypt, TablesAndRoundTrips) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = uint8_t(i);
  Bytes p = all;
  encode_permute(p);
  std::set<uint8_t> distinct(p.begin(), p.end());
  EXPECT_EQ(distinct.size(), 256u);  // mpbbR is a permutation
  EXPECT_EQ(p[0], 0x41);              // MS-PST 5.1 mpbbR starts 0x41, 0x36, 0x13
  EXPECT_EQ(p[1], 0x36);
  decode_permute(p);
  EXPECT_EQ(p, all);
  for (uint32_t key : {0u, 0x12345678u, 0xFFFFFFFFu, 0x254u}) {
    Bytes c(1000);
    for (size_t i = 0; i < c.size(); ++i) c[i] = uint8_t(i * 7);
    Bytes orig = c;
    encode_cyclic(c, key);
    EXPECT_NE(c, orig);
    decode_cyclic(c, key);
    EXPECT_EQ(c, orig) << key;  // holds only if mpbbS is an involution, as MS-PST 5.2 needs
  }
  // MS-PST 5.3 CRC of the empty string is the initial value.
  EXPECT_EQ(crc32({}), 0u);
}

TEST(PstNdb, CorpusFilesOpenWithoutProblems) {
  for (const auto& path : corpus()) {
    SCOPED_TRACE(path.filename().string());
    Ndb ndb(ByteSource::file(path.string()));
    EXPECT_TRUE(ndb.header().crc_partial_ok());
    EXPECT_TRUE(ndb.header().crc_full_ok());
    EXPECT_EQ(ndb.header().crypt_method, 1);  // pffinfo: "compressible"
    for (uint32_t nid : {0x21u, 0x61u, 0x122u}) {
      auto n = ndb.find_node(nid);
      ASSERT_TRUE(n) << nid;
      auto blocks = ndb.read_data_blocks(n->bid_data);
      ASSERT_FALSE(blocks.empty());
      ASSERT_GE(blocks[0].size(), 4u);
      EXPECT_EQ(blocks[0][2], 0xEC);  // HNHDR bSig after decoding
    }
    size_t nodes = 0;
    ndb.for_each_node([&](const NodeEntry&) { return ++nodes, true; });
    EXPECT_GT(nodes, 10u);
    EXPECT_TRUE(ndb.problems().empty()) << ndb.problems().front().what;
  }
}

namespace {
LtpNode node_of(Ndb& ndb, uint32_t nid) {
  auto n = ndb.find_node(nid);
  if (!n) throw MapiError(ErrorCode::MAPI_E_NOT_FOUND, "node");
  return load_node(ndb, n->bid_data, n->bid_sub);
}
}  // namespace

TEST(PstLtp, StoreRootFolderAndHierarchyTable) {
  for (const auto& path : corpus()) {
    SCOPED_TRACE(path.filename().string());
    Ndb ndb(ByteSource::file(path.string()));
    Ltp ltp(ndb);
    PropertyBag store = ltp.read_pc(node_of(ndb, 0x21));
    auto record_key = store.find(tags::PidTagRecordKey);
    ASSERT_TRUE(record_key);
    EXPECT_EQ(record_key->get<Bytes>().size(), 16u);
    ASSERT_TRUE(store.find(tags::PidTagIpmSubtreeEntryId));
    EXPECT_TRUE(store.get_string(tags::PidTagDisplayName));

    PropertyBag root = ltp.read_pc(node_of(ndb, 0x122));
    EXPECT_TRUE(root.has(tags::PidTagSubfolders));
    // The root's hierarchy table (MS-PST 2.4.4.4: NID_ROOT_FOLDER | NID_TYPE_HIERARCHY_TABLE).
    Ltp::Table h = ltp.read_tc(node_of(ndb, 0x12D));
    EXPECT_FALSE(h.rows.empty());
    EXPECT_EQ(h.rows.size(), h.row_ids.size());
    bool top = false;
    for (size_t i = 0; i < h.rows.size(); ++i) {
      auto name = h.rows[i].get_string(tags::PidTagDisplayName);
      ASSERT_TRUE(name);
      if (*name == "Top of Personal Folders" || *name == "Top of Outlook data file") top = true;
      EXPECT_TRUE(type_of(h.row_ids[i]) == nid_type::NormalFolder || type_of(h.row_ids[i]) == nid_type::SearchFolder);
    }
    EXPECT_TRUE(top);
    EXPECT_TRUE(ndb.problems().empty()) << ndb.problems().front().what;
  }
}

TEST(PstLtp, DecodeValueTypes) {
  Bytes s16 = {'H', 0, 'i', 0};
  EXPECT_EQ(decode_value(PropTag(0x0037, PropType::String), s16, 0)->get<std::string>(), "Hi");
  Bytes s8 = {'A', 0xE9};
  auto v = decode_value(PropTag(0x0037, PropType::String8), s8, 1252);
  EXPECT_EQ(v->type(), PropType::String);
  EXPECT_EQ(v->get<std::string>(), "A\xc3\xa9");
  Bytes mv = {2, 0, 0, 0, 12, 0, 0, 0, 14, 0, 0, 0, 'a', 0, 'b', 0};
  auto m = decode_value(PropTag(0x8000, PropType::MultipleString), mv, 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->get<std::vector<std::string>>(), (std::vector<std::string>{"a", "b"}));
  Bytes badmv = {9, 0, 0, 0, 12, 0};
  EXPECT_FALSE(decode_value(PropTag(0x8000, PropType::MultipleString), badmv, 0));
  Bytes i64 = {1, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(decode_value(PropTag(0x0E08, PropType::Integer64), i64, 0)->get<int64_t>(), 1);
  EXPECT_FALSE(decode_value(PropTag(0x0E08, PropType::Integer64), ByteView(i64).first(3), 0));
}
