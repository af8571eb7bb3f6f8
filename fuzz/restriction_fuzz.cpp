// Fuzzes the restriction parsers (MS-OXCDATA 2.12 wire forms and the text syntax) and checks that
// what parses re-serializes to something that parses back equal.
//   first byte 'T': the rest is text for parse_restriction_text
//   first byte 'E': the rest is the extended-rule wire form
//   anything else:  the whole input is the standard wire form
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/restriction.h"

using namespace openmapi;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "restriction_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// A small message to evaluate parsed restrictions against (exercises evaluate() for crashes).
const Message& sample() {
  static const Message m = [] {
    Message msg;
    msg.props = PropertyBag{PropValue::string(tags::PidTagSubject, "Quarterly report"),
                            PropValue::i32(tags::PidTagImportance, 1),
                            PropValue::i32(tags::PidTagMessageFlags, 0x11),
                            PropValue::binary(tags::PidTagSearchKey, Bytes{1, 2, 3}),
                            PropValue(PropTag(0x8001, PropType::MultipleString), std::vector<std::string>{"a", "B"})};
    msg.recipients.push_back(PropertyBag{PropValue::string(tags::PidTagDisplayName, "Bob")});
    Attachment a;
    a.props = PropertyBag{PropValue::i32(tags::PidTagAttachSize, 10)};
    msg.attachments.push_back(a);
    return msg;
  }();
  return m;
}

// serialize(parse(x)) must parse back equal and serialize to the same bytes. `may_not_fit`: a
// restriction from text may hold a value too large for the standard form's 16-bit counts.
void check_wire(const Restriction& r, RestrictionForm form, bool may_not_fit = false) {
  Bytes once;
  try {
    once = serialize_restriction(r, form);
  } catch (const MapiError& e) {
    if (may_not_fit && e.code() == ErrorCode::MAPI_E_TOO_BIG) return;
    fail("a parsed restriction does not serialize", e.describe());
  }
  Restriction again;
  try {
    again = parse_restriction(once, form);
  } catch (const MapiError& e) {
    fail("serialized restriction does not parse", to_text(r) + "\n" + e.describe());
  }
  if (!restriction_equal(again, r)) fail("wire round trip changed the restriction", to_text(r) + "\n" + to_text(again));
  if (serialize_restriction(again, form) != once) fail("wire round trip changed the bytes", to_text(r));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 0 && data[0] == 'T') {
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    Restriction r;
    try {
      r = parse_restriction_text(text);
    } catch (const MapiError& e) {
      if (e.code() != ErrorCode::MAPI_E_INVALID_PARAMETER) fail("text parse threw an unexpected code", e.describe());
      return 0;
    }
    // Text round trip: printing and parsing again gives the same restriction and the same text.
    std::string printed = to_text(r);
    Restriction back;
    try {
      back = parse_restriction_text(printed);
    } catch (const MapiError& e) {
      fail("to_text output does not parse", printed + "\n" + e.describe());
    }
    if (!restriction_equal(back, r)) fail("text round trip changed the restriction", printed);
    if (to_text(back) != printed) fail("text round trip changed the text", printed);
    check_wire(r, RestrictionForm::Extended);
    check_wire(r, RestrictionForm::Standard, /*may_not_fit=*/true);
    EvalState state;
    evaluate(r, sample(), state);
    return 0;
  }

  RestrictionForm form = RestrictionForm::Standard;
  ByteView input(data, size);
  if (size > 0 && data[0] == 'E') form = RestrictionForm::Extended, input = input.subspan(1);
  Restriction r;
  try {
    r = parse_restriction(input, form);
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_CORRUPT_DATA) fail("wire parse threw an unexpected code", e.describe());
    return 0;
  }
  check_wire(r, form);
  EvalState state;
  evaluate(r, sample(), state);
  (void)to_text(r);  // printing must cope with anything that parses
  return 0;
}
