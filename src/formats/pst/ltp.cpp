#include "formats/pst/ltp.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/unicode.h"
#include "formats/msg/msg.h"

namespace openmapi::pst {

namespace {

constexpr int kMaxBthDepth = 8;
constexpr uint16_t kPidTagMessageCodepage = 0x3FFD;
constexpr uint16_t kPidTagInternetCodepage = 0x3FDE;
constexpr uint16_t kPidTagMessageLocaleId = 0x3FF1;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// UTF-16LE to UTF-8, unpaired surrogates as U+FFFD; trailing NULs and an odd last byte dropped.
std::string utf16_lenient(ByteView raw) {
  size_t n = raw.size() / 2;
  while (n > 0 && raw[2 * n - 2] == 0 && raw[2 * n - 1] == 0) --n;
  std::string out;
  out.reserve(n);
  auto put = [&](uint32_t c) {
    if (c < 0x80) {
      out += char(c);
    } else if (c < 0x800) {
      out += char(0xC0 | (c >> 6));
      out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += char(0xE0 | (c >> 12));
      out += char(0x80 | ((c >> 6) & 0x3F));
      out += char(0x80 | (c & 0x3F));
    } else {
      out += char(0xF0 | (c >> 18));
      out += char(0x80 | ((c >> 12) & 0x3F));
      out += char(0x80 | ((c >> 6) & 0x3F));
      out += char(0x80 | (c & 0x3F));
    }
  };
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = raw[2 * i] | (uint32_t(raw[2 * i + 1]) << 8);
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < n) {
      uint32_t d = raw[2 * i + 2] | (uint32_t(raw[2 * i + 3]) << 8);
      if (d >= 0xDC00 && d < 0xE000) {
        put(0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00));
        ++i;
        continue;
      }
    }
    if (c >= 0xD800 && c < 0xE000) c = 0xFFFD;
    put(c);
  }
  return out;
}

std::string string8(ByteView raw, uint32_t codepage) {
  size_t n = raw.size();
  while (n > 0 && raw[n - 1] == 0) --n;
  return msg::decode_codepage(raw.first(n), codepage ? codepage : 1252);
}

template <class T, class F>
std::vector<T> fixed_array(ByteView raw, size_t size, F read) {
  std::vector<T> v;
  BinaryReader r(raw);
  for (size_t i = 0; i < raw.size() / size; ++i) v.push_back(read(r));
  return v;
}

// MS-PST 2.3.3.4.2 variable-size multi-valued data: ulCount, rgulDataOffsets, data.
std::vector<ByteView> multi_items(ByteView raw) {
  BinaryReader r(raw);
  uint32_t count = r.u32();
  r.need_elements(count, 4);
  std::vector<uint32_t> offs(count);
  for (auto& o : offs) o = r.u32();
  std::vector<ByteView> out;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t start = offs[i];
    uint32_t end = i + 1 < count ? offs[i + 1] : uint32_t(raw.size());
    if (start > end || end > raw.size()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "bad multi-value offsets");
    out.push_back(raw.subspan(start, end - start));
  }
  return out;
}

}  // namespace

// Fixed sizes of the types stored in place (MS-PST 2.3.3.4, 2.3.4.4.1); 0 for the others.
size_t inline_size(PropType t) {
  switch (t) {
    case PropType::Integer16: return 2;
    case PropType::Integer32:
    case PropType::Floating32:
    case PropType::ErrorCode: return 4;
    case PropType::Boolean: return 1;
    case PropType::Floating64:
    case PropType::Currency:
    case PropType::FloatingTime:
    case PropType::Integer64:
    case PropType::Time: return 8;
    default: return 0;
  }
}

LtpNode load_node(Ndb& ndb, uint64_t bid_data, uint64_t bid_sub) {
  LtpNode n;
  n.blocks = ndb.read_data_blocks(bid_data);
  n.subnodes = ndb.read_subnodes(bid_sub);
  return n;
}

// MS-PST 2.3.1.2 HNHDR
Heap::Heap(const std::vector<Bytes>& blocks, bool wide_hids) : blocks_(blocks), wide_hids_(wide_hids) {
  if (blocks.empty()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "heap: node has no data");
  BinaryReader r(blocks[0]);
  r.u16();  // ibHnpm
  uint8_t sig = r.u8();
  client_sig_ = r.u8();
  user_root_ = r.u32();
  if (sig != 0xEC) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "heap: bad HNHDR bSig");
}

