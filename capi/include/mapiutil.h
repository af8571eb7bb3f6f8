/* OpenMAPI's C ABI: the utility functions of Windows' mapiutil.h that are implemented so far,
 * with the behaviour the MAPI reference documents (see docs/CAPI.md for what is not there yet).
 * Thread safety: every function may be called from any thread on distinct arguments. */
#ifndef OPENMAPI_MAPIUTIL_H
#define OPENMAPI_MAPIUTIL_H
#include "mapix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- property values */
/* The bytes of a value's data: fixed sizes for scalars, strings with their terminator (UTF-16
 * code units for PT_UNICODE), cb for binaries, the sum for multi-valued ones; 0 for NULL or a
 * type without data (PT_OBJECT, PT_NULL). */
ULONG STDAPICALLTYPE UlPropSize(LPSPropValue lpSPropValue);
/* The value with tag ulPropTag (only its id when its type is PT_UNSPECIFIED), or NULL. */
LPSPropValue STDAPICALLTYPE PpropFindProp(LPSPropValue lpPropArray, ULONG cValues, ULONG ulPropTag);
/* The value with the id of ulPropTag, whatever its type, or NULL. */
LPSPropValue STDAPICALLTYPE LpValFindProp(ULONG ulPropTag, ULONG cValues, LPSPropValue lpPropArray);
/* Copies *lpSPropValueSrc into *lpSPropValueDest, its data allocated with lpfAllocMore linked to
 * lpvObject. MAPI_E_INVALID_PARAMETER for null arguments; the allocator's error. */
SCODE STDAPICALLTYPE PropCopyMore(LPSPropValue lpSPropValueDest, LPSPropValue lpSPropValueSrc, ALLOCATEMORE* lpfAllocMore,
                                  LPVOID lpvObject);
/* The bytes ScCopyProps needs for the array: the SPropValues and their data, each piece 8-byte
 * aligned. MAPI_E_INVALID_PARAMETER for a negative count or a value it cannot size. */
SCODE STDAPICALLTYPE ScCountProps(int cValues, LPSPropValue lpPropArray, ULONG* lpcb);
/* Copies the array and its data into lpvDst (ScCountProps bytes); the size used in *lpcb. */
SCODE STDAPICALLTYPE ScCopyProps(int cValues, LPSPropValue lpPropArray, LPVOID lpvDst, ULONG* lpcb);
/* ScCountProps + lpAllocateBuffer + ScCopyProps: a copy in one buffer. */
SCODE STDAPICALLTYPE ScDupPropset(int cValues, LPSPropValue lpPropArray, LPALLOCATEBUFFER lpAllocateBuffer,
                                  LPSPropValue* lppPropArray);
/* Rebases the pointers of an array copied by ScCopyProps from lpvBaseOld to lpvBaseNew. */
SCODE STDAPICALLTYPE ScRelocProps(int cValues, LPSPropValue lpPropArray, LPVOID lpvBaseOld, LPVOID lpvBaseNew, ULONG* lpcb);
/* Whether the string or binary lpSPropValueDst contains lpSPropValueSrc as the fuzzy level says:
 * FL_FULLSTRING, FL_SUBSTRING or FL_PREFIX, with FL_IGNORECASE (and FL_LOOSE: case too). FALSE for
 * other or different types. */
BOOL STDAPICALLTYPE FPropContainsProp(LPSPropValue lpSPropValueDst, LPSPropValue lpSPropValueSrc, ULONG ulFuzzyLevel);
/* Whether value1 ulRelOp value2 holds (RELOP_LT ... RELOP_NE); FALSE when the types differ. */
BOOL STDAPICALLTYPE FPropCompareProp(LPSPropValue lpSPropValue1, ULONG ulRelOp, LPSPropValue lpSPropValue2);
/* <0, 0, >0 as A is below, equal to or above B (same types only). */
LONG STDAPICALLTYPE LPropCompareProp(LPSPropValue lpSPropValueA, LPSPropValue lpSPropValueB);

/* ---- rows */
/* Frees every row's property array and the row set (MAPIFreeBuffer); NULL is ignored. */
void STDAPICALLTYPE FreeProws(LPSRowSet lpRows);
/* Frees every entry's property array and the list. */
void STDAPICALLTYPE FreePadrlist(LPADRLIST lpAdrlist);

