#include "formats/pst/pst_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/unicode.h"
#include "formats/msg/msg.h"
#include "formats/pst/pst.h"

namespace openmapi::pst {

namespace {

// --- sizes (MS-PST 2.2.2.7, 2.2.2.8, 2.3.1) -------------------------------------------------
// The file's geometry: MS-PST's Unicode layout, or the 4K-page layout of Outlook 2013+ OST files
// (see ndb.h for what is assumed of it).
struct Layout {
  bool four_k = false;
  uint64_t page = 512;            // B-tree and map pages
  uint64_t first_amap = 0x4400;   // MS-PST 2.2.2.7.2
  uint64_t slot = 64;             // bytes per AMap bit
  uint64_t amap_bytes = 496;      // bitmap bytes in an AMap page
  uint64_t align = 64;            // block alignment
  size_t block_trailer = 16;
  size_t page_data = 496;         // bytes before the page trailer (and under its CRC)
  size_t bt_entries = 488;        // bytes of entries in a B-tree page
  uint64_t range() const { return amap_bytes * 8 * slot; }
  static Layout make(bool four_k) {
    Layout l;
    if (four_k) {
      l = {true, 4096, 0x22000, 512, 4072, 512, 24, 4072, 4056};
    }
    return l;
  }
};
// MS-PST 2.2.2.7.4/2.2.2.7.5 (512-byte layout): every 8th range holds a PMap after its AMap; from
// range 128 on, every 496th range an FMap (the header's rgbFM covers the first 128); from range
// 8192 on, every 31744th range an FPMap, one bit per PMap (the header's rgbFP covers the first
// 1024 PMaps, 8192 ranges).
constexpr uint64_t kFirstFMapRange = 128, kAMapsPerFMap = 496;
constexpr uint64_t kFirstFPMapRange = 8192, kAMapsPerFPMap = 496 * 8 * 8;
constexpr size_t kMaxBlockData = 8176;                 // 8192 - BLOCKTRAILER
constexpr size_t kMaxHeapItem = 3580;                  // MS-PST 2.3.1.1
constexpr size_t kXEntries = (kMaxBlockData - 8) / 8;  // BIDs per XBLOCK
constexpr size_t kSlEntries = (kMaxBlockData - 8) / 24;
constexpr size_t kSiEntries = (kMaxBlockData - 8) / 16;
constexpr uint8_t kPtypeBBT = 0x80, kPtypeNBT = 0x81, kPtypeFMap = 0x82, kPtypeAMap = 0x84, kPtypePMap = 0x83,
                  kPtypeFPMap = 0x85;

constexpr uint32_t NID_SEARCH_MANAGEMENT_QUEUE = 0x1E1;
constexpr uint32_t NID_SEARCH_ACTIVITY_LIST = 0x201;
constexpr uint32_t NID_SEARCH_DOMAIN_OBJECT = 0x261;
constexpr uint32_t NID_HIERARCHY_TABLE_TEMPLATE = 0x60D;
constexpr uint32_t NID_CONTENTS_TABLE_TEMPLATE = 0x60E;
constexpr uint32_t NID_ASSOC_CONTENTS_TABLE_TEMPLATE = 0x60F;
constexpr uint32_t NID_SEARCH_CONTENTS_TABLE_TEMPLATE = 0x610;
constexpr uint32_t kIpmSubtree = 0x8022, kSearchRoot = 0x8042, kDeletedItems = 0x8062;

constexpr uint32_t make_nid(uint32_t index, uint8_t type) { return (index << 5) | type; }

PropTag T(uint16_t id, PropType t) { return PropTag(id, t); }
const PropTag kRowId = T(0x67F2, PropType::Integer32);
const PropTag kRowVer = T(0x67F3, PropType::Integer32);

Bytes utf16(std::string_view s) {
  std::u16string w = utf8_to_utf16(s);
  Bytes out(w.size() * 2);
  for (size_t i = 0; i < w.size(); ++i) {
    out[2 * i] = uint8_t(w[i]);
    out[2 * i + 1] = uint8_t(w[i] >> 8);
  }
  return out;
}

// The tag a value is stored under: 8-bit strings become Unicode ones.
PropTag stored_tag(PropTag t) {
  if (t.type() == PropType::String8) return t.with_type(PropType::String);
  if (t.type() == PropType::MultipleString8) return t.with_type(PropType::MultipleString);
  return t;
}

// MS-PST 2.3.3.4: a value's stored bytes; nullopt for a type PST does not store.
std::optional<Bytes> raw_value(const PropValue& v) {
  BinaryWriter w;
  const auto& s = v.storage();
  switch (v.type()) {
    case PropType::Integer16: w.i16(std::get<int16_t>(s)); break;
    case PropType::Integer32:
    case PropType::ErrorCode: w.i32(std::get<int32_t>(s)); break;
    case PropType::Floating32: w.f32(std::get<float>(s)); break;
    case PropType::Floating64:
    case PropType::FloatingTime: w.f64(std::get<double>(s)); break;
    case PropType::Currency:
    case PropType::Integer64:
    case PropType::Time: w.i64(std::get<int64_t>(s)); break;
    case PropType::Boolean: w.u8(std::get<bool>(s) ? 1 : 0); break;
    case PropType::String:
    case PropType::String8: return utf16(std::get<std::string>(s));
    case PropType::Guid: w.bytes(std::get<Guid>(s).bytes); break;
    case PropType::Binary:
    case PropType::ServerId: return std::get<Bytes>(s);
    case PropType::MultipleInteger16:
      for (auto x : std::get<std::vector<int16_t>>(s)) w.i16(x);
      break;
    case PropType::MultipleInteger32:
      for (auto x : std::get<std::vector<int32_t>>(s)) w.i32(x);
      break;
    case PropType::MultipleFloating32:
      for (auto x : std::get<std::vector<float>>(s)) w.f32(x);
      break;
    case PropType::MultipleFloating64:
    case PropType::MultipleFloatingTime:
      for (auto x : std::get<std::vector<double>>(s)) w.f64(x);
      break;
    case PropType::MultipleCurrency:
    case PropType::MultipleInteger64:
    case PropType::MultipleTime:
      for (auto x : std::get<std::vector<int64_t>>(s)) w.i64(x);
      break;
    case PropType::MultipleGuid:
      for (const auto& g : std::get<std::vector<Guid>>(s)) w.bytes(g.bytes);
      break;
    case PropType::MultipleString:
    case PropType::MultipleString8:
    case PropType::MultipleBinary: {
      // MS-PST 2.3.3.4.2: ulCount, rgulDataOffsets, the items.
      std::vector<Bytes> items;
      if (v.type() == PropType::MultipleBinary) items = std::get<std::vector<Bytes>>(s);
      else
        for (const auto& str : std::get<std::vector<std::string>>(s)) items.push_back(utf16(str));
      w.u32(uint32_t(items.size()));
      uint32_t off = uint32_t(4 + 4 * items.size());
      for (const auto& it : items) {
        w.u32(off);
        off += uint32_t(it.size());
      }
      for (const auto& it : items) w.bytes(it);
      break;
    }
    default: return std::nullopt;
  }
  return w.take();
}

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = uint8_t(v);
  b[at + 1] = uint8_t(v >> 8);
}
void put32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * i));
}
void put64(Bytes& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = uint8_t(v >> (8 * i));
}

