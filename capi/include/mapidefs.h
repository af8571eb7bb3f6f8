/* OpenMAPI's C ABI: MAPI's property model in C (Windows' mapidefs.h, written from the MAPI
 * reference and MS-OXCDATA): property tags and types, SPropValue and its value union, tag arrays,
 * rows, entry IDs. The layouts are those of 64-bit Windows: ULONG is 32 bits, pointers 64, so
 * SPropValue is 24 bytes (tag, padding, an 8-byte-aligned value). */
#ifndef OPENMAPI_MAPIDEFS_H
#define OPENMAPI_MAPIDEFS_H
#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- property types (MS-OXCDATA 2.11.1) and tags */
#define PT_UNSPECIFIED ((ULONG)0x0000)
#define PT_NULL ((ULONG)0x0001)
#define PT_I2 ((ULONG)0x0002)
#define PT_SHORT PT_I2
#define PT_LONG ((ULONG)0x0003)
#define PT_I4 PT_LONG
#define PT_R4 ((ULONG)0x0004)
#define PT_FLOAT PT_R4
#define PT_DOUBLE ((ULONG)0x0005)
#define PT_R8 PT_DOUBLE
#define PT_CURRENCY ((ULONG)0x0006)
#define PT_APPTIME ((ULONG)0x0007)
#define PT_ERROR ((ULONG)0x000A)
#define PT_BOOLEAN ((ULONG)0x000B)
#define PT_OBJECT ((ULONG)0x000D)
#define PT_I8 ((ULONG)0x0014)
#define PT_LONGLONG PT_I8
#define PT_STRING8 ((ULONG)0x001E)
#define PT_UNICODE ((ULONG)0x001F)
#define PT_SYSTIME ((ULONG)0x0040)
#define PT_CLSID ((ULONG)0x0048)
#define PT_SVREID ((ULONG)0x00FB)
#define PT_SRESTRICTION ((ULONG)0x00FD)
#define PT_ACTIONS ((ULONG)0x00FE)
#define PT_BINARY ((ULONG)0x0102)
#define MV_FLAG ((ULONG)0x1000)
#define MV_INSTANCE ((ULONG)0x2000)
#define PT_MV_I2 (MV_FLAG | PT_I2)
#define PT_MV_SHORT PT_MV_I2
#define PT_MV_LONG (MV_FLAG | PT_LONG)
#define PT_MV_I4 PT_MV_LONG
#define PT_MV_R4 (MV_FLAG | PT_R4)
#define PT_MV_FLOAT PT_MV_R4
#define PT_MV_DOUBLE (MV_FLAG | PT_DOUBLE)
#define PT_MV_R8 PT_MV_DOUBLE
#define PT_MV_CURRENCY (MV_FLAG | PT_CURRENCY)
#define PT_MV_APPTIME (MV_FLAG | PT_APPTIME)
#define PT_MV_SYSTIME (MV_FLAG | PT_SYSTIME)
#define PT_MV_STRING8 (MV_FLAG | PT_STRING8)
#define PT_MV_BINARY (MV_FLAG | PT_BINARY)
#define PT_MV_UNICODE (MV_FLAG | PT_UNICODE)
#define PT_MV_CLSID (MV_FLAG | PT_CLSID)
#define PT_MV_I8 (MV_FLAG | PT_I8)
#define PT_MV_LONGLONG PT_MV_I8
#ifdef UNICODE
#define PT_TSTRING PT_UNICODE
#define PT_MV_TSTRING PT_MV_UNICODE
#else
#define PT_TSTRING PT_STRING8
#define PT_MV_TSTRING PT_MV_STRING8
#endif

#define PROP_TYPE_MASK ((ULONG)0x0000FFFF)
#define PROP_TYPE(tag) ((ULONG)((tag) & PROP_TYPE_MASK))
#define PROP_ID(tag) ((ULONG)(tag) >> 16)
#define PROP_TAG(type, id) ((ULONG)(((ULONG)(id) << 16) | (ULONG)(type)))
#define CHANGE_PROP_TYPE(tag, type) ((ULONG)(((ULONG)(tag) & 0xFFFF0000) | (ULONG)(type)))
#define PROP_ID_NULL 0
#define PROP_ID_INVALID 0xFFFF
#define PR_NULL PROP_TAG(PT_NULL, PROP_ID_NULL)
#define MV_TAG(tag) ((ULONG)(MV_FLAG | (tag)))

/* ---- flags common to many calls */
#define MAPI_UNICODE ((ULONG)0x80000000)
#define MAPI_MODIFY ((ULONG)0x00000001)
#define MAPI_ACCESS_MODIFY ((ULONG)0x00000001)
#define MAPI_ACCESS_READ ((ULONG)0x00000002)
#define MAPI_ACCESS_DELETE ((ULONG)0x00000004)
#define MAPI_ACCESS_CREATE_HIERARCHY ((ULONG)0x00000008)
#define MAPI_ACCESS_CREATE_CONTENTS ((ULONG)0x00000010)
#define MAPI_ACCESS_CREATE_ASSOCIATED ((ULONG)0x00000020)
#define MAPI_BEST_ACCESS ((ULONG)0x00000010)
#define MAPI_DEFERRED_ERRORS ((ULONG)0x00000008)
#define MAPI_ASSOCIATED ((ULONG)0x00000040)
#define MAPI_CREATE ((ULONG)0x00000002)
#define KEEP_OPEN_READONLY ((ULONG)0x00000001)
#define KEEP_OPEN_READWRITE ((ULONG)0x00000002)
#define FORCE_SAVE ((ULONG)0x00000004)
#define MAPI_DIALOG ((ULONG)0x00000008)

/* ---- identifiers */
typedef struct _MAPIUID {
  BYTE ab[16];
} MAPIUID, *LPMAPIUID;
#define MAPI_ONE_OFF_UNICODE 0x8000
#define MAPI_ONE_OFF_NO_RICH_INFO 0x0001

