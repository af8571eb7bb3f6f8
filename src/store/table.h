// MAPI tables (MS-OXCTABL): a view over rows with columns, a restriction, a (possibly
// categorized) sort order, a cursor, bookmarks, and expand/collapse of categories.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/propbag.h"
#include "core/restriction.h"
#include "core/sortorder.h"

namespace openmapi::store {

// MS-OXCTABL 2.2.2.1.2 / RopSeekRow origins.
enum class BookmarkOrigin : uint8_t { Beginning = 0, Current = 1, End = 2 };

// MS-OXCTABL 2.2.1.2 PidTagRowType values.
namespace rowtype {
inline constexpr int32_t Leaf = 1;
inline constexpr int32_t EmptyCategory = 2;
inline constexpr int32_t ExpandedCategory = 3;
inline constexpr int32_t CollapsedCategory = 4;
}  // namespace rowtype

// MS-OXCNOTIF 2.2.1.4.1.2 / MAPI TABLE_NOTIFICATION ulTableEvent values.
namespace table_event {
inline constexpr uint32_t Changed = 1;      // something changed: read the table again
inline constexpr uint32_t RowAdded = 3;
inline constexpr uint32_t RowDeleted = 4;
inline constexpr uint32_t RowModified = 5;
inline constexpr uint32_t Reload = 9;
}  // namespace table_event

// One row: a value per column, in column order. A column the row has no value for holds a
// PtypErrorCode value MAPI_E_NOT_FOUND with the column's id (as RopQueryRows returns it).
using Row = std::vector<PropValue>;

// A table notification (fnevTableModified): for RowAdded and RowModified the row (in the
// table's columns) and the instance key of the row now before it (empty: it is the first row);
// for RowDeleted the instance key of the row that went.
struct TableNotification {
  uint32_t event = table_event::Changed;
  Bytes instance_key;
  Bytes prior_instance_key;
  Row row;
};
// Receives a table's notifications (IMAPIAdviseSink::OnNotify with fnevTableModified).
using TableSink = std::function<void(const TableNotification&)>;

// Tables are live: a table follows its folder as it changes, through any connection of any
// process. Each call first looks whether the rows changed (one indexed look at the change
// journal); if so the view is ordered again, the cursor stays on the row it was on (or, if that
// row went, where it was) and bookmarks keep their rows.
// Thread safety: one thread at a time; tables are not shared between sessions.
class Table {
 public:
  virtual ~Table() = default;

  // Looks for changes now and returns the notifications since the last call (the first call
  // only starts keeping them): RowAdded / RowDeleted / RowModified for plain tables, Changed for
  // categorized ones and for restriction or sort changes made meanwhile.
  virtual std::vector<TableNotification> refresh() { return {}; }
  // IMAPITable::Advise (fnevTableModified; MS-OXCNOTIF 3.1.4.2 for tables): `sink` is called,
  // on the store's notification thread (store/notify.h), with what refresh() would report,
  // pushed as changes commit through any connection of any process; the view it follows is
  // this table's (columns, restriction, sort), also after they change. Returns the connection
  // for unadvise; the subscription ends at the latest with the table or its Logon.
  // MAPI_E_NO_SUPPORT for tables that are not opened through a Logon's folder.
  virtual uint32_t advise(TableSink sink) {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "this table cannot be advised");
  }
  // Ends a subscription: when it returns (from any thread but the notification thread) the
  // sink is not running and will not be called again. Unknown connection: MAPI_E_NOT_FOUND.
  virtual void unadvise(uint32_t connection) {
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no table advise connection " + std::to_string(connection));
  }

