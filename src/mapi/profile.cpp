#include "mapi/profile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

std::array<uint8_t, 16> MessageService::uid() const {
  std::array<uint8_t, 16> out{};
  if (uid_hex.size() == 32) {
    for (size_t i = 0; i < 16; ++i) out[i] = uint8_t(std::stoul(uid_hex.substr(2 * i, 2), nullptr, 16));
    return out;
  }
  // Two FNV-1a hashes of kind, name and path (different offsets): stable while they are.
  const std::string key = kind + '\0' + name + '\0' + path;
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  for (unsigned char c : key) {
    a = (a ^ c) * 0x100000001b3ull;
    b = (b ^ c) * 0x100000001b3ull;
  }
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(a >> (8 * i)), out[size_t(8 + i)] = uint8_t(b >> (8 * i));
  return out;
}

std::string ProfileFile::default_name() const {
  if (!default_profile.empty()) return default_profile;
  return profiles.empty() ? std::string() : profiles.front().name;
}

namespace {

void check_file(const ProfileFile& f, void (*complain)(const std::string&)) {
  if (f.profiles.size() > kMaxProfiles) complain("too many profiles");
  for (size_t i = 0; i < f.profiles.size(); ++i) {
    const Profile& prof = f.profiles[i];
    const std::string where = "profile " + std::to_string(i);
    try {
      check_profile_name(prof.name);
    } catch (const MapiError& e) {
      complain(where + ": " + e.what());
    }
    for (size_t j = 0; j < i; ++j)
      if (f.profiles[j].name == prof.name) complain(where + ": the name '" + prof.name + "' is used twice");
    if (prof.services.size() > kMaxServices) complain(where + ": too many services");
    for (size_t k = 0; k < prof.services.size(); ++k) {
      const MessageService& m = prof.services[k];
      const std::string w = where + ", service " + std::to_string(k);
      if (m.kind != "mailbox" && m.kind != "pst" && m.kind != "remote") complain(w + ": unknown kind '" + m.kind.substr(0, 40) + "'");
      if (m.kind == "remote") {
        if (!m.path.empty() && m.path.rfind("https://", 0) != 0) complain(w + ": the 'path' of a remote service is the server's https:// URL");
      } else if (!m.path.empty() && m.path[0] != '/') {
        complain(w + ": 'path' must be absolute (or empty: not configured)");
      }
      if ((!m.password.empty() || !m.ca_file.empty()) && m.kind != "remote") complain(w + ": only a remote service has a password or a CA file");
      if (!m.uid_hex.empty() && (m.uid_hex.size() != 32 || m.uid_hex.find_first_not_of("0123456789abcdef") != std::string::npos))
        complain(w + ": 'uid' must be 32 lower-case hex digits");
      for (const std::string* t : {&m.name, &m.path, &m.display_name, &m.password, &m.ca_file})
        if (t->size() > kMaxText) complain(w + ": a field is too long");
    }
  }
  if (!f.default_profile.empty() &&
      std::none_of(f.profiles.begin(), f.profiles.end(), [&](const Profile& p) { return p.name == f.default_profile; }))
    complain("the default profile '" + f.default_profile.substr(0, 80) + "' is not one of the profiles");
}

[[noreturn]] void invalid(const std::string& what) { throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, what); }

}  // namespace

ProfileFile parse_profile_file(std::string_view text) {
  if (text.size() > kMaxFile) corrupt("larger than 4 MiB");
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) corrupt("not JSON");
  if (!j.is_object()) corrupt("not a JSON object");
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != 1) corrupt("unknown version (this build reads version 1)");
  auto ps = j.find("profiles");
  if (ps == j.end() || !ps->is_array()) corrupt("'profiles' must be an array");
  if (ps->size() > kMaxProfiles) corrupt("too many profiles");
  ProfileFile file;
  if (j.contains("default")) file.default_profile = text_field(j, "default", "the file");
  for (size_t i = 0; i < ps->size(); ++i) {
    const auto& p = (*ps)[i];
    const std::string where = "profile " + std::to_string(i);
    if (!p.is_object()) corrupt(where + " is not an object");
    Profile prof;
    prof.name = text_field(p, "name", where);
    auto ss = p.find("services");
    if (ss == p.end() || !ss->is_array()) corrupt(where + ": 'services' must be an array");
    if (ss->size() > kMaxServices) corrupt(where + ": too many services");
    for (size_t k = 0; k < ss->size(); ++k) {
      const auto& s = (*ss)[k];
      const std::string w = where + ", service " + std::to_string(k);
      if (!s.is_object()) corrupt(w + " is not an object");
      MessageService m{text_field(s, "kind", w), text_field(s, "name", w), text_field(s, "path", w), text_field(s, "display_name", w), ""};
      if (s.contains("uid")) m.uid_hex = text_field(s, "uid", w);
      if (s.contains("password")) m.password = text_field(s, "password", w);
      if (s.contains("ca_file")) m.ca_file = text_field(s, "ca_file", w);
      prof.services.push_back(std::move(m));
    }
    file.profiles.push_back(std::move(prof));
  }
  check_file(file, corrupt);
  return file;
}

