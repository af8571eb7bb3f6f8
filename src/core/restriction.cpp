// Restrictions (MS-OXCDATA 2.12): copying, comparing, evaluating, the wire forms and the text syntax
// (docs/RESTRICTIONS.md).
#include "core/restriction.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/catalog.h"
#include "core/filetime.h"
#include "core/sortorder.h"
#include "core/unicode.h"

namespace openmapi {

using Node = decltype(Restriction::node);

// ---- copying and equality ----------------------------------------------------

namespace {

std::unique_ptr<Restriction> clone(const std::unique_ptr<Restriction>& p) {
  return p ? std::make_unique<Restriction>(*p) : nullptr;
}

Node copy_node(const Node& n) {
  return std::visit(
      [](const auto& x) -> Node {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, Restriction::Not>) return Restriction::Not{clone(x.child)};
        else if constexpr (std::is_same_v<X, Restriction::Sub>) return Restriction::Sub{x.subobject, clone(x.child)};
        else if constexpr (std::is_same_v<X, Restriction::Comment>) return Restriction::Comment{x.values, clone(x.child)};
        else if constexpr (std::is_same_v<X, Restriction::Count>) return Restriction::Count{x.count, clone(x.child)};
        else return x;
      },
      n);
}

// Values compare by content; two NaNs with the same bits count as equal so that parse/serialize
// round trips can be checked.
bool value_equal(const PropValue& a, const PropValue& b) {
  if (a.tag() != b.tag()) return false;
  if (a == b) return true;
  try {
    BinaryWriter wa, wb;
    write_value(wa, a);
    write_value(wb, b);
    return wa.data() == wb.data();
  } catch (const MapiError&) {
    return false;
  }
}

bool child_equal(const std::unique_ptr<Restriction>& a, const std::unique_ptr<Restriction>& b) {
  if (!a || !b) return !a && !b;
  return restriction_equal(*a, *b);
}

bool children_equal(const std::vector<Restriction>& a, const std::vector<Restriction>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!restriction_equal(a[i], b[i])) return false;
  return true;
}

}  // namespace

Restriction::Restriction(const Restriction& o) : node(copy_node(o.node)) {}

Restriction& Restriction::operator=(const Restriction& o) {
  if (this != &o) node = copy_node(o.node);
  return *this;
}

bool restriction_equal(const Restriction& a, const Restriction& b) {
  if (a.node.index() != b.node.index()) return false;
  return std::visit(
      [&](const auto& x) -> bool {
        using X = std::decay_t<decltype(x)>;
        const X& y = std::get<X>(b.node);
        if constexpr (std::is_same_v<X, Restriction::And> || std::is_same_v<X, Restriction::Or>)
          return children_equal(x.children, y.children);
        else if constexpr (std::is_same_v<X, Restriction::Not>) return child_equal(x.child, y.child);
        else if constexpr (std::is_same_v<X, Restriction::Content>)
          return x.fuzzy_level == y.fuzzy_level && x.tag == y.tag && value_equal(x.value, y.value);
        else if constexpr (std::is_same_v<X, Restriction::Property>)
          return x.op == y.op && x.tag == y.tag && value_equal(x.value, y.value);
        else if constexpr (std::is_same_v<X, Restriction::CompareProps>)
          return x.op == y.op && x.tag1 == y.tag1 && x.tag2 == y.tag2;
        else if constexpr (std::is_same_v<X, Restriction::Bitmask>)
          return x.op == y.op && x.tag == y.tag && x.mask == y.mask;
        else if constexpr (std::is_same_v<X, Restriction::Size>)
          return x.op == y.op && x.tag == y.tag && x.size == y.size;
        else if constexpr (std::is_same_v<X, Restriction::Exist>) return x.tag == y.tag;
        else if constexpr (std::is_same_v<X, Restriction::Sub>)
          return x.subobject == y.subobject && child_equal(x.child, y.child);
        else if constexpr (std::is_same_v<X, Restriction::Comment>) {
          if (x.values.size() != y.values.size()) return false;
          for (size_t i = 0; i < x.values.size(); ++i)
            if (!value_equal(x.values[i], y.values[i])) return false;
          return child_equal(x.child, y.child);
        } else {
          static_assert(std::is_same_v<X, Restriction::Count>);
          return x.count == y.count && child_equal(x.child, y.child);
        }
      },
      a.node);
}

// ---- evaluation --------------------------------------------------------------

