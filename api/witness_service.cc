#include "api/witness_service.h"

#include <nlohmann/json.hpp>

#include "chain/proof.h"
#include "util/encoding.h"

namespace traceledger::api {
namespace {

int StatusOf(chain::WitnessErrorCode code) {
  switch (code) {
    case chain::WitnessErrorCode::kMalformed:
    case chain::WitnessErrorCode::kOldSizeTooLarge:
      return 400;
    case chain::WitnessErrorCode::kBadSignature:
      return 403;
    case chain::WitnessErrorCode::kUnknownLog:
      return 404;
    case chain::WitnessErrorCode::kConflict:
      return 409;
    case chain::WitnessErrorCode::kBadProof:
      return 422;
    case chain::WitnessErrorCode::kIo:
      return 500;
  }
  return 500;
}

// A text/x.tlog.size body: the decimal size and a newline.
std::optional<uint64_t> ParseSizeBody(std::string_view body) {
  if (body.empty() || body.back() != '\n') return std::nullopt;
  return ParseDecimal(body.substr(0, body.size() - 1));
}

}  // namespace

HttpResponse HandleAddCheckpoint(chain::Witness& witness, const HttpRequest& request) {
  auto result = witness.AddCheckpoint(request.body);
  if (result.ok()) {
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = *result;
    return r;
  }
  const chain::WitnessError& e = result.error();
  if (e.code == chain::WitnessErrorCode::kConflict) {
    HttpResponse r;
    r.status = 409;
    r.content_type = std::string(kTlogSizeContentType);
    r.body = std::to_string(e.known_size) + "\n";
    return r;
  }
  return JsonError(StatusOf(e.code), chain::WitnessErrorCodeName(e.code), e.message);
}

void AddWitnessRoutes(HttpServer& server, chain::Witness& witness, const std::string& prefix) {
  server.Route("POST", prefix + "/add-checkpoint",
               [&witness](const HttpRequest& request) { return HandleAddCheckpoint(witness, request); });
}

chain::WitnessPolicy WitnessConfig::Policy() const {
  chain::WitnessPolicy policy{.witnesses = {}, .quorum = quorum};
  for (const auto& w : witnesses) policy.witnesses.push_back({w.name, w.key});
  return policy;
}

Result<WitnessConfig, std::string> ParseWitnessConfig(std::string_view text) {
  using Json = nlohmann::json;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::string("not JSON");
  WitnessConfig config;
  if (!j.is_object() || !j.contains("witnesses") || !j["witnesses"].is_array()) {
    return std::string("needs a \"witnesses\" array");
  }
  if (j.contains("quorum")) {
    if (!j["quorum"].is_number_unsigned()) return std::string("quorum must be a non-negative integer");
    config.quorum = j["quorum"].get<size_t>();
  }
  size_t i = 0;
  for (const auto& w : j["witnesses"]) {
    const std::string where = "witnesses[" + std::to_string(i++) + "]";
    if (!w.is_object() || !w.contains("name") || !w.contains("url") || !w.contains("public_key") ||
        !w["name"].is_string() || !w["url"].is_string() || !w["public_key"].is_string()) {
      return where + " needs string members name, url and public_key";
    }
    auto pk = wallet::PublicKey::FromHex(w["public_key"].get<std::string>());
    if (!pk) return where + ".public_key is not a public key";
    config.witnesses.push_back({w["name"].get<std::string>(), w["url"].get<std::string>(), *pk});
  }
  if (config.quorum > config.witnesses.size()) {
    return "quorum " + std::to_string(config.quorum) + " exceeds the " + std::to_string(config.witnesses.size()) +
           " witnesses";
  }
  return config;
}

CheckpointPublisher::CheckpointPublisher(chain::Store& store, chain::CheckpointSigner& signer,
                                         PublisherOptions options)
    : store_(store), signer_(signer), options_(std::move(options)) {
  for (const auto& w : options_.witnesses) policy_.witnesses.push_back({w.name, w.key});
  policy_.quorum = options_.quorum;
}

CheckpointPublisher::~CheckpointPublisher() { Stop(); }

WitnessOutcome CheckpointPublisher::Ask(const WitnessEndpoint& w, const chain::StoredCheckpoint& cp,
                                        std::vector<chain::NoteSignature>& cosignatures) {
  WitnessOutcome out{.name = w.name, .cosigned = false, .error = {}};
  HttpClient client(w.url, options_.client);
  chain::StoreNodeSource nodes(store_);
  uint64_t old_size = known_size_.count(w.name) ? known_size_[w.name] : 0;
  // At most two rounds: the size we believe, then the size a 409 names.
  for (int round = 0; round < 2; ++round) {
    if (old_size > cp.checkpoint.size) {
      out.error = "the witness has cosigned size " + std::to_string(old_size) + ", above this checkpoint's " +
                  std::to_string(cp.checkpoint.size);
      return out;
    }
    auto proof = chain::ConsistencyProof(nodes, old_size, cp.checkpoint.size);
    if (!proof.ok()) {
      out.error = "consistency proof from " + std::to_string(old_size) + ": " + proof.error().message;
      return out;
    }
    auto response = client.Post("/add-checkpoint", chain::AddCheckpointBody(old_size, *proof, cp.note),
                                "text/plain; charset=utf-8");
    if (!response.ok()) {
      out.error = "request failed: " + response.error().message;
      return out;
    }
    if (response->status == 409) {
      auto size = ParseSizeBody(response->body);
      if (!size || response->content_type.find(kTlogSizeContentType) == std::string::npos) {
        out.error = "409 without a tree size";
        return out;
      }
      if (*size == old_size) {
        out.error = "409: the witness cosigned size " + std::to_string(*size) + " with another root";
        return out;
      }
      old_size = *size;
      known_size_[w.name] = *size;
      continue;
    }
    if (response->status != 200) {
      out.error = "HTTP " + std::to_string(response->status) + ": " + response->body;
      return out;
    }
    auto lines = chain::ParseSignatureLines(response->body);
    if (!lines.ok()) {
      out.error = "unreadable response: " + lines.error().message;
      return out;
    }
    chain::SignedNote check{.text = cp.note.text, .signatures = *lines};
    auto verified = chain::VerifyCosignature(check, w.name, w.key);
    if (!verified.ok()) {
      out.error = "response holds no valid cosignature: " + verified.error().message;
      return out;
    }
    for (const auto& line : *lines) {
      if (line.name == w.name && line.key_id == chain::CosignatureKeyId(w.name, w.key))
        cosignatures.push_back(line);
    }
    known_size_[w.name] = cp.checkpoint.size;
    out.cosigned = true;
    return out;
  }
  out.error = "the witness's size kept changing";
  return out;
}

Result<PublishReport, chain::NoteError> CheckpointPublisher::PublishOnce() {
  std::lock_guard<std::mutex> publish_lock(publish_mu_);
  auto result = PublishLocked();
  std::lock_guard<std::mutex> lock(mu_);
  last_ = result;
  return result;
}

Result<PublishReport, chain::NoteError> CheckpointPublisher::PublishLocked() {
  auto signed_cp = signer_.SignCurrent();
  if (!signed_cp.ok()) return signed_cp.error();
  PublishReport report{.checkpoint = *signed_cp, .witnesses = {}, .quorum = {}};
  std::vector<chain::NoteSignature> cosignatures;
  for (const auto& w : options_.witnesses) {
    if (chain::VerifyCosignature(signed_cp->note, w.name, w.key).ok()) {
      report.witnesses.push_back({w.name, true, {}});  // cosigned in an earlier round
      continue;
    }
    report.witnesses.push_back(Ask(w, *signed_cp, cosignatures));
  }
  if (!cosignatures.empty()) {
    auto stored = signer_.AddCosignatures(signed_cp->checkpoint.size, cosignatures);
    if (!stored.ok()) return stored.error();
    report.checkpoint = std::move(stored).value();
  }
  report.quorum = chain::CountCosignatures(report.checkpoint.note, policy_);
  return report;
}

void CheckpointPublisher::Start(std::chrono::milliseconds interval) {
  Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, interval] {
    for (;;) {
      (void)PublishOnce();
      std::unique_lock<std::mutex> lock(mu_);
      if (wake_.wait_for(lock, interval, [this] { return stopping_; })) return;
    }
  });
}

void CheckpointPublisher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Result<PublishReport, chain::NoteError>> CheckpointPublisher::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

}  // namespace traceledger::api
