#include "server/rops.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/error.h"
#include "core/propvalue.h"
#include "server/rop_context.h"

namespace openmapi::server {

namespace {

// The dispatch table: every area's handlers, in RopId order (a RopId served twice is a bug that
// the first Execute reports).
struct Dispatch {
  std::vector<RopInfo> list;
  std::array<RopHandler, 256> run{};
  Dispatch() {
    for (auto area : {store_rops(), folder_rops(), table_rops(), message_rops(), property_rops(), notify_rops()})
      for (const RopEntry& e : area) {
        if (run[e.info.id]) throw std::logic_error(std::string("two handlers for ") + e.info.name);
        run[e.info.id] = e.run;
        list.push_back(e.info);
      }
    std::sort(list.begin(), list.end(), [](const RopInfo& a, const RopInfo& b) { return a.id < b.id; });
  }
};

const Dispatch& dispatch() {
  static const Dispatch d;
  return d;
}

}  // namespace

const std::vector<RopInfo>& rop_table() { return dispatch().list; }

std::string rops_markdown() {
  std::string md =
      "# ROPs served by `openmapi serve`\n\n"
      "Generated from the dispatch table (`rop_table()` in src/server/rops.cpp); "
      "`tests/server/rops_test.cpp` fails when this file and the table differ.\n\n"
      "Every other ROP is answered with ReturnValue ecNotSupported (0x80040102), and the ROPs after it in the same "
      "Execute are not run. A ROP that fails gets its own error response and the next ROP runs.\n\n"
      "| RopId | ROP | MS-OXCROPS |\n| --- | --- | --- |\n";
  char id[8];
  for (const auto& r : rop_table()) {
    std::snprintf(id, sizeof id, "0x%02X", r.id);
    md += std::string("| ") + id + " | " + r.name + " | " + r.spec + " |\n";
  }
  md += "\n" + std::to_string(rop_table().size()) + " ROPs.\n";
  return md;
}

RopSession::RopSession(ServerConfig config, User user) : config_(std::move(config)), user_(std::move(user)) {}
RopSession::~RopSession() = default;

uint32_t RopSession::add(uint8_t logon_id, std::shared_ptr<Object> o) {
  uint32_t& n = next_in_logon_[logon_id];
  if (n >= 0x00FFFFFF) throw RopFailure{uint32_t(ErrorCode::MAPI_E_NOT_ENOUGH_RESOURCES)};  // the logon's counter ran out
  const uint32_t handle = (uint32_t(logon_id) << 24) | ++n;
  objects_[handle] = std::move(o);
  return handle;
}

void RopSession::release(uint32_t handle) {
  auto it = objects_.find(handle);
  if (it == objects_.end()) return;
  if (it->second->kind == Object::Kind::Logon) {
    // A Logon's release ends everything opened on it.
    const uint8_t id = it->second->logon_id;
    for (auto o = objects_.begin(); o != objects_.end();) o = o->second->logon_id == id ? objects_.erase(o) : std::next(o);
    next_in_logon_.erase(id);
    return;
  }
  // A stream's changes are committed when it is released (MS-OXCPRPT 3.2.5.13), as by RopCommitStream.
  if (it->second->kind == Object::Kind::Stream) {
    try {
      flush_stream(*it->second);
    } catch (const MapiError& e) {
      spdlog::warn("a released stream could not commit: {}", e.describe());
    }
  }
  objects_.erase(it);
}

void write_rop_value(BinaryWriter& w, const PropValue& v) {
  // MS-OXCDATA 2.11.1.1: in ROP buffers a PtypBinary byte count is 16 bits, a multi-value count 32.
  switch (v.type()) {
    case PropType::Binary: {
      const auto& b = v.get<Bytes>();
      w.u16(uint16_t(std::min<size_t>(b.size(), 0xFFFF)));
      w.bytes(ByteView(b.data(), std::min<size_t>(b.size(), 0xFFFF)));
      return;
    }
    case PropType::MultipleBinary: {
      const auto& bs = std::get<std::vector<Bytes>>(v.storage());
      w.u32(uint32_t(bs.size()));
      for (const auto& b : bs) {
        w.u16(uint16_t(std::min<size_t>(b.size(), 0xFFFF)));
        w.bytes(ByteView(b.data(), std::min<size_t>(b.size(), 0xFFFF)));
      }
      return;
    }
    default: write_value(w, v, true);
  }
}

PropValue read_rop_value(BinaryReader& r, PropTag tag) {
  // The counts of write_rop_value: 16-bit for PtypBinary, 32-bit for multi-values.
  switch (tag.type()) {
    case PropType::Binary: return PropValue::binary(tag, r.copy(r.u16()));
    case PropType::MultipleBinary: {
      const uint32_t n = r.u32();
      if (size_t(n) * 2 > r.remaining()) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a multi-valued binary claims more values than follow");
      std::vector<Bytes> values;
      for (uint32_t i = 0; i < n; ++i) values.push_back(r.copy(r.u16()));
      return PropValue(tag, std::move(values));
    }
    case PropType::Unspecified:
    case PropType::Null:
    case PropType::Object:
    case PropType::ErrorCode:
      throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "a property value of type " + tag.hex() + " cannot be set");
    default: return read_value(r, tag, true);
  }
}

