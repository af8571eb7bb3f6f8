// The Extended MAPI interfaces of the C ABI over the object model (store/objects.h): IMsgStore,
// IMAPIFolder, IMessage, IAttach, IMAPITable and IStream, each a thin COM-shaped wrapper of one
// store object that translates arguments (capi/convert.h), calls it, and turns its MapiError
// into the HRESULT and the text GetLastError returns. Nothing of MAPI's rules is here.
//
// Ownership: each wrap_* returns a new object with one reference, which the caller releases.
// A wrapper holds its store object (and that object's Logon) alive; after the Logon's logoff
// (IMsgStore::StoreLogoff, IMAPISession::Logoff) its calls fail with MAPI_E_END_OF_SESSION.
// Thread safety: an object is used by one thread at a time, as the store objects are; advise
// sinks are called on the store's notification thread.
#pragma once
#include <memory>
#include <string>

#include "capi/convert.h"
#include "mapiutil.h"
#include "store/objects.h"

namespace openmapi::mapi {
class Session;
}

namespace openmapi::capi {

// The last error of an object, for GetLastError (MAPIERROR with the message of the MapiError).
class LastError {
 public:
  HRESULT set(HRESULT hr, std::string text) {
    hr_ = hr;
    text_ = std::move(text);
    return hr;
  }
  // MAPI_E_INVALID_PARAMETER for a NULL out; *out NULL when `hr` is not the last error.
  HRESULT get(HRESULT hr, ULONG flags, LPMAPIERROR* out) const;

 private:
  HRESULT hr_ = S_OK;
  std::string text_;
};

// Runs `f` (returning an HRESULT), turning what it throws into an HRESULT recorded in `e`.
template <class F>
HRESULT guarded(LastError& e, F&& f) noexcept {
  try {
    return f();
  } catch (const MapiError& x) {
    return e.set(HRESULT(x.code()), x.what());
  } catch (const std::bad_alloc&) {
    return e.set(HRESULT(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY), "out of memory");
  } catch (const std::exception& x) {
    return e.set(HRESULT(ErrorCode::MAPI_E_CALL_FAILED), x.what());
  } catch (...) {
    return e.set(HRESULT(ErrorCode::MAPI_E_CALL_FAILED), "an unknown failure");
  }
}

// The library's own objects answer this private IID with their Own part: how CopyTo, CopyMessages
// and CopyFolder find the store object behind a destination a caller passes as LPVOID. Objects
// of other libraries answer E_NOINTERFACE (MAPI_E_INTERFACE_NOT_SUPPORTED for the call).
extern const IID IID_OpenMapiOwn;
class Own {
 public:
  virtual std::shared_ptr<store::MapiProp> core_prop() = 0;
  virtual std::shared_ptr<store::Folder> core_folder() { return nullptr; }

 protected:
  ~Own() = default;
};
// The store object behind `unknown` (one of ours), or nullptr.
std::shared_ptr<store::MapiProp> own_prop(void* unknown, const IID* iid);
std::shared_ptr<store::Folder> own_folder(void* unknown, const IID* iid);

IMsgStore* wrap_store(std::shared_ptr<store::Logon> logon);
IMAPIFolder* wrap_folder(std::shared_ptr<store::Logon> logon, std::shared_ptr<store::Folder> folder);
IMessage* wrap_message(std::shared_ptr<store::Logon> logon, std::shared_ptr<store::Message> message);
IMAPITable* wrap_table(std::unique_ptr<store::Table> table);
// A table of rows the facade makes itself (receive folders, the outgoing queue, profiles,
// services, address book containers): each row's values, in this order, `columns` to start with.
IMAPITable* wrap_rows(std::vector<std::vector<PropValue>> rows, std::vector<PropTag> columns);
IStream* wrap_stream(std::unique_ptr<store::Stream> stream);
// IAddrBook over the session's address book (capi/address_book.cpp).
IAddrBook* wrap_address_book(std::shared_ptr<mapi::Session> session);
// An address book entry: read-only properties in memory answering IID_IMailUser (prop_data.cpp).
IMailUser* make_mail_user(const std::vector<PropValue>& values);
// An IPropData holding `values` (read-only: HrSetObjAccess(IPROP_READONLY)).
IPropData* make_prop_data(const std::vector<PropValue>& values, bool read_only);
// IMsgServiceAdmin over the services of the profile `profile` (capi/admin.cpp).
IMsgServiceAdmin* wrap_service_admin(const std::string& profile);
// OpenEntry's result: the folder or message of `entry` as the interface `iid` asks (NULL: the
// object's own), with its MAPI_FOLDER / MAPI_MESSAGE type.
HRESULT entry_object(std::shared_ptr<store::Logon> logon, store::Logon::Entry entry, const IID* iid, ULONG* type,
                     LPUNKNOWN* out);
// Opens `entry_id` of `logon` (empty: the root folder) for OpenEntry's flags (MAPI_MODIFY,
// MAPI_BEST_ACCESS: write if the user may, else read).
store::Logon::Entry open_entry(store::Logon& logon, const Bytes& entry_id, ULONG flags);

}  // namespace openmapi::capi
