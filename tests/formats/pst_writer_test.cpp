// PST writer tests: files written by PstWriter read back by our reader (every property), by
// pffinfo / pffexport (pff-tools) and readpst (pst-utils), and a PST made of every corpus .msg.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "core/error.h"
#include "formats/msg/msg.h"
#include "formats/pst/pst.h"
#include "formats/pst/pst_writer.h"

#include "test_util.h"

using namespace openmapi;
using namespace openmapi::pst;
namespace fs = std::filesystem;

namespace {

const fs::path kShared = OPENMAPI_SHARED_DIR;

using openmapi::testing::have_tool;
using openmapi::testing::read_file;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("pstw_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Runs a command; returns its exit status and stdout+stderr.
int run(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Properties in tag order, 8-bit strings as Unicode, PtypObject values dropped (the reader turns
// the embedded message's one into Attachment::embedded).
const NamedPropertyMap* g_names = nullptr;  // when set, named ids it lacks are dropped (as the writer does)

PropertyBag normal(const PropertyBag& b) {
  std::vector<PropValue> v;
  for (const auto& p : b.values()) {
    if (p.type() == PropType::Object) continue;
    if (g_names && p.tag().id() >= 0x8000 && !g_names->find(p.tag().id())) continue;
    if (p.type() == PropType::String8)
      v.push_back(PropValue::string(p.tag().with_type(PropType::String), p.get<std::string>()));
    else if (p.type() == PropType::MultipleString8)
      v.push_back(PropValue(p.tag().with_type(PropType::MultipleString), p.storage()));
    else
      v.push_back(p);
  }
  std::sort(v.begin(), v.end(), [](const PropValue& a, const PropValue& b) { return a.tag().value < b.tag().value; });
  PropertyBag out;
  for (auto& p : v) out.set(std::move(p));
  return out;
}

Message normal(const Message& m) {
  Message out;
  out.props = normal(m.props);
  for (const auto& r : m.recipients) out.recipients.push_back(normal(r));
  for (const auto& a : m.attachments) {
    Attachment x;
    x.props = normal(a.props);
    if (a.embedded) x.embedded = std::make_unique<Message>(normal(*a.embedded));
    out.attachments.push_back(std::move(x));
  }
  return out;
}

// Reads message `id` of `f` back into the ids of `names`.
Message read_back(PstFile& f, uint32_t id, const NamedPropertyMap& names) {
  NamedPropertyMap to = names;
  return normal(msg::remap_named_properties(f.read_message(id), f.names(), to, false));
}

PropertyBag recipient(const std::string& name, const std::string& addr, int32_t type) {
  PropertyBag r;
  r.set(PropValue::string(tags::PidTagDisplayName, name));
  r.set(PropValue::string(PropTag(0x3003, PropType::String), addr));             // PidTagEmailAddress
  r.set(PropValue::string(PropTag(0x3002, PropType::String), "SMTP"));           // PidTagAddressType
  r.set(PropValue::i32(PropTag(0x0C15, PropType::Integer32), type));             // PidTagRecipientType
  r.set(PropValue::string(PropTag(0x39FE, PropType::String), addr));             // PidTagSmtpAddress
  return r;
}

Attachment file_attachment(const std::string& name, Bytes data) {
  Attachment a;
  a.props.set(PropValue::i32(tags::PidTagAttachMethod, 1));
  a.props.set(PropValue::string(tags::PidTagAttachFilename, name));
  a.props.set(PropValue::string(tags::PidTagAttachLongFilename, name));
  a.props.set(PropValue::i32(tags::PidTagAttachSize, int32_t(data.size())));
  a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, std::move(data)));
  return a;
}

Message simple_message(const std::string& subject, const std::string& body) {
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  m.props.set(PropValue::string(tags::PidTagSubject, subject));
  m.props.set(PropValue::string(PropTag(0x1000, PropType::String), body));  // PidTagBody
  m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read));
  m.props.set(PropValue::time(PropTag(0x0E06, PropType::Time), 133000000000000000LL));
  m.props.set(PropValue::string(PropTag(0x0C1A, PropType::String), "Sender Name"));  // PidTagSenderName
  return m;
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 31 + seed + (i >> 8));
  return b;
}

