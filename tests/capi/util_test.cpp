// OpenMAPI's C ABI (capi/include, src/capi): the memory functions and the mapiutil.h utilities
// against what the MAPI reference documents for each (the page of each function names the
// behaviour checked here), from C++ (capi.CProgram checks the same headers from C).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mapitags.h"
#include "mapiutil.h"

namespace {

SPropValue string8(ULONG id, const char* s) {
  SPropValue v{};
  v.ulPropTag = PROP_TAG(PT_STRING8, id);
  v.Value.lpszA = const_cast<char*>(s);
  return v;
}
SPropValue unicode(ULONG id, const char16_t* s) {
  SPropValue v{};
  v.ulPropTag = PROP_TAG(PT_UNICODE, id);
  v.Value.lpszW = const_cast<char16_t*>(s);
  return v;
}
SPropValue binary(ULONG id, std::vector<BYTE>& b) {
  SPropValue v{};
  v.ulPropTag = PROP_TAG(PT_BINARY, id);
  v.Value.bin.cb = ULONG(b.size());
  v.Value.bin.lpb = b.data();
  return v;
}
SPropValue long_value(ULONG id, LONG l) {
  SPropValue v{};
  v.ulPropTag = PROP_TAG(PT_LONG, id);
  v.Value.l = l;
  return v;
}

}  // namespace

TEST(CapiMemory, MoreBuffersGoWithTheirRootAndBadArgumentsAreRefused) {
  void* root = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(100, &root), S_OK);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(root) % 16, 0u);
  void* more = nullptr;
  void* more2 = nullptr;
  ASSERT_EQ(MAPIAllocateMore(50, root, &more), S_OK);
  ASSERT_EQ(MAPIAllocateMore(50, more, &more2), S_OK);  // linked through a linked buffer: to the same root
  std::memset(more, 1, 50);
  std::memset(more2, 2, 50);
  EXPECT_EQ(MAPIFreeBuffer(more), ULONG(S_OK));  // not alone: nothing happens
  EXPECT_EQ(static_cast<unsigned char*>(more)[49], 1);
  EXPECT_EQ(MAPIFreeBuffer(root), ULONG(S_OK));  // all three (the sanitizer build sees a leak otherwise)
  EXPECT_EQ(MAPIFreeBuffer(nullptr), ULONG(S_OK));
  EXPECT_EQ(MAPIAllocateBuffer(10, nullptr), MAPI_E_INVALID_PARAMETER);
  char not_ours[64] = {};
  void* out = reinterpret_cast<void*>(1);
  EXPECT_EQ(MAPIAllocateMore(10, not_ours + 48, &out), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(out, nullptr);
  void* zero = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(0, &zero), S_OK);  // a zero-size buffer is a buffer
  EXPECT_NE(zero, nullptr);
  MAPIFreeBuffer(zero);
}

TEST(CapiUtil, UlPropSizeCountsTheDataOfEachType) {
  SPropValue s = string8(0x37, "Hello");
  EXPECT_EQ(UlPropSize(&s), 6u);  // with its terminator
  SPropValue w = unicode(0x37, u"Hëllo");
  EXPECT_EQ(UlPropSize(&w), 12u);  // six UTF-16 units
  std::vector<BYTE> b = {1, 2, 3};
  SPropValue bin = binary(0xFFF, b);
  EXPECT_EQ(UlPropSize(&bin), 3u);
  SPropValue l = long_value(0x17, 5);
  EXPECT_EQ(UlPropSize(&l), 4u);
  SPropValue t{};
  t.ulPropTag = PROP_TAG(PT_SYSTIME, 0x39);
  EXPECT_EQ(UlPropSize(&t), 8u);
  LONG longs[3] = {1, 2, 3};
  SPropValue mv{};
  mv.ulPropTag = PROP_TAG(PT_MV_LONG, 0x8000);
  mv.Value.MVl = {3, longs};
  EXPECT_EQ(UlPropSize(&mv), 12u);
  const char* strings[] = {"a", "bcd"};
  SPropValue mvs{};
  mvs.ulPropTag = PROP_TAG(PT_MV_STRING8, 0x8001);
  mvs.Value.MVszA = {2, const_cast<LPSTR*>(strings)};
  EXPECT_EQ(UlPropSize(&mvs), 6u);
  EXPECT_EQ(UlPropSize(nullptr), 0u);
}

