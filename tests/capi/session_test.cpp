// Extended MAPI through the C ABI, written as a Windows MAPI program is (only the MAPI headers,
// MAPI_E_* macros, HRESULTs): MAPIInitialize, MAPILogonEx on a profile that `openmapi profile
// create` made, the message store table, IMsgStore, IMAPIFolder, IMAPITable, IMessage, IAttach,
// IStream, notifications and GetLastError. The mailbox and the profile are made, and what the
// program writes is checked, through the openmapi command; what it reads is checked against the
// corpus's peer-tool values (@kenjiuno/msgreader for EmailWithAttachments.msg).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mapiguid.h"
#include "mapitags.h"
#include "mapiutil.h"
#include "mapix.h"

#include "capi_fixture.h"

namespace fs = std::filesystem;
using capi_testing::run;

namespace {

const fs::path kCorpus = capi_testing::kCorpus / "msg";

// The fixture's mailbox and profile, with the Extended MAPI steps every test takes.
class CapiSession : public capi_testing::CapiMailbox {
 protected:
  LPMAPISESSION logon(ULONG flags = MAPI_EXTENDED | MAPI_NEW_SESSION) {
    LPMAPISESSION s = nullptr;
    EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "work", nullptr, flags, &s), S_OK);
    return s;
  }
  // The default store, through the message store table as MFCMAPI opens it.
  LPMDB open_default_store(LPMAPISESSION s) {
    LPMAPITABLE t = nullptr;
    EXPECT_EQ(s->GetMsgStoresTable(0, &t), S_OK);
    SizedSPropTagArray(3, cols) = {3, {PR_ENTRYID, PR_DISPLAY_NAME_A, PR_DEFAULT_STORE}};
    LPSRowSet rows = nullptr;
    EXPECT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&cols, nullptr, nullptr, 0, &rows), S_OK);
    t->Release();
    LPMDB store = nullptr;
    if (!rows || rows->cRows != 1) return nullptr;
    EXPECT_STREQ(rows->aRow[0].lpProps[1].Value.lpszA, "Alice");
    EXPECT_EQ(rows->aRow[0].lpProps[2].ulPropTag, PR_DEFAULT_STORE);
    EXPECT_TRUE(rows->aRow[0].lpProps[2].Value.b);
    const SBinary& eid = rows->aRow[0].lpProps[0].Value.bin;
    EXPECT_EQ(s->OpenMsgStore(0, eid.cb, (LPENTRYID)eid.lpb, nullptr, MDB_WRITE | MDB_NO_DIALOG, &store), S_OK);
    FreeProws(rows);
    return store;
  }
  // OpenEntry on a store or a container (both have it, in different places of their tables).
  template <class T, class From>
  T* open(From* from, const SBinary& eid, ULONG want_type, ULONG flags = MAPI_BEST_ACCESS) {
    ULONG type = 0;
    LPUNKNOWN u = nullptr;
    HRESULT h = from->OpenEntry(eid.cb, (LPENTRYID)eid.lpb, nullptr, flags, &type, &u);
    EXPECT_EQ(h, S_OK);
    EXPECT_EQ(type, want_type);
    return static_cast<T*>(reinterpret_cast<void*>(u));
  }
  LPMAPIFOLDER inbox(LPMDB store) {
    ULONG cb = 0;
    LPENTRYID eid = nullptr;
    EXPECT_EQ(store->GetReceiveFolder((LPTSTR) "IPM.Note", 0, &cb, &eid, nullptr), S_OK);
    SBinary b{cb, (LPBYTE)eid};
    auto* f = open<IMAPIFolder>(store, b, MAPI_FOLDER);
    MAPIFreeBuffer(eid);
    return f;
  }
};

std::string string_prop(LPMAPIPROP obj, ULONG tag) {
  LPSPropValue v = nullptr;
  if (HrGetOneProp(obj, tag, &v) != S_OK) return "<missing>";
  std::string s = v->Value.lpszA;
  MAPIFreeBuffer(v);
  return s;
}

}  // namespace

