// Merchant credit benchmark (issue 6), two parts, each measured in this run:
//
//   a) ingest: the same pre-signed credit_event records (the kind the
//      credit book works hardest on) submitted to fresh on-disk ledgers
//      (fsync on) with credit evaluation off and on — on: an
//      api::CreditFollower keeps a CreditBook at the tip (polling every
//      --interval-ms) while ingest runs. Runs alternate off/on; the ratio
//      is on/off of the summed rates.
//   b) full re-evaluation: a CreditBook fed --records synthetic records
//      about --merchants merchants (registrations, shipments, customs
//      decisions, inspections, credit events, black listings) in blocks
//      of 8,192, straight from memory (no disk, no signatures: this
//      measures the evaluation, not LevelDB), then every merchant
//      evaluated at the tip, and the black list. Time and peak RSS.
//   c) with --ledger-records: the same from a real on-disk ledger (a fresh
//      book reads and decodes every entry through CatchUp).
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/credit_service.h"
#include "bench/bench_support.h"
#include "ledger/credit.h"
#include "ledger/schema.h"

namespace traceledger::bench {
namespace {

struct Flags {
  uint64_t records = 10'000'000;
  uint64_t merchants = 100'000;
  uint64_t ingest_records = 100'000;
  uint64_t ingest_merchants = 1'000;
  std::string dir;
  bool skip_ingest = false;
  bool skip_reeval = false;
  uint64_t interval_ms = 100;
  uint64_t ledger_records = 0;  // 0: skip part c
  uint64_t ledger_merchants = 10'000;
  uint64_t runs = 6;
};

constexpr const char* kUsage =
    "usage: credit_bench [--records N] [--merchants M] [--ingest-records K] [--dir DIR]\n"
    "                    [--interval-ms I] [--runs R] [--skip-ingest] [--skip-reeval]\n"
    "  --records N          synthetic records for the full re-evaluation (default 10,000,000)\n"
    "  --merchants M        merchants among them (default 100,000)\n"
    "  --ingest-records K   credit_event records per ingest run (default 100,000)\n"
    "  --dir DIR            working directory for the ledgers (default: a fresh temp dir)\n"
    "  --interval-ms I      the credit follower's poll interval (default 100)\n"
    "  --runs R             ingest runs, alternating off/on (default 6)\n"
    "  --ledger-records L   c) also build an on-disk ledger of L credit events and re-evaluate from it\n"
    "  --ledger-merchants N merchants of part c (default 10,000)\n";

// ------------------------------------------------------------ a) ingest

struct IngestWorld {
  wallet::SecretKey operator_key = wallet::SecretKey::Generate();
  wallet::SecretKey regulator = wallet::SecretKey::Generate();
  std::vector<wallet::SecretKey> merchants;
  std::vector<std::string> records;  // pre-signed credit events
};

std::unique_ptr<ledger::Ledger> Fresh(const std::string& path, const IngestWorld& w) {
  auto created = ledger::Ledger::Create(ledger::LedgerOptions{.path = path}, w.operator_key,
                                        ledger::OperatorIdentity{.party = "operator", .name = "Operator"});
  if (!created.ok()) Die("create " + path + ": " + created.error().message);
  auto l = std::move(created).value();
  int nonce = 0;
  auto reg = [&](const std::string& party, const char* role, const wallet::SecretKey& key) {
    Json body = {{"party", party},
                 {"name", party},
                 {"roles", Json::array({role})},
                 {"public_key", key.Public().Hex()}};
    return Sign(RecordKind::kParty, body, w.operator_key, "c0" + std::to_string(nonce++));
  };
  MustAccept(l->Submit(reg("samr", "regulator", w.regulator)), "regulator");
  std::vector<std::string> batch;
  for (size_t i = 0; i < w.merchants.size(); ++i)
    batch.push_back(reg("m" + std::to_string(i), "merchant", w.merchants[i]));
  for (const auto& r : l->SubmitBatch(batch)) MustAccept(r, "merchant");
  return l;
}

double IngestOnce(ledger::Ledger& l, const IngestWorld& w) {
  std::atomic<size_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;  // two submitters, as many as cores here
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        size_t from = next.fetch_add(256);
        if (from >= w.records.size()) return;
        size_t to = std::min(w.records.size(), from + 256);
        std::vector<std::string> batch(w.records.begin() + static_cast<long>(from),
                                       w.records.begin() + static_cast<long>(to));
        for (const auto& r : l.SubmitBatch(batch)) MustAccept(r, "credit_event");
      }
    });
  }
  for (auto& t : threads) t.join();
  return static_cast<double>(w.records.size()) / Seconds(Clock::now() - start);
}