// The sample store: Inbox (3 messages) with a subfolder, Archive (1 message), Deleted Items empty.
struct Sample {
  NamedPropertyMap names;
  std::map<std::string, std::vector<Message>> by_folder;  // folder path -> messages
};

Sample make_sample() {
  Sample s;
  uint16_t keywords = s.names.get_or_create(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords"), true);
  uint16_t common = s.names.get_or_create(
      PropertyName::by_id(Guid::from_string("00062008-0000-0000-C000-000000000046"), 0x8514), true);
  uint16_t custom = s.names.get_or_create(
      PropertyName::by_name(Guid::from_string("12345678-1234-1234-1234-123456789abc"), "X-Custom"), true);

  Message a = simple_message("Hello world", "First body");
  a.recipients.push_back(recipient("Alice", "alice@example.com", 1));
  a.recipients.push_back(recipient("Bob", "bob@example.com", 2));
  a.props.set(PropValue(PropTag(keywords, PropType::MultipleString), std::vector<std::string>{"red", "blue"}));
  a.props.set(PropValue::boolean(PropTag(common, PropType::Boolean), true));
  a.props.set(PropValue::string(PropTag(custom, PropType::String), "custom value"));
  a.attachments.push_back(file_attachment("small.txt", Bytes{'h', 'i', '\n'}));
  a.attachments.push_back(file_attachment("big.bin", pattern(20000, 7)));  // > 8 KB: an XBLOCK

  Message b = simple_message("Grüße aus Köln – 日本語 ✓", std::string(5000, 'x'));  // body in a subnode
  b.recipients.push_back(recipient("Jürgen Ünïcode", "j@example.com", 1));
  Attachment emb;
  emb.props.set(PropValue::i32(tags::PidTagAttachMethod, 5));
  emb.props.set(PropValue::string(tags::PidTagDisplayName, "Forwarded"));
  emb.embedded = std::make_unique<Message>(simple_message("Inner message", "inner body"));
  emb.embedded->recipients.push_back(recipient("Carol", "carol@example.com", 1));
  emb.embedded->attachments.push_back(file_attachment("inner.txt", Bytes{'i', 'n'}));
  b.attachments.push_back(std::move(emb));

  Message c = simple_message("Third", "");
  c.props.set(PropValue::i32(tags::PidTagMessageFlags, 0));
  c.props.set(PropValue::i64(PropTag(0x6700, PropType::Integer64), 1234567890123LL));
  c.props.set(PropValue::f64(PropTag(0x6701, PropType::Floating64), 2.5));
  c.props.set(PropValue::binary(PropTag(0x6702, PropType::Binary), pattern(5000, 3)));

  s.by_folder["Inbox"] = {a, b, c};
  s.by_folder["Inbox/Sub"] = {simple_message("In the subfolder", "sub")};
  s.by_folder["Archive"] = {simple_message("Archived", "old")};
  return s;
}

// Writes the sample; returns folder path -> NID.
std::map<std::string, uint32_t> write_sample(const Sample& s, const fs::path& path, CryptMethod crypt,
                                             bool four_k = false) {
  PstWriterOptions o;
  o.crypt = crypt;
  o.four_k = four_k;
  PstWriter w(path.string(), o);
  std::map<std::string, uint32_t> ids;
  ids["Inbox"] = w.add_folder(w.ipm_subtree(), "Inbox", "IPF.Note");
  ids["Inbox/Sub"] = w.add_folder(ids["Inbox"], "Sub", "IPF.Note");
  ids["Archive"] = w.add_folder(w.ipm_subtree(), "Archive", "IPF.Note");
  for (const auto& [folder, msgs] : s.by_folder)  // any other folder goes under the IPM subtree
    if (!ids.count(folder)) ids[folder] = w.add_folder(w.ipm_subtree(), folder, "IPF.Note");
  for (const auto& [folder, msgs] : s.by_folder)
    for (const auto& m : msgs) w.add_message(ids.at(folder), m, s.names);
  w.finish();
  return ids;
}

}  // namespace

