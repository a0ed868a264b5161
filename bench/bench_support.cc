#include "bench/bench_support.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "chain/hash.h"

namespace traceledger::bench {
namespace {

std::string g_program = "bench";
std::vector<Row> g_rows;

}  // namespace

void SetProgram(std::string name) { g_program = std::move(name); }

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", g_program.c_str(), message.c_str());
  std::exit(1);
}

uint64_t ParseCount(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || v == 0)
    Die(flag + " needs a positive integer, got \"" + text + "\"");
  return v;
}

void FlagParser::Count(std::string name, uint64_t* out) {
  options_.push_back(
      {std::move(name), [out](const std::string& n, const char* v) { *out = ParseCount(n, v); }, true});
}

void FlagParser::Text(std::string name, std::string* out) {
  options_.push_back({std::move(name), [out](const std::string&, const char* v) { *out = v; }, true});
}

void FlagParser::Switch(std::string name, bool* out) {
  options_.push_back({std::move(name), [out](const std::string&, const char*) { *out = true; }, false});
}

void FlagParser::Parse(int argc, char** argv) const {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_.c_str(), stderr);
      std::exit(0);
    }
    auto it = std::find_if(options_.begin(), options_.end(), [&](const Option& o) { return o.name == arg; });
    if (it == options_.end()) {
      std::fputs(usage_.c_str(), stderr);
      Die("unknown flag " + arg);
    }
    if (!it->takes_value) {
      it->set(arg, nullptr);
      continue;
    }
    if (i + 1 >= argc) Die(arg + " needs a value");
    it->set(arg, argv[++i]);
  }
}

WorkDir::WorkDir(const std::string& dir, const std::string& temp_prefix) {
  if (!dir.empty()) {
    path_ = dir;
    std::filesystem::create_directories(path_);
    return;
  }
  std::string templ = (std::filesystem::temp_directory_path() / (temp_prefix + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) Die(std::string("mkdtemp: ") + std::strerror(errno));
  path_ = templ;
  fresh_ = true;
}

void WorkDir::CleanUp(bool keep, const std::vector<std::string>& made) const {
  if (keep) {
    std::fprintf(stderr, "kept %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  if (fresh_) {
    std::filesystem::remove_all(path_, ec);
    return;
  }
  for (const auto& p : made) std::filesystem::remove_all(p, ec);
}

int RunBench(const char* program, int (*main_fn)(int, char**), int argc, char** argv) {
  SetProgram(program);
  try {
    return main_fn(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "1,234,567"
std::string Grouped(double v) {
  std::string digits = std::to_string(std::llround(v));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

// ------------------------------------------------------------------ memory

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"); 0 if absent.
uint64_t StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return std::strtoull(line.c_str() + len + 1, nullptr, 10);
    }
  }
  return 0;
}

double Mb(uint64_t kb) { return static_cast<double>(kb) / 1024.0; }

// Resets VmHWM to the current RSS; false where the kernel does not allow it.
bool ResetPeakRss() {
  {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    if (!out.good()) return false;
  }
  return StatusKb("VmHWM") <= StatusKb("VmRSS") + 1024;
}

// ------------------------------------------------------------------ output

void Report(std::string name, std::string value) {
  std::fprintf(stderr, "  %-34s %s\n", name.c_str(), value.c_str());
  g_rows.push_back({std::move(name), std::move(value)});
}

const std::vector<Row>& Rows() { return g_rows; }

void PrintTable(const std::string& title) {
  std::printf("\n%s\n", title.c_str());
  std::printf("%-34s %s\n", "step", "result");
  std::printf("%-34s %s\n", std::string(34, '-').c_str(), std::string(60, '-').c_str());
  for (const auto& row : g_rows) std::printf("%-34s %s\n", row.name.c_str(), row.value.c_str());
}

VerifyResult MeasureRawVerify() {
  constexpr int kKeys = 16;
  std::vector<wallet::SecretKey> keys;
  keys.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) keys.push_back(wallet::SecretKey::Generate());
  struct Pair {
    chain::Hash msg;
    wallet::Signature sig;
    const wallet::PublicKey* key;
  };
  std::vector<Pair> pairs(kVerifyPairs);
  for (size_t i = 0; i < kVerifyPairs; ++i) {
    pairs[i].msg = chain::Sha256("verify-bench-" + std::to_string(i));
    const auto& key = keys[i % kKeys];
    pairs[i].sig = key.Sign(pairs[i].msg);
    pairs[i].key = &key.Public();
  }
  VerifyResult r;
  r.threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<uint64_t> total{0};
  std::atomic<bool> bad{false};
  const auto start = Clock::now();
  const auto stop_at =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kVerifySeconds));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < r.threads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t n = 0;
      size_t i = t * (kVerifyPairs / r.threads);
      while (Clock::now() < stop_at) {
        for (int k = 0; k < 256; ++k) {
          const Pair& p = pairs[i];
          if (!p.key->Verify(p.msg, p.sig)) bad = true;
          i = i + 1 == kVerifyPairs ? 0 : i + 1;
        }
        n += 256;
      }
      total += n;
    });
  }
  for (auto& t : threads) t.join();
  if (bad) Die("a valid signature failed to verify");
  r.seconds = Seconds(Clock::now() - start);
  r.verified = total;
  r.per_s = static_cast<double>(r.verified) / r.seconds;
  return r;
}

