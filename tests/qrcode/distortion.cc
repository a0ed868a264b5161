#include "tests/qrcode/distortion.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <numbers>

#include "util/encoding.h"

namespace traceledger::qrcode::testing {
namespace {

constexpr double kPi = std::numbers::pi;

// Projective map from the unit square to a quadrilateral (Heckbert 1989),
// kept as its inverse: output pixel -> (u, v) in the unit square.
struct Homography {
  std::array<double, 9> inv{};  // row-major 3x3

  // Corners for (0,0), (1,0), (1,1), (0,1).
  static Homography SquareToQuad(const std::array<std::array<double, 2>, 4>& q) {
    const double x0 = q[0][0], y0 = q[0][1], x1 = q[1][0], y1 = q[1][1];
    const double x2 = q[2][0], y2 = q[2][1], x3 = q[3][0], y3 = q[3][1];
    const double dx1 = x1 - x2, dx2 = x3 - x2, dx3 = x0 - x1 + x2 - x3;
    const double dy1 = y1 - y2, dy2 = y3 - y2, dy3 = y0 - y1 + y2 - y3;
    double g = 0, h = 0;
    if (std::abs(dx3) > 1e-12 || std::abs(dy3) > 1e-12) {
      const double det = dx1 * dy2 - dx2 * dy1;
      g = (dx3 * dy2 - dx2 * dy3) / det;
      h = (dx1 * dy3 - dx3 * dy1) / det;
    }
    const double a = x1 - x0 + g * x1, b = x3 - x0 + h * x3, c = x0;
    const double d = y1 - y0 + g * y1, e = y3 - y0 + h * y3, f = y0;
    // Inverse by the adjugate; the common factor does not matter for a
    // projective map.
    Homography hm;
    hm.inv = {e - f * h,     c * h - b,     b * f - c * e,  //
              f * g - d,     a - c * g,     c * d - a * f,  //
              d * h - e * g, b * g - a * h, a * e - b * d};
    return hm;
  }

