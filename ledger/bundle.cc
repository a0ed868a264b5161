#include "ledger/bundle.h"

#include <algorithm>
#include <map>
#include <set>

#include "chain/anchor.h"
#include "chain/proof.h"
#include "ledger/canonical_json.h"

namespace traceledger::ledger {
namespace {

// ---- what a record is about -------------------------------------------------

bool IsKeyRecord(RecordKind kind) {
  return kind == RecordKind::kParty || kind == RecordKind::kKeyRotation || kind == RecordKind::kKeyRevocation;
}

bool ListsString(const Json& body, const char* member, std::string_view value) {
  if (!body.contains(member) || !body[member].is_array()) return false;
  for (const auto& v : body[member]) {
    if (v.is_string() && v.get<std::string>() == value) return true;
  }
  return false;
}

bool ListsLot(const Record& r, std::string_view gtin, std::string_view lot) {
  if (!r.body.contains("lots") || !r.body["lots"].is_array()) return false;
  for (const auto& l : r.body["lots"]) {
    if (l.is_object() && l.value("gtin", "") == gtin && l.value("lot", "") == lot) return true;
  }
  return false;
}

bool IsLotRecord(const Record& r, std::string_view gtin, std::string_view lot) {
  return r.Str("gtin") == gtin && r.Str("lot") == lot;
}

// The (gtin, lot) pairs a shipment record lists.
std::set<std::pair<std::string, std::string>> ShipmentLots(const Record& shipment) {
  std::set<std::pair<std::string, std::string>> out;
  if (!shipment.body.contains("lots") || !shipment.body["lots"].is_array()) return out;
  for (const auto& l : shipment.body["lots"]) {
    if (l.is_object()) out.emplace(l.value("gtin", ""), l.value("lot", ""));
  }
  return out;
}

// True if `r` is about the subject (not counting key records). For a code,
// subject.lot must be its issuance's lot; for a shipment, `lots` are the
// lots its shipment record lists.
bool AboutSubject(const Record& r, const BundleSubject& s,
                  const std::set<std::pair<std::string, std::string>>& lots) {
  switch (s.kind) {
    case SubjectKind::kCode:
      switch (r.kind) {
        case RecordKind::kProduct:
          return r.Str("gtin") == s.gtin;
        case RecordKind::kLot:
        case RecordKind::kLotRecall:
          return IsLotRecord(r, s.gtin, s.lot);
        case RecordKind::kInspection:
          return !s.lot.empty() && IsLotRecord(r, s.gtin, s.lot);
        case RecordKind::kCodeIssuance:
        case RecordKind::kCodeRevocation:
          return r.Str("gtin") == s.gtin && ListsString(r.body, "serials", s.serial);
        default:
          return false;
      }
    case SubjectKind::kLot:
      switch (r.kind) {
        case RecordKind::kProduct:
          return r.Str("gtin") == s.gtin;
        case RecordKind::kLot:
        case RecordKind::kLotRecall:
        case RecordKind::kInspection:
        case RecordKind::kCodeIssuance:
        case RecordKind::kCodeRevocation:
          return IsLotRecord(r, s.gtin, s.lot);
        case RecordKind::kShipment:
          return ListsLot(r, s.gtin, s.lot);
        default:
          return false;
      }
    case SubjectKind::kShipment:
      switch (r.kind) {
        case RecordKind::kShipment:
        case RecordKind::kCustody:
        case RecordKind::kCustomsDecision:
        case RecordKind::kInspection:
          return r.Str("shipment") == s.shipment;
        case RecordKind::kLot:
          return lots.contains({std::string(r.Str("gtin")), std::string(r.Str("lot"))});
        case RecordKind::kProduct:
          return std::any_of(lots.begin(), lots.end(), [&](const auto& l) { return l.first == r.Str("gtin"); });
        default:
          return false;
      }
  }
  return false;
}

// The record that defines the subject.
bool DefinesSubject(const Record& r, const BundleSubject& s) {
  switch (s.kind) {
    case SubjectKind::kCode:
      return r.kind == RecordKind::kCodeIssuance && r.Str("gtin") == s.gtin &&
             ListsString(r.body, "serials", s.serial);
    case SubjectKind::kLot:
      return r.kind == RecordKind::kLot && IsLotRecord(r, s.gtin, s.lot);
    case SubjectKind::kShipment:
      return r.kind == RecordKind::kShipment && r.Str("shipment") == s.shipment;
  }
  return false;
}

Json SubjectJson(const BundleSubject& s) {
  Json j = {{"kind", SubjectKindName(s.kind)}};
  switch (s.kind) {
    case SubjectKind::kCode:
      j["gtin"] = s.gtin;
      j["serial"] = s.serial;
      break;
    case SubjectKind::kLot:
      j["gtin"] = s.gtin;
      j["lot"] = s.lot;
      break;
    case SubjectKind::kShipment:
      j["shipment"] = s.shipment;
      break;
  }
  return j;
}

// Strict: exactly the members of its kind, all non-empty strings.
std::optional<BundleSubject> SubjectFromJson(const Json& j, std::string& why) {
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) {
    why = "subject must be an object with a string \"kind\"";
    return std::nullopt;
  }
  BundleSubject s;
  std::vector<std::pair<const char*, std::string*>> members;
  const std::string kind = j["kind"].get<std::string>();
  if (kind == "code") {
    s.kind = SubjectKind::kCode;
    members = {{"gtin", &s.gtin}, {"serial", &s.serial}};
  } else if (kind == "lot") {
    s.kind = SubjectKind::kLot;
    members = {{"gtin", &s.gtin}, {"lot", &s.lot}};
  } else if (kind == "shipment") {
    s.kind = SubjectKind::kShipment;
    members = {{"shipment", &s.shipment}};
  } else {
    why = "subject.kind \"" + kind + "\" is not code, lot or shipment";
    return std::nullopt;
  }
  if (j.size() != members.size() + 1) {
    why = "subject of kind " + kind + " has other members than kind and its keys";
    return std::nullopt;
  }
  for (auto& [name, out] : members) {
    if (!j.contains(name) || !j[name].is_string() || j[name].get<std::string>().empty()) {
      why = std::string("subject.") + name + " must be a non-empty string";
      return std::nullopt;
    }
    *out = j[name].get<std::string>();
  }
  return s;
}

std::string ItemName(size_t i, uint64_t index) {
  return "records[" + std::to_string(i) + "] (index " + std::to_string(index) + ")";
}

// Body SHA-256 and size of a checkpoint, as anchoring commits to them.
std::optional<chain::CheckpointSummary> Summary(const chain::SignedNote& note) {
  auto s = chain::ParseCheckpointForAnchor(note.Serialize());
  if (!s.ok()) return std::nullopt;
  return std::move(s).value();
}

// ---- building ---------------------------------------------------------------

class Builder {
 public:
  Builder(const Ledger& ledger, uint64_t size) : ledger_(ledger), size_(size) {}

