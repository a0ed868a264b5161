// Anti-counterfeit state of one code, as a pure function of the scans and
// PIN attempts it has seen. A valid signature proves who issued a code, not
// that this box is the one it was printed for; copies verify too. So each
// code keeps a scan count, its first-scan time, the distinct coarse regions
// it was scanned in, and whether its one-time PIN was consumed; rules with
// configurable thresholds flag clone suspicion (FORMAT.md §15).
//
// No clock, randomness or storage here: time and the (already salted and
// hashed) client tag are passed in. scan_store.h keeps these states durable.
//
// No personal data: a region is a coarse code such as "CN-44" (validated);
// a client is remembered only as an 8-byte salted hash, and only for
// ClonePolicy::client_retention_s.
#ifndef TRACELEDGER_QRCODE_SCAN_STATE_H_
#define TRACELEDGER_QRCODE_SCAN_STATE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace traceledger::qrcode {

// Thresholds. A rule flags a code when its count EXCEEDS the threshold
// (count > max), so max is the number still considered normal.
struct ClonePolicy {
  uint32_t max_scans = 20;                   // many_scans: counted scans > this
  uint32_t max_regions = 3;                  // many_regions: distinct regions > this
  uint32_t max_scans_after_consumption = 2;  // scanned_after_consumption: scans after the PIN > this
  uint32_t max_wrong_pins = 5;               // wrong PINs per window before attempts are refused
  int64_t wrong_pin_window_s = 3600;         // the window starts at its first wrong PIN
  int64_t client_retention_s = 30 * 86400;   // how long a client hash is kept
  uint32_t max_tracked_regions = 32;         // distinct regions remembered (the count saturates here)
  uint32_t max_tracked_clients = 32;         // client hashes remembered (oldest dropped first)
};

using ClientTag = std::array<uint8_t, 8>;

struct SeenClient {
  ClientTag tag{};
  int64_t last_seen_s = 0;
  friend bool operator==(const SeenClient&, const SeenClient&) = default;
};

struct ScanState {
  uint64_t scans = 0;          // every scan
  uint64_t counted_scans = 0;  // scans the many_scans rule counts (repeats by a known client are not)
  int64_t first_scan_s = 0;    // 0: never scanned
  int64_t last_scan_s = 0;
  std::vector<std::string> regions;  // distinct, in first-seen order
  bool consumed = false;             // the PIN was entered correctly
  int64_t consumed_s = 0;
  uint64_t scans_after_consumption = 0;
  uint64_t pin_attempts_after_consumption = 0;  // correct PINs entered again
  uint32_t wrong_pins = 0;                      // in the current window
  int64_t wrong_pin_window_start_s = 0;
  std::vector<SeenClient> clients;  // within retention

  friend bool operator==(const ScanState&, const ScanState&) = default;
};

enum CloneFlag : uint32_t {
  kManyScans = 1u << 0,
  kManyRegions = 1u << 1,
  kScannedAfterConsumption = 1u << 2,
};
// "many_scans,many_regions" for the set flags; "" for none.
std::string CloneFlagNames(uint32_t flags);
uint32_t CloneFlags(const ScanState& state, const ClonePolicy& policy);

// nullopt for an acceptable region: "" (unknown; not counted) or 1..16
// characters of A-Z 0-9 '-' (e.g. "CN-44", "US-CA"); else the problem.
std::optional<std::string> RegionProblem(std::string_view region);

struct ScanInput {
  int64_t now_s = 0;
  std::string region;               // REQUIRES: !RegionProblem(region)
  std::optional<ClientTag> client;  // salted hash of a client identifier
};

// The state after one more scan, and the flags it raises.
struct ScanOutcome {
  ScanState state;
  uint32_t flags = 0;
};
ScanOutcome ApplyScan(ScanState state, const ScanInput& input, const ClonePolicy& policy);

enum class PinOutcome {
  kConsumed,         // the first correct PIN: the item is now consumed
  kAlreadyConsumed,  // correct, but consumed before: warn (a copy, or a re-check)
  kWrong,            // wrong; attempts_left tells how many remain in the window
  kRateLimited,      // too many wrong PINs: refused unchecked until retry_after_s
  kNoPin,            // the code was issued without a PIN
};
std::string_view PinOutcomeName(PinOutcome outcome);

struct PinResult {
  PinOutcome outcome = PinOutcome::kWrong;
  ScanState state;
  uint32_t attempts_left = 0;
  int64_t retry_after_s = 0;  // kRateLimited: when attempts are accepted again
  int64_t consumed_s = 0;     // kConsumed / kAlreadyConsumed: when it was consumed
};

// Applies one PIN attempt whose correctness the caller established
// (PinMatches). A rate-limited attempt changes nothing.
PinResult ApplyPinAttempt(ScanState state, bool correct, int64_t now_s, const ClonePolicy& policy);

// True when `typed` (as a person typed it, see NormalizePin) hashes to
// `expected` under the batch's salt.
bool PinMatches(std::span<const uint8_t, 16> salt, std::string_view gtin14, std::string_view serial,
                std::string_view typed, std::span<const uint8_t, 16> expected);

// The client tag: the first 8 bytes of the tagged hash, tag
// "TraceLedger/client", of salt || client identifier.
ClientTag ClientTagOf(std::span<const uint8_t> salt, std::string_view client_id);

// Binary encoding of a state (FORMAT.md §15.3); Decode accepts exactly what
// Encode produces and returns nullopt otherwise.
std::string EncodeScanState(const ScanState& state);
std::optional<ScanState> DecodeScanState(std::string_view bytes);

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_SCAN_STATE_H_
