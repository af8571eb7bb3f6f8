// Delivery status notifications (formats/mime/dsn.h): RFC 3464 bodies read and written, the
// status code table of MS-OXCMAIL 2.2.3.7.1.3, and real bounces of other mail systems (the
// corpus: Postfix, sendmail, Amazon SES, Exchange-like ones) read as MAPI reports.
#include <gtest/gtest.h>

#include <filesystem>

#include "formats/mime/dsn.h"
#include "formats/mime/mime.h"
#include "test_util.h"

using namespace openmapi;
using namespace openmapi::formats;
namespace fs = std::filesystem;

namespace {

const fs::path kEml = fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "eml";

Message parse_file(const std::string& name) {
  NamedPropertyMap names;
  return parse_mime(openmapi::testing::read_file(kEml / name), names);
}

// The example of RFC 3464 appendix B ("simple failed delivery"), as a body.
constexpr const char* kRfc3464Example =
    "Reporting-MTA: dns; cs.utk.edu\r\n"
    "\r\n"
    "Original-Recipient: rfc822;louisl@larry.slip.umd.edu\r\n"
    "Final-Recipient: rfc822;louisl@larry.slip.umd.edu\r\n"
    "Action: failed\r\n"
    "Status: 4.0.0\r\n"
    "Diagnostic-Code: smtp; 426 connection timed out\r\n"
    "Last-Attempt-Date: Thu, 7 Jul 1994 17:15:49 -0400\r\n";

}  // namespace

TEST(Dsn, TheRfc3464ExampleReads) {
  const DeliveryStatus s = parse_delivery_status(kRfc3464Example);
  EXPECT_EQ(s.reporting_mta, "cs.utk.edu");
  ASSERT_EQ(s.recipients.size(), 1u);
  EXPECT_EQ(s.recipients[0].final_recipient, "louisl@larry.slip.umd.edu");
  EXPECT_EQ(s.recipients[0].original_recipient, "louisl@larry.slip.umd.edu");
  EXPECT_EQ(s.recipients[0].action, "failed");
  EXPECT_EQ(s.recipients[0].status, "4.0.0");
  EXPECT_EQ(s.recipients[0].diagnostic, "smtp; 426 connection timed out");
}

TEST(Dsn, WhatIsWrittenReadsBackAndFoldedFieldsUnfold) {
  DeliveryStatus s;
  s.reporting_mta = "mail.example.com";
  s.recipients.push_back({"bob@example.org", "", "failed", "5.1.1", "smtp; 550 5.1.1 no such user", "mx.example.org", "Bob Example", ""});
  s.recipients.push_back({"carol@example.org", "", "failed", "5.2.2", "smtp; 552 5.2.2 mailbox full", "", "", ""});
  const std::string body = write_delivery_status(s);
  EXPECT_NE(body.find("Final-Recipient: rfc822; bob@example.org\r\n"), std::string::npos) << body;
  const DeliveryStatus back = parse_delivery_status(body);
  ASSERT_EQ(back.recipients.size(), 2u);
  EXPECT_EQ(back.recipients[0].remote_mta, "mx.example.org");
  EXPECT_EQ(back.recipients[0].display_name, "Bob Example");
  EXPECT_EQ(back.recipients[1].status, "5.2.2");
  EXPECT_EQ(back.recipients[1].diagnostic, "smtp; 552 5.2.2 mailbox full");

  const DeliveryStatus folded = parse_delivery_status(
      "Reporting-MTA: dns; a.example\r\n\r\nFinal-Recipient: rfc822; x@b.example\r\nAction: failed\r\nStatus: 5.0.0\r\n"
      "Diagnostic-Code: smtp; 550-5.1.1 The account\r\n    does not exist\r\n");
  EXPECT_EQ(folded.recipients.at(0).diagnostic, "smtp; 550-5.1.1 The account does not exist");
}

TEST(Dsn, BadBodiesAreRefusedWithACode) {
  for (const char* bad : {"", "Reporting-MTA: dns; x\r\n", "garbage\r\n\r\nmore garbage\r\n"}) {
    try {
      parse_delivery_status(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const MapiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::MAPI_E_CORRUPT_DATA);
    }
  }
  std::string many = "Reporting-MTA: dns; x\r\n";
  for (int i = 0; i < 1100; ++i) many += "\r\nFinal-Recipient: rfc822; a@b\r\nAction: failed\r\n";
  EXPECT_THROW(parse_delivery_status(many), MapiError);
  EXPECT_THROW(parse_delivery_status("Reporting-MTA: dns; " + std::string(9000, 'x') + "\r\n"), MapiError);
}

