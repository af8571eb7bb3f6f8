// gen_catalog: turns the MS-OXPROPS tables in data/*.csv into C++ initializers.
//
//   gen_catalog <pidtag.csv> <pidlid_pidname.csv> <out.inc>
//
// The output defines two plain aggregate arrays, kCatalogTags[] and kCatalogNamed[], whose element
// types (CatalogTagRow, CatalogNamedRow) are declared by src/core/catalog.cpp before it includes the
// file. Standard library only: this runs at build time, before any OpenMAPI library exists.
//
// Any malformed row (wrong field count, bad hex, unknown type name, a type code that disagrees with
// the type name, a property tag that disagrees with id + type, a bad GUID, a duplicate canonical
// name) stops the build with "file:line: message" and exit status 1.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Failure {
  std::string message;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw Failure{where + ": " + what}; }

// MS-OXCDATA 2.11.1 property type names and their codes. PtypEmbeddedTable shares 0x000D with
// PtypObject (MS-OXCDATA 2.11.1 lists both).
struct TypeName {
  std::string_view name;
  uint16_t code;
};
constexpr TypeName kTypes[] = {
    {"PtypInteger16", 0x0002},        {"PtypInteger32", 0x0003},        {"PtypFloating32", 0x0004},
    {"PtypFloating64", 0x0005},       {"PtypCurrency", 0x0006},         {"PtypFloatingTime", 0x0007},
    {"PtypErrorCode", 0x000A},        {"PtypBoolean", 0x000B},          {"PtypInteger64", 0x0014},
    {"PtypString", 0x001F},           {"PtypString8", 0x001E},          {"PtypTime", 0x0040},
    {"PtypGuid", 0x0048},             {"PtypServerId", 0x00FB},         {"PtypRestriction", 0x00FD},
    {"PtypRuleAction", 0x00FE},       {"PtypBinary", 0x0102},           {"PtypMultipleInteger16", 0x1002},
    {"PtypMultipleInteger32", 0x1003}, {"PtypMultipleFloating32", 0x1004}, {"PtypMultipleFloating64", 0x1005},
    {"PtypMultipleCurrency", 0x1006}, {"PtypMultipleFloatingTime", 0x1007}, {"PtypMultipleInteger64", 0x1014},
    {"PtypMultipleString", 0x101F},   {"PtypMultipleString8", 0x101E},  {"PtypMultipleTime", 0x1040},
    {"PtypMultipleGuid", 0x1048},     {"PtypMultipleBinary", 0x1102},   {"PtypObject", 0x000D},
    {"PtypEmbeddedTable", 0x000D},    {"PtypNull", 0x0001},             {"PtypUnspecified", 0x0000},
};

std::optional<uint16_t> type_code(std::string_view name) {
  for (const auto& t : kTypes)
    if (t.name == name) return t.code;
  return std::nullopt;
}

// One CSV record; fields may be quoted ("a, b"), with "" as an escaped quote.
std::vector<std::string> split_csv(const std::string& line, const std::string& where) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      if (!cur.empty() || was_quoted) fail(where, "quote in the middle of an unquoted field");
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      if (was_quoted) fail(where, "text after a closing quote");
      cur += c;
    }
  }
  if (quoted) fail(where, "unterminated quoted field");
  out.push_back(std::move(cur));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = char(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// "0x0037" with exactly `digits` hex digits after the 0x.
uint32_t parse_hex(const std::string& text, size_t digits, const std::string& where, const char* field) {
  if (text.size() != digits + 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    fail(where, std::string("bad hex in ") + field + ": '" + text + "' (want 0x + " + std::to_string(digits) + " digits)");
  uint32_t v = 0;
  for (size_t i = 2; i < text.size(); ++i) {
    char c = text[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) fail(where, std::string("bad hex in ") + field + ": '" + text + "'");
    v = v << 4 | uint32_t(d);
  }
  return v;
}

// "00062008-0000-0000-C000-000000000046" -> 16 bytes in wire order (Data1..Data3 little-endian).
std::array<uint8_t, 16> parse_guid(const std::string& text, const std::string& where) {
  static constexpr size_t kDash[] = {8, 13, 18, 23};
  if (text.size() != 36) fail(where, "bad GUID '" + text + "'");
  std::string hex;
  for (size_t i = 0; i < text.size(); ++i) {
    if (std::find(std::begin(kDash), std::end(kDash), i) != std::end(kDash)) {
      if (text[i] != '-') fail(where, "bad GUID '" + text + "'");
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(text[i]))) fail(where, "bad GUID '" + text + "'");
      hex += text[i];
    }
  }
  uint8_t b[16];
  for (size_t i = 0; i < 16; ++i) b[i] = uint8_t(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  // Text order is Data1 (4 bytes BE), Data2 (2 BE), Data3 (2 BE), Data4 (8 bytes as written).
  return {b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]};
}

