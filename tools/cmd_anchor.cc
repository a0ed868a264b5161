// tracectl anchor: commit checkpoints to an EVM chain and check such
// commitments (docs/CLI.md §13, FORMAT.md §12, ARCHITECTURE.md §13).
//
//   anchor address   the anchoring key's Ethereum address (to fund it)
//   anchor now       queue a checkpoint and drive the anchorer until confirmed
//   anchor status    what is queued, pending and anchored (no key, no network)
//   anchor receipt   print a stored receipt file
//   anchor verify    check a receipt against any node
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "api/jsonrpc_client.h"
#include "api/witness_service.h"
#include "chain/anchor.h"
#include "chain/anchor_store.h"
#include "chain/eth_rpc.h"
#include "chain/eth_tx.h"
#include "chain/witness.h"
#include "tools/cli_support.h"
#include "tools/commands.h"

namespace traceledger::tools {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// Not yet confirmed when --timeout ran out; the anchor continues on the
// next run (docs/CLI.md §3).
constexpr int kExitPending = 4;

constexpr const char* kAnchorPassphraseEnv = "TRACELEDGER_ANCHOR_PASSPHRASE";

struct AnchorFlags {
  std::string key;  // default <data>/anchor.key
  std::string rpc;
  uint64_t chain_id = 0;
  uint32_t confirmations = 6;
  std::string to;
  std::string tx_type = "auto";
  uint64_t gas_limit = 0;
  double max_fee_gwei = 500;
  std::string checkpoint_file;
  double timeout_s = 900;
  int poll_ms = 2000;
  std::string out;
  // verify
  std::string receipt_file;
  uint32_t min_confirmations = 0;
  std::string sender;
  // receipt
  std::optional<uint64_t> receipt_index;
};

std::string AnchorDir(const GlobalFlags& g) { return (fs::path(g.data) / "anchor").string(); }
std::string KeyPath(const GlobalFlags& g, const AnchorFlags& f) {
  return f.key.empty() ? (fs::path(g.data) / "anchor.key").string() : f.key;
}

void RequireDataDir(const GlobalFlags& g) {
  std::error_code ec;
  if (!fs::is_directory(g.data, ec)) {
    throw CliError(kExitUsage, "data directory " + g.data + " does not exist");
  }
}

std::unique_ptr<chain::AnchorStore> OpenStore(const GlobalFlags& g) {
  RequireDataDir(g);
  auto store = chain::AnchorStore::Open(AnchorDir(g));
  if (!store.ok()) throw CliError(kExitFailure, store.error().message);
  return std::move(store).value();
}

std::unique_ptr<api::JsonRpcHttpClient> Connect(const std::string& url) {
  if (url.empty()) throw CliError(kExitUsage, "--rpc is required (or set TRACELEDGER_ANCHOR_RPC)");
  auto client = api::JsonRpcHttpClient::Create(url);
  if (!client.ok()) throw CliError(kExitUsage, "--rpc: " + client.error());
  return std::move(client).value();
}

std::optional<chain::EthAddress> AddressFlag(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto a = chain::ParseEthAddress(text);
  if (!a) {
    throw CliError(kExitUsage, flag + ": \"" + text +
                                   "\" is not an address (0x + 40 hex digits; a mixed-case " +
                                   "address must carry a valid EIP-55 checksum)");
  }
  return a;
}

std::string LatestCheckpointToAnchor(const GlobalFlags& g) {
  RequireDataDir(g);
  const std::string path = (fs::path(g.data) / "witnesses.json").string();
  api::WitnessConfig config;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto parsed = api::ParseWitnessConfig(ReadFileOrThrow(path));
    if (!parsed.ok()) throw CliError(kExitUsage, path + ": " + parsed.error());
    config = std::move(parsed).value();
  }
  const bool witnessed = !config.witnesses.empty() && config.quorum > 0;
  if (!witnessed) {
    std::cerr << "anchor: WARNING: no witnesses (or quorum 0) configured in " << path
              << "; anchoring the latest checkpoint, which no witness quorum vouches for\n";
  }
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  chain::WitnessPolicy policy = config.Policy();
  if (!witnessed) policy.quorum = 0;
  auto latest = chain::LatestWitnessedCheckpoint(ledger->store(), policy);
  if (!latest.ok()) throw CliError(kExitFailure, latest.error().message);
  if (!latest->has_value()) {
    throw CliError(kExitRejected,
                   witnessed ? "no stored checkpoint is cosigned by a quorum of " + std::to_string(config.quorum) +
                                   " of the witnesses in " + path + " (tracectl checkpoint witness)"
                             : std::string("no checkpoint is stored yet (tracectl checkpoint sign)"));
  }
  std::cerr << "anchor: checkpoint of tree size " << (*latest)->checkpoint.size
            << (witnessed ? " (the latest one witnessed)" : " (the latest one)") << "\n";
  return (*latest)->note.Serialize();
}

