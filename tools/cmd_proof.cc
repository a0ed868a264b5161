// tracectl verbs for verifiability (docs/CLI.md, "Proofs and checkpoints"):
//   checkpoint sign | show | witness
//   proof inclusion | consistency
//   verify-proof
// Proof files are self-describing JSON (docs/FORMAT.md §11.5); verify-proof
// needs nothing but the file and the operator's public key.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "api/witness_service.h"
#include "chain/checkpoint.h"
#include "chain/merkle.h"
#include "chain/proof.h"
#include "chain/witness.h"
#include "ledger/canonical_json.h"
#include "ledger/proof_file.h"
#include "tools/cli_support.h"
#include "tools/commands.h"
#include "tools/proof_cli.h"
#include "wallet/keystore.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

constexpr std::string_view kInclusionType = ledger::kInclusionProofType;
constexpr std::string_view kConsistencyType = ledger::kConsistencyProofType;

// A verification verdict: ok, or a stable code and a message.
struct Verdict {
  std::string code;  // empty when ok
  std::string message;
};

struct ProofFlags {
  std::string record, out, checkpoint_file, from_file, to_file, witnesses_file, origin, operator_key, file;
  std::optional<uint64_t> index, size, from, to, quorum;
  std::vector<std::string> witness_keys;
};

// ---- helpers ----------------------------------------------------------------

}  // namespace

// Shared with other commands (tools/proof_cli.h).
wallet::PublicKey ParsePublicKeyArg(const std::string& flag, const std::string& text) {
  if (auto pk = wallet::PublicKey::FromHex(text)) return *pk;
  auto from_file = wallet::ReadKeystorePublicKey(text);
  if (from_file.ok()) return *from_file;
  throw CliError(kExitUsage,
                 flag + ": \"" + text + "\" is neither 64 hex digits of a public key nor a keystore file");
}

void WriteOutput(const std::string& out, const std::string& text) {
  if (out.empty() || out == "-") {
    std::cout << text;
    return;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw CliError(kExitFailure, "cannot write " + out);
}

chain::StoredCheckpoint StoredAt(const chain::Store& store, uint64_t size) {
  auto value = store.GetCheckpoint(size);
  if (!value.ok()) throw CliError(kExitFailure, value.error().message);
  if (!value->has_value()) {
    throw CliError(kExitRejected, "no checkpoint of size " + std::to_string(size) +
                                      " is stored (tracectl checkpoint show lists the latest)");
  }
  auto stored = chain::StoredCheckpoint::Decode(**value);
  if (!stored.ok())
    throw CliError(kExitFailure, "stored checkpoint " + std::to_string(size) + ": " + stored.error().message);
  return std::move(stored).value();
}

chain::StoredCheckpoint LatestStored(const chain::Store& store) {
  auto last = store.LastCheckpoint();
  if (!last.ok()) throw CliError(kExitFailure, last.error().message);
  if (!last->has_value()) throw CliError(kExitRejected, "no checkpoint yet: run tracectl checkpoint sign");
  return StoredAt(store, (*last)->first);
}

namespace {

// A checkpoint given as a file (a signed note the caller holds); only its
// shape is checked here, verify-proof checks the signature.
chain::SignedNote NoteFromFile(const std::string& path) {
  auto note = chain::SignedNote::Parse(ReadFileOrThrow(path));
  if (!note.ok()) throw CliError(kExitUsage, path + ": " + note.error().message);
  if (auto c = chain::Checkpoint::Parse(note->text); !c.ok())
    throw CliError(kExitUsage, path + ": " + c.error().message);
  return std::move(note).value();
}

uint64_t NoteSize(const chain::SignedNote& note) { return chain::Checkpoint::Parse(note.text)->size; }

// The checkpoint a proof is made against: a file, a stored size, or the
// latest stored one.
chain::SignedNote ChooseCheckpoint(const chain::Store& store, const std::string& file,
                                   std::optional<uint64_t> size) {
  if (!file.empty()) return NoteFromFile(file);
  if (size) return StoredAt(store, *size).note;
  return LatestStored(store).note;
}

using api::WitnessConfig;

WitnessConfig LoadWitnessConfig(const std::string& path) {
  auto config = api::ParseWitnessConfig(ReadFileOrThrow(path));
  if (!config.ok()) throw CliError(kExitUsage, path + ": " + config.error());
  return std::move(config).value();
}

}  // namespace

// "NAME=PUBKEY" from --witness.
chain::WitnessKey ParseWitnessKey(const std::string& text, const std::string& flag) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0)
    throw CliError(kExitUsage, flag + ": \"" + text + "\" is not NAME=PUBLIC_KEY");
  return chain::WitnessKey{text.substr(0, eq), ParsePublicKeyArg(flag, text.substr(eq + 1))};
}

