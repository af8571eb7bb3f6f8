// IAddrBook over mapi::AddressBook (capi/objects.h): ResolveName, CreateOneOff, CompareEntryIDs,
// GetSearchPath. The dialogs (Address, Details, NewEntry, RecipOptions) do not exist on this
// platform and answer MAPI_E_NO_SUPPORT, as a client without UI expects.
#include <algorithm>
#include <cstring>
#include <optional>

#include "capi/com_object.h"
#include "capi/objects.h"
#include "core/entryid.h"
#include "core/unicode.h"
#include "mapi/session.h"
#include "mapiguid.h"
#include "mapiutil.h"

namespace openmapi::capi {
namespace {

constexpr HRESULT hr(ErrorCode c) { return HRESULT(c); }

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


// The values of an address book entry (a contact's address, or a one-off recipient).
std::vector<PropValue> entry_values(const mapi::AddressEntry& e) {
  std::vector<PropValue> v{PropValue::string(tags::PidTagDisplayName, e.display_name),
                           PropValue::string(tags::PidTagAddressType, e.address_type),
                           PropValue::string(tags::PidTagEmailAddress, e.email_address),
                           PropValue::binary(tags::PidTagEntryId, e.entry_id),
                           PropValue::binary(PropTag(0x0FF9, PropType::Binary), e.entry_id),  // PidTagRecordKey
                           PropValue::binary(PropTag(0x300B, PropType::Binary),  // PidTagSearchKey
                                             address_search_key(e.address_type, e.email_address)),
                           PropValue::i32(PropTag(0x0FFE, PropType::Integer32), int32_t(MAPI_MAILUSER)),
                           PropValue::i32(PropTag(0x3900, PropType::Integer32), int32_t(DT_MAILUSER))};
  if (ascii_lower(e.address_type) == "smtp") v.push_back(PropValue::string(tags::PidTagSmtpAddress, e.email_address));
  return v;
}

HRESULT open_ab_entry(const std::shared_ptr<mapi::Session>& s, const Bytes& id, ULONG* type, LPUNKNOWN* out);

// IABContainer: the root (its hierarchy lists the Contacts folders) or one Contacts folder (its
// contents are the folder's addresses). Read-only: contacts are changed in their folder.
// A distribution list's values as a contents row and as its own properties.
std::vector<PropValue> dist_list_values(const mapi::AddressBook::DistList& d) {
  return {PropValue::string(tags::PidTagDisplayName, d.name), PropValue::string(tags::PidTagAddressType, "MAPIPDL"),
          PropValue::binary(tags::PidTagEntryId, d.entry_id), PropValue::binary(PropTag(0x0FF9, PropType::Binary), d.entry_id),
          PropValue::i32(PropTag(0x0FFE, PropType::Integer32), int32_t(MAPI_DISTLIST)),
          PropValue::i32(PropTag(0x3900, PropType::Integer32), int32_t(DT_PRIVATE_DISTLIST))};
}

// IABContainer (the root, or a Contacts folder: its addresses and distribution lists) and
// IDistList (a distribution list: its members): the same methods on different entries.
template <class Interface, const IID& kIid>
class ABContainerObject final : public ComObject<ABContainerObject<Interface, kIid>, Interface, kIid, IID_IMAPIContainer, IID_IMAPIProp> {
 public:
  ABContainerObject(std::shared_ptr<mapi::Session> s, std::optional<mapi::AddressBook::Container> c,
                    std::optional<mapi::AddressBook::DistList> d = std::nullopt)
      : s_(std::move(s)), c_(std::move(c)), d_(std::move(d)) {
    std::vector<PropValue> v;
    if (d_) {
      v = dist_list_values(*d_);
    } else {
      v = {PropValue::i32(PropTag(0x0FFE, PropType::Integer32), int32_t(MAPI_ABCONT)),
           PropValue::i32(PropTag(0x3600, PropType::Integer32),  // PidTagContainerFlags
                          int32_t(c_ ? AB_RECIPIENTS | AB_UNMODIFIABLE : AB_SUBCONTAINERS | AB_UNMODIFIABLE)),
           PropValue::i32(PropTag(0x3900, PropType::Integer32), int32_t(c_ ? DT_LOCAL : DT_NOT_SPECIFIC))};
      if (c_) {
        v.push_back(PropValue::string(tags::PidTagDisplayName, c_->name));
        v.push_back(PropValue::binary(tags::PidTagEntryId, c_->entry_id));
      }
    }
    props_ = make_prop_data(v, true);
  }
  ~ABContainerObject() { props_->Release(); }

