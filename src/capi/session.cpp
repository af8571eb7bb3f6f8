// MAPIInitialize, MAPIUninitialize, MAPILogonEx and IMAPISession over mapi::Session
// (capi/include/mapix.h).
#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "capi/com_object.h"
#include "capi/objects.h"
#include "core/entryid.h"
#include "mapi/session.h"
#include "mapiguid.h"
#include "mapiutil.h"

namespace openmapi::capi {
namespace {

constexpr HRESULT hr(ErrorCode c) { return HRESULT(c); }

class SessionObject;

// The process's MAPI state: the MAPIInitialize count and the open sessions (for sharing without
// MAPI_NEW_SESSION, and for the last MAPIUninitialize to log off).
struct Subsystem {
  std::mutex mu;
  int initialized = 0;
  std::set<SessionObject*> sessions;
};
Subsystem& subsystem() {
  static Subsystem* s = new Subsystem();  // never destroyed: sessions may outlive static destruction
  return *s;
}

class SessionObject final : public ComObject<SessionObject, IMAPISession, IID_IMAPISession> {
 public:
  SessionObject(std::shared_ptr<mapi::Session> s, bool shareable) : s_(std::move(s)), shareable_(shareable) {}
  ~SessionObject() {
    Subsystem& sub = subsystem();
    std::lock_guard lock(sub.mu);
    sub.sessions.erase(this);
  }
  const std::string& profile_name() const { return s_->profile().name; }
  bool shareable() const { return shareable_ && !ended_; }
  void end() {
    ended_ = true;
    s_->logoff();
  }

  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG flags, LPMAPIERROR* out) override { return err_.get(h, flags, out); }
  HRESULT STDMETHODCALLTYPE GetMsgStoresTable(ULONG, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out);
      live();
      auto t = s_->message_store_table();
      *out = wrap_table(std::move(t));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenMsgStore(ULONG_PTR, ULONG cb, LPENTRYID eid, LPCIID iid, ULONG flags, LPMDB* out) override {
    return guarded(err_, [&] {
      need(out);
      *out = nullptr;
      live();
      if (iid && *iid != IID_IMsgStore && *iid != IID_IMAPIProp && *iid != IID_IUnknown)
        throw_error(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "stores are IMsgStore");
      (void)flags;  // MDB_WRITE, MDB_NO_DIALOG...: the store's rights decide what may be written
      *out = wrap_store(store_of(entry_id_of(cb, eid)));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenAddressBook(ULONG_PTR, LPCIID iid, ULONG, LPADRBOOK* out) override {
    return guarded(err_, [&] {
      need(out);
      *out = nullptr;
      live();
      if (iid && *iid != IID_IAddrBook && *iid != IID_IMAPIProp && *iid != IID_IUnknown)
        throw_error(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the address book is IAddrBook");
      *out = wrap_address_book(s_);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenProfileSection(LPMAPIUID, LPCIID, ULONG, LPPROFSECT* out) override {
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "profiles have no sections here: a profile is its list of stores");
  }
  HRESULT STDMETHODCALLTYPE GetStatusTable(ULONG, LPMAPITABLE* out) override {
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "there is no status table (no transport runs in the session)");
  }
  HRESULT STDMETHODCALLTYPE OpenEntry(ULONG cb, LPENTRYID eid, LPCIID iid, ULONG flags, ULONG* type, LPUNKNOWN* out) override {
    return guarded(err_, [&] {
      need(type);
      need(out);
      *out = nullptr;
      live();
      const Bytes id = entry_id_of(cb, eid);
      if (id.empty()) throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "the session opens only entries with an entry ID");
      if (classify_entry_id(id) == EntryIdKind::Store) {
        *out = reinterpret_cast<LPUNKNOWN>(wrap_store(store_of(id)));
        *type = MAPI_STORE;
        return S_OK;
      }
      auto logon = logon_of(id);
      return entry_object(logon, open_entry(*logon, id, flags), iid, type, out);
    });
  }
  HRESULT STDMETHODCALLTYPE CompareEntryIDs(ULONG cb1, LPENTRYID e1, ULONG cb2, LPENTRYID e2, ULONG, ULONG* result) override {
    return guarded(err_, [&] {
      need(result);
      live();
      const Bytes a = entry_id_of(cb1, e1), b = entry_id_of(cb2, e2);
      if (a == b) {
        *result = TRUE;
        return S_OK;
      }
      auto la = logon_of(a);
      *result = la == logon_of(b) && la->compare_entry_ids(a, b) ? TRUE : FALSE;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Advise(ULONG, LPENTRYID, ULONG, LPMAPIADVISESINK, ULONG_PTR* connection) override {
    if (connection) *connection = 0;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "advise on the stores (IMsgStore::Advise) or tables; the session has no status objects");
  }
  HRESULT STDMETHODCALLTYPE Unadvise(ULONG_PTR) override {
    return err_.set(hr(ErrorCode::MAPI_E_NOT_FOUND), "the session has no advise connections");
  }
  HRESULT STDMETHODCALLTYPE MessageOptions(ULONG_PTR, ULONG, LPTSTR, LPMESSAGE) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "MessageOptions is a dialog, and there are none here");
  }
  HRESULT STDMETHODCALLTYPE QueryDefaultMessageOpt(LPTSTR, ULONG, ULONG* count, LPSPropValue* out) override {
    if (count) *count = 0;
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "no transport gives per-message options");
  }
  HRESULT STDMETHODCALLTYPE EnumAdrTypes(ULONG flags, ULONG* count, LPTSTR** types) override {
    return guarded(err_, [&] {
      need(count);
      need(types);
      live();
      auto* list = allocate_of<LPTSTR>(sizeof(LPTSTR));
      list[0] = static_cast<LPTSTR>(alloc_text("SMTP", flags, list));
      *types = list;
      *count = 1;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE QueryIdentity(ULONG* cb, LPENTRYID* eid) override {
    return guarded(err_, [&] {
      need(cb);
      need(eid);
      live();
      // The owner of the default store, as a one-off entry ID (MS-OXCDATA 2.2.5.1).
      auto store = s_->default_store();
      const PropertyBag p = store->mailbox().store_properties();
      OneOffEntryId id;
      id.email_address = store->mailbox().owner_address();
      id.display_name = p.get_string(PropTag(0x661C, PropType::String)).value_or(id.email_address);  // PidTagMailboxOwnerName
      if (id.email_address.empty()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "the default store has no owner");
      const Bytes b = id.serialize();
      *eid = alloc_entry_id(b);
      *cb = ULONG(b.size());
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Logoff(ULONG_PTR, ULONG, ULONG) override {
    return guarded(err_, [&] {
      end();
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetDefaultStore(ULONG, ULONG, LPENTRYID) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "the default store is the profile's first (openmapi profile create)");
  }
  // The services of the session's profile; changes count from the next logon.
  HRESULT STDMETHODCALLTYPE AdminServices(ULONG, LPSERVICEADMIN* out) override {
    return guarded(err_, [&] {
      need(out);
      *out = nullptr;
      live();
      *out = wrap_service_admin(s_->profile().name);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE ShowForm(ULONG_PTR, LPMDB, LPMAPIFOLDER, LPCIID, ULONG, LPMESSAGE, ULONG, ULONG, ULONG, ULONG, LPSTR) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "there are no forms (no UI) on this platform");
  }
  HRESULT STDMETHODCALLTYPE PrepareForm(LPCIID, LPMESSAGE, ULONG* token) override {
    if (token) *token = 0;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "there are no forms (no UI) on this platform");
  }

 private:
  static void need(const void* p) {
    if (!p) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
  }
  void live() const {
    if (ended_) throw_error(ErrorCode::MAPI_E_END_OF_SESSION, "the session has been logged off");
  }
  // The store whose store entry ID (PR_ENTRYID of the store table) or record key `id` is; an
  // empty `id`: the default store.
  std::shared_ptr<store::Logon> store_of(const Bytes& id) {
    if (id.empty()) return s_->default_store();
    for (size_t i = 0; i < s_->store_count(); ++i) {
      auto l = s_->open_msg_store(i);
      const Guid g = l->mailbox().mailbox_guid();
      if (id == Bytes(g.bytes.begin(), g.bytes.end())) return l;
      // The plain store entry ID of the message store table (mapi/session.cpp): no flags, the UID.
      if (id.size() == 20 && std::all_of(id.begin(), id.begin() + 4, [](uint8_t b) { return b == 0; }) &&
          std::equal(g.bytes.begin(), g.bytes.end(), id.begin() + 4))
        return l;
      const PropertyBag p = l->mailbox().store_properties();
      if (const PropValue* e = p.find(PropTag(0x0FFB, PropType::Binary)); e && e->get<Bytes>() == id) return l;  // PidTagStoreEntryId
    }
    throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "the entry ID names no store of this session");
  }
  // The store a folder or message entry ID belongs to (its provider UID, bytes 4-19).
  std::shared_ptr<store::Logon> logon_of(const Bytes& id) { return s_->store_of_entry(id); }

  std::shared_ptr<mapi::Session> s_;
  bool shareable_;
  bool ended_ = false;
  LastError err_;
};

}  // namespace
}  // namespace openmapi::capi

using openmapi::ErrorCode;
using openmapi::capi::SessionObject;
using openmapi::capi::subsystem;

extern "C" {

HRESULT STDAPICALLTYPE MAPIInitialize(LPVOID init) {
  if (init) {
    const auto* i = static_cast<const MAPIINIT_0*>(init);
    if (i->ulVersion != MAPI_INIT_VERSION) return HRESULT(ErrorCode::MAPI_E_UNKNOWN_FLAGS);
    if (i->ulFlags & ~(MAPI_MULTITHREAD_NOTIFICATIONS | MAPI_NT_SERVICE | MAPI_NO_COINIT)) return HRESULT(ErrorCode::MAPI_E_UNKNOWN_FLAGS);
  }
  auto& sub = subsystem();
  std::lock_guard lock(sub.mu);
  ++sub.initialized;
  return S_OK;
}

void STDAPICALLTYPE MAPIUninitialize(void) {
  auto& sub = subsystem();
  std::set<SessionObject*> open;
  {
    std::lock_guard lock(sub.mu);
    if (sub.initialized == 0 || --sub.initialized > 0) return;
    open = sub.sessions;
    for (SessionObject* s : open) s->AddRef();
  }
  for (SessionObject* s : open) {
    try {
      s->end();
    } catch (...) {
    }
    s->Release();
  }
}

HRESULT STDAPICALLTYPE MAPILogonEx(ULONG_PTR, LPTSTR profile_name, LPTSTR password, ULONG flags, LPMAPISESSION* out) {
  (void)password;  // local profiles have no password (their files' permissions guard them)
  if (!out) return HRESULT(ErrorCode::MAPI_E_INVALID_PARAMETER);
  *out = nullptr;
  auto& sub = subsystem();
  {
    std::lock_guard lock(sub.mu);
    if (sub.initialized == 0) return HRESULT(ErrorCode::MAPI_E_NOT_INITIALIZED);
  }
  try {
    openmapi::mapi::ProfileStore profiles(openmapi::mapi::ProfileStore::default_path());
    std::string name = openmapi::capi::text_arg(profile_name, flags);
    openmapi::mapi::Profile p;
    if (name.empty() || (flags & MAPI_USE_DEFAULT)) {
      // With MAPI_LOGON_UI Windows would ask for a profile when there is none; nobody to ask here.
      if (profiles.list().empty()) return HRESULT(ErrorCode::MAPI_E_NOT_FOUND);
      p = profiles.get_default();
    } else {
      try {
        p = profiles.get(name);
      } catch (const openmapi::MapiError& e) {
        if (e.code() == ErrorCode::MAPI_E_NOT_FOUND) return HRESULT(ErrorCode::MAPI_E_LOGON_FAILED);
        throw;
      }
    }
    const bool share = !(flags & MAPI_NEW_SESSION);
    if (share) {
      std::lock_guard lock(sub.mu);
      for (SessionObject* s : sub.sessions)
        if (s->shareable() && s->profile_name() == p.name) {
          s->AddRef();
          *out = s;
          return S_OK;
        }
    }
    auto session = openmapi::mapi::Session::logon_as_owner(p);
    auto* obj = new SessionObject(std::move(session), share);
    std::lock_guard lock(sub.mu);
    sub.sessions.insert(obj);
    *out = obj;
    return S_OK;
  } catch (const openmapi::MapiError& e) {
    const ErrorCode c = e.code();
    // A server that cannot be reached (or forgot the session) is not a refused logon.
    if (c == ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY || c == ErrorCode::MAPI_E_CORRUPT_DATA || c == ErrorCode::MAPI_E_UNCONFIGURED ||
        c == ErrorCode::MAPI_E_NETWORK_ERROR || c == ErrorCode::MAPI_E_END_OF_SESSION)
      return HRESULT(c);
    return HRESULT(ErrorCode::MAPI_E_LOGON_FAILED);
  } catch (const std::bad_alloc&) {
    return HRESULT(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
  } catch (...) {
    return HRESULT(ErrorCode::MAPI_E_CALL_FAILED);
  }
}

}  // extern "C"
