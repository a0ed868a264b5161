// Helpers shared by the commands that handle checkpoints, proofs and keys
// on the command line (defined in tools/cmd_proof.cc).
#ifndef TRACELEDGER_TOOLS_PROOF_CLI_H_
#define TRACELEDGER_TOOLS_PROOF_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "chain/checkpoint.h"
#include "chain/hash.h"
#include "chain/store.h"
#include "chain/witness.h"
#include "wallet/key.h"

namespace traceledger::tools {

// A public key given as 64 hex digits or as a keystore file (CliError
// kExitUsage naming `flag` otherwise).
wallet::PublicKey ParsePublicKeyArg(const std::string& flag, const std::string& text);
// Writes to `out`, or stdout when it is empty or "-".
void WriteOutput(const std::string& out, const std::string& text);
std::vector<std::string> HexList(const std::vector<chain::Hash>& hashes);
// The stored checkpoint of `size` / the latest one (CliError when absent).
chain::StoredCheckpoint StoredAt(const chain::Store& store, uint64_t size);
chain::StoredCheckpoint LatestStored(const chain::Store& store);
// "NAME=PUBLIC_KEY" (hex or keystore file) of a trusted witness.
chain::WitnessKey ParseWitnessKey(const std::string& text, const std::string& flag = "--witness");

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_PROOF_CLI_H_
