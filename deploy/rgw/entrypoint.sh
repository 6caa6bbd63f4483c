#!/usr/bin/env bash
# entrypoint.sh - the object store of compose.yaml: a single-node Ceph RGW (mon + osd + radosgw)
# started by scripts/rgw-up.sh, the same launcher `make run` and the tests use, kept in the
# foreground until SIGTERM/SIGINT (then stopped with rgw-down.sh) or until a daemon dies.
#
# Environment (all optional):
#   RGW_DIR        state; a cluster set up there before is started again, not wiped
#                  (default /var/lib/rgw/cluster; RGW_RESET=1 wipes it and starts afresh)
#   RGW_PORT       S3 port (default 7480); RGW_BIND its address (default 0.0.0.0)
#   RGW_ACCESS_KEY / RGW_SECRET_KEY   the S3 user's credentials; default AWS_ACCESS_KEY_ID /
#                  AWS_SECRET_ACCESS_KEY, so a service and its store can share one env block
#   RGW_SCRIPTS    folder holding rgw-up.sh and rgw-down.sh (default: this script's folder)
#   MON_PORT_V2, MON_PORT_V1, OBJECTSTORE, BLUESTORE_SIZE ...   passed on to rgw-up.sh
# "$RGW_DIR/ready" exists while the store answers with these credentials (the healthcheck).
set -euo pipefail

export RGW_DIR=${RGW_DIR:-/var/lib/rgw/cluster}
export RGW_PORT=${RGW_PORT:-7480}
export RGW_BIND=${RGW_BIND:-0.0.0.0}
export MON_PORT_V2=${MON_PORT_V2:-3300}
export MON_PORT_V1=${MON_PORT_V1:-6789}
export RGW_ACCESS_KEY=${RGW_ACCESS_KEY:-${AWS_ACCESS_KEY_ID:-s3upload}}
export RGW_SECRET_KEY=${RGW_SECRET_KEY:-${AWS_SECRET_ACCESS_KEY:-s3upload-secret}}
SCRIPTS=${RGW_SCRIPTS:-$(cd "$(dirname "$0")" && pwd)}
DAEMONS=(mon.a osd.0 rgw.gw0)
READY=$RGW_DIR/ready

say() { echo "rgw: $*"; }
running() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]; }
pid_of() { cat "$RGW_DIR/pids/$1.pid" 2>/dev/null || true; }
answering() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/")" = 200 ]; }
shutdown() {
  trap - TERM INT
  rm -f "$READY"
  say "stopping"
  bash "$SCRIPTS/rgw-down.sh"
  exit "${1:-0}"
}

# A cluster set up before (rgw-up.sh writes env last) with the same ports is started again,
# so a restarted container keeps its objects; anything else starts from nothing.
resumable() {
  [ "${RGW_RESET:-0}" != 1 ] && [ -f "$RGW_DIR/env" ] && [ -f "$RGW_DIR/ceph.conf" ] \
    && grep -qF "beast endpoint=$RGW_BIND:$RGW_PORT" "$RGW_DIR/ceph.conf" \
    && grep -qF "127.0.0.1:$MON_PORT_V2,v1:127.0.0.1:$MON_PORT_V1]" "$RGW_DIR/ceph.conf"
}

resume() {
  export CEPH_CONF=$RGW_DIR/ceph.conf
  mkdir -p "$RGW_DIR/pids"
  local name cmd
  for name in "${DAEMONS[@]}"; do
    case $name in
      mon.a) cmd=(ceph-mon -i a) ;;
      osd.0) cmd=(ceph-osd -i 0) ;;
      rgw.gw0) cmd=(radosgw -n client.rgw.gw0) ;;
    esac
    setsid "${cmd[@]}" -f >>"$RGW_DIR/log/$name.out" 2>&1 </dev/null &
    echo $! >"$RGW_DIR/pids/$name.pid"
    say "started $name pid $!"
  done
  for _ in $(seq 600); do
    answering && break
    for name in "${DAEMONS[@]}"; do
      running "$(pid_of "$name")" || { tail -n 20 "$RGW_DIR/log/$name.out"; say "$name exited"; shutdown 1; }
    done
    sleep 0.2
  done
  answering || { say "radosgw not answering on port $RGW_PORT"; shutdown 1; }
  # The credentials may have changed since the cluster was made: (re)set the user's key.
  radosgw-admin key create --uid=test --key-type=s3 \
    --access-key="$RGW_ACCESS_KEY" --secret-key="$RGW_SECRET_KEY" >/dev/null
}

trap shutdown TERM INT
rm -f "$READY"
if resumable; then
  say "starting the cluster already in $RGW_DIR"
  resume
else
  bash "$SCRIPTS/rgw-down.sh" >/dev/null  # stale PID files of a container that was killed
  bash "$SCRIPTS/rgw-up.sh"
fi
touch "$READY"
say "S3 on http://$RGW_BIND:$RGW_PORT (access key $RGW_ACCESS_KEY)"

# Stay in the foreground; the wait returns at once when a signal arrives.
while :; do
  for name in "${DAEMONS[@]}"; do
    if ! running "$(pid_of "$name")"; then
      tail -n 20 "$RGW_DIR/log/$name.out" 2>/dev/null || true
      say "$name exited"
      shutdown 1
    fi
  done
  sleep 2 &
  wait $! || true
done