  Result<void, BundleBuildError> Add(const StoredRecord& r) {
    if (r.index >= size_) {
      return BundleBuildError{
          BundleBuildErrorCode::kStaleCheckpoint,
          "the checkpoint covers log indexes 0.." + std::to_string(size_ == 0 ? 0 : size_ - 1) + " but the " +
              std::string(KindName(r.record.kind)) + " record " + r.record.IdHex() + " is at index " +
              std::to_string(r.index) + ": run `tracectl checkpoint sign` (and `checkpoint witness`) first"};
    }
    records_.emplace(r.index, r);
    return {};
  }

  Result<void, BundleBuildError> AddIndex(uint64_t index) {
    if (records_.contains(index)) return {};
    auto r = ledger_.GetByIndex(index);
    if (!r.ok()) return BundleBuildError{BundleBuildErrorCode::kStore, r.error().message};
    if (!r->has_value())
      return BundleBuildError{BundleBuildErrorCode::kStore, "no record at index " + std::to_string(index)};
    return Add(**r);
  }

  // Adds the records that register, retire or revoke every author's key,
  // until every key record's own author is covered too.
  Result<void, BundleBuildError> CloseOverKeys() {
    std::set<std::string> done;
    for (;;) {
      std::vector<std::string> todo;
      for (const auto& [index, r] : records_) {
        if (!done.contains(r.record.author)) todo.push_back(r.record.author);
      }
      if (todo.empty()) return {};
      for (const auto& key_id : todo) {
        done.insert(key_id);
        auto info = ledger_.GetKey(key_id);
        if (!info.ok()) return BundleBuildError{BundleBuildErrorCode::kStore, info.error().message};
        if (!info->has_value())
          return BundleBuildError{BundleBuildErrorCode::kStore, "author key " + key_id + " is not registered"};
        const KeyInfo& k = **info;
        if (auto r = AddIndex(k.registered); !r.ok()) return r;
        for (auto later : {k.retired, k.revoked}) {
          if (later && *later < size_) {
            if (auto r = AddIndex(*later); !r.ok()) return r;
          }
        }
      }
    }
  }