// The checkpoint `anchor now` anchors: --checkpoint FILE; else, unless an
// anchor is pending or queued (then nothing: it is resumed), the latest
// checkpoint stored in <data>/ledger that meets the quorum of the witnesses
// in <data>/witnesses.json — or, with no witnesses configured, the latest
// stored checkpoint, with a warning that no witness vouches for it.
std::optional<std::string> CheckpointToAnchor(const GlobalFlags& g, const AnchorFlags& f,
                                              const chain::AnchorStore& store) {
  if (f.checkpoint_file.empty()) {
    // An anchor already pending or queued is resumed first (`anchor now`
    // after a --timeout); the ledger is only consulted when idle.
    auto state = chain::LoadAnchorState(store);
    if (!state.ok()) throw CliError(kExitFailure, state.error().message);
    if (state->pending || state->queued) {
      std::cerr << "anchor: resuming the " << (state->pending ? "pending" : "queued")
                << " anchor (give --checkpoint FILE to anchor another checkpoint)\n";
      return std::nullopt;
    }
    return LatestCheckpointToAnchor(g);
  }
  std::string text = ReadFileOrThrow(f.checkpoint_file);
  auto parsed = chain::ParseCheckpointForAnchor(text);
  if (!parsed.ok()) throw CliError(kExitUsage, f.checkpoint_file + ": " + parsed.error().message);
  return text;
}

void WriteOut(const std::string& path, const std::string& text) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw CliError(kExitFailure, "cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw CliError(kExitFailure, "cannot write " + path + ": " + ec.message());
}

std::string Describe(const chain::AnchorReceipt& r) {
  return "tree size " + std::to_string(r.tree_size) + ", transaction " + chain::PrefixedHex(r.tx_hash) +
         ", block " + std::to_string(r.block_number) + " (" + chain::PrefixedHex(r.block_hash) + "), chain " +
         std::to_string(r.chain_id) + ", sender " + chain::EthAddressChecksum(r.sender);
}

// Prints a receipt file on stdout (and to --out).
int EmitReceipt(const AnchorFlags& f, const chain::AnchorReceipt& r) {
  std::string text = chain::AnchorReceiptToJson(r);
  WriteOut(f.out, text);
  std::cout << text;
  return kExitOk;
}

int RunAddress(const GlobalFlags& g, const AnchorFlags& f) {
  wallet::SecretKey key = LoadKey(KeyPath(g, f), g.passphrase_file, kAnchorPassphraseEnv);
  chain::EthAddress a = chain::EthAddressOf(key);
  if (g.json) {
    std::cout << Json{{"address", chain::EthAddressChecksum(a)}, {"key_id", key.Public().KeyId()}}.dump()
              << "\n";
  } else {
    std::cout << chain::EthAddressChecksum(a) << "\n";
  }
  return kExitOk;
}