/* ---- strings and hexadecimal */
/* Upper-case hex of cb bytes into sz (2 * cb + 1 characters with the terminator). */
void STDAPICALLTYPE HexFromBin(LPBYTE pb, int cb, LPSTR sz);
/* The bytes of an even-length hex string (either case) into pb; FALSE at a character that is not
 * a hex digit or an odd length. */
BOOL STDAPICALLTYPE FBinFromHex(LPSTR sz, LPBYTE pb);
/* The unsigned decimal number at the start of sz (digits up to the first other character). */
UINT STDAPICALLTYPE UFromSz(LPCSTR sz);
/* The hexadecimal number at the start of sz. */
ULONG STDAPICALLTYPE UlFromSzHex(LPCSTR sz);
/* The first / last occurrence of ch in sz, or NULL. */
LPSTR STDAPICALLTYPE SzFindCh(LPCSTR sz, USHORT ch);
LPSTR STDAPICALLTYPE SzFindLastCh(LPCSTR sz, USHORT ch);
/* The first occurrence of szKey in sz, or NULL. */
LPSTR STDAPICALLTYPE SzFindSz(LPCSTR sz, LPCSTR szKey);

/* ---- FILETIME arithmetic (as 64-bit integers, wrapping) */
FILETIME STDAPICALLTYPE FtAddFt(FILETIME ftAddend1, FILETIME ftAddend2);
FILETIME STDAPICALLTYPE FtSubFt(FILETIME ftMinuend, FILETIME ftSubtrahend);
FILETIME STDAPICALLTYPE FtMulDw(DWORD ftMultiplier, FILETIME ftMultiplicand);
FILETIME STDAPICALLTYPE FtMulDwDw(DWORD ftMultiplicand, DWORD ftMultiplier);
FILETIME STDAPICALLTYPE FtNegFt(FILETIME ft);

/* ---- one property, all rows */
/* The value of ulPropTag (lpMapiProp->GetProps with one tag), in a buffer to free with
 * MAPIFreeBuffer; the value's error (MAPI_E_NOT_FOUND ...) with *lppProp NULL when it has none. */
HRESULT STDAPICALLTYPE HrGetOneProp(LPMAPIPROP lpMapiProp, ULONG ulPropTag, LPSPropValue* lppProp);
/* lpMapiProp->SetProps with one value; the problem's error when there is one. */
HRESULT STDAPICALLTYPE HrSetOneProp(LPMAPIPROP lpMapiProp, LPSPropValue lpProp);
/* Every row of lpTable (after SetColumns, Restrict and SortTable with what is given, from the
 * beginning) in one SRowSet to free with FreeProws; MAPI_E_TABLE_TOO_BIG when crowsMax (>0)
 * rows are not all. */
HRESULT STDAPICALLTYPE HrQueryAllRows(LPMAPITABLE lpTable, LPSPropTagArray lpPropTags, LPSRestriction lpRestriction,
                                      LPSSortOrderSet lpSortOrderSet, LONG crowsMax, LPSRowSet* lppRows);

/* ---- initialization and forms */
/* Starts and ends the utility functions' use (nothing to do here: S_OK). */
SCODE STDAPICALLTYPE ScInitMapiUtil(ULONG ulFlags);
void STDAPICALLTYPE DeinitMapiUtil(void);
/* There are no MAPI forms here: MAPI_E_NO_SUPPORT, *ppfcnt NULL. */
typedef struct IMAPIFormContainer IMAPIFormContainer;
typedef IMAPIFormContainer* LPMAPIFORMCONTAINER;
HRESULT STDAPICALLTYPE MAPIOpenLocalFormContainer(LPMAPIFORMCONTAINER* ppfcnt);
/* The bytes of an even-length hex string into lpb, which holds cb bytes; MAPI_E_INVALID_PARAMETER
 * for a character that is not a hex digit, an odd length, or more than cb bytes. */
SCODE STDAPICALLTYPE ScBinFromHexBounded(LPSTR lpsz, LPBYTE lpb, ULONG cb);

