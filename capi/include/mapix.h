/* OpenMAPI's C ABI: the session and the memory functions (Windows' mapix.h; what is declared here
 * is implemented, or answers MAPI_E_NO_SUPPORT where its comment says so). A buffer from MAPIAllocateBuffer owns every buffer MAPIAllocateMore links to it:
 * MAPIFreeBuffer on it frees them all. Buffers are aligned for any MAPI structure (16 bytes).
 * Thread safety: every function may be called from any thread. */
#ifndef OPENMAPI_MAPIX_H
#define OPENMAPI_MAPIX_H
#include "mapicode.h"
#include "mapidefs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef SCODE(STDMETHODCALLTYPE ALLOCATEBUFFER)(ULONG cbSize, LPVOID* lppBuffer);
typedef SCODE(STDMETHODCALLTYPE ALLOCATEMORE)(ULONG cbSize, LPVOID lpObject, LPVOID* lppBuffer);
typedef ULONG(STDAPICALLTYPE FREEBUFFER)(LPVOID lpBuffer);
typedef ALLOCATEBUFFER* LPALLOCATEBUFFER;
typedef ALLOCATEMORE* LPALLOCATEMORE;
typedef FREEBUFFER* LPFREEBUFFER;

/* ---- the address book (IAddrBook) and its dialog parameters */
typedef BOOL(STDMETHODCALLTYPE FNABSDI)(ULONG_PTR ulUIParam, LPVOID lpvmsg);
typedef FNABSDI* LPFNABSDI;
typedef void(STDMETHODCALLTYPE FNDISMISS)(ULONG_PTR ulUIParam, LPVOID lpvContext);
typedef FNDISMISS* LPFNDISMISS;
typedef SCODE(STDMETHODCALLTYPE FNBUTTON)(ULONG_PTR ulUIParam, LPVOID lpvContext, ULONG cbEntryID, LPENTRYID lpSelection,
                                          ULONG ulFlags);
typedef FNBUTTON* LPFNBUTTON;
typedef struct _ADRPARM {
  ULONG cbABContEntryID;
  LPENTRYID lpABContEntryID;
  ULONG ulFlags;
  LPVOID lpReserved;
  ULONG ulHelpContext;
  LPTSTR lpszHelpFileName;
  LPFNABSDI lpfnABSDI;
  LPFNDISMISS lpfnDismiss;
  LPVOID lpvDismissContext;
  LPTSTR lpszCaption;
  LPTSTR lpszNewEntryTitle;
  LPTSTR lpszDestWellsTitle;
  ULONG cDestFields;
  ULONG nDestFieldFocus;
  LPTSTR* lppszDestTitles;
  ULONG* lpulDestComps;
  LPSRestriction lpContRestriction;
  LPSRestriction lpHierRestriction;
} ADRPARM, *LPADRPARM;
#define MAPI_SEND_NO_RICH_INFO ((ULONG)0x00010000) /* CreateOneOff */
#define DIALOG_MODAL ((ULONG)0x00000001)
#define DIALOG_SDI ((ULONG)0x00000002)

