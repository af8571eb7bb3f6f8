// The NSPI endpoint (MS-OXCMAPIHTTP 2.2.5, MS-OXNSPI) through its HTTP handler: request bodies
// built byte by byte from the spec layouts, responses read byte by byte; users from a real
// users file.
#include "server/nspi.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/bytes.h"
#include "server/frontend.h"
#include "server/users.h"

using namespace openmapi;
using namespace openmapi::server;
namespace fs = std::filesystem;

namespace {

struct Reply {
  int code = -1;
  std::string cookie;
  Bytes body;
};

class NspiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-nspi-" + std::to_string(rd()));
    config.data_dir = dir.string();
    UserDirectory users(dir.string(), true);
    alice = users.add("alice@example.com", "Alice Example", "pw");
    users.add("bob@example.com", "Bob Builder", "pw");
    users.add("marley@example.com", "Bob Marley", "pw");
    nspi = std::make_unique<Nspi>(config, "https://mail.example.com");
  }
  void TearDown() override {
    nspi.reset();
    fs::remove_all(dir);
  }
  Reply call(const std::string& type, const Bytes& body, const std::string& cookie = "") {
    HttpRequest req;
    req.msg.method(http::verb::post);
    req.msg.target("/mapi/nspi/?MailboxId=x@example.com");
    req.msg.set("X-RequestType", type);
    req.msg.set("X-RequestId", "{C0FFEE}:1");
    if (!cookie.empty()) req.msg.set(http::field::cookie, std::string(Nspi::kCookie) + "=" + cookie);
    req.msg.body().assign(body.begin(), body.end());
    HttpReply r = nspi->handle(req, alice);
    Reply out;
    out.code = std::stoi(std::string(r.msg["X-ResponseCode"]));
    const std::string sc(r.msg[http::field::set_cookie]);
    const std::string prefix = std::string(Nspi::kCookie) + "=";
    if (sc.rfind(prefix, 0) == 0) out.cookie = sc.substr(prefix.size(), sc.find(';') - prefix.size());
    const std::string& all = r.msg.body();
    const size_t end = all.find("\r\n\r\n");
    if (out.code == 0 && end != std::string::npos) out.body = Bytes(all.begin() + long(end) + 4, all.end());
    return out;
  }
  std::string bind() {
    BinaryWriter w;
    w.u32(0);  // Flags
    w.u8(0xFF);
    nspi::write_stat(w, nspi::Stat{});
    w.u32(0);  // AuxiliaryBufferSize
    Reply r = call("Bind", w.data());
    EXPECT_EQ(r.code, 0);
    return r.cookie;
  }
  static void stat_at(BinaryWriter& w, uint32_t current, int32_t delta = 0) {
    nspi::Stat s;
    s.current_rec = current;
    s.delta = delta;
    w.u8(0xFF);
    nspi::write_stat(w, s);
  }

  fs::path dir;
  ServerConfig config;
  User alice;
  std::unique_ptr<Nspi> nspi;
};

}  // namespace

