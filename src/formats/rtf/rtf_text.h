// The plain text of an RTF document (RTF 1.9.1): what a reader sees, for PidTagBody from RTF
// that encapsulates nothing (RTFSync, body completion).
#pragma once
#include <string>
#include <string_view>

namespace openmapi::rtf {

// The text of `rtf` as UTF-8: the document's characters (\'hh in the \ansicpgN code page, 1252
// when absent; \uN with its \ucN fallback skipped), \par and \line as CRLF, \tab and \cell as a
// tab, \row as CRLF, the named punctuation (\emdash, \lquote, \bullet ...); the destinations a
// reader does not show are left out (\fonttbl, \colortbl, \stylesheet, \info, \pict, \object's
// data, every \* destination, headers and footers), and so is \bin data. RTF that encapsulates
// text or HTML (MS-OXRTFEX) reads as any RTF reader shows it: the HTML tags are \* destinations.
// Throws MAPI_E_CORRUPT_DATA if the input does not start with "{\rtf" or nests groups deeper
// than 1024 levels; anything else (unknown control words, unbalanced braces at the end) is
// tolerated. Linear in the input; never allocates more than the output.
std::string rtf_to_text(std::string_view rtf);

}  // namespace openmapi::rtf
