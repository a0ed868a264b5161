// tracectl's command groups. Main builds the command table from the core
// verbs (tracectl.cc) and from one Add*Commands function per group, each in
// its own file, so that a group's flags, help and actions live together.
#ifndef TRACELEDGER_TOOLS_COMMANDS_H_
#define TRACELEDGER_TOOLS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace traceledger::tools {

// Flags every command accepts.
struct GlobalFlags {
  std::string data = "traceledger-data";
  std::string passphrase_file;
  bool json = false;
};

// What a command group needs: the global flags (filled in by parsing) and
// the slot for the action its parsed subcommand runs. A group keeps its own
// flag storage alive for the whole of Main (file-local statics are fine).
struct CommandContext {
  GlobalFlags& global;
  std::function<int()>& action;
};

// tracectl scan (tools/cmd_scan.cc): decode QR codes from image files.
void AddScanCommands(CLI::App& app, const CommandContext& ctx);
// checkpoint sign|show|witness, proof inclusion|consistency, verify-proof
// (tools/cmd_proof.cc).
void AddProofCommands(CLI::App& app, CommandContext& ctx);
// tracectl anchor …: commit checkpoints to an EVM chain and verify such
// commitments (tools/cmd_anchor.cc).
void AddAnchorCommands(CLI::App& app, CommandContext& ctx);
// `codes issue`, `codes show` and `verify` (tools/cmd_codes.cc).
void AddCodesCommands(CLI::App& app, CommandContext context);
// `bundle code|lot|shipment` and `verify-bundle`: offline evidence bundles
// (tools/cmd_bundle.cc).
void AddBundleCommands(CLI::App& app, CommandContext& ctx);
// `credit show|history|lists|report|verify-report|default-policy`: merchant
// credit (tools/cmd_credit.cc).
void AddCreditCommands(CLI::App& app, CommandContext& ctx);
// `complaints list|show|erase`: the off-ledger complaint store
// (tools/cmd_complaints.cc).
void AddComplaintCommands(CLI::App& app, CommandContext& ctx);
// `export epcis --lot GTIN:LOT | --shipment ID`: EPCIS 2.0 JSON-LD
// (tools/cmd_export.cc).
void AddExportCommands(CLI::App& app, CommandContext& ctx);

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_COMMANDS_H_
