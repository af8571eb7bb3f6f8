// The Extended MAPI objects over any Mailbox backend (store/objects.h).
#include "store/objects.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/entryid.h"
#include "core/unicode.h"
#include "store/engine/rules.h"
#include "store/memory_stream.h"
#include "store/spill_buffer.h"

namespace openmapi::store {

// ---- the Logon's state, shared by every object opened through it ----------------------------
struct LogonState {
  std::shared_ptr<Mailbox> mb;
  LogonIdentity who;
  bool owner = false;
  bool open = true;
  std::shared_ptr<ChangeFeed> feed;
  std::set<uint32_t> connections;
  uint32_t next_silent = 0x80000000u;  // connections of a store that never changes (never fire)
  ~LogonState();

  Mailbox& mailbox() {
    if (!open) throw_error(ErrorCode::MAPI_E_END_OF_SESSION, "the logon has ended");
    return *mb;
  }
  // The one place rights are checked, for every door (DESIGN.md): the owner and the system have
  // every right; folder ACLs and delegates plug in here.
  void require(uint32_t right, FolderId folder) {
    mailbox();
    if (owner || who.system) return;
    throw_error(ErrorCode::MAPI_E_NO_ACCESS, "'" + who.user + "' has no right 0x" + to_hex(right) + " on folder " + std::to_string(folder));
  }
  static std::string to_hex(uint32_t v) {
    static const char* d = "0123456789ABCDEF";
    std::string s(4, '0');
    for (int i = 3; i >= 0; --i, v >>= 4) s[size_t(i)] = d[v & 0xF];
    return s;
  }
};

namespace {

bool same_type(PropType want, PropType have) {
  if (want == PropType::Unspecified || want == have) return true;
  auto str = [](PropType t) { return t == PropType::String || t == PropType::String8; };
  return str(want) && str(have);
}

// A value under the tag asked for (PtypString8 and PtypString share UTF-8 storage).
PropValue as_requested(const PropValue& v, PropTag asked) {
  if (asked.type() == PropType::Unspecified || asked.type() == v.type()) return v;
  return PropValue(PropTag(v.tag().id(), asked.type()), v.storage());
}

// The problem a value has for SetProps, if any.
std::optional<ErrorCode> value_problem(const PropValue& v, bool (*computed)(PropTag)) {
  if (v.type() == PropType::ErrorCode || v.type() == PropType::Object || v.type() == PropType::Unspecified ||
      v.type() == PropType::Null)
    return ErrorCode::MAPI_E_INVALID_TYPE;
  if (computed(v.tag())) return ErrorCode::MAPI_E_COMPUTED;
  return std::nullopt;
}

// An attachment's number: PidTagAttachNumber, or its place in the table (files without one).
uint32_t attach_num_of(const Attachment& a, size_t index) {
  return uint32_t(a.props.get_i32(tags::PidTagAttachNumber).value_or(int32_t(index)));
}

bool streamable(PropType t) { return t == PropType::Binary || t == PropType::String || t == PropType::String8; }

Bytes read_whole(PropertyStream& s) {
  Bytes out(size_t(s.size()));
  size_t at = 0;
  while (at < out.size()) {
    size_t n = s.read(out.data() + at, out.size() - at);
    if (n == 0) break;
    at += n;
  }
  out.resize(at);
  return out;
}

PropValue value_from_bytes(PropTag tag, Bytes data) {
  if (tag.type() == PropType::Binary) return PropValue(tag, std::move(data));
  return PropValue(tag, std::string(data.begin(), data.end()));
}

std::unique_ptr<PropertyStream> stream_of_value(const PropValue& v) {
  if (const auto* s = v.get_if<std::string>()) return std::make_unique<MemoryStream>(Bytes(s->begin(), s->end()));
  if (const auto* b = v.get_if<Bytes>()) return std::make_unique<MemoryStream>(*b);
  throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "property " + v.tag().hex() + " is not a string or binary");
}

// Pending changes of one property bag (a message's or an attachment's).
struct PendingProps {
  PropertyBag set;
  std::set<uint16_t> removed;                                    // ids
  std::map<uint16_t, std::pair<PropTag, std::shared_ptr<SpillBuffer>>> streams;  // by id
  bool empty() const { return set.empty() && removed.empty() && streams.empty(); }
  void put(const PropValue& v) {
    removed.erase(v.tag().id());
    streams.erase(v.tag().id());
    set.set(v);
  }
  void drop(PropTag t) {
    set.erase(PropTag(t.id(), PropType::Unspecified));
    streams.erase(t.id());
    removed.insert(t.id());
  }
  void stream(PropTag t, std::shared_ptr<SpillBuffer> b) {
    set.erase(PropTag(t.id(), PropType::Unspecified));
    removed.erase(t.id());
    streams[t.id()] = {t, std::move(b)};
  }
  // Layers these changes over `base` (small values) in place.
  void overlay(PropertyBag& base) const {
    for (uint16_t id : removed) base.erase(PropTag(id, PropType::Unspecified));
    for (const auto& [id, s] : streams) base.erase(PropTag(id, PropType::Unspecified));
    for (const auto& v : set.values()) base.set(v);
  }
  // Layers these changes over `base` large values.
  void overlay_large(std::vector<std::pair<PropTag, uint64_t>>& large) const {
    std::erase_if(large, [&](const auto& l) {
      uint16_t id = l.first.id();
      return removed.count(id) || streams.count(id) || set.find(PropTag(id, PropType::Unspecified));
    });
    for (const auto& [id, s] : streams) large.emplace_back(s.first, s.second->size());
  }
  // Merges newer changes `o` into these.
  void merge(const PendingProps& o) {
    for (uint16_t id : o.removed) drop(PropTag(id, PropType::Unspecified));
    for (const auto& [id, s] : o.streams) stream(s.first, s.second);
    for (const auto& v : o.set.values()) put(v);
  }
  // A stream's committed content: small values become ordinary ones, larger ones stay streamed.
  void take_stream(PropTag tag, std::shared_ptr<SpillBuffer> content) {
    PropTag t = tag.type() == PropType::String8 ? tag.with_type(PropType::String) : tag;
    if (content->size() <= 32 * 1024) put(value_from_bytes(t, content->bytes()));
    else stream(t, std::move(content));
  }
  // SetProps on a transacted object: refused values come back one by one, the rest are pending.
  PropProblems set_values(const std::vector<PropValue>& values, bool (*computed)(PropTag),
                          const std::function<std::optional<ErrorCode>(const PropValue&)>& extra = {}) {
    PropProblems problems;
    for (uint32_t i = 0; i < values.size(); ++i) {
      const PropValue& v = values[i];
      std::optional<ErrorCode> p = value_problem(v, computed);
      if (!p && extra) p = extra(v);
      if (p) problems.push_back({i, v.tag(), *p});
      else put(v.type() == PropType::String8 ? PropValue(v.tag().with_type(PropType::String), v.storage()) : v);
    }
    return problems;
  }
  // DeleteProps on a transacted object.
  PropProblems delete_tags(const std::vector<PropTag>& tags, const std::function<bool(PropTag)>& refused) {
    PropProblems problems;
    for (uint32_t i = 0; i < tags.size(); ++i) {
      if (refused(tags[i])) problems.push_back({i, tags[i], ErrorCode::MAPI_E_COMPUTED});
      else drop(tags[i]);
    }
    return problems;
  }
  PropChanges changes() const {
    PropChanges c;
    c.set = set.values();
    for (uint16_t id : removed) c.removed.push_back(PropTag(id, PropType::Unspecified));
    for (const auto& [id, s] : streams) c.streams.push_back({s.first, s.second->source(s.second)});
    return c;
  }
};

std::vector<PropTag> tag_list(const PropertyBag& b, const std::vector<std::pair<PropTag, uint64_t>>& large) {
  std::vector<PropTag> out;
  for (const auto& v : b.values()) out.push_back(v.tag());
  for (const auto& l : large) out.push_back(l.first);
  std::sort(out.begin(), out.end(), [](PropTag a, PropTag b) { return a.id() < b.id(); });
  return out;
}

}  // namespace

// ---- MapiProp ------------------------------------------------------------------------------
LogonState& MapiProp::logon() const {
  if (!logon_->open) throw_error(ErrorCode::MAPI_E_END_OF_SESSION, "the logon has ended");
  return *logon_;
}

