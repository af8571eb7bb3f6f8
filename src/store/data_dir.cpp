#include "store/data_dir.h"

#include <filesystem>

#include "core/error.h"

namespace openmapi::store {

std::string mailbox_file(const std::string& data_dir, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '@' || c == '-');
  if (!ok) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "invalid mailbox name '" + name + "': use 1-64 letters, digits and . _ @ -");
  // -m FILE.pst browses a PST file: a mailbox of that name could never be named.
  const std::string tail = name.size() >= 4 ? name.substr(name.size() - 4) : "";
  std::string lower;
  for (char c : tail) lower += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (lower == ".pst" || lower == ".ost")
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "invalid mailbox name '" + name + "': a name ending in .pst or .ost means a PST file");
  return (std::filesystem::path(data_dir) / "mailboxes" / (name + ".sqlite")).string();
}

}  // namespace openmapi::store
