#include "chain/checkpoint.h"

#include <cstring>

#include "chain/merkle.h"
#include "chain/proof.h"
#include "chain/store.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014, U+0020
constexpr uint8_t kUnassignedType = 0xff;

NoteError Malformed(std::string message) { return NoteError{NoteErrorCode::kMalformed, std::move(message)}; }

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Decodes the UTF-8 code point at s[i]; returns its length, 0 if invalid
// (overlong, surrogate, above U+10FFFF, truncated).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? c : c & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

bool IsUnicodeSpace(uint32_t cp) {
  return cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

// Valid UTF-8 without control characters other than '\n' (and DEL).
std::optional<std::string> CheckText(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s, i, cp);
    if (len == 0) return "invalid UTF-8 at byte " + std::to_string(i);
    if ((cp < 0x20 && cp != '\n') || cp == 0x7f) return "control character at byte " + std::to_string(i);
    i += len;
  }
  return std::nullopt;
}

std::optional<std::string> CheckKeyName(std::string_view name) {
  if (name.empty()) return "empty key name";
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(name, i, cp);
    if (len == 0) return "key name is not UTF-8";
    if (IsUnicodeSpace(cp) || cp == '+') return "key name holds a space or '+'";
    i += len;
  }
  return std::nullopt;
}

std::array<uint8_t, 32> NoteDigest(std::string_view text) {
  return wallet::TaggedHash(kNoteSignatureType, Bytes(text));
}

}  // namespace

std::string_view NoteErrorCodeName(NoteErrorCode code) {
  switch (code) {
    case NoteErrorCode::kMalformed:
      return "malformed";
    case NoteErrorCode::kNoSignature:
      return "no_signature";
    case NoteErrorCode::kBadSignature:
      return "bad_signature";
    case NoteErrorCode::kOriginMismatch:
      return "origin_mismatch";
    case NoteErrorCode::kInconsistent:
      return "inconsistent";
    case NoteErrorCode::kStore:
      return "store";
  }
  return "unknown";
}

std::string NoteSignature::Line() const {
  std::string raw(4, '\0');
  PutBigEndian32(key_id, reinterpret_cast<uint8_t*>(raw.data()));
  raw += signature;
  return std::string(kEmDashSpace) + name + " " + Base64Encode(Bytes(raw)) + "\n";
}

std::string SignedNote::Serialize() const {
  std::string out = text + "\n";
  for (const auto& s : signatures) out += s.Line();
  return out;
}