// MS-OXCMAIL 2.2.3.7.1.3: the status code is K*100 + S*10 + D; the rows given in the section.
TEST(Dsn, StatusCodesFollowTheTableOfMsOxcmail) {
  struct Row {
    const char* status;
    int32_t code, diag, reason;
  } rows[] = {
      {"5.1.1", 511, 35, 1},  // MAPI_DIAG_MAIL_RECIPIENT_UNKNOWN, MAPI_REASON_TRANSFER_IMPOSSIBLE
      {"5.1.2", 512, 48, 0},
      {"5.1.3", 513, 32, 0},  // MAIL_ADDRESS_INCORRECT
      {"5.1.4", 514, 1, 0},   // OR_NAME_AMBIGUOUS
      {"5.1.6", 516, 40, 0},  // MAIL_RECIPIENT_MOVED
      {"5.1.9", 519, 0, 0},   // OR_NAME_UNRECOGNIZED
      {"5.2.1", 521, 38, 0},  // MAIL_REFUSED
      {"5.2.2", 522, 13, 0},  // LENGTH_CONSTRAINT_VIOLATD
      {"5.2.4", 524, 30, 0},  // EXPANSION_FAILED
      {"5.4.7", 547, 5, 0},   // MAXIMUM_TIME_EXPIRED
      {"5.0.0", 500, -1, 0},  // nothing to say: MAPI_DIAG_NO_DIAGNOSTIC, MAPI_REASON_TRANSFER_FAILED
      {"5.1.10", 510, 0, 0},  // a detail out of 0-9 counts as 0
  };
  for (const Row& r : rows) {
    const StatusCodes c = status_codes(r.status);
    EXPECT_EQ(c.status_code, r.code) << r.status;
    EXPECT_EQ(c.diag_code, r.diag) << r.status;
    EXPECT_EQ(c.reason_code, r.reason) << r.status;
  }
}

TEST(Dsn, EnhancedStatusComesFromTheReplyTextOrItsClass) {
  EXPECT_EQ(enhanced_status(550, "5.1.1 <x@y>: no such user"), "5.1.1");
  EXPECT_EQ(enhanced_status(552, "5.3.4 too big"), "5.3.4");
  EXPECT_EQ(enhanced_status(550, "no such user"), "5.0.0");
  EXPECT_EQ(enhanced_status(451, "4.4.7 expired"), "4.4.7");
  EXPECT_EQ(enhanced_status(550, "4.4.7 a class that is not the code's"), "5.0.0");
  EXPECT_EQ(enhanced_status(421, "4.4.2"), "4.4.2");
}

// A Postfix bounce for five Gmail recipients: an NDR with all of them, their remote MTA, the codes.
TEST(Dsn, APostfixBounceIsAnNdrForEveryRecipient) {
  const Message m = parse_file("mail__multipart_report_emails__multi_address_bounce1.eml");
  EXPECT_EQ(m.props.get_string(tags::PidTagMessageClass), "REPORT.IPM.Note.NDR");
  EXPECT_EQ(m.props.get_string(tags::PidTagReportingMessageTransferAgent), "lvmail01.LL.com");
  ASSERT_EQ(m.recipients.size(), 5u);
  EXPECT_EQ(m.recipients[0].get_string(tags::PidTagSmtpAddress), "bbbbvhvbbvkjbhfbvbvjhb@gmail.com");
  EXPECT_EQ(m.recipients[1].get_string(tags::PidTagSmtpAddress), "bscdbcjhasbcjhbdscbhbsdhcbj@gmail.com");
  EXPECT_EQ(m.recipients[4].get_string(tags::PidTagSmtpAddress), "qfvhgsvhgsduiohncdhcvhsdfvsfygusd@gmail.com");
  for (const auto& r : m.recipients) {
    EXPECT_EQ(r.get_i32(tags::PidTagRecipientType), recipient_type::To);
    EXPECT_EQ(r.get_string(tags::PidTagRemoteMessageTransferAgent), "gmail-smtp-in.l.google.com");
    EXPECT_EQ(r.get_i32(tags::PidTagNonDeliveryReportStatusCode), 511);
    EXPECT_EQ(r.get_i32(tags::PidTagNonDeliveryReportDiagCode), 35);
    EXPECT_EQ(r.get_i32(tags::PidTagNonDeliveryReportReasonCode), 1);
    const std::string info = r.get_string(tags::PidTagSupplementaryInfo).value_or("");
    EXPECT_EQ(info.rfind("<gmail-smtp-in.l.google.com #5.1.1 smtp; 550-5.1.1 The email account", 0), 0u) << info;
    EXPECT_FALSE(r.find(tags::PidTagDeliverTime));  // failed: no delivery time
    EXPECT_TRUE(r.find(tags::PidTagReportTime));
  }
}

