// The one bounded reader and writer every byte parser goes through (little-endian, as MS-OXCDATA).
// Every read checks the remaining length first; a short buffer throws MAPI_E_CORRUPT_DATA.
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace openmapi {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

class BinaryReader {
 public:
  explicit BinaryReader(ByteView data) : data_(data) {}

  size_t remaining() const noexcept { return data_.size() - pos_; }
  size_t position() const noexcept { return pos_; }
  bool at_end() const noexcept { return pos_ == data_.size(); }

  uint8_t u8() { return static_cast<uint8_t>(take_le(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take_le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take_le(4)); }
  uint64_t u64() { return take_le(8); }
  int16_t i16() { return static_cast<int16_t>(u16()); }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  float f32();
  double f64();

  // `n` bytes as a view into the underlying buffer.
  ByteView bytes(size_t n);
  Bytes copy(size_t n) {
    auto v = bytes(n);
    return Bytes(v.begin(), v.end());
  }
  void skip(size_t n) { need(n), pos_ += n; }

  // A UTF-16LE string terminated by U+0000, returned as UTF-8.
  std::string utf16z();
  // An 8-bit string terminated by NUL, returned as stored.
  std::string str8z();

  // Throws MAPI_E_CORRUPT_DATA unless `n` more bytes are there.
  void need(size_t n) const;
  // Checks that `count` elements of at least `min_size` bytes each can still follow;
  // call before reserving memory for a count read from the input.
  void need_elements(uint64_t count, size_t min_size) const;

 private:
  uint64_t take_le(size_t n);
  ByteView data_;
  size_t pos_ = 0;
};

class BinaryWriter {
 public:
  void u8(uint8_t v) { buf_.push_back(v); }
  void u16(uint16_t v) { put_le(v, 2); }
  void u32(uint32_t v) { put_le(v, 4); }
  void u64(uint64_t v) { put_le(v, 8); }
  void i16(int16_t v) { u16(static_cast<uint16_t>(v)); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f32(float v);
  void f64(double v);
  void bytes(ByteView v) { buf_.insert(buf_.end(), v.begin(), v.end()); }
  // UTF-8 in, UTF-16LE with a terminating U+0000 out.
  void utf16z(std::string_view utf8);
  void str8z(std::string_view s);

  const Bytes& data() const noexcept { return buf_; }
  Bytes take() { return std::move(buf_); }
  size_t size() const noexcept { return buf_.size(); }
  // Drops everything after the first `n` bytes (a no-op when there are not more).
  void truncate(size_t n) {
    if (n < buf_.size()) buf_.resize(n);
  }
  void patch_u8(size_t offset, uint8_t v) { buf_.at(offset) = v; }
  // Overwrites a little-endian uint16 written earlier at `offset` (a count known only later).
  void patch_u16(size_t offset, uint16_t v) {
    buf_.at(offset) = uint8_t(v);
    buf_.at(offset + 1) = uint8_t(v >> 8);
  }

 private:
  void put_le(uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes buf_;
};

// Hex helpers for logs, tests and the CLI.
std::string to_hex(ByteView data);
// Throws MAPI_E_INVALID_PARAMETER on an odd length or a non-hex digit. Whitespace is ignored.
Bytes from_hex(std::string_view hex);

}  // namespace openmapi
