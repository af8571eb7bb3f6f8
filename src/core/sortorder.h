// Sort orders (MS-OXCDATA 2.13) and the value ordering MAPI tables use.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/propvalue.h"

namespace openmapi {

// MS-OXCDATA 2.13.1 SortOrder.Order.
enum class SortDirection : uint8_t { Ascending = 0x00, Descending = 0x01, CategoryMaximum = 0x04, CategoryMinimum = 0x08 };

struct SortOrder {
  PropTag tag;
  SortDirection direction = SortDirection::Ascending;
  friend bool operator==(const SortOrder&, const SortOrder&) = default;
};

// MS-OXCDATA 2.13.2 SortOrderSet: the first `categories` orders are category columns, of which
// the first `expanded` start expanded. A CategoryMaximum/Minimum order right after the last
// category column orders the deepest categories by that column's max/min within each category (in
// the direction of that category column), and the rows inside a category by that column,
// descending for the maximum and ascending for the minimum.
struct SortOrderSet {
  std::vector<SortOrder> orders;
  uint16_t categories = 0;
  uint16_t expanded = 0;
  friend bool operator==(const SortOrderSet&, const SortOrderSet&) = default;
};

// Orders two values of the same type as MAPI tables do: numbers and times numerically,
// strings case-insensitively (then by code point), binaries by bytes then length, booleans
// false < true. A missing value (nullptr) sorts before any value. Returns <0, 0, >0.
// Values of different types order by type code (MV and single forms of one type compare as below).
int compare_values(const PropValue* a, const PropValue* b);
// The ordering restrictions use: like compare_values, but values of different types compare only
// when that makes sense (integers of any width and floats numerically, PtypString with PtypString8);
// nullopt when they cannot be compared. Multi-valued values compare element by element, then by count.
std::optional<int> try_compare_values(const PropValue& a, const PropValue& b);

// MS-OXCDATA 2.13.2 wire form; parse throws MAPI_E_CORRUPT_DATA / MAPI_E_INVALID_PARAMETER.
Bytes serialize_sort_order_set(const SortOrderSet& s);
SortOrderSet parse_sort_order_set(ByteView data);

// Text form for the command line: "-PidTagMessageDeliveryTime,subject" ('-' descending,
// '+' or nothing ascending); "cat:PidTagSenderName,-PidTagMessageDeliveryTime" marks category columns.
SortOrderSet parse_sort_text(std::string_view text);
std::string to_text(const SortOrderSet& s);

}  // namespace openmapi
