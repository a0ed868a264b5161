// Audit and tamper tests on a real on-disk ledger.
//
// One ledger of a few thousand records of every kind, in a few hundred
// blocks, is built once per test process into a template directory; every
// test works on its own copy, tampers with it as an insider with write
// access to the data directory would (through the raw store), and checks
// that Audit names the damaged block and that the verified read path
// refuses to serve what the damage points at.
#include "ledger/audit.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chain/block.h"
#include "chain/checkpoint.h"
#include "chain/merkle.h"
#include "chain/store.h"
#include "ledger/credit_policy.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "ledger/schema.h"
#include "ledger/state.h"
#include "tests/ledger/fixture.h"
#include "util/encoding.h"
#include "wallet/key.h"

namespace traceledger::ledger {
namespace {

namespace fs = std::filesystem;
using testing::Actor;

// Ledger shape: kRounds rounds of ~10 records each, one block per round,
// after a dozen setup blocks.
constexpr int kRounds = 180;
constexpr int kMerchants = 4;

// The shipped default credit policy with the reward's points changed: a
// valid policy that differs per version.
Json PolicyWithRewardPoints(int points) {
  Json policy = *ParseStrictJson(DefaultCreditPolicyJson());
  policy["effects"]["reward"]["points"] = points % 100;
  return policy;
}

std::string MakeScratchDir(const char* tag) {
  std::string tmpl = std::string("/tmp/tl-") + tag + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return {};
  return tmpl;
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  if (!dir.empty()) fs::remove_all(dir, ec);
}

std::string Gtin(int n) {
  std::string digits = std::to_string(n);
  std::string g = "0950110" + std::string(6 - std::min<size_t>(6, digits.size()), '0') + digits;
  return g + std::to_string(Gs1CheckDigit(g));
}
std::string LotA(int r) { return "L" + std::to_string(r) + "A"; }
std::string LotB(int r) { return "L" + std::to_string(r) + "B"; }
std::string ShipmentId(int r) { return "SH-" + std::to_string(r); }
std::string Merchant(int r) { return "m" + std::to_string(r % kMerchants); }
std::string Sha256Hex(const std::string& s) { return chain::HashHex(chain::Sha256(s)); }

// What a test needs to know about one log entry.
struct EntryInfo {
  Record record;
  std::string author_party;
  uint64_t height = 0;
};

// The template ledger and what it holds.
struct BuiltLedger {
  std::string dir;   // scratch directory holding the template
  std::string path;  // the ledger's data directory
  uint64_t tip_height = 0;
  uint64_t tree_size = 0;
  std::vector<chain::BlockHeader> headers;          // by height
  std::vector<EntryInfo> entries;                   // by log index
  std::map<std::string, std::string> key_of_party;  // party -> its first key id
  std::optional<wallet::SecretKey> operator_key;
};

// Builds ledgers of every record kind through the fixture's helpers.
class LedgerBuilder : public testing::LedgerFixture {
 public:
  void TestBody() override {}

  // Creates a ledger at `path` with `rounds` rounds, `rounds_per_block`
  // rounds to a SubmitBatch, and closes it. Returns false (after recording
  // a failure) if any record was rejected.
  const wallet::SecretKey& OperatorKey() const { return op_.key; }

  bool Build(const std::string& path, int rounds, int rounds_per_block) {
    OpenFresh(LedgerOptions{.path = path});
    if (!ledger_) return false;
    Tick();
    for (int m = 0; m < kMerchants; ++m) merchants_.push_back(Register(Merchant(m), {"merchant"}));
    insp_ = Register("insp", {"inspector"});
    cust_ = Register("cust", {"customs"});
    reg_ = Register("reg", {"regulator"});
    logi_ = Register("logi", {"logistics"});
    Actor spare = Register("spare", {"merchant"});
    Tick();
    {
      // Key rotation and revocation, a role grant and the first policy.
      auto fresh = wallet::SecretKey::Generate();
      std::vector<std::string> batch = {
          Make(RecordKind::kRoleGrant, {{"party", "m3"}, {"role", "logistics"}}, op_),
          Make(RecordKind::kKeyRotation,
               {{"party", "spare"},
                {"public_key", fresh.Public().Hex()},
                {"retire_key_id", spare.key.Public().KeyId()}},
               op_),
          Make(RecordKind::kKeyRevocation,
               {{"party", "spare"}, {"key_id", spare.key.Public().KeyId()}, {"reason", "laptop lost"}}, op_),
          Make(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", PolicyWithRewardPoints(10)}}, reg_),
      };
      if (!SubmitAll(batch)) return false;
    }
    int policy_version = 1;
    std::vector<std::string> batch;
    for (int r = 0; r < rounds; ++r) {
      AppendRound(r, policy_version, batch);
      if ((r + 1) % rounds_per_block == 0 || r + 1 == rounds) {
        if (!SubmitAll(batch)) return false;
        batch.clear();
        Tick();
      }
    }
    ledger_.reset();
    return true;
  }

 private:
  void Tick() { now_ms_ += 1000; }

  bool SubmitAll(const std::vector<std::string>& batch) {
    auto results = ledger_->SubmitBatch(batch);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) {
        ADD_FAILURE() << "record " << i << " of a batch was rejected: " << results[i].error().ToString();
        return false;
      }
    }
    return true;
  }

