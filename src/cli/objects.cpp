#include "cli/objects.h"

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "cli/common.h"
#include "core/catalog.h"
#include "core/entryid.h"
#include "core/filetime.h"
#include "core/restriction.h"

namespace openmapi::cli {

using nlohmann::json;

std::shared_ptr<store::Logon> logon_mailbox(const std::string& dir, const std::string& name) {
  std::shared_ptr<store::Mailbox> mb = open_mailbox(dir, name);
  return store::Logon::open(std::move(mb), store::LogonIdentity::system_user());
}

void message_show(store::Logon& logon, store::MessageId id, bool as_json) {
  Message m = logon.open_message(id)->snapshot();
  m.props.erase(tags::PidTagAccessLevel);
  if (as_json) std::cout << message_json(m, names_of(logon.mailbox())).dump(2) << '\n';
  else print_message(m, names_of(logon.mailbox()));
}

namespace {

// The tag PROP names in this store: catalogue, alias or hex; PidLid/PidName names mapped here.
PropTag settable_tag(store::Message& m, const std::string& name) {
  if (const CatalogEntry* e = catalog_find(name); e && e->name) {
    PropTag t = m.get_ids_from_names({*e->name}, true).at(0);
    return PropTag(t.id(), e->type);
  }
  PropTag t = resolve_property_name(name);
  if (t.type() == PropType::Unspecified) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "property '" + name + "' needs a type");
  return t;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int64_t parse_integer(const std::string& text, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 0);
  if (text.empty() || *end || errno == ERANGE)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + text + "' is not an integer (" + what + ")");
  return v;
}

PropValue parse_value(PropTag tag, const std::string& text, const std::string& name) {
  switch (tag.type()) {
    case PropType::Integer16: {
      int64_t v = parse_integer(text, name);
      if (v < INT16_MIN || v > INT16_MAX) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + text + "' is out of range for " + name);
      return PropValue::i16(tag, int16_t(v));
    }
    case PropType::Integer32: {
      int64_t v = parse_integer(text, name);
      if (v < INT32_MIN || v > int64_t(UINT32_MAX))
        throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + text + "' is out of range for " + name);
      return PropValue::i32(tag, int32_t(uint32_t(v)));
    }
    case PropType::Integer64:
    case PropType::Currency: return PropValue(tag, parse_integer(text, name));
    case PropType::Boolean:
      if (text == "true" || text == "1") return PropValue::boolean(tag, true);
      if (text == "false" || text == "0") return PropValue::boolean(tag, false);
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + text + "' is not true or false (" + name + ")");
    case PropType::Floating64: {
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (text.empty() || *end) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + text + "' is not a number (" + name + ")");
      return PropValue::f64(tag, d);
    }
    case PropType::Time: {
      auto ft = parse_filetime(text);
      if (!ft) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + text + "' is not an ISO 8601 time (" + name + ")");
      return PropValue::time(tag, *ft);
    }
    case PropType::String:
    case PropType::String8: return PropValue::string(tag.with_type(PropType::String), text);
    case PropType::Binary: {
      std::string hex = text.rfind("0x", 0) == 0 ? text.substr(2) : text;
      return PropValue::binary(tag, from_hex(hex));
    }
    case PropType::Guid: return PropValue::guid(tag, Guid::from_string(text));
    // Multi-valued: comma-separated values ("red,blue"); an empty text is an empty list.
    case PropType::MultipleString:
    case PropType::MultipleString8: {
      std::vector<std::string> items;
      for (const auto& item : split_commas(text)) items.push_back(item);
      return PropValue(tag.with_type(PropType::MultipleString), std::move(items));
    }
    case PropType::MultipleInteger32: {
      std::vector<int32_t> items;
      for (const auto& item : split_commas(text)) items.push_back(int32_t(parse_integer(item, name)));
      return PropValue(tag, std::move(items));
    }
    case PropType::MultipleInteger64: {
      std::vector<int64_t> items;
      for (const auto& item : split_commas(text)) items.push_back(parse_integer(item, name));
      return PropValue(tag, std::move(items));
    }
    default:
      throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "'message set' cannot set " + name + " (type " + type_name(tag.type()) + ")");
  }
}

}  // namespace

