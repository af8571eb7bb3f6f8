#include "store/notify.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "core/propbag.h"

namespace openmapi::store {

std::string event_name(uint32_t event) {
  switch (event) {
    case fnev::CriticalError: return "CriticalError";
    case fnev::NewMail: return "NewMail";
    case fnev::ObjectCreated: return "ObjectCreated";
    case fnev::ObjectDeleted: return "ObjectDeleted";
    case fnev::ObjectModified: return "ObjectModified";
    case fnev::ObjectMoved: return "ObjectMoved";
    case fnev::ObjectCopied: return "ObjectCopied";
    case fnev::SearchComplete: return "SearchComplete";
    case fnev::TableModified: return "TableModified";
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04X", event);
  return buf;
}

std::vector<uint32_t> events_of(const Change& c, FolderId receive_folder) {
  switch (c.kind) {
    case ChangeKind::Created: {
      const bool fai = (c.message_flags & msgflag::Associated) != 0;
      const bool unsent = (c.message_flags & msgflag::Unsent) != 0;
      if (!c.is_folder && !fai && !unsent && c.parent == receive_folder) return {fnev::NewMail, fnev::ObjectCreated};
      return {fnev::ObjectCreated};
    }
    case ChangeKind::Restored: return {fnev::ObjectCreated};
    case ChangeKind::Modified:
    case ChangeKind::ReadStateChanged: return {fnev::ObjectModified};
    case ChangeKind::Moved: return {fnev::ObjectMoved};
    case ChangeKind::Copied: return {fnev::ObjectCopied};
    case ChangeKind::SoftDeleted:
    case ChangeKind::HardDeleted: return {fnev::ObjectDeleted};
    case ChangeKind::SearchComplete: return {fnev::SearchComplete};
  }
  return {};
}

bool AdviseScope::matches(const Change& c) const {
  switch (kind) {
    case Kind::Store: return true;
    case Kind::Folder:
      return c.parent == id || (c.old_parent && *c.old_parent == id) || (c.is_folder && c.id == id);
    case Kind::Message:
      return !c.is_folder && (c.id == id || (c.old_id && *c.old_id == id));
  }
  return false;
}

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::weak_ptr<ChangeFeed>>& registry() {
  static std::map<std::string, std::weak_ptr<ChangeFeed>> r;
  return r;
}

}  // namespace

std::shared_ptr<ChangeFeed> ChangeFeed::get(const std::string& key, const ReaderFactory& open_reader) {
  {
    std::lock_guard lk(registry_mutex());
    if (auto f = registry()[key].lock()) return f;
  }
  // Opened outside the lock: opening may commit (a schema migration), which calls committed().
  std::unique_ptr<Mailbox> reader = open_reader();
  std::lock_guard lk(registry_mutex());
  if (auto f = registry()[key].lock()) return f;  // another thread was quicker
  std::shared_ptr<ChangeFeed> f(new ChangeFeed(key, std::move(reader)));
  registry()[key] = f;
  return f;
}

void ChangeFeed::committed(const std::string& key) {
  std::shared_ptr<ChangeFeed> f;
  {
    std::lock_guard lk(registry_mutex());
    auto it = registry().find(key);
    if (it == registry().end()) return;
    f = it->second.lock();
  }
  if (f) f->poke();
}

ChangeFeed::ChangeFeed(std::string key, std::unique_ptr<Mailbox> reader) : key_(std::move(key)), reader_(std::move(reader)) {
  delivered_ = reader_->last_change_number();
  receive_folder_ = reader_->special_folder(SpecialFolder::Inbox);
  thread_ = std::thread([this] { run(); });
}

ChangeFeed::~ChangeFeed() {
  {
    std::lock_guard lk(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(registry_mutex());
  auto it = registry().find(key_);
  if (it != registry().end() && it->second.expired()) registry().erase(it);
}

void ChangeFeed::poke() {
  {
    std::lock_guard lk(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

uint32_t ChangeFeed::advise(uint32_t event_mask, AdviseScope scope, NotificationSink sink, std::optional<int64_t> after) {
  if (!event_mask || !sink) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "advise needs an event mask and a sink");
  auto sub = std::make_shared<Subscription>();
  sub->mask = event_mask;
  sub->scope = scope;
  sub->sink = std::move(sink);
  {
    std::lock_guard rl(reader_mutex_);
    sub->after = after.value_or(reader_->last_change_number());
  }
  std::lock_guard lk(mutex_);
  uint32_t id = next_id_++;
  subs_[id] = std::move(sub);
  return id;
}

void ChangeFeed::apply_view(Table& t, const TableView& view) {
  t.set_columns(view.columns);
  t.restrict(view.restriction);
  t.sort(view.sort);
  t.refresh();  // (re)starts keeping differences from this view
  t.refresh();  // and drops the Changed the view change itself makes
}

uint32_t ChangeFeed::advise_table(TableKind kind, FolderId folder, uint32_t flags, const TableView& view, TableSink sink) {
  if (!sink) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "advise needs a sink");
  auto sub = std::make_shared<Subscription>();
  sub->mask = fnev::TableModified;
  // Contents rows change with the folder's journal rows; hierarchy rows (counts of subfolders
  // and their subfolders) with any.
  sub->scope = kind == TableKind::Contents ? AdviseScope::folder(folder) : AdviseScope::store();
  sub->table_sink = std::move(sink);
  {
    std::lock_guard rl(reader_mutex_);
    sub->table = kind == TableKind::Contents ? reader_->contents_table(folder, flags) : reader_->hierarchy_table(folder, flags);
    apply_view(*sub->table, view);
    sub->after = reader_->last_change_number();
  }
  std::lock_guard lk(mutex_);
  uint32_t id = next_id_++;
  subs_[id] = std::move(sub);
  return id;
}

void ChangeFeed::set_table_view(uint32_t connection, const TableView& view) {
  std::shared_ptr<Subscription> sub;
  {
    std::lock_guard lk(mutex_);
    auto it = subs_.find(connection);
    if (it == subs_.end() || !it->second->table)
      throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no table advise connection " + std::to_string(connection));
    sub = it->second;
  }
  std::lock_guard rl(reader_mutex_);
  apply_view(*sub->table, view);
}

void ChangeFeed::unadvise(uint32_t connection) {
  {
    std::lock_guard lk(mutex_);
    auto it = subs_.find(connection);
    if (it == subs_.end()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no advise connection " + std::to_string(connection));
    it->second->live = false;
    subs_.erase(it);
  }
  // Wait for a delivery in flight (a no-op on the feed's own thread: the mutex is recursive).
  std::lock_guard wait(dispatch_mutex_);
}

void ChangeFeed::run() {
  for (;;) {
    {
      std::unique_lock lk(mutex_);
      wake_.wait_for(lk, kPollInterval, [&] { return poked_ || stop_; });
      if (stop_) return;
      poked_ = false;
    }
    try {
      for (;;) {
        std::vector<Change> batch;
        {
          std::lock_guard rl(reader_mutex_);
          batch = reader_->changes_since(delivered_.load(), std::nullopt, 1000);
        }
        if (batch.empty()) break;
        // Tables touched by this batch: refreshed once after it (a table orders its view again
        // on each refresh; once per batch keeps an import of many messages cheap to watch).
        std::vector<std::shared_ptr<Subscription>> touched;
        for (const Change& c : batch) {
          std::vector<std::shared_ptr<Subscription>> subs;
          {
            std::lock_guard lk(mutex_);
            if (stop_) return;
            for (const auto& [id, s] : subs_) subs.push_back(s);
          }
          const auto events = events_of(c, receive_folder_);
          std::lock_guard dl(dispatch_mutex_);
          for (const auto& s : subs) {
            if (c.change_number <= s->after || !s->scope.matches(c)) continue;
            if (s->table) {
              if (std::find(touched.begin(), touched.end(), s) == touched.end()) touched.push_back(s);
              continue;
            }
            for (uint32_t e : events) {
              if (!(s->mask & e)) continue;
              if (!s->live.load()) break;  // unadvised meanwhile (by another sink)
              try {
                s->sink(Notification{e, c});
              } catch (const std::exception& ex) {
                spdlog::warn("a notification sink failed: {}", ex.what());
              }
            }
          }
          delivered_ = c.change_number;
        }
        for (const auto& s : touched) {
          std::lock_guard dl(dispatch_mutex_);
          if (!s->live.load()) continue;
          std::vector<TableNotification> notes;
          try {
            std::lock_guard rl(reader_mutex_);
            notes = s->table->refresh();
          } catch (const MapiError& e) {  // the folder went: the table has nothing more to say
            spdlog::debug("a table subscription could not follow its folder: {}", e.describe());
            continue;
          }
          for (const auto& n : notes) {
            if (!s->live.load()) break;
            try {
              s->table_sink(n);
            } catch (const std::exception& ex) {
              spdlog::warn("a table notification sink failed: {}", ex.what());
            }
          }
        }
      }
    } catch (const std::exception& e) {
      spdlog::warn("reading the change journal of '{}': {}", key_, e.what());
    }
  }
}

}  // namespace openmapi::store
