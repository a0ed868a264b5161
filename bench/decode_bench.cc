// decode_bench: how many codes TraceLedger's decoder finds in phone-like
// photos, and how fast, against zbarimg (ZBar 0.23, Debian zbar-tools) on
// the very same image files in the same run.
//
//   decode_bench [--per N] [--seed S] [--dir PATH] [--keep] [--exhaustive]
//
// Steps:
//   a) generate the distortion suite (tests/qrcode/distortion.h): N images
//      per distortion (default 30), written as PNG or JPEG files to a
//      scratch directory; generation is not timed;
//   b) ours: DecodeImageFile on every file, one thread, in file order
//      (reading, PNG/JPEG decoding and QR search all timed);
//   c) zbarimg: one process per distortion over the same files
//      (`zbarimg --xml -q -Sdisable -Sqrcode.enable FILES...`, one thread;
//      process start-up is included, once per distortion);
//   d) per distortion and in total: decode rate (codes read with the exact
//      text / codes placed), wrong texts, images per second and codes
//      found per second for both, and the ratios ours / zbarimg.
// Results are printed as a table, then as one line of JSON.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/args.h"
#include "qrcode/decode.h"
#include "tests/qrcode/distortion.h"

namespace traceledger::bench {
namespace {

using qrcode::testing::Sample;
using qrcode::testing::Tally;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Parses zbarimg --xml output into href -> decoded texts.
std::map<std::string, std::vector<std::string>> ParseZbarXml(const std::string& xml) {
  std::map<std::string, std::vector<std::string>> out;
  size_t pos = 0;
  std::string current;
  for (;;) {
    size_t src = xml.find("<source href='", pos);
    size_t data = xml.find("<![CDATA[", pos);
    if (src == std::string::npos && data == std::string::npos) break;
    if (src != std::string::npos && (data == std::string::npos || src < data)) {
      size_t start = src + 14;
      size_t end = xml.find('\'', start);
      current = xml.substr(start, end - start);
      out[current];
      pos = end;
    } else {
      size_t start = data + 9;
      size_t end = xml.find("]]>", start);
      out[current].push_back(xml.substr(start, end - start));
      pos = end + 3;
    }
  }
  return out;
}

struct Side {
  Tally tally;
  double seconds = 0;
};

struct Row {
  std::string name;
  Side ours, zbar;
};

void PrintSide(const char* who, const Side& s) {
  std::printf("  %-8s rate %6.1f%%  wrong %3d  %8.1f images/s  %8.1f codes/s\n", who, 100 * s.tally.rate(),
              s.tally.wrong, s.tally.images / s.seconds, s.tally.found / s.seconds);
}

int Main(int argc, char** argv) {
  int per = 30;
  uint64_t seed = 2026;
  std::string dir;
  bool keep = false;
  qrcode::DecodeOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return FlagValue(argc, argv, i); };
    if (a == "--per") {
      per = std::atoi(next().c_str());
    } else if (a == "--seed") {
      seed = std::strtoull(next().c_str(), nullptr, 10);
    } else if (a == "--dir") {
      dir = next();
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--exhaustive") {
      options.exhaustive = true;
    } else {
      std::fprintf(stderr, "usage: decode_bench [--per N] [--seed S] [--dir PATH] [--keep] [--exhaustive]\n");
      return 2;
    }
  }
  if (per < 1) per = 1;
  if (dir.empty()) {
    char tmpl[] = "/tmp/decode_bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 3;
    }
    dir = tmpl;
  }
  std::filesystem::create_directories(dir);
  if (std::system("command -v zbarimg >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "decode_bench: zbarimg not found (Debian zbar-tools; tools/install-deps.sh)\n");
    return 3;
  }

  std::printf("decode_bench: %d images per distortion, seed %llu, files in %s\n", per,
              static_cast<unsigned long long>(seed), dir.c_str());
  std::vector<Row> rows;
  Row total{"total", {}, {}};
  for (const auto& name : qrcode::testing::DistortionNames()) {
    auto gen_start = std::chrono::steady_clock::now();
    std::vector<Sample> samples = qrcode::testing::MakeSamples(name, per, seed);
    std::vector<std::string> paths;
    for (size_t i = 0; i < samples.size(); ++i) {
      std::string path = dir + "/" + name + "_" + std::to_string(i) + (samples[i].jpeg ? ".jpg" : ".png");
      std::ofstream(path, std::ios::binary)
          .write(reinterpret_cast<const char*>(samples[i].file.data()),
                 static_cast<std::streamsize>(samples[i].file.size()));
      paths.push_back(path);
    }
    double gen_s = Seconds(gen_start);

    Row row{name, {}, {}};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::vector<std::string>> ours_texts(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      auto r = qrcode::DecodeImageFile(paths[i], options);
      if (!r.ok()) {
        std::fprintf(stderr, "%s: %s\n", paths[i].c_str(), r.error().message.c_str());
        continue;
      }
      for (auto& s : *r) ours_texts[i].push_back(std::move(s.text));
    }
    row.ours.seconds = Seconds(start);
    for (size_t i = 0; i < samples.size(); ++i)
      qrcode::testing::Score(samples[i], ours_texts[i], row.ours.tally);

    std::string cmd = "zbarimg --xml -q -Sdisable -Sqrcode.enable";
    for (const auto& p : paths) cmd += " " + ShellQuote(p);
    cmd += " 2>/dev/null";
    start = std::chrono::steady_clock::now();
    std::string xml;
    if (FILE* f = popen(cmd.c_str(), "r")) {
      char buf[65536];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) xml.append(buf, n);
      pclose(f);  // exit status 4 means "some image had no code": expected
    }
    row.zbar.seconds = Seconds(start);
    auto zbar = ParseZbarXml(xml);
    for (size_t i = 0; i < samples.size(); ++i) {
      auto it = zbar.find(paths[i]);
      qrcode::testing::Score(samples[i], it == zbar.end() ? std::vector<std::string>{} : it->second,
                             row.zbar.tally);
    }

    std::printf("%-13s %3zu images, %3d codes (generated in %.1f s)\n", name.c_str(), samples.size(),
                row.ours.tally.expected, gen_s);
    PrintSide("ours", row.ours);
    PrintSide("zbarimg", row.zbar);
    std::fflush(stdout);
    for (Side* dst : {&total.ours, &total.zbar}) {
      const Side& src = dst == &total.ours ? row.ours : row.zbar;
      dst->seconds += src.seconds;
      dst->tally.images += src.tally.images;
      dst->tally.expected += src.tally.expected;
      dst->tally.found += src.tally.found;
      dst->tally.wrong += src.tally.wrong;
    }
    rows.push_back(row);
  }

  std::printf("\n%-13s %9s %9s %11s %11s\n", "distortion", "ours", "zbarimg", "ours img/s", "zbar img/s");
  for (const auto& r : rows) {
    std::printf("%-13s %8.1f%% %8.1f%% %11.1f %11.1f\n", r.name.c_str(), 100 * r.ours.tally.rate(),
                100 * r.zbar.tally.rate(), r.ours.tally.images / r.ours.seconds,
                r.zbar.tally.images / r.zbar.seconds);
  }
  std::printf("%-13s %8.1f%% %8.1f%% %11.1f %11.1f\n", "TOTAL", 100 * total.ours.tally.rate(),
              100 * total.zbar.tally.rate(), total.ours.tally.images / total.ours.seconds,
              total.zbar.tally.images / total.zbar.seconds);
  double speed_ratio = (total.zbar.seconds / total.ours.seconds);
  double found_per_s_ours = total.ours.tally.found / total.ours.seconds;
  double found_per_s_zbar = total.zbar.tally.found / total.zbar.seconds;
  std::printf(
      "\nours: %.1f%% of %d codes, %d wrong, %.2f s (%.1f images/s, %.1f codes/s)\n"
      "zbarimg: %.1f%% of %d codes, %d wrong, %.2f s (%.1f images/s, %.1f codes/s)\n"
      "ratio ours/zbarimg: decode rate %.2fx, images/s %.2fx, codes found/s %.2fx\n",
      100 * total.ours.tally.rate(), total.ours.tally.expected, total.ours.tally.wrong, total.ours.seconds,
      total.ours.tally.images / total.ours.seconds, found_per_s_ours, 100 * total.zbar.tally.rate(),
      total.zbar.tally.expected, total.zbar.tally.wrong, total.zbar.seconds,
      total.zbar.tally.images / total.zbar.seconds, found_per_s_zbar,
      total.ours.tally.rate() / std::max(1e-9, total.zbar.tally.rate()), speed_ratio,
      found_per_s_ours / std::max(1e-9, found_per_s_zbar));
  std::printf("{\"bench\":\"decode\",\"per\":%d,\"seed\":%llu,\"rows\":[", per,
              static_cast<unsigned long long>(seed));
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    std::printf(
        "%s{\"distortion\":\"%s\",\"images\":%d,\"codes\":%d,\"ours_rate\":%.4f,\"zbar_rate\":%.4f,"
        "\"ours_wrong\":%d,\"zbar_wrong\":%d,\"ours_s\":%.3f,\"zbar_s\":%.3f}",
        i ? "," : "", r.name.c_str(), r.ours.tally.images, r.ours.tally.expected, r.ours.tally.rate(),
        r.zbar.tally.rate(), r.ours.tally.wrong, r.zbar.tally.wrong, r.ours.seconds, r.zbar.seconds);
  }
  std::printf(
      "],\"ours_rate\":%.4f,\"zbar_rate\":%.4f,\"ours_images_per_s\":%.2f,\"zbar_images_per_s\":%.2f,"
      "\"ours_codes_per_s\":%.2f,\"zbar_codes_per_s\":%.2f}\n",
      total.ours.tally.rate(), total.zbar.tally.rate(), total.ours.tally.images / total.ours.seconds,
      total.zbar.tally.images / total.zbar.seconds, found_per_s_ours, found_per_s_zbar);
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) { return traceledger::bench::Main(argc, argv); }
