#!/usr/bin/env bash
# Formatting and lint in one command: clang-format (check, or --fix to
# rewrite) and clang-tidy over our sources, using build/compile_commands.json.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
[ -f build/compile_commands.json ] || ./tools/build.sh
mapfile -t sources < <(git ls-files 'util/*.cc' 'wallet/*.cc' 'chain/*.cc' 'ledger/*.cc' 'qrcode/*.cc' 'tools/*.cc')
clang-tidy -p build --quiet \
  --checks='-*,bugprone-*,-bugprone-easily-swappable-parameters,performance-*,-performance-avoid-endl' \
  "${sources[@]}"
