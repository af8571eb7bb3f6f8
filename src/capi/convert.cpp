// The facade's translation between the C structures and core/ (src/capi/convert.h).
#include "capi/convert.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/unicode.h"
#include "mapiutil.h"

namespace openmapi::capi {

namespace {

[[noreturn]] void bad(const std::string& what) { throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, what); }

void check_count(ULONG n, const void* p, const char* what) {
  if (n > kMaxCount) bad(std::string(what) + ": " + std::to_string(n) + " is more than one call takes");
  if (n && !p) bad(std::string(what) + ": a count without values");
}

size_t wide_length(const WCHAR* s) {
  size_t n = 0;
  while (s[n]) {
    if (++n > (size_t(1) << 30)) bad("a string without its terminating NUL");
  }
  return n;
}

Guid guid_in(const GUID* g) {
  if (!g) bad("a PT_CLSID value without its GUID");
  Guid out;
  std::memcpy(out.bytes.data(), g, 16);  // GUID's little-endian fields are the wire order
  return out;
}

Bytes bin_in(const SBinary& b) {
  check_count(b.cb, b.lpb, "a binary value");
  return Bytes(b.lpb, b.lpb + b.cb);
}

}  // namespace

std::string utf8_of(LPCSTR s) { return s ? std::string(s) : std::string(); }

std::string utf8_of(const WCHAR* s) {
  if (!s) return {};
  return utf16_to_utf8(std::u16string_view(reinterpret_cast<const char16_t*>(s), wide_length(s)));
}

std::string text_arg(const void* s, ULONG flags) {
  return flags & MAPI_UNICODE ? utf8_of(static_cast<const WCHAR*>(s)) : utf8_of(static_cast<LPCSTR>(s));
}

Bytes entry_id_of(ULONG cb, const ENTRYID* e) {
  if (cb > kMaxCount) throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "an entry ID of " + std::to_string(cb) + " bytes");
  if (cb && !e) throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "an entry ID size without the entry ID");
  const auto* p = reinterpret_cast<const uint8_t*>(e);
  return Bytes(p, p + cb);
}

std::vector<Bytes> entry_ids_of(const ENTRYLIST* list) {
  std::vector<Bytes> out;
  if (!list) return out;
  if (list->cValues > kMaxCount || (list->cValues && !list->lpbin)) bad("a malformed entry list");
  out.reserve(list->cValues);
  for (ULONG i = 0; i < list->cValues; ++i) out.push_back(entry_id_of(list->lpbin[i].cb, reinterpret_cast<const ENTRYID*>(list->lpbin[i].lpb)));
  return out;
}

