#include "ledger/state.h"

#include "util/encoding.h"

namespace traceledger::ledger {
namespace {

bool IsCachedKey(std::string_view key) {
  return key.starts_with("k/") || key.starts_with("kr/") || key.starts_with("kt/") ||
         key.starts_with("p/") || key.starts_with("pr/");
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

std::string EncodeFact(const Fact& fact) {
  Json j = {{"seq", fact.seq}};
  if (!fact.owner.empty()) j["owner"] = fact.owner;
  if (!fact.party.empty()) j["party"] = fact.party;
  if (!fact.public_key.empty()) j["public_key"] = fact.public_key;
  return CanonicalJson(j);
}

std::optional<Fact> DecodeFact(std::string_view value) {
  auto parsed = ParseStrictJson(value);
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  const Json& j = *parsed;
  Fact f;
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer() || seq->get<int64_t>() < 0) return std::nullopt;
  f.seq = seq->get<uint64_t>();
  for (auto [name, out] : {std::pair{"owner", &f.owner}, std::pair{"party", &f.party},
                           std::pair{"public_key", &f.public_key}}) {
    auto it = j.find(name);
    if (it == j.end()) continue;
    if (!it->is_string()) return std::nullopt;
    *out = it->get<std::string>();
  }
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
