// OpenStreamOnFile (capi/include/mapiutil.h): an IStream over a POSIX file descriptor.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "mapiguid.h"
#include "mapiutil.h"
#include "capi/memory_stream.h"

namespace {

HRESULT from_errno(int e) {
  switch (e) {
    case ENOENT: case ENOTDIR: return STG_E_FILENOTFOUND;
    case EACCES: case EPERM: case EROFS: return STG_E_ACCESSDENIED;
    case EMFILE: case ENFILE: return STG_E_TOOMANYOPENFILES;
    case EEXIST: return STG_E_FILEALREADYEXISTS;
    case ENOSPC: case EDQUOT: return STG_E_MEDIUMFULL;
    case ENOMEM: return STG_E_INSUFFICIENTMEMORY;
    default: return STG_E_INVALIDFUNCTION;
  }
}

FILETIME filetime_of(const struct timespec& t) {
  const uint64_t v = (uint64_t(t.tv_sec) + 11644473600ull) * 10000000ull + uint64_t(t.tv_nsec) / 100;
  return FILETIME{DWORD(v), DWORD(v >> 32)};
}

class FileStream final : public openmapi::capi::ComObject<FileStream, IStream, IID_IStream> {
 public:
  FileStream(int fd, std::string path, DWORD mode, bool delete_on_release, LPALLOCATEBUFFER allocate)
      : fd_(fd), path_(std::move(path)), mode_(mode), delete_(delete_on_release), allocate_(allocate ? allocate : MAPIAllocateBuffer) {}
  ~FileStream() {
    ::close(fd_);
    if (delete_) ::unlink(path_.c_str());
  }


