#include "qrcode/issuance.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <unordered_set>

#include "chain/hash.h"
#include "ledger/canonical_json.h"
#include "ledger/record.h"
#include "ledger/schema.h"
#include "qrcode/code.h"
#include "util/encoding.h"
#include "util/thread_pool.h"
#include "wallet/random.h"

namespace traceledger::qrcode {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkCodes = 16384;  // codes signed and written per step

IssueError Invalid(std::string message) {
  return IssueError{IssueErrorCode::kInvalid, std::move(message), {}};
}
IssueError Io(std::string message) { return IssueError{IssueErrorCode::kIo, std::move(message), {}}; }

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// A file written with write(2) and made durable with fsync(2).
class SyncedFile {
 public:
  SyncedFile() = default;
  ~SyncedFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  SyncedFile(const SyncedFile&) = delete;
  SyncedFile& operator=(const SyncedFile&) = delete;

  std::optional<std::string> Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Errno("cannot create", path);
    return std::nullopt;
  }
  std::optional<std::string> Write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot write", path_);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return std::nullopt;
  }
  std::optional<std::string> SyncAndClose() {
    if (::fsync(fd_) != 0) return Errno("cannot fsync", path_);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Errno("cannot close", path_);
    return std::nullopt;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::optional<std::string> SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync directory", dir);
  return std::nullopt;
}

std::optional<std::string> Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno("cannot rename " + from + " to", to);
  return std::nullopt;
}

bool IsBatchChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// A CSV field (RFC 4180): quoted when it holds a comma or a quote.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A JSON string of CSET 82 text: only '"' needs escaping.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

struct Paths {
  std::string dir, stem;
  std::string Final(const char* ext) const { return dir + "/" + stem + ext; }
  std::string Temp(const char* ext) const { return dir + "/." + stem + ext + ".tmp"; }
  std::string Marker() const { return dir + "/." + stem + ".pending"; }
};

std::string LedgerId(const ledger::Ledger& ledger) {
  auto genesis = ledger.GetBlock(0);
  if (!genesis.ok() || !genesis->has_value()) return {};
  return chain::HashHex((*genesis)->header.ComputeHash());
}

std::optional<IssueError> CheckRequest(const ledger::Ledger& ledger, const IssueRequest& r) {
  if (!ledger::IsValidGtin14(r.gtin)) return Invalid("gtin: \"" + r.gtin + "\" is not a valid GTIN-14");
  if (!IsValidCodeValue(r.lot)) return Invalid("lot: \"" + r.lot + "\" must be 1..20 characters of CSET 82");
  if (r.batch.empty() || r.batch.size() > 64 || r.batch[0] == '.' ||
      !std::all_of(r.batch.begin(), r.batch.end(), IsBatchChar)) {
    return Invalid("batch: \"" + r.batch + "\" must be 1..64 of A-Z a-z 0-9 . _ - and not start with '.'");
  }
  if (r.count < 1 || r.count > kMaxIssueCount) {
    return Invalid("count: must be 1.." + std::to_string(kMaxIssueCount) + ", got " +
                   std::to_string(r.count));
  }
  if (auto problem = ResolverProblem(r.resolver)) return Invalid("resolver: " + *problem);
  std::error_code ec;
  if (!fs::is_directory(r.out_dir, ec)) return Invalid("out: " + r.out_dir + " is not a directory");
  // Cheap checks before minutes of signing; the ledger's rules decide.
  auto lot = ledger.GetLot(r.gtin, r.lot);
  if (!lot.ok()) return IssueError{IssueErrorCode::kLedger, lot.error().message, {}};
  if (!lot->has_value()) {
    std::string message = "no lot \"" + r.lot + "\" of GTIN " + r.gtin + " is registered";
    return IssueError{IssueErrorCode::kRejected, "lot: " + message,
                      ledger::Reject{ledger::RejectCode::kUnknownReference, "body.lot", message}};
  }
  auto batch = ledger.GetCodeBatch(r.gtin, r.batch);
  if (!batch.ok()) return IssueError{IssueErrorCode::kLedger, batch.error().message, {}};
  if (!batch->empty()) {
    std::string message = "batch \"" + r.batch + "\" was already issued for GTIN " + r.gtin;
    return IssueError{IssueErrorCode::kRejected, "batch: " + message,
                      ledger::Reject{ledger::RejectCode::kDuplicate, "body.batch", message}};
  }
  return std::nullopt;
}