typedef struct _ENTRYID {
  BYTE abFlags[4];
  BYTE ab[1]; /* MAPI_DIM: as long as the entry ID is */
} ENTRYID, *LPENTRYID;
#define CbNewENTRYID(cb) (offsetof(ENTRYID, ab) + (cb))
#define CbENTRYID(cb) CbNewENTRYID(cb)

typedef struct _SBinary {
  ULONG cb;
  LPBYTE lpb;
} SBinary, *LPSBinary;

typedef struct _SShortArray {
  ULONG cValues;
  SHORT* lpi;
} SShortArray;
typedef struct _SLongArray {
  ULONG cValues;
  LONG* lpl;
} SLongArray;
typedef struct _SRealArray {
  ULONG cValues;
  float* lpflt;
} SRealArray;
typedef struct _SDoubleArray {
  ULONG cValues;
  double* lpdbl;
} SDoubleArray;
typedef union tagCY {
  struct {
    ULONG Lo;
    LONG Hi;
  } s;
  LONGLONG int64;
} CY, CURRENCY;
typedef struct _SCurrencyArray {
  ULONG cValues;
  CURRENCY* lpcur;
} SCurrencyArray;
typedef struct _SAppTimeArray {
  ULONG cValues;
  double* lpat;
} SAppTimeArray;
typedef struct _SDateTimeArray {
  ULONG cValues;
  FILETIME* lpft;
} SDateTimeArray;
typedef struct _SBinaryArray {
  ULONG cValues;
  SBinary* lpbin;
} SBinaryArray, ENTRYLIST, *LPENTRYLIST;
typedef struct _SLPSTRArray {
  ULONG cValues;
  LPSTR* lppszA;
} SLPSTRArray;
typedef struct _SWStringArray {
  ULONG cValues;
  LPWSTR* lppszW;
} SWStringArray;
typedef struct _SGuidArray {
  ULONG cValues;
  GUID* lpguid;
} SGuidArray;
typedef struct _SLargeIntegerArray {
  ULONG cValues;
  LARGE_INTEGER* lpli;
} SLargeIntegerArray;

/* ---- a property value */
typedef union _PV {
  SHORT i;
  LONG l;
  ULONG ul;
  float flt;
  double dbl;
  USHORT b;
  CURRENCY cur;
  double at;
  FILETIME ft;
  LPSTR lpszA;
  SBinary bin;
  LPWSTR lpszW;
  LPGUID lpguid;
  LARGE_INTEGER li;
  SShortArray MVi;
  SLongArray MVl;
  SRealArray MVflt;
  SDoubleArray MVdbl;
  SCurrencyArray MVcur;
  SAppTimeArray MVat;
  SDateTimeArray MVft;
  SBinaryArray MVbin;
  SLPSTRArray MVszA;
  SWStringArray MVszW;
  SGuidArray MVguid;
  SLargeIntegerArray MVli;
  SCODE err;
  LONG x;
} __UPV;

typedef struct _SPropValue {
  ULONG ulPropTag;
  ULONG dwAlignPad;
  union _PV Value;
} SPropValue, *LPSPropValue;

typedef struct _SPropTagArray {
  ULONG cValues;
  ULONG aulPropTag[1]; /* MAPI_DIM */
} SPropTagArray, *LPSPropTagArray;
#define CbNewSPropTagArray(n) (offsetof(SPropTagArray, aulPropTag) + (n) * sizeof(ULONG))
#define CbSPropTagArray(p) CbNewSPropTagArray((p)->cValues)
#define SizedSPropTagArray(n, name) \
  struct _SPropTagArray_##name {    \
    ULONG cValues;                  \
    ULONG aulPropTag[n];            \
  } name

typedef struct _SPropProblem {
  ULONG ulIndex;
  ULONG ulPropTag;
  SCODE scode;
} SPropProblem, *LPSPropProblem;
typedef struct _SPropProblemArray {
  ULONG cProblem;
  SPropProblem aProblem[1];
} SPropProblemArray, *LPSPropProblemArray;
#define CbNewSPropProblemArray(n) (offsetof(SPropProblemArray, aProblem) + (n) * sizeof(SPropProblem))

/* ---- rows (tables) and address lists */
typedef struct _SRow {
  ULONG ulAdrEntryPad;
  ULONG cValues;
  LPSPropValue lpProps;
} SRow, *LPSRow;
typedef struct _SRowSet {
  ULONG cRows;
  SRow aRow[1];
} SRowSet, *LPSRowSet;
#define CbNewSRowSet(n) (offsetof(SRowSet, aRow) + (n) * sizeof(SRow))

typedef struct _ADRENTRY {
  ULONG ulReserved1;
  ULONG cValues;
  LPSPropValue rgPropVals;
} ADRENTRY, *LPADRENTRY;
typedef struct _ADRLIST {
  ULONG cEntries;
  ADRENTRY aEntries[1];
} ADRLIST, *LPADRLIST;
#define CbNewADRLIST(n) (offsetof(ADRLIST, aEntries) + (n) * sizeof(ADRENTRY))

/* ---- sort orders */
typedef struct _SSortOrder {
  ULONG ulPropTag;
  ULONG ulOrder;
} SSortOrder, *LPSSortOrder;
#define TABLE_SORT_ASCEND ((ULONG)0x00000000)
#define TABLE_SORT_DESCEND ((ULONG)0x00000001)
#define TABLE_SORT_COMBINE ((ULONG)0x00000002)
#define TABLE_SORT_CATEG_MAX ((ULONG)0x00000004)
#define TABLE_SORT_CATEG_MIN ((ULONG)0x00000008)
typedef struct _SSortOrderSet {
  ULONG cSorts;
  ULONG cCategories;
  ULONG cExpanded;
  SSortOrder aSort[1];
} SSortOrderSet, *LPSSortOrderSet;
#define CbNewSSortOrderSet(n) (offsetof(SSortOrderSet, aSort) + (n) * sizeof(SSortOrder))
#define SizedSSortOrderSet(n, name) \
  struct _SSortOrderSet_##name {    \
    ULONG cSorts;                   \
    ULONG cCategories;              \
    ULONG cExpanded;                \
    SSortOrder aSort[n];            \
  } name

