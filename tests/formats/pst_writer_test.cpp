// PST writer tests: files written by PstWriter read back by our reader (every property), by
// pffinfo / pffexport (pff-tools) and readpst (pst-utils), and a PST made of every corpus .msg.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "formats/msg/msg.h"
#include "formats/pst/pst.h"
#include "formats/pst/pst_writer.h"

using namespace openmapi;
using namespace openmapi::pst;
namespace fs = std::filesystem;

namespace {

const fs::path kShared = OPENMAPI_SHARED_DIR;

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("pstw_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
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
PropertyBag normal(const PropertyBag& b) {
  std::vector<PropValue> v;
  for (const auto& p : b.values()) {
    if (p.type() == PropType::Object) continue;
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
std::map<std::string, uint32_t> write_sample(const Sample& s, const fs::path& path, CryptMethod crypt) {
  PstWriterOptions o;
  o.crypt = crypt;
  PstWriter w(path.string(), o);
  std::map<std::string, uint32_t> ids;
  ids["Inbox"] = w.add_folder(w.ipm_subtree(), "Inbox", "IPF.Note");
  ids["Inbox/Sub"] = w.add_folder(ids["Inbox"], "Sub", "IPF.Note");
  ids["Archive"] = w.add_folder(w.ipm_subtree(), "Archive", "IPF.Note");
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
  EXPECT_EQ(run("pffinfo '" + (d / "s.pst").string() + "'", out), 0) << out;
  std::cerr << out;
  fs::remove_all(d);
}