namespace {

// A tag as lookups use it: MVI_FLAG (MS-OXCTABL 2.2.2.1.1) only matters to tables; here a
// multi-valued property is matched by any of its values anyway.
PropTag lookup_tag(PropTag t) {
  return PropTag(t.id(), PropType(uint16_t(t.type()) & ~kMultiValueInstanceFlag));
}

// The object's value for `tag`: of the tag's type if there is one, else of any type with that id
// (a PtypInteger32 restriction on a PtypInteger64 property then still compares numerically).
const PropValue* lookup(const PropertySource& src, PropTag tag) {
  tag = lookup_tag(tag);
  if (const PropValue* v = src.find(tag)) return v;
  if (tag.type() == PropType::Unspecified) return nullptr;
  return src.find(tag.with_type(PropType::Unspecified));
}

size_t value_count(const PropValue& v) {
  if (!is_multi_valued(v.type())) return 1;
  return std::visit(
      [](const auto& x) -> size_t {
        using X = std::decay_t<decltype(x)>;
        if constexpr (requires { typename X::value_type; } && !std::is_same_v<X, std::string> &&
                      !std::is_same_v<X, Bytes>)
          return x.size();
        else
          return 0;
      },
      v.storage());
}

// Instance `i` of a multi-valued value, as a single value of the base type.
PropValue instance(const PropValue& v, size_t i) {
  PropTag t = v.tag().with_type(base_type(v.type()));
  return std::visit(
      [&](const auto& x) -> PropValue {
        using X = std::decay_t<decltype(x)>;
        if constexpr (requires { typename X::value_type; } && !std::is_same_v<X, std::string> &&
                      !std::is_same_v<X, Bytes>)
          return PropValue(t, ValueStorage(x.at(i)));
        else
          return v;
      },
      v.storage());
}

bool relop_holds(RelOp op, int c) {
  switch (op) {
    case RelOp::Lt: return c < 0;
    case RelOp::Le: return c <= 0;
    case RelOp::Gt: return c > 0;
    case RelOp::Ge: return c >= 0;
    case RelOp::Eq: return c == 0;
    case RelOp::Ne: return c != 0;
    default: return false;  // RELOP_RE and RELOP_MEMBER_OF_DL are not supported: never true
  }
}

// MS-OXCDATA 2.12.5: a multi-valued property against a single value matches if any instance does.
// Two multi-valued (or two single) values compare as wholes. Values that cannot be compared fail.
bool compare_holds(RelOp op, const PropValue& prop, const PropValue& value) {
  bool pmv = is_multi_valued(prop.type()), vmv = is_multi_valued(value.type());
  if (pmv == vmv) {
    auto c = try_compare_values(prop, value);
    return c && relop_holds(op, *c);
  }
  const PropValue& many = pmv ? prop : value;
  const PropValue& one = pmv ? value : prop;
  for (size_t i = 0, n = value_count(many); i < n; ++i) {
    PropValue x = instance(many, i);
    auto c = pmv ? try_compare_values(x, one) : try_compare_values(one, x);
    if (c && relop_holds(op, *c)) return true;
  }
  return false;
}

bool is_string_type(PropType t) { return base_type(t) == PropType::String || base_type(t) == PropType::String8; }
bool is_binary_type(PropType t) {
  PropType b = base_type(t);
  return b == PropType::Binary || b == PropType::ServerId || b == PropType::RuleAction;
}

std::vector<std::string_view> strings_of(const PropValue& v) {
  std::vector<std::string_view> out;
  if (const auto* s = v.get_if<std::string>()) out.push_back(*s);
  else if (const auto* xs = v.get_if<std::vector<std::string>>())
    for (const auto& x : *xs) out.push_back(x);
  return out;
}

std::vector<ByteView> binaries_of(const PropValue& v) {
  std::vector<ByteView> out;
  if (const auto* b = v.get_if<Bytes>()) out.push_back(ByteView(*b));
  else if (const auto* xs = v.get_if<std::vector<Bytes>>())
    for (const auto& x : *xs) out.push_back(ByteView(x));
  return out;
}

// Decodes one UTF-8 sequence at s[i]; returns false (and leaves i) for a malformed one.
bool next_code_point(std::string_view s, size_t& i, char32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return false;
  cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  i += n;
  return true;
}

bool is_nonspacing(char32_t cp) {
  // Combining diacritical marks (Unicode general category Mn in these blocks).
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
         (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

// Base letters of the precomposed Latin-1 and Latin Extended-A letters ('.' = no decomposition).
constexpr std::string_view kLatinBase =
    "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y"  // U+00C0..U+00FF
    "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl."  // U+0100..U+013F
    "...NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZz.";  // U+0140..U+017F

// FL_IGNORENONSPACE: drops combining marks and reduces precomposed Latin letters to their base.
std::string strip_nonspacing(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t cp;
    if (!next_code_point(s, i, cp)) {
      out.push_back(s[start]);
      i = start + 1;
      continue;
    }
    if (is_nonspacing(cp)) continue;
    if (cp >= 0xC0 && cp <= 0x17F && kLatinBase[cp - 0xC0] != '.') out.push_back(kLatinBase[cp - 0xC0]);
    else out.append(s.substr(start, i - start));
  }
  return out;
}

std::string normalize(std::string_view s, uint32_t fuzzy_level) {
  // FL_LOOSE: "a match whenever possible, ignoring case and non-spacing characters".
  bool loose = fuzzy_level & fuzzy::Loose;
  std::string out(s);
  if (loose || (fuzzy_level & fuzzy::IgnoreNonSpace)) out = strip_nonspacing(out);
  if (loose || (fuzzy_level & fuzzy::IgnoreCase)) out = fold_case(out);
  return out;
}

template <class Seq> bool fuzzy_match(uint32_t fuzzy_level, const Seq& hay, const Seq& needle) {
  switch (fuzzy_level & 0xFFFF) {  // FuzzyLevelLow, MS-OXCDATA 2.12.2.1
    case fuzzy::FullString: return std::equal(hay.begin(), hay.end(), needle.begin(), needle.end());
    case fuzzy::Substring: return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end() || needle.empty();
    case fuzzy::Prefix:
      return hay.size() >= needle.size() && std::equal(needle.begin(), needle.end(), hay.begin());
    default: return false;
  }
}

// RES_CONTENT over strings or binaries; any instance of a multi-valued property may match.
bool content_holds(const Restriction::Content& c, const PropValue& prop) {
  if (is_string_type(prop.type()) && is_string_type(c.value.type())) {
    for (auto needle : strings_of(c.value)) {
      std::string n = normalize(needle, c.fuzzy_level);
      for (auto hay : strings_of(prop))
        if (fuzzy_match(c.fuzzy_level, normalize(hay, c.fuzzy_level), n)) return true;
    }
    return false;
  }
  if (is_binary_type(prop.type()) && is_binary_type(c.value.type())) {
    // FuzzyLevelHigh applies to strings only.
    for (auto needle : binaries_of(c.value))
      for (auto hay : binaries_of(prop))
        if (fuzzy_match(c.fuzzy_level, hay, needle)) return true;
    return false;
  }
  return false;
}

std::optional<uint32_t> integer_bits(const PropValue& v) {
  if (const auto* x = v.get_if<int16_t>()) return uint32_t(uint16_t(*x));
  if (const auto* x = v.get_if<int32_t>()) return uint32_t(*x);
  if (v.type() == PropType::Integer64)
    if (const auto* x = v.get_if<int64_t>()) return uint32_t(uint64_t(*x));
  return std::nullopt;
}

size_t count_nodes(const Restriction& r);

size_t count_child(const std::unique_ptr<Restriction>& c) { return c ? count_nodes(*c) : 0; }

// The number of RES_COUNT nodes in `r`: EvalState keeps one counter per node, in pre-order.
size_t count_nodes(const Restriction& r) {
  return std::visit(
      [](const auto& x) -> size_t {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, Restriction::And> || std::is_same_v<X, Restriction::Or>) {
          size_t n = 0;
          for (const auto& c : x.children) n += count_nodes(c);
          return n;
        } else if constexpr (std::is_same_v<X, Restriction::Count>) {
          return 1 + count_child(x.child);
        } else if constexpr (requires { x.child; }) {
          return count_child(x.child);
        } else {
          return 0;
        }
      },
      r.node);
}

class Evaluator {
 public:
  Evaluator(EvalState& state, bool counting) : state_(state), counting_(counting) {}

  // `index` is the pre-order number of the first RES_COUNT node at or below `r`.
  bool eval(const Restriction& r, const PropertySource& src, size_t index) {
    return std::visit([&](const auto& x) { return eval_node(x, src, index); }, r.node);
  }

 private:
  bool eval_child(const std::unique_ptr<Restriction>& c, const PropertySource& src, size_t index) {
    return c ? eval(*c, src, index) : true;  // a missing child restricts nothing
  }

  bool eval_node(const Restriction::And& x, const PropertySource& src, size_t index) {
    for (const auto& c : x.children) {
      if (!eval(c, src, index)) return false;
      if (counting_) index += count_nodes(c);
    }
    return true;
  }
  bool eval_node(const Restriction::Or& x, const PropertySource& src, size_t index) {
    for (const auto& c : x.children) {
      if (eval(c, src, index)) return true;
      if (counting_) index += count_nodes(c);
    }
    return false;
  }
  bool eval_node(const Restriction::Not& x, const PropertySource& src, size_t index) {
    return !eval_child(x.child, src, index);
  }
  bool eval_node(const Restriction::Content& x, const PropertySource& src, size_t) {
    const PropValue* v = lookup(src, x.tag);
    return v && content_holds(x, *v);
  }
  bool eval_node(const Restriction::Property& x, const PropertySource& src, size_t) {
    const PropValue* v = lookup(src, x.tag);
    return v && compare_holds(x.op, *v, x.value);
  }
  bool eval_node(const Restriction::CompareProps& x, const PropertySource& src, size_t) {
    const PropValue* a = lookup(src, x.tag1);
    const PropValue* b = lookup(src, x.tag2);
    return a && b && compare_holds(x.op, *a, *b);
  }
  bool eval_node(const Restriction::Bitmask& x, const PropertySource& src, size_t) {
    const PropValue* v = lookup(src, x.tag);
    if (!v) return false;
    auto bits = integer_bits(*v);
    if (!bits) return false;
    bool zero = (*bits & x.mask) == 0;  // MS-OXCDATA 2.12.7: BMR_EQZ / BMR_NEZ
    return x.op == BitmaskOp::EqualToZero ? zero : (x.op == BitmaskOp::NotEqualToZero && !zero);
  }
  bool eval_node(const Restriction::Size& x, const PropertySource& src, size_t) {
    const PropValue* v = lookup(src, x.tag);
    if (!v) return false;
    size_t size;
    try {
      size = v->size();
    } catch (const MapiError&) {
      return false;
    }
    return relop_holds(x.op, size < x.size ? -1 : (size > x.size ? 1 : 0));
  }
  bool eval_node(const Restriction::Exist& x, const PropertySource& src, size_t) {
    return src.find(lookup_tag(x.tag)) != nullptr;
  }
  bool eval_node(const Restriction::Sub& x, const PropertySource& src, size_t index) {
    // MS-OXCDATA 2.12.10: true if any row of the recipient or attachment table matches.
    for (const PropertySource* row : src.subobjects(x.subobject))
      if (eval_child(x.child, *row, index)) return true;
    return false;
  }
  bool eval_node(const Restriction::Comment& x, const PropertySource& src, size_t index) {
    return eval_child(x.child, src, index);
  }
  bool eval_node(const Restriction::Count& x, const PropertySource& src, size_t index) {
    // MS-OXCDATA 2.12.12: only the first `count` matches of the sub-restriction count as matches.
    if (!eval_child(x.child, src, index + 1)) return false;
    if (state_.count_matches.size() <= index) state_.count_matches.resize(index + 1, 0);
    uint32_t& seen = state_.count_matches[index];
    if (seen >= x.count) return false;
    ++seen;
    return true;
  }

