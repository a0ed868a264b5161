#include "ledger/proof_file.h"

#include <utility>
#include <vector>

#include "chain/merkle.h"
#include "chain/proof.h"

namespace traceledger::ledger {
namespace {

std::vector<std::string> HexList(const std::vector<chain::Hash>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const auto& h : hashes) out.push_back(chain::HashHex(h));
  return out;
}

ProofFileResult<uint64_t> NoteSize(const chain::SignedNote& note) {
  auto c = chain::Checkpoint::Parse(note.text);
  if (!c.ok()) return ProofFileError{ProofFileErrorCode::kStore, "checkpoint: " + c.error().message};
  return c->size;
}

uint64_t LogSize(const chain::Store& store) {
  auto tip = store.tip();
  return tip ? tip->frontier.size() : 0;
}

}  // namespace

ProofFileResult<chain::StoredCheckpoint> StoredCheckpointAt(const chain::Store& store,
                                                            std::optional<uint64_t> size) {
  std::optional<std::string> value;
  if (size) {
    auto got = store.GetCheckpoint(*size);
    if (!got.ok()) return ProofFileError{ProofFileErrorCode::kStore, got.error().message};
    if (!got->has_value()) {
      return ProofFileError{ProofFileErrorCode::kNotFound,
                            "no checkpoint of size " + std::to_string(*size) + " is stored"};
    }
    value = std::move(**got);
  } else {
    auto last = store.LastCheckpoint();
    if (!last.ok()) return ProofFileError{ProofFileErrorCode::kStore, last.error().message};
    if (!last->has_value()) return ProofFileError{ProofFileErrorCode::kNotFound, "no checkpoint is stored yet"};
    size = (*last)->first;
    value = std::move((*last)->second);
  }
  auto stored = chain::StoredCheckpoint::Decode(*value);
  if (!stored.ok()) {
    return ProofFileError{ProofFileErrorCode::kStore,
                          "stored checkpoint " + std::to_string(*size) + ": " + stored.error().message};
  }
  return std::move(stored).value();
}

ProofFileResult<Json> InclusionProofFile(const chain::Store& store, uint64_t index,
                                         const chain::SignedNote& checkpoint) {
  auto size = NoteSize(checkpoint);
  if (!size.ok()) return size.error();
  const uint64_t log_size = LogSize(store);
  if (*size > log_size) {
    return ProofFileError{ProofFileErrorCode::kOutOfRange, "the checkpoint has size " + std::to_string(*size) +
                                                               ", the log only " + std::to_string(log_size)};
  }
  if (index >= *size) {
    return ProofFileError{ProofFileErrorCode::kOutOfRange, "index " + std::to_string(index) +
                                                               " is not in the checkpoint's tree of size " +
                                                               std::to_string(*size)};
  }
  auto entry = store.GetEntry(index);
  if (!entry.ok() || !entry->has_value()) {
    return ProofFileError{ProofFileErrorCode::kStore, "entry " + std::to_string(index) + " is unreadable"};
  }
  chain::StoreNodeSource nodes(store);
  auto proof = chain::InclusionProof(nodes, index, *size);
  if (!proof.ok()) return ProofFileError{ProofFileErrorCode::kStore, proof.error().message};
  return Json{{"type", kInclusionProofType},
              {"index", index},
              {"tree_size", *size},
              {"entry", **entry},
              {"leaf_hash", chain::HashHex(chain::LeafHash(**entry))},
              {"hashes", HexList(*proof)},
              {"checkpoint", checkpoint.Serialize()}};
}

ProofFileResult<Json> ConsistencyProofFile(const chain::Store& store, const chain::SignedNote& old_checkpoint,
                                           const chain::SignedNote& new_checkpoint) {
  auto old_size = NoteSize(old_checkpoint);
  if (!old_size.ok()) return old_size.error();
  auto new_size = NoteSize(new_checkpoint);
  if (!new_size.ok()) return new_size.error();
  if (*old_size > *new_size) {
    return ProofFileError{ProofFileErrorCode::kOutOfRange, "from size " + std::to_string(*old_size) +
                                                               " is above to size " + std::to_string(*new_size)};
  }
  if (*new_size > LogSize(store)) {
    return ProofFileError{ProofFileErrorCode::kOutOfRange, "the new checkpoint is beyond the log"};
  }
  chain::StoreNodeSource nodes(store);
  auto proof = chain::ConsistencyProof(nodes, *old_size, *new_size);
  if (!proof.ok()) return ProofFileError{ProofFileErrorCode::kStore, proof.error().message};
  return Json{{"type", kConsistencyProofType},
              {"old_size", *old_size},
              {"new_size", *new_size},
              {"hashes", HexList(*proof)},
              {"old_checkpoint", old_checkpoint.Serialize()},
              {"new_checkpoint", new_checkpoint.Serialize()}};
}

}  // namespace traceledger::ledger