namespace {

chain::CheckpointSigner MakeSigner(ledger::Ledger& ledger, const GlobalFlags& g, const std::string& origin) {
  wallet::SecretKey key =
      LoadKey(DataDir{g.data}.OperatorKeyPath(), g.passphrase_file, "TRACELEDGER_OPERATOR_PASSPHRASE");
  return chain::CheckpointSigner(ledger.store(), std::move(key), origin);
}

Json DescribeCheckpoint(const chain::StoredCheckpoint& cp) {
  return Json{{"origin", cp.checkpoint.origin},
              {"size", cp.checkpoint.size},
              {"root", chain::HashHex(cp.checkpoint.root)},
              {"signer", cp.signer.Hex()},
              {"signatures", cp.note.signatures.size()},
              {"note", cp.note.Serialize()}};
}

// ---- checkpoint -------------------------------------------------------------

int RunCheckpointSign(const GlobalFlags& g, const ProofFlags& f) {
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/true, g.passphrase_file);
  chain::CheckpointSigner signer = MakeSigner(*ledger, g, f.origin);
  auto cp = signer.SignCurrent();
  if (!cp.ok()) {
    const int code = cp.error().code == chain::NoteErrorCode::kStore ? kExitFailure : kExitRejected;
    throw CliError(code, std::string(chain::NoteErrorCodeName(cp.error().code)) + ": " + cp.error().message);
  }
  WriteOutput(f.out, g.json ? DescribeCheckpoint(*cp).dump() + "\n" : cp->note.Serialize());
  return kExitOk;
}

int RunCheckpointShow(const GlobalFlags& g, const ProofFlags& f) {
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  const chain::StoredCheckpoint cp =
      f.size ? StoredAt(ledger->store(), *f.size) : LatestStored(ledger->store());
  Json out = DescribeCheckpoint(cp);
  std::string path = f.witnesses_file.empty() ? DataDir{g.data}.root + "/witnesses.json" : f.witnesses_file;
  if (!f.witnesses_file.empty() || std::filesystem::exists(path)) {
    WitnessConfig config = LoadWitnessConfig(path);
    chain::QuorumReport q = chain::CountCosignatures(cp.note, config.Policy());
    out["cosigned_by"] = q.cosigned_by;
    out["witnessed"] = q.witnessed;
    out["quorum"] = config.quorum;
  }
  if (g.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << cp.note.Serialize();
    if (out.contains("witnessed")) {
      std::cerr << "cosigned by " << out["cosigned_by"].size() << " of the configured witnesses; "
                << (out["witnessed"].get<bool>() ? "witnessed" : "not witnessed") << " (quorum "
                << out["quorum"] << ")\n";
    }
  }
  return kExitOk;
}

int RunCheckpointWitness(const GlobalFlags& g, const ProofFlags& f) {
  const std::string path =
      f.witnesses_file.empty() ? DataDir{g.data}.root + "/witnesses.json" : f.witnesses_file;
  WitnessConfig config = LoadWitnessConfig(path);
  if (f.quorum) config.quorum = *f.quorum;
  if (config.witnesses.empty()) throw CliError(kExitUsage, path + ": no witnesses configured");
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/true, g.passphrase_file);
  chain::CheckpointSigner signer = MakeSigner(*ledger, g, f.origin);
  api::CheckpointPublisher publisher(
      ledger->store(), signer,
      api::PublisherOptions{.witnesses = config.witnesses, .quorum = config.quorum, .client = {}});
  auto report = publisher.PublishOnce();
  if (!report.ok()) {
    const int code = report.error().code == chain::NoteErrorCode::kStore ? kExitFailure : kExitRejected;
    throw CliError(
        code, std::string(chain::NoteErrorCodeName(report.error().code)) + ": " + report.error().message);
  }
  Json witnesses = Json::array();
  for (const auto& w : report->witnesses) {
    witnesses.push_back({{"name", w.name}, {"cosigned", w.cosigned}, {"error", w.error}});
  }
  Json out = DescribeCheckpoint(report->checkpoint);
  out["witnesses"] = witnesses;
  out["cosigned_by"] = report->quorum.cosigned_by;
  out["quorum"] = config.quorum;
  out["witnessed"] = report->quorum.witnessed;
  if (g.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << report->checkpoint.note.Serialize();
    for (const auto& w : report->witnesses) {
      std::cerr << "  " << w.name << ": " << (w.cosigned ? "cosigned" : "not cosigned: " + w.error) << "\n";
    }
    std::cerr << (report->quorum.witnessed ? "witnessed" : "NOT witnessed") << ": "
              << report->quorum.distinct_keys << " distinct witness keys, quorum " << config.quorum << "\n";
  }
  return report->quorum.witnessed ? kExitOk : kExitRejected;
}