TEST_F(CapiSession, ReadsAStoredMessageAsTheMsgReaderPeerSeesIt) {
  LPMAPISESSION s = logon();
  ASSERT_NE(s, nullptr);
  LPMDB store = open_default_store(s);
  ASSERT_NE(store, nullptr);
  LPMAPIFOLDER in = inbox(store);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(string_prop((LPMAPIPROP)in, PR_DISPLAY_NAME_A), "Inbox");

  LPMAPITABLE contents = nullptr;
  ASSERT_EQ(in->GetContentsTable(0, &contents), S_OK);
  SizedSPropTagArray(3, cols) = {3, {PR_SUBJECT_A, PR_ENTRYID, PR_HASATTACH}};
  ASSERT_EQ(contents->SetColumns((LPSPropTagArray)&cols, 0), S_OK);
  ULONG count = 0;
  ASSERT_EQ(contents->GetRowCount(0, &count), S_OK);
  EXPECT_EQ(count, 1u);
  LPSRowSet rows = nullptr;
  ASSERT_EQ(contents->QueryRows(10, 0, &rows), S_OK);
  ASSERT_EQ(rows->cRows, 1u);
  EXPECT_STREQ(rows->aRow[0].lpProps[0].Value.lpszA, "This is the subject");  // msgreader: subject
  // HrAddColumns puts columns first and keeps the others.
  SizedSPropTagArray(1, more) = {1, {PR_MESSAGE_CLASS_A}};
  ASSERT_EQ(HrAddColumns(contents, (LPSPropTagArray)&more, nullptr, nullptr), S_OK);
  LPSPropTagArray now = nullptr;
  ASSERT_EQ(contents->QueryColumns(0, &now), S_OK);
  ASSERT_EQ(now->cValues, 4u);
  EXPECT_EQ(now->aulPropTag[0], ULONG(PR_MESSAGE_CLASS_A));
  EXPECT_EQ(now->aulPropTag[1], ULONG(PR_SUBJECT_A));
  MAPIFreeBuffer(now);
  EXPECT_TRUE(rows->aRow[0].lpProps[2].Value.b);
  LPMESSAGE msg = open<IMessage>(in, rows->aRow[0].lpProps[1].Value.bin, MAPI_MESSAGE);
  FreeProws(rows);
  contents->Release();
  ASSERT_NE(msg, nullptr);
  EXPECT_TRUE(FPropExists((LPMAPIPROP)msg, PR_SUBJECT_A));
  EXPECT_TRUE(FPropExists((LPMAPIPROP)msg, PROP_TAG(PT_UNSPECIFIED, PROP_ID(PR_SUBJECT_W))));
  EXPECT_FALSE(FPropExists((LPMAPIPROP)msg, PROP_TAG(PT_LONG, PROP_ID(PR_SUBJECT_W))));
  EXPECT_FALSE(FPropExists((LPMAPIPROP)msg, PROP_TAG(PT_LONG, 0x6FF0)));

  // The recipients: msgreader's names, in order.
  LPMAPITABLE recips = nullptr;
  ASSERT_EQ(msg->GetRecipientTable(0, &recips), S_OK);
  SizedSPropTagArray(2, rcols) = {2, {PR_DISPLAY_NAME_W, PR_RECIPIENT_TYPE}};
  ASSERT_EQ(HrQueryAllRows(recips, (LPSPropTagArray)&rcols, nullptr, nullptr, 0, &rows), S_OK);
  recips->Release();
  std::ifstream peer(fs::path(OPENMAPI_SHARED_DIR) / "corpus/expected/msg/EmailWithAttachments.msg.msgreader.json");
  const nlohmann::json expected = nlohmann::json::parse(peer);
  ASSERT_EQ(rows->cRows, expected["recipientCount"].get<size_t>());
  for (ULONG i = 0; i < rows->cRows; ++i) {
    const WCHAR* w = rows->aRow[i].lpProps[0].Value.lpszW;
    std::string name;
    for (; *w; ++w) name += char(*w);  // the names are ASCII
    EXPECT_EQ(name, expected["recipients"][i]["name"].get<std::string>());
  }
  FreeProws(rows);

  // The attachments: names and sizes as msgreader gives them, the data read through IStream.
  LPMAPITABLE atts = nullptr;
  ASSERT_EQ(msg->GetAttachmentTable(0, &atts), S_OK);
  SizedSPropTagArray(2, acols) = {2, {PR_ATTACH_NUM, PR_ATTACH_LONG_FILENAME_A}};
  ASSERT_EQ(HrQueryAllRows(atts, (LPSPropTagArray)&acols, nullptr, nullptr, 0, &rows), S_OK);
  atts->Release();
  ASSERT_EQ(rows->cRows, expected["attachmentCount"].get<size_t>());
  for (ULONG i = 0; i < rows->cRows; ++i) {
    EXPECT_STREQ(rows->aRow[i].lpProps[1].Value.lpszA, expected["attachments"][i]["fileName"].get<std::string>().c_str());
    LPATTACH att = nullptr;
    ASSERT_EQ(msg->OpenAttach(ULONG(rows->aRow[i].lpProps[0].Value.l), nullptr, 0, &att), S_OK);
    LPSTREAM st = nullptr;
    ASSERT_EQ(att->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, 0, 0, (LPUNKNOWN*)&st), S_OK);
    STATSTG stat{};
    ASSERT_EQ(st->Stat(&stat, STATFLAG_NONAME), S_OK);
    EXPECT_EQ(stat.cbSize.QuadPart, expected["attachments"][i]["contentLength"].get<uint64_t>());
    std::vector<uint8_t> data;
    uint8_t buf[4096];
    ULONG got = 0;
    while (st->Read(buf, sizeof buf, &got) == S_OK && got > 0) data.insert(data.end(), buf, buf + got);
    EXPECT_EQ(data.size(), stat.cbSize.QuadPart);
    ASSERT_GE(data.size(), 2u);
    EXPECT_EQ(data[0], 0xFF);  // a JPEG's start of image
    EXPECT_EQ(data[1], 0xD8);
    EXPECT_EQ(st->Write(buf, 1, &got), STG_E_ACCESSDENIED);  // opened read-only
    st->Release();
    att->Release();
  }
  FreeProws(rows);

  // GetProps with a NULL tag array: every property, strings in 8 bits without MAPI_UNICODE.
  ULONG n = 0;
  LPSPropValue all = nullptr;
  ASSERT_EQ(msg->GetProps(nullptr, 0, &n, &all), S_OK);
  LPSPropValue subj = PpropFindProp(all, n, PR_SUBJECT_A);
  ASSERT_NE(subj, nullptr);
  EXPECT_STREQ(subj->Value.lpszA, "This is the subject");
  EXPECT_EQ(PpropFindProp(all, n, PR_SUBJECT_W), nullptr);
  MAPIFreeBuffer(all);
  ASSERT_EQ(msg->GetProps(nullptr, MAPI_UNICODE, &n, &all), S_OK);
  EXPECT_NE(PpropFindProp(all, n, PR_SUBJECT_W), nullptr);
  MAPIFreeBuffer(all);

  msg->Release();
  in->Release();
  store->Release();
  EXPECT_EQ(s->Logoff(0, 0, 0), S_OK);
  s->Release();
}