  const std::map<uint64_t, StoredRecord>& records() const { return records_; }

 private:
  const Ledger& ledger_;
  uint64_t size_;
  std::map<uint64_t, StoredRecord> records_;
};

BundleBuildError StoreError(const LedgerError& e) { return {BundleBuildErrorCode::kStore, e.message}; }

}  // namespace

std::string_view SubjectKindName(SubjectKind kind) {
  switch (kind) {
    case SubjectKind::kCode:
      return "code";
    case SubjectKind::kLot:
      return "lot";
    case SubjectKind::kShipment:
      return "shipment";
  }
  return "?";
}

std::string BundleSubject::Describe() const {
  switch (kind) {
    case SubjectKind::kCode:
      return "code " + gtin + " serial " + serial;
    case SubjectKind::kLot:
      return "lot " + gtin + " " + lot;
    case SubjectKind::kShipment:
      return "shipment " + shipment;
  }
  return "?";
}

std::string_view BundleBuildErrorCodeName(BundleBuildErrorCode code) {
  switch (code) {
    case BundleBuildErrorCode::kNotFound:
      return "not_found";
    case BundleBuildErrorCode::kBadCheckpoint:
      return "bad_checkpoint";
    case BundleBuildErrorCode::kStaleCheckpoint:
      return "stale_checkpoint";
    case BundleBuildErrorCode::kBadReceipt:
      return "bad_receipt";
    case BundleBuildErrorCode::kStore:
      return "store";
  }
  return "?";
}

std::string_view BundleIssueCodeName(BundleIssueCode code) {
  switch (code) {
    case BundleIssueCode::kSyntax:
      return "syntax";
    case BundleIssueCode::kCheckpointSignature:
      return "checkpoint_signature";
    case BundleIssueCode::kBadCosignature:
      return "bad_cosignature";
    case BundleIssueCode::kUnknownWitness:
      return "unknown_witness";
    case BundleIssueCode::kQuorum:
      return "quorum";
    case BundleIssueCode::kBadProof:
      return "bad_proof";
    case BundleIssueCode::kBadRecord:
      return "bad_record";
    case BundleIssueCode::kUnregisteredKey:
      return "unregistered_key";
    case BundleIssueCode::kKeyRevoked:
      return "key_revoked";
    case BundleIssueCode::kBadSignature:
      return "bad_signature";
    case BundleIssueCode::kOffSubject:
      return "off_subject";
    case BundleIssueCode::kIncomplete:
      return "incomplete";
    case BundleIssueCode::kBadReceipt:
      return "bad_receipt";
    case BundleIssueCode::kReceiptMismatch:
      return "receipt_mismatch";
  }
  return "?";
}

