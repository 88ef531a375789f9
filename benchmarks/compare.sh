#!/usr/bin/env bash
# The system as `dotnet run --project CouponAspire.AppHost` runs it, against the same Release build started by hand
# (`CouponAspire.Benchmarks by-hand`: its own PostgreSQL, durable like the AppHost's, its own mock cluster with the same
# partitions, the migration worker, the API and the same number of consumers; no orchestrator, no dashboard, no export),
# one after the other, each under the same wrk: 12 policies no one sells out, a fresh user per request, as fast as the
# API answers. Two windows each: the first COLD seconds after the system said it was ready (cold), then WARM seconds
# after that (warm).
# For each window: requests accepted a second, requests decided, accepted→decided p50/p99 and the drain (from the
# database, once every request is decided), and the CPU each part of the machine spent per decided request, from /proc.
#
# What telemetry costs, by hand: by-hand-otlp exports every service's metrics, traces (sampled as the services sample
# them) and logs to a standalone Aspire dashboard over OTLP; by-hand-no-telemetry runs with OTEL_SDK_DISABLED=true.
#
#   benchmarks/compare.sh                                   # the AppHost as the README runs it, and by hand
#   SYSTEMS="by-hand by-hand-otlp by-hand-no-telemetry" benchmarks/compare.sh --environment Production
#   SYSTEMS="apphost" benchmarks/compare.sh --TracesPerSecond=0                # the AppHost, with AppHost settings
#   COLD=15 WARM=10 CONNECTIONS=128 benchmarks/compare.sh
#   PER_SECOND=1 SYSTEMS=by-hand benchmarks/compare.sh     # also each second's requests, p50, p99 and max
# Arguments go to the AppHost (apphost) or to the by-hand systems. Needs wrk and psql.
set -euo pipefail
cd "$(dirname "$0")/.."
COLD=${COLD:-15}
WARM=${WARM:-10}
CONNECTIONS=${CONNECTIONS:-128}
SYSTEMS=${SYSTEMS:-apphost by-hand}
HAND_FOLDER=.couponaspire-by-hand

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
command -v psql >/dev/null || { echo "psql is needed: apt-get install postgresql-client" >&2; exit 2; }
dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh
trap '[[ -n "${system_pid:-}" ]] && stop_process "$system_pid"; [[ -n "${dashboard_pid:-}" ]] && stop_process "$dashboard_pid"' EXIT

# A standalone Aspire dashboard (the one the AppHost runs, from the NuGet cache) receiving OTLP over gRPC.
start_dashboard() {
  local binary
  binary=$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/aspire.dashboard.sdk.linux-x64 -path '*/tools/Aspire.Dashboard' -type f | sort -V | tail -n 1)
  [[ -n "$binary" ]] || { echo "the Aspire dashboard is not in the NuGet cache (build the AppHost first)" >&2; return 1; }
  ASPNETCORE_URLS=http://127.0.0.1:18890 ASPNETCORE_ENVIRONMENT=Production DOTNET_DASHBOARD_OTLP_ENDPOINT_URL=http://127.0.0.1:18891 \
    DASHBOARD__OTLP__AUTHMODE=Unsecured DASHBOARD__FRONTEND__AUTHMODE=Unsecured "$binary" >/tmp/couponaspire-dashboard.log 2>&1 &
  dashboard_pid=$!
  for _ in $(seq 1 60); do curl -sf -o /dev/null http://127.0.0.1:18890 && return 0; sleep 1; done
  cat /tmp/couponaspire-dashboard.log; return 1
}

start_by_hand() {
  rm -f "$HAND_FOLDER/admin.token"
  dotnet CouponAspire.Benchmarks/bin/Release/net10.0/CouponAspire.Benchmarks.dll by-hand --folder "$HAND_FOLDER" "$@" >/tmp/couponaspire-by-hand.log 2>&1 &
  system_pid=$!
  for _ in $(seq 1 180); do
    [[ -s $HAND_FOLDER/admin.token ]] && return 0
    kill -0 "$system_pid" 2>/dev/null || { cat /tmp/couponaspire-by-hand.log; return 1; }
    sleep 1
  done
  cat /tmp/couponaspire-by-hand.log; return 1
}

