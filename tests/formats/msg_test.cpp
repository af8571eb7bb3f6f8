// MS-OXMSG reader and writer against independent truth: the spec-derived property stream
// vector, every corpus .msg against @kenjiuno/msgreader's JSON (EXPECTED.md for where it is
// wrong), round trips, and our files opened by olecfinfo/olecfexport and msgconvert.
#include "formats/msg/msg.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

#include "core/error.h"
#include "core/unicode.h"

#include "test_util.h"

using namespace openmapi;
using namespace openmapi::msg;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kShared = OPENMAPI_SHARED_DIR;
const fs::path kCorpus = kShared / "corpus" / "msg";
const fs::path kExpected = kShared / "corpus" / "expected" / "msg";

// EXPECTED.md: both files fail in peers. The clusterfuzz case has a directory that olecfinfo
// and msgconvert refuse; unknown_properties.msg has a value stream whose size lies past the end
// of the file (msgreader and msgconvert fail too).
const std::set<std::string> kMalformed = {"clusterfuzz-testcase-minimized-POIHSMFFuzzer-4735011465854976.msg",
                                          "unknown_properties.msg"};

using openmapi::testing::have_tool;
using openmapi::testing::read_file;
using openmapi::testing::run_command;
std::string read_text(const fs::path& p) {
  Bytes b = read_file(p);
  return std::string(b.begin(), b.end());
}
void write_file(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(kCorpus))
    if (e.path().extension() == ".msg") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

using openmapi::testing::code_of;

constexpr PropTag kSubject(0x0037, PropType::String);
constexpr PropTag kMessageClass(0x001A, PropType::String);
constexpr PropTag kBody(0x1000, PropType::String);
constexpr PropTag kRtf(0x1009, PropType::Binary);
constexpr PropTag kDisplayName(0x3001, PropType::String);
constexpr PropTag kEmail(0x3003, PropType::String);
constexpr PropTag kSmtp(0x39FE, PropType::String);
constexpr PropTag kRecipType(0x0C15, PropType::Integer32);
constexpr PropTag kLongFilename(0x3707, PropType::String);
constexpr PropTag kFilename(0x3704, PropType::String);
constexpr PropTag kAttachData(0x3701, PropType::Binary);
constexpr PropTag kMessageCodepage(0x3FFD, PropType::Integer32);
constexpr PropTag kInternetCodepage(0x3FDE, PropType::Integer32);

// msgreader decodes 8-bit strings as Latin-1 whatever the code page (EXPECTED.md). Its string
// re-encoded as Latin-1 gives the stored bytes, which the code page then decodes: that is the truth.
std::string peer_truth(const std::string& peer, uint32_t cp) {
  std::u16string u = utf8_to_utf16(peer);
  Bytes raw;
  for (char16_t c : u) {
    if (c > 0xFF) return peer;  // not a Latin-1 reading: take it as it is
    raw.push_back(uint8_t(c));
  }
  return decode_codepage(raw, cp);
}

void expect_string(const PropertyBag& bag, PropTag tag, const json& peer, uint32_t cp, const std::string& what) {
  auto ours = bag.get_string(tag);
  if (peer.is_null()) {
    // msgreader reports null for absent and sometimes for empty values.
    EXPECT_TRUE(!ours || ours->empty()) << what << ": we have '" << *ours << "'";
    return;
  }
  ASSERT_TRUE(ours) << what << " missing; msgreader: " << peer;
  std::string p = peer.get<std::string>();
  if (*ours != p) EXPECT_EQ(*ours, peer_truth(p, cp)) << what << " (msgreader: " << p << ")";
}

uint32_t codepage_of(const PropertyBag& bag, uint32_t parent) {
  if (auto v = bag.get_i32(kMessageCodepage)) return uint32_t(*v);
  if (auto v = bag.get_i32(kInternetCodepage)) return uint32_t(*v);
  return parent;
}

