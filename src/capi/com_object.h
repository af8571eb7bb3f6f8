// The IUnknown part of the library's own COM objects: a reference count from 1 that deletes the
// object at 0, and QueryInterface answering IID_IUnknown and each IID of the interface's chain
// (IMAPIFolder answers IID_IMAPIFolder, IID_IMAPIContainer and IID_IMAPIProp). CRTP, so that the
// interface's table of functions stays exactly its own (no virtual destructor is added to it).
// A Derived with `void* query_own(REFIID)` answers further IIDs through it (the library's private
// ones).
// Thread safety: the count is atomic; the rest is the object's own.
#pragma once
#include <atomic>

#include "objbase.h"

namespace openmapi::capi {

template <class Derived, class Interface, const IID&... kInterfaceIds>
class ComObject : public Interface {
 public:
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID iid, void** out) override {
    if (!out) return E_POINTER;
    if (iid == IID_IUnknown || ((iid == kInterfaceIds) || ...)) {
      *out = static_cast<Interface*>(this);
      AddRef();
      return S_OK;
    }
    if constexpr (requires(Derived& d) { d.query_own(iid); }) {
      if (void* own = static_cast<Derived*>(this)->query_own(iid)) {
        *out = own;
        AddRef();
        return S_OK;
      }
    }
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return ++refs_; }
  ULONG STDMETHODCALLTYPE Release() override {
    const ULONG r = --refs_;
    if (r == 0) delete static_cast<Derived*>(this);
    return r;
  }

 private:
  std::atomic<ULONG> refs_{1};
};

}  // namespace openmapi::capi
