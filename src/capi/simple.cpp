// Simple MAPI (capi/include/mapi.h) over mapi::Session and the object model.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>

#include "capi/convert.h"
#include "core/entryid.h"
#include "core/unicode.h"
#include "mapi/session.h"
#include "mapi.h"

namespace openmapi::capi {
namespace {

namespace fs = std::filesystem;

// ---- sessions ------------------------------------------------------------------------------
struct SimpleSession {
  std::shared_ptr<mapi::Session> s;
  std::string profile;
  int refs = 1;
  bool shareable = true;
};
struct Sessions {
  std::mutex mu;
  std::map<LHANDLE, std::shared_ptr<SimpleSession>> open;
  LHANDLE next = 0x1000;
};
Sessions& sessions() {
  static Sessions* s = new Sessions();
  return *s;
}

// A Simple MAPI failure: the status code and what it means (for logs; Simple MAPI has no
// GetLastError).
struct Failure {
  ULONG code;
};
[[noreturn]] void fail(ULONG code) { throw Failure{code}; }

mapi::Profile profile_named(const std::string& name) {
  mapi::ProfileStore store(mapi::ProfileStore::default_path());
  if (name.empty()) {
    if (store.list().empty()) fail(MAPI_E_LOGIN_FAILURE);
    return store.get_default();
  }
  try {
    return store.get(name);
  } catch (const MapiError&) {
    fail(MAPI_E_LOGIN_FAILURE);
  }
}

std::shared_ptr<mapi::Session> open_session(const mapi::Profile& p) {
  try {
    return mapi::Session::logon_as_owner(p);
  } catch (const MapiError&) {
    fail(MAPI_E_LOGIN_FAILURE);
  }
}

// The session of a handle, or (handle 0) a temporary one on the default profile for this call.
std::shared_ptr<mapi::Session> session_of(LHANDLE h) {
  if (h == 0) return open_session(profile_named(""));
  auto& all = sessions();
  std::lock_guard lock(all.mu);
  auto it = all.open.find(h);
  if (it == all.open.end()) fail(MAPI_E_INVALID_SESSION);
  return it->second->s;
}

// Runs `f`, turning what it throws into a Simple MAPI status.
template <class F>
ULONG simple(F&& f) noexcept {
  try {
    f();
    return SUCCESS_SUCCESS;
  } catch (const Failure& e) {
    return e.code;
  } catch (const MapiError& e) {
    switch (e.code()) {
      case ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY: return MAPI_E_INSUFFICIENT_MEMORY;
      case ErrorCode::MAPI_E_NO_ACCESS: return MAPI_E_ACCESS_DENIED;
      case ErrorCode::MAPI_E_END_OF_SESSION: return MAPI_E_INVALID_SESSION;
      case ErrorCode::MAPI_E_STORE_FULL: case ErrorCode::MAPI_E_NOT_ENOUGH_DISK: return MAPI_E_DISK_FULL;
      case ErrorCode::MAPI_E_NOT_FOUND: case ErrorCode::MAPI_E_INVALID_ENTRYID: case ErrorCode::MAPI_E_OBJECT_DELETED:
        return MAPI_E_INVALID_MESSAGE;
      default: return MAPI_E_FAILURE;
    }
  } catch (const std::bad_alloc&) {
    return MAPI_E_INSUFFICIENT_MEMORY;
  } catch (...) {
    return MAPI_E_FAILURE;
  }
}

// ---- messages in and out -------------------------------------------------------------------
struct Recip {
  ULONG cls = MAPI_TO;
  std::string name, address;
  Bytes entry_id;
};
struct File {
  std::string path, name;
  ULONG position = ULONG(-1);
};
struct Draft {
  std::string subject, text, type;
  ULONG flags = 0;
  std::optional<Recip> originator;
  std::vector<Recip> recips;
  std::vector<File> files;
};

template <class Char>
std::string text_of(const Char* s) {
  if constexpr (sizeof(Char) == 1) return utf8_of(reinterpret_cast<LPCSTR>(s));
  else return utf8_of(reinterpret_cast<const WCHAR*>(s));
}

template <class Message, class RecipDesc, class FileDesc>
Draft draft_of(const Message* m) {
  if (!m) fail(MAPI_E_INVALID_MESSAGE);
  Draft d;
  d.subject = text_of(m->lpszSubject);
  d.text = text_of(m->lpszNoteText);
  d.type = text_of(m->lpszMessageType);
  d.flags = m->flFlags;
  auto recip = [](const RecipDesc& r) {
    Recip x;
    x.cls = r.ulRecipClass;
    x.name = text_of(r.lpszName);
    x.address = text_of(r.lpszAddress);
    if (r.ulEIDSize > kMaxCount || (r.ulEIDSize && !r.lpEntryID)) fail(MAPI_E_INVALID_RECIPS);
    const auto* p = static_cast<const uint8_t*>(r.lpEntryID);
    if (r.ulEIDSize) x.entry_id.assign(p, p + r.ulEIDSize);
    return x;
  };
  if (m->lpOriginator) d.originator = recip(*m->lpOriginator);
  if (m->nRecipCount > kMaxCount || (m->nRecipCount && !m->lpRecips)) fail(MAPI_E_INVALID_RECIPS);
  for (ULONG i = 0; i < m->nRecipCount; ++i) d.recips.push_back(recip(m->lpRecips[i]));
  if (m->nFileCount > kMaxCount || (m->nFileCount && !m->lpFiles)) fail(MAPI_E_ATTACHMENT_NOT_FOUND);
  for (ULONG i = 0; i < m->nFileCount; ++i) {
    const FileDesc& f = m->lpFiles[i];
    if (!f.lpszPathName) fail(MAPI_E_ATTACHMENT_NOT_FOUND);
    d.files.push_back({text_of(f.lpszPathName), text_of(f.lpszFileName), f.nPosition});
  }
  return d;
}

Bytes one_off(const std::string& name, const std::string& type, const std::string& address) {
  return OneOffEntryId{name, type, address}.serialize();
}

// A recipient row: the address given ("TYPE:address", or an SMTP address), an entry ID (one-off),
// or the name resolved through the address book.
PropertyBag recipient_row(mapi::Session& s, const Recip& r) {
  if (r.cls > MAPI_BCC) fail(MAPI_E_BAD_RECIPTYPE);
  std::string name = r.name, type = "SMTP", address = r.address;
  Bytes eid = r.entry_id;
  if (!address.empty()) {
    if (auto colon = address.find(':'); colon != std::string::npos && address.find('@') > colon) {
      type = address.substr(0, colon);
      address = address.substr(colon + 1);
    }
  } else if (!eid.empty() && classify_entry_id(eid) == EntryIdKind::OneOff) {
    OneOffEntryId o = OneOffEntryId::parse(eid);
    type = o.address_type;
    address = o.email_address;
    if (name.empty()) name = o.display_name;
  } else if (!name.empty()) {
    try {
      mapi::AddressEntry e = s.address_book().resolve_name(name);
      name = e.display_name;
      type = e.address_type;
      address = e.email_address;
      eid = e.entry_id;
    } catch (const MapiError& e) {
      fail(e.code() == ErrorCode::MAPI_E_AMBIGUOUS_RECIP ? MAPI_E_AMBIGUOUS_RECIPIENT : MAPI_E_UNKNOWN_RECIPIENT);
    }
  } else {
    fail(MAPI_E_UNKNOWN_RECIPIENT);
  }
  if (address.empty()) fail(MAPI_E_UNKNOWN_RECIPIENT);
  if (name.empty()) name = address;
  if (eid.empty() || classify_entry_id(eid) != EntryIdKind::OneOff) {
    eid = one_off(name, type, address);
  }
  PropertyBag row;
  row.set(PropValue::string(tags::PidTagDisplayName, name));
  row.set(PropValue::string(tags::PidTagAddressType, type));
  row.set(PropValue::string(tags::PidTagEmailAddress, address));
  if (ascii_lower(type) == "smtp") row.set(PropValue::string(tags::PidTagSmtpAddress, address));
  row.set(PropValue::binary(tags::PidTagEntryId, eid));
  row.set(PropValue::i32(tags::PidTagRecipientType, int32_t(r.cls)));
  return row;
}

void attach_file(store::Message& m, const File& f) {
  const int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errno == ENOENT || errno == ENOTDIR ? MAPI_E_ATTACHMENT_NOT_FOUND : MAPI_E_ATTACHMENT_OPEN_FAILURE);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) fail(MAPI_E_ATTACHMENT_OPEN_FAILURE);
  if (uint64_t(st.st_size) > store::Stream::kMaxStreamSize) fail(MAPI_E_ATTACHMENT_TOO_LARGE);
  const std::string name = f.name.empty() ? fs::path(f.path).filename().string() : f.name;
  auto a = m.create_attach();
  a->set_props({PropValue::i32(tags::PidTagAttachMethod, 1),  // afByValue
                PropValue::string(tags::PidTagAttachLongFilename, name), PropValue::string(tags::PidTagAttachFilename, name),
                PropValue::string(tags::PidTagDisplayName, name), PropValue::i32(tags::PidTagRenderingPosition, int32_t(f.position))});
  auto s = a->open_property(tags::PidTagAttachDataBinary, store::open_flags::Create | store::open_flags::ReadWrite);
  uint8_t buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(MAPI_E_ATTACHMENT_OPEN_FAILURE);
    if (n == 0) break;
    s->write(buf, size_t(n));
  }
  s->commit();
  a->save_changes();
}