// --- heap-on-node (MS-PST 2.3.1) -------------------------------------------------------------
class HeapBuilder {
 public:
  // `wide_hids`: the 4K layout's HIDs (block number from bit 19, not 16).
  HeapBuilder(uint8_t client_sig, bool wide_hids) : sig_(client_sig), block_shift_(wide_hids ? 19 : 16) {}

  uint32_t alloc(ByteView v) {
    if (v.size() > kMaxHeapItem) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "heap item too large");
    if (blocks_.empty() || !fits(blocks_.size() - 1, v.size())) blocks_.emplace_back();
    if (blocks_.size() > (size_t(1) << (32 - block_shift_)))
      throw_error(ErrorCode::MAPI_E_TOO_BIG, "PST writer: heap larger than its HIDs can name");
    Block& b = blocks_.back();
    b.items.emplace_back(v.begin(), v.end());
    b.used += v.size();
    return uint32_t((blocks_.size() - 1) << block_shift_) | uint32_t(b.items.size() << 5);
  }
  void set_root(uint32_t hid) { root_ = hid; }

  // The node's data blocks.
  std::vector<Bytes> blocks() const {
    std::vector<Bytes> out;
    std::vector<uint8_t> fill;
    for (size_t i = 0; i < blocks_.size(); ++i) {
      const Block& b = blocks_[i];
      size_t hdr = header_size(i);
      size_t ib = (hdr + b.used + 1) & ~size_t(1);
      Bytes blk(ib + 4 + 2 * (b.items.size() + 1), 0);
      put16(blk, 0, uint16_t(ib));
      size_t at = hdr;
      put16(blk, ib, uint16_t(b.items.size()));
      put16(blk, ib + 2, 0);
      for (size_t k = 0; k < b.items.size(); ++k) {
        put16(blk, ib + 4 + 2 * k, uint16_t(at));
        std::copy(b.items[k].begin(), b.items[k].end(), blk.begin() + ptrdiff_t(at));
        at += b.items[k].size();
      }
      put16(blk, ib + 4 + 2 * b.items.size(), uint16_t(at));
      fill.push_back(fill_level(kMaxBlockData - blk.size()));
      out.push_back(std::move(blk));
    }
    // HNHDR (block 0) and HNBITMAPHDR (blocks 8, 136, ...) carry fill levels, 4 bits a block.
    auto put_fill = [&](Bytes& blk, size_t at, size_t first, size_t count) {
      for (size_t k = 0; k < count && first + k < fill.size(); ++k)
        blk[at + k / 2] |= uint8_t(fill[first + k] << ((k % 2) * 4));
    };
    if (!out.empty()) {
      Bytes& b0 = out[0];
      b0[2] = 0xEC;
      b0[3] = sig_;
      put32(b0, 4, root_);
      put_fill(b0, 8, 0, 8);
    }
    for (size_t i = 8; i < out.size(); i += 128) put_fill(out[i], 2, i, 128);
    return out;
  }

 private:
  struct Block {
    std::vector<Bytes> items;
    size_t used = 0;
  };
  static size_t header_size(size_t i) { return i == 0 ? 12 : (i % 128 == 8 ? 66 : 2); }
  bool fits(size_t i, size_t n) const {
    const Block& b = blocks_[i];
    size_t body = (header_size(i) + b.used + n + 1) & ~size_t(1);
    return b.items.size() + 1 < 2048 && body + 4 + 2 * (b.items.size() + 2) <= kMaxBlockData;
  }
  // MS-PST 2.3.1.2 rgbFillLevel
  static uint8_t fill_level(size_t free) {
    static const size_t limits[] = {3584, 2560, 2048, 1792, 1536, 1280, 1024, 768, 512, 256, 128, 64, 32, 16, 8};
    for (uint8_t k = 0; k < 15; ++k)
      if (free >= limits[k]) return k;
    return 15;
  }
  uint8_t sig_;
  int block_shift_;
  uint32_t root_ = 0;
  std::vector<Block> blocks_;
};

// MS-PST 2.3.2 BTree-on-heap from records sorted by key; returns the BTHHEADER's HID.
uint32_t build_bth(HeapBuilder& heap, uint8_t ks, uint8_t ds, const std::vector<std::pair<Bytes, Bytes>>& recs) {
  Bytes header{0xB5, ks, ds, 0, 0, 0, 0, 0};
  if (recs.empty()) return heap.alloc(header);
  std::vector<std::pair<Bytes, uint32_t>> level;  // first key, HID
  size_t per = kMaxHeapItem / (ks + ds);
  for (size_t i = 0; i < recs.size(); i += per) {
    Bytes item;
    for (size_t k = i; k < std::min(recs.size(), i + per); ++k) {
      item.insert(item.end(), recs[k].first.begin(), recs[k].first.end());
      item.insert(item.end(), recs[k].second.begin(), recs[k].second.end());
    }
    level.emplace_back(recs[i].first, heap.alloc(item));
  }
  uint8_t levels = 0;
  per = kMaxHeapItem / (ks + 4);
  while (level.size() > 1) {
    std::vector<std::pair<Bytes, uint32_t>> up;
    for (size_t i = 0; i < level.size(); i += per) {
      Bytes item;
      for (size_t k = i; k < std::min(level.size(), i + per); ++k) {
        item.insert(item.end(), level[k].first.begin(), level[k].first.end());
        Bytes hid(4);
        put32(hid, 0, level[k].second);
        item.insert(item.end(), hid.begin(), hid.end());
      }
      up.emplace_back(level[i].first, heap.alloc(item));
    }
    level = std::move(up);
    ++levels;
  }
  header[3] = levels;
  put32(header, 4, level[0].second);
  return heap.alloc(header);
}