// The batch's codes, generated before anything is written.
struct Batch {
  std::vector<std::string> serials;
  std::vector<std::string> pins;                    // empty without PINs
  std::vector<std::array<uint8_t, 16>> pin_hashes;  // parallel to serials
  std::array<uint8_t, 16> salt{};
};

Batch GenerateSerials(const IssueRequest& r) {
  Batch b;
  b.serials.reserve(r.count);
  std::unordered_set<std::string> seen;
  seen.reserve(r.count);
  std::vector<uint8_t> random(r.count * kSerialRandomBytes);
  wallet::RandomBytes(random);
  for (uint64_t i = 0; i < r.count; ++i) {
    std::span<const uint8_t, kSerialRandomBytes> bytes(random.data() + i * kSerialRandomBytes,
                                                       kSerialRandomBytes);
    std::string serial = SerialFromRandom(bytes);
    // 80 random bits: a repeat within a batch is practically impossible,
    // but the ledger would refuse it, so draw again.
    while (!seen.insert(serial).second) {
      std::array<uint8_t, kSerialRandomBytes> again;
      wallet::RandomBytes(again);
      serial = SerialFromRandom(again);
    }
    b.serials.push_back(std::move(serial));
  }
  if (r.pins) {
    wallet::RandomBytes(b.salt);
    std::vector<uint8_t> pin_random(r.count * kPinRandomBytes);
    wallet::RandomBytes(pin_random);
    b.pins.reserve(r.count);
    for (uint64_t i = 0; i < r.count; ++i) {
      b.pins.push_back(PinFromRandom(std::span<const uint8_t, kPinRandomBytes>(
          pin_random.data() + i * kPinRandomBytes, kPinRandomBytes)));
    }
    b.pin_hashes.resize(r.count);
  }
  return b;
}

// One code's manifest lines. Every field has a fixed length within a batch
// (GTIN, lot, 16-character serial, key id, 86-character signature, PIN),
// so all lines of a batch have the same length.
struct LineMaker {
  const IssueRequest& r;
  std::string lot_csv = CsvField(r.lot);
  std::string lot_json = JsonString(r.lot);

  void Make(const Code& code, const std::string* pin, std::string& csv, std::string& json) const {
    const std::string uri = FormatCode(code);
    csv.clear();
    csv.append(uri).append(",").append(r.gtin).append(",").append(lot_csv).append(",").append(code.serial);
    json.clear();
    json.append("{\"uri\":\"").append(uri).append("\",\"gtin\":\"").append(r.gtin).append("\"");
    json.append(",\"lot\":").append(lot_json).append(",\"serial\":\"").append(code.serial).append("\"");
    if (pin != nullptr) {
      const std::string grouped = GroupPin(*pin);
      csv.append(",").append(grouped);
      json.append(",\"pin\":\"").append(grouped).append("\"");
    }
    csv += '\n';
    json.append("}\n");
  }
};

