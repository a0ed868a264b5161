// Internal to wallet/: the one process-wide libsecp256k1 context, shared by
// the BIP-340 code (key.cc) and the ECDSA code (eth_key.cc). Not for use
// outside wallet/ (its type is libsecp256k1's).
#ifndef TRACELEDGER_WALLET_SECP256K1_CONTEXT_H_
#define TRACELEDGER_WALLET_SECP256K1_CONTEXT_H_

#include <secp256k1.h>

namespace traceledger::wallet::internal {

// Created on first use and randomized with OS entropy (side-channel
// blinding); only ever used as const afterwards, which libsecp256k1
// documents as safe from any number of threads.
const secp256k1_context* Secp256k1Context();

// Aborts the process with a message. Only for environment failures and
// libsecp256k1 calls failing on inputs already validated, never for
// untrusted input.
[[noreturn]] void Fatal(const char* what);

}  // namespace traceledger::wallet::internal

#endif  // TRACELEDGER_WALLET_SECP256K1_CONTEXT_H_