PropsResult MapiProp::get_props(const std::vector<PropTag>& tags) {
  logon();
  PropsResult r;
  PropertyBag cur = current();
  auto large = large_values();
  auto large_value = [&](PropTag t, uint64_t size) -> PropValue {
    if (size > kGetPropsLimit) return PropValue::error(t.id(), ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY);
    return read_large(t);
  };
  if (tags.empty()) {
    r.values = cur.values();
    for (const auto& [t, size] : large) r.values.push_back(large_value(t, size));
    std::sort(r.values.begin(), r.values.end(), [](const PropValue& a, const PropValue& b) { return a.tag().id() < b.tag().id(); });
  } else {
    for (PropTag t : tags) {
      const PropValue* v = cur.find(PropTag(t.id(), PropType::Unspecified));
      if (v && same_type(t.type(), v->type())) {
        r.values.push_back(as_requested(*v, t));
        continue;
      }
      auto l = std::find_if(large.begin(), large.end(), [&](const auto& e) { return e.first.id() == t.id(); });
      if (!v && l != large.end() && same_type(t.type(), l->first.type())) {
        PropValue lv = large_value(l->first, l->second);
        r.values.push_back(lv.type() == PropType::ErrorCode ? lv : as_requested(lv, t));
        continue;
      }
      r.values.push_back(PropValue::error(t.id(), ErrorCode::MAPI_E_NOT_FOUND));
    }
  }
  for (const auto& v : r.values)
    if (v.type() == PropType::ErrorCode) r.status = ErrorCode::MAPI_W_ERRORS_RETURNED;
  return r;
}

std::optional<PropValue> MapiProp::get_prop(PropTag tag) {
  PropsResult r = get_props({tag});
  if (r.values.at(0).type() == PropType::ErrorCode && tag.type() != PropType::ErrorCode) {
    auto code = ErrorCode(uint32_t(r.values[0].get<int32_t>()));
    if (code == ErrorCode::MAPI_E_NOT_FOUND) return std::nullopt;
    // Too large for GetProps: a caller asking for one value gets it whole through a stream.
    auto s = open_property(tag);
    return value_from_bytes(s->tag().type() == PropType::Unspecified ? tag : s->tag(), s->read_all());
  }
  return r.values[0];
}

PropValue MapiProp::read_large(PropTag tag) {
  auto s = open_value(tag);
  return value_from_bytes(tag, read_whole(*s));
}

std::unique_ptr<PropertyStream> MapiProp::open_value(PropTag tag) {
  PropertyBag cur = current();
  const PropValue* v = cur.find(PropTag(tag.id(), PropType::Unspecified));
  if (!v) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex());
  return stream_of_value(*v);
}

void MapiProp::stream_committed(PropTag tag, std::shared_ptr<SpillBuffer> content) {
  PropProblems p = set_props({value_from_bytes(tag.type() == PropType::String8 ? tag.with_type(PropType::String) : tag, content->bytes())});
  if (!p.empty()) throw_error(p[0].error, "cannot set " + tag.hex() + " from a stream");
}

std::unique_ptr<Stream> MapiProp::open_property(PropTag tag, uint32_t flags) {
  logon();
  if (!streamable(tag.type()))
    throw_error(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "property " + tag.hex() + " cannot be opened as a stream");
  if (flags & ~(open_flags::ReadWrite | open_flags::Create)) throw_error(ErrorCode::MAPI_E_UNKNOWN_FLAGS, "unknown open flags");
  if (!(flags & open_flags::Create)) {
    // Must exist (with a fitting type).
    auto list = get_prop_list();
    if (std::none_of(list.begin(), list.end(), [&](PropTag t) { return t.id() == tag.id() && same_type(tag.type(), t.type()); }))
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex() + " to open");
  }
  return std::unique_ptr<Stream>(new Stream(shared_from_this(), tag, flags));
}

std::vector<PropTag> MapiProp::get_ids_from_names(const std::vector<PropertyName>& names, bool create) {
  Mailbox& mb = logon().mailbox();
  std::vector<PropTag> out;
  for (const auto& n : names) {
    try {
      out.push_back(PropTag(mb.named_property_id(n, create), PropType::Unspecified));
    } catch (const MapiError& e) {
      if (e.code() != ErrorCode::MAPI_E_NOT_FOUND && e.code() != ErrorCode::MAPI_E_NO_ACCESS) throw;
      out.push_back(PropTag(0, PropType::ErrorCode));
    }
  }
  return out;
}

std::vector<std::optional<PropertyName>> MapiProp::get_names_from_ids(const std::vector<PropTag>& tags) {
  Mailbox& mb = logon().mailbox();
  std::vector<std::optional<PropertyName>> out;
  for (PropTag t : tags) out.push_back(t.id() >= 0x8000 ? mb.named_property_name(t.id()) : std::nullopt);
  return out;
}

namespace {
bool computed_for(ObjectType t, PropTag tag) {
  switch (t) {
    case ObjectType::Message: return engine::is_computed_message_tag(tag);
    case ObjectType::Folder: return engine::is_computed_folder_tag(tag);
    case ObjectType::Attachment: return engine::is_computed_attachment_tag(tag);
    case ObjectType::Store: return true;
  }
  return true;
}
}  // namespace

PropProblems MapiProp::copy_props(MapiProp& dest, const std::vector<PropTag>& tags, uint32_t flags) {
  Mailbox& src_mb = logon().mailbox();
  Mailbox& dst_mb = dest.logon().mailbox();
  if (&dest == this) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "cannot copy an object onto itself");
  std::set<uint16_t> dest_has;
  if (flags & copy_flags::NoReplace)
    for (PropTag t : dest.get_prop_list()) dest_has.insert(t.id());
  std::vector<PropValue> values;
  std::vector<PropTag> moved;
  for (PropTag t : tags) {
    if (computed_for(object_type(), t) || computed_for(dest.object_type(), t)) continue;
    std::optional<PropValue> v = get_prop(PropTag(t.id(), PropType::Unspecified));
    if (!v || v->type() == PropType::ErrorCode || v->type() == PropType::Object) continue;
    PropTag target = v->tag();
    if (t.id() >= 0x8000 && &src_mb != &dst_mb) {  // named properties travel by name
      auto name = src_mb.named_property_name(t.id());
      if (!name) continue;
      target = PropTag(dst_mb.named_property_id(*name, true), v->type());
    }
    if (dest_has.count(target.id())) continue;
    values.emplace_back(target, v->storage());
    moved.push_back(v->tag());
  }
  PropProblems problems = dest.set_props(values);
  if ((flags & copy_flags::Move) && !moved.empty()) delete_props(moved);
  return problems;
}

PropProblems MapiProp::copy_to(MapiProp& dest, const std::vector<PropTag>& excluded, uint32_t flags) {
  std::set<uint16_t> skip;
  for (PropTag t : excluded) skip.insert(t.id());
  std::vector<PropTag> tags;
  for (PropTag t : get_prop_list())
    if (!skip.count(t.id())) tags.push_back(t);
  return copy_props(dest, tags, flags);
}

// ---- Stream --------------------------------------------------------------------------------
Stream::Stream(std::shared_ptr<MapiProp> owner, PropTag tag, uint32_t flags)
    : owner_(std::move(owner)), tag_(tag), writable_((flags & (open_flags::ReadWrite | open_flags::Create)) != 0) {
  if (flags & open_flags::Create) {
    copy_ = std::make_shared<SpillBuffer>();
  } else {
    reader_ = owner_->open_value(tag_);
    committed_size_ = reader_->size();
  }
}

Stream::~Stream() = default;

Stream::Stream(const Stream& from, bool)
    : owner_(from.owner_), tag_(from.tag_), writable_(from.writable_), pos_(from.pos_), committed_size_(from.committed_size_), copy_(from.copy_) {
  if (!copy_) reader_ = owner_->open_value(tag_);  // its own sequential reader of the committed value
}

std::unique_ptr<Stream> Stream::clone() {
  owner_->logon();
  if (writable_) ensure_copy();  // one copy for both from now on: each sees the other's writes
  return std::unique_ptr<Stream>(new Stream(*this, true));
}

uint64_t Stream::current_size() { return copy_ ? copy_->size() : committed_size_; }

uint64_t Stream::size() {
  owner_->logon();
  return current_size();
}