  // One round: a product with two lots, codes, a shipment and what happens
  // to it, plus now and then a credit event, code revocation, lot recall or
  // policy update.
  void AppendRound(int r, int& policy_version, std::vector<std::string>& out) {
    const Actor& m = merchants_[r % kMerchants];
    const std::string gtin = Gtin(r);
    const std::string ship = ShipmentId(r);
    out.push_back(Make(RecordKind::kProduct, ProductBody(gtin), m));
    out.push_back(Make(RecordKind::kLot, LotBody(gtin, LotA(r)), m));
    out.push_back(Make(RecordKind::kLot, LotBody(gtin, LotB(r)), m));
    out.push_back(Make(
        RecordKind::kCodeIssuance,
        {{"gtin", gtin},
         {"lot", LotA(r)},
         {"batch", "B" + std::to_string(r)},
         {"part", 1},
         {"parts", 1},
         {"serials",
          {"S" + std::to_string(r) + "-1", "S" + std::to_string(r) + "-2", "S" + std::to_string(r) + "-3"}}},
        m));
    out.push_back(Make(RecordKind::kShipment, ShipmentBody(ship, gtin, LotA(r)), m));
    out.push_back(Make(RecordKind::kCustody,
                       {{"shipment", ship},
                        {"from", m.party},
                        {"to", "logi"},
                        {"location", "Fuzhou port"},
                        {"biz_step", "shipping"}},
                       m));
    out.push_back(Make(RecordKind::kCustody,
                       {{"shipment", ship},
                        {"from", "logi"},
                        {"to", m.party},
                        {"location", "Qianhai"},
                        {"biz_step", "receiving"},
                        {"note", "seals intact"}},
                       logi_));
    out.push_back(Make(RecordKind::kInspection,
                       {{"gtin", gtin},
                        {"lot", LotA(r)},
                        {"standard", "GB 2763-2021"},
                        {"sample_size", 5},
                        {"result", "conformant"},
                        {"report_sha256", Sha256Hex("lot report " + std::to_string(r))},
                        {"inspected_on", "2026-11-02"}},
                       insp_));
    out.push_back(Make(RecordKind::kInspection,
                       {{"shipment", ship},
                        {"standard", "GB 7718-2011"},
                        {"sample_size", 2},
                        {"result", r % 9 == 0 ? "non_conformant" : "conformant"},
                        {"report_sha256", Sha256Hex("shipment report " + std::to_string(r))},
                        {"inspected_on", "2026-11-03"}},
                       insp_));
    out.push_back(Make(RecordKind::kCustomsDecision,
                       {{"shipment", ship}, {"decision", r % 9 == 0 ? "held" : "released"}}, cust_));
    if (r % 5 == 0) {
      out.push_back(Make(RecordKind::kCreditEvent,
                         {{"merchant", m.party},
                          {"event", "penalty"},
                          {"severity", "minor"},
                          {"reason", "late customs filing"},
                          {"act_end_date", "2026-10-01"}},
                         reg_));
    }
    if (r % 7 == 3) {
      out.push_back(Make(RecordKind::kCodeRevocation,
                         {{"gtin", gtin},
                          {"lot", LotA(r)},
                          {"serials", {"S" + std::to_string(r) + "-1", "S" + std::to_string(r) + "-2"}},
                          {"reason", "labels damaged"}},
                         m));
    }
    if (r % 6 == 1) {
      out.push_back(
          Make(RecordKind::kLotRecall, {{"gtin", gtin}, {"lot", LotB(r)}, {"reason", "seal defect"}}, m));
    }
    if (r % 40 == 39) {
      ++policy_version;
      out.push_back(
          Make(RecordKind::kCreditPolicy,
               {{"version", policy_version}, {"policy", PolicyWithRewardPoints(10 + policy_version)}}, reg_));
    }
  }

