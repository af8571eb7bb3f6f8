#include "store/table.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "store/sort_check.h"

namespace openmapi::store {
namespace {

constexpr uint64_t kHeaderKeyMarker = 0xFF00000000000000ull;

Bytes key_bytes(uint64_t v) {
  BinaryWriter w;
  w.u64(v);
  return w.take();
}

std::optional<uint64_t> key_value(const Bytes& b) {
  if (b.size() != 8) return std::nullopt;
  BinaryReader r(b);
  return r.u64();
}

int compare_keys(const std::optional<PropValue>& a, const std::optional<PropValue>& b) {
  return compare_values(a ? &*a : nullptr, b ? &*b : nullptr);
}

bool descending(SortDirection d) { return d == SortDirection::Descending || d == SortDirection::CategoryMaximum; }

// MS-OXCDATA 2.13.1 TABLE_SORT_CATEG_MAX / _MIN on the column after the last category column: the
// categories of the deepest level are ordered, within their parent category, by the largest
// (smallest) value of that column among their rows, in the direction of their own category column;
// categories with equal aggregates keep the order of their values. `rows` are sorted by every key
// already, so each category is a run whose first row holds the aggregate (a missing value counts
// as the smallest, as compare_values has it).
template <typename Keyed>
void order_by_category_aggregate(std::vector<Keyed>& rows, const SortOrderSet& s) {
  const size_t ncat = s.categories;
  if (ncat == 0 || s.orders.size() <= ncat) return;
  const SortDirection agg = s.orders[ncat].direction;
  if (agg != SortDirection::CategoryMaximum && agg != SortDirection::CategoryMinimum) return;
  const bool categories_descending = descending(s.orders[ncat - 1].direction);
  auto same = [&](const Keyed& a, const Keyed& b, size_t levels) {
    for (size_t i = 0; i < levels; ++i)
      if (compare_values(a.keys[i], b.keys[i]) != 0) return false;
    return true;
  };
  struct Run {
    size_t begin, end;
  };
  std::vector<Keyed> out;
  out.reserve(rows.size());
  for (size_t p = 0; p < rows.size();) {  // one parent category (levels 0..ncat-2) at a time
    size_t p_end = p + 1;
    while (p_end < rows.size() && same(rows[p], rows[p_end], ncat - 1)) ++p_end;
    std::vector<Run> runs;
    for (size_t r = p; r < p_end;) {
      size_t r_end = r + 1;
      while (r_end < p_end && same(rows[r], rows[r_end], ncat)) ++r_end;
      runs.push_back({r, r_end});
      r = r_end;
    }
    std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) {
      int c = compare_values(rows[a.begin].keys[ncat], rows[b.begin].keys[ncat]);
      return categories_descending ? c > 0 : c < 0;
    });
    for (const Run& r : runs)
      for (size_t i = r.begin; i < r.end; ++i) out.push_back(std::move(rows[i]));
    p = p_end;
  }
  rows = std::move(out);
}

}  // namespace

std::vector<LeafRow> order_rows(std::vector<std::pair<int64_t, const PropertySource*>> rows, const Restriction* r,
                                const SortOrderSet& s, PropTag unread_flag_tag) {
  struct Keyed {
    int64_t id;
    std::vector<const PropValue*> keys;
    bool unread;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(rows.size());
  EvalState state;
  for (const auto& [id, src] : rows) {
    if (r && !evaluate(*r, *src, state)) continue;
    Keyed k{id, {}, false};
    for (const auto& o : s.orders) k.keys.push_back(src->find(o.tag));
    if (unread_flag_tag.value) {
      const PropValue* f = src->find(unread_flag_tag);
      k.unread = f && f->get_if<int32_t>() && !(*f->get_if<int32_t>() & 1);
    }
    keyed.push_back(std::move(k));
  }
  // Ties by id, in the direction of the last sort column (as the SQL path orders them).
  const bool ties_descending = !s.orders.empty() && descending(s.orders.back().direction);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
    for (size_t i = 0; i < s.orders.size(); ++i) {
      int c = compare_values(a.keys[i], b.keys[i]);
      if (c) return descending(s.orders[i].direction) ? c > 0 : c < 0;
    }
    return ties_descending ? a.id > b.id : a.id < b.id;
  });
  order_by_category_aggregate(keyed, s);
  std::vector<LeafRow> out;
  out.reserve(keyed.size());
  for (auto& k : keyed) {
    LeafRow row{k.id, {}, k.unread};
    for (size_t i = 0; i < s.categories && i < k.keys.size(); ++i)
      row.category_keys.push_back(k.keys[i] ? std::optional<PropValue>(*k.keys[i]) : std::nullopt);
    out.push_back(std::move(row));
  }
  return out;
}