size_t Stream::read(uint8_t* out, size_t n) {
  owner_->logon();
  if (copy_) {
    size_t got = copy_->read_at(pos_, out, n);
    pos_ += got;
    return got;
  }
  if (pos_ >= committed_size_) return 0;
  if (!reader_ || reader_pos_ > pos_) {  // a seek backwards: read again from the start
    reader_ = owner_->open_value(tag_);
    reader_pos_ = 0;
  }
  uint8_t skip[16384];
  while (reader_pos_ < pos_) {
    size_t k = reader_->read(skip, size_t(std::min<uint64_t>(sizeof skip, pos_ - reader_pos_)));
    if (k == 0) return 0;
    reader_pos_ += k;
  }
  size_t got = reader_->read(out, n);
  reader_pos_ += got;
  pos_ += got;
  return got;
}

void Stream::ensure_copy() {
  if (copy_) return;
  auto copy = std::make_shared<SpillBuffer>();
  auto r = owner_->open_value(tag_);
  Bytes buf(64 * 1024);
  uint64_t at = 0;
  for (;;) {
    size_t n = r->read(buf.data(), buf.size());
    if (n == 0) break;
    copy->write_at(at, buf.data(), n);
    at += n;
  }
  copy_ = std::move(copy);
  reader_.reset();
}

size_t Stream::write(const uint8_t* data, size_t n) {
  owner_->logon();
  if (!writable_) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the stream was opened read-only");
  if (pos_ + n > kMaxStreamSize) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a stream holds at most 4 GiB");
  ensure_copy();
  copy_->write_at(pos_, data, n);
  pos_ += n;
  return n;
}

uint64_t Stream::seek(int64_t offset, Origin origin) {
  owner_->logon();
  int64_t base = origin == Origin::Set ? 0 : origin == Origin::Current ? int64_t(pos_) : int64_t(current_size());
  int64_t to = base + offset;
  if (to < 0) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "seek before the start of the stream");
  pos_ = uint64_t(to);
  return pos_;
}

void Stream::set_size(uint64_t size) {
  owner_->logon();
  if (!writable_) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the stream was opened read-only");
  if (size > kMaxStreamSize) throw_error(ErrorCode::MAPI_E_TOO_BIG, "a stream holds at most 4 GiB");
  ensure_copy();
  copy_->resize(size);
}

void Stream::commit() {
  owner_->logon();
  if (!writable_ || !copy_) return;  // nothing written: nothing to commit
  owner_->stream_committed(tag_, copy_);
  // Later writes start a new copy from what was committed.
  committed_size_ = copy_->size();
  copy_.reset();
  reader_.reset();
}

void Stream::revert() {
  owner_->logon();
  copy_.reset();
  reader_.reset();
  reader_pos_ = 0;
  committed_size_ = owner_->open_value(tag_)->size();
}

Bytes Stream::read_all() {
  Bytes out;
  uint8_t buf[65536];
  for (;;) {
    size_t n = read(buf, sizeof buf);
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

// ---- Logon ---------------------------------------------------------------------------------
std::shared_ptr<Logon> Logon::open(std::shared_ptr<Mailbox> mailbox, LogonIdentity who) {
  if (!mailbox) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "no mailbox to log on to");
  auto s = std::make_shared<LogonState>();
  std::string owner = mailbox->owner_address();
  s->owner = who.system || owner.empty() || ascii_lower(owner) == ascii_lower(who.user);
  s->mb = std::move(mailbox);
  s->who = std::move(who);
  return std::shared_ptr<Logon>(new Logon(std::move(s)));
}

Logon::Logon(std::shared_ptr<LogonState> s) : MapiProp(std::move(s)) {}

// The objects opened through a Logon keep its state: the session ends with logoff() or when
// the Logon and every object of it are gone (~LogonState).
Logon::~Logon() = default;

LogonState::~LogonState() {
  if (feed)
    for (uint32_t c : connections) {
      try {
        if (c < 0x80000000u) feed->unadvise(c);
      } catch (...) {
      }
    }
}

const LogonIdentity& Logon::identity() const { return logon_->who; }

void Logon::logoff() {
  if (!logon_->open) return;
  if (logon_->feed)
    for (uint32_t c : logon_->connections) {
      try {
        if (c < 0x80000000u) logon_->feed->unadvise(c);
      } catch (const MapiError&) {
      }
    }
  logon_->connections.clear();
  logon_->feed.reset();
  logon_->open = false;
}

Mailbox& Logon::mailbox() { return logon().mailbox(); }

PropertyBag Logon::current() {
  PropertyBag b = logon().mailbox().store_properties();
  b.set(PropValue::i32(tags::PidTagAccessLevel, logon_->owner ? 1 : 0));
  return b;
}

std::vector<PropTag> Logon::get_prop_list() { return tag_list(current(), {}); }

PropProblems Logon::set_props(const std::vector<PropValue>& values) {
  logon().require(rights::FolderOwner, 0);
  PropProblems p;
  for (uint32_t i = 0; i < values.size(); ++i) p.push_back({i, values[i].tag(), ErrorCode::MAPI_E_COMPUTED});
  return p;  // the store's properties are all computed here
}

PropProblems Logon::delete_props(const std::vector<PropTag>& tags) {
  logon().require(rights::FolderOwner, 0);
  PropProblems p;
  for (uint32_t i = 0; i < tags.size(); ++i) p.push_back({i, tags[i], ErrorCode::MAPI_E_COMPUTED});
  return p;
}

std::shared_ptr<Folder> Logon::open_folder(FolderId id) {
  logon().require(rights::ReadAny, id);
  logon().mailbox().parent_folder(id);  // MAPI_E_NOT_FOUND (one row, not the computed properties)
  return std::shared_ptr<Folder>(new Folder(logon_, id));
}

std::shared_ptr<Folder> Logon::open_special(SpecialFolder f) { return open_folder(logon().mailbox().special_folder(f)); }

struct Message::State {
  FolderId folder = 0;
  std::optional<MessageId> id;
  bool associated = false;
  bool write = false;
  bool loaded = false;
  openmapi::Message base;                               // stored: small values, recipients, attachments
  std::vector<std::pair<PropTag, uint64_t>> base_large;  // stored large values of the message
  std::optional<Bytes> change_key;
  PendingProps pending;
  std::optional<std::vector<PropertyBag>> recipients;  // the changed recipient table
  struct AttachState {
    bool created = false;
    bool deleted = false;
    PendingProps props;
    std::optional<openmapi::Message> embedded;
  };
  std::map<uint32_t, AttachState> attach;  // pending attachment changes
  uint32_t next_attach = 0;
  // Embedded messages: where save_changes hands the whole message.
  std::function<void(openmapi::Message)> embedded_sink;
};

std::shared_ptr<Message> Logon::open_message(MessageId id, bool write) {
  Mailbox& mb = logon().mailbox();
  FolderId folder = mb.message_folder(id);
  logon().require(write ? rights::EditAny : rights::ReadAny, folder);
  auto st = std::make_shared<Message::State>();
  st->folder = folder;
  st->id = id;
  st->write = write;
  auto m = std::shared_ptr<Message>(new Message(logon_, st));
  m->load();
  return m;
}

Logon::Entry Logon::open_entry(const Bytes& entry_id, bool write) {
  auto [is_folder, id] = logon().mailbox().resolve_entry_id(entry_id);
  Entry e;
  if (is_folder) e.folder = open_folder(FolderId(id));
  else e.message = open_message(MessageId(id), write);
  return e;
}

bool Logon::compare_entry_ids(const Bytes& a, const Bytes& b) {
  logon();
  if (a.size() != b.size()) return false;
  if (a.size() == 46) {
    auto x = FolderEntryId::parse(a), y = FolderEntryId::parse(b);
    return x.provider_uid == y.provider_uid && x.gc == y.gc && x.database == y.database;
  }
  if (a.size() == 70) {
    auto x = MessageEntryId::parse(a), y = MessageEntryId::parse(b);
    return x.provider_uid == y.provider_uid && x.message_gc == y.message_gc && x.message_database == y.message_database;
  }
  return a == b;
}

std::pair<FolderId, std::string> Logon::get_receive_folder(const std::string& message_class) {
  auto table = logon().mailbox().receive_folders();
  const std::string cls = ascii_lower(message_class);
  // MS-OXCSTOR 3.2.5.2: the longest registered class that is the class or a prefix of it ending at a '.'.
  std::pair<FolderId, std::string> best{table.at(0).second, ""};
  size_t best_len = 0;
  for (const auto& [c, f] : table) {
    if (c.empty() || c.size() < best_len) continue;
    if (cls == c || (cls.size() > c.size() && cls.compare(0, c.size(), c) == 0 && cls[c.size()] == '.')) {
      best = {f, c};
      best_len = c.size();
    }
  }
  return best;
}

void Logon::set_receive_folder(const std::string& message_class, std::optional<FolderId> folder) {
  logon().require(rights::FolderOwner, folder.value_or(0));
  logon().mailbox().set_receive_folder(message_class, folder);
}

std::vector<std::pair<std::string, FolderId>> Logon::receive_folder_table() { return logon().mailbox().receive_folders(); }

std::vector<MessageId> Logon::outgoing_queue() {
  std::vector<MessageId> out;
  for (const auto& [id, when] : logon().mailbox().outgoing_queue()) out.push_back(id);
  return out;
}

uint32_t Logon::advise(uint32_t event_mask, AdviseScope scope, NotificationSink sink) {
  LogonState& s = logon();
  s.require(rights::ReadAny, scope.kind == AdviseScope::Kind::Folder ? scope.id : 0);
  if (!s.feed) s.feed = s.mailbox().change_feed();
  if (!s.feed) {  // a store that never changes: a connection that never fires
    if (!event_mask || !sink) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "advise needs an event mask and a sink");
    uint32_t c = s.next_silent++;
    s.connections.insert(c);
    return c;
  }
  uint32_t c = s.feed->advise(event_mask, scope, std::move(sink));
  s.connections.insert(c);
  return c;
}

