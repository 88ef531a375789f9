#!/usr/bin/env bash
# The dashboard's flash sale (the load generator's Start: 25 s at full speed, 12 policies of 1,500 coupons, 256 virtual
# users), through `dotnet run --project CouponAspire.AppHost`, started afresh for each result mode: every user clicks
# and learns the result as RESULTS says (wait: the request itself with Prefer: wait; get: the 202, then a GET with
# Prefer: wait; events: server-sent events; poll: a GET every 250 ms).
# Prints for each: click→result p50/p99 (all clicks, and p99 of those clicked after the first second), accepted→decided
# p50/p99, PostgreSQL transactions per accepted request (all services together, pg_stat_database before and after), and
# the requests accepted after their policy's last coupon.
#
#   benchmarks/sale.sh                           # wait, get, then poll
#   RESULTS="wait events poll" CONCURRENCY=64 benchmarks/sale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=${RESULTS:-wait get poll}
CONCURRENCY=${CONCURRENCY:-256}

command -v psql >/dev/null || { echo "psql is needed: apt-get install postgresql-client" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is needed: apt-get install jq" >&2; exit 2; }
dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh
trap '[[ -n "${apphost_pid:-}" ]] && stop_process "$apphost_pid"' EXIT

for result in $RESULTS; do
  start_apphost "/tmp/couponaspire-sale-$result.log"
  db=$(cat .couponaspire/coupondb)
  q() { psql "host=$(sed -E 's/.*Host=([^;]*).*/\1/' <<<"$db") port=$(sed -E 's/.*Port=([^;]*).*/\1/' <<<"$db") user=postgres dbname=coupondb" -At -c "$1"; }
  transactions="SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'coupondb'"
  before=$(q "$transactions")
  report="/tmp/couponaspire-sale-$result.json"
  dotnet CouponAspire.LoadGenerator/bin/Release/net10.0/CouponAspire.LoadGenerator.dll --plain --json "$report" --result "$result" \
    --duration 25 --quantity 1500 --requests 400000 --users 320000 --concurrency "$CONCURRENCY" > "/tmp/couponaspire-sale-$result.out" \
    || { tail -n 40 "/tmp/couponaspire-sale-$result.out"; exit 1; }
  after=$(q "$transactions")
  stop_process "$apphost_pid"; apphost_pid=
  jq -r --arg result "$result" --argjson tx $((after - before)) '
    "\($result): \(.accepted) accepted (\(.acceptedPerSecond | round)/s); click→result p50 \(.clickToResultMs.p50 | round) ms, p99 \(.clickToResultMs.p99 | round) ms " +
    "(clicked after 1 s: p99 \(.clickToResultAfterFirstSecondMs.p99 | round) ms); " +
    "accepted→decided p50 \(.acceptedToDecidedMs.p50 | round) ms, p99 \(.acceptedToDecidedMs.p99 | round) ms; " +
    "\($tx) PostgreSQL transactions, \(($tx / .accepted * 1000 | round) / 1000) per accepted; " +
    "accepted after sold out \([.policies[].acceptedAfterSoldOut // 0] | add); held: \(.held)"' "$report"
done