void MessageRowSource::ensure_loaded() {
  if (loaded_) return;
  rows_ = load_();
  for (size_t i = 0; i < rows_.size(); ++i) index_[rows_[i].first] = i;
  loaded_ = true;
}

std::vector<LeafRow> MessageRowSource::leaf_rows(const Restriction* r, const SortOrderSet& s) {
  ensure_loaded();
  if (s.orders.empty()) {  // unsorted: the loader's order
    std::vector<LeafRow> out;
    EvalState state;
    for (const auto& [id, m] : rows_)
      if (!r || evaluate(*r, m, state)) {
        const PropValue* f = unread_tag_.value ? m.find(unread_tag_) : nullptr;
        out.push_back({id, {}, f && f->get_if<int32_t>() && !(*f->get_if<int32_t>() & 1)});
      }
    return out;
  }
  std::vector<std::pair<int64_t, const PropertySource*>> rows;
  for (const auto& [id, m] : rows_) rows.emplace_back(id, &m);
  return order_rows(std::move(rows), r, s, unread_tag_);
}

std::vector<PropertyBag> MessageRowSource::fetch(const std::vector<int64_t>& ids, const std::vector<PropTag>&) {
  ensure_loaded();
  std::vector<PropertyBag> out;
  for (int64_t id : ids) {
    auto it = index_.find(id);
    out.push_back(it == index_.end() ? PropertyBag() : rows_[it->second].second.props);
  }
  return out;
}

namespace {
struct OwnedMessageSource : PropertySource {
  Message m;
  const PropValue* find(PropTag tag) const override { return m.find(tag); }
  std::vector<const PropertySource*> subobjects(PropTag t) const override { return m.subobjects(t); }
};
}  // namespace

std::unique_ptr<PropertySource> MessageRowSource::row_source(int64_t id) {
  ensure_loaded();
  auto out = std::make_unique<OwnedMessageSource>();
  if (auto it = index_.find(id); it != index_.end()) out->m = rows_[it->second].second;
  return out;
}

ViewTable::ViewTable(std::unique_ptr<RowSource> source, std::vector<PropTag> default_columns)
    : source_(std::move(source)), columns_(std::move(default_columns)) {}

void ViewTable::set_columns(std::vector<PropTag> columns) {
  if (columns.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a table needs at least one column");
  columns_ = std::move(columns);
}

void ViewTable::restrict(std::optional<Restriction> r) {
  restriction_ = std::move(r);
  counted_.reset();
  built_ = false;
  cursor_ = 0;
  page_anchor_.reset();
  view_changed_ = true;
}

void check_sort_order(const SortOrderSet& s) {
  if (s.categories > s.orders.size() || s.expanded > s.categories)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "sort order set has more categories than sort columns");
  for (const auto& o : s.orders)
    if (is_multi_valued(o.tag.type()))
      throw_error(ErrorCode::MAPI_E_TOO_COMPLEX, "sorting on multi-valued property " + o.tag.hex() + " is not supported");
}

void ViewTable::sort(const SortOrderSet& s) {
  check_sort_order(s);
  sort_ = s;
  built_ = false;
  cursor_ = 0;
  page_anchor_.reset();
  view_changed_ = true;
}

