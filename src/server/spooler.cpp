#include "server/spooler.h"

#include <spdlog/spdlog.h>

#include "core/entryid.h"
#include "core/error.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "formats/mime/mime.h"
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

int64_t now_ft() { return to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now())); }

// MS-OXOMSG 2.2.2.x non-delivery report for the recipients in `failed` (address, reason).
Message non_delivery_report(const Message& original, const std::vector<std::pair<PropertyBag, std::string>>& failed,
                            const std::string& host) {
  Message ndr;
  PropertyBag& p = ndr.props;
  const std::string subject = original.props.get_string(tags::PidTagSubject).value_or("");
  const int64_t now = now_ft();
  p.set(PropValue::string(tags::PidTagMessageClass, "REPORT.IPM.Note.NDR"));
  p.set(PropValue::string(tags::PidTagSubject, "Undeliverable: " + subject));
  p.set(PropValue::string(tags::PidTagNormalizedSubject, subject));
  p.set(PropValue::string(tags::PidTagOriginalSubject, subject));
  p.set(PropValue::string(tags::PidTagOriginalMessageClass, original.props.get_string(tags::PidTagMessageClass).value_or("IPM.Note")));
  p.set(PropValue::time(tags::PidTagReportTime, now));
  p.set(PropValue::time(tags::PidTagMessageDeliveryTime, now));
  p.set(PropValue::time(tags::PidTagClientSubmitTime, now));
  const std::string postmaster = "postmaster@" + host;
  p.set(PropValue::string(tags::PidTagSenderName, "Mail Delivery System"));
  p.set(PropValue::string(tags::PidTagSenderEmailAddress, postmaster));
  p.set(PropValue::string(tags::PidTagSenderAddressType, "SMTP"));
  p.set(PropValue::string(tags::PidTagSentRepresentingName, "Mail Delivery System"));
  p.set(PropValue::string(tags::PidTagSentRepresentingEmailAddress, postmaster));
  p.set(PropValue::i32(tags::PidTagMessageFlags, 0));
  std::string body = "Your message \"" + subject + "\" could not be delivered to:\r\n\r\n";
  for (const auto& [r, why] : failed) {
    const std::string name = r.get_string(tags::PidTagDisplayName).value_or("");
    const std::string address = smtp_address_of(r).empty() ? r.get_string(tags::PidTagEmailAddress).value_or("") : smtp_address_of(r);
    body += "  " + (name.empty() ? address : name + " <" + address + ">") + "\r\n    " + why + "\r\n";
    PropertyBag row;
    row.set(PropValue::i32(tags::PidTagRecipientType, recipient_type::To));
    row.set(PropValue::string(tags::PidTagDisplayName, name.empty() ? address : name));
    row.set(PropValue::string(tags::PidTagEmailAddress, address));
    row.set(PropValue::string(tags::PidTagAddressType, r.get_string(tags::PidTagAddressType).value_or("SMTP")));
    if (!smtp_address_of(r).empty()) row.set(PropValue::string(tags::PidTagSmtpAddress, smtp_address_of(r)));
    row.set(PropValue::i32(tags::PidTagNonDeliveryReportReasonCode, 0));   // MAPI_REASON_TRANSFER_FAILED
    row.set(PropValue::i32(tags::PidTagNonDeliveryReportDiagCode, -1));    // MAPI_DIAG_NO_DIAGNOSTIC
    row.set(PropValue::string(tags::PidTagSupplementaryInfo, why));
    ndr.recipients.push_back(std::move(row));
  }
  p.set(PropValue::string(tags::PidTagBody, body));
  return ndr;
}

}  // namespace