  EvalState& state_;
  bool counting_;
};

}  // namespace

bool evaluate(const Restriction& r, const PropertySource& source, EvalState& state) {
  bool counting = count_nodes(r) > 0;
  return Evaluator(state, counting).eval(r, source, 0);
}

bool evaluate(const Restriction& r, const PropertySource& source) {
  EvalState state;
  return evaluate(r, source, state);
}

// ---- wire form (MS-OXCDATA 2.12) -------------------------------------------

namespace {

void write_node(BinaryWriter& w, const Restriction& r, RestrictionForm form, int depth);

// COUNT fields are 16 bits wide in the standard form: refuse what would not fit rather than truncate.
void check_standard_counts(const PropValue& v) {
  auto too_big = [&] {
    throw_error(ErrorCode::MAPI_E_TOO_BIG, "value of " + v.tag().hex() + " is too large for a 16-bit count");
  };
  if (const auto* b = v.get_if<Bytes>(); b && b->size() > 0xFFFF) too_big();
  if (is_multi_valued(v.type()) && value_count(v) > 0xFFFF) too_big();
  if (const auto* xs = v.get_if<std::vector<Bytes>>())
    for (const auto& x : *xs)
      if (x.size() > 0xFFFF) too_big();
}

void write_value_in(BinaryWriter& w, const PropValue& v, RestrictionForm form, int depth) {
  w.u32(v.tag().value);
  if (v.type() == PropType::Restriction) {
    write_node(w, *v.get<std::shared_ptr<const Restriction>>(), form, depth + 1);
    return;
  }
  if (form == RestrictionForm::Standard) check_standard_counts(v);
  write_value(w, v, form == RestrictionForm::Extended);
}

void write_child(BinaryWriter& w, const std::unique_ptr<Restriction>& c, RestrictionForm form, int depth) {
  if (!c) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "restriction without its sub-restriction");
  write_node(w, *c, form, depth + 1);
}

void write_children(BinaryWriter& w, const std::vector<Restriction>& cs, RestrictionForm form, int depth) {
  // RestrictCount: 16 bits in the standard form, 32 in the extended-rule form (MS-OXCDATA 2.12.1.1).
  if (form == RestrictionForm::Standard) {
    if (cs.size() > 0xFFFF) throw_error(ErrorCode::MAPI_E_TOO_BIG, "too many sub-restrictions for a 16-bit count");
    w.u16(uint16_t(cs.size()));
  } else {
    w.u32(uint32_t(cs.size()));
  }
  for (const auto& c : cs) write_node(w, c, form, depth + 1);
}

void write_node(BinaryWriter& w, const Restriction& r, RestrictionForm form, int depth) {
  if (depth >= kMaxRestrictionDepth)
    throw_error(ErrorCode::MAPI_E_TOO_COMPLEX, "restriction nested deeper than 256 levels");
  w.u8(uint8_t(r.type()));  // RestrictType
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, Restriction::And> || std::is_same_v<X, Restriction::Or>) {
          write_children(w, x.children, form, depth);
        } else if constexpr (std::is_same_v<X, Restriction::Not>) {
          write_child(w, x.child, form, depth);
        } else if constexpr (std::is_same_v<X, Restriction::Content>) {
          w.u32(x.fuzzy_level);  // FuzzyLevelLow, FuzzyLevelHigh (2.12.2.1)
          w.u32(x.tag.value);
          write_value_in(w, x.value, form, depth);
        } else if constexpr (std::is_same_v<X, Restriction::Property>) {
          w.u8(uint8_t(x.op));
          w.u32(x.tag.value);
          write_value_in(w, x.value, form, depth);
        } else if constexpr (std::is_same_v<X, Restriction::CompareProps>) {
          w.u8(uint8_t(x.op));
          w.u32(x.tag1.value);
          w.u32(x.tag2.value);
        } else if constexpr (std::is_same_v<X, Restriction::Bitmask>) {
          w.u8(uint8_t(x.op));
          w.u32(x.tag.value);
          w.u32(x.mask);
        } else if constexpr (std::is_same_v<X, Restriction::Size>) {
          w.u8(uint8_t(x.op));
          w.u32(x.tag.value);
          w.u32(x.size);
        } else if constexpr (std::is_same_v<X, Restriction::Exist>) {
          w.u32(x.tag.value);
        } else if constexpr (std::is_same_v<X, Restriction::Sub>) {
          w.u32(x.subobject.value);
          write_child(w, x.child, form, depth);
        } else if constexpr (std::is_same_v<X, Restriction::Comment>) {
          // TaggedValuesCount (1 byte), TaggedValues, RestrictionPresent (1 byte), Restriction (2.12.11.1).
          if (x.values.size() > 0xFF) throw_error(ErrorCode::MAPI_E_TOO_BIG, "more than 255 comment values");
          w.u8(uint8_t(x.values.size()));
          for (const auto& v : x.values) write_value_in(w, v, form, depth);
          w.u8(x.child ? 1 : 0);
          if (x.child) write_node(w, *x.child, form, depth + 1);
        } else {
          static_assert(std::is_same_v<X, Restriction::Count>);
          w.u32(x.count);
          write_child(w, x.child, form, depth);
        }
      },
      r.node);
}

[[noreturn]] void corrupt(const BinaryReader& r, const std::string& what) {
  throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "restriction: " + what + " at offset " + std::to_string(r.position()));
}

RelOp read_relop(BinaryReader& r) {
  uint8_t v = r.u8();
  if (v > uint8_t(RelOp::Re) && v != uint8_t(RelOp::MemberOfDl)) corrupt(r, "unknown relational operator");
  return RelOp(v);
}

Restriction read_node(BinaryReader& r, int depth, RestrictionForm form);

PropValue read_value_in(BinaryReader& r, int depth, RestrictionForm form) {
  PropTag tag(r.u32());
  if (tag.type() == PropType::Restriction)  // nested restrictions count against the depth limit
    return PropValue(tag, std::make_shared<const Restriction>(read_node(r, depth + 1, form)));
  try {
    return read_value(r, tag, form == RestrictionForm::Extended);
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA) throw;
    corrupt(r, std::string("bad property value: ") + e.what());
  }
}

std::unique_ptr<Restriction> read_child(BinaryReader& r, int depth, RestrictionForm form) {
  return std::make_unique<Restriction>(read_node(r, depth + 1, form));
}

