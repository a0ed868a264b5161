// The distortion suite: synthetic "phone photos" of traceability codes,
// generated deterministically from a seed, shared by qrimage_test (decode
// rate floors) and bench/decode_bench (rate and speed against zbarimg).
//
// A scene is drawn by inverse mapping: every output pixel is supersampled
// 4 x 4 through each code's homography back into module space, so edges are
// anti-aliased the way a camera's sensor integrates them. Distortions are
// applied to that: Gaussian blur, Gaussian noise, lighting gradients, low
// contrast, JPEG compression (stb_image_write through qrcode/render.h).
#ifndef TRACELEDGER_TESTS_QRCODE_DISTORTION_H_
#define TRACELEDGER_TESTS_QRCODE_DISTORTION_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "qrcode/image.h"
#include "qrcode/render.h"

namespace traceledger::qrcode::testing {

// A realistic signed-code URI, different for every seed:
// https://id.traceledger.example/01/{GTIN-14}/10/LOT-2026-{A-Z}/21/{16 chars}
//   ?91={16 hex}&92={86 base64url chars}
std::string SampleUri(uint64_t seed);

// Where and how one code lands in a scene.
struct Placement {
  double cx = 0, cy = 0;  // centre, output pixels
  double module_px = 4;   // size of one module before perspective
  double angle_deg = 0;   // in-plane rotation, clockwise
  double tilt_x = 0;      // perspective: -0.5..0.5, right edge shorter (>0) or longer (<0)
  double tilt_y = 0;      // perspective: bottom edge shorter (>0) or longer (<0)
};

struct SceneCode {
  QrMatrix matrix;
  Placement place;
};

struct Scene {
  int width = 640;
  int height = 480;
  int margin = 4;          // quiet zone drawn around each code, modules
  uint8_t dark = 20;       // dark module level
  uint8_t light = 235;     // light module and quiet-zone level
  uint8_t surround = 150;  // background outside the labels
  bool inverted = false;   // swap dark and light inside the symbols
  std::vector<SceneCode> codes;
};

GrayImage RenderScene(const Scene& scene);

void GaussianBlur(GrayImage& img, double sigma);
void AddNoise(GrayImage& img, double sigma, std::mt19937_64& rng);
// Multiplies by a linear ramp from `from` (left/top) to `to` (right/bottom)
// along direction angle_deg.
void LightingGradient(GrayImage& img, double from, double to, double angle_deg);

struct Sample {
  std::string distortion;             // e.g. "rotation"
  std::string params;                 // e.g. "angle=135"
  std::vector<std::string> expected;  // texts of the codes in the image
  std::vector<uint8_t> file;          // the image as a PNG or JPEG file
  bool jpeg = false;
};

// Distortion names, in suite order: rotation, scale, blur, noise, jpeg,
// perspective, low_contrast, multi, inverted, phone.
const std::vector<std::string>& DistortionNames();

// `count` samples of one distortion (parameters spread over its range),
// deterministic for (name, count, seed). REQUIRES: name is in
// DistortionNames().
std::vector<Sample> MakeSamples(std::string_view name, int count, uint64_t seed);

// Per-distortion tally.
struct Tally {
  int images = 0;
  int expected = 0;  // codes placed
  int found = 0;     // of those, decoded with the exact text
  int wrong = 0;     // decoded texts that were not placed in the image
  double rate() const { return expected == 0 ? 0 : static_cast<double>(found) / expected; }
};

// Counts found / wrong for one image's decoded texts against its sample.
void Score(const Sample& sample, const std::vector<std::string>& decoded, Tally& tally);

}  // namespace traceledger::qrcode::testing

#endif  // TRACELEDGER_TESTS_QRCODE_DISTORTION_H_
