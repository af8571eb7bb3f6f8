// Reading and writing message files by format: what `openmapi props`, `convert` and
// `attachments` work on.
#pragma once
#include <set>
#include <string>

#include "core/namedprop.h"
#include "core/propbag.h"

#include "store/named_ids.h"

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
// Every item of a file: one for .eml, .msg and .tnef, each card of a .vcf and event of a .ics.
std::vector<MessageFile> read_message_files(const std::string& path, const std::string& forced_format = "");
// Writes atomically (a temporary file renamed into place): a failure leaves no partial file.
// `tnef`: an .eml carries every MAPI property in a winmail.dat part (lossless; see mime.h).
void write_message_file(const MessageFile& file, const std::string& path, const std::string& format, bool tnef = false);

// Between files and mailboxes (store/named_ids.h).
using store::mailbox_names_for;
using store::named_ids;
using store::to_mailbox_ids;

}  // namespace openmapi::cli
