// The ROP processor (server/rops.h) on hostile ROP input buffers, against a real mailbox in a
// temporary data directory: a MapiError or a response, never a crash, a hang or an allocation
// for a claimed size. The session is renewed every 500 inputs so that state stays bounded.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "server/frontend.h"
#include "server/rops.h"
#include "server/users.h"

namespace {
openmapi::server::ServerConfig config;
openmapi::server::User user;
std::unique_ptr<openmapi::server::RopSession> session;
size_t runs = 0;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string dir = (std::filesystem::temp_directory_path() / ("openmapi-rops-fuzz-" + std::to_string(getpid()))).string();
  std::filesystem::remove_all(dir);
  config.data_dir = dir;
  openmapi::server::UserDirectory users(dir, true);
  user = users.add("fuzz@example.com", "Fuzz", "pw");
  std::atexit([] {
    session.reset();
    std::filesystem::remove_all(config.data_dir);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!session || ++runs % 500 == 0) session = std::make_unique<openmapi::server::RopSession>(config, user);
  try {
    session->execute(openmapi::ByteView(data, size), 0x8000);
  } catch (const openmapi::MapiError&) {
  }
  return 0;
}