/* ---- streams on files */
#define SOF_UNIQUEFILENAME ((ULONG)0x80000000)
/* An IStream on the file lpszFileName (UTF-8), opened with the STGM_ access flags in ulFlags
 * (STGM_CREATE creates or truncates it; STGM_DELETEONRELEASE removes it at the last Release);
 * with SOF_UNIQUEFILENAME, lpszFileName is a directory (NULL: the temporary directory) in which a
 * new file named lpszPrefix followed by a unique part is made. lpAllocateBuffer and
 * lpFreeBuffer allocate the name Stat returns (NULL: MAPIAllocateBuffer). STG_E_FILENOTFOUND,
 * STG_E_ACCESSDENIED, STG_E_INVALIDPARAMETER, STG_E_TOOMANYOPENFILES. Not thread-safe per
 * stream. */
HRESULT STDAPICALLTYPE OpenStreamOnFile(LPALLOCATEBUFFER lpAllocateBuffer, LPFREEBUFFER lpFreeBuffer, ULONG ulFlags,
                                        LPCSTR lpszFileName, LPCSTR lpszPrefix, LPSTREAM* lppStream);

/* ---- compressed RTF (MS-OXRTFCP) */
#define STORE_UNCOMPRESSED_RTF ((ULONG)0x00008000)
/* A stream of the RTF inside lpCompressedRTFStream (a PR_RTF_COMPRESSED stream, read from its
 * current position; empty: no RTF yet). With MAPI_MODIFY it may be written, and Commit writes
 * it back compressed (LZFu; MELA, uncompressed, with STORE_UNCOMPRESSED_RTF) and commits the
 * compressed stream. MAPI_E_CORRUPT_DATA for a damaged stream, MAPI_E_TOO_BIG past 512 MB of RTF,
 * MAPI_E_UNKNOWN_FLAGS. */
HRESULT STDAPICALLTYPE WrapCompressedRTFStream(LPSTREAM lpCompressedRTFStream, ULONG ulFlags, LPSTREAM* lpUncompressedRTFStream);

/* RTFSync: makes PR_BODY and PR_RTF_COMPRESSED of lpMessage agree. RTF_SYNC_RTF_CHANGED: the body
 * is made from the RTF (the text it encapsulates, an encapsulated HTML's text, or the RTF's own
 * text, hyperlinks followed by <target> as Outlook writes them); RTF_SYNC_BODY_CHANGED: the RTF is
 * made from the body (text encapsulated in RTF, compressed). Neither: nothing when PR_RTF_IN_SYNC
 * is TRUE, else as RTF_SYNC_RTF_CHANGED. PR_RTF_IN_SYNC and PR_RTF_SYNC_* are set (over the body's
 * characters that are not white space: this library's computation). The message is not saved:
 * *lpfMessageUpdated TRUE tells the caller to call SaveChanges. MAPI_E_NOT_FOUND with
 * RTF_SYNC_RTF_CHANGED and no RTF; MAPI_E_CORRUPT_DATA for damaged RTF. */
#define RTF_SYNC_RTF_CHANGED ((ULONG)0x00000001)
#define RTF_SYNC_BODY_CHANGED ((ULONG)0x00000002)
HRESULT STDAPICALLTYPE RTFSync(LPMESSAGE lpMessage, ULONG ulFlags, BOOL* lpfMessageUpdated);

/* ---- advise sinks */
/* A sink whose OnNotify calls lpfnCallback(lpvContext, cNotif, lpNotifications) and returns its
 * result. MAPI_E_INVALID_PARAMETER for a NULL callback or out pointer. */
HRESULT STDAPICALLTYPE HrAllocAdviseSink(LPNOTIFCALLBACK lpfnCallback, LPVOID lpvContext, LPMAPIADVISESINK* lppAdviseSink);
/* Windows hands the notifications to the calling thread's message loop; Linux has none, so the
 * sink is returned as it is (AddRef'd) and notifications reach it on the thread that raises
 * them: a sink must be thread-safe. */
HRESULT STDAPICALLTYPE HrThisThreadAdviseSink(LPMAPIADVISESINK lpAdviseSink, LPMAPIADVISESINK* lppAdviseSink);

