// The `openmapi` command as a user runs it: output, exit status, and MAPI_E_* errors that
// leave the mailbox as it was.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("openmapi-cli-" + std::to_string(rd()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  Result run(const std::vector<std::string>& args) {
    std::string cmd = quote(OPENMAPI_BIN) + " --data-dir " + quote((dir / "data").string());
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " >" + quote((dir / "out").string()) + " 2>" + quote((dir / "err").string());
    int rc = std::system(cmd.c_str());
    Result r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(dir / "out");
    r.err = slurp(dir / "err");
    return r;
  }
  Result ok(const std::vector<std::string>& args) {
    Result r = run(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return r;
  }
  // A failing command: non-zero exit, the MAPI error name on stderr, the database unchanged.
  void fails_with(const std::vector<std::string>& args, const std::string& code, const std::string& mailbox = "m") {
    fs::path db = dir / "data" / "mailboxes" / (mailbox + ".sqlite");
    std::string before = fs::exists(db) ? slurp(db) : "";
    Result r = run(args);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(code + ":"), std::string::npos) << "stderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    if (!before.empty()) EXPECT_TRUE(slurp(db) == before) << "the failed command changed the mailbox";
  }

  fs::path dir;
};

}  // namespace

TEST_F(CliTest, DemoShowsTheFolderTreeAndTheInbox) {
  Result r = ok({"demo"});
  for (const char* s : {"Top of Information Store", "Inbox", "Sent Items", "Deleted Items", "Calendar", "Projects",
                        "Quarterly report draft", "Grüße aus Berlin", "Alice Martin (2)"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  // Newest first: the coffee machine (Nov 23 13:20) before the report (Nov 20).
  EXPECT_LT(r.out.find("new coffee machine"), r.out.find("Quarterly report draft"));
  // Running it again starts afresh.
  Result again = ok({"demo"});
  EXPECT_NE(again.out.find("(7 of 7 rows"), std::string::npos) << again.out;
}

TEST_F(CliTest, MailboxLifecycle) {
  ok({"mailbox", "create", "m", "--display-name", "Mia", "--email", "mia@example.com"});
  fails_with({"mailbox", "create", "m"}, "MAPI_E_COLLISION");
  fails_with({"mailbox", "create", "../evil"}, "MAPI_E_INVALID_PARAMETER");
  auto list = nlohmann::json::parse(ok({"mailbox", "ls", "--json"}).out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "m");
  EXPECT_EQ(list[0]["display_name"], "Mia");
  EXPECT_NE(ok({"mailbox", "check", "m"}).out.find("healthy"), std::string::npos);
  ok({"mailbox", "rm", "m"});
  fails_with({"mailbox", "rm", "m"}, "MAPI_E_NOT_FOUND");
  EXPECT_TRUE(nlohmann::json::parse(ok({"mailbox", "ls", "--json"}).out).empty());
}

TEST_F(CliTest, FolderCommands) {
  ok({"mailbox", "create", "m"});
  ok({"folder", "create", "-m", "m", "Inbox/Projects"});
  ok({"folder", "create", "-m", "m", "Inbox/Projects/Alpha", "--class", "IPF.Task"});
  fails_with({"folder", "create", "-m", "m", "Inbox/projects"}, "MAPI_E_COLLISION");
  fails_with({"folder", "create", "-m", "m", "Nowhere/X"}, "MAPI_E_NOT_FOUND");
  ok({"folder", "rename", "-m", "m", "Inbox/Projects/Alpha", "Beta"});
  fails_with({"folder", "rename", "-m", "m", "Inbox", "Post"}, "MAPI_E_NO_ACCESS");
  auto tree = nlohmann::json::parse(ok({"folder", "tree", "-m", "m", "--json"}).out);
  bool found = false;
  for (const auto& f : tree)
    if (f["name"] == "Beta") {
      found = true;
      EXPECT_EQ(f["depth"], 2);
      EXPECT_EQ(f["class"], "IPF.Task");
    }
  EXPECT_TRUE(found) << tree.dump();
  fails_with({"folder", "rm", "-m", "m", "Inbox/Projects"}, "MAPI_E_HAS_FOLDERS");
  ok({"folder", "rm", "-m", "m", "Inbox/Projects", "--recursive"});
  fails_with({"folder", "rm", "-m", "m", "Inbox/Projects"}, "MAPI_E_NOT_FOUND");
  fails_with({"folder", "tree", "-m", "nobody"}, "MAPI_E_NOT_FOUND", "nobody");
}

TEST_F(CliTest, MessageListingShowAndDelete) {
  ok({"demo"});
  // Restriction and columns in the readable syntax.
  auto j = nlohmann::json::parse(
      ok({"message", "ls", "-m", "demo", "--json", "--columns", "subject,importance", "--restrict", "subject ~ \"server\""}).out);
  ASSERT_EQ(j["total"], 2);
  for (const auto& row : j["rows"]) EXPECT_NE(row["subject"].get<std::string>().find("Server"), std::string::npos);
  // Oldest first, two rows after skipping one.
  j = nlohmann::json::parse(ok({"message", "ls", "-m", "demo", "--json", "--sort", "received", "--offset", "1", "--limit", "2",
                                "--columns", "subject"}).out);
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["subject"], "RE: Quarterly report draft");
  int64_t id = j["rows"][0]["id"];
  // Every property of a message, with catalogue names.
  auto shown = nlohmann::json::parse(ok({"message", "show", "-m", "demo", std::to_string(id), "--json"}).out);
  bool subject = false;
  for (const auto& p : shown["properties"])
    if (p["name"] == "PidTagSubject") subject = p["value"] == "RE: Quarterly report draft";
  EXPECT_TRUE(subject);
  EXPECT_EQ(shown["recipients"].size(), 1u);
  // Soft delete moves it to Deleted Items, where (moved, as in Exchange) it has a new id.
  ok({"message", "rm", "-m", "demo", std::to_string(id)});
  fails_with({"message", "show", "-m", "demo", std::to_string(id)}, "MAPI_E_NOT_FOUND", "demo");
  j = nlohmann::json::parse(ok({"message", "ls", "-m", "demo", "-f", "Deleted Items", "--json", "--columns", "subject"}).out);
  ASSERT_EQ(j["total"], 1);
  EXPECT_EQ(j["rows"][0]["subject"], "RE: Quarterly report draft");
  int64_t moved = j["rows"][0]["id"];
  EXPECT_NE(moved, id);
  ok({"message", "rm", "-m", "demo", "--hard", std::to_string(moved)});
  fails_with({"message", "show", "-m", "demo", std::to_string(moved)}, "MAPI_E_NOT_FOUND", "demo");
}

TEST_F(CliTest, BadInputGivesMapiErrorsAndChangesNothing) {
  ok({"demo"});
  fails_with({"message", "ls", "-m", "demo", "-f", "Nope"}, "MAPI_E_NOT_FOUND", "demo");
  fails_with({"message", "ls", "-m", "demo", "--columns", "PidTagNoSuchThing"}, "MAPI_E_NOT_FOUND", "demo");
  fails_with({"message", "ls", "-m", "demo", "--restrict", "subject ~"}, "MAPI_E_INVALID_PARAMETER", "demo");
  fails_with({"message", "ls", "-m", "demo", "--restrict", "received > 5"}, "MAPI_E_INVALID_PARAMETER", "demo");
  fails_with({"message", "ls", "-m", "demo", "--sort", "-nosuchprop"}, "MAPI_E_NOT_FOUND", "demo");
  fails_with({"message", "show", "-m", "demo", "abc"}, "MAPI_E_INVALID_PARAMETER", "demo");
  fails_with({"message", "rm", "-m", "demo", "99999"}, "MAPI_E_NOT_FOUND", "demo");
  // A file that is no mailbox.
  fs::path bad = dir / "data" / "mailboxes" / "bad.sqlite";
  {
    std::ofstream f(bad, std::ios::binary);
    for (int i = 0; i < 1000; ++i) f << "not a database ";
  }
  fails_with({"message", "ls", "-m", "bad"}, "MAPI_E_CORRUPT_STORE", "bad");
  // ... which `mailbox rm` removes all the same (issue 13: a broken file must not be stuck there).
  EXPECT_NE(ok({"mailbox", "rm", "bad"}).out.find("broken: MAPI_E_CORRUPT_STORE"), std::string::npos);
  EXPECT_FALSE(fs::exists(bad));
  // A usage error is reported by the parser with its own non-zero status.
  EXPECT_NE(run({"message", "ls"}).status, 0);
}

TEST_F(CliTest, PropertyCatalogueLookups) {
  Result r = ok({"props", "catalog", "PidTagSubject"});
  EXPECT_NE(r.out.find("0x0037001F"), std::string::npos) << r.out;
  r = ok({"props", "catalog", "0x0037001F"});
  EXPECT_NE(r.out.find("PidTagSubject"), std::string::npos) << r.out;
  r = ok({"props", "catalog", "PR_SUBJECT"});
  EXPECT_NE(r.out.find("PidTagSubject"), std::string::npos) << r.out;
  auto j = nlohmann::json::parse(ok({"props", "catalog", "PidLidBusyStatus", "--json"}).out);
  EXPECT_EQ(j[0]["property_set"], "PSETID_Appointment");
  EXPECT_EQ(j[0]["lid"], 0x8205);
  // Both properties with id 0x1013.
  r = ok({"props", "catalog", "0x10130102"});
  EXPECT_NE(r.out.find("PidTagHtml"), std::string::npos);
  fails_with({"props", "catalog", "PidTagDoesNotExist"}, "MAPI_E_NOT_FOUND");
}

// .msg -> .eml with `openmapi convert`, read back by the mailparser peer: the subject and the
// attachments (names, sizes) are those @kenjiuno/msgreader reported for the .msg.
TEST_F(CliTest, ConvertMsgToEmlReadsBackInMailparser) {
  const fs::path shared = fs::path(OPENMAPI_SHARED_DIR) / "corpus";
  for (const char* name : {"EmailWithAttachments", "HtmlSampleEmailWithAttachment", "attachment_test_msg"}) {
    SCOPED_TRACE(name);
    fs::path eml = dir / (std::string(name) + ".eml");
    ok({"convert", (shared / "msg" / (std::string(name) + ".msg")).string(), eml.string()});
    std::string cmd = "node " + std::string(OPENMAPI_SOURCE_DIR) + "/tests/peers/mailparser-dump.js " + quote(eml.string()) +
                      " >" + quote((dir / "peer.json").string());
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "the mailparser peer did not run (scripts/install-peers)";
    auto peer = nlohmann::json::parse(slurp(dir / "peer.json"))[eml.filename().string()];
    auto expected = nlohmann::json::parse(slurp(shared / "expected" / "msg" / (std::string(name) + ".msg.msgreader.json")));
    EXPECT_EQ(peer["subject"], expected["subject"]);
    std::multiset<std::pair<std::string, int64_t>> want, got;
    for (const auto& a : expected["attachments"])
      if (a.contains("fileName") && a["fileName"].is_string())
        want.insert(std::make_pair(a["fileName"].get<std::string>(), a["contentLength"].get<int64_t>()));
    for (const auto& a : peer["attachments"])
      if (a["filename"].is_string()) got.insert(std::make_pair(a["filename"].get<std::string>(), a["size"].get<int64_t>()));
    EXPECT_EQ(got, want);
    // `props` shows the same message, and `attachments --extract` writes the files.
    auto props = nlohmann::json::parse(ok({"props", eml.string(), "--json"}).out);
    bool subject = false;
    for (const auto& p : props["properties"])
      if (p["name"] == "PidTagSubject") subject = p["value"] == expected["subject"];
    EXPECT_TRUE(subject);
    auto listed = nlohmann::json::parse(ok({"attachments", eml.string(), "--extract", (dir / name).string(), "--json"}).out);
    for (const auto& a : listed)
      if (!a["embedded"].get<bool>()) EXPECT_EQ(int64_t(fs::file_size(a["file"].get<std::string>())), a["size"].get<int64_t>());
  }
}

TEST_F(CliTest, ConvertRefusesBadInputAndWritesNothing) {
  fs::path junk = dir / "junk.msg";
  {
    std::ofstream f(junk, std::ios::binary);
    f << std::string(600, '\xD0');
  }
  fails_with({"convert", junk.string(), (dir / "out.eml").string()}, "MAPI_E_CORRUPT_DATA");
  EXPECT_FALSE(fs::exists(dir / "out.eml"));
  EXPECT_FALSE(fs::exists(dir / "out.eml.openmapi-tmp"));
  fails_with({"convert", (dir / "missing.eml").string(), (dir / "out.msg").string()}, "MAPI_E_NOT_FOUND");
  fails_with({"convert", junk.string(), (dir / "out.pst").string(), "--to", "pst"}, "MAPI_E_NO_SUPPORT");
}

// TNEF and vCard through `convert`: a TNEF stream's attachments survive .tnef -> .msg -> .eml
// with the names and sizes the tnef tool extracted (tnef-extract.tsv: name, size, md5), and a
// vCard comes back from .msg with its name and numbers.
TEST_F(CliTest, ConvertTnefAndVcard) {
  const fs::path corpus = fs::path(OPENMAPI_SHARED_DIR) / "corpus";
  for (const char* name : {"one-file.tnef", "attachments.tnef", "long-filename.tnef"}) {
    SCOPED_TRACE(name);
    std::multiset<std::pair<std::string, int64_t>> want;
    std::istringstream tsv(slurp(corpus / "expected" / "tnef" / (std::string(name) + ".tnef-extract.tsv")));
    for (std::string line; std::getline(tsv, line);) {
      size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
      if (t1 == std::string::npos || t2 == std::string::npos) continue;
      want.insert({line.substr(0, t1), std::stoll(line.substr(t1 + 1, t2 - t1 - 1))});
    }
    ASSERT_FALSE(want.empty());
    fs::path m = dir / (std::string(name) + ".msg"), e = dir / (std::string(name) + ".eml");
    ok({"convert", (corpus / "tnef" / name).string(), m.string()});
    ok({"convert", m.string(), e.string()});
    for (const fs::path& f : {m, e}) {
      auto listed = nlohmann::json::parse(ok({"attachments", f.string(), "--json"}).out);
      std::multiset<std::pair<std::string, int64_t>> got;
      for (const auto& a : listed) got.insert(std::make_pair(a["name"].get<std::string>(), a["size"].get<int64_t>()));
      EXPECT_EQ(got, want) << f;
    }
  }
  fs::path c = dir / "contact.msg", v = dir / "contact.vcf";
  ok({"convert", (corpus / "vcf" / "John_Doe_IPHONE.vcf").string(), c.string()});
  ok({"convert", c.string(), v.string()});
  std::string card = slurp(v);
  for (const char* s : {"BEGIN:VCARD", "N:Doe;John;", "905-777-1234", "END:VCARD"}) EXPECT_NE(card.find(s), std::string::npos) << s;
}

// The README's first command ends in `openmapi --data-dir var demo`; the data directory may also
// follow the subcommand.
TEST_F(CliTest, DataDirMayFollowTheSubcommand) {
  fs::path data = dir / "elsewhere";
  std::string cmd = quote(OPENMAPI_BIN) + " demo --data-dir " + quote(data.string()) + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(data / "mailboxes" / "demo.sqlite"));
  std::string script = slurp(fs::path(OPENMAPI_SOURCE_DIR) / "scripts" / "demo");
  EXPECT_NE(script.find("openmapi --data-dir var demo"), std::string::npos);
}