TEST_F(CapiSession, WritesAMessageThatTheCommandLineReadsBack) {
  LPMAPISESSION s = logon();
  LPMDB store = open_default_store(s);
  ASSERT_NE(store, nullptr);
  LPSPropValue subtree = nullptr;
  ASSERT_EQ(HrGetOneProp((LPMAPIPROP)store, PR_IPM_SUBTREE_ENTRYID, &subtree), S_OK);
  LPMAPIFOLDER top = open<IMAPIFolder>(store, subtree->Value.bin, MAPI_FOLDER, MAPI_MODIFY);
  MAPIFreeBuffer(subtree);
  ASSERT_NE(top, nullptr);
  LPMAPIFOLDER folder = nullptr;
  ASSERT_EQ(top->CreateFolder(FOLDER_GENERIC, (LPTSTR) "From C", (LPTSTR) "made through mapi32", nullptr, 0, &folder), S_OK);
  LPMAPIFOLDER again = nullptr;
  EXPECT_EQ(top->CreateFolder(FOLDER_GENERIC, (LPTSTR) "From C", nullptr, nullptr, 0, &again), MAPI_E_COLLISION);
  ASSERT_EQ(top->CreateFolder(FOLDER_GENERIC, (LPTSTR) "From C", nullptr, nullptr, OPEN_IF_EXISTS, &again), S_OK);
  again->Release();

  LPMESSAGE msg = nullptr;
  ASSERT_EQ(folder->CreateMessage(nullptr, 0, &msg), S_OK);
  const WCHAR subject[] = {'G', 'r', 0xFC, 0xDF, 'e', ' ', 0x2603, 0};  // "Grüße ☃"
  SPropValue props[2]{};
  props[0].ulPropTag = PR_SUBJECT_W;
  props[0].Value.lpszW = (LPWSTR)subject;
  props[1].ulPropTag = PR_MESSAGE_CLASS_A;
  props[1].Value.lpszA = (LPSTR) "IPM.Note";
  LPSPropProblemArray problems = nullptr;
  ASSERT_EQ(msg->SetProps(2, props, &problems), S_OK);
  EXPECT_EQ(problems, nullptr);

  // One recipient, as ModifyRecipients takes it (an ADRLIST the caller allocates).
  LPADRLIST list = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(CbNewADRLIST(1), (LPVOID*)&list), S_OK);
  list->cEntries = 1;
  ASSERT_EQ(MAPIAllocateBuffer(3 * sizeof(SPropValue), (LPVOID*)&list->aEntries[0].rgPropVals), S_OK);
  list->aEntries[0].cValues = 3;
  list->aEntries[0].rgPropVals[0].ulPropTag = PR_DISPLAY_NAME_A;
  list->aEntries[0].rgPropVals[0].Value.lpszA = (LPSTR) "Bob";
  list->aEntries[0].rgPropVals[1].ulPropTag = PR_EMAIL_ADDRESS_A;
  list->aEntries[0].rgPropVals[1].Value.lpszA = (LPSTR) "bob@example.org";
  list->aEntries[0].rgPropVals[2].ulPropTag = PR_RECIPIENT_TYPE;
  list->aEntries[0].rgPropVals[2].Value.l = MAPI_TO;
  ASSERT_EQ(msg->ModifyRecipients(MODRECIP_ADD, list), S_OK);
  FreePadrlist(list);

  // An attachment of 300,000 bytes written through IStream in pieces.
  ULONG num = 99;
  LPATTACH att = nullptr;
  ASSERT_EQ(msg->CreateAttach(nullptr, 0, &num, &att), S_OK);
  SPropValue ap[2]{};
  ap[0].ulPropTag = PR_ATTACH_METHOD;
  ap[0].Value.l = ATTACH_BY_VALUE;
  ap[1].ulPropTag = PR_ATTACH_LONG_FILENAME_A;
  ap[1].Value.lpszA = (LPSTR) "data.bin";
  ASSERT_EQ(att->SetProps(2, ap, nullptr), S_OK);
  LPSTREAM st = nullptr;
  ASSERT_EQ(att->OpenProperty(PR_ATTACH_DATA_BIN, &IID_IStream, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY, (LPUNKNOWN*)&st), S_OK);
  std::vector<uint8_t> data(300000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7 + 3);
  for (size_t at = 0; at < data.size(); at += 65536) {
    ULONG put = 0;
    const ULONG n = ULONG(std::min<size_t>(65536, data.size() - at));
    ASSERT_EQ(st->Write(data.data() + at, n, &put), S_OK);
    ASSERT_EQ(put, n);
  }
  ASSERT_EQ(st->Commit(0), S_OK);
  st->Release();
  ASSERT_EQ(att->SaveChanges(KEEP_OPEN_READWRITE), S_OK);
  att->Release();
  ASSERT_EQ(msg->SaveChanges(0), S_OK);
  LPSPropValue eid = nullptr;
  ASSERT_EQ(HrGetOneProp((LPMAPIPROP)msg, PR_ENTRYID, &eid), S_OK);
  msg->Release();

  // Another door: the command line sees the folder, the message and its parts.
  const auto listing = nlohmann::json::parse(cli("message ls -m alice -f 'From C' --json"));
  ASSERT_EQ(listing["rows"].size(), 1u) << listing.dump();
  const std::string id = listing["rows"][0]["id"].is_string() ? listing["rows"][0]["id"].get<std::string>()
                                                                : std::to_string(listing["rows"][0]["id"].get<uint64_t>());
  const std::string shown = cli("message show -m alice " + id + " --json");
  EXPECT_NE(shown.find("Gr\xC3\xBC\xC3\x9F" "e \xE2\x98\x83"), std::string::npos) << shown;  // UTF-8 of the UTF-16 subject
  EXPECT_NE(shown.find("bob@example.org"), std::string::npos);
  EXPECT_NE(shown.find("data.bin"), std::string::npos);
  EXPECT_NE(shown.find("300000"), std::string::npos);
  EXPECT_NE(cli("folder tree -m alice").find("From C"), std::string::npos);

  // Read back through the library, by entry ID from the session.
  ULONG type = 0;
  LPMESSAGE back = nullptr;
  ASSERT_EQ(s->OpenEntry(eid->Value.bin.cb, (LPENTRYID)eid->Value.bin.lpb, &IID_IMessage, 0, &type, (LPUNKNOWN*)&back), S_OK);
  EXPECT_EQ(type, ULONG(MAPI_MESSAGE));
  LPSPropValue v = nullptr;
  ASSERT_EQ(HrGetOneProp((LPMAPIPROP)back, PR_SUBJECT_W, &v), S_OK);
  EXPECT_EQ(std::memcmp(v->Value.lpszW, subject, sizeof subject), 0);
  MAPIFreeBuffer(v);
  back->Release();
  MAPIFreeBuffer(eid);
  folder->Release();
  top->Release();
  store->Release();
  s->Release();
}