/* ---- named properties (MS-OXCDATA 2.6) */
#define MNID_ID 0
#define MNID_STRING 1
typedef struct _MAPINAMEID {
  LPGUID lpguid;
  ULONG ulKind;
  union {
    LONG lID;
    LPWSTR lpwstrName;
  } Kind;
} MAPINAMEID, *LPMAPINAMEID;

/* ---- relational operators and fuzzy levels of restrictions (MS-OXCDATA 2.12) */
#define RELOP_LT ((ULONG)0)
#define RELOP_LE ((ULONG)1)
#define RELOP_GT ((ULONG)2)
#define RELOP_GE ((ULONG)3)
#define RELOP_EQ ((ULONG)4)
#define RELOP_NE ((ULONG)5)
#define RELOP_RE ((ULONG)6)
#define FL_FULLSTRING ((ULONG)0x00000000)
#define FL_SUBSTRING ((ULONG)0x00000001)
#define FL_PREFIX ((ULONG)0x00000002)
#define FL_IGNORECASE ((ULONG)0x00010000)
#define FL_IGNORENONSPACE ((ULONG)0x00020000)
#define FL_LOOSE ((ULONG)0x00040000)

/* ---- restrictions (MS-OXCDATA 2.12) */
#define RES_AND ((ULONG)0x00000000)
#define RES_OR ((ULONG)0x00000001)
#define RES_NOT ((ULONG)0x00000002)
#define RES_CONTENT ((ULONG)0x00000003)
#define RES_PROPERTY ((ULONG)0x00000004)
#define RES_COMPAREPROPS ((ULONG)0x00000005)
#define RES_BITMASK ((ULONG)0x00000006)
#define RES_SIZE ((ULONG)0x00000007)
#define RES_EXIST ((ULONG)0x00000008)
#define RES_SUBRESTRICTION ((ULONG)0x00000009)
#define RES_COMMENT ((ULONG)0x0000000A)
#define RES_COUNT ((ULONG)0x0000000B)
#define RES_ANNOTATION ((ULONG)0x0000000C)
#define BMR_EQZ ((ULONG)0x00000000)
#define BMR_NEZ ((ULONG)0x00000001)

typedef struct _SRestriction* LPSRestriction;
typedef struct _SAndRestriction {
  ULONG cRes;
  LPSRestriction lpRes;
} SAndRestriction;
typedef struct _SOrRestriction {
  ULONG cRes;
  LPSRestriction lpRes;
} SOrRestriction;
typedef struct _SNotRestriction {
  ULONG ulReserved;
  LPSRestriction lpRes;
} SNotRestriction;
typedef struct _SContentRestriction {
  ULONG ulFuzzyLevel;
  ULONG ulPropTag;
  LPSPropValue lpProp;
} SContentRestriction;
typedef struct _SPropertyRestriction {
  ULONG relop;
  ULONG ulPropTag;
  LPSPropValue lpProp;
} SPropertyRestriction;
typedef struct _SComparePropsRestriction {
  ULONG relop;
  ULONG ulPropTag1;
  ULONG ulPropTag2;
} SComparePropsRestriction;
typedef struct _SBitMaskRestriction {
  ULONG relBMR;
  ULONG ulPropTag;
  ULONG ulMask;
} SBitMaskRestriction;
typedef struct _SSizeRestriction {
  ULONG relop;
  ULONG ulPropTag;
  ULONG cb;
} SSizeRestriction;
typedef struct _SExistRestriction {
  ULONG ulReserved1;
  ULONG ulPropTag;
  ULONG ulReserved2;
} SExistRestriction;
typedef struct _SSubRestriction {
  ULONG ulSubObject;
  LPSRestriction lpRes;
} SSubRestriction;
typedef struct _SCommentRestriction {
  ULONG cValues;
  LPSRestriction lpRes;
  LPSPropValue lpProp;
} SCommentRestriction, SAnnotationRestriction;
typedef struct _SCountRestriction {
  ULONG ulCount;
  LPSRestriction lpRes;
} SCountRestriction;
typedef struct _SRestriction {
  ULONG rt;
  union {
    SComparePropsRestriction resCompareProps;
    SAndRestriction resAnd;
    SOrRestriction resOr;
    SNotRestriction resNot;
    SContentRestriction resContent;
    SPropertyRestriction resProperty;
    SBitMaskRestriction resBitMask;
    SSizeRestriction resSize;
    SExistRestriction resExist;
    SSubRestriction resSub;
    SCommentRestriction resComment;
    SAnnotationRestriction resAnnotation;
    SCountRestriction resCount;
  } res;
} SRestriction;

/* ---- errors, progress, notifications (declared for the interfaces below) */
typedef struct _MAPIERROR {
  ULONG ulVersion;
  LPTSTR lpszError;
  LPTSTR lpszComponent;
  ULONG ulLowLevelError;
  ULONG ulContext;
} MAPIERROR, *LPMAPIERROR;
#define MAPI_ERROR_VERSION 0x00000000L

typedef ULONG_PTR BOOKMARK;
#define BOOKMARK_BEGINNING ((BOOKMARK)0)
#define BOOKMARK_CURRENT ((BOOKMARK)1)
#define BOOKMARK_END ((BOOKMARK)2)
typedef const IID* LPCIID;

