// ingest_child DIR SEED: a test helper that ingests records until it is
// killed. tests/tools/crash_test.cc starts it, kills it with SIGKILL at a
// random moment and checks that every record it acknowledged survived.
//
// It creates the ledger at DIR/ledger (or opens it when it exists),
// registers a merchant and a logistics carrier if they are not registered
// yet, and then, from several threads, submits an endless stream of valid
// records — products, lots, shipments and custody handovers — through both
// Submit and SubmitBatch. After the ledger acknowledges a record, the child
// writes "<record id hex>\n" to stdout with one write(2) per line: a line
// is at most PIPE_BUF bytes, so lines from different threads never
// interleave, and nothing is buffered in the process, so every
// acknowledgement that happened before the kill reaches the parent.
//
// Keys are persisted in DIR as 32 raw secret bytes (operator.secret,
// merchant.secret, carrier.secret) so that a restarted child on the same
// directory can continue. This is a test helper: no keystore, no
// passphrase.
//
// SEED chooses the shape of the workload (batch sizes, the mix of Submit
// and SubmitBatch); object ids (GTINs, shipments) and nonces also draw on
// OS randomness, so that restarts with the same SEED never collide.
//
// Exit status: never exits on its own while things work. 2 on bad usage,
// 3 when the ledger cannot be created/opened or rejects a record (which
// would be a bug: every record it builds is valid).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chain/hash.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "ledger/schema.h"
#include "wallet/key.h"
#include "wallet/random.h"

namespace traceledger::ingest_child {
namespace {

using ledger::Json;
using ledger::RecordKind;

constexpr int kThreads = 4;
constexpr const char* kMerchant = "merchant";
constexpr const char* kCarrier = "carrier";

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "ingest_child: %s\n", message.c_str());
  std::_Exit(3);
}

// Writes all of `data` to stdout; dies if the parent went away.
void WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::_Exit(4);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// One line per acknowledged record; 65 bytes < PIPE_BUF, so atomic.
void Ack(const chain::Hash& id) { WriteAll(chain::HashHex(id) + "\n"); }

// Reads a key saved by SaveSecret, or nullopt if there is none.
std::optional<wallet::SecretKey> LoadSecret(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    Die("cannot open " + path + ": " + std::strerror(errno));
  }
  uint8_t buf[33];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n != 32) Die(path + " does not hold 32 bytes");
  auto key = wallet::SecretKey::FromBytes(std::span<const uint8_t>(buf, 32));
  if (!key) Die(path + " is not a valid secret key");
  return key;
}

// Writes the key atomically (temp file, fsync, rename), so that a kill at
// any moment leaves either no file or the whole key.
void SaveSecret(const std::string& path, const wallet::SecretKey& key) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("cannot create " + tmp + ": " + std::strerror(errno));
  if (::write(fd, key.bytes().data(), 32) != 32 || ::fsync(fd) != 0) Die("cannot write " + tmp);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) Die("cannot rename " + tmp);
}

wallet::SecretKey LoadOrCreateSecret(const std::string& path) {
  if (auto key = LoadSecret(path)) return *key;
  wallet::SecretKey key = wallet::SecretKey::Generate();
  SaveSecret(path, key);
  return key;
}

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Sign(RecordKind kind, const Json& body, const wallet::SecretKey& key) {
  return ledger::SignRecord(kind, body, key, NowS(), wallet::RandomHex(12)).entry;
}

// Submits one record and acknowledges it; any rejection is fatal.
void SubmitOne(ledger::Ledger& ledger, const std::string& json) {
  auto result = ledger.Submit(json);
  if (!result.ok()) Die("rejected: " + result.error().ToString() + "\n  " + json);
  Ack(result->id);
}

void SubmitMany(ledger::Ledger& ledger, const std::vector<std::string>& jsons) {
  auto results = ledger.SubmitBatch(jsons);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) Die("rejected in batch: " + results[i].error().ToString() + "\n  " + jsons[i]);
    Ack(results[i]->id);
  }
}

// Registers `party` with `key` unless it is registered already.
void EnsureParty(ledger::Ledger& ledger, const wallet::SecretKey& operator_key, const std::string& party,
                 const std::string& role, const wallet::SecretKey& key) {
  auto existing = ledger.GetParty(party);
  if (!existing.ok()) Die("looking up party " + party + ": " + existing.error().message);
  if (existing->has_value()) return;
  Json body = {{"party", party},
               {"name", party + " Ltd"},
               {"roles", Json::array({role})},
               {"public_key", key.Public().Hex()}};
  SubmitOne(ledger, Sign(RecordKind::kParty, body, operator_key));
}

// A random, valid GTIN-14 ("0" + 12 random digits + check digit).
std::string RandomGtin() {
  std::vector<uint8_t> bytes(12);
  wallet::RandomBytes(bytes);
  std::string digits = "0";
  for (uint8_t b : bytes) digits.push_back(static_cast<char>('0' + b % 10));
  digits.push_back(static_cast<char>('0' + ledger::Gs1CheckDigit(digits)));
  return digits;
}

