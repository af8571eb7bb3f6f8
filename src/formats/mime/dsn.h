// Delivery status notifications: the message/delivery-status body (RFC 3464) read and written,
// and its meaning in MAPI (MS-OXCMAIL 2.2.3.7.1): a multipart/report; report-type=delivery-status
// becomes a REPORT.IPM.Note.NDR (or .DR, .Delayed.DR ...) whose recipient table holds the
// recipients it reports on, with PidTagNonDeliveryReport{Status,Diag,Reason}Code,
// PidTagRemoteMessageTransferAgent and PidTagSupplementaryInfo.
//
// Bad input: a body over 1 MiB, more than 1,000 recipient groups or header lines over 8 KiB are
// MAPI_E_CORRUPT_DATA; nothing is allocated for a count the input claims.
// Thread safety: plain functions over their arguments.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/propbag.h"

namespace openmapi::formats {

struct DeliveryStatus {
  std::string reporting_mta;  // the name part of Reporting-MTA ("dns; mx.example.org" -> "mx.example.org")
  std::string envelope_id;    // Original-Envelope-Id
  struct Recipient {
    std::string final_recipient;     // the address of Final-Recipient ("rfc822; a@b" -> "a@b")
    std::string original_recipient;  // likewise
    std::string action;              // lower case: failed, delayed, delivered, relayed, expanded
    std::string status;              // "5.1.1"
    std::string diagnostic;          // Diagnostic-Code whole ("smtp; 550 5.1.1 no such user")
    std::string remote_mta;          // the name part of Remote-MTA
    std::string display_name;        // X-Display-Name (Exchange)
    std::string supplementary;       // X-Supplementary-Info (Exchange)
  };
  std::vector<Recipient> recipients;
};

// Reads a message/delivery-status body: the per-message group, then one group per recipient,
// separated by blank lines (RFC 3464 2.1). MAPI_E_CORRUPT_DATA when it has no recipient group.
DeliveryStatus parse_delivery_status(std::string_view body);

// The body for `status` (CRLF lines; fields with empty values left out).
std::string write_delivery_status(const DeliveryStatus& status);

// What MS-OXCMAIL 2.2.3.7.1.3 makes of a status "K.S.D".
struct StatusCodes {
  int32_t status_code = 0;  // PidTagNonDeliveryReportStatusCode: K*100 + S*10 + D
  int32_t diag_code = -1;   // PidTagNonDeliveryReportDiagCode (-1: MAPI_DIAG_NO_DIAGNOSTIC)
  int32_t reason_code = 0;  // PidTagNonDeliveryReportReasonCode (0: MAPI_REASON_TRANSFER_FAILED)
};
StatusCodes status_codes(std::string_view status);

// Makes `m` (a message read from a multipart/report; report-type=delivery-status) the MAPI report
// MS-OXCMAIL 2.2.3.7.1 describes: its class from the most severe Action, the recipient table
// from the groups with that Action, PidTagReportingMessageTransferAgent. `sent` (FILETIME, 0 when
// unknown) becomes each recipient's PidTagReportTime (and PidTagDeliverTime unless failed).
void apply_delivery_status(Message& m, const DeliveryStatus& status, int64_t sent);

// Whether `message_class` is a delivery report MS-OXCMAIL writes as multipart/report:
// REPORT.<class>.NDR, .DR, .Delayed.DR, .Relayed.DR, .Expanded.DR.
bool is_delivery_report_class(const std::string& message_class);

// The message/delivery-status body for report `m` (MS-OXCMAIL 2.1.3.6.1): Reporting-MTA from
// PidTagReportingMessageTransferAgent (else `host`), one group per recipient with its SMTP
// address, the Action of the class, the Status from PidTagNonDeliveryReportStatusCode (else from
// the diagnostic and reason codes), Remote-MTA, X-Supplementary-Info and X-Display-Name.
DeliveryStatus delivery_status_of(const Message& m, const std::string& host);

// The enhanced status code (RFC 3463) at the start of an SMTP reply text ("5.1.1 no such user"),
// else the class of `code` ("5.0.0", "4.0.0").
std::string enhanced_status(int code, std::string_view text);

}  // namespace openmapi::formats