TEST(Dsn, BouncesOfOtherMailSystemsReadAsReports) {
  struct Case {
    const char* file;
    const char* recipient;
    int32_t status;
  } cases[] = {
      {"mail__multipart_report_emails__report_530.eml", "edwin@zzzzzzz.com", 530},
      {"mailparser__delivery-status.eml", "xxxx@xxxx.com", 511},
      {"mimekit__delivery-status.eml", "newsletter-request@imusic.com", 0},            // no Status field
      {"mimekit__delivery-status-no-blank-line.eml", "newsletter-request@imusic.com", 0},
      // The first message/delivery-status part is prose: the second one is read; "<u@ci.com>".
      {"mail__multipart_report_emails__multipart_report_multiple_status.eml", "u@ci.com", 530},
  };
  for (const Case& c : cases) {
    const Message m = parse_file(c.file);
    EXPECT_EQ(m.props.get_string(tags::PidTagMessageClass), "REPORT.IPM.Note.NDR") << c.file;
    ASSERT_GE(m.recipients.size(), 1u) << c.file;
    EXPECT_EQ(m.recipients[0].get_string(tags::PidTagSmtpAddress), c.recipient) << c.file;
    EXPECT_EQ(m.recipients[0].get_i32(tags::PidTagNonDeliveryReportStatusCode), c.status) << c.file;
  }
  // The original's subject from the report's third part.
  EXPECT_EQ(parse_file("mimekit__delivery-status.eml").props.get_string(tags::PidTagOriginalSubject), "unsubscribe");
}

// An ordinary multipart/mixed message with a delivery-status part is not a report.
TEST(Dsn, OnlyAMultipartReportOfDeliveryStatusIsAReport) {
  const std::string mime =
      "From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
      "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; c@d\r\n"
      "Action: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n";
  NamedPropertyMap names;
  const Message m = parse_mime(ByteView(reinterpret_cast<const uint8_t*>(mime.data()), mime.size()), names);
  EXPECT_EQ(m.props.get_string(tags::PidTagMessageClass), "IPM.Note");
  ASSERT_EQ(m.recipients.size(), 1u);
  EXPECT_EQ(m.recipients[0].get_string(tags::PidTagSmtpAddress), "b@example.com");
}

// The most severe Action decides the class; a delay alone is a .Delayed.DR with delivery times.
TEST(Dsn, TheMostSevereActionDecidesTheClass) {
  auto report = [](const std::string& groups) {
    const std::string mime =
        "From: MAILER-DAEMON@example.com\r\nTo: a@example.com\r\nSubject: r\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; example.com\r\n" + groups + "\r\n--b--\r\n";
    NamedPropertyMap names;
    return parse_mime(ByteView(reinterpret_cast<const uint8_t*>(mime.data()), mime.size()), names);
  };
  const Message mixed = report(
      "\r\nFinal-Recipient: rfc822; ok@x.example\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
      "\r\nFinal-Recipient: rfc822; late@x.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n");
  EXPECT_EQ(mixed.props.get_string(tags::PidTagMessageClass), "REPORT.IPM.Note.Delayed.DR");
  ASSERT_EQ(mixed.recipients.size(), 1u);  // only the delayed one
  EXPECT_EQ(mixed.recipients[0].get_string(tags::PidTagSmtpAddress), "late@x.example");
  EXPECT_TRUE(mixed.recipients[0].find(tags::PidTagDeliverTime));
  const Message delivered = report("\r\nFinal-Recipient: rfc822; ok@x.example\r\nAction: delivered\r\nStatus: 2.0.0\r\n");
  EXPECT_EQ(delivered.props.get_string(tags::PidTagMessageClass), "REPORT.IPM.Note.DR");
}