  HRESULT STDMETHODCALLTYPE Read(void* pv, ULONG cb, ULONG* read) override {
    if (read) *read = 0;
    if (!pv && cb) return STG_E_INVALIDPOINTER;
    if ((mode_ & 3) == STGM_WRITE) return STG_E_ACCESSDENIED;
    ULONG done = 0;
    while (done < cb) {
      const ssize_t n = ::pread(fd_, static_cast<char*>(pv) + done, cb - done, off_t(pos_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return STG_E_READFAULT;
      if (n == 0) break;  // the end: fewer bytes, S_OK (as COM streams do)
      done += ULONG(n);
      pos_ += uint64_t(n);
    }
    if (read) *read = done;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Write(const void* pv, ULONG cb, ULONG* written) override {
    if (written) *written = 0;
    if (!pv && cb) return STG_E_INVALIDPOINTER;
    if ((mode_ & 3) == STGM_READ) return STG_E_ACCESSDENIED;
    ULONG done = 0;
    while (done < cb) {
      const ssize_t n = ::pwrite(fd_, static_cast<const char*>(pv) + done, cb - done, off_t(pos_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno == ENOSPC || errno == EDQUOT ? STG_E_MEDIUMFULL : STG_E_WRITEFAULT;
      done += ULONG(n);
      pos_ += uint64_t(n);
    }
    if (written) *written = done;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Seek(LARGE_INTEGER move, DWORD origin, ULARGE_INTEGER* at) override {
    int64_t base = 0;
    if (origin == STREAM_SEEK_CUR) base = int64_t(pos_);
    else if (origin == STREAM_SEEK_END) {
      struct stat st {};
      if (::fstat(fd_, &st) != 0) return STG_E_SEEKERROR;
      base = st.st_size;
    } else if (origin != STREAM_SEEK_SET) {
      return STG_E_INVALIDFUNCTION;
    }
    const int64_t target = base + move.QuadPart;
    if (target < 0 || (move.QuadPart > 0 && target < base)) return STG_E_SEEKERROR;  // before the start, or overflow
    pos_ = uint64_t(target);
    if (at) at->QuadPart = pos_;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE SetSize(ULARGE_INTEGER size) override {
    if ((mode_ & 3) == STGM_READ) return STG_E_ACCESSDENIED;
    if (size.QuadPart > uint64_t(INT64_MAX)) return STG_E_INVALIDFUNCTION;
    return ::ftruncate(fd_, off_t(size.QuadPart)) == 0 ? S_OK : from_errno(errno);
  }
  HRESULT STDMETHODCALLTYPE CopyTo(IStream* to, ULARGE_INTEGER cb, ULARGE_INTEGER* read, ULARGE_INTEGER* written) override {
    return openmapi::capi::copy_stream(this, to, cb, read, written);
  }
  // What was written is on disk when Commit returns (the stream is not transacted: writes go to
  // the file at once).
  HRESULT STDMETHODCALLTYPE Commit(DWORD) override { return ::fdatasync(fd_) == 0 ? S_OK : STG_E_WRITEFAULT; }
  HRESULT STDMETHODCALLTYPE Revert() override { return S_OK; }
  HRESULT STDMETHODCALLTYPE LockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }
  HRESULT STDMETHODCALLTYPE UnlockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }
  HRESULT STDMETHODCALLTYPE Stat(STATSTG* st, DWORD flag) override {
    if (!st) return STG_E_INVALIDPOINTER;
    std::memset(st, 0, sizeof *st);
    struct stat info {};
    if (::fstat(fd_, &info) != 0) return from_errno(errno);
    st->type = STGTY_STREAM;
    st->cbSize.QuadPart = uint64_t(info.st_size);
    st->mtime = filetime_of(info.st_mtim);
    st->ctime = filetime_of(info.st_ctim);
    st->atime = filetime_of(info.st_atim);
    st->grfMode = mode_;
    if (flag != STATFLAG_NONAME) {
      // The name in UTF-16, allocated with the stream's allocator.
      std::u16string name;
      for (size_t i = 0; i < path_.size();) {
        uint32_t c = static_cast<unsigned char>(path_[i]);
        const int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        c &= extra ? (0x3F >> extra) : 0x7F;
        for (int k = 1; k <= extra && i + k < path_.size(); ++k) c = c << 6 | (static_cast<unsigned char>(path_[i + k]) & 0x3F);
        i += size_t(extra) + 1;
        if (c >= 0x10000) {
          c -= 0x10000;
          name += char16_t(0xD800 + (c >> 10));
          name += char16_t(0xDC00 + (c & 0x3FF));
        } else {
          name += char16_t(c);
        }
      }
      void* p = nullptr;
      if (allocate_(ULONG((name.size() + 1) * sizeof(WCHAR)), &p) != S_OK) return STG_E_INSUFFICIENTMEMORY;
      std::memcpy(p, name.c_str(), (name.size() + 1) * sizeof(WCHAR));
      st->pwcsName = static_cast<LPOLESTR>(p);
    }
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Clone(IStream** out) override {
    if (!out) return STG_E_INVALIDPOINTER;
    *out = nullptr;
    const int fd = ::dup(fd_);
    if (fd < 0) return from_errno(errno);
    auto* c = new FileStream(fd, path_, mode_, false, allocate_);  // the original removes the file, if anyone
    c->pos_ = pos_;
    *out = c;
    return S_OK;
  }

 private:
  int fd_;
  std::string path_;
  DWORD mode_;
  bool delete_;
  LPALLOCATEBUFFER allocate_;
  uint64_t pos_ = 0;
};

}  // namespace

extern "C" HRESULT STDAPICALLTYPE OpenStreamOnFile(LPALLOCATEBUFFER allocate, LPFREEBUFFER, ULONG flags, LPCSTR file, LPCSTR prefix,
                                                   LPSTREAM* out) {
  if (!out) return STG_E_INVALIDPOINTER;
  *out = nullptr;
  const DWORD access = flags & 3;
  if (access > STGM_READWRITE) return STG_E_INVALIDPARAMETER;
  int oflags = access == STGM_READ ? O_RDONLY : access == STGM_WRITE ? O_WRONLY : O_RDWR;
  oflags |= O_CLOEXEC;
  std::string path;
  if (flags & SOF_UNIQUEFILENAME) {
    // A new file in the directory `file` (the temporary directory when NULL) named prefix + a unique part.
    std::string dir = file && *file ? file : (std::getenv("TMPDIR") && *std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    if (dir.back() != '/') dir += '/';
    const std::string p = prefix ? prefix : "";
    if (p.find('/') != std::string::npos) return STG_E_INVALIDPARAMETER;
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
      char unique[17];
      std::snprintf(unique, sizeof unique, "%08x%08x", rd(), rd());
      path = dir + p + unique + ".tmp";
      const int fd = ::open(path.c_str(), (oflags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL, 0600);
      if (fd >= 0) {
        *out = new FileStream(fd, path, DWORD(flags & ~SOF_UNIQUEFILENAME), (flags & STGM_DELETEONRELEASE) != 0, allocate);
        return S_OK;
      }
      if (errno != EEXIST) return from_errno(errno);
    }
    return STG_E_FILEALREADYEXISTS;
  }
  if (!file || !*file) return STG_E_INVALIDPARAMETER;
  path = file;
  if (flags & STGM_CREATE) {
    if (access == STGM_READ) return STG_E_INVALIDPARAMETER;  // creating a file to read only
    oflags |= O_CREAT | O_TRUNC;
  }
  const int fd = ::open(path.c_str(), oflags, 0666);
  if (fd < 0) return from_errno(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return STG_E_ACCESSDENIED;  // a directory or a device is no stream here
  }
  *out = new FileStream(fd, path, DWORD(flags), (flags & STGM_DELETEONRELEASE) != 0, allocate);
  return S_OK;
}
