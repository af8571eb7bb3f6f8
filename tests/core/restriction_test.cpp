// Restrictions: evaluation semantics (MS-OXCDATA 2.12), wire forms and the text syntax.
#include "core/restriction.h"

#include <gtest/gtest.h>

#include "core/filetime.h"

namespace openmapi {
namespace {

using R = Restriction;

PropValue str(PropTag t, std::string s) { return PropValue::string(t, std::move(s)); }
PropValue i32(PropTag t, int32_t v) { return PropValue::i32(t, v); }

R content(uint32_t level, PropTag tag, PropValue v) { return R::Content{level, tag, std::move(v)}; }
R prop(RelOp op, PropTag tag, PropValue v) { return R::Property{op, tag, std::move(v)}; }
R not_(R r) { return R::Not{std::make_unique<R>(std::move(r))}; }
R sub(PropTag table, R r) { return R::Sub{table, std::make_unique<R>(std::move(r))}; }
R count(uint32_t n, R r) { return R::Count{n, std::make_unique<R>(std::move(r))}; }
template <class... Rs> R and_(Rs... rs) {
  R::And a;
  (a.children.push_back(std::move(rs)), ...);
  return a;
}
template <class... Rs> R or_(Rs... rs) {
  R::Or o;
  (o.children.push_back(std::move(rs)), ...);
  return o;
}

void expect_error(ErrorCode code, const std::function<void()>& f) {
  try {
    f();
    ADD_FAILURE() << "expected " << error_name(code);
  } catch (const MapiError& e) {
    EXPECT_EQ(e.code(), code) << e.what();
  }
}

Message sample_message() {
  Message m;
  m.props = PropertyBag{
      str(tags::PidTagSubject, "Quarterly Report: Café Sales"),
      str(tags::PidTagNormalizedSubject, "Quarterly Report: Café Sales"),
      i32(tags::PidTagImportance, 2),
      i32(tags::PidTagMessageFlags, msgflag::Read | msgflag::HasAttach),
      PropValue::time(tags::PidTagMessageDeliveryTime, *parse_filetime("2024-01-31T10:00:00Z")),
      PropValue::binary(tags::PidTagSearchKey, Bytes{0x01, 0x02, 0x03, 0x04}),
      PropValue(PropTag(0x8001, PropType::MultipleString), std::vector<std::string>{"Red", "Blue"}),
      PropValue(PropTag(0x8002, PropType::MultipleInteger32), std::vector<int32_t>{3, 7}),
      PropValue::i64(tags::PidTagMessageSizeExtended, 5000),
  };
  PropertyBag to{str(tags::PidTagDisplayName, "Bob Builder"), i32(tags::PidTagRecipientType, recipient_type::To)};
  PropertyBag cc{str(tags::PidTagDisplayName, "Alice"), i32(tags::PidTagRecipientType, recipient_type::Cc)};
  m.recipients = {to, cc};
  Attachment a;
  a.props = PropertyBag{str(tags::PidTagAttachLongFilename, "report.pdf"), i32(tags::PidTagAttachSize, 1234)};
  m.attachments.push_back(a);
  return m;
}

// ---- copying and equality -----------------------------------------------------

TEST(Restriction, CopyIsDeep) {
  R original = not_(and_(R::Exist{tags::PidTagSubject}, count(3, R::Exist{tags::PidTagBody})));
  R copy = original;
  EXPECT_TRUE(restriction_equal(original, copy));
  auto& inner = std::get<R::And>(std::get<R::Not>(original.node).child->node);
  inner.children.pop_back();
  EXPECT_FALSE(restriction_equal(original, copy));
  const auto& copied = std::get<R::And>(std::get<R::Not>(copy.node).child->node);
  EXPECT_EQ(copied.children.size(), 2u);

  R assigned;
  assigned = copy;
  EXPECT_TRUE(restriction_equal(assigned, copy));
}

TEST(Restriction, EqualityLooksAtEveryField) {
  EXPECT_TRUE(restriction_equal(prop(RelOp::Eq, tags::PidTagImportance, i32(tags::PidTagImportance, 1)),
                                prop(RelOp::Eq, tags::PidTagImportance, i32(tags::PidTagImportance, 1))));
  EXPECT_FALSE(restriction_equal(prop(RelOp::Eq, tags::PidTagImportance, i32(tags::PidTagImportance, 1)),
                                 prop(RelOp::Ne, tags::PidTagImportance, i32(tags::PidTagImportance, 1))));
  EXPECT_FALSE(restriction_equal(prop(RelOp::Eq, tags::PidTagImportance, i32(tags::PidTagImportance, 1)),
                                 prop(RelOp::Eq, tags::PidTagImportance, i32(tags::PidTagImportance, 2))));
  EXPECT_FALSE(restriction_equal(and_(), or_()));
  EXPECT_FALSE(restriction_equal(R::Comment{{}, nullptr}, R::Comment{{}, std::make_unique<R>()}));
}

// ---- evaluation ---------------------------------------------------------------

TEST(Evaluate, AndOrNot) {
  Message m = sample_message();
  R yes = R::Exist{tags::PidTagSubject};
  R no = R::Exist{tags::PidTagBody};
  EXPECT_TRUE(evaluate(and_(), m));  // an empty AND matches everything
  EXPECT_FALSE(evaluate(or_(), m));  // an empty OR matches nothing
  EXPECT_TRUE(evaluate(and_(yes, yes), m));
  EXPECT_FALSE(evaluate(and_(yes, no), m));
  EXPECT_TRUE(evaluate(or_(no, yes), m));
  EXPECT_FALSE(evaluate(or_(no, no), m));
  EXPECT_TRUE(evaluate(not_(no), m));
  EXPECT_FALSE(evaluate(not_(yes), m));
}

TEST(Evaluate, ContentFuzzyLevels) {
  Message m = sample_message();
  auto t = tags::PidTagSubject;
  auto c = [&](uint32_t level, std::string needle) { return evaluate(content(level, t, str(t, std::move(needle))), m); };
  // FL_FULLSTRING: the whole value.
  EXPECT_TRUE(c(fuzzy::FullString, "Quarterly Report: Café Sales"));
  EXPECT_FALSE(c(fuzzy::FullString, "Quarterly Report"));
  EXPECT_FALSE(c(fuzzy::FullString, "quarterly report: café sales"));
  EXPECT_TRUE(c(fuzzy::FullString | fuzzy::IgnoreCase, "QUARTERLY REPORT: CAFÉ SALES"));
  // FL_SUBSTRING: anywhere.
  EXPECT_TRUE(c(fuzzy::Substring, "Report"));
  EXPECT_FALSE(c(fuzzy::Substring, "report"));
  EXPECT_TRUE(c(fuzzy::Substring | fuzzy::IgnoreCase, "report"));
  EXPECT_TRUE(c(fuzzy::Substring, ""));
  EXPECT_FALSE(c(fuzzy::Substring, "Invoice"));
  // FL_PREFIX: at the start only.
  EXPECT_TRUE(c(fuzzy::Prefix, "Quarterly"));
  EXPECT_FALSE(c(fuzzy::Prefix, "Report"));
  EXPECT_FALSE(c(fuzzy::Prefix, "quarterly"));
  EXPECT_TRUE(c(fuzzy::Prefix | fuzzy::IgnoreCase, "quarterly"));
  // FL_IGNORENONSPACE: diacritics do not matter, case still does.
  EXPECT_FALSE(c(fuzzy::Substring, "Cafe"));
  EXPECT_TRUE(c(fuzzy::Substring | fuzzy::IgnoreNonSpace, "Cafe"));
  EXPECT_TRUE(c(fuzzy::Substring | fuzzy::IgnoreNonSpace, "Cafe\xCC\x81"));  // e + U+0301 COMBINING ACUTE
  EXPECT_FALSE(c(fuzzy::Substring | fuzzy::IgnoreNonSpace, "cafe"));
  // FL_LOOSE: both case and diacritics.
  EXPECT_TRUE(c(fuzzy::Substring | fuzzy::Loose, "CAFE SALES"));
  EXPECT_TRUE(c(fuzzy::Prefix | fuzzy::Loose, "QUARTERLY"));
  // An unknown FuzzyLevelLow never matches.
  EXPECT_FALSE(c(0x0003, "Quarterly"));
}

TEST(Evaluate, ContentOnBinaries) {
  Message m = sample_message();
  auto t = tags::PidTagSearchKey;
  auto c = [&](uint32_t level, Bytes b) { return evaluate(content(level, t, PropValue::binary(t, std::move(b))), m); };
  EXPECT_TRUE(c(fuzzy::FullString, {1, 2, 3, 4}));
  EXPECT_FALSE(c(fuzzy::FullString, {1, 2, 3}));
  EXPECT_TRUE(c(fuzzy::Prefix, {1, 2}));
  EXPECT_FALSE(c(fuzzy::Prefix, {2, 3}));
  EXPECT_TRUE(c(fuzzy::Substring, {2, 3}));
  EXPECT_FALSE(c(fuzzy::Substring, {3, 2}));
  // A string comparand against a binary property does not match.
  EXPECT_FALSE(evaluate(content(fuzzy::Substring, t, str(tags::PidTagSubject, "x")), m));
}

TEST(Evaluate, ContentOnMultiValuedAndMissing) {
  Message m = sample_message();
  PropTag colors(0x8001, PropType::MultipleString);
  PropTag color(0x8001, PropType::String);
  EXPECT_TRUE(evaluate(content(fuzzy::FullString, colors, str(color, "Blue")), m));
  EXPECT_TRUE(evaluate(content(fuzzy::Prefix | fuzzy::IgnoreCase, colors, str(color, "re")), m));
  EXPECT_FALSE(evaluate(content(fuzzy::FullString, colors, str(color, "Green")), m));
  // A missing property fails the restriction; NOT of it then matches.
  R missing = content(fuzzy::Substring, tags::PidTagBody, str(tags::PidTagBody, "x"));
  EXPECT_FALSE(evaluate(missing, m));
  EXPECT_TRUE(evaluate(not_(missing), m));
}

TEST(Evaluate, PropertyRelOps) {
  Message m = sample_message();  // importance 2
  auto p = [&](RelOp op, int32_t v) { return evaluate(prop(op, tags::PidTagImportance, i32(tags::PidTagImportance, v)), m); };
  EXPECT_TRUE(p(RelOp::Eq, 2));
  EXPECT_FALSE(p(RelOp::Eq, 1));
  EXPECT_TRUE(p(RelOp::Ne, 1));
  EXPECT_FALSE(p(RelOp::Ne, 2));
  EXPECT_TRUE(p(RelOp::Lt, 3));
  EXPECT_FALSE(p(RelOp::Lt, 2));
  EXPECT_TRUE(p(RelOp::Le, 2));
  EXPECT_FALSE(p(RelOp::Le, 1));
  EXPECT_TRUE(p(RelOp::Gt, 1));
  EXPECT_FALSE(p(RelOp::Gt, 2));
  EXPECT_TRUE(p(RelOp::Ge, 2));
  EXPECT_FALSE(p(RelOp::Ge, 3));
  // RELOP_RE and RELOP_MEMBER_OF_DL are not supported and never match.
  EXPECT_FALSE(p(RelOp::Re, 2));
  EXPECT_FALSE(p(RelOp::MemberOfDl, 2));
  // Missing property: false, NOT: true.
  R missing = prop(RelOp::Ne, tags::PidTagPriority, i32(tags::PidTagPriority, 0));
  EXPECT_FALSE(evaluate(missing, m));
  EXPECT_TRUE(evaluate(not_(missing), m));
}

TEST(Evaluate, PropertyOnStringsAndTimes) {
  Message m = sample_message();
  auto t = tags::PidTagSubject;
  EXPECT_TRUE(evaluate(prop(RelOp::Eq, t, str(t, "Quarterly Report: Café Sales")), m));
  EXPECT_FALSE(evaluate(prop(RelOp::Eq, t, str(t, "quarterly report: café sales")), m));  // equality is exact
  EXPECT_TRUE(evaluate(prop(RelOp::Gt, t, str(t, "prize")), m));   // ordering ignores case first: q > p
  EXPECT_TRUE(evaluate(prop(RelOp::Lt, t, str(t, "Rabbit")), m));  // q < r
  auto d = tags::PidTagMessageDeliveryTime;
  EXPECT_TRUE(evaluate(prop(RelOp::Gt, d, PropValue::time(d, *parse_filetime("2024-01-01"))), m));
  EXPECT_FALSE(evaluate(prop(RelOp::Gt, d, PropValue::time(d, *parse_filetime("2024-02-01"))), m));
  // A string compared with an integer property cannot match, whatever the operator.
  EXPECT_FALSE(evaluate(prop(RelOp::Ne, tags::PidTagImportance, str(t, "2")), m));
}

TEST(Evaluate, PropertyTypeMismatchComparesNumerically) {
  Message m = sample_message();  // PidTagMessageSizeExtended is PtypInteger64 = 5000
  EXPECT_TRUE(evaluate(prop(RelOp::Gt, tags::PidTagMessageSize, i32(tags::PidTagMessageSize, 4000)), m));
  EXPECT_FALSE(evaluate(prop(RelOp::Gt, tags::PidTagMessageSize, i32(tags::PidTagMessageSize, 6000)), m));
  EXPECT_TRUE(evaluate(prop(RelOp::Eq, tags::PidTagImportance, PropValue::i64(PropTag(0x0017, PropType::Integer64), 2)), m));
  EXPECT_TRUE(evaluate(prop(RelOp::Lt, tags::PidTagImportance, PropValue::f64(PropTag(0x0017, PropType::Floating64), 2.5)), m));
}

TEST(Evaluate, PropertyOnMultiValued) {
  Message m = sample_message();
  PropTag nums(0x8002, PropType::MultipleInteger32);
  PropTag num(0x8002, PropType::Integer32);
  // Any instance may satisfy the relation.
  EXPECT_TRUE(evaluate(prop(RelOp::Eq, nums, i32(num, 7)), m));
  EXPECT_FALSE(evaluate(prop(RelOp::Eq, nums, i32(num, 5)), m));
  EXPECT_TRUE(evaluate(prop(RelOp::Gt, nums, i32(num, 5)), m));
  EXPECT_FALSE(evaluate(prop(RelOp::Gt, nums, i32(num, 7)), m));
  // Two multi-valued values compare as wholes.
  EXPECT_TRUE(evaluate(prop(RelOp::Eq, nums, PropValue(nums, std::vector<int32_t>{3, 7})), m));
  EXPECT_FALSE(evaluate(prop(RelOp::Eq, nums, PropValue(nums, std::vector<int32_t>{7, 3})), m));
}

TEST(Evaluate, CompareProps) {
  Message m = sample_message();
  EXPECT_TRUE(evaluate(R::CompareProps{RelOp::Eq, tags::PidTagSubject, tags::PidTagNormalizedSubject}, m));
  EXPECT_FALSE(evaluate(R::CompareProps{RelOp::Ne, tags::PidTagSubject, tags::PidTagNormalizedSubject}, m));
  EXPECT_TRUE(evaluate(R::CompareProps{RelOp::Lt, tags::PidTagImportance, tags::PidTagMessageFlags}, m));
  EXPECT_FALSE(evaluate(R::CompareProps{RelOp::Eq, tags::PidTagSubject, tags::PidTagBody}, m));  // one missing
  EXPECT_FALSE(evaluate(R::CompareProps{RelOp::Eq, tags::PidTagSubject, tags::PidTagImportance}, m));  // types
  EXPECT_FALSE(evaluate(R::CompareProps{RelOp::Re, tags::PidTagSubject, tags::PidTagNormalizedSubject}, m));
}

TEST(Evaluate, Bitmask) {
  Message m = sample_message();  // flags: Read | HasAttach
  auto b = [&](BitmaskOp op, uint32_t mask) { return evaluate(R::Bitmask{op, tags::PidTagMessageFlags, mask}, m); };
  EXPECT_TRUE(b(BitmaskOp::NotEqualToZero, msgflag::Read));
  EXPECT_FALSE(b(BitmaskOp::EqualToZero, msgflag::Read));
  EXPECT_TRUE(b(BitmaskOp::EqualToZero, msgflag::Unsent));
  EXPECT_FALSE(b(BitmaskOp::NotEqualToZero, msgflag::Unsent));
  EXPECT_TRUE(b(BitmaskOp::NotEqualToZero, msgflag::Unsent | msgflag::HasAttach));
  EXPECT_FALSE(evaluate(R::Bitmask{BitmaskOp::EqualToZero, tags::PidTagPriority, 1}, m));  // missing
  EXPECT_FALSE(evaluate(R::Bitmask{BitmaskOp::EqualToZero, tags::PidTagSubject, 1}, m));   // not an integer
}

TEST(Evaluate, Size) {
  Message m = sample_message();
  // PidTagSearchKey is 4 bytes; PidTagSubject counts as UTF-16 (28 characters, 56 bytes).
  EXPECT_TRUE(evaluate(R::Size{RelOp::Eq, tags::PidTagSearchKey, 4}, m));
  EXPECT_TRUE(evaluate(R::Size{RelOp::Lt, tags::PidTagSearchKey, 5}, m));
  EXPECT_FALSE(evaluate(R::Size{RelOp::Gt, tags::PidTagSearchKey, 4}, m));
  EXPECT_TRUE(evaluate(R::Size{RelOp::Eq, tags::PidTagSubject, 56}, m));
  EXPECT_TRUE(evaluate(R::Size{RelOp::Eq, tags::PidTagImportance, 4}, m));
  EXPECT_FALSE(evaluate(R::Size{RelOp::Ge, tags::PidTagBody, 0}, m));  // missing
  EXPECT_TRUE(evaluate(not_(R::Size{RelOp::Ge, tags::PidTagBody, 0}), m));
  EXPECT_FALSE(evaluate(R::Size{RelOp::Re, tags::PidTagSearchKey, 4}, m));
}

TEST(Evaluate, Exist) {
  Message m = sample_message();
  EXPECT_TRUE(evaluate(R::Exist{tags::PidTagSubject}, m));
  EXPECT_TRUE(evaluate(R::Exist{PropTag(0x0037, PropType::String8)}, m));      // String8 and String are one
  EXPECT_TRUE(evaluate(R::Exist{PropTag(0x0037, PropType::Unspecified)}, m));  // any type
  EXPECT_FALSE(evaluate(R::Exist{PropTag(0x0037, PropType::Binary)}, m));
  EXPECT_FALSE(evaluate(R::Exist{tags::PidTagBody}, m));
}

TEST(Evaluate, SubRestrictionOverRecipientsAndAttachments) {
  Message m = sample_message();
  auto name_has = [](std::string s) {
    return content(fuzzy::Substring | fuzzy::IgnoreCase, tags::PidTagDisplayName, str(tags::PidTagDisplayName, s));
  };
  EXPECT_TRUE(evaluate(sub(tags::PidTagMessageRecipients, name_has("bob")), m));
  EXPECT_FALSE(evaluate(sub(tags::PidTagMessageRecipients, name_has("carol")), m));
  // Both conditions must hold for the same recipient.
  R bob_cc = and_(name_has("bob"), prop(RelOp::Eq, tags::PidTagRecipientType, i32(tags::PidTagRecipientType, recipient_type::Cc)));
  EXPECT_FALSE(evaluate(sub(tags::PidTagMessageRecipients, bob_cc), m));
  R alice_cc = and_(name_has("alice"), prop(RelOp::Eq, tags::PidTagRecipientType, i32(tags::PidTagRecipientType, recipient_type::Cc)));
  EXPECT_TRUE(evaluate(sub(tags::PidTagMessageRecipients, alice_cc), m));
  // Attachments; message properties are not visible from the sub-objects.
  EXPECT_TRUE(evaluate(sub(tags::PidTagMessageAttachments, R::Size{RelOp::Gt, tags::PidTagAttachLongFilename, 4}), m));
  EXPECT_TRUE(evaluate(sub(tags::PidTagMessageAttachments, prop(RelOp::Gt, tags::PidTagAttachSize, i32(tags::PidTagAttachSize, 1000))), m));
  EXPECT_FALSE(evaluate(sub(tags::PidTagMessageAttachments, R::Exist{tags::PidTagSubject}), m));
  // A plain bag has no sub-objects.
  EXPECT_FALSE(evaluate(sub(tags::PidTagMessageRecipients, and_()), m.props));
  Message empty;
  EXPECT_FALSE(evaluate(sub(tags::PidTagMessageAttachments, and_()), empty));
}

TEST(Evaluate, CommentIsItsChild) {
  Message m = sample_message();
  std::vector<PropValue> notes{str(tags::PidTagDisplayName, "note")};
  EXPECT_TRUE(evaluate(R::Comment{notes, nullptr}, m));
  EXPECT_TRUE(evaluate(R::Comment{notes, std::make_unique<R>(R::Exist{tags::PidTagSubject})}, m));
  EXPECT_FALSE(evaluate(R::Comment{notes, std::make_unique<R>(R::Exist{tags::PidTagBody})}, m));
}

TEST(Evaluate, CountLimitsMatchesOverAPass) {
  Message a = sample_message(), b = sample_message(), c = sample_message();
  R r = count(2, R::Exist{tags::PidTagSubject});
  EvalState pass;
  EXPECT_TRUE(evaluate(r, a, pass));
  EXPECT_TRUE(evaluate(r, b, pass));
  EXPECT_FALSE(evaluate(r, c, pass));  // the third match is over the limit
  EvalState other;
  EXPECT_TRUE(evaluate(r, c, other));  // a new pass starts again
  // Non-matches do not use up the count; two RES_COUNT nodes count separately.
  R two = or_(count(1, R::Exist{tags::PidTagBody}), count(1, R::Exist{tags::PidTagSubject}));
  EvalState s;
  EXPECT_TRUE(evaluate(two, a, s));
  EXPECT_FALSE(evaluate(two, b, s));
  EXPECT_TRUE(evaluate(count(0, and_()), a) == false);
}

// ---- wire form ----------------------------------------------------------------

// Hand-assembled from the field layouts of MS-OXCDATA 2.12.1.1 (AndRestriction), 2.12.3.1
// (ContentRestriction), 2.12.5.1 (PropertyRestriction) and 2.12.9.1 (ExistRestriction), standard form;
// the values are PropertyValue structures (2.11.2.1). No byte dump of a restriction was found in the
// specifications' examples, so this vector checks our reading of the layouts (DERIVED, see
// shared/spec-vectors/README.md), field by field.
TEST(Wire, StandardFormBytes) {
  R r = and_(content(fuzzy::Substring | fuzzy::IgnoreCase, tags::PidTagSubject, str(tags::PidTagSubject, "Hi")),
             prop(RelOp::Ge, tags::PidTagImportance, i32(tags::PidTagImportance, 1)),
             R::Exist{tags::PidTagBody});
  Bytes expected = {
      0x00, 0x03, 0x00,                                // RestrictType And, RestrictCount 3 (16 bits)
      0x03,                                            // RestrictType Content
      0x01, 0x00, 0x01, 0x00,                          // FuzzyLevelLow FL_SUBSTRING, FuzzyLevelHigh FL_IGNORECASE
      0x1F, 0x00, 0x37, 0x00,                          // PropertyTag PidTagSubject 0x0037001F
      0x1F, 0x00, 0x37, 0x00,                          // TaggedValue: PropertyTag
      0x48, 0x00, 0x69, 0x00, 0x00, 0x00,              //              "Hi" UTF-16LE, NUL-terminated
      0x04,                                            // RestrictType Property
      0x03,                                            // RelOp RELOP_GE
      0x03, 0x00, 0x17, 0x00,                          // PropTag PidTagImportance 0x00170003
      0x03, 0x00, 0x17, 0x00, 0x01, 0x00, 0x00, 0x00,  // TaggedValue 1
      0x08,                                            // RestrictType Exist
      0x1F, 0x00, 0x00, 0x10,                          // PropTag PidTagBody 0x1000001F
  };
  EXPECT_EQ(to_hex(serialize_restriction(r)), to_hex(expected));
  EXPECT_TRUE(restriction_equal(parse_restriction(expected), r));

  // The extended-rule form widens RestrictCount to 32 bits.
  Bytes ext = serialize_restriction(r, RestrictionForm::Extended);
  EXPECT_EQ(ext.size(), expected.size() + 2);
  EXPECT_EQ(to_hex(Bytes(ext.begin(), ext.begin() + 5)), to_hex(Bytes{0x00, 0x03, 0x00, 0x00, 0x00}));
  EXPECT_TRUE(restriction_equal(parse_restriction(ext, RestrictionForm::Extended), r));
}

TEST(Wire, OtherKindsBytes) {
  // ComparePropertiesRestriction 2.12.6.1, BitMaskRestriction 2.12.7.1, SizeRestriction 2.12.8.1,
  // SubObjectRestriction 2.12.10.1, CommentRestriction 2.12.11.1, CountRestriction 2.12.12.
  EXPECT_EQ(to_hex(serialize_restriction(R::CompareProps{RelOp::Eq, tags::PidTagSubject, tags::PidTagNormalizedSubject})),
            to_hex(Bytes{0x05, 0x04, 0x1F, 0x00, 0x37, 0x00, 0x1F, 0x00, 0x1D, 0x0E}));
  EXPECT_EQ(to_hex(serialize_restriction(R::Bitmask{BitmaskOp::NotEqualToZero, tags::PidTagMessageFlags, 1})),
            to_hex(Bytes{0x06, 0x01, 0x03, 0x00, 0x07, 0x0E, 0x01, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_hex(serialize_restriction(R::Size{RelOp::Gt, tags::PidTagBody, 100})),
            to_hex(Bytes{0x07, 0x02, 0x1F, 0x00, 0x00, 0x10, 0x64, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_hex(serialize_restriction(sub(tags::PidTagMessageRecipients, and_()))),
            to_hex(Bytes{0x09, 0x0D, 0x00, 0x12, 0x0E, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_hex(serialize_restriction(R::Comment{{i32(tags::PidTagImportance, 2)}, nullptr})),
            to_hex(Bytes{0x0A, 0x01, 0x03, 0x00, 0x17, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(to_hex(serialize_restriction(count(5, not_(or_())))),
            to_hex(Bytes{0x0B, 0x05, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00}));
}

std::vector<R> every_kind() {
  std::vector<R> all;
  all.push_back(and_());
  all.push_back(or_(R::Exist{tags::PidTagBody}, not_(R::Exist{tags::PidTagSubject})));
  all.push_back(content(fuzzy::Prefix | fuzzy::Loose, tags::PidTagSubject, str(tags::PidTagSubject, "Ré: ✓")));
  all.push_back(content(fuzzy::Substring, tags::PidTagSearchKey, PropValue::binary(tags::PidTagSearchKey, {0, 1, 0xFF})));
  all.push_back(content(fuzzy::FullString, PropTag(0x8001, PropType::MultipleString8),
                        PropValue::string(PropTag(0x8001, PropType::String8), "abc")));
  all.push_back(prop(RelOp::Lt, tags::PidTagMessageDeliveryTime, PropValue::time(tags::PidTagMessageDeliveryTime, 133500000000000001)));
  all.push_back(prop(RelOp::MemberOfDl, PropTag(0x8002, PropType::MultipleInteger64),
                     PropValue(PropTag(0x8002, PropType::MultipleInteger64), std::vector<int64_t>{-1, 5})));
  all.push_back(prop(RelOp::Eq, PropTag(0x8003, PropType::Guid), PropValue::guid(PropTag(0x8003, PropType::Guid), Guid::from_string("{00062008-0000-0000-C000-000000000046}"))));
  all.push_back(prop(RelOp::Ne, PropTag(0x8004, PropType::Floating64), PropValue::f64(PropTag(0x8004, PropType::Floating64), -2.5e-7)));
  all.push_back(prop(RelOp::Eq, PropTag(0x8005, PropType::Boolean), PropValue::boolean(PropTag(0x8005, PropType::Boolean), true)));
  all.push_back(prop(RelOp::Ge, PropTag(0x8006, PropType::Currency), PropValue(PropTag(0x8006, PropType::Currency), int64_t(-123456))));
  all.push_back(prop(RelOp::Re, PropTag(0x8007, PropType::Integer16), PropValue::i16(PropTag(0x8007, PropType::Integer16), -7)));
  all.push_back(prop(RelOp::Eq, tags::PidTagMessageClass, str(tags::PidTagNormalizedSubject, "IPM.Note")));  // value with its own tag
  all.push_back(R::CompareProps{RelOp::Le, tags::PidTagCreationTime, tags::PidTagLastModificationTime});
  all.push_back(R::Bitmask{BitmaskOp::EqualToZero, tags::PidTagMessageFlags, 0x80000001u});
  all.push_back(R::Size{RelOp::Ne, tags::PidTagBody, 4000000000u});
  all.push_back(R::Exist{PropTag(0x1234, PropType::Unspecified)});
  all.push_back(sub(tags::PidTagMessageAttachments, R::Exist{tags::PidTagAttachLongFilename}));
  all.push_back(sub(PropTag(0x0E12, PropType::Null), and_()));
  all.push_back(R::Comment{{str(tags::PidTagDisplayName, "why"), PropValue::binary(tags::PidTagEntryId, {9})},
                           std::make_unique<R>(R::Exist{tags::PidTagSubject})});
  all.push_back(R::Comment{{}, nullptr});
  all.push_back(count(7, or_()));
  all.push_back(prop(RelOp::Eq, PropTag(0x8008, PropType::Restriction),
                     PropValue(PropTag(0x8008, PropType::Restriction), std::make_shared<const R>(R::Exist{tags::PidTagBody}))));
  return all;
}

TEST(Wire, RoundTripEveryKindBothForms) {
  for (const R& r : every_kind()) {
    for (auto form : {RestrictionForm::Standard, RestrictionForm::Extended}) {
      Bytes b = serialize_restriction(r, form);
      R back = parse_restriction(b, form);
      EXPECT_TRUE(restriction_equal(back, r)) << to_text(r);
      EXPECT_EQ(serialize_restriction(back, form), b);
    }
  }
}

TEST(Wire, StandardFormRefusesWhatDoesNotFit) {
  R::And big;
  big.children.resize(0x10000);
  expect_error(ErrorCode::MAPI_E_TOO_BIG, [&] { serialize_restriction(big); });
  EXPECT_NO_THROW(serialize_restriction(big, RestrictionForm::Extended));
  R bin = prop(RelOp::Eq, tags::PidTagSearchKey, PropValue::binary(tags::PidTagSearchKey, Bytes(0x10000, 1)));
  expect_error(ErrorCode::MAPI_E_TOO_BIG, [&] { serialize_restriction(bin); });
  EXPECT_NO_THROW(serialize_restriction(bin, RestrictionForm::Extended));
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [&] { serialize_restriction(R::Not{}); });
}

TEST(Wire, TruncatedInputIsCorrupt) {
  for (const R& r : every_kind()) {
    Bytes b = serialize_restriction(r);
    for (size_t n = 0; n < b.size(); ++n)
      expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [&] { parse_restriction(ByteView(b.data(), n)); });
  }
}

TEST(Wire, MalformedInputIsCorrupt) {
  auto bad = [](Bytes b) { expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [&] { parse_restriction(b); }); };
  bad({0x0C});                                              // unknown RestrictType
  bad({0x00, 0x00, 0x00, 0x00});                            // trailing byte
  bad({0x04, 0x07, 0x03, 0x00, 0x17, 0x00, 0x03, 0x00, 0x17, 0x00, 1, 0, 0, 0});  // RelOp 7
  bad({0x06, 0x02, 0x03, 0x00, 0x07, 0x0E, 1, 0, 0, 0});   // bitmask operator 2
  bad({0x0A, 0x00, 0x02});                                  // RestrictionPresent 2
  bad({0x04, 0x04, 0x03, 0x00, 0x17, 0x00, 0x99, 0x00, 0x17, 0x00});  // value of unknown type 0x0099
  bad({0x00, 0xFF, 0xFF, 0x08, 0x1F, 0x00, 0x37, 0x00});   // huge count, little data
  bad({0x01, 0xFF, 0xFF, 0xFF, 0xFF});                      // huge count (extended widths read as standard)
  expect_error(ErrorCode::MAPI_E_CORRUPT_DATA,
               [] { parse_restriction(Bytes{0x00, 0xFF, 0xFF, 0xFF, 0x7F}, RestrictionForm::Extended); });
  bad({0x04, 0x04, 0x1F, 0x00, 0x37, 0x00, 0x1F, 0x00, 0x37, 0x00, 0x00, 0xD8, 0x00, 0x00});  // lone surrogate
}

TEST(Wire, DepthIsLimited) {
  auto nots = [](size_t levels) {  // `levels` restrictions: NOT ... NOT (empty AND)
    Bytes b(levels - 1, 0x02);
    b.insert(b.end(), {0x00, 0x00, 0x00});
    return b;
  };
  EXPECT_NO_THROW(parse_restriction(nots(256)));
  expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [&] { parse_restriction(nots(257)); });
  expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [&] { parse_restriction(nots(100000)); });
  // Restrictions nested inside PtypRestriction values count too.
  Bytes b;
  for (int i = 0; i < 300; ++i) b.insert(b.end(), {0x04, 0x04, 0xFD, 0x00, 0x01, 0x80, 0xFD, 0x00, 0x01, 0x80});
  b.insert(b.end(), {0x00, 0x00, 0x00});
  expect_error(ErrorCode::MAPI_E_CORRUPT_DATA, [&] { parse_restriction(b); });
}

// ---- text syntax ----------------------------------------------------------------

TEST(Text, ParsesTheDocumentedForms) {
  EXPECT_TRUE(restriction_equal(parse_restriction_text("subject ~ \"report\""),
                                content(fuzzy::Substring | fuzzy::IgnoreCase, tags::PidTagSubject, str(tags::PidTagSubject, "report"))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("subject ^= \"Re:\""),
                                content(fuzzy::Prefix | fuzzy::IgnoreCase, tags::PidTagSubject, str(tags::PidTagSubject, "Re:"))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("PidTagSubject == \"x\""), prop(RelOp::Eq, tags::PidTagSubject, str(tags::PidTagSubject, "x"))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("importance >= 1"), prop(RelOp::Ge, tags::PidTagImportance, i32(tags::PidTagImportance, 1))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("0x00170003 != 0x10"), prop(RelOp::Ne, tags::PidTagImportance, i32(tags::PidTagImportance, 16))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("exists(PidTagBody)"), R::Exist{tags::PidTagBody}));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("bitmask(PidTagMessageFlags, 0x1) != 0"),
                                R::Bitmask{BitmaskOp::NotEqualToZero, tags::PidTagMessageFlags, 1}));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("size(body) > 100"), R::Size{RelOp::Gt, tags::PidTagBody, 100}));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("size < 100"), prop(RelOp::Lt, tags::PidTagMessageSize, i32(tags::PidTagMessageSize, 100))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("date >= 2024-01-31T10:00:00Z"),
                                prop(RelOp::Ge, tags::PidTagMessageDeliveryTime,
                                     PropValue::time(tags::PidTagMessageDeliveryTime, *parse_filetime("2024-01-31T10:00:00Z")))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("sent < \"2024-01-31\""),
                                prop(RelOp::Lt, tags::PidTagClientSubmitTime,
                                     PropValue::time(tags::PidTagClientSubmitTime, *parse_filetime("2024-01-31")))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("recipients(PidTagDisplayName ~ \"bob\")"),
                                sub(tags::PidTagMessageRecipients,
                                    content(fuzzy::Substring | fuzzy::IgnoreCase, tags::PidTagDisplayName, str(tags::PidTagDisplayName, "bob")))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("PidTagSubject == PidTagNormalizedSubject"),
                                R::CompareProps{RelOp::Eq, tags::PidTagSubject, tags::PidTagNormalizedSubject}));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("PidTagSearchKey ~= x'0102'"),
                                content(fuzzy::FullString | fuzzy::IgnoreCase, tags::PidTagSearchKey, PropValue::binary(tags::PidTagSearchKey, {1, 2}))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("content(subject, \"x\", prefix | ignorenonspace)"),
                                content(fuzzy::Prefix | fuzzy::IgnoreNonSpace, tags::PidTagSubject, str(tags::PidTagSubject, "x"))));
  EXPECT_TRUE(restriction_equal(parse_restriction_text("count(3, true)"), count(3, and_())));
}

