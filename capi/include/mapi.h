/* OpenMAPI's C ABI: Simple MAPI (Windows' mapi.h, written from the Simple MAPI reference): the
 * twelve functions a program uses to send and read mail without Extended MAPI, with their own
 * status codes (SUCCESS_SUCCESS, MAPI_E_FAILURE, ...; not HRESULTs).
 *
 * Sessions are logons to an openmapi profile (the profile file of `openmapi profile`; see
 * MAPILogonEx in mapix.h); a function given session 0 logs on to the default profile for the
 * call alone. Messages are those of the default store: MAPIFindNext walks its Inbox, message IDs
 * are 16 hexadecimal digits (they fit the 64-byte buffer of a caller without MAPI_LONG_MSGID).
 * MAPISendMail files the message in the Outbox and submits it: the spooler of `openmapi serve`
 * on the same data directory delivers it (local users) or relays it, and moves it to Sent Items.
 *
 * There is no UI on this platform: MAPIAddress, MAPIDetails and MAPISendDocuments (always
 * dialogs), and MAPI_DIALOG on MAPISendMail and MAPIResolveName, answer MAPI_E_NOT_SUPPORTED;
 * MAPI_LOGON_UI and MAPI_PASSWORD_UI show nothing (a logon that would need them fails with
 * MAPI_E_LOGIN_FAILURE).
 *
 * Strings are UTF-8 in the 8-bit functions and UTF-16 in MAPISendMailW. Results are MAPI buffers
 * freed with one MAPIFreeBuffer. Thread safety: a session handle is used by one thread at a time;
 * different sessions may be used at once. */
#ifndef OPENMAPI_MAPI_H
#define OPENMAPI_MAPI_H
#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef ULONG_PTR LHANDLE, *LPLHANDLE;
typedef ULONG FLAGS;

#ifndef MAPI_ORIG
#define MAPI_ORIG 0
#define MAPI_TO 1
#define MAPI_CC 2
#define MAPI_BCC 3
#endif

typedef struct {
  ULONG ulReserved;
  ULONG flFlags;
  ULONG nPosition;
  LPSTR lpszPathName;
  LPSTR lpszFileName;
  LPVOID lpFileType;
} MapiFileDesc, *lpMapiFileDesc;
typedef struct {
  ULONG ulReserved;
  ULONG flFlags;
  ULONG nPosition;
  PWSTR lpszPathName;
  PWSTR lpszFileName;
  PVOID lpFileType;
} MapiFileDescW, *lpMapiFileDescW;
#define MAPI_OLE 0x00000001
#define MAPI_OLE_STATIC 0x00000002

typedef struct {
  ULONG ulReserved;
  ULONG cbTag;
  LPBYTE lpTag;
  ULONG cbEncoding;
  LPBYTE lpEncoding;
} MapiFileTagExt, *lpMapiFileTagExt;

typedef struct {
  ULONG ulReserved;
  ULONG ulRecipClass;
  LPSTR lpszName;
  LPSTR lpszAddress;
  ULONG ulEIDSize;
  LPVOID lpEntryID;
} MapiRecipDesc, *lpMapiRecipDesc;
typedef struct {
  ULONG ulReserved;
  ULONG ulRecipClass;
  PWSTR lpszName;
  PWSTR lpszAddress;
  ULONG ulEIDSize;
  PVOID lpEntryID;
} MapiRecipDescW, *lpMapiRecipDescW;

typedef struct {
  ULONG ulReserved;
  LPSTR lpszSubject;
  LPSTR lpszNoteText;
  LPSTR lpszMessageType;
  LPSTR lpszDateReceived; /* "YYYY/MM/DD HH:MM", UTC */
  LPSTR lpszConversationID;
  FLAGS flFlags;
  lpMapiRecipDesc lpOriginator;
  ULONG nRecipCount;
  lpMapiRecipDesc lpRecips;
  ULONG nFileCount;
  lpMapiFileDesc lpFiles;
} MapiMessage, *lpMapiMessage;
typedef struct {
  ULONG ulReserved;
  PWSTR lpszSubject;
  PWSTR lpszNoteText;
  PWSTR lpszMessageType;
  PWSTR lpszDateReceived;
  PWSTR lpszConversationID;
  FLAGS flFlags;
  lpMapiRecipDescW lpOriginator;
  ULONG nRecipCount;
  lpMapiRecipDescW lpRecips;
  ULONG nFileCount;
  lpMapiFileDescW lpFiles;
} MapiMessageW, *lpMapiMessageW;

/* MapiMessage flFlags */
#define MAPI_UNREAD 0x00000001
#define MAPI_RECEIPT_REQUESTED 0x00000002
#define MAPI_SENT 0x00000004

