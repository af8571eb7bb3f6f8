/* The Windows base types MAPI programs use, for LP64 Linux (OpenMAPI's C ABI, issue 12).
 * Written from the Windows data types documentation: ULONG and LONG are 32 bits wide as on
 * Windows (not `long`), WCHAR is a UTF-16 code unit (char16_t: write u"text", or build with
 * -fshort-wchar for L"text"), HRESULT/SCODE are 32-bit signed. Calling conventions do not exist
 * on x86-64 Linux: WINAPI, STDMETHODCALLTYPE and friends expand to nothing. */
#ifndef OPENMAPI_WINNT_H
#define OPENMAPI_WINNT_H

#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
#include <cstdint>
#else
#include <uchar.h>
#endif

#define WINAPI
#define APIENTRY
#define CALLBACK
#define STDMETHODCALLTYPE
#define STDAPICALLTYPE
#define __stdcall
#define __cdecl
#define FAR
#define NEAR
#define CONST const
#ifndef IN
#define IN
#endif
#ifndef OUT
#define OUT
#endif
#ifndef OPTIONAL
#define OPTIONAL
#endif

#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C extern
#endif

typedef void VOID;
typedef char CHAR;
typedef unsigned char UCHAR;
typedef unsigned char BYTE;
typedef int16_t SHORT;
typedef uint16_t USHORT;
typedef uint16_t WORD;
typedef int32_t INT;
typedef uint32_t UINT;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef int32_t BOOL;
typedef BYTE BOOLEAN;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uint64_t DWORDLONG;
typedef float FLOAT;
typedef double DOUBLE;
typedef intptr_t INT_PTR;
typedef uintptr_t UINT_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;
typedef ULONG_PTR DWORD_PTR;
typedef ULONG_PTR SIZE_T;
typedef char16_t WCHAR;

typedef VOID* PVOID;
typedef VOID* LPVOID;
typedef const VOID* LPCVOID;
typedef BYTE* LPBYTE;
typedef BYTE* PBYTE;
typedef BOOL* LPBOOL;
typedef WORD* LPWORD;
typedef LONG* LPLONG;
typedef ULONG* LPULONG;
typedef ULONG* PULONG;
typedef DWORD* LPDWORD;
typedef CHAR* LPSTR;
typedef const CHAR* LPCSTR;
typedef WCHAR* LPWSTR;
typedef const WCHAR* LPCWSTR;
typedef WCHAR* PWSTR;
typedef const WCHAR* PCWSTR;
typedef void* HANDLE;
typedef HANDLE HWND;
typedef HANDLE HINSTANCE;
typedef HANDLE HMODULE;
typedef LONG HRESULT;
typedef ULONG LCID;
typedef WORD LANGID;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* TCHAR follows UNICODE, as on Windows. */
#ifdef UNICODE
typedef WCHAR TCHAR;
#define __TEXT(s) u##s
#else
typedef CHAR TCHAR;
#define __TEXT(s) s
#endif
#define TEXT(s) __TEXT(s)
typedef TCHAR* LPTSTR;
typedef const TCHAR* LPCTSTR;

typedef union _LARGE_INTEGER {
  struct {
    DWORD LowPart;
    LONG HighPart;
  } u;
  LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
  struct {
    DWORD LowPart;
    DWORD HighPart;
  } u;
  ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

#endif /* OPENMAPI_WINNT_H */