void compare_with_msgreader(const Message& m, const json& j, uint32_t parent_cp, const std::string& where) {
  SCOPED_TRACE(where);
  uint32_t cp = codepage_of(m.props, parent_cp);
  expect_string(m.props, kMessageClass, j["messageClass"], cp, "message class");
  expect_string(m.props, kSubject, j["subject"], cp, "subject");
  // Body kinds: msgreader lists "text", "html", "rtf" for the values it finds.
  std::set<std::string> kinds;
  if (j.contains("bodyKinds") && j["bodyKinds"].is_array())
    for (auto& k : j["bodyKinds"]) kinds.insert(k.get<std::string>());
  EXPECT_EQ(kinds.count("text") == 1, m.props.has(kBody)) << "text body";
  // msgreader reports "html" only for PidTagHtml stored as binary (0x10130102); files with an
  // 8-bit PidTagBodyHtml (0x1013001E: qwerty_*.msg, chinese-traditional.msg, ...) it ignores.
  EXPECT_EQ(kinds.count("html") == 1, m.props.has(PropTag(0x1013, PropType::Binary))) << "html body";
  EXPECT_EQ(kinds.count("rtf") == 1, m.props.has(kRtf)) << "rtf body";
  ASSERT_EQ(m.recipients.size(), j["recipientCount"].get<size_t>());
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    const json& r = j["recipients"][i];
    expect_string(m.recipients[i], kDisplayName, r["name"], cp, "recipient name " + std::to_string(i));
    expect_string(m.recipients[i], kEmail, r["email"], cp, "recipient address " + std::to_string(i));
    expect_string(m.recipients[i], kSmtp, r["smtpAddress"], cp, "recipient SMTP " + std::to_string(i));
  }
  ASSERT_EQ(m.attachments.size(), j["attachmentCount"].get<size_t>());
  for (size_t i = 0; i < m.attachments.size(); ++i) {
    const Attachment& a = m.attachments[i];
    const json& ja = j["attachments"][i];
    std::string what = "attachment " + std::to_string(i);
    EXPECT_EQ(bool(a.embedded), ja["embeddedMsg"].get<bool>()) << what;
    expect_string(a.props, kLongFilename, ja["fileName"], cp, what + " file name");
    expect_string(a.props, kFilename, ja["fileNameShort"], cp, what + " short file name");
    const PropValue* data = a.props.find(kAttachData);
    if (ja["contentLength"].is_null()) {
      EXPECT_TRUE(!data || a.embedded) << what;
    } else {
      ASSERT_TRUE(data) << what;
      EXPECT_EQ(data->get<Bytes>().size(), ja["contentLength"].get<size_t>()) << what;
    }
    if (a.embedded && ja.contains("embedded")) compare_with_msgreader(*a.embedded, ja["embedded"], cp, where + "/" + what);
  }
}

}  // namespace

// --- the spec-derived property stream (shared/spec-vectors/oxmsg) -----------------------------

TEST(MsgSpecVector, DecodesAndEncodesByteForByte) {
  const fs::path dir = kShared / "spec-vectors" / "oxmsg";
  Bytes props = read_file(dir / "derived_properties_version1.0_toplevel.bin");
  Bytes subject = read_file(dir / "derived_substg1.0_0037001F.bin");
  ASSERT_EQ(props.size(), 80u);
  cfb::Storage st;
  st.streams["__properties_version1.0"] = props;
  st.streams["__substg1.0_0037001F"] = subject;
  PropertyStreamHeader h;
  PropertyBag bag = read_properties(st, ObjectKind::TopLevel, 0, &h);
  EXPECT_EQ(h.next_recipient_id, 1u);
  EXPECT_EQ(h.next_attachment_id, 1u);
  EXPECT_EQ(h.recipient_count, 1u);
  EXPECT_EQ(h.attachment_count, 1u);
  ASSERT_EQ(bag.size(), 3u);
  EXPECT_EQ(bag.get_string(kSubject), "Hello");
  EXPECT_EQ(bag.get_i32(PropTag(0x0017, PropType::Integer32)), 1);
  EXPECT_EQ(bag.get_i32(PropTag(0x0E07, PropType::Integer32)), 1);

  // Encode in the vector's entry order.
  std::vector<PropValue> values = {PropValue::string(kSubject, "Hello"),
                                   PropValue::i32(PropTag(0x0017, PropType::Integer32), 1),
                                   PropValue::i32(PropTag(0x0E07, PropType::Integer32), 1)};
  cfb::Storage out;
  write_properties(out, values, ObjectKind::TopLevel, h);
  EXPECT_EQ(out.streams["__properties_version1.0"], props);
  EXPECT_EQ(out.streams["__substg1.0_0037001F"], subject);
  EXPECT_EQ(out.streams.size(), 2u);
}

