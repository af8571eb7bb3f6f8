// A PST past the first 128 allocation-map ranges (about 31 MB), where MS-PST puts the first FMap
// page: written by PstWriter, read back by our reader and opened by pffinfo, pffexport and readpst.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

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
  EXPECT_EQ(std::system(("readpst -q -o '" + (dir / "readpst").string() + "' '" + file.string() + "' >/dev/null 2>&1").c_str()), 0);
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
