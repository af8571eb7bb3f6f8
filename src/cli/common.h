// Shared pieces of the `openmapi` command: where mailboxes live, and how values are shown.
#pragma once
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/namedprop.h"
#include "core/propbag.h"
#include "store/store.h"

namespace openmapi::cli {

// The data directory: --data-dir, else $OPENMAPI_DATA_DIR, else ./var.
std::string data_dir(const std::string& option);
// <data-dir>/mailboxes/<name>.sqlite; a name is 1-64 of [A-Za-z0-9._@-] (MAPI_E_INVALID_PARAMETER otherwise).
std::string mailbox_path(const std::string& dir, const std::string& name);
// A name ending in .pst or .ost is a PST file's path, opened read-only (store/pst/pst_mailbox.h).
std::unique_ptr<store::Mailbox> open_mailbox(const std::string& dir, const std::string& name);

// A value as JSON: numbers, booleans and strings as themselves, times as ISO 8601 text,
// binaries as hex, multi-values as arrays, errors as their MAPI_E_ name.
nlohmann::json value_json(const PropValue& v);
// A value for a table cell: one line, cut to `width` characters (0: no limit); times to the minute if `short_time`.
std::string value_cell(const PropValue& v, size_t width = 0, bool short_time = false);
// Where named-property ids get their names: a mailbox's map or a file's.
using NameLookup = std::function<std::optional<PropertyName>(uint16_t)>;
NameLookup names_of(store::Mailbox& mb);
NameLookup names_of(const NamedPropertyMap& map);

// A bag as [{tag, name, type, value}] in tag order.
nlohmann::json bag_json(const PropertyBag& bag, const NameLookup& names = {});
// The readable name of a tag (catalogue name, or the named property it maps to).
std::string property_label(PropTag tag, const NameLookup& names = {});
// A whole message (recipients, attachments, embedded messages) as JSON, or printed as
// MFCMAPI's property pane shows it: tag, name, type, value.
nlohmann::json message_json(const Message& m, const NameLookup& names);
void print_message(const Message& m, const NameLookup& names, const std::string& indent = "");

// Prints rows as an aligned text table with a header line.
void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

// Fills a mailbox with the demo content (folders and sample messages).
void fill_demo_mailbox(store::Mailbox& mb);

}  // namespace openmapi::cli
