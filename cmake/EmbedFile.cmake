# Writes OUTPUT, a C++ source defining `std::string_view <SYMBOL>()` that
# returns the bytes of INPUT (a text file without NUL bytes), for files
# compiled into a binary (api/openapi.json). HEADER is the header that
# declares the function. Run as
#   cmake -DINPUT=… -DOUTPUT=… -DSYMBOL=… -DNAMESPACE=… -DHEADER=… -P EmbedFile.cmake
file(READ "${INPUT}" content)
string(FIND "${content}" ")tl_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )tl_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/EmbedFile.cmake; do not edit.\n"
  "#include \"${HEADER}\"\n\n"
  "#include <string_view>\n"
  "namespace ${NAMESPACE} {\n"
  "std::string_view ${SYMBOL}() {\n"
  "  static constexpr char kText[] = R\"tl_embed(${content})tl_embed\";\n"
  "  return std::string_view(kText, sizeof(kText) - 1);\n"
  "}\n"
  "}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