TEST(MsgSpecVector, HeaderSizes) {
  EXPECT_EQ(header_size(ObjectKind::TopLevel), 32u);
  EXPECT_EQ(header_size(ObjectKind::Embedded), 24u);
  EXPECT_EQ(header_size(ObjectKind::RecipientOrAttachment), 8u);
  EXPECT_EQ(value_stream_name(0x0037001F), "__substg1.0_0037001F");
}

// --- the corpus ------------------------------------------------------------------------------

TEST(MsgCorpus, AgreesWithMsgreader) {
  auto files = corpus_files();
  ASSERT_GE(files.size(), 50u);
  for (auto& path : files) {
    const std::string name = path.filename().string();
    SCOPED_TRACE(name);
    Bytes data = read_file(path);
    if (kMalformed.count(name)) {
      try {
        read_msg(data);
        ADD_FAILURE() << "expected MAPI_E_CORRUPT_DATA";
      } catch (const MapiError& e) {
        EXPECT_EQ(e.code(), ErrorCode::MAPI_E_CORRUPT_DATA);
        EXPECT_FALSE(std::string(e.what()).empty());
      }
      continue;
    }
    MsgFile f;
    try {
      f = read_msg(data);
    } catch (const MapiError& e) {
      ADD_FAILURE() << e.describe();
      continue;
    }
    json j = json::parse(read_text(kExpected / (name + ".msgreader.json")));
    compare_with_msgreader(f.message, j, 1252, name);
  }
}

// EXPECTED.md: for 8-bit strings in non-Latin code pages the truth is the code-page decoding.
TEST(MsgCorpus, CodePageDecoding) {
  MsgFile ru = read_msg(read_file(kCorpus / "ASCII_CP1251_LCID1049.msg"));
  EXPECT_EQ(ru.message.props.get_string(kSubject),
            "Subject \xd0\xb0\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x82\xd0\xb8\xd1\x87\xd0\xb5\xd1\x81\xd0\xba"
            "\xd0\xb8 Subject");  // "автоматически"
  MsgFile de = read_msg(read_file(kCorpus / "ASCII_UTF-8_CP1252_LCID1031.msg"));
  EXPECT_EQ(de.message.props.get_string(kSubject), "Subject \xc3\xb6\xc3\xa4\xc3\xbc Subject");  // öäü
  MsgFile zh = read_msg(read_file(kCorpus / "chinese-traditional.msg"));
  EXPECT_EQ(zh.message.props.get_string(kSubject),
            "Alfresco MSG format testing ( MSG \xe6\xa0\xbc\xe5\xbc\x8f\xe6\xb8\xac\xe8\xa9\xa6 )");  // 格式測試
}

