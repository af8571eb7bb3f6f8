// RTFSync (capi/include/mapiutil.h): PR_BODY and PR_RTF_COMPRESSED of a message made to agree,
// through the message's own IMAPIProp (any IMessage, of this library or not).
#include <cstring>
#include <string>

#include "capi/convert.h"
#include "core/unicode.h"
#include "formats/body/body.h"
#include "formats/rtf/compressed_rtf.h"
#include "formats/rtf/rtf_deencapsulate.h"
#include "formats/rtf/rtf_text.h"
#include "mapiguid.h"
#include "mapiutil.h"

namespace {

using openmapi::Bytes;
using openmapi::ErrorCode;

constexpr ULONG kRtfCompressed = PROP_TAG(PT_BINARY, 0x1009);
constexpr ULONG kBodyW = PROP_TAG(PT_UNICODE, 0x1000);
constexpr ULONG kRtfInSync = PROP_TAG(PT_BOOLEAN, 0x0E1F);
constexpr ULONG kSyncBodyCrc = PROP_TAG(PT_LONG, 0x1006);
constexpr ULONG kSyncBodyCount = PROP_TAG(PT_LONG, 0x1007);
constexpr ULONG kSyncBodyTag = PROP_TAG(PT_STRING8, 0x1008);
constexpr ULONG kSyncPrefixCount = PROP_TAG(PT_LONG, 0x1010);
constexpr ULONG kSyncTrailingCount = PROP_TAG(PT_LONG, 0x1011);

struct Failed {
  HRESULT hr;
};
void check(HRESULT hr) {
  if (FAILED(hr)) throw Failed{hr};
}

// The whole of a stream property (MAPI_E_NOT_FOUND when there is none).
Bytes read_property(LPMESSAGE m, ULONG tag) {
  LPSTREAM s = nullptr;
  check(m->OpenProperty(tag, &IID_IStream, STGM_READ, 0, reinterpret_cast<LPUNKNOWN*>(&s)));
  Bytes out;
  uint8_t buf[65536];
  HRESULT hr = S_OK;
  for (;;) {
    ULONG n = 0;
    hr = s->Read(buf, sizeof buf, &n);
    if (FAILED(hr) || n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  s->Release();
  check(hr);
  return out;
}

void write_property(LPMESSAGE m, ULONG tag, const Bytes& data) {
  LPSTREAM s = nullptr;
  check(m->OpenProperty(tag, &IID_IStream, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY, reinterpret_cast<LPUNKNOWN*>(&s)));
  ULONG put = 0;
  HRESULT hr = data.empty() ? S_OK : s->Write(data.data(), ULONG(data.size()), &put);
  if (SUCCEEDED(hr)) hr = s->Commit(0);
  s->Release();
  check(hr);
}

// The text a body shows, from RTF: the encapsulated text, the encapsulated HTML's text, or the
// RTF's own text.
std::string text_of_rtf(const Bytes& compressed) {
  const Bytes raw = openmapi::rtf::decompress_rtf(compressed);
  const std::string_view rtf(reinterpret_cast<const char*>(raw.data()), raw.size());
  if (rtf.empty()) return {};
  const auto d = openmapi::rtf::deencapsulate_rtf(rtf);
  if (d.kind == openmapi::rtf::RtfEncapsulation::Text) return d.content;
  if (d.kind == openmapi::rtf::RtfEncapsulation::Html) return openmapi::formats::html_to_text(d.content);
  return openmapi::rtf::rtf_to_text(rtf);
}

// PR_RTF_IN_SYNC and the sync properties over the body's significant characters (those that are
// not white space): their number, a CRC (MS-OXRTFCP's) of their UTF-8 bytes, and the first 32 of
// them as the tag. Windows' exact choice of characters is not documented; these are this
// library's, consistent between its own calls.
void mark_in_sync(LPMESSAGE m, const std::string& body) {
  std::string significant;
  for (unsigned char c : body)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') significant += char(c);
  std::string tag = significant.substr(0, 32);
  SPropValue v[6]{};
  v[0].ulPropTag = kRtfInSync;
  v[0].Value.b = TRUE;
  v[1].ulPropTag = kSyncBodyCount;
  v[1].Value.l = LONG(significant.size());
  v[2].ulPropTag = kSyncBodyCrc;
  v[2].Value.l = LONG(openmapi::rtf::compressed_rtf_crc(Bytes(significant.begin(), significant.end())));
  v[3].ulPropTag = kSyncBodyTag;
  v[3].Value.lpszA = tag.data();
  v[4].ulPropTag = kSyncPrefixCount;
  v[4].Value.l = 0;
  v[5].ulPropTag = kSyncTrailingCount;
  v[5].Value.l = 0;
  LPSPropProblemArray problems = nullptr;
  check(m->SetProps(6, v, &problems));
  MAPIFreeBuffer(problems);
}

bool in_sync(LPMESSAGE m) {
  LPSPropValue v = nullptr;
  if (HrGetOneProp(reinterpret_cast<LPMAPIPROP>(m), kRtfInSync, &v) != S_OK) return false;
  const bool yes = v->Value.b != 0;
  MAPIFreeBuffer(v);
  return yes;
}

}  // namespace

extern "C" HRESULT STDAPICALLTYPE RTFSync(LPMESSAGE m, ULONG flags, BOOL* updated) {
  if (!m || !updated) return HRESULT(ErrorCode::MAPI_E_INVALID_PARAMETER);
  *updated = FALSE;
  if (flags & ~(RTF_SYNC_RTF_CHANGED | RTF_SYNC_BODY_CHANGED)) return HRESULT(ErrorCode::MAPI_E_UNKNOWN_FLAGS);
  try {
    bool from_rtf = flags & RTF_SYNC_RTF_CHANGED;
    bool from_body = !from_rtf && (flags & RTF_SYNC_BODY_CHANGED);
    if (!from_rtf && !from_body) {
      if (in_sync(m)) return S_OK;
      from_rtf = true;  // nothing said: the RTF is taken as the truth, as Outlook writes it
    }
    if (from_rtf) {
      Bytes compressed;
      try {
        compressed = read_property(m, kRtfCompressed);
      } catch (const Failed& f) {
        if (f.hr != HRESULT(ErrorCode::MAPI_E_NOT_FOUND)) throw;
        if (flags & RTF_SYNC_RTF_CHANGED) return HRESULT(ErrorCode::MAPI_E_NOT_FOUND);
        return S_OK;  // no RTF to take the body from
      }
      const std::string text = text_of_rtf(compressed);
      const std::u16string w = openmapi::utf8_to_utf16(text);
      write_property(m, kBodyW, Bytes(reinterpret_cast<const uint8_t*>(w.data()), reinterpret_cast<const uint8_t*>(w.data()) + w.size() * 2));
      mark_in_sync(m, text);
    } else {
      Bytes wide;
      try {
        wide = read_property(m, kBodyW);
      } catch (const Failed& f) {
        if (f.hr != HRESULT(ErrorCode::MAPI_E_NOT_FOUND)) throw;
      }
      std::u16string w(wide.size() / 2, u'\0');
      if (!w.empty()) std::memcpy(w.data(), wide.data(), w.size() * 2);
      const std::string text = openmapi::utf16_to_utf8(w);
      const std::string rtf = openmapi::formats::text_to_rtf(text);
      write_property(m, kRtfCompressed, openmapi::rtf::compress_rtf(Bytes(rtf.begin(), rtf.end())));
      mark_in_sync(m, text);
    }
    *updated = TRUE;
    return S_OK;
  } catch (const Failed& f) {
    return f.hr;
  } catch (const openmapi::MapiError& e) {
    return HRESULT(e.code());
  } catch (const std::bad_alloc&) {
    return HRESULT(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
  } catch (...) {
    return HRESULT(ErrorCode::MAPI_E_CALL_FAILED);
  }
}
