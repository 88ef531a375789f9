#!/usr/bin/env bash
# Whether the load generator, not the system, sets the pace: on one running system (`dotnet run --project
# CouponAspire.AppHost`), rounds of the load generator (a fresh user per request, each with a token of their own, over
# policies covering every partition) alternated with rounds of wrk (-t2 -c128, one administrator's token) on the same
# policies. Between rounds the consumers catch up, so that each round starts on a drained system. Prints each round,
# then the median rates and loadgen/wrk last.
#
#   benchmarks/loadgen-rate.sh                       # 3 rounds of 15 s each
#   ROUNDS=5 DURATION=20 benchmarks/loadgen-rate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
CONCURRENCY=${CONCURRENCY:-128}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is needed: apt-get install jq" >&2; exit 2; }
dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh
trap '[ -n "${apphost_pid:-}" ] && stop_process "$apphost_pid"' EXIT
start_apphost /tmp/couponaspire-loadgen-rate.log
api=$(cat .couponaspire/api-url)
export TOKEN
TOKEN=$(cat .couponaspire/admin.token)

# run_loadgen REPORT: a sale of fresh users, at full speed for DURATION seconds, over policies no one sells out.
run_loadgen() {
  dotnet CouponAspire.LoadGenerator/bin/Release/net10.0/CouponAspire.LoadGenerator.dll --plain --report-json "$1" \
    --quantity 2000000000 --duration "$DURATION" --requests 1000000 --users 1000000 --concurrency "$CONCURRENCY" > "$1.out" \
    || { tail -40 "$1.out"; exit 1; }
}

# issued POLICIES: coupons issued so far over the policies (the consumers' progress).
issued() {
  local total=0 id
  for id in ${1//,/ }; do
    total=$((total + $(curl -sf "$api/api/coupon-policies/$id" | jq .issuedCount)))
  done
  echo "$total"
}

# drained POLICIES: waits until no more coupons are issued for a second (wrk's requests decided).
drained() {
  local before after
  after=$(issued "$1")
  while true; do sleep 1; before=$after; after=$(issued "$1"); [[ "$after" == "$before" ]] && return; done
}

# Warm-up: JIT, connection pools, the group's first batches.
run_loadgen /tmp/couponaspire-loadgen-rate-warmup.json

loadgen_rates=(); wrk_rates=()
for round in $(seq 1 "$ROUNDS"); do
  report=/tmp/couponaspire-loadgen-rate-$round.json
  run_loadgen "$report"
  policies=$(jq -r '[.policies[].id] | join(",")' "$report")
  held=$(jq -r .held "$report")
  l=$(jq -r .requestsPerSecond "$report")
  w=$(POLICIES=$policies wrk -t2 -c"$CONCURRENCY" -d"${DURATION}s" -s benchmarks/issue-request.lua "$api" | awk '/Requests\/sec/ {print $2}')
  drained "$policies"
  loadgen_rates+=("$l"); wrk_rates+=("$w")
  printf 'round %d: loadgen %.0f requests/s (held: %s), wrk %.0f requests/s, ratio %.2f\n' "$round" "$l" "$held" "$w" "$(awk -v a="$l" -v b="$w" 'BEGIN {print a/b}')"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
l=$(median "${loadgen_rates[@]}"); w=$(median "${wrk_rates[@]}")
printf 'median loadgen: %.0f requests/s\n' "$l"
printf 'median wrk:     %.0f requests/s\n' "$w"
printf 'ratio loadgen/wrk: %.2f\n' "$(awk -v a="$l" -v b="$w" 'BEGIN {print a/b}')"
