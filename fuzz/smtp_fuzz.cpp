// The SMTP/submission/LMTP engine (server/smtp.h) on hostile client bytes: replies and requests,
// never a crash, a hang, or a message kept beyond the size limit. The first byte picks the mode
// and TLS; the rest is fed in pieces whose sizes come from the input too, so that lines and
// chunks split at every place. Oracle: every reply line is "NNN" + ' ' or '-', and the kept
// message never exceeds the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/smtp.h"

using namespace openmapi::server;

namespace {

void check_replies(const std::string& out) {
  size_t start = 0;
  while (start < out.size()) {
    const size_t nl = out.find("\r\n", start);
    if (nl == std::string::npos) std::abort();  // a reply without its CRLF
    if (nl - start < 3 || (nl - start > 3 && out[start + 3] != ' ' && out[start + 3] != '-')) std::abort();
    for (size_t i = start; i < start + 3; ++i)
      if (out[i] < '0' || out[i] > '9') std::abort();
    start = nl + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const SmtpMode mode = SmtpMode(data[0] % 3);
  SmtpLimits limits;
  limits.max_message_size = 4096;
  limits.max_recipients = 5;
  limits.max_command_line = 512;
  limits.max_errors = 50;
  SmtpEngine e(mode, limits, "mx.example.org",
               [](const std::string& a, const SmtpEnvelope&) -> std::optional<SmtpReply> {
                 if (a.size() % 2) return SmtpReply{550, "5.1.1 no"};
                 return std::nullopt;
               },
               (data[0] & 4) != 0, (data[0] & 8) != 0, "192.0.2.1");
  const uint8_t split = data[1] | 1;
  size_t at = 2;
  int auths = 0;
  while (at < size) {
    const size_t n = std::min<size_t>(size - at, split);
    e.feed(reinterpret_cast<const char*>(data + at), n);
    at += n;
    for (int rounds = 0; rounds < 10000; ++rounds) {
      std::string out;
      const SmtpEngine::Need need = e.step(out);
      if (e.message().size() > limits.max_message_size) std::abort();
      if (need == SmtpEngine::Need::Authenticate) {
        e.auth_done(++auths % 2 ? std::optional<std::string>("user@example.org") : std::nullopt, out);
        check_replies(out);
        continue;
      }
      if (need == SmtpEngine::Need::Deliver) {
        std::vector<SmtpReply> r(e.envelope().recipients.size(), SmtpReply{250, "2.0.0 ok"});
        if (e.envelope().recipients.size() > limits.max_recipients) std::abort();
        e.delivered(r, out);
        check_replies(out);
        continue;
      }
      if (need == SmtpEngine::Need::StartTls) e.tls_started();
      check_replies(out);
      if (need == SmtpEngine::Need::Close) return 0;
      break;
    }
  }
  return 0;
}
