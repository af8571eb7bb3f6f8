#include "server/smtp.h"

#include <algorithm>
#include <cctype>

#include "core/base64.h"

namespace openmapi::server {

namespace {

// A data line without its end is moved into the message once this much of it is buffered.
constexpr size_t kDataFlush = 64 * 1024;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(s[i])) != std::toupper(static_cast<unsigned char>(prefix[i]))) return false;
  return true;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool has_controls(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

// A non-empty run of decimal digits, at most 19 (fits uint64 without overflow).
std::optional<uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

// "<path> PARAM=V ...": the path (without brackets and any source route) and the parameters.
struct PathArgs {
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;  // names upper-cased
};
std::optional<PathArgs> parse_path(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s.empty() || s.front() != '<') return std::nullopt;
  const size_t close = s.find('>');
  if (close == std::string_view::npos) return std::nullopt;
  PathArgs out;
  std::string_view path = s.substr(1, close - 1);
  // RFC 5321 4.1.2: an obsolete source route "@a,@b:user@c" is to be ignored.
  if (!path.empty() && path.front() == '@') {
    const size_t colon = path.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    path.remove_prefix(colon + 1);
  }
  if (has_controls(path) || path.find(' ') != std::string_view::npos) return std::nullopt;
  out.path = std::string(path);
  std::string_view rest = s.substr(close + 1);
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    const size_t sp = rest.find(' ');
    std::string_view p = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
    const size_t eq = p.find('=');
    out.params.emplace_back(upper(p.substr(0, eq)), eq == std::string_view::npos ? std::string() : std::string(p.substr(eq + 1)));
  }
  return out;
}

}  // namespace

SmtpEngine::SmtpEngine(SmtpMode mode, SmtpLimits limits, std::string host_name, RecipientCheck check, bool tls_available,
                       bool tls_active, std::string remote)
    : mode_(mode), limits_(limits), host_(std::move(host_name)), check_(std::move(check)), tls_available_(tls_available),
      tls_active_(tls_active) {
  env_.remote = std::move(remote);
  env_.tls = tls_active_;
}

std::string SmtpEngine::greeting() const {
  return "220 " + host_ + (mode_ == SmtpMode::Lmtp ? " LMTP" : " ESMTP") + " OpenMAPI\r\n";
}

void SmtpEngine::feed(const char* data, size_t n) { in_.append(data, n); }

void SmtpEngine::reply(std::string& out, int code, const std::string& text) {
  out += std::to_string(code) + " " + text + "\r\n";
}

void SmtpEngine::bad(std::string& out, int code, const std::string& text) {
  reply(out, code, text);
  if (++errors_ >= limits_.max_errors) {
    reply(out, 421, "4.7.0 " + host_ + " too many errors, closing the connection");
    state_ = State::Closed;
  }
}

void SmtpEngine::reset_transaction() {
  transaction_ = false;
  const std::string helo = env_.helo, remote = env_.remote, user = env_.user;
  const bool tls = env_.tls;
  env_ = SmtpEnvelope{};
  env_.helo = helo, env_.remote = remote, env_.user = user, env_.tls = tls;
  data_.clear();
  data_.shrink_to_fit();
  too_big_ = false;
  bdat_left_ = 0;
  bdat_last_ = false;
  bdat_used_ = false;
}

