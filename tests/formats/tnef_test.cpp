// TNEF (MS-OXTNEF) reader and writer against independent truth: the MS-OXTNEF sample message
// prefix (spec-vectors/oxtnef), every corpus TNEF file against the recorded outputs of the `tnef`
// and `ytnef` tools (EXPECTED.md for where they disagree), round trips (TNEF -> TNEF, .msg ->
// TNEF -> .msg), our own files opened by `tnef` and `ytnef`, damaged input, and winmail.dat
// parts of MIME messages.
#include "formats/tnef/tnef.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

#include "core/error.h"
#include "core/filetime.h"
#include "formats/mime/mime.h"
#include "formats/msg/msg.h"
#include "formats/rtf/compressed_rtf.h"

#include "test_util.h"

using namespace openmapi;
using namespace openmapi::tnef;
namespace fs = std::filesystem;

namespace {

const fs::path kShared = OPENMAPI_SHARED_DIR;
const fs::path kCorpus = kShared / "corpus" / "tnef";
const fs::path kExpected = kShared / "corpus" / "expected" / "tnef";

using openmapi::testing::have_tool;
using openmapi::testing::read_file;
using openmapi::testing::run_command;
std::string read_text(const fs::path& p) {
  Bytes b = read_file(p);
  return std::string(b.begin(), b.end());
}
void write_file(const fs::path& p, ByteView b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

using openmapi::testing::code_of;

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(kCorpus)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tnef_test_XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Runs a shell command; returns its standard output and sets `status` to its exit code.
// The md5 of `data` as `md5sum` prints it (the peers' .tsv files hold md5s).
std::string md5_of(ByteView data) {
  TempDir d;
  write_file(d.path / "x", data);
  std::string out = run_command("md5sum '" + (d.path / "x").string() + "'");
  return out.substr(0, 32);
}

struct PeerFile {
  std::string name;
  size_t size = 0;
  std::string md5;
};
// expected/tnef/<file>.<peer>-extract.tsv: name TAB size TAB md5.
std::vector<PeerFile> peer_extract(const std::string& file, const std::string& peer) {
  std::vector<PeerFile> out;
  std::istringstream in(read_text(kExpected / (file + "." + peer + "-extract.tsv")));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    PeerFile f;
    std::string size;
    if (std::getline(l, f.name, '\t') && std::getline(l, size, '\t') && std::getline(l, f.md5, '\t')) {
      f.size = std::stoul(size);
      out.push_back(f);
    }
  }
  return out;
}

const Bytes* attachment_data(const Attachment& a) {
  const PropValue* v = a.props.find(tags::PidTagAttachDataBinary);
  return v ? &v->get<Bytes>() : nullptr;
}
// An attachment named `name` with data of `size` bytes, else nullptr.
const Attachment* find_attachment(const Message& m, const std::string& name, size_t size) {
  for (const Attachment& a : m.attachments) {
    const Bytes* d = attachment_data(a);
    if (d && d->size() == size && (attachment_name(a) == name || a.props.get_string(tags::PidTagAttachFilename) == name))
      return &a;
  }
  return nullptr;
}

// Rewrites named ids into one shared map so that messages read from different files compare.
Message normalized(const Message& m, const NamedPropertyMap& names, NamedPropertyMap& common) {
  return msg::remap_named_properties(m, names, common, true);
}

// ---- the MS-OXTNEF sample message (section 3.1), first eight attributes ------------------------

TEST(TnefSpec, SampleMessagePrefixReadsAsThSpecPrintsIt) {
  Bytes data = read_file(kShared / "spec-vectors" / "oxtnef" / "sample_message_prefix.tnef.bin");
  ASSERT_EQ(data.size(), 208u);
  ASSERT_TRUE(is_tnef(data));
  TnefFile f = read_tnef(data);  // checksums verified: all eight equal the spec's
  EXPECT_EQ(f.key, 0x0001);
  EXPECT_EQ(f.oem_codepage, 1252u);
  EXPECT_EQ(f.trailing_bytes, 0u);
  const PropertyBag& p = f.message.props;
  EXPECT_EQ(p.get_string(tags::PidTagMessageClass), "IPM.Note");  // from "IPM.Microsoft Mail.Note"
  EXPECT_EQ(p.get_string(tags::PidTagSubject), "Simple subject");
  EXPECT_EQ(p.get_i32(tags::PidTagImportance), 1);  // attPriority 2 = normal
  EXPECT_EQ(format_filetime(*p.get_i64(tags::PidTagClientSubmitTime)), "2004-02-17T11:25:35Z");
  EXPECT_EQ(format_filetime(*p.get_i64(tags::PidTagLastModificationTime)), "2004-02-17T12:26:09Z");
  const PropValue* key = p.find(tags::PidTagSearchKey);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(to_hex(key->get<Bytes>()), to_hex(from_hex("757BB19CDE936A4087D90BB784C58E3B")));
  EXPECT_TRUE(f.message.attachments.empty());
}

TEST(TnefSpec, ChecksumsAreVerified) {
  Bytes data = read_file(kShared / "spec-vectors" / "oxtnef" / "sample_message_prefix.tnef.bin");
  // attSubject's checksum (0x057A) sits right after its 15 data bytes.
  Bytes bad = data;
  size_t at = 0;
  for (size_t i = 0; i + 15 < bad.size(); ++i)
    if (std::string(bad.begin() + long(i), bad.begin() + long(i) + 14) == "Simple subject") at = i + 15;
  ASSERT_GT(at, 0u);
  ASSERT_EQ(bad[at], 0x7A);
  ASSERT_EQ(bad[at + 1], 0x05);
  bad[at] ^= 1;
  EXPECT_EQ(code_of([&] { read_tnef(bad); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  TnefReadOptions lenient;
  lenient.verify_checksums = false;
  TnefFile f = read_tnef(bad, lenient);
  EXPECT_EQ(f.checksum_mismatches, 1u);
  EXPECT_EQ(f.message.props.get_string(tags::PidTagSubject), "Simple subject");
}

TEST(TnefSpec, WriterReproducesTheSampleHeaderBytes) {
  // Signature, key, attTnefVersion, attOemCodepage (1252) and attMessageClass
  // ("IPM.Microsoft Mail.Note") are byte for byte the spec's, checksums included.
  Bytes spec = read_file(kShared / "spec-vectors" / "oxtnef" / "sample_message_prefix.tnef.bin");
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  Bytes ours = write_tnef(m, NamedPropertyMap{});
  const size_t prefix = 6 + (11 + 4) + (11 + 8) + (11 + 24);  // 11: level, id, length, checksum
  ASSERT_GE(ours.size(), prefix);
  EXPECT_EQ(to_hex(ByteView(ours).first(prefix)), to_hex(ByteView(spec).first(prefix)));
}

// ---- the corpus against the peers ------------------------------------------------------------

TEST(TnefCorpus, EveryFileReads) {
  for (const fs::path& p : corpus_files()) {
    SCOPED_TRACE(p.filename().string());
    Bytes data = read_file(p);
    TnefFile f;
    ASSERT_EQ(code_of([&] { f = read_tnef(data); }), ErrorCode::Success);
    EXPECT_TRUE(f.message.props.has(tags::PidTagMessageClass));
  }
}

// Attachments the peers extracted, compared by name, size and md5. `tnef` names an attachment by
// its long file name (else attAttachTitle) and calls embedded/OLE objects "Untitled Attachment";
// ytnef also saves the RTF body as "<subject>.rtf" (-F). EXPECTED.md: where they disagree, the
// stream is the truth; those files have hand-checked expectations below.
TEST(TnefCorpus, AttachmentsAgreeWithPeers) {
  const std::set<std::string> untitled = {"Untitled Attachment", "Untitled_Attachment"};
  for (const fs::path& p : corpus_files()) {
    const std::string file = p.filename().string();
    SCOPED_TRACE(file);
    TnefFile f = read_tnef(read_file(p));
    Bytes rtf;
    if (const PropValue* v = f.message.props.find(tags::PidTagRtfCompressed)) rtf = rtf::decompress_rtf(v->get<Bytes>());
    for (const std::string peer : {"tnef", "ytnef"}) {
      if (!fs::exists(kExpected / (file + "." + peer + "-extract.tsv"))) continue;
      for (const PeerFile& e : peer_extract(file, peer)) {
        SCOPED_TRACE(peer + ": " + e.name);
        if (untitled.contains(e.name)) continue;  // checked by hand below
        if (const Attachment* a = find_attachment(f.message, e.name, e.size)) {
          EXPECT_EQ(md5_of(*attachment_data(*a)), e.md5);
          continue;
        }
        ASSERT_EQ(peer, "ytnef") << "no attachment " << e.name << " of " << e.size << " bytes";
        // triples.tnef: ytnef writes a calendar.ics it builds from the appointment's
        // properties; the stream has no attachment (tnef agrees; checked below).
        if (file == "triples.tnef" && e.name == "calendar.ics") continue;
        // ytnef's body file "<subject>.rtf": the decompressed PidTagRtfCompressed. ytnef turns
        // each CRLF into LF CR, so only the size is compared; the bytes are compared with
        // tnef's --save-body output below.
        ASSERT_TRUE(e.name.ends_with(".rtf"));
        EXPECT_EQ(rtf.size(), e.size);
      }
    }
  }
}

// tnef --save-body: the RTF (decompressed PidTagRtfCompressed), HTML or text body.
TEST(TnefCorpus, BodiesAgreeWithTnef) {
  int checked = 0;
  for (const fs::path& p : corpus_files()) {
    const std::string file = p.filename().string();
    SCOPED_TRACE(file);
    TnefFile f = read_tnef(read_file(p));
    if (fs::path e = kExpected / (file + ".tnef-body.rtf"); fs::exists(e)) {
      const PropValue* v = f.message.props.find(tags::PidTagRtfCompressed);
      ASSERT_NE(v, nullptr);
      Bytes rtf = rtf::decompress_rtf(v->get<Bytes>());
      Bytes want = read_file(e);
      // tnef writes the RAWSIZE bytes and nothing else.
      EXPECT_EQ(to_hex(rtf), to_hex(want));
      ++checked;
    }
    if (fs::path e = kExpected / (file + ".tnef-body.html"); fs::exists(e)) {
      const PropValue* v = f.message.props.find(tags::PidTagHtml);
      ASSERT_NE(v, nullptr);
      const Bytes& html = v->get<Bytes>();
      EXPECT_EQ(std::string(html.begin(), html.end()), read_text(e));
      ++checked;
    }
    if (fs::path e = kExpected / (file + ".tnef-body.txt"); fs::exists(e)) {
      auto body = f.message.props.get_string(tags::PidTagBody);
      ASSERT_TRUE(body.has_value());
      std::string want = read_text(e);
      while (!want.empty() && want.back() == '\0') want.pop_back();  // tnef saves the NUL too
      EXPECT_EQ(*body, want);
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
}

// Where the peers disagree (EXPECTED.md), what the attributes hold.
TEST(TnefCorpus, DisagreementsCheckedAgainstTheStream) {
  {
    // MAPI_OBJECT.tnef: one OLE object (attAttachRendData type 2 -> afOle). tnef saves the
    // PtypObject value (IID_IStorage + the docfile) as "Untitled_Attachment"; ytnef only the body.
    TnefFile f = read_tnef(read_file(kCorpus / "MAPI_OBJECT.tnef"));
    ASSERT_EQ(f.message.attachments.size(), 1u);
    const Attachment& a = f.message.attachments[0];
    EXPECT_EQ(a.props.get_i32(tags::PidTagAttachMethod), 6);
    const Bytes* d = attachment_data(a);
    ASSERT_NE(d, nullptr);
    Bytes with_iid = from_hex("0B00000000000000C000000000000046");  // IID_IStorage
    with_iid.insert(with_iid.end(), d->begin(), d->end());
    PeerFile t = peer_extract("MAPI_OBJECT.tnef", "tnef").at(0);
    EXPECT_EQ(with_iid.size(), t.size);
    EXPECT_EQ(md5_of(with_iid), t.md5);
    EXPECT_EQ(to_hex(ByteView(*d).first(8)), "d0cf11e0a1b11ae1");  // a compound file
    EXPECT_EQ(f.message.props.get_string(tags::PidTagSubject), "OCTOBER DISCOUNTED PRICE LIST");
  }
  {
    // christmas.tnef: a picture and two embedded messages (IID_IMessage, nested TNEF streams).
    TnefFile f = read_tnef(read_file(kCorpus / "christmas.tnef"));
    ASSERT_EQ(f.message.attachments.size(), 3u);
    EXPECT_EQ(attachment_name(f.message.attachments[0]), "kitten-playing-with-a-christmas-tree.jpg");
    for (size_t i : {1, 2}) {
      const Attachment& a = f.message.attachments[i];
      EXPECT_EQ(a.props.get_i32(tags::PidTagAttachMethod), attach_method::EmbeddedMessage);
      ASSERT_TRUE(a.embedded);
      EXPECT_FALSE(a.props.has(tags::PidTagAttachDataBinary));
    }
    EXPECT_EQ(f.message.attachments[1].embedded->props.get_string(tags::PidTagSubject), "Build a train table");
    EXPECT_EQ(f.message.attachments[2].embedded->props.get_string(tags::PidTagSubject), "Christmas Celebration!");
    EXPECT_EQ(f.message.attachments[2].embedded->attachments.size(), 1u);
  }
  {
    // data-before-name.tnef: attAttachData precedes attAttachTitle; two empty files and boot.ini.
    TnefFile f = read_tnef(read_file(kCorpus / "data-before-name.tnef"));
    ASSERT_EQ(f.message.attachments.size(), 3u);
    EXPECT_NE(find_attachment(f.message, "AUTOEXEC.BAT", 0), nullptr);
    EXPECT_NE(find_attachment(f.message, "CONFIG.SYS", 0), nullptr);
    EXPECT_NE(find_attachment(f.message, "boot.ini", 289), nullptr);
  }
  {
    // triples.tnef: an appointment without attachments.
    TnefFile f = read_tnef(read_file(kCorpus / "triples.tnef"));
    EXPECT_EQ(f.message.props.get_string(tags::PidTagMessageClass), "IPM.Appointment");
    EXPECT_EQ(f.message.props.get_string(tags::PidTagSubject), "Sample Summary");
    EXPECT_TRUE(f.message.attachments.empty());
  }
  {
    // panic.tnef: three complete attachments, then 17497 bytes of base64 text where an
    // attribute should start (tnef asserts after two, ytnef gives up): ignored and counted.
    TnefFile f = read_tnef(read_file(kCorpus / "panic.tnef"));
    EXPECT_EQ(f.trailing_bytes, 17497u);
    ASSERT_EQ(f.message.attachments.size(), 3u);
    for (const PeerFile& e : peer_extract("panic.tnef", "tnef")) {
      const Attachment* a = find_attachment(f.message, e.name, e.size);
      ASSERT_NE(a, nullptr) << e.name;
      EXPECT_EQ(md5_of(*attachment_data(*a)), e.md5);
    }
    EXPECT_NE(find_attachment(f.message, "image003.png", 7147), nullptr);
  }
  {
    // garbage-at-end.tnef, bug52400: a stray byte / CRLF after the last attribute.
    EXPECT_EQ(read_tnef(read_file(kCorpus / "garbage-at-end.tnef")).trailing_bytes, 1u);
    EXPECT_EQ(read_tnef(read_file(kCorpus / "bug52400-winmail-with-attachments.dat")).trailing_bytes, 2u);
  }
}

// Damaged input: MAPI_E_CORRUPT_DATA, never a crash.
TEST(TnefCorrupt, TruncatedAndDamagedStreams) {
  EXPECT_EQ(code_of([] { read_tnef(Bytes{}); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([] { read_tnef(Bytes{0x78, 0x9f, 0x3e}); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(code_of([] { read_tnef(Bytes{1, 2, 3, 4, 5, 6, 7, 8}); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  Bytes data = read_file(kCorpus / "one-file.tnef");
  // Every cut inside an attribute fails cleanly; cuts at an attribute boundary read what is there.
  for (size_t n = 0; n < data.size(); n += 7) {
    Bytes cut(data.begin(), data.begin() + long(n));
    ErrorCode c = code_of([&] { read_tnef(cut); });
    EXPECT_TRUE(c == ErrorCode::Success || c == ErrorCode::MAPI_E_CORRUPT_DATA) << n;
  }
  Bytes cut(data.begin(), data.end() - 1);
  EXPECT_EQ(code_of([&] { read_tnef(cut); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // A length field past the end.
  Bytes big = data;
  big[6 + 5] = 0xFF, big[6 + 6] = 0xFF, big[6 + 7] = 0xFF, big[6 + 8] = 0x7F;
  EXPECT_EQ(code_of([&] { read_tnef(big); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  // Bit flips anywhere, checksums off (so the property lists are parsed): no crash, only
  // success or MAPI_E_CORRUPT_DATA.
  TnefReadOptions lenient;
  lenient.verify_checksums = false;
  for (const char* name : {"one-file.tnef", "multi-value-attribute.tnef", "unicode-mapi-attr.tnef"}) {
    Bytes d = read_file(kCorpus / name);
    for (size_t i = 6; i < d.size(); i += 7) {
      Bytes b = d;
      b[i] ^= 0xA5;
      ErrorCode c = code_of([&] { read_tnef(b, lenient); });
      EXPECT_TRUE(c == ErrorCode::Success || c == ErrorCode::MAPI_E_CORRUPT_DATA) << name << " byte " << i << " " << error_name(c);
    }
  }
}

TEST(TnefCorrupt, HugeCountsAreRefusedBeforeAllocating) {
  // attMsgProps claiming 0x7FFFFFFF properties in 4 bytes.
  BinaryWriter w;
  w.u32(kSignature);
  w.u16(1);
  Bytes body = {0xFF, 0xFF, 0xFF, 0x7F};
  w.u8(kLevelMessage);
  w.u32(att::MsgProps);
  w.u32(4);
  w.bytes(body);
  w.u16(0xFF * 3 + 0x7F);
  EXPECT_EQ(code_of([&] { read_tnef(w.data()); }), ErrorCode::MAPI_E_CORRUPT_DATA);
}

TEST(TnefCorrupt, DeepNestingIsRefused) {
  // An embedded message inside an embedded message ... 40 deep.
  Message m;
  m.props.set(PropValue::string(tags::PidTagSubject, "leaf"));
  for (int i = 0; i < 40; ++i) {
    Message outer;
    Attachment a;
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::EmbeddedMessage));
    a.embedded = std::make_unique<Message>(std::move(m));
    outer.attachments.push_back(std::move(a));
    m = std::move(outer);
  }
  Bytes data = write_tnef(m, NamedPropertyMap{});
  EXPECT_EQ(code_of([&] { read_tnef(data); }), ErrorCode::MAPI_E_CORRUPT_DATA);
  TnefReadOptions deep;
  deep.max_depth = 64;
  TnefFile f = read_tnef(data, deep);
  EXPECT_EQ(f.message.attachments.size(), 1u);
}

}  // namespace


namespace {

// ---- round trips ---------------------------------------------------------------------------------

TEST(TnefRoundTrip, CorpusReadWriteReadKeepsEverything) {
  for (const fs::path& p : corpus_files()) {
    SCOPED_TRACE(p.filename().string());
    TnefFile f = read_tnef(read_file(p));
    Bytes out = write_tnef(f.message, f.names);
    TnefFile g = read_tnef(out);  // our checksums verify
    EXPECT_EQ(g.trailing_bytes, 0u);
    NamedPropertyMap common;
    Message a = normalized(f.message, f.names, common);
    Message b = normalized(g.message, g.names, common);
    EXPECT_EQ(a.props.values().size(), b.props.values().size());
    for (const PropValue& v : a.props.values()) {
      const PropValue* w = b.props.find(v.tag());
      ASSERT_NE(w, nullptr) << v.tag().hex();
      EXPECT_TRUE(*w == v) << v.tag().hex();
    }
    EXPECT_EQ(a.recipients, b.recipients);
    ASSERT_EQ(a.attachments.size(), b.attachments.size());
    for (size_t i = 0; i < a.attachments.size(); ++i) EXPECT_TRUE(a.attachments[i] == b.attachments[i]) << "attachment " << i;
    EXPECT_TRUE(a == b);
  }
}

TEST(TnefRoundTrip, MsgToTnefToMsgKeepsEveryProperty) {
  for (const char* name : {"EmailWith2Attachments.msg", "EmailWithInnerMailAndAttachments.msg", "qwerty_2-with_custom_properties.msg",
                           "msgClassAppointment.msg", "contact-unicode.msg", "ASCII_CP1251_LCID1049.msg"}) {
    SCOPED_TRACE(name);
    msg::MsgFile m = msg::read_msg(read_file(kShared / "corpus" / "msg" / name));
    Bytes t = write_tnef(m.message, m.names);
    TnefFile f = read_tnef(t);
    Bytes back = msg::write_msg(f.message, f.names);
    msg::MsgFile m2 = msg::read_msg(back);
    NamedPropertyMap common;
    Message a = normalized(m.message, m.names, common);
    Message b = normalized(m2.message, m2.names, common);
    for (const PropValue& v : a.props.values()) {
      const PropValue* w = b.props.find(v.tag());
      ASSERT_NE(w, nullptr) << v.tag().hex();
      EXPECT_TRUE(*w == v) << v.tag().hex();
    }
    EXPECT_EQ(a.props.size(), b.props.size());
    EXPECT_EQ(a.recipients, b.recipients);
    EXPECT_TRUE(a.attachments == b.attachments);
  }
}

}  // namespace

namespace {

// ---- our files in the independent readers ----------------------------------------------------

// Files a directory holds, name -> bytes.
std::map<std::string, Bytes> files_in(const fs::path& dir) {
  std::map<std::string, Bytes> out;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename().string()] = read_file(e.path());
  return out;
}

struct Source {
  std::string name;
  Message message;
  NamedPropertyMap names;
};
std::vector<Source> peer_sources() {
  std::vector<Source> out;
  for (const char* n : {"attachments.tnef", "bug63955-winmail.dat", "data-before-name.tnef", "missing-filenames.tnef",
                        "one-file.tnef", "quick-winmail.dat", "unicode-mapi-attr.tnef", "unicode-mapi-attr-name.tnef",
                        "multi-value-attribute.tnef"}) {
    TnefFile f = read_tnef(read_file(kCorpus / n));
    out.push_back({n, std::move(f.message), std::move(f.names)});
  }
  for (const char* n : {"EmailWith2Attachments.msg", "attachment_test_msg.msg", "TxtSampleEmailWithAttachment.msg"}) {
    msg::MsgFile f = msg::read_msg(read_file(kShared / "corpus" / "msg" / n));
    out.push_back({n, std::move(f.message), std::move(f.names)});
  }
  return out;
}

// `tnef -C DIR` on what we wrote extracts every by-value attachment under its long file name
// with the same bytes, and verifies our checksums (it refuses bad ones without -K).
TEST(TnefPeers, TnefExtractsOurAttachments) {
  if (!have_tool("tnef")) GTEST_SKIP() << "the Debian package 'tnef' is not installed (scripts/install-deps)";
  for (const Source& s : peer_sources()) {
    SCOPED_TRACE(s.name);
    TempDir d;
    write_file(d.path / "winmail.dat", write_tnef(s.message, s.names));
    fs::create_directories(d.path / "out");
    int status = -1;
    std::string log = run_command("tnef --overwrite -C '" + (d.path / "out").string() + "' -f '" + (d.path / "winmail.dat").string() + "' 2>&1", &status);
    EXPECT_EQ(status, 0) << log;
    std::map<std::string, Bytes> got = files_in(d.path / "out");
    size_t expected = 0;
    for (const Attachment& a : s.message.attachments) {
      const Bytes* data = attachment_data(a);
      auto long_name = a.props.get_string(tags::PidTagAttachLongFilename);
      if (!data || a.props.get_i32(tags::PidTagAttachMethod).value_or(1) != 1 || !long_name) continue;
      ++expected;
      auto it = got.find(*long_name);
      ASSERT_NE(it, got.end()) << *long_name << "\n" << log;
      EXPECT_EQ(it->second.size(), data->size()) << *long_name;
      EXPECT_TRUE(it->second == *data) << *long_name;
    }
    EXPECT_GT(expected, 0u);
  }
}

// `ytnef -f DIR`: the same attachments, named by the long file name or attAttachTitle (ytnef
// reads PtypString8 long names only; we write PtypString). ytnef refuses named-property names
// longer than 100 bytes, which some .msg files have, and stops at an empty attAttachData
// ("Field with size of 0", data-before-name.tnef, as on the original file): those are left to tnef.
TEST(TnefPeers, YtnefExtractsOurAttachments) {
  if (!have_tool("ytnef")) GTEST_SKIP() << "the Debian package 'ytnef-tools' is not installed (scripts/install-deps)";
  for (const Source& s : peer_sources()) {
    if (s.name.ends_with(".msg") || s.name == "data-before-name.tnef") continue;
    SCOPED_TRACE(s.name);
    TempDir d;
    write_file(d.path / "winmail.dat", write_tnef(s.message, s.names));
    fs::create_directories(d.path / "out");
    int status = -1;
    std::string log = run_command("cd '" + (d.path / "out").string() + "' && ytnef -f . ../winmail.dat 2>&1", &status);
    EXPECT_EQ(status, 0) << log;
    EXPECT_EQ(log.find("ERROR"), std::string::npos) << log;
    std::map<std::string, Bytes> got = files_in(d.path / "out");
    for (const Attachment& a : s.message.attachments) {
      const Bytes* data = attachment_data(a);
      if (!data || a.props.get_i32(tags::PidTagAttachMethod).value_or(1) != 1) continue;
      std::string name;
      for (PropTag t : {tags::PidTagAttachLongFilename, tags::PidTagAttachFilename})
        if (auto n = a.props.get_string(t); n && got.contains(*n)) name = *n;
      if (name.empty()) {
        // ytnef reads no PtypString long name and makes up "file_NNN.dat" (missing-filenames.tnef).
        for (const auto& [n, bytes] : got)
          if (n.starts_with("file_") && bytes == *data) name = n;
      }
      ASSERT_FALSE(name.empty()) << attachment_name(a) << "\n" << log;
      EXPECT_TRUE(got[name] == *data) << name;
    }
  }
}

}  // namespace

namespace {

// ---- winmail.dat inside MIME (MS-OXCMAIL) -----------------------------------------------------

bool is_winmail(const Attachment& a) {
  return attachment_name(a) == "winmail.dat" || a.props.get_string(tags::PidTagAttachMimeTag) == "application/ms-tnef";
}
bool has_winmail_attachment(const Message& m) { return std::any_of(m.attachments.begin(), m.attachments.end(), is_winmail); }

// parse_mime, then apply_tnef on a winmail.dat part it kept as an attachment, as the MIME
// reader's hook does at the part (a no-op once parse_mime unpacks TNEF itself).
Message parse_with_tnef(const fs::path& p, NamedPropertyMap& names) {
  Message m = formats::parse_mime(read_file(p), names);
  std::vector<Attachment> kept;
  std::vector<Bytes> tnef_parts;
  for (Attachment& a : m.attachments) {
    if (is_winmail(a) && attachment_data(a)) tnef_parts.push_back(*attachment_data(a));
    else kept.push_back(std::move(a));
  }
  m.attachments = std::move(kept);
  for (const Bytes& t : tnef_parts) apply_tnef(m, t, names);
  return m;
}

TEST(TnefMime, WinmailDatIsUnpackedIntoTheMessage) {
  // mimekit__tnef-rich-text.eml carries the TNEF of christmas.tnef: `tnef -t` on its decoded
  // winmail.dat lists the picture (375081 bytes, md5 74d4b533...) and two objects.
  NamedPropertyMap names;
  Message m = parse_with_tnef(kShared / "corpus" / "eml" / "mimekit__tnef-rich-text.eml", names);
  EXPECT_FALSE(has_winmail_attachment(m));
  ASSERT_EQ(m.attachments.size(), 3u);
  const Attachment* kitten = find_attachment(m, "kitten-playing-with-a-christmas-tree.jpg", 375081);
  ASSERT_NE(kitten, nullptr);
  EXPECT_EQ(md5_of(*attachment_data(*kitten)), "74d4b533c664ed65f078a31b54008838");
  EXPECT_TRUE(m.attachments[1].embedded && m.attachments[2].embedded);
  EXPECT_TRUE(m.props.has(tags::PidTagRtfCompressed));  // only the TNEF has it
  EXPECT_GT(names.size(), 0u);  // the TNEF's named properties, mapped into the caller's map
  EXPECT_EQ(m.props.get_string(tags::PidTagSubject), "Rich Text");

  // mimekit__tnef-ukr.eml: a TNEF without attachments; its properties join the message.
  NamedPropertyMap names2;
  Message u = parse_with_tnef(kShared / "corpus" / "eml" / "mimekit__tnef-ukr.eml", names2);
  EXPECT_FALSE(has_winmail_attachment(u));
  EXPECT_TRUE(u.attachments.empty());
  EXPECT_TRUE(u.props.has(tags::PidTagHtml));  // 0x10130102 in attMsgProps; the MIME has text/plain only
  EXPECT_EQ(u.props.get_string(tags::PidTagSubject), "rr test 7");
}

TEST(TnefMime, DamagedWinmailDatStaysAnAttachment) {
  std::string eml =
      "From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
      "--b\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "eJ8+IgEAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNyb3NvZnQgTWFpbC5O\r\n"
      "--b--\r\n";
  NamedPropertyMap names;
  Message m = formats::parse_mime(Bytes(eml.begin(), eml.end()), names);
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_TRUE(has_winmail_attachment(m));
}

}  // namespace