TEST(Text, PrecedenceAndGrouping) {
  // not binds tighter than and, and tighter than or; parentheses keep their own node.
  R r = parse_restriction_text("not exists(body) and importance > 1 or subject ~ \"x\"");
  ASSERT_EQ(r.type(), RestrictionType::Or);
  const auto& o = std::get<R::Or>(r.node);
  ASSERT_EQ(o.children.size(), 2u);
  ASSERT_EQ(o.children[0].type(), RestrictionType::And);
  EXPECT_EQ(std::get<R::And>(o.children[0].node).children[0].type(), RestrictionType::Not);
  R flat = parse_restriction_text("exists(body) and exists(subject) and exists(class)");
  EXPECT_EQ(std::get<R::And>(flat.node).children.size(), 3u);
  R grouped = parse_restriction_text("(exists(body) and exists(subject)) and exists(class)");
  EXPECT_EQ(std::get<R::And>(grouped.node).children.size(), 2u);
}

TEST(Text, AliasesAndCatalogueNames) {
  EXPECT_EQ(resolve_property_name("subject"), tags::PidTagSubject);
  EXPECT_EQ(resolve_property_name("Subject"), tags::PidTagSubject);
  EXPECT_EQ(resolve_property_name("PidTagSubject"), tags::PidTagSubject);
  EXPECT_EQ(resolve_property_name("PR_SUBJECT"), tags::PidTagSubject);
  EXPECT_EQ(resolve_property_name("from"), tags::PidTagSenderName);
  EXPECT_EQ(resolve_property_name("received"), tags::PidTagMessageDeliveryTime);
  EXPECT_EQ(resolve_property_name("0x0037001E"), PropTag(0x0037, PropType::String8));
  expect_error(ErrorCode::MAPI_E_NOT_FOUND, [] { resolve_property_name("NoSuchProperty"); });
  EXPECT_EQ(property_text_name(tags::PidTagSubject), "PidTagSubject");
  EXPECT_EQ(property_text_name(PropTag(0x0037, PropType::String8)), "0x0037001E");
  EXPECT_EQ(property_text_name(PropTag(0x8001, PropType::String)), "0x8001001F");
}

