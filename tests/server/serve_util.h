// `openmapi serve` as a child process for the tests that meet it over loopback with real
// clients (curl, swaks): shell helpers, and the server started, awaited and stopped.
#pragma once
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace openmapi::testing {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `s` as one shell word.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Out {
  int status = -1;
  std::string text;  // stdout and stderr
};

inline Out sh(const std::string& cmd) {
  Out o;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  const int rc = p ? pclose(p) : -1;
  o.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return o;
}

// Adds a user with its mailbox to the data directory `data` through the CLI (`user add
// ADDRESS --display-name NAME --password-stdin`), as an administrator would.
inline Out add_user(const std::filesystem::path& data, const std::string& address, const std::string& name, const std::string& password) {
  return sh("printf '%s\\n' " + quote(password) + " | " + quote(OPENMAPI_BIN) + " --data-dir " + quote(data.string()) + " user add " + address +
            " --display-name " + quote(name) + " --password-stdin");
}

// The server, its output in <dir>/out and <dir>/err.
class ServerProcess {
 public:
  ~ServerProcess() { stop(); }
  // Starts `openmapi --data-dir DATA serve ARGS...`; waits (30 s at most) until it has said
  // "listening on" for each of `protos` (https, smtp, lmtp ...). Returns false (with the log in
  // `why`) when it exits or does not get there.
  bool start(const std::filesystem::path& dir, const std::filesystem::path& data, const std::vector<std::string>& args,
             const std::vector<std::string>& protos, std::string& why) {
    dir_ = dir;
    // A restart in the same directory must not read the last run's "listening on".
    std::ofstream(dir / "out", std::ios::trunc).flush();
    std::ofstream(dir / "err", std::ios::trunc).flush();
    pid_ = fork();
    if (pid_ < 0) return why = "fork failed", false;
    if (pid_ == 0) {
      // A test binary that dies (a crash, an abort) takes its server with it.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      std::vector<std::string> argv = {OPENMAPI_BIN, "--data-dir", data.string(), "serve"};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      FILE* out = freopen((dir / "out").c_str(), "w", stdout);
      FILE* err = freopen((dir / "err").c_str(), "w", stderr);
      (void)out;
      (void)err;
      execv(OPENMAPI_BIN, cargv.data());
      _exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      const std::string err = log();
      bool all = true;
      for (const auto& p : protos) all = all && !port_in(err, p).empty();
      if (all) return true;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return why = "the server exited: " + err, false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return why = "the server did not start: " + log(), false;
  }
  // The port the server said it listens on for `proto` (the first such listener), or "".
  std::string port(const std::string& proto) const { return port_in(log(), proto); }
  std::string log() const { return slurp(dir_ / "err"); }
  pid_t pid() const { return pid_; }
  // SIGTERM, then its exit status (-1 when it had to be killed).
  int stop() {
    if (pid_ <= 0) return 0;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
  }
  // Takes over a server the test started itself (stop() then ends it).
  void adopt(pid_t pid) { pid_ = pid; }
  // Forgets a server that was killed by other means.
  void reap() {
    if (pid_ <= 0) return;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  static std::string port_in(const std::string& log, const std::string& proto) {
    const std::regex re("listening on " + proto + "://127\\.0\\.0\\.1:([0-9]+)");
    std::smatch m;
    return std::regex_search(log, m, re) ? std::string(m[1]) : std::string();
  }
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

}  // namespace openmapi::testing