  std::vector<Actor> merchants_;
  Actor insp_{"insp", wallet::SecretKey::Generate()};
  Actor cust_{"cust", wallet::SecretKey::Generate()};
  Actor reg_{"reg", wallet::SecretKey::Generate()};
  Actor logi_{"logi", wallet::SecretKey::Generate()};
};

std::unique_ptr<chain::Store> OpenRawStore(const std::string& path) {
  auto store = chain::Store::Open(chain::StoreOptions{.path = path, .create_if_missing = false});
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

// Reads back what was built: headers, parsed entries, key ids.
bool Describe(BuiltLedger& built) {
  auto store = OpenRawStore(built.path);
  if (!store || !store->tip()) return false;
  built.tip_height = store->tip()->height;
  built.tree_size = store->tip()->frontier.size();
  for (uint64_t h = 0; h <= built.tip_height; ++h) {
    auto block = store->GetBlock(h);
    if (!block.ok() || !block->has_value()) return false;
    built.headers.push_back((*block)->header);
  }
  std::map<std::string, std::string> party_of_key;
  uint64_t height = 0;
  bool ok = true;
  auto scan = store->ScanEntries(0, built.tree_size, [&](uint64_t index, std::string_view entry) {
    auto record = ParseRecord(entry);
    if (!record.ok()) return ok = false;
    while (built.headers[height].tree_size <= index) ++height;
    if (record->kind == RecordKind::kParty || record->kind == RecordKind::kKeyRotation) {
      auto key = wallet::PublicKey::FromHex(record->Str("public_key"));
      party_of_key[key->KeyId()] = std::string(record->Str("party"));
      built.key_of_party.emplace(std::string(record->Str("party")), key->KeyId());
    }
    built.entries.push_back(EntryInfo{*record, party_of_key[record->author], height});
    return true;
  });
  return ok && scan.ok();
}

// The template, built by the first test that needs it and removed when the
// test program ends.
BuiltLedger* g_built = nullptr;

class TemplateCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (g_built != nullptr) RemoveDir(g_built->dir);
    delete g_built;
    g_built = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const g_cleanup =
    ::testing::AddGlobalTestEnvironment(new TemplateCleanup);

const BuiltLedger* Template() {
  if (g_built != nullptr) return g_built->tree_size > 0 ? g_built : nullptr;
  g_built = new BuiltLedger;
  g_built->dir = MakeScratchDir("audit-template");
  if (g_built->dir.empty()) return nullptr;
  g_built->path = g_built->dir + "/ledger";
  LedgerBuilder builder;
  if (!builder.Build(g_built->path, kRounds, /*rounds_per_block=*/1)) return nullptr;
  g_built->operator_key = builder.OperatorKey();
  if (!Describe(*g_built)) {
    g_built->tree_size = 0;
    return nullptr;
  }
  return g_built;
}

// Each test gets its own copy of the template ledger.
class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    built_ = Template();
    ASSERT_NE(built_, nullptr) << "building the template ledger failed";
    dir_ = MakeScratchDir("audit");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/ledger";
    fs::copy(built_->path, path_, fs::copy_options::recursive);
  }
  void TearDown() override { RemoveDir(dir_); }

  // Replaces this test's copy of the template with a fresh one.
  void FreshCopy() {
    RemoveDir(dir_);
    dir_ = MakeScratchDir("audit");
    path_ = dir_ + "/ledger";
    fs::copy(built_->path, path_, fs::copy_options::recursive);
  }

  std::unique_ptr<chain::Store> OpenStore() const { return OpenRawStore(path_); }

  AuditReport AuditCopy(AuditOptions options = {}) const {
    auto store = OpenStore();
    if (!store) return AuditReport{.ok = false, .reason = "store does not open"};
    return Audit(*store, options);
  }

  // The ledger reopened read-only (no signer).
  std::unique_ptr<Ledger> OpenReadOnly() const {
    auto ledger = Ledger::Open(LedgerOptions{.path = path_}, std::nullopt);
    EXPECT_TRUE(ledger.ok()) << (ledger.ok() ? "" : ledger.error().message);
    if (!ledger.ok()) return nullptr;
    return std::move(ledger).value();
  }

  // The first entry of `kind` (and, if given, about `subject`), from `from`.
  const EntryInfo* Find(RecordKind kind, uint64_t from = 0, std::string_view field = {},
                        std::string_view subject = {}) const {
    for (uint64_t i = from; i < built_->entries.size(); ++i) {
      const EntryInfo& e = built_->entries[i];
      if (e.record.kind == kind && (field.empty() || e.record.Str(field) == subject)) return &e;
    }
    return nullptr;
  }
  uint64_t IndexOf(const EntryInfo* e) const { return static_cast<uint64_t>(e - built_->entries.data()); }

  template <typename T>
  static void ExpectCorrupt(const LedgerResult<T>& r, const std::string& what) {
    ASSERT_FALSE(r.ok()) << what << " was served from a damaged index";
    EXPECT_EQ(r.error().code, LedgerErrorCode::kCorrupt) << what << ": " << r.error().message;
  }

  const BuiltLedger* built_ = nullptr;
  std::string dir_;
  std::string path_;
};

class TamperTest : public AuditTest {};

TEST_F(AuditTest, TemplateHoldsEveryKindInSeveralRecordBlocks) {
  std::set<RecordKind> kinds;
  for (const auto& e : built_->entries) kinds.insert(e.record.kind);
  EXPECT_EQ(kinds.size(), static_cast<size_t>(kRecordKindCount));
  EXPECT_GE(built_->tree_size, 1900u);
  EXPECT_GE(built_->tip_height, 190u);
  uint32_t most = 0;
  for (const auto& h : built_->headers) most = std::max(most, h.record_count);
  EXPECT_GE(most, 10u);
}

TEST_F(AuditTest, IntactLedgerPasses) {
  AuditReport report = AuditCopy();
  EXPECT_TRUE(report.ok) << "height " << report.bad_height << ": " << report.reason;
  EXPECT_EQ(report.blocks, built_->tip_height + 1);
  EXPECT_EQ(report.records, built_->tree_size);
  EXPECT_GT(report.facts, built_->tree_size);  // r/ per record plus state
  AuditReport forward_only = AuditCopy(AuditOptions{.check_facts = false});
  EXPECT_TRUE(forward_only.ok) << forward_only.reason;
  EXPECT_EQ(forward_only.blocks, built_->tip_height + 1);
  EXPECT_EQ(forward_only.records, built_->tree_size);
  EXPECT_EQ(forward_only.facts, 0u);
  AuditReport one_thread = AuditCopy(AuditOptions{.threads = 1});
  EXPECT_TRUE(one_thread.ok) << one_thread.reason;
  EXPECT_EQ(one_thread.facts, report.facts);
}

