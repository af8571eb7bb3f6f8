// PST/OST node database layer (MS-PST 2.2): the header, the node and block B-trees, data blocks
// (with their NDB_CRYPT_PERMUTE / NDB_CRYPT_CYCLIC encodings), data trees (XBLOCK/XXBLOCK) and
// subnode trees (SLBLOCK/SIBLOCK).
//
// The file is read on demand through a ByteSource (pread on a file, or a buffer): nothing but the
// header is kept, so memory does not grow with the file. Damage found while reading (bad page
// trailers, CRC mismatches, cycles, out-of-range offsets) is added to a problem list and the
// damaged part is skipped; only an unreadable header throws (MAPI_E_CORRUPT_DATA, or
// MAPI_E_NO_SUPPORT for an unknown wVer).
//
// Three layouts are read: ANSI (wVer 14/15), Unicode (wVer 23) and the Unicode layout with 4 KiB
// pages that Outlook 2013 and later use for OST files (wVer 36). MS-PST does not describe the last
// one; what this reader assumes of it (from libpff's format notes, checked against pffexport on
// files we write) is: B-tree pages of 4096 bytes with 16-bit entry counts at 4056 and the page
// trailer at 4072; blocks aligned to 512 bytes with a 24-byte trailer that adds the inflated size,
// a block whose inflated size differs from its stored size being zlib-compressed; HIDs with a
// 14-bit index and a 13-bit block number.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"

namespace openmapi::pst {

// Something damaged or unsupported that the reader skipped.
struct Problem {
  std::string what;
};

// MS-PST 5.3: CRC-32 (polynomial 0xEDB88320, no final inversion) from `crc`.
uint32_t crc32(ByteView data, uint32_t crc = 0);

// MS-PST 5.1 / 5.2: block encodings. `decode_*` turns stored bytes into plain ones.
enum class CryptMethod : uint8_t { None = 0x00, Permute = 0x01, Cyclic = 0x02 };
void decode_permute(std::span<uint8_t> data);
void encode_permute(std::span<uint8_t> data);
// `key` is the low 32 bits of the block's BID.
void decode_cyclic(std::span<uint8_t> data, uint32_t key);
void encode_cyclic(std::span<uint8_t> data, uint32_t key);

// MS-PST 2.2.2.4 BREF
struct Bref {
  uint64_t bid = 0;
  uint64_t ib = 0;
};

// MS-PST 2.2.2.6 HEADER (with its ROOT, 2.2.2.5), for both the ANSI and the Unicode layout.
struct Header {
  bool unicode = true;
  uint32_t magic = 0;          // "!BDN"
  uint32_t crc_partial = 0;    // stored dwCRCPartial
  uint32_t crc_partial_computed = 0;
  uint32_t crc_full = 0;       // stored dwCRCFull (Unicode only)
  uint32_t crc_full_computed = 0;
  uint16_t magic_client = 0;   // "SM" (PST) or "SO" (OST)
  uint16_t ver = 0;            // 14/15 ANSI, 23 Unicode, 36 Unicode with 4 KiB pages
  uint16_t ver_client = 0;
  uint8_t platform_create = 0, platform_access = 0;
  uint32_t reserved1 = 0, reserved2 = 0;
  uint64_t bid_unused = 0, bid_next_p = 0, bid_next_b = 0;
  uint32_t unique = 0;
  // ROOT
  uint64_t file_eof = 0, amap_last = 0, amap_free = 0, pmap_free = 0;
  Bref nbt, bbt;
  uint8_t amap_valid = 0;
  uint8_t sentinel = 0;
  uint8_t crypt_method = 0;
  bool crc_partial_ok() const { return crc_partial == crc_partial_computed; }
  bool crc_full_ok() const { return !unicode || crc_full == crc_full_computed; }
  bool is_ost() const { return magic_client == 0x4F53; }
  bool four_k() const { return ver == 36; }
  // Size of a B-tree or allocation-map page: 512, or 4096 in the 4K layout.
  size_t page_size() const { return four_k() ? 4096 : 512; }
};

// Parses the header from the first bytes of the file (at least 512 bytes for ANSI, 564 for
// Unicode). Throws MAPI_E_CORRUPT_DATA for a bad magic or a short buffer and MAPI_E_NO_SUPPORT for
// an unknown version. CRC mismatches are not thrown: the
// caller sees them through crc_partial_ok()/crc_full_ok().
Header parse_header(ByteView data);

// MS-PST 2.2.2.7.1 ComputeSig
uint16_t compute_sig(uint64_t ib, uint64_t bid);

// Random access to the bytes of a file.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly out.size() bytes at `offset`; false if they are not all there.
  virtual bool read(uint64_t offset, std::span<uint8_t> out) const = 0;
  // A file opened read-only and read with pread; throws MAPI_E_NOT_FOUND if it cannot be opened.
  static std::unique_ptr<ByteSource> file(const std::string& path);
  // A buffer (copied or moved in).
  static std::unique_ptr<ByteSource> memory(Bytes data);
};

