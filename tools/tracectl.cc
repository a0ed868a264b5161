// tracectl: the TraceLedger command-line tool. See docs/CLI.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chain/hash.h"
#include "ledger/audit.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "ledger/schema.h"
#include "tools/cli_support.h"
#include "tools/commands.h"
#include "util/encoding.h"
#include "wallet/keystore.h"
#include "wallet/random.h"

namespace traceledger::tools {
namespace {

using ledger::FieldType;
using ledger::Json;

std::string FlagName(std::string_view field) {
  std::string s(field);
  for (char& c : s) c = c == '_' ? '-' : c;
  return "--" + s;
}

// GTIN-8/12/13 given on the command line are padded to GTIN-14.
std::string PadGtin(const std::string& s) {
  if ((s.size() == 8 || s.size() == 12 || s.size() == 13) &&
      s.find_first_not_of("0123456789") == std::string::npos) {
    return std::string(14 - s.size(), '0') + s;
  }
  return s;
}

int64_t ParseIntFlag(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used, 10);
    if (used != text.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw CliError(kExitUsage, flag + ": \"" + text + "\" is not an integer");
  }
}

Json ParseLotRef(const std::string& flag, const std::string& text) {
  // GTIN:LOT:QUANTITY — the GTIN has fixed width, the quantity follows the
  // last colon, so the lot may itself contain ':'.
  auto first = text.find(':');
  auto last = text.rfind(':');
  if (first == std::string::npos || first == last) {
    throw CliError(kExitUsage, flag + ": \"" + text + "\" is not GTIN:LOT:QUANTITY");
  }
  return Json{{"gtin", PadGtin(text.substr(0, first))},
              {"lot", text.substr(first + 1, last - first - 1)},
              {"quantity", ParseIntFlag(flag, text.substr(last + 1))}};
}

// The values given for one record kind's flags.
struct KindFlags {
  ledger::RecordKind kind;
  std::map<std::string, std::string> scalars;
  std::map<std::string, std::vector<std::string>> lists;
  std::string key_file;
  std::string json_file;
  std::string public_key_from;
  int64_t time = 0;
  bool dry_run = false;
};

Json BodyFromFlags(KindFlags& f) {
  Json body = Json::object();
  if (!f.json_file.empty()) {
    auto parsed = ledger::ParseStrictJson(ReadFileOrThrow(f.json_file));
    if (!parsed.ok()) throw CliError(kExitUsage, f.json_file + ": " + parsed.error().message);
    body = std::move(parsed).value();
    if (body.is_object() && body.contains("body") && body.contains("kind")) {
      if (body["kind"] != ledger::KindName(f.kind)) {
        throw CliError(kExitUsage, f.json_file + ": holds a " + body["kind"].dump() + " record, not a " +
                                       std::string(ledger::KindName(f.kind)));
      }
      body = body["body"];
    }
    if (!body.is_object()) throw CliError(kExitUsage, f.json_file + ": must hold a JSON object");
  }
  for (const auto& spec : ledger::SchemaFor(f.kind).fields) {
    std::string flag = FlagName(spec.name);
    std::string name(spec.name);
    switch (spec.type) {
      case FieldType::kInteger:
        if (auto it = f.scalars.find(name); it != f.scalars.end() && !it->second.empty()) {
          body[name] = ParseIntFlag(flag, it->second);
        }
        break;
      case FieldType::kEnumArray:
      case FieldType::kSha256Array:
      case FieldType::kSerialArray:
      case FieldType::kHex128Array:
        if (auto it = f.lists.find(name); it != f.lists.end() && !it->second.empty()) body[name] = it->second;
        break;
      case FieldType::kLotRefArray:
        if (auto it = f.lists.find(name); it != f.lists.end() && !it->second.empty()) {
          Json lots = Json::array();
          for (const auto& text : it->second) lots.push_back(ParseLotRef(flag, text));
          body[name] = lots;
        }
        break;
      case FieldType::kObject:
        if (auto it = f.scalars.find(name); it != f.scalars.end() && !it->second.empty()) {
          std::string text = it->second;
          if (text.starts_with("@")) text = ReadFileOrThrow(text.substr(1));
          auto parsed = ledger::ParseStrictJson(text);
          if (!parsed.ok()) throw CliError(kExitUsage, flag + ": " + parsed.error().message);
          body[name] = std::move(parsed).value();
        }
        break;
      default:
        if (auto it = f.scalars.find(name); it != f.scalars.end() && !it->second.empty()) {
          body[name] = spec.type == FieldType::kGtin ? PadGtin(it->second) : it->second;
        }
        break;
    }
  }
  if (!f.public_key_from.empty()) {
    auto pk = wallet::ReadKeystorePublicKey(f.public_key_from);
    if (!pk.ok()) throw CliError(kExitFailure, pk.error().message);
    body["public_key"] = pk->Hex();
  }
  return body;
}

void PrintReject(const ledger::Reject& r, bool json) {
  if (json) {
    Json out = {{"accepted", false},
                {"error",
                 {{"code", std::string(ledger::RejectCodeName(r.code))},
                  {"field", r.field},
                  {"message", r.message}}}};
    std::cout << out.dump() << "\n";
  } else {
    std::cerr << "rejected: " << r.ToString() << "\n";
  }
}

void PrintReceipt(const ledger::Record& record, const ledger::Receipt& receipt, bool json) {
  if (json) {
    Json out = {{"accepted", true},
                {"id", chain::HashHex(receipt.id)},
                {"kind", std::string(ledger::KindName(record.kind))},
                {"index", receipt.index},
                {"height", receipt.height}};
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "accepted " << ledger::KindName(record.kind) << " " << chain::HashHex(receipt.id)
              << " (index " << receipt.index << ", block " << receipt.height << ")\n";
  }
}

int RunAppend(const GlobalFlags& g, KindFlags& f) {
  std::string entry;
  ledger::Record record;
  Json body = BodyFromFlags(f);
  if (f.key_file.empty())
    throw CliError(kExitUsage, "--key is required: the author's keystore signs the record");
  // The operator's own keystore keeps its own passphrase variable.
  std::error_code ec;
  bool is_operator_key = std::filesystem::equivalent(f.key_file, DataDir{g.data}.OperatorKeyPath(), ec);
  wallet::SecretKey key =
      LoadKey(f.key_file, g.passphrase_file,
              is_operator_key ? "TRACELEDGER_OPERATOR_PASSPHRASE" : "TRACELEDGER_PASSPHRASE");
  int64_t time = f.time > 0 ? f.time : NowMs() / 1000;
  record = ledger::SignRecord(f.kind, body, key, time, wallet::RandomHex(16));
  // Validate locally first so schema errors come back before any I/O.
  auto parsed = ledger::ParseRecord(record.entry);
  if (!parsed.ok()) {
    PrintReject(parsed.error(), g.json);
    return kExitRejected;
  }
  if (f.dry_run) {
    std::cout << record.entry << "\n";
    return kExitOk;
  }
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/true, g.passphrase_file);
  auto result = ledger->Submit(record.entry);
  if (!result.ok()) {
    PrintReject(result.error(), g.json);
    return result.error().code == ledger::RejectCode::kUnavailable ? kExitFailure : kExitRejected;
  }
  PrintReceipt(record, *result, g.json);
  return kExitOk;
}

