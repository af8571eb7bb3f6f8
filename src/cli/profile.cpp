#include "cli/profile.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "core/bytes.h"
#include "mapi/remote.h"
#include "mapi/session.h"
#include "store/pst/pst_mailbox.h"

namespace openmapi::cli {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {
mapi::ProfileStore profiles() { return mapi::ProfileStore(mapi::ProfileStore::default_path()); }
}  // namespace

void profile_create(const std::string& data_dir, const std::string& name, const std::string& mailbox,
                    const RemoteServiceOptions& remote, const std::vector<std::string>& psts, const std::string& display_name) {
  mapi::check_profile_name(name);
  if (mailbox.empty() && psts.empty() && remote.url.empty())
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "give --mailbox NAME, --server URL --user ADDRESS and/or --pst FILE");
  if (remote.url.empty() != remote.user.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "--server and --user go together");
  mapi::Profile p{name, {}};
  if (!mailbox.empty()) {
    auto mb = open_mailbox(data_dir, mailbox);  // must exist and open
    std::string shown = mb->store_properties().get_string(tags::PidTagDisplayName).value_or(mailbox);
    p.services.push_back({"mailbox", mailbox, fs::absolute(mailbox_path(data_dir, mailbox)).lexically_normal().string(), shown});
  }
  if (!remote.url.empty()) {
    mapi::RemoteOptions o;
    o.url = remote.url;
    o.user = remote.user;
    if (!remote.ca_file.empty()) {
      if (!fs::is_regular_file(remote.ca_file)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no CA file '" + remote.ca_file + "'");
      o.ca_file = fs::absolute(remote.ca_file).lexically_normal().string();
    }
    if (remote.password_stdin) {
      std::getline(std::cin, o.password);
      if (!o.password.empty() && o.password.back() == '\r') o.password.pop_back();
    } else if (const char* env = std::getenv("OPENMAPI_PASSWORD")) {
      o.password = env;
    }
    auto mb = mapi::open_remote_mailbox(o);  // the server must accept the logon
    std::string shown = mb->store_properties().get_string(tags::PidTagDisplayName).value_or(remote.user);
    mapi::MessageService svc{"remote", remote.user, o.url, shown};
    if (remote.password_stdin) svc.password = o.password;
    svc.ca_file = o.ca_file;
    p.services.push_back(svc);
  }
  for (const auto& file : psts) {
    if (!fs::is_regular_file(file)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no PST file '" + file + "'");
    store::open_pst_mailbox(file);  // must be a PST/OST we can read
    p.services.push_back({"pst", fs::path(file).filename().string(), fs::absolute(file).lexically_normal().string(),
                          fs::path(file).stem().string()});
  }
  if (!display_name.empty()) p.services[0].display_name = display_name;
  profiles().create(p);
  std::cout << "created profile '" << name << "' with " << p.services.size() << " store(s) in " << profiles().path() << '\n';
}

void profile_ls(bool as_json) {
  const mapi::ProfileFile file = profiles().load();
  const auto& all = file.profiles;
  if (as_json) {
    json out = json::array();
    for (const auto& p : all) {
      json ss = json::array();
      for (const auto& s : p.services) ss.push_back({{"kind", s.kind}, {"name", s.name}, {"path", s.path}, {"display_name", s.display_name}});
      out.push_back({{"name", p.name}, {"stores", ss}, {"default", p.name == file.default_name()}});
    }
    std::cout << json{{"profiles", out}, {"file", profiles().path()}}.dump(2) << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : all) {
    std::string stores;
    for (const auto& s : p.services) stores += (stores.empty() ? "" : ", ") + s.kind + ":" + s.name;
    rows.push_back({p.name, std::to_string(p.services.size()), stores});
  }
  print_table({"PROFILE", "STORES", "SERVICES"}, rows);
}

void profile_show(const std::string& name, bool as_json) {
  mapi::Profile p = profiles().get(name);
  auto session = mapi::Session::logon(p, store::LogonIdentity::system_user());
  auto t = session->message_store_table();
  t->set_columns({tags::PidTagDisplayName, tags::PidTagProviderDisplay, tags::PidTagDefaultStore, tags::PidTagRecordKey});
  auto rows = t->query_rows(1000);
  json out = json::array();
  std::vector<std::vector<std::string>> cells;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const bool def = r[2].get_if<bool>() && *r[2].get_if<bool>();
    const std::string key = r[3].get_if<Bytes>() ? to_hex(*r[3].get_if<Bytes>()) : "";
    out.push_back({{"display_name", value_json(r[0])}, {"kind", value_json(r[1])}, {"default", def}, {"record_key", key},
                   {"path", p.services[i].path}});
    cells.push_back({value_cell(r[0]), value_cell(r[1]), def ? "yes" : "", p.services[i].path});
  }
  if (as_json) std::cout << json{{"name", p.name}, {"stores", out}}.dump(2) << '\n';
  else print_table({"STORE", "KIND", "DEFAULT", "PATH"}, cells);
}

void profile_rm(const std::string& name) {
  profiles().remove(name);
  std::cout << "removed profile '" << name << "'\n";
}

void ab_resolve(const std::string& profile, const std::string& text, bool as_json) {
  if (profile.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the address book is a profile's: give --profile NAME");
  auto session = mapi::Session::logon(profiles().get(profile), store::LogonIdentity::system_user());
  mapi::AddressEntry e = session->address_book().resolve_name(text);
  if (as_json) {
    std::cout << json{{"display_name", e.display_name}, {"address_type", e.address_type}, {"email_address", e.email_address},
                      {"entry_id", to_hex(e.entry_id)}, {"container", e.container}}.dump(2) << '\n';
    return;
  }
  std::cout << e.display_name << " <" << e.email_address << ">" << (e.container.empty() ? " (one-off)" : " (" + e.container + ")") << '\n';
}

}  // namespace openmapi::cli
