// EMSMDB bodies against the MS-OXCMAPIHTTP layouts (../shared/spec-vectors/oxcmapihttp) byte for
// byte, and RPC_HEADER_EXT buffers (MS-OXCRPC 2.2.2.1) with their flags, and what is not one.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "server/emsmdb.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::server;
using openmapi::testing::code_of;

namespace {
Bytes vector_file(const std::string& name) {
  std::ifstream in(std::string(OPENMAPI_SHARED_DIR) + "/spec-vectors/oxcmapihttp/" + name, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST(Emsmdb, ConnectBodiesMatchTheSpecLayout) {
  const Bytes req = vector_file("derived_connect_request_body.bin");
  ASSERT_EQ(req.size(), 105u);
  ConnectRequest c = parse_connect_request(req);
  EXPECT_EQ(c.user_dn, "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=user1");
  EXPECT_EQ(c.flags, 0u);
  EXPECT_EQ(c.default_code_page, 1252u);
  EXPECT_EQ(c.lcid_sort, 0x409u);
  EXPECT_EQ(c.lcid_string, 0x409u);
  EXPECT_TRUE(c.auxiliary.empty());

  ConnectResponse r;
  r.dn_prefix = "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)";
  r.display_name = "User One";
  EXPECT_EQ(serialize(r), vector_file("derived_connect_response_body.bin"));  // PollsMax 60000, RetryCount 6, RetryDelay 10000
}

TEST(Emsmdb, ExecuteBodiesAndTheirRopBuffers) {
  const Bytes req = vector_file("derived_execute_request_body.bin");
  ExecuteRequest e = parse_execute_request(req);
  EXPECT_EQ(e.flags, 0u);
  ASSERT_EQ(e.rop_buffer.size(), 21u);
  EXPECT_EQ(e.max_rop_out, 0x10008u);
  EXPECT_TRUE(e.auxiliary.empty());
  auto payloads = parse_rpc_buffers(e.rop_buffer);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(payloads[0], Bytes(e.rop_buffer.begin() + 8, e.rop_buffer.end()));
  EXPECT_EQ(payloads[0][0] | payloads[0][1] << 8, 9);  // RopSize: itself and the ROPs, before the handle table

  // XorMagic: every payload byte XORed with 0xA5; two chained buffers, the second marked Last.
  Bytes chained = {0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x02, 0x00, 0x12 ^ 0xA5, 0x34 ^ 0xA5,
                   0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x01, 0x00, 0x56};
  payloads = parse_rpc_buffers(chained);
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(payloads[0], (Bytes{0x12, 0x34}));
  EXPECT_EQ(payloads[1], (Bytes{0x56}));
  // Our framing reads back.
  EXPECT_EQ(parse_rpc_buffers(frame_rpc_buffer(Bytes{1, 2, 3})), std::vector<Bytes>{(Bytes{1, 2, 3})});

  ExecuteResponse out;
  out.rop_buffer = frame_rpc_buffer(Bytes{9, 9});
  const Bytes s = serialize(out);
  EXPECT_EQ(s.size(), 4u * 4 + 10 + 4);
  EXPECT_EQ(s[12], 10);  // RopBufferSize
}

TEST(Emsmdb, DamagedBodiesAreCorruptDataAndCompressionIsNotYetSupported) {
  Bytes req = vector_file("derived_connect_request_body.bin");
  EXPECT_EQ(code_of([&] { parse_connect_request(Bytes(req.begin(), req.begin() + 90)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  Bytes huge_aux = req;
  huge_aux[huge_aux.size() - 1] = 0x7F;  // AuxiliaryBufferSize 0x7F000000, nothing follows
  EXPECT_EQ(code_of([&] { parse_connect_request(huge_aux); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { parse_connect_request(Bytes(200, 'A')); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // no NUL
  Bytes ex = vector_file("derived_execute_request_body.bin");
  ex[4] = 0xFF;  // RopBufferSize 0xFF: more than follows
  EXPECT_EQ(code_of([&] { parse_execute_request(ex); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([] { parse_rpc_buffers(Bytes{0, 0, 4, 0, 9, 0, 9, 0, 1}); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // short
  EXPECT_EQ(code_of([] { parse_rpc_buffers(Bytes{1, 0, 4, 0, 1, 0, 1, 0, 1}); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // version 1
  EXPECT_EQ(code_of([] { parse_rpc_buffers(Bytes{0, 0, 0, 0, 1, 0, 1, 0, 1}); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // no Last
  EXPECT_EQ(code_of([] { parse_rpc_buffers(Bytes{0, 0, 5, 0, 1, 0, 4, 0, 1}); }), ErrorCode::MAPI_E_NO_SUPPORT);    // compressed
  EXPECT_EQ(code_of([] { parse_rpc_buffers(Bytes{0, 0, 4, 0, 1, 0, 2, 0, 1}); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // sizes differ
}
