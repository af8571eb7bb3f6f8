// What a remote mail system sends back: delivery-status bodies (formats/mime/dsn.h), the SMTP
// client's reply reader (server/smtp_client.h) and DNS MX answers (server/mx.h), on hostile
// bytes. The first byte picks the target. Oracles: a status that reads writes and reads back
// with the same recipients; a reply is Done only with a code in 200-599; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "formats/mime/dsn.h"
#include "server/mx.h"
#include "server/smtp_client.h"

using namespace openmapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      try {
        const formats::DeliveryStatus s = formats::parse_delivery_status(input);
        formats::status_codes(s.recipients.at(0).status);
        const formats::DeliveryStatus back = formats::parse_delivery_status(formats::write_delivery_status(s));
        size_t named = 0;
        for (const auto& r : s.recipients) named += !r.final_recipient.empty() || !r.action.empty();
        if (back.recipients.size() < named) std::abort();
      } catch (const MapiError&) {
      }
      break;
    }
    case 1: {
      server::SmtpReplyReader reader;
      size_t start = 0;
      while (start <= input.size()) {
        size_t end = input.find('\n', start);
        if (end == std::string::npos) end = input.size();
        switch (reader.line(std::string_view(input).substr(start, end - start))) {
          case server::SmtpReplyReader::State::Done:
            if (reader.reply().code < 200 || reader.reply().code > 599) std::abort();
            reader.keywords();
            reader.clear();
            break;
          case server::SmtpReplyReader::State::Bad: reader.clear(); break;
          case server::SmtpReplyReader::State::More: break;
        }
        start = end + 1;
      }
      formats::enhanced_status(550, input);
      break;
    }
    default:
      try {
        server::parse_mx_answer(ByteView(data + 1, size - 1));
      } catch (const MapiError&) {
      }
      server::domain_literal_address(input);
      break;
  }
  return 0;
}
