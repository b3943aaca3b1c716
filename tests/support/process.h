// SPDX-License-Identifier: Apache-2.0
//
// Running the real kefu executable from tests, and a minimal HTTP/1.1 client for loopback.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace kefu::test {

// A child process whose stdout and stderr go to files.
class Process {
 public:
  Process(std::vector<std::string> args, const std::filesystem::path& outFile,
          const std::filesystem::path& errFile, std::string stdinText = "")
      : out_(outFile), err_(errFile) {
    int in[2];
    if (pipe(in) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      close(in[1]);
      int o = open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, 1);
      dup2(e, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    if (!stdinText.empty()) {
      (void)!write(in[1], stdinText.data(), stdinText.size());
    }
    close(in[1]);
  }
  ~Process() {
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  bool running() {
    if (exited_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
      return false;
    }
    return true;
  }

  void signal(int sig) { kill(pid_, sig); }

  // Waits for exit; returns the exit code, or nullopt on timeout (or -signal if killed).
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    return -WTERMSIG(status_);
  }

  std::string out() const { return readFile(out_); }
  std::string err() const { return readFile(err_); }

  // Waits until stdout says "serving on http://127.0.0.1:PORT"; returns PORT or 0.
  int waitForPort(std::chrono::milliseconds timeout) {
    static const std::regex re(R"(serving on http://127\.0\.0\.1:(\d+))");
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      std::smatch m;
      std::string text = out();
      if (std::regex_search(text, m, re)) return std::stoi(m[1]);
      if (!running()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::filesystem::path out_, err_;
};

struct HttpResult {
  int status = 0;
  std::string headers;
  std::string body;
};

// One request on a fresh connection to 127.0.0.1:port.
inline HttpResult http(int port, const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers = {},
                       const std::string& body = "") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {};
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n" + body;
  (void)!write(fd, req.data(), req.size());
  std::string raw;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  HttpResult r;
  auto sp = raw.find(' ');
  if (sp == std::string::npos) return r;
  r.status = std::stoi(raw.substr(sp + 1, 3));
  auto split = raw.find("\r\n\r\n");
  r.headers = raw.substr(0, split);
  if (split != std::string::npos) r.body = raw.substr(split + 4);
  return r;
}

}  // namespace kefu::test
