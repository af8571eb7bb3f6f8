#include "formats/pst/pst.h"

#include <cstdio>

#include "core/error.h"

namespace openmapi::pst {

namespace {

constexpr int kMaxEmbedDepth = 8;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// MS-PST 2.4.8.1 / MS-OXCDATA 2.2.4.1: a store entry ID ends with the NID (rgbFlags 4, uid 16, nid 4).
uint32_t nid_from_entryid(const Bytes& e) {
  if (e.size() < 24) return 0;
  BinaryReader r(ByteView(e).subspan(20, 4));
  return r.u32();
}

}  // namespace

PstFile::PstFile(std::unique_ptr<ByteSource> src)
    : ndb_(std::make_unique<Ndb>(std::move(src))), ltp_(std::make_unique<Ltp>(*ndb_)) {
  load_store();
  load_names();
}

PstFile::PstFile(PstFile&&) noexcept = default;
PstFile& PstFile::operator=(PstFile&&) noexcept = default;
PstFile::~PstFile() = default;

PstFile PstFile::open(const std::string& path) { return PstFile(ByteSource::file(path)); }
PstFile PstFile::from_bytes(Bytes data) { return PstFile(ByteSource::memory(std::move(data))); }

const Header& PstFile::header() const { return ndb_->header(); }
const std::vector<Problem>& PstFile::problems() const { return ndb_->problems(); }

PstInfo PstFile::info() const {
  PstInfo i;
  const Header& h = header();
  i.unicode = h.unicode;
  i.ost = h.is_ost();
  i.version = h.ver;
  i.crypt = CryptMethod(h.crypt_method);
  i.file_size = h.file_eof;
  i.display_name = store_.get_string(tags::PidTagDisplayName).value_or("");
  i.password_crc = uint32_t(store_.get_i32(PropTag(0x67FF, PropType::Integer32)).value_or(0));
  return i;
}

// MS-PST 2.4.3 message store
void PstFile::load_store() {
  auto n = ndb_->find_node(NID_MESSAGE_STORE);
  if (!n) {
    ndb_->problem("message store (NID 0x21) missing");
    return;
  }
  try {
    store_ = ltp_->read_pc(load_node(*ndb_, n->bid_data, n->bid_sub));
  } catch (const MapiError& e) {
    ndb_->problem(std::string("message store: ") + e.what());
    return;
  }
  if (auto v = store_.find(tags::PidTagIpmSubtreeEntryId)) ipm_subtree_ = nid_from_entryid(v->get<Bytes>());
}

// MS-PST 2.4.7 name-to-ID map
void PstFile::load_names() {
  auto n = ndb_->find_node(NID_NAME_TO_ID_MAP);
  if (!n) {
    ndb_->problem("name-to-ID map (NID 0x61) missing");
    return;
  }
  PropertyBag pc;
  try {
    pc = ltp_->read_pc(load_node(*ndb_, n->bid_data, n->bid_sub));
  } catch (const MapiError& e) {
    ndb_->problem(std::string("name-to-ID map: ") + e.what());
    return;
  }
  auto stream = [&](uint16_t id) -> Bytes {
    auto v = pc.find(PropTag(id, PropType::Binary));
    return v ? v->get<Bytes>() : Bytes{};
  };
  Bytes guids = stream(0x0002), entries = stream(0x0003), strings = stream(0x0004);
  BinaryReader r(entries);
  size_t bad = 0;
  while (r.remaining() >= 8) {
    uint32_t value = r.u32();
    uint16_t guid_kind = r.u16();
    uint16_t index = r.u16();
    bool is_string = guid_kind & 1;
    uint16_t wguid = guid_kind >> 1;
    Guid set;
    if (wguid == 1) set = propset::PS_MAPI;
    else if (wguid == 2) set = propset::PS_PUBLIC_STRINGS;
    else if (wguid >= 3 && size_t(wguid - 3) * 16 + 16 <= guids.size())
      std::copy_n(guids.begin() + ptrdiff_t((wguid - 3) * 16), 16, set.bytes.begin());
    else {
      ++bad;
      continue;
    }
    if (uint32_t(index) + NamedPropertyMap::kFirstId > NamedPropertyMap::kLastId) {
      ++bad;
      continue;
    }
    PropertyName name;
    if (is_string) {
      try {
        BinaryReader s(strings);
        s.skip(value);
        uint32_t len = s.u32();
        ByteView text = s.bytes(len);
        auto str = decode_value(PropTag(0x0001, PropType::String), text, 0);
        if (!str) throw MapiError(ErrorCode::MAPI_E_CORRUPT_DATA, "name");
        name = PropertyName::by_name(set, str->get<std::string>());
      } catch (const MapiError&) {
        ++bad;
        continue;
      }
    } else {
      name = PropertyName::by_id(set, value);
    }
    try {
      names_.insert(uint16_t(NamedPropertyMap::kFirstId + index), name);
    } catch (const MapiError&) {
      ++bad;
    }
  }
  if (bad) ndb_->problem("name-to-ID map: " + std::to_string(bad) + " entries unreadable or duplicate, skipped");
}

PropertyBag PstFile::folder_properties(uint32_t folder) {
  auto n = ndb_->find_node(folder);
  if (!n) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "folder " + hex(folder) + " not in the NBT");
  return ltp_->read_pc(load_node(*ndb_, n->bid_data, n->bid_sub));
}

std::string PstFile::folder_name(uint32_t folder) {
  return folder_properties(folder).get_string(tags::PidTagDisplayName).value_or("");
}

