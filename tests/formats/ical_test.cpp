// iCalendar <-> appointments (MS-OXCICAL): every valid corpus file converts and agrees with
// libical's own parse of it (VEVENT count, SUMMARY, DTSTART, DTEND, UID, RRULE); invalid files
// convert or fail with MapiError; .ics -> message -> .ics keeps those fields.
#include "formats/ical/ical.h"

#include <gtest/gtest.h>
#include <libical/ical.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "core/catalog.h"
#include "core/filetime.h"
#include "core/unicode.h"
#include "formats/ical/recurrence.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::ical;
using openmapi::testing::code_of;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
std::string ics_dir() { return std::string(OPENMAPI_SHARED_DIR) + "/corpus/ics"; }

std::vector<std::filesystem::path> corpus(const std::string& prefix) {
  std::vector<std::filesystem::path> v;
  for (const auto& e : std::filesystem::directory_iterator(ics_dir()))
    if (e.path().filename().string().rfind(prefix, 0) == 0) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

PropTag named(const NamedPropertyMap& names, std::string_view canonical) {
  const CatalogEntry* e = catalog_find(canonical);
  auto id = names.find(*e->name);
  return id ? PropTag(*id, e->type) : PropTag(0xFFFF, e->type);
}

// What libical itself says about a master VEVENT.
struct Peer {
  std::string summary, uid;
  int64_t start = 0, end = 0;  // FILETIME
  bool has_rrule = false;
  std::string rrule;
  bool timeless = false;  // a METHOD:REPLY event without DTSTART (RFC 5546 allows it)
};

int64_t ft_of(icalcomponent* cal, icalproperty* p, icaltimetype t) {
  const icaltimezone* z = icaltimezone_get_utc_timezone();
  if (!t.is_date && !icaltime_is_utc(t)) {
    if (icalparameter* tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
      const char* id = icalparameter_get_tzid(tzp);
      icaltimezone* found = id ? icalcomponent_get_timezone(cal, id) : nullptr;
      if (!found && id) found = icaltimezone_get_builtin_timezone(id);
      if (found) z = found;
    }
  }
  t.zone = nullptr;
  return (int64_t(icaltime_as_timet_with_zone(t, z)) + kFileTimeEpochOffsetSeconds) * 10'000'000LL;
}

// Masters (no RECURRENCE-ID) with a DTSTART, or in a METHOD:REPLY calendar without one, in file
// order, across every VCALENDAR.
std::vector<Peer> peer_events(const std::string& text, size_t* overrides_without_master = nullptr) {
  std::vector<Peer> out;
  icalcomponent* root = icalparser_parse_string(text.c_str());
  if (!root) return out;
  std::vector<icalcomponent*> cals;
  if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) cals.push_back(root);
  for (icalcomponent* c = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT); c;
       c = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
    cals.push_back(c);
  size_t orphans = 0;
  for (icalcomponent* cal : cals) {
    std::set<std::string> master_uids;
    std::vector<std::string> override_uids;
    for (icalcomponent* ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
      const char* uid = icalcomponent_get_uid(ev);
      if (icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY) && uid) {
        override_uids.push_back(uid);
        continue;
      }
      icalproperty* sp = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
      icaltimetype st = sp ? icalproperty_get_dtstart(sp) : icaltime_null_time();
      if (icaltime_is_null_time(st) || !icaltime_is_valid_time(st)) {
        icalproperty* mp = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
        if (!mp || icalproperty_get_method(mp) != ICAL_METHOD_REPLY) continue;
        Peer p;
        p.summary = icalcomponent_get_summary(ev) ? icalcomponent_get_summary(ev) : "";
        p.uid = uid ? uid : "";
        p.timeless = true;
        out.push_back(p);
        continue;
      }
      if (uid) master_uids.insert(uid);
      Peer p;
      p.summary = icalcomponent_get_summary(ev) ? icalcomponent_get_summary(ev) : "";
      p.uid = uid ? uid : "";
      p.start = ft_of(cal, sp, st);
      p.end = p.start;
      if (icalproperty* ep = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY)) {
        p.end = ft_of(cal, ep, icalproperty_get_dtend(ep));
      } else if (icalproperty* dp = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY)) {
        p.end = p.start + int64_t(icaldurationtype_as_int(icalproperty_get_duration(dp))) * 10'000'000LL;
      } else if (st.is_date) {
        p.end = p.start + 864'000'000'000LL;
      }
      if (icalproperty* rp = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY)) {
        p.has_rrule = true;
        icalrecurrencetype r = icalproperty_get_rrule(rp);
        p.rrule = icalrecurrencetype_as_string(&r);
      }
      out.push_back(p);
    }
    std::set<std::string> counted;
    for (const auto& u : override_uids)
      if (!master_uids.count(u)) ++orphans;
  }
  icalcomponent_free(root);
  if (overrides_without_master) *overrides_without_master = orphans;
  return out;
}

