// FBadRestriction (capi/include/mapival.h): a restriction is good when the facade can take it.
#include "capi/convert.h"
#include "mapival.h"

extern "C" ULONG STDAPICALLTYPE FBadRestriction(LPSRestriction r) {
  if (!r) return TRUE;
  try {
    openmapi::capi::to_core(*r);
    return FALSE;
  } catch (...) {
    return TRUE;
  }
}
