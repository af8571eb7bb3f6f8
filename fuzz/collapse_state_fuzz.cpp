// libFuzzer target: RopSetCollapseState's blob, as a client may send any bytes, on a small
// categorized table in memory.
#include <cstdint>

#include "core/error.h"
#include "store/table.h"

using namespace openmapi;
using namespace openmapi::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto source = std::make_unique<MessageRowSource>([] {
    std::vector<std::pair<int64_t, Message>> rows;
    for (int i = 0; i < 6; ++i) {
      Message m;
      m.props.set(PropValue::string(tags::PidTagSenderName, i % 2 ? "alice" : "bob"));
      m.props.set(PropValue::i32(tags::PidTagImportance, i % 3));
      rows.emplace_back(i + 1, std::move(m));
    }
    return rows;
  });
  ViewTable view(std::move(source), {tags::PidTagSenderName, tags::PidTagImportance});
  Table& t = view;
  t.sort({{{tags::PidTagSenderName, SortDirection::Ascending}, {tags::PidTagImportance, SortDirection::Descending}}, 2, 1});
  try {
    uint32_t bm = t.set_collapse_state(Bytes(data, data + size));
    t.seek_row_bookmark(bm, 0);
    t.query_rows(10);
    (void)t.get_collapse_state({});
  } catch (const MapiError&) {
  }
  return 0;
}
