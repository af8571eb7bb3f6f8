// The recurrence BLOBs of calendar objects (MS-OXOCAL 2.2.1.44): RecurrencePattern and
// AppointmentRecurrencePattern (the value of PidLidAppointmentRecur), with their exceptions.
//
// The structures keep every field of the wire form, so read -> write gives the same bytes
// (reserved blocks included). Times are in minutes since 1601-01-01 00:00 as on the wire
// (helpers below convert to FILETIME); in an AppointmentRecurrencePattern the dates of the
// RecurrencePattern are local midnights and the ExceptionInfo times are local times.
//
// Errors: read_* throws MapiError(MAPI_E_CORRUPT_DATA) for truncated input, an unknown pattern
// type, an exception count that cannot fit, or trailing bytes; nothing is read out of bounds.
// write_* throws MAPI_E_INVALID_PARAMETER when the structure is inconsistent (more than 65535
// exceptions, a string longer than its 16-bit length, extended exceptions not matching).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.h"

namespace openmapi::recur {

// MS-OXOCAL 2.2.1.44.1 RecurFrequency.
namespace frequency {
inline constexpr uint16_t Daily = 0x200A;
inline constexpr uint16_t Weekly = 0x200B;
inline constexpr uint16_t Monthly = 0x200C;
inline constexpr uint16_t Yearly = 0x200D;
}  // namespace frequency

// PatternType.
namespace pattern {
inline constexpr uint16_t Day = 0x0000;
inline constexpr uint16_t Week = 0x0001;
inline constexpr uint16_t Month = 0x0002;
inline constexpr uint16_t MonthNth = 0x0003;
inline constexpr uint16_t MonthEnd = 0x0004;
inline constexpr uint16_t HjMonth = 0x000A;
inline constexpr uint16_t HjMonthNth = 0x000B;
inline constexpr uint16_t HjMonthEnd = 0x000C;
}  // namespace pattern
// Whether `pattern_type` is one of the above.
bool is_known_pattern_type(uint16_t pattern_type);

// EndType.
namespace end_type {
inline constexpr uint32_t EndAfterDate = 0x00002021;
inline constexpr uint32_t EndAfterNOccurrences = 0x00002022;
inline constexpr uint32_t NeverEnd = 0x00002023;
inline constexpr uint32_t NeverEnd2 = 0xFFFFFFFF;  // also "never ends"
}  // namespace end_type

// The day bits of PatternTypeSpecific for Week and MonthNth patterns (bit 0 = Sunday).
namespace day_bit {
inline constexpr uint32_t Sunday = 0x01, Monday = 0x02, Tuesday = 0x04, Wednesday = 0x08, Thursday = 0x10,
                          Friday = 0x20, Saturday = 0x40;
}

// The EndDate of a series that never ends (31 Dec 4500 23:59).
inline constexpr uint32_t kNeverEndDate = 0x5AE980DF;

// MS-OXOCAL 2.2.1.44.1
struct RecurrencePattern {
  uint16_t reader_version = 0x3004;
  uint16_t writer_version = 0x3004;
  uint16_t recur_frequency = frequency::Daily;
  uint16_t pattern_type = pattern::Day;
  uint16_t calendar_type = 0;     // 0 = default (Gregorian)
  uint32_t first_date_time = 0;
  uint32_t period = 0;            // minutes (daily), weeks, or months
  uint32_t sliding_flag = 0;
  // PatternTypeSpecific: Week: day bits; Month/MonthEnd/Hj*: day of month;
  // MonthNth/HjMonthNth: day bits in `pattern_specific`, N (1..5, 5 = last) in `nth`.
  uint32_t pattern_specific = 0;
  uint32_t nth = 0;
  uint32_t end_type = end_type::NeverEnd;
  uint32_t occurrence_count = 0;
  uint32_t first_dow = 0;         // 0 = Sunday
  std::vector<uint32_t> deleted_instance_dates;   // minutes, local midnights, ascending
  std::vector<uint32_t> modified_instance_dates;  // minutes, local midnights, ascending
  uint32_t start_date = 0;
  uint32_t end_date = kNeverEndDate;