int RunNow(const GlobalFlags& g, const AnchorFlags& f) {
  // Everything that can be checked without the key or the network first.
  if (f.chain_id == 0) throw CliError(kExitUsage, "--chain-id is required (the chain the node must serve)");
  if (f.confirmations == 0) throw CliError(kExitUsage, "--confirmations must be at least 1");
  if (!(f.max_fee_gwei > 0) || f.max_fee_gwei > 1e9)
    throw CliError(kExitUsage, "--max-fee-gwei must be positive");
  chain::AnchorConfig config{.chain_id = f.chain_id,
                             .confirmations = f.confirmations,
                             .to = AddressFlag("--to", f.to),
                             .tx_type = f.tx_type == "legacy"    ? chain::TxTypeChoice::kLegacy
                                        : f.tx_type == "eip1559" ? chain::TxTypeChoice::kEip1559
                                                                 : chain::TxTypeChoice::kAuto,
                             .max_fee_per_gas = static_cast<uint64_t>(f.max_fee_gwei * 1e9)};
  if (f.gas_limit != 0) config.gas_limit = f.gas_limit;
  auto transport = Connect(f.rpc);
  auto store = OpenStore(g);
  std::optional<std::string> checkpoint = CheckpointToAnchor(g, f, *store);
  wallet::SecretKey key = LoadKey(KeyPath(g, f), g.passphrase_file, kAnchorPassphraseEnv);
  chain::EthClient node(*transport);
  auto anchorer = chain::Anchorer::Open(*store, node, std::move(key), config);
  if (!anchorer.ok()) throw CliError(kExitFailure, anchorer.error().message);
  chain::Anchorer& a = **anchorer;

  if (checkpoint) {
    auto outcome = a.Request(*checkpoint);
    if (!outcome.ok()) {
      int code = outcome.error().code == chain::AnchorErrorCode::kConflict ? kExitRejected : kExitFailure;
      throw CliError(code, outcome.error().message);
    }
    std::cerr << "anchor: " << chain::RequestOutcomeName(*outcome) << "\n";
    if (*outcome == chain::RequestOutcome::kAlreadyAnchored) return EmitReceipt(f, *a.State().last_receipt);
    if (*outcome == chain::RequestOutcome::kSuperseded) {
      std::cerr << "anchor: a larger tree is already anchored, pending or queued; continuing with that\n";
    }
  }
  chain::AnchorState state = a.State();
  if (!state.pending && !state.queued) {
    std::cerr << "anchor: nothing pending or queued\n";
    return kExitOk;
  }

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000));
  const auto poll = std::chrono::milliseconds(std::max(1, f.poll_ms));
  std::optional<chain::AnchorReceipt> last;
  std::string last_line;
  auto say = [&](const std::string& line) {
    if (line != last_line) std::cerr << "anchor: " << line << "\n";
    last_line = line;
  };
  auto backoff = poll;
  for (;;) {
    auto step = a.Step();
    auto wait = poll;
    if (step.ok()) {
      backoff = poll;
      say(std::string(chain::AnchorPhaseName(step->phase)) + ": " + step->message);
      if (step->phase == chain::AnchorPhase::kIdle) break;
      if (step->phase == chain::AnchorPhase::kFailed) throw CliError(kExitFailure, step->message);
      if (step->phase == chain::AnchorPhase::kConfirmed) {
        last = step->receipt;
        chain::AnchorState now_state = a.State();
        if (!now_state.pending && !now_state.queued) break;
      }
      if (step->phase == chain::AnchorPhase::kConfirmed || step->phase == chain::AnchorPhase::kRestarted) {
        wait = std::chrono::milliseconds(0);
      }
    } else {
      const chain::AnchorError& e = step.error();
      say(std::string(chain::AnchorErrorCodeName(e.code)) + ": " + e.message);
      switch (e.code) {
        case chain::AnchorErrorCode::kUnavailable:
        case chain::AnchorErrorCode::kNodeError:
        case chain::AnchorErrorCode::kFeeCap:
        case chain::AnchorErrorCode::kInsufficientFunds:
          backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
          wait = backoff;
          break;
        default:
          throw CliError(kExitFailure, e.message);
      }
    }
    auto now_t = Clock::now();
    if (now_t >= deadline) {
      std::cerr << "tracectl: anchor not confirmed within --timeout; its state is saved in " << AnchorDir(g)
                << ": run `tracectl anchor now` again to continue (nothing is sent twice)\n";
      return kExitPending;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(wait, deadline - now_t));
  }
  if (!last) last = a.State().last_receipt;
  if (!last) return kExitOk;
  std::cerr << "anchor: confirmed: " << Describe(*last) << "\n";
  return EmitReceipt(f, *last);
}