/* ---- notifications (IMAPIAdviseSink::OnNotify) */
#define fnevCriticalError ((ULONG)0x00000001)
#define fnevNewMail ((ULONG)0x00000002)
#define fnevObjectCreated ((ULONG)0x00000004)
#define fnevObjectDeleted ((ULONG)0x00000008)
#define fnevObjectModified ((ULONG)0x00000010)
#define fnevObjectMoved ((ULONG)0x00000020)
#define fnevObjectCopied ((ULONG)0x00000040)
#define fnevSearchComplete ((ULONG)0x00000080)
#define fnevTableModified ((ULONG)0x00000100)
#define fnevStatusObjectModified ((ULONG)0x00000200)
#define fnevReservedForMapi ((ULONG)0x40000000)
#define fnevExtended ((ULONG)0x80000000)
#define TABLE_CHANGED 1
#define TABLE_ERROR 2
#define TABLE_ROW_ADDED 3
#define TABLE_ROW_DELETED 4
#define TABLE_ROW_MODIFIED 5
#define TABLE_SORT_DONE 6
#define TABLE_RESTRICT_DONE 7
#define TABLE_SETCOL_DONE 8
#define TABLE_RELOAD 9

typedef struct _ERROR_NOTIFICATION {
  ULONG cbEntryID;
  LPENTRYID lpEntryID;
  SCODE scode;
  ULONG ulFlags;
  LPMAPIERROR lpMAPIError;
} ERROR_NOTIFICATION;
typedef struct _NEWMAIL_NOTIFICATION {
  ULONG cbEntryID;
  LPENTRYID lpEntryID;
  ULONG cbParentID;
  LPENTRYID lpParentID;
  ULONG ulFlags;
  LPTSTR lpszMessageClass;
  ULONG ulMessageFlags;
} NEWMAIL_NOTIFICATION;
typedef struct _OBJECT_NOTIFICATION {
  ULONG cbEntryID;
  LPENTRYID lpEntryID;
  ULONG ulObjType;
  ULONG cbParentID;
  LPENTRYID lpParentID;
  ULONG cbOldID;
  LPENTRYID lpOldID;
  ULONG cbOldParentID;
  LPENTRYID lpOldParentID;
  LPSPropTagArray lpPropTagArray;
} OBJECT_NOTIFICATION;
typedef struct _TABLE_NOTIFICATION {
  ULONG ulTableEvent;
  HRESULT hResult;
  SPropValue propIndex;
  SPropValue propPrior;
  SRow row;
  ULONG ulPad;
} TABLE_NOTIFICATION;
typedef struct _EXTENDED_NOTIFICATION {
  ULONG ulEvent;
  ULONG cb;
  LPBYTE pbEventParameters;
} EXTENDED_NOTIFICATION;
typedef struct _STATUS_OBJECT_NOTIFICATION {
  ULONG cbEntryID;
  LPENTRYID lpEntryID;
  ULONG cValues;
  LPSPropValue lpPropVals;
} STATUS_OBJECT_NOTIFICATION;
typedef struct _NOTIFICATION {
  ULONG ulEventType;
  ULONG ulAlignPad;
  union {
    ERROR_NOTIFICATION err;
    NEWMAIL_NOTIFICATION newmail;
    OBJECT_NOTIFICATION obj;
    TABLE_NOTIFICATION tab;
    EXTENDED_NOTIFICATION ext;
    STATUS_OBJECT_NOTIFICATION statobj;
  } info;
} NOTIFICATION, *LPNOTIFICATION;

/* IMAPIAdviseSink: where a store, table or session sends its notifications. */
#undef INTERFACE
#define INTERFACE IMAPIAdviseSink
DECLARE_INTERFACE_(IMAPIAdviseSink, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD_(ULONG, OnNotify)(THIS_ ULONG cNotif, LPNOTIFICATION lpNotifications) PURE;
};
#undef INTERFACE
typedef IMAPIAdviseSink* LPMAPIADVISESINK;
typedef LONG(STDAPICALLTYPE NOTIFCALLBACK)(LPVOID lpvContext, ULONG cNotification, LPNOTIFICATION lpNotifications);
typedef NOTIFCALLBACK* LPNOTIFCALLBACK;

/* IMAPIProgress (its methods in the Windows order). */
#undef INTERFACE
#define INTERFACE IMAPIProgress
DECLARE_INTERFACE_(IMAPIProgress, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD(Progress)(THIS_ ULONG ulValue, ULONG ulCount, ULONG ulTotal) PURE;
  STDMETHOD(GetFlags)(THIS_ ULONG* lpulFlags) PURE;
  STDMETHOD(GetMax)(THIS_ ULONG* lpulMax) PURE;
  STDMETHOD(GetMin)(THIS_ ULONG* lpulMin) PURE;
  STDMETHOD(SetLimits)(THIS_ ULONG* lpulMin, ULONG* lpulMax, ULONG* lpulFlags) PURE;
};
#undef INTERFACE
typedef IMAPIProgress* LPMAPIPROGRESS;

/* IMAPIProp: the properties of every MAPI object. Its methods are listed once
 * (OPENMAPI_IMAPIPROP_METHOD_LIST); a derived interface's C table repeats them through
 * OPENMAPI_IMAPIPROP_METHODS (empty in C++, where they are inherited). */