Restriction read_node(BinaryReader& r, int depth, RestrictionForm form) {
  if (depth >= kMaxRestrictionDepth) corrupt(r, "nested deeper than 256 levels");
  uint8_t type = r.u8();
  switch (RestrictionType(type)) {
    case RestrictionType::And:
    case RestrictionType::Or: {
      uint32_t n = form == RestrictionForm::Standard ? r.u16() : r.u32();
      // The smallest restriction is an empty AND: 3 bytes (standard) or 5 (extended).
      r.need_elements(n, form == RestrictionForm::Standard ? 3 : 5);
      std::vector<Restriction> children;
      children.reserve(n);
      for (uint32_t i = 0; i < n; ++i) children.push_back(read_node(r, depth + 1, form));
      if (type == uint8_t(RestrictionType::And)) return Restriction::And{std::move(children)};
      return Restriction::Or{std::move(children)};
    }
    case RestrictionType::Not: return Restriction::Not{read_child(r, depth, form)};
    case RestrictionType::Content: {
      uint32_t fuzzy_level = r.u32();
      PropTag tag(r.u32());
      return Restriction::Content{fuzzy_level, tag, read_value_in(r, depth, form)};
    }
    case RestrictionType::Property: {
      RelOp op = read_relop(r);
      PropTag tag(r.u32());
      return Restriction::Property{op, tag, read_value_in(r, depth, form)};
    }
    case RestrictionType::CompareProps: {
      RelOp op = read_relop(r);
      PropTag t1(r.u32());
      PropTag t2(r.u32());
      return Restriction::CompareProps{op, t1, t2};
    }
    case RestrictionType::Bitmask: {
      uint8_t op = r.u8();
      if (op > 1) corrupt(r, "unknown bitmask operator");
      PropTag tag(r.u32());
      return Restriction::Bitmask{BitmaskOp(op), tag, r.u32()};
    }
    case RestrictionType::Size: {
      RelOp op = read_relop(r);
      PropTag tag(r.u32());
      return Restriction::Size{op, tag, r.u32()};
    }
    case RestrictionType::Exist: return Restriction::Exist{PropTag(r.u32())};
    case RestrictionType::SubRestriction: {
      PropTag sub(r.u32());
      return Restriction::Sub{sub, read_child(r, depth, form)};
    }
    case RestrictionType::Comment: {
      uint8_t n = r.u8();
      r.need_elements(n, 4);
      Restriction::Comment c;
      c.values.reserve(n);
      for (uint8_t i = 0; i < n; ++i) c.values.push_back(read_value_in(r, depth, form));
      uint8_t present = r.u8();
      if (present > 1) corrupt(r, "RestrictionPresent is neither TRUE nor FALSE");
      if (present) c.child = read_child(r, depth, form);
      return c;
    }
    case RestrictionType::Count: {
      uint32_t count = r.u32();
      return Restriction::Count{count, read_child(r, depth, form)};
    }
  }
  corrupt(r, "unknown RestrictType 0x" + to_hex(ByteView(&type, 1)));
}

}  // namespace

void write_restriction(BinaryWriter& w, const Restriction& r, RestrictionForm form) { write_node(w, r, form, 0); }

Restriction read_restriction(BinaryReader& r, int depth, RestrictionForm form) { return read_node(r, depth, form); }

Bytes serialize_restriction(const Restriction& r, RestrictionForm form) {
  BinaryWriter w;
  write_node(w, r, form, 0);
  return w.take();
}

Restriction parse_restriction(ByteView data, RestrictionForm form) {
  BinaryReader r(data);
  Restriction out = read_node(r, 0, form);
  if (!r.at_end()) corrupt(r, "trailing bytes");
  return out;
}

// ---- property names ----------------------------------------------------------

namespace {

struct Alias {
  std::string_view name;
  PropTag tag;
};

// Short names for the command line (lowercase; matched case-insensitively).
constexpr Alias kAliases[] = {
    {"subject", tags::PidTagSubject},
    {"from", tags::PidTagSenderName},
    {"sender", tags::PidTagSenderName},
    {"senderemail", tags::PidTagSenderEmailAddress},
    {"to", tags::PidTagDisplayTo},
    {"cc", tags::PidTagDisplayCc},
    {"bcc", tags::PidTagDisplayBcc},
    {"date", tags::PidTagMessageDeliveryTime},
    {"received", tags::PidTagMessageDeliveryTime},
    {"sent", tags::PidTagClientSubmitTime},
    {"created", tags::PidTagCreationTime},
    {"modified", tags::PidTagLastModificationTime},
    {"size", tags::PidTagMessageSize},
    {"class", tags::PidTagMessageClass},
    {"importance", tags::PidTagImportance},
    {"priority", tags::PidTagPriority},
    {"sensitivity", tags::PidTagSensitivity},
    {"flags", tags::PidTagMessageFlags},
    {"read", tags::PidTagMessageFlags},
    {"body", tags::PidTagBody},
    {"topic", tags::PidTagConversationTopic},
    {"messageid", tags::PidTagInternetMessageId},
    {"hasattachments", tags::PidTagHasAttachments},
    {"name", tags::PidTagDisplayName},
    {"email", tags::PidTagEmailAddress},
    {"smtp", tags::PidTagSmtpAddress},
    {"recipienttype", tags::PidTagRecipientType},
    {"filename", tags::PidTagAttachLongFilename},
    {"extension", tags::PidTagAttachExtension},
    {"attachsize", tags::PidTagAttachSize},
    {"method", tags::PidTagAttachMethod},
    {"folderclass", tags::PidTagContainerClass},
};


}  // namespace

PropTag resolve_property_name(std::string_view name) {
  if (name.size() > 2 && name[0] == '0' && (name[1] == 'x' || name[1] == 'X')) {
    if (auto t = parse_tag(name)) return *t;
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "malformed property tag '" + std::string(name) + "'");
  }
  std::string lower = ascii_lower(name);
  for (const auto& a : kAliases)
    if (a.name == lower) return a.tag;
  if (const CatalogEntry* e = catalog_find(name)) {
    if (e->tag.value != 0) return e->tag;
    throw_error(ErrorCode::MAPI_E_NOT_FOUND,
                "'" + std::string(name) + "' is a named property with no fixed tag; give its mapped tag in hex");
  }
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "unknown property '" + std::string(name) + "'");
}

std::string property_text_name(PropTag tag) {
  std::string name = tag_name(tag);
  if (name.empty() || name.starts_with("0x") || name.starts_with("0X")) return tag.hex();
  try {
    if (resolve_property_name(name) == tag) return name;
  } catch (const MapiError&) {
  }
  return tag.hex();
}

// ---- text form: printing -----------------------------------------------------

