// tracectl complaints list | show ID [--contact] | erase ID --yes: the
// regulator's side of the off-ledger complaint store (api/complaint_store.h)
// in <data>/complaints. The store is a LevelDB that traced holds open, so
// these verbs run while traced is stopped (like every tracectl verb on the
// same data directory).
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <string>

#include "api/complaint_service.h"
#include "api/complaint_store.h"
#include "ledger/canonical_json.h"
#include "tools/cli_support.h"
#include "tools/commands.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

struct ComplaintFlags {
  std::string id;
  bool contact = false;
  bool yes = false;
};

std::unique_ptr<api::ComplaintStore> OpenStore(const GlobalFlags& g) {
  auto store = api::ComplaintStore::Open(
      api::ComplaintStoreOptions{.path = g.data + "/complaints", .key_path = g.data + "/complaints.key"});
  if (!store.ok()) {
    std::string hint = store.error().code == api::ComplaintErrorCode::kLocked ? " (is traced running? stop it first)" : "";
    throw CliError(kExitFailure, "complaints: " + store.error().message + hint);
  }
  return std::move(store).value();
}

void CheckId(const std::string& id) {
  if (!api::IsComplaintId(id)) throw CliError(kExitUsage, "ID: \"" + id + "\" is not 32 lowercase hex digits");
}

// The ledger's decisions, when the data directory holds a ledger.
std::unique_ptr<ledger::Ledger> OpenLedgerIfAny(const GlobalFlags& g) {
  DataDir dir{g.data};
  if (!std::filesystem::exists(std::filesystem::path(dir.LedgerPath()) / "CURRENT")) return nullptr;
  return OpenLedger(dir, /*with_signer=*/false, g.passphrase_file);
}

Json View(const api::Complaint& c, const std::string& status) {
  Json j = {{"complaint", c.id},
            {"status", status},
            {"category", c.category},
            {"filed_at", c.filed_at},
            {"merchant", c.merchant.empty() ? Json(nullptr) : Json(c.merchant)},
            {"code", c.code.empty() ? Json(nullptr) : Json(c.code)},
            {"text", c.text},
            {"complaint_sha256", c.complaint_sha256},
            {"contact_sha256", c.contact_sha256.empty() ? Json(nullptr) : Json(c.contact_sha256)},
            {"contact_held", c.contact_held},
            {"erased_at", c.erased_at == 0 ? Json(nullptr) : Json(c.erased_at)}};
  return j;
}

int RunList(const GlobalFlags& g) {
  auto store = OpenStore(g);
  auto ledger = OpenLedgerIfAny(g);
  std::unique_ptr<api::ComplaintDecisions> decisions;
  if (ledger) decisions = std::make_unique<api::ComplaintDecisions>(*ledger);
  auto list = store->List();
  if (!list.ok()) throw CliError(kExitFailure, "complaints: " + list.error().message);
  Json out = Json::array();
  for (const api::Complaint& c : *list) {
    std::string status = "received";
    if (decisions) {
      if (auto d = decisions->Find(c.id)) status = d->status;
    }
    if (g.json) {
      out.push_back(View(c, status));
    } else {
      std::cout << c.id << "  " << status << "  " << c.category << "  "
                << (c.merchant.empty() ? "-" : c.merchant) << "  " << (c.contact_held ? "contact" : "no-contact")
                << (c.erased_at != 0 ? " (erased)" : "") << "\n";
    }
  }
  if (g.json) std::cout << out.dump() << "\n";
  return kExitOk;
}

int RunShow(const GlobalFlags& g, const ComplaintFlags& f) {
  CheckId(f.id);
  auto store = OpenStore(g);
  auto c = store->Get(f.id);
  if (!c.ok()) throw CliError(kExitFailure, "complaints: " + c.error().message);
  if (!c->has_value()) throw CliError(kExitRejected, "no complaint " + f.id);
  std::string status = "received";
  if (auto ledger = OpenLedgerIfAny(g)) {
    api::ComplaintDecisions decisions(*ledger);
    if (auto d = decisions.Find(f.id)) status = d->status;
  }
  Json view = View(**c, status);
  if (f.contact) {
    auto contact = store->Contact(f.id);
    if (!contact.ok()) throw CliError(kExitFailure, "complaints: " + contact.error().message);
    view["contact"] = contact->has_value() ? Json(**contact) : Json(nullptr);
  }
  if (g.json) {
    std::cout << view.dump() << "\n";
  } else {
    std::cout << view.dump(2) << "\n";
  }
  return kExitOk;
}

int RunErase(const GlobalFlags& g, const ComplaintFlags& f) {
  CheckId(f.id);
  if (!f.yes) {
    throw CliError(kExitUsage,
                   "erase: destroys the complainant's contact for good; add --yes to confirm (the complaint and its "
                   "hash stay)");
  }
  auto store = OpenStore(g);
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto erased = store->Erase(f.id, now_s);
  if (!erased.ok()) {
    int code = erased.error().code == api::ComplaintErrorCode::kNotFound ? kExitRejected : kExitFailure;
    throw CliError(code, "complaints: " + erased.error().message);
  }
  if (g.json) {
    std::cout << Json{{"complaint", f.id}, {"erased", *erased}}.dump() << "\n";
  } else {
    std::cout << (*erased ? "erased the contact of complaint " : "nothing left to erase for complaint ") << f.id
              << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddComplaintCommands(CLI::App& app, CommandContext& ctx) {
  static ComplaintFlags f;
  GlobalFlags& g = ctx.global;
  std::function<int()>& action = ctx.action;
  auto* complaints = app.add_subcommand("complaints", "consumer complaints kept off the ledger (regulator)");
  complaints->require_subcommand(1);
  complaints->add_subcommand("list", "every complaint: id, status, category, merchant")->callback([&] {
    action = [&] { return RunList(g); };
  });
  auto* show = complaints->add_subcommand("show", "one complaint; --contact decrypts the complainant's contact");
  show->add_option("id", f.id, "complaint id (32 hex digits)")->required();
  show->add_flag("--contact", f.contact, "decrypt and print the contact");
  show->callback([&] { action = [&] { return RunShow(g, f); }; });
  auto* erase = complaints->add_subcommand("erase", "crypto-shred a complaint's contact (the complaint stays)");
  erase->add_option("id", f.id, "complaint id (32 hex digits)")->required();
  erase->add_flag("--yes", f.yes, "confirm");
  erase->callback([&] { action = [&] { return RunErase(g, f); }; });
}

}  // namespace traceledger::tools
