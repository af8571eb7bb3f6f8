// The mapival.h validators of OpenMAPI's C ABI (capi/include/mapival.h).
#include <cstring>

#include "mapival.h"

namespace {

bool valid_type(ULONG type) {
  switch (type & ~MV_INSTANCE) {
    case PT_NULL: case PT_I2: case PT_LONG: case PT_R4: case PT_DOUBLE: case PT_CURRENCY: case PT_APPTIME: case PT_ERROR:
    case PT_BOOLEAN: case PT_OBJECT: case PT_I8: case PT_STRING8: case PT_UNICODE: case PT_SYSTIME: case PT_CLSID:
    case PT_SVREID: case PT_SRESTRICTION: case PT_ACTIONS: case PT_BINARY: case PT_UNSPECIFIED:
    case PT_MV_I2: case PT_MV_LONG: case PT_MV_R4: case PT_MV_DOUBLE: case PT_MV_CURRENCY: case PT_MV_APPTIME:
    case PT_MV_SYSTIME: case PT_MV_STRING8: case PT_MV_BINARY: case PT_MV_UNICODE: case PT_MV_CLSID: case PT_MV_I8:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" {

ULONG STDAPICALLTYPE FBadPropTag(ULONG tag) { return !valid_type(PROP_TYPE(tag)) || PROP_ID(tag) == PROP_ID_INVALID; }

ULONG STDAPICALLTYPE FBadProp(LPSPropValue v) {
  if (!v || FBadPropTag(v->ulPropTag)) return TRUE;
  const ULONG type = PROP_TYPE(v->ulPropTag) & ~MV_INSTANCE;
  switch (type) {
    case PT_UNSPECIFIED: return TRUE;  // a value has a type
    case PT_BOOLEAN: return v->Value.b != TRUE && v->Value.b != FALSE;
    case PT_STRING8: return !v->Value.lpszA;
    case PT_UNICODE: return !v->Value.lpszW;
    case PT_CLSID: return !v->Value.lpguid;
    case PT_BINARY:
    case PT_SVREID: return v->Value.bin.cb && !v->Value.bin.lpb;
    default: break;
  }
  if (!(type & MV_FLAG)) return FALSE;
  const ULONG n = v->Value.MVl.cValues;
  if (n && !v->Value.MVl.lpl) return TRUE;
  for (ULONG i = 0; i < n; ++i) {
    if (type == PT_MV_STRING8 && !v->Value.MVszA.lppszA[i]) return TRUE;
    if (type == PT_MV_UNICODE && !v->Value.MVszW.lppszW[i]) return TRUE;
    if (type == PT_MV_BINARY && v->Value.MVbin.lpbin[i].cb && !v->Value.MVbin.lpbin[i].lpb) return TRUE;
  }
  return FALSE;
}

ULONG STDAPICALLTYPE FBadRow(LPSRow row) {
  if (!row || (row->cValues && !row->lpProps)) return TRUE;
  for (ULONG i = 0; i < row->cValues; ++i)
    if (FBadProp(&row->lpProps[i])) return TRUE;
  return FALSE;
}

ULONG STDAPICALLTYPE FBadRowSet(LPSRowSet rows) {
  if (!rows) return TRUE;
  for (ULONG i = 0; i < rows->cRows; ++i)
    if (FBadRow(&rows->aRow[i])) return TRUE;
  return FALSE;
}

ULONG STDAPICALLTYPE FBadColumnSet(LPSPropTagArray cols) {
  if (!cols) return TRUE;
  for (ULONG i = 0; i < cols->cValues; ++i)
    if (FBadPropTag(cols->aulPropTag[i]) || PROP_TYPE(cols->aulPropTag[i]) == PT_ERROR) return TRUE;
  return FALSE;
}

BOOL STDAPICALLTYPE FBadRglpszA(LPSTR* strings, ULONG n) {
  if (n && !strings) return TRUE;
  for (ULONG i = 0; i < n; ++i)
    if (!strings[i]) return TRUE;
  return FALSE;
}

BOOL STDAPICALLTYPE FBadRglpszW(LPWSTR* strings, ULONG n) {
  if (n && !strings) return TRUE;
  for (ULONG i = 0; i < n; ++i)
    if (!strings[i]) return TRUE;
  return FALSE;
}

ULONG STDAPICALLTYPE FBadSortOrderSet(LPSSortOrderSet s) {
  if (!s || s->cCategories > s->cSorts || s->cExpanded > s->cCategories) return TRUE;
  for (ULONG i = 0; i < s->cSorts; ++i) {
    if (FBadPropTag(s->aSort[i].ulPropTag)) return TRUE;
    const ULONG o = s->aSort[i].ulOrder;
    if (o != TABLE_SORT_ASCEND && o != TABLE_SORT_DESCEND && o != TABLE_SORT_COMBINE && o != TABLE_SORT_CATEG_MAX &&
        o != TABLE_SORT_CATEG_MIN)
      return TRUE;
  }
  return FALSE;
}

BOOL STDAPICALLTYPE FBadEntryList(LPENTRYLIST list) {
  if (!list || (list->cValues && !list->lpbin)) return TRUE;
  for (ULONG i = 0; i < list->cValues; ++i)
    if (!list->lpbin[i].cb || !list->lpbin[i].lpb) return TRUE;
  return FALSE;
}

BOOL STDAPICALLTYPE FBadRglpNameID(LPMAPINAMEID* names, ULONG n) {
  if (n && !names) return TRUE;
  for (ULONG i = 0; i < n; ++i) {
    const LPMAPINAMEID name = names[i];
    if (!name || !name->lpguid) return TRUE;
    if (name->ulKind == MNID_STRING ? !name->Kind.lpwstrName : name->ulKind != MNID_ID) return TRUE;
  }
  return FALSE;
}

BOOL STDAPICALLTYPE FEqualNames(LPMAPINAMEID a, LPMAPINAMEID b) {
  if (!a || !b || !a->lpguid || !b->lpguid) return a == b;
  if (std::memcmp(a->lpguid, b->lpguid, sizeof(GUID)) != 0 || a->ulKind != b->ulKind) return FALSE;
  if (a->ulKind == MNID_ID) return a->Kind.lID == b->Kind.lID;
  if (!a->Kind.lpwstrName || !b->Kind.lpwstrName) return a->Kind.lpwstrName == b->Kind.lpwstrName;
  const WCHAR* x = a->Kind.lpwstrName;
  const WCHAR* y = b->Kind.lpwstrName;
  while (*x && *x == *y) ++x, ++y;
  return *x == *y;
}

}  // extern "C"
