// Fuzzes the PST reader (MS-PST) from bytes: open, walk the folder tree, read every message.
// Damaged input may only throw MapiError or add problems; it must not crash, hang or read out of
// bounds.
#include <cstdint>
#include <functional>

#include "core/error.h"
#include "formats/pst/pst.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    pst::PstFile f = pst::PstFile::from_bytes(Bytes(data, data + size));
    (void)f.info();
    size_t visited = 0;
    std::function<void(uint32_t, int)> walk = [&](uint32_t folder, int depth) {
      if (depth > 16 || ++visited > 256) return;
      try {
        (void)f.folder_properties(folder);
      } catch (const MapiError&) {
      }
      for (bool fai : {false, true})
        for (uint32_t id : f.messages(folder, fai)) {
          try {
            (void)f.read_message(id);
          } catch (const MapiError&) {
          }
        }
      for (uint32_t child : f.subfolders(folder)) walk(child, depth + 1);
    };
    walk(f.root_folder(), 0);
  } catch (const MapiError&) {
  }
  return 0;
}