/* flags of the calls */
#ifndef MAPI_LOGON_UI
#define MAPI_LOGON_UI ((ULONG)0x00000001) /* as in mapix.h / mapidefs.h */
#endif
#ifndef MAPI_PASSWORD_UI
#define MAPI_PASSWORD_UI ((ULONG)0x00020000) /* as in mapix.h / mapidefs.h */
#endif
#ifndef MAPI_NEW_SESSION
#define MAPI_NEW_SESSION ((ULONG)0x00000002) /* as in mapix.h / mapidefs.h */
#endif
#ifndef MAPI_FORCE_DOWNLOAD
#define MAPI_FORCE_DOWNLOAD ((ULONG)0x00001000) /* as in mapix.h / mapidefs.h */
#endif
#ifndef MAPI_EXTENDED
#define MAPI_EXTENDED ((ULONG)0x00000020) /* as in mapix.h / mapidefs.h */
#endif
#ifndef MAPI_DIALOG
#define MAPI_DIALOG ((ULONG)0x00000008) /* as in mapix.h / mapidefs.h */
#endif
#define MAPI_DIALOG_MODELESS (0x00000004 | MAPI_DIALOG)
#define MAPI_UNREAD_ONLY 0x00000020
#define MAPI_GUARANTEE_FIFO 0x00000100
#define MAPI_LONG_MSGID 0x00004000
#define MAPI_PEEK 0x00000080
#define MAPI_SUPPRESS_ATTACH 0x00000800
#define MAPI_ENVELOPE_ONLY 0x00000040
#define MAPI_BODY_AS_FILE 0x00000200
#define MAPI_AB_NOMODIFY 0x00000400

/* Simple MAPI's status codes */
#ifndef SUCCESS_SUCCESS
#define SUCCESS_SUCCESS 0L /* as in mapicode.h */
#endif
#define MAPI_USER_ABORT 1
#define MAPI_E_USER_ABORT MAPI_USER_ABORT
#define MAPI_E_FAILURE 2
#define MAPI_E_LOGON_FAILURE 3
#define MAPI_E_LOGIN_FAILURE MAPI_E_LOGON_FAILURE
#define MAPI_E_DISK_FULL 4
#define MAPI_E_INSUFFICIENT_MEMORY 5
#define MAPI_E_ACCESS_DENIED 6
#define MAPI_E_TOO_MANY_SESSIONS 8
#define MAPI_E_TOO_MANY_FILES 9
#define MAPI_E_TOO_MANY_RECIPIENTS 10
#define MAPI_E_ATTACHMENT_NOT_FOUND 11
#define MAPI_E_ATTACHMENT_OPEN_FAILURE 12
#define MAPI_E_ATTACHMENT_WRITE_FAILURE 13
#define MAPI_E_UNKNOWN_RECIPIENT 14
#define MAPI_E_BAD_RECIPTYPE 15
#define MAPI_E_NO_MESSAGES 16
#define MAPI_E_INVALID_MESSAGE 17
#define MAPI_E_TEXT_TOO_LARGE 18
#define MAPI_E_INVALID_SESSION 19
#define MAPI_E_TYPE_NOT_SUPPORTED 20
#define MAPI_E_AMBIGUOUS_RECIPIENT 21
#define MAPI_E_AMBIG_RECIP MAPI_E_AMBIGUOUS_RECIPIENT
#define MAPI_E_MESSAGE_IN_USE 22
#define MAPI_E_NETWORK_FAILURE 23
#define MAPI_E_INVALID_EDITFIELDS 24
#define MAPI_E_INVALID_RECIPS 25
#define MAPI_E_NOT_SUPPORTED 26
#define MAPI_E_UNICODE_NOT_SUPPORTED 27
#define MAPI_E_ATTACHMENT_TOO_LARGE 28

/* A session on lpszProfileName (NULL or "": the default profile). Without MAPI_NEW_SESSION an
 * open session of the same profile is shared. MAPI_E_LOGIN_FAILURE for an unknown profile or one
 * whose stores do not open. */
ULONG STDAPICALLTYPE MAPILogon(ULONG_PTR ulUIParam, LPSTR lpszProfileName, LPSTR lpszPassword, FLAGS flFlags, ULONG ulReserved,
                               LPLHANDLE lplhSession);
