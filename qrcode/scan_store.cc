#include "qrcode/scan_store.h"

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/helpers/memenv.h>
#include <leveldb/write_batch.h>

#include <filesystem>
#include <functional>
#include <mutex>

#include "util/encoding.h"
#include "wallet/random.h"

namespace traceledger::qrcode {
namespace {

constexpr size_t kStripes = 64;
constexpr size_t kSaltBytes = 32;

std::string CodeKey(std::string_view gtin14, std::string_view serial) {
  return "c/" + std::string(gtin14) + std::string(serial);
}

std::string SaltKey(int64_t epoch) {
  std::string key = "s/";
  key.resize(10);
  PutBigEndian64(static_cast<uint64_t>(epoch), reinterpret_cast<uint8_t*>(key.data() + 2));
  return key;
}

ScanStoreError FromStatus(const leveldb::Status& s, std::string_view what) {
  ScanStoreErrorCode code = ScanStoreErrorCode::kIo;
  if (s.IsCorruption()) code = ScanStoreErrorCode::kCorruption;
  std::string text = s.ToString();
  if (s.IsIOError() && text.starts_with("IO error: lock ")) code = ScanStoreErrorCode::kLocked;
  return ScanStoreError{code, std::string(what) + ": " + text};
}

}  // namespace

struct ScanStore::Impl {
  ScanStoreOptions options;
  std::unique_ptr<leveldb::Env> mem_env;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::DB> db;
  std::array<std::mutex, kStripes> stripes;
  std::mutex salt_mu;
  int64_t salt_epoch = -1;  // GUARDED_BY(salt_mu)
  std::string salt;         // GUARDED_BY(salt_mu)

  std::mutex& StripeFor(const std::string& key) { return stripes[std::hash<std::string>()(key) % kStripes]; }

  leveldb::WriteOptions Write() const {
    leveldb::WriteOptions wo;
    wo.sync = options.sync;
    return wo;
  }

  ScanResult<std::optional<ScanState>> Load(const std::string& key) const {
    std::string raw;
    leveldb::Status s = db->Get(leveldb::ReadOptions(), key, &raw);
    if (s.IsNotFound()) return std::optional<ScanState>();
    if (!s.ok()) return FromStatus(s, "read scan state");
    auto state = DecodeScanState(raw);
    if (!state)
      return ScanStoreError{ScanStoreErrorCode::kCorruption, "the scan state of " + key + " does not decode"};
    return std::optional<ScanState>(std::move(*state));
  }

  ScanResult<void> Store(const std::string& key, const ScanState& state) {
    leveldb::Status s = db->Put(Write(), key, EncodeScanState(state));
    if (!s.ok()) return FromStatus(s, "write scan state");
    return {};
  }

  // The salt of the epoch holding now_s, created (and old salts purged) at
  // the first use of a new epoch.
  ScanResult<std::string> SaltFor(int64_t now_s) {
    const int64_t epoch = now_s / std::max<int64_t>(1, options.salt_rotation_s);
    std::lock_guard<std::mutex> lock(salt_mu);
    if (epoch == salt_epoch) return salt;
    std::string value;
    leveldb::Status s = db->Get(leveldb::ReadOptions(), SaltKey(epoch), &value);
    if (s.IsNotFound()) {
      std::array<uint8_t, kSaltBytes> fresh;
      wallet::RandomBytes(fresh);
      value.assign(reinterpret_cast<const char*>(fresh.data()), fresh.size());
      s = db->Put(Write(), SaltKey(epoch), value);
      if (!s.ok()) return FromStatus(s, "write salt");
      if (auto purged = Purge(now_s); !purged.ok()) return purged.error();
    } else if (!s.ok()) {
      return FromStatus(s, "read salt");
    }
    if (value.size() != kSaltBytes)
      return ScanStoreError{ScanStoreErrorCode::kCorruption, "a stored salt is damaged"};
    salt_epoch = epoch;
    salt = value;
    return value;
  }

  // Deletes every salt whose last tag has outlived retention.
  ScanResult<void> Purge(int64_t now_s) {
    const int64_t rotation = std::max<int64_t>(1, options.salt_rotation_s);
    leveldb::WriteBatch batch;
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
    for (it->Seek("s/"); it->Valid() && it->key().starts_with("s/"); it->Next()) {
      if (it->key().size() != 10) continue;
      auto epoch =
          static_cast<int64_t>(GetBigEndian64(reinterpret_cast<const uint8_t*>(it->key().data() + 2)));
      if ((epoch + 1) * rotation + options.policy.client_retention_s <= now_s) batch.Delete(it->key());
    }
    if (!it->status().ok()) return FromStatus(it->status(), "scan salts");
    leveldb::Status s = db->Write(Write(), &batch);
    if (!s.ok()) return FromStatus(s, "purge salts");
    return {};
  }
};

ScanStore::ScanStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ScanStore::~ScanStore() = default;

ScanResult<std::unique_ptr<ScanStore>> ScanStore::Open(const ScanStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->filter.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options lo;
  lo.create_if_missing = true;
  lo.paranoid_checks = true;
  lo.filter_policy = impl->filter.get();
  if (options.in_memory) {
    impl->mem_env.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    lo.env = impl->mem_env.get();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(options.path).parent_path(), ec);
  }
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(lo, options.path, &db);
  if (!s.ok()) return FromStatus(s, "open " + options.path);
  impl->db.reset(db);
  return std::unique_ptr<ScanStore>(new ScanStore(std::move(impl)));
}