TEST(CapiUtil, FindingAValueByTagOrById) {
  SPropValue props[] = {string8(0x37, "s"), long_value(0x17, 1), unicode(0x3001, u"n")};
  EXPECT_EQ(PpropFindProp(props, 3, PROP_TAG(PT_LONG, 0x17)), &props[1]);
  EXPECT_EQ(PpropFindProp(props, 3, PROP_TAG(PT_STRING8, 0x17)), nullptr);  // another type: not it
  EXPECT_EQ(PpropFindProp(props, 3, PROP_TAG(PT_UNSPECIFIED, 0x3001)), &props[2]);  // PT_UNSPECIFIED: the id
  EXPECT_EQ(LpValFindProp(PROP_TAG(PT_UNICODE, 0x37), 3, props), &props[0]);  // by id whatever the type
  EXPECT_EQ(LpValFindProp(PROP_TAG(PT_LONG, 0x99), 3, props), nullptr);
  EXPECT_EQ(PpropFindProp(nullptr, 3, 0), nullptr);
}

TEST(CapiUtil, CountCopyDupAndRelocateKeepEveryValue) {
  std::vector<BYTE> b = {9, 8, 7, 6, 5};
  const char16_t* wide[] = {u"x", u"yz"};
  GUID g{0x12345678, 0x1234, 0x5678, {1, 2, 3, 4, 5, 6, 7, 8}};
  SPropValue props[6] = {string8(0x37, "Subject"), unicode(0x3001, u"Name"), binary(0xFFF, b), long_value(0x17, 2)};
  props[4].ulPropTag = PROP_TAG(PT_MV_UNICODE, 0x8000);
  props[4].Value.MVszW = {2, const_cast<LPWSTR*>(wide)};
  props[5].ulPropTag = PROP_TAG(PT_CLSID, 0x8001);
  props[5].Value.lpguid = &g;
  ULONG cb = 0;
  ASSERT_EQ(ScCountProps(6, props, &cb), S_OK);
  // 6 * 24 bytes of values, then each piece 8-byte aligned: "Subject\0" 8, u"Name\0" 10 -> 16,
  // 5 -> 8, the MV array 16 plus u"x\0" 4 -> 8 and u"yz\0" 6 -> 8, the GUID 16.
  EXPECT_EQ(cb, 144u + 8 + 16 + 8 + 16 + 8 + 8 + 16);
  std::vector<char> block(cb + 64);
  ULONG used = 0;
  ASSERT_EQ(ScCopyProps(6, props, block.data(), &used), S_OK);
  EXPECT_EQ(used, cb);
  auto* copy = reinterpret_cast<LPSPropValue>(block.data());
  EXPECT_STREQ(copy[0].Value.lpszA, "Subject");
  EXPECT_NE(copy[0].Value.lpszA, props[0].Value.lpszA);
  EXPECT_EQ(std::u16string(copy[1].Value.lpszW), u"Name");
  EXPECT_EQ(std::memcmp(copy[2].Value.bin.lpb, b.data(), 5), 0);
  EXPECT_EQ(copy[3].Value.l, 2);
  EXPECT_EQ(std::u16string(copy[4].Value.MVszW.lppszW[1]), u"yz");
  EXPECT_EQ(std::memcmp(copy[5].Value.lpguid, &g, sizeof g), 0);
  const void* inside[] = {copy[0].Value.lpszA, copy[1].Value.lpszW, copy[2].Value.bin.lpb, copy[4].Value.MVszW.lppszW,
                          copy[4].Value.MVszW.lppszW[0], copy[4].Value.MVszW.lppszW[1], copy[5].Value.lpguid};
  for (const void* v : inside) {  // every pointer of the copy is into the block
    const char* p = static_cast<const char*>(v);
    EXPECT_TRUE(p >= block.data() && p < block.data() + cb);
  }
  // Moved elsewhere, then relocated: the pointers follow.
  std::vector<char> moved(block);
  ULONG reloc = 0;
  ASSERT_EQ(ScRelocProps(6, reinterpret_cast<LPSPropValue>(moved.data()), block.data(), moved.data(), &reloc), S_OK);
  EXPECT_EQ(reloc, cb);
  block.assign(block.size(), 0);  // the old copy is gone
  auto* m = reinterpret_cast<LPSPropValue>(moved.data());
  EXPECT_STREQ(m[0].Value.lpszA, "Subject");
  EXPECT_EQ(std::u16string(m[4].Value.MVszW.lppszW[0]), u"x");

  LPSPropValue dup = nullptr;
  ASSERT_EQ(ScDupPropset(6, props, MAPIAllocateBuffer, &dup), S_OK);
  EXPECT_EQ(std::u16string(dup[1].Value.lpszW), u"Name");
  MAPIFreeBuffer(dup);

  SPropValue bad = string8(0x37, nullptr);
  EXPECT_EQ(ScCountProps(1, &bad, &cb), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScCountProps(-1, props, &cb), MAPI_E_INVALID_PARAMETER);
  SPropValue unknown{};
  unknown.ulPropTag = PROP_TAG(0x0999, 0x8002);
  EXPECT_EQ(ScCountProps(1, &unknown, &cb), MAPI_E_INVALID_PARAMETER);
}

