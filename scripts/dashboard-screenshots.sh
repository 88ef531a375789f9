#!/usr/bin/env bash
# The README's dashboard tour: starts the system with `dotnet run --project CouponAspire.AppHost` (its dashboard without
# a login, on loopback, for the browser), starts the load generator from the dashboard, and takes screenshots with
# headless Chromium driven by playwright-core. Needs chromium (apt-get install chromium) and npm.
#
#   scripts/dashboard-screenshots.sh [output folder, default docs/images]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/images}

command -v chromium >/dev/null || { echo "chromium is needed: apt-get install chromium" >&2; exit 2; }
[[ -d scripts/dashboard/node_modules/playwright-core ]] || npm ci --prefix scripts/dashboard --no-audit --no-fund
dotnet build CouponAspire.sln -c Release -nologo -v q
source scripts/apphost.sh

log=$(mktemp)
trap '[[ -n "${apphost_pid:-}" ]] && stop_process "$apphost_pid"; rm -f "$log"' EXIT
ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true start_apphost "$log"

node scripts/dashboard/screenshots.mjs http://localhost:15080 "$(cat .couponaspire/api-url)" "$(cat .couponaspire/admin.token)" "$out"