void write_property_row(BinaryWriter& w, const std::vector<PropTag>& columns, const std::vector<PropValue>& values) {
  bool flagged = false;
  for (const auto& v : values) flagged = flagged || v.type() == PropType::ErrorCode;
  w.u8(flagged ? 0x01 : 0x00);
  for (size_t i = 0; i < columns.size(); ++i) {
    const PropValue& v = values.at(i);
    const bool error = v.type() == PropType::ErrorCode && columns[i].type() != PropType::ErrorCode;
    if (flagged) w.u8(error ? 0x0A : 0x00);
    if (error) {
      w.u32(uint32_t(v.get<int32_t>()));
      continue;
    }
    if (columns[i].type() == PropType::Unspecified) w.u16(uint16_t(v.type()));  // TypedPropertyValue
    write_rop_value(w, v);
  }
}

void RopSession::queue(Queued q) {
  std::function<void()> wake;
  {
    std::lock_guard lk(notify_mutex_);
    // A client that never fetches does not grow the queue without bound: past this many the
    // oldest go (a table's later events or a reload tell the client what it missed).
    constexpr size_t kMaxQueued = 10000;
    if (queued_.size() >= kMaxQueued) queued_.pop_front();
    queued_.push_back(std::move(q));
    wake = std::move(wake_);
    wake_ = nullptr;
  }
  if (wake) wake();
}

bool RopSession::notifications_pending() {
  std::lock_guard lk(notify_mutex_);
  return !queued_.empty();
}

void RopSession::on_pending(std::function<void()> wake) {
  {
    std::lock_guard lk(notify_mutex_);
    if (queued_.empty() || !wake) {
      wake_ = std::move(wake);
      return;
    }
  }
  wake();
}

void RopSession::append_notifications(BinaryWriter& out, size_t budget) {
  std::deque<Queued> todo;
  {
    std::lock_guard lk(notify_mutex_);
    todo.swap(queued_);
  }
  bool more = false;
  while (!todo.empty()) {
    Queued& q = todo.front();
    auto it = objects_.find(q.handle);
    if (it == objects_.end()) {  // released meanwhile: nobody to tell
      todo.pop_front();
      continue;
    }
    std::optional<Bytes> data;
    try {
      data = notification_data(it->second.get(), q);
    } catch (const MapiError& e) {
      spdlog::debug("a notification for handle {:#x} could not be encoded: {}", q.handle, e.describe());
    }
    if (!data) {
      todo.pop_front();
      continue;
    }
    // RopNotify (MS-OXCROPS 2.2.14.2): RopId 0x2A, NotificationHandle, LogonId, NotificationData;
    // room is kept for a RopPending after it.
    if (out.size() + 6 + data->size() + 3 > budget) {
      more = true;
      break;
    }
    out.u8(0x2A);
    out.u32(q.handle);
    out.u8(q.logon_id);
    out.bytes(*data);
    todo.pop_front();
  }
  if (!todo.empty()) {
    std::lock_guard lk(notify_mutex_);
    while (!todo.empty()) {
      queued_.push_front(std::move(todo.back()));
      todo.pop_back();
    }
  }
  if (more && out.size() + 3 <= budget) {
    out.u8(0x6E);  // RopPending: more notifications wait (SessionIndex 0: this session)
    out.u16(0);
  }
}