std::string subject(const Message& m) { return m.props.get_string(tags::PidTagSubject).value_or(""); }

}  // namespace

TEST(Ical, GlobalObjectIdFromUid) {
  Bytes g = global_object_id_from_uid("abc-123");
  // MS-OXCICAL: ByteArrayID, zero instance date, times, size, "vCal-Uid", 1, the UID, NUL.
  EXPECT_EQ(to_hex(ByteView(g).first(16)), "040000008200e00074c5b7101a82e008");
  EXPECT_EQ(g.size(), 40u + 12 + 7 + 1);
  EXPECT_EQ(uid_from_global_object_id(g), "abc-123");
  Bytes inst = global_object_id_from_uid("abc-123", 2007, 4, 16);
  EXPECT_EQ(inst[16], 0x07);
  EXPECT_EQ(inst[17], 0xD7);
  EXPECT_EQ(inst[18], 4);
  EXPECT_EQ(inst[19], 16);
  EXPECT_EQ(uid_from_global_object_id(inst), "abc-123");
  // A UID that is a hex GOID (as Outlook writes) is decoded, and comes back as the same hex.
  std::string hex = "040000008200E00074C5B7101A82E00800000000C0BDA2D1B2D4C8010000000000000000100000006E5C1A7A1F1B5E4C9E1C8D5B9B0E1E11";
  Bytes og = global_object_id_from_uid(hex);
  EXPECT_EQ(og.size(), hex.size() / 2);
  EXPECT_EQ(uid_from_global_object_id(og), hex);
}

