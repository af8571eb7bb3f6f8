// MAPIGetDefaultMalloc (capi/include/mapix.h): an IMalloc over malloc that knows its blocks.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "mapix.h"

namespace {

class DefaultMalloc final : public IMalloc {
 public:
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID iid, void** out) override {
    if (!out) return E_POINTER;
    if (iid == IID_IUnknown || iid == IID_IMalloc) {
      *out = static_cast<IMalloc*>(this);
      return S_OK;
    }
    *out = nullptr;
    return E_NOINTERFACE;
  }
  // The process's one allocator is never freed: the counts are only answered.
  ULONG STDMETHODCALLTYPE AddRef() override { return 2; }
  ULONG STDMETHODCALLTYPE Release() override { return 1; }

  void* STDMETHODCALLTYPE Alloc(SIZE_T cb) override {
    void* p = std::malloc(cb ? cb : 1);
    if (!p) return nullptr;
    std::lock_guard lock(mutex_);
    sizes_[p] = cb;
    return p;
  }
  void* STDMETHODCALLTYPE Realloc(void* pv, SIZE_T cb) override {
    if (!pv) return Alloc(cb);
    if (cb == 0) {
      Free(pv);
      return nullptr;
    }
    std::lock_guard lock(mutex_);
    auto it = sizes_.find(pv);
    if (it == sizes_.end()) return nullptr;  // not ours
    void* p = std::realloc(pv, cb);
    if (!p) return nullptr;  // the old block stays
    sizes_.erase(it);
    sizes_[p] = cb;
    return p;
  }
  void STDMETHODCALLTYPE Free(void* pv) override {
    if (!pv) return;
    {
      std::lock_guard lock(mutex_);
      if (!sizes_.erase(pv)) return;  // not ours: left alone
    }
    std::free(pv);
  }
  SIZE_T STDMETHODCALLTYPE GetSize(void* pv) override {
    std::lock_guard lock(mutex_);
    auto it = sizes_.find(pv);
    return it == sizes_.end() ? SIZE_T(-1) : it->second;
  }
  int STDMETHODCALLTYPE DidAlloc(void* pv) override {
    if (!pv) return -1;
    std::lock_guard lock(mutex_);
    return sizes_.count(pv) ? 1 : 0;
  }
  void STDMETHODCALLTYPE HeapMinimize() override {}

 private:
  std::mutex mutex_;
  std::unordered_map<void*, SIZE_T> sizes_;
};

}  // namespace

extern "C" LPMALLOC STDAPICALLTYPE MAPIGetDefaultMalloc(void) {
  static DefaultMalloc* instance = new DefaultMalloc;  // never destroyed: usable until the process ends
  return instance;
}
