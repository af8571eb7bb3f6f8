// Fuzzes the .msg reader (MS-OXMSG over MS-CFB). Input that reads is written back; the written
// file must read, and writing that again must give the same bytes. Malformed input may only
// throw MapiError.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "formats/msg/msg.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  msg::MsgFile f;
  try {
    f = msg::read_msg(ByteView(data, size));
  } catch (const MapiError&) {
    return 0;
  }
  Bytes once;
  try {
    once = msg::write_msg(f.message, f.names);
  } catch (const MapiError& e) {
    // A sparse name map with unnamed ids, or values too large for version 3.
    return 0;
  }
  try {
    msg::MsgFile g = msg::read_msg(once);
    Bytes twice = msg::write_msg(g.message, g.names);
    if (twice != once) {
      std::fprintf(stderr, "msg_fuzz: write(read(write(x))) != write(x)\n");
      std::abort();
    }
  } catch (const MapiError& e) {
    std::fprintf(stderr, "msg_fuzz: our own file does not read back: %s\n", e.what());
    std::abort();
  }
  return 0;
}
