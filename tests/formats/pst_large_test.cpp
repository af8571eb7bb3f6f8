// A PST past the first 128 allocation-map ranges (about 31 MB), where MS-PST puts the first FMap
// page: written by PstWriter, read back by our reader and opened by pffinfo, pffexport and readpst.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "formats/pst/pst.h"
#include "formats/pst/pst_writer.h"
#include "test_util.h"

using namespace openmapi;
namespace fs = std::filesystem;

namespace {

Bytes pattern(size_t n, uint32_t seed) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : b) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = uint8_t(x);
  }
  return b;
}


}  // namespace

TEST(PstLarge, PastTheFirstFMapRange) {
  const fs::path dir = fs::temp_directory_path() / ("openmapi-pst-large-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "large.pst";
  constexpr int kMessages = 10;
  constexpr size_t kAttachment = 4 * 1024 * 1024;
  {
    pst::PstWriter w(file.string());
    pst::FolderId inbox = w.add_folder(w.ipm_subtree(), "Inbox", "IPF.Note");
    NamedPropertyMap names;
    for (int i = 0; i < kMessages; ++i) {
      Message m;
      m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
      m.props.set(PropValue::string(tags::PidTagSubject, "large " + std::to_string(i)));
      m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read));  // readpst skips items without e-mail properties
      Attachment a;
      a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
      a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "blob" + std::to_string(i) + ".bin"));
      a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, pattern(kAttachment, uint32_t(i))));
      m.attachments.push_back(std::move(a));
      w.add_message(inbox, m, names);
    }
    w.finish();
  }
  ASSERT_GT(fs::file_size(file), 0x1F04800u + 512);
  // MS-PST 2.2.2.7.4: the first FMap page sits at 0x1F04800 (range 128, after its AMap and PMap).
  {
    std::ifstream in(file, std::ios::binary);
    in.seekg(0x1F04800 + 496);
    char ptype[2];
    in.read(ptype, 2);
    EXPECT_EQ(uint8_t(ptype[0]), 0x82);
    EXPECT_EQ(uint8_t(ptype[1]), 0x82);
  }
  // Our reader: every message and attachment byte back.
  pst::PstFile f = pst::PstFile::open(file.string());
  uint32_t inbox = 0;
  for (uint32_t c : f.subfolders(f.ipm_subtree()))
    if (f.folder_name(c) == "Inbox") inbox = c;
  auto ids = f.messages(inbox);
  ASSERT_EQ(ids.size(), size_t(kMessages));
  for (uint32_t id : ids) {
    Message m = f.read_message(id);
    ASSERT_EQ(m.attachments.size(), 1u);
    int i = std::stoi(m.props.get_string(tags::PidTagSubject)->substr(6));
    EXPECT_TRUE(m.attachments[0].props.find(tags::PidTagAttachDataBinary)->get<Bytes>() == pattern(kAttachment, uint32_t(i))) << i;
  }
  EXPECT_TRUE(f.problems().empty());
  // The peers.
  if (!openmapi::testing::have_tool("pffinfo") || !openmapi::testing::have_tool("readpst") || !openmapi::testing::have_tool("pffexport")) GTEST_SKIP() << "pff-tools / pst-utils missing (scripts/install-deps)";
  EXPECT_EQ(std::system(("pffinfo '" + file.string() + "' >/dev/null 2>&1").c_str()), 0);
  fs::create_directories(dir / "readpst");
  int status = -1;
  std::string out = openmapi::testing::run_command("readpst -j 0 -o '" + (dir / "readpst").string() + "' '" + file.string() + "' 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"Inbox\" - " + std::to_string(kMessages) + " items done, 0 items skipped"), std::string::npos) << out;
  EXPECT_EQ(std::system(("cd '" + dir.string() + "' && pffexport -q -t out '" + file.string() + "' >/dev/null 2>&1").c_str()), 0);
  size_t blobs = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "out.export"))
    if (e.is_regular_file() && e.path().filename().string().find("blob") != std::string::npos) {  // "1_blob0.bin"
      EXPECT_EQ(fs::file_size(e.path()), kAttachment) << e.path();
      ++blobs;
    }
  EXPECT_EQ(blobs, size_t(kMessages));
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

