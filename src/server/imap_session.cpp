#include "server/imap_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <mutex>

#include "core/base64.h"
#include "core/entryid.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "formats/mime/mime.h"
#include "server/delivery.h"
#include "server/imap_mime.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/named_ids.h"
#include "store/notify.h"

namespace openmapi::server {

namespace {

// MS-OXOFLAG and MS-OXOMSG properties the flags map to.
constexpr PropTag kFlagStatus{0x1090, PropType::Integer32};     // PidTagFlagStatus
constexpr PropTag kFollowupIcon{0x1095, PropType::Integer32};   // PidTagFollowupIcon
constexpr PropTag kLastVerb{0x1081, PropType::Integer32};       // PidTagLastVerbExecuted
constexpr PropTag kIconIndex{0x1080, PropType::Integer32};      // PidTagIconIndex
constexpr int32_t kFlagged = 2;                                 // followupFlagged
constexpr int32_t kRedFlag = 6;
constexpr int32_t kVerbReply = 102, kVerbReplyAll = 103, kVerbForward = 104;
constexpr int32_t kIconReplied = 0x105, kIconForwarded = 0x106;


constexpr size_t kFetchBatchBytes = 1 << 20;  // a long FETCH goes out in pieces of about this
constexpr size_t kMimeCache = 4;

const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
bool iequal(std::string_view a, std::string_view b) { return ascii_lower(a) == ascii_lower(b); }

std::string internal_date(int64_t filetime) {
  const int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(from_filetime(filetime).time_since_epoch()).count();
  std::time_t t = std::time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

int month_of(std::string_view m) {
  for (int i = 0; i < 12; ++i)
    if (iequal(m, kMonths[i])) return i;
  return -1;
}

// "1-Feb-1994" (SEARCH dates): the FILETIME of its midnight, UTC.
std::optional<int64_t> parse_date(std::string_view s) {
  int d = 0, y = 0;
  char mon[4] = {};
  if (std::sscanf(std::string(s).c_str(), "%2d-%3c-%4d", &d, mon, &y) != 3) return std::nullopt;
  const int m = month_of(std::string_view(mon, 3));
  if (m < 0 || d < 1 || d > 31 || y < 1601 || y > 9999) return std::nullopt;
  char iso[16];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m + 1, d);
  return parse_filetime(iso);
}

// APPEND's date-time: "17-Jul-1996 02:44:25 -0700".
std::optional<int64_t> parse_date_time(std::string_view s) {
  int d = 0, y = 0, hh = 0, mm = 0, ss = 0, zone = 0;
  char mon[4] = {};
  char sign = 0;
  std::string t(s);
  while (!t.empty() && t[0] == ' ') t.erase(0, 1);
  if (std::sscanf(t.c_str(), "%2d-%3c-%4d %2d:%2d:%2d %c%4d", &d, mon, &y, &hh, &mm, &ss, &sign, &zone) != 8) return std::nullopt;
  const int m = month_of(std::string_view(mon, 3));
  if (m < 0 || (sign != '+' && sign != '-') || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  auto base = parse_date(std::to_string(d) + "-" + kMonths[m] + "-" + std::to_string(y));
  if (!base) return std::nullopt;
  int64_t offset = int64_t(zone / 100 * 3600 + zone % 100 * 60) * (sign == '-' ? -1 : 1);
  return *base + (int64_t(hh) * 3600 + mm * 60 + ss - offset) * 10'000'000LL;
}

constexpr int64_t kDay = 24LL * 3600 * 10'000'000LL;

bool wildcard_match(std::string_view pattern, std::string_view name) {
  // '*' matches anything, '%' anything but the delimiter; dynamic programming, no backtracking.
  std::vector<char> prev(name.size() + 1, 0), cur(name.size() + 1, 0);
  prev[0] = 1;
  for (size_t j = 1; j <= name.size(); ++j) prev[j] = 0;
  for (char p : pattern) {
    cur.assign(name.size() + 1, 0);
    if (p == '*' || p == '%') cur[0] = prev[0];
    for (size_t j = 1; j <= name.size(); ++j) {
      if (p == '*') cur[j] = prev[j] || cur[j - 1];
      else if (p == '%') cur[j] = prev[j] || (cur[j - 1] && name[j - 1] != '/');
      else cur[j] = prev[j - 1] && p == name[j - 1];
    }
    prev.swap(cur);
  }
  return prev[name.size()];
}

std::string capabilities(bool tls, bool authenticated, const ServerConfig& config) {
  std::string c = "IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE CHILDREN BINARY ESEARCH "
                  "CONDSTORE QRESYNC "
                  "LIST-STATUS UTF8=ACCEPT SASL-IR APPENDLIMIT=" +
                  std::to_string(config.smtp.max_message_size);
  if (!authenticated) {
    if (!tls) c += " STARTTLS LOGINDISABLED";
    else c += " AUTH=PLAIN";
  }
  return c;
}

}  // namespace

// The selected folders as their sessions last saw them (UIDs, flags, MODSEQs and the journal
// position), so that the next SELECT of a folder starts from there and reads only the journal
// rows since: a large folder is read once per process, not at every SELECT. Bounded by the
// number of messages held (about 48 bytes each); the least recently used go first.
class FolderSnapshots {
 public:
  struct Snapshot {
    int64_t cn = 0;
    bool modseqs_complete = false;
    std::vector<ImapSession::Msg> msgs;
  };
  using Key = std::pair<std::string, store::FolderId>;  // the mailbox file, the folder

  std::optional<Snapshot> get(const Key& k) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(k);
    if (it == entries_.end()) return std::nullopt;
    it->second.used = ++clock_;
    return it->second.snapshot;
  }
  void put(const Key& k, Snapshot s) {
    std::lock_guard lock(mutex_);
    auto& e = entries_[k];
    held_ -= e.snapshot.msgs.size();
    held_ += s.msgs.size();
    e.snapshot = std::move(s);
    e.used = ++clock_;
    while (held_ > kMaxMessages && !entries_.empty()) {
      auto oldest = entries_.begin();
      for (auto i = entries_.begin(); i != entries_.end(); ++i)
        if (i->second.used < oldest->second.used) oldest = i;
      held_ -= oldest->second.snapshot.msgs.size();
      entries_.erase(oldest);
    }
  }