TEST(NspiWire, EntryIdsAndTheStatHaveTheSpecLayouts) {
  // MS-OXNSPI 2.2.9.3 PermanentEntryID: type 0 + R1-R3, GUID_NSPI, R4 = 1, DisplayType, DN.
  const Bytes p = nspi::permanent_entry_id(0, "/o=X/cn=y");
  EXPECT_EQ(p, from_hex("00000000dca740c8c042101ab4b908002b2fe18201000000000000002f6f3d582f636e3d7900"));
  // 2.2.9.2 EphemeralEntryID: type 0x87, the server GUID, R4 = 1, DisplayType, MId.
  const Guid g = Guid::from_string("00112233-4455-6677-8899-AABBCCDDEEFF");
  const Bytes e = nspi::ephemeral_entry_id(g, 0, 0x1234);
  ASSERT_EQ(e.size(), 32u);
  EXPECT_EQ(Bytes(e.begin(), e.begin() + 4), from_hex("87000000"));
  EXPECT_EQ(Bytes(e.begin() + 4, e.begin() + 20), Bytes(g.bytes.begin(), g.bytes.end()));
  EXPECT_EQ(Bytes(e.begin() + 20, e.end()), from_hex("010000000000000034120000"));
  // STAT: nine 32-bit fields.
  nspi::Stat s{1, 2, 3, -4, 5, 6, 1252, 0x409, 0x409};
  BinaryWriter w;
  nspi::write_stat(w, s);
  ASSERT_EQ(w.size(), 36u);
  BinaryReader r(w.data());
  EXPECT_EQ(nspi::read_stat(r), s);
  // AddressBookPropertyValue: a HasValue byte before strings and binaries, 32-bit binary counts.
  BinaryWriter v;
  nspi::write_value(v, PropValue::binary(PropTag(0x0FFF, PropType::Binary), Bytes{1, 2}));
  nspi::write_value(v, PropValue::i32(PropTag(0x3900, PropType::Integer32), 7));
  nspi::write_value(v, PropValue::string(PropTag(0x3001, PropType::String8), "ab"));
  EXPECT_EQ(v.data(), from_hex("ff020000000102" "07000000" "ff616200"));
}

TEST_F(NspiTest, BindGivesAContextAndTheGlobalAddressListContainer) {
  const std::string cookie = bind();
  ASSERT_FALSE(cookie.empty());
  EXPECT_EQ(nspi->context_count(), 1u);
  BinaryWriter w;
  w.u32(0x4);  // NspiUnicodeStrings
  stat_at(w, 0);
  w.u8(0xFF);
  w.u32(7);  // Version
  w.u32(0);
  Reply r = call("GetSpecialTable", w.data(), cookie);
  ASSERT_EQ(r.code, 0);
  BinaryReader b(r.body);
  EXPECT_EQ(b.u32(), 0u);  // StatusCode
  EXPECT_EQ(b.u32(), 0u);  // ErrorCode
  EXPECT_EQ(b.u32(), 1252u);
  EXPECT_EQ(b.u8(), 0xFF);
  EXPECT_EQ(b.u32(), 8u);  // the version, moved on
  EXPECT_EQ(b.u8(), 0xFF);
  ASSERT_EQ(b.u32(), 1u);  // one container
  ASSERT_EQ(b.u32(), 6u);  // its six properties
  EXPECT_EQ(b.u32(), 0x0FFF0102u);
  EXPECT_EQ(b.u8(), 0xFF);
  EXPECT_EQ(b.copy(b.u32()), nspi::permanent_entry_id(0x100, "/"));  // DT_CONTAINER, DN "/"
  EXPECT_EQ(b.u32(), 0x36000003u);
  EXPECT_EQ(b.u32(), 9u);  // AB_RECIPIENTS | AB_UNMODIFIABLE
  EXPECT_EQ(b.u32(), 0x30050003u);
  EXPECT_EQ(b.u32(), 0u);
  EXPECT_EQ(b.u32(), 0xFFFD0003u);
  EXPECT_EQ(b.u32(), 0u);  // the GAL's container id
  EXPECT_EQ(b.u32(), 0x3001001Fu);
  EXPECT_EQ(b.u8(), 0xFF);
  EXPECT_EQ(b.utf16z(), "");
  EXPECT_EQ(b.u32(), 0xFFFB000Bu);
  EXPECT_EQ(b.u8(), 0);
  EXPECT_EQ(b.u32(), 0u);  // AuxiliaryBufferSize
  EXPECT_TRUE(b.at_end());
}

