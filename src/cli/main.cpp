// `openmapi`: the command line of OpenMAPI. See README.md for an overview.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <algorithm>
#include <map>
#include <set>

#include <unistd.h>

#include "cli/common.h"
#include "cli/files.h"
#include "cli/objects.h"
#include "cli/profile.h"
#include "mapi/session.h"
#include "cli/pst.h"
#include "cli/server.h"
#include "server/users.h"
#include "core/catalog.h"
#include "core/entryid.h"
#include "core/restriction.h"
#include "core/sortorder.h"
#include "core/unicode.h"
#include "formats/body/body.h"

using namespace openmapi;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string data_dir_option;
  std::string profile;  // --profile: browse the profile's default store
  std::string dir() const { return cli::data_dir(data_dir_option); }
  // The store a browsing command works on: -m NAME, else the default store of --profile.
  std::shared_ptr<store::Logon> logon(const std::string& mailbox) const {
    if (!mailbox.empty()) return cli::logon_mailbox(dir(), mailbox);
    if (profile.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "give a mailbox (-m NAME) or a profile (--profile NAME)");
    mapi::ProfileStore ps(mapi::ProfileStore::default_path());
    return mapi::Session::logon(ps.get(profile), store::LogonIdentity::system_user())->default_store();
  }
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string part = s.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    start = end + 1;
  }
  return out;
}

uint64_t gc_of(const PropValue* v) {
  if (!v || !v->get_if<int64_t>()) return 0;
  return ObjectId::from_u64(uint64_t(*v->get_if<int64_t>())).gc;
}

store::MessageId parse_message_id(const std::string& s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (s.empty() || *end || v == 0)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + s + "' is not a message id (the ID column of 'message ls')");
  return store::MessageId(v);
}

// ---- mailbox ----------------------------------------------------------------

void mailbox_create(const Options& o, const std::string& name, const std::string& display, const std::string& email,
                    int64_t quota) {
  std::string path = cli::mailbox_path(o.dir(), name);
  fs::create_directories(fs::path(path).parent_path());
  store::MailboxOptions mo{display.empty() ? name : display, email.empty() ? name + "@localhost" : email, quota};
  auto mb = store::create_sqlite_mailbox(path, mo);
  std::cout << "created mailbox '" << name << "' at " << path << '\n';
}

// The data directory must exist to be read (a typo is not an empty listing); only `mailbox
// create` makes one.
void require_data_dir(const Options& o) {
  std::error_code ec;
  const fs::file_status st = fs::status(o.dir(), ec);
  if (!fs::exists(st))
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "data directory '" + o.dir() + "' does not exist ('mailbox create' makes one)");
  if (!fs::is_directory(st)) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "data directory '" + o.dir() + "' is not a directory");
}

void mailbox_ls(const Options& o, bool as_json) {
  require_data_dir(o);
  fs::path dir = fs::path(o.dir()) / "mailboxes";
  std::vector<std::string> names;
  std::error_code ec;
  if (fs::exists(dir, ec))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".sqlite") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  json out = json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : names) {
    // Every file is listed; one that does not open as a mailbox is marked, not fatal.
    try {
      auto mb = cli::open_mailbox(o.dir(), n);
      PropertyBag p = mb->store_properties();
      int64_t size = mb->mailbox_size();
      std::string display = p.get_string(tags::PidTagDisplayName).value_or("");
      out.push_back({{"name", n}, {"display_name", display}, {"size", size}, {"guid", mb->mailbox_guid().to_string()}, {"status", "ok"}});
      rows.push_back({n, display, std::to_string(size), "ok"});
    } catch (const MapiError& e) {
      out.push_back({{"name", n}, {"status", "broken"}, {"error", e.describe()}});
      rows.push_back({n, "", "", "broken: " + error_name(e.code())});
    }
  }
  if (as_json) std::cout << out.dump(2) << '\n';
  else cli::print_table({"NAME", "DISPLAY NAME", "SIZE", "STATUS"}, rows);
}

void mailbox_rm(const Options& o, const std::string& name, bool yes) {
  std::string path = cli::mailbox_path(o.dir(), name);
  if (!fs::exists(path)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no mailbox '" + name + "'");
  // A broken file is removed too (it is where the mailbox of that name lives); a healthy one is
  // described first when a person is asked.
  std::string what = "mailbox '" + name + "'";
  try {
    auto mb = cli::open_mailbox(o.dir(), name);
    what += " (" + std::to_string(mb->mailbox_size()) + " bytes of messages)";
  } catch (const MapiError& e) {
    what += " (broken: " + error_name(e.code()) + ")";
  }
  if (!yes && isatty(STDIN_FILENO)) {
    std::cerr << "remove " << what << " and all its content? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes")
      throw_error(ErrorCode::MAPI_E_USER_CANCEL, "mailbox '" + name + "' kept");
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  std::cout << "removed " << what << '\n';
}

void mailbox_check(const Options& o, const std::string& name) {
  auto mb = cli::open_mailbox(o.dir(), name);
  auto problems = mb->check_integrity();
  if (problems.empty()) {
    std::cout << "mailbox '" << name << "' is healthy\n";
    return;
  }
  for (const auto& p : problems) std::cerr << p << '\n';
  throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, std::to_string(problems.size()) + " problem(s) found in mailbox '" + name + "'");
}

// ---- folders ----------------------------------------------------------------

void print_tree(store::Logon& logon, store::FolderId top, bool as_json) {
  auto table = logon.open_folder(top)->hierarchy_table(store::tableflag::Depth);
  table->set_columns({tags::PidTagDisplayName, tags::PidTagDepth, tags::PidTagContentCount, tags::PidTagContentUnreadCount,
                      tags::PidTagContainerClass, tags::PidTagFolderId});
  auto rows = table->query_rows(100000);
  if (as_json) {
    json out = json::array();
    for (const auto& r : rows)
      out.push_back({{"name", cli::value_json(r[0])}, {"depth", cli::value_json(r[1])}, {"count", cli::value_json(r[2])},
                     {"unread", cli::value_json(r[3])},
                     {"class", r[4].type() == PropType::ErrorCode ? json(nullptr) : cli::value_json(r[4])},
                     {"id", gc_of(&r[5])}});
    std::cout << out.dump(2) << '\n';
    return;
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) {
    int depth = r[1].get_if<int32_t>() ? *r[1].get_if<int32_t>() : 0;
    cells.push_back({std::string(size_t(depth) * 2, ' ') + cli::value_cell(r[0]), cli::value_cell(r[2]), cli::value_cell(r[3]),
                     cli::value_cell(r[4]), std::to_string(gc_of(&r[5]))});
  }
  cli::print_table({"FOLDER", "ITEMS", "UNREAD", "CLASS", "ID"}, cells);
}