std::string serialize_profile_file(const ProfileFile& file) {
  nlohmann::json ps = nlohmann::json::array();
  for (const auto& p : file.profiles) {
    nlohmann::json ss = nlohmann::json::array();
    for (const auto& s : p.services) {
      nlohmann::json o{{"kind", s.kind}, {"name", s.name}, {"path", s.path}, {"display_name", s.display_name}};
      if (!s.uid_hex.empty()) o["uid"] = s.uid_hex;
      if (!s.password.empty()) o["password"] = s.password;
      if (!s.ca_file.empty()) o["ca_file"] = s.ca_file;
      ss.push_back(std::move(o));
    }
    ps.push_back({{"name", p.name}, {"services", ss}});
  }
  nlohmann::json out{{"version", 1}, {"profiles", ps}};
  if (!file.default_profile.empty()) out["default"] = file.default_profile;
  return out.dump(2) + "\n";
}

std::vector<Profile> parse_profiles(std::string_view text) { return parse_profile_file(text).profiles; }
std::string serialize_profiles(const std::vector<Profile>& profiles) { return serialize_profile_file({profiles, ""}); }

std::string ProfileStore::default_path() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x == '/') return std::string(x) + "/openmapi/profiles.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/openmapi/profiles.json";
}

ProfileFile ProfileStore::load() const {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return {};
  if (!std::filesystem::is_regular_file(path_, ec)) corrupt("'" + path_ + "' is not a regular file");
  auto size = std::filesystem::file_size(path_, ec);
  if (ec || size > kMaxFile) corrupt("'" + path_ + "' is larger than 4 MiB");
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot read '" + path_ + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_profile_file(ss.str());
}

std::vector<Profile> ProfileStore::list() const { return load().profiles; }

Profile ProfileStore::get(const std::string& name) const {
  for (auto& p : list())
    if (p.name == name) return p;
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no profile '" + name.substr(0, 80) + "' (see 'openmapi profile ls')");
}

Profile ProfileStore::get_default() const {
  const ProfileFile f = load();
  const std::string name = f.default_name();
  for (const auto& p : f.profiles)
    if (p.name == name) return p;
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "there is no profile (see 'openmapi profile create')");
}

void ProfileStore::create(const Profile& p) {
  check_profile_name(p.name);
  if (p.services.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a profile needs at least one message service");
  for (const auto& s : p.services)
    if (s.kind == "remote" ? s.path.rfind("https://", 0) != 0 || s.name.empty()
                           : (s.kind != "mailbox" && s.kind != "pst") || s.path.empty() || s.path[0] != '/')
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER,
                  "a service is a mailbox or a PST file with an absolute path, or a remote mailbox with a user and an https:// URL");
  ProfileFile f = load();
  for (const auto& q : f.profiles)
    if (q.name == p.name) throw_error(ErrorCode::MAPI_E_COLLISION, "a profile named '" + p.name + "' exists already");
  f.profiles.push_back(p);
  store(f);
}

void ProfileStore::remove(const std::string& name) {
  ProfileFile f = load();
  auto n = f.profiles.size();
  std::erase_if(f.profiles, [&](const Profile& p) { return p.name == name; });
  if (f.profiles.size() == n) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no profile '" + name.substr(0, 80) + "'");
  if (f.default_profile == name) f.default_profile.clear();
  store(f);
}

void ProfileStore::store(const ProfileFile& file) const {
  check_file(file, invalid);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(path_).parent_path(), ec);
  const std::string tmp = path_ + ".openmapi-tmp";
  const std::string text = serialize_profile_file(file);
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
