// Autodiscover requests as a client might POST them (server/autodiscover.h): never a crash,
// a hang or an exception; what parses re-renders into a response that escapes it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/autodiscover.h"
#include "server/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = openmapi::server::parse_autodiscover_request(in)) {
    openmapi::server::AutodiscoverSettings s;
    s.email = r->email;
    s.display_name = r->schema;
    const std::string out = openmapi::server::autodiscover_response(s);
    if (out.find("<EMailAddress") != std::string::npos) __builtin_trap();  // the input must come back escaped
  }
  // The --listen parser on the same bytes.
  try {
    openmapi::server::parse_listen(std::string(in.substr(0, 200)));
  } catch (...) {
  }
  return 0;
}
