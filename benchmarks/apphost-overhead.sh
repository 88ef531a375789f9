#!/usr/bin/env bash
# What running under the AppHost costs the API: on one running system (`dotnet run --project CouponAspire.AppHost`, with
# the AppHost settings given as arguments), rounds of wrk (-t2 -c128, one administrator's token, 12 policies no one sells
# out) against the API as the AppHost runs it, alternated with the same Release build of the API started by hand beside
# the same Kafka, PostgreSQL and consumer replicas (no dashboard to export to, no orchestrator). Between rounds the
# consumers catch up. Also prints the rate of the first 10 s after the start (cold: JIT, pools), before any warm-up.
#
#   benchmarks/apphost-overhead.sh                          # the AppHost as the README runs it
#   benchmarks/apphost-overhead.sh --ProxyApi=true          # what the orchestrator's proxy in front of the API costs
#   benchmarks/apphost-overhead.sh --TracesPerSecond=0      # what exporting every trace to the dashboard costs
#   ROUNDS=6 DURATION=20 benchmarks/apphost-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-15}
HAND_PORT=${HAND_PORT:-5081}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is needed: apt-get install jq" >&2; exit 2; }
dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh
cleanup() {
  [ -n "${hand_pid:-}" ] && stop_process "$hand_pid"
  [ -n "${apphost_pid:-}" ] && stop_process "$apphost_pid"
}
trap cleanup EXIT
start_apphost /tmp/couponaspire-apphost-overhead.log "$@"
api=$(cat .couponaspire/api-url)
export TOKEN
TOKEN=$(cat .couponaspire/admin.token)

ids=()
for i in $(seq 1 12); do
  ids+=("$(curl -sf -X POST "$api/api/coupon-policies" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"AppHost overhead $i\",\"totalQuantity\":2000000000}" | jq .id)")
done
export POLICIES
POLICIES=$(IFS=,; echo "${ids[*]}")

# The same build, by hand: the AppHost's Kafka and database, the API's settings (its appsettings.json: the content root
# is its project folder, as under the AppHost), nothing else.
signing_key=$(cat .couponaspire/signing-key)
ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://localhost:$HAND_PORT" \
  ConnectionStrings__kafka="$(cat .couponaspire/kafka)" ConnectionStrings__coupondb="$(cat .couponaspire/coupondb)" \
  CouponEvents__Partitions=12 CouponApi__RequestIds__Key="$signing_key" \
  Authentication__Schemes__Bearer__ValidIssuer=couponaspire-dev Authentication__Schemes__Bearer__ValidAudiences__0=couponaspire-api \
  Authentication__Schemes__Bearer__SigningKeys__0__Issuer=couponaspire-dev Authentication__Schemes__Bearer__SigningKeys__0__Value="$signing_key" \
  CouponAspire.Api/bin/Release/net10.0/CouponAspire.Api --contentRoot "$PWD/CouponAspire.Api" > /tmp/couponaspire-api-by-hand.log 2>&1 &
hand_pid=$!
hand="http://localhost:$HAND_PORT"
for _ in $(seq 1 60); do curl -sf -o /dev/null "$hand/health" && break; sleep 1; done

rate() { wrk -t2 -c128 -d"$2" -s benchmarks/issue-request.lua "$1" | awk '/Requests\/sec/ {print $2}'; }
issued() { local total=0 id; for id in "${ids[@]}"; do total=$((total + $(curl -sf "$api/api/coupon-policies/$id" | jq .issuedCount))); done; echo "$total"; }
drained() { local before after; after=$(issued); while true; do sleep 1; before=$after; after=$(issued); [[ "$after" == "$before" ]] && return; done; }

cold=$(rate "$api" 10s); drained
echo "cold, the first 10 s after the start: apphost $cold requests/s"
rate "$hand" 10s >/dev/null; drained   # the hand-started one warms up too

# The mock cluster gets slower as its partitions fill (it walks a partition's batches to find an offset): the order
# alternates round by round, and each round's ratio compares neighbours.
apphost_rates=(); hand_rates=(); ratios=()
for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 == 1 )); then
    a=$(rate "$api" "${DURATION}s"); drained; h=$(rate "$hand" "${DURATION}s"); drained; order="apphost first"
  else
    h=$(rate "$hand" "${DURATION}s"); drained; a=$(rate "$api" "${DURATION}s"); drained; order="by hand first"
  fi
  r=$(awk -v a="$a" -v b="$h" 'BEGIN {print a/b}')
  apphost_rates+=("$a"); hand_rates+=("$h"); ratios+=("$r")
  printf 'round %d (%s): apphost %.0f requests/s, by hand %.0f requests/s, ratio %.2f\n' "$round" "$order" "$a" "$h" "$r"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf 'median apphost: %.0f requests/s\n' "$(median "${apphost_rates[@]}")"
printf 'median by hand: %.0f requests/s\n' "$(median "${hand_rates[@]}")"
printf 'ratio apphost/by hand (median of the rounds): %.2f\n' "$(median "${ratios[@]}")"
