#include "formats/pst/ndb.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>

#include "core/error.h"

namespace openmapi::pst {

namespace {

// MS-PST 5.1 mpbbCrypt: mpbbR (the first 256 bytes) and mpbbS (the next 256). mpbbI, the last
// 256, is the inverse permutation of mpbbR and is computed from it.
constexpr const char* kMpbbR =
    "41361362a8216ebbf416cc047f64e85d"
    "1ef2cb2a74c55e35d295479e962d9a88"
    "4c7d843fdbac31b6485ff6c4d8398be7"
    "233b388ec8c1df25b120a546604e9cfb"
    "aad35651457c550007c92b9d859b09a0"
    "8fadb30f63ab894bd7a7155a716642bf"
    "264a6b98faea7753b270052cfd593a86"
    "7ece06eb827857c78d43afb41cd45bcd"
    "e2e9274fc3087280cfb0eff5286dbe30"
    "4d3492d50e3c2232e5e4f99fc2d10a81"
    "12e1ee918376e397e6618a1779a4b7dc"
    "907a5c8c02a6ca69de501a1193b95287"
    "58fced1d37491b6ae0293399bd6cd994"
    "f340546ff0c673b8d63e6518441fdd67"
    "10f10c19ecae03a1147ba90bfff8a3c0"
    "a201f72ebc2468750dfeba2fb5d0da3d";
constexpr const char* kMpbbS =
    "14530f56b3c87a9ceb65481716159f02"
    "cc547c83000d0c0ba262a876dbd9edc7"
    "c5a4dcac8574d6d0a79bae9a967166c3"
    "6399b8dd73928e847da55ed15d93b157"
    "5150808952944f4e0a6bbc8d7f6e4746"
    "4140440111cb033ff7f4e1a98f3c3af9"
    "fbf0193082092ec99da08649ee6f4d6d"
    "c42d813425871b88aafc06a11238fd4c"
    "4272641337246a757743ffe6b44b365c"
    "e4d8353d45b92cecb7312b290768a30e"
    "697b189e2139be281a5b78f523ca2ab0"
    "af3efe048ce7e5983295d3f64ae8a6ea"
    "e9f3d52f7020f21f0567ad5510cecde3"
    "273bdabad7c226d4911dd21c2233f8fa"
    "f15aefcf90b68bb5bdc0bf08971e6ce2"
    "61e0c6c159abbb58de5fdf60797eb28a";

struct CryptTables {
  std::array<uint8_t, 256> r{}, s{}, i{};
  CryptTables() {
    Bytes rb = from_hex(kMpbbR), sb = from_hex(kMpbbS);
    for (int k = 0; k < 256; ++k) {
      r[k] = rb.at(k);
      s[k] = sb.at(k);
    }
    for (int k = 0; k < 256; ++k) i[r[k]] = uint8_t(k);
  }
};
const CryptTables& tables() {
  static const CryptTables t;
  return t;
}

constexpr uint8_t kPtypeBBT = 0x80;
constexpr uint8_t kPtypeNBT = 0x81;
constexpr int kMaxBtDepth = 16;
constexpr uint64_t kBidMask = ~uint64_t(1);  // the low bit of a BID is reserved

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "cannot open '" + path + "'");
    off_t end = ::lseek(fd_, 0, SEEK_END);
    size_ = end < 0 ? 0 : uint64_t(end);
  }
  ~FileSource() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > size_ || out.size() > size_ - offset) return false;
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, off_t(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += size_t(n);
    }
    return true;
  }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(Bytes data) : data_(std::move(data)) {}
  uint64_t size() const override { return data_.size(); }
  bool read(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > data_.size() || out.size() > data_.size() - offset) return false;
    std::copy_n(data_.begin() + ptrdiff_t(offset), out.size(), out.begin());
    return true;
  }

 private:
  Bytes data_;
};

}  // namespace