TEST_F(NspiTest, QueryRowsWalksTheGalInDisplayNameOrderAndMovesTheStat) {
  const std::string cookie = bind();
  BinaryWriter w;
  w.u32(0);
  stat_at(w, nspi::MID_BEGINNING_OF_TABLE);
  w.u32(0);   // no explicit table
  w.u32(10);  // RowCount
  w.u8(0xFF);
  w.u32(3);
  w.u32(0x3001001F);  // PidTagDisplayName
  w.u32(0x39FE001F);  // PidTagSmtpAddress
  w.u32(0x39000003);  // PidTagDisplayType
  w.u32(0);
  Reply r = call("QueryRows", w.data(), cookie);
  ASSERT_EQ(r.code, 0);
  BinaryReader b(r.body);
  EXPECT_EQ(b.u32(), 0u);
  EXPECT_EQ(b.u32(), 0u);
  EXPECT_EQ(b.u8(), 0xFF);
  const nspi::Stat after = nspi::read_stat(b);
  EXPECT_EQ(after.current_rec, nspi::MID_END_OF_TABLE);
  EXPECT_EQ(after.num_pos, 3u);
  EXPECT_EQ(after.total_recs, 3u);
  EXPECT_EQ(b.u8(), 0xFF);
  ASSERT_EQ(b.u32(), 3u);  // the columns, echoed
  b.skip(12);
  ASSERT_EQ(b.u32(), 3u);  // rows
  const char* names[] = {"Alice Example", "Bob Builder", "Bob Marley"};
  const char* addresses[] = {"alice@example.com", "bob@example.com", "marley@example.com"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(b.u8(), 0x00);  // every value there
    EXPECT_EQ(b.u8(), 0xFF);
    EXPECT_EQ(b.utf16z(), names[i]);
    EXPECT_EQ(b.u8(), 0xFF);
    EXPECT_EQ(b.utf16z(), addresses[i]);
    EXPECT_EQ(b.u32(), 0u);  // DT_MAILUSER
  }
  EXPECT_EQ(b.u32(), 0u);
  EXPECT_TRUE(b.at_end());
}

