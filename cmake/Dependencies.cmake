# Every third-party dependency is found here, once, from Debian 12 packages:
#   libsecp256k1-dev libleveldb-dev libsnappy-dev libssl-dev
#   nlohmann-json3-dev libcli11-dev libgtest-dev
# tools/install-deps.sh installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1)
find_package(leveldb REQUIRED)
find_library(LEVELDB_MEMENV_LIBRARY memenv REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
if(TRACELEDGER_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
