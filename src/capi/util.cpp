// The mapiutil.h functions of OpenMAPI's C ABI (capi/include/mapiutil.h), as the MAPI reference
// describes them.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <type_traits>
#include <vector>

#include "mapiutil.h"

namespace {

size_t wide_length(const WCHAR* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t(7); }

// The bytes of one fixed-size element of a (multi-valued) type, 0 for types with data elsewhere.
size_t fixed_size(ULONG type) {
  switch (type & ~MV_FLAG) {
    case PT_I2: return sizeof(SHORT);
    case PT_LONG: return sizeof(LONG);
    case PT_R4: return sizeof(float);
    case PT_DOUBLE:
    case PT_APPTIME: return sizeof(double);
    case PT_CURRENCY: return sizeof(CURRENCY);
    case PT_SYSTIME: return sizeof(FILETIME);
    case PT_I8: return sizeof(LARGE_INTEGER);
    case PT_BOOLEAN: return sizeof(USHORT);
    case PT_ERROR: return sizeof(SCODE);
    case PT_CLSID: return sizeof(GUID);
    default: return 0;
  }
}

bool known_type(ULONG type) {
  switch (type) {
    case PT_NULL: case PT_OBJECT: case PT_UNSPECIFIED:
    case PT_I2: case PT_LONG: case PT_R4: case PT_DOUBLE: case PT_APPTIME: case PT_CURRENCY: case PT_SYSTIME: case PT_I8:
    case PT_BOOLEAN: case PT_ERROR: case PT_CLSID: case PT_STRING8: case PT_UNICODE: case PT_BINARY:
    case PT_MV_I2: case PT_MV_LONG: case PT_MV_R4: case PT_MV_DOUBLE: case PT_MV_APPTIME: case PT_MV_CURRENCY:
    case PT_MV_SYSTIME: case PT_MV_I8: case PT_MV_CLSID: case PT_MV_STRING8: case PT_MV_UNICODE: case PT_MV_BINARY:
      return true;
    default:
      return false;
  }
}

// Copies the data of `src` (its pointers) into memory from `alloc(bytes)` (nullptr: out of
// memory), pointing `dst` at the copies. `dst` already holds a shallow copy of `src`.
template <class Alloc>
SCODE copy_data(SPropValue& dst, const SPropValue& src, Alloc&& alloc) {
  const ULONG type = PROP_TYPE(src.ulPropTag);
  auto dup = [&](const void* from, size_t n) -> void* {
    void* p = alloc(n);
    if (p && n) std::memcpy(p, from, n);
    return p;
  };
  switch (type) {
    case PT_STRING8:
      if (!src.Value.lpszA) return MAPI_E_INVALID_PARAMETER;
      if (!(dst.Value.lpszA = static_cast<LPSTR>(dup(src.Value.lpszA, std::strlen(src.Value.lpszA) + 1)))) return MAPI_E_NOT_ENOUGH_MEMORY;
      return S_OK;
    case PT_UNICODE:
      if (!src.Value.lpszW) return MAPI_E_INVALID_PARAMETER;
      if (!(dst.Value.lpszW = static_cast<LPWSTR>(dup(src.Value.lpszW, (wide_length(src.Value.lpszW) + 1) * sizeof(WCHAR)))))
        return MAPI_E_NOT_ENOUGH_MEMORY;
      return S_OK;
    case PT_BINARY:
      if (src.Value.bin.cb && !src.Value.bin.lpb) return MAPI_E_INVALID_PARAMETER;
      if (!(dst.Value.bin.lpb = static_cast<LPBYTE>(dup(src.Value.bin.lpb, src.Value.bin.cb)))) return MAPI_E_NOT_ENOUGH_MEMORY;
      return S_OK;
    case PT_CLSID:
      if (!src.Value.lpguid) return MAPI_E_INVALID_PARAMETER;
      if (!(dst.Value.lpguid = static_cast<LPGUID>(dup(src.Value.lpguid, sizeof(GUID))))) return MAPI_E_NOT_ENOUGH_MEMORY;
      return S_OK;
    default:
      break;
  }
  if (!(type & MV_FLAG)) return S_OK;  // scalars live in the union
  // Multi-valued: the element array (every MV member has cValues first, then its pointer).
  const ULONG n = src.Value.MVl.cValues;
  if (n && !src.Value.MVl.lpl) return MAPI_E_INVALID_PARAMETER;
  if (type == PT_MV_STRING8 || type == PT_MV_UNICODE || type == PT_MV_BINARY) {
    const size_t elem = type == PT_MV_BINARY ? sizeof(SBinary) : sizeof(void*);
    void* array = dup(src.Value.MVl.lpl, size_t(n) * elem);
    if (!array) return MAPI_E_NOT_ENOUGH_MEMORY;
    for (ULONG i = 0; i < n; ++i) {
      if (type == PT_MV_STRING8) {
        const LPSTR s = src.Value.MVszA.lppszA[i];
        if (!s) return MAPI_E_INVALID_PARAMETER;
        if (!(static_cast<LPSTR*>(array)[i] = static_cast<LPSTR>(dup(s, std::strlen(s) + 1)))) return MAPI_E_NOT_ENOUGH_MEMORY;
      } else if (type == PT_MV_UNICODE) {
        const LPWSTR s = src.Value.MVszW.lppszW[i];
        if (!s) return MAPI_E_INVALID_PARAMETER;
        if (!(static_cast<LPWSTR*>(array)[i] = static_cast<LPWSTR>(dup(s, (wide_length(s) + 1) * sizeof(WCHAR))))) return MAPI_E_NOT_ENOUGH_MEMORY;
      } else {
        const SBinary& b = src.Value.MVbin.lpbin[i];
        if (b.cb && !b.lpb) return MAPI_E_INVALID_PARAMETER;
        if (!(static_cast<SBinary*>(array)[i].lpb = static_cast<LPBYTE>(dup(b.lpb, b.cb)))) return MAPI_E_NOT_ENOUGH_MEMORY;
      }
    }
    dst.Value.MVl.lpl = static_cast<LONG*>(array);
    return S_OK;
  }
  const size_t elem = fixed_size(type);
  if (!elem) return MAPI_E_INVALID_PARAMETER;
  void* array = dup(src.Value.MVl.lpl, size_t(n) * elem);
  if (!array) return MAPI_E_NOT_ENOUGH_MEMORY;
  dst.Value.MVl.lpl = static_cast<LONG*>(array);
  return S_OK;
}

// Bytes of a string or binary value for the comparisons, and whether it is one.
struct Bytes {
  const unsigned char* p = nullptr;
  size_t n = 0;
  size_t unit = 1;  // 2 for UTF-16
};
bool bytes_of(const SPropValue& v, Bytes& out) {
  switch (PROP_TYPE(v.ulPropTag)) {
    case PT_STRING8:
      if (!v.Value.lpszA) return false;
      out = {reinterpret_cast<const unsigned char*>(v.Value.lpszA), std::strlen(v.Value.lpszA), 1};
      return true;
    case PT_UNICODE:
      if (!v.Value.lpszW) return false;
      out = {reinterpret_cast<const unsigned char*>(v.Value.lpszW), wide_length(v.Value.lpszW) * 2, 2};
      return true;
    case PT_BINARY:
      out = {v.Value.bin.lpb, v.Value.bin.cb, 1};
      return v.Value.bin.lpb || v.Value.bin.cb == 0;
    default:
      return false;
  }
}

// Code unit i of a string, case-folded for ASCII letters when asked.
uint32_t unit_at(const Bytes& b, size_t i, bool fold) {
  uint32_t c = b.unit == 2 ? uint32_t(b.p[2 * i]) | uint32_t(b.p[2 * i + 1]) << 8 : b.p[i];
  if (fold && c < 0x80) c = uint32_t(std::tolower(int(c)));
  return c;
}

template <class T>
LONG three_way(T a, T b) {
  return a < b ? -1 : b < a ? 1 : 0;
}

LONG compare_bytes(const Bytes& a, const Bytes& b) {
  const size_t n = std::min(a.n, b.n);
  if (n) {
    const int c = std::memcmp(a.p, b.p, n);
    if (c) return c < 0 ? -1 : 1;
  }
  return three_way(a.n, b.n);
}

}  // namespace

