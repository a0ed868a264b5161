#include "chain/witness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>

#include "chain/proof.h"
#include "chain/store.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

constexpr std::string_view kStateHeader = "traceledger-witness-state v1\n";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::array<uint8_t, 32> CosignatureDigest(uint64_t timestamp, std::string_view text) {
  return wallet::TaggedHash(kCosignatureType, Bytes(CosignatureMessage(timestamp, text)));
}

WitnessError Err(WitnessErrorCode code, std::string message) {
  return WitnessError{code, std::move(message), 0};
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes all of `data` to fd.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string EncodeState(const std::map<std::string, WitnessedState>& state) {
  std::string body(kStateHeader);
  for (const auto& [origin, s] : state) {
    body += origin + "\t" + std::to_string(s.size) + "\t" + Base64Encode(s.root) + "\n";
  }
  return body + "sha256 " + HashHex(Sha256(body)) + "\n";
}

std::optional<std::map<std::string, WitnessedState>> DecodeState(std::string_view text) {
  const size_t sum_at = text.rfind("sha256 ");
  if (!text.starts_with(kStateHeader) || sum_at == std::string_view::npos) return std::nullopt;
  std::string_view body = text.substr(0, sum_at);
  if (text.substr(sum_at) != "sha256 " + HashHex(Sha256(body)) + "\n") return std::nullopt;
  std::map<std::string, WitnessedState> state;
  body.remove_prefix(kStateHeader.size());
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl + 1);
    const size_t t1 = line.find('\t'), t2 = line.rfind('\t');
    if (t1 == std::string_view::npos || t1 == t2) return std::nullopt;
    auto size = ParseDecimal(line.substr(t1 + 1, t2 - t1 - 1));
    auto root = Base64Decode(line.substr(t2 + 1));
    if (!size || !root || root->size() != 32) return std::nullopt;
    WitnessedState s{.size = *size, .root = {}};
    std::memcpy(s.root.data(), root->data(), 32);
    state[std::string(line.substr(0, t1))] = s;
  }
  return state;
}

}  // namespace

uint32_t CosignatureKeyId(std::string_view name, const wallet::PublicKey& key) {
  return SignatureKeyId(name, kCosignatureType, key);
}

std::string CosignatureMessage(uint64_t timestamp, std::string_view checkpoint_text) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(checkpoint_text);
}

NoteSignature Cosign(std::string_view name, const wallet::SecretKey& key, std::string_view checkpoint_text,
                     uint64_t timestamp) {
  const wallet::Signature sig = key.Sign(CosignatureDigest(timestamp, checkpoint_text));
  std::string bytes(8, '\0');
  PutBigEndian64(timestamp, reinterpret_cast<uint8_t*>(bytes.data()));
  bytes.append(sig.begin(), sig.end());
  return NoteSignature{
      .name = std::string(name), .key_id = CosignatureKeyId(name, key.Public()), .signature = bytes};
}

NoteResult<uint64_t> VerifyCosignature(const SignedNote& note, std::string_view name,
                                       const wallet::PublicKey& key) {
  const uint32_t key_id = CosignatureKeyId(name, key);
  std::optional<uint64_t> timestamp;
  for (const auto& s : note.signatures) {
    if (s.name != name || s.key_id != key_id) continue;
    if (s.signature.size() != 8 + 64) {
      return NoteError{NoteErrorCode::kBadSignature,
                       "cosignature of " + std::string(name) + " is not 72 bytes"};
    }
    const uint64_t t = GetBigEndian64(reinterpret_cast<const uint8_t*>(s.signature.data()));
    if (t > (uint64_t{1} << 63) - 1 ||
        !key.Verify(CosignatureDigest(t, note.text), Bytes(std::string_view(s.signature).substr(8)))) {
      return NoteError{NoteErrorCode::kBadSignature,
                       "cosignature of " + std::string(name) + " does not verify"};
    }
    timestamp = t;
  }
  if (!timestamp) return NoteError{NoteErrorCode::kNoSignature, "no cosignature from " + std::string(name)};
  return *timestamp;
}