PropValue to_core(const SPropValue& v, int depth) {
  const PropTag tag(v.ulPropTag);
  const auto& u = v.Value;
  auto mv = [&](auto count, auto* items, const char* what, auto convert) {
    check_count(count, items, what);
    using Out = decltype(convert(items[0]));
    std::vector<Out> out;
    out.reserve(count);
    for (ULONG i = 0; i < count; ++i) out.push_back(convert(items[i]));
    return PropValue(tag, std::move(out));
  };
  switch (PROP_TYPE(v.ulPropTag)) {
    case PT_NULL: case PT_OBJECT: case PT_UNSPECIFIED: return PropValue(tag, std::monostate{});
    case PT_I2: return PropValue(tag, int16_t(u.i));
    case PT_LONG: return PropValue(tag, int32_t(u.l));
    case PT_ERROR: return PropValue(tag, int32_t(u.err));
    case PT_R4: return PropValue(tag, u.flt);
    case PT_DOUBLE: case PT_APPTIME: return PropValue(tag, u.dbl);
    case PT_CURRENCY: return PropValue(tag, int64_t(u.cur.int64));
    case PT_I8: return PropValue(tag, int64_t(u.li.QuadPart));
    case PT_SYSTIME: return PropValue(tag, int64_t(uint64_t(u.ft.dwHighDateTime) << 32 | u.ft.dwLowDateTime));
    case PT_BOOLEAN: return PropValue(tag, u.b != 0);
    case PT_STRING8:
      if (!u.lpszA) bad("a PT_STRING8 value without its string");
      return PropValue(tag, utf8_of(u.lpszA));
    case PT_UNICODE:
      if (!u.lpszW) bad("a PT_UNICODE value without its string");
      return PropValue(tag, utf8_of(u.lpszW));
    case PT_CLSID: return PropValue(tag, guid_in(u.lpguid));
    case PT_BINARY: case PT_SVREID: return PropValue(tag, bin_in(u.bin));
    case PT_SRESTRICTION: {
      // The value's pointer member holds the restriction (as MAPI's headers place it).
      const auto* r = reinterpret_cast<const SRestriction*>(u.lpszA);
      if (!r) bad("a PT_SRESTRICTION value without its restriction");
      return PropValue(tag, std::make_shared<const Restriction>(to_core(*r, depth + 1)));
    }
    case PT_MV_I2: return mv(u.MVi.cValues, u.MVi.lpi, "PT_MV_I2", [](SHORT x) { return int16_t(x); });
    case PT_MV_LONG: return mv(u.MVl.cValues, u.MVl.lpl, "PT_MV_LONG", [](LONG x) { return int32_t(x); });
    case PT_MV_R4: return mv(u.MVflt.cValues, u.MVflt.lpflt, "PT_MV_R4", [](float x) { return x; });
    case PT_MV_DOUBLE: return mv(u.MVdbl.cValues, u.MVdbl.lpdbl, "PT_MV_DOUBLE", [](double x) { return x; });
    case PT_MV_APPTIME: return mv(u.MVat.cValues, u.MVat.lpat, "PT_MV_APPTIME", [](double x) { return x; });
    case PT_MV_CURRENCY: return mv(u.MVcur.cValues, u.MVcur.lpcur, "PT_MV_CURRENCY", [](const CY& x) { return int64_t(x.int64); });
    case PT_MV_I8: return mv(u.MVli.cValues, u.MVli.lpli, "PT_MV_I8", [](const LARGE_INTEGER& x) { return int64_t(x.QuadPart); });
    case PT_MV_SYSTIME:
      return mv(u.MVft.cValues, u.MVft.lpft, "PT_MV_SYSTIME",
                [](const FILETIME& f) { return int64_t(uint64_t(f.dwHighDateTime) << 32 | f.dwLowDateTime); });
    case PT_MV_STRING8:
      return mv(u.MVszA.cValues, u.MVszA.lppszA, "PT_MV_STRING8", [](LPSTR s) {
        if (!s) bad("a PT_MV_STRING8 value with a NULL string");
        return utf8_of(s);
      });
    case PT_MV_UNICODE:
      return mv(u.MVszW.cValues, u.MVszW.lppszW, "PT_MV_UNICODE", [](LPWSTR s) {
        if (!s) bad("a PT_MV_UNICODE value with a NULL string");
        return utf8_of(s);
      });
    case PT_MV_BINARY: return mv(u.MVbin.cValues, u.MVbin.lpbin, "PT_MV_BINARY", [](const SBinary& b) { return bin_in(b); });
    case PT_MV_CLSID: return mv(u.MVguid.cValues, u.MVguid.lpguid, "PT_MV_CLSID", [](const GUID& g) { return guid_in(&g); });
    default:
      throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "property tag " + PropTag(v.ulPropTag).hex() + " is not one this call takes");
  }
}

std::vector<PropValue> to_core(const SPropValue* values, ULONG count, int depth) {
  check_count(count, values, "property values");
  std::vector<PropValue> out;
  out.reserve(count);
  for (ULONG i = 0; i < count; ++i) out.push_back(to_core(values[i], depth));
  return out;
}

