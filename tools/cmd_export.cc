// tracectl export epcis --lot GTIN:LOT | --shipment ID [--out FILE]: a lot's
// or shipment's records as an EPCIS 2.0 JSON-LD document (ledger/epcis.h;
// the mapping is docs/FORMAT.md, "EPCIS export").
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <string>

#include "ledger/epcis.h"
#include "ledger/schema.h"
#include "tools/cli_support.h"
#include "tools/commands.h"
#include "tools/proof_cli.h"

namespace traceledger::tools {
namespace {

struct ExportFlags {
  std::string lot, shipment, out = "-", ledger_url;
};

int RunExportEpcis(const GlobalFlags& g, const ExportFlags& f) {
  if (f.lot.empty() == f.shipment.empty()) {
    throw CliError(kExitUsage, "give exactly one of --lot GTIN:LOT and --shipment ID");
  }
  std::string gtin, lot;
  if (!f.lot.empty()) {
    const size_t colon = f.lot.find(':');
    if (colon == std::string::npos || colon + 1 == f.lot.size()) {
      throw CliError(kExitUsage, "--lot: \"" + f.lot + "\" is not GTIN:LOT");
    }
    gtin = f.lot.substr(0, colon);
    lot = f.lot.substr(colon + 1);
    if (!ledger::IsValidGtin14(gtin)) {
      throw CliError(kExitUsage, "--lot: \"" + gtin + "\" is not a GTIN-14 with a valid check digit");
    }
  }
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  auto fail = [](const ledger::LedgerError& e) { return CliError(kExitFailure, e.message); };
  std::vector<ledger::StoredRecord> history;
  if (!f.lot.empty()) {
    auto found = ledger->GetLot(gtin, lot);
    if (!found.ok()) throw fail(found.error());
    if (!found->has_value()) throw CliError(kExitRejected, "no lot \"" + lot + "\" of GTIN " + gtin + " on the ledger");
    auto h = ledger->LotHistory(gtin, lot);
    if (!h.ok()) throw fail(h.error());
    history = std::move(h).value();
  } else {
    auto found = ledger->GetShipment(f.shipment);
    if (!found.ok()) throw fail(found.error());
    if (!found->has_value()) throw CliError(kExitRejected, "no shipment \"" + f.shipment + "\" on the ledger");
    auto h = ledger->ShipmentHistory(f.shipment);
    if (!h.ok()) throw fail(h.error());
    history = std::move(h).value();
  }
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  ledger::Json doc = ledger::BuildEpcisDocument(
      history, ledger::EpcisOptions{.creation_time_s = now_s, .ledger_url = f.ledger_url});
  WriteOutput(f.out, doc.dump(2) + "\n");
  if (f.out != "-") {
    std::cerr << "wrote " << doc["epcisBody"]["eventList"].size() << " EPCIS event(s) from " << history.size()
              << " record(s) to " << f.out << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddExportCommands(CLI::App& app, CommandContext& ctx) {
  static ExportFlags f;
  GlobalFlags& g = ctx.global;
  std::function<int()>& action = ctx.action;
  auto* exp = app.add_subcommand("export", "export ledger data in standard formats");
  exp->require_subcommand(1);
  auto* epcis = exp->add_subcommand("epcis", "a lot's or shipment's records as an EPCIS 2.0 JSON-LD document");
  epcis->add_option("--lot", f.lot, "GTIN:LOT, e.g. 09501101530003:L2026-11");
  epcis->add_option("--shipment", f.shipment, "shipment id");
  epcis->add_option("--out,-o", f.out, "file to write (default - : stdout)");
  epcis->add_option("--ledger-url", f.ledger_url, "node URL for each event's tl:record link (optional)");
  epcis->callback([&] { action = [&] { return RunExportEpcis(g, f); }; });
}

}  // namespace traceledger::tools
