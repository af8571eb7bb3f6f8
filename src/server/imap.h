// The IMAP command reader (RFC 9051 section 9, the formal syntax, with RFC 3501's IMAP4rev1
// forms): bytes in, whole commands out. Literals ({n} answered with a continuation, LITERAL+'s
// {n+} and BINARY's ~{n}) are read into the command; a command is only handed out once all of it
// is here, so the session never sees half a command. Also the small pieces of the syntax the
// session needs: sequence sets and the quoting of strings in responses.
//
// Limits: a line (the text between literals) over ImapLimits::max_line closes the connection
// (BYE), as a client sending one is broken or hostile; a literal over its limit (max_append for
// APPEND, max_literal otherwise) is refused before a byte of it is read: a synchronising literal
// with "tag NO [TOOBIG]" (the client sends nothing more of that command), a non-synchronising
// one with BYE (its bytes are on the way and cannot be told from commands). Nothing is allocated
// for a claimed size before it is checked. Nesting of parenthesised lists is limited to 32.
//
// Thread safety: none; one reader per connection, used by one thread at a time. No I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openmapi::server {

struct ImapLimits {
  size_t max_line = 64 * 1024;
  size_t max_literal = 64 * 1024;          // any literal but APPEND's message
  size_t max_append = 25 * 1024 * 1024;    // the message of an APPEND (the server's message size limit)
};

// One argument of a command: an atom (NIL, flags, sequence sets, FETCH items with their
// section, as "BODY.PEEK[HEADER.FIELDS (SUBJECT)]<0.100>"), a string (quoted or literal) or a
// parenthesised list.
struct ImapArg {
  enum class Kind { Atom, String, List } kind = Kind::Atom;
  std::string text;
  std::vector<ImapArg> list;
  bool literal8 = false;  // a ~{n} literal (RFC 3516)

  bool is_atom(std::string_view upper_name) const;  // an atom equal to `upper_name`, case-insensitively
  bool is_nil() const { return is_atom("NIL"); }
  // An astring: an atom or a string.
  bool is_astring() const { return kind != Kind::List; }
};

struct ImapCommand {
  std::string tag;
  std::string name;  // upper case; "UID FETCH" etc. for UID commands
  std::vector<ImapArg> args;
};

class ImapReader {
 public:
  explicit ImapReader(ImapLimits limits = {}) : limits_(limits) {}

  void feed(const char* data, size_t n) { in_.append(data, n); }
  // Drops everything buffered (the plaintext after STARTTLS: RFC 9051 6.2.1).
  void clear();
  bool empty() const { return in_.empty() && cmd_.empty(); }

  enum class Event {
    NeedInput,  // nothing complete yet
    Command,    // `command` is set
    Continue,   // a synchronising literal: send "+ ..." and read on
    Reply,      // `reply` is a complete response (BAD for a syntax error, NO [TOOBIG]) to send; read on
    Fatal,      // `reply` is a BYE; close after sending it
  };
  struct Result {
    Event event = Event::NeedInput;
    ImapCommand command;
    std::string reply;
  };
  Result next();

  // A bare line without its CRLF (IDLE's DONE, an AUTHENTICATE response), nullopt until one is
  // here. A line over max_line sets `too_long` (and the input is dropped).
  std::optional<std::string> line(bool& too_long);

 private:
  Result finish();
  ImapLimits limits_;
  std::string in_;        // bytes not yet taken
  std::string cmd_;       // the command read so far, literals included
  size_t literal_left_ = 0;
};

// Parses a whole command (its lines and literals, as the reader assembled them, with the final
// CRLF). Throws ImapSyntaxError.
struct ImapSyntaxError {
  std::string tag;  // empty when the tag itself could not be read
  std::string message;
};
ImapCommand parse_imap_command(std::string_view text);

// A sequence set (RFC 9051 9: sequence-set), "*" standing for `star` (the largest number in use;
// 0 in an empty mailbox). Ranges are kept as given (a:b with a > b is the same as b:a).
struct ImapSequenceSet {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // inclusive, low <= high
  bool contains(uint32_t n) const;
  bool has_star = false;
};
// nullopt when `text` is not a sequence set ("$" — the saved result of SEARCHRES — is not supported).
std::optional<ImapSequenceSet> parse_sequence_set(std::string_view text, uint32_t star);
// "1:3,7,9:10" for sorted numbers.
std::string format_sequence_set(const std::vector<uint32_t>& sorted);

// A string in a response: quoted when it can be, else a literal; `utf8`: the client enabled
// UTF8=ACCEPT, so 8-bit text may be quoted.
std::string imap_string(std::string_view s, bool utf8 = false);
// A string, or NIL for nullopt.
std::string imap_nstring(const std::optional<std::string>& s, bool utf8 = false);

// Modified UTF-7 mailbox names (RFC 3501 5.1.3), used with clients that did not ENABLE UTF8=ACCEPT.
std::string mutf7_encode(std::string_view utf8);
// nullopt for a name that is not valid modified UTF-7.
std::optional<std::string> mutf7_decode(std::string_view mutf7);

}  // namespace openmapi::server
