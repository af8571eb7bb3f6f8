// libFuzzer target: the iCalendar reader (libical + our MS-OXCICAL mapping) and the writer on
// whatever the reader produced. Only MapiError may escape.
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "formats/ical/ical.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 16)) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    NamedPropertyMap names;
    auto msgs = ical::read_ical(text, names);
    std::string out = ical::write_ical(msgs, names);
    NamedPropertyMap names2;
    (void)ical::read_ical(out, names2);
  } catch (const MapiError&) {
  }
  return 0;
}
