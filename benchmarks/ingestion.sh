#!/usr/bin/env bash
# Ingestion benchmark: three endpoints at the API's request path, driven by wrk with the same connections and requests,
# alternated round by round in one run on this machine:
#   bare          Kestrel reads the body and answers 202 (no work);
#   produce-only  the same after publishing one request with the API's producer settings (acks=all, idempotent) to the
#                 AppHost's Kafka and awaiting the acknowledgement;
#   api           the API's real endpoint: JWT, the per-user rate limit, validation, the sold-out gate, the signed id,
#                 the publish, telemetry on.
# Prints each round, then the medians and the ratios api/produce-only and api/bare last.
# Needs wrk (apt-get install wrk) and the PostgreSQL binaries.
#
#   benchmarks/ingestion.sh                 # 3 rounds of 10 s each after 30 s warm-ups, 128 connections
#   ROUNDS=5 DURATION=20s WARMUP=60s CONNECTIONS=256 benchmarks/ingestion.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-30s}
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

dotnet CouponAspire.Benchmarks/bin/Release/net10.0/CouponAspire.Benchmarks.dll baseline-server --port "$BASELINE_PORT" \
  --kafka "$(cat .couponaspire/kafka)" > /dev/null 2>&1 &
baseline_pid=$!
baseline="http://127.0.0.1:$BASELINE_PORT"
for _ in $(seq 1 30); do curl -s -o /dev/null "$baseline" && break; sleep 1; done

# run DURATION URL PATH
run() { REQUEST_PATH=$3 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" -s benchmarks/issue-request.lua "$2$3"; }
rate() { awk '/Requests\/sec/ {print $2}'; }
errors() { awk '/Non-2xx/ {print $5}'; }
path="/api/coupon-policies/$policy/requests"

# Warm each up (tiered JIT, connection pools, the mock broker's partitions).
run "$WARMUP" "$baseline" "$path" >/dev/null
run "$WARMUP" "$baseline" "/produce-only$path" >/dev/null
run "$WARMUP" "$api" "$path" >/dev/null

bare_rates=(); produce_rates=(); api_rates=()
for round in $(seq 1 "$ROUNDS"); do
  b=$(run "$DURATION" "$baseline" "$path")
  p=$(run "$DURATION" "$baseline" "/produce-only$path")
  a=$(run "$DURATION" "$api" "$path")
  bare_rates+=("$(echo "$b" | rate)"); produce_rates+=("$(echo "$p" | rate)"); api_rates+=("$(echo "$a" | rate)")
  echo "round $round: bare $(echo "$b" | rate), produce-only $(echo "$p" | rate), api $(echo "$a" | rate) req/s" \
       "(non-2xx: produce-only $(echo "$p" | errors), api $(echo "$a" | errors))"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
b=$(median "${bare_rates[@]}"); p=$(median "${produce_rates[@]}"); a=$(median "${api_rates[@]}")
echo "median bare:         $b req/s"
echo "median produce-only: $p req/s"
echo "median api:          $a req/s"
echo "ratio api/produce-only: $(ratio "$a" "$p")"
echo "ratio api/bare:         $(ratio "$a" "$b")"