// MS-PST 2.4.4.4 hierarchy table
std::vector<uint32_t> PstFile::subfolders(uint32_t folder) {
  if (type_of(folder) != nid_type::NormalFolder) return {};
  uint32_t table = (folder & ~0x1Fu) | nid_type::HierarchyTable;
  auto n = ndb_->find_node(table);
  if (!n) {
    ndb_->problem("folder " + hex(folder) + ": hierarchy table missing");
    return {};
  }
  try {
    auto t = ltp_->read_tc(load_node(*ndb_, n->bid_data, n->bid_sub), 0, false);
    return t.row_ids;
  } catch (const MapiError& e) {
    ndb_->problem("folder " + hex(folder) + ": hierarchy table: " + e.what());
    return {};
  }
}

// MS-PST 2.4.4.5 contents table, 2.4.4.6 FAI contents table
std::vector<uint32_t> PstFile::messages(uint32_t folder, bool associated) {
  if (type_of(folder) == nid_type::SearchFolder) {
    ndb_->problem("folder " + hex(folder) + ": search folder contents are not read");
    return {};
  }
  if (type_of(folder) != nid_type::NormalFolder) return {};
  uint32_t table = (folder & ~0x1Fu) | (associated ? nid_type::AssocContentsTable : nid_type::ContentsTable);
  auto n = ndb_->find_node(table);
  if (!n) {
    ndb_->problem("folder " + hex(folder) + ": contents table missing");
    return {};
  }
  try {
    auto t = ltp_->read_tc(load_node(*ndb_, n->bid_data, n->bid_sub), 0, false);
    return t.row_ids;
  } catch (const MapiError& e) {
    ndb_->problem("folder " + hex(folder) + ": contents table: " + e.what());
    return {};
  }
}

// A subnode of `parent` as a node of its own; values it stores in subnodes may name the
// parent's subnodes too.
LtpNode PstFile::sub_node(const LtpNode& parent, uint32_t nid) {
  auto it = parent.subnodes.find(nid);
  if (it == parent.subnodes.end()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "subnode " + hex(nid) + " missing");
  LtpNode n = load_node(*ndb_, it->second.bid_data, it->second.bid_sub);
  for (const auto& [k, v] : parent.subnodes) n.subnodes.emplace(k, v);
  return n;
}

Message PstFile::read_message(uint32_t message) {
  auto n = ndb_->find_node(message);
  if (!n) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "message " + hex(message) + " not in the NBT");
  return read_message_node(load_node(*ndb_, n->bid_data, n->bid_sub), 0);
}

// MS-PST 2.4.5 messages: PC, recipient table, attachment table, attachment PCs.
Message PstFile::read_message_node(const LtpNode& node, int depth) {
  Message m;
  m.props = ltp_->read_pc(node);
  // MS-PST 2.5.3.1.1 (subject): a stored subject may start with U+0001 and a character giving the
  // prefix length; neither is part of PidTagSubject.
  if (auto subject = m.props.get_string(tags::PidTagSubject); subject && !subject->empty() && (*subject)[0] == 1) {
    std::string rest = subject->substr(1);
    if (!rest.empty()) {
      size_t n = 1;  // one UTF-8 character
      while (n < rest.size() && (static_cast<unsigned char>(rest[n]) & 0xC0) == 0x80) ++n;
      rest.erase(0, n);
    }
    m.props.set(PropValue::string(tags::PidTagSubject, rest));
  }
  uint32_t codepage = 0;
  for (uint16_t id : {uint16_t(0x3FFD), uint16_t(0x3FDE)}) {
    auto cp = m.props.get_i32(PropTag(id, PropType::Integer32));
    if (cp && *cp > 0 && !codepage) codepage = uint32_t(*cp);
  }
  auto drop_row_columns = [](PropertyBag& b) {
    b.erase(PropTag(0x67F2, PropType::Integer32));  // PidTagLtpRowId
    b.erase(PropTag(0x67F3, PropType::Integer32));  // PidTagLtpRowVer
  };
  if (node.subnodes.count(NID_RECIPIENT_TABLE)) {
    try {
      auto t = ltp_->read_tc(sub_node(node, NID_RECIPIENT_TABLE), codepage);
      for (auto& row : t.rows) {
        drop_row_columns(row);
        m.recipients.push_back(std::move(row));
      }
    } catch (const MapiError& e) {
      ndb_->problem(std::string("recipient table: ") + e.what());
    }
  }
  if (node.subnodes.count(NID_ATTACHMENT_TABLE)) {
    std::vector<uint32_t> ids;
    try {
      ids = ltp_->read_tc(sub_node(node, NID_ATTACHMENT_TABLE), codepage, false).row_ids;
    } catch (const MapiError& e) {
      ndb_->problem(std::string("attachment table: ") + e.what());
    }
    for (uint32_t id : ids) {
      try {
        LtpNode an = sub_node(node, id);
        std::vector<ObjectRef> objects;
        Attachment a;
        a.props = ltp_->read_pc(an, codepage, &objects);
        for (const auto& obj : objects) {
          if (obj.prop_id != tags::PidTagAttachDataObject.id()) continue;
          if (depth + 1 > kMaxEmbedDepth) {
            ndb_->problem("attachment " + hex(id) + ": embedded messages nested too deep");
            continue;
          }
          try {
            a.embedded = std::make_unique<Message>(read_message_node(sub_node(an, obj.nid), depth + 1));
          } catch (const MapiError& e) {
            ndb_->problem("attachment " + hex(id) + ": embedded message: " + e.what());
          }
        }
        m.attachments.push_back(std::move(a));
      } catch (const MapiError& e) {
        ndb_->problem("attachment " + hex(id) + ": " + e.what());
      }
    }
  }
  return m;
}

}  // namespace openmapi::pst