Result<BuiltBundle, BundleBuildError> BuildBundle(const Ledger& ledger, const BundleSubject& subject_in,
                                                  const chain::SignedNote& checkpoint,
                                                  std::string_view receipt_json) {
  auto cp = chain::Checkpoint::Parse(checkpoint.text);
  if (!cp.ok()) return BundleBuildError{BundleBuildErrorCode::kBadCheckpoint, cp.error().message};
  const uint64_t size = cp->size;
  auto tip = ledger.tip();
  if (!tip || size > tip->frontier.size()) {
    return BundleBuildError{BundleBuildErrorCode::kBadCheckpoint,
                            "the checkpoint's size " + std::to_string(size) + " is beyond the ledger"};
  }
  Builder b(ledger, size);
  BundleSubject subject = subject_in;
  const std::set<std::pair<std::string, std::string>> no_lots;
  auto add_all = [&](const std::vector<StoredRecord>& history,
                     const std::set<std::pair<std::string, std::string>>& lots) -> Result<void, BundleBuildError> {
    for (const auto& r : history) {
      if (AboutSubject(r.record, subject, lots)) {
        if (auto a = b.Add(r); !a.ok()) return a;
      }
    }
    return {};
  };
  auto add_product_and_lot = [&](const std::string& gtin, const std::string& lot) -> Result<void, BundleBuildError> {
    auto product = ledger.GetProduct(gtin);
    if (!product.ok()) return StoreError(product.error());
    if (product->has_value()) {
      if (auto a = b.Add(**product); !a.ok()) return a;
    }
    auto lot_rec = ledger.GetLot(gtin, lot);
    if (!lot_rec.ok()) return StoreError(lot_rec.error());
    if (lot_rec->has_value()) {
      if (auto a = b.Add(**lot_rec); !a.ok()) return a;
    }
    return {};
  };

  switch (subject.kind) {
    case SubjectKind::kCode: {
      auto code = ledger.GetCode(subject.gtin, subject.serial);
      if (!code.ok()) return StoreError(code.error());
      if (!code->has_value())
        return BundleBuildError{BundleBuildErrorCode::kNotFound, subject.Describe() + " was never issued"};
      subject.lot = std::string((*code)->lot());
      if (auto a = b.Add(*(*code)->issuance); !a.ok()) return a.error();
      if (auto a = add_product_and_lot(subject.gtin, subject.lot); !a.ok()) return a.error();
      auto history = ledger.LotHistory(subject.gtin, subject.lot);
      if (!history.ok()) return StoreError(history.error());
      if (auto a = add_all(*history, no_lots); !a.ok()) return a.error();
      break;
    }
    case SubjectKind::kLot: {
      auto lot = ledger.GetLot(subject.gtin, subject.lot);
      if (!lot.ok()) return StoreError(lot.error());
      if (!lot->has_value()) return BundleBuildError{BundleBuildErrorCode::kNotFound, subject.Describe() + " is not registered"};
      if (auto a = add_product_and_lot(subject.gtin, subject.lot); !a.ok()) return a.error();
      auto history = ledger.LotHistory(subject.gtin, subject.lot);
      if (!history.ok()) return StoreError(history.error());
      if (auto a = add_all(*history, no_lots); !a.ok()) return a.error();
      break;
    }
    case SubjectKind::kShipment: {
      auto shipment = ledger.GetShipment(subject.shipment);
      if (!shipment.ok()) return StoreError(shipment.error());
      if (!shipment->has_value())
        return BundleBuildError{BundleBuildErrorCode::kNotFound, subject.Describe() + " is not registered"};
      const auto lots = ShipmentLots((*shipment)->record);
      auto history = ledger.ShipmentHistory(subject.shipment);
      if (!history.ok()) return StoreError(history.error());
      if (auto a = add_all(*history, lots); !a.ok()) return a.error();
      for (const auto& [gtin, lot] : lots) {
        if (auto a = add_product_and_lot(gtin, lot); !a.ok()) return a.error();
      }
      break;
    }
  }
  if (auto a = b.CloseOverKeys(); !a.ok()) return a.error();

  // Proofs against the checkpoint's tree, whose root must be the store's.
  chain::StoreNodeSource nodes(ledger.store());
  auto root = chain::RootAt(nodes, size);
  if (!root.ok()) return BundleBuildError{BundleBuildErrorCode::kStore, root.error().message};
  if (*root != cp->root) {
    return BundleBuildError{BundleBuildErrorCode::kBadCheckpoint,
                            "the checkpoint's root is not this ledger's root at size " + std::to_string(size)};
  }
  Json records = Json::array();
  for (const auto& [index, r] : b.records()) {
    auto path = chain::InclusionProof(nodes, index, size);
    if (!path.ok()) return BundleBuildError{BundleBuildErrorCode::kStore, path.error().message};
    Json hashes = Json::array();
    for (const auto& h : *path) hashes.push_back(chain::HashHex(h));
    records.push_back(
        {{"index", index}, {"id", r.record.IdHex()}, {"entry", r.record.entry}, {"hashes", std::move(hashes)}});
  }
  Json bundle = {{"type", kBundleType},
                 {"subject", SubjectJson(subject_in)},
                 {"checkpoint", checkpoint.Serialize()},
                 {"records", std::move(records)}};
  if (!receipt_json.empty()) {
    auto receipt = chain::ParseAnchorReceipt(receipt_json);
    if (!receipt.ok()) return BundleBuildError{BundleBuildErrorCode::kBadReceipt, receipt.error().message};
    if (auto c = chain::CheckAnchorReceipt(*receipt); !c.ok())
      return BundleBuildError{BundleBuildErrorCode::kBadReceipt, c.error().message};
    auto summary = Summary(checkpoint);
    if (!summary || summary->body_sha256 != receipt->checkpoint_body_sha256 ||
        summary->tree_size != receipt->tree_size) {
      return BundleBuildError{BundleBuildErrorCode::kBadReceipt,
                              "the receipt anchors the checkpoint of size " + std::to_string(receipt->tree_size) +
                                  " with body SHA-256 " + chain::HashHex(receipt->checkpoint_body_sha256) +
                                  ", not this one (size " + std::to_string(size) + ")"};
    }
    bundle["anchor_receipt"] = std::string(receipt_json);
  }
  return BuiltBundle{.bytes = bundle.dump(2) + "\n", .records = b.records().size(), .tree_size = size};
}