// A PST past 2 GB: MS-PST's first FPMap page is due in AMap range 8192 (the header's rgbFP covers
// the ranges before it). About 2.1 GB of filler messages (a large binary property each, which the
// peers do not export to files), then a last message beyond the 2^31 byte offset: read back by our
// reader, pffexport and readpst. Needs ~2.2 GB of free disk; skipped (with a message) without it.
TEST(PstLarge, PastTwoGigabytes) {
  const fs::path dir = fs::temp_directory_path() / ("openmapi-pst-2g-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  if (fs::space(dir).available < (uint64_t(5) << 30)) {
    fs::remove_all(dir);
    GTEST_SKIP() << "less than 5 GB free in " << dir.parent_path();
  }
  const fs::path file = dir / "2g.pst";
  constexpr uint64_t kFPMapRange = 8192;
  constexpr uint64_t kFPMap = 0x4400 + kFPMapRange * 253952 + 2 * 512;  // after the range's AMap and PMap
  constexpr size_t kFiller = 24 * 1024 * 1024;
  const Bytes filler = pattern(kFiller, 99);
  const Bytes tail = pattern(100000, 7);
  size_t fillers = 0;
  {
    pst::PstWriterOptions o;
    o.crypt = pst::CryptMethod::None;  // the layout is under test here, not the encoding
    pst::PstWriter w(file.string(), o);
    pst::FolderId bulk = w.add_folder(w.ipm_subtree(), "Bulk", "IPF.Note");
    pst::FolderId last = w.add_folder(w.ipm_subtree(), "Last", "IPF.Note");
    NamedPropertyMap names;
    for (; fillers * kFiller < kFPMap + (uint64_t(64) << 20); ++fillers) {
      Message m;
      m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
      m.props.set(PropValue::string(tags::PidTagSubject, "filler " + std::to_string(fillers)));
      m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read));
      m.props.set(PropValue::binary(PropTag(0x6702, PropType::Binary), filler));
      w.add_message(bulk, m, names);
    }
    Message m;
    m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
    m.props.set(PropValue::string(tags::PidTagSubject, "after two gigabytes"));
    m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read));
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "tail.bin"));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, tail));
    m.attachments.push_back(std::move(a));
    w.add_message(last, m, names);
    w.finish();
  }
  ASSERT_GT(fs::file_size(file), kFPMap + 512);
  {  // the FPMap page: its trailer says ptypeFPMap twice, and the CRC is right
    std::ifstream in(file, std::ios::binary);
    in.seekg(std::streamoff(kFPMap));
    Bytes page(512);
    in.read(reinterpret_cast<char*>(page.data()), 512);
    EXPECT_EQ(page[496], 0x85);
    EXPECT_EQ(page[497], 0x85);
    uint32_t crc = uint32_t(page[500]) | uint32_t(page[501]) << 8 | uint32_t(page[502]) << 16 | uint32_t(page[503]) << 24;
    EXPECT_EQ(crc, pst::crc32(ByteView(page).first(496)));
  }
  pst::PstFile f = pst::PstFile::open(file.string());
  std::map<std::string, uint32_t> folders;
  for (uint32_t c : f.subfolders(f.ipm_subtree())) folders[f.folder_name(c)] = c;
  EXPECT_EQ(f.messages(folders["Bulk"]).size(), fillers);
  auto last = f.messages(folders["Last"]);
  ASSERT_EQ(last.size(), 1u);
  Message m = f.read_message(last[0]);
  EXPECT_EQ(m.props.get_string(tags::PidTagSubject), "after two gigabytes");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_TRUE(m.attachments[0].props.find(tags::PidTagAttachDataBinary)->get<Bytes>() == tail);
  Message first = f.read_message(f.messages(folders["Bulk"]).front());
  EXPECT_TRUE(first.props.find(PropTag(0x6702, PropType::Binary))->get<Bytes>() == filler);
  EXPECT_TRUE(f.problems().empty());

  if (!openmapi::testing::have_tool("pffexport") || !openmapi::testing::have_tool("readpst"))
    GTEST_SKIP() << "pff-tools / pst-utils missing (scripts/install-deps)";
  EXPECT_EQ(std::system(("pffinfo '" + file.string() + "' >/dev/null 2>&1").c_str()), 0);
  EXPECT_EQ(std::system(("cd '" + dir.string() + "' && pffexport -q -t out '" + file.string() + "' >/dev/null 2>&1").c_str()), 0);
  fs::path exported = dir / "out.export" / "Top of Personal Folders" / "Last" / "Message00001" / "Attachments" / "1_tail.bin";
  ASSERT_TRUE(fs::exists(exported)) << exported;
  EXPECT_TRUE(openmapi::testing::read_file(exported) == tail);
  fs::create_directories(dir / "readpst");
  int status = -1;
  std::string out = openmapi::testing::run_command("readpst -j 0 -o '" + (dir / "readpst").string() + "' '" + file.string() + "' 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"Last\" - 1 items done, 0 items skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("\"Bulk\" - " + std::to_string(fillers) + " items done, 0 items skipped"), std::string::npos) << out;
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}