TEST_F(CapiSession, ErrorsAreMapiCodesWithTheirText) {
  LPMAPISESSION s = nullptr;
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "nobody", nullptr, MAPI_EXTENDED, &s), MAPI_E_LOGON_FAILED);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "work", nullptr, MAPI_EXTENDED, nullptr), MAPI_E_INVALID_PARAMETER);
  s = logon(MAPI_EXTENDED | MAPI_USE_DEFAULT);  // the only profile is the default
  ASSERT_NE(s, nullptr);
  LPMDB store = open_default_store(s);
  ASSERT_NE(store, nullptr);

  BYTE junk[70] = {0, 0, 0, 0, 1, 2, 3};
  ULONG type = 0;
  LPUNKNOWN u = nullptr;
  const HRESULT h = store->OpenEntry(sizeof junk, (LPENTRYID)junk, nullptr, 0, &type, &u);
  EXPECT_EQ(h, MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(u, nullptr);
  LPMAPIERROR err = nullptr;
  ASSERT_EQ(store->GetLastError(h, 0, &err), S_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err->lpszError).find("EntryID"), std::string::npos) << err->lpszError;
  EXPECT_STREQ(err->lpszComponent, "OpenMAPI");
  const std::string text = err->lpszError;
  MAPIFreeBuffer(err);
  ASSERT_EQ(store->GetLastError(h, MAPI_UNICODE, &err), S_OK);  // the same text in UTF-16
  ASSERT_NE(err, nullptr);
  std::string narrowed;
  for (const WCHAR* w = (const WCHAR*)err->lpszError; *w; ++w) narrowed += char(*w);  // the text is ASCII
  EXPECT_EQ(narrowed, text);
  MAPIFreeBuffer(err);
  ASSERT_EQ(store->GetLastError(S_OK, 0, &err), S_OK);  // not the last error: nothing to tell
  EXPECT_EQ(err, nullptr);

  SizedSPropTagArray(1, none) = {0, {0}};
  ULONG n = 0;
  LPSPropValue vals = nullptr;
  EXPECT_EQ(store->GetProps((LPSPropTagArray)&none, 0, &n, &vals), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(store->SaveChanges(0x100), MAPI_E_UNKNOWN_FLAGS);

  // A property that is not there: MAPI_W_ERRORS_RETURNED with a PT_ERROR value.
  SizedSPropTagArray(2, some) = {2, {PR_DISPLAY_NAME_A, PROP_TAG(PT_LONG, 0x6FF0)}};
  ASSERT_EQ(store->GetProps((LPSPropTagArray)&some, 0, &n, &vals), MAPI_W_ERRORS_RETURNED);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(vals[1].ulPropTag, PROP_TAG(PT_ERROR, 0x6FF0));
  EXPECT_EQ(vals[1].Value.err, MAPI_E_NOT_FOUND);
  MAPIFreeBuffer(vals);

  // After Logoff every object of the session answers MAPI_E_END_OF_SESSION.
  ASSERT_EQ(s->Logoff(0, 0, 0), S_OK);
  EXPECT_EQ(store->GetProps((LPSPropTagArray)&some, 0, &n, &vals), MAPI_E_END_OF_SESSION);
  LPMAPITABLE t = nullptr;
  EXPECT_EQ(s->GetMsgStoresTable(0, &t), MAPI_E_END_OF_SESSION);
  store->Release();
  s->Release();
}

TEST_F(CapiSession, SessionsAreSharedUnlessNewOnesAreAsked) {
  LPMAPISESSION a = logon(MAPI_EXTENDED), b = logon(MAPI_EXTENDED), c = logon(MAPI_EXTENDED | MAPI_NEW_SESSION);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  a->Release();
  b->Release();
  c->Release();
  // Before MAPIInitialize (and after the last MAPIUninitialize) there is no logon.
  MAPIUninitialize();
  LPMAPISESSION d = nullptr;
  EXPECT_EQ(MAPILogonEx(0, (LPTSTR) "work", nullptr, MAPI_EXTENDED, &d), MAPI_E_NOT_INITIALIZED);
  ASSERT_EQ(MAPIInitialize(nullptr), S_OK);
}

namespace {
struct Seen {
  std::atomic<int> new_mail{0};
  std::atomic<int> rows_added{0};
  std::vector<uint8_t> entry_id;
  std::atomic<bool> have_id{false};
};
LONG STDAPICALLTYPE on_store(LPVOID ctx, ULONG n, LPNOTIFICATION ns) {
  auto* seen = static_cast<Seen*>(ctx);
  for (ULONG i = 0; i < n; ++i)
    if (ns[i].ulEventType == fnevNewMail) {
      if (!seen->have_id) {
        const auto& m = ns[i].info.newmail;
        seen->entry_id.assign((uint8_t*)m.lpEntryID, (uint8_t*)m.lpEntryID + m.cbEntryID);
        seen->have_id = true;
      }
      ++seen->new_mail;
    }
  return 0;
}
LONG STDAPICALLTYPE on_table(LPVOID ctx, ULONG n, LPNOTIFICATION ns) {
  auto* seen = static_cast<Seen*>(ctx);
  for (ULONG i = 0; i < n; ++i)
    if (ns[i].ulEventType == fnevTableModified && ns[i].info.tab.ulTableEvent == TABLE_ROW_ADDED) ++seen->rows_added;
  return 0;
}
}  // namespace