// zlib's crc32 is the same CRC with the register inverted before and after: MS-PST's value is
// ~zlib(~crc). zlib's is table-sliced, several times faster than a byte-wise loop.
uint32_t crc32(ByteView data, uint32_t crc) {
  uLong z = ~crc & 0xFFFFFFFFu;
  while (!data.empty()) {
    uInt n = uInt(std::min<size_t>(data.size(), 1u << 30));
    z = ::crc32(z, data.data(), n);
    data = data.subspan(n);
  }
  return ~uint32_t(z);
}

void decode_permute(std::span<uint8_t> data) {
  const auto& t = tables();
  for (auto& b : data) b = t.i[b];
}

void encode_permute(std::span<uint8_t> data) {
  const auto& t = tables();
  for (auto& b : data) b = t.r[b];
}

// MS-PST 5.2: the same function encodes and decodes.
void decode_cyclic(std::span<uint8_t> data, uint32_t key) {
  const auto& t = tables();
  uint16_t w = uint16_t(key ^ (key >> 16));
  for (auto& byte : data) {
    uint8_t b = byte;
    b = uint8_t(b + uint8_t(w));
    b = t.r[b];
    b = uint8_t(b + uint8_t(w >> 8));
    b = t.s[b];
    b = uint8_t(b - uint8_t(w >> 8));
    b = t.i[b];
    b = uint8_t(b - uint8_t(w));
    byte = b;
    w = uint16_t(w + 1);
  }
}

void encode_cyclic(std::span<uint8_t> data, uint32_t key) { decode_cyclic(data, key); }

uint16_t compute_sig(uint64_t ib, uint64_t bid) {
  ib ^= bid;
  return uint16_t(uint16_t(ib >> 16) ^ uint16_t(ib));
}

Header parse_header(ByteView data) {
  BinaryReader r(data);
  Header h;
  if (data.size() < 512) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PST header: file shorter than 512 bytes");
  h.magic = r.u32();
  if (h.magic != 0x4E444221) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PST header: bad dwMagic (not !BDN)");
  h.crc_partial = r.u32();
  h.magic_client = r.u16();
  h.ver = r.u16();
  h.ver_client = r.u16();
  h.platform_create = r.u8();
  h.platform_access = r.u8();
  h.reserved1 = r.u32();
  h.reserved2 = r.u32();
  h.crc_partial_computed = crc32(data.subspan(8, 471));
  if (h.ver == 14 || h.ver == 15) {
    // MS-PST 2.2.2.6 ANSI layout
    h.unicode = false;
    h.bid_next_b = r.u32();
    h.bid_next_p = r.u32();
    h.unique = r.u32();
    r.skip(128);  // rgnid
    r.skip(4);    // ROOT dwReserved
    h.file_eof = r.u32();
    h.amap_last = r.u32();
    h.amap_free = r.u32();
    h.pmap_free = r.u32();
    h.nbt.bid = r.u32();
    h.nbt.ib = r.u32();
    h.bbt.bid = r.u32();
    h.bbt.ib = r.u32();
    h.amap_valid = r.u8();
    r.skip(3);
    r.skip(128 + 128);  // rgbFM, rgbFP
    h.sentinel = r.u8();
    h.crypt_method = r.u8();
  } else if (h.ver == 23 || h.ver == 36) {
    // MS-PST 2.2.2.6 Unicode layout; wVer 36 (4 KiB pages) shares it.
    if (data.size() < 564) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PST header: Unicode header is 564 bytes");
    h.unicode = true;
    h.bid_unused = r.u64();
    h.bid_next_p = r.u64();
    h.unique = r.u32();
    r.skip(128);  // rgnid
    r.skip(8);    // qwUnused
    r.skip(4);    // ROOT dwReserved
    h.file_eof = r.u64();
    h.amap_last = r.u64();
    h.amap_free = r.u64();
    h.pmap_free = r.u64();
    h.nbt.bid = r.u64();
    h.nbt.ib = r.u64();
    h.bbt.bid = r.u64();
    h.bbt.ib = r.u64();
    h.amap_valid = r.u8();
    r.skip(3);
    r.skip(4);          // dwAlign
    r.skip(128 + 128);  // rgbFM, rgbFP
    h.sentinel = r.u8();
    h.crypt_method = r.u8();
    r.skip(2);
    h.bid_next_b = r.u64();
    h.crc_full = r.u32();
    h.crc_full_computed = crc32(data.subspan(8, 516));
  } else {
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "PST header: unknown wVer " + std::to_string(h.ver));
  }
  return h;
}