// PST files: what pffexport exported (EXPECTED.md: dist-list.pst 3 items, passworded.pst 2,
// sample1.pst 1, test_unicode.pst 2, test_ansi.pst 1 — its px.export tree), the same through
// `pst export`, `pst ls` and `import pst`; a second import adds nothing.
TEST_F(CliTest, PstInfoLsExportAndImport) {
  const fs::path pst_dir = fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "pst";
  const std::pair<const char*, size_t> files[] = {{"dist-list.pst", 3}, {"passworded.pst", 2}, {"sample1.pst", 1},
                                                   {"test_unicode.pst", 2}, {"test_ansi.pst", 1}};
  for (const auto& [name, items] : files) {
    SCOPED_TRACE(name);
    const std::string pst = (pst_dir / name).string();
    // One mailbox per file: passworded.pst holds the very messages of dist-list.pst (same
    // store, NIDs and search keys), which an import into one mailbox would rightly skip.
    std::string mbox = fs::path(name).stem().string();
    ok({"mailbox", "create", mbox});
    auto info = nlohmann::json::parse(ok({"pst", "info", pst, "--json"}).out);
    EXPECT_EQ(info["version"], std::string(name) == "test_ansi.pst" ? 14 : 23);
    EXPECT_EQ(info["encryption"], "permute");  // pffinfo: "Encryption type: compressible"
    auto tree = nlohmann::json::parse(ok({"pst", "ls", pst, "--json", "--messages"}).out);
    size_t listed = 0;
    for (const auto& f : tree) listed += f["messages"].get<size_t>();
    EXPECT_EQ(listed, items);
    fs::path out = dir / (std::string(name) + ".export");
    Result r = ok({"pst", "export", pst, out.string()});
    size_t written = 0;
    for (const auto& e : fs::recursive_directory_iterator(out))
      if (e.is_regular_file() && e.path().extension() == ".eml") ++written;
    EXPECT_EQ(written, items) << r.out << r.err;
    EXPECT_NE(ok({"import", "pst", pst, "-m", mbox}).out.find("imported " + std::to_string(items) + " message(s)"), std::string::npos);
    Result again = ok({"import", "pst", pst, "-m", mbox});
    EXPECT_NE(again.out.find("imported 0 message(s)"), std::string::npos) << again.out;
    EXPECT_NE(again.out.find(std::to_string(items) + " already there"), std::string::npos) << again.out;
  }
  // The appointment of dist-list.pst landed in the mailbox's own Calendar (found through the
  // PST's PidTagIpmAppointmentEntryId); sample1.pst's folder "Sample1" was created.
  auto subjects = [&](const std::string& mbox, const std::string& folder) {
    auto j = nlohmann::json::parse(ok({"message", "ls", "-m", mbox, "-f", folder, "--json", "--columns", "subject"}).out);
    std::vector<std::string> out;
    for (const auto& row : j["rows"]) out.push_back(row["subject"]);
    return out;
  };
  EXPECT_EQ(subjects("dist-list", "Calendar"), std::vector<std::string>{"Test appointment"});
  EXPECT_EQ(subjects("sample1", "Sample1"), std::vector<std::string>{"Here is a sample message"});
  EXPECT_NE(ok({"mailbox", "check", "sample1"}).out.find("healthy"), std::string::npos);
  // The copy's messages are recognised as already imported.
  EXPECT_NE(ok({"import", "pst", (pst_dir / "passworded.pst").string(), "-m", "dist-list"}).out.find("imported 0 message(s)"),
            std::string::npos);
  fails_with({"pst", "info", (dir / "nothing.pst").string()}, "MAPI_E_NOT_FOUND");
  {
    std::ofstream junk(dir / "junk.pst", std::ios::binary);
    junk << std::string(1024, 'x');
  }
  fails_with({"pst", "info", (dir / "junk.pst").string()}, "MAPI_E_CORRUPT_DATA");
}

