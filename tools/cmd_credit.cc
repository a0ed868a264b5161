// tracectl verbs for merchant credit (docs/CLI.md, "Merchant credit"):
//   credit show MERCHANT [--at-height H]     grade, list, dimensions, records
//   credit history MERCHANT                  grade over time
//   credit lists [--red | --black]           the red and black lists
//   credit report MERCHANT --out FILE        signed report (operator key)
//   credit verify-report FILE --operator-key KEY
//   credit default-policy                    the shipped policy JSON
// Credit events, repair requests and decisions, and policies are records:
// `tracectl append credit_event|credit_policy ...`.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "ledger/credit.h"
#include "ledger/credit_policy.h"
#include "ledger/credit_report.h"
#include "tools/cli_support.h"
#include "tools/commands.h"
#include "tools/proof_cli.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

struct CreditFlags {
  std::string merchant;
  std::optional<uint64_t> at_height;
  bool red = false;
  bool black = false;
  std::string out;
  std::string file;
  std::string operator_key;
};

// A book over the whole ledger (up to `height`, when given).
std::unique_ptr<ledger::CreditBook> LoadBook(const GlobalFlags& g, std::unique_ptr<ledger::Ledger>& ledger,
                                             std::optional<uint64_t> height) {
  ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  auto tip = ledger->tip();
  if (height && (!tip || *height > tip->height)) {
    throw CliError(kExitUsage, "--at-height: " + std::to_string(*height) + " is above the tip (" +
                                   (tip ? std::to_string(tip->height) : std::string("empty")) + ")");
  }
  auto book = std::make_unique<ledger::CreditBook>();
  auto r = book->CatchUp(*ledger, height);
  if (!r.ok()) throw CliError(kExitFailure, "reading the ledger: " + r.error().message);
  return book;
}

ledger::CreditEvaluation EvaluateOrThrow(const ledger::CreditBook& book, const std::string& merchant,
                                         std::optional<uint64_t> height) {
  auto e = book.Evaluate(merchant, height);
  if (!e) throw CliError(kExitRejected, "not rated: no merchant \"" + merchant + "\" at that height");
  return *e;
}

std::string ListName(const std::string& list) { return list.empty() ? "none" : list; }

int RunShow(const GlobalFlags& g, const CreditFlags& f) {
  std::unique_ptr<ledger::Ledger> ledger;
  auto book = LoadBook(g, ledger, f.at_height);
  auto e = EvaluateOrThrow(*book, f.merchant, f.at_height);
  if (g.json) {
    std::cout << ledger::EvaluationToJson(e).dump() << "\n";
    return kExitOk;
  }
  std::cout << e.merchant << ": grade " << ledger::GradeName(e.grade) << " (score " << e.score << ", policy v"
            << e.policy_version << "), list " << ListName(e.list) << ", at height " << e.height << " ("
            << e.as_of << ")\n";
  for (int d = 0; d < ledger::kDimensionCount; ++d) {
    std::cout << "  " << ledger::DimensionName(static_cast<ledger::Dimension>(d)) << " "
              << e.dimensions[static_cast<size_t>(d)] << "\n";
  }
  for (const auto& c : e.caps) std::cout << "  capped: " << c << "\n";
  for (const auto& l : e.listings) {
    std::cout << "  black listing " << l.record << " on " << l.listed_on << ": " << l.status
              << (l.repaired_by.empty() ? "" : " by " + l.repaired_by) << "\n";
  }
  for (const auto& a : e.associated) std::cout << "  associated with black-listed " << a << "\n";
  std::cout << "  records:\n";
  for (const auto& c : e.contributions) {
    std::cout << "    " << c.record.substr(0, 16) << " " << c.kind << " " << c.fact << " "
              << ledger::DimensionName(c.dimension) << " " << (c.points > 0 ? "+" : "") << c.points << " "
              << c.date << (c.counted ? "" : " (not counted)") << (c.note.empty() ? "" : ": " + c.note)
              << "\n";
  }
  return kExitOk;
}

int RunHistory(const GlobalFlags& g, const CreditFlags& f) {
  std::unique_ptr<ledger::Ledger> ledger;
  auto book = LoadBook(g, ledger, std::nullopt);
  (void)EvaluateOrThrow(*book, f.merchant, std::nullopt);
  auto history = book->History(f.merchant);
  if (g.json) {
    std::cout << ledger::HistoryToJson(history).dump() << "\n";
    return kExitOk;
  }
  for (const auto& h : history) {
    std::cout << "height " << h.height << " " << h.date << " grade " << ledger::GradeName(h.grade)
              << " score " << h.score << " list " << ListName(h.list) << " policy v" << h.policy_version
              << "\n";
  }
  return kExitOk;
}

int RunLists(const GlobalFlags& g, const CreditFlags& f) {
  std::unique_ptr<ledger::Ledger> ledger;
  auto book = LoadBook(g, ledger, f.at_height);
  const bool both = f.red == f.black;
  Json out = Json::object();
  if (both || f.red) out["red"] = ledger::ListToJson(book->RedList(f.at_height));
  if (both || f.black) out["black"] = ledger::ListToJson(book->BlackList(f.at_height));
  if (g.json) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  for (const auto& [name, list] : out.items()) {
    std::cout << name << " list (" << list.size() << "):\n";
    for (const auto& m : list) {
      std::cout << "  " << m["merchant"].get<std::string>() << " grade " << m["grade"].get<std::string>()
                << (m.contains("since") ? " since " + m["since"].get<std::string>() : std::string()) << "\n";
    }
  }
  return kExitOk;
}

