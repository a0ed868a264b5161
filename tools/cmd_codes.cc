// tracectl's code commands: `codes issue`, `codes show` and `verify`.
// See docs/CLI.md §9 and docs/FORMAT.md §14.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "chain/hash.h"
#include "ledger/schema.h"
#include "ledger/state.h"
#include "qrcode/code.h"
#include "qrcode/issuance.h"
#include "qrcode/verify.h"
#include "tools/cli_support.h"
#include "tools/code_images.h"
#include "tools/code_verdicts.h"
#include "tools/commands.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

struct IssueFlags {
  std::string key_file;
  std::string gtin;
  std::string lot;
  std::string batch;
  uint64_t count = 0;
  std::string out;
  bool pins = false;
  std::string resolver = std::string(qrcode::kDefaultResolver);
  size_t threads = 0;
  ImageFlags images;
};

struct VerifyFlags {
  std::vector<std::string> texts;
  std::string input;
  std::vector<std::string> issuer_keys;
};

// Text as it can be shown on a terminal: bytes outside printable ASCII
// (and '\\') as \\xNN, so a hostile code cannot send escape sequences.
std::string Printable(std::string_view text) { return ledger::PrintableKey(text); }

std::string GtinFlag(const std::string& text) {
  auto padded = qrcode::PadGtin(text);
  if (!padded) throw CliError(kExitUsage, "--gtin: \"" + text + "\" is not a GTIN-8, -12, -13 or -14");
  if (!ledger::IsValidGtin14(*padded)) {
    throw CliError(kExitUsage, "--gtin: check digit of " + text + " is " + std::string(1, padded->back()) +
                                   ", expected " +
                                   std::to_string(ledger::Gs1CheckDigit(padded->substr(0, 13))));
  }
  return *padded;
}

int ExitFor(const qrcode::IssueError& e) {
  switch (e.code) {
    case qrcode::IssueErrorCode::kInvalid:
    case qrcode::IssueErrorCode::kExists:
      return kExitUsage;
    case qrcode::IssueErrorCode::kRejected:
      return kExitRejected;
    default:
      return kExitFailure;
  }
}

// Test-only: TRACELEDGER_TEST_CRASH_AT=<step> kills the process with
// SIGKILL right after that issuance step (qrcode/issuance.h), so the crash
// tests can stop it at every phase.
std::function<void(std::string_view)> CrashHookFromEnv() {
  const char* at = std::getenv("TRACELEDGER_TEST_CRASH_AT");
  if (at == nullptr || *at == '\0') return {};
  std::string step = at;
  return [step](std::string_view now) {
    if (now == step) ::kill(::getpid(), SIGKILL);
  };
}

