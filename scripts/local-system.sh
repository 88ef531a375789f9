# Sourced by scripts that run against the no-Docker system (CouponAspire.LocalRun, built in Release).
#
#   start_local_system LOG [LocalRun options...]   starts it in the background and waits until it is ready;
#                                                  sets local_system_pid; prints LOG and fails if it is not ready
#   stop_process PID                               SIGTERM, up to 30 s to finish, then SIGKILL

stop_process() {
  # SIGTERM, not SIGINT: a background job of a non-interactive shell ignores SIGINT.
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 30); do kill -0 "$1" 2>/dev/null || break; sleep 1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

start_local_system() {
  local log=$1; shift
  # admin.token is the last file LocalRun writes to .localrun/ once the system is ready.
  rm -f .localrun/admin.token
  dotnet CouponAspire.LocalRun/bin/Release/net10.0/CouponAspire.LocalRun.dll "$@" >"$log" 2>&1 &
  local_system_pid=$!
  for _ in $(seq 1 120); do
    [[ -s .localrun/admin.token ]] && return 0
    if ! kill -0 "$local_system_pid" 2>/dev/null; then
      cat "$log"
      echo "the local system exited before it was ready" >&2
      return 1
    fi
    sleep 1
  done
  cat "$log"
  echo "the local system was not ready within 120 s" >&2
  return 1
}
