#include "qrcode/qr_png.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <queue>
#include <utility>

#include "util/encoding.h"

namespace traceledger::qrcode::internal {
namespace {

constexpr int kMaxMatch = 258;
constexpr size_t kWindow = 32768;

// RFC 1951 §3.2.5: length codes 257..285 and distance codes 0..29.
struct CodeTables {
  std::array<uint16_t, 29> len_base{};
  std::array<uint8_t, 29> len_extra{};
  std::array<uint8_t, kMaxMatch + 1> len_code{};  // length -> index into len_base
  std::array<uint32_t, 30> dist_base{};
  std::array<uint8_t, 30> dist_extra{};

  CodeTables() {
    uint16_t base = 3;
    for (int i = 0; i < 28; ++i) {
      len_base[i] = base;
      len_extra[i] = static_cast<uint8_t>(i < 8 ? 0 : (i - 4) / 4);
      base = static_cast<uint16_t>(base + (1 << len_extra[i]));
    }
    len_base[28] = 258;
    len_extra[28] = 0;
    for (int len = 3; len <= kMaxMatch; ++len) {
      int i = 0;
      while (i < 27 && len_base[i + 1] <= len) ++i;
      len_code[len] = static_cast<uint8_t>(len == 258 ? 28 : i);
    }
    uint32_t d = 1;
    for (int i = 0; i < 30; ++i) {
      dist_base[i] = d;
      dist_extra[i] = static_cast<uint8_t>(i < 4 ? 0 : (i - 2) / 2);
      d += 1u << dist_extra[i];
    }
  }

  int DistCode(uint32_t dist) const {
    int i = 29;
    while (dist_base[i] > dist) --i;
    return i;
  }
};

const CodeTables& Tables() {
  static const CodeTables kTables;
  return kTables;
}

// A literal byte (dist == 0) or a back-reference.
struct Token {
  uint16_t value;  // literal byte, or match length
  uint16_t dist;   // 0 for a literal; distances here stay <= 32768
};

class BitWriter {
 public:
  explicit BitWriter(std::vector<uint8_t>& out) : out_(out) {}
  void Put(uint32_t bits, int n) {
    acc_ |= static_cast<uint64_t>(bits) << count_;
    count_ += n;
    while (count_ >= 8) {
      out_.push_back(static_cast<uint8_t>(acc_));
      acc_ >>= 8;
      count_ -= 8;
    }
  }
  void Flush() {
    if (count_ > 0) out_.push_back(static_cast<uint8_t>(acc_));
    acc_ = 0;
    count_ = 0;
  }

