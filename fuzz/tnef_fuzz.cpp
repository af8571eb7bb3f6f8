// libFuzzer target for the TNEF reader (MS-OXTNEF): read with and without checksum checks, and
// write what was read and read it back (the writer's output must always be readable).
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/tnef/tnef.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  for (bool verify : {true, false}) {
    tnef::TnefReadOptions options;
    options.verify_checksums = verify;
    tnef::TnefFile f;
    try {
      f = tnef::read_tnef(in, options);
    } catch (const MapiError&) {
      continue;
    }
    Bytes out = tnef::write_tnef(f.message, f.names);
    tnef::TnefFile g = tnef::read_tnef(out);  // must not throw
    if (g.message.attachments.size() != f.message.attachments.size()) __builtin_trap();
    if (g.message.recipients.size() != f.message.recipients.size()) __builtin_trap();
  }
  return 0;
}
