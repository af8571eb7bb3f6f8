// TNEF (MS-OXTNEF): the Transport-Neutral Encapsulation Format, winmail.dat / application/ms-tnef.
//
// A TNEF stream is a signature (0x223E9F78), a 16-bit key, then attributes: level (1 message,
// 2 attachment), a 32-bit id (attribute type in the high word), a 32-bit length, the data and a
// 16-bit checksum (the sum of the data bytes mod 65536). Legacy attributes (attSubject,
// attDateSent, attAttachData, ...) each carry one or two MAPI properties; attMsgProps,
// attAttachment and attRecipTable carry MAPI property lists with named properties inline.
//
// Named properties. Like read_msg, the reader returns the message with a map that gives its
// named ids (0x8000 and up) their names; ids are handed out in the order names first appear:
//
//   TnefFile f = read_tnef(bytes);                   // f.message uses f.names' ids
//   Bytes out = write_tnef(f.message, f.names);      // and back
//
// so a TNEF message converts to .msg with msg::write_msg(f.message, f.names) and back.
//
// Strings. 8-bit strings (legacy attributes, PtypString8 values) are decoded with the stream's
// attOemCodepage (Windows-1252 when absent) and returned as PtypString / PtypMultipleString, as
// read_msg does. The writer writes every string as PtypString (UTF-16LE).
//
// Legacy attributes and attMsgProps. A property set from a legacy attribute never replaces one
// carried in a property list (attMsgProps, attAttachment): the lists are the richer source.
//
// Attachments. attAttachRendData starts an attachment (PidTagAttachMethod from its type: 1 ->
// afByValue, 2 -> afOle; PidTagRenderingPosition). A PtypObject PidTagAttachDataObject with
// IID_IMessage holds a nested TNEF stream and becomes Attachment::embedded (method 5); any other
// object (IID_IStorage: an OLE docfile) is kept as PtypBinary PidTagAttachDataObject (0x37010102)
// as read_msg keeps it.
//
// Errors: MapiError(MAPI_E_CORRUPT_DATA) for a wrong signature, an attribute or value that runs
// past its bounds, a count larger than the bytes left, a checksum mismatch (unless
// verify_checksums is off), or nesting deeper than max_depth. Trailing bytes that cannot start an
// attribute (fewer than 11 bytes, or a level other than 1 or 2) are ignored and counted in
// TnefFile::trailing_bytes.
#pragma once
#include <cstdint>

#include "core/bytes.h"
#include "core/namedprop.h"
#include "core/propbag.h"

namespace openmapi::tnef {

inline constexpr uint32_t kSignature = 0x223E9F78;

// MS-OXTNEF 2.1.3.2 attribute levels.
inline constexpr uint8_t kLevelMessage = 0x01;
inline constexpr uint8_t kLevelAttachment = 0x02;

// MS-OXTNEF 2.1.3.3 attribute ids (attribute type in the high word, id in the low word).
namespace att {
inline constexpr uint32_t Owner = 0x00060000;
inline constexpr uint32_t SentFor = 0x00060001;
inline constexpr uint32_t Delegate = 0x00060002;
inline constexpr uint32_t OriginalMessageClass = 0x00070006;
inline constexpr uint32_t DateStart = 0x00030006;
inline constexpr uint32_t DateEnd = 0x00030007;
inline constexpr uint32_t AidOwner = 0x00050008;
inline constexpr uint32_t RequestRes = 0x00040009;
inline constexpr uint32_t From = 0x00008000;
inline constexpr uint32_t Subject = 0x00018004;
inline constexpr uint32_t DateSent = 0x00038005;
inline constexpr uint32_t DateRecd = 0x00038006;
inline constexpr uint32_t MessageStatus = 0x00068007;
inline constexpr uint32_t MessageClass = 0x00078008;
inline constexpr uint32_t MessageID = 0x00018009;
inline constexpr uint32_t ParentID = 0x0001800A;
inline constexpr uint32_t ConversationID = 0x0001800B;
inline constexpr uint32_t Body = 0x0002800C;
inline constexpr uint32_t Priority = 0x0004800D;
inline constexpr uint32_t AttachData = 0x0006800F;
inline constexpr uint32_t AttachTitle = 0x00018010;
inline constexpr uint32_t AttachMetaFile = 0x00068011;
inline constexpr uint32_t AttachCreateDate = 0x00038012;
inline constexpr uint32_t AttachModifyDate = 0x00038013;
inline constexpr uint32_t DateModified = 0x00038020;
inline constexpr uint32_t AttachTransportFilename = 0x00069001;
inline constexpr uint32_t AttachRendData = 0x00069002;
inline constexpr uint32_t MsgProps = 0x00069003;
inline constexpr uint32_t RecipTable = 0x00069004;
inline constexpr uint32_t Attachment = 0x00069005;
inline constexpr uint32_t TnefVersion = 0x00089006;
inline constexpr uint32_t OemCodepage = 0x00069007;
}  // namespace att

struct TnefReadOptions {
  bool verify_checksums = true;  // false: a checksum mismatch is accepted (and counted)
  unsigned max_depth = 16;       // nesting of embedded messages
};

struct TnefFile {
  Message message;
  NamedPropertyMap names;            // the message's named ids -> names
  uint16_t key = 0;                  // the legacy attachment key
  uint32_t oem_codepage = 0;         // attOemCodepage primary code page (0: absent)
  size_t trailing_bytes = 0;         // ignored bytes after the last attribute
  size_t checksum_mismatches = 0;    // only non-zero with verify_checksums = false
};

// True if `data` starts with the TNEF signature.
bool is_tnef(ByteView data);

// Reads a TNEF stream.
TnefFile read_tnef(ByteView data, const TnefReadOptions& options = {});
// Reads a TNEF stream, mapping its named properties into `names` (adding what is missing).
Message read_tnef(ByteView data, NamedPropertyMap& names, const TnefReadOptions& options = {});

struct TnefWriteOptions {
  uint16_t key = 0x0001;  // the legacy attachment key (non-zero)
};

// Writes `message` as a TNEF stream: attTnefVersion, attOemCodepage, attMessageClass,
// attSubject, attMsgProps (every property the model can encode, strings as PtypString),
// attRecipTable when there are recipients, and per attachment attAttachRendData, attAttachTitle,
// attAttachData (PtypBinary PidTagAttachDataBinary), attAttachment (the other properties;
// embedded messages as PtypObject IID_IMessage holding a nested TNEF stream; a PtypBinary
// PidTagAttachDataObject as PtypObject IID_IStorage). A named id that has no name in `names`
// cannot be written (TNEF carries names inline) and is left out, as are PtypObject,
// PtypRestriction, PtypUnspecified and PtypNull values of the bags.
Bytes write_tnef(const Message& message, const NamedPropertyMap& names, const TnefWriteOptions& options = {});

// MS-OXCMAIL 2.4.3.4: merges a TNEF attachment (winmail.dat) into the message read from MIME:
// the TNEF message properties are set on `message` (replacing those from MIME headers), its
// recipients replace the MIME recipients when it has any, and its attachments are appended.
// Named properties are mapped into `names`. Throws like read_tnef (the caller may then keep the
// part as an ordinary attachment). Checksums are not verified here: mail gateways rewrite them.
void apply_tnef(Message& message, ByteView data, NamedPropertyMap& names);

// MS-OXTNEF 2.1.3.3.x: "IPM.Microsoft Mail.Note" <-> "IPM.Note" and the other legacy classes.
std::string message_class_from_legacy(std::string_view legacy);
std::string message_class_to_legacy(std::string_view cls);

}  // namespace openmapi::tnef