std::string Sign(RecordKind kind, const Json& body, const wallet::SecretKey& key, const std::string& nonce) {
  return ledger::SignRecord(kind, body, key, NowS(), nonce).entry;
}

void MustAccept(const ledger::SubmitResult& r, const std::string& what) {
  if (!r.ok()) Die("setup record " + what + " rejected: " + r.error().ToString());
}

// Registers a merchant with a product, a lot and kShipments shipments, and
// kCarriers logistics parties.
void SetUp(ledger::Ledger& ledger, World& w) {
  int nonce = 0;
  auto next = [&] { return "5e7" + std::to_string(nonce++); };
  auto register_party = [&](const std::string& party, const std::string& role, const wallet::SecretKey& key) {
    Json body = {{"party", party},
                 {"name", party + " Ltd"},
                 {"roles", Json::array({role})},
                 {"public_key", key.Public().Hex()}};
    MustAccept(ledger.Submit(Sign(RecordKind::kParty, body, w.operator_key, next())), party);
  };
  const wallet::SecretKey merchant = wallet::SecretKey::Generate();
  register_party("acme", "merchant", merchant);
  for (int i = 0; i < kCarriers; ++i) {
    w.carriers.push_back(wallet::SecretKey::Generate());
    w.carrier_ids.push_back("carrier-" + std::to_string(i));
    register_party(w.carrier_ids.back(), "logistics", w.carriers.back());
  }
  const std::string gtin = "09501101530003";
  MustAccept(ledger.Submit(Sign(RecordKind::kProduct,
                                {{"gtin", gtin},
                                 {"name", "Jasmine tea"},
                                 {"brand", "Acme"},
                                 {"origin_country", "CN"},
                                 {"production_site", "Fuzhou plant 2"},
                                 {"manufacturer", "Acme Tea Co."}},
                                merchant, next())),
             "product");
  MustAccept(
      ledger.Submit(
          Sign(RecordKind::kLot,
               {{"gtin", gtin}, {"lot", "LOT-1"}, {"production_date", "2026-11-01"}, {"quantity", 1'000'000}},
               merchant, next())),
      "lot");
  for (int i = 0; i < kShipments; ++i) {
    w.shipments.push_back(Format("SHP-%05d", i));
    MustAccept(
        ledger.Submit(Sign(RecordKind::kShipment,
                           {{"shipment", w.shipments.back()},
                            {"lots", Json::array({{{"gtin", gtin}, {"lot", "LOT-1"}, {"quantity", 100}}})},
                            {"origin_country", "CN"},
                            {"destination", "Qianhai bonded zone"}},
                           merchant, next())),
        w.shipments.back());
  }
}

// Custody record number i: carrier (i % kCarriers) hands shipment
// (i % kShipments) to the next carrier; the note pads the canonical body
// to `body_bytes` (within the schema's 1..500 characters).
std::string CustodyRecord(const World& w, uint64_t i, size_t body_bytes, int64_t time, size_t* body_size) {
  static constexpr const char* kSteps[] = {"departing", "arriving", "loading", "unloading", "transporting"};
  static constexpr std::string_view kFiller =
      "Sealed container, temperature log attached, seals intact on handover; ";
  const size_t c = i % kCarriers;
  Json body = {{"shipment", w.shipments[i % kShipments]},
               {"from", w.carrier_ids[c]},
               {"to", w.carrier_ids[(c + 1) % kCarriers]},
               {"location", "Yard " + std::to_string(i % 97) + ", Qianhai"},
               {"biz_step", kSteps[i % std::size(kSteps)]},
               {"note", ""}};
  const size_t bare = ledger::CanonicalJson(body).size();
  const size_t note_len = std::clamp<size_t>(body_bytes > bare ? body_bytes - bare : 1, 1, 500);
  std::string note = "#" + std::to_string(i) + " ";
  while (note.size() < note_len) note += kFiller;
  note.resize(note_len);
  body["note"] = note;
  if (body_size != nullptr) *body_size = ledger::CanonicalJson(body).size();
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%016" PRIx64, i);
  return ledger::SignRecord(RecordKind::kCustody, body, w.carriers[c], time, nonce).entry;
}

}  // namespace traceledger::bench