namespace {

std::string relop_text(RelOp op) {
  switch (op) {
    case RelOp::Lt: return "<";
    case RelOp::Le: return "<=";
    case RelOp::Gt: return ">";
    case RelOp::Ge: return ">=";
    case RelOp::Eq: return "==";
    case RelOp::Ne: return "!=";
    case RelOp::Re: return "=~";
    case RelOp::MemberOfDl: return "memberof";
  }
  return "?";
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%X", v);
  return buf;
}

std::string quote(std::string_view s) {
  bool utf8 = is_valid_utf8(s);
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

// FILETIMEs from 1601 to 9999; anything else (or with 100 ns precision) is written as filetime(N).
std::string time_text(int64_t ft) {
  constexpr int64_t kMaxDate = 2650467743999999999LL;  // 9999-12-31T23:59:59.9999999Z
  if (ft >= 0 && ft <= kMaxDate) {
    std::string s = format_filetime(ft);
    if (parse_filetime(s) == ft) return s;
  }
  return "filetime(" + std::to_string(ft) + ")";
}

std::string float_text(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  std::string s = buf;
  // Keep it a number token that reads back as a float ("1" is fine: conversion goes by the type).
  return s;
}

std::string currency_text(int64_t c) {
  uint64_t mag = c < 0 ? uint64_t(0) - uint64_t(c) : uint64_t(c);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu.%04llu", c < 0 ? "-" : "", (unsigned long long)(mag / 10000),
                (unsigned long long)(mag % 10000));
  return buf;
}

std::string print(const Restriction& r, bool nested);

template <class T> std::string scalar_text(PropType base, const T& x) {
  if constexpr (std::is_same_v<T, int16_t> || std::is_same_v<T, int32_t>) {
    if (base == PropType::ErrorCode) return hex32(uint32_t(x));
    return std::to_string(x);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (base == PropType::Time) return time_text(x);
    if (base == PropType::Currency) return currency_text(x);
    return std::to_string(x);
  } else if constexpr (std::is_same_v<T, float>) {
    return float_text(x, 9);
  } else if constexpr (std::is_same_v<T, double>) {
    return float_text(x, 17);
  } else if constexpr (std::is_same_v<T, bool>) {
    return x ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return quote(x);
  } else if constexpr (std::is_same_v<T, Guid>) {
    std::string out = "{";  // (appends: GCC 12 warns falsely on "lit" + string at -O3)
    out += x.to_string();
    out += '}';
    return out;
  } else if constexpr (std::is_same_v<T, Bytes>) {
    return "x'" + to_hex(x) + "'";
  } else if constexpr (std::is_same_v<T, std::shared_ptr<const Restriction>>) {
    return "restriction(" + print(*x, false) + ")";
  } else {
    return "null";
  }
}

std::string literal_text(const PropValue& v) {
  PropType base = base_type(v.type());
  return std::visit(
      [&](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (requires { typename X::value_type; } && !std::is_same_v<X, std::string> &&
                      !std::is_same_v<X, Bytes>) {
          std::string out = "[";
          for (size_t i = 0; i < x.size(); ++i) {
            if (i) out += ", ";
            out += scalar_text(base, typename X::value_type(x[i]));
          }
          return out + "]";
        } else {
          return scalar_text(base, x);
        }
      },
      v.storage());
}

PropTag strip_mvi(PropTag t) { return PropTag(t.id(), PropType(uint16_t(t.type()) & ~kMultiValueInstanceFlag)); }

// The tag the parser gives a literal compared with `target`: a single literal against a
// multi-valued property is a value of the base type (MS-OXCDATA 2.12.5), a list keeps the MV type.
PropTag default_value_tag(PropTag target, bool list) {
  PropTag t = strip_mvi(target);
  if (is_multi_valued(t.type()) && !list) return t.with_type(base_type(t.type()));
  return t;
}

// A literal, with "@name" when its own tag is not the one the parser would give it.
std::string value_text(PropTag target, const PropValue& v) {
  std::string s = literal_text(v);
  if (v.tag() != default_value_tag(target, is_multi_valued(v.type()))) s += "@" + property_text_name(v.tag());
  return s;
}

// A property on the right-hand side: a hex tag there would read as a number, so it gets tag(...).
std::string rhs_property(PropTag t) {
  std::string n = property_text_name(t);
  return n.starts_with("0x") ? "tag(" + n + ")" : n;
}

std::string fuzzy_text(uint32_t f) {
  uint32_t low = f & 0xFFFF, high = f >> 16;
  constexpr uint32_t known_high = (fuzzy::IgnoreCase | fuzzy::IgnoreNonSpace | fuzzy::Loose) >> 16;
  if (low > fuzzy::Prefix || (high & ~known_high)) return hex32(f);
  std::string out = low == fuzzy::FullString ? "fullstring" : low == fuzzy::Substring ? "substring" : "prefix";
  if (f & fuzzy::IgnoreCase) out += " | ignorecase";
  if (f & fuzzy::IgnoreNonSpace) out += " | ignorenonspace";
  if (f & fuzzy::Loose) out += " | loose";
  return out;
}

std::string child_text(const std::unique_ptr<Restriction>& c) { return c ? print(*c, false) : "true"; }

std::string print(const Restriction& r, bool nested) {
  return std::visit(
      [&](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, Restriction::And> || std::is_same_v<X, Restriction::Or>) {
          constexpr bool is_and = std::is_same_v<X, Restriction::And>;
          if (x.children.empty()) return is_and ? "true" : "false";
          if (x.children.size() == 1) return std::string(is_and ? "and(" : "or(") + print(x.children[0], false) + ")";
          std::string out;
          for (size_t i = 0; i < x.children.size(); ++i) {
            if (i) out += is_and ? " and " : " or ";
            out += print(x.children[i], true);
          }
          return nested ? "(" + out + ")" : out;
        } else if constexpr (std::is_same_v<X, Restriction::Not>) {
          return "not " + (x.child ? print(*x.child, true) : std::string("true"));
        } else if constexpr (std::is_same_v<X, Restriction::Content>) {
          std::string name = property_text_name(x.tag);
          std::string value = value_text(x.tag, x.value);
          if (is_string_type(x.tag.type()) || is_binary_type(x.tag.type())) {
            if (x.fuzzy_level == (fuzzy::Substring | fuzzy::IgnoreCase)) return name + " ~ " + value;
            if (x.fuzzy_level == (fuzzy::Prefix | fuzzy::IgnoreCase)) return name + " ^= " + value;
            if (x.fuzzy_level == (fuzzy::FullString | fuzzy::IgnoreCase)) return name + " ~= " + value;
          }
          return "content(" + name + ", " + value + ", " + fuzzy_text(x.fuzzy_level) + ")";
        } else if constexpr (std::is_same_v<X, Restriction::Property>) {
          return property_text_name(x.tag) + " " + relop_text(x.op) + " " + value_text(x.tag, x.value);
        } else if constexpr (std::is_same_v<X, Restriction::CompareProps>) {
          return property_text_name(x.tag1) + " " + relop_text(x.op) + " " + rhs_property(x.tag2);
        } else if constexpr (std::is_same_v<X, Restriction::Bitmask>) {
          return "bitmask(" + property_text_name(x.tag) + ", " + hex32(x.mask) + ") " +
                 (x.op == BitmaskOp::EqualToZero ? "== 0" : "!= 0");
        } else if constexpr (std::is_same_v<X, Restriction::Size>) {
          return "size(" + property_text_name(x.tag) + ") " + relop_text(x.op) + " " + std::to_string(x.size);
        } else if constexpr (std::is_same_v<X, Restriction::Exist>) {
          return "exists(" + property_text_name(x.tag) + ")";
        } else if constexpr (std::is_same_v<X, Restriction::Sub>) {
          if (x.subobject == tags::PidTagMessageRecipients) return "recipients(" + child_text(x.child) + ")";
          if (x.subobject == tags::PidTagMessageAttachments) return "attachments(" + child_text(x.child) + ")";
          return "sub(" + property_text_name(x.subobject) + ", " + child_text(x.child) + ")";
        } else if constexpr (std::is_same_v<X, Restriction::Comment>) {
          std::string out = "comment[";
          for (size_t i = 0; i < x.values.size(); ++i) {
            if (i) out += ", ";
            out += property_text_name(x.values[i].tag()) + " = " + literal_text(x.values[i]);
          }
          out += "]";
          if (x.child) out += "(" + print(*x.child, false) + ")";
          return out;
        } else {
          return "count(" + std::to_string(x.count) + ", " + child_text(x.child) + ")";
        }
      },
      r.node);
}

}  // namespace

std::string to_text(const Restriction& r) { return print(r, false); }

// ---- text form: parsing ------------------------------------------------------