TEST_F(CapiSession, NewMailFromAnotherProcessIsNotified) {
  LPMAPISESSION s = logon();
  LPMDB store = open_default_store(s);
  ASSERT_NE(store, nullptr);
  LPMAPIFOLDER in = inbox(store);
  Seen seen;
  LPMAPIADVISESINK sink = nullptr, table_sink = nullptr;
  ASSERT_EQ(HrAllocAdviseSink(on_store, &seen, &sink), S_OK);
  ASSERT_EQ(HrAllocAdviseSink(on_table, &seen, &table_sink), S_OK);
  ULONG_PTR conn = 0, table_conn = 0;
  ASSERT_EQ(store->Advise(0, nullptr, fnevNewMail, sink, &conn), S_OK);
  LPMAPITABLE contents = nullptr;
  ASSERT_EQ(in->GetContentsTable(0, &contents), S_OK);
  SizedSPropTagArray(1, cols) = {1, {PR_SUBJECT_A}};
  ASSERT_EQ(contents->SetColumns((LPSPropTagArray)&cols, 0), S_OK);
  ASSERT_EQ(contents->Advise(fnevTableModified, table_sink, &table_conn), S_OK);

  cli("import message -m alice " + (kCorpus / "HtmlSampleEmail.msg").string());  // another process
  for (int i = 0; i < 100 && (seen.new_mail == 0 || seen.rows_added == 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(seen.new_mail.load(), 1);
  EXPECT_EQ(seen.rows_added.load(), 1);
  ASSERT_TRUE(seen.have_id);
  ULONG type = 0;
  LPMESSAGE m = nullptr;
  ASSERT_EQ(store->OpenEntry(ULONG(seen.entry_id.size()), (LPENTRYID)seen.entry_id.data(), nullptr, 0, &type, (LPUNKNOWN*)&m), S_OK);
  EXPECT_EQ(string_prop((LPMAPIPROP)m, PR_SUBJECT_A), "HtmlSampleEmail");  // EXPECTED.md
  m->Release();

  EXPECT_EQ(store->Unadvise(conn), S_OK);
  EXPECT_EQ(store->Unadvise(conn), MAPI_E_NOT_FOUND);
  EXPECT_EQ(contents->Unadvise(table_conn), S_OK);
  sink->Release();
  table_sink->Release();
  contents->Release();
  in->Release();
  store->Release();
  s->Release();
}

// The same interfaces through their C tables: a C program (c_session.c) lists the Inbox.
TEST_F(CapiSession, ACProgramWalksTheInboxThroughTheCTables) {
  cli("import message -m alice " + (kCorpus / "HtmlSampleEmail.msg").string());
  int status = 0;
  const std::string out = run(std::string(OPENMAPI_C_SESSION) + " work", &status);
  EXPECT_EQ(status, 0) << out;
  // Sorted by subject; the first (HtmlSampleEmail) has no attachments (EXPECTED.md).
  EXPECT_EQ(out, "HtmlSampleEmail\nThis is the subject\n0 attachments\nok\n");
}

// IAddrBook over the Contacts folder: ResolveName of a name and of an address as a program that
// sends mail resolves its recipients, CreateOneOff, CompareEntryIDs. The truth is the vCard's own
// FN and EMAIL lines.
TEST_F(CapiSession, ResolveNameFindsAContactAndMakesOneOffs) {
  cli("import message -m alice -f Contacts " + (fs::path(OPENMAPI_SHARED_DIR) / "corpus/vcf/John_Doe_MS_OUTLOOK.vcf").string());
  LPMAPISESSION s = logon();
  LPADRBOOK ab = nullptr;
  ASSERT_EQ(s->OpenAddressBook(0, nullptr, 0, &ab), S_OK);

  LPADRLIST list = nullptr;
  ASSERT_EQ(MAPIAllocateBuffer(CbNewADRLIST(2), (LPVOID*)&list), S_OK);
  list->cEntries = 2;
  const char* names[2] = {"john", "someone@else.org"};
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(MAPIAllocateBuffer(2 * sizeof(SPropValue), (LPVOID*)&list->aEntries[i].rgPropVals), S_OK);
    list->aEntries[i].cValues = 2;
    list->aEntries[i].rgPropVals[0].ulPropTag = PR_DISPLAY_NAME_A;
    list->aEntries[i].rgPropVals[0].Value.lpszA = (LPSTR)names[i];
    list->aEntries[i].rgPropVals[1].ulPropTag = PR_RECIPIENT_TYPE;
    list->aEntries[i].rgPropVals[1].Value.l = i == 0 ? MAPI_TO : MAPI_CC;
  }
  ASSERT_EQ(ab->ResolveName(0, 0, nullptr, list), S_OK);
  auto find = [&](int row, ULONG tag) { return PpropFindProp(list->aEntries[row].rgPropVals, list->aEntries[row].cValues, tag); };
  ASSERT_NE(find(0, PR_DISPLAY_NAME_A), nullptr);
  EXPECT_STREQ(find(0, PR_DISPLAY_NAME_A)->Value.lpszA, "Mr. John Richter James Doe Sr.");  // FN
  EXPECT_STREQ(find(0, PR_EMAIL_ADDRESS_A)->Value.lpszA, "john.doe@ibm.cm");               // EMAIL
  EXPECT_STREQ(find(0, PR_ADDRTYPE_A)->Value.lpszA, "SMTP");
  EXPECT_EQ(find(0, PR_RECIPIENT_TYPE)->Value.l, MAPI_TO);  // the caller's own values stay
  EXPECT_EQ(find(0, PR_OBJECT_TYPE)->Value.l, LONG(MAPI_MAILUSER));
  ASSERT_NE(find(0, PR_ENTRYID), nullptr);
  EXPECT_STREQ(find(1, PR_EMAIL_ADDRESS_A)->Value.lpszA, "someone@else.org");
  EXPECT_EQ(find(1, PR_RECIPIENT_TYPE)->Value.l, MAPI_CC);

  // The one-off of the same address compares equal to the resolved entry (case folded).
  ULONG cb = 0;
  LPENTRYID eid = nullptr;
  ASSERT_EQ(ab->CreateOneOff((LPTSTR) "Someone", (LPTSTR) "SMTP", (LPTSTR) "SOMEONE@else.org", 0, &cb, &eid), S_OK);
  ULONG same = FALSE;
  const SBinary& resolved = find(1, PR_ENTRYID)->Value.bin;
  ASSERT_EQ(ab->CompareEntryIDs(cb, eid, resolved.cb, (LPENTRYID)resolved.lpb, 0, &same), S_OK);
  EXPECT_TRUE(same);
  const SBinary& john = find(0, PR_ENTRYID)->Value.bin;
  ASSERT_EQ(ab->CompareEntryIDs(cb, eid, john.cb, (LPENTRYID)john.lpb, 0, &same), S_OK);
  EXPECT_FALSE(same);
  MAPIFreeBuffer(eid);
  FreePadrlist(list);

  // A name nobody has: MAPI_E_NOT_FOUND, with the reason in GetLastError.
  ASSERT_EQ(MAPIAllocateBuffer(CbNewADRLIST(1), (LPVOID*)&list), S_OK);
  list->cEntries = 1;
  ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), (LPVOID*)&list->aEntries[0].rgPropVals), S_OK);
  list->aEntries[0].cValues = 1;
  list->aEntries[0].rgPropVals[0].ulPropTag = PR_DISPLAY_NAME_A;
  list->aEntries[0].rgPropVals[0].Value.lpszA = (LPSTR) "Nobody Atall";
  EXPECT_EQ(ab->ResolveName(0, 0, nullptr, list), MAPI_E_NOT_FOUND);
  FreePadrlist(list);

  LPSRowSet path = nullptr;
  ASSERT_EQ(ab->GetSearchPath(0, &path), S_OK);
  bool contacts = false;  // one row per Contacts folder (IPF.Contact) of the profile's stores
  for (ULONG i = 0; i < path->cRows; ++i) contacts |= std::string(path->aRow[i].lpProps[1].Value.lpszA) == "Contacts";
  EXPECT_TRUE(contacts);
  FreeProws(path);
  EXPECT_EQ(ab->Address(nullptr, nullptr, nullptr), MAPI_E_NO_SUPPORT);  // a dialog

  // The entries as objects: the root container's hierarchy, a Contacts container's contents
  // and ResolveNames, and a mail user opened by the entry ID a contents row gives.
  ULONG type = 0;
  LPABCONT root = nullptr;
  ASSERT_EQ(ab->OpenEntry(0, nullptr, nullptr, 0, &type, (LPUNKNOWN*)&root), S_OK);
  EXPECT_EQ(type, ULONG(MAPI_ABCONT));
  LPMAPITABLE hier = nullptr;
  ASSERT_EQ(root->GetHierarchyTable(0, &hier), S_OK);
  SizedSPropTagArray(2, hcols) = {2, {PR_DISPLAY_NAME_A, PR_ENTRYID}};
  LPSRowSet containers = nullptr;
  ASSERT_EQ(HrQueryAllRows(hier, (LPSPropTagArray)&hcols, nullptr, nullptr, 0, &containers), S_OK);
  hier->Release();
  LPABCONT folder = nullptr;
  for (ULONG i = 0; i < containers->cRows; ++i)
    if (std::string(containers->aRow[i].lpProps[0].Value.lpszA) == "Contacts") {
      const SBinary& b = containers->aRow[i].lpProps[1].Value.bin;
      ASSERT_EQ(ab->OpenEntry(b.cb, (LPENTRYID)b.lpb, &IID_IABContainer, 0, &type, (LPUNKNOWN*)&folder), S_OK);
    }
  FreeProws(containers);
  ASSERT_NE(folder, nullptr);
  EXPECT_EQ(string_prop((LPMAPIPROP)folder, PR_DISPLAY_NAME_A), "Contacts");
  LPMAPITABLE entries = nullptr;
  ASSERT_EQ(folder->GetContentsTable(0, &entries), S_OK);
  SizedSPropTagArray(3, ecols) = {3, {PR_DISPLAY_NAME_A, PR_EMAIL_ADDRESS_A, PR_ENTRYID}};
  LPSRowSet people = nullptr;
  ASSERT_EQ(HrQueryAllRows(entries, (LPSPropTagArray)&ecols, nullptr, nullptr, 0, &people), S_OK);
  entries->Release();
  ASSERT_EQ(people->cRows, 1u);
  EXPECT_STREQ(people->aRow[0].lpProps[1].Value.lpszA, "john.doe@ibm.cm");
  LPMAILUSER user = nullptr;
  const SBinary& pe = people->aRow[0].lpProps[2].Value.bin;
  ASSERT_EQ(ab->OpenEntry(pe.cb, (LPENTRYID)pe.lpb, nullptr, 0, &type, (LPUNKNOWN*)&user), S_OK);
  EXPECT_EQ(type, ULONG(MAPI_MAILUSER));
  EXPECT_EQ(string_prop((LPMAPIPROP)user, PR_DISPLAY_NAME_A), "Mr. John Richter James Doe Sr.");
  SPropValue change{};
  change.ulPropTag = PR_DISPLAY_NAME_A;
  change.Value.lpszA = (LPSTR) "x";
  EXPECT_EQ(user->SetProps(1, &change, nullptr), MAPI_E_NO_ACCESS);  // read-only
  user->Release();
  FreeProws(people);
  // ResolveNames in the container: exact names and addresses, with a flag per row.
  ASSERT_EQ(MAPIAllocateBuffer(CbNewADRLIST(2), (LPVOID*)&list), S_OK);
  list->cEntries = 2;
  const char* wanted[2] = {"JOHN.DOE@ibm.cm", "john"};  // an address, and only a part of a name
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(MAPIAllocateBuffer(sizeof(SPropValue), (LPVOID*)&list->aEntries[i].rgPropVals), S_OK);
    list->aEntries[i].cValues = 1;
    list->aEntries[i].rgPropVals[0].ulPropTag = PR_DISPLAY_NAME_A;
    list->aEntries[i].rgPropVals[0].Value.lpszA = (LPSTR)wanted[i];
  }
  struct {
    ULONG cFlags;
    ULONG ulFlag[2];
  } flags = {2, {MAPI_UNRESOLVED, MAPI_UNRESOLVED}};
  ASSERT_EQ(folder->ResolveNames(nullptr, 0, list, (LPFlagList)&flags), S_OK);
  EXPECT_EQ(flags.ulFlag[0], ULONG(MAPI_RESOLVED));
  EXPECT_EQ(flags.ulFlag[1], ULONG(MAPI_UNRESOLVED));
  EXPECT_STREQ(find(0, PR_DISPLAY_NAME_A)->Value.lpszA, "Mr. John Richter James Doe Sr.");
  FreePadrlist(list);
  EXPECT_EQ(folder->CreateEntry(0, nullptr, 0, nullptr), MAPI_E_NO_SUPPORT);  // read-only
  folder->Release();
  root->Release();
  BYTE junk[24] = {0};
  EXPECT_EQ(ab->OpenEntry(sizeof junk, (LPENTRYID)junk, nullptr, 0, &type, (LPUNKNOWN*)&user), MAPI_E_UNKNOWN_ENTRYID);
  ab->Release();
  s->Release();
}