TEST(Text, LiteralsConvertToThePropertyType) {
  auto err = [](const char* text) {
    expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [&] { parse_restriction_text(text); });
  };
  err("date > 5");               // an integer for a PtypTime
  err("importance == \"high\"");  // a string for a PtypInteger32
  err("subject == 5");
  err("importance == 2024-01-01");
  err("importance == 4294967296");  // out of range
  err("PidTagSearchKey == \"ab\"");
  err("importance ~ 1");  // content needs a string or binary property
  err("hasattachments == 1");
  err("date > 2024-13-01");
  EXPECT_NO_THROW(parse_restriction_text("importance == 0xFFFFFFFF"));  // masks wrap
  EXPECT_NO_THROW(parse_restriction_text("hasattachments == true"));
  EXPECT_NO_THROW(parse_restriction_text("0x80010048 == {00062008-0000-0000-C000-000000000046}"));
  EXPECT_NO_THROW(parse_restriction_text("0x80011003 == [1, 2, 3] or 0x80011003 == 2"));
}

TEST(Text, ErrorsNameThePosition) {
  try {
    parse_restriction_text("subject ~ \"x\" and nosuchthing == 1");
    ADD_FAILURE();
  } catch (const MapiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::MAPI_E_INVALID_PARAMETER);
    EXPECT_NE(std::string(e.what()).find("position 18"), std::string::npos) << e.what();
  }
  for (const char* bad : {"", "subject ~", "(exists(body)", "exists(body))", "subject ~ \"unterminated",
                          "exists(body) and", "subject $ 1", "bitmask(flags, 1) == 2", "count(-1, true)",
                          "not", "size(body) > -1", "comment[subject = 1]", "subject ~ \"a\\x00\""}) {
    expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [&] { parse_restriction_text(bad); });
  }
  std::string deep(300, '(');
  deep += "true" + std::string(300, ')');
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [&] { parse_restriction_text(deep); });
  std::string nots;
  for (int i = 0; i < 300; ++i) nots += "not ";
  expect_error(ErrorCode::MAPI_E_INVALID_PARAMETER, [&] { parse_restriction_text(nots + "true"); });
}