TEST_F(NspiTest, NamesResolveToOneEntryOrAreAmbiguousOrUnresolved) {
  const std::string cookie = bind();
  BinaryWriter w;
  w.u32(0);
  stat_at(w, 0);
  w.u8(0xFF);
  w.u32(1);
  w.u32(0x3003001F);  // PidTagEmailAddress: the legacy DN
  w.u8(0xFF);
  w.u32(3);
  w.utf16z("bo");  // two display names start with it
  w.utf16z("SMTP:alice@example.com");
  w.utf16z("zed");
  w.u32(0);
  Reply r = call("ResolveNames", w.data(), cookie);
  ASSERT_EQ(r.code, 0);
  BinaryReader b(r.body);
  b.skip(8);
  EXPECT_EQ(b.u32(), 1252u);
  EXPECT_EQ(b.u8(), 0xFF);
  ASSERT_EQ(b.u32(), 3u);
  EXPECT_EQ(b.u32(), nspi::MID_AMBIGUOUS);
  EXPECT_EQ(b.u32(), nspi::MID_RESOLVED);
  EXPECT_EQ(b.u32(), nspi::MID_UNRESOLVED);
  EXPECT_EQ(b.u8(), 0xFF);
  EXPECT_EQ(b.u32(), 1u);
  b.u32();
  ASSERT_EQ(b.u32(), 1u);  // one row: alice's
  EXPECT_EQ(b.u8(), 0x00);
  EXPECT_EQ(b.u8(), 0xFF);
  const std::string dn = b.utf16z();
  EXPECT_EQ(dn, user_legacy_dn(config.organization, "alice@example.com"));

  // DNToMId, then GetProps and GetPropList on that Minimal Entry ID.
  BinaryWriter d;
  d.u32(0);
  d.u8(0xFF);
  d.u32(2);
  d.str8z(dn);
  d.str8z("/o=Nowhere/cn=nobody");
  d.u32(0);
  Reply m = call("DNToMId", d.data(), cookie);
  BinaryReader mb(m.body);
  mb.skip(8);
  EXPECT_EQ(mb.u8(), 0xFF);
  ASSERT_EQ(mb.u32(), 2u);
  const uint32_t mid = mb.u32();
  EXPECT_GE(mid, 0x10u);
  EXPECT_EQ(mb.u32(), 0u);  // unknown DN
  BinaryWriter g;
  g.u32(0);
  stat_at(g, mid);
  g.u8(0xFF);
  g.u32(3);
  g.u32(0x39FE001F);  // PidTagSmtpAddress
  g.u32(0x0FFE0003);  // PidTagObjectType
  g.u32(0x12340003);  // nothing
  g.u32(0);
  Reply p = call("GetProps", g.data(), cookie);
  BinaryReader pb(p.body);
  EXPECT_EQ(pb.u32(), 0u);
  EXPECT_EQ(pb.u32(), 0x00040380u);  // ErrorsReturned
  EXPECT_EQ(pb.u32(), 1252u);
  EXPECT_EQ(pb.u8(), 0xFF);
  ASSERT_EQ(pb.u32(), 3u);
  EXPECT_EQ(pb.u32(), 0x39FE001Fu);
  EXPECT_EQ(pb.u8(), 0xFF);
  EXPECT_EQ(pb.utf16z(), "alice@example.com");
  EXPECT_EQ(pb.u32(), 0x0FFE0003u);
  EXPECT_EQ(pb.u32(), 6u);  // MAPI_MAILUSER
  EXPECT_EQ(pb.u32(), 0x1234000Au);
  EXPECT_EQ(pb.u32(), 0x8004010Fu);

  // GetMatches with a PidTagAnr restriction (MS-OXCDATA 2.12.5, RES_PROPERTY, RELOP_EQ).
  BinaryWriter q;
  q.u32(0);
  stat_at(q, 0);
  q.u8(0);  // no MIds to restrict to
  q.u32(0);
  q.u8(0xFF);
  q.u8(0x04);
  q.u8(0x04);
  q.u32(0x360C001F);
  q.u32(0x360C001F);
  q.utf16z("bo");
  q.u8(0);    // no property name
  q.u32(50);  // RowCount
  q.u8(0);    // no columns
  q.u32(0);
  Reply gm = call("GetMatches", q.data(), cookie);
  ASSERT_EQ(gm.code, 0);
  BinaryReader gb(gm.body);
  gb.skip(8);
  EXPECT_EQ(gb.u8(), 0xFF);
  nspi::read_stat(gb);
  EXPECT_EQ(gb.u8(), 0xFF);
  EXPECT_EQ(gb.u32(), 2u);  // both Bobs
}

TEST_F(NspiTest, UnbindEndsTheContextAndBadBodiesAreRefused) {
  const std::string cookie = bind();
  BinaryWriter u;
  u.u32(0);
  u.u32(0);
  Reply r = call("Unbind", u.data(), cookie);
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.body, from_hex("00000000" "01000000" "00000000"));  // StatusCode, UnbindSuccess, no auxiliary buffer
  EXPECT_EQ(nspi->context_count(), 0u);
  EXPECT_EQ(call("QueryRows", Bytes(60, 0), cookie).code, 10);  // the context is gone
  EXPECT_EQ(call("QueryRows", Bytes(60, 0)).code, 13);          // no cookie at all
  EXPECT_EQ(call("NotAType", Bytes{}).code, 5);
  EXPECT_EQ(call("Bind", Bytes{1, 2}).code, 12);                // cut short
  const std::string c2 = bind();
  BinaryWriter huge;  // an explicit table claiming 2^30 ids
  huge.u32(0);
  huge.u8(0);
  huge.u32(0x40000000);
  EXPECT_EQ(call("QueryRows", huge.data(), c2).code, 12);
  // An unknown Minimal Entry ID: ErrorCode NotFound with the fields' Has bytes 0.
  BinaryWriter g;
  g.u32(0);
  stat_at(g, 0x7777);
  g.u8(0);
  g.u32(0);
  Reply p = call("GetProps", g.data(), c2);
  EXPECT_EQ(p.body, from_hex("00000000" "0f010480" "e4040000" "00" "00000000"));
}
