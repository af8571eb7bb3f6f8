// Local delivery: a message received over SMTP or LMTP filed into each recipient's mailbox.
//
// A recipient is local when a user of the data directory has that address (users.h; compared
// case-insensitively). deliver() adds Return-Path and a Received line (RFC 5321 4.4, with the
// protocol names of RFC 3848), parses the message once (MS-OXCMAIL, formats/mime: a winmail.dat
// part is unpacked), and for each recipient sets the delivery properties (PidTagMessageDeliveryTime
// now, PidTagReceivedBy* and PidTagReceivedRepresenting* the user, unread) and saves it in the
// receive folder of its class (the Inbox unless the mailbox says otherwise) in one transaction
// of that mailbox: a reply of 250 means the message is on disk (synchronous = FULL), and every
// door sees it (the mailbox's change feed raises NewMail).
//
// Replies per recipient: 250 2.0.0 delivered; 552 5.2.2 over the mailbox's quota; 550 5.1.1 for a
// user removed since RCPT; 554 5.6.0 for a message that is not MIME at all; 451 4.3.0 for
// anything else (logged; the client tries again).
// Thread safety: check_recipient and deliver may be called from any thread (each thread uses its
// own user directory connection and keeps its own connections to the mailboxes it delivered to,
// reopened when a mailbox file is replaced or a delivery fails).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "server/smtp.h"
#include "store/store.h"

namespace openmapi::server {

class LocalDelivery {
 public:
  LocalDelivery(std::string data_dir, std::string host_name);
  // nullopt when `address` is a local user, else the refusal to give at RCPT time.
  std::optional<SmtpReply> check_recipient(const std::string& address) const;
  // `once`: a Message-ID that names this message; a recipient whose receive folder holds a
  // message with it already is not given a second copy (the spooler's resend after a crash).
  std::vector<SmtpReply> deliver(const SmtpEnvelope& env, const std::string& message, SmtpMode mode,
                                 const std::string& once = "") const;
  // Submission to other domains: files `message` (with a Received line of ours) into the Outbox
  // of the authenticated sender `env.user` addressed to `recipients`, and submits it, in one
  // transaction; the spooler relays it and then deletes it (PidTagDeleteAfterSubmit: the client
  // keeps its own copy, RFC 6409 leaves that to it). One reply for all of them: 250 2.0.0 queued,
  // 552 5.2.2 over the sender's quota, 554 5.6.0 for a message that is not MIME, 451 4.3.0 else.
  SmtpReply queue_for_relay(const SmtpEnvelope& env, const std::vector<std::string>& recipients, const std::string& message) const;

 private:
  std::string data_dir_, host_;
};

// The MIME of message `id`: as it came in (SMTP, LMTP, IMAP APPEND: the InternetMessage
// property of named_ids.h, byte for byte) while its content is unchanged, else rendered from its
// properties (formats/mime). MapiError from the store (MAPI_E_NOT_FOUND for a missing message).
std::string message_mime(store::Mailbox& mb, store::MessageId id);

// The Return-Path and Received header lines (CRLF-terminated) a delivery puts before the
// message; `id` names the delivery in the logs; `time` is a Unix time.
std::string trace_headers(const SmtpEnvelope& env, SmtpMode mode, const std::string& host, const std::string& id, int64_t time);

}  // namespace openmapi::server
