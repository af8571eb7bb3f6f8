// libFuzzer target: the vCard reader; every contact read is written as vCard 3 and 4 and read again.
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "formats/vcard/vcard.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    NamedPropertyMap names;
    auto msgs = vcard::read_vcards(text, names);
    for (const auto& m : msgs)
      for (auto v : {vcard::VcardVersion::V3, vcard::VcardVersion::V4}) (void)vcard::read_vcard(vcard::write_vcard(m, names, v), names);
  } catch (const MapiError&) {
  }
  return 0;
}