// Mailbox -> PST -> new mailbox keeps every property of every message (named ones by name), and
// the PST we write opens in pffinfo and readpst.
TEST_F(CliTest, MailboxToPstToMailboxKeepsEveryProperty) {
  ok({"demo"});
  // Named properties too: the contacts, list and appointment of a corpus PST.
  ok({"import", "pst", (fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "pst" / "dist-list.pst").string(), "-m", "demo"});
  fs::path pst = dir / "demo.pst";
  ok({"export", "pst", "-m", "demo", pst.string()});
  if (std::system(("pffinfo " + quote(pst.string()) + " >/dev/null 2>&1").c_str()) != 0)
    ADD_FAILURE() << "pffinfo cannot open our PST";
  fs::create_directories(dir / "readpst");
  EXPECT_EQ(std::system(("readpst -j 0 -q -o " + quote((dir / "readpst").string()) + " " + quote(pst.string()) + " >/dev/null 2>&1").c_str()), 0);
  ok({"mailbox", "create", "copy"});
  ok({"import", "pst", pst.string(), "-m", "copy"});

  // Properties the stores compute or the import adds: identity, change tracking, size, times of saving.
  const std::set<std::string> computed = {
      "PidTagMid", "PidTagFolderId", "PidTagEntryId", "PidTagParentEntryId", "PidTagRecordKey", "PidTagSourceKey",
      "PidTagParentSourceKey", "PidTagChangeKey", "PidTagPredecessorChangeList", "PidTagChangeNumber",
      "PidTagStoreEntryId", "PidTagMessageSize", "PidTagLastModificationTime", "PidTagObjectType",
      "PS_PUBLIC_STRINGS:OpenMAPI-ImportSource", "PidTagStoreRecordKey", "PidTagStoreSupportMask",
      "PidTagInstanceKey", "PidTagRowid", "PidTagAttachNumber"};
  auto props_of = [&](const nlohmann::json& bag) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& p : bag)
      if (!computed.count(p["name"].get<std::string>())) out[p["name"].get<std::string>() + " " + p["type"].get<std::string>()] = p["value"];
    return out;
  };
  size_t compared = 0;
  for (const char* folder : {"Inbox", "Inbox/Projects", "Sent Items", "Drafts", "Calendar", "Contacts"}) {
    SCOPED_TRACE(folder);
    auto list = [&](const std::string& mbox) {
      auto j = nlohmann::json::parse(ok({"message", "ls", "-m", mbox, "-f", folder, "--json", "--columns", "subject", "--limit", "1000"}).out);
      std::map<std::string, int64_t> ids;
      for (const auto& row : j["rows"]) ids[row["subject"].get<std::string>()] = row["id"];
      return ids;
    };
    auto a = list("demo"), b = list("copy");
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [subject, id] : a) {
      SCOPED_TRACE(subject);
      ASSERT_TRUE(b.count(subject));
      auto x = nlohmann::json::parse(ok({"message", "show", "-m", "demo", std::to_string(id), "--json"}).out);
      auto y = nlohmann::json::parse(ok({"message", "show", "-m", "copy", std::to_string(b[subject]), "--json"}).out);
      EXPECT_GT(props_of(x["properties"]).size(), 10u);  // there is something to compare
      EXPECT_EQ(props_of(y["properties"]), props_of(x["properties"]));
      ASSERT_EQ(x["recipients"].size(), y["recipients"].size());
      for (size_t i = 0; i < x["recipients"].size(); ++i) EXPECT_EQ(props_of(y["recipients"][i]), props_of(x["recipients"][i]));
      ASSERT_EQ(x["attachments"].size(), y["attachments"].size());
      for (size_t i = 0; i < x["attachments"].size(); ++i)
        EXPECT_EQ(props_of(y["attachments"][i]["properties"]), props_of(x["attachments"][i]["properties"]));
      ++compared;
    }
  }
  EXPECT_GE(compared, 14u);
}

