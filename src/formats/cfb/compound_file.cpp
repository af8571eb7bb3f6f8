// MS-CFB reader and writer. Section numbers refer to [MS-CFB].
#include "formats/cfb/compound_file.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

#include "core/error.h"
#include "core/unicode.h"

namespace openmapi::cfb {
namespace {

constexpr std::array<uint8_t, 8> kSignature = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
constexpr uint32_t kHeaderDifatEntries = 109;
constexpr size_t kDirEntrySize = 128;
constexpr int kMaxDepth = 256;

[[noreturn]] void corrupt(const std::string& what) { throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "compound file: " + what); }

// Simple upper-casing of one UTF-16 code unit for name comparison (MS-CFB 2.6.4 asks for the
// Unicode default case conversion; this covers ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic).
char16_t upper16(char16_t c) {
  if (c >= u'a' && c <= u'z') return char16_t(c - 0x20);
  if (c < 0x80) return c;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return char16_t(c - 0x20);
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149) {
    bool odd_lower = !(c >= 0x139 && c <= 0x148) && !(c >= 0x179 && c <= 0x17E);
    if (odd_lower ? (c & 1) : !(c & 1)) return char16_t(c - 1);
    return c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return char16_t(c - 0x20);
  if (c >= 0x430 && c <= 0x44F) return char16_t(c - 0x20);
  if (c >= 0x450 && c <= 0x45F) return char16_t(c - 0x50);
  return c;
}

int compare_u16(std::u16string_view a, std::u16string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    char16_t x = upper16(a[i]), y = upper16(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

uint64_t div_ceil(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

}  // namespace

int compare_names(std::string_view a, std::string_view b) { return compare_u16(utf8_to_utf16(a), utf8_to_utf16(b)); }

// ---------------------------------------------------------------------------------------------
// Reading

CompoundFile CompoundFile::parse(ByteView data) {
  CompoundFile f;
  if (data.size() < 512) corrupt("shorter than its 512-byte header");
  BinaryReader r(data.first(512));
  // 2.2 Compound File Header
  auto sig = r.bytes(8);
  if (!std::equal(sig.begin(), sig.end(), kSignature.begin())) corrupt("bad header signature");
  r.skip(16);  // Header CLSID
  r.u16();     // Minor Version
  f.major_version_ = r.u16();
  if (r.u16() != 0xFFFE) corrupt("bad byte order mark");
  uint16_t sector_shift = r.u16();
  if (f.major_version_ == 3) {
    if (sector_shift != 9) corrupt("version 3 needs 512-byte sectors");
  } else if (f.major_version_ == 4) {
    if (sector_shift != 12) corrupt("version 4 needs 4096-byte sectors");
  } else {
    corrupt("unsupported major version " + std::to_string(f.major_version_));
  }
  f.sector_size_ = 1u << sector_shift;
  if (r.u16() != 6) corrupt("mini sector size must be 64");
  r.skip(6);  // Reserved
  r.u32();    // Number of Directory Sectors (0 for version 3; not needed to read)
  uint32_t num_fat = r.u32();
  uint32_t first_dir = r.u32();
  r.u32();  // Transaction Signature Number
  f.mini_cutoff_ = r.u32();
  if (f.mini_cutoff_ != kMiniStreamCutoff) corrupt("mini stream cutoff must be 4096");
  uint32_t first_minifat = r.u32();
  uint32_t num_minifat = r.u32();
  uint32_t first_difat = r.u32();
  uint32_t num_difat = r.u32();

  const uint32_t ssz = f.sector_size_;
  if (data.size() < ssz) corrupt("shorter than its header sector");
  // Sectors present in the file; a short last sector counts (its bytes are checked on use).
  const uint64_t n_sectors = div_ceil(data.size() - ssz, ssz);
  if (num_fat > n_sectors) corrupt("more FAT sectors than the file holds");
  if (num_difat > n_sectors) corrupt("more DIFAT sectors than the file holds");

  f.data_.assign(data.begin(), data.end());
  auto sector_bytes = [&](uint32_t sid) -> ByteView {
    if (sid >= n_sectors) corrupt("sector " + std::to_string(sid) + " is past the end of the file");
    uint64_t off = uint64_t(sid + 1) * ssz;
    if (off + ssz > f.data_.size()) corrupt("sector " + std::to_string(sid) + " is truncated");
    return ByteView(f.data_).subspan(off, ssz);
  };

  // 2.5 DIFAT: the locations of the FAT sectors.
  std::vector<uint32_t> fat_sectors;
  fat_sectors.reserve(num_fat);
  for (uint32_t i = 0; i < kHeaderDifatEntries; ++i) {
    uint32_t sid = r.u32();
    if (fat_sectors.size() < num_fat) fat_sectors.push_back(sid);
  }
  {
    std::vector<bool> seen(n_sectors, false);
    uint32_t sid = first_difat;
    uint32_t count = 0;
    while (fat_sectors.size() < num_fat) {
      if (sid == kEndOfChain || sid == kFreeSect) corrupt("DIFAT ends before all FAT sectors are listed");
      if (sid >= n_sectors || seen[sid]) corrupt("DIFAT chain loops or leaves the file");
      seen[sid] = true;
      if (++count > num_difat) corrupt("DIFAT chain longer than its sector count");
      BinaryReader dr(sector_bytes(sid));
      for (uint32_t i = 0; i < ssz / 4 - 1; ++i) {
        uint32_t e = dr.u32();
        if (fat_sectors.size() < num_fat) fat_sectors.push_back(e);
      }
      sid = dr.u32();
    }
  }

  // 2.3 FAT
  f.fat_.reserve(size_t(num_fat) * (ssz / 4));
  for (uint32_t sid : fat_sectors) {
    BinaryReader fr(sector_bytes(sid));
    for (uint32_t i = 0; i < ssz / 4; ++i) f.fat_.push_back(fr.u32());
  }
  if (f.fat_.size() > n_sectors) f.fat_.resize(n_sectors);  // entries past the file point nowhere

  // 2.6 Directory
  std::vector<uint32_t> dir_chain = f.chain(f.fat_, first_dir, n_sectors, "directory");
  if (dir_chain.empty()) corrupt("no directory sectors");
  Bytes dir;
  dir.reserve(dir_chain.size() * ssz);
  for (uint32_t sid : dir_chain) {
    auto b = sector_bytes(sid);
    dir.insert(dir.end(), b.begin(), b.end());
  }
  const size_t n_entries = dir.size() / kDirEntrySize;
  struct Raw {
    DirEntry e;
    uint32_t left, right, child;
    uint16_t name_len;
    std::array<uint8_t, 64> name;
  };
  auto decode_name = [](Raw& x, size_t i) {
    if (x.name_len > 64 || x.name_len % 2 != 0) corrupt("directory entry " + std::to_string(i) + " has a bad name length");
    std::u16string name;
    for (size_t k = 0; k + 1 < x.name_len; k += 2) name.push_back(char16_t(x.name[k] | (x.name[k + 1] << 8)));
    while (!name.empty() && name.back() == 0) name.pop_back();
    x.e.name = utf16_to_utf8(name);
  };
  std::vector<Raw> raw(n_entries);
  BinaryReader d(dir);
  for (size_t i = 0; i < n_entries; ++i) {
    Raw& x = raw[i];
    auto name_bytes = d.bytes(64);
    uint16_t name_len = d.u16();
    x.e.type = ObjectType(d.u8());
    d.u8();  // Color Flag
    x.left = d.u32();
    x.right = d.u32();
    x.child = d.u32();
    auto clsid = d.bytes(16);
    std::copy(clsid.begin(), clsid.end(), x.e.clsid.bytes.begin());
    x.e.state_bits = d.u32();
    x.e.creation_time = d.u64();
    x.e.modified_time = d.u64();
    x.e.start_sector = d.u32();
    x.e.size = d.u64();
    if (f.major_version_ == 3) x.e.size &= 0xFFFFFFFFu;  // 2.6.3: high bits may be garbage in version 3
    // Names and types are checked only for entries reachable from the root: unused entries
    // may hold anything.
    x.name_len = name_len;
    std::copy(name_bytes.begin(), name_bytes.end(), x.name.begin());
  }
  if (n_entries == 0 || raw[0].e.type != ObjectType::Root) corrupt("first directory entry is not the root");
  decode_name(raw[0], 0);

  // Walk the tree from the root: each storage's children form a red-black tree linked by
  // left/right sibling ids (2.6.4). Every entry may be reached once; anything else is a cycle.
  std::vector<bool> reached(n_entries, false);
  reached[0] = true;
  std::vector<std::pair<uint32_t, int>> storages = {{0, 0}};
  while (!storages.empty()) {
    auto [s, depth] = storages.back();
    storages.pop_back();
    if (depth > kMaxDepth) corrupt("storages nested too deeply");
    std::vector<uint32_t> stack;
    // A link to an unallocated entry is read as no link (as libolecf does: damaged files
    // such as the corpus's unknown_properties.msg have them); its target is never followed.
    auto link = [&](uint32_t id) {
      return id < n_entries && raw[id].e.type == ObjectType::Unallocated ? kNoStream : id;
    };
    auto visit = [&](uint32_t id) {
      if (id >= n_entries) corrupt("directory link " + std::to_string(id) + " out of range");
      if (reached[id]) corrupt("directory tree has a cycle at entry " + std::to_string(id));
      auto t = raw[id].e.type;
      if (t != ObjectType::Storage && t != ObjectType::Stream)
        corrupt("directory link to entry " + std::to_string(id) + ", which is not a storage or stream");
      reached[id] = true;
      decode_name(raw[id], id);
    };
    // In-order traversal (left, node, right) without recursion.
    uint32_t node = link(raw[s].child);
    if (node != kNoStream) visit(node);
    while (node != kNoStream || !stack.empty()) {
      while (node != kNoStream) {
        stack.push_back(node);
        node = link(raw[node].left);
        if (node != kNoStream) visit(node);
      }
      node = stack.back();
      stack.pop_back();
      raw[s].e.children.push_back(node);
      if (raw[node].e.type == ObjectType::Storage) storages.push_back({node, depth + 1});
      node = link(raw[node].right);
      if (node != kNoStream) visit(node);
    }
  }
  f.entries_.resize(n_entries);
  for (size_t i = 0; i < n_entries; ++i)
    if (reached[i]) f.entries_[i] = std::move(raw[i].e);

  // 2.4 Mini FAT and the mini stream (the root entry's stream).
  if (num_minifat > n_sectors) corrupt("more mini FAT sectors than the file holds");
  if (num_minifat > 0 || (first_minifat != kEndOfChain && first_minifat != kFreeSect)) {
    auto mchain = f.chain(f.fat_, first_minifat, n_sectors, "mini FAT");
    f.minifat_.reserve(mchain.size() * (ssz / 4));
    for (uint32_t sid : mchain) {
      BinaryReader mr(sector_bytes(sid));
      for (uint32_t i = 0; i < ssz / 4; ++i) f.minifat_.push_back(mr.u32());
    }
  }
  const DirEntry& root = f.entries_[0];
  if (root.size > 0) f.mini_stream_ = f.read_chain(root.start_sector, root.size, false);
  // Mini sectors beyond the mini stream are unusable.
  uint64_t mini_sectors = div_ceil(f.mini_stream_.size(), f.mini_sector_size_);
  if (f.minifat_.size() > mini_sectors) f.minifat_.resize(mini_sectors);
  return f;
}

std::vector<uint32_t> CompoundFile::chain(const std::vector<uint32_t>& fat, uint32_t start, uint64_t max_len,
                                          const char* what) const {
  std::vector<uint32_t> out;
  std::vector<bool> seen(fat.size(), false);
  uint32_t sid = start;
  while (sid != kEndOfChain) {
    if (sid >= fat.size()) corrupt(std::string(what) + " chain leaves the allocation table at " + std::to_string(sid));
    if (seen[sid]) corrupt(std::string(what) + " chain loops at sector " + std::to_string(sid));
    if (out.size() >= max_len) corrupt(std::string(what) + " chain is longer than it can be");
    seen[sid] = true;
    out.push_back(sid);
    sid = fat[sid];
  }
  return out;
}

Bytes CompoundFile::read_chain(uint32_t start, uint64_t size, bool mini) const {
  if (size == 0) return {};
  const auto& table = mini ? minifat_ : fat_;
  const uint32_t unit = mini ? mini_sector_size_ : sector_size_;
  const uint64_t needed = div_ceil(size, unit);
  if (needed > table.size()) corrupt("stream of " + std::to_string(size) + " bytes is larger than the file");
  Bytes out;
  out.reserve(size);
  std::vector<bool> seen(table.size(), false);
  uint32_t sid = start;
  for (uint64_t i = 0; i < needed; ++i) {
    if (sid >= table.size()) corrupt("stream chain ends before the stream's size");
    if (seen[sid]) corrupt("stream chain loops at sector " + std::to_string(sid));
    seen[sid] = true;
    uint64_t n = std::min<uint64_t>(unit, size - out.size());
    if (mini) {
      uint64_t off = uint64_t(sid) * unit;
      if (off + n > mini_stream_.size()) corrupt("mini stream sector past the mini stream");
      out.insert(out.end(), mini_stream_.begin() + off, mini_stream_.begin() + off + n);
    } else {
      uint64_t off = uint64_t(sid + 1) * unit;
      if (off + n > data_.size()) corrupt("stream sector past the end of the file");
      out.insert(out.end(), data_.begin() + off, data_.begin() + off + n);
    }
    sid = table[sid];
  }
  return out;
}

const DirEntry& CompoundFile::entry(uint32_t index) const {
  if (index >= entries_.size() || entries_[index].type == ObjectType::Unallocated)
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "compound file: no directory entry " + std::to_string(index));
  return entries_[index];
}

std::optional<uint32_t> CompoundFile::find_child(uint32_t parent, std::string_view name) const {
  const DirEntry& p = entry(parent);
  std::u16string want = utf8_to_utf16(name);
  for (uint32_t c : p.children)
    if (compare_u16(utf8_to_utf16(entries_[c].name), want) == 0) return c;
  return std::nullopt;
}

std::optional<uint32_t> CompoundFile::find(std::string_view path) const {
  uint32_t cur = kRoot;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty()) continue;
    auto next = find_child(cur, part);
    if (!next) return std::nullopt;
    cur = *next;
  }
  return cur;
}

