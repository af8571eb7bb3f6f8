// What the benchmarks that drive a real `openmapi serve` share: the server as a child process on
// an HTTPS listener of the loopback, found by the port its log names.
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

namespace openmapi::bench {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ServeChild {
  pid_t pid = -1;
  std::string port;  // empty: the server did not start (its stderr is in DIR/err)
};

// `BIN --data-dir DIR serve --config DIR/serve.conf --listen https=127.0.0.1:0`, stderr to DIR/err;
// waits up to 30 s for "listening on https://127.0.0.1:PORT" in DIR/err or DIR/serve.log (the
// config's log_file, if it names that). A server that does not get there is killed.
inline ServeChild start_serve(const std::string& bin, const std::filesystem::path& dir) {
  ServeChild c;
  c.pid = fork();
  if (c.pid == 0) {
    FILE* err = freopen((dir / "err").c_str(), "w", stderr);
    (void)err;
    execl(bin.c_str(), bin.c_str(), "--data-dir", dir.c_str(), "serve", "--config", (dir / "serve.conf").c_str(), "--listen",
          "https=127.0.0.1:0", static_cast<char*>(nullptr));
    _exit(127);
  }
  static const std::regex re("listening on https://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 600 && c.port.empty(); ++i) {
    std::smatch m;
    const std::string log = slurp(dir / "err") + slurp(dir / "serve.log");
    if (std::regex_search(log, m, re)) c.port = m[1];
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (c.port.empty() && c.pid > 0) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
  }
  return c;
}

}  // namespace openmapi::bench