TEST(CapiUtil, PropCopyMoreLinksTheDataToTheObject) {
  void* root = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), &root), S_OK);
  auto* dst = static_cast<LPSPropValue>(root);
  SPropValue src = unicode(0x37, u"kept");
  ASSERT_EQ(PropCopyMore(dst, &src, MAPIAllocateMore, root), S_OK);
  EXPECT_EQ(std::u16string(dst->Value.lpszW), u"kept");
  EXPECT_NE(dst->Value.lpszW, src.Value.lpszW);
  EXPECT_EQ(PropCopyMore(nullptr, &src, MAPIAllocateMore, root), MAPI_E_INVALID_PARAMETER);
  MAPIFreeBuffer(root);  // the string goes with it
}

TEST(CapiUtil, FPropContainsPropAtEveryFuzzyLevel) {
  SPropValue hay = string8(0x37, "Quarterly Report");
  SPropValue sub = string8(0x37, "report"), prefix = string8(0x37, "Quarter"), whole = string8(0x37, "quarterly report");
  EXPECT_FALSE(FPropContainsProp(&hay, &sub, FL_SUBSTRING));
  EXPECT_TRUE(FPropContainsProp(&hay, &sub, FL_SUBSTRING | FL_IGNORECASE));
  EXPECT_TRUE(FPropContainsProp(&hay, &sub, FL_SUBSTRING | FL_LOOSE));
  EXPECT_TRUE(FPropContainsProp(&hay, &prefix, FL_PREFIX));
  EXPECT_FALSE(FPropContainsProp(&hay, &sub, FL_PREFIX | FL_IGNORECASE));
  EXPECT_FALSE(FPropContainsProp(&hay, &whole, FL_FULLSTRING));
  EXPECT_TRUE(FPropContainsProp(&hay, &whole, FL_FULLSTRING | FL_IGNORECASE));
  SPropValue w = unicode(0x37, u"Grüße aus Köln"), wsub = unicode(0x37, u"KÖLN"), wsub2 = unicode(0x37, u"Köln");
  EXPECT_TRUE(FPropContainsProp(&w, &wsub2, FL_SUBSTRING));
  EXPECT_FALSE(FPropContainsProp(&w, &wsub, FL_SUBSTRING | FL_IGNORECASE));  // only ASCII letters fold (as documented here)
  std::vector<BYTE> big = {1, 2, 3, 4}, mid = {2, 3};
  SPropValue hb = binary(0xFFF, big), nb = binary(0xFFF, mid);
  EXPECT_TRUE(FPropContainsProp(&hb, &nb, FL_SUBSTRING));
  EXPECT_FALSE(FPropContainsProp(&hb, &nb, FL_PREFIX));
  SPropValue other = long_value(0x37, 1);
  EXPECT_FALSE(FPropContainsProp(&hay, &other, FL_SUBSTRING));  // types differ
}

