// TNEF reader and writer (MS-OXTNEF). See tnef.h for the contract.
#include "formats/tnef/tnef.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/filetime.h"
#include "core/guid.h"
#include "core/unicode.h"
#include "formats/msg/msg.h"

namespace openmapi::tnef {

namespace {

// MS-OXTNEF 2.1.3.4: IIDs of PtypObject values.
const Guid kIidMessage = Guid::from_string("00020307-0000-0000-C000-000000000046");
const Guid kIidStorage = Guid::from_string("0000000B-0000-0000-C000-000000000046");

// Tags the legacy attributes map to that core/proptag.h does not name.
constexpr PropTag PidTagParentKey{uint16_t(0x0025), PropType::Binary};
constexpr PropTag PidTagConversationKey{uint16_t(0x000B), PropType::Binary};
constexpr PropTag PidTagOriginalMessageClass{uint16_t(0x004B), PropType::String};
constexpr PropTag PidTagReceivedRepresentingEntryId{uint16_t(0x0043), PropType::Binary};
constexpr PropTag PidTagReceivedRepresentingName{uint16_t(0x0044), PropType::String};
constexpr PropTag PidTagReceivedRepresentingAddressType{uint16_t(0x0077), PropType::String};
constexpr PropTag PidTagReceivedRepresentingEmailAddress{uint16_t(0x0078), PropType::String};
constexpr PropTag PidTagSentRepresentingAddressType{uint16_t(0x0064), PropType::String};
constexpr PropTag PidTagStartDate{uint16_t(0x0060), PropType::Time};
constexpr PropTag PidTagEndDate{uint16_t(0x0061), PropType::Time};
constexpr PropTag PidTagOwnerAppointmentId{uint16_t(0x0062), PropType::Integer32};
constexpr PropTag PidTagResponseRequested{uint16_t(0x0063), PropType::Boolean};
constexpr PropTag PidTagAttachRendering{uint16_t(0x3709), PropType::Binary};
constexpr PropTag PidTagAttachTransportName{uint16_t(0x370C), PropType::String};
constexpr PropTag PidTagAttachDataObjectBinary{uint16_t(0x3701), PropType::Binary};
constexpr int32_t kAttachOle = 6;  // ATTACH_OLE (MS-OXCMSG 2.2.2.9 afStorage)

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "TNEF: " + what); }

uint16_t checksum(ByteView data) {
  uint32_t sum = 0;
  for (uint8_t b : data) sum += b;
  return uint16_t(sum & 0xFFFF);
}

size_t pad4(size_t n) { return (4 - n % 4) % 4; }

// 8-bit text up to its first NUL.
ByteView until_nul(ByteView b) {
  auto it = std::find(b.begin(), b.end(), uint8_t(0));
  return b.first(size_t(it - b.begin()));
}

std::string utf16le_text(ByteView b) {
  std::u16string s;
  s.reserve(b.size() / 2);
  for (size_t i = 0; i + 1 < b.size(); i += 2) {
    char16_t c = char16_t(b[i] | b[i + 1] << 8);
    if (c == 0) break;
    s.push_back(c);
  }
  return utf16_to_utf8(s);
}

Bytes utf16le_bytes(std::string_view utf8, bool terminate) {
  Bytes out = utf8_to_utf16le(utf8);
  if (terminate) out.push_back(0), out.push_back(0);
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d, dow;
};
Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  int64_t wd = (z - 719468 + 4) % 7;  // 1970-01-01 was a Thursday (4)
  if (wd < 0) wd += 7;
  return {y + (m <= 2), m, d, unsigned(wd)};
}

