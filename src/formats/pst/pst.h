// Outlook PST/OST files (MS-PST), read only: the messaging layer (MS-PST 2.4) over ltp.h / ndb.h.
//
//   PstFile f = PstFile::open("mail.pst");          // reads the header, store PC and name map only
//   for (uint32_t child : f.subfolders(f.ipm_subtree())) ...
//   for (uint32_t id : f.messages(folder)) {         // ids come from the contents table
//     Message m = f.read_message(id);                // read on demand; f.names() names its 0x8000+ ids
//   }
//
// The file is read with pread as needed (or from a buffer with from_bytes); nothing but the header,
// the store properties and the name-to-ID map stays in memory, so memory does not grow with the file.
//
// Folders and messages are named by their NIDs (MS-PST 2.2.2.1). Search folders (NID type 0x03)
// are listed with their properties, but their contents are not read (messages() returns nothing
// for them and notes it as a problem). 8-bit strings are decoded with the object's code page and
// typed as PtypString. An embedded message becomes Attachment::embedded; its PtypObject value is
// not kept in the attachment's bag.
//
// Errors: a file that is not a PST, or a layout this reader does not handle (wVer 36: 4K pages,
// used by OST files of Outlook 2013 and later), throws MapiError (MAPI_E_CORRUPT_DATA,
// MAPI_E_NO_SUPPORT). A missing folder or message throws MAPI_E_NOT_FOUND; one whose property
// context cannot be read throws MAPI_E_CORRUPT_DATA. Everything else damaged (pages, blocks,
// single values, recipient or attachment rows) is skipped and listed in problems(); nothing is read
// out of bounds, and B-trees, data trees and subnode trees are bounded against cycles and depth.
// A PstFile is not thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/namedprop.h"
#include "core/propbag.h"
#include "formats/pst/ltp.h"
#include "formats/pst/ndb.h"

namespace openmapi::pst {

// MS-PST 2.4.1 special NIDs
inline constexpr uint32_t NID_MESSAGE_STORE = 0x21;
inline constexpr uint32_t NID_NAME_TO_ID_MAP = 0x61;
inline constexpr uint32_t NID_ROOT_FOLDER = 0x122;
inline constexpr uint32_t NID_ATTACHMENT_TABLE = 0x671;
inline constexpr uint32_t NID_RECIPIENT_TABLE = 0x692;

struct PstInfo {
  bool unicode = true;
  bool ost = false;
  uint16_t version = 0;
  CryptMethod crypt = CryptMethod::None;
  uint64_t file_size = 0;           // ibFileEof from the header
  std::string display_name;         // the store's PidTagDisplayName
  uint32_t password_crc = 0;        // PidTagPstPassword (0x67FF), 0 when none
};

class PstFile {
 public:
  static PstFile open(const std::string& path);
  static PstFile from_bytes(Bytes data);
  PstFile(PstFile&&) noexcept;
  PstFile& operator=(PstFile&&) noexcept;
  ~PstFile();

  const Header& header() const;
  PstInfo info() const;
  const PropertyBag& store_properties() const { return store_; }
  // The file's named-property ids (0x8000 + wPropIdx) -> names (MS-PST 2.4.7).
  const NamedPropertyMap& names() const { return names_; }

  uint32_t root_folder() const { return NID_ROOT_FOLDER; }
  // "Top of Personal Folders": the folder the store's PidTagIpmSubtreeEntryId names; 0 if none.
  uint32_t ipm_subtree() const { return ipm_subtree_; }

  PropertyBag folder_properties(uint32_t folder);
  std::string folder_name(uint32_t folder);
  // Child folder NIDs, in hierarchy table order.
  std::vector<uint32_t> subfolders(uint32_t folder);
  // Message NIDs of the contents table (or the FAI contents table with `associated`).
  std::vector<uint32_t> messages(uint32_t folder, bool associated = false);
  Message read_message(uint32_t message);

  // Damage met so far (reads add to it).
  const std::vector<Problem>& problems() const;

 private:
  explicit PstFile(std::unique_ptr<ByteSource> src);
  void load_store();
  void load_names();
  Message read_message_node(const LtpNode& node, int depth);
  LtpNode sub_node(const LtpNode& parent, uint32_t nid);

  std::unique_ptr<Ndb> ndb_;
  std::unique_ptr<Ltp> ltp_;
  PropertyBag store_;
  NamedPropertyMap names_;
  uint32_t ipm_subtree_ = 0;
};

}  // namespace openmapi::pst