TEST(CapiUtil, ComparingValuesByTypeAndOperator) {
  SPropValue a = long_value(0x17, 1), b = long_value(0x17, 2);
  EXPECT_LT(LPropCompareProp(&a, &b), 0);
  EXPECT_GT(LPropCompareProp(&b, &a), 0);
  EXPECT_EQ(LPropCompareProp(&a, &a), 0);
  EXPECT_TRUE(FPropCompareProp(&a, RELOP_LT, &b));
  EXPECT_TRUE(FPropCompareProp(&a, RELOP_LE, &a));
  EXPECT_TRUE(FPropCompareProp(&b, RELOP_GE, &a));
  EXPECT_TRUE(FPropCompareProp(&a, RELOP_NE, &b));
  EXPECT_FALSE(FPropCompareProp(&a, RELOP_EQ, &b));
  SPropValue s = string8(0x17, "1");
  EXPECT_FALSE(FPropCompareProp(&a, RELOP_NE, &s));  // different types: FALSE whatever the operator
  SPropValue x = string8(0x37, "apple"), y = string8(0x37, "apples");
  EXPECT_LT(LPropCompareProp(&x, &y), 0);
  SPropValue t1{}, t2{};
  t1.ulPropTag = t2.ulPropTag = PROP_TAG(PT_SYSTIME, 0x39);
  t1.Value.ft = {0xFFFFFFFF, 1};
  t2.Value.ft = {0, 2};
  EXPECT_LT(LPropCompareProp(&t1, &t2), 0);  // the high half decides
  SPropValue b1{}, b2{};
  b1.ulPropTag = b2.ulPropTag = PROP_TAG(PT_BOOLEAN, 0x8000);
  b1.Value.b = 0;
  b2.Value.b = 1;
  EXPECT_NE(LPropCompareProp(&b1, &b2), 0);
  EXPECT_EQ(LPropCompareProp(&b1, &b2), LPropCompareProp(&b1, &b2));  // consistent across calls
}

TEST(CapiUtil, HexAndStrings) {
  BYTE bytes[] = {0x00, 0xAB, 0x10, 0xFF};
  char hex[9];
  HexFromBin(bytes, 4, hex);
  EXPECT_STREQ(hex, "00AB10FF");
  BYTE back[4] = {};
  char lower[] = "00ab10ff";
  EXPECT_TRUE(FBinFromHex(lower, back));
  EXPECT_EQ(std::memcmp(back, bytes, 4), 0);
  char odd[] = "ABC", bad[] = "0G";
  EXPECT_FALSE(FBinFromHex(odd, back));
  EXPECT_FALSE(FBinFromHex(bad, back));
  EXPECT_EQ(UFromSz("1234abc"), 1234u);
  EXPECT_EQ(UFromSz("x1"), 0u);
  EXPECT_EQ(UlFromSzHex("1aF"), 0x1AFu);
  const char* s = "a/b/c";
  EXPECT_EQ(SzFindCh(s, '/'), s + 1);
  EXPECT_EQ(SzFindLastCh(s, '/'), s + 3);
  EXPECT_EQ(SzFindCh(s, 'z'), nullptr);
  EXPECT_EQ(SzFindSz(s, "b/c"), s + 2);
  EXPECT_EQ(SzFindSz(s, "zz"), nullptr);
}

TEST(CapiUtil, FiletimeArithmeticIsSixtyFourBit) {
  const FILETIME one_day{0x2A69C000, 0xC9};  // 864000000000 100-ns units
  const FILETIME two = FtAddFt(one_day, one_day);
  EXPECT_EQ((uint64_t(two.dwHighDateTime) << 32) | two.dwLowDateTime, 2 * 864000000000ull);
  const FILETIME diff = FtSubFt(two, one_day);
  EXPECT_EQ(diff.dwLowDateTime, one_day.dwLowDateTime);
  EXPECT_EQ(diff.dwHighDateTime, one_day.dwHighDateTime);
  const FILETIME week = FtMulDw(7, one_day);
  EXPECT_EQ((uint64_t(week.dwHighDateTime) << 32) | week.dwLowDateTime, 7 * 864000000000ull);
  const FILETIME big = FtMulDwDw(0xFFFFFFFF, 2);
  EXPECT_EQ(big.dwHighDateTime, 1u);
  EXPECT_EQ(big.dwLowDateTime, 0xFFFFFFFEu);
  const FILETIME neg = FtNegFt(one_day);
  const FILETIME zero = FtAddFt(neg, one_day);
  EXPECT_EQ(zero.dwLowDateTime | zero.dwHighDateTime, 0u);
}

namespace {
struct Counted : IUnknown {
  ULONG refs = 1;
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID iid, void** out) override {
    if (!out) return E_POINTER;
    if (iid == IID_IUnknown) {
      *out = this;
      AddRef();
      return S_OK;
    }
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return ++refs; }
  ULONG STDMETHODCALLTYPE Release() override { return --refs; }
};
}  // namespace