TEST(Ical, TimeZoneStructures) {
  TimeZoneStruct tz;
  tz.bias = 300;
  tz.daylight_bias = -60;
  tz.standard_date = {0, 11, 0, 1, 2, 0, 0, 0};
  tz.daylight_date = {0, 3, 0, 2, 2, 0, 0, 0};
  Bytes b = write_timezone_struct(tz);
  EXPECT_EQ(b.size(), 48u);
  EXPECT_EQ(read_timezone_struct(b), tz);
  std::string name;
  Bytes def = write_timezone_definition(tz, "Eastern Standard Time", 2007);
  TimeZoneStruct back = read_timezone_definition(def, &name);
  EXPECT_EQ(name, "Eastern Standard Time");
  EXPECT_EQ(back.bias, 300);
  EXPECT_EQ(back.standard_date, tz.standard_date);
  EXPECT_EQ(back.daylight_date, tz.daylight_date);
  EXPECT_EQ(code_of([&] { read_timezone_struct(ByteView(b).first(47)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { read_timezone_definition(ByteView(def).first(def.size() - 1)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

// A meeting written by hand: every mapped field checked.
TEST(Ical, MeetingRequestFields) {
  const char* text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nMETHOD:REQUEST\r\n"
      "BEGIN:VTIMEZONE\r\nTZID:Eastern\r\n"
      "BEGIN:STANDARD\r\nDTSTART:16011104T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n"
      "BEGIN:DAYLIGHT\r\nDTSTART:16010311T020000\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\n"
      "END:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:meeting-1\r\nDTSTAMP:20070301T000000Z\r\n"
      "DTSTART;TZID=Eastern:20070326T100000\r\nDTEND;TZID=Eastern:20070326T103000\r\n"
      "SUMMARY:Simple Recurrence with exceptions\r\nLOCATION:34/4141\r\nDESCRIPTION:Line 1\\nLine 2\r\n"
      "RRULE:FREQ=WEEKLY;COUNT=12;BYDAY=MO,TH,FR;WKST=SU\r\n"
      "EXDATE;TZID=Eastern:20070402T100000\r\n"
      "ORGANIZER;CN=Org:mailto:org@example.com\r\n"
      "ATTENDEE;CN=Req;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:req@example.com\r\n"
      "ATTENDEE;CN=Opt;ROLE=OPT-PARTICIPANT;PARTSTAT=TENTATIVE:mailto:opt@example.com\r\n"
      "ATTENDEE;CN=Room;CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION:mailto:room@example.com\r\n"
      "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n"
      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:meeting-1\r\nDTSTAMP:20070301T000000Z\r\nRECURRENCE-ID;TZID=Eastern:20070416T100000\r\n"
      "DTSTART;TZID=Eastern:20070416T110000\r\nDTEND;TZID=Eastern:20070416T113000\r\n"
      "SUMMARY:Moved\r\nLOCATION:Elsewhere\r\nEND:VEVENT\r\n"
      "END:VCALENDAR\r\n";
  NamedPropertyMap names;
  auto msgs = read_ical(text, names);
  ASSERT_EQ(msgs.size(), 1u);
  const Message& m = msgs[0];
  EXPECT_EQ(m.props.get_string(tags::PidTagMessageClass), "IPM.Schedule.Meeting.Request");
  EXPECT_EQ(subject(m), "Simple Recurrence with exceptions");
  EXPECT_EQ(m.props.get_string(named(names, "PidLidLocation")), "34/4141");
  EXPECT_EQ(m.props.get_string(tags::PidTagBody), "Line 1\nLine 2");
  EXPECT_EQ(format_filetime(*m.props.get_i64(named(names, "PidLidAppointmentStartWhole"))), "2007-03-26T14:00:00Z");
  EXPECT_EQ(format_filetime(*m.props.get_i64(named(names, "PidLidAppointmentEndWhole"))), "2007-03-26T14:30:00Z");
  EXPECT_EQ(format_filetime(*m.props.get_i64(catalog_find("PidTagStartDate")->tag)), "2007-03-26T14:00:00Z");
  EXPECT_EQ(m.props.get_i32(named(names, "PidLidBusyStatus")), 1);
  EXPECT_EQ(m.props.get_bool(named(names, "PidLidReminderSet")), true);
  EXPECT_EQ(m.props.get_i32(named(names, "PidLidReminderDelta")), 15);
  const PropValue* goid = m.props.find(named(names, "PidLidGlobalObjectId"));
  ASSERT_TRUE(goid);
  EXPECT_EQ(uid_from_global_object_id(goid->get<Bytes>()), "meeting-1");
  // Recipients: organizer, To, Cc, Bcc with their track status.
  ASSERT_EQ(m.recipients.size(), 4u);
  PropTag flags = catalog_find("PidTagRecipientFlags")->tag, track = catalog_find("PidTagRecipientTrackStatus")->tag;
  EXPECT_EQ(m.recipients[0].get_i32(flags), 3);
  EXPECT_EQ(m.recipients[0].get_string(tags::PidTagEmailAddress), "org@example.com");
  EXPECT_EQ(m.recipients[1].get_i32(tags::PidTagRecipientType), recipient_type::To);
  EXPECT_EQ(m.recipients[1].get_i32(track), 3);
  EXPECT_EQ(m.recipients[2].get_i32(tags::PidTagRecipientType), recipient_type::Cc);
  EXPECT_EQ(m.recipients[2].get_i32(track), 2);
  EXPECT_EQ(m.recipients[3].get_i32(tags::PidTagRecipientType), recipient_type::Bcc);
  EXPECT_EQ(m.recipients[3].get_i32(track), 5);
  EXPECT_EQ(m.props.get_string(tags::PidTagSentRepresentingName), "Org");
  // Time zone.
  const PropValue* tzs = m.props.find(named(names, "PidLidTimeZoneStruct"));
  ASSERT_TRUE(tzs);
  TimeZoneStruct tz = read_timezone_struct(tzs->get<Bytes>());
  EXPECT_EQ(tz.bias, 300);
  EXPECT_EQ(tz.daylight_bias, -60);
  EXPECT_EQ(tz.standard_date.month, 11);
  EXPECT_EQ(tz.standard_date.day, 1);
  EXPECT_EQ(tz.standard_date.hour, 2);
  EXPECT_EQ(tz.daylight_date.month, 3);
  EXPECT_EQ(tz.daylight_date.day, 2);
  EXPECT_EQ(m.props.get_string(named(names, "PidLidTimeZoneDescription")), "Eastern");
  // The recurrence: the MS-OXOCAL example's pattern, with one deletion and one exception.
  const PropValue* rb = m.props.find(named(names, "PidLidAppointmentRecur"));
  ASSERT_TRUE(rb);
  auto a = recur::read_appointment_recurrence(rb->get<Bytes>());
  const auto& p = a.recurrence;
  EXPECT_EQ(p.recur_frequency, recur::frequency::Weekly);
  EXPECT_EQ(p.pattern_type, recur::pattern::Week);
  EXPECT_EQ(p.period, 1u);
  EXPECT_EQ(p.pattern_specific, 0x32u);
  EXPECT_EQ(p.end_type, recur::end_type::EndAfterNOccurrences);
  EXPECT_EQ(p.occurrence_count, 12u);
  EXPECT_EQ(p.first_dow, 0u);
  EXPECT_EQ(p.first_date_time, 0x21C0u);  // as in the MS-OXOCAL example
  auto day = [](int y, unsigned mo, unsigned d) { return uint32_t(recur::days_from_civil(y, mo, d) * 1440); };
  EXPECT_EQ(p.start_date, day(2007, 3, 26));
  EXPECT_EQ(p.end_date, day(2007, 4, 20));
  EXPECT_EQ(p.deleted_instance_dates, (std::vector<uint32_t>{day(2007, 4, 2), day(2007, 4, 16)}));
  EXPECT_EQ(p.modified_instance_dates, (std::vector<uint32_t>{day(2007, 4, 16)}));
  EXPECT_EQ(a.start_time_offset, 600u);
  EXPECT_EQ(a.end_time_offset, 630u);
  ASSERT_EQ(a.exceptions.size(), 1u);
  EXPECT_EQ(a.exceptions[0].start_date_time, day(2007, 4, 16) + 660);
  EXPECT_EQ(a.exceptions[0].original_start_date, day(2007, 4, 16) + 600);
  EXPECT_EQ(a.exceptions[0].subject, "Moved");
  EXPECT_EQ(a.extended_exceptions[0].location, "Elsewhere");

  // And back: libical reads our text with the same fields.
  std::string out = write_ical(m, names);
  auto peer = peer_events(out);
  ASSERT_EQ(peer.size(), 1u);
  EXPECT_EQ(peer[0].summary, "Simple Recurrence with exceptions");
  EXPECT_EQ(peer[0].uid, "meeting-1");
  EXPECT_EQ(format_filetime(peer[0].start), "2007-03-26T14:00:00Z");
  EXPECT_EQ(format_filetime(peer[0].end), "2007-03-26T14:30:00Z");
  EXPECT_NE(peer[0].rrule.find("FREQ=WEEKLY"), std::string::npos);
  EXPECT_NE(peer[0].rrule.find("COUNT=12"), std::string::npos);
  EXPECT_NE(out.find("METHOD:REQUEST"), std::string::npos);
  EXPECT_NE(out.find("RECURRENCE-ID;TZID=Eastern:20070416T100000"), std::string::npos) << out;
  EXPECT_NE(out.find("EXDATE;TZID=Eastern:20070402T100000"), std::string::npos) << out;
  NamedPropertyMap names2;
  auto again = read_ical(out, names2);
  ASSERT_EQ(again.size(), 1u);
  auto a2 = recur::read_appointment_recurrence(again[0].props.find(named(names2, "PidLidAppointmentRecur"))->get<Bytes>());
  EXPECT_EQ(a2, a);
}

TEST(Ical, AllDayAndMonthly) {
  const char* text =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART;VALUE=DATE:20240110\r\nSUMMARY:Pay day\r\nRRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20241231\r\nTRANSP:TRANSPARENT\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  NamedPropertyMap names;
  auto msgs = read_ical(text, names);
  ASSERT_EQ(msgs.size(), 1u);
  const Message& m = msgs[0];
  EXPECT_EQ(m.props.get_bool(named(names, "PidLidAppointmentSubType")), true);
  EXPECT_EQ(m.props.get_i32(named(names, "PidLidBusyStatus")), 0);
  EXPECT_EQ(format_filetime(*m.props.get_i64(named(names, "PidLidAppointmentEndWhole"))), "2024-01-11T00:00:00Z");
  auto a = recur::read_appointment_recurrence(m.props.find(named(names, "PidLidAppointmentRecur"))->get<Bytes>());
  EXPECT_EQ(a.recurrence.pattern_type, recur::pattern::MonthNth);
  EXPECT_EQ(a.recurrence.pattern_specific, recur::day_bit::Friday);
  EXPECT_EQ(a.recurrence.nth, 5u);
  EXPECT_EQ(a.recurrence.end_type, recur::end_type::EndAfterDate);
  EXPECT_EQ(a.recurrence.occurrence_count, 12u);  // last Fridays of Jan..Dec 2024
  EXPECT_EQ(a.recurrence.end_date, uint32_t(recur::days_from_civil(2024, 12, 27) * 1440));
}

// MS-OXCICAL 2.1.3.1.1.1: REPLY and COUNTER calendars are meeting responses, their class chosen by
// the one ATTENDEE's PARTSTAT; a COUNTER's DTSTART/DTEND are the proposed times, the meeting's own
// coming from X-MS-OLK-ORIGINALSTART/END. Written back, the class chooses METHOD and PARTSTAT.
TEST(Ical, MeetingResponsesAndCounterProposals) {
  // The iTIP examples in the corpus: two acceptances and two refusals (without DTSTART, which a
  // REPLY may leave out), and a COUNTER without PARTSTAT, which no row of the table matches.
  NamedPropertyMap names;
  auto msgs = read_ical(slurp(ics_dir() + "/valid__incoming.ics"), names);
  std::map<std::string, std::string> replies;  // responder -> class
  for (const auto& m : msgs) {
    std::string cls = *m.props.get_string(tags::PidTagMessageClass);
    if (cls.rfind("IPM.Schedule.Meeting.Resp.", 0) == 0)
      replies[*m.props.get_string(tags::PidTagSentRepresentingEmailAddress)] = cls;
  }
  EXPECT_EQ(replies, (std::map<std::string, std::string>{{"B@example.com", "IPM.Schedule.Meeting.Resp.Pos"},
                                                         {"C@example.com", "IPM.Schedule.Meeting.Resp.Neg"},
                                                         {"X@example.com", "IPM.Schedule.Meeting.Resp.Pos"},
                                                         {"Y@example.com", "IPM.Schedule.Meeting.Resp.Neg"}}));
  const char* counter =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nMETHOD:COUNTER\r\nBEGIN:VEVENT\r\nUID:meeting-7\r\n"
      "DTSTAMP:20240301T090000Z\r\nDTSTART:20240305T150000Z\r\nDTEND:20240305T160000Z\r\n"
      "X-MS-OLK-ORIGINALSTART:20240305T140000Z\r\nX-MS-OLK-ORIGINALEND:20240305T143000Z\r\n"
      "ORGANIZER;CN=Olga:mailto:olga@example.com\r\nATTENDEE;CN=Tim;PARTSTAT=TENTATIVE:mailto:tim@example.com\r\n"
      "SUMMARY:Planning\r\nDESCRIPTION:ignored for responses\r\nCOMMENT:Could we start an hour later?\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n";
  NamedPropertyMap n2;
  auto cm = read_ical(counter, n2);
  ASSERT_EQ(cm.size(), 1u);
  const Message& c = cm[0];
  EXPECT_EQ(c.props.get_string(tags::PidTagMessageClass), "IPM.Schedule.Meeting.Resp.Tent");
  EXPECT_EQ(c.props.get_bool(named(n2, "PidLidAppointmentCounterProposal")), true);
  EXPECT_EQ(c.props.get_i32(named(n2, "PidLidResponseStatus")), 0);  // respNone
  EXPECT_EQ(format_filetime(*c.props.get_i64(named(n2, "PidLidAppointmentProposedStartWhole"))), "2024-03-05T15:00:00Z");
  EXPECT_EQ(format_filetime(*c.props.get_i64(named(n2, "PidLidAppointmentProposedEndWhole"))), "2024-03-05T16:00:00Z");
  EXPECT_EQ(format_filetime(*c.props.get_i64(named(n2, "PidLidAppointmentStartWhole"))), "2024-03-05T14:00:00Z");
  EXPECT_EQ(format_filetime(*c.props.get_i64(named(n2, "PidLidAppointmentEndWhole"))), "2024-03-05T14:30:00Z");
  EXPECT_EQ(c.props.get_i32(named(n2, "PidLidAppointmentDuration")), 30);
  EXPECT_EQ(c.props.get_string(tags::PidTagBody), "Could we start an hour later?");
  EXPECT_EQ(c.props.get_string(tags::PidTagSentRepresentingEmailAddress), "tim@example.com");

  // Written back and read by libical: METHOD, PARTSTAT and times as MS-OXCICAL asks.
  std::string out = write_ical(c, n2);
  icalcomponent* root = icalparser_parse_string(out.c_str());
  ASSERT_TRUE(root) << out;
  EXPECT_EQ(icalproperty_get_method(icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY)), ICAL_METHOD_COUNTER);
  icalcomponent* ev = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
  ASSERT_TRUE(ev);
  EXPECT_EQ(icalcomponent_count_properties(ev, ICAL_ATTENDEE_PROPERTY), 1);
  icalproperty* att = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
  EXPECT_EQ(icalparameter_get_partstat(icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER)), ICAL_PARTSTAT_TENTATIVE);
  EXPECT_STREQ(icalproperty_get_attendee(att), "mailto:tim@example.com");
  EXPECT_STREQ(icalproperty_get_organizer(icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY)), "mailto:olga@example.com");
  EXPECT_EQ(icaltime_as_timet(icalcomponent_get_dtstart(ev)), 1709650800);  // 2024-03-05 15:00 UTC, proposed
  EXPECT_STREQ(icalproperty_get_comment(icalcomponent_get_first_property(ev, ICAL_COMMENT_PROPERTY)), "Could we start an hour later?");
  EXPECT_FALSE(icalcomponent_get_first_property(ev, ICAL_DESCRIPTION_PROPERTY));
  EXPECT_NE(out.find("X-MS-OLK-ORIGINALSTART:20240305T140000Z"), std::string::npos) << out;
  icalcomponent_free(root);
  NamedPropertyMap n3;
  auto again = read_ical(out, n3);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].props.get_string(tags::PidTagMessageClass), "IPM.Schedule.Meeting.Resp.Tent");
  EXPECT_EQ(again[0].props.get_i64(named(n3, "PidLidAppointmentStartWhole")), c.props.get_i64(named(n2, "PidLidAppointmentStartWhole")));

  // An acceptance goes out as METHOD:REPLY with PARTSTAT=ACCEPTED, whatever the row's track status.
  for (const auto& m : msgs)
    if (m.props.get_string(tags::PidTagMessageClass) == "IPM.Schedule.Meeting.Resp.Pos") {
      std::string text = write_ical(m, names);
      EXPECT_NE(text.find("METHOD:REPLY"), std::string::npos) << text;
      icalcomponent* r = icalparser_parse_string(text.c_str());
      ASSERT_TRUE(r);
      icalcomponent* e = icalcomponent_get_first_component(r, ICAL_VEVENT_COMPONENT);
      icalproperty* a = icalcomponent_get_first_property(e, ICAL_ATTENDEE_PROPERTY);
      ASSERT_TRUE(a) << text;
      EXPECT_EQ(icalparameter_get_partstat(icalproperty_get_first_parameter(a, ICAL_PARTSTAT_PARAMETER)), ICAL_PARTSTAT_ACCEPTED);
      icalcomponent_free(r);
      break;
    }
}

TEST(Ical, Errors) {
  NamedPropertyMap names;
  EXPECT_EQ(code_of([&] { read_ical("", names); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { read_ical("hello", names); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([&] { read_ical("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", names); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

// Every valid corpus file: converts, and agrees with libical's own reading.
TEST(Ical, ValidCorpusAgreesWithLibical) {
  auto files = corpus("valid__");
  ASSERT_GT(files.size(), 50u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    std::string text = slurp(f);
    NamedPropertyMap names;
    std::vector<Message> msgs;
    try {
      msgs = read_ical(text, names);
    } catch (const MapiError& e) {
      // Only files without any VEVENT may be refused.
      EXPECT_EQ(e.code(), ErrorCode::MAPI_E_CORRUPT_DATA);
      EXPECT_TRUE(peer_events(text).empty()) << e.what();
      continue;
    }
    size_t orphans = 0;
    auto peer = peer_events(text, &orphans);
    ASSERT_EQ(msgs.size(), peer.size() + orphans);
    for (size_t i = 0; i < peer.size(); ++i) {
      const Message& m = msgs[i];
      // Text that is not UTF-8 is kept with U+FFFD for the bad bytes (documented); compare UTF-8 text only.
      if (is_valid_utf8(peer[i].summary)) EXPECT_EQ(subject(m), peer[i].summary) << i;
      if (peer[i].timeless) {
        EXPECT_FALSE(m.props.has(named(names, "PidLidAppointmentStartWhole"))) << i;
      } else {
        EXPECT_EQ(*m.props.get_i64(named(names, "PidLidAppointmentStartWhole")), peer[i].start) << i;
        EXPECT_EQ(*m.props.get_i64(named(names, "PidLidAppointmentEndWhole")), std::max(peer[i].end, peer[i].start)) << i;
      }
      if (!peer[i].uid.empty()) {
        const PropValue* g = m.props.find(named(names, "PidLidCleanGlobalObjectId"));
        ASSERT_TRUE(g) << i;
        EXPECT_EQ(uid_from_global_object_id(g->get<Bytes>()), peer[i].uid) << i;
      }
      bool recurring = m.props.get_bool(named(names, "PidLidRecurring")).value_or(false);
      if (!peer[i].has_rrule) EXPECT_FALSE(recurring) << i;
      if (recurring) {
        auto a = recur::read_appointment_recurrence(m.props.find(named(names, "PidLidAppointmentRecur"))->get<Bytes>());
        const std::string& r = peer[i].rrule;
        uint16_t want = r.find("FREQ=DAILY") != std::string::npos ? recur::frequency::Daily
                        : r.find("FREQ=WEEKLY") != std::string::npos ? recur::frequency::Weekly
                        : r.find("FREQ=MONTHLY") != std::string::npos ? recur::frequency::Monthly
                                                                       : recur::frequency::Yearly;
        if (!(want == recur::frequency::Daily && a.recurrence.recur_frequency == recur::frequency::Weekly))
          EXPECT_EQ(a.recurrence.recur_frequency, want) << r;
        if (r.find("COUNT=") != std::string::npos) {
          EXPECT_EQ(a.recurrence.end_type, recur::end_type::EndAfterNOccurrences) << r;
          EXPECT_EQ(std::to_string(a.recurrence.occurrence_count), r.substr(r.find("COUNT=") + 6, r.find_first_of(";", r.find("COUNT=")) - r.find("COUNT=") - 6)) << r;
        }
      }
    }
  }
}

TEST(Ical, InvalidCorpusConvertsOrFailsCleanly) {
  for (const auto& f : corpus("invalid__")) {
    SCOPED_TRACE(f.filename().string());
    NamedPropertyMap names;
    ErrorCode c = code_of([&] { read_ical(slurp(f), names); });
    EXPECT_TRUE(c == ErrorCode::Success || c == ErrorCode::MAPI_E_CORRUPT_DATA) << error_name(c);
  }
}

// .ics -> messages -> .ics: libical reads the same events (SUMMARY, DTSTART, DTEND, UID, RRULE kind).
TEST(Ical, RoundTripKeepsEvents) {
  for (const auto& f : corpus("valid__")) {
    SCOPED_TRACE(f.filename().string());
    std::string text = slurp(f);
    NamedPropertyMap names;
    std::vector<Message> msgs;
    try {
      msgs = read_ical(text, names);
    } catch (const MapiError&) {
      continue;
    }
    if (msgs.empty()) continue;
    std::string out = write_ical(msgs, names);
    NamedPropertyMap names2;
    auto back = read_ical(out, names2);
    ASSERT_EQ(back.size(), msgs.size()) << out;
    auto peer = peer_events(out);
    ASSERT_EQ(peer.size(), msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i) {
      const Message& m = msgs[i];
      EXPECT_EQ(peer[i].summary, subject(m)) << i;
      EXPECT_EQ(peer[i].start, *m.props.get_i64(named(names, "PidLidAppointmentStartWhole"))) << i;
      EXPECT_EQ(peer[i].end, *m.props.get_i64(named(names, "PidLidAppointmentEndWhole"))) << i;
      const PropValue* g = m.props.find(named(names, "PidLidCleanGlobalObjectId"));
      if (g) EXPECT_EQ(peer[i].uid, uid_from_global_object_id(g->get<Bytes>())) << i;
      bool recurring = m.props.get_bool(named(names, "PidLidRecurring")).value_or(false);
      EXPECT_EQ(peer[i].has_rrule, recurring) << i;
      if (recurring) {
        auto a = recur::read_appointment_recurrence(m.props.find(named(names, "PidLidAppointmentRecur"))->get<Bytes>());
        const PropValue* rb = back[i].props.find(named(names2, "PidLidAppointmentRecur"));
        ASSERT_TRUE(rb) << i;
        auto a2 = recur::read_appointment_recurrence(rb->get<Bytes>());
        EXPECT_EQ(a2.recurrence, a.recurrence) << i << "\n" << out;
        EXPECT_EQ(a2.exceptions, a.exceptions) << i;
      }
    }
  }
}
