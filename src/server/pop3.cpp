#include "server/pop3.h"

#include <cctype>

#include "core/base64.h"

namespace openmapi::server {

namespace {

constexpr size_t kMaxLine = 512;
constexpr uint32_t kMaxErrors = 20;

std::string upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A message number or line count: 1-9 decimal digits.
std::optional<uint64_t> number(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(s);
}

// `text` as a multi-line response body: CRLF line ends, lines starting with '.' doubled, the
// terminating ".\r\n" (RFC 1939 3). `max_body_lines` >= 0: the header and that many body lines.
void multiline(const std::string& text, long max_body_lines, std::string& out) {
  size_t at = 0;
  bool in_body = false;
  long body_lines = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    const size_t end = nl == std::string::npos ? text.size() : nl;
    std::string_view line(text.data() + at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (in_body && max_body_lines >= 0 && body_lines++ >= max_body_lines) break;
    if (!line.empty() && line.front() == '.') out += '.';
    out.append(line);
    out += "\r\n";
    if (!in_body && line.empty()) in_body = true;
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  out += ".\r\n";
}

}  // namespace

Pop3Engine::Pop3Engine(std::string host_name, bool tls_available, bool tls_active)
    : host_(std::move(host_name)), tls_available_(tls_available), tls_active_(tls_active) {}

std::string Pop3Engine::greeting() const { return "+OK " + host_ + " OpenMAPI POP3 ready\r\n"; }

void Pop3Engine::feed(const char* data, size_t n) { in_.append(data, n); }

void Pop3Engine::bad(std::string& out, const std::string& text) {
  out += "-ERR " + text + "\r\n";
  if (++errors_ >= kMaxErrors) {
    out += "-ERR too many errors, closing the connection\r\n";
    state_ = State::Closed;
  }
}

void Pop3Engine::capabilities(std::string& out) const {
  out += "+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n";
  if (state_ == State::Authorization) {
    if (tls_available_ && !tls_active_) out += "STLS\r\n";
    if (tls_active_) out += "USER\r\nSASL PLAIN\r\n";
  }
  out += "IMPLEMENTATION OpenMAPI\r\n.\r\n";
}

Pop3Engine::Need Pop3Engine::step(std::string& out) {
  for (;;) {
    if (state_ == State::Closed) {
      in_.clear();
      return Need::Close;
    }
    if (state_ == State::Waiting) return Need::Input;
    const size_t nl = in_.find('\n');
    if (skipping_line_) {
      if (nl == std::string::npos) {
        in_.clear();
        return Need::Input;
      }
      in_.erase(0, nl + 1);
      skipping_line_ = false;
      continue;
    }
    if (nl == std::string::npos) {
      if (in_.size() > kMaxLine) {
        in_.clear();
        skipping_line_ = true;
        if (state_ == State::AuthPlain) state_ = State::Authorization;
        bad(out, "line too long");
        continue;
      }
      return Need::Input;
    }
    if (nl + 1 > kMaxLine + 2) {
      in_.erase(0, nl + 1);
      if (state_ == State::AuthPlain) state_ = State::Authorization;
      bad(out, "line too long");
      continue;
    }
    std::string line = in_.substr(0, nl);
    in_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (state_ == State::AuthPlain) {
      state_ = State::Authorization;
      if (line == "*") {
        bad(out, "authentication cancelled");
        continue;
      }
      auto decoded = base64_decode_strict(line);
      const size_t a = decoded ? decoded->find('\0') : std::string::npos;
      const size_t b = a == std::string::npos ? a : decoded->find('\0', a + 1);
      if (b == std::string::npos || decoded->find('\0', b + 1) != std::string::npos) {
        bad(out, "malformed PLAIN response");
        continue;
      }
      const std::string authzid = decoded->substr(0, a), user = decoded->substr(a + 1, b - a - 1);
      if (!authzid.empty() && authzid != user) {
        bad(out, "[AUTH] authorization as another user is not allowed");
        continue;
      }
      credentials_ = {user, decoded->substr(b + 1)};
      state_ = State::Waiting;
      return pending_ = Need::Login;
    }
    command(line, out);
    if (state_ == State::Closed) {
      in_.clear();
      return Need::Close;
    }
    if (pending_ == Need::StartTls) {
      pending_ = Need::Input;
      in_.clear();  // nothing sent before the handshake may count (RFC 2595 4)
      state_ = State::Waiting;
      return Need::StartTls;
    }
    if (state_ == State::Waiting) return pending_;
  }
}

std::optional<size_t> Pop3Engine::message_arg(const std::string& arg, std::string& out) {
  auto n = number(arg);
  if (!n || *n == 0 || *n > maildrop_.size()) {
    bad(out, "no such message");
    return std::nullopt;
  }
  if (deleted_[*n - 1]) {
    bad(out, "message " + arg + " is deleted");
    return std::nullopt;
  }
  return size_t(*n - 1);
}

void Pop3Engine::command(const std::string& line, std::string& out) {
  const size_t sp = line.find(' ');
  const std::string verb = upper(line.substr(0, sp));
  std::string args = sp == std::string::npos ? std::string() : line.substr(sp + 1);
  std::string arg2;
  if (const size_t sp2 = args.find(' '); sp2 != std::string::npos) arg2 = args.substr(sp2 + 1), args.resize(sp2);
  if (verb == "CAPA") return capabilities(out);
  if (verb == "NOOP" && state_ == State::Transaction) return ok(out, "");
  if (verb == "QUIT") {
    if (state_ == State::Transaction && !to_delete().empty()) {
      state_ = State::Waiting;
      pending_ = Need::Commit;
      return;
    }
    ok(out, host_ + " signing off");
    state_ = State::Closed;
    return;
  }
  if (state_ == State::Authorization) {
    if (verb == "STLS") {
      if (!tls_available_) return bad(out, "STLS is not offered here");
      if (tls_active_) return bad(out, "TLS is already active");
      ok(out, "begin TLS negotiation");
      pending_ = Need::StartTls;
      return;
    }
    if (verb == "USER" || verb == "PASS" || verb == "AUTH") {
      if (!tls_active_) return bad(out, "[AUTH] TLS required: STLS first, no password in the clear");
      if (verb == "USER") {
        if (args.empty()) return bad(out, "USER wants a name");
        user_ = args + (arg2.empty() ? "" : " " + arg2);
        return ok(out, "send PASS");
      }
      if (verb == "PASS") {
        if (user_.empty()) return bad(out, "USER first");
        // RFC 1939 7: the password is the rest of the line, spaces included.
        credentials_ = {user_, line.size() > 5 ? line.substr(5) : std::string()};
        user_.clear();
        state_ = State::Waiting;
        pending_ = Need::Login;
        return;
      }
      const std::string mech = upper(args);
      if (mech.empty()) {
        out += "+OK\r\nPLAIN\r\n.\r\n";
        return;
      }
      if (mech != "PLAIN") return bad(out, "unsupported mechanism (PLAIN)");
      if (arg2.empty()) {
        out += "+ \r\n";
        state_ = State::AuthPlain;
        return;
      }
      state_ = State::AuthPlain;
      in_.insert(0, (arg2 == "=" ? std::string() : arg2) + "\r\n");
      return;
    }
    return bad(out, "command not valid before login");
  }
  // TRANSACTION
  if (verb == "STAT") {
    uint64_t n = 0, size = 0;
    for (size_t i = 0; i < maildrop_.size(); ++i)
      if (!deleted_[i]) ++n, size += maildrop_[i].size;
    return ok(out, std::to_string(n) + " " + std::to_string(size));
  }
  if (verb == "LIST" || verb == "UIDL") {
    auto field = [&](size_t i) { return verb == "LIST" ? std::to_string(maildrop_[i].size) : maildrop_[i].uid; };
    if (!args.empty()) {
      auto i = message_arg(args, out);
      if (i) ok(out, std::to_string(*i + 1) + " " + field(*i));
      return;
    }
    out += "+OK\r\n";
    for (size_t i = 0; i < maildrop_.size(); ++i)
      if (!deleted_[i]) out += std::to_string(i + 1) + " " + field(i) + "\r\n";
    out += ".\r\n";
    return;
  }
  if (verb == "RETR" || verb == "TOP") {
    auto i = message_arg(args, out);
    if (!i) return;
    top_lines_ = -1;
    if (verb == "TOP") {
      auto n = number(arg2);
      if (!n) return bad(out, "TOP wants a message number and a line count");
      top_lines_ = long(*n);
    }
    fetch_index_ = *i;
    state_ = State::Waiting;
    pending_ = Need::Fetch;
    return;
  }
  if (verb == "DELE") {
    auto i = message_arg(args, out);
    if (!i) return;
    deleted_[*i] = true;
    return ok(out, "message " + args + " deleted");
  }
  if (verb == "RSET") {
    deleted_.assign(maildrop_.size(), false);
    return ok(out, "maildrop has " + std::to_string(maildrop_.size()) + " messages");
  }
  bad(out, "command not recognized");
}

void Pop3Engine::tls_started() {
  tls_active_ = true;
  in_.clear();
  state_ = State::Authorization;
  pending_ = Need::Input;
}

void Pop3Engine::logged_in(std::optional<std::vector<Pop3Message>> maildrop, std::string& out, const std::string& error) {
  pending_ = Need::Input;
  credentials_.password.assign(credentials_.password.size(), '\0');
  credentials_ = {};
  if (!error.empty()) {
    state_ = State::Authorization;
    return bad(out, "[SYS/TEMP] " + error);
  }
  if (!maildrop) {
    state_ = State::Authorization;
    out += "-ERR [AUTH] authentication failed\r\n";
    if (++login_failures_ >= 3) {
      out += "-ERR too many failed logins, closing the connection\r\n";
      state_ = State::Closed;
    }
    return;
  }
  maildrop_ = std::move(*maildrop);
  deleted_.assign(maildrop_.size(), false);
  state_ = State::Transaction;
  uint64_t size = 0;
  for (const auto& m : maildrop_) size += m.size;
  ok(out, "maildrop has " + std::to_string(maildrop_.size()) + " messages (" + std::to_string(size) + " octets)");
}

void Pop3Engine::fetched(const std::optional<std::string>& message, std::string& out) {
  state_ = State::Transaction;
  pending_ = Need::Input;
  if (!message) return bad(out, "[SYS/TEMP] the message cannot be read now");
  out += "+OK " + std::to_string(message->size()) + " octets\r\n";
  multiline(*message, top_lines_, out);
}

std::vector<size_t> Pop3Engine::to_delete() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < deleted_.size(); ++i)
    if (deleted_[i]) out.push_back(i);
  return out;
}

void Pop3Engine::committed(bool ok_, std::string& out) {
  if (ok_) ok(out, host_ + " signing off (" + std::to_string(to_delete().size()) + " messages deleted)");
  else out += "-ERR [SYS/TEMP] the deletions could not be made; nothing was deleted\r\n";
  state_ = State::Closed;
  pending_ = Need::Input;
}

}  // namespace openmapi::server
