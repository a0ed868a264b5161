#include "ledger/owner_index.h"

#include <cstdint>

#include "ledger/schema.h"
#include "ledger/state.h"

namespace traceledger::ledger {
namespace {

struct Mirror {
  OwnedKind kind;
  std::string_view fact_prefix;   // the owner fact it mirrors
  std::string_view index_prefix;  // followed by <party>\0<suffix>
};
constexpr Mirror kMirrors[] = {
    {OwnedKind::kProduct, "g/", "og/"},
    {OwnedKind::kLot, "l/", "ol/"},
    {OwnedKind::kShipment, "s/", "os/"},
    {OwnedKind::kCodeBatch, "c/", "oc/"},
};

const Mirror& MirrorOf(OwnedKind kind) { return kMirrors[static_cast<int>(kind)]; }

std::string IndexKey(OwnedKind kind, std::string_view party, std::string_view suffix) {
  std::string k = keys::OwnedPrefix(kind, party);
  k += suffix;
  return k;
}

// Rows written per store batch when an old store's index is built.
constexpr size_t kBuildBatch = 65536;

LedgerError StoreError(const chain::StoreError& e) { return LedgerError{LedgerErrorCode::kStore, e.message}; }

// The cursor shown for an index suffix: gtin:lot and gtin:batch get a ':'.
std::string SuffixToCursor(OwnedKind kind, std::string_view suffix) {
  if ((kind == OwnedKind::kLot || kind == OwnedKind::kCodeBatch) && suffix.size() > 14) {
    return std::string(suffix.substr(0, 14)) + ":" + std::string(suffix.substr(14));
  }
  return std::string(suffix);
}

}  // namespace

std::string_view OwnedKindName(OwnedKind kind) {
  switch (kind) {
    case OwnedKind::kProduct:
      return "products";
    case OwnedKind::kLot:
      return "lots";
    case OwnedKind::kShipment:
      return "shipments";
    case OwnedKind::kCodeBatch:
      return "codes";
  }
  return "?";
}

namespace keys {
std::string OwnedPrefix(OwnedKind kind, std::string_view party) {
  std::string k(MirrorOf(kind).index_prefix);
  k += party;
  k += '\0';
  return k;
}
}  // namespace keys

void OwnerIndexEffects(const Record& r, std::string_view party, uint64_t index,
                       std::vector<std::pair<std::string, std::string>>& out) {
  const std::string stamp = EncodeFact(Fact{.seq = index});
  switch (r.kind) {
    case RecordKind::kProduct:
      out.emplace_back(IndexKey(OwnedKind::kProduct, party, r.Str("gtin")), stamp);
      break;
    case RecordKind::kLot:
      out.emplace_back(IndexKey(OwnedKind::kLot, party, std::string(r.Str("gtin")) + std::string(r.Str("lot"))),
                       stamp);
      break;
    case RecordKind::kShipment:
      out.emplace_back(IndexKey(OwnedKind::kShipment, party, r.Str("shipment")), stamp);
      break;
    case RecordKind::kCodeIssuance:
      if (r.body.at("part").get<int64_t>() == 1) {
        out.emplace_back(
            IndexKey(OwnedKind::kCodeBatch, party, std::string(r.Str("gtin")) + std::string(r.Str("batch"))),
            stamp);
      }
      break;
    default:
      break;
  }
}

LedgerResult<uint64_t> BuildOwnerIndex(chain::Store& store) {
  uint64_t written = 0;
  for (const Mirror& m : kMirrors) {
    uint64_t facts = 0, entries = 0;
    auto count_facts = store.Scan(m.fact_prefix, {}, [&](std::string_view, std::string_view) {
      ++facts;
      return true;
    });
    if (!count_facts.ok()) return StoreError(count_facts.error());
    auto count_entries = store.Scan(m.index_prefix, {}, [&](std::string_view, std::string_view) {
      ++entries;
      return true;
    });
    if (!count_entries.ok()) return StoreError(count_entries.error());
    if (facts == entries) continue;
    // Collect the missing entries first (a store write during a scan would
    // not be seen by it anyway), then write them in batches.
    std::vector<std::pair<std::string, std::string>> missing;
    std::optional<LedgerError> failure;
    auto scan = store.Scan(m.fact_prefix, {}, [&](std::string_view key, std::string_view value) {
      auto fact = DecodeFact(value);
      if (!fact || fact->owner.empty()) {
        failure = LedgerError{LedgerErrorCode::kCorrupt, "owner fact " + PrintableKey(key) + " is damaged"};
        return false;
      }
      std::string index_key = IndexKey(m.kind, fact->owner, key.substr(m.fact_prefix.size()));
      auto existing = store.Get(index_key);
      if (!existing.ok()) {
        failure = StoreError(existing.error());
        return false;
      }
      if (!existing->has_value()) missing.emplace_back(std::move(index_key), EncodeFact(Fact{.seq = fact->seq}));
      return true;
    });
    if (!scan.ok()) return StoreError(scan.error());
    if (failure) return *failure;
    for (size_t i = 0; i < missing.size(); i += kBuildBatch) {
      chain::WriteSet batch;
      for (size_t j = i; j < missing.size() && j < i + kBuildBatch; ++j) batch.Put(missing[j].first, missing[j].second);
      auto ok = store.Write(batch, /*sync=*/true);
      if (!ok.ok()) return StoreError(ok.error());
    }
    written += missing.size();
  }
  return written;
}

std::optional<std::string> CursorToSuffix(OwnedKind kind, std::string_view cursor) {
  if (cursor.empty() || cursor.size() > 100) return std::nullopt;
  switch (kind) {
    case OwnedKind::kProduct:
      if (cursor.size() != 14 || cursor.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
      return std::string(cursor);
    case OwnedKind::kLot:
    case OwnedKind::kCodeBatch:
      if (cursor.size() < 16 || cursor[14] != ':' ||
          cursor.substr(0, 14).find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
      }
      return std::string(cursor.substr(0, 14)) + std::string(cursor.substr(15));
    case OwnedKind::kShipment:
      return std::string(cursor);
  }
  return std::nullopt;
}

LedgerResult<OwnedPage> ListOwned(const Ledger& ledger, std::string_view party, OwnedKind kind,
                                  std::string_view after, size_t limit) {
  const std::string prefix = keys::OwnedPrefix(kind, party);
  std::string start = prefix;
  if (!after.empty()) {
    auto suffix = CursorToSuffix(kind, after);
    if (suffix) {
      start += *suffix;
      start += '\0';  // the first key strictly after the cursor's
    }
  }
  std::vector<std::pair<std::string, uint64_t>> rows;  // suffix, seq
  bool more = false, bad = false;
  auto scan = ledger.store().Scan(prefix, start, [&](std::string_view key, std::string_view value) {
    if (rows.size() == limit) {
      more = true;
      return false;
    }
    auto fact = DecodeFact(value);
    if (!fact || key.size() == prefix.size()) {
      bad = true;
      return false;
    }
    rows.emplace_back(std::string(key.substr(prefix.size())), fact->seq);
    return true;
  });
  if (!scan.ok()) return StoreError(scan.error());
  if (bad) return LedgerError{LedgerErrorCode::kCorrupt, "owner index of " + std::string(party) + " is damaged"};
  OwnedPage page;
  const StateReader& state = ledger.committed_state();
  for (auto& [suffix, seq] : rows) {
    auto stored = ledger.GetByIndex(seq);
    if (!stored.ok()) return stored.error();
    bool matches = stored->has_value();
    if (matches) {
      const Record& r = (*stored)->record;
      auto author = FactAsOf(state, keys::Key(r.author), UINT64_MAX);
      matches = author && author->party == party;
      switch (kind) {
        case OwnedKind::kProduct:
          matches = matches && r.kind == RecordKind::kProduct && r.Str("gtin") == suffix;
          break;
        case OwnedKind::kLot:
          matches = matches && r.kind == RecordKind::kLot &&
                    std::string(r.Str("gtin")) + std::string(r.Str("lot")) == suffix;
          break;
        case OwnedKind::kShipment:
          matches = matches && r.kind == RecordKind::kShipment && r.Str("shipment") == suffix;
          break;
        case OwnedKind::kCodeBatch:
          matches = matches && r.kind == RecordKind::kCodeIssuance && r.body.at("part").get<int64_t>() == 1 &&
                    std::string(r.Str("gtin")) + std::string(r.Str("batch")) == suffix;
          break;
      }
    }
    if (!matches) {
      return LedgerError{LedgerErrorCode::kCorrupt, "owner index entry " + PrintableKey(prefix + suffix) +
                                                        " points at entry " + std::to_string(seq) +
                                                        ", which does not create it"};
    }
    page.items.push_back(OwnedItem{SuffixToCursor(kind, suffix), std::move(**stored)});
  }
  if (more && !page.items.empty()) page.next = page.items.back().cursor;
  return page;
}

}  // namespace traceledger::ledger