int RunReport(const GlobalFlags& g, const CreditFlags& f) {
  if (f.out.empty()) throw CliError(kExitUsage, "--out: give the report file to write (- for stdout)");
  std::unique_ptr<ledger::Ledger> ledger;
  auto book = LoadBook(g, ledger, f.at_height);
  auto e = EvaluateOrThrow(*book, f.merchant, f.at_height);
  auto block = ledger->GetBlock(e.height);
  if (!block.ok() || !block->has_value())
    throw CliError(kExitFailure, "cannot read block " + std::to_string(e.height));
  std::vector<ledger::CreditHistoryEntry> history;
  for (const auto& h : book->History(f.merchant)) {
    if (h.height <= e.height) history.push_back(h);
  }
  wallet::SecretKey key =
      LoadKey(DataDir{g.data}.OperatorKeyPath(), g.passphrase_file, "TRACELEDGER_OPERATOR_PASSPHRASE");
  Json report =
      ledger::SignCreditReport(ledger::CreditReportBody(e, history, (*block)->header, key.Public()), key);
  WriteOutput(f.out, ledger::CanonicalJson(report) + "\n");
  std::cerr << "credit report of " << e.merchant << " at height " << e.height << ": grade "
            << ledger::GradeName(e.grade) << ", signed by " << key.Public().Hex() << "\n";
  return kExitOk;
}

int RunVerifyReport(const GlobalFlags& g, const CreditFlags& f) {
  const wallet::PublicKey key = ParsePublicKeyArg("--operator-key", f.operator_key);
  std::string text = ReadFileOrThrow(f.file);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto r = ledger::VerifyCreditReport(text, key);
  if (!r.ok()) {
    if (g.json) {
      std::cout << Json{{"ok", false},
                        {"error",
                         {{"code", ledger::ReportErrorCodeName(r.error().code)},
                          {"message", r.error().message}}}}
                       .dump()
                << "\n";
    } else {
      std::cerr << "rejected: " << ledger::ReportErrorCodeName(r.error().code) << ": " << r.error().message
                << "\n";
    }
    return kExitRejected;
  }
  const Json& e = (*r)["evaluation"];
  if (g.json) {
    std::cout << Json{{"ok", true},
                      {"merchant", e["merchant"]},
                      {"grade", e["grade"]},
                      {"list", e["list"]},
                      {"height", e["height"]}}
                     .dump()
              << "\n";
  } else {
    std::cout << "ok: credit report of " << e["merchant"].get<std::string>() << ", grade "
              << e["grade"].get<std::string>() << ", list " << ListName(e["list"].get<std::string>())
              << ", at height " << e["height"].get<uint64_t>() << " (" << e["as_of"].get<std::string>()
              << "), signed by the operator\n";
  }
  return kExitOk;
}

}  // namespace

void AddCreditCommands(CLI::App& app, CommandContext& ctx) {
  static CreditFlags f;
  GlobalFlags& g = ctx.global;
  std::function<int()>& action = ctx.action;

  auto* credit = app.add_subcommand("credit", "merchant credit: grades, lists, history and signed reports");
  credit->require_subcommand(1);
  auto* show =
      credit->add_subcommand("show", "a merchant's grade, list, dimensions and the records behind them");
  show->add_option("merchant", f.merchant, "merchant party id")->required();
  show->add_option("--at-height", f.at_height, "evaluate at this block height (default: the tip)");
  show->callback([&] { action = [&] { return RunShow(g, f); }; });
  auto* history = credit->add_subcommand("history", "a merchant's grade over time");
  history->add_option("merchant", f.merchant, "merchant party id")->required();
  history->callback([&] { action = [&] { return RunHistory(g, f); }; });
  auto* lists = credit->add_subcommand("lists", "the red and black lists");
  lists->add_flag("--red", f.red, "only the red list");
  lists->add_flag("--black", f.black, "only the black list");
  lists->add_option("--at-height", f.at_height, "at this block height (default: the tip)");
  lists->callback([&] { action = [&] { return RunLists(g, f); }; });
  auto* report = credit->add_subcommand("report", "write a credit report signed with the operator key");
  report->add_option("merchant", f.merchant, "merchant party id")->required();
  report->add_option("--out,-o", f.out, "report file to write (- for stdout)")->required();
  report->add_option("--at-height", f.at_height, "evaluate at this block height (default: the tip)");
  report->callback([&] { action = [&] { return RunReport(g, f); }; });
  auto* verify = credit->add_subcommand("verify-report", "check a signed credit report offline");
  verify->add_option("file", f.file, "report file")->required();
  verify->add_option("--operator-key", f.operator_key, "operator public key (64 hex) or its keystore file")
      ->required();
  verify->callback([&] { action = [&] { return RunVerifyReport(g, f); }; });
  auto* policy = credit->add_subcommand("default-policy", "print the shipped default credit policy (JSON)");
  policy->callback([&] {
    action = [] {
      std::cout << ledger::DefaultCreditPolicyJson();
      return kExitOk;
    };
  });
}

}  // namespace traceledger::tools
