// PST reader tests: the MS-PST sample header, block encodings, the corpus against pffexport and
// readpst, and damaged copies of the corpus.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "formats/pst/ltp.h"
#include "formats/pst/ndb.h"
#include "formats/pst/pst.h"

#include "test_util.h"

using namespace openmapi;
using namespace openmapi::pst;
namespace fs = std::filesystem;

namespace {

const fs::path kShared = OPENMAPI_SHARED_DIR;

using openmapi::testing::read_file;

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
  four_k[10] = 36;  // the 4K-page layout shares the Unicode header
  Header h = parse_header(four_k);
  EXPECT_TRUE(h.unicode);
  EXPECT_TRUE(h.four_k());
  EXPECT_EQ(h.page_size(), 4096u);
  EXPECT_EQ(h.bbt.ib, 0x900A00u);
  Bytes future = b;
  future[10] = 37;
  try {
    parse_header(future);
    FAIL() << "wVer 37 accepted";
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

// --- messaging layer against pffexport (libpff) ---------------------------------------------------

namespace {

// One pffexport item directory (Message00001, Contact00002, ...): its folder, 1-based position in
// the folder's contents table, and what it holds.
struct PeerItem {
  std::string folder;
  int position = 0;
  std::string dir;                                   // path relative to px.export
  std::map<int, std::pair<std::string, uint64_t>> files;  // attachment number -> (name, size)
  std::set<int> embedded;                            // attachment numbers holding a message
};

bool is_item_name(const std::string& n, int& pos) {
  size_t d = n.size();
  while (d > 0 && std::isdigit(static_cast<unsigned char>(n[d - 1]))) --d;
  if (n.size() - d != 5 || d == 0) return false;
  for (size_t i = 0; i < d; ++i)
    if (!std::isalpha(static_cast<unsigned char>(n[i]))) return false;
  pos = std::stoi(n.substr(d));
  return true;
}

struct PeerTree {
  std::set<std::string> folders;
  std::map<std::string, PeerItem> items;  // by dir
  std::map<std::string, int> counts;      // folder -> items
};

// Parses a pffexport-tree.tsv (type, path, size), keeping px.export only.
PeerTree parse_peer_tree(const fs::path& tsv) {
  PeerTree t;
  std::ifstream in(tsv);
  std::string line;
  const std::string prefix = "px.export/";
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string type, path, size;
    std::getline(ls, type, '\t');
    std::getline(ls, path, '\t');
    std::getline(ls, size, '\t');
    if (path.rfind(prefix, 0) != 0) continue;
    path = path.substr(prefix.size());
    // Split into components and find the first item component.
    std::vector<std::string> parts;
    std::stringstream ps(path);
    for (std::string c; std::getline(ps, c, '/');) parts.push_back(c);
    size_t item_at = parts.size();
    int pos = 0;
    for (size_t i = 0; i < parts.size(); ++i)
      if (is_item_name(parts[i], pos)) {
        item_at = i;
        break;
      }
    auto join = [&](size_t n) {
      std::string out;
      for (size_t i = 0; i < n; ++i) out += (i ? "/" : "") + parts[i];
      return out;
    };
    if (item_at == parts.size()) {
      if (type == "d") t.folders.insert(path);
      continue;
    }
    is_item_name(parts[item_at], pos);
    std::string dir = join(item_at + 1);
    PeerItem& item = t.items[dir];
    if (item.dir.empty()) {
      item.dir = dir;
      item.folder = join(item_at);
      item.position = pos;
      t.counts[item.folder]++;
    }
    // <item>/Attachments/<n>_<name> (file) or <item>/Attachments/Attachment<n> (embedded message)
    if (parts.size() == item_at + 3 && parts[item_at + 1] == "Attachments") {
      const std::string& leaf = parts[item_at + 2];
      int n = 0;
      if (type == "f") {
        size_t us = leaf.find('_');
        if (us != std::string::npos && us > 0) {
          n = std::stoi(leaf.substr(0, us));
          item.files[n] = {leaf.substr(us + 1), std::stoull(size)};
        }
      } else if (is_item_name(leaf, n)) {
        item.embedded.insert(n);
      }
    }
  }
  return t;
}

// Our folder tree below the root folder, by path of display names.
void walk(PstFile& f, uint32_t folder, const std::string& path, std::map<std::string, uint32_t>& out, int depth) {
  ASSERT_LT(depth, 32);
  for (uint32_t child : f.subfolders(folder)) {
    std::string p = (path.empty() ? "" : path + "/") + f.folder_name(child);
    out[p] = child;
    walk(f, child, p, out, depth + 1);
  }
}

std::map<std::string, std::string> read_fields(const fs::path& txt) {
  std::map<std::string, std::string> out;
  std::ifstream in(txt);
  std::string line;
  while (std::getline(in, line)) {
    size_t c = line.find(':');
    if (c == std::string::npos) continue;
    size_t v = line.find_first_not_of('\t', c + 1);
    if (!out.count(line.substr(0, c))) out[line.substr(0, c)] = v == std::string::npos ? "" : line.substr(v);
  }
  return out;
}

// pffexport 20180714 skips these item types ("Skipped item 1 out of 1 of type: IPM.Post.").
bool skipped_by_pffexport(const std::string& cls) {
  return cls.rfind("IPM.Post", 0) == 0 || cls.rfind("IPM.Microsoft.ScheduleData.FreeBusy", 0) == 0;
}

// pffexport numbers the items it can read in NID order (the contents table's row id order).
std::vector<uint32_t> readable_in_nid_order(PstFile& f, uint32_t folder) {
  std::vector<uint32_t> out;
  for (uint32_t id : f.messages(folder)) {
    try {
      Message m = f.read_message(id);
      if (!skipped_by_pffexport(m.props.get_string(tags::PidTagMessageClass).value_or(""))) out.push_back(id);
    } catch (const MapiError&) {
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}


}  // namespace

TEST(PstMessaging, CorpusMatchesPffexportTree) {
  for (const auto& path : corpus()) {
    const std::string name = path.filename().string();
    SCOPED_TRACE(name);
    PstFile f = PstFile::open(path.string());
    PeerTree peer = parse_peer_tree(kShared / "corpus/expected/pst" / (name + ".pffexport-tree.tsv"));
    std::map<std::string, uint32_t> ours;
    walk(f, f.root_folder(), "", ours, 0);
    std::set<std::string> our_names;
    for (const auto& [p, nid] : ours) our_names.insert(p);
    EXPECT_EQ(our_names, peer.folders);

    // The IPM subtree is one of the root's children.
    ASSERT_NE(f.ipm_subtree(), 0u);
    std::string top = f.folder_name(f.ipm_subtree());
    EXPECT_TRUE(peer.folders.count(top)) << top;

    std::vector<std::string> skipped;
    // pffexport exports the messages it can read; rows of the contents table whose message node is
    // gone (readpst reports those as "skipped") are not exported.
    for (const auto& [p, nid] : ours) {
      if (type_of(nid) != nid_type::NormalFolder) continue;
      auto ids = f.messages(nid);
      int readable = 0;
      for (uint32_t id : ids) {
        try {
          Message m = f.read_message(id);
          std::string cls = m.props.get_string(tags::PidTagMessageClass).value_or("");
          if (skipped_by_pffexport(cls)) {
            skipped.push_back(cls);
            continue;
          }
          ++readable;
        } catch (const MapiError& e) {
          EXPECT_EQ(e.code(), ErrorCode::MAPI_E_NOT_FOUND) << e.what();
        }
      }
      int expected = peer.counts.count(p) ? peer.counts.at(p) : 0;
      EXPECT_EQ(readable, expected) << p;
    }
    // Its log names each item type it skipped: the same items.
    std::vector<std::string> logged;
    std::ifstream log(kShared / "corpus/expected/pst" / (name + ".pffexport.log"));
    for (std::string line; std::getline(log, line);)
      if (size_t at = line.find(" of type: "); line.rfind("Skipped item", 0) == 0 && at != std::string::npos)
        logged.push_back(line.substr(at + 10, line.size() - at - 11));
    std::sort(skipped.begin(), skipped.end());
    std::sort(logged.begin(), logged.end());
    EXPECT_EQ(skipped, logged);

    for (const auto& [dir, item] : peer.items) {
      SCOPED_TRACE(dir);
      ASSERT_TRUE(ours.count(item.folder));
      auto ids = readable_in_nid_order(f, ours.at(item.folder));
      ASSERT_LE(size_t(item.position), ids.size());
      Message m = f.read_message(ids[item.position - 1]);
      for (const auto& [n, file] : item.files) {
        ASSERT_LE(size_t(n), m.attachments.size());
        const Attachment& a = m.attachments[n - 1];
        EXPECT_EQ(attachment_name(a), file.first);
        auto data = a.props.find(tags::PidTagAttachDataBinary);
        ASSERT_TRUE(data);
        EXPECT_EQ(data->get<Bytes>().size(), file.second);
      }
      for (int n : item.embedded) {
        ASSERT_LE(size_t(n), m.attachments.size());
        EXPECT_TRUE(m.attachments[n - 1].embedded) << n;
      }
    }
    EXPECT_TRUE(f.names().size() > 0);
  }
}

namespace {

// The value of the first line of `text` that starts with `key` (e.g. "Subject: ", "SUMMARY:"), with
// an RFC 2047 UTF-8 B-encoded value decoded and vCard's "\," unescaped.
std::string field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    std::string v = line.substr(key.size());
    while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
    if (v.rfind("=?utf-8?B?", 0) == 0 && v.size() > 12) {
      std::string b = v.substr(10, v.size() - 12), out;
      uint32_t acc = 0;
      int bits = 0;
      for (char c : b) {
        const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char* at = std::strchr(a, c);
        if (!at || !c) continue;
        acc = (acc << 6) | uint32_t(at - a);
        bits += 6;
        if (bits >= 8) out += char((acc >> (bits -= 8)) & 0xFF);
      }
      v = out;
    }
    std::string un;
    for (size_t i = 0; i < v.size(); ++i) un += (v[i] == '\\' && i + 1 < v.size() && v[i + 1] == ',') ? v[++i] : v[i];
    return un;
  }
  return {};
}

}  // namespace

// readpst (libpst) run on each corpus file with -e (one file per item it exports; -j 0: one process,
// as its default of 4 children per CPU loses files now and then): its folders and
// per-folder item counts, and the subject / summary / name of every file it writes, against our
// reader. readpst finds a folder's items through the node B-tree's parent links and counts
// subfolders and associated (FAI) messages as items too; it prints no line for an empty folder.
TEST(PstMessaging, CorpusMatchesReadpst) {
  if (!openmapi::testing::have_tool("readpst")) GTEST_SKIP() << "readpst not installed";
  fs::path tmp = fs::temp_directory_path() / ("pst_readpst_" + std::to_string(::getpid()));
  for (const auto& path : corpus()) {
    const std::string name = path.filename().string();
    SCOPED_TRACE(name);
    fs::path out = tmp / name;
    fs::create_directories(out);
    int status = -1;
    std::string log = openmapi::testing::run_command("readpst -j 0 -e -o '" + out.string() + "' '" + path.string() + "' 2>&1", &status);
    ASSERT_EQ(status, 0) << log;
    // Its summary lines: the same as recorded with the corpus (same peer version and behaviour).
    auto summaries = [](std::istream& in) {
      std::vector<std::string> v;
      for (std::string line; std::getline(in, line);)
        if (line.find(" items done, ") != std::string::npos) v.push_back(line);
      return v;
    };
    std::istringstream live(log);
    std::ifstream recorded(kShared / "corpus/expected/pst" / (name + ".readpst.log"));
    auto lines = summaries(live), expected = summaries(recorded);
    std::sort(lines.begin(), lines.end());  // readpst's folder order varies from run to run
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(lines, expected);
    std::map<std::string, std::pair<size_t, size_t>> counts;  // folder name -> done, skipped
    for (const auto& line : lines) {
      size_t q1 = line.find('"'), q2 = line.find('"', q1 + 1);
      size_t done = std::stoul(line.substr(q2 + 4));
      size_t skipped = std::stoul(line.substr(line.find(" items done, ") + 13));
      EXPECT_TRUE(counts.emplace(line.substr(q1 + 1, q2 - q1 - 1), std::make_pair(done, skipped)).second) << line;
    }

    PstFile f = PstFile::open(path.string());
    // readpst names the IPM subtree after the store.
    std::map<std::string, uint32_t> folders;  // readpst's path -> NID
    std::function<void(uint32_t, const std::string&)> walk = [&](uint32_t nid, const std::string& p) {
      folders[p] = nid;
      for (uint32_t c : f.subfolders(nid)) walk(c, p + "/" + f.folder_name(c));
    };
    const std::string top = f.info().display_name;
    walk(f.ipm_subtree(), top);
    size_t with_items = 0;
    for (const auto& [p, nid] : folders) {
      size_t subfolders = f.subfolders(nid).size(), normal = f.messages(nid).size(), fai = f.messages(nid, true).size();
      size_t total = subfolders + normal + fai;
      std::string leaf = p.substr(p.rfind('/') + 1);
      if (total == 0) continue;
      ++with_items;
      ASSERT_TRUE(counts.count(leaf)) << p << " holds " << total << " items\n" << log;
      EXPECT_EQ(counts[leaf].first + counts[leaf].second, total) << p;
      EXPECT_GE(counts[leaf].first, subfolders) << p;
      // Every file readpst wrote for this folder names one of its messages.
      // (a contact's vCard FN is its PidLidFileUnder)
      std::set<std::string> facts;
      auto file_under = f.names().find(PropertyName::by_id(propset::PSETID_Address, 0x8005));
      for (uint32_t id : f.messages(nid)) {
        Message m = f.read_message(id);
        for (PropTag t : {tags::PidTagSubject, tags::PidTagDisplayName})
          if (auto v = m.props.get_string(t)) facts.insert(*v);
        if (file_under)
          if (auto v = m.props.get_string(PropTag(*file_under, PropType::String))) facts.insert(*v);
      }
      size_t files = 0;
      if (fs::is_directory(out / p))
        for (auto& e : fs::directory_iterator(out / p)) {
          if (!e.is_regular_file()) continue;
          ++files;
          Bytes b = read_file(e.path());
          std::string text(b.begin(), b.end()), ext = e.path().extension().string(), fact;
          if (ext == ".eml") fact = field(text, "Subject: ");
          else if (ext == ".ics") fact = field(text, "SUMMARY:");
          else if (ext == ".vcf") fact = field(text, "FN:");
          EXPECT_TRUE(facts.count(fact)) << e.path() << ": '" << fact << "'";
        }
      EXPECT_EQ(files, counts[leaf].first - subfolders) << p;
    }
    EXPECT_EQ(with_items, counts.size()) << log;
  }
  fs::remove_all(tmp);
}

// Runs pffexport (libpff) on each corpus file and compares the facts it prints per item.
TEST(PstMessaging, CorpusMatchesPffexportRun) {
  if (std::system("command -v pffexport >/dev/null 2>&1") != 0) GTEST_SKIP() << "pffexport not installed";
  fs::path tmp = fs::temp_directory_path() / ("pst_test_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  for (const auto& path : corpus()) {
    const std::string name = path.filename().string();
    SCOPED_TRACE(name);
    fs::path target = tmp / name;
    std::string cmd = "pffexport -q -m items -t '" + target.string() + "' '" + path.string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    fs::path root = target.string() + ".export";
    PstFile f = PstFile::open(path.string());
    std::map<std::string, uint32_t> ours;
    walk(f, f.root_folder(), "", ours, 0);
    size_t compared = 0;
    for (const auto& [folder, nid] : ours) {
      if (!fs::is_directory(root / folder) || type_of(nid) != nid_type::NormalFolder) continue;
      auto ids = readable_in_nid_order(f, nid);
      for (auto& e : fs::directory_iterator(root / folder)) {
        int pos = 0;
        if (!e.is_directory() || !is_item_name(e.path().filename().string(), pos)) continue;
        SCOPED_TRACE(e.path().string());
        ASSERT_LE(size_t(pos), ids.size());
        Message m = f.read_message(ids[pos - 1]);
        fs::path txt;
        for (auto& g : fs::directory_iterator(e.path()))
          if (g.path().extension() == ".txt" && g.path().filename() != "Recipients.txt" &&
              g.path().filename() != "Message.txt" && g.path().filename() != "InternetHeaders.txt" &&
              g.path().filename() != "ConversationIndex.txt")
            txt = g.path();
        ASSERT_FALSE(txt.empty());
        auto fields = read_fields(txt);
        if (fields.count("Subject")) EXPECT_EQ(m.props.get_string(tags::PidTagSubject).value_or(""), fields["Subject"]);
        if (fields.count("Size"))
          EXPECT_EQ(std::to_string(m.props.get_i32(tags::PidTagMessageSize).value_or(-1)), fields["Size"]);
        if (fields.count("Sender name") && fields["Sender name"] != "Unknown")
          EXPECT_EQ(m.props.get_string(tags::PidTagSenderName).value_or(""), fields["Sender name"]);
        if (fields.count("Flags")) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "0x%08x", uint32_t(m.props.get_i32(tags::PidTagMessageFlags).value_or(0)));
          EXPECT_EQ(fields["Flags"].substr(0, 10), buf);
        }
        fs::path recips = e.path() / "Recipients.txt";
        if (fs::exists(recips)) {
          std::vector<std::string> names;
          std::ifstream in(recips);
          for (std::string line; std::getline(in, line);)
            if (line.rfind("Display name:", 0) == 0) names.push_back(line.substr(line.find_first_not_of('\t', 13)));
          std::vector<std::string> mine;
          for (const auto& r : m.recipients) mine.push_back(r.get_string(tags::PidTagDisplayName).value_or(""));
          EXPECT_EQ(mine, names);
        }
        ++compared;
      }
    }
    EXPECT_GT(compared + (name == "test_ansi.pst" || name == "test_unicode.pst" ? 1 : 0), 0u);
  }
  fs::remove_all(tmp);
}