std::unique_ptr<ByteSource> ByteSource::file(const std::string& path) { return std::make_unique<FileSource>(path); }
std::unique_ptr<ByteSource> ByteSource::memory(Bytes data) { return std::make_unique<MemorySource>(std::move(data)); }

Ndb::Ndb(std::unique_ptr<ByteSource> source) : src_(std::move(source)) {
  Bytes head(std::min<uint64_t>(src_->size(), 564));
  if (!src_->read(0, head)) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PST header: cannot read");
  header_ = parse_header(head);
  if (!header_.crc_partial_ok()) problem("header: dwCRCPartial mismatch");
  if (!header_.crc_full_ok()) problem("header: dwCRCFull mismatch");
  if (src_->size() < header_.file_eof)
    problem("file is " + std::to_string(src_->size()) + " bytes, the header's ibFileEof says " +
            std::to_string(header_.file_eof) + " (truncated)");
  if (header_.crypt_method > 2) {
    problem("header: unknown bCryptMethod " + std::to_string(header_.crypt_method) + ", treated as none");
    header_.crypt_method = 0;
  }
}

void Ndb::problem(std::string what) {
  if (problems_.size() < 10000) problems_.push_back({std::move(what)});
}

// Reads a B-tree page (MS-PST 2.2.2.7.7.1 BTPAGE) and checks its trailer (2.2.2.7.1 PAGETRAILER).
// In the 4K layout the page is 4096 bytes: entries up to 4056, then 16-bit cEnt and cEntMax, cbEnt
// and cLevel, and the trailer at 4072 (its CRC covering the 4072 bytes before it).
bool Ndb::read_page(const Bref& ref, uint8_t expect_type, Bytes& page, size_t& level, size_t& count,
                    size_t& entry_size) {
  const size_t psize = header_.page_size();
  const size_t meta = four_k() ? 4056 : unicode() ? 488 : 496;
  const size_t trailer = four_k() ? 4072 : unicode() ? 496 : 500;
  auto parse_meta = [&](size_t& count_max) {
    BinaryReader m(ByteView(page).subspan(meta, 4 + 2 * four_k()));
    count = four_k() ? m.u16() : m.u8();
    count_max = four_k() ? m.u16() : m.u8();
    entry_size = m.u8();
    level = m.u8();
  };
  size_t count_max = 0;
  const uint64_t cache_key = ref.ib ^ (uint64_t(expect_type) << 56);
  if (auto hit = page_cache_.find(cache_key); hit != page_cache_.end() && hit->second.size() == psize + 8) {
    // Cached with the BID it was checked against, in the last 8 bytes.
    BinaryReader b(ByteView(hit->second).subspan(psize));
    if ((b.u64() & kBidMask) == (ref.bid & kBidMask)) {
      page.assign(hit->second.begin(), hit->second.begin() + ptrdiff_t(psize));
      parse_meta(count_max);
      return true;
    }
  }
  page.assign(psize, 0);
  std::string where = (expect_type == kPtypeNBT ? "NBT" : "BBT") + std::string(" page at ") + hex(ref.ib);
  if (!src_->read(ref.ib, page)) {
    problem(where + ": past the end of the file");
    return false;
  }
  BinaryReader t(ByteView(page).subspan(trailer));
  uint8_t ptype = t.u8(), ptype_repeat = t.u8();
  uint16_t sig = t.u16();
  uint32_t crc = 0;
  uint64_t bid = 0;
  if (unicode()) {
    crc = t.u32();
    bid = t.u64();
  } else {
    bid = t.u32();
    crc = t.u32();
  }
  if (ptype != expect_type || ptype_repeat != expect_type) {
    problem(where + ": wrong page type");
    return false;
  }
  if ((bid & kBidMask) != (ref.bid & kBidMask)) {
    problem(where + ": trailer BID does not match");
    return false;
  }
  if (sig != compute_sig(ref.ib, bid)) {
    problem(where + ": bad wSig");
    return false;
  }
  if (crc != crc32(ByteView(page).first(trailer))) {  // everything before the trailer
    problem(where + ": CRC mismatch");
    return false;
  }
  parse_meta(count_max);
  if (entry_size == 0 || count > count_max || count * entry_size > meta) {
    problem(where + ": bad entry counts");
    return false;
  }
  if (page_cache_.size() >= kPageCacheBytes / psize) page_cache_.clear();
  Bytes cached = page;
  BinaryWriter w;
  w.u64(ref.bid);
  cached.insert(cached.end(), w.data().begin(), w.data().end());
  page_cache_[cache_key] = std::move(cached);
  return true;
}

