#include "ledger/state.h"

#include "util/encoding.h"

namespace traceledger::ledger {
namespace {

bool IsCachedKey(std::string_view key) {
  return key.starts_with("k/") || key.starts_with("kr/") || key.starts_with("kt/") || key.starts_with("p/") ||
         key.starts_with("pr/");
}

}  // namespace

std::optional<std::string> StoreState::Get(std::string_view key) const {
  const bool cacheable = IsCachedKey(key);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(std::string(key));
    if (it != cache_.end()) return it->second;
  }
  auto value = store_.Get(key);
  if (!value.ok()) {
    io_error_ = true;
    return std::nullopt;
  }
  if (cacheable) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() > kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(key), *value);
  }
  return *value;
}

void StoreState::Written(const std::string& key, const std::string& value) {
  if (!IsCachedKey(key)) return;
  std::lock_guard<std::mutex> lock(mu_);
  cache_[key] = value;
}

namespace keys {

std::string Record(const chain::Hash& id) {
  std::string k = "r/";
  k.append(reinterpret_cast<const char*>(id.data()), id.size());
  return k;
}
std::string Key(std::string_view key_id) { return "k/" + std::string(key_id); }
std::string KeyRetired(std::string_view key_id) { return "kt/" + std::string(key_id); }
std::string KeyRevoked(std::string_view key_id) { return "kr/" + std::string(key_id); }
std::string Party(std::string_view party) { return "p/" + std::string(party); }
std::string PartyRole(std::string_view party, Role role) {
  std::string k = "pr/" + std::string(party);
  k += '\0';
  k += RoleName(role);
  return k;
}
std::string Product(std::string_view gtin) { return "g/" + std::string(gtin); }
std::string Lot(std::string_view gtin, std::string_view lot) {
  return "l/" + std::string(gtin) + std::string(lot);
}
std::string LotRecalled(std::string_view gtin, std::string_view lot) {
  return "lr/" + std::string(gtin) + std::string(lot);
}
std::string CodeBatch(std::string_view gtin, std::string_view batch) {
  return "c/" + std::string(gtin) + std::string(batch);
}
std::string CodeRevoked(std::string_view gtin, std::string_view serial) {
  std::string k = "cr/" + std::string(gtin);
  k += '\0';
  k += serial;
  return k;
}
std::string CodeIssued(std::string_view gtin, std::string_view serial) {
  std::string k = "ci/" + std::string(gtin);
  k += '\0';
  k += serial;
  return k;
}
std::string CodePartPrefix(std::string_view gtin, std::string_view batch) {
  std::string k = "cp/" + std::string(gtin) + std::string(batch);
  k += '\0';
  return k;
}
std::string CodePart(std::string_view gtin, std::string_view batch, std::string_view lot, uint32_t parts,
                     uint32_t part) {
  std::string k = CodePartPrefix(gtin, batch);
  k += lot;
  k += '\0';
  size_t n = k.size();
  k.resize(n + 8);
  PutBigEndian32(parts, reinterpret_cast<uint8_t*>(k.data() + n));
  PutBigEndian32(part, reinterpret_cast<uint8_t*>(k.data() + n + 4));
  return k;
}
std::string LotFailedPrefix(std::string_view gtin, std::string_view lot) {
  std::string k = "lf/" + std::string(gtin) + std::string(lot);
  k += '\0';
  return k;
}
std::string Shipment(std::string_view shipment) { return "s/" + std::string(shipment); }
std::string PolicyVersion(int64_t version) {
  std::string k = "v/";
  k.resize(10);
  PutBigEndian64(static_cast<uint64_t>(version), reinterpret_cast<uint8_t*>(k.data() + 2));
  return k;
}
std::string LotHistoryPrefix(std::string_view gtin, std::string_view lot) {
  std::string k = "hl/" + std::string(gtin) + std::string(lot);
  k += '\0';
  return k;
}
std::string ShipmentHistoryPrefix(std::string_view shipment) {
  std::string k = "hs/" + std::string(shipment);
  k += '\0';
  return k;
}
namespace {
std::string WithHash(std::string k, const chain::Hash& id) {
  k.append(reinterpret_cast<const char*>(id.data()), id.size());
  return k;
}
}  // namespace
std::string BlackListing(const chain::Hash& record_id) { return WithHash("cb/", record_id); }
std::string ListingRepaired(const chain::Hash& listing_id) { return WithHash("ca/", listing_id); }
std::string RepairRequest(const chain::Hash& record_id) { return WithHash("cq/", record_id); }
std::string RepairDecided(const chain::Hash& request_id) { return WithHash("cd/", request_id); }
std::string WithSeq(std::string prefix, uint64_t seq) {
  size_t n = prefix.size();
  prefix.resize(n + 8);
  PutBigEndian64(seq, reinterpret_cast<uint8_t*>(prefix.data() + n));
  return prefix;
}
uint64_t SeqOfHistoryKey(std::string_view key) {
  return GetBigEndian64(reinterpret_cast<const uint8_t*>(key.data() + key.size() - 8));
}

}  // namespace keys

