#!/usr/bin/env bash
# Ingestion benchmark: the API's real request endpoint (validation, policy lookup, JWT, publish awaited with acks=all,
# receipt, telemetry on) against a bare Kestrel endpoint that answers 202 and does nothing else, both driven by wrk
# with the same connections and the same requests, alternated round by round in one run on this machine.
# Prints each round, the medians and their ratio. Needs wrk (apt-get install wrk) and the PostgreSQL binaries.
#
#   benchmarks/ingestion.sh                 # 3 rounds of 10 s each, 128 connections
#   ROUNDS=5 DURATION=20s CONNECTIONS=256 benchmarks/ingestion.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-128}
THREADS=${THREADS:-2}
BASELINE_PORT=${BASELINE_PORT:-5070}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh

cleanup() {
  [ -n "${apphost_pid:-}" ] && stop_process "$apphost_pid"
  [ -n "${baseline_pid:-}" ] && stop_process "$baseline_pid"
}
trap cleanup EXIT

# The system with one consumer, which has next to nothing to do: the policy has quantity for every request, and the
# consumers' work is measured by the end-to-end benchmark.
start_apphost /tmp/couponaspire-ingestion-system.log --ConsumerReplicas=1
api=$(cat .couponaspire/api-url)
export TOKEN
TOKEN=$(cat .couponaspire/admin.token)
policy=$(curl -sf -X POST "$api/api/coupon-policies" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"Ingestion benchmark","totalQuantity":2000000000}' | sed -E 's/.*"id":([0-9]+).*/\1/')
export REQUEST_PATH="/api/coupon-policies/$policy/requests"

dotnet CouponAspire.Benchmarks/bin/Release/net10.0/CouponAspire.Benchmarks.dll baseline-server --port "$BASELINE_PORT" > /dev/null 2>&1 &
baseline_pid=$!
sleep 2
baseline="http://127.0.0.1:$BASELINE_PORT"

run() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" -s benchmarks/issue-request.lua "$2"; }
rate() { awk '/Requests\/sec/ {print $2}'; }
errors() { awk '/Non-2xx/ {print $5}'; }

# Warm both up (JIT tiers, connection pools, the mock broker's partitions).
run 20s "$baseline" >/dev/null
run 20s "$api" >/dev/null

api_rates=(); baseline_rates=()
for round in $(seq 1 "$ROUNDS"); do
  b=$(run "$DURATION" "$baseline"); a=$(run "$DURATION" "$api")
  baseline_rates+=("$(echo "$b" | rate)"); api_rates+=("$(echo "$a" | rate)")
  non2xx=$(echo "$a" | errors)
  echo "round $round: baseline $(echo "$b" | rate) req/s, api $(echo "$a" | rate) req/s (non-2xx: ${non2xx:-0})"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
b=$(median "${baseline_rates[@]}"); a=$(median "${api_rates[@]}")
echo "median baseline: $b req/s"
echo "median api:      $a req/s"
echo "ratio api/baseline: $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a/b}')"
