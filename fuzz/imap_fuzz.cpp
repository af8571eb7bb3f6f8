// The IMAP command reader (server/imap.h) and the MIME structure behind FETCH
// (server/imap_mime.h) on hostile bytes. The input is fed to the reader in pieces of sizes taken
// from it; every command it hands out, and the input as a message, go through the section,
// ENVELOPE and BODYSTRUCTURE code. Oracle: no crash, no hang; the reader's replies are whole
// response lines (BAD, NO [TOOBIG] or a BYE), and a section of the message is a piece of it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/imap.h"
#include "server/imap_mime.h"

using namespace openmapi::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 2, size - 2);
  ImapLimits limits;
  limits.max_line = 256 + data[0];
  limits.max_literal = 64 + data[0];
  limits.max_append = 4096;
  ImapReader reader(limits);
  const size_t split = (data[1] | 1);
  const MimeEntity top = parse_mime_structure(text);
  for (size_t at = 0; at < text.size();) {
    const size_t n = std::min(text.size() - at, split);
    reader.feed(text.data() + at, n);
    at += n;
    for (int rounds = 0; rounds < 1000; ++rounds) {
      ImapReader::Result r = reader.next();
      if (r.event == ImapReader::Event::NeedInput) break;
      if (r.event == ImapReader::Event::Reply || r.event == ImapReader::Event::Fatal) {
        if (r.reply.size() < 4 || r.reply.compare(r.reply.size() - 2, 2, "\r\n") != 0) std::abort();
        if (r.event == ImapReader::Event::Fatal) return 0;
        continue;
      }
      if (r.event != ImapReader::Event::Command) continue;
      for (const ImapArg& a : r.command.args) {
        if (a.kind != ImapArg::Kind::Atom) continue;
        parse_sequence_set(a.text, 100);
        const size_t lb = a.text.find('['), rb = a.text.rfind(']');
        if (lb != std::string::npos && rb != std::string::npos && rb > lb) {
          std::string error;
          const std::string section = a.text.substr(lb + 1, rb - lb - 1);
          auto s = imap_section(text, top, section, error);
          if (s && s->size() > text.size() + 2) std::abort();
          imap_binary_section(text, top, section, error);
        }
      }
    }
  }
  imap_envelope(text, top, false);
  imap_body_structure(text, top, true, true);
  mutf7_decode(text.substr(0, 200));
  return 0;
}
