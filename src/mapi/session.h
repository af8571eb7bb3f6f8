// The MAPI subsystem around the providers: a Session (MAPILogonEx on a profile) opens each
// message service of the profile as a store provider, gives the message store table, opens
// stores and entries across them (each store's entry IDs carry its provider UID, the mailbox
// GUID), and holds the address book.
//
// Ownership: Session::logon returns a shared_ptr; the Logons it opens live while the Session or
// a caller holds them. logoff() ends every Logon of the session (their objects then fail with
// MAPI_E_END_OF_SESSION). Errors: MAPI_E_NOT_FOUND for a missing store file, the providers' own
// errors, MAPI_E_INVALID_ENTRYID for an entry ID of no store in the session.
// Thread safety: one thread at a time.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "mapi/address_book.h"
#include "mapi/profile.h"
#include "store/objects.h"

namespace openmapi::mapi {

class Session {
 public:
  static std::shared_ptr<Session> logon(const Profile& profile, store::LogonIdentity who);
  // A session of the local user on the profile's files: each store is logged on to as its owner
  // (whoever may open a mailbox file is its owner's agent, as with a PST file). The C ABI's
  // MAPILogonEx.
  static std::shared_ptr<Session> logon_as_owner(const Profile& profile);
  ~Session();

  const Profile& profile() const { return profile_; }
  // The message store table (IMAPISession::GetMsgStoresTable): one row per store with
  // PidTagDisplayName, PidTagRecordKey (the store's GUID), PidTagEntryId (its store entry ID),
  // PidTagDefaultStore and PidTagMdbProvider-like PidTagProviderDisplay ("mailbox" / "pst").
  std::unique_ptr<store::Table> message_store_table();
  size_t store_count() const { return stores_.size(); }
  // OpenMsgStore by index in the table, or by record key (MAPI_E_NOT_FOUND).
  std::shared_ptr<store::Logon> open_msg_store(size_t index);
  std::shared_ptr<store::Logon> open_msg_store(const Bytes& record_key);
  std::shared_ptr<store::Logon> default_store() { return open_msg_store(size_t(0)); }
  // OpenEntry across the session's stores: the store whose GUID the entry ID names.
  store::Logon::Entry open_entry(const Bytes& entry_id, bool write = false);
  // That store: the one whose GUID is a folder or message entry ID's provider UID (bytes 4-19).
  // MAPI_E_INVALID_ENTRYID for an entry ID of no store of the session.
  std::shared_ptr<store::Logon> store_of_entry(const Bytes& entry_id);
  AddressBook& address_book();
  void logoff();

 private:
  Session() = default;
  Profile profile_;
  std::vector<std::shared_ptr<store::Logon>> stores_;
  std::unique_ptr<AddressBook> ab_;
};

}  // namespace openmapi::mapi