ByteView Heap::item(uint32_t hid) const {
  if (hid == 0) return {};
  if ((hid & 0x1F) != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "heap: " + hex(hid) + " is not a HID");
  uint32_t index = wide_hids_ ? (hid >> 5) & 0x3FFF : (hid >> 5) & 0x7FF;
  uint32_t block = wide_hids_ ? hid >> 19 : hid >> 16;
  if (block >= blocks_.size() || index == 0)
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "heap: HID " + hex(hid) + " out of range");
  const Bytes& b = blocks_[block];
  BinaryReader hr(b);
  uint16_t ib_hnpm = hr.u16();
  if (ib_hnpm >= b.size()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "heap: page map outside its block");
  // MS-PST 2.3.1.5 HNPAGEMAP
  BinaryReader r(ByteView(b).subspan(ib_hnpm));
  uint16_t count = r.u16();
  r.u16();  // cFree
  if (index > count) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "heap: HID " + hex(hid) + " past cAlloc");
  r.skip(size_t(index - 1) * 2);
  uint16_t start = r.u16(), end = r.u16();
  if (start > end || end > b.size()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "heap: bad allocation bounds");
  return ByteView(b).subspan(start, end - start);
}

namespace {
void bth_level(const Heap& heap, uint32_t hid, int level, uint8_t ks, uint8_t ds, int depth,
               std::vector<BthRecord>& out) {
  if (depth > kMaxBthDepth) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "BTH too deep");
  ByteView node = heap.item(hid);
  if (level == 0) {
    size_t rec = size_t(ks) + ds;
    for (size_t off = 0; off + rec <= node.size(); off += rec)
      out.push_back({node.subspan(off, ks), node.subspan(off + ks, ds)});
    return;
  }
  size_t rec = size_t(ks) + 4;
  for (size_t off = 0; off + rec <= node.size(); off += rec) {
    BinaryReader r(node.subspan(off + ks, 4));
    bth_level(heap, r.u32(), level - 1, ks, ds, depth + 1, out);
  }
}
}  // namespace

// MS-PST 2.3.2.1 BTHHEADER
std::vector<BthRecord> read_bth(const Heap& heap, uint32_t hid, uint8_t& key_size, uint8_t& data_size) {
  BinaryReader r(heap.item(hid));
  uint8_t type = r.u8();
  key_size = r.u8();
  data_size = r.u8();
  uint8_t levels = r.u8();
  uint32_t root = r.u32();
  if (type != 0xB5) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "BTH: bad bType");
  if (key_size == 0 || key_size > 16 || data_size == 0 || data_size > 32)
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "BTH: bad key or entry size");
  std::vector<BthRecord> out;
  if (root == 0) return out;
  bth_level(heap, root, levels, key_size, data_size, 0, out);
  return out;
}

std::optional<PropValue> decode_value(PropTag tag, ByteView raw, uint32_t codepage) {
  try {
    BinaryReader r(raw);
    PropType t = tag.type();
    // Fixed-size scalars (GUIDs too) in their MS-OXCDATA 2.11.1 form.
    if (!is_multi_valued(t) && fixed_size(t) != 0) return read_value(r, tag);
    switch (t) {
      case PropType::String: return PropValue(tag, utf16_lenient(raw));
      case PropType::String8: return PropValue(tag.with_type(PropType::String), string8(raw, codepage));
      case PropType::Binary:
      case PropType::ServerId: return PropValue(tag, Bytes(raw.begin(), raw.end()));
      case PropType::MultipleInteger16:
        return PropValue(tag, fixed_array<int16_t>(raw, 2, [](BinaryReader& x) { return x.i16(); }));
      case PropType::MultipleInteger32:
        return PropValue(tag, fixed_array<int32_t>(raw, 4, [](BinaryReader& x) { return x.i32(); }));
      case PropType::MultipleFloating32:
        return PropValue(tag, fixed_array<float>(raw, 4, [](BinaryReader& x) { return x.f32(); }));
      case PropType::MultipleFloating64:
      case PropType::MultipleFloatingTime:
        return PropValue(tag, fixed_array<double>(raw, 8, [](BinaryReader& x) { return x.f64(); }));
      case PropType::MultipleCurrency:
      case PropType::MultipleInteger64:
      case PropType::MultipleTime:
        return PropValue(tag, fixed_array<int64_t>(raw, 8, [](BinaryReader& x) { return x.i64(); }));
      case PropType::MultipleGuid:
        return PropValue(tag, fixed_array<Guid>(raw, 16, [](BinaryReader& x) {
                           Guid g;
                           auto b = x.bytes(16);
                           std::copy(b.begin(), b.end(), g.bytes.begin());
                           return g;
                         }));
      case PropType::MultipleString: {
        std::vector<std::string> v;
        for (auto item : multi_items(raw)) v.push_back(utf16_lenient(item));
        return PropValue(tag, std::move(v));
      }
      case PropType::MultipleString8: {
        std::vector<std::string> v;
        for (auto item : multi_items(raw)) v.push_back(string8(item, codepage));
        return PropValue(tag.with_type(PropType::MultipleString), std::move(v));
      }
      case PropType::MultipleBinary: {
        std::vector<Bytes> v;
        for (auto item : multi_items(raw)) v.emplace_back(item.begin(), item.end());
        return PropValue(tag, std::move(v));
      }
      default: return std::nullopt;
    }
  } catch (const MapiError&) {
    return std::nullopt;
  }
}