#define INTERFACE IAddrBook
DECLARE_INTERFACE_(IAddrBook, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
  STDMETHOD(OpenEntry)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags, ULONG* lpulObjType,
                       LPUNKNOWN* lppUnk) PURE;
  STDMETHOD(CompareEntryIDs)(THIS_ ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                             ULONG ulFlags, ULONG* lpulResult) PURE;
  STDMETHOD(Advise)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink,
                    ULONG_PTR* lpulConnection) PURE;
  STDMETHOD(Unadvise)(THIS_ ULONG_PTR ulConnection) PURE;
  STDMETHOD(CreateOneOff)(THIS_ LPTSTR lpszName, LPTSTR lpszAdrType, LPTSTR lpszAddress, ULONG ulFlags, ULONG* lpcbEntryID,
                          LPENTRYID* lppEntryID) PURE;
  STDMETHOD(NewEntry)(THIS_ ULONG_PTR ulUIParam, ULONG ulFlags, ULONG cbEIDContainer, LPENTRYID lpEIDContainer,
                      ULONG cbEIDNewEntryTpl, LPENTRYID lpEIDNewEntryTpl, ULONG* lpcbEIDNewEntry, LPENTRYID* lppEIDNewEntry) PURE;
  STDMETHOD(ResolveName)(THIS_ ULONG_PTR ulUIParam, ULONG ulFlags, LPTSTR lpszNewEntryTitle, LPADRLIST lpAdrList) PURE;
  STDMETHOD(Address)(THIS_ ULONG_PTR* lpulUIParam, LPADRPARM lpAdrParms, LPADRLIST* lppAdrList) PURE;
  STDMETHOD(Details)(THIS_ ULONG_PTR* lpulUIParam, LPFNDISMISS lpfnDismiss, LPVOID lpvDismissContext, ULONG cbEntryID,
                     LPENTRYID lpEntryID, LPFNBUTTON lpfButtonCallback, LPVOID lpvButtonContext, LPTSTR lpszButtonText,
                     ULONG ulFlags) PURE;
  STDMETHOD(RecipOptions)(THIS_ ULONG_PTR ulUIParam, ULONG ulFlags, LPADRENTRY lpRecip) PURE;
  STDMETHOD(QueryDefaultRecipOpt)(THIS_ LPTSTR lpszAdrType, ULONG ulFlags, ULONG* lpcValues, LPSPropValue* lppOptions) PURE;
  STDMETHOD(GetPAB)(THIS_ ULONG* lpcbEntryID, LPENTRYID* lppEntryID) PURE;
  STDMETHOD(SetPAB)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
  STDMETHOD(GetDefaultDir)(THIS_ ULONG* lpcbEntryID, LPENTRYID* lppEntryID) PURE;
  STDMETHOD(SetDefaultDir)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
  STDMETHOD(GetSearchPath)(THIS_ ULONG ulFlags, LPSRowSet* lppSearchPath) PURE;
  STDMETHOD(SetSearchPath)(THIS_ ULONG ulFlags, LPSRowSet lpSearchPath) PURE;
  STDMETHOD(PrepareRecips)(THIS_ ULONG ulFlags, LPSPropTagArray lpPropTagArray, LPADRLIST lpRecipList) PURE;
};
#undef INTERFACE
typedef IAddrBook* LPADRBOOK;

/* IProfSect: a section of a profile (properties only). */
#define INTERFACE IProfSect
DECLARE_INTERFACE_(IProfSect, IMAPIProp) {
  OPENMAPI_IUNKNOWN_METHODS
  OPENMAPI_IMAPIPROP_METHODS
};
#undef INTERFACE
typedef IProfSect* LPPROFSECT;
struct IMsgServiceAdmin;
typedef struct IMsgServiceAdmin* LPSERVICEADMIN;

/* ---- the session (IMAPISession) */
#define MAPI_LOGON_UI ((ULONG)0x00000001)
#define MAPI_NEW_SESSION ((ULONG)0x00000002)
#define MAPI_ALLOW_OTHERS ((ULONG)0x00000008)
#define MAPI_EXPLICIT_PROFILE ((ULONG)0x00000010)
#define MAPI_EXTENDED ((ULONG)0x00000020)
#define MAPI_USE_DEFAULT ((ULONG)0x00000040)
#define MAPI_FORCE_DOWNLOAD ((ULONG)0x00001000)
#define MAPI_SERVICE_UI_ALWAYS ((ULONG)0x00002000)
#define MAPI_NO_MAIL ((ULONG)0x00008000)
#define MAPI_NT_SERVICE ((ULONG)0x00010000)
#define MAPI_PASSWORD_UI ((ULONG)0x00020000)
#define MAPI_TIMEOUT_SHORT ((ULONG)0x00100000)
#define MAPI_SIMPLE_DEFAULT (MAPI_LOGON_UI | MAPI_FORCE_DOWNLOAD | MAPI_ALLOW_OTHERS)
#define MAPI_SIMPLE_EXPLICIT (MAPI_NEW_SESSION | MAPI_FORCE_DOWNLOAD | MAPI_EXPLICIT_PROFILE)
#define MAPI_LOGOFF_SHARED ((ULONG)0x00000001)
#define MAPI_LOGOFF_UI ((ULONG)0x00000002)
#define MAPI_STORE_PROVIDER ((ULONG)33)
#define MAPI_AB ((ULONG)34)
#define MAPI_AB_PROVIDER ((ULONG)35)
#define MAPI_TRANSPORT_PROVIDER ((ULONG)36)
#define MAPI_SPOOLER ((ULONG)37)
#define MAPI_PROFILE_PROVIDER ((ULONG)38)
#define MAPI_SUBSYSTEM ((ULONG)39)
#define MAPI_HOOK_PROVIDER ((ULONG)40)