  // RopSetColumns. Empty columns: MAPI_E_INVALID_PARAMETER.
  virtual void set_columns(std::vector<PropTag> columns) = 0;
  virtual const std::vector<PropTag>& columns() const = 0;
  // RopRestrict: nullopt removes the restriction. Moves the cursor to the beginning.
  virtual void restrict(std::optional<Restriction> r) = 0;
  // RopSortTable. Moves the cursor to the beginning. More categories than orders: MAPI_E_INVALID_PARAMETER.
  virtual void sort(const SortOrderSet& s) = 0;
  // RopQueryRows: up to `count` rows from the cursor, forward or backward; the cursor moves past them.
  // Backward reads return rows in table order, ending just before the cursor.
  virtual std::vector<Row> query_rows(uint32_t count, bool forward = true) = 0;
  // RopSeekRow: moves `offset` rows from `origin` (clamped to the table); returns the rows actually moved (signed).
  virtual int32_t seek_row(BookmarkOrigin origin, int32_t offset) = 0;
  // RopSeekRowFractional / IMAPITable::SeekRowApprox: the cursor to about numerator/denominator
  // of the table (a fraction of 1 or more: the end). MAPI_E_INVALID_PARAMETER for denominator 0.
  virtual void seek_row_approx(uint32_t numerator, uint32_t denominator) {
    if (denominator == 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "SeekRowApprox needs a denominator");
    const uint64_t rows = row_count();
    const uint64_t target = numerator >= denominator ? rows : rows * numerator / denominator;
    seek_row(BookmarkOrigin::Beginning, int32_t(std::min<uint64_t>(target, INT32_MAX)));
  }
  // RopCreateBookmark / RopSeekRowBookmark / RopFreeBookmark. A bookmark whose row has gone
  // positions on the next row and returns false ("row no longer visible"). Unknown bookmark:
  // MAPI_E_INVALID_BOOKMARK.
  virtual uint32_t create_bookmark() = 0;
  virtual bool seek_row_bookmark(uint32_t bookmark, int32_t offset, int32_t* rows_sought = nullptr) = 0;
  virtual void free_bookmark(uint32_t bookmark) = 0;
  // RopFindRow: the first row from `origin` (BOOKMARK_BEGINNING/CURRENT/END) in the given
  // direction that satisfies `r`; on success the cursor is on that row and the row is returned.
  virtual std::optional<Row> find_row(const Restriction& r, BookmarkOrigin origin, bool forward = true) = 0;
  // RopGetRowCount-like: the number of visible rows (headers and leaves of expanded categories).
  virtual uint32_t row_count() = 0;
  // RopQueryPosition: (cursor row, row count).
  virtual std::pair<uint32_t, uint32_t> query_position() = 0;
  // RopExpandRow / RopCollapseRow by a header row's PidTagInstanceKey: returns the number of rows
  // that became visible / hidden. Not a header: MAPI_E_NOT_FOUND.
  virtual uint32_t expand_row(const Bytes& instance_key) = 0;
  virtual uint32_t collapse_row(const Bytes& instance_key) = 0;
  // RopExpandRow's rows: up to `count` rows after the visible row `instance_key` (after an
  // expand, its category's rows), in the table's columns; the cursor stays where it is. Not a
  // visible row: MAPI_E_NOT_FOUND. Tables without categories answer none.
  virtual std::vector<Row> rows_after(const Bytes& instance_key, uint32_t count) { return {}; }
  // RopGetCollapseState / RopSetCollapseState (MS-OXCTABL 2.2.2.18, 2.2.2.19): which categories
  // are expanded or collapsed (by their values, so the state outlives changes to the table and
  // the table object) and the row `instance_key` (empty: the cursor's row), as an opaque blob;
  // setting it restores the categories and returns a bookmark on that row (or, if it is gone,
  // on the cursor). A blob this table did not make: MAPI_E_CORRUPT_DATA.
  virtual Bytes get_collapse_state(const Bytes& instance_key) {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "this table has no collapse state");
  }
  virtual uint32_t set_collapse_state(const Bytes& state) {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "this table has no collapse state");
  }
};

// ---- the generic view engine behind every store table ----------------------

// A matching leaf row, in order, with the values of the category columns (categorized views only).
struct LeafRow {
  int64_t id = 0;
  std::vector<std::optional<PropValue>> category_keys;
  bool unread = false;
};

