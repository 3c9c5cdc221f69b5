#!/usr/bin/env bash
# stop.sh STATE_DIR: stops only the nginx master and FastCGI manager start.sh started
# (their pid files), then deletes the LemonLDAP sessions the tests made.
set -uo pipefail
STATE="${1:?usage: $0 STATE_DIR}"
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$1/stat"; }
stop_pid() {
  local name=$1 f=$2 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$pid"; then
    # nginx's master stops its workers; FCGI::ProcManager stops its workers
    kill -TERM "$pid"
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then echo "$name ($pid) still alive after 5 s, sending KILL" >&2; kill -KILL "$pid"; fi
    echo "stopped $name $pid"
  fi
  rm -f "$f"
}
stop_pid nginx "$STATE/nginx.pid"
stop_pid llng-fastcgi "$STATE/llng-fastcgi.pid"
rm -f "$STATE/run/llng.sock" "$STATE/run/llng-fastcgi.pid"
if [ "${2:-}" = --purge-sessions ]; then
  find /var/lib/lemonldap-ng/sessions /var/lib/lemonldap-ng/psessions -maxdepth 1 -type f -delete 2>/dev/null
  find /var/lib/lemonldap-ng/sessions/lock /var/lib/lemonldap-ng/psessions/lock -maxdepth 1 -type f -delete 2>/dev/null
fi
exit 0
