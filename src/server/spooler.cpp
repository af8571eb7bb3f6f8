#include "server/spooler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "core/entryid.h"
#include "core/error.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "core/base64.h"
#include "formats/mime/dsn.h"
#include "formats/mime/mime.h"
#include "server/mx.h"
#include "server/smtp_client.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/named_ids.h"
#include "store/store.h"

namespace openmapi::server {

namespace {

// A recipient's SMTP address, or "" when it has none (another address type without one).
std::string smtp_address_of(const PropertyBag& r) {
  if (auto a = r.get_string(tags::PidTagSmtpAddress); a && !a->empty()) return *a;
  const std::string type = r.get_string(tags::PidTagAddressType).value_or("");
  if (ascii_lower(type) == "smtp") return r.get_string(tags::PidTagEmailAddress).value_or("");
  return "";
}

// MS-OXOABK 2.2.3.18 PidTagSendRichInfo: the recipient reads MAPI's rich format (TNEF).
const PropTag kPidTagSendRichInfo(0x3A40, PropType::Boolean);

int64_t now_ft() { return to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now())); }

// Backoff after `attempts` tries: 30 s, 1, 2, 4 ... minutes, at most 30.
std::chrono::seconds backoff(uint32_t attempts) {
  std::chrono::seconds wait{30};
  for (uint32_t i = 1; i < attempts && wait < std::chrono::minutes(30); ++i) wait *= 2;
  return std::min<std::chrono::seconds>(wait, std::chrono::minutes(30));
}

std::string domain_of(const std::string& address) {
  const size_t at = address.rfind('@');
  return at == std::string::npos ? std::string() : ascii_lower(address.substr(at + 1));
}

std::string rfc5322_date(int64_t unix_time) {
  std::tm tm{};
  const std::time_t t = std::time_t(unix_time);
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return date;
}

// The header block of `mime` (up to the first empty line), for the report's third part.
std::string header_block(const std::string& mime) {
  size_t end = mime.find("\r\n\r\n");
  if (end == std::string::npos) end = mime.find("\n\n");
  std::string h = mime.substr(0, std::min<size_t>(end == std::string::npos ? mime.size() : end, 256 * 1024));
  if (h.size() < 2 || h.compare(h.size() - 2, 2, "\r\n") != 0) h += "\r\n";
  return h;
}

struct Failure {
  std::string address, name;
  SmtpReply reply;
  std::string remote_mta;
};

