// Lossless round trips between formats: .msg -> .eml (with TNEF) -> .msg and .msg -> TNEF -> .msg
// keep every property of every message, recipient, attachment and embedded message.
// Named properties are compared by name (each file numbers them its own way).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "formats/mime/mime.h"
#include "formats/msg/msg.h"
#include "formats/tnef/tnef.h"

#include "test_util.h"

using namespace openmapi;
namespace fs = std::filesystem;

namespace {

using openmapi::testing::read_file;

struct Compare {
  const NamedPropertyMap& na;
  const NamedPropertyMap& nb;
  size_t values = 0, unnamed = 0;

  // The tag `t` of side A has on side B, or nullopt for a named id A gives no name to.
  std::optional<PropTag> on_b(PropTag t) {
    if (!t.is_named()) return t;
    const PropertyName* name = na.find(t.id());
    if (!name) return std::nullopt;
    auto id = nb.find(*name);
    return id ? PropTag(*id, t.type()) : PropTag(0xFFFF, t.type());
  }

  void bag(const PropertyBag& a, const PropertyBag& b, const std::string& where) {
    for (const auto& v : a.values()) {
      auto t = on_b(v.tag());
      if (!t) {
        ++unnamed;  // a named id without a name cannot travel through TNEF (names are inline)
        continue;
      }
      ++values;
      const PropValue* got = t->id() == 0xFFFF ? nullptr : b.find(*t);
      ASSERT_NE(got, nullptr) << where << ": " << v.tag().hex() << " lost";
      if (got->type() != v.type()) {
        ADD_FAILURE() << where << ": " << v.tag().hex() << " type " << type_name(v.type()) << " became " << type_name(got->type());
        continue;
      }
      EXPECT_TRUE(PropValue(v.tag(), got->storage()) == v) << where << ": " << v.tag().hex() << " changed";
    }
  }

  void message(const Message& a, const Message& b, const std::string& where) {
    bag(a.props, b.props, where);
    ASSERT_EQ(a.recipients.size(), b.recipients.size()) << where;
    for (size_t i = 0; i < a.recipients.size(); ++i) bag(a.recipients[i], b.recipients[i], where + " recipient " + std::to_string(i));
    ASSERT_EQ(a.attachments.size(), b.attachments.size()) << where;
    for (size_t i = 0; i < a.attachments.size(); ++i) {
      std::string w = where + " attachment " + std::to_string(i);
      bag(a.attachments[i].props, b.attachments[i].props, w);
      ASSERT_EQ(bool(a.attachments[i].embedded), bool(b.attachments[i].embedded)) << w;
      if (a.attachments[i].embedded) message(*a.attachments[i].embedded, *b.attachments[i].embedded, w + " embedded");
    }
  }
};

std::vector<std::pair<fs::path, msg::MsgFile>> corpus_messages() {
  std::vector<std::pair<fs::path, msg::MsgFile>> out;
  for (const auto& e : fs::directory_iterator(fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "msg")) {
    if (e.path().extension() != ".msg") continue;
    try {
      out.emplace_back(e.path(), msg::read_msg(read_file(e.path())));
    } catch (const MapiError&) {
      // the two damaged files msg_test covers
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace

TEST(Fidelity, MsgToEmlWithTnefToMsgKeepsEveryProperty) {
  size_t files = 0, values = 0, unnamed = 0;
  for (const auto& [path, f] : corpus_messages()) {
    SCOPED_TRACE(path.filename().string());
    Bytes eml = formats::write_mime(f.message, f.names, {.tnef = true});
    NamedPropertyMap n2;
    Message m2 = formats::parse_mime(eml, n2);
    msg::MsgFile back = msg::read_msg(msg::write_msg(m2, n2));
    Compare c{f.names, back.names};
    c.message(f.message, back.message, "message");
    values += c.values;
    unnamed += c.unnamed;
    ++files;
  }
  std::printf("%zu files, %zu values compared, %zu named values without a name skipped\n", files, values, unnamed);
  EXPECT_GT(files, 45u);
  EXPECT_GT(values, 5000u);
}

TEST(Fidelity, MsgToTnefToMsgKeepsEveryProperty) {
  size_t files = 0;
  for (const auto& [path, f] : corpus_messages()) {
    SCOPED_TRACE(path.filename().string());
    tnef::TnefFile t = tnef::read_tnef(tnef::write_tnef(f.message, f.names));
    msg::MsgFile back = msg::read_msg(msg::write_msg(t.message, t.names));
    Compare c{f.names, back.names};
    c.message(f.message, back.message, "message");
    ++files;
  }
  EXPECT_GT(files, 45u);
}
