// Shared plumbing for the command-line tools: data directory layout,
// passphrases, keys, opening the ledger, progress bars and output.
#ifndef TRACELEDGER_TOOLS_CLI_SUPPORT_H_
#define TRACELEDGER_TOOLS_CLI_SUPPORT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "wallet/key.h"

namespace traceledger::tools {

// Exit codes, stable for scripts (docs/CLI.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;  // record rejected, audit failed, not found
inline constexpr int kExitUsage = 2;     // bad flags or arguments
inline constexpr int kExitFailure = 3;   // I/O, storage, keystore failures

// Thrown by helpers to end the command with a message and exit code; main
// catches it once.
struct CliError : std::runtime_error {
  CliError(int code, const std::string& message) : std::runtime_error(message), exit_code(code) {}
  int exit_code;
};

// <data>/ledger is the LevelDB directory, <data>/operator.key the
// operator's keystore.
struct DataDir {
  std::string root;
  std::string LedgerPath() const { return root + "/ledger"; }
  std::string OperatorKeyPath() const { return root + "/operator.key"; }
};

// Passphrase for a keystore: from --passphrase-file if given, else the
// environment variable `env_name` (then TRACELEDGER_PASSPHRASE), else an
// interactive prompt without echo when stdin is a terminal.
std::string GetPassphrase(const std::string& passphrase_file, const char* env_name, const std::string& prompt,
                          bool confirm = false);

wallet::SecretKey LoadKey(const std::string& path, const std::string& passphrase_file,
                          const char* env_name = "TRACELEDGER_PASSPHRASE");

// Opens the ledger; with_signer loads the operator key to seal blocks.
std::unique_ptr<ledger::Ledger> OpenLedger(const DataDir& dir, bool with_signer,
                                           const std::string& passphrase_file);

// "\r[#####.....]  45%  1234/2500 records  52,000/s" on stderr when it is a
// terminal; nothing otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(std::string unit);
  void Update(uint64_t done, uint64_t total);
  void Finish();

 private:
  std::string unit_;
  bool enabled_;
  int64_t start_ms_;
  int64_t last_ms_ = 0;
};

int64_t NowMs();
std::string ReadFileOrThrow(const std::string& path);

// Pretty JSON of a stored record, with its id, index and height.
std::string DescribeRecord(const ledger::StoredRecord& stored);

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_CLI_SUPPORT_H_
