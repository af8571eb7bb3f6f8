// MS-OXOCAL 2.2.1.44 recurrence BLOBs: the spec's example decoded field by field and re-encoded
// byte for byte; hand-built patterns of every type round trip; damaged input is refused.
#include "formats/ical/recurrence.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "test_util.h"

using namespace openmapi;
using namespace openmapi::recur;
using openmapi::testing::code_of;

namespace {

using openmapi::testing::read_file;

const std::string kVector = std::string(OPENMAPI_SHARED_DIR) + "/spec-vectors/oxocal/spec_recurrence_blob_with_exception.bin";

// Minutes since 1601 of a local date/time.
uint32_t at(int y, unsigned m, unsigned d, unsigned hh = 0, unsigned mm = 0) {
  return uint32_t(days_from_civil(y, m, d) * 1440 + hh * 60 + mm);
}

}  // namespace

TEST(Recurrence, CivilDates) {
  EXPECT_EQ(days_from_civil(1601, 1, 1), 0);
  EXPECT_EQ(weekday_of_days(0), 1u);  // Monday
  EXPECT_EQ(days_from_civil(1970, 1, 1), 134774);
  int y;
  unsigned m, d;
  civil_from_days(days_from_civil(2007, 4, 16), y, m, d);
  EXPECT_EQ(y, 2007);
  EXPECT_EQ(m, 4u);
  EXPECT_EQ(d, 16u);
  EXPECT_EQ(weekday_of_days(days_from_civil(2007, 4, 16)), 1u);  // a Monday
  EXPECT_EQ(minutes_to_filetime(1), 600'000'000);
}

// MS-OXOCAL 4.1.1 example: weekly Mon/Thu/Fri 10:00-10:30, 12 occurrences from 3/26/2007,
// one exception on 4/16/2007 moved to 11:00-11:30 with its own subject and location.
TEST(Recurrence, SpecVectorDecodesEveryField) {
  Bytes blob = read_file(kVector);
  ASSERT_EQ(blob.size(), 0x106u);
  AppointmentRecurrencePattern a = read_appointment_recurrence(blob);
  const RecurrencePattern& p = a.recurrence;
  EXPECT_EQ(p.reader_version, 0x3004);
  EXPECT_EQ(p.writer_version, 0x3004);
  EXPECT_EQ(p.recur_frequency, frequency::Weekly);
  EXPECT_EQ(p.pattern_type, pattern::Week);
  EXPECT_EQ(p.calendar_type, 0);
  // MS-OXOCAL 2.2.1.44.1.1: the Sunday starting the week of 3/26/2007, modulo one week.
  EXPECT_EQ(p.first_date_time, 0x000021C0u);
  EXPECT_EQ(compute_first_date_time(p), p.first_date_time);
  EXPECT_EQ(p.period, 1u);
  EXPECT_EQ(p.sliding_flag, 0u);
  EXPECT_EQ(p.pattern_specific, day_bit::Monday | day_bit::Thursday | day_bit::Friday);
  EXPECT_EQ(p.end_type, end_type::EndAfterNOccurrences);
  EXPECT_EQ(p.occurrence_count, 12u);
  EXPECT_EQ(p.first_dow, 0u);  // Sunday
  ASSERT_EQ(p.deleted_instance_dates.size(), 1u);
  EXPECT_EQ(p.deleted_instance_dates[0], at(2007, 4, 16));
  ASSERT_EQ(p.modified_instance_dates.size(), 1u);
  EXPECT_EQ(p.modified_instance_dates[0], at(2007, 4, 16));
  EXPECT_EQ(p.start_date, at(2007, 3, 26));
  EXPECT_EQ(p.end_date, at(2007, 4, 20));  // the 12th Mon/Thu/Fri from 3/26
  EXPECT_EQ(a.reader_version2, 0x3006u);
  EXPECT_EQ(a.writer_version2, 0x3009u);
  EXPECT_EQ(a.start_time_offset, 600u);  // 10:00
  EXPECT_EQ(a.end_time_offset, 630u);    // 10:30
  ASSERT_EQ(a.exceptions.size(), 1u);
  const ExceptionInfo& e = a.exceptions[0];
  EXPECT_EQ(e.start_date_time, at(2007, 4, 16, 11, 0));
  EXPECT_EQ(e.end_date_time, at(2007, 4, 16, 11, 30));
  EXPECT_EQ(e.original_start_date, at(2007, 4, 16, 10, 0));
  EXPECT_EQ(e.override_flags, aro::Subject | aro::Location);
  EXPECT_EQ(e.subject, "Simple Recurrence with exceptions");
  EXPECT_EQ(e.location, "34/4141");
  EXPECT_TRUE(a.reserved_block1.empty());
  ASSERT_EQ(a.extended_exceptions.size(), 1u);
  const ExtendedException& x = a.extended_exceptions[0];
  EXPECT_EQ(x.change_highlight, 0u);
  EXPECT_TRUE(x.change_highlight_reserved.empty());
  EXPECT_TRUE(x.reserved_ee1.empty());
  EXPECT_EQ(x.start_date_time, e.start_date_time);
  EXPECT_EQ(x.end_date_time, e.end_date_time);
  EXPECT_EQ(x.original_start_date, e.original_start_date);
  EXPECT_EQ(x.subject, "Simple Recurrence with exceptions");
  EXPECT_EQ(x.location, "34/4141");
  EXPECT_TRUE(x.reserved_ee2.empty());
  EXPECT_TRUE(a.reserved_block2.empty());
}