store::FolderId resolve_folder(store::Mailbox& mb, const std::string& path) { return mb.folder_by_path(path); }

std::pair<store::FolderId, std::string> split_parent(store::Mailbox& mb, const std::string& path) {
  std::string p = path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return {mb.special_folder(store::SpecialFolder::IpmSubtree), p};
  return {mb.folder_by_path(p.substr(0, slash)), p.substr(slash + 1)};
}

// ---- messages ---------------------------------------------------------------

struct LsOptions {
  std::string folder = "Inbox";
  std::string columns;
  std::string sort = "-received";
  std::string restrict_text;
  uint32_t limit = 50;
  int32_t offset = 0;
  bool associated = false;
  bool deleted = false;
  bool as_json = false;
};

void message_ls(store::Logon& logon, const LsOptions& lo) {
  uint32_t flags = (lo.associated ? store::tableflag::Associated : 0) | (lo.deleted ? store::tableflag::SoftDeletes : 0);
  auto table = logon.open_folder(resolve_folder(logon.mailbox(), lo.folder))->contents_table(flags);
  std::vector<std::string> names = lo.columns.empty() ? std::vector<std::string>{"received", "from", "subject", "size"}
                                                      : split_list(lo.columns);
  std::vector<PropTag> cols{tags::PidTagMid, tags::PidTagMessageFlags, tags::PidTagRowType, tags::PidTagDepth,
                            tags::PidTagContentCount, tags::PidTagContentUnreadCount};
  const size_t fixed = cols.size();
  for (const auto& n : names) cols.push_back(resolve_property_name(n));
  table->set_columns(cols);
  SortOrderSet sort = parse_sort_text(lo.sort);
  table->sort(sort);
  if (!lo.restrict_text.empty()) table->restrict(parse_restriction_text(lo.restrict_text));
  if (lo.offset) table->seek_row(store::BookmarkOrigin::Beginning, lo.offset);
  auto rows = table->query_rows(lo.limit);
  auto [pos, total] = table->query_position();
  if (lo.as_json) {
    json out = json::array();
    for (const auto& r : rows) {
      json row;
      int32_t type = r[2].get_if<int32_t>() ? *r[2].get_if<int32_t>() : 1;
      if (type == store::rowtype::Leaf) row["id"] = gc_of(&r[0]);
      else row["category"] = {{"depth", cli::value_json(r[3])}, {"count", cli::value_json(r[4])},
                              {"unread", cli::value_json(r[5])},
                              {"expanded", type == store::rowtype::ExpandedCategory}};
      for (size_t i = 0; i < names.size(); ++i)
        if (r[fixed + i].type() != PropType::ErrorCode) row[names[i]] = cli::value_json(r[fixed + i]);
      out.push_back(row);
    }
    std::cout << json{{"total", total}, {"rows", out}}.dump(2) << '\n';
    return;
  }
  std::vector<std::string> headers{"ID", ""};
  for (const auto& n : names) {
    std::string h = n;
    for (char& c : h) c = char(std::toupper(static_cast<unsigned char>(c)));
    headers.push_back(h);
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) {
    int32_t type = r[2].get_if<int32_t>() ? *r[2].get_if<int32_t>() : 1;
    std::vector<std::string> line;
    if (type != store::rowtype::Leaf) {
      int depth = r[3].get_if<int32_t>() ? *r[3].get_if<int32_t>() : 0;
      std::string label;
      for (size_t i = 0; i < names.size(); ++i)
        if (r[fixed + i].type() != PropType::ErrorCode && sort.orders.size() > size_t(depth) &&
            cols[fixed + i].id() == sort.orders[size_t(depth)].tag.id())
          label = cli::value_cell(r[fixed + i], 40);
      line = {"", std::string(size_t(depth) * 2, ' ') + (type == store::rowtype::ExpandedCategory ? "v " : "> ") +
                      (label.empty() ? "(none)" : label) + " (" + cli::value_cell(r[4]) + ")"};
      cells.push_back(line);
      continue;
    }
    int32_t mflags = r[1].get_if<int32_t>() ? *r[1].get_if<int32_t>() : 0;
    line = {std::to_string(gc_of(&r[0])), (mflags & msgflag::Read) ? " " : "*"};
    for (size_t i = 0; i < names.size(); ++i) line.push_back(cli::value_cell(r[fixed + i], 48, true));
    cells.push_back(line);
  }
  cli::print_table(headers, cells);
  std::cout << "(" << rows.size() << " of " << total << " rows; * unread)\n";
}

// ---- props catalog ------------------------------------------------------------

void props_catalog(const std::string& query, bool as_json) {
  std::vector<const CatalogEntry*> found;
  if (auto tag = parse_tag(query); tag && (query.rfind("0x", 0) == 0 || query.size() == 8)) {
    found = catalog_find(*tag);
  } else if (const CatalogEntry* e = catalog_find(query)) {
    found.push_back(e);
  }
  if (found.empty()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "'" + query + "' is not in the MS-OXPROPS catalogue");
  json out = json::array();
  for (const CatalogEntry* e : found) {
    json j{{"name", e->canonical_name}, {"type", type_name(e->type)}, {"area", e->area},
           {"alternate_names", e->alternate_names}, {"section", e->section}};
    if (e->name) {
      j["property_set"] = propset::name(e->name->set);
      j["property_set_guid"] = e->name->set.to_string();
      if (e->name->kind == NameKind::Id) j["lid"] = e->name->lid;
      else j["string_name"] = e->name->name;
    } else {
      j["tag"] = e->tag.hex();
      char id[8];
      std::snprintf(id, sizeof id, "0x%04X", e->tag.id());
      j["id"] = id;
    }
    out.push_back(j);
  }
  if (as_json) {
    std::cout << out.dump(2) << '\n';
    return;
  }
  for (const auto& j : out) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string v = it->is_string() ? it->get<std::string>() : it->dump();
      if (!v.empty()) std::cout << it.key() << ": " << v << '\n';
    }
    if (&j != &out.back()) std::cout << '\n';
  }
}

// ---- message files ----------------------------------------------------------------

