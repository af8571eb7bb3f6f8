// Fuzzes the MIME reader (and writes back whatever it read, which must parse again).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "formats/mime/mime.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  NamedPropertyMap names;
  Message m;
  try {
    m = formats::parse_mime(ByteView(data, size), names);
  } catch (const MapiError&) {
    return 0;
  }
  Bytes out = formats::write_mime(m, names);
  try {
    Message again = formats::parse_mime(out, names);
    if (again.attachments.size() != m.attachments.size() &&
        m.props.get_string(tags::PidTagMessageClass).value_or("").rfind("IPM.Note.SMIME", 0) != 0) {
      std::fprintf(stderr, "mime_fuzz: %zu attachments became %zu\n", m.attachments.size(), again.attachments.size());
      std::abort();
    }
  } catch (const MapiError& e) {
    std::fprintf(stderr, "mime_fuzz: our own output does not parse: %s\n", e.describe().c_str());
    std::abort();
  }
  return 0;
}