void ViewTable::follow() {
  std::optional<int64_t> v = source_->version();
  if (!v) return;
  if (!version_) {  // the first look: the view is as of now
    version_ = v;
    return;
  }
  if (*v == *version_) return;
  const int64_t since = *version_;
  version_ = v;
  if (!built_) {
    if (page_anchor_) {
      // Paging: order the view whole to find the row after the last one returned.
      source_->invalidate();
      ensure_built();
      size_t pos = find_visible(key_bytes(uint64_t(*page_anchor_)));
      if (pos != SIZE_MAX) cursor_ = pos + 1;
      cursor_ = std::min(cursor_, visible_.size());
    }
    if (!keep_events_) return;
  }
  // Remember the old view: its leaves in order, the cursor's row, collapsed categories by value.
  std::vector<int64_t> old_ids;
  for (const auto& vr : visible_)
    if (!vr.header) old_ids.push_back(leaves_[vr.index].id);
  const Bytes at = cursor_ < visible_.size() ? instance_key(visible_[cursor_]) : Bytes{};
  const size_t old_cursor = cursor_;
  const auto collapsed = toggled_paths();
  source_->invalidate();
  built_ = false;
  ensure_built();
  if (!collapsed.empty()) apply_toggled(collapsed);
  size_t pos = at.empty() ? SIZE_MAX : find_visible(at);
  cursor_ = pos != SIZE_MAX ? pos : std::min(old_cursor, visible_.size());
  if (!keep_events_) return;
  if (sort_.categories > 0) {
    events_.push_back({table_event::Changed, {}, {}, {}});
    return;
  }
  // Plain tables: the rows that went, came and changed, each with the row before it.
  std::set<int64_t> now_ids, before(old_ids.begin(), old_ids.end());
  for (const auto& l : leaves_) now_ids.insert(l.id);
  std::set<int64_t> modified;
  if (auto m = source_->modified_since(since)) modified.insert(m->begin(), m->end());
  for (int64_t id : old_ids)
    if (!now_ids.count(id)) events_.push_back({table_event::RowDeleted, key_bytes(uint64_t(id)), {}, {}});
  for (size_t i = 0; i < visible_.size(); ++i) {
    const int64_t id = leaves_[visible_[i].index].id;
    const bool added = !before.count(id);
    if (!added && !modified.count(id)) continue;
    TableNotification n;
    n.event = added ? table_event::RowAdded : table_event::RowModified;
    n.instance_key = key_bytes(uint64_t(id));
    if (i > 0) n.prior_instance_key = instance_key(visible_[i - 1]);
    n.row = materialize(i, i + 1)[0];
    events_.push_back(std::move(n));
  }
}

std::vector<std::optional<PropValue>> ViewTable::category_path(size_t category) const {
  std::vector<std::optional<PropValue>> path;
  for (size_t p = category; p != SIZE_MAX; p = categories_[p].parent) path.insert(path.begin(), categories_[p].key);
  return path;
}

std::vector<std::vector<std::optional<PropValue>>> ViewTable::toggled_paths() const {
  std::vector<std::vector<std::optional<PropValue>>> out;
  for (size_t ci = 0; ci < categories_.size(); ++ci)
    if (categories_[ci].expanded != (categories_[ci].depth < sort_.expanded)) out.push_back(category_path(ci));
  return out;
}

void ViewTable::apply_toggled(const std::vector<std::vector<std::optional<PropValue>>>& toggled) {
  for (size_t ci = 0; ci < categories_.size(); ++ci) {
    categories_[ci].expanded = categories_[ci].depth < sort_.expanded;
    const auto path = category_path(ci);
    for (const auto& c : toggled)
      if (c.size() == path.size() &&
          std::equal(c.begin(), c.end(), path.begin(), [](const auto& a, const auto& b) { return compare_keys(a, b) == 0; }))
        categories_[ci].expanded = !categories_[ci].expanded;
  }
  rebuild_visible();
}

namespace {
constexpr uint8_t kCollapseStateVersion = 1;
constexpr uint32_t kMaxCollapseEntries = 100000;
}  // namespace

Bytes ViewTable::get_collapse_state(const Bytes& instance_key) {
  follow();
  ensure_built();
  const Bytes at = !instance_key.empty() ? instance_key : cursor_ < visible_.size() ? instance_key_of_cursor() : Bytes{};
  // The row: a leaf by its id; a header by its category's values.
  BinaryWriter w;
  w.u8(kCollapseStateVersion);
  const auto toggled = toggled_paths();
  w.u32(uint32_t(toggled.size()));
  auto write_path = [&](const std::vector<std::optional<PropValue>>& path) {
    w.u32(uint32_t(path.size()));
    for (const auto& v : path) {
      w.u8(v ? 1 : 0);
      if (v) write_tagged_value(w, *v);
    }
  };
  for (const auto& p : toggled) write_path(p);
  auto kv = key_value(at);
  if (kv && (*kv & kHeaderKeyMarker) == kHeaderKeyMarker && (*kv & ~kHeaderKeyMarker) < categories_.size()) {
    w.u8(2);
    write_path(category_path(size_t(*kv & ~kHeaderKeyMarker)));
  } else if (kv) {
    w.u8(1);
    w.u64(*kv);
  } else {
    w.u8(0);
  }
  return w.take();
}

