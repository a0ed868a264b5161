// Issuance of a batch of serialized codes for a registered lot: random
// serials (and optional one-time PINs), the codes signed on all cores, a
// manifest for the printing line, and the batch committed to the ledger as
// code_issuance parts in one block.
//
// All or nothing, also across a crash (kill -9) at any moment:
//   1. the manifest is written to hidden temporary files and fsync'ed;
//   2. a pending marker naming the ledger and the parts' record ids is
//      written (temp file, fsync, rename, directory fsync);
//   3. the parts are submitted with Ledger::SubmitAtomic: one block or none;
//   4. the manifest files are renamed to their final names, the directory
//      fsync'ed, and the marker removed.
// The final files appear only after the batch is on the ledger. After a
// crash, RecoverPending (run by every `tracectl codes issue` before it
// issues) finishes each marked batch whose parts are on the ledger and
// discards every other leftover. Details: docs/FORMAT.md §14.6.
#ifndef TRACELEDGER_QRCODE_ISSUANCE_H_
#define TRACELEDGER_QRCODE_ISSUANCE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::qrcode {

inline constexpr std::string_view kDefaultResolver = "id.traceledger.example";
inline constexpr uint64_t kMaxIssueCount = 10'000'000;  // 1000 parts of 10,000

struct IssueRequest {
  std::string gtin;   // 14 digits
  std::string lot;    // AI (10) value
  std::string batch;  // 1..64 of [A-Za-z0-9._-], not starting with '.'
  uint64_t count = 0;
  bool pins = false;
  std::string resolver = std::string(kDefaultResolver);
  std::string out_dir;  // must exist
  int64_t time_s = 0;   // the records' time
};

struct IssueProgress {
  std::string_view phase;  // "signing", then "committing"
  uint64_t done = 0;
  uint64_t total = 0;
};

struct IssueOptions {
  size_t threads = 0;  // signing threads; 0: one per core
  // Called from the issuing thread.
  std::function<void(const IssueProgress&)> progress;
  // Test hook, called after each durable step: "manifest" (temporary files
  // synced), "pending" (marker durable), "committed" (on the ledger),
  // "renamed" (final files in place). A crash test stops the process there.
  std::function<void(std::string_view step)> after_step;
};

enum class IssueErrorCode {
  kInvalid,      // a bad request (message names the field)
  kExists,       // the manifest files already exist
  kRejected,     // the ledger rejected the batch, or would: unknown lot, batch id used (reject is set)
  kUnavailable,  // the ledger could not commit; the outcome is settled by RecoverPending
  kIo,           // reading or writing files failed
  kLedger,       // a ledger read failed
};

struct IssueError {
  IssueErrorCode code;
  std::string message;
  std::optional<ledger::Reject> reject;
};

struct IssueSummary {
  std::string batch;
  uint64_t count = 0;
  std::vector<ledger::Receipt> parts;
  std::string csv_path;
  std::string jsonl_path;
};

// The manifest files of a batch: <out>/<gtin>-<batch>.csv and .jsonl.
std::string ManifestStem(std::string_view gtin, std::string_view batch);

// Issues `request.count` codes signed by `merchant` (which also signs the
// code_issuance records). `ledger` must accept writes.
[[nodiscard]] Result<IssueSummary, IssueError> IssueCodes(ledger::Ledger& ledger,
                                                          const wallet::SecretKey& merchant,
                                                          const IssueRequest& request,
                                                          const IssueOptions& options = {});

struct RecoveryReport {
  std::vector<std::string> finished;   // stems whose manifests were completed
  std::vector<std::string> discarded;  // stems whose leftovers were removed
  std::vector<std::string> skipped;    // markers of another ledger, left alone
};

// Settles what an interrupted IssueCodes left in `out_dir` (see the header
// comment). Markers written for another ledger are left alone.
[[nodiscard]] Result<RecoveryReport, IssueError> RecoverPending(const ledger::Ledger& ledger,
                                                                const std::string& out_dir);

// A random batch id: "B" + UTC date + "-" + 8 Crockford characters.
std::string NewBatchId(int64_t time_s);

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_ISSUANCE_H_
