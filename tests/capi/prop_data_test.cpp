// CreateIProp / IPropData as the MAPI reference documents them, written as a Windows program:
// values in and out in both string widths, problems per property, the object's and each
// property's access, clean and dirty, named properties, CopyTo, and results made with the
// caller's allocators.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

#include "mapiguid.h"
#include "mapitags.h"
#include "mapiutil.h"
#include "mapix.h"

namespace {

std::atomic<int> buffers{0};
SCODE STDMETHODCALLTYPE counting_buffer(ULONG cb, LPVOID* out) {
  ++buffers;
  return MAPIAllocateBuffer(cb, out);
}
SCODE STDMETHODCALLTYPE counting_more(ULONG cb, LPVOID parent, LPVOID* out) { return MAPIAllocateMore(cb, parent, out); }
ULONG STDAPICALLTYPE counting_free(LPVOID p) {
  if (p) --buffers;
  return MAPIFreeBuffer(p);
}

LPPROPDATA make() {
  LPPROPDATA p = nullptr;
  EXPECT_EQ(CreateIProp(&IID_IMAPIPropData, counting_buffer, counting_more, counting_free, nullptr, &p), S_OK);
  return p;
}

}  // namespace

TEST(CapiPropData, ValuesGoInAndComeOutInEitherWidth) {
  LPPROPDATA p = make();
  ASSERT_NE(p, nullptr);
  SPropValue v[3]{};
  v[0].ulPropTag = PR_SUBJECT_A;
  v[0].Value.lpszA = (LPSTR) "Hello";
  v[1].ulPropTag = PR_IMPORTANCE;
  v[1].Value.l = 2;
  v[2].ulPropTag = PROP_TAG(PT_OBJECT, 0x3701);  // not a value one can set
  LPSPropProblemArray problems = nullptr;
  ASSERT_EQ(p->SetProps(3, v, &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  ASSERT_EQ(problems->cProblem, 1u);
  EXPECT_EQ(problems->aProblem[0].ulIndex, 2u);
  EXPECT_EQ(problems->aProblem[0].scode, MAPI_E_INVALID_TYPE);
  counting_free(problems);

  SizedSPropTagArray(3, tags) = {3, {PR_SUBJECT_W, PR_IMPORTANCE, PR_BODY_A}};
  ULONG n = 0;
  LPSPropValue out = nullptr;
  ASSERT_EQ(p->GetProps((LPSPropTagArray)&tags, 0, &n, &out), MAPI_W_ERRORS_RETURNED);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(out[0].ulPropTag, PR_SUBJECT_W);
  const WCHAR hello[] = {'H', 'e', 'l', 'l', 'o', 0};
  EXPECT_EQ(std::memcmp(out[0].Value.lpszW, hello, sizeof hello), 0);
  EXPECT_EQ(out[1].Value.l, 2);
  EXPECT_EQ(out[2].ulPropTag, PROP_TAG(PT_ERROR, PROP_ID(PR_BODY_A)));
  EXPECT_EQ(out[2].Value.err, MAPI_E_NOT_FOUND);
  EXPECT_EQ(buffers.load(), 1);  // the result came from the caller's allocator
  counting_free(out);
  EXPECT_EQ(buffers.load(), 0);

  LPSPropTagArray list = nullptr;
  ASSERT_EQ(p->GetPropList(0, &list), S_OK);
  ASSERT_EQ(list->cValues, 2u);
  EXPECT_EQ(list->aulPropTag[0], ULONG(PR_IMPORTANCE));  // in id order
  EXPECT_EQ(list->aulPropTag[1], ULONG(PR_SUBJECT_A));  // 8-bit without MAPI_UNICODE
  counting_free(list);
  EXPECT_EQ(p->Release(), 0u);
}

TEST(CapiPropData, AccessOfTheObjectAndOfEachProperty) {
  LPPROPDATA p = make();
  SPropValue v{};
  v.ulPropTag = PR_SUBJECT_A;
  v.Value.lpszA = (LPSTR) "x";
  ASSERT_EQ(p->SetProps(1, &v, nullptr), S_OK);

  // Set values are read/write and dirty; HrSetPropAccess makes one read-only and clean.
  LPSPropTagArray tags = nullptr;
  ULONG* rights = nullptr;
  ASSERT_EQ(p->HrGetPropAccess(&tags, &rights), S_OK);
  ASSERT_EQ(tags->cValues, 1u);
  EXPECT_EQ(rights[0], IPROP_READWRITE | IPROP_DIRTY);
  counting_free(tags);
  counting_free(rights);
  SizedSPropTagArray(1, subject) = {1, {PR_SUBJECT_A}};
  ULONG ro = IPROP_READONLY | IPROP_CLEAN;
  ASSERT_EQ(p->HrSetPropAccess((LPSPropTagArray)&subject, &ro), S_OK);
  ULONG both = IPROP_READONLY | IPROP_READWRITE | IPROP_CLEAN;
  EXPECT_EQ(p->HrSetPropAccess((LPSPropTagArray)&subject, &both), MAPI_E_INVALID_PARAMETER);
  LPSPropProblemArray problems = nullptr;
  ASSERT_EQ(p->SetProps(1, &v, &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  EXPECT_EQ(problems->aProblem[0].scode, MAPI_E_NO_ACCESS);
  counting_free(problems);
  ASSERT_EQ(p->DeleteProps((LPSPropTagArray)&subject, &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  EXPECT_EQ(problems->aProblem[0].scode, MAPI_E_NO_ACCESS);
  counting_free(problems);

  // A missing property is a DeleteProps problem; a read-only object refuses the whole call.
  SizedSPropTagArray(1, body) = {1, {PR_BODY_A}};
  ASSERT_EQ(p->DeleteProps((LPSPropTagArray)&body, &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  EXPECT_EQ(problems->aProblem[0].scode, MAPI_E_NOT_FOUND);
  counting_free(problems);
  ASSERT_EQ(p->HrSetObjAccess(IPROP_READONLY), S_OK);
  v.ulPropTag = PR_BODY_A;
  EXPECT_EQ(p->SetProps(1, &v, nullptr), MAPI_E_NO_ACCESS);
  EXPECT_EQ(p->HrSetObjAccess(0), MAPI_E_INVALID_PARAMETER);
  LPMAPIERROR err = nullptr;
  ASSERT_EQ(p->GetLastError(MAPI_E_INVALID_PARAMETER, 0, &err), S_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err->lpszError).find("IPROP_READONLY"), std::string::npos);
  counting_free(err);
  p->Release();
  EXPECT_EQ(buffers.load(), 0);
}

TEST(CapiPropData, NamedPropertiesAndObjectProperties) {
  LPPROPDATA p = make();
  GUID set = PS_PUBLIC_STRINGS;
  WCHAR keywords[] = {'K', 'e', 'y', 'w', 'o', 'r', 'd', 's', 0};
  MAPINAMEID a{&set, MNID_STRING, {0}}, b{&set, MNID_ID, {0}};
  a.Kind.lpwstrName = keywords;
  b.Kind.lID = 0x8514;
  LPMAPINAMEID names[2] = {&a, &b};
  LPSPropTagArray ids = nullptr;
  ASSERT_EQ(p->GetIDsFromNames(2, names, 0, &ids), MAPI_W_ERRORS_RETURNED);  // nothing mapped yet
  EXPECT_EQ(PROP_TYPE(ids->aulPropTag[0]), PT_ERROR);
  counting_free(ids);
  ASSERT_EQ(p->GetIDsFromNames(2, names, MAPI_CREATE, &ids), S_OK);
  EXPECT_EQ(PROP_ID(ids->aulPropTag[0]), 0x8000u);
  EXPECT_EQ(PROP_ID(ids->aulPropTag[1]), 0x8001u);
  LPSPropTagArray again = nullptr;
  ASSERT_EQ(p->GetIDsFromNames(2, names, MAPI_CREATE, &again), S_OK);  // the same ids
  EXPECT_EQ(again->aulPropTag[1], ids->aulPropTag[1]);
  counting_free(again);
  ULONG n = 0;
  LPMAPINAMEID* back = nullptr;
  ASSERT_EQ(p->GetNamesFromIDs(&ids, nullptr, 0, &n, &back), S_OK);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(back[0]->ulKind, ULONG(MNID_STRING));
  EXPECT_EQ(std::memcmp(back[0]->Kind.lpwstrName, keywords, sizeof keywords), 0);
  EXPECT_EQ(back[1]->Kind.lID, 0x8514);
  EXPECT_TRUE(IsEqualGUID(*back[1]->lpguid, PS_PUBLIC_STRINGS));
  counting_free(back);
  counting_free(ids);

  SizedSPropTagArray(2, objs) = {2, {PR_ATTACH_DATA_OBJ, PR_SUBJECT_A}};
  LPSPropProblemArray problems = nullptr;
  ASSERT_EQ(p->HrAddObjProps((LPSPropTagArray)&objs, &problems), S_OK);
  ASSERT_NE(problems, nullptr);
  EXPECT_EQ(problems->aProblem[0].ulIndex, 1u);  // not PT_OBJECT
  counting_free(problems);
  LPSPropTagArray list = nullptr;
  ASSERT_EQ(p->GetPropList(0, &list), S_OK);
  ASSERT_EQ(list->cValues, 1u);
  EXPECT_EQ(list->aulPropTag[0], ULONG(PR_ATTACH_DATA_OBJ));
  counting_free(list);
  p->Release();
}

TEST(CapiPropData, CopyToAnotherObjectKeepsWhatItHasWithNoReplace) {
  LPPROPDATA from = make(), to = make();
  SPropValue v[2]{};
  v[0].ulPropTag = PR_SUBJECT_A;
  v[0].Value.lpszA = (LPSTR) "from";
  v[1].ulPropTag = PR_IMPORTANCE;
  v[1].Value.l = 2;
  ASSERT_EQ(from->SetProps(2, v, nullptr), S_OK);
  SPropValue mine{};
  mine.ulPropTag = PR_SUBJECT_A;
  mine.Value.lpszA = (LPSTR) "to";
  ASSERT_EQ(to->SetProps(1, &mine, nullptr), S_OK);
  ASSERT_EQ(from->CopyTo(0, nullptr, nullptr, 0, nullptr, &IID_IMAPIProp, to, MAPI_NOREPLACE, nullptr), S_OK);
  SizedSPropTagArray(2, tags) = {2, {PR_SUBJECT_A, PR_IMPORTANCE}};
  ULONG n = 0;
  LPSPropValue out = nullptr;
  ASSERT_EQ(to->GetProps((LPSPropTagArray)&tags, 0, &n, &out), S_OK);
  EXPECT_STREQ(out[0].Value.lpszA, "to");
  EXPECT_EQ(out[1].Value.l, 2);
  counting_free(out);
  // CopyProps with MAPI_MOVE takes the value out of the source.
  SizedSPropTagArray(1, subject) = {1, {PR_SUBJECT_A}};
  ASSERT_EQ(from->CopyProps((LPSPropTagArray)&subject, 0, nullptr, &IID_IMAPIProp, to, MAPI_MOVE, nullptr), S_OK);
  ASSERT_EQ(to->GetProps((LPSPropTagArray)&subject, 0, &n, &out), S_OK);
  EXPECT_STREQ(out[0].Value.lpszA, "from");
  counting_free(out);
  EXPECT_EQ(from->GetProps((LPSPropTagArray)&subject, 0, &n, &out), MAPI_W_ERRORS_RETURNED);
  counting_free(out);
  LPPROPDATA other = nullptr;
  EXPECT_EQ(CreateIProp(&IID_IMessage, counting_buffer, counting_more, counting_free, nullptr, &other), MAPI_E_INTERFACE_NOT_SUPPORTED);
  EXPECT_EQ(other, nullptr);
  from->Release();
  to->Release();
  EXPECT_EQ(buffers.load(), 0);
}
