// HrAllocAdviseSink and HrThisThreadAdviseSink (capi/include/mapiutil.h).
#include <atomic>

#include "mapiguid.h"
#include "mapiutil.h"

namespace {

class CallbackSink final : public IMAPIAdviseSink {
 public:
  CallbackSink(LPNOTIFCALLBACK callback, LPVOID context) : callback_(callback), context_(context) {}
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID iid, void** out) override {
    if (!out) return E_POINTER;
    if (iid == IID_IUnknown || iid == IID_IMAPIAdviseSink) {
      *out = static_cast<IMAPIAdviseSink*>(this);
      AddRef();
      return S_OK;
    }
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return ++refs_; }
  ULONG STDMETHODCALLTYPE Release() override {
    const ULONG r = --refs_;
    if (r == 0) delete this;
    return r;
  }
  ULONG STDMETHODCALLTYPE OnNotify(ULONG count, LPNOTIFICATION notifications) override {
    return ULONG(callback_(context_, count, notifications));
  }

 private:
  LPNOTIFCALLBACK callback_;
  LPVOID context_;
  std::atomic<ULONG> refs_{1};
};

}  // namespace

extern "C" {

HRESULT STDAPICALLTYPE HrAllocAdviseSink(LPNOTIFCALLBACK callback, LPVOID context, LPMAPIADVISESINK* out) {
  if (!out) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  if (!callback) return MAPI_E_INVALID_PARAMETER;
  *out = new CallbackSink(callback, context);
  return S_OK;
}

HRESULT STDAPICALLTYPE HrThisThreadAdviseSink(LPMAPIADVISESINK sink, LPMAPIADVISESINK* out) {
  if (!sink || !out) return MAPI_E_INVALID_PARAMETER;
  sink->AddRef();
  *out = sink;
  return S_OK;
}

}  // extern "C"
