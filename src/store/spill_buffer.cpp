#include "store/spill_buffer.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include "core/error.h"

namespace openmapi::store {

SpillBuffer::~SpillBuffer() {
  if (file_) std::fclose(file_);
}

void SpillBuffer::spill() {
  file_ = std::tmpfile();  // unlinked: gone with the process, even after kill -9
  if (!file_) throw_error(ErrorCode::MAPI_E_DISK_ERROR, std::string("cannot create a temporary file: ") + std::strerror(errno));
  if (!mem_.empty() && std::fwrite(mem_.data(), 1, mem_.size(), file_) != mem_.size())
    throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_DISK, "cannot write a temporary file");
  Bytes().swap(mem_);
}

size_t SpillBuffer::read_at(uint64_t pos, uint8_t* out, size_t n) const {
  if (pos >= size_) return 0;
  n = size_t(std::min<uint64_t>(n, size_ - pos));
  if (!file_) {
    std::memcpy(out, mem_.data() + pos, n);
    return n;
  }
  if (fseeko(file_, off_t(pos), SEEK_SET) != 0) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot seek in a temporary file");
  size_t got = std::fread(out, 1, n, file_);
  if (got < n) std::memset(out + got, 0, n - got);  // a gap left by resize()
  return n;
}

void SpillBuffer::write_at(uint64_t pos, const uint8_t* data, size_t n) {
  if (n == 0) return;
  const uint64_t end = pos + n;
  if (!file_ && end > kMemoryLimit) spill();
  if (!file_) {
    if (mem_.size() < end) mem_.resize(size_t(end));
    std::memcpy(mem_.data() + pos, data, n);
  } else {
    if (fseeko(file_, off_t(pos), SEEK_SET) != 0) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot seek in a temporary file");
    if (std::fwrite(data, 1, n, file_) != n) throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_DISK, "cannot write a temporary file");
  }
  size_ = std::max(size_, end);
}

void SpillBuffer::resize(uint64_t n) {
  if (!file_ && n > kMemoryLimit) spill();
  if (!file_) {
    mem_.resize(size_t(n));
  } else {
    std::fflush(file_);
    if (ftruncate(fileno(file_), off_t(n)) != 0) throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_DISK, "cannot resize a temporary file");
  }
  size_ = n;
}

namespace {
class SpillReader : public PropertyStream {
 public:
  explicit SpillReader(std::shared_ptr<const SpillBuffer> b) : b_(std::move(b)) {}
  uint64_t size() const override { return b_->size(); }
  size_t read(uint8_t* out, size_t n) override {
    size_t got = b_->read_at(pos_, out, n);
    pos_ += got;
    return got;
  }

 private:
  std::shared_ptr<const SpillBuffer> b_;
  uint64_t pos_ = 0;
};
}  // namespace

std::unique_ptr<PropertyStream> SpillBuffer::reader(std::shared_ptr<const SpillBuffer> self) const {
  return std::make_unique<SpillReader>(std::move(self));
}

StreamSource SpillBuffer::source(std::shared_ptr<const SpillBuffer> self) const {
  auto r = std::make_shared<SpillReader>(std::move(self));
  return [r](uint8_t* buf, size_t n) { return r->read(buf, n); };
}

Bytes SpillBuffer::bytes() const {
  Bytes out(static_cast<size_t>(size_));
  if (size_) read_at(0, out.data(), out.size());
  return out;
}

}  // namespace openmapi::store
