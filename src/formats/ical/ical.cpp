// iCalendar <-> appointments (MS-OXCICAL) through libical.
#include "formats/ical/ical.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "core/catalog.h"
#include "core/error.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "formats/ical/recurrence.h"

namespace openmapi::ical {

namespace {

constexpr size_t kMaxInput = 64u << 20;
constexpr int kMaxExpand = 5000;  // occurrences examined when computing a series' end

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "iCalendar: " + what); }

// --- tags ---------------------------------------------------------------------------------

PropTag ptag(std::string_view canonical) { return catalog_tag(canonical); }
PropTag ntag(NamedPropertyMap& names, std::string_view canonical) { return catalog_named_tag(names, canonical); }
std::optional<PropTag> ntag_find(const NamedPropertyMap& names, std::string_view canonical) {
  return catalog_named_tag(names, canonical);
}

// --- libical helpers ----------------------------------------------------------------------

struct CompFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using CompPtr = std::unique_ptr<icalcomponent, CompFree>;

std::string take_string(char* s) {
  std::string r = s ? s : "";
  icalmemory_free_buffer(s);
  return r;
}

std::string valid_utf8(const char* s) {
  if (!s) return {};
  std::string v(s);
  if (is_valid_utf8(v)) return v;
  std::string out;
  for (unsigned char c : v) {
    if (c < 0x80) out += char(c);
    else out += "\xEF\xBF\xBD";
  }
  return out;
}

// The zone of a DATE-TIME property: its TZID looked up in the calendar, then among libical's
// built-in zones; UTC for "Z"; nullptr for floating times and dates.
const icaltimezone* prop_zone(icalcomponent* cal, icalproperty* p, const icaltimetype& t) {
  if (icaltime_is_utc(t)) return icaltimezone_get_utc_timezone();
  if (t.zone) return t.zone;
  icalparameter* tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
  if (!tzp) return nullptr;
  const char* tzid = icalparameter_get_tzid(tzp);
  if (!tzid || !*tzid) return nullptr;
  if (cal)
    if (icaltimezone* z = icalcomponent_get_timezone(cal, tzid)) return z;
  return icaltimezone_get_builtin_timezone(tzid);
}

struct Time {
  icaltimetype t = icaltime_null_time();  // as written (local to `zone`)
  const icaltimezone* zone = nullptr;     // nullptr: floating or date, taken as UTC
  bool valid() const { return !icaltime_is_null_time(t) && icaltime_is_valid_time(t); }
  int64_t filetime() const {
    icaltimetype u = t;
    u.zone = nullptr;
    time_t s = icaltime_as_timet_with_zone(u, zone ? zone : icaltimezone_get_utc_timezone());
    // Clamped to FILETIME's range from 1601 to year 30828.
    int64_t secs = std::clamp<int64_t>(int64_t(s) + kFileTimeEpochOffsetSeconds, 0, 910692730085LL);
    return secs * 10'000'000LL;
  }
  // Local minutes since 1601 in `target` (nullptr: UTC).
  uint32_t local_minutes(const icaltimezone* target) const {
    icaltimetype u = t;
    if (!u.is_date && zone != target) {
      u.zone = zone ? zone : icaltimezone_get_utc_timezone();
      u = icaltime_convert_to_zone(u, const_cast<icaltimezone*>(target ? target : icaltimezone_get_utc_timezone()));
    }
    int64_t days = recur::days_from_civil(u.year, unsigned(u.month), unsigned(u.day));
    int64_t m = days * 1440 + (u.is_date ? 0 : u.hour * 60 + u.minute);
    return m < 0 ? 0 : m > 0xFFFFFFFFLL ? 0xFFFFFFFFu : uint32_t(m);
  }
};

Time prop_time(icalcomponent* cal, icalproperty* p, icaltimetype t) {
  Time r;
  r.t = t;
  if (!t.is_date) r.zone = prop_zone(cal, p, t);
  return r;
}

Time get_dtstart(icalcomponent* cal, icalcomponent* ev) {
  icalproperty* p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
  if (!p) return {};
  return prop_time(cal, p, icalproperty_get_dtstart(p));
}

Time get_dtend(icalcomponent* cal, icalcomponent* ev, const Time& start) {
  if (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY)) {
    Time e = prop_time(cal, p, icalproperty_get_dtend(p));
    if (e.valid()) return e;
  }
  Time e = start;
  if (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY)) {
    icaldurationtype d = icalproperty_get_duration(p);
    e.t = icaltime_add(start.t, d);
    return e;
  }
  if (start.t.is_date) icaltime_adjust(&e.t, 1, 0, 0, 0);  // RFC 5545 3.6.1: a date lasts one day
  return e;
}

std::string strip_mailto(const char* v) {
  std::string s = valid_utf8(v);
  if (s.size() >= 7 && strncasecmp(s.c_str(), "mailto:", 7) == 0) s = s.substr(7);
  return s;
}

std::string param_cn(icalproperty* p) {
  icalparameter* cn = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
  return cn ? valid_utf8(icalparameter_get_cn(cn)) : std::string();
}

icalproperty* x_property(icalcomponent* ev, const char* name) {
  for (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_X_PROPERTY); p;
       p = icalcomponent_get_next_property(ev, ICAL_X_PROPERTY)) {
    const char* n = icalproperty_get_x_name(p);
    if (n && strcasecmp(n, name) == 0) return p;
  }
  return nullptr;
}

std::string x_prop(icalcomponent* ev, const char* name) {
  icalproperty* p = x_property(ev, name);
  return p ? valid_utf8(icalproperty_get_value_as_string(p)) : std::string();
}

int32_t busy_status(icalcomponent* ev) {
  std::string b = x_prop(ev, "X-MICROSOFT-CDO-BUSYSTATUS");
  for (auto& c : b) c = char(toupper(static_cast<unsigned char>(c)));
  if (b == "FREE") return 0;
  if (b == "TENTATIVE") return 1;
  if (b == "BUSY") return 2;
  if (b == "OOF") return 3;
  if (b == "WORKINGELSEWHERE") return 4;
  if (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_TRANSP_PROPERTY))
    if (icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT) return 0;
  return 2;
}

}  // namespace

// --- GlobalObjectId (MS-OXOCAL 2.2.1.27, MS-OXCICAL 2.1.3.1.1.20.26) -------------------------

namespace {
const uint8_t kGoidArrayId[16] = {0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00,
                                  0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08};
const char kVcalUid[] = "vCal-Uid";

std::optional<Bytes> hex_goid(std::string_view uid) {
  if (uid.size() < 2 * 40 || uid.size() % 2) return std::nullopt;
  Bytes b;
  try {
    b = from_hex(uid);
  } catch (const MapiError&) {
    return std::nullopt;
  }
  if (!std::equal(kGoidArrayId, kGoidArrayId + 16, b.begin())) return std::nullopt;
  BinaryReader r(b);
  r.skip(36);
  uint32_t size = r.u32();
  if (size != r.remaining()) return std::nullopt;
  return b;
}
}  // namespace

Bytes global_object_id_from_uid(std::string_view uid, int year, int month, int day) {
  Bytes g;
  if (auto h = hex_goid(uid)) {
    g = *h;
  } else {
    BinaryWriter w;
    w.bytes(ByteView(kGoidArrayId, 16));
    w.u32(0);  // YH YL M D, set below
    w.u64(0);  // CreationTime
    w.u64(0);  // X
    w.u32(uint32_t(12 + uid.size() + 1));
    w.bytes(ByteView(reinterpret_cast<const uint8_t*>(kVcalUid), 8));
    w.u32(1);
    w.bytes(ByteView(reinterpret_cast<const uint8_t*>(uid.data()), uid.size()));
    w.u8(0);
    g = w.take();
  }
  g[16] = uint8_t(year >> 8);
  g[17] = uint8_t(year);
  g[18] = uint8_t(month);
  g[19] = uint8_t(day);
  return g;
}

std::string uid_from_global_object_id(ByteView goid) {
  BinaryReader r(goid);
  r.need(40);
  r.skip(36);
  uint32_t size = r.u32();
  ByteView data = r.bytes(size);
  if (size >= 12 && std::memcmp(data.data(), kVcalUid, 8) == 0) {
    ByteView u = data.subspan(12);
    std::string s(reinterpret_cast<const char*>(u.data()), u.size());
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
  }
  Bytes clean(goid.begin(), goid.end());
  clean[16] = clean[17] = clean[18] = clean[19] = 0;
  std::string h = to_hex(clean);
  for (auto& c : h) c = char(toupper(static_cast<unsigned char>(c)));
  return h;
}

