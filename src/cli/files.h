// Reading and writing message files by format: what `openmapi props`, `convert` and
// `attachments` work on.
#pragma once
#include <set>
#include <string>

#include "core/namedprop.h"
#include "core/propbag.h"

namespace openmapi::store {
class Mailbox;
}

namespace openmapi::cli {

struct MessageFile {
  Message message;
  NamedPropertyMap names;  // the ids the message's named properties use
  std::string format;      // "eml", "msg", "tnef", "vcf", "ics"
};

// The format for a path: by extension (.eml/.mime, .msg, .tnef/.dat, .vcf, .ics), else by content
// (a compound file is a .msg, the TNEF signature a TNEF stream), else "eml". `forced` (from --from/--to) wins when set. Unknown: MAPI_E_NO_SUPPORT.
std::string format_of(const std::string& path, const std::string& forced = "");
MessageFile read_message_file(const std::string& path, const std::string& forced_format = "");
// Writes atomically (a temporary file renamed into place): a failure leaves no partial file.
// `tnef`: an .eml carries every MAPI property in a winmail.dat part (lossless; see mime.h).
void write_message_file(const MessageFile& file, const std::string& path, const std::string& format, bool tnef = false);

// The named ids a message uses (its own, its recipients', attachments', embedded messages').
void named_ids(const Message& m, std::set<uint16_t>& out);
// The message with its named tags rewritten from the ids of `from` to the mailbox's (mapping the
// names there as needed). Named ids `from` gives no name are dropped: they mean nothing elsewhere.
Message to_mailbox_ids(const Message& m, const NamedPropertyMap& from, store::Mailbox& mb);
// The mailbox's names for the named ids `m` uses: the map to write `m` to a file with.
NamedPropertyMap mailbox_names_for(const Message& m, store::Mailbox& mb);

}  // namespace openmapi::cli