namespace {

enum class Tok { End, Ident, Number, Date, String, GuidLit, Binary, Punct };

struct Token {
  Tok kind = Tok::End;
  std::string text;  // identifier, number or date as written; string contents decoded; punctuation
  size_t pos = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

[[noreturn]] void syntax_error(size_t pos, const std::string& what) {
  throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "restriction syntax error at position " + std::to_string(pos) + ": " + what);
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
      Token t;
      t.pos = i_;
      if (i_ >= s_.size()) {
        out.push_back(t);
        return out;
      }
      char c = s_[i_];
      if (c == '"') {
        t.kind = Tok::String;
        t.text = string_body();
      } else if ((c == 'x' || c == 'X') && peek(1) == '\'') {
        ++i_;
        t.kind = Tok::Binary;
        t.text = binary_body();
      } else if (c == '0' && (peek(1) == 'x' || peek(1) == 'X') && peek(2) == '\'') {
        i_ += 2;
        t.kind = Tok::Binary;
        t.text = binary_body();
      } else if (is_ident_start(c)) {
        t.kind = Tok::Ident;
        size_t b = i_;
        while (i_ < s_.size() && is_ident_char(s_[i_])) ++i_;
        t.text = std::string(s_.substr(b, i_ - b));
      } else if (is_digit(c) || (c == '-' && is_digit(peek(1)))) {
        number_or_date(t);
      } else if (c == '{') {
        size_t e = s_.find('}', i_);
        if (e == std::string_view::npos) syntax_error(i_, "unterminated GUID");
        t.kind = Tok::GuidLit;
        t.text = std::string(s_.substr(i_ + 1, e - i_ - 1));
        i_ = e + 1;
      } else {
        static constexpr std::string_view two[] = {"==", "!=", "<=", ">=", "~=", "^=", "=~", "&&", "||"};
        t.kind = Tok::Punct;
        for (auto op : two)
          if (s_.substr(i_, 2) == op) t.text = std::string(op);
        if (t.text.empty()) {
          if (std::string_view("()[],@<>=~!|-").find(c) == std::string_view::npos)
            syntax_error(i_, std::string("unexpected character '") + c + "'");
          t.text = std::string(1, c);
        }
        i_ += t.text.size();
      }
      out.push_back(std::move(t));
    }
  }

 private:
  char peek(size_t k) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }

  std::string string_body() {
    size_t start = i_++;
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) syntax_error(start, "unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\0') syntax_error(i_ - 1, "strings cannot contain NUL");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) syntax_error(start, "unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'x': {
          if (i_ + 2 > s_.size() || !is_hex_digit(s_[i_]) || !is_hex_digit(s_[i_ + 1]))
            syntax_error(i_ - 2, "\\x needs two hex digits");
          int v = std::stoi(std::string(s_.substr(i_, 2)), nullptr, 16);
          if (v == 0) syntax_error(i_ - 2, "strings cannot contain NUL");
          out.push_back(char(v));
          i_ += 2;
          break;
        }
        default: syntax_error(i_ - 2, std::string("unknown escape \\") + e);
      }
    }
  }

  std::string binary_body() {  // at the opening quote
    size_t start = i_++;
    size_t e = s_.find('\'', i_);
    if (e == std::string_view::npos) syntax_error(start, "unterminated binary literal");
    std::string hex(s_.substr(i_, e - i_));
    i_ = e + 1;
    for (char c : hex)
      if (!is_hex_digit(c)) syntax_error(start, "binary literal with a non-hex digit");
    if (hex.size() % 2) syntax_error(start, "binary literal with an odd number of hex digits");
    return hex;
  }

  void number_or_date(Token& t) {
    size_t b = i_;
    // A date: four digits and '-', e.g. 2024-01-31 or 2024-01-31T10:00:00Z.
    if (i_ + 4 < s_.size() && is_digit(s_[i_]) && is_digit(s_[i_ + 1]) && is_digit(s_[i_ + 2]) &&
        is_digit(s_[i_ + 3]) && s_[i_ + 4] == '-') {
      while (i_ < s_.size() && (is_ident_char(s_[i_]) || s_[i_] == '-' || s_[i_] == ':' || s_[i_] == '.')) ++i_;
      t.kind = Tok::Date;
      t.text = std::string(s_.substr(b, i_ - b));
      return;
    }
    t.kind = Tok::Number;
    if (s_[i_] == '-') ++i_;
    if (s_[i_] == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      i_ += 2;
      while (i_ < s_.size() && is_hex_digit(s_[i_])) ++i_;
    } else {
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
      if (peek(0) == '.' && is_digit(peek(1))) {
        ++i_;
        while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
      }
      if ((peek(0) == 'e' || peek(0) == 'E') &&
          (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
        i_ += 2;
        while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
      }
    }
    if (i_ < s_.size() && is_ident_char(s_[i_])) syntax_error(b, "malformed number");
    t.text = std::string(s_.substr(b, i_ - b));
  }

  std::string_view s_;
  size_t i_ = 0;
};

// A literal as written, converted once the property (and so the type) is known.
struct Literal {
  enum Kind { Str, Int, Float, Date, GuidL, Bin, Bool, Null, Nan, Inf, FileTime, List, Res } kind = Null;
  std::string text;
  bool negative = false;
  std::vector<Literal> items;
  std::shared_ptr<const Restriction> restriction;
  size_t pos = 0;
};

struct IntParts {
  bool negative;
  uint64_t magnitude;
};

std::optional<IntParts> parse_int_text(std::string_view s) {
  IntParts p{false, 0};
  if (!s.empty() && s[0] == '-') p.negative = true, s.remove_prefix(1);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s.remove_prefix(2);
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    int d = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
    if (d >= base) return std::nullopt;
    if (p.magnitude > (UINT64_MAX - uint64_t(d)) / uint64_t(base)) return std::nullopt;
    p.magnitude = p.magnitude * uint64_t(base) + uint64_t(d);
  }
  return p;
}

