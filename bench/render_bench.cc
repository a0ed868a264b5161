// render_bench: PNG rendering speed of traceability codes, TraceLedger's
// qrcode library (ZXing's encoder + our 1-bit PNG writer on stb's deflate)
// against libqrencode 4.1 + libpng 1.6 rendering the same URIs to the same
// kind of PNG (1-bit greyscale, same module size and quiet zone), in the
// same run.
//
//   render_bench [--codes N] [--module-px P] [--margin M] [--ecc L|M|Q|H]
//                [--rounds R] [--dir PATH]
//
// Steps:
//   a) N realistic signed-code URIs (tests/qrcode/distortion.h SampleUri);
//   b) one thread, in memory, R rounds alternating ours / peer, best round
//      kept for each: text -> PNG bytes, codes/s; then the two halves apart
//      (encode only; PNG only from a ready matrix);
//   c) all cores: ours = WriteCodeImages into a scratch directory (files,
//      temp + rename); peer = the same ThreadPool loop writing its PNGs the
//      same way; codes/s;
//   d) check: the first 50 PNGs of each side are decoded by our decoder and
//      must give back their URI (a benchmark of broken images is void).
// Results are printed as a table, then as one line of JSON.
#include <png.h>
#include <qrencode.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/args.h"
#include "qrcode/decode.h"
#include "qrcode/render.h"
#include "tests/qrcode/distortion.h"
#include "util/thread_pool.h"

namespace traceledger::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

QRecLevel PeerLevel(qrcode::EccLevel e) {
  switch (e) {
    case qrcode::EccLevel::kL:
      return QR_ECLEVEL_L;
    case qrcode::EccLevel::kM:
      return QR_ECLEVEL_M;
    case qrcode::EccLevel::kQ:
      return QR_ECLEVEL_Q;
    case qrcode::EccLevel::kH:
      return QR_ECLEVEL_H;
  }
  return QR_ECLEVEL_M;
}

// libqrencode's matrix: width x width bytes, bit 0 = dark.
struct PeerMatrix {
  int width = 0;
  std::vector<uint8_t> data;
};

PeerMatrix PeerEncode(const std::string& text, QRecLevel level) {
  QRcode* q = QRcode_encodeString(text.c_str(), 0, level, QR_MODE_8, /*casesensitive=*/1);
  if (q == nullptr) {
    std::fprintf(stderr, "QRcode_encodeString failed\n");
    std::exit(3);
  }
  PeerMatrix m;
  m.width = q->width;
  m.data.assign(q->data, q->data + static_cast<size_t>(q->width) * q->width);
  QRcode_free(q);
  return m;
}