// ---- proofs -----------------------------------------------------------------

Json ProofFileOrThrow(ledger::ProofFileResult<Json> r) {
  if (r.ok()) return std::move(r).value();
  const int code = r.error().code == ledger::ProofFileErrorCode::kStore ? kExitFailure : kExitRejected;
  throw CliError(code, r.error().message);
}

int RunProofInclusion(const GlobalFlags& g, const ProofFlags& f) {
  if (f.record.empty() == !f.index.has_value())
    throw CliError(kExitUsage, "give exactly one of --record and --index");
  if (!f.checkpoint_file.empty() && f.size)
    throw CliError(kExitUsage, "give at most one of --size and --checkpoint");
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  uint64_t index = 0;
  if (f.index) {
    index = *f.index;
  } else {
    auto id = chain::HashFromHex(f.record);
    if (!id) throw CliError(kExitUsage, "--record: a record id is 64 hex digits");
    auto found = ledger->GetRecord(*id);
    if (!found.ok()) throw CliError(kExitFailure, found.error().message);
    if (!found->has_value()) throw CliError(kExitRejected, "not found: record " + f.record);
    index = (*found)->index;
  }
  const chain::SignedNote note = ChooseCheckpoint(ledger->store(), f.checkpoint_file, f.size);
  WriteOutput(f.out, ProofFileOrThrow(ledger::InclusionProofFile(ledger->store(), index, note)).dump(2) + "\n");
  return kExitOk;
}

int RunProofConsistency(const GlobalFlags& g, const ProofFlags& f) {
  if (f.from.has_value() == !f.from_file.empty())
    throw CliError(kExitUsage, "give exactly one of --from and --from-checkpoint");
  if (f.to && !f.to_file.empty()) throw CliError(kExitUsage, "give at most one of --to and --to-checkpoint");
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/false, g.passphrase_file);
  const chain::SignedNote old_note = ChooseCheckpoint(ledger->store(), f.from_file, f.from);
  const chain::SignedNote new_note = ChooseCheckpoint(ledger->store(), f.to_file, f.to);
  const uint64_t old_size = NoteSize(old_note), new_size = NoteSize(new_note);
  if (old_size > new_size) {
    throw CliError(kExitUsage, "--from size " + std::to_string(old_size) + " is above --to size " +
                                   std::to_string(new_size));
  }
  WriteOutput(f.out,
              ProofFileOrThrow(ledger::ConsistencyProofFile(ledger->store(), old_note, new_note)).dump(2) + "\n");
  return kExitOk;
}

// ---- verify-proof -------------------------------------------------------------

std::optional<std::vector<chain::Hash>> HashesOf(const Json& j) {
  if (!j.is_array()) return std::nullopt;
  std::vector<chain::Hash> out;
  for (const auto& h : j) {
    if (!h.is_string()) return std::nullopt;
    auto parsed = chain::HashFromHex(h.get<std::string>());
    if (!parsed) return std::nullopt;
    out.push_back(*parsed);
  }
  return out;
}

// Opens one embedded checkpoint: signature by the operator, origin.
Verdict OpenEmbedded(const Json& j, const char* member, const wallet::PublicKey& key,
                     const std::string& origin, chain::Checkpoint& checkpoint, chain::SignedNote& note) {
  if (!j.contains(member) || !j[member].is_string())
    return {"malformed", std::string(member) + " is missing"};
  auto parsed = chain::SignedNote::Parse(j[member].get<std::string>());
  if (!parsed.ok()) return {"malformed", std::string(member) + ": " + parsed.error().message};
  auto opened = chain::OpenCheckpoint(*parsed, key, origin);
  if (!opened.ok()) {
    return {std::string(chain::NoteErrorCodeName(opened.error().code)),
            std::string(member) + ": " + opened.error().message};
  }
  checkpoint = *opened;
  note = std::move(parsed).value();
  return {};
}

