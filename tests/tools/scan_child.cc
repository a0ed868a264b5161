// Child process for the scan store crash test (crash_test.cc): records
// scans of 20 serials round-robin into <dir>/scans with fsync, and after
// each update returns prints "<serial> <scan count>" (flushed), until it
// is killed. Usage: scan_child DIR SEED
#include <cstdio>
#include <cstdlib>
#include <string>

#include "qrcode/scan_store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: scan_child DIR SEED\n");
    return 2;
  }
  using traceledger::qrcode::ScanStore;
  auto store =
      ScanStore::Open(traceledger::qrcode::ScanStoreOptions{.path = std::string(argv[1]) + "/scans"});
  if (!store.ok()) {
    std::fprintf(stderr, "scan_child: %s\n", store.error().message.c_str());
    return 1;
  }
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const char* regions[] = {"CN-44", "CN-31", "US-CA", ""};
  for (uint64_t i = 0;; ++i) {
    const std::string serial = "S" + std::to_string((seed + i) % 20);
    auto scan = (*store)->RecordScan("09501101530003", serial, static_cast<int64_t>(1'000'000 + i),
                                     regions[i % 4], std::to_string(i % 3));
    if (!scan.ok()) {
      std::fprintf(stderr, "scan_child: %s\n", scan.error().message.c_str());
      return 1;
    }
    std::printf("%s %llu\n", serial.c_str(), static_cast<unsigned long long>(scan->state.scans));
    std::fflush(stdout);
  }
}