void message_set(store::Logon& logon, store::MessageId id, const std::vector<std::string>& assignments,
                 const std::vector<std::string>& deletions) {
  if (assignments.empty() && deletions.empty())
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "nothing to do: give PROP=VALUE assignments or --delete PROP");
  auto m = logon.open_message(id, true);
  std::vector<PropValue> values;
  std::vector<std::string> value_names;
  for (const auto& a : assignments) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + a + "' is not PROP=VALUE");
    std::string name = a.substr(0, eq);
    values.push_back(parse_value(settable_tag(*m, name), a.substr(eq + 1), name));
    value_names.push_back(name);
  }
  std::vector<PropTag> removed;
  for (const auto& d : deletions) removed.push_back(settable_tag(*m, d));
  // All or nothing: a refused property fails the command before anything is saved.
  for (const auto& p : m->set_props(values))
    throw_error(p.error, "cannot set " + value_names[p.index] + ": " + error_name(p.error));
  for (const auto& p : m->delete_props(removed))
    throw_error(p.error, "cannot delete " + deletions[p.index] + ": " + error_name(p.error));
  m->save_changes();
  std::cout << "saved message " << id << ": " << values.size() << " set, " << removed.size() << " deleted\n";
}

void message_rm(store::Logon& logon, const std::vector<store::MessageId>& ids, bool hard) {
  // Grouped by folder: DeleteMessages is a folder's call.
  std::map<store::FolderId, std::vector<store::MessageId>> by_folder;
  for (store::MessageId id : ids) by_folder[logon.mailbox().message_folder(id)].push_back(id);
  auto batch = logon.mailbox().begin_batch();  // all or nothing
  for (const auto& [folder, mids] : by_folder) logon.open_folder(folder)->delete_messages(mids, hard);
  batch->commit();
  std::cout << "deleted " << ids.size() << " message(s)" << (hard ? " permanently" : "") << '\n';
}

void watch(store::Logon& logon, const std::string& folder, bool as_json) {
  // The signals are taken by sigwait in this thread; block them before the feed's thread starts
  // so that it inherits the mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  store::AdviseScope scope = store::AdviseScope::store();
  if (!folder.empty()) scope = store::AdviseScope::folder(logon.mailbox().folder_by_path(folder));
  std::mutex out;
  logon.advise(store::fnev::All, scope, [&](const store::Notification& n) {
    const store::Change& c = n.change;
    std::lock_guard lk(out);
    if (as_json) {
      json j{{"event", store::event_name(n.event)},
             {"kind", store::change_kind_name(c.kind)},
             {"change_number", c.change_number},
             {"time", format_filetime(c.time)},
             {"object", c.is_folder ? "folder" : "message"}};
      if (c.is_folder) {
        j["folder"] = c.id;
        j["parent"] = c.parent;
      } else {
        j["message"] = c.id;
        j["folder"] = c.parent;
      }
      if (c.old_id) j[c.is_folder ? "old_folder_id" : "old_message"] = *c.old_id;
      if (c.old_parent) j[c.is_folder ? "old_parent" : "old_folder"] = *c.old_parent;
      std::cout << j.dump() << std::endl;  // one object per line, flushed
    } else {
      std::cout << c.change_number << ' ' << store::event_name(n.event) << ' ' << (c.is_folder ? "folder " : "message ") << c.id
                << (c.is_folder ? " under " : " in folder ") << c.parent;
      if (c.old_id) std::cout << " (from " << *c.old_id << " in folder " << c.old_parent.value_or(0) << ")";
      std::cout << std::endl;
    }
  });
  std::cerr << "watching " << (folder.empty() ? std::string("the whole mailbox") : "'" + folder + "'") << "; Ctrl-C ends" << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  logon.logoff();
}

}  // namespace openmapi::cli