void Logon::unadvise(uint32_t connection) {
  LogonState& s = logon();
  if (!s.connections.erase(connection)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no advise connection " + std::to_string(connection));
  if (s.feed && connection < 0x80000000u) s.feed->unadvise(connection);
}

// ---- Folder --------------------------------------------------------------------------------
PropertyBag Folder::current() {
  PropertyBag b = logon().mailbox().folder_properties(id_);
  b.set(PropValue::i32(tags::PidTagAccessLevel, logon_->owner ? 1 : 0));
  return b;
}

std::vector<PropTag> Folder::get_prop_list() { return tag_list(current(), {}); }

PropProblems Folder::set_props(const std::vector<PropValue>& values) {
  logon().require(rights::FolderOwner, id_);
  PropProblems problems;
  PropertyBag ok;
  for (uint32_t i = 0; i < values.size(); ++i) {
    if (auto p = value_problem(values[i], engine::is_computed_folder_tag)) problems.push_back({i, values[i].tag(), *p});
    else ok.set(values[i]);
  }
  if (!ok.empty()) logon().mailbox().set_folder_properties(id_, ok);
  return problems;
}

PropProblems Folder::delete_props(const std::vector<PropTag>& tags) {
  logon().require(rights::FolderOwner, id_);
  PropProblems problems;
  std::vector<PropTag> ok;
  for (uint32_t i = 0; i < tags.size(); ++i) {
    if (engine::is_computed_folder_tag(tags[i]) || tags[i].id() == tags::PidTagDisplayName.id())
      problems.push_back({i, tags[i], ErrorCode::MAPI_E_COMPUTED});
    else ok.push_back(tags[i]);
  }
  if (!ok.empty()) logon().mailbox().delete_folder_properties(id_, ok);
  return problems;
}

namespace {
// A folder's table as a Logon hands it out: the backend's table, and Advise through the Logon's
// change feed (ChangeFeed::advise_table), whose table follows this one's view.
class FolderTable final : public Table {
 public:
  FolderTable(std::shared_ptr<LogonState> logon, std::unique_ptr<Table> inner, TableKind kind, FolderId folder, uint32_t flags)
      : logon_(std::move(logon)), inner_(std::move(inner)), kind_(kind), folder_(folder), flags_(flags) {}
  ~FolderTable() override {
    for (uint32_t c : connections_) {
      try {
        end(c);
      } catch (...) {  // the feed is gone: so is the subscription
      }
    }
  }

  uint32_t advise(TableSink sink) override {
    LogonState& s = *logon_;
    s.require(rights::ReadAny, folder_);
    if (!sink) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "advise needs a sink");
    if (!s.feed) s.feed = s.mailbox().change_feed();
    uint32_t c;
    if (s.feed) {
      c = s.feed->advise_table(kind_, folder_, flags_, view_(), std::move(sink));
    } else {  // a store that never changes: a connection that never fires
      c = s.next_silent++;
    }
    s.connections.insert(c);
    connections_.insert(c);
    return c;
  }
  void unadvise(uint32_t connection) override {
    if (!connections_.erase(connection))
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no table advise connection " + std::to_string(connection));
    end(connection);
  }

  void set_columns(std::vector<PropTag> columns) override {
    inner_->set_columns(std::move(columns));
    follow_view();
  }
  const std::vector<PropTag>& columns() const override { return inner_->columns(); }
  void restrict(std::optional<Restriction> r) override {
    inner_->restrict(r);
    restriction_ = std::move(r);
    follow_view();
  }
  void sort(const SortOrderSet& s) override {
    inner_->sort(s);
    sort_ = s;
    follow_view();
  }
  std::vector<TableNotification> refresh() override { return inner_->refresh(); }
  std::vector<Row> query_rows(uint32_t count, bool forward) override { return inner_->query_rows(count, forward); }
  int32_t seek_row(BookmarkOrigin origin, int32_t offset) override { return inner_->seek_row(origin, offset); }
  void seek_row_approx(uint32_t numerator, uint32_t denominator) override { inner_->seek_row_approx(numerator, denominator); }
  uint32_t create_bookmark() override { return inner_->create_bookmark(); }
  bool seek_row_bookmark(uint32_t bookmark, int32_t offset, int32_t* rows_sought) override {
    return inner_->seek_row_bookmark(bookmark, offset, rows_sought);
  }
  void free_bookmark(uint32_t bookmark) override { inner_->free_bookmark(bookmark); }
  std::optional<Row> find_row(const Restriction& r, BookmarkOrigin origin, bool forward) override {
    return inner_->find_row(r, origin, forward);
  }
  uint32_t row_count() override { return inner_->row_count(); }
  std::pair<uint32_t, uint32_t> query_position() override { return inner_->query_position(); }
  uint32_t expand_row(const Bytes& key) override { return inner_->expand_row(key); }
  uint32_t collapse_row(const Bytes& key) override { return inner_->collapse_row(key); }
  std::vector<Row> rows_after(const Bytes& key, uint32_t count) override { return inner_->rows_after(key, count); }
  Bytes get_collapse_state(const Bytes& key) override { return inner_->get_collapse_state(key); }
  uint32_t set_collapse_state(const Bytes& state) override { return inner_->set_collapse_state(state); }

 private:
  TableView view_() const { return {inner_->columns(), restriction_, sort_}; }
  // The feed's tables take the new view (a view the backend accepted).
  void follow_view() {
    if (!logon_->feed) return;
    for (uint32_t c : connections_)
      if (c < 0x80000000u) logon_->feed->set_table_view(c, view_());
  }
  // Ends connection `c` in the Logon and the feed (logoff may have ended it already).
  void end(uint32_t c) {
    if (!logon_->connections.erase(c)) return;
    if (logon_->feed && c < 0x80000000u) logon_->feed->unadvise(c);
  }

  std::shared_ptr<LogonState> logon_;
  std::unique_ptr<Table> inner_;
  TableKind kind_;
  FolderId folder_;
  uint32_t flags_;
  std::optional<Restriction> restriction_;
  SortOrderSet sort_;
  std::set<uint32_t> connections_;
};
}  // namespace

std::unique_ptr<Table> Folder::hierarchy_table(uint32_t flags) {
  logon().require(rights::ReadAny, id_);
  return std::make_unique<FolderTable>(logon_, logon().mailbox().hierarchy_table(id_, flags), TableKind::Hierarchy, id_, flags);
}

std::unique_ptr<Table> Folder::contents_table(uint32_t flags) {
  logon().require(rights::ReadAny, id_);
  return std::make_unique<FolderTable>(logon_, logon().mailbox().contents_table(id_, flags), TableKind::Contents, id_, flags);
}