// Signs every code on the pool and writes the manifest's temporary files.
// Chunks are pipelined: while the pool signs chunk k+1, another thread
// writes chunk k, each worker having put its lines at their fixed offsets.
std::optional<IssueError> SignAndWriteManifest(const IssueRequest& r, const wallet::SecretKey& key, Batch& b,
                                               const Paths& paths, ThreadPool& pool,
                                               const IssueOptions& options) {
  SyncedFile csv, jsonl;
  if (auto e = csv.Open(paths.Temp(".csv"))) return Io(*e);
  if (auto e = jsonl.Open(paths.Temp(".jsonl"))) return Io(*e);
  const std::string header = r.pins ? "uri,gtin,lot,serial,pin\n" : "uri,gtin,lot,serial\n";
  if (auto e = csv.Write(header)) return Io(*e);
  const LineMaker maker{r};
  size_t csv_len = 0, json_len = 0;
  {
    Code probe{.resolver = r.resolver, .gtin = r.gtin, .lot = r.lot, .serial = b.serials[0]};
    probe.key_id = key.Public().KeyId();
    std::string c, j;
    maker.Make(probe, r.pins ? &b.pins[0] : nullptr, c, j);
    csv_len = c.size();
    json_len = j.size();
  }

  struct Buffers {
    std::string csv, json;
  };
  Buffers buffers[2];
  std::vector<std::array<uint8_t, 32>> aux(kChunkCodes);
  std::atomic<bool> odd_line{false};
  std::future<std::optional<std::string>> writing;  // destroyed (joined) before the buffers
  uint64_t chunk = 0;
  for (uint64_t start = 0; start < r.count; start += kChunkCodes, ++chunk) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkCodes, r.count - start));
    Buffers& buf = buffers[chunk % 2];
    buf.csv.resize(n * csv_len);
    buf.json.resize(n * json_len);
    wallet::RandomBytes(std::span<uint8_t>(aux[0].data(), n * 32));
    pool.ParallelFor(n, [&](size_t k) {
      thread_local std::string c, j;
      const size_t i = static_cast<size_t>(start) + k;
      Code code{.resolver = r.resolver, .gtin = r.gtin, .lot = r.lot, .serial = b.serials[i]};
      SignCode(code, key, &aux[k]);
      maker.Make(code, r.pins ? &b.pins[i] : nullptr, c, j);
      if (r.pins) b.pin_hashes[i] = PinHash(b.salt, r.gtin, code.serial, b.pins[i]);
      if (c.size() != csv_len || j.size() != json_len) {
        odd_line = true;
        return;
      }
      std::copy(c.begin(), c.end(), buf.csv.begin() + static_cast<std::ptrdiff_t>(k * csv_len));
      std::copy(j.begin(), j.end(), buf.json.begin() + static_cast<std::ptrdiff_t>(k * json_len));
    });
    if (odd_line) return Io("internal: manifest lines of one batch differ in length");
    if (writing.valid()) {
      if (auto e = writing.get()) return Io(*e);
    }
    writing = std::async(std::launch::async, [&csv, &jsonl, &buf]() -> std::optional<std::string> {
      if (auto e = csv.Write(buf.csv)) return e;
      return jsonl.Write(buf.json);
    });
    if (options.progress) options.progress(IssueProgress{"signing", start + n, r.count});
  }
  if (writing.valid()) {
    if (auto e = writing.get()) return Io(*e);
  }
  if (auto e = csv.SyncAndClose()) return Io(*e);
  if (auto e = jsonl.SyncAndClose()) return Io(*e);
  return std::nullopt;
}

// One code_issuance record per 10,000 codes, signed on the pool.
std::vector<ledger::Record> BuildParts(const IssueRequest& r, const wallet::SecretKey& key, const Batch& b,
                                       ThreadPool& pool) {
  const uint64_t per_part = static_cast<uint64_t>(ledger::kMaxSerialsPerPart);
  const size_t parts = static_cast<size_t>((r.count + per_part - 1) / per_part);
  std::vector<ledger::Record> out(parts);
  std::vector<std::string> nonces(parts);
  for (auto& nonce : nonces) nonce = wallet::RandomHex(16);
  const std::string salt_hex = HexEncode(b.salt);
  pool.ParallelFor(parts, [&](size_t p) {
    const size_t begin = p * per_part;
    const size_t end = std::min<size_t>(begin + per_part, r.count);
    ledger::Json serials = ledger::Json::array();
    for (size_t i = begin; i < end; ++i) serials.push_back(b.serials[i]);
    ledger::Json body = {{"gtin", r.gtin}, {"lot", r.lot},   {"batch", r.batch},
                         {"part", p + 1},  {"parts", parts}, {"serials", std::move(serials)}};
    if (r.pins) {
      ledger::Json hashes = ledger::Json::array();
      for (size_t i = begin; i < end; ++i) hashes.push_back(HexEncode(b.pin_hashes[i]));
      body["pin_salt"] = salt_hex;
      body["pin_hashes"] = std::move(hashes);
    }
    out[p] = ledger::SignRecord(ledger::RecordKind::kCodeIssuance, body, key, r.time_s, nonces[p]);
  });
  return out;
}