NoteResult<SignedNote> SignedNote::Parse(std::string_view bytes) {
  if (bytes.size() > kMaxNoteBytes)
    return Malformed("note larger than " + std::to_string(kMaxNoteBytes) + " bytes");
  if (auto bad = CheckText(bytes)) return Malformed(*bad);
  if (bytes.empty() || bytes.back() != '\n') return Malformed("note does not end with a newline");
  // The text ends at the last blank line; signature lines follow it.
  const size_t blank = bytes.rfind("\n\n");
  if (blank == std::string_view::npos) return Malformed("no blank line before the signatures");
  SignedNote note;
  note.text = std::string(bytes.substr(0, blank + 1));
  std::string_view rest = bytes.substr(blank + 2);
  if (rest.empty()) return Malformed("no signature lines");
  size_t line_no = 0;
  while (!rest.empty()) {
    ++line_no;
    const std::string where = "signature line " + std::to_string(line_no);
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (!line.starts_with(kEmDashSpace))
      return Malformed(where + " does not start with an em dash and a space");
    line.remove_prefix(kEmDashSpace.size());
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos) return Malformed(where + " has no signature");
    std::string_view name = line.substr(0, space);
    if (auto bad = CheckKeyName(name)) return Malformed(where + ": " + *bad);
    auto raw = Base64Decode(line.substr(space + 1));
    if (!raw) return Malformed(where + ": signature is not standard base64");
    if (raw->size() < 5) return Malformed(where + ": signature shorter than 5 bytes");
    if (note.signatures.size() == kMaxNoteSignatures) {
      return Malformed("more than " + std::to_string(kMaxNoteSignatures) + " signatures");
    }
    NoteSignature sig{.name = std::string(name),
                      .key_id = GetBigEndian32(raw->data()),
                      .signature = std::string(raw->begin() + 4, raw->end())};
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

void SignedNote::AddSignatures(const std::vector<NoteSignature>& more) {
  for (const auto& s : more) {
    bool present = false;
    for (const auto& have : signatures) present = present || have == s;
    if (!present) signatures.push_back(s);
  }
}

std::string Checkpoint::Text() const {
  std::string out = origin + "\n" + std::to_string(size) + "\n" + Base64Encode(root) + "\n";
  for (const auto& e : extensions) out += e + "\n";
  return out;
}

NoteResult<Checkpoint> Checkpoint::Parse(std::string_view text) {
  if (auto bad = CheckText(text)) return Malformed("checkpoint: " + *bad);
  if (text.empty() || text.back() != '\n') return Malformed("checkpoint: text does not end with a newline");
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return Malformed("checkpoint: fewer than 3 lines");
  Checkpoint c;
  if (lines[0].empty()) return Malformed("checkpoint: empty origin line");
  c.origin = std::string(lines[0]);
  auto size = ParseDecimal(lines[1]);
  if (!size) return Malformed("checkpoint line 2: tree size is not a decimal without leading zeros");
  c.size = *size;
  auto root = Base64Decode(lines[2]);
  if (!root || root->size() != c.root.size()) {
    return Malformed("checkpoint line 3: root is not the standard base64 of 32 bytes");
  }
  std::memcpy(c.root.data(), root->data(), c.root.size());
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty())
      return Malformed("checkpoint line " + std::to_string(i + 1) + ": empty extension line");
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

uint32_t SignatureKeyId(std::string_view name, std::string_view type, const wallet::PublicKey& key) {
  Sha256Hasher hasher;
  const uint8_t type_byte[1] = {kUnassignedType};
  hasher.Update(name).Update("\n").Update(type_byte).Update(type).Update(key.bytes());
  const Hash h = hasher.Finish();
  return GetBigEndian32(h.data());
}

uint32_t NoteKeyId(std::string_view name, const wallet::PublicKey& key) {
  return SignatureKeyId(name, kNoteSignatureType, key);
}

NoteSignature SignNote(std::string_view name, const wallet::SecretKey& key, std::string_view text) {
  const wallet::Signature sig = key.Sign(NoteDigest(text));
  return NoteSignature{.name = std::string(name),
                       .key_id = NoteKeyId(name, key.Public()),
                       .signature = std::string(sig.begin(), sig.end())};
}

NoteResult<void> VerifyNote(const SignedNote& note, std::string_view name, const wallet::PublicKey& key) {
  const uint32_t key_id = NoteKeyId(name, key);
  bool found = false;
  for (const auto& s : note.signatures) {
    if (s.name != name || s.key_id != key_id) continue;
    found = true;
    if (s.signature.size() != 64 || !key.Verify(NoteDigest(note.text), Bytes(s.signature))) {
      return NoteError{NoteErrorCode::kBadSignature,
                       "the signature of " + std::string(name) + " does not verify"};
    }
  }
  if (!found) {
    return NoteError{NoteErrorCode::kNoSignature,
                     "no signature line from " + std::string(name) + " with key " + key.KeyId()};
  }
  return {};
}

NoteResult<Checkpoint> OpenCheckpoint(const SignedNote& note, const wallet::PublicKey& log_key,
                                      std::string_view expected_origin) {
  auto checkpoint = Checkpoint::Parse(note.text);
  if (!checkpoint.ok()) return checkpoint.error();
  if (!expected_origin.empty() && checkpoint->origin != expected_origin) {
    return NoteError{NoteErrorCode::kOriginMismatch, "checkpoint of log " + checkpoint->origin +
                                                         ", expected " + std::string(expected_origin)};
  }
  auto verified = VerifyNote(note, checkpoint->origin, log_key);
  if (!verified.ok()) return verified.error();
  return checkpoint;
}

std::string StoredCheckpoint::Encode() const {
  std::string out(reinterpret_cast<const char*>(signer.bytes().data()), signer.bytes().size());
  return out + note.Serialize();
}

NoteResult<StoredCheckpoint> StoredCheckpoint::Decode(std::string_view value) {
  if (value.size() < 32) return Malformed("stored checkpoint shorter than its signer key");
  auto signer = wallet::PublicKey::Parse(Bytes(value.substr(0, 32)));
  if (!signer) return Malformed("stored checkpoint: signer is not a public key");
  auto note = SignedNote::Parse(value.substr(32));
  if (!note.ok()) return note.error();
  auto checkpoint = OpenCheckpoint(*note, *signer);
  if (!checkpoint.ok()) return checkpoint.error();
  return StoredCheckpoint{.signer = *signer, .note = std::move(note).value(), .checkpoint = *checkpoint};
}

NoteResult<std::string> DefaultOrigin(const Store& store) {
  auto genesis = store.GetBlock(0);
  if (!genesis.ok()) return NoteError{NoteErrorCode::kStore, genesis.error().message};
  if (!genesis->has_value()) return NoteError{NoteErrorCode::kStore, "the store holds no genesis block"};
  const Hash h = (*genesis)->header.ComputeHash();
  return "traceledger/" + HexEncode(std::span<const uint8_t>(h.data(), 16));
}

CheckpointSigner::CheckpointSigner(Store& store, wallet::SecretKey key, std::string origin)
    : store_(store), key_(std::move(key)), origin_(std::move(origin)) {}

const std::string& CheckpointSigner::origin() {
  std::lock_guard<std::mutex> lock(mu_);
  (void)ResolveOrigin();
  return origin_;
}

NoteResult<void> CheckpointSigner::ResolveOrigin() {
  if (!origin_.empty()) return {};
  auto last = store_.LastCheckpoint();
  if (!last.ok()) return NoteError{NoteErrorCode::kStore, last.error().message};
  if (last->has_value()) {
    auto stored = StoredCheckpoint::Decode((*last)->second);
    if (!stored.ok()) return stored.error();
    origin_ = stored->checkpoint.origin;
    return {};
  }
  auto fallback = DefaultOrigin(store_);
  if (!fallback.ok()) return fallback.error();
  origin_ = *fallback;
  return {};
}

NoteResult<StoredCheckpoint> CheckpointSigner::SignCurrent() {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto resolved = ResolveOrigin(); !resolved.ok()) return resolved.error();
  auto tip = store_.tip();
  if (!tip) return NoteError{NoteErrorCode::kStore, "the store holds no log"};
  const uint64_t size = tip->frontier.size();
  const Hash root = tip->frontier.Root();

  auto last = store_.LastCheckpoint();
  if (!last.ok()) return NoteError{NoteErrorCode::kStore, last.error().message};
  if (last->has_value()) {
    auto prev = StoredCheckpoint::Decode((*last)->second);
    if (!prev.ok()) {
      return NoteError{NoteErrorCode::kInconsistent,
                       "the last checkpoint does not verify: " + prev.error().message};
    }
    const Checkpoint& p = prev->checkpoint;
    if (p.origin != origin_) {
      return NoteError{NoteErrorCode::kOriginMismatch,
                       "the last checkpoint is of log " + p.origin + ", not " + origin_};
    }
    if (p.size != (*last)->first || p.size > size) {
      return NoteError{
          NoteErrorCode::kInconsistent,
          "the last checkpoint has size " + std::to_string(p.size) + ", the log " + std::to_string(size)};
    }
    if (p.size == size) {
      if (p.root != root) {
        return NoteError{NoteErrorCode::kInconsistent, "the last checkpoint has this size with another root"};
      }
      return std::move(prev).value();
    }
    // The store must prove the new tree extends the signed one.
    StoreNodeSource nodes(store_);
    auto proof = ConsistencyProof(nodes, p.size, size);
    if (!proof.ok()) return NoteError{NoteErrorCode::kStore, proof.error().message};
    auto consistent = VerifyConsistency(p.size, size, p.root, root, *proof);
    if (!consistent.ok()) {
      return NoteError{NoteErrorCode::kInconsistent,
                       "the log is not consistent with the last checkpoint: " + consistent.error().message};
    }
  }
  Checkpoint c{.origin = origin_, .size = size, .root = root, .extensions = {}};
  SignedNote note{.text = c.Text(), .signatures = {SignNote(origin_, key_, c.Text())}};
  StoredCheckpoint stored{.signer = key_.Public(), .note = std::move(note), .checkpoint = c};
  // Persisted before it is released: after a crash the next signature is
  // checked against this one.
  auto put = store_.PutCheckpoint(size, stored.Encode(), /*sync=*/true);
  if (!put.ok()) return NoteError{NoteErrorCode::kStore, put.error().message};
  return stored;
}

NoteResult<StoredCheckpoint> CheckpointSigner::AddCosignatures(uint64_t size,
                                                               const std::vector<NoteSignature>& lines) {
  std::lock_guard<std::mutex> lock(mu_);
  auto value = store_.GetCheckpoint(size);
  if (!value.ok()) return NoteError{NoteErrorCode::kStore, value.error().message};
  if (!value->has_value()) {
    return NoteError{NoteErrorCode::kStore, "no stored checkpoint of size " + std::to_string(size)};
  }
  auto stored = StoredCheckpoint::Decode(**value);
  if (!stored.ok()) return stored.error();
  stored->note.AddSignatures(lines);
  auto put = store_.PutCheckpoint(size, stored->Encode(), /*sync=*/true);
  if (!put.ok()) return NoteError{NoteErrorCode::kStore, put.error().message};
  return stored;
}

}  // namespace traceledger::chain