  bool Map(double x, double y, double* u, double* v) const {
    const double w = inv[6] * x + inv[7] * y + inv[8];
    if (std::abs(w) < 1e-12) return false;
    *u = (inv[0] * x + inv[1] * y + inv[2]) / w;
    *v = (inv[3] * x + inv[4] * y + inv[5]) / w;
    return true;
  }
};

struct PreparedCode {
  const SceneCode* code;
  Homography h;
  int modules;  // size + 2 * margin
  int x_min, y_min, x_max, y_max;
};

PreparedCode Prepare(const SceneCode& c, int margin) {
  const int n = c.matrix.size + 2 * margin;
  const double s = n * c.place.module_px / 2;
  const double tx = c.place.tilt_x, ty = c.place.tilt_y;
  // Square corners around the centre, foreshortened, rotated, placed.
  std::array<std::array<double, 2>, 4> q = {{{-s * (1 + ty), -s * (1 + tx)},
                                             {s * (1 + ty), -s * (1 - tx)},
                                             {s * (1 - ty), s * (1 - tx)},
                                             {-s * (1 - ty), s * (1 + tx)}}};
  const double a = c.place.angle_deg * kPi / 180;
  PreparedCode p{&c, {}, n, 1 << 30, 1 << 30, -(1 << 30), -(1 << 30)};
  for (auto& pt : q) {
    const double x = pt[0] * std::cos(a) - pt[1] * std::sin(a) + c.place.cx;
    const double y = pt[0] * std::sin(a) + pt[1] * std::cos(a) + c.place.cy;
    pt = {x, y};
    p.x_min = std::min(p.x_min, static_cast<int>(std::floor(x)) - 1);
    p.y_min = std::min(p.y_min, static_cast<int>(std::floor(y)) - 1);
    p.x_max = std::max(p.x_max, static_cast<int>(std::ceil(x)) + 1);
    p.y_max = std::max(p.y_max, static_cast<int>(std::ceil(y)) + 1);
  }
  p.h = Homography::SquareToQuad(q);
  return p;
}

std::string Pick(std::mt19937_64& rng, std::string_view alphabet, int n) {
  std::string s;
  std::uniform_int_distribution<size_t> d(0, alphabet.size() - 1);
  for (int i = 0; i < n; ++i) s += alphabet[d(rng)];
  return s;
}

double Uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

// Spreads sample i of count over [lo, hi].
double Spread(int i, int count, double lo, double hi) {
  return count <= 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / (count - 1);
}

QrMatrix Encode(const std::string& text) {
  auto m = EncodeQr(text, EccLevel::kM);
  if (!m.ok()) std::abort();  // SampleUri always fits
  return std::move(m).value();
}

// One code in the middle of a scene, with a random rotation.
Scene OneCode(const std::string& uri, std::mt19937_64& rng, double module_px, int width = 640,
              int height = 480) {
  Scene s;
  s.width = width;
  s.height = height;
  Placement p;
  p.cx = width / 2.0 + Uniform(rng, -20, 20);
  p.cy = height / 2.0 + Uniform(rng, -20, 20);
  p.module_px = module_px;
  p.angle_deg = Uniform(rng, 0, 360);
  s.codes.push_back(SceneCode{Encode(uri), p});
  return s;
}

std::string Fmt(const char* name, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s=%.2f", name, v);
  return buf;
}

}  // namespace

std::string SampleUri(uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 7);
  // GTIN-14 with a valid GS1 check digit.
  std::string gtin = "0" + Pick(rng, "0123456789", 12);
  int sum = 0;
  for (size_t i = 0; i < gtin.size(); ++i) sum += (gtin[gtin.size() - 1 - i] - '0') * (i % 2 == 0 ? 3 : 1);
  gtin += static_cast<char>('0' + (10 - sum % 10) % 10);
  std::string lot = "LOT-2026-" + Pick(rng, "ABCDEFGHJKLMNPQRSTUVWXYZ", 1);
  std::string serial = Pick(rng, "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 16);
  std::string key_id = Pick(rng, "0123456789abcdef", 16);
  std::vector<uint8_t> sig(64);
  for (auto& b : sig) b = static_cast<uint8_t>(rng());
  return "https://id.traceledger.example/01/" + gtin + "/10/" + lot + "/21/" + serial + "?91=" + key_id +
         "&92=" + Base64UrlEncode(sig);
}

GrayImage RenderScene(const Scene& scene) {
  GrayImage img(scene.width, scene.height, scene.surround);
  std::vector<PreparedCode> codes;
  for (const auto& c : scene.codes) codes.push_back(Prepare(c, scene.margin));
  const uint8_t dark = scene.inverted ? scene.light : scene.dark;
  const uint8_t light = scene.inverted ? scene.dark : scene.light;
  constexpr int kSub = 4;
  for (int y = 0; y < scene.height; ++y) {
    for (int x = 0; x < scene.width; ++x) {
      const PreparedCode* near[8];
      int n_near = 0;
      for (const auto& c : codes) {
        if (x >= c.x_min && x <= c.x_max && y >= c.y_min && y <= c.y_max && n_near < 8) near[n_near++] = &c;
      }
      if (n_near == 0) continue;
      int sum = 0;
      for (int sy = 0; sy < kSub; ++sy) {
        for (int sx = 0; sx < kSub; ++sx) {
          const double px = x + (sx + 0.5) / kSub, py = y + (sy + 0.5) / kSub;
          int v = scene.surround;
          for (int k = 0; k < n_near; ++k) {
            double u, w;
            if (!near[k]->h.Map(px, py, &u, &w) || u < 0 || u >= 1 || w < 0 || w >= 1) continue;
            const int mx = static_cast<int>(u * near[k]->modules) - scene.margin;
            const int my = static_cast<int>(w * near[k]->modules) - scene.margin;
            const QrMatrix& m = near[k]->code->matrix;
            const bool is_dark = mx >= 0 && my >= 0 && mx < m.size && my < m.size && m.dark(mx, my);
            v = is_dark ? dark : light;
            break;
          }
          sum += v;
        }
      }
      img.at(x, y) = static_cast<uint8_t>((sum + kSub * kSub / 2) / (kSub * kSub));
    }
  }
  return img;
}

void GaussianBlur(GrayImage& img, double sigma) {
  if (sigma <= 0.05) return;
  const int r = static_cast<int>(std::ceil(3 * sigma));
  std::vector<double> k(2 * r + 1);
  double total = 0;
  for (int i = -r; i <= r; ++i) total += k[i + r] = std::exp(-(i * i) / (2 * sigma * sigma));
  for (auto& v : k) v /= total;
  std::vector<double> tmp(img.pixels.size());
  const int w = img.width, h = img.height;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      double acc = 0;
      for (int i = -r; i <= r; ++i) acc += k[i + r] * img.at(std::clamp(x + i, 0, w - 1), y);
      tmp[static_cast<size_t>(y) * w + x] = acc;
    }
  }
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      double acc = 0;
      for (int i = -r; i <= r; ++i)
        acc += k[i + r] * tmp[static_cast<size_t>(std::clamp(y + i, 0, h - 1)) * w + x];
      img.at(x, y) = static_cast<uint8_t>(std::clamp(std::lround(acc), 0L, 255L));
    }
  }
}

