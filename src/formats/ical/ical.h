// iCalendar (RFC 5545) <-> appointments and meeting requests, as MS-OXCICAL maps them.
// Parsing and serialising go through libical; the mapping is ours.
//
// Reading: every VEVENT without RECURRENCE-ID becomes one message (several VCALENDARs and
// several VEVENTs per file are fine); VEVENTs with RECURRENCE-ID become exceptions of the
// master with the same UID (or messages of their own when there is none).
//   class          IPM.Appointment; METHOD:REQUEST -> IPM.Schedule.Meeting.Request,
//                  CANCEL -> IPM.Schedule.Meeting.Canceled
//   DTSTART/DTEND  PidLidAppointmentStartWhole/EndWhole, PidTagStartDate/EndDate (UTC; floating
//                  times are taken as UTC), PidLidAppointmentDuration; VALUE=DATE -> all day
//                  (PidLidAppointmentSubType) from 00:00 UTC of the date (00:00 of the zone when there is one)
//   SUMMARY, LOCATION, DESCRIPTION -> PidTagSubject, PidLidLocation, PidTagBody
//   UID            PidLidGlobalObjectId and PidLidCleanGlobalObjectId (MS-OXCICAL 2.1.3.1.1.20.26:
//                  a UID that is a hex GOID is decoded, any other is wrapped as "vCal-Uid")
//   ORGANIZER      PidTagSentRepresentingName/EmailAddress and a recipient flagged recipOrganizer
//   ATTENDEE       recipients: ROLE REQ-PARTICIPANT/CHAIR -> To, OPT-/NON-PARTICIPANT -> Cc,
//                  CUTYPE=RESOURCE/ROOM -> Bcc; PARTSTAT -> PidTagRecipientTrackStatus
//   X-MICROSOFT-CDO-BUSYSTATUS, else TRANSP -> PidLidBusyStatus
//   VALARM         PidLidReminderSet, PidLidReminderDelta (minutes before the start), PidLidReminderSignalTime
//   RRULE          PidLidAppointmentRecur (DAILY, WEEKLY, MONTHLY, YEARLY; COUNT, UNTIL, no end),
//                  PidLidRecurring; rules Outlook cannot express (HOURLY, several BYDAY positions,
//                  BYYEARDAY, ...) leave the event single (its first instance)
//   EXDATE         deleted instance dates; RECURRENCE-ID overrides -> modified instances with
//                  ExceptionInfo (times, subject, location, busy status)
//   VTIMEZONE      of DTSTART -> PidLidTimeZoneStruct, PidLidTimeZoneDescription,
//                  PidLidAppointmentTimeZoneDefinitionStartDisplay/EndDisplay/Recur (its latest rule)
//
// Writing: one VCALENDAR; each message becomes a VEVENT (plus one VEVENT per exception).
// Recurring events with a PidLidTimeZoneStruct get a VTIMEZONE and local times; other times
// are written in UTC.
//
// Errors: text libical cannot parse into any component, or with no VEVENT at all, throws
// MapiError(MAPI_E_CORRUPT_DATA); input over 64 MiB MAPI_E_TOO_BIG. A VEVENT without DTSTART
// is skipped. Named properties get ids in the caller's map (created on read, looked up on write).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/namedprop.h"
#include "core/propbag.h"

namespace openmapi::ical {

std::vector<Message> read_ical(std::string_view text, NamedPropertyMap& names);
// One VCALENDAR holding every message. METHOD:REQUEST when the first is a meeting request,
// METHOD:CANCEL for a cancellation, else METHOD:PUBLISH.
std::string write_ical(const std::vector<Message>& messages, const NamedPropertyMap& names);
std::string write_ical(const Message& message, const NamedPropertyMap& names);

// MS-OXCICAL 2.1.3.1.1.20.26 UID <-> MS-OXOCAL 2.2.1.27 GlobalObjectId.
// `instance_date` (YYYYMMDD as year, month, day; all 0 for the series) goes into YH/YL/M/D.
Bytes global_object_id_from_uid(std::string_view uid, int year = 0, int month = 0, int day = 0);
// The UID: the wrapped text of a "vCal-Uid" GOID, else the GOID (with YH/YL/M/D cleared) in upper-case hex.
std::string uid_from_global_object_id(ByteView goid);

// MS-OXOCAL 2.2.1.39 PidLidTimeZoneStruct (48 bytes) and MS-OXOCAL 2.2.1.41 TZDEFINITION, for tests and tools.
struct SystemTime {  // MS-DTYP SYSTEMTIME; in time zone rules wYear 0 and wDay = week of the month (5 = last)
  uint16_t year = 0, month = 0, day_of_week = 0, day = 0, hour = 0, minute = 0, second = 0, milliseconds = 0;
  friend bool operator==(const SystemTime&, const SystemTime&) = default;
};
struct TimeZoneStruct {
  int32_t bias = 0;           // minutes, UTC = local + bias
  int32_t standard_bias = 0;
  int32_t daylight_bias = 0;  // usually -60
  uint16_t standard_year = 0;
  SystemTime standard_date;   // month 0: no daylight saving time
  uint16_t daylight_year = 0;
  SystemTime daylight_date;
  friend bool operator==(const TimeZoneStruct&, const TimeZoneStruct&) = default;
};
Bytes write_timezone_struct(const TimeZoneStruct& tz);
TimeZoneStruct read_timezone_struct(ByteView data);  // MAPI_E_CORRUPT_DATA unless 48 bytes
// A TZDEFINITION with one rule (effective, recurring), key name `name`.
Bytes write_timezone_definition(const TimeZoneStruct& tz, std::string_view name, uint16_t year);
// The rule effective in the definition (first with TZRULE_FLAG_EFFECTIVE_TZREG, else the last).
TimeZoneStruct read_timezone_definition(ByteView data, std::string* name = nullptr);

}  // namespace openmapi::ical
