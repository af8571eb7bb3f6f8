#include "core/propvalue.h"

#include <cstdio>

#include "core/filetime.h"
#include "core/restriction.h"
#include "core/unicode.h"

namespace openmapi {
size_t storage_index(PropType type) {
  switch (type) {
    case PropType::Unspecified:
    case PropType::Null:
    case PropType::Object: return 0;
    case PropType::Integer16: return 1;
    case PropType::Integer32:
    case PropType::ErrorCode: return 2;
    case PropType::Floating32: return 3;
    case PropType::Floating64:
    case PropType::FloatingTime: return 4;
    case PropType::Currency:
    case PropType::Integer64:
    case PropType::Time: return 5;
    case PropType::Boolean: return 6;
    case PropType::String:
    case PropType::String8: return 7;
    case PropType::Guid: return 8;
    case PropType::Binary:
    case PropType::ServerId:
    case PropType::RuleAction: return 9;
    case PropType::Restriction: return 10;
    case PropType::MultipleInteger16: return 11;
    case PropType::MultipleInteger32: return 12;
    case PropType::MultipleFloating32: return 13;
    case PropType::MultipleFloating64:
    case PropType::MultipleFloatingTime: return 14;
    case PropType::MultipleCurrency:
    case PropType::MultipleInteger64:
    case PropType::MultipleTime: return 15;
    case PropType::MultipleString:
    case PropType::MultipleString8: return 16;
    case PropType::MultipleGuid: return 17;
    case PropType::MultipleBinary: return 18;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "unknown property type 0x%04X", unsigned(type));
  throw_error(ErrorCode::MAPI_E_INVALID_TYPE, buf);
}

PropValue::PropValue(PropTag tag, ValueStorage storage) : tag_(tag), v_(std::move(storage)) {
  if (storage_index(tag.type()) != v_.index())
    throw_error(ErrorCode::MAPI_E_INVALID_TYPE,
                "value does not match the type of property tag " + tag.hex() + " (" + type_name(tag.type()) + ")");
  if (tag.type() == PropType::Restriction && !std::get<10>(v_))
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "null restriction value for " + tag.hex());
}

size_t PropValue::size() const {
  const PropType t = type();
  if (size_t f = fixed_size(t); f && !is_multi_valued(t)) return f;
  auto str_size = [&](const std::string& s) {
    return t == PropType::String || t == PropType::MultipleString ? utf8_to_utf16(s).size() * 2 : s.size();
  };
  switch (v_.index()) {
    case 7: return str_size(std::get<std::string>(v_));
    case 9: return std::get<Bytes>(v_).size();
    case 10: return serialize_restriction(*std::get<10>(v_)).size();
    case 16: {
      size_t n = 0;
      for (const auto& s : std::get<16>(v_)) n += str_size(s);
      return n;
    }
    case 18: {
      size_t n = 0;
      for (const auto& b : std::get<18>(v_)) n += b.size();
      return n;
    }
    case 11: return std::get<11>(v_).size() * 2;
    case 12: return std::get<12>(v_).size() * 4;
    case 13: return std::get<13>(v_).size() * 4;
    case 14: return std::get<14>(v_).size() * 8;
    case 15: return std::get<15>(v_).size() * 8;
    case 17: return std::get<17>(v_).size() * 16;
    default: return 0;
  }
}

namespace {
// "{guid}" (by appends: GCC 12 warns falsely on "lit" + string at -O3).
std::string braced(const Guid& g) {
  std::string out = "{";
  out += g.to_string();
  out += '}';
  return out;
}

std::string display_scalar(PropType t, const ValueStorage& v) {
  char buf[64];
  switch (base_type(t)) {
    case PropType::Integer16:
      std::snprintf(buf, sizeof buf, "%d", int(std::get<int16_t>(v)));
      return buf;
    case PropType::Integer32:
      std::snprintf(buf, sizeof buf, "%d", std::get<int32_t>(v));
      return buf;
    case PropType::ErrorCode: return error_name(ErrorCode(uint32_t(std::get<int32_t>(v))));
    case PropType::Floating32:
      std::snprintf(buf, sizeof buf, "%g", double(std::get<float>(v)));
      return buf;
    case PropType::Floating64:
    case PropType::FloatingTime:
      std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v));
      return buf;
    case PropType::Currency: {
      int64_t c = std::get<int64_t>(v);
      std::snprintf(buf, sizeof buf, "%s%lld.%04lld", c < 0 ? "-" : "", (long long)(c < 0 ? -(c / 10000) : c / 10000),
                    (long long)(c < 0 ? -(c % 10000) : c % 10000));
      return buf;
    }
    case PropType::Integer64:
      std::snprintf(buf, sizeof buf, "%lld", (long long)std::get<int64_t>(v));
      return buf;
    case PropType::Time: return format_filetime(std::get<int64_t>(v));
    case PropType::Boolean: return std::get<bool>(v) ? "true" : "false";
    case PropType::String:
    case PropType::String8: return std::get<std::string>(v);
    case PropType::Guid: return braced(std::get<Guid>(v));
    case PropType::Binary:
    case PropType::ServerId:
    case PropType::RuleAction: {
      const auto& b = std::get<Bytes>(v);
      return "cb: " + std::to_string(b.size()) + " lpb: " + to_hex(b);
    }
    case PropType::Restriction: return to_text(*std::get<std::shared_ptr<const Restriction>>(v));
    default: return "";
  }
}