// A named-range id (0x8000 and up) with no name in `names` cannot be written: such values are left
// out.
PropertyBag named_only(const PropertyBag& b, const NamedPropertyMap& names) {
  PropertyBag out;
  for (const auto& v : b.values())
    if (v.tag().id() < NamedPropertyMap::kFirstId || names.find(v.tag().id())) out.set(v);
  return out;
}
Message without_unnamed(const Message& m, const NamedPropertyMap& names) {
  Message out;
  out.props = named_only(m.props, names);
  for (const auto& r : m.recipients) out.recipients.push_back(named_only(r, names));
  for (const auto& a : m.attachments) {
    Attachment x;
    x.props = named_only(a.props, names);
    if (a.embedded) x.embedded = std::make_unique<Message>(without_unnamed(*a.embedded, names));
    out.attachments.push_back(std::move(x));
  }
  return out;
}

}  // namespace

// --- the writer -------------------------------------------------------------------------------
struct PstWriter::Impl {
  struct Written {
    uint64_t bid_data = 0;
    uint64_t bid_sub = 0;
    uint64_t size = 0;  // bytes of node data
  };
  // Subnodes of one node being built (MS-PST 2.2.2.8.3.3).
  // Subnode NIDs come from one counter for the whole file, so the subnodes of a message, its
  // attachments and embedded messages never share a NID (readers look a NID up in the node's
  // subnodes and then in its parents').
  struct Subnodes {
    explicit Subnodes(uint32_t& counter) : next(counter) {}
    std::map<uint32_t, SubnodeEntry> entries;
    uint32_t& next;
    uint32_t alloc(uint8_t type) {
      if (next >= (1u << 26)) next = 1;
      return make_nid(next++, type);
    }
    void add(uint32_t nid, const Written& w) { entries[nid] = {nid, w.bid_data, w.bid_sub}; }
  };
  struct ContentsRow {
    uint32_t nid;
    PropertyBag cells;
  };
  struct Folder {
    uint32_t nid = 0, parent = 0;
    std::string name, container_class;
    std::vector<uint32_t> children;
    std::vector<ContentsRow> contents, fai;
    int32_t unread = 0;
  };

  int fd = -1;
  uint32_t sub_counter = 1;
  std::string path;
  PstWriterOptions opt;
  Layout lay;
  bool finished = false;
  uint64_t eof = 0;
  uint64_t next_bid = 4;
  std::vector<uint8_t> amap;  // one bit per slot from lay.first_amap
  std::map<uint32_t, NodeEntry> nbt;
  std::map<uint64_t, BlockEntry> bbt;
  std::map<uint32_t, Folder> folders;
  uint32_t next_index[32] = {};
  NamedPropertyMap names;
  Guid store_uid = Guid::random();

  // --- space --------------------------------------------------------------------------------
  uint64_t range_start(uint64_t k) const { return lay.first_amap + k * lay.range(); }
  bool pmap_range(uint64_t k) const { return !lay.four_k && k % 8 == 0; }
  bool fmap_range(uint64_t k) const {
    return !lay.four_k && k >= kFirstFMapRange && (k - kFirstFMapRange) % kAMapsPerFMap == 0;
  }
  bool fpmap_range(uint64_t k) const {
    return !lay.four_k && k >= kFirstFPMapRange && (k - kFirstFPMapRange) % kAMapsPerFPMap == 0;
  }
  // The map pages at the start of range k, in this order: the AMap, a PMap, an FMap, an FPMap
  // (no range holds both of the last two).
  uint64_t reserved(uint64_t k) const {
    return lay.page * (1 + pmap_range(k) + fmap_range(k) + fpmap_range(k));
  }

  // MS-PST 2.2.2.7.4: the longest run of free 64-byte slots in AMap range k, at most 255.
  uint8_t longest_free_run(uint64_t k) const {
    size_t best = 0, run = 0;
    const size_t bits = size_t(lay.amap_bytes * 8);
    for (size_t i = 0; i < bits; ++i) {
      size_t bit = size_t(k * bits + i);
      bool used = bit / 8 < amap.size() && (amap[bit / 8] & (0x80 >> (bit % 8)));
      run = used ? 0 : run + 1;
      best = std::max(best, run);
    }
    return uint8_t(std::min<size_t>(best, 255));
  }

  void mark(uint64_t pos, uint64_t size) {
    uint64_t first = (pos - lay.first_amap) / lay.slot, last = (pos + size - lay.first_amap + lay.slot - 1) / lay.slot;
    if (amap.size() * 8 < last) amap.resize((last + 7) / 8 + 4096, 0);
    for (uint64_t u = first; u < last; ++u) amap[u / 8] |= uint8_t(0x80 >> (u % 8));
  }

  uint64_t alloc(uint64_t size, uint64_t align) {
    uint64_t pos = (eof + align - 1) / align * align;
    for (;;) {
      uint64_t k = (pos - lay.first_amap) / lay.range();
      uint64_t start = range_start(k);
      if (pos < start + reserved(k)) pos = start + reserved(k);
      if (pos + size > start + lay.range()) {
        pos = range_start(k + 1);
        continue;
      }
      break;
    }
    eof = std::max(eof, pos + size);
    mark(pos, size);
    return pos;
  }

