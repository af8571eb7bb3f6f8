// Fuzzes the MS-CFB reader: parse, list, read every stream, and check that a tree that reads
// writes back to a file that reads as the same tree. Malformed input may only throw MapiError.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "formats/cfb/compound_file.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cfb::Storage tree;
  try {
    cfb::CompoundFile f = cfb::CompoundFile::parse(ByteView(data, size));
    for (auto& item : f.list()) {
      f.find(item.path);
      if (item.type == cfb::ObjectType::Stream) {
        try {
          f.read_stream(item.index);
        } catch (const MapiError&) {
        }
      }
    }
    tree = cfb::to_tree(f);
  } catch (const MapiError&) {
    return 0;
  }
  Bytes written;
  try {
    written = cfb::write_compound_file(tree);
  } catch (const MapiError& e) {
    // Names we cannot write (too long, illegal characters, duplicates under case folding).
    if (e.code() != ErrorCode::MAPI_E_INVALID_PARAMETER) {
      std::fprintf(stderr, "cfb_fuzz: write failed: %s\n", e.what());
      std::abort();
    }
    return 0;
  }
  if (!(cfb::load_tree(written) == tree)) {
    std::fprintf(stderr, "cfb_fuzz: round trip changed the tree\n");
    std::abort();
  }
  return 0;
}
