/* Include once per program, before the headers whose GUIDs it should define (see objbase.h). */
#ifndef INITGUID
#define INITGUID
#endif
#include "objbase.h"
#undef DEFINE_GUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
  OPENMAPI_GUID_DEFINITION const GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
