// Runs the real tracectl binary for end-to-end tests (tests/tools/):
// posix_spawn in a temporary directory, stdin from /dev/null (never a TTY)
// or from given text, only the environment a test gives it; and a fixture
// with a ledger driven through it. Exit codes: tools/cli_support.h.
#ifndef TRACELEDGER_TESTS_TOOLS_TRACECTL_HARNESS_H_
#define TRACELEDGER_TESTS_TOOLS_TRACECTL_HARNESS_H_

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
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "ledger/canonical_json.h"
#include "tests/temp_dir.h"
#include "tools/cli_support.h"  // the exit codes (constants only; nothing linked)

extern char** environ;

namespace traceledger::tools::harness {

using ledger::Json;

// Two different passphrases, so a test notices when the wrong one is used.
inline constexpr const char* kOperatorPass = "operator passphrase 1";
inline constexpr const char* kAuthorPass = "author passphrase 2";

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

// Runs tracectl with `args`. The child sees the parent's environment minus
// every TRACELEDGER_* variable, plus `env`; stdin is /dev/null, or a file
// holding `stdin_text` when given. Killed with SIGKILL after
// `kill_after_ms` when given (a crash test), else after 60 s as a failure.
inline RunResult Tracectl(const std::vector<std::string>& args, const Env& env = {},
                          const std::optional<std::string>& stdin_text = std::nullopt,
                          std::optional<int> kill_after_ms = std::nullopt) {
  RunResult result;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "TRACELEDGER_", 12) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env) env_strings.push_back(std::string(k).append("=").append(v));
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string program = TRACELEDGER_TRACECTL;
  std::vector<std::string> argv_strings = {program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

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
  int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
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
      if (!kill_after_ms) ADD_FAILURE() << "tracectl did not finish within 60 s";
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

using traceledger::testing::TempDir;

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline Json ParseJsonOrFail(const std::string& text) {
  auto parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "not JSON:\n" << text;
  return parsed;
}

// "accepted <kind> <id> (index N, block H)" → id; fails the test otherwise.
inline std::string AcceptedId(const RunResult& r, const std::string& kind) {
  static const std::regex kLine(R"(accepted ([a-z_]+) ([0-9a-f]{64}) \(index \d+, block \d+\)\n)");
  std::smatch m;
  if (!std::regex_match(r.out, m, kLine)) {
    ADD_FAILURE() << "expected one \"accepted " << kind << " ...\" line:\n" << r.Describe();
    return {};
  }
  EXPECT_EQ(m[1].str(), kind);
  return m[2].str();
}

// A ledger in a temp dir, driven through tracectl. Env holds both
// passphrases: TRACELEDGER_OPERATOR_PASSPHRASE for the operator key that
// seals blocks, TRACELEDGER_PASSPHRASE for the author key that signs.
class CliTest : public ::testing::Test {
 protected:
  std::string Data() const { return dir_ / "data"; }
  std::string OperatorKey() const { return dir_ / "data/operator.key"; }

  Env AuthorEnv() const {
    return {{"TRACELEDGER_OPERATOR_PASSPHRASE", kOperatorPass}, {"TRACELEDGER_PASSPHRASE", kAuthorPass}};
  }

  RunResult Run(std::vector<std::string> args, const Env& env) {
    args.insert(args.begin(), {"-d", Data()});
    return Tracectl(args, env);
  }

  void Init() {
    RunResult r = Run({"init"}, AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    EXPECT_NE(r.out.find("created ledger"), std::string::npos) << r.out;
    ASSERT_TRUE(std::filesystem::exists(OperatorKey()));
  }

  // keygen -o <dir>/<name>.key under the author passphrase.
  std::string Keygen(const std::string& name) {
    std::string file = dir_ / (name + ".key");
    RunResult r = Tracectl({"keygen", "-o", file}, AuthorEnv());
    EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
    EXPECT_NE(r.out.find("key id"), std::string::npos) << r.out;
    return file;
  }

  // The author key is the operator's own keystore, so it is unlocked with
  // TRACELEDGER_OPERATOR_PASSPHRASE, not the author variable (which holds
  // another passphrase here).
  std::string Register(const std::string& party, const std::string& role, const std::string& key_file) {
    RunResult r = Run({"register", "--key", OperatorKey(), "--party", party, "--name", party + " Ltd",
                       "--roles", role, "--public-key-from", key_file},
                      AuthorEnv());
    EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
    return AcceptedId(r, "party");
  }

  // Appends a product (Tea by Acme) for `gtin`, signed by `key_file`.
  void AppendProduct(const std::string& key_file, const std::string& gtin) {
    RunResult r =
        Run({"append", "product", "--key", key_file, "--gtin", gtin, "--name", "Tea", "--brand", "Acme",
             "--origin-country", "CN", "--production-site", "Fuding", "--manufacturer", "Acme"},
            AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  }

  // Appends lot `lot` of `gtin` (produced 2026-11-01), signed by `key_file`.
  void AppendLot(const std::string& key_file, const std::string& gtin, const std::string& lot,
                 const std::string& quantity = "1000") {
    RunResult r = Run({"append", "lot", "--key", key_file, "--gtin", gtin, "--lot", lot, "--production-date",
                       "2026-11-01", "--quantity", quantity},
                      AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  }

  TempDir dir_;
};

}  // namespace traceledger::tools::harness

#endif  // TRACELEDGER_TESTS_TOOLS_TRACECTL_HARNESS_H_
