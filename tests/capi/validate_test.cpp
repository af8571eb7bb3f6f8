// mapival.h (src/capi/validate.cpp): what the MAPI reference calls bad for each validator.
#include <gtest/gtest.h>

#include <vector>

#include "mapitags.h"
#include "mapiutil.h"
#include "mapival.h"

namespace {

SPropValue value(ULONG tag) {
  SPropValue v{};
  v.ulPropTag = tag;
  return v;
}

}  // namespace

TEST(CapiValidate, FBadPropChecksEachTypesPointersAndBooleans) {
  SPropValue b = value(PROP_TAG(PT_BOOLEAN, 0x8000));
  b.Value.b = TRUE;
  EXPECT_FALSE(FBadProp(&b));
  b.Value.b = 2;  // neither TRUE nor FALSE
  EXPECT_TRUE(FBadProp(&b));
  SPropValue s = value(PROP_TAG(PT_STRING8, 0x37));
  EXPECT_TRUE(FBadProp(&s));  // NULL string
  s.Value.lpszA = const_cast<char*>("x");
  EXPECT_FALSE(FBadProp(&s));
  BYTE bytes[2] = {1, 2};
  SPropValue bin = value(PROP_TAG(PT_BINARY, 0xFFF));
  EXPECT_FALSE(FBadProp(&bin));  // empty: fine
  bin.Value.bin.cb = 2;
  EXPECT_TRUE(FBadProp(&bin));  // bytes, no pointer
  bin.Value.bin.lpb = bytes;
  EXPECT_FALSE(FBadProp(&bin));
  SPropValue mv = value(PROP_TAG(PT_MV_STRING8, 0x8001));
  mv.Value.MVszA.cValues = 2;
  EXPECT_TRUE(FBadProp(&mv));
  LPSTR strings[2] = {const_cast<char*>("a"), nullptr};
  mv.Value.MVszA.lppszA = strings;
  EXPECT_TRUE(FBadProp(&mv));  // one NULL element
  strings[1] = const_cast<char*>("b");
  EXPECT_FALSE(FBadProp(&mv));
  SPropValue l = value(PROP_TAG(PT_LONG, 0x17));
  EXPECT_FALSE(FBadProp(&l));
  SPropValue unknown = value(PROP_TAG(0x0999, 0x17));
  EXPECT_TRUE(FBadProp(&unknown));
  SPropValue untyped = value(PROP_TAG(PT_UNSPECIFIED, 0x17));
  EXPECT_TRUE(FBadProp(&untyped));
  EXPECT_TRUE(FBadProp(nullptr));
}

