// The MS-OXPROPS catalogue: data/pidtag.csv and data/pidlid_pidname.csv, turned into
// catalog_data.inc by tools/gen_catalog at build time, indexed here once on first use.
#include "core/catalog.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace openmapi {
namespace {

// Row types the generated file fills in (plain aggregates; see tools/gen_catalog.cpp).
struct CatalogTagRow {
  std::string_view section, name, area, alternates;
  uint32_t tag;
};
struct CatalogNamedRow {
  std::string_view section, name, area, alternates, set_name;
  std::array<uint8_t, 16> guid;
  bool is_lid;
  uint32_t lid;
  std::string_view string_name;
  uint16_t type;
};

#include "catalog_data.inc"

std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return r;
}

struct Index {
  std::vector<CatalogEntry> entries;
  // Lowercased canonical and alternate names -> entry. Canonical names win over alternates;
  // among alternates the first entry (in catalogue order) wins.
  std::map<std::string, const CatalogEntry*, std::less<>> by_name;
  std::multimap<uint16_t, const CatalogEntry*> by_id;  // PidTag* only, in catalogue order
  std::map<PropertyName, const CatalogEntry*> by_property_name;

  Index() {
    entries.reserve(std::size(kCatalogTags) + std::size(kCatalogNamed));
    for (const auto& r : kCatalogTags) {
      PropTag tag(r.tag);
      entries.push_back({r.name, r.area, r.alternates, r.section, tag.type(), tag, std::nullopt});
    }
    for (const auto& r : kCatalogNamed) {
      Guid set;
      set.bytes = r.guid;
      PropertyName name = r.is_lid ? PropertyName::by_id(set, r.lid) : PropertyName::by_name(set, std::string(r.string_name));
      entries.push_back({r.name, r.area, r.alternates, r.section, PropType(r.type), PropTag(), std::move(name)});
    }
    // `entries` no longer grows: pointers into it stay valid.
    for (const auto& e : entries) by_name.emplace(ascii_lower(e.canonical_name), &e);
    for (const auto& e : entries) {
      std::string_view rest = e.alternate_names;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view one = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
        while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
        if (!one.empty()) by_name.emplace(ascii_lower(one), &e);  // emplace keeps an existing key
      }
    }
    for (const auto& e : entries) {
      if (e.name) by_property_name.emplace(e.name->canonical(), &e);
      else by_id.emplace(e.tag.id(), &e);
    }
  }
};

const Index& index() {
  static const Index idx;
  return idx;
}

// String and String8 are the same property in two encodings (MS-OXCDATA 2.11.1), likewise their
// multi-valued forms.
PropType string_neutral(PropType t) {
  if (t == PropType::String8) return PropType::String;
  if (t == PropType::MultipleString8) return PropType::MultipleString;
  return t;
}

}  // namespace

std::span<const CatalogEntry> catalog() { return index().entries; }

const CatalogEntry* catalog_find(std::string_view name) {
  const auto& idx = index();
  auto it = idx.by_name.find(ascii_lower(name));
  return it == idx.by_name.end() ? nullptr : it->second;
}

std::vector<const CatalogEntry*> catalog_find(PropTag tag) {
  std::vector<const CatalogEntry*> out;
  auto [lo, hi] = index().by_id.equal_range(tag.id());
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  return out;
}

const CatalogEntry* catalog_find(const PropertyName& name) {
  const auto& idx = index();
  auto it = idx.by_property_name.find(name.canonical());
  return it == idx.by_property_name.end() ? nullptr : it->second;
}

std::string tag_name(PropTag tag) {
  auto all = catalog_find(tag);
  if (all.empty()) return tag.hex();
  // A table column may carry MVI_FLAG (MS-OXCTABL 2.2.2.1.1); the property is the multi-valued one.
  PropType want = PropType(uint16_t(tag.type()) & ~kMultiValueInstanceFlag);
  // Exact type first, then the other string encoding, then the first entry with the id.
  for (const auto* e : all)
    if (e->type == want) return std::string(e->canonical_name);
  for (const auto* e : all)
    if (string_neutral(e->type) == string_neutral(want)) return std::string(e->canonical_name);
  return std::string(all.front()->canonical_name);
}

namespace {
const CatalogEntry& entry_of_kind(std::string_view canonical, bool named) {
  const CatalogEntry* e = catalog_find(canonical);
  if (!e || bool(e->name) != named)
    throw_error(ErrorCode::MAPI_E_CALL_FAILED, "the catalogue has no " + std::string(named ? "named " : "") +
                                                   "property " + std::string(canonical));
  return *e;
}
}  // namespace

PropTag catalog_tag(std::string_view canonical) { return entry_of_kind(canonical, false).tag; }

PropTag catalog_named_tag(NamedPropertyMap& names, std::string_view canonical) {
  const CatalogEntry& e = entry_of_kind(canonical, true);
  return PropTag(names.get_or_create(*e.name, true), e.type);
}

std::optional<PropTag> catalog_named_tag(const NamedPropertyMap& names, std::string_view canonical) {
  const CatalogEntry& e = entry_of_kind(canonical, true);
  auto id = names.find(*e.name);
  if (!id) return std::nullopt;
  return PropTag(*id, e.type);
}

}  // namespace openmapi
