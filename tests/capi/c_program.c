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

/* An IMAPIProp written in C, as a C provider would write one: one subject property. The library
 * (C++) calls it through its table of functions, so this checks that the C and C++ views of an
 * interface are the same object. */
typedef struct {
  IMAPIProp base; /* lpVtbl first */
  ULONG refs;
  char subject[64];
} CProp;

static HRESULT STDMETHODCALLTYPE CProp_QueryInterface(IMAPIProp* This, REFIID riid, LPVOID* out) {
  (void)riid;
  *out = This;
  return S_OK;
}
static ULONG STDMETHODCALLTYPE CProp_AddRef(IMAPIProp* This) { return ++((CProp*)This)->refs; }
static ULONG STDMETHODCALLTYPE CProp_Release(IMAPIProp* This) { return --((CProp*)This)->refs; }
static HRESULT STDMETHODCALLTYPE CProp_GetProps(IMAPIProp* This, LPSPropTagArray tags, ULONG flags, ULONG* count, LPSPropValue* out) {
  CProp* self = (CProp*)This;
  (void)flags;
  LPSPropValue v = NULL;
  MAPIAllocateBuffer(sizeof(SPropValue), (LPVOID*)&v);
  if (tags->aulPropTag[0] == PR_SUBJECT_A) {
    v->ulPropTag = PR_SUBJECT_A;
    MAPIAllocateMore((ULONG)strlen(self->subject) + 1, v, (LPVOID*)&v->Value.lpszA);
    strcpy(v->Value.lpszA, self->subject);
    *count = 1;
    *out = v;
    return S_OK;
  }
  v->ulPropTag = PROP_TAG(PT_ERROR, PROP_ID(tags->aulPropTag[0]));
  v->Value.err = MAPI_E_NOT_FOUND;
  *count = 1;
  *out = v;
  return MAPI_W_ERRORS_RETURNED;
}
static HRESULT STDMETHODCALLTYPE CProp_SetProps(IMAPIProp* This, ULONG n, LPSPropValue values, LPSPropProblemArray* problems) {
  CProp* self = (CProp*)This;
  if (problems) *problems = NULL;
  if (n != 1 || values[0].ulPropTag != PR_SUBJECT_A) {
    MAPIAllocateBuffer((ULONG)CbNewSPropProblemArray(1), (LPVOID*)problems);
    (*problems)->cProblem = 1;
    (*problems)->aProblem[0].ulIndex = 0;
    (*problems)->aProblem[0].ulPropTag = values[0].ulPropTag;
    (*problems)->aProblem[0].scode = MAPI_E_COMPUTED;
    return S_OK;
  }
  strncpy(self->subject, values[0].Value.lpszA, sizeof self->subject - 1);
  return S_OK;
}
static HRESULT STDMETHODCALLTYPE CProp_GetLastError(IMAPIProp* This, HRESULT hr, ULONG flags, LPMAPIERROR* error) {
  (void)This;
  (void)hr;
  (void)flags;
  (void)error;
  return MAPI_E_NO_SUPPORT;
}

static LONG STDAPICALLTYPE on_note(LPVOID context, ULONG n, LPNOTIFICATION notes) {
  *(ULONG*)context = n == 1 ? notes[0].ulEventType : 0;
  return 0;
}

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

  /* The C object through the library's C++ calls. */
  /* As Windows' C providers write a table: a const one (the Vtbl typedef is const). */
  static IMAPIPropVtbl vtbl = {
      .QueryInterface = CProp_QueryInterface,
      .AddRef = CProp_AddRef,
      .Release = CProp_Release,
      .GetLastError = CProp_GetLastError,
      .GetProps = CProp_GetProps,
      .SetProps = CProp_SetProps,
  };
  CProp obj;
  memset(&obj, 0, sizeof obj);
  obj.base.lpVtbl = &vtbl;
  obj.refs = 1;
  strcpy(obj.subject, "from C");
  LPSPropValue got = NULL;
  CHECK(HrGetOneProp(&obj.base, PR_SUBJECT_A, &got) == S_OK && got && strcmp(got->Value.lpszA, "from C") == 0);
  MAPIFreeBuffer(got);
  CHECK(HrGetOneProp(&obj.base, PR_IMPORTANCE, &got) == MAPI_E_NOT_FOUND && got == NULL);
  SPropValue set;
  set.ulPropTag = PR_SUBJECT_A;
  set.Value.lpszA = "changed";
  CHECK(HrSetOneProp(&obj.base, &set) == S_OK && strcmp(obj.subject, "changed") == 0);
  set.ulPropTag = PR_IMPORTANCE;
  CHECK(HrSetOneProp(&obj.base, &set) == MAPI_E_COMPUTED);
  CHECK(UlAddRef(&obj.base) == 2 && UlRelease(&obj.base) == 1);
  CHECK(obj.base.lpVtbl->GetLastError(&obj.base, S_OK, 0, NULL) == MAPI_E_NO_SUPPORT);
  ULONG event = 0;
  LPMAPIADVISESINK sink = NULL;
  CHECK(HrAllocAdviseSink(on_note, &event, &sink) == S_OK);
  NOTIFICATION note;
  memset(&note, 0, sizeof note);
  note.ulEventType = fnevTableModified;
  note.info.tab.ulTableEvent = TABLE_ROW_ADDED;
  sink->lpVtbl->OnNotify(sink, 1, &note); /* a sink made in C++, called from C */
  CHECK(event == fnevTableModified);
  CHECK(sink->lpVtbl->Release(sink) == 0);
  if (failures == 0) printf("capi c_program: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
