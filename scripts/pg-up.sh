#!/usr/bin/env bash
# pg-up.sh - start a throw-away PostgreSQL cluster on 127.0.0.1 with all state under $PG_DIR.
# Runs the server as the `postgres` system user when invoked as root (PostgreSQL refuses root).
#   PG_DIR   state dir, wiped on every start   (default /tmp/s3upload-pg)
#   PG_PORT  port on 127.0.0.1                 (default 55432)
#   PG_DB    database created for the service  (default s3upload)
# Output: $PG_DIR/env (exports DATABASE_URL). Stop with pg-down.sh (same PG_DIR).
set -euo pipefail
PG_DIR=${PG_DIR:-/tmp/s3upload-pg}
PG_PORT=${PG_PORT:-55432}
PG_DB=${PG_DB:-s3upload}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$BIN" ] || { echo "pg-up: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -f "$PG_DIR/data/postmaster.pid" ]; then
  as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
fi
rm -rf "$PG_DIR"
mkdir -p "$PG_DIR"
[ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
as_pg "$BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
# A test cluster: durability off, so it starts and writes fast. Never use these in production.
# Written into the config, so a plain `pg_ctl start` (after a stop) comes back the same.
cat >>"$PG_DIR/data/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
CONF
as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start >/dev/null \
  || { tail -n 20 "$PG_DIR/server.log" >&2; exit 1; }
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $PG_DB" >/dev/null
echo "export DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:$PG_PORT/$PG_DB" >"$PG_DIR/env"
echo "pg-up: PostgreSQL on 127.0.0.1:$PG_PORT, database $PG_DB; source $PG_DIR/env"