// Files into a mailbox and back out: `import message` then `export message` keeps the message,
// named properties included (compared with `props` of the original and of the export).
TEST_F(CliTest, ImportAndExportMessageFiles) {
  const fs::path corpus = fs::path(OPENMAPI_SHARED_DIR) / "corpus";
  ok({"mailbox", "create", "m"});
  const char* files[] = {"msg/qwerty_2-with_custom_properties.msg", "msg/EmailWithAttachments.msg",
                         "eml/mail__attachment_emails__attachment_message_rfc822.eml", "vcf/rfc6350-example.vcf",
                         "ics/valid__rfc5545-sec4.1.ics"};
  for (const char* rel : files) {
    SCOPED_TRACE(rel);
    fs::path in = corpus / rel;
    Result r = ok({"import", "message", in.string(), "-m", "m", "-f", "Drafts"});
    size_t at = r.out.find("as message ");
    ASSERT_NE(at, std::string::npos) << r.out;
    std::string id = r.out.substr(at + 11, r.out.find(' ', at + 11) - at - 11);
    fs::path out = dir / ("out" + in.extension().string());
    ok({"export", "message", "-m", "m", id, out.string()});
    auto before = nlohmann::json::parse(ok({"props", in.string(), "--json"}).out);
    auto after = nlohmann::json::parse(ok({"props", out.string(), "--json"}).out);
    auto find = [](const nlohmann::json& bag, const std::string& name) -> nlohmann::json {
      for (const auto& p : bag)
        if (p["name"] == name) return p["value"];
      return nullptr;
    };
    for (const char* name : {"PidTagSubject", "PidTagMessageClass", "PidTagDisplayName"})
      EXPECT_EQ(find(after["properties"], name), find(before["properties"], name)) << name;
    // Named properties travel by name (the ids differ between file, mailbox and file).
    auto named = [](const nlohmann::json& bag) {
      std::set<std::string> out;
      for (const auto& p : bag) {
        std::string n = p["name"];
        if (n.rfind("PidLid", 0) == 0 || n.rfind("PidName", 0) == 0 || n.find(':') != std::string::npos) out.insert(n);
      }
      return out;
    };
    std::set<std::string> lost;
    for (const auto& n : named(before["properties"]))
      if (!named(after["properties"]).count(n)) lost.insert(n);
    EXPECT_TRUE(lost.empty()) << nlohmann::json(lost).dump();
    EXPECT_EQ(after["attachments"].size(), before["attachments"].size());
  }
  auto drafts = nlohmann::json::parse(ok({"message", "ls", "-m", "m", "-f", "Drafts", "--json"}).out);
  EXPECT_EQ(drafts["total"], 5);
}