// Adds one subcommand per field table entry; values land in `f`.
CLI::App* AddKindCommand(CLI::App& parent, const std::string& name, const ledger::KindSchema& schema,
                         KindFlags& f) {
  f.kind = schema.kind;
  CLI::App* cmd = parent.add_subcommand(name, std::string(schema.help));
  cmd->add_option("--key", f.key_file, "author's keystore file (signs the record)");
  cmd->add_option("--from-json", f.json_file,
                  "read the body (or a whole unsigned record of this kind) from this JSON file; flags "
                  "override its fields");
  cmd->add_option("--time", f.time, "record time, Unix seconds (default: now)")->check(CLI::PositiveNumber);
  cmd->add_flag("--dry-run", f.dry_run, "print the signed record instead of submitting it");
  bool has_public_key = false;
  for (const auto& spec : schema.fields) {
    std::string help = std::string(spec.help) + (spec.required ? " (required)" : "");
    std::string flag = FlagName(spec.name);
    std::string field(spec.name);
    switch (spec.type) {
      case FieldType::kEnumArray:
      case FieldType::kSha256Array:
      case FieldType::kSerialArray:
      case FieldType::kHex128Array:
        cmd->add_option(flag, f.lists[field], help + "; repeat or separate with commas")->delimiter(',');
        break;
      case FieldType::kLotRefArray:
        cmd->add_option(flag, f.lists[field], help + " as GTIN:LOT:QUANTITY; repeat for several");
        break;
      case FieldType::kObject:
        cmd->add_option(flag, f.scalars[field], help + "; JSON text or @file");
        break;
      default: {
        auto* opt = cmd->add_option(flag, f.scalars[field], help);
        if (!spec.choices.empty()) {
          std::vector<std::string> choices(spec.choices.begin(), spec.choices.end());
          opt->check(CLI::IsMember(choices));
        }
        break;
      }
    }
    has_public_key = has_public_key || spec.type == FieldType::kPublicKey;
  }
  if (has_public_key) {
    cmd->add_option("--public-key-from", f.public_key_from, "take public_key from this keystore file");
  }
  return cmd;
}

