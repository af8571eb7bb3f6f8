// vCard 2.1 / 3.0 / 4.0 <-> contact messages (IPM.Contact), as MS-OXVCARD maps them.
//
// The parser is our own (Debian's libical 3.0 has no vCard support): lines are unfolded
// (CRLF or LF followed by a space or tab), vCard 2.1 quoted-printable soft line breaks are
// joined, parameters may be named (TYPE=work,voice, TYPE="a,b") or bare (2.1: TEL;WORK;VOICE),
// property groups (item1.TEL) are kept, values are unescaped (\n \, \; \\) and decoded
// (QUOTED-PRINTABLE, BASE64 / b, data: URIs; CHARSET other than UTF-8 through iconv).
//
// Named properties (PidLidEmail1EmailAddress, PidNameKeywords, ...) get ids in the caller's
// NamedPropertyMap, created as needed on reading and looked up on writing, as for .msg files.
//
// Mapping (reading; the writer does the reverse):
//   N        -> PidTagSurname; PidTagGivenName; PidTagMiddleName; PidTagDisplayNamePrefix; PidTagGeneration
//   FN       -> PidTagDisplayName (and PidLidFileUnder); NICKNAME -> PidTagNickname
//   ORG      -> PidTagCompanyName; PidTagDepartmentName.  TITLE -> PidTagTitle, ROLE -> PidTagProfession
//   EMAIL    -> PidLidEmail1..3EmailAddress / DisplayName / AddressType ("SMTP"), in order, PREF first
//   TEL      -> by TYPE: work/home (first and second), cell, fax (work/home/other), pager, car, isdn,
//               pref alone -> primary, anything else -> PidTagOtherTelephoneNumber
//   ADR      -> home: PidTagHomeAddress*, work: PidLidWorkAddress*, other: PidTagOtherAddress*
//   BDAY / ANNIVERSARY (X-MS-ANNIVERSARY) -> PidTagBirthday / PidTagWeddingAnniversary (00:00 UTC of the date)
//   NOTE     -> PidTagBody.  URL -> PidTagPersonalHomePage (TYPE=home) or PidTagBusinessHomePage
//   PHOTO    -> an attachment with PidTagAttachmentContactPhoto, plus PidLidHasPicture
//   CATEGORIES -> PidNameKeywords.  X-MS-IMADDRESS / IMPP -> PidLidInstantMessagingAddress,
//   X-MS-MANAGER -> PidTagManagerName, X-MS-ASSISTANT -> PidTagAssistant
// Unknown properties are ignored.
//
// Errors: text with no BEGIN:VCARD, a card without END:VCARD, or a line longer than 1 MiB after
// unfolding: MapiError(MAPI_E_CORRUPT_DATA). Damaged values inside a card (bad base64, a date
// that does not parse) drop that value only.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/namedprop.h"
#include "core/propbag.h"

namespace openmapi::vcard {

// One content line after unfolding and parameter parsing (value still escaped/encoded).
struct VcardProperty {
  std::string group;  // "item1" for "item1.TEL", else empty
  std::string name;   // upper-cased
  // Parameter names upper-cased; bare 2.1 parameters become ("TYPE", {value}); values split on ','.
  std::vector<std::pair<std::string, std::vector<std::string>>> params;
  std::string value;  // raw (escapes kept; quoted-printable soft breaks already joined)

  // Values of parameter `name` (upper case), empty if absent.
  std::vector<std::string> param(std::string_view name) const;
  // Whether TYPE (any case) includes `type`.
  bool has_type(std::string_view type) const;
};

struct VcardCard {
  std::string version;  // "2.1", "3.0", "4.0" (as written; empty if missing)
  std::vector<VcardProperty> properties;
};

// Splits `text` into cards and content lines.
std::vector<VcardCard> parse_vcard_text(std::string_view text);

// Every card in `text` as an IPM.Contact message.
std::vector<Message> read_vcards(std::string_view text, NamedPropertyMap& names);
// The first card (MAPI_E_CORRUPT_DATA if there is none).
Message read_vcard(std::string_view text, NamedPropertyMap& names);
// A parsed card as a contact.
Message card_to_contact(const VcardCard& card, NamedPropertyMap& names);

enum class VcardVersion { V3, V4 };
// One vCard (CRLF line ends, lines folded at 75 octets) for `contact`.
std::string write_vcard(const Message& contact, const NamedPropertyMap& names, VcardVersion version = VcardVersion::V3);

// Helpers exposed for tests: text-value unescaping and compound splitting (on unescaped `sep`).
std::string unescape_text(std::string_view v);
std::vector<std::string> split_escaped(std::string_view v, char sep);

}  // namespace openmapi::vcard