// `records` credit events about `merchants` merchants, signed on two threads.
void MakeWorld(IngestWorld& w, uint64_t records, uint64_t merchants) {
  for (uint64_t i = 0; i < merchants; ++i) w.merchants.push_back(wallet::SecretKey::Generate());
  static constexpr const char* kEvents[] = {"reward", "penalty", "complaint_upheld", "complaint_dismissed"};
  std::fprintf(stderr, "signing %s credit events...\n", Grouped(static_cast<double>(records)).c_str());
  w.records.resize(records);
  std::vector<std::thread> signers;
  for (uint64_t t = 0; t < 2; ++t) {
    signers.emplace_back([&, t] {
      for (uint64_t i = t; i < records; i += 2) {
        Json body = {{"merchant", "m" + std::to_string(i % merchants)},
                     {"event", kEvents[i % 4]},
                     {"reason", "bench"},
                     {"act_end_date",
                      ledger::FormatDate(*ledger::ParseDate("2024-01-01") + static_cast<int64_t>(i % 900))}};
        w.records[i] = Sign(RecordKind::kCreditEvent, body, w.regulator, "b" + std::to_string(i));
      }
    });
  }
  for (auto& t : signers) t.join();
}

// c) A real on-disk ledger of --ledger-records credit events about
// --ledger-merchants merchants, then a fresh CreditBook read from it
// (CatchUp) and every merchant evaluated.
void RunLedgerReeval(const Flags& f, const std::string& dir) {
  IngestWorld w;
  MakeWorld(w, f.ledger_records, f.ledger_merchants);
  const std::string path = dir + "/reeval";
  auto l = Fresh(path, w);
  const double rate = IngestOnce(*l, w);
  Report("c) ledger built",
         Format("%s records at %s records/s", Grouped(static_cast<double>(f.ledger_records)).c_str(),
                Grouped(rate).c_str()));
  w.records.clear();
  w.records.shrink_to_fit();
  ResetPeakRss();
  const uint64_t rss0 = StatusKb("VmRSS");
  RssWatcher watcher;
  const auto t0 = Clock::now();
  ledger::CreditBook book;
  auto caught = book.CatchUp(*l);
  if (!caught.ok()) Die("CatchUp: " + caught.error().message);
  const double read_s = Seconds(Clock::now() - t0);
  const auto t1 = Clock::now();
  uint64_t rated = 0;
  for (const auto& m : book.Merchants()) rated += book.Evaluate(m).has_value() ? 1 : 0;
  const double eval_s = Seconds(Clock::now() - t1);
  const uint64_t peak = watcher.Stop();
  Report("c) CatchUp from disk", Format("%.2f s (%s records/s)", read_s,
                                        Grouped(static_cast<double>(f.ledger_records) / read_s).c_str()));
  Report("c) evaluate every merchant",
         Format("%.2f s (%s rated)", eval_s, Grouped(static_cast<double>(rated)).c_str()));
  Report("c) peak RSS", Format("%.0f MB (%.0f MB before)", Mb(std::max(peak, StatusKb("VmHWM"))), Mb(rss0)));
  l.reset();
  std::filesystem::remove_all(path);
}

