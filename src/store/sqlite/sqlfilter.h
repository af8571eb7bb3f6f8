// Restrictions and sort orders compiled to SQL over the messages table (alias m).
//
// A compiled restriction is a *prefilter*: the rows it selects are a superset of the rows the
// restriction matches. When `exact` is true the SQL is equivalent and no row needs checking
// in C++; otherwise the table evaluates the restriction (core/restriction.h) on each candidate.
// This keeps one definition of MAPI semantics (core's evaluator) while SQL does the narrowing.
// "Exact" assumes a property is stored with the type the restriction names (the store keeps one
// value per property id; PtypString8 is stored as PtypString): a value stored under the same id
// with another type (say PidTagImportance as PtypInteger16) is not matched by an exact filter,
// where core's evaluator would compare across integer widths.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/restriction.h"
#include "core/sortorder.h"
#include "store/sqlite/db.h"

namespace openmapi::store::sqlite {

struct SqlFragment {
  std::string sql;
  std::vector<PropValue> params;  // bound in order, for each '?'
  bool exact = true;
};

// The SQL expression for a message property: a mirrored column of messages, or a sub-select
// from message_props. nullopt for properties computed at read time (entry IDs, ...).
std::optional<std::string> message_column_sql(PropTag tag);
// The mirrored column of messages for a tag, if any ("delivery_time", ...).
const char* mirrored_column(PropTag tag);

SqlFragment compile_restriction(const Restriction& r);
// The properties `r` reads from a message, and whether it looks into recipients or attachments:
// what must be loaded to evaluate it in C++.
void collect_restriction_tags(const Restriction& r, std::vector<PropTag>& tags, bool& subobjects);
// ORDER BY terms for `s` (without "ORDER BY"), or nullopt if some column cannot be sorted in SQL.
std::optional<std::string> compile_sort(const SortOrderSet& s);

// Registers the "MAPI" collation (compare_values' order for strings) on a connection.
void register_collation(Db& db);

}  // namespace openmapi::store::sqlite