const ClonePolicy& ScanStore::policy() const { return impl_->options.policy; }

ScanResult<ScanOutcome> ScanStore::RecordScan(std::string_view gtin14, std::string_view serial, int64_t now_s,
                                              std::string_view region,
                                              std::optional<std::string_view> client_id) {
  if (auto problem = RegionProblem(region)) {
    return ScanStoreError{ScanStoreErrorCode::kInvalid,
                          "region \"" + std::string(region) + "\": " + *problem};
  }
  ScanInput input{.now_s = now_s, .region = std::string(region)};
  if (client_id) {
    if (client_id->empty()) return ScanStoreError{ScanStoreErrorCode::kInvalid, "an empty client id"};
    auto salt = impl_->SaltFor(now_s);
    if (!salt.ok()) return salt.error();
    input.client =
        ClientTagOf(std::span(reinterpret_cast<const uint8_t*>(salt->data()), salt->size()), *client_id);
  }
  const std::string key = CodeKey(gtin14, serial);
  std::lock_guard<std::mutex> lock(impl_->StripeFor(key));
  auto current = impl_->Load(key);
  if (!current.ok()) return current.error();
  ScanOutcome outcome = ApplyScan(current->value_or(ScanState{}), input, impl_->options.policy);
  if (auto stored = impl_->Store(key, outcome.state); !stored.ok()) return stored.error();
  return outcome;
}

ScanResult<PinResult> ScanStore::CheckPin(std::string_view gtin14, std::string_view serial,
                                          std::string_view typed_pin,
                                          const std::optional<PinCommitment>& commitment, int64_t now_s) {
  const std::string key = CodeKey(gtin14, serial);
  std::lock_guard<std::mutex> lock(impl_->StripeFor(key));
  auto current = impl_->Load(key);
  if (!current.ok()) return current.error();
  if (!commitment) {
    PinResult none;
    none.outcome = PinOutcome::kNoPin;
    none.state = current->value_or(ScanState{});
    return none;
  }
  const bool correct = PinMatches(commitment->salt, gtin14, serial, typed_pin, commitment->hash);
  ScanState before = current->value_or(ScanState{});
  PinResult result = ApplyPinAttempt(before, correct, now_s, impl_->options.policy);
  if (!(result.state == before) || !current->has_value()) {
    if (auto stored = impl_->Store(key, result.state); !stored.ok()) return stored.error();
  }
  return result;
}

ScanResult<std::optional<ScanState>> ScanStore::Get(std::string_view gtin14, std::string_view serial) const {
  return impl_->Load(CodeKey(gtin14, serial));
}

ScanResult<void> ScanStore::PurgeSalts(int64_t now_s) {
  std::lock_guard<std::mutex> lock(impl_->salt_mu);
  return impl_->Purge(now_s);
}

ScanResult<uint64_t> ScanStore::ForgetExpiredClients(int64_t now_s) {
  std::vector<std::string> keys;
  {
    std::unique_ptr<leveldb::Iterator> it(impl_->db->NewIterator(leveldb::ReadOptions()));
    for (it->Seek("c/"); it->Valid() && it->key().starts_with("c/"); it->Next())
      keys.push_back(it->key().ToString());
    if (!it->status().ok()) return FromStatus(it->status(), "scan states");
  }
  uint64_t changed = 0;
  const int64_t retention = impl_->options.policy.client_retention_s;
  for (const auto& key : keys) {
    std::lock_guard<std::mutex> lock(impl_->StripeFor(key));
    auto state = impl_->Load(key);
    if (!state.ok()) return state.error();
    if (!state->has_value()) continue;
    ScanState s = std::move(**state);
    size_t erased =
        std::erase_if(s.clients, [&](const SeenClient& c) { return c.last_seen_s + retention <= now_s; });
    if (erased == 0) continue;
    if (auto stored = impl_->Store(key, s); !stored.ok()) return stored.error();
    ++changed;
  }
  return changed;
}

}  // namespace traceledger::qrcode