TEST_F(AuditTest, ProgressIsMonotonicWithTotalTreeSize) {
  std::vector<AuditProgress> calls;
  AuditReport report =
      AuditCopy(AuditOptions{.progress = [&](const AuditProgress& p) { calls.push_back(p); }});
  ASSERT_TRUE(report.ok) << report.reason;
  uint64_t last_blocks = 0, last_facts = 0;
  int block_calls = 0, fact_calls = 0;
  bool facts_started = false;
  for (const auto& p : calls) {
    if (p.phase == "blocks") {
      EXPECT_FALSE(facts_started) << "blocks progress after the fact pass began";
      EXPECT_GT(p.done, last_blocks);
      EXPECT_EQ(p.total, built_->tree_size);
      EXPECT_LE(p.done, p.total);
      last_blocks = p.done;
      ++block_calls;
    } else {
      EXPECT_EQ(p.phase, "facts");
      facts_started = true;
      EXPECT_GT(p.done, last_facts);
      last_facts = p.done;
      ++fact_calls;
    }
  }
  EXPECT_GE(block_calls, 1);
  EXPECT_GE(fact_calls, 1);
  EXPECT_EQ(last_blocks, built_->tree_size);
  EXPECT_EQ(last_facts, report.facts);
}

// A larger ledger, so the forward pass reports progress over more than one
// window (8192 records each).
TEST(AuditProgressTest, SeveralWindowsReportIncreasingProgress) {
  const std::string dir = MakeScratchDir("audit-progress");
  ASSERT_FALSE(dir.empty());
  {
    LedgerBuilder builder;
    ASSERT_TRUE(builder.Build(dir + "/ledger", /*rounds=*/820, /*rounds_per_block=*/20));
  }
  auto store = OpenRawStore(dir + "/ledger");
  ASSERT_NE(store, nullptr);
  const uint64_t tree_size = store->tip()->frontier.size();
  ASSERT_GT(tree_size, 8192u);
  std::vector<AuditProgress> calls;
  AuditReport report = Audit(
      *store,
      AuditOptions{.check_facts = false, .progress = [&](const AuditProgress& p) { calls.push_back(p); }});
  EXPECT_TRUE(report.ok) << report.reason;
  EXPECT_EQ(report.records, tree_size);
  ASSERT_GE(calls.size(), 2u);
  uint64_t last = 0;
  for (const auto& p : calls) {
    EXPECT_EQ(p.phase, "blocks");
    EXPECT_GT(p.done, last);
    EXPECT_EQ(p.total, tree_size);
    last = p.done;
  }
  EXPECT_EQ(last, tree_size);
  store.reset();
  RemoveDir(dir);
}

// Flips or replaces single bytes in block values ('B' keys) and entry
// values ('E' keys) of every record kind; each time the forward pass must
// fail at exactly the block holding the damaged value.
TEST_F(TamperTest, EveryDamagedByteIsCaughtAtItsBlock) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::mt19937_64 rng(20261121);
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };

  struct Sample {
    std::string key;
    uint64_t height;  // where Audit must report the damage
    size_t pos;
    std::string what;
  };
  std::vector<Sample> samples;

  // Blocks: spread over the whole chain (genesis and tip included), each
  // sample in a different header field or the signature, in turn.
  const std::pair<size_t, size_t> kFields[] = {{0, 4},  {4, 8},  {12, 32}, {44, 8},  {52, 32},
                                               {84, 8}, {92, 4}, {96, 32}, {128, 64}};
  const char* const kFieldNames[] = {"magic",     "height",       "prev_hash", "tree_size", "root",
                                     "timestamp", "record_count", "signer",    "signature"};
  const uint64_t block_samples = 99;
  for (uint64_t i = 0; i < block_samples; ++i) {
    uint64_t h = i == 0                   ? 0
                 : i == block_samples - 1 ? built_->tip_height
                                          : i * built_->tip_height / block_samples;
    size_t field = i % std::size(kFields);
    size_t pos = kFields[field].first + pick(kFields[field].second);
    samples.push_back({chain::Store::BlockKey(h), h, pos, std::string("block ") + kFieldNames[field]});
  }
  // Entries: ten of every kind where there are that many, spread over
  // the log, each at a random byte and at a byte of its signature.
  std::map<RecordKind, std::vector<uint64_t>> by_kind;
  for (uint64_t i = 0; i < built_->entries.size(); ++i) by_kind[built_->entries[i].record.kind].push_back(i);
  ASSERT_EQ(by_kind.size(), static_cast<size_t>(kRecordKindCount));
  for (const auto& [kind, indexes] : by_kind) {
    const size_t n = std::min<size_t>(10, indexes.size());
    for (size_t j = 0; j < n; ++j) {
      const uint64_t index = indexes[j * indexes.size() / n];
      const std::string& entry = built_->entries[index].record.entry;
      size_t pos = pick(entry.size());
      if (j % 2 == 1) {
        // Inside the 128 hex digits of "sig".
        const size_t sig = entry.find("\"sig\":\"");
        ASSERT_NE(sig, std::string::npos);
        pos = sig + 7 + pick(128);
      }
      samples.push_back({chain::Store::EntryKey(index), built_->entries[index].height, pos,
                         "entry " + std::to_string(index) + " (" + std::string(KindName(kind)) + ")"});
    }
  }
  ASSERT_GE(samples.size(), 200u);

  int caught = 0, expected = 0, trials = 0;
  for (const Sample& s : samples) {
    auto original = store->Get(s.key);
    ASSERT_TRUE(original.ok());
    ASSERT_TRUE(original->has_value()) << s.what;
    ASSERT_LT(s.pos, original->value().size()) << s.what;
    const std::string good = **original;
    const char old = good[s.pos];
    // A printable character different from the original.
    char printable = static_cast<char>(0x21 + pick(0x7e - 0x21 + 1));
    if (printable == old) printable = printable == 'A' ? 'B' : 'A';
    // Every pair gets the bit flip; every third pair also the printable
    // replacement (each audit re-verifies every signature in the ledger,
    // so the number of audits is what bounds this test's runtime).
    std::vector<char> replacements = {static_cast<char>(old ^ 0x01)};
    if (trials % 3 == 0) replacements.push_back(printable);
    ++trials;
    for (const char replacement : replacements) {
      ++expected;
      std::string bad = good;
      bad[s.pos] = replacement;
      ASSERT_TRUE(store->RawPutForTesting(s.key, bad).ok());
      AuditReport report = Audit(*store, AuditOptions{.check_facts = false});
      EXPECT_FALSE(report.ok) << s.what << " byte " << s.pos << " -> " << int{replacement} << " not caught";
      EXPECT_EQ(report.bad_height, s.height)
          << s.what << " byte " << s.pos << " -> 0x" << std::hex << (int{replacement} & 0xff) << std::dec
          << ": " << report.reason;
      caught += !report.ok && report.bad_height == s.height;
    }
    ASSERT_TRUE(store->RawPutForTesting(s.key, good).ok());
  }
  EXPECT_EQ(caught, expected);
  EXPECT_GE(expected, 280);

  // Every value is back: the full audit passes again.
  AuditReport final_report = Audit(*store);
  EXPECT_TRUE(final_report.ok) << final_report.reason;
  EXPECT_EQ(final_report.records, built_->tree_size);
}