Spooler::Spooler(const ServerConfig& config, std::shared_ptr<LocalDelivery> delivery) : config_(config), delivery_(std::move(delivery)) {}

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
  if (!flush_seen_) {  // the state at start: only a later flush counts
    flush_seen_ = true;
    flushed_ = ec ? std::filesystem::file_time_type::min() : flushed;
  } else if (!ec && flushed != flushed_) {
    spdlog::info("spooler: flushed: every queued message is tried now");
    retry_.clear();
    flushed_ = flushed;
  }
  for (const User& u : thread_user_directory(config_.data_dir).list()) {
    try {
      auto& mb = open_[u.mailbox];
      if (!mb) mb = store::open_sqlite_mailbox(store::mailbox_file(config_.data_dir, u.mailbox));
      for (const auto& [id, submitted] : mb->outgoing_queue()) {
        auto r = retry_.find({u.mailbox, id});
        if (r != retry_.end() && std::chrono::steady_clock::now() < r->second.next) continue;
        if (send(*mb, u.address, u.display_name, id, submitted)) {
          ++sent;
          retry_.erase({u.mailbox, id});
        } else {
          Retry& again = retry_[{u.mailbox, id}];
          if (r != retry_.end()) again.wait = std::min<std::chrono::seconds>(again.wait * 2, std::chrono::minutes(30));
          again.next = std::chrono::steady_clock::now() + again.wait;
          spdlog::warn("spooler: message {} of {} stays queued; next try in {} s", id, u.address, again.wait.count());
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("spooler: the queue of {}: {}", u.address, e.what());
      open_.erase(u.mailbox);
    }
  }
  return sent;
}

bool Spooler::send(store::Mailbox& mb, const std::string& owner, const std::string& owner_name, uint64_t id, int64_t submitted) {
  Message m = mb.load_message(id);
  // What the spooler adds (MS-OXOMSG 3.3.4.1.x): the sender, a Message-ID, the submit time.
  std::vector<PropValue> stamp;
  auto add = [&](PropValue v) {
    if (!m.props.find(v.tag())) {
      m.props.set(v);
      stamp.push_back(std::move(v));
    }
  };
  const Bytes entry = OneOffEntryId{owner_name, "SMTP", owner}.serialize();
  add(PropValue::string(tags::PidTagSenderName, owner_name));
  add(PropValue::string(tags::PidTagSenderEmailAddress, owner));
  add(PropValue::string(tags::PidTagSenderAddressType, "SMTP"));
  add(PropValue::string(tags::PidTagSenderSmtpAddress, owner));
  add(PropValue::binary(tags::PidTagSenderEntryId, entry));
  add(PropValue::string(tags::PidTagSentRepresentingName, owner_name));
  add(PropValue::string(tags::PidTagSentRepresentingEmailAddress, owner));
  add(PropValue::string(tags::PidTagSentRepresentingAddressType, "SMTP"));
  add(PropValue::string(tags::PidTagSentRepresentingSmtpAddress, owner));
  add(PropValue::binary(tags::PidTagSentRepresentingEntryId, entry));
  add(PropValue::string(tags::PidTagInternetMessageId,
                        "<openmapi." + to_hex(ByteView(mb.mailbox_guid().bytes)) + "." + std::to_string(id) + "." + std::to_string(submitted) + "@" +
                            config_.host_name + ">"));
  add(PropValue::time(tags::PidTagClientSubmitTime, submitted));
  const std::string message_id = m.props.get_string(tags::PidTagInternetMessageId).value_or("");

  // The envelope: every recipient with an SMTP address; Bcc ones stay out of the header.
  SmtpEnvelope env;
  env.from = owner;
  env.helo = config_.host_name;
  env.remote = "127.0.0.1";
  env.user = owner;
  std::vector<std::pair<PropertyBag, std::string>> failed;
  Message rendered = m;
  rendered.recipients.clear();
  for (const PropertyBag& r : m.recipients) {
    const int32_t type = r.get_i32(tags::PidTagRecipientType).value_or(recipient_type::To) & 0x0F;
    if (type != recipient_type::Bcc) rendered.recipients.push_back(r);
    const std::string address = smtp_address_of(r);
    if (address.empty()) {
      failed.emplace_back(r, "550 5.1.3 the recipient has no SMTP address");
      continue;
    }
    if (auto refused = delivery_->check_recipient(address)) {
      failed.emplace_back(r, refused->code == 550 ? "550 5.7.1 the domain is not local, and this server relays to no other (not configured)"
                                                  : std::to_string(refused->code) + " " + refused->text);
      continue;
    }
    env.recipients.push_back({address, "", ""});
  }
  rendered.props.erase(tags::PidTagDisplayBcc);
  const Bytes mime = formats::write_mime(rendered, store::mailbox_names_for(rendered, mb));
  if (!env.recipients.empty()) {
    const std::vector<SmtpReply> replies =
        delivery_->deliver(env, std::string(mime.begin(), mime.end()), SmtpMode::Smtp, message_id);
    for (size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].code >= 400 && replies[i].code < 500) return false;  // later, all of it (the others are skipped then)
      if (replies[i].code >= 500) {
        PropertyBag r;
        r.set(PropValue::string(tags::PidTagEmailAddress, env.recipients[i].address));
        r.set(PropValue::string(tags::PidTagSmtpAddress, env.recipients[i].address));
        r.set(PropValue::string(tags::PidTagAddressType, "SMTP"));
        failed.emplace_back(r, std::to_string(replies[i].code) + " " + replies[i].text);
      }
    }
  }
  if (!failed.empty()) {
    mb.save_message(mb.special_folder(store::SpecialFolder::Inbox), non_delivery_report(m, failed, config_.host_name));
    spdlog::warn("spooler: message {} of {}: {} recipients could not be reached; a report went to the Inbox", id, owner, failed.size());
  }
  try {
    const store::MessageId in_sent = mb.finish_submit(id, stamp);
    spdlog::info("spooler: message {} of {} sent to {} local recipients ({}), {}", id, owner, env.recipients.size(), message_id,
                 in_sent ? "now message " + std::to_string(in_sent) + " in Sent Items" : std::string("deleted after submit"));
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_NOT_IN_QUEUE) throw;
    spdlog::info("spooler: message {} of {} was taken out of the queue while it was sent", id, owner);
  }
  return true;
}

}  // namespace openmapi::server
