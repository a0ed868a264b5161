// Cryptographically secure random bytes from the OS (OpenSSL RAND_bytes).
#ifndef TRACELEDGER_WALLET_RANDOM_H_
#define TRACELEDGER_WALLET_RANDOM_H_

#include <cstdint>
#include <span>
#include <string>

namespace traceledger::wallet {

// Fills `out`. Aborts the process if the OS has no entropy to give: no
// caller can do anything sensible without it.
void RandomBytes(std::span<uint8_t> out);

// n random bytes as 2n lowercase hex digits.
std::string RandomHex(size_t n);

}  // namespace traceledger::wallet

#endif  // TRACELEDGER_WALLET_RANDOM_H_