std::shared_ptr<Message> Folder::create_message(bool associated) {
  logon().require(rights::Create, id_);
  if (logon().mailbox().folder_properties(id_).get_i32(tags::PidTagFolderType) == int32_t(FolderType::Search))
    throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "messages cannot be created in a search folder");
  auto st = std::make_shared<Message::State>();
  st->folder = id_;
  st->associated = associated;
  st->write = true;
  st->loaded = true;
  // MS-OXCMSG 3.2.5.2: a new message starts read and unsent (FAI: associated).
  st->pending.put(PropValue::i32(tags::PidTagMessageFlags, associated ? (msgflag::Read | msgflag::Associated)
                                                                      : (msgflag::Read | msgflag::Unsent)));
  return std::shared_ptr<Message>(new Message(logon_, st));
}

namespace {
// Every message of a folder's contents table (tableflag flags), in table order.
std::vector<MessageId> folder_message_ids(Mailbox& mb, FolderId folder, uint32_t flags) {
  auto t = mb.contents_table(folder, flags);
  t->set_columns({tags::PidTagMid});
  std::vector<MessageId> ids;
  for (;;) {
    auto rows = t->query_rows(500);
    if (rows.empty()) break;
    for (const auto& r : rows) ids.push_back(MessageId(ObjectId::from_u64(uint64_t(r[0].get<int64_t>())).gc));
  }
  return ids;
}

void require_in_folder(Mailbox& mb, const std::vector<MessageId>& ids, FolderId folder) {
  for (MessageId id : ids)
    if (mb.message_folder(id) != folder)
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, "message " + std::to_string(id) + " is not in folder " + std::to_string(folder));
}
}  // namespace

std::vector<MessageId> Folder::copy_messages(const std::vector<MessageId>& ids, Folder& dest, uint32_t flags) {
  LogonState& s = logon();
  s.require(rights::ReadAny, id_);
  dest.logon().require(rights::Create, dest.id_);
  if (flags & copy_flags::Move) s.require(rights::DeleteAny, id_);
  Mailbox& mb = s.mailbox();
  require_in_folder(mb, ids, id_);
  if (&dest.logon().mailbox() != &mb) {  // across stores: by value, named properties by name
    std::vector<MessageId> out;
    for (MessageId id : ids) {
      // Through the object model, so named properties are remapped by name.
      auto from = std::shared_ptr<Message>(new Message(logon_, std::make_shared<Message::State>()));
      from->st_->folder = id_;
      from->st_->id = id;
      from->load();
      auto target = dest.create_message(from->st_->associated);
      from->copy_to(*target, {}, 0);
      auto recipients = from->recipients();
      for (auto& r : recipients) r.erase(tags::PidTagRowid);
      target->modify_recipients(0, recipients);
      for (const auto& a : from->attachments()) {
        auto sa = from->open_attach(uint32_t(*a.get_i32(tags::PidTagAttachNumber)));
        auto ta = target->create_attach();
        sa->copy_to(*ta, {}, 0);
        ta->save_changes();
      }
      target->save_changes();
      out.push_back(*target->id());
    }
    if (flags & copy_flags::Move) mb.delete_messages(ids, DeleteMode::Hard);
    return out;
  }
  return (flags & copy_flags::Move) ? mb.move_messages(ids, dest.id_) : mb.copy_messages(ids, dest.id_);
}

void Folder::delete_messages(const std::vector<MessageId>& ids, bool hard) {
  LogonState& s = logon();
  s.require(rights::DeleteAny, id_);
  require_in_folder(s.mailbox(), ids, id_);
  s.mailbox().delete_messages(ids, hard ? DeleteMode::Hard : DeleteMode::Soft);
}

std::shared_ptr<Folder> Folder::create_folder(const std::string& name, const std::string& container_class, FolderType type,
                                              uint32_t flags) {
  LogonState& s = logon();
  s.require(rights::CreateSubfolder, id_);
  Mailbox& mb = s.mailbox();
  try {
    return std::shared_ptr<Folder>(new Folder(logon_, mb.create_folder(id_, name, container_class, type)));
  } catch (const MapiError& e) {
    if (e.code() != ErrorCode::MAPI_E_COLLISION || !(flags & folder_flags::OpenIfExists)) throw;
  }
  const std::string want = ascii_lower(name);
  for (FolderId c : mb.child_folders(id_)) {
    if (ascii_lower(mb.folder_properties(c).get_string(tags::PidTagDisplayName).value_or("")) == want)
      return std::shared_ptr<Folder>(new Folder(logon_, c));
  }
  throw_error(ErrorCode::MAPI_E_COLLISION, "a folder named '" + name + "' exists but cannot be found");
}

FolderId Folder::copy_folder(FolderId id, Folder& dest, const std::string& new_name, bool recursive, uint32_t flags) {
  LogonState& s = logon();
  Mailbox& mb = s.mailbox();
  if (mb.parent_folder(id) != id_) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "folder " + std::to_string(id) + " is not a subfolder of " + std::to_string(id_));
  s.require(rights::ReadAny, id);
  dest.logon().require(rights::CreateSubfolder, dest.id_);
  if (&dest.logon().mailbox() != &mb) throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "copying folders between stores is not supported yet");
  if (flags & copy_flags::Move) {
    s.require(rights::DeleteAny, id_);
    mb.move_folder(id, dest.id_);
    if (!new_name.empty()) mb.rename_folder(id, new_name);
    return id;
  }
  for (std::optional<FolderId> at = dest.id_; at; at = mb.parent_folder(*at))
    if (*at == id) throw_error(ErrorCode::MAPI_E_FOLDER_CYCLE, "cannot copy a folder into itself or its subfolders");
  if (auto made = mb.copy_folder_whole(id, dest.id_, new_name, recursive)) return *made;
  // One batch: the copy is whole or not at all.
  auto batch = mb.begin_batch();
  std::function<FolderId(FolderId, FolderId, const std::string&, bool)> copy_one = [&](FolderId from, FolderId into,
                                                                                      const std::string& name, bool deep) {
    PropertyBag p = mb.folder_properties(from);
    const std::string n = name.empty() ? p.get_string(tags::PidTagDisplayName).value_or("Folder") : name;
    FolderId made = mb.create_folder(into, n, p.get_string(tags::PidTagContainerClass).value_or(""),
                                     FolderType(p.get_i32(tags::PidTagFolderType).value_or(1)));
    PropertyBag copyable;
    for (const auto& v : p.values())
      if (!engine::is_computed_folder_tag(v.tag()) && v.tag().id() != tags::PidTagDisplayName.id() &&
          v.tag().id() != tags::PidTagChangeKey.id() && v.tag().id() != tags::PidTagPredecessorChangeList.id() &&
          v.tag().id() != tags::PidTagRecordKey.id() && v.tag().id() != tags::PidTagSourceKey.id() &&
          v.tag().id() != tags::PidTagParentSourceKey.id() && v.tag().id() != tags::PidTagSubfolders.id() &&
          v.type() != PropType::ErrorCode && v.tag().id() != tags::PidTagCreationTime.id() &&
          v.tag().id() != tags::PidTagLastModificationTime.id() && v.tag().id() != tags::PidTagDeletedCountTotal.id() &&
          v.tag().id() != tags::PidTagMessageSizeExtended.id() && v.tag().id() != 0x0FFA /* PidTagStoreRecordKey */ &&
          v.tag().id() != tags::PidTagAdditionalRenEntryIds.id() && !(v.tag().id() >= 0x36D0 && v.tag().id() <= 0x36D7))
        copyable.set(v);
    if (!copyable.empty()) mb.set_folder_properties(made, copyable);
    for (uint32_t fl : {0u, tableflag::Associated}) {
      auto ids = folder_message_ids(mb, from, fl);
      if (!ids.empty()) mb.copy_messages(ids, made);
    }
    if (deep)
      for (FolderId c : mb.child_folders(from)) copy_one(c, made, "", true);
    return made;
  };
  FolderId made = copy_one(id, dest.id_, new_name, recursive);
  batch->commit();
  return made;
}

void Folder::delete_folder(FolderId id, uint32_t flags) {
  LogonState& s = logon();
  Mailbox& mb = s.mailbox();
  if (mb.parent_folder(id) != id_) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "folder " + std::to_string(id) + " is not a subfolder of " + std::to_string(id_));
  s.require(rights::DeleteAny, id);
  mb.delete_folder(id, flags);
}