// A message with 8-bit strings and no code page is in its locale's (MS-OXCMSG 2.2.1.5): the
// Russian corpus file with its PidTagInternetCodepage entry made unreadable (type
// PtypUnspecified, which readers skip) still decodes as CP1251, from PidTagMessageLocaleId 1049.
TEST(MsgCorpus, NoCodePageMeansTheLocalesCodePage) {
  Bytes data = read_file(kCorpus / "ASCII_CP1251_LCID1049.msg");
  // The property stream entry: tag 0x3FDE0003, flags, value 1251.
  const uint8_t entry[] = {0x03, 0x00, 0xDE, 0x3F};
  size_t patched = 0;
  for (size_t i = 0; i + 16 <= data.size(); ++i)
    if (std::equal(entry, entry + 4, data.begin() + long(i)) && data[i + 8] == 0xE3 && data[i + 9] == 0x04 && data[i + 10] == 0 &&
        data[i + 11] == 0) {
      data[i] = 0x00;  // PtypUnspecified
      ++patched;
    }
  ASSERT_EQ(patched, 1u);
  MsgFile ru = read_msg(data);
  EXPECT_FALSE(ru.message.props.has(kInternetCodepage));
  EXPECT_FALSE(ru.message.props.has(kMessageCodepage));
  EXPECT_EQ(ru.message.props.get_i32(PropTag(0x3FF1, PropType::Integer32)), 1049);
  EXPECT_EQ(ru.message.props.get_string(kSubject),
            "Subject \xd0\xb0\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x82\xd0\xb8\xd1\x87\xd0\xb5\xd1\x81\xd0\xba"
            "\xd0\xb8 Subject");  // "автоматически"
  // The table behind it, spot-checked against Windows' ANSI code pages of these locales.
  EXPECT_EQ(ansi_codepage_of_lcid(0x0411), 932u);   // ja-JP
  EXPECT_EQ(ansi_codepage_of_lcid(0x0804), 936u);   // zh-CN
  EXPECT_EQ(ansi_codepage_of_lcid(0x0404), 950u);   // zh-TW
  EXPECT_EQ(ansi_codepage_of_lcid(0x0412), 949u);   // ko-KR
  EXPECT_EQ(ansi_codepage_of_lcid(0x0415), 1250u);  // pl-PL
  EXPECT_EQ(ansi_codepage_of_lcid(0x081A), 1250u);  // sr-Latn
  EXPECT_EQ(ansi_codepage_of_lcid(0x0C1A), 1251u);  // sr-Cyrl
  EXPECT_EQ(ansi_codepage_of_lcid(0x0408), 1253u);  // el-GR
  EXPECT_EQ(ansi_codepage_of_lcid(0x041F), 1254u);  // tr-TR
  EXPECT_EQ(ansi_codepage_of_lcid(0x040D), 1255u);  // he-IL
  EXPECT_EQ(ansi_codepage_of_lcid(0x0401), 1256u);  // ar-SA
  EXPECT_EQ(ansi_codepage_of_lcid(0x0426), 1257u);  // lv-LV
  EXPECT_EQ(ansi_codepage_of_lcid(0x041E), 874u);   // th-TH
  EXPECT_EQ(ansi_codepage_of_lcid(0x0407), 1252u);  // de-DE
  EXPECT_EQ(ansi_codepage_of_lcid(0x007F), 0u);     // invariant: not a language
}

TEST(MsgCorpus, NamedProperties) {
  // keywords.msg: Keywords is PS_PUBLIC_STRINGS:Keywords, a multi-valued string.
  MsgFile f = read_msg(read_file(kCorpus / "keywords.msg"));
  auto id = f.names.find(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords"));
  ASSERT_TRUE(id);
  const PropValue* v = f.message.props.find(PropTag(*id, PropType::MultipleString));
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->get<std::vector<std::string>>().empty());
  for (auto& [nid, name] : f.names.entries()) EXPECT_GE(nid, 0x8000);
}

// The hash-bucket streams we write for a file's names equal the file's own: checks the
// bucket formula and the CRC-32 variant (MS-OXMSG 2.2.3.2.2).
TEST(MsgCorpus, NameHashBucketsMatchOutlook) {
  size_t compared = 0;
  for (auto& path : corpus_files()) {
    if (kMalformed.count(path.filename().string())) continue;
    SCOPED_TRACE(path.filename().string());
    cfb::Storage tree = cfb::load_tree(read_file(path));
    MsgFile f = read_msg(tree);
    const cfb::Storage* orig = tree.find_storage("__nameid_version1.0");
    if (!orig || f.names.size() == 0) continue;
    bool dense = true;
    uint16_t expect = 0x8000;
    bool headers = false;
    for (auto& [id, n] : f.names.entries()) {
      dense = dense && id == expect++;
      // NamedPropertyMap keeps PS_INTERNET_HEADERS names lowercased (they are case-insensitive),
      // so their CRCs differ from the file's.
      headers = headers || (n.kind == NameKind::String && n.set == propset::PS_INTERNET_HEADERS);
    }
    if (!dense || headers) continue;
    cfb::Storage ours = write_msg_tree(f.message, f.names);
    const cfb::Storage* ns = ours.find_storage("__nameid_version1.0");
    ASSERT_TRUE(ns);
    for (auto& [sname, data] : orig->streams) {
      if (sname < "__substg1.0_10000102" || sname > "__substg1.0_101E0102") continue;
      // Compare as sets of 8-byte entries (the order within a bucket is the writer's).
      auto entries = [](const Bytes& b) {
        std::multiset<std::string> s;
        for (size_t i = 0; i + 8 <= b.size(); i += 8) s.insert(std::string(b.begin() + i, b.begin() + i + 8));
        return s;
      };
      const Bytes* mine = ns->find_stream(sname);
      EXPECT_EQ(entries(mine ? *mine : Bytes{}), entries(data)) << sname;
      ++compared;
    }
  }
  EXPECT_GT(compared, 50u);
}