// Fills `m` (new or to be replaced) from `d`.
void fill(mapi::Session& s, store::Message& m, const Draft& d) {
  std::vector<PropValue> props{PropValue::string(tags::PidTagMessageClass, d.type.empty() ? "IPM.Note" : d.type),
                               PropValue::string(tags::PidTagSubject, d.subject), PropValue::string(tags::PidTagBody, d.text),
                               PropValue::boolean(PropTag(0x0029, PropType::Boolean), (d.flags & MAPI_RECEIPT_REQUESTED) != 0)};
  if (d.originator) {
    PropertyBag o = recipient_row(s, *d.originator);
    props.push_back(PropValue::string(tags::PidTagSenderName, *o.get_string(tags::PidTagDisplayName)));
    props.push_back(PropValue::string(tags::PidTagSenderEmailAddress, *o.get_string(tags::PidTagEmailAddress)));
    props.push_back(PropValue::string(tags::PidTagSentRepresentingName, *o.get_string(tags::PidTagDisplayName)));
  }
  m.set_props(props);
  std::vector<PropertyBag> rows;
  for (const Recip& r : d.recips) rows.push_back(recipient_row(s, r));
  m.modify_recipients(0, rows);  // replaces the table
  for (const PropertyBag& a : m.attachments())
    if (auto n = a.get_i32(PropTag(0x0E21, PropType::Integer32))) m.delete_attach(uint32_t(*n));  // PidTagAttachNumber
  for (const File& f : d.files) attach_file(m, f);
}