void Folder::empty_folder(bool associated) {
  LogonState& s = logon();
  s.require(rights::DeleteAny, id_);
  Mailbox& mb = s.mailbox();
  if (mb.empty_folder_whole(id_, associated)) return;
  auto batch = mb.begin_batch();
  std::vector<uint32_t> kinds{0u};
  if (associated) kinds.push_back(tableflag::Associated);
  for (uint32_t fl : kinds) {
    auto ids = folder_message_ids(mb, id_, fl);
    if (!ids.empty()) mb.delete_messages(ids, DeleteMode::Hard);
  }
  for (FolderId c : mb.child_folders(id_)) mb.delete_folder(c, delfolder::DelFolders | delfolder::DelMessages | delfolder::HardDelete);
  batch->commit();
}

void Folder::set_read_flags(const std::vector<MessageId>& ids, uint32_t flags) {
  LogonState& s = logon();
  s.require(rights::ReadAny, id_);
  Mailbox& mb = s.mailbox();
  std::vector<MessageId> targets = ids;
  if (targets.empty()) targets = folder_message_ids(mb, id_, 0);
  else require_in_folder(mb, targets, id_);
  if (flags & readflag::GenerateReceiptOnly) return;  // receipts come with the transport
  if (!targets.empty()) mb.set_read_flag(targets, !(flags & readflag::ClearReadFlag));
}

void Folder::set_search_criteria(const std::optional<Restriction>& restriction, const std::vector<FolderId>& folders,
                                 uint32_t flags) {
  LogonState& s = logon();
  s.require(rights::FolderOwner, id_);
  for (FolderId f : folders) s.require(rights::ReadAny, f);
  s.mailbox().set_search_criteria(id_, restriction, folders, flags);
}

SearchCriteria Folder::get_search_criteria() {
  LogonState& s = logon();
  s.require(rights::ReadAny, id_);
  return s.mailbox().get_search_criteria(id_);
}

uint32_t Folder::get_message_status(MessageId id) {
  LogonState& s = logon();
  s.require(rights::ReadAny, id_);
  require_in_folder(s.mailbox(), {id}, id_);
  openmapi::Message m = s.mailbox().load_message(id, false);
  return uint32_t(m.props.get_i32(tags::PidTagMessageStatus).value_or(0));
}

uint32_t Folder::set_message_status(MessageId id, uint32_t status, uint32_t mask) {
  LogonState& s = logon();
  s.require(rights::EditAny, id_);
  uint32_t old = get_message_status(id);
  uint32_t now = (old & ~mask) | (status & mask);
  if (now != old) {
    MessageChanges c;
    c.props.set.push_back(PropValue::i32(tags::PidTagMessageStatus, int32_t(now)));
    s.mailbox().write_message(id_, id, false, c);
  }
  return old;
}

// ---- Message -------------------------------------------------------------------------------
Message::Message(std::shared_ptr<LogonState> s, std::shared_ptr<State> st) : MapiProp(std::move(s)), st_(std::move(st)) {}
Message::~Message() = default;

std::optional<MessageId> Message::id() const { return st_->id; }
FolderId Message::folder() const { return st_->folder; }
bool Message::writable() const { return st_->write; }

void Message::load() {
  Mailbox& mb = logon().mailbox();
  if (!st_->id) return;
  st_->base = mb.load_message(*st_->id, false);
  st_->base_large = mb.large_properties(*st_->id, std::nullopt);
  if (const PropValue* ck = st_->base.props.find(tags::PidTagChangeKey); ck && ck->get_if<Bytes>()) st_->change_key = ck->get<Bytes>();
  if (auto f = st_->base.props.get_i32(tags::PidTagMessageFlags)) st_->associated = (*f & msgflag::Associated) != 0;
  st_->next_attach = 0;
  for (size_t i = 0; i < st_->base.attachments.size(); ++i)
    st_->next_attach = std::max(st_->next_attach, attach_num_of(st_->base.attachments[i], i) + 1);
  st_->loaded = true;
}

PropertyBag Message::current() {
  logon();
  PropertyBag b = st_->base.props;
  st_->pending.overlay(b);
  b.set(PropValue::i32(tags::PidTagAccessLevel, st_->write ? 1 : 0));
  const bool has_attach = !attachments().empty();
  b.set(PropValue::boolean(tags::PidTagHasAttachments, has_attach));
  return b;
}

std::vector<std::pair<PropTag, uint64_t>> Message::large_values() {
  auto l = st_->base_large;
  st_->pending.overlay_large(l);
  return l;
}

PropValue Message::read_large(PropTag tag) { return MapiProp::read_large(tag); }

std::unique_ptr<PropertyStream> Message::open_value(PropTag tag) {
  logon();
  if (auto s = st_->pending.streams.find(tag.id()); s != st_->pending.streams.end()) return s->second.second->reader(s->second.second);
  if (const PropValue* v = st_->pending.set.find(PropTag(tag.id(), PropType::Unspecified))) return stream_of_value(*v);
  if (st_->pending.removed.count(tag.id())) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex());
  if (const PropValue* v = st_->base.props.find(PropTag(tag.id(), PropType::Unspecified))) return stream_of_value(*v);
  for (const auto& [t, size] : st_->base_large)
    if (t.id() == tag.id()) return logon().mailbox().open_stream(*st_->id, t);
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex());
}

void Message::stream_committed(PropTag tag, std::shared_ptr<SpillBuffer> content) {
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  st_->pending.take_stream(tag, std::move(content));
}

std::vector<PropTag> Message::get_prop_list() { return tag_list(current(), large_values()); }

PropProblems Message::set_props(const std::vector<PropValue>& values) {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  // MS-OXCMSG 2.2.1.6: PidTagMessageFlags can be set only before the first save.
  const bool saved = st_->id.has_value();
  return st_->pending.set_values(values, engine::is_computed_message_tag, [saved](const PropValue& v) -> std::optional<ErrorCode> {
    if (saved && v.tag().id() == tags::PidTagMessageFlags.id()) return ErrorCode::MAPI_E_COMPUTED;
    return std::nullopt;
  });
}

PropProblems Message::delete_props(const std::vector<PropTag>& tags) {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  return st_->pending.delete_tags(
      tags, [](PropTag t) { return engine::is_computed_message_tag(t) || t.id() == tags::PidTagMessageFlags.id(); });
}

std::vector<PropertyBag> Message::recipients() {
  logon();
  if (st_->recipients) return *st_->recipients;
  return st_->base.recipients;
}

void Message::modify_recipients(uint32_t flags, const std::vector<PropertyBag>& rows) {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  if (flags & ~(modrecip::Add | modrecip::Modify | modrecip::Remove | modrecip::KeepRowIds)) throw_error(ErrorCode::MAPI_E_UNKNOWN_FLAGS, "unknown ModifyRecipients flags");
  std::vector<PropertyBag> table = flags ? recipients() : std::vector<PropertyBag>{};
  int32_t next = 0;
  for (const auto& r : table) next = std::max(next, r.get_i32(tags::PidTagRowid).value_or(-1) + 1);
  auto find_row = [&](const PropertyBag& r) {
    auto id = r.get_i32(tags::PidTagRowid);
    if (!id) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "a recipient row to modify or remove needs PidTagRowid");
    auto it = std::find_if(table.begin(), table.end(), [&](const PropertyBag& t) { return t.get_i32(tags::PidTagRowid) == id; });
    if (it == table.end()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no recipient row " + std::to_string(*id));
    return it;
  };
  for (const PropertyBag& r : rows) {
    if (flags & modrecip::Remove) {
      table.erase(find_row(r));
    } else if (flags & modrecip::Modify) {
      auto it = find_row(r);
      *it = r;
    } else {
      PropertyBag row = r;
      const auto own = (flags & modrecip::KeepRowIds) ? r.get_i32(tags::PidTagRowid) : std::nullopt;
      if (own) {
        if (std::any_of(table.begin(), table.end(), [&](const PropertyBag& t) { return t.get_i32(tags::PidTagRowid) == own; }))
          throw_error(ErrorCode::MAPI_E_COLLISION, "recipient row " + std::to_string(*own) + " exists already");
        next = std::max(next, *own + 1);
      } else {
        row.set(PropValue::i32(tags::PidTagRowid, next++));
      }
      table.push_back(std::move(row));
    }
  }
  st_->recipients = std::move(table);
}

std::unique_ptr<Table> Message::recipient_table() {
  std::vector<std::pair<int64_t, openmapi::Message>> rows;
  for (const auto& r : recipients()) {
    openmapi::Message m;
    m.props = r;
    rows.emplace_back(r.get_i32(tags::PidTagRowid).value_or(0), std::move(m));
  }
  auto source = std::make_unique<MessageRowSource>([rows = std::move(rows)] { return rows; });
  return std::make_unique<ViewTable>(std::move(source), std::vector<PropTag>{tags::PidTagRowid, tags::PidTagDisplayName,
                                                                             tags::PidTagEmailAddress, tags::PidTagRecipientType});
}