Bytes CompoundFile::read_stream(uint32_t index) const {
  const DirEntry& e = entry(index);
  if (e.type != ObjectType::Stream)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "compound file: '" + e.name + "' is not a stream");
  return read_chain(e.start_sector, e.size, e.size < mini_cutoff_);
}

std::vector<CompoundFile::Item> CompoundFile::list() const {
  std::vector<Item> out;
  std::function<void(uint32_t, const std::string&)> walk = [&](uint32_t s, const std::string& prefix) {
    for (uint32_t c : entries_[s].children) {
      const DirEntry& e = entries_[c];
      std::string path = prefix.empty() ? e.name : prefix + "/" + e.name;
      out.push_back({path, e.type, e.type == ObjectType::Stream ? e.size : 0, c});
      if (e.type == ObjectType::Storage) walk(c, path);
    }
  };
  walk(kRoot, "");  // depth is bounded by parse()
  return out;
}

const Storage* Storage::find_storage(std::string_view name) const {
  auto it = storages.find(std::string(name));
  if (it != storages.end()) return &it->second;
  for (auto& [k, v] : storages)
    if (compare_names(k, name) == 0) return &v;
  return nullptr;
}

const Bytes* Storage::find_stream(std::string_view name) const {
  auto it = streams.find(std::string(name));
  if (it != streams.end()) return &it->second;
  for (auto& [k, v] : streams)
    if (compare_names(k, name) == 0) return &v;
  return nullptr;
}