TEST(Text, PrintsReadably) {
  EXPECT_EQ(to_text(parse_restriction_text("subject ~ \"report\" and (importance >= 1 or not exists(body))")),
            "PidTagSubject ~ \"report\" and (PidTagImportance >= 1 or not exists(PidTagBody))");
  EXPECT_EQ(to_text(R::Bitmask{BitmaskOp::EqualToZero, tags::PidTagMessageFlags, 1}), "bitmask(PidTagMessageFlags, 0x1) == 0");
  EXPECT_EQ(to_text(sub(tags::PidTagMessageRecipients, R::Exist{tags::PidTagDisplayName})),
            "recipients(exists(PidTagDisplayName))");
  EXPECT_EQ(to_text(content(fuzzy::Prefix | fuzzy::IgnoreNonSpace, tags::PidTagSubject, str(tags::PidTagSubject, "a\"b"))),
            "content(PidTagSubject, \"a\\\"b\", prefix | ignorenonspace)");
  EXPECT_EQ(to_text(prop(RelOp::Lt, tags::PidTagMessageDeliveryTime,
                         PropValue::time(tags::PidTagMessageDeliveryTime, *parse_filetime("2024-01-31T10:00:00Z")))),
            "PidTagMessageDeliveryTime < 2024-01-31T10:00:00Z");
}

