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

}  // namespace openmapi::store
