// An IStream over bytes in memory (the library's streams of values it converts whole: the RTF
// inside a compressed-RTF stream, a PT_UNICODE value in UTF-16), and the chunked copy the
// library's streams share for IStream::CopyTo.
// Ownership: COM (one reference from new). Thread safety: one thread at a time.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "capi/com_object.h"
#include "mapiguid.h"

namespace openmapi::capi {

// Copies up to cb bytes from `from` to `to` in 64 KiB pieces (IStream::CopyTo of streams that
// read piece by piece); read and written get what went each way.
inline HRESULT copy_stream(IStream* from, IStream* to, ULARGE_INTEGER cb, ULARGE_INTEGER* read, ULARGE_INTEGER* written) {
  if (!to) return STG_E_INVALIDPOINTER;
  uint64_t left = cb.QuadPart, in = 0, out = 0;
  std::vector<uint8_t> buf(65536);
  HRESULT hr = S_OK;
  while (left > 0) {
    ULONG got = 0;
    if (FAILED(hr = from->Read(buf.data(), ULONG(std::min<uint64_t>(left, buf.size())), &got)) || got == 0) break;
    in += got;
    ULONG put = 0;
    hr = to->Write(buf.data(), got, &put);
    out += put;
    if (FAILED(hr) || put < got) break;
    left -= got;
  }
  if (read) read->QuadPart = in;
  if (written) written->QuadPart = out;
  return FAILED(hr) ? hr : S_OK;
}

// An IStream over bytes in memory; Commit hands them to `commit` (when set).
class MemoryStream final : public ComObject<MemoryStream, IStream, IID_IStream> {
 public:
  using CommitFn = std::function<HRESULT(const std::vector<uint8_t>&)>;
  // `max`: the size writes may grow it to (STG_E_MEDIUMFULL beyond).
  MemoryStream(std::vector<uint8_t> data, bool writable, uint64_t max, CommitFn commit)
      : data_(std::move(data)), writable_(writable), max_(max), commit_(std::move(commit)) {}

  HRESULT STDMETHODCALLTYPE Read(void* pv, ULONG cb, ULONG* read) override {
    if (read) *read = 0;
    if (!pv && cb) return STG_E_INVALIDPOINTER;
    const size_t n = pos_ >= data_.size() ? 0 : std::min<size_t>(cb, data_.size() - size_t(pos_));
    if (n) std::memcpy(pv, data_.data() + pos_, n);
    pos_ += n;
    if (read) *read = ULONG(n);
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Write(const void* pv, ULONG cb, ULONG* written) override {
    if (written) *written = 0;
    if (!writable_) return STG_E_ACCESSDENIED;
    if (!pv && cb) return STG_E_INVALIDPOINTER;
    if (pos_ + cb > max_) return STG_E_MEDIUMFULL;
    if (pos_ + cb > data_.size()) data_.resize(size_t(pos_ + cb));
    if (cb) std::memcpy(data_.data() + pos_, pv, cb);
    pos_ += cb;
    if (written) *written = cb;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Seek(LARGE_INTEGER move, DWORD origin, ULARGE_INTEGER* at) override {
    const int64_t base = origin == STREAM_SEEK_SET ? 0 : origin == STREAM_SEEK_CUR ? int64_t(pos_) : origin == STREAM_SEEK_END ? int64_t(data_.size()) : -1;
    if (base < 0) return STG_E_INVALIDFUNCTION;
    const int64_t target = base + move.QuadPart;
    if (target < 0 || (move.QuadPart > 0 && target < base)) return STG_E_SEEKERROR;
    pos_ = uint64_t(target);
    if (at) at->QuadPart = pos_;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE SetSize(ULARGE_INTEGER size) override {
    if (!writable_) return STG_E_ACCESSDENIED;
    if (size.QuadPart > max_) return STG_E_MEDIUMFULL;
    data_.resize(size_t(size.QuadPart));
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE CopyTo(IStream* to, ULARGE_INTEGER cb, ULARGE_INTEGER* read, ULARGE_INTEGER* written) override {
    if (!to) return STG_E_INVALIDPOINTER;
    const size_t n = pos_ >= data_.size() ? 0 : size_t(std::min<uint64_t>(cb.QuadPart, data_.size() - pos_));
    ULONG put = 0;
    const HRESULT hr = n ? to->Write(data_.data() + pos_, ULONG(n), &put) : S_OK;
    pos_ += n;
    if (read) read->QuadPart = n;
    if (written) written->QuadPart = put;
    return hr;
  }
  HRESULT STDMETHODCALLTYPE Commit(DWORD) override { return commit_ && writable_ ? commit_(data_) : S_OK; }
  HRESULT STDMETHODCALLTYPE Revert() override { return S_OK; }
  HRESULT STDMETHODCALLTYPE LockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }
  HRESULT STDMETHODCALLTYPE UnlockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }
  HRESULT STDMETHODCALLTYPE Stat(STATSTG* st, DWORD) override {
    if (!st) return STG_E_INVALIDPOINTER;
    std::memset(st, 0, sizeof *st);
    st->type = STGTY_STREAM;
    st->cbSize.QuadPart = data_.size();
    st->grfMode = writable_ ? STGM_READWRITE : STGM_READ;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Clone(IStream** out) override {
    if (!out) return STG_E_INVALIDPOINTER;
    auto* c = new MemoryStream(data_, false, max_, nullptr);  // a snapshot to read
    c->pos_ = pos_;
    *out = c;
    return S_OK;
  }

 private:
  std::vector<uint8_t> data_;
  bool writable_;
  uint64_t max_;
  CommitFn commit_;
  uint64_t pos_ = 0;
};


}  // namespace openmapi::capi