bool is_float_text(std::string_view s) {
  return s.find_first_of(".eE") != std::string_view::npos && s.find("0x") == std::string_view::npos &&
         s.find("0X") == std::string_view::npos;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : toks_(Lexer(text).run()) {}

  Restriction parse() {
    if (cur().kind == Tok::End) syntax_error(0, "empty restriction");
    Restriction r = parse_or();
    if (cur().kind != Tok::End) syntax_error(cur().pos, "unexpected '" + describe(cur()) + "'");
    return r;
  }

 private:
  // ---- tokens
  const Token& cur() const { return toks_[i_]; }
  const Token& ahead(size_t k) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  Token take() {
    Token t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  static std::string describe(const Token& t) { return t.kind == Tok::End ? "end of input" : t.text; }
  bool is_punct(const Token& t, std::string_view p) const { return t.kind == Tok::Punct && t.text == p; }
  bool is_word(const Token& t, std::string_view w) const { return t.kind == Tok::Ident && ascii_lower(t.text) == w; }
  void expect(std::string_view p) {
    if (!is_punct(cur(), p)) syntax_error(cur().pos, "expected '" + std::string(p) + "' but found '" + describe(cur()) + "'");
    take();
  }
  bool accept(std::string_view p) {
    if (!is_punct(cur(), p)) return false;
    take();
    return true;
  }

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxRestrictionDepth) syntax_error(p.cur().pos, "nested deeper than 256 levels");
    }
    ~DepthGuard() { --p.depth_; }
  };

  // ---- expressions
  Restriction parse_or() {
    Restriction first = parse_and();
    if (!is_word(cur(), "or") && !is_punct(cur(), "||")) return first;
    std::vector<Restriction> cs;
    cs.push_back(std::move(first));
    while (is_word(cur(), "or") || is_punct(cur(), "||")) {
      take();
      cs.push_back(parse_and());
    }
    return Restriction::Or{std::move(cs)};
  }

  Restriction parse_and() {
    Restriction first = parse_unary();
    if (!is_word(cur(), "and") && !is_punct(cur(), "&&")) return first;
    std::vector<Restriction> cs;
    cs.push_back(std::move(first));
    while (is_word(cur(), "and") || is_punct(cur(), "&&")) {
      take();
      cs.push_back(parse_unary());
    }
    return Restriction::And{std::move(cs)};
  }

  Restriction parse_unary() {
    DepthGuard g(*this);
    if (is_word(cur(), "not") || is_punct(cur(), "!")) {
      take();
      return Restriction::Not{std::make_unique<Restriction>(parse_unary())};
    }
    return parse_primary();
  }

  std::vector<Restriction> parse_list_until_close() {
    std::vector<Restriction> out;
    if (accept(")")) return out;
    do out.push_back(parse_or());
    while (accept(","));
    expect(")");
    return out;
  }

  Restriction parse_primary() {
    const Token& t = cur();
    if (accept("(")) {
      Restriction r = parse_or();
      expect(")");
      return r;
    }
    if (t.kind == Tok::Ident) {
      std::string w = ascii_lower(t.text);
      bool call = is_punct(ahead(1), "(");
      if (w == "true" && !call) return take(), Restriction::And{};
      if (w == "false" && !call) return take(), Restriction::Or{};
      if (call && (w == "and" || w == "or")) {
        take(), take();
        auto cs = parse_list_until_close();
        if (w == "and") return Restriction::And{std::move(cs)};
        return Restriction::Or{std::move(cs)};
      }
      if (call && w == "exists") {
        take(), take();
        PropTag tag = parse_property();
        expect(")");
        return Restriction::Exist{tag};
      }
      if (call && w == "size") return parse_size();
      if (call && w == "bitmask") return parse_bitmask();
      if (call && w == "content") return parse_content_call();
      if (call && (w == "recipients" || w == "attachments")) {
        take(), take();
        auto child = std::make_unique<Restriction>(parse_or());
        expect(")");
        return Restriction::Sub{w == "recipients" ? tags::PidTagMessageRecipients : tags::PidTagMessageAttachments,
                                std::move(child)};
      }
      if (call && w == "sub") {
        take(), take();
        PropTag sub = parse_property();
        expect(",");
        auto child = std::make_unique<Restriction>(parse_or());
        expect(")");
        return Restriction::Sub{sub, std::move(child)};
      }
      if (call && w == "count") {
        take(), take();
        uint32_t n = parse_uint32("a count");
        expect(",");
        auto child = std::make_unique<Restriction>(parse_or());
        expect(")");
        return Restriction::Count{n, std::move(child)};
      }
      if (w == "comment" && is_punct(ahead(1), "[")) return parse_comment();
    }
    return parse_comparison();
  }

  Restriction parse_size() {
    take(), take();
    PropTag tag = parse_property();
    expect(")");
    RelOp op = parse_relop();
    return Restriction::Size{op, tag, parse_uint32("a size")};
  }

  Restriction parse_bitmask() {
    take(), take();
    PropTag tag = parse_property();
    expect(",");
    uint32_t mask = parse_uint32("a mask");
    expect(")");
    size_t pos = cur().pos;
    BitmaskOp op;
    if (accept("==") || accept("=")) op = BitmaskOp::EqualToZero;
    else if (accept("!=")) op = BitmaskOp::NotEqualToZero;
    else syntax_error(pos, "bitmask(...) must be followed by '== 0' or '!= 0'");
    if (cur().kind != Tok::Number || parse_int_text(cur().text).value_or(IntParts{false, 1}).magnitude != 0)
      syntax_error(cur().pos, "bitmask(...) compares with 0 only");
    take();
    return Restriction::Bitmask{op, tag, mask};
  }

  Restriction parse_content_call() {
    take(), take();
    PropTag tag = parse_property();
    expect(",");
    PropValue value = parse_value(tag);
    expect(",");
    uint32_t level = parse_fuzzy_level();
    expect(")");
    return Restriction::Content{level, tag, std::move(value)};
  }

  uint32_t parse_fuzzy_level() {
    if (cur().kind == Tok::Number) return parse_uint32("a fuzzy level");
    uint32_t level = 0;
    do {
      const Token& t = cur();
      std::string w = t.kind == Tok::Ident ? ascii_lower(t.text) : "";
      if (w == "fullstring") level |= fuzzy::FullString;
      else if (w == "substring") level |= fuzzy::Substring;
      else if (w == "prefix") level |= fuzzy::Prefix;
      else if (w == "ignorecase") level |= fuzzy::IgnoreCase;
      else if (w == "ignorenonspace") level |= fuzzy::IgnoreNonSpace;
      else if (w == "loose") level |= fuzzy::Loose;
      else syntax_error(t.pos, "unknown fuzzy level '" + describe(t) + "'");
      take();
    } while (accept("|"));
    if ((level & 0xFFFF) == (fuzzy::Substring | fuzzy::Prefix))
      syntax_error(cur().pos, "substring and prefix exclude each other");
    return level;
  }

  Restriction parse_comment() {
    take(), take();  // comment [
    Restriction::Comment c;
    if (!accept("]")) {
      do {
        PropTag tag = parse_property();
        if (!accept("=")) expect("==");
        c.values.push_back(parse_value(tag));
      } while (accept(","));
      expect("]");
    }
    if (c.values.size() > 255) syntax_error(cur().pos, "more than 255 comment values");
    if (accept("(")) {
      c.child = std::make_unique<Restriction>(parse_or());
      expect(")");
    }
    return c;
  }

  RelOp parse_relop() {
    const Token& t = cur();
    if (t.kind == Tok::Punct) {
      static constexpr std::pair<std::string_view, RelOp> ops[] = {
          {"<", RelOp::Lt}, {"<=", RelOp::Le}, {">", RelOp::Gt},  {">=", RelOp::Ge},
          {"==", RelOp::Eq}, {"=", RelOp::Eq}, {"!=", RelOp::Ne}, {"=~", RelOp::Re}};
      for (auto [s, op] : ops)
        if (t.text == s) return take(), op;
    }
    if (is_word(t, "memberof")) return take(), RelOp::MemberOfDl;
    syntax_error(t.pos, "expected a comparison operator but found '" + describe(t) + "'");
  }

  // prop (== | != | < | <= | > | >= | =~ | memberof) (literal | prop), or prop (~ | ^= | ~=) literal.
  Restriction parse_comparison() {
    PropTag tag = parse_property();
    const Token& op = cur();
    if (is_punct(op, "~") || is_punct(op, "^=") || is_punct(op, "~=")) {
      uint32_t level = op.text == "~" ? fuzzy::Substring : op.text == "^=" ? fuzzy::Prefix : fuzzy::FullString;
      size_t pos = op.pos;
      take();
      if (!is_string_type(tag.type()) && !is_binary_type(tag.type()))
        syntax_error(pos, "'" + op.text + "' needs a string or binary property, not " + type_name(tag.type()));
      return Restriction::Content{level | fuzzy::IgnoreCase, tag, parse_value(tag)};
    }
    RelOp rel = parse_relop();
    if (starts_property()) return Restriction::CompareProps{rel, tag, parse_property()};
    return Restriction::Property{rel, tag, parse_value(tag)};
  }

  // An identifier that is not a literal keyword, or tag(...), names a property.
  bool starts_property() const {
    const Token& t = cur();
    if (t.kind != Tok::Ident) return false;
    std::string w = ascii_lower(t.text);
    if (w == "tag") return is_punct(ahead(1), "(");
    return w != "true" && w != "false" && w != "null" && w != "nan" && w != "inf" &&
           !((w == "filetime" || w == "restriction") && is_punct(ahead(1), "("));
  }

  PropTag parse_property() {
    const Token& t = cur();
    size_t pos = t.pos;
    std::string name;
    if (is_word(t, "tag") && is_punct(ahead(1), "(")) {
      take(), take();
      if (cur().kind != Tok::Number) syntax_error(cur().pos, "tag(...) needs a hex property tag");
      name = take().text;
      expect(")");
    } else if (t.kind == Tok::Ident || (t.kind == Tok::Number && t.text.starts_with("0x"))) {
      name = take().text;
    } else {
      syntax_error(pos, "expected a property but found '" + describe(t) + "'");
    }
    try {
      return resolve_property_name(name);
    } catch (const MapiError& e) {
      syntax_error(pos, e.what());
    }
  }

  uint32_t parse_uint32(const char* what) {
    const Token& t = cur();
    auto p = t.kind == Tok::Number ? parse_int_text(t.text) : std::nullopt;
    if (!p || p->negative || p->magnitude > UINT32_MAX)
      syntax_error(t.pos, std::string("expected ") + what + " (an unsigned 32-bit number)");
    take();
    return uint32_t(p->magnitude);
  }

  // ---- literals
  Literal parse_literal() {
    const Token& t = cur();
    Literal l;
    l.pos = t.pos;
    switch (t.kind) {
      case Tok::String: l.kind = Literal::Str; break;
      case Tok::Number: l.kind = is_float_text(t.text) ? Literal::Float : Literal::Int; break;
      case Tok::Date: l.kind = Literal::Date; break;
      case Tok::GuidLit: l.kind = Literal::GuidL; break;
      case Tok::Binary: l.kind = Literal::Bin; break;
      case Tok::Ident: {
        std::string w = ascii_lower(t.text);
        if (w == "true" || w == "false") l.kind = Literal::Bool;
        else if (w == "null") l.kind = Literal::Null;
        else if (w == "nan") l.kind = Literal::Nan;
        else if (w == "inf") l.kind = Literal::Inf;
        else if (w == "filetime" && is_punct(ahead(1), "(")) {
          take(), take();
          if (cur().kind != Tok::Number) syntax_error(cur().pos, "filetime(...) needs an integer");
          l.kind = Literal::FileTime;
          l.text = take().text;
          expect(")");
          return l;
        } else if (w == "restriction" && is_punct(ahead(1), "(")) {
          take(), take();
          DepthGuard g(*this);
          l.kind = Literal::Res;
          l.restriction = std::make_shared<const Restriction>(parse_or());
          expect(")");
          return l;
        } else {
          syntax_error(t.pos, "expected a value but found '" + t.text + "'");
        }
        break;
      }
      case Tok::Punct:
        if (t.text == "[") {
          take();
          l.kind = Literal::List;
          if (!accept("]")) {
            do l.items.push_back(parse_literal());
            while (accept(","));
            expect("]");
          }
          return l;
        }
        if (t.text == "-" && is_word(ahead(1), "inf")) {
          take(), take();
          l.kind = Literal::Inf;
          l.negative = true;
          return l;
        }
        [[fallthrough]];
      default: syntax_error(t.pos, "expected a value but found '" + describe(t) + "'");
    }
    l.text = take().text;
    return l;
  }

  // A literal for `target`, with an optional "@prop" giving the value its own tag.
  PropValue parse_value(PropTag target) {
    Literal l = parse_literal();
    PropTag vt = default_value_tag(target, l.kind == Literal::List);
    if (accept("@")) vt = parse_property();
    return convert(l, strip_mvi(vt));
  }

  [[noreturn]] static void mismatch(const Literal& l, PropType t) {
    static constexpr const char* names[] = {"a string", "an integer", "a number", "a date", "a GUID", "a binary",
                                            "a boolean", "null", "nan", "inf", "a FILETIME", "a list", "a restriction"};
    syntax_error(l.pos, std::string("cannot use ") + names[l.kind] + " as a " + type_name(t) + " value");
  }

  static int64_t to_signed(const Literal& l, int64_t min, uint64_t max_unsigned, PropType t) {
    auto p = parse_int_text(l.text);
    if (!p) syntax_error(l.pos, "malformed integer '" + l.text + "'");
    if (p->negative) {
      if (p->magnitude > uint64_t(-(min + 1)) + 1) syntax_error(l.pos, "integer out of range for " + type_name(t));
      return p->magnitude == 0 ? 0 : int64_t(0 - p->magnitude);
    }
    if (p->magnitude > max_unsigned) syntax_error(l.pos, "integer out of range for " + type_name(t));
    return int64_t(p->magnitude);  // values above the signed maximum wrap, as hex masks do
  }

  static double to_double(const Literal& l, PropType t) {
    if (l.kind == Literal::Nan) return std::nan("");
    if (l.kind == Literal::Inf) return l.negative ? -HUGE_VAL : HUGE_VAL;
    if (l.kind == Literal::Int) {
      auto p = parse_int_text(l.text);
      if (!p) syntax_error(l.pos, "malformed integer '" + l.text + "'");
      double m = double(p->magnitude);
      return p->negative ? -m : m;
    }
    if (l.kind != Literal::Float) mismatch(l, t);
    return std::strtod(l.text.c_str(), nullptr);
  }

  static int64_t to_currency(const Literal& l) {
    // Exact decimal with at most four fraction digits: the value x 10^4 (MS-OXCDATA 2.11.1 PtypCurrency).
    std::string_view s = l.text;
    bool neg = !s.empty() && s[0] == '-';
    if (neg) s.remove_prefix(1);
    size_t dot = s.find('.');
    std::string_view whole = s.substr(0, dot), frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
    if (whole.empty() || frac.size() > 4 || s.find_first_of("eExX") != std::string_view::npos)
      syntax_error(l.pos, "a currency value has at most four decimals");
    auto w = parse_int_text(whole);
    uint64_t f = 0;
    for (size_t i = 0; i < 4; ++i) f = f * 10 + (i < frac.size() ? uint64_t(frac[i] - '0') : 0);
    if (!w || w->magnitude > (uint64_t(INT64_MAX) - f) / 10000 + 1) syntax_error(l.pos, "currency value out of range");
    uint64_t mag = w->magnitude * 10000 + f;
    if ((!neg && mag > uint64_t(INT64_MAX)) || (neg && mag > uint64_t(INT64_MAX) + 1))
      syntax_error(l.pos, "currency value out of range");
    return neg ? int64_t(0 - mag) : int64_t(mag);
  }

  static ValueStorage scalar(const Literal& l, PropType t) {
    switch (t) {
      case PropType::Unspecified:
      case PropType::Null:
      case PropType::Object:
        if (l.kind != Literal::Null) mismatch(l, t);
        return std::monostate{};
      case PropType::Integer16:
        if (l.kind != Literal::Int) mismatch(l, t);
        return int16_t(uint16_t(to_signed(l, INT16_MIN, UINT16_MAX, t)));
      case PropType::Integer32:
      case PropType::ErrorCode:
        if (l.kind != Literal::Int) mismatch(l, t);
        return int32_t(uint32_t(to_signed(l, INT32_MIN, UINT32_MAX, t)));
      case PropType::Integer64:
        if (l.kind != Literal::Int) mismatch(l, t);
        return to_signed(l, INT64_MIN, UINT64_MAX, t);
      case PropType::Floating32:
        if (l.kind == Literal::Float) return std::strtof(l.text.c_str(), nullptr);
        return float(to_double(l, t));
      case PropType::Floating64:
      case PropType::FloatingTime: return to_double(l, t);
      case PropType::Currency:
        if (l.kind != Literal::Int && l.kind != Literal::Float) mismatch(l, t);
        return to_currency(l);
      case PropType::Boolean:
        if (l.kind == Literal::Bool) return ascii_lower(l.text) == "true";
        mismatch(l, t);
      case PropType::String:
        if (l.kind != Literal::Str) mismatch(l, t);
        if (!is_valid_utf8(l.text)) syntax_error(l.pos, "a PtypString value must be valid UTF-8");
        return l.text;
      case PropType::String8:
        if (l.kind != Literal::Str) mismatch(l, t);
        return l.text;
      case PropType::Time: {
        if (l.kind == Literal::FileTime) return to_signed(l, INT64_MIN, uint64_t(INT64_MAX), t);
        if (l.kind != Literal::Date && l.kind != Literal::Str) mismatch(l, t);
        auto ft = parse_filetime(l.text);
        if (!ft) syntax_error(l.pos, "malformed date '" + l.text + "' (expected e.g. 2024-01-31T10:00:00Z)");
        return *ft;
      }
      case PropType::Guid: {
        if (l.kind != Literal::GuidL && l.kind != Literal::Str) mismatch(l, t);
        auto g = Guid::parse(l.text);
        if (!g) syntax_error(l.pos, "malformed GUID '" + l.text + "'");
        return *g;
      }
      case PropType::Binary:
      case PropType::ServerId:
      case PropType::RuleAction:
        if (l.kind != Literal::Bin) mismatch(l, t);
        return from_hex(l.text);
      case PropType::Restriction:
        if (l.kind != Literal::Res) mismatch(l, t);
        return l.restriction;
      default: syntax_error(l.pos, "values of type " + type_name(t) + " cannot be written");
    }
  }

  template <class T> static std::vector<T> list_of(const Literal& l, PropType base) {
    std::vector<T> out;
    for (const auto& item : l.items) out.push_back(std::get<T>(scalar(item, base)));
    return out;
  }

  static PropValue convert(const Literal& l, PropTag tag) {
    PropType t = tag.type();
    if (!is_known_type(t)) syntax_error(l.pos, "unknown property type in " + tag.hex());
    if (!is_multi_valued(t)) {
      if (l.kind == Literal::List) syntax_error(l.pos, "a list for the single-valued " + tag.hex());
      return PropValue(tag, scalar(l, t));
    }
    if (l.kind != Literal::List) syntax_error(l.pos, "a multi-valued value needs a [list]");
    PropType b = base_type(t);
    switch (storage_index(t)) {
      case 11: return PropValue(tag, list_of<int16_t>(l, b));
      case 12: return PropValue(tag, list_of<int32_t>(l, b));
      case 13: return PropValue(tag, list_of<float>(l, b));
      case 14: return PropValue(tag, list_of<double>(l, b));
      case 15: return PropValue(tag, list_of<int64_t>(l, b));
      case 16: return PropValue(tag, list_of<std::string>(l, b));
      case 17: return PropValue(tag, list_of<Guid>(l, b));
      case 18: return PropValue(tag, list_of<Bytes>(l, b));
    }
    syntax_error(l.pos, "values of type " + type_name(t) + " cannot be written");
  }

  std::vector<Token> toks_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

Restriction parse_restriction_text(std::string_view text) { return Parser(text).parse(); }

}  // namespace openmapi
