#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the demo on an
# embedded LevelDB data directory (./demo-data, recreated on every run):
# a ledger with an operator, a merchant, an inspector, a customs office and
# a regulator; a product, a lot, a shipment, an inspection report, a
# customs release and a credit event; a batch of signed codes and their
# verification; a recalled lot and a revoked code; an audit, a checkpoint
# and a proof; then it starts the node (traced) on that data and prints
# scan URLs to open in a browser and the path of a code image.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/build.sh

DATA=${TRACELEDGER_DEMO_DATA:-demo-data}
T="./build/tools/tracectl --data $DATA"
# Demo only: real deployments keep passphrases out of the environment.
export TRACELEDGER_PASSPHRASE=${TRACELEDGER_PASSPHRASE:-demo-passphrase}
export TRACELEDGER_OPERATOR_PASSPHRASE=${TRACELEDGER_OPERATOR_PASSPHRASE:-$TRACELEDGER_PASSPHRASE}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ tracectl'; printf ' %q' "$@"; echo; $T "$@"; }

rm -rf "$DATA"
mkdir -p "$DATA/keys"

step "Operator creates the ledger (genesis block)"
run init --party zone-operator --name "Qianhai Bonded Zone Ledger Operator"

step "Keys for the parties (encrypted keystores, mode 0600)"
for p in merchant inspector customs regulator carrier; do
  run keygen --out "$DATA/keys/$p.key" >/dev/null
  echo "  $p: key id $($T key show "$DATA/keys/$p.key" | awk '/key id/ {print $3}')"
done

step "Operator registers the parties"
OPK="$DATA/operator.key"
run register --key "$OPK" --party acme-tea --name "Acme Tea Trading Co." --roles merchant \
  --country CN --public-key-from "$DATA/keys/merchant.key"
run register --key "$OPK" --party cciq-lab --name "CCIQ Inspection Lab" --roles inspector \
  --country CN --public-key-from "$DATA/keys/inspector.key"
run register --key "$OPK" --party qianhai-customs --name "Qianhai Customs" --roles customs \
  --country CN --public-key-from "$DATA/keys/customs.key"
run register --key "$OPK" --party samr-sz --name "Shenzhen Market Regulator" --roles regulator \
  --country CN --public-key-from "$DATA/keys/regulator.key"
run register --key "$OPK" --party swift-logistics --name "Swift Logistics" --roles logistics \
  --country CN --public-key-from "$DATA/keys/carrier.key"

M="$DATA/keys/merchant.key"
GTIN=09501101530003
step "Merchant registers a product, a lot and a shipment"
run append product --key "$M" --gtin "$GTIN" --name "Fuding White Tea 250 g" --brand "Acme" \
  --origin-country CN --origin-region "Fujian" --production-site "Fuding plant 2" \
  --manufacturer "Acme Tea Co., Ltd."
run append lot --key "$M" --gtin "$GTIN" --lot L2026-11A --production-date 2026-11-02 \
  --expiry-date 2028-11-01 --quantity 5000
run append shipment --key "$M" --shipment SHP-2026-0042 --lots "$GTIN:L2026-11A:1200" \
  --origin-country CN --destination "Qianhai bonded zone, Shenzhen" --declaration 530120261100042 \
  --documents "$(printf 'commercial invoice 42' | sha256sum | cut -d' ' -f1)"

step "Inspection agency records a report; custody changes hands"
run append inspection --key "$DATA/keys/inspector.key" --gtin "$GTIN" --lot L2026-11A \
  --standard "GB/T 22291-2017" --sample-size 12 --result conformant \
  --report-sha256 "$(printf 'lab report 2026-117' | sha256sum | cut -d' ' -f1)" --inspected-on 2026-11-05
run append custody --key "$M" --shipment SHP-2026-0042 --from acme-tea --to swift-logistics \
  --location "Fuding plant 2" --biz-step shipping
run append custody --key "$DATA/keys/carrier.key" --shipment SHP-2026-0042 --from swift-logistics \
  --to qianhai-customs --location "Qianhai bonded warehouse 3" --biz-step arriving

step "Customs releases the shipment; the regulator records a credit event"
run append customs_decision --key "$DATA/keys/customs.key" --shipment SHP-2026-0042 --decision released
run append credit_event --key "$DATA/keys/regulator.key" --merchant acme-tea --event reward \
  --reason "Complete, timely traceability records for 2026" --act-end-date 2026-11-15