// --- time zone structures -----------------------------------------------------------------

namespace {
void write_systemtime(BinaryWriter& w, const SystemTime& s) {
  for (uint16_t v : {s.year, s.month, s.day_of_week, s.day, s.hour, s.minute, s.second, s.milliseconds}) w.u16(v);
}
SystemTime read_systemtime(BinaryReader& r) {
  SystemTime s;
  s.year = r.u16(), s.month = r.u16(), s.day_of_week = r.u16(), s.day = r.u16();
  s.hour = r.u16(), s.minute = r.u16(), s.second = r.u16(), s.milliseconds = r.u16();
  return s;
}
}  // namespace

Bytes write_timezone_struct(const TimeZoneStruct& tz) {
  BinaryWriter w;
  w.i32(tz.bias);
  w.i32(tz.standard_bias);
  w.i32(tz.daylight_bias);
  w.u16(tz.standard_year);
  write_systemtime(w, tz.standard_date);
  w.u16(tz.daylight_year);
  write_systemtime(w, tz.daylight_date);
  return w.take();
}

TimeZoneStruct read_timezone_struct(ByteView data) {
  if (data.size() != 48) corrupt("PidLidTimeZoneStruct is not 48 bytes");
  BinaryReader r(data);
  TimeZoneStruct tz;
  tz.bias = r.i32();
  tz.standard_bias = r.i32();
  tz.daylight_bias = r.i32();
  tz.standard_year = r.u16();
  tz.standard_date = read_systemtime(r);
  tz.daylight_year = r.u16();
  tz.daylight_date = read_systemtime(r);
  return tz;
}

Bytes write_timezone_definition(const TimeZoneStruct& tz, std::string_view name, uint16_t year) {
  std::u16string key = utf8_to_utf16(name);
  if (key.size() > 0xFFFF / 2 - 8) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "time zone name too long");
  BinaryWriter w;
  w.u8(0x02);  // bMajorVersion
  w.u8(0x01);  // bMinorVersion
  w.u16(uint16_t(6 + 2 * key.size()));  // cbHeader: wReserved, cchKeyName, KeyName, cRules
  w.u16(0x0002);
  w.u16(uint16_t(key.size()));
  for (char16_t c : key) w.u16(uint16_t(c));
  w.u16(1);  // cRules
  // TZRULE (MS-OXOCAL 2.2.1.41.1)
  w.u8(0x02);
  w.u8(0x01);
  w.u16(0x003E);
  w.u16(0x0003);  // TZRULE_FLAG_EFFECTIVE_TZREG | TZRULE_FLAG_RECUR_CURRENT_TZREG
  w.u16(year);
  for (int i = 0; i < 14; ++i) w.u8(0);
  w.i32(tz.bias);
  w.i32(tz.standard_bias);
  w.i32(tz.daylight_bias);
  write_systemtime(w, tz.standard_date);
  write_systemtime(w, tz.daylight_date);
  return w.take();
}

TimeZoneStruct read_timezone_definition(ByteView data, std::string* name) {
  BinaryReader r(data);
  r.u8();
  r.u8();
  uint16_t cb = r.u16();
  BinaryReader h(r.bytes(cb));
  h.u16();
  uint16_t n = h.u16();
  ByteView kb = h.bytes(size_t(n) * 2);
  if (name) {
    std::u16string k(n, u'\0');
    for (size_t i = 0; i < n; ++i) k[i] = char16_t(kb[2 * i] | kb[2 * i + 1] << 8);
    try {
      *name = utf16_to_utf8(k);
    } catch (const MapiError&) {
      corrupt("invalid UTF-16 time zone name");
    }
  }
  uint16_t rules = h.u16();
  if (rules == 0) corrupt("TZDEFINITION without rules");
  TimeZoneStruct chosen;
  bool found = false;
  for (uint16_t i = 0; i < rules; ++i) {
    r.u8();
    r.u8();
    r.u16();
    uint16_t flags = r.u16();
    uint16_t year = r.u16();
    r.skip(14);
    TimeZoneStruct tz;
    tz.bias = r.i32();
    tz.standard_bias = r.i32();
    tz.daylight_bias = r.i32();
    tz.standard_date = read_systemtime(r);
    tz.daylight_date = read_systemtime(r);
    tz.standard_year = tz.daylight_year = year;
    if (!found) chosen = tz;
    if (flags & 0x0002) {
      chosen = tz;
      found = true;
    }
  }
  return chosen;
}

namespace {

// The STANDARD and DAYLIGHT rules of a VTIMEZONE in force at `at` (wall-clock time) as a
// TimeZoneStruct: for each kind the observance with the latest DTSTART not after `at` (else the
// earliest). Without yearly rules on both, the single observance in force gives a fixed bias.
std::optional<TimeZoneStruct> tz_from_vtimezone(icalcomponent* vtz, icaltimetype at) {
  if (!vtz) return std::nullopt;
  struct Obs {
    icaltimetype start = icaltime_null_time();
    int offset_to = 0, offset_from = 0;
    std::optional<icalrecurrencetype> rule;
  };
  at.zone = nullptr;
  at.is_date = 0;
  std::optional<Obs> std_obs, dst_obs, in_force;
  auto better = [&](const std::optional<Obs>& cur, const Obs& o) {
    if (!cur) return true;
    bool o_before = icaltime_compare(o.start, at) <= 0, c_before = icaltime_compare(cur->start, at) <= 0;
    if (o_before != c_before) return o_before;
    return o_before ? icaltime_compare(cur->start, o.start) < 0 : icaltime_compare(o.start, cur->start) < 0;
  };
  for (icalcomponent* c = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); c;
       c = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind k = icalcomponent_isa(c);
    if (k != ICAL_XSTANDARD_COMPONENT && k != ICAL_XDAYLIGHT_COMPONENT) continue;
    Obs o;
    icalproperty* p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
    if (p) o.start = icalproperty_get_dtstart(p);
    o.start.zone = nullptr;
    if ((p = icalcomponent_get_first_property(c, ICAL_TZOFFSETTO_PROPERTY))) o.offset_to = icalproperty_get_tzoffsetto(p);
    if ((p = icalcomponent_get_first_property(c, ICAL_TZOFFSETFROM_PROPERTY)))
      o.offset_from = icalproperty_get_tzoffsetfrom(p);
    if ((p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY))) {
      icalrecurrencetype r = icalproperty_get_rrule(p);
      icaltimetype u = r.until;
      u.zone = nullptr;
      if (icaltime_is_null_time(r.until) || icaltime_compare(u, at) >= 0) o.rule = r;
    }
    auto& slot = k == ICAL_XSTANDARD_COMPONENT ? std_obs : dst_obs;
    if (better(slot, o)) slot = o;
    if (better(in_force, o)) in_force = o;
  }
  if (!std_obs && !dst_obs) return std::nullopt;
  TimeZoneStruct tz;
  auto to_sys = [](const Obs& o) {
    SystemTime s;
    if (!o.rule) return s;  // a one-off change: no yearly rule
    const icalrecurrencetype& r = *o.rule;
    s.month = r.by_month[0] != ICAL_RECURRENCE_ARRAY_MAX ? uint16_t(r.by_month[0]) : uint16_t(o.start.month);
    if (r.by_day[0] != ICAL_RECURRENCE_ARRAY_MAX) {
      s.day_of_week = uint16_t(icalrecurrencetype_day_day_of_week(r.by_day[0]) - 1);
      int pos = icalrecurrencetype_day_position(r.by_day[0]);
      if (pos == 0 && r.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX) pos = (r.by_month_day[0] + 6) / 7;  // BYMONTHDAY=8..14 + BYDAY=SU
      s.day = uint16_t(pos < 0 || pos > 4 ? 5 : pos == 0 ? 1 : pos);
    } else {
      s.day = 1;
    }
    s.hour = uint16_t(o.start.hour);
    s.minute = uint16_t(o.start.minute);
    return s;
  };
  if (std_obs && dst_obs && std_obs->rule && dst_obs->rule) {
    tz.bias = -std_obs->offset_to / 60;
    tz.daylight_bias = -(dst_obs->offset_to - std_obs->offset_to) / 60;
    tz.standard_date = to_sys(*std_obs);
    tz.daylight_date = to_sys(*dst_obs);
  } else {
    tz.bias = -in_force->offset_to / 60;
  }
  return tz;
}

