// The SMTP client of the spooler's relay (RFC 5321): one connection, one message, a reply for
// each recipient. It speaks EHLO (HELO when EHLO is refused), STARTTLS (RFC 3207), AUTH PLAIN
// and LOGIN (RFC 4954; a password is only ever sent over TLS), SIZE (RFC 1870), 8BITMIME
// (RFC 6152) and SMTPUTF8 (RFC 6531), one command at a time (no PIPELINING).
//
// Outcomes are replies, never exceptions: a connection that cannot be made, a timeout, a TLS
// failure or a server that hangs up gives every recipient a 4xx reply (with `next_host` set, so
// that the caller may try another MX host); a 5xx answer to MAIL or to the data gives every
// recipient that 5xx; RCPT answers are per recipient. What the client will not do itself is
// refused with the status RFC 3463 names: 552 5.3.4 for a message over the server's SIZE,
// 554 5.6.3 for 8-bit content to a server without 8BITMIME, 553 5.6.7 for UTF-8 addresses to one
// without SMTPUTF8 (all permanent: another try would meet the same server).
//
// Bad input from the server: reply lines over 4096 bytes or replies over 64 lines end the
// connection (4xx for everyone); nothing is allocated for what the server claims.
// Thread safety: smtp_send is reentrant; each call has its own connection and io_context.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/smtp.h"

namespace openmapi::server {

enum class RelayTls {
  None,           // never STARTTLS
  Opportunistic,  // STARTTLS when offered, else in the clear (RFC 7435), the certificate not checked
  Required,       // STARTTLS or no delivery (4.7.4 when it is not offered or fails)
};

struct SmtpClientOptions {
  std::string helo;                       // our name in EHLO
  RelayTls tls = RelayTls::Opportunistic;
  bool verify = false;                    // with TLS: check the chain and that the certificate names `host`
  std::string ca_file;                    // PEM of the CAs to trust; empty: the system's
  std::string user, password;             // AUTH when `user` is set (only over TLS)
  std::chrono::seconds timeout{300};      // per connect, command and reply (RFC 5321 4.5.3.2 suggests minutes)
};

struct SmtpSendResult {
  std::vector<SmtpReply> replies;  // one per recipient, in order
  bool next_host = false;          // nothing was handed over: another host may be tried
  std::string peer;                // "host[address]:port" as connected (for logs and Remote-MTA)
  bool tls = false;                // the message went over TLS
};

// Sends `message` (CRLF lines; bare LFs are sent as CRLF, lines starting with '.' are stuffed) from
// `from` (empty: the null reverse path) to `recipients` through `host`:`port` (a name, or an
// IPv4/IPv6 address literal without brackets).
SmtpSendResult smtp_send(const std::string& host, uint16_t port, const SmtpClientOptions& options, const std::string& from,
                         const std::vector<std::string>& recipients, std::string_view message);

// Collects the lines of one SMTP reply (RFC 5321 4.2): "250-a", "250 b". Exposed for the fuzz
// target and the tests.
class SmtpReplyReader {
 public:
  enum class State { More, Done, Bad };
  // One line without its CRLF.
  State line(std::string_view l);
  // The reply after Done: the code and the text of every line ("\n" between them).
  const SmtpReply& reply() const { return reply_; }
  // The EHLO keywords of the reply's lines after the first, upper-cased (e.g. "SIZE 10240000").
  std::vector<std::string> keywords() const;
  void clear();

 private:
  SmtpReply reply_;
  std::vector<std::string> lines_;
};

}  // namespace openmapi::server