std::vector<PropertyBag> Message::attachments() {
  logon();
  std::map<uint32_t, PropertyBag> rows;
  for (size_t i = 0; i < st_->base.attachments.size(); ++i) {
    const uint32_t num = attach_num_of(st_->base.attachments[i], i);
    rows[num] = st_->base.attachments[i].props;
    rows[num].set(PropValue::i32(tags::PidTagAttachNumber, int32_t(num)));
  }
  for (const auto& [num, ch] : st_->attach) {
    if (ch.deleted) {
      rows.erase(num);
      continue;
    }
    PropertyBag& b = rows[num];
    ch.props.overlay(b);
    b.set(PropValue::i32(tags::PidTagAttachNumber, int32_t(num)));
  }
  std::vector<PropertyBag> out;
  for (auto& [n, b] : rows) out.push_back(std::move(b));
  return out;
}

std::unique_ptr<Table> Message::attachment_table() {
  std::vector<std::pair<int64_t, openmapi::Message>> rows;
  for (const auto& a : attachments()) {
    openmapi::Message m;
    m.props = a;
    rows.emplace_back(a.get_i32(tags::PidTagAttachNumber).value_or(0), std::move(m));
  }
  auto source = std::make_unique<MessageRowSource>([rows = std::move(rows)] { return rows; });
  return std::make_unique<ViewTable>(std::move(source), std::vector<PropTag>{tags::PidTagAttachNumber, tags::PidTagAttachLongFilename,
                                                                             tags::PidTagAttachMethod, tags::PidTagAttachSize});
}

struct Attach::State {
  std::shared_ptr<Message> msg;
  uint32_t num = 0;
  bool created = false;
  bool write = false;
  PendingProps pending;
  std::optional<openmapi::Message> embedded;
};

std::shared_ptr<Attach> Message::create_attach() {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  auto a = std::make_shared<Attach::State>();
  a->msg = std::static_pointer_cast<Message>(shared_from_this());
  a->num = st_->next_attach++;
  a->created = true;
  a->write = true;
  return std::shared_ptr<Attach>(new Attach(logon_, a));
}

std::shared_ptr<Attach> Message::open_attach(uint32_t attach_num) {
  logon();
  auto rows = attachments();
  if (std::none_of(rows.begin(), rows.end(), [&](const PropertyBag& b) { return b.get_i32(tags::PidTagAttachNumber) == int32_t(attach_num); }))
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no attachment " + std::to_string(attach_num));
  auto a = std::make_shared<Attach::State>();
  a->msg = std::static_pointer_cast<Message>(shared_from_this());
  a->num = attach_num;
  a->write = st_->write;
  return std::shared_ptr<Attach>(new Attach(logon_, a));
}

void Message::delete_attach(uint32_t attach_num) {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  open_attach(attach_num);  // MAPI_E_NOT_FOUND
  auto& ch = st_->attach[attach_num];
  if (ch.created) st_->attach.erase(attach_num);  // never stored: forget it
  else {
    ch = State::AttachState{};
    ch.deleted = true;
  }
}

void Message::set_read_flag(uint32_t flags) {
  logon();
  if (flags & readflag::GenerateReceiptOnly) return;
  const bool read = !(flags & readflag::ClearReadFlag);
  if (st_->id && !st_->embedded_sink) {
    logon().require(rights::ReadAny, st_->folder);
    logon().mailbox().set_read_flag({*st_->id}, read);
    // Keep this object's view in step (the flag is not a pending change).
    int32_t f = st_->base.props.get_i32(tags::PidTagMessageFlags).value_or(0);
    f = read ? (f | msgflag::Read | msgflag::EverRead) : (f & ~msgflag::Read);
    st_->base.props.set(PropValue::i32(tags::PidTagMessageFlags, f));
    return;
  }
  PropertyBag cur = current();
  int32_t f = cur.get_i32(tags::PidTagMessageFlags).value_or(0);
  f = read ? (f | msgflag::Read) : (f & ~msgflag::Read);
  st_->pending.put(PropValue::i32(tags::PidTagMessageFlags, f));
}

void Message::submit() {
  LogonState& s = logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  if (st_->embedded_sink) throw_error(ErrorCode::MAPI_E_NO_SUPPORT, "an embedded message cannot be submitted");
  s.require(rights::EditAny, st_->folder);
  if (!st_->id || !st_->pending.empty() || st_->recipients || !st_->attach.empty()) save_changes();
  s.mailbox().submit_message(*st_->id);
  load();
}

void Message::abort_submit() {
  LogonState& s = logon();
  if (!st_->id) throw_error(ErrorCode::MAPI_E_NOT_IN_QUEUE, "the message was never saved");
  s.require(rights::EditAny, st_->folder);
  s.mailbox().abort_submit(*st_->id);
  load();
}

openmapi::Message Message::snapshot() {
  openmapi::Message m;
  m.props = current();
  m.props.erase(tags::PidTagAccessLevel);
  for (const auto& [t, size] : large_values()) m.props.set(read_large(t));
  m.recipients = recipients();
  for (const auto& a : attachments()) {
    auto at = open_attach(uint32_t(*a.get_i32(tags::PidTagAttachNumber)));
    Attachment out;
    out.props = at->current();
    for (const auto& [t, size] : at->large_values()) out.props.set(at->read_large(t));
    if (out.props.get_i32(tags::PidTagAttachMethod) == attach_method::EmbeddedMessage) {
      try {
        out.embedded = std::make_unique<openmapi::Message>(at->open_embedded(false)->snapshot());
      } catch (const MapiError& e) {
        if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
      }
    }
    m.attachments.push_back(std::move(out));
  }
  return m;
}

void Message::save_changes(uint32_t flags) {
  LogonState& s = logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the message was opened read-only");
  if (flags & ~(save_flags::KeepOpenReadOnly | save_flags::KeepOpenReadWrite | save_flags::ForceSave | 0x08 /* DEFERRED */))
    throw_error(ErrorCode::MAPI_E_UNKNOWN_FLAGS, "unknown SaveChanges flags");
  if (st_->embedded_sink) {  // an embedded message: up to its attachment, whole
    openmapi::Message whole = snapshot();
    st_->embedded_sink(whole);
    st_->base = std::move(whole);
    st_->base.props.erase(tags::PidTagAccessLevel);
    st_->base.props.erase(tags::PidTagHasAttachments);
    st_->base_large.clear();
    st_->pending = PendingProps{};
    st_->recipients.reset();
    st_->attach.clear();
  } else {
    s.require(st_->id ? rights::EditAny : rights::Create, st_->folder);
    MessageChanges c;
    c.props = st_->pending.changes();
    c.recipients = st_->recipients;
    for (const auto& [num, ch] : st_->attach) {
      AttachmentChange a;
      a.attach_num = num;
      a.created = ch.created;
      a.deleted = ch.deleted;
      a.props = ch.props.changes();
      if (ch.embedded) a.embedded = *ch.embedded;
      c.attachments.push_back(std::move(a));
    }
    if (st_->id && !(flags & save_flags::ForceSave)) c.expected_change_key = st_->change_key;
    MessageId id = s.mailbox().write_message(st_->folder, st_->id, st_->associated, c);
    st_->id = id;
    st_->pending = PendingProps{};
    st_->recipients.reset();
    st_->attach.clear();
    load();
  }
  if (flags & save_flags::KeepOpenReadOnly) st_->write = false;
}

// ---- Attach --------------------------------------------------------------------------------
Attach::Attach(std::shared_ptr<LogonState> s, std::shared_ptr<State> st) : MapiProp(std::move(s)), st_(std::move(st)) {}
Attach::~Attach() = default;
uint32_t Attach::number() const { return st_->num; }

PropertyBag Attach::current() {
  logon();
  PropertyBag b;
  for (const auto& row : st_->msg->attachments())
    if (row.get_i32(tags::PidTagAttachNumber) == int32_t(st_->num)) b = row;
  st_->pending.overlay(b);
  b.set(PropValue::i32(tags::PidTagAttachNumber, int32_t(st_->num)));
  b.set(PropValue::i32(tags::PidTagObjectType, int32_t(ObjectType::Attachment)));
  b.set(PropValue::i32(tags::PidTagAccessLevel, st_->write ? 1 : 0));
  return b;
}