std::string PrintableKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Facts are canonical JSON of one fixed shape,
//   {["date":"…",]["owner":"…",]["party":"…",]["public_key":"…",]["ref":"…",]"seq":N}
// (members in RFC 8785 order), whose strings are party ids or lowercase hex
// and so never need escaping. Encoding and decoding are written out by hand
// because every record reads several facts; the decoder accepts exactly
// what the encoder produces and nothing else.
std::string EncodeFact(const Fact& fact) {
  std::string out = "{";
  auto member = [&](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    out += '"';
    out += name;
    out += "\":\"";
    out += value;
    out += "\",";
  };
  member("date", fact.date);
  member("owner", fact.owner);
  member("party", fact.party);
  member("public_key", fact.public_key);
  member("ref", fact.ref);
  out += "\"seq\":";
  out += std::to_string(fact.seq);
  out += '}';
  return out;
}

namespace {

bool IsFactStringChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::optional<Fact> DecodeFact(std::string_view v) {
  Fact f;
  if (v.empty() || v.front() != '{') return std::nullopt;
  v.remove_prefix(1);
  auto member = [&](std::string_view name, std::string& out) -> bool {
    std::string head = "\"" + std::string(name) + "\":\"";
    if (!v.starts_with(head)) return true;  // absent
    v.remove_prefix(head.size());
    size_t end = 0;
    while (end < v.size() && IsFactStringChar(v[end])) ++end;
    if (end == 0 || end + 1 >= v.size() || v[end] != '"' || v[end + 1] != ',') return false;
    out.assign(v.substr(0, end));
    v.remove_prefix(end + 2);
    return true;
  };
  if (!member("date", f.date) || !member("owner", f.owner) || !member("party", f.party) ||
      !member("public_key", f.public_key) || !member("ref", f.ref)) {
    return std::nullopt;
  }
  if (!v.starts_with("\"seq\":")) return std::nullopt;
  v.remove_prefix(6);
  size_t digits = 0;
  uint64_t seq = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') {
    seq = seq * 10 + static_cast<uint64_t>(v[digits] - '0');
    if (++digits > 16) return std::nullopt;  // beyond 2^53: not ours
  }
  if (digits == 0 || (digits > 1 && v[0] == '0') || v.substr(digits) != "}") return std::nullopt;
  if (seq > static_cast<uint64_t>(kMaxSafeInteger)) return std::nullopt;
  f.seq = seq;
  return f;
}

std::string EncodeSeq(uint64_t seq) {
  std::string v(8, '\0');
  PutBigEndian64(seq, reinterpret_cast<uint8_t*>(v.data()));
  return v;
}

std::optional<uint64_t> DecodeSeq(std::string_view value) {
  if (value.size() != 8) return std::nullopt;
  return GetBigEndian64(reinterpret_cast<const uint8_t*>(value.data()));
}

std::optional<Fact> FactAsOf(const StateReader& state, const std::string& key, uint64_t as_of) {
  auto raw = state.Get(key);
  if (!raw) return std::nullopt;
  auto fact = DecodeFact(*raw);
  if (!fact) {
    // An undecodable value cannot be trusted either way; report it as a
    // fact from the beginning of time with no owner, which fails every
    // ownership check and makes audit's fact comparison fail loudly.
    return Fact{};
  }
  if (fact->seq >= as_of) return std::nullopt;
  return fact;
}

}  // namespace traceledger::ledger