// --- round trips -----------------------------------------------------------------------------

TEST(MsgRoundTrip, EveryCorpusFile) {
  for (auto& path : corpus_files()) {
    if (kMalformed.count(path.filename().string())) continue;
    SCOPED_TRACE(path.filename().string());
    MsgFile a = read_msg(read_file(path));
    Bytes written = write_msg(a.message, a.names);
    MsgFile b = read_msg(written);
    EXPECT_TRUE(b.message == a.message);
    EXPECT_EQ(b.names.entries(), a.names.entries());
    // Writing again gives the same bytes.
    EXPECT_EQ(write_msg(b.message, b.names), written);
  }
}

TEST(MsgRoundTrip, EveryValueType) {
  Message m;
  m.props.set(PropValue::string(kSubject, "Grüße \xF0\x9F\x98\x80"));
  m.props.set(PropValue(PropTag(0x6600, PropType::Integer16), int16_t(-5)));
  m.props.set(PropValue(PropTag(0x6601, PropType::Integer32), int32_t(-7)));
  m.props.set(PropValue(PropTag(0x6602, PropType::Floating32), 1.5f));
  m.props.set(PropValue(PropTag(0x6603, PropType::Floating64), 2.25));
  m.props.set(PropValue(PropTag(0x6604, PropType::Currency), int64_t(123456)));
  m.props.set(PropValue(PropTag(0x6605, PropType::FloatingTime), 45000.5));
  m.props.set(PropValue(PropTag(0x6606, PropType::ErrorCode), int32_t(0x8004010F)));
  m.props.set(PropValue(PropTag(0x6607, PropType::Boolean), true));
  m.props.set(PropValue(PropTag(0x6608, PropType::Integer64), int64_t(-1)));
  m.props.set(PropValue(PropTag(0x6609, PropType::Time), int64_t(133000000000000000)));
  m.props.set(PropValue(PropTag(0x660A, PropType::Guid), propset::PSETID_Common));
  m.props.set(PropValue(PropTag(0x660B, PropType::Binary), Bytes{0, 1, 2}));
  m.props.set(PropValue(PropTag(0x660C, PropType::MultipleInteger16), std::vector<int16_t>{1, -2}));
  m.props.set(PropValue(PropTag(0x660D, PropType::MultipleInteger32), std::vector<int32_t>{3, 4, 5}));
  m.props.set(PropValue(PropTag(0x660E, PropType::MultipleFloating64), std::vector<double>{0.5}));
  m.props.set(PropValue(PropTag(0x660F, PropType::MultipleTime), std::vector<int64_t>{1, 2}));
  m.props.set(PropValue(PropTag(0x6610, PropType::MultipleGuid), std::vector<Guid>{propset::PS_MAPI}));
  m.props.set(PropValue(PropTag(0x6611, PropType::MultipleString), std::vector<std::string>{"a", "", "ç"}));
  m.props.set(PropValue(PropTag(0x6612, PropType::MultipleBinary), std::vector<Bytes>{{1}, {}, Bytes(5000, 7)}));
  m.props.set(PropValue(PropTag(0x6613, PropType::Binary), Bytes(10000, 9)));  // a big stream
  m.props.set(PropValue(PropTag(0x6614, PropType::String), std::string()));
  NamedPropertyMap names;
  uint16_t kw = names.get_or_create(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "Keywords"), true);
  uint16_t lid = names.get_or_create(PropertyName::by_id(propset::PSETID_Common, 0x8514), true);
  uint16_t other = names.get_or_create(PropertyName::by_name(Guid::from_string("{11111111-2222-3333-4444-555555555555}"), "x"), true);
  m.props.set(PropValue(PropTag(kw, PropType::MultipleString), std::vector<std::string>{"k1", "k2"}));
  m.props.set(PropValue::boolean(PropTag(lid, PropType::Boolean), true));
  m.props.set(PropValue::i32(PropTag(other, PropType::Integer32), 9));
  PropertyBag r;
  r.set(PropValue::string(kDisplayName, "Alice"));
  r.set(PropValue::i32(kRecipType, 1));
  m.recipients = {r, r};
  Attachment a;
  a.props.set(PropValue::i32(PropTag(0x3705, PropType::Integer32), 1));
  a.props.set(PropValue::string(kLongFilename, "file.bin"));
  a.props.set(PropValue(kAttachData, Bytes(300, 3)));
  m.attachments.push_back(a);
  Attachment e;
  e.props.set(PropValue::i32(PropTag(0x3705, PropType::Integer32), 5));
  e.embedded = std::make_unique<Message>();
  e.embedded->props.set(PropValue::string(kSubject, "inner"));
  e.embedded->props.set(PropValue::i32(PropTag(other, PropType::Integer32), 10));
  e.embedded->attachments.push_back(a);
  m.attachments.push_back(e);
  // An OLE storage attachment kept as a compound file.
  Attachment o;
  o.props.set(PropValue::i32(PropTag(0x3705, PropType::Integer32), 6));
  cfb::Storage ole;
  ole.streams["\x01Ole"] = Bytes(20, 1);
  ole.streams["CONTENTS"] = Bytes(5000, 2);
  o.props.set(PropValue(kAttachData, cfb::write_compound_file(ole)));
  m.attachments.push_back(o);

  Bytes file = write_msg(m, names);
  cfb::Storage tree = cfb::load_tree(file);
  EXPECT_TRUE(tree.find_storage("__attach_version1.0_#00000002")->find_storage("__substg1.0_3701000D"));
  MsgFile back = read_msg(file);
  EXPECT_TRUE(back.message == m);
  EXPECT_EQ(back.names.entries(), names.entries());

  // String8 values come back as Unicode strings.
  Message s8;
  s8.props.set(PropValue::string(PropTag(0x0037, PropType::String8), "abc"));
  MsgFile s8back = read_msg(write_msg(s8, {}));
  EXPECT_EQ(s8back.message.props.find(kSubject)->type(), PropType::String);
  EXPECT_EQ(s8back.message.props.get_string(kSubject), "abc");
}