// A C++ string literal for arbitrary bytes (octal escapes never run into following digits).
std::string literal(std::string_view s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      r += '\\';
      r += char(c);
    } else if (c < 0x20 || c > 0x7E || c == '?') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      r += buf;
    } else {
      r += char(c);
    }
  }
  return r + "\"";
}

bool valid_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::pair<size_t, std::vector<std::string>>> rows;  // (line number, fields)
};

Table read_table(const std::string& path, const std::vector<std::string>& want_header) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  Table t;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string where = path + ":" + std::to_string(n);
    if (n == 1) {
      t.header = split_csv(line, where);
      if (t.header != want_header) {
        std::string w;
        for (const auto& h : want_header) w += (w.empty() ? "" : ",") + h;
        fail(where, "unexpected header; want " + w);
      }
      continue;
    }
    if (trim(line).empty()) continue;
    auto fields = split_csv(line, where);
    if (fields.size() != want_header.size())
      fail(where, "has " + std::to_string(fields.size()) + " fields, want " + std::to_string(want_header.size()));
    for (auto& f : fields) f = trim(f);
    t.rows.emplace_back(n, std::move(fields));
  }
  if (n == 0) fail(path, "empty file");
  return t;
}

struct TagRow {
  std::string section, name, area, alternates;
  uint32_t tag;
  size_t order;
};
struct NamedRow {
  std::string section, name, area, alternates, set_name, lid_or_name;
  std::array<uint8_t, 16> guid;
  bool is_lid;
  uint32_t lid;
  uint16_t type;
};

