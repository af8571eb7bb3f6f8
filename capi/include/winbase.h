/* OpenMAPI's C ABI: FILETIME and SYSTEMTIME (Windows' minwinbase.h, from the documentation). A
 * FILETIME counts 100-nanosecond intervals since 1601-01-01 UTC, low half first. */
#ifndef OPENMAPI_WINBASE_H
#define OPENMAPI_WINBASE_H
#include "winnt.h"

typedef struct _FILETIME {
  DWORD dwLowDateTime;
  DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef struct _SYSTEMTIME {
  WORD wYear;
  WORD wMonth;
  WORD wDayOfWeek;
  WORD wDay;
  WORD wHour;
  WORD wMinute;
  WORD wSecond;
  WORD wMilliseconds;
} SYSTEMTIME, *PSYSTEMTIME, *LPSYSTEMTIME;

#endif
