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

TEST(Emsmdb, DamagedBodiesAreCorruptData) {
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
  EXPECT_EQ(code_of([] { parse_rpc_buffers(Bytes{0, 0, 5, 0, 1, 0, 4, 0, 1}); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // compressed junk
  EXPECT_EQ(code_of([] { parse_rpc_buffers(Bytes{0, 0, 4, 0, 1, 0, 2, 0, 1}); }), ErrorCode::MAPI_E_CORRUPT_DATA);  // sizes differ
}

TEST(Emsmdb, CompressedAndObfuscatedBuffersDecodeAndLargeResponsesAreCompressed) {
  // The spec vector's ROP buffer payload, LZ77-compressed, then XORed with 0xA5: the header says
  // Compressed | XorMagic | Last, Size the compressed size, SizeActual the payload's.
  const Bytes plain_buffer = vector_file("../oxcrpc/derived_rpc_header_ext_last_plain.bin");
  const Bytes payload(plain_buffer.begin() + 8, plain_buffer.end());
  // The payload is too short to compress: build a longer one that does (the MS-XCA "abc" run).
  std::string abc;
  for (int i = 0; i < 100; ++i) abc += "abc";
  const Bytes packed = {0xFF, 0xFF, 0xFF, 0x1F, 0x61, 0x62, 0x63, 0x17, 0x00, 0x0F, 0xFF, 0x26, 0x01};  // MS-XCA 3.1
  BinaryWriter w;
  w.u16(0);
  w.u16(rpc_flags::Compressed | rpc_flags::XorMagic | rpc_flags::Last);
  w.u16(uint16_t(packed.size()));
  w.u16(300);
  for (uint8_t b : packed) w.u8(b ^ 0xA5);
  auto buffers = parse_rpc_buffers(w.data());
  ASSERT_EQ(buffers.size(), 1u);
  EXPECT_EQ(buffers[0], Bytes(abc.begin(), abc.end()));
  // SizeActual larger than what the stream makes: corrupt.
  Bytes wrong = w.data();
  wrong[6] = 0x2D;  // 301
  EXPECT_EQ(code_of([&] { parse_rpc_buffers(wrong); }), ErrorCode::MAPI_E_CORRUPT_DATA);

  // A response payload that compresses goes out compressed, one that does not (or is small) plain.
  Bytes rows;
  for (int i = 0; i < 200; ++i) rows.insert(rows.end(), abc.begin(), abc.begin() + 30);
  const Bytes framed = frame_rpc_buffer(rows, true);
  BinaryReader r(framed);
  EXPECT_EQ(r.u16(), 0);
  EXPECT_EQ(r.u16(), rpc_flags::Compressed | rpc_flags::Last);
  const uint16_t size = r.u16();
  EXPECT_EQ(r.u16(), rows.size());
  EXPECT_LT(size, rows.size() / 4);
  EXPECT_EQ(parse_rpc_buffers(framed)[0], rows);
  EXPECT_EQ(frame_rpc_buffer(rows, false).size(), rows.size() + 8);
  EXPECT_EQ(frame_rpc_buffer(payload, true), plain_buffer);  // 13 bytes: sent as they are
}
