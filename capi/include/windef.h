/* OpenMAPI's C ABI: the Windows definitions MAPI programs include (see winnt.h). */
#ifndef OPENMAPI_WINDEF_H
#define OPENMAPI_WINDEF_H
#include "winnt.h"

#ifndef MAX_PATH
#define MAX_PATH 260
#endif

#endif
