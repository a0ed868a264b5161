#include "qrcode/ledger_lookup.h"

namespace traceledger::qrcode {

Result<std::optional<IssuerKey>, std::string> LedgerIssuerLookup::FindKey(std::string_view key_id) const {
  auto info = ledger_.GetKey(key_id);
  if (!info.ok()) return info.error().message;
  if (!info->has_value()) return std::optional<IssuerKey>();
  const ledger::KeyInfo& k = **info;
  return std::optional<IssuerKey>(IssuerKey{
      .key = k.key, .party = k.party, .revoked = k.revoked.has_value(), .retired = k.retired.has_value()});
}

Result<std::optional<std::string>, std::string> LedgerIssuerLookup::GtinOwner(std::string_view gtin14) const {
  constexpr size_t kMaxCachedOwners = size_t{1} << 16;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = owners_.find(std::string(gtin14)); it != owners_.end()) {
      return std::optional<std::string>(it->second);
    }
  }
  auto product = ledger_.GetProduct(gtin14);
  if (!product.ok()) return product.error().message;
  if (!product->has_value()) return std::optional<std::string>();
  // The owner is the party of the key that registered the product.
  auto author = ledger_.GetKey((*product)->record.author);
  if (!author.ok()) return author.error().message;
  if (!author->has_value())
    return "the product record's author key " + (*product)->record.author + " is not registered";
  std::lock_guard<std::mutex> lock(mu_);
  if (owners_.size() >= kMaxCachedOwners) owners_.clear();
  owners_.emplace(std::string(gtin14), (*author)->party);
  return std::optional<std::string>((*author)->party);
}

Result<StatusInfo, std::string> LedgerStatusLookup::CodeStatus(const Code& code) const {
  auto status = ledger_.GetCodeStatus(code.gtin, code.serial);
  if (!status.ok()) return status.error().message;
  StatusInfo info;
  if (!status->issued) {
    info.status = Status::kNeverIssued;
    info.message = "serial " + code.serial + " was never issued for GTIN " + code.gtin;
    return info;
  }
  const ledger::IssuedCode& issued = *status->issued;
  if (issued.lot() != code.lot) {
    info.status = Status::kNeverIssued;
    info.message = "serial " + code.serial + " was issued for lot " + std::string(issued.lot()) +
                   ", not lot " + code.lot;
    return info;
  }
  const ledger::Record& part = issued.issuance->record;
  info.batch = std::string(issued.batch());
  info.issuance_index = issued.issuance->index;
  info.has_pin = part.body.contains("pin_hashes");
  auto at = [](uint64_t index) { return " (log index " + std::to_string(index) + ")"; };
  if (status->revoked) {
    info.status = Status::kRevoked;
    info.message = "the code was revoked" + at(*status->revoked);
  } else if (status->lot_recalled) {
    info.status = Status::kLotRecalled;
    info.message = "lot " + code.lot + " was recalled" + at(*status->lot_recalled);
  } else if (status->failed_inspection) {
    info.status = Status::kLotFailedInspection;
    info.message = "lot " + code.lot + " failed an inspection" + at(*status->failed_inspection);
  } else {
    info.status = Status::kValid;
    info.message = "issued in batch " + info.batch + ", part " +
                   std::to_string(part.body.at("part").get<int64_t>()) + " of " +
                   std::to_string(part.body.at("parts").get<int64_t>()) + at(info.issuance_index) +
                   ", block " + std::to_string(issued.issuance->height);
  }
  return info;
}

}  // namespace traceledger::qrcode
