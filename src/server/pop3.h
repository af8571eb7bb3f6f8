// POP3 (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595), SASL PLAIN (RFC 5034, 4616), UIDL and
// TOP, as a protocol engine: bytes in, replies out, and the points where the server must act
// (the TLS handshake, a login that opens the maildrop, reading a message, deleting at QUIT).
// pop3_server.h serves it over the users' Inboxes.
//
// Passwords only over TLS: USER, PASS and AUTH are refused before STLS (or on a port that is
// TLS from the start). Deletions (DELE) take effect at QUIT only, all or none (RFC 1939 6).
// Bad input: a line over 512 bytes (RFC 2449 4: 255 octets of arguments) is refused and
// skipped; after 20 errors, or 3 failed logins, the connection is closed; message numbers are
// checked against the maildrop before anything is read.
// Thread safety: none; one engine per connection.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace openmapi::server {

struct Pop3Message {
  std::string uid;    // UIDL: unique in the maildrop and kept across sessions
  uint64_t size = 0;  // octets of the message as RETR sends it (before byte-stuffing)
};

class Pop3Engine {
 public:
  Pop3Engine(std::string host_name, bool tls_available, bool tls_active);
  std::string greeting() const;
  void feed(const char* data, size_t n);

  enum class Need {
    Input,     // send the output and read more
    StartTls,  // send the output, do the handshake, call tls_started()
    Login,     // check credentials() and open the maildrop: call logged_in()
    Fetch,     // read message fetch_index() and call fetched()
    Commit,    // delete to_delete() and call committed()
    Close,     // send the output and close
  };
  Need step(std::string& out);

  void tls_started();
  struct Credentials {
    std::string user, password;
  };
  const Credentials& credentials() const { return credentials_; }
  // The maildrop of the authenticated user, or nullopt for wrong credentials; `error` (when the
  // credentials were right but the maildrop cannot be opened) is sent as -ERR [SYS/TEMP].
  void logged_in(std::optional<std::vector<Pop3Message>> maildrop, std::string& out, const std::string& error = "");
  // Message fetch_index() (0-based) of the maildrop, whole; nullopt when it cannot be read now.
  size_t fetch_index() const { return fetch_index_; }
  // RETR (the whole message), not TOP.
  bool fetch_whole() const { return top_lines_ < 0; }
  void fetched(const std::optional<std::string>& message, std::string& out);
  // The 0-based indexes marked deleted, for Commit.
  std::vector<size_t> to_delete() const;
  void committed(bool ok, std::string& out);

 private:
  enum class State { Authorization, AuthPlain, Transaction, Waiting, Closed };
  void command(const std::string& line, std::string& out);
  void bad(std::string& out, const std::string& text);
  void ok(std::string& out, const std::string& text) { out += "+OK " + text + "\r\n"; }
  void capabilities(std::string& out) const;
  // The message of a number argument, or nullopt (and the -ERR sent).
  std::optional<size_t> message_arg(const std::string& arg, std::string& out);

  std::string host_;
  bool tls_available_, tls_active_;
  std::string in_;
  bool skipping_line_ = false;
  State state_ = State::Authorization;
  Need pending_ = Need::Input;
  std::string user_;  // USER given
  Credentials credentials_;
  std::vector<Pop3Message> maildrop_;
  std::vector<bool> deleted_;
  size_t fetch_index_ = 0;
  long top_lines_ = -1;  // -1: RETR
  uint32_t errors_ = 0, login_failures_ = 0;
};

}  // namespace openmapi::server