namespace {

// `budget`: bytes the streams may still hold. Streams of a valid file occupy distinct sectors, so
// together they never exceed the file's size; directory entries sharing sectors could otherwise
// make a small file expand quadratically.
Storage to_tree_within(const CompoundFile& file, uint32_t storage_index, uint64_t& budget) {
  Storage out;
  const DirEntry& s = file.entry(storage_index);
  out.clsid = s.clsid;
  for (uint32_t c : s.children) {
    const DirEntry& e = file.entry(c);
    if (e.type == ObjectType::Storage) {
      out.storages[e.name] = to_tree_within(file, c, budget);
    } else {
      if (e.size > file.file_size())
        corrupt("stream '" + e.name + "' of " + std::to_string(e.size) + " bytes is larger than the file");
      if (e.size > budget) corrupt("streams together are larger than the file (shared sectors)");
      budget -= e.size;
      out.streams[e.name] = file.read_stream(c);
    }
  }
  return out;
}

}  // namespace

Storage to_tree(const CompoundFile& file, uint32_t storage_index) {
  uint64_t budget = file.file_size();
  return to_tree_within(file, storage_index, budget);
}

Storage load_tree(ByteView data) { return to_tree(CompoundFile::parse(data)); }

// ---------------------------------------------------------------------------------------------
// Writing (version 3)

