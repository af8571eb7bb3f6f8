#include "cli/output_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace fs = std::filesystem;

namespace openmapi::cli {

namespace {

constexpr const char* kSuffix = ".openmapi-tmp";

// The temporary files of live OutputFiles, for the signal handler: fixed storage, because a
// handler may only call async-signal-safe functions (unlink, signal, raise).
constexpr int kSlots = 16;
char g_paths[kSlots][PATH_MAX];
volatile sig_atomic_t g_used[kSlots];
int g_live = 0;
struct sigaction g_old_int, g_old_term;

void on_signal(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_used[i]) unlink(g_paths[i]);
  signal(sig, SIG_DFL);
  raise(sig);
}

int register_temp(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kSlots; ++i)
    if (!g_used[i]) {
      std::memcpy(g_paths[i], path.c_str(), path.size() + 1);
      g_used[i] = 1;
      if (g_live++ == 0) {
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &g_old_int);
        sigaction(SIGTERM, &sa, &g_old_term);
      }
      return i;
    }
  return -1;  // more than kSlots at once: this one is not cleaned up on a signal
}

void unregister_temp(int slot) {
  if (slot < 0) return;
  g_used[slot] = 0;
  if (--g_live == 0) {
    sigaction(SIGINT, &g_old_int, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
  }
}

// Removes "<name>.<pid>.openmapi-tmp" files beside `target` whose process is gone (killed with
// SIGKILL while writing), and "<name>.openmapi-tmp" ones that builds before pids left.
void remove_stale(const fs::path& target) {
  std::error_code ec;
  const std::string name = target.filename().string();
  std::vector<fs::path> gone;  // removed after the walk: removing while reading a directory may skip entries
  for (const auto& e : fs::directory_iterator(target.parent_path().empty() ? fs::path(".") : target.parent_path(), ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() < name.size() + std::strlen(kSuffix) || f.compare(0, name.size(), name) != 0 ||
        f.compare(f.size() - std::strlen(kSuffix), std::string::npos, kSuffix) != 0)
      continue;
    const std::string middle = f.substr(name.size(), f.size() - name.size() - std::strlen(kSuffix));  // ".<pid>" or ""
    bool stale = middle.empty();
    if (!stale && middle.size() > 1 && middle[0] == '.' && middle.find_first_not_of("0123456789", 1) == std::string::npos) {
      const long pid = std::strtol(middle.c_str() + 1, nullptr, 10);
      stale = pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH;
    }
    if (stale) gone.push_back(e.path());
  }
  for (const auto& p : gone) fs::remove(p, ec);
}

}  // namespace

OutputFile::OutputFile(const std::string& target) {
  if (target == "-") {
    target_ = write_path_ = "/dev/stdout";
    direct_ = true;
    return;
  }
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::path(target), ec);  // follows symlinks, also dangling ones
  if (ec) resolved = fs::absolute(fs::path(target));
  target_ = resolved.string();
  const fs::file_status st = fs::status(resolved, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    if (fs::is_directory(st)) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "'" + target + "' is a directory");
    write_path_ = target_;  // a device, a FIFO, a socket: written straight to, never replaced
    direct_ = true;
    return;
  }
  if (fs::exists(st)) {
    mode_ = int(st.permissions() & fs::perms::all);
  } else {
    const mode_t mask = umask(0);  // what a plain open would give a new file
    umask(mask);
    mode_ = int(0666 & ~mask);
  }
  // A bare file name is in the current directory.
  const fs::path dir = resolved.parent_path().empty() ? fs::path(".") : resolved.parent_path();
  if (!fs::is_directory(dir, ec)) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "cannot write '" + target + "': '" + dir.string() + "' is not a directory");
  remove_stale(resolved);
  write_path_ = target_ + "." + std::to_string(getpid()) + kSuffix;
  // Created owner-only, so that what is written for a 0600 target is never readable by others;
  // commit() gives it the target's bits.
  const int fd = open(write_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "cannot write '" + write_path_ + "': " + std::strerror(errno));
  close(fd);
  slot_ = register_temp(write_path_);
}

OutputFile::~OutputFile() {
  if (direct_) return;
  if (!committed_) {
    std::error_code ec;
    fs::remove(write_path_, ec);
  }
  unregister_temp(slot_);
}

void OutputFile::commit() {
  if (direct_ || committed_) return;
  auto fail = [&](const std::string& what) {
    const std::string why = std::strerror(errno);
    std::error_code ec;
    fs::remove(write_path_, ec);
    throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot " + what + " '" + target_ + "': " + why);
  };
  // On disk before it takes the target's name, so that a crash leaves the old file or the new.
  const int fd = open(write_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("write");
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced) fail("flush");
  if (chmod(write_path_.c_str(), mode_t(mode_)) != 0) fail("set the permissions of");
  if (rename(write_path_.c_str(), target_.c_str()) != 0) fail("replace");
  committed_ = true;
  const int dir = open(fs::path(target_).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);  // the rename itself (best effort: some file systems refuse a directory fsync)
    close(dir);
  }
}

void write_output(const std::string& target, ByteView data) {
  OutputFile file(target);
  {
    std::ofstream out(file.path(), std::ios::binary | (file.direct() ? std::ios::openmode{} : std::ios::trunc));
    if (!out) throw_error(ErrorCode::MAPI_E_NO_ACCESS, "cannot write '" + target + "'");
    out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
    out.flush();
    if (!out) throw_error(ErrorCode::MAPI_E_DISK_ERROR, "cannot write '" + target + "'");
  }
  file.commit();
}

}  // namespace openmapi::cli
