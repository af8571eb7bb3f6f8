// `openmapi profile create|ls|show|rm` and `openmapi ab resolve` (mapi/).
#pragma once
#include <string>
#include <vector>

namespace openmapi::cli {

// A profile of the mailbox `mailbox` of `data_dir` (if given) and the PST files `psts`, in that
// order: the first is the default store. Files must exist and open.
void profile_create(const std::string& data_dir, const std::string& name, const std::string& mailbox,
                    const std::vector<std::string>& psts, const std::string& display_name);
void profile_ls(bool as_json);
void profile_show(const std::string& name, bool as_json);
void profile_rm(const std::string& name);
void ab_resolve(const std::string& profile, const std::string& text, bool as_json);

}  // namespace openmapi::cli
