// Value ordering and sort orders (MS-OXCDATA 2.13).
#include "core/sortorder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/restriction.h"

namespace openmapi {
namespace {

int cmp(const PropValue& a, const PropValue& b) { return compare_values(&a, &b); }

void expect_error(ErrorCode code, const std::function<void()>& f) {
  try {
    f();
    ADD_FAILURE() << "expected " << error_name(code);
  } catch (const MapiError& e) {
    EXPECT_EQ(e.code(), code) << e.what();
  }
}

const PropTag kI32(0x8000, PropType::Integer32);
const PropTag kI64(0x8000, PropType::Integer64);
const PropTag kF64(0x8000, PropType::Floating64);
const PropTag kStr(0x8000, PropType::String);
const PropTag kStr8(0x8000, PropType::String8);
const PropTag kBin(0x8000, PropType::Binary);

TEST(CompareValues, MissingSortsFirst) {
  PropValue v = PropValue::i32(kI32, -100);
  EXPECT_EQ(compare_values(nullptr, nullptr), 0);
  EXPECT_LT(compare_values(nullptr, &v), 0);
  EXPECT_GT(compare_values(&v, nullptr), 0);
}

TEST(CompareValues, Numbers) {
  EXPECT_LT(cmp(PropValue::i32(kI32, -5), PropValue::i32(kI32, 3)), 0);
  EXPECT_EQ(cmp(PropValue::i32(kI32, 3), PropValue::i32(kI32, 3)), 0);
  EXPECT_GT(cmp(PropValue::i64(kI64, INT64_MAX), PropValue::i64(kI64, INT64_MAX - 1)), 0);
  EXPECT_LT(cmp(PropValue::f64(kF64, -0.5), PropValue::f64(kF64, 0.25)), 0);
  EXPECT_LT(cmp(PropValue::f64(kF64, std::nan("")), PropValue::f64(kF64, -1e300)), 0);  // NaN first, order stays total
  EXPECT_EQ(cmp(PropValue::f64(kF64, std::nan("")), PropValue::f64(kF64, std::nan(""))), 0);
  // Different widths compare numerically.
  EXPECT_EQ(cmp(PropValue::i32(kI32, 7), PropValue::i64(kI64, 7)), 0);
  EXPECT_LT(cmp(PropValue::i32(kI32, 7), PropValue::f64(kF64, 7.5)), 0);
  EXPECT_GT(cmp(PropValue::i16(PropTag(0x8000, PropType::Integer16), 2), PropValue::i32(kI32, 1)), 0);
}

TEST(CompareValues, TimesBooleansGuids) {
  PropTag t(0x8000, PropType::Time);
  EXPECT_LT(cmp(PropValue::time(t, 100), PropValue::time(t, 200)), 0);
  PropTag b(0x8000, PropType::Boolean);
  EXPECT_LT(cmp(PropValue::boolean(b, false), PropValue::boolean(b, true)), 0);
  PropTag g(0x8000, PropType::Guid);
  EXPECT_LT(cmp(PropValue::guid(g, Guid::from_string("{00000001-0000-0000-0000-000000000000}")),
                PropValue::guid(g, Guid::from_string("{00000002-0000-0000-0000-000000000000}"))), 0);
}

TEST(CompareValues, StringsIgnoreCaseThenCodePoint) {
  EXPECT_LT(cmp(PropValue::string(kStr, "apple"), PropValue::string(kStr, "Banana")), 0);
  EXPECT_GT(cmp(PropValue::string(kStr, "cherry"), PropValue::string(kStr, "Banana")), 0);
  // Equal but for case: code point order breaks the tie ('A' < 'a'), so the order is total.
  EXPECT_LT(cmp(PropValue::string(kStr, "Apple"), PropValue::string(kStr, "apple")), 0);
  EXPECT_EQ(cmp(PropValue::string(kStr, "apple"), PropValue::string(kStr, "apple")), 0);
  EXPECT_LT(cmp(PropValue::string(kStr, "éclair"), PropValue::string(kStr, "Éclairs")), 0);
  EXPECT_LT(cmp(PropValue::string(kStr, ""), PropValue::string(kStr, "a")), 0);
  // PtypString8 and PtypString compare as strings.
  EXPECT_EQ(cmp(PropValue::string(kStr, "x"), PropValue::string(kStr8, "x")), 0);
}

TEST(CompareValues, BinariesByBytesThenLength) {
  EXPECT_LT(cmp(PropValue::binary(kBin, {1, 2}), PropValue::binary(kBin, {1, 3})), 0);
  EXPECT_LT(cmp(PropValue::binary(kBin, {1, 2}), PropValue::binary(kBin, {1, 2, 0})), 0);
  EXPECT_GT(cmp(PropValue::binary(kBin, {2}), PropValue::binary(kBin, {1, 9, 9})), 0);
  EXPECT_EQ(cmp(PropValue::binary(kBin, {}), PropValue::binary(kBin, {})), 0);
}

TEST(CompareValues, MultiValuedAndMismatchedTypes) {
  PropTag mv(0x8000, PropType::MultipleInteger32);
  EXPECT_LT(cmp(PropValue(mv, std::vector<int32_t>{1, 2}), PropValue(mv, std::vector<int32_t>{1, 3})), 0);
  EXPECT_LT(cmp(PropValue(mv, std::vector<int32_t>{1, 2}), PropValue(mv, std::vector<int32_t>{1, 2, 0})), 0);
  EXPECT_EQ(cmp(PropValue(mv, std::vector<int32_t>{}), PropValue(mv, std::vector<int32_t>{})), 0);
  // Incomparable types: no answer for restrictions, an order by type code for sorting.
  EXPECT_FALSE(try_compare_values(PropValue::string(kStr, "1"), PropValue::i32(kI32, 1)).has_value());
  EXPECT_FALSE(try_compare_values(PropValue(mv, std::vector<int32_t>{1}), PropValue::i32(kI32, 1)).has_value());
  EXPECT_LT(cmp(PropValue::i32(kI32, 100), PropValue::string(kStr, "1")), 0);  // 0x0003 < 0x001F
  EXPECT_GT(cmp(PropValue::string(kStr, "1"), PropValue::i32(kI32, 100)), 0);
}

// MS-OXCDATA 2.13.2 SortOrderSet: SortOrderCount, CategorizedCount, ExpandedCount (2 bytes each), then
// SortOrder (2.13.1) entries of PropertyType (2), PropertyId (2), Order (1).
TEST(SortOrderSetWire, Bytes) {
  SortOrderSet s;
  s.orders = {{tags::PidTagConversationTopic, SortDirection::Ascending},
              {tags::PidTagMessageDeliveryTime, SortDirection::CategoryMaximum},
              {tags::PidTagSubject, SortDirection::Descending}};
  s.categories = 1;
  s.expanded = 1;
  Bytes expected = {0x03, 0x00, 0x01, 0x00, 0x01, 0x00,  //
                    0x1F, 0x00, 0x70, 0x00, 0x00,         // PidTagConversationTopic ascending
                    0x40, 0x00, 0x06, 0x0E, 0x04,         // PidTagMessageDeliveryTime TABLE_SORT_MAXIMUM_CATEGORY
                    0x1F, 0x00, 0x37, 0x00, 0x01};        // PidTagSubject descending
  EXPECT_EQ(to_hex(serialize_sort_order_set(s)), to_hex(expected));
  EXPECT_EQ(parse_sort_order_set(expected), s);
  EXPECT_EQ(parse_sort_order_set(serialize_sort_order_set(SortOrderSet{})), SortOrderSet{});
}

TEST(SortOrderSetWire, Malformed) {
  Bytes good = serialize_sort_order_set(SortOrderSet{{{tags::PidTagSubject, SortDirection::Descending}}, 1, 0});
  for (size_t n = 0; n < good.size(); ++n)
    expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [&] { parse_sort_order_set(ByteView(good.data(), n)); });
  Bytes trailing = good;
  trailing.push_back(0);
  expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [&] { parse_sort_order_set(trailing); });
  expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [] { parse_sort_order_set(Bytes{0xFF, 0xFF, 0, 0, 0, 0, 1, 2, 3}); });
  // More categories than columns, more expanded than categories, an unknown order.
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER,
               [] { parse_sort_order_set(Bytes{1, 0, 2, 0, 0, 0, 0x1F, 0, 0x37, 0, 0}); });
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER,
               [] { parse_sort_order_set(Bytes{1, 0, 1, 0, 2, 0, 0x1F, 0, 0x37, 0, 0}); });
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER,
               [] { parse_sort_order_set(Bytes{1, 0, 0, 0, 0, 0, 0x1F, 0, 0x37, 0, 2}); });
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [] { serialize_sort_order_set(SortOrderSet{{}, 1, 0}); });
}

