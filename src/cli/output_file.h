// Where a command's output goes, written so that a failure, SIGINT or SIGTERM leaves the target
// as it was and no temporary file behind.
//
// A regular file (or a path that does not exist yet) is written to a temporary file beside it,
// "<target>.<pid>.openmapi-tmp", and renamed over it by commit(); a symlink is followed (the
// file it points to is replaced, the link stays), and the replaced file's permission bits are
// kept (a new file gets 0666 less the umask, as a plain open would). Anything else — a device
// such as /dev/null, a FIFO, a terminal — and "-" (standard output) is written straight to it,
// never replaced.
//
// Temporary files of a process killed with SIGKILL are removed the next time any command writes
// beside them (those whose process is gone). While an OutputFile is live, SIGINT and SIGTERM
// remove its temporary file before the process ends with the signal.
//
// Errors: MAPI_E_NO_ACCESS when the target or its directory cannot be written (with the path),
// MAPI_E_DISK_ERROR when a write, flush or rename fails. Not thread-safe; one process may hold
// several at once.
#pragma once
#include <string>

#include "core/bytes.h"

namespace openmapi::cli {

class OutputFile {
 public:
  explicit OutputFile(const std::string& target);
  ~OutputFile();  // removes the temporary file unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // The path to write: the temporary file, or the target itself when it is written directly
  // ("/dev/stdout" for "-").
  const std::string& path() const { return write_path_; }
  // Whether path() is the target itself (not a regular file: nothing to rename).
  bool direct() const { return direct_; }
  // Makes the written file the target (flushes it to disk and renames it over the target).
  void commit();

 private:
  std::string target_;      // the target with symlinks resolved
  std::string write_path_;  // where the bytes go
  bool direct_ = false;
  bool committed_ = false;
  int mode_ = 0;   // the permission bits the target gets
  int slot_ = -1;  // in the signal handler's list of temporary files
};

// Writes `data` to `target` through an OutputFile.
void write_output(const std::string& target, ByteView data);

}  // namespace openmapi::cli
