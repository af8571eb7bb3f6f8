// PST lists, tables and properties layer (MS-PST 2.3): heap-on-node (HN), BTree-on-heap (BTH),
// property contexts (PC) and table contexts (TC), on top of the node database (ndb.h).
//
// Values come out in the core model: PtypString8 text is decoded with the object's code page and
// typed as PtypString, as the .msg reader does. Values that cannot be read are left out and
// reported through the Ndb's problem list; a structure that cannot be read at all (no HNHDR, a
// bad TCINFO) throws MapiError(MAPI_E_CORRUPT_DATA).
#pragma once
#include <cstdint>
#include <vector>

#include "core/propbag.h"
#include "formats/pst/ndb.h"

namespace openmapi::pst {

// A node as LTP sees it: its data blocks and the subnodes its HNIDs may name.
struct LtpNode {
  std::vector<Bytes> blocks;
  SubnodeMap subnodes;
};
LtpNode load_node(Ndb& ndb, uint64_t bid_data, uint64_t bid_sub);

// MS-PST 2.3.1 heap-on-node over the blocks of a node.
class Heap {
 public:
  // Throws MAPI_E_CORRUPT_DATA if the first block has no valid HNHDR. `wide_hids`: the 4K layout's
  // HIDs (14-bit index, block number from bit 19) instead of MS-PST 2.3.1.1's (11 bits, bit 16).
  explicit Heap(const std::vector<Bytes>& blocks, bool wide_hids = false);
  uint8_t client_sig() const { return client_sig_; }  // 0xBC PC, 0x7C TC, 0xB5 BTH
  uint32_t user_root() const { return user_root_; }
  // The allocation `hid` names (MS-PST 2.3.1.1 HID); empty for hid 0. Throws MAPI_E_CORRUPT_DATA
  // for a HID that does not name an allocation.
  ByteView item(uint32_t hid) const;

 private:
  const std::vector<Bytes>& blocks_;
  bool wide_hids_ = false;
  uint8_t client_sig_ = 0;
  uint32_t user_root_ = 0;
};

// MS-PST 2.3.2 BTree-on-heap: every leaf record (key then data bytes), in key order.
struct BthRecord {
  ByteView key;
  ByteView data;
};
std::vector<BthRecord> read_bth(const Heap& heap, uint32_t hid, uint8_t& key_size, uint8_t& data_size);

// A PtypObject property of a PC: the subnode that holds the object (MS-PST 2.3.3.5).
struct ObjectRef {
  uint16_t prop_id = 0;
  uint32_t nid = 0;
  uint32_t size = 0;
};

// Decodes one value from its stored bytes (MS-PST 2.3.3.4 / 2.3.3.5 / MS-OXCDATA 2.11.1).
// 8-bit strings are decoded with `codepage`. nullopt for an unknown type or a bad size.
std::optional<PropValue> decode_value(PropTag tag, ByteView raw, uint32_t codepage);

class Ltp {
 public:
  explicit Ltp(Ndb& ndb) : ndb_(ndb) {}
  Ndb& ndb() { return ndb_; }

  // MS-PST 2.3.3 property context. `codepage` is used for 8-bit strings unless the PC has its own
  // PidTagMessageCodepage / PidTagInternetCodepage; `objects` receives the PtypObject values.
  PropertyBag read_pc(const LtpNode& node, uint32_t codepage = 0, std::vector<ObjectRef>* objects = nullptr);

  // MS-PST 2.3.4 table context, rows in row-matrix order. With `cells` false only the row ids
  // are read (Table::rows stays empty).
  struct Table {
    std::vector<PropTag> columns;
    std::vector<uint32_t> row_ids;     // dwRowID of each row
    std::vector<PropertyBag> rows;     // the cells present in each row
  };
  Table read_tc(const LtpNode& node, uint32_t codepage = 0, bool cells = true);

 private:
  Bytes resolve_hnid(const Heap& heap, const LtpNode& node, uint32_t hnid, bool& ok);
  Ndb& ndb_;
};

// Fixed sizes of the types a PC or TC stores in place (MS-PST 2.3.3.4, 2.3.4.4.1); 0 for the others.
size_t inline_size(PropType t);

}  // namespace openmapi::pst