TEST(PstWriter, EmptyStoreReadsBack) {
  fs::path d = temp_dir("empty");
  {
    PstWriter w((d / "empty.pst").string());
    w.finish();
  }
  PstFile f = PstFile::open((d / "empty.pst").string());
  EXPECT_TRUE(f.header().crc_partial_ok());
  EXPECT_TRUE(f.header().crc_full_ok());
  EXPECT_EQ(f.info().display_name, "Personal Folders");
  ASSERT_EQ(f.ipm_subtree(), 0x8022u);
  EXPECT_EQ(f.folder_name(f.ipm_subtree()), "Top of Personal Folders");
  auto top = f.subfolders(f.ipm_subtree());
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(f.folder_name(top[0]), "Deleted Items");
  EXPECT_TRUE(f.problems().empty()) << f.problems()[0].what;
  fs::remove_all(d);
}

class PstWriterSample : public ::testing::TestWithParam<CryptMethod> {};

TEST_P(PstWriterSample, ReadsBackEqual) {
  fs::path d = temp_dir("sample");
  Sample s = make_sample();
  auto ids = write_sample(s, d / "s.pst", GetParam());
  PstFile f = PstFile::open((d / "s.pst").string());
  EXPECT_EQ(f.info().crypt, GetParam());
  // The folder tree.
  std::vector<std::string> top;
  for (uint32_t c : f.subfolders(f.ipm_subtree())) top.push_back(f.folder_name(c));
  EXPECT_EQ(top, (std::vector<std::string>{"Deleted Items", "Inbox", "Archive"}));
  auto sub = f.subfolders(ids["Inbox"]);
  ASSERT_EQ(sub.size(), 1u);
  EXPECT_EQ(f.folder_name(sub[0]), "Sub");
  EXPECT_EQ(f.folder_properties(ids["Inbox"]).get_string(PropTag(0x3613, PropType::String)), "IPF.Note");
  // Every message, every property.
  for (const auto& [folder, msgs] : s.by_folder) {
    auto ms = f.messages(ids.at(folder));
    ASSERT_EQ(ms.size(), msgs.size()) << folder;
    EXPECT_EQ(f.folder_properties(ids.at(folder)).get_i32(PropTag(0x3602, PropType::Integer32)),
              int32_t(msgs.size()));
    for (size_t i = 0; i < ms.size(); ++i) {
      Message got = read_back(f, ms[i], s.names);
      Message want = normal(msgs[i]);
      EXPECT_EQ(got.props, want.props) << folder << " #" << i;
      EXPECT_EQ(got.recipients, want.recipients) << folder << " #" << i;
      ASSERT_EQ(got.attachments.size(), want.attachments.size());
      for (size_t k = 0; k < got.attachments.size(); ++k) EXPECT_TRUE(got.attachments[k] == want.attachments[k]);
      EXPECT_TRUE(got == want) << folder << " #" << i;
    }
  }
  EXPECT_TRUE(f.problems().empty()) << f.problems()[0].what;
  fs::remove_all(d);
}

INSTANTIATE_TEST_SUITE_P(Crypt, PstWriterSample, ::testing::Values(CryptMethod::None, CryptMethod::Permute));

TEST(PstWriter, PffinfoAccepts) {
  if (!have_tool("pffinfo")) GTEST_SKIP() << "pffinfo not installed";
  fs::path d = temp_dir("pffinfo");
  Sample s = make_sample();
  write_sample(s, d / "s.pst", CryptMethod::Permute);
  std::string out;
  ASSERT_EQ(run("pffinfo '" + (d / "s.pst").string() + "'", out), 0) << out;
  EXPECT_NE(out.find("64-bit"), std::string::npos) << out;
  EXPECT_NE(out.find("Encryption type:\tcompressible"), std::string::npos) << out;  // NDB_CRYPT_PERMUTE
  EXPECT_NE(out.find("Folders:\t\tSubtree, Wastbox, Finder"), std::string::npos) << out;  // the store's entry IDs
  EXPECT_EQ(out.find("rror"), std::string::npos) << out;
  fs::remove_all(d);
}

