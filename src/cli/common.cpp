#include "cli/common.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "core/catalog.h"
#include "core/filetime.h"
#include "core/restriction.h"
#include "core/unicode.h"
#include "store/data_dir.h"
#include "store/pst/pst_mailbox.h"

namespace openmapi::cli {

std::string data_dir(const std::string& option) {
  if (!option.empty()) return option;
  if (const char* env = std::getenv("OPENMAPI_DATA_DIR"); env && *env) return env;
  return "var";
}

std::string mailbox_path(const std::string& dir, const std::string& name) { return store::mailbox_file(dir, name); }

std::unique_ptr<store::Mailbox> open_mailbox(const std::string& dir, const std::string& name) {
  // A PST or OST file opens as a read-only mailbox.
  std::string ext = std::filesystem::path(name).extension().string();
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".pst" || ext == ".ost") return store::open_pst_mailbox(name);
  std::string path = mailbox_path(dir, name);
  if (!std::filesystem::exists(path))
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no mailbox '" + name + "' in " + dir + " (create it with 'openmapi mailbox create')");
  return store::open_sqlite_mailbox(path);
}

nlohmann::json value_json(const PropValue& v) {
  using nlohmann::json;
  const PropType t = v.type();
  if (t == PropType::ErrorCode) return error_name(ErrorCode(uint32_t(v.get<int32_t>())));
  if (t == PropType::Time) return format_filetime(v.get<int64_t>());
  if (t == PropType::MultipleTime) {
    json a = json::array();
    for (int64_t x : v.get<std::vector<int64_t>>()) a.push_back(format_filetime(x));
    return a;
  }
  if (t == PropType::Currency || t == PropType::Restriction || t == PropType::Guid) return v.to_display();
  return std::visit(
      [&](const auto& x) -> json {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>) return nullptr;
        else if constexpr (std::is_same_v<X, std::string>) return is_valid_utf8(x) ? json(x) : json(to_hex(ByteView(reinterpret_cast<const uint8_t*>(x.data()), x.size())));
        else if constexpr (std::is_same_v<X, Bytes>) return to_hex(x);
        else if constexpr (std::is_same_v<X, Guid>) return x.to_string();
        else if constexpr (std::is_same_v<X, std::shared_ptr<const Restriction>>) return to_text(*x);
        else if constexpr (std::is_same_v<X, std::vector<Bytes>>) {
          json a = json::array();
          for (const auto& b : x) a.push_back(to_hex(b));
          return a;
        } else if constexpr (std::is_same_v<X, std::vector<Guid>>) {
          json a = json::array();
          for (const auto& g : x) a.push_back(g.to_string());
          return a;
        } else if constexpr (std::is_same_v<X, std::vector<std::string>>) {
          json a = json::array();
          for (const auto& s : x) a.push_back(is_valid_utf8(s) ? json(s) : json("?"));
          return a;
        } else if constexpr (std::is_same_v<X, float> || std::is_same_v<X, double>) {
          return std::isfinite(double(x)) ? json(x) : json(v.to_display());
        } else {
          return json(x);
        }
      },
      v.storage());
}

std::string value_cell(const PropValue& v, size_t width, bool short_time) {
  std::string s;
  if (v.type() == PropType::ErrorCode) s = "";
  else if (v.type() == PropType::Time) s = short_time ? format_filetime(v.get<int64_t>()).substr(0, 16) : format_filetime(v.get<int64_t>());
  else if (v.type() == PropType::Binary) s = to_hex(v.get<Bytes>());
  else s = v.to_display();
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (width && s.size() > width) {
    size_t cut = width - 1;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "…";
  }
  return s;
}

NameLookup names_of(store::Mailbox& mb) {
  return [&mb](uint16_t id) { return mb.named_property_name(id); };
}

NameLookup names_of(const NamedPropertyMap& map) {
  return [&map](uint16_t id) -> std::optional<PropertyName> {
    if (const PropertyName* n = map.find(id)) return *n;
    return std::nullopt;
  };
}

std::string property_label(PropTag tag, const NameLookup& names) {
  if (tag.is_named() && names) {
    if (auto n = names(tag.id())) {
      if (const CatalogEntry* e = catalog_find(*n)) return std::string(e->canonical_name);
      return n->to_string();
    }
  }
  return tag_name(tag);
}

nlohmann::json bag_json(const PropertyBag& bag, const NameLookup& names) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& v : bag.values())
    a.push_back({{"tag", v.tag().hex()}, {"name", property_label(v.tag(), names)}, {"type", type_name(v.type())},
                 {"value", value_json(v)}});
  return a;
}

nlohmann::json message_json(const Message& m, const NameLookup& names) {
  nlohmann::json out{{"properties", bag_json(m.props, names)}};
  nlohmann::json recips = nlohmann::json::array();
  for (const auto& r : m.recipients) recips.push_back(bag_json(r, names));
  out["recipients"] = recips;
  nlohmann::json atts = nlohmann::json::array();
  for (const auto& a : m.attachments) {
    nlohmann::json aj{{"properties", bag_json(a.props, names)}};
    if (a.embedded) aj["embedded_message"] = message_json(*a.embedded, names);
    atts.push_back(aj);
  }
  out["attachments"] = atts;
  return out;
}

namespace {
void print_bag(const PropertyBag& bag, const NameLookup& names, const std::string& indent) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : bag.values())
    rows.push_back({indent + v.tag().hex(), property_label(v.tag(), names), type_name(v.type()), value_cell(v, 100)});
  print_table({indent + "TAG", "NAME", "TYPE", "VALUE"}, rows);
}
}  // namespace

void print_message(const Message& m, const NameLookup& names, const std::string& indent) {
  print_bag(m.props, names, indent);
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    std::cout << '\n' << indent << "Recipient " << i << ":\n";
    print_bag(m.recipients[i], names, indent + "  ");
  }
  for (size_t i = 0; i < m.attachments.size(); ++i) {
    std::cout << '\n' << indent << "Attachment " << i << ":\n";
    print_bag(m.attachments[i].props, names, indent + "  ");
    if (m.attachments[i].embedded) {
      std::cout << '\n' << indent << "  Embedded message:\n";
      print_message(*m.attachments[i].embedded, names, indent + "    ");
    }
  }
}

namespace {
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) w[i] = display_width(headers[i]);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(r[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(w[i] - display_width(cells[i]) + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << '\n';
  };
  line(headers);
  std::vector<std::string> rule;
  for (size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
}

}  // namespace openmapi::cli
