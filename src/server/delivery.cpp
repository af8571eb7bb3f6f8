#include "server/delivery.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <map>
#include <sys/stat.h>

#include "core/entryid.h"
#include "core/error.h"
#include "core/filetime.h"
#include "core/restriction.h"
#include "core/unicode.h"
#include "formats/mime/mime.h"
#include "server/imap_mime.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/named_ids.h"
#include "store/store.h"

namespace openmapi::server {

namespace {

std::string delivery_id() {
  uint8_t b[6];
  RAND_bytes(b, sizeof b);
  return to_hex(ByteView(b, sizeof b));
}

// The receive folder for `message_class`: the longest configured class that is it or a prefix of
// it at a '.' (MS-OXCSTOR 2.2.2.1.1.x, as RopGetReceiveFolder chooses), else the default ("").
store::FolderId receive_folder(store::Mailbox& mb, const std::string& message_class) {
  const std::string cls = ascii_lower(message_class);
  std::optional<store::FolderId> best;
  size_t best_len = 0;
  for (const auto& [c, folder] : mb.receive_folders()) {
    const std::string k = ascii_lower(c);
    const bool match = k.empty() || cls == k || (cls.size() > k.size() && cls.compare(0, k.size(), k) == 0 && cls[k.size()] == '.');
    if (match && (!best || k.size() > best_len)) best = folder, best_len = k.size();
  }
  return best ? *best : mb.special_folder(store::SpecialFolder::Inbox);
}

// This thread's open mailboxes, by file: a delivery reuses the connection (its prepared
// statements and loaded schema: opening one per message was a third of the time) while the file
// is the same one (device and inode), so a removed or replaced mailbox is opened anew. At most 64
// are kept; a call that fails for another reason than a full mailbox drops the connection.
class OpenMailboxes {
 public:
  store::Mailbox& get(const std::string& path) {
    struct stat st {};
    const bool there = ::stat(path.c_str(), &st) == 0;
    auto it = open_.find(path);
    if (it != open_.end() && there && it->second.dev == st.st_dev && it->second.ino == st.st_ino) return *it->second.mailbox;
    if (it != open_.end()) open_.erase(it);
    if (open_.size() >= 64) open_.clear();
    auto mb = store::open_sqlite_mailbox(path);  // MAPI_E_NOT_FOUND when it is gone
    Entry& e = open_[path];
    e.dev = st.st_dev;
    e.ino = st.st_ino;
    e.mailbox = std::move(mb);
    return *e.mailbox;
  }
  void drop(const std::string& path) { open_.erase(path); }