  friend bool operator==(const RecurrencePattern&, const RecurrencePattern&) = default;
};

// MS-OXOCAL 2.2.1.44.2 OverrideFlags.
namespace aro {
inline constexpr uint16_t Subject = 0x0001;
inline constexpr uint16_t MeetingType = 0x0002;
inline constexpr uint16_t ReminderDelta = 0x0004;
inline constexpr uint16_t Reminder = 0x0008;
inline constexpr uint16_t Location = 0x0010;
inline constexpr uint16_t BusyStatus = 0x0020;
inline constexpr uint16_t Attachment = 0x0040;
inline constexpr uint16_t SubType = 0x0080;
inline constexpr uint16_t AppointmentColor = 0x0100;
inline constexpr uint16_t ExceptionalBody = 0x0200;
}  // namespace aro

// MS-OXOCAL 2.2.1.44.2 ExceptionInfo. Fields other than the three times are present on the
// wire only when their OverrideFlags bit is set.
struct ExceptionInfo {
  uint32_t start_date_time = 0;      // minutes, local time
  uint32_t end_date_time = 0;
  uint32_t original_start_date = 0;  // the instance's original start, local time
  uint16_t override_flags = 0;
  std::string subject;   // 8-bit, as stored (the message's code page); aro::Subject
  uint32_t meeting_type = 0;         // aro::MeetingType
  uint32_t reminder_delta = 0;       // aro::ReminderDelta
  uint32_t reminder_set = 0;         // aro::Reminder
  std::string location;  // 8-bit, as stored; aro::Location
  uint32_t busy_status = 0;          // aro::BusyStatus
  uint32_t attachment = 0;           // aro::Attachment
  uint32_t sub_type = 0;             // aro::SubType
  uint32_t appointment_color = 0;    // aro::AppointmentColor

  friend bool operator==(const ExceptionInfo&, const ExceptionInfo&) = default;
};

// MS-OXOCAL 2.2.1.44.3 ExtendedException: one per ExceptionInfo, in the same order.
// The change highlight is on the wire only when WriterVersion2 >= 0x3009; the times and the
// Unicode strings only when the ExceptionInfo has aro::Subject or aro::Location.
struct ExtendedException {
  uint32_t change_highlight = 0;  // PidLidChangeHighlight
  Bytes change_highlight_reserved;  // ChangeHighlightSize - 4 bytes after the value
  Bytes reserved_ee1;
  uint32_t start_date_time = 0;
  uint32_t end_date_time = 0;
  uint32_t original_start_date = 0;
  std::string subject;   // UTF-8 (WideCharSubject); written when aro::Subject
  std::string location;  // UTF-8 (WideCharLocation); written when aro::Location
  Bytes reserved_ee2;

  friend bool operator==(const ExtendedException&, const ExtendedException&) = default;
};

// MS-OXOCAL 2.2.1.44.5 AppointmentRecurrencePattern (PidLidAppointmentRecur).
struct AppointmentRecurrencePattern {
  RecurrencePattern recurrence;
  uint32_t reader_version2 = 0x3006;
  uint32_t writer_version2 = 0x3009;
  uint32_t start_time_offset = 0;  // minutes after midnight of the instance's start
  uint32_t end_time_offset = 0;    // minutes after midnight of the instance's start day to its end
  std::vector<ExceptionInfo> exceptions;
  Bytes reserved_block1;
  std::vector<ExtendedException> extended_exceptions;  // same size as `exceptions`
  Bytes reserved_block2;

  friend bool operator==(const AppointmentRecurrencePattern&, const AppointmentRecurrencePattern&) = default;
};

// Bytes <-> structures. `read_*` of a RecurrencePattern alone (e.g. PidLidTaskRecurrence) must
// consume the whole input; `read_recurrence_pattern(BinaryReader&)` reads one from a stream.
RecurrencePattern read_recurrence_pattern(ByteView data);
RecurrencePattern read_recurrence_pattern(BinaryReader& r);
void write_recurrence_pattern(BinaryWriter& w, const RecurrencePattern& p);
Bytes write_recurrence_pattern(const RecurrencePattern& p);

AppointmentRecurrencePattern read_appointment_recurrence(ByteView data);
// Sets extended_exceptions to match `exceptions` (times and strings copied over) where it is
// shorter, then writes.
Bytes write_appointment_recurrence(const AppointmentRecurrencePattern& p);

// --- time helpers ------------------------------------------------------------------------

// Minutes since 1601-01-01 <-> FILETIME.
constexpr int64_t minutes_to_filetime(uint32_t minutes) { return int64_t(minutes) * 600'000'000LL; }
constexpr uint32_t filetime_to_minutes(int64_t ft) { return uint32_t(ft / 600'000'000LL); }
// Civil date <-> days since 1601-01-01 (proleptic Gregorian).
int64_t days_from_civil(int year, unsigned month, unsigned day);
void civil_from_days(int64_t days, int& year, unsigned& month, unsigned& day);
// Day of week of a day count since 1601-01-01 (0 = Sunday; 1601-01-01 was a Monday).
unsigned weekday_of_days(int64_t days);

// MS-OXOCAL 2.2.1.44.1.1: the FirstDateTime for `p` from its StartDate, Period, FirstDOW and frequency.
uint32_t compute_first_date_time(const RecurrencePattern& p);

}  // namespace openmapi::recur
