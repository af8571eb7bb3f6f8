// IAddrBook over mapi::AddressBook (capi/objects.h): ResolveName, CreateOneOff, CompareEntryIDs,
// GetSearchPath. The dialogs (Address, Details, NewEntry, RecipOptions) do not exist on this
// platform and answer MAPI_E_NO_SUPPORT, as a client without UI expects.
#include <cstring>

#include "capi/com_object.h"
#include "capi/objects.h"
#include "core/entryid.h"
#include "mapi/session.h"
#include "mapiguid.h"
#include "mapiutil.h"

namespace openmapi::capi {
namespace {

constexpr HRESULT hr(ErrorCode c) { return HRESULT(c); }
constexpr ULONG kDisplayTypeMailUser = 0;  // DT_MAILUSER

// The display name a caller put in an ADRLIST row to be resolved (8-bit or wide).
std::optional<std::string> name_to_resolve(const ADRENTRY& e) {
  if (e.cValues > kMaxCount || (e.cValues && !e.rgPropVals)) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a malformed address entry");
  bool resolved = false;
  std::optional<std::string> name;
  for (ULONG i = 0; i < e.cValues; ++i) {
    const SPropValue& v = e.rgPropVals[i];
    if (PROP_ID(v.ulPropTag) == 0x0FFF) resolved = true;  // PR_ENTRYID: resolved already
    if (v.ulPropTag == PROP_TAG(PT_STRING8, 0x3001) && v.Value.lpszA) name = utf8_of(v.Value.lpszA);
    if (v.ulPropTag == PROP_TAG(PT_UNICODE, 0x3001) && v.Value.lpszW) name = utf8_of(v.Value.lpszW);
  }
  if (resolved) return std::nullopt;
  return name;
}

class AddrBookObject final : public ComObject<AddrBookObject, IAddrBook, IID_IAddrBook, IID_IMAPIProp> {
 public:
  explicit AddrBookObject(std::shared_ptr<mapi::Session> s) : s_(std::move(s)) {}

  // -- IMAPIProp: the address book object itself has no properties of its own here.
  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG flags, LPMAPIERROR* out) override { return err_.get(h, flags, out); }
  HRESULT STDMETHODCALLTYPE SaveChanges(ULONG) override { return none("SaveChanges"); }
  HRESULT STDMETHODCALLTYPE GetProps(LPSPropTagArray, ULONG, ULONG* n, LPSPropValue* out) override {
    if (n) *n = 0;
    if (out) *out = nullptr;
    return none("GetProps");
  }
  HRESULT STDMETHODCALLTYPE GetPropList(ULONG, LPSPropTagArray* out) override {
    if (out) *out = nullptr;
    return none("GetPropList");
  }
  HRESULT STDMETHODCALLTYPE OpenProperty(ULONG, LPCIID, ULONG, ULONG, LPUNKNOWN* out) override {
    if (out) *out = nullptr;
    return none("OpenProperty");
  }
  HRESULT STDMETHODCALLTYPE SetProps(ULONG, LPSPropValue, LPSPropProblemArray* p) override {
    if (p) *p = nullptr;
    return none("SetProps");
  }
  HRESULT STDMETHODCALLTYPE DeleteProps(LPSPropTagArray, LPSPropProblemArray* p) override {
    if (p) *p = nullptr;
    return none("DeleteProps");
  }
  HRESULT STDMETHODCALLTYPE CopyTo(ULONG, LPCIID, LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                                   LPSPropProblemArray* p) override {
    if (p) *p = nullptr;
    return none("CopyTo");
  }
  HRESULT STDMETHODCALLTYPE CopyProps(LPSPropTagArray, ULONG_PTR, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG, LPSPropProblemArray* p) override {
    if (p) *p = nullptr;
    return none("CopyProps");
  }
  HRESULT STDMETHODCALLTYPE GetNamesFromIDs(LPSPropTagArray*, LPGUID, ULONG, ULONG* n, LPMAPINAMEID** out) override {
    if (n) *n = 0;
    if (out) *out = nullptr;
    return none("GetNamesFromIDs");
  }
  HRESULT STDMETHODCALLTYPE GetIDsFromNames(ULONG, LPMAPINAMEID*, ULONG, LPSPropTagArray* out) override {
    if (out) *out = nullptr;
    return none("GetIDsFromNames");
  }

