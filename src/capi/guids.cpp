// The GUIDs the C ABI's headers declare (OPENMAPI_LIBRARY_GUID), defined once, here.
#include "mapix.h"

extern "C" {
const GUID IID_IUnknown = {0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
}
