#include "store/named_ids.h"

#include <functional>

#include "formats/msg/msg.h"
#include "store/store.h"

namespace openmapi::store {

// The named ids a message uses (its own, its recipients', attachments', embedded messages').
void named_ids(const Message& m, std::set<uint16_t>& out) {
  auto bag = [&](const PropertyBag& b) {
    for (const auto& v : b.values())
      if (v.tag().is_named()) out.insert(v.tag().id());
  };
  bag(m.props);
  for (const auto& r : m.recipients) bag(r);
  for (const auto& a : m.attachments) {
    bag(a.props);
    if (a.embedded) named_ids(*a.embedded, out);
  }
}

// Rewrites a message's named tags from the PST's ids to the mailbox's (mapping names as needed).
// Named ids the PST gives no name are dropped: without a name they mean nothing elsewhere.
Message to_mailbox_ids(const Message& m, const NamedPropertyMap& from, Mailbox& mb) {
  std::set<uint16_t> ids;
  named_ids(m, ids);
  NamedPropertyMap known, to;
  for (uint16_t id : ids)
    if (const PropertyName* name = from.find(id)) {
      known.insert(id, *name);
      uint16_t mid = mb.named_property_id(*name, true);
      if (!to.find(mid)) to.insert(mid, *name);
    }
  std::function<void(Message&)> drop_unnamed = [&](Message& x) {
    auto clean = [&](PropertyBag& b) {
      std::vector<PropTag> gone;
      for (const auto& v : b.values())
        if (v.tag().is_named() && !known.find(v.tag().id())) gone.push_back(v.tag());
      for (PropTag t : gone) b.erase(t);
    };
    clean(x.props);
    for (auto& r : x.recipients) clean(r);
    for (auto& a : x.attachments) {
      clean(a.props);
      if (a.embedded) drop_unnamed(*a.embedded);
    }
  };
  Message copy = m;
  drop_unnamed(copy);
  return msg::remap_named_properties(copy, known, to, false);
}



NamedPropertyMap mailbox_names_for(const Message& m, Mailbox& mb) {
  std::set<uint16_t> ids;
  named_ids(m, ids);
  NamedPropertyMap names;
  for (uint16_t id : ids)
    if (auto n = mb.named_property_name(id)) names.insert(id, *n);
  return names;
}

const Guid kPsetOpenMapi = Guid::from_string("{6F4D4150-494D-4150-8000-4F70656E4D41}");

PropertyName internet_message_name() { return PropertyName::by_name(kPsetOpenMapi, "InternetMessage"); }
PropertyName imap_envelope_name() { return PropertyName::by_name(kPsetOpenMapi, "ImapEnvelope"); }
PropertyName imap_deleted_name() { return PropertyName::by_name(kPsetOpenMapi, "ImapDeleted"); }

bool is_status_property(PropTag tag, const PropertyName* name) {
  if (tag.is_named()) {
    if (!name) return false;
    if (name->kind != NameKind::String) return false;
    if (name->set == propset::PS_PUBLIC_STRINGS) return name->name == "Keywords";
    if (name->set == kPsetOpenMapi) return name->name == "InternetMessage" || name->name == "ImapEnvelope" || name->name == "ImapDeleted";
    return false;
  }
  switch (tag.id()) {
    case 0x0E07:  // PidTagMessageFlags
    case 0x1080:  // PidTagIconIndex
    case 0x1081:  // PidTagLastVerbExecuted
    case 0x1082:  // PidTagLastVerbExecutionTime
    case 0x1090:  // PidTagFlagStatus
    case 0x1091:  // PidTagFlagCompleteTime
    case 0x1095:  // PidTagFollowupIcon
    case 0x0E2B:  // PidTagToDoItemFlags
      return true;
    default:
      return false;
  }
}

}  // namespace openmapi::store