QuorumReport CountCosignatures(const SignedNote& note, const WitnessPolicy& policy) {
  QuorumReport report;
  std::set<std::array<uint8_t, 32>> keys;
  for (const auto& w : policy.witnesses) {
    auto t = VerifyCosignature(note, w.name, w.key);
    if (t.ok()) {
      report.cosigned_by.push_back(w.name);
      keys.insert(w.key.bytes());
    } else if (t.error().code == NoteErrorCode::kBadSignature) {
      report.bad.push_back(w.name);
    }
  }
  report.distinct_keys = keys.size();
  report.witnessed = policy.quorum > 0 && report.distinct_keys >= policy.quorum;
  return report;
}

NoteResult<std::optional<StoredCheckpoint>> LatestWitnessedCheckpoint(const Store& store,
                                                                     const WitnessPolicy& policy) {
  std::optional<StoredCheckpoint> best;
  std::optional<NoteError> failure;
  const std::string prefix = Store::CheckpointKey(0).substr(0, 1);
  // Keys sort by big-endian size: the last qualifying one is the largest.
  auto scanned = store.Scan(prefix, "", [&](std::string_view key, std::string_view value) {
    auto stored = StoredCheckpoint::Decode(value);
    if (!stored.ok()) {
      failure = NoteError{NoteErrorCode::kMalformed,
                          "stored checkpoint under key of " + std::to_string(key.size()) +
                              " bytes does not decode: " + stored.error().message};
      return false;
    }
    if (policy.quorum == 0 || CountCosignatures(stored->note, policy).witnessed) best = std::move(stored).value();
    return true;
  });
  if (!scanned.ok()) return NoteError{NoteErrorCode::kStore, scanned.error().message};
  if (failure) return *failure;
  return best;
}

std::string_view WitnessErrorCodeName(WitnessErrorCode code) {
  switch (code) {
    case WitnessErrorCode::kMalformed:
      return "malformed";
    case WitnessErrorCode::kOldSizeTooLarge:
      return "old_size_too_large";
    case WitnessErrorCode::kUnknownLog:
      return "unknown_log";
    case WitnessErrorCode::kBadSignature:
      return "bad_signature";
    case WitnessErrorCode::kConflict:
      return "conflict";
    case WitnessErrorCode::kBadProof:
      return "bad_proof";
    case WitnessErrorCode::kIo:
      return "io";
  }
  return "unknown";
}

Result<std::unique_ptr<Witness>, WitnessError> Witness::Open(WitnessOptions options, wallet::SecretKey key) {
  if (!options.clock_s) {
    options.clock_s = [] {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    };
  }
  std::unique_ptr<Witness> w(new Witness(std::move(options), std::move(key)));
  const std::string& path = w->options_.state_path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return w;
    return Err(WitnessErrorCode::kIo, Errno("open " + path));
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Err(WitnessErrorCode::kIo, Errno("read " + path));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto state = DecodeState(text);
  if (!state) return Err(WitnessErrorCode::kIo, path + ": the witness state file is damaged");
  w->state_ = std::move(*state);
  return w;
}

std::optional<WitnessedState> Witness::Latest(const std::string& origin) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = state_.find(origin);
  if (it == state_.end()) return std::nullopt;
  return it->second;
}

Result<void, WitnessError> Witness::Persist(const std::map<std::string, WitnessedState>& state) {
  auto fault = [&](std::string_view point) { return options_.fault_point && options_.fault_point(point); };
  const std::string& path = options_.state_path;
  const std::string temp = path + ".tmp";
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (fault("persist:begin")) return Err(WitnessErrorCode::kIo, "injected failure before writing");
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Err(WitnessErrorCode::kIo, Errno("create " + temp));
  const bool written = WriteAll(fd, EncodeState(state)) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    errno = saved_errno;
    return Err(WitnessErrorCode::kIo, Errno("write " + temp));
  }
  if (fault("persist:temp-synced")) return Err(WitnessErrorCode::kIo, "injected failure before rename");
  if (::rename(temp.c_str(), path.c_str()) != 0) return Err(WitnessErrorCode::kIo, Errno("rename " + temp));
  if (fault("persist:renamed"))
    return Err(WitnessErrorCode::kIo, "injected failure before the directory sync");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Err(WitnessErrorCode::kIo, Errno("open " + dir));
  const bool synced = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!synced) return Err(WitnessErrorCode::kIo, Errno("fsync " + dir));
  if (fault("persist:done")) return Err(WitnessErrorCode::kIo, "injected failure after persisting");
  return {};
}