// --- VEVENT -> message ----------------------------------------------------------------------

struct Reader {
  NamedPropertyMap& names;
  icalcomponent* cal = nullptr;
  std::string method;

  PropTag n(std::string_view canonical) { return ntag(names, canonical); }

  void set_times(Message& m, const Time& start, const Time& end) {
    int64_t s = start.filetime(), e = end.filetime();
    if (e < s) e = s;
    m.props.set(PropValue::time(n("PidLidAppointmentStartWhole"), s));
    m.props.set(PropValue::time(n("PidLidAppointmentEndWhole"), e));
    m.props.set(PropValue::time(ptag("PidTagStartDate"), s));
    m.props.set(PropValue::time(ptag("PidTagEndDate"), e));
    int64_t minutes = (e - s) / 600'000'000LL;
    m.props.set(PropValue::i32(n("PidLidAppointmentDuration"), int32_t(std::min<int64_t>(minutes, INT32_MAX))));
    m.props.set(PropValue::boolean(n("PidLidAppointmentSubType"), start.t.is_date != 0));
  }

  void set_sent_representing(Message& m, const std::string& cn, const std::string& addr) {
    if (!cn.empty()) m.props.set(PropValue::string(tags::PidTagSentRepresentingName, cn));
    if (!addr.empty()) {
      m.props.set(PropValue::string(tags::PidTagSentRepresentingEmailAddress, addr));
      m.props.set(PropValue::string(PropTag(0x0064, PropType::String), "SMTP"));  // PidTagSentRepresentingAddressType
    }
  }

