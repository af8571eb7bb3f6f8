// MAPIAdminProfiles, IProfAdmin and IMsgServiceAdmin (capi/include/mapix.h) over the profile file
// of `openmapi profile` (mapi/profile.h).
#include <filesystem>
#include <random>

#include "capi/com_object.h"
#include "capi/objects.h"
#include "mapi/profile.h"
#include "mapi/session.h"
#include "mapiguid.h"
#include "mapiutil.h"
#include "store/pst/pst_mailbox.h"

namespace openmapi::capi {
namespace {

namespace fs = std::filesystem;
constexpr HRESULT hr(ErrorCode c) { return HRESULT(c); }

constexpr PropTag kServiceUid{0x3D0C, PropType::Binary};
constexpr PropTag kServiceName{0x3D09, PropType::String};
constexpr PropTag kDefaultProfile{0x3D04, PropType::Boolean};
constexpr PropTag kResourceFlags{0x3009, PropType::Integer32};
constexpr PropTag kPstPath{0x6700, PropType::String};
constexpr PropTag kUnresolvedName{0x6607, PropType::String8};    // PR_PROFILE_UNRESOLVED_NAME (emsmdb)
constexpr PropTag kUnresolvedServer{0x6608, PropType::String8};  // PR_PROFILE_UNRESOLVED_SERVER

// The MAPI service names of the three kinds of service: a PST file, a mailbox file, a mailbox on
// a MAPI over HTTP server (Exchange's service name, as programs that make Exchange profiles use).
std::string service_name(const std::string& kind) {
  return kind == "pst" ? "MSUPST MS" : kind == "remote" ? "MSEMS" : "OPENMAPI_MAILBOX";
}
std::string kind_of_service(const std::string& name) {
  if (name == "MSUPST MS" || name == "MSPST MS") return "pst";
  if (name == "OPENMAPI_MAILBOX") return "mailbox";
  if (name == "MSEMS") return "remote";
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no message service '" + name.substr(0, 80) +
                                               "' (there are MSUPST MS, MSPST MS, OPENMAPI_MAILBOX and MSEMS)");
}
// PR_PROFILE_UNRESOLVED_SERVER as the remote provider's URL: https://host[:port], or a bare host
// name (with an optional port), which means https.
std::string server_url(const std::string& text) {
  if (text.rfind("https://", 0) == 0) return text;
  if (text.empty() || text.find("://") != std::string::npos || text.find_first_of("/ \t") != std::string::npos)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "PR_PROFILE_UNRESOLVED_SERVER is a host name or an https:// URL");
  return "https://" + text;
}

std::string hex_of(const std::array<uint8_t, 16>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) s += d[x >> 4], s += d[x & 15];
  return s;
}