// 'r/' points a record id at another record's index.
TEST_F(TamperTest, RecordIndexPointingElsewhereIsCaught) {
  const EntryInfo* lot = Find(RecordKind::kLot, built_->entries.size() / 2);
  ASSERT_NE(lot, nullptr);
  for (uint64_t other : {IndexOf(lot) - 7, IndexOf(lot) + 5}) {
    SCOPED_TRACE("r/ -> " + std::to_string(other));
    {
      auto store = OpenStore();
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->RawPutForTesting(keys::Record(lot->record.id), EncodeSeq(other)).ok());
    }
    AuditReport report = AuditCopy();
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.bad_height, lot->height) << report.reason;
    auto ledger = OpenReadOnly();
    ASSERT_NE(ledger, nullptr);
    ExpectCorrupt(ledger->GetRecord(lot->record.id), "GetRecord");
    // The record the index now names is still found under its own id.
    auto right = ledger->GetRecord(built_->entries[other].record.id);
    ASSERT_TRUE(right.ok()) << right.error().message;
    ASSERT_TRUE(right->has_value());
    EXPECT_EQ((*right)->index, other);
  }
  // A damaged (wrong-length) value is refused too.
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->RawPutForTesting(keys::Record(lot->record.id), "1234567").ok());
  }
  EXPECT_FALSE(AuditCopy().ok);
  auto ledger = OpenReadOnly();
  ASSERT_NE(ledger, nullptr);
  ExpectCorrupt(ledger->GetRecord(lot->record.id), "GetRecord of a damaged r/ value");
}

// 'l/' with its owner changed to another merchant.
TEST_F(TamperTest, LotOwnerChangeIsCaught) {
  const EntryInfo* lot = Find(RecordKind::kLot, built_->entries.size() / 3);
  ASSERT_NE(lot, nullptr);
  const std::string gtin(lot->record.Str("gtin"));
  const std::string lot_number(lot->record.Str("lot"));
  const std::string key = keys::Lot(gtin, lot_number);
  {
    auto ledger = OpenReadOnly();
    ASSERT_NE(ledger, nullptr);
    auto before = ledger->GetLot(gtin, lot_number);
    ASSERT_TRUE(before.ok()) << before.error().message;
    ASSERT_TRUE(before->has_value());
    EXPECT_EQ((*before)->record.id, lot->record.id);
  }
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto raw = store->Get(key);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw->has_value());
    auto fact = DecodeFact(**raw);
    ASSERT_TRUE(fact.has_value());
    EXPECT_EQ(fact->owner, lot->author_party);
    fact->owner = lot->author_party == "m0" ? "m1" : "m0";
    ASSERT_TRUE(store->RawPutForTesting(key, EncodeFact(*fact)).ok());
  }
  AuditReport report = AuditCopy();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.bad_height, lot->height) << report.reason;
  auto ledger = OpenReadOnly();
  ASSERT_NE(ledger, nullptr);
  ExpectCorrupt(ledger->GetLot(gtin, lot_number), "GetLot");
}

