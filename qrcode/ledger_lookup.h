// The lookups of verify.h backed by a ledger: keys and GTIN owners through
// its verified reads, code statuses through Ledger::GetCodeStatus.
// Thread-safe when the ledger is (its reads are).
#ifndef TRACELEDGER_QRCODE_LEDGER_LOOKUP_H_
#define TRACELEDGER_QRCODE_LEDGER_LOOKUP_H_

#include <mutex>
#include <string>
#include <unordered_map>

#include "ledger/ledger.h"
#include "qrcode/verify.h"

namespace traceledger::qrcode {

class LedgerIssuerLookup : public IssuerLookup {
 public:
  // `ledger` must outlive this object.
  explicit LedgerIssuerLookup(const ledger::Ledger& ledger) : ledger_(ledger) {}
  Result<std::optional<IssuerKey>, std::string> FindKey(std::string_view key_id) const override;
  bool KnowsOwners() const override { return true; }
  // Owners found are remembered: a product's registration never changes
  // (facts are write-once), so a cached owner cannot go stale.
  Result<std::optional<std::string>, std::string> GtinOwner(std::string_view gtin14) const override;

 private:
  const ledger::Ledger& ledger_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::string> owners_;  // GUARDED_BY(mu_)
};

class LedgerStatusLookup : public StatusLookup {
 public:
  explicit LedgerStatusLookup(const ledger::Ledger& ledger) : ledger_(ledger) {}
  // never_issued also when the serial was issued for another lot than the
  // code names. Precedence: never_issued, revoked, lot_recalled,
  // lot_failed_inspection, valid.
  Result<StatusInfo, std::string> CodeStatus(const Code& code) const override;

 private:
  const ledger::Ledger& ledger_;
};

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_LEDGER_LOOKUP_H_
