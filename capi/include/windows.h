/* OpenMAPI's C ABI: what a MAPI program's #include <windows.h> needs (see winnt.h). */
#ifndef OPENMAPI_WINDOWS_H
#define OPENMAPI_WINDOWS_H
#include "winnt.h"
#include "windef.h"
#include "winbase.h"
#include "winerror.h"
#include "objbase.h"
#endif