// An 'hs/' history key listing an unrelated record under a shipment.
TEST_F(TamperTest, HistoryKeyForUnrelatedRecordIsCaught) {
  const EntryInfo* shipment = Find(RecordKind::kShipment, built_->entries.size() / 4);
  ASSERT_NE(shipment, nullptr);
  const std::string ship(shipment->record.Str("shipment"));
  // Custody of a later shipment: same kind of record, another subject.
  const EntryInfo* unrelated = Find(RecordKind::kCustody, IndexOf(shipment) + 40);
  ASSERT_NE(unrelated, nullptr);
  ASSERT_NE(unrelated->record.Str("shipment"), ship);
  {
    auto ledger = OpenReadOnly();
    ASSERT_NE(ledger, nullptr);
    auto history = ledger->ShipmentHistory(ship);
    ASSERT_TRUE(history.ok()) << history.error().message;
    EXPECT_EQ(history->size(), 5u);  // shipment, 2 custody, inspection, customs
  }
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->RawPutForTesting(keys::WithSeq(keys::ShipmentHistoryPrefix(ship), IndexOf(unrelated)), "")
            .ok());
  }
  AuditReport forward_only = AuditCopy(AuditOptions{.check_facts = false});
  EXPECT_TRUE(forward_only.ok) << "an extra key is for the fact pass to find: " << forward_only.reason;
  AuditReport report = AuditCopy();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.bad_height, unrelated->height) << report.reason;
  auto ledger = OpenReadOnly();
  ASSERT_NE(ledger, nullptr);
  ExpectCorrupt(ledger->ShipmentHistory(ship), "ShipmentHistory");
  // Other shipments are unaffected.
  auto other = ledger->ShipmentHistory(unrelated->record.Str("shipment"));
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->size(), 5u);
}

// An 'hs/' key naming a record beyond the tip.
TEST_F(TamperTest, HistoryKeyBeyondTheTipIsCaught) {
  const EntryInfo* shipment = Find(RecordKind::kShipment, built_->entries.size() / 2);
  ASSERT_NE(shipment, nullptr);
  const std::string ship(shipment->record.Str("shipment"));
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->RawPutForTesting(keys::WithSeq(keys::ShipmentHistoryPrefix(ship), built_->tree_size + 3), "")
            .ok());
  }
  AuditReport report = AuditCopy();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.bad_height, built_->tip_height) << report.reason;
  auto ledger = OpenReadOnly();
  ASSERT_NE(ledger, nullptr);
  auto history = ledger->ShipmentHistory(ship);
  ASSERT_FALSE(history.ok()) << "served a history listing a record that does not exist";
  EXPECT_EQ(history.error().code, LedgerErrorCode::kCorrupt) << history.error().message;
}

// A deleted 'k/' key fact: the merchant's key no longer resolves.
TEST_F(TamperTest, DeletedKeyFactIsCaught) {
  const std::string party = "m1";
  const std::string key_id = built_->key_of_party.at(party);
  const EntryInfo* registration = Find(RecordKind::kParty, 0, "party", party);
  const EntryInfo* lot = Find(RecordKind::kLot, built_->entries.size() / 2);
  while (lot != nullptr && lot->author_party != party) lot = Find(RecordKind::kLot, IndexOf(lot) + 1);
  const EntryInfo* shipment = Find(RecordKind::kShipment, built_->entries.size() / 2);
  while (shipment != nullptr && shipment->author_party != party) {
    shipment = Find(RecordKind::kShipment, IndexOf(shipment) + 1);
  }
  ASSERT_NE(registration, nullptr);
  ASSERT_NE(lot, nullptr);
  ASSERT_NE(shipment, nullptr);
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Get(keys::Key(key_id))->has_value());
    chain::WriteSet w;
    w.Delete(keys::Key(key_id));
    ASSERT_TRUE(store->Write(w, /*sync=*/true).ok());
  }
  AuditReport report = AuditCopy();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.bad_height, registration->height) << report.reason;
  auto ledger = OpenReadOnly();
  ASSERT_NE(ledger, nullptr);
  ExpectCorrupt(ledger->GetLot(lot->record.Str("gtin"), lot->record.Str("lot")), "GetLot");
  ExpectCorrupt(ledger->GetShipment(shipment->record.Str("shipment")), "GetShipment");
  ExpectCorrupt(ledger->GetProduct(lot->record.Str("gtin")), "GetProduct");
  // Looking a record up by id never serves a different record.
  auto by_id = ledger->GetRecord(lot->record.id);
  if (by_id.ok()) {
    ASSERT_TRUE(by_id->has_value());
    EXPECT_EQ((*by_id)->record.entry, lot->record.entry);
  } else {
    EXPECT_EQ(by_id.error().code, LedgerErrorCode::kCorrupt);
  }
}