template <class T>
std::string display_multi(PropType t, const std::vector<T>& vals) {
  std::string out = "[";
  for (size_t i = 0; i < vals.size(); ++i) {
    if (i) out += ", ";
    out += display_scalar(base_type(t), ValueStorage{vals[i]});
  }
  return out + "]";
}

}  // namespace

std::string PropValue::to_display() const {
  if (!is_multi_valued(type())) return display_scalar(type(), v_);
  return std::visit(
      [&](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (requires { typename X::value_type; } && !std::is_same_v<X, std::string> &&
                      !std::is_same_v<X, Bytes>)
          return display_multi(type(), x);
        else
          return "";
      },
      v_);
}

bool operator==(const PropValue& a, const PropValue& b) {
  if (a.tag_ != b.tag_) return false;
  if (a.v_.index() == 10 && b.v_.index() == 10)
    return restriction_equal(*std::get<10>(a.v_), *std::get<10>(b.v_));
  return a.v_ == b.v_;
}

// ---- wire form (MS-OXCDATA 2.11.2) -----------------------------------------

namespace {

void write_string(BinaryWriter& w, PropType t, const std::string& s) {
  if (base_type(t) == PropType::String) w.utf16z(s);
  else w.str8z(s);
}

std::string read_string(BinaryReader& r, PropType t) {
  return base_type(t) == PropType::String ? r.utf16z() : r.str8z();
}

void write_count(BinaryWriter& w, size_t n, bool wide) {
  if (wide) w.u32(static_cast<uint32_t>(n));
  else w.u16(static_cast<uint16_t>(n));
}

uint32_t read_count(BinaryReader& r, bool wide) { return wide ? r.u32() : r.u16(); }

void write_guid(BinaryWriter& w, const Guid& g) { w.bytes(g.bytes); }
Guid read_guid(BinaryReader& r) {
  Guid g;
  auto b = r.bytes(16);
  std::copy(b.begin(), b.end(), g.bytes.begin());
  return g;
}

}  // namespace

void write_value(BinaryWriter& w, const PropValue& value, bool wide) {
  const PropType t = value.type();
  const auto& v = value.storage();
  switch (t) {
    case PropType::Unspecified:
    case PropType::Null:
    case PropType::Object: return;
    case PropType::Integer16: w.i16(std::get<int16_t>(v)); return;
    case PropType::Integer32:
    case PropType::ErrorCode: w.i32(std::get<int32_t>(v)); return;
    case PropType::Floating32: w.f32(std::get<float>(v)); return;
    case PropType::Floating64:
    case PropType::FloatingTime: w.f64(std::get<double>(v)); return;
    case PropType::Currency:
    case PropType::Integer64:
    case PropType::Time: w.i64(std::get<int64_t>(v)); return;
    case PropType::Boolean: w.u8(std::get<bool>(v) ? 1 : 0); return;
    case PropType::String:
    case PropType::String8: write_string(w, t, std::get<std::string>(v)); return;
    case PropType::Guid: write_guid(w, std::get<Guid>(v)); return;
    case PropType::Binary:
    case PropType::ServerId:
    case PropType::RuleAction: {
      const auto& b = std::get<Bytes>(v);
      // MS-OXCDATA 2.11.1: PtypBinary has a COUNT; PtypServerId a 16-bit count.
      if (t == PropType::ServerId || !wide) w.u16(static_cast<uint16_t>(b.size()));
      else w.u32(static_cast<uint32_t>(b.size()));
      w.bytes(b);
      return;
    }
    case PropType::Restriction: write_restriction(w, *std::get<10>(v)); return;
    case PropType::MultipleInteger16: {
      const auto& xs = std::get<11>(v);
      write_count(w, xs.size(), wide);
      for (auto x : xs) w.i16(x);
      return;
    }
    case PropType::MultipleInteger32: {
      const auto& xs = std::get<12>(v);
      write_count(w, xs.size(), wide);
      for (auto x : xs) w.i32(x);
      return;
    }
    case PropType::MultipleFloating32: {
      const auto& xs = std::get<13>(v);
      write_count(w, xs.size(), wide);
      for (auto x : xs) w.f32(x);
      return;
    }
    case PropType::MultipleFloating64:
    case PropType::MultipleFloatingTime: {
      const auto& xs = std::get<14>(v);
      write_count(w, xs.size(), wide);
      for (auto x : xs) w.f64(x);
      return;
    }
    case PropType::MultipleCurrency:
    case PropType::MultipleInteger64:
    case PropType::MultipleTime: {
      const auto& xs = std::get<15>(v);
      write_count(w, xs.size(), wide);
      for (auto x : xs) w.i64(x);
      return;
    }
    case PropType::MultipleString:
    case PropType::MultipleString8: {
      const auto& xs = std::get<16>(v);
      write_count(w, xs.size(), wide);
      for (const auto& x : xs) write_string(w, t, x);
      return;
    }
    case PropType::MultipleGuid: {
      const auto& xs = std::get<17>(v);
      write_count(w, xs.size(), wide);
      for (const auto& x : xs) write_guid(w, x);
      return;
    }
    case PropType::MultipleBinary: {
      const auto& xs = std::get<18>(v);
      write_count(w, xs.size(), wide);
      for (const auto& x : xs) {
        write_count(w, x.size(), wide);
        w.bytes(x);
      }
      return;
    }
  }
  throw_error(ErrorCode::MAPI_E_INVALID_TYPE, "cannot serialize property " + value.tag().hex());
}

