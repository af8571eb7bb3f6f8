// MS-OXOCAL 2.2.1.44 recurrence BLOBs.
#include "formats/ical/recurrence.h"

#include "core/error.h"
#include "core/unicode.h"

namespace openmapi::recur {

namespace {

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "recurrence BLOB: " + what); }
[[noreturn]] void invalid(const std::string& what) {
  throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "recurrence BLOB: " + what);
}

bool has_nth(uint16_t pt) { return pt == pattern::MonthNth || pt == pattern::HjMonthNth; }
bool has_specific(uint16_t pt) { return pt != pattern::Day; }

std::vector<uint32_t> read_dates(BinaryReader& r) {
  uint32_t n = r.u32();
  r.need_elements(n, 4);
  std::vector<uint32_t> v(n);
  for (auto& d : v) d = r.u32();
  return v;
}

void write_dates(BinaryWriter& w, const std::vector<uint32_t>& v) {
  w.u32(uint32_t(v.size()));
  for (uint32_t d : v) w.u32(d);
}

Bytes read_block(BinaryReader& r) {
  uint32_t n = r.u32();
  return r.copy(n);
}

void write_block(BinaryWriter& w, const Bytes& b) {
  w.u32(uint32_t(b.size()));
  w.bytes(b);
}

// ExceptionInfo Subject/Location: Length (= Length2 + 1), Length2, then Length2 8-bit characters.
std::string read_str8(BinaryReader& r, const char* what) {
  uint16_t len = r.u16();
  uint16_t len2 = r.u16();
  // MS-OXOCAL 2.2.1.44.2: Length is Length2 + 1.
  if (uint32_t(len) != uint32_t(len2) + 1) corrupt(std::string(what) + " length fields disagree");
  return std::string(reinterpret_cast<const char*>(r.bytes(len2).data()), len2);
}

