// gen_mapitags: writes the C ABI's mapitags.h (issue 12) from data/pidtag.csv (MS-OXPROPS): every
// PR_* alternate name MS-OXPROPS lists for a property, as PROP_TAG(type, id).
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
    }
  }
  // Names of the MAPI reference's property pages ("Associated properties") that MS-OXPROPS
  // leaves out of its alternate names.
  struct Extra {
    const char* name;
    const char* tag;
    const char* canonical;
  };
  for (const Extra& e : {Extra{"PR_ATTACH_DATA_BIN", "PROP_TAG(0x0102, 0x3701)", "PidTagAttachDataBinary"}})
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