  // Every ORGANIZER and ATTENDEE goes into the recipient table (MS-OXCICAL 2.1.3.1.1.20.2). The
  // organizer is who a request or cancellation is sent for; a response is sent for its attendee.
  void add_recipients(Message& m, icalcomponent* ev, bool response) {
    if (icalproperty* o = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY)) {
      std::string addr = strip_mailto(icalproperty_get_organizer(o));
      std::string cn = param_cn(o);
      if (cn.empty()) cn = addr;
      if (!response) set_sent_representing(m, cn, addr);
      PropertyBag r;
      r.set(PropValue::string(tags::PidTagDisplayName, cn));
      r.set(PropValue::string(tags::PidTagEmailAddress, addr));
      r.set(PropValue::string(tags::PidTagSmtpAddress, addr));
      r.set(PropValue::string(tags::PidTagAddressType, "SMTP"));
      r.set(PropValue::i32(tags::PidTagRecipientType, recipient_type::To));
      r.set(PropValue::i32(ptag("PidTagRecipientFlags"), 0x3));  // recipSendable | recipOrganizer
      r.set(PropValue::i32(ptag("PidTagRecipientTrackStatus"), 0));
      m.recipients.push_back(std::move(r));
    }
    for (icalproperty* a = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); a;
         a = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
      std::string addr = strip_mailto(icalproperty_get_attendee(a));
      std::string cn = param_cn(a);
      if (cn.empty()) cn = addr;
      int32_t type = recipient_type::To;
      if (icalparameter* p = icalproperty_get_first_parameter(a, ICAL_ROLE_PARAMETER)) {
        icalparameter_role role = icalparameter_get_role(p);
        if (role == ICAL_ROLE_OPTPARTICIPANT || role == ICAL_ROLE_NONPARTICIPANT) type = recipient_type::Cc;
      }
      if (icalparameter* p = icalproperty_get_first_parameter(a, ICAL_CUTYPE_PARAMETER)) {
        icalparameter_cutype cu = icalparameter_get_cutype(p);
        if (cu == ICAL_CUTYPE_RESOURCE || cu == ICAL_CUTYPE_ROOM) type = recipient_type::Bcc;
      }
      if (response) set_sent_representing(m, cn, addr);
      int32_t track = 0;  // respNone
      if (icalparameter* p = icalproperty_get_first_parameter(a, ICAL_PARTSTAT_PARAMETER)) {
        switch (icalparameter_get_partstat(p)) {
          case ICAL_PARTSTAT_ACCEPTED: track = 3; break;
          case ICAL_PARTSTAT_TENTATIVE: track = 2; break;
          case ICAL_PARTSTAT_DECLINED: track = 4; break;
          case ICAL_PARTSTAT_NEEDSACTION: track = 5; break;  // respNotResponded
          default: break;
        }
      }
      PropertyBag r;
      r.set(PropValue::string(tags::PidTagDisplayName, cn));
      r.set(PropValue::string(tags::PidTagEmailAddress, addr));
      r.set(PropValue::string(tags::PidTagSmtpAddress, addr));
      r.set(PropValue::string(tags::PidTagAddressType, "SMTP"));
      r.set(PropValue::i32(tags::PidTagRecipientType, type));
      r.set(PropValue::i32(ptag("PidTagRecipientFlags"), 0x1));
      r.set(PropValue::i32(ptag("PidTagRecipientTrackStatus"), track));
      m.recipients.push_back(std::move(r));
    }
  }

  void add_reminder(Message& m, icalcomponent* ev, int64_t start_ft) {
    for (icalcomponent* al = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT); al;
         al = icalcomponent_get_next_component(ev, ICAL_VALARM_COMPONENT)) {
      icalproperty* tp = icalcomponent_get_first_property(al, ICAL_TRIGGER_PROPERTY);
      if (!tp) continue;
      icaltriggertype tr = icalproperty_get_trigger(tp);
      int64_t delta_minutes;
      if (!icaltime_is_null_time(tr.time)) {
        Time t = prop_time(cal, tp, tr.time);
        delta_minutes = (start_ft - t.filetime()) / 600'000'000LL;
      } else {
        delta_minutes = -int64_t(icaldurationtype_as_int(tr.duration)) / 60;
      }
      if (delta_minutes < 0) delta_minutes = 0;
      if (delta_minutes > INT32_MAX) delta_minutes = INT32_MAX;
      m.props.set(PropValue::boolean(n("PidLidReminderSet"), true));
      m.props.set(PropValue::i32(n("PidLidReminderDelta"), int32_t(delta_minutes)));
      m.props.set(PropValue::time(n("PidLidReminderSignalTime"), start_ft - delta_minutes * 600'000'000LL));
      return;
    }
    m.props.set(PropValue::boolean(n("PidLidReminderSet"), false));
  }

  void set_uid(Message& m, const std::string& uid, int y, int mo, int d) {
    if (uid.empty()) return;
    m.props.set(PropValue::binary(n("PidLidGlobalObjectId"), global_object_id_from_uid(uid, y, mo, d)));
    m.props.set(PropValue::binary(n("PidLidCleanGlobalObjectId"), global_object_id_from_uid(uid)));
  }

  // MS-OXCICAL 2.1.3.1.1.1: METHOD (with, for REPLY and COUNTER, the PARTSTAT of the one ATTENDEE)
  // gives the message class; a COUNTER is a tentative response with PidLidAppointmentCounterProposal.
  // A REPLY or COUNTER without exactly one ATTENDEE, or with a PARTSTAT the table has no row for,
  // stays an appointment.
  std::string message_class(icalcomponent* ev, bool& counter) {
    counter = false;
    if (method == "REQUEST") return "IPM.Schedule.Meeting.Request";
    if (method == "CANCEL") return "IPM.Schedule.Meeting.Canceled";
    if (method != "REPLY" && method != "COUNTER") return "IPM.Appointment";
    if (icalcomponent_count_properties(ev, ICAL_ATTENDEE_PROPERTY) != 1) return "IPM.Appointment";
    icalproperty* a = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
    icalparameter* ps = icalproperty_get_first_parameter(a, ICAL_PARTSTAT_PARAMETER);
    icalparameter_partstat p = ps ? icalparameter_get_partstat(ps) : ICAL_PARTSTAT_NONE;
    if (method == "COUNTER") {
      if (p != ICAL_PARTSTAT_TENTATIVE) return "IPM.Appointment";
      counter = true;
      return "IPM.Schedule.Meeting.Resp.Tent";
    }
    if (p == ICAL_PARTSTAT_ACCEPTED) return "IPM.Schedule.Meeting.Resp.Pos";
    if (p == ICAL_PARTSTAT_TENTATIVE) return "IPM.Schedule.Meeting.Resp.Tent";
    if (p == ICAL_PARTSTAT_DECLINED) return "IPM.Schedule.Meeting.Resp.Neg";
    return "IPM.Appointment";
  }

  Message basic(icalcomponent* ev, const Time& start, const Time& end) {
    Message m;
    bool counter = false;
    std::string cls = message_class(ev, counter);
    const bool response = cls.rfind("IPM.Schedule.Meeting.Resp.", 0) == 0;
    m.props.set(PropValue::string(tags::PidTagMessageClass, cls));
    if (const char* s = icalcomponent_get_summary(ev)) m.props.set(PropValue::string(tags::PidTagSubject, valid_utf8(s)));
    if (const char* s = icalcomponent_get_location(ev))
      m.props.set(PropValue::string(n("PidLidLocation"), valid_utf8(s)));
    if (!response) {
      if (const char* s = icalcomponent_get_description(ev)) m.props.set(PropValue::string(tags::PidTagBody, valid_utf8(s)));
    } else if (icalproperty* c = icalcomponent_get_first_property(ev, ICAL_COMMENT_PROPERTY)) {
      // MS-OXCICAL 2.1.3.1.1.20.5 / .11: a response's text is its COMMENT; DESCRIPTION is ignored.
      if (const char* s = icalproperty_get_comment(c)) m.props.set(PropValue::string(tags::PidTagBody, valid_utf8(s)));
    }
    if (response) {
      m.props.set(PropValue::i32(n("PidLidResponseStatus"), 0));  // respNone (MS-OXOCAL 2.2.1.11)
      m.props.set(PropValue::boolean(n("PidLidAppointmentCounterProposal"), counter));
    }
    // A REPLY need not repeat the meeting's times (RFC 5546 3.2.3): then the response has none.
    if (start.valid()) {
      Time own_start = start, own_end = end;
      if (counter) {
        // MS-OXCICAL 2.1.3.1.1.20.8/.10/.59/.60: DTSTART/DTEND are the proposed times; the meeting's
        // own times come from X-MS-OLK-ORIGINALSTART/END, or, without both, from DTSTART/DTEND too.
        m.props.set(PropValue::time(n("PidLidAppointmentProposedStartWhole"), start.filetime()));
        m.props.set(PropValue::time(n("PidLidAppointmentProposedEndWhole"), std::max(start.filetime(), end.filetime())));
        icalproperty* os = x_property(ev, "X-MS-OLK-ORIGINALSTART");
        icalproperty* oe = x_property(ev, "X-MS-OLK-ORIGINALEND");
        if (os && oe) {
          Time s = prop_time(cal, os, icaltime_from_string(icalproperty_get_value_as_string(os)));
          Time e = prop_time(cal, oe, icaltime_from_string(icalproperty_get_value_as_string(oe)));
          if (s.valid() && e.valid()) own_start = s, own_end = e;
        }
      }
      set_times(m, own_start, own_end);
    }
    m.props.set(PropValue::i32(n("PidLidBusyStatus"), busy_status(ev)));
    if (start.valid()) add_reminder(m, ev, start.filetime());
    add_recipients(m, ev, response);
    if (!m.recipients.empty())
      m.props.set(PropValue::i32(n("PidLidAppointmentStateFlags"), 0x1));  // asfMeeting
    if (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY))
      m.props.set(PropValue::i32(n("PidLidAppointmentSequence"), icalproperty_get_sequence(p)));
    return m;
  }

  void set_timezone(Message& m, const Time& start) {
    if (!start.zone || start.zone == icaltimezone_get_utc_timezone()) return;
    icalcomponent* vtz = icaltimezone_get_component(const_cast<icaltimezone*>(start.zone));
    auto tz = tz_from_vtimezone(vtz, start.t);
    if (!tz) return;
    const char* tzid = icaltimezone_get_tzid(const_cast<icaltimezone*>(start.zone));
    std::string name = valid_utf8(tzid ? tzid : "");
    m.props.set(PropValue::binary(n("PidLidTimeZoneStruct"), write_timezone_struct(*tz)));
    m.props.set(PropValue::string(n("PidLidTimeZoneDescription"), name));
    Bytes def = write_timezone_definition(*tz, name, uint16_t(start.t.year));
    m.props.set(PropValue::binary(n("PidLidAppointmentTimeZoneDefinitionStartDisplay"), def));
    m.props.set(PropValue::binary(n("PidLidAppointmentTimeZoneDefinitionEndDisplay"), def));
    m.props.set(PropValue::binary(n("PidLidAppointmentTimeZoneDefinitionRecur"), def));
  }

  // RRULE -> AppointmentRecurrencePattern; nullopt when Outlook cannot express the rule.
  std::optional<recur::AppointmentRecurrencePattern> pattern(icalcomponent* ev, const Time& start, const Time& end) {
    icalproperty* rp = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
    if (!rp) return std::nullopt;
    icalrecurrencetype r = icalproperty_get_rrule(rp);
    const short END = ICAL_RECURRENCE_ARRAY_MAX;
    if (r.by_second[0] != END || r.by_minute[0] != END || r.by_hour[0] != END || r.by_year_day[0] != END ||
        r.by_week_no[0] != END)
      return std::nullopt;
    recur::AppointmentRecurrencePattern a;
    recur::RecurrencePattern& p = a.recurrence;
    uint32_t interval = r.interval > 0 ? uint32_t(r.interval) : 1;
    const uint32_t start_local = start.local_minutes(start.zone);
    p.start_date = start_local / 1440 * 1440;
    int64_t start_day = start_local / 1440;
    uint32_t days = 0;
    int nth = 0;
    for (int i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != END; ++i) {
      int dow = int(icalrecurrencetype_day_day_of_week(r.by_day[i])) - 1;
      if (dow < 0 || dow > 6) return std::nullopt;
      days |= 1u << dow;
      int pos = icalrecurrencetype_day_position(r.by_day[i]);
      if (pos != 0) {
        if (nth != 0 && nth != pos) return std::nullopt;
        nth = pos;
      }
    }
    if (r.by_set_pos[0] != END) {
      if (r.by_set_pos[1] != END || nth != 0) return std::nullopt;
      nth = r.by_set_pos[0];
    }
    if (nth < -1 || nth > 4) return std::nullopt;
    p.first_dow = r.week_start >= ICAL_SUNDAY_WEEKDAY && r.week_start <= ICAL_SATURDAY_WEEKDAY ? uint32_t(r.week_start - 1) : 1;
    auto monthly = [&](uint16_t freq, uint32_t period) -> bool {
      p.recur_frequency = freq;
      p.period = period;
      if (r.by_month_day[0] != END) {
        if (r.by_month_day[1] != END || days) return false;
        int md = r.by_month_day[0];
        if (md == -1) {
          p.pattern_type = recur::pattern::MonthEnd;
          p.pattern_specific = 31;
        } else if (md >= 1 && md <= 31) {
          p.pattern_type = recur::pattern::Month;
          p.pattern_specific = uint32_t(md);
        } else {
          return false;
        }
      } else if (days) {
        if (nth == 0) return false;
        p.pattern_type = recur::pattern::MonthNth;
        p.pattern_specific = days;
        p.nth = nth == -1 ? 5 : uint32_t(nth);
      } else {
        int y;
        unsigned mo, d;
        recur::civil_from_days(start_day, y, mo, d);
        p.pattern_type = recur::pattern::Month;
        p.pattern_specific = d;
      }
      return true;
    };
    switch (r.freq) {
      case ICAL_DAILY_RECURRENCE:
        if (r.by_month[0] != END || r.by_month_day[0] != END || nth) return std::nullopt;
        if (days) {
          if (interval != 1) return std::nullopt;
          p.recur_frequency = recur::frequency::Weekly;
          p.pattern_type = recur::pattern::Week;
          p.period = 1;
          p.pattern_specific = days;
        } else {
          p.recur_frequency = recur::frequency::Daily;
          p.pattern_type = recur::pattern::Day;
          p.period = interval * 1440;
        }
        break;
      case ICAL_WEEKLY_RECURRENCE:
        if (r.by_month[0] != END || r.by_month_day[0] != END || nth) return std::nullopt;
        p.recur_frequency = recur::frequency::Weekly;
        p.pattern_type = recur::pattern::Week;
        p.period = interval;
        p.pattern_specific = days ? days : 1u << recur::weekday_of_days(start_day);
        break;
      case ICAL_MONTHLY_RECURRENCE:
        if (r.by_month[0] != END) return std::nullopt;
        if (!monthly(recur::frequency::Monthly, interval)) return std::nullopt;
        break;
      case ICAL_YEARLY_RECURRENCE:
        if (r.by_month[0] != END) {
          int y;
          unsigned mo, d;
          recur::civil_from_days(start_day, y, mo, d);
          if (r.by_month[1] != END || unsigned(r.by_month[0]) != mo) return std::nullopt;
        }
        if (interval > 0xFFFFFFFFu / 12) return std::nullopt;
        if (!monthly(recur::frequency::Yearly, interval * 12)) return std::nullopt;
        break;
      default:
        return std::nullopt;
    }
    // The end: walk the series with libical (bounded) for the last date and the count.
    icaltimetype dt = start.t;
    if (!dt.is_date) dt.zone = nullptr;  // expand in the event's own wall-clock time
    icalrecurrencetype walk = r;
    if (!icaltime_is_null_time(r.until) && !dt.is_date && !r.until.is_date && icaltime_is_utc(r.until) && start.zone) {
      icaltimetype u = r.until;
      u.zone = icaltimezone_get_utc_timezone();
      walk.until = icaltime_convert_to_zone(u, const_cast<icaltimezone*>(start.zone));
      walk.until.zone = nullptr;
    } else if (!icaltime_is_null_time(r.until)) {
      walk.until.zone = nullptr;
    }
    bool ends = r.count > 0 || !icaltime_is_null_time(r.until);
    if (ends) {
      icalrecur_iterator* it = icalrecur_iterator_new(walk, dt);
      if (!it) return std::nullopt;
      uint32_t count = 0;
      icaltimetype last = icaltime_null_time();
      for (icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t) && count < kMaxExpand;
           t = icalrecur_iterator_next(it)) {
        last = t;
        ++count;
      }
      icalrecur_iterator_free(it);
      if (count == 0 || count >= kMaxExpand) {
        if (count == 0) return std::nullopt;
        ends = false;  // too long to walk: treat as endless
      } else {
        p.end_type = r.count > 0 ? recur::end_type::EndAfterNOccurrences : recur::end_type::EndAfterDate;
        p.occurrence_count = count;
        p.end_date = uint32_t(recur::days_from_civil(last.year, unsigned(last.month), unsigned(last.day)) * 1440);
      }
    }
    if (!ends) {
      p.end_type = recur::end_type::NeverEnd;
      p.occurrence_count = 10;
      p.end_date = recur::kNeverEndDate;
    }
    p.first_date_time = recur::compute_first_date_time(p);
    a.start_time_offset = start_local % 1440;
    int64_t dur = (end.filetime() - start.filetime()) / 600'000'000LL;
    if (dur < 0) dur = 0;
    a.end_time_offset = uint32_t(std::min<int64_t>(a.start_time_offset + dur, 0xFFFFFFFFLL));
    // EXDATE -> deleted instances.
    std::set<uint32_t> deleted;
    for (icalproperty* x = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); x;
         x = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
      Time t = prop_time(cal, x, icalproperty_get_exdate(x));
      if (!t.valid()) continue;
      deleted.insert(t.local_minutes(start.zone) / 1440 * 1440);
    }
    p.deleted_instance_dates.assign(deleted.begin(), deleted.end());
    return a;
  }

  void add_exception(Message& master, recur::AppointmentRecurrencePattern& a, icalcomponent* ov, const Time& mstart) {
    icalproperty* rid = icalcomponent_get_first_property(ov, ICAL_RECURRENCEID_PROPERTY);
    Time orig = prop_time(cal, rid, icalproperty_get_recurrenceid(rid));
    Time s = get_dtstart(cal, ov);
    if (!orig.valid()) return;
    if (!s.valid()) s = orig;
    Time e = get_dtend(cal, ov, s);
    recur::ExceptionInfo x;
    if (mstart.t.is_date || orig.t.is_date) {
      // All-day series: the instance is named by its date, whatever zone the RECURRENCE-ID has.
      x.original_start_date = uint32_t(recur::days_from_civil(orig.t.year, unsigned(orig.t.month), unsigned(orig.t.day)) * 1440) +
                              a.start_time_offset;
    } else {
      x.original_start_date = orig.local_minutes(mstart.zone);
    }
    x.start_date_time = s.local_minutes(mstart.zone);
    x.end_date_time = e.local_minutes(mstart.zone);
    if (const char* sum = icalcomponent_get_summary(ov)) {
      std::string v = valid_utf8(sum);
      if (master.props.get_string(tags::PidTagSubject) != v) {
        x.override_flags |= recur::aro::Subject;
        x.subject = v;
      }
    }
    if (const char* loc = icalcomponent_get_location(ov)) {
      std::string v = valid_utf8(loc);
      if (master.props.get_string(n("PidLidLocation")) != v) {
        x.override_flags |= recur::aro::Location;
        x.location = v;
      }
    }
    int32_t busy = busy_status(ov);
    if (master.props.get_i32(n("PidLidBusyStatus")) != busy) {
      x.override_flags |= recur::aro::BusyStatus;
      x.busy_status = uint32_t(busy);
    }
    uint32_t day = x.original_start_date / 1440 * 1440;
    auto& p = a.recurrence;
    if (std::find(p.modified_instance_dates.begin(), p.modified_instance_dates.end(), day) != p.modified_instance_dates.end())
      return;  // one exception per instance
    // The 8-bit strings of ExceptionInfo: ASCII kept, other characters as '?'; the Unicode
    // ExtendedException carries the real text.
    recur::ExtendedException xx;
    xx.start_date_time = x.start_date_time, xx.end_date_time = x.end_date_time, xx.original_start_date = x.original_start_date;
    xx.subject = x.subject;
    xx.location = x.location;
    auto ascii = [](std::string& s) {
      std::string o;
      for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) o += char(c);
        else if ((c & 0xC0) != 0x80) o += '?';
      }
      s = o;
    };
    ascii(x.subject);
    ascii(x.location);
    // Keep ExceptionInfo ordered by start (MS-OXOCAL 2.2.1.44.2).
    auto pos = std::upper_bound(a.exceptions.begin(), a.exceptions.end(), x,
                                [](const auto& l, const auto& r) { return l.start_date_time < r.start_date_time; });
    size_t idx = size_t(pos - a.exceptions.begin());
    a.exceptions.insert(pos, x);
    a.extended_exceptions.insert(a.extended_exceptions.begin() + idx, xx);
    p.modified_instance_dates.insert(std::upper_bound(p.modified_instance_dates.begin(), p.modified_instance_dates.end(), day), day);
    if (!std::binary_search(p.deleted_instance_dates.begin(), p.deleted_instance_dates.end(), day))
      p.deleted_instance_dates.insert(std::upper_bound(p.deleted_instance_dates.begin(), p.deleted_instance_dates.end(), day), day);
  }

  std::optional<Message> event(icalcomponent* ev, const std::vector<icalcomponent*>& overrides) {
    Time start = get_dtstart(cal, ev);
    if (!start.valid() && method != "REPLY") return std::nullopt;
    Time end = start.valid() ? get_dtend(cal, ev, start) : start;
    Message m = basic(ev, start, end);
    const char* uid = icalcomponent_get_uid(ev);
    set_uid(m, valid_utf8(uid), 0, 0, 0);
    set_timezone(m, start);
    auto a = pattern(ev, start, end);
    m.props.set(PropValue::boolean(n("PidLidRecurring"), a.has_value()));
    if (a) {
      for (icalcomponent* ov : overrides) add_exception(m, *a, ov, start);
      m.props.set(PropValue::binary(n("PidLidAppointmentRecur"), recur::write_appointment_recurrence(*a)));
    }
    return m;
  }

  // An override without its master: a single appointment whose GOID names the instance.
  std::optional<Message> orphan(icalcomponent* ov) {
    Time start = get_dtstart(cal, ov);
    if (!start.valid()) return std::nullopt;
    Message m = basic(ov, start, get_dtend(cal, ov, start));
    icalproperty* rid = icalcomponent_get_first_property(ov, ICAL_RECURRENCEID_PROPERTY);
    icaltimetype r = icalproperty_get_recurrenceid(rid);
    set_uid(m, valid_utf8(icalcomponent_get_uid(ov)), r.year, r.month, r.day);
    set_timezone(m, start);
    m.props.set(PropValue::boolean(n("PidLidRecurring"), false));
    return m;
  }

  void calendar(icalcomponent* c, std::vector<Message>& out) {
    cal = c;
    method.clear();
    if (icalproperty* mp = icalcomponent_get_first_property(c, ICAL_METHOD_PROPERTY)) {
      switch (icalproperty_get_method(mp)) {
        case ICAL_METHOD_REQUEST: method = "REQUEST"; break;
        case ICAL_METHOD_CANCEL: method = "CANCEL"; break;
        case ICAL_METHOD_REPLY: method = "REPLY"; break;
        case ICAL_METHOD_COUNTER: method = "COUNTER"; break;
        default: break;
      }
    }
    std::vector<icalcomponent*> masters;
    std::map<std::string, std::vector<icalcomponent*>> overrides;
    for (icalcomponent* ev = icalcomponent_get_first_component(c, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(c, ICAL_VEVENT_COMPONENT)) {
      icalproperty* rid = icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY);
      const char* uid = icalcomponent_get_uid(ev);
      if (rid && uid) overrides[uid].push_back(ev);
      else masters.push_back(ev);
    }
    std::set<std::string> used;
    for (icalcomponent* ev : masters) {
      const char* uid = icalcomponent_get_uid(ev);
      std::vector<icalcomponent*> ovs;
      if (uid && !used.count(uid)) {
        auto it = overrides.find(uid);
        if (it != overrides.end()) ovs = it->second;
        used.insert(uid);
      }
      if (auto m = event(ev, ovs)) out.push_back(std::move(*m));
    }
    for (const auto& [uid, ovs] : overrides) {
      if (used.count(uid)) continue;
      for (icalcomponent* ov : ovs)
        if (auto m = orphan(ov)) out.push_back(std::move(*m));
    }
  }
};