void AddNoise(GrayImage& img, double sigma, std::mt19937_64& rng) {
  std::normal_distribution<double> d(0, sigma);
  for (auto& p : img.pixels) p = static_cast<uint8_t>(std::clamp(std::lround(p + d(rng)), 0L, 255L));
}

void LightingGradient(GrayImage& img, double from, double to, double angle_deg) {
  const double a = angle_deg * kPi / 180, ca = std::cos(a), sa = std::sin(a);
  // Projection of the corners on the direction gives the ramp's extent.
  double lo = 1e300, hi = -1e300;
  for (int cy : {0, img.height}) {
    for (int cx : {0, img.width}) {
      double t = cx * ca + cy * sa;
      lo = std::min(lo, t), hi = std::max(hi, t);
    }
  }
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      double t = ((x * ca + y * sa) - lo) / (hi - lo);
      double f = from + (to - from) * t;
      img.at(x, y) = static_cast<uint8_t>(std::clamp(std::lround(img.at(x, y) * f), 0L, 255L));
    }
  }
}

const std::vector<std::string>& DistortionNames() {
  static const std::vector<std::string> kNames = {"rotation", "scale",       "blur",         "noise",
                                                  "jpeg",     "perspective", "low_contrast", "multi",
                                                  "inverted", "phone"};
  return kNames;
}