TEST(CapiValidate, TagsColumnSetsRowsAndSortOrders) {
  EXPECT_FALSE(FBadPropTag(PROP_TAG(PT_UNICODE, 0x37)));
  EXPECT_FALSE(FBadPropTag(PROP_TAG(PT_MV_UNICODE | MV_INSTANCE, 0x8000)));
  EXPECT_TRUE(FBadPropTag(PROP_TAG(0x0999, 0x37)));
  EXPECT_TRUE(FBadPropTag(PROP_TAG(PT_LONG, PROP_ID_INVALID)));

  SizedSPropTagArray(3, cols) = {3, {PROP_TAG(PT_LONG, 0x17), PROP_TAG(PT_NULL, 0x18), PROP_TAG(PT_UNICODE, 0x37)}};
  EXPECT_FALSE(FBadColumnSet(reinterpret_cast<LPSPropTagArray>(&cols)));  // PT_NULL is a valid column
  cols.aulPropTag[1] = PROP_TAG(PT_ERROR, 0x18);
  EXPECT_TRUE(FBadColumnSet(reinterpret_cast<LPSPropTagArray>(&cols)));  // PT_ERROR is not
  EXPECT_TRUE(FBadColumnSet(nullptr));

  SPropValue props[2] = {value(PROP_TAG(PT_LONG, 0x17)), value(PROP_TAG(PT_STRING8, 0x37))};
  props[1].Value.lpszA = const_cast<char*>("x");
  SRow row{0, 2, props};
  EXPECT_FALSE(FBadRow(&row));
  props[1].Value.lpszA = nullptr;
  EXPECT_TRUE(FBadRow(&row));
  SRow missing{0, 2, nullptr};
  EXPECT_TRUE(FBadRow(&missing));
  SRowSet set{1, {row}};
  EXPECT_TRUE(FBadRowSet(&set));
  props[1].Value.lpszA = const_cast<char*>("x");
  set.aRow[0] = row;
  EXPECT_FALSE(FBadRowSet(&set));

  struct {
    ULONG cSorts, cCategories, cExpanded;
    SSortOrder aSort[2];
  } sorts = {2, 1, 1, {{PROP_TAG(PT_UNICODE, 0x37), TABLE_SORT_ASCEND}, {PROP_TAG(PT_SYSTIME, 0x39), TABLE_SORT_DESCEND}}};
  auto* sos = reinterpret_cast<LPSSortOrderSet>(&sorts);
  EXPECT_FALSE(FBadSortOrderSet(sos));
  sorts.cCategories = 3;  // more categories than sorts
  EXPECT_TRUE(FBadSortOrderSet(sos));
  sorts.cCategories = 1;
  sorts.cExpanded = 2;  // more expanded than categories
  EXPECT_TRUE(FBadSortOrderSet(sos));
  sorts.cExpanded = 0;
  sorts.aSort[1].ulOrder = 77;
  EXPECT_TRUE(FBadSortOrderSet(sos));
}

