// capi_bench: what the C ABI (libopenmapi-mapi32) costs over the object model it wraps, in one
// run on one mailbox: the C++ calls (store/objects.h) are the limit.
//
//   1. A contents table of N messages read whole (5 columns): store::Table::query_rows against
//      IMAPITable::QueryRows through HrQueryAllRows (rows per second).
//   2. M messages opened by entry ID and 6 properties read: Logon::open_entry + get_props against
//      IMsgStore::OpenEntry + IMAPIProp::GetProps (messages per second).
//
//   capi_bench [--messages N] [--opens M]
// Results go to docs/PERFORMANCE.md.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/filetime.h"
#include "store/objects.h"
#define OPENMAPI_CODES_AS_ENUM
#include "mapitags.h"
#include "mapiutil.h"
#include "mapix.h"

using namespace openmapi;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[noreturn]] void die(const char* what, HRESULT hr) {
  std::fprintf(stderr, "capi_bench: %s failed: 0x%08X\n", what, unsigned(hr));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 20000, opens = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--messages") == 0) n = std::strtoul(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--opens") == 0) opens = std::strtoul(argv[i + 1], nullptr, 10);
  }
  char tmpl[] = "/tmp/capi-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl, path = dir + "/bench.sqlite";
  {
    auto mb = store::create_sqlite_mailbox(path, {"Bench", "bench@example.com", 0});
    const store::FolderId inbox = mb->special_folder(store::SpecialFolder::Inbox);
    const int64_t t0 = 133000000000000000;
    for (size_t i = 0; i < n; ++i) {
      openmapi::Message m;
      m.props.set(PropValue::string(tags::PidTagSubject, "Message number " + std::to_string(i)));
      m.props.set(PropValue::string(tags::PidTagSenderName, "Sender " + std::to_string(i % 97)));
      m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
      m.props.set(PropValue::time(tags::PidTagMessageDeliveryTime, t0 + int64_t(i) * 10000000));
      m.props.set(PropValue::string(tags::PidTagBody, std::string(500, 'b')));
      mb->save_message(inbox, m);
    }
  }
  // The profile file of the C ABI's logon, in a configuration directory of the bench's own.
  const std::string conf = dir + "/conf/openmapi";
  fs::create_directories(conf);
  {
    FILE* f = std::fopen((conf + "/profiles.json").c_str(), "w");
    std::fprintf(f, "{\"version\": 1, \"profiles\": [{\"name\": \"bench\", \"services\": [{\"kind\": \"mailbox\", \"name\": \"bench\", "
                    "\"path\": \"%s\", \"display_name\": \"Bench\"}]}]}\n", path.c_str());
    std::fclose(f);
  }
  setenv("XDG_CONFIG_HOME", (dir + "/conf").c_str(), 1);

  // ---- C++ (the limit)
  auto logon = store::Logon::open(std::shared_ptr<store::Mailbox>(store::open_sqlite_mailbox(path)), {"bench@example.com"});
  auto inbox = logon->open_special(store::SpecialFolder::Inbox);
  const std::vector<PropTag> cols{tags::PidTagEntryId, tags::PidTagSubject, tags::PidTagSenderName, tags::PidTagMessageDeliveryTime,
                                  tags::PidTagMessageSize};
  std::vector<Bytes> ids;
  auto t = Clock::now();
  {
    auto table = inbox->contents_table();
    table->set_columns(cols);
    for (;;) {
      auto rows = table->query_rows(1000);
      if (rows.empty()) break;
      for (auto& r : rows) ids.push_back(r[0].get<Bytes>());
    }
  }
  const double cpp_table = seconds_since(t);
  const std::vector<PropTag> props{tags::PidTagSubject, tags::PidTagSenderName, tags::PidTagMessageDeliveryTime, tags::PidTagMessageSize,
                                   tags::PidTagMessageClass, tags::PidTagMessageFlags};
  t = Clock::now();
  size_t got = 0;
  for (size_t i = 0; i < opens && i < ids.size(); ++i) {
    auto m = logon->open_entry(ids[i * 7 % ids.size()]).message;
    got += m->get_props(props).values.size();
  }
  const double cpp_open = seconds_since(t);

  // ---- the C ABI
  HRESULT hr = MAPIInitialize(nullptr);
  if (FAILED(hr)) die("MAPIInitialize", hr);
  LPMAPISESSION s = nullptr;
  if (FAILED(hr = MAPILogonEx(0, (LPTSTR) "bench", nullptr, MAPI_EXTENDED | MAPI_NEW_SESSION, &s))) die("MAPILogonEx", hr);
  LPMDB store = nullptr;
  if (FAILED(hr = s->OpenMsgStore(0, 0, nullptr, nullptr, MDB_NO_DIALOG, &store))) die("OpenMsgStore", hr);
  ULONG cb = 0;
  LPENTRYID eid = nullptr;
  if (FAILED(hr = store->GetReceiveFolder((LPTSTR) "IPM.Note", 0, &cb, &eid, nullptr))) die("GetReceiveFolder", hr);
  ULONG type = 0;
  LPMAPIFOLDER folder = nullptr;
  if (FAILED(hr = store->OpenEntry(cb, eid, nullptr, 0, &type, (LPUNKNOWN*)&folder))) die("OpenEntry", hr);
  MAPIFreeBuffer(eid);
  SizedSPropTagArray(5, ccols) = {5, {PR_ENTRYID, PR_SUBJECT_W, PR_SENDER_NAME_W, PR_MESSAGE_DELIVERY_TIME, PR_MESSAGE_SIZE}};
  t = Clock::now();
  LPMAPITABLE table = nullptr;
  if (FAILED(hr = folder->GetContentsTable(0, &table))) die("GetContentsTable", hr);
  LPSRowSet rows = nullptr;
  if (FAILED(hr = HrQueryAllRows(table, (LPSPropTagArray)&ccols, nullptr, nullptr, 0, &rows))) die("HrQueryAllRows", hr);
  const size_t c_rows = rows->cRows;
  FreeProws(rows);
  table->Release();
  const double c_table = seconds_since(t);
  SizedSPropTagArray(6, cprops) = {6, {PR_SUBJECT_W, PR_SENDER_NAME_W, PR_MESSAGE_DELIVERY_TIME, PR_MESSAGE_SIZE, PR_MESSAGE_CLASS_W,
                                        PR_MESSAGE_FLAGS}};
  t = Clock::now();
  size_t c_got = 0;
  for (size_t i = 0; i < opens && i < ids.size(); ++i) {
    const Bytes& id = ids[i * 7 % ids.size()];
    LPMESSAGE m = nullptr;
    if (FAILED(hr = store->OpenEntry(ULONG(id.size()), (LPENTRYID)id.data(), nullptr, 0, &type, (LPUNKNOWN*)&m))) die("OpenEntry", hr);
    ULONG nv = 0;
    LPSPropValue v = nullptr;
    if (FAILED(hr = m->GetProps((LPSPropTagArray)&cprops, 0, &nv, &v))) die("GetProps", hr);
    c_got += nv;
    MAPIFreeBuffer(v);
    m->Release();
  }
  const double c_open = seconds_since(t);
  folder->Release();
  store->Release();
  s->Logoff(0, 0, 0);
  s->Release();
  MAPIUninitialize();

  std::printf("contents table of %zu messages, 5 columns, read whole:\n", ids.size());
  std::printf("  C++ store::Table      %8.3f s  %9.0f rows/s\n", cpp_table, double(ids.size()) / cpp_table);
  std::printf("  C ABI HrQueryAllRows  %8.3f s  %9.0f rows/s  (%.2fx the C++ time; %zu rows)\n", c_table, double(c_rows) / c_table,
              c_table / cpp_table, c_rows);
  std::printf("%zu messages opened by entry ID, 6 properties read:\n", opens);
  std::printf("  C++ open_entry+get_props  %8.3f s  %8.0f msg/s\n", cpp_open, double(opens) / cpp_open);
  std::printf("  C ABI OpenEntry+GetProps  %8.3f s  %8.0f msg/s  (%.2fx the C++ time; %zu / %zu values)\n", c_open, double(opens) / c_open,
              c_open / cpp_open, c_got, got);
  logon->logoff();
  fs::remove_all(dir);
  return 0;
}