// A bogus 'kr/' fact revoking a merchant's key part-way through the log.
TEST_F(TamperTest, BogusKeyRevocationIsCaught) {
  const std::string party = "m2";
  const std::string key_id = built_->key_of_party.at(party);
  const uint64_t revoked_at = built_->entries.size() / 2;
  // The first record the merchant signed after the bogus revocation.
  const EntryInfo* victim = nullptr;
  for (uint64_t i = revoked_at + 1; i < built_->entries.size() && victim == nullptr; ++i) {
    if (built_->entries[i].record.author == key_id) victim = &built_->entries[i];
  }
  ASSERT_NE(victim, nullptr);
  const EntryInfo* lot = Find(RecordKind::kLot, IndexOf(victim));
  while (lot != nullptr && lot->author_party != party) lot = Find(RecordKind::kLot, IndexOf(lot) + 1);
  ASSERT_NE(lot, nullptr);
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_FALSE(store->Get(keys::KeyRevoked(key_id))->has_value());
    ASSERT_TRUE(store->RawPutForTesting(keys::KeyRevoked(key_id), EncodeFact(Fact{.seq = revoked_at})).ok());
  }
  AuditReport report = AuditCopy();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.bad_height, victim->height) << report.reason;
  EXPECT_NE(report.reason.find("revoked"), std::string::npos) << report.reason;
  // With the fact stamped after the merchant's last record, only the fact
  // pass can tell: no record at that index revoked anything.
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->RawPutForTesting(keys::KeyRevoked(key_id), EncodeFact(Fact{.seq = built_->tree_size - 1}))
            .ok());
  }
  AuditReport late = AuditCopy();
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.bad_height, built_->tip_height) << late.reason;
  // The read path never serves a different record than the one asked for.
  auto ledger = OpenReadOnly();
  ASSERT_NE(ledger, nullptr);
  auto got = ledger->GetLot(lot->record.Str("gtin"), lot->record.Str("lot"));
  if (got.ok()) {
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->record.entry, lot->record.entry);
  } else {
    EXPECT_EQ(got.error().code, LedgerErrorCode::kCorrupt) << got.error().message;
  }
  auto by_id = ledger->GetRecord(victim->record.id);
  if (by_id.ok()) {
    ASSERT_TRUE(by_id->has_value());
    EXPECT_EQ((*by_id)->record.entry, victim->record.entry);
  } else {
    EXPECT_EQ(by_id.error().code, LedgerErrorCode::kCorrupt) << by_id.error().message;
  }
}

// The tip record rewound to an older block, hiding the newer ones.
TEST_F(TamperTest, TipRewoundToAnOlderHeightIsCaught) {
  const uint64_t old_height = built_->tip_height - 5;
  const chain::BlockHeader& old_header = built_->headers[old_height];
  // A well-formed tip for that height: its hash and the tree up to it.
  chain::MerkleFrontier frontier;
  for (uint64_t i = 0; i < old_header.tree_size; ++i) {
    frontier.AppendLeaf(chain::LeafHash(built_->entries[i].record.entry));
  }
  ASSERT_EQ(frontier.Root(), old_header.root);
  const chain::Hash old_hash = old_header.ComputeHash();
  std::string tip(8, '\0');
  PutBigEndian64(old_height, reinterpret_cast<uint8_t*>(tip.data()));
  tip.append(reinterpret_cast<const char*>(old_hash.data()), old_hash.size());
  tip += frontier.Serialize();
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->RawPutForTesting("M", tip).ok());
  }
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->tip().has_value());
    EXPECT_EQ(store->tip()->height, old_height);  // the forged tip is accepted by the store
    AuditReport report = Audit(*store);
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.bad_height, old_height) << report.reason;
  }
  {
    // A record from a hidden block is not served as part of the ledger.
    const EntryInfo& hidden = built_->entries[built_->tree_size - 1];
    auto ledger = OpenReadOnly();
    ASSERT_NE(ledger, nullptr);
    ExpectCorrupt(ledger->GetRecord(hidden.record.id), "GetRecord of a record beyond the tip");
  }
  // The right height with a wrong hash, and the right hash with a wrong
  // frontier, are caught at the tip.
  std::string wrong_hash = tip;
  wrong_hash[8] ^= 1;
  std::string wrong_frontier = tip;
  wrong_frontier.back() ^= 1;
  for (const std::string& bad : {wrong_hash, wrong_frontier}) {
    {
      auto store = OpenStore();
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->RawPutForTesting("M", bad).ok());
    }
    AuditReport report = AuditCopy(AuditOptions{.check_facts = false});
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.bad_height, old_height) << report.reason;
  }
}

}  // namespace
}  // namespace traceledger::ledger

namespace traceledger::ledger {
namespace {

// Keys the chain never writes, anywhere in its keyspace, fail the audit.
TEST_F(TamperTest, StrayKeysOutsideTheLayoutAreCaught) {
  const std::vector<std::string> strays = {
      std::string("\x01stray", 6),
      "A",
      chain::Store::BlockKey(built_->tip_height + 1),
      chain::Store::BlockKey(3) + "x",
      "C",
      std::string("E\x00", 2),
      chain::Store::EntryKey(built_->tree_size + 7),
      "H",
      chain::Store::NodeKey(1, 0),
      chain::Store::NodeKey(0, built_->tree_size),
      chain::Store::NodeKey(0, 3) + "x",
      chain::Store::NodeKey(4, built_->tree_size >> 4),
      chain::Store::NodeKey(12, 0),
      "L",
      "Zebra",
      "~",
  };
  for (const auto& stray : strays) {
    SCOPED_TRACE("stray key " + PrintableKey(stray));
    {
      auto store = OpenStore();
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->RawPutForTesting(stray, "x").ok());
      AuditReport report = Audit(*store, AuditOptions{.check_facts = false});
      EXPECT_FALSE(report.ok);
    }
    // Remove it again for the next one (a fresh copy of the template).
    FreshCopy();
  }
}

}  // namespace
}  // namespace traceledger::ledger

