// Property values <-> SQLite columns, the three property tables (folder, message, attachment)
// read and written the same way, and a message's recipient rows as one value.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/propbag.h"
#include "store/sqlite/db.h"

namespace openmapi::store::sqlite {

// Values above this size (bytes) are stored in chunks (large_values) and streamed.
inline constexpr size_t kLargeValueThreshold = 32 * 1024;
inline constexpr size_t kChunkSize = 64 * 1024;
// Large values in table rows are cut to this many bytes (MS-OXCTABL: long columns are truncated).
inline constexpr size_t kTableValueLimit = 510;

// Scalars map to SQLite's own types (integers, REAL, TEXT in UTF-8, BLOB), so that SQL can
// compare and sort them; multi-valued and restriction values are stored in their
// MS-OXCDATA wire form as BLOBs.
void bind_value(Stmt& s, int index, const PropValue& v);
PropValue column_value(const Stmt& s, int index, PropTag tag);
// PtypString8 values are kept as PtypString (UTF-8 inside either way).
PropValue normalize(PropValue v);

// The property tables are keyed by one integer, `key` = owner << 32 | tag, so that a new
// object's values are appended at the right edge of a rowid b-tree (a save of a new message
// writes about two pages fewer than with a (owner, tag) WITHOUT ROWID key); the owner and the
// tag are generated columns of the key. Owners (folder, message and attachment ids) are below
// 2^31, which prop_key checks.
struct PropTableSpec {
  const char* table;   // "message_props"
  const char* owner;   // "message_id" (generated: key >> 32)
};
inline constexpr PropTableSpec kFolderProps{"folder_props", "folder_id"};
inline constexpr PropTableSpec kMessageProps{"message_props", "message_id"};
inline constexpr PropTableSpec kAttachmentProps{"attachment_props", "attachment_id"};

// Object ids below this fit the property key (owner << 32 | tag).
inline constexpr int64_t kMaxPropOwner = (int64_t(1) << 31) - 1;
// The key of `tag` of `owner`; MAPI_E_NOT_ENOUGH_RESOURCES if the owner id does not fit.
int64_t prop_key(int64_t owner, uint32_t tag);
// The first and last key of every value of `owner`, or of every type of property id `prop_id`.
struct KeyRange {
  int64_t first, last;
};
KeyRange owner_keys(int64_t owner);
KeyRange prop_id_keys(int64_t owner, uint16_t prop_id);

// A message's recipient table as one value (messages.recipients): the rows are written and
// read with their message, so they cost a save no page of their own.
// Layout: version byte 1, a 32-bit row count, then per row its PidTagRowid, a 32-bit property
// count and the properties, each a 32-bit tag and its value (strings as a 32-bit length and
// their UTF-8 bytes, binaries as a 32-bit length and the bytes, multi-valued strings as a
// 32-bit count of such strings, every other type in its MS-OXCDATA wire form); little-endian
// throughout.
// encode: rows must carry PidTagRowid (it is not repeated among the properties); ErrorCode and
// Object values are left out, PtypString8 values kept as PtypString.
Bytes encode_recipient_rows(const std::vector<PropertyBag>& rows);
// The rows, each with its PidTagRowid; MAPI_E_CORRUPT_STORE for a malformed value (counts are
// checked against the bytes left before anything is allocated).
std::vector<PropertyBag> decode_recipient_rows(ByteView blob);
// The sum of PropValue::size() over every value of the rows (PidTagRowid not counted): the
// recipients' share of PidTagMessageSize.
int64_t recipient_rows_size(ByteView blob);

// Writes (insert or replace) `values` for `owner`; large strings and binaries go to chunks.
// `fresh`: the owner was just created and has no values yet (nothing to replace).
void write_props(Db& db, const PropTableSpec& t, int64_t owner, const std::vector<PropValue>& values, bool fresh = false);
// Deletes the given tags (all when `tags` is empty).
void delete_props(Db& db, const PropTableSpec& t, int64_t owner, const std::vector<PropTag>& tags = {});
// Reads every property of `owner`; large values are read whole when `large_values`, else left out.
PropertyBag read_props(Db& db, const PropTableSpec& t, int64_t owner, bool large_values);
// Streams a value from chunks into a chunked large value; returns its id.
int64_t write_large(Db& db, ByteView data);
int64_t write_large_stream(Db& db, const std::function<size_t(uint8_t*, size_t)>& source, uint64_t& size);
Bytes read_large(Db& db, int64_t id, size_t limit = SIZE_MAX);
// A value from its large-value id, cut to kTableValueLimit (on a UTF-8 boundary for strings).
PropValue large_value_for_table(Db& db, PropTag tag, int64_t id);

}  // namespace openmapi::store::sqlite
