// Exporting a PST to .eml files: OpenMAPI (`openmapi pst export`), readpst (-e: one .eml per
// message) and pffexport, run on the same files in one run, at two sizes, so that both the
// throughput (messages/s, MB/s) and the peak memory (max RSS of the process) can be compared
// and seen to stay flat as the PST grows.
//
// Usage: pst_bench [--messages N] [--dir DIR]   (files of N/4 and N messages, default 4000, each
// written twice: as a permute-encoded PST and as a 4K-page OST with deflated blocks)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/filetime.h"
#include "formats/pst/pst_writer.h"

using namespace openmapi;
namespace fs = std::filesystem;

namespace {

Message synthetic(std::mt19937_64& rng, int i) {
  static const char* words[] = {"report", "budget", "meeting", "Grüße", "plan", "review", "draft", "zebra", "quarterly", "lunch"};
  auto text = [&](size_t n) {
    std::string s;
    while (s.size() < n) s += std::string(words[rng() % 10]) + " ";
    return s;
  };
  Message m;
  m.props.set(PropValue::string(tags::PidTagMessageClass, "IPM.Note"));
  std::string subject = text(20 + rng() % 40);
  m.props.set(PropValue::string(tags::PidTagSubject, subject));
  m.props.set(PropValue::string(tags::PidTagNormalizedSubject, subject));
  m.props.set(PropValue::string(tags::PidTagSenderName, "Sender " + std::to_string(i % 50)));
  m.props.set(PropValue::string(tags::PidTagSenderEmailAddress, "sender" + std::to_string(i % 50) + "@example.com"));
  m.props.set(PropValue::string(tags::PidTagSenderAddressType, "SMTP"));
  m.props.set(PropValue::time(tags::PidTagMessageDeliveryTime, *parse_filetime("2025-01-01") + int64_t(i) * 600'000'000LL));
  m.props.set(PropValue::time(tags::PidTagClientSubmitTime, *parse_filetime("2025-01-01") + int64_t(i) * 600'000'000LL));
  m.props.set(PropValue::string(tags::PidTagBody, text(1000 + rng() % 3000)));
  m.props.set(PropValue::i32(tags::PidTagMessageFlags, 1));
  for (int r = 0; r < 2; ++r) {
    std::string name = "Recipient ", address = "r";  // (appends: GCC 12 warns falsely on "lit" + string)
    name += std::to_string(r);
    address += std::to_string(r);
    address += "@example.org";
    m.recipients.push_back(PropertyBag{PropValue::i32(tags::PidTagRecipientType, r + 1),
                                       PropValue::string(tags::PidTagDisplayName, name),
                                       PropValue::string(tags::PidTagEmailAddress, address),
                                       PropValue::string(tags::PidTagAddressType, "SMTP")});
  }
  if (rng() % 10 < 3) {
    Attachment a;
    Bytes data(2000 + rng() % 8000);
    for (auto& b : data) b = uint8_t(rng());
    a.props.set(PropValue::i32(tags::PidTagAttachMethod, attach_method::ByValue));
    a.props.set(PropValue::string(tags::PidTagAttachLongFilename, "file" + std::to_string(i) + ".bin"));
    a.props.set(PropValue::binary(tags::PidTagAttachDataBinary, std::move(data)));
    m.attachments.push_back(std::move(a));
  }
  return m;
}

void make_pst(const fs::path& path, int n, bool four_k) {
  std::mt19937_64 rng(7);
  pst::PstWriterOptions o;
  if (four_k) {
    o.four_k = true;
    o.crypt = pst::CryptMethod::None;
  }
  pst::PstWriter w(path.string(), o);
  pst::FolderId inbox = w.add_folder(w.ipm_subtree(), "Inbox", "IPF.Note");
  pst::FolderId archive = w.add_folder(inbox, "Archive", "IPF.Note");
  NamedPropertyMap names;
  for (int i = 0; i < n; ++i) w.add_message(i % 3 ? inbox : archive, synthetic(rng, i), names);
  w.finish();
}

struct Run {
  double seconds = 0;
  long max_rss_kb = 0;
  int status = -1;
};

Run run(const std::vector<std::string>& argv) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  Run r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.max_rss_kb = ru.ru_maxrss;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

size_t count_files(const fs::path& dir, const std::string& ext) {
  size_t n = 0;
  if (fs::exists(dir))
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file() && (ext.empty() || e.path().extension() == ext)) ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 4000;
  fs::path dir = fs::temp_directory_path() / "openmapi-pst-bench";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--messages" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else {
      std::fprintf(stderr, "usage: pst_bench [--messages N] [--dir DIR]\n");
      return 2;
    }
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::printf("| file | messages | MiB | tool | seconds | messages/s | MB/s | peak RSS MiB | files out |\n");
  std::printf("|---|---:|---:|---|---:|---:|---:|---:|---:|\n");
  for (bool four_k : {false, true})
  for (int size : {n / 4, n}) {
    const char* kind = four_k ? "4K OST, deflated" : "PST, permute";
    fs::path pst = dir / ("bench-" + std::to_string(size) + (four_k ? ".ost" : ".pst"));
    make_pst(pst, size, four_k);
    double mb = double(fs::file_size(pst)) / 1e6;
    struct Tool {
      const char* name;
      std::vector<std::string> argv;
      fs::path out;
      const char* ext;
    };
    const std::string tag = std::to_string(size) + (four_k ? "-4k" : "");
    fs::path o1 = dir / ("openmapi-" + tag), o2 = dir / ("readpst-" + tag), o3 = dir / ("pffexport-" + tag);
    fs::create_directories(o2);
    std::vector<Tool> tools = {
        {"openmapi pst export", {OPENMAPI_BIN, "pst", "export", pst.string(), o1.string()}, o1, ".eml"},
        {"readpst -j 0 -e", {"readpst", "-j", "0", "-e", "-q", "-o", o2.string(), pst.string()}, o2, ".eml"},
        {"pffexport", {"pffexport", "-q", "-t", o3.string(), pst.string()}, o3, ""},
    };
    for (const auto& t : tools) {
      Run r = run(t.argv);
      size_t files = count_files(t.out.string() + (std::string(t.name) == "pffexport" ? ".export" : ""), t.ext);
      std::printf("| %s | %d | %.1f | %s | %.2f | %.0f | %.1f | %.1f | %zu%s |\n", kind, size, mb / 1.048576, t.name, r.seconds,
                  size / r.seconds, mb / r.seconds, r.max_rss_kb / 1024.0, files, r.status ? " (exit != 0)" : "");
      std::fflush(stdout);
    }
  }
  if (!std::getenv("PST_BENCH_KEEP")) fs::remove_all(dir);
  return 0;
}