// MS-OXTNEF 2.1.3.3.x DTR: year, month, day, hour, minute, second, day of week (UINT16 each).
std::optional<int64_t> dtr_to_filetime(ByteView b) {
  if (b.size() < 12) return std::nullopt;
  BinaryReader r(b);
  unsigned y = r.u16(), mo = r.u16(), d = r.u16(), h = r.u16(), mi = r.u16(), s = r.u16();
  if (y < 1601 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return std::nullopt;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return (secs + kFileTimeEpochOffsetSeconds) * 10'000'000LL;
}

Bytes filetime_to_dtr(int64_t ft) {
  int64_t secs = ft / 10'000'000LL - kFileTimeEpochOffsetSeconds;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  Civil c = civil_from_days(days);
  BinaryWriter w;
  w.u16(uint16_t(c.y));
  w.u16(uint16_t(c.m));
  w.u16(uint16_t(c.d));
  w.u16(uint16_t(rem / 3600));
  w.u16(uint16_t(rem / 60 % 60));
  w.u16(uint16_t(rem % 60));
  w.u16(uint16_t(c.dow));
  return w.take();
}

const std::pair<const char*, const char*> kLegacyClasses[] = {
    {"IPM.Microsoft Mail.Note", "IPM.Note"},
    {"IPM.Microsoft Mail.Read Receipt", "Report.IPM.Note.IPNRN"},
    {"IPM.Microsoft Mail.Non-Delivery", "Report.IPM.Note.NDR"},
    {"IPM.Microsoft Schedule.MtgRespP", "IPM.Schedule.Meeting.Resp.Pos"},
    {"IPM.Microsoft Schedule.MtgRespN", "IPM.Schedule.Meeting.Resp.Neg"},
    {"IPM.Microsoft Schedule.MtgRespA", "IPM.Schedule.Meeting.Resp.Tent"},
    {"IPM.Microsoft Schedule.MtgReq", "IPM.Schedule.Meeting.Request"},
    {"IPM.Microsoft Schedule.MtgCncl", "IPM.Schedule.Meeting.Canceled"},
};

bool has_id(const PropertyBag& bag, uint16_t id) { return bag.find(PropTag(id, PropType::Unspecified)) != nullptr; }

// Sets every value of `legacy` whose id `bag` does not have yet.
void merge_absent(PropertyBag& bag, const PropertyBag& legacy) {
  for (const PropValue& v : legacy.values())
    if (!has_id(bag, v.tag().id())) bag.set(v);
}

// ---- reader -------------------------------------------------------------------------------------

class Reader {
 public:
  Reader(NamedPropertyMap& names, const TnefReadOptions& options, unsigned depth, TnefFile* info)
      : names_(names), options_(options), depth_(depth), info_(info) {}

  Message read(ByteView data) {
    if (depth_ > options_.max_depth) corrupt("embedded messages nested too deeply");
    BinaryReader r(data);
    if (r.remaining() < 6 || r.u32() != kSignature) corrupt("no TNEF signature");
    uint16_t key = r.u16();
    if (info_) info_->key = key;

    Message m;
    PropertyBag legacy;                     // from legacy message attributes
    std::vector<PropertyBag> att_legacy;   // per attachment
    while (!r.at_end()) {
      if (r.remaining() < 11) {
        trailing(r.remaining());
        break;
      }
      const size_t left = r.remaining();
      uint8_t level = r.u8();
      if (level != kLevelMessage && level != kLevelAttachment) {
        trailing(left);
        break;
      }
      uint32_t id = r.u32();
      uint32_t length = r.u32();
      if (length > r.remaining() || r.remaining() - length < 2)
        corrupt("attribute 0x" + hex32(id) + " runs past the end of the stream");
      ByteView body = r.bytes(length);
      uint16_t sum = r.u16();
      if (sum != checksum(body)) {
        if (options_.verify_checksums) corrupt("checksum mismatch in attribute 0x" + hex32(id));
        if (info_) ++info_->checksum_mismatches;
      }
      if (level == kLevelMessage) {
        message_attribute(m, legacy, id, body);
      } else {
        if (id == att::AttachRendData || m.attachments.empty()) {
          m.attachments.emplace_back();
          att_legacy.emplace_back();
        }
        attachment_attribute(m.attachments.back(), att_legacy.back(), id, body);
      }
    }
    merge_absent(m.props, legacy);
    for (size_t i = 0; i < m.attachments.size(); ++i) {
      Attachment& a = m.attachments[i];
      if (a.embedded) {
        att_legacy[i].erase(PidTagAttachDataObjectBinary);
        if (!has_id(a.props, tags::PidTagAttachMethod.id()))
          a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
      }
      merge_absent(a.props, att_legacy[i]);
    }
    return m;
  }

 private:
  static std::string hex32(uint32_t v) {
    static const char* d = "0123456789ABCDEF";
    std::string s(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) s[size_t(i)] = d[v & 0xF];
    return s;
  }

  void trailing(size_t n) {
    if (info_) info_->trailing_bytes = n;
  }

  std::string text8(ByteView b) const { return msg::decode_codepage(until_nul(b), cp_); }

  void message_attribute(Message& m, PropertyBag& legacy, uint32_t id, ByteView body) {
    switch (id) {
      case att::TnefVersion: return;
      case att::OemCodepage:
        if (body.size() >= 4) {
          BinaryReader r(body);
          uint32_t cp = r.u32();
          if (cp != 0) cp_ = cp;
          if (info_ && depth_ == 0) info_->oem_codepage = cp;
        }
        return;
      case att::MessageClass:
        legacy.set(PropValue::string(tags::PidTagMessageClass, message_class_from_legacy(text8(body))));
        return;
      case att::OriginalMessageClass:
        legacy.set(PropValue::string(PidTagOriginalMessageClass, message_class_from_legacy(text8(body))));
        return;
      case att::Subject: legacy.set(PropValue::string(tags::PidTagSubject, text8(body))); return;
      case att::Body: legacy.set(PropValue::string(tags::PidTagBody, text8(body))); return;
      case att::MessageID: hex_key(legacy, tags::PidTagSearchKey, body); return;
      case att::ParentID: hex_key(legacy, PidTagParentKey, body); return;
      case att::ConversationID: hex_key(legacy, PidTagConversationKey, body); return;
      case att::DateSent: date(legacy, tags::PidTagClientSubmitTime, body); return;
      case att::DateRecd: date(legacy, tags::PidTagMessageDeliveryTime, body); return;
      case att::DateModified: date(legacy, tags::PidTagLastModificationTime, body); return;
      case att::DateStart: date(legacy, PidTagStartDate, body); return;
      case att::DateEnd: date(legacy, PidTagEndDate, body); return;
      case att::Priority:
        if (body.size() >= 2) {
          // MS-OXTNEF 2.1.3.3.x attPriority: 1 high, 2 normal, 3 low -> PidTagImportance 2, 1, 0.
          uint16_t p = uint16_t(body[0] | body[1] << 8);
          if (p >= 1 && p <= 3) legacy.set(PropValue::i32(tags::PidTagImportance, int32_t(3 - p)));
        }
        return;
      case att::AidOwner:
        if (body.size() >= 4) legacy.set(PropValue::i32(PidTagOwnerAppointmentId, BinaryReader(body).i32()));
        return;
      case att::RequestRes:
        if (body.size() >= 2) legacy.set(PropValue::boolean(PidTagResponseRequested, (body[0] | body[1]) != 0));
        return;
      case att::Delegate:
        legacy.set(PropValue::binary(PidTagReceivedRepresentingEntryId, Bytes(body.begin(), body.end())));
        return;
      case att::From: from(legacy, body); return;
      case att::SentFor:
        owner(legacy, body, tags::PidTagSentRepresentingName, PidTagSentRepresentingAddressType,
              tags::PidTagSentRepresentingEmailAddress);
        return;
      case att::Owner: {
        // MS-OXTNEF 2.1.3.3.16: meeting responses carry the received-representing owner.
        std::string cls = legacy.get_string(tags::PidTagMessageClass).value_or("");
        if (cls.starts_with("IPM.Schedule.Meeting.Resp"))
          owner(legacy, body, PidTagReceivedRepresentingName, PidTagReceivedRepresentingAddressType,
                PidTagReceivedRepresentingEmailAddress);
        else
          owner(legacy, body, tags::PidTagSentRepresentingName, PidTagSentRepresentingAddressType,
                tags::PidTagSentRepresentingEmailAddress);
        return;
      }
      case att::MsgProps: {
        BinaryReader r(body);
        read_prop_list(r, m.props, nullptr);
        return;
      }
      case att::RecipTable: {
        BinaryReader r(body);
        uint32_t rows = r.u32();
        r.need_elements(rows, 4);
        for (uint32_t i = 0; i < rows; ++i) {
          PropertyBag row;
          read_prop_list(r, row, nullptr);
          m.recipients.push_back(std::move(row));
        }
        return;
      }
      default: return;  // attMessageStatus and unknown attributes: nothing to map
    }
  }

  void attachment_attribute(Attachment& a, PropertyBag& legacy, uint32_t id, ByteView body) {
    switch (id) {
      case att::AttachRendData: {
        // MS-OXTNEF 2.1.3.3.x RENDDATA: AttachType, AttachPosition, RenderWidth, RenderHeight, DataFlags.
        if (body.size() < 6) corrupt("attAttachRendData too short");
        BinaryReader r(body);
        uint16_t type = r.u16();
        int32_t position = r.i32();
        legacy.set(PropValue::i32(tags::PidTagAttachMethod, type == 2 ? kAttachOle : attach_method::ByValue));
        legacy.set(PropValue::i32(tags::PidTagRenderingPosition, position));
        return;
      }
      case att::AttachData:
        legacy.set(PropValue::binary(tags::PidTagAttachDataBinary, Bytes(body.begin(), body.end())));
        return;
      case att::AttachTitle: legacy.set(PropValue::string(tags::PidTagAttachFilename, text8(body))); return;
      case att::AttachMetaFile:
        legacy.set(PropValue::binary(PidTagAttachRendering, Bytes(body.begin(), body.end())));
        return;
      case att::AttachCreateDate: date(legacy, tags::PidTagCreationTime, body); return;
      case att::AttachModifyDate: date(legacy, tags::PidTagLastModificationTime, body); return;
      case att::AttachTransportFilename:
        legacy.set(PropValue::string(PidTagAttachTransportName, text8(body)));
        return;
      case att::Attachment: {
        BinaryReader r(body);
        read_prop_list(r, a.props, &a);
        return;
      }
      default: return;
    }
  }

  void date(PropertyBag& bag, PropTag tag, ByteView body) {
    if (auto ft = dtr_to_filetime(body)) bag.set(PropValue::time(tag, *ft));
  }

  void hex_key(PropertyBag& bag, PropTag tag, ByteView body) {
    ByteView t = until_nul(body);
    try {
      bag.set(PropValue::binary(tag, from_hex(std::string_view(reinterpret_cast<const char*>(t.data()), t.size()))));
    } catch (const MapiError&) {
      // Not hex: the attribute carries nothing we can map.
    }
  }

  // MS-OXTNEF 2.1.3.3.x attFrom: a one-off TRP (trpid, cbgrtrp, cch, cb), the display name
  // (cch bytes) and the address "TYPE:address" (cb bytes).
  void from(PropertyBag& bag, ByteView body) {
    BinaryReader r(body);
    r.u16();
    r.u16();
    uint16_t cch = r.u16();
    uint16_t cb = r.u16();
    std::string name = text8(r.bytes(cch));
    std::string address = text8(r.bytes(cb));
    bag.set(PropValue::string(tags::PidTagSenderName, name));
    set_address(bag, address, tags::PidTagSenderAddressType, tags::PidTagSenderEmailAddress);
  }

  // MS-OXTNEF 2.1.3.3.16 attOwner / attSentFor: counted display name, counted "TYPE:address".
  void owner(PropertyBag& bag, ByteView body, PropTag name_tag, PropTag type_tag, PropTag address_tag) {
    BinaryReader r(body);
    uint16_t n = r.u16();
    std::string name = text8(r.bytes(n));
    uint16_t a = r.u16();
    std::string address = text8(r.bytes(a));
    bag.set(PropValue::string(name_tag, name));
    set_address(bag, address, type_tag, address_tag);
  }

  static void set_address(PropertyBag& bag, const std::string& address, PropTag type_tag, PropTag address_tag) {
    if (address.empty()) return;
    size_t colon = address.find(':');
    if (colon == std::string::npos) {
      bag.set(PropValue::string(address_tag, address));
    } else {
      bag.set(PropValue::string(type_tag, address.substr(0, colon)));
      bag.set(PropValue::string(address_tag, address.substr(colon + 1)));
    }
  }

  // ---- MS-OXTNEF 2.1.3.4 property lists

  void read_prop_list(BinaryReader& r, PropertyBag& bag, Attachment* attachment) {
    uint32_t count = r.u32();
    r.need_elements(count, 8);  // a tag and at least 4 bytes of value each
    for (uint32_t i = 0; i < count; ++i) read_prop(r, bag, attachment);
  }

  PropertyName read_name(BinaryReader& r) {
    PropertyName n;
    ByteView g = r.bytes(16);
    std::copy(g.begin(), g.end(), n.set.bytes.begin());
    uint32_t kind = r.u32();
    if (kind == 0) {
      n.kind = NameKind::Id;
      n.lid = r.u32();
    } else if (kind == 1) {
      n.kind = NameKind::String;
      uint32_t size = r.u32();
      ByteView text = r.bytes(size);
      r.skip(std::min(pad4(size), r.remaining()));
      n.name = utf16le_text(text);
      if (n.name.empty()) corrupt("a named property with an empty name");
    } else {
      corrupt("unknown named property kind " + std::to_string(kind));
    }
    return n;
  }

  // A counted variable-size value: size, data, padding to 4 bytes.
  static ByteView var_value(BinaryReader& r) {
    uint32_t size = r.u32();
    ByteView data = r.bytes(size);
    r.skip(std::min(pad4(size), r.remaining()));
    return data;
  }

  void read_prop(BinaryReader& r, PropertyBag& bag, Attachment* attachment) {
    PropTag tag(r.u32());
    const PropType type = tag.type();
    uint16_t id = tag.id();
    if (!is_known_type(type) || (uint16_t(type) & kMultiValueInstanceFlag))
      corrupt("property " + tag.hex() + " has an unknown type");
    if (id >= NamedPropertyMap::kFirstId) id = names_.get_or_create(read_name(r), true);
    const PropType base = base_type(type);
    const bool mv = is_multi_valued(type);

    switch (base) {
      case PropType::String8:
      case PropType::String:
      case PropType::Binary:
      case PropType::ServerId:
      case PropType::RuleAction:
      case PropType::Restriction:
      case PropType::Object: {
        uint32_t count = r.u32();
        r.need_elements(count, 4);
        if (!mv) {
          if (count == 0) return;  // no value
          std::optional<PropValue> first;
          for (uint32_t i = 0; i < count; ++i) {
            ByteView data = var_value(r);
            if (i == 0) first = single_var(base, id, data, attachment);
          }
          if (first) bag.set(std::move(*first));
          return;
        }
        if (base == PropType::String8 || base == PropType::String) {
          std::vector<std::string> values;
          for (uint32_t i = 0; i < count; ++i) {
            ByteView data = var_value(r);
            values.push_back(base == PropType::String ? utf16le_text(data) : text8(data));
          }
          bag.set(PropValue(PropTag(id, PropType::MultipleString), std::move(values)));
        } else {
          std::vector<Bytes> values;
          for (uint32_t i = 0; i < count; ++i) {
            ByteView data = var_value(r);
            values.emplace_back(data.begin(), data.end());
          }
          bag.set(PropValue(PropTag(id, PropType::MultipleBinary), std::move(values)));
        }
        return;
      }
      default: break;
    }

    if (base == PropType::Null || base == PropType::Unspecified) return;  // no value bytes
    const PropTag out(id, type);
    if (!mv) {
      bag.set(PropValue(out, fixed_value(r, base)));
      return;
    }
    uint32_t count = r.u32();
    r.need_elements(count, 4);
    auto collect = [&]<class T>(std::vector<T> values) {
      for (uint32_t i = 0; i < count; ++i) values.push_back(std::get<T>(fixed_value(r, base)));
      bag.set(PropValue(out, std::move(values)));
    };
    switch (base) {
      case PropType::Integer16: collect(std::vector<int16_t>{}); break;
      case PropType::Integer32: collect(std::vector<int32_t>{}); break;
      case PropType::Floating32: collect(std::vector<float>{}); break;
      case PropType::Floating64:
      case PropType::FloatingTime: collect(std::vector<double>{}); break;
      case PropType::Currency:
      case PropType::Integer64:
      case PropType::Time: collect(std::vector<int64_t>{}); break;
      case PropType::Guid: collect(std::vector<Guid>{}); break;
      default: corrupt("property " + tag.hex() + " has an unsupported multi-valued type");
    }
  }

  // MS-OXTNEF 2.1.3.4: fixed-size values are padded to a multiple of 4 bytes.
  static ValueStorage fixed_value(BinaryReader& r, PropType base) {
    switch (base) {
      case PropType::Integer16: {
        int16_t v = r.i16();
        r.skip(2);
        return v;
      }
      case PropType::Boolean: {
        uint16_t v = r.u16();
        r.skip(2);
        return v != 0;
      }
      case PropType::Integer32:
      case PropType::ErrorCode: return r.i32();
      case PropType::Floating32: return r.f32();
      case PropType::Floating64:
      case PropType::FloatingTime: return r.f64();
      case PropType::Currency:
      case PropType::Integer64:
      case PropType::Time: return r.i64();
      case PropType::Guid: {
        Guid g;
        ByteView b = r.bytes(16);
        std::copy(b.begin(), b.end(), g.bytes.begin());
        return g;
      }
      default: corrupt("unsupported property type " + type_name(base));
    }
  }

  std::optional<PropValue> single_var(PropType base, uint16_t id, ByteView data, Attachment* attachment) {
    switch (base) {
      case PropType::String8: return PropValue::string(PropTag(id, PropType::String), text8(data));
      case PropType::String: return PropValue::string(PropTag(id, PropType::String), utf16le_text(data));
      case PropType::Binary:
      case PropType::ServerId:
      case PropType::RuleAction: return PropValue(PropTag(id, base), Bytes(data.begin(), data.end()));
      case PropType::Restriction: return std::nullopt;  // not kept (see FORMATS.md)
      case PropType::Object: {
        if (data.size() < 16) corrupt("PtypObject value shorter than its IID");
        Guid iid;
        std::copy(data.begin(), data.begin() + 16, iid.bytes.begin());
        ByteView payload = data.subspan(16);
        if (iid == kIidMessage && attachment && id == tags::PidTagAttachDataObject.id()) {
          Reader nested(names_, options_, depth_ + 1, nullptr);
          nested.cp_ = cp_;
          attachment->embedded = std::make_unique<Message>(nested.read(payload));
          return std::nullopt;
        }
        return PropValue::binary(PropTag(id, PropType::Binary), Bytes(payload.begin(), payload.end()));
      }
      default: return std::nullopt;
    }
  }

  NamedPropertyMap& names_;
  const TnefReadOptions& options_;
  unsigned depth_;
  TnefFile* info_;
  uint32_t cp_ = 1252;
};

// ---- writer -------------------------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(const NamedPropertyMap& names) : names_(names) {}

  Bytes write(const Message& m, uint16_t key) {
    BinaryWriter w;
    w.u32(kSignature);
    w.u16(key);
    {
      BinaryWriter v;
      v.u32(0x00010000);
      attribute(w, kLevelMessage, att::TnefVersion, v.data());
    }
    // Legacy 8-bit strings: Windows-1252 when they are all ASCII, else UTF-8 (65001).
    const uint32_t cp = legacy_ascii(m) ? 1252 : 65001;
    {
      BinaryWriter v;
      v.u32(cp);
      v.u32(0);
      attribute(w, kLevelMessage, att::OemCodepage, v.data());
    }
    if (auto cls = m.props.get_string(tags::PidTagMessageClass))
      attribute(w, kLevelMessage, att::MessageClass, text8(message_class_to_legacy(*cls)));
    if (auto subject = m.props.get_string(tags::PidTagSubject))
      attribute(w, kLevelMessage, att::Subject, text8(*subject));
    if (auto t = m.props.get_i64(tags::PidTagClientSubmitTime))
      attribute(w, kLevelMessage, att::DateSent, filetime_to_dtr(*t));
    if (auto t = m.props.get_i64(tags::PidTagMessageDeliveryTime))
      attribute(w, kLevelMessage, att::DateRecd, filetime_to_dtr(*t));
    if (auto t = m.props.get_i64(tags::PidTagLastModificationTime))
      attribute(w, kLevelMessage, att::DateModified, filetime_to_dtr(*t));
    {
      BinaryWriter v;
      prop_list(v, m.props.values(), nullptr);
      attribute(w, kLevelMessage, att::MsgProps, v.data());
    }
    if (!m.recipients.empty()) {
      BinaryWriter v;
      v.u32(uint32_t(m.recipients.size()));
      for (const PropertyBag& row : m.recipients) prop_list(v, row.values(), nullptr);
      attribute(w, kLevelMessage, att::RecipTable, v.data());
    }
    for (const Attachment& a : m.attachments) attachment(w, a);
    return w.take();
  }

 private:
  static bool ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return uint8_t(c) < 0x80; });
  }
  static bool legacy_ascii(const Message& m) {
    for (PropTag t : {tags::PidTagMessageClass, tags::PidTagSubject})
      if (auto s = m.props.get_string(t); s && !ascii(*s)) return false;
    for (const Attachment& a : m.attachments)
      if (auto s = a.props.get_string(tags::PidTagAttachFilename); s && !ascii(*s)) return false;
    return true;
  }
  static Bytes text8(std::string_view s) {
    Bytes b(s.begin(), s.end());
    b.push_back(0);
    return b;
  }

  static void attribute(BinaryWriter& w, uint8_t level, uint32_t id, ByteView data) {
    if (data.size() > UINT32_MAX) throw_error(ErrorCode::MAPI_E_TOO_BIG, "TNEF: attribute larger than 4 GiB");
    w.u8(level);
    w.u32(id);
    w.u32(uint32_t(data.size()));
    w.bytes(data);
    w.u16(checksum(data));
  }

  void attachment(BinaryWriter& w, const Attachment& a) {
    const int32_t method = a.props.get_i32(tags::PidTagAttachMethod).value_or(attach_method::ByValue);
    {
      BinaryWriter v;
      v.u16(method == kAttachOle ? 2 : 1);
      v.i32(a.props.get_i32(tags::PidTagRenderingPosition).value_or(-1));
      v.u16(0);
      v.u16(0);
      v.u32(0);
      attribute(w, kLevelAttachment, att::AttachRendData, v.data());
    }
    // attAttachTitle maps to PidTagAttachFilename only (MS-OXTNEF 2.1.3.3.x): written from it alone,
    // so that reading it back adds nothing.
    if (auto t = a.props.get_string(tags::PidTagAttachFilename)) attribute(w, kLevelAttachment, att::AttachTitle, text8(*t));
    const PropValue* data = a.props.find(tags::PidTagAttachDataBinary);
    const bool data_as_attribute = data && !a.embedded && method != kAttachOle;
    if (data_as_attribute) attribute(w, kLevelAttachment, att::AttachData, data->get<Bytes>());
    BinaryWriter v;
    std::vector<const PropValue*> values;
    for (const PropValue& p : a.props.values()) {
      if (p.tag().id() == tags::PidTagAttachDataBinary.id() && (data_as_attribute || a.embedded)) continue;
      values.push_back(&p);
    }
    prop_list(v, values, &a, method == kAttachOle);
    attribute(w, kLevelAttachment, att::Attachment, v.data());
  }

  static bool encodable(const PropValue& p) {
    switch (base_type(p.type())) {
      case PropType::Object:
      case PropType::Restriction:
      case PropType::Unspecified:
      case PropType::Null: return false;
      default: return is_known_type(p.type());
    }
  }

  void prop_list(BinaryWriter& w, const std::vector<PropValue>& values, const Attachment* a) {
    std::vector<const PropValue*> ptrs;
    for (const PropValue& p : values) ptrs.push_back(&p);
    prop_list(w, ptrs, a, false);
  }

  // `ole`: the attachment's PtypBinary PidTagAttachDataObject is an OLE storage (afStorage).
  void prop_list(BinaryWriter& w, const std::vector<const PropValue*>& values, const Attachment* a, bool ole) {
    std::vector<const PropValue*> out;
    for (const PropValue* p : values) {
      if (!encodable(*p)) continue;
      if (p->tag().is_named() && !names_.find(p->tag().id())) continue;  // no name to write
      out.push_back(p);
    }
    const bool embedded = a && a->embedded;
    w.u32(uint32_t(out.size() + (embedded ? 1 : 0)));
    for (const PropValue* p : out) prop(w, *p, ole);
    if (embedded) {
      Bytes nested = Writer(names_).write(*a->embedded, 0x0001);
      w.u32(tags::PidTagAttachDataObject.value);
      w.u32(1);
      w.u32(uint32_t(16 + nested.size()));
      w.bytes(kIidMessage.bytes);
      w.bytes(nested);
      for (size_t i = 0; i < pad4(16 + nested.size()); ++i) w.u8(0);
    }
  }

  static void var(BinaryWriter& w, ByteView data) {
    w.u32(uint32_t(data.size()));
    w.bytes(data);
    for (size_t i = 0; i < pad4(data.size()); ++i) w.u8(0);
  }

  void prop(BinaryWriter& w, const PropValue& p, bool ole) {
    PropType type = p.type();
    const PropType base = base_type(type);
    const bool mv = is_multi_valued(type);
    if (base == PropType::String8) type = mv ? PropType::MultipleString : PropType::String;
    // An OLE storage kept as binary goes back out as a PtypObject with IID_IStorage.
    const bool storage = ole && p.tag() == PidTagAttachDataObjectBinary;
    if (storage) type = PropType::Object;
    w.u32(PropTag(p.tag().id(), type).value);
    if (p.tag().is_named()) {
      const PropertyName* n = names_.find(p.tag().id());
      w.bytes(n->set.bytes);
      if (n->kind == NameKind::Id) {
        w.u32(0);
        w.u32(n->lid);
      } else {
        w.u32(1);
        var(w, utf16le_bytes(n->name, true));
      }
    }
    if (storage) {
      const Bytes& b = p.get<Bytes>();
      Bytes payload(kIidStorage.bytes.begin(), kIidStorage.bytes.end());
      payload.insert(payload.end(), b.begin(), b.end());
      w.u32(1);
      var(w, payload);
      return;
    }
    switch (base) {
      case PropType::String8:
      case PropType::String:
        if (mv) {
          const auto& v = p.get<std::vector<std::string>>();
          w.u32(uint32_t(v.size()));
          for (const auto& s : v) var(w, utf16le_bytes(s, true));
        } else {
          w.u32(1);
          var(w, utf16le_bytes(p.get<std::string>(), true));
        }
        return;
      case PropType::Binary:
      case PropType::ServerId:
      case PropType::RuleAction:
        if (mv) {
          const auto& v = p.get<std::vector<Bytes>>();
          w.u32(uint32_t(v.size()));
          for (const auto& b : v) var(w, b);
        } else {
          w.u32(1);
          var(w, p.get<Bytes>());
        }
        return;
      default: break;
    }
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<int16_t>> || std::is_same_v<T, std::vector<int32_t>> ||
                        std::is_same_v<T, std::vector<float>> || std::is_same_v<T, std::vector<double>> ||
                        std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<Guid>>) {
            w.u32(uint32_t(v.size()));
            for (const auto& x : v) fixed(w, x);
          } else if constexpr (std::is_same_v<T, int16_t> || std::is_same_v<T, int32_t> || std::is_same_v<T, float> ||
                               std::is_same_v<T, double> || std::is_same_v<T, int64_t> || std::is_same_v<T, bool> ||
                               std::is_same_v<T, Guid>) {
            fixed(w, v);
          } else {
            throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "TNEF: cannot write " + p.tag().hex());
          }
        },
        p.storage());
  }

  static void fixed(BinaryWriter& w, int16_t v) { w.i16(v), w.u16(0); }
  static void fixed(BinaryWriter& w, bool v) { w.u32(v ? 1 : 0); }
  static void fixed(BinaryWriter& w, int32_t v) { w.i32(v); }
  static void fixed(BinaryWriter& w, float v) { w.f32(v); }
  static void fixed(BinaryWriter& w, double v) { w.f64(v); }
  static void fixed(BinaryWriter& w, int64_t v) { w.i64(v); }
  static void fixed(BinaryWriter& w, const Guid& v) { w.bytes(v.bytes); }

  const NamedPropertyMap& names_;
};

}  // namespace