void RunIngest(const Flags& f, const std::string& dir) {
  IngestWorld w;
  MakeWorld(w, f.ingest_records, f.ingest_merchants);
  double off_sum = 0;
  double on_sum = 0;
  for (int run = 0; run < static_cast<int>(f.runs); ++run) {
    const bool on = run % 2 == 1;
    const std::string path = dir + "/ingest-" + std::to_string(run);
    auto l = Fresh(path, w);
    ledger::CreditBook book;
    std::unique_ptr<api::CreditFollower> follower;
    if (on) follower = std::make_unique<api::CreditFollower>(*l, book, f.interval_ms);
    double rate = IngestOnce(*l, w);
    double lag = 0;
    double busy = 0;
    if (on) {
      const uint64_t tip = l->tip()->height;
      const auto ended = Clock::now();
      while (book.next_height() <= tip) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      lag = Seconds(Clock::now() - ended);
      follower->Stop();
      busy = follower->busy_seconds();
      if (!book.Evaluate("m0")) Die("the followed book does not rate m0");
    }
    (on ? on_sum : off_sum) += rate;
    Report(Format("a) ingest run %d, credit %s", run + 1, on ? "on " : "off"),
           Format("%s records/s%s", Grouped(rate).c_str(),
                  on ? Format(" (follower busy %.2f s; book at the tip %.3f s after ingest ended)", busy, lag)
                           .c_str()
                     : ""));
    l.reset();
    std::filesystem::remove_all(path);
  }
  Report("a) ingest ratio on/off", Format("%.3f", on_sum / off_sum));
}

// -------------------------------------------------- b) re-evaluation

// Registers the merchants (each with its own key, generated before the
// clock starts) and feeds a mix of 40% credit events, 30% shipments, 20%
// customs decisions and 10% inspections of those shipments.
void FeedSynthetic(ledger::CreditBook& book, const Flags& f, const std::vector<wallet::SecretKey>& keys,
                   std::vector<std::string>& names) {
  const int64_t start_ms = int64_t{1'609'459'200'000};  // 2021-01-01
  const wallet::SecretKey regulator = wallet::SecretKey::Generate();
  uint64_t index = 0;
  uint64_t height = 0;
  std::vector<ledger::Record> block;
  auto flush = [&] {
    book.AddBlock(height, start_ms + static_cast<int64_t>(height) * 3'600'000, index - block.size(), block);
    ++height;
    block.clear();
  };
  auto add = [&](RecordKind kind, const std::string& author, Json body) {
    ledger::Record r;
    r.kind = kind;
    r.author = author;
    r.time = (start_ms + static_cast<int64_t>(height) * 3'600'000) / 1000;
    r.body = std::move(body);
    for (int b = 0; b < 8; ++b) r.id[static_cast<size_t>(b)] = static_cast<uint8_t>(index >> (8 * b));
    block.push_back(std::move(r));
    ++index;
    if (block.size() == 8192) flush();
  };
  add(RecordKind::kParty, "",
      {{"party", "samr"}, {"roles", {"regulator"}}, {"public_key", regulator.Public().Hex()}});
  std::vector<std::string> key_ids;
  for (uint64_t m = 0; m < f.merchants; ++m) {
    names.push_back("m" + std::to_string(m));
    key_ids.push_back(keys[m].Public().KeyId());
    Json body = {{"party", names.back()},
                 {"roles", {"merchant"}},
                 {"public_key", keys[m].Public().Hex()},
                 {"licence_sha256", std::string(64, 'a')}};
    // Pairs of merchants share a legal representative (associations).
    if (m % 50 < 2) body["legal_representative"] = "lr-" + std::to_string(m / 50);
    add(RecordKind::kParty, "", std::move(body));
  }
  static constexpr const char* kEvents[] = {"reward", "penalty", "complaint_upheld", "complaint_dismissed"};
  static constexpr const char* kDecisions[] = {"released", "released", "released", "held", "seized"};
  const uint64_t rest = f.records > index ? f.records - index : 0;
  uint64_t shipments = 0;
  for (uint64_t i = 0; i < rest; ++i) {
    const uint64_t m = (i * 7919) % f.merchants;
    const int64_t act = *ledger::ParseDate("2019-06-01") + static_cast<int64_t>(i % 1000);
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        add(RecordKind::kCreditEvent, "",
            {{"merchant", names[m]},
             {"event", i % 50'000 == 0 ? "black_list" : kEvents[(i / 10) % 4]},
             {"reason", "bench"},
             {"act_end_date", ledger::FormatDate(act)}});
        break;
      case 4:
      case 5:
      case 6:
        add(RecordKind::kShipment, key_ids[m],
            {{"shipment", "s" + std::to_string(shipments++)},
             {"origin_country", "CN"},
             {"destination", "bench"}});
        break;
      case 7:
      case 8:
        add(RecordKind::kCustomsDecision, "",
            {{"shipment", "s" + std::to_string(shipments > 0 ? (i * 31) % shipments : 0)},
             {"decision", kDecisions[(i / 10) % 5]}});
        break;
      default:
        add(RecordKind::kInspection, "",
            {{"shipment", "s" + std::to_string(shipments > 0 ? (i * 17) % shipments : 0)},
             {"result", (i / 10) % 7 == 0 ? "non_conformant" : "conformant"},
             {"inspected_on", ledger::FormatDate(act)}});
        break;
    }
  }
  if (!block.empty()) flush();
}

