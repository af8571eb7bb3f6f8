/* A C11 program over the Extended MAPI interfaces, through their C tables (lpVtbl), as a C MAPI
 * client is written: logs on to the profile named in argv[1], opens the default store from the
 * message store table, finds the Inbox by GetReceiveFolder, and prints the subject of each of its
 * messages, one per line, then the number of attachments of the first, then "ok".
 * session_test.cpp runs it on a mailbox it made and compares the output. */
#include <stdio.h>
#include <string.h>

#include "mapiguid.h"
#include "mapitags.h"
#include "mapiutil.h"
#include "mapix.h"

#define CHECK(call)                                                  \
  do {                                                               \
    HRESULT hr_ = (call);                                            \
    if (FAILED(hr_)) {                                               \
      fprintf(stderr, "%s failed: 0x%08X\n", #call, (unsigned)hr_); \
      return 1;                                                      \
    }                                                                \
  } while (0)

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  LPMAPISESSION session = NULL;
  CHECK(MAPIInitialize(NULL));
  CHECK(MAPILogonEx(0, (LPTSTR)argv[1], NULL, MAPI_EXTENDED | MAPI_NEW_SESSION, &session));

  LPMAPITABLE stores = NULL;
  CHECK(session->lpVtbl->GetMsgStoresTable(session, 0, &stores));
  SizedSPropTagArray(2, store_cols) = {2, {PR_ENTRYID, PR_DEFAULT_STORE}};
  LPSRowSet rows = NULL;
  CHECK(HrQueryAllRows(stores, (LPSPropTagArray)&store_cols, NULL, NULL, 0, &rows));
  stores->lpVtbl->Release(stores);
  LPMDB store = NULL;
  for (ULONG i = 0; i < rows->cRows; ++i)
    if (rows->aRow[i].lpProps[1].Value.b)
      CHECK(session->lpVtbl->OpenMsgStore(session, 0, rows->aRow[i].lpProps[0].Value.bin.cb,
                                          (LPENTRYID)rows->aRow[i].lpProps[0].Value.bin.lpb, NULL, MDB_NO_DIALOG, &store));
  FreeProws(rows);
  if (!store) return 3;

  ULONG cb = 0;
  LPENTRYID eid = NULL;
  CHECK(store->lpVtbl->GetReceiveFolder(store, (LPTSTR) "IPM.Note", 0, &cb, &eid, NULL));
  ULONG type = 0;
  LPMAPIFOLDER inbox = NULL;
  CHECK(store->lpVtbl->OpenEntry(store, cb, eid, &IID_IMAPIFolder, 0, &type, (LPUNKNOWN*)&inbox));
  MAPIFreeBuffer(eid);
  if (type != MAPI_FOLDER) return 4;

  LPMAPITABLE contents = NULL;
  CHECK(inbox->lpVtbl->GetContentsTable(inbox, 0, &contents));
  SizedSPropTagArray(2, cols) = {2, {PR_SUBJECT_A, PR_ENTRYID}};
  SizedSSortOrderSet(1, sort) = {1, 0, 0, {{PR_SUBJECT_A, TABLE_SORT_ASCEND}}};
  CHECK(contents->lpVtbl->SetColumns(contents, (LPSPropTagArray)&cols, 0));
  CHECK(contents->lpVtbl->SortTable(contents, (LPSSortOrderSet)&sort, 0));
  CHECK(contents->lpVtbl->QueryRows(contents, 50, 0, &rows));
  for (ULONG i = 0; i < rows->cRows; ++i) printf("%s\n", rows->aRow[i].lpProps[0].Value.lpszA);
  if (rows->cRows > 0) {
    LPMESSAGE msg = NULL;
    const SBinary* b = &rows->aRow[0].lpProps[1].Value.bin;
    CHECK(inbox->lpVtbl->OpenEntry(inbox, b->cb, (LPENTRYID)b->lpb, NULL, 0, &type, (LPUNKNOWN*)&msg));
    LPMAPITABLE atts = NULL;
    CHECK(msg->lpVtbl->GetAttachmentTable(msg, 0, &atts));
    ULONG n = 0;
    CHECK(atts->lpVtbl->GetRowCount(atts, 0, &n));
    printf("%u attachments\n", (unsigned)n);
    atts->lpVtbl->Release(atts);
    LPSPropValue subject = NULL;
    CHECK(HrGetOneProp((LPMAPIPROP)msg, PR_SUBJECT_A, &subject));
    if (strcmp(subject->Value.lpszA, rows->aRow[0].lpProps[0].Value.lpszA) != 0) return 5;
    MAPIFreeBuffer(subject);
    msg->lpVtbl->Release(msg);
  }
  FreeProws(rows);
  contents->lpVtbl->Release(contents);
  inbox->lpVtbl->Release(inbox);
  store->lpVtbl->Release(store);
  CHECK(session->lpVtbl->Logoff(session, 0, 0, 0));
  session->lpVtbl->Release(session);
  MAPIUninitialize();
  printf("ok\n");
  return 0;
}
