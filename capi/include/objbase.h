/* OpenMAPI's C ABI: GUIDs and the COM shape of interfaces (Windows' guiddef.h, unknwn.h and the
 * interface macros of objbase.h, from the COM documentation). In C an interface is a struct whose
 * first member, lpVtbl, points at its table of functions; in C++ it is an abstract class with the
 * same table (one pointer to the virtual table first, the methods in declaration order), so C
 * and C++ callers share objects. */
#ifndef OPENMAPI_OBJBASE_H
#define OPENMAPI_OBJBASE_H
#include <string.h>

#include "winbase.h"
#include "winerror.h"

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
  ULONG Data1;
  USHORT Data2;
  USHORT Data3;
  BYTE Data4[8];
} GUID;
#endif
typedef GUID IID;
typedef GUID CLSID;
typedef GUID* LPGUID;
typedef IID* LPIID;
typedef CLSID* LPCLSID;
#ifdef __cplusplus
#define REFGUID const GUID&
#define REFIID const IID&
#define REFCLSID const CLSID&
inline bool IsEqualGUID(REFGUID a, REFGUID b) { return memcmp(&a, &b, sizeof(GUID)) == 0; }
inline bool operator==(REFGUID a, REFGUID b) { return IsEqualGUID(a, b); }
inline bool operator!=(REFGUID a, REFGUID b) { return !IsEqualGUID(a, b); }
#else
#define REFGUID const GUID*
#define REFIID const IID*
#define REFCLSID const CLSID*
#define IsEqualGUID(a, b) (memcmp((a), (b), sizeof(GUID)) == 0)
#endif
#define IsEqualIID(a, b) IsEqualGUID(a, b)
#define IsEqualCLSID(a, b) IsEqualGUID(a, b)

/* DEFINE_GUID declares the GUID; after #include <initguid.h> it defines it (one file per
 * program). A const object at file scope has
 * external linkage in C, and needs extern "C" for it in C++. */
#ifdef __cplusplus
#define OPENMAPI_GUID_DEFINITION extern "C"
#else
#define OPENMAPI_GUID_DEFINITION
#endif
#ifdef INITGUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
  OPENMAPI_GUID_DEFINITION const GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) EXTERN_C const GUID name
#endif
#define DEFINE_OLEGUID(name, l, w1, w2) DEFINE_GUID(name, l, w1, w2, 0xC0, 0, 0, 0, 0, 0, 0, 0x46)

#define STDMETHODIMP HRESULT STDMETHODCALLTYPE
#define STDMETHODIMP_(type) type STDMETHODCALLTYPE
#define STDAPI EXTERN_C HRESULT STDAPICALLTYPE
#define STDAPI_(type) EXTERN_C type STDAPICALLTYPE

#if defined(__cplusplus) && !defined(CINTERFACE)
#define interface struct
#define STDMETHOD(method) virtual HRESULT STDMETHODCALLTYPE method
#define STDMETHOD_(type, method) virtual type STDMETHODCALLTYPE method
#define PURE = 0
#define THIS_
#define THIS void
#define DECLARE_INTERFACE(iface) interface iface
#define DECLARE_INTERFACE_(iface, base) interface iface : public base
#else
#define interface struct
#define STDMETHOD(method) HRESULT(STDMETHODCALLTYPE* method)
#define STDMETHOD_(type, method) type(STDMETHODCALLTYPE* method)
#define PURE
#define THIS_ INTERFACE* This,
#define THIS INTERFACE* This
#define DECLARE_INTERFACE(iface)             \
  typedef interface iface {                  \
    const struct iface##Vtbl* lpVtbl;        \
  } iface;                                   \
  typedef const struct iface##Vtbl iface##Vtbl; \
  struct iface##Vtbl
#define DECLARE_INTERFACE_(iface, base) DECLARE_INTERFACE(iface)
#endif

/* The GUIDs of these headers are defined in the library (as Windows' uuid.lib defines them), so
 * they are only declared here, whether or not INITGUID is on: DEFINE_GUID with <initguid.h> is
 * for a program's own GUIDs. */
#define OPENMAPI_LIBRARY_GUID(name) EXTERN_C const GUID name

/* IUnknown: reference counting and QueryInterface by IID ({00000000-0000-0000-C000-000000000046}). */
OPENMAPI_LIBRARY_GUID(IID_IUnknown);
#undef INTERFACE
#define INTERFACE IUnknown
DECLARE_INTERFACE(IUnknown) {
  STDMETHOD(QueryInterface)(THIS_ REFIID riid, LPVOID* ppvObj) PURE;
  STDMETHOD_(ULONG, AddRef)(THIS) PURE;
  STDMETHOD_(ULONG, Release)(THIS) PURE;
};
#undef INTERFACE
typedef IUnknown* LPUNKNOWN;