// --- damaged files ----------------------------------------------------------------------------------

namespace {
// Reads everything reachable; returns the number of problems reported. Only MapiError may escape
// from opening; reading folders and messages may throw MapiError per object.
size_t read_all(PstFile& f) {
  std::function<void(uint32_t, int)> walk = [&](uint32_t folder, int depth) {
    if (depth > 32) return;
    try {
      f.folder_properties(folder);
    } catch (const MapiError&) {
    }
    for (uint32_t id : f.messages(folder)) {
      try {
        f.read_message(id);
      } catch (const MapiError&) {
      }
    }
    for (uint32_t child : f.subfolders(folder)) walk(child, depth + 1);
  };
  walk(f.root_folder(), 0);
  // Search folders are noted as skipped; that is not damage.
  return size_t(std::count_if(f.problems().begin(), f.problems().end(), [](const Problem& p) {
    return p.what.find("search folder contents are not read") == std::string::npos;
  }));
}
}  // namespace

TEST(PstDamaged, TruncatedCopiesReportProblems) {
  for (const auto& path : corpus()) {
    SCOPED_TRACE(path.filename().string());
    Bytes whole = read_file(path);
    {
      PstFile f = PstFile::from_bytes(whole);
      EXPECT_EQ(read_all(f), 0u);
    }
    for (size_t len : {size_t(0), size_t(100), size_t(512), size_t(600), size_t(4096), whole.size() / 4,
                       whole.size() / 2, whole.size() - 1000}) {
      SCOPED_TRACE(len);
      Bytes cut(whole.begin(), whole.begin() + ptrdiff_t(len));
      try {
        PstFile f = PstFile::from_bytes(cut);
        size_t problems = read_all(f);
        if (len < whole.size() / 2) EXPECT_GT(problems, 0u);
      } catch (const MapiError& e) {
        EXPECT_LT(len, 600u) << e.what();  // only a missing header is fatal
      }
    }
  }
}