struct Actors {
  wallet::SecretKey merchant;
  wallet::SecretKey carrier;
};

// One submitter: a product, then forever a lot, a shipment of it and a
// run of custody handovers, in a randomly chosen mix of Submit and
// SubmitBatch.
void Worker(ledger::Ledger& ledger, const Actors& actors, uint64_t seed, int thread) {
  std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(thread));
  const std::string run = wallet::RandomHex(4);
  const std::string gtin = RandomGtin();
  SubmitOne(ledger, Sign(RecordKind::kProduct,
                         {{"gtin", gtin},
                          {"name", "Jasmine tea " + run},
                          {"brand", "Acme"},
                          {"origin_country", "CN"},
                          {"production_site", "Fuzhou plant 2"},
                          {"manufacturer", "Acme Tea Co."}},
                         actors.merchant));
  static constexpr const char* kSteps[] = {"shipping", "departing", "arriving", "receiving", "storing"};
  for (uint64_t k = 0;; ++k) {
    const std::string lot = "L" + run + "-" + std::to_string(k);
    const std::string shipment = "S-" + run + "-" + std::to_string(thread) + "-" + std::to_string(k);
    std::string lot_json =
        Sign(RecordKind::kLot,
             {{"gtin", gtin}, {"lot", lot}, {"production_date", "2026-11-01"}, {"quantity", 1000}},
             actors.merchant);
    std::string shipment_json =
        Sign(RecordKind::kShipment,
             {{"shipment", shipment},
              {"lots", Json::array({{{"gtin", gtin}, {"lot", lot}, {"quantity", 100}}})},
              {"origin_country", "CN"},
              {"destination", "Qianhai bonded zone"}},
             actors.merchant);
    std::vector<std::string> custody;
    const size_t handovers = 1 + rng() % 48;
    for (size_t i = 0; i < handovers; ++i) {
      bool by_carrier = rng() % 2 == 0;
      Json body = {{"shipment", shipment},
                   {"from", by_carrier ? kCarrier : kMerchant},
                   {"to", by_carrier ? kMerchant : kCarrier},
                   {"location", "Dock " + std::to_string(rng() % 40)},
                   {"biz_step", kSteps[rng() % std::size(kSteps)]}};
      custody.push_back(Sign(RecordKind::kCustody, body, by_carrier ? actors.carrier : actors.merchant));
    }
    switch (rng() % 3) {
      case 0:  // one record at a time
        SubmitOne(ledger, lot_json);
        SubmitOne(ledger, shipment_json);
        for (const auto& c : custody) SubmitOne(ledger, c);
        break;
      case 1: {  // everything in one batch; later records depend on earlier ones
        std::vector<std::string> all = {lot_json, shipment_json};
        all.insert(all.end(), custody.begin(), custody.end());
        SubmitMany(ledger, all);
        break;
      }
      default:  // registrations one by one, handovers in a batch
        SubmitOne(ledger, lot_json);
        SubmitOne(ledger, shipment_json);
        SubmitMany(ledger, custody);
        break;
    }
  }
}

int Main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ingest_child DIR SEED\n");
    return 2;
  }
  const std::string dir = argv[1];
  char* end = nullptr;
  const uint64_t seed = std::strtoull(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0') {
    std::fprintf(stderr, "ingest_child: SEED must be a decimal integer\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) Die("cannot create " + dir + ": " + ec.message());

  // The operator key is saved before the ledger exists, so a kill between
  // the two leaves a key and no genesis, which the next start completes.
  const wallet::SecretKey operator_key = LoadOrCreateSecret(dir + "/operator.secret");
  const ledger::LedgerOptions options{.path = dir + "/ledger", .verify_threads = 2};
  std::unique_ptr<ledger::Ledger> ledger;
  auto opened = ledger::Ledger::Open(options, operator_key);
  if (opened.ok()) {
    ledger = std::move(opened).value();
  } else if (opened.error().code == ledger::LedgerErrorCode::kNoGenesis) {
    auto created = ledger::Ledger::Create(options, operator_key,
                                          ledger::OperatorIdentity{.party = "operator", .name = "Operator"});
    if (!created.ok()) Die("create: " + created.error().message);
    ledger = std::move(created).value();
  } else {
    Die("open: " + opened.error().message);
  }

  Actors actors{.merchant = LoadOrCreateSecret(dir + "/merchant.secret"),
                .carrier = LoadOrCreateSecret(dir + "/carrier.secret")};
  EnsureParty(*ledger, operator_key, kMerchant, "merchant", actors.merchant);
  EnsureParty(*ledger, operator_key, kCarrier, "logistics", actors.carrier);

  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { Worker(*ledger, actors, seed, t); });
  }
  for (auto& t : threads) t.join();  // never: workers run until the kill
  return 0;
}

}  // namespace
}  // namespace traceledger::ingest_child

int main(int argc, char** argv) {
  try {
    return traceledger::ingest_child::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ingest_child: %s\n", e.what());
    return 3;
  }
}