// The cell of column `col` for value `v` (null: absent): the value when its type answers the
// column's (a PT_UNICODE value is converted for a PT_STRING8 column), else PT_ERROR
// MAPI_E_NOT_FOUND. `v` is moved from.
PropValue table_cell(PropValue* v, PropTag col);

// What a ViewTable needs from its backend.
class RowSource {
 public:
  virtual ~RowSource() = default;
  // The leaf rows satisfying `r` (may be null), in the order `s` gives (category columns first),
  // ties broken by id in the direction of the last sort column. For a categorized `s`, each row carries its category column values.
  virtual std::vector<LeafRow> leaf_rows(const Restriction* r, const SortOrderSet& s) = 0;
  // The values of `columns` for the leaf rows `ids` (same order as `ids`).
  virtual std::vector<PropertyBag> fetch(const std::vector<int64_t>& ids, const std::vector<PropTag>& columns) = 0;
  // A source to evaluate a restriction over one leaf row (FindRow).
  virtual std::unique_ptr<PropertySource> row_source(int64_t id) = 0;
  // Fast paths for an uncategorized view read from the top, before anything needs the whole
  // row list: the ids of rows [offset, offset + limit) and the number of rows, or nullopt
  // when the source cannot answer without ordering everything.
  virtual std::optional<std::vector<int64_t>> page(const Restriction* r, const SortOrderSet& s, size_t offset,
                                                   size_t limit) { return std::nullopt; }
  virtual std::optional<size_t> count(const Restriction* r) { return std::nullopt; }
  // page() and fetch() in one read, when the source can: the ids of rows [offset, offset + limit)
  // and their cells of `columns` (made by table_cell; the table fills in the columns it makes
  // itself, MS-OXCTABL 2.2.1).
  virtual std::optional<std::vector<std::pair<int64_t, Row>>> page_rows(const Restriction* r, const SortOrderSet& s,
                                                                        size_t offset, size_t limit,
                                                                        const std::vector<PropTag>& columns) {
    return std::nullopt;
  }
  // Live tables: a value that changes whenever the rows may have changed (the newest change
  // number touching them), or nullopt for rows that never change. `invalidate` drops whatever
  // the source cached.
  virtual std::optional<int64_t> version() { return std::nullopt; }
  virtual void invalidate() {}
  // The rows whose content changed after version `since` (for RowModified), when known.
  virtual std::optional<std::vector<int64_t>> modified_since(int64_t since) { return std::nullopt; }
};

// Orders in-memory rows: evaluates `r`, sorts by `s` (ties by id as RowSource says), fills category keys.
std::vector<LeafRow> order_rows(std::vector<std::pair<int64_t, const PropertySource*>> rows, const Restriction* r,
                                const SortOrderSet& s, PropTag unread_flag_tag = PropTag());

// Rows held in memory as messages (a folder's messages, or folders as property-only messages),
// loaded on first use: for read-only stores such as a PST file. `unread_tag` names the flags
// property whose MSGFLAG_READ bit counts unread rows in category headers (0: none).
class MessageRowSource : public RowSource {
 public:
  using Loader = std::function<std::vector<std::pair<int64_t, Message>>()>;
  explicit MessageRowSource(Loader load, PropTag unread_tag = PropTag()) : load_(std::move(load)), unread_tag_(unread_tag) {}
  std::vector<LeafRow> leaf_rows(const Restriction* r, const SortOrderSet& s) override;
  std::vector<PropertyBag> fetch(const std::vector<int64_t>& ids, const std::vector<PropTag>& columns) override;
  std::unique_ptr<PropertySource> row_source(int64_t id) override;

 private:
  void ensure_loaded();
  Loader load_;
  PropTag unread_tag_;
  bool loaded_ = false;
  std::vector<std::pair<int64_t, Message>> rows_;  // in the loader's order
  std::map<int64_t, size_t> index_;
};

// The Table implementation: cursor, bookmarks, categories; rows come from a RowSource.
class ViewTable : public Table {
 public:
  ViewTable(std::unique_ptr<RowSource> source, std::vector<PropTag> default_columns);

