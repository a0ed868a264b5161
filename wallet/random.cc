#include "wallet/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "util/encoding.h"

namespace traceledger::wallet {

void RandomBytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::fputs("fatal: the OS random number generator failed\n", stderr);
    std::abort();
  }
}

std::string RandomHex(size_t n) {
  std::vector<uint8_t> bytes(n);
  RandomBytes(bytes);
  return HexEncode(bytes);
}

}  // namespace traceledger::wallet
