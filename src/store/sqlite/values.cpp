#include "store/sqlite/values.h"

#include "core/unicode.h"

namespace openmapi::store::sqlite {

PropValue normalize(PropValue v) {
  if (v.type() == PropType::String8) return PropValue::string(v.tag().with_type(PropType::String), v.get<std::string>());
  if (v.type() == PropType::MultipleString8)
    return PropValue(v.tag().with_type(PropType::MultipleString), v.get<std::vector<std::string>>());
  return v;
}

void bind_value(Stmt& s, int i, const PropValue& v) {
  switch (v.storage().index()) {
    case 0: s.bind_null(i); return;
    case 1: s.bind(i, int64_t(v.get<int16_t>())); return;
    case 2: s.bind(i, int64_t(v.get<int32_t>())); return;
    case 3: s.bind(i, double(v.get<float>())); return;
    case 4: s.bind(i, v.get<double>()); return;
    case 5: s.bind(i, v.get<int64_t>()); return;
    case 6: s.bind(i, int64_t(v.get<bool>() ? 1 : 0)); return;
    case 7: s.bind(i, std::string_view(v.get<std::string>())); return;
    case 8: s.bind(i, ByteView(v.get<Guid>().bytes)); return;
    case 9: s.bind(i, ByteView(v.get<Bytes>())); return;
    default: {
      BinaryWriter w;
      write_value(w, v);
      s.bind(i, ByteView(w.data()));
    }
  }
}

PropValue column_value(const Stmt& s, int i, PropTag tag) {
  size_t index = 0;
  try {
    index = storage_index(tag.type());
  } catch (const MapiError&) {  // a tag that no writer stores: a damaged row
    throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "a stored property has the unknown tag " + tag.hex());
  }
  switch (index) {
    case 0: return PropValue(tag, std::monostate{});
    case 1: return PropValue(tag, int16_t(s.int64(i)));
    case 2: return PropValue(tag, int32_t(s.int64(i)));
    case 3: return PropValue(tag, float(s.real(i)));
    case 4: return PropValue(tag, s.real(i));
    case 5: return PropValue(tag, s.int64(i));
    case 6: return PropValue(tag, s.int64(i) != 0);
    case 7: return PropValue(tag, s.text(i));
    case 8: {
      auto b = s.blob_view(i);
      if (b.size() != 16) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "stored GUID of " + tag.hex() + " is not 16 bytes");
      Guid g;
      std::copy(b.begin(), b.end(), g.bytes.begin());
      return PropValue(tag, g);
    }
    case 9: return PropValue(tag, s.blob(i));
    default: {
      BinaryReader r(s.blob_view(i));
      PropValue v = read_value(r, tag);
      if (!r.at_end()) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "trailing bytes in stored value of " + tag.hex());
      return v;
    }
  }
}

namespace {

ByteView large_candidate(const PropValue& v) {
  if (const auto* s = v.get_if<std::string>())
    return ByteView(reinterpret_cast<const uint8_t*>(s->data()), s->size());
  if (const auto* b = v.get_if<Bytes>()) return ByteView(*b);
  return {};
}

PropValue from_large_bytes(PropTag tag, Bytes data) {
  if (storage_index(tag.type()) == 7) return PropValue(tag, std::string(data.begin(), data.end()));
  return PropValue(tag, std::move(data));
}

std::string sql(const char* fmt, const PropTableSpec& t) {
  std::string out;
  for (const char* p = fmt; *p; ++p) {
    if (*p == '$' && p[1] == 'T') out += t.table, ++p;
    else if (*p == '$' && p[1] == 'O') out += t.owner, ++p;
    else out += *p;
  }
  return out;
}

}  // namespace

int64_t prop_key(int64_t owner, uint32_t tag) {
  if (owner < 0 || owner > kMaxPropOwner)
    throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_RESOURCES, "object id " + std::to_string(owner) + " is beyond the store's 2^31 ids");
  return owner << 32 | int64_t(tag);
}

KeyRange owner_keys(int64_t owner) {
  const int64_t first = prop_key(owner, 0);
  return {first, first | 0xFFFFFFFF};
}

KeyRange prop_id_keys(int64_t owner, uint16_t prop_id) {
  const int64_t first = prop_key(owner, uint32_t(prop_id) << 16);
  return {first, first | 0xFFFF};
}

int64_t write_large(Db& db, ByteView data) {
  size_t at = 0;
  uint64_t size = 0;
  return write_large_stream(
      db,
      [&](uint8_t* buf, size_t n) {
        size_t k = std::min(n, data.size() - at);
        std::copy_n(data.begin() + at, k, buf);
        at += k;
        return k;
      },
      size);
}

