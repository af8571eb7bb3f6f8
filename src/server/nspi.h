// The NSPI endpoint of MAPI over HTTP (MS-OXCMAPIHTTP 2.2.5, semantics of MS-OXNSPI): the
// address book at /mapi/nspi/, whose Global Address List is the server's users.
//
// Request types: Bind, Unbind, GetSpecialTable, QueryRows, QueryColumns, GetProps, GetPropList,
// DNToMId, ResolveNames, GetMatches, SeekEntries, UpdateStat, CompareMIds, ResortRestriction,
// GetMailboxUrl, GetAddressBookUrl, PING; GetTemplateInfo answers ecNotSupported (no display
// templates yet); ModProps and ModLinkAtt ecAccessDenied (the GAL is read-only).
// Entries: one mail user per server user (DT_MAILUSER), with Minimal Entry IDs that stay the
// same for an address while the server runs, Permanent and Ephemeral Entry IDs (MS-OXNSPI
// 2.2.9), the legacy DN as PidTagEmailAddress, PidTagSmtpAddress, proxy addresses, search key.
// Ambiguous name resolution: an exact address, DN, display name or local part wins; otherwise
// the entries with a display-name word, the address or its local part starting with the text.
//
// Bad input: bodies are read with bounds checks; a size larger than what follows is
// X-ResponseCode 12, nothing is allocated for it; request types it does not know: 5; requests
// without a Bind's context cookie: 10 / 13; another user's context: 11.
// Thread safety: handle() may be called from several threads; contexts are guarded.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/guid.h"
#include "core/propvalue.h"
#include "server/http.h"
#include "server/users.h"

namespace openmapi::server {

namespace nspi {

// MS-OXNSPI 2.2.8 STAT.
struct Stat {
  uint32_t sort_type = 0, container_id = 0, current_rec = 0;
  int32_t delta = 0;
  uint32_t num_pos = 0, total_recs = 0, code_page = 1252, template_locale = 0x409, sort_locale = 0x409;
  friend bool operator==(const Stat&, const Stat&) = default;
};
Stat read_stat(BinaryReader& r);
void write_stat(BinaryWriter& w, const Stat& s);

// Positions (MS-OXNSPI 2.2.1.8) and ANR results (2.2.1.9).
inline constexpr uint32_t MID_BEGINNING_OF_TABLE = 0, MID_CURRENT = 1, MID_END_OF_TABLE = 2;
inline constexpr uint32_t MID_UNRESOLVED = 0, MID_AMBIGUOUS = 1, MID_RESOLVED = 2;

// The MS-OXCMAPIHTTP 2.2.1 address-book value forms: AddressBookPropertyValue (a HasValue
// byte before strings, binaries and multi-values; 32-bit counts), AddressBookPropertyRow,
// AddressBookPropertyValueList. PtypErrorCode values travel as their code.
void write_value(BinaryWriter& w, const PropValue& v);
PropValue read_value(BinaryReader& r, PropTag tag);
void write_row(BinaryWriter& w, const std::vector<PropTag>& columns, const std::vector<PropValue>& values);
void write_value_list(BinaryWriter& w, const std::vector<PropValue>& values);

// MS-OXNSPI 2.2.9.3 PermanentEntryID and 2.2.9.2 EphemeralEntryID.
extern const Guid kNspiGuid;  // GUID_NSPI {C840A7DC-42C0-1A10-B4B9-08002B2FE182}
Bytes permanent_entry_id(uint32_t display_type, const std::string& dn);
Bytes ephemeral_entry_id(const Guid& server, uint32_t display_type, uint32_t mid);

// One entry of the Global Address List.
struct GalEntry {
  uint32_t mid = 0;
  std::string address, display_name, legacy_dn;
};

// The Global Address List: the users, in display-name order (then address).
class Gal {
 public:
  Gal(const std::vector<User>& users, const std::string& organization);
  const std::vector<GalEntry>& entries() const { return entries_; }
  std::optional<size_t> index_of(uint32_t mid) const;
  const GalEntry* find(uint32_t mid) const;
  const GalEntry* find_dn(std::string_view dn) const;
  // Ambiguous name resolution (see the top of this file); "=SMTP:x" and "SMTP:x" look for x.
  std::vector<const GalEntry*> resolve(std::string_view text) const;

 private:
  std::vector<GalEntry> entries_;
};

// What the properties of an entry depend on besides the entry.
struct AbContext {
  Guid server_guid;
  std::string organization;
  bool ephemeral = false;  // fEphID: PidTagEntryId as an Ephemeral Entry ID
};
// The value of `tag` for `e` (the type the column asks: String8 for 0x001E columns, String for
// 0x001F and PtypUnspecified), or nullopt.
std::optional<PropValue> property(const GalEntry& e, PropTag tag, const AbContext& ctx);
// The properties a mail user has (PtypString for strings).
std::vector<PropTag> property_list();

}  // namespace nspi

class Nspi {
 public:
  // `base_url`: https://host:port for GetMailboxUrl / GetAddressBookUrl.
  Nspi(ServerConfig config, std::string base_url);
  HttpReply handle(const HttpRequest& req, const User& user);
  size_t context_count();

  static constexpr std::chrono::minutes kContextLifetime{30};
  static constexpr const char* kCookie = "NspiContext";

 private:
  struct Context {
    std::string user;  // the address, lower case
    std::chrono::steady_clock::time_point last_use;
    uint32_t flags = 0;
    nspi::Gal gal;
  };
  std::string mailbox_id(const User& user);
  void expire();

  ServerConfig config_;
  std::string base_url_;
  Guid server_guid_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Context>> contexts_;  // by cookie value
};

}  // namespace openmapi::server
