#include "server/recipient_row.h"

#include "core/error.h"
#include "core/unicode.h"
#include "server/rops.h"

namespace openmapi::server {

namespace {

namespace rf = recipient_flags;

constexpr PropTag kDisplayType(0x3900, PropType::Integer32);
constexpr PropTag kTransmittableDisplayName(0x3A20, PropType::String);
constexpr PropTag kSendRichInfo(0x3A40, PropType::Boolean);
constexpr PropTag kResponsibility(0x0E0F, PropType::Boolean);
constexpr PropTag kSimpleDisplayName(0x39FF, PropType::String);  // PidTagAddressBookDisplayNamePrintable
constexpr PropTag kRecipientFlags(0x5FFD, PropType::Integer32);
constexpr PropTag kRecipientTrackStatus(0x5FFF, PropType::Integer32);
constexpr PropTag kRecipientEntryId(0x5FF7, PropType::Binary);

// The address types that have a Type value of their own (MS-OXCDATA 2.8.3.1).
struct TypeName {
  uint16_t type;
  const char* name;
};
constexpr TypeName kTypes[] = {{1, "EX"}, {2, "MSMAIL"}, {3, "SMTP"}, {4, "FAX"}, {5, "PROFS"}};

void put_string(BinaryWriter& w, const std::string& s) { w.utf16z(s); }
std::string get_string(BinaryReader& r, bool unicode) { return unicode ? r.utf16z() : r.str8z(); }

}  // namespace

const std::vector<PropTag>& default_recipient_columns() {
  // Not the properties of the standard part (address type, addresses, display names), nor
  // PidTagEntryId / PidTagSearchKey, which Exchange keeps out of recipient columns.
  static const std::vector<PropTag> c = {kRecipientEntryId, tags::PidTagSmtpAddress, tags::PidTagObjectType, kDisplayType,
                                         kRecipientFlags,   kRecipientTrackStatus,   tags::PidTagRecipientDisplayName};
  return c;
}

void write_recipient_row(BinaryWriter& w, const PropertyBag& rcpt, const std::vector<PropTag>& columns) {
  const std::string addrtype = rcpt.get_string(tags::PidTagAddressType).value_or("");
  const auto email = rcpt.get_string(tags::PidTagEmailAddress);
  const auto display = rcpt.get_string(tags::PidTagDisplayName);
  const auto simple = rcpt.get_string(kSimpleDisplayName);
  const auto transmittable = rcpt.get_string(kTransmittableDisplayName);
  uint16_t type = 0;
  for (const auto& t : kTypes)
    if (ascii_lower(addrtype) == ascii_lower(t.name)) type = t.type;
  uint16_t flags = type | rf::U;
  if (type == 0 && !addrtype.empty()) flags |= rf::O;
  // With Type X500DN the DN is the X500DN field; the e-mail address field is for the others.
  if (email && type != 1) flags |= rf::E;
  if (display) flags |= rf::D;
  if (simple) flags |= rf::I;
  if (transmittable && display && *transmittable == *display) flags |= rf::S;
  else if (transmittable) flags |= rf::T;
  if (rcpt.get_bool(kResponsibility).value_or(false)) flags |= rf::R;
  if (!rcpt.get_bool(kSendRichInfo).value_or(true)) flags |= rf::N;

  w.u16(flags);
  if (type == 1) {
    w.u8(0);  // AddressPrefixUsed: the whole DN follows
    w.u8(uint8_t(rcpt.get_i32(kDisplayType).value_or(0)));
    w.str8z(email.value_or(""));  // X500DN
  }
  if (type == 6 || type == 7) {  // personal distribution lists carry their entry id and search key
    for (PropTag t : {tags::PidTagEntryId, tags::PidTagSearchKey}) {
      const PropValue* v = rcpt.find(t);
      const Bytes* b = v ? v->get_if<Bytes>() : nullptr;
      const size_t n = b ? std::min<size_t>(b->size(), 0xFFFF) : 0;
      w.u16(uint16_t(n));
      if (n) w.bytes(ByteView(b->data(), n));
    }
  }
  if (flags & rf::O) w.str8z(addrtype);
  if (flags & rf::E) put_string(w, *email);
  if (flags & rf::D) put_string(w, *display);
  if (flags & rf::I) put_string(w, *simple);
  if (flags & rf::T) put_string(w, *transmittable);
  // RecipientProperties: every column, each value or its MAPI_E_NOT_FOUND.
  w.u16(uint16_t(columns.size()));
  std::vector<PropValue> values;
  values.reserve(columns.size());
  for (PropTag c : columns) {
    const PropValue* v = rcpt.find(c);
    if (v && (v->type() == c.type() || c.type() == PropType::Unspecified)) values.push_back(*v);
    else if (v && c.type() == PropType::String8 && v->type() == PropType::String) values.push_back(PropValue::string(c, *v->get_if<std::string>()));
    else values.push_back(PropValue::error(c.id(), ErrorCode::MAPI_E_NOT_FOUND));
  }
  write_property_row(w, columns, values);
}

PropertyBag read_recipient_row(BinaryReader& r, const std::vector<PropTag>& columns) {
  PropertyBag bag;
  const uint16_t flags = r.u16();
  const uint16_t type = flags & rf::TypeMask;
  const bool unicode = (flags & rf::U) != 0;
  for (const auto& t : kTypes)
    if (t.type == type) bag.set(PropValue::string(tags::PidTagAddressType, t.name));
  if (type == 1) {
    r.u8();  // AddressPrefixUsed (a prefix shared with the logon's DN: the rest is kept as sent)
    bag.set(PropValue::i32(kDisplayType, r.u8()));
    bag.set(PropValue::string(tags::PidTagEmailAddress, r.str8z()));
  }
  if (type == 6 || type == 7) {
    for (PropTag t : {tags::PidTagEntryId, tags::PidTagSearchKey}) {
      const uint16_t n = r.u16();
      bag.set(PropValue::binary(t, r.copy(n)));
    }
  }
  if (type == 0 && (flags & rf::O)) bag.set(PropValue::string(tags::PidTagAddressType, r.str8z()));
  if (flags & rf::E) bag.set(PropValue::string(tags::PidTagEmailAddress, get_string(r, unicode)));
  if (flags & rf::D) bag.set(PropValue::string(tags::PidTagDisplayName, get_string(r, unicode)));
  if (flags & rf::I) bag.set(PropValue::string(kSimpleDisplayName, get_string(r, unicode)));
  if (flags & rf::T) bag.set(PropValue::string(kTransmittableDisplayName, get_string(r, unicode)));
  if ((flags & rf::S) && (flags & rf::D)) bag.set(PropValue::string(kTransmittableDisplayName, *bag.get_string(tags::PidTagDisplayName)));
  bag.set(PropValue::boolean(kResponsibility, (flags & rf::R) != 0));
  bag.set(PropValue::boolean(kSendRichInfo, (flags & rf::N) == 0));
  const uint16_t count = r.u16();
  if (count > columns.size())
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "RecipientColumnCount " + std::to_string(count) + " exceeds the " + std::to_string(columns.size()) + " recipient columns");
  // RecipientProperties: a PropertyRow of the first `count` columns (MS-OXCDATA 2.8.1).
  const uint8_t row_flag = r.u8();
  if (row_flag != 0x00 && row_flag != 0x01) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a PropertyRow flag of " + std::to_string(row_flag));
  for (uint16_t i = 0; i < count; ++i) {
    PropTag tag = columns[i];
    if (row_flag == 0x01) {
      const uint8_t f = r.u8();
      if (f == 0x0A) {  // an error code instead of the value: nothing to set
        r.u32();
        continue;
      }
      if (f != 0x00) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a FlaggedPropertyValue flag of " + std::to_string(f));
    }
    if (tag.type() == PropType::Unspecified) tag = tag.with_type(PropType(r.u16()));  // TypedPropertyValue
    bag.set(read_rop_value(r, tag));
  }
  return bag;
}

}  // namespace openmapi::server