// An RFC 3464 report of `failed` for the sender of `original` (its MIME), from the mail system of
// `host`, with the Message-ID `message_id`.
std::string delivery_report(const std::string& host, const std::string& to, const std::string& subject, const std::string& original,
                            const std::vector<Failure>& failed, const std::string& message_id) {
  const int64_t now = std::time(nullptr);
  const std::string boundary = "=_report_" + to_hex(ByteView(reinterpret_cast<const uint8_t*>(message_id.data()), std::min<size_t>(message_id.size(), 12)));
  std::string human = "This is the mail system at " + host + ".\r\n\r\nYour message";
  if (!subject.empty()) human += " \"" + subject + "\"";
  human += " could not be delivered to ";
  human += failed.size() == 1 ? "this recipient:\r\n\r\n" : "these recipients:\r\n\r\n";
  formats::DeliveryStatus status;
  status.reporting_mta = host;
  for (const Failure& f : failed) {
    human += "  " + (f.name.empty() || f.name == f.address ? "<" + f.address + ">" : f.name + " <" + f.address + ">") + "\r\n    " +
             std::to_string(f.reply.code) + " " + f.reply.text + "\r\n";
    formats::DeliveryStatus::Recipient r;
    r.final_recipient = f.address;
    r.action = "failed";
    r.status = formats::enhanced_status(f.reply.code, f.reply.text);
    if (r.status[0] == '4') r.status[0] = '5';  // a temporary failure that lasted past the queue's lifetime is final now
    r.diagnostic = "smtp; " + std::to_string(f.reply.code) + " " + f.reply.text;
    r.remote_mta = f.remote_mta;
    r.display_name = f.name;
    status.recipients.push_back(std::move(r));
  }
  // The subject is UTF-8: as an encoded word when it is not ASCII (RFC 2047).
  std::string subject_line = "Undeliverable: " + subject;
  bool ascii = true;
  for (unsigned char c : subject_line) ascii = ascii && c >= 0x20 && c < 0x7F;
  if (!ascii) subject_line = "=?UTF-8?B?" + base64_encode(ByteView(reinterpret_cast<const uint8_t*>(subject_line.data()), subject_line.size())) + "?=";
  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" + host + ">\r\n";
  out += "To: <" + to + ">\r\n";
  out += "Subject: " + subject_line + "\r\n";
  out += "Date: " + rfc5322_date(now) + "\r\n";
  out += "Message-ID: " + message_id + "\r\n";
  out += "Auto-Submitted: auto-replied\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n\r\n";
  out += "This is a delivery status notification (RFC 3464).\r\n\r\n";
  out += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + human + "\r\n";
  out += "--" + boundary + "\r\nContent-Type: message/delivery-status\r\n\r\n" + formats::write_delivery_status(status) + "\r\n";
  out += "--" + boundary + "\r\nContent-Type: text/rfc822-headers\r\n\r\n" + header_block(original) + "\r\n";
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace

Spooler::Spooler(const ServerConfig& config, std::shared_ptr<LocalDelivery> delivery) : config_(config), delivery_(std::move(delivery)) {
  // The state at start: only a later flush counts.
  std::error_code ec;
  const auto flushed = std::filesystem::last_write_time(spool_flush_file(config_.data_dir), ec);
  flushed_ = ec ? std::filesystem::file_time_type::min() : flushed;
}

Spooler::~Spooler() { stop(); }

void Spooler::start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        run_once();
      } catch (const std::exception& e) {
        spdlog::error("spooler: {}", e.what());
      }
      lock.lock();
      wake_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

void Spooler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string spool_flush_file(const std::string& data_dir) { return (std::filesystem::path(data_dir) / "spool.flush").string(); }

size_t Spooler::run_once() {
  size_t sent = 0;
  std::error_code ec;
  const auto flushed = std::filesystem::last_write_time(spool_flush_file(config_.data_dir), ec);
  bool flush = false;
  if (!ec && flushed != flushed_) {
    spdlog::info("spooler: flushed: every queued message is tried now");
    flush = true;
    flushed_ = flushed;
  }
  const int64_t now = now_ft();
  for (const User& u : thread_user_directory(config_.data_dir).list()) {
    try {
      auto& mb = open_[u.mailbox];
      if (!mb) mb = store::open_sqlite_mailbox(store::mailbox_file(config_.data_dir, u.mailbox));
      for (const auto& entry : mb->queue_entries()) {
        if (!flush && entry.state.next_attempt > now) continue;
        if (send(*mb, u.address, u.display_name, entry)) ++sent;
      }
    } catch (const std::exception& e) {
      spdlog::error("spooler: the queue of {}: {}", u.address, e.what());
      open_.erase(u.mailbox);
    }
  }
  return sent;
}