// The item `index` (1-based; 0: the only one) of a file's items.
cli::MessageFile pick_item(const std::string& path, const std::string& format, size_t index) {
  if (index == 0) return cli::read_message_file(path, format);
  std::vector<cli::MessageFile> items = cli::read_message_files(path, format);
  if (index > items.size())
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "--index " + std::to_string(index) + ": '" + path + "' holds " +
                                                         std::to_string(items.size()) + " item(s)");
  return std::move(items[index - 1]);
}

void props_file(const std::string& path, const std::string& format, bool as_json, size_t index) {
  cli::MessageFile f = pick_item(path, format, index);
  if (as_json) std::cout << cli::message_json(f.message, cli::names_of(f.names)).dump(2) << '\n';
  else cli::print_message(f.message, cli::names_of(f.names));
}

// One item to a file; a file of several items (a .ics with many events, a .vcf with many cards)
// to a directory of files, one per item (<input stem>-<n>.<format>), unless --index picks one.
void convert(const std::string& in, const std::string& out, const std::string& from, const std::string& to, bool tnef, size_t index) {
  // The output format first: a format that cannot be written is refused before anything is read.
  namespace fs = std::filesystem;
  std::error_code dir_ec;
  const bool out_is_dir = fs::is_directory(out, dir_ec) || (!out.empty() && out.back() == '/');
  const std::string single_target = out_is_dir ? std::string() : cli::format_of(out, to);
  const std::string forced_target = to.empty() ? std::string() : cli::format_of("x." + to, to);
  std::vector<cli::MessageFile> items;
  if (index) items.push_back(pick_item(in, from, index));
  else items = cli::read_message_files(in, from);
  const bool to_dir = items.size() > 1;
  std::string target;
  if (to_dir) {
    std::error_code ec;
    // A directory: one that exists, or a name ending in '/' (made).
    if (!out_is_dir)
      throw_error(ErrorCode::MAPI_E_TOO_COMPLEX, "'" + in + "' holds " + std::to_string(items.size()) +
                                                     " items: give a directory to write them to (DIR/), or --index N for one");
    fs::create_directories(out, ec);
    if (ec) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot make the directory '" + out + "': " + ec.message());
    target = forced_target.empty() ? items.front().format : forced_target;
    const std::string stem = fs::path(in).stem().string();
    for (size_t i = 0; i < items.size(); ++i) {
      formats::complete_bodies(items[i].message, target == "msg" || target == "tnef" || tnef);
      const std::string file = (fs::path(out) / (stem + "-" + std::to_string(i + 1) + "." + target)).string();
      cli::write_message_file(items[i], file, target, tnef);
    }
    std::string shown = out;
    while (shown.size() > 1 && shown.back() == '/') shown.pop_back();
    std::cout << "converted " << in << " (" << items.front().format << ", " << items.size() << " items) to " << shown << "/ ("
              << target << ")\n";
    return;
  }
  if (out_is_dir) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + out + "' is a directory: give the output file");
  target = single_target;
  cli::MessageFile& f = items.front();
  // e.g. the HTML an RTF-only .msg carries, for the .eml; RTF only for the formats that carry it
  formats::complete_bodies(f.message, target == "msg" || target == "tnef" || tnef);
  cli::write_message_file(f, out, target, tnef);
  std::cout << "converted " << in << " (" << f.format << ") to " << out << " (" << target << ")\n";
}

// A file name safe to create in a directory: no path separators, no leading dots, not empty.
std::string safe_name(std::string name, size_t index) {
  for (char& c : name)
    if (c == '/' || c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) c = '_';
  while (!name.empty() && name.front() == '.') name.erase(name.begin());
  if (name.empty()) name = "attachment-" + std::to_string(index);
  return name;
}

void attachments(const std::string& path, const std::string& format, const std::string& extract, bool as_json) {
  cli::MessageFile f = cli::read_message_file(path, format);
  json list = json::array();
  std::vector<std::vector<std::string>> rows;
  std::set<std::string> used;
  for (size_t i = 0; i < f.message.attachments.size(); ++i) {
    const Attachment& a = f.message.attachments[i];
    std::string name = attachment_name(a);
    const PropValue* data = a.props.find(tags::PidTagAttachDataBinary);
    std::string type = a.embedded ? "message/rfc822" : a.props.get_string(tags::PidTagAttachMimeTag).value_or("");
    size_t size = data && data->get_if<Bytes>() ? data->get_if<Bytes>()->size() : 0;
    std::string written;
    if (!extract.empty()) {
      fs::create_directories(extract);
      std::string file = safe_name(name, i);
      if (a.embedded && fs::path(file).extension() != ".eml") file += ".eml";
      while (used.count(file)) file = std::to_string(i) + "-" + file;
      used.insert(file);
      cli::MessageFile inner;
      Bytes bytes;
      if (a.embedded) {
        inner.message = *a.embedded;
        inner.names = f.names;
        cli::write_message_file(inner, (fs::path(extract) / file).string(), "eml");
      } else {
        std::ofstream out(fs::path(extract) / file, std::ios::binary);
        if (data && data->get_if<Bytes>())
          out.write(reinterpret_cast<const char*>(data->get_if<Bytes>()->data()), std::streamsize(size));
        if (!out) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot write '" + (fs::path(extract) / file).string() + "'");
      }
      written = (fs::path(extract) / file).string();
    }
    list.push_back({{"index", i}, {"name", name}, {"size", size}, {"type", type}, {"embedded", bool(a.embedded)},
                    {"file", written}});
    rows.push_back({std::to_string(i), name.empty() ? "(no name)" : name, std::to_string(size), type, written});
  }
  if (as_json) std::cout << list.dump(2) << '\n';
  else cli::print_table({"#", "NAME", "SIZE", "TYPE", "EXTRACTED TO"}, rows);
}

// ---- demo ---------------------------------------------------------------------

void demo(const Options& o) {
  const std::string name = "demo";
  std::string path = cli::mailbox_path(o.dir(), name);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  fs::create_directories(fs::path(path).parent_path());
  std::shared_ptr<store::Mailbox> mb = store::create_sqlite_mailbox(path, {"Demo User", "demo@openmapi.test", 0});
  cli::fill_demo_mailbox(*mb);
  auto logon = store::Logon::open(mb, store::LogonIdentity{"demo@openmapi.test"});
  std::cout << "Demo mailbox 'demo' (" << path << "), " << mb->mailbox_size() << " bytes\n\n";
  std::cout << "Folder tree (hierarchy table of the root, all depths):\n";
  print_tree(*logon, mb->special_folder(store::SpecialFolder::Root), false);
  std::cout << "\nInbox (contents table sorted by PidTagMessageDeliveryTime, newest first):\n";
  LsOptions lo;
  lo.columns = "received,from,subject,size";
  message_ls(*logon, lo);
  std::cout << "\nInbox grouped by sender (categorized view):\n";
  lo.columns = "from,received,subject";
  lo.sort = "cat:from,-received";
  message_ls(*logon, lo);
  std::cout << "\nTry: openmapi --data-dir " << o.dir() << " message ls --mailbox demo --restrict 'subject ~ \"report\"'\n";
}

