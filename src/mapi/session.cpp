#include "mapi/session.h"

#include <cstdlib>
#include <filesystem>

#include "core/entryid.h"
#include "mapi/remote.h"
#include "store/pst/pst_mailbox.h"

namespace openmapi::mapi {

namespace {

// What the remote provider needs of a "remote" service: the password from the profile or the
// environment (none: MAPI_E_LOGON_FAILED).
RemoteOptions remote_options(const Profile& profile, const MessageService& svc) {
  RemoteOptions o;
  o.url = svc.path;
  o.user = svc.name;
  o.password = svc.password;
  if (o.password.empty())
    if (const char* env = std::getenv("OPENMAPI_PASSWORD")) o.password = env;
  if (o.password.empty())
    throw_error(ErrorCode::MAPI_E_LOGON_FAILED, "the remote service of profile '" + profile.name + "' keeps no password (set OPENMAPI_PASSWORD)");
  o.ca_file = svc.ca_file;
  return o;
}

std::shared_ptr<store::Mailbox> open_service(const Profile& profile, const MessageService& svc) {
  if (svc.path.empty())
    throw_error(ErrorCode::MAPI_E_UNCONFIGURED, "the " + svc.kind + " service '" + svc.display_name + "' of profile '" + profile.name +
                                                    "' is not configured (no file)");
  if (svc.kind == "remote") return open_remote_mailbox(remote_options(profile, svc));
  if (!std::filesystem::exists(svc.path))
    throw_error(ErrorCode::MAPI_E_NOT_FOUND, "the " + svc.kind + " '" + svc.name + "' of profile '" + profile.name + "' is gone (" +
                                                 svc.path + ")");
  return svc.kind == "pst" ? std::shared_ptr<store::Mailbox>(store::open_pst_mailbox(svc.path))
                           : std::shared_ptr<store::Mailbox>(store::open_sqlite_mailbox(svc.path));
}

}  // namespace

std::shared_ptr<Session> Session::logon(const Profile& profile, store::LogonIdentity who) {
  if (profile.services.empty()) throw_error(ErrorCode::MAPI_E_UNCONFIGURED, "profile '" + profile.name + "' has no message service");
  std::shared_ptr<Session> s(new Session());
  s->profile_ = profile;
  for (const auto& svc : profile.services) s->stores_.push_back(store::Logon::open(open_service(profile, svc), who));
  return s;
}

std::shared_ptr<Session> Session::logon_as_owner(const Profile& profile) {
  if (profile.services.empty()) throw_error(ErrorCode::MAPI_E_UNCONFIGURED, "profile '" + profile.name + "' has no message service");
  std::shared_ptr<Session> s(new Session());
  s->profile_ = profile;
  for (const auto& svc : profile.services) {
    auto mb = open_service(profile, svc);
    store::LogonIdentity who;
    who.user = mb->owner_address();
    s->stores_.push_back(store::Logon::open(std::move(mb), who));
  }
  return s;
}

Session::~Session() = default;

std::unique_ptr<store::Table> Session::message_store_table() {
  std::vector<std::pair<int64_t, Message>> rows;
  for (size_t i = 0; i < stores_.size(); ++i) {
    PropertyBag p = stores_[i]->mailbox().store_properties();
    Message m;
    const auto& svc = profile_.services[i];
    m.props.set(PropValue::string(tags::PidTagDisplayName, svc.display_name.empty() ? p.get_string(tags::PidTagDisplayName).value_or(svc.name)
                                                                                 : svc.display_name));
    Guid g = stores_[i]->mailbox().mailbox_guid();
    m.props.set(PropValue::binary(tags::PidTagRecordKey, Bytes(g.bytes.begin(), g.bytes.end())));
    // The store's own entry ID; a provider without one (a PST file) gets the plain form: four
    // flag bytes and the store's provider UID, which Session::store_of_entry reads as well.
    if (const PropValue* e = p.find(tags::PidTagStoreEntryId)) {
      m.props.set(PropValue::binary(tags::PidTagEntryId, e->get<Bytes>()));
    } else {
      Bytes eid(4, 0);
      eid.insert(eid.end(), g.bytes.begin(), g.bytes.end());
      m.props.set(PropValue::binary(tags::PidTagEntryId, eid));
    }
    m.props.set(PropValue::boolean(tags::PidTagDefaultStore, i == 0));
    m.props.set(PropValue::string(tags::PidTagProviderDisplay, svc.kind));
    m.props.set(PropValue::i32(tags::PidTagObjectType, 1));  // MAPI_STORE
    rows.emplace_back(int64_t(i), std::move(m));
  }
  auto source = std::make_unique<store::MessageRowSource>([rows = std::move(rows)] { return rows; });
  return std::make_unique<store::ViewTable>(std::move(source), std::vector<PropTag>{tags::PidTagDisplayName, tags::PidTagRecordKey,
                                                                                     tags::PidTagDefaultStore, tags::PidTagProviderDisplay});
}

std::shared_ptr<store::Logon> Session::open_msg_store(size_t index) {
  if (index >= stores_.size()) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "the session has no store " + std::to_string(index));
  return stores_[index];
}

std::shared_ptr<store::Logon> Session::open_msg_store(const Bytes& record_key) {
  for (auto& s : stores_) {
    Guid g = s->mailbox().mailbox_guid();
    if (Bytes(g.bytes.begin(), g.bytes.end()) == record_key) return s;
  }
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no store of the session has that record key");
}

store::Logon::Entry Session::open_entry(const Bytes& entry_id, bool write) { return store_of_entry(entry_id)->open_entry(entry_id, write); }

std::shared_ptr<store::Logon> Session::store_of_entry(const Bytes& entry_id) {
  // Folder and message entry IDs start with 4 flag bytes and the store's provider UID.
  if (entry_id.size() < 20) throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "an entry ID this short names no object");
  Bytes uid(entry_id.begin() + 4, entry_id.begin() + 20);
  for (auto& s : stores_) {
    Guid g = s->mailbox().mailbox_guid();
    if (Bytes(g.bytes.begin(), g.bytes.end()) == uid) return s;
  }
  throw_error(ErrorCode::MAPI_E_INVALID_ENTRYID, "the entry ID names no store of this session");
}

AddressBook& Session::address_book() {
  if (!ab_) {
    // A server the profile names brings its Global Address List (read through NSPI when asked).
    std::vector<std::shared_ptr<Directory>> directories;
    for (const auto& svc : profile_.services)
      if (svc.kind == "remote") directories.push_back(open_remote_directory(remote_options(profile_, svc)));
    ab_ = std::make_unique<AddressBook>(stores_, std::move(directories));
  }
  return *ab_;
}

void Session::logoff() {
  for (auto& s : stores_) s->logoff();
  ab_.reset();
}

}  // namespace openmapi::mapi
