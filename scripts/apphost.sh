# Sourced by scripts that run against the system as the AppHost runs it (built in Release).
#
#   start_apphost LOG [AppHost settings...]   starts `dotnet run --project CouponAspire.AppHost` in the background and
#                                             waits until it says it is ready (the API and every consumer replica
#                                             healthy, .couponaspire/admin.token written); sets apphost_pid
#   stop_process PID                          SIGTERM, up to 60 s to stop everything it started, then SIGKILL

stop_process() {
  # SIGTERM, not SIGINT: a background job of a non-interactive shell ignores SIGINT.
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$1" 2>/dev/null || break; sleep 1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

start_apphost() {
  local log=$1; shift
  rm -f .couponaspire/admin.token
  dotnet run --project CouponAspire.AppHost -c Release --no-build -- "$@" >"$log" 2>&1 &
  apphost_pid=$!
  for _ in $(seq 1 180); do
    [[ -s .couponaspire/admin.token ]] && return 0
    if ! kill -0 "$apphost_pid" 2>/dev/null; then
      cat "$log"
      echo "the AppHost exited before it was ready" >&2
      return 1
    fi
    sleep 1
  done
  cat "$log"
  echo "the AppHost was not ready within 180 s" >&2
  return 1
}