namespace {

struct WEntry {
  std::u16string name;
  ObjectType type = ObjectType::Unallocated;
  Guid clsid;
  uint32_t left = kNoStream, right = kNoStream, child = kNoStream;
  bool red = false;
  uint32_t start = kEndOfChain;
  uint64_t size = 0;
  const Bytes* data = nullptr;
};

void check_name(const std::u16string& n, const std::string& utf8) {
  if (n.empty() || n.size() > 31)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "compound file: bad name length for '" + utf8 + "'");
  for (char16_t c : n)
    if (c == u'/' || c == u'\\' || c == u':' || c == u'!' || c == 0)
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "compound file: illegal character in name '" + utf8 + "'");
}

// A balanced binary search tree over sorted[lo, hi): the middle element is the root. All levels
// but the last are full, so colouring the nodes of an incomplete last level red and all others
// black gives a valid red-black tree (equal black height, no red node with a red child).
uint32_t build_tree(std::vector<WEntry>& es, const std::vector<uint32_t>& sorted, size_t lo, size_t hi, int depth,
                    int red_depth) {
  if (lo >= hi) return kNoStream;
  size_t mid = lo + (hi - lo) / 2;
  uint32_t id = sorted[mid];
  es[id].left = build_tree(es, sorted, lo, mid, depth + 1, red_depth);
  es[id].right = build_tree(es, sorted, mid + 1, hi, depth + 1, red_depth);
  es[id].red = depth == red_depth;
  return id;
}

