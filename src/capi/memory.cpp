// MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer (capi/include/mapix.h).
//
// Each buffer has a header before it: a tag saying what it is, and the list of buffers
// MAPIAllocateMore linked to it (a root owns them; freeing the root frees the list). The list is
// changed under one lock, so buffers may be linked from several threads.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "mapix.h"

namespace {

constexpr uint32_t kRoot = 0x4D415042;  // "MAPB"
constexpr uint32_t kMore = 0x4D41504D;  // "MAPM"
constexpr uint32_t kFreed = 0x46524545;

struct alignas(16) Header {
  uint32_t tag;
  uint32_t size;
  Header* next;   // root: the first linked buffer; linked: the next one
  Header* root;   // linked: its root
};
static_assert(sizeof(Header) % 16 == 0, "buffers stay 16-byte aligned");

std::mutex& link_lock() {
  static std::mutex m;
  return m;
}

Header* header_of(void* p) { return p ? reinterpret_cast<Header*>(static_cast<char*>(p) - sizeof(Header)) : nullptr; }
void* data_of(Header* h) { return reinterpret_cast<char*>(h) + sizeof(Header); }

Header* allocate(ULONG cb, uint32_t tag) {
  void* p = std::aligned_alloc(alignof(Header), ((sizeof(Header) + size_t(cb) + 15) / 16) * 16);
  if (!p) return nullptr;
  Header* h = static_cast<Header*>(p);
  h->tag = tag;
  h->size = cb;
  h->next = nullptr;
  h->root = nullptr;
  return h;
}

}  // namespace

extern "C" {

SCODE STDMETHODCALLTYPE MAPIAllocateBuffer(ULONG cbSize, LPVOID* lppBuffer) {
  if (!lppBuffer) return MAPI_E_INVALID_PARAMETER;
  *lppBuffer = nullptr;
  Header* h = allocate(cbSize, kRoot);
  if (!h) return MAPI_E_NOT_ENOUGH_MEMORY;
  *lppBuffer = data_of(h);
  return S_OK;
}

SCODE STDMETHODCALLTYPE MAPIAllocateMore(ULONG cbSize, LPVOID lpObject, LPVOID* lppBuffer) {
  if (!lppBuffer) return MAPI_E_INVALID_PARAMETER;
  *lppBuffer = nullptr;
  Header* parent = header_of(lpObject);
  if (!parent || (parent->tag != kRoot && parent->tag != kMore)) return MAPI_E_INVALID_PARAMETER;
  Header* root = parent->tag == kRoot ? parent : parent->root;
  Header* h = allocate(cbSize, kMore);
  if (!h) return MAPI_E_NOT_ENOUGH_MEMORY;
  h->root = root;
  {
    std::lock_guard lock(link_lock());
    h->next = root->next;
    root->next = h;
  }
  *lppBuffer = data_of(h);
  return S_OK;
}

ULONG STDAPICALLTYPE MAPIFreeBuffer(LPVOID lpBuffer) {
  Header* h = header_of(lpBuffer);
  if (!h || h->tag != kRoot) return S_OK;  // NULL, or a linked buffer: freed with its root
  Header* more;
  {
    std::lock_guard lock(link_lock());
    more = h->next;
    h->next = nullptr;
  }
  while (more) {
    Header* next = more->next;
    more->tag = kFreed;
    std::free(more);
    more = next;
  }
  h->tag = kFreed;
  std::free(h);
  return S_OK;
}

}  // extern "C"
