#include "api/node_service.h"

#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

#include "chain/hash.h"
#include "ledger/canonical_json.h"
#include "ledger/proof_file.h"
#include "ledger/record.h"
#include "util/encoding.h"

namespace traceledger::api {
namespace {

using ledger::Json;

constexpr const char* kRangeContentType = "application/octet-stream";

// A decimal height or count: digits only, no sign, no leading '+', in range.
std::optional<uint64_t> ParseNumber(std::string_view text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::strtoull(std::string(text).c_str(), nullptr, 10);
}

HttpResponse JsonBody(const Json& body, int status = 200) { return JsonOk(body.dump() + "\n", status); }

HttpResponse LedgerFailure(const ledger::LedgerError& e) {
  if (e.code == ledger::LedgerErrorCode::kCorrupt) return JsonError(500, "corrupt", e.message);
  return JsonError(503, "unavailable", e.message);
}

HttpResponse StoreFailure(const chain::StoreError& e) { return JsonError(503, "unavailable", e.message); }

Json RejectJson(const ledger::Reject& reject) {
  Json error = {{"code", ledger::RejectCodeName(reject.code)}, {"message", reject.message}};
  if (!reject.field.empty()) error["field"] = reject.field;
  return Json{{"error", error}};
}

Json ReceiptJson(const ledger::Receipt& receipt) {
  return Json{{"id", chain::HashHex(receipt.id)}, {"index", receipt.index}, {"height", receipt.height}};
}

// The record's JSON value; its entry is canonical JSON, which parses.
Json RecordValue(const ledger::Record& record) {
  auto parsed = ledger::ParseStrictJson(record.entry);
  return parsed.ok() ? std::move(parsed).value() : Json(record.entry);
}

constexpr const char* kNoteContentType = "text/plain; charset=utf-8";

HttpResponse ProofFileFailure(const ledger::ProofFileError& e) {
  switch (e.code) {
    case ledger::ProofFileErrorCode::kNotFound:
      return JsonError(404, "not_found", e.message);
    case ledger::ProofFileErrorCode::kOutOfRange:
      return JsonError(400, "out_of_range", e.message);
    case ledger::ProofFileErrorCode::kStore:
      break;
  }
  return JsonError(503, "unavailable", e.message);
}

HttpResponse NoteBody(const chain::StoredCheckpoint& cp) {
  HttpResponse response;
  response.content_type = kNoteContentType;
  response.body = cp.note.Serialize();
  return response;
}

// An optional decimal query parameter: nullopt when absent, an error
// response when present but not a number.
Result<std::optional<uint64_t>, HttpResponse> OptionalNumber(const HttpRequest& request, const char* name,
                                                             const char* what) {
  auto text = request.Query(name);
  if (!text) return std::optional<uint64_t>();
  auto n = ParseNumber(*text);
  if (!n) return JsonError(400, "bad_request", std::string(name) + ": \"" + *text + "\" is not " + what);
  return std::optional<uint64_t>(*n);
}

}  // namespace

int RejectStatus(ledger::RejectCode code) {
  using ledger::RejectCode;
  switch (code) {
    case RejectCode::kMalformed:
    case RejectCode::kSchema:
      return 400;
    case RejectCode::kUnknownKey:
    case RejectCode::kKeyRevoked:
    case RejectCode::kKeyRetired:
    case RejectCode::kBadSignature:
    case RejectCode::kUnauthorized:
    case RejectCode::kNotOwner:
      return 403;
    case RejectCode::kDuplicate:
    case RejectCode::kConflict:
    case RejectCode::kReplay:
      return 409;
    case RejectCode::kUnknownReference:
    case RejectCode::kClock:
    case RejectCode::kAborted:  // the batch failed as a whole; its own reason is on another record
      return 422;
    case RejectCode::kUnavailable:
      return 503;
  }
  return 400;
}

NodeService::NodeService(ledger::Ledger& ledger, NodeOptions options)
    : ledger_(ledger), options_(std::move(options)) {}

void NodeService::Register(HttpServer& server) {
  struct RouteSpec {
    const char* method;
    const char* pattern;
    HttpResponse (*handler)(NodeService&, const HttpRequest&);
  };
  static constexpr RouteSpec kRoutes[] = {
      {"GET", "/healthz", [](NodeService& s, const HttpRequest& r) { return s.Health(r); }},
      {"GET", "/v1/tip", [](NodeService& s, const HttpRequest& r) { return s.Tip(r); }},
      {"GET", "/v1/blocks", [](NodeService& s, const HttpRequest& r) { return s.Blocks(r); }},
      {"GET", "/v1/blocks/{height}", [](NodeService& s, const HttpRequest& r) { return s.Block(r); }},
      {"GET", "/v1/records/{id}", [](NodeService& s, const HttpRequest& r) { return s.Record(r); }},
      {"POST", "/v1/records", [](NodeService& s, const HttpRequest& r) { return s.SubmitRecords(r); }},
      {"GET", "/v1/checkpoint", [](NodeService& s, const HttpRequest& r) { return s.LatestCheckpoint(r); }},
      {"GET", "/v1/checkpoint/{size}", [](NodeService& s, const HttpRequest& r) { return s.CheckpointAt(r); }},
      {"GET", "/v1/proof/inclusion", [](NodeService& s, const HttpRequest& r) { return s.InclusionProof(r); }},
      {"GET", "/v1/proof/consistency",
       [](NodeService& s, const HttpRequest& r) { return s.ConsistencyProof(r); }},
      {"GET", "/v1/anchors/latest", [](NodeService& s, const HttpRequest& r) { return s.LatestAnchor(r); }},
  };
  for (const RouteSpec& route : kRoutes) {
    auto handler = route.handler;
    server.Route(route.method, route.pattern,
                 [this, handler](const HttpRequest& r) { return handler(*this, r); });
  }
}

HttpResponse NodeService::Health(const HttpRequest&) const {
  Json body = {{"status", "ok"}, {"role", is_replica() ? "replica" : "primary"}};
  if (auto tip = ledger_.tip()) {
    body["height"] = tip->height;
    body["tree_size"] = tip->frontier.size();
    body["block_hash"] = chain::HashHex(tip->block_hash);
  } else {
    body["height"] = nullptr;
    body["tree_size"] = 0;
  }
  if (is_replica()) body["primary"] = options_.primary_url;
  if (options_.follower != nullptr) {
    ledger::FollowerStatus s = options_.follower->status();
    Json follow = {{"state", ledger::FollowStateName(s.state)},
                   {"blocks_synced", s.blocks_synced},
                   {"records_synced", s.records_synced}};
    follow["primary_height"] = s.primary_height ? Json(*s.primary_height) : Json(nullptr);
    if (!s.last_error.empty()) follow["last_error"] = s.last_error;
    if (s.state == ledger::FollowState::kHalted) {
      follow["alarm"] = s.alarm;
      follow["evidence"] = s.evidence_path;
      body["status"] = "alarm";
    } else if (s.state == ledger::FollowState::kRetrying || s.state == ledger::FollowState::kBehind) {
      body["status"] = "degraded";
    }
    body["follow"] = follow;
  }
  return JsonBody(body);
}

HttpResponse NodeService::Tip(const HttpRequest&) const {
  auto tip = ledger_.tip();
  if (!tip) return JsonError(404, "empty_ledger", "this node holds no blocks yet");
  auto block = ledger_.GetBlock(tip->height);
  if (!block.ok()) return LedgerFailure(block.error());
  if (!block->has_value()) return JsonError(500, "corrupt", "the tip block is missing");
  return JsonBody(ledger::DescribeBlock(**block));
}

HttpResponse NodeService::Block(const HttpRequest& request) const {
  const std::string& text = request.path_params.at("height");
  auto height = ParseNumber(text);
  if (!height) return JsonError(400, "bad_request", "height: \"" + text + "\" is not a block height");
  auto block = ledger_.GetBlock(*height);
  if (!block.ok()) return LedgerFailure(block.error());
  if (!block->has_value()) return JsonError(404, "not_found", "no block at height " + text);
  const chain::BlockHeader& h = (*block)->header;
  Json entries = Json::array();
  auto scan = ledger_.store().ScanEntries(h.first_index(), h.record_count, [&](uint64_t, std::string_view e) {
    auto value = ledger::ParseStrictJson(e);
    entries.push_back(value.ok() ? std::move(value).value() : Json(std::string(e)));
    return true;
  });
  if (!scan.ok()) return StoreFailure(scan.error());
  Json body = ledger::DescribeBlock(**block);
  body["entries"] = std::move(entries);
  return JsonBody(body);
}

HttpResponse NodeService::Blocks(const HttpRequest& request) const {
  auto from_text = request.Query("from");
  if (!from_text) return JsonError(400, "bad_request", "from: required (the first block height)");
  auto from = ParseNumber(*from_text);
  if (!from) return JsonError(400, "bad_request", "from: \"" + *from_text + "\" is not a block height");
  uint64_t count = 100;
  if (auto count_text = request.Query("count")) {
    auto parsed = ParseNumber(*count_text);
    if (!parsed || *parsed == 0 || *parsed > options_.max_range_blocks) {
      return JsonError(
          400, "bad_request",
          "count: \"" + *count_text + "\" must be 1.." + std::to_string(options_.max_range_blocks));
    }
    count = *parsed;
  }
  auto tip = ledger_.tip();
  const uint64_t next = tip ? tip->height + 1 : 0;
  if (*from > next) {
    return JsonError(404, "not_found",
                     "from: " + *from_text + " is beyond the tip (next height " + std::to_string(next) + ")");
  }
  auto range =
      ledger::ReadBlockRange(ledger_.store(), *from, static_cast<uint32_t>(count), options_.max_range_bytes);
  if (!range.ok()) return StoreFailure(range.error());
  HttpResponse response;
  response.content_type = kRangeContentType;
  response.body = ledger::EncodeBlockRange(*range);
  return response;
}

HttpResponse NodeService::Record(const HttpRequest& request) const {
  const std::string& text = request.path_params.at("id");
  auto id = chain::HashFromHex(text);
  if (!id) return JsonError(400, "bad_request", "id: \"" + text + "\" is not 64 hex digits");
  auto stored = ledger_.GetRecord(*id);
  if (!stored.ok()) return LedgerFailure(stored.error());
  if (!stored->has_value()) return JsonError(404, "not_found", "no record with id " + text);
  const ledger::StoredRecord& s = **stored;
  return JsonBody(Json{
      {"id", s.record.IdHex()}, {"index", s.index}, {"height", s.height}, {"record", RecordValue(s.record)}});
}

HttpResponse NodeService::SubmitRecords(const HttpRequest& request) {
  if (is_replica()) {
    return JsonError(403, "read_only_replica",
                     "this node is a replica of " + options_.primary_url + "; send writes to the primary");
  }
  size_t first = request.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return JsonError(400, "malformed", "body: empty; send a signed record");
  if (request.body[first] != '[') {
    auto result = ledger_.Submit(request.body);
    if (!result.ok()) return JsonBody(RejectJson(result.error()), RejectStatus(result.error().code));
    return JsonBody(ReceiptJson(*result));
  }
  auto parsed = ledger::ParseStrictJson(request.body);
  if (!parsed.ok()) return JsonError(400, "malformed", "body: " + parsed.error().message);
  const Json& array = *parsed;
  if (array.empty()) return JsonError(400, "schema", "body: the array holds no records");
  if (array.size() > options_.max_batch_records) {
    return JsonError(413, "too_many_records",
                     "body: " + std::to_string(array.size()) + " records, at most " +
                         std::to_string(options_.max_batch_records) + " per request");
  }
  std::vector<std::string> records;
  records.reserve(array.size());
  for (const Json& r : array) records.push_back(ledger::CanonicalJson(r));
  auto results = ledger_.SubmitBatch(records);
  Json out = Json::array();
  size_t accepted = 0;
  for (const auto& r : results) {
    if (r.ok()) {
      ++accepted;
      out.push_back(ReceiptJson(*r));
    } else {
      out.push_back(RejectJson(r.error()));
    }
  }
  return JsonBody(Json{{"accepted", accepted}, {"rejected", results.size() - accepted}, {"results", out}});
}

HttpResponse NodeService::LatestCheckpoint(const HttpRequest&) const {
  auto cp = ledger::StoredCheckpointAt(ledger_.store(), std::nullopt);
  if (!cp.ok()) return ProofFileFailure(cp.error());
  return NoteBody(*cp);
}

HttpResponse NodeService::CheckpointAt(const HttpRequest& request) const {
  const std::string& text = request.path_params.at("size");
  auto size = ParseNumber(text);
  if (!size) return JsonError(400, "bad_request", "size: \"" + text + "\" is not a tree size");
  auto cp = ledger::StoredCheckpointAt(ledger_.store(), *size);
  if (!cp.ok()) return ProofFileFailure(cp.error());
  return NoteBody(*cp);
}

HttpResponse NodeService::InclusionProof(const HttpRequest& request) const {
  auto index = OptionalNumber(request, "index", "a log index");
  if (!index.ok()) return index.error();
  auto size = OptionalNumber(request, "size", "a tree size");
  if (!size.ok()) return size.error();
  auto record = request.Query("record");
  if (index->has_value() == record.has_value()) {
    return JsonError(400, "bad_request", "give exactly one of index and record");
  }
  uint64_t at = 0;
  if (record) {
    auto id = chain::HashFromHex(*record);
    if (!id) return JsonError(400, "bad_request", "record: \"" + *record + "\" is not 64 hex digits");
    auto stored = ledger_.GetRecord(*id);
    if (!stored.ok()) return LedgerFailure(stored.error());
    if (!stored->has_value()) return JsonError(404, "not_found", "no record with id " + *record);
    at = (*stored)->index;
  } else {
    at = **index;
  }
  auto cp = ledger::StoredCheckpointAt(ledger_.store(), *size);
  if (!cp.ok()) return ProofFileFailure(cp.error());
  auto proof = ledger::InclusionProofFile(ledger_.store(), at, cp->note);
  if (!proof.ok()) return ProofFileFailure(proof.error());
  return JsonBody(*proof);
}

HttpResponse NodeService::ConsistencyProof(const HttpRequest& request) const {
  auto from = OptionalNumber(request, "from", "a tree size");
  if (!from.ok()) return from.error();
  if (!from->has_value()) return JsonError(400, "bad_request", "from: required (the old tree size)");
  auto to = OptionalNumber(request, "to", "a tree size");
  if (!to.ok()) return to.error();
  auto new_cp = ledger::StoredCheckpointAt(ledger_.store(), *to);
  if (!new_cp.ok()) return ProofFileFailure(new_cp.error());
  if (**from > new_cp->checkpoint.size) {
    return JsonError(400, "bad_request",
                     "from: " + std::to_string(**from) + " is above to " + std::to_string(new_cp->checkpoint.size));
  }
  auto old_cp = ledger::StoredCheckpointAt(ledger_.store(), *from);
  if (!old_cp.ok()) return ProofFileFailure(old_cp.error());
  auto proof = ledger::ConsistencyProofFile(ledger_.store(), old_cp->note, new_cp->note);
  if (!proof.ok()) return ProofFileFailure(proof.error());
  return JsonBody(*proof);
}

HttpResponse NodeService::LatestAnchor(const HttpRequest&) const {
  if (options_.anchorer == nullptr) {
    return JsonError(404, "anchoring_not_configured", "this node does not anchor checkpoints (traced --anchor-rpc)");
  }
  chain::AnchorState state = options_.anchorer->State();
  if (!state.last_receipt) return JsonError(404, "not_found", "no checkpoint has been anchored yet");
  return JsonOk(chain::AnchorReceiptToJson(*state.last_receipt));
}

// ------------------------------------------------------------------ client

HttpBlockSource::HttpBlockSource(std::string base_url, ClientOptions options)
    : client_(std::move(base_url), options) {}

namespace {

ledger::SourceError Unexpected(const std::string& what, const HttpResponse& r) {
  std::string detail = r.body.substr(0, 300);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
  return ledger::SourceError{what + ": HTTP " + std::to_string(r.status) + " " + detail};
}

}  // namespace

Result<std::optional<std::string>, ledger::SourceError> HttpBlockSource::TipBlock() {
  auto r = client_.Get("/v1/tip");
  if (!r.ok()) return ledger::SourceError{r.error().message};
  if (r->status == 404) {
    auto body = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object() && body.contains("error") && body["error"].value("code", "") == "empty_ledger") {
      return std::optional<std::string>();
    }
  }
  if (r->status != 200) return Unexpected("GET /v1/tip", *r);
  auto body = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("block") || !body["block"].is_string()) {
    return ledger::SourceError{"GET /v1/tip: the answer has no \"block\""};
  }
  auto bytes = HexDecode(body["block"].get<std::string>());
  if (!bytes || bytes->size() != chain::kSignedBlockSize) {
    return ledger::SourceError{"GET /v1/tip: \"block\" is not a 192-byte block in hex"};
  }
  return std::optional<std::string>(std::string(bytes->begin(), bytes->end()));
}

