#include "cli/pst.h"

#include "cli/output_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "cli/common.h"
#include "cli/files.h"
#include "core/catalog.h"
#include "core/entryid.h"
#include "core/unicode.h"
#include "formats/body/body.h"
#include "formats/msg/msg.h"
#include "formats/pst/pst.h"
#include "formats/pst/pst_writer.h"
#include "store/pst/pst_mailbox.h"

namespace openmapi::cli {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// Where an imported message came from: the PST store's record key and the message's NID.
const PropertyName kImportSource = PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "OpenMAPI-ImportSource");

std::string safe_name(std::string name) {
  for (char& c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  while (!name.empty() && (name.front() == '.' || name.front() == ' ')) name.erase(name.begin());
  if (name.size() > 80) {
    size_t cut = 80;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  return name;
}

// Walks the folder tree below `folder`, depth first, in hierarchy-table order.
void walk(pst::PstFile& f, uint32_t folder, int depth, const std::function<void(uint32_t, int)>& visit) {
  visit(folder, depth);
  for (uint32_t child : f.subfolders(folder)) walk(f, child, depth + 1, visit);
}

uint32_t top(pst::PstFile& f) { return f.ipm_subtree() ? f.ipm_subtree() : f.root_folder(); }

void print_problems(pst::PstFile& f) {
  if (f.problems().empty()) return;
  std::cerr << f.problems().size() << " problem(s) found and skipped:\n";
  for (const auto& p : f.problems()) std::cerr << "  " << p.what << '\n';
}

std::string message_fingerprint(const Message& m) {
  if (const PropValue* k = m.props.find(tags::PidTagSearchKey); k && k->get_if<Bytes>() && !k->get_if<Bytes>()->empty())
    return to_hex(*k->get_if<Bytes>());
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the identifying values
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xFF) * 1099511628211ull;
  };
  for (PropTag t : {tags::PidTagMessageClass, tags::PidTagSubject, tags::PidTagInternetMessageId, tags::PidTagSenderName})
    mix(m.props.get_string(t).value_or(""));
  for (PropTag t : {tags::PidTagCreationTime, tags::PidTagClientSubmitTime, tags::PidTagMessageDeliveryTime})
    mix(std::to_string(m.props.get_i64(t).value_or(0)));
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

}  // namespace

void pst_info(const std::string& file, bool as_json) {
  pst::PstFile f = pst::PstFile::open(file);
  pst::PstInfo info = f.info();
  size_t folders = 0, messages = 0;
  walk(f, f.root_folder(), 0, [&](uint32_t folder, int) {
    ++folders;
    messages += f.messages(folder).size();
  });
  static const char* kCrypt[] = {"none", "permute", "cyclic"};
  json j{{"file", file},
         {"format", std::string(info.ost ? "OST" : "PST") +
                        (info.version == 36 ? " (Unicode, 4K pages)" : info.unicode ? " (Unicode)" : " (ANSI)")},
         {"version", info.version},
         {"encryption", kCrypt[std::min<int>(int(info.crypt), 2)]},
         {"size", info.file_size},
         {"display_name", info.display_name},
         {"password_protected", info.password_crc != 0},
         {"folders", folders},
         {"messages", messages},
         {"problems", f.problems().size()}};
  if (as_json) {
    std::cout << j.dump(2) << '\n';
    return;
  }
  for (auto it = j.begin(); it != j.end(); ++it)
    std::cout << it.key() << ": " << (it->is_string() ? it->get<std::string>() : it->dump()) << '\n';
  print_problems(f);
}

