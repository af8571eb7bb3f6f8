// WrapCompressedRTFStream (capi/include/mapiutil.h): the RTF of a PidTagRtfCompressed stream
// (MS-OXRTFCP, formats/rtf) as a stream of plain RTF, read and — with MAPI_MODIFY — written back
// compressed on Commit.
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "core/error.h"
#include "formats/rtf/compressed_rtf.h"
#define OPENMAPI_CODES_AS_ENUM
#include "mapiguid.h"
#include "mapiutil.h"
#include "capi/com_object.h"

namespace {

using openmapi::ErrorCode;
using openmapi::MapiError;

// An IStream over bytes in memory; Commit hands them to `commit` (when set).
class MemoryStream final : public openmapi::capi::ComObject<MemoryStream, IStream, IID_IStream> {
 public:
  MemoryStream(std::vector<uint8_t> data, bool writable, std::function<HRESULT(const std::vector<uint8_t>&)> commit)
      : data_(std::move(data)), writable_(writable), commit_(std::move(commit)) {}

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
    if (pos_ + cb > kMax) return STG_E_MEDIUMFULL;
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
    if (size.QuadPart > kMax) return STG_E_MEDIUMFULL;
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
    auto* c = new MemoryStream(data_, false, nullptr);  // a snapshot to read
    c->pos_ = pos_;
    *out = c;
    return S_OK;
  }

 private:
  static constexpr uint64_t kMax = openmapi::rtf::kDefaultMaxRtfSize;
  std::vector<uint8_t> data_;
  bool writable_;
  std::function<HRESULT(const std::vector<uint8_t>&)> commit_;
  uint64_t pos_ = 0;
};

}  // namespace

extern "C" HRESULT STDAPICALLTYPE WrapCompressedRTFStream(LPSTREAM compressed, ULONG flags, LPSTREAM* out) {
  if (!compressed || !out) return SCODE(ErrorCode::MAPI_E_INVALID_PARAMETER);
  *out = nullptr;
  if (flags & ~(MAPI_MODIFY | STORE_UNCOMPRESSED_RTF)) return SCODE(ErrorCode::MAPI_E_UNKNOWN_FLAGS);
  // The compressed stream as it is now (a new, empty one is an empty RTF).
  std::vector<uint8_t> packed;
  uint8_t chunk[65536];
  for (;;) {
    ULONG n = 0;
    const HRESULT hr = compressed->Read(chunk, sizeof chunk, &n);
    if (FAILED(hr)) return hr;
    if (n == 0) break;
    if (packed.size() + n > openmapi::rtf::kDefaultMaxRtfSize + 16) return SCODE(ErrorCode::MAPI_E_TOO_BIG);
    packed.insert(packed.end(), chunk, chunk + n);
  }
  std::vector<uint8_t> rtf;
  if (!packed.empty()) {
    try {
      const openmapi::Bytes b = openmapi::rtf::decompress_rtf(openmapi::ByteView(packed.data(), packed.size()));
      rtf.assign(b.begin(), b.end());
    } catch (const MapiError& e) {
      return SCODE(e.code());  // MAPI_E_CORRUPT_DATA, MAPI_E_TOO_BIG
    }
  }
  const bool modify = (flags & MAPI_MODIFY) != 0;
  const auto compression = (flags & STORE_UNCOMPRESSED_RTF) ? openmapi::rtf::RtfCompression::Uncompressed : openmapi::rtf::RtfCompression::Compressed;
  // The compressed stream, held (one reference) while the wrapper may still commit to it.
  struct Target {
    explicit Target(IStream* stream) : s(stream) { s->AddRef(); }
    ~Target() { s->Release(); }
    Target(const Target&) = delete;
    Target& operator=(const Target&) = delete;
    IStream* s;
  };
  auto target = std::make_shared<Target>(compressed);
  auto commit = [target, compression](const std::vector<uint8_t>& data) -> HRESULT {
    openmapi::Bytes packed_now;
    try {
      packed_now = openmapi::rtf::compress_rtf(openmapi::ByteView(data.data(), data.size()), compression);
    } catch (const MapiError& e) {
      return SCODE(e.code());
    }
    IStream* s = target->s;
    LARGE_INTEGER zero;
    zero.QuadPart = 0;
    HRESULT hr = s->Seek(zero, STREAM_SEEK_SET, nullptr);
    ULONG put = 0;
    if (SUCCEEDED(hr)) hr = s->Write(packed_now.data(), ULONG(packed_now.size()), &put);
    ULARGE_INTEGER size;
    size.QuadPart = packed_now.size();
    if (SUCCEEDED(hr)) hr = s->SetSize(size);
    if (SUCCEEDED(hr)) hr = s->Commit(STGC_DEFAULT);
    return hr;
  };
  *out = new MemoryStream(std::move(rtf), modify, modify ? std::function<HRESULT(const std::vector<uint8_t>&)>(commit) : nullptr);
  if (!modify) target.reset();  // reading needs the compressed stream no more
  return S_OK;
}