int64_t write_large_stream(Db& db, const std::function<size_t(uint8_t*, size_t)>& source, uint64_t& size) {
  Stmt(db, "INSERT INTO large_values(size) VALUES(0)").run();
  int64_t id = db.last_insert_rowid();
  Stmt ins(db, "INSERT INTO large_chunks(value_id, seq, data) VALUES(?, ?, ?)");
  Bytes chunk(kChunkSize);
  size = 0;
  for (int64_t seq = 0;; ++seq) {
    size_t filled = 0;
    while (filled < kChunkSize) {
      size_t n = source(chunk.data() + filled, kChunkSize - filled);
      if (n == 0) break;
      filled += n;
    }
    if (filled == 0) break;
    ins.bind(1, id).bind(2, seq).bind(3, ByteView(chunk.data(), filled)).run();
    ins.reset();
    size += filled;
    if (filled < kChunkSize) break;
  }
  Stmt(db, "UPDATE large_values SET size = ? WHERE id = ?").bind(1, int64_t(size)).bind(2, id).run();
  return id;
}

Bytes read_large(Db& db, int64_t id, size_t limit) {
  Stmt q(db, "SELECT data FROM large_chunks WHERE value_id = ? ORDER BY seq");
  q.bind(1, id);
  Bytes out;
  while (out.size() < limit && q.step()) {
    auto b = q.blob_view(0);
    out.insert(out.end(), b.begin(), b.begin() + std::min(b.size(), limit - out.size()));
  }
  return out;
}

PropValue large_value_for_table(Db& db, PropTag tag, int64_t id) {
  Bytes data = read_large(db, id, kTableValueLimit);
  if (storage_index(tag.type()) == 7 && !data.empty()) {
    // Drop a code point the cut left incomplete.
    size_t lead = data.size() - 1;
    while (lead > 0 && (data[lead] & 0xC0) == 0x80) --lead;
    uint8_t b = data[lead];
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    if (data.size() - lead < len) data.resize(lead);
  }
  return from_large_bytes(tag, std::move(data));
}

void write_props(Db& db, const PropTableSpec& t, int64_t owner, const std::vector<PropValue>& values, bool fresh) {
  Stmt ins(db, sql("INSERT OR REPLACE INTO $T(key, value, large_id) VALUES(?, ?, ?)", t));
  // Deleted first, never replaced in place: a REPLACE would drop an old large value's row
  // without its delete trigger firing, and leave the chunks behind.
  Stmt del(db, sql("DELETE FROM $T WHERE key BETWEEN ? AND ?", t));
  for (const PropValue& raw : values) {
    PropValue v = normalize(raw);
    // One value per property id: drop the old value, of this or another type (the tags of one
    // id are one range of the key).
    if (!fresh) {
      const KeyRange r = prop_id_keys(owner, v.tag().id());
      del.bind(1, r.first).bind(2, r.last).run();
      del.reset();
    }
    ins.bind(1, prop_key(owner, v.tag().value));
    ByteView big = large_candidate(v);
    if (big.size() > kLargeValueThreshold) {
      ins.bind_null(2).bind(3, write_large(db, big));
    } else {
      bind_value(ins, 2, v);
      ins.bind_null(3);
    }
    ins.run();
    ins.reset();
  }
}

void delete_props(Db& db, const PropTableSpec& t, int64_t owner, const std::vector<PropTag>& tags) {
  Stmt del(db, sql("DELETE FROM $T WHERE key BETWEEN ? AND ?", t));
  if (tags.empty()) {
    const KeyRange r = owner_keys(owner);
    del.bind(1, r.first).bind(2, r.last).run();
    return;
  }
  for (PropTag tag : tags) {
    const KeyRange r = prop_id_keys(owner, tag.id());
    del.bind(1, r.first).bind(2, r.last).run();
    del.reset();
  }
}

PropertyBag read_props(Db& db, const PropTableSpec& t, int64_t owner, bool large_values) {
  Stmt q(db, sql("SELECT tag, value, large_id FROM $T WHERE key BETWEEN ? AND ?", t));
  const KeyRange r = owner_keys(owner);
  q.bind(1, r.first).bind(2, r.last);
  PropertyBag bag;
  while (q.step()) {
    PropTag tag(uint32_t(q.int64(0)));
    if (!q.is_null(2)) {
      if (large_values) {
        if (tag.type() != PropType::String && tag.type() != PropType::Binary)
          throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "a large value has the tag " + tag.hex());
        bag.set(from_large_bytes(tag, read_large(db, q.int64(2))));
      }
      continue;
    }
    bag.set(column_value(q, 1, tag));
  }
  return bag;
}