std::vector<PropTag> to_core(const SPropTagArray* tags) {
  if (!tags) return {};
  check_count(tags->cValues, tags->aulPropTag, "a property tag array");
  std::vector<PropTag> out;
  out.reserve(tags->cValues);
  for (ULONG i = 0; i < tags->cValues; ++i) out.emplace_back(tags->aulPropTag[i]);
  return out;
}

Restriction to_core(const SRestriction& r, int depth) {
  if (depth > kMaxDepth) bad("a restriction nested deeper than " + std::to_string(kMaxDepth) + " levels");
  auto child = [&](const SRestriction* c) {
    if (!c) bad("a restriction without its inner restriction");
    return std::make_unique<Restriction>(to_core(*c, depth + 1));
  };
  auto value = [&](const SPropValue* v) {
    if (!v) bad("a restriction without its value");
    return to_core(*v, depth + 1);
  };
  auto children = [&](ULONG n, const SRestriction* rs) {
    check_count(n, rs, "a restriction list");
    std::vector<Restriction> out;
    out.reserve(n);
    for (ULONG i = 0; i < n; ++i) out.push_back(to_core(rs[i], depth + 1));
    return out;
  };
  auto relop = [](ULONG op) {
    if (op > RELOP_RE) bad("relational operator " + std::to_string(op));
    return RelOp(op);
  };
  const auto& x = r.res;
  switch (r.rt) {
    case RES_AND: return Restriction::And{children(x.resAnd.cRes, x.resAnd.lpRes)};
    case RES_OR: return Restriction::Or{children(x.resOr.cRes, x.resOr.lpRes)};
    case RES_NOT: return Restriction::Not{child(x.resNot.lpRes)};
    case RES_CONTENT:
      return Restriction::Content{x.resContent.ulFuzzyLevel, PropTag(x.resContent.ulPropTag), value(x.resContent.lpProp)};
    case RES_PROPERTY:
      return Restriction::Property{relop(x.resProperty.relop), PropTag(x.resProperty.ulPropTag), value(x.resProperty.lpProp)};
    case RES_COMPAREPROPS:
      return Restriction::CompareProps{relop(x.resCompareProps.relop), PropTag(x.resCompareProps.ulPropTag1),
                                       PropTag(x.resCompareProps.ulPropTag2)};
    case RES_BITMASK:
      if (x.resBitMask.relBMR > BMR_NEZ) bad("bitmask operator " + std::to_string(x.resBitMask.relBMR));
      return Restriction::Bitmask{BitmaskOp(x.resBitMask.relBMR), PropTag(x.resBitMask.ulPropTag), x.resBitMask.ulMask};
    case RES_SIZE: return Restriction::Size{relop(x.resSize.relop), PropTag(x.resSize.ulPropTag), x.resSize.cb};
    case RES_EXIST: return Restriction::Exist{PropTag(x.resExist.ulPropTag)};
    case RES_SUBRESTRICTION: return Restriction::Sub{PropTag(x.resSub.ulSubObject), child(x.resSub.lpRes)};
    case RES_COMMENT: case RES_ANNOTATION: {
      Restriction::Comment c;
      c.values = to_core(x.resComment.lpProp, x.resComment.cValues, depth + 1);
      if (x.resComment.lpRes) c.child = child(x.resComment.lpRes);
      return c;
    }
    case RES_COUNT: return Restriction::Count{x.resCount.ulCount, child(x.resCount.lpRes)};
    default: bad("restriction type " + std::to_string(r.rt));
  }
}

