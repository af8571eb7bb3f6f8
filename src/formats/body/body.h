// The three bodies of a message (PidTagBody, PidTagHtml, PidTagRtfCompressed) kept consistent
// as Outlook keeps them: a body a message lacks is derived from one it has.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/propbag.h"

namespace openmapi::formats {

// Fills in missing bodies, never replacing one that is there:
//  * PidTagHtml from RTF that encapsulates HTML (MS-OXRTFEX), PidTagBody from RTF that
//    encapsulates text;
//  * PidTagBody from PidTagHtml (html_to_text);
//  * PidTagRtfCompressed from PidTagBody when there is no RTF: the text encapsulated in RTF
//    (\fromtext), compressed (MS-OXRTFCP), with PidTagRtfInSync set.
// A damaged RTF stream is left as it is (the other bodies are still derived where possible).
// Embedded messages are completed too. Without `with_rtf` no RTF is made (for targets that do
// not carry it, such as plain MIME: compressing it is a tenth of a PST export's time).
void complete_bodies(Message& m, bool with_rtf = true);

// PidTagHtml as UTF-8 text. Its bytes are in the message's PidTagInternetCodepage (MS-OXBBODY);
// without one, or with 65001, they are taken as UTF-8 when valid and as Windows-1252 otherwise.
// A PtypString PidTagHtml is returned as it is; nullopt when there is none.
std::optional<std::string> html_text(const PropertyBag& props);

// The text of an HTML document: markup and comments removed, script and style dropped, block
// elements and <br> as line breaks, entities decoded, runs of white space folded.
std::string html_to_text(std::string_view html);

// RTF that encapsulates `text` (MS-OXRTFEX \fromtext): ASCII as is, other characters as \uN.
std::string text_to_rtf(std::string_view text);

}  // namespace openmapi::formats
