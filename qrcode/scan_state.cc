#include "qrcode/scan_state.h"

#include <algorithm>
#include <vector>

#include "qrcode/code.h"
#include "util/encoding.h"
#include "wallet/key.h"

namespace traceledger::qrcode {
namespace {

constexpr uint8_t kEncodingVersion = 1;
constexpr size_t kMaxRegionChars = 16;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U64(uint64_t v) {
    uint8_t b[8];
    PutBigEndian64(v, b);
    out_.append(reinterpret_cast<const char*>(b), 8);
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void U32(uint32_t v) {
    uint8_t b[4];
    PutBigEndian32(v, b);
    out_.append(reinterpret_cast<const char*>(b), 4);
  }
  void Bytes(std::string_view s) { out_.append(s); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U8(uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U64(uint64_t& v) {
    if (in_.size() < 8) return false;
    v = GetBigEndian64(reinterpret_cast<const uint8_t*>(in_.data()));
    in_.remove_prefix(8);
    return true;
  }
  bool I64(int64_t& v) {
    uint64_t u = 0;
    if (!U64(u)) return false;
    v = static_cast<int64_t>(u);
    return true;
  }
  bool U32(uint32_t& v) {
    if (in_.size() < 4) return false;
    v = GetBigEndian32(reinterpret_cast<const uint8_t*>(in_.data()));
    in_.remove_prefix(4);
    return true;
  }
  bool Bytes(size_t n, std::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string CloneFlagNames(uint32_t flags) {
  std::string out;
  auto add = [&](uint32_t bit, const char* name) {
    if ((flags & bit) == 0) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(kManyScans, "many_scans");
  add(kManyRegions, "many_regions");
  add(kScannedAfterConsumption, "scanned_after_consumption");
  return out;
}

uint32_t CloneFlags(const ScanState& s, const ClonePolicy& p) {
  uint32_t flags = 0;
  if (s.counted_scans > p.max_scans) flags |= kManyScans;
  if (s.regions.size() > p.max_regions) flags |= kManyRegions;
  if (s.scans_after_consumption > p.max_scans_after_consumption) flags |= kScannedAfterConsumption;
  return flags;
}

std::optional<std::string> RegionProblem(std::string_view region) {
  if (region.size() > kMaxRegionChars) return "a region is at most 16 characters";
  for (char c : region) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
      return "a region is a coarse code of A-Z 0-9 '-' (e.g. CN-44)";
    }
  }
  return std::nullopt;
}

ScanOutcome ApplyScan(ScanState s, const ScanInput& in, const ClonePolicy& p) {
  ++s.scans;
  if (s.first_scan_s == 0) s.first_scan_s = in.now_s;
  s.last_scan_s = std::max(s.last_scan_s, in.now_s);
  // The encoding counts regions and clients in one byte each.
  const size_t region_cap = std::min<uint32_t>(p.max_tracked_regions, 255);
  const size_t client_cap = std::min<uint32_t>(p.max_tracked_clients, 255);
  if (!in.region.empty() && s.regions.size() < region_cap &&
      std::find(s.regions.begin(), s.regions.end(), in.region) == s.regions.end()) {
    s.regions.push_back(in.region);
  }
  if (s.consumed) ++s.scans_after_consumption;
  // Forget clients past retention, then count the scan unless its client
  // was seen within retention.
  std::erase_if(s.clients,
                [&](const SeenClient& c) { return c.last_seen_s + p.client_retention_s <= in.now_s; });
  bool repeat = false;
  if (in.client) {
    auto it = std::find_if(s.clients.begin(), s.clients.end(),
                           [&](const SeenClient& c) { return c.tag == *in.client; });
    if (it != s.clients.end()) {
      repeat = true;
      it->last_seen_s = std::max(it->last_seen_s, in.now_s);
    } else {
      if (s.clients.size() >= client_cap && !s.clients.empty()) {
        s.clients.erase(
            std::min_element(s.clients.begin(), s.clients.end(),
                             [](const auto& a, const auto& b) { return a.last_seen_s < b.last_seen_s; }));
      }
      if (client_cap > 0) s.clients.push_back(SeenClient{*in.client, in.now_s});
    }
  }
  if (!repeat) ++s.counted_scans;
  uint32_t flags = CloneFlags(s, p);
  return ScanOutcome{std::move(s), flags};
}

std::string_view PinOutcomeName(PinOutcome outcome) {
  switch (outcome) {
    case PinOutcome::kConsumed:
      return "consumed";
    case PinOutcome::kAlreadyConsumed:
      return "already_consumed";
    case PinOutcome::kWrong:
      return "wrong";
    case PinOutcome::kRateLimited:
      return "rate_limited";
    case PinOutcome::kNoPin:
      return "no_pin";
  }
  return "unknown";
}

PinResult ApplyPinAttempt(ScanState s, bool correct, int64_t now_s, const ClonePolicy& p) {
  PinResult r;
  const bool window_open = s.wrong_pins > 0 && now_s < s.wrong_pin_window_start_s + p.wrong_pin_window_s;
  if (!window_open) s.wrong_pins = 0;
  if (s.wrong_pins >= p.max_wrong_pins) {
    r.outcome = PinOutcome::kRateLimited;
    r.retry_after_s = s.wrong_pin_window_start_s + p.wrong_pin_window_s;
    r.state = std::move(s);
    return r;
  }
  if (!correct) {
    if (s.wrong_pins == 0) s.wrong_pin_window_start_s = now_s;
    ++s.wrong_pins;
    r.outcome = PinOutcome::kWrong;
    r.attempts_left = p.max_wrong_pins - s.wrong_pins;
    if (r.attempts_left == 0) r.retry_after_s = s.wrong_pin_window_start_s + p.wrong_pin_window_s;
  } else if (s.consumed) {
    ++s.pin_attempts_after_consumption;
    r.outcome = PinOutcome::kAlreadyConsumed;
    r.consumed_s = s.consumed_s;
  } else {
    s.consumed = true;
    s.consumed_s = now_s;
    r.outcome = PinOutcome::kConsumed;
    r.consumed_s = now_s;
  }
  r.state = std::move(s);
  return r;
}

bool PinMatches(std::span<const uint8_t, 16> salt, std::string_view gtin14, std::string_view serial,
                std::string_view typed, std::span<const uint8_t, 16> expected) {
  auto pin = NormalizePin(typed);
  if (!pin) return false;
  auto hash = PinHash(salt, gtin14, serial, *pin);
  // Constant-time comparison: the hash is public, but keep timing flat anyway.
  uint8_t diff = 0;
  for (size_t i = 0; i < hash.size(); ++i) diff |= static_cast<uint8_t>(hash[i] ^ expected[i]);
  return diff == 0;
}

ClientTag ClientTagOf(std::span<const uint8_t> salt, std::string_view client_id) {
  std::vector<uint8_t> msg(salt.begin(), salt.end());
  msg.insert(msg.end(), client_id.begin(), client_id.end());
  auto digest = wallet::TaggedHash("TraceLedger/client", msg);
  ClientTag tag;
  std::copy(digest.begin(), digest.begin() + tag.size(), tag.begin());
  return tag;
}

std::string EncodeScanState(const ScanState& s) {
  Writer w;
  w.U8(kEncodingVersion);
  w.U64(s.scans);
  w.U64(s.counted_scans);
  w.I64(s.first_scan_s);
  w.I64(s.last_scan_s);
  w.U8(s.consumed ? 1 : 0);
  w.I64(s.consumed_s);
  w.U64(s.scans_after_consumption);
  w.U64(s.pin_attempts_after_consumption);
  w.U32(s.wrong_pins);
  w.I64(s.wrong_pin_window_start_s);
  w.U8(static_cast<uint8_t>(s.regions.size()));
  for (const auto& region : s.regions) {
    w.U8(static_cast<uint8_t>(region.size()));
    w.Bytes(region);
  }
  w.U8(static_cast<uint8_t>(s.clients.size()));
  for (const auto& c : s.clients) {
    w.Bytes(std::string_view(reinterpret_cast<const char*>(c.tag.data()), c.tag.size()));
    w.I64(c.last_seen_s);
  }
  return w.Take();
}

std::optional<ScanState> DecodeScanState(std::string_view bytes) {
  Reader r(bytes);
  ScanState s;
  uint8_t version = 0, consumed = 0, regions = 0, clients = 0;
  if (!r.U8(version) || version != kEncodingVersion) return std::nullopt;
  if (!r.U64(s.scans) || !r.U64(s.counted_scans) || !r.I64(s.first_scan_s) || !r.I64(s.last_scan_s) ||
      !r.U8(consumed) || consumed > 1 || !r.I64(s.consumed_s) || !r.U64(s.scans_after_consumption) ||
      !r.U64(s.pin_attempts_after_consumption) || !r.U32(s.wrong_pins) ||
      !r.I64(s.wrong_pin_window_start_s) || !r.U8(regions)) {
    return std::nullopt;
  }
  s.consumed = consumed == 1;
  for (uint8_t i = 0; i < regions; ++i) {
    uint8_t n = 0;
    std::string_view region;
    if (!r.U8(n) || n == 0 || !r.Bytes(n, region) || RegionProblem(region)) return std::nullopt;
    s.regions.emplace_back(region);
  }
  if (!r.U8(clients)) return std::nullopt;
  for (uint8_t i = 0; i < clients; ++i) {
    std::string_view tag;
    SeenClient c;
    if (!r.Bytes(c.tag.size(), tag) || !r.I64(c.last_seen_s)) return std::nullopt;
    std::copy(tag.begin(), tag.end(), c.tag.begin());
    s.clients.push_back(c);
  }
  if (!r.done()) return std::nullopt;
  return s;
}

}  // namespace traceledger::qrcode