SortOrderSet to_core(const SSortOrderSet& s) {
  check_count(s.cSorts, s.aSort, "a sort order set");
  if (s.cCategories > s.cSorts || s.cExpanded > s.cCategories)
    bad("a sort order set with more categories or expanded categories than sort columns");
  SortOrderSet out;
  out.categories = uint16_t(s.cCategories);
  out.expanded = uint16_t(s.cExpanded);
  for (ULONG i = 0; i < s.cSorts; ++i) {
    const ULONG o = s.aSort[i].ulOrder;
    if (o != TABLE_SORT_ASCEND && o != TABLE_SORT_DESCEND && o != TABLE_SORT_CATEG_MAX && o != TABLE_SORT_CATEG_MIN)
      bad("sort order " + std::to_string(o));
    out.orders.push_back({PropTag(s.aSort[i].ulPropTag), SortDirection(o)});
  }
  return out;
}

PropertyName to_core(const MAPINAMEID& n) {
  if (!n.lpguid) bad("a property name without its property set");
  const Guid set = guid_in(n.lpguid);
  if (n.ulKind == MNID_ID) return PropertyName::by_id(set, uint32_t(n.Kind.lID));
  if (n.ulKind == MNID_STRING) {
    if (!n.Kind.lpwstrName) bad("a string property name without its name");
    return PropertyName::by_name(set, utf8_of(n.Kind.lpwstrName));
  }
  bad("property name kind " + std::to_string(n.ulKind));
}

std::vector<PropertyBag> to_core(const ADRLIST& list) {
  check_count(list.cEntries, list.aEntries, "an address list");
  std::vector<PropertyBag> out;
  out.reserve(list.cEntries);
  for (ULONG i = 0; i < list.cEntries; ++i) {
    PropertyBag row;
    for (PropValue& v : to_core(list.aEntries[i].rgPropVals, list.aEntries[i].cValues))
      if (v.type() != PropType::Null && v.type() != PropType::ErrorCode) row.set(std::move(v));
    out.push_back(std::move(row));
  }
  return out;
}

// ---- out -------------------------------------------------------------------------------------
namespace {
thread_local Allocators current;

// The parts of one result taken from its own block (alloc_props): one MAPI allocation for an
// SPropValue array and everything its values point to, instead of one per string.
struct Arena {
  void* root = nullptr;
  uint8_t* next = nullptr;
  uint8_t* end = nullptr;
};
thread_local Arena* arena = nullptr;
constexpr size_t align16(size_t n) { return (n + 15) & ~size_t(15); }
}  // namespace

AllocatorScope::AllocatorScope(const Allocators& a) : saved_(current) { current = a; }
AllocatorScope::~AllocatorScope() { current = saved_; }

void* allocate(size_t size, void* parent) {
  if (size > 0xFFFFFFF0u) throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY, "a result of more than 4 GB");
  if (arena && parent && parent == arena->root) {
    const size_t n = align16(size ? size : 1);
    if (n <= size_t(arena->end - arena->next)) {
      void* p = arena->next;
      arena->next += n;
      std::memset(p, 0, n);
      return p;
    }
  }
  void* p = nullptr;
  const ULONG n = ULONG(size ? size : 1);
  LPALLOCATEBUFFER buffer = current.buffer ? current.buffer : MAPIAllocateBuffer;
  LPALLOCATEMORE more = current.more ? current.more : MAPIAllocateMore;
  const SCODE sc = parent ? more(n, parent, &p) : buffer(n, &p);
  if (sc != S_OK || !p) throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY, "no memory for a result of " + std::to_string(size) + " bytes");
  std::memset(p, 0, n);
  return p;
}

void release(void* buffer) {
  if (buffer) (current.free ? current.free : MAPIFreeBuffer)(buffer);
}