void init_libical() {
  static bool once = [] {
    icalerror_set_errors_are_fatal(0);
    return true;
  }();
  (void)once;
}

}  // namespace

std::vector<Message> read_ical(std::string_view text, NamedPropertyMap& names) {
  init_libical();
  if (text.size() > kMaxInput) throw_error(ErrorCode::MAPI_E_TOO_BIG, "iCalendar: input over 64 MiB");
  std::string s(text);
  s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
  CompPtr root(icalparser_parse_string(s.c_str()));
  icalerror_clear_errno();
  if (!root) corrupt("not an iCalendar object");
  std::vector<icalcomponent*> cals;
  icalcomponent_kind k = icalcomponent_isa(root.get());
  if (k == ICAL_VCALENDAR_COMPONENT || k == ICAL_VEVENT_COMPONENT) {
    cals.push_back(root.get());
  } else {
    for (icalcomponent* c = icalcomponent_get_first_component(root.get(), ICAL_VCALENDAR_COMPONENT); c;
         c = icalcomponent_get_next_component(root.get(), ICAL_VCALENDAR_COMPONENT))
      cals.push_back(c);
  }
  bool any_event = false;
  std::vector<Message> out;
  Reader rd{names, nullptr, {}};
  for (icalcomponent* c : cals) {
    if (icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT) {
      // A bare VEVENT: treat it as the only member of an implicit calendar.
      any_event = true;
      rd.cal = nullptr;
      if (auto m = rd.event(c, {})) out.push_back(std::move(*m));
      continue;
    }
    if (icalcomponent_get_first_component(c, ICAL_VEVENT_COMPONENT)) any_event = true;
    rd.calendar(c, out);
  }
  if (!any_event) corrupt("no VEVENT");
  return out;
}