  // -- IMAPIProp: the container's own properties (read-only)
  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG f, LPMAPIERROR* e) override {
    return h == own_ ? err_.get(h, f, e) : props_->GetLastError(h, f, e);
  }
  HRESULT STDMETHODCALLTYPE SaveChanges(ULONG f) override { return props_->SaveChanges(f); }
  HRESULT STDMETHODCALLTYPE GetProps(LPSPropTagArray t, ULONG f, ULONG* n, LPSPropValue* v) override { return props_->GetProps(t, f, n, v); }
  HRESULT STDMETHODCALLTYPE GetPropList(ULONG f, LPSPropTagArray* t) override { return props_->GetPropList(f, t); }
  HRESULT STDMETHODCALLTYPE OpenProperty(ULONG tag, LPCIID iid, ULONG o, ULONG f, LPUNKNOWN* u) override {
    return props_->OpenProperty(tag, iid, o, f, u);
  }
  HRESULT STDMETHODCALLTYPE SetProps(ULONG n, LPSPropValue v, LPSPropProblemArray* p) override { return props_->SetProps(n, v, p); }
  HRESULT STDMETHODCALLTYPE DeleteProps(LPSPropTagArray t, LPSPropProblemArray* p) override { return props_->DeleteProps(t, p); }
  HRESULT STDMETHODCALLTYPE CopyTo(ULONG c, LPCIID i, LPSPropTagArray x, ULONG_PTR u, LPMAPIPROGRESS g, LPCIID d, LPVOID o, ULONG f,
                                   LPSPropProblemArray* p) override {
    return props_->CopyTo(c, i, x, u, g, d, o, f, p);
  }
  HRESULT STDMETHODCALLTYPE CopyProps(LPSPropTagArray t, ULONG_PTR u, LPMAPIPROGRESS g, LPCIID d, LPVOID o, ULONG f, LPSPropProblemArray* p) override {
    return props_->CopyProps(t, u, g, d, o, f, p);
  }
  HRESULT STDMETHODCALLTYPE GetNamesFromIDs(LPSPropTagArray* t, LPGUID g, ULONG f, ULONG* n, LPMAPINAMEID** m) override {
    return props_->GetNamesFromIDs(t, g, f, n, m);
  }
  HRESULT STDMETHODCALLTYPE GetIDsFromNames(ULONG n, LPMAPINAMEID* m, ULONG f, LPSPropTagArray* t) override {
    return props_->GetIDsFromNames(n, m, f, t);
  }

