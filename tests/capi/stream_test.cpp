// OpenStreamOnFile (src/capi/stream.cpp): an IStream on a file as the MAPI reference and IStream's
// COM contract describe it, checked against the file itself.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

// test_util.h (it brings core/error.h, whose ErrorCode names the Windows headers define as macros)
// comes before them.
#include "test_util.h"

#include "mapiguid.h"
#include "mapiutil.h"

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

LARGE_INTEGER li(int64_t v) {
  LARGE_INTEGER x;
  x.QuadPart = v;
  return x;
}

}  // namespace

TEST(CapiStream, WriteSeekReadStatAndTheFileAgrees) {
  openmapi::testing::TempDir dir;
  const std::string path = dir.file("body.rtf");
  LPSTREAM s = nullptr;
  ASSERT_EQ(OpenStreamOnFile(MAPIAllocateBuffer, MAPIFreeBuffer, STGM_READWRITE | STGM_CREATE, path.c_str(), nullptr, &s), S_OK);
  ULONG n = 0;
  ASSERT_EQ(s->Write("Hello, stream", 13, &n), S_OK);
  EXPECT_EQ(n, 13u);
  ULARGE_INTEGER at{};
  ASSERT_EQ(s->Seek(li(7), STREAM_SEEK_SET, &at), S_OK);
  EXPECT_EQ(at.QuadPart, 7u);
  char buf[32] = {};
  ASSERT_EQ(s->Read(buf, sizeof buf, &n), S_OK);  // past the end: fewer bytes, still S_OK
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(std::string(buf, n), "stream");
  ASSERT_EQ(s->Seek(li(-6), STREAM_SEEK_END, &at), S_OK);
  EXPECT_EQ(at.QuadPart, 7u);
  EXPECT_EQ(s->Seek(li(-100), STREAM_SEEK_CUR, &at), STG_E_SEEKERROR);  // before the start
  EXPECT_EQ(s->Commit(STGC_DEFAULT), S_OK);
  EXPECT_EQ(slurp(path), "Hello, stream");
  STATSTG st{};
  ASSERT_EQ(s->Stat(&st, STATFLAG_DEFAULT), S_OK);
  EXPECT_EQ(st.type, DWORD(STGTY_STREAM));
  EXPECT_EQ(st.cbSize.QuadPart, 13u);
  ASSERT_NE(st.pwcsName, nullptr);
  EXPECT_EQ(std::u16string(st.pwcsName).substr(std::u16string(st.pwcsName).size() - 8), u"body.rtf");
  MAPIFreeBuffer(st.pwcsName);
  ULARGE_INTEGER five{};
  five.QuadPart = 5;
  ASSERT_EQ(s->SetSize(five), S_OK);
  EXPECT_EQ(slurp(path), "Hello");
  // Clone: its own position, the same file.
  LPSTREAM c = nullptr;
  ASSERT_EQ(s->Clone(&c), S_OK);
  ASSERT_EQ(c->Seek(li(0), STREAM_SEEK_SET, nullptr), S_OK);
  ASSERT_EQ(c->Read(buf, 5, &n), S_OK);
  EXPECT_EQ(std::string(buf, n), "Hello");
  // CopyTo another stream.
  LPSTREAM copy = nullptr;
  const std::string copy_path = dir.file("copy.bin");
  ASSERT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_WRITE | STGM_CREATE, copy_path.c_str(), nullptr, &copy), S_OK);
  ASSERT_EQ(c->Seek(li(0), STREAM_SEEK_SET, nullptr), S_OK);
  ULARGE_INTEGER all{}, r{}, w{};
  all.QuadPart = 1000;
  ASSERT_EQ(c->CopyTo(copy, all, &r, &w), S_OK);
  EXPECT_EQ(r.QuadPart, 5u);
  EXPECT_EQ(w.QuadPart, 5u);
  copy->Release();
  EXPECT_EQ(slurp(copy_path), "Hello");
  void* same = nullptr;
  EXPECT_EQ(s->QueryInterface(IID_IStream, &same), S_OK);
  EXPECT_EQ(same, s);
  s->Release();
  EXPECT_EQ(s->Release(), 0u);  // gone; the clone is an object of its own and still reads
  ASSERT_EQ(c->Seek(li(1), STREAM_SEEK_SET, nullptr), S_OK);
  ASSERT_EQ(c->Read(buf, 4, &n), S_OK);
  EXPECT_EQ(std::string(buf, n), "ello");
  EXPECT_EQ(c->Release(), 0u);
}

TEST(CapiStream, AccessModesAndBadArgumentsAreRefused) {
  openmapi::testing::TempDir dir;
  const std::string path = dir.file("ro.txt");
  std::ofstream(path) << "read only";
  LPSTREAM s = nullptr;
  ASSERT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ, path.c_str(), nullptr, &s), S_OK);
  ULONG n = 0;
  EXPECT_EQ(s->Write("x", 1, &n), STG_E_ACCESSDENIED);
  EXPECT_EQ(slurp(path), "read only");
  s->Release();
  EXPECT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ, dir.file("missing").c_str(), nullptr, &s), STG_E_FILENOTFOUND);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ, dir.path().c_str(), nullptr, &s), STG_E_ACCESSDENIED);  // a directory
  EXPECT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ, nullptr, nullptr, &s), STG_E_INVALIDPARAMETER);
  EXPECT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ, path.c_str(), nullptr, nullptr), STG_E_INVALIDPOINTER);
  EXPECT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ | STGM_CREATE, path.c_str(), nullptr, &s), STG_E_INVALIDPARAMETER);
}