step "Merchant issues 1000 serialized codes with one-time PINs (one block; manifest for the printing line)"
run codes issue --key "$M" --gtin "$GTIN" --lot L2026-11A --count 1000 --pin --batch B0001 --out "$DATA/print"
MANIFEST="$DATA/print/$GTIN-B0001.csv"
head -2 "$MANIFEST" | cut -c1-160

step "Customs verifies scanned codes: a genuine one, a tampered copy, a stray URL (exit 1: not all genuine)"
CODE=$(sed -n 2p "$MANIFEST" | cut -d, -f1)
TAMPERED=$(printf '%s' "$CODE" | sed 's|/21/\(.\)|/21/\1\1|')  # one more serial character
set +e
run verify "$CODE" "$TAMPERED" "https://example.com/01/09501101530004/10/L1/21/S1"
echo "  (exit code $?)"
set -e
echo "  offline, with the merchant's public key only:"
run verify --issuer-key "$($T key show "$M" | awk '/public key/ {print $3}')" "$CODE"
run codes show "$GTIN" "$(sed -n 2p "$MANIFEST" | cut -d, -f4)"

step "A record that breaks the rules is rejected and changes nothing"
set +e
run append credit_event --key "$M" --merchant acme-tea --event reward --reason "self-praise" \
  --act-end-date 2026-11-15
echo "  (exit code $?)"
set -e

step "Audit: re-verify every block, signature, rule and index from genesis"
run audit

step "Operator signs a checkpoint; anyone checks an inclusion proof offline with the operator's public key"
run checkpoint sign --out "$DATA/checkpoint.txt" >/dev/null
cat "$DATA/checkpoint.txt"
INSPECTION=$($T history lot "$GTIN" L2026-11A | awk '$4 == "inspection" {print $1; exit}')
run proof inclusion --index "$INSPECTION" --out "$DATA/inspection.proof.json"
run verify-proof "$DATA/inspection.proof.json" --operator-key "$($T key show "$DATA/operator.key" | awk '/public key/ {print $3}')"

step "A second lot is recalled; one code of the first lot is revoked (the scan pages warn about both)"
run append lot --key "$M" --gtin "$GTIN" --lot L2026-10B --production-date 2026-10-08 \
  --expiry-date 2028-10-07 --quantity 800
run codes issue --key "$M" --gtin "$GTIN" --lot L2026-10B --count 20 --batch B0002 --png --out "$DATA/print"
run append lot_recall --key "$DATA/keys/regulator.key" --gtin "$GTIN" --lot L2026-10B \
  --reason "Pesticide residue above GB 2763-2021 limits in a retained sample"
REVOKED_SERIAL=$(sed -n 3p "$MANIFEST" | cut -d, -f4)
run append code_revocation --key "$M" --gtin "$GTIN" --lot L2026-11A --serials "$REVOKED_SERIAL" \
  --reason "Label damaged at the printing line; replaced"

step "What the ledger holds"
run show ledger
echo
run history shipment SHP-2026-0042
echo
run history lot "$GTIN" L2026-11A
echo
echo "Data directory: $DATA (LevelDB in $DATA/ledger). Try: ./build/tools/tracectl --data $DATA --help"

# The node: serves the ledger, the scan pages and the API over HTTP until
# Ctrl-C (SIGTERM/SIGINT: in-flight writes finish, then it exits).
LISTEN=${TRACELEDGER_LISTEN:-127.0.0.1:8080}
local_url() { printf 'http://%s/%s' "$LISTEN" "${1#https://*/}"; }
RECALLED=$(sed -n 2p "$DATA/print/$GTIN-B0002.csv" | cut -d, -f1)
REVOKED=$(sed -n 3p "$MANIFEST" | cut -d, -f1)
step "The node serves HTTP on http://$LISTEN — open these in a browser (or curl -H 'Accept: application/json')"
echo "  genuine:                 $(local_url "$CODE")"
echo "  revoked code:            $(local_url "$REVOKED")"
echo "  recalled lot:            $(local_url "$RECALLED")"
echo "  forged (tampered serial): $(local_url "$TAMPERED")"
echo "  shipment provenance:     http://$LISTEN/v1/shipments/SHP-2026-0042/provenance"
echo "  merchant credit:         http://$LISTEN/v1/credit/acme-tea"
echo "  API description:         http://$LISTEN/openapi.json   metrics: http://$LISTEN/metrics"
echo "  a code image to scan:    $DATA/print/images/$(sed -n 2p "$DATA/print/$GTIN-B0002.csv" | cut -d, -f4).png (recalled lot)"
echo "  (Ctrl-C stops the node; the data stays in $DATA)"
exec ./build/tools/traced --data "$DATA" --listen "$LISTEN"
