// Property types, values and their MS-OXCDATA 2.11 wire forms; the bounded reader; GUIDs,
// FILETIMEs, UTF-16, error names and property bags.
#include "test_util.h"
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/bytes.h"
#include "core/error.h"
#include "core/filetime.h"
#include "core/guid.h"
#include "core/propbag.h"
#include "core/unicode.h"

using namespace openmapi;

namespace {

Bytes shared_file(const std::string& rel) {
  std::ifstream in(std::string(OPENMAPI_SHARED_DIR) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(in) << rel;
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

using openmapi::testing::code_of;

Bytes wire(const PropValue& v, bool wide = true) {
  BinaryWriter w;
  write_value(w, v, wide);
  return w.take();
}

}  // namespace

// MS-OXCPRPT section 4 "Setting Properties": a RopSetProperties request whose two
// TaggedPropertyValues are PidTagSubjectPrefix = "" and PidTagNormalizedSubject = "Hello World".
TEST(PropValueWire, SpecSetPropertiesExampleDecodesAndEncodesByteForByte) {
  Bytes rop = shared_file("spec-vectors/oxcrops/spec_oxcprpt_setprops_request.bin");
  BinaryReader r(rop);
  EXPECT_EQ(r.u8(), 0x0A);  // RopSetProperties
  r.u8();                   // LogonId
  r.u8();                   // InputHandleIndex
  uint16_t size = r.u16();
  uint16_t count = r.u16();
  ASSERT_EQ(count, 2);
  ASSERT_EQ(size, r.remaining() + 2);  // PropertyValueSize counts the count field and the values
  PropValue a = read_tagged_value(r, false);
  PropValue b = read_tagged_value(r, false);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(a, PropValue::string(tags::PidTagSubjectPrefix, ""));
  EXPECT_EQ(b, PropValue::string(tags::PidTagNormalizedSubject, "Hello World"));
  BinaryWriter w;
  w.u8(0x0A), w.u8(0), w.u8(0), w.u16(size), w.u16(2);
  write_tagged_value(w, a, false);
  write_tagged_value(w, b, false);
  EXPECT_EQ(w.data(), rop);
}

TEST(PropValueWire, EveryTypeHasItsExactSizeAndRoundTrips) {
  std::vector<PropValue> values = {
      PropValue::i16(PropTag(0x8000, PropType::Integer16), -2),
      PropValue::i32(PropTag(0x8001, PropType::Integer32), -70000),
      PropValue(PropTag(0x8002, PropType::Floating32), 1.5f),
      PropValue(PropTag(0x8003, PropType::Floating64), -2.25),
      PropValue(PropTag(0x8004, PropType::Currency), int64_t(-123456789)),
      PropValue(PropTag(0x8005, PropType::FloatingTime), 45000.5),
      PropValue::error(0x8006, ErrorCode::MAPI_E_NOT_FOUND),
      PropValue::boolean(PropTag(0x8007, PropType::Boolean), true),
      PropValue::i64(PropTag(0x8008, PropType::Integer64), INT64_MIN),
      PropValue::string(PropTag(0x8009, PropType::String8), "eight"),
      PropValue::string(PropTag(0x800A, PropType::String), "wïde 😀"),
      PropValue::time(PropTag(0x800B, PropType::Time), 133'000'000'000'000'000LL),
      PropValue::guid(PropTag(0x800C, PropType::Guid), Guid::from_string("{00020328-0000-0000-C000-000000000046}")),
      PropValue::binary(PropTag(0x800D, PropType::ServerId), Bytes{1, 2, 3}),
      PropValue::binary(PropTag(0x800E, PropType::Binary), Bytes{0, 255}),
      PropValue::binary(PropTag(0x800F, PropType::RuleAction), Bytes{9}),
      PropValue(PropTag(0x8010, PropType::MultipleInteger16), std::vector<int16_t>{1, -1}),
      PropValue(PropTag(0x8011, PropType::MultipleInteger32), std::vector<int32_t>{1, 2, 3}),
      PropValue(PropTag(0x8012, PropType::MultipleFloating32), std::vector<float>{0.5f}),
      PropValue(PropTag(0x8013, PropType::MultipleFloating64), std::vector<double>{}),
      PropValue(PropTag(0x8014, PropType::MultipleCurrency), std::vector<int64_t>{10000}),
      PropValue(PropTag(0x8015, PropType::MultipleFloatingTime), std::vector<double>{1.0, 2.0}),
      PropValue(PropTag(0x8016, PropType::MultipleInteger64), std::vector<int64_t>{INT64_MAX}),
      PropValue(PropTag(0x8017, PropType::MultipleString8), std::vector<std::string>{"a", ""}),
      PropValue(PropTag(0x8018, PropType::MultipleString), std::vector<std::string>{"ä", "b"}),
      PropValue(PropTag(0x8019, PropType::MultipleTime), std::vector<int64_t>{0, 1}),
      PropValue(PropTag(0x801A, PropType::MultipleGuid), std::vector<Guid>{Guid{}, Guid::random()}),
      PropValue(PropTag(0x801B, PropType::MultipleBinary), std::vector<Bytes>{{}, {1}}),
  };
  for (bool wide : {true, false}) {
    for (const auto& v : values) {
      Bytes b = wire(v, wide);
      BinaryReader r(b);
      PropValue back = read_value(r, v.tag(), wide);
      EXPECT_TRUE(r.at_end()) << v.tag().hex();
      EXPECT_EQ(back, v) << v.tag().hex();
    }
  }
  // Exact sizes of the fixed types (MS-OXCDATA 2.11.1).
  EXPECT_EQ(wire(values[0]).size(), 2u);
  EXPECT_EQ(wire(values[1]).size(), 4u);
  EXPECT_EQ(wire(values[2]).size(), 4u);
  EXPECT_EQ(wire(values[3]).size(), 8u);
  EXPECT_EQ(wire(values[4]).size(), 8u);
  EXPECT_EQ(wire(values[7]).size(), 1u);
  EXPECT_EQ(wire(values[12]).size(), 16u);
  // A GUID's text form and wire bytes (PS_MAPI, MS-OXPROPS 1.3.2).
  EXPECT_EQ(to_hex(wire(values[12])), "2803020000000000c000000000000046");
  // Strings: PtypString is UTF-16LE with a terminator, PtypString8 8-bit with one.
  EXPECT_EQ(to_hex(wire(values[9])), "656967687400");
  EXPECT_EQ(wire(values[10]).size(), (2 * 6 + 2) + 2u);  // "wïde " (5 units) + surrogate pair (2) + NUL
  // PidTagMessageSize-style sizes: UTF-16 bytes for PtypString.
  EXPECT_EQ(values[10].size(), 14u);
  EXPECT_EQ(values[9].size(), 5u);
}

TEST(PropValueWire, MalformedInputIsRejectedNotTrusted) {
  // A multi-value count far beyond the data.
  Bytes huge = {0xFF, 0xFF, 0xFF, 0x7F};
  BinaryReader r1(huge);
  EXPECT_EQ(code_of([&] { read_value(r1, PropTag(0x8000, PropType::MultipleInteger64)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // A string with no terminator.
  Bytes open = {'a', 0, 'b', 0};
  BinaryReader r2(open);
  EXPECT_EQ(code_of([&] { read_value(r2, PropTag(0x8000, PropType::String)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // An unpaired surrogate.
  Bytes sur = {0x00, 0xD8, 0x00, 0x00};
  BinaryReader r3(sur);
  EXPECT_EQ(code_of([&] { read_value(r3, PropTag(0x8000, PropType::String)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // A binary longer than the buffer.
  Bytes bin = {10, 0, 0, 0, 1, 2};
  BinaryReader r4(bin);
  EXPECT_EQ(code_of([&] { read_value(r4, PropTag(0x8000, PropType::Binary)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // An unknown type.
  Bytes t = {0x34, 0x12, 0x00, 0x80};
  BinaryReader r5(t);
  EXPECT_EQ(code_of([&] { read_tagged_value(r5); }), ErrorCode::MAPI_E_INVALID_TYPE);
  // Storage that does not fit the tag.
  EXPECT_EQ(code_of([&] { PropValue(tags::PidTagSubject, int32_t(1)); }), ErrorCode::MAPI_E_INVALID_TYPE);
}

TEST(PropTags, TypesNamesAndParsing) {
  EXPECT_EQ(tags::PidTagSubject.value, 0x0037001Fu);
  EXPECT_EQ(tags::PidTagSubject.id(), 0x0037);
  EXPECT_EQ(tags::PidTagSubject.type(), PropType::String);
  EXPECT_EQ(type_name(PropType::MultipleBinary), "PtypMultipleBinary");
  EXPECT_EQ(type_from_name("PT_UNICODE"), PropType::String);
  EXPECT_EQ(type_from_name("Integer32"), PropType::Integer32);
  EXPECT_EQ(type_from_name("bogus"), std::nullopt);
  EXPECT_EQ(parse_tag("0x0E060040"), tags::PidTagMessageDeliveryTime);
  EXPECT_EQ(parse_tag("0xZZ"), std::nullopt);
  EXPECT_EQ(parse_tag("0x123456789"), std::nullopt);
  EXPECT_EQ(base_type(PropType::MultipleString), PropType::String);
  EXPECT_TRUE(is_multi_valued(PropType::MultipleTime));
  EXPECT_FALSE(is_known_type(PropType(0x1234)));
  EXPECT_TRUE(PropTag(0x8001, PropType::Integer32).is_named());
}

TEST(Errors, NamesAndValues) {
  EXPECT_EQ(uint32_t(ErrorCode::MAPI_E_NOT_FOUND), 0x8004010Fu);
  EXPECT_EQ(uint32_t(ErrorCode::MAPI_E_STORE_FULL), 0x8004060Cu);
  EXPECT_EQ(error_name(ErrorCode::MAPI_E_NO_ACCESS), "MAPI_E_NO_ACCESS");
  EXPECT_EQ(error_name(ErrorCode(0x8004ABCD)), "0x8004ABCD");
  ErrorCode c;
  ASSERT_TRUE(error_from_name("MAPI_E_CORRUPT_STORE", c));
  EXPECT_EQ(uint32_t(c), 0x80040600u);
  EXPECT_FALSE(error_from_name("MAPI_E_NOPE", c));
  EXPECT_EQ(MapiError(ErrorCode::MAPI_E_NOT_FOUND, "no such folder").describe(), "MAPI_E_NOT_FOUND: no such folder");
}

TEST(Time, FileTimeConversions) {
  // 1970-01-01 is 116444736000000000 ticks after 1601-01-01 (MS-DTYP FILETIME).
  EXPECT_EQ(parse_filetime("1970-01-01"), 116444736000000000LL);
  EXPECT_EQ(parse_filetime("1601-01-01T00:00:00Z"), 0);
  EXPECT_EQ(format_filetime(116444736000000000LL), "1970-01-01T00:00:00Z");
  auto t = parse_filetime("2024-02-29T23:59:58.25Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_filetime(*t), "2024-02-29T23:59:58.250000Z");
  EXPECT_EQ(parse_filetime("2023-02-29"), std::nullopt);
  EXPECT_EQ(parse_filetime("1600-12-31"), std::nullopt);
  EXPECT_EQ(parse_filetime("2024-01-01Tnoon"), std::nullopt);
  EXPECT_EQ(format_filetime(-1), "filetime(-1)");
  EXPECT_EQ(format_filetime(INT64_MAX), "filetime(9223372036854775807)");
}

TEST(Unicode, Utf16AndCaseFolding) {
  EXPECT_EQ(utf16_to_utf8(utf8_to_utf16("Grüße 😀")), "Grüße 😀");
  EXPECT_EQ(utf8_to_utf16("😀").size(), 2u);
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));  // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // a surrogate
  EXPECT_THROW(utf8_to_utf16("\xFF"), MapiError);
  EXPECT_EQ(fold_case("ÄÖÜ ΣΑΣ ПРИВЕТ Ÿ Ł"), "äöü σασ привет ÿ ł");
}

TEST(BoundedReader, ChecksEveryLength) {
  Bytes b = {1, 2, 3};
  BinaryReader r(b);
  EXPECT_EQ(r.u16(), 0x0201);
  EXPECT_EQ(code_of([&] { r.u16(); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(r.position(), 2u);  // a failed read consumes nothing
  EXPECT_EQ(r.u8(), 3);
  EXPECT_EQ(code_of([&] { r.need_elements(1, 1); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(from_hex("01 ab\nFF"), (Bytes{1, 0xab, 0xff}));
  EXPECT_EQ(code_of([&] { from_hex("abc"); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST(PropertyBags, OneValuePerIdAndStringTypesInterchange) {
  PropertyBag b;
  b.set(PropValue::string(PropTag(0x0037, PropType::String8), "eight"));
  b.set(PropValue::string(tags::PidTagSubject, "wide"));  // same id: replaces
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.find(PropTag(0x0037, PropType::String8))->get<std::string>(), "wide");
  EXPECT_NE(b.find(PropTag(0x0037, PropType::Unspecified)), nullptr);
  EXPECT_EQ(b.find(PropTag(0x0037, PropType::Integer32)), nullptr);
  b.set(PropValue::i32(tags::PidTagImportance, 2));
  EXPECT_EQ(b.values().front().tag(), tags::PidTagImportance);  // kept in id order
  EXPECT_TRUE(b.erase(tags::PidTagImportance));
  EXPECT_FALSE(b.erase(tags::PidTagImportance));
  // Messages compare deeply, embedded messages included.
  Message m;
  Attachment a;
  a.embedded = std::make_unique<Message>();
  a.embedded->props.set(PropValue::string(tags::PidTagSubject, "inner"));
  m.attachments.push_back(a);
  Message copy = m;
  EXPECT_EQ(copy, m);
  copy.attachments[0].embedded->props.set(PropValue::string(tags::PidTagSubject, "changed"));
  EXPECT_FALSE(copy == m);
  EXPECT_EQ(m.subobjects(tags::PidTagMessageAttachments).size(), 1u);
}
