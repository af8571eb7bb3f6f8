// The SQLite mailbox schema. One database per mailbox; see docs/STORE.md.
#pragma once

namespace openmapi::store::sqlite {

// PRAGMA application_id of an OpenMAPI mailbox ("OMAP") and the schema version (user_version).
inline constexpr int kApplicationId = 0x4F4D4150;
// Version 2 added the change journal (kJournalSchema), version 3 the outgoing queue
// (kQueueSchema), version 4 put the message id before the flags in messages_by_flags
// (kFlagsIndexV4), version 5 keeps a message's recipients in one row (kRecipientRowsV5) and
// drops messages_by_modified, version 6 keys the property tables by one integer (owner << 32 |
// tag, kPropTablesV6), version 7 keeps the spooler's state with each queue entry
// (kQueueStateV7); older mailboxes are migrated on open.
inline constexpr int kSchemaVersion = 7;

// messages_by_flags in id order: a folder's messages come in id order (unsorted tables, IMAP
// UIDs) without a sort, and the unread counts still read only the index.
inline constexpr const char* kFlagsIndexV4 = R"sql(
DROP INDEX IF EXISTS messages_by_flags;
CREATE INDEX messages_by_flags ON messages(folder_id, associated, soft_deleted, id, message_flags);
)sql";

// Version 5: a message's recipient table moves into its messages row (messages.recipients,
// filled by the migration in C++, which decodes the old values) from two tables and an index,
// and the last-modified index goes: each was a page more to write in every save (a sort by
// last modification still works, without an index).
inline constexpr const char* kRecipientsColumnV5 = "ALTER TABLE messages ADD COLUMN recipients BLOB";
inline constexpr const char* kDropV4Recipients = R"sql(
DROP TRIGGER IF EXISTS recipient_props_large;
DROP TABLE IF EXISTS recipient_props;
DROP TABLE IF EXISTS recipients;
DROP INDEX IF EXISTS messages_by_modified;
)sql";

inline constexpr const char* kSchema = R"sql(
CREATE TABLE store_info(key TEXT PRIMARY KEY, value) WITHOUT ROWID;

CREATE TABLE folders(
  id INTEGER PRIMARY KEY,                      -- FID global counter
  parent_id INTEGER REFERENCES folders(id),
  special INTEGER UNIQUE,                      -- SpecialFolder, NULL for user folders
  folder_type INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  change_number INTEGER NOT NULL);
CREATE UNIQUE INDEX folders_by_name ON folders(parent_id, display_name COLLATE NOCASE);

-- Columns after message_flags up to importance mirror the message_props value of one property
-- each, so that the tables' common sorts and filters run on indices; message_props stays the
-- truth. A message's recipients are only here, all rows in one value: they are always read and
-- written together.
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,                      -- MID global counter
  folder_id INTEGER REFERENCES folders(id),    -- NULL for embedded messages
  parent_attachment_id INTEGER REFERENCES attachments(id) ON DELETE CASCADE,
  associated INTEGER NOT NULL DEFAULT 0,
  soft_deleted INTEGER NOT NULL DEFAULT 0,
  change_number INTEGER NOT NULL,
  message_size INTEGER NOT NULL DEFAULT 0,
  message_flags INTEGER NOT NULL DEFAULT 0,
  delivery_time INTEGER, last_modified INTEGER, subject TEXT, normalized_subject TEXT,
  sender_name TEXT, message_class TEXT, importance INTEGER,
  recipients BLOB);                            -- the recipient table (values.h: encode_recipient_rows), NULL if none
CREATE INDEX messages_by_delivery ON messages(folder_id, associated, soft_deleted, delivery_time);
CREATE INDEX messages_by_flags ON messages(folder_id, associated, soft_deleted, id, message_flags);
CREATE INDEX messages_by_parent ON messages(parent_attachment_id) WHERE parent_attachment_id IS NOT NULL;

CREATE TABLE attachments(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  attach_num INTEGER NOT NULL);
CREATE INDEX attachments_by_message ON attachments(message_id);

