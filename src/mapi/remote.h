// The remote provider: a store::Mailbox whose every call becomes ROPs sent to a MAPI over HTTP
// server (`openmapi serve` or another EMSMDB server), so that the object model (store/objects.h),
// the C ABI and the Python bindings work on a mailbox that lives on a server exactly as on a
// local one.
//
// What it does: Autodiscover for the user's LegacyDN, Connect, RopLogon on the user's private
// mailbox, and then per call the ROPs of MS-OXCROPS over one keep-alive TLS connection: folders
// (OpenFolder, CreateFolder, DeleteFolder, MoveFolder, properties), messages (OpenMessage with
// its recipient rows and ReadRecipients, GetPropertiesList/All with large values read through
// OpenStream/ReadStream, attachments and embedded messages; writes as CreateMessage or
// OpenMessage, SetProperties, DeleteProperties, streams for large values, RemoveAllRecipients and
// ModifyRecipients, attachments, SaveChangesMessage), tables kept open on the server
// (SetColumns, Restrict, SortTable, QueryRows, SeekRow*, bookmarks, FindRow, Expand/CollapseRow,
// collapse states), named properties, receive folders, search criteria, submission.
//
// Notifications: the first advise opens a reader connection (one per server mailbox and process)
// that registers for the store's object events and follows them with NotificationWait; they
// feed the mailbox's ChangeFeed (store/notify.h) as journal rows numbered in arrival order.
//
// Differences from a local store (docs/REMOTE.md lists them): table notifications are not
// registered (an advised table's sink is not called); the journal is what the reader received,
// not the server's; batches are not transactions (MAPI_E_NO_SUPPORT), undelete and quotas are
// the server administrator's (MAPI_E_NO_SUPPORT / MAPI_E_NO_ACCESS); recipient rows carry the
// standard recipient properties and the server's recipient columns only; the ids that
// copy/move return are found by looking at the destination folder before and after.
//
// Ownership and lifetime: open_remote_mailbox returns the mailbox as a shared_ptr; tables and
// streams opened through it keep the connection alive. Destroying the mailbox sends Disconnect.
// Errors: see mapi/remote_client.h (MAPI_E_NETWORK_ERROR, MAPI_E_LOGON_FAILED,
// MAPI_E_END_OF_SESSION ...), and the ReturnValues of the ROPs as the MAPI errors they are.
// Thread safety: one thread at a time (as every Mailbox); calls are serialised by a mutex (the
// reader's thread takes it too, to fetch notifications).
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "mapi/address_book.h"
#include "store/store.h"

namespace openmapi::mapi {

struct RemoteOptions {
  std::string url;       // https://host[:port] of the server (a path, if any, is ignored)
  std::string user;      // the SMTP address the server knows the user by
  std::string password;
  // TLS peer verification: against `ca_file` (PEM) when given, else the system's CAs; `insecure`
  // turns it off (a test server's self-signed certificate without its file).
  std::string ca_file;
  bool insecure = false;
  std::chrono::seconds timeout{60};  // per request
};

// Connects and logs on to the user's mailbox. MAPI_E_INVALID_PARAMETER for a URL that is not
// https://host[:port]; MAPI_E_NETWORK_ERROR, MAPI_E_LOGON_FAILED as above.
std::shared_ptr<store::Mailbox> open_remote_mailbox(const RemoteOptions& options);

// The server's Global Address List through NSPI (MS-OXCMAPIHTTP 2.2.5 over a connection of its
// own): QueryRows for the entries (at most kMaxDirectoryEntries), ResolveNames for ambiguous
// name resolution. Nothing is sent until the first call (then Autodiscover and Bind); errors as
// for open_remote_mailbox. Thread-safe (calls are serialised).
inline constexpr size_t kMaxDirectoryEntries = 100000;
std::shared_ptr<Directory> open_remote_directory(const RemoteOptions& options);

}  // namespace openmapi::mapi