std::vector<std::pair<PropTag, uint64_t>> Attach::large_values() {
  auto& mst = *st_->msg->st_;
  std::vector<std::pair<PropTag, uint64_t>> l;
  auto ch = mst.attach.find(st_->num);
  const bool stored = mst.id && !(ch != mst.attach.end() && ch->second.created);
  if (stored) l = logon().mailbox().large_properties(*mst.id, st_->num);
  if (ch != mst.attach.end()) ch->second.props.overlay_large(l);
  st_->pending.overlay_large(l);
  return l;
}

PropValue Attach::read_large(PropTag tag) { return MapiProp::read_large(tag); }

std::unique_ptr<PropertyStream> Attach::open_value(PropTag tag) {
  logon();
  auto& mst = *st_->msg->st_;
  auto layer = [&](const PendingProps& p, bool& removed) -> std::unique_ptr<PropertyStream> {
    if (auto s = p.streams.find(tag.id()); s != p.streams.end()) return s->second.second->reader(s->second.second);
    if (const PropValue* v = p.set.find(PropTag(tag.id(), PropType::Unspecified))) return stream_of_value(*v);
    removed = removed || p.removed.count(tag.id());
    return nullptr;
  };
  bool removed = false;
  if (auto r = layer(st_->pending, removed)) return r;
  if (removed) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex());
  auto ch = mst.attach.find(st_->num);
  if (ch != mst.attach.end()) {
    if (auto r = layer(ch->second.props, removed)) return r;
    if (removed || ch->second.created) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex());
  }
  for (size_t i = 0; i < mst.base.attachments.size(); ++i)
    if (attach_num_of(mst.base.attachments[i], i) == st_->num)
      if (const PropValue* v = mst.base.attachments[i].props.find(PropTag(tag.id(), PropType::Unspecified))) return stream_of_value(*v);
  if (!mst.id) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex());
  for (const auto& [t, size] : logon().mailbox().large_properties(*mst.id, st_->num))
    if (t.id() == tag.id()) return logon().mailbox().open_attachment_stream(*mst.id, st_->num, t);
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no property " + tag.hex());
}

void Attach::stream_committed(PropTag tag, std::shared_ptr<SpillBuffer> content) {
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the attachment was opened read-only");
  st_->pending.take_stream(tag, std::move(content));
}

std::vector<PropTag> Attach::get_prop_list() { return tag_list(current(), large_values()); }

PropProblems Attach::set_props(const std::vector<PropValue>& values) {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the attachment was opened read-only");
  return st_->pending.set_values(values, engine::is_computed_attachment_tag);
}

PropProblems Attach::delete_props(const std::vector<PropTag>& tags) {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the attachment was opened read-only");
  return st_->pending.delete_tags(tags, engine::is_computed_attachment_tag);
}

void Attach::save_changes(uint32_t flags) {
  logon();
  if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the attachment was opened read-only");
  auto& mst = *st_->msg->st_;
  auto& ch = mst.attach[st_->num];
  if (ch.deleted) throw_error(ErrorCode::MAPI_E_OBJECT_DELETED, "the attachment was deleted");
  ch.created = ch.created || st_->created;
  ch.props.merge(st_->pending);
  if (st_->embedded) ch.embedded = std::move(st_->embedded);
  st_->pending = PendingProps{};
  st_->embedded.reset();
  st_->created = false;
  if (flags & save_flags::KeepOpenReadOnly) st_->write = false;
}

std::shared_ptr<Message> Attach::open_embedded(bool create) {
  logon();
  auto& mst = *st_->msg->st_;
  auto est = std::make_shared<Message::State>();
  est->folder = mst.folder;
  est->write = st_->write;
  est->loaded = true;
  std::optional<openmapi::Message> found;
  auto ch = mst.attach.find(st_->num);
  if (st_->embedded) found = *st_->embedded;
  else if (ch != mst.attach.end() && ch->second.embedded) found = *ch->second.embedded;
  else if (mst.id && !(ch != mst.attach.end() && ch->second.created)) {
    openmapi::Message whole = logon().mailbox().load_message(*mst.id, true);
    for (size_t i = 0; i < whole.attachments.size(); ++i)
      if (attach_num_of(whole.attachments[i], i) == st_->num && whole.attachments[i].embedded) found = *whole.attachments[i].embedded;
  }
  if (!found) {
    if (!create) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "attachment " + std::to_string(st_->num) + " holds no embedded message");
    if (!st_->write) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "the attachment was opened read-only");
    st_->pending.put(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
    est->pending.put(PropValue::i32(tags::PidTagMessageFlags, msgflag::Read | msgflag::Unsent));
  } else {
    est->base = std::move(*found);
    for (size_t i = 0; i < est->base.attachments.size(); ++i)
      est->next_attach = std::max(est->next_attach, attach_num_of(est->base.attachments[i], i) + 1);
  }
  std::weak_ptr<State> weak = st_;
  est->embedded_sink = [weak](openmapi::Message m) {
    auto a = weak.lock();
    if (!a) throw_error(ErrorCode::MAPI_E_OBJECT_DELETED, "the attachment of this embedded message is gone");
    // Embedded messages carry no store-computed values of their own.
    m.props.erase(tags::PidTagAccessLevel);
    m.props.erase(tags::PidTagHasAttachments);
    a->embedded = std::move(m);
    a->pending.put(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
  };
  return std::shared_ptr<Message>(new Message(logon_, est));
}

}  // namespace openmapi::store

namespace openmapi::store {

std::vector<PropertyBag> Mailbox::message_rows(FolderId folder, const std::vector<MessageId>& ids, const std::vector<PropTag>& tags) {
  std::vector<PropertyBag> out;
  out.reserve(ids.size());
  for (MessageId id : ids) {
    PropertyBag row;
    try {
      if (message_folder(id) == folder) {
        const openmapi::Message m = load_message(id, false);
        for (PropTag t : tags)
          if (const PropValue* v = m.props.find(t)) row.set(*v);
      }
    } catch (const MapiError& e) {
      if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<Mailbox::IndexEntry> Mailbox::message_index(FolderId folder, const std::vector<PropTag>& marks) {
  if (marks.size() > 32) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "at most 32 marks");
  auto table = contents_table(folder);
  std::vector<PropTag> columns = {tags::PidTagMid, tags::PidTagMessageFlags, tags::PidTagChangeNumber};
  columns.insert(columns.end(), marks.begin(), marks.end());
  table->set_columns(columns);
  std::vector<IndexEntry> out;
  for (const auto& row : table->query_rows(UINT32_MAX)) {
    IndexEntry e;
    e.id = ObjectId::from_u64(uint64_t(row[0].get<int64_t>())).gc;
    if (const int32_t* f = row[1].get_if<int32_t>()) e.message_flags = *f;
    if (const int64_t* cn = row[2].get_if<int64_t>()) e.change_number = int64_t(ObjectId::from_u64(uint64_t(*cn)).gc);
    for (size_t k = 0; k < marks.size(); ++k)
      if (row[3 + k].type() != PropType::ErrorCode) e.marks |= 1u << k;
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const IndexEntry& a, const IndexEntry& b) { return a.id < b.id; });
  return out;
}

std::vector<Mailbox::QueueEntry> Mailbox::queue_entries() {
  std::vector<QueueEntry> out;
  for (const auto& [id, submitted] : outgoing_queue()) out.push_back({id, submitted, {}});
  return out;
}

std::pair<bool, uint64_t> Mailbox::resolve_entry_id(const Bytes& entry_id) {
  const Guid store = mailbox_guid();
  try {
    if (entry_id.size() == 46) {
      FolderEntryId f = FolderEntryId::parse(entry_id);
      if (f.provider_uid != store) throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "the entry ID is of another store");
      return {true, f.gc};
    }
    if (entry_id.size() == 70) {
      MessageEntryId m = MessageEntryId::parse(entry_id);
      if (m.provider_uid != store) throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "the entry ID is of another store");
      return {false, m.message_gc};
    }
  } catch (const MapiError& e) {
    if (e.code() == ErrorCode::MAPI_E_INVALID_ENTRYID) throw;
    throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, std::string("a malformed entry ID: ") + e.what());
  }
  throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "not a folder or message entry ID (" + std::to_string(entry_id.size()) + " bytes)");
}

}  // namespace openmapi::store