namespace {

std::string slurp(const fs::path& p) {
  Bytes b = read_file(p);
  return std::string(b.begin(), b.end());
}

// The value of the first "Subject:" header line of a file (pffexport's OutlookHeaders.txt uses tabs;
// readpst writes RFC 2047 "=?utf-8?B?...?=" for non-ASCII subjects).
std::string b64(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::vector<std::string> subject_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Subject:", 0) != 0) continue;
    std::string v = line.substr(8);
    v.erase(0, v.find_first_not_of(" \t"));
    while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
    if (v.rfind("=?utf-8?B?", 0) == 0 && v.size() > 12) v = b64(v.substr(10, v.size() - 12));
    out.push_back(v);
  }
  return out;
}

std::string subject_of(const Message& m) { return m.props.get_string(tags::PidTagSubject).value_or(""); }

}  // namespace

// pffexport: the same folders, messages per folder (numbered in NID order), subjects, attachment
// names, sizes and bytes, and the embedded message.
void check_pffexport(const Sample& s, const fs::path& d, const fs::path& file) {
  std::string out;
  ASSERT_EQ(run("pffexport -q -t '" + (d / "x").string() + "' '" + file.string() + "'", out), 0) << out;
  fs::path top = d / "x.export" / "Top of Personal Folders";
  EXPECT_TRUE(fs::is_directory(top / "Deleted Items"));
  for (const auto& [folder, msgs] : s.by_folder) {
    fs::path dir = top / folder;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    // pffexport numbers a folder's messages in its own traversal order (NID order for small
    // folders, not for large ones): messages are matched by their (unique) subjects.
    std::map<std::string, fs::path> exported;
    for (auto& e : fs::directory_iterator(dir)) {
      if (e.path().filename().string().rfind("Message", 0) != 0) continue;
      auto subjects = subject_lines(slurp(e.path() / "OutlookHeaders.txt"));
      ASSERT_FALSE(subjects.empty()) << e.path();
      EXPECT_TRUE(exported.emplace(subjects[0], e.path()).second) << "twice: " << subjects[0];
    }
    EXPECT_EQ(exported.size(), msgs.size()) << folder;
    for (size_t i = 0; i < msgs.size(); ++i) {
      auto found = exported.find(subject_of(msgs[i]));
      ASSERT_NE(found, exported.end()) << folder << ": " << subject_of(msgs[i]);
      fs::path md = found->second;
      size_t k = 0;
      for (const auto& a : msgs[i].attachments) {
        ++k;
        if (a.embedded) {
          fs::path em = md / "Attachments" / ("Attachment0000" + std::to_string(k)) / "Message00001";
          auto inner = subject_lines(slurp(em / "OutlookHeaders.txt"));
          ASSERT_FALSE(inner.empty()) << em;
          EXPECT_EQ(inner[0], subject_of(*a.embedded));
          continue;
        }
        fs::path af = md / "Attachments" / (std::to_string(k) + "_" + *a.props.get_string(tags::PidTagAttachLongFilename));
        ASSERT_TRUE(fs::exists(af)) << af;
        EXPECT_EQ(read_file(af), a.props.find(tags::PidTagAttachDataBinary)->get<Bytes>()) << af;
      }
    }
  }
}

TEST(PstWriter, PffexportAgrees) {
  if (!have_tool("pffexport")) GTEST_SKIP() << "pffexport not installed";
  fs::path d = temp_dir("pffexport");
  Sample s = make_sample();
  write_sample(s, d / "s.pst", CryptMethod::Permute);
  check_pffexport(s, d, d / "s.pst");
  fs::remove_all(d);
}

