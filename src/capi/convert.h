// Between the C ABI's structures (SPropValue, SPropTagArray, SRestriction, SSortOrderSet,
// MAPINAMEID, SRowSet, ENTRYLIST) and the library's own (core/): the facade's only translation.
//
// In: every pointer and count a caller passes is checked before it is used (a NULL where a value
// must be, a count beyond kMaxCount, a restriction deeper than kMaxDepth, an unknown type):
// MAPI_E_INVALID_PARAMETER or MAPI_E_INVALID_TYPE, thrown as MapiError. Strings: PT_STRING8 and
// LPSTR are UTF-8 (code page 65001, the Linux locale's encoding); PT_UNICODE and LPWSTR UTF-16.
// Out: results are MAPI buffers (MAPIAllocateBuffer, the parts linked with MAPIAllocateMore), so
// the caller frees each with one MAPIFreeBuffer; rows are allocated as FreeProws frees them (the
// set, and each row's values on their own). MAPI_E_NOT_ENOUGH_MEMORY when allocation fails.
// Thread safety: all functions are pure; any thread.
#pragma once
#include "core/error.h"
#include "core/namedprop.h"
#include "core/propvalue.h"
#include "core/restriction.h"
#include "core/sortorder.h"
#include "store/objects.h"
#define OPENMAPI_CODES_AS_ENUM
#include "mapix.h"

namespace openmapi::capi {

inline constexpr ULONG kMaxCount = 1u << 20;  // values, tags, rows or names in one call
inline constexpr int kMaxDepth = 64;          // nesting of a restriction

// Strings in.
std::string utf8_of(LPCSTR s);
std::string utf8_of(const WCHAR* s);
// An LPTSTR argument: WCHAR* with MAPI_UNICODE in `flags`, else char* (NULL: "").
std::string text_arg(const void* s, ULONG flags);
// Bytes of an entry ID argument (MAPI_E_INVALID_ENTRYID for a NULL one with a size, or one
// shorter than its flags).
Bytes entry_id_of(ULONG cb, const ENTRYID* e);
// The entry IDs of an ENTRYLIST (NULL: none); MAPI_E_INVALID_PARAMETER for a malformed list.
std::vector<Bytes> entry_ids_of(const ENTRYLIST* list);

PropValue to_core(const SPropValue& v, int depth = 0);
// `depth`: how deep in a restriction the values are (PT_SRESTRICTION values nest).
std::vector<PropValue> to_core(const SPropValue* values, ULONG count, int depth = 0);
// NULL: an empty list.
std::vector<PropTag> to_core(const SPropTagArray* tags);
Restriction to_core(const SRestriction& r, int depth = 0);
SortOrderSet to_core(const SSortOrderSet& s);
PropertyName to_core(const MAPINAMEID& n);
// The rows of an ADRLIST (ModifyRecipients).
std::vector<PropertyBag> to_core(const ADRLIST& list);

// The allocators results are made with: MAPIAllocateBuffer / MAPIAllocateMore / MAPIFreeBuffer,
// unless an AllocatorScope on this thread names others (CreateIProp's caller's).
struct Allocators {
  LPALLOCATEBUFFER buffer = nullptr;
  LPALLOCATEMORE more = nullptr;
  LPFREEBUFFER free = nullptr;
};
class AllocatorScope {
 public:
  explicit AllocatorScope(const Allocators& a);
  ~AllocatorScope();
  AllocatorScope(const AllocatorScope&) = delete;
  AllocatorScope& operator=(const AllocatorScope&) = delete;

 private:
  Allocators saved_;
};
// A block of MAPI memory: a buffer (parent NULL) or one linked to parent; zeroed.
void* allocate(size_t size, void* parent = nullptr);
// Frees a buffer of allocate(size, nullptr) with everything linked to it.
void release(void* buffer);
template <class T>
T* allocate_of(size_t size, void* parent = nullptr) {
  return static_cast<T*>(allocate(size, parent));
}

// Writes `v` into `out`, the parts it points to linked to `parent`.
void to_c(const PropValue& v, SPropValue& out, void* parent);
LPSPropValue alloc_props(const std::vector<PropValue>& values);
LPSPropTagArray alloc_tags(const std::vector<PropTag>& tags);
LPSRowSet alloc_rows(const std::vector<store::Row>& rows);
// NULL when there are no problems (as MAPI returns).
LPSPropProblemArray alloc_problems(const store::PropProblems& problems);
LPSRestriction alloc_restriction(const Restriction& r);
LPENTRYLIST alloc_entry_list(const std::vector<Bytes>& ids);
LPENTRYID alloc_entry_id(const Bytes& id, void* parent = nullptr);
// A string for an LPTSTR result: WCHAR with MAPI_UNICODE in `flags`, else UTF-8.
void* alloc_text(const std::string& s, ULONG flags, void* parent = nullptr);

// Values as a caller asks for them: strings under tags of no string type come back as
// PT_UNICODE with MAPI_UNICODE, else as PT_STRING8.
PropValue as_asked(PropValue v, ULONG flags);

}  // namespace openmapi::capi
