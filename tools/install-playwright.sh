#!/usr/bin/env bash
# Installs playwright-core (pinned), the browser driver of the real-browser
# test (tests/browser/), from npm into ./.playwright (gitignored), and prints
# the directory of its node_modules. It drives Debian's own Chromium
# (/usr/bin/chromium, from tools/install-deps.sh): playwright-core downloads
# no browser and runs no install scripts here.
#
# Idempotent and safe to run concurrently: when that version is already in
# place it does nothing and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.56.1
PACKAGE=playwright-core
DIR=.playwright
MODULES="$DIR/node_modules"

installed() {
  [ -f "$MODULES/$PACKAGE/package.json" ] &&
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
      "$PWD/$MODULES/$PACKAGE/package.json" "$VERSION" 2>/dev/null
}

if installed; then
  echo "$PWD/$MODULES"
  exit 0
fi
command -v npm >/dev/null || { echo "install-playwright: npm is missing (tools/install-deps.sh installs it)" >&2; exit 1; }

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
if installed; then  # another run finished while we waited
  echo "$PWD/$MODULES"
  exit 0
fi
echo "install-playwright: npm install $PACKAGE@$VERSION into $DIR" >&2
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$DIR" --no-audit --no-fund --ignore-scripts \
  --loglevel=error "$PACKAGE@$VERSION" >&2
if ! installed; then
  echo "install-playwright: $PACKAGE@$VERSION is not in $MODULES after npm install" >&2
  exit 1
fi
echo "$PWD/$MODULES"
