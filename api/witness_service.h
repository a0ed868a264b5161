// Witnessing over HTTP (C2SP tlog-witness), both sides:
//
// - The witness's route, POST <prefix>/add-checkpoint, on an HttpServer,
//   answering from chain::Witness with the protocol's status codes: 200 and
//   the cosignature line; 400 malformed body or old size above the
//   checkpoint's; 403 not signed by a trusted log key; 404 unknown log;
//   409 with the last cosigned size as text/x.tlog.size; 422 bad
//   consistency proof; 500 when the state could not be persisted. Errors
//   other than 409 use the one JSON error shape (api/http.h).
//
// - The operator's CheckpointPublisher: signs the checkpoint of the current
//   tree (chain::CheckpointSigner), asks every configured witness to cosign
//   it with a consistency proof from the size that witness last cosigned,
//   stores the cosignatures with the checkpoint, and reports it witnessed
//   once a quorum of distinct witness keys has cosigned. It runs once on
//   demand or on an interval on its own thread.
#ifndef TRACELEDGER_API_WITNESS_SERVICE_H_
#define TRACELEDGER_API_WITNESS_SERVICE_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "chain/checkpoint.h"
#include "chain/store.h"
#include "chain/witness.h"
#include "util/result.h"

namespace traceledger::api {

inline constexpr std::string_view kTlogSizeContentType = "text/x.tlog.size";

// The response to one add-checkpoint request (no sockets involved).
HttpResponse HandleAddCheckpoint(chain::Witness& witness, const HttpRequest& request);

// Registers POST <prefix>/add-checkpoint. REQUIRES: before server.Start();
// `witness` outlives the server.
void AddWitnessRoutes(HttpServer& server, chain::Witness& witness, const std::string& prefix = "");

struct WitnessEndpoint {
  std::string name;  // the witness's key name
  std::string url;   // submission prefix, e.g. "http://127.0.0.1:7380"
  wallet::PublicKey key;
};

// The witnesses an operator asks, as configured in witnesses.json
// (docs/CLI.md): {"quorum":K,"witnesses":[{"name":…,"url":…,"public_key":…}]}.
struct WitnessConfig {
  std::vector<WitnessEndpoint> witnesses;
  size_t quorum = 0;

  chain::WitnessPolicy Policy() const;
};

// Parses witnesses.json; the error names the member and why (quorum above
// the number of witnesses included).
[[nodiscard]] Result<WitnessConfig, std::string> ParseWitnessConfig(std::string_view text);

struct PublisherOptions {
  std::vector<WitnessEndpoint> witnesses;
  size_t quorum = 0;  // distinct witness keys needed for "witnessed"
  ClientOptions client;
};

struct WitnessOutcome {
  std::string name;
  bool cosigned = false;  // its cosignature on this checkpoint is stored
  std::string error;      // why not, when not
};

struct PublishReport {
  chain::StoredCheckpoint checkpoint;  // as stored, with all cosignatures
  std::vector<WitnessOutcome> witnesses;
  chain::QuorumReport quorum;
};

class CheckpointPublisher {
 public:
  // REQUIRES: store and signer outlive the publisher; signer signs for
  // this store.
  CheckpointPublisher(chain::Store& store, chain::CheckpointSigner& signer, PublisherOptions options);
  ~CheckpointPublisher();  // Stop()
  CheckpointPublisher(const CheckpointPublisher&) = delete;
  CheckpointPublisher& operator=(const CheckpointPublisher&) = delete;

  // Signs (or reuses) the checkpoint of the current tree and asks each
  // witness whose cosignature it lacks. Fails only when signing or storing
  // fails (e.g. kInconsistent); a witness that cannot be reached or refuses
  // is reported in the outcome. Thread-safe (calls are serialized).
  [[nodiscard]] Result<PublishReport, chain::NoteError> PublishOnce();

  // Calls PublishOnce now and then every `interval` on a thread until Stop.
  void Start(std::chrono::milliseconds interval);
  void Stop();
  // The result of the last PublishOnce (run by the thread or a caller).
  std::optional<Result<PublishReport, chain::NoteError>> last() const;

 private:
  Result<PublishReport, chain::NoteError> PublishLocked();
  WitnessOutcome Ask(const WitnessEndpoint& w, const chain::StoredCheckpoint& cp,
                     std::vector<chain::NoteSignature>& cosignatures);

  chain::Store& store_;
  chain::CheckpointSigner& signer_;
  PublisherOptions options_;
  chain::WitnessPolicy policy_;
  std::mutex publish_mu_;                       // serializes PublishOnce
  std::map<std::string, uint64_t> known_size_;  // per witness; GUARDED_BY(publish_mu_)
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;                                        // GUARDED_BY(mu_)
  std::optional<Result<PublishReport, chain::NoteError>> last_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_WITNESS_SERVICE_H_
