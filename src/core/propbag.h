// Property bags and the message model (a bag plus recipients and attachments).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/propvalue.h"

namespace openmapi {

// Anything properties can be read from: what restrictions are evaluated over.
class PropertySource {
 public:
  virtual ~PropertySource() = default;
  // The value with `tag`'s id if its type is `tag`'s type (PtypString and PtypString8 count
  // as one, and PtypUnspecified matches any type); nullptr when there is none.
  virtual const PropValue* find(PropTag tag) const = 0;
  // The rows of a sub-object table for RES_SUBRESTRICTION: `table` is PidTagMessageRecipients
  // or PidTagMessageAttachments. Sources without sub-objects return nothing.
  virtual std::vector<const PropertySource*> subobjects(PropTag table) const { return {}; }
};

// A set of values, at most one per property id, kept in id order.
class PropertyBag : public PropertySource {
 public:
  PropertyBag() = default;
  PropertyBag(std::initializer_list<PropValue> values);

  const PropValue* find(PropTag tag) const override;
  // find(), for moving a value out (the bag then holds a moved-from value under that tag).
  PropValue* find_mutable(PropTag tag) { return const_cast<PropValue*>(find(tag)); }
  // Adds or replaces the value with the same id.
  void set(PropValue v);
  // Removes the value with `tag`'s id; returns whether there was one.
  bool erase(PropTag tag);
  bool has(PropTag tag) const { return find(tag) != nullptr; }

  const std::vector<PropValue>& values() const { return values_; }
  size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }

  // Typed reads; nullopt when absent.
  std::optional<std::string> get_string(PropTag tag) const;
  std::optional<int32_t> get_i32(PropTag tag) const;
  std::optional<int64_t> get_i64(PropTag tag) const;
  std::optional<bool> get_bool(PropTag tag) const;

  friend bool operator==(const PropertyBag& a, const PropertyBag& b) { return a.values_ == b.values_; }

 private:
  std::vector<PropValue> values_;
};

struct Message;

struct Attachment {
  PropertyBag props;
  std::unique_ptr<Message> embedded;  // set when PidTagAttachMethod is afEmbeddedMessage (5)

  Attachment() = default;
  Attachment(const Attachment& o);
  Attachment& operator=(const Attachment& o);
  Attachment(Attachment&&) = default;
  Attachment& operator=(Attachment&&) = default;
  friend bool operator==(const Attachment& a, const Attachment& b);
};

// A message: its own properties, a recipient table and an attachment table.
struct Message : PropertySource {
  PropertyBag props;
  std::vector<PropertyBag> recipients;
  std::vector<Attachment> attachments;

  const PropValue* find(PropTag tag) const override { return props.find(tag); }
  std::vector<const PropertySource*> subobjects(PropTag table) const override;
  friend bool operator==(const Message& a, const Message& b);
};

// MS-OXCMSG 2.2.1.6 PidTagMessageFlags bits.
namespace msgflag {
inline constexpr int32_t Read = 0x00000001;
inline constexpr int32_t Unmodified = 0x00000002;
inline constexpr int32_t Submitted = 0x00000004;
inline constexpr int32_t Unsent = 0x00000008;
inline constexpr int32_t HasAttach = 0x00000010;
inline constexpr int32_t FromMe = 0x00000020;
inline constexpr int32_t Associated = 0x00000040;
inline constexpr int32_t Resend = 0x00000080;
inline constexpr int32_t NotifyRead = 0x00000100;
inline constexpr int32_t NotifyUnread = 0x00000200;
inline constexpr int32_t EverRead = 0x00000400;
inline constexpr int32_t Internet = 0x00002000;
inline constexpr int32_t Untrusted = 0x00008000;
}  // namespace msgflag

// MS-OXCMSG 2.2.1.2.1 / MS-OXOMSG recipient types.
namespace recipient_type {
inline constexpr int32_t Originator = 0x00000000;
inline constexpr int32_t To = 0x00000001;
inline constexpr int32_t Cc = 0x00000002;
inline constexpr int32_t Bcc = 0x00000003;
}  // namespace recipient_type

// MS-OXCMSG 2.2.2.9 PidTagAttachMethod.
namespace attach_method {
inline constexpr int32_t None = 0;
inline constexpr int32_t ByValue = 1;
inline constexpr int32_t ByReference = 2;
inline constexpr int32_t ByReferenceOnly = 4;
inline constexpr int32_t EmbeddedMessage = 5;
inline constexpr int32_t Storage = 6;
inline constexpr int32_t ByWebReference = 7;
}  // namespace attach_method

// The name a reader shows for an attachment: its long file name, else its 8.3 file name, else
// its display name (an empty value counts as none); for an embedded message the attachment's
// display name, else the message's subject (as Outlook names it). "" when it has none.
std::string attachment_name(const Attachment& a);

}  // namespace openmapi