 private:
  struct Entry {
    dev_t dev = 0;
    ino_t ino = 0;
    std::unique_ptr<store::Mailbox> mailbox;
  };
  std::map<std::string, Entry> open_;
};

OpenMailboxes& thread_mailboxes() {
  thread_local OpenMailboxes open;
  return open;
}

}  // namespace

std::string trace_headers(const SmtpEnvelope& env, SmtpMode mode, const std::string& host, const std::string& id, int64_t time) {
  // RFC 3848: ESMTP, ESMTPS (TLS), ESMTPA (authenticated), ESMTPSA; LMTP likewise.
  std::string with = mode == SmtpMode::Lmtp ? "LMTP" : "ESMTP";
  if (env.tls) with += "S";
  if (!env.user.empty()) with += "A";
  std::tm tm{};
  const std::time_t t = std::time_t(time);
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string out = "Return-Path: <" + env.from + ">\r\n";
  out += "Received: from " + env.helo + " ([" + env.remote + "])\r\n\tby " + host + " (OpenMAPI) with " + with + " id " + id;
  if (env.recipients.size() == 1) out += "\r\n\tfor <" + env.recipients.front().address + ">";
  out += "; " + std::string(date) + "\r\n";
  return out;
}

LocalDelivery::LocalDelivery(std::string data_dir, std::string host_name) : data_dir_(std::move(data_dir)), host_(std::move(host_name)) {}

std::optional<SmtpReply> LocalDelivery::check_recipient(const std::string& address) const {
  try {
    if (thread_user_directory(data_dir_).find(address)) return std::nullopt;
  } catch (const std::exception& e) {
    spdlog::error("smtp: looking up recipient {}: {}", address, e.what());
    return SmtpReply{451, "4.3.0 the recipient cannot be looked up now"};
  }
  return SmtpReply{550, "5.1.1 <" + address + ">: no such user here"};
}

std::vector<SmtpReply> LocalDelivery::deliver(const SmtpEnvelope& env, const std::string& message, SmtpMode mode,
                                              const std::string& once) const {
  const std::string id = delivery_id();
  const int64_t now_s = std::time(nullptr);
  const std::string mime = trace_headers(env, mode, host_, id, now_s) + message;
  std::vector<SmtpReply> replies(env.recipients.size(), SmtpReply{451, "4.3.0 not delivered"});
  NamedPropertyMap names;
  Message parsed;
  try {
    parsed = formats::parse_mime(ByteView(reinterpret_cast<const uint8_t*>(mime.data()), mime.size()), names);
  } catch (const MapiError& e) {
    spdlog::warn("smtp {}: from <{}>: the message cannot be read: {}", id, env.from, e.what());
    for (auto& r : replies) r = {554, "5.6.0 the message is not readable MIME: " + std::string(e.what()).substr(0, 200)};
    return replies;
  }
  const int64_t now = to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
  const std::optional<std::string> envelope = envelope_to_keep(mime);
  for (size_t i = 0; i < env.recipients.size(); ++i) {
    const std::string& rcpt = env.recipients[i].address;
    std::string opened;  // the mailbox file this recipient's delivery uses
    try {
      auto user = thread_user_directory(data_dir_).find(rcpt);
      if (!user) {
        replies[i] = {550, "5.1.1 <" + rcpt + ">: no such user here"};
        continue;
      }
      const std::string path = store::mailbox_file(data_dir_, user->mailbox);
      opened = path;
      store::Mailbox* mb = &thread_mailboxes().get(path);
      Message m = store::to_mailbox_ids(parsed, names, *mb);
      PropertyBag& p = m.props;
      p.set(PropValue::time(tags::PidTagMessageDeliveryTime, now));
      // The message as it came, for IMAP and POP3 to send byte for byte (named_ids.h).
      p.set(PropValue::binary(PropTag(mb->named_property_id(store::internet_message_name(), true), PropType::Binary),
                              Bytes(mime.begin(), mime.end())));
      if (envelope) p.set(PropValue::string(PropTag(mb->named_property_id(store::imap_envelope_name(), true), PropType::String), *envelope));
      const Bytes entry = OneOffEntryId{user->display_name, "SMTP", user->address}.serialize();
      const Bytes search_key = address_search_key("SMTP", user->address);
      // MS-OXOMSG 2.2.1.x: received by the user, on their own behalf (representing = received by).
      struct Set {
        PropTag name, email, type, smtp, entry, search;
      };
      for (const Set& t : {Set{tags::PidTagReceivedByName, tags::PidTagReceivedByEmailAddress, tags::PidTagReceivedByAddressType,
                               tags::PidTagReceivedBySmtpAddress, tags::PidTagReceivedByEntryId, tags::PidTagReceivedBySearchKey},
                           Set{tags::PidTagReceivedRepresentingName, tags::PidTagReceivedRepresentingEmailAddress,
                               tags::PidTagReceivedRepresentingAddressType, tags::PidTagReceivedRepresentingSmtpAddress,
                               tags::PidTagReceivedRepresentingEntryId, tags::PidTagReceivedRepresentingSearchKey}}) {
        p.set(PropValue::string(t.name, user->display_name));
        p.set(PropValue::string(t.email, user->address));
        p.set(PropValue::string(t.type, "SMTP"));
        p.set(PropValue::string(t.smtp, user->address));
        p.set(PropValue::binary(t.entry, entry));
        p.set(PropValue::binary(t.search, search_key));
      }
      const int32_t flags = p.get_i32(tags::PidTagMessageFlags).value_or(0);
      p.set(PropValue::i32(tags::PidTagMessageFlags, flags & ~(msgflag::Read | msgflag::Unsent | msgflag::Unmodified | msgflag::Submitted)));
      const std::string cls = p.get_string(tags::PidTagMessageClass).value_or("IPM.Note");
      const store::FolderId folder = receive_folder(*mb, cls);
      if (!once.empty()) {
        auto t = mb->contents_table(folder);
        t->restrict(Restriction{Restriction::Property{RelOp::Eq, tags::PidTagInternetMessageId,
                                                      PropValue::string(tags::PidTagInternetMessageId, once)}});
        if (t->row_count() > 0) {
          spdlog::info("smtp {}: to <{}>: {} is there already", id, rcpt, once);
          replies[i] = {250, "2.0.0 <" + rcpt + "> has it already (" + id + ")"};
          continue;
        }
      }
      const store::MessageId mid = mb->save_message(folder, m);
      spdlog::info("smtp {}: from <{}> to <{}>: delivered as message {} ({} bytes)", id, env.from, rcpt, mid, mime.size());
      replies[i] = {250, "2.0.0 <" + rcpt + "> delivered (" + id + ")"};
    } catch (const MapiError& e) {
      if (e.code() == ErrorCode::MAPI_E_STORE_FULL) {
        spdlog::warn("smtp {}: to <{}>: {}", id, rcpt, e.what());
        replies[i] = {552, "5.2.2 <" + rcpt + ">: mailbox full"};
      } else {
        thread_mailboxes().drop(opened);
        spdlog::error("smtp {}: to <{}>: {}", id, rcpt, e.what());
        replies[i] = {451, "4.3.0 <" + rcpt + ">: not delivered now, try again later"};
      }
    } catch (const std::exception& e) {
      thread_mailboxes().drop(opened);
      spdlog::error("smtp {}: to <{}>: {}", id, rcpt, e.what());
      replies[i] = {451, "4.3.0 <" + rcpt + ">: not delivered now, try again later"};
    }
  }
  return replies;
}

SmtpReply LocalDelivery::queue_for_relay(const SmtpEnvelope& env, const std::vector<std::string>& recipients, const std::string& message) const {
  const std::string id = delivery_id();
  std::string trace = trace_headers(env, SmtpMode::Smtp, host_, id, std::time(nullptr));
  trace.erase(0, trace.find("\r\n") + 2);  // no Return-Path: that is for the final delivery (RFC 5321 4.4)
  const std::string mime = trace + message;
  NamedPropertyMap names;
  Message parsed;
  try {
    parsed = formats::parse_mime(ByteView(reinterpret_cast<const uint8_t*>(mime.data()), mime.size()), names);
  } catch (const MapiError& e) {
    return {554, "5.6.0 the message is not readable MIME: " + std::string(e.what()).substr(0, 200)};
  }
  try {
    auto user = thread_user_directory(data_dir_).find(env.user);
    if (!user) return {550, "5.7.1 <" + env.user + "> has no mailbox here"};
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(data_dir_, user->mailbox));
    Message m = store::to_mailbox_ids(parsed, names, *mb);
    m.props.set(PropValue::binary(PropTag(mb->named_property_id(store::internet_message_name(), true), PropType::Binary),
                                  Bytes(mime.begin(), mime.end())));
    m.props.set(PropValue::boolean(tags::PidTagDeleteAfterSubmit, true));
    m.props.set(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read | msgflag::Unsent));
    m.recipients.clear();
    for (const std::string& a : recipients) {
      PropertyBag r;
      r.set(PropValue::i32(tags::PidTagRowid, int32_t(m.recipients.size())));
      r.set(PropValue::i32(tags::PidTagRecipientType, recipient_type::To));
      r.set(PropValue::string(tags::PidTagDisplayName, a));
      r.set(PropValue::string(tags::PidTagAddressType, "SMTP"));
      r.set(PropValue::string(tags::PidTagEmailAddress, a));
      r.set(PropValue::string(tags::PidTagSmtpAddress, a));
      m.recipients.push_back(std::move(r));
    }
    auto batch = mb->begin_batch();
    const store::MessageId mid = mb->save_message(mb->special_folder(store::SpecialFolder::Outbox), m);
    mb->submit_message(mid);
    batch->commit();
    spdlog::info("smtp {}: from <{}>: queued as message {} of {} for {} recipients of other domains", id, env.from, mid, env.user, recipients.size());
    return {250, "2.0.0 queued for relay (" + id + ")"};
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_STORE_FULL) return {552, "5.2.2 <" + env.user + ">: mailbox full, nothing can be sent"};
    spdlog::error("smtp {}: queueing for relay: {}", id, e.what());
  } catch (const std::exception& e) {
    spdlog::error("smtp {}: queueing for relay: {}", id, e.what());
  }
  return {451, "4.3.0 not queued now, try again later"};
}

std::string message_mime(store::Mailbox& mb, store::MessageId id) {
  std::optional<uint16_t> named;
  try {
    named = mb.named_property_id(store::internet_message_name(), false);
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
  }
  if (named) {
    std::unique_ptr<store::PropertyStream> stream;
    try {
      stream = mb.open_stream(id, PropTag(*named, PropType::Binary));
    } catch (const MapiError& e) {
      if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
    }
    if (stream) {
      std::string out;
      out.resize(size_t(std::min<uint64_t>(stream->size(), 256u << 20)));
      size_t got = 0;
      while (got < out.size()) {
        const size_t n = stream->read(reinterpret_cast<uint8_t*>(out.data()) + got, out.size() - got);
        if (n == 0) break;
        got += n;
      }
      out.resize(got);
      return out;
    }
  }
  const Message m = mb.load_message(id);
  const Bytes b = formats::write_mime(m, store::mailbox_names_for(m, mb));
  return std::string(b.begin(), b.end());
}

}  // namespace openmapi::server