uint32_t ViewTable::set_collapse_state(const Bytes& state) {
  follow();
  ensure_built();
  std::vector<std::vector<std::optional<PropValue>>> toggled;
  uint8_t row_kind = 0;
  uint64_t leaf = 0;
  std::vector<std::optional<PropValue>> header;
  try {
    BinaryReader r(state);
    if (r.u8() != kCollapseStateVersion) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "not a collapse state of this table");
    auto read_path = [&] {
      uint32_t n = r.u32();
      if (n > sort_.categories) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a collapse state deeper than the table's categories");
      std::vector<std::optional<PropValue>> path;
      for (uint32_t i = 0; i < n; ++i) path.push_back(r.u8() ? std::optional<PropValue>(read_tagged_value(r)) : std::nullopt);
      return path;
    };
    uint32_t n = r.u32();
    if (n > kMaxCollapseEntries || n > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a collapse state with too many entries");
    for (uint32_t i = 0; i < n; ++i) toggled.push_back(read_path());
    row_kind = r.u8();
    if (row_kind == 1) leaf = r.u64();
    else if (row_kind == 2) header = read_path();
    else if (row_kind != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a collapse state with an unknown row");
    if (!r.at_end()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "trailing bytes in a collapse state");
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA) throw;
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, std::string("a malformed collapse state: ") + e.what());
  }
  apply_toggled(toggled);
  size_t pos = SIZE_MAX;
  if (row_kind == 1) pos = find_visible(key_bytes(leaf));
  if (row_kind == 2)
    for (size_t ci = 0; ci < categories_.size() && pos == SIZE_MAX; ++ci) {
      const auto path = category_path(ci);
      if (path.size() == header.size() &&
          std::equal(path.begin(), path.end(), header.begin(), [](const auto& a, const auto& b) { return compare_keys(a, b) == 0; }))
        pos = find_visible(instance_key({true, ci}));
    }
  if (pos != SIZE_MAX) cursor_ = pos;
  cursor_ = std::min(cursor_, visible_.size());
  return create_bookmark();
}

std::vector<TableNotification> ViewTable::refresh() {
  if (!keep_events_) {
    keep_events_ = true;
    ensure_built();  // events are differences between orderings: start from one
    if (!version_) version_ = source_->version();
    view_changed_ = false;
    return {};
  }
  follow();
  if (view_changed_) {
    events_.clear();
    events_.push_back({table_event::Changed, {}, {}, {}});
    view_changed_ = false;
    ensure_built();  // the next differences start from the new view
  }
  return std::exchange(events_, {});
}

void ViewTable::ensure_built() {
  if (built_) return;
  leaves_ = source_->leaf_rows(restriction_ ? &*restriction_ : nullptr, sort_);
  categories_.clear();
  top_categories_.clear();
  const size_t ncat = sort_.categories;
  if (ncat > 0) {
    std::vector<size_t> open(ncat, SIZE_MAX);  // the category open at each depth
    for (size_t i = 0; i < leaves_.size(); ++i) {
      const auto& keys = leaves_[i].category_keys;
      size_t first_new = ncat;
      for (size_t d = 0; d < ncat; ++d) {
        if (open[d] == SIZE_MAX || compare_keys(categories_[open[d]].key, keys[d]) != 0) {
          first_new = d;
          break;
        }
      }
      for (size_t d = first_new; d < ncat; ++d) {
        Category c;
        c.depth = d;
        c.key = keys[d];
        c.parent = d ? open[d - 1] : SIZE_MAX;
        c.first_leaf = i;
        c.expanded = d < sort_.expanded;
        categories_.push_back(std::move(c));
        size_t idx = categories_.size() - 1;
        if (d) categories_[open[d - 1]].children.push_back(idx);
        else top_categories_.push_back(idx);
        open[d] = idx;
      }
      for (size_t d = 0; d < ncat; ++d) {
        categories_[open[d]].leaf_count++;
        if (leaves_[i].unread) categories_[open[d]].unread++;
      }
    }
  }
  built_ = true;
  rebuild_visible();
}