#define INTERFACE IMAPISession
DECLARE_INTERFACE_(IMAPISession, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD(GetLastError)(THIS_ HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) PURE;
  STDMETHOD(GetMsgStoresTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(OpenMsgStore)(THIS_ ULONG_PTR ulUIParam, ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags,
                          LPMDB* lppMDB) PURE;
  STDMETHOD(OpenAddressBook)(THIS_ ULONG_PTR ulUIParam, LPCIID lpInterface, ULONG ulFlags, LPADRBOOK* lppAdrBook) PURE;
  STDMETHOD(OpenProfileSection)(THIS_ LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags, LPPROFSECT* lppProfSect) PURE;
  STDMETHOD(GetStatusTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(OpenEntry)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags, ULONG* lpulObjType,
                       LPUNKNOWN* lppUnk) PURE;
  STDMETHOD(CompareEntryIDs)(THIS_ ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2, LPENTRYID lpEntryID2,
                             ULONG ulFlags, ULONG* lpulResult) PURE;
  STDMETHOD(Advise)(THIS_ ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink,
                    ULONG_PTR* lpulConnection) PURE;
  STDMETHOD(Unadvise)(THIS_ ULONG_PTR ulConnection) PURE;
  STDMETHOD(MessageOptions)(THIS_ ULONG_PTR ulUIParam, ULONG ulFlags, LPTSTR lpszAdrType, LPMESSAGE lpMessage) PURE;
  STDMETHOD(QueryDefaultMessageOpt)(THIS_ LPTSTR lpszAdrType, ULONG ulFlags, ULONG* lpcValues, LPSPropValue* lppOptions) PURE;
  STDMETHOD(EnumAdrTypes)(THIS_ ULONG ulFlags, ULONG* lpcAdrTypes, LPTSTR** lpppszAdrTypes) PURE;
  STDMETHOD(QueryIdentity)(THIS_ ULONG* lpcbEntryID, LPENTRYID* lppEntryID) PURE;
  STDMETHOD(Logoff)(THIS_ ULONG_PTR ulUIParam, ULONG ulFlags, ULONG ulReserved) PURE;
  STDMETHOD(SetDefaultStore)(THIS_ ULONG ulFlags, ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
  STDMETHOD(AdminServices)(THIS_ ULONG ulFlags, LPSERVICEADMIN* lppServiceAdmin) PURE;
  STDMETHOD(ShowForm)(THIS_ ULONG_PTR ulUIParam, LPMDB lpMsgStore, LPMAPIFOLDER lpParentFolder, LPCIID lpInterface,
                      ULONG ulMessageToken, LPMESSAGE lpMessageSent, ULONG ulFlags, ULONG ulMessageStatus,
                      ULONG ulMessageFlags, ULONG ulAccess, LPSTR lpszMessageClass) PURE;
  STDMETHOD(PrepareForm)(THIS_ LPCIID lpInterface, LPMESSAGE lpMessage, ULONG* lpulMessageToken) PURE;
};
#undef INTERFACE
typedef IMAPISession* LPMAPISESSION;

typedef struct {
  ULONG ulVersion;
  ULONG ulFlags;
} MAPIINIT_0, *LPMAPIINIT_0;
typedef MAPIINIT_0 MAPIINIT;
typedef MAPIINIT* LPMAPIINIT;
#define MAPI_INIT_VERSION 0
#define MAPI_MULTITHREAD_NOTIFICATIONS ((ULONG)0x00000001)
#define MAPI_NO_COINIT ((ULONG)0x00000008)

/* MAPIInitialize: counted; every call needs its MAPIUninitialize. lpMapiInit may be NULL;
 * MAPI_E_UNKNOWN_FLAGS for a version other than MAPI_INIT_VERSION or unknown flags. Notifications
 * are always delivered on the library's own thread (as with MAPI_MULTITHREAD_NOTIFICATIONS). */
HRESULT STDAPICALLTYPE MAPIInitialize(LPVOID lpMapiInit);
/* Ends one MAPIInitialize; the last one logs off every session still open. */
void STDAPICALLTYPE MAPIUninitialize(void);
/* MAPILogonEx: a session on a profile of the profile file that `openmapi profile` manages
 * ($XDG_CONFIG_HOME/openmapi/profiles.json, else ~/.config/openmapi/profiles.json). lpszProfileName
 * names it (wide when MAPI_UNICODE); with MAPI_USE_DEFAULT, or a NULL or empty name, the default
 * profile is taken (IProfAdmin::SetDefaultProfile's, else the file's first). lpszPassword is not used for local profiles. Without
 * MAPI_NEW_SESSION a session already open on the same profile is shared (a new reference).
 * MAPI_LOGON_UI and MAPI_PASSWORD_UI show nothing here (there is no UI): a logon that would need
 * a dialog fails with MAPI_E_LOGON_FAILED. Errors: MAPI_E_NOT_INITIALIZED before MAPIInitialize,
 * MAPI_E_LOGON_FAILED for an unknown profile or a store that cannot be opened (MAPI_E_NOT_FOUND
 * when no profile exists and none is named), MAPI_E_INVALID_PARAMETER for a NULL lppSession. */
HRESULT STDAPICALLTYPE MAPILogonEx(ULONG_PTR ulUIParam, LPTSTR lpszProfileName, LPTSTR lpszPassword, ULONG ulFlags,
                                   LPMAPISESSION* lppSession);

/* ---- profile administration (IProfAdmin, IMsgServiceAdmin) over the same profile file */
#define MAPI_DEFAULT_SERVICES ((ULONG)0x00000001)
#define SERVICE_UI_ALWAYS ((ULONG)0x00000002)
#define SERVICE_UI_ALLOWED ((ULONG)0x00000010)
#define UI_CURRENT_PROVIDER_FIRST ((ULONG)0x00000004)
#define SERVICE_DEFAULT_STORE ((ULONG)0x00000001)
#define SERVICE_SINGLE_COPY ((ULONG)0x00000002)
#define SERVICE_CREATE_WITH_STORE ((ULONG)0x00000004)
#define SERVICE_PRIMARY_IDENTITY ((ULONG)0x00000008)
#define SERVICE_NO_PRIMARY_IDENTITY ((ULONG)0x00000020)
struct IProviderAdmin;
typedef struct IProviderAdmin* LPPROVIDERADMIN;

#define INTERFACE IMsgServiceAdmin
DECLARE_INTERFACE_(IMsgServiceAdmin, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD(GetLastError)(THIS_ HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) PURE;
  STDMETHOD(GetMsgServiceTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(CreateMsgService)(THIS_ LPTSTR lpszService, LPTSTR lpszDisplayName, ULONG_PTR ulUIParam, ULONG ulFlags) PURE;
  STDMETHOD(DeleteMsgService)(THIS_ LPMAPIUID lpUID) PURE;
  STDMETHOD(CopyMsgService)(THIS_ LPMAPIUID lpUID, LPTSTR lpszDisplayName, LPCIID lpInterfaceToCopy, LPCIID lpInterfaceDst,
                            LPVOID lpObjectDst, ULONG_PTR ulUIParam, ULONG ulFlags) PURE;
  STDMETHOD(RenameMsgService)(THIS_ LPMAPIUID lpUID, ULONG ulFlags, LPTSTR lpszDisplayName) PURE;
  STDMETHOD(ConfigureMsgService)(THIS_ LPMAPIUID lpUID, ULONG_PTR ulUIParam, ULONG ulFlags, ULONG cValues, LPSPropValue lpProps) PURE;
  STDMETHOD(OpenProfileSection)(THIS_ LPMAPIUID lpUID, LPCIID lpInterface, ULONG ulFlags, LPPROFSECT* lppProfSect) PURE;
  STDMETHOD(MsgServiceTransportOrder)(THIS_ ULONG cUID, LPMAPIUID lpUIDList, ULONG ulFlags) PURE;
  STDMETHOD(AdminProviders)(THIS_ LPMAPIUID lpUID, ULONG ulFlags, LPPROVIDERADMIN* lppProviderAdmin) PURE;
  STDMETHOD(SetPrimaryIdentity)(THIS_ LPMAPIUID lpUID, ULONG ulFlags) PURE;
  STDMETHOD(GetProviderTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
};
#undef INTERFACE

#define INTERFACE IProfAdmin
DECLARE_INTERFACE_(IProfAdmin, IUnknown) {
  OPENMAPI_IUNKNOWN_METHODS
  STDMETHOD(GetLastError)(THIS_ HRESULT hResult, ULONG ulFlags, LPMAPIERROR* lppMAPIError) PURE;
  STDMETHOD(GetProfileTable)(THIS_ ULONG ulFlags, LPMAPITABLE* lppTable) PURE;
  STDMETHOD(CreateProfile)(THIS_ LPTSTR lpszProfileName, LPTSTR lpszPassword, ULONG_PTR ulUIParam, ULONG ulFlags) PURE;
  STDMETHOD(DeleteProfile)(THIS_ LPTSTR lpszProfileName, ULONG ulFlags) PURE;
  STDMETHOD(ChangeProfilePassword)(THIS_ LPTSTR lpszProfileName, LPTSTR lpszOldPassword, LPTSTR lpszNewPassword, ULONG ulFlags) PURE;
  STDMETHOD(CopyProfile)(THIS_ LPTSTR lpszOldProfileName, LPTSTR lpszOldPassword, LPTSTR lpszNewProfileName, ULONG_PTR ulUIParam,
                         ULONG ulFlags) PURE;
  STDMETHOD(RenameProfile)(THIS_ LPTSTR lpszOldProfileName, LPTSTR lpszOldPassword, LPTSTR lpszNewProfileName, ULONG_PTR ulUIParam,
                           ULONG ulFlags) PURE;
  STDMETHOD(SetDefaultProfile)(THIS_ LPTSTR lpszProfileName, ULONG ulFlags) PURE;
  STDMETHOD(AdminServices)(THIS_ LPTSTR lpszProfileName, LPTSTR lpszPassword, ULONG_PTR ulUIParam, ULONG ulFlags,
                           LPSERVICEADMIN* lppServiceAdmin) PURE;
};
#undef INTERFACE
typedef IProfAdmin* LPPROFADMIN;

/* The profiles of `openmapi profile` (one file; see MAPILogonEx). Services are "MSUPST MS" (or
 * "MSPST MS": a PST/OST file, read-only), "OPENMAPI_MAILBOX" (a SQLite mailbox file) and "MSEMS"
 * (a mailbox on a MAPI over HTTP server); one is made unconfigured by CreateMsgService and gets
 * its file by ConfigureMsgService with PR_PST_PATH (the file's absolute path, for the first two)
 * or its server with PR_PROFILE_UNRESOLVED_SERVER (https://host[:port] or a host name) and
 * PR_PROFILE_UNRESOLVED_NAME (the user's address; the password is taken from the environment
 * variable OPENMAPI_PASSWORD at logon, or from the profile when `openmapi profile create
 * --password-stdin` kept it), and optionally PR_DISPLAY_NAME; until then a logon on its profile
 * fails with MAPI_E_UNCONFIGURED. Local profiles have no passwords:
 * ChangeProfilePassword answers MAPI_E_NO_SUPPORT, and passwords given are not checked.
 * Changes are written to the file at once (replaced whole, mode 0600). Not thread-safe. */
HRESULT STDAPICALLTYPE MAPIAdminProfiles(ULONG ulFlags, LPPROFADMIN* lppProfAdmin);

/* S_OK; MAPI_E_INVALID_PARAMETER for a null lppBuffer; MAPI_E_NOT_ENOUGH_MEMORY. */
SCODE STDMETHODCALLTYPE MAPIAllocateBuffer(ULONG cbSize, LPVOID* lppBuffer);
/* As MAPIAllocateBuffer, linked to lpObject (a buffer of MAPIAllocateBuffer, or one linked to
 * it); MAPI_E_INVALID_PARAMETER when lpObject is not such a buffer. */
SCODE STDMETHODCALLTYPE MAPIAllocateMore(ULONG cbSize, LPVOID lpObject, LPVOID* lppBuffer);
/* Frees lpBuffer and everything linked to it; S_OK (also for NULL). A buffer of
 * MAPIAllocateMore is freed with its parent, not alone (S_OK, nothing happens). */
ULONG STDAPICALLTYPE MAPIFreeBuffer(LPVOID lpBuffer);

/* The process's IMalloc (one object, never freed: Release does not end it). GetSize answers the
 * size asked for; DidAlloc is exact (1 for its own blocks, 0 for others). */
LPMALLOC STDAPICALLTYPE MAPIGetDefaultMalloc(void);

#ifdef __cplusplus
}
#endif
#endif