int RunInit(const GlobalFlags& g, const std::string& party, const std::string& name,
            const std::string& import_key) {
  DataDir dir{g.data};
  if (std::filesystem::exists(dir.LedgerPath() + "/CURRENT")) {
    throw CliError(kExitUsage, "a ledger already exists in " + dir.root);
  }
  if (std::filesystem::exists(dir.OperatorKeyPath())) {
    throw CliError(kExitUsage, dir.OperatorKeyPath() +
                                   " exists without a ledger; remove it, or pass it with --import-key");
  }
  // Check the operator's identity before anything is written.
  {
    auto probe = ledger::ValidateBody(ledger::RecordKind::kParty,
                                      Json{{"party", party},
                                           {"name", name},
                                           {"roles", {"operator"}},
                                           {"public_key", wallet::SecretKey::Generate().Public().Hex()}});
    if (!probe.ok()) {
      std::string flag = probe.error().field == "body.party" ? "--party" : "--name";
      throw CliError(kExitUsage, flag + ": " + probe.error().message);
    }
  }
  std::filesystem::create_directories(dir.root);
  std::string pass = GetPassphrase(g.passphrase_file, "TRACELEDGER_OPERATOR_PASSPHRASE",
                                   "New operator key passphrase: ", /*confirm=*/true);
  std::optional<wallet::SecretKey> key;
  if (!import_key.empty()) {
    auto loaded = wallet::LoadKeystore(import_key, pass);
    if (!loaded.ok()) throw CliError(kExitFailure, loaded.error().message);
    key = std::move(loaded).value();
  } else {
    key = wallet::SecretKey::Generate();
  }
  auto saved = wallet::SaveKeystore(dir.OperatorKeyPath(), *key, pass);
  if (!saved.ok()) throw CliError(kExitFailure, saved.error().message);
  auto ledger = ledger::Ledger::Create(ledger::LedgerOptions{.path = dir.LedgerPath()}, *key,
                                       ledger::OperatorIdentity{.party = party, .name = name});
  if (!ledger.ok()) {
    // Leave nothing half-made behind: a retry must start from scratch.
    std::error_code ec;
    std::filesystem::remove_all(dir.LedgerPath(), ec);
    std::filesystem::remove(dir.OperatorKeyPath(), ec);
    throw CliError(kExitFailure, ledger.error().message);
  }
  std::cout << "created ledger in " << dir.root << "\n"
            << "operator party " << party << ", key id " << key->Public().KeyId() << "\n"
            << "operator key   " << dir.OperatorKeyPath() << "\n";
  return kExitOk;
}

