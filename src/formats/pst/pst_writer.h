// Writing Unicode PST files (MS-PST, wVer 23) from the core model, or 4K-page OST files (wVer 36).
//
//   PstWriter w("out.pst");                                   // creates/truncates the file
//   FolderId inbox = w.add_folder(w.ipm_subtree(), "Inbox", "IPF.Note");
//   w.add_message(inbox, message, names);                     // written to the file at once
//   w.finish();                                               // tables, B-trees, AMaps, header
//
// Streaming: each message (its property context, recipient and attachment tables, attachments,
// embedded messages and large values) is written to the file when it is added; only a summary row
// per message (for the folder's contents table), the node and block B-tree entries and the
// allocation map stay in memory until finish(). Folder PCs and their tables are written by finish().
//
// The file holds the MS-PST 2.7.1 mandatory nodes: the message store, the name-to-ID map, the
// root folder, "Top of Personal Folders" (the IPM subtree), "Search Root", "Deleted Items", the
// search management queue / activity list / domain object (empty) and the table templates.
// Named properties of each message are mapped from the caller's NamedPropertyMap into the file's
// own map (NID 0x61, with its hash buckets); a value whose named id `names` does not name is left
// out. PtypString8 values are written as PtypString.
//
// Every allocation map MS-PST asks for is written at its interval (AMaps, PMaps, FMaps, FPMaps), so
// files may pass 2 GB. Objects whose type has no PST form (PtypObject values other than embedded
// messages, restrictions) are left out.
//
// Errors: an unwritable path throws MAPI_E_NO_ACCESS; an unknown folder MAPI_E_NOT_FOUND; any
// call after finish() MAPI_E_CALL_FAILED. If finish() is never called the file is not a valid PST.
// A PstWriter is not thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/namedprop.h"
#include "core/propbag.h"
#include "formats/pst/ndb.h"

namespace openmapi::pst {

using FolderId = uint32_t;  // the folder's NID

struct PstWriterOptions {
  CryptMethod crypt = CryptMethod::Permute;  // None or Permute (Cyclic is refused)
  std::string display_name = "Personal Folders";
  // The 4K-page layout of Outlook 2013+ OST files (wVer 36, client "SO"), external blocks deflated
  // where that is shorter; needs crypt None. Meant for exercising OST readers (ours and the
  // peers'): Outlook opens an OST only as the cache of its own Exchange account.
  bool four_k = false;
};

class PstWriter {
 public:
  explicit PstWriter(const std::string& path, PstWriterOptions options = {});
  ~PstWriter();
  PstWriter(const PstWriter&) = delete;
  PstWriter& operator=(const PstWriter&) = delete;

  FolderId root_folder() const;    // NID_ROOT_FOLDER (0x122)
  FolderId ipm_subtree() const;    // "Top of Personal Folders"
  FolderId deleted_items() const;  // "Deleted Items" (under the IPM subtree)

  // A new normal folder under `parent`; `container_class` is PidTagContainerClass (omitted when
  // empty).
  FolderId add_folder(FolderId parent, const std::string& name, const std::string& container_class = "IPF.Note");
  // Writes `message` (whose named ids are those of `names`) into `folder`'s contents table, or its
  // FAI contents table with `associated`. Returns the message's NID.
  uint32_t add_message(FolderId folder, const Message& message, const NamedPropertyMap& names,
                       bool associated = false);
  // Writes the folders, the name-to-ID map, the B-trees, the allocation maps and the header.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace openmapi::pst
