// Sort orders (MS-OXCDATA 2.13) and the value ordering used by tables and restrictions.
#include "core/sortorder.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/restriction.h"
#include "core/unicode.h"

namespace openmapi {
namespace {

// One element of a value, reduced to what ordering needs.
struct Scalar {
  enum Kind { None, Int, ErrCode, Currency, Time, Float, AppTime, Bool, Str, Bin, Uuid } kind = None;
  int64_t i = 0;
  long double f = 0;  // exact for every int64_t on the platforms we build for
  std::string_view s;
  ByteView b;
  const Guid* g = nullptr;
};

Scalar::Kind kind_of(PropType base) {
  switch (base) {
    case PropType::Integer16:
    case PropType::Integer32:
    case PropType::Integer64: return Scalar::Int;
    case PropType::ErrorCode: return Scalar::ErrCode;
    case PropType::Currency: return Scalar::Currency;
    case PropType::Time: return Scalar::Time;
    case PropType::Floating32:
    case PropType::Floating64: return Scalar::Float;
    case PropType::FloatingTime: return Scalar::AppTime;
    case PropType::Boolean: return Scalar::Bool;
    case PropType::String:
    case PropType::String8: return Scalar::Str;
    case PropType::Binary:
    case PropType::ServerId:
    case PropType::RuleAction: return Scalar::Bin;
    case PropType::Guid: return Scalar::Uuid;
    default: return Scalar::None;
  }
}

size_t element_count(const PropValue& v) {
  if (!is_multi_valued(v.type())) return 1;
  return std::visit(
      [](const auto& x) -> size_t {
        using X = std::decay_t<decltype(x)>;
        if constexpr (requires { x.size(); } && !std::is_same_v<X, std::string> && !std::is_same_v<X, Bytes>)
          return x.size();
        else
          return 0;
      },
      v.storage());
}

template <class T> void fill(Scalar& out, const T& x) {
  if constexpr (std::is_same_v<T, int16_t> || std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
    out.i = x;
    out.f = static_cast<long double>(x);
  } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    out.f = x;
  } else if constexpr (std::is_same_v<T, bool>) {
    out.i = x ? 1 : 0;
  } else if constexpr (std::is_same_v<T, std::string>) {
    out.s = x;
  } else if constexpr (std::is_same_v<T, Bytes>) {
    out.b = ByteView(x);
  } else if constexpr (std::is_same_v<T, Guid>) {
    out.g = &x;
  }
}

// Element `i` of `v` (a single value has one element).
Scalar element(const PropValue& v, size_t i) {
  Scalar out;
  out.kind = kind_of(base_type(v.type()));
  if (out.kind == Scalar::None) return out;
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate> || std::is_same_v<X, std::shared_ptr<const Restriction>>) {
          out.kind = Scalar::None;
        } else if constexpr (requires { typename X::value_type; } && !std::is_same_v<X, std::string> &&
                             !std::is_same_v<X, Bytes>) {
          fill(out, x.at(i));
        } else {
          fill(out, x);
        }
      },
      v.storage());
  return out;
}

template <class T> int three_way(const T& a, const T& b) { return a < b ? -1 : (b < a ? 1 : 0); }

// NaN sorts before every number and equal to itself, so the order stays total.
int compare_floats(long double a, long double b) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na == nb ? 0 : (na ? -1 : 1);
  return three_way(a, b);
}

