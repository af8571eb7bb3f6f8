// libFuzzer target: the profile file parser; every file it accepts writes back to one it reads
// as the same profiles.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "mapi/profile.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto profiles = mapi::parse_profiles(text);
    if (mapi::parse_profiles(mapi::serialize_profiles(profiles)) != profiles) std::abort();
  } catch (const MapiError&) {
  }
  return 0;
}