// ---- verifying --------------------------------------------------------------

namespace {

struct KeyEvent {
  uint64_t index;
  std::optional<wallet::PublicKey> key;  // registration
  bool revoked = false;
};

class Verifier {
 public:
  Verifier(const BundleTrust& trust, BundleReport& report) : trust_(trust), report_(report) {}

  void Issue(BundleIssueCode code, std::string item, std::string message) {
    report_.issues.push_back({code, std::move(item), std::move(message)});
  }

  // Returns false (with one kSyntax issue) if the bundle does not parse.
  bool Parse(std::string_view bytes);
  void CheckCheckpoint();
  void CheckRecords();
  void CheckReceipt();

 private:
  struct Item {
    uint64_t index = 0;
    std::string id;
    std::string entry;
    std::vector<chain::Hash> hashes;
    std::optional<Record> record;  // when the entry parses
  };

  const BundleTrust& trust_;
  BundleReport& report_;
  BundleSubject subject_;
  chain::SignedNote note_;
  std::optional<chain::Checkpoint> checkpoint_;  // parsed, signature not yet checked
  std::vector<Item> items_;
  std::optional<std::string> receipt_;
};

bool Verifier::Parse(std::string_view bytes) {
  auto fail = [&](const std::string& message) {
    Issue(BundleIssueCode::kSyntax, "bundle", message);
    return false;
  };
  if (bytes.size() > kMaxBundleBytes) return fail("larger than " + std::to_string(kMaxBundleBytes) + " bytes");
  auto parsed = ParseStrictJson(bytes);
  if (!parsed.ok()) return fail("not strict JSON: " + parsed.error().message);
  const Json& j = *parsed;
  if (!j.is_object()) return fail("not a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (k != "type" && k != "subject" && k != "checkpoint" && k != "records" && k != "anchor_receipt")
      return fail("unknown member \"" + k + "\"");
  }
  if (!j.contains("type") || j["type"] != kBundleType)
    return fail("type must be \"" + std::string(kBundleType) + "\"");
  if (!j.contains("subject")) return fail("missing member subject");
  std::string why;
  auto subject = SubjectFromJson(j["subject"], why);
  if (!subject) return fail(why);
  subject_ = *subject;
  report_.subject = subject_;
  if (!j.contains("checkpoint") || !j["checkpoint"].is_string()) return fail("checkpoint must be a string");
  auto note = chain::SignedNote::Parse(j["checkpoint"].get<std::string>());
  if (!note.ok()) return fail("checkpoint: " + note.error().message);
  note_ = std::move(note).value();
  auto cp = chain::Checkpoint::Parse(note_.text);
  if (!cp.ok()) return fail("checkpoint: " + cp.error().message);
  checkpoint_ = std::move(cp).value();
  report_.origin = checkpoint_->origin;
  report_.tree_size = checkpoint_->size;
  if (!j.contains("records") || !j["records"].is_array() || j["records"].empty())
    return fail("records must be a non-empty array");
  std::optional<uint64_t> previous;
  for (size_t i = 0; i < j["records"].size(); ++i) {
    const Json& r = j["records"][i];
    const std::string where = "records[" + std::to_string(i) + "]";
    if (!r.is_object() || r.size() != 4 || !r.contains("index") || !r["index"].is_number_unsigned() ||
        !r.contains("id") || !r["id"].is_string() || !r.contains("entry") || !r["entry"].is_string() ||
        !r.contains("hashes") || !r["hashes"].is_array()) {
      return fail(where + " must be exactly {index: integer, id: string, entry: string, hashes: array}");
    }
    Item item;
    item.index = r["index"].get<uint64_t>();
    if (previous && item.index <= *previous) return fail(where + ".index is not above the previous record's");
    previous = item.index;
    item.id = r["id"].get<std::string>();
    item.entry = r["entry"].get<std::string>();
    for (const auto& h : r["hashes"]) {
      auto hash = h.is_string() ? chain::HashFromHex(h.get<std::string>()) : std::nullopt;
      if (!hash) return fail(where + ".hashes: every element must be 64 lowercase hex digits");
      item.hashes.push_back(*hash);
    }
    items_.push_back(std::move(item));
  }
  report_.records = items_.size();
  if (j.contains("anchor_receipt")) {
    if (!j["anchor_receipt"].is_string()) return fail("anchor_receipt must be a string (the receipt file)");
    receipt_ = j["anchor_receipt"].get<std::string>();
    report_.has_receipt = true;
  }
  return true;
}

void Verifier::CheckCheckpoint() {
  bool signed_ok = false;
  std::string last_error = "no operator key given";
  for (const auto& key : trust_.operator_keys) {
    auto opened = chain::OpenCheckpoint(note_, key);
    if (opened.ok()) {
      signed_ok = true;
      break;
    }
    last_error = std::string(chain::NoteErrorCodeName(opened.error().code)) + ": " + opened.error().message;
  }
  if (!signed_ok) {
    Issue(BundleIssueCode::kCheckpointSignature, "checkpoint",
          "no valid signature by a trusted operator key (" + last_error + ")");
  }
  const chain::QuorumReport q = chain::CountCosignatures(note_, trust_.witnesses);
  report_.cosigned_by = q.cosigned_by;
  for (const auto& name : q.bad) {
    Issue(BundleIssueCode::kBadCosignature, "checkpoint",
          "the cosignature line of trusted witness \"" + name + "\" does not verify");
  }
  if (trust_.witnesses.quorum == 0) return;
  if (q.distinct_keys >= trust_.witnesses.quorum) return;
  // Which signature lines are neither the operator's nor a trusted witness's?
  std::vector<std::string> unknown;
  for (const auto& line : note_.signatures) {
    bool known = false;
    for (const auto& key : trust_.operator_keys) {
      known |= line.name == checkpoint_->origin && line.key_id == chain::NoteKeyId(line.name, key);
    }
    for (const auto& w : trust_.witnesses.witnesses) {
      known |= line.name == w.name && line.key_id == chain::CosignatureKeyId(w.name, w.key);
    }
    if (!known) {
      char id[9];
      std::snprintf(id, sizeof id, "%08x", line.key_id);
      unknown.push_back("\"" + line.name + "\" (key id " + id + ")");
    }
  }
  const std::string counted = std::to_string(q.distinct_keys) + " distinct trusted witness keys cosigned, quorum " +
                              std::to_string(trust_.witnesses.quorum);
  if (!unknown.empty()) {
    std::string names;
    for (const auto& u : unknown) names += (names.empty() ? "" : ", ") + u;
    Issue(BundleIssueCode::kUnknownWitness, "checkpoint",
          counted + "; signature lines from keys not trusted here: " + names);
  } else {
    Issue(BundleIssueCode::kQuorum, "checkpoint", counted);
  }
}

void Verifier::CheckRecords() {
  // Entries, ids and proofs.
  for (size_t i = 0; i < items_.size(); ++i) {
    Item& item = items_[i];
    const std::string where = ItemName(i, item.index);
    auto parsed = ParseRecord(item.entry);
    if (!parsed.ok()) {
      Issue(BundleIssueCode::kBadRecord, where, "entry does not parse: " + parsed.error().ToString());
    } else if (parsed->entry != item.entry) {
      Issue(BundleIssueCode::kBadRecord, where, "entry is not in canonical form");
    } else if (parsed->IdHex() != item.id) {
      Issue(BundleIssueCode::kBadRecord, where, "listed id " + item.id + " is not the entry's id " + parsed->IdHex());
    } else {
      item.record = std::move(parsed).value();
    }
    const chain::Hash leaf = item.record ? item.record->leaf_hash : chain::LeafHash(item.entry);
    auto proof = chain::VerifyInclusion(item.index, checkpoint_->size, leaf, item.hashes, checkpoint_->root);
    if (!proof.ok()) {
      Issue(BundleIssueCode::kBadProof, where,
            std::string(chain::ProofErrorCodeName(proof.error().code)) + ": " + proof.error().message +
                " (checkpoint size " + std::to_string(checkpoint_->size) + ")");
    }
  }
  // Keys: registrations and revocations, by key id, from the bundle.
  std::map<std::string, std::vector<KeyEvent>> keys;
  std::set<std::string> authors;
  for (const auto& item : items_) {
    if (!item.record) continue;
    const Record& r = *item.record;
    authors.insert(r.author);
    if (r.kind == RecordKind::kParty || r.kind == RecordKind::kKeyRotation) {
      if (auto pk = wallet::PublicKey::FromHex(r.Str("public_key")))
        keys[pk->KeyId()].push_back({item.index, *pk, false});
    } else if (r.kind == RecordKind::kKeyRevocation) {
      keys[std::string(r.Str("key_id"))].push_back({item.index, std::nullopt, true});
    }
  }
  std::set<std::pair<std::string, std::string>> lots;
  bool defined = false;
  for (const auto& item : items_) {
    if (item.record && item.record->kind == RecordKind::kShipment && DefinesSubject(*item.record, subject_))
      lots = ShipmentLots(*item.record);
    if (item.record && subject_.kind == SubjectKind::kCode && DefinesSubject(*item.record, subject_))
      subject_.lot = std::string(item.record->Str("lot"));
  }
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& item = items_[i];
    if (!item.record) continue;
    const Record& r = *item.record;
    const std::string where = ItemName(i, item.index);
    // The author's key: registered at or before this record (the genesis
    // party record registers the key that signs it), not revoked before.
    std::optional<wallet::PublicKey> key;
    std::optional<uint64_t> revoked;
    for (const auto& e : keys[r.author]) {
      if (e.key && e.index <= item.index && !key) key = e.key;
      if (e.revoked && e.index < item.index && !revoked) revoked = e.index;
    }
    if (!key) {
      Issue(BundleIssueCode::kUnregisteredKey, where,
            "author key " + r.author + " is not registered by a party or key_rotation record in the bundle");
    } else if (revoked) {
      Issue(BundleIssueCode::kKeyRevoked, where,
            "author key " + r.author + " was revoked at index " + std::to_string(*revoked));
    } else if (!key->Verify(r.id, r.sig)) {
      Issue(BundleIssueCode::kBadSignature, where, "signature does not verify under author key " + r.author);
    }
    // Relevance.
    if (DefinesSubject(r, subject_)) defined = true;
    bool relevant = AboutSubject(r, subject_, lots);
    if (!relevant && IsKeyRecord(r.kind)) {
      std::string key_id = r.kind == RecordKind::kKeyRevocation ? std::string(r.Str("key_id")) : "";
      if (key_id.empty()) {
        if (auto pk = wallet::PublicKey::FromHex(r.Str("public_key"))) key_id = pk->KeyId();
      }
      relevant = authors.contains(key_id);
    }
    if (!relevant) {
      Issue(BundleIssueCode::kOffSubject, where,
            "the " + std::string(KindName(r.kind)) + " record is not about " + subject_.Describe() +
                " and registers no author's key");
    }
  }
  if (!defined) {
    const char* what = subject_.kind == SubjectKind::kCode  ? "the code_issuance record listing the serial"
                       : subject_.kind == SubjectKind::kLot ? "the lot record"
                                                            : "the shipment record";
    Issue(BundleIssueCode::kIncomplete, "records", std::string("missing ") + what + " of " + subject_.Describe());
  }
}