TEST(MsgRoundTrip, SparseNameMapIsRenumbered) {
  NamedPropertyMap names;
  names.insert(0x8005, PropertyName::by_id(propset::PSETID_Common, 0x8501));
  names.insert(0x9000, PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "x"));
  Message m;
  m.props.set(PropValue::i32(PropTag(0x9000, PropType::Integer32), 1));
  MsgFile back = read_msg(write_msg(m, names));
  ASSERT_EQ(back.names.size(), 2u);
  auto id = back.names.find(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "x"));
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 0x8001);
  EXPECT_EQ(back.message.props.get_i32(PropTag(*id, PropType::Integer32)), 1);
  // A named id without a name cannot be written.
  Message bad;
  bad.props.set(PropValue::i32(PropTag(0x8123, PropType::Integer32), 1));
  EXPECT_EQ(code_of([&] { write_msg(bad, names); }), ErrorCode::MAPI_E_INVALID_PARAMETER);
  // Remapping into a store's map.
  NamedPropertyMap store;
  store.get_or_create(PropertyName::by_id(propset::PSETID_Address, 1), true);
  Message mapped = remap_named_properties(m, names, store, true);
  auto sid = store.find(PropertyName::by_name(propset::PS_PUBLIC_STRINGS, "x"));
  ASSERT_TRUE(sid);
  EXPECT_EQ(mapped.props.get_i32(PropTag(*sid, PropType::Integer32)), 1);
}

// --- corrupted input -------------------------------------------------------------------------