namespace {
// Words, to compare texts that differ only in white space and line breaks.
std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool nbsp = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0;
    if (nbsp) ++i;
    if (nbsp || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!w.empty()) out.push_back(std::move(w)), w.clear();
    } else {
      w += char(c);
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}
std::vector<uint8_t> read_stream(LPSTREAM s) {
  std::vector<uint8_t> out;
  uint8_t buf[8192];
  ULONG n = 0;
  while (s->Read(buf, sizeof buf, &n) == S_OK && n > 0) out.insert(out.end(), buf, buf + n);
  return out;
}
}  // namespace

// PT_UNICODE streams carry UTF-16LE; RTFSync makes the RTF from the body and the body from RTF
// (the truth for the latter: Outlook's own PidTagBody beside its RTF in a corpus message).
TEST_F(CapiSession, UnicodeStreamsAndRtfSync) {
  LPMAPISESSION s = logon();
  LPMDB store = open_default_store(s);
  ASSERT_NE(store, nullptr);
  LPMAPIFOLDER in = inbox(store);
  LPMESSAGE msg = nullptr;
  ASSERT_EQ(in->CreateMessage(nullptr, 0, &msg), S_OK);
  const char16_t body[] = u"Hello\r\nWorld \u2603";
  LPSTREAM st = nullptr;
  ASSERT_EQ(msg->OpenProperty(PR_BODY_W, &IID_IStream, STGM_WRITE, MAPI_CREATE | MAPI_MODIFY, (LPUNKNOWN*)&st), S_OK);
  ULONG put = 0;
  ASSERT_EQ(st->Write(body, sizeof body - 2, &put), S_OK);
  ASSERT_EQ(st->Commit(0), S_OK);
  st->Release();
  EXPECT_EQ(string_prop((LPMAPIPROP)msg, PR_BODY_A), "Hello\r\nWorld \xE2\x98\x83");  // the same text in 8 bits (UTF-8)
  ASSERT_EQ(msg->OpenProperty(PR_BODY_W, &IID_IStream, STGM_READ, 0, (LPUNKNOWN*)&st), S_OK);
  const std::vector<uint8_t> back = read_stream(st);
  st->Release();
  ASSERT_EQ(back.size(), sizeof body - 2);
  EXPECT_EQ(std::memcmp(back.data(), body, back.size()), 0);

  // The body changed: RTF that encapsulates it.
  BOOL updated = FALSE;
  ASSERT_EQ(RTFSync(msg, RTF_SYNC_BODY_CHANGED, &updated), S_OK);
  EXPECT_TRUE(updated);
  ASSERT_EQ(msg->OpenProperty(PR_RTF_COMPRESSED, &IID_IStream, STGM_READ, 0, (LPUNKNOWN*)&st), S_OK);
  LPSTREAM rtf = nullptr;
  ASSERT_EQ(WrapCompressedRTFStream(st, 0, &rtf), S_OK);
  const std::vector<uint8_t> raw = read_stream(rtf);
  rtf->Release();
  st->Release();
  const std::string text(raw.begin(), raw.end());
  EXPECT_NE(text.find("\\fromtext"), std::string::npos) << text;
  EXPECT_NE(text.find("World"), std::string::npos);
  LPSPropValue v = nullptr;
  ASSERT_EQ(HrGetOneProp((LPMAPIPROP)msg, PR_RTF_IN_SYNC, &v), S_OK);
  EXPECT_TRUE(v->Value.b);
  MAPIFreeBuffer(v);
  ASSERT_EQ(RTFSync(msg, 0, &updated), S_OK);  // in sync: nothing to do
  EXPECT_FALSE(updated);

  // The RTF changed: Outlook's RTF of a corpus message gives Outlook's text of it.
  ASSERT_EQ(RTFSync(nullptr, 0, &updated), MAPI_E_INVALID_PARAMETER);
  ASSERT_EQ(RTFSync(msg, 0x100, &updated), MAPI_E_UNKNOWN_FLAGS);
  cli("import message -m alice " + (kCorpus / "RtfSampleEmail.msg").string());
  LPMAPITABLE t = nullptr;
  ASSERT_EQ(in->GetContentsTable(0, &t), S_OK);
  SizedSPropTagArray(2, cols) = {2, {PR_SUBJECT_A, PR_ENTRYID}};
  LPSRowSet rows = nullptr;
  ASSERT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&cols, nullptr, nullptr, 0, &rows), S_OK);
  t->Release();
  LPMESSAGE outlook = nullptr;
  for (ULONG i = 0; i < rows->cRows; ++i)
    if (std::string(rows->aRow[i].lpProps[0].Value.lpszA) == "RtfSampleEmail") outlook = open<IMessage>(in, rows->aRow[i].lpProps[1].Value.bin, MAPI_MESSAGE, MAPI_MODIFY);
  FreeProws(rows);
  ASSERT_NE(outlook, nullptr);
  ASSERT_EQ(outlook->OpenProperty(PR_BODY_W, &IID_IStream, STGM_READ, 0, (LPUNKNOWN*)&st), S_OK);
  const std::vector<uint8_t> outlook_body = read_stream(st);  // Outlook's text, before RTFSync
  st->Release();
  ASSERT_EQ(RTFSync(outlook, RTF_SYNC_RTF_CHANGED, &updated), S_OK);
  EXPECT_TRUE(updated);
  ASSERT_EQ(outlook->OpenProperty(PR_BODY_W, &IID_IStream, STGM_READ, 0, (LPUNKNOWN*)&st), S_OK);
  const std::vector<uint8_t> ours = read_stream(st);
  st->Release();
  auto utf8 = [](const std::vector<uint8_t>& w) {
    std::string out;
    for (size_t i = 0; i + 1 < w.size(); i += 2) {
      const unsigned u = w[i] | unsigned(w[i + 1]) << 8;
      if (u < 0x80) out += char(u);
      else if (u == 0xA0) out += ' ';  // a no-break space separates words too
      else out += '?';  // the comparison is of words; non-ASCII as one mark on both sides
    }
    return out;
  };
  const auto a = words_of(utf8(ours)), b = words_of(utf8(outlook_body));
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i]) {
      ADD_FAILURE() << "word " << i << ": '" << a[i] << "' vs Outlook's '" << b[i] << "'";
      break;
    }
  EXPECT_EQ(a.size(), b.size());
  EXPECT_GT(words_of(utf8(ours)).size(), 100u);
  outlook->Release();
  msg->Release();
  in->Release();
  store->Release();
  s->Release();
}