  // -- IAddrBook
  HRESULT STDMETHODCALLTYPE OpenEntry(ULONG, LPENTRYID, LPCIID, ULONG, ULONG* type, LPUNKNOWN* out) override {
    if (type) *type = 0;
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "opening address book entries (IMailUser, IABContainer) is not in this build yet");
  }
  HRESULT STDMETHODCALLTYPE CompareEntryIDs(ULONG cb1, LPENTRYID e1, ULONG cb2, LPENTRYID e2, ULONG, ULONG* result) override {
    return guarded(err_, [&] {
      if (!result) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      const Bytes a = entry_id_of(cb1, e1), b = entry_id_of(cb2, e2);
      bool same = a == b;
      if (!same && classify_entry_id(a) == EntryIdKind::OneOff && classify_entry_id(b) == EntryIdKind::OneOff) {
        // One-off entries name the same recipient when their address type and address do
        // (the address case-insensitively, as SMTP addresses compare).
        const OneOffEntryId x = OneOffEntryId::parse(a), y = OneOffEntryId::parse(b);
        same = ascii_fold(x.address_type) == ascii_fold(y.address_type) && ascii_fold(x.email_address) == ascii_fold(y.email_address);
      }
      *result = same ? TRUE : FALSE;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Advise(ULONG, LPENTRYID, ULONG, LPMAPIADVISESINK, ULONG_PTR* c) override {
    if (c) *c = 0;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "address book entries send no notifications; advise on the Contacts folder");
  }
  HRESULT STDMETHODCALLTYPE Unadvise(ULONG_PTR) override { return err_.set(hr(ErrorCode::MAPI_E_NOT_FOUND), "no advise connection"); }
  HRESULT STDMETHODCALLTYPE CreateOneOff(LPTSTR name, LPTSTR type, LPTSTR address, ULONG flags, ULONG* cb, LPENTRYID* out) override {
    return guarded(err_, [&] {
      if (!cb || !out || !type || !address) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      OneOffEntryId e;
      e.display_name = text_arg(name, flags);
      e.address_type = text_arg(type, flags);
      e.email_address = text_arg(address, flags);
      e.unicode = true;
      e.no_rich_info = flags & MAPI_SEND_NO_RICH_INFO;
      const Bytes b = e.serialize();
      *out = alloc_entry_id(b);
      *cb = ULONG(b.size());
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE NewEntry(ULONG_PTR, ULONG, ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG* cb, LPENTRYID* out) override {
    if (cb) *cb = 0;
    if (out) *out = nullptr;
    return dialog("NewEntry");
  }
  // Resolves every row of `list` that has a display name and no entry ID: the row is replaced
  // (its old values freed) by PR_DISPLAY_NAME, PR_ADDRTYPE, PR_EMAIL_ADDRESS, PR_ENTRYID,
  // PR_SEARCH_KEY, PR_OBJECT_TYPE and PR_DISPLAY_TYPE, keeping the caller's other properties
  // (PR_RECIPIENT_TYPE...). MAPI_E_AMBIGUOUS_RECIP when a name matches several entries equally
  // (the rows resolved so far stay resolved), MAPI_E_NOT_FOUND when one matches none.
  HRESULT STDMETHODCALLTYPE ResolveName(ULONG_PTR, ULONG flags, LPTSTR, LPADRLIST list) override {
    return guarded(err_, [&] {
      if (!list) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the address list is NULL");
      if (list->cEntries > kMaxCount) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "too many entries");
      const bool wide = flags & MAPI_UNICODE;
      for (ULONG i = 0; i < list->cEntries; ++i) {
        ADRENTRY& row = list->aEntries[i];
        const auto name = name_to_resolve(row);
        if (!name) continue;
        const mapi::AddressEntry found = s_->address_book().resolve_name(*name);
        std::vector<PropValue> values;
        const PropType str = wide ? PropType::String : PropType::String8;
        values.push_back(PropValue::string(PropTag(0x3001, str), found.display_name));
        values.push_back(PropValue::string(PropTag(0x3002, str), found.address_type));
        values.push_back(PropValue::string(PropTag(0x3003, str), found.email_address));
        values.push_back(PropValue::binary(PropTag(0x0FFF, PropType::Binary), found.entry_id));
        const std::string key = ascii_upper(found.address_type + ":" + found.email_address);
        Bytes search_key(key.begin(), key.end());
        search_key.push_back(0);
        values.push_back(PropValue::binary(PropTag(0x300B, PropType::Binary), search_key));
        values.push_back(PropValue::i32(PropTag(0x0FFE, PropType::Integer32), int32_t(MAPI_MAILUSER)));
        values.push_back(PropValue::i32(PropTag(0x3900, PropType::Integer32), int32_t(kDisplayTypeMailUser)));
        for (PropValue& v : to_core(row.rgPropVals, row.cValues)) {
          const uint16_t id = v.tag().id();
          const bool replaced = id == 0x3001 || id == 0x3002 || id == 0x3003 || id == 0x0FFF || id == 0x300B || id == 0x0FFE || id == 0x3900;
          if (!replaced && v.type() != PropType::ErrorCode && v.type() != PropType::Null) values.push_back(std::move(v));
        }
        LPSPropValue fresh = alloc_props(values);
        MAPIFreeBuffer(row.rgPropVals);
        row.rgPropVals = fresh;
        row.cValues = ULONG(values.size());
      }
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Address(ULONG_PTR*, LPADRPARM, LPADRLIST*) override { return dialog("Address"); }
  HRESULT STDMETHODCALLTYPE Details(ULONG_PTR*, LPFNDISMISS, LPVOID, ULONG, LPENTRYID, LPFNBUTTON, LPVOID, LPTSTR, ULONG) override {
    return dialog("Details");
  }
  HRESULT STDMETHODCALLTYPE RecipOptions(ULONG_PTR, ULONG, LPADRENTRY) override { return dialog("RecipOptions"); }
  HRESULT STDMETHODCALLTYPE QueryDefaultRecipOpt(LPTSTR, ULONG, ULONG* n, LPSPropValue* out) override {
    if (n) *n = 0;
    if (out) *out = nullptr;
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "no transport gives per-recipient options");
  }
  HRESULT STDMETHODCALLTYPE GetPAB(ULONG* cb, LPENTRYID* out) override { return default_container(cb, out); }
  HRESULT STDMETHODCALLTYPE SetPAB(ULONG, LPENTRYID) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "the personal address book is the default store's Contacts folder");
  }
  HRESULT STDMETHODCALLTYPE GetDefaultDir(ULONG* cb, LPENTRYID* out) override { return default_container(cb, out); }
  HRESULT STDMETHODCALLTYPE SetDefaultDir(ULONG, LPENTRYID) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "the default directory is the default store's Contacts folder");
  }
  // The containers ResolveName searches, in order: PR_ENTRYID, PR_DISPLAY_NAME (in 8 bits, or
  // wide with MAPI_UNICODE).
  HRESULT STDMETHODCALLTYPE GetSearchPath(ULONG flags, LPSRowSet* out) override {
    return guarded(err_, [&] {
      if (!out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      std::vector<store::Row> rows;
      for (const auto& c : s_->address_book().containers())
        rows.push_back({PropValue::binary(PropTag(0x0FFF, PropType::Binary), c.entry_id),
                        PropValue::string(PropTag(0x3001, flags & MAPI_UNICODE ? PropType::String : PropType::String8), c.name)});
      *out = alloc_rows(rows);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetSearchPath(ULONG, LPSRowSet) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "the search path is the Contacts folders of the profile's stores");
  }
  HRESULT STDMETHODCALLTYPE PrepareRecips(ULONG, LPSPropTagArray, LPADRLIST) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "PrepareRecips is not in this build yet");
  }

 private:
  static std::string ascii_fold(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  static std::string ascii_upper(std::string s) {
    for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
  HRESULT none(const char* call) { return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), std::string(call) + ": the address book object has no properties"); }
  HRESULT dialog(const char* call) {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), std::string(call) + " is a dialog, and there is no UI on this platform");
  }
  HRESULT default_container(ULONG* cb, LPENTRYID* out) {
    return guarded(err_, [&] {
      if (!cb || !out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      auto cs = s_->address_book().containers();
      if (cs.empty()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "the profile's stores have no Contacts folder");
      *out = alloc_entry_id(cs.front().entry_id);
      *cb = ULONG(cs.front().entry_id.size());
      return S_OK;
    });
  }
  std::shared_ptr<mapi::Session> s_;
  LastError err_;
};

}  // namespace

IAddrBook* wrap_address_book(std::shared_ptr<mapi::Session> session) { return new AddrBookObject(std::move(session)); }

}  // namespace openmapi::capi
