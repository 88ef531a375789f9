#!/usr/bin/env bash
# Decision latency from fresh starts: STARTS times, `dotnet run --project CouponAspire.AppHost` started afresh (three
# consumer replicas, 12 partitions) and, as soon as it says it is ready, the load generator's flash sale over 8
# policies at full speed — so the first sale after a start is the one measured. Prints each start's accepted→decided
# p50/p99 and drain (the last decision after the last acceptance), then their medians.
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
    --policies 8 --quantity 2000 --requests "$REQUESTS" --users $((REQUESTS * 4 / 5)) --concurrency "$CONCURRENCY" \
    > "/tmp/couponaspire-latency-$start.out"
  stop_process "$apphost_pid"; apphost_pid=
  read -r rate p50 p99 drain < <(jq -r '[(.sending.acceptedPerSecond // 0), .decisionLatencyMs.p50, .decisionLatencyMs.p99, (.drainSeconds * 1000)] | @tsv' "$report")
  p50s+=("$p50"); p99s+=("$p99"); drains+=("$drain")
  printf 'start %d: accepted→decided p50 %.0f ms, p99 %.0f ms; drain %.0f ms; %.0f accepted/s\n' "$start" "$p50" "$p99" "$drain" "$rate"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf 'median over %d starts: p50 %.0f ms, p99 %.0f ms, drain %.0f ms\n' "$STARTS" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")" "$(median "${drains[@]}")"
