// Restrictions (MS-OXCDATA 2.12): the filter language of MAPI tables, rules and searches.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/propbag.h"

namespace openmapi {

// MS-OXCDATA 2.12 RestrictType values.
enum class RestrictionType : uint8_t {
  And = 0x00,
  Or = 0x01,
  Not = 0x02,
  Content = 0x03,
  Property = 0x04,
  CompareProps = 0x05,
  Bitmask = 0x06,
  Size = 0x07,
  Exist = 0x08,
  SubRestriction = 0x09,
  Comment = 0x0A,
  Count = 0x0B,
};

// MS-OXCDATA 2.12.4 relational operators.
enum class RelOp : uint8_t { Lt = 0x00, Le = 0x01, Gt = 0x02, Ge = 0x03, Eq = 0x04, Ne = 0x05, Re = 0x06, MemberOfDl = 0x64 };

// MS-OXCDATA 2.12.3 FuzzyLevelLow / FuzzyLevelHigh.
namespace fuzzy {
inline constexpr uint32_t FullString = 0x0000;
inline constexpr uint32_t Substring = 0x0001;
inline constexpr uint32_t Prefix = 0x0002;
inline constexpr uint32_t IgnoreCase = 0x00010000;
inline constexpr uint32_t IgnoreNonSpace = 0x00020000;
inline constexpr uint32_t Loose = 0x00040000;
}  // namespace fuzzy

enum class BitmaskOp : uint8_t { EqualToZero = 0x00, NotEqualToZero = 0x01 };

struct Restriction {
  struct And { std::vector<Restriction> children; };
  struct Or { std::vector<Restriction> children; };
  struct Not { std::unique_ptr<Restriction> child; };
  // RES_CONTENT: `tag` is a string or binary property (or a multi-valued one); `value` has the same type.
  struct Content { uint32_t fuzzy_level; PropTag tag; PropValue value; };
  // RES_PROPERTY: compares the object's `tag` with `value` (MV: any instance, MS-OXCDATA 2.12.5).
  struct Property { RelOp op; PropTag tag; PropValue value; };
  struct CompareProps { RelOp op; PropTag tag1; PropTag tag2; };
  struct Bitmask { BitmaskOp op; PropTag tag; uint32_t mask; };
  struct Size { RelOp op; PropTag tag; uint32_t size; };
  struct Exist { PropTag tag; };
  // RES_SUBRESTRICTION: `subobject` is PidTagMessageRecipients or PidTagMessageAttachments.
  struct Sub { PropTag subobject; std::unique_ptr<Restriction> child; };
  // RES_COMMENT: annotations; evaluates as `child` (true when there is none).
  struct Comment { std::vector<PropValue> values; std::unique_ptr<Restriction> child; };
  // RES_COUNT: `child`, limited to the first `count` matches (MS-OXCDATA 2.12.12).
  struct Count { uint32_t count; std::unique_ptr<Restriction> child; };

  std::variant<And, Or, Not, Content, Property, CompareProps, Bitmask, Size, Exist, Sub, Comment, Count> node;

  RestrictionType type() const { return RestrictionType(node.index()); }

  Restriction() : node(And{}) {}  // an empty AND: matches everything
  template <class T>
    requires(!std::is_same_v<std::decay_t<T>, Restriction>)
  Restriction(T n) : node(std::move(n)) {}
  Restriction(const Restriction& o);
  Restriction& operator=(const Restriction& o);
  Restriction(Restriction&&) noexcept = default;
  Restriction& operator=(Restriction&&) noexcept = default;
};

bool restriction_equal(const Restriction& a, const Restriction& b);

// Evaluates `r` over `source`. RES_COUNT here counts matches over the call's lifetime via `state`:
// table code evaluating row after row passes one EvalState for the whole pass.
struct EvalState { std::vector<uint32_t> count_matches; };
bool evaluate(const Restriction& r, const PropertySource& source);
bool evaluate(const Restriction& r, const PropertySource& source, EvalState& state);

// MS-OXCDATA 2.12 wire forms. RestrictCount of And/Or (2.12.1.1, 2.12.2.1) and the COUNT fields of the
// values inside (2.11.1) are 16 bits wide in the standard form, used in ROPs and PtypRestriction
// property values, and 32 bits wide in the form extended rules use (MS-OXORULE 2.2.4).
enum class RestrictionForm : uint8_t { Standard, Extended };
inline constexpr int kMaxRestrictionDepth = 256;

// Throws MAPI_E_TOO_BIG when a count does not fit the form, MAPI_E_INVALID_PARAMETER for a missing child.
Bytes serialize_restriction(const Restriction& r, RestrictionForm form = RestrictionForm::Standard);
// Throws MAPI_E_CORRUPT_DATA on malformed input or trailing bytes (depth limited to 256 levels).
Restriction parse_restriction(ByteView data, RestrictionForm form = RestrictionForm::Standard);
void write_restriction(BinaryWriter& w, const Restriction& r, RestrictionForm form = RestrictionForm::Standard);
Restriction read_restriction(BinaryReader& r, int depth = 0, RestrictionForm form = RestrictionForm::Standard);

// A readable text syntax for the command line, e.g.
//   subject ~ "report" and (importance >= 1 or not exists(PidTagBody))
// See docs/RESTRICTIONS.md. Property names resolve through the catalogue (PidTagSubject, subject,
// 0x0037001F). Throws MAPI_E_INVALID_PARAMETER with the offending position on a syntax error.
Restriction parse_restriction_text(std::string_view text);
// Renders `r` back to the text syntax (parse_restriction_text(to_text(r)) == r).
std::string to_text(const Restriction& r);

// The property names of the text syntax (shared with the sort-order text form): a short alias
// ("subject"), a catalogue name ("PidTagSubject", "PR_SUBJECT") or a tag in hex ("0x0037001F").
// Throws MAPI_E_NOT_FOUND for an unknown name.
PropTag resolve_property_name(std::string_view name);
// The name to_text uses: the catalogue name if it resolves back to exactly `tag`, else the hex tag.
std::string property_text_name(PropTag tag);

}  // namespace openmapi
