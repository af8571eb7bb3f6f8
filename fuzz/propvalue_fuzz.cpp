// Fuzzes the property-value wire forms (MS-OXCDATA 2.11.2), sort order sets (2.13) and the small
// text parsers of core/ (tags, GUIDs, dates, hex, sort text), checking round trips.
//   byte 0: selects the parser; the rest is its input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/filetime.h"
#include "core/guid.h"
#include "core/propvalue.h"
#include "core/restriction.h"
#include "core/sortorder.h"
#include "core/unicode.h"

using namespace openmapi;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "propvalue_fuzz: %s\n", what);
  std::abort();
}

bool same_bits(const PropValue& a, const PropValue& b) {
  // NaNs compare unequal to themselves: compare the serialized forms instead.
  BinaryWriter wa, wb;
  write_tagged_value(wa, a);
  write_tagged_value(wb, b);
  return wa.data() == wb.data();
}

void tagged_values(ByteView data, bool wide) {
  BinaryReader r(data);
  while (!r.at_end()) {
    PropValue v = read_tagged_value(r, wide);
    BinaryWriter w;
    write_tagged_value(w, v, wide);
    BinaryReader again(w.data());
    PropValue v2 = read_tagged_value(again, wide);
    if (!again.at_end() || !same_bits(v, v2)) fail("tagged value round trip differs");
    (void)v.to_display();
    (void)v.size();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0] % 6;
  ByteView rest(data + 1, size - 1);
  std::string text(reinterpret_cast<const char*>(rest.data()), rest.size());
  try {
    switch (selector) {
      case 0: tagged_values(rest, true); break;
      case 1: tagged_values(rest, false); break;
      case 2: {
        SortOrderSet s = parse_sort_order_set(rest);
        if (parse_sort_order_set(serialize_sort_order_set(s)) != s) fail("sort order set round trip differs");
        break;
      }
      case 3: {
        SortOrderSet s = parse_sort_text(text);
        if (parse_sort_text(to_text(s)) != s) fail("sort text round trip differs");
        break;
      }
      case 4: {
        if (auto t = parse_filetime(text)) {
          auto again = parse_filetime(format_filetime(*t));
          if (!again || *again / 10 != *t / 10) fail("date round trip differs");
        }
        if (auto g = Guid::parse(text))
          if (Guid::parse(g->to_string()) != g) fail("GUID round trip differs");
        (void)parse_tag(text);
        break;
      }
      case 5: {
        if (is_valid_utf8(text)) {
          if (utf16_to_utf8(utf8_to_utf16(text)) != text) fail("UTF-8/UTF-16 round trip differs");
          (void)fold_case(text);
        }
        Bytes b = from_hex(text);
        if (from_hex(to_hex(b)) != b) fail("hex round trip differs");
        break;
      }
    }
  } catch (const MapiError&) {
    // Rejected input is fine; crashes, hangs and leaks are not.
  }
  return 0;
}