void ViewTable::add_visible(size_t ci) {
  visible_.push_back({true, ci});
  const Category& c = categories_[ci];
  if (!c.expanded) return;
  if (c.depth + 1 < sort_.categories) {
    for (size_t child : c.children) add_visible(child);
  } else {
    for (size_t i = 0; i < c.leaf_count; ++i) visible_.push_back({false, c.first_leaf + i});
  }
}

void ViewTable::rebuild_visible() {
  visible_.clear();
  if (sort_.categories == 0) {
    visible_.reserve(leaves_.size());
    for (size_t i = 0; i < leaves_.size(); ++i) visible_.push_back({false, i});
  } else {
    for (size_t ci : top_categories_) add_visible(ci);
  }
  cursor_ = std::min(cursor_, visible_.size());
}

Bytes ViewTable::instance_key(const VisibleRow& r) const {
  return r.header ? key_bytes(kHeaderKeyMarker | r.index) : key_bytes(uint64_t(leaves_[r.index].id));
}

std::vector<Row> ViewTable::materialize(size_t begin, size_t end) {
  return rows_for(std::vector<VisibleRow>(visible_.begin() + begin, visible_.begin() + end));
}

// The rows for `refs`: leaves index leaves_, or `page_ids` when given (a page read before the
// view was ordered whole).
std::vector<Row> ViewTable::rows_for(const std::vector<VisibleRow>& refs, const std::vector<int64_t>* page_ids) {
  auto leaf_id = [&](size_t index) { return page_ids ? (*page_ids)[index] : leaves_[index].id; };
  std::vector<int64_t> ids;
  for (const auto& r : refs)
    if (!r.header) ids.push_back(leaf_id(r.index));
  std::vector<PropertyBag> bags = ids.empty() ? std::vector<PropertyBag>{} : source_->fetch(ids, columns_);
  std::vector<Row> rows;
  rows.reserve(refs.size());
  size_t next_bag = 0;
  for (const VisibleRow& vr : refs) {
    PropertyBag bag;
    if (vr.header) {
      const Category& c = categories_[vr.index];
      int32_t type = c.leaf_count == 0 ? rowtype::EmptyCategory
                     : c.expanded      ? rowtype::ExpandedCategory
                                       : rowtype::CollapsedCategory;
      bag.set(PropValue::i32(tags::PidTagRowType, type));
      bag.set(PropValue::i32(tags::PidTagDepth, int32_t(c.depth)));
      bag.set(PropValue::i32(tags::PidTagContentCount, int32_t(c.leaf_count)));
      bag.set(PropValue::i32(tags::PidTagContentUnreadCount, int32_t(c.unread)));
      for (size_t at = vr.index; at != SIZE_MAX; at = categories_[at].parent)
        if (categories_[at].key) bag.set(*categories_[at].key);
      bag.set(PropValue::binary(tags::PidTagInstanceKey, instance_key(vr)));
      bag.set(PropValue::i64(tags::PidTagInstID, int64_t(kHeaderKeyMarker | vr.index)));  // the key's value
      rows.push_back(to_row(std::move(bag)));
    } else {
      rows.push_back(leaf_row(std::move(bags[next_bag++]), leaf_id(vr.index)));
    }
  }
  return rows;
}

PropValue table_cell(PropValue* v, PropTag col) {
  if (v && (col.type() == PropType::Unspecified || v->type() == col.type() || base_type(v->type()) == base_type(col.type())))
    return std::move(*v);
  if (v && col.type() == PropType::String8 && v->type() == PropType::String) return PropValue::string(col, *v->get_if<std::string>());
  return PropValue::error(col.id(), ErrorCode::MAPI_E_NOT_FOUND);
}

