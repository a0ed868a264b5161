// The node's HTTP service: the routes `traced` serves (docs/API.md), as one
// table over plain handlers, and the client side of block replication.
//
// A node is a primary (it holds the operator key and seals blocks) or a
// verifying replica of one (ledger/replica.h). Both serve every read from
// their own verified ledger; a replica refuses writes with
// 403 read_only_replica, naming the primary.
//
// Routes (docs/API.md has the exact shapes):
//   GET  /healthz               node role, tip, and the follower's state
//   GET  /v1/tip                the last block: height, tree size, root, hash
//   GET  /v1/blocks/{height}    one block with its records, as JSON
//   GET  /v1/blocks?from&count  a range in the binary transfer framing (FORMAT.md §13)
//   GET  /v1/records/{id}       one record with its index and height
//   POST /v1/records            a signed record, or an array of them
//   GET  /v1/checkpoint         the latest signed checkpoint note (text/plain, cosignatures included)
//   GET  /v1/checkpoint/{size}  the stored checkpoint of that tree size
//   GET  /v1/proof/inclusion?index=N[&size=M] | ?record=ID[&size=M]
//   GET  /v1/proof/consistency?from=N[&to=M]   proof files (ledger/proof_file.h)
//   GET  /v1/anchors/latest     the latest anchor receipt (when anchoring is configured)
//
// Handlers take an HttpRequest and return an HttpResponse and touch
// nothing else, so they can be called without a socket. Thread-safe: the
// server calls them from its worker threads.
#ifndef TRACELEDGER_API_NODE_SERVICE_H_
#define TRACELEDGER_API_NODE_SERVICE_H_

#include <cstdint>
#include <string>

#include "api/http.h"
#include "chain/anchor.h"
#include "ledger/ledger.h"
#include "ledger/replica.h"

namespace traceledger::api {

struct NodeOptions {
  // Set on a replica: the primary's URL, named in the read-only error.
  std::string primary_url;
  // Set on a replica: its follower, whose state /healthz reports.
  const ledger::Follower* follower = nullptr;
  uint32_t max_range_blocks = ledger::kMaxRangeBlocks;
  size_t max_range_bytes = ledger::kMaxRangeBytes;
  size_t max_batch_records = 10'000;  // records in one POST /v1/records array
  // Set on a primary that anchors: GET /v1/anchors/latest reads its state.
  const chain::Anchorer* anchorer = nullptr;
};

class NodeService {
 public:
  NodeService(ledger::Ledger& ledger, NodeOptions options);

  // Adds every route to `server` (the one route table). REQUIRES: before
  // server.Start(); this service outlives the server's use of it.
  void Register(HttpServer& server);

  HttpResponse Health(const HttpRequest& request) const;
  HttpResponse Tip(const HttpRequest& request) const;
  HttpResponse Block(const HttpRequest& request) const;
  HttpResponse Blocks(const HttpRequest& request) const;
  HttpResponse Record(const HttpRequest& request) const;
  HttpResponse SubmitRecords(const HttpRequest& request);
  HttpResponse LatestCheckpoint(const HttpRequest& request) const;
  HttpResponse CheckpointAt(const HttpRequest& request) const;
  HttpResponse InclusionProof(const HttpRequest& request) const;
  HttpResponse ConsistencyProof(const HttpRequest& request) const;
  HttpResponse LatestAnchor(const HttpRequest& request) const;

  bool is_replica() const { return ledger_.is_mirror(); }

 private:
  ledger::Ledger& ledger_;
  NodeOptions options_;
};

// HTTP status for a rejected record (one mapping for every route).
int RejectStatus(ledger::RejectCode code);

// A primary reached over HTTP, as the replica's follower reads it.
class HttpBlockSource : public ledger::BlockSource {
 public:
  explicit HttpBlockSource(std::string base_url, ClientOptions options = {});

  std::string Name() const override { return client_.base_url(); }
  Result<std::optional<std::string>, ledger::SourceError> TipBlock() override;
  Result<ledger::BlockRange, ledger::SourceError> Blocks(uint64_t from, uint32_t max_blocks) override;

 private:
  HttpClient client_;
};

// The replica's checkpoint check, for FollowerOptions::check_consistency:
// after each round that reached the primary's tip it fetches the primary's
// latest checkpoint (GET /v1/checkpoint) and checks it against the
// replica's verified history (ledger::CheckPrimaryCheckpoint). A checkpoint
// beyond the replica's tree is kept and checked on a later round, once the
// replica holds that many entries. Returns the fork evidence that halts the
// follower; everything else (no checkpoint yet, unreachable, badly signed)
// is logged and retried on the next round.
class CheckpointWatcher {
 public:
  CheckpointWatcher(std::string base_url, ledger::LogSink log, ClientOptions options = {});

  std::optional<ledger::ForkEvidence> Check(const ledger::Ledger& ledger);
  // The size of the last checkpoint found consistent (0: none yet).
  uint64_t verified_size() const { return verified_size_; }

 private:
  std::optional<ledger::ForkEvidence> Judge(const ledger::Ledger& ledger, const std::string& note);
  void Log(std::string_view level, std::string_view event, const ledger::Json& fields) const;

  HttpClient client_;
  ledger::LogSink log_;
  std::optional<std::string> pending_;  // a checkpoint beyond our tree
  uint64_t verified_size_ = 0;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_NODE_SERVICE_H_