# One window of wrk against the system whose credentials are in $folder: prints the figures as one row.
window() {
  local system=$1 name=$2 seconds=$3 label="$1, $2 ($3 s)" start end out sent refused accepted
  start=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  wrk -t2 -c"$CONNECTIONS" -d"${seconds}s" -s benchmarks/issue-request.lua "$api" >/tmp/couponaspire-wrk.out &
  local wrk_pid=$!
  # Every part's CPU over the window but its first half second and its last three seconds, while wrk still runs. The
  # snapshots run at the highest priority (as root): starved on a saturated machine, one took seconds to read /proc.
  local t0 t1 t2
  t0=$(date +%s.%N)
  sleep 0.5; t1=$(date +%s.%N); nice -n -20 python3 benchmarks/cpu.py snapshot /tmp/couponaspire-cpu-before 2>/dev/null
  sleep "$(awk -v s="$seconds" -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN {d = t0 + s - 3 - now; print (d > 0 ? d : 0)}')"
  t2=$(date +%s.%N); nice -n -20 python3 benchmarks/cpu.py snapshot /tmp/couponaspire-cpu-after 2>/dev/null
  kill -0 "$wrk_pid" 2>/dev/null || echo "wrk ended before the window's CPU was read: its CPU is missing" >&2
  wait "$wrk_pid"
  end=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  out=$(cat /tmp/couponaspire-wrk.out)
  sent=$(awk '/requests in/ {print $1}' <<<"$out")
  refused=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  accepted=$((sent - ${refused:-0}))
  local where="policy_id IN ($POLICIES) AND requested_at BETWEEN '$start' AND '$end'"
  for _ in $(seq 1 120); do
    [[ $(q "SELECT count(*) FROM request_outcomes WHERE $where") -ge $accepted ]] && break
    sleep 1
  done
  read -r decided p50 p99 drain < <(q "
    SELECT count(*),
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at) * 1000)::numeric),
           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at) * 1000)::numeric),
           round((extract(epoch FROM max(decided_at) - max(requested_at)) * 1000)::numeric)
    FROM request_outcomes WHERE $where")
  if [[ -n "${PER_SECOND:-}" ]]; then
    q "SELECT to_char(date_trunc('second', requested_at), 'HH24:MI:SS'), count(*),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at) * 1000)::numeric),
              round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at) * 1000)::numeric),
              round(max(extract(epoch FROM decided_at - requested_at) * 1000)::numeric)
       FROM request_outcomes WHERE $where GROUP BY 1 ORDER BY 1" |
      awk -v label="$label" '{printf "  %s, requested in %s: %6d requests, accepted→decided p50 %4d ms, p99 %4d, max %4d\n", label, $1, $2, $3, $4, $5}' >&2
  fi
  local cpu
  cpu=$(python3 benchmarks/cpu.py diff /tmp/couponaspire-cpu-before /tmp/couponaspire-cpu-after)
  # The decisions of the measured part of the window.
  local measured
  measured=$(awk -v d="$decided" -v s="$seconds" -v t1="$t1" -v t2="$t2" 'BEGIN {print d * (t2 - t1) / s}')
  per() { awk -v n="$1" -v d="$measured" '$1 == n {printf "%.0f", $2 * 1e6 / (d > 0 ? d : 1); found=1} END {if (!found) printf "0"}' <<<"$cpu"; }
  local total
  total=$(awk -v d="$measured" '{s += $2} END {printf "%.0f", s * 1e6 / (d > 0 ? d : 1)}' <<<"$cpu")
  printf '%-22s %8.0f %8d %6s %6s %6s | %5s %5s %5s %5s %5s %5s %5s %5s | %6s\n' "$label" "$(awk -v a="$accepted" -v s="$seconds" 'BEGIN {print a/s}')" \
    "$decided" "$p50" "$p99" "$drain" "$(per api)" "$(per consumers)" "$(per postgres)" "$(per kafka)" "$(per dashboard)" "$(per orchestrator)" "$(per wrk)" "$(per other)" "$total"
  echo "$system $name $(awk -v a="$accepted" -v s="$seconds" 'BEGIN {print a/s}')" >>/tmp/couponaspire-compare-rates
}

: >/tmp/couponaspire-compare-rates
printf '%-22s %8s %8s %6s %6s %6s | %-47s | %6s\n' "" "acc./s" "decided" "p50" "p99" "drain" "CPU µs per decided request" "total"
printf '%-22s %8s %8s %6s %6s %6s | %5s %5s %5s %5s %5s %5s %5s %5s | %6s\n' "system, window" "" "" "ms" "ms" "ms" "api" "cons." "pg" "kafka" "dash." "orch." "wrk" "other" "µs"
for system in $SYSTEMS; do
  case $system in
    apphost) start_apphost /tmp/couponaspire-compare-apphost.log "$@"; system_pid=$apphost_pid; folder=.couponaspire ;;
    by-hand) start_by_hand "$@"; folder=$HAND_FOLDER ;;
    by-hand-otlp) start_dashboard; start_by_hand --otlp http://127.0.0.1:18891 "$@"; folder=$HAND_FOLDER ;;
    by-hand-no-telemetry) start_by_hand --set OTEL_SDK_DISABLED=true "$@"; folder=$HAND_FOLDER ;;
    *) echo "unknown system $system" >&2; exit 2 ;;
  esac
  api=$(cat "$folder/api-url")
  db=$(cat "$folder/coupondb")
  q() { psql "host=$(sed -E 's/.*Host=([^;]*).*/\1/' <<<"$db") port=$(sed -E 's/.*Port=([^;]*).*/\1/' <<<"$db") user=postgres dbname=coupondb" -At -F' ' -c "$1"; }
  export TOKEN
  TOKEN=$(cat "$folder/admin.token")
  ids=()
  for i in $(seq 1 12); do
    ids+=("$(curl -sf -X POST "$api/api/coupon-policies" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "{\"name\":\"Compare $i\",\"totalQuantity\":2000000000}" | sed -E 's/.*"id":([0-9]+).*/\1/')")
  done
  export POLICIES
  POLICIES=$(IFS=,; echo "${ids[*]}")
  window "$system" cold "$COLD"
  window "$system" warm "$WARM"
  stop_process "$system_pid"; system_pid=
  if [[ -n "${dashboard_pid:-}" ]]; then stop_process "$dashboard_pid"; dashboard_pid=; fi
done

# The ratios to the plain by-hand system, where it ran.
awk '{rate[$1, $2] = $3} END {
  for (w in rate) { split(w, k, SUBSEP); if (k[1] != "by-hand" && rate["by-hand", k[2]] > 0) printf "accepted/s, %s / by-hand, %s: %.2f\n", k[1], k[2], rate[w] / rate["by-hand", k[2]] } }' /tmp/couponaspire-compare-rates