SmtpEngine::Need SmtpEngine::step(std::string& out) {
  for (;;) {
    switch (state_) {
      case State::Closed: in_.clear(); return Need::Close;
      case State::Waiting: return Need::Input;
      case State::Bdat: {
        const size_t take = size_t(std::min<uint64_t>(bdat_left_, in_.size()));
        if (!too_big_) data_.append(in_, 0, take);
        in_.erase(0, take);
        bdat_left_ -= take;
        if (bdat_left_ > 0) return Need::Input;
        state_ = State::Command;
        if (bdat_discard_) {  // a refused chunk, answered when it was announced
          bdat_discard_ = false;
          continue;
        }
        if (bdat_last_) {
          Need n = finish_message(out);
          if (n != Need::Input) return n;
        } else if (too_big_) {
          // The rest of the chunks of this message are read and dropped too; the 552 comes now
          // (RFC 3030 allows refusing any chunk) and the transaction is over.
          reply(out, 552, "5.3.4 the message is larger than " + std::to_string(limits_.max_message_size) + " bytes");
          reset_transaction();
        } else {
          reply(out, 250, "2.0.0 " + std::to_string(data_.size()) + " octets received");
        }
        continue;
      }
      case State::Data: {
        const size_t nl = in_.find('\n');
        if (nl == std::string::npos) {
          if (in_.size() >= kDataFlush) {  // a long line: keep it, its end comes later
            if (!too_big_) data_ += in_;
            in_.clear();
            data_mid_line_ = true;
            if (data_.size() > limits_.max_message_size) too_big_ = true, data_.clear();
          }
          return Need::Input;
        }
        std::string_view line(in_.data(), nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const bool at_start = !data_mid_line_;
        data_mid_line_ = false;
        if (at_start && line == ".") {
          in_.erase(0, nl + 1);
          Need n = finish_message(out);
          if (n != Need::Input) return n;
          continue;
        }
        if (at_start && !line.empty() && line.front() == '.') line.remove_prefix(1);  // RFC 5321 4.5.2
        if (!too_big_) {
          if (data_.size() + line.size() + 2 > limits_.max_message_size) {
            too_big_ = true;
            data_.clear();
            data_.shrink_to_fit();
          } else {
            data_.append(line);
            data_ += "\r\n";
          }
        }
        in_.erase(0, nl + 1);
        continue;
      }
      default: break;
    }
    // A command line (or a SASL response).
    const size_t nl = in_.find('\n');
    if (skipping_line_) {  // the rest of an over-long line
      if (nl == std::string::npos) {
        in_.clear();
        return Need::Input;
      }
      in_.erase(0, nl + 1);
      skipping_line_ = false;
      continue;
    }
    if (nl == std::string::npos) {
      if (in_.size() >= limits_.max_command_line) {
        in_.clear();
        skipping_line_ = true;
        bad(out, 500, "5.5.2 line too long (at most " + std::to_string(limits_.max_command_line) + " bytes)");
        if (state_ != State::Closed && state_ != State::Command) state_ = State::Command;  // a SASL exchange ends
        continue;
      }
      return Need::Input;
    }
    if (nl + 1 > limits_.max_command_line) {
      in_.erase(0, nl + 1);
      bad(out, 500, "5.5.2 line too long (at most " + std::to_string(limits_.max_command_line) + " bytes)");
      if (state_ != State::Closed) state_ = State::Command;
      continue;
    }
    std::string line = in_.substr(0, nl);
    in_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (state_ == State::AuthPlain || state_ == State::AuthLoginUser || state_ == State::AuthLoginPassword) {
      if (line == "*") {
        state_ = State::Command;
        bad(out, 501, "5.0.0 authentication cancelled");
        continue;
      }
      auto decoded = base64_decode_strict(line);
      if (!decoded) {
        state_ = State::Command;
        bad(out, 501, "5.5.2 the response is not base64");
        continue;
      }
      if (state_ == State::AuthLoginUser) {
        credentials_.user = *decoded;
        state_ = State::AuthLoginPassword;
        reply(out, 334, "UGFzc3dvcmQ6");  // "Password:"
        continue;
      }
      if (state_ == State::AuthLoginPassword) {
        credentials_.password = *decoded;
      } else {
        // RFC 4616: authzid NUL authcid NUL passwd
        const size_t a = decoded->find('\0');
        const size_t b = a == std::string::npos ? a : decoded->find('\0', a + 1);
        if (b == std::string::npos || decoded->find('\0', b + 1) != std::string::npos) {
          state_ = State::Command;
          bad(out, 501, "5.5.2 malformed PLAIN response");
          continue;
        }
        credentials_ = {decoded->substr(0, a), decoded->substr(a + 1, b - a - 1), decoded->substr(b + 1)};
      }
      state_ = State::Waiting;
      pending_ = Need::Authenticate;
      return Need::Authenticate;
    }
    command(line, out);
    if (state_ == State::Closed) {
      in_.clear();
      return Need::Close;
    }
    if (pending_ == Need::StartTls) {
      pending_ = Need::Input;
      in_.clear();  // nothing sent before the handshake may count (RFC 3207 5)
      state_ = State::Waiting;
      return Need::StartTls;
    }
    if (state_ == State::Waiting) return pending_;
  }
}

void SmtpEngine::ehlo_reply(const std::string& verb, std::string& out) {
  if (verb == "HELO") {
    reply(out, 250, host_);
    return;
  }
  std::vector<std::string> lines = {host_ + " greets " + helo_, "PIPELINING", "SIZE " + std::to_string(limits_.max_message_size),
                                    "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "BINARYMIME", "SMTPUTF8", "DSN"};
  if (tls_available_ && !tls_active_ && mode_ != SmtpMode::Lmtp) lines.push_back("STARTTLS");
  if (tls_active_ && mode_ != SmtpMode::Lmtp && user_.empty()) lines.push_back("AUTH PLAIN LOGIN");
  for (size_t i = 0; i < lines.size(); ++i) out += "250" + std::string(i + 1 < lines.size() ? "-" : " ") + lines[i] + "\r\n";
}

void SmtpEngine::command(const std::string& line, std::string& out) {
  const size_t sp = line.find(' ');
  const std::string verb = upper(line.substr(0, sp));
  const std::string args = sp == std::string::npos ? std::string() : line.substr(sp + 1);
  const bool lmtp = mode_ == SmtpMode::Lmtp;
  if (verb == "EHLO" || verb == "HELO" || verb == "LHLO") {
    if (lmtp != (verb == "LHLO")) return bad(out, 500, lmtp ? "5.5.1 this is LMTP: LHLO" : "5.5.1 LHLO is LMTP's; use EHLO");
    std::string name = args;
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.empty() || name.find(' ') != std::string::npos || has_controls(name)) return bad(out, 501, "5.5.4 " + verb + " wants one domain or address literal");
    helo_ = name.substr(0, 255);
    reset_transaction();
    env_.helo = helo_;
    return ehlo_reply(verb, out);
  }
  if (verb == "NOOP") return reply(out, 250, "2.0.0 Ok");
  if (verb == "RSET") {
    reset_transaction();
    return reply(out, 250, "2.0.0 Ok");
  }
  if (verb == "QUIT") {
    reply(out, 221, "2.0.0 " + host_ + " closing the connection");
    state_ = State::Closed;
    return;
  }
  if (verb == "VRFY") return reply(out, 252, "2.5.2 cannot VRFY the user; send the message and it will be tried");
  if (verb == "EXPN") return bad(out, 502, "5.5.1 EXPN is not offered");
  if (verb == "HELP") return reply(out, 214, "2.0.0 commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT (RFC 5321)");
  if (verb == "STARTTLS") {
    if (lmtp || !tls_available_) return bad(out, 502, "5.5.1 STARTTLS is not offered here");
    if (tls_active_) return bad(out, 503, "5.5.1 TLS is already active");
    if (!args.empty()) return bad(out, 501, "5.5.4 STARTTLS takes no argument");
    reply(out, 220, "2.0.0 ready to start TLS");
    pending_ = Need::StartTls;
    return;
  }
  if (verb == "AUTH") return auth(args, out);
  if (verb == "MAIL") return mail(args, out);
  if (verb == "RCPT") return rcpt(args, out);
  if (verb == "DATA") {
    if (!transaction_) return bad(out, 503, "5.5.1 MAIL first");
    if (env_.recipients.empty()) return bad(out, 554, "5.5.1 no valid recipients");
    if (bdat_used_) return bad(out, 503, "5.5.1 DATA after BDAT");
    if (!args.empty()) return bad(out, 501, "5.5.4 DATA takes no argument");
    if (env_.body == "BINARYMIME") return bad(out, 503, "5.5.1 BODY=BINARYMIME wants BDAT");
    reply(out, 354, "end data with <CR><LF>.<CR><LF>");
    state_ = State::Data;
    data_mid_line_ = false;
    return;
  }
  if (verb == "BDAT") {
    // The chunk's size decides how many bytes follow: a BDAT that cannot be parsed leaves the
    // stream unframed, so the connection ends.
    const size_t space = args.find(' ');
    const auto size = number(std::string_view(args).substr(0, space));
    const std::string last = space == std::string::npos ? std::string() : upper(args.substr(space + 1));
    if (!size || !(last.empty() || last == "LAST")) {
      reply(out, 501, "5.5.4 BDAT wants a size and optionally LAST; closing the connection");
      state_ = State::Closed;
      return;
    }
    bdat_left_ = *size;
    bdat_last_ = last == "LAST";
    state_ = State::Bdat;
    if (!transaction_ || env_.recipients.empty()) {
      // The chunk is read and dropped; this is its answer.
      bdat_discard_ = true;
      if (!transaction_) bad(out, 503, "5.5.1 MAIL first");
      else bad(out, 554, "5.5.1 no valid recipients");
      if (state_ == State::Closed) return;
      state_ = State::Bdat;
      return;
    }
    bdat_used_ = true;
    if (!too_big_ && data_.size() + *size > limits_.max_message_size) {
      too_big_ = true;
      data_.clear();
      data_.shrink_to_fit();
    }
    return;
  }
  bad(out, 500, "5.5.2 command not recognized");
}

void SmtpEngine::auth(const std::string& args, std::string& out) {
  if (mode_ == SmtpMode::Lmtp) return bad(out, 502, "5.5.1 AUTH is not offered over LMTP");
  if (helo_.empty()) return bad(out, 503, "5.5.1 EHLO first");
  if (!user_.empty()) return bad(out, 503, "5.5.1 already authenticated");
  if (transaction_) return bad(out, 503, "5.5.1 AUTH is not allowed during a mail transaction");
  if (!tls_active_) return bad(out, 538, "5.7.11 encryption required for requested authentication mechanism (STARTTLS first)");
  const size_t sp = args.find(' ');
  const std::string mech = upper(args.substr(0, sp));
  const std::string initial = sp == std::string::npos ? std::string() : args.substr(sp + 1);
  credentials_ = {};
  if (mech == "PLAIN") {
    if (initial.empty()) {
      state_ = State::AuthPlain;
      return reply(out, 334, "");
    }
    state_ = State::AuthPlain;
    in_.insert(0, (initial == "=" ? std::string() : initial) + "\r\n");  // handled like a response line
    return;
  }
  if (mech == "LOGIN") {
    if (initial.empty()) {
      state_ = State::AuthLoginUser;
      return reply(out, 334, "VXNlcm5hbWU6");  // "Username:"
    }
    state_ = State::AuthLoginUser;
    in_.insert(0, initial + "\r\n");
    return;
  }
  bad(out, 504, "5.5.4 unrecognized authentication mechanism (PLAIN, LOGIN)");
}

void SmtpEngine::auth_done(const std::optional<std::string>& user, std::string& out) {
  state_ = State::Command;
  pending_ = Need::Input;
  credentials_.password.assign(credentials_.password.size(), '\0');
  credentials_ = {};
  if (user) {
    user_ = *user;
    env_.user = *user;
    return reply(out, 235, "2.7.0 authentication successful");
  }
  reply(out, 535, "5.7.8 authentication credentials invalid");
  if (++auth_failures_ >= 3) {
    reply(out, 421, "4.7.0 " + host_ + " too many failed authentications, closing the connection");
    state_ = State::Closed;
  }
}

void SmtpEngine::mail(const std::string& args, std::string& out) {
  if (helo_.empty()) return bad(out, 503, std::string("5.5.1 ") + (mode_ == SmtpMode::Lmtp ? "LHLO" : "EHLO") + " first");
  if (mode_ == SmtpMode::Submission && user_.empty()) return bad(out, 530, "5.7.0 authentication required");
  if (transaction_) return bad(out, 503, "5.5.1 nested MAIL command");
  if (!iequals_prefix(args, "FROM:")) return bad(out, 501, "5.5.4 syntax: MAIL FROM:<address>");
  auto p = parse_path(std::string_view(args).substr(5));
  if (!p) return bad(out, 501, "5.1.7 bad sender address syntax");
  SmtpEnvelope e = env_;
  for (const auto& [name, value] : p->params) {
    if (name == "SIZE") {
      auto n = number(value);
      if (!n) return bad(out, 501, "5.5.4 SIZE wants a number");
      if (*n > limits_.max_message_size)
        return reply(out, 552, "5.3.4 the message is larger than " + std::to_string(limits_.max_message_size) + " bytes");
    } else if (name == "BODY") {
      const std::string v = upper(value);
      if (v != "7BIT" && v != "8BITMIME" && v != "BINARYMIME") return bad(out, 501, "5.5.4 BODY is 7BIT, 8BITMIME or BINARYMIME");
      e.body = v;
    } else if (name == "SMTPUTF8" && value.empty()) {
      e.smtputf8 = true;
    } else if (name == "RET") {
      const std::string v = upper(value);
      if (v != "FULL" && v != "HDRS") return bad(out, 501, "5.5.4 RET is FULL or HDRS");
      e.ret = v;
    } else if (name == "ENVID" && !value.empty() && value.size() <= 100 && is_ascii(value)) {
      e.envid = value;
    } else if (name == "AUTH") {
      // RFC 4954 5: accepted and not trusted.
    } else {
      return bad(out, 555, "5.5.4 unsupported MAIL parameter " + name.substr(0, 40));
    }
  }
  if (!e.smtputf8 && !is_ascii(p->path)) return bad(out, 553, "5.6.7 a non-ASCII address wants SMTPUTF8");
  if (!p->path.empty() && p->path.find('@') == std::string::npos) return bad(out, 501, "5.1.7 the sender address has no domain");
  // Submission: a user sends as itself (RFC 6409 8.1 lets the server enforce it), not as anyone.
  if (mode_ == SmtpMode::Submission && upper(p->path) != upper(user_))
    return bad(out, 553, "5.7.1 <" + p->path.substr(0, 200) + ">: not the address of " + user_);
  e.from = p->path;
  e.recipients.clear();
  env_ = std::move(e);
  transaction_ = true;
  reply(out, 250, "2.1.0 Ok");
}

void SmtpEngine::rcpt(const std::string& args, std::string& out) {
  if (!transaction_) return bad(out, 503, "5.5.1 MAIL first");
  if (!iequals_prefix(args, "TO:")) return bad(out, 501, "5.5.4 syntax: RCPT TO:<address>");
  auto p = parse_path(std::string_view(args).substr(3));
  if (!p || p->path.empty()) return bad(out, 501, "5.1.3 bad recipient address syntax");
  if (env_.recipients.size() >= limits_.max_recipients)
    return reply(out, 452, "4.5.3 too many recipients (at most " + std::to_string(limits_.max_recipients) + ")");
  SmtpEnvelope::Recipient r;
  for (const auto& [name, value] : p->params) {
    if (name == "NOTIFY") {
      r.notify = upper(value);
    } else if (name == "ORCPT" && !value.empty() && value.size() <= 500) {
      r.orcpt = value;
    } else {
      return bad(out, 555, "5.5.4 unsupported RCPT parameter " + name.substr(0, 40));
    }
  }
  if (!env_.smtputf8 && !is_ascii(p->path)) return bad(out, 553, "5.6.7 a non-ASCII address wants SMTPUTF8");
  // "postmaster" alone is every server's (RFC 5321 4.5.1); anything else needs a domain.
  if (p->path.find('@') == std::string::npos && upper(p->path) != "POSTMASTER")
    return bad(out, 501, "5.1.3 the recipient address has no domain");
  r.address = p->path;
  if (check_) {
    if (auto refused = check_(r.address, env_)) return reply(out, refused->code, refused->text);
  }
  for (const auto& have : env_.recipients)
    if (upper(have.address) == upper(r.address)) return reply(out, 250, "2.1.5 Ok (already a recipient)");
  env_.recipients.push_back(std::move(r));
  reply(out, 250, "2.1.5 Ok");
}

SmtpEngine::Need SmtpEngine::finish_message(std::string& out) {
  if (too_big_) {
    reply(out, 552, "5.3.4 the message is larger than " + std::to_string(limits_.max_message_size) + " bytes");
    reset_transaction();
    state_ = State::Command;
    return Need::Input;
  }
  if (!transaction_) {  // the rest of a refused BDAT transaction
    reset_transaction();
    state_ = State::Command;
    return Need::Input;
  }
  state_ = State::Waiting;
  pending_ = Need::Deliver;
  return Need::Deliver;
}

void SmtpEngine::delivered(const std::vector<SmtpReply>& per_recipient, std::string& out) {
  if (mode_ == SmtpMode::Lmtp) {
    for (size_t i = 0; i < env_.recipients.size(); ++i) {
      const SmtpReply r = i < per_recipient.size() ? per_recipient[i] : SmtpReply{451, "4.3.0 not delivered"};
      reply(out, r.code, r.text);
    }
  } else {
    // One answer for the data: the first temporary failure if there is one (the client tries
    // again; recipients that have the message already get it twice, the lesser harm than losing
    // it for the others), else 250 when a recipient has it (another's permanent failure would not
    // change on a retry), else the first permanent failure.
    const SmtpReply* temporary = nullptr;
    const SmtpReply* permanent = nullptr;
    const SmtpReply* ok = nullptr;
    for (const auto& r : per_recipient) {
      if (r.code < 400 && !ok) ok = &r;
      else if (r.code < 500 && !temporary) temporary = &r;
      else if (r.code >= 500 && !permanent) permanent = &r;
    }
    const SmtpReply fallback{451, "4.3.0 not delivered"};
    const SmtpReply& r = temporary ? *temporary : ok ? *ok : permanent ? *permanent : fallback;
    reply(out, r.code, r.text);
  }
  reset_transaction();
  state_ = State::Command;
  pending_ = Need::Input;
}

void SmtpEngine::tls_started() {
  tls_active_ = true;
  helo_.clear();
  reset_transaction();
  env_.helo.clear();
  env_.tls = true;
  in_.clear();
  state_ = State::Command;
  pending_ = Need::Input;
}

}  // namespace openmapi::server
