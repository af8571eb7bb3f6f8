// The checks every table makes of a sort order set before it sorts (MS-OXCTABL 2.2.2.1.1
// RopSortTable): MAPI_E_INVALID_PARAMETER for more categories than sort columns or more expanded
// categories than categories, MAPI_E_TOO_COMPLEX for a multi-valued sort column. Used by the
// SQLite store's ViewTable and by the remote provider, which checks before the server does.
#pragma once
#include "core/sortorder.h"

namespace openmapi::store {

void check_sort_order(const SortOrderSet& s);

}  // namespace openmapi::store
