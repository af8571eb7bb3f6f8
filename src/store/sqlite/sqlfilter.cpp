#include "store/sqlite/sqlfilter.h"

#include <cstdio>

#include "core/unicode.h"

namespace openmapi::store::sqlite {
namespace {

struct Mirror {
  uint32_t tag;
  const char* column;
};
constexpr Mirror kMirrors[] = {
    {0x0E060040, "delivery_time"},      // PidTagMessageDeliveryTime
    {0x30080040, "last_modified"},      // PidTagLastModificationTime
    {0x0037001F, "subject"},            // PidTagSubject
    {0x0E1D001F, "normalized_subject"}, // PidTagNormalizedSubject
    {0x0C1A001F, "sender_name"},        // PidTagSenderName
    {0x001A001F, "message_class"},      // PidTagMessageClass
    {0x00170003, "importance"},         // PidTagImportance
    {0x0E070003, "message_flags"},      // PidTagMessageFlags
    {0x0E080003, "message_size"},       // PidTagMessageSize
};

PropTag stored_tag(PropTag t) {
  if (t.type() == PropType::String8) return t.with_type(PropType::String);
  if (t.type() == PropType::MultipleString8) return t.with_type(PropType::MultipleString);
  return t;
}

bool is_integer_like(PropType t) {
  switch (t) {
    case PropType::Integer16:
    case PropType::Integer32:
    case PropType::Integer64:
    case PropType::Time:
    case PropType::Currency:
    case PropType::Boolean: return true;
    default: return false;
  }
}

const char* sql_op(RelOp op) {
  switch (op) {
    case RelOp::Lt: return "<";
    case RelOp::Le: return "<=";
    case RelOp::Gt: return ">";
    case RelOp::Ge: return ">=";
    case RelOp::Eq: return "=";
    case RelOp::Ne: return "!=";
    default: return nullptr;
  }
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

std::string like_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

SqlFragment inexact_true() { return {"1", {}, false}; }

// A LIKE prefilter on a property: large values live in chunks, not in the value column, so
// any message holding `t` as a large value stays a candidate.
SqlFragment like_prefilter(PropTag t, const std::string& col, const std::string& pattern) {
  std::string sql = "COALESCE(" + col + " LIKE ? ESCAPE '\\', 0)";
  if (!mirrored_column(t)) {
    char buf[128];
    std::snprintf(buf, sizeof buf,
                  " OR EXISTS(SELECT 1 FROM message_props WHERE key = (m.id << 32) | %u AND large_id IS NOT NULL)",
                  t.value);
    sql = "(" + sql + buf + ")";
  }
  return {sql, {PropValue::string(tags::PidTagSubject, pattern)}, false};
}

}  // namespace

const char* mirrored_column(PropTag tag) {
  PropTag t = stored_tag(tag);
  for (const auto& m : kMirrors)
    if (m.tag == t.value) return m.column;
  return nullptr;
}

std::optional<std::string> message_column_sql(PropTag tag) {
  PropTag t = stored_tag(tag);
  if (const char* c = mirrored_column(t)) return std::string("m.") + c;
  // Properties computed when read: not visible to SQL.
  switch (t.id()) {
    case 0x674A:  // PidTagMid
    case 0x6748:  // PidTagFolderId
    case 0x0FFF:  // PidTagEntryId
    case 0x0E09:  // PidTagParentEntryId
    case 0x0FF9:  // PidTagRecordKey
    case 0x0FF6:  // PidTagInstanceKey
    case 0x0E1B:  // PidTagHasAttachments
    case 0x67A4:  // PidTagChangeNumber
    case 0x0E12:  // PidTagMessageRecipients
    case 0x0E13:  // PidTagMessageAttachments
    case 0x0E04:  // PidTagDisplayTo (derived from recipients when absent)
    case 0x0E03:
    case 0x0E02:
    case 0x0FFB:  // PidTagStoreEntryId
    case 0x0FFA:  // PidTagStoreRecordKey
    case 0x0FFE:  // PidTagObjectType
    case 0x0FF4:  // PidTagAccess
    case 0x0FF7:  // PidTagAccessLevel
    case 0x65E1:  // PidTagParentSourceKey
      return std::nullopt;
    default: break;
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, "(SELECT value FROM message_props WHERE key = (m.id << 32) | %u)", t.value);
  return std::string(buf);
}

SqlFragment compile_restriction(const Restriction& r) {
  using R = Restriction;
  return std::visit(
      [&](const auto& n) -> SqlFragment {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, R::And> || std::is_same_v<N, R::Or>) {
          constexpr bool is_and = std::is_same_v<N, R::And>;
          if (n.children.empty()) return {is_and ? "1" : "0", {}, true};
          SqlFragment out{"(", {}, true};
          for (size_t i = 0; i < n.children.size(); ++i) {
            SqlFragment c = compile_restriction(n.children[i]);
            if (i) out.sql += is_and ? " AND " : " OR ";
            out.sql += c.sql;
            out.params.insert(out.params.end(), c.params.begin(), c.params.end());
            out.exact = out.exact && c.exact;
          }
          out.sql += ")";
          return out;
        } else if constexpr (std::is_same_v<N, R::Not>) {
          SqlFragment c = compile_restriction(*n.child);
          if (!c.exact) return inexact_true();  // NOT of a superset is no superset
          c.sql = "(NOT " + c.sql + ")";
          return c;
        } else if constexpr (std::is_same_v<N, R::Exist>) {
          PropTag t = stored_tag(n.tag);
          if (t.type() == PropType::Unspecified || !message_column_sql(t)) return inexact_true();
          if (const char* col = mirrored_column(t)) {
            if (t.id() == 0x0E07 || t.id() == 0x0E08) return inexact_true();  // always stored as NOT NULL
            return {std::string("(m.") + col + " IS NOT NULL)", {}, true};
          }
          char buf[128];
          std::snprintf(buf, sizeof buf, "EXISTS(SELECT 1 FROM message_props WHERE key = (m.id << 32) | %u)",
                        t.value);
          return {buf, {}, true};
        } else if constexpr (std::is_same_v<N, R::Property>) {
          PropTag t = stored_tag(n.tag);
          auto col = message_column_sql(t);
          const char* op = sql_op(n.op);
          if (!col || !op || is_multi_valued(t.type())) return inexact_true();
          PropValue v = n.value;
          if (is_integer_like(t.type()) && stored_tag(v.tag()).type() == t.type())
            return {"COALESCE(" + *col + " " + op + " ?, 0)", {v}, true};
          if (t.type() == PropType::String && n.op == RelOp::Eq && v.get_if<std::string>() &&
              is_ascii(*v.get_if<std::string>()))
            return like_prefilter(t, *col, like_escape(*v.get_if<std::string>()));
          return inexact_true();
        } else if constexpr (std::is_same_v<N, R::Content>) {
          PropTag t = stored_tag(n.tag);
          auto col = message_column_sql(t);
          const auto* s = n.value.template get_if<std::string>();
          if (!col || t.type() != PropType::String || !s || !is_ascii(*s) ||
              (n.fuzzy_level & (fuzzy::Loose | fuzzy::IgnoreNonSpace)))
            return inexact_true();
          std::string pattern = like_escape(*s);
          switch (n.fuzzy_level & 0xFFFF) {
            case fuzzy::Substring: pattern = "%" + pattern + "%"; break;
            case fuzzy::Prefix: pattern += "%"; break;
            default: break;
          }
          // LIKE folds ASCII case only: a superset of both the case-sensitive and the
          // case-insensitive match for an ASCII pattern; core's evaluator decides.
          return like_prefilter(t, *col, pattern);
        } else if constexpr (std::is_same_v<N, R::Bitmask>) {
          PropTag t = stored_tag(n.tag);
          auto col = message_column_sql(t);
          if (!col || t.type() != PropType::Integer32) return inexact_true();
          char buf[64];
          std::snprintf(buf, sizeof buf, " & %u) %s 0, 0)", n.mask,
                        n.op == BitmaskOp::EqualToZero ? "=" : "!=");
          // A missing property fails a bitmask restriction either way.
          return {"COALESCE((" + *col + buf, {}, true};
        } else if constexpr (std::is_same_v<N, R::Comment>) {
          if (!n.child) return {"1", {}, true};
          return compile_restriction(*n.child);
        } else {
          return inexact_true();  // size, compare-props, sub-restriction, count: evaluated in C++
        }
      },
      r.node);
}

void collect_restriction_tags(const Restriction& r, std::vector<PropTag>& tags, bool& subobjects) {
  using R = Restriction;
  std::visit(
      [&](const auto& n) {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, R::And> || std::is_same_v<N, R::Or>) {
          for (const auto& c : n.children) collect_restriction_tags(c, tags, subobjects);
        } else if constexpr (std::is_same_v<N, R::Not> || std::is_same_v<N, R::Comment> || std::is_same_v<N, R::Count>) {
          if (n.child) collect_restriction_tags(*n.child, tags, subobjects);
        } else if constexpr (std::is_same_v<N, R::Sub>) {
          subobjects = true;
        } else if constexpr (std::is_same_v<N, R::CompareProps>) {
          tags.push_back(n.tag1);
          tags.push_back(n.tag2);
        } else {
          tags.push_back(n.tag);
        }
      },
      r.node);
}

