// libFuzzer target: MS-OXOCAL recurrence BLOBs. Any input either throws MapiError or parses;
// a parsed AppointmentRecurrencePattern must write back to exactly the input bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "formats/ical/recurrence.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  try {
    auto a = recur::read_appointment_recurrence(in);
    Bytes out = recur::write_appointment_recurrence(a);
    if (out != Bytes(in.begin(), in.end())) {
      std::fprintf(stderr, "recurrence_fuzz: re-encoding differs\n");
      std::abort();
    }
  } catch (const MapiError&) {
  }
  try {
    auto p = recur::read_recurrence_pattern(in);
    (void)recur::compute_first_date_time(p);
    if (recur::write_recurrence_pattern(p) != Bytes(in.begin(), in.end())) std::abort();
  } catch (const MapiError&) {
  }
  return 0;
}