// readpst -S: one file per message (embedded messages inline), attachments beside them as
// "<n>-<name>"; "Processing Folder" lines name every folder.
void check_readpst(const Sample& s, const fs::path& d, const fs::path& file) {
  fs::create_directories(d / "out");
  std::string out;
  ASSERT_EQ(run("readpst -j 0 -S -o '" + (d / "out").string() + "' '" + file.string() + "'", out), 0) << out;
  for (const char* f : {"Deleted Items", "Inbox", "Archive", "Sub"})
    EXPECT_NE(out.find("Processing Folder \"" + std::string(f) + "\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"Archive\" - 1 items done, 0 items skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("\"Sub\" - 1 items done, 0 items skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("\"Inbox\" - 4 items done, 0 items skipped"), std::string::npos) << out;  // 3 + a folder
  fs::path root = d / "out" / "Personal Folders";
  for (const auto& [folder, msgs] : s.by_folder) {
    for (size_t i = 0; i < msgs.size(); ++i) {
      fs::path mf = root / folder / std::to_string(i + 1);
      ASSERT_TRUE(fs::exists(mf)) << mf;
      auto subjects = subject_lines(slurp(mf));
      ASSERT_FALSE(subjects.empty()) << mf;
      EXPECT_EQ(subjects[0], subject_of(msgs[i])) << mf;
      for (const auto& a : msgs[i].attachments) {
        if (a.embedded) {
          EXPECT_NE(std::find(subjects.begin(), subjects.end(), subject_of(*a.embedded)), subjects.end());
          continue;
        }
        fs::path af = root / folder / (std::to_string(i + 1) + "-" + *a.props.get_string(tags::PidTagAttachLongFilename));
        ASSERT_TRUE(fs::exists(af)) << af;
        EXPECT_EQ(fs::file_size(af), a.props.find(tags::PidTagAttachDataBinary)->get<Bytes>().size()) << af;
      }
    }
  }
}

TEST(PstWriter, ReadpstAgrees) {
  if (!have_tool("readpst")) GTEST_SKIP() << "readpst not installed";
  fs::path d = temp_dir("readpst");
  Sample s = make_sample();
  write_sample(s, d / "s.pst", CryptMethod::Permute);
  check_readpst(s, d, d / "s.pst");
  fs::remove_all(d);
}

// Every corpus .msg into one PST (a folder per ten messages), read back equal; pffinfo and readpst
// accept the file and readpst finds every message.
TEST(PstWriter, CorpusMsgRoundTrip) {
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(kShared / "corpus" / "msg"))
    if (e.path().extension() == ".msg") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  fs::path d = temp_dir("corpus");
  struct Written {
    std::string file;
    uint32_t folder, nid;
    msg::MsgFile m;
  };
  std::vector<Written> written;
  {
    PstWriter w((d / "c.pst").string());
    uint32_t folder = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      msg::MsgFile m;
      try {
        m = msg::read_msg(read_file(files[i]));
      } catch (const MapiError&) {
        continue;  // not a readable .msg (the corpus has a few broken ones); the msg tests cover those
      }
      if (written.size() % 10 == 0) folder = w.add_folder(w.ipm_subtree(), "Corpus " + std::to_string(i / 10), "IPF.Note");
      uint32_t nid = w.add_message(folder, m.message, m.names);
      written.push_back({files[i].filename().string(), folder, nid, std::move(m)});
    }
    w.finish();
  }
  ASSERT_GT(written.size(), 40u);
  PstFile f = PstFile::open((d / "c.pst").string());
  for (const auto& wm : written) {
    auto ids = f.messages(wm.folder);
    ASSERT_NE(std::find(ids.begin(), ids.end(), wm.nid), ids.end()) << wm.file;
    Message got = read_back(f, wm.nid, wm.m.names);
    g_names = &wm.m.names;
    Message want = normal(wm.m.message);
    g_names = nullptr;
    EXPECT_EQ(got.props, want.props) << wm.file;
    EXPECT_TRUE(got == want) << wm.file;
  }
  EXPECT_TRUE(f.problems().empty()) << f.problems()[0].what;
  std::string out;
  if (have_tool("pffinfo")) EXPECT_EQ(run("pffinfo '" + (d / "c.pst").string() + "'", out), 0) << out;
  if (have_tool("readpst")) {
    fs::create_directories(d / "rp");
    EXPECT_EQ(run("readpst -j 0 -o '" + (d / "rp").string() + "' '" + (d / "c.pst").string() + "'", out), 0) << out;
    // readpst counts each item either done or skipped (it skips item kinds it does not export,
    // e.g. some non-note classes): every message must be accounted for, and only non-notes skipped.
    size_t done = 0, skipped = 0;
    for (size_t at = 0; (at = out.find(" items done, ", at)) != std::string::npos; ++at) {
      size_t start = out.rfind(" - ", at);
      done += std::stoul(out.substr(start + 3, at - start - 3));
      skipped += std::stoul(out.substr(at + 13));
    }
    size_t folders = (written.size() + 9) / 10;
    size_t not_notes = 0;
    for (const auto& wm : written)
      if (wm.m.message.props.get_string(tags::PidTagMessageClass).value_or("IPM.Note") != "IPM.Note") ++not_notes;
    EXPECT_EQ(done + skipped, written.size() + folders + 1) << out;  // + the folders counted in their parents
    EXPECT_LE(skipped, not_notes) << out;
  }
  fs::remove_all(d);
}

