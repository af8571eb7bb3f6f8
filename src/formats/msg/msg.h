// Outlook .msg files (MS-OXMSG): a Message stored in an MS-CFB compound file.
//
// Named properties. A .msg file maps its own named-property ids (0x8000 and up) to names in
// the "__nameid_version1.0" storage; Message tags are store-relative, so the reader returns
// the message together with the map that gives its named ids their names:
//
//   MsgFile f = read_msg(bytes);                 // f.message uses f.names' ids
//   Bytes out = write_msg(f.message, f.names);   // and back
//
// To bring the message into a store's id space, rewrite its named tags through both maps
// with `remap_named_properties`.
//
// Strings. 8-bit strings (PtypString8, PtypMultipleString8) are decoded with the message's
// code page (PidTagMessageCodepage, else PidTagInternetCodepage, else Windows-1252) and
// returned as PtypString / PtypMultipleString: inside, every string is UTF-8 and typed as
// Unicode, so a message read from an ANSI file writes back as a Unicode .msg. The writer
// writes PtypString8 values as PtypString for the same reason.
//
// Attachments. An embedded message (PidTagAttachDataObject as the "__substg1.0_3701000D"
// storage) becomes Attachment::embedded; the PtypObject value itself is not kept in the bag.
// An OLE storage attachment (PidTagAttachMethod = afStorage, 6) is kept as a PtypBinary
// PidTagAttachDataObject (0x37010102) holding that storage written as a standalone compound
// file; the writer turns such a value back into a storage.
//
// Errors: input that is not a compound file, or a .msg whose structure or value streams are
// damaged (truncated streams, sizes past the file, missing required streams), throws
// MapiError(MAPI_E_CORRUPT_DATA). Nothing is read out of bounds.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/bytes.h"
#include "core/namedprop.h"
#include "core/propbag.h"
#include "formats/cfb/compound_file.h"

namespace openmapi::msg {

struct MsgFile {
  Message message;
  NamedPropertyMap names;  // the file's named-property ids -> names
};

// Reads a .msg file.
MsgFile read_msg(ByteView data);
// Reads a .msg from an already parsed compound file tree.
MsgFile read_msg(const cfb::Storage& root);

// Writes `message` as a Unicode .msg (compound file version 3) with `names` as its named
// property mapping. If `names` is dense from 0x8000 (as read_msg returns it) its ids are the
// file's ids, and named ids without a name (real files have some) are written unchanged. Else
// the file's ids are renumbered densely in id order and tags rewritten; then every named id the
// message, its recipients, attachments and embedded messages use must be in `names`
// (MAPI_E_INVALID_PARAMETER otherwise).
Bytes write_msg(const Message& message, const NamedPropertyMap& names);
cfb::Storage write_msg_tree(const Message& message, const NamedPropertyMap& names);

// Rewrites every named tag of `message` (recipients, attachments and embedded messages too)
// from the ids of `from` to those of `to`, adding names to `to` when `create` is set.
// A named id not in `from`, or a name not in `to` without `create`, is MAPI_E_NOT_FOUND.
Message remap_named_properties(const Message& message, const NamedPropertyMap& from, NamedPropertyMap& to,
                               bool create);

// --- the pieces, for tests and tools ---------------------------------------------------------

// MS-OXMSG 2.4.1: the property stream header differs by object.
enum class ObjectKind { TopLevel, Embedded, RecipientOrAttachment };
size_t header_size(ObjectKind kind);  // 32, 24, 8

struct PropertyStreamHeader {
  uint32_t next_recipient_id = 0;
  uint32_t next_attachment_id = 0;
  uint32_t recipient_count = 0;
  uint32_t attachment_count = 0;
};

// Reads the "__properties_version1.0" stream of `storage` and the value streams it refers to.
// 8-bit strings are decoded with the bag's PidTagMessageCodepage, else its PidTagInternetCodepage,
// else `codepage` (0: Windows-1252), and typed as Unicode.
PropertyBag read_properties(const cfb::Storage& storage, ObjectKind kind, uint32_t codepage = 0,
                            PropertyStreamHeader* header = nullptr);

// Writes `values` (in the given order) as a property stream plus value streams into `storage`.
// PtypObject, PtypRestriction, PtypUnspecified and PtypNull values are skipped.
void write_properties(cfb::Storage& storage, std::span<const PropValue> values, ObjectKind kind,
                      const PropertyStreamHeader& header);

// "__substg1.0_0037001F"
std::string value_stream_name(uint32_t tag);

// 8-bit text in Windows code page `codepage` as UTF-8 (iconv). Unknown code pages and invalid
// sequences fall back to Windows-1252 / Latin-1 byte by byte, so this never fails.
std::string decode_codepage(ByteView bytes, uint32_t codepage);

// MS-OXMSG 2.2.3.2.2: the stream id of a named property's hash bucket: 0x1000 + (id XOR
// (guid_index << 1 | kind)) mod 0x1F, with id the LID or the CRC-32 of the UTF-16LE name.
uint32_t name_crc32(std::string_view name);

}  // namespace openmapi::msg
