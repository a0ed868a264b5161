#!/usr/bin/env bash
# HTTP benchmark (issue 4, "Performance"): traced beside nginx on the same
# machine in the same run, wrk at 64 connections.
#
#   1. installs wrk and nginx-light with apt-get when missing;
#   2. builds a data directory with CODES codes (default 1,000,000) issued
#      by tracectl in batches of BATCH, the manifest giving the code URIs;
#   3. starts traced on loopback, and nginx serving two static files: one
#      of the size of traced's JSON scan answer, one of the size of its
#      HTML page (the answers themselves, saved once);
#   4. runs wrk (THREADS threads, CONNECTIONS connections, DURATION,
#      --latency) against random code URIs: the resolver GET /01/… with
#      Accept: application/json, then with Accept: text/html; against the
#      nginx files; and POST /v1/verify with VERIFY_BATCH codes per
#      request (codes/s);
#   5. prints requests/s and p99 latency for each and the ratios
#      traced/nginx.
# A target traced does not serve (404 for the route) is reported as such
# and skipped. BENCH_RECORDS=1 adds GET /v1/records/{id} (random ids of
# the lot's records) as a further traced target.
#
# Environment (defaults): CODES=1000000 BATCH=250000 DURATION=20s
# CONNECTIONS=64 THREADS=2 SAMPLE=100000 (URIs wrk picks from)
# VERIFY_BATCH=1000 HTTP_THREADS=64 (traced --http-threads: httplib serves a
# keep-alive connection on one thread, so fewer threads than connections queue)
# NGINX_WORKERS=2 PORT=18080 NGINX_PORT=18081
# WORK=<dir> (kept; default a fresh temp dir, removed at exit unless
# KEEP=1) REUSE=1 (reuse WORK's data directory when it holds CODES codes)
# BUILD=build (the CMake build directory; built when the tools are missing)
# TRACED_ARGS="--scan-rate 0" (extra traced flags; rate limits off for wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CODES=${CODES:-1000000}
BATCH=${BATCH:-250000}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
SAMPLE=${SAMPLE:-100000}
VERIFY_BATCH=${VERIFY_BATCH:-1000}
HTTP_THREADS=${HTTP_THREADS:-64}
NGINX_WORKERS=${NGINX_WORKERS:-2}
PORT=${PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
BUILD=${BUILD:-build}
TRACED_ARGS=${TRACED_ARGS:---scan-rate 0}
GTIN=09501101530003
LOT=BENCH1

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# --- 1. tools -------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
TRACECTL=$ROOT/$BUILD/tools/tracectl
TRACED=$ROOT/$BUILD/tools/traced
if [ ! -x "$TRACECTL" ] || [ ! -x "$TRACED" ]; then
  say "building tracectl and traced"
  nice -n 10 cmake --build "$BUILD" -j2 --target tracectl traced >/dev/null
fi

if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d /tmp/traceledger-http-bench-XXXXXX)
fi
DATA=$WORK/data
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -z "${KEEP:-}" ] && [ -z "${REUSE:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Bench data only: the passphrases live in the environment.
export TRACELEDGER_PASSPHRASE=bench-passphrase
export TRACELEDGER_OPERATOR_PASSPHRASE=bench-passphrase
T() { "$TRACECTL" --data "$DATA" "$@"; }

# --- 2. data directory ----------------------------------------------------
issued=0
if [ -n "${REUSE:-}" ] && [ -f "$WORK/issued" ]; then issued=$(cat "$WORK/issued"); fi
if [ "$issued" != "$CODES" ]; then
  say "data directory with $CODES codes in $DATA"
  rm -rf "$DATA" "$WORK/print" "$WORK/issued"
  T init --party bench-operator --name "Bench operator" >/dev/null
  T keygen --out "$WORK/merchant.key" >/dev/null
  {
    T register --key "$DATA/operator.key" --party acme --name "Acme" --roles merchant --country CN \
      --public-key-from "$WORK/merchant.key"
    T append product --key "$WORK/merchant.key" --gtin $GTIN --name "Bench tea" --brand Acme \
      --origin-country CN --production-site "Plant 1" --manufacturer "Acme Tea"
    T append lot --key "$WORK/merchant.key" --gtin $GTIN --lot $LOT --production-date 2026-11-01 \
      --quantity "$CODES"
  } | awk '$1 == "accepted" {print $3}' > "$WORK/record-ids.txt"
  left=$CODES
  b=0
  start=$(date +%s.%N)
  while [ "$left" -gt 0 ]; do
    n=$((left < BATCH ? left : BATCH))
    b=$((b + 1))
    T codes issue --key "$WORK/merchant.key" --gtin $GTIN --lot $LOT --count "$n" --batch "B$b" \
      --resolver "127.0.0.1:$PORT" --out "$WORK/print" >/dev/null
    left=$((left - n))
  done
  end=$(date +%s.%N)
  echo "$CODES" > "$WORK/issued"
  printf 'issued %d codes in %d batch(es) in %.1f s\n' "$CODES" "$b" "$(echo "$end - $start" | bc)"
fi
# Code URIs (column 1 of the manifests), a random sample for wrk.
tail -q -n +2 "$WORK"/print/*.csv | cut -d, -f1 | shuf -n "$SAMPLE" > "$WORK/codes.txt"
sed -E 's|^https?://[^/]+||' "$WORK/codes.txt" > "$WORK/paths.txt"
echo "codes in the ledger: $(tail -q -n +2 "$WORK"/print/*.csv | wc -l); URIs sampled for wrk: $(wc -l < "$WORK/paths.txt")"

# --- 3. servers -------------------------------------------------------------
say "starting traced on 127.0.0.1:$PORT"
# Per-client rate limits off: wrk is one client (127.0.0.1) at 64 connections.
"$TRACED" --data "$DATA" --listen "127.0.0.1:$PORT" --http-threads "$HTTP_THREADS" --log-level warn $TRACED_ARGS \
  2> "$WORK/traced.log" &
PIDS+=($!)
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$WORK/traced.log"; echo "traced did not start" >&2; exit 1; }

WWW=$WORK/www
mkdir -p "$WWW"
# nginx workers run as another user (www-data) when started by root
chmod o+rx "$WORK" "$WWW"
first=$(head -1 "$WORK/paths.txt")
# status of one probe; the body saved as the nginx twin of that answer
probe() {  # accept, out-file, target
  curl -s -o "$2" -w '%{http_code}' -H "Accept: $1" "http://127.0.0.1:$PORT$3"
}
json_status=$(probe application/json "$WWW/scan.json" "$first")
html_status=$(probe text/html "$WWW/scan.html" "$first")
echo "resolver probe: JSON $json_status ($(stat -c %s "$WWW/scan.json") bytes), HTML $html_status ($(stat -c %s "$WWW/scan.html") bytes)"

cat > "$WORK/nginx.conf" <<NGINX
worker_processes $NGINX_WORKERS;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/octet-stream;
  types { application/json json; text/html html; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WWW;
    location / { }
  }
}
NGINX
say "starting nginx on 127.0.0.1:$NGINX_PORT ($NGINX_WORKERS workers)"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$NGINX_PORT/scan.json" >/dev/null && break
  sleep 0.1
done

# --- 4. wrk -----------------------------------------------------------------
declare -A RPS P99
# run_wrk NAME URL SCRIPT [ENV…]: requests/s and p99 (ms) into RPS/P99.
run_wrk() {
  local name=$1 url=$2 script=$3
  shift 3
  say "wrk $name: $THREADS threads, $CONNECTIONS connections, $DURATION"
  local out
  out=$(env "$@" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "$url" 2>&1)
  echo "$out" > "$WORK/wrk-$name.txt"
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<< "$out")
  non2xx=$(awk '/^non_2xx/ {print $2}' <<< "$out")
  if [ -z "$rps" ]; then echo "$out" >&2; echo "wrk $name failed" >&2; return 1; fi
  if [ "${non2xx:-0}" != "0" ]; then
    echo "  $name: $non2xx non-2xx answers; see $WORK/wrk-$name.txt" >&2
  fi
  RPS[$name]=$rps
  P99[$name]=$p99
  printf '  %-14s %12s req/s   p99 %8s ms   non-2xx %s\n' "$name" "$rps" "$p99" "${non2xx:-0}"
}

LUA=$ROOT/bench/wrk/bench.lua
echo "/scan.json" > "$WORK/nginx-json.txt"
echo "/scan.html" > "$WORK/nginx-html.txt"

skipped=()
if [ "$json_status" = 200 ]; then
  run_wrk traced-json "http://127.0.0.1:$PORT" "$LUA" WRK_MODE=get WRK_PATHS="$WORK/paths.txt" WRK_ACCEPT=application/json
  run_wrk nginx-json "http://127.0.0.1:$NGINX_PORT" "$LUA" WRK_MODE=get WRK_PATHS="$WORK/nginx-json.txt" WRK_ACCEPT=application/json
else
  skipped+=("resolver JSON (GET /01/… answered $json_status)")
fi
if [ "$html_status" = 200 ]; then
  run_wrk traced-html "http://127.0.0.1:$PORT" "$LUA" WRK_MODE=get WRK_PATHS="$WORK/paths.txt" WRK_ACCEPT=text/html
  run_wrk nginx-html "http://127.0.0.1:$NGINX_PORT" "$LUA" WRK_MODE=get WRK_PATHS="$WORK/nginx-html.txt" WRK_ACCEPT=text/html
else
  skipped+=("resolver HTML (GET /01/… answered $html_status)")
fi
if [ -n "${BENCH_RECORDS:-}" ]; then
  sed 's|^|/v1/records/|' "$WORK/record-ids.txt" > "$WORK/records.txt"
  record_status=$(probe application/json "$WWW/record.json" "$(head -1 "$WORK/records.txt")")
  echo "/record.json" > "$WORK/nginx-record.txt"
  if [ "$record_status" = 200 ]; then
    run_wrk traced-record "http://127.0.0.1:$PORT" "$LUA" WRK_MODE=get WRK_PATHS="$WORK/records.txt" WRK_ACCEPT=application/json
    run_wrk nginx-record "http://127.0.0.1:$NGINX_PORT" "$LUA" WRK_MODE=get WRK_PATHS="$WORK/nginx-record.txt" WRK_ACCEPT=application/json
  else
    skipped+=("GET /v1/records/{id} (answered $record_status)")
  fi
fi
verify_status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"codes\":[\"$(head -1 "$WORK/codes.txt")\"]}" "http://127.0.0.1:$PORT/v1/verify")
if [ "$verify_status" = 200 ]; then
  run_wrk traced-verify "http://127.0.0.1:$PORT" "$LUA" WRK_MODE=verify WRK_CODES="$WORK/codes.txt" WRK_BATCH="$VERIFY_BATCH"
else
  skipped+=("batch verification (POST /v1/verify answered $verify_status)")
fi

# --- 5. summary -------------------------------------------------------------
echo
echo "Summary ($CODES codes in the ledger; wrk -t$THREADS -c$CONNECTIONS -d$DURATION; traced --http-threads $HTTP_THREADS; nginx $NGINX_WORKERS workers; $(nproc) cores)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
for kind in json html record; do
  if [ -n "${RPS[traced-$kind]:-}" ]; then
    printf '  %-5s traced %10s req/s p99 %7s ms | nginx %10s req/s p99 %7s ms | traced/nginx %s\n' "$kind" \
      "${RPS[traced-$kind]}" "${P99[traced-$kind]}" "${RPS[nginx-$kind]}" "${P99[nginx-$kind]}" \
      "$(ratio "${RPS[traced-$kind]}" "${RPS[nginx-$kind]}")"
  fi
done
if [ -n "${RPS[traced-verify]:-}" ]; then
  printf '  verify %s req/s of %d codes = %s codes/s, p99 %s ms\n' "${RPS[traced-verify]}" "$VERIFY_BATCH" \
    "$(awk -v r="${RPS[traced-verify]}" -v n="$VERIFY_BATCH" 'BEGIN { printf "%.0f", r * n }')" "${P99[traced-verify]}"
fi
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
