#!/usr/bin/env bash
# stop.sh STATE_DIR: stops only the Apache that start.sh started there (its pid file).
set -uo pipefail
STATE_DIR="${1:?usage: $0 STATE_DIR}"
PIDFILE="$STATE_DIR/run/httpd.pid"
# alive = exists and is not a zombie: where pid 1 does not reap orphans, an exited
# httpd lingers as <defunct> and would fool a bare kill -0.
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$1/stat"; }
[ -s "$PIDFILE" ] || { echo "no pid file at $PIDFILE"; exit 0; }
PID="$(cat "$PIDFILE")"
if alive "$PID"; then
  # the parent httpd takes its children and cgid down with it
  kill -TERM "$PID"
  for _ in $(seq 1 100); do alive "$PID" || break; sleep 0.1; done
  if alive "$PID"; then echo "apache $PID still running after 10 s, sending KILL" >&2; kill -KILL "$PID"; fi
fi
rm -f "$PIDFILE"
echo "stopped apache $PID"
