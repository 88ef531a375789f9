#!/usr/bin/env bash
# Decision latency from fresh starts: STARTS times, `dotnet run --project CouponAspire.AppHost` started afresh (three
# consumer replicas, 12 partitions) and, as soon as it says it is ready (the API and every consumer replica healthy: each
# fetching its share of a stable group), the load generator's flash sale over a policy per partition at full speed — so
# the first sale after a start is the one measured. Prints each start's accepted→decided p50/p99, the drain (the last
# decision after the last acceptance) and whether the sale held (invariants and order), then the medians and the worst.
#
#   benchmarks/latency.sh                         # 5 starts, 20,000 requests each
#   STARTS=3 REQUESTS=40000 benchmarks/latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
STARTS=${STARTS:-5}
REQUESTS=${REQUESTS:-20000}
CONCURRENCY=${CONCURRENCY:-64}

dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh
trap '[ -n "${apphost_pid:-}" ] && stop_process "$apphost_pid"' EXIT

p50s=(); p99s=(); drains=()
for start in $(seq 1 "$STARTS"); do
  start_apphost "/tmp/couponaspire-latency-$start.log"
  report="/tmp/couponaspire-latency-$start.json"
  dotnet CouponAspire.LoadGenerator/bin/Release/net10.0/CouponAspire.LoadGenerator.dll --plain --json "$report" \
    --quantity 2000 --requests "$REQUESTS" --users $((REQUESTS * 4 / 5)) --concurrency "$CONCURRENCY" \
    > "/tmp/couponaspire-latency-$start.out"
  stop_process "$apphost_pid"; apphost_pid=
  read -r rate p50 p99 drain held < <(jq -r '[.acceptedPerSecond, .acceptedToDecidedMs.p50, .acceptedToDecidedMs.p99, (.drainSeconds * 1000), .held] | @tsv' "$report")
  p50s+=("$p50"); p99s+=("$p99"); drains+=("$drain")
  printf 'start %d: accepted→decided p50 %.0f ms, p99 %.0f ms; drain %.0f ms; %.0f accepted/s; held: %s\n' "$start" "$p50" "$p99" "$drain" "$rate" "$held"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf 'median over %d starts: p50 %.0f ms, p99 %.0f ms, drain %.0f ms\n' "$STARTS" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")" "$(median "${drains[@]}")"
printf 'worst p99 of the %d starts: %.0f ms\n' "$STARTS" "$(printf '%s\n' "${p99s[@]}" | sort -g | tail -1)"
