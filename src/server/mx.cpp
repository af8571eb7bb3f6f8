#include "server/mx.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netdb.h>
#include <resolv.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cstring>

#include "core/error.h"
#include "core/unicode.h"

namespace openmapi::server {

std::optional<std::string> domain_literal_address(const std::string& domain) {
  if (domain.size() < 3 || domain.front() != '[' || domain.back() != ']') return std::nullopt;
  std::string inner = domain.substr(1, domain.size() - 2);
  const bool v6 = inner.size() > 5 && ascii_lower(inner.substr(0, 5)) == "ipv6:";
  if (v6) inner = inner.substr(5);
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(inner, ec);
  if (ec || a.is_v6() != v6) return std::nullopt;
  return a.to_string();
}

std::vector<MxRecord> parse_mx_answer(ByteView answer) {
  if (answer.size() > 65535) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a DNS answer over 64 KiB");
  ns_msg msg;
  if (ns_initparse(answer.data(), int(answer.size()), &msg) != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a malformed DNS answer");
  std::vector<MxRecord> out;
  const int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a malformed DNS answer record");
    if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in) continue;  // CNAMEs on the way
    if (ns_rr_rdlen(rr) < 3) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an MX record too short");
    MxRecord r;
    r.preference = uint16_t(ns_get16(ns_rr_rdata(rr)));
    char name[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, name, sizeof name) < 0)
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "an MX record with a malformed name");
    r.host = name;
    if (r.host == ".") r.host.clear();
    while (!r.host.empty() && r.host.back() == '.') r.host.pop_back();
    out.push_back(std::move(r));
  }
  return out;
}

MxRoute resolve_mx(const std::string& domain) {
  MxRoute route;
  if (domain.empty() || domain.size() > 253) {
    route.failure = SmtpReply{550, "5.1.2 '" + domain.substr(0, 60) + "' is not a domain"};
    return route;
  }
  if (domain.front() == '[') {
    if (auto a = domain_literal_address(domain)) route.hosts.push_back(*a);
    else route.failure = SmtpReply{550, "5.1.2 " + domain.substr(0, 60) + " is not an address"};
    return route;
  }
  struct __res_state state;
  std::memset(&state, 0, sizeof state);
  if (res_ninit(&state) != 0) {
    route.failure = SmtpReply{451, "4.4.3 the resolver cannot start"};
    return route;
  }
  std::vector<uint8_t> answer(65535);
  const int n = res_nquery(&state, domain.c_str(), ns_c_in, ns_t_mx, answer.data(), int(answer.size()));
  const int herr = state.res_h_errno;
  res_nclose(&state);
  if (n < 0) {
    if (herr == HOST_NOT_FOUND) route.failure = SmtpReply{550, "5.1.2 the domain " + domain + " does not exist"};
    else if (herr == NO_DATA) route.hosts.push_back(domain);  // no MX: the implicit MX
    else route.failure = SmtpReply{451, "4.4.3 the DNS gave no answer for " + domain + " (try again later)"};
    return route;
  }
  std::vector<MxRecord> records;
  try {
    records = parse_mx_answer(ByteView(answer.data(), size_t(std::min(n, int(answer.size())))));
  } catch (const MapiError& e) {
    route.failure = SmtpReply{451, std::string("4.4.3 ") + e.what()};
    return route;
  }
  if (records.empty()) {
    route.hosts.push_back(domain);
    return route;
  }
  if (records.size() == 1 && records[0].host.empty()) {
    route.failure = SmtpReply{556, "5.1.10 " + domain + " accepts no mail (null MX)"};
    return route;
  }
  std::stable_sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
  for (const MxRecord& r : records)
    if (!r.host.empty()) route.hosts.push_back(r.host);
  return route;
}

}  // namespace openmapi::server
