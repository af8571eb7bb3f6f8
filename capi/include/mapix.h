/* OpenMAPI's C ABI: the MAPI memory functions (Windows' mapix.h; what is declared here is
 * implemented). A buffer from MAPIAllocateBuffer owns every buffer MAPIAllocateMore links to it:
 * MAPIFreeBuffer on it frees them all. Buffers are aligned for any MAPI structure (16 bytes).
 * Thread safety: every function may be called from any thread. */
#ifndef OPENMAPI_MAPIX_H
#define OPENMAPI_MAPIX_H
#include "mapicode.h"
#include "mapidefs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef SCODE(STDMETHODCALLTYPE ALLOCATEBUFFER)(ULONG cbSize, LPVOID* lppBuffer);
typedef SCODE(STDMETHODCALLTYPE ALLOCATEMORE)(ULONG cbSize, LPVOID lpObject, LPVOID* lppBuffer);
typedef ULONG(STDAPICALLTYPE FREEBUFFER)(LPVOID lpBuffer);
typedef ALLOCATEBUFFER* LPALLOCATEBUFFER;
typedef ALLOCATEMORE* LPALLOCATEMORE;
typedef FREEBUFFER* LPFREEBUFFER;

/* S_OK; MAPI_E_INVALID_PARAMETER for a null lppBuffer; MAPI_E_NOT_ENOUGH_MEMORY. */
SCODE STDMETHODCALLTYPE MAPIAllocateBuffer(ULONG cbSize, LPVOID* lppBuffer);
/* As MAPIAllocateBuffer, linked to lpObject (a buffer of MAPIAllocateBuffer, or one linked to
 * it); MAPI_E_INVALID_PARAMETER when lpObject is not such a buffer. */
SCODE STDMETHODCALLTYPE MAPIAllocateMore(ULONG cbSize, LPVOID lpObject, LPVOID* lppBuffer);
/* Frees lpBuffer and everything linked to it; S_OK (also for NULL). A buffer of
 * MAPIAllocateMore is freed with its parent, not alone (S_OK, nothing happens). */
ULONG STDAPICALLTYPE MAPIFreeBuffer(LPVOID lpBuffer);

/* The process's IMalloc (one object, never freed: Release does not end it). GetSize answers the
 * size asked for; DidAlloc is exact (1 for its own blocks, 0 for others). */
LPMALLOC STDAPICALLTYPE MAPIGetDefaultMalloc(void);

#ifdef __cplusplus
}
#endif
#endif
