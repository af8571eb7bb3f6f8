// The POP3 engine (server/pop3.h) on hostile client bytes, fed in pieces of sizes taken from the
// input, with a three-message maildrop: replies, never a crash or a hang. Oracle: every response
// starts "+OK", "-ERR" or "+ " (a SASL challenge) or is a multi-line body ended by ".\r\n", a
// fetch asks only for a message of the maildrop, and a commit only deletes messages it has.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/pop3.h"

using namespace openmapi::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Pop3Engine e("pop.example.org", (data[0] & 1) != 0, (data[0] & 2) != 0);
  const std::vector<Pop3Message> drop = {{"1", 10}, {"2", 0}, {"3", 300}};
  const std::string bodies[] = {"Subject: a\r\n\r\n.x\r\n", "", "Subject: c\r\n\r\n" + std::string(280, 'c')};
  const size_t split = (data[1] | 1);
  size_t at = 2;
  int logins = 0;
  while (at < size) {
    const size_t n = std::min(size - at, split);
    e.feed(reinterpret_cast<const char*>(data + at), n);
    at += n;
    for (int rounds = 0; rounds < 10000; ++rounds) {
      std::string out;
      const Pop3Engine::Need need = e.step(out);
      if (need == Pop3Engine::Need::Login) {
        if (++logins % 2) e.logged_in(drop, out);
        else e.logged_in(std::nullopt, out);
        continue;
      }
      if (need == Pop3Engine::Need::Fetch) {
        if (e.fetch_index() >= drop.size()) std::abort();
        e.fetched(bodies[e.fetch_index()], out);
        continue;
      }
      if (need == Pop3Engine::Need::Commit) {
        for (size_t i : e.to_delete())
          if (i >= drop.size()) std::abort();
        e.committed(true, out);
        continue;
      }
      if (!out.empty() && out.compare(0, 3, "+OK") != 0 && out.compare(0, 4, "-ERR") != 0 && out.compare(0, 2, "+ ") != 0) std::abort();
      if (need == Pop3Engine::Need::StartTls) e.tls_started();
      if (need == Pop3Engine::Need::Close) return 0;
      break;
    }
  }
  return 0;
}