  void pwrite_all(uint64_t pos, ByteView data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, off_t(pos + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "PST writer: cannot write '" + path + "'");
      done += size_t(n);
    }
  }

  uint64_t new_bid(bool internal) {
    uint64_t b = next_bid | (internal ? 2 : 0);
    next_bid += 4;
    return b;
  }

  // --- blocks (MS-PST 2.2.2.8) --------------------------------------------------------------
  // In the 4K layout an external block is stored deflated (zlib) when that is shorter; its
  // trailer then gives both sizes.
  uint64_t write_block(Bytes data, bool internal) {
    uint64_t bid = new_bid(internal);
    if (!internal && opt.crypt == CryptMethod::Permute) encode_permute(data);
    const size_t inflated = data.size();
    if (lay.four_k && !internal && !data.empty()) {
      Bytes z(compressBound(uLong(data.size())));
      uLongf zsize = z.size();
      if (compress2(z.data(), &zsize, data.data(), uLong(data.size()), Z_DEFAULT_COMPRESSION) == Z_OK &&
          zsize < data.size()) {
        z.resize(zsize);
        data = std::move(z);
      }
    }
    size_t total = (data.size() + lay.block_trailer + lay.align - 1) / lay.align * lay.align;
    uint64_t ib = alloc(total, lay.align);
    Bytes blk(total, 0);
    std::copy(data.begin(), data.end(), blk.begin());
    size_t t = total - lay.block_trailer;
    put16(blk, t, uint16_t(data.size()));
    put16(blk, t + 2, compute_sig(ib, bid));
    put32(blk, t + 4, crc32(data));
    put64(blk, t + 8, bid);
    if (lay.four_k) {
      put16(blk, t + 16, 2);
      put16(blk, t + 18, uint16_t(inflated));
    }
    pwrite_all(ib, blk);
    bbt[bid & ~uint64_t(1)] = {{bid, ib}, uint16_t(data.size()), 2, uint16_t(inflated)};
    return bid;
  }

  // A data tree (MS-PST 2.2.2.8.3.2) over `blocks` (each at most 8176 bytes).
  uint64_t write_tree(const std::vector<Bytes>& blocks) {
    if (blocks.empty()) return 0;
    std::vector<uint64_t> bids;
    std::vector<uint64_t> sizes;
    for (const auto& b : blocks) {
      bids.push_back(write_block(b, false));
      sizes.push_back(b.size());
    }
    if (bids.size() == 1) return bids[0];
    auto xblock = [&](uint8_t level, const std::vector<uint64_t>& ids, uint64_t total) {
      BinaryWriter w;
      w.u8(0x01);
      w.u8(level);
      w.u16(uint16_t(ids.size()));
      w.u32(uint32_t(total));
      for (auto id : ids) w.u64(id);
      return write_block(w.take(), true);
    };
    std::vector<uint64_t> xs, xsizes;
    for (size_t i = 0; i < bids.size(); i += kXEntries) {
      size_t end = std::min(bids.size(), i + kXEntries);
      uint64_t total = 0;
      for (size_t k = i; k < end; ++k) total += sizes[k];
      xs.push_back(xblock(1, std::vector<uint64_t>(bids.begin() + ptrdiff_t(i), bids.begin() + ptrdiff_t(end)), total));
      xsizes.push_back(total);
    }
    if (xs.size() == 1) return xs[0];
    if (xs.size() > kXEntries) throw_error(ErrorCode::MAPI_E_TOO_BIG, "PST writer: value too large");
    uint64_t total = 0;
    for (auto s : xsizes) total += s;
    return xblock(2, xs, total);
  }

  uint64_t write_data(ByteView data) {
    std::vector<Bytes> chunks;
    for (size_t i = 0; i < data.size(); i += kMaxBlockData)
      chunks.emplace_back(data.begin() + ptrdiff_t(i), data.begin() + ptrdiff_t(std::min(data.size(), i + kMaxBlockData)));
    if (chunks.empty()) chunks.emplace_back();
    return write_tree(chunks);
  }

  // MS-PST 2.2.2.8.3.3 SLBLOCK / SIBLOCK
  uint64_t write_subnodes(const Subnodes& s) {
    if (s.entries.empty()) return 0;
    std::vector<const SubnodeEntry*> all;
    for (const auto& [nid, e] : s.entries) all.push_back(&e);
    std::vector<std::pair<uint32_t, uint64_t>> leaves;
    for (size_t i = 0; i < all.size(); i += kSlEntries) {
      BinaryWriter w;
      size_t end = std::min(all.size(), i + kSlEntries);
      w.u8(0x02);
      w.u8(0);
      w.u16(uint16_t(end - i));
      w.u32(0);
      for (size_t k = i; k < end; ++k) {
        w.u64(all[k]->nid);
        w.u64(all[k]->bid_data);
        w.u64(all[k]->bid_sub);
      }
      leaves.emplace_back(all[i]->nid, write_block(w.take(), true));
    }
    if (leaves.size() == 1) return leaves[0].second;
    if (leaves.size() > kSiEntries) throw_error(ErrorCode::MAPI_E_TOO_BIG, "PST writer: too many subnodes");
    BinaryWriter w;
    w.u8(0x02);
    w.u8(1);
    w.u16(uint16_t(leaves.size()));
    w.u32(0);
    for (const auto& [nid, bid] : leaves) {
      w.u64(nid);
      w.u64(bid);
    }
    return write_block(w.take(), true);
  }

  Written finish_node(const HeapBuilder& heap, const Subnodes& subs) {
    Written out;
    auto blocks = heap.blocks();
    for (const auto& b : blocks) out.size += b.size();
    out.bid_data = write_tree(blocks);
    out.bid_sub = write_subnodes(subs);
    return out;
  }

  // A variable-size value: in the heap, or in a subnode when larger than a heap item.
  uint32_t store_hnid(HeapBuilder& heap, Subnodes& subs, const Bytes& raw) {
    if (raw.empty()) return 0;
    if (raw.size() <= kMaxHeapItem) return heap.alloc(raw);
    uint32_t nid = subs.alloc(0x1F);  // NID_TYPE_LTP
    subs.add(nid, {write_data(raw), 0, raw.size()});
    return nid;
  }

  // --- property context (MS-PST 2.3.3) ------------------------------------------------------
  struct ObjectValue {
    uint16_t prop_id;
    uint32_t nid;
    uint32_t size;
  };
  Written write_pc(const PropertyBag& bag, Subnodes& subs, const std::vector<ObjectValue>& objects = {}) {
    HeapBuilder heap(0xBC, lay.four_k);
    std::map<uint16_t, std::pair<uint16_t, uint32_t>> recs;  // id -> type, HNID or inline value
    for (const auto& v : bag.values()) {
      PropTag tag = stored_tag(v.tag());
      if (tag.id() == 0 || recs.count(tag.id())) continue;
      auto raw = raw_value(v);
      if (!raw) continue;
      size_t fixed = inline_size(tag.type());
      uint32_t data = 0;
      if (fixed > 0 && fixed <= 4) {
        for (size_t i = 0; i < raw->size() && i < 4; ++i) data |= uint32_t((*raw)[i]) << (8 * i);
      } else {
        data = store_hnid(heap, subs, *raw);
      }
      recs[tag.id()] = {uint16_t(tag.type()), data};
    }
    for (const auto& o : objects) {
      Bytes ref(8);
      put32(ref, 0, o.nid);
      put32(ref, 4, o.size);
      recs[o.prop_id] = {uint16_t(PropType::Object), heap.alloc(ref)};
    }
    std::vector<std::pair<Bytes, Bytes>> records;
    for (const auto& [id, td] : recs) {
      Bytes k(2), d(6);
      put16(k, 0, id);
      put16(d, 0, td.first);
      put32(d, 2, td.second);
      records.emplace_back(std::move(k), std::move(d));
    }
    heap.set_root(build_bth(heap, 2, 6, records));
    return finish_node(heap, subs);
  }
  Written write_pc(const PropertyBag& bag) {
    Subnodes subs(sub_counter);
    return write_pc(bag, subs);
  }

  // --- table context (MS-PST 2.3.4) ---------------------------------------------------------
  // `columns` (without the row id / version); each row's cells are those of its bag present in
  // the columns.
  Written write_tc(std::vector<PropTag> columns, const std::vector<std::pair<uint32_t, const PropertyBag*>>& rows) {
    HeapBuilder heap(0x7C, lay.four_k);
    Subnodes subs(sub_counter);
    for (auto& c : columns) c = stored_tag(c);
    columns.erase(std::remove_if(columns.begin(), columns.end(),
                                 [](PropTag t) { return t.id() == kRowId.id() || t.id() == kRowVer.id(); }),
                  columns.end());
    std::sort(columns.begin(), columns.end(), [](PropTag a, PropTag b) { return a.id() < b.id(); });
    columns.erase(std::unique(columns.begin(), columns.end(), [](PropTag a, PropTag b) { return a.id() == b.id(); }),
                  columns.end());
    struct Col {
      PropTag tag;
      uint16_t ib = 0;
      uint8_t cb = 0, bit = 0;
    };
    std::vector<Col> cols;
    cols.push_back({kRowId, 0, 4, 0});
    cols.push_back({kRowVer, 4, 4, 1});
    uint8_t bit = 2;
    for (auto t : columns) cols.push_back({t, 0, uint8_t(inline_size(t.type()) ? inline_size(t.type()) : 4), bit++});
    // Row layout: 8- and 4-byte cells, then 2-byte, then 1-byte, then the cell existence bitmap.
    uint16_t at = 8;
    uint16_t rgib[4];
    for (size_t pass : {8u, 4u, 2u, 1u}) {
      for (size_t i = 2; i < cols.size(); ++i)
        if (cols[i].cb == pass) {
          cols[i].ib = at;
          at = uint16_t(at + pass);
        }
      if (pass == 4) rgib[0] = at;
      if (pass == 2) rgib[1] = at;
      if (pass == 1) rgib[2] = at;
    }
    const size_t ceb = (cols.size() + 7) / 8;
    rgib[3] = uint16_t(at + ceb);
    const size_t row_size = rgib[3];

    Bytes matrix;
    std::vector<std::pair<Bytes, Bytes>> index;
    for (size_t r = 0; r < rows.size(); ++r) {
      Bytes row(row_size, 0);
      put32(row, 0, rows[r].first);
      put32(row, 4, 0);
      row[rgib[2]] |= 0xC0;
      for (size_t i = 2; i < cols.size(); ++i) {
        const PropValue* v = nullptr;
        for (const auto& pv : rows[r].second->values())
          if (stored_tag(pv.tag()) == cols[i].tag) v = &pv;
        if (!v) continue;
        auto raw = raw_value(*v);
        if (!raw) continue;
        if (inline_size(cols[i].tag.type())) {
          std::copy_n(raw->begin(), std::min(raw->size(), size_t(cols[i].cb)), row.begin() + cols[i].ib);
        } else {
          uint32_t hnid = store_hnid(heap, subs, *raw);
          put32(row, cols[i].ib, hnid);
        }
        row[rgib[2] + cols[i].bit / 8] |= uint8_t(0x80 >> (cols[i].bit % 8));
      }
      Bytes k(4), d(4);
      put32(k, 0, rows[r].first);
      put32(d, 0, uint32_t(r));
      index.emplace_back(std::move(k), std::move(d));
      matrix.insert(matrix.end(), row.begin(), row.end());
    }
    std::sort(index.begin(), index.end());
    uint32_t hid_index = build_bth(heap, 4, 4, index);
    uint32_t hnid_rows = 0;
    if (!matrix.empty()) {
      if (matrix.size() <= kMaxHeapItem) {
        hnid_rows = heap.alloc(matrix);
      } else {
        // MS-PST 2.3.4.4: rows never straddle the blocks of the row matrix.
        size_t per = kMaxBlockData / row_size;
        std::vector<Bytes> blocks;
        for (size_t i = 0; i < rows.size(); i += per) {
          size_t end = std::min(rows.size(), i + per);
          blocks.emplace_back(matrix.begin() + ptrdiff_t(i * row_size), matrix.begin() + ptrdiff_t(end * row_size));
        }
        hnid_rows = subs.alloc(0x1F);
        subs.add(hnid_rows, {write_tree(blocks), 0, matrix.size()});
      }
    }
    BinaryWriter w;  // TCINFO
    w.u8(0x7C);
    w.u8(uint8_t(cols.size()));
    for (auto v : rgib) w.u16(v);
    w.u32(hid_index);
    w.u32(hnid_rows);
    w.u32(0);
    std::vector<Col> desc = cols;
    std::sort(desc.begin(), desc.end(), [](const Col& a, const Col& b) { return a.tag.id() < b.tag.id(); });
    for (const auto& c : desc) {
      w.u32(c.tag.value);
      w.u16(c.ib);
      w.u8(c.cb);
      w.u8(c.bit);
    }
    heap.set_root(heap.alloc(w.data()));
    return finish_node(heap, subs);
  }

  // --- messages (MS-PST 2.4.5) --------------------------------------------------------------
  static std::vector<PropTag> recipient_columns(const Message& m) {
    std::vector<PropTag> cols = {T(0x0C15, PropType::Integer32), T(0x0E0F, PropType::Boolean),
                                 T(0x0FF9, PropType::Binary),    T(0x0FFE, PropType::Integer32),
                                 T(0x0FFF, PropType::Binary),    T(0x3001, PropType::String),
                                 T(0x3002, PropType::String),    T(0x3003, PropType::String),
                                 T(0x300B, PropType::Binary),    T(0x3900, PropType::Integer32),
                                 T(0x39FF, PropType::String),    T(0x3A40, PropType::Boolean)};
    for (const auto& r : m.recipients)
      for (const auto& v : r.values()) {
        PropTag t = stored_tag(v.tag());
        auto it = std::find_if(cols.begin(), cols.end(), [&](PropTag c) { return c.id() == t.id(); });
        if (it == cols.end()) cols.push_back(t);
        else if (*it != t) *it = t;  // the rows' type wins
      }
    return cols;
  }

  // An embedded message always gets an attachment table (empty if need be): a reader that also
  // looks in the parents' subnodes must not find the enclosing message's one.
  Written write_message(const Message& m, bool embedded = false) {
    Subnodes subs(sub_counter);
    {  // Outlook keeps a recipient table on every message
      std::vector<std::pair<uint32_t, const PropertyBag*>> rows;
      for (size_t i = 0; i < m.recipients.size(); ++i) rows.emplace_back(uint32_t(i), &m.recipients[i]);
      subs.add(NID_RECIPIENT_TABLE, write_tc(recipient_columns(m), rows));
    }
    if (!m.attachments.empty() || embedded) {
      std::vector<std::pair<uint32_t, const PropertyBag*>> rows;
      for (size_t i = 0; i < m.attachments.size(); ++i) {
        const Attachment& a = m.attachments[i];
        Subnodes asubs(sub_counter);
        std::vector<ObjectValue> objects;
        if (a.embedded) {
          uint32_t enid = asubs.alloc(nid_type::NormalMessage);
          Written e = write_message(*a.embedded, true);
          asubs.add(enid, e);
          objects.push_back({tags::PidTagAttachDataObject.id(), enid, uint32_t(e.size)});
        }
        Written aw = write_pc(a.props, asubs, objects);
        uint32_t anid = subs.alloc(nid_type::Attachment);
        subs.add(anid, aw);
        rows.emplace_back(anid, &a.props);
      }
      std::vector<PropTag> cols = {T(0x0E20, PropType::Integer32), T(0x3704, PropType::String),
                                   T(0x3705, PropType::Integer32), T(0x370B, PropType::Integer32)};
      subs.add(NID_ATTACHMENT_TABLE, write_tc(cols, rows));
    }
    return write_pc(m.props, subs);
  }

  static std::vector<PropTag> contents_columns() {
    return {T(0x0017, PropType::Integer32), T(0x001A, PropType::String),    T(0x0036, PropType::Integer32),
            T(0x0037, PropType::String),    T(0x0039, PropType::Time),      T(0x0042, PropType::String),
            T(0x0057, PropType::Boolean),   T(0x0058, PropType::Boolean),   T(0x0070, PropType::String),
            T(0x0071, PropType::Binary),    T(0x0E03, PropType::String),    T(0x0E04, PropType::String),
            T(0x0E06, PropType::Time),      T(0x0E07, PropType::Integer32), T(0x0E08, PropType::Integer32),
            T(0x0E17, PropType::Integer32), T(0x3008, PropType::Time),      T(0x1097, PropType::Integer32)};
  }
  static std::vector<PropTag> hierarchy_columns() {
    return {T(0x3001, PropType::String), T(0x3602, PropType::Integer32), T(0x3603, PropType::Integer32),
            T(0x360A, PropType::Boolean), T(0x3613, PropType::String)};
  }

  void add_node(uint32_t nid, const Written& w, uint32_t parent) { nbt[nid] = {nid, w.bid_data, w.bid_sub, parent}; }

  uint32_t new_nid(uint8_t type) {
    if (next_index[type] < 0x400) next_index[type] = 0x400;
    return make_nid(next_index[type]++, type);
  }

  Folder& folder(uint32_t nid) {
    auto it = folders.find(nid);
    if (it == folders.end()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "PST writer: no folder with this id");
    return it->second;
  }

  void make_folder(uint32_t nid, uint32_t parent, std::string name, std::string cls) {
    Folder f;
    f.nid = nid;
    f.parent = parent;
    f.name = std::move(name);
    f.container_class = std::move(cls);
    folders[nid] = std::move(f);
    if (nid != parent) folder(parent).children.push_back(nid);
  }

  PropertyBag folder_props(const Folder& f) const {
    PropertyBag b;
    b.set(PropValue::string(T(0x3001, PropType::String), f.name));
    b.set(PropValue::i32(T(0x3602, PropType::Integer32), int32_t(f.contents.size())));
    b.set(PropValue::i32(T(0x3603, PropType::Integer32), f.unread));
    b.set(PropValue::boolean(T(0x360A, PropType::Boolean), !f.children.empty()));
    if (!f.container_class.empty()) b.set(PropValue::string(T(0x3613, PropType::String), f.container_class));
    return b;
  }

  Bytes entryid(uint32_t nid) const {
    // MS-PST 2.4.3.2 EntryID: rgbFlags, uid (the store's PidTagRecordKey), nid.
    BinaryWriter w;
    w.u32(0);
    w.bytes(store_uid.bytes);
    w.u32(nid);
    return w.take();
  }

  // MS-PST 2.4.7 name-to-ID map
  void write_name_map() {
    // Readers (libpff) refuse a map whose entry stream is empty, and a PST Outlook makes always
    // has entries: without named properties of its own, the file maps PidLidReminderSet.
    if (names.size() == 0) names.insert(NamedPropertyMap::kFirstId, PropertyName::by_id(propset::PSETID_Common, 0x8503));
    BinaryWriter guids, entries, strings;
    std::vector<Guid> guid_list;
    constexpr uint32_t kBuckets = 251;
    std::vector<BinaryWriter> buckets(kBuckets);
    for (const auto& [id, name] : names.entries()) {
      uint16_t wguid;
      if (name.set == propset::PS_MAPI) wguid = 1;
      else if (name.set == propset::PS_PUBLIC_STRINGS) wguid = 2;
      else {
        auto it = std::find(guid_list.begin(), guid_list.end(), name.set);
        if (it == guid_list.end()) {
          guid_list.push_back(name.set);
          guids.bytes(name.set.bytes);
          it = guid_list.end() - 1;
        }
        wguid = uint16_t(3 + (it - guid_list.begin()));
      }
      bool is_string = name.kind == NameKind::String;
      uint32_t value = name.lid, hash_value = name.lid;
      if (is_string) {
        Bytes text = utf16(name.name);
        value = uint32_t(strings.size());
        strings.u32(uint32_t(text.size()));
        strings.bytes(text);
        while (strings.size() % 4) strings.u8(0);
        hash_value = crc32(text);
      }
      uint16_t kind = uint16_t((wguid << 1) | (is_string ? 1 : 0));
      uint16_t idx = uint16_t(id - NamedPropertyMap::kFirstId);
      entries.u32(value);
      entries.u16(kind);
      entries.u16(idx);
      // MS-PST 2.4.7.5: bucket (dwPropertyID or name CRC XOR (wGuid << 1 | N)) mod bucket count.
      BinaryWriter& b = buckets[(hash_value ^ kind) % kBuckets];
      b.u32(hash_value);
      b.u16(kind);
      b.u16(idx);
    }
    PropertyBag pc;
    pc.set(PropValue::i32(T(0x0001, PropType::Integer32), int32_t(kBuckets)));
    pc.set(PropValue::binary(T(0x0002, PropType::Binary), guids.take()));
    pc.set(PropValue::binary(T(0x0003, PropType::Binary), entries.take()));
    pc.set(PropValue::binary(T(0x0004, PropType::Binary), strings.take()));
    for (uint32_t i = 0; i < kBuckets; ++i)
      pc.set(PropValue::binary(T(uint16_t(0x1000 + i), PropType::Binary), buckets[i].take()));
    add_node(NID_NAME_TO_ID_MAP, write_pc(pc), 0);
  }

  void write_folders() {
    for (auto& [nid, f] : folders) {
      add_node(nid, write_pc(folder_props(f)), f.parent);
      std::vector<PropertyBag> child_props;
      for (uint32_t c : f.children) child_props.push_back(folder_props(folders.at(c)));
      std::vector<std::pair<uint32_t, const PropertyBag*>> rows;
      for (size_t i = 0; i < f.children.size(); ++i) rows.emplace_back(f.children[i], &child_props[i]);
      uint32_t base = nid & ~0x1Fu;
      add_node(base | nid_type::HierarchyTable, write_tc(hierarchy_columns(), rows), 0);
      rows.clear();
      for (const auto& r : f.contents) rows.emplace_back(r.nid, &r.cells);
      add_node(base | nid_type::ContentsTable, write_tc(contents_columns(), rows), 0);
      rows.clear();
      for (const auto& r : f.fai) rows.emplace_back(r.nid, &r.cells);
      add_node(base | nid_type::AssocContentsTable,
               write_tc({T(0x001A, PropType::String), T(0x0E07, PropType::Integer32)}, rows), 0);
    }
  }

  // --- B-trees (MS-PST 2.2.2.7.7) -----------------------------------------------------------
  void write_page(uint64_t ib, Bytes& page, uint8_t ptype, uint64_t bid, uint16_t sig) {
    const size_t t = lay.page_data;
    page[t] = ptype;
    page[t + 1] = ptype;
    put16(page, t + 2, sig);
    put32(page, t + 4, crc32(ByteView(page).first(t)));
    put64(page, t + 8, bid);
    pwrite_all(ib, page);
  }

  Bref write_btree(uint8_t ptype, const std::vector<Bytes>& entries, size_t esize) {
    std::vector<std::pair<uint64_t, Bref>> level;  // first key, page
    uint8_t clevel = 0;
    const size_t room = lay.bt_entries;
    auto emit = [&](const std::vector<Bytes>& es, size_t from, size_t to, size_t size) {
      Bytes page(lay.page, 0);
      for (size_t k = from; k < to; ++k) std::copy(es[k].begin(), es[k].end(), page.begin() + ptrdiff_t((k - from) * size));
      if (lay.four_k) {  // 16-bit cEnt and cEntMax
        put16(page, room, uint16_t(to - from));
        put16(page, room + 2, uint16_t(room / size));
        page[room + 4] = uint8_t(size);
        page[room + 5] = clevel;
      } else {
        page[room] = uint8_t(to - from);
        page[room + 1] = uint8_t(room / size);
        page[room + 2] = uint8_t(size);
        page[room + 3] = clevel;
      }
      uint64_t bid = new_bid(false);
      uint64_t ib = alloc(lay.page, lay.page);
      write_page(ib, page, ptype, bid, compute_sig(ib, bid));
      uint64_t key = 0;
      for (int i = 0; i < 8; ++i) key |= uint64_t(es[from][i]) << (8 * i);
      return std::make_pair(key, Bref{bid, ib});
    };
    size_t per = room / esize;
    for (size_t i = 0; i < entries.size() || i == 0; i += per) {
      level.push_back(emit(entries, i, std::min(entries.size(), i + per), esize));
      if (entries.empty()) break;
    }
    const size_t per_branch = room / 24;
    while (level.size() > 1) {
      ++clevel;
      std::vector<Bytes> es;
      for (const auto& [key, ref] : level) {
        Bytes e(24);
        put64(e, 0, key);
        put64(e, 8, ref.bid);
        put64(e, 16, ref.ib);
        es.push_back(std::move(e));
      }
      std::vector<std::pair<uint64_t, Bref>> up;
      for (size_t i = 0; i < es.size(); i += per_branch)
        up.push_back(emit(es, i, std::min(es.size(), i + per_branch), 24));
      level = std::move(up);
    }
    return level[0].second;
  }

  void finish() {
    write_name_map();
    write_folders();
    // MS-PST 2.4.3 message store
    PropertyBag store;
    store.set(PropValue::binary(T(0x0FF9, PropType::Binary), Bytes(store_uid.bytes.begin(), store_uid.bytes.end())));
    store.set(PropValue::string(T(0x3001, PropType::String), opt.display_name));
    store.set(PropValue::i32(T(0x35DF, PropType::Integer32), 0x89));  // PidTagValidFolderMask
    store.set(PropValue::binary(T(0x35E0, PropType::Binary), entryid(kIpmSubtree)));
    store.set(PropValue::binary(T(0x35E3, PropType::Binary), entryid(kDeletedItems)));
    store.set(PropValue::binary(T(0x35E7, PropType::Binary), entryid(kSearchRoot)));
    add_node(NID_MESSAGE_STORE, write_pc(store), 0);
    // MS-PST 2.7.1: the search queues (empty) and the table templates.
    for (uint32_t nid : {NID_SEARCH_MANAGEMENT_QUEUE, NID_SEARCH_ACTIVITY_LIST, NID_SEARCH_DOMAIN_OBJECT})
      nbt[nid] = {nid, 0, 0, 0};
    std::vector<std::pair<uint32_t, const PropertyBag*>> none;
    add_node(NID_HIERARCHY_TABLE_TEMPLATE, write_tc(hierarchy_columns(), none), 0);
    add_node(NID_CONTENTS_TABLE_TEMPLATE, write_tc(contents_columns(), none), 0);
    add_node(NID_ASSOC_CONTENTS_TABLE_TEMPLATE, write_tc({T(0x001A, PropType::String)}, none), 0);
    add_node(NID_SEARCH_CONTENTS_TABLE_TEMPLATE, write_tc(contents_columns(), none), 0);
    add_node(NID_ATTACHMENT_TABLE,
             write_tc({T(0x0E20, PropType::Integer32), T(0x3704, PropType::String), T(0x3705, PropType::Integer32),
                       T(0x370B, PropType::Integer32)},
                      none),
             0);
    add_node(NID_RECIPIENT_TABLE, write_tc(recipient_columns(Message{}), none), 0);

    std::vector<Bytes> bentries;
    for (const auto& [key, b] : bbt) {
      Bytes e(24, 0);
      put64(e, 0, b.bref.bid);
      put64(e, 8, b.bref.ib);
      put16(e, 16, b.cb);
      if (lay.four_k) {
        put16(e, 18, b.inflated);
        put16(e, 20, b.refs);
      } else {
        put16(e, 18, b.refs);
      }
      bentries.push_back(std::move(e));
    }
    std::vector<Bytes> nentries;
    for (const auto& [nid, n] : nbt) {
      Bytes e(32, 0);
      put64(e, 0, n.nid);
      put64(e, 8, n.bid_data);
      put64(e, 16, n.bid_sub);
      put32(e, 24, n.nid_parent);
      nentries.push_back(std::move(e));
    }
    Bref nbt_ref = write_btree(kPtypeNBT, nentries, 32);
    Bref bbt_ref = write_btree(kPtypeBBT, bentries, 24);

    // MS-PST 2.2.2.7.2 AMap pages, and in the 512-byte layout the deprecated PMap and FPMap pages
    // (all bits set, as the header's rgbFP).
    uint64_t ranges = (eof - lay.first_amap + lay.range() - 1) / lay.range();
    uint64_t free_bytes = 0;
    const size_t ab = size_t(lay.amap_bytes);
    for (uint64_t k = 0; k < ranges; ++k) {
      uint64_t start = range_start(k);
      mark(start, reserved(k));
      Bytes page(lay.page, 0);
      for (size_t i = 0; i < ab; ++i) {
        size_t at = size_t(k * ab + i);
        page[i] = at < amap.size() ? amap[at] : 0;
        free_bytes += lay.slot * (8 - size_t(__builtin_popcount(page[i])));
      }
      write_page(start, page, kPtypeAMap, start, 0);
      uint64_t at = start + lay.page;
      if (pmap_range(k)) {
        Bytes pmap(lay.page, 0xFF);
        write_page(at, pmap, kPtypePMap, at, 0);
        at += lay.page;
      }
      if (fmap_range(k)) {
        // One byte per AMap from the FMap's own range on.
        Bytes fmap(lay.page, 0);
        for (uint64_t i = 0; i < 496 && k + i < ranges; ++i) fmap[i] = longest_free_run(k + i);
        write_page(at, fmap, kPtypeFMap, at, 0);
        at += lay.page;
      }
      if (fpmap_range(k)) {
        Bytes fpmap(lay.page, 0xFF);
        write_page(at, fpmap, kPtypeFPMap, at, 0);
      }
    }
    uint64_t file_eof = range_start(ranges);
    if (::ftruncate(fd, off_t(file_eof)) != 0)
      throw_error(ErrorCode::MAPI_E_DISK_ERROR, "PST writer: cannot size '" + path + "'");

    // MS-PST 2.2.2.6 HEADER (Unicode)
    Bytes h(564, 0);
    put32(h, 0, 0x4E444221);  // !BDN
    put16(h, 8, lay.four_k ? 0x4F53 : 0x4D53);  // SO (OST) or SM (PST)
    put16(h, 10, lay.four_k ? 36 : 23);
    put16(h, 12, 19);
    h[14] = 1;
    h[15] = 1;
    put64(h, 24, 0);         // bidUnused
    put64(h, 32, next_bid);  // bidNextP
    put32(h, 40, 1);         // dwUnique
    for (uint32_t t = 0; t < 32; ++t) put32(h, 44 + 4 * t, make_nid(std::max<uint32_t>(next_index[t], 0x400), uint8_t(t)));
    // ROOT at 180
    put64(h, 184, file_eof);
    put64(h, 192, range_start(ranges - 1));
    put64(h, 200, free_bytes);
    put64(h, 208, 0);  // cbPMapFree
    put64(h, 216, nbt_ref.bid);
    put64(h, 224, nbt_ref.ib);
    put64(h, 232, bbt_ref.bid);
    put64(h, 240, bbt_ref.ib);
    h[248] = 0x02;  // fAMapValid: VALID_AMAP2
    std::fill(h.begin() + 256, h.begin() + 512, 0xFF);  // rgbFM, rgbFP (deprecated)
    h[512] = 0x80;                                      // bSentinel
    h[513] = uint8_t(opt.crypt);
    put64(h, 516, next_bid);  // bidNextB
    put32(h, 4, crc32(ByteView(h).subspan(8, 471)));
    put32(h, 524, crc32(ByteView(h).subspan(8, 516)));
    pwrite_all(0, h);
    if (::fsync(fd) != 0) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "PST writer: cannot flush '" + path + "'");
    finished = true;
  }
};