std::vector<SmtpReply> Spooler::relay(const std::string& from, const std::vector<std::string>& recipients, const std::string& mime,
                                      std::vector<std::string>& remote_mta) {
  std::vector<SmtpReply> replies(recipients.size(), SmtpReply{451, "4.4.0 not attempted"});
  remote_mta.assign(recipients.size(), "");
  SmtpClientOptions o;
  o.helo = config_.host_name;
  o.timeout = config_.relay_timeout;
  const auto smarthost = config_.smarthost();
  // Groups of recipients that go the same way: all to the smarthost, or one group per domain.
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < recipients.size(); ++i) groups[smarthost ? std::string() : domain_of(recipients[i])].push_back(i);
  for (const auto& [domain, members] : groups) {
    std::vector<std::string> hosts;
    uint16_t port = config_.relay_port;
    if (smarthost) {
      hosts.push_back(smarthost->first);
      port = smarthost->second;
      o.user = config_.relay_user;
      o.password = config_.relay_password;
      o.tls = config_.relay_tls.value_or(config_.relay_user.empty() ? RelayTls::Opportunistic : RelayTls::Required);
      o.verify = config_.relay_tls_verify;
      o.ca_file = config_.relay_ca_file;
    } else {
      const MxRoute route = resolve_mx(domain);
      if (route.failure) {
        for (size_t i : members) replies[i] = *route.failure;
        continue;
      }
      hosts = route.hosts;
      o.tls = config_.relay_tls.value_or(RelayTls::Opportunistic);
      o.verify = false;  // RFC 7435: unauthenticated, opportunistic
    }
    std::vector<std::string> to;
    for (size_t i : members) to.push_back(recipients[i]);
    for (size_t h = 0; h < hosts.size(); ++h) {
      const SmtpSendResult r = smtp_send(hosts[h], port, o, from, to, mime);
      for (size_t k = 0; k < members.size(); ++k) {
        replies[members[k]] = r.replies[k];
        remote_mta[members[k]] = r.peer.empty() ? hosts[h] : r.peer.substr(0, r.peer.find('['));
      }
      spdlog::info("spooler: relay through {}{}: {}", r.peer.empty() ? hosts[h] : r.peer, r.tls ? " (TLS)" : "",
                   std::to_string(r.replies.empty() ? 0 : r.replies[0].code) + " " + (r.replies.empty() ? "" : r.replies[0].text));
      if (!r.next_host) break;
    }
  }
  return replies;
}