Verdict FromProofError(const chain::ProofResult<void>& r) {
  if (r.ok()) return {};
  return {std::string(chain::ProofErrorCodeName(r.error().code)), r.error().message};
}

Verdict VerifyProofFile(const std::string& text, const wallet::PublicKey& key, const std::string& origin,
                        const chain::WitnessPolicy& policy, std::string& summary) {
  auto parsed = ledger::ParseStrictJson(text);
  if (!parsed.ok()) return {"malformed", "not strict JSON: " + parsed.error().message};
  const Json& j = *parsed;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return {"malformed", "no \"type\""};
  const std::string type = j["type"].get<std::string>();
  auto u64 = [&](const char* m) -> std::optional<uint64_t> {
    if (!j.contains(m) || !j[m].is_number_unsigned()) return std::nullopt;
    return j[m].get<uint64_t>();
  };
  auto hashes = j.contains("hashes") ? HashesOf(j["hashes"]) : std::nullopt;
  if (!hashes) return {"malformed", "\"hashes\" is not an array of 64-hex-digit hashes"};
  chain::Checkpoint cp;
  chain::SignedNote note;
  if (type == kInclusionType) {
    auto index = u64("index"), size = u64("tree_size");
    if (!index || !size || !j.contains("entry") || !j["entry"].is_string()) {
      return {"malformed", "an inclusion proof needs index, tree_size and entry"};
    }
    if (Verdict v = OpenEmbedded(j, "checkpoint", key, origin, cp, note); !v.code.empty()) return v;
    if (*size != cp.size) {
      return {"size_mismatch", "the proof is for tree size " + std::to_string(*size) +
                                   ", the checkpoint has " + std::to_string(cp.size)};
    }
    const chain::Hash leaf = chain::LeafHash(j["entry"].get<std::string>());
    if (j.contains("leaf_hash") && j["leaf_hash"] != chain::HashHex(leaf)) {
      return {"leaf_mismatch", "leaf_hash is not the hash of entry"};
    }
    if (Verdict v = FromProofError(chain::VerifyInclusion(*index, *size, leaf, *hashes, cp.root));
        !v.code.empty()) {
      return v;
    }
    summary =
        "entry " + std::to_string(*index) + " is in " + cp.origin + " at size " + std::to_string(cp.size);
  } else if (type == kConsistencyType) {
    auto old_size = u64("old_size"), new_size = u64("new_size");
    if (!old_size || !new_size) return {"malformed", "a consistency proof needs old_size and new_size"};
    chain::Checkpoint old_cp;
    chain::SignedNote old_note;
    if (Verdict v = OpenEmbedded(j, "old_checkpoint", key, origin, old_cp, old_note); !v.code.empty())
      return v;
    if (Verdict v = OpenEmbedded(j, "new_checkpoint", key, origin, cp, note); !v.code.empty()) return v;
    if (old_cp.origin != cp.origin) return {"origin_mismatch", "the two checkpoints are of different logs"};
    if (*old_size != old_cp.size || *new_size != cp.size) {
      return {"size_mismatch", "the proof's sizes are not the checkpoints' sizes"};
    }
    if (Verdict v =
            FromProofError(chain::VerifyConsistency(old_cp.size, cp.size, old_cp.root, cp.root, *hashes));
        !v.code.empty()) {
      return v;
    }
    summary =
        cp.origin + " at size " + std::to_string(cp.size) + " extends size " + std::to_string(old_cp.size);
  } else {
    return {"unknown_type", "unknown proof type \"" + type + "\""};
  }
  if (policy.quorum > 0) {
    chain::QuorumReport q = chain::CountCosignatures(note, policy);
    if (!q.witnessed) {
      return {"not_witnessed", std::to_string(q.distinct_keys) + " distinct witness keys cosigned, quorum " +
                                   std::to_string(policy.quorum)};
    }
    summary += "; witnessed by " + std::to_string(q.distinct_keys);
  }
  return {};
}