// `demo --serve`: the demo user (kDemoUser, password kDemoPassword) owns the demo mailbox, and
// the server runs on it until interrupted.
constexpr const char* kDemoUser = "demo@openmapi.test";
constexpr const char* kDemoPassword = "demo";

void demo_serve(const Options& o, const std::vector<std::string>& listen) {
  server::UserDirectory users(o.dir(), true);
  if (users.find(kDemoUser)) users.set_password(kDemoUser, kDemoPassword);
  else users.add(kDemoUser, "Demo User", kDemoPassword, "demo");
  cli::ServeOptions so;
  so.data_dir = o.dir();
  so.data_dir_given = true;
  so.listen = listen;
  // The demo's doors: MAPI over HTTP, IMAP and mail in.
  if (so.listen.empty()) so.listen = {"https=127.0.0.1:8443", "imaps=127.0.0.1:9993", "smtp=127.0.0.1:2525"};
  so.ready = [&](const std::vector<std::string>& urls) {
    std::cout << "\nThe server is running (Ctrl-C stops it):\n";
    std::string https, imaps, smtp;
    for (const auto& u : urls) {
      if (u.rfind("https://", 0) == 0) {
        std::cout << "  Autodiscover: " << u << "/autodiscover/autodiscover.xml\n";
        if (https.empty()) https = u;
      } else {
        std::cout << "  " << u << "\n";
        if (u.rfind("imaps://", 0) == 0 && imaps.empty()) imaps = u;
        if (u.rfind("smtp://", 0) == 0 && smtp.empty()) smtp = u;
      }
    }
    if (https.empty()) https = urls.front();
    std::cout << "  user " << kDemoUser << ", password " << kDemoPassword << " (HTTP Basic over TLS; the certificate is self-signed)\n";
    std::cout << "  try: curl -k -u " << kDemoUser << ":" << kDemoPassword << " -H 'X-MapiHttpCapability: 1' -H 'Content-Type: text/xml' \\\n"
              << "         --data '<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">"
                 "<Request><EMailAddress>"
              << kDemoUser
              << "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
                 "</AcceptableResponseSchema></Request></Autodiscover>' "
              << https << "/autodiscover/autodiscover.xml\n";
    if (!imaps.empty())
      std::cout << "  IMAP: curl -k -u " << kDemoUser << ":" << kDemoPassword << " '" << imaps << "/INBOX' -X 'FETCH 1:* (FLAGS ENVELOPE)'\n"
                << "        (or any IMAP client: server " << imaps.substr(8) << ", TLS, the user and password above)\n";
    if (!smtp.empty())
      std::cout << "  Mail in: swaks --server " << smtp.substr(7) << " --to " << kDemoUser << " (then read it over IMAP)\n";
    std::cout << "  MAPI over HTTP: EMSMDB with 91 ROPs (docs/ROPS.md) and the NSPI address book; no Outlook has been tried on it yet.\n"
              << "  More doors: --listen PROTO=ADDR:PORT with imap, submission, lmtp, pop3, pop3s (docs/SERVER.md).\n"
              << std::flush;
  };
  cli::serve(so);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  CLI::App app{"OpenMAPI: an open-source MAPI — mailbox store, formats and tools"};
  app.set_version_flag("--version", std::string("openmapi ") + OPENMAPI_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // --data-dir may come after the subcommand too
  Options o;
  app.add_option("--data-dir", o.data_dir_option, "Data directory (default: $OPENMAPI_DATA_DIR or ./var)");
  app.add_option("--profile", o.profile, "A profile (see 'openmapi profile'): browse its default store instead of -m");

  std::function<void()> action;

  std::string mb_name, display, email;
  bool as_json = false;

  // demo
  auto* demo_cmd = app.add_subcommand("demo", "Create the demo mailbox, fill it, and show its folders and Inbox (--serve: then serve it)");
  bool demo_serve_flag = false;
  std::vector<std::string> listen;
  demo_cmd->add_flag("--serve", demo_serve_flag, "Then run the server on it for the demo user (demo@openmapi.test, password demo)");
  demo_cmd->add_option("--listen", listen,
                       "With --serve: PROTO=ADDR:PORT to listen on (default https=127.0.0.1:8443, imaps=127.0.0.1:9993, smtp=127.0.0.1:2525)");
  demo_cmd->callback([&] {
    action = [&] {
      demo(o);
      if (demo_serve_flag) demo_serve(o, listen);
    };
  });

  // users and the server
  auto* user = app.add_subcommand("user", "The server's users (login by SMTP address; Argon2id password hashes)");
  user->require_subcommand(1);
  std::string address, user_mailbox;
  bool password_stdin = false;
  auto* uadd = user->add_subcommand("add", "Add a user and its mailbox (the password on stdin's first line)");
  uadd->add_option("address", address, "SMTP address (the login name)")->required();
  uadd->add_option("--display-name", display, "Display name (default: the address's local part)");
  uadd->add_option("--mailbox", user_mailbox, "Mailbox name in the data directory (default: the address in lower case; an existing one is taken over)");
  uadd->add_flag("--password-stdin", password_stdin, "Read the password from stdin")->required();
  uadd->callback([&] { action = [&] { cli::user_add(o.dir(), address, display, user_mailbox); }; });
  auto* upass = user->add_subcommand("passwd", "Set a user's password (from stdin's first line)");
  upass->add_option("address", address, "SMTP address")->required();
  upass->add_flag("--password-stdin", password_stdin, "Read the password from stdin")->required();
  upass->callback([&] { action = [&] { cli::user_passwd(o.dir(), address); }; });
  auto* urm = user->add_subcommand("rm", "Remove a user (its mailbox stays)");
  urm->add_option("address", address, "SMTP address")->required();
  urm->callback([&] { action = [&] { cli::user_rm(o.dir(), address); }; });
  auto* uls = user->add_subcommand("ls", "List users");
  uls->add_flag("--json", as_json, "JSON output");
  uls->callback([&] { action = [&] { cli::user_ls(o.dir(), as_json); }; });

  auto* queue = app.add_subcommand("queue", "The spooler's queue: messages submitted and not yet sent");
  queue->require_subcommand(1);
  std::string queue_id;
  auto* qls = queue->add_subcommand("ls", "List the queued messages of every user, oldest first");
  qls->add_flag("--json", as_json, "JSON output");
  qls->callback([&] { action = [&] { cli::queue_ls(o.dir(), as_json); }; });
  auto* qflush = queue->add_subcommand("flush", "Have the running server try every queued message now");
  qflush->callback([&] { action = [&] { cli::queue_flush(o.dir()); }; });
  auto* qrm = queue->add_subcommand("rm", "Take a message out of the queue (it stays in the Outbox, unsent)");
  qrm->add_option("id", queue_id, "The ID 'queue ls' shows (MAILBOX:MESSAGE-ID)")->required();
  qrm->callback([&] { action = [&] { cli::queue_rm(o.dir(), queue_id); }; });

  auto* serve_cmd = app.add_subcommand("serve", "Run the server (HTTPS: Autodiscover, MAPI over HTTP with EMSMDB and NSPI) until SIGINT/SIGTERM");
  cli::ServeOptions so;
  serve_cmd->add_option("--config", so.config, "Configuration file (docs/SERVER.md lists every key)");
  serve_cmd->add_option("--listen", so.listen, "PROTO=ADDR:PORT to listen on, repeatable (default https=127.0.0.1:8443)");
  serve_cmd->callback([&] {
    action = [&] {
      so.data_dir = o.dir();
      so.data_dir_given = !o.data_dir_option.empty() || std::getenv("OPENMAPI_DATA_DIR");
      cli::serve(so);
    };
  });

  // mailbox
  auto* mailbox = app.add_subcommand("mailbox", "Create, list, check and remove mailboxes");
  mailbox->require_subcommand(1);
  int64_t quota = 0;
  auto* mcreate = mailbox->add_subcommand("create", "Create a mailbox with the default folders");
  mcreate->add_option("name", mb_name, "Mailbox name")->required();
  mcreate->add_option("--display-name", display, "Owner display name");
  mcreate->add_option("--email", email, "Owner SMTP address");
  mcreate->add_option("--quota", quota, "Quota in bytes (0: none)");
  mcreate->callback([&] { action = [&] { mailbox_create(o, mb_name, display, email, quota); }; });
  auto* mls = mailbox->add_subcommand("ls", "List mailboxes");
  mls->add_flag("--json", as_json, "JSON output");
  mls->callback([&] { action = [&] { mailbox_ls(o, as_json); }; });
  auto* mrm = mailbox->add_subcommand("rm", "Remove a mailbox and all its content");
  mrm->add_option("name", mb_name, "Mailbox name")->required();
  bool yes = false;
  mrm->add_flag("--yes,-y", yes, "Do not ask (on a terminal, rm asks first)");
  mrm->callback([&] { action = [&] { mailbox_rm(o, mb_name, yes); }; });
  auto* mcheck = mailbox->add_subcommand("check", "Check a mailbox database's integrity");
  mcheck->add_option("name", mb_name, "Mailbox name")->required();
  mcheck->callback([&] { action = [&] { mailbox_check(o, mb_name); }; });

  // folder
  auto* folder = app.add_subcommand("folder", "Show and change the folder tree");
  folder->require_subcommand(1);
  std::string fpath, fclass = "IPF.Note", newname;
  bool recursive = false, all = false;
  auto* ftree = folder->add_subcommand("tree", "Print the folder tree (the IPM subtree; --all from the root)");
  ftree->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  ftree->add_flag("--all", all, "Start at the root folder, not the IPM subtree");
  ftree->add_flag("--json", as_json, "JSON output");
  ftree->callback([&] {
    action = [&] {
      auto logon = o.logon(mb_name);
      print_tree(*logon, logon->mailbox().special_folder(all ? store::SpecialFolder::Root : store::SpecialFolder::IpmSubtree), as_json);
    };
  });
  auto* fcreate = folder->add_subcommand("create", "Create a folder, e.g. Inbox/Projects");
  fcreate->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  fcreate->add_option("path", fpath, "Folder path below the IPM subtree")->required();
  fcreate->add_option("--class", fclass, "Container class (PidTagContainerClass)");
  fcreate->callback([&] {
    action = [&] {
      auto logon = o.logon(mb_name);
      auto [parent, leaf] = split_parent(logon->mailbox(), fpath);
      auto id = logon->open_folder(parent)->create_folder(leaf, fclass)->id();
      std::cout << "created folder '" << fpath << "' (id " << id << ")\n";
    };
  });
  auto* frename = folder->add_subcommand("rename", "Rename a folder");
  frename->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  frename->add_option("path", fpath, "Folder path")->required();
  frename->add_option("new-name", newname, "New name")->required();
  frename->callback([&] {
    action = [&] {
      auto logon = o.logon(mb_name);
      auto f = logon->open_folder(resolve_folder(logon->mailbox(), fpath));
      for (const auto& p : f->set_props({PropValue::string(tags::PidTagDisplayName, newname)}))
        throw_error(p.error, "cannot rename '" + fpath + "'");
      std::cout << "renamed '" << fpath << "' to '" << newname << "'\n";
    };
  });
  auto* frm = folder->add_subcommand("rm", "Delete a folder (with --recursive: and everything in it)");
  frm->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  frm->add_option("path", fpath, "Folder path")->required();
  frm->add_flag("--recursive,-r", recursive, "Delete messages and subfolders too");
  frm->callback([&] {
    action = [&] {
      auto logon = o.logon(mb_name);
      store::FolderId id = resolve_folder(logon->mailbox(), fpath);
      auto parent = logon->mailbox().parent_folder(id);
      if (!parent) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the root folder cannot be deleted");
      logon->open_folder(*parent)->delete_folder(id, recursive ? (store::delfolder::DelMessages | store::delfolder::DelFolders) : 0);
      std::cout << "deleted folder '" << fpath << "'\n";
    };
  });

  // message
  auto* message = app.add_subcommand("message", "List, show, change and delete messages");
  message->require_subcommand(1);
  LsOptions lo;
  auto* mls2 = message->add_subcommand("ls", "A folder's contents table");
  mls2->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  mls2->add_option("--folder,-f", lo.folder, "Folder path (default Inbox)");
  mls2->add_option("--columns,-c", lo.columns, "Columns: aliases (subject, from, received, size, ...) or PidTag names, comma-separated");
  mls2->add_option("--sort,-s", lo.sort, "Sort: e.g. '-received' or 'cat:from,-received' (default -received)");
  mls2->add_option("--restrict,-r", lo.restrict_text, "Restriction, e.g. 'subject ~ \"report\" and importance >= 1'");
  mls2->add_option("--limit,-n", lo.limit, "Rows to show (default 50)");
  mls2->add_option("--offset", lo.offset, "Rows to skip");
  mls2->add_flag("--associated", lo.associated, "The folder's associated (FAI) contents");
  mls2->add_flag("--deleted", lo.deleted, "Soft-deleted messages");
  mls2->add_flag("--json", lo.as_json, "JSON output");
  mls2->callback([&] {
    action = [&] {
      message_ls(*o.logon(mb_name), lo);
    };
  });
  std::vector<std::string> ids;
  auto* mshow = message->add_subcommand("show", "Every property of a message, its recipients and attachments");
  mshow->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  mshow->add_option("id", ids, "Message id (the ID column of 'message ls')")->required()->expected(1);
  mshow->add_flag("--json", as_json, "JSON output");
  mshow->callback([&] {
    action = [&] {
      cli::message_show(*o.logon(mb_name), parse_message_id(ids.at(0)), as_json);
    };
  });
  bool hard = false;
  auto* mrm2 = message->add_subcommand("rm", "Delete messages (to Deleted Items; --hard: for good)");
  mrm2->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  mrm2->add_option("ids", ids, "Message ids")->required();
  mrm2->add_flag("--hard", hard, "Delete permanently");
  mrm2->callback([&] {
    action = [&] {
      std::vector<store::MessageId> mids;
      for (const auto& s : ids) mids.push_back(parse_message_id(s));
      cli::message_rm(*o.logon(mb_name), mids, hard);
    };
  });
  std::vector<std::string> assignments, deletions;
  std::string set_id;
  auto* mset = message->add_subcommand("set", "Set and delete properties of a message in one SaveChanges");
  mset->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  mset->add_option("id", set_id, "Message id (the ID column of 'message ls')")->required();
  mset->add_option("assignments", assignments,
                   "PROP=VALUE: PROP by canonical name (PidTagImportance, PidNameKeywords...), PR_ name, alias or hex tag");
  mset->add_option("--delete", deletions, "A property to delete (repeatable)")->allow_extra_args(false);
  mset->callback([&] {
    action = [&] { cli::message_set(*o.logon(mb_name), parse_message_id(set_id), assignments, deletions); };
  });

  std::string watch_folder;
  auto* watch_cmd = app.add_subcommand("watch", "Print one line per notification (new mail, created, modified, moved, deleted...) until interrupted");
  watch_cmd->add_option("--mailbox,-m", mb_name, "Mailbox name (or the default store of --profile)");
  watch_cmd->add_option("--folder,-f", watch_folder, "Only this folder (e.g. Inbox); default the whole mailbox");
  watch_cmd->add_flag("--json", as_json, "One JSON object per line: event, kind, change_number, object, message, folder");
  watch_cmd->callback([&] { action = [&] { cli::watch(*o.logon(mb_name), watch_folder, as_json); }; });

  // profile
  auto* profile = app.add_subcommand("profile", "MAPI profiles: named sets of stores (a mailbox, PST files) for --profile");
  profile->require_subcommand(1);
  std::string prof_name, prof_mailbox, prof_pst;
  std::vector<std::string> prof_psts;
  auto* pcreate = profile->add_subcommand("create", "Create a profile with a mailbox, a server mailbox and/or PST files (the first is the default store)");
  pcreate->add_option("name", prof_name, "Profile name")->required();
  pcreate->add_option("--mailbox", prof_mailbox, "A mailbox of the data directory");
  cli::RemoteServiceOptions prof_remote;
  pcreate->add_option("--server", prof_remote.url, "A MAPI over HTTP server (https://host[:port]) holding the mailbox of --user");
  pcreate->add_option("--user", prof_remote.user, "The user (SMTP address) to log on to --server as");
  pcreate->add_flag("--password-stdin", prof_remote.password_stdin,
                    "Read the password from standard input and keep it in the profile (else OPENMAPI_PASSWORD at every logon)");
  pcreate->add_option("--ca-file", prof_remote.ca_file, "PEM file of the CA of the server's certificate (default: the system's CAs)");
  pcreate->add_option("--pst", prof_psts, "A PST or OST file (repeatable)")->allow_extra_args(false);
  pcreate->add_option("--display-name", display, "Display name of the first store");
  pcreate->callback([&] { action = [&] { cli::profile_create(o.dir(), prof_name, prof_mailbox, prof_remote, prof_psts, display); }; });
  auto* pls2 = profile->add_subcommand("ls", "List profiles");
  pls2->add_flag("--json", as_json, "JSON output");
  pls2->callback([&] { action = [&] { cli::profile_ls(as_json); }; });
  auto* pshow = profile->add_subcommand("show", "A profile's stores (its message store table)");
  pshow->add_option("name", prof_name, "Profile name")->required();
  pshow->add_flag("--json", as_json, "JSON output");
  pshow->callback([&] { action = [&] { cli::profile_show(prof_name, as_json); }; });
  auto* prm = profile->add_subcommand("rm", "Remove a profile (its stores stay)");
  prm->add_option("name", prof_name, "Profile name")->required();
  prm->callback([&] { action = [&] { cli::profile_rm(prof_name); }; });
  // ab: the address book of a profile
  auto* ab = app.add_subcommand("ab", "The address book of --profile (its Contacts folders)");
  ab->require_subcommand(1);
  std::string ab_text;
  auto* abres = ab->add_subcommand("resolve", "ResolveName: one entry for a name or address");
  abres->add_option("text", ab_text, "A name, part of one, or an address")->required();
  abres->add_flag("--json", as_json, "JSON output");
  abres->callback([&] { action = [&] { cli::ab_resolve(o.profile, ab_text, as_json); }; });

  // message files
  std::string in_path, out_path, from_format, to_format, extract_dir;
  size_t item_index = 0;
  auto* conv = app.add_subcommand("convert", "Convert a message file between .eml, .msg, TNEF (.tnef/.dat), .vcf and .ics (by extension, or --from/--to)");
  conv->add_option("in", in_path, "Input file")->required();
  conv->add_option("out", out_path, "Output file (a directory for a file of several items)")->required();
  conv->add_option("--from", from_format, "Input format (eml, msg, tnef, vcf, ics)");
  conv->add_option("--to", to_format, "Output format (eml, msg, tnef, vcf, ics)");
  bool with_tnef = false;
  conv->add_flag("--tnef", with_tnef, "Writing .eml: carry every MAPI property in a winmail.dat part (lossless)");
  conv->add_option("--index", item_index, "Of a file of several items (.ics events, .vcf cards): convert only item N (from 1)");
  conv->callback([&] { action = [&] { convert(in_path, out_path, from_format, to_format, with_tnef, item_index); }; });
  auto* att = app.add_subcommand("attachments", "List a message file's attachments (--extract DIR writes them)");
  att->add_option("file", in_path, "Message file (.eml, .msg)")->required();
  att->add_option("--extract,-x", extract_dir, "Directory to write the attachments to");
  att->add_option("--from", from_format, "Input format (eml, msg)");
  att->add_flag("--json", as_json, "JSON output");
  att->callback([&] { action = [&] { attachments(in_path, from_format, extract_dir, as_json); }; });

  // PST files
  std::string pst_file, pst_format = "eml";
  bool pst_messages = false;
  auto* pst = app.add_subcommand("pst", "Look into and export PST/OST files");
  pst->require_subcommand(1);
  auto* pinfo = pst->add_subcommand("info", "The file's format, encryption, size, folder and message counts");
  pinfo->add_option("file", pst_file, "PST or OST file")->required();
  pinfo->add_flag("--json", as_json, "JSON output");
  pinfo->callback([&] { action = [&] { cli::pst_info(pst_file, as_json); }; });
  auto* pls = pst->add_subcommand("ls", "The folder tree with item counts (--messages: and the messages)");
  pls->add_option("file", pst_file, "PST or OST file")->required();
  pls->add_flag("--messages", pst_messages, "List each folder's messages too");
  pls->add_flag("--json", as_json, "JSON output");
  pls->callback([&] { action = [&] { cli::pst_ls(pst_file, pst_messages, as_json); }; });
  auto* pexp = pst->add_subcommand("export", "Write every message to DIR (a directory per folder)");
  pexp->add_option("file", pst_file, "PST or OST file")->required();
  pexp->add_option("dir", out_path, "Target directory")->required();
  pexp->add_option("--format", pst_format, "eml (default) or msg");
  pexp->callback([&] { action = [&] { cli::pst_export(pst_file, out_path, pst_format); }; });
  auto* import = app.add_subcommand("import", "Import into a mailbox");
  import->require_subcommand(1);
  auto* ipst = import->add_subcommand("pst", "Copy a PST's folders and messages into a mailbox (again: adds nothing twice)");
  ipst->add_option("file", pst_file, "PST or OST file")->required();
  ipst->add_option("--mailbox,-m", mb_name, "Mailbox name")->required();
  ipst->callback([&] { action = [&] { cli::import_pst(pst_file, o.dir(), mb_name); }; });
  std::vector<std::string> files_in;
  std::string folder_path = "Inbox";
  auto* imsg = import->add_subcommand("message", "Save message files (.eml, .msg, .tnef, .ics, .vcf: every item of a file) into a mailbox folder");
  imsg->add_option("files", files_in, "Message files")->required();
  imsg->add_option("--mailbox,-m", mb_name, "Mailbox name")->required();
  imsg->add_option("--folder,-f", folder_path, "Folder path (default: the folder of each item's class: Contacts, Calendar, Tasks, Notes, Journal, else Inbox)");
  imsg->add_option("--from", from_format, "Input format (eml, msg, tnef, vcf, ics)");
  imsg->callback([&] {
    action = [&] {
      auto mb = cli::open_mailbox(o.dir(), mb_name);
      const bool folder_given = imsg->get_option("--folder")->count() > 0;
      // A message that is already in its folder is skipped, so that running the import again adds
      // nothing: known by Internet message ID, by search key, by the global object ID of a
      // calendar item, by name and address for a contact, and for messages with none of these by
      // subject, submit time and sender.
      auto key_text = [](const Bytes& b) { return std::string(b.begin(), b.end()); };
      // A named property's tag in the mailbox, looked up until the mailbox has it (an item saved
      // may map it), then kept.
      std::map<std::string, PropTag> mapped_names;
      auto named = [&](const char* canonical) -> std::optional<PropTag> {
        if (auto it = mapped_names.find(canonical); it != mapped_names.end()) return it->second;
        const CatalogEntry* e = catalog_find(canonical);
        try {
          const PropTag t(mb->named_property_id(*e->name, false), e->type);
          mapped_names.emplace(canonical, t);
          return t;
        } catch (const MapiError&) {
          return std::nullopt;  // the mailbox has no such property yet
        }
      };
      auto keys_of = [&](const PropertySource& p, std::optional<PropTag> goid, std::optional<PropTag> email) {
        std::vector<std::string> keys;
        auto str = [&](PropTag t) -> std::string {
          const PropValue* v = p.find(t);
          return v && v->get_if<std::string>() ? *v->get_if<std::string>() : std::string();
        };
        if (std::string id = str(tags::PidTagInternetMessageId); !id.empty()) keys.push_back("i:" + id);
        if (const PropValue* k = p.find(tags::PidTagSearchKey); k && k->get_if<Bytes>() && !k->get_if<Bytes>()->empty())
          keys.push_back("k:" + key_text(*k->get_if<Bytes>()));
        if (goid)
          if (const PropValue* g = p.find(*goid); g && g->get_if<Bytes>()) keys.push_back("g:" + key_text(*g->get_if<Bytes>()));
        if (keys.empty() && ascii_lower(str(tags::PidTagMessageClass)).rfind("ipm.contact", 0) == 0)
          keys.push_back("c:" + str(tags::PidTagDisplayName) + '\x1f' + (email ? str(*email) : ""));
        if (keys.empty())
          if (const PropValue* t = p.find(tags::PidTagClientSubmitTime); t && t->get_if<int64_t>())
            keys.push_back("f:" + std::to_string(*t->get_if<int64_t>()) + '\x1f' + str(tags::PidTagSubject) + '\x1f' +
                           str(tags::PidTagSenderEmailAddress));
        return keys;
      };
      // The folders written to, each with the keys of what it holds (read on first use).
      struct Target {
        store::FolderId id = 0;
        std::set<std::string> keys;
      };
      std::map<std::string, Target> targets;
      auto target = [&](const std::string& path) -> Target& {
        auto it = targets.find(path);
        if (it != targets.end()) return it->second;
        Target t;
        t.id = mb->folder_by_path(path);
        const auto goid = named("PidLidGlobalObjectId"), email = named("PidLidEmail1EmailAddress");
        std::vector<PropTag> cols{tags::PidTagInternetMessageId, tags::PidTagSearchKey, tags::PidTagSubject, tags::PidTagClientSubmitTime,
                                  tags::PidTagSenderEmailAddress, tags::PidTagMessageClass, tags::PidTagDisplayName};
        if (goid) cols.push_back(*goid);
        if (email) cols.push_back(*email);
        auto table = mb->contents_table(t.id);
        table->set_columns(cols);
        for (const auto& row : table->query_rows(UINT32_MAX)) {
          PropertyBag b;
          for (const PropValue& v : row)
            if (v.type() != PropType::ErrorCode) b.set(v);
          for (auto& k : keys_of(b, goid, email)) t.keys.insert(std::move(k));
        }
        return targets.emplace(path, std::move(t)).first->second;
      };
      // Without -f an item goes to the folder of its class (MS-OXOSFLD special folders).
      auto folder_of = [&](const Message& m) -> std::string {
        if (folder_given) return folder_path;
        const std::string cls = ascii_lower(m.props.get_string(tags::PidTagMessageClass).value_or(""));
        auto is = [&](const char* prefix) { return cls == prefix || cls.rfind(std::string(prefix) + ".", 0) == 0; };
        store::SpecialFolder f = store::SpecialFolder::Inbox;
        if (is("ipm.contact") || is("ipm.distlist")) f = store::SpecialFolder::Contacts;
        else if (is("ipm.appointment")) f = store::SpecialFolder::Calendar;
        else if (is("ipm.task")) f = store::SpecialFolder::Tasks;
        else if (is("ipm.stickynote")) f = store::SpecialFolder::Notes;
        else if (is("ipm.activity")) f = store::SpecialFolder::Journal;
        if (f == store::SpecialFolder::Inbox) return folder_path;
        return store::special_folder_name(f);
      };
      size_t saved = 0, skipped = 0;
      std::vector<std::pair<std::string, MapiError>> failed;
      for (const auto& path : files_in) {
        try {
          std::vector<cli::MessageFile> items = cli::read_message_files(path, from_format);
          for (size_t i = 0; i < items.size(); ++i) {
            cli::MessageFile& f = items[i];
            const std::string where = folder_of(f.message);
            const std::string what = items.size() > 1 ? path + " (item " + std::to_string(i + 1) + " of " + std::to_string(items.size()) + ")" : path;
            Target& t = target(where);
            formats::complete_bodies(f.message);
            Message mapped = cli::to_mailbox_ids(f.message, f.names, *mb);
            const auto keys = keys_of(mapped.props, named("PidLidGlobalObjectId"), named("PidLidEmail1EmailAddress"));
            if (std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return t.keys.count(k) > 0; })) {
              ++skipped;
              std::cout << "skipped " << what << ": its message is already in '" << where << "'\n" << std::flush;
              continue;
            }
            store::MessageId id = mb->save_message(t.id, mapped);
            t.keys.insert(keys.begin(), keys.end());
            ++saved;
            std::cout << "saved " << what << " as message " << id << " in '" << where << "'\n" << std::flush;
          }
        } catch (const MapiError& e) {
          // Named, and the rest still imported; the command fails at the end.
          std::cerr << "openmapi: " << path << ": " << e.describe() << '\n';
          failed.emplace_back(path, e);
        }
      }
      if (files_in.size() > 1 || !failed.empty())
        std::cout << "imported " << saved << ", skipped " << skipped << " already there, failed " << failed.size() << '\n';
      if (!failed.empty())
        throw_error(failed.front().second.code(), std::to_string(failed.size()) + " of " + std::to_string(files_in.size()) +
                                                      " files could not be imported (each named above)");
    };
  });
  auto* exportc = app.add_subcommand("export", "Export from a mailbox");
  exportc->require_subcommand(1);
  auto* epst = exportc->add_subcommand("pst", "Write a mailbox's folders and messages to a new Unicode PST file");
  epst->add_option("--mailbox,-m", mb_name, "Mailbox name")->required();
  epst->add_option("out", out_path, "The PST file to write")->required();
  epst->callback([&] { action = [&] { cli::export_pst(o.dir(), mb_name, out_path); }; });
  bool export_tnef = false;
  std::string export_id;
  auto* emsg = exportc->add_subcommand("message", "Write a message to a file (.eml, .msg, .tnef, .ics, .vcf by extension)");
  emsg->add_option("--mailbox,-m", mb_name, "Mailbox name")->required();
  emsg->add_option("id", export_id, "Message id (the ID column of 'message ls')")->required();
  emsg->add_option("out", out_path, "The file to write")->required();
  emsg->add_option("--to", to_format, "Output format (eml, msg, tnef, vcf, ics)");
  emsg->add_flag("--tnef", export_tnef, "Writing .eml: carry every MAPI property in a winmail.dat part (lossless)");
  emsg->callback([&] {
    action = [&] {
      auto mb = cli::open_mailbox(o.dir(), mb_name);
      std::string format = cli::format_of(out_path, to_format);
      cli::MessageFile f;
      f.message = mb->load_message(parse_message_id(export_id));
      f.names = cli::mailbox_names_for(f.message, *mb);
      cli::write_message_file(f, out_path, format, export_tnef);
      std::cout << "wrote message " << export_id << " to " << out_path << " (" << format << ")\n";
    };
  });

  // props
  auto* props = app.add_subcommand("props", "Every property of a message file (props FILE), or the catalogue (props catalog NAME)");
  props->require_subcommand(0, 1);
  props->add_option("file", in_path, "Message file (.eml, .msg)");
  props->add_option("--from", from_format, "Input format (eml, msg)");
  props->add_flag("--json", as_json, "JSON output");
  props->add_option("--index", item_index, "Of a file of several items (.ics events, .vcf cards): item N (from 1)");
  props->callback([&] {
    if (!action) {
      if (in_path.empty()) throw CLI::RequiredError("a FILE or the catalog subcommand");
      action = [&] { props_file(in_path, from_format, as_json, item_index); };
    }
  });
  std::string query;
  auto* pcat = props->add_subcommand("catalog", "Look up an MS-OXPROPS property by name (PidTagSubject) or tag (0x0037001F)");
  pcat->add_option("query", query, "Canonical name, alternate name or tag")->required();
  pcat->add_flag("--json", as_json, "JSON output");
  pcat->callback([&] { action = [&] { props_catalog(query, as_json); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (action) action();
    return 0;
  } catch (const MapiError& e) {
    std::cerr << "openmapi: " << e.describe() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "openmapi: MAPI_E_CALL_FAILED: " << e.what() << '\n';
    return 1;
  }
}