// `message set`: several properties in one SaveChanges (one journal row), named properties by
// name; a property that cannot be set fails the whole command and saves nothing.
TEST_F(CliTest, MessageSetChangesPropertiesInOneSave) {
  ok({"demo"});
  auto j = nlohmann::json::parse(ok({"message", "ls", "-m", "demo", "--json", "-n", "1"}).out);
  const std::string id = std::to_string(j["rows"][0]["id"].get<int64_t>());
  auto prop = [&](const std::string& name) -> nlohmann::json {
    auto shown = nlohmann::json::parse(ok({"message", "show", "-m", "demo", id, "--json"}).out);
    for (const auto& p : shown["properties"])
      if (p["name"] == name) return p["value"];
    return nullptr;
  };
  const auto change_key = prop("PidTagChangeKey");
  auto r = ok({"message", "set", "-m", "demo", id, "PidTagImportance=2", "subject=Set from the CLI", "PidNameKeywords=red,blue"});
  EXPECT_NE(r.out.find("3 set"), std::string::npos) << r.out;
  EXPECT_EQ(prop("PidTagImportance"), 2);
  EXPECT_EQ(prop("PidTagSubject"), "Set from the CLI");
  EXPECT_EQ(prop("PidNameKeywords"), nlohmann::json::array({"red", "blue"}));
  EXPECT_NE(prop("PidTagChangeKey"), change_key);
  // The change is in the table too (mirrored columns follow the partial save).
  j = nlohmann::json::parse(
      ok({"message", "ls", "-m", "demo", "--json", "--restrict", "subject == \"Set from the CLI\"", "--columns", "importance"}).out);
  ASSERT_EQ(j["total"], 1);
  EXPECT_EQ(j["rows"][0]["importance"], 2);
  ok({"message", "set", "-m", "demo", id, "--delete", "PidTagImportance", "--delete", "PidNameKeywords"});
  EXPECT_TRUE(prop("PidTagImportance").is_null());
  EXPECT_TRUE(prop("PidNameKeywords").is_null());
  // Refused: computed, wrong value, unknown property, nothing to do. Nothing is saved.
  fails_with({"message", "set", "-m", "demo", id, "subject=never", "PidTagEntryId=00"}, "MAPI_E_COMPUTED", "demo");
  fails_with({"message", "set", "-m", "demo", id, "PidTagImportance=high"}, "MAPI_E_INVALID_PARAMETER", "demo");
  fails_with({"message", "set", "-m", "demo", id, "PidTagNoSuchThing=1"}, "MAPI_E_NOT_FOUND", "demo");
  fails_with({"message", "set", "-m", "demo", id}, "MAPI_E_INVALID_PARAMETER", "demo");
  fails_with({"message", "set", "-m", "demo", "999999", "subject=x"}, "MAPI_E_NOT_FOUND", "demo");
  EXPECT_EQ(prop("PidTagSubject"), "Set from the CLI");
}