#define OPENMAPI_IMAPIPROP_METHOD_LIST                                                                                        \
  STDMETHOD(GetLastError)(THIS_ HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) PURE;                          \
  STDMETHOD(SaveChanges)(THIS_ ULONG ulFlags) PURE;                                                                       \
  STDMETHOD(GetProps)(THIS_ LPSPropTagArray lpPropTagArray, ULONG ulFlags, ULONG* lpcValues, LPSPropValue* lppPropArray) PURE; \
  STDMETHOD(GetPropList)(THIS_ ULONG ulFlags, LPSPropTagArray* lppPropTagArray) PURE;                                     \
  STDMETHOD(OpenProperty)(THIS_ ULONG ulPropTag, LPCIID lpiid, ULONG ulInterfaceOptions, ULONG ulFlags, LPUNKNOWN* lppUnk) PURE; \
  STDMETHOD(SetProps)(THIS_ ULONG cValues, LPSPropValue lpPropArray, LPSPropProblemArray* lppProblems) PURE;              \
  STDMETHOD(DeleteProps)(THIS_ LPSPropTagArray lpPropTagArray, LPSPropProblemArray* lppProblems) PURE;                    \
  STDMETHOD(CopyTo)(THIS_ ULONG ciidExclude, LPCIID rgiidExclude, LPSPropTagArray lpExcludeProps, ULONG_PTR ulUIParam,    \
                    LPMAPIPROGRESS lpProgress, LPCIID lpInterface, LPVOID lpDestObj, ULONG ulFlags,                       \
                    LPSPropProblemArray* lppProblems) PURE;                                                               \
  STDMETHOD(CopyProps)(THIS_ LPSPropTagArray lpIncludeProps, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, LPCIID lpInterface, \
                       LPVOID lpDestObj, ULONG ulFlags, LPSPropProblemArray* lppProblems) PURE;                           \
  STDMETHOD(GetNamesFromIDs)(THIS_ LPSPropTagArray* lppPropTags, LPGUID lpPropSetGuid, ULONG ulFlags, ULONG* lpcPropNames, \
                             LPMAPINAMEID** lpppPropNames) PURE;                                                          \
  STDMETHOD(GetIDsFromNames)(THIS_ ULONG cPropNames, LPMAPINAMEID* lppPropNames, ULONG ulFlags, LPSPropTagArray* lppPropTags) PURE;
#if !defined(__cplusplus) || defined(CINTERFACE)
#define OPENMAPI_IMAPIPROP_METHODS OPENMAPI_IMAPIPROP_METHOD_LIST
#else
#define OPENMAPI_IMAPIPROP_METHODS
#endif
#define INTERFACE IMAPIProp
DECLARE_INTERFACE_(IMAPIProp, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHOD_LIST
};
#undef INTERFACE
typedef IMAPIProp* LPMAPIPROP;


/* IMAPITable: rows of a table (MS-OXCTABL), its methods in the Windows order. */
#define TBLSTAT_COMPLETE ((ULONG)0)
#define TBLTYPE_SNAPSHOT ((ULONG)0)
#define TBLTYPE_KEYSET ((ULONG)1)
#define TBLTYPE_DYNAMIC ((ULONG)2)
#define TBL_NOADVANCE ((ULONG)0x00000001)
#define TBL_ASYNC ((ULONG)0x00000001)
#define TBL_BATCH ((ULONG)0x00000002)
#define INTERFACE IMAPITable
DECLARE_INTERFACE_(IMAPITable, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD(GetLastError)(THIS_ HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) PURE;
  STDMETHOD(Advise)(THIS_ ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink, ULONG_PTR* lpulConnection) PURE;
  STDMETHOD(Unadvise)(THIS_ ULONG_PTR ulConnection) PURE;
  STDMETHOD(GetStatus)(THIS_ ULONG* lpulTableStatus, ULONG* lpulTableType) PURE;
  STDMETHOD(SetColumns)(THIS_ LPSPropTagArray lpPropTagArray, ULONG ulFlags) PURE;
  STDMETHOD(QueryColumns)(THIS_ ULONG ulFlags, LPSPropTagArray* lpPropTagArray) PURE;
  STDMETHOD(GetRowCount)(THIS_ ULONG ulFlags, ULONG* lpulCount) PURE;
  STDMETHOD(SeekRow)(THIS_ BOOKMARK bkOrigin, LONG lRowCount, LONG* lplRowsSought) PURE;
  STDMETHOD(SeekRowApprox)(THIS_ ULONG ulNumerator, ULONG ulDenominator) PURE;
  STDMETHOD(QueryPosition)(THIS_ ULONG* lpulRow, ULONG* lpulNumerator, ULONG* lpulDenominator) PURE;
  STDMETHOD(FindRow)(THIS_ LPSRestriction lpRestriction, BOOKMARK bkOrigin, ULONG ulFlags) PURE;
  STDMETHOD(Restrict)(THIS_ LPSRestriction lpRestriction, ULONG ulFlags) PURE;
  STDMETHOD(CreateBookmark)(THIS_ BOOKMARK* lpbkPosition) PURE;
  STDMETHOD(FreeBookmark)(THIS_ BOOKMARK bkPosition) PURE;
  STDMETHOD(SortTable)(THIS_ LPSSortOrderSet lpSortCriteria, ULONG ulFlags) PURE;
  STDMETHOD(QuerySortOrder)(THIS_ LPSSortOrderSet* lppSortCriteria) PURE;
  STDMETHOD(QueryRows)(THIS_ LONG lRowCount, ULONG ulFlags, LPSRowSet* lppRows) PURE;
  STDMETHOD(Abort)(THIS) PURE;
  STDMETHOD(ExpandRow)(THIS_ ULONG cbInstanceKey, LPBYTE pbInstanceKey, ULONG ulRowCount, ULONG ulFlags, LPSRowSet* lppRows,
                       ULONG* lpulMoreRows) PURE;
  STDMETHOD(CollapseRow)(THIS_ ULONG cbInstanceKey, LPBYTE pbInstanceKey, ULONG ulFlags, ULONG* lpulRowCount) PURE;
  STDMETHOD(WaitForCompletion)(THIS_ ULONG ulFlags, ULONG ulTimeout, ULONG* lpulTableStatus) PURE;
  STDMETHOD(GetCollapseState)(THIS_ ULONG ulFlags, ULONG cbInstanceKey, LPBYTE lpbInstanceKey, ULONG* lpcbCollapseState,
                              LPBYTE* lppbCollapseState) PURE;
  STDMETHOD(SetCollapseState)(THIS_ ULONG ulFlags, ULONG cbCollapseState, LPBYTE pbCollapseState, BOOKMARK* lpbkLocation) PURE;
};
#undef INTERFACE
typedef IMAPITable* LPMAPITABLE;

