// The catalogue of MS-OXPROPS canonical property names (generated from data/*.csv).
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/namedprop.h"
#include "core/proptag.h"

namespace openmapi {

struct CatalogEntry {
  std::string_view canonical_name;   // "PidTagSubject", "PidLidBusyStatus", "PidNameKeywords"
  std::string_view area;             // MS-OXPROPS "Property set"/area text
  std::string_view alternate_names;  // "PR_SUBJECT, PR_SUBJECT_A, ..." as listed
  std::string_view section;          // MS-OXPROPS section number as recorded
  PropType type;
  // PidTag*: the tag. PidLid*/PidName*: tag is 0 and `name` says where the property lives.
  PropTag tag;
  std::optional<PropertyName> name;
};

// Every entry, PidTag* first (ordered by tag), then PidLid*/PidName*.
std::span<const CatalogEntry> catalog();
// By canonical name ("PidTagSubject"), case-insensitively; also accepts an alternate name ("PR_SUBJECT").
const CatalogEntry* catalog_find(std::string_view name);
// PidTag* entries with this property id (one id can have several, e.g. 0x1013 PidTagBodyHtml and PidTagHtml).
std::vector<const CatalogEntry*> catalog_find(PropTag tag);
// The named-property entry for a (set, LID or name).
const CatalogEntry* catalog_find(const PropertyName& name);
// "PidTagSubject" for a known tag (matching id, preferring a matching type), else the tag in hex.
std::string tag_name(PropTag tag);

// For code that names properties by their canonical names: the tag of a PidTag* entry, and the
// tag a PidLid*/PidName* entry has in `names` (mapped there when absent, or nullopt from the
// const form). A name the catalogue lacks, or of the other kind, is a programming error:
// MAPI_E_CALL_FAILED.
PropTag catalog_tag(std::string_view canonical);
PropTag catalog_named_tag(NamedPropertyMap& names, std::string_view canonical);
std::optional<PropTag> catalog_named_tag(const NamedPropertyMap& names, std::string_view canonical);

}  // namespace openmapi
