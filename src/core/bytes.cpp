#include "core/bytes.h"

#include <bit>

#include "core/unicode.h"

namespace openmapi {

void BinaryReader::need(size_t n) const {
  if (n > remaining())
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA,
                "truncated data: need " + std::to_string(n) + " bytes at offset " +
                    std::to_string(pos_) + ", " + std::to_string(remaining()) + " left");
}

void BinaryReader::need_elements(uint64_t count, size_t min_size) const {
  if (min_size == 0) min_size = 1;
  if (count > remaining() / min_size)
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA,
                "element count " + std::to_string(count) + " at offset " + std::to_string(pos_) +
                    " exceeds the remaining " + std::to_string(remaining()) + " bytes");
}

uint64_t BinaryReader::take_le(size_t n) {
  need(n);
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(data_[pos_ + i]) << (8 * i);
  pos_ += n;
  return v;
}

float BinaryReader::f32() { return std::bit_cast<float>(u32()); }
double BinaryReader::f64() { return std::bit_cast<double>(u64()); }

ByteView BinaryReader::bytes(size_t n) {
  need(n);
  auto v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

std::string BinaryReader::utf16z() {
  std::u16string s;
  for (;;) {
    char16_t c = u16();
    if (c == 0) break;
    s.push_back(c);
  }
  return utf16_to_utf8(s);
}

std::string BinaryReader::str8z() {
  std::string s;
  for (;;) {
    char c = static_cast<char>(u8());
    if (c == 0) break;
    s.push_back(c);
  }
  return s;
}

void BinaryWriter::f32(float v) { u32(std::bit_cast<uint32_t>(v)); }
void BinaryWriter::f64(double v) { u64(std::bit_cast<uint64_t>(v)); }

void BinaryWriter::utf16z(std::string_view utf8) {
  for (char16_t c : utf8_to_utf16(utf8)) u16(c);
  u16(0);
}

void BinaryWriter::str8z(std::string_view s) {
  buf_.insert(buf_.end(), s.begin(), s.end());
  buf_.push_back(0);
}

std::string to_hex(ByteView data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

Bytes from_hex(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    else throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, std::string("not a hex digit: '") + c + "'");
    if (hi < 0) hi = v;
    else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "odd number of hex digits");
  return out;
}

}  // namespace openmapi