namespace {

char* string_out(const std::string& s, void* parent) {
  char* p = allocate_of<char>(s.size() + 1, parent);
  std::memcpy(p, s.data(), s.size());
  return p;
}

WCHAR* wide_out(const std::string& s, void* parent) {
  const std::u16string w = utf8_to_utf16(s);
  WCHAR* p = allocate_of<WCHAR>((w.size() + 1) * sizeof(WCHAR), parent);
  std::memcpy(p, w.data(), w.size() * sizeof(WCHAR));
  return p;
}

SBinary bin_out(const Bytes& b, void* parent) {
  SBinary out{ULONG(b.size()), nullptr};
  out.lpb = allocate_of<BYTE>(b.size(), parent);
  if (!b.empty()) std::memcpy(out.lpb, b.data(), b.size());
  return out;
}

FILETIME ft_out(int64_t v) { return FILETIME{DWORD(uint64_t(v)), DWORD(uint64_t(v) >> 32)}; }

template <class Out, class In, class F>
Out* array_out(const std::vector<In>& in, void* parent, F convert) {
  Out* p = allocate_of<Out>(sizeof(Out) * in.size(), parent);
  for (size_t i = 0; i < in.size(); ++i) p[i] = convert(in[i]);
  return p;
}

void restriction_out(const Restriction& r, SRestriction& out, void* parent, int depth);

}  // namespace

void to_c(const PropValue& v, SPropValue& out, void* parent) {
  out.ulPropTag = v.tag().value;
  out.dwAlignPad = 0;
  auto& u = out.Value;
  std::memset(&u, 0, sizeof u);
  switch (v.type()) {
    case PropType::Null: case PropType::Object: case PropType::Unspecified: u.x = 0; break;
    case PropType::Integer16: u.i = v.get<int16_t>(); break;
    case PropType::Integer32: u.l = v.get<int32_t>(); break;
    case PropType::ErrorCode: u.err = v.get<int32_t>(); break;
    case PropType::Floating32: u.flt = v.get<float>(); break;
    case PropType::Floating64: case PropType::FloatingTime: u.dbl = v.get<double>(); break;
    case PropType::Currency: u.cur.int64 = v.get<int64_t>(); break;
    case PropType::Integer64: u.li.QuadPart = v.get<int64_t>(); break;
    case PropType::Time: u.ft = ft_out(v.get<int64_t>()); break;
    case PropType::Boolean: u.b = v.get<bool>() ? 1 : 0; break;
    case PropType::String8: u.lpszA = string_out(v.get<std::string>(), parent); break;
    case PropType::String: u.lpszW = wide_out(v.get<std::string>(), parent); break;
    case PropType::Guid:
      u.lpguid = allocate_of<GUID>(sizeof(GUID), parent);
      std::memcpy(u.lpguid, v.get<Guid>().bytes.data(), 16);
      break;
    case PropType::Binary: case PropType::ServerId: case PropType::RuleAction: u.bin = bin_out(v.get<Bytes>(), parent); break;
    case PropType::Restriction: {
      auto* r = allocate_of<SRestriction>(sizeof(SRestriction), parent);
      restriction_out(*v.get<std::shared_ptr<const Restriction>>(), *r, parent, 0);
      u.lpszA = reinterpret_cast<LPSTR>(r);
      break;
    }
    case PropType::MultipleInteger16: {
      const auto& a = v.get<std::vector<int16_t>>();
      u.MVi = {ULONG(a.size()), array_out<SHORT>(a, parent, [](int16_t x) { return SHORT(x); })};
      break;
    }
    case PropType::MultipleInteger32: {
      const auto& a = v.get<std::vector<int32_t>>();
      u.MVl = {ULONG(a.size()), array_out<LONG>(a, parent, [](int32_t x) { return LONG(x); })};
      break;
    }
    case PropType::MultipleFloating32: {
      const auto& a = v.get<std::vector<float>>();
      u.MVflt = {ULONG(a.size()), array_out<float>(a, parent, [](float x) { return x; })};
      break;
    }
    case PropType::MultipleFloating64: case PropType::MultipleFloatingTime: {
      const auto& a = v.get<std::vector<double>>();
      u.MVdbl = {ULONG(a.size()), array_out<double>(a, parent, [](double x) { return x; })};
      break;
    }
    case PropType::MultipleCurrency: {
      const auto& a = v.get<std::vector<int64_t>>();
      u.MVcur = {ULONG(a.size()), array_out<CY>(a, parent, [](int64_t x) { CY c; c.int64 = x; return c; })};
      break;
    }
    case PropType::MultipleInteger64: {
      const auto& a = v.get<std::vector<int64_t>>();
      u.MVli = {ULONG(a.size()), array_out<LARGE_INTEGER>(a, parent, [](int64_t x) { LARGE_INTEGER l; l.QuadPart = x; return l; })};
      break;
    }
    case PropType::MultipleTime: {
      const auto& a = v.get<std::vector<int64_t>>();
      u.MVft = {ULONG(a.size()), array_out<FILETIME>(a, parent, ft_out)};
      break;
    }
    case PropType::MultipleString8: {
      const auto& a = v.get<std::vector<std::string>>();
      u.MVszA = {ULONG(a.size()), array_out<LPSTR>(a, parent, [&](const std::string& s) { return string_out(s, parent); })};
      break;
    }
    case PropType::MultipleString: {
      const auto& a = v.get<std::vector<std::string>>();
      u.MVszW = {ULONG(a.size()), array_out<LPWSTR>(a, parent, [&](const std::string& s) { return wide_out(s, parent); })};
      break;
    }
    case PropType::MultipleGuid: {
      const auto& a = v.get<std::vector<Guid>>();
      u.MVguid = {ULONG(a.size()), array_out<GUID>(a, parent, [](const Guid& g) { GUID x; std::memcpy(&x, g.bytes.data(), 16); return x; })};
      break;
    }
    case PropType::MultipleBinary: {
      const auto& a = v.get<std::vector<Bytes>>();
      u.MVbin = {ULONG(a.size()), array_out<SBinary>(a, parent, [&](const Bytes& b) { return bin_out(b, parent); })};
      break;
    }
  }
}