std::string message_class_from_legacy(std::string_view legacy) {
  for (const auto& [old, cls] : kLegacyClasses)
    if (legacy == old) return cls;
  return std::string(legacy);
}

std::string message_class_to_legacy(std::string_view cls) {
  for (const auto& [old, c] : kLegacyClasses)
    if (cls == c) return old;
  return std::string(cls);
}

bool is_tnef(ByteView data) {
  if (data.size() < 4) return false;
  BinaryReader r(data);
  return r.u32() == kSignature;
}

TnefFile read_tnef(ByteView data, const TnefReadOptions& options) {
  TnefFile f;
  f.message = Reader(f.names, options, 0, &f).read(data);
  return f;
}

Message read_tnef(ByteView data, NamedPropertyMap& names, const TnefReadOptions& options) {
  return Reader(names, options, 0, nullptr).read(data);
}

Bytes write_tnef(const Message& message, const NamedPropertyMap& names, const TnefWriteOptions& options) {
  if (options.key == 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "TNEF: the key must not be 0");
  return Writer(names).write(message, options.key);
}

void apply_tnef(Message& message, ByteView data, NamedPropertyMap& names) {
  TnefReadOptions options;
  options.verify_checksums = false;
  Message t = read_tnef(data, names, options);
  for (const PropValue& v : t.props.values()) message.props.set(v);
  if (!t.recipients.empty()) message.recipients = std::move(t.recipients);
  for (Attachment& a : t.attachments) message.attachments.push_back(std::move(a));
}

}  // namespace openmapi::tnef
