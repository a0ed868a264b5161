// Images of issued codes: per-code PNG/SVG and A4 label sheets, written from
// a batch's manifest. See tools/code_images.h and docs/CLI.md §9.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ledger/canonical_json.h"
#include "tools/cli_support.h"
#include "tools/code_images.h"

namespace traceledger::tools {
namespace {

namespace fs = std::filesystem;
using ledger::Json;

struct Entry {
  std::string uri;
  std::string serial;
};

std::vector<Entry> ReadManifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError(kExitFailure, "--manifest: cannot read " + path);
  std::vector<Entry> out;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const std::string where = path + " line " + std::to_string(number) + ": ";
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) throw CliError(kExitUsage, where + "not a JSON object");
    for (const char* field : {"uri", "serial"}) {
      if (!j.contains(field) || !j[field].is_string() || j[field].get<std::string>().empty()) {
        throw CliError(kExitUsage, where + "\"" + field + "\" is missing or not a non-empty string");
      }
    }
    out.push_back({j["uri"].get<std::string>(), j["serial"].get<std::string>()});
  }
  if (in.bad()) throw CliError(kExitFailure, "--manifest: cannot read " + path);
  if (out.empty()) throw CliError(kExitUsage, "--manifest: " + path + " lists no codes");
  return out;
}

// Writes `data` to `path` through a temporary file and a rename.
void WriteFileAtomically(const std::string& path, std::string_view data) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) throw CliError(kExitFailure, "cannot write " + temp);
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) throw CliError(kExitFailure, "cannot rename " + temp + " to " + path + ": " + ec.message());
}

std::string RenderFailure(const qrcode::RenderError& e) {
  return e.message + " [" + std::string(qrcode::RenderErrorCodeName(e.code)) + "]";
}

}  // namespace

void AddImageFlags(CLI::App* cmd, ImageFlags& f) {
  cmd->add_flag("--png", f.png, "write one PNG per code into OUT/images/<serial>.png");
  cmd->add_flag("--svg", f.svg, "write one SVG per code into OUT/images/<serial>.svg");
  cmd->add_option("--module-px", f.module_px,
                  "PNG pixels per QR module, 1.." + std::to_string(qrcode::kMaxModulePx) + " (SVG: its size)")
      ->capture_default_str();
  cmd->add_option("--margin", f.margin,
                  "quiet zone in modules, 0.." + std::to_string(qrcode::kMaxMargin) + " (4 is the standard)")
      ->capture_default_str();
  cmd->add_option("--ecc", f.ecc, "QR error correction level: L, M, Q or H")->capture_default_str();
  cmd->add_option("--sheet", f.sheet,
                  "also write A4 label sheets into OUT: svg (one file per page) or pdf (one file); "
                  "caption: the serial");
  cmd->add_option("--image-threads", f.threads, "rendering threads (default: one per core)");
}

ImagePlan CheckImageFlags(const ImageFlags& f) {
  ImagePlan plan;
  auto ecc = qrcode::ParseEccLevel(f.ecc);
  if (!ecc) throw CliError(kExitUsage, "--ecc: \"" + f.ecc + "\" is not one of L, M, Q, H");
  if (f.module_px < 1 || f.module_px > qrcode::kMaxModulePx) {
    throw CliError(kExitUsage, "--module-px: " + std::to_string(f.module_px) + " is not in 1.." +
                                   std::to_string(qrcode::kMaxModulePx));
  }
  if (f.margin < 0 || f.margin > qrcode::kMaxMargin) {
    throw CliError(kExitUsage,
                   "--margin: " + std::to_string(f.margin) + " is not in 0.." + std::to_string(qrcode::kMaxMargin));
  }
  if (!f.sheet.empty() && f.sheet != "svg" && f.sheet != "pdf") {
    throw CliError(kExitUsage, "--sheet: \"" + f.sheet + "\" is neither svg nor pdf");
  }
  plan.per_code = {.image = {.ecc = *ecc, .module_px = f.module_px, .margin = f.margin},
                   .png = f.png,
                   .svg = f.svg,
                   .threads = f.threads};
  if (!f.sheet.empty()) {
    plan.sheet = qrcode::SheetOptions{.ecc = *ecc, .margin = f.margin};
    plan.sheet_pdf = f.sheet == "pdf";
  }
  if (f.module_px != 8 && !f.png && !f.svg)
    throw CliError(kExitUsage, "--module-px: needs --png or --svg (sheets are sized by the page)");
  if ((f.margin != 4 || f.ecc != "M") && !plan.Any())
    throw CliError(kExitUsage, "--margin/--ecc: need --png, --svg or --sheet");
  if (auto bad = qrcode::CheckImageOptions(plan.per_code.image); !bad.ok())
    throw CliError(kExitUsage, RenderFailure(bad.error()));
  return plan;
}

