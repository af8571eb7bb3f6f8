// Property and stream ROPs (MS-OXCPRPT, MS-OXCROPS 2.2.8 and 2.2.9): get, set, delete and copy
// properties, named properties, and streams over properties.
#include "core/namedprop.h"
#include "core/unicode.h"
#include "server/rop_context.h"

namespace openmapi::server {

namespace {

constexpr uint32_t ecWarnWithErrors = 0x00040380;

store::MapiProp& target(RopContext& c) {
  auto o = c.object(c.index);
  return RopContext::prop_object(*o);
}

void get_properties_specific(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint16_t size_limit = c.in.u16();
  const uint16_t want_unicode = c.in.u16();
  auto tags = c.tags(c.in.u16());
  auto result = target(c).get_props(tags);
  for (size_t i = 0; i < tags.size(); ++i) {
    PropValue& v = result.values[i];
    // An unspecified string comes back as Unicode when the client wants it, else 8-bit.
    if (tags[i].type() == PropType::Unspecified && v.type() == PropType::String && !want_unicode)
      v = PropValue::string(v.tag().with_type(PropType::String8), *v.get_if<std::string>());
    if (size_limit && v.type() != PropType::ErrorCode && v.size() > size_limit)
      v = PropValue::error(tags[i].id(), ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
  }
  c.ok();
  write_property_row(c.out, tags, result.values);
}

void get_properties_all(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint16_t size_limit = c.in.u16();
  const uint16_t want_unicode = c.in.u16();
  auto result = target(c).get_props({});
  c.ok();
  c.out.u16(uint16_t(std::min<size_t>(result.values.size(), 0xFFFF)));
  for (PropValue v : result.values) {
    if (v.type() == PropType::String && !want_unicode)
      v = PropValue::string(v.tag().with_type(PropType::String8), *v.get_if<std::string>());
    if (v.type() != PropType::ErrorCode && size_limit && v.size() > size_limit)
      v = PropValue::error(v.tag().id(), ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
    c.out.u32(v.tag().value);  // TaggedPropertyValue
    if (v.type() == PropType::ErrorCode) c.out.u32(uint32_t(v.get<int32_t>()));
    else write_rop_value(c.out, v);
  }
}

void get_properties_list(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto list = target(c).get_prop_list();
  c.ok();
  c.out.u16(uint16_t(std::min<size_t>(list.size(), 0xFFFF)));
  for (size_t i = 0; i < list.size() && i < 0xFFFF; ++i) c.out.u32(list[i].value);
}

// RopSetProperties and RopSetPropertiesNoReplicate (no replication here: the same).
void set_properties(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint16_t size = c.in.u16();
  if (size > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "PropertyValueSize is larger than the ROP buffer");
  BinaryReader values(c.in.bytes(size));
  const uint16_t count = values.u16();
  std::vector<PropValue> set;
  for (uint16_t i = 0; i < count; ++i) {
    const PropTag tag(values.u32());
    set.push_back(read_rop_value(values, tag));
  }
  auto problems = target(c).set_props(set);
  c.ok();
  write_problems(c.out, problems);
}

// RopDeleteProperties and RopDeletePropertiesNoReplicate.
void delete_properties(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto tags = c.tags(c.in.u16());
  auto problems = target(c).delete_props(tags);
  c.ok();
  write_problems(c.out, problems);
}

// The destination of RopCopyProperties / RopCopyTo: any object with properties.
store::MapiProp& copy_destination(RopContext& c, uint8_t dest_index, const RopSession::Object& src) {
  auto it = dest_index < c.handles.size() ? c.objects().find(c.handles[dest_index]) : c.objects().end();
  if (it == c.objects().end()) {
    c.null_destination = dest_index;
    throw RopFailure{ecDstNullObject};
  }
  // MS-OXCPRPT 3.2.5.8: source and destination are objects of one kind.
  if (it->second->kind != src.kind) throw RopFailure{ec::InvalidParameter};
  return RopContext::prop_object(*it->second);
}

void copy_properties(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();  // SourceHandleIndex
  const uint8_t dest_index = c.in.u8();
  c.in.u8();  // WantAsynchronous
  const uint8_t flags = c.in.u8();  // CopyFlags: Move 0x01, NoOverwrite 0x02
  auto tags = c.tags(c.in.u16());
  if (flags & ~0x03) throw RopFailure{ec::InvalidParameter};
  auto src = c.object(c.index);
  store::MapiProp& dest = copy_destination(c, dest_index, *src);
  auto problems = RopContext::prop_object(*src).copy_props(dest, tags, flags);
  c.ok();
  write_problems(c.out, problems);
}

void copy_to(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();  // SourceHandleIndex
  const uint8_t dest_index = c.in.u8();
  c.in.u8();  // WantAsynchronous
  const bool sub_objects = c.in.u8() != 0;
  const uint8_t flags = c.in.u8();
  auto excluded = c.tags(c.in.u16());
  if (flags & ~0x03) throw RopFailure{ec::InvalidParameter};
  auto src = c.object(c.index);
  store::MapiProp& dest = copy_destination(c, dest_index, *src);
  auto problems = RopContext::prop_object(*src).copy_to(dest, excluded, flags);
  if (sub_objects && src->kind == Kind::Message) {
    // A message's recipients and attachments go along (MS-OXCPRPT 3.2.5.8: WantSubObjects).
    auto& from = *src->message;
    auto& to = static_cast<store::Message&>(dest);
    auto has = [&](PropTag t) { return std::any_of(excluded.begin(), excluded.end(), [&](PropTag e) { return e.id() == t.id(); }); };
    if (!has(tags::PidTagMessageRecipients)) to.modify_recipients(0, from.recipients());
    if (!has(tags::PidTagMessageAttachments))
      for (const auto& row : from.attachments()) {
        const auto num = row.get_i32(tags::PidTagAttachNumber);
        if (!num) continue;
        auto a = from.open_attach(uint32_t(*num));
        auto b = to.create_attach();
        a->copy_to(*b);
        b->save_changes();
      }
  }
  c.ok();
  write_problems(c.out, problems);
}

// PropertyName (MS-OXCDATA 2.6.1) for an id nothing maps: Kind 0xFF and a zero GUID.
void write_name_or_none(BinaryWriter& w, const std::optional<PropertyName>& n) {
  if (n) {
    write_property_name(w, *n);
    return;
  }
  w.u8(0xFF);
  w.bytes(Guid{}.bytes);
}

void get_property_ids_from_names(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint8_t flags = c.in.u8();  // 0x02: create
  const uint16_t count = c.in.u16();
  if (size_t(count) * 17 > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "more property names than the ROP buffer holds");
  std::vector<PropertyName> names;
  for (uint16_t i = 0; i < count; ++i) names.push_back(read_property_name(c.in));
  auto ids = target(c).get_ids_from_names(names, (flags & 0x02) != 0);
  bool missing = false;
  for (PropTag t : ids) missing = missing || t.id() == 0;
  c.header(c.id, c.index, missing ? ecWarnWithErrors : ec::None);
  c.out.u16(uint16_t(ids.size()));
  for (PropTag t : ids) c.out.u16(t.id());
}

void get_names_from_property_ids(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint16_t count = c.in.u16();
  if (size_t(count) * 2 > c.in.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "more property ids than the ROP buffer holds");
  std::vector<PropTag> tags;
  for (uint16_t i = 0; i < count; ++i) tags.push_back(PropTag(c.in.u16(), PropType::Unspecified));
  auto names = target(c).get_names_from_ids(tags);
  c.ok();
  c.out.u16(uint16_t(names.size()));
  for (const auto& n : names) write_name_or_none(c.out, n);
}

void query_named_properties(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint8_t flags = c.in.u8();  // NoStrings 0x01, NoIds 0x02
  const bool has_guid = c.in.u8() != 0;
  std::optional<Guid> set;
  if (has_guid) {
    Guid g;
    const ByteView b = c.in.bytes(16);
    std::copy(b.begin(), b.end(), g.bytes.begin());
    set = g;
  }
  auto& object = target(c);
  // Named ids are handed out from 0x8000 up without gaps: the first unmapped id ends the list.
  std::vector<PropTag> probe;
  std::vector<std::pair<uint16_t, PropertyName>> found;
  for (uint32_t first = 0x8000; first <= 0xFFFE; first += 256) {
    probe.clear();
    for (uint32_t id = first; id < first + 256 && id <= 0xFFFE; ++id) probe.push_back(PropTag(uint16_t(id), PropType::Unspecified));
    auto names = object.get_names_from_ids(probe);
    bool end = false;
    for (size_t i = 0; i < names.size(); ++i) {
      if (!names[i]) {
        end = true;
        break;
      }
      const PropertyName& n = *names[i];
      if (set && n.set != *set) continue;
      if ((flags & 0x01) && n.kind == NameKind::String) continue;
      if ((flags & 0x02) && n.kind == NameKind::Id) continue;
      found.emplace_back(probe[i].id(), n);
    }
    if (end) break;
  }
  BinaryWriter names;
  size_t n = 0;
  for (; n < found.size() && n < 0xFFFF; ++n) {
    const size_t at = names.size();
    write_property_name(names, found[n].second);
    if (names.size() + (n + 1) * 2 + c.out.size() + 64 > c.max_out) {
      names.truncate(at);
      break;
    }
  }
  c.ok();
  c.out.u16(uint16_t(n));
  for (size_t i = 0; i < n; ++i) c.out.u16(found[i].first);
  c.out.bytes(names.data());
}

// ---- streams ----
// A stream on a PtypString property carries UTF-16LE (MS-OXCPRPT 2.2.14: the property's value in
// its wire form), where the object model's streams carry the UTF-8 the store keeps: such a
// stream is served from a UTF-16LE copy (RopStream::wide) that goes back into the store's
// stream, as UTF-8, on commit and on release. Other streams are the store's as they are.



std::string utf8_of(const Bytes& b) {
  std::u16string w;
  w.reserve(b.size() / 2);
  for (size_t i = 0; i + 1 < b.size(); i += 2) w.push_back(char16_t(b[i] | b[i + 1] << 8));
  while (!w.empty() && w.back() == 0) w.pop_back();  // a terminator written through the stream
  return utf16_to_utf8(w);
}

RopSession::Object& stream_object(RopContext& c) { return *c.input(Kind::Stream); }

size_t stream_read(RopSession::Object& o, uint8_t* out, size_t n) {
  if (!o.wide) return o.stream->read(out, n);
  const Bytes& d = o.wide->data;
  if (o.wide_pos >= d.size()) return 0;
  const size_t k = size_t(std::min<uint64_t>(n, d.size() - o.wide_pos));
  std::copy(d.begin() + long(o.wide_pos), d.begin() + long(o.wide_pos + k), out);
  o.wide_pos += k;
  return k;
}

size_t stream_write(RopSession::Object& o, const uint8_t* data, size_t n) {
  if (!o.wide) return o.stream->write(data, n);
  if (!o.wide->writable) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the stream was opened read-only");
  if (o.wide_pos + n > store::Stream::kMaxStreamSize) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a stream holds at most 4 GiB");
  Bytes& d = o.wide->data;
  if (d.size() < o.wide_pos + n) d.resize(size_t(o.wide_pos + n));
  std::copy(data, data + n, d.begin() + long(o.wide_pos));
  o.wide_pos += n;
  o.wide->dirty = true;
  return n;
}

uint64_t stream_size(RopSession::Object& o) { return o.wide ? o.wide->data.size() : o.stream->size(); }

}  // namespace

void flush_stream(RopSession::Object& o) {
  if (o.wide && o.wide->dirty) {
    const std::string text = utf8_of(o.wide->data);
    o.stream->seek(0, store::Stream::Origin::Set);
    o.stream->set_size(0);
    o.stream->write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    o.wide->dirty = false;
  }
  o.stream->commit();
}

namespace {

void open_stream(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();
  const PropTag tag(c.in.u32());
  const uint8_t mode = c.in.u8();
  auto o = c.object(in_index);
  uint32_t& out_slot = c.slot(c.index);
  // OpenModeFlags (MS-OXCPRPT 2.2.14.1): ReadOnly 0x00, ReadWrite 0x01, Create 0x02.
  if (mode > 0x03) throw RopFailure{ec::InvalidParameter};
  auto st = RopContext::derived(*o, Kind::Stream);
  st->stream = std::shared_ptr<store::Stream>(RopContext::prop_object(*o).open_property(tag, mode));
  if (tag.type() == PropType::String) {
    st->wide = std::make_shared<RopSession::WideText>();
    st->wide->writable = (mode & 0x03) != 0;
    if (!(mode & 0x02)) {
      const Bytes utf8 = st->stream->read_all();
      st->wide->data = utf8_to_utf16le(std::string_view(reinterpret_cast<const char*>(utf8.data()), utf8.size()));
    }
  }
  const uint64_t size = stream_size(*st);
  c.add(out_slot, st);
  c.ok();
  c.out.u32(uint32_t(std::min<uint64_t>(size, 0xFFFFFFFF)));  // StreamSize
}

void read_stream(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  uint32_t want = c.in.u16();
  if (want == 0xBABE) want = c.in.u32();  // MaximumByteCount follows
  auto& o = stream_object(c);
  // What fits the response: the ROP output stays within MaxRopOut (and a DataSize is 16 bits).
  const size_t room = c.max_out > c.out.size() + 64 ? c.max_out - c.out.size() - 64 : 0;
  const size_t n = std::min<size_t>({want, 0xFFF0, room});
  Bytes buf(n);
  const size_t got = n ? stream_read(o, buf.data(), n) : 0;
  c.ok();
  c.out.u16(uint16_t(got));
  c.out.bytes(ByteView(buf.data(), got));
}

// RopWriteStream and RopWriteAndCommitStream.
void write_stream(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const ByteView data = c.sized16();
  c.failure_tail = {0, 0};  // WrittenSize
  auto& o = stream_object(c);
  const size_t written = stream_write(o, data.data(), data.size());
  if (c.id == 0x90) flush_stream(o);
  c.ok();
  c.out.u16(uint16_t(written));
}

void commit_stream(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  flush_stream(stream_object(c));
  c.ok();
}

void get_stream_size(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  auto& o = stream_object(c);
  c.ok();
  c.out.u32(uint32_t(std::min<uint64_t>(stream_size(o), 0xFFFFFFFF)));
}

void set_stream_size(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint64_t size = c.in.u64();
  auto& o = stream_object(c);
  if (o.wide) {
    if (!o.wide->writable) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the stream was opened read-only");
    if (size > store::Stream::kMaxStreamSize) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a stream holds at most 4 GiB");
    o.wide->data.resize(size_t(size));
    o.wide->dirty = true;
  } else {
    o.stream->set_size(size);
  }
  c.ok();
}

void seek_stream(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();
  const uint8_t origin = c.in.u8();
  const int64_t offset = c.in.i64();
  if (origin > 2) throw RopFailure{ec::InvalidParameter};
  auto& o = stream_object(c);
  uint64_t at;
  if (o.wide) {
    const int64_t base = origin == 0 ? 0 : origin == 1 ? int64_t(o.wide_pos) : int64_t(o.wide->data.size());
    if (base + offset < 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a seek before the start of the stream");
    at = o.wide_pos = uint64_t(base + offset);
  } else {
    at = o.stream->seek(offset, store::Stream::Origin(origin));
  }
  c.ok();
  c.out.u64(at);  // NewPosition
}

void copy_to_stream(RopContext& c) {
  c.in.u8();
  c.index = c.in.u8();  // SourceHandleIndex
  const uint8_t dest_index = c.in.u8();
  const uint64_t count = c.in.u64();
  c.failure_tail = Bytes(16, 0);  // ReadByteCount, WrittenByteCount
  auto& src = stream_object(c);
  auto dest = c.destination(dest_index, Kind::Stream);
  uint64_t read = 0, written = 0;
  uint8_t buf[16384];
  while (read < count) {
    const size_t n = stream_read(src, buf, size_t(std::min<uint64_t>(sizeof buf, count - read)));
    if (n == 0) break;
    read += n;
    written += stream_write(*dest, buf, n);
  }
  c.ok();
  c.out.u64(read);
  c.out.u64(written);
}

void clone_stream(RopContext& c) {
  c.in.u8();
  const uint8_t in_index = c.in.u8();
  c.index = c.in.u8();  // OutputHandleIndex
  auto o = c.object(in_index, Kind::Stream);
  uint32_t& out_slot = c.slot(c.index);
  auto st = RopContext::derived(*o, Kind::Stream);
  st->stream = std::shared_ptr<store::Stream>(o->stream->clone());
  st->wide = o->wide;  // the same UTF-16 copy, with a position of its own
  st->wide_pos = o->wide_pos;
  c.add(out_slot, st);
  c.ok();
}

const RopEntry kPropertyRops[] = {
    {{0x07, "RopGetPropertiesSpecific", "2.2.8.3"}, get_properties_specific},
    {{0x08, "RopGetPropertiesAll", "2.2.8.4"}, get_properties_all},
    {{0x09, "RopGetPropertiesList", "2.2.8.5"}, get_properties_list},
    {{0x0A, "RopSetProperties", "2.2.8.6"}, set_properties},
    {{0x0B, "RopDeleteProperties", "2.2.8.8"}, delete_properties},
    {{0x2B, "RopOpenStream", "2.2.9.1"}, open_stream},
    {{0x2C, "RopReadStream", "2.2.9.2"}, read_stream},
    {{0x2D, "RopWriteStream", "2.2.9.3"}, write_stream},
    {{0x2E, "RopSeekStream", "2.2.9.8"}, seek_stream},
    {{0x2F, "RopSetStreamSize", "2.2.9.7"}, set_stream_size},
    {{0x39, "RopCopyTo", "2.2.8.12"}, copy_to},
    {{0x3A, "RopCopyToStream", "2.2.9.9"}, copy_to_stream},
    {{0x3B, "RopCloneStream", "2.2.9.11"}, clone_stream},
    {{0x55, "RopGetNamesFromPropertyIds", "2.2.8.2"}, get_names_from_property_ids},
    {{0x56, "RopGetPropertyIdsFromNames", "2.2.8.1"}, get_property_ids_from_names},
    {{0x5D, "RopCommitStream", "2.2.9.4"}, commit_stream},
    {{0x5E, "RopGetStreamSize", "2.2.9.6"}, get_stream_size},
    {{0x5F, "RopQueryNamedProperties", "2.2.8.10"}, query_named_properties},
    {{0x67, "RopCopyProperties", "2.2.8.11"}, copy_properties},
    {{0x79, "RopSetPropertiesNoReplicate", "2.2.8.7"}, set_properties},
    {{0x7A, "RopDeletePropertiesNoReplicate", "2.2.8.9"}, delete_properties},
    {{0x90, "RopWriteAndCommitStream", "2.2.9.5"}, write_stream},
};

}  // namespace

std::span<const RopEntry> property_rops() { return kPropertyRops; }

}  // namespace openmapi::server
