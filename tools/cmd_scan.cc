// tracectl scan: decode QR codes from photos (PNG, JPEG) and verify each
// one as `tracectl verify` does (tools/code_verdicts.h). See docs/CLI.md.
//
// Every decoded text is printed, ours or not, with its verdict; each image
// that cannot be read gets its own typed error and the other images are
// still scanned.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ledger/canonical_json.h"
#include "qrcode/decode.h"
#include "tools/cli_support.h"
#include "tools/code_verdicts.h"
#include "tools/commands.h"
#include "util/thread_pool.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

struct ScanFlags {
  std::vector<std::string> images;
  uint64_t max_pixels = qrcode::kDefaultMaxImagePixels;
  size_t max_bytes = qrcode::kDefaultMaxImageBytes;
  bool exhaustive = false;
  size_t threads = 0;
  std::vector<std::string> issuer_keys;
  bool decode_only = false;
};

// A decoded text made safe for a terminal: control characters and DEL
// become \xNN, a backslash becomes \\; everything else (UTF-8 included) is
// printed as it is.
std::string Printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Corners(const qrcode::DecodedSymbol& s) {
  std::string out;
  for (const auto& p : s.corners) {
    out += (out.empty() ? "(" : " (") + std::to_string(p.x) + "," + std::to_string(p.y) + ")";
  }
  return out;
}

// The decoding details a --json line adds to a code's verdict.
Json SymbolJson(const std::string& image, size_t position, const qrcode::DecodedSymbol& s) {
  Json corners = Json::array();
  for (const auto& p : s.corners) corners.push_back(Json::array({p.x, p.y}));
  return Json{{"image", image},
              {"position", position},
              {"corners", corners},
              {"ec_level", std::string(1, s.ec_level)},
              {"orientation", s.orientation_deg},
              {"inverted", s.inverted},
              {"mirrored", s.mirrored}};
}

qrcode::ImageResult<std::vector<qrcode::DecodedSymbol>> ScanOne(const std::string& path,
                                                                const qrcode::DecodeOptions& options) {
  if (path != "-") return qrcode::DecodeImageFile(path, options);
  // Standard input: read at most one byte past the limit.
  std::vector<uint8_t> bytes;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    bytes.insert(bytes.end(), buf, buf + n);
    if (bytes.size() > options.max_bytes) break;
  }
  if (std::ferror(stdin))
    return qrcode::ImageError{qrcode::ImageErrorCode::kIo, "-: cannot read standard input"};
  auto r = qrcode::DecodeImageBytes(bytes, options);
  if (!r.ok()) return qrcode::ImageError{r.error().code, "-: " + r.error().message};
  return r;
}