TEST(CapiUtil, UlAddRefAndUlReleaseGoThroughIUnknown) {
  Counted c;
  EXPECT_EQ(UlAddRef(&c), 2u);
  EXPECT_EQ(UlRelease(&c), 1u);
  EXPECT_EQ(UlRelease(nullptr), 0u);
  EXPECT_EQ(UlAddRef(nullptr), 0u);
}

TEST(CapiUtil, FreeProwsFreesEveryRow) {
  LPSRowSet rows = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(CbNewSRowSet(2), reinterpret_cast<void**>(&rows)), S_OK);
  rows->cRows = 2;
  for (ULONG i = 0; i < 2; ++i) {
    ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), reinterpret_cast<void**>(&rows->aRow[i].lpProps)), S_OK);
    rows->aRow[i].cValues = 1;
    rows->aRow[i].lpProps[0] = long_value(0x17, LONG(i));
  }
  FreeProws(rows);  // the sanitizer build reports any leak
  FreeProws(nullptr);
}

// mapitags.h (generated from MS-OXPROPS): the tags of the specification, string properties in
// their three spellings.
TEST(CapiTags, PrNamesHaveTheTagsOfMsOxprops) {
  EXPECT_EQ(ULONG(PR_SUBJECT_A), 0x0037001Eu);
  EXPECT_EQ(ULONG(PR_SUBJECT_W), 0x0037001Fu);
  EXPECT_EQ(ULONG(PR_SUBJECT), 0x0037001Eu);  // PT_TSTRING without UNICODE
  EXPECT_EQ(ULONG(PR_MESSAGE_CLASS_W), 0x001A001Fu);
  EXPECT_EQ(ULONG(PR_ENTRYID), 0x0FFF0102u);
  EXPECT_EQ(ULONG(PR_MESSAGE_FLAGS), 0x0E070003u);
  EXPECT_EQ(ULONG(PR_DISPLAY_TO_W), 0x0E04001Fu);
  EXPECT_EQ(ULONG(PR_MESSAGE_DELIVERY_TIME), 0x0E060040u);
  EXPECT_EQ(ULONG(PR_ATTACH_DATA_BIN), 0x37010102u);
}

