#include "test_util.h"
#include "core/namedprop.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"

using namespace openmapi;

namespace {

using openmapi::testing::code_of;

}  // namespace

TEST(PropertySet, GuidsFromMsOxprops132) {
  // Wire order: Data1..Data3 little-endian (MS-OXCDATA 2.5.1).
  EXPECT_EQ(to_hex(propset::PSETID_Common.bytes), "0820060000000000c000000000000046");
  EXPECT_EQ(propset::PS_MAPI.to_string(), "00020328-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PS_PUBLIC_STRINGS.to_string(), "00020329-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PS_INTERNET_HEADERS.to_string(), "00020386-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_Address.to_string(), "00062004-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_Appointment.to_string(), "00062002-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_Meeting.to_string(), "6ed8da90-450b-101b-98da-00aa003f1305");
  EXPECT_EQ(propset::PSETID_Log.to_string(), "0006200a-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_Messaging.to_string(), "41f28f13-83f4-4114-a584-eedb5a6b0bff");
  EXPECT_EQ(propset::PSETID_Note.to_string(), "0006200e-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_PostRss.to_string(), "00062041-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_Task.to_string(), "00062003-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_UnifiedMessaging.to_string(), "4442858e-a9e3-4e80-b900-317a210cc15b");
  EXPECT_EQ(propset::PSETID_AirSync.to_string(), "71035549-0739-4dcb-9163-00f0580dbbdf");
  EXPECT_EQ(propset::PSETID_Sharing.to_string(), "00062040-0000-0000-c000-000000000046");
  EXPECT_EQ(propset::PSETID_Attachment.to_string(), "96357f7f-59e1-47d0-99a7-46515c183b54");
  EXPECT_EQ(propset::PSETID_CalendarAssistant.to_string(), "11000e07-b51b-40d6-af21-caa85edab1d0");
  EXPECT_EQ(propset::PSETID_XmlExtractedEntities.to_string(), "23239608-685d-4732-9c55-4c95cb4e8e33");
}

TEST(PropertySet, NamesBothWays) {
  EXPECT_EQ(propset::name(propset::PSETID_Common), "PSETID_Common");
  EXPECT_EQ(propset::name(propset::PS_INTERNET_HEADERS), "PS_INTERNET_HEADERS");
  EXPECT_EQ(propset::from_name("PSETID_Task"), propset::PSETID_Task);
  EXPECT_EQ(propset::from_name("psetid_task"), propset::PSETID_Task);
  EXPECT_EQ(propset::from_name("{00062008-0000-0000-C000-000000000046}"), propset::PSETID_Common);
  EXPECT_FALSE(propset::from_name("PSETID_Nonsense"));
  Guid other = Guid::from_string("01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(propset::name(other), "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(propset::from_name(propset::name(other)), other);
}

TEST(PropertyName, ToStringAndParse) {
  auto a = PropertyName::by_id(propset::PSETID_Common, 0x8514);
  EXPECT_EQ(a.to_string(), "PSETID_Common:0x8514");
  auto b = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords");
  EXPECT_EQ(b.to_string(), "PS_PUBLIC_STRINGS:Keywords");
  EXPECT_EQ(PropertyName::parse(a.to_string()), a);
  EXPECT_EQ(PropertyName::parse(b.to_string()), b);
  auto c = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "urn:schemas:calendar:location");
  EXPECT_EQ(PropertyName::parse(c.to_string()), c);
  EXPECT_EQ(PropertyName::by_id(propset::PSETID_Common, 0x12345678).to_string(), "PSETID_Common:0x12345678");
  EXPECT_FALSE(PropertyName::parse("nocolon"));
  EXPECT_FALSE(PropertyName::parse("PSETID_Common:"));
  EXPECT_FALSE(PropertyName::parse("Bogus:0x8000"));
}

TEST(PropertyName, InternetHeaderNamesAreCaseInsensitive) {
  auto a = PropertyName::by_name(propset::PS_INTERNET_HEADERS, "X-Mailer");
  auto b = PropertyName::by_name(propset::PS_INTERNET_HEADERS, "x-mailer");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.canonical(), b.canonical());
  EXPECT_EQ(a.canonical().name, "x-mailer");
  // Other sets keep their case.
  auto c = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords");
  EXPECT_EQ(c.canonical().name, "Keywords");
}

TEST(PropertyName, WireFormLid) {
  // MS-OXCDATA 2.6.1: Kind 0x00, GUID (16), LID (4).
  BinaryWriter w;
  write_property_name(w, PropertyName::by_id(propset::PSETID_Appointment, 0x8205));
  EXPECT_EQ(to_hex(w.data()), "00" "0220060000000000c000000000000046" "05820000");
  BinaryReader r(w.data());
  EXPECT_EQ(read_property_name(r), PropertyName::by_id(propset::PSETID_Appointment, 0x8205));
  EXPECT_TRUE(r.at_end());
}

TEST(PropertyName, WireFormName) {
  // Kind 0x01, GUID, NameSize = bytes of the UTF-16LE name including its 2-byte terminator, Name.
  BinaryWriter w;
  write_property_name(w, PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Ab"));
  EXPECT_EQ(to_hex(w.data()), "01" "2903020000000000c000000000000046" "06" "410062000000");
  BinaryReader r(w.data());
  EXPECT_EQ(read_property_name(r), PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Ab"));
  EXPECT_TRUE(r.at_end());

  // Non-ASCII names round-trip through UTF-16 (a surrogate pair too).
  for (std::string s : {"Größe", "\xF0\x9F\x98\x80 emoji", "x"}) {
    BinaryWriter w2;
    auto n = PropertyName::by_name(propset::PSETID_Common, s);
    write_property_name(w2, n);
    BinaryReader r2(w2.data());
    EXPECT_EQ(read_property_name(r2), n);
    EXPECT_TRUE(r2.at_end());
  }
}

TEST(PropertyName, WireFormRejectsBadInput) {
  auto read = [](const std::string& hex) {
    Bytes b = from_hex(hex);
    BinaryReader r(b);
    return code_of([&] { read_property_name(r); });
  };
  const std::string guid = "2903020000000000c000000000000046";
  EXPECT_EQ(read("01" + guid + "06" + "410062000000"), ErrorCode::Success);
  EXPECT_EQ(read(""), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(read("00" + guid + "0582"), ErrorCode::MAPI_E_CORRUPT_DATA);          // short LID
  EXPECT_EQ(read("02" + guid + "05820000"), ErrorCode::MAPI_E_CORRUPT_DATA);      // unknown Kind
  EXPECT_EQ(read("ff" + guid), ErrorCode::MAPI_E_CORRUPT_DATA);                   // no name
  EXPECT_EQ(read("01" + guid + "08" + "410062000000"), ErrorCode::MAPI_E_CORRUPT_DATA);  // NameSize too big
  EXPECT_EQ(read("01" + guid + "05" + "4100620000"), ErrorCode::MAPI_E_CORRUPT_DATA);    // odd NameSize
  EXPECT_EQ(read("01" + guid + "00"), ErrorCode::MAPI_E_CORRUPT_DATA);                   // empty
  EXPECT_EQ(read("01" + guid + "04" + "41006200"), ErrorCode::MAPI_E_CORRUPT_DATA);      // no terminator
  EXPECT_EQ(read("01" + guid + "06" + "410000000000"), ErrorCode::MAPI_E_CORRUPT_DATA);  // NUL inside
  EXPECT_EQ(read("01" + guid + "04" + "00d80000"), ErrorCode::MAPI_E_CORRUPT_DATA);      // lone surrogate

  // A name whose UTF-16 form does not fit in a one-byte NameSize cannot be written.
  BinaryWriter w;
  EXPECT_EQ(code_of([&] { write_property_name(w, PropertyName::by_name(propset::PS_PUBLIC_STRINGS, std::string(127, 'a'))); }),
            ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([&] { write_property_name(w, PropertyName::by_name(propset::PS_PUBLIC_STRINGS, std::string(126, 'a'))); }),
            ErrorCode::Success);
}

TEST(NamedPropertyMap, AllocatesFrom0x8000) {
  NamedPropertyMap m;
  auto a = PropertyName::by_id(propset::PSETID_Common, 0x8514);
  auto b = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords");
  EXPECT_FALSE(m.find(a));
  EXPECT_EQ(code_of([&] { m.get_or_create(a, false); }), ErrorCode::MAPI_E_NOT_FOUND);
  EXPECT_EQ(m.get_or_create(a, true), 0x8000);
  EXPECT_EQ(m.get_or_create(b, true), 0x8001);
  EXPECT_EQ(m.get_or_create(a, true), 0x8000);
  EXPECT_EQ(m.get_or_create(a, false), 0x8000);
  EXPECT_EQ(m.find(a), 0x8000);
  ASSERT_NE(m.find(uint16_t(0x8001)), nullptr);
  EXPECT_EQ(*m.find(uint16_t(0x8001)), b);
  EXPECT_EQ(m.find(uint16_t(0x8002)), nullptr);
  EXPECT_EQ(m.size(), 2u);
}

TEST(NamedPropertyMap, InternetHeaderNamesShareAnId) {
  NamedPropertyMap m;
  auto id = m.get_or_create(PropertyName::by_name(propset::PS_INTERNET_HEADERS, "X-Mailer"), true);
  EXPECT_EQ(m.get_or_create(PropertyName::by_name(propset::PS_INTERNET_HEADERS, "X-MAILER"), false), id);
  EXPECT_NE(m.get_or_create(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "X-MAILER"), true), id);
}

TEST(NamedPropertyMap, QuotaExhaustionAt0xFFFE) {
  NamedPropertyMap m;
  for (uint32_t i = 0; i < 0x7FFF; ++i) EXPECT_EQ(m.get_or_create(PropertyName::by_id(propset::PSETID_Common, i), true), 0x8000 + i);
  EXPECT_EQ(m.size(), 0x7FFFu);
  EXPECT_NE(m.find(uint16_t(0xFFFE)), nullptr);
  EXPECT_EQ(code_of([&] { m.get_or_create(PropertyName::by_id(propset::PSETID_Common, 0x7FFF), true); }),
            ErrorCode::MAPI_E_NAMED_PROP_QUOTA_EXCEEDED);
  // Existing names still resolve.
  EXPECT_EQ(m.get_or_create(PropertyName::by_id(propset::PSETID_Common, 5), true), 0x8005);
}

TEST(NamedPropertyMap, InsertRestoresAndDetectsCollisions) {
  NamedPropertyMap m;
  auto a = PropertyName::by_id(propset::PSETID_Common, 0x8514);
  auto b = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords");
  m.insert(0x8000, a);
  m.insert(0x8002, b);
  m.insert(0x8000, a);  // the same mapping again is fine
  EXPECT_EQ(code_of([&] { m.insert(0x8000, b); }), ErrorCode::MAPI_E_COLLISION);  // id taken
  EXPECT_EQ(code_of([&] { m.insert(0x8003, a); }), ErrorCode::MAPI_E_COLLISION);  // name taken
  EXPECT_EQ(code_of([&] { m.insert(0x7FFF, PropertyName::by_id(propset::PSETID_Task, 1)); }),
            ErrorCode::MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(code_of([&] { m.insert(0xFFFF, PropertyName::by_id(propset::PSETID_Task, 1)); }),
            ErrorCode::MAPI_E_INVALID_PARAMETER);
  // Allocation skips restored ids.
  EXPECT_EQ(m.get_or_create(PropertyName::by_id(propset::PSETID_Task, 1), true), 0x8001);
  EXPECT_EQ(m.get_or_create(PropertyName::by_id(propset::PSETID_Task, 2), true), 0x8003);
  EXPECT_EQ(m.entries().size(), 4u);
  // Internet header names collide case-insensitively.
  m.insert(0x9000, PropertyName::by_name(propset::PS_INTERNET_HEADERS, "Received"));
  EXPECT_EQ(code_of([&] { m.insert(0x9001, PropertyName::by_name(propset::PS_INTERNET_HEADERS, "RECEIVED")); }),
            ErrorCode::MAPI_E_COLLISION);
}