/* ---- values of common properties */
#ifndef MAPI_ORIG
#define MAPI_ORIG 0 /* PR_RECIPIENT_TYPE */
#define MAPI_TO 1
#define MAPI_CC 2
#define MAPI_BCC 3
#endif
#define MAPI_P1 ((ULONG)0x10000000)
#define MAPI_SUBMITTED ((ULONG)0x80000000)
#define NO_ATTACHMENT ((ULONG)0x00000000) /* PR_ATTACH_METHOD */
#define ATTACH_BY_VALUE ((ULONG)0x00000001)
#define ATTACH_BY_REFERENCE ((ULONG)0x00000002)
#define ATTACH_BY_REF_RESOLVE ((ULONG)0x00000003)
#define ATTACH_BY_REF_ONLY ((ULONG)0x00000004)
#define ATTACH_EMBEDDED_MSG ((ULONG)0x00000005)
#define ATTACH_OLE ((ULONG)0x00000006)
#define MSGFLAG_READ ((ULONG)0x00000001) /* PR_MESSAGE_FLAGS */
#define MSGFLAG_UNMODIFIED ((ULONG)0x00000002)
#define MSGFLAG_SUBMIT ((ULONG)0x00000004)
#define MSGFLAG_UNSENT ((ULONG)0x00000008)
#define MSGFLAG_HASATTACH ((ULONG)0x00000010)
#define MSGFLAG_FROMME ((ULONG)0x00000020)
#define MSGFLAG_ASSOCIATED ((ULONG)0x00000040)
#define MSGFLAG_RESEND ((ULONG)0x00000080)
#define MSGFLAG_RN_PENDING ((ULONG)0x00000100)
#define MSGFLAG_NRN_PENDING ((ULONG)0x00000200)
#define DIR_BACKWARD ((ULONG)0x00000001) /* IMAPITable::FindRow */
#define TBL_ALL_COLUMNS ((ULONG)0x00000001) /* IMAPITable::QueryColumns */

/* ---- object types (PidTagObjectType, the lpulObjType of OpenEntry) */
#define MAPI_STORE ((ULONG)0x00000001)
#define MAPI_ADDRBOOK ((ULONG)0x00000002)
#define MAPI_FOLDER ((ULONG)0x00000003)
#define MAPI_ABCONT ((ULONG)0x00000004)
#define MAPI_MESSAGE ((ULONG)0x00000005)
#define MAPI_MAILUSER ((ULONG)0x00000006)
#define MAPI_ATTACH ((ULONG)0x00000007)
#define MAPI_DISTLIST ((ULONG)0x00000008)
#define MAPI_PROFSECT ((ULONG)0x00000009)
#define MAPI_STATUS ((ULONG)0x0000000A)
#define MAPI_SESSION ((ULONG)0x0000000B)
#define MAPI_FORMINFO ((ULONG)0x0000000C)

/* ---- flags of the container, folder, store and message calls */
#define CONVENIENT_DEPTH ((ULONG)0x00000001)
#define SHOW_SOFT_DELETES ((ULONG)0x00000002)
#define MAPI_NO_STRINGS ((ULONG)0x00000001)
#define MAPI_NO_IDS ((ULONG)0x00000002)
#define MAPI_MOVE ((ULONG)0x00000001)
#define MAPI_NOREPLACE ((ULONG)0x00000002)
#define MAPI_DECLINE_OK ((ULONG)0x00000004)
#define STOP_SEARCH ((ULONG)0x00000001)
#define RESTART_SEARCH ((ULONG)0x00000002)
#define RECURSIVE_SEARCH ((ULONG)0x00000004)
#define SHALLOW_SEARCH ((ULONG)0x00000008)
#define FOREGROUND_SEARCH ((ULONG)0x00000010)
#define BACKGROUND_SEARCH ((ULONG)0x00000020)
#define SEARCH_RUNNING ((ULONG)0x00000001)
#define SEARCH_REBUILD ((ULONG)0x00000002)
#define SEARCH_RECURSIVE ((ULONG)0x00000004)
#define SEARCH_FOREGROUND ((ULONG)0x00000008)
#define FOLDER_ROOT ((ULONG)0x00000000)
#define FOLDER_GENERIC ((ULONG)0x00000001)
#define FOLDER_SEARCH ((ULONG)0x00000002)
#define OPEN_IF_EXISTS ((ULONG)0x00000001)
#define MESSAGE_MOVE ((ULONG)0x00000001)
#define MESSAGE_DIALOG ((ULONG)0x00000002)
#define FOLDER_MOVE ((ULONG)0x00000001)
#define FOLDER_DIALOG ((ULONG)0x00000002)
#define COPY_SUBFOLDERS ((ULONG)0x00000010)
#define DEL_FOLDERS ((ULONG)0x00000004)
#define DEL_MESSAGES ((ULONG)0x00000008)
#define DEL_ASSOCIATED ((ULONG)0x00000008)
#define DELETE_HARD_DELETE ((ULONG)0x00000010)
#define SUPPRESS_RECEIPT ((ULONG)0x00000001)
#define CLEAR_READ_FLAG ((ULONG)0x00000004)
#define GENERATE_RECEIPT_ONLY ((ULONG)0x00000010)
#define CLEAR_RN_PENDING ((ULONG)0x00000020)
#define CLEAR_NRN_PENDING ((ULONG)0x00000040)
#define MSGSTATUS_HIGHLIGHTED ((ULONG)0x00000001)
#define MSGSTATUS_TAGGED ((ULONG)0x00000002)
#define MSGSTATUS_HIDDEN ((ULONG)0x00000004)
#define MSGSTATUS_DELMARKED ((ULONG)0x00000008)
#define MSGSTATUS_REMOTE_DOWNLOAD ((ULONG)0x00001000)
#define MSGSTATUS_REMOTE_DELETE ((ULONG)0x00002000)
#define MODRECIP_ADD ((ULONG)0x00000002)
#define MODRECIP_MODIFY ((ULONG)0x00000004)
#define MODRECIP_REMOVE ((ULONG)0x00000008)
#define FORCE_SUBMIT ((ULONG)0x00000001)
#define ATTACH_DIALOG ((ULONG)0x00000001)
#define MDB_NO_DIALOG ((ULONG)0x00000001)
#define MDB_WRITE ((ULONG)0x00000004)
#define MDB_TEMPORARY ((ULONG)0x00000020)
#define MDB_NO_MAIL ((ULONG)0x00000080)
#define MDB_ONLINE ((ULONG)0x00000100)
#define LOGOFF_NO_WAIT ((ULONG)0x00000001)
#define LOGOFF_ORDERLY ((ULONG)0x00000002)
#define LOGOFF_PURGE ((ULONG)0x00000004)
#define LOGOFF_ABORT ((ULONG)0x00000008)
#define LOGOFF_QUIET ((ULONG)0x00000010)
#define LOGOFF_COMPLETE ((ULONG)0x00010000)
#define LOGOFF_INBOUND ((ULONG)0x00020000)
#define LOGOFF_OUTBOUND ((ULONG)0x00040000)
#define LOGOFF_OUTBOUND_QUEUE ((ULONG)0x00080000)
#define MSG_LOCKED ((ULONG)0x00000001)
#define MSG_UNLOCKED ((ULONG)0x00000000)

