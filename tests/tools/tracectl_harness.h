// Runs the real tracectl binary for end-to-end tests (tests/tools/):
// posix_spawn in a temporary directory, stdin from /dev/null (never a TTY)
// or from given text, only the environment a test gives it; and a fixture
// with a ledger driven through it. Exit codes: tools/cli_support.h.
#ifndef TRACELEDGER_TESTS_TOOLS_TRACECTL_HARNESS_H_
#define TRACELEDGER_TESTS_TOOLS_TRACECTL_HARNESS_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "ledger/canonical_json.h"
#include "tests/temp_dir.h"
#include "tests/tools/subprocess.h"
#include "tools/cli_support.h"  // the exit codes (constants only; nothing linked)

namespace traceledger::tools::harness {

using ledger::Json;

// Two different passphrases, so a test notices when the wrong one is used.
inline constexpr const char* kOperatorPass = "operator passphrase 1";
inline constexpr const char* kAuthorPass = "author passphrase 2";

using tools::Env;
using tools::RunResult;

// Runs tracectl with `args` (tests/tools/subprocess.h RunProgram: a clean
// TRACELEDGER_* environment plus `env`, optional stdin text, optional kill).
inline RunResult Tracectl(const std::vector<std::string>& args, const Env& env = {},
                          const std::optional<std::string>& stdin_text = std::nullopt,
                          std::optional<int> kill_after_ms = std::nullopt) {
  return RunProgram(TRACELEDGER_TRACECTL, args, env, stdin_text, kill_after_ms);
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

  // A ledger with two merchants, "acme" (key merchant_) and "globex"
  // (key other_), and acme's product `gtin`: the start of the code tests.
  void InitTwoMerchantsWithProduct(const std::string& gtin) {
    ASSERT_NO_FATAL_FAILURE(Init());
    merchant_ = Keygen("merchant");
    other_ = Keygen("other");
    Register("acme", "merchant", merchant_);
    Register("globex", "merchant", other_);
    ASSERT_NO_FATAL_FAILURE(AppendProduct(merchant_, gtin));
  }

  TempDir dir_;
  std::string merchant_, other_;  // set by InitTwoMerchantsWithProduct
};

}  // namespace traceledger::tools::harness

#endif  // TRACELEDGER_TESTS_TOOLS_TRACECTL_HARNESS_H_
