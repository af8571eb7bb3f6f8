// The address book provider over Contacts folders: one container per Contacts folder
// (IPF.Contact) of the session's stores; its entries are the e-mail addresses of the contacts
// (PidLidEmail1..3EmailAddress with their display names). ResolveName finds one entry for a
// name or address; an SMTP address nobody knows becomes a one-off entry (MS-OXCDATA 2.2.5.1).
// The server's global address list joins here later.
//
// Errors: MAPI_E_NOT_FOUND when nothing matches, MAPI_E_AMBIGUOUS_RECIP when several entries
// match equally well (the candidates are in the message). Thread safety: one thread at a time;
// the containers are read afresh on each call (they follow the folders).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "store/objects.h"

namespace openmapi::mapi {

struct AddressEntry {
  std::string display_name;
  std::string address_type = "SMTP";
  std::string email_address;
  Bytes entry_id;       // a one-off entry ID (address and name travel with it)
  std::string container;  // the Contacts folder it comes from ("" for one-off entries)
  friend bool operator==(const AddressEntry&, const AddressEntry&) = default;
};

class AddressBook {
 public:
  explicit AddressBook(std::vector<std::shared_ptr<store::Logon>> stores) : stores_(std::move(stores)) {}

  struct Container {
    std::string name;
    Bytes entry_id;  // the folder's entry ID
    size_t store = 0;
    store::FolderId folder = 0;
  };
  std::vector<Container> containers();
  std::vector<AddressEntry> entries(const Container& c);
  // The distribution lists of a Contacts folder (IPM.DistList items, MS-OXOCNTC 2.2.2): name, the
  // item's entry ID, and the members PidLidDistributionListOneOffMembers names (one-off entry
  // IDs; a member it cannot read is left out).
  struct DistList {
    std::string name;
    Bytes entry_id;
    std::vector<AddressEntry> members;
  };
  std::vector<DistList> dist_lists(const Container& c);
  // ResolveName: an exact display name or address (case-insensitive) wins; else a unique prefix
  // of a display name, a word of it, or an address; else, for an address, a one-off entry.
  AddressEntry resolve_name(const std::string& text);

 private:
  std::vector<std::shared_ptr<store::Logon>> stores_;
};

}  // namespace openmapi::mapi