// `watch --json` in one process sees what other processes (here: the CLI) change, one object
// per line, in order, until SIGTERM.
TEST_F(CliTest, WatchPrintsChangesMadeByOtherProcesses) {
  ok({"demo"});
  auto j = nlohmann::json::parse(ok({"message", "ls", "-m", "demo", "--json", "-n", "1"}).out);
  const int64_t id = j["rows"][0]["id"];
  const fs::path out = dir / "watch.out", err = dir / "watch.err";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(3);
    const std::string data = (dir / "data").string();
    execl(OPENMAPI_BIN, OPENMAPI_BIN, "--data-dir", data.c_str(), "watch", "-m", "demo", "--json", static_cast<char*>(nullptr));
    _exit(4);
  }
  auto wait_for = [&](const fs::path& p, const std::string& what, size_t lines) {
    for (int i = 0; i < 300; ++i) {  // at most 30 s
      std::string s = slurp(p);
      if (what.empty() ? size_t(std::count(s.begin(), s.end(), '\n')) >= lines : s.find(what) != std::string::npos) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return slurp(p);
  };
  EXPECT_NE(wait_for(err, "watching", 0).find("watching the whole mailbox"), std::string::npos);
  ok({"message", "set", "-m", "demo", std::to_string(id), "PidTagImportance=2"});
  ok({"message", "rm", "-m", "demo", std::to_string(id)});
  std::string lines = wait_for(out, "", 2);
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(err);
  std::vector<nlohmann::json> events;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line);) events.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(events.size(), 2u) << lines;
  EXPECT_EQ(events[0]["event"], "ObjectModified");
  EXPECT_EQ(events[0]["message"], id);
  EXPECT_EQ(events[1]["event"], "ObjectMoved");
  EXPECT_EQ(events[1]["old_message"], id);
  EXPECT_EQ(events[1]["kind"], "moved");
  EXPECT_LT(events[0]["change_number"].get<int64_t>(), events[1]["change_number"].get<int64_t>());
}

// Profiles: created, listed, shown through a session, used by --profile, removed.
TEST_F(CliTest, ProfilesAndBrowsingThroughThem) {
  ::setenv("XDG_CONFIG_HOME", (dir / "config").c_str(), 1);
  ok({"demo"});
  const std::string pst = (fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "pst" / "dist-list.pst").string();
  ok({"profile", "create", "work", "--mailbox", "demo", "--pst", pst});
  EXPECT_TRUE(fs::exists(dir / "config" / "openmapi" / "profiles.json"));
  auto j = nlohmann::json::parse(ok({"profile", "ls", "--json"}).out);
  ASSERT_EQ(j["profiles"].size(), 1u);
  EXPECT_EQ(j["profiles"][0]["stores"][0]["kind"], "mailbox");
  EXPECT_EQ(j["profiles"][0]["stores"][1]["path"], fs::absolute(pst).lexically_normal().string());
  j = nlohmann::json::parse(ok({"profile", "show", "work", "--json"}).out);
  ASSERT_EQ(j["stores"].size(), 2u);
  EXPECT_EQ(j["stores"][0]["display_name"], "Demo User");
  EXPECT_TRUE(j["stores"][0]["default"].get<bool>());
  // --profile instead of -m: the profile's default store.
  auto a = nlohmann::json::parse(ok({"--profile", "work", "message", "ls", "--json"}).out);
  auto b = nlohmann::json::parse(ok({"message", "ls", "-m", "demo", "--json"}).out);
  EXPECT_EQ(a, b);
  EXPECT_NE(ok({"--profile", "work", "folder", "tree"}).out.find("Inbox"), std::string::npos);
  // The address book: an address nobody knows resolves to a one-off entry.
  auto r = nlohmann::json::parse(ok({"ab", "resolve", "--profile", "work", "zoe@example.net", "--json"}).out);
  EXPECT_EQ(r["email_address"], "zoe@example.net");
  EXPECT_EQ(r["container"], "");
  fails_with({"ab", "resolve", "--profile", "work", "nobody at all"}, "MAPI_E_NOT_FOUND", "demo");
  fails_with({"profile", "create", "work", "--mailbox", "demo"}, "MAPI_E_COLLISION", "demo");
  fails_with({"profile", "create", "bad/name", "--mailbox", "demo"}, "MAPI_E_INVALID_PARAMETER", "demo");
  fails_with({"profile", "create", "x", "--pst", (dir / "missing.pst").string()}, "MAPI_E_NOT_FOUND", "demo");
  fails_with({"profile", "create", "x"}, "MAPI_E_INVALID_PARAMETER", "demo");
  fails_with({"--profile", "nope", "message", "ls"}, "MAPI_E_NOT_FOUND", "demo");
  fails_with({"message", "ls"}, "MAPI_E_INVALID_PARAMETER", "demo");
  ok({"profile", "rm", "work"});
  fails_with({"profile", "show", "work"}, "MAPI_E_NOT_FOUND", "demo");
  ::unsetenv("XDG_CONFIG_HOME");
}

// Output goes through a temporary file beside a regular target and is renamed over it; a symlink
// is followed (the link stays a link), the target keeps its permission bits, and a device or a
// FIFO is written to, never replaced. Temporary files of a killed run are cleaned up by the next
// one, and SIGTERM in the middle of a write leaves none.
TEST_F(CliTest, OutputIsWrittenSafelyToFilesLinksDevicesAndFifos) {
  const std::string eml = (fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "eml" / "mail__attachment_emails__attachment_pdf.eml").string();
  // A private file stays private.
  const fs::path secret = dir / "secret.msg";
  { std::ofstream(secret) << "old"; }
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
  ok({"convert", eml, secret.string()});
  EXPECT_EQ(fs::status(secret).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_GT(fs::file_size(secret), 1000u);
  // A symlink: the file it points to gets the output.
  const fs::path real = dir / "real.msg", link = dir / "link.msg";
  { std::ofstream(real) << "old"; }
  fs::create_symlink(real, link);
  ok({"convert", eml, link.string(), "--to", "msg"});
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_GT(fs::file_size(real), 1000u);
  // A FIFO is written to (a reader takes the bytes), not replaced by a file.
  const fs::path fifo = dir / "pipe.eml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string piped;
  std::thread reader([&] { piped = slurp(fifo); });
  ok({"convert", eml, fifo.string(), "--to", "eml"});
  reader.join();
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_NE(piped.find("Content-Type: multipart/mixed"), std::string::npos);
  // A character device is written to as well: /dev/null stays /dev/null.
  ok({"convert", eml, "/dev/null", "--to", "msg"});
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  // "-" is standard output.
  Result out = ok({"convert", eml, "-", "--to", "eml"});
  EXPECT_NE(out.out.find("Content-Type: multipart/mixed"), std::string::npos);
  // A temporary file left by a process that is gone (SIGKILL) is removed by the next write
  // beside it; one of a live process is not.
  const fs::path target = dir / "again.msg";
  const fs::path stale = dir / "again.msg.999999999.openmapi-tmp", legacy = dir / "again.msg.openmapi-tmp";
  const fs::path live = dir / ("again.msg." + std::to_string(getpid()) + ".openmapi-tmp");
  for (const auto& p : {stale, legacy, live}) std::ofstream(p) << "partial";
  ok({"convert", eml, target.string()});
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(legacy));
  EXPECT_TRUE(fs::exists(live));
  fs::remove(live);
  // No temporary file is ever left beside a target once a command has ended.
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().string().find(".openmapi-tmp"), std::string::npos) << e.path();
}

