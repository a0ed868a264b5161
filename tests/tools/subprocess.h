// Running the project's programs from tests: one-shot runs that capture
// exit code, stdout and stderr, and background servers that announce their
// address on stdout.
#ifndef TRACELEDGER_TESTS_TOOLS_SUBPROCESS_H_
#define TRACELEDGER_TESTS_TOOLS_SUBPROCESS_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace traceledger::tools {

// argv and envp for posix_spawn: the parent's environment minus every
// TRACELEDGER_* variable, plus `env`.
struct SpawnArgs {
  std::vector<std::string> env_strings, argv_strings;
  std::vector<char*> envp, argv;

  SpawnArgs(const std::string& program, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env) {
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "TRACELEDGER_", 12) != 0) env_strings.emplace_back(*e);
    }
    for (const auto& [k, v] : env) env_strings.push_back(std::string(k).append("=").append(v));
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    argv_strings = {program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
  }
};

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal (see signal)
  int signal = 0;
  std::string out;
  std::string err;

  // For failure messages.
  std::string Describe() const {
    std::string s =
        signal != 0 ? "killed by signal " + std::to_string(signal) : "exit " + std::to_string(exit_code);
    return s + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
  }
};

using Env = std::map<std::string, std::string>;

// Runs `program` with `args` and waits for it. The child sees the parent's
// environment minus every TRACELEDGER_* variable, plus `env`; stdin is
// /dev/null, or a file holding `stdin_text` when given. Killed with SIGKILL
// after `kill_after_ms` when given (a crash test), else after 60 s as a
// test failure.
inline RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                            const Env& env = {}, const std::optional<std::string>& stdin_text = std::nullopt,
                            std::optional<int> kill_after_ms = std::nullopt) {
  RunResult result;
  SpawnArgs spawn(program, args, env);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string stdin_path = "/dev/null";
  if (stdin_text) {
    char tmpl[] = "/tmp/tl-stdin-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0 ||
        ::write(fd, stdin_text->data(), stdin_text->size()) != static_cast<ssize_t>(stdin_text->size())) {
      ADD_FAILURE() << "cannot write the child's standard input";
    }
    if (fd >= 0) ::close(fd);
    stdin_path = tmpl;
  }
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  pid_t pid = 0;
  int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, spawn.argv.data(), spawn.envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ADD_FAILURE() << "posix_spawn " << program << ": " << std::strerror(spawned);
    return result;
  }

  const auto give_up =
      std::chrono::steady_clock::now() +
      (kill_after_ms ? std::chrono::milliseconds(*kill_after_ms) : std::chrono::milliseconds(60'000));
  pollfd fds[2] = {{.fd = out_pipe[0], .events = POLLIN, .revents = 0},
                   {.fd = err_pipe[0], .events = POLLIN, .revents = 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      if (!kill_after_ms) ADD_FAILURE() << program << " did not finish within 60 s";
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (stdin_text) ::unlink(stdin_path.c_str());
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

// A server started in the background. Start() waits (up to 30 s) for a
// stdout line starting with `ready_prefix` and returns the rest of it;
// stderr goes to the test's stderr. The destructor kills it (SIGKILL).
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  ~BackgroundProcess() { Kill(); }

  std::string Start(const std::string& program, const std::vector<std::string>& args, const Env& env,
                    const std::string& ready_prefix) {
    SpawnArgs spawn(program, args, env);
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    int spawned =
        ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, spawn.argv.data(), spawn.envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    if (spawned != 0) {
      ::close(out_pipe[0]);
      pid_ = 0;
      ADD_FAILURE() << "posix_spawn " << program << ": " << std::strerror(spawned);
      return {};
    }
    out_fd_ = out_pipe[0];
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string buffer;
    while (std::chrono::steady_clock::now() < give_up) {
      for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
        if (buffer.compare(0, ready_prefix.size(), ready_prefix) == 0)
          return buffer.substr(ready_prefix.size(), nl - ready_prefix.size());
      }
      pollfd fd{.fd = out_fd_, .events = POLLIN, .revents = 0};
      if (::poll(&fd, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      buffer.append(buf, static_cast<size_t>(n));
    }
    ADD_FAILURE() << program << " did not print \"" << ready_prefix << "\"";
    return {};
  }

  // Waits for the process to end; returns the signal that ended it (0 if
  // it exited), or -1 if it did not end within `seconds`.
  int WaitForSignal(int seconds) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (pid_ != 0 && std::chrono::steady_clock::now() < give_up) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = 0;
        return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      }
      ::usleep(10000);
    }
    return -1;
  }

  void Kill() {
    if (pid_ != 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = 0;
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
  }

 private:
  pid_t pid_ = 0;
  int out_fd_ = -1;
};

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TESTS_TOOLS_SUBPROCESS_H_
