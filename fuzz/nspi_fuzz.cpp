// The NSPI request decoders (server/nspi.h), through the handler: the first byte picks the
// request type, the rest is its body, run against one context of a data directory with three
// users (made once). Any answer is fine; a crash, a hang, an exception other than the ones the
// handler turns into X-ResponseCode, or an allocation for a size that is not there is not.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "core/error.h"
#include "server/nspi.h"
#include "server/users.h"

using namespace openmapi;
using namespace openmapi::server;

namespace {

const char* const kTypes[] = {"Bind",     "Unbind",     "CompareMIds",  "DNToMId",           "GetMatches",  "GetPropList",
                              "GetProps", "GetSpecialTable", "GetTemplateInfo", "ModLinkAtt", "ModProps", "QueryColumns",
                              "QueryRows", "ResolveNames", "ResortRestriction", "SeekEntries", "UpdateStat", "GetMailboxUrl",
                              "GetAddressBookUrl"};

struct World {
  std::filesystem::path dir;
  User user;
  std::unique_ptr<Nspi> nspi;
  std::string cookie;
  World() {
    dir = std::filesystem::temp_directory_path() / ("openmapi-nspi-fuzz-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    ServerConfig config;
    config.data_dir = dir.string();
    UserDirectory users(dir.string(), true);
    user = users.add("alice@example.com", "Alice Example", "pw");
    users.add("bob@example.com", "Bob Builder", "pw");
    users.add("marley@example.com", "Bob Marley", "pw");
    nspi = std::make_unique<Nspi>(config, "https://localhost");
    HttpReply r = nspi->handle(request("Bind", std::string(4 + 1 + 4, '\0')), user);
    const std::string sc(r.msg[http::field::set_cookie]);
    cookie = sc.substr(0, sc.find(';'));
  }
  ~World() { std::filesystem::remove_all(dir); }
  HttpRequest request(const std::string& type, std::string body) const {
    HttpRequest req;
    req.msg.method(http::verb::post);
    req.msg.set("X-RequestType", type);
    req.msg.set("X-RequestId", "{1}:1");
    if (!cookie.empty()) req.msg.set(http::field::cookie, cookie);
    req.msg.body() = std::move(body);
    return req;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  if (size < 1) return 0;
  const std::string type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  if (type == "Unbind" || type == "Bind") return 0;  // keep the one context (Bind's decoder runs at start-up)
  HttpReply r = world.nspi->handle(world.request(type, std::string(reinterpret_cast<const char*>(data + 1), size - 1)), world.user);
  (void)r;
  return 0;
}
