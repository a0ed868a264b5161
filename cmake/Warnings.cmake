# One INTERFACE target carries the warning flags (and sanitizers) for every
# target of ours. Third-party headers are included as system headers.
add_library(traceledger_warnings INTERFACE)
target_compile_options(traceledger_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  -Wmissing-declarations
  # Designated initializers that rely on member defaults are house style.
  -Wno-missing-field-initializers)
if(TRACELEDGER_WERROR)
  target_compile_options(traceledger_warnings INTERFACE -Werror)
endif()
if(TRACELEDGER_SANITIZE)
  string(REPLACE ";" "," _san "${TRACELEDGER_SANITIZE}")
  target_compile_options(traceledger_warnings INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer)
  target_link_options(traceledger_warnings INTERFACE -fsanitize=${_san})
endif()