namespace traceledger::ledger {
namespace {

// Height of the block that holds log index `index`.
uint64_t BlockOf(const BuiltLedger& built, uint64_t index) {
  for (const auto& h : built.headers) {
    if (h.tree_size > index) return h.height;
  }
  return built.tip_height;
}

TEST_F(TamperTest, DamagedOrMissingNodeHashesAreCaughtAtTheirBlock) {
  // Leaf 5; the node of leaves 32..47 (level 4, index 2); a level-8 node.
  for (auto [level, index] : {std::pair{0u, uint64_t{5}}, {4u, uint64_t{2}}, {8u, uint64_t{1}}}) {
    const uint64_t last_leaf = ((index + 1) << level) - 1;
    ASSERT_LT(last_leaf, built_->tree_size);
    for (bool remove : {false, true}) {
      SCOPED_TRACE("level " + std::to_string(level) + (remove ? " removed" : " damaged"));
      FreshCopy();
      {
        auto store = OpenStore();
        ASSERT_NE(store, nullptr);
        const std::string key = chain::Store::NodeKey(level, index);
        auto value = store->Get(key);
        ASSERT_TRUE(value.ok() && value->has_value());
        std::string bad = **value;
        bad[7] ^= 1;
        ASSERT_TRUE((remove ? store->RawDeleteForTesting(key) : store->RawPutForTesting(key, bad)).ok());
      }
      AuditReport report = AuditCopy(AuditOptions{.check_facts = false});
      EXPECT_FALSE(report.ok);
      EXPECT_EQ(report.bad_height, BlockOf(*built_, last_leaf)) << report.reason;
      EXPECT_NE(report.reason.find("node hash at level " + std::to_string(level)), std::string::npos)
          << report.reason;
    }
  }
}

TEST_F(TamperTest, StoredCheckpointsAreVerified) {
  ASSERT_TRUE(built_->operator_key.has_value());
  const wallet::SecretKey& op = *built_->operator_key;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto signed_cp = chain::CheckpointSigner(*store, op, "example.com/log").SignCurrent();
    ASSERT_TRUE(signed_cp.ok()) << signed_cp.error().message;
  }
  AuditReport intact = AuditCopy(AuditOptions{.check_facts = false});
  ASSERT_TRUE(intact.ok) << intact.reason;

  const uint64_t size = 100;
  auto root_at = [&](uint64_t n) {
    chain::MerkleFrontier f;
    for (uint64_t i = 0; i < n; ++i) f.AppendLeaf(chain::LeafHash(built_->entries[i].record.entry));
    return f.Root();
  };
  auto make = [&](const wallet::SecretKey& key, uint64_t n, const chain::Hash& root) {
    chain::Checkpoint c{.origin = "example.com/log", .size = n, .root = root};
    chain::StoredCheckpoint s{
        .signer = key.Public(),
        .note = chain::SignedNote{.text = c.Text(), .signatures = {chain::SignNote(c.origin, key, c.Text())}},
        .checkpoint = c};
    return s.Encode();
  };
  const wallet::SecretKey stranger = wallet::SecretKey::Generate();
  // The operator's signature line over other text: well-formed, but it
  // does not verify. (Flipping a character of the encoded note instead
  // sometimes made the base64 non-canonical, a different error.)
  std::string wrong_signature = [&] {
    chain::Checkpoint c{.origin = "example.com/log", .size = size, .root = root_at(size)};
    return chain::StoredCheckpoint{
        .signer = op.Public(),
        .note = chain::SignedNote{.text = c.Text(), .signatures = {chain::SignNote(c.origin, op, "other text\n")}},
        .checkpoint = c}
        .Encode();
  }();
  struct Case {
    std::string key, value, why;
  };
  const std::vector<Case> cases = {
      {chain::Store::CheckpointKey(size), make(op, size, root_at(size)), ""},
      {chain::Store::CheckpointKey(size), make(op, size, root_at(size - 1)), "root differs"},
      {chain::Store::CheckpointKey(size), make(stranger, size, root_at(size)), "not an operator key"},
      {chain::Store::CheckpointKey(size), make(op, size - 1, root_at(size - 1)), "does not fit"},
      {chain::Store::CheckpointKey(size), "garbage", "stored checkpoint"},
      {chain::Store::CheckpointKey(size), wrong_signature, "does not verify"},
      {"K\x01\x02", make(op, size, root_at(size)), "malformed key"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.why.empty() ? "valid" : c.why);
    FreshCopy();
    {
      auto store = OpenStore();
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->RawPutForTesting(c.key, c.value).ok());
    }
    AuditReport report = AuditCopy(AuditOptions{.check_facts = false});
    if (c.why.empty()) {
      EXPECT_TRUE(report.ok) << report.reason;
      continue;
    }
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.bad_height, built_->tip_height);
    EXPECT_NE(report.reason.find(c.why), std::string::npos) << report.reason;
  }
}

}  // namespace
}  // namespace traceledger::ledger