-- Values over the large-value threshold, stored in chunks and read as streams.
CREATE TABLE large_values(id INTEGER PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE large_chunks(
  value_id INTEGER NOT NULL REFERENCES large_values(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(value_id, seq)) WITHOUT ROWID;

CREATE TABLE named_props(
  id INTEGER PRIMARY KEY,                      -- 0x8000..0xFFFE
  guid BLOB NOT NULL, kind INTEGER NOT NULL, lid INTEGER, name TEXT,
  UNIQUE(guid, kind, lid, name));
)sql";

// The property tables (schema version 6), one per kind of owner: key = owner << 32 | tag (a rowid,
// so a new object's values are appended, see values.h), owner and tag generated from it. The
// owner's row going takes its values (a trigger, the key being no foreign key), and a value's
// row going takes its large value.
inline constexpr const char* kPropTablesV6 = R"sql(
CREATE TABLE folder_props(
  key INTEGER PRIMARY KEY, value, large_id INTEGER,
  folder_id INTEGER GENERATED ALWAYS AS (key >> 32) VIRTUAL,
  tag INTEGER GENERATED ALWAYS AS (key & 0xFFFFFFFF) VIRTUAL);
CREATE TABLE message_props(
  key INTEGER PRIMARY KEY, value, large_id INTEGER,
  message_id INTEGER GENERATED ALWAYS AS (key >> 32) VIRTUAL,
  tag INTEGER GENERATED ALWAYS AS (key & 0xFFFFFFFF) VIRTUAL);
CREATE TABLE attachment_props(
  key INTEGER PRIMARY KEY, value, large_id INTEGER,
  attachment_id INTEGER GENERATED ALWAYS AS (key >> 32) VIRTUAL,
  tag INTEGER GENERATED ALWAYS AS (key & 0xFFFFFFFF) VIRTUAL);
CREATE TRIGGER folder_props_owner AFTER DELETE ON folders
  BEGIN DELETE FROM folder_props WHERE key BETWEEN old.id << 32 AND (old.id << 32) | 0xFFFFFFFF; END;
CREATE TRIGGER message_props_owner AFTER DELETE ON messages
  BEGIN DELETE FROM message_props WHERE key BETWEEN old.id << 32 AND (old.id << 32) | 0xFFFFFFFF; END;
CREATE TRIGGER attachment_props_owner AFTER DELETE ON attachments
  BEGIN DELETE FROM attachment_props WHERE key BETWEEN old.id << 32 AND (old.id << 32) | 0xFFFFFFFF; END;
CREATE TRIGGER folder_props_large AFTER DELETE ON folder_props WHEN old.large_id IS NOT NULL
  BEGIN DELETE FROM large_values WHERE id = old.large_id; END;
CREATE TRIGGER message_props_large AFTER DELETE ON message_props WHEN old.large_id IS NOT NULL
  BEGIN DELETE FROM large_values WHERE id = old.large_id; END;
CREATE TRIGGER attachment_props_large AFTER DELETE ON attachment_props WHEN old.large_id IS NOT NULL
  BEGIN DELETE FROM large_values WHERE id = old.large_id; END;
)sql";

// Version 6 from 5: the (owner, tag) WITHOUT ROWID tables become keyed ones, in key order.
// The old tables' delete triggers go first: dropping them must not take the large values.
inline constexpr const char* kPropTablesFromV5 = R"sql(
DROP TRIGGER IF EXISTS folder_props_large;
DROP TRIGGER IF EXISTS message_props_large;
DROP TRIGGER IF EXISTS attachment_props_large;
ALTER TABLE folder_props RENAME TO folder_props_v5;
ALTER TABLE message_props RENAME TO message_props_v5;
ALTER TABLE attachment_props RENAME TO attachment_props_v5;
)sql";
inline constexpr const char* kPropTablesFromV5Copy = R"sql(
INSERT INTO folder_props(key, value, large_id)
  SELECT folder_id << 32 | tag, value, large_id FROM folder_props_v5 ORDER BY folder_id, tag;
INSERT INTO message_props(key, value, large_id)
  SELECT message_id << 32 | tag, value, large_id FROM message_props_v5 ORDER BY message_id, tag;
INSERT INTO attachment_props(key, value, large_id)
  SELECT attachment_id << 32 | tag, value, large_id FROM attachment_props_v5 ORDER BY attachment_id, tag;
DROP TABLE folder_props_v5;
DROP TABLE message_props_v5;
DROP TABLE attachment_props_v5;
)sql";

// The change journal (schema version 2): one row per change, keyed by its change number.
inline constexpr const char* kJournalSchema = R"sql(
CREATE TABLE changes(
  cn INTEGER PRIMARY KEY,                      -- change number (global counter), journal order
  time INTEGER NOT NULL,                       -- FILETIME
  kind INTEGER NOT NULL,                       -- store::ChangeKind
  is_folder INTEGER NOT NULL,
  object_id INTEGER NOT NULL,                  -- message or folder id after the change
  folder_id INTEGER NOT NULL,                  -- the folder holding it (parent folder for folders)
  old_object_id INTEGER, old_folder_id INTEGER,  -- moves and copies: the source
  flags INTEGER NOT NULL DEFAULT 0);           -- PidTagMessageFlags after the change
CREATE INDEX changes_by_folder ON changes(folder_id, cn);
CREATE INDEX changes_by_old_folder ON changes(old_folder_id, cn) WHERE old_folder_id IS NOT NULL;
)sql";
// The outgoing queue (schema version 3): submitted messages waiting for the spooler.
inline constexpr const char* kQueueSchema = R"sql(
CREATE TABLE outgoing(
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  submitted INTEGER NOT NULL);                 -- FILETIME of SubmitMessage
)sql";
// Version 7: the spooler's state of a queued message (Mailbox::QueueState): tries, the next
// one (FILETIME), the finished recipients (one SMTP address per line), the last error. Each
// column is added when missing (kQueueStateColumnsV7: name, then its definition).
inline constexpr const char* kQueueStateColumnsV7[][2] = {
    {"attempts", "attempts INTEGER NOT NULL DEFAULT 0"},
    {"next_attempt", "next_attempt INTEGER NOT NULL DEFAULT 0"},
    {"finished", "finished TEXT NOT NULL DEFAULT ''"},
    {"last_error", "last_error TEXT NOT NULL DEFAULT ''"},
};
// (No index on time: pruning walks the oldest rows by change number, whose times rise with it;
// an index more would cost every commit a page.)

}  // namespace openmapi::store::sqlite
