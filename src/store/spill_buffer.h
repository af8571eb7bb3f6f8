// A growable byte buffer that stays in memory up to a threshold and then moves to an unlinked
// temporary file, so that streaming a 200 MB value keeps memory flat. Random access.
// Errors: MAPI_E_NOT_ENOUGH_DISK / MAPI_E_DISK_ERROR from the temporary file.
// Thread safety: none; one owner at a time (shared by a Stream and a pending change, never used
// by both at once).
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>

#include "core/bytes.h"
#include "store/store.h"

namespace openmapi::store {

class SpillBuffer {
 public:
  static constexpr size_t kMemoryLimit = 1 << 20;
  SpillBuffer() = default;
  ~SpillBuffer();
  SpillBuffer(const SpillBuffer&) = delete;
  SpillBuffer& operator=(const SpillBuffer&) = delete;

  uint64_t size() const { return size_; }
  // Reads up to `n` bytes at `pos`; returns how many (0 at or past the end).
  size_t read_at(uint64_t pos, uint8_t* out, size_t n) const;
  // Writes at `pos`, growing the buffer (a gap reads as zeros).
  void write_at(uint64_t pos, const uint8_t* data, size_t n);
  void resize(uint64_t n);
  // A reader of the whole content from the start (the buffer must outlive it).
  std::unique_ptr<PropertyStream> reader(std::shared_ptr<const SpillBuffer> self) const;
  // A source for StreamedValue, reading from the start.
  StreamSource source(std::shared_ptr<const SpillBuffer> self) const;
  // The content as one value (for small buffers).
  Bytes bytes() const;

 private:
  void spill();
  Bytes mem_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace openmapi::store