int RunKeygen(const GlobalFlags& g, const std::string& out, bool force) {
  std::string pass = GetPassphrase(g.passphrase_file, nullptr, "New key passphrase: ", /*confirm=*/true);
  wallet::SecretKey key = wallet::SecretKey::Generate();
  auto saved = wallet::SaveKeystore(out, key, pass, wallet::SaveOptions{.overwrite = force});
  if (!saved.ok()) throw CliError(kExitFailure, saved.error().message);
  if (g.json) {
    std::cout
        << Json{{"file", out}, {"key_id", key.Public().KeyId()}, {"public_key", key.Public().Hex()}}.dump()
        << "\n";
  } else {
    std::cout << "key id     " << key.Public().KeyId() << "\npublic key " << key.Public().Hex()
              << "\nfile       " << out << "\n";
  }
  return kExitOk;
}

int RunKeyShow(const GlobalFlags& g, const std::string& file) {
  auto pk = wallet::ReadKeystorePublicKey(file);
  if (!pk.ok()) throw CliError(kExitFailure, pk.error().message);
  if (g.json) {
    std::cout << Json{{"key_id", pk->KeyId()}, {"public_key", pk->Hex()}}.dump() << "\n";
  } else {
    std::cout << "key id     " << pk->KeyId() << "\npublic key " << pk->Hex() << "\n";
  }
  return kExitOk;
}

// Submits already-signed records: a JSON object, a JSON array of them, or
// one per line (JSONL).
int RunSubmit(const GlobalFlags& g, const std::vector<std::string>& files) {
  std::vector<std::string> records;
  for (const auto& file : files) {
    std::string text = ReadFileOrThrow(file);
    auto whole = ledger::ParseStrictJson(text);
    if (whole.ok() && whole->is_array()) {
      for (const auto& r : *whole) records.push_back(r.dump());
    } else if (whole.ok()) {
      records.push_back(text);
    } else {
      std::istringstream lines(text);
      std::string line;
      while (std::getline(lines, line)) {
        if (line.find_first_not_of(" \t\r") != std::string::npos) records.push_back(line);
      }
    }
  }
  auto ledger = OpenLedger(DataDir{g.data}, /*with_signer=*/true, g.passphrase_file);
  ProgressBar bar("records");
  int rejected = 0;
  int unavailable = 0;
  constexpr size_t kChunk = 4096;
  for (size_t start = 0; start < records.size(); start += kChunk) {
    size_t n = std::min(kChunk, records.size() - start);
    auto results = ledger->SubmitBatch(std::span(records).subspan(start, n));
    for (size_t i = 0; i < n; ++i) {
      if (results[i].ok()) {
        auto parsed = ledger::ParseRecord(records[start + i]);
        PrintReceipt(*parsed, *results[i], g.json);
      } else {
        ++rejected;
        if (results[i].error().code == ledger::RejectCode::kUnavailable) ++unavailable;
        std::cerr << "record " << start + i + 1 << ": ";
        PrintReject(results[i].error(), g.json);
      }
    }
    bar.Update(start + n, records.size());
  }
  bar.Finish();
  if (unavailable > 0) return kExitFailure;
  return rejected == 0 ? kExitOk : kExitRejected;
}

int PrintOptionalRecord(const ledger::LedgerResult<std::optional<ledger::StoredRecord>>& r,
                        const std::string& what) {
  if (!r.ok()) throw CliError(kExitFailure, r.error().message);
  if (!r->has_value()) {
    std::cerr << "not found: " << what << "\n";
    return kExitRejected;
  }
  std::cout << DescribeRecord(**r) << "\n";
  return kExitOk;
}