Bytes Ltp::resolve_hnid(const Heap& heap, const LtpNode& node, uint32_t hnid, bool& ok) {
  ok = true;
  if ((hnid & 0x1F) == 0) {
    try {
      ByteView v = heap.item(hnid);
      return Bytes(v.begin(), v.end());
    } catch (const MapiError& e) {
      ok = false;
      ndb_.problem(std::string("value: ") + e.what());
      return {};
    }
  }
  auto it = node.subnodes.find(hnid);
  if (it == node.subnodes.end()) {
    ok = false;
    ndb_.problem("value: subnode " + hex(hnid) + " missing");
    return {};
  }
  return ndb_.read_data(it->second.bid_data);
}

namespace {
struct RawValue {
  PropTag tag;
  Bytes raw;
};

// PidTagMessageCodepage, else PidTagInternetCodepage, else the ANSI code page of
// PidTagMessageLocaleId, else `fallback` (as the .msg reader decides: msg::read_msg).
uint32_t codepage_of(const std::vector<RawValue>& raws, uint32_t fallback) {
  auto value = [&](uint16_t id) -> uint32_t {
    for (const auto& v : raws)
      if (v.tag.id() == id && v.tag.type() == PropType::Integer32 && v.raw.size() >= 4) return BinaryReader(v.raw).u32();
    return 0;
  };
  for (uint16_t id : {kPidTagMessageCodepage, kPidTagInternetCodepage})
    if (uint32_t cp = value(id); cp && cp < 0x80000000u) return cp;
  if (uint32_t cp = ansi_codepage_of_lcid(value(kPidTagMessageLocaleId))) return cp;
  return fallback;
}

PropertyBag decode_all(Ndb& ndb, const std::vector<RawValue>& raws, uint32_t codepage) {
  uint32_t cp = codepage_of(raws, codepage);
  PropertyBag bag;
  for (const auto& v : raws) {
    auto pv = decode_value(v.tag, v.raw, cp);
    if (pv) bag.set(std::move(*pv));
    else ndb.problem("value " + hex(v.tag.value) + ": unknown type or bad size, skipped");
  }
  return bag;
}
}  // namespace

PropertyBag Ltp::read_pc(const LtpNode& node, uint32_t codepage, std::vector<ObjectRef>* objects) {
  Heap heap(node.blocks, ndb_.four_k());
  if (heap.client_sig() != 0xBC) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PC: heap is not a property context");
  uint8_t ks = 0, ds = 0;
  auto records = read_bth(heap, heap.user_root(), ks, ds);
  if (ks != 2 || ds != 6) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PC: BTH sizes are not 2/6");
  std::vector<RawValue> raws;
  for (const auto& rec : records) {
    BinaryReader k(rec.key), d(rec.data);
    uint16_t id = k.u16();
    uint16_t type = d.u16();
    uint32_t hnid = d.u32();
    PropTag tag(id, PropType(type));
    if (tag.type() == PropType::Object) {
      bool ok = false;
      Bytes ref = hnid ? resolve_hnid(heap, node, hnid, ok) : Bytes{};
      if (objects && ok && ref.size() >= 8) {
        BinaryReader o(ref);
        ObjectRef obj;
        obj.prop_id = id;
        obj.nid = o.u32();
        obj.size = o.u32();
        objects->push_back(obj);
      }
      continue;
    }
    size_t fixed = inline_size(tag.type());
    if (fixed > 0 && fixed <= 4) {
      raws.push_back({tag, Bytes(rec.data.begin() + 2, rec.data.end())});
      continue;
    }
    bool ok = true;
    Bytes raw = hnid ? resolve_hnid(heap, node, hnid, ok) : Bytes{};
    if (ok) raws.push_back({tag, std::move(raw)});
  }
  return decode_all(ndb_, raws, codepage);
}

