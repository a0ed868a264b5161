# Every third-party dependency is found here, once, from Debian 12 packages:
#   libsecp256k1-dev libleveldb-dev libsnappy-dev libssl-dev
#   nlohmann-json3-dev libcli11-dev libgtest-dev
#   zlib1g-dev libzxing-dev libstb-dev libcrypto++-dev libcpp-httplib-dev
#   libqrencode-dev libpng-dev (the last two only for the rendering benchmark)
# and, as programs, zbar-tools (zbarimg, the decoding benchmark's peer) and
# poppler-utils (pdftoppm/pdfinfo/pdftotext, the PDF label-sheet test).
# tools/install-deps.sh installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1)
find_package(leveldb REQUIRED)
find_library(LEVELDB_MEMENV_LIBRARY memenv REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
# QR encoding and decoding (ZXing-cpp 1.4), image files (stb), Keccak-256
# (Crypto++), HTTP (cpp-httplib 0.11).
pkg_check_modules(ZXING REQUIRED IMPORTED_TARGET zxing)
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
pkg_check_modules(CRYPTOPP REQUIRED IMPORTED_TARGET libcrypto++)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(ZLIB REQUIRED)  # PNG and PDF streams
if(TRACELEDGER_BUILD_BENCH)
  pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
  pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
endif()
if(TRACELEDGER_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
