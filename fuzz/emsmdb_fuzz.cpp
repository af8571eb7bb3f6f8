// The EMSMDB request decoders (server/emsmdb.h): Connect and Execute bodies and the
// RPC_HEADER_EXT buffers inside, from hostile bytes: MapiError or a value, never a crash, a hang
// or an allocation for a size that is not there.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "server/emsmdb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  openmapi::ByteView in(data, size);
  try {
    openmapi::server::parse_connect_request(in);
  } catch (const openmapi::MapiError&) {
  }
  try {
    auto e = openmapi::server::parse_execute_request(in);
    openmapi::server::parse_rpc_buffers(e.rop_buffer);
  } catch (const openmapi::MapiError&) {
  }
  try {
    openmapi::server::parse_rpc_buffers(in);
  } catch (const openmapi::MapiError&) {
  }
  return 0;
}