// Walks the B-tree at `ref`. With `find`, descends only towards `key` and calls `leaf` with the
// matching leaf entries' bytes; otherwise visits every leaf entry. `leaf` returns false to stop;
// walk_bt returns false when stopped.
bool Ndb::walk_bt(const Bref& ref, uint8_t expect_type, int expect_level, uint64_t key, bool find, int depth,
                  const std::function<bool(ByteView)>& leaf) {
  if (depth > kMaxBtDepth) {
    problem("B-tree deeper than " + std::to_string(kMaxBtDepth) + " levels");
    return true;
  }
  Bytes page;
  size_t level = 0, count = 0, esize = 0;
  if (!read_page(ref, expect_type, page, level, count, esize)) return true;
  if (expect_level >= 0 && level != size_t(expect_level)) {
    // Levels must decrease by one per step: this also rules out cycles.
    problem("B-tree page at " + hex(ref.ib) + ": cLevel " + std::to_string(level) + ", expected " +
            std::to_string(expect_level));
    return true;
  }
  const size_t ksize = unicode() ? 8 : 4;
  auto key_at = [&](size_t i) {
    BinaryReader r(ByteView(page).subspan(i * esize, esize));
    return unicode() ? r.u64() : r.u32();
  };
  if (level > 0) {
    const size_t need = ksize * 3;
    if (esize < need) {
      problem("B-tree page at " + hex(ref.ib) + ": entries too small");
      return true;
    }
    for (size_t i = 0; i < count; ++i) {
      if (find) {
        if (key_at(i) > key) break;
        if (i + 1 < count && key_at(i + 1) <= key) continue;
      }
      BinaryReader r(ByteView(page).subspan(i * esize + ksize, 2 * ksize));
      Bref child;
      child.bid = unicode() ? r.u64() : r.u32();
      child.ib = unicode() ? r.u64() : r.u32();
      if (!walk_bt(child, expect_type, int(level) - 1, key, find, depth + 1, leaf)) return false;
      if (find) break;
    }
    return true;
  }
  for (size_t i = 0; i < count; ++i) {
    if (find && key_at(i) != key) continue;
    if (!leaf(ByteView(page).subspan(i * esize, esize))) return false;
  }
  return true;
}

namespace {
std::optional<NodeEntry> parse_node_entry(ByteView e, bool unicode) {
  BinaryReader r(e);
  NodeEntry n;
  try {
    if (unicode) {
      n.nid = uint32_t(r.u64());
      n.bid_data = r.u64();
      n.bid_sub = r.u64();
      n.nid_parent = r.u32();
    } else {
      n.nid = r.u32();
      n.bid_data = r.u32();
      n.bid_sub = r.u32();
      n.nid_parent = r.u32();
    }
  } catch (const MapiError&) {
    return std::nullopt;
  }
  return n;
}
}  // namespace

std::optional<NodeEntry> Ndb::find_node(uint32_t nid) {
  std::optional<NodeEntry> out;
  walk_bt(header_.nbt, kPtypeNBT, -1, nid, true, 0, [&](ByteView e) {
    out = parse_node_entry(e, unicode());
    return false;
  });
  return out;
}

void Ndb::for_each_node(const std::function<bool(const NodeEntry&)>& fn) {
  walk_bt(header_.nbt, kPtypeNBT, -1, 0, false, 0, [&](ByteView e) {
    auto n = parse_node_entry(e, unicode());
    return n ? fn(*n) : true;
  });
}

