// The address book provider over Contacts folders and server directories: one container per
// Contacts folder (IPF.Contact) of the session's stores, whose entries are the e-mail addresses
// of the contacts (PidLidEmail1..3EmailAddress with their display names), and one per directory
// (the Global Address List of a server the profile names, read through NSPI by the remote
// provider: mapi/remote.h). ResolveName finds one entry for a name or address; an SMTP address
// nobody knows becomes a one-off entry (MS-OXCDATA 2.2.5.1).
//
// Errors: MAPI_E_NOT_FOUND when nothing matches, MAPI_E_AMBIGUOUS_RECIP when several entries
// match equally well (the candidates are in the message). Thread safety: one thread at a time;
// the containers are read afresh on each call (they follow the folders).
#pragma once
#include <memory>
#include <optional>
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

// A directory of entries that lives elsewhere (a server's Global Address List). Entries carry
// one-off SMTP entry IDs, as the Contacts folders' do. Errors: those of the directory's
// transport (MAPI_E_NETWORK_ERROR, MAPI_E_LOGON_FAILED ...). Thread safety: implementations
// serialise their calls.
class Directory {
 public:
  virtual ~Directory() = default;
  virtual std::string name() = 0;
  virtual Bytes entry_id() = 0;  // the container's entry ID
  // Every entry, in the directory's order (bounded by the implementation).
  virtual std::vector<AddressEntry> entries() = 0;
  // The entry the directory's own ambiguous name resolution finds for `text`; none when it
  // finds none or several.
  virtual std::optional<AddressEntry> resolve(const std::string& text) = 0;
};

class AddressBook {
 public:
  explicit AddressBook(std::vector<std::shared_ptr<store::Logon>> stores, std::vector<std::shared_ptr<Directory>> directories = {})
      : stores_(std::move(stores)), directories_(std::move(directories)) {}

  struct Container {
    std::string name;
    Bytes entry_id;  // the folder's entry ID, or the directory's
    size_t store = 0;
    store::FolderId folder = 0;
    std::shared_ptr<Directory> directory;  // set for a directory's container (store and folder unused)
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
  // of a display name, a word of it, or an address; else what a directory resolves it to; else,
  // for an address, a one-off entry. (Directories are asked for their resolution of the text,
  // not read whole.)
  AddressEntry resolve_name(const std::string& text);

 private:
  std::vector<std::shared_ptr<store::Logon>> stores_;
  std::vector<std::shared_ptr<Directory>> directories_;
};

}  // namespace openmapi::mapi