extern "C" {

ULONG STDAPICALLTYPE UlPropSize(LPSPropValue v) {
  if (!v) return 0;
  const ULONG type = PROP_TYPE(v->ulPropTag);
  switch (type) {
    case PT_STRING8: return v->Value.lpszA ? ULONG(std::strlen(v->Value.lpszA) + 1) : 0;
    case PT_UNICODE: return v->Value.lpszW ? ULONG((wide_length(v->Value.lpszW) + 1) * sizeof(WCHAR)) : 0;
    case PT_BINARY: return v->Value.bin.cb;
    case PT_MV_STRING8: {
      size_t total = 0;
      for (ULONG i = 0; i < v->Value.MVszA.cValues && v->Value.MVszA.lppszA; ++i)
        if (v->Value.MVszA.lppszA[i]) total += std::strlen(v->Value.MVszA.lppszA[i]) + 1;
      return ULONG(total);
    }
    case PT_MV_UNICODE: {
      size_t total = 0;
      for (ULONG i = 0; i < v->Value.MVszW.cValues && v->Value.MVszW.lppszW; ++i)
        if (v->Value.MVszW.lppszW[i]) total += (wide_length(v->Value.MVszW.lppszW[i]) + 1) * sizeof(WCHAR);
      return ULONG(total);
    }
    case PT_MV_BINARY: {
      size_t total = 0;
      for (ULONG i = 0; i < v->Value.MVbin.cValues && v->Value.MVbin.lpbin; ++i) total += v->Value.MVbin.lpbin[i].cb;
      return ULONG(total);
    }
    default:
      if (type & MV_FLAG) return ULONG(size_t(v->Value.MVl.cValues) * fixed_size(type));
      return ULONG(fixed_size(type));
  }
}

LPSPropValue STDAPICALLTYPE PpropFindProp(LPSPropValue props, ULONG n, ULONG tag) {
  if (!props) return nullptr;
  for (ULONG i = 0; i < n; ++i) {
    const ULONG t = props[i].ulPropTag;
    if (PROP_TYPE(tag) == PT_UNSPECIFIED ? PROP_ID(t) == PROP_ID(tag) : t == tag) return &props[i];
  }
  return nullptr;
}

LPSPropValue STDAPICALLTYPE LpValFindProp(ULONG tag, ULONG n, LPSPropValue props) {
  if (!props) return nullptr;
  for (ULONG i = 0; i < n; ++i)
    if (PROP_ID(props[i].ulPropTag) == PROP_ID(tag)) return &props[i];
  return nullptr;
}

SCODE STDAPICALLTYPE PropCopyMore(LPSPropValue dst, LPSPropValue src, ALLOCATEMORE* more, LPVOID object) {
  if (!dst || !src || !more) return MAPI_E_INVALID_PARAMETER;
  if (!known_type(PROP_TYPE(src->ulPropTag))) return MAPI_E_INVALID_PARAMETER;
  *dst = *src;
  SCODE failure = S_OK;
  const SCODE sc = copy_data(*dst, *src, [&](size_t n) -> void* {
    void* p = nullptr;
    const SCODE r = more(ULONG(n), object, &p);
    if (r != S_OK) failure = r;
    return r == S_OK ? p : nullptr;
  });
  return sc == MAPI_E_NOT_ENOUGH_MEMORY && failure != S_OK ? failure : sc;
}

SCODE STDAPICALLTYPE ScCountProps(int n, LPSPropValue props, ULONG* lpcb) {
  if (n < 0 || (n && !props)) return MAPI_E_INVALID_PARAMETER;
  size_t total = align8(size_t(n) * sizeof(SPropValue));
  for (int i = 0; i < n; ++i) {
    const SPropValue& v = props[i];
    const ULONG type = PROP_TYPE(v.ulPropTag);
    if (!known_type(type)) return MAPI_E_INVALID_PARAMETER;
    // The same pieces, in the same sizes, as copy_data allocates.
    switch (type) {
      case PT_STRING8:
        if (!v.Value.lpszA) return MAPI_E_INVALID_PARAMETER;
        total += align8(std::strlen(v.Value.lpszA) + 1);
        break;
      case PT_UNICODE:
        if (!v.Value.lpszW) return MAPI_E_INVALID_PARAMETER;
        total += align8((wide_length(v.Value.lpszW) + 1) * sizeof(WCHAR));
        break;
      case PT_BINARY:
        if (v.Value.bin.cb && !v.Value.bin.lpb) return MAPI_E_INVALID_PARAMETER;
        total += align8(v.Value.bin.cb);
        break;
      case PT_CLSID:
        if (!v.Value.lpguid) return MAPI_E_INVALID_PARAMETER;
        total += align8(sizeof(GUID));
        break;
      case PT_MV_STRING8:
      case PT_MV_UNICODE:
      case PT_MV_BINARY: {
        const ULONG k = v.Value.MVl.cValues;
        if (k && !v.Value.MVl.lpl) return MAPI_E_INVALID_PARAMETER;
        total += align8(size_t(k) * (type == PT_MV_BINARY ? sizeof(SBinary) : sizeof(void*)));
        for (ULONG e = 0; e < k; ++e) {
          if (type == PT_MV_STRING8) {
            if (!v.Value.MVszA.lppszA[e]) return MAPI_E_INVALID_PARAMETER;
            total += align8(std::strlen(v.Value.MVszA.lppszA[e]) + 1);
          } else if (type == PT_MV_UNICODE) {
            if (!v.Value.MVszW.lppszW[e]) return MAPI_E_INVALID_PARAMETER;
            total += align8((wide_length(v.Value.MVszW.lppszW[e]) + 1) * sizeof(WCHAR));
          } else {
            if (v.Value.MVbin.lpbin[e].cb && !v.Value.MVbin.lpbin[e].lpb) return MAPI_E_INVALID_PARAMETER;
            total += align8(v.Value.MVbin.lpbin[e].cb);
          }
        }
        break;
      }
      default:
        if (type & MV_FLAG) {
          if (v.Value.MVl.cValues && !v.Value.MVl.lpl) return MAPI_E_INVALID_PARAMETER;
          total += align8(size_t(v.Value.MVl.cValues) * fixed_size(type));
        }
        break;
    }
    if (total > 0xFFFFFFFFu) return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  if (lpcb) *lpcb = ULONG(total);
  return S_OK;
}

SCODE STDAPICALLTYPE ScCopyProps(int n, LPSPropValue props, LPVOID dst, ULONG* lpcb) {
  if (n < 0 || (n && !props) || !dst) return MAPI_E_INVALID_PARAMETER;
  char* base = static_cast<char*>(dst);
  LPSPropValue out = reinterpret_cast<LPSPropValue>(base);
  size_t used = align8(size_t(n) * sizeof(SPropValue));
  for (int i = 0; i < n; ++i) {
    out[i] = props[i];
    const SCODE sc = copy_data(out[i], props[i], [&](size_t bytes) -> void* {
      void* p = base + used;
      used += align8(bytes);
      return p;
    });
    if (sc != S_OK) return sc;
  }
  if (lpcb) *lpcb = ULONG(used);
  return S_OK;
}

SCODE STDAPICALLTYPE ScDupPropset(int n, LPSPropValue props, LPALLOCATEBUFFER allocate, LPSPropValue* out) {
  if (!allocate || !out) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  ULONG cb = 0;
  SCODE sc = ScCountProps(n, props, &cb);
  if (sc != S_OK) return sc;
  void* buffer = nullptr;
  sc = allocate(cb, &buffer);
  if (sc != S_OK) return sc;
  sc = ScCopyProps(n, props, buffer, nullptr);
  if (sc != S_OK) {
    MAPIFreeBuffer(buffer);
    return sc;
  }
  *out = static_cast<LPSPropValue>(buffer);
  return S_OK;
}

SCODE STDAPICALLTYPE ScRelocProps(int n, LPSPropValue props, LPVOID old_base, LPVOID new_base, ULONG* lpcb) {
  if (n < 0 || (n && !props) || !old_base || !new_base) return MAPI_E_INVALID_PARAMETER;
  const ptrdiff_t delta = static_cast<char*>(new_base) - static_cast<char*>(old_base);
  auto move = [&](auto*& p) {
    if (p) p = reinterpret_cast<std::remove_reference_t<decltype(p)>>(reinterpret_cast<char*>(p) + delta);
  };
  size_t used = align8(size_t(n) * sizeof(SPropValue));
  for (int i = 0; i < n; ++i) {
    SPropValue& v = props[i];
    const ULONG type = PROP_TYPE(v.ulPropTag);
    switch (type) {
      case PT_STRING8: move(v.Value.lpszA); used += align8(std::strlen(v.Value.lpszA) + 1); break;
      case PT_UNICODE: move(v.Value.lpszW); used += align8((wide_length(v.Value.lpszW) + 1) * sizeof(WCHAR)); break;
      case PT_BINARY: move(v.Value.bin.lpb); used += align8(v.Value.bin.cb); break;
      case PT_CLSID: move(v.Value.lpguid); used += align8(sizeof(GUID)); break;
      case PT_MV_STRING8:
        move(v.Value.MVszA.lppszA);
        used += align8(v.Value.MVszA.cValues * sizeof(void*));
        for (ULONG k = 0; k < v.Value.MVszA.cValues; ++k) {
          move(v.Value.MVszA.lppszA[k]);
          used += align8(std::strlen(v.Value.MVszA.lppszA[k]) + 1);
        }
        break;
      case PT_MV_UNICODE:
        move(v.Value.MVszW.lppszW);
        used += align8(v.Value.MVszW.cValues * sizeof(void*));
        for (ULONG k = 0; k < v.Value.MVszW.cValues; ++k) {
          move(v.Value.MVszW.lppszW[k]);
          used += align8((wide_length(v.Value.MVszW.lppszW[k]) + 1) * sizeof(WCHAR));
        }
        break;
      case PT_MV_BINARY:
        move(v.Value.MVbin.lpbin);
        used += align8(v.Value.MVbin.cValues * sizeof(SBinary));
        for (ULONG k = 0; k < v.Value.MVbin.cValues; ++k) {
          move(v.Value.MVbin.lpbin[k].lpb);
          used += align8(v.Value.MVbin.lpbin[k].cb);
        }
        break;
      default:
        if (type & MV_FLAG) {
          move(v.Value.MVl.lpl);
          used += align8(v.Value.MVl.cValues * fixed_size(type));
        }
        break;
    }
  }
  if (lpcb) *lpcb = ULONG(used);
  return S_OK;
}

BOOL STDAPICALLTYPE FPropContainsProp(LPSPropValue dst, LPSPropValue src, ULONG fuzzy) {
  if (!dst || !src || PROP_TYPE(dst->ulPropTag) != PROP_TYPE(src->ulPropTag)) return FALSE;
  Bytes hay, needle;
  if (!bytes_of(*dst, hay) || !bytes_of(*src, needle)) return FALSE;
  const bool text = PROP_TYPE(dst->ulPropTag) != PT_BINARY;
  const bool fold = text && (fuzzy & (FL_IGNORECASE | FL_LOOSE));
  const size_t hn = hay.n / hay.unit, nn = needle.n / needle.unit;
  auto match_at = [&](size_t at) {
    for (size_t k = 0; k < nn; ++k)
      if (unit_at(hay, at + k, fold) != unit_at(needle, k, fold)) return false;
    return true;
  };
  switch (fuzzy & 0xFFFF) {
    case FL_FULLSTRING: return hn == nn && match_at(0);
    case FL_PREFIX: return nn <= hn && match_at(0);
    case FL_SUBSTRING:
      if (nn > hn) return FALSE;
      for (size_t at = 0; at + nn <= hn; ++at)
        if (match_at(at)) return TRUE;
      return FALSE;
    default: return FALSE;
  }
}

LONG STDAPICALLTYPE LPropCompareProp(LPSPropValue a, LPSPropValue b) {
  if (!a || !b) return a == b ? 0 : (a ? 1 : -1);
  const ULONG type = PROP_TYPE(a->ulPropTag);
  if (type != PROP_TYPE(b->ulPropTag)) return three_way(type, PROP_TYPE(b->ulPropTag));
  switch (type) {
    case PT_I2: return three_way(a->Value.i, b->Value.i);
    case PT_LONG: return three_way(a->Value.l, b->Value.l);
    case PT_R4: return three_way(a->Value.flt, b->Value.flt);
    case PT_DOUBLE:
    case PT_APPTIME: return three_way(a->Value.dbl, b->Value.dbl);
    case PT_CURRENCY: return three_way(a->Value.cur.int64, b->Value.cur.int64);
    case PT_I8: return three_way(a->Value.li.QuadPart, b->Value.li.QuadPart);
    case PT_SYSTIME: {
      const uint64_t x = uint64_t(a->Value.ft.dwHighDateTime) << 32 | a->Value.ft.dwLowDateTime;
      const uint64_t y = uint64_t(b->Value.ft.dwHighDateTime) << 32 | b->Value.ft.dwLowDateTime;
      return three_way(x, y);
    }
    case PT_BOOLEAN: return three_way(a->Value.b != 0, b->Value.b != 0);  // no intrinsic order: consistent
    case PT_ERROR: return three_way(a->Value.err, b->Value.err);
    case PT_CLSID:
      if (!a->Value.lpguid || !b->Value.lpguid) return three_way(a->Value.lpguid != nullptr, b->Value.lpguid != nullptr);
      return three_way(std::memcmp(a->Value.lpguid, b->Value.lpguid, sizeof(GUID)), 0);
    case PT_STRING8:
    case PT_UNICODE: {
      Bytes x, y;
      if (!bytes_of(*a, x) || !bytes_of(*b, y)) return three_way(x.p != nullptr, y.p != nullptr);
      const size_t n = std::min(x.n, y.n) / x.unit;
      for (size_t i = 0; i < n; ++i)
        if (LONG c = three_way(unit_at(x, i, false), unit_at(y, i, false))) return c;
      return three_way(x.n, y.n);
    }
    case PT_BINARY: {
      Bytes x, y;
      bytes_of(*a, x);
      bytes_of(*b, y);
      // MAPI orders binaries by size first, then bytes (a shorter value is less).
      if (x.n != y.n) return three_way(x.n, y.n);
      return compare_bytes(x, y);
    }
    default:
      return three_way(std::memcmp(&a->Value, &b->Value, sizeof(a->Value)), 0);
  }
}

BOOL STDAPICALLTYPE FPropCompareProp(LPSPropValue a, ULONG relop, LPSPropValue b) {
  if (!a || !b || PROP_TYPE(a->ulPropTag) != PROP_TYPE(b->ulPropTag)) return FALSE;
  const LONG c = LPropCompareProp(a, b);
  switch (relop) {
    case RELOP_LT: return c < 0;
    case RELOP_LE: return c <= 0;
    case RELOP_GT: return c > 0;
    case RELOP_GE: return c >= 0;
    case RELOP_EQ: return c == 0;
    case RELOP_NE: return c != 0;
    default: return FALSE;  // RELOP_RE (regular expressions) is not supported
  }
}

void STDAPICALLTYPE FreeProws(LPSRowSet rows) {
  if (!rows) return;
  for (ULONG i = 0; i < rows->cRows; ++i) MAPIFreeBuffer(rows->aRow[i].lpProps);
  MAPIFreeBuffer(rows);
}

void STDAPICALLTYPE FreePadrlist(LPADRLIST list) {
  if (!list) return;
  for (ULONG i = 0; i < list->cEntries; ++i) MAPIFreeBuffer(list->aEntries[i].rgPropVals);
  MAPIFreeBuffer(list);
}

void STDAPICALLTYPE HexFromBin(LPBYTE pb, int cb, LPSTR sz) {
  if (!sz) return;
  static const char digits[] = "0123456789ABCDEF";
  int k = 0;
  for (int i = 0; pb && i < cb; ++i) {
    sz[k++] = digits[pb[i] >> 4];
    sz[k++] = digits[pb[i] & 15];
  }
  sz[k] = 0;
}

BOOL STDAPICALLTYPE FBinFromHex(LPSTR sz, LPBYTE pb) {
  if (!sz || !pb) return FALSE;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  size_t i = 0;
  for (; sz[i] && sz[i + 1]; i += 2) {
    const int hi = value(sz[i]), lo = value(sz[i + 1]);
    if (hi < 0 || lo < 0) return FALSE;
    pb[i / 2] = BYTE(hi << 4 | lo);
  }
  return sz[i] == 0;
}

UINT STDAPICALLTYPE UFromSz(LPCSTR sz) {
  UINT n = 0;
  for (; sz && *sz >= '0' && *sz <= '9'; ++sz) n = n * 10 + UINT(*sz - '0');
  return n;
}

ULONG STDAPICALLTYPE UlFromSzHex(LPCSTR sz) {
  ULONG n = 0;
  for (; sz && std::isxdigit(static_cast<unsigned char>(*sz)); ++sz)
    n = n * 16 + ULONG(std::isdigit(static_cast<unsigned char>(*sz)) ? *sz - '0' : std::toupper(static_cast<unsigned char>(*sz)) - 'A' + 10);
  return n;
}

LPSTR STDAPICALLTYPE SzFindCh(LPCSTR sz, USHORT ch) {
  if (!sz) return nullptr;
  for (; *sz; ++sz)
    if (static_cast<unsigned char>(*sz) == ch) return const_cast<LPSTR>(sz);
  return nullptr;
}

LPSTR STDAPICALLTYPE SzFindLastCh(LPCSTR sz, USHORT ch) {
  LPSTR last = nullptr;
  for (; sz && *sz; ++sz)
    if (static_cast<unsigned char>(*sz) == ch) last = const_cast<LPSTR>(sz);
  return last;
}

LPSTR STDAPICALLTYPE SzFindSz(LPCSTR sz, LPCSTR key) {
  if (!sz || !key) return nullptr;
  return const_cast<LPSTR>(std::strstr(sz, key));
}

namespace {
uint64_t u64(FILETIME f) { return uint64_t(f.dwHighDateTime) << 32 | f.dwLowDateTime; }
FILETIME ft(uint64_t v) { return FILETIME{DWORD(v), DWORD(v >> 32)}; }
}  // namespace

FILETIME STDAPICALLTYPE FtAddFt(FILETIME a, FILETIME b) { return ft(u64(a) + u64(b)); }
FILETIME STDAPICALLTYPE FtSubFt(FILETIME a, FILETIME b) { return ft(u64(a) - u64(b)); }
FILETIME STDAPICALLTYPE FtMulDw(DWORD m, FILETIME f) { return ft(u64(f) * m); }
FILETIME STDAPICALLTYPE FtMulDwDw(DWORD a, DWORD b) { return ft(uint64_t(a) * b); }
FILETIME STDAPICALLTYPE FtNegFt(FILETIME f) { return ft(uint64_t(0) - u64(f)); }

HRESULT STDAPICALLTYPE HrGetOneProp(LPMAPIPROP prop, ULONG tag, LPSPropValue* out) {
  if (!prop || !out) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  SizedSPropTagArray(1, one) = {1, {tag}};
  ULONG count = 0;
  LPSPropValue values = nullptr;
  const HRESULT hr = prop->GetProps(reinterpret_cast<LPSPropTagArray>(&one), 0, &count, &values);
  if (FAILED(hr)) return hr;
  if (!values || count != 1) {
    MAPIFreeBuffer(values);
    return MAPI_E_CALL_FAILED;
  }
  if (PROP_TYPE(values[0].ulPropTag) == PT_ERROR) {  // with MAPI_W_ERRORS_RETURNED
    const SCODE sc = values[0].Value.err;
    MAPIFreeBuffer(values);
    return sc ? sc : MAPI_E_NOT_FOUND;
  }
  *out = values;
  return S_OK;
}

HRESULT STDAPICALLTYPE HrSetOneProp(LPMAPIPROP prop, LPSPropValue value) {
  if (!prop || !value) return MAPI_E_INVALID_PARAMETER;
  LPSPropProblemArray problems = nullptr;
  HRESULT hr = prop->SetProps(1, value, &problems);
  if (SUCCEEDED(hr) && problems && problems->cProblem > 0) hr = problems->aProblem[0].scode;
  MAPIFreeBuffer(problems);
  return hr;
}

HRESULT STDAPICALLTYPE HrQueryAllRows(LPMAPITABLE table, LPSPropTagArray tags, LPSRestriction restriction, LPSSortOrderSet sort,
                                      LONG max_rows, LPSRowSet* out) {
  if (!table || !out || max_rows < 0) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  HRESULT hr = S_OK;
  if (tags && FAILED(hr = table->SetColumns(tags, TBL_BATCH))) return hr;
  if (restriction && FAILED(hr = table->Restrict(restriction, TBL_BATCH))) return hr;
  if (sort && FAILED(hr = table->SortTable(sort, TBL_BATCH))) return hr;
  if (FAILED(hr = table->SeekRow(BOOKMARK_BEGINNING, 0, nullptr))) return hr;
  // Pieces of rows, joined at the end (each row's properties move into the result as they are).
  std::vector<SRow> rows;
  auto drop = [&] {
    for (SRow& r : rows) MAPIFreeBuffer(r.lpProps);
  };
  for (;;) {
    LPSRowSet piece = nullptr;
    hr = table->QueryRows(512, 0, &piece);
    if (FAILED(hr)) {
      drop();
      return hr;
    }
    const ULONG n = piece ? piece->cRows : 0;
    for (ULONG i = 0; i < n; ++i) rows.push_back(piece->aRow[i]);
    MAPIFreeBuffer(piece);  // the set only: its rows' properties are ours now
    if (n == 0) break;
    if (max_rows > 0 && rows.size() > size_t(max_rows)) {
      drop();
      return MAPI_E_TABLE_TOO_BIG;
    }
  }
  LPSRowSet all = nullptr;
  if (MAPIAllocateBuffer(ULONG(CbNewSRowSet(rows.size())), reinterpret_cast<LPVOID*>(&all)) != S_OK) {
    drop();
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  all->cRows = ULONG(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) all->aRow[i] = rows[i];
  *out = all;
  return S_OK;
}

SCODE STDAPICALLTYPE ScInitMapiUtil(ULONG) { return S_OK; }
void STDAPICALLTYPE DeinitMapiUtil(void) {}

HRESULT STDAPICALLTYPE MAPIOpenLocalFormContainer(LPMAPIFORMCONTAINER* out) {
  if (out) *out = nullptr;
  return MAPI_E_NO_SUPPORT;
}

SCODE STDAPICALLTYPE ScBinFromHexBounded(LPSTR sz, LPBYTE pb, ULONG cb) {
  if (!sz || (!pb && *sz)) return MAPI_E_INVALID_PARAMETER;
  const size_t n = std::strlen(sz);
  if (n % 2 || n / 2 > cb) return MAPI_E_INVALID_PARAMETER;
  for (size_t i = 0; i < n; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(sz[i]))) return MAPI_E_INVALID_PARAMETER;
  return FBinFromHex(sz, pb) ? S_OK : MAPI_E_INVALID_PARAMETER;
}

ULONG STDAPICALLTYPE UlAddRef(LPVOID punk) {
  return punk ? static_cast<LPUNKNOWN>(punk)->AddRef() : 0;
}

ULONG STDAPICALLTYPE UlRelease(LPVOID punk) {
  return punk ? static_cast<LPUNKNOWN>(punk)->Release() : 0;
}


BOOL STDAPICALLTYPE FPropExists(LPMAPIPROP obj, ULONG tag) {
  if (!obj) return FALSE;
  LPSPropTagArray list = nullptr;
  if (FAILED(obj->GetPropList(MAPI_UNICODE, &list)) || !list) return FALSE;
  BOOL found = FALSE;
  for (ULONG i = 0; i < list->cValues && !found; ++i) {
    const ULONG have = list->aulPropTag[i];
    if (PROP_ID(have) != PROP_ID(tag)) continue;
    const ULONG want = PROP_TYPE(tag), type = PROP_TYPE(have);
    const bool str = (want == PT_STRING8 || want == PT_UNICODE) && (type == PT_STRING8 || type == PT_UNICODE);
    const bool mvstr = (want == PT_MV_STRING8 || want == PT_MV_UNICODE) && (type == PT_MV_STRING8 || type == PT_MV_UNICODE);
    found = want == PT_UNSPECIFIED || want == type || str || mvstr;
  }
  MAPIFreeBuffer(list);
  return found;
}

HRESULT STDAPICALLTYPE HrSzFromEntryID(ULONG cb, LPENTRYID entry, LPSTR* out) {
  if (!out || (cb && !entry) || cb > (1u << 20)) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  LPSTR s = nullptr;
  if (MAPIAllocateBuffer(cb * 2 + 1, reinterpret_cast<LPVOID*>(&s)) != S_OK) return MAPI_E_NOT_ENOUGH_MEMORY;
  HexFromBin(reinterpret_cast<LPBYTE>(entry), int(cb), s);
  s[cb * 2] = 0;
  *out = s;
  return S_OK;
}

HRESULT STDAPICALLTYPE HrEntryIDFromSz(LPSTR sz, ULONG* cb, LPENTRYID* out) {
  if (!sz || !cb || !out) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  *cb = 0;
  const size_t n = std::strlen(sz);
  if (n % 2 || n > (2u << 20)) return MAPI_E_INVALID_ENTRYID;
  for (size_t i = 0; i < n; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(sz[i]))) return MAPI_E_INVALID_ENTRYID;
  LPBYTE b = nullptr;
  if (MAPIAllocateBuffer(ULONG(n / 2 ? n / 2 : 1), reinterpret_cast<LPVOID*>(&b)) != S_OK) return MAPI_E_NOT_ENOUGH_MEMORY;
  if (n && !FBinFromHex(sz, b)) {
    MAPIFreeBuffer(b);
    return MAPI_E_INVALID_ENTRYID;
  }
  *out = reinterpret_cast<LPENTRYID>(b);
  *cb = ULONG(n / 2);
  return S_OK;
}

HRESULT STDAPICALLTYPE HrAddColumnsEx(LPMAPITABLE table, LPSPropTagArray add, LPALLOCATEBUFFER allocate, LPFREEBUFFER free_buffer,
                                      void(STDAPICALLTYPE* filter)(LPSPropTagArray)) {
  if (!table || !add || add->cValues > (1u << 16)) return MAPI_E_INVALID_PARAMETER;
  if (!allocate) allocate = MAPIAllocateBuffer;
  if (!free_buffer) free_buffer = MAPIFreeBuffer;
  LPSPropTagArray have = nullptr;
  HRESULT hr = table->QueryColumns(TBL_ALL_COLUMNS, &have);
  if (FAILED(hr)) return hr;
  if (filter) filter(have);
  // The new columns first, then the table's others, each once (by id and type).
  const ULONG total = add->cValues + have->cValues;
  LPSPropTagArray cols = nullptr;
  if (allocate(ULONG(CbNewSPropTagArray(total)), reinterpret_cast<LPVOID*>(&cols)) != S_OK) {
    MAPIFreeBuffer(have);
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  cols->cValues = 0;
  auto put = [&](ULONG tag) {
    for (ULONG i = 0; i < cols->cValues; ++i)
      if (cols->aulPropTag[i] == tag) return;
    cols->aulPropTag[cols->cValues++] = tag;
  };
  for (ULONG i = 0; i < add->cValues; ++i) put(add->aulPropTag[i]);
  for (ULONG i = 0; i < have->cValues; ++i) put(have->aulPropTag[i]);
  MAPIFreeBuffer(have);
  hr = table->SetColumns(cols, 0);
  free_buffer(cols);
  return hr;
}

HRESULT STDAPICALLTYPE HrAddColumns(LPMAPITABLE table, LPSPropTagArray add, LPALLOCATEBUFFER allocate, LPFREEBUFFER free_buffer) {
  return HrAddColumnsEx(table, add, allocate, free_buffer, nullptr);
}

HRESULT STDAPICALLTYPE HrDispatchNotifications(ULONG) { return S_OK; }

}  // extern "C"
