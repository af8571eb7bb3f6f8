#include "mapi/address_book.h"

#include <algorithm>
#include <cctype>

#include "core/catalog.h"
#include "core/entryid.h"
#include "core/unicode.h"

namespace openmapi::mapi {

namespace {


bool looks_like_address(const std::string& s) {
  size_t at = s.find('@');
  return at != std::string::npos && at > 0 && at + 1 < s.size() && s.find(' ') == std::string::npos &&
         s.find('@', at + 1) == std::string::npos;
}

Bytes one_off(const std::string& name, const std::string& type, const std::string& address) {
  OneOffEntryId e;
  e.display_name = name;
  e.address_type = type;
  e.email_address = address;
  return e.serialize();
}

// The three e-mail slots of a contact (MS-OXOCNTC 2.2.1.2): address and display name.
constexpr const char* kEmailSlots[3][2] = {{"PidLidEmail1EmailAddress", "PidLidEmail1DisplayName"},
                                           {"PidLidEmail2EmailAddress", "PidLidEmail2DisplayName"},
                                           {"PidLidEmail3EmailAddress", "PidLidEmail3DisplayName"}};

std::optional<PropTag> named_tag(store::Mailbox& mb, const char* canonical) {
  const CatalogEntry* e = catalog_find(canonical);
  if (!e || !e->name) throw_error(ErrorCode::MAPI_E_CALL_FAILED, std::string("the catalogue lacks ") + canonical);
  try {
    return PropTag(mb.named_property_id(*e->name, false), e->type);
  } catch (const MapiError& err) {
    if (err.code() == ErrorCode::MAPI_E_NOT_FOUND) return std::nullopt;  // no contact in this store has it
    throw;
  }
}

}  // namespace

std::vector<AddressBook::Container> AddressBook::containers() {
  std::vector<Container> out;
  for (size_t i = 0; i < stores_.size(); ++i) {
    store::Mailbox& mb = stores_[i]->mailbox();
    auto t = mb.hierarchy_table(mb.special_folder(store::SpecialFolder::IpmSubtree), store::tableflag::Depth);
    t->set_columns({tags::PidTagDisplayName, tags::PidTagContainerClass, tags::PidTagFolderId, tags::PidTagEntryId});
    for (const auto& r : t->query_rows(100000)) {
      const auto* cls = r[1].get_if<std::string>();
      if (!cls || (ascii_lower(*cls) != "ipf.contact" && ascii_lower(*cls).rfind("ipf.contact.", 0) != 0)) continue;
      Container c;
      c.name = r[0].get_if<std::string>() ? *r[0].get_if<std::string>() : "Contacts";
      if (const auto* e = r[3].get_if<Bytes>()) c.entry_id = *e;
      c.store = i;
      c.folder = store::FolderId(ObjectId::from_u64(uint64_t(r[2].get<int64_t>())).gc);
      out.push_back(std::move(c));
    }
  }
  for (const auto& d : directories_) {
    Container c;
    c.name = d->name();
    c.entry_id = d->entry_id();
    c.directory = d;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<AddressEntry> AddressBook::entries(const Container& c) {
  if (c.directory) return c.directory->entries();
  store::Mailbox& mb = stores_.at(c.store)->mailbox();
  std::vector<PropTag> cols{tags::PidTagDisplayName};
  std::vector<std::pair<size_t, size_t>> slots;  // column of the address, of its display name (0: none)
  for (const auto& slot : kEmailSlots) {
    auto addr = named_tag(mb, slot[0]);
    if (!addr) continue;
    auto name = named_tag(mb, slot[1]);
    cols.push_back(*addr);
    size_t a = cols.size() - 1, n = 0;
    if (name) {
      cols.push_back(*name);
      n = cols.size() - 1;
    }
    slots.emplace_back(a, n);
  }
  std::vector<AddressEntry> out;
  if (slots.empty()) return out;
  auto t = mb.contents_table(c.folder);
  t->set_columns(cols);
  for (const auto& r : t->query_rows(1000000)) {
    const std::string contact = r[0].get_if<std::string>() ? *r[0].get_if<std::string>() : "";
    for (auto [a, n] : slots) {
      const auto* addr = r[a].get_if<std::string>();
      if (!addr || addr->empty()) continue;
      AddressEntry e;
      e.display_name = n && r[n].get_if<std::string>() && !r[n].get_if<std::string>()->empty() ? *r[n].get_if<std::string>() : contact;
      // The display name of a slot is often "Name (address)": the contact's name reads better.
      if (!contact.empty()) e.display_name = contact;
      e.email_address = *addr;
      e.entry_id = one_off(e.display_name, e.address_type, e.email_address);
      e.container = c.name;
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<AddressBook::DistList> AddressBook::dist_lists(const Container& c) {
  if (c.directory) return {};  // a server's groups are not read yet
  store::Mailbox& mb = stores_.at(c.store)->mailbox();
  std::vector<DistList> out;
  auto members = named_tag(mb, "PidLidDistributionListOneOffMembers");
  std::vector<PropTag> cols{tags::PidTagDisplayName, tags::PidTagEntryId, tags::PidTagMessageClass};
  if (members) cols.push_back(*members);
  auto t = mb.contents_table(c.folder);
  t->set_columns(cols);
  for (const auto& r : t->query_rows(1000000)) {
    const auto* cls = r[2].get_if<std::string>();
    if (!cls || (ascii_lower(*cls) != "ipm.distlist" && ascii_lower(*cls).rfind("ipm.distlist.", 0) != 0)) continue;
    DistList d;
    d.name = r[0].get_if<std::string>() ? *r[0].get_if<std::string>() : "";
    if (const auto* e = r[1].get_if<Bytes>()) d.entry_id = *e;
    if (members)
      if (const auto* list = r[3].get_if<std::vector<Bytes>>())
        for (const Bytes& m : *list) {
          try {
            const OneOffEntryId o = OneOffEntryId::parse(m);
            d.members.push_back({o.display_name, o.address_type, o.email_address, m, c.name});
          } catch (const MapiError&) {
            // not a one-off entry ID: left out
          }
        }
    out.push_back(std::move(d));
  }
  return out;
}

AddressEntry AddressBook::resolve_name(const std::string& text) {
  const std::string want = ascii_lower(text);
  if (want.empty()) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "nothing to resolve");
  std::vector<AddressEntry> all;
  std::optional<AddressEntry> from_directory;
  for (const auto& c : containers()) {
    if (c.directory) {
      if (from_directory) continue;
      if (auto e = c.directory->resolve(text)) {
        from_directory = e;
        all.push_back(*e);
      }
      continue;
    }
    auto e = entries(c);
    all.insert(all.end(), e.begin(), e.end());
  }
  auto pick = [&](auto match) -> std::optional<AddressEntry> {
    std::vector<AddressEntry> found;
    for (const auto& e : all)
      if (match(e) && std::none_of(found.begin(), found.end(), [&](const AddressEntry& f) { return ascii_lower(f.email_address) == ascii_lower(e.email_address); }))
        found.push_back(e);
    if (found.empty()) return std::nullopt;
    if (found.size() > 1) {
      std::string names;
      for (const auto& f : found) names += (names.empty() ? "" : ", ") + f.display_name + " <" + f.email_address + ">";
      throw_error(ErrorCode::MAPI_E_AMBIGUOUS_RECIP, "'" + text + "' matches " + std::to_string(found.size()) + " entries: " + names);
    }
    return found[0];
  };
  if (auto e = pick([&](const AddressEntry& e) { return ascii_lower(e.display_name) == want || ascii_lower(e.email_address) == want; })) return *e;
  if (auto e = pick([&](const AddressEntry& e) {
        const std::string name = ascii_lower(e.display_name);
        if (name.rfind(want, 0) == 0 || ascii_lower(e.email_address).rfind(want, 0) == 0) return true;
        for (size_t sp = name.find(' '); sp != std::string::npos; sp = name.find(' ', sp + 1))
          if (name.compare(sp + 1, want.size(), want) == 0) return true;
        return false;
      }))
    return *e;
  if (from_directory) return *from_directory;  // resolved by the server's rules (a local part, a DN ...)
  if (looks_like_address(text)) {
    AddressEntry e;
    e.display_name = text;
    e.email_address = text;
    e.entry_id = one_off(text, "SMTP", text);
    return e;
  }
  throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no address book entry matches '" + text + "'");
}

}  // namespace openmapi::mapi
