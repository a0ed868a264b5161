// tracectl verbs for offline evidence bundles (docs/CLI.md, "Evidence
// bundles"):
//   bundle code GTIN SERIAL | lot GTIN LOT | shipment ID --out FILE
//   verify-bundle FILE --operator-key KEY [--witness-key NAME=KEY ...]
// The format is docs/FORMAT.md "Evidence bundles"; ledger/bundle.h builds
// and verifies it.
#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "chain/checkpoint.h"
#include "ledger/bundle.h"
#include "ledger/canonical_json.h"
#include "tools/cli_support.h"
#include "tools/commands.h"
#include "tools/proof_cli.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

struct BundleFlags {
  std::string gtin, serial, lot, shipment, out, checkpoint = "latest", receipt;
  std::string file, operator_key;
  std::vector<std::string> witness_keys;
  std::optional<size_t> quorum;
};

int RunBundle(const GlobalFlags& g, const BundleFlags& f, ledger::SubjectKind kind) {
  if (f.out.empty()) throw CliError(kExitUsage, "--out: give the bundle file to write (- for stdout)");
  ledger::BundleSubject subject{
      .kind = kind, .gtin = f.gtin, .serial = f.serial, .lot = f.lot, .shipment = f.shipment};
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  chain::StoredCheckpoint cp = [&] {
    if (f.checkpoint == "latest") return LatestStored(ledger->store());
    uint64_t size = 0;
    const auto [end, ec] = std::from_chars(f.checkpoint.data(), f.checkpoint.data() + f.checkpoint.size(), size);
    if (ec != std::errc() || end != f.checkpoint.data() + f.checkpoint.size())
      throw CliError(kExitUsage, "--checkpoint: \"" + f.checkpoint + "\" is neither latest nor a tree size");
    return StoredAt(ledger->store(), size);
  }();
  const std::string receipt = f.receipt.empty() ? std::string() : ReadFileOrThrow(f.receipt);
  auto built = ledger::BuildBundle(*ledger, subject, cp.note, receipt);
  if (!built.ok()) {
    const int code = built.error().code == ledger::BundleBuildErrorCode::kStore ? kExitFailure : kExitRejected;
    throw CliError(code, std::string(ledger::BundleBuildErrorCodeName(built.error().code)) + ": " +
                             built.error().message);
  }
  WriteOutput(f.out, built->bytes);
  if (g.json) {
    std::cerr << Json{{"records", built->records}, {"tree_size", built->tree_size}, {"out", f.out}}.dump() << "\n";
  } else {
    std::cerr << "bundle of " << subject.Describe() << ": " << built->records
              << " records with inclusion proofs against the checkpoint of size " << built->tree_size << " ("
              << cp.note.signatures.size() << " signature lines)"
              << (receipt.empty() ? "" : ", with its anchor receipt") << "\n";
  }
  return kExitOk;
}

Json ReportJson(const ledger::BundleReport& r) {
  Json issues = Json::array();
  for (const auto& i : r.issues) {
    issues.push_back({{"code", ledger::BundleIssueCodeName(i.code)}, {"item", i.item}, {"message", i.message}});
  }
  Json out = {{"ok", r.ok()},
              {"origin", r.origin},
              {"tree_size", r.tree_size},
              {"records", r.records},
              {"cosigned_by", r.cosigned_by},
              {"anchor_receipt", r.has_receipt},
              {"unchecked", r.unchecked},
              {"issues", issues}};
  if (r.subject) out["subject"] = r.subject->Describe();
  return out;
}

int RunVerifyBundle(const GlobalFlags& g, const BundleFlags& f) {
  ledger::BundleTrust trust;
  trust.operator_keys.push_back(ParsePublicKeyArg("--operator-key", f.operator_key));
  for (const auto& w : f.witness_keys) trust.witnesses.witnesses.push_back(ParseWitnessKey(w, "--witness-key"));
  trust.witnesses.quorum = f.quorum.value_or(trust.witnesses.witnesses.size());
  if (trust.witnesses.quorum > trust.witnesses.witnesses.size())
    throw CliError(kExitUsage, "--quorum exceeds the --witness-key keys given");
  const ledger::BundleReport r = ledger::VerifyBundle(ReadFileOrThrow(f.file), trust);
  if (g.json) {
    std::cout << ReportJson(r).dump() << "\n";
    return r.ok() ? kExitOk : kExitRejected;
  }
  if (r.ok()) {
    std::cout << "ok: " << r.subject->Describe() << ": " << r.records << " records are in " << r.origin
              << " at size " << r.tree_size << ", signed by the operator";
    if (trust.witnesses.quorum > 0) {
      std::cout << ", witnessed by " << r.cosigned_by.size() << " (quorum " << trust.witnesses.quorum << ")";
    } else {
      std::cout << " (witnessing not checked: no --witness-key given)";
    }
    std::cout << (r.has_receipt ? "; the anchor receipt is for this checkpoint" : "; no anchor receipt") << "\n";
    for (const auto& u : r.unchecked) std::cout << "not checked offline: " << u << "\n";
    return kExitOk;
  }
  for (const auto& i : r.issues) {
    std::cerr << "rejected: " << ledger::BundleIssueCodeName(i.code) << ": " << i.item << ": " << i.message << "\n";
  }
  return kExitRejected;
}

}  // namespace

void AddBundleCommands(CLI::App& app, CommandContext& ctx) {
  static BundleFlags f;
  GlobalFlags& g = ctx.global;
  std::function<int()>& action = ctx.action;

  auto* bundle = app.add_subcommand("bundle", "write an offline evidence bundle for a code, lot or shipment");
  bundle->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("--out,-o", f.out, "bundle file to write (- for stdout)")->required();
    sub->add_option("--checkpoint", f.checkpoint, "latest (default) or the tree size of a stored checkpoint");
    sub->add_option("--receipt", f.receipt, "anchor receipt file of that checkpoint, to include");
  };
  auto* code = bundle->add_subcommand("code", "a serialized code: its issuance, lot, product and their history");
  code->add_option("gtin", f.gtin, "GTIN-14")->required();
  code->add_option("serial", f.serial, "serial")->required();
  common(code);
  code->callback([&] { action = [&] { return RunBundle(g, f, ledger::SubjectKind::kCode); }; });
  auto* lot = bundle->add_subcommand("lot", "a lot: its product and its history");
  lot->add_option("gtin", f.gtin, "GTIN-14")->required();
  lot->add_option("lot", f.lot, "lot number")->required();
  common(lot);
  lot->callback([&] { action = [&] { return RunBundle(g, f, ledger::SubjectKind::kLot); }; });
  auto* shipment = bundle->add_subcommand("shipment", "a shipment: its history, its lots and their products");
  shipment->add_option("id", f.shipment, "shipment id")->required();
  common(shipment);
  shipment->callback([&] { action = [&] { return RunBundle(g, f, ledger::SubjectKind::kShipment); }; });

  auto* verify = app.add_subcommand("verify-bundle", "check an evidence bundle offline against trusted keys");
  verify->add_option("file", f.file, "bundle file")->required();
  verify->add_option("--operator-key", f.operator_key, "operator public key (64 hex) or its keystore file")
      ->required();
  verify->add_option("--witness-key", f.witness_keys, "NAME=PUBLIC_KEY of a trusted witness; repeat");
  verify->add_option("--quorum", f.quorum, "distinct trusted witness keys required (default: all given)");
  verify->callback([&] { action = [&] { return RunVerifyBundle(g, f); }; });
}

}  // namespace traceledger::tools