void ViewTable::fill_made_columns(Row& row, int64_t id) const {
  for (size_t c = 0; c < columns_.size(); ++c) {
    const PropTag col = columns_[c];
    std::optional<PropValue> made;
    if (col.id() == tags::PidTagRowType.id()) made = PropValue::i32(tags::PidTagRowType, rowtype::Leaf);
    else if (col.id() == tags::PidTagInstanceNum.id()) made = PropValue::i32(tags::PidTagInstanceNum, 0);
    else if (col.id() == tags::PidTagInstanceKey.id()) made = PropValue::binary(tags::PidTagInstanceKey, key_bytes(uint64_t(id)));
    // PidTagInstID: the instance key's value (a ROP's CategoryId names a header row by it).
    else if (col.id() == tags::PidTagInstID.id()) made = PropValue::i64(tags::PidTagInstID, id);
    // A source's depth stands (hierarchy rows); contents rows sit below the categories.
    else if (col.id() == tags::PidTagDepth.id() && row[c].type() == PropType::ErrorCode)
      made = PropValue::i32(tags::PidTagDepth, int32_t(sort_.categories));
    if (made) row[c] = table_cell(&*made, col);
  }
}

Row ViewTable::leaf_row(PropertyBag bag, int64_t id) const {
  Row row = to_row(std::move(bag));
  fill_made_columns(row, id);
  return row;
}

Row ViewTable::to_row(PropertyBag bag) const {
  Row row;
  row.reserve(columns_.size());
  for (PropTag col : columns_) row.push_back(table_cell(bag.find_mutable(col), col));
  return row;
}

size_t ViewTable::total_rows() {
  follow();
  if (paging()) {
    if (counted_ && version_ && counted_->first == *version_) return counted_->second;
    if (auto n = source_->count(restriction_ ? &*restriction_ : nullptr)) {
      if (version_) counted_ = {*version_, *n};
      return *n;
    }
  }
  ensure_built();
  return visible_.size();
}

std::vector<Row> ViewTable::query_rows(uint32_t count, bool forward) {
  follow();
  if (forward && paging()) {
    // The common first look at a table: read just the page, without ordering every row.
    const Restriction* r = restriction_ ? &*restriction_ : nullptr;
    if (auto page = source_->page_rows(r, sort_, cursor_, count, columns_)) {
      std::vector<Row> rows;
      rows.reserve(page->size());
      for (auto& [id, row] : *page) {
        fill_made_columns(row, id);
        rows.push_back(std::move(row));
      }
      cursor_ += page->size();
      if (!page->empty()) page_anchor_ = page->back().first;
      return rows;
    }
    if (auto ids = source_->page(restriction_ ? &*restriction_ : nullptr, sort_, cursor_, count)) {
      std::vector<VisibleRow> refs;
      for (size_t i = 0; i < ids->size(); ++i) refs.push_back({false, i});
      cursor_ += ids->size();
      if (!ids->empty()) page_anchor_ = ids->back();
      return rows_for(refs, &*ids);
    }
  }
  ensure_built();
  if (forward) {
    size_t end = std::min(visible_.size(), cursor_ + count);
    auto rows = materialize(cursor_, end);
    cursor_ = end;
    return rows;
  }
  size_t begin = cursor_ >= count ? cursor_ - count : 0;
  auto rows = materialize(begin, cursor_);
  cursor_ = begin;
  return rows;
}

int32_t ViewTable::seek_row(BookmarkOrigin origin, int32_t offset) {
  const int64_t total = int64_t(total_rows());
  int64_t base = origin == BookmarkOrigin::Beginning ? 0
                 : origin == BookmarkOrigin::Current ? int64_t(cursor_)
                                                     : total;
  int64_t target = std::clamp<int64_t>(base + offset, 0, total);
  int32_t moved = int32_t(target - base);
  cursor_ = size_t(target);
  page_anchor_.reset();
  return moved;
}

uint32_t ViewTable::create_bookmark() {
  follow();
  ensure_built();
  uint32_t id = next_bookmark_++;
  // A bookmark on the end of the table is remembered as an empty key.
  bookmarks_[id] = cursor_ < visible_.size() ? instance_key(visible_[cursor_]) : Bytes{};
  return id;
}

std::vector<Row> ViewTable::rows_after(const Bytes& key, uint32_t count) {
  follow();
  ensure_built();
  const size_t at = find_visible(key);
  if (at == SIZE_MAX) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no visible row with that instance key");
  return materialize(at + 1, std::min(visible_.size(), at + 1 + size_t(count)));
}

size_t ViewTable::find_visible(const Bytes& key) const {
  for (size_t i = 0; i < visible_.size(); ++i)
    if (instance_key(visible_[i]) == key) return i;
  return SIZE_MAX;
}