int run(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: gen_catalog <pidtag.csv> <pidlid_pidname.csv> <out.inc>\n";
    return 2;
  }
  const std::string tag_path = argv[1], named_path = argv[2], out_path = argv[3];
  std::map<std::string, std::string> seen;  // lowercased canonical name -> where first seen

  auto check_name = [&](const std::string& name, const std::string& where, std::string_view prefix) {
    if (name.rfind(prefix, 0) != 0 || !valid_identifier(name))
      fail(where, "canonical name '" + name + "' is not a " + std::string(prefix) + "* identifier");
    auto [it, fresh] = seen.emplace(lower(name), where);
    if (!fresh) fail(where, "duplicate canonical name '" + name + "' (first at " + it->second + ")");
  };

  // pidtag.csv: oxprops_section,canonical_name,property_id,type_name,type_code,property_tag,area,alternate_names
  Table tags = read_table(tag_path, {"oxprops_section", "canonical_name", "property_id", "type_name", "type_code",
                                     "property_tag", "area", "alternate_names"});
  std::vector<TagRow> tag_rows;
  for (auto& [line, f] : tags.rows) {
    std::string where = tag_path + ":" + std::to_string(line);
    check_name(f[1], where, "PidTag");
    uint32_t id = parse_hex(f[2], 4, where, "property_id");
    auto code = type_code(f[3]);
    if (!code) fail(where, "unknown type name '" + f[3] + "'");
    uint32_t listed_code = parse_hex(f[4], 4, where, "type_code");
    if (listed_code != *code) fail(where, "type_code " + f[4] + " does not match " + f[3]);
    uint32_t tag = parse_hex(f[5], 8, where, "property_tag");
    if (tag != (id << 16 | *code)) fail(where, "property_tag " + f[5] + " is not property_id + type_code");
    tag_rows.push_back({f[0], f[1], f[6], f[7], tag, tag_rows.size()});
  }
  // MS-OXPROPS order is by name; the catalogue is ordered by tag (stable: CSV order within a tag).
  std::stable_sort(tag_rows.begin(), tag_rows.end(), [](const TagRow& a, const TagRow& b) { return a.tag < b.tag; });

  // pidlid_pidname.csv: oxprops_section,canonical_name,property_set,property_set_guid,kind,lid_or_name,
  //                     type_name,type_code,area,alternate_names
  Table named = read_table(named_path, {"oxprops_section", "canonical_name", "property_set", "property_set_guid", "kind",
                                        "lid_or_name", "type_name", "type_code", "area", "alternate_names"});
  std::vector<NamedRow> named_rows;
  for (auto& [line, f] : named.rows) {
    std::string where = named_path + ":" + std::to_string(line);
    NamedRow r;
    r.section = f[0];
    r.name = f[1];
    if (!valid_identifier(f[2])) fail(where, "property_set '" + f[2] + "' is not an identifier");
    r.set_name = f[2];
    r.guid = parse_guid(f[3], where);
    if (f[4] == "LID") {
      check_name(f[1], where, "PidLid");
      r.is_lid = true;
      r.lid = parse_hex(f[5], 8, where, "lid_or_name");
    } else if (f[4] == "NAME") {
      check_name(f[1], where, "PidName");
      r.is_lid = false;
      r.lid = 0;
      if (f[5].empty()) fail(where, "empty property name");
      r.lid_or_name = f[5];
    } else {
      fail(where, "kind must be LID or NAME, not '" + f[4] + "'");
    }
    auto code = type_code(f[6]);
    if (!code) fail(where, "unknown type name '" + f[6] + "'");
    if (parse_hex(f[7], 4, where, "type_code") != *code) fail(where, "type_code " + f[7] + " does not match " + f[6]);
    r.type = *code;
    r.area = f[8];
    r.alternates = f[9];
    named_rows.push_back(std::move(r));
  }

  std::ostringstream o;
  o << "// Generated by tools/gen_catalog from " << literal(tag_path) << " and " << literal(named_path)
    << ". Do not edit.\n";
  o << "// {section, canonical name, area, alternate names, tag}\n";
  o << "static constexpr CatalogTagRow kCatalogTags[] = {\n";
  for (const auto& r : tag_rows) {
    char tag[16];
    std::snprintf(tag, sizeof tag, "0x%08Xu", r.tag);
    o << "  {" << literal(r.section) << ", " << literal(r.name) << ", " << literal(r.area) << ", "
      << literal(r.alternates) << ", " << tag << "},\n";
  }
  o << "};\n\n";
  o << "// {section, canonical name, area, alternate names, set name, set GUID (wire order), is LID, LID, name, type}\n";
  o << "static constexpr CatalogNamedRow kCatalogNamed[] = {\n";
  for (const auto& r : named_rows) {
    o << "  {" << literal(r.section) << ", " << literal(r.name) << ", " << literal(r.area) << ", "
      << literal(r.alternates) << ", " << literal(r.set_name) << ", {";
    for (size_t i = 0; i < 16; ++i) {
      char b[8];
      std::snprintf(b, sizeof b, "0x%02X", r.guid[i]);
      o << (i ? "," : "") << b;
    }
    char lid[16], type[16];
    std::snprintf(lid, sizeof lid, "0x%08Xu", r.lid);
    std::snprintf(type, sizeof type, "0x%04X", r.type);
    o << "}, " << (r.is_lid ? "true" : "false") << ", " << lid << ", " << literal(r.lid_or_name) << ", " << type
      << "},\n";
  }
  o << "};\n";

  std::string text = o.str();
  std::string tmp = out_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(tmp, "cannot write");
    out << text;
    if (!out) fail(tmp, "write failed");
  }
  if (std::rename(tmp.c_str(), out_path.c_str()) != 0) fail(out_path, "cannot rename the temporary file into place");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Failure& f) {
    std::cerr << "gen_catalog: error: " << f.message << "\n";
  } catch (const std::exception& e) {
    std::cerr << "gen_catalog: error: " << e.what() << "\n";
  }
  return 1;
}