ImagesWritten WriteImagesFromManifest(const ImagePlan& plan, const std::string& jsonl_path,
                                      const std::string& out_dir) {
  const std::vector<Entry> entries = ReadManifest(jsonl_path);
  ImagesWritten written;
  written.codes = entries.size();
  std::vector<std::string> texts, stems;
  texts.reserve(entries.size());
  stems.reserve(entries.size());
  for (const auto& e : entries) {
    texts.push_back(e.uri);
    stems.push_back(e.serial);
  }
  std::error_code ec;
  if (plan.per_code.png || plan.per_code.svg) {
    written.images_dir = (fs::path(out_dir) / "images").string();
    fs::create_directories(written.images_dir, ec);
    if (ec) throw CliError(kExitFailure, "cannot create " + written.images_dir + ": " + ec.message());
    ProgressBar bar("images");
    auto report = qrcode::WriteCodeImages(texts, stems, written.images_dir, plan.per_code,
                                          [&bar](size_t done, size_t total) { bar.Update(done, total); });
    bar.Finish();
    if (!report.ok()) {
      const int code = report.error().code == qrcode::RenderErrorCode::kIo ? kExitFailure : kExitUsage;
      throw CliError(code, jsonl_path + ": " + RenderFailure(report.error()));
    }
    written.images = report->written;
    if (!report->failures.empty()) {
      const auto& first = report->failures.front();
      throw CliError(kExitFailure, std::to_string(report->failures.size()) + " of " +
                                       std::to_string(entries.size()) + " code image(s) not written; first: " +
                                       stems[first.index] + ": " + RenderFailure(first.error));
    }
  }
  if (plan.sheet) {
    std::vector<qrcode::Label> labels;
    labels.reserve(entries.size());
    // The caption is the serial only: a PIN must never be visible on a label.
    for (const auto& e : entries) labels.push_back({e.uri, e.serial});
    std::string stem = fs::path(jsonl_path).stem().string() + "-labels";
    if (plan.sheet_pdf) {
      auto pdf = qrcode::RenderLabelSheetsPdf(labels, *plan.sheet);
      if (!pdf.ok()) throw CliError(kExitFailure, "label sheets: " + RenderFailure(pdf.error()));
      std::string path = (fs::path(out_dir) / (stem + ".pdf")).string();
      WriteFileAtomically(path, *pdf);
      written.sheets.push_back(path);
    } else {
      auto pages = qrcode::RenderLabelSheetsSvg(labels, *plan.sheet);
      if (!pages.ok()) throw CliError(kExitFailure, "label sheets: " + RenderFailure(pages.error()));
      for (size_t i = 0; i < pages->size(); ++i) {
        char number[32];
        std::snprintf(number, sizeof number, "-%03zu.svg", i + 1);
        std::string path = (fs::path(out_dir) / (stem + number)).string();
        WriteFileAtomically(path, (*pages)[i]);
        written.sheets.push_back(path);
      }
    }
  }
  return written;
}

void PrintImagesWritten(const ImagesWritten& w, bool json) {
  if (json) {
    std::cout << Json{{"codes", w.codes}, {"images", w.images}, {"images_dir", w.images_dir}, {"sheets", w.sheets}}
                     .dump()
              << "\n";
    return;
  }
  if (!w.images_dir.empty()) std::cout << "images:   " << w.images << " code(s) in " << w.images_dir << "\n";
  for (const auto& s : w.sheets) std::cout << "sheet:    " << s << "\n";
}

void AddCodeImagesCommand(CLI::App* codes, CommandContext& context) {
  static ImageFlags flags;
  static std::string manifest, out;
  auto* cmd = codes->add_subcommand(
      "images", "(re)render the images of an issued batch from its manifest (<gtin>-<batch>.jsonl)");
  cmd->add_option("--manifest", manifest, "the batch's JSON-lines manifest")->required();
  cmd->add_option("--out", out, "output directory (default: the manifest's directory)");
  AddImageFlags(cmd, flags);
  GlobalFlags* g = &context.global;
  std::function<int()>* action = &context.action;
  cmd->callback([g, action] {
    *action = [g] {
      ImagePlan plan = CheckImageFlags(flags);
      if (!plan.Any()) throw CliError(kExitUsage, "codes images: give --png, --svg or --sheet svg|pdf");
      std::string dir = out;
      if (dir.empty()) {
        dir = fs::path(manifest).parent_path().string();
        if (dir.empty()) dir = ".";
      }
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) throw CliError(kExitUsage, "--out: " + dir + " is not a directory");
      PrintImagesWritten(WriteImagesFromManifest(plan, manifest, dir), g->json);
      return kExitOk;
    };
  });
}

}  // namespace traceledger::tools