void PngWrite(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void PngFlush(png_structp) {}

// The usual libpng way: 1-bit greyscale, default compression and filters,
// one row at a time.
std::vector<uint8_t> PeerPng(const PeerMatrix& m, int px, int margin) {
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    std::fprintf(stderr, "libpng failed\n");
    std::exit(3);
  }
  const int side = (m.width + 2 * margin) * px;
  png_set_write_fn(png, &out, PngWrite, PngFlush);
  png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  std::vector<uint8_t> row((static_cast<size_t>(side) + 7) / 8);
  for (int my = 0; my < m.width + 2 * margin; ++my) {
    std::fill(row.begin(), row.end(), 0xFF);
    const int qy = my - margin;
    if (qy >= 0 && qy < m.width) {
      for (int qx = 0; qx < m.width; ++qx) {
        if ((m.data[static_cast<size_t>(qy) * m.width + qx] & 1) == 0) continue;
        for (int x = (qx + margin) * px; x < (qx + margin + 1) * px; ++x) {
          row[static_cast<size_t>(x) >> 3] &= static_cast<uint8_t>(~(0x80u >> (x & 7)));
        }
      }
    }
    for (int r = 0; r < px; ++r) png_write_row(png, row.data());
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::vector<uint8_t> OursPng(const std::string& text, const qrcode::ImageOptions& o) {
  auto png = qrcode::RenderPng(text, o);
  if (!png.ok()) {
    std::fprintf(stderr, "RenderPng: %s\n", png.error().message.c_str());
    std::exit(3);
  }
  return std::move(png).value();
}

void WriteFile(const std::string& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  std::string tmp = dir + "/." + name + ".tmp";
  std::ofstream(tmp, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  std::filesystem::rename(tmp, dir + "/" + name);
}

int Main(int argc, char** argv) {
  int codes = 2000;
  int rounds = 3;
  qrcode::ImageOptions o;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return FlagValue(argc, argv, i); };
    if (a == "--codes") {
      codes = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--module-px") {
      o.module_px = std::atoi(next().c_str());
    } else if (a == "--margin") {
      o.margin = std::atoi(next().c_str());
    } else if (a == "--ecc") {
      auto e = qrcode::ParseEccLevel(next());
      if (!e) {
        std::fprintf(stderr, "--ecc must be L, M, Q or H\n");
        return 2;
      }
      o.ecc = *e;
    } else if (a == "--rounds") {
      rounds = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--dir") {
      dir = next();
    } else {
      std::fprintf(
          stderr,
          "usage: render_bench [--codes N] [--module-px P] [--margin M] [--ecc L|M|Q|H] [--rounds R] "
          "[--dir PATH]\n");
      return 2;
    }
  }
  if (auto ok = qrcode::CheckImageOptions(o); !ok.ok()) {
    std::fprintf(stderr, "%s\n", ok.error().message.c_str());
    return 2;
  }
  const QRecLevel level = PeerLevel(o.ecc);
  std::vector<std::string> uris;
  for (int i = 0; i < codes; ++i) uris.push_back(qrcode::testing::SampleUri(static_cast<uint64_t>(i)));
  auto m0 = qrcode::EncodeQr(uris[0], o.ecc);
  PeerMatrix p0 = PeerEncode(uris[0], level);
  std::printf(
      "render_bench: %d URIs of %zu chars, ECC %s, %d px/module, margin %d; ours %dx%d modules, "
      "libqrencode %dx%d\n",
      codes, uris[0].size(), std::string(qrcode::EccLevelName(o.ecc)).c_str(), o.module_px, o.margin,
      m0->size, m0->size, p0.width, p0.width);

  // b) one thread, in memory.
  double ours_best = 1e300, peer_best = 1e300;
  size_t ours_bytes = 0, peer_bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t = Clock::now();
    size_t bytes = 0;
    for (const auto& u : uris) bytes += OursPng(u, o).size();
    ours_best = std::min(ours_best, Seconds(t));
    ours_bytes = bytes;
    t = Clock::now();
    bytes = 0;
    for (const auto& u : uris) bytes += PeerPng(PeerEncode(u, level), o.module_px, o.margin).size();
    peer_best = std::min(peer_best, Seconds(t));
    peer_bytes = bytes;
  }
  // The halves.
  std::vector<qrcode::QrMatrix> ours_m;
  std::vector<PeerMatrix> peer_m;
  auto t = Clock::now();
  for (const auto& u : uris) ours_m.push_back(*qrcode::EncodeQr(u, o.ecc));
  double ours_enc = Seconds(t);
  t = Clock::now();
  for (const auto& u : uris) peer_m.push_back(PeerEncode(u, level));
  double peer_enc = Seconds(t);
  t = Clock::now();
  for (const auto& m : ours_m) (void)qrcode::RenderPng(m, o);
  double ours_png = Seconds(t);
  t = Clock::now();
  for (const auto& m : peer_m) (void)PeerPng(m, o.module_px, o.margin);
  double peer_png = Seconds(t);

  // c) all cores, to files.
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/render_bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 3;
    }
    dir = tmpl;
  }
  std::filesystem::create_directories(dir + "/ours");
  std::filesystem::create_directories(dir + "/peer");
  std::vector<std::string> stems;
  for (int i = 0; i < codes; ++i) stems.push_back("code" + std::to_string(i));
  ThreadPool pool;
  t = Clock::now();
  auto report = qrcode::WriteCodeImages(uris, stems, dir + "/ours", qrcode::WriteImagesOptions{.image = o});
  double ours_batch = Seconds(t);
  if (!report.ok() || report->written != uris.size()) {
    std::fprintf(stderr, "WriteCodeImages failed\n");
    return 3;
  }
  t = Clock::now();
  pool.ParallelFor(uris.size(), [&](size_t i) {
    WriteFile(dir + "/peer", stems[i] + ".png", PeerPng(PeerEncode(uris[i], level), o.module_px, o.margin));
  });
  double peer_batch = Seconds(t);

  // d) both sides' images must decode to their URI.
  int ours_ok = 0, peer_ok = 0, checked = std::min(codes, 50);
  for (int i = 0; i < checked; ++i) {
    for (auto [side, ok] : {std::pair{"ours", &ours_ok}, std::pair{"peer", &peer_ok}}) {
      auto r = qrcode::DecodeImageFile(dir + "/" + side + "/" + stems[static_cast<size_t>(i)] + ".png");
      if (r.ok() && r->size() == 1 && (*r)[0].text == uris[static_cast<size_t>(i)]) ++*ok;
    }
  }
  std::filesystem::remove_all(own_dir ? dir : dir + "/ours");
  if (!own_dir) std::filesystem::remove_all(dir + "/peer");

  const double n = codes;
  std::printf("\n%-34s %12s %12s %8s\n", "", "ours", "peer", "ratio");
  auto row = [&](const char* what, double ours_s, double peer_s) {
    std::printf("%-34s %10.0f/s %10.0f/s %7.2fx\n", what, n / ours_s, n / peer_s, peer_s / ours_s);
  };
  row("text -> PNG bytes, 1 thread", ours_best, peer_best);
  row("  encode only (text -> matrix)", ours_enc, peer_enc);
  row("  PNG only (matrix -> bytes)", ours_png, peer_png);
  char label[64];
  std::snprintf(label, sizeof label, "text -> PNG files, %zu threads", pool.size() + 1);
  row(label, ours_batch, peer_batch);
  std::printf("%-34s %10.0f B %10.0f B\n", "mean PNG size", static_cast<double>(ours_bytes) / n,
              static_cast<double>(peer_bytes) / n);
  std::printf("%-34s %9d/%d %9d/%d\n", "decoded back to their URI", ours_ok, checked, peer_ok, checked);
  std::printf(
      "{\"bench\":\"render\",\"codes\":%d,\"module_px\":%d,\"margin\":%d,\"ecc\":\"%s\","
      "\"ours_per_s\":%.1f,\"peer_per_s\":%.1f,\"ratio\":%.3f,\"ours_encode_per_s\":%.1f,"
      "\"peer_encode_per_s\":%.1f,\"ours_png_per_s\":%.1f,\"peer_png_per_s\":%.1f,"
      "\"ours_batch_per_s\":%.1f,\"peer_batch_per_s\":%.1f,\"threads\":%zu,\"ours_png_bytes\":%.0f,"
      "\"peer_png_bytes\":%.0f,\"ours_decoded\":%d,\"peer_decoded\":%d,\"checked\":%d}\n",
      codes, o.module_px, o.margin, std::string(qrcode::EccLevelName(o.ecc)).c_str(), n / ours_best,
      n / peer_best, peer_best / ours_best, n / ours_enc, n / peer_enc, n / ours_png, n / peer_png,
      n / ours_batch, n / peer_batch, pool.size() + 1, static_cast<double>(ours_bytes) / n,
      static_cast<double>(peer_bytes) / n, ours_ok, peer_ok, checked);
  return ours_ok == checked && peer_ok == checked ? 0 : 1;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) { return traceledger::bench::Main(argc, argv); }
