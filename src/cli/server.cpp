#include "cli/server.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "core/error.h"
#include "core/filetime.h"
#include "server/frontend.h"
#include "server/http.h"
#include "server/imap_server.h"
#include "server/pop3_server.h"
#include "server/smtp_server.h"
#include "server/spooler.h"
#include "server/tls.h"
#include "server/users.h"
#include "store/data_dir.h"
#include "store/store.h"

namespace openmapi::cli {

std::string read_password_stdin() {
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "no password on stdin (give it on the first line)");
  return line;
}

void user_add(const std::string& data_dir, const std::string& address, const std::string& display_name, const std::string& mailbox) {
  server::check_address(address);
  const std::string password = read_password_stdin();
  server::UserDirectory users(data_dir, true);
  auto u = users.add(address, display_name, password, mailbox);
  std::cout << "user " << u.address << " (" << u.display_name << "), mailbox " << u.mailbox << '\n';
}

void user_passwd(const std::string& data_dir, const std::string& address) {
  const std::string password = read_password_stdin();
  server::UserDirectory users(data_dir);
  users.set_password(address, password);
  std::cout << "password of " << address << " changed\n";
}

void user_rm(const std::string& data_dir, const std::string& address) {
  server::UserDirectory users(data_dir);
  auto u = users.find(address);
  users.remove(address);
  std::cout << "user " << u->address << " removed; its mailbox '" << u->mailbox << "' stays (openmapi mailbox rm " << u->mailbox << ")\n";
}

void user_ls(const std::string& data_dir, bool json) {
  server::UserDirectory users(data_dir);
  auto list = users.list();
  if (json) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& u : list)
      a.push_back({{"address", u.address}, {"display_name", u.display_name}, {"mailbox", u.mailbox},
                   {"created", format_filetime(u.created)}});
    std::cout << nlohmann::json{{"users", a}, {"count", list.size()}}.dump(2) << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : list) rows.push_back({u.address, u.display_name, u.mailbox, format_filetime(u.created).substr(0, 16)});
  print_table({"Address", "Display name", "Mailbox", "Created"}, rows);
}

void queue_ls(const std::string& data_dir, bool json) {
  struct Entry {
    std::string id, user, subject;
    int64_t submitted;
    std::vector<std::string> recipients;
    store::Mailbox::QueueState state;
  };
  std::vector<Entry> entries;
  for (const auto& u : server::UserDirectory(data_dir).list()) {
    auto mb = store::open_sqlite_mailbox(store::mailbox_file(data_dir, u.mailbox));
    for (const auto& q : mb->queue_entries()) {
      const Message m = mb->load_message(q.id, false);
      Entry e{u.mailbox + ":" + std::to_string(q.id), u.address, m.props.get_string(tags::PidTagSubject).value_or(""), q.submitted, {}, q.state};
      for (const auto& r : m.recipients)
        e.recipients.push_back(r.get_string(tags::PidTagSmtpAddress).value_or(r.get_string(tags::PidTagEmailAddress).value_or(
            r.get_string(tags::PidTagDisplayName).value_or(""))));
      entries.push_back(std::move(e));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.submitted < b.submitted; });
  if (json) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : entries)
      a.push_back({{"id", e.id},
                   {"user", e.user},
                   {"submitted", format_filetime(e.submitted)},
                   {"subject", e.subject},
                   {"recipients", e.recipients},
                   {"attempts", e.state.attempts},
                   {"next_attempt", e.state.next_attempt ? format_filetime(e.state.next_attempt) : std::string()},
                   {"finished", e.state.finished},
                   {"last_error", e.state.last_error}});
    std::cout << nlohmann::json{{"queue", a}, {"count", entries.size()}}.dump(2) << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries)
    rows.push_back({e.id, e.user, format_filetime(e.submitted).substr(0, 19), std::to_string(e.recipients.size()), std::to_string(e.state.attempts),
                    e.subject, e.state.last_error.substr(0, 60)});
  print_table({"ID", "From", "Submitted", "Recipients", "Tries", "Subject", "Last error"}, rows);
}

void queue_flush(const std::string& data_dir) {
  const std::string path = server::spool_flush_file(data_dir);
  std::ofstream(path, std::ios::trunc) << "flush\n";
  if (!std::ofstream(path, std::ios::app)) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "cannot write " + path);
  std::cout << "the server's spooler tries every queued message at its next look (within a second)\n";
}