namespace {

constexpr uint8_t kRecipientRowsVersion = 1;

}  // namespace

Bytes encode_recipient_rows(const std::vector<PropertyBag>& rows) {
  BinaryWriter w;
  w.u8(kRecipientRowsVersion);
  w.u32(uint32_t(rows.size()));
  for (const PropertyBag& row : rows) {
    const auto rowid = row.get_i32(tags::PidTagRowid);
    if (!rowid) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a recipient row to store has no PidTagRowid");
    w.u32(uint32_t(*rowid));
    const size_t count_at = w.size();
    w.u32(0);
    uint32_t count = 0;
    for (const PropValue& raw : row.values()) {
      if (raw.tag().id() == tags::PidTagRowid.id() || raw.type() == PropType::ErrorCode || raw.type() == PropType::Object) continue;
      const PropValue v = normalize(raw);
      w.u32(v.tag().value);
      if (const auto* s = v.get_if<std::string>(); s && storage_index(v.type()) == 7) {
        w.u32(uint32_t(s->size()));
        w.bytes(ByteView(reinterpret_cast<const uint8_t*>(s->data()), s->size()));
      } else if (const auto* b = v.get_if<Bytes>(); b && storage_index(v.type()) == 9) {
        w.u32(uint32_t(b->size()));
        w.bytes(ByteView(*b));
      } else if (const auto* list = v.get_if<std::vector<std::string>>()) {
        w.u32(uint32_t(list->size()));
        for (const std::string& item : *list) {
          w.u32(uint32_t(item.size()));
          w.bytes(ByteView(reinterpret_cast<const uint8_t*>(item.data()), item.size()));
        }
      } else {
        write_value(w, v);
      }
      ++count;
    }
    for (int k = 0; k < 4; ++k) w.patch_u8(count_at + k, uint8_t(count >> (8 * k)));
  }
  return w.take();
}

std::vector<PropertyBag> decode_recipient_rows(ByteView blob) {
  std::vector<PropertyBag> rows;
  try {
    BinaryReader r(blob);
    const uint8_t version = r.u8();
    if (version != kRecipientRowsVersion)
      throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "stored recipient rows have the unknown version " + std::to_string(version));
    const uint32_t n = r.u32();
    r.need_elements(n, 8);  // a row is at least its row id and its property count
    rows.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      PropertyBag row;
      row.set(PropValue::i32(tags::PidTagRowid, int32_t(r.u32())));
      const uint32_t count = r.u32();
      r.need_elements(count, 4);
      for (uint32_t k = 0; k < count; ++k) {
        const PropTag tag(r.u32());
        // The row id is the row's own field; encode never writes it among the properties.
        if (tag.id() == tags::PidTagRowid.id())
          throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "a stored recipient row repeats its row id among its properties");
        const size_t index = storage_index(tag.type());  // MAPI_E_CORRUPT_DATA for an unknown type
        auto utf8 = [&](ByteView bytes) {
          std::string text(bytes.begin(), bytes.end());
          if (!is_valid_utf8(text)) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "a stored recipient string of " + tag.hex() + " is not UTF-8");
          return text;
        };
        if (index == 7 || index == 9) {
          const uint32_t len = r.u32();
          ByteView bytes = r.bytes(len);
          if (index == 7) row.set(normalize(PropValue(tag, utf8(bytes))));
          else row.set(PropValue(tag, Bytes(bytes.begin(), bytes.end())));
        } else if (tag.type() == PropType::MultipleString || tag.type() == PropType::MultipleString8) {
          const uint32_t items = r.u32();
          r.need_elements(items, 4);
          std::vector<std::string> list;
          list.reserve(items);
          for (uint32_t k2 = 0; k2 < items; ++k2) list.push_back(utf8(r.bytes(r.u32())));
          row.set(normalize(PropValue(tag, std::move(list))));
        } else {
          row.set(read_value(r, tag));
        }
      }
      rows.push_back(std::move(row));
    }
    if (!r.at_end()) throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, "trailing bytes after the stored recipient rows");
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_CORRUPT_STORE) throw;
    throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, std::string("stored recipient rows are damaged: ") + e.what());
  }
  return rows;
}

int64_t recipient_rows_size(ByteView blob) {
  int64_t size = 0;
  for (const PropertyBag& row : decode_recipient_rows(blob))
    for (const PropValue& v : row.values())
      if (v.tag().id() != tags::PidTagRowid.id()) size += int64_t(v.size());
  return size;
}

}  // namespace openmapi::store::sqlite
