// `openmapi pst info|ls|export` and `openmapi import pst`.
#pragma once
#include <string>

namespace openmapi::cli {

void pst_info(const std::string& file, bool as_json);
void pst_ls(const std::string& file, bool messages, bool as_json);
// Writes every message under DIR, one directory per folder, as .eml or .msg files.
void pst_export(const std::string& file, const std::string& dir, const std::string& format);
// Copies the PST's folders and messages into a mailbox below its IPM subtree (PST folders named
// like a default folder go into that folder). Messages already imported from this PST are
// skipped, so running it again adds nothing.
void import_pst(const std::string& file, const std::string& data_dir, const std::string& mailbox);

// Writes a mailbox's IPM subtree (folders and messages, associated ones too) to a new Unicode PST.
void export_pst(const std::string& data_dir, const std::string& mailbox, const std::string& out);

}  // namespace openmapi::cli