TEST(SortOrderSetText, ParseAndPrint) {
  SortOrderSet s = parse_sort_text("-PidTagMessageDeliveryTime, subject");
  ASSERT_EQ(s.orders.size(), 2u);
  EXPECT_EQ(s.orders[0], (SortOrder{tags::PidTagMessageDeliveryTime, SortDirection::Descending}));
  EXPECT_EQ(s.orders[1], (SortOrder{tags::PidTagSubject, SortDirection::Ascending}));
  EXPECT_EQ(s.categories, 0);
  EXPECT_EQ(to_text(s), "-PidTagMessageDeliveryTime,PidTagSubject");

  SortOrderSet c = parse_sort_text("cat:PidTagSenderName,collapsed:-topic,max:date,+0x80010003");
  EXPECT_EQ(c.categories, 2);
  EXPECT_EQ(c.expanded, 1);
  ASSERT_EQ(c.orders.size(), 4u);
  EXPECT_EQ(c.orders[1], (SortOrder{tags::PidTagConversationTopic, SortDirection::Descending}));
  EXPECT_EQ(c.orders[2], (SortOrder{tags::PidTagMessageDeliveryTime, SortDirection::CategoryMaximum}));
  EXPECT_EQ(to_text(c), "cat:PidTagSenderName,collapsed:-PidTagConversationTopic,max:PidTagMessageDeliveryTime,0x80010003");
  EXPECT_EQ(parse_sort_text(to_text(c)), c);
  EXPECT_EQ(parse_sort_text(""), SortOrderSet{});
  EXPECT_EQ(to_text(SortOrderSet{}), "");
}

TEST(SortOrderSetText, Errors) {
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [] { parse_sort_text("subject,cat:date"); });
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [] { parse_sort_text("collapsed:subject,cat:date"); });
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [] { parse_sort_text("subject,,date"); });
  expect_error(ErrorCode::MAPI_E_NOT_FOUND, [] { parse_sort_text("nosuchprop"); });
}

}  // namespace
}  // namespace openmapi