int compare_strings(std::string_view a, std::string_view b) {
  // Case-insensitively first, then by code point (UTF-8 byte order is code point order).
  int c = fold_case(a).compare(fold_case(b));
  if (c == 0) c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int compare_bytes(ByteView a, ByteView b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return three_way(a.size(), b.size());
}

bool is_number(Scalar::Kind k) { return k == Scalar::Int || k == Scalar::Float; }

// Integers and floats of any width compare as numbers; other kinds only with themselves.
bool kinds_comparable(Scalar::Kind a, Scalar::Kind b) {
  return a != Scalar::None && b != Scalar::None && (a == b || (is_number(a) && is_number(b)));
}

std::optional<int> compare_scalars(const Scalar& a, const Scalar& b) {
  if (!kinds_comparable(a.kind, b.kind)) return std::nullopt;
  if (a.kind != b.kind) return compare_floats(a.f, b.f);
  switch (a.kind) {
    case Scalar::Int:
    case Scalar::ErrCode:
    case Scalar::Currency:
    case Scalar::Time:
    case Scalar::Bool: return three_way(a.i, b.i);
    case Scalar::Float:
    case Scalar::AppTime: return compare_floats(a.f, b.f);
    case Scalar::Str: return compare_strings(a.s, b.s);
    case Scalar::Bin: return compare_bytes(a.b, b.b);
    case Scalar::Uuid: return compare_bytes(a.g->bytes, b.g->bytes);
    case Scalar::None: break;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int> try_compare_values(const PropValue& a, const PropValue& b) {
  bool amv = is_multi_valued(a.type()), bmv = is_multi_valued(b.type());
  if (amv != bmv) return std::nullopt;
  if (!amv) return compare_scalars(element(a, 0), element(b, 0));
  if (!kinds_comparable(kind_of(base_type(a.type())), kind_of(base_type(b.type())))) return std::nullopt;
  // Multi-valued: element by element, then the shorter first.
  size_t na = element_count(a), nb = element_count(b);
  for (size_t i = 0; i < std::min(na, nb); ++i) {
    auto c = compare_scalars(element(a, i), element(b, i));
    if (!c) return std::nullopt;
    if (*c) return c;
  }
  return three_way(na, nb);
}

int compare_values(const PropValue* a, const PropValue* b) {
  if (!a || !b) return a == b ? 0 : (a ? 1 : -1);
  if (auto c = try_compare_values(*a, *b)) return *c;
  // Types that cannot be compared with each other order by type code.
  return three_way(uint16_t(a->type()), uint16_t(b->type()));
}

// ---- MS-OXCDATA 2.13 wire form ---------------------------------------------

namespace {

bool valid_direction(uint8_t d) {
  return d == uint8_t(SortDirection::Ascending) || d == uint8_t(SortDirection::Descending) ||
         d == uint8_t(SortDirection::CategoryMaximum) || d == uint8_t(SortDirection::CategoryMinimum);
}

void check_counts(size_t orders, uint32_t categories, uint32_t expanded) {
  // MS-OXCDATA 2.13.2: CategorizedCount <= SortOrderCount, ExpandedCount <= CategorizedCount.
  if (categories > orders)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "more category columns than sort orders");
  if (expanded > categories)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "more expanded categories than category columns");
}

}  // namespace

Bytes serialize_sort_order_set(const SortOrderSet& s) {
  if (s.orders.size() > 0xFFFF) throw_error(ErrorCode::MAPI_E_TOO_BIG, "too many sort orders");
  check_counts(s.orders.size(), s.categories, s.expanded);
  BinaryWriter w;
  w.u16(uint16_t(s.orders.size()));  // SortOrderCount
  w.u16(s.categories);                // CategorizedCount
  w.u16(s.expanded);                  // ExpandedCount
  for (const auto& o : s.orders) {
    // MS-OXCDATA 2.13.1: PropertyType (2 bytes), PropertyId (2 bytes), Order (1 byte),
    // which is the tag as a little-endian 32-bit value followed by the order.
    w.u32(o.tag.value);
    w.u8(uint8_t(o.direction));
  }
  return w.take();
}

SortOrderSet parse_sort_order_set(ByteView data) {
  BinaryReader r(data);
  SortOrderSet s;
  uint16_t count = r.u16();
  s.categories = r.u16();
  s.expanded = r.u16();
  r.need_elements(count, 5);
  check_counts(count, s.categories, s.expanded);
  s.orders.reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    SortOrder o;
    o.tag = PropTag(r.u32());
    uint8_t d = r.u8();
    if (!valid_direction(d))
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "unknown sort order 0x" + to_hex(ByteView(&d, 1)));
    o.direction = SortDirection(d);
    s.orders.push_back(o);
  }
  if (!r.at_end()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "trailing bytes after SortOrderSet");
  return s;
}

// ---- text form -------------------------------------------------------------

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool take_prefix(std::string_view& s, std::string_view p) {
  if (s.substr(0, p.size()) != p) return false;
  s.remove_prefix(p.size());
  return true;
}

}  // namespace

// Items separated by commas: [cat:|collapsed:][max:|min:][+|-]name.
SortOrderSet parse_sort_text(std::string_view text) {
  SortOrderSet s;
  text = trim(text);
  if (text.empty()) return s;
  bool categories_done = false, collapsed_seen = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "empty sort column in '" + std::string(text) + "'");
    bool expanded = take_prefix(item, "cat:");
    bool collapsed = !expanded && take_prefix(item, "collapsed:");
    if (expanded || collapsed) {
      if (categories_done)
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "category columns must come first in a sort order");
      if (expanded && collapsed_seen)
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "expanded categories must come before collapsed ones");
      collapsed_seen |= collapsed;
      ++s.categories;
      if (expanded) ++s.expanded;
    } else {
      categories_done = true;
    }
    SortOrder o;
    if (take_prefix(item, "max:")) o.direction = SortDirection::CategoryMaximum;
    else if (take_prefix(item, "min:")) o.direction = SortDirection::CategoryMinimum;
    else if (take_prefix(item, "-")) o.direction = SortDirection::Descending;
    else take_prefix(item, "+");
    o.tag = resolve_property_name(trim(item));
    s.orders.push_back(o);
  }
  return s;
}

std::string to_text(const SortOrderSet& s) {
  std::string out;
  for (size_t i = 0; i < s.orders.size(); ++i) {
    const auto& o = s.orders[i];
    if (i) out += ',';
    if (i < s.expanded) out += "cat:";
    else if (i < s.categories) out += "collapsed:";
    switch (o.direction) {
      case SortDirection::Ascending: break;
      case SortDirection::Descending: out += '-'; break;
      case SortDirection::CategoryMaximum: out += "max:"; break;
      case SortDirection::CategoryMinimum: out += "min:"; break;
    }
    out += property_text_name(o.tag);
  }
  return out;
}

}  // namespace openmapi