  // -- IMAPIContainer
  HRESULT STDMETHODCALLTYPE GetContentsTable(ULONG, LPMAPITABLE* out) override {
    return run([&] {
      if (!out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      std::vector<std::vector<PropValue>> rows;
      if (d_) {
        for (const auto& e : d_->members) rows.push_back(entry_values(e));
      } else if (c_) {
        for (const auto& e : s_->address_book().entries(*c_)) rows.push_back(entry_values(e));
        for (const auto& d : s_->address_book().dist_lists(*c_)) rows.push_back(dist_list_values(d));
      }
      *out = wrap_rows(std::move(rows), {tags::PidTagDisplayName, tags::PidTagEntryId, tags::PidTagAddressType,
                                                       tags::PidTagEmailAddress, PropTag(0x0FFE, PropType::Integer32),
                                                       PropTag(0x3900, PropType::Integer32)});
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetHierarchyTable(ULONG, LPMAPITABLE* out) override {
    return run([&] {
      if (!out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the result is NULL");
      std::vector<std::vector<PropValue>> rows;
      if (!c_)
        for (const auto& c : s_->address_book().containers())
          rows.push_back({PropValue::string(tags::PidTagDisplayName, c.name), PropValue::binary(tags::PidTagEntryId, c.entry_id),
                          PropValue::i32(PropTag(0x0FFE, PropType::Integer32), int32_t(MAPI_ABCONT)),
                          PropValue::i32(PropTag(0x3005, PropType::Integer32), 0),  // PidTagDepth
                          PropValue::i32(PropTag(0x3600, PropType::Integer32), int32_t(AB_RECIPIENTS | AB_UNMODIFIABLE))});
      *out = wrap_rows(std::move(rows), {tags::PidTagDisplayName, tags::PidTagEntryId, PropTag(0x0FFE, PropType::Integer32),
                                                       PropTag(0x3005, PropType::Integer32), PropTag(0x3600, PropType::Integer32)});
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenEntry(ULONG cb, LPENTRYID eid, LPCIID, ULONG, ULONG* type, LPUNKNOWN* out) override {
    return run([&] {
      if (!type || !out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      return open_ab_entry(s_, entry_id_of(cb, eid), type, out);
    });
  }
  HRESULT STDMETHODCALLTYPE SetSearchCriteria(LPSRestriction, LPENTRYLIST, ULONG) override { return read_only("SetSearchCriteria"); }
  HRESULT STDMETHODCALLTYPE GetSearchCriteria(ULONG, LPSRestriction*, LPENTRYLIST*, ULONG*) override {
    return own_ = err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "address book containers are not search folders");
  }
  // -- IABContainer
  HRESULT STDMETHODCALLTYPE CreateEntry(ULONG, LPENTRYID, ULONG, LPMAPIPROP* out) override {
    if (out) *out = nullptr;
    return read_only("CreateEntry");
  }
  HRESULT STDMETHODCALLTYPE CopyEntries(LPENTRYLIST, ULONG_PTR, LPMAPIPROGRESS, ULONG) override { return read_only("CopyEntries"); }
  HRESULT STDMETHODCALLTYPE DeleteEntries(LPENTRYLIST, ULONG) override { return read_only("DeleteEntries"); }
  // The rows of `list` still MAPI_UNRESOLVED in `flags` whose display name or address matches
  // one entry of this container exactly (ignoring case): resolved, replaced by the entry's
  // values (`tags` names which; NULL: all; strings wide with MAPI_UNICODE); several matches:
  // MAPI_AMBIGUOUS.
  HRESULT STDMETHODCALLTYPE ResolveNames(LPSPropTagArray tags, ULONG ul_flags, LPADRLIST list, LPFlagList flags) override {
    return run([&] {
      if (!list || !flags || flags->cFlags != list->cEntries)
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "an address list and a flag list of the same length");
      if (list->cEntries > kMaxCount) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "too many entries");
      const std::vector<mapi::AddressEntry> entries =
          d_ ? d_->members : c_ ? s_->address_book().entries(*c_) : std::vector<mapi::AddressEntry>{};
      const std::vector<PropTag> wanted = to_core(tags);
      for (ULONG i = 0; i < list->cEntries; ++i) {
        if (flags->ulFlag[i] != MAPI_UNRESOLVED) continue;
        const auto name = name_to_resolve(list->aEntries[i]);
        if (!name) continue;
        const mapi::AddressEntry* found = nullptr;
        int matches = 0;
        for (const auto& e : entries)
          if (ascii_lower(e.display_name) == ascii_lower(*name) || ascii_lower(e.email_address) == ascii_lower(*name)) found = &e, ++matches;
        if (matches > 1) flags->ulFlag[i] = MAPI_AMBIGUOUS;
        if (matches != 1) continue;
        std::vector<PropValue> values;
        for (PropValue& v : entry_values(*found))
          if (wanted.empty() || std::any_of(wanted.begin(), wanted.end(), [&](PropTag t) { return t.id() == v.tag().id(); }))
            values.push_back(as_asked(std::move(v), ul_flags));  // 8-bit strings without MAPI_UNICODE
        LPSPropValue fresh = alloc_props(values);
        MAPIFreeBuffer(list->aEntries[i].rgPropVals);
        list->aEntries[i].rgPropVals = fresh;
        list->aEntries[i].cValues = ULONG(values.size());
        flags->ulFlag[i] = MAPI_RESOLVED;
      }
      return S_OK;
    });
  }

 private:
  template <class F>
  HRESULT run(F&& f) {
    const HRESULT h = guarded(err_, f);
    if (FAILED(h)) own_ = h;
    return h;
  }
  HRESULT read_only(const char* call) {
    return own_ = err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), std::string(call) + ": the address book is read-only; change the contact in its Contacts folder");
  }
  std::shared_ptr<mapi::Session> s_;
  std::optional<mapi::AddressBook::Container> c_;
  std::optional<mapi::AddressBook::DistList> d_;
  IPropData* props_ = nullptr;
  LastError err_;
  HRESULT own_ = S_OK;  // the last error of this object's own calls (GetLastError tells it)
};

HRESULT open_ab_entry(const std::shared_ptr<mapi::Session>& s, const Bytes& id, ULONG* type, LPUNKNOWN* out) {
  *out = nullptr;
  if (id.empty()) {  // the root container
    *out = reinterpret_cast<LPUNKNOWN>(static_cast<IABContainer*>(new ABContainerObject<IABContainer, IID_IABContainer>(s, std::nullopt)));
    *type = MAPI_ABCONT;
    return S_OK;
  }
  switch (classify_entry_id(id)) {
    case EntryIdKind::OneOff: {
      const OneOffEntryId o = OneOffEntryId::parse(id);
      mapi::AddressEntry e{o.display_name, o.address_type, o.email_address, id, ""};
      *out = reinterpret_cast<LPUNKNOWN>(make_mail_user(entry_values(e)));
      *type = MAPI_MAILUSER;
      return S_OK;
    }
    default: break;
  }
  // A Contacts folder (a folder entry ID, or a PST's own form).
  for (const auto& c : s->address_book().containers())
    if (c.entry_id == id) {
      *out = reinterpret_cast<LPUNKNOWN>(static_cast<IABContainer*>(new ABContainerObject<IABContainer, IID_IABContainer>(s, c)));
      *type = MAPI_ABCONT;
      return S_OK;
    }
  // A distribution list item of a Contacts folder (a message entry ID, or a PST's own form).
  for (const auto& c : s->address_book().containers())
    for (auto& d : s->address_book().dist_lists(c))
      if (d.entry_id == id) {
        *out = reinterpret_cast<LPUNKNOWN>(static_cast<IDistList*>(new ABContainerObject<IDistList, IID_IDistList>(s, c, std::move(d))));
        *type = MAPI_DISTLIST;
        return S_OK;
      }
  throw_error(ErrorCode::MAPI_E_UNKNOWN_ENTRYID, "the entry ID is no address book entry of this session");
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
  // No entry ID: the root container; a Contacts folder's: IABContainer; a one-off (what
  // ResolveName gives): IMailUser; a distribution list item's: IDistList (its members).
  // MAPI_E_UNKNOWN_ENTRYID otherwise.
  HRESULT STDMETHODCALLTYPE OpenEntry(ULONG cb, LPENTRYID eid, LPCIID, ULONG, ULONG* type, LPUNKNOWN* out) override {
    return guarded(err_, [&] {
      if (!type || !out) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a required argument is NULL");
      return open_ab_entry(s_, entry_id_of(cb, eid), type, out);
    });
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
        same = ascii_lower(x.address_type) == ascii_lower(y.address_type) && ascii_lower(x.email_address) == ascii_lower(y.email_address);
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
      for (ULONG i = 0; i < list->cEntries; ++i) {
        ADRENTRY& row = list->aEntries[i];
        const auto name = name_to_resolve(row);
        if (!name) continue;
        const mapi::AddressEntry found = s_->address_book().resolve_name(*name);
        // The entry's own values that a resolved row carries (display name, address type and
        // address, entry ID, search key, object and display type), then the caller's others.
        auto resolved = [](uint16_t id) {
          return id == 0x3001 || id == 0x3002 || id == 0x3003 || id == 0x0FFF || id == 0x300B || id == 0x0FFE || id == 0x3900;
        };
        std::vector<PropValue> values;
        for (PropValue& v : entry_values(found))
          if (resolved(v.tag().id())) values.push_back(as_asked(std::move(v), flags));
        for (PropValue& v : to_core(row.rgPropVals, row.cValues))
          if (!resolved(v.tag().id()) && v.type() != PropType::ErrorCode && v.type() != PropType::Null) values.push_back(std::move(v));
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