// MS-PST 2.2.2.7.7.4 NBTENTRY
struct NodeEntry {
  uint32_t nid = 0;
  uint64_t bid_data = 0;
  uint64_t bid_sub = 0;
  uint32_t nid_parent = 0;
};

// MS-PST 2.2.2.7.7.3 BBTENTRY. In the 4K layout the entry also gives the inflated size (at offset
// 18, the reference count moving to 20), as libpst reads it.
struct BlockEntry {
  Bref bref;
  uint16_t cb = 0;  // stored bytes
  uint16_t refs = 0;
  uint16_t inflated = 0;  // 4K layout only
};

// MS-PST 2.2.2.8.3.3.1 SLENTRY
struct SubnodeEntry {
  uint32_t nid = 0;
  uint64_t bid_data = 0;
  uint64_t bid_sub = 0;
};
using SubnodeMap = std::map<uint32_t, SubnodeEntry>;

// MS-PST 2.2.2.1 NID types
namespace nid_type {
inline constexpr uint8_t HID = 0x00;
inline constexpr uint8_t Internal = 0x01;
inline constexpr uint8_t NormalFolder = 0x02;
inline constexpr uint8_t SearchFolder = 0x03;
inline constexpr uint8_t NormalMessage = 0x04;
inline constexpr uint8_t Attachment = 0x05;
inline constexpr uint8_t AssocMessage = 0x08;
inline constexpr uint8_t HierarchyTable = 0x0D;
inline constexpr uint8_t ContentsTable = 0x0E;
inline constexpr uint8_t AssocContentsTable = 0x0F;
inline constexpr uint8_t AttachmentTable = 0x11;
inline constexpr uint8_t RecipientTable = 0x12;
}  // namespace nid_type
inline constexpr uint8_t type_of(uint32_t nid) { return uint8_t(nid & 0x1F); }

// The node database of one file.
class Ndb {
 public:
  // Reads and checks the header (throws as parse_header). A CRC mismatch is a problem, not an error.
  explicit Ndb(std::unique_ptr<ByteSource> source);

  const Header& header() const { return header_; }
  bool unicode() const { return header_.unicode; }
  bool four_k() const { return header_.four_k(); }

  // NBT look-up; nullopt (and perhaps a problem) when absent or unreachable.
  std::optional<NodeEntry> find_node(uint32_t nid);
  // Every node reachable in the NBT, in key order; stops early if `fn` returns false.
  void for_each_node(const std::function<bool(const NodeEntry&)>& fn);
  // BBT look-up (the low bit of `bid` is ignored).
  std::optional<BlockEntry> find_block(uint64_t bid);

  // One block's payload, checked against its trailer, inflated (4K layout) and decoded (external
  // blocks only).
  std::optional<Bytes> read_block(uint64_t bid);
  // The data blocks of a data tree rooted at `bid` (a data block or an XBLOCK/XXBLOCK), in order.
  // Missing or damaged blocks are reported and left out.
  std::vector<Bytes> read_data_blocks(uint64_t bid);
  // The same, concatenated.
  Bytes read_data(uint64_t bid);
  // The entries of a subnode tree (SLBLOCK or SIBLOCK) rooted at `bid`; empty for bid 0.
  SubnodeMap read_subnodes(uint64_t bid);

  const std::vector<Problem>& problems() const { return problems_; }
  void problem(std::string what);

 private:
  struct PageRef;
  bool read_page(const Bref& ref, uint8_t expect_type, Bytes& page, size_t& level, size_t& count,
                 size_t& entry_size);
  bool walk_bt(const Bref& ref, uint8_t expect_type, int expect_level, uint64_t key, bool find, int depth,
               const std::function<bool(ByteView)>& leaf);
  void data_tree(uint64_t bid, int depth, std::vector<uint64_t>& seen, std::vector<Bytes>& out, uint64_t& total);
  void subnode_tree(uint64_t bid, int depth, std::vector<uint64_t>& seen, SubnodeMap& out);

  std::unique_ptr<ByteSource> src_;
  // B-tree pages already read and checked, by file offset and page type: every look-up walks
  // from the root, so the upper levels are read again and again. Bounded (cleared when full),
  // so memory stays flat whatever the file's size.
  std::unordered_map<uint64_t, Bytes> page_cache_;
  static constexpr size_t kPageCacheBytes = size_t(1) << 20;
  Header header_;
  std::vector<Problem> problems_;
};

}  // namespace openmapi::pst
