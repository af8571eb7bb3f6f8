#include "core/propbag.h"

#include <algorithm>

namespace openmapi {
namespace {

bool type_matches(PropType stored, PropType wanted) {
  if (wanted == PropType::Unspecified || stored == wanted) return true;
  auto is_str = [](PropType t) { return t == PropType::String || t == PropType::String8; };
  auto is_mvstr = [](PropType t) { return t == PropType::MultipleString || t == PropType::MultipleString8; };
  return (is_str(stored) && is_str(wanted)) || (is_mvstr(stored) && is_mvstr(wanted));
}

}  // namespace

PropertyBag::PropertyBag(std::initializer_list<PropValue> values) {
  for (const auto& v : values) set(v);
}

const PropValue* PropertyBag::find(PropTag tag) const {
  auto it = std::lower_bound(values_.begin(), values_.end(), tag.id(),
                             [](const PropValue& v, uint16_t id) { return v.tag().id() < id; });
  if (it == values_.end() || it->tag().id() != tag.id()) return nullptr;
  return type_matches(it->type(), tag.type()) ? &*it : nullptr;
}

void PropertyBag::set(PropValue v) {
  auto it = std::lower_bound(values_.begin(), values_.end(), v.tag().id(),
                             [](const PropValue& x, uint16_t id) { return x.tag().id() < id; });
  if (it != values_.end() && it->tag().id() == v.tag().id()) *it = std::move(v);
  else values_.insert(it, std::move(v));
}

bool PropertyBag::erase(PropTag tag) {
  auto it = std::lower_bound(values_.begin(), values_.end(), tag.id(),
                             [](const PropValue& v, uint16_t id) { return v.tag().id() < id; });
  if (it == values_.end() || it->tag().id() != tag.id()) return false;
  values_.erase(it);
  return true;
}

std::optional<std::string> PropertyBag::get_string(PropTag tag) const {
  const auto* v = find(tag);
  if (!v) return std::nullopt;
  if (const auto* s = v->get_if<std::string>()) return *s;
  return std::nullopt;
}

std::optional<int32_t> PropertyBag::get_i32(PropTag tag) const {
  const auto* v = find(tag);
  if (!v) return std::nullopt;
  if (const auto* x = v->get_if<int32_t>()) return *x;
  return std::nullopt;
}

std::optional<int64_t> PropertyBag::get_i64(PropTag tag) const {
  const auto* v = find(tag);
  if (!v) return std::nullopt;
  if (const auto* x = v->get_if<int64_t>()) return *x;
  return std::nullopt;
}

std::optional<bool> PropertyBag::get_bool(PropTag tag) const {
  const auto* v = find(tag);
  if (!v) return std::nullopt;
  if (const auto* x = v->get_if<bool>()) return *x;
  return std::nullopt;
}

Attachment::Attachment(const Attachment& o)
    : props(o.props), embedded(o.embedded ? std::make_unique<Message>(*o.embedded) : nullptr) {}

Attachment& Attachment::operator=(const Attachment& o) {
  if (this != &o) {
    props = o.props;
    embedded = o.embedded ? std::make_unique<Message>(*o.embedded) : nullptr;
  }
  return *this;
}

bool operator==(const Attachment& a, const Attachment& b) {
  if (!(a.props == b.props)) return false;
  if (bool(a.embedded) != bool(b.embedded)) return false;
  return !a.embedded || *a.embedded == *b.embedded;
}

std::vector<const PropertySource*> Message::subobjects(PropTag table) const {
  std::vector<const PropertySource*> out;
  if (table.id() == tags::PidTagMessageRecipients.id())
    for (const auto& r : recipients) out.push_back(&r);
  else if (table.id() == tags::PidTagMessageAttachments.id())
    for (const auto& a : attachments) out.push_back(&a.props);
  return out;
}

bool operator==(const Message& a, const Message& b) {
  return a.props == b.props && a.recipients == b.recipients && a.attachments == b.attachments;
}

std::string attachment_name(const Attachment& a) {
  auto first = [](const PropertyBag& b, std::initializer_list<PropTag> tags) -> std::string {
    for (PropTag t : tags)
      if (auto v = b.get_string(t); v && !v->empty()) return *v;
    return "";
  };
  if (a.embedded) {
    std::string name = first(a.props, {tags::PidTagDisplayName});
    return name.empty() ? first(a.embedded->props, {tags::PidTagSubject}) : name;
  }
  return first(a.props, {tags::PidTagAttachLongFilename, tags::PidTagAttachFilename, tags::PidTagDisplayName});
}

}  // namespace openmapi