std::optional<std::string> compile_sort(const SortOrderSet& s) {
  // Categories ordered by an aggregate of their rows (TABLE_SORT_CATEG_MAX/MIN) are ordered in
  // memory (store/table.cpp), over the rows the restriction keeps.
  if (s.categories > 0 && s.orders.size() > s.categories &&
      (s.orders[s.categories].direction == SortDirection::CategoryMaximum ||
       s.orders[s.categories].direction == SortDirection::CategoryMinimum))
    return std::nullopt;
  std::string out;
  for (const auto& o : s.orders) {
    PropTag t = stored_tag(o.tag);
    if (is_multi_valued(t.type()) || t.type() == PropType::Unspecified) return std::nullopt;
    std::optional<std::string> col = t.id() == 0x674A ? std::optional<std::string>("m.id") : message_column_sql(t);
    if (!col) return std::nullopt;
    if (!out.empty()) out += ", ";
    out += *col;
    if (t.type() == PropType::String) out += " COLLATE MAPI";
    bool desc = o.direction == SortDirection::Descending || o.direction == SortDirection::CategoryMaximum;
    out += desc ? " DESC" : " ASC";
  }
  // Ties go by id, in the direction of the last sort column, so that an index on
  // (folder, ..., column) serves the whole ORDER BY (its entries end in the rowid).
  bool last_desc = !s.orders.empty() && (s.orders.back().direction == SortDirection::Descending ||
                                         s.orders.back().direction == SortDirection::CategoryMaximum);
  if (!out.empty()) out += ", ";
  out += last_desc ? "m.id DESC" : "m.id ASC";
  return out;
}

void register_collation(Db& db) {
  auto cmp = [](void*, int na, const void* a, int nb, const void* b) -> int {
    PropValue va = PropValue::string(tags::PidTagSubject, std::string(static_cast<const char*>(a), size_t(na)));
    PropValue vb = PropValue::string(tags::PidTagSubject, std::string(static_cast<const char*>(b), size_t(nb)));
    return compare_values(&va, &vb);
  };
  int rc = sqlite3_create_collation_v2(db.handle(), "MAPI", SQLITE_UTF8, nullptr, cmp, nullptr);
  if (rc != SQLITE_OK) db.fail(rc, "cannot register the MAPI collation");
}

}  // namespace openmapi::store::sqlite
