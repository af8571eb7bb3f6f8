// libFuzzer target: a stored messages.recipients value, as a damaged or hostile mailbox file
// may hold any bytes there. What decodes must encode and decode to the same rows.
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "store/sqlite/values.h"

using namespace openmapi;
using namespace openmapi::store::sqlite;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<PropertyBag> rows;
  try {
    rows = decode_recipient_rows(ByteView(data, size));
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_CORRUPT_STORE) std::abort();  // damage has one error code
    return 0;
  }
  const auto again = decode_recipient_rows(encode_recipient_rows(rows));
  if (again.size() != rows.size()) std::abort();
  for (size_t i = 0; i < rows.size(); ++i)
    for (const PropValue& v : rows[i].values()) {
      if (v.type() == PropType::ErrorCode || v.type() == PropType::Object) continue;  // not stored
      const PropValue n = normalize(v);
      const PropValue* w = again[i].find(n.tag());
      if (!w) std::abort();
      // Floating values may be NaN, the one value unequal to itself.
      const auto base = PropType(uint16_t(n.type()) & 0x0FFF);
      const bool floating = base == PropType::Floating32 || base == PropType::Floating64 || base == PropType::FloatingTime;
      if (!floating && !(*w == n)) std::abort();
    }
  return 0;
}
