// Entry IDs and object ids (MS-OXCDATA 2.2): FID/MID, long-term ids, folder, message and
// store entry IDs, one-off recipient entry IDs. Parse throws MAPI_E_INVALID_ENTRYID.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/guid.h"

namespace openmapi {

// A 48-bit global counter (MS-OXCDATA 2.2.1.1: 6 bytes, big-endian on the wire in ids and XIDs).
using GlobalCounter = uint64_t;
inline constexpr GlobalCounter kMaxGlobalCounter = 0xFFFFFFFFFFFFull;

// Folder / message id (MS-OXCDATA 2.2.1.1, 2.2.1.2): replica id (16 bits) + global counter (48 bits).
// As a uint64: bytes 0-1 are the REPLID (little-endian), bytes 2-7 the GC (big-endian).
struct ObjectId {
  uint16_t replid = 0;
  GlobalCounter gc = 0;
  uint64_t to_u64() const;
  static ObjectId from_u64(uint64_t v);
  friend bool operator==(const ObjectId&, const ObjectId&) = default;
};

// MS-OXCDATA 2.2.1.3.1 LongTermID: database GUID + GC + 2 bytes pad (24 bytes).
struct LongTermId {
  Guid database;
  GlobalCounter gc = 0;
  Bytes serialize() const;
  static LongTermId parse(ByteView data);
  friend bool operator==(const LongTermId&, const LongTermId&) = default;
};

// MS-OXCDATA 2.2.4.1 folder entry ID types / 2.2.4.2 message entry ID types.
enum class FolderEntryType : uint16_t { PrivateFolder = 0x0001, PublicFolder = 0x0003, MappedPublicFolder = 0x0005,
                                        PrivateMessage = 0x0007, PublicMessage = 0x0009, MappedPublicMessage = 0x000B,
                                        PublicNewsgroupFolder = 0x000C };

// MS-OXCDATA 2.2.4.1 Folder EntryID (46 bytes).
struct FolderEntryId {
  uint32_t flags = 0;
  Guid provider_uid;   // the store's mailbox GUID
  FolderEntryType type = FolderEntryType::PrivateFolder;
  Guid database;       // the replica's database GUID
  GlobalCounter gc = 0;
  Bytes serialize() const;
  static FolderEntryId parse(ByteView data);
  friend bool operator==(const FolderEntryId&, const FolderEntryId&) = default;
};

// MS-OXCDATA 2.2.4.2 Message EntryID (70 bytes).
struct MessageEntryId {
  uint32_t flags = 0;
  Guid provider_uid;
  FolderEntryType type = FolderEntryType::PrivateMessage;
  Guid folder_database;
  GlobalCounter folder_gc = 0;
  Guid message_database;
  GlobalCounter message_gc = 0;
  Bytes serialize() const;
  static MessageEntryId parse(ByteView data);
  friend bool operator==(const MessageEntryId&, const MessageEntryId&) = default;
};

// MS-OXCDATA 2.2.4.3 Message Store EntryID (wraps the "emsmdb.dll" store provider).
struct StoreEntryId {
  uint32_t flags = 0;
  uint8_t version = 0;
  uint8_t flag = 0;
  std::string dll_name = "EMSMDB.DLL";  // MS-OXCDATA 2.2.4.3 gives the bytes of "EMSMDB.DLL" (14-byte field)
  uint32_t wrapped_flags = 0;
  Guid wrapped_provider_uid;   // MS-OXCDATA: private store {20FA551B-66AA-CD11-9BC8-00AA002FC45A}
  uint32_t wrapped_type = 0x0000000C;  // 0x0C private mailbox, 0x06 public
  std::string server_short_name;
  std::string mailbox_dn;      // present for mailbox stores
  Bytes serialize() const;
  static StoreEntryId parse(ByteView data);
  friend bool operator==(const StoreEntryId&, const StoreEntryId&) = default;
};

// MS-OXCDATA 2.2.5.1 One-Off EntryID (a recipient not in any address book).
struct OneOffEntryId {
  std::string display_name;
  std::string address_type = "SMTP";
  std::string email_address;
  bool unicode = true;         // MAPI_UNICODE
  bool no_rich_info = false;   // MAPI_ONE_OFF_NO_RICH_INFO (0x0001 in the high half of Flags)
  uint16_t other_flags = 0;    // the remaining bits of that 16-bit word (MAE, Format, ...), kept as found
  Bytes serialize() const;
  static OneOffEntryId parse(ByteView data);
  friend bool operator==(const OneOffEntryId&, const OneOffEntryId&) = default;
};

// PidTagSearchKey of an address (MS-OXCPRPT 2.2.1.9, MS-OXOABK): "TYPE:ADDRESS" in upper case,
// NUL-terminated ("SMTP:ALICE@EXAMPLE.COM").
Bytes address_search_key(std::string_view type, std::string_view address);

// MS-OXCDATA 2.2.5.2 Address Book EntryID (X500 DN).
struct AddressBookEntryId {
  uint32_t flags = 0;
  uint32_t type = 0;  // MS-OXCDATA 2.2.5.2 Type: 0 local mail user, 1 distribution list, ...
  std::string x500_dn;
  Bytes serialize() const;
  static AddressBookEntryId parse(ByteView data);
  friend bool operator==(const AddressBookEntryId&, const AddressBookEntryId&) = default;
};

// Provider UIDs that MS-OXCDATA 2.2.4.3, 2.2.5.1 and 2.2.5.2 fix for these entry IDs.
extern const Guid kStoreWrapProviderUid;     // Store Object EntryID ProviderUID (MAPI's wrapped-store UID)
extern const Guid kMailboxStoreProviderUid;  // its WrappedProviderUID for a mailbox store
extern const Guid kPublicStoreProviderUid;   // its WrappedProviderUID for a public folder store
extern const Guid kOneOffProviderUid;        // {a41f2b81-a3be-1910-9d6e-00dd010f5402}
extern const Guid kAddressBookProviderUid;   // {c840a7dc-42c0-1a10-b4b9-08002b2fe182}

// What kind of entry ID `data` looks like, by its provider UID and size.
enum class EntryIdKind { Folder, Message, Store, OneOff, AddressBook, Unknown };
EntryIdKind classify_entry_id(ByteView data);

// MS-OXCFXICS 2.2.2.2 XID (GUID + variable-length GC) and 2.2.2.3 PredecessorChangeList.
struct Xid {
  Guid namespace_guid;
  Bytes local_id;  // 1..8 bytes; 6 for change numbers / ids
  Bytes serialize() const;
  static Xid parse(ByteView data);
  friend bool operator==(const Xid&, const Xid&) = default;
};
Xid make_xid(const Guid& g, GlobalCounter gc);  // 6-byte big-endian GC
// A PCL: SizedXid entries (1-byte size + XID). Parse throws MAPI_E_CORRUPT_DATA.
std::vector<Xid> parse_pcl(ByteView data);
Bytes serialize_pcl(const std::vector<Xid>& pcl);
// Adds `change` to `pcl`, replacing an entry with the same namespace GUID if `change` is newer.
void pcl_merge(std::vector<Xid>& pcl, const Xid& change);

}  // namespace openmapi
