// CreateIProp and IPropData (capi/include/mapiutil.h): properties held in memory, with the
// object's and each property's access, for providers and programs that need an IMAPIProp of
// their own (a profile section, a one-off recipient, a form's data).
#include <algorithm>
#include <cstring>
#include <map>

#include "capi/com_object.h"
#include "capi/objects.h"
#include "mapiguid.h"
#include "mapiutil.h"

namespace openmapi::capi {
namespace {

constexpr HRESULT hr(ErrorCode c) { return HRESULT(c); }
// {4F4D4150-0002-4F70-656E-4D4150490002}: a PropDataObject asked for itself (to free what it
// allocated with its own allocators).
const IID kPropDataSelf = {0x4F4D4150, 0x0002, 0x4F70, {0x65, 0x6E, 0x4D, 0x41, 0x50, 0x49, 0x00, 0x02}};

bool settable(PropType t) { return t != PropType::ErrorCode && t != PropType::Object && t != PropType::Null && t != PropType::Unspecified; }
bool same_type(PropType want, PropType have) {
  auto str = [](PropType t) { return t == PropType::String || t == PropType::String8; };
  auto mvstr = [](PropType t) { return t == PropType::MultipleString || t == PropType::MultipleString8; };
  return want == PropType::Unspecified || want == have || (str(want) && str(have)) || (mvstr(want) && mvstr(have));
}

class PropDataObject final : public ComObject<PropDataObject, IPropData, IID_IMAPIPropData, IID_IMAPIProp> {
 public:
  explicit PropDataObject(const Allocators& a) : alloc_(a) {}
  void* query_own(REFIID iid) {
    if (iid == kPropDataSelf) return this;
    if (iid == IID_IMailUser && mail_user_) return static_cast<IPropData*>(this);
    return nullptr;
  }
  // An address book entry: `values`, read-only, answering IID_IMailUser (whose table is the
  // IMAPIProp part of this one's).
  void make_mail_user(const std::vector<PropValue>& values) {
    for (const PropValue& v : values) {
      bag_.set(v);
      access_[v.tag().id()] = IPROP_READONLY | IPROP_CLEAN;
    }
    readonly_ = true;
    mail_user_ = true;
  }

  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG flags, LPMAPIERROR* out) override {
    AllocatorScope scope(alloc_);
    return err_.get(h, flags, out);
  }
  HRESULT STDMETHODCALLTYPE SaveChanges(ULONG flags) override {
    return run([&] {
      if (flags & ~(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS))
        throw_error(ErrorCode::MAPI_E_UNKNOWN_FLAGS, "SaveChanges: unknown flags");
      return S_OK;  // nothing is pending: every change is made at once
    });
  }
  HRESULT STDMETHODCALLTYPE GetProps(LPSPropTagArray tags, ULONG flags, ULONG* count, LPSPropValue* out) override {
    return run([&] {
      if (!count || !out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      *count = 0;
      *out = nullptr;
      std::vector<PropValue> values;
      bool missing = false;
      if (!tags) {
        for (const PropValue& v : bag_.values()) values.push_back(as_asked(v, flags));
      } else {
        const std::vector<PropTag> asked = to_core(tags);
        if (asked.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "an empty property tag array");
        for (PropTag t : asked) {
          const PropValue* v = find(t);
          if (!v) {
            values.push_back(PropValue::error(t.id(), ErrorCode::MAPI_E_NOT_FOUND));
            missing = true;
          } else if (t.type() == PropType::Unspecified) {
            values.push_back(as_asked(*v, flags));
          } else {
            values.push_back(PropValue(t, v->storage()));
          }
        }
      }
      *out = alloc_props(values);
      *count = ULONG(values.size());
      return missing ? hr(ErrorCode::MAPI_W_ERRORS_RETURNED) : S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetPropList(ULONG flags, LPSPropTagArray* out) override {
    return run([&] {
      if (!out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      std::vector<PropTag> list;
      for (const PropValue& v : bag_.values()) list.push_back(as_asked(PropValue(v.tag(), v.storage()), flags).tag());
      for (PropTag t : objects_) list.push_back(t);
      *out = alloc_tags(list);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenProperty(ULONG, LPCIID, ULONG, ULONG, LPUNKNOWN* out) override {
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED), "a property data object opens no property as an object");
  }
  HRESULT STDMETHODCALLTYPE SetProps(ULONG count, LPSPropValue values, LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return run([&] {
      writable();
      std::vector<PropValue> in = to_core(values, count);
      store::PropProblems p;
      for (size_t i = 0; i < in.size(); ++i) {
        const PropTag t = in[i].tag();
        if (!settable(t.type()) || t.id() == 0 || t.id() == 0xFFFF) {
          p.push_back({uint32_t(i), t, ErrorCode::MAPI_E_INVALID_TYPE});
        } else if (access(t.id()) & IPROP_READONLY) {
          p.push_back({uint32_t(i), t, ErrorCode::MAPI_E_NO_ACCESS});
        } else {
          bag_.set(std::move(in[i]));
          access_[t.id()] = IPROP_READWRITE | IPROP_DIRTY;
        }
      }
      if (problems) *problems = alloc_problems(p);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE DeleteProps(LPSPropTagArray tags, LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return run([&] {
      if (!tags) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the tag array is NULL");
      writable();
      const std::vector<PropTag> ts = to_core(tags);
      store::PropProblems p;
      for (size_t i = 0; i < ts.size(); ++i) {
        if (access(ts[i].id()) & IPROP_READONLY) {
          p.push_back({uint32_t(i), ts[i], ErrorCode::MAPI_E_NO_ACCESS});
        } else if (bag_.erase(PropTag(ts[i].id(), PropType::Unspecified))) {
          access_.erase(ts[i].id());
        } else if (auto it = std::find_if(objects_.begin(), objects_.end(), [&](PropTag o) { return o.id() == ts[i].id(); });
                   it != objects_.end()) {
          objects_.erase(it);
        } else {
          p.push_back({uint32_t(i), ts[i], ErrorCode::MAPI_E_NOT_FOUND});
        }
      }
      if (problems) *problems = alloc_problems(p);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CopyTo(ULONG ciid, LPCIID iids, LPSPropTagArray excluded, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID dest,
                                   ULONG flags, LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return run([&] {
      if (ciid && !iids) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "excluded interfaces without their list");
      const std::vector<PropTag> ex = to_core(excluded);
      std::vector<PropTag> tags;
      for (const PropValue& v : bag_.values())
        if (std::none_of(ex.begin(), ex.end(), [&](PropTag t) { return t.id() == v.tag().id(); })) tags.push_back(v.tag());
      return copy(tags, dest, flags, problems);
    });
  }
  HRESULT STDMETHODCALLTYPE CopyProps(LPSPropTagArray included, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID dest, ULONG flags,
                                      LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return run([&] {
      if (!included) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the tag array is NULL");
      std::vector<PropTag> tags;
      for (PropTag t : to_core(included))
        if (const PropValue* v = find(t)) tags.push_back(v->tag());
      return copy(tags, dest, flags, problems);
    });
  }
  HRESULT STDMETHODCALLTYPE GetNamesFromIDs(LPSPropTagArray* tags, LPGUID set, ULONG flags, ULONG* count, LPMAPINAMEID** out) override {
    return run([&] {
      if (!tags || !count || !out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      *count = 0;
      *out = nullptr;
      std::vector<PropTag> asked = to_core(*tags);
      const bool all = !*tags;
      if (all)
        for (size_t i = 0; i < names_.size(); ++i)
          if (!set || std::memcmp(set, names_[i].set.bytes.data(), 16) == 0) asked.emplace_back(uint16_t(0x8000 + i), PropType::Unspecified);
      bool missing = false;
      auto* array = allocate_of<LPMAPINAMEID>(sizeof(LPMAPINAMEID) * asked.size());
      for (size_t i = 0; i < asked.size(); ++i) {
        const uint16_t id = asked[i].id();
        if (id < 0x8000 || size_t(id - 0x8000) >= names_.size()) {
          missing = true;
          continue;
        }
        const PropertyName& n = names_[id - 0x8000];
        if (((flags & MAPI_NO_STRINGS) && n.kind == NameKind::String) || ((flags & MAPI_NO_IDS) && n.kind == NameKind::Id)) {
          missing = true;
          continue;
        }
        auto* m = allocate_of<MAPINAMEID>(sizeof(MAPINAMEID), array);
        m->lpguid = allocate_of<GUID>(sizeof(GUID), array);
        std::memcpy(m->lpguid, n.set.bytes.data(), 16);
        m->ulKind = n.kind == NameKind::Id ? MNID_ID : MNID_STRING;
        if (n.kind == NameKind::Id) m->Kind.lID = LONG(n.lid);
        else m->Kind.lpwstrName = static_cast<LPWSTR>(alloc_text(n.name, MAPI_UNICODE, array));
        array[i] = m;
      }
      if (all) *tags = alloc_tags(asked);
      *out = array;
      *count = ULONG(asked.size());
      return missing ? hr(ErrorCode::MAPI_W_ERRORS_RETURNED) : S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetIDsFromNames(ULONG count, LPMAPINAMEID* names, ULONG flags, LPSPropTagArray* out) override {
    return run([&] {
      if (!out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      *out = nullptr;
      std::vector<PropTag> ids;
      if (count == 0 || !names) {  // every name mapped in the object
        for (size_t i = 0; i < names_.size(); ++i) ids.emplace_back(uint16_t(0x8000 + i), PropType::Unspecified);
        *out = alloc_tags(ids);
        return S_OK;
      }
      if (count > kMaxCount) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "too many names");
      bool missing = false;
      for (ULONG i = 0; i < count; ++i) {
        if (!names[i]) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a NULL property name");
        const PropertyName n = to_core(*names[i]).canonical();
        auto it = std::find_if(names_.begin(), names_.end(), [&](const PropertyName& m) {
          return m.set == n.set && m.kind == n.kind && m.lid == n.lid && m.name == n.name;
        });
        if (it == names_.end() && (flags & MAPI_CREATE) && names_.size() < 0x7FFE) {
          names_.push_back(n);
          it = names_.end() - 1;
        }
        if (it == names_.end()) {
          ids.push_back(PropTag(0, PropType::ErrorCode));
          missing = true;
        } else {
          ids.emplace_back(uint16_t(0x8000 + (it - names_.begin())), PropType::Unspecified);
        }
      }
      *out = alloc_tags(ids);
      return missing ? hr(ErrorCode::MAPI_W_ERRORS_RETURNED) : S_OK;
    });
  }

  HRESULT STDMETHODCALLTYPE HrSetObjAccess(ULONG a) override {
    return run([&] {
      if (a != IPROP_READONLY && a != IPROP_READWRITE) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the access is IPROP_READONLY or IPROP_READWRITE");
      readonly_ = a == IPROP_READONLY;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE HrSetPropAccess(LPSPropTagArray tags, ULONG* rights) override {
    return run([&] {
      if (!tags || !rights) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      const std::vector<PropTag> ts = to_core(tags);
      for (size_t i = 0; i < ts.size(); ++i) {
        const ULONG r = rights[i];
        const bool rw = bool(r & IPROP_READONLY) != bool(r & IPROP_READWRITE), cd = bool(r & IPROP_CLEAN) != bool(r & IPROP_DIRTY);
        if (!rw || !cd || (r & ~(IPROP_READONLY | IPROP_READWRITE | IPROP_CLEAN | IPROP_DIRTY)))
          throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "each access is one of IPROP_READONLY/READWRITE and one of IPROP_CLEAN/DIRTY");
      }
      for (size_t i = 0; i < ts.size(); ++i) access_[ts[i].id()] = rights[i];
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE HrGetPropAccess(LPSPropTagArray* tags, ULONG** rights) override {
    return run([&] {
      if (!tags || !rights) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      std::vector<PropTag> list;
      for (const PropValue& v : bag_.values()) list.push_back(v.tag());
      for (PropTag t : objects_) list.push_back(t);
      LPSPropTagArray t = alloc_tags(list);
      ULONG* r = nullptr;
      try {
        r = allocate_of<ULONG>(sizeof(ULONG) * list.size());
      } catch (...) {
        release(t);
        throw;
      }
      for (size_t i = 0; i < list.size(); ++i) r[i] = access(list[i].id());
      *tags = t;
      *rights = r;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE HrAddObjProps(LPSPropTagArray tags, LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return run([&] {
      if (!tags) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the tag array is NULL");
      writable();
      store::PropProblems p;
      const std::vector<PropTag> ts = to_core(tags);
      for (size_t i = 0; i < ts.size(); ++i) {
        if (ts[i].type() != PropType::Object) {
          p.push_back({uint32_t(i), ts[i], ErrorCode::MAPI_E_INVALID_TYPE});
          continue;
        }
        if (std::none_of(objects_.begin(), objects_.end(), [&](PropTag o) { return o.id() == ts[i].id(); })) objects_.push_back(ts[i]);
        access_[ts[i].id()] = IPROP_READWRITE | IPROP_DIRTY;
      }
      if (problems) *problems = alloc_problems(p);
      return S_OK;
    });
  }

 private:
  template <class F>
  HRESULT run(F&& f) {
    AllocatorScope scope(alloc_);
    return guarded(err_, f);
  }
  const PropValue* find(PropTag t) const {
    const PropValue* v = bag_.find(PropTag(t.id(), PropType::Unspecified));
    return v && same_type(t.type(), v->type()) ? v : nullptr;
  }
  ULONG access(uint16_t id) const {
    auto it = access_.find(id);
    return it == access_.end() ? IPROP_READWRITE | IPROP_CLEAN : it->second;
  }
  void writable() const {
    if (readonly_) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the object is read-only (HrSetObjAccess)");
  }
  // Copies `tags` (values of this object) to `dest` through its own IMAPIProp, as SetProps.
  HRESULT copy(const std::vector<PropTag>& tags, LPVOID dest, ULONG flags, LPSPropProblemArray* problems) {
    if (!dest) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the destination is NULL");
    IMAPIProp* to = nullptr;
    if (static_cast<IUnknown*>(dest)->QueryInterface(IID_IMAPIProp, reinterpret_cast<void**>(&to)) != S_OK || !to)
      throw_error(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the destination has no IMAPIProp");
    struct Releaser {
      IMAPIProp* p;
      ~Releaser() { p->Release(); }
    } keep{to};
    std::vector<PropValue> values;
    for (PropTag t : tags) values.push_back(*find(t));
    if ((flags & MAPI_NOREPLACE) && !values.empty()) {
      LPSPropTagArray ask = alloc_tags(tags);
      ULONG n = 0;
      LPSPropValue have = nullptr;
      const HRESULT h = to->GetProps(ask, 0, &n, &have);
      release(ask);
      if (SUCCEEDED(h) && have) {
        std::vector<PropValue> kept;
        for (size_t i = 0; i < values.size() && i < n; ++i)
          if (PROP_TYPE(have[i].ulPropTag) == PT_ERROR) kept.push_back(values[i]);
        values = std::move(kept);
        // The destination's buffer, freed as it was allocated: with its own allocators when it
        // is a property data object (CreateIProp's caller's), else with MAPIFreeBuffer.
        void* self = nullptr;
        LPFREEBUFFER free_have = MAPIFreeBuffer;
        if (to->QueryInterface(kPropDataSelf, &self) == S_OK && self) {
          free_have = static_cast<PropDataObject*>(self)->alloc_.free;
          to->Release();
        }
        free_have(have);
      }
    }
    if (values.empty()) return S_OK;
    LPSPropValue c = alloc_props(values);
    const HRESULT h = to->SetProps(ULONG(values.size()), c, problems);
    release(c);
    if (FAILED(h)) return err_.set(h, "the destination refused the properties");
    if (flags & MAPI_MOVE) {
      if (readonly_) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the object is read-only: nothing can be moved out of it");
      for (const PropValue& v : values) bag_.erase(PropTag(v.tag().id(), PropType::Unspecified));
    }
    return S_OK;
  }

  Allocators alloc_;
  LastError err_;
  PropertyBag bag_;
  std::vector<PropTag> objects_;      // HrAddObjProps
  std::map<uint16_t, ULONG> access_;  // IPROP_* by property id (absent: read/write, clean)
  std::vector<PropertyName> names_;   // id 0x8000 + index
  bool readonly_ = false;
  bool mail_user_ = false;
};

}  // namespace

IMailUser* make_mail_user(const std::vector<PropValue>& values) {
  auto* o = new PropDataObject({MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer});
  o->make_mail_user(values);
  return reinterpret_cast<IMailUser*>(static_cast<IPropData*>(o));
}

IPropData* make_prop_data(const std::vector<PropValue>& values, bool read_only) {
  auto* o = new PropDataObject({MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer});
  if (!values.empty()) {
    LPSPropValue c = alloc_props(values);
    o->SetProps(ULONG(values.size()), c, nullptr);
    MAPIFreeBuffer(c);
  }
  if (read_only) o->HrSetObjAccess(IPROP_READONLY);
  return o;
}

}  // namespace openmapi::capi

extern "C" SCODE STDAPICALLTYPE CreateIProp(LPCIID iid, ALLOCATEBUFFER* buffer, ALLOCATEMORE* more, FREEBUFFER* free_buffer, LPVOID,
                                            LPPROPDATA* out) {
  using openmapi::ErrorCode;
  if (!out) return SCODE(ErrorCode::MAPI_E_INVALID_PARAMETER);
  *out = nullptr;
  if (!buffer || !more || !free_buffer) return SCODE(ErrorCode::MAPI_E_INVALID_PARAMETER);
  if (iid && *iid != IID_IMAPIPropData && *iid != IID_IMAPIProp && *iid != IID_IUnknown) return SCODE(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED);
  try {
    *out = new openmapi::capi::PropDataObject({buffer, more, free_buffer});
    return S_OK;
  } catch (const std::bad_alloc&) {
    return SCODE(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
  }
}
