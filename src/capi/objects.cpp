// IMsgStore, IMAPIFolder, IMessage, IAttach, IMAPITable and IStream over store/ (capi/objects.h).
#include "capi/objects.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "capi/com_object.h"
#include "capi/memory_stream.h"
#include "core/entryid.h"
#include "core/unicode.h"
#include "mapiguid.h"
#include "mapiutil.h"

namespace openmapi::capi {

// {4F4D4150-0001-4F70-656E-4D4150490001}: private to this library.
const IID IID_OpenMapiOwn = {0x4F4D4150, 0x0001, 0x4F70, {0x65, 0x6E, 0x4D, 0x41, 0x50, 0x49, 0x00, 0x01}};

namespace {

constexpr HRESULT hr(ErrorCode c) { return HRESULT(c); }
constexpr ULONG PR_INSTANCE_KEY_TAG = 0x0FF60102;
constexpr ULONG PR_ATTACH_DATA_OBJ_TAG = 0x3701000D;
constexpr ULONG PR_MESSAGE_RECIPIENTS_TAG = 0x0E12000D;
constexpr ULONG PR_MESSAGE_ATTACHMENTS_TAG = 0x0E13000D;
constexpr ULONG PR_CONTAINER_HIERARCHY_TAG = 0x360E000D;
constexpr ULONG PR_CONTAINER_CONTENTS_TAG = 0x360F000D;
constexpr ULONG PR_FOLDER_ASSOCIATED_CONTENTS_TAG = 0x3610000D;

[[noreturn]] void fail(ErrorCode c, const std::string& what) { throw_error(c, what); }
void need(const void* p, const char* what) {
  if (!p) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, std::string(what) + " is NULL");
}
void known_flags(ULONG flags, ULONG known, const char* call) {
  if (flags & ~known) fail(ErrorCode::MAPI_E_UNKNOWN_FLAGS, std::string(call) + ": unknown flags 0x" + PropTag(flags & ~known).hex().substr(2));
}

// Folder and message entry IDs of a store by its GUIDs (MS-OXCDATA 2.2.4.1, 2.2.4.2); the
// Mailbox forms read them from the store, the others are for the notification thread, where the
// store is not to be used.
Bytes folder_eid(const Guid& store, const Guid& replica, uint64_t id) {
  FolderEntryId e;
  e.provider_uid = store;
  e.database = replica;
  e.gc = id;
  return e.serialize();
}
Bytes message_eid(const Guid& store, const Guid& replica, uint64_t folder, uint64_t id) {
  MessageEntryId e;
  e.provider_uid = store;
  e.folder_database = replica;
  e.folder_gc = folder;
  e.message_database = replica;
  e.message_gc = id;
  return e.serialize();
}
Bytes folder_eid(store::Mailbox& mb, store::FolderId id) { return folder_eid(mb.mailbox_guid(), mb.replica_guid(), id); }
Bytes message_eid(store::Mailbox& mb, store::FolderId folder, store::MessageId id) {
  return message_eid(mb.mailbox_guid(), mb.replica_guid(), folder, id);
}

// The message ids of an ENTRYLIST, each of `logon`'s store (MAPI_E_INVALID_ENTRYID otherwise).
std::vector<store::MessageId> message_ids(store::Logon& logon, const ENTRYLIST* list) {
  std::vector<store::MessageId> ids;
  const std::vector<Bytes> eids = entry_ids_of(list);
  for (size_t i = 0; i < eids.size(); ++i) {
    auto [is_folder, id] = logon.mailbox().resolve_entry_id(eids[i]);
    if (is_folder) fail(ErrorCode::MAPI_E_INVALID_ENTRYID, "entry " + std::to_string(i) + " of the list is a folder's");
    ids.push_back(id);
  }
  return ids;
}

store::FolderId folder_id_of(store::Logon& logon, const Bytes& eid) {
  auto [is_folder, id] = logon.mailbox().resolve_entry_id(eid);
  if (!is_folder) fail(ErrorCode::MAPI_E_INVALID_ENTRYID, "the entry ID is a message's, not a folder's");
  return id;
}

// ---- the NOTIFICATION structures, built in one MAPI buffer and freed after OnNotify ----
struct NotificationBuffer {
  LPNOTIFICATION n = nullptr;
  NotificationBuffer() { n = allocate_of<NOTIFICATION>(sizeof(NOTIFICATION)); }
  ~NotificationBuffer() { MAPIFreeBuffer(n); }
  LPENTRYID eid(const Bytes& b, ULONG* cb) {
    *cb = ULONG(b.size());
    return alloc_entry_id(b, n);
  }
};

void deliver(IMAPIAdviseSink* sink, NotificationBuffer& buf) noexcept { sink->OnNotify(1, buf.n); }

// A sink reference held while advised (released when the connection ends).
struct SinkRef {
  IMAPIAdviseSink* sink;
  explicit SinkRef(IMAPIAdviseSink* s) : sink(s) { sink->AddRef(); }
  ~SinkRef() { sink->Release(); }
  SinkRef(const SinkRef&) = delete;
  SinkRef& operator=(const SinkRef&) = delete;
};

// ---- IStream over a property ------------------------------------------------------------
class PropertyStreamObject final : public ComObject<PropertyStreamObject, IStream, IID_IStream> {
 public:
  explicit PropertyStreamObject(std::unique_ptr<store::Stream> s) : s_(std::move(s)) {}