void queue_rm(const std::string& data_dir, const std::string& id) {
  const size_t colon = id.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size() ||
      id.find_first_not_of("0123456789", colon + 1) != std::string::npos || id.size() - colon > 16)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a queue ID is MAILBOX:MESSAGE-ID, as 'queue ls' shows it");
  const std::string mailbox = id.substr(0, colon);
  const std::string file = store::mailbox_file(data_dir, mailbox);
  if (!std::filesystem::exists(file)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no mailbox '" + mailbox + "'");
  auto mb = store::open_sqlite_mailbox(file);
  mb->abort_submit(std::stoull(id.substr(colon + 1)));
  std::cout << "removed " << id << " from the queue (the message stays in the Outbox, unsent)\n";
}

namespace {

std::shared_ptr<spdlog::logger> make_logger(const server::ServerConfig& c) {
  std::shared_ptr<spdlog::logger> l;
  if (c.log_file.empty()) l = std::make_shared<spdlog::logger>("openmapi", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  else l = std::make_shared<spdlog::logger>("openmapi", std::make_shared<spdlog::sinks::basic_file_sink_mt>(c.log_file));
  l->set_level(spdlog::level::from_str(c.log_level));
  l->flush_on(spdlog::level::info);
  return l;
}

bool loopback(const std::string& address) { return address.rfind("127.", 0) == 0 || address == "::1"; }

}  // namespace

void serve(const ServeOptions& o) {
  server::ServerConfig c;
  c.data_dir = o.data_dir;
  if (!o.config.empty()) c = server::load_config(o.config, c);
  if (o.data_dir_given) c.data_dir = o.data_dir;
  if (!o.listen.empty()) {
    c.listen.clear();
    for (const auto& l : o.listen) c.listen.push_back(server::parse_listen(l));
  }
  if (c.listen.empty()) c.listen.push_back(server::parse_listen("https=127.0.0.1:8443"));
  if (c.host_name.empty()) {
    bool all_loopback = true;
    for (const auto& l : c.listen) all_loopback = all_loopback && loopback(l.address);
    char host[256] = {};
    c.host_name = all_loopback || gethostname(host, sizeof host - 1) != 0 ? "localhost" : host;
  }
  spdlog::set_default_logger(make_logger(c));

  server::UserDirectory users(c.data_dir);
  if (users.list().empty())
    spdlog::warn("no users in {} yet: add one with 'openmapi user add ADDRESS --password-stdin'", c.data_dir);
  auto tls = server::ensure_tls_files(c.data_dir, c.certificate, c.private_key, c.host_name);
  if (tls.created) spdlog::info("made a self-signed certificate for {}: {} (key {})", c.host_name, tls.certificate, tls.private_key);
  else if (tls.self_signed) spdlog::info("using the self-signed certificate {}", tls.certificate);

  // What the users submit leaves their outgoing queues (spooler.h); made before the doors open,
  // so that a `queue flush` after "listening on" is seen as new.
  server::Spooler spooler(c, std::make_shared<server::LocalDelivery>(c.data_dir, c.host_name));
  std::shared_ptr<server::Frontend> frontend;
  server::HttpServer http(c, tls.certificate, tls.private_key, [&frontend](const server::HttpRequest& r) { return frontend->handle(r); });
  http.start();
  server::LineServer mail(http.io(), c, tls.certificate, tls.private_key);
  server::add_smtp_doors(mail, c);
  server::add_pop3_doors(mail, c);
  server::add_imap_doors(mail, c);
  mail.start();
  spooler.start();
  std::vector<std::string> urls;
  auto url = [&](const server::ListenSpec& l) {
    const bool v6 = l.address.find(':') != std::string::npos;
    const std::string host = l.address == "0.0.0.0" || l.address == "::" ? c.host_name : v6 ? "[" + l.address + "]" : l.address;
    return l.proto + "://" + host + ":" + std::to_string(l.port);
  };
  for (const auto& l : http.bound()) urls.push_back(url(l));
  for (const auto& l : mail.bound()) urls.push_back(url(l));
  const std::string base = !c.public_url.empty() ? c.public_url
                           : http.bound().empty() ? "https://" + c.host_name
                                                  : "https://" + c.host_name + ":" + std::to_string(http.bound().front().port);
  frontend = std::make_shared<server::Frontend>(c, base);

  boost::asio::signal_set signals(http.io(), SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      spdlog::set_default_logger(make_logger(c));
      spdlog::info("log reopened");
      signals.async_wait(on_signal);
      return;
    }
    spdlog::info("stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM");
    mail.stop();
    http.stop();
  };
  signals.async_wait(on_signal);
  for (const auto& u : urls) spdlog::info("listening on {}", u);
  if (o.ready) o.ready(urls);
  http.run();
  // The front end's password checks may still be running with a connection of `http` in hand:
  // they finish now, while its io context (destroyed with `http`, declared later) exists.
  frontend.reset();
  spdlog::info("stopped");
}

}  // namespace openmapi::cli