ULONG send(LHANDLE h, const Draft& d, FLAGS flags) {
  return simple([&] {
    if (flags & MAPI_DIALOG) fail(MAPI_E_NOT_SUPPORTED);  // no UI to complete the message in
    if (d.recips.empty()) fail(MAPI_E_INVALID_RECIPS);
    auto s = session_of(h);
    auto store = s->default_store();
    auto m = store->open_special(store::SpecialFolder::Outbox)->create_message();
    fill(*s, *m, d);
    m->save_changes();
    m->submit();
  });
}

// ---- message IDs ---------------------------------------------------------------------------
std::string id_text(store::MessageId id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(id));
  return buf;
}
store::MessageId id_of(LPCSTR text) {
  if (!text) fail(MAPI_E_INVALID_MESSAGE);
  const std::string t(text);
  if (t.size() != 16 || t.find_first_not_of("0123456789ABCDEFabcdef") != std::string::npos) fail(MAPI_E_INVALID_MESSAGE);
  return store::MessageId(std::stoull(t, nullptr, 16));
}
void put_id(LPSTR out, store::MessageId id) { std::memcpy(out, id_text(id).c_str(), 17); }

std::string date_text(int64_t filetime) {
  const time_t t = time_t(filetime / 10000000 - 11644473600LL);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y/%m/%d %H:%M", &tm);
  return buf;
}

