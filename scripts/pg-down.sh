#!/usr/bin/env bash
# pg-down.sh - stop the cluster started by pg-up.sh.  --purge also deletes $PG_DIR.
set -uo pipefail
PG_DIR=${PG_DIR:-/tmp/s3upload-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -f "$PG_DIR/data/postmaster.pid" ]; then
  as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null && echo "pg-down: stopped"
fi
[ "${1:-}" = --purge ] && rm -rf "$PG_DIR"
exit 0
