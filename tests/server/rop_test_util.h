// Shared by the ROP processor tests: request builders for MS-OXCROPS buffers, the output
// parser, and a fixture with one user, its mailbox and a RopSession on it.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "core/bytes.h"
#include "core/entryid.h"
#include "server/frontend.h"
#include "server/rops.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace openmapi::rop_testing {

using namespace openmapi;
using namespace openmapi::server;
namespace fs = std::filesystem;


inline Bytes vector_file(const std::string& name) {
  std::ifstream in(std::string(OPENMAPI_SHARED_DIR) + "/spec-vectors/oxcrops/" + name, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// A ROP input buffer: RopSize, the ROPs, the handle table (MS-OXCROPS 2.2.1).
inline Bytes rop_buffer(const Bytes& rops, const std::vector<uint32_t>& handles) {
  BinaryWriter w;
  w.u16(uint16_t(2 + rops.size()));
  w.bytes(rops);
  for (uint32_t h : handles) w.u32(h);
  return w.data();
}

inline Bytes logon_rop(uint8_t logon_id, uint8_t out_index, const std::string& dn) {
  BinaryWriter w;
  w.u8(0xFE);
  w.u8(logon_id);
  w.u8(out_index);
  w.u8(0x01);           // Private
  w.u32(0x0100000C);    // OpenFlags
  w.u32(0);             // StoreState
  w.u16(uint16_t(dn.size() + 1));
  w.str8z(dn);
  return w.data();
}

// A parsed ROP output buffer.
struct Output {
  Bytes rops;
  std::vector<uint32_t> handles;
};
inline Output parse_output(const Bytes& out, size_t handle_count) {
  BinaryReader r(out);
  const uint16_t size = r.u16();
  Output o;
  o.rops = r.copy(size - 2);
  for (size_t i = 0; i < handle_count; ++i) o.handles.push_back(r.u32());
  EXPECT_TRUE(r.at_end());
  return o;
}

// MS-OXCDATA 2.2.1.1: ReplicaId (2 bytes, little-endian), then the 6-byte global counter, big-endian.
inline uint64_t fid_bytes(uint64_t gc) {
  uint8_t b[8] = {0x01, 0x00, uint8_t(gc >> 40), uint8_t(gc >> 32), uint8_t(gc >> 24), uint8_t(gc >> 16), uint8_t(gc >> 8), uint8_t(gc)};
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | b[i];
  return v;
}

// The size of a private RopLogon response (MS-OXCROPS 2.2.3.1.2).
inline constexpr size_t kLogonResponseSize = 1 + 1 + 4 + 1 + 13 * 8 + 1 + 16 + 2 + 16 + 8 + 8 + 4;

// Reads a ROP response header and checks it.
inline void expect_header(BinaryReader& r, uint8_t rop, uint8_t index, uint32_t rv = 0) {
  EXPECT_EQ(r.u8(), rop) << "RopId";
  EXPECT_EQ(r.u8(), index) << "handle index of RopId " << int(rop);
  EXPECT_EQ(r.u32(), rv) << "ReturnValue of RopId " << int(rop);
}

class Rops : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-rops-" + std::to_string(rd()));
    config.data_dir = dir.string();
    UserDirectory users(dir.string(), true);
    user = users.add("Alice@Example.com", "Alice", "pw");
    mb = store::open_sqlite_mailbox(store::mailbox_file(dir.string(), user.mailbox));
    dn = user_legacy_dn(config.organization, user.address);
    session = std::make_unique<RopSession>(config, user);
  }
  void TearDown() override {
    session.reset();
    mb.reset();
    fs::remove_all(dir);
  }
  Output run(const Bytes& rops, const std::vector<uint32_t>& handles) {
    return parse_output(session->execute(rop_buffer(rops, handles), 0x8000), handles.size());
  }
  store::MessageId save(const std::string& subject, int32_t flags = 1) {
    Message m;
    m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
    m.props.set(PropValue::string(tags::PidTagSubject, subject));
    m.props.set(PropValue::i32(tags::PidTagMessageFlags, flags));
    return mb->save_message(mb->special_folder(store::SpecialFolder::Inbox), m);
  }
  uint64_t fid_of(store::SpecialFolder f) { return fid_bytes(mb->special_folder(f)); }

  fs::path dir;
  ServerConfig config;
  User user;
  std::string dn;
  std::unique_ptr<store::Mailbox> mb;
  std::unique_ptr<RopSession> session;
};


}  // namespace openmapi::rop_testing