// --- message -> VCALENDAR -------------------------------------------------------------------

namespace {

std::string two(int v) {
  std::string s = v < 10 ? "0" : "";  // (appends: GCC 12 warns falsely on "lit" + string at -O3)
  s += std::to_string(v);
  return s;
}

// "20240131T120000" (+ "Z") for local minutes since 1601.
std::string minutes_text(uint32_t minutes, bool date_only = false) {
  int y;
  unsigned mo, d;
  recur::civil_from_days(minutes / 1440, y, mo, d);
  std::string s = std::to_string(y) + two(int(mo)) + two(int(d));
  if (date_only) return s;
  uint32_t tod = minutes % 1440;
  return s + "T" + two(int(tod / 60)) + two(int(tod % 60)) + "00";
}

std::string filetime_text(int64_t ft, bool date_only) {
  int64_t minutes = ft / 600'000'000LL;
  std::string s = minutes_text(uint32_t(std::clamp<int64_t>(minutes, 0, 0xFFFFFFFFLL)), date_only);
  if (date_only) return s;
  int64_t secs = (ft / 10'000'000LL) % 60;
  s = s.substr(0, s.size() - 2) + two(int(secs));
  return s + "Z";
}

std::string escape(std::string_view v) {
  std::string o;
  for (char c : v) {
    switch (c) {
      case '\\': o += "\\\\"; break;
      case ';': o += "\\;"; break;
      case ',': o += "\\,"; break;
      case '\n': o += "\\n"; break;
      case '\r': break;
      default: o += c;
    }
  }
  return o;
}

std::string quote_param(std::string_view v) {
  std::string o = "\"";
  for (char c : v)
    if (c != '"' && c != '\r' && c != '\n') o += c;
  return o + "\"";
}

std::string offset_text(int minutes_east) {
  std::string s = minutes_east < 0 ? "-" : "+";
  int a = std::abs(minutes_east);
  return s + two(a / 60) + two(a % 60);
}

std::string byday_rule(const SystemTime& s) {
  static const char* dn[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
  int week = s.day >= 5 ? -1 : s.day;
  return "RRULE:FREQ=YEARLY;BYDAY=" + std::to_string(week) + dn[s.day_of_week % 7] + ";BYMONTH=" + std::to_string(s.month) +
         "\r\n";
}

std::string vtimezone_text(const TimeZoneStruct& tz, const std::string& tzid) {
  std::string t = "BEGIN:VTIMEZONE\r\nTZID:" + escape(tzid) + "\r\n";
  int std_east = -(tz.bias + tz.standard_bias);
  int dst_east = -(tz.bias + tz.daylight_bias);
  auto start = [](const SystemTime& s) { return "DTSTART:16010101T" + two(s.hour) + two(s.minute) + "00\r\n"; };
  if (tz.standard_date.month == 0 || tz.daylight_date.month == 0) {
    t += "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:" + offset_text(std_east) +
         "\r\nTZOFFSETTO:" + offset_text(std_east) + "\r\nEND:STANDARD\r\n";
  } else {
    t += "BEGIN:STANDARD\r\n" + start(tz.standard_date) + byday_rule(tz.standard_date) +
         "TZOFFSETFROM:" + offset_text(dst_east) + "\r\nTZOFFSETTO:" + offset_text(std_east) + "\r\nEND:STANDARD\r\n";
    t += "BEGIN:DAYLIGHT\r\n" + start(tz.daylight_date) + byday_rule(tz.daylight_date) +
         "TZOFFSETFROM:" + offset_text(std_east) + "\r\nTZOFFSETTO:" + offset_text(dst_east) + "\r\nEND:DAYLIGHT\r\n";
  }
  return t + "END:VTIMEZONE\r\n";
}

std::string rrule_text(const recur::AppointmentRecurrencePattern& a, const std::string& until_text) {
  const recur::RecurrencePattern& p = a.recurrence;
  static const char* dn[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
  auto days = [&](uint32_t bits, int prefix) {
    std::string s;
    for (int i = 0; i < 7; ++i)
      if (bits & (1u << i)) {
        if (!s.empty()) s += ',';
        if (prefix) s += std::to_string(prefix);
        s += dn[i];
      }
    return s;
  };
  std::string r = "RRULE:FREQ=";
  uint32_t period = p.period ? p.period : 1;
  switch (p.pattern_type) {
    case recur::pattern::Day:
      r += "DAILY;INTERVAL=" + std::to_string(std::max<uint32_t>(1, period / 1440));
      break;
    case recur::pattern::Week:
      r += "WEEKLY;INTERVAL=" + std::to_string(period) + ";BYDAY=" + days(p.pattern_specific, 0);
      break;
    default: {
      bool yearly = p.recur_frequency == recur::frequency::Yearly;
      uint32_t interval = yearly ? std::max<uint32_t>(1, period / 12) : period;
      r += std::string(yearly ? "YEARLY" : "MONTHLY") + ";INTERVAL=" + std::to_string(interval);
      if (p.pattern_type == recur::pattern::MonthNth || p.pattern_type == recur::pattern::HjMonthNth) {
        int nth = p.nth >= 5 ? -1 : int(p.nth);
        uint32_t bits = p.pattern_specific & 0x7F;
        if (bits && (bits & (bits - 1)) == 0) r += ";BYDAY=" + days(bits, nth);
        else r += ";BYDAY=" + days(bits, 0) + ";BYSETPOS=" + std::to_string(nth);
      } else if (p.pattern_type == recur::pattern::MonthEnd || p.pattern_type == recur::pattern::HjMonthEnd) {
        r += ";BYMONTHDAY=-1";
      } else {
        r += ";BYMONTHDAY=" + std::to_string(p.pattern_specific);
      }
      if (yearly) {
        int y;
        unsigned mo, d;
        recur::civil_from_days(p.start_date / 1440, y, mo, d);
        r += ";BYMONTH=" + std::to_string(mo);
      }
    }
  }
  if (p.end_type == recur::end_type::EndAfterNOccurrences) r += ";COUNT=" + std::to_string(p.occurrence_count);
  else if (p.end_type == recur::end_type::EndAfterDate) r += ";UNTIL=" + until_text;
  r += ";WKST=" + std::string(dn[p.first_dow % 7]);
  return r + "\r\n";
}

struct Writer {
  const NamedPropertyMap& names;
  std::string tzs;  // VTIMEZONE components
  std::set<std::string> tz_written;
  std::map<std::pair<std::string, std::string>, std::string> tz_ids;
  std::string events;

  std::optional<PropTag> n(std::string_view canonical) const { return ntag_find(names, canonical); }
  std::optional<std::string> nstr(const Message& m, std::string_view c) const {
    auto t = n(c);
    return t ? m.props.get_string(*t) : std::nullopt;
  }
  std::optional<int64_t> ntime(const Message& m, std::string_view c) const {
    auto t = n(c);
    return t ? m.props.get_i64(*t) : std::nullopt;
  }
  std::optional<int32_t> ni32(const Message& m, std::string_view c) const {
    auto t = n(c);
    return t ? m.props.get_i32(*t) : std::nullopt;
  }
  const Bytes* nbin(const Message& m, std::string_view c) const {
    auto t = n(c);
    if (!t) return nullptr;
    const PropValue* v = m.props.find(*t);
    return v ? v->get_if<Bytes>() : nullptr;
  }

  static std::string busy_text(int32_t b) {
    switch (b) {
      case 0: return "FREE";
      case 1: return "TENTATIVE";
      case 3: return "OOF";
      case 4: return "WORKINGELSEWHERE";
      default: return "BUSY";
    }
  }

  // The PARTSTAT a meeting response's class stands for (MS-OXCICAL 2.1.3.1.1.20.2.3); empty for
  // other classes.
  static std::string response_partstat(const Message& m) {
    std::string cls = m.props.get_string(tags::PidTagMessageClass).value_or("");
    if (cls.rfind("IPM.Schedule.Meeting.Resp.Pos", 0) == 0) return "ACCEPTED";
    if (cls.rfind("IPM.Schedule.Meeting.Resp.Tent", 0) == 0) return "TENTATIVE";
    if (cls.rfind("IPM.Schedule.Meeting.Resp.Neg", 0) == 0) return "DECLINED";
    return {};
  }
  bool counter_proposal(const Message& m) {
    auto t = n("PidLidAppointmentCounterProposal");
    return response_partstat(m) == "TENTATIVE" && t && m.props.get_bool(*t).value_or(false);
  }

  void message(const Message& m) {
    const std::string reply_partstat = response_partstat(m);
    const bool counter = counter_proposal(m);
    std::string ev = "BEGIN:VEVENT\r\n";
    std::string uid;
    if (const Bytes* g = nbin(m, "PidLidCleanGlobalObjectId"); g && g->size() >= 40) uid = uid_from_global_object_id(*g);
    else if (const Bytes* g2 = nbin(m, "PidLidGlobalObjectId"); g2 && g2->size() >= 40) uid = uid_from_global_object_id(*g2);
    if (uid.empty()) uid = "openmapi-" + to_hex(Bytes(16, 0)) + std::to_string(events.size());
    ev += "UID:" + escape(uid) + "\r\n";
    ev += "DTSTAMP:" + filetime_text(m.props.get_i64(tags::PidTagLastModificationTime).value_or(0) > 0
                                         ? *m.props.get_i64(tags::PidTagLastModificationTime)
                                         : to_filetime(std::chrono::time_point_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now())),
                                     false) +
          "\r\n";
    if (auto s = m.props.get_string(tags::PidTagSubject)) ev += "SUMMARY:" + escape(*s) + "\r\n";
    if (auto s = nstr(m, "PidLidLocation")) ev += "LOCATION:" + escape(*s) + "\r\n";
    if (auto s = m.props.get_string(tags::PidTagBody))  // a response's text is its COMMENT
      ev += (reply_partstat.empty() ? "DESCRIPTION:" : "COMMENT:") + escape(*s) + "\r\n";
    int64_t start = ntime(m, "PidLidAppointmentStartWhole").value_or(m.props.get_i64(ptag("PidTagStartDate")).value_or(0));
    int64_t end = ntime(m, "PidLidAppointmentEndWhole").value_or(m.props.get_i64(ptag("PidTagEndDate")).value_or(start));
    bool all_day = false;
    if (auto t = n("PidLidAppointmentSubType")) all_day = m.props.get_bool(*t).value_or(false);
    std::optional<recur::AppointmentRecurrencePattern> a;
    if (const Bytes* b = nbin(m, "PidLidAppointmentRecur")) {
      try {
        a = recur::read_appointment_recurrence(*b);
      } catch (const MapiError&) {
        a.reset();  // a damaged pattern: write the first instance only
      }
    }
    // Local times: a recurring event with a time zone gets a VTIMEZONE and its pattern's wall clock.
    std::string tzid;
    if (a && !all_day) {
      if (const Bytes* tzb = nbin(m, "PidLidTimeZoneStruct"); tzb && tzb->size() == 48) {
        TimeZoneStruct tz = read_timezone_struct(*tzb);
        tzid = nstr(m, "PidLidTimeZoneDescription").value_or("");
        if (tzid.empty()) tzid = "OpenMAPI " + std::to_string(tz.bias);
        // One VTIMEZONE per (name, rules): a name seen with other rules gets a suffix.
        std::string key = to_hex(*tzb);
        auto it = tz_ids.find({tzid, key});
        if (it != tz_ids.end()) {
          tzid = it->second;
        } else {
          std::string base = tzid, id = tzid;
          for (int k = 2; tz_written.count(id); ++k) id = base + " (" + std::to_string(k) + ")";
          tz_written.insert(id);
          tz_ids[{base, key}] = id;
          tzid = id;
          tzs += vtimezone_text(tz, tzid);
        }
      }
    }
    auto local_prop = [&](const char* name, uint32_t minutes) {
      if (tzid.empty()) return std::string(name) + ":" + minutes_text(minutes) + "Z\r\n";
      return std::string(name) + ";TZID=" + quote_param(tzid) + ":" + minutes_text(minutes) + "\r\n";
    };
    uint32_t local_start = 0;
    if (a) {
      local_start = a->recurrence.start_date + a->start_time_offset;
      uint32_t dur = a->end_time_offset >= a->start_time_offset ? a->end_time_offset - a->start_time_offset : 0;
      if (all_day) {
        ev += "DTSTART;VALUE=DATE:" + minutes_text(local_start, true) + "\r\n";
        ev += "DTEND;VALUE=DATE:" + minutes_text(local_start + std::max<uint32_t>(dur, 1440), true) + "\r\n";
      } else {
        ev += local_prop("DTSTART", local_start);
        ev += local_prop("DTEND", local_start + dur);
      }
      std::string until;
      uint32_t until_local = a->recurrence.end_date + a->start_time_offset;
      if (all_day) {
        until = minutes_text(until_local, true);
      } else if (tzid.empty()) {
        until = minutes_text(until_local) + "Z";
      } else {
        // UNTIL is UTC with a zoned DTSTART (RFC 5545 3.3.10): shift by the pattern's offset.
        const Bytes* tzb = nbin(m, "PidLidTimeZoneStruct");
        TimeZoneStruct tz = read_timezone_struct(*tzb);
        // The later of the two possible UTC instants, so the last instance stays inside.
        int64_t u = int64_t(until_local) + tz.bias + std::max(tz.standard_bias, tz.daylight_date.month ? tz.daylight_bias : tz.standard_bias);
        until = minutes_text(uint32_t(std::clamp<int64_t>(u, 0, 0xFFFFFFFFLL))) + "Z";
      }
      ev += rrule_text(*a, until);
      std::set<uint32_t> modified(a->recurrence.modified_instance_dates.begin(), a->recurrence.modified_instance_dates.end());
      for (uint32_t d : a->recurrence.deleted_instance_dates) {
        if (modified.count(d)) continue;
        if (all_day) ev += "EXDATE;VALUE=DATE:" + minutes_text(d, true) + "\r\n";
        else ev += local_prop("EXDATE", d + a->start_time_offset);
      }
    } else if (all_day) {
      ev += "DTSTART;VALUE=DATE:" + filetime_text(start, true) + "\r\n";
      ev += "DTEND;VALUE=DATE:" + filetime_text(end > start ? end : start + 864'000'000'000LL, true) + "\r\n";
    } else if (counter) {
      // MS-OXCICAL 2.1.3.1.1.20.8/.10/.59/.60: a counter proposal's DTSTART/DTEND are the proposed
      // times; the meeting's own go out as X-MS-OLK-ORIGINALSTART/END.
      ev += "DTSTART:" + filetime_text(ntime(m, "PidLidAppointmentProposedStartWhole").value_or(start), false) + "\r\n";
      ev += "DTEND:" + filetime_text(ntime(m, "PidLidAppointmentProposedEndWhole").value_or(end), false) + "\r\n";
      ev += "X-MS-OLK-ORIGINALSTART:" + filetime_text(start, false) + "\r\n";
      ev += "X-MS-OLK-ORIGINALEND:" + filetime_text(end, false) + "\r\n";
    } else {
      ev += "DTSTART:" + filetime_text(start, false) + "\r\n";
      ev += "DTEND:" + filetime_text(end, false) + "\r\n";
    }
    int32_t busy = ni32(m, "PidLidBusyStatus").value_or(2);
    ev += std::string("TRANSP:") + (busy == 0 ? "TRANSPARENT" : "OPAQUE") + "\r\n";
    ev += "X-MICROSOFT-CDO-BUSYSTATUS:" + busy_text(busy) + "\r\n";
    if (auto seq = ni32(m, "PidLidAppointmentSequence")) ev += "SEQUENCE:" + std::to_string(*seq) + "\r\n";
    // Organizer and attendees. A request is sent for its organizer, a response for its attendee.
    std::string sender_name = m.props.get_string(tags::PidTagSentRepresentingName).value_or("");
    std::string sender_addr = m.props.get_string(tags::PidTagSentRepresentingEmailAddress).value_or("");
    std::string org_name = reply_partstat.empty() ? sender_name : "", org_addr = reply_partstat.empty() ? sender_addr : "";
    std::string attendees;
    for (const auto& r : m.recipients) {
      int32_t flags = r.get_i32(ptag("PidTagRecipientFlags")).value_or(1);
      std::string addr = r.get_string(tags::PidTagSmtpAddress).value_or(r.get_string(tags::PidTagEmailAddress).value_or(""));
      std::string cn = r.get_string(tags::PidTagDisplayName).value_or("");
      if (flags & 0x2) {
        if (org_addr.empty()) org_addr = addr;
        if (org_name.empty()) org_name = cn;
        continue;
      }
      int32_t type = r.get_i32(tags::PidTagRecipientType).value_or(recipient_type::To);
      std::string role = type == recipient_type::Cc ? "OPT-PARTICIPANT" : type == recipient_type::Bcc ? "NON-PARTICIPANT" : "REQ-PARTICIPANT";
      std::string partstat = "NEEDS-ACTION";
      switch (r.get_i32(ptag("PidTagRecipientTrackStatus")).value_or(0)) {
        case 2: partstat = "TENTATIVE"; break;
        case 3: partstat = "ACCEPTED"; break;
        case 4: partstat = "DECLINED"; break;
        default: break;
      }
      if (!reply_partstat.empty()) partstat = reply_partstat;  // MUST follow the class
      attendees += "ATTENDEE;CN=" + quote_param(cn) + ";ROLE=" + role + ";PARTSTAT=" + partstat +
                   (type == recipient_type::Bcc ? ";CUTYPE=RESOURCE" : "") + ";RSVP=TRUE:mailto:" + addr + "\r\n";
    }
    if (!reply_partstat.empty() && attendees.empty() && !sender_addr.empty())  // the responder, from the sender
      attendees = "ATTENDEE;CN=" + quote_param(sender_name.empty() ? sender_addr : sender_name) +
                  ";PARTSTAT=" + reply_partstat + ":mailto:" + sender_addr + "\r\n";
    if (!org_addr.empty() || !org_name.empty())
      ev += "ORGANIZER" + (org_name.empty() ? std::string() : ";CN=" + quote_param(org_name)) + ":mailto:" + org_addr + "\r\n";
    ev += attendees;
    if (auto t = n("PidLidReminderSet"); t && m.props.get_bool(*t).value_or(false)) {
      int32_t delta = ni32(m, "PidLidReminderDelta").value_or(15);
      ev += "BEGIN:VALARM\r\nTRIGGER:-PT" + std::to_string(delta) + "M\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\n";
    }
    ev += "END:VEVENT\r\n";
    events += ev;
    // Exceptions as overriding VEVENTs.
    if (a) {
      for (size_t i = 0; i < a->exceptions.size(); ++i) {
        const auto& x = a->exceptions[i];
        const recur::ExtendedException* xx = i < a->extended_exceptions.size() ? &a->extended_exceptions[i] : nullptr;
        std::string o = "BEGIN:VEVENT\r\nUID:" + escape(uid) + "\r\n";
        o += "DTSTAMP:" + filetime_text(start, false) + "\r\n";
        if (all_day) o += "RECURRENCE-ID;VALUE=DATE:" + minutes_text(x.original_start_date, true) + "\r\n";
        else o += local_prop("RECURRENCE-ID", x.original_start_date);
        if (all_day) {
          o += "DTSTART;VALUE=DATE:" + minutes_text(x.start_date_time, true) + "\r\n";
          o += "DTEND;VALUE=DATE:" + minutes_text(std::max(x.end_date_time, x.start_date_time + 1440), true) + "\r\n";
        } else {
          o += local_prop("DTSTART", x.start_date_time);
          o += local_prop("DTEND", x.end_date_time);
        }
        std::string subject = m.props.get_string(tags::PidTagSubject).value_or("");
        if (x.override_flags & recur::aro::Subject) subject = xx ? xx->subject : x.subject;
        if (!subject.empty()) o += "SUMMARY:" + escape(subject) + "\r\n";
        std::string location = nstr(m, "PidLidLocation").value_or("");
        if (x.override_flags & recur::aro::Location) location = xx ? xx->location : x.location;
        if (!location.empty()) o += "LOCATION:" + escape(location) + "\r\n";
        int32_t b = (x.override_flags & recur::aro::BusyStatus) ? int32_t(x.busy_status) : busy;
        o += "X-MICROSOFT-CDO-BUSYSTATUS:" + busy_text(b) + "\r\n";
        o += "END:VEVENT\r\n";
        events += o;
      }
    }
  }
};

}  // namespace

std::string write_ical(const std::vector<Message>& messages, const NamedPropertyMap& names) {
  init_libical();
  std::string method = "PUBLISH";
  if (!messages.empty()) {
    std::string cls = messages[0].props.get_string(tags::PidTagMessageClass).value_or("");
    if (cls.rfind("IPM.Schedule.Meeting.Request", 0) == 0) method = "REQUEST";
    else if (cls.rfind("IPM.Schedule.Meeting.Canceled", 0) == 0) method = "CANCEL";
  }
  Writer w{names, {}, {}, {}, {}};
  // MS-OXCICAL 2.1.3.1.1.1: a meeting response is a REPLY, a counter proposal a COUNTER.
  if (!messages.empty() && !Writer::response_partstat(messages[0]).empty())
    method = w.counter_proposal(messages[0]) ? "COUNTER" : "REPLY";
  for (const auto& m : messages) w.message(m);
  std::string text = "BEGIN:VCALENDAR\r\nPRODID:-//OpenMAPI//OpenMAPI//EN\r\nVERSION:2.0\r\nMETHOD:" + method + "\r\n" +
                     w.tzs + w.events + "END:VCALENDAR\r\n";
  // Let libical fold and normalise the text (it also checks what we wrote parses).
  CompPtr c(icalparser_parse_string(text.c_str()));
  if (!c) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "iCalendar: libical refused the calendar we wrote");
  return take_string(icalcomponent_as_ical_string_r(c.get()));
}

std::string write_ical(const Message& message, const NamedPropertyMap& names) {
  return write_ical(std::vector<Message>{message}, names);
}

}  // namespace openmapi::ical