// A distribution list of a PST's Contacts folder as IDistList: its member is the folder's
// contact, with the address readpst (the peer) gives for that contact.
TEST_F(CapiSession, DistributionListsOfAPstAreIDistLists) {
  const fs::path pst = capi_testing::kCorpus / "pst" / "dist-list.pst";
  cli("profile create archive --pst " + pst.string());
  const fs::path out = dir_ / "readpst";
  fs::create_directories(out);
  int status = 0;
  run("readpst -q -S -r -o " + out.string() + " " + pst.string(), &status);
  ASSERT_EQ(status, 0) << "readpst (pst-utils, scripts/install-deps) must run";
  std::ifstream vcf(out / "Personal Folders" / "Contacts" / "contacts");
  std::string line, peer_address;
  while (std::getline(vcf, line))
    if (line.rfind("EMAIL:", 0) == 0) peer_address = line.substr(6);
  ASSERT_FALSE(peer_address.empty());

  LPMAPISESSION s = nullptr;
  ASSERT_EQ(MAPILogonEx(0, (LPTSTR) "archive", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s), S_OK);
  LPADRBOOK ab = nullptr;
  ASSERT_EQ(s->OpenAddressBook(0, nullptr, 0, &ab), S_OK);
  LPSRowSet path = nullptr;
  ASSERT_EQ(ab->GetSearchPath(0, &path), S_OK);
  ASSERT_GE(path->cRows, 1u);
  ULONG type = 0;
  LPABCONT contacts = nullptr;
  const SBinary& ce = path->aRow[0].lpProps[0].Value.bin;
  ASSERT_EQ(ab->OpenEntry(ce.cb, (LPENTRYID)ce.lpb, nullptr, 0, &type, (LPUNKNOWN*)&contacts), S_OK);
  FreeProws(path);
  LPMAPITABLE t = nullptr;
  ASSERT_EQ(contacts->GetContentsTable(0, &t), S_OK);
  SizedSPropTagArray(4, cols) = {4, {PR_DISPLAY_NAME_A, PR_OBJECT_TYPE, PR_DISPLAY_TYPE, PR_ENTRYID}};
  LPSRowSet rows = nullptr;
  ASSERT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&cols, nullptr, nullptr, 0, &rows), S_OK);
  t->Release();
  LPDISTLIST dl = nullptr;
  for (ULONG i = 0; i < rows->cRows; ++i)
    if (rows->aRow[i].lpProps[1].Value.l == LONG(MAPI_DISTLIST)) {
      EXPECT_STREQ(rows->aRow[i].lpProps[0].Value.lpszA, "test dist list");
      EXPECT_EQ(rows->aRow[i].lpProps[2].Value.l, LONG(DT_PRIVATE_DISTLIST));
      const SBinary& e = rows->aRow[i].lpProps[3].Value.bin;
      ASSERT_EQ(ab->OpenEntry(e.cb, (LPENTRYID)e.lpb, nullptr, 0, &type, (LPUNKNOWN*)&dl), S_OK);
      EXPECT_EQ(type, ULONG(MAPI_DISTLIST));
    }
  FreeProws(rows);
  ASSERT_NE(dl, nullptr);
  EXPECT_EQ(string_prop((LPMAPIPROP)dl, PR_DISPLAY_NAME_A), "test dist list");
  ASSERT_EQ(dl->GetContentsTable(0, &t), S_OK);
  SizedSPropTagArray(2, mcols) = {2, {PR_DISPLAY_NAME_A, PR_EMAIL_ADDRESS_A}};
  ASSERT_EQ(HrQueryAllRows(t, (LPSPropTagArray)&mcols, nullptr, nullptr, 0, &rows), S_OK);
  t->Release();
  // The contact (readpst's address for it) and two one-off members (their one-off entry IDs in
  // PidLidDistributionListOneOffMembers, read by hand: "dist name 1" and "dist name 2").
  ASSERT_EQ(rows->cRows, 3u);
  EXPECT_EQ(std::string(rows->aRow[0].lpProps[1].Value.lpszA), peer_address);
  EXPECT_STREQ(rows->aRow[1].lpProps[0].Value.lpszA, "dist name 1");
  EXPECT_STREQ(rows->aRow[2].lpProps[1].Value.lpszA, "dist2@rjohnson.id.au");
  FreeProws(rows);
  dl->Release();
  contacts->Release();
  ab->Release();
  s->Release();
}