std::optional<std::string> WriteMarker(const Paths& paths, const ledger::Json& marker) {
  const std::string tmp = paths.Marker() + ".tmp";
  SyncedFile file;
  if (auto e = file.Open(tmp)) return e;
  if (auto e = file.Write(marker.dump() + "\n")) return e;
  if (auto e = file.SyncAndClose()) return e;
  if (auto e = Rename(tmp, paths.Marker())) return e;
  return SyncDir(paths.dir);
}

// Renames the temporary manifest files into place (those still there) and
// removes the marker.
std::optional<std::string> Finish(const Paths& paths) {
  for (const char* ext : {".csv", ".jsonl"}) {
    std::error_code ec;
    if (fs::exists(paths.Temp(ext), ec)) {
      if (auto e = Rename(paths.Temp(ext), paths.Final(ext))) return e;
    } else if (!fs::exists(paths.Final(ext), ec)) {
      return "neither " + paths.Temp(ext) + " nor " + paths.Final(ext) + " exists";
    }
  }
  if (auto e = SyncDir(paths.dir)) return e;
  if (::unlink(paths.Marker().c_str()) != 0 && errno != ENOENT) return Errno("cannot remove", paths.Marker());
  return SyncDir(paths.dir);
}

void Discard(const Paths& paths) {
  std::error_code ec;
  fs::remove(paths.Temp(".csv"), ec);
  fs::remove(paths.Temp(".jsonl"), ec);
  fs::remove(paths.Marker(), ec);
  fs::remove(paths.Marker() + ".tmp", ec);
  (void)SyncDir(paths.dir);
}

}  // namespace

std::string ManifestStem(std::string_view gtin, std::string_view batch) {
  return std::string(gtin) + "-" + std::string(batch);
}

std::string NewBatchId(int64_t time_s) {
  std::time_t t = static_cast<std::time_t>(time_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y%m%d", &tm);
  std::array<uint8_t, kSerialRandomBytes> random;
  wallet::RandomBytes(random);
  return "B" + std::string(date) + "-" + SerialFromRandom(random).substr(0, 8);
}

Result<IssueSummary, IssueError> IssueCodes(ledger::Ledger& ledger, const wallet::SecretKey& merchant,
                                            const IssueRequest& request, const IssueOptions& options) {
  if (auto problem = CheckRequest(ledger, request)) return *problem;
  Paths paths{request.out_dir, ManifestStem(request.gtin, request.batch)};
  for (const char* ext : {".csv", ".jsonl"}) {
    std::error_code ec;
    if (fs::exists(paths.Final(ext), ec)) {
      return IssueError{IssueErrorCode::kExists, paths.Final(ext) + " already exists", {}};
    }
  }
  auto step = [&](std::string_view name) {
    if (options.after_step) options.after_step(name);
  };

  ThreadPool pool(options.threads);
  Batch batch = GenerateSerials(request);
  if (auto e = SignAndWriteManifest(request, merchant, batch, paths, pool, options)) {
    Discard(paths);
    return *e;
  }
  step("manifest");

  std::vector<ledger::Record> parts = BuildParts(request, merchant, batch, pool);
  ledger::Json ids = ledger::Json::array();
  for (const auto& part : parts) ids.push_back(part.IdHex());
  ledger::Json marker = {{"ledger", LedgerId(ledger)}, {"gtin", request.gtin},   {"lot", request.lot},
                         {"batch", request.batch},     {"count", request.count}, {"records", ids}};
  if (auto e = WriteMarker(paths, marker)) {
    Discard(paths);
    return Io(*e);
  }
  step("pending");

  if (options.progress) options.progress(IssueProgress{"committing", 0, parts.size()});
  std::vector<std::string> entries;
  entries.reserve(parts.size());
  for (auto& part : parts) entries.push_back(std::move(part.entry));
  parts.clear();
  std::vector<ledger::SubmitResult> results = ledger.SubmitAtomic(entries);
  IssueSummary summary{.batch = request.batch, .count = request.count};
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      summary.parts.push_back(*results[i]);
      continue;
    }
    const ledger::Reject& reject = results[i].error();
    if (reject.code == ledger::RejectCode::kUnavailable) {
      // The block may or may not be on disk: leave the marker for recovery.
      return IssueError{
          IssueErrorCode::kUnavailable,
          reject.message + "; the next `codes issue` on this output directory settles the batch", reject};
    }
    if (reject.code == ledger::RejectCode::kAborted) continue;  // another part says why
    Discard(paths);
    return IssueError{IssueErrorCode::kRejected, "part " + std::to_string(i + 1) + ": " + reject.ToString(),
                      reject};
  }
  if (summary.parts.size() != results.size()) {
    Discard(paths);
    return IssueError{IssueErrorCode::kRejected, "the batch was not committed", results.front().error()};
  }
  if (options.progress) options.progress(IssueProgress{"committing", results.size(), results.size()});
  step("committed");

  if (auto e = Finish(paths)) return Io(*e + " (the batch is on the ledger; rerun to finish the manifest)");
  step("renamed");
  summary.csv_path = paths.Final(".csv");
  summary.jsonl_path = paths.Final(".jsonl");
  return summary;
}

