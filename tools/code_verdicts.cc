#include "tools/code_verdicts.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "ledger/state.h"
#include "qrcode/ledger_lookup.h"
#include "tools/cli_support.h"
#include "wallet/keystore.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

// An --issuer-key value: 64 hex digits, a keystore file (its clear public
// key), or a file holding 64 hex digits.
wallet::PublicKey IssuerKeyFlag(const std::string& value) {
  if (auto key = wallet::PublicKey::FromHex(value)) return *key;
  std::error_code ec;
  if (!std::filesystem::exists(value, ec)) {
    throw CliError(kExitUsage, "--issuer-key: \"" + value + "\" is neither 64 hex digits nor a file");
  }
  if (auto key = wallet::ReadKeystorePublicKey(value); key.ok()) return *key;
  std::string text = ReadFileOrThrow(value);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (auto key = wallet::PublicKey::FromHex(text)) return *key;
  throw CliError(kExitUsage, "--issuer-key: " + value + " holds neither a keystore nor a 64-hex public key");
}

}  // namespace

CodeChecker::CodeChecker(const GlobalFlags& g, const std::vector<std::string>& issuer_keys) {
  if (!issuer_keys.empty()) {
    std::vector<wallet::PublicKey> keys;
    for (const auto& value : issuer_keys) keys.push_back(IssuerKeyFlag(value));
    issuers_ = std::make_unique<qrcode::KeyListLookup>(std::move(keys));
    return;
  }
  const DataDir dir{g.data};
  std::error_code ec;
  if (!std::filesystem::is_directory(dir.LedgerPath(), ec)) {
    throw CliError(kExitUsage, "no ledger at " + dir.LedgerPath() +
                                   ": give --data DIR (or TRACELEDGER_DATA), or --issuer-key KEY to check "
                                   "signatures offline, or --decode-only to print the codes without a verdict");
  }
  ledger_ = OpenLedger(dir, /*with_signer=*/false, g.passphrase_file);
  issuers_ = std::make_unique<qrcode::LedgerIssuerLookup>(*ledger_);
  statuses_ = std::make_unique<qrcode::LedgerStatusLookup>(*ledger_);
}

CodeChecker::~CodeChecker() = default;

qrcode::VerifyResult CodeChecker::Check(std::string_view text) {
  qrcode::VerifyResult r = qrcode::VerifyCode(text, *issuers_, statuses_.get());
  ++total_;
  good_ += r.Good() ? 1 : 0;
  errors_ += r.verdict == qrcode::Verdict::kError ? 1 : 0;
  return r;
}

void CodeChecker::Print(const qrcode::VerifyResult& r, bool json, const Json& extra,
                        std::string_view indent, bool show_text) const {
  if (json) {
    Json out = qrcode::ToJson(r);
    for (const auto& [k, v] : extra.items()) out[k] = v;
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    const bool genuine = r.verdict == qrcode::Verdict::kGenuine;
    std::string what = genuine ? (statuses_ ? std::string(qrcode::StatusName(r.status.status)) : "signature_ok")
                               : std::string(r.ReasonName());
    std::string detail = r.message;
    if (genuine && statuses_) detail += "; " + r.status.message;
    const std::string ind(indent);
    const std::string text = show_text ? ledger::PrintableKey(r.text) : "";
    std::printf("%s%-9s  %-21s  %s\n%s           %s\n", ind.c_str(),
                std::string(qrcode::VerdictName(r.verdict)).c_str(), what.c_str(), text.c_str(), ind.c_str(),
                ledger::PrintableKey(detail).c_str());
  }
  std::fflush(stdout);
}

void CodeChecker::PrintSummary() const {
  std::fprintf(stderr, "%llu code(s): %llu %s, %llu not\n", static_cast<unsigned long long>(total_),
               static_cast<unsigned long long>(good_), statuses_ ? "genuine and valid" : "genuine",
               static_cast<unsigned long long>(total_ - good_));
}

int CodeChecker::ExitCode() const {
  if (errors_ > 0) return kExitFailure;
  return good_ == total_ ? kExitOk : kExitRejected;
}

}  // namespace traceledger::tools
