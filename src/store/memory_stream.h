// A PropertyStream over bytes held in memory (a value small enough to be stored inline).
#pragma once
#include <algorithm>

#include "store/store.h"

namespace openmapi::store {

class MemoryStream : public PropertyStream {
 public:
  explicit MemoryStream(Bytes data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  size_t read(uint8_t* out, size_t n) override {
    size_t k = std::min(n, data_.size() - at_);
    std::copy_n(data_.begin() + at_, k, out);
    at_ += k;
    return k;
  }

 private:
  Bytes data_;
  size_t at_ = 0;
};

}  // namespace openmapi::store