Result<RecoveryReport, IssueError> RecoverPending(const ledger::Ledger& ledger, const std::string& out_dir) {
  RecoveryReport report;
  std::error_code ec;
  if (!fs::is_directory(out_dir, ec)) return report;
  const std::string ledger_id = LedgerId(ledger);
  std::vector<std::string> markers, temps;
  for (const auto& entry : fs::directory_iterator(out_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 2 || name[0] != '.') continue;
    if (name.ends_with(".pending")) markers.push_back(name.substr(1, name.size() - 1 - 8));
    if (name.ends_with(".pending.tmp")) temps.push_back(name.substr(1, name.size() - 1 - 12));
    if (name.ends_with(".csv.tmp")) temps.push_back(name.substr(1, name.size() - 1 - 8));
    if (name.ends_with(".jsonl.tmp")) temps.push_back(name.substr(1, name.size() - 1 - 10));
  }
  if (ec) return Io("cannot list " + out_dir + ": " + ec.message());
  std::sort(markers.begin(), markers.end());
  for (const std::string& stem : markers) {
    Paths paths{out_dir, stem};
    std::ifstream in(paths.Marker());
    std::stringstream text;
    text << in.rdbuf();
    auto marker = ledger::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (marker.is_discarded() || !marker.is_object() || !marker.contains("records") ||
        !marker["records"].is_array() || !marker.contains("ledger")) {
      return Io(paths.Marker() + " is damaged; inspect it and remove it by hand");
    }
    if (marker["ledger"] != ledger_id) {
      report.skipped.push_back(stem);
      continue;
    }
    size_t present = 0;
    for (const auto& id_hex : marker["records"]) {
      auto id = id_hex.is_string() ? chain::HashFromHex(id_hex.get<std::string>()) : std::nullopt;
      if (!id) return Io(paths.Marker() + " is damaged; inspect it and remove it by hand");
      auto stored = ledger.GetRecord(*id);
      if (!stored.ok()) return IssueError{IssueErrorCode::kLedger, stored.error().message, {}};
      present += stored->has_value() ? 1 : 0;
    }
    if (present == marker["records"].size()) {
      if (auto e = Finish(paths)) return Io(*e);
      report.finished.push_back(stem);
    } else if (present == 0) {
      Discard(paths);
      report.discarded.push_back(stem);
    } else {
      return IssueError{IssueErrorCode::kLedger,
                        paths.Marker() + ": only " + std::to_string(present) + " of " +
                            std::to_string(marker["records"].size()) + " parts are on the ledger",
                        {}};
    }
  }
  // Temporary files without a marker never reached the ledger.
  std::sort(temps.begin(), temps.end());
  temps.erase(std::unique(temps.begin(), temps.end()), temps.end());
  for (const std::string& stem : temps) {
    if (std::binary_search(markers.begin(), markers.end(), stem)) continue;
    Paths paths{out_dir, stem};
    if (fs::exists(paths.Marker(), ec)) continue;  // skipped: another ledger's
    Discard(paths);
    report.discarded.push_back(stem);
  }
  return report;
}

}  // namespace traceledger::qrcode
