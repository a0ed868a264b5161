#!/usr/bin/env bash
# Installs Anvil, the local Ethereum node the anchoring tests run against,
# from the npm package @foundry-rs/anvil-linux-amd64 (pinned) into ./.anvil
# (gitignored), and prints the binary's absolute path.
#
# The package holds one file of interest, bin/anvil: a prebuilt x86-64 ELF
# executable (no JavaScript wrapper, no install scripts). We link it as
# .anvil/anvil and check that it runs and reports the pinned version.
#
# Idempotent and safe to run concurrently: when that version is already in
# place it does nothing and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.7.1
PACKAGE=@foundry-rs/anvil-linux-amd64
DIR=.anvil
BIN="$DIR/anvil"

installed() { [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "^anvil Version: $VERSION\$"; }

if installed; then
  echo "$PWD/$BIN"
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-anvil: $PACKAGE runs on Linux x86-64 only (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "install-anvil: npm is missing (tools/install-deps.sh installs it)" >&2; exit 1; }

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
if installed; then  # another run finished while we waited
  echo "$PWD/$BIN"
  exit 0
fi
echo "install-anvil: npm install $PACKAGE@$VERSION into $DIR/npm" >&2
npm install --prefix "$DIR/npm" --no-audit --no-fund --ignore-scripts --loglevel=error \
  "$PACKAGE@$VERSION" >&2
found=$(find "$DIR/npm/node_modules/$PACKAGE" -type f -name anvil -perm -u+x | head -n 1)
if [ -z "$found" ]; then
  echo "install-anvil: no executable named anvil inside $PACKAGE@$VERSION" >&2
  exit 1
fi
ln -sfn "${found#"$DIR"/}" "$BIN"  # relative: survives moving the checkout
if ! installed; then
  echo "install-anvil: $found does not run or is not version $VERSION:" >&2
  "$BIN" --version >&2 || true
  exit 1
fi
echo "$PWD/$BIN"