namespace {

// At least the bytes to_c links to `v` (each part 16-byte aligned, as allocate() takes them from
// an arena); SIZE_MAX for values whose parts are not counted here (restrictions).
size_t parts_bound(const PropValue& v) {
  auto str8 = [](const std::string& s) { return align16(s.size() + 1); };
  auto str16 = [](const std::string& s) { return align16((s.size() + 1) * 2); };  // UTF-16 units <= UTF-8 bytes
  auto bin = [](const Bytes& b) { return align16(b.size() ? b.size() : 1); };
  size_t n = 0;
  switch (v.type()) {
    case PropType::String8: return str8(v.get<std::string>());
    case PropType::String: return str16(v.get<std::string>());
    case PropType::Guid: return align16(16);
    case PropType::Binary: case PropType::ServerId: case PropType::RuleAction: return bin(v.get<Bytes>());
    case PropType::Restriction: return SIZE_MAX;
    case PropType::MultipleInteger16: return align16(std::max<size_t>(1, v.get<std::vector<int16_t>>().size() * sizeof(SHORT)));
    case PropType::MultipleInteger32: return align16(std::max<size_t>(1, v.get<std::vector<int32_t>>().size() * sizeof(LONG)));
    case PropType::MultipleFloating32: return align16(std::max<size_t>(1, v.get<std::vector<float>>().size() * sizeof(float)));
    case PropType::MultipleFloating64: case PropType::MultipleFloatingTime:
      return align16(std::max<size_t>(1, v.get<std::vector<double>>().size() * sizeof(double)));
    case PropType::MultipleCurrency: case PropType::MultipleInteger64: case PropType::MultipleTime:
      return align16(std::max<size_t>(1, v.get<std::vector<int64_t>>().size() * 8));
    case PropType::MultipleGuid: return align16(std::max<size_t>(1, v.get<std::vector<Guid>>().size() * sizeof(GUID)));
    case PropType::MultipleString8:
      n = align16(std::max<size_t>(1, v.get<std::vector<std::string>>().size() * sizeof(LPSTR)));
      for (const auto& s : v.get<std::vector<std::string>>()) n += str8(s);
      return n;
    case PropType::MultipleString:
      n = align16(std::max<size_t>(1, v.get<std::vector<std::string>>().size() * sizeof(LPWSTR)));
      for (const auto& s : v.get<std::vector<std::string>>()) n += str16(s);
      return n;
    case PropType::MultipleBinary:
      n = align16(std::max<size_t>(1, v.get<std::vector<Bytes>>().size() * sizeof(SBinary)));
      for (const auto& b : v.get<std::vector<Bytes>>()) n += bin(b);
      return n;
    default: return 0;
  }
}

}  // namespace