int RunIssue(const GlobalFlags& g, const IssueFlags& f) {
  if (f.key_file.empty())
    throw CliError(kExitUsage, "--key is required: the merchant's keystore signs the codes");
  const std::string gtin = GtinFlag(f.gtin);
  if (!qrcode::IsValidCodeValue(f.lot)) {
    throw CliError(kExitUsage, "--lot: \"" + f.lot + "\" must be 1..20 characters of the GS1 set (CSET 82)");
  }
  if (f.count < 1 || f.count > qrcode::kMaxIssueCount) {
    throw CliError(kExitUsage, "--count: must be 1.." + std::to_string(qrcode::kMaxIssueCount));
  }
  if (auto problem = qrcode::ResolverProblem(f.resolver))
    throw CliError(kExitUsage, "--resolver: " + *problem);
  // Image options are checked before anything is committed.
  const ImagePlan images = CheckImageFlags(f.images);
  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) throw CliError(kExitFailure, "--out: cannot create " + f.out + ": " + ec.message());

  wallet::SecretKey key = LoadKey(f.key_file, g.passphrase_file);
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/true, g.passphrase_file);

  // Settle whatever an interrupted run left in the output directory first.
  auto recovered = qrcode::RecoverPending(*ledger, f.out);
  if (!recovered.ok()) throw CliError(ExitFor(recovered.error()), recovered.error().message);
  for (const auto& stem : recovered->finished) {
    std::cerr << "recovered: batch " << stem << " was on the ledger; its manifest is now complete\n";
  }
  for (const auto& stem : recovered->discarded) {
    std::cerr << "recovered: batch " << stem << " never reached the ledger; its leftovers were removed\n";
  }
  for (const auto& stem : recovered->skipped) {
    std::cerr << "note: " << f.out << " holds an unfinished batch " << stem
              << " of another ledger; left alone\n";
  }

  const int64_t now_s = NowMs() / 1000;
  qrcode::IssueRequest request{.gtin = gtin,
                               .lot = f.lot,
                               .batch = f.batch.empty() ? qrcode::NewBatchId(now_s) : f.batch,
                               .count = f.count,
                               .pins = f.pins,
                               .resolver = f.resolver,
                               .out_dir = f.out,
                               .time_s = now_s};
  ProgressBar bar("codes signed");
  bool committing = false;
  qrcode::IssueOptions options{.threads = f.threads, .after_step = CrashHookFromEnv()};
  options.progress = [&](const qrcode::IssueProgress& p) {
    if (p.phase == "signing") {
      bar.Update(p.done, p.total);
    } else if (!committing) {
      committing = true;
      bar.Finish();
      if (isatty(STDERR_FILENO)) std::cerr << "committing " << p.total << " part(s) to the ledger...\n";
    }
  };
  auto summary = qrcode::IssueCodes(*ledger, key, request, options);
  if (!committing) bar.Finish();
  if (!summary.ok()) {
    const auto& e = summary.error();
    if (g.json && e.reject) {
      std::cout << Json{{"issued", false},
                        {"error",
                         {{"code", std::string(ledger::RejectCodeName(e.reject->code))},
                          {"field", e.reject->field},
                          {"message", e.message}}}}
                       .dump()
                << "\n";
    }
    throw CliError(ExitFor(e),
                   e.code == qrcode::IssueErrorCode::kRejected ? "rejected: " + e.message : e.message);
  }
  const auto& s = *summary;
  // The batch is on the ledger and its manifest complete: the images are
  // rendered from the manifest, and `codes images` redoes this step.
  std::optional<ImagesWritten> written;
  if (images.Any()) {
    try {
      written = WriteImagesFromManifest(images, s.jsonl_path, f.out);
    } catch (const CliError& e) {
      throw CliError(e.exit_code, std::string(e.what()) + "\nthe " + std::to_string(s.count) +
                                      " codes are issued; render their images with: tracectl codes images "
                                      "--manifest " + s.jsonl_path + " ...");
    }
  }
  if (g.json) {
    Json parts = Json::array();
    for (const auto& p : s.parts) {
      parts.push_back({{"id", chain::HashHex(p.id)}, {"index", p.index}, {"height", p.height}});
    }
    Json out = {{"issued", true},   {"gtin", gtin},     {"lot", f.lot},
                {"batch", s.batch}, {"count", s.count}, {"pins", f.pins},
                {"parts", parts},   {"csv", s.csv_path}, {"jsonl", s.jsonl_path}};
    if (written) {
      out["images"] = {{"count", written->images}, {"dir", written->images_dir}, {"sheets", written->sheets}};
    }
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "issued " << s.count << " codes for GTIN " << gtin << " lot " << f.lot << " in batch "
              << s.batch << " (" << s.parts.size() << " part(s), block " << s.parts.front().height << ")\n"
              << "manifest: " << s.csv_path << "\n          " << s.jsonl_path << "\n";
    if (f.pins)
      std::cout << "the PINs are in the manifest only: keep it safe, the ledger holds only their hashes\n";
    if (written) PrintImagesWritten(*written, /*json=*/false);
  }
  return kExitOk;
}

int RunShow(const GlobalFlags& g, const std::string& gtin_text, const std::string& serial) {
  const std::string gtin = GtinFlag(gtin_text);
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  auto status = ledger->GetCodeStatus(gtin, serial);
  if (!status.ok()) throw CliError(kExitFailure, status.error().message);
  Json out = {{"gtin", gtin}, {"serial", serial}};
  std::string verdict = "never_issued";
  if (status->issued) {
    const auto& issued = *status->issued;
    const ledger::StoredRecord& part = *issued.issuance;
    verdict = status->revoked             ? "revoked"
              : status->lot_recalled      ? "lot_recalled"
              : status->failed_inspection ? "lot_failed_inspection"
                                          : "valid";
    auto key = ledger->GetKey(part.record.author);
    out["lot"] = std::string(issued.lot());
    out["batch"] = std::string(issued.batch());
    out["part"] = part.record.body.at("part");
    out["parts"] = part.record.body.at("parts");
    out["position"] = issued.position;
    out["record"] = part.record.IdHex();
    out["index"] = part.index;
    out["height"] = part.height;
    out["issuer"] = key.ok() && key->has_value() ? (*key)->party : std::string();
    out["has_pin"] = part.record.body.contains("pin_hashes");
    if (status->revoked) out["revoked_index"] = *status->revoked;
    if (status->lot_recalled) out["lot_recalled_index"] = *status->lot_recalled;
    if (status->failed_inspection) out["failed_inspection_index"] = *status->failed_inspection;
  }
  out["status"] = verdict;
  if (g.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "code     " << gtin << " / " << Printable(serial) << "\nstatus   " << verdict << "\n";
    if (status->issued) {
      std::cout << "lot      " << out["lot"].get<std::string>() << "\nbatch    "
                << out["batch"].get<std::string>() << " (part " << out["part"] << " of " << out["parts"]
                << ", position " << out["position"] << ")"
                << "\nissuer   " << out["issuer"].get<std::string>() << "\nrecord   "
                << out["record"].get<std::string>() << " (index " << out["index"] << ", block "
                << out["height"] << ")\npin      " << (out["has_pin"].get<bool>() ? "yes" : "no") << "\n";
      for (const char* k : {"revoked_index", "lot_recalled_index", "failed_inspection_index"}) {
        if (out.contains(k))
          std::cout << std::string(k).substr(0, std::string(k).size() - 6) << " at index " << out[k] << "\n";
      }
    }
  }
  return verdict == "valid" ? kExitOk : kExitRejected;
}