/* ---- property data objects (IPropData) */
#define IPROP_READONLY ((ULONG)0x00000001)
#define IPROP_READWRITE ((ULONG)0x00000002)
#define IPROP_CLEAN ((ULONG)0x00010000)
#define IPROP_DIRTY ((ULONG)0x00020000)
#define INTERFACE IPropData
DECLARE_INTERFACE_(IPropData, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  STDMETHOD(HrSetObjAccess)(THIS_ ULONG ulAccess) PURE;
  STDMETHOD(HrSetPropAccess)(THIS_ LPSPropTagArray lpPropTagArray, ULONG* rgulAccess) PURE;
  STDMETHOD(HrGetPropAccess)(THIS_ LPSPropTagArray* lppPropTagArray, ULONG** lprgulAccess) PURE;
  STDMETHOD(HrAddObjProps)(THIS_ LPSPropTagArray lppPropTagArray, LPSPropProblemArray* lppProblems) PURE;
};
#undef INTERFACE
typedef IPropData* LPPROPDATA;
/* CreateIProp: an IPropData holding properties in memory (not transacted: SaveChanges has
 * nothing to do; named properties are mapped to ids from 0x8000 in the object). Results are
 * allocated with lpAllocateBuffer / lpAllocateMore and freed by the caller with lpFreeBuffer.
 * lpInterface may be NULL or IID_IMAPIPropData. MAPI_E_INVALID_PARAMETER for a missing
 * allocator or lppPropData; MAPI_E_INTERFACE_NOT_SUPPORTED for another interface. The object
 * starts read/write; HrSetObjAccess(IPROP_READONLY) makes SetProps and DeleteProps fail with
 * MAPI_E_NO_ACCESS, HrSetPropAccess makes single properties read-only (a SetProps or DeleteProps
 * problem MAPI_E_NO_ACCESS) and tells clean from dirty (set or deleted since). Thread safety:
 * none (one thread at a time). */
SCODE STDAPICALLTYPE CreateIProp(LPCIID lpInterface, ALLOCATEBUFFER* lpAllocateBuffer, ALLOCATEMORE* lpAllocateMore,
                                 FREEBUFFER* lpFreeBuffer, LPVOID lpvReserved, LPPROPDATA* lppPropData);

/* ---- properties, entry IDs and table columns */
/* Whether lpMapiProp has the property (PT_UNSPECIFIED: of any type; PT_STRING8 and PT_UNICODE
 * match each other). */
BOOL STDAPICALLTYPE FPropExists(LPMAPIPROP lpMapiProp, ULONG ulPropTag);
/* An entry ID as a string (hexadecimal here: round trips through HrEntryIDFromSz) in a buffer of
 * MAPIAllocateBuffer; HrEntryIDFromSz gives it back (MAPI_E_INVALID_ENTRYID for other text). */
HRESULT STDAPICALLTYPE HrSzFromEntryID(ULONG cb, LPENTRYID pentry, LPSTR* psz);
HRESULT STDAPICALLTYPE HrEntryIDFromSz(LPSTR sz, ULONG* pcb, LPENTRYID* ppentry);
/* Puts lpproptagColumnsNew first in the table's columns, the others after them (each once);
 * HrAddColumnsEx lets lpfnFilterColumns change the table's own columns first. */
HRESULT STDAPICALLTYPE HrAddColumns(LPMAPITABLE lptbl, LPSPropTagArray lpproptagColumnsNew, LPALLOCATEBUFFER lpAllocateBuffer,
                                    LPFREEBUFFER lpFreeBuffer);
HRESULT STDAPICALLTYPE HrAddColumnsEx(LPMAPITABLE lptbl, LPSPropTagArray lpproptagColumnsNew, LPALLOCATEBUFFER lpAllocateBuffer,
                                      LPFREEBUFFER lpFreeBuffer, void(STDAPICALLTYPE* lpfnFilterColumns)(LPSPropTagArray ptaga));
/* Notifications are delivered on the store's thread as they happen: nothing waits to be
 * dispatched (S_OK). */
HRESULT STDAPICALLTYPE HrDispatchNotifications(ULONG ulFlags);

/* ---- reference counts */
/* punk's AddRef / Release (0 for NULL). */
ULONG STDAPICALLTYPE UlAddRef(LPVOID punk);
ULONG STDAPICALLTYPE UlRelease(LPVOID punk);

#ifdef __cplusplus
}
#endif
#endif