TEST_F(CliTest, SigtermDuringAnExportLeavesNoTemporaryFile) {
  // A mailbox large enough that its export takes a while: 300 messages with a 48 KiB attachment.
  ok({"mailbox", "create", "big"});
  std::vector<std::string> args{"import", "message", "--mailbox", "big"};
  std::string base64;  // "xxx" is "eHh4": 57 bytes a line, 862 lines
  std::string line;
  for (int k = 0; k < 19; ++k) line += "eHh4";
  for (int k = 0; k < 862; ++k) base64 += line + "\n";
  for (int i = 0; i < 300; ++i) {
    const fs::path f = dir / ("m" + std::to_string(i) + ".eml");
    std::ofstream(f) << "From: a@example.com\nTo: b@example.com\nSubject: message " << i << "\nMessage-ID: <" << i
                     << "@example.com>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody "
                     << i << "\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=x.bin\n"
                     << "Content-Transfer-Encoding: base64\n\n" << base64 << "\n--b--\n";
    args.push_back(f.string());
  }
  ok(args);
  const fs::path out = dir / "big.pst";
  for (int attempt = 0; attempt < 3; ++attempt) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl(OPENMAPI_BIN, OPENMAPI_BIN, "--data-dir", (dir / "data").c_str(), "export", "pst", "--mailbox", "big", out.c_str(), (char*)nullptr);
      _exit(127);
    }
    // Wait until the temporary file exists (bounded: 10 s), then stop the export.
    bool seen = false;
    for (int i = 0; i < 2000 && !seen; ++i) {
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().string().find(".openmapi-tmp") != std::string::npos) seen = true;
      if (!seen) usleep(5000);
    }
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    for (const auto& e : fs::directory_iterator(dir))
      EXPECT_EQ(e.path().string().find(".openmapi-tmp"), std::string::npos) << e.path();
    if (seen && WIFSIGNALED(status)) {
      EXPECT_EQ(WTERMSIG(status), SIGTERM);
      EXPECT_FALSE(fs::exists(out));  // the target never existed: nothing half-written took its name
      return;
    }
    fs::remove(out);  // the export finished before the signal: try again
  }
  ADD_FAILURE() << "the export always finished before SIGTERM arrived: nothing was tested";
}

