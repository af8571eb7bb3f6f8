// Property values of every MS-OXCDATA 2.11.1 type, stored at their exact size.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/guid.h"
#include "core/proptag.h"

namespace openmapi {

struct Restriction;  // core/restriction.h

// The storage of a value. Which alternative a tag uses is fixed by its type:
//   Null, Unspecified, Object ............ std::monostate
//   Integer16 ............................ int16_t
//   Integer32, ErrorCode ................. int32_t (ErrorCode: the SCODE bits)
//   Floating32 ........................... float
//   Floating64, FloatingTime ............. double (FloatingTime: OLE automation date)
//   Currency, Integer64, Time ............ int64_t (Currency: value x 10^4; Time: FILETIME)
//   Boolean .............................. bool
//   String, String8 ...................... std::string (UTF-8 inside, whatever the wire form)
//   Guid ................................. Guid
//   Binary, ServerId, RuleAction ......... Bytes (RuleAction: the MS-OXORULE 2.2.5 RuleAction bytes)
//   Restriction .......................... std::shared_ptr<const Restriction>
//   Multiple* ............................ a vector of the single form
using ValueStorage = std::variant<std::monostate, int16_t, int32_t, float, double, int64_t, bool, std::string,
                                  Guid, Bytes, std::shared_ptr<const Restriction>, std::vector<int16_t>,
                                  std::vector<int32_t>, std::vector<float>, std::vector<double>,
                                  std::vector<int64_t>, std::vector<std::string>, std::vector<Guid>,
                                  std::vector<Bytes>>;

// The variant index a type's values use; throws MAPI_E_INVALID_TYPE for an unknown type.
size_t storage_index(PropType type);

// One tagged value (MAPI's SPropValue). A value whose storage does not fit its tag cannot be built.
class PropValue {
 public:
  PropValue() = default;  // PtypNull, tag 0
  // Throws MAPI_E_INVALID_TYPE if `storage` is not the alternative the tag's type uses.
  PropValue(PropTag tag, ValueStorage storage);

  // Convenience constructors; each checks the tag's type.
  static PropValue i16(PropTag t, int16_t v) { return {t, v}; }
  static PropValue i32(PropTag t, int32_t v) { return {t, v}; }
  static PropValue i64(PropTag t, int64_t v) { return {t, v}; }
  static PropValue boolean(PropTag t, bool v) { return {t, v}; }
  static PropValue f64(PropTag t, double v) { return {t, v}; }
  static PropValue string(PropTag t, std::string v) { return {t, std::move(v)}; }
  static PropValue binary(PropTag t, Bytes v) { return {t, std::move(v)}; }
  static PropValue guid(PropTag t, Guid v) { return {t, v}; }
  static PropValue time(PropTag t, int64_t filetime) { return {t, filetime}; }
  // A PtypErrorCode value standing for a property that could not be returned.
  static PropValue error(uint16_t prop_id, ErrorCode code) {
    return {PropTag(prop_id, PropType::ErrorCode), int32_t(uint32_t(code))};
  }

  PropTag tag() const { return tag_; }
  PropType type() const { return tag_.type(); }
  const ValueStorage& storage() const { return v_; }

  template <class T> const T& get() const { return std::get<T>(v_); }
  template <class T> const T* get_if() const { return std::get_if<T>(&v_); }

  // Size in bytes of the value as MAPI counts it (PidTagMessageSize, RES_SIZE):
  // fixed size for fixed types, string bytes for strings (UTF-16 for PtypString), sum for multi-values.
  size_t size() const;

  // A short readable rendering, as MFCMAPI shows a value ("0x00000001", "2024-01-01T00:00:00Z", "cb: 4 lpb: 01020304").
  std::string to_display() const;

  friend bool operator==(const PropValue& a, const PropValue& b);

 private:
  PropTag tag_;
  ValueStorage v_;
};

// Deep equality of restrictions, declared here for PropValue::operator==.
bool restriction_equal(const Restriction& a, const Restriction& b);

// MS-OXCDATA 2.11.2 wire form of a value of type `type` (no tag):
// strings as NUL-terminated UTF-16LE (PtypString) or 8-bit (PtypString8),
// PtypBinary with a 16-bit count (`wide_counts` = false) or a 32-bit one,
// multi-value counts 32-bit when `wide_counts` (as in MS-OXCDATA's "COUNT" of 4 bytes), else 16-bit.
void write_value(BinaryWriter& w, const PropValue& value, bool wide_counts = true);
PropValue read_value(BinaryReader& r, PropTag tag, bool wide_counts = true);

// Tagged forms (MS-OXCDATA 2.11.2.1 PropertyValue): tag then value.
void write_tagged_value(BinaryWriter& w, const PropValue& value, bool wide_counts = true);
PropValue read_tagged_value(BinaryReader& r, bool wide_counts = true);

}  // namespace openmapi