  void set_columns(std::vector<PropTag> columns) override;
  const std::vector<PropTag>& columns() const override { return columns_; }
  void restrict(std::optional<Restriction> r) override;
  void sort(const SortOrderSet& s) override;
  std::vector<Row> query_rows(uint32_t count, bool forward) override;
  std::vector<TableNotification> refresh() override;
  int32_t seek_row(BookmarkOrigin origin, int32_t offset) override;
  uint32_t create_bookmark() override;
  bool seek_row_bookmark(uint32_t bookmark, int32_t offset, int32_t* rows_sought) override;
  void free_bookmark(uint32_t bookmark) override;
  std::optional<Row> find_row(const Restriction& r, BookmarkOrigin origin, bool forward) override;
  uint32_t row_count() override;
  std::pair<uint32_t, uint32_t> query_position() override;
  uint32_t expand_row(const Bytes& instance_key) override;
  uint32_t collapse_row(const Bytes& instance_key) override;
  std::vector<Row> rows_after(const Bytes& instance_key, uint32_t count) override;
  Bytes get_collapse_state(const Bytes& instance_key) override;
  uint32_t set_collapse_state(const Bytes& state) override;

 private:
  // A category by its values, outermost first.
  std::vector<std::optional<PropValue>> category_path(size_t category) const;
  // Toggles the categories whose paths are in `toggled` away from their default state.
  void apply_toggled(const std::vector<std::vector<std::optional<PropValue>>>& toggled);
  std::vector<std::vector<std::optional<PropValue>>> toggled_paths() const;
  Bytes instance_key_of_cursor() const { return instance_key(visible_[cursor_]); }
  struct Category {
    size_t depth = 0;
    std::optional<PropValue> key;
    size_t parent = SIZE_MAX;       // index of the enclosing category
    std::vector<size_t> children;   // sub-categories (depth + 1)
    size_t first_leaf = 0, leaf_count = 0;  // leaves of the innermost level, in leaves_
    uint32_t unread = 0;
    bool expanded = true;
  };
  struct VisibleRow {
    bool header = false;
    size_t index = 0;  // into categories_ or leaves_
  };

  // Live tables: re-orders the view if the source's version moved, keeping the cursor's row.
  void follow();
  // True while the view has not been ordered whole and may be read page by page.
  bool paging() const { return !built_ && sort_.categories == 0; }
  size_t total_rows();
  std::vector<Row> rows_for(const std::vector<VisibleRow>& refs, const std::vector<int64_t>* page_ids = nullptr);
  // A leaf row of the columns from `bag` (the table-made columns added), and any bag as a row.
  Row leaf_row(PropertyBag bag, int64_t id) const;
  // Fills in the columns of a leaf row the table makes itself.
  void fill_made_columns(Row& row, int64_t id) const;
  Row to_row(PropertyBag bag) const;
  void ensure_built();
  void rebuild_visible();
  void add_visible(size_t category);
  Bytes instance_key(const VisibleRow& r) const;
  std::vector<Row> materialize(size_t begin, size_t end);
  size_t find_visible(const Bytes& key) const;
  size_t category_by_key(const Bytes& key) const;

  std::unique_ptr<RowSource> source_;
  std::vector<PropTag> columns_;
  std::optional<Restriction> restriction_;
  SortOrderSet sort_;
  bool built_ = false;
  std::vector<LeafRow> leaves_;
  std::vector<Category> categories_;
  std::vector<size_t> top_categories_;
  std::vector<VisibleRow> visible_;
  size_t cursor_ = 0;
  std::map<uint32_t, Bytes> bookmarks_;
  uint32_t next_bookmark_ = 1;
  std::optional<int64_t> version_;        // the source's version the view was built at
  std::optional<int64_t> page_anchor_;    // paging: the leaf id just before the cursor
  // Paging: the row count the source gave at a version (and for this restriction); asked again
  // only when the version moves or the restriction changes.
  std::optional<std::pair<int64_t, size_t>> counted_;
  bool keep_events_ = false;
  bool view_changed_ = false;             // restriction or sort changed since the last refresh
  std::vector<TableNotification> events_;
};

}  // namespace openmapi::store
