// Table ROPs (MS-OXCTABL, MS-OXCROPS 2.2.5) over store::Table. Every table operation here is
// synchronous, so TableStatus is always TBLSTAT_COMPLETE and RopAbort has nothing to stop.
#include "core/restriction.h"
#include "core/sortorder.h"
#include "server/rop_context.h"

namespace openmapi::server {

namespace {

constexpr uint8_t kTableStatusComplete = 0x00;
constexpr uint32_t ecUnableToAbort = 0x80040114;
constexpr uint32_t ecInvalidBookmark = 0x80040405;

// Table bookmarks travel as their 4-byte number.
Bytes bookmark_bytes(uint32_t b) {
  BinaryWriter w;
  w.u32(b);
  return w.take();
}
uint32_t bookmark_of(ByteView data) {
  if (data.size() != 4) throw RopFailure{ecInvalidBookmark};
  BinaryReader r(data);
  return r.u32();
}
// A CategoryId / RowId is a row's PidTagInstID; its instance key holds the same number.
Bytes instance_key_of(uint64_t inst_id) {
  BinaryWriter w;
  w.u64(inst_id);
  return w.take();
}

std::shared_ptr<store::Table> table(RopContext& c) { return c.input(Kind::Table)->table; }

// RowCount (u16) and the rows that fit MaxRopOut (at least one); returns how many were written.
size_t write_rows(RopContext& c, const std::vector<PropTag>& columns, const std::vector<store::Row>& rows) {
  const size_t count_at = c.out.size();
  c.out.u16(0);
  size_t written = 0;
  for (const auto& r : rows) {
    const size_t at = c.out.size();
    write_property_row(c.out, columns, r);
    if (c.out.size() + 64 > c.max_out && written > 0) {
      c.out.truncate(at);
      break;
    }
    ++written;
  }
  c.out.patch_u16(count_at, uint16_t(written));
  return written;
}

void set_columns(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // SetColumnsFlags (synchronous or not: always done at once)
  auto columns = c.tags(c.in.u16());
  auto t = table(c);
  if (columns.empty()) throw RopFailure{ec::InvalidParameter};
  t->set_columns(columns);
  c.ok();
  c.out.u8(kTableStatusComplete);
}

void sort_table(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // SortTableFlags: done at once
  const uint16_t count = c.in.u16();
  SortOrderSet set;
  set.categories = c.in.u16();
  set.expanded = c.in.u16();
  if (size_t(count) * 5 > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a sort order longer than the ROP buffer");
  for (uint16_t i = 0; i < count; ++i) {
    SortOrder so;
    so.tag = PropTag(c.in.u32());
    const uint8_t order = c.in.u8();
    if (order != 0x00 && order != 0x01 && order != 0x04 && order != 0x08) throw RopFailure{ec::InvalidParameter};
    so.direction = SortDirection(order);
    set.orders.push_back(so);
  }
  auto t = table(c);
  if (set.categories > set.orders.size() || set.expanded > set.categories) throw RopFailure{ec::InvalidParameter};
  t->sort(set);
  c.ok();
  c.out.u8(kTableStatusComplete);
}

void restrict(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  c.in.u8();  // RestrictFlags: done at once
  const ByteView data = c.sized16();
  std::optional<Restriction> r;
  if (!data.empty()) r = parse_restriction(data);  // none: the restriction goes
  auto t = table(c);
  t->restrict(std::move(r));
  c.ok();
  c.out.u8(kTableStatusComplete);
}

// Origin of a QueryRows or FindRow answer (MS-OXCTABL 2.2.2.5.2): where the cursor now is.
uint8_t cursor_origin(store::Table& t) {
  const auto [at, total] = t.query_position();
  return at == 0 ? 0x00 : at >= total ? 0x02 : 0x01;  // BOOKMARK_BEGINNING / END / CURRENT
}

void query_rows(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint8_t qflags = c.in.u8();
  const bool forward = c.in.u8() != 0;
  const uint16_t count = c.in.u16();
  auto t = table(c);
  const bool no_advance = (qflags & 0x02) != 0;
  const uint32_t before = no_advance ? t->query_position().first : 0;
  auto rows = t->query_rows(count, forward);
  c.ok();
  const size_t origin_at = c.out.size();
  c.out.u8(0);
  // Rows that would not fit MaxRopOut stay unread: the cursor goes back to the first of them.
  const size_t written = write_rows(c, t->columns(), rows);
  if (no_advance) t->seek_row(store::BookmarkOrigin::Beginning, int32_t(before));
  else if (written < rows.size())
    t->seek_row(store::BookmarkOrigin::Current, forward ? -int32_t(rows.size() - written) : int32_t(rows.size() - written));
  // Origin (MS-OXCTABL 2.2.2.5.2): where the cursor is now. Fewer rows than asked for, read
  // forward and all sent: the end, without asking the table again.
  const uint8_t origin = forward && !no_advance && rows.size() < count && written == rows.size() ? 0x02 : cursor_origin(*t);
  c.out.patch_u8(origin_at, origin);
}

void query_columns_all(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto t = table(c);
  // The columns set now and the ones every table makes (row type, instance key and number, depth).
  std::vector<PropTag> all = t->columns();
  for (PropTag made : {tags::PidTagInstID, tags::PidTagInstanceNum, tags::PidTagInstanceKey, tags::PidTagRowType, tags::PidTagDepth})
    if (std::none_of(all.begin(), all.end(), [&](PropTag p) { return p.id() == made.id(); })) all.push_back(made);
  c.ok();
  c.out.u16(uint16_t(all.size()));
  for (PropTag p : all) c.out.u32(p.value);
}

void abort_rop(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  table(c);
  throw RopFailure{ecUnableToAbort};  // nothing asynchronous runs
}

void get_status(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  table(c);
  c.ok();
  c.out.u8(kTableStatusComplete);
}

void query_position(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto t = table(c);
  const auto [at, total] = t->query_position();
  c.ok();
  c.out.u32(at);     // Numerator
  c.out.u32(total);  // Denominator
}

void seek_row(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint8_t origin = c.in.u8();
  const int32_t rows = c.in.i32();
  const bool want_moved = c.in.u8() != 0;
  if (origin > 2) throw RopFailure{ec::InvalidParameter};
  auto t = table(c);
  const int32_t moved = t->seek_row(store::BookmarkOrigin(origin), rows);
  c.ok();
  c.out.u8(moved != rows ? 1 : 0);     // HasSoughtLess
  c.out.i32(want_moved ? moved : 0);   // RowsSought
}

void seek_row_bookmark(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint32_t bookmark = bookmark_of(c.sized16());
  const int32_t rows = c.in.i32();
  const bool want_moved = c.in.u8() != 0;
  auto t = table(c);
  int32_t moved = 0;
  const bool visible = t->seek_row_bookmark(bookmark, rows, &moved);
  c.ok();
  c.out.u8(visible ? 0 : 1);            // RowNoLongerVisible
  c.out.u8(moved != rows ? 1 : 0);      // HasSoughtLess
  c.out.i32(want_moved ? moved : 0);    // RowsSought
}

void seek_row_fractional(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint32_t numerator = c.in.u32();
  const uint32_t denominator = c.in.u32();
  auto t = table(c);
  t->seek_row_approx(numerator, denominator);
  c.ok();
}

void create_bookmark(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto t = table(c);
  const Bytes b = bookmark_bytes(t->create_bookmark());
  c.ok();
  c.out.u16(uint16_t(b.size()));
  c.out.bytes(b);
}

void free_bookmark(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint32_t bookmark = bookmark_of(c.sized16());
  auto t = table(c);
  t->free_bookmark(bookmark);
  c.ok();
}

void find_row(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint8_t flags = c.in.u8();  // FindRowFlags: 0x01 Backward
  const ByteView data = c.sized16();
  const uint8_t origin = c.in.u8();
  const ByteView bookmark = c.sized16();
  const Restriction r = data.empty() ? Restriction() : parse_restriction(data);
  auto t = table(c);
  bool visible = true;
  store::BookmarkOrigin from;
  switch (origin) {
    case 0x00: from = store::BookmarkOrigin::Beginning; break;
    case 0x01: from = store::BookmarkOrigin::Current; break;
    case 0x02: from = store::BookmarkOrigin::End; break;
    case 0x03:  // Custom: start at the bookmark in BookmarkSize/Bookmark
      visible = t->seek_row_bookmark(bookmark_of(bookmark), 0);
      from = store::BookmarkOrigin::Current;
      break;
    default: throw RopFailure{ec::InvalidParameter};
  }
  auto row = t->find_row(r, from, !(flags & 0x01));
  if (!row) throw RopFailure{ec::NotFound};
  c.ok();
  c.out.u8(visible ? 0 : 1);  // RowNoLongerVisible
  c.out.u8(1);                // HasRowData
  write_property_row(c.out, t->columns(), *row);
}

void expand_row(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint16_t max_rows = c.in.u16();
  const uint64_t category = c.in.u64();
  auto t = table(c);
  const Bytes key = instance_key_of(category);
  const uint32_t expanded = t->expand_row(key);
  // The rows that became visible, up to MaxRowCount (and what fits the response).
  const auto rows = max_rows ? t->rows_after(key, std::min<uint32_t>(max_rows, expanded)) : std::vector<store::Row>{};
  c.ok();
  c.out.u32(expanded);
  write_rows(c, t->columns(), rows);
}

void collapse_row(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint64_t category = c.in.u64();
  auto t = table(c);
  const uint32_t collapsed = t->collapse_row(instance_key_of(category));
  c.ok();
  c.out.u32(collapsed);
}

void get_collapse_state(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint64_t row_id = c.in.u64();
  c.in.u32();  // RowInstanceNumber: one instance per row here
  auto t = table(c);
  const Bytes state = t->get_collapse_state(instance_key_of(row_id));
  if (state.size() > 0xFFFF) throw RopFailure{uint32_t(ErrorCode::MAPI_E_TOO_BIG)};
  c.ok();
  c.out.u16(uint16_t(state.size()));
  c.out.bytes(state);
}

void set_collapse_state(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const ByteView state = c.sized16();
  auto t = table(c);
  const Bytes b = bookmark_bytes(t->set_collapse_state(Bytes(state.begin(), state.end())));
  c.ok();
  c.out.u16(uint16_t(b.size()));
  c.out.bytes(b);
}

void reset_table(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto o = c.input(Kind::Table);
  // MS-OXCTABL 3.2.5.15: restriction and sort back to none, the cursor to the beginning.
  // (The column set stays as it is; bookmarks stay valid.)
  o->table->restrict(std::nullopt);
  o->table->sort(SortOrderSet{});
  o->table->seek_row(store::BookmarkOrigin::Beginning, 0);
  c.ok();
}

const RopEntry kTableRops[] = {
    {{0x12, "RopSetColumns", "2.2.5.1"}, set_columns},
    {{0x13, "RopSortTable", "2.2.5.2"}, sort_table},
    {{0x14, "RopRestrict", "2.2.5.3"}, restrict},
    {{0x15, "RopQueryRows", "2.2.5.4"}, query_rows},
    {{0x16, "RopGetStatus", "2.2.5.5"}, get_status},
    {{0x17, "RopQueryPosition", "2.2.5.7"}, query_position},
    {{0x18, "RopSeekRow", "2.2.5.8"}, seek_row},
    {{0x19, "RopSeekRowBookmark", "2.2.5.9"}, seek_row_bookmark},
    {{0x1A, "RopSeekRowFractional", "2.2.5.10"}, seek_row_fractional},
    {{0x1B, "RopCreateBookmark", "2.2.5.11"}, create_bookmark},
    {{0x37, "RopQueryColumnsAll", "2.2.5.12"}, query_columns_all},
    {{0x38, "RopAbort", "2.2.5.6"}, abort_rop},
    {{0x4F, "RopFindRow", "2.2.5.13"}, find_row},
    {{0x59, "RopExpandRow", "2.2.5.16"}, expand_row},
    {{0x5A, "RopCollapseRow", "2.2.5.17"}, collapse_row},
    {{0x6B, "RopGetCollapseState", "2.2.5.18"}, get_collapse_state},
    {{0x6C, "RopSetCollapseState", "2.2.5.19"}, set_collapse_state},
    {{0x81, "RopResetTable", "2.2.5.15"}, reset_table},
    {{0x89, "RopFreeBookmark", "2.2.5.14"}, free_bookmark},
};

}  // namespace

std::span<const RopEntry> table_rops() { return kTableRops; }

}  // namespace openmapi::server
