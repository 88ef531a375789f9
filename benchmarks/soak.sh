#!/usr/bin/env bash
# The long run, through the AppHost as the README runs it: `dotnet run --project CouponAspire.AppHost`, then the soak
# tool (CouponAspire.Soak) against it — sales one after another at a steady rate, each judged by the load generator
# (invariants, and each policy's order against coupon-events), a consumer replica stopped and started every minute and
# the API restarted once (through the Aspire CLI), the system sampled every 10 s (decisions/s, accepted→decided p99,
# consumer lag, each process's working set and GC heap). Writes the samples, a chart and each sale's report; its last
# line is the verdict. Exit 0 only when every sale held and memory stayed flat.
#
#   benchmarks/soak.sh                        # 10 minutes at 1,500 requests/s
#   benchmarks/soak.sh --minutes 120          # hours work: the mock cluster keeps 5 MB a partition, the judgement reads
#                                             # each sale's stretch of the log soon after it
#   benchmarks/soak.sh --minutes 10 --rate 2000 --out /tmp/soak
set -euo pipefail
cd "$(dirname "$0")/.."
ASPIRE=${ASPIRE:-$(command -v aspire || echo "$HOME/.dotnet/tools/aspire")}
if [[ ! -x "$ASPIRE" ]]; then
  dotnet tool install --global Aspire.Cli --version 13.6.5 >/dev/null
  ASPIRE="$HOME/.dotnet/tools/aspire"
fi

dotnet build -c Release CouponAspire.sln -nologo -v q
source scripts/apphost.sh
trap '[ -n "${apphost_pid:-}" ] && stop_process "$apphost_pid"' EXIT
start_apphost /tmp/couponaspire-soak-apphost.log
dotnet CouponAspire.Soak/bin/Release/net10.0/CouponAspire.Soak.dll --aspire "$ASPIRE" "$@"