void RunReeval(const Flags& f) {
  ResetPeakRss();
  const uint64_t rss0 = StatusKb("VmRSS");
  RssWatcher watcher;
  std::fprintf(stderr, "b) feeding %s synthetic records about %s merchants...\n",
               Grouped(static_cast<double>(f.records)).c_str(),
               Grouped(static_cast<double>(f.merchants)).c_str());
  std::vector<wallet::SecretKey> keys;
  for (uint64_t m = 0; m < f.merchants; ++m) keys.push_back(wallet::SecretKey::Generate());
  ledger::CreditBook book;
  std::vector<std::string> names;
  const auto t0 = Clock::now();
  FeedSynthetic(book, f, keys, names);
  const double feed_s = Seconds(Clock::now() - t0);
  const auto t1 = Clock::now();
  uint64_t rated = 0;
  uint64_t black = 0;
  int64_t score_sum = 0;
  for (const auto& m : names) {
    auto e = book.Evaluate(m);
    if (!e) continue;
    ++rated;
    score_sum += e->score;
    black += e->list == "black";
  }
  const double eval_s = Seconds(Clock::now() - t1);
  const auto t2 = Clock::now();
  auto list = book.BlackList();
  const double list_s = Seconds(Clock::now() - t2);
  const uint64_t peak = watcher.Stop();
  Report("b) records fed / merchants", Format("%s / %s", Grouped(static_cast<double>(f.records)).c_str(),
                                              Grouped(static_cast<double>(names.size())).c_str()));
  Report("b) book build (feed) time",
         Format("%.2f s (%s records/s)", feed_s, Grouped(static_cast<double>(f.records) / feed_s).c_str()));
  Report("b) evaluate every merchant",
         Format("%.2f s (%s rated, mean score %.1f, %s black-listed)", eval_s,
                Grouped(static_cast<double>(rated)).c_str(),
                rated ? static_cast<double>(score_sum) / static_cast<double>(rated) : 0.0,
                Grouped(static_cast<double>(black)).c_str()));
  Report("b) black list at the tip", Format("%.2f s (%zu merchants)", list_s, list.size()));
  Report("b) full re-evaluation total", Format("%.2f s", feed_s + eval_s));
  Report("b) peak RSS", Format("%.0f MB (%.0f MB before)", Mb(std::max(peak, StatusKb("VmHWM"))), Mb(rss0)));
}

int Main(int argc, char** argv) {
  SetProgram("credit_bench");
  Flags f;
  FlagParser p(kUsage);
  p.Count("--records", &f.records);
  p.Count("--merchants", &f.merchants);
  p.Count("--ingest-records", &f.ingest_records);
  p.Text("--dir", &f.dir);
  p.Switch("--skip-ingest", &f.skip_ingest);
  p.Switch("--skip-reeval", &f.skip_reeval);
  p.Count("--interval-ms", &f.interval_ms);
  p.Count("--runs", &f.runs);
  p.Count("--ledger-records", &f.ledger_records);
  p.Count("--ledger-merchants", &f.ledger_merchants);
  p.Parse(argc, argv);
  WorkDir work(f.dir, "credit-bench");
  if (!f.skip_ingest) RunIngest(f, work.path());
  if (!f.skip_reeval) RunReeval(f);
  if (f.ledger_records > 0) RunLedgerReeval(f, work.path());
  work.CleanUp(/*keep=*/false, {});
  PrintTable("credit_bench");
  return 0;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) {
  return traceledger::bench::RunBench("credit_bench", traceledger::bench::Main, argc, argv);
}