TEST(CapiValidate, StringArraysEntryListsAndNames) {
  LPSTR a[2] = {const_cast<char*>("a"), nullptr};
  EXPECT_TRUE(FBadRglpszA(a, 2));
  EXPECT_FALSE(FBadRglpszA(a, 1));
  EXPECT_TRUE(FBadRglpszA(nullptr, 1));
  EXPECT_FALSE(FBadRglpszA(nullptr, 0));
  LPWSTR w[1] = {const_cast<char16_t*>(u"w")};
  EXPECT_FALSE(FBadRglpszW(w, 1));

  BYTE eid[24] = {};
  SBinary entries[2] = {{24, eid}, {0, nullptr}};
  ENTRYLIST list{2, entries};
  EXPECT_TRUE(FBadEntryList(&list));  // an empty entry ID
  list.cValues = 1;
  EXPECT_FALSE(FBadEntryList(&list));
  EXPECT_TRUE(FBadEntryList(nullptr));

  GUID ps_public = {0x00020329, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
  GUID other = ps_public;
  other.Data1 = 1;
  MAPINAMEID by_name{&ps_public, MNID_STRING, {}}, same_name{&ps_public, MNID_STRING, {}}, by_id{&ps_public, MNID_ID, {}};
  by_name.Kind.lpwstrName = const_cast<char16_t*>(u"Keywords");
  same_name.Kind.lpwstrName = const_cast<char16_t*>(u"Keywords");
  by_id.Kind.lID = 0x8501;
  LPMAPINAMEID names[3] = {&by_name, &by_id, &same_name};
  EXPECT_FALSE(FBadRglpNameID(names, 3));
  MAPINAMEID no_guid{nullptr, MNID_ID, {}}, bad_kind{&ps_public, 7, {}}, no_string{&ps_public, MNID_STRING, {}};
  no_string.Kind.lpwstrName = nullptr;  // (the union's {} sets only its first, 4-byte member)
  for (LPMAPINAMEID bad : {&no_guid, &bad_kind, &no_string}) {
    LPMAPINAMEID one[1] = {bad};
    EXPECT_TRUE(FBadRglpNameID(one, 1));
  }
  EXPECT_TRUE(FEqualNames(&by_name, &same_name));
  EXPECT_FALSE(FEqualNames(&by_name, &by_id));
  MAPINAMEID other_set = by_name;
  other_set.lpguid = &other;
  EXPECT_FALSE(FEqualNames(&by_name, &other_set));
  MAPINAMEID lower = by_name;
  lower.Kind.lpwstrName = const_cast<char16_t*>(u"keywords");
  EXPECT_FALSE(FEqualNames(&by_name, &lower));  // names compare exactly
}

TEST(CapiValidate, FBadRestrictionTakesWhatATableTakes) {
  EXPECT_TRUE(FBadRestriction(nullptr));
  SPropValue v{};
  v.ulPropTag = PR_SUBJECT_A;
  v.Value.lpszA = (LPSTR) "x";
  SRestriction content{};
  content.rt = RES_CONTENT;
  content.res.resContent = {FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT_A, &v};
  EXPECT_FALSE(FBadRestriction(&content));
  SRestriction both[2] = {content, content};
  SRestriction a{};
  a.rt = RES_AND;
  a.res.resAnd = {2, both};
  EXPECT_FALSE(FBadRestriction(&a));
  a.res.resAnd = {2, nullptr};  // a count without its restrictions
  EXPECT_TRUE(FBadRestriction(&a));
  SRestriction prop{};
  prop.rt = RES_PROPERTY;
  prop.res.resProperty = {99, PR_SUBJECT_A, &v};  // no such operator
  EXPECT_TRUE(FBadRestriction(&prop));
  prop.res.resProperty = {RELOP_EQ, PR_SUBJECT_A, nullptr};
  EXPECT_TRUE(FBadRestriction(&prop));
  SRestriction odd{};
  odd.rt = 77;
  EXPECT_TRUE(FBadRestriction(&odd));
  // Nested too deeply: NOT of NOT of ... 100 levels.
  std::vector<SRestriction> chain(100);
  for (size_t i = 0; i + 1 < chain.size(); ++i) chain[i].rt = RES_NOT, chain[i].res.resNot = {0, &chain[i + 1]};
  chain.back() = content;
  EXPECT_TRUE(FBadRestriction(&chain[0]));
  EXPECT_FALSE(FBadRestriction(&chain[90]));
}

TEST(CapiValidate, EntryIdsAsStringsRoundTrip) {
  BYTE id[] = {0x00, 0x00, 0x00, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x01};
  LPSTR s = nullptr;
  ASSERT_EQ(HrSzFromEntryID(sizeof id, (LPENTRYID)id, &s), S_OK);
  EXPECT_STREQ(s, "00000000DEADBEEF01");
  ULONG cb = 0;
  LPENTRYID back = nullptr;
  ASSERT_EQ(HrEntryIDFromSz(s, &cb, &back), S_OK);
  ASSERT_EQ(cb, sizeof id);
  EXPECT_EQ(memcmp(back, id, cb), 0);
  MAPIFreeBuffer(back);
  MAPIFreeBuffer(s);
  EXPECT_EQ(HrEntryIDFromSz((LPSTR) "0G", &cb, &back), MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(HrEntryIDFromSz((LPSTR) "ABC", &cb, &back), MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(HrDispatchNotifications(0), S_OK);
}

// A restriction whose RES_COMMENT value holds, as PT_SRESTRICTION, the restriction itself: the
// nesting is counted through the values too, so the cycle is refused instead of followed.
TEST(CapiValidate, FBadRestrictionRefusesACycleThroughCommentValues) {
  SRestriction comment{};
  SPropValue v{};
  v.ulPropTag = PROP_TAG(PT_SRESTRICTION, 0x6700);
  v.Value.lpszA = reinterpret_cast<LPSTR>(&comment);
  comment.rt = RES_COMMENT;
  comment.res.resComment = {1, nullptr, &v};
  EXPECT_TRUE(FBadRestriction(&comment));
}