  HRESULT STDMETHODCALLTYPE Read(void* pv, ULONG cb, ULONG* read) override {
    if (read) *read = 0;
    if (!pv && cb) return STG_E_INVALIDPOINTER;
    return run([&] {
      const size_t n = s_->read(static_cast<uint8_t*>(pv), cb);
      if (read) *read = ULONG(n);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Write(const void* pv, ULONG cb, ULONG* written) override {
    if (written) *written = 0;
    if (!pv && cb) return STG_E_INVALIDPOINTER;
    return run([&] {
      const size_t n = s_->write(static_cast<const uint8_t*>(pv), cb);
      if (written) *written = ULONG(n);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Seek(LARGE_INTEGER move, DWORD origin, ULARGE_INTEGER* at) override {
    if (origin > STREAM_SEEK_END) return STG_E_INVALIDFUNCTION;
    return run([&] {
      const uint64_t p = s_->seek(move.QuadPart, store::Stream::Origin(origin));
      if (at) at->QuadPart = p;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetSize(ULARGE_INTEGER size) override {
    return run([&] {
      s_->set_size(size.QuadPart);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CopyTo(IStream* to, ULARGE_INTEGER cb, ULARGE_INTEGER* read, ULARGE_INTEGER* written) override {
    return copy_stream(this, to, cb, read, written);
  }
  HRESULT STDMETHODCALLTYPE Commit(DWORD) override {
    return run([&] {
      s_->commit();
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Revert() override {
    return run([&] {
      s_->revert();
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE LockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }
  HRESULT STDMETHODCALLTYPE UnlockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }
  HRESULT STDMETHODCALLTYPE Stat(STATSTG* st, DWORD) override {
    if (!st) return STG_E_INVALIDPOINTER;
    return run([&] {
      std::memset(st, 0, sizeof *st);
      st->type = STGTY_STREAM;
      st->cbSize.QuadPart = s_->size();
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Clone(IStream** out) override {
    if (!out) return STG_E_INVALIDPOINTER;
    *out = nullptr;
    return run([&] {
      *out = new PropertyStreamObject(s_->clone());
      return S_OK;
    });
  }

 private:
  // Store errors as the COM stream codes a caller of IStream expects.
  template <class F>
  HRESULT run(F&& f) {
    LastError e;
    const HRESULT r = guarded(e, f);
    if (r == hr(ErrorCode::MAPI_E_NO_ACCESS)) return STG_E_ACCESSDENIED;
    if (r == hr(ErrorCode::MAPI_E_INVALID_PARAMETER)) return STG_E_INVALIDFUNCTION;
    if (r == hr(ErrorCode::MAPI_E_TOO_BIG) || r == hr(ErrorCode::MAPI_E_NOT_ENOUGH_DISK)) return STG_E_MEDIUMFULL;
    return r;
  }
  std::unique_ptr<store::Stream> s_;
};

// ---- IStream over a PT_UNICODE property: UTF-16LE, as Windows programs read and write it ----
// The store keeps strings in UTF-8: the value is held as UTF-16LE in memory (a body is read whole
// once) and handed back, converted, on Commit (to its first NUL; an odd last byte is dropped).
IStream* wide_string_stream(std::unique_ptr<store::Stream> stream, bool writable) {
  const Bytes utf8 = stream->read_all();
  Bytes utf16 = utf8_to_utf16le(std::string_view(reinterpret_cast<const char*>(utf8.data()), utf8.size()));
  std::shared_ptr<store::Stream> target(std::move(stream));
  auto commit = [target](const std::vector<uint8_t>& data) -> HRESULT {
    LastError e;
    return guarded(e, [&] {
      std::u16string w(data.size() / 2, u'\0');
      if (!w.empty()) std::memcpy(w.data(), data.data(), w.size() * 2);
      if (auto nul = w.find(u'\0'); nul != std::u16string::npos) w.resize(nul);
      const std::string utf8 = utf16_to_utf8(w);
      target->set_size(0);
      target->seek(0, store::Stream::Origin::Set);
      target->write(reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size());
      target->commit();
      return S_OK;
    });
  };
  return new MemoryStream(std::move(utf16), writable, store::Stream::kMaxStreamSize,
                          writable ? MemoryStream::CommitFn(commit) : nullptr);
}

// ---- IMAPITable -------------------------------------------------------------------------
class TableObject final : public ComObject<TableObject, IMAPITable, IID_IMAPITable> {
 public:
  explicit TableObject(std::unique_ptr<store::Table> t) : t_(std::move(t)) {}
  ~TableObject() {
    for (auto& [c, sink] : sinks_) {
      try {
        t_->unadvise(c);
      } catch (...) {
      }
    }
  }

  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG flags, LPMAPIERROR* out) override { return err_.get(h, flags, out); }
  HRESULT STDMETHODCALLTYPE Advise(ULONG mask, LPMAPIADVISESINK sink, ULONG_PTR* connection) override {
    return guarded(err_, [&] {
      need(sink, "the advise sink");
      need(connection, "the connection");
      if (!(mask & fnevTableModified)) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, "tables send only fnevTableModified");
      auto ref = std::make_shared<SinkRef>(sink);
      const uint32_t c = t_->advise([ref](const store::TableNotification& tn) {
        try {
          NotificationBuffer buf;
          buf.n->ulEventType = fnevTableModified;
          TABLE_NOTIFICATION& tab = buf.n->info.tab;
          tab.ulTableEvent = tn.event;
          tab.hResult = S_OK;
          auto key = [&](SPropValue& v, const Bytes& b) {
            v.ulPropTag = PR_INSTANCE_KEY_TAG;
            v.Value.bin.cb = ULONG(b.size());
            v.Value.bin.lpb = reinterpret_cast<LPBYTE>(alloc_entry_id(b, buf.n));
          };
          key(tab.propIndex, tn.instance_key);
          key(tab.propPrior, tn.prior_instance_key);
          if (!tn.row.empty()) {
            tab.row.cValues = ULONG(tn.row.size());
            tab.row.lpProps = allocate_of<SPropValue>(sizeof(SPropValue) * tn.row.size(), buf.n);
            for (size_t i = 0; i < tn.row.size(); ++i) to_c(tn.row[i], tab.row.lpProps[i], buf.n);
          }
          deliver(ref->sink, buf);
        } catch (...) {
          // No memory for the notification: it is dropped (the table is still right when read).
        }
      });
      sinks_[c] = std::move(ref);
      *connection = c;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Unadvise(ULONG_PTR connection) override {
    return guarded(err_, [&] {
      auto it = sinks_.find(uint32_t(connection));
      if (it == sinks_.end() || connection > UINT32_MAX) fail(ErrorCode::MAPI_E_NOT_FOUND, "no advise connection " + std::to_string(connection));
      t_->unadvise(it->first);
      sinks_.erase(it);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetStatus(ULONG* status, ULONG* type) override {
    if (!status || !type) return hr(ErrorCode::MAPI_E_INVALID_PARAMETER);
    *status = TBLSTAT_COMPLETE;
    *type = TBLTYPE_DYNAMIC;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE SetColumns(LPSPropTagArray tags, ULONG flags) override {
    return guarded(err_, [&] {
      need(tags, "the column set");
      t_->set_columns(to_core(tags));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE QueryColumns(ULONG flags, LPSPropTagArray* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      *out = alloc_tags(t_->columns());
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetRowCount(ULONG, ULONG* count) override {
    return guarded(err_, [&] {
      need(count, "the count");
      *count = t_->row_count();
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SeekRow(BOOKMARK origin, LONG rows, LONG* sought) override {
    return guarded(err_, [&] {
      int32_t moved = 0;
      if (origin <= BOOKMARK_END) {
        moved = t_->seek_row(store::BookmarkOrigin(origin), rows);
      } else {
        t_->seek_row_bookmark(core_bookmark(origin), rows, &moved);
      }
      if (sought) *sought = moved;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SeekRowApprox(ULONG numerator, ULONG denominator) override {
    return guarded(err_, [&] {
      t_->seek_row_approx(numerator, denominator);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE QueryPosition(ULONG* row, ULONG* numerator, ULONG* denominator) override {
    return guarded(err_, [&] {
      need(row, "the row");
      need(numerator, "the numerator");
      need(denominator, "the denominator");
      auto [at, count] = t_->query_position();
      *row = at;
      *numerator = at;
      *denominator = count ? count : 1;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE FindRow(LPSRestriction r, BOOKMARK origin, ULONG flags) override {
    return guarded(err_, [&] {
      need(r, "the restriction");
      const Restriction res = to_core(*r);
      store::BookmarkOrigin from = store::BookmarkOrigin(origin <= BOOKMARK_END ? origin : BOOKMARK_CURRENT);
      if (origin > BOOKMARK_END) t_->seek_row_bookmark(core_bookmark(origin), 0);
      if (!t_->find_row(res, from, !(flags & DIR_BACKWARD))) fail(ErrorCode::MAPI_E_NOT_FOUND, "no row matches");
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Restrict(LPSRestriction r, ULONG) override {
    return guarded(err_, [&] {
      t_->restrict(r ? std::optional<Restriction>(to_core(*r)) : std::nullopt);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CreateBookmark(BOOKMARK* out) override {
    return guarded(err_, [&] {
      need(out, "the bookmark");
      *out = BOOKMARK(t_->create_bookmark()) + kBookmarkBase;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE FreeBookmark(BOOKMARK b) override {
    return guarded(err_, [&] {
      if (b > BOOKMARK_END) t_->free_bookmark(core_bookmark(b));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SortTable(LPSSortOrderSet s, ULONG) override {
    return guarded(err_, [&] {
      need(s, "the sort order set");
      SortOrderSet set = to_core(*s);
      t_->sort(set);
      sort_ = std::move(set);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE QuerySortOrder(LPSSortOrderSet* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      auto* s = allocate_of<SSortOrderSet>(CbNewSSortOrderSet(sort_.orders.size()));
      s->cSorts = ULONG(sort_.orders.size());
      s->cCategories = sort_.categories;
      s->cExpanded = sort_.expanded;
      for (size_t i = 0; i < sort_.orders.size(); ++i) s->aSort[i] = {sort_.orders[i].tag.value, ULONG(sort_.orders[i].direction)};
      *out = s;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE QueryRows(LONG count, ULONG flags, LPSRowSet* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      *out = nullptr;
      if (count == 0) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, "QueryRows of 0 rows");
      const bool forward = count > 0;
      const uint32_t n = forward ? uint32_t(count) : uint32_t(-int64_t(count));
      std::optional<uint32_t> mark;
      if (flags & TBL_NOADVANCE) mark = t_->create_bookmark();
      std::vector<store::Row> rows = t_->query_rows(n, forward);
      if (mark) {
        t_->seek_row_bookmark(*mark, 0);
        t_->free_bookmark(*mark);
      }
      *out = alloc_rows(rows);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Abort() override { return S_OK; }  // every call completes before it returns
  HRESULT STDMETHODCALLTYPE ExpandRow(ULONG cb, LPBYTE key, ULONG count, ULONG, LPSRowSet* rows, ULONG* more) override {
    return guarded(err_, [&] {
      need(key, "the instance key");
      const Bytes k(key, key + cb);
      const uint32_t shown = t_->expand_row(k);
      std::vector<store::Row> got = count ? t_->rows_after(k, count) : std::vector<store::Row>{};
      if (more) *more = shown > got.size() ? ULONG(shown - got.size()) : 0;
      if (rows) *rows = alloc_rows(got);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CollapseRow(ULONG cb, LPBYTE key, ULONG, ULONG* count) override {
    return guarded(err_, [&] {
      need(key, "the instance key");
      const uint32_t n = t_->collapse_row(Bytes(key, key + cb));
      if (count) *count = n;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE WaitForCompletion(ULONG, ULONG, ULONG* status) override {
    if (status) *status = TBLSTAT_COMPLETE;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE GetCollapseState(ULONG, ULONG cb, LPBYTE key, ULONG* cb_state, LPBYTE* state) override {
    return guarded(err_, [&] {
      need(cb_state, "the state size");
      need(state, "the state");
      const Bytes s = t_->get_collapse_state(key ? Bytes(key, key + cb) : Bytes());
      *state = reinterpret_cast<LPBYTE>(alloc_entry_id(s));
      *cb_state = ULONG(s.size());
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetCollapseState(ULONG, ULONG cb, LPBYTE state, BOOKMARK* location) override {
    return guarded(err_, [&] {
      need(state, "the state");
      const uint32_t b = t_->set_collapse_state(Bytes(state, state + cb));
      if (location) *location = BOOKMARK(b) + kBookmarkBase;
      else t_->free_bookmark(b);
      return S_OK;
    });
  }

 private:
  // The table's bookmarks are numbered from kBookmarkBase, clear of BOOKMARK_BEGINNING/CURRENT/END.
  static constexpr BOOKMARK kBookmarkBase = 16;
  static uint32_t core_bookmark(BOOKMARK b) {
    if (b < kBookmarkBase || b - kBookmarkBase > UINT32_MAX) fail(ErrorCode::MAPI_E_INVALID_BOOKMARK, "not a bookmark of this table");
    return uint32_t(b - kBookmarkBase);
  }
  std::unique_ptr<store::Table> t_;
  LastError err_;
  SortOrderSet sort_;
  std::map<uint32_t, std::shared_ptr<SinkRef>> sinks_;
};

// ---- IMAPIProp, shared by every object with properties ------------------------------------
template <class Derived, class Interface, const IID&... kIds>
class PropObject : public ComObject<Derived, Interface, kIds..., IID_IMAPIProp>, public Own {
 public:
  PropObject(std::shared_ptr<store::Logon> logon, std::shared_ptr<store::MapiProp> prop)
      : logon_(std::move(logon)), prop_(std::move(prop)) {}
  std::shared_ptr<store::MapiProp> core_prop() override { return prop_; }
  void* query_own(REFIID iid) { return iid == IID_OpenMapiOwn ? static_cast<Own*>(this) : nullptr; }

  HRESULT STDMETHODCALLTYPE GetLastError(HRESULT h, ULONG flags, LPMAPIERROR* out) override { return err_.get(h, flags, out); }
  HRESULT STDMETHODCALLTYPE SaveChanges(ULONG flags) override {
    return guarded(err_, [&] {
      known_flags(flags, KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS, "SaveChanges");
      uint32_t f = 0;
      if (flags & KEEP_OPEN_READONLY) f |= store::save_flags::KeepOpenReadOnly;
      if (flags & KEEP_OPEN_READWRITE) f |= store::save_flags::KeepOpenReadWrite;
      if (flags & FORCE_SAVE) f |= store::save_flags::ForceSave;
      prop_->save_changes(f);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetProps(LPSPropTagArray tags, ULONG flags, ULONG* count, LPSPropValue* out) override {
    return guarded(err_, [&] {
      need(count, "the value count");
      need(out, "the result");
      *count = 0;
      *out = nullptr;
      known_flags(flags, MAPI_UNICODE, "GetProps");
      const std::vector<PropTag> asked = to_core(tags);
      if (tags && asked.empty()) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, "an empty property tag array");
      store::PropsResult r = prop_->get_props(asked);
      for (size_t i = 0; i < r.values.size(); ++i)
        if (!tags || asked[i].type() == PropType::Unspecified) r.values[i] = as_asked(std::move(r.values[i]), flags);
      *out = alloc_props(r.values);
      *count = ULONG(r.values.size());
      return r.status == ErrorCode::Success ? S_OK : hr(r.status);
    });
  }
  HRESULT STDMETHODCALLTYPE GetPropList(ULONG flags, LPSPropTagArray* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      std::vector<PropTag> list = prop_->get_prop_list();
      if (!(flags & MAPI_UNICODE))
        for (PropTag& t : list) {
          if (t.type() == PropType::String) t = t.with_type(PropType::String8);
          if (t.type() == PropType::MultipleString) t = t.with_type(PropType::MultipleString8);
        }
      *out = alloc_tags(list);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenProperty(ULONG tag, LPCIID iid, ULONG options, ULONG flags, LPUNKNOWN* out) override {
    return guarded(err_, [&] {
      need(iid, "the interface");
      need(out, "the result");
      *out = nullptr;
      known_flags(flags, MAPI_MODIFY | MAPI_CREATE | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS, "OpenProperty");
      if (LPUNKNOWN special = static_cast<Derived*>(this)->open_special(tag, *iid, flags)) {
        *out = special;
        return S_OK;
      }
      if (*iid != IID_IStream && *iid != IID_IUnknown)
        fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "property " + PropTag(tag).hex() + " opens only as IStream");
      uint32_t f = store::open_flags::ReadOnly;
      if (flags & (MAPI_MODIFY | MAPI_BEST_ACCESS)) f |= store::open_flags::ReadWrite;
      if (flags & MAPI_CREATE) f |= store::open_flags::Create | store::open_flags::ReadWrite;
      (void)options;  // STGM_* of the stream: the flags above say what the stream may do
      auto stream = prop_->open_property(PropTag(tag), f);
      // PT_UNICODE values are UTF-16LE in a stream, as Windows programs read and write them.
      if (PROP_TYPE(tag) == PT_UNICODE) *out = wide_string_stream(std::move(stream), f & store::open_flags::ReadWrite);
      else *out = wrap_stream(std::move(stream));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetProps(ULONG count, LPSPropValue values, LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return guarded(err_, [&] {
      const auto p = prop_->set_props(to_core(values, count));
      if (problems) *problems = alloc_problems(p);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE DeleteProps(LPSPropTagArray tags, LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return guarded(err_, [&] {
      need(tags, "the tag array");
      const auto p = prop_->delete_props(to_core(tags));
      if (problems) *problems = alloc_problems(p);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CopyTo(ULONG ciid, LPCIID excluded_iids, LPSPropTagArray excluded, ULONG_PTR, LPMAPIPROGRESS,
                                   LPCIID iid, LPVOID dest, ULONG flags, LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return guarded(err_, [&] {
      need(dest, "the destination");
      if (ciid && !excluded_iids) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, "excluded interfaces without their list");
      auto target = own_prop(dest, iid);
      if (!target) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the destination is not an object of this library");
      const auto p = prop_->copy_to(*target, to_core(excluded), copy_flags(flags));
      if (problems) *problems = alloc_problems(p);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CopyProps(LPSPropTagArray included, ULONG_PTR, LPMAPIPROGRESS, LPCIID iid, LPVOID dest, ULONG flags,
                                      LPSPropProblemArray* problems) override {
    if (problems) *problems = nullptr;
    return guarded(err_, [&] {
      need(included, "the tag array");
      need(dest, "the destination");
      auto target = own_prop(dest, iid);
      if (!target) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the destination is not an object of this library");
      const auto p = prop_->copy_props(*target, to_core(included), copy_flags(flags));
      if (problems) *problems = alloc_problems(p);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetNamesFromIDs(LPSPropTagArray* tags, LPGUID set, ULONG flags, ULONG* count,
                                            LPMAPINAMEID** names) override {
    return guarded(err_, [&] {
      need(tags, "the tag array");
      need(count, "the count");
      need(names, "the result");
      *count = 0;
      *names = nullptr;
      std::vector<PropTag> asked = to_core(*tags);
      const bool all = !*tags;
      if (all)
        for (PropTag t : prop_->get_prop_list())
          if (t.is_named()) asked.push_back(t);
      std::vector<std::optional<PropertyName>> got = prop_->get_names_from_ids(asked);
      if (all && set) {  // only the names of one property set
        Guid g;
        std::memcpy(g.bytes.data(), set, 16);
        std::vector<PropTag> kept;
        std::vector<std::optional<PropertyName>> kept_names;
        for (size_t i = 0; i < asked.size(); ++i)
          if (got[i] && got[i]->set == g) kept.push_back(asked[i]), kept_names.push_back(got[i]);
        asked = std::move(kept);
        got = std::move(kept_names);
      }
      bool missing = false;
      auto* array = allocate_of<LPMAPINAMEID>(sizeof(LPMAPINAMEID) * got.size());
      try {
        for (size_t i = 0; i < got.size(); ++i) {
          const auto& n = got[i];
          if (!n || ((flags & MAPI_NO_STRINGS) && n->kind == NameKind::String) || ((flags & MAPI_NO_IDS) && n->kind == NameKind::Id)) {
            missing = true;
            continue;
          }
          auto* id = allocate_of<MAPINAMEID>(sizeof(MAPINAMEID), array);
          id->lpguid = allocate_of<GUID>(sizeof(GUID), array);
          std::memcpy(id->lpguid, n->set.bytes.data(), 16);
          id->ulKind = n->kind == NameKind::Id ? MNID_ID : MNID_STRING;
          if (n->kind == NameKind::Id) id->Kind.lID = LONG(n->lid);
          else id->Kind.lpwstrName = static_cast<LPWSTR>(alloc_text(n->name, MAPI_UNICODE, array));
          array[i] = id;
        }
        if (all) *tags = alloc_tags(asked);
      } catch (...) {
        MAPIFreeBuffer(array);
        throw;
      }
      *names = array;
      *count = ULONG(got.size());
      return missing ? hr(ErrorCode::MAPI_W_ERRORS_RETURNED) : S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetIDsFromNames(ULONG count, LPMAPINAMEID* names, ULONG flags, LPSPropTagArray* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      *out = nullptr;
      if (count == 0 || !names) fail(ErrorCode::MAPI_E_NO_SUPPORT, "GetIDsFromNames of every name the store maps is not supported");
      if (count > kMaxCount) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, "too many names");
      std::vector<PropertyName> ns;
      ns.reserve(count);
      for (ULONG i = 0; i < count; ++i) {
        need(names[i], "a property name");
        ns.push_back(to_core(*names[i]));
      }
      const std::vector<PropTag> ids = prop_->get_ids_from_names(ns, flags & MAPI_CREATE);
      bool missing = false;
      for (PropTag t : ids) missing |= t.type() == PropType::ErrorCode;
      *out = alloc_tags(ids);
      return missing ? hr(ErrorCode::MAPI_W_ERRORS_RETURNED) : S_OK;
    });
  }

  // OpenProperty of the object's subobjects; nullptr for plain properties.
  LPUNKNOWN open_special(ULONG, REFIID, ULONG) { return nullptr; }

 protected:
  static uint32_t copy_flags(ULONG flags) {
    uint32_t f = 0;
    if (flags & MAPI_MOVE) f |= store::copy_flags::Move;
    if (flags & MAPI_NOREPLACE) f |= store::copy_flags::NoReplace;
    return f;
  }
  std::shared_ptr<store::Logon> logon_;
  std::shared_ptr<store::MapiProp> prop_;
  LastError err_;
};

// ---- IAttach ----------------------------------------------------------------------------
class AttachObject final : public PropObject<AttachObject, IAttach, IID_IAttachment> {
 public:
  AttachObject(std::shared_ptr<store::Logon> l, std::shared_ptr<store::Attach> a) : PropObject(std::move(l), a), a_(std::move(a)) {}
  LPUNKNOWN open_special(ULONG tag, REFIID iid, ULONG flags) {
    if (tag != PR_ATTACH_DATA_OBJ_TAG) return nullptr;
    if (iid != IID_IMessage) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "PR_ATTACH_DATA_OBJ opens as IMessage here");
    return wrap_message(logon_, a_->open_embedded(flags & MAPI_CREATE));
  }

 private:
  std::shared_ptr<store::Attach> a_;
};

// ---- IMessage ---------------------------------------------------------------------------
class MessageObject final : public PropObject<MessageObject, IMessage, IID_IMessage> {
 public:
  MessageObject(std::shared_ptr<store::Logon> l, std::shared_ptr<store::Message> m) : PropObject(std::move(l), m), m_(std::move(m)) {}
  LPUNKNOWN open_special(ULONG tag, REFIID iid, ULONG) {
    if (tag != PR_MESSAGE_RECIPIENTS_TAG && tag != PR_MESSAGE_ATTACHMENTS_TAG) return nullptr;
    if (iid != IID_IMAPITable) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "this property opens as IMAPITable");
    return wrap_table(tag == PR_MESSAGE_RECIPIENTS_TAG ? m_->recipient_table() : m_->attachment_table());
  }

  HRESULT STDMETHODCALLTYPE GetAttachmentTable(ULONG, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      *out = wrap_table(m_->attachment_table());
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenAttach(ULONG num, LPCIID iid, ULONG, LPATTACH* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      *out = nullptr;
      if (iid && *iid != IID_IAttachment && *iid != IID_IMAPIProp) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "attachments are IAttach");
      *out = new AttachObject(logon_, m_->open_attach(num));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CreateAttach(LPCIID iid, ULONG, ULONG* num, LPATTACH* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      need(num, "the attachment number");
      *out = nullptr;
      if (iid && *iid != IID_IAttachment && *iid != IID_IMAPIProp) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "attachments are IAttach");
      auto a = m_->create_attach();
      *num = a->number();
      *out = new AttachObject(logon_, std::move(a));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE DeleteAttach(ULONG num, ULONG_PTR, LPMAPIPROGRESS, ULONG) override {
    return guarded(err_, [&] {
      m_->delete_attach(num);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetRecipientTable(ULONG, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      *out = wrap_table(m_->recipient_table());
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE ModifyRecipients(ULONG flags, LPADRLIST mods) override {
    return guarded(err_, [&] {
      need(mods, "the address list");
      known_flags(flags, MODRECIP_ADD | MODRECIP_MODIFY | MODRECIP_REMOVE, "ModifyRecipients");
      m_->modify_recipients(flags, to_core(*mods));  // MODRECIP_* are the store's modrecip values
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SubmitMessage(ULONG) override {
    return guarded(err_, [&] {
      m_->submit();
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetReadFlag(ULONG flags) override {
    return guarded(err_, [&] {
      known_flags(flags, SUPPRESS_RECEIPT | CLEAR_READ_FLAG | GENERATE_RECEIPT_ONLY | CLEAR_RN_PENDING | CLEAR_NRN_PENDING | MAPI_DEFERRED_ERRORS,
                  "SetReadFlag");
      m_->set_read_flag(flags & ~MAPI_DEFERRED_ERRORS);  // the store's readflag values
      return S_OK;
    });
  }

 private:
  std::shared_ptr<store::Message> m_;
};

// ---- IMAPIFolder ------------------------------------------------------------------------
class FolderObject final : public PropObject<FolderObject, IMAPIFolder, IID_IMAPIFolder, IID_IMAPIContainer> {
 public:
  FolderObject(std::shared_ptr<store::Logon> l, std::shared_ptr<store::Folder> f) : PropObject(std::move(l), f), f_(std::move(f)) {}
  std::shared_ptr<store::Folder> core_folder() override { return f_; }
  LPUNKNOWN open_special(ULONG tag, REFIID iid, ULONG) {
    if (tag != PR_CONTAINER_CONTENTS_TAG && tag != PR_CONTAINER_HIERARCHY_TAG && tag != PR_FOLDER_ASSOCIATED_CONTENTS_TAG) return nullptr;
    if (iid != IID_IMAPITable) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "this property opens as IMAPITable");
    if (tag == PR_CONTAINER_HIERARCHY_TAG) return wrap_table(f_->hierarchy_table());
    return wrap_table(f_->contents_table(tag == PR_FOLDER_ASSOCIATED_CONTENTS_TAG ? store::tableflag::Associated : 0));
  }

  HRESULT STDMETHODCALLTYPE GetContentsTable(ULONG flags, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      known_flags(flags, MAPI_ASSOCIATED | SHOW_SOFT_DELETES | MAPI_DEFERRED_ERRORS | MAPI_UNICODE, "GetContentsTable");
      uint32_t f = 0;
      if (flags & MAPI_ASSOCIATED) f |= store::tableflag::Associated;
      if (flags & SHOW_SOFT_DELETES) f |= store::tableflag::SoftDeletes;
      *out = wrap_table(f_->contents_table(f));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetHierarchyTable(ULONG flags, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      known_flags(flags, CONVENIENT_DEPTH | SHOW_SOFT_DELETES | MAPI_DEFERRED_ERRORS | MAPI_UNICODE, "GetHierarchyTable");
      uint32_t f = 0;
      if (flags & CONVENIENT_DEPTH) f |= store::tableflag::Depth;
      if (flags & SHOW_SOFT_DELETES) f |= store::tableflag::SoftDeletes;
      *out = wrap_table(f_->hierarchy_table(f));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenEntry(ULONG cb, LPENTRYID eid, LPCIID iid, ULONG flags, ULONG* type, LPUNKNOWN* out) override {
    return guarded(err_, [&] {
      need(type, "the object type");
      need(out, "the result");
      return entry_object(logon_, open_entry(*logon_, entry_id_of(cb, eid), flags), iid, type, out);
    });
  }
  HRESULT STDMETHODCALLTYPE SetSearchCriteria(LPSRestriction r, LPENTRYLIST folders, ULONG flags) override {
    return guarded(err_, [&] {
      std::vector<store::FolderId> ids;
      for (const Bytes& eid : entry_ids_of(folders)) ids.push_back(folder_id_of(*logon_, eid));
      f_->set_search_criteria(r ? std::optional<Restriction>(to_core(*r)) : std::nullopt, ids, flags);  // the store's searchflag values
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetSearchCriteria(ULONG, LPSRestriction* r, LPENTRYLIST* folders, ULONG* state) override {
    return guarded(err_, [&] {
      store::SearchCriteria c = f_->get_search_criteria();
      if (state) *state = c.state;
      if (r) *r = c.restriction ? alloc_restriction(*c.restriction) : nullptr;
      if (folders) {
        std::vector<Bytes> eids;
        for (store::FolderId id : c.folders) eids.push_back(folder_eid(logon_->mailbox(), id));
        *folders = alloc_entry_list(eids);
      }
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CreateMessage(LPCIID iid, ULONG flags, LPMESSAGE* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      *out = nullptr;
      if (iid && *iid != IID_IMessage && *iid != IID_IMAPIProp) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "messages are IMessage");
      known_flags(flags, MAPI_ASSOCIATED | MAPI_DEFERRED_ERRORS, "CreateMessage");
      *out = wrap_message(logon_, f_->create_message(flags & MAPI_ASSOCIATED));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CopyMessages(LPENTRYLIST list, LPCIID iid, LPVOID dest, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    return guarded(err_, [&] {
      need(list, "the message list");
      auto to = own_folder(dest, iid);
      if (!to) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the destination is not a folder of this library");
      known_flags(flags, MESSAGE_MOVE | MESSAGE_DIALOG | MAPI_DECLINE_OK, "CopyMessages");
      f_->copy_messages(message_ids(*logon_, list), *to, flags & MESSAGE_MOVE ? store::copy_flags::Move : 0);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE DeleteMessages(LPENTRYLIST list, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    return guarded(err_, [&] {
      need(list, "the message list");
      known_flags(flags, MESSAGE_DIALOG | DELETE_HARD_DELETE, "DeleteMessages");
      f_->delete_messages(message_ids(*logon_, list), flags & DELETE_HARD_DELETE);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CreateFolder(ULONG type, LPTSTR name, LPTSTR comment, LPCIID iid, ULONG flags, LPMAPIFOLDER* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      need(name, "the folder name");
      *out = nullptr;
      known_flags(flags, OPEN_IF_EXISTS | MAPI_UNICODE | MAPI_DEFERRED_ERRORS, "CreateFolder");
      if (type != FOLDER_GENERIC && type != FOLDER_SEARCH) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, "folder type " + std::to_string(type));
      auto f = f_->create_folder(text_arg(name, flags), "", type == FOLDER_SEARCH ? store::FolderType::Search : store::FolderType::Generic,
                                 flags & OPEN_IF_EXISTS ? store::folder_flags::OpenIfExists : 0);
      if (comment) {
        const std::string c = text_arg(comment, flags);
        if (!c.empty()) f->set_props({PropValue::string(PropTag(0x3004, PropType::String), c)});  // PidTagComment
      }
      *out = wrap_folder(logon_, std::move(f));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CopyFolder(ULONG cb, LPENTRYID eid, LPCIID iid, LPVOID dest, LPTSTR new_name, ULONG_PTR, LPMAPIPROGRESS,
                                       ULONG flags) override {
    return guarded(err_, [&] {
      auto to = own_folder(dest, iid);
      if (!to) fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the destination is not a folder of this library");
      known_flags(flags, FOLDER_MOVE | FOLDER_DIALOG | COPY_SUBFOLDERS | MAPI_UNICODE | MAPI_DECLINE_OK, "CopyFolder");
      const store::FolderId id = folder_id_of(*logon_, entry_id_of(cb, eid));
      const bool move = flags & FOLDER_MOVE;
      f_->copy_folder(id, *to, new_name ? text_arg(new_name, flags) : "", move || (flags & COPY_SUBFOLDERS),
                      move ? store::copy_flags::Move : 0);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE DeleteFolder(ULONG cb, LPENTRYID eid, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    return guarded(err_, [&] {
      known_flags(flags, DEL_MESSAGES | DEL_FOLDERS | DELETE_HARD_DELETE | FOLDER_DIALOG, "DeleteFolder");
      uint32_t f = 0;
      if (flags & DEL_MESSAGES) f |= store::delfolder::DelMessages;
      if (flags & DEL_FOLDERS) f |= store::delfolder::DelFolders;
      if (flags & DELETE_HARD_DELETE) f |= store::delfolder::HardDelete;
      f_->delete_folder(folder_id_of(*logon_, entry_id_of(cb, eid)), f);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetReadFlags(LPENTRYLIST list, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    return guarded(err_, [&] {
      known_flags(flags, SUPPRESS_RECEIPT | CLEAR_READ_FLAG | GENERATE_RECEIPT_ONLY | CLEAR_RN_PENDING | CLEAR_NRN_PENDING |
                             MAPI_DEFERRED_ERRORS | MESSAGE_DIALOG,
                  "SetReadFlags");
      f_->set_read_flags(message_ids(*logon_, list), flags & ~(MAPI_DEFERRED_ERRORS | MESSAGE_DIALOG));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetMessageStatus(ULONG cb, LPENTRYID eid, ULONG, ULONG* status) override {
    return guarded(err_, [&] {
      need(status, "the status");
      *status = f_->get_message_status(message_id(cb, eid));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetMessageStatus(ULONG cb, LPENTRYID eid, ULONG status, ULONG mask, ULONG* old) override {
    return guarded(err_, [&] {
      const uint32_t was = f_->set_message_status(message_id(cb, eid), status, mask);
      if (old) *old = was;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SaveContentsSort(LPSSortOrderSet, ULONG) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "SaveContentsSort: folders keep no default sort order");
  }
  HRESULT STDMETHODCALLTYPE EmptyFolder(ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    return guarded(err_, [&] {
      known_flags(flags, DEL_ASSOCIATED | FOLDER_DIALOG | DELETE_HARD_DELETE, "EmptyFolder");
      f_->empty_folder(flags & DEL_ASSOCIATED);
      return S_OK;
    });
  }

 private:
  store::MessageId message_id(ULONG cb, LPENTRYID eid) {
    auto [is_folder, id] = logon_->mailbox().resolve_entry_id(entry_id_of(cb, eid));
    if (is_folder) fail(ErrorCode::MAPI_E_INVALID_ENTRYID, "the entry ID is a folder's, not a message's");
    return id;
  }
  std::shared_ptr<store::Folder> f_;
};

// ---- IMsgStore --------------------------------------------------------------------------
class StoreObject final : public PropObject<StoreObject, IMsgStore, IID_IMsgStore> {
 public:
  explicit StoreObject(std::shared_ptr<store::Logon> l) : PropObject(l, l) {}
  ~StoreObject() {
    std::lock_guard lock(mu_);
    for (auto& [c, sink] : sinks_) {
      try {
        logon_->unadvise(c);
      } catch (...) {
      }
    }
  }

  HRESULT STDMETHODCALLTYPE Advise(ULONG cb, LPENTRYID eid, ULONG mask, LPMAPIADVISESINK sink, ULONG_PTR* connection) override {
    return guarded(err_, [&] {
      need(sink, "the advise sink");
      need(connection, "the connection");
      store::AdviseScope scope = store::AdviseScope::store();
      if (cb) {
        auto [is_folder, id] = logon_->mailbox().resolve_entry_id(entry_id_of(cb, eid));
        scope = is_folder ? store::AdviseScope::folder(id) : store::AdviseScope::message(id);
      }
      const uint32_t events = mask & store::fnev::All & ~store::fnev::TableModified;
      if (!events) fail(ErrorCode::MAPI_E_INVALID_PARAMETER, "no store event in the mask");
      auto ref = std::make_shared<SinkRef>(sink);
      // Entry IDs are made from the store's GUIDs, read now: the sink runs on the feed's thread,
      // where the Logon is not to be used.
      const Guid store_guid = logon_->mailbox().mailbox_guid(), replica = logon_->mailbox().replica_guid();
      const uint32_t c = logon_->advise(events, scope, [ref, store_guid, replica](const store::Notification& n) {
        try {
          NotificationBuffer buf;
          notification_of(n, store_guid, replica, buf);
          deliver(ref->sink, buf);
        } catch (...) {
        }
      });
      std::lock_guard lock(mu_);
      sinks_[c] = std::move(ref);
      *connection = c;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE Unadvise(ULONG_PTR connection) override {
    return guarded(err_, [&] {
      std::lock_guard lock(mu_);
      auto it = sinks_.find(uint32_t(connection));
      if (it == sinks_.end() || connection > UINT32_MAX) fail(ErrorCode::MAPI_E_NOT_FOUND, "no advise connection " + std::to_string(connection));
      logon_->unadvise(it->first);
      sinks_.erase(it);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE CompareEntryIDs(ULONG cb1, LPENTRYID e1, ULONG cb2, LPENTRYID e2, ULONG, ULONG* result) override {
    return guarded(err_, [&] {
      need(result, "the result");
      *result = logon_->compare_entry_ids(entry_id_of(cb1, e1), entry_id_of(cb2, e2)) ? TRUE : FALSE;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE OpenEntry(ULONG cb, LPENTRYID eid, LPCIID iid, ULONG flags, ULONG* type, LPUNKNOWN* out) override {
    return guarded(err_, [&] {
      need(type, "the object type");
      need(out, "the result");
      return entry_object(logon_, open_entry(*logon_, entry_id_of(cb, eid), flags), iid, type, out);
    });
  }
  HRESULT STDMETHODCALLTYPE SetReceiveFolder(LPTSTR cls, ULONG flags, ULONG cb, LPENTRYID eid) override {
    return guarded(err_, [&] {
      known_flags(flags, MAPI_UNICODE, "SetReceiveFolder");
      std::optional<store::FolderId> folder;
      if (cb) folder = folder_id_of(*logon_, entry_id_of(cb, eid));
      logon_->set_receive_folder(text_arg(cls, flags), folder);
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetReceiveFolder(LPTSTR cls, ULONG flags, ULONG* cb, LPENTRYID* eid, LPTSTR* explicit_class) override {
    return guarded(err_, [&] {
      need(cb, "the entry ID size");
      need(eid, "the entry ID");
      known_flags(flags, MAPI_UNICODE, "GetReceiveFolder");
      auto [folder, registered] = logon_->get_receive_folder(text_arg(cls, flags));
      const Bytes e = folder_eid(logon_->mailbox(), folder);
      *eid = alloc_entry_id(e);
      *cb = ULONG(e.size());
      if (explicit_class) *explicit_class = static_cast<LPTSTR>(alloc_text(registered, flags));
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetReceiveFolderTable(ULONG flags, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      std::vector<std::vector<PropValue>> rows;
      for (const auto& [cls, folder] : logon_->receive_folder_table()) {
        const Bytes e = folder_eid(logon_->mailbox(), folder);
        rows.push_back({PropValue::binary(tags::PidTagEntryId, e), PropValue::binary(PropTag(0x0FF9, PropType::Binary), e),  // PidTagRecordKey
                        PropValue::string(tags::PidTagMessageClass, cls)});
      }
      *out = wrap_rows(std::move(rows), {tags::PidTagEntryId, tags::PidTagMessageClass, PropTag(0x0FF9, PropType::Binary)});
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE StoreLogoff(ULONG* flags) override {
    return guarded(err_, [&] {
      logon_->logoff();
      if (flags) *flags = LOGOFF_COMPLETE;
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE AbortSubmit(ULONG cb, LPENTRYID eid, ULONG) override {
    return guarded(err_, [&] {
      auto [is_folder, id] = logon_->mailbox().resolve_entry_id(entry_id_of(cb, eid));
      if (is_folder) fail(ErrorCode::MAPI_E_INVALID_ENTRYID, "the entry ID is a folder's");
      logon_->open_message(id, true)->abort_submit();
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE GetOutgoingQueue(ULONG, LPMAPITABLE* out) override {
    return guarded(err_, [&] {
      need(out, "the result");
      std::vector<std::vector<PropValue>> rows;
      for (store::MessageId id : logon_->outgoing_queue()) {
        auto msg = logon_->open_message(id);
        std::vector<PropValue> row{PropValue::binary(tags::PidTagEntryId, message_eid(logon_->mailbox(), msg->folder(), id))};
        for (PropTag t : {tags::PidTagSubject, tags::PidTagMessageClass, tags::PidTagClientSubmitTime, PropTag(0x0E14, PropType::Integer32)})
          if (auto v = msg->get_prop(t)) row.push_back(*v);  // PidTagSubmitFlags last
        rows.push_back(std::move(row));
      }
      *out = wrap_rows(std::move(rows), {tags::PidTagEntryId, tags::PidTagSubject, tags::PidTagClientSubmitTime});
      return S_OK;
    });
  }
  HRESULT STDMETHODCALLTYPE SetLockState(LPMESSAGE, ULONG) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "SetLockState is the spooler's, and the server's spooler sends this store's mail");
  }
  HRESULT STDMETHODCALLTYPE FinishedMsg(ULONG, ULONG, LPENTRYID) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "FinishedMsg is the spooler's, and the server's spooler sends this store's mail");
  }
  HRESULT STDMETHODCALLTYPE NotifyNewMail(LPNOTIFICATION) override {
    return err_.set(hr(ErrorCode::MAPI_E_NO_SUPPORT), "NotifyNewMail is the spooler's; new mail is notified by the store itself");
  }

 private:
  static void notification_of(const store::Notification& n, const Guid& store_guid, const Guid& replica, NotificationBuffer& buf) {
    auto feid = [&](uint64_t id) { return folder_eid(store_guid, replica, id); };
    auto meid = [&](uint64_t folder, uint64_t id) { return message_eid(store_guid, replica, folder, id); };
    const store::Change& c = n.change;
    buf.n->ulEventType = n.event;
    if (n.event == store::fnev::NewMail) {
      NEWMAIL_NOTIFICATION& m = buf.n->info.newmail;
      m.lpEntryID = buf.eid(meid(c.parent, c.id), &m.cbEntryID);
      m.lpParentID = buf.eid(feid(c.parent), &m.cbParentID);
      m.ulFlags = 0;
      m.lpszMessageClass = nullptr;  // read PR_MESSAGE_CLASS of the entry
      m.ulMessageFlags = ULONG(c.message_flags);
      return;
    }
    OBJECT_NOTIFICATION& o = buf.n->info.obj;
    o.ulObjType = c.is_folder ? MAPI_FOLDER : MAPI_MESSAGE;
    o.lpEntryID = buf.eid(c.is_folder ? feid(c.id) : meid(c.parent, c.id), &o.cbEntryID);
    if (c.parent || !c.is_folder) o.lpParentID = buf.eid(feid(c.parent), &o.cbParentID);
    if (c.old_id) o.lpOldID = buf.eid(c.is_folder ? feid(*c.old_id) : meid(c.old_parent.value_or(0), *c.old_id), &o.cbOldID);
    if (c.old_parent) o.lpOldParentID = buf.eid(feid(*c.old_parent), &o.cbOldParentID);
  }
  std::mutex mu_;  // sinks_: Unadvise may come from a sink, on the feed's thread
  std::map<uint32_t, std::shared_ptr<SinkRef>> sinks_;
};

}  // namespace

// ---- LastError, the factories -------------------------------------------------------------
HRESULT LastError::get(HRESULT h, ULONG flags, LPMAPIERROR* out) const {
  if (!out) return hr(ErrorCode::MAPI_E_INVALID_PARAMETER);
  *out = nullptr;
  if (h != hr_ || text_.empty()) return S_OK;
  try {
    auto* e = allocate_of<MAPIERROR>(sizeof(MAPIERROR));
    e->ulVersion = MAPI_ERROR_VERSION;
    e->lpszError = static_cast<LPTSTR>(alloc_text(text_, flags, e));
    e->lpszComponent = static_cast<LPTSTR>(alloc_text("OpenMAPI", flags, e));
    *out = e;
    return S_OK;
  } catch (const MapiError& x) {
    return hr(x.code());
  }
}

namespace {
// The library's own part of `unknown`, or nullptr for another library's object. The pointer is
// the caller's as long as its object lives (the reference QueryInterface added is given back).
Own* own_of(void* unknown) {
  if (!unknown) return nullptr;
  void* own = nullptr;
  auto* u = static_cast<IUnknown*>(unknown);
  if (u->QueryInterface(IID_OpenMapiOwn, &own) != S_OK || !own) return nullptr;
  u->Release();
  return static_cast<Own*>(own);
}
}  // namespace

// Every interface of ours starts with IUnknown at the object's address, whatever `iid` says.
std::shared_ptr<store::MapiProp> own_prop(void* unknown, const IID*) {
  Own* o = own_of(unknown);
  return o ? o->core_prop() : nullptr;
}

std::shared_ptr<store::Folder> own_folder(void* unknown, const IID*) {
  Own* o = own_of(unknown);
  return o ? o->core_folder() : nullptr;
}

IMsgStore* wrap_store(std::shared_ptr<store::Logon> logon) { return new StoreObject(std::move(logon)); }
IMAPIFolder* wrap_folder(std::shared_ptr<store::Logon> logon, std::shared_ptr<store::Folder> folder) {
  return new FolderObject(std::move(logon), std::move(folder));
}
IMessage* wrap_message(std::shared_ptr<store::Logon> logon, std::shared_ptr<store::Message> message) {
  return new MessageObject(std::move(logon), std::move(message));
}
IMAPITable* wrap_table(std::unique_ptr<store::Table> table) { return new TableObject(std::move(table)); }

IMAPITable* wrap_rows(std::vector<std::vector<PropValue>> rows, std::vector<PropTag> columns) {
  std::vector<std::pair<int64_t, Message>> ordered;
  for (size_t i = 0; i < rows.size(); ++i) {
    Message m;
    for (PropValue& v : rows[i]) m.props.set(std::move(v));
    ordered.emplace_back(int64_t(i), std::move(m));
  }
  auto source = std::make_unique<store::MessageRowSource>([ordered = std::move(ordered)] { return ordered; });
  return wrap_table(std::make_unique<store::ViewTable>(std::move(source), std::move(columns)));
}
IStream* wrap_stream(std::unique_ptr<store::Stream> stream) { return new PropertyStreamObject(std::move(stream)); }

store::Logon::Entry open_entry(store::Logon& logon, const Bytes& entry_id, ULONG flags) {
  known_flags(flags, MAPI_MODIFY | MAPI_BEST_ACCESS | MAPI_DEFERRED_ERRORS | SHOW_SOFT_DELETES, "OpenEntry");
  if (entry_id.empty()) return {logon.open_special(store::SpecialFolder::Root), nullptr};
  if (flags & MAPI_MODIFY) return logon.open_entry(entry_id, true);
  if (flags & MAPI_BEST_ACCESS) {
    try {
      return logon.open_entry(entry_id, true);
    } catch (const MapiError& e) {
      if (e.code() != ErrorCode::MAPI_E_NO_ACCESS) throw;
    }
  }
  return logon.open_entry(entry_id, false);
}

HRESULT entry_object(std::shared_ptr<store::Logon> logon, store::Logon::Entry entry, const IID* iid, ULONG* type, LPUNKNOWN* out) {
  *out = nullptr;
  if (entry.folder) {
    if (iid && *iid != IID_IMAPIFolder && *iid != IID_IMAPIContainer && *iid != IID_IMAPIProp && *iid != IID_IUnknown)
      fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the entry is a folder");
    *type = MAPI_FOLDER;
    *out = wrap_folder(std::move(logon), std::move(entry.folder));
    return S_OK;
  }
  if (iid && *iid != IID_IMessage && *iid != IID_IMAPIProp && *iid != IID_IUnknown)
    fail(ErrorCode::MAPI_E_INTERFACE_NOT_SUPPORTED, "the entry is a message");
  *type = MAPI_MESSAGE;
  *out = wrap_message(std::move(logon), std::move(entry.message));
  return S_OK;
}

}  // namespace openmapi::capi
