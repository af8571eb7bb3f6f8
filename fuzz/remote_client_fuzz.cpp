// The remote provider's decoders of what a server sends (src/mapi/remote_client.h) on hostile
// bytes: an Execute response to a batch of three ROPs (RopSize, ROP responses read by
// read_property_row, the handle table, RopBufferTooSmall resends), and the row sets of NSPI
// responses. The first input byte picks the decoder. A MapiError or a result, never a crash, a
// hang or an allocation for a claimed size.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "core/error.h"
#include "mapi/remote_client.h"
#include "server/nspi.h"

using namespace openmapi;

namespace {

// Columns of every type a row may carry, PtypUnspecified too (typed values).
const std::vector<PropTag> kColumns = {PropTag(0x3001, PropType::String),  PropTag(0x0E08, PropType::Integer32),
                                       PropTag(0x0FFF, PropType::Binary),  PropTag(0x0E06, PropType::Time),
                                       PropTag(0x8000, PropType::MultipleString), PropTag(0x0057, PropType::Boolean),
                                       PropTag(0x0E1B, PropType::Unspecified), PropTag(0x3003, PropType::String8)};

void execute_response(const Bytes& response) {
  // The same hostile response for every Execute of the batch; resends are bounded by the batch
  // itself (each one must make progress).
  size_t calls = 0;
  mapi::RopBatch b([&](const Bytes&) {
    if (++calls > 8) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "enough");
    return response;
  });
  const mapi::Slot logon = b.known(0x0C000000);
  const mapi::Slot folder = b.fresh();
  b.add(Bytes{0x02, 0x00, logon, folder}, [](BinaryReader& r, uint32_t rv) { return rv == 0 && (r.u8(), r.u8(), true); });
  b.add(Bytes{0x07, 0x00, folder}, [](BinaryReader& r, uint32_t rv) {
    if (rv != 0) return false;
    mapi::read_property_row(r, kColumns);
    return true;
  });
  b.add(Bytes{0x15, 0x00, folder}, [](BinaryReader& r, uint32_t rv) {
    if (rv != 0) return false;
    r.u8();
    const uint16_t n = r.u16();
    for (uint16_t i = 0; i < n; ++i) mapi::read_property_row(r, kColumns);
    return true;
  });
  b.run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Bytes rest(data + 1, data + size);
  try {
    switch (data[0] % 3) {
      case 0: execute_response(rest); break;
      case 1: {
        BinaryReader r(rest);
        std::vector<PropTag> cols;
        mapi::read_address_book_rows(r, &cols);
        break;
      }
      default: {
        BinaryReader r(rest);
        server::nspi::read_stat(r);
        mapi::read_address_book_rows(r);
        break;
      }
    }
  } catch (const MapiError&) {
  }
  return 0;
}
