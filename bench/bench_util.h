// Small helpers shared by the benchmark programs: fatal errors, strict
// count flags, durations.
#ifndef TRACELEDGER_BENCH_BENCH_UTIL_H_
#define TRACELEDGER_BENCH_BENCH_UTIL_H_

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace traceledger::bench {

// The program's name, for messages; each main sets it first.
inline std::string& ProgramName() {
  static std::string name = "bench";
  return name;
}

[[noreturn]] inline void Die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", ProgramName().c_str(), message.c_str());
  std::exit(1);
}

// A positive integer flag value; dies with a message otherwise.
inline uint64_t ParseCount(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || v == 0) {
    Die(flag + " needs a positive integer, got \"" + text + "\"");
  }
  return v;
}

inline double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace traceledger::bench

#endif  // TRACELEDGER_BENCH_BENCH_UTIL_H_
