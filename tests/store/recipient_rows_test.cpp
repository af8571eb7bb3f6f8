// The messages.recipients value (store/sqlite/values.h): every property type round-trips, row
// ids are kept, and damaged values fail with MAPI_E_CORRUPT_STORE before anything is allocated.
#include <gtest/gtest.h>

#include "test_util.h"

#include "store/sqlite/values.h"

using namespace openmapi;
using namespace openmapi::store::sqlite;
using openmapi::testing::code_of;

namespace {

std::vector<PropertyBag> sample_rows() {
  PropertyBag a;
  a.set(PropValue::i32(tags::PidTagRowid, 0));
  a.set(PropValue::string(tags::PidTagDisplayName, "Zoë Example"));
  a.set(PropValue::string(tags::PidTagSmtpAddress, "zoe@example.com"));
  a.set(PropValue::i32(tags::PidTagRecipientType, 1));
  a.set(PropValue::binary(tags::PidTagEntryId, Bytes{0, 0, 0, 0, 0xDC, 0xA7, 0x40, 0xC8}));
  a.set(PropValue::boolean(PropTag(0x0E0F, PropType::Boolean), true));       // PidTagResponsibility
  a.set(PropValue::time(PropTag(0x5FB6, PropType::Time), 0x01D0000000000000));  // a recipient time
  a.set(PropValue(PropTag(0x8001, PropType::MultipleString), std::vector<std::string>{"x", "ÿ", ""}));
  a.set(PropValue(PropTag(0x8002, PropType::Floating64), 2.5));
  a.set(PropValue(PropTag(0x8003, PropType::Integer16), int16_t(-3)));
  PropertyBag b;
  b.set(PropValue::i32(tags::PidTagRowid, 7));
  b.set(PropValue::string(tags::PidTagDisplayName, ""));  // an empty string stays a value
  return {a, b};
}

}  // namespace

TEST(RecipientRows, EveryValueAndRowIdRoundTrips) {
  const auto rows = sample_rows();
  const Bytes blob = encode_recipient_rows(rows);
  const auto back = decode_recipient_rows(blob);
  ASSERT_EQ(back.size(), 2u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back[i].values().size(), rows[i].values().size()) << i;
    for (const PropValue& v : rows[i].values()) {
      const PropValue* got = back[i].find(v.tag());
      ASSERT_NE(got, nullptr) << v.tag().hex();
      EXPECT_EQ(*got, v) << v.tag().hex();
    }
  }
  // Its size counts the values, not the row ids.
  int64_t expected = 0;
  for (const auto& r : rows)
    for (const auto& v : r.values())
      if (v.tag().id() != tags::PidTagRowid.id()) expected += int64_t(v.size());
  EXPECT_EQ(recipient_rows_size(blob), expected);
}

TEST(RecipientRows, String8IsKeptAsStringAndErrorsAreLeftOut) {
  PropertyBag r;
  r.set(PropValue::i32(tags::PidTagRowid, 1));
  r.set(PropValue(PropTag(0x3001, PropType::String8), std::string("Eight Bit")));
  r.set(PropValue::error(0x3003, ErrorCode::MAPI_E_NOT_FOUND));
  const auto back = decode_recipient_rows(encode_recipient_rows({r}));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].get_string(PropTag(0x3001, PropType::String)), "Eight Bit");
  EXPECT_EQ(back[0].find(PropTag(0x3003, PropType::ErrorCode)), nullptr);
  EXPECT_EQ(back[0].values().size(), 2u);  // the row id and the name
}

TEST(RecipientRows, ARowWithoutItsRowIdIsRefused) {
  PropertyBag r;
  r.set(PropValue::string(tags::PidTagDisplayName, "no id"));
  EXPECT_EQ(code_of([&] { encode_recipient_rows({r}); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
}

TEST(RecipientRows, DamagedValuesAreCorruptStore) {
  const Bytes good = encode_recipient_rows(sample_rows());
  // Every truncation fails cleanly.
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(code_of([&] { decode_recipient_rows(ByteView(good.data(), n)); }), ErrorCode::MAPI_E_CORRUPT_STORE) << n;
  // An unknown version, a trailing byte.
  Bytes v2 = good;
  v2[0] = 2;
  EXPECT_EQ(code_of([&] { decode_recipient_rows(v2); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(code_of([&] { decode_recipient_rows(longer); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  // A claimed four billion rows (or properties, or string bytes) in a few bytes: refused
  // before anything is reserved.
  const Bytes huge_rows{1, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  EXPECT_EQ(code_of([&] { decode_recipient_rows(huge_rows); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  const Bytes huge_props{1, 1, 0, 0, 0, /*rowid*/ 0, 0, 0, 0, /*count*/ 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(code_of([&] { decode_recipient_rows(huge_props); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  const Bytes huge_string{1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /*tag 3001001F*/ 0x1F, 0x00, 0x01, 0x30, 0xFF, 0xFF, 0xFF, 0x7F};
  EXPECT_EQ(code_of([&] { decode_recipient_rows(huge_string); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  // The row id again among the properties (as another type), a string that is not UTF-8, an
  // 8-bit multi-valued string that is not either.
  const Bytes rowid_again{1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x1F, 0x10, 0x00, 0x30, 0, 0, 0, 0};
  EXPECT_EQ(code_of([&] { decode_recipient_rows(rowid_again); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  const Bytes not_utf8{1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x1F, 0x00, 0x01, 0x30, 2, 0, 0, 0, 0xC3, 0x28};
  EXPECT_EQ(code_of([&] { decode_recipient_rows(not_utf8); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  const Bytes mv8{1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x1E, 0x10, 0x01, 0x80, 1, 0, 0, 0, 1, 0, 0, 0, 0xFF};
  EXPECT_EQ(code_of([&] { decode_recipient_rows(mv8); }), ErrorCode::MAPI_E_CORRUPT_STORE);
  // A tag of no known type.
  const Bytes bad_type{1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x77, 0x07, 0x01, 0x30};
  EXPECT_EQ(code_of([&] { decode_recipient_rows(bad_type); }), ErrorCode::MAPI_E_CORRUPT_STORE);
}
