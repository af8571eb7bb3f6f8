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
#include "capi/memory_stream.h"

using openmapi::ErrorCode;
using openmapi::MapiError;

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
  *out = new openmapi::capi::MemoryStream(std::move(rtf), modify, openmapi::rtf::kDefaultMaxRtfSize,
                                          modify ? openmapi::capi::MemoryStream::CommitFn(commit) : nullptr);
  if (!modify) target.reset();  // reading needs the compressed stream no more
  return S_OK;
}
