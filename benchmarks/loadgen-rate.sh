#!/usr/bin/env bash
# Whether the load generator, not the system, sets the pace: on one running system (`dotnet run --project
# CouponAspire.AppHost`), rounds of the load generator as a user runs it (its default 256 workers, a fresh user per
# request, each with a token of their own, over policies covering every partition) alternated with rounds of wrk (-t2
# -c128, one administrator's token) on the same policies. Between runs the consumers catch up, so that each starts on
# a drained system. The mock cluster gets slower as its partitions fill (it walks a partition's batches to find an
# offset), so the order alternates round by round (loadgen first, then wrk first) and each round's ratio compares
# neighbours. Prints each round, then the median rates
# and the median of the rounds' loadgen/wrk ratios last.
#
#   benchmarks/loadgen-rate.sh                       # 4 rounds of 10 s each
#   ROUNDS=6 DURATION=15 benchmarks/loadgen-rate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-128}                  # wrk's connections
LOADGEN_CONCURRENCY=${LOADGEN_CONCURRENCY:-256}  # the load generator's workers (its default)

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
    --quantity 2000000000 --duration "$DURATION" --requests 1000000 --users 1000000 --concurrency "$LOADGEN_CONCURRENCY" > "$1.out" \
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

# run_wrk POLICIES: wrk on the policies for DURATION seconds; prints its rate once the consumers have caught up.
run_wrk() {
  local rate
  rate=$(POLICIES=$1 wrk -t2 -c"$CONCURRENCY" -d"${DURATION}s" -s benchmarks/issue-request.lua "$api" | awk '/Requests\/sec/ {print $2}')
  drained "$1"
  echo "$rate"
}

# The warm-up's policies are wrk's in every round: open, with quantity for every request, one on each partition.
policies=$(jq -r '[.policies[].id] | join(",")' /tmp/couponaspire-loadgen-rate-warmup.json)
loadgen_rates=(); wrk_rates=(); ratios=()
for round in $(seq 1 "$ROUNDS"); do
  report=/tmp/couponaspire-loadgen-rate-$round.json
  if (( round % 2 == 1 )); then
    run_loadgen "$report"; w=$(run_wrk "$policies"); order="loadgen, then wrk"
  else
    w=$(run_wrk "$policies"); run_loadgen "$report"; order="wrk, then loadgen"
  fi
  held=$(jq -r .held "$report")
  l=$(jq -r .requestsPerSecond "$report")
  r=$(awk -v a="$l" -v b="$w" 'BEGIN {print a/b}')
  loadgen_rates+=("$l"); wrk_rates+=("$w"); ratios+=("$r")
  printf 'round %d (%s): loadgen %.0f requests/s (held: %s), wrk %.0f requests/s, ratio %.2f\n' "$round" "$order" "$l" "$held" "$w" "$r"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
l=$(median "${loadgen_rates[@]}"); w=$(median "${wrk_rates[@]}")
printf 'median loadgen: %.0f requests/s\n' "$l"
printf 'median wrk:     %.0f requests/s\n' "$w"
printf 'ratio loadgen/wrk (median of the rounds): %.2f\n' "$(median "${ratios[@]}")"