bool Spooler::send(store::Mailbox& mb, const std::string& owner, const std::string& owner_name, const store::Mailbox::QueueEntry& entry) {
  const uint64_t id = entry.id;
  Message m = mb.load_message(id);
  // What the spooler adds (MS-OXOMSG 3.3.4.1.x): the sender, a Message-ID, the submit time.
  std::vector<PropValue> stamp;
  auto add = [&](PropValue v) {
    if (!m.props.find(v.tag())) {
      m.props.set(v);
      stamp.push_back(std::move(v));
    }
  };
  const Bytes entry_id = OneOffEntryId{owner_name, "SMTP", owner}.serialize();
  add(PropValue::string(tags::PidTagSenderName, owner_name));
  add(PropValue::string(tags::PidTagSenderEmailAddress, owner));
  add(PropValue::string(tags::PidTagSenderAddressType, "SMTP"));
  add(PropValue::string(tags::PidTagSenderSmtpAddress, owner));
  add(PropValue::binary(tags::PidTagSenderEntryId, entry_id));
  add(PropValue::string(tags::PidTagSentRepresentingName, owner_name));
  add(PropValue::string(tags::PidTagSentRepresentingEmailAddress, owner));
  add(PropValue::string(tags::PidTagSentRepresentingAddressType, "SMTP"));
  add(PropValue::string(tags::PidTagSentRepresentingSmtpAddress, owner));
  add(PropValue::binary(tags::PidTagSentRepresentingEntryId, entry_id));
  add(PropValue::string(tags::PidTagInternetMessageId, "<openmapi." + to_hex(ByteView(mb.mailbox_guid().bytes)) + "." + std::to_string(id) +
                                                           "." + std::to_string(entry.submitted) + "@" + config_.host_name + ">"));
  add(PropValue::time(tags::PidTagClientSubmitTime, entry.submitted));
  const std::string message_id = m.props.get_string(tags::PidTagInternetMessageId).value_or("");
  const std::string subject = m.props.get_string(tags::PidTagSubject).value_or("");

  store::Mailbox::QueueState state = entry.state;
  std::set<std::string> finished;
  for (const std::string& a : state.finished) finished.insert(ascii_lower(a));

  // Who is still to be reached: local users, and the others (relayed unless relay = none).
  std::vector<Failure> failed;
  std::vector<std::string> local, remote;
  std::set<std::string> rich;  // remote recipients that want TNEF
  std::map<std::string, std::string> names;  // address -> display name, for the report
  Message rendered = m;
  rendered.recipients.clear();
  for (const PropertyBag& r : m.recipients) {
    const int32_t type = r.get_i32(tags::PidTagRecipientType).value_or(recipient_type::To) & 0x0F;
    if (type != recipient_type::Bcc) rendered.recipients.push_back(r);
    const std::string address = smtp_address_of(r);
    const std::string name = r.get_string(tags::PidTagDisplayName).value_or("");
    if (address.empty()) {
      const std::string shown = r.get_string(tags::PidTagEmailAddress).value_or(name);
      if (!finished.count(ascii_lower(shown))) failed.push_back({shown, name, {550, "5.1.3 the recipient has no SMTP address"}, ""});
      continue;
    }
    if (finished.count(ascii_lower(address)) || names.count(ascii_lower(address))) continue;
    names[ascii_lower(address)] = name;
    if (auto refused = delivery_->check_recipient(address)) {
      if (refused->code != 550) {  // the directory cannot answer now: later
        state.last_error = std::to_string(refused->code) + " " + refused->text;
        continue;
      }
      if (config_.relay == "none") {
        failed.push_back({address, name, {550, "5.7.1 the domain is not local, and this server relays to no other (relay = none)"}, ""});
        continue;
      }
      remote.push_back(address);
      if (r.get_bool(kPidTagSendRichInfo).value_or(false)) rich.insert(ascii_lower(address));
    } else {
      local.push_back(address);
    }
  }
  rendered.props.erase(tags::PidTagDisplayBcc);
  // A message that came in over SMTP submission goes out as it came; one made through MAPI is rendered.
  std::string mime, rich_mime;  // rich_mime: with the whole message in TNEF too (MS-OXCMAIL 2.4.3.4), for those who want it
  if (m.props.find(PropTag(mb.named_property_id(store::internet_message_name(), true), PropType::Binary))) {
    mime = message_mime(mb, id);
    rich.clear();
  } else {
    const NamedPropertyMap names = store::mailbox_names_for(rendered, mb);
    const Bytes b = formats::write_mime(rendered, names);
    mime.assign(b.begin(), b.end());
    if (!rich.empty()) {
      formats::MimeWriteOptions o;
      o.tnef = true;
      const Bytes t = formats::write_mime(rendered, names, o);
      rich_mime.assign(t.begin(), t.end());
    }
  }

  bool pending = false;  // a recipient failed for now
  auto record = [&] {    // makes the finished recipients durable
    state.finished.assign(finished.begin(), finished.end());
    mb.set_queue_state(id, state);
  };
  auto outcome = [&](const std::string& address, const SmtpReply& reply, const std::string& remote_mta) {
    if (reply.code < 400) {
      finished.insert(ascii_lower(address));
    } else if (reply.code >= 500) {
      failed.push_back({address, names[ascii_lower(address)], reply, remote_mta});
    } else {
      pending = true;
      state.last_error = "<" + address + ">: " + std::to_string(reply.code) + " " + reply.text;
    }
  };
  if (!local.empty()) {
    SmtpEnvelope env;
    env.from = owner;
    env.helo = config_.host_name;
    env.remote = "127.0.0.1";
    env.user = owner;
    for (const std::string& a : local) env.recipients.push_back({a, "", ""});
    const std::vector<SmtpReply> replies = delivery_->deliver(env, mime, SmtpMode::Smtp, message_id);
    for (size_t i = 0; i < replies.size() && i < local.size(); ++i) outcome(local[i], replies[i], "");
    record();
  }
  // Relayed in two groups: the plain MIME, and the MIME with TNEF for rich-format recipients.
  for (const bool want_rich : {false, true}) {
    std::vector<std::string> group;
    for (const std::string& a : remote)
      if (rich.count(ascii_lower(a)) == size_t(want_rich)) group.push_back(a);
    if (group.empty()) continue;
    std::vector<std::string> mta;
    const std::vector<SmtpReply> replies = relay(owner, group, want_rich ? rich_mime : mime, mta);
    for (size_t i = 0; i < replies.size(); ++i) outcome(group[i], replies[i], mta[i]);
    record();
  }
  // Past the queue's lifetime, what is still failing for now fails for good.
  const int64_t age_s = (now_ft() - entry.submitted) / 10'000'000;
  const bool expired = pending && age_s >= config_.queue_lifetime.count();
  if (expired) {
    for (const std::vector<std::string>* addresses : {&local, &remote})
      for (const std::string& a : *addresses)
        if (!finished.count(ascii_lower(a)) &&
            std::none_of(failed.begin(), failed.end(), [&](const Failure& f) { return ascii_lower(f.address) == ascii_lower(a); }))
          failed.push_back({a, names[ascii_lower(a)], {451, "4.4.7 not delivered within the queue's lifetime: " + state.last_error}, ""});
    pending = false;
  }
  if (!failed.empty()) {
    // One report for these recipients; its Message-ID names the message and them, so a resend
    // after a crash delivers it once.
    std::string who;
    for (const Failure& f : failed) who += ascii_lower(f.address) + "\n";
    const std::string report_id = "<dsn." + to_hex(ByteView(mb.mailbox_guid().bytes)).substr(0, 16) + "." + std::to_string(id) + "." +
                                  std::to_string(std::hash<std::string>{}(who)) + "@" + config_.host_name + ">";
    SmtpEnvelope env;
    env.from = "";  // a report has the null reverse path (RFC 5321 4.5.5)
    env.helo = config_.host_name;
    env.remote = "127.0.0.1";
    env.recipients.push_back({owner, "", ""});
    const std::vector<SmtpReply> r =
        delivery_->deliver(env, delivery_report(config_.host_name, owner, subject, mime, failed, report_id), SmtpMode::Smtp, report_id);
    if (!r.empty() && r[0].code >= 400 && r[0].code < 500) {
      spdlog::warn("spooler: the report for message {} of {} cannot be delivered now: {} {}", id, owner, r[0].code, r[0].text);
      pending = true;
    } else {
      for (const Failure& f : failed) finished.insert(ascii_lower(f.address));
      spdlog::warn("spooler: message {} of {}: {} recipients could not be reached; a report went to the Inbox", id, owner, failed.size());
    }
    record();
  }
  if (pending) {
    state.attempts += 1;
    // Not later than the end of the queue's lifetime, so that an expiry is reported on time.
    state.next_attempt = std::min(now_ft() + int64_t(backoff(state.attempts).count()) * 10'000'000,
                                  entry.submitted + int64_t(config_.queue_lifetime.count()) * 10'000'000);
    record();
    spdlog::warn("spooler: message {} of {} stays queued ({}); next try in {} s", id, owner, state.last_error, backoff(state.attempts).count());
    return false;
  }
  try {
    const store::MessageId in_sent = mb.finish_submit(id, stamp);
    spdlog::info("spooler: message {} of {} sent ({} local, {} relayed recipients, {}), {}", id, owner, local.size(), remote.size(), message_id,
                 in_sent ? "now message " + std::to_string(in_sent) + " in Sent Items" : std::string("deleted after submit"));
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_NOT_IN_QUEUE) throw;
    spdlog::info("spooler: message {} of {} was taken out of the queue while it was sent", id, owner);
  }
  return true;
}

}  // namespace openmapi::server