TEST(PstDamaged, CorruptedCopiesNeverCrash) {
  for (const auto& path : corpus()) {
    SCOPED_TRACE(path.filename().string());
    Bytes whole = read_file(path);
    uint32_t seed = 12345;
    auto next = [&] { return seed = seed * 1103515245u + 12345u; };
    for (int round = 0; round < 24; ++round) {
      Bytes bad = whole;
      // Flip bytes in one 8 KiB region past the header: pages, blocks or heap data.
      size_t base = 1024 + next() % (whole.size() - 9216);
      for (int k = 0; k < 16; ++k) bad[base + next() % 8192] ^= uint8_t(1 + next() % 255);
      try {
        PstFile f = PstFile::from_bytes(bad);
        read_all(f);
      } catch (const MapiError&) {
      }
    }
    // A B-tree page pointing at itself: the NBT root's child is the root again.
    Ndb probe(ByteSource::memory(whole));
    Bytes loop = whole;
    uint64_t ib = probe.header().nbt.ib;
    size_t meta = probe.unicode() ? 488 : 496;
    if (loop[ib + meta + 3] > 0) {
      // Intermediate root: make entry 0 point at the root itself (CRC fixed so the page is accepted).
      size_t w = probe.unicode() ? 8 : 4;
      for (size_t i = 0; i < w; ++i) {
        loop[ib + w + i] = uint8_t(probe.header().nbt.bid >> (8 * i));
        loop[ib + 2 * w + i] = uint8_t(ib >> (8 * i));
      }
      uint32_t crc = crc32(ByteView(loop).subspan(ib, probe.unicode() ? 496 : 500));
      size_t at = ib + (probe.unicode() ? 500 : 508);
      for (int i = 0; i < 4; ++i) loop[at + i] = uint8_t(crc >> (8 * i));
      Ndb looped(ByteSource::memory(loop));
      EXPECT_FALSE(looped.find_node(0x122));
      EXPECT_FALSE(looped.problems().empty());
    }
  }
}