// MS-PST 2.3.4.1 TCINFO, 2.3.4.2 TCOLDESC, 2.3.4.4 row matrix
Ltp::Table Ltp::read_tc(const LtpNode& node, uint32_t codepage, bool cells) {
  Heap heap(node.blocks, ndb_.four_k());
  if (heap.client_sig() != 0x7C) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "TC: heap is not a table context");
  BinaryReader r(heap.item(heap.user_root()));
  if (r.u8() != 0x7C) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "TC: bad TCINFO bType");
  uint8_t cols = r.u8();
  uint16_t rgib[4];
  for (auto& v : rgib) v = r.u16();
  uint32_t hid_row_index = r.u32();
  uint32_t hnid_rows = r.u32();
  r.u32();  // hidIndex
  struct Col {
    PropTag tag;
    uint16_t ib;
    uint8_t cb;
    uint8_t bit;
  };
  std::vector<Col> coldesc;
  Table table;
  for (uint8_t i = 0; i < cols; ++i) {
    Col c;
    c.tag = PropTag(r.u32());
    c.ib = r.u16();
    c.cb = r.u8();
    c.bit = r.u8();
    coldesc.push_back(c);
    table.columns.push_back(c.tag);
  }
  const size_t row_size = rgib[3];
  const size_t ceb_size = (size_t(cols) + 7) / 8;
  if (row_size == 0 || rgib[2] > row_size || rgib[2] + ceb_size > row_size)
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "TC: bad row layout");
  for (const auto& c : coldesc)
    if (size_t(c.ib) + c.cb > row_size || c.bit >= cols)
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "TC: column outside the row");

  // The row index gives the number of rows and their ids.
  uint8_t ks = 0, ds = 0;
  auto index = read_bth(heap, hid_row_index, ks, ds);
  if (ks != 4 || (ds != 2 && ds != 4)) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "TC: bad row index sizes");
  std::vector<std::pair<uint32_t, uint32_t>> order;  // row index, row id
  for (const auto& rec : index) {
    BinaryReader k(rec.key), d(rec.data);
    uint32_t id = k.u32();
    uint32_t ix = ds == 4 ? d.u32() : d.u16();
    order.emplace_back(ix, id);
  }
  std::sort(order.begin(), order.end());
  if (!cells) {
    for (const auto& o : order) table.row_ids.push_back(o.second);
    return table;
  }

  // The row matrix: one heap item, or a subnode whose blocks each hold whole rows.
  std::vector<Bytes> matrix;
  if (hnid_rows != 0) {
    if ((hnid_rows & 0x1F) == 0) {
      ByteView v = heap.item(hnid_rows);
      matrix.emplace_back(v.begin(), v.end());
    } else {
      auto it = node.subnodes.find(hnid_rows);
      if (it == node.subnodes.end()) {
        ndb_.problem("TC: row matrix subnode " + hex(hnid_rows) + " missing");
      } else {
        matrix = ndb_.read_data_blocks(it->second.bid_data);
      }
    }
  }
  // MS-PST 2.3.4.4: every block of the row matrix but the last is full of whole rows (8176 bytes of
  // payload in both 512-byte layouts; the 4K layout's block size is read from the first block).
  const size_t per_block = std::max<size_t>(1, (matrix.size() > 1 ? matrix[0].size() : 8176) / row_size);
  for (const auto& [ix, id] : order) {
    size_t block = matrix.size() == 1 && (hnid_rows & 0x1F) == 0 ? 0 : ix / per_block;
    size_t off = matrix.size() == 1 && (hnid_rows & 0x1F) == 0 ? size_t(ix) * row_size : (ix % per_block) * row_size;
    if (block >= matrix.size() || off + row_size > matrix[block].size()) {
      ndb_.problem("TC: row " + std::to_string(ix) + " outside the row matrix");
      continue;
    }
    ByteView row = ByteView(matrix[block]).subspan(off, row_size);
    ByteView ceb = row.subspan(rgib[2], ceb_size);
    std::vector<RawValue> raws;
    for (const auto& c : coldesc) {
      if (!(ceb[c.bit / 8] & (0x80 >> (c.bit % 8)))) continue;
      ByteView cell = row.subspan(c.ib, c.cb);
      size_t fixed = inline_size(c.tag.type());
      if (fixed > 0) {
        if (c.cb < fixed) continue;
        raws.push_back({c.tag, Bytes(cell.begin(), cell.begin() + ptrdiff_t(fixed))});
        continue;
      }
      if (c.tag.type() == PropType::Object || c.cb < 4) continue;
      BinaryReader hr(cell);
      uint32_t hnid = hr.u32();
      bool ok = true;
      Bytes raw = hnid ? resolve_hnid(heap, node, hnid, ok) : Bytes{};
      if (ok) raws.push_back({c.tag, std::move(raw)});
    }
    table.row_ids.push_back(id);
    table.rows.push_back(decode_all(ndb_, raws, codepage));
  }
  return table;
}

}  // namespace openmapi::pst