// --- the 4K-page layout (wVer 36, Outlook 2013+ OST) -------------------------------------------
// MS-PST does not describe it; libpff does (and reads it since 2013, from real Outlook files), so
// pffinfo/pffexport reading what we write is the independent check of both our writer and reader.

namespace {

// The sample plus a folder of 300 messages, so that both B-trees need more than one 4 KiB leaf.
Sample make_sample_4k() {
  Sample s = make_sample();
  for (int i = 0; i < 300; ++i)
    s.by_folder["Bulk"].push_back(simple_message("Bulk message " + std::to_string(i), std::string(100 + i, 'b')));
  return s;
}

}  // namespace

TEST(PstWriter4K, ReadsBackEqual) {
  fs::path d = temp_dir("4k");
  Sample s = make_sample_4k();
  auto ids = write_sample(s, d / "s.ost", CryptMethod::None, true);
  PstFile f = PstFile::open((d / "s.ost").string());
  EXPECT_EQ(f.header().ver, 36);
  EXPECT_TRUE(f.header().is_ost());
  EXPECT_TRUE(f.header().crc_partial_ok());
  EXPECT_TRUE(f.header().crc_full_ok());
  for (const auto& [folder, msgs] : s.by_folder) {
    auto ms = f.messages(ids.at(folder));
    ASSERT_EQ(ms.size(), msgs.size()) << folder;
    for (size_t i = 0; i < ms.size(); ++i) {
      Message got = read_back(f, ms[i], s.names);
      Message want = normal(msgs[i]);
      EXPECT_EQ(got.props, want.props) << folder << " #" << i;
      EXPECT_TRUE(got == want) << folder << " #" << i;
    }
  }
  EXPECT_TRUE(f.problems().empty()) << f.problems()[0].what;
  // Blocks really are stored deflated: some node's stored size is below its data's.
  Ndb ndb(ByteSource::file((d / "s.ost").string()));
  size_t deflated = 0, nodes = 0;
  ndb.for_each_node([&](const NodeEntry& n) {
    if (n.bid_data == 0 || (n.bid_data & 2)) return true;
    ++nodes;
    auto e = ndb.find_block(n.bid_data);
    auto data = ndb.read_block(n.bid_data);
    if (e && data && e->cb < data->size()) ++deflated;
    return true;
  });
  EXPECT_GT(nodes, 300u);
  EXPECT_GT(deflated, nodes / 2);
  EXPECT_TRUE(ndb.problems().empty());
  fs::remove_all(d);
}

TEST(PstWriter4K, PffinfoAndPffexportAgree) {
  if (!have_tool("pffexport")) GTEST_SKIP() << "pffexport not installed";
  fs::path d = temp_dir("4k_pff");
  Sample s = make_sample_4k();
  write_sample(s, d / "s.ost", CryptMethod::None, true);
  std::string out;
  ASSERT_EQ(run("pffinfo '" + (d / "s.ost").string() + "'", out), 0) << out;
  EXPECT_NE(out.find("Offline Storage Tables (OST)"), std::string::npos) << out;
  EXPECT_NE(out.find("64-bit with 4k page"), std::string::npos) << out;
  EXPECT_EQ(out.find("rror"), std::string::npos) << out;
  check_pffexport(s, d, d / "s.ost");
  fs::remove_all(d);
}