PropValue read_value(BinaryReader& r, PropTag tag, bool wide) {
  const PropType t = tag.type();
  auto count = [&](size_t min_size) {
    uint32_t n = read_count(r, wide);
    r.need_elements(n, min_size);
    return n;
  };
  switch (t) {
    case PropType::Unspecified:
    case PropType::Null:
    case PropType::Object: return PropValue(tag, std::monostate{});
    case PropType::Integer16: return PropValue(tag, r.i16());
    case PropType::Integer32:
    case PropType::ErrorCode: return PropValue(tag, r.i32());
    case PropType::Floating32: return PropValue(tag, r.f32());
    case PropType::Floating64:
    case PropType::FloatingTime: return PropValue(tag, r.f64());
    case PropType::Currency:
    case PropType::Integer64:
    case PropType::Time: return PropValue(tag, r.i64());
    case PropType::Boolean: return PropValue(tag, r.u8() != 0);
    case PropType::String:
    case PropType::String8: return PropValue(tag, read_string(r, t));
    case PropType::Guid: return PropValue(tag, read_guid(r));
    case PropType::Binary:
    case PropType::ServerId:
    case PropType::RuleAction: {
      uint32_t n = (t == PropType::ServerId || !wide) ? r.u16() : r.u32();
      return PropValue(tag, r.copy(n));
    }
    case PropType::Restriction:
      return PropValue(tag, std::make_shared<const Restriction>(read_restriction(r)));
    case PropType::MultipleInteger16: {
      std::vector<int16_t> xs(count(2));
      for (auto& x : xs) x = r.i16();
      return PropValue(tag, std::move(xs));
    }
    case PropType::MultipleInteger32: {
      std::vector<int32_t> xs(count(4));
      for (auto& x : xs) x = r.i32();
      return PropValue(tag, std::move(xs));
    }
    case PropType::MultipleFloating32: {
      std::vector<float> xs(count(4));
      for (auto& x : xs) x = r.f32();
      return PropValue(tag, std::move(xs));
    }
    case PropType::MultipleFloating64:
    case PropType::MultipleFloatingTime: {
      std::vector<double> xs(count(8));
      for (auto& x : xs) x = r.f64();
      return PropValue(tag, std::move(xs));
    }
    case PropType::MultipleCurrency:
    case PropType::MultipleInteger64:
    case PropType::MultipleTime: {
      std::vector<int64_t> xs(count(8));
      for (auto& x : xs) x = r.i64();
      return PropValue(tag, std::move(xs));
    }
    case PropType::MultipleString:
    case PropType::MultipleString8: {
      std::vector<std::string> xs(count(t == PropType::MultipleString ? 2 : 1));
      for (auto& x : xs) x = read_string(r, t);
      return PropValue(tag, std::move(xs));
    }
    case PropType::MultipleGuid: {
      std::vector<Guid> xs(count(16));
      for (auto& x : xs) x = read_guid(r);
      return PropValue(tag, std::move(xs));
    }
    case PropType::MultipleBinary: {
      std::vector<Bytes> xs(count(wide ? 4 : 2));
      for (auto& x : xs) x = r.copy(read_count(r, wide));
      return PropValue(tag, std::move(xs));
    }
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "unknown property type 0x%04X", unsigned(t));
  throw_error(ErrorCode::MAPI_E_INVALID_TYPE, buf);
}

void write_tagged_value(BinaryWriter& w, const PropValue& value, bool wide) {
  w.u32(value.tag().value);
  write_value(w, value, wide);
}

PropValue read_tagged_value(BinaryReader& r, bool wide) {
  PropTag tag(r.u32());
  return read_value(r, tag, wide);
}

}  // namespace openmapi
