#include "core/unicode.h"

#include "core/error.h"

namespace openmapi {
namespace {

// Decodes one code point at s[i]; returns false on malformed UTF-8.
bool decode_utf8(std::string_view s, size_t& i, char32_t& cp) {
  auto b0 = static_cast<uint8_t>(s[i]);
  int len;
  if (b0 < 0x80) { cp = b0; len = 1; }
  else if ((b0 & 0xE0) == 0xC0) { cp = b0 & 0x1F; len = 2; }
  else if ((b0 & 0xF0) == 0xE0) { cp = b0 & 0x0F; len = 3; }
  else if ((b0 & 0xF8) == 0xF0) { cp = b0 & 0x07; len = 4; }
  else return false;
  if (i + len > s.size()) return false;
  for (int k = 1; k < len; ++k) {
    auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

char32_t fold(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;                 // Latin-1
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149)
    return ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) ? (c % 2 ? c + 1 : c)
                                                                      : (c % 2 ? c : c + 1);
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;                 // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                               // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  char32_t cp;
  while (i < s.size())
    if (!decode_utf8(s, i, cp)) return false;
  return true;
}

std::u16string utf8_to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  size_t i = 0;
  char32_t cp;
  while (i < s.size()) {
    if (!decode_utf8(s, i, cp))
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "invalid UTF-8 at byte " + std::to_string(i));
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

std::string utf16_to_utf8(std::u16string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF) {
      if (i + 1 >= s.size() || s[i + 1] < 0xDC00 || s[i + 1] > 0xDFFF)
        throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "unpaired UTF-16 surrogate at unit " + std::to_string(i));
      c = 0x10000 + ((c - 0xD800) << 10) + (s[++i] - 0xDC00);
    } else if (c >= 0xDC00 && c <= 0xDFFF) {
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "unpaired UTF-16 surrogate at unit " + std::to_string(i));
    }
    append_utf8(out, c);
  }
  return out;
}

std::string fold_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  char32_t cp;
  while (i < s.size()) {
    size_t start = i;
    if (!decode_utf8(s, i, cp)) {  // keep bytes of malformed input as they are
      out.push_back(s[start]);
      i = start + 1;
      continue;
    }
    append_utf8(out, fold(cp));
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

uint32_t ansi_codepage_of_lcid(uint32_t lcid) {
  const uint32_t lang = lcid & 0x3FF;  // the primary language; the sublanguage decides a few
  switch (lcid & 0xFFFF) {
    case 0x0804: case 0x1004: return 936;               // Chinese, simplified (PRC, Singapore)
    case 0x0404: case 0x0C04: case 0x1404: return 950;  // Chinese, traditional (Taiwan, Hong Kong, Macao)
    case 0x0C1A: case 0x1C1A: case 0x201A: case 0x281A: case 0x301A: return 1251;  // Serbian, Bosnian Cyrillic
    case 0x042C: case 0x0443: return 1254;              // Azeri, Uzbek Latin
    case 0x082C: case 0x0843: return 1251;              // Azeri, Uzbek Cyrillic
    default: break;
  }
  switch (lang) {
    case 0x11: return 932;  // Japanese
    case 0x12: return 949;  // Korean
    case 0x1E: return 874;  // Thai
    case 0x2A: return 1258;  // Vietnamese
    case 0x05: case 0x0E: case 0x15: case 0x18: case 0x1A: case 0x1B: case 0x1C: case 0x24: case 0x42:
      return 1250;  // Czech, Hungarian, Polish, Romanian, Croatian/Serbian/Bosnian Latin, Slovak, Albanian, Slovenian, Turkmen
    case 0x02: case 0x19: case 0x22: case 0x23: case 0x28: case 0x2F: case 0x3F: case 0x40: case 0x44: case 0x50:
    case 0x6D: case 0x85:
      return 1251;  // Bulgarian, Russian, Ukrainian, Belarusian, Tajik, Macedonian, Kazakh, Kyrgyz, Tatar, Mongolian, Bashkir, Sakha
    case 0x08: return 1253;  // Greek
    case 0x1F: return 1254;  // Turkish
    case 0x0D: return 1255;  // Hebrew
    case 0x01: case 0x20: case 0x29: case 0x80: case 0x8C: return 1256;  // Arabic, Urdu, Persian, Uyghur, Dari
    case 0x25: case 0x26: case 0x27: return 1257;  // Estonian, Latvian, Lithuanian
    case 0x03: case 0x06: case 0x07: case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0F: case 0x10: case 0x13:
    case 0x14: case 0x16: case 0x1D: case 0x21: case 0x2D: case 0x36: case 0x38: case 0x3E: case 0x41: case 0x56:
      return 1252;  // Catalan, Danish, German, English, Spanish, Finnish, French, Icelandic, Italian, Dutch,
                    // Norwegian, Portuguese, Swedish, Indonesian, Basque, Afrikaans, Faroese, Malay, Swahili, Galician
    default: return 0;
  }
}

Bytes utf8_to_utf16le(std::string_view utf8) {
  const std::u16string units = utf8_to_utf16(utf8);
  Bytes out;
  out.reserve(units.size() * 2);
  for (char16_t c : units) {
    out.push_back(uint8_t(c));
    out.push_back(uint8_t(c >> 8));
  }
  return out;
}

}  // namespace openmapi