TEST(MsgCorrupt, TruncatedAndDamagedFiles) {
  Bytes good = read_file(kCorpus / "EmailWithInnerMailAndAttachments.msg");
  for (size_t n = 0; n < good.size(); n += good.size() / 97 + 1) {
    Bytes cut(good.begin(), good.begin() + n);
    EXPECT_EQ(code_of([&] { read_msg(cut); }), ErrorCode::MAPI_E_CORRUPT_DATA) << n;
  }
  // Property streams of odd lengths and missing value streams.
  cfb::Storage st;
  st.streams["__properties_version1.0"] = Bytes(10, 0);
  EXPECT_EQ(code_of([&] { read_msg(cfb::write_compound_file(st)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  cfb::Storage none;
  EXPECT_EQ(code_of([&] { read_msg(cfb::write_compound_file(none)); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // A multi-valued string whose element stream is missing.
  cfb::Storage mv;
  Message m;
  m.props.set(PropValue(PropTag(0x6611, PropType::MultipleString), std::vector<std::string>{"a", "b"}));
  mv = write_msg_tree(m, {});
  mv.streams.erase("__substg1.0_6611101F-00000001");
  EXPECT_EQ(code_of([&] { read_msg(mv); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // Embedded messages nested beyond the limit.
  Message deep;
  Message* cur = &deep;
  for (int i = 0; i < 70; ++i) {
    Attachment a;
    a.embedded = std::make_unique<Message>();
    cur->attachments.push_back(std::move(a));
    cur = cur->attachments.back().embedded.get();
  }
  EXPECT_EQ(code_of([&] { read_msg(write_msg(deep, {})); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // Not a compound file at all.
  Bytes text(4000, 'x');
  EXPECT_EQ(code_of([&] { read_msg(text); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

// --- independent readers on our files --------------------------------------------------------

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("msg_test_" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> lines_matching(const std::string& text, const std::regex& re) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::regex_search(line, re)) out.push_back(line);
  }
  return out;
}

}  // namespace

TEST(MsgIndependent, OlecfReadsOurMsgFiles) {
  if (!have_tool("olecfexport"))
    GTEST_SKIP() << "olecfexport missing: install libolecf-utils (scripts/install-deps)";
  TempDir tmp;
  for (auto& path : corpus_files()) {
    const std::string name = path.filename().string();
    if (kMalformed.count(name)) continue;
    SCOPED_TRACE(name);
    MsgFile f = read_msg(read_file(path));
    cfb::Storage tree = write_msg_tree(f.message, f.names);
    Bytes bytes = cfb::write_compound_file(tree);
    write_file(tmp.path / "ours.msg", bytes);
    fs::remove_all(tmp.path / "x.export");
    int st;
    std::string log = run_command("cd '" + tmp.path.string() + "' && olecfexport -t x ours.msg 2>&1", &st);
    ASSERT_EQ(st, 0) << log;
    std::vector<std::string> exported, expected;
    for (auto& e : fs::recursive_directory_iterator(tmp.path / "x.export"))
      if (e.is_regular_file() && e.path().filename() == "StreamData.bin")
        exported.push_back(fs::relative(e.path().parent_path(), tmp.path / "x.export").string() + "\t" +
                           std::to_string(fs::file_size(e.path())));
    cfb::CompoundFile cf = cfb::CompoundFile::parse(bytes);
    for (auto& item : cf.list()) expected.push_back(item.path + "\t" + std::to_string(item.size));
    std::sort(exported.begin(), exported.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(exported, expected);
  }
}

TEST(MsgIndependent, MsgconvertReadsOurMsgFiles) {
  if (!have_tool("msgconvert"))
    GTEST_SKIP() << "msgconvert missing: install libemail-outlook-message-perl (scripts/install-deps)";
  TempDir tmp;
  const std::regex subject("^Subject: "), attachment("^Content-Disposition: attachment");
  size_t checked = 0;
  for (auto& path : corpus_files()) {
    const std::string name = path.filename().string();
    if (kMalformed.count(name)) continue;
    SCOPED_TRACE(name);
    MsgFile f = read_msg(read_file(path));
    write_file(tmp.path / "ours.msg", write_msg(f.message, f.names));
    fs::remove(tmp.path / "ours.eml");
    int st;
    std::string log = run_command("cd '" + tmp.path.string() + "' && msgconvert ours.msg 2>&1", &st);
    ASSERT_EQ(st, 0) << log;
    std::string ours = read_text(tmp.path / "ours.eml");
    std::string theirs = read_text(kExpected / (name + ".msgconvert.eml"));
    // The same attachments (names included) as msgconvert finds in the original file.
    EXPECT_EQ(lines_matching(ours, attachment), lines_matching(theirs, attachment));
    // The same subject wherever it is plain ASCII (EXPECTED.md: msgconvert writes raw 8-bit
    // bytes for ANSI files, and RFC 2047 words for Unicode ones).
    auto s = f.message.props.get_string(kSubject);
    if (s && std::all_of(s->begin(), s->end(), [](char c) { return c > 0x1F && c < 0x7F; }))
      EXPECT_EQ(lines_matching(ours, subject), lines_matching(theirs, subject));
    ++checked;
  }
  EXPECT_GE(checked, 50u);
}
