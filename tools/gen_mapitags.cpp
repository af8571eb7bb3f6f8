// gen_mapitags: writes the C ABI's mapitags.h (issue 12) from data/pidtag.csv (MS-OXPROPS): every
// PR_* alternate name MS-OXPROPS lists for a property, as PROP_TAG(type, id); a property it lists
// no name for gets one derived from its canonical name (see derived_name).
//
//   gen_mapitags <pidtag.csv> <out mapitags.h>
//
// String properties follow Windows: PR_X is PT_TSTRING (PT_UNICODE under UNICODE, else
// PT_STRING8), PR_X_A PT_STRING8, PR_X_W PT_UNICODE; likewise their multi-valued forms. A name
// listed for two properties keeps the first. A malformed row stops the build with "file:line:".
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// "AttachLongFilename" -> "ATTACH_LONG_FILENAME": a '_' before each capital that starts a word
// (after a lower-case letter or digit, or ending a run of capitals); "ENTRY_ID" is "ENTRYID" as
// in Windows' names.
std::string derived_name(const std::string& camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(camel[i]);
    if (i > 0 && std::isupper(c)) {
      const unsigned char prev = static_cast<unsigned char>(camel[i - 1]);
      const bool next_lower = i + 1 < camel.size() && std::islower(static_cast<unsigned char>(camel[i + 1]));
      if (std::islower(prev) || std::isdigit(prev) || (std::isupper(prev) && next_lower)) out += '_';
    }
    out += char(std::toupper(c));
  }
  for (size_t at; (at = out.find("ENTRY_ID")) != std::string::npos;) out.replace(at, 8, "ENTRYID");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: gen_mapitags <pidtag.csv> <mapitags.h>\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << argv[1] << ": cannot read\n";
    return 1;
  }
  std::ostringstream out;
  out << "/* OpenMAPI's C ABI: the PR_* property tags of Windows' mapitags.h, generated from\n"
         " * data/pidtag.csv (the alternate names MS-OXPROPS lists) by tools/gen_mapitags.cpp. */\n"
         "#ifndef OPENMAPI_MAPITAGS_H\n#define OPENMAPI_MAPITAGS_H\n#include \"mapidefs.h\"\n\n";
  std::string line;
  int n = 0, written = 0;
  std::set<std::string> seen;
  struct Unnamed {
    std::string canonical;
    unsigned long id, type;
  };
  std::vector<Unnamed> unnamed;
  std::getline(in, line);  // the header row
  ++n;
  while (std::getline(in, line)) {
    ++n;
    if (trim(line).empty()) continue;
    const auto f = fields_of(line);
    if (f.size() != 8) {
      std::cerr << argv[1] << ":" << n << ": expected 8 fields, got " << f.size() << "\n";
      return 1;
    }
    unsigned long id = 0, type = 0;
    try {
      id = std::stoul(f[2], nullptr, 16);
      type = std::stoul(f[4], nullptr, 16);
    } catch (...) {
      std::cerr << argv[1] << ":" << n << ": bad property id or type\n";
      return 1;
    }
    std::stringstream names(f[7]);
    std::string name;
    bool named = false;
    while (std::getline(names, name, ',')) {
      name = trim(name);
      name = name.substr(0, name.find(' '));  // "PR_X Not documented ..." (a note after the name, in one row)
      if (name.rfind("PR_", 0) != 0 || !seen.insert(name).second) continue;
      for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
          std::cerr << argv[1] << ":" << n << ": '" << name << "' is not a C name\n";
          return 1;
        }
      const bool string = type == 0x001F || type == 0x001E, mv_string = type == 0x101F || type == 0x101E;
      const bool a = name.size() > 2 && name.compare(name.size() - 2, 2, "_A") == 0;
      const bool w = name.size() > 2 && name.compare(name.size() - 2, 2, "_W") == 0;
      std::string t;
      if (string) t = a ? "PT_STRING8" : w ? "PT_UNICODE" : "PT_TSTRING";
      else if (mv_string) t = a ? "PT_MV_STRING8" : w ? "PT_MV_UNICODE" : "PT_MV_TSTRING";
      else {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%04lX", type);
        t = buf;
      }
      char idbuf[16];
      std::snprintf(idbuf, sizeof idbuf, "0x%04lX", id);
      out << "#define " << name << " PROP_TAG(" << t << ", " << idbuf << ")  /* " << f[1] << " */\n";
      ++written;
      named = true;
    }
    if (!named) unnamed.push_back({f[1], id, type});
  }
  // Properties MS-OXPROPS gives no PR_ name: one made from the canonical name as Windows' names
  // are made (PidTagAttachLongFilename -> PR_ATTACH_LONG_FILENAME, ...EntryId -> ..._ENTRYID),
  // after every listed name, so that a listed name always wins.
  for (const Unnamed& u : unnamed) {
    if (u.canonical.rfind("PidTag", 0) != 0) continue;
    std::string base = "PR_" + derived_name(u.canonical.substr(6));
    const bool string = u.type == 0x001F || u.type == 0x001E, mv_string = u.type == 0x101F || u.type == 0x101E;
    char idbuf[16];
    std::snprintf(idbuf, sizeof idbuf, "0x%04lX", u.id);
    std::vector<std::pair<std::string, std::string>> forms;
    if (string) forms = {{base, "PT_TSTRING"}, {base + "_A", "PT_STRING8"}, {base + "_W", "PT_UNICODE"}};
    else if (mv_string) forms = {{base, "PT_MV_TSTRING"}, {base + "_A", "PT_MV_STRING8"}, {base + "_W", "PT_MV_UNICODE"}};
    else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%04lX", u.type);
      forms = {{base, buf}};
    }
    for (const auto& [name, t] : forms)
      if (seen.insert(name).second) {
        out << "#define " << name << " PROP_TAG(" << t << ", " << idbuf << ")  /* " << u.canonical << " (name derived) */\n";
        ++written;
      }
  }
  // Names of the MAPI reference's property pages ("Associated properties") that MS-OXPROPS
  // leaves out of its alternate names.
  struct Extra {
    const char* name;
    const char* tag;
    const char* canonical;
  };
  for (const Extra& e : {Extra{"PR_ATTACH_DATA_BIN", "PROP_TAG(0x0102, 0x3701)", "PidTagAttachDataBinary"},
                         Extra{"PR_DEFAULT_STORE", "PROP_TAG(PT_BOOLEAN, 0x3400)", "the MAPI reference"},
                         Extra{"PR_PROVIDER_DISPLAY", "PROP_TAG(PT_TSTRING, 0x3006)", "the MAPI reference"},
                         Extra{"PR_PROVIDER_DISPLAY_A", "PROP_TAG(PT_STRING8, 0x3006)", "the MAPI reference"},
                         Extra{"PR_PROVIDER_DISPLAY_W", "PROP_TAG(PT_UNICODE, 0x3006)", "the MAPI reference"},
                         Extra{"PR_RESOURCE_FLAGS", "PROP_TAG(PT_LONG, 0x3009)", "the MAPI reference"},
                         Extra{"PR_MDB_PROVIDER", "PROP_TAG(PT_BINARY, 0x3414)", "the MAPI reference"},
                         Extra{"PR_VALID_FOLDER_MASK", "PROP_TAG(PT_LONG, 0x35DF)", "the MAPI reference"},
                         Extra{"PR_STATUS", "PROP_TAG(PT_LONG, 0x360B)", "the MAPI reference"},
                         Extra{"PR_DEFAULT_PROFILE", "PROP_TAG(PT_BOOLEAN, 0x3D04)", "the MAPI reference"},
                         Extra{"PR_SERVICE_NAME", "PROP_TAG(PT_TSTRING, 0x3D09)", "the MAPI reference"},
                         Extra{"PR_SERVICE_NAME_A", "PROP_TAG(PT_STRING8, 0x3D09)", "the MAPI reference"},
                         Extra{"PR_SERVICE_NAME_W", "PROP_TAG(PT_UNICODE, 0x3D09)", "the MAPI reference"},
                         Extra{"PR_SERVICE_DLL_NAME", "PROP_TAG(PT_TSTRING, 0x3D0A)", "the MAPI reference"},
                         Extra{"PR_SERVICE_DLL_NAME_A", "PROP_TAG(PT_STRING8, 0x3D0A)", "the MAPI reference"},
                         Extra{"PR_SERVICE_DLL_NAME_W", "PROP_TAG(PT_UNICODE, 0x3D0A)", "the MAPI reference"},
                         Extra{"PR_SERVICE_UID", "PROP_TAG(PT_BINARY, 0x3D0C)", "the MAPI reference"},
                         Extra{"PR_PROFILE_NAME", "PROP_TAG(PT_TSTRING, 0x3D12)", "the MAPI reference"},
                         Extra{"PR_PROFILE_NAME_A", "PROP_TAG(PT_STRING8, 0x3D12)", "the MAPI reference"},
                         Extra{"PR_PROFILE_NAME_W", "PROP_TAG(PT_UNICODE, 0x3D12)", "the MAPI reference"},
                         Extra{"PR_PST_PATH", "PROP_TAG(PT_TSTRING, 0x6700)", "the PST provider's (mspst.h)"},
                         Extra{"PR_PST_PATH_A", "PROP_TAG(PT_STRING8, 0x6700)", "the PST provider's (mspst.h)"},
                         Extra{"PR_PST_PATH_W", "PROP_TAG(PT_UNICODE, 0x6700)", "the PST provider's (mspst.h)"},
                         Extra{"PR_PROFILE_UNRESOLVED_NAME", "PROP_TAG(PT_STRING8, 0x6607)", "the Exchange provider's (emsmdb)"},
                         Extra{"PR_PROFILE_UNRESOLVED_SERVER", "PROP_TAG(PT_STRING8, 0x6608)", "the Exchange provider's (emsmdb)"}})
    if (seen.insert(e.name).second) {
      out << "#define " << e.name << " " << e.tag << "  /* " << e.canonical << " */\n";
      ++written;
    }
  out << "\n#endif\n";
  std::ofstream o(argv[2]);
  o << out.str();
  if (!o) {
    std::cerr << argv[2] << ": cannot write\n";
    return 1;
  }
  std::cerr << "gen_mapitags: " << written << " PR_ names\n";
  return 0;
}