TEST(CapiStream, AUniqueFileInADirectoryGoesWithItsLastRelease) {
  openmapi::testing::TempDir dir;
  LPSTREAM s = nullptr;
  ASSERT_EQ(OpenStreamOnFile(nullptr, nullptr, SOF_UNIQUEFILENAME | STGM_READWRITE | STGM_DELETEONRELEASE, dir.path().c_str(), "att",
                             &s),
            S_OK);
  ULONG n = 0;
  ASSERT_EQ(s->Write("temp", 4, &n), S_OK);
  std::string made;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) made = e.path().filename().string();
  EXPECT_EQ(made.rfind("att", 0), 0u) << made;
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / made).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // a temporary file only its owner reads
  s->Release();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / made));
  EXPECT_EQ(OpenStreamOnFile(nullptr, nullptr, SOF_UNIQUEFILENAME | STGM_READWRITE, dir.path().c_str(), "a/b", &s), STG_E_INVALIDPARAMETER);
}

// WrapCompressedRTFStream on real PR_RTF_COMPRESSED streams of the corpus, against the RTF the
// peer decompressor (decompressrtf) made of them; then writing RTF back through it.
TEST(CapiRtf, CorpusStreamsReadAsThePeerDecompressesThemAndWritesGoBackCompressed) {
  const std::filesystem::path corpus = std::filesystem::path(OPENMAPI_SHARED_DIR) / "corpus";
  size_t compared = 0;
  for (const auto& e : std::filesystem::directory_iterator(corpus / "rtf")) {
    if (e.path().extension() != ".lzfu") continue;
    const auto expected = corpus / "expected" / "rtf" / (e.path().filename().string() + ".decompressrtf.rtf");
    if (!std::filesystem::exists(expected)) continue;
    SCOPED_TRACE(e.path().filename().string());
    LPSTREAM packed = nullptr;
    ASSERT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ, e.path().c_str(), nullptr, &packed), S_OK);
    LPSTREAM rtf = nullptr;
    const HRESULT hr = WrapCompressedRTFStream(packed, 0, &rtf);
    packed->Release();
    if (hr != S_OK) {
      ADD_FAILURE() << "WrapCompressedRTFStream: 0x" << std::hex << uint32_t(hr);
      continue;
    }
    std::string got;
    char buf[4096];
    ULONG n = 0;
    while (rtf->Read(buf, sizeof buf, &n) == S_OK && n) got.append(buf, n);
    EXPECT_EQ(got, slurp(expected.string()));
    ULONG w = 0;
    EXPECT_EQ(rtf->Write("x", 1, &w), STG_E_ACCESSDENIED);  // without MAPI_MODIFY
    rtf->Release();
    ++compared;
  }
  EXPECT_GE(compared, 10u);

  // A new PR_RTF_COMPRESSED: RTF written, committed, read back through a second wrap.
  openmapi::testing::TempDir dir;
  const std::string path = dir.file("rtf.bin");
  LPSTREAM packed = nullptr;
  ASSERT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READWRITE | STGM_CREATE, path.c_str(), nullptr, &packed), S_OK);
  LPSTREAM rtf = nullptr;
  ASSERT_EQ(WrapCompressedRTFStream(packed, MAPI_MODIFY, &rtf), S_OK);
  const std::string body = "{\\rtf1\\ansi\\ansicpg1252\\deff0 {\\fonttbl{\\f0 Arial;}}\\f0 Hello from a MAPI program.\\par}";
  ULONG w = 0;
  ASSERT_EQ(rtf->Write(body.data(), ULONG(body.size()), &w), S_OK);
  ASSERT_EQ(rtf->Commit(STGC_DEFAULT), S_OK);
  rtf->Release();
  const std::string stored = slurp(path);
  ASSERT_GE(stored.size(), 16u);
  EXPECT_EQ(stored.substr(8, 4), "LZFu");  // MS-OXRTFCP 2.1.3.1.1: COMPTYPE of a compressed stream
  LARGE_INTEGER zero;
  zero.QuadPart = 0;
  ASSERT_EQ(packed->Seek(zero, STREAM_SEEK_SET, nullptr), S_OK);
  ASSERT_EQ(WrapCompressedRTFStream(packed, 0, &rtf), S_OK);
  std::string back(body.size() + 10, '\0');
  ULONG n = 0;
  ASSERT_EQ(rtf->Read(back.data(), ULONG(back.size()), &n), S_OK);
  back.resize(n);
  EXPECT_EQ(back, body);
  rtf->Release();
  packed->Release();

  // Damage: a header that claims more than there is.
  const std::string bad_path = dir.file("bad.bin");
  std::ofstream(bad_path, std::ios::binary) << std::string("\xFF\xFF\x00\x00\x10\x00\x00\x00LZFu\x00\x00\x00\x00garbage", 23);
  ASSERT_EQ(OpenStreamOnFile(nullptr, nullptr, STGM_READ, bad_path.c_str(), nullptr, &packed), S_OK);
  EXPECT_EQ(WrapCompressedRTFStream(packed, 0, &rtf), MAPI_E_CORRUPT_DATA);
  EXPECT_EQ(rtf, nullptr);
  EXPECT_EQ(WrapCompressedRTFStream(packed, 0x40, &rtf), MAPI_E_UNKNOWN_FLAGS);
  packed->Release();
}