TEST_F(CliTest, VersionIsPrinted) {
  Result r = ok({"--version"});
  EXPECT_EQ(r.out.rfind("openmapi ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find('.'), std::string::npos) << r.out;  // "openmapi 0.1.0"
}

// `import message` names a file it cannot read, imports the rest and fails at the end with a
// summary; run again, it skips what is already in the folder (by Message-ID or search key).
TEST_F(CliTest, ImportMessageGoesOnPastABadFileAndNeverDuplicates) {
  const fs::path corpus = fs::path(OPENMAPI_SHARED_DIR) / "corpus";
  ok({"mailbox", "create", "m"});
  const std::string a = (corpus / "msg" / "EmailWithAttachments.msg").string();
  const std::string b = (corpus / "eml" / "mail__attachment_emails__attachment_pdf.eml").string();
  const fs::path junk = dir / "junk.msg";
  std::ofstream(junk, std::ios::binary) << std::string(600, '\xD0');
  Result first = run({"import", "message", a, junk.string(), b, "-m", "m"});
  EXPECT_NE(first.status, 0);
  EXPECT_NE(first.err.find(junk.string() + ": MAPI_E_CORRUPT_DATA"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("1 of 3 files could not be imported"), std::string::npos) << first.err;
  EXPECT_NE(first.out.find("imported 2, skipped 0 already there, failed 1"), std::string::npos) << first.out;
  auto inbox = nlohmann::json::parse(ok({"message", "ls", "-m", "m", "--json"}).out);
  EXPECT_EQ(inbox["total"], 2);
  Result again = ok({"import", "message", a, b, "-m", "m"});
  EXPECT_NE(again.out.find("imported 0, skipped 2 already there, failed 0"), std::string::npos) << again.out;
  inbox = nlohmann::json::parse(ok({"message", "ls", "-m", "m", "--json"}).out);
  EXPECT_EQ(inbox["total"], 2);
}

// A message whose import derives bodies (HTML from RTF here) changes its property list before it
// is saved: the search key kept for the duplicate check must be a copy, not a pointer into that
// list (it was, and the import failed after the save with "basic_string::_M_create").
TEST_F(CliTest, ImportMessageOfAFileWhoseBodiesAreDerived) {
  const fs::path corpus = fs::path(OPENMAPI_SHARED_DIR) / "corpus";
  ok({"mailbox", "create", "m"});
  for (const char* name : {"HtmlSampleEmail.msg", "RtfSampleEmail.msg", "51873.msg"}) {
    Result r = ok({"import", "message", (corpus / "msg" / name).string(), "-m", "m"});
    EXPECT_NE(r.out.find("saved "), std::string::npos) << name << ": " << r.out << r.err;
  }
  Result again = ok({"import", "message", (corpus / "msg" / "HtmlSampleEmail.msg").string(), "-m", "m"});
  EXPECT_NE(again.out.find("skipped"), std::string::npos) << again.out;
  EXPECT_EQ(nlohmann::json::parse(ok({"message", "ls", "-m", "m", "--json"}).out)["total"], 3);
}

// Files of several items (.ics events, .vcf cards): `import message` saves every item into the
// folder of its class (unless -f says otherwise) and skips them on a re-run; `convert` writes them
// to a directory, one file each, or one with --index; `props --index` shows one. The counts are
// the files' own BEGIN:VEVENT / BEGIN:VCARD lines.
TEST_F(CliTest, FilesOfSeveralItemsAreImportedAndConvertedItemByItem) {
  const fs::path corpus = fs::path(OPENMAPI_SHARED_DIR) / "corpus";
  const fs::path cards = corpus / "vcf" / "John_Doe_ANDROID.vcf", events = corpus / "ics" / "invalid__lastfm.ics";
  auto count = [](const fs::path& f, const std::string& begin) {
    std::ifstream in(f);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) n += line.rfind(begin, 0) == 0;
    return n;
  };
  const size_t n_cards = count(cards, "BEGIN:VCARD"), n_events = count(events, "BEGIN:VEVENT");
  ASSERT_GT(n_cards, 1u);
  ASSERT_GT(n_events, 1u);
  ok({"mailbox", "create", "m"});
  Result first = ok({"import", "message", cards.string(), events.string(), "-m", "m"});
  EXPECT_NE(first.out.find("imported " + std::to_string(n_cards + n_events) + ", skipped 0"), std::string::npos) << first.out;
  auto total = [&](const std::string& folder) {
    return nlohmann::json::parse(ok({"message", "ls", "-m", "m", "-f", folder, "--json"}).out)["total"].get<size_t>();
  };
  EXPECT_EQ(total("Contacts"), n_cards);
  EXPECT_EQ(total("Calendar"), n_events);
  EXPECT_EQ(total("Inbox"), 0u);
  Result again = ok({"import", "message", cards.string(), events.string(), "-m", "m"});
  EXPECT_NE(again.out.find("imported 0, skipped " + std::to_string(n_cards + n_events)), std::string::npos) << again.out;
  ok({"import", "message", cards.string(), "-m", "m", "-f", "Inbox"});  // -f wins over the class
  EXPECT_EQ(total("Inbox"), n_cards);

  const fs::path out = dir / "cards";
  fails_with({"convert", cards.string(), (dir / "one.vcf").string()}, "MAPI_E_TOO_COMPLEX");  // several items, one file
  ok({"convert", cards.string(), out.string() + "/", "--to", "msg"});
  size_t written = 0;
  for (const auto& e : fs::directory_iterator(out)) written += e.path().extension() == ".msg";
  EXPECT_EQ(written, n_cards);
  ok({"convert", events.string(), (dir / "third.ics").string(), "--index", "3"});
  EXPECT_EQ(count(dir / "third.ics", "BEGIN:VEVENT"), 1u);
  fails_with({"props", events.string(), "--index", std::to_string(n_events + 1)}, "MAPI_E_INVALID_PARAMETER");
  EXPECT_NE(ok({"props", events.string(), "--index", "1"}).out.find("IPM.Appointment"), std::string::npos);
}

// An output file named without a directory is written in the current directory (it failed:
// "'' is not a directory").
TEST_F(CliTest, ConvertToABareFileNameWritesInTheCurrentDirectory) {
  const fs::path msg = fs::path(OPENMAPI_SHARED_DIR) / "corpus" / "msg" / "EmailWithAttachments.msg";
  const std::string cmd = "cd " + quote(dir.string()) + " && " + quote(OPENMAPI_BIN) + " convert " + quote(msg.string()) + " here.eml";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(dir / "here.eml"));
  EXPECT_GT(fs::file_size(dir / "here.eml"), 1000u);
}

// The data directory and its mailboxes: a wrong --data-dir is an error, not an empty list; a
// broken mailbox file is listed as broken and can be removed; names that mean PST files are
// refused.
TEST_F(CliTest, BrokenMailboxesAreListedAndRemovableAndAWrongDataDirIsAnError) {
  fails_with({"mailbox", "ls"}, "MAPI_E_NOT_FOUND");  // nothing created yet: the directory does not exist
  ok({"mailbox", "create", "good"});
  std::ofstream(dir / "data" / "mailboxes" / "empty.sqlite");  // an empty file
  std::ofstream(dir / "data" / "mailboxes" / "junk.sqlite") << std::string(5000, 'j');
  auto list = nlohmann::json::parse(ok({"mailbox", "ls", "--json"}).out);
  ASSERT_EQ(list.size(), 3u);
  std::map<std::string, std::string> status;
  for (const auto& m : list) status[m["name"]] = m["status"];
  EXPECT_EQ(status["good"], "ok");
  EXPECT_EQ(status["empty"], "broken");
  EXPECT_EQ(status["junk"], "broken");
  EXPECT_NE(ok({"mailbox", "ls"}).out.find("broken: MAPI_E_"), std::string::npos);
  ok({"mailbox", "rm", "junk"});
  ok({"mailbox", "rm", "empty", "--yes"});
  EXPECT_FALSE(fs::exists(dir / "data" / "mailboxes" / "junk.sqlite"));
  EXPECT_EQ(nlohmann::json::parse(ok({"mailbox", "ls", "--json"}).out).size(), 1u);
  fails_with({"mailbox", "create", "archive.pst"}, "MAPI_E_INVALID_PARAMETER");
  fails_with({"mailbox", "create", "old.OST"}, "MAPI_E_INVALID_PARAMETER");
  // A regular file as the data directory.
  std::ofstream(dir / "plain") << "x";
  std::string cmd = std::string(OPENMAPI_BIN) + " --data-dir " + quote((dir / "plain").string()) + " mailbox ls >/dev/null 2>" + quote((dir / "err2").string());
  EXPECT_NE(std::system(cmd.c_str()), 0);
  EXPECT_NE(slurp(dir / "err2").find("MAPI_E_INVALID_PARAMETER: data directory"), std::string::npos) << slurp(dir / "err2");
}