TEST(Recurrence, SpecVectorReencodesByteForByte) {
  Bytes blob = read_file(kVector);
  AppointmentRecurrencePattern a = read_appointment_recurrence(blob);
  EXPECT_EQ(to_hex(write_appointment_recurrence(a)), to_hex(blob));
  // Without the extended exceptions the writer derives them from the ExceptionInfos.
  a.extended_exceptions.clear();
  EXPECT_EQ(to_hex(write_appointment_recurrence(a)), to_hex(blob));
}

TEST(Recurrence, SpecVectorPrefixesAndExtraBytesAreCorrupt) {
  Bytes blob = read_file(kVector);
  for (size_t n = 0; n < blob.size(); ++n) {
    Bytes cut(blob.begin(), blob.begin() + n);
    EXPECT_EQ(code_of([&] { read_appointment_recurrence(cut); }), ErrorCode::MAPI_E_CORRUPT_DATA) << n;
  }
  Bytes longer = blob;
  longer.push_back(0);
  EXPECT_EQ(code_of([&] { read_appointment_recurrence(longer); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  Bytes bad_type = blob;
  bad_type[6] = 0x07;  // PatternType 7 does not exist
  EXPECT_EQ(code_of([&] { read_appointment_recurrence(bad_type); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

TEST(Recurrence, EveryPatternTypeRoundTrips) {
  for (uint16_t pt : {pattern::Day, pattern::Week, pattern::Month, pattern::MonthNth, pattern::MonthEnd,
                      pattern::HjMonth, pattern::HjMonthNth, pattern::HjMonthEnd}) {
    AppointmentRecurrencePattern a;
    a.recurrence.recur_frequency = pt == pattern::Day ? frequency::Daily : pt == pattern::Week ? frequency::Weekly : frequency::Monthly;
    a.recurrence.pattern_type = pt;
    a.recurrence.period = pt == pattern::Day ? 1440 : 1;
    a.recurrence.pattern_specific = pt == pattern::Day ? 0 : 0x3E;
    a.recurrence.nth = (pt == pattern::MonthNth || pt == pattern::HjMonthNth) ? 5 : 0;
    a.recurrence.start_date = at(2024, 1, 1);
    a.recurrence.end_type = end_type::EndAfterDate;
    a.recurrence.end_date = at(2024, 12, 31);
    a.recurrence.deleted_instance_dates = {at(2024, 2, 1), at(2024, 3, 1)};
    a.recurrence.first_date_time = compute_first_date_time(a.recurrence);
    a.start_time_offset = 9 * 60;
    a.end_time_offset = 10 * 60;
    a.writer_version2 = 0x3008;
    ExceptionInfo e;
    e.start_date_time = at(2024, 3, 1, 9);
    e.end_date_time = at(2024, 3, 1, 10);
    e.original_start_date = at(2024, 3, 1, 9);
    e.override_flags = aro::MeetingType | aro::ReminderDelta | aro::Reminder | aro::BusyStatus | aro::Attachment |
                       aro::SubType | aro::AppointmentColor | aro::ExceptionalBody;
    e.meeting_type = 1, e.reminder_delta = 15, e.reminder_set = 1, e.busy_status = 2, e.attachment = 1, e.sub_type = 1,
    e.appointment_color = 3;
    a.exceptions.push_back(e);
    a.reserved_block1 = {1, 2, 3};
    a.reserved_block2 = {4};
    Bytes b = write_appointment_recurrence(a);
    AppointmentRecurrencePattern back = read_appointment_recurrence(b);
    EXPECT_EQ(back, [&] {
      auto c = a;
      c.extended_exceptions.resize(1);  // no subject/location: only the reserved block
      return c;
    }()) << pt;
    EXPECT_EQ(write_appointment_recurrence(back), b);
    // The RecurrencePattern alone (as PidLidTaskRecurrence holds it).
    Bytes rp = write_recurrence_pattern(a.recurrence);
    EXPECT_EQ(read_recurrence_pattern(rp), a.recurrence);
  }
}

TEST(Recurrence, UnicodeExtendedExceptionWithChangeHighlight) {
  AppointmentRecurrencePattern a;
  a.recurrence.recur_frequency = frequency::Daily;
  a.recurrence.period = 1440;
  a.recurrence.start_date = at(2024, 5, 1);
  ExceptionInfo e;
  e.start_date_time = at(2024, 5, 2, 8), e.end_date_time = at(2024, 5, 2, 9), e.original_start_date = at(2024, 5, 2, 7);
  e.override_flags = aro::Subject | aro::Location;
  e.subject = "Caf?";
  e.location = "Z\xfcrich";  // 8-bit Windows-1252, kept as stored
  a.exceptions.push_back(e);
  ExtendedException x;
  x.change_highlight = 0x3;
  x.change_highlight_reserved = {9, 9};
  x.start_date_time = e.start_date_time, x.end_date_time = e.end_date_time, x.original_start_date = e.original_start_date;
  x.subject = "Caf\xc3\xa9 \xf0\x9f\x98\x80";  // é and an emoji (a surrogate pair)
  x.location = "Z\xc3\xbcrich";
  x.reserved_ee2 = {7};
  a.extended_exceptions.push_back(x);
  Bytes b = write_appointment_recurrence(a);
  EXPECT_EQ(read_appointment_recurrence(b), a);
  // Writer version 0x3008: no change highlight on the wire.
  a.writer_version2 = 0x3008;
  a.extended_exceptions[0].change_highlight = 0;
  a.extended_exceptions[0].change_highlight_reserved.clear();
  Bytes b8 = write_appointment_recurrence(a);
  EXPECT_EQ(b8.size() + 10, b.size());
  EXPECT_EQ(read_appointment_recurrence(b8), a);
}

TEST(Recurrence, FirstDateTime) {
  RecurrencePattern p;
  p.recur_frequency = frequency::Daily;
  p.period = 2 * 1440;
  p.start_date = at(2024, 1, 1);
  EXPECT_EQ(compute_first_date_time(p), p.start_date % (2 * 1440));
  p.recur_frequency = frequency::Weekly;
  p.period = 1;
  p.first_dow = 0;
  // Week of Sunday 2023-12-31, modulo one week (1601-01-01 was a Monday: Sunday is day 6).
  EXPECT_EQ(compute_first_date_time(p), 6u * 1440);
  p.recur_frequency = frequency::Monthly;
  p.period = 1;
  EXPECT_EQ(compute_first_date_time(p), 0u);
  p.period = 12;  // yearly: January is month 0 of every year
  EXPECT_EQ(compute_first_date_time(p), 0u);
  p.start_date = at(2024, 3, 15);
  EXPECT_EQ(compute_first_date_time(p), uint32_t(days_from_civil(1601, 3, 1) * 1440));
}
