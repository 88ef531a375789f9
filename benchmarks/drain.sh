#!/usr/bin/env bash
# The pipeline at the API's top rate: `dotnet run --project CouponAspire.AppHost` (3 consumer replicas, 12 partitions),
# 12 policies with quantity for every request (one a partition, so that every replica has work), then wrk on the request
# endpoint for DURATION with CONNECTIONS connections as fast as the API answers. Once the consumers have decided every
# accepted request: from the stored requested_at/decided_at, accepted→decided p50/p99/max, and the drain (the last
# decision after the last acceptance). Prints the API's rate, the figures and whether the goals hold (p99 < 250 ms,
# drain < 1 s). Needs wrk (apt-get install wrk) and psql.
#
#   benchmarks/drain.sh                          # 15 s, 128 connections
#   DURATION=30s CONNECTIONS=256 benchmarks/drain.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-128}
POLICIES=${POLICIES:-12}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
command -v psql >/dev/null || { echo "psql is needed: apt-get install postgresql-client" >&2; exit 2; }
dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh
trap '[ -n "${apphost_pid:-}" ] && stop_process "$apphost_pid"' EXIT

start_apphost /tmp/couponaspire-drain.log
api=$(cat .couponaspire/api-url)
export TOKEN
TOKEN=$(cat .couponaspire/admin.token)
ids=()
for i in $(seq 1 "$POLICIES"); do
  ids+=("$(curl -sf -X POST "$api/api/coupon-policies" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"Drain $i\",\"totalQuantity\":2000000000}" | sed -E 's/.*"id":([0-9]+).*/\1/')")
done
export POLICIES
POLICIES=$(IFS=,; echo "${ids[*]}")

out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s benchmarks/issue-request.lua "$api")
rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
sent=$(awk '/requests in/ {print $1}' <<<"$out")
refused=$(awk '/Non-2xx/ {print $5}' <<<"$out")
accepted=$((sent - ${refused:-0}))

# The database the AppHost's consumers write to (a throwaway cluster of the machine's PostgreSQL, trust on 127.0.0.1).
db=$(cat .couponaspire/coupondb)
q() { psql "host=$(sed -E 's/.*Host=([^;]*).*/\1/' <<<"$db") port=$(sed -E 's/.*Port=([^;]*).*/\1/' <<<"$db") user=postgres dbname=coupondb" -At -F' ' -c "$1"; }
where="policy_id IN ($POLICIES)"
for _ in $(seq 1 120); do
  [[ $(q "SELECT count(*) FROM request_outcomes WHERE $where") -ge $accepted ]] && break
  sleep 1
done
read -r decided p50 p99 max drain < <(q "
  SELECT count(*),
         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at) * 1000)::numeric),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at) * 1000)::numeric),
         round(max(extract(epoch FROM decided_at - requested_at) * 1000)::numeric),
         round((extract(epoch FROM max(decided_at) - max(requested_at)) * 1000)::numeric)
  FROM request_outcomes WHERE $where")

printf 'wrk %s, %s connections: %s requests/s, %s accepted, %s decided\n' "$DURATION" "$CONNECTIONS" "$rate" "$accepted" "$decided"
printf 'accepted→decided p50 %s ms, p99 %s ms, max %s ms; drain %s ms\n' "$p50" "$p99" "$max" "$drain"
held=true
# wrk counts the requests it saw answered; those in flight when it stopped were accepted too, so decided ≥ accepted.
[[ $decided -ge $accepted ]] || { echo "not every accepted request was decided"; held=false; }
((p99 < 250)) || { echo "p99 is not under 250 ms"; held=false; }
((drain < 1000)) || { echo "the drain took 1 s or more"; held=false; }
echo "goals (p99 < 250 ms, drain < 1 s) held: $held"