namespace {
// An IMAPITable of `n` rows of one PT_LONG column, handing them out in pieces of at most `piece`.
struct FakeTable : IMAPITable {
  ULONG n, at = 0, piece;
  bool restricted = false, sorted = false, columns = false;
  FakeTable(ULONG rows, ULONG p) : n(rows), piece(p) {}
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID, void**) override { return E_NOINTERFACE; }
  ULONG STDMETHODCALLTYPE AddRef() override { return 1; }
  ULONG STDMETHODCALLTYPE Release() override { return 1; }
  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT, ULONG, LPMAPIERROR*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE Advise(ULONG, LPMAPIADVISESINK, ULONG_PTR*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE Unadvise(ULONG_PTR) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE GetStatus(ULONG*, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE SetColumns(LPSPropTagArray, ULONG) override { columns = true; return S_OK; }
  HRESULT STDMETHODCALLTYPE QueryColumns(ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE GetRowCount(ULONG, ULONG* c) override { *c = n; return S_OK; }
  HRESULT STDMETHODCALLTYPE SeekRow(BOOKMARK, LONG, LONG*) override { at = 0; return S_OK; }
  HRESULT STDMETHODCALLTYPE SeekRowApprox(ULONG, ULONG) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE QueryPosition(ULONG*, ULONG*, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE FindRow(LPSRestriction, BOOKMARK, ULONG) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE Restrict(LPSRestriction, ULONG) override { restricted = true; return S_OK; }
  HRESULT STDMETHODCALLTYPE CreateBookmark(BOOKMARK*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE FreeBookmark(BOOKMARK) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE SortTable(LPSSortOrderSet, ULONG) override { sorted = true; return S_OK; }
  HRESULT STDMETHODCALLTYPE QuerySortOrder(LPSSortOrderSet*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE QueryRows(LONG count, ULONG, LPSRowSet* rows) override {
    const ULONG k = std::min({ULONG(count), piece, n - at});
    MAPIAllocateBuffer(ULONG(CbNewSRowSet(k)), reinterpret_cast<void**>(rows));
    (*rows)->cRows = k;
    for (ULONG i = 0; i < k; ++i) {
      SRow& r = (*rows)->aRow[i];
      r.cValues = 1;
      MAPIAllocateBuffer(sizeof(SPropValue), reinterpret_cast<void**>(&r.lpProps));
      r.lpProps[0].ulPropTag = PROP_TAG(PT_LONG, 0x17);
      r.lpProps[0].Value.l = LONG(at + i);
    }
    at += k;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Abort() override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE ExpandRow(ULONG, LPBYTE, ULONG, ULONG, LPSRowSet*, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE CollapseRow(ULONG, LPBYTE, ULONG, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE WaitForCompletion(ULONG, ULONG, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE GetCollapseState(ULONG, ULONG, LPBYTE, ULONG*, LPBYTE*) override { return MAPI_E_NO_SUPPORT; }
  HRESULT STDMETHODCALLTYPE SetCollapseState(ULONG, ULONG, LPBYTE, BOOKMARK*) override { return MAPI_E_NO_SUPPORT; }
};
}  // namespace

TEST(CapiUtil, HrQueryAllRowsJoinsEveryPieceAndHonoursTheMaximum) {
  FakeTable t(1200, 100);
  SizedSPropTagArray(1, cols) = {1, {PROP_TAG(PT_LONG, 0x17)}};
  SRestriction r{};
  r.rt = RES_EXIST;
  LPSRowSet rows = nullptr;
  ASSERT_EQ(HrQueryAllRows(&t, reinterpret_cast<LPSPropTagArray>(&cols), &r, nullptr, 0, &rows), S_OK);
  EXPECT_TRUE(t.columns && t.restricted && !t.sorted);
  ASSERT_EQ(rows->cRows, 1200u);
  for (ULONG i = 0; i < rows->cRows; ++i) ASSERT_EQ(rows->aRow[i].lpProps[0].Value.l, LONG(i));
  FreeProws(rows);  // every row's properties and the set (the sanitizer build sees any leak)
  FakeTable big(1200, 100);
  rows = reinterpret_cast<LPSRowSet>(1);
  EXPECT_EQ(HrQueryAllRows(&big, nullptr, nullptr, nullptr, 500, &rows), MAPI_E_TABLE_TOO_BIG);
  EXPECT_EQ(rows, nullptr);
  FakeTable exact(500, 100);
  ASSERT_EQ(HrQueryAllRows(&exact, nullptr, nullptr, nullptr, 500, &rows), S_OK);
  EXPECT_EQ(rows->cRows, 500u);
  FreeProws(rows);
  FakeTable empty(0, 100);
  ASSERT_EQ(HrQueryAllRows(&empty, nullptr, nullptr, nullptr, 0, &rows), S_OK);
  EXPECT_EQ(rows->cRows, 0u);
  FreeProws(rows);
  EXPECT_EQ(HrQueryAllRows(nullptr, nullptr, nullptr, nullptr, 0, &rows), MAPI_E_INVALID_PARAMETER);
}

TEST(CapiUtil, TheDefaultMallocKnowsItsBlocks) {
  LPMALLOC m = MAPIGetDefaultMalloc();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m, MAPIGetDefaultMalloc());  // one per process
  void* same = nullptr;
  EXPECT_EQ(m->QueryInterface(IID_IMalloc, &same), S_OK);
  EXPECT_EQ(same, m);
  void* p = m->Alloc(100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(m->GetSize(p), 100u);
  EXPECT_EQ(m->DidAlloc(p), 1);
  int local = 0;
  EXPECT_EQ(m->DidAlloc(&local), 0);
  p = m->Realloc(p, 5000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(m->GetSize(p), 5000u);
  m->Free(p);
  EXPECT_EQ(m->DidAlloc(p), 0);
  m->Free(&local);  // not its block: left alone
  m->Release();     // the process's allocator stays
  EXPECT_NE(m->Alloc(1), nullptr);
}

TEST(CapiUtil, InitFormsAndBoundedHex) {
  EXPECT_EQ(ScInitMapiUtil(0), S_OK);
  DeinitMapiUtil();
  LPMAPIFORMCONTAINER forms = reinterpret_cast<LPMAPIFORMCONTAINER>(1);
  EXPECT_EQ(MAPIOpenLocalFormContainer(&forms), MAPI_E_NO_SUPPORT);
  EXPECT_EQ(forms, nullptr);
  BYTE out[2] = {};
  char ok[] = "0aFF", too_long[] = "010203", odd[] = "abc", bad[] = "zz";
  EXPECT_EQ(ScBinFromHexBounded(ok, out, 2), S_OK);
  EXPECT_EQ(out[0], 0x0A);
  EXPECT_EQ(out[1], 0xFF);
  EXPECT_EQ(ScBinFromHexBounded(too_long, out, 2), MAPI_E_INVALID_PARAMETER);  // would write past the 2 bytes
  EXPECT_EQ(ScBinFromHexBounded(odd, out, 2), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScBinFromHexBounded(bad, out, 2), MAPI_E_INVALID_PARAMETER);
}

// mapiguid.h: the MAPI interface identifiers and property sets, against the GUID text the
// specifications give (MS-OXPROPS 1.3.2 for the property sets).
#include "mapiguid.h"

TEST(CapiGuids, InterfaceAndPropertySetIdentifiers) {
  auto text = [](const GUID& g) {
    char s[40];
    std::snprintf(s, sizeof s, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", g.Data1, g.Data2, g.Data3, g.Data4[0], g.Data4[1],
                  g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6], g.Data4[7]);
    return std::string(s);
  };
  EXPECT_EQ(text(IID_IMAPIProp), "00020303-0000-0000-C000-000000000046");
  EXPECT_EQ(text(IID_IMAPIFolder), "0002030C-0000-0000-C000-000000000046");
  EXPECT_EQ(text(IID_IMessage), "00020307-0000-0000-C000-000000000046");
  EXPECT_EQ(text(IID_IStream), "0000000C-0000-0000-C000-000000000046");
  EXPECT_EQ(text(IID_IUnknown), "00000000-0000-0000-C000-000000000046");
  EXPECT_EQ(text(PS_PUBLIC_STRINGS), "00020329-0000-0000-C000-000000000046");
  EXPECT_EQ(text(PSETID_Meeting), "6ED8DA90-450B-101B-98DA-00AA003F1305");
  EXPECT_EQ(text(PSETID_Common), "00062008-0000-0000-C000-000000000046");
  EXPECT_EQ(text(PS_INTERNET_HEADERS), "00020386-0000-0000-C000-000000000046");
  // In memory a GUID is MS-OXCDATA's wire form: Data1 little-endian first.
  const unsigned char wire[16] = {0x08, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
  EXPECT_EQ(std::memcmp(&PSETID_Common, wire, 16), 0);
}

namespace {
struct Seen {
  ULONG count = 0;
  ULONG event = 0;
  ULONG new_mail_flags = 0;
};
LONG STDAPICALLTYPE record(LPVOID context, ULONG n, LPNOTIFICATION notes) {
  auto* seen = static_cast<Seen*>(context);
  seen->count += n;
  seen->event = notes[0].ulEventType;
  seen->new_mail_flags = notes[0].info.newmail.ulMessageFlags;
  return 0;
}
}  // namespace

TEST(CapiAdvise, ASinkCallsItsCallbackWithTheNotifications) {
  // The layout of 64-bit Windows: NOTIFICATION's union starts at 8, TABLE_NOTIFICATION is the largest.
  EXPECT_EQ(offsetof(NOTIFICATION, info), 8u);
  EXPECT_EQ(sizeof(TABLE_NOTIFICATION), 8u + 24 + 24 + 16 + 8);
  Seen seen;
  LPMAPIADVISESINK sink = nullptr;
  ASSERT_EQ(HrAllocAdviseSink(record, &seen, &sink), S_OK);
  NOTIFICATION n[2] = {};
  n[0].ulEventType = fnevNewMail;
  n[0].info.newmail.ulMessageFlags = 0x04;  // MSGFLAG_SUBMIT-like, only carried
  n[1].ulEventType = fnevObjectCreated;
  EXPECT_EQ(sink->OnNotify(2, n), 0u);
  EXPECT_EQ(seen.count, 2u);
  EXPECT_EQ(seen.event, fnevNewMail);
  EXPECT_EQ(seen.new_mail_flags, 0x04u);
  LPMAPIADVISESINK same = nullptr;
  ASSERT_EQ(HrThisThreadAdviseSink(sink, &same), S_OK);
  EXPECT_EQ(same, sink);
  void* q = nullptr;
  EXPECT_EQ(sink->QueryInterface(IID_IMAPIAdviseSink, &q), S_OK);
  EXPECT_EQ(q, sink);
  sink->Release();  // the QueryInterface
  same->Release();  // HrThisThreadAdviseSink's
  EXPECT_EQ(sink->Release(), 0u);
  EXPECT_EQ(HrAllocAdviseSink(nullptr, nullptr, &sink), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(sink, nullptr);
}