// ---- IMsgServiceAdmin --------------------------------------------------------------------
class ServiceAdminObject final : public ComObject<ServiceAdminObject, IMsgServiceAdmin, IID_IMsgServiceAdmin> {
 public:
  explicit ServiceAdminObject(std::string profile) : profile_(std::move(profile)) {}

  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG flags, LPMAPIERROR* out) override { return err_.get(h, flags, out); }
  // One row per service: PR_SERVICE_UID, PR_SERVICE_NAME, PR_DISPLAY_NAME, PR_RESOURCE_FLAGS
  // (SERVICE_DEFAULT_STORE on the first), PR_PST_PATH (empty: not configured).
  HRESULT STDMETHODCALLTYPE GetMsgServiceTable(ULONG flags, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out);
      const mapi::Profile p = profiles().get(profile_);
      std::vector<std::vector<PropValue>> rows;
      for (size_t i = 0; i < p.services.size(); ++i) {
        const auto& s = p.services[i];
        const auto uid = s.uid();
        rows.push_back({PropValue::binary(kServiceUid, Bytes(uid.begin(), uid.end())), PropValue::string(kServiceName, service_name(s.kind)),
                        PropValue::string(tags::PidTagDisplayName, s.display_name),
                        PropValue::i32(kResourceFlags, i == 0 ? int32_t(SERVICE_DEFAULT_STORE) : 0), PropValue::string(kPstPath, s.path)});
      }
      const PropType str = flags & MAPI_UNICODE ? PropType::String : PropType::String8;
      *out = wrap_rows(std::move(rows), {kServiceUid, kServiceName.with_type(str), tags::PidTagDisplayName.with_type(str), kResourceFlags,
                                         kPstPath.with_type(str)});
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CreateMsgService(LPTSTR service, LPTSTR display, ULONG_PTR, ULONG flags) override {
    return guarded(err_, [&] {
      need(service);
      const std::string kind = kind_of_service(text_arg(service, flags));
      change([&](mapi::Profile& p) {
        if (p.services.size() >= 64) throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_RESOURCES, "a profile holds at most 64 services");
        mapi::MessageService s;
        s.kind = kind;
        s.display_name = display ? text_arg(display, flags)
                                 : (kind == "pst" ? "Personal Folders" : kind == "remote" ? "Microsoft Exchange" : "Mailbox");
        std::random_device rd;
        std::array<uint8_t, 16> uid{};
        for (auto& b : uid) b = uint8_t(rd());
        s.uid_hex = hex_of(uid);
        p.services.push_back(std::move(s));
      });
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE DeleteMsgService(LPMAPIUID uid) override {
    return guarded(err_, [&] {
      need(uid);
      change([&](mapi::Profile& p) { p.services.erase(p.services.begin() + ptrdiff_t(index_of(p, *uid))); });
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CopyMsgService(LPMAPIUID, LPTSTR, LPCIID, LPCIID, LPVOID, ULONG_PTR, ULONG) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "CopyMsgService: copy a profile with IProfAdmin::CopyProfile instead");
  }
  HRESULT STDMETHODCALLTYPE RenameMsgService(LPMAPIUID uid, ULONG flags, LPTSTR display) override {
    return guarded(err_, [&] {
      need(uid);
      need(display);
      change([&](mapi::Profile& p) { p.services[index_of(p, *uid)].display_name = text_arg(display, flags); });
      return S_OK;
    });
  }
  // PR_PST_PATH: the store file (absolute; it must open as the service's kind); for MSEMS
  // PR_PROFILE_UNRESOLVED_SERVER (the server: https://host[:port] or a host name) and
  // PR_PROFILE_UNRESOLVED_NAME (the user's SMTP address; the password comes from
  // OPENMAPI_PASSWORD at logon); PR_DISPLAY_NAME. MAPI_E_UNCONFIGURED while a service lacks what
  // it needs; dialogs (SERVICE_UI_ALWAYS) are not shown.
  HRESULT STDMETHODCALLTYPE ConfigureMsgService(LPMAPIUID uid, ULONG_PTR, ULONG flags, ULONG count, LPSPropValue props) override {
    return guarded(err_, [&] {
      need(uid);
      const std::vector<PropValue> values = to_core(props, count);
      change([&](mapi::Profile& p) {
        mapi::MessageService& s = p.services[index_of(p, *uid)];
        if (s.uid_hex.empty()) s.uid_hex = hex_of(s.uid());  // keep the UID the caller knows
        for (const PropValue& v : values) {
          const auto* text = v.get_if<std::string>();
          if (s.kind == "remote" && v.tag().id() == kUnresolvedServer.id() && text) {
            s.path = server_url(*text);
          } else if (s.kind == "remote" && v.tag().id() == kUnresolvedName.id() && text) {
            if (text->empty() || text->size() > 320) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "PR_PROFILE_UNRESOLVED_NAME is the user's address");
            s.name = *text;
          } else if (s.kind != "remote" && v.tag().id() == kPstPath.id() && text) {
            if (text->empty() || (*text)[0] != '/')
              throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "PR_PST_PATH must be an absolute path");
            if (!fs::is_regular_file(*text)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no file '" + text->substr(0, 200) + "'");
            // It must open as what the service is (MAPI_E_CORRUPT_DATA and the like otherwise).
            if (s.kind == "pst") store::open_pst_mailbox(*text);
            else store::open_sqlite_mailbox(*text);
            s.path = fs::path(*text).lexically_normal().string();
            s.name = s.kind == "pst" ? fs::path(*text).filename().string() : fs::path(*text).stem().string();
          } else if (v.tag().id() == tags::PidTagDisplayName.id() && text) {
            s.display_name = *text;
          }
        }
        if (s.kind == "remote" && (s.path.empty() || s.name.empty()))
          throw_error(ErrorCode::MAPI_E_UNCONFIGURED, "the service needs PR_PROFILE_UNRESOLVED_SERVER and PR_PROFILE_UNRESOLVED_NAME");
        if (s.path.empty()) throw_error(ErrorCode::MAPI_E_UNCONFIGURED, "the service needs PR_PST_PATH, the path of its file");
      });
      (void)flags;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenProfileSection(LPMAPIUID, LPCIID, ULONG, LPPROFSECT* out) override {
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "services have no profile sections: their configuration is PR_PST_PATH and PR_DISPLAY_NAME");
  }
  HRESULT STDMETHODCALLTYPE MsgServiceTransportOrder(ULONG, LPMAPIUID, ULONG) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "no transport services: the server's spooler sends the mail");
  }
  HRESULT STDMETHODCALLTYPE AdminProviders(LPMAPIUID, ULONG, LPPROVIDERADMIN* out) override {
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "each service is its one store provider");
  }
  HRESULT STDMETHODCALLTYPE SetPrimaryIdentity(LPMAPIUID, ULONG) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "the primary identity is the first store's owner");
  }
  HRESULT STDMETHODCALLTYPE GetProviderTable(ULONG, LPMAPITABLE* out) override {
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "each service is its one store provider (see GetMsgServiceTable)");
  }

 private:
  static void need(const void* p) {
    if (!p) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
  }
  static mapi::ProfileStore profiles() { return mapi::ProfileStore(mapi::ProfileStore::default_path()); }
  static size_t index_of(const mapi::Profile& p, const MAPIUID& uid) {
    for (size_t i = 0; i < p.services.size(); ++i) {
      const auto u = p.services[i].uid();
      if (std::equal(u.begin(), u.end(), uid.ab)) return i;
    }
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no service of that UID in profile");
  }
  template <class F>
  void change(F&& f) {
    const mapi::ProfileStore ps = profiles();
    mapi::ProfileFile file = ps.load();
    for (auto& p : file.profiles)
      if (p.name == profile_) {
        f(p);
        ps.store(file);
        return;
      }
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "the profile '" + profile_ + "' is gone");
  }
  std::string profile_;
  LastError err_;
};

