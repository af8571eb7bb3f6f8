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
  return (std::filesystem::path(data_dir) / "mailboxes" / (name + ".sqlite")).string();
}

}  // namespace openmapi::store