int RunVerifyProof(const GlobalFlags& g, const ProofFlags& f) {
  const wallet::PublicKey key = ParsePublicKeyArg("--operator-key", f.operator_key);
  chain::WitnessPolicy policy;
  for (const auto& w : f.witness_keys) policy.witnesses.push_back(ParseWitnessKey(w));
  policy.quorum = f.quorum.value_or(0);
  if (policy.quorum > policy.witnesses.size())
    throw CliError(kExitUsage, "--quorum exceeds the --witness keys given");
  std::string summary;
  const Verdict v = VerifyProofFile(ReadFileOrThrow(f.file), key, f.origin, policy, summary);
  if (g.json) {
    Json out = v.code.empty() ? Json{{"ok", true}, {"summary", summary}}
                              : Json{{"ok", false}, {"error", {{"code", v.code}, {"message", v.message}}}};
    std::cout << out.dump() << "\n";
  } else if (v.code.empty()) {
    std::cout << "ok: " << summary << "\n";
  } else {
    std::cerr << "rejected: " << v.code << ": " << v.message << "\n";
  }
  return v.code.empty() ? kExitOk : kExitRejected;
}

}  // namespace

void AddProofCommands(CLI::App& app, CommandContext& ctx) {
  static ProofFlags f;
  GlobalFlags& g = ctx.global;
  std::function<int()>& action = ctx.action;

  auto* checkpoint = app.add_subcommand("checkpoint", "signed checkpoints (C2SP) and witness cosignatures");
  checkpoint->require_subcommand(1);
  auto* sign =
      checkpoint->add_subcommand("sign", "sign a checkpoint of the current tree (or show the stored one)");
  sign->add_option("--origin", f.origin,
                   "log origin line (default: the stored checkpoints', else from genesis)");
  sign->add_option("--out,-o", f.out, "write the signed note here");
  sign->callback([&] { action = [&] { return RunCheckpointSign(g, f); }; });
  auto* show = checkpoint->add_subcommand("show", "print a stored checkpoint with its cosignatures");
  show->add_option("--size", f.size, "tree size (default: the latest)");
  show->add_option("--witnesses", f.witnesses_file,
                   "witness config (default: <data>/witnesses.json if present)");
  show->callback([&] { action = [&] { return RunCheckpointShow(g, f); }; });
  auto* witness =
      checkpoint->add_subcommand("witness", "sign if needed, ask the witnesses to cosign, store it");
  witness->add_option("--witnesses", f.witnesses_file, "witness config (default: <data>/witnesses.json)");
  witness->add_option("--quorum", f.quorum, "distinct witness keys needed (default: the config's)");
  witness->add_option("--origin", f.origin, "log origin line (as for sign)");
  witness->callback([&] { action = [&] { return RunCheckpointWitness(g, f); }; });

  auto* proof =
      app.add_subcommand("proof", "RFC 9162 proofs against signed checkpoints, as self-contained files");
  proof->require_subcommand(1);
  auto* inclusion = proof->add_subcommand("inclusion", "prove that a record is in the log");
  inclusion->add_option("--record", f.record, "record id (64 hex)");
  inclusion->add_option("--index", f.index, "log index");
  inclusion->add_option("--size", f.size, "against the stored checkpoint of this size (default: the latest)");
  inclusion->add_option("--checkpoint", f.checkpoint_file, "against this signed checkpoint file");
  inclusion->add_option("--out,-o", f.out, "write the proof here (default: stdout)");
  inclusion->callback([&] { action = [&] { return RunProofInclusion(g, f); }; });
  auto* consistency =
      proof->add_subcommand("consistency", "prove that a later checkpoint extends an earlier one");
  consistency->add_option("--from", f.from, "old tree size (a stored checkpoint)");
  consistency->add_option("--from-checkpoint", f.from_file, "old signed checkpoint file");
  consistency->add_option("--to", f.to, "new tree size (a stored checkpoint; default: the latest)");
  consistency->add_option("--to-checkpoint", f.to_file, "new signed checkpoint file");
  consistency->add_option("--out,-o", f.out, "write the proof here (default: stdout)");
  consistency->callback([&] { action = [&] { return RunProofConsistency(g, f); }; });

  auto* verify = app.add_subcommand("verify-proof", "check a proof file offline against the operator's key");
  verify->add_option("file", f.file, "proof file")->required();
  verify->add_option("--operator-key", f.operator_key, "operator public key (64 hex) or its keystore file")
      ->required();
  verify->add_option("--origin", f.origin, "require this log origin");
  verify->add_option("--witness", f.witness_keys, "NAME=PUBLIC_KEY of a trusted witness; repeat");
  verify->add_option("--quorum", f.quorum, "require cosignatures by this many distinct --witness keys");
  verify->callback([&] { action = [&] { return RunVerifyProof(g, f); }; });
}

}  // namespace traceledger::tools
