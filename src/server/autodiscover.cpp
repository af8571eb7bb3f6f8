#include "server/autodiscover.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace openmapi::server {

namespace {

// The text of the first element named `local` (with or without a namespace prefix) inside
// `xml`, entities decoded; nullopt when absent or malformed. Linear, bounded by the input.
std::optional<std::string> element_text(std::string_view xml, std::string_view local) {
  size_t at = 0;
  while ((at = xml.find('<', at)) != std::string_view::npos) {
    size_t name_start = at + 1;
    if (name_start >= xml.size() || xml[name_start] == '/' || xml[name_start] == '?' || xml[name_start] == '!') {
      ++at;
      continue;
    }
    size_t name_end = xml.find_first_of(" \t\r\n/>", name_start);
    if (name_end == std::string_view::npos) return std::nullopt;
    std::string_view name = xml.substr(name_start, name_end - name_start);
    if (auto colon = name.find(':'); colon != std::string_view::npos) name = name.substr(colon + 1);
    const size_t close = xml.find('>', name_end);
    if (close == std::string_view::npos) return std::nullopt;
    if (name != local) {
      at = close;
      continue;
    }
    if (xml[close - 1] == '/') return std::string();  // <EMailAddress/>
    const size_t end = xml.find('<', close + 1);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view raw = xml.substr(close + 1, end - close - 1);
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        out += raw[i];
        continue;
      }
      const size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 10) return std::nullopt;
      std::string_view ent = raw.substr(i + 1, semi - i - 1);
      if (ent == "amp") out += '&';
      else if (ent == "lt") out += '<';
      else if (ent == "gt") out += '>';
      else if (ent == "quot") out += '"';
      else if (ent == "apos") out += '\'';
      else return std::nullopt;  // numeric references have no place in an address or a schema URI
      i = semi;
    }
    // Trim the whitespace around the value.
    size_t b = 0, e = out.size();
    while (b < e && std::isspace(static_cast<unsigned char>(out[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(out[e - 1]))) --e;
    return out.substr(b, e - b);
  }
  return std::nullopt;
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::optional<AutodiscoverRequest> parse_autodiscover_request(std::string_view body) {
  if (body.size() > kMaxAutodiscoverRequest) return std::nullopt;
  if (!element_text(body, "Autodiscover") && body.find("Autodiscover") == std::string_view::npos) return std::nullopt;
  auto email = element_text(body, "EMailAddress");
  if (!email || email->empty() || email->size() > 320) return std::nullopt;
  AutodiscoverRequest r;
  r.email = *email;
  r.schema = element_text(body, "AcceptableResponseSchema").value_or("");
  if (r.schema.size() > 512) return std::nullopt;
  return r;
}

std::string autodiscover_response(const AutodiscoverSettings& s) {
  const std::string x = xml_escape(s.server), id = xml_escape(s.mailbox_id);
  std::string o;
  o += "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n";
  o += "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\r\n";
  o += "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\r\n";
  o += "    <User>\r\n";
  o += "      <DisplayName>" + xml_escape(s.display_name) + "</DisplayName>\r\n";
  o += "      <LegacyDN>" + xml_escape(s.legacy_dn) + "</LegacyDN>\r\n";
  o += "      <AutoDiscoverSMTPAddress>" + xml_escape(s.email) + "</AutoDiscoverSMTPAddress>\r\n";
  o += "      <DeploymentId>" + xml_escape(s.deployment_id) + "</DeploymentId>\r\n";
  o += "    </User>\r\n";
  o += "    <Account>\r\n";
  o += "      <AccountType>email</AccountType>\r\n";
  o += "      <Action>settings</Action>\r\n";
  o += "      <MicrosoftOnline>False</MicrosoftOnline>\r\n";
  o += "      <Protocol>\r\n";
  o += "        <Type>EXCH</Type>\r\n";
  o += "        <Server>" + id + "</Server>\r\n";
  o += "        <ServerDN>" + xml_escape(s.server_dn) + "</ServerDN>\r\n";
  // 0111, major 6 bits, minor 6 bits, 1, build 15 bits: 15.0.847, Exchange 2013 SP1, the first
  // version with MAPI/HTTP (the Exchange documentation's example 738180DA decodes as 14.1.218).
  o += "        <ServerVersion>73C0834F</ServerVersion>\r\n";
  o += "        <MdbDN>" + xml_escape(s.mdb_dn) + "</MdbDN>\r\n";
  o += "        <PublicFolderServer>" + x + "</PublicFolderServer>\r\n";
  o += "        <AD>" + x + "</AD>\r\n";
  o += "        <ASUrl>" + xml_escape(s.base_url) + "/EWS/Exchange.asmx</ASUrl>\r\n";
  o += "        <EwsUrl>" + xml_escape(s.base_url) + "/EWS/Exchange.asmx</EwsUrl>\r\n";
  o += "        <OOFUrl>" + xml_escape(s.base_url) + "/EWS/Exchange.asmx</OOFUrl>\r\n";
  o += "      </Protocol>\r\n";
  o += "      <Protocol>\r\n";
  o += "        <Type>EXPR</Type>\r\n";
  o += "        <Server>" + x + "</Server>\r\n";
  o += "        <SSL>On</SSL>\r\n";
  o += "        <AuthPackage>Basic</AuthPackage>\r\n";
  o += "        <ServerExclusiveConnect>On</ServerExclusiveConnect>\r\n";
  o += "      </Protocol>\r\n";
  if (s.mapi_http) {
    const std::string store = xml_escape(s.base_url + "/mapi/emsmdb/?MailboxId=" + s.mailbox_id);
    const std::string book = xml_escape(s.base_url + "/mapi/nspi/?MailboxId=" + s.mailbox_id);
    o += "      <Protocol Type=\"mapiHttp\" Version=\"1\">\r\n";
    o += "        <MailStore>\r\n";
    o += "          <InternalUrl>" + store + "</InternalUrl>\r\n";
    o += "          <ExternalUrl>" + store + "</ExternalUrl>\r\n";
    o += "        </MailStore>\r\n";
    o += "        <AddressBook>\r\n";
    o += "          <InternalUrl>" + book + "</InternalUrl>\r\n";
    o += "          <ExternalUrl>" + book + "</ExternalUrl>\r\n";
    o += "        </AddressBook>\r\n";
    o += "      </Protocol>\r\n";
  }
  o += "    </Account>\r\n";
  o += "  </Response>\r\n";
  o += "</Autodiscover>\r\n";
  return o;
}

std::string autodiscover_error(int code, const std::string& message) {
  std::string o;
  o += "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n";
  o += "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\r\n";
  o += "  <Response>\r\n";
  o += "    <Error Time=\"" + now_utc() + "\" Id=\"2477272013\">\r\n";
  o += "      <ErrorCode>" + std::to_string(code) + "</ErrorCode>\r\n";
  o += "      <Message>" + xml_escape(message) + "</Message>\r\n";
  o += "      <DebugData />\r\n";
  o += "    </Error>\r\n";
  o += "  </Response>\r\n";
  o += "</Autodiscover>\r\n";
  return o;
}

}  // namespace openmapi::server