/* In C an interface's table starts with IUnknown's three methods again; in C++ they are
 * inherited from IUnknown. Every interface after IUnknown begins with this. */
#if !defined(__cplusplus) || defined(CINTERFACE)
#define OPENMAPI_IUNKNOWN_METHODS                                  \
  STDMETHOD(QueryInterface)(THIS_ REFIID riid, LPVOID* ppvObj) PURE; \
  STDMETHOD_(ULONG, AddRef)(THIS) PURE;                            \
  STDMETHOD_(ULONG, Release)(THIS) PURE;
#else
#define OPENMAPI_IUNKNOWN_METHODS
#endif

/* IMalloc: the COM task allocator shape ({00000002-0000-0000-C000-000000000046}). */
OPENMAPI_LIBRARY_GUID(IID_IMalloc);
#define INTERFACE IMalloc
DECLARE_INTERFACE_(IMalloc, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD_(void*, Alloc)(THIS_ SIZE_T cb) PURE;
  STDMETHOD_(void*, Realloc)(THIS_ void* pv, SIZE_T cb) PURE;
  STDMETHOD_(void, Free)(THIS_ void* pv) PURE;
  STDMETHOD_(SIZE_T, GetSize)(THIS_ void* pv) PURE;
  STDMETHOD_(int, DidAlloc)(THIS_ void* pv) PURE;
  STDMETHOD_(void, HeapMinimize)(THIS) PURE;
};
#undef INTERFACE
typedef IMalloc* LPMALLOC;

/* IStream (Windows' objidl.h): a seekable byte stream ({0000000C-0000-0000-C000-000000000046},
 * IID_IStream in mapiguid.h). */
typedef WCHAR OLECHAR;
typedef OLECHAR* LPOLESTR;
#define STGM_READ 0x00000000L
#define STGM_WRITE 0x00000001L
#define STGM_READWRITE 0x00000002L
#define STGM_SHARE_DENY_NONE 0x00000040L
#define STGM_SHARE_DENY_READ 0x00000030L
#define STGM_SHARE_DENY_WRITE 0x00000020L
#define STGM_SHARE_EXCLUSIVE 0x00000010L
#define STGM_CREATE 0x00001000L
#define STGM_TRANSACTED 0x00010000L
#define STGM_DELETEONRELEASE 0x04000000L
#define STREAM_SEEK_SET 0
#define STREAM_SEEK_CUR 1
#define STREAM_SEEK_END 2
#define STATFLAG_DEFAULT 0
#define STATFLAG_NONAME 1
#define STGTY_STREAM 2
#define STGC_DEFAULT 0
typedef struct tagSTATSTG {
  LPOLESTR pwcsName;
  DWORD type;
  ULARGE_INTEGER cbSize;
  FILETIME mtime;
  FILETIME ctime;
  FILETIME atime;
  DWORD grfMode;
  DWORD grfLocksSupported;
  CLSID clsid;
  DWORD grfStateBits;
  DWORD reserved;
} STATSTG;
#define INTERFACE IStream
DECLARE_INTERFACE_(IStream, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD(Read)(THIS_ void* pv, ULONG cb, ULONG* pcbRead) PURE;
  STDMETHOD(Write)(THIS_ const void* pv, ULONG cb, ULONG* pcbWritten) PURE;
  STDMETHOD(Seek)(THIS_ LARGE_INTEGER dlibMove, DWORD dwOrigin, ULARGE_INTEGER* plibNewPosition) PURE;
  STDMETHOD(SetSize)(THIS_ ULARGE_INTEGER libNewSize) PURE;
  STDMETHOD(CopyTo)(THIS_ struct IStream* pstm, ULARGE_INTEGER cb, ULARGE_INTEGER* pcbRead, ULARGE_INTEGER* pcbWritten) PURE;
  STDMETHOD(Commit)(THIS_ DWORD grfCommitFlags) PURE;
  STDMETHOD(Revert)(THIS) PURE;
  STDMETHOD(LockRegion)(THIS_ ULARGE_INTEGER libOffset, ULARGE_INTEGER cb, DWORD dwLockType) PURE;
  STDMETHOD(UnlockRegion)(THIS_ ULARGE_INTEGER libOffset, ULARGE_INTEGER cb, DWORD dwLockType) PURE;
  STDMETHOD(Stat)(THIS_ STATSTG* pstatstg, DWORD grfStatFlag) PURE;
  STDMETHOD(Clone)(THIS_ struct IStream** ppstm) PURE;
};
#undef INTERFACE
typedef IStream* LPSTREAM;

#endif