 private:
  std::vector<uint8_t>& out_;
  uint64_t acc_ = 0;
  int count_ = 0;
};

// Huffman code lengths of at most max_bits for the given frequencies.
// When the optimal code is too deep, the frequencies are halved (kept
// non-zero) and the code rebuilt, which always terminates.
std::vector<uint8_t> CodeLengths(std::vector<uint32_t> freq, int max_bits) {
  const size_t n = freq.size();
  std::vector<uint8_t> lengths(n, 0);
  for (;;) {
    using Node = std::pair<uint64_t, int>;  // weight, node id
    std::priority_queue<Node, std::vector<Node>, std::greater<>> heap;
    std::vector<int> parent(2 * n, -1);
    int next = static_cast<int>(n);
    for (size_t i = 0; i < n; ++i) {
      if (freq[i] > 0) heap.emplace(freq[i], static_cast<int>(i));
    }
    if (heap.size() == 1) {
      lengths[static_cast<size_t>(heap.top().second)] = 1;
      return lengths;
    }
    while (heap.size() > 1) {
      Node a = heap.top();
      heap.pop();
      Node b = heap.top();
      heap.pop();
      parent[static_cast<size_t>(a.second)] = next;
      parent[static_cast<size_t>(b.second)] = next;
      heap.emplace(a.first + b.first, next++);
    }
    int deepest = 0;
    for (size_t i = 0; i < n; ++i) {
      if (freq[i] == 0) {
        lengths[i] = 0;
        continue;
      }
      int depth = 0;
      for (int p = parent[i]; p != -1; p = parent[static_cast<size_t>(p)]) ++depth;
      lengths[i] = static_cast<uint8_t>(std::min(depth, 255));
      deepest = std::max(deepest, depth);
    }
    if (deepest <= max_bits) return lengths;
    for (auto& f : freq) {
      if (f > 0) f = (f >> 1) | 1;
    }
  }
}

// Canonical codes (RFC 1951 §3.2.2), bit-reversed for LSB-first output.
std::vector<uint16_t> CanonicalCodes(const std::vector<uint8_t>& lengths) {
  std::array<uint16_t, 16> count{};
  for (uint8_t l : lengths) ++count[l];
  count[0] = 0;
  std::array<uint16_t, 16> next{};
  uint16_t code = 0;
  for (int bits = 1; bits < 16; ++bits) {
    code = static_cast<uint16_t>((code + count[bits - 1]) << 1);
    next[bits] = code;
  }
  std::vector<uint16_t> codes(lengths.size(), 0);
  for (size_t i = 0; i < lengths.size(); ++i) {
    int len = lengths[i];
    if (len == 0) continue;
    uint16_t c = next[len]++;
    uint16_t rev = 0;
    for (int b = 0; b < len; ++b) rev = static_cast<uint16_t>(rev | (((c >> b) & 1) << (len - 1 - b)));
    codes[i] = rev;
  }
  return codes;
}

// At least two used symbols, so that every code is a proper prefix code.
void EnsureTwoSymbols(std::vector<uint32_t>& freq) {
  int used = 0;
  for (uint32_t f : freq) used += f > 0 ? 1 : 0;
  for (size_t i = 0; used < 2 && i < freq.size(); ++i) {
    if (freq[i] == 0) freq[i] = 1, ++used;
  }
}

// One final dynamic-Huffman deflate block holding `tokens`.
void WriteDeflateBlock(const std::vector<Token>& tokens, std::vector<uint8_t>& out) {
  const CodeTables& t = Tables();
  std::vector<uint32_t> lit_freq(286, 0), dist_freq(30, 0);
  for (const Token& tok : tokens) {
    if (tok.dist == 0) {
      ++lit_freq[tok.value];
    } else {
      ++lit_freq[257 + t.len_code[tok.value]];
      ++dist_freq[static_cast<size_t>(t.DistCode(tok.dist))];
    }
  }
  lit_freq[256] = 1;  // end of block
  EnsureTwoSymbols(lit_freq);
  EnsureTwoSymbols(dist_freq);
  const auto lit_len = CodeLengths(lit_freq, 15);
  const auto dist_len = CodeLengths(dist_freq, 15);
  const auto lit_code = CanonicalCodes(lit_len);
  const auto dist_code = CanonicalCodes(dist_len);

  size_t hlit = 286, hdist = 30;
  while (hlit > 257 && lit_len[hlit - 1] == 0) --hlit;
  while (hdist > 1 && dist_len[hdist - 1] == 0) --hdist;
  // The code lengths, run-length coded with symbols 16 (repeat the previous
  // length 3-6 times), 17 (3-10 zeros) and 18 (11-138 zeros).
  std::vector<uint8_t> all(lit_len.begin(), lit_len.begin() + static_cast<long>(hlit));
  all.insert(all.end(), dist_len.begin(), dist_len.begin() + static_cast<long>(hdist));
  std::vector<std::pair<uint8_t, uint8_t>> cl_syms;  // symbol, extra-bits value
  for (size_t i = 0; i < all.size();) {
    size_t run = 1;
    while (i + run < all.size() && all[i + run] == all[i]) ++run;
    if (all[i] == 0 && run >= 3) {
      size_t take = std::min<size_t>(run, 138);
      if (take >= 11) {
        cl_syms.emplace_back(18, static_cast<uint8_t>(take - 11));
      } else {
        cl_syms.emplace_back(17, static_cast<uint8_t>(take - 3));
      }
      i += take;
    } else if (all[i] != 0 && run >= 4) {
      cl_syms.emplace_back(all[i], 0);
      size_t take = std::min<size_t>(run - 1, 6);
      cl_syms.emplace_back(16, static_cast<uint8_t>(take - 3));
      i += 1 + take;
    } else {
      cl_syms.emplace_back(all[i], 0);
      ++i;
    }
  }
  std::vector<uint32_t> cl_freq(19, 0);
  for (const auto& [sym, extra] : cl_syms) ++cl_freq[sym];
  EnsureTwoSymbols(cl_freq);
  const auto cl_len = CodeLengths(cl_freq, 7);
  const auto cl_code = CanonicalCodes(cl_len);
  static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  int hclen = 19;
  while (hclen > 4 && cl_len[kOrder[hclen - 1]] == 0) --hclen;

  BitWriter w(out);
  w.Put(1, 1);  // BFINAL
  w.Put(2, 2);  // BTYPE = 10, dynamic Huffman
  w.Put(static_cast<uint32_t>(hlit - 257), 5);
  w.Put(static_cast<uint32_t>(hdist - 1), 5);
  w.Put(static_cast<uint32_t>(hclen - 4), 4);
  for (int i = 0; i < hclen; ++i) w.Put(cl_len[kOrder[i]], 3);
  for (const auto& [sym, extra] : cl_syms) {
    w.Put(cl_code[sym], cl_len[sym]);
    if (sym == 16) w.Put(extra, 2);
    if (sym == 17) w.Put(extra, 3);
    if (sym == 18) w.Put(extra, 7);
  }
  for (const Token& tok : tokens) {
    if (tok.dist == 0) {
      w.Put(lit_code[tok.value], lit_len[tok.value]);
      continue;
    }
    const int lc = t.len_code[tok.value];
    w.Put(lit_code[257 + static_cast<size_t>(lc)], lit_len[257 + static_cast<size_t>(lc)]);
    if (t.len_extra[lc] > 0) w.Put(tok.value - t.len_base[lc], t.len_extra[lc]);
    const int dc = t.DistCode(tok.dist);
    w.Put(dist_code[static_cast<size_t>(dc)], dist_len[static_cast<size_t>(dc)]);
    if (t.dist_extra[dc] > 0) w.Put(tok.dist - t.dist_base[dc], t.dist_extra[dc]);
  }
  w.Put(lit_code[256], lit_len[256]);
  w.Flush();
}

uint32_t Adler32(const std::vector<uint8_t>& data) {
  uint32_t a = 1, b = 0;
  size_t i = 0;
  while (i < data.size()) {
    // 5552 bytes is the most that cannot overflow 32 bits before the modulo.
    size_t end = std::min(data.size(), i + 5552);
    for (; i < end; ++i) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return (b << 16) | a;
}

class Tokenizer {
 public:
  explicit Tokenizer(const std::vector<uint8_t>& raw) : raw_(raw) {}

  void Literal(size_t pos) { tokens_.push_back(Token{raw_[pos], 0}); }

  // raw[pos, pos + len) repeats the bytes `dist` earlier: matches of at most
  // 258, the tail of fewer than 3 bytes as literals.
  void Copy(size_t pos, size_t len, size_t dist) {
    while (len >= 3) {
      size_t take = std::min<size_t>(len, kMaxMatch);
      if (len - take > 0 && len - take < 3) take = len - 3;
      tokens_.push_back(Token{static_cast<uint16_t>(take), static_cast<uint16_t>(dist)});
      pos += take;
      len -= take;
    }
    for (size_t k = 0; k < len; ++k) Literal(pos + k);
  }

  // Greedy matching over raw[begin, end) with two candidate distances: 1
  // (runs of one byte) and `far` (the same place one module row up; 0 = none).
  void Scan(size_t begin, size_t end, size_t far) {
    size_t i = begin;
    while (i < end) {
      size_t best = 0, best_dist = 0;
      const size_t limit = std::min<size_t>(end - i, kMaxMatch);
      if (far != 0 && i >= far) {
        size_t l = 0;
        while (l < limit && raw_[i + l] == raw_[i - far + l]) ++l;
        best = l, best_dist = far;
      }
      if (i > 0 && best < limit) {
        size_t l = 0;
        while (l < limit && raw_[i + l] == raw_[i - 1]) ++l;
        if (l > best) best = l, best_dist = 1;
      }
      if (best >= 3) {
        tokens_.push_back(Token{static_cast<uint16_t>(best), static_cast<uint16_t>(best_dist)});
        i += best;
      } else {
        Literal(i++);
      }
    }
  }

  const std::vector<Token>& tokens() const { return tokens_; }

 private:
  const std::vector<uint8_t>& raw_;
  std::vector<Token> tokens_;
};

void AppendChunk(std::vector<uint8_t>& out, const char type[4], const uint8_t* data, size_t n) {
  uint8_t be[4];
  PutBigEndian32(static_cast<uint32_t>(n), be);
  out.insert(out.end(), be, be + 4);
  size_t type_at = out.size();
  out.insert(out.end(), type, type + 4);
  if (n > 0) out.insert(out.end(), data, data + n);
  PutBigEndian32(Crc32(out.data() + type_at, 4 + n), be);
  out.insert(out.end(), be, be + 4);
}

}  // namespace

uint32_t Crc32(const uint8_t* data, size_t n) {
  static const auto kTable = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::vector<uint8_t> EncodeQrPng(const QrMatrix& m, int px, int margin) {
  const int modules = m.size + 2 * margin;
  const size_t side = static_cast<size_t>(modules) * static_cast<size_t>(px);
  const size_t row_bytes = (side + 7) / 8;
  const size_t line = row_bytes + 1;                    // filter byte + pixels
  const size_t block = line * static_cast<size_t>(px);  // one module row

  // The raw (filtered) image data. Per module row: one line with filter 0
  // (None) and its 1-bit pixels (1 = white; padding bits white too), then
  // px - 1 lines with filter 2 (Up), which are all zero since they equal
  // the line above.
  std::vector<uint8_t> raw(block * static_cast<size_t>(modules), 0);
  for (int my = 0; my < modules; ++my) {
    uint8_t* first = &raw[static_cast<size_t>(my) * block];
    first[0] = 0;
    std::memset(first + 1, 0xFF, row_bytes);
    const int qy = my - margin;
    if (qy >= 0 && qy < m.size) {
      for (int qx = 0; qx < m.size; ++qx) {
        if (!m.dark(qx, qy)) continue;
        const size_t x0 = static_cast<size_t>(qx + margin) * static_cast<size_t>(px);
        for (size_t x = x0; x < x0 + static_cast<size_t>(px); ++x) {
          first[1 + (x >> 3)] = static_cast<uint8_t>(first[1 + (x >> 3)] & ~(0x80u >> (x & 7)));
        }
      }
    }
    for (int r = 1; r < px; ++r) first[static_cast<size_t>(r) * line] = 2;
  }

  Tokenizer tok(raw);
  const size_t far = block <= kWindow ? block : 0;
  for (int my = 0; my < modules; ++my) {
    const size_t begin = static_cast<size_t>(my) * block;
    tok.Scan(begin, begin + line, my > 0 ? far : 0);
    if (px < 2) continue;
    if (my > 0 && far != 0) {
      // The Up lines repeat the previous module row's Up lines exactly.
      tok.Copy(begin + line, block - line, far);
    } else {
      tok.Literal(begin + line);                           // filter byte 2
      tok.Literal(begin + line + 1);                       // a zero
      tok.Copy(begin + line + 2, row_bytes - 1, 1);        // the rest of the zeros
      tok.Copy(begin + 2 * line, block - 2 * line, line);  // the other Up lines
    }
  }

  std::vector<uint8_t> z = {0x78, 0x01};  // zlib: deflate, 32 KiB window
  WriteDeflateBlock(tok.tokens(), z);
  uint8_t adler[4];
  PutBigEndian32(Adler32(raw), adler);
  z.insert(z.end(), adler, adler + 4);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  png.reserve(png.size() + 64 + z.size());
  uint8_t ihdr[13];
  PutBigEndian32(static_cast<uint32_t>(side), ihdr);
  PutBigEndian32(static_cast<uint32_t>(side), ihdr + 4);
  ihdr[8] = 1;   // bit depth
  ihdr[9] = 0;   // greyscale
  ihdr[10] = 0;  // deflate
  ihdr[11] = 0;  // adaptive filtering
  ihdr[12] = 0;  // not interlaced
  AppendChunk(png, "IHDR", ihdr, sizeof ihdr);
  AppendChunk(png, "IDAT", z.data(), z.size());
  AppendChunk(png, "IEND", nullptr, 0);
  return png;
}

}  // namespace traceledger::qrcode::internal