void Verifier::CheckReceipt() {
  if (!receipt_) return;
  auto receipt = chain::ParseAnchorReceipt(*receipt_);
  if (!receipt.ok()) {
    Issue(BundleIssueCode::kBadReceipt, "anchor_receipt", receipt.error().message);
    return;
  }
  if (auto c = chain::CheckAnchorReceipt(*receipt); !c.ok()) {
    Issue(BundleIssueCode::kBadReceipt, "anchor_receipt", c.error().message);
    return;
  }
  auto summary = Summary(note_);
  if (!summary || summary->body_sha256 != receipt->checkpoint_body_sha256 ||
      summary->tree_size != receipt->tree_size) {
    Issue(BundleIssueCode::kReceiptMismatch, "anchor_receipt",
          "the receipt anchors the checkpoint of size " + std::to_string(receipt->tree_size) + " with body SHA-256 " +
              chain::HashHex(receipt->checkpoint_body_sha256) + ", not the bundle's (size " +
              std::to_string(checkpoint_->size) + (summary ? ", body SHA-256 " + chain::HashHex(summary->body_sha256) : "") +
              ")");
    return;
  }
  report_.unchecked.push_back(
      "anchor transaction " + std::string("0x") + chain::HashHex(receipt->tx_hash) + " on chain " +
      std::to_string(receipt->chain_id) + ", block " + std::to_string(receipt->block_number) +
      ": its inclusion and depth need a node; check them with `tracectl anchor verify RECEIPT --rpc URL` "
      "(the receipt is the bundle's anchor_receipt member)");
}

}  // namespace

BundleReport VerifyBundle(std::string_view bytes, const BundleTrust& trust) {
  BundleReport report;
  Verifier v(trust, report);
  if (!v.Parse(bytes)) return report;
  v.CheckCheckpoint();
  v.CheckRecords();
  v.CheckReceipt();
  report.unchecked.push_back(
      "completeness: a bundle proves that its records are in the log, not that the log holds no other record "
      "about the subject");
  return report;
}

}  // namespace traceledger::ledger