 private:
  static constexpr size_t kMaxMessages = 1'000'000;
  struct Entry {
    Snapshot snapshot;
    uint64_t used = 0;
  };
  std::mutex mutex_;
  std::map<Key, Entry> entries_;
  size_t held_ = 0;
  uint64_t clock_ = 0;
};

FolderSnapshots& folder_snapshots() {
  static FolderSnapshots cache;
  return cache;
}

struct ImapSession::Tags {
  PropTag keywords;  // PidNameKeywords (the categories)
  PropTag deleted;   // \Deleted
  PropTag unsubscribed;
  PropTag internet_message;
  PropTag envelope;  // ENVELOPE worked out at delivery or APPEND (named_ids.h)
};

struct ImapSession::FetchJob {
  struct Item {
    enum Kind { Uid, Flags, InternalDate, Size, Envelope, Body, BodyStructure, Section, Binary, BinarySize, ModSeq } kind;
    std::string label;    // as the response names it
    std::string section;  // BODY[...] / BINARY[...]
    bool peek = false;
    std::optional<std::pair<uint64_t, uint64_t>> partial;
  };
  std::string tag;
  bool uid = false;
  std::vector<Item> items;
  std::vector<size_t> indices;
  size_t next = 0;
  bool sets_seen = false;
  bool needs_text = false;  // the message's MIME (ENVELOPE only when it was not kept)
  bool envelope = false;
};

ImapSession::ImapSession(const ServerConfig& config, std::string remote, bool tls)
    : config_(config), remote_(std::move(remote)), tls_(tls), waker_(std::make_shared<std::function<void()>>()) {}

ImapSession::~ImapSession() { deselect(); }

std::string ImapSession::greeting() const {
  return "* OK [CAPABILITY " + capabilities(tls_, false, config_) + "] " + config_.host_name + " OpenMAPI IMAP ready\r\n";
}

void ImapSession::set_waker(std::function<void()> waker) { *waker_ = std::move(waker); }

// ---- dispatch

ImapSession::Result ImapSession::execute(const ImapCommand& c, std::string& out) {
  const std::string& n = c.name;
  if (n == "CAPABILITY") {
    out += "* CAPABILITY " + capabilities(tls_, authenticated(), config_) + "\r\n" + c.tag + " OK CAPABILITY completed\r\n";
    return {};
  }
  if (n == "NOOP" || n == "CHECK") {
    if (selected_) refresh(out, true);
    out += c.tag + " OK " + n + " completed\r\n";
    return {};
  }
  if (n == "LOGOUT") {
    out += "* BYE logging out\r\n" + c.tag + " OK LOGOUT completed\r\n";
    deselect();
    mailbox_.reset();
    return {Result::Close};
  }
  if (n == "ID") {
    out += "* ID (\"name\" \"OpenMAPI\" \"vendor\" \"OpenMAPI\")\r\n" + c.tag + " OK ID completed\r\n";
    return {};
  }
  if (!authenticated()) return not_authenticated(c, out);
  try {
    return command(c, out);
  } catch (const MapiError& e) {
    spdlog::warn("imap {}: {} {}: {}", remote_, user_address_, n, e.what());
    const char* code = e.code() == ErrorCode::MAPI_E_NOT_FOUND       ? "[NONEXISTENT] "
                       : e.code() == ErrorCode::MAPI_E_STORE_FULL    ? "[OVERQUOTA] "
                       : e.code() == ErrorCode::MAPI_E_NO_ACCESS     ? "[NOPERM] "
                       : e.code() == ErrorCode::MAPI_E_COLLISION     ? "[ALREADYEXISTS] "
                       : e.code() == ErrorCode::MAPI_E_CORRUPT_DATA  ? "[PARSE] "
                                                                     : "[SERVERBUG] ";
    fetch_.reset();
    out += c.tag + " NO " + code + std::string(error_name(e.code())) + ": " + std::string(e.what()).substr(0, 200) + "\r\n";
    return {};
  }
}

ImapSession::Result ImapSession::not_authenticated(const ImapCommand& c, std::string& out) {
  if (c.name == "STARTTLS") {
    if (tls_) {
      out += c.tag + " BAD TLS is on already\r\n";
      return {};
    }
    out += c.tag + " OK begin TLS negotiation now\r\n";
    return {Result::StartTls};
  }
  if (c.name == "LOGIN") {
    if (!tls_) {
      out += c.tag + " NO [PRIVACYREQUIRED] LOGIN is disabled without TLS: STARTTLS first\r\n";
      return {};
    }
    if (c.args.size() != 2 || !c.args[0].is_astring() || !c.args[1].is_astring()) {
      out += c.tag + " BAD LOGIN takes a user name and a password\r\n";
      return {};
    }
    return login(c, c.args[0].text, c.args[1].text, out);
  }
  if (c.name == "AUTHENTICATE") {
    if (c.args.empty() || c.args.size() > 2 || !c.args[0].is_atom("PLAIN")) {
      out += c.tag + " NO [CANNOT] only AUTHENTICATE PLAIN is offered\r\n";
      return {};
    }
    if (!tls_) {
      out += c.tag + " NO [PRIVACYREQUIRED] AUTHENTICATE is disabled without TLS: STARTTLS first\r\n";
      return {};
    }
    if (c.args.size() == 2) {
      pending_auth_tag_ = c.tag;
      return auth_response(c.args[1].text == "=" ? "" : c.args[1].text, out);
    }
    pending_auth_tag_ = c.tag;
    out += "+ \r\n";
    return {Result::AuthContinue};
  }
  static const std::set<std::string> later = {"SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE",
                                              "LIST", "LSUB", "NAMESPACE", "STATUS", "APPEND", "ENABLE", "IDLE"};
  if (later.count(c.name)) out += c.tag + " BAD log in first (LOGIN or AUTHENTICATE)\r\n";
  else out += c.tag + " BAD unknown command or not allowed now\r\n";
  return {};
}

ImapSession::Result ImapSession::auth_response(const std::string& line, std::string& out) {
  const std::string tag = std::move(pending_auth_tag_);
  pending_auth_tag_.clear();
  if (line == "*") {
    out += tag + " BAD AUTHENTICATE cancelled\r\n";
    return {};
  }
  auto decoded = base64_decode_strict(line);
  if (!decoded) {
    out += tag + " BAD the response is not base64\r\n";
    return {};
  }
  // RFC 4616: authzid NUL authcid NUL passwd
  const std::string& s = *decoded;
  size_t a = s.find('\0');
  size_t b = a == std::string::npos ? std::string::npos : s.find('\0', a + 1);
  if (b == std::string::npos) {
    out += tag + " BAD a PLAIN response is authzid NUL user NUL password\r\n";
    return {};
  }
  const std::string authz = s.substr(0, a), user = s.substr(a + 1, b - a - 1), password = s.substr(b + 1);
  if (!authz.empty() && !iequal(authz, user)) {
    out += tag + " NO [AUTHORIZATIONFAILED] acting for another user is not allowed\r\n";
    return {};
  }
  ImapCommand c;
  c.tag = tag;
  c.name = "AUTHENTICATE";
  return login(c, user, password, out);
}

ImapSession::Result ImapSession::login(const ImapCommand& c, const std::string& user_name, const std::string& password, std::string& out) {
  std::optional<User> user;
  try {
    user = thread_user_directory(config_.data_dir).authenticate(user_name, password);
  } catch (const std::exception& e) {
    spdlog::error("imap {}: checking a password: {}", remote_, e.what());
    out += c.tag + " NO [UNAVAILABLE] the user directory cannot be read now\r\n";
    return {};
  }
  if (!user) {
    spdlog::warn("imap {}: authentication failed for '{}'", remote_, user_name.substr(0, 100));
    out += c.tag + " NO [AUTHENTICATIONFAILED] invalid credentials\r\n";
    return {Result::Continue, std::chrono::milliseconds(1000)};
  }
  try {
    mailbox_key_ = store::mailbox_file(config_.data_dir, user->mailbox);
    mailbox_ = store::open_sqlite_mailbox(mailbox_key_);
    tags_ = std::make_unique<Tags>();
    tags_->keywords = PropTag(mailbox_->named_property_id(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords"), true), PropType::MultipleString);
    tags_->deleted = PropTag(mailbox_->named_property_id(store::imap_deleted_name(), true), PropType::Boolean);
    tags_->unsubscribed = PropTag(mailbox_->named_property_id(PropertyName::by_name(store::kPsetOpenMapi, "ImapUnsubscribed"), true), PropType::Boolean);
    tags_->internet_message = PropTag(mailbox_->named_property_id(store::internet_message_name(), true), PropType::Binary);
    tags_->envelope = PropTag(mailbox_->named_property_id(store::imap_envelope_name(), true), PropType::String);
  } catch (const std::exception& e) {
    spdlog::error("imap {}: opening the mailbox of {}: {}", remote_, user->address, e.what());
    mailbox_.reset();
    out += c.tag + " NO [UNAVAILABLE] the mailbox cannot be opened now\r\n";
    return {};
  }
  user_address_ = user->address;
  spdlog::info("imap {}: {} logged in", remote_, user->address);
  out += c.tag + " OK [CAPABILITY " + capabilities(tls_, true, config_) + "] logged in\r\n";
  return {};
}

ImapSession::Result ImapSession::command(const ImapCommand& c, std::string& out) {
  const std::string& n = c.name;
  auto bad = [&](const std::string& why) {
    out += c.tag + " BAD " + why + "\r\n";
    return Result{};
  };
  if (n == "STARTTLS" || n == "LOGIN" || n == "AUTHENTICATE") return bad("already authenticated");
  if (n == "ENABLE") {
    std::string enabled;
    for (const auto& a : c.args) {
      if (a.is_atom("UTF8=ACCEPT") && !utf8_) {
        utf8_ = true;
        enabled += " UTF8=ACCEPT";
      } else if (a.is_atom("IMAP4REV2") && !rev2_) {
        rev2_ = true;
        enabled += " IMAP4rev2";
      } else if (a.is_atom("CONDSTORE") && !condstore_) {
        enable_condstore();
        enabled += " CONDSTORE";
      } else if (a.is_atom("QRESYNC") && !qresync_) {
        if (!condstore_) enable_condstore();
        qresync_ = true;
        enabled += " QRESYNC";
      }
    }
    out += "* ENABLED" + enabled + "\r\n" + c.tag + " OK ENABLE completed\r\n";
    return {};
  }
  if (n == "NAMESPACE") {
    out += "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n" + c.tag + " OK NAMESPACE completed\r\n";
    return {};
  }
  if (n == "LIST" || n == "LSUB") {
    cmd_list(c, n == "LSUB", out);
    return {};
  }
  if (n == "STATUS") {
    cmd_status(c, out);
    return {};
  }
  if (n == "SELECT" || n == "EXAMINE") {
    cmd_select(c, n == "EXAMINE", out);
    return {};
  }
  if (n == "CREATE") return cmd_create(c, out), Result{};
  if (n == "DELETE") return cmd_delete(c, out), Result{};
  if (n == "RENAME") return cmd_rename(c, out), Result{};
  if (n == "SUBSCRIBE" || n == "UNSUBSCRIBE") return cmd_subscribe(c, n == "SUBSCRIBE", out), Result{};
  if (n == "APPEND") {
    cmd_append(c, out);
    return {};
  }
  if (n == "IDLE") {
    idle_tag_ = c.tag;
    out += "+ idling\r\n";
    if (selected_) refresh(out, true);
    return {Result::Idle};
  }
  if (!selected_) {
    static const std::set<std::string> selected_only = {"FETCH", "UID FETCH", "STORE", "UID STORE", "SEARCH", "UID SEARCH", "COPY",
                                                        "UID COPY", "MOVE", "UID MOVE", "EXPUNGE", "UID EXPUNGE", "CLOSE", "UNSELECT"};
    if (selected_only.count(n)) return bad("no mailbox is selected");
    return bad("unknown command");
  }
  if (n == "FETCH" || n == "UID FETCH") return cmd_fetch(c, n == "UID FETCH", out);
  if (n == "STORE" || n == "UID STORE") return cmd_store(c, n == "UID STORE", out), Result{};
  if (n == "SEARCH" || n == "UID SEARCH") return cmd_search(c, n == "UID SEARCH", out), Result{};
  if (n == "COPY" || n == "UID COPY" || n == "MOVE" || n == "UID MOVE") {
    cmd_copy(c, n.starts_with("UID"), n.ends_with("MOVE"), out);
    return {};
  }
  if (n == "EXPUNGE") return cmd_expunge(c, std::nullopt, out), Result{};
  if (n == "UID EXPUNGE") {
    if (c.args.size() != 1) return bad("UID EXPUNGE takes a UID set");
    auto set = parse_sequence_set(c.args[0].text, msgs_.empty() ? 0 : msgs_.back().uid);
    if (!set) return bad("not a UID set");
    cmd_expunge(c, set, out);
    return {};
  }
  if (n == "CLOSE" || n == "UNSELECT") {
    if (n == "CLOSE" && !read_only_) {
      std::vector<store::MessageId> gone;
      for (const Msg& m : msgs_)
        if ((m.flags & Deleted) && !expunge_pending_.count(m.uid)) gone.push_back(m.uid);
      if (!gone.empty()) mailbox_->delete_messages(gone, store::DeleteMode::Hard);
    }
    deselect();
    out += c.tag + " OK " + n + " completed\r\n";
    return {};
  }
  return bad("unknown command");
}

// ---- mailbox names

std::string ImapSession::decode_name(const ImapArg& a) const {
  std::string name = a.text;
  if (!utf8_ || !is_valid_utf8(name)) {
    if (auto d = mutf7_decode(name)) name = *d;
  }
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (iequal(name, "INBOX")) return "INBOX";
  if (name.size() > 6 && iequal(name.substr(0, 6), "INBOX/")) name = "INBOX" + name.substr(5);
  return name;
}

std::string ImapSession::encode_name(const std::string& name) const { return utf8_ ? name : mutf7_encode(name); }

std::vector<ImapSession::FolderInfo> ImapSession::folders() {
  std::vector<FolderInfo> out;
  const store::FolderId inbox = mailbox_->special_folder(store::SpecialFolder::Inbox);
  const std::map<store::FolderId, std::string> uses = {
      {mailbox_->special_folder(store::SpecialFolder::SentItems), "\\Sent"},
      {mailbox_->special_folder(store::SpecialFolder::Drafts), "\\Drafts"},
      {mailbox_->special_folder(store::SpecialFolder::DeletedItems), "\\Trash"},
      {mailbox_->special_folder(store::SpecialFolder::JunkEmail), "\\Junk"},
  };
  struct Walk {
    store::FolderId id;
    std::string prefix;
    size_t depth;
  };
  std::vector<Walk> stack = {{mailbox_->special_folder(store::SpecialFolder::IpmSubtree), "", 0}};
  while (!stack.empty() && out.size() < 10000) {
    Walk w = stack.back();
    stack.pop_back();
    std::vector<store::FolderId> children = mailbox_->child_folders(w.id);
    const size_t parent_index = out.size() - 1;
    bool any = false;
    std::vector<Walk> next;
    for (store::FolderId f : children) {
      PropertyBag p = mailbox_->folder_properties(f);
      const std::string cls = p.get_string(tags::PidTagContainerClass).value_or("");
      if (!cls.empty() && !cls.starts_with("IPF.Note") && !cls.starts_with("IPF.Imap")) continue;
      std::string name = p.get_string(tags::PidTagDisplayName).value_or("");
      if (name.empty() || name.find('/') != std::string::npos) continue;  // not representable with "/" as the delimiter
      FolderInfo info;
      info.id = f;
      info.name = f == inbox ? "INBOX" : w.prefix + name;
      if (auto u = uses.find(f); u != uses.end()) info.special_use = u->second;
      info.subscribed = !p.get_bool(tags_->unsubscribed).value_or(false);
      out.push_back(info);
      any = true;
      if (w.depth < 32) next.push_back({f, info.name + "/", w.depth + 1});
    }
    if (any && w.depth > 0) out[parent_index].has_children = true;
    for (auto it = next.rbegin(); it != next.rend(); ++it) stack.push_back(*it);
  }
  // has_children was set on the entry before the children; fix it up by names.
  std::set<std::string> parents;
  for (const auto& f : out)
    if (size_t slash = f.name.rfind('/'); slash != std::string::npos) parents.insert(f.name.substr(0, slash));
  for (auto& f : out) f.has_children = parents.count(f.name) > 0;
  std::sort(out.begin(), out.end(), [](const FolderInfo& a, const FolderInfo& b) {
    if ((a.name == "INBOX") != (b.name == "INBOX")) return a.name == "INBOX";
    return a.name < b.name;
  });
  return out;
}

std::optional<store::FolderId> ImapSession::existing_folder(const ImapCommand& c, const std::string& name, std::string& out) {
  auto folder = folder_of(name);
  if (!folder) out += c.tag + " NO [NONEXISTENT] no mailbox " + name + "\r\n";
  return folder;
}

std::optional<store::FolderId> ImapSession::folder_of(const std::string& name) {
  for (const auto& f : folders())
    if (f.name == name) return f.id;
  return std::nullopt;
}

void ImapSession::cmd_list(const ImapCommand& c, bool lsub, std::string& out) {
  size_t i = 0;
  bool only_subscribed = lsub, return_subscribed = false, return_special = true;
  std::vector<std::string> status_items;
  if (!lsub && i < c.args.size() && c.args[i].kind == ImapArg::Kind::List) {
    for (const auto& o : c.args[i].list) {
      if (o.is_atom("SUBSCRIBED")) only_subscribed = return_subscribed = true;
    }
    ++i;
  }
  if (c.args.size() < i + 2 || !c.args[i].is_astring()) {
    out += c.tag + " BAD " + c.name + " takes a reference and a mailbox pattern\r\n";
    return;
  }
  const std::string reference = c.args[i].text;
  std::vector<std::string> patterns;
  if (c.args[i + 1].kind == ImapArg::Kind::List) {
    for (const auto& p : c.args[i + 1].list) patterns.push_back(p.text);
  } else {
    patterns.push_back(c.args[i + 1].text);
  }
  i += 2;
  if (i < c.args.size()) {
    if (!c.args[i].is_atom("RETURN") || i + 1 >= c.args.size() || c.args[i + 1].kind != ImapArg::Kind::List) {
      out += c.tag + " BAD LIST options end with RETURN (...)\r\n";
      return;
    }
    const auto& opts = c.args[i + 1].list;
    for (size_t k = 0; k < opts.size(); ++k) {
      if (opts[k].is_atom("SUBSCRIBED")) return_subscribed = true;
      else if (opts[k].is_atom("SPECIAL-USE")) return_special = true;
      else if (opts[k].is_atom("STATUS") && k + 1 < opts.size() && opts[k + 1].kind == ImapArg::Kind::List) {
        for (const auto& s : opts[++k].list) status_items.push_back(upper(s.text));
      }
    }
  }
  if (patterns.size() == 1 && patterns[0].empty()) {
    out += "* " + c.name + " (\\Noselect) \"/\" \"\"\r\n" + c.tag + " OK " + c.name + " completed\r\n";
    return;
  }
  const std::vector<FolderInfo> all = folders();
  std::vector<const FolderInfo*> matched;
  for (const FolderInfo& f : all) {
    if (only_subscribed && !f.subscribed) continue;
    for (const auto& p : patterns) {
      ImapArg tmp;
      tmp.text = reference + p;
      std::string pattern = tmp.text;
      if (!utf8_ || !is_valid_utf8(pattern)) {
        if (auto d = mutf7_decode(pattern)) pattern = *d;
      }
      if (pattern.size() >= 5 && iequal(pattern.substr(0, 5), "INBOX") && (pattern.size() == 5 || pattern[5] == '/'))
        pattern = "INBOX" + pattern.substr(5);
      if (wildcard_match(pattern, f.name)) {
        matched.push_back(&f);
        break;
      }
    }
  }
  for (const FolderInfo* f : matched) {
    std::string attrs = f->has_children ? "\\HasChildren" : "\\HasNoChildren";
    if (return_special && !f->special_use.empty()) attrs += " " + f->special_use;
    if ((return_subscribed || lsub) && f->subscribed && !lsub) attrs += " \\Subscribed";
    out += "* " + c.name + " (" + attrs + ") \"/\" " + imap_string(encode_name(f->name), utf8_) + "\r\n";
    if (!status_items.empty()) {
      ImapCommand sc;
      sc.tag = c.tag;
      sc.name = "STATUS";
      ImapArg name;
      name.kind = ImapArg::Kind::String;
      name.text = encode_name(f->name);
      ImapArg items;
      items.kind = ImapArg::Kind::List;
      for (const auto& s : status_items) items.list.push_back(ImapArg{ImapArg::Kind::Atom, s, {}, false});
      sc.args = {name, items};
      std::string status_out;
      cmd_status(sc, status_out);
      // Keep the untagged STATUS line only.
      if (size_t tagged = status_out.find("\r\n" + c.tag + " "); tagged != std::string::npos) out += status_out.substr(0, tagged + 2);
    }
  }
  out += c.tag + " OK " + c.name + " completed\r\n";
}

void ImapSession::cmd_status(const ImapCommand& c, std::string& out) {
  if (c.args.size() != 2 || !c.args[0].is_astring() || c.args[1].kind != ImapArg::Kind::List) {
    out += c.tag + " BAD STATUS takes a mailbox and a list of items\r\n";
    return;
  }
  const std::string name = decode_name(c.args[0]);
  auto folder = existing_folder(c, name, out);
  if (!folder) return;
  // Counts from the folder itself; the highest UID from the contents, newest first.
  const bool is_selected = selected_ && *selected_ == *folder;
  if (is_selected) refresh(out, false);
  auto table = mailbox_->contents_table(*folder);
  table->set_columns({tags::PidTagMid});
  std::string items;
  uint32_t max_uid = 0;
  bool need_flags = false;
  for (const auto& it : c.args[1].list) need_flags = need_flags || it.is_atom("DELETED");
  std::vector<store::MessageId> ids;
  if (need_flags || !is_selected) {
    for (const auto& row : table->query_rows(UINT32_MAX)) {
      const auto id = ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc;
      ids.push_back(id);
      max_uid = std::max<uint32_t>(max_uid, uint32_t(id));
    }
  } else if (!msgs_.empty()) {
    max_uid = msgs_.back().uid;
  }
  PropertyBag props = mailbox_->folder_properties(*folder);
  for (const auto& it : c.args[1].list) {
    const std::string item = upper(it.text);
    std::string value;
    if (item == "MESSAGES") value = std::to_string(is_selected ? msgs_.size() : ids.size());
    else if (item == "UIDNEXT") value = std::to_string(uint64_t(max_uid) + 1);
    else if (item == "UIDVALIDITY") value = std::to_string(uint32_t(*folder));
    else if (item == "UNSEEN") value = std::to_string(props.get_i32(tags::PidTagContentUnreadCount).value_or(0));
    else if (item == "RECENT") value = "0";
    else if (item == "HIGHESTMODSEQ") value = std::to_string(std::max<int64_t>(mailbox_->last_change_number(), 1));
    else if (item == "SIZE") value = std::to_string(props.get_i64(tags::PidTagMessageSizeExtended).value_or(0));
    else if (item == "DELETED") {
      size_t n = 0;
      for (const Msg& m : read_flags(ids)) n += (m.flags & Deleted) ? 1 : 0;
      value = std::to_string(n);
    } else {
      out += c.tag + " BAD unknown STATUS item " + item.substr(0, 40) + "\r\n";
      return;
    }
    items += (items.empty() ? "" : " ") + item + " " + value;
  }
  out += "* STATUS " + imap_string(encode_name(name), utf8_) + " (" + items + ")\r\n" + c.tag + " OK STATUS completed\r\n";
}

void ImapSession::cmd_create(const ImapCommand& c, std::string& out) {
  if (c.args.empty() || !c.args[0].is_astring()) {
    out += c.tag + " BAD CREATE takes a mailbox name\r\n";
    return;
  }
  const std::string name = decode_name(c.args[0]);
  if (name == "INBOX" || folder_of(name)) {
    out += c.tag + " NO [ALREADYEXISTS] " + name + " exists\r\n";
    return;
  }
  // Creates the missing parents on the way, as RFC 9051 6.3.4 asks.
  store::FolderId parent = mailbox_->special_folder(store::SpecialFolder::IpmSubtree);
  std::string path;
  size_t p = 0;
  while (p <= name.size()) {
    size_t slash = name.find('/', p);
    std::string part = name.substr(p, slash == std::string::npos ? std::string::npos : slash - p);
    if (part.empty()) {
      out += c.tag + " BAD a mailbox name part is empty\r\n";
      return;
    }
    path += (path.empty() ? "" : "/") + part;
    if (auto f = folder_of(path)) parent = *f;
    else parent = mailbox_->create_folder(parent, part, "IPF.Note");
    if (slash == std::string::npos) break;
    p = slash + 1;
  }
  out += c.tag + " OK CREATE completed\r\n";
}

void ImapSession::cmd_delete(const ImapCommand& c, std::string& out) {
  if (c.args.empty() || !c.args[0].is_astring()) {
    out += c.tag + " BAD DELETE takes a mailbox name\r\n";
    return;
  }
  const std::string name = decode_name(c.args[0]);
  auto folder = existing_folder(c, name, out);
  if (!folder) return;
  if (!mailbox_->child_folders(*folder).empty()) {
    out += c.tag + " NO [INUSE] " + name + " has mailboxes below it\r\n";
    return;
  }
  if (selected_ && *selected_ == *folder) deselect();
  mailbox_->delete_folder(*folder, store::delfolder::DelMessages | store::delfolder::HardDelete);
  out += c.tag + " OK DELETE completed\r\n";
}

void ImapSession::cmd_rename(const ImapCommand& c, std::string& out) {
  if (c.args.size() != 2 || !c.args[0].is_astring() || !c.args[1].is_astring()) {
    out += c.tag + " BAD RENAME takes two mailbox names\r\n";
    return;
  }
  const std::string from = decode_name(c.args[0]), to = decode_name(c.args[1]);
  auto folder = existing_folder(c, from, out);
  if (!folder) return;
  if (from == "INBOX") {
    out += c.tag + " NO [CANNOT] INBOX is not renamed here\r\n";
    return;
  }
  if (folder_of(to) || to == "INBOX") {
    out += c.tag + " NO [ALREADYEXISTS] " + to + " exists\r\n";
    return;
  }
  const size_t slash = to.rfind('/');
  const std::string leaf = slash == std::string::npos ? to : to.substr(slash + 1);
  store::FolderId parent = mailbox_->special_folder(store::SpecialFolder::IpmSubtree);
  if (slash != std::string::npos) {
    auto p = folder_of(to.substr(0, slash));
    if (!p) {
      out += c.tag + " NO [NONEXISTENT] the parent of " + to + " does not exist\r\n";
      return;
    }
    parent = *p;
  }
  if (leaf.empty()) {
    out += c.tag + " BAD an empty mailbox name\r\n";
    return;
  }
  if (mailbox_->parent_folder(*folder) != parent) mailbox_->move_folder(*folder, parent);
  mailbox_->rename_folder(*folder, leaf);
  out += c.tag + " OK RENAME completed\r\n";
}

void ImapSession::cmd_subscribe(const ImapCommand& c, bool subscribe, std::string& out) {
  if (c.args.size() != 1 || !c.args[0].is_astring()) {
    out += c.tag + " BAD " + c.name + " takes a mailbox name\r\n";
    return;
  }
  auto folder = existing_folder(c, decode_name(c.args[0]), out);
  if (!folder) return;
  PropertyBag p;
  p.set(PropValue::boolean(tags_->unsubscribed, !subscribe));
  mailbox_->set_folder_properties(*folder, p);
  out += c.tag + " OK " + c.name + " completed\r\n";
}

// ---- selected state

void ImapSession::deselect() {
  if (selected_ && !mailbox_key_.empty()) {
    // What this session knows of the folder, for the next SELECT of it (messages whose EXPUNGE
    // was not sent yet are gone in the store: not in the snapshot).
    FolderSnapshots::Snapshot snap{journal_cn_, modseqs_complete_, msgs_};
    if (!expunge_pending_.empty()) std::erase_if(snap.msgs, [&](const Msg& m) { return expunge_pending_.count(m.uid) > 0; });
    folder_snapshots().put({mailbox_key_, *selected_}, std::move(snap));
  }
  if (feed_ && advise_) {
    try {
      feed_->unadvise(advise_);
    } catch (...) {
    }
  }
  feed_.reset();
  advise_ = 0;
  selected_.reset();
  msgs_.clear();
  expunge_pending_.clear();
  mime_cache_.clear();
  fetch_.reset();
}

std::vector<ImapSession::Msg> ImapSession::read_flags(const std::vector<store::MessageId>& ids) {
  std::vector<Msg> out;
  if (ids.empty()) return out;
  const store::FolderId folder = selected_ ? *selected_ : mailbox_->message_folder(ids.front());
  const std::vector<PropTag> columns = {tags::PidTagMid, tags::PidTagMessageFlags, kFlagStatus, kLastVerb, tags_->keywords, tags_->deleted,
                                       tags::PidTagChangeNumber};
  std::vector<PropertyBag> rows;
  if (ids.size() <= 2000) {
    rows = mailbox_->message_rows(folder, ids, columns);
  } else {  // most of the folder: one pass over its table
    auto table = mailbox_->contents_table(folder);
    table->set_columns(columns);
    const std::set<store::MessageId> wanted(ids.begin(), ids.end());
    for (auto& row : table->query_rows(UINT32_MAX)) {
      PropertyBag b;
      for (auto& v : row)
        if (v.type() != PropType::ErrorCode) b.set(std::move(v));
      if (auto mid = b.get_i64(tags::PidTagMid); mid && wanted.count(ObjectId::from_u64(uint64_t(*mid)).gc)) rows.push_back(std::move(b));
    }
  }
  for (const PropertyBag& row : rows) {
    auto mid = row.get_i64(tags::PidTagMid);
    if (!mid) continue;  // gone meanwhile
    Msg m;
    m.uid = uint32_t(ObjectId::from_u64(uint64_t(*mid)).gc);
    const int32_t f = row.get_i32(tags::PidTagMessageFlags).value_or(0);
    if (f & msgflag::Read) m.flags |= Seen;
    if (f & msgflag::Unsent) m.flags |= Draft;
    if (row.get_i32(kFlagStatus).value_or(0) == kFlagged) m.flags |= Flagged;
    const int32_t verb = row.get_i32(kLastVerb).value_or(0);
    if (verb == kVerbReply || verb == kVerbReplyAll) m.flags |= Answered;
    if (verb == kVerbForward) m.flags |= Forwarded;
    if (const PropValue* k = row.find(tags_->keywords))
      if (const auto* list = k->get_if<std::vector<std::string>>()) m.keywords = *list;
    if (row.get_bool(tags_->deleted).value_or(false)) m.flags |= Deleted;
    if (auto cn = row.get_i64(tags::PidTagChangeNumber)) m.modseq = int64_t(ObjectId::from_u64(uint64_t(*cn)).gc);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const Msg& a, const Msg& b) { return a.uid < b.uid; });
  return out;
}

void ImapSession::select(store::FolderId folder, bool read_only) {
  deselect();
  journal_cn_ = mailbox_->last_change_number();
  selected_ = folder;
  read_only_ = read_only;
  // A snapshot of the folder from an earlier session, brought up to date from the journal (when
  // the journal still reaches back to it).
  if (auto snap = folder_snapshots().get({mailbox_key_, folder})) {
    const auto oldest = mailbox_->changes_since(0, std::nullopt, 1);
    if (oldest.empty() || oldest.front().change_number <= snap->cn + 1) {
      msgs_ = std::move(snap->msgs);
      journal_cn_ = snap->cn;
      modseqs_complete_ = snap->modseqs_complete;
      std::string unreported;  // SELECT reports the state, not the changes
      refresh(unreported, true);
      if (condstore_) ensure_modseqs();
      advise_changes(folder);
      return;
    }
  }
  // Every message with its id, message flags and change number, and whether it has any other
  // flag property (follow-up, last verb, categories, \\Deleted), in one indexed pass; the few
  // that do are then read whole.
  std::vector<store::MessageId> decorated;
  for (const auto& e : mailbox_->message_index(folder, {kFlagStatus, kLastVerb, tags_->keywords, tags_->deleted})) {
    Msg m;
    m.uid = uint32_t(e.id);
    if (e.message_flags & msgflag::Read) m.flags |= Seen;
    if (e.message_flags & msgflag::Unsent) m.flags |= Draft;
    m.modseq = e.change_number;
    if (e.marks) decorated.push_back(e.id);
    msgs_.push_back(std::move(m));
  }
  for (Msg& m : read_flags(decorated))
    if (auto i = index_of_uid(m.uid)) msgs_[*i] = std::move(m);
  modseqs_complete_ = false;
  if (condstore_) ensure_modseqs();
  advise_changes(folder);
}

void ImapSession::advise_changes(store::FolderId folder) {
  feed_ = mailbox_->change_feed();
  if (feed_) {
    std::weak_ptr<std::function<void()>> waker = waker_;
    advise_ = feed_->advise(store::fnev::All & ~store::fnev::TableModified, store::AdviseScope::folder(folder),
                            [waker](const store::Notification&) {
                              if (auto w = waker.lock(); w && *w) (*w)();
                            });
  }
}

std::optional<size_t> ImapSession::index_of_uid(uint32_t uid) const {
  auto it = std::lower_bound(msgs_.begin(), msgs_.end(), uid, [](const Msg& m, uint32_t u) { return m.uid < u; });
  if (it == msgs_.end() || it->uid != uid) return std::nullopt;
  return size_t(it - msgs_.begin());
}

void ImapSession::refresh(std::string& out, bool expunge) {
  if (!selected_) return;
  const store::FolderId folder = *selected_;
  std::set<uint32_t> added, changed;
  std::map<uint32_t, int64_t> cn_of;  // the newest change of each message seen here
  while (true) {
    const auto rows = mailbox_->changes_since(journal_cn_, folder, 5000);
    for (const store::Change& ch : rows) {
      journal_cn_ = std::max(journal_cn_, ch.change_number);
      if (ch.is_folder) continue;
      if (ch.message_flags & msgflag::Associated) continue;
      const uint32_t uid = uint32_t(ch.id);
      cn_of[uid] = std::max(cn_of[uid], ch.change_number);
      switch (ch.kind) {
        case store::ChangeKind::Created:
        case store::ChangeKind::Copied:
        case store::ChangeKind::Restored:
          if (ch.parent == folder) added.insert(uid);
          break;
        case store::ChangeKind::Moved:
          if (ch.old_parent && *ch.old_parent == folder && ch.old_id) {
            added.erase(uint32_t(*ch.old_id));
            if (index_of_uid(uint32_t(*ch.old_id))) expunge_pending_.insert(uint32_t(*ch.old_id));
          }
          if (ch.parent == folder) added.insert(uid);
          break;
        case store::ChangeKind::SoftDeleted:
        case store::ChangeKind::HardDeleted:
          if (ch.parent == folder) {
            added.erase(uid);
            changed.erase(uid);
            if (index_of_uid(uid)) expunge_pending_.insert(uid);
          }
          break;
        case store::ChangeKind::Modified:
        case store::ChangeKind::ReadStateChanged:
          if (ch.parent == folder && !added.count(uid)) changed.insert(uid);
          break;
        default:
          break;
      }
    }
    if (rows.size() < 5000) break;
  }
  if (expunge && !expunge_pending_.empty()) {
    std::vector<size_t> gone;
    for (uint32_t uid : expunge_pending_)
      if (auto i = index_of_uid(uid)) gone.push_back(*i);
    std::sort(gone.begin(), gone.end());
    expunge_pending_.clear();
    report_expunged(gone, out);
  }
  if (!added.empty()) {
    std::vector<store::MessageId> ids;
    for (uint32_t u : added)
      if (!index_of_uid(u)) ids.push_back(u);
    std::vector<Msg> fresh = read_flags(ids);  // messages gone again meanwhile are not there
    bool grew = false;
    for (Msg& m : fresh) {
      m.modseq = std::max(m.modseq, cn_of[m.uid]);
      if (!msgs_.empty() && m.uid < msgs_.back().uid) {  // a restored message: keep UID order
        msgs_.insert(std::upper_bound(msgs_.begin(), msgs_.end(), m.uid, [](uint32_t u, const Msg& x) { return u < x.uid; }), m);
      } else {
        msgs_.push_back(std::move(m));
      }
      grew = true;
    }
    if (grew) out += "* " + std::to_string(msgs_.size()) + " EXISTS\r\n";
  }
  if (!changed.empty()) {
    std::vector<store::MessageId> ids(changed.begin(), changed.end());
    for (Msg& m : read_flags(ids)) {
      auto i = index_of_uid(m.uid);
      if (!i) continue;
      msgs_[*i].modseq = std::max({msgs_[*i].modseq, m.modseq, cn_of[m.uid]});
      if (msgs_[*i].flags == m.flags && msgs_[*i].keywords == m.keywords) {
        mime_cache_.erase(m.uid);  // the content may have changed
        continue;
      }
      msgs_[*i].flags = m.flags;
      msgs_[*i].keywords = m.keywords;
      mime_cache_.erase(m.uid);
      out += "* " + std::to_string(*i + 1) + " FETCH (UID " + std::to_string(m.uid) + " FLAGS (" + flags_text(msgs_[*i]) + ")" +
             modseq_item(msgs_[*i]) + ")\r\n";
    }
  }
}

std::string ImapSession::flags_text(const Msg& m) const {
  std::string s;
  auto add = [&](const char* f) {
    if (!s.empty()) s += ' ';
    s += f;
  };
  if (m.flags & Seen) add("\\Seen");
  if (m.flags & Answered) add("\\Answered");
  if (m.flags & Flagged) add("\\Flagged");
  if (m.flags & Deleted) add("\\Deleted");
  if (m.flags & Draft) add("\\Draft");
  if (m.flags & Forwarded) add("$Forwarded");
  for (const auto& k : m.keywords) {
    bool atom = !k.empty() && std::none_of(k.begin(), k.end(), [](unsigned char c) {
      return c <= 0x20 || c >= 0x7F || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' || c == '"' || c == '\\' || c == ']';
    });
    if (atom) add(k.c_str());  // categories that are no IMAP atom (spaces...) are not shown
  }
  return s;
}

void ImapSession::enable_condstore() {
  condstore_ = true;
  if (selected_) ensure_modseqs();
}

void ImapSession::ensure_modseqs() {
  if (modseqs_complete_ || !selected_) return;
  modseqs_complete_ = true;
  // The content change numbers came with the rows; read-state changes are in the journal only.
  int64_t after = 0;
  while (true) {
    const auto rows = mailbox_->changes_since(after, *selected_, 10000);
    for (const store::Change& ch : rows) {
      after = ch.change_number;
      if (ch.is_folder || ch.parent != *selected_) continue;
      if (auto i = index_of_uid(uint32_t(ch.id))) msgs_[*i].modseq = std::max(msgs_[*i].modseq, ch.change_number);
    }
    if (rows.size() < 10000) break;
  }
}

int64_t ImapSession::highest_modseq() const {
  int64_t h = std::max<int64_t>(journal_cn_, 1);
  for (const Msg& m : msgs_) h = std::max(h, m.modseq);
  return h;
}

std::string ImapSession::modseq_item(const Msg& m) const {
  return condstore_ ? " MODSEQ (" + std::to_string(std::max<int64_t>(m.modseq, 1)) + ")" : "";
}

std::optional<std::vector<uint32_t>> ImapSession::expunged_since(int64_t since) {
  // The journal must reach back to `since`: its oldest row is no later than the next change.
  const auto oldest = mailbox_->changes_since(0, std::nullopt, 1);
  if (!oldest.empty() && oldest.front().change_number > since + 1) return std::nullopt;
  std::set<uint32_t> gone;
  int64_t after = since;
  while (true) {
    const auto rows = mailbox_->changes_since(after, *selected_, 10000);
    for (const store::Change& ch : rows) {
      after = ch.change_number;
      if (ch.is_folder) continue;
      if ((ch.kind == store::ChangeKind::SoftDeleted || ch.kind == store::ChangeKind::HardDeleted) && ch.parent == *selected_)
        gone.insert(uint32_t(ch.id));
      if (ch.kind == store::ChangeKind::Moved && ch.old_parent && *ch.old_parent == *selected_ && ch.old_id) gone.insert(uint32_t(*ch.old_id));
    }
    if (rows.size() < 10000) break;
  }
  std::vector<uint32_t> out;
  for (uint32_t u : gone)
    if (!index_of_uid(u)) out.push_back(u);
  return out;
}

void ImapSession::report_expunged(const std::vector<size_t>& indices, std::string& out) {
  if (indices.empty()) return;
  if (qresync_) {  // RFC 7162 3.2.10: VANISHED instead of EXPUNGE
    std::vector<uint32_t> uids;
    for (size_t i : indices) uids.push_back(msgs_[i].uid);
    std::sort(uids.begin(), uids.end());
    out += "* VANISHED " + format_sequence_set(uids) + "\r\n";
  }
  for (auto it = indices.rbegin(); it != indices.rend(); ++it) {
    if (!qresync_) out += "* " + std::to_string(*it + 1) + " EXPUNGE\r\n";
    mime_cache_.erase(msgs_[*it].uid);
    expunge_pending_.erase(msgs_[*it].uid);
    msgs_.erase(msgs_.begin() + std::ptrdiff_t(*it));
  }
}

void ImapSession::cmd_select(const ImapCommand& c, bool read_only, std::string& out) {
  if (c.args.empty() || !c.args[0].is_astring()) {
    out += c.tag + " BAD " + c.name + " takes a mailbox name\r\n";
    return;
  }
  // SELECT parameters (RFC 7162): (CONDSTORE) or (QRESYNC (uidvalidity modseq [known-uids ...])).
  struct Qresync {
    uint32_t uidvalidity = 0;
    int64_t modseq = 0;
    std::optional<ImapSequenceSet> known;
  };
  std::optional<Qresync> qr;
  if (c.args.size() > 1) {
    if (c.args.size() > 2 || c.args[1].kind != ImapArg::Kind::List) {
      out += c.tag + " BAD " + c.name + " takes a mailbox and an optional list of parameters\r\n";
      return;
    }
    const auto& params = c.args[1].list;
    for (size_t k = 0; k < params.size(); ++k) {
      if (params[k].is_atom("CONDSTORE")) {
        enable_condstore();
      } else if (params[k].is_atom("QRESYNC") && k + 1 < params.size() && params[k + 1].kind == ImapArg::Kind::List) {
        if (!qresync_) {
          out += c.tag + " BAD QRESYNC must be enabled first (ENABLE QRESYNC)\r\n";
          return;
        }
        const auto& q = params[++k].list;
        auto number = [](const ImapArg& a) -> std::optional<uint64_t> {
          if (a.kind != ImapArg::Kind::Atom || a.text.empty() || a.text.size() > 19 || a.text.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
          return std::stoull(a.text);
        };
        auto v = q.size() >= 2 ? number(q[0]) : std::nullopt;
        auto m = q.size() >= 2 ? number(q[1]) : std::nullopt;
        if (!v || !m || *v == 0 || *v > UINT32_MAX || *m == 0) {
          out += c.tag + " BAD QRESYNC takes (uidvalidity modseq [known-uids [sequence-match]])\r\n";
          return;
        }
        qr = Qresync{uint32_t(*v), int64_t(*m), std::nullopt};
        if (q.size() >= 3 && q[2].kind == ImapArg::Kind::Atom) qr->known = parse_sequence_set(q[2].text, UINT32_MAX);
      } else {
        out += c.tag + " BAD unknown " + c.name + " parameter\r\n";
        return;
      }
    }
  }
  const bool had = selected_.has_value();
  const std::string name = decode_name(c.args[0]);
  auto folder = folder_of(name);
  if (had) {
    deselect();
    if (rev2_ || qresync_) out += "* OK [CLOSED] the previous mailbox is closed\r\n";
  }
  if (!folder) {
    out += c.tag + " NO [NONEXISTENT] no mailbox " + name + "\r\n";
    return;
  }
  select(*folder, read_only);
  std::set<std::string> keywords;
  for (const Msg& m : msgs_) keywords.insert(m.keywords.begin(), m.keywords.end());
  std::string kw;
  Msg probe;
  probe.keywords.assign(keywords.begin(), keywords.end());
  kw = flags_text(probe);
  out += "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded" + (kw.empty() ? "" : " " + kw) + ")\r\n";
  out += "* OK [PERMANENTFLAGS (" + std::string(read_only ? "" : "\\Answered \\Flagged \\Deleted \\Seen $Forwarded \\*") + ")] flags\r\n";
  out += "* " + std::to_string(msgs_.size()) + " EXISTS\r\n";
  if (!rev2_) {
    out += "* 0 RECENT\r\n";
    for (size_t i = 0; i < msgs_.size(); ++i)
      if (!(msgs_[i].flags & Seen)) {
        out += "* OK [UNSEEN " + std::to_string(i + 1) + "] first unseen\r\n";
        break;
      }
  }
  out += "* OK [UIDVALIDITY " + std::to_string(uint32_t(*folder)) + "] UIDs valid\r\n";
  out += "* OK [UIDNEXT " + std::to_string(uint64_t(msgs_.empty() ? 0 : msgs_.back().uid) + 1) + "] predicted next UID\r\n";
  if (condstore_) out += "* OK [HIGHESTMODSEQ " + std::to_string(highest_modseq()) + "] modification sequences\r\n";
  if (rev2_) out += "* LIST () \"/\" " + imap_string(encode_name(name), utf8_) + "\r\n";
  if (qr && qr->uidvalidity == uint32_t(*folder)) {
    // What changed since the client's last look: the UIDs gone, then the messages changed.
    std::vector<uint32_t> vanished;
    if (auto gone = expunged_since(qr->modseq)) {
      vanished = *gone;
    } else {  // the journal does not reach back: every UID the client may know that is not here
      const uint32_t top = msgs_.empty() ? 0 : msgs_.back().uid;
      std::vector<std::pair<uint32_t, uint32_t>> ranges = qr->known ? qr->known->ranges
                                                                    : std::vector<std::pair<uint32_t, uint32_t>>{{1, std::max<uint32_t>(top, 1)}};
      std::string set;
      for (auto [lo, hi] : ranges) {
        uint32_t from = lo;
        auto it = std::lower_bound(msgs_.begin(), msgs_.end(), lo, [](const Msg& m, uint32_t u) { return m.uid < u; });
        for (; it != msgs_.end() && it->uid <= hi; ++it) {
          if (it->uid > from) set += (set.empty() ? "" : ",") + std::to_string(from) + (it->uid - 1 > from ? ":" + std::to_string(it->uid - 1) : "");
          from = it->uid + 1;
        }
        if (from <= hi && from != 0) set += (set.empty() ? "" : ",") + std::to_string(from) + (hi > from ? ":" + std::to_string(hi) : "");
      }
      if (!set.empty()) out += "* VANISHED (EARLIER) " + set + "\r\n";
    }
    if (qr->known) std::erase_if(vanished, [&](uint32_t u) { return !qr->known->contains(u); });
    if (!vanished.empty()) out += "* VANISHED (EARLIER) " + format_sequence_set(vanished) + "\r\n";
    for (size_t i = 0; i < msgs_.size(); ++i)
      if (msgs_[i].modseq > qr->modseq)
        out += "* " + std::to_string(i + 1) + " FETCH (UID " + std::to_string(msgs_[i].uid) + " FLAGS (" + flags_text(msgs_[i]) + ")" +
               modseq_item(msgs_[i]) + ")\r\n";
  }
  out += c.tag + " OK [" + std::string(read_only ? "READ-ONLY" : "READ-WRITE") + "] " + c.name + " completed\r\n";
}

std::vector<size_t> ImapSession::resolve_set(const ImapSequenceSet& set, bool uid) const {
  std::vector<size_t> out;
  if (uid) {
    for (auto [lo, hi] : set.ranges) {
      auto it = std::lower_bound(msgs_.begin(), msgs_.end(), lo, [](const Msg& m, uint32_t u) { return m.uid < u; });
      for (; it != msgs_.end() && it->uid <= hi; ++it) out.push_back(size_t(it - msgs_.begin()));
    }
  } else {
    for (auto [lo, hi] : set.ranges)
      for (uint64_t n = lo; n <= hi && n <= msgs_.size(); ++n) out.push_back(size_t(n - 1));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const std::string& ImapSession::mime_of(uint32_t uid) {
  auto it = mime_cache_.find(uid);
  if (it != mime_cache_.end()) return it->second;
  std::string text = message_mime(*mailbox_, uid);
  if (mime_cache_.size() >= kMimeCache) mime_cache_.erase(mime_cache_.begin());
  return mime_cache_[uid] = std::move(text);
}

void ImapSession::mark_seen(const std::vector<size_t>& indices) {
  std::vector<store::MessageId> ids;
  for (size_t i : indices)
    if (!(msgs_[i].flags & Seen)) ids.push_back(msgs_[i].uid);
  if (ids.empty()) return;
  mailbox_->set_read_flag(ids, true);
  for (size_t i : indices) msgs_[i].flags |= Seen;
}

// ---- FETCH

ImapSession::Result ImapSession::cmd_fetch(const ImapCommand& c, bool uid, std::string& out) {
  if (c.args.size() < 2) {
    out += c.tag + " BAD FETCH takes a sequence set and items\r\n";
    return {};
  }
  if (!uid) refresh(out, false);
  auto set = parse_sequence_set(c.args[0].text, uid ? (msgs_.empty() ? 0 : msgs_.back().uid) : uint32_t(msgs_.size()));
  if (!set || c.args[0].kind != ImapArg::Kind::Atom) {
    out += c.tag + " BAD not a sequence set: " + c.args[0].text.substr(0, 40) + "\r\n";
    return {};
  }
  if (!uid && !msgs_.empty()) {
    for (auto [lo, hi] : set->ranges)
      if (hi > msgs_.size()) {
        out += c.tag + " BAD sequence number " + std::to_string(hi) + " is past the last message\r\n";
        return {};
      }
  }
  auto job = std::make_unique<FetchJob>();
  job->tag = c.tag;
  job->uid = uid;
  std::vector<const ImapArg*> names;
  if (c.args[1].kind == ImapArg::Kind::List) {
    for (const auto& a : c.args[1].list) names.push_back(&a);
  } else {
    names.push_back(&c.args[1]);
  }
  // Modifiers (RFC 7162): (CHANGEDSINCE modseq [VANISHED]).
  std::optional<int64_t> changed_since;
  bool vanished = false;
  if (c.args.size() > 3 || (c.args.size() == 3 && c.args[2].kind != ImapArg::Kind::List)) {
    out += c.tag + " BAD FETCH takes a sequence set, items and an optional list of modifiers\r\n";
    return {};
  }
  if (c.args.size() == 3) {
    const auto& mods = c.args[2].list;
    for (size_t k = 0; k < mods.size(); ++k) {
      if (mods[k].is_atom("CHANGEDSINCE") && k + 1 < mods.size() && mods[k + 1].kind == ImapArg::Kind::Atom &&
          !mods[k + 1].text.empty() && mods[k + 1].text.size() < 19 && mods[k + 1].text.find_first_not_of("0123456789") == std::string::npos) {
        changed_since = int64_t(std::stoull(mods[++k].text));
      } else if (mods[k].is_atom("VANISHED")) {
        vanished = true;
      } else {
        out += c.tag + " BAD unknown FETCH modifier\r\n";
        return {};
      }
    }
    if (vanished && (!uid || !qresync_ || !changed_since)) {
      out += c.tag + " BAD VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled\r\n";
      return {};
    }
    if (changed_since) enable_condstore();
  }
  using Item = FetchJob::Item;
  auto add = [&](Item::Kind k, std::string label) { job->items.push_back(Item{k, std::move(label), {}, false, {}}); };
  if (uid) add(Item::Uid, "UID");
  for (const ImapArg* a : names) {
    if (a->kind != ImapArg::Kind::Atom) {
      out += c.tag + " BAD a FETCH item is an atom\r\n";
      return {};
    }
    const std::string t = upper(a->text);
    if (t == "ALL" || t == "FAST" || t == "FULL") {
      add(Item::Flags, "FLAGS");
      add(Item::InternalDate, "INTERNALDATE");
      add(Item::Size, "RFC822.SIZE");
      if (t != "FAST") add(Item::Envelope, "ENVELOPE");
      if (t == "FULL") add(Item::Body, "BODY");
    } else if (t == "UID") {
      if (!uid) add(Item::Uid, "UID");
    } else if (t == "FLAGS") add(Item::Flags, "FLAGS");
    else if (t == "INTERNALDATE") add(Item::InternalDate, "INTERNALDATE");
    else if (t == "RFC822.SIZE") add(Item::Size, "RFC822.SIZE");
    else if (t == "ENVELOPE") add(Item::Envelope, "ENVELOPE");
    else if (t == "BODY") add(Item::Body, "BODY");
    else if (t == "BODYSTRUCTURE") add(Item::BodyStructure, "BODYSTRUCTURE");
    else if (t == "RFC822") job->items.push_back(Item{Item::Section, "RFC822", "", false, {}});
    else if (t == "RFC822.HEADER") job->items.push_back(Item{Item::Section, "RFC822.HEADER", "HEADER", true, {}});
    else if (t == "RFC822.TEXT") job->items.push_back(Item{Item::Section, "RFC822.TEXT", "TEXT", false, {}});
    else if (t == "MODSEQ") {
      enable_condstore();
      add(Item::ModSeq, "MODSEQ");
    } else {
      // BODY[...]<p>, BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...]
      const size_t lb = t.find('['), rb = t.rfind(']');
      if (lb == std::string::npos || rb == std::string::npos || rb < lb) {
        out += c.tag + " BAD unknown FETCH item " + t.substr(0, 40) + "\r\n";
        return {};
      }
      const std::string head = t.substr(0, lb);
      Item item{Item::Section, "", t.substr(lb + 1, rb - lb - 1), false, {}};
      if (head == "BODY" || head == "BODY.PEEK") item.kind = Item::Section;
      else if (head == "BINARY" || head == "BINARY.PEEK") item.kind = Item::Binary;
      else if (head == "BINARY.SIZE") item.kind = Item::BinarySize;
      else {
        out += c.tag + " BAD unknown FETCH item " + t.substr(0, 40) + "\r\n";
        return {};
      }
      item.peek = head.ends_with(".PEEK") || head == "BINARY.SIZE";
      const std::string tail = t.substr(rb + 1);
      if (!tail.empty()) {
        unsigned long long o = 0, n = 0;
        char close = 0;
        if (item.kind == Item::BinarySize || std::sscanf(tail.c_str(), "<%llu.%llu%c", &o, &n, &close) != 3 || close != '>' || n == 0) {
          out += c.tag + " BAD a partial is <offset.length>\r\n";
          return {};
        }
        item.partial = std::pair<uint64_t, uint64_t>(o, n);
      }
      item.label = (item.kind == Item::Section ? "BODY[" : item.kind == Item::Binary ? "BINARY[" : "BINARY.SIZE[") +
                   a->text.substr(lb + 1, rb - lb - 1) + "]" + (item.partial ? "<" + std::to_string(item.partial->first) + ">" : "");
      job->items.push_back(std::move(item));
    }
  }
  for (const auto& it : job->items) {
    if (it.kind != Item::Uid && it.kind != Item::Flags && it.kind != Item::InternalDate && it.kind != Item::ModSeq && it.kind != Item::Envelope)
      job->needs_text = true;
    if (it.kind == Item::Envelope) job->envelope = true;
    if ((it.kind == Item::Section || it.kind == Item::Binary) && !it.peek && !read_only_) job->sets_seen = true;
  }
  job->indices = resolve_set(*set, uid);
  if (changed_since) {
    // Only what changed since, and MODSEQ shown with it (RFC 7162 3.1.4.1).
    std::erase_if(job->indices, [&](size_t i) { return msgs_[i].modseq <= *changed_since; });
    if (std::none_of(job->items.begin(), job->items.end(), [](const FetchJob::Item& it) { return it.kind == FetchJob::Item::ModSeq; }))
      add(FetchJob::Item::ModSeq, "MODSEQ");
    if (vanished) {
      if (auto gone = expunged_since(*changed_since)) {
        std::erase_if(*gone, [&](uint32_t u) { return !set->contains(u); });
        if (!gone->empty()) out += "* VANISHED (EARLIER) " + format_sequence_set(*gone) + "\r\n";
      }
    }
  }
  fetch_ = std::move(job);
  return resume(out);
}

ImapSession::Result ImapSession::resume(std::string& out) {
  if (!fetch_) return {};
  FetchJob& job = *fetch_;
  using Item = FetchJob::Item;
  const size_t start_size = out.size();
  // Messages the client reads become \Seen, in one call per piece.
  std::vector<size_t> piece;
  for (size_t k = job.next; k < job.indices.size() && piece.size() < 500; ++k) piece.push_back(job.indices[k]);
  if (job.sets_seen) mark_seen(piece);
  // INTERNALDATE: the delivery time (the creation time of messages never delivered), read for
  // the piece at once.
  std::map<uint32_t, int64_t> internal_dates;
  if (std::any_of(job.items.begin(), job.items.end(), [](const Item& it) { return it.kind == Item::InternalDate; })) {
    std::vector<store::MessageId> ids;
    for (size_t i : piece)
      if (i < msgs_.size()) ids.push_back(msgs_[i].uid);
    for (const PropertyBag& row : mailbox_->message_rows(*selected_, ids, {tags::PidTagMid, tags::PidTagMessageDeliveryTime, tags::PidTagCreationTime}))
      if (auto mid = row.get_i64(tags::PidTagMid))
        internal_dates[uint32_t(ObjectId::from_u64(uint64_t(*mid)).gc)] =
            row.get_i64(tags::PidTagMessageDeliveryTime).value_or(row.get_i64(tags::PidTagCreationTime).value_or(0));
  }
  // ENVELOPE: as worked out when the message was stored, read for the piece at once.
  std::map<uint32_t, std::string> envelopes;
  if (job.envelope) {
    std::vector<store::MessageId> ids;
    for (size_t i : piece)
      if (i < msgs_.size()) ids.push_back(msgs_[i].uid);
    for (PropertyBag& row : mailbox_->message_rows(*selected_, ids, {tags::PidTagMid, tags_->envelope}))
      if (auto mid = row.get_i64(tags::PidTagMid))
        if (auto e = row.get_string(tags_->envelope)) envelopes[uint32_t(ObjectId::from_u64(uint64_t(*mid)).gc)] = std::move(*e);
  }
  for (size_t i : piece) {
    ++job.next;
    if (i >= msgs_.size()) continue;
    const Msg& m = msgs_[i];
    std::string items;
    const std::string* text = nullptr;
    const int64_t internal = internal_dates.count(m.uid) ? internal_dates[m.uid] : 0;
    const auto kept_envelope = envelopes.find(m.uid);
    if (job.needs_text || (job.envelope && kept_envelope == envelopes.end())) {
      try {
        text = &mime_of(m.uid);
      } catch (const MapiError& e) {
        if (e.code() == ErrorCode::MAPI_E_NOT_FOUND) continue;  // expunged by another door meanwhile: its EXPUNGE follows
        throw;
      }
    }
    std::optional<MimeEntity> structure, header;
    auto parsed = [&]() -> const MimeEntity& {
      if (!structure) structure = parse_mime_structure(*text);
      return *structure;
    };
    auto top_header = [&]() -> const MimeEntity& {  // ENVELOPE reads the top header only
      if (structure) return *structure;
      if (!header) header = parse_mime_header(*text);
      return *header;
    };
    bool flags_shown = false;
    for (const Item& it : job.items) {
      if (!items.empty()) items += ' ';
      switch (it.kind) {
        case Item::Uid: items += "UID " + std::to_string(m.uid); break;
        case Item::ModSeq: items += "MODSEQ (" + std::to_string(std::max<int64_t>(m.modseq, 1)) + ")"; break;
        case Item::Flags:
          items += "FLAGS (" + flags_text(m) + ")";
          flags_shown = true;
          break;
        case Item::InternalDate: items += "INTERNALDATE " + internal_date(internal); break;
        case Item::Size: items += "RFC822.SIZE " + std::to_string(text->size()); break;
        case Item::Envelope:
          items += "ENVELOPE ";
          if (kept_envelope != envelopes.end()) items += kept_envelope->second;
          else items += imap_envelope(*text, top_header(), utf8_);
          break;
        case Item::Body: items += "BODY " + imap_body_structure(*text, parsed(), false, utf8_); break;
        case Item::BodyStructure: items += "BODYSTRUCTURE " + imap_body_structure(*text, parsed(), true, utf8_); break;
        case Item::Section:
        case Item::Binary:
        case Item::BinarySize: {
          std::string error;
          std::optional<std::string> value = it.kind == Item::Section ? imap_section(*text, parsed(), it.section, error)
                                                                      : imap_binary_section(*text, parsed(), it.section, error);
          if (!error.empty()) {
            fetch_.reset();
            if (error == "UNKNOWN-CTE") out += job.tag + " NO [UNKNOWN-CTE] the part's transfer encoding is unknown\r\n";
            else out += job.tag + " BAD " + error + "\r\n";
            return {};
          }
          if (it.kind == Item::BinarySize) {
            items += it.label + " " + std::to_string(value ? value->size() : 0);
            break;
          }
          if (value && it.partial) {
            const auto [o, n] = *it.partial;
            *value = o >= value->size() ? std::string() : value->substr(size_t(o), size_t(std::min<uint64_t>(n, value->size() - o)));
          }
          items += it.label + " ";
          if (!value) items += "NIL";
          else if (it.kind == Item::Binary && value->find('\0') != std::string::npos) items += "~{" + std::to_string(value->size()) + "}\r\n" + *value;
          else items += "{" + std::to_string(value->size()) + "}\r\n" + *value;
          break;
        }
      }
    }
    if (job.sets_seen && !flags_shown) items += " FLAGS (" + flags_text(m) + ")";
    out += "* " + std::to_string(i + 1) + " FETCH (" + items + ")\r\n";
    if (out.size() - start_size > kFetchBatchBytes) break;
  }
  if (job.next < job.indices.size()) return {Result::More};
  const std::string tag = job.tag;
  const bool uid = job.uid;
  fetch_.reset();
  if (uid) refresh(out, true);
  out += tag + " OK " + std::string(uid ? "UID FETCH" : "FETCH") + " completed\r\n";
  return {};
}

// ---- STORE

void ImapSession::cmd_store(const ImapCommand& c, bool uid, std::string& out) {
  if (c.args.size() < 3) {
    out += c.tag + " BAD STORE takes a sequence set, an item and flags\r\n";
    return;
  }
  if (read_only_) {
    out += c.tag + " NO [READ-ONLY] the mailbox is selected read-only\r\n";
    return;
  }
  refresh(out, uid);
  auto set = parse_sequence_set(c.args[0].text, uid ? (msgs_.empty() ? 0 : msgs_.back().uid) : uint32_t(msgs_.size()));
  if (!set) {
    out += c.tag + " BAD not a sequence set\r\n";
    return;
  }
  // RFC 7162: STORE set (UNCHANGEDSINCE modseq) item flags
  size_t at = 1;
  std::optional<int64_t> unchanged_since;
  if (c.args[1].kind == ImapArg::Kind::List) {
    const auto& mods = c.args[1].list;
    if (mods.size() != 2 || !mods[0].is_atom("UNCHANGEDSINCE") || mods[1].text.empty() || mods[1].text.size() > 18 ||
        mods[1].text.find_first_not_of("0123456789") != std::string::npos || c.args.size() < 4) {
      out += c.tag + " BAD the STORE modifier is (UNCHANGEDSINCE modseq)\r\n";
      return;
    }
    unchanged_since = int64_t(std::stoull(mods[1].text));
    enable_condstore();
    at = 2;
  }
  std::string item = upper(c.args[at].text);
  const bool silent = item.ends_with(".SILENT");
  if (silent) item.resize(item.size() - 7);
  int mode = item == "FLAGS" ? 0 : item == "+FLAGS" ? 1 : item == "-FLAGS" ? -1 : 2;
  if (mode == 2 || c.args[at].kind != ImapArg::Kind::Atom) {
    out += c.tag + " BAD STORE takes FLAGS, +FLAGS or -FLAGS (with .SILENT)\r\n";
    return;
  }
  std::vector<const ImapArg*> flag_args;
  for (size_t k = at + 1; k < c.args.size(); ++k) {
    if (c.args[k].kind == ImapArg::Kind::List) {
      for (const auto& f : c.args[k].list) flag_args.push_back(&f);
    } else {
      flag_args.push_back(&c.args[k]);
    }
  }
  uint8_t bits = 0;
  std::vector<std::string> keywords;
  for (const ImapArg* f : flag_args) {
    if (f->kind != ImapArg::Kind::Atom) {
      out += c.tag + " BAD a flag is an atom\r\n";
      return;
    }
    const std::string u = upper(f->text);
    if (u == "\\SEEN") bits |= Seen;
    else if (u == "\\ANSWERED") bits |= Answered;
    else if (u == "\\FLAGGED") bits |= Flagged;
    else if (u == "\\DELETED") bits |= Deleted;
    else if (u == "\\DRAFT") {  // set at APPEND only: MAPI fixes MSGFLAG_UNSENT at the first save
    } else if (u == "$FORWARDED") bits |= Forwarded;
    else if (u == "\\RECENT" || (!u.empty() && u[0] == '\\')) {
      out += c.tag + " BAD " + f->text.substr(0, 40) + " cannot be stored\r\n";
      return;
    } else if (std::find(keywords.begin(), keywords.end(), f->text) == keywords.end()) {
      keywords.push_back(f->text);
    }
  }
  std::vector<size_t> indices = resolve_set(*set, uid);
  std::vector<uint32_t> modified;  // UNCHANGEDSINCE failed for these (UIDs or sequence numbers)
  if (unchanged_since) {
    std::erase_if(indices, [&](size_t i) {
      if (msgs_[i].modseq <= *unchanged_since) return false;
      modified.push_back(uid ? msgs_[i].uid : uint32_t(i + 1));
      return true;
    });
  }
  std::vector<store::MessageId> read, unread;
  struct Write {
    size_t index;
    Msg after;
  };
  std::vector<Write> writes;
  std::set<size_t> touched;
  for (size_t i : indices) {
    const Msg& before = msgs_[i];
    Msg after = before;
    if (mode == 0) {
      after.flags = uint8_t((before.flags & Draft) | bits);
      after.keywords = keywords;
    } else if (mode == 1) {
      after.flags |= bits;
      for (const auto& k : keywords)
        if (std::find(after.keywords.begin(), after.keywords.end(), k) == after.keywords.end()) after.keywords.push_back(k);
    } else {
      after.flags &= uint8_t(~bits);
      std::erase_if(after.keywords, [&](const std::string& k) { return std::find(keywords.begin(), keywords.end(), k) != keywords.end(); });
    }
    if ((after.flags & Seen) != (before.flags & Seen)) {
      ((after.flags & Seen) ? read : unread).push_back(before.uid);
      touched.insert(i);
    }
    const uint8_t other = Answered | Flagged | Deleted | Forwarded;
    if ((after.flags & other) != (before.flags & other) || after.keywords != before.keywords) {
      writes.push_back({i, after});
      touched.insert(i);
    }
    else msgs_[i].flags = after.flags;
  }
  {
    auto batch = writes.size() > 1 ? mailbox_->begin_batch() : nullptr;
    if (!read.empty()) mailbox_->set_read_flag(read, true);
    if (!unread.empty()) mailbox_->set_read_flag(unread, false);
    for (const Write& w : writes) {
      const Msg& before = msgs_[w.index];
      const Msg& a = w.after;
      store::MessageChanges ch;
      auto& p = ch.props;
      if ((a.flags & Flagged) != (before.flags & Flagged)) {
        if (a.flags & Flagged) {
          p.set.push_back(PropValue::i32(kFlagStatus, kFlagged));
          p.set.push_back(PropValue::i32(kFollowupIcon, kRedFlag));
        } else {
          p.removed.push_back(kFlagStatus);
          p.removed.push_back(kFollowupIcon);
        }
      }
      const uint8_t verbs = Answered | Forwarded;
      if ((a.flags & verbs) != (before.flags & verbs)) {
        if (a.flags & Forwarded && !(before.flags & Forwarded)) {
          p.set.push_back(PropValue::i32(kLastVerb, kVerbForward));
          p.set.push_back(PropValue::i32(kIconIndex, kIconForwarded));
        } else if (a.flags & Answered) {
          p.set.push_back(PropValue::i32(kLastVerb, kVerbReply));
          p.set.push_back(PropValue::i32(kIconIndex, kIconReplied));
        } else if (a.flags & Forwarded) {
          p.set.push_back(PropValue::i32(kLastVerb, kVerbForward));
          p.set.push_back(PropValue::i32(kIconIndex, kIconForwarded));
        } else {
          p.removed.push_back(kLastVerb);
          p.removed.push_back(kIconIndex);
        }
      }
      if ((a.flags & Deleted) != (before.flags & Deleted)) {
        if (a.flags & Deleted) p.set.push_back(PropValue::boolean(tags_->deleted, true));
        else p.removed.push_back(tags_->deleted);
      }
      if (a.keywords != before.keywords) {
        if (a.keywords.empty()) p.removed.push_back(tags_->keywords);
        else p.set.push_back(PropValue(tags_->keywords, a.keywords));
      }
      mailbox_->write_message(*selected_, before.uid, false, ch);
      msgs_[w.index].flags = a.flags;
      msgs_[w.index].keywords = a.keywords;
    }
    // MAPI keeps one last verb: a message both answered and forwarded shows the later one.
    for (const Write& w : writes) {
      Msg& m = msgs_[w.index];
      if ((m.flags & Answered) && (m.flags & Forwarded)) m.flags &= uint8_t(~Answered);
    }
    if (batch) batch->commit();
  }
  // The journal rows of these writes find the cache as the store is now: refresh() reports
  // nothing for them (but takes their change numbers as MODSEQ), only what other doors changed
  // meanwhile.
  refresh(out, false);
  // Sequence numbers held still (no expunge above): `indices` name the same messages.
  if (!silent || condstore_)
    for (size_t i : indices)
      if (!silent || touched.count(i))
        out += "* " + std::to_string(i + 1) + " FETCH (" + (uid ? "UID " + std::to_string(msgs_[i].uid) + " " : "") + "FLAGS (" +
               flags_text(msgs_[i]) + ")" + modseq_item(msgs_[i]) + ")\r\n";
  if (uid) refresh(out, true);
  if (!modified.empty()) {
    std::sort(modified.begin(), modified.end());
    out += c.tag + " OK [MODIFIED " + format_sequence_set(modified) + "] conditional STORE failed for some\r\n";
    return;
  }
  out += c.tag + " OK " + c.name + " completed\r\n";
}

// ---- COPY, MOVE, EXPUNGE

void ImapSession::cmd_copy(const ImapCommand& c, bool uid, bool move, std::string& out) {
  if (c.args.size() != 2 || !c.args[1].is_astring()) {
    out += c.tag + " BAD " + c.name + " takes a sequence set and a mailbox\r\n";
    return;
  }
  if (move && read_only_) {
    out += c.tag + " NO [READ-ONLY] the mailbox is selected read-only\r\n";
    return;
  }
  if (!uid) refresh(out, false);
  auto set = parse_sequence_set(c.args[0].text, uid ? (msgs_.empty() ? 0 : msgs_.back().uid) : uint32_t(msgs_.size()));
  if (!set) {
    out += c.tag + " BAD not a sequence set\r\n";
    return;
  }
  const std::string name = decode_name(c.args[1]);
  auto to = folder_of(name);
  if (!to) {
    out += c.tag + " NO [TRYCREATE] no mailbox " + name + "\r\n";
    return;
  }
  const std::vector<size_t> indices = resolve_set(*set, uid);
  if (indices.empty()) {
    out += c.tag + " OK " + c.name + " completed (nothing to do)\r\n";
    return;
  }
  std::vector<store::MessageId> ids;
  std::vector<uint32_t> src;
  for (size_t i : indices) {
    ids.push_back(msgs_[i].uid);
    src.push_back(msgs_[i].uid);
  }
  const std::vector<store::MessageId> made = move ? mailbox_->move_messages(ids, *to) : mailbox_->copy_messages(ids, *to);
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  for (size_t k = 0; k < made.size() && k < src.size(); ++k) pairs.emplace_back(src[k], uint32_t(made[k]));
  std::sort(pairs.begin(), pairs.end());
  std::string src_set, dst_set;
  for (const auto& [s, d] : pairs) {
    src_set += (src_set.empty() ? "" : ",") + std::to_string(s);
    dst_set += (dst_set.empty() ? "" : ",") + std::to_string(d);
  }
  const std::string copyuid = "[COPYUID " + std::to_string(uint32_t(*to)) + " " + src_set + " " + dst_set + "]";
  if (!move) {
    if (uid) refresh(out, true);
    out += c.tag + " OK " + copyuid + " " + c.name + " completed\r\n";
    return;
  }
  out += "* OK " + copyuid + " moved\r\n";
  if (*to != *selected_) report_expunged(indices, out);
  refresh(out, true);
  out += c.tag + " OK " + c.name + " completed\r\n";
}

void ImapSession::cmd_expunge(const ImapCommand& c, const std::optional<ImapSequenceSet>& uids, std::string& out) {
  if (read_only_) {
    out += c.tag + " NO [READ-ONLY] the mailbox is selected read-only\r\n";
    return;
  }
  refresh(out, true);
  std::vector<size_t> gone;
  for (size_t i = 0; i < msgs_.size(); ++i)
    if ((msgs_[i].flags & Deleted) && (!uids || uids->contains(msgs_[i].uid))) gone.push_back(i);
  std::vector<store::MessageId> ids;
  for (size_t i : gone) ids.push_back(msgs_[i].uid);
  if (!ids.empty()) mailbox_->delete_messages(ids, store::DeleteMode::Hard);
  report_expunged(gone, out);
  refresh(out, true);
  out += c.tag + " OK " + c.name + " completed\r\n";
}

// ---- APPEND

void ImapSession::cmd_append(const ImapCommand& c, std::string& out) {
  // APPEND mailbox [(flags)] [date-time] literal
  if (c.args.size() < 2 || c.args.size() > 4 || !c.args[0].is_astring()) {
    out += c.tag + " BAD APPEND takes a mailbox, optional flags and date, and the message\r\n";
    return;
  }
  const ImapArg& message = c.args.back();
  if (message.kind != ImapArg::Kind::String) {
    out += c.tag + " BAD the message of an APPEND is a literal\r\n";
    return;
  }
  uint8_t flags = 0;
  std::vector<std::string> keywords;
  std::optional<int64_t> date;
  for (size_t k = 1; k + 1 < c.args.size(); ++k) {
    const ImapArg& a = c.args[k];
    if (a.kind == ImapArg::Kind::List) {
      for (const auto& f : a.list) {
        const std::string u = upper(f.text);
        if (u == "\\SEEN") flags |= Seen;
        else if (u == "\\ANSWERED") flags |= Answered;
        else if (u == "\\FLAGGED") flags |= Flagged;
        else if (u == "\\DELETED") flags |= Deleted;
        else if (u == "\\DRAFT") flags |= Draft;
        else if (u == "$FORWARDED") flags |= Forwarded;
        else if (!u.empty() && u[0] != '\\') keywords.push_back(f.text);
      }
    } else if (a.kind == ImapArg::Kind::String) {
      date = parse_date_time(a.text);
      if (!date) {
        out += c.tag + " BAD the date is DD-Mon-YYYY HH:MM:SS +ZZZZ\r\n";
        return;
      }
    } else {
      out += c.tag + " BAD unexpected " + a.text.substr(0, 40) + " in APPEND\r\n";
      return;
    }
  }
  const std::string name = decode_name(c.args[0]);
  auto folder = folder_of(name);
  if (!folder) {
    out += c.tag + " NO [TRYCREATE] no mailbox " + name + "\r\n";
    return;
  }
  if (message.text.empty()) {
    out += c.tag + " NO an empty message\r\n";
    return;
  }
  NamedPropertyMap names;
  Message parsed;
  try {
    parsed = formats::parse_mime(ByteView(reinterpret_cast<const uint8_t*>(message.text.data()), message.text.size()), names);
  } catch (const MapiError& e) {
    out += c.tag + " NO [PARSE] the message is not MIME: " + std::string(e.what()).substr(0, 200) + "\r\n";
    return;
  }
  Message m = store::to_mailbox_ids(parsed, names, *mailbox_);
  PropertyBag& p = m.props;
  const int64_t now = to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
  p.set(PropValue::time(tags::PidTagMessageDeliveryTime, date.value_or(now)));
  int32_t mf = p.get_i32(tags::PidTagMessageFlags).value_or(0) & ~(msgflag::Read | msgflag::Unsent);
  if (flags & Seen) mf |= msgflag::Read | msgflag::EverRead;
  if (flags & Draft) mf |= msgflag::Unsent;
  p.set(PropValue::i32(tags::PidTagMessageFlags, mf));
  if (flags & Flagged) {
    p.set(PropValue::i32(kFlagStatus, kFlagged));
    p.set(PropValue::i32(kFollowupIcon, kRedFlag));
  }
  if (flags & Forwarded) {
    p.set(PropValue::i32(kLastVerb, kVerbForward));
    p.set(PropValue::i32(kIconIndex, kIconForwarded));
  } else if (flags & Answered) {
    p.set(PropValue::i32(kLastVerb, kVerbReply));
    p.set(PropValue::i32(kIconIndex, kIconReplied));
  }
  if (flags & Deleted) p.set(PropValue::boolean(tags_->deleted, true));
  if (!keywords.empty()) p.set(PropValue(tags_->keywords, keywords));
  p.set(PropValue::binary(tags_->internet_message, Bytes(message.text.begin(), message.text.end())));
  if (auto envelope = envelope_to_keep(message.text)) p.set(PropValue::string(tags_->envelope, *envelope));
  const store::MessageId id = mailbox_->save_message(*folder, m);
  if (selected_) refresh(out, true);
  out += c.tag + " OK [APPENDUID " + std::to_string(uint32_t(*folder)) + " " + std::to_string(id) + "] APPEND completed\r\n";
}

// ---- SEARCH

namespace {

struct SearchContext {
  store::Mailbox& mb;
  store::FolderId folder;
  const std::vector<ImapSession::Msg>& msgs;
  std::function<const std::string&(uint32_t)> mime;
  // A time property of every message (in msgs order), the creation time where it has none.
  std::function<std::vector<int64_t>(PropTag)> times;
};

using Bits = std::vector<char>;

class SearchParser {
 public:
  SearchParser(const std::vector<ImapArg>& args, size_t start, SearchContext& cx) : args_(args), i_(start), cx_(cx) {}

  Bits all() {
    Bits r(cx_.msgs.size(), 1);
    if (i_ >= args_.size()) throw std::runtime_error("a search key is expected");
    while (i_ < args_.size()) r = and_bits(r, key(0));
    return r;
  }

 private:
  static Bits and_bits(Bits a, const Bits& b) {
    for (size_t k = 0; k < a.size(); ++k) a[k] = a[k] && b[k];
    return a;
  }
  const ImapArg& take() {
    if (i_ >= args_.size()) throw std::runtime_error("the search program ends early");
    return args_[i_++];
  }
  std::string take_string() {
    const ImapArg& a = take();
    if (a.kind == ImapArg::Kind::List) throw std::runtime_error("a string is expected");
    return a.text;
  }
  Bits by_flag(uint8_t flag, bool set) {
    Bits r(cx_.msgs.size());
    for (size_t k = 0; k < r.size(); ++k) r[k] = bool(cx_.msgs[k].flags & flag) == set;
    return r;
  }
  Bits by_ids(const Restriction& res) {
    auto table = cx_.mb.contents_table(cx_.folder);
    table->set_columns({tags::PidTagMid});
    table->restrict(res);
    std::set<uint32_t> hit;
    for (const auto& row : table->query_rows(UINT32_MAX)) hit.insert(uint32_t(ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc));
    Bits r(cx_.msgs.size());
    for (size_t k = 0; k < r.size(); ++k) r[k] = hit.count(cx_.msgs[k].uid) > 0;
    return r;
  }
  static Restriction contains(PropTag tag, const std::string& s) {
    return Restriction::Content{fuzzy::Substring | fuzzy::IgnoreCase, tag, PropValue::string(tag, s)};
  }
  static Restriction any_of(std::vector<Restriction> rs) {
    Restriction::Or o;
    o.children = std::move(rs);
    return Restriction(std::move(o));
  }
  Restriction recipient(int32_t type, const std::string& s) {
    Restriction::And a;
    a.children.push_back(Restriction::Property{RelOp::Eq, tags::PidTagRecipientType, PropValue::i32(tags::PidTagRecipientType, type)});
    a.children.push_back(any_of({contains(tags::PidTagDisplayName, s), contains(tags::PidTagEmailAddress, s), contains(tags::PidTagSmtpAddress, s)}));
    return Restriction::Sub{tags::PidTagMessageRecipients, std::make_unique<Restriction>(Restriction(std::move(a)))};
  }
  Bits by_text(const std::function<bool(std::string_view)>& pred) {
    Bits r(cx_.msgs.size());
    for (size_t k = 0; k < r.size(); ++k) r[k] = pred(cx_.mime(cx_.msgs[k].uid));
    return r;
  }
  Bits by_date(const std::string& key, int64_t day) {
    Bits r(cx_.msgs.size());
    const bool sent = key.starts_with("SENT");
    // SENT*: the Date header's day, which the store keeps as the submit time (in UTC).
    const std::vector<int64_t> times = cx_.times(sent ? tags::PidTagClientSubmitTime : tags::PidTagMessageDeliveryTime);
    const std::string op = sent ? key.substr(4) : key;
    for (size_t k = 0; k < r.size(); ++k) {
      const int64_t t = times[k];
      const int64_t day_of = t - (t % kDay);
      r[k] = op == "BEFORE" ? day_of < day : op == "ON" ? day_of == day : day_of >= day;
    }
    return r;
  }

  Bits key(int depth) {
    if (depth > 32) throw std::runtime_error("the search program nests too deep");
    const ImapArg& a = take();
    if (a.kind == ImapArg::Kind::List) {
      SearchParser inner(a.list, 0, cx_);
      Bits r = inner.all();
      used_modseq = used_modseq || inner.used_modseq;
      return r;
    }
    const std::string k = upper(a.text);
    if (k == "ALL") return Bits(cx_.msgs.size(), 1);
    if (k == "SEEN") return by_flag(ImapSession::Seen, true);
    if (k == "UNSEEN") return by_flag(ImapSession::Seen, false);
    if (k == "ANSWERED") return by_flag(ImapSession::Answered, true);
    if (k == "UNANSWERED") return by_flag(ImapSession::Answered, false);
    if (k == "FLAGGED") return by_flag(ImapSession::Flagged, true);
    if (k == "UNFLAGGED") return by_flag(ImapSession::Flagged, false);
    if (k == "DELETED") return by_flag(ImapSession::Deleted, true);
    if (k == "UNDELETED") return by_flag(ImapSession::Deleted, false);
    if (k == "DRAFT") return by_flag(ImapSession::Draft, true);
    if (k == "UNDRAFT") return by_flag(ImapSession::Draft, false);
    if (k == "RECENT" || k == "NEW") return Bits(cx_.msgs.size(), 0);
    if (k == "OLD") return Bits(cx_.msgs.size(), 1);
    if (k == "KEYWORD" || k == "UNKEYWORD") {
      const std::string kw = take_string();
      Bits r(cx_.msgs.size());
      for (size_t j = 0; j < r.size(); ++j) {
        const auto& m = cx_.msgs[j];
        bool has = std::find(m.keywords.begin(), m.keywords.end(), kw) != m.keywords.end();
        if (iequal(kw, "$Forwarded")) has = m.flags & ImapSession::Forwarded;
        r[j] = has == (k == "KEYWORD");
      }
      return r;
    }
    if (k == "NOT") {
      Bits r = key(depth + 1);
      for (auto& b : r) b = !b;
      return r;
    }
    if (k == "OR") {
      Bits x = key(depth + 1), y = key(depth + 1);
      for (size_t j = 0; j < x.size(); ++j) x[j] = x[j] || y[j];
      return x;
    }
    if (k == "SUBJECT") return by_ids(contains(tags::PidTagSubject, take_string()));
    if (k == "BODY") return by_ids(contains(tags::PidTagBody, take_string()));
    if (k == "FROM") {
      const std::string s = take_string();
      return by_ids(any_of({contains(tags::PidTagSenderName, s), contains(tags::PidTagSenderEmailAddress, s),
                            contains(tags::PidTagSenderSmtpAddress, s), contains(tags::PidTagSentRepresentingName, s),
                            contains(tags::PidTagSentRepresentingEmailAddress, s)}));
    }
    if (k == "TO") return by_ids(recipient(1, take_string()));
    if (k == "CC") return by_ids(recipient(2, take_string()));
    if (k == "BCC") return by_ids(recipient(3, take_string()));
    if (k == "TEXT") {
      const std::string s = ascii_lower(take_string());
      return by_text([&](std::string_view t) { return ascii_lower(t).find(s) != std::string::npos; });
    }
    if (k == "HEADER") {
      const std::string field = take_string();
      const std::string s = ascii_lower(take_string());
      return by_text([&](std::string_view t) {
        MimeEntity e = parse_mime_structure(t);
        auto v = mime_header(t, e, field);
        return v && ascii_lower(*v).find(s) != std::string::npos;
      });
    }
    if (k == "LARGER" || k == "SMALLER") {
      const std::string n = take_string();
      if (n.empty() || n.size() > 19 || n.find_first_not_of("0123456789") != std::string::npos) throw std::runtime_error(k + " takes a number");
      const uint64_t size = std::stoull(n);
      return by_text([&](std::string_view t) { return k == "LARGER" ? t.size() > size : t.size() < size; });
    }
    if (k == "BEFORE" || k == "ON" || k == "SINCE" || k == "SENTBEFORE" || k == "SENTON" || k == "SENTSINCE") {
      auto day = parse_date(take_string());
      if (!day) throw std::runtime_error("a date is D-Mon-YYYY");
      return by_date(k, *day);
    }
    if (k == "MODSEQ") {  // RFC 7162 3.1.5: MODSEQ [entry-name entry-type] mod-sequence
      std::string v = take_string();
      if (!v.empty() && v.find_first_not_of("0123456789") != std::string::npos) {
        take_string();  // the entry type: all flags are kept alike here
        v = take_string();
      }
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) throw std::runtime_error("MODSEQ takes a number");
      const int64_t since = int64_t(std::stoull(v));
      used_modseq = true;
      Bits r(cx_.msgs.size());
      for (size_t j = 0; j < r.size(); ++j) r[j] = cx_.msgs[j].modseq >= since;
      return r;
    }
    if (k == "UID") {
      auto set = parse_sequence_set(take_string(), cx_.msgs.empty() ? 0 : cx_.msgs.back().uid);
      if (!set) throw std::runtime_error("UID takes a UID set");
      Bits r(cx_.msgs.size());
      for (size_t j = 0; j < r.size(); ++j) r[j] = set->contains(cx_.msgs[j].uid);
      return r;
    }
    if (auto set = parse_sequence_set(a.text, uint32_t(cx_.msgs.size()))) {
      Bits r(cx_.msgs.size());
      for (size_t j = 0; j < r.size(); ++j) r[j] = set->contains(uint32_t(j + 1));
      return r;
    }
    throw std::runtime_error("unknown search key " + a.text.substr(0, 40));
  }

  const std::vector<ImapArg>& args_;
  size_t i_;
  SearchContext& cx_;

 public:
  bool used_modseq = false;
};

}  // namespace

void ImapSession::cmd_search(const ImapCommand& c, bool uid, std::string& out) {
  if (!uid) refresh(out, false);
  size_t start = 0;
  std::vector<std::string> returns;
  bool esearch = rev2_;
  if (start + 1 < c.args.size() && c.args[start].is_atom("RETURN") && c.args[start + 1].kind == ImapArg::Kind::List) {
    esearch = true;
    for (const auto& r : c.args[start + 1].list) returns.push_back(upper(r.text));
    start += 2;
  }
  if (start + 1 < c.args.size() && c.args[start].is_atom("CHARSET")) {
    const std::string cs = upper(c.args[start + 1].text);
    if (cs != "UTF-8" && cs != "US-ASCII") {
      out += c.tag + " NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset\r\n";
      return;
    }
    start += 2;
  }
  SearchContext cx{*mailbox_, *selected_, msgs_, [this](uint32_t u) -> const std::string& { return mime_of(u); },
                   [this](PropTag tag) {
                     std::vector<store::MessageId> ids;
                     for (const Msg& m : msgs_) ids.push_back(m.uid);
                     std::vector<int64_t> out;
                     for (const PropertyBag& row : mailbox_->message_rows(*selected_, ids, {tag, tags::PidTagCreationTime}))
                       out.push_back(row.get_i64(tag).value_or(row.get_i64(tags::PidTagCreationTime).value_or(0)));
                     return out;
                   }};
  // A MODSEQ key needs every message's MODSEQ before the search runs.
  std::function<bool(const std::vector<ImapArg>&)> mentions_modseq = [&](const std::vector<ImapArg>& args) {
    for (const auto& a : args)
      if (a.is_atom("MODSEQ") || (a.kind == ImapArg::Kind::List && mentions_modseq(a.list))) return true;
    return false;
  };
  if (mentions_modseq(c.args)) enable_condstore();
  Bits hits;
  bool used_modseq = false;
  try {
    SearchParser parser(c.args, start, cx);
    hits = parser.all();
    used_modseq = parser.used_modseq;
  } catch (const std::runtime_error& e) {
    out += c.tag + " BAD " + std::string(e.what()) + "\r\n";
    return;
  }
  std::vector<uint32_t> found;
  int64_t top_modseq = 0;  // RFC 7162 3.1.5: the highest MODSEQ of what was found
  for (size_t k = 0; k < hits.size(); ++k)
    if (hits[k]) {
      found.push_back(uid ? msgs_[k].uid : uint32_t(k + 1));
      top_modseq = std::max(top_modseq, msgs_[k].modseq);
    }
  if (used_modseq) enable_condstore();
  if (esearch) {
    if (returns.empty()) returns = {"ALL"};
    std::string r = "* ESEARCH (TAG " + imap_string(c.tag) + ")" + (uid ? " UID" : "");
    for (const auto& want : returns) {
      if (found.empty() && want != "COUNT") continue;
      if (want == "MIN") r += " MIN " + std::to_string(found.front());
      else if (want == "MAX") r += " MAX " + std::to_string(found.back());
      else if (want == "COUNT") r += " COUNT " + std::to_string(found.size());
      else if (want == "ALL") r += " ALL " + format_sequence_set(found);
    }
    if (used_modseq && !found.empty()) r += " MODSEQ " + std::to_string(top_modseq);
    out += r + "\r\n";
  } else {
    std::string r = "* SEARCH";
    for (uint32_t n : found) r += " " + std::to_string(n);
    if (used_modseq && !found.empty()) r += " (MODSEQ " + std::to_string(top_modseq) + ")";
    out += r + "\r\n";
  }
  if (uid) refresh(out, true);
  out += c.tag + " OK " + c.name + " completed\r\n";
}

// ---- IDLE

void ImapSession::idle_poll(std::string& out) {
  try {
    if (selected_) refresh(out, true);
  } catch (const MapiError& e) {
    spdlog::warn("imap {}: {}: reading changes: {}", remote_, user_address_, e.what());
  }
}

ImapSession::Result ImapSession::idle_done(const std::string& line, std::string& out) {
  const std::string tag = std::move(idle_tag_);
  idle_tag_.clear();
  if (!iequal(line, "DONE")) {
    out += tag + " BAD IDLE ends with DONE\r\n";
    return {};
  }
  idle_poll(out);
  out += tag + " OK IDLE terminated\r\n";
  return {};
}

}  // namespace openmapi::server
