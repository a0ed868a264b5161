#include "tools/cli_support.h"

#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "wallet/keystore.h"

namespace traceledger::tools {
namespace {

std::string PromptNoEcho(const std::string& prompt) {
  std::fprintf(stderr, "%s", prompt.c_str());
  termios old_term{};
  bool restore = tcgetattr(STDIN_FILENO, &old_term) == 0;
  if (restore) {
    termios quiet = old_term;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (restore) tcsetattr(STDIN_FILENO, TCSANOW, &old_term);
  std::fprintf(stderr, "\n");
  return line;
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadFileOrThrow(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError(kExitFailure, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string GetPassphrase(const std::string& passphrase_file, const char* env_name, const std::string& prompt,
                          bool confirm) {
  if (!passphrase_file.empty()) {
    std::string text = ReadFileOrThrow(passphrase_file);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }
  for (const char* name : {env_name, "TRACELEDGER_PASSPHRASE"}) {
    if (name == nullptr) continue;
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  }
  if (!isatty(STDIN_FILENO)) {
    std::string vars = env_name != nullptr ? std::string(env_name) + " or TRACELEDGER_PASSPHRASE"
                                           : std::string("TRACELEDGER_PASSPHRASE");
    throw CliError(kExitUsage, "no passphrase: set " + vars + ", or pass --passphrase-file");
  }
  std::string first = PromptNoEcho(prompt);
  if (confirm && PromptNoEcho("Repeat passphrase: ") != first) {
    throw CliError(kExitUsage, "passphrases do not match");
  }
  return first;
}

wallet::SecretKey LoadKey(const std::string& path, const std::string& passphrase_file, const char* env_name) {
  std::string pass = GetPassphrase(passphrase_file, env_name, "Passphrase for " + path + ": ");
  auto key = wallet::LoadKeystore(path, pass);
  if (!key.ok()) throw CliError(kExitFailure, key.error().message);
  return std::move(key).value();
}

std::unique_ptr<ledger::Ledger> OpenLedger(const DataDir& dir, bool with_signer,
                                           const std::string& passphrase_file) {
  std::optional<wallet::SecretKey> signer;
  if (with_signer) {
    // The operator key seals blocks; it has its own variable so that a
    // script can hold both the operator's and an author's passphrase.
    signer = LoadKey(dir.OperatorKeyPath(), passphrase_file, "TRACELEDGER_OPERATOR_PASSPHRASE");
  }
  auto ledger = ledger::Ledger::Open(ledger::LedgerOptions{.path = dir.LedgerPath()}, std::move(signer));
  if (!ledger.ok()) {
    int code = ledger.error().code == ledger::LedgerErrorCode::kNoGenesis ? kExitUsage : kExitFailure;
    throw CliError(code, ledger.error().message);
  }
  return std::move(ledger).value();
}

ProgressBar::ProgressBar(std::string unit)
    : unit_(std::move(unit)), enabled_(isatty(STDERR_FILENO) != 0), start_ms_(NowMs()) {}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  int64_t now = NowMs();
  if (now - last_ms_ < 100 && done != total) return;
  last_ms_ = now;
  double secs = static_cast<double>(std::max<int64_t>(1, now - start_ms_)) / 1000.0;
  double rate = static_cast<double>(done) / secs;
  if (total > 0) {
    int width = 30;
    int filled =
        static_cast<int>(static_cast<double>(width) * static_cast<double>(done) / static_cast<double>(total));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(static_cast<size_t>(width), '.');
    std::fprintf(stderr, "\r[%s] %3d%%  %llu/%llu %s  %.0f/s   ", bar.c_str(),
                 static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), unit_.c_str(),
                 rate);
  } else {
    std::fprintf(stderr, "\r%llu %s  %.0f/s   ", static_cast<unsigned long long>(done), unit_.c_str(), rate);
  }
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (enabled_) std::fprintf(stderr, "\n");
}

std::string DescribeRecord(const ledger::StoredRecord& stored) {
  const ledger::Record& r = stored.record;
  ledger::Json out = {{"id", r.IdHex()},         {"index", stored.index},
                      {"height", stored.height}, {"kind", std::string(ledger::KindName(r.kind))},
                      {"author", r.author},      {"time", r.time},
                      {"body", r.body}};
  return out.dump(2);
}

}  // namespace traceledger::tools