void write_str8(BinaryWriter& w, const std::string& s, const char* what) {
  if (s.size() >= 0xFFFF) invalid(std::string(what) + " too long");
  w.u16(uint16_t(s.size() + 1));
  w.u16(uint16_t(s.size()));
  w.bytes(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::string read_wide(BinaryReader& r) {
  uint16_t n = r.u16();  // characters (UTF-16 code units), no terminator
  ByteView b = r.bytes(size_t(n) * 2);
  std::u16string s(n, u'\0');
  for (size_t i = 0; i < n; ++i) s[i] = char16_t(b[2 * i] | (b[2 * i + 1] << 8));
  try {
    return utf16_to_utf8(s);
  } catch (const MapiError&) {
    corrupt("invalid UTF-16 in an extended exception");
  }
}

void write_wide(BinaryWriter& w, const std::string& utf8, const char* what) {
  std::u16string s = utf8_to_utf16(utf8);
  if (s.size() > 0xFFFF) invalid(std::string(what) + " too long");
  w.u16(uint16_t(s.size()));
  for (char16_t c : s) w.u16(uint16_t(c));
}

ExceptionInfo read_exception_info(BinaryReader& r) {
  ExceptionInfo e;
  e.start_date_time = r.u32();
  e.end_date_time = r.u32();
  e.original_start_date = r.u32();
  e.override_flags = r.u16();
  uint16_t f = e.override_flags;
  if (f & aro::Subject) e.subject = read_str8(r, "subject");
  if (f & aro::MeetingType) e.meeting_type = r.u32();
  if (f & aro::ReminderDelta) e.reminder_delta = r.u32();
  if (f & aro::Reminder) e.reminder_set = r.u32();
  if (f & aro::Location) e.location = read_str8(r, "location");
  if (f & aro::BusyStatus) e.busy_status = r.u32();
  if (f & aro::Attachment) e.attachment = r.u32();
  if (f & aro::SubType) e.sub_type = r.u32();
  if (f & aro::AppointmentColor) e.appointment_color = r.u32();
  return e;
}

void write_exception_info(BinaryWriter& w, const ExceptionInfo& e) {
  w.u32(e.start_date_time);
  w.u32(e.end_date_time);
  w.u32(e.original_start_date);
  uint16_t f = e.override_flags;
  w.u16(f);
  if (f & aro::Subject) write_str8(w, e.subject, "subject");
  if (f & aro::MeetingType) w.u32(e.meeting_type);
  if (f & aro::ReminderDelta) w.u32(e.reminder_delta);
  if (f & aro::Reminder) w.u32(e.reminder_set);
  if (f & aro::Location) write_str8(w, e.location, "location");
  if (f & aro::BusyStatus) w.u32(e.busy_status);
  if (f & aro::Attachment) w.u32(e.attachment);
  if (f & aro::SubType) w.u32(e.sub_type);
  if (f & aro::AppointmentColor) w.u32(e.appointment_color);
}

ExtendedException read_extended(BinaryReader& r, const ExceptionInfo& info, uint32_t writer_version2) {
  ExtendedException x;
  if (writer_version2 >= 0x3009) {
    uint32_t size = r.u32();
    if (size < 4) corrupt("ChangeHighlightSize below 4");
    r.need(size);
    x.change_highlight = r.u32();
    x.change_highlight_reserved = r.copy(size - 4);
  }
  x.reserved_ee1 = read_block(r);
  if (info.override_flags & (aro::Subject | aro::Location)) {
    x.start_date_time = r.u32();
    x.end_date_time = r.u32();
    x.original_start_date = r.u32();
    if (info.override_flags & aro::Subject) x.subject = read_wide(r);
    if (info.override_flags & aro::Location) x.location = read_wide(r);
    x.reserved_ee2 = read_block(r);
  }
  return x;
}

void write_extended(BinaryWriter& w, const ExtendedException& x, const ExceptionInfo& info, uint32_t writer_version2) {
  if (writer_version2 >= 0x3009) {
    w.u32(uint32_t(4 + x.change_highlight_reserved.size()));
    w.u32(x.change_highlight);
    w.bytes(x.change_highlight_reserved);
  }
  write_block(w, x.reserved_ee1);
  if (info.override_flags & (aro::Subject | aro::Location)) {
    w.u32(x.start_date_time);
    w.u32(x.end_date_time);
    w.u32(x.original_start_date);
    if (info.override_flags & aro::Subject) write_wide(w, x.subject, "subject");
    if (info.override_flags & aro::Location) write_wide(w, x.location, "location");
    write_block(w, x.reserved_ee2);
  }
}

}  // namespace

bool is_known_pattern_type(uint16_t pt) {
  switch (pt) {
    case pattern::Day: case pattern::Week: case pattern::Month: case pattern::MonthNth: case pattern::MonthEnd:
    case pattern::HjMonth: case pattern::HjMonthNth: case pattern::HjMonthEnd:
      return true;
    default:
      return false;
  }
}

RecurrencePattern read_recurrence_pattern(BinaryReader& r) {
  RecurrencePattern p;
  p.reader_version = r.u16();
  p.writer_version = r.u16();
  p.recur_frequency = r.u16();
  p.pattern_type = r.u16();
  if (!is_known_pattern_type(p.pattern_type)) corrupt("unknown PatternType");
  p.calendar_type = r.u16();
  p.first_date_time = r.u32();
  p.period = r.u32();
  p.sliding_flag = r.u32();
  if (has_specific(p.pattern_type)) p.pattern_specific = r.u32();
  if (has_nth(p.pattern_type)) p.nth = r.u32();
  p.end_type = r.u32();
  p.occurrence_count = r.u32();
  p.first_dow = r.u32();
  p.deleted_instance_dates = read_dates(r);
  p.modified_instance_dates = read_dates(r);
  p.start_date = r.u32();
  p.end_date = r.u32();
  return p;
}

RecurrencePattern read_recurrence_pattern(ByteView data) {
  BinaryReader r(data);
  RecurrencePattern p = read_recurrence_pattern(r);
  if (!r.at_end()) corrupt("bytes after the RecurrencePattern");
  return p;
}

void write_recurrence_pattern(BinaryWriter& w, const RecurrencePattern& p) {
  if (!is_known_pattern_type(p.pattern_type)) invalid("unknown PatternType");
  w.u16(p.reader_version);
  w.u16(p.writer_version);
  w.u16(p.recur_frequency);
  w.u16(p.pattern_type);
  w.u16(p.calendar_type);
  w.u32(p.first_date_time);
  w.u32(p.period);
  w.u32(p.sliding_flag);
  if (has_specific(p.pattern_type)) w.u32(p.pattern_specific);
  if (has_nth(p.pattern_type)) w.u32(p.nth);
  w.u32(p.end_type);
  w.u32(p.occurrence_count);
  w.u32(p.first_dow);
  write_dates(w, p.deleted_instance_dates);
  write_dates(w, p.modified_instance_dates);
  w.u32(p.start_date);
  w.u32(p.end_date);
}

Bytes write_recurrence_pattern(const RecurrencePattern& p) {
  BinaryWriter w;
  write_recurrence_pattern(w, p);
  return w.take();
}

AppointmentRecurrencePattern read_appointment_recurrence(ByteView data) {
  BinaryReader r(data);
  AppointmentRecurrencePattern a;
  a.recurrence = read_recurrence_pattern(r);
  a.reader_version2 = r.u32();
  a.writer_version2 = r.u32();
  a.start_time_offset = r.u32();
  a.end_time_offset = r.u32();
  uint16_t count = r.u16();
  r.need_elements(count, 14);  // the fixed part of an ExceptionInfo
  a.exceptions.reserve(count);
  for (uint16_t i = 0; i < count; ++i) a.exceptions.push_back(read_exception_info(r));
  a.reserved_block1 = read_block(r);
  a.extended_exceptions.reserve(count);
  for (uint16_t i = 0; i < count; ++i)
    a.extended_exceptions.push_back(read_extended(r, a.exceptions[i], a.writer_version2));
  a.reserved_block2 = read_block(r);
  if (!r.at_end()) corrupt("bytes after the AppointmentRecurrencePattern");
  return a;
}

Bytes write_appointment_recurrence(const AppointmentRecurrencePattern& in) {
  if (in.exceptions.size() > 0xFFFF) invalid("more than 65535 exceptions");
  if (in.extended_exceptions.size() > in.exceptions.size()) invalid("more extended exceptions than exceptions");
  AppointmentRecurrencePattern a = in;
  for (size_t i = a.extended_exceptions.size(); i < a.exceptions.size(); ++i) {
    const ExceptionInfo& e = a.exceptions[i];
    ExtendedException x;
    x.start_date_time = e.start_date_time;
    x.end_date_time = e.end_date_time;
    x.original_start_date = e.original_start_date;
    x.subject = e.subject;
    x.location = e.location;
    a.extended_exceptions.push_back(std::move(x));
  }
  BinaryWriter w;
  write_recurrence_pattern(w, a.recurrence);
  w.u32(a.reader_version2);
  w.u32(a.writer_version2);
  w.u32(a.start_time_offset);
  w.u32(a.end_time_offset);
  w.u16(uint16_t(a.exceptions.size()));
  for (const auto& e : a.exceptions) write_exception_info(w, e);
  write_block(w, a.reserved_block1);
  for (size_t i = 0; i < a.exceptions.size(); ++i)
    write_extended(w, a.extended_exceptions[i], a.exceptions[i], a.writer_version2);
  write_block(w, a.reserved_block2);
  return w.take();
}

// --- time helpers ------------------------------------------------------------------------

// Howard Hinnant's civil-date algorithms, shifted to the 1601 epoch.
namespace {
constexpr int64_t kDays1601To1970 = 134774;
int64_t days_from_civil_1970(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}
}  // namespace

int64_t days_from_civil(int year, unsigned month, unsigned day) {
  return days_from_civil_1970(year, month, day) + kDays1601To1970;
}

void civil_from_days(int64_t days, int& year, unsigned& month, unsigned& day) {
  int64_t z = days - kDays1601To1970 + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = int(y + (month <= 2));
}

unsigned weekday_of_days(int64_t days) {
  int64_t w = (days + 1) % 7;  // day 0 (1601-01-01) was a Monday
  return unsigned(w < 0 ? w + 7 : w);
}

uint32_t compute_first_date_time(const RecurrencePattern& p) {
  const int64_t start_day = p.start_date / 1440;
  switch (p.recur_frequency) {
    case frequency::Daily:
      return p.period ? p.start_date % p.period : 0;
    case frequency::Weekly: {
      // The first day (FirstDOW) of the week holding StartDate, modulo the period in minutes.
      int64_t back = (int64_t(weekday_of_days(start_day)) - int64_t(p.first_dow % 7) + 7) % 7;
      int64_t week_start = (start_day - back) * 1440;
      uint64_t period_minutes = uint64_t(p.period ? p.period : 1) * 10080;
      return uint32_t(uint64_t(week_start) % period_minutes);
    }
    default: {
      // Monthly and yearly: months from January 1601 to StartDate's month, modulo the period,
      // as the minutes from 1601-01-01 to the first day of that month.
      int y;
      unsigned m, d;
      civil_from_days(start_day, y, m, d);
      int64_t months = int64_t(y - 1601) * 12 + (m - 1);
      int64_t k = p.period ? months % p.period : 0;
      return uint32_t(days_from_civil(1601 + int(k / 12), unsigned(k % 12) + 1, 1) * 1440);
    }
  }
}

}  // namespace openmapi::recur