bool ViewTable::seek_row_bookmark(uint32_t bookmark, int32_t offset, int32_t* rows_sought) {
  follow();
  ensure_built();
  auto it = bookmarks_.find(bookmark);
  if (it == bookmarks_.end()) throw_error(ErrorCode::MAPI_E_INVALID_BOOKMARK, "unknown bookmark " + std::to_string(bookmark));
  bool visible = true;
  size_t pos = visible_.size();
  if (!it->second.empty()) {
    pos = find_visible(it->second);
    if (pos == SIZE_MAX) {
      // The row is gone (deleted, filtered out or collapsed): continue from where it was, as
      // far as can be told — the first row whose leaf id sorts after it, else the end.
      visible = false;
      pos = std::min(cursor_, visible_.size());
    }
  }
  cursor_ = pos;
  int32_t moved = seek_row(BookmarkOrigin::Current, offset);
  if (rows_sought) *rows_sought = moved;
  return visible;
}

void ViewTable::free_bookmark(uint32_t bookmark) {
  if (!bookmarks_.erase(bookmark))
    throw_error(ErrorCode::MAPI_E_INVALID_BOOKMARK, "unknown bookmark " + std::to_string(bookmark));
}

std::optional<Row> ViewTable::find_row(const Restriction& r, BookmarkOrigin origin, bool forward) {
  follow();
  ensure_built();
  int64_t pos = origin == BookmarkOrigin::Beginning ? 0
                : origin == BookmarkOrigin::Current ? int64_t(cursor_)
                                                    : int64_t(visible_.size());
  if (!forward) --pos;
  EvalState state;
  for (; pos >= 0 && pos < int64_t(visible_.size()); pos += forward ? 1 : -1) {
    const VisibleRow& vr = visible_[size_t(pos)];
    bool match;
    if (vr.header) {
      // Header rows are matched on their own columns (category value, counts).
      PropertyBag bag;
      auto row = materialize(size_t(pos), size_t(pos) + 1)[0];
      for (auto& v : row)
        if (v.type() != PropType::ErrorCode) bag.set(std::move(v));
      match = evaluate(r, bag, state);
    } else {
      auto src = source_->row_source(leaves_[vr.index].id);
      match = evaluate(r, *src, state);
    }
    if (match) {
      cursor_ = size_t(pos);
      return materialize(cursor_, cursor_ + 1)[0];
    }
  }
  return std::nullopt;
}

uint32_t ViewTable::row_count() { return uint32_t(total_rows()); }

std::pair<uint32_t, uint32_t> ViewTable::query_position() {
  uint32_t total = uint32_t(total_rows());
  return {uint32_t(std::min<size_t>(cursor_, total)), total};
}

size_t ViewTable::category_by_key(const Bytes& key) const {
  auto v = key_value(key);
  if (!v || (*v & kHeaderKeyMarker) != kHeaderKeyMarker || (*v & ~kHeaderKeyMarker) >= categories_.size())
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no category row with instance key " + to_hex(key));
  return size_t(*v & ~kHeaderKeyMarker);
}

uint32_t ViewTable::expand_row(const Bytes& instance_key) {
  follow();
  ensure_built();
  size_t ci = category_by_key(instance_key);
  if (categories_[ci].expanded) return 0;
  Bytes at = cursor_ < visible_.size() ? ViewTable::instance_key(visible_[cursor_]) : Bytes{};
  size_t before = visible_.size();
  categories_[ci].expanded = true;
  rebuild_visible();
  if (!at.empty()) cursor_ = std::min(find_visible(at), visible_.size());
  return uint32_t(visible_.size() - before);
}

uint32_t ViewTable::collapse_row(const Bytes& instance_key) {
  follow();
  ensure_built();
  size_t ci = category_by_key(instance_key);
  if (!categories_[ci].expanded) return 0;
  Bytes at = cursor_ < visible_.size() ? ViewTable::instance_key(visible_[cursor_]) : Bytes{};
  size_t before = visible_.size();
  categories_[ci].expanded = false;
  rebuild_visible();
  if (!at.empty()) {
    size_t pos = find_visible(at);
    // The cursor's row was hidden: it moves to the collapsed header (MS-OXCTABL 3.2.5.12).
    cursor_ = pos != SIZE_MAX ? pos : find_visible(ViewTable::instance_key({true, ci}));
  }
  return uint32_t(before - visible_.size());
}

}  // namespace openmapi::store