int RunVerify(const GlobalFlags& g, const VerifyFlags& f) {
  CodeChecker checker(g, f.issuer_keys);
  auto check = [&](std::string_view text) { checker.Print(checker.Check(text), g.json); };
  auto check_stream = [&](std::istream& in) {
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      check(line);
    }
  };
  for (const auto& text : f.texts) check(text);
  if (f.input == "-" || (f.input.empty() && f.texts.empty())) {
    check_stream(std::cin);
  } else if (!f.input.empty()) {
    std::ifstream in(f.input, std::ios::binary);
    if (!in) throw CliError(kExitFailure, "cannot read " + f.input);
    check_stream(in);
  }
  if (!g.json) checker.PrintSummary();
  return checker.ExitCode();
}

}  // namespace

void AddCodesCommands(CLI::App& app, CommandContext context) {
  static IssueFlags issue;
  static VerifyFlags verify;
  static std::string show_gtin, show_serial;
  GlobalFlags& g = context.global;
  std::function<int()>& action = context.action;

  auto* codes = app.add_subcommand("codes", "issue serialized traceability codes and look them up");
  codes->require_subcommand(1);
  auto* cmd =
      codes->add_subcommand("issue", "issue N signed codes for a lot, commit them, write the manifest");
  cmd->add_option("--key", issue.key_file, "merchant's keystore file (signs the codes and the records)");
  cmd->add_option("--gtin", issue.gtin, "GTIN-8/12/13/14 of the product")->required();
  cmd->add_option("--lot", issue.lot, "lot number (a registered lot of the product)")->required();
  cmd->add_option("--count", issue.count, "number of codes")->required();
  cmd->add_option("--out", issue.out, "directory for the manifest (<gtin>-<batch>.csv and .jsonl)")
      ->required();
  cmd->add_flag("--pin", issue.pins, "give every code a one-time PIN (only its salted hash is committed)");
  cmd->add_option("--batch", issue.batch, "batch id, unique per GTIN (default: B<date>-<random>)");
  cmd->add_option("--resolver", issue.resolver, "resolver host[:port][/prefix] of the URIs")
      ->capture_default_str();
  cmd->add_option("--threads", issue.threads, "signing threads (default: one per core)");
  AddImageFlags(cmd, issue.images);
  cmd->callback([&] { action = [&] { return RunIssue(g, issue); }; });

  auto* show = codes->add_subcommand("show", "a code's issuance and status");
  show->add_option("gtin", show_gtin, "GTIN")->required();
  show->add_option("serial", show_serial, "serial")->required();
  show->callback([&] { action = [&] { return RunShow(g, show_gtin, show_serial); }; });

  auto* v = app.add_subcommand("verify", "verify codes (URIs from arguments, a file or standard input)");
  v->add_option("codes", verify.texts, "code texts (URIs) to verify");
  v->add_option("--input,-i", verify.input, "read codes from this file, one per line ('-': standard input)");
  v->add_option("--issuer-key", verify.issuer_keys,
                "offline: verify signatures against this public key (64 hex, a keystore or a file holding "
                "the hex); repeat for several; no ledger is opened")
      ->allow_extra_args(false);
  v->callback([&] { action = [&] { return RunVerify(g, verify); }; });

  AddCodeImagesCommand(codes, context);
}

}  // namespace traceledger::tools
