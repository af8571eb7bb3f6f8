#include "mapi/profile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace openmapi::mapi {

namespace {
constexpr size_t kMaxFile = 4 << 20;       // a profile file is small; refuse anything larger
constexpr size_t kMaxProfiles = 1000;
constexpr size_t kMaxServices = 64;
constexpr size_t kMaxText = 4096;

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "profile file: " + what); }

std::string text_field(const nlohmann::json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) corrupt(where + ": '" + key + "' must be a string");
  std::string v = it->get<std::string>();
  if (v.size() > kMaxText) corrupt(where + ": '" + key + "' is too long");
  return v;
}
}  // namespace

void check_profile_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' || c == '-');
  if (!ok) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "invalid profile name '" + name.substr(0, 80) + "' (1-64 of A-Z a-z 0-9 . _ @ -)");
}

std::vector<Profile> parse_profiles(std::string_view text) {
  if (text.size() > kMaxFile) corrupt("larger than 4 MiB");
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) corrupt("not JSON");
  if (!j.is_object()) corrupt("not a JSON object");
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != 1) corrupt("unknown version (this build reads version 1)");
  auto ps = j.find("profiles");
  if (ps == j.end() || !ps->is_array()) corrupt("'profiles' must be an array");
  if (ps->size() > kMaxProfiles) corrupt("too many profiles");
  std::vector<Profile> out;
  for (size_t i = 0; i < ps->size(); ++i) {
    const auto& p = (*ps)[i];
    const std::string where = "profile " + std::to_string(i);
    if (!p.is_object()) corrupt(where + " is not an object");
    Profile prof;
    prof.name = text_field(p, "name", where);
    try {
      check_profile_name(prof.name);
    } catch (const MapiError& e) {
      corrupt(where + ": " + e.what());
    }
    for (const auto& q : out)
      if (q.name == prof.name) corrupt(where + ": the name '" + prof.name + "' is used twice");
    auto ss = p.find("services");
    if (ss == p.end() || !ss->is_array()) corrupt(where + ": 'services' must be an array");
    if (ss->size() > kMaxServices) corrupt(where + ": too many services");
    for (size_t k = 0; k < ss->size(); ++k) {
      const auto& s = (*ss)[k];
      const std::string w = where + ", service " + std::to_string(k);
      if (!s.is_object()) corrupt(w + " is not an object");
      MessageService m{text_field(s, "kind", w), text_field(s, "name", w), text_field(s, "path", w), text_field(s, "display_name", w)};
      if (m.kind != "mailbox" && m.kind != "pst") corrupt(w + ": unknown kind '" + m.kind.substr(0, 40) + "'");
      if (m.path.empty() || m.path[0] != '/') corrupt(w + ": 'path' must be absolute");
      prof.services.push_back(std::move(m));
    }
    out.push_back(std::move(prof));
  }
  return out;
}

std::string serialize_profiles(const std::vector<Profile>& profiles) {
  nlohmann::json ps = nlohmann::json::array();
  for (const auto& p : profiles) {
    nlohmann::json ss = nlohmann::json::array();
    for (const auto& s : p.services) ss.push_back({{"kind", s.kind}, {"name", s.name}, {"path", s.path}, {"display_name", s.display_name}});
    ps.push_back({{"name", p.name}, {"services", ss}});
  }
  return nlohmann::json{{"version", 1}, {"profiles", ps}}.dump(2) + "\n";
}

std::string ProfileStore::default_path() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x == '/') return std::string(x) + "/openmapi/profiles.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/openmapi/profiles.json";
}

std::vector<Profile> ProfileStore::list() const {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return {};
  if (!std::filesystem::is_regular_file(path_, ec)) corrupt("'" + path_ + "' is not a regular file");
  auto size = std::filesystem::file_size(path_, ec);
  if (ec || size > kMaxFile) corrupt("'" + path_ + "' is larger than 4 MiB");
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot read '" + path_ + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_profiles(ss.str());
}

Profile ProfileStore::get(const std::string& name) const {
  for (auto& p : list())
    if (p.name == name) return p;
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no profile '" + name.substr(0, 80) + "' (see 'openmapi profile ls')");
}

void ProfileStore::create(const Profile& p) {
  check_profile_name(p.name);
  if (p.services.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a profile needs at least one message service");
  for (const auto& s : p.services)
    if ((s.kind != "mailbox" && s.kind != "pst") || s.path.empty() || s.path[0] != '/')
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a service is a mailbox or a PST file with an absolute path");
  auto all = list();
  for (const auto& q : all)
    if (q.name == p.name) throw_error(ErrorCode::MAPI_E_COLLISION, "a profile named '" + p.name + "' exists already");
  all.push_back(p);
  save(all);
}

void ProfileStore::remove(const std::string& name) {
  auto all = list();
  auto n = all.size();
  std::erase_if(all, [&](const Profile& p) { return p.name == name; });
  if (all.size() == n) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no profile '" + name.substr(0, 80) + "'");
  save(all);
}

void ProfileStore::save(const std::vector<Profile>& all) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(path_).parent_path(), ec);
  const std::string tmp = path_ + ".openmapi-tmp";
  const std::string text = serialize_profiles(all);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot write '" + tmp + "': " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot write '" + path_ + "'");
  }
}

}  // namespace openmapi::mapi