std::optional<BlockEntry> Ndb::find_block(uint64_t bid) {
  std::optional<BlockEntry> out;
  auto parse = [&](ByteView e) {
    BinaryReader r(e);
    try {
      BlockEntry b;
      b.bref.bid = unicode() ? r.u64() : r.u32();
      b.bref.ib = unicode() ? r.u64() : r.u32();
      b.cb = r.u16();
      if (four_k()) b.inflated = r.u16();
      b.refs = r.u16();
      out = b;
    } catch (const MapiError&) {
    }
    return false;
  };
  walk_bt(header_.bbt, kPtypeBBT, -1, bid & kBidMask, true, 0, parse);
  // BBT keys may carry the reserved low bit; retry with it set.
  if (!out) walk_bt(header_.bbt, kPtypeBBT, -1, bid | 1, true, 0, parse);
  return out;
}

// MS-PST 2.2.2.8 blocks: payload, padding to a multiple of 64 bytes, BLOCKTRAILER. In the 4K
// layout: padding to a multiple of 512 bytes and a 24-byte trailer (cb, wSig, dwCRC, bid, then a
// 16-bit word, the inflated size and 4 zero bytes); cb and the CRC are those of the stored bytes,
// which are zlib data when the inflated size differs from cb.
std::optional<Bytes> Ndb::read_block(uint64_t bid) {
  auto entry = find_block(bid);
  if (!entry) {
    problem("block " + hex(bid) + ": not in the BBT");
    return std::nullopt;
  }
  const size_t trailer = four_k() ? 24 : unicode() ? 16 : 12;
  const size_t align = four_k() ? 512 : 64;
  const size_t limit = four_k() ? 65536 : 8192;
  const size_t total = (size_t(entry->cb) + trailer + align - 1) / align * align;
  std::string where = "block " + hex(bid) + " at " + hex(entry->bref.ib);
  if (total > limit) {
    problem(where + ": larger than " + std::to_string(limit) + " bytes");
    return std::nullopt;
  }
  Bytes raw(total);
  if (!src_->read(entry->bref.ib, raw)) {
    problem(where + ": past the end of the file");
    return std::nullopt;
  }
  BinaryReader t(ByteView(raw).subspan(total - trailer));
  uint16_t cb = t.u16();
  uint16_t sig = t.u16();
  uint32_t crc = 0;
  uint64_t tbid = 0;
  uint16_t inflated = cb;
  if (unicode()) {
    crc = t.u32();
    tbid = t.u64();
    if (four_k()) {
      t.u16();
      inflated = t.u16();
    }
  } else {
    tbid = t.u32();
    crc = t.u32();
  }
  if (cb != entry->cb || (tbid & kBidMask) != (entry->bref.bid & kBidMask)) {
    problem(where + ": trailer does not match the BBT entry");
    return std::nullopt;
  }
  if (sig != compute_sig(entry->bref.ib, tbid)) {
    problem(where + ": bad wSig");
    return std::nullopt;
  }
  if (crc != crc32(ByteView(raw).first(cb))) {
    problem(where + ": CRC mismatch");
    return std::nullopt;
  }
  raw.resize(cb);
  if (four_k() && inflated == 0) inflated = entry->inflated;  // the trailer's, else the BBT entry's
  if (four_k() && inflated != 0 && inflated != cb) {
    Bytes out(inflated);
    uLongf out_size = inflated;
    if (::uncompress(out.data(), &out_size, raw.data(), uLong(raw.size())) != Z_OK || out_size != inflated) {
      problem(where + ": compressed data does not inflate to " + std::to_string(inflated) + " bytes");
      return std::nullopt;
    }
    raw = std::move(out);
  }
  const bool internal = (bid & 2) != 0;
  if (!internal) {
    if (header_.crypt_method == uint8_t(CryptMethod::Permute)) decode_permute(raw);
    else if (header_.crypt_method == uint8_t(CryptMethod::Cyclic)) decode_cyclic(raw, uint32_t(tbid));
  }
  return raw;
}