std::vector<Sample> MakeSamples(std::string_view name, int count, uint64_t seed) {
  std::vector<Sample> out;
  const auto& names = DistortionNames();
  const uint64_t family = static_cast<uint64_t>(std::find(names.begin(), names.end(), name) - names.begin());
  std::mt19937_64 rng(seed ^ (family * 0xD1B54A32D192ED03ull));
  uint64_t uri_seed = seed * 1000003 + family * 100000;
  for (int i = 0; i < count; ++i) {
    Sample s;
    s.distortion = std::string(name);
    std::string uri = SampleUri(uri_seed++);
    s.expected.push_back(uri);
    Scene scene;
    int jpeg_quality = 0;
    double blur = 0.5, noise = 2;
    std::function<void(GrayImage&)> post;
    if (name == "rotation") {
      scene = OneCode(uri, rng, 4);
      double angle = 360.0 * i / count + Uniform(rng, 0, 360.0 / count);
      scene.codes[0].place.angle_deg = angle;
      s.params = Fmt("angle", angle);
    } else if (name == "scale") {
      double mp = Spread(i, count, 4.0, 1.2);
      scene = OneCode(uri, rng, mp);
      blur = 0.35;
      s.params = Fmt("module_px", mp);
    } else if (name == "blur") {
      double f = Spread(i, count, 0.15, 0.6);
      scene = OneCode(uri, rng, 4);
      blur = f * 4;
      s.params = Fmt("sigma_modules", f);
    } else if (name == "noise") {
      scene = OneCode(uri, rng, 4);
      noise = Spread(i, count, 10, 60);
      s.params = Fmt("sigma", noise);
    } else if (name == "jpeg") {
      scene = OneCode(uri, rng, Uniform(rng, 2.5, 4));
      jpeg_quality = static_cast<int>(std::lround(Spread(i, count, 30, 90)));
      s.params = Fmt("quality", jpeg_quality);
    } else if (name == "perspective") {
      scene = OneCode(uri, rng, 4.5);
      double t = Spread(i, count, 0.05, 0.35);
      double dir = Uniform(rng, 0, 2 * kPi);
      scene.codes[0].place.tilt_x = t * std::cos(dir);
      scene.codes[0].place.tilt_y = t * std::sin(dir);
      s.params = Fmt("tilt", t);
    } else if (name == "low_contrast") {
      scene = OneCode(uri, rng, 4);
      double diff = Spread(i, count, 80, 20);
      double mean = Uniform(rng, 90, 170);
      scene.dark = static_cast<uint8_t>(std::lround(mean - diff / 2));
      scene.light = static_cast<uint8_t>(std::lround(mean + diff / 2));
      scene.surround = static_cast<uint8_t>(std::lround(mean));
      double ramp = Uniform(rng, 0, 360);
      post = [ramp](GrayImage& img) { LightingGradient(img, 0.8, 1.15, ramp); };
      s.params = Fmt("contrast", diff);
    } else if (name == "multi") {
      int k = 2 + i % 5;
      scene.width = 1280;
      scene.height = 960;
      // One code per cell of a 3 x 2 grid, in random cells.
      std::vector<int> cells = {0, 1, 2, 3, 4, 5};
      std::shuffle(cells.begin(), cells.end(), rng);
      for (int c = 0; c < k; ++c) {
        std::string text = c == 0 ? uri : SampleUri(uri_seed++);
        if (c > 0) s.expected.push_back(text);
        Placement p;
        p.cx = (cells[c] % 3 + 0.5) * scene.width / 3.0 + Uniform(rng, -25, 25);
        p.cy = (cells[c] / 3 + 0.5) * scene.height / 2.0 + Uniform(rng, -25, 25);
        p.module_px = Uniform(rng, 3, 4.5);
        p.angle_deg = Uniform(rng, 0, 360);
        p.tilt_x = Uniform(rng, -0.1, 0.1);
        p.tilt_y = Uniform(rng, -0.1, 0.1);
        scene.codes.push_back(SceneCode{Encode(text), p});
      }
      s.params = "codes=" + std::to_string(k);
    } else if (name == "inverted") {
      scene = OneCode(uri, rng, 4);
      scene.inverted = true;
      scene.surround = 230;
      s.params = "inverted";
    } else if (name == "phone") {
      scene = OneCode(uri, rng, Uniform(rng, 2.5, 5), 1024, 768);
      scene.codes[0].place.tilt_x = Uniform(rng, -0.25, 0.25);
      scene.codes[0].place.tilt_y = Uniform(rng, -0.25, 0.25);
      scene.dark = static_cast<uint8_t>(Uniform(rng, 20, 70));
      scene.light = static_cast<uint8_t>(Uniform(rng, 170, 240));
      scene.surround = static_cast<uint8_t>(Uniform(rng, 60, 200));
      blur = Uniform(rng, 0.4, 1.2);
      noise = Uniform(rng, 3, 10);
      jpeg_quality = static_cast<int>(Uniform(rng, 50, 90));
      double ramp = Uniform(rng, 0, 360);
      post = [ramp](GrayImage& img) { LightingGradient(img, 0.75, 1.1, ramp); };
      s.params = Fmt("module_px", scene.codes[0].place.module_px) + " " + Fmt("blur", blur);
    } else {
      std::abort();  // not a distortion name
    }
    GrayImage img = RenderScene(scene);
    if (post) post(img);
    GaussianBlur(img, blur);
    AddNoise(img, noise, rng);
    if (jpeg_quality > 0) {
      s.file = EncodeGrayJpeg(img, jpeg_quality);
      s.jpeg = true;
    } else {
      s.file = EncodeGrayPng(img);
    }
    out.push_back(std::move(s));
  }
  return out;
}

void Score(const Sample& sample, const std::vector<std::string>& decoded, Tally& tally) {
  ++tally.images;
  tally.expected += static_cast<int>(sample.expected.size());
  std::map<std::string, int> want;
  for (const auto& e : sample.expected) ++want[e];
  std::map<std::string, int> got;
  for (const auto& d : decoded) ++got[d];
  for (const auto& [text, n] : got) {
    auto it = want.find(text);
    if (it == want.end()) {
      tally.wrong += n;
    } else {
      tally.found += std::min(n, it->second);
    }
  }
}

}  // namespace traceledger::qrcode::testing
