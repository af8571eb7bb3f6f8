/* OpenMAPI's C ABI: the validation functions of Windows' mapival.h that service providers call
 * on what a client hands them (TRUE: bad), from the MAPI reference pages of each. */
#ifndef OPENMAPI_MAPIVAL_H
#define OPENMAPI_MAPIVAL_H
#include "mapix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A value that is not one: an unknown type, a Boolean other than TRUE/FALSE, a string, GUID or
 * multi-valued array pointer that is NULL, a binary (or a multi-valued element) with bytes but
 * no pointer. */
ULONG STDAPICALLTYPE FBadProp(LPSPropValue lpprop);
/* A tag whose type is not one of MAPI's (MV_INSTANCE allowed), or with the invalid id 0xFFFF. */
ULONG STDAPICALLTYPE FBadPropTag(ULONG ulPropTag);
/* NULL, properties missing for a count, or a bad value. */
ULONG STDAPICALLTYPE FBadRow(LPSRow lprow);
ULONG STDAPICALLTYPE FBadRowSet(LPSRowSet lprowset);
/* NULL, a bad tag, or a PT_ERROR column (PT_NULL columns are valid). */
ULONG STDAPICALLTYPE FBadColumnSet(LPSPropTagArray lpptaCols);
/* NULL (for a count), or a NULL string in the array. */
BOOL STDAPICALLTYPE FBadRglpszA(LPSTR* lppszA, ULONG cStrings);
BOOL STDAPICALLTYPE FBadRglpszW(LPWSTR* lppszW, ULONG cStrings);
/* NULL, more categories than sorts or more expanded than categories, a bad tag or order. */
ULONG STDAPICALLTYPE FBadSortOrderSet(LPSSortOrderSet lpsos);
/* NULL, entries missing for a count, or an empty or NULL entry ID. */
BOOL STDAPICALLTYPE FBadEntryList(LPENTRYLIST lpEntryList);
/* NULL (for a count), a NULL name, a name without its GUID, a kind other than MNID_ID and
 * MNID_STRING, a string name that is NULL. */
BOOL STDAPICALLTYPE FBadRglpNameID(LPMAPINAMEID* lppNameId, ULONG cNames);
/* Whether two names are the same: GUID, kind, and number or (exactly) string. */
BOOL STDAPICALLTYPE FEqualNames(LPMAPINAMEID lpName1, LPMAPINAMEID lpName2);

/* A restriction that cannot be right: NULL, an unknown type or relational operator, a count
 * without its restrictions or a value, deeper than 64 levels, a value of an unknown type. */
ULONG STDAPICALLTYPE FBadRestriction(LPSRestriction lpres);

#ifdef __cplusplus
}
#endif
#endif
