// Verdicts on code texts, reached and printed the same way by `tracectl
// verify` (texts typed or read from a file) and `tracectl scan` (texts
// decoded from images): one qrcode::VerifyCode per text, against the ledger
// or, offline, against --issuer-key public keys. See docs/CLI.md §9.
#ifndef TRACELEDGER_TOOLS_CODE_VERDICTS_H_
#define TRACELEDGER_TOOLS_CODE_VERDICTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "qrcode/verify.h"
#include "tools/commands.h"

namespace traceledger::tools {

// Checks code texts and prints one verdict per text on stdout, keeping the
// tally that decides the exit code.
class CodeChecker {
 public:
  // Offline when `issuer_keys` is not empty (each 64 hex digits, a keystore
  // or a file holding the hex; CliError kExitUsage otherwise): signatures
  // only, no status. Else opens the ledger of `g.data` read-only; CliError
  // kExitUsage when there is none.
  CodeChecker(const GlobalFlags& g, const std::vector<std::string>& issuer_keys);
  ~CodeChecker();

  // Verifies `text` and counts the result.
  qrcode::VerifyResult Check(std::string_view text);

  // Prints `r`: with --json one line, qrcode::ToJson(r) with `extra`'s
  // members added; else two lines (verdict, reason or status, the text
  // unless `show_text` is false; then the message), each prefixed by
  // `indent`. Texts are escaped (ledger::PrintableKey).
  void Print(const qrcode::VerifyResult& r, bool json, const ledger::Json& extra = ledger::Json::object(),
             std::string_view indent = "", bool show_text = true) const;

  // "N code(s): G genuine and valid, B not" on stderr.
  void PrintSummary() const;

  // True when statuses are looked up (a ledger is open).
  bool ChecksStatus() const { return statuses_ != nullptr; }

  uint64_t total() const { return total_; }
  uint64_t good() const { return good_; }
  uint64_t errors() const { return errors_; }

  // kExitFailure if a lookup failed, else kExitOk when every code checked
  // was genuine (and valid, when statuses are checked), else kExitRejected.
  int ExitCode() const;

 private:
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<qrcode::IssuerLookup> issuers_;
  std::unique_ptr<qrcode::StatusLookup> statuses_;
  uint64_t total_ = 0, good_ = 0, errors_ = 0;
};

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_CODE_VERDICTS_H_