/* Ends the session (MAPI_E_INVALID_SESSION for a handle that is not one). */
ULONG STDAPICALLTYPE MAPILogoff(LHANDLE lhSession, ULONG_PTR ulUIParam, FLAGS flFlags, ULONG ulReserved);
/* Sends lpMessage: recipients by address ("SMTP:a@b" or "a@b") or, without one, by name through
 * the address book (MAPI_E_UNKNOWN_RECIPIENT, MAPI_E_AMBIGUOUS_RECIPIENT); files attached from
 * lpszPathName under lpszFileName (MAPI_E_ATTACHMENT_NOT_FOUND, MAPI_E_ATTACHMENT_OPEN_FAILURE).
 * MAPI_E_INVALID_RECIPS without any recipient, MAPI_E_BAD_RECIPTYPE for an unknown class. */
ULONG STDAPICALLTYPE MAPISendMail(LHANDLE lhSession, ULONG_PTR ulUIParam, lpMapiMessage lpMessage, FLAGS flFlags, ULONG ulReserved);
ULONG STDAPICALLTYPE MAPISendMailW(LHANDLE lhSession, ULONG_PTR ulUIParam, lpMapiMessageW lpMessage, FLAGS flFlags, ULONG ulReserved);
/* Always a dialog: MAPI_E_NOT_SUPPORTED. */
ULONG STDAPICALLTYPE MAPISendDocuments(ULONG_PTR ulUIParam, LPSTR lpszDelimChar, LPSTR lpszFilePaths, LPSTR lpszFileNames,
                                       ULONG ulReserved);
/* The ID of the Inbox message after lpszSeedMessageID (NULL or "": the first) of class
 * lpszMessageType (NULL or "": interpersonal messages, IPM.*), oldest delivery first
 * (MAPI_GUARANTEE_FIFO is always so), only unread ones with MAPI_UNREAD_ONLY, into lpszMessageID
 * (64 bytes; 512 with MAPI_LONG_MSGID). MAPI_E_NO_MESSAGES after the last,
 * MAPI_E_INVALID_MESSAGE for a seed that is not a message ID. */
ULONG STDAPICALLTYPE MAPIFindNext(LHANDLE lhSession, ULONG_PTR ulUIParam, LPSTR lpszMessageType, LPSTR lpszSeedMessageID,
                                  FLAGS flFlags, ULONG ulReserved, LPSTR lpszMessageID);
/* The message lpszMessageID as a MapiMessage (one buffer); attachments are written to files in
 * a new directory under $TMPDIR (their lpszPathName) unless MAPI_SUPPRESS_ATTACH or
 * MAPI_ENVELOPE_ONLY; MAPI_BODY_AS_FILE gives the body as the first file. Marks the message read
 * unless MAPI_PEEK. */
ULONG STDAPICALLTYPE MAPIReadMail(LHANDLE lhSession, ULONG_PTR ulUIParam, LPSTR lpszMessageID, FLAGS flFlags, ULONG ulReserved,
                                  lpMapiMessage* lppMessage);
/* Saves lpMessage as a new Inbox message (lpszMessageID "") or over the message lpszMessageID
 * (its subject, text, recipients and files are replaced), and writes its ID into lpszMessageID. */
ULONG STDAPICALLTYPE MAPISaveMail(LHANDLE lhSession, ULONG_PTR ulUIParam, lpMapiMessage lpMessage, FLAGS flFlags, ULONG ulReserved,
                                  LPSTR lpszMessageID);
/* Deletes the message (to Deleted Items, as the store's soft delete does). */
ULONG STDAPICALLTYPE MAPIDeleteMail(LHANDLE lhSession, ULONG_PTR ulUIParam, LPSTR lpszMessageID, FLAGS flFlags, ULONG ulReserved);
/* Dialogs: MAPI_E_NOT_SUPPORTED. */
ULONG STDAPICALLTYPE MAPIAddress(LHANDLE lhSession, ULONG_PTR ulUIParam, LPSTR lpszCaption, ULONG nEditFields, LPSTR lpszLabels,
                                 ULONG nRecips, lpMapiRecipDesc lpRecips, FLAGS flFlags, ULONG ulReserved, LPULONG lpnNewRecips,
                                 lpMapiRecipDesc* lppNewRecips);
ULONG STDAPICALLTYPE MAPIDetails(LHANDLE lhSession, ULONG_PTR ulUIParam, lpMapiRecipDesc lpRecip, FLAGS flFlags, ULONG ulReserved);
/* The address book's entry for lpszName (a name or an address), as a MapiRecipDesc of class
 * MAPI_TO with lpszAddress "SMTP:address" and a one-off entry ID. */
ULONG STDAPICALLTYPE MAPIResolveName(LHANDLE lhSession, ULONG_PTR ulUIParam, LPSTR lpszName, FLAGS flFlags, ULONG ulReserved,
                                     lpMapiRecipDesc* lppRecip);
ULONG STDAPICALLTYPE MAPIFreeBuffer(LPVOID pv);

#ifdef __cplusplus
}
#endif
#endif