void add_children(std::vector<WEntry>& es, uint32_t idx, const Storage& s) {
  struct Child {
    std::u16string name;
    const Storage* storage;
    const Bytes* stream;
  };
  std::vector<Child> kids;
  for (auto& [name, st] : s.storages) kids.push_back({utf8_to_utf16(name), &st, nullptr});
  for (auto& [name, data] : s.streams) kids.push_back({utf8_to_utf16(name), nullptr, &data});
  std::sort(kids.begin(), kids.end(), [](const Child& a, const Child& b) { return compare_u16(a.name, b.name) < 0; });
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < kids.size(); ++i) {
    const std::string utf8 = utf16_to_utf8(kids[i].name);
    check_name(kids[i].name, utf8);
    if (i > 0 && compare_u16(kids[i - 1].name, kids[i].name) == 0)
      throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "compound file: duplicate name '" + utf8 + "'");
    WEntry e;
    e.name = kids[i].name;
    if (kids[i].storage) {
      e.type = ObjectType::Storage;
      e.clsid = kids[i].storage->clsid;
      e.start = 0;
    } else {
      e.type = ObjectType::Stream;
      e.data = kids[i].stream;
      e.size = kids[i].stream->size();
    }
    ids.push_back(uint32_t(es.size()));
    es.push_back(std::move(e));
  }
  // Full levels of a tree of n nodes built by middle split: floor(log2(n + 1)).
  int full = 0;
  while ((size_t(1) << (full + 1)) - 1 <= kids.size()) ++full;
  int red_depth = ((size_t(1) << full) - 1 == kids.size()) ? -1 : full;
  es[idx].child = build_tree(es, ids, 0, ids.size(), 0, red_depth);
  for (size_t i = 0; i < kids.size(); ++i)
    if (kids[i].storage) add_children(es, ids[i], *kids[i].storage);
}

}  // namespace

