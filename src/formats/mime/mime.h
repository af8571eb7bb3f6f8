// Internet mail (RFC 5322 / MIME) <-> the MAPI message model, after MS-OXCMAIL.
//
// parse_mime maps headers to properties (subject with prefix and normalized form, originator,
// sender, reply-to, To/Cc/Bcc as recipients, dates, Message-ID, In-Reply-To, References,
// importance, priority, sensitivity, the header block in PidTagTransportMessageHeaders), bodies
// to PidTagBody (UTF-8) and PidTagHtml, other parts to attachments (inline ones with their
// Content-ID, message/rfc822 as embedded messages), and keeps S/MIME signed or encrypted content
// opaque and intact in an attachment, as MS-OXOSMIME does. X- headers become named properties in
// PS_INTERNET_HEADERS, mapped through `names`.
//
// write_mime renders a message back to MIME that parses to the same properties.
// Errors: MapiError MAPI_E_CORRUPT_DATA for input that is not a message at all; GMime's
// tolerance decides the rest (damaged parts are read as far as they go).
#pragma once
#include "core/bytes.h"
#include "core/namedprop.h"
#include "core/propbag.h"

namespace openmapi::formats {

Message parse_mime(ByteView data, NamedPropertyMap& names);
struct MimeWriteOptions {
  // Carry every MAPI property in a TNEF part (winmail.dat, MS-OXCMAIL 2.4.3.4): the MIME has
  // the bodies for any reader and application/ms-tnef with the whole message (attachments
  // included) for a MAPI reader, so .msg -> .eml -> .msg keeps every property.
  bool tnef = false;
};
// CRLF line endings, as sent over SMTP.
Bytes write_mime(const Message& message, const NamedPropertyMap& names, const MimeWriteOptions& options = {});

// "Re: ", "FW: ", "AW: " ...: the prefix MS-OXOMSG 2.2.1.9 strips to get the normalized subject
// (1 to 3 characters other than digits and spaces, then ":" and optional whitespace); empty if none.
std::string subject_prefix(std::string_view subject);
// The Windows code page for a MIME charset name (65001 for UTF-8, 1252, 28591, 932 ...); 0 if unknown.
int32_t codepage_of_charset(std::string_view charset);
std::string charset_of_codepage(int32_t codepage);

}  // namespace openmapi::formats
