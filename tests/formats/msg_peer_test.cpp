// .msg files we write, read by @kenjiuno/msgreader (npm): every corpus .msg is read, written
// again by msg::write_msg, and the peer must see in our file what it saw in the original.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "formats/msg/msg.h"

#include "test_util.h"

using namespace openmapi;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using openmapi::testing::read_file;

json peer_dump(const std::vector<fs::path>& files) {
  std::string cmd = "cd '" + std::string(OPENMAPI_SOURCE_DIR) + "/tests/peers' && node msgreader-dump.js";
  for (const auto& f : files) cmd += " '" + f.string() + "'";
  const std::string out = openmapi::testing::run_command(cmd);
  return out.empty() ? json() : json::parse(out);
}

}  // namespace

TEST(MsgPeer, MsgreaderSeesTheSameMessageInOurFiles) {
  const fs::path corpus = fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "msg";
  const fs::path out = fs::temp_directory_path() / ("openmapi-msgpeer-" + std::to_string(::getpid()));
  fs::create_directories(out);
  std::vector<fs::path> originals, ours;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (e.path().extension() != ".msg") continue;
    msg::MsgFile f;
    try {
      f = msg::read_msg(read_file(e.path()));
    } catch (const MapiError&) {
      continue;  // the damaged files tests/formats/msg_test.cpp covers
    }
    Bytes written = msg::write_msg(f.message, f.names);
    fs::path p = out / ("ours-" + e.path().filename().string());
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(written.data()), std::streamsize(written.size()));
    originals.push_back(e.path());
    ours.push_back(p);
  }
  json a = peer_dump(originals), b = peer_dump(ours);
  if (a.is_null() || b.is_null()) {
    fs::remove_all(out);
    GTEST_SKIP() << "the msgreader peer did not run (scripts/install-peers installs it)";
  }
  size_t compared = 0;
  for (size_t i = 0; i < originals.size(); ++i) {
    SCOPED_TRACE(originals[i].filename().string());
    const json& x = a[originals[i].filename().string()];
    const json& y = b[ours[i].filename().string()];
    ASSERT_FALSE(y.contains("error")) << y.dump();
    if (x.contains("error")) continue;
    // 8-bit strings in ANSI originals are written as Unicode by us; the peer decodes the
    // original's with its own guess (see EXPECTED.md), so subjects are compared where ASCII.
    std::string subject = x["subject"].is_string() ? x["subject"].get<std::string>() : "";
    if (std::all_of(subject.begin(), subject.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
      EXPECT_EQ(y["subject"], x["subject"]);
    EXPECT_EQ(y["messageClass"], x["messageClass"]);
    EXPECT_EQ(y["recipients"].size(), x["recipients"].size());
    ASSERT_EQ(y["attachments"].size(), x["attachments"].size());
    for (size_t k = 0; k < x["attachments"].size(); ++k) {
      EXPECT_EQ(y["attachments"][k]["size"], x["attachments"][k]["size"]) << k;
      EXPECT_EQ(y["attachments"][k]["embedded"], x["attachments"][k]["embedded"]) << k;
    }
    EXPECT_EQ(y["body"].is_null(), x["body"].is_null());
    ++compared;
  }
  fs::remove_all(out);
  EXPECT_GT(compared, 40u);
}
