// SMTP (RFC 5321), submission (RFC 6409) and LMTP (RFC 2033) as a protocol engine: bytes in,
// replies out, and the points where the server must act (STARTTLS, checking a password,
// delivering a message). No I/O here: smtp_server.h drives it over sockets, and the fuzz target
// and the tests drive it directly.
//
// Extensions: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING (BDAT), DSN
// (its parameters are accepted and kept in the envelope), STARTTLS, AUTH PLAIN and LOGIN (only
// offered and accepted over TLS; submission requires it before MAIL, and MAIL FROM the
// authenticated user's own address).
//
// Bad input: a command line over SmtpLimits::max_command_line is answered 500 and skipped; a
// message over max_message_size is read to its end, not kept, and refused with 552; a BDAT
// chunk that claims more than that is likewise skipped, never allocated; after max_errors bad
// commands the connection is closed (421). Input pipelined after STARTTLS is discarded
// (CVE-2011-0411's injection). Nothing is allocated for a size a client claims.
//
// Thread safety: none; one engine per connection, used by one thread at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace openmapi::server {

enum class SmtpMode { Smtp, Submission, Lmtp };

struct SmtpLimits {
  uint64_t max_message_size = 25u << 20;  // bytes of the message as received (SIZE= and the data)
  uint32_t max_recipients = 100;          // per message
  size_t max_command_line = 2048;         // bytes of a command line, CRLF included
  uint32_t max_errors = 20;               // bad commands before the connection is closed
};

// One reply: "250 2.1.0 Ok". `code` is the three digits.
struct SmtpReply {
  int code = 250;
  std::string text;  // after the code: "2.1.0 Ok"
};

struct SmtpEnvelope {
  std::string helo;               // the name given in EHLO, HELO or LHLO
  std::string remote;             // the client's address (set by the server)
  bool tls = false;               // the commands came over TLS
  std::string user;               // the authenticated user, or empty
  std::string from;               // the reverse path, without <> (empty: the null sender)
  std::string body;               // BODY= (7BIT, 8BITMIME, BINARYMIME), empty if not given
  bool smtputf8 = false;
  std::string ret, envid;         // DSN: RET=, ENVID=
  struct Recipient {
    std::string address;
    std::string notify, orcpt;    // DSN: NOTIFY=, ORCPT=
  };
  std::vector<Recipient> recipients;
};

class SmtpEngine {
 public:
  // What the server decides for a recipient at RCPT time: accepted, or refused with this reply.
  using RecipientCheck = std::function<std::optional<SmtpReply>(const std::string& address, const SmtpEnvelope&)>;

  // `tls_available`: STARTTLS may be offered (a certificate is loaded); `tls_active`: the
  // connection is TLS from its start (implicit TLS, port 465).
  SmtpEngine(SmtpMode mode, SmtpLimits limits, std::string host_name, RecipientCheck check, bool tls_available,
             bool tls_active, std::string remote);

  // The 220 greeting.
  std::string greeting() const;

  // Appends received bytes; then call step().
  void feed(const char* data, size_t n);

  enum class Need {
    Input,         // send the output and read more
    StartTls,      // send the output, then do the TLS handshake and call tls_started()
    Authenticate,  // check credentials() and call auth_done()
    Deliver,       // deliver envelope() + message() and call delivered()
    Close,         // send the output and close the connection
  };
  // Processes buffered input: appends replies to `out`, returns what must happen next.
  Need step(std::string& out);

  // After Need::StartTls: the handshake succeeded; the session starts over (RFC 3207 4.2).
  void tls_started();
  // After Need::Authenticate.
  struct Credentials {
    std::string authzid, user, password;
  };
  const Credentials& credentials() const { return credentials_; }
  // `user`: the authenticated user's name, or nullopt for wrong credentials. Appends the reply.
  void auth_done(const std::optional<std::string>& user, std::string& out);
  // After Need::Deliver: one reply per recipient, in envelope order (SMTP answers the data with
  // the first failure or 250; LMTP with every reply). Appends the reply or replies.
  void delivered(const std::vector<SmtpReply>& per_recipient, std::string& out);

  const SmtpEnvelope& envelope() const { return env_; }
  // The message as received (dot-unstuffed, CRLF line ends).
  const std::string& message() const { return data_; }
  bool tls() const { return tls_active_; }
  SmtpMode mode() const { return mode_; }

 private:
  enum class State { Command, Data, Bdat, AuthPlain, AuthLoginUser, AuthLoginPassword, Waiting, Closed };
  void command(const std::string& line, std::string& out);
  void reply(std::string& out, int code, const std::string& text);
  void bad(std::string& out, int code, const std::string& text);
  void ehlo_reply(const std::string& verb, std::string& out);
  void mail(const std::string& args, std::string& out);
  void rcpt(const std::string& args, std::string& out);
  void auth(const std::string& args, std::string& out);
  void reset_transaction();
  bool data_line(std::string_view line);  // false at the terminating dot
  Need finish_message(std::string& out);

  SmtpMode mode_;
  SmtpLimits limits_;
  std::string host_;
  RecipientCheck check_;
  bool tls_available_, tls_active_;
  std::string in_;       // received, not yet processed
  bool skipping_line_ = false;  // dropping the rest of an over-long command line
  bool data_mid_line_ = false;  // DATA: the buffered bytes continue a line already kept
  State state_ = State::Command;
  std::string helo_;
  std::string user_;     // authenticated
  bool transaction_ = false;  // MAIL given
  SmtpEnvelope env_;
  std::string data_;
  bool too_big_ = false;
  uint64_t bdat_left_ = 0;
  bool bdat_last_ = false;
  bool bdat_used_ = false;
  bool bdat_discard_ = false;   // the current chunk was refused: read and drop it
  Credentials credentials_;
  uint32_t errors_ = 0;
  uint32_t auth_failures_ = 0;
  Need pending_ = Need::Input;
};

}  // namespace openmapi::server
