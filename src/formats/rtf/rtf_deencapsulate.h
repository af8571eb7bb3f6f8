// De-encapsulation of HTML and plain text from RTF (MS-OXRTFEX).
//
// Outlook stores HTML and plain-text bodies inside RTF: \fromhtml1 marks a document whose original
// HTML is kept in {\*\htmltagN ...} groups plus the text between them that is not inside a
// \htmlrtf ... \htmlrtf0 region; \fromtext marks a document that was plain text. This module finds
// which one a document is and extracts the original as UTF-8.
//
// Thread safety: the functions are reentrant (each call owns its iconv descriptors).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"

namespace openmapi::rtf {

enum class RtfEncapsulation {
  None,  // ordinary RTF: no \fromhtml / \fromtext in the header
  Html,  // \fromhtml1
  Text,  // \fromtext
};

// "none", "html", "text".
std::string_view encapsulation_name(RtfEncapsulation kind);

struct DeencapsulatedRtf {
  RtfEncapsulation kind = RtfEncapsulation::None;
  // The original HTML or text as UTF-8 (\'hh bytes decoded with the code page of the current font
  // or of \ansicpgN, \uN as Unicode). Empty when kind is None. Line breaks are CRLF, as the
  // \par control words stand for.
  std::string content;
  // The document's \ansicpgN (1252 when absent). An HTML document's own <meta charset> still
  // names the original charset; the content here is UTF-8 whatever it says.
  uint32_t code_page = 1252;
};

// Looks only at the RTF header (MS-OXRTFEX 2.2.3.1): the control words before the first
// \fonttbl / \colortbl / \stylesheet group, text or the 10th control word.
// Throws MAPI_E_CORRUPT_DATA if the input does not start with "{\rtf".
RtfEncapsulation detect_rtf_encapsulation(std::string_view rtf);

// Detects the encapsulation and, for Html or Text, extracts the original content.
// Unbalanced braces at the end and unknown control words are tolerated. Throws MAPI_E_CORRUPT_DATA
// if the input does not start with "{\rtf" or nests groups deeper than 1024 levels.
DeencapsulatedRtf deencapsulate_rtf(std::string_view rtf);
inline DeencapsulatedRtf deencapsulate_rtf(ByteView rtf) {
  return deencapsulate_rtf(
      std::string_view(reinterpret_cast<const char*>(rtf.data()), rtf.size()));
}

// The code page of an RTF \fcharsetN (RTF 1.9.1); 0 for "the document's default" (1 DEFAULT,
// 2 SYMBOL and anything unknown).
uint32_t charset_code_page(int64_t charset);

// Decodes 8-bit text in a Windows code page (1250, 1251, 1252, 932, 65001, ...) to UTF-8 with
// glibc's iconv. Bytes that are invalid in the code page become U+FFFD. An unknown code page
// falls back to 1252.
std::string decode_code_page(std::string_view bytes, uint32_t code_page);

}  // namespace openmapi::rtf