// MS-PST 2.2.2.8.3.2 XBLOCK / XXBLOCK
void Ndb::data_tree(uint64_t bid, int depth, std::vector<uint64_t>& seen, std::vector<Bytes>& out,
                    uint64_t& total) {
  if (std::find(seen.begin(), seen.end(), bid & kBidMask) != seen.end()) {
    problem("data tree: block " + hex(bid) + " referenced twice (cycle)");
    return;
  }
  seen.push_back(bid & kBidMask);
  auto block = read_block(bid);
  if (!block) return;
  if ((bid & 2) == 0) {
    total += block->size();
    out.push_back(std::move(*block));
    return;
  }
  try {
    BinaryReader r(*block);
    uint8_t btype = r.u8(), level = r.u8();
    uint16_t count = r.u16();
    r.u32();  // lcbTotal
    if (btype != 0x01 || level < 1 || level > 2 || depth + level > 2) {
      problem("data tree: block " + hex(bid) + " is not an XBLOCK/XXBLOCK at this depth");
      return;
    }
    r.need_elements(count, unicode() ? 8 : 4);
    for (uint16_t i = 0; i < count; ++i) {
      uint64_t child = unicode() ? r.u64() : r.u32();
      if (level == 2 && (child & 2) == 0) {
        problem("data tree: XXBLOCK " + hex(bid) + " points at a data block");
        continue;
      }
      if (level == 1 && (child & 2) != 0) {
        problem("data tree: XBLOCK " + hex(bid) + " points at an internal block");
        continue;
      }
      data_tree(child, depth + 1, seen, out, total);
    }
  } catch (const MapiError& e) {
    problem("data tree: block " + hex(bid) + ": " + e.what());
  }
}

std::vector<Bytes> Ndb::read_data_blocks(uint64_t bid) {
  std::vector<Bytes> out;
  if (bid == 0) return out;
  std::vector<uint64_t> seen;
  uint64_t total = 0;
  data_tree(bid, 0, seen, out, total);
  return out;
}

Bytes Ndb::read_data(uint64_t bid) {
  Bytes all;
  for (auto& b : read_data_blocks(bid)) all.insert(all.end(), b.begin(), b.end());
  return all;
}

// MS-PST 2.2.2.8.3.3 SLBLOCK / SIBLOCK
void Ndb::subnode_tree(uint64_t bid, int depth, std::vector<uint64_t>& seen, SubnodeMap& out) {
  if (std::find(seen.begin(), seen.end(), bid & kBidMask) != seen.end()) {
    problem("subnode tree: block " + hex(bid) + " referenced twice (cycle)");
    return;
  }
  seen.push_back(bid & kBidMask);
  auto block = read_block(bid);
  if (!block) return;
  try {
    BinaryReader r(*block);
    uint8_t btype = r.u8(), level = r.u8();
    uint16_t count = r.u16();
    if (unicode()) r.u32();  // dwPadding
    if (btype != 0x02 || level > 1 || (depth > 0 && level != 0)) {
      problem("subnode tree: block " + hex(bid) + " is not an SLBLOCK/SIBLOCK at this depth");
      return;
    }
    const size_t w = unicode() ? 8 : 4;
    r.need_elements(count, level == 0 ? 3 * w : 2 * w);
    for (uint16_t i = 0; i < count; ++i) {
      if (level == 0) {
        SubnodeEntry s;
        s.nid = uint32_t(unicode() ? r.u64() : r.u32());
        s.bid_data = unicode() ? r.u64() : r.u32();
        s.bid_sub = unicode() ? r.u64() : r.u32();
        out[s.nid] = s;
      } else {
        r.skip(w);  // nid
        uint64_t child = unicode() ? r.u64() : r.u32();
        subnode_tree(child, depth + 1, seen, out);
      }
    }
  } catch (const MapiError& e) {
    problem("subnode tree: block " + hex(bid) + ": " + e.what());
  }
}

SubnodeMap Ndb::read_subnodes(uint64_t bid) {
  SubnodeMap out;
  if (bid == 0) return out;
  std::vector<uint64_t> seen;
  subnode_tree(bid, 0, seen, out);
  return out;
}

}  // namespace openmapi::pst