Bytes write_compound_file(const Storage& root) {
  constexpr uint32_t ssz = 512, msz = 64;
  std::vector<WEntry> es;
  WEntry r;
  r.name = u"Root Entry";
  r.type = ObjectType::Root;
  r.clsid = root.clsid;
  es.push_back(r);
  add_children(es, 0, root);

  // Mini stream: every stream under the cutoff, in 64-byte mini sectors (2.4).
  Bytes mini;
  std::vector<uint32_t> minifat;
  uint64_t big_sectors = 0;
  for (auto& e : es) {
    if (e.type != ObjectType::Stream || e.size == 0) continue;
    if (e.size < kMiniStreamCutoff) {
      uint32_t first = uint32_t(minifat.size());
      uint32_t n = uint32_t(div_ceil(e.size, msz));
      for (uint32_t i = 0; i < n; ++i) minifat.push_back(i + 1 < n ? first + i + 1 : kEndOfChain);
      e.start = first;
      mini.insert(mini.end(), e.data->begin(), e.data->end());
      mini.resize(size_t(minifat.size()) * msz, 0);
    } else {
      big_sectors += div_ceil(e.size, ssz);
    }
  }
  const uint64_t dir_sectors = div_ceil(es.size(), ssz / kDirEntrySize);
  const uint64_t minifat_sectors = div_ceil(minifat.size(), ssz / 4);
  const uint64_t mini_sectors = div_ceil(mini.size(), ssz);
  const uint64_t base = dir_sectors + minifat_sectors + mini_sectors + big_sectors;
  uint64_t n_fat = div_ceil(base, ssz / 4), n_difat = 0;
  for (;;) {
    n_difat = n_fat > kHeaderDifatEntries ? div_ceil(n_fat - kHeaderDifatEntries, ssz / 4 - 1) : 0;
    if (n_fat * (ssz / 4) >= base + n_fat + n_difat) break;
    ++n_fat;
  }
  const uint64_t total = base + n_fat + n_difat;
  if (total >= kMaxRegSect) throw_error(ErrorCode::MAPI_E_TOO_BIG, "compound file: too large for version 3");

  std::vector<uint32_t> fat(n_fat * (ssz / 4), kFreeSect);
  uint32_t next = 0;
  auto alloc_chain = [&](uint64_t n) -> uint32_t {
    if (n == 0) return kEndOfChain;
    uint32_t first = next;
    for (uint64_t i = 0; i < n; ++i, ++next) fat[next] = i + 1 < n ? next + 1 : kEndOfChain;
    return first;
  };
  for (uint64_t i = 0; i < n_fat; ++i) fat[next++] = kFatSect;
  const uint32_t first_difat = n_difat ? next : kEndOfChain;
  for (uint64_t i = 0; i < n_difat; ++i) fat[next++] = kDifSect;
  const uint32_t first_dir = alloc_chain(dir_sectors);
  const uint32_t first_minifat = alloc_chain(minifat_sectors);
  es[0].start = alloc_chain(mini_sectors);
  es[0].size = mini.size();
  for (auto& e : es)
    if (e.type == ObjectType::Stream && e.size >= kMiniStreamCutoff) e.start = alloc_chain(div_ceil(e.size, ssz));

  BinaryWriter w;
  // 2.2 header
  w.bytes(kSignature);
  w.bytes(std::array<uint8_t, 16>{});
  w.u16(0x003E);
  w.u16(3);
  w.u16(0xFFFE);
  w.u16(9);
  w.u16(6);
  w.bytes(std::array<uint8_t, 6>{});
  w.u32(0);  // directory sectors: 0 in version 3
  w.u32(uint32_t(n_fat));
  w.u32(first_dir);
  w.u32(0);
  w.u32(kMiniStreamCutoff);
  w.u32(minifat_sectors ? first_minifat : kEndOfChain);
  w.u32(uint32_t(minifat_sectors));
  w.u32(first_difat);
  w.u32(uint32_t(n_difat));
  for (uint32_t i = 0; i < kHeaderDifatEntries; ++i) w.u32(i < n_fat ? i : kFreeSect);
  // FAT sectors
  for (uint32_t v : fat) w.u32(v);
  // DIFAT sectors: FAT sector ids past the 109 in the header, 127 per sector plus a next link.
  for (uint64_t k = 0; k < n_difat; ++k) {
    for (uint32_t i = 0; i < ssz / 4 - 1; ++i) {
      uint64_t fat_index = kHeaderDifatEntries + k * (ssz / 4 - 1) + i;
      w.u32(fat_index < n_fat ? uint32_t(fat_index) : kFreeSect);
    }
    w.u32(k + 1 < n_difat ? uint32_t(first_difat + k + 1) : kEndOfChain);
  }
  // Directory (2.6.1)
  for (uint64_t i = 0; i < dir_sectors * (ssz / kDirEntrySize); ++i) {
    WEntry e = i < es.size() ? es[i] : WEntry{};
    std::array<uint8_t, 64> name{};
    for (size_t k = 0; k < e.name.size(); ++k) {
      name[2 * k] = uint8_t(e.name[k]);
      name[2 * k + 1] = uint8_t(e.name[k] >> 8);
    }
    w.bytes(name);
    w.u16(e.type == ObjectType::Unallocated ? 0 : uint16_t((e.name.size() + 1) * 2));
    w.u8(uint8_t(e.type));
    w.u8(e.type == ObjectType::Unallocated ? 0 : (e.red ? 0 : 1));
    w.u32(e.left);
    w.u32(e.right);
    w.u32(e.child);
    w.bytes(e.clsid.bytes);
    w.u32(0);
    w.u64(0);
    w.u64(0);
    w.u32(e.type == ObjectType::Unallocated ? 0 : (e.type == ObjectType::Storage ? 0 : e.start));
    w.u64(e.size);
  }
  // Mini FAT
  for (uint64_t i = 0; i < minifat_sectors * (ssz / 4); ++i) w.u32(i < minifat.size() ? minifat[i] : kFreeSect);
  // Mini stream
  w.bytes(mini);
  while (w.size() % ssz) w.u8(0);
  // Large streams
  for (auto& e : es) {
    if (e.type != ObjectType::Stream || e.size < kMiniStreamCutoff) continue;
    w.bytes(*e.data);
    while (w.size() % ssz) w.u8(0);
  }
  if (w.size() != (total + 1) * ssz) throw_error(ErrorCode::MAPI_E_CALL_FAILED, "compound file: layout size mismatch");
  return w.take();
}

}  // namespace openmapi::cfb