int RunStatus(const GlobalFlags& g) {
  RequireDataDir(g);
  std::error_code ec;
  chain::AnchorState state;
  if (fs::exists(AnchorDir(g), ec)) {
    auto store = OpenStore(g);
    auto loaded = chain::LoadAnchorState(*store);
    if (!loaded.ok()) throw CliError(kExitFailure, loaded.error().message);
    state = std::move(loaded).value();
  }
  std::optional<chain::CheckpointSummary> queued;
  if (state.queued) {
    auto q = chain::ParseCheckpointForAnchor(*state.queued);
    if (q.ok()) queued = *q;
  }
  if (g.json) {
    Json out = {{"receipts", state.receipt_count},
                {"last_receipt", nullptr},
                {"pending", nullptr},
                {"queued", nullptr}};
    if (state.last_receipt)
      out["last_receipt"] = Json::parse(chain::AnchorReceiptToJson(*state.last_receipt));
    if (state.pending) {
      const auto& p = *state.pending;
      Json attempts = Json::array();
      for (const auto& at : p.attempts) {
        attempts.push_back({{"tx_hash", chain::PrefixedHex(at.tx_hash)},
                            {"gas_price", at.gas_price},
                            {"max_fee_per_gas", at.max_fee_per_gas},
                            {"max_priority_fee_per_gas", at.max_priority_fee_per_gas}});
      }
      out["pending"] = {{"tree_size", p.tree_size}, {"checkpoint_body_sha256", chain::HashHex(p.body_sha256)},
                        {"chain_id", p.chain_id},   {"sender", chain::EthAddressHex(p.sender)},
                        {"nonce", p.nonce},         {"tx_type", chain::EthTxTypeName(p.type)},
                        {"attempts", attempts}};
    }
    if (queued) {
      out["queued"] = {{"tree_size", queued->tree_size},
                       {"checkpoint_body_sha256", chain::HashHex(queued->body_sha256)}};
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "anchor store  " << AnchorDir(g) << "\nreceipts      " << state.receipt_count << "\n";
  if (state.last_receipt) std::cout << "last anchor   " << Describe(*state.last_receipt) << "\n";
  if (state.pending) {
    const auto& p = *state.pending;
    std::cout << "pending       tree size " << p.tree_size << ", nonce " << p.nonce << ", chain "
              << p.chain_id << ", " << p.attempts.size() << " attempt(s), latest "
              << chain::PrefixedHex(p.attempts.back().tx_hash) << "\n";
  }
  if (queued) std::cout << "queued        tree size " << queued->tree_size << "\n";
  if (!state.pending && !queued) std::cout << "nothing pending or queued\n";
  return kExitOk;
}

int RunReceipt(const GlobalFlags& g, const AnchorFlags& f) {
  RequireDataDir(g);
  std::error_code ec;
  if (!fs::exists(AnchorDir(g), ec)) throw CliError(kExitRejected, "not found: no anchors in " + g.data);
  auto store = OpenStore(g);
  auto state = chain::LoadAnchorState(*store);
  if (!state.ok()) throw CliError(kExitFailure, state.error().message);
  std::optional<chain::AnchorReceipt> r;
  if (!f.receipt_index) {
    r = state->last_receipt;
  } else {
    auto got = chain::LoadAnchorReceipt(*store, *f.receipt_index);
    if (!got.ok()) throw CliError(kExitFailure, got.error().message);
    r = *got;
  }
  if (!r) {
    std::string which = f.receipt_index ? "receipt " + std::to_string(*f.receipt_index) : "any receipt";
    throw CliError(kExitRejected,
                   "not found: " + which + " (" + std::to_string(state->receipt_count) + " stored)");
  }
  return EmitReceipt(f, *r);
}

int RunVerify(const GlobalFlags& g, const AnchorFlags& f) {
  std::string text = ReadFileOrThrow(f.receipt_file);
  auto receipt = chain::ParseAnchorReceipt(text);
  if (!receipt.ok()) throw CliError(kExitUsage, f.receipt_file + ": " + receipt.error().message);
  chain::VerifyOptions options{.min_confirmations = f.min_confirmations,
                               .expected_sender = AddressFlag("--sender", f.sender)};
  if (!f.checkpoint_file.empty()) options.checkpoint = ReadFileOrThrow(f.checkpoint_file);
  auto transport = Connect(f.rpc);
  chain::EthClient node(*transport);
  auto report = chain::VerifyAnchorReceipt(*receipt, node, options);
  if (!report.ok()) {
    int code = report.error().code == chain::AnchorErrorCode::kBadCheckpoint ? kExitUsage : kExitFailure;
    throw CliError(code, report.error().message);
  }
  bool ok = report->code == chain::VerifyCode::kOk;
  if (g.json) {
    std::cout << Json{{"ok", ok},
                      {"code", std::string(chain::VerifyCodeName(report->code))},
                      {"message", report->message},
                      {"confirmations", report->confirmations}}
                     .dump()
              << "\n";
  } else if (ok) {
    std::cout << "anchor verified: " << report->message << "\n";
    if (!options.expected_sender) {
      std::cerr << "note: without --sender, the signer was not compared with the operator's published "
                   "anchoring address\n";
    }
  } else {
    std::cout << "anchor verification FAILED: " << chain::VerifyCodeName(report->code) << ": "
              << report->message << "\n";
  }
  return ok ? kExitOk : kExitRejected;
}

void AddRpcFlag(CLI::App* cmd, AnchorFlags& f) {
  cmd->add_option("--rpc", f.rpc, "Ethereum JSON-RPC URL (env TRACELEDGER_ANCHOR_RPC)")
      ->envname("TRACELEDGER_ANCHOR_RPC");
}

}  // namespace

void AddAnchorCommands(CLI::App& app, CommandContext& ctx) {
  static AnchorFlags f;
  GlobalFlags& g = ctx.global;
  std::function<int()>& action = ctx.action;
  auto* anchor =
      app.add_subcommand("anchor", "commit checkpoints to an EVM chain, and check such commitments");
  anchor->require_subcommand(1);

  auto* address =
      anchor->add_subcommand("address", "print the anchoring key's Ethereum address (to fund it)");
  address->add_option("--key", f.key, "anchoring keystore (default <data>/anchor.key)");
  address->callback([&] { action = [&] { return RunAddress(g, f); }; });

  auto* now = anchor->add_subcommand("now", "anchor a checkpoint and wait for its confirmations");
  now->add_option("--checkpoint", f.checkpoint_file, "checkpoint file (C2SP signed note) to anchor (default: the latest stored checkpoint that meets the quorum of <data>/witnesses.json)");
  AddRpcFlag(now, f);
  now->add_option("--chain-id", f.chain_id, "chain id the node must serve")
      ->envname("TRACELEDGER_ANCHOR_CHAIN_ID");
  now->add_option("--key", f.key, "anchoring keystore (default <data>/anchor.key)");
  now->add_option("--confirmations", f.confirmations, "blocks to wait for, the anchor's own included")
      ->capture_default_str();
  now->add_option("--to", f.to, "send to this address (default: the sender itself)");
  now->add_option("--tx-type", f.tx_type, "transaction type")
      ->check(CLI::IsMember({"auto", "eip1559", "legacy"}))
      ->capture_default_str();
  now->add_option("--gas-limit", f.gas_limit, "gas limit (default: eth_estimateGas)");
  now->add_option("--max-fee-gwei", f.max_fee_gwei, "never pay more than this per gas")
      ->capture_default_str();
  now->add_option("--timeout", f.timeout_s, "give up waiting after this many seconds (exit 4; 0: one step)")
      ->capture_default_str();
  now->add_option("--poll-ms", f.poll_ms, "milliseconds between polls of the node")->capture_default_str();
  now->add_option("--out", f.out, "also write the receipt to this file");
  now->callback([&] { action = [&] { return RunNow(g, f); }; });

  anchor->add_subcommand("status", "what is queued, pending and anchored (no key, no network)")
      ->callback([&] { action = [&] { return RunStatus(g); }; });

  auto* receipt = anchor->add_subcommand("receipt", "print a stored receipt (default: the last)");
  receipt->add_option("index", f.receipt_index, "receipt number, from 0");
  receipt->add_option("--out", f.out, "also write it to this file");
  receipt->callback([&] { action = [&] { return RunReceipt(g, f); }; });

  auto* verify = anchor->add_subcommand("verify", "check a receipt against any node of its chain");
  verify->add_option("receipt", f.receipt_file, "receipt file")->required();
  AddRpcFlag(verify, f);
  verify->add_option("--confirmations", f.min_confirmations, "required depth (default: the receipt's)");
  verify->add_option("--sender", f.sender, "the operator's published anchoring address");
  verify->add_option("--checkpoint", f.checkpoint_file, "a checkpoint the receipt must anchor (same body)");
  verify->callback([&] { action = [&] { return RunVerify(g, f); }; });
}

}  // namespace traceledger::tools