/* IMAPIContainer: an object with contents and a hierarchy (folders, address book containers). */
#define OPENMAPI_IMAPICONTAINER_METHOD_LIST                                                                          \
  STDMETHOD(GetContentsTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;                                    \
  STDMETHOD(GetHierarchyTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;                                   \
  STDMETHOD(OpenEntry)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags, ULONG* lpulObjType, \
                       LPUNKNOWN* lppUnk) PURE;                                                                    \
  STDMETHOD(SetSearchCriteria)(THIS_ LPSRestriction lpRestriction, LPENTRYLIST lpContainerList, ULONG ulSearchFlags) PURE; \
  STDMETHOD(GetSearchCriteria)(THIS_ ULONG ulFlags, LPSRestriction* lppRestriction, LPENTRYLIST* lppContainerList,     \
                               ULONG* lpulSearchState) PURE;
#if !defined(__cplusplus) || defined(CINTERFACE)
#define OPENMAPI_IMAPICONTAINER_METHODS OPENMAPI_IMAPICONTAINER_METHOD_LIST
#else
#define OPENMAPI_IMAPICONTAINER_METHODS
#endif
#define INTERFACE IMAPIContainer
DECLARE_INTERFACE_(IMAPIContainer, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  OPENMAPI_IMAPICONTAINER_METHOD_LIST
};
#undef INTERFACE
typedef IMAPIContainer* LPMAPICONTAINER;

/* IMessage and IAttach (an attachment has only properties; PR_ATTACH_DATA_OBJ opens an embedded
 * message as IMessage). */
struct IAttach; /* declared before IMessage names it (C: at file scope) */
#define INTERFACE IMessage
DECLARE_INTERFACE_(IMessage, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  STDMETHOD(GetAttachmentTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(OpenAttach)(THIS_ ULONG ulAttachmentNum, LPCIID lpInterface, ULONG ulFlags, struct IAttach** lppAttach) PURE;
  STDMETHOD(CreateAttach)(THIS_ LPCIID lpInterface, ULONG ulFlags, ULONG* lpulAttachmentNum, struct IAttach** lppAttach) PURE;
  STDMETHOD(DeleteAttach)(THIS_ ULONG ulAttachmentNum, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
  STDMETHOD(GetRecipientTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(ModifyRecipients)(THIS_ ULONG ulFlags, LPADRLIST lpMods) PURE;
  STDMETHOD(SubmitMessage)(THIS_ ULONG ulFlags) PURE;
  STDMETHOD(SetReadFlag)(THIS_ ULONG ulFlags) PURE;
};
#undef INTERFACE
typedef IMessage* LPMESSAGE;

#define INTERFACE IAttach
DECLARE_INTERFACE_(IAttach, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
};
#undef INTERFACE
typedef IAttach* LPATTACH;

/* IMAPIFolder. */
#define INTERFACE IMAPIFolder
DECLARE_INTERFACE_(IMAPIFolder, IMAPIContainer) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  OPENMAPI_IMAPICONTAINER_METHODS
  STDMETHOD(CreateMessage)(THIS_ LPCIID lpInterface, ULONG ulFlags, LPMESSAGE* lppMessage) PURE;
  STDMETHOD(CopyMessages)(THIS_ LPENTRYLIST lpMsgList, LPCIID lpInterface, LPVOID lpDestFolder, ULONG_PTR ulUIParam,
                          LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
  STDMETHOD(DeleteMessages)(THIS_ LPENTRYLIST lpMsgList, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
  STDMETHOD(CreateFolder)(THIS_ ULONG ulFolderType, LPTSTR lpszFolderName, LPTSTR lpszFolderComment, LPCIID lpInterface,
                          ULONG ulFlags, struct IMAPIFolder** lppFolder) PURE;
  STDMETHOD(CopyFolder)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, LPVOID lpDestFolder,
                        LPTSTR lpszNewFolderName, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
  STDMETHOD(DeleteFolder)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress,
                          ULONG ulFlags) PURE;
  STDMETHOD(SetReadFlags)(THIS_ LPENTRYLIST lpMsgList, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
  STDMETHOD(GetMessageStatus)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulFlags, ULONG* lpulMessageStatus) PURE;
  STDMETHOD(SetMessageStatus)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulNewStatus, ULONG ulNewStatusMask,
                              ULONG* lpulOldStatus) PURE;
  STDMETHOD(SaveContentsSort)(THIS_ LPSSortOrderSet lpSortCriteria, ULONG ulFlags) PURE;
  STDMETHOD(EmptyFolder)(THIS_ ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
};
#undef INTERFACE
typedef IMAPIFolder* LPMAPIFOLDER;

/* IMsgStore. */
#define INTERFACE IMsgStore
DECLARE_INTERFACE_(IMsgStore, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  STDMETHOD(Advise)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink,
                    ULONG_PTR* lpulConnection) PURE;
  STDMETHOD(Unadvise)(THIS_ ULONG_PTR ulConnection) PURE;
  STDMETHOD(CompareEntryIDs)(THIS_ ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                             ULONG ulFlags, ULONG* lpulResult) PURE;
  STDMETHOD(OpenEntry)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags, ULONG* lpulObjType,
                       LPUNKNOWN* lppUnk) PURE;
  STDMETHOD(SetReceiveFolder)(THIS_ LPTSTR lpszMessageClass, ULONG ulFlags, ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
  STDMETHOD(GetReceiveFolder)(THIS_ LPTSTR lpszMessageClass, ULONG ulFlags, ULONG* lpcbEntryID, LPENTRYID* lppEntryID,
                              LPTSTR* lppszExplicitClass) PURE;
  STDMETHOD(GetReceiveFolderTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(StoreLogoff)(THIS_ ULONG* lpulFlags) PURE;
  STDMETHOD(AbortSubmit)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulFlags) PURE;
  STDMETHOD(GetOutgoingQueue)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(SetLockState)(THIS_ LPMESSAGE lpMessage, ULONG ulLockState) PURE;
  STDMETHOD(FinishedMsg)(THIS_ ULONG ulFlags, ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
  STDMETHOD(NotifyNewMail)(THIS_ LPNOTIFICATION lpNotification) PURE;
};
#undef INTERFACE
typedef IMsgStore* LPMDB;
typedef IMsgStore* LPMSGSTORE;

/* ---- address book objects: IMailUser, IDistList, IABContainer */
#define DT_MAILUSER ((ULONG)0x00000000) /* PR_DISPLAY_TYPE */
#define DT_DISTLIST ((ULONG)0x00000001)
#define DT_FORUM ((ULONG)0x00000002)
#define DT_AGENT ((ULONG)0x00000003)
#define DT_ORGANIZATION ((ULONG)0x00000004)
#define DT_PRIVATE_DISTLIST ((ULONG)0x00000005)
#define DT_REMOTE_MAILUSER ((ULONG)0x00000006)
#define DT_MODIFIABLE ((ULONG)0x00010000)
#define DT_GLOBAL ((ULONG)0x00020000)
#define DT_LOCAL ((ULONG)0x00030000)
#define DT_WAN ((ULONG)0x00040000)
#define DT_NOT_SPECIFIC ((ULONG)0x00050000)
#define AB_RECIPIENTS ((ULONG)0x00000001) /* PR_CONTAINER_FLAGS */
#define AB_SUBCONTAINERS ((ULONG)0x00000002)
#define AB_MODIFIABLE ((ULONG)0x00000004)
#define AB_UNMODIFIABLE ((ULONG)0x00000008)
#define AB_FIND_ON_OPEN ((ULONG)0x00000010)
#define MAPI_UNRESOLVED ((ULONG)0x00000000) /* ResolveNames' FlagList */
#define MAPI_AMBIGUOUS ((ULONG)0x00000001)
#define MAPI_RESOLVED ((ULONG)0x00000002)
#define CREATE_CHECK_DUP_STRICT ((ULONG)0x00000001)
#define CREATE_CHECK_DUP_LOOSE ((ULONG)0x00000002)
#define CREATE_REPLACE ((ULONG)0x00000004)
#define CREATE_MERGE ((ULONG)0x00000008)
typedef struct _flaglist {
  ULONG cFlags;
  ULONG ulFlag[1]; /* MAPI_DIM */
} FlagList, *LPFlagList;
#define CbNewFlagList(n) (offsetof(FlagList, ulFlag) + (n) * sizeof(ULONG))

#define INTERFACE IMailUser
DECLARE_INTERFACE_(IMailUser, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
};
#undef INTERFACE
typedef IMailUser* LPMAILUSER;

#define OPENMAPI_IABCONTAINER_METHOD_LIST                                                                              \
  STDMETHOD(CreateEntry)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulCreateFlags, LPMAPIPROP* lppMAPIPropEntry) PURE; \
  STDMETHOD(CopyEntries)(THIS_ LPENTRYLIST lpEntries, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;  \
  STDMETHOD(DeleteEntries)(THIS_ LPENTRYLIST lpEntries, ULONG ulFlags) PURE;                                            \
  STDMETHOD(ResolveNames)(THIS_ LPSPropTagArray lpPropTagArray, ULONG ulFlags, LPADRLIST lpAdrList, LPFlagList lpFlagList) PURE;
#define INTERFACE IABContainer
DECLARE_INTERFACE_(IABContainer, IMAPIContainer) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  OPENMAPI_IMAPICONTAINER_METHODS
  OPENMAPI_IABCONTAINER_METHOD_LIST
};
#undef INTERFACE
typedef IABContainer* LPABCONT;

#define INTERFACE IDistList
DECLARE_INTERFACE_(IDistList, IMAPIContainer) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  OPENMAPI_IMAPICONTAINER_METHODS
  OPENMAPI_IABCONTAINER_METHOD_LIST
};
#undef INTERFACE
typedef IDistList* LPDISTLIST;

#ifdef __cplusplus
}
#endif
#endif
