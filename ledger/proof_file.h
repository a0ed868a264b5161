// Proof files: the self-describing JSON documents `tracectl proof` writes
// and GET /v1/proof/... serves (docs/FORMAT.md, "Proof files"), built from
// a store in one place so that both produce byte-identical documents.
//
//   inclusion:   {"type":"traceledger-inclusion-proof/v1","index":…,"tree_size":…,
//                 "entry":…,"leaf_hash":…,"hashes":[…],"checkpoint":"<signed note>"}
//   consistency: {"type":"traceledger-consistency-proof/v1","old_size":…,"new_size":…,
//                 "hashes":[…],"old_checkpoint":"…","new_checkpoint":"…"}
#ifndef TRACELEDGER_LEDGER_PROOF_FILE_H_
#define TRACELEDGER_LEDGER_PROOF_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/checkpoint.h"
#include "chain/store.h"
#include "ledger/canonical_json.h"
#include "util/result.h"

namespace traceledger::ledger {

inline constexpr std::string_view kInclusionProofType = "traceledger-inclusion-proof/v1";
inline constexpr std::string_view kConsistencyProofType = "traceledger-consistency-proof/v1";

enum class ProofFileErrorCode {
  kNotFound,    // no checkpoint of that size is stored (or none at all)
  kOutOfRange,  // index not below the checkpoint's size, checkpoint beyond the log, from > to
  kStore,       // reading the store failed or a stored checkpoint does not decode
};

struct ProofFileError {
  ProofFileErrorCode code;
  std::string message;
};

template <typename T>
using ProofFileResult = Result<T, ProofFileError>;

// The stored checkpoint of tree size `size`, or the latest one without it.
[[nodiscard]] ProofFileResult<chain::StoredCheckpoint> StoredCheckpointAt(const chain::Store& store,
                                                                          std::optional<uint64_t> size);

// An inclusion proof of the entry at `index` in the tree of `checkpoint`
// (a signed note whose text is a checkpoint; only its size is used here).
[[nodiscard]] ProofFileResult<Json> InclusionProofFile(const chain::Store& store, uint64_t index,
                                                       const chain::SignedNote& checkpoint);

// A consistency proof between the trees of two checkpoints.
[[nodiscard]] ProofFileResult<Json> ConsistencyProofFile(const chain::Store& store,
                                                         const chain::SignedNote& old_checkpoint,
                                                         const chain::SignedNote& new_checkpoint);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_PROOF_FILE_H_
