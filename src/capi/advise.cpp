// HrAllocAdviseSink and HrThisThreadAdviseSink (capi/include/mapiutil.h).

#include "mapiguid.h"
#include "mapiutil.h"
#include "capi/com_object.h"

namespace {

class CallbackSink final : public openmapi::capi::ComObject<CallbackSink, IMAPIAdviseSink, IID_IMAPIAdviseSink> {
 public:
  CallbackSink(LPNOTIFCALLBACK callback, LPVOID context) : callback_(callback), context_(context) {}
  ULONG STDMETHODCALLTYPE OnNotify(ULONG count, LPNOTIFICATION notifications) override {
    return ULONG(callback_(context_, count, notifications));
  }

 private:
  LPNOTIFCALLBACK callback_;
  LPVOID context_;
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