// ---- IProfAdmin ---------------------------------------------------------------------------
class ProfAdminObject final : public ComObject<ProfAdminObject, IProfAdmin, IID_IProfAdmin> {
 public:
  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG flags, LPMAPIERROR* out) override { return err_.get(h, flags, out); }
  // PR_DISPLAY_NAME and PR_DEFAULT_PROFILE of each profile.
  HRESULT STDMETHODCALLTYPE GetProfileTable(ULONG flags, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      if (!out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      const mapi::ProfileFile f = store().load();
      const std::string def = f.default_name();
      std::vector<std::vector<PropValue>> rows;
      for (const auto& p : f.profiles)
        rows.push_back({PropValue::string(tags::PidTagDisplayName, p.name), PropValue::boolean(kDefaultProfile, p.name == def)});
      *out = wrap_rows(std::move(rows), {tags::PidTagDisplayName.with_type(flags & MAPI_UNICODE ? PropType::String : PropType::String8),
                                         kDefaultProfile});
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CreateProfile(LPTSTR name, LPTSTR, ULONG_PTR, ULONG flags) override {
    return guarded(err_, [&] {
      const std::string n = text_arg(name, flags);
      mapi::check_profile_name(n);
      const auto ps = store();
      mapi::ProfileFile f = ps.load();
      for (const auto& p : f.profiles)
        if (p.name == n) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "a profile named '" + n + "' exists already");  // as MAPI answers
      f.profiles.push_back({n, {}});
      ps.store(f);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE DeleteProfile(LPTSTR name, ULONG flags) override {
    return guarded(err_, [&] {
      store().remove(text_arg(name, flags));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE ChangeProfilePassword(LPTSTR, LPTSTR, LPTSTR, ULONG) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "local profiles have no password (the files' permissions guard them)");
  }
  HRESULT STDMETHODCALLTYPE CopyProfile(LPTSTR from, LPTSTR, LPTSTR to, ULONG_PTR, ULONG flags) override {
    return guarded(err_, [&] {
      rename_or_copy(text_arg(from, flags), text_arg(to, flags), true);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE RenameProfile(LPTSTR from, LPTSTR, LPTSTR to, ULONG_PTR, ULONG flags) override {
    return guarded(err_, [&] {
      rename_or_copy(text_arg(from, flags), text_arg(to, flags), false);
      return S_OK;
    });
  }
  // NULL: no default (the first profile is taken).
  HRESULT STDMETHODCALLTYPE SetDefaultProfile(LPTSTR name, ULONG flags) override {
    return guarded(err_, [&] {
      const auto ps = store();
      mapi::ProfileFile f = ps.load();
      const std::string n = text_arg(name, flags);
      if (!n.empty() && std::none_of(f.profiles.begin(), f.profiles.end(), [&](const mapi::Profile& p) { return p.name == n; }))
        throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no profile '" + n.substr(0, 80) + "'");
      f.default_profile = n;
      ps.store(f);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE AdminServices(LPTSTR name, LPTSTR, ULONG_PTR, ULONG flags, LPSERVICEADMIN* out) override {
    return guarded(err_, [&] {
      if (!out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      *out = nullptr;
      const mapi::Profile p = store().get(text_arg(name, flags));
      *out = new ServiceAdminObject(p.name);
      return S_OK;
    });
  }

 private:
  static mapi::ProfileStore store() { return mapi::ProfileStore(mapi::ProfileStore::default_path()); }
  static void rename_or_copy(const std::string& from, const std::string& to, bool copy) {
    mapi::check_profile_name(to);
    const auto ps = store();
    mapi::ProfileFile f = ps.load();
    auto it = std::find_if(f.profiles.begin(), f.profiles.end(), [&](const mapi::Profile& p) { return p.name == from; });
    if (it == f.profiles.end()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no profile '" + from.substr(0, 80) + "'");
    if (std::any_of(f.profiles.begin(), f.profiles.end(), [&](const mapi::Profile& p) { return p.name == to; }))
      throw_error(ErrorCode::MAPI_E_NO_ACCESS, "a profile named '" + to + "' exists already");
    if (copy) {
      mapi::Profile c = *it;
      c.name = to;
      for (auto& s : c.services) s.uid_hex.clear();  // a copy's services are services of their own
      f.profiles.push_back(std::move(c));
    } else {
      it->name = to;
      if (f.default_profile == from) f.default_profile = to;
    }
    ps.store(f);
  }
  LastError err_;
};

}  // namespace

IMsgServiceAdmin* wrap_service_admin(const std::string& profile) { return new ServiceAdminObject(profile); }

}  // namespace openmapi::capi

extern "C" HRESULT STDAPICALLTYPE MAPIAdminProfiles(ULONG flags, LPPROFADMIN* out) {
  if (!out) return HRESULT(openmapi::ErrorCode::MAPI_E_INVALID_PARAMETER);
  *out = nullptr;
  if (flags & ~MAPI_UNICODE) return HRESULT(openmapi::ErrorCode::MAPI_E_UNKNOWN_FLAGS);
  try {
    *out = new openmapi::capi::ProfAdminObject();
    return S_OK;
  } catch (const std::bad_alloc&) {
    return HRESULT(openmapi::ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
  }
}
