// Images of issued codes for `tracectl codes issue` and `tracectl codes
// images`: one PNG and/or SVG per code in <out>/images/<serial>.png|.svg,
// and A4 label sheets (caption: the serial, never the PIN) in <out>/,
// rendered from a batch's JSON-lines manifest (qrcode/issuance.h).
#ifndef TRACELEDGER_TOOLS_CODE_IMAGES_H_
#define TRACELEDGER_TOOLS_CODE_IMAGES_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "qrcode/render.h"
#include "tools/commands.h"

namespace traceledger::tools {

// The image flags as given on the command line.
struct ImageFlags {
  bool png = false;
  bool svg = false;
  int module_px = 8;
  int margin = 4;
  std::string ecc = "M";
  std::string sheet;  // "", "svg" or "pdf"
  size_t threads = 0;
};

// Adds --png, --svg, --module-px, --margin, --ecc, --sheet to `cmd`.
void AddImageFlags(CLI::App* cmd, ImageFlags& flags);

// The checked flags.
struct ImagePlan {
  qrcode::WriteImagesOptions per_code;  // png/svg both false: none
  std::optional<qrcode::SheetOptions> sheet;
  bool sheet_pdf = false;

  bool Any() const { return per_code.png || per_code.svg || sheet.has_value(); }
};

// Checks the flags; CliError kExitUsage naming the flag at fault (a value
// out of range, or --module-px/--margin/--ecc without a format to use it).
ImagePlan CheckImageFlags(const ImageFlags& flags);

// What WriteImagesFromManifest wrote.
struct ImagesWritten {
  size_t codes = 0;         // codes in the manifest
  size_t images = 0;        // codes whose per-code files were written
  std::string images_dir;   // <out>/images, when per-code images were asked for
  std::vector<std::string> sheets;  // sheet files written
};

// Renders every code of the manifest `jsonl_path` into `out_dir` as `plan`
// says (files appear complete or not at all: temporary name, then rename).
// CliError kExitUsage for a manifest line that is not a code's entry,
// kExitFailure for I/O errors or codes that could not be rendered.
ImagesWritten WriteImagesFromManifest(const ImagePlan& plan, const std::string& jsonl_path,
                                      const std::string& out_dir);

// Prints what was written (human text or one JSON object).
void PrintImagesWritten(const ImagesWritten& written, bool json);

// `tracectl codes images --manifest FILE [--out DIR] <image flags>`.
void AddCodeImagesCommand(CLI::App* codes, CommandContext& context);

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_CODE_IMAGES_H_