void pst_ls(const std::string& file, bool with_messages, bool as_json) {
  pst::PstFile f = pst::PstFile::open(file);
  json out = json::array();
  std::vector<std::vector<std::string>> rows;
  walk(f, top(f), 0, [&](uint32_t folder, int depth) {
    auto msgs = f.messages(folder);
    PropertyBag p = f.folder_properties(folder);
    json jf{{"nid", folder}, {"name", f.folder_name(folder)}, {"depth", depth}, {"messages", msgs.size()},
            {"class", p.get_string(tags::PidTagContainerClass).value_or("")}};
    rows.push_back({std::string(size_t(depth) * 2, ' ') + f.folder_name(folder), std::to_string(msgs.size()),
                    p.get_string(tags::PidTagContainerClass).value_or(""), std::to_string(folder)});
    if (with_messages) {
      json list = json::array();
      for (uint32_t id : msgs) {
        try {
          Message m = f.read_message(id);
          std::string subject = m.props.get_string(tags::PidTagSubject).value_or("");
          std::string from = m.props.get_string(tags::PidTagSenderName).value_or("");
          list.push_back({{"nid", id}, {"subject", subject}, {"from", from}, {"attachments", m.attachments.size()},
                          {"class", m.props.get_string(tags::PidTagMessageClass).value_or("")}});
          rows.push_back({std::string(size_t(depth) * 2 + 2, ' ') + "- " + value_cell(PropValue::string(tags::PidTagSubject, subject), 60),
                          "", m.props.get_string(tags::PidTagMessageClass).value_or(""), std::to_string(id)});
        } catch (const MapiError& e) {
          list.push_back({{"nid", id}, {"error", e.describe()}});
        }
      }
      jf["items"] = list;
    }
    out.push_back(jf);
  });
  if (as_json) std::cout << out.dump(2) << '\n';
  else print_table({"FOLDER", "ITEMS", "CLASS", "NID"}, rows);
  print_problems(f);
}

void pst_export(const std::string& file, const std::string& dir, const std::string& format) {
  if (format != "eml" && format != "msg")
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "export format '" + format + "' is not supported (eml, msg)");
  pst::PstFile f = pst::PstFile::open(file);
  std::vector<fs::path> stack;
  size_t written = 0, failed = 0;
  walk(f, top(f), 0, [&](uint32_t folder, int depth) {
    stack.resize(size_t(depth));
    std::string name = safe_name(f.folder_name(folder));
    fs::path here = (stack.empty() ? fs::path(dir) : stack.back()) / (name.empty() ? std::to_string(folder) : name);
    if (depth == 0) here = dir;
    stack.push_back(here);
    fs::create_directories(here);
    size_t n = 0;
    for (uint32_t id : f.messages(folder)) {
      ++n;
      try {
        MessageFile mf;
        mf.message = f.read_message(id);
        mf.names = f.names();
        formats::complete_bodies(mf.message, format == "msg");
        std::string subject = safe_name(mf.message.props.get_string(tags::PidTagSubject).value_or(""));
        char prefix[16];
        std::snprintf(prefix, sizeof prefix, "%05zu", n);
        fs::path out = here / (std::string(prefix) + (subject.empty() ? "" : " " + subject) + "." + format);
        write_message_file(mf, out.string(), format);
        ++written;
      } catch (const MapiError& e) {
        ++failed;
        std::cerr << "skipped message " << id << " in '" << f.folder_name(folder) << "': " << e.describe() << '\n';
      }
    }
  });
  std::cout << "exported " << written << " message(s) to " << dir << " as ." << format;
  if (failed) std::cout << "; " << failed << " could not be read (listed above)";
  std::cout << '\n';
  print_problems(f);
}

