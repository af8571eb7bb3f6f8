// The MIME structure of a message as IMAP shows it (RFC 9051 6.4.5 and 7.5.2): byte ranges of
// every entity, ENVELOPE, BODY and BODYSTRUCTURE, and the sections of BODY[...] and BINARY[...].
// It reads the message text itself (what FETCH BODY[] returns), so every answer is about the
// same bytes. Lenient, as readers of mail must be: a missing boundary ends the multipart, a
// header without a body has an empty one. Bounded: nesting stops at 16 levels (deeper entities
// are leaves), a multipart keeps at most 2000 parts.
// Thread safety: the functions keep no state; a MimeEntity is a plain value over a text that
// must outlive it (it holds offsets, not a pointer).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openmapi::server {

struct MimeEntity {
  size_t start = 0;  // the header
  size_t body = 0;   // the body (after the blank line)
  size_t end = 0;
  std::string type = "text", subtype = "plain";  // lower case
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<MimeEntity> parts;     // multipart/*
  std::vector<MimeEntity> embedded;  // message/rfc822 and message/global: the message (one)
};

MimeEntity parse_mime_structure(std::string_view text);
// The top entity only (its header and content type; no parts): enough for ENVELOPE.
MimeEntity parse_mime_header(std::string_view text);

// The unfolded value of the first header field `name` of the entity at `start`..`body`.
std::optional<std::string> mime_header(std::string_view text, const MimeEntity& e, std::string_view name);

// RFC 9051 7.5.2 ENVELOPE of the message `e` (its header), BODYSTRUCTURE (`extended`) or BODY.
std::string imap_envelope(std::string_view text, const MimeEntity& e, bool utf8);
// The ENVELOPE of a message to keep with it when it is stored (store/named_ids.h ImapEnvelope):
// when it is plain ASCII, the same for every client; nullopt for one with 8-bit text, whose
// form the client's UTF8=ACCEPT decides at each FETCH.
std::optional<std::string> envelope_to_keep(std::string_view mime);
std::string imap_body_structure(std::string_view text, const MimeEntity& e, bool extended, bool utf8);

// A section (RFC 9051 6.4.5: "", "1.2", "HEADER", "1.HEADER.FIELDS (A B)", "2.MIME", "TEXT")
// of the message: its bytes, nullopt for a section the message does not have (the caller
// answers an empty string) or a malformed one (`error` set).
std::optional<std::string> imap_section(std::string_view text, const MimeEntity& top, std::string_view section, std::string& error);
// BINARY[part] (RFC 3516): the content of a leaf part with its transfer encoding undone;
// nullopt with `error` for a part that is not a leaf or an unknown encoding.
std::optional<std::string> imap_binary_section(std::string_view text, const MimeEntity& top, std::string_view part, std::string& error);

}  // namespace openmapi::server