int RunScan(const GlobalFlags& g, const ScanFlags& f) {
  size_t stdin_uses = 0;
  for (const auto& p : f.images) stdin_uses += p == "-" ? 1 : 0;
  if (stdin_uses > 1) throw CliError(kExitUsage, "\"-\" (standard input) may be given only once");
  if (f.max_pixels == 0) throw CliError(kExitUsage, "--max-pixels must be positive");
  if (f.max_bytes == 0) throw CliError(kExitUsage, "--max-bytes must be positive");
  qrcode::DecodeOptions options{
      .max_bytes = f.max_bytes, .max_pixels = f.max_pixels, .exhaustive = f.exhaustive};
  // Before any image is read: a bad --issuer-key or a missing ledger is a
  // usage error.
  // --decode-only skips verification entirely (no ledger or key needed).
  std::optional<CodeChecker> checker;
  if (!f.decode_only) checker.emplace(g, f.issuer_keys);

  std::vector<std::optional<qrcode::ImageResult<std::vector<qrcode::DecodedSymbol>>>> results(
      f.images.size());
  ProgressBar bar("images");
  std::mutex mu;
  size_t done = 0;  // GUARDED_BY(mu)
  ThreadPool pool(f.threads);
  pool.ParallelFor(f.images.size(), [&](size_t i) {
    auto r = ScanOne(f.images[i], options);
    std::lock_guard<std::mutex> lock(mu);
    results[i].emplace(std::move(r));
    bar.Update(++done, f.images.size());
  });
  bar.Finish();

  bool any_error = false, any_empty = false;
  for (size_t i = 0; i < f.images.size(); ++i) {
    const std::string& image = f.images[i];
    const auto& r = *results[i];
    if (!r.ok()) {
      any_error = true;
      std::string code(qrcode::ImageErrorCodeName(r.error().code));
      if (g.json) {
        Json out = {
            {"image", image}, {"ok", false}, {"error", {{"code", code}, {"message", r.error().message}}}};
        std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
      } else {
        // The message starts with the image's path.
        std::cerr << "tracectl: " << r.error().message << " [" << code << "]\n";
      }
      continue;
    }
    if (r->empty()) any_empty = true;
    if (g.json) {
      if (r->empty()) std::cout << Json{{"image", image}, {"ok", true}, {"found", 0}}.dump() << "\n";
      for (size_t k = 0; k < r->size(); ++k) {
        const auto& s = (*r)[k];
        if (checker) {
          checker->Print(checker->Check(s.text), true, SymbolJson(image, k + 1, s));
        } else {
          Json out = SymbolJson(image, k + 1, s);
          out["text"] = s.text;
          std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
        }
      }
      continue;
    }
    if (r->empty()) {
      std::cout << image << ": no QR code found\n";
      continue;
    }
    std::cout << image << ": " << r->size() << (r->size() == 1 ? " code\n" : " codes\n");
    for (size_t k = 0; k < r->size(); ++k) {
      const auto& s = (*r)[k];
      std::cout << "  " << k + 1 << "  " << Printable(s.text) << "\n     at " << Corners(s) << ", level "
                << s.ec_level << ", " << s.orientation_deg << " deg" << (s.inverted ? ", inverted" : "")
                << (s.mirrored ? ", mirrored" : "") << "\n";
      std::cout.flush();
      if (checker) checker->Print(checker->Check(s.text), false, Json::object(), "     ", /*show_text=*/false);
    }
  }
  std::cout.flush();
  if (!checker) return any_error ? kExitFailure : any_empty ? kExitRejected : kExitOk;
  if (!g.json) checker->PrintSummary();
  if (any_error || checker->errors() > 0) return kExitFailure;
  return any_empty ? kExitRejected : checker->ExitCode();
}

}  // namespace

void AddScanCommands(CLI::App& app, const CommandContext& ctx) {
  static ScanFlags flags;
  auto* scan = app.add_subcommand(
      "scan",
      "decode QR codes from PNG/JPEG photos and verify each like `verify`: every text found, its corners, "
      "its verdict, and per-image errors");
  scan->add_option("images", flags.images, "image files (PNG or JPEG); \"-\" reads one from standard input")
      ->required();
  scan->add_option("--max-pixels", flags.max_pixels, "refuse images with more pixels than this")
      ->capture_default_str();
  scan->add_option("--max-bytes", flags.max_bytes, "refuse files larger than this many bytes")
      ->capture_default_str();
  scan->add_flag("--exhaustive", flags.exhaustive,
                 "run every decoding pass even after a code was found (slower; finds a hard code next to an "
                 "easy one)");
  scan->add_option("--threads", flags.threads, "decoding threads (default: one per core)");
  scan->add_flag("--decode-only", flags.decode_only,
                 "only decode: print each code's text and position, no verdict (needs no ledger or key)");
  scan->add_option("--issuer-key", flags.issuer_keys,
                   "offline: verify signatures against this public key (64 hex, a keystore or a file holding "
                   "the hex); repeat for several; no ledger is opened")
      ->allow_extra_args(false);
  GlobalFlags* g = &ctx.global;
  std::function<int()>* action = &ctx.action;
  scan->callback([g, action] { *action = [g] { return RunScan(*g, flags); }; });
}

}  // namespace traceledger::tools
