// UTF-8 (inside) <-> UTF-16LE (at the edges). Invalid input throws MAPI_E_CORRUPT_DATA.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"

namespace openmapi {

std::u16string utf8_to_utf16(std::string_view utf8);
std::string utf16_to_utf8(std::u16string_view utf16);
// The UTF-16LE bytes of a UTF-8 string (no terminator).
Bytes utf8_to_utf16le(std::string_view utf8);
// Appends code point `cp` as UTF-8; a surrogate or a value past U+10FFFF becomes U+FFFD.
void append_utf8(std::string& out, char32_t cp);
// True if `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);
// Simple case folding for comparisons (ASCII and Latin-1/Latin Extended-A/Greek/Cyrillic ranges).
std::string fold_case(std::string_view utf8);
// A-Z lowered, every other byte kept: for ASCII names (addresses, message classes, extensions,
// keywords) compared without case.
std::string ascii_lower(std::string_view s);
// The Windows ANSI code page of a locale (an LCID, as in PidTagMessageLocaleId): 932 for
// Japanese 0x0411, 1251 for Russian 0x0419, 1252 for the Western languages ...; 0 for a locale
// this table does not know. For 8-bit strings of a message that names no code page.
uint32_t ansi_codepage_of_lcid(uint32_t lcid);

}  // namespace openmapi