std::string body_of(store::Message& m) {
  auto r = m.get_props({tags::PidTagBody});
  const PropValue& v = r.values[0];
  if (const auto* s = v.get_if<std::string>()) return *s;
  if (v.type() == PropType::ErrorCode && uint32_t(v.get<int32_t>()) == uint32_t(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY)) {
    Bytes b = m.open_property(tags::PidTagBody)->read_all();  // too large for GetProps: its stream
    return std::string(b.begin(), b.end());
  }
  return {};
}

void recip_out(MapiRecipDesc& out, ULONG cls, const std::string& name, const std::string& type, const std::string& address,
               const Bytes& eid, void* parent) {
  out.ulRecipClass = cls;
  out.lpszName = static_cast<LPSTR>(alloc_text(name, 0, parent));
  out.lpszAddress = static_cast<LPSTR>(alloc_text(type + ":" + address, 0, parent));
  out.ulEIDSize = ULONG(eid.size());
  out.lpEntryID = alloc_entry_id(eid, parent);
}

std::string write_temp_file(const std::string& dir, std::string name, const Bytes& data) {
  if (name.empty()) name = "attachment";
  for (char& c : name)
    if (c == '/' || c == '\0') c = '_';
  if (name == "." || name == "..") name = "attachment";
  std::string path = dir + "/" + name;
  for (int i = 2; fs::exists(path); ++i) path = dir + "/" + std::to_string(i) + "-" + name;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail(MAPI_E_ATTACHMENT_WRITE_FAILURE);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail(MAPI_E_ATTACHMENT_WRITE_FAILURE);
    }
    done += size_t(n);
  }
  if (::close(fd) != 0) fail(MAPI_E_ATTACHMENT_WRITE_FAILURE);
  return path;
}

}  // namespace
}  // namespace openmapi::capi

using namespace openmapi;
using namespace openmapi::capi;

