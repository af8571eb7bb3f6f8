// MS-CFB compound files ("OLE structured storage"): the container of .msg files.
//
// Reading: `CompoundFile::parse` validates the header (MS-CFB 2.2), loads the FAT through the
// DIFAT (2.5, 2.3), the directory (2.6) and the mini FAT / mini stream (2.4), and gives access to
// storages and streams by index or path. Every chain is walked with loop detection and every
// size is checked against the file before memory is reserved: malformed input throws
// MapiError(MAPI_E_CORRUPT_DATA), never reads out of bounds.
//
// Writing: build a `Storage` tree and call `write_compound_file`, which produces a version 3
// file (512-byte sectors, as Outlook writes .msg files) with a red-black directory tree.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/guid.h"

namespace openmapi::cfb {

// MS-CFB 2.6.1 Object Type.
enum class ObjectType : uint8_t { Unallocated = 0x00, Storage = 0x01, Stream = 0x02, Root = 0x05 };

inline constexpr uint32_t kMaxRegSect = 0xFFFFFFFA;
inline constexpr uint32_t kDifSect = 0xFFFFFFFC;
inline constexpr uint32_t kFatSect = 0xFFFFFFFD;
inline constexpr uint32_t kEndOfChain = 0xFFFFFFFE;
inline constexpr uint32_t kFreeSect = 0xFFFFFFFF;
inline constexpr uint32_t kNoStream = 0xFFFFFFFF;
inline constexpr uint32_t kMiniStreamCutoff = 4096;

// One directory entry that is reachable from the root (MS-CFB 2.6.1).
struct DirEntry {
  std::string name;  // UTF-8
  ObjectType type = ObjectType::Unallocated;
  Guid clsid;
  uint32_t state_bits = 0;
  uint64_t creation_time = 0;      // FILETIME
  uint64_t modified_time = 0;      // FILETIME
  uint32_t start_sector = 0;
  uint64_t size = 0;               // stream size (version 3: the low 32 bits only)
  std::vector<uint32_t> children;  // storages and root: directory indexes of the children, in tree order
};

// A parsed compound file. Holds a copy of the file's bytes; thread-compatible (const methods may
// be called concurrently).
class CompoundFile {
 public:
  // Parses `data`. Throws MAPI_E_CORRUPT_DATA for anything malformed: bad signature or version,
  // truncated sectors, FAT/mini FAT chains that loop or leave the file, directory trees with
  // cycles or out-of-range links, stream sizes that the chains cannot hold.
  static CompoundFile parse(ByteView data);

  uint16_t major_version() const { return major_version_; }
  uint32_t sector_size() const { return sector_size_; }
  uint64_t file_size() const { return data_.size(); }

  static constexpr uint32_t kRoot = 0;
  const DirEntry& entry(uint32_t index) const;
  const DirEntry& root() const { return entry(kRoot); }
  // The child of storage `parent` called `name` (compared as MS-CFB 2.6.4 does: case-insensitively).
  std::optional<uint32_t> find_child(uint32_t parent, std::string_view name) const;
  // A path of names separated by '/', relative to the root ("" is the root).
  std::optional<uint32_t> find(std::string_view path) const;
  // The content of stream entry `index`; MAPI_E_INVALID_PARAMETER if it is not a stream.
  Bytes read_stream(uint32_t index) const;

  // Every storage and stream below the root, depth first in tree order: "a", "a/b", ...
  struct Item {
    std::string path;
    ObjectType type;
    uint64_t size;
    uint32_t index;
  };
  std::vector<Item> list() const;

 private:
  Bytes read_chain(uint32_t start, uint64_t size, bool mini) const;
  std::vector<uint32_t> chain(const std::vector<uint32_t>& fat, uint32_t start, uint64_t max_len,
                              const char* what) const;

  Bytes data_;
  uint16_t major_version_ = 3;
  uint32_t sector_size_ = 512;
  uint32_t mini_sector_size_ = 64;
  uint32_t mini_cutoff_ = kMiniStreamCutoff;
  std::vector<uint32_t> fat_;
  std::vector<uint32_t> minifat_;
  Bytes mini_stream_;
  std::vector<DirEntry> entries_;  // indexed as in the file; unreachable entries stay Unallocated
};

// An in-memory storage tree: what the writer takes and what `load_tree` returns.
struct Storage {
  Guid clsid;
  std::map<std::string, Storage> storages;
  std::map<std::string, Bytes> streams;

  // The child storage `name`, created if missing.
  Storage& storage(const std::string& name) { return storages[name]; }
  const Storage* find_storage(std::string_view name) const;
  const Bytes* find_stream(std::string_view name) const;
  friend bool operator==(const Storage&, const Storage&) = default;
};

// Reads a whole compound file into a tree (storage nesting deeper than 256, or streams that
// together exceed the file's size because they share sectors, are MAPI_E_CORRUPT_DATA).
Storage load_tree(ByteView data);
Storage to_tree(const CompoundFile& file, uint32_t storage_index = CompoundFile::kRoot);

// Writes `root` as a version 3 compound file. Names longer than 31 UTF-16 code units, or
// holding '/', '\\', ':' or '!', are MAPI_E_INVALID_PARAMETER (MS-CFB 2.6.1).
Bytes write_compound_file(const Storage& root);

// MS-CFB 2.6.4 ordering of sibling names: shorter first, then by upper-cased UTF-16 code units.
// Negative, zero or positive like strcmp.
int compare_names(std::string_view a, std::string_view b);

}  // namespace openmapi::cfb