PstWriter::PstWriter(const std::string& path, PstWriterOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.crypt == CryptMethod::Cyclic)
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "PST writer: NDB_CRYPT_CYCLIC is not written");
  if (options.four_k && options.crypt != CryptMethod::None)
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "PST writer: the 4K-page layout is written unencoded (crypt None)");
  impl_->path = path;
  impl_->opt = std::move(options);
  impl_->lay = Layout::make(impl_->opt.four_k);
  impl_->eof = impl_->lay.first_amap;
  impl_->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (impl_->fd < 0) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "PST writer: cannot create '" + path + "'");
  // MS-PST 2.7.1 folders: the root, the IPM subtree, the search root and Deleted Items.
  impl_->make_folder(NID_ROOT_FOLDER, NID_ROOT_FOLDER, "", "");
  impl_->make_folder(kIpmSubtree, NID_ROOT_FOLDER, "Top of Personal Folders", "");
  impl_->make_folder(kSearchRoot, NID_ROOT_FOLDER, "Search Root", "");
  impl_->make_folder(kDeletedItems, kIpmSubtree, "Deleted Items", "IPF.Note");
  impl_->next_index[nid_type::NormalFolder] = (kDeletedItems >> 5) + 1;
}

PstWriter::~PstWriter() {
  if (impl_ && impl_->fd >= 0) ::close(impl_->fd);
}