// libpst reads the 4K layout too (the inflated size from the BBT entry rather than the trailer).
TEST(PstWriter4K, ReadpstAgrees) {
  if (!have_tool("readpst")) GTEST_SKIP() << "readpst not installed";
  fs::path d = temp_dir("4k_readpst");
  Sample s = make_sample();
  write_sample(s, d / "s.ost", CryptMethod::None, true);
  check_readpst(s, d, d / "s.ost");
  fs::remove_all(d);
}

// Truncated and damaged 4K files (flipped bytes in deflated blocks, a wrong inflated size) are read
// as far as they go: problems are reported, nothing crashes.
TEST(PstWriter4K, DamagedCopiesReportProblems) {
  fs::path d = temp_dir("4k_damaged");
  Sample s = make_sample();
  write_sample(s, d / "s.ost", CryptMethod::None, true);
  Bytes whole = read_file(d / "s.ost");
  size_t used = whole.size();
  while (used > 0 && whole[used - 1] == 0) --used;
  ASSERT_GT(used, size_t(0x23000));
  auto read_all = [](PstFile& f) {
    size_t messages = 0;
    std::function<void(uint32_t, int)> walk = [&](uint32_t folder, int depth) {
      if (depth > 8) return;
      for (uint32_t id : f.messages(folder)) {
        try {
          (void)f.read_message(id);
          ++messages;
        } catch (const MapiError&) {
        }
      }
      for (uint32_t c : f.subfolders(folder)) walk(c, depth + 1);
    };
    walk(f.root_folder(), 0);
    return messages;
  };
  for (size_t len : {size_t(600), size_t(0x22000), used / 2, used - 700}) {
    SCOPED_TRACE(len);
    PstFile f = PstFile::from_bytes(Bytes(whole.begin(), whole.begin() + ptrdiff_t(len)));
    read_all(f);
    EXPECT_FALSE(f.problems().empty());
  }
  uint32_t seed = 4242;
  auto next = [&] { return seed = seed * 1103515245u + 12345u; };
  size_t damaged = 0;
  for (int round = 0; round < 16; ++round) {
    Bytes bad = whole;
    size_t base = 0x23000 + next() % (used - 0x23000 - 4096);
    for (int k = 0; k < 8; ++k) bad[base + next() % 4096] ^= uint8_t(1 + next() % 255);
    try {
      PstFile f = PstFile::from_bytes(std::move(bad));
      read_all(f);
      damaged += !f.problems().empty();
    } catch (const MapiError&) {
      ++damaged;
    }
  }
  EXPECT_GT(damaged, 8u);
  // A block's trailer claiming more inflated bytes than its data holds: CRC-valid, so only the
  // inflation can notice.
  Ndb ndb(ByteSource::memory(whole));
  auto store = ndb.find_node(0x21);  // NID_MESSAGE_STORE
  ASSERT_TRUE(store);
  auto e = ndb.find_block(store->bid_data);
  ASSERT_TRUE(e);
  ASSERT_LT(e->cb, e->inflated) << "the store's PC is expected to be deflated";
  Bytes lie = whole;
  size_t trailer = size_t(e->bref.ib) + (e->cb + 24 + 511) / 512 * 512 - 24;
  lie[trailer + 18] = uint8_t(e->inflated + 1);
  lie[trailer + 19] = uint8_t((e->inflated + 1) >> 8);
  Ndb liar(ByteSource::memory(lie));
  EXPECT_FALSE(liar.read_block(store->bid_data));
  ASSERT_FALSE(liar.problems().empty());
  EXPECT_NE(liar.problems()[0].what.find("does not inflate"), std::string::npos) << liar.problems()[0].what;
  fs::remove_all(d);
}

TEST(PstWriter4K, RefusesEncoding) {
  fs::path d = temp_dir("4k_crypt");
  PstWriterOptions o;
  o.four_k = true;  // crypt stays Permute
  try {
    PstWriter w((d / "x.ost").string(), o);
    FAIL() << "accepted";
  } catch (const MapiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::MAPI_E_NO_SUPPORT);
  }
  fs::remove_all(d);
}