Result<ledger::BlockRange, ledger::SourceError> HttpBlockSource::Blocks(uint64_t from, uint32_t max_blocks) {
  const std::string target =
      "/v1/blocks?from=" + std::to_string(from) + "&count=" + std::to_string(max_blocks);
  auto r = client_.Get(target);
  if (!r.ok()) return ledger::SourceError{r.error().message};
  if (r->status != 200) return Unexpected("GET " + target, *r);
  auto range = ledger::DecodeBlockRange(r->body, max_blocks);
  if (!range.ok()) return ledger::SourceError{"GET " + target + ": " + range.error()};
  return std::move(range).value();
}

CheckpointWatcher::CheckpointWatcher(std::string base_url, ledger::LogSink log, ClientOptions options)
    : client_(std::move(base_url), options), log_(std::move(log)) {}

void CheckpointWatcher::Log(std::string_view level, std::string_view event, const Json& fields) const {
  if (log_) log_(level, event, fields);
}

std::optional<ledger::ForkEvidence> CheckpointWatcher::Judge(const ledger::Ledger& ledger,
                                                             const std::string& note) {
  using Verdict = ledger::CheckpointCheck::Verdict;
  const std::string source = "GET " + client_.base_url() + "/v1/checkpoint";
  ledger::CheckpointCheck check = ledger::CheckPrimaryCheckpoint(ledger, note, source);
  switch (check.verdict) {
    case Verdict::kFork:
      return check.evidence;
    case Verdict::kAhead:
      if (!pending_) pending_ = note;
      Log("debug", "checkpoint_ahead", {{"size", check.size}, {"message", check.message}});
      return std::nullopt;
    case Verdict::kConsistent:
      if (check.size != verified_size_) {
        Log("info", "checkpoint_verified", {{"size", check.size}, {"primary", client_.base_url()}});
      }
      verified_size_ = check.size;
      return std::nullopt;
    case Verdict::kInvalid:
      Log("warn", "checkpoint_invalid", {{"message", check.message}, {"primary", client_.base_url()}});
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ledger::ForkEvidence> CheckpointWatcher::Check(const ledger::Ledger& ledger) {
  if (pending_) {
    std::string note = *pending_;
    pending_.reset();
    if (auto evidence = Judge(ledger, note)) return evidence;
  }
  auto r = client_.Get("/v1/checkpoint");
  if (!r.ok()) {
    Log("warn", "checkpoint_unreachable", {{"message", r.error().message}});
    return std::nullopt;
  }
  if (r->status == 404) return std::nullopt;  // the primary has signed no checkpoint yet
  if (r->status != 200) {
    Log("warn", "checkpoint_unreachable", {{"message", Unexpected("GET /v1/checkpoint", *r).message}});
    return std::nullopt;
  }
  return Judge(ledger, r->body);
}

}  // namespace traceledger::api