extern "C" {

ULONG STDAPICALLTYPE MAPILogon(ULONG_PTR, LPSTR profile, LPSTR, FLAGS flags, ULONG, LPLHANDLE out) {
  if (!out) return MAPI_E_FAILURE;
  *out = 0;
  return simple([&] {
    mapi::Profile p = profile_named(utf8_of(profile));
    auto& all = sessions();
    const bool share = !(flags & MAPI_NEW_SESSION);
    if (share) {
      std::lock_guard lock(all.mu);
      for (auto& [h, s] : all.open)
        if (s->shareable && s->profile == p.name) {
          ++s->refs;
          *out = h;
          return;
        }
    }
    auto s = std::make_shared<SimpleSession>();
    s->s = open_session(p);
    s->profile = p.name;
    s->shareable = share;
    std::lock_guard lock(all.mu);
    const LHANDLE h = all.next++;
    all.open[h] = std::move(s);
    *out = h;
  });
}

ULONG STDAPICALLTYPE MAPILogoff(LHANDLE h, ULONG_PTR, FLAGS, ULONG) {
  return simple([&] {
    std::shared_ptr<SimpleSession> ended;
    {
      auto& all = sessions();
      std::lock_guard lock(all.mu);
      auto it = all.open.find(h);
      if (it == all.open.end()) fail(MAPI_E_INVALID_SESSION);
      if (--it->second->refs > 0) return;
      ended = std::move(it->second);
      all.open.erase(it);
    }
    ended->s->logoff();
  });
}

ULONG STDAPICALLTYPE MAPISendMail(LHANDLE h, ULONG_PTR, lpMapiMessage m, FLAGS flags, ULONG) {
  Draft d;
  if (ULONG r = simple([&] { d = draft_of<MapiMessage, MapiRecipDesc, MapiFileDesc>(m); })) return r;
  return send(h, d, flags);
}

ULONG STDAPICALLTYPE MAPISendMailW(LHANDLE h, ULONG_PTR, lpMapiMessageW m, FLAGS flags, ULONG) {
  Draft d;
  if (ULONG r = simple([&] { d = draft_of<MapiMessageW, MapiRecipDescW, MapiFileDescW>(m); })) return r;
  return send(h, d, flags);
}

ULONG STDAPICALLTYPE MAPISendDocuments(ULONG_PTR, LPSTR, LPSTR, LPSTR, ULONG) { return MAPI_E_NOT_SUPPORTED; }

ULONG STDAPICALLTYPE MAPIFindNext(LHANDLE h, ULONG_PTR, LPSTR type, LPSTR seed, FLAGS flags, ULONG, LPSTR out) {
  if (!out) return MAPI_E_FAILURE;
  return simple([&] {
    auto s = session_of(h);
    auto store = s->default_store();
    // The class asked for (none: interpersonal messages), matched as itself or a prefix of a class.
    const std::string want = utf8_of(type).empty() ? "ipm" : ascii_lower(utf8_of(type));
    std::optional<store::MessageId> after;
    if (seed && *seed) after = id_of(seed);
    auto table = store->open_special(store::SpecialFolder::Inbox)->contents_table();
    table->set_columns({tags::PidTagEntryId, tags::PidTagMessageClass, tags::PidTagMessageFlags});
    table->sort({{{tags::PidTagMessageDeliveryTime, SortDirection::Ascending}}});
    bool seen_seed = !after;
    for (;;) {
      auto rows = table->query_rows(500);
      if (rows.empty()) break;
      for (const store::Row& r : rows) {
        const auto* eid = r[0].get_if<Bytes>();
        if (!eid) continue;
        const store::MessageId id = store->mailbox().resolve_entry_id(*eid).second;
        if (!seen_seed) {
          seen_seed = id == *after;
          continue;
        }
        const std::string c = r[1].get_if<std::string>() ? *r[1].get_if<std::string>() : "";
        const std::string lc = ascii_lower(c);
        const bool class_ok = lc == want || lc.rfind(want + ".", 0) == 0;
        const bool unread = !(r[2].get_if<int32_t>() && (*r[2].get_if<int32_t>() & 1));  // MSGFLAG_READ
        if (class_ok && (!(flags & MAPI_UNREAD_ONLY) || unread)) {
          put_id(out, id);
          return;
        }
      }
    }
    if (!seen_seed) fail(MAPI_E_INVALID_MESSAGE);  // the seed is not in the Inbox
    fail(MAPI_E_NO_MESSAGES);
  });
}

ULONG STDAPICALLTYPE MAPIReadMail(LHANDLE h, ULONG_PTR, LPSTR message_id, FLAGS flags, ULONG, lpMapiMessage* out) {
  if (!out) return MAPI_E_FAILURE;
  *out = nullptr;
  return simple([&] {
    auto s = session_of(h);
    auto store = s->default_store();
    auto m = store->open_message(id_of(message_id), !(flags & MAPI_PEEK));
    const PropertyBag p = [&] {
      PropertyBag b;
      for (PropValue& v : m->get_props({tags::PidTagSubject, tags::PidTagMessageClass, tags::PidTagMessageDeliveryTime,
                                        tags::PidTagMessageFlags, PropTag(0x0029, PropType::Boolean), tags::PidTagSenderName,
                                        tags::PidTagSenderEmailAddress, tags::PidTagSenderSmtpAddress,
                                        PropTag(0x0C1E, PropType::String)})  // PidTagSenderAddressType
                              .values)
        if (v.type() != PropType::ErrorCode) b.set(std::move(v));
      return b;
    }();
    auto* msg = allocate_of<MapiMessage>(sizeof(MapiMessage));
    try {
      msg->lpszSubject = static_cast<LPSTR>(alloc_text(p.get_string(tags::PidTagSubject).value_or(""), 0, msg));
      msg->lpszMessageType = static_cast<LPSTR>(alloc_text(p.get_string(tags::PidTagMessageClass).value_or("IPM.Note"), 0, msg));
      if (auto t = p.get_i64(tags::PidTagMessageDeliveryTime)) msg->lpszDateReceived = static_cast<LPSTR>(alloc_text(date_text(*t), 0, msg));
      const int32_t mf = p.get_i32(tags::PidTagMessageFlags).value_or(0);
      if (!(mf & 0x01)) msg->flFlags |= MAPI_UNREAD;
      if (!(mf & 0x08)) msg->flFlags |= MAPI_SENT;
      if (p.get_bool(PropTag(0x0029, PropType::Boolean)).value_or(false)) msg->flFlags |= MAPI_RECEIPT_REQUESTED;
      if (auto sender = p.get_string(tags::PidTagSenderEmailAddress)) {
        const std::string smtp = p.get_string(tags::PidTagSenderSmtpAddress).value_or("");
        const std::string type = smtp.empty() ? p.get_string(PropTag(0x0C1E, PropType::String)).value_or("SMTP") : "SMTP";
        const std::string address = smtp.empty() ? *sender : smtp;
        const std::string name = p.get_string(tags::PidTagSenderName).value_or(address);
        msg->lpOriginator = allocate_of<MapiRecipDesc>(sizeof(MapiRecipDesc), msg);
        recip_out(*msg->lpOriginator, MAPI_ORIG, name, type, address, one_off(name, type, address), msg);
      }
      const auto recips = m->recipients();
      msg->lpRecips = allocate_of<MapiRecipDesc>(sizeof(MapiRecipDesc) * recips.size(), msg);
      for (const PropertyBag& r : recips) {
        const std::string smtp = r.get_string(tags::PidTagSmtpAddress).value_or("");
        const std::string type = smtp.empty() ? r.get_string(tags::PidTagAddressType).value_or("SMTP") : "SMTP";
        const std::string address = smtp.empty() ? r.get_string(tags::PidTagEmailAddress).value_or("") : smtp;
        const std::string name = r.get_string(tags::PidTagDisplayName).value_or(address);
        const ULONG cls = ULONG(r.get_i32(tags::PidTagRecipientType).value_or(MAPI_TO)) & 0x0F;
        const PropValue* e = r.find(tags::PidTagEntryId);
        recip_out(msg->lpRecips[msg->nRecipCount++], cls, name, type, address,
                  e && e->get_if<Bytes>() ? *e->get_if<Bytes>() : one_off(name, type, address), msg);
      }
      if (!(flags & MAPI_ENVELOPE_ONLY)) {
        const std::string body = body_of(*m);
        std::vector<std::pair<std::string, Bytes>> files;  // file name, data
        if (flags & MAPI_BODY_AS_FILE) files.emplace_back("body.txt", Bytes(body.begin(), body.end()));
        else msg->lpszNoteText = static_cast<LPSTR>(alloc_text(body, 0, msg));
        std::vector<ULONG> positions(files.size(), ULONG(-1));
        if (!(flags & MAPI_SUPPRESS_ATTACH)) {
          for (const PropertyBag& a : m->attachments()) {
            const auto num = a.get_i32(PropTag(0x0E21, PropType::Integer32));  // PidTagAttachNumber
            if (!num || a.get_i32(tags::PidTagAttachMethod).value_or(1) != 1) continue;  // by value only
            auto att = m->open_attach(uint32_t(*num));
            std::string name = a.get_string(tags::PidTagAttachLongFilename).value_or("");
            if (name.empty()) name = a.get_string(tags::PidTagAttachFilename).value_or("");
            if (name.empty()) name = a.get_string(tags::PidTagDisplayName).value_or("");
            Bytes data;
            try {
              data = att->open_property(tags::PidTagAttachDataBinary)->read_all();
            } catch (const MapiError& e) {
              if (e.code() != ErrorCode::MAPI_E_NOT_FOUND) throw;
            }
            files.emplace_back(name, std::move(data));
            positions.push_back(ULONG(a.get_i32(tags::PidTagRenderingPosition).value_or(-1)));
          }
        }
        if (!files.empty()) {
          const char* tmp = std::getenv("TMPDIR");
          std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/openmapi-mail-XXXXXX";
          if (!::mkdtemp(dir.data())) fail(MAPI_E_ATTACHMENT_WRITE_FAILURE);
          msg->lpFiles = allocate_of<MapiFileDesc>(sizeof(MapiFileDesc) * files.size(), msg);
          for (size_t i = 0; i < files.size(); ++i) {
            MapiFileDesc& f = msg->lpFiles[i];
            f.lpszPathName = static_cast<LPSTR>(alloc_text(write_temp_file(dir, files[i].first, files[i].second), 0, msg));
            f.lpszFileName = static_cast<LPSTR>(alloc_text(files[i].first, 0, msg));
            f.nPosition = positions[i];
            msg->nFileCount = ULONG(i + 1);
          }
        }
      }
      if (!(flags & MAPI_PEEK)) m->set_read_flag(store::readflag::SuppressReceipt);
    } catch (...) {
      MAPIFreeBuffer(msg);
      throw;
    }
    *out = msg;
  });
}

ULONG STDAPICALLTYPE MAPISaveMail(LHANDLE h, ULONG_PTR, lpMapiMessage m, FLAGS flags, ULONG, LPSTR message_id) {
  if (!message_id) return MAPI_E_FAILURE;
  return simple([&] {
    if (flags & MAPI_DIALOG) fail(MAPI_E_NOT_SUPPORTED);
    const Draft d = draft_of<MapiMessage, MapiRecipDesc, MapiFileDesc>(m);
    auto s = session_of(h);
    auto store = s->default_store();
    std::shared_ptr<store::Message> msg =
        *message_id ? store->open_message(id_of(message_id), true) : store->open_special(store::SpecialFolder::Inbox)->create_message();
    fill(*s, *msg, d);
    msg->save_changes();
    put_id(message_id, *msg->id());
  });
}

ULONG STDAPICALLTYPE MAPIDeleteMail(LHANDLE h, ULONG_PTR, LPSTR message_id, FLAGS, ULONG) {
  return simple([&] {
    auto s = session_of(h);
    auto store = s->default_store();
    const store::MessageId id = id_of(message_id);
    auto m = store->open_message(id);
    store->open_folder(m->folder())->delete_messages({id});
  });
}

ULONG STDAPICALLTYPE MAPIAddress(LHANDLE, ULONG_PTR, LPSTR, ULONG, LPSTR, ULONG, lpMapiRecipDesc, FLAGS, ULONG, LPULONG n,
                                 lpMapiRecipDesc* out) {
  if (n) *n = 0;
  if (out) *out = nullptr;
  return MAPI_E_NOT_SUPPORTED;  // a dialog
}

ULONG STDAPICALLTYPE MAPIDetails(LHANDLE, ULONG_PTR, lpMapiRecipDesc, FLAGS, ULONG) { return MAPI_E_NOT_SUPPORTED; }

ULONG STDAPICALLTYPE MAPIResolveName(LHANDLE h, ULONG_PTR, LPSTR name, FLAGS flags, ULONG, lpMapiRecipDesc* out) {
  if (!out) return MAPI_E_FAILURE;
  *out = nullptr;
  return simple([&] {
    if (flags & MAPI_DIALOG) fail(MAPI_E_NOT_SUPPORTED);
    if (!name || !*name) fail(MAPI_E_UNKNOWN_RECIPIENT);
    auto s = session_of(h);
    Recip r;
    r.name = utf8_of(name);
    const PropertyBag row = recipient_row(*s, r);
    auto* d = allocate_of<MapiRecipDesc>(sizeof(MapiRecipDesc));
    try {
      recip_out(*d, MAPI_TO, *row.get_string(tags::PidTagDisplayName), *row.get_string(tags::PidTagAddressType),
                *row.get_string(tags::PidTagEmailAddress), row.find(tags::PidTagEntryId)->get<Bytes>(), d);
    } catch (...) {
      MAPIFreeBuffer(d);
      throw;
    }
    *out = d;
  });
}

}  // extern "C"
