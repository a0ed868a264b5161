// Command-line helpers shared by the benchmark programs.
#ifndef TRACELEDGER_BENCH_ARGS_H_
#define TRACELEDGER_BENCH_ARGS_H_

#include <cstdio>
#include <cstdlib>
#include <string>

namespace traceledger::bench {

// The value after flag argv[i] (advancing i), or exit 2 naming the flag.
inline std::string FlagValue(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s needs a value\n", argv[i]);
    std::exit(2);
  }
  return argv[++i];
}

}  // namespace traceledger::bench

#endif  // TRACELEDGER_BENCH_ARGS_H_