Result<std::string, WitnessError> Witness::AddCheckpoint(std::string_view body) {
  // Old size line, proof lines, a blank line, then the signed checkpoint.
  const size_t first_nl = body.find('\n');
  if (first_nl == std::string_view::npos || !body.starts_with("old ")) {
    return Err(WitnessErrorCode::kMalformed, "the body does not start with an \"old <size>\" line");
  }
  auto old_size = ParseDecimal(body.substr(4, first_nl - 4));
  if (!old_size) return Err(WitnessErrorCode::kMalformed, "old size is not a decimal without leading zeros");
  std::string_view rest = body.substr(first_nl + 1);
  std::vector<Hash> proof;
  for (;;) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos)
      return Err(WitnessErrorCode::kMalformed, "no blank line before the checkpoint");
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (line.empty()) break;
    if (proof.size() == kMaxProofLines) {
      return Err(WitnessErrorCode::kMalformed,
                 "more than " + std::to_string(kMaxProofLines) + " proof lines");
    }
    auto hash = Base64Decode(line);
    if (!hash || hash->size() != 32) {
      return Err(WitnessErrorCode::kMalformed,
                 "proof line " + std::to_string(proof.size() + 1) + " is not the base64 of 32 bytes");
    }
    proof.emplace_back();
    std::memcpy(proof.back().data(), hash->data(), 32);
  }
  auto note = SignedNote::Parse(rest);
  if (!note.ok()) return Err(WitnessErrorCode::kMalformed, note.error().message);
  auto checkpoint = Checkpoint::Parse(note->text);
  if (!checkpoint.ok()) return Err(WitnessErrorCode::kMalformed, checkpoint.error().message);
  const Checkpoint& c = *checkpoint;

  const WitnessedLog* log = nullptr;
  for (const auto& l : options_.logs) log = l.origin == c.origin ? &l : log;
  if (log == nullptr) return Err(WitnessErrorCode::kUnknownLog, "unknown log " + c.origin);
  bool trusted = false;
  for (const auto& key : log->keys) trusted = trusted || VerifyNote(*note, c.origin, key).ok();
  if (!trusted) return Err(WitnessErrorCode::kBadSignature, "no trusted key of " + c.origin + " signed it");
  if (*old_size > c.size) {
    return Err(WitnessErrorCode::kOldSizeTooLarge, "old size " + std::to_string(*old_size) +
                                                       " is above the checkpoint's size " +
                                                       std::to_string(c.size));
  }

  std::lock_guard<std::mutex> lock(mu_);
  WitnessedState known;
  if (auto it = state_.find(c.origin); it != state_.end()) known = it->second;
  if (*old_size != known.size) {
    WitnessError e =
        Err(WitnessErrorCode::kConflict, "old size " + std::to_string(*old_size) +
                                             " is not the last cosigned size " + std::to_string(known.size));
    e.known_size = known.size;
    return e;
  }
  if (*old_size == c.size && known.size > 0 && known.root != c.root) {
    WitnessError e = Err(WitnessErrorCode::kConflict,
                         "size " + std::to_string(c.size) + " was cosigned with another root");
    e.known_size = known.size;
    return e;
  }
  auto consistent = VerifyConsistency(known.size, c.size, known.root, c.root, proof);
  if (!consistent.ok()) {
    return Err(WitnessErrorCode::kBadProof, "consistency proof from " + std::to_string(known.size) + ": " +
                                                std::string(ProofErrorCodeName(consistent.error().code)) +
                                                ": " + consistent.error().message);
  }
  // Persist first: a cosignature is only ever returned for a durable state.
  std::map<std::string, WitnessedState> next = state_;
  next[c.origin] = WitnessedState{.size = c.size, .root = c.root};
  auto persisted = Persist(next);
  if (!persisted.ok()) return persisted.error();
  state_ = std::move(next);
  return Cosign(options_.name, key_, note->text, options_.clock_s()).Line();
}

std::string AddCheckpointBody(uint64_t old_size, const std::vector<Hash>& proof,
                              const SignedNote& checkpoint) {
  std::string body = "old " + std::to_string(old_size) + "\n";
  for (const Hash& h : proof) body += Base64Encode(h) + "\n";
  return body + "\n" + checkpoint.Serialize();
}

NoteResult<std::vector<NoteSignature>> ParseSignatureLines(std::string_view body) {
  auto note = SignedNote::Parse("-\n\n" + std::string(body));
  if (!note.ok()) return note.error();
  return std::move(note->signatures);
}

}  // namespace traceledger::chain
