/* A C11 program written as a Windows MAPI program would be, compiled against OpenMAPI's
 * Windows-shaped headers with only the include path changed: it allocates a property array with
 * MAPIAllocateBuffer/More, duplicates it with ScDupPropset, finds and compares values, and frees
 * everything. Exits 0 when every check holds (ctest: capi.CProgram). */
#include <initguid.h>
#include <windows.h>
#include <mapix.h>
#include <mapiutil.h>
#include <mapitags.h>
#include <mapival.h>
#include <stdio.h>
#include <string.h>


DEFINE_GUID(IID_ITest, 0x00020300, 0x0000, 0x0000, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46);

static int failures = 0;
#define CHECK(c)                                                   \
  do {                                                             \
    if (!(c)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
      ++failures;                                                  \
    }                                                              \
  } while (0)

int main(void) {
  LPSPropValue props = NULL;
  CHECK(MAPIAllocateBuffer(3 * sizeof(SPropValue), (LPVOID*)&props) == S_OK);
  CHECK(PR_SUBJECT_A == 0x0037001E && PR_IMPORTANCE == 0x00170003 && PR_ENTRYID == 0x0FFF0102);
  CHECK(sizeof(SPropValue) == 24 && sizeof(ULONG) == 4 && sizeof(WCHAR) == 2 && sizeof(GUID) == 16);
  props[0].ulPropTag = PR_SUBJECT_A;
  CHECK(MAPIAllocateMore(6, props, (LPVOID*)&props[0].Value.lpszA) == S_OK);
  memcpy(props[0].Value.lpszA, "Hello", 6);
  props[1].ulPropTag = PR_IMPORTANCE;
  props[1].Value.l = 2;
  props[2].ulPropTag = PR_ENTRYID;
  props[2].Value.bin.cb = 4;
  CHECK(MAPIAllocateMore(4, props, (LPVOID*)&props[2].Value.bin.lpb) == S_OK);
  memcpy(props[2].Value.bin.lpb, "\x01\x02\x03\x04", 4);

  LPSPropValue copy = NULL;
  CHECK(ScDupPropset(3, props, MAPIAllocateBuffer, &copy) == S_OK);
  MAPIFreeBuffer(props);  /* the copy owns its own data */
  LPSPropValue subject = PpropFindProp(copy, 3, PROP_TAG(PT_UNSPECIFIED, 0x0037));
  CHECK(subject != NULL && strcmp(subject->Value.lpszA, "Hello") == 0);
  CHECK(UlPropSize(subject) == 6);
  CHECK(LpValFindProp(PR_IMPORTANCE, 3, copy) == &copy[1]);

  SPropValue needle;
  needle.ulPropTag = PR_SUBJECT_A;
  needle.Value.lpszA = "hel";
  CHECK(FPropContainsProp(subject, &needle, FL_PREFIX | FL_IGNORECASE));
  CHECK(!FPropContainsProp(subject, &needle, FL_PREFIX));
  needle.Value.lpszA = "Help";
  CHECK(FPropCompareProp(subject, RELOP_LT, &needle)); /* "Hello" < "Help" */
  CHECK(!FPropCompareProp(subject, RELOP_EQ, &needle));

  char hex[9];
  HexFromBin(copy[2].Value.bin.lpb, 4, hex);
  CHECK(strcmp(hex, "01020304") == 0);
  CHECK(IsEqualGUID(&IID_ITest, &IID_ITest) && !IsEqualGUID(&IID_ITest, &IID_IUnknown));
  CHECK(SUCCEEDED(S_OK) && FAILED(MAPI_E_NOT_FOUND) && MAPI_E_NOT_FOUND == MAKE_MAPI_E(0x10F));
  CHECK(!FBadProp(subject) && !FBadPropTag(PR_SUBJECT_W) && FBadPropTag(PROP_TAG(0x0999, 1)));
  MAPIFreeBuffer(copy);
  if (failures == 0) printf("capi c_program: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
