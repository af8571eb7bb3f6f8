// MS-OXCDATA 2.8.3 RecipientRow: one recipient of a message as RopOpenMessage,
// RopReadRecipients and RopModifyRecipients carry it — RecipientFlags saying which standard
// properties follow (address type, e-mail address, display names, X500 DN, ...), those values,
// then a PropertyRow of the first RecipientColumnCount columns of the ROP's recipient columns.
//
// Bad input: MAPI_E_CORRUPT_DATA for a truncated row or a count larger than the columns given.
// Thread safety: plain functions.
#pragma once
#include <vector>

#include "core/bytes.h"
#include "core/propbag.h"
#include "core/proptag.h"

namespace openmapi::server {

namespace recipient_flags {  // RecipientFlags, as the 16-bit little-endian value reads
inline constexpr uint16_t TypeMask = 0x0007;  // NoType 0, X500DN 1, MsMail 2, SMTP 3, Fax 4, PROFS 5, PDL1 6, PDL2 7
inline constexpr uint16_t E = 0x0008;         // EmailAddress present
inline constexpr uint16_t D = 0x0010;         // DisplayName present
inline constexpr uint16_t T = 0x0020;         // TransmittableDisplayName present
inline constexpr uint16_t S = 0x0040;         // TransmittableDisplayName is DisplayName
inline constexpr uint16_t R = 0x0080;         // PidTagResponsibility
inline constexpr uint16_t N = 0x0100;         // non-rich (PidTagSendRichInfo false)
inline constexpr uint16_t U = 0x0200;         // strings are UTF-16LE (else 8-bit)
inline constexpr uint16_t I = 0x0400;         // SimpleDisplayName present
inline constexpr uint16_t O = 0x8000;         // AddressType present (with Type NoType)
}  // namespace recipient_flags

// The RecipientColumns this server sends with recipient rows (those not in the standard part).
const std::vector<PropTag>& default_recipient_columns();

// Writes `recipient` as a RecipientRow (Unicode strings) with RecipientProperties for `columns`.
void write_recipient_row(BinaryWriter& w, const PropertyBag& recipient, const std::vector<PropTag>& columns);
// Reads one RecipientRow into properties (PidTagAddressType, PidTagEmailAddress,
// PidTagDisplayName, ... and the RecipientProperties, typed by `columns`).
PropertyBag read_recipient_row(BinaryReader& r, const std::vector<PropTag>& columns);

}  // namespace openmapi::server