FolderId PstWriter::root_folder() const { return NID_ROOT_FOLDER; }
FolderId PstWriter::ipm_subtree() const { return kIpmSubtree; }
FolderId PstWriter::deleted_items() const { return kDeletedItems; }

FolderId PstWriter::add_folder(FolderId parent, const std::string& name, const std::string& container_class) {
  if (impl_->finished) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "PST writer: already finished");
  impl_->folder(parent);
  uint32_t nid = impl_->new_nid(nid_type::NormalFolder);
  impl_->make_folder(nid, parent, name, container_class);
  return nid;
}

uint32_t PstWriter::add_message(FolderId folder, const Message& message, const NamedPropertyMap& names,
                                bool associated) {
  if (impl_->finished) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "PST writer: already finished");
  Impl::Folder& f = impl_->folder(folder);
  Message m = msg::remap_named_properties(without_unnamed(message, names), names, impl_->names, true);
  uint32_t nid = impl_->new_nid(associated ? nid_type::AssocMessage : nid_type::NormalMessage);
  impl_->add_node(nid, impl_->write_message(m), folder);
  PropertyBag cells;
  for (auto t : Impl::contents_columns())
    for (const auto& v : m.props.values())
      if (stored_tag(v.tag()) == t) cells.set(v);
  (associated ? f.fai : f.contents).push_back({nid, std::move(cells)});
  if (!associated && !(m.props.get_i32(tags::PidTagMessageFlags).value_or(0) & msgflag::Read)) ++f.unread;
  return nid;
}

void PstWriter::finish() {
  if (impl_->finished) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "PST writer: already finished");
  impl_->finish();
}

}  // namespace openmapi::pst