LPSPropValue alloc_props(const std::vector<PropValue>& values) {
  // One block for the array and its values' parts when their size is known (anything left over
  // is linked to it by MAPIAllocateMore as before).
  const size_t head = align16(sizeof(SPropValue) * values.size());
  size_t total = head;
  for (const PropValue& v : values) {
    const size_t b = parts_bound(v);
    total = b == SIZE_MAX || total + b > 0x7FFFFFFF ? SIZE_MAX : total + b;
    if (total == SIZE_MAX) break;
  }
  const bool one_block = total != SIZE_MAX && total > head;
  auto* p = allocate_of<SPropValue>(one_block ? total : sizeof(SPropValue) * values.size());
  Arena a{p, reinterpret_cast<uint8_t*>(p) + head, reinterpret_cast<uint8_t*>(p) + total};
  Arena* saved = arena;
  if (one_block) arena = &a;
  try {
    for (size_t i = 0; i < values.size(); ++i) to_c(values[i], p[i], p);
  } catch (...) {
    arena = saved;
    release(p);
    throw;
  }
  arena = saved;
  return p;
}

LPSPropTagArray alloc_tags(const std::vector<PropTag>& tags) {
  auto* p = allocate_of<SPropTagArray>(CbNewSPropTagArray(tags.size()));
  p->cValues = ULONG(tags.size());
  for (size_t i = 0; i < tags.size(); ++i) p->aulPropTag[i] = tags[i].value;
  return p;
}

LPSRowSet alloc_rows(const std::vector<store::Row>& rows) {
  auto* set = allocate_of<SRowSet>(CbNewSRowSet(rows.size()));
  try {
    for (size_t i = 0; i < rows.size(); ++i) {
      set->aRow[i].lpProps = alloc_props(rows[i]);
      set->aRow[i].cValues = ULONG(rows[i].size());
      set->cRows = ULONG(i + 1);
    }
  } catch (...) {
    for (ULONG i = 0; i < set->cRows; ++i) release(set->aRow[i].lpProps);
    release(set);
    throw;
  }
  set->cRows = ULONG(rows.size());
  return set;
}

LPSPropProblemArray alloc_problems(const store::PropProblems& problems) {
  if (problems.empty()) return nullptr;
  auto* p = allocate_of<SPropProblemArray>(CbNewSPropProblemArray(problems.size()));
  p->cProblem = ULONG(problems.size());
  for (size_t i = 0; i < problems.size(); ++i)
    p->aProblem[i] = {problems[i].index, problems[i].tag.value, SCODE(problems[i].error)};
  return p;
}