int PrintHistory(const ledger::LedgerResult<std::vector<ledger::StoredRecord>>& r, const GlobalFlags& g,
                 const std::string& what) {
  if (!r.ok()) throw CliError(kExitFailure, r.error().message);
  if (r->empty()) {
    std::cerr << "no history for " << what << "\n";
    return kExitRejected;
  }
  if (g.json) {
    Json out = Json::array();
    for (const auto& s : *r) out.push_back(Json::parse(DescribeRecord(s)));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& s : *r) {
    const auto& rec = s.record;
    std::string summary;
    for (const char* f : {"lot", "shipment", "result", "decision", "biz_step", "from", "to", "reason"}) {
      if (auto v = rec.Str(f); !v.empty()) summary += std::string(" ") + f + "=" + std::string(v);
    }
    std::printf("%8llu  block %-6llu %-16s %s%s\n", static_cast<unsigned long long>(s.index),
                static_cast<unsigned long long>(s.height), std::string(ledger::KindName(rec.kind)).c_str(),
                rec.IdHex().substr(0, 16).c_str(), summary.c_str());
  }
  return kExitOk;
}

int RunShowBlock(const GlobalFlags& g, uint64_t height) {
  auto ledger = OpenLedger(DataDir{g.data}, false, g.passphrase_file);
  auto block = ledger->GetBlock(height);
  if (!block.ok()) throw CliError(kExitFailure, block.error().message);
  if (!block->has_value()) {
    std::cerr << "not found: block " << height << "\n";
    return kExitRejected;
  }
  const auto& h = (*block)->header;
  Json out = {{"height", h.height},
              {"hash", chain::HashHex(h.ComputeHash())},
              {"prev_hash", chain::HashHex(h.prev_hash)},
              {"tree_size", h.tree_size},
              {"root", chain::HashHex(h.root)},
              {"timestamp_ms", h.timestamp_ms},
              {"record_count", h.record_count},
              {"signer", HexEncode(h.signer)},
              {"signature", HexEncode((*block)->signature)}};
  Json ids = Json::array();
  for (uint64_t i = h.first_index(); i < h.tree_size; ++i) {
    auto rec = ledger->GetByIndex(i);
    if (rec.ok() && rec->has_value()) {
      ids.push_back({{"index", i},
                     {"id", (*rec)->record.IdHex()},
                     {"kind", std::string(ledger::KindName((*rec)->record.kind))}});
    }
  }
  out["records"] = ids;
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int RunShowLedger(const GlobalFlags& g) {
  auto ledger = OpenLedger(DataDir{g.data}, false, g.passphrase_file);
  auto tip = ledger->tip();
  std::map<std::string, uint64_t> counts;
  ProgressBar bar("records");
  auto scan = ledger->store().ScanEntries(0, tip->frontier.size(), [&](uint64_t i, std::string_view entry) {
    auto rec = ledger::ParseRecord(entry);
    counts[rec.ok() ? std::string(ledger::KindName(rec->kind)) : "(unparsable)"]++;
    if (i % 65536 == 0) bar.Update(i, tip->frontier.size());
    return true;
  });
  bar.Finish();
  if (!scan.ok()) throw CliError(kExitFailure, scan.error().message);
  auto last = ledger->GetBlock(tip->height);
  Json out = {{"data", g.data},
              {"height", tip->height},
              {"records", tip->frontier.size()},
              {"root", chain::HashHex(tip->frontier.Root())},
              {"tip_hash", chain::HashHex(tip->block_hash)},
              {"last_block_time_ms", last.ok() && last->has_value() ? (*last)->header.timestamp_ms : 0},
              {"records_by_kind", counts}};
  if (g.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "ledger     " << g.data << "\nheight     " << tip->height << "\nrecords    "
              << tip->frontier.size() << "\nroot       " << chain::HashHex(tip->frontier.Root())
              << "\ntip hash   " << chain::HashHex(tip->block_hash) << "\n";
    for (const auto& [kind, n] : counts)
      std::printf("  %-18s %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
  }
  return kExitOk;
}

int RunAudit(const GlobalFlags& g, bool no_facts, size_t threads) {
  auto ledger = OpenLedger(DataDir{g.data}, false, g.passphrase_file);
  ProgressBar blocks_bar("records");
  ProgressBar facts_bar("index entries");
  std::string phase;
  ledger::AuditOptions options{.threads = threads, .check_facts = !no_facts};
  options.progress = [&](const ledger::AuditProgress& p) {
    if (p.phase != phase) {
      if (!phase.empty()) blocks_bar.Finish();
      phase = p.phase;
    }
    (p.phase == "blocks" ? blocks_bar : facts_bar).Update(p.done, p.total);
  };
  int64_t start = NowMs();
  ledger::AuditReport report = ledger::Audit(ledger->store(), options);
  if (phase == "facts")
    facts_bar.Finish();
  else if (!phase.empty())
    blocks_bar.Finish();
  double secs = static_cast<double>(NowMs() - start) / 1000.0;
  if (g.json) {
    Json out = {{"ok", report.ok},
                {"blocks", report.blocks},
                {"records", report.records},
                {"index_entries", report.facts},
                {"seconds", secs}};
    if (!report.ok) out["bad_height"] = report.bad_height, out["reason"] = report.reason;
    std::cout << out.dump() << "\n";
  } else if (report.ok) {
    std::printf(
        "audit ok: %llu blocks, %llu records, %llu index entries verified in %.2f s (%.0f records/s)\n",
        static_cast<unsigned long long>(report.blocks), static_cast<unsigned long long>(report.records),
        static_cast<unsigned long long>(report.facts), secs,
        secs > 0 ? static_cast<double>(report.records) / secs : 0.0);
  } else {
    std::printf("audit FAILED at block %llu: %s\n", static_cast<unsigned long long>(report.bad_height),
                report.reason.c_str());
  }
  return report.ok ? kExitOk : kExitRejected;
}

int Main(int argc, char** argv) {
  CLI::App app{"tracectl — TraceLedger command-line tool: keys, records, queries and audit"};
  app.require_subcommand(1);
  // Global flags (--data, --json, ...) may also follow the subcommand.
  app.fallthrough();
  GlobalFlags g;
  if (const char* d = std::getenv("TRACELEDGER_DATA"); d != nullptr && *d != '\0') g.data = d;
  app.add_option("--data,-d", g.data, "data directory (env TRACELEDGER_DATA)")->capture_default_str();
  app.add_option("--passphrase-file", g.passphrase_file,
                 "read key passphrases from this file (else TRACELEDGER_PASSPHRASE / "
                 "TRACELEDGER_OPERATOR_PASSPHRASE, else a prompt)");
  app.add_flag("--json", g.json, "machine-readable JSON output");

  std::function<int()> action;

  std::string init_party = "operator", init_name = "TraceLedger operator", init_import;
  auto* init = app.add_subcommand("init", "create a ledger: operator key and genesis block");
  init->add_option("--party", init_party, "operator party id")->capture_default_str();
  init->add_option("--name", init_name, "operator name")->capture_default_str();
  init->add_option("--import-key", init_import, "use this existing keystore as the operator key");
  init->callback([&] { action = [&] { return RunInit(g, init_party, init_name, init_import); }; });

  std::string keygen_out;
  bool keygen_force = false;
  auto* keygen = app.add_subcommand("keygen", "create a new key in an encrypted keystore file");
  keygen->add_option("--out,-o", keygen_out, "keystore file to write")->required();
  keygen->add_flag("--force", keygen_force, "overwrite an existing file");
  keygen->callback([&] { action = [&] { return RunKeygen(g, keygen_out, keygen_force); }; });

  std::string key_file;
  auto* key = app.add_subcommand("key", "inspect keystore files");
  key->require_subcommand(1);
  auto* key_show = key->add_subcommand("show", "print a keystore's key id and public key (no passphrase)");
  key_show->add_option("file", key_file, "keystore file")->required();
  key_show->callback([&] { action = [&] { return RunKeyShow(g, key_file); }; });

  // One subcommand per record kind, built from the schema tables.
  std::vector<std::unique_ptr<KindFlags>> kind_flags;
  auto* append = app.add_subcommand("append", "sign a record with an author key and append it");
  append->require_subcommand(1);
  for (const auto& schema : ledger::AllSchemas()) {
    kind_flags.push_back(std::make_unique<KindFlags>());
    KindFlags* f = kind_flags.back().get();
    AddKindCommand(*append, std::string(schema.name), schema, *f)->callback([&, f] {
      action = [&, f] { return RunAppend(g, *f); };
    });
  }
  kind_flags.push_back(std::make_unique<KindFlags>());
  KindFlags* reg = kind_flags.back().get();
  AddKindCommand(app, "register", ledger::SchemaFor(ledger::RecordKind::kParty), *reg)->callback([&, reg] {
    action = [&, reg] { return RunAppend(g, *reg); };
  });
  app.get_subcommand("register")
      ->description("register a party (same as append party; --key is the operator's)");

  std::vector<std::string> submit_files;
  auto* submit = app.add_subcommand("submit", "append already-signed records (JSON, JSON array or JSONL)");
  submit->add_option("files", submit_files, "files of signed records")->required();
  submit->callback([&] { action = [&] { return RunSubmit(g, submit_files); }; });

  auto* show =
      app.add_subcommand("show", "show a record, block, party, product, lot, shipment or the ledger");
  show->require_subcommand(1);
  std::string a1, a2;
  uint64_t height = 0;
  auto open_ro = [&] { return OpenLedger(DataDir{g.data}, false, g.passphrase_file); };
  show->add_subcommand("record", "a record by id")->callback([&] {
    action = [&] {
      auto id = chain::HashFromHex(a1);
      if (!id) throw CliError(kExitUsage, "record id must be 64 hex digits");
      return PrintOptionalRecord(open_ro()->GetRecord(*id), "record " + a1);
    };
  });
  show->get_subcommand("record")->add_option("id", a1, "record id (64 hex)")->required();
  auto* show_block = show->add_subcommand("block", "a block header and its records");
  show_block->add_option("height", height, "block height")->required();
  show_block->callback([&] { action = [&] { return RunShowBlock(g, height); }; });
  auto* show_party = show->add_subcommand("party", "a party's registration");
  show_party->add_option("party", a1, "party id")->required();
  show_party->callback(
      [&] { action = [&] { return PrintOptionalRecord(open_ro()->GetParty(a1), "party " + a1); }; });
  auto* show_product = show->add_subcommand("product", "a product by GTIN");
  show_product->add_option("gtin", a1, "GTIN")->required();
  show_product->callback([&] {
    action = [&] { return PrintOptionalRecord(open_ro()->GetProduct(PadGtin(a1)), "product " + a1); };
  });
  auto* show_lot = show->add_subcommand("lot", "a lot's registration");
  show_lot->add_option("gtin", a1, "GTIN")->required();
  show_lot->add_option("lot", a2, "lot number")->required();
  show_lot->callback(
      [&] { action = [&] { return PrintOptionalRecord(open_ro()->GetLot(PadGtin(a1), a2), "lot " + a2); }; });
  auto* show_shipment = show->add_subcommand("shipment", "a shipment's registration");
  show_shipment->add_option("shipment", a1, "shipment id")->required();
  show_shipment->callback(
      [&] { action = [&] { return PrintOptionalRecord(open_ro()->GetShipment(a1), "shipment " + a1); }; });
  show->add_subcommand("ledger", "height, root and record counts by kind")->callback([&] {
    action = [&] { return RunShowLedger(g); };
  });

  auto* history = app.add_subcommand("history", "every record about a lot or a shipment, in log order");
  history->require_subcommand(1);
  auto* history_lot = history->add_subcommand("lot", "a lot's history");
  history_lot->add_option("gtin", a1, "GTIN")->required();
  history_lot->add_option("lot", a2, "lot number")->required();
  history_lot->callback(
      [&] { action = [&] { return PrintHistory(open_ro()->LotHistory(PadGtin(a1), a2), g, "lot " + a2); }; });
  auto* history_shipment = history->add_subcommand("shipment", "a shipment's history");
  history_shipment->add_option("shipment", a1, "shipment id")->required();
  history_shipment->callback(
      [&] { action = [&] { return PrintHistory(open_ro()->ShipmentHistory(a1), g, "shipment " + a1); }; });

  bool no_facts = false;
  size_t threads = 0;
  auto* audit = app.add_subcommand("audit", "re-verify the whole ledger from genesis");
  audit->add_flag("--skip-index-check", no_facts, "skip tracing every index entry back to its record");
  audit->add_option("--threads", threads, "verification threads (default: one per core)");
  audit->callback([&] { action = [&] { return RunAudit(g, no_facts, threads); }; });

  CommandContext ctx{g, action};
  AddScanCommands(app, ctx);
  AddProofCommands(app, ctx);
  AddAnchorCommands(app, ctx);
  AddCodesCommands(app, ctx);
  AddBundleCommands(app, ctx);
  AddCreditCommands(app, ctx);
  AddComplaintCommands(app, ctx);
  // `credit repair request|approve|refuse`: the credit_event records of a
  // credit repair (FORMAT.md §18.2), with the event preset; the same as
  // `append credit_event --event repair_request|repair_approved|repair_refused`.
  auto* repair = app.get_subcommand("credit")->add_subcommand(
      "repair", "credit repair: the black-listed merchant's request, the regulator's approval or refusal");
  repair->require_subcommand(1);
  struct RepairVerb {
    const char* name;
    const char* event;
    const char* help;
  };
  for (const RepairVerb& v : {RepairVerb{"request", "repair_request",
                                         "a black-listed merchant asks for repair (--key: the merchant's; "
                                         "--listing: the black_list record id)"},
                              RepairVerb{"approve", "repair_approved",
                                         "a regulator approves a repair request, at least 1 year after the "
                                         "listing (--listing, --request: record ids)"},
                              RepairVerb{"refuse", "repair_refused",
                                         "a regulator refuses a repair request (--listing, --request)"}}) {
    kind_flags.push_back(std::make_unique<KindFlags>());
    KindFlags* rf = kind_flags.back().get();
    CLI::App* cmd =
        AddKindCommand(*repair, v.name, ledger::SchemaFor(ledger::RecordKind::kCreditEvent), *rf);
    cmd->description(v.help);
    cmd->remove_option(cmd->get_option("--event"));
    cmd->callback([&, rf, event = std::string(v.event)] {
      rf->scalars["event"] = event;
      action = [&, rf] { return RunAppend(g, *rf); };
    });
  }
  AddExportCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports an unknown command word only as "a subcommand is
    // required"; name the word and where it was expected instead.
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      CLI::App* deepest = &app;
      while (!deepest->get_subcommands().empty()) deepest = deepest->get_subcommands().front();
      std::vector<std::string> rest = deepest->remaining();
      if (rest.empty()) rest = app.remaining();
      if (!rest.empty()) {
        std::string where = deepest == &app ? "tracectl" : "tracectl " + deepest->get_name();
        std::cerr << "tracectl: unknown command \"" << rest.front() << "\" for " << where << "; see " << where
                  << " --help\n";
        return kExitUsage;
      }
    }
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  try {
    return action ? action() : kExitUsage;
  } catch (const CliError& e) {
    std::cerr << "tracectl: " << e.what() << "\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "tracectl: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace
}  // namespace traceledger::tools

int main(int argc, char** argv) {
  try {
    return traceledger::tools::Main(argc, argv);
  } catch (...) {
    // Main reports its own errors; this only keeps an escaped exception
    // (e.g. from building the command table) from aborting without a word.
    std::fputs("tracectl: internal error\n", stderr);
    return traceledger::tools::kExitFailure;
  }
}