void import_pst(const std::string& file, const std::string& data_dir, const std::string& mailbox) {
  pst::PstFile f = pst::PstFile::open(file);
  auto mb = open_mailbox(data_dir, mailbox);
  const PropValue* rk = f.store_properties().find(tags::PidTagRecordKey);
  std::string store_key = rk && rk->get_if<Bytes>() ? to_hex(*rk->get_if<Bytes>()) : std::string("pst");
  const PropTag source_tag(mb->named_property_id(kImportSource, true), PropType::String);
  size_t imported = 0, skipped = 0, failed = 0;
  const auto specials = store::pst_special_folders(f);
  std::vector<store::FolderId> stack;
  // Messages are saved in batches of kBatch, one flush each: a crash loses at most the open batch,
  // and a re-run imports it again (what was imported is recognised and skipped).
  constexpr size_t kBatch = 500;
  std::unique_ptr<store::Mailbox::Batch> batch;
  size_t in_batch = 0;
  auto flush = [&] {
    if (batch) batch->commit();
    batch.reset();
    in_batch = 0;
  };
  // Each save is whole on its own: when the import stops early (store full, a disk error), what
  // was saved before is kept.
  struct KeepOnUnwind {
    std::unique_ptr<store::Mailbox::Batch>& batch;
    ~KeepOnUnwind() {
      if (!batch) return;
      try {
        batch->commit();
      } catch (const MapiError& e) {
        std::cerr << "could not keep the last batch: " << e.describe() << '\n';
      }
    }
  } keep{batch};
  walk(f, top(f), 0, [&](uint32_t folder, int depth) {
    stack.resize(size_t(depth));
    store::FolderId target;
    if (depth == 0) {
      target = mb->special_folder(store::SpecialFolder::IpmSubtree);
    } else if (auto sf = specials.find(folder); sf != specials.end()) {
      target = mb->special_folder(sf->second);
    } else {
      std::string name = f.folder_name(folder);
      store::FolderId parent = stack.back();
      std::optional<store::FolderId> existing;
      for (store::FolderId c : mb->child_folders(parent))
        if (fold_case(*mb->folder_properties(c).get_string(tags::PidTagDisplayName)) == fold_case(name)) existing = c;
      std::string cls = f.folder_properties(folder).get_string(tags::PidTagContainerClass).value_or("IPF.Note");
      target = existing ? *existing : mb->create_folder(parent, name.empty() ? "Folder " + std::to_string(folder) : name, cls);
    }
    stack.push_back(target);
    // What was imported from this PST into this folder before.
    std::set<std::string> done;
    auto table = mb->contents_table(target);
    table->set_columns({source_tag});
    for (const auto& row : table->query_rows(UINT32_MAX))
      if (const auto* s = row[0].get_if<std::string>()) done.insert(*s);
    for (uint32_t id : f.messages(folder)) {
      try {
        Message original = f.read_message(id);
        // The store's record key and the NID name the message within this file; copies of one
        // PST share both, so the message's search key (or, without one, a digest of what it
        // says) tells their messages apart.
        std::string source = store_key + ":" + std::to_string(id) + ":" + message_fingerprint(original);
        if (done.count(source)) {
          ++skipped;
          continue;
        }
        Message m = to_mailbox_ids(original, f.names(), *mb);
        m.props.set(PropValue::string(source_tag, source));
        if (!batch) batch = mb->begin_batch();
        mb->save_message(target, m);
        ++imported;
        if (++in_batch == kBatch) flush();
      } catch (const MapiError& e) {
        if (e.code() == ErrorCode::MAPI_E_STORE_FULL) throw;
        ++failed;
        std::cerr << "skipped message " << id << " in '" << f.folder_name(folder) << "': " << e.describe() << '\n';
      }
    }
  });
  flush();
  std::cout << "imported " << imported << " message(s) into '" << mailbox << "'";
  if (skipped) std::cout << ", " << skipped << " already there";
  if (failed) std::cout << ", " << failed << " could not be read (listed above)";
  std::cout << '\n';
  print_problems(f);
}

}  // namespace openmapi::cli

namespace openmapi::cli {

void export_pst(const std::string& data_dir, const std::string& mailbox, const std::string& out) {
  auto mb = open_mailbox(data_dir, mailbox);
  PropertyBag store = mb->store_properties();
  pst::PstWriterOptions options;
  options.display_name = store.get_string(tags::PidTagDisplayName).value_or("Personal Folders");
  OutputFile file(out);  // a temporary file beside `out`, renamed over it when complete
  size_t written = 0;
  {
    pst::PstWriter w(file.path(), options);
    // The mailbox's named properties, as a map the writer can read names from.
    NamedPropertyMap names;
    auto name_map = [&](const Message& m) {
      std::set<uint16_t> ids;
      named_ids(m, ids);
      for (uint16_t id : ids)
        if (!names.find(id))
          if (auto n = mb->named_property_name(id)) names.insert(id, *n);
    };
    const store::FolderId deleted = mb->special_folder(store::SpecialFolder::DeletedItems);
    std::function<void(store::FolderId, pst::FolderId)> copy = [&](store::FolderId from, pst::FolderId to) {
      for (bool associated : {false, true}) {
        auto table = mb->contents_table(from, associated ? store::tableflag::Associated : 0);
        table->set_columns({tags::PidTagMid});
        for (const auto& row : table->query_rows(UINT32_MAX)) {
          Message m = mb->load_message(ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc);
          name_map(m);
          w.add_message(to, m, names, associated);
          ++written;
        }
      }
      for (store::FolderId child : mb->child_folders(from)) {
        PropertyBag fp = mb->folder_properties(child);
        pst::FolderId target = child == deleted ? w.deleted_items()
                                                : w.add_folder(to, fp.get_string(tags::PidTagDisplayName).value_or("Folder"),
                                                               fp.get_string(tags::PidTagContainerClass).value_or(""));
        copy(child, target);
      }
    };
    copy(mb->special_folder(store::SpecialFolder::IpmSubtree), w.ipm_subtree());
    w.finish();
  }
  file.commit();
  std::cout << "exported " << written << " message(s) of '" << mailbox << "' to " << out << '\n';
}

}  // namespace openmapi::cli