namespace {

void restriction_out(const Restriction& r, SRestriction& out, void* parent, int depth) {
  if (depth > kMaxDepth) throw_error(ErrorCode::MAPI_E_TOO_COMPLEX, "a restriction nested too deeply to return");
  auto value = [&](const PropValue& v) {
    auto* p = allocate_of<SPropValue>(sizeof(SPropValue), parent);
    to_c(v, *p, parent);
    return p;
  };
  auto list = [&](const std::vector<Restriction>& rs) {
    auto* p = allocate_of<SRestriction>(sizeof(SRestriction) * rs.size(), parent);
    for (size_t i = 0; i < rs.size(); ++i) restriction_out(rs[i], p[i], parent, depth + 1);
    return p;
  };
  auto one = [&](const Restriction& c) {
    auto* p = allocate_of<SRestriction>(sizeof(SRestriction), parent);
    restriction_out(c, *p, parent, depth + 1);
    return p;
  };
  out.rt = ULONG(r.type());
  auto& x = out.res;
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, Restriction::And>) x.resAnd = {ULONG(n.children.size()), list(n.children)};
        else if constexpr (std::is_same_v<T, Restriction::Or>) x.resOr = {ULONG(n.children.size()), list(n.children)};
        else if constexpr (std::is_same_v<T, Restriction::Not>) x.resNot = {0, one(*n.child)};
        else if constexpr (std::is_same_v<T, Restriction::Content>) x.resContent = {n.fuzzy_level, n.tag.value, value(n.value)};
        else if constexpr (std::is_same_v<T, Restriction::Property>) x.resProperty = {ULONG(n.op), n.tag.value, value(n.value)};
        else if constexpr (std::is_same_v<T, Restriction::CompareProps>) x.resCompareProps = {ULONG(n.op), n.tag1.value, n.tag2.value};
        else if constexpr (std::is_same_v<T, Restriction::Bitmask>) x.resBitMask = {ULONG(n.op), n.tag.value, n.mask};
        else if constexpr (std::is_same_v<T, Restriction::Size>) x.resSize = {ULONG(n.op), n.tag.value, n.size};
        else if constexpr (std::is_same_v<T, Restriction::Exist>) x.resExist = {0, n.tag.value, 0};
        else if constexpr (std::is_same_v<T, Restriction::Sub>) x.resSub = {n.subobject.value, one(*n.child)};
        else if constexpr (std::is_same_v<T, Restriction::Comment>) {
          auto* vs = allocate_of<SPropValue>(sizeof(SPropValue) * n.values.size(), parent);
          for (size_t i = 0; i < n.values.size(); ++i) to_c(n.values[i], vs[i], parent);
          x.resComment = {ULONG(n.values.size()), n.child ? one(*n.child) : nullptr, vs};
        } else if constexpr (std::is_same_v<T, Restriction::Count>) x.resCount = {n.count, one(*n.child)};
      },
      r.node);
}

}  // namespace

LPSRestriction alloc_restriction(const Restriction& r) {
  auto* p = allocate_of<SRestriction>(sizeof(SRestriction));
  try {
    restriction_out(r, *p, p, 0);
  } catch (...) {
    release(p);
    throw;
  }
  return p;
}

LPENTRYLIST alloc_entry_list(const std::vector<Bytes>& ids) {
  auto* list = allocate_of<ENTRYLIST>(sizeof(ENTRYLIST));
  try {
    list->lpbin = array_out<SBinary>(ids, list, [&](const Bytes& b) { return bin_out(b, list); });
    list->cValues = ULONG(ids.size());
  } catch (...) {
    release(list);
    throw;
  }
  return list;
}

LPENTRYID alloc_entry_id(const Bytes& id, void* parent) {
  auto* p = allocate_of<BYTE>(id.size(), parent);
  if (!id.empty()) std::memcpy(p, id.data(), id.size());
  return reinterpret_cast<LPENTRYID>(p);
}

void* alloc_text(const std::string& s, ULONG flags, void* parent) {
  return flags & MAPI_UNICODE ? static_cast<void*>(wide_out(s, parent)) : static_cast<void*>(string_out(s, parent));
}

PropValue as_asked(PropValue v, ULONG flags) {
  if (flags & MAPI_UNICODE) return v;
  if (v.type() == PropType::String) return PropValue(PropTag(v.tag().id(), PropType::String8), v.storage());
  if (v.type() == PropType::MultipleString) return PropValue(PropTag(v.tag().id(), PropType::MultipleString8), v.storage());
  return v;
}

}  // namespace openmapi::capi