void write_problems(BinaryWriter& w, const store::PropProblems& problems) {
  w.u16(uint16_t(std::min<size_t>(problems.size(), 0xFFFF)));
  for (size_t i = 0; i < problems.size() && i < 0xFFFF; ++i) {  // PropertyProblem (MS-OXCDATA 2.7)
    w.u16(uint16_t(problems[i].index));
    w.u32(problems[i].tag.value);
    w.u32(uint32_t(problems[i].error));
  }
}

Bytes RopSession::execute(ByteView payload, size_t max_out) {
  BinaryReader head(payload);
  const uint16_t rop_size = head.u16();
  if (rop_size < 2 || rop_size > payload.size())
    throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "RopSize " + std::to_string(rop_size) + " does not fit a buffer of " + std::to_string(payload.size()));
  const ByteView rops = payload.subspan(2, rop_size - 2), table = payload.subspan(rop_size);
  if (table.size() % 4 != 0) throw_error(ErrorCode::MAPI_E_CORRUPT_DATA, "the server object handle table is not a whole number of handles");
  std::vector<uint32_t> handles;
  BinaryReader th(table);
  while (!th.at_end()) handles.push_back(th.u32());

  const Dispatch& d = dispatch();
  // The ROP responses get what MaxRopOut leaves after RopSize and the handle table.
  const size_t fixed = 2 + handles.size() * 4;
  const size_t budget = max_out > fixed ? max_out - fixed : 0;
  RopContext c{*this, BinaryReader(rops), BinaryWriter(), handles, budget, 0, 0, true, {}, std::nullopt};
  // RopBufferTooSmall (MS-OXCROPS 2.2.15.1) in place of the ROPs from `from` on: SizeNeeded, then
  // those requests, for the client to send again.
  auto too_small = [&](size_t from, size_t needed) {
    c.out.u8(0xFF);
    c.out.u16(uint16_t(std::min<size_t>(needed, 0xFFFF)));
    c.out.bytes(rops.subspan(from));
  };
  constexpr size_t kSmallestRoom = 64;  // below this, no ROP is started (its answer would not fit)
  while (!c.in.at_end()) {
    const size_t rop_start = c.in.position(), out_start = c.out.size();
    const size_t rest = rops.size() - rop_start;
    if (out_start > 0 && out_start + 3 + rest + kSmallestRoom > budget) {
      too_small(rop_start, max_out);
      break;
    }
    const std::vector<uint32_t> handles_before = handles;
    c.id = c.in.u8();
    c.index = 0;
    c.respond = true;
    c.failure_tail.clear();
    c.null_destination.reset();
    const RopHandler run = d.run[c.id];
    if (!run) {
      // Unknown to this server: its length is unknown too, so the ROPs after it cannot be found.
      // Its handle index is the third byte of nearly every ROP request (RopId, LogonId, index).
      c.header(c.id, rop_start + 2 < rops.size() ? rops[rop_start + 2] : 0, ec::NotSupported);
      break;
    }
    std::optional<uint32_t> failed;
    try {
      run(c);
    } catch (const RopFailure& f) {
      failed = f.code;
    } catch (const MapiError& e) {
      if (e.code() == ErrorCode::MAPI_E_CORRUPT_DATA) throw;  // the buffer itself is bad
      failed = uint32_t(e.code());
    }
    if (failed && c.respond) {
      c.out.truncate(out_start);
      c.header(c.id, c.index, *failed);
      if (c.null_destination && *failed == ecDstNullObject) c.out.u32(*c.null_destination);
      c.out.bytes(c.failure_tail);
    }
    if (c.out.size() > budget && out_start > 0) {
      // This answer does not fit after the others: it goes, with any object it opened, and
      // the client sends this ROP again (with the rest) in its next Execute.
      const size_t needed = c.out.size() - out_start + fixed + 3;
      for (size_t i = 0; i < handles.size(); ++i)
        if (handles[i] != handles_before[i]) {
          release(handles[i]);
          handles[i] = handles_before[i];
        }
      c.out.truncate(out_start);
      spdlog::debug("RopBufferTooSmall: a response of {} bytes after {} (MaxRopOut {})", needed, out_start, max_out);
      too_small(rop_start, std::max(needed, max_out));
      break;
    }
  }
  append_notifications(c.out, budget);
  BinaryWriter w;
  w.u16(uint16_t(2 + c.out.size()));
  w.bytes(c.out.data());
  for (uint32_t h : handles) w.u32(h);
  return w.data();
}

}  // namespace openmapi::server