TEST(Text, RoundTripsEveryKind) {
  for (const R& r : every_kind()) {
    std::string text = to_text(r);
    R back = parse_restriction_text(text);
    EXPECT_TRUE(restriction_equal(back, r)) << text << "\n -> " << to_text(back);
    EXPECT_EQ(to_text(back), text);
  }
  for (const char* text : {"not (exists(PidTagBody) or exists(PidTagSubject))", "and(exists(PidTagBody))", "or(true)",
                           "false", "not not true", "count(2, PidTagSubject ~ \"a\" and PidTagImportance == 1)",
                           "comment[PidTagDisplayName = \"n\", 0x80011003 = [1, -2]](PidTagImportance != 0)",
                           "comment[]", "PidTagSubject memberof \"x\"", "PidTagSubject =~ \"a.*\"",
                           "0x80040005 > nan", "0x80040005 < -inf", "0x80040004 == 1.5", "0x80040006 == -0.0001",
                           "sub(0x0E120001, true)", "PidTagSubject == \"tab\\tline\\n\"",
                           "0x8001001E == \"\\xFF\\x01\"", "PidTagImportance == tag(0x80010003)",
                           "PidTagMessageDeliveryTime == filetime(1)", "0x800100FD == restriction(exists(PidTagBody))"}) {
    R r = parse_restriction_text(text);
    EXPECT_EQ(to_text(r), text);
    EXPECT_TRUE(restriction_equal(parse_restriction_text(to_text(r)), r)) << text;
  }
}

}  // namespace
}  // namespace openmapi
