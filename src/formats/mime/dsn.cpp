#include "formats/mime/dsn.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <tuple>

#include "core/entryid.h"
#include "core/error.h"
#include "core/unicode.h"

namespace openmapi::formats {

namespace {

constexpr size_t kMaxBody = 1u << 20;
constexpr size_t kMaxLine = 8192;
constexpr size_t kMaxGroups = 1000;

// Control characters count as spaces (a field value is one line of text).
bool blank(char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && blank(s[b])) ++b;
  while (e > b && blank(s[e - 1])) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out)
    if (blank(c)) c = ' ';
  return out;
}

// "rfc822; a@b" -> "a@b", "dns; mx.example" -> "mx.example": the part after the type.
std::string typed_value(const std::string& v) {
  const size_t semi = v.find(';');
  std::string out = semi == std::string::npos ? trim(v) : trim(std::string_view(v).substr(semi + 1));
  if (out.size() >= 2 && out.front() == '<' && out.back() == '>') out = out.substr(1, out.size() - 2);  // "<u@example.com>", seen in the wild
  return out;
}

// The groups of fields (name lower-cased, value unfolded) separated by blank lines.
using Group = std::vector<std::pair<std::string, std::string>>;
std::vector<Group> field_groups(std::string_view body) {
  std::vector<Group> groups(1);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLine) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a delivery-status line over 8 KiB");
    if (trim(line).empty()) {
      if (!groups.back().empty()) {
        if (groups.size() > kMaxGroups) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a delivery status with over 1000 recipient groups");
        groups.emplace_back();
      }
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !groups.back().empty()) {  // folded
      std::string& v = groups.back().back().second;
      if (v.size() + line.size() > kMaxLine) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a delivery-status field over 8 KiB");
      v += " " + trim(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;  // not a field: ignored (RFC 3464 is strict, readers are not)
    groups.back().emplace_back(ascii_lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  if (groups.back().empty()) groups.pop_back();
  return groups;
}

const std::string* field(const Group& g, std::string_view name) {
  for (const auto& [n, v] : g)
    if (n == name) return &v;
  return nullptr;
}

// Severity of an Action (MS-OXCMAIL 2.2.3.7.1.1) and the class suffix it gives.
struct ActionClass {
  const char* action;
  int severity;
  const char* suffix;
};
constexpr ActionClass kActions[] = {
    {"delivered", 0, ".DR"}, {"expanded", 1, ".Expanded.DR"}, {"relayed", 2, ".Relayed.DR"},
    {"delayed", 3, ".Delayed.DR"}, {"failed", 4, ".NDR"},
};
const ActionClass* action_class(const std::string& action) {
  for (const ActionClass& a : kActions)
    if (action == a.action) return &a;
  return nullptr;
}



}  // namespace

DeliveryStatus parse_delivery_status(std::string_view body) {
  if (body.size() > kMaxBody) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a delivery-status body over 1 MiB");
  std::vector<Group> groups = field_groups(body);
  if (groups.size() == 1) {
    // No blank line after the per-message fields (seen in the wild): the recipient's fields
    // start at its first Original-Recipient or Final-Recipient.
    Group& g = groups[0];
    auto first = std::find_if(g.begin(), g.end(), [](const auto& f) { return f.first == "original-recipient" || f.first == "final-recipient"; });
    if (first != g.end()) {
      Group recipient(first, g.end());
      g.erase(first, g.end());
      groups.push_back(std::move(recipient));
    }
  }
  // No per-message fields at all: the first group is a recipient's.
  if (!groups.empty() && field(groups[0], "final-recipient") && !field(groups[0], "reporting-mta")) groups.insert(groups.begin(), Group{});
  if (groups.size() < 2) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a delivery status without a recipient group");
  DeliveryStatus s;
  if (const std::string* v = field(groups[0], "reporting-mta")) s.reporting_mta = typed_value(*v);
  if (const std::string* v = field(groups[0], "original-envelope-id")) s.envelope_id = *v;
  for (size_t i = 1; i < groups.size(); ++i) {
    const Group& g = groups[i];
    DeliveryStatus::Recipient r;
    auto get = [&](std::string_view name) -> std::string {
      const std::string* v = field(g, name);
      return v ? *v : std::string();
    };
    r.final_recipient = typed_value(get("final-recipient"));
    r.original_recipient = typed_value(get("original-recipient"));
    r.action = ascii_lower(trim(get("action")));
    if (const size_t sp = r.action.find_first_of(" ("); sp != std::string::npos) r.action.resize(sp);  // "failed (bad mailbox)"
    r.status = trim(get("status"));
    if (const size_t sp = r.status.find_first_of(" ("); sp != std::string::npos) r.status.resize(sp);
    r.diagnostic = get("diagnostic-code");
    r.remote_mta = typed_value(get("remote-mta"));
    r.display_name = get("x-display-name");
    r.supplementary = get("x-supplementary-info");
    if (r.final_recipient.empty() && r.action.empty()) continue;  // not a recipient group
    s.recipients.push_back(std::move(r));
  }
  if (s.recipients.empty()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a delivery status without a recipient group");
  return s;
}

std::string write_delivery_status(const DeliveryStatus& s) {
  auto clean = [](const std::string& v) {  // one line, no control characters
    std::string out;
    for (char c : v) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? ' ' : c;
    return out;
  };
  std::string out;
  out += "Reporting-MTA: dns; " + (s.reporting_mta.empty() ? std::string("localhost") : clean(s.reporting_mta)) + "\r\n";  // required (RFC 3464 2.2.2)
  if (!s.envelope_id.empty()) out += "Original-Envelope-Id: " + clean(s.envelope_id) + "\r\n";
  for (const DeliveryStatus::Recipient& r : s.recipients) {
    out += "\r\n";
    if (!r.original_recipient.empty()) out += "Original-Recipient: rfc822; " + clean(r.original_recipient) + "\r\n";
    out += "Final-Recipient: rfc822; " + clean(r.final_recipient) + "\r\n";
    out += "Action: " + clean(r.action) + "\r\n";
    out += "Status: " + clean(r.status) + "\r\n";
    if (!r.remote_mta.empty()) out += "Remote-MTA: dns; " + clean(r.remote_mta) + "\r\n";
    if (!r.diagnostic.empty()) out += "Diagnostic-Code: " + clean(r.diagnostic) + "\r\n";
    if (!r.display_name.empty() && r.display_name != r.final_recipient) out += "X-Display-Name: " + clean(r.display_name) + "\r\n";
    if (!r.supplementary.empty()) out += "X-Supplementary-Info: " + clean(r.supplementary) + "\r\n";
  }
  return out;
}

StatusCodes status_codes(std::string_view status) {
  StatusCodes c;
  // "K.S.D": each a number; a subject or detail out of 0-9 counts as 0.
  int part[3] = {0, 0, 0};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = status.find('.', pos);
    if (end == std::string_view::npos) end = status.size();
    const std::string_view digits = status.substr(std::min(pos, status.size()), end - std::min(pos, status.size()));
    int v = 0;
    bool ok = !digits.empty() && digits.size() <= 3;
    for (char ch : digits) ok = ok && std::isdigit(static_cast<unsigned char>(ch));
    if (ok)
      for (char ch : digits) v = v * 10 + (ch - '0');
    part[i] = (i > 0 && (!ok || v > 9)) ? 0 : (ok ? v : 0);
    pos = end + 1;
  }
  const int k = part[0], s = part[1], d = part[2];
  c.status_code = k * 100 + s * 10 + d;
  // MS-OXCMAIL 2.2.3.7.1.3, by subject and detail.
  auto set = [&](int diag, int reason = 0) {
    c.diag_code = diag;
    c.reason_code = reason;
  };
  switch (s) {
    case 1:
      if (d == 1) set(35, 1);       // MAPI_DIAG_MAIL_RECIPIENT_UNKNOWN, MAPI_REASON_TRANSFER_IMPOSSIBLE
      else if (d == 2) set(48);
      else if (d == 3) set(32);     // MAIL_ADDRESS_INCORRECT
      else if (d == 4) set(1);      // OR_NAME_AMBIGUOUS
      else if (d == 6) set(40);     // MAIL_RECIPIENT_MOVED
      else set(0);                  // OR_NAME_UNRECOGNIZED
      break;
    case 2:
      if (d == 2 || d == 3) set(13);  // LENGTH_CONSTRAINT_VIOLATD
      else if (d == 4) set(30);       // EXPANSION_FAILED
      else set(38);                   // MAIL_REFUSED
      break;
    case 3:
      if (d == 3 || d == 5) set(18);  // CRITICAL_FUNC_UNSUPPORTED
      else if (d == 4) set(13);
      else if (d != 2) set(38);
      break;
    case 4:
      if (d == 3) set(-1, 6);          // MAPI_REASON_DIRECTORY_OPERATN_FAILED
      else if (d == 6 || d == 8) set(3);  // LOOP_DETECTED
      else if (d == 7) set(5);         // MAXIMUM_TIME_EXPIRED
      else if (d != 0 && d != 4) set(2);  // MTS_CONGESTED
      break;
    case 5:
      if (d == 3) set(16);       // TOO_MANY_RECIPIENTS
      else if (d == 4) set(11);  // PARAMETERS_INVALID
      else set(17);              // NO_BILATERAL_AGREEMENT
      break;
    case 6:
      if (d == 2) set(9);        // PROHIBITED_TO_CONVERT
      else if (d == 3) set(8);   // IMPRACTICAL_TO_CONVERT
      else if (d == 4) set(25);  // MULTIPLE_INFO_LOSSES
      else if (d == 5) set(-1, 2);  // MAPI_REASON_CONVERSION_NOT_PERFORMED
      else set(15);              // CONTENT_TYPE_UNSUPPORTED
      break;
    case 7:
      if (d == 1) set(29);       // SUBMISSION_PROHIBITED
      else if (d == 2) set(28);  // EXPANSION_PROHIBITED
      else if (d == 3) set(26);  // REASSIGNMENT_PROHIBITED
      else set(46);              // SECURE_MESSAGING_ERROR
      break;
    default:
      break;
  }
  return c;
}

void apply_delivery_status(Message& m, const DeliveryStatus& status, int64_t sent) {
  const ActionClass* top = nullptr;
  for (const auto& r : status.recipients)
    if (const ActionClass* a = action_class(r.action); a && (!top || a->severity > top->severity)) top = a;
  if (!top) return;  // no Action this reader knows: the message stays what it was
  const std::string base = m.props.get_string(tags::PidTagMessageClass).value_or("IPM.Note");
  m.props.set(PropValue::string(tags::PidTagMessageClass, "REPORT." + base + top->suffix));
  if (!status.reporting_mta.empty()) m.props.set(PropValue::string(tags::PidTagReportingMessageTransferAgent, status.reporting_mta));
  // The report's addressee (its To) is who received it (MS-OXCMAIL 2.1.3.1.1.1 writes To from
  // these): the recipient table is the reported recipients now.
  if (!m.props.has(tags::PidTagReceivedByEmailAddress))
    for (const PropertyBag& to : m.recipients) {
      if (to.get_i32(tags::PidTagRecipientType).value_or(recipient_type::To) != recipient_type::To) continue;
      const std::string address = to.get_string(tags::PidTagSmtpAddress).value_or(to.get_string(tags::PidTagEmailAddress).value_or(""));
      if (address.empty()) continue;
      const std::string name = to.get_string(tags::PidTagDisplayName).value_or(address);
      for (auto [n, t, e, smtp] : {std::tuple{tags::PidTagReceivedByName, tags::PidTagReceivedByAddressType, tags::PidTagReceivedByEmailAddress,
                                              tags::PidTagReceivedBySmtpAddress},
                                   std::tuple{tags::PidTagReceivedRepresentingName, tags::PidTagReceivedRepresentingAddressType,
                                              tags::PidTagReceivedRepresentingEmailAddress, tags::PidTagReceivedRepresentingSmtpAddress}}) {
        m.props.set(PropValue::string(n, name));
        m.props.set(PropValue::string(t, to.get_string(tags::PidTagAddressType).value_or("SMTP")));
        m.props.set(PropValue::string(e, address));
        m.props.set(PropValue::string(smtp, address));
      }
      break;
    }
  m.recipients.clear();
  for (const auto& r : status.recipients) {
    if (action_class(r.action) != top || r.final_recipient.empty()) continue;  // MS-OXCMAIL: only the most severe Action's groups
    PropertyBag b;
    const std::string& address = r.final_recipient;
    const std::string name = r.display_name.empty() ? address : r.display_name;
    b.set(PropValue::i32(tags::PidTagRecipientType, recipient_type::To));
    b.set(PropValue::string(tags::PidTagDisplayName, name));
    b.set(PropValue::string(tags::PidTagAddressType, "SMTP"));
    b.set(PropValue::string(tags::PidTagEmailAddress, address));
    b.set(PropValue::string(tags::PidTagSmtpAddress, address));
    b.set(PropValue::binary(tags::PidTagEntryId, OneOffEntryId{name, "SMTP", address}.serialize()));
    b.set(PropValue::binary(tags::PidTagSearchKey, address_search_key("SMTP", address)));
    if (!r.remote_mta.empty()) b.set(PropValue::string(tags::PidTagRemoteMessageTransferAgent, r.remote_mta));
    // X-Supplementary-Info, else "<remote-mta #status diagnostic>" (MS-OXCMAIL 2.2.3.7.1.2).
    std::string info = r.supplementary;
    if (info.empty()) {
      info = "<";
      if (!r.remote_mta.empty()) info += r.remote_mta + " ";
      info += "#" + r.status;
      if (!trim(r.diagnostic).empty()) info += " " + trim(r.diagnostic);
      info += ">";
    }
    b.set(PropValue::string(tags::PidTagSupplementaryInfo, info));
    if (sent) {
      b.set(PropValue::time(tags::PidTagReportTime, sent));
      if (r.action != "failed") b.set(PropValue::time(tags::PidTagDeliverTime, sent));
    }
    const StatusCodes codes = status_codes(r.status);
    b.set(PropValue::i32(tags::PidTagNonDeliveryReportStatusCode, codes.status_code));
    b.set(PropValue::i32(tags::PidTagNonDeliveryReportDiagCode, codes.diag_code));
    b.set(PropValue::i32(tags::PidTagNonDeliveryReportReasonCode, codes.reason_code));
    b.set(PropValue::i32(tags::PidTagRowid, int32_t(m.recipients.size())));
    m.recipients.push_back(std::move(b));
  }
  // The display lists follow the recipient table.
  std::string display;
  for (const PropertyBag& r : m.recipients) display += (display.empty() ? "" : "; ") + r.get_string(tags::PidTagDisplayName).value_or("");
  m.props.set(PropValue::string(tags::PidTagDisplayTo, display));
  m.props.set(PropValue::string(tags::PidTagDisplayCc, ""));
  m.props.set(PropValue::string(tags::PidTagDisplayBcc, ""));
}

bool is_delivery_report_class(const std::string& message_class) {
  const std::string c = ascii_lower(message_class);
  if (c.rfind("report.", 0) != 0) return false;
  auto ends = [&](std::string_view suffix) { return c.size() > suffix.size() + 7 && c.compare(c.size() - suffix.size(), suffix.size(), suffix) == 0; };
  return ends(".ndr") || ends(".dr");
}

DeliveryStatus delivery_status_of(const Message& m, const std::string& host) {
  DeliveryStatus s;
  s.reporting_mta = m.props.get_string(tags::PidTagReportingMessageTransferAgent).value_or(host);
  const std::string cls = ascii_lower(m.props.get_string(tags::PidTagMessageClass).value_or(""));
  auto ends = [&](std::string_view suffix) { return cls.size() >= suffix.size() && cls.compare(cls.size() - suffix.size(), suffix.size(), suffix) == 0; };
  const char* action = ends(".ndr") ? "failed" : ends(".expanded.dr") ? "expanded" : ends(".relayed.dr") ? "relayed" : ends(".delayed.dr") ? "delayed" : "delivered";
  for (const PropertyBag& r : m.recipients) {
    DeliveryStatus::Recipient out;
    out.final_recipient = r.get_string(tags::PidTagSmtpAddress).value_or("");
    if (out.final_recipient.empty() && ascii_lower(r.get_string(tags::PidTagAddressType).value_or("")) == "smtp")
      out.final_recipient = r.get_string(tags::PidTagEmailAddress).value_or("");
    if (out.final_recipient.empty()) continue;  // no SMTP address: nothing to name in Final-Recipient
    out.action = action;
    if (auto code = r.get_i32(tags::PidTagNonDeliveryReportStatusCode); code && *code >= 200 && *code <= 599) {
      out.status = std::to_string(*code / 100) + "." + std::to_string(*code / 10 % 10) + "." + std::to_string(*code % 10);
    } else if (std::string(action) != "failed") {
      out.status = std::string(action) == "delayed" ? "4.0.0" : "2.0.0";
    } else {
      // MS-OXCMAIL 2.1.3.6.1.2: from the diagnostic code, or without one from the reason code.
      static const char* const kByDiag[] = {
          "5.1.0", "5.1.4", "4.4.5", "4.4.6", "5.1.0", "4.4.7", "5.3.0", "5.6.0", "5.6.3", "5.6.2", "5.6.0", "5.5.4", "5.6.0",
          "5.3.4", "5.6.0", "5.6.1", "5.5.3", "5.5.5", "5.3.3", "5.6.2", "5.6.0", "5.6.0", "4.6.4", "4.6.4", "4.6.4", "4.6.4",
          "5.7.3", "4.4.6", "5.7.2", "5.7.1", "5.2.4", "5.6.1", "5.1.3", "5.1.0", "5.1.3", "5.1.1", "5.1.0", "5.3.0", "5.3.0",
          "5.1.0", "5.1.6", "5.1.0", "5.1.0", "5.1.6", "5.0.0", "5.0.0", "5.7.0", "5.0.0", "5.1.2"};
      static const char* const kByReason[] = {"5.4.0", "5.1.0", "5.6.5", "5.6.5", "5.2.0", "5.3.0", "4.4.3"};
      const int32_t diag = r.get_i32(tags::PidTagNonDeliveryReportDiagCode).value_or(-1);
      const int32_t reason = r.get_i32(tags::PidTagNonDeliveryReportReasonCode).value_or(0);
      if (diag >= 0) out.status = diag < int32_t(std::size(kByDiag)) ? kByDiag[diag] : "5.0.0";
      else out.status = reason >= 0 && reason < int32_t(std::size(kByReason)) ? kByReason[reason] : "5.4.0";
    }
    out.remote_mta = r.get_string(tags::PidTagRemoteMessageTransferAgent).value_or("");
    out.supplementary = r.get_string(tags::PidTagSupplementaryInfo).value_or("");
    const std::string name = r.get_string(tags::PidTagDisplayName).value_or("");
    if (name != out.final_recipient) out.display_name = name;
    s.recipients.push_back(std::move(out));
  }
  return s;
}

std::string enhanced_status(int code, std::string_view text) {
  // "K.S.D" with K the class, S and D up to three digits each (RFC 3463 2).
  size_t i = 0;
  auto digits = [&](size_t max) {
    size_t n = 0;
    while (i < text.size() && n < max && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++n;
    return n;
  };
  if (text.size() >= 5 && (text[0] == '2' || text[0] == '4' || text[0] == '5') && text[0] - '0' == code / 100) {
    i = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      if (digits(3) > 0 && i < text.size() && text[i] == '.') {
        ++i;
        if (digits(3) > 0 && (i == text.size() || text[i] == ' ')) return std::string(text.substr(0, i));
      }
    }
  }
  return std::to_string(code / 100) + ".0.0";
}

}  // namespace openmapi::formats
