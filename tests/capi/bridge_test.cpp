// The library's own C++ (core/error.h's ErrorCode enumerators) and the Windows headers in one
// translation unit, as the interface implementations will need: OPENMAPI_CODES_AS_ENUM keeps
// mapicode.h's MAPI_E_* macros out, and the enumerators convert to the SCODEs the specification
// gives (MS-OXCDATA 2.4).
#include <gtest/gtest.h>

#include "core/error.h"
#define OPENMAPI_CODES_AS_ENUM
#include "mapix.h"

using openmapi::ErrorCode;

TEST(CapiBridge, CoreCodesAreTheWindowsScodes) {
  EXPECT_EQ(SCODE(ErrorCode::MAPI_E_NOT_FOUND), MAKE_MAPI_E(0x10F));
  EXPECT_EQ(SCODE(ErrorCode::MAPI_E_STORE_FULL), MAKE_MAPI_E(0x60C));
  EXPECT_EQ(uint32_t(SCODE(ErrorCode::MAPI_E_NO_ACCESS)), 0x80070005u);  // E_ACCESSDENIED
  EXPECT_EQ(SCODE(ErrorCode::MAPI_E_NO_ACCESS), E_ACCESSDENIED);
  EXPECT_EQ(SCODE(ErrorCode::MAPI_E_INVALID_PARAMETER), E_INVALIDARG);
  EXPECT_EQ(SCODE(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY), E_OUTOFMEMORY);
  EXPECT_EQ(SCODE(ErrorCode::MAPI_W_ERRORS_RETURNED), MAKE_MAPI_S(0x380));
  EXPECT_TRUE(FAILED(SCODE(ErrorCode::MAPI_E_CALL_FAILED)));
  // And the library's buffers work from such a unit.
  void* p = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(8, &p), S_OK);
  MAPIFreeBuffer(p);
}
