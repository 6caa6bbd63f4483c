#!/usr/bin/env bash
# dev.sh - run s3upload locally with everything it needs: a Ceph RGW on 127.0.0.1:7480,
# SQLite, migrations applied, the bucket with CORS for the local origins, a dev token printed,
# RGW's bucket notifications pushing to the webhook, and the API on http://127.0.0.1:8000. State lives in .local/ (RGW data is wiped whenever
# RGW has to be started again, and the SQLite file with it, so the two always agree).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
STATE=$PWD/.local
mkdir -p "$STATE"
export RGW_DIR=$STATE/rgw RGW_PORT=${RGW_PORT:-7480}
answering() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/" || true)" = 200 ]; }
# The RGW answering is the one this checkout started: its recorded radosgw runs and is the
# process listening on the port (a stale env file beside another checkout's RGW is not ours).
ours() {
  local pid
  [ -f "$RGW_DIR/env" ] && pid=$(cat "$RGW_DIR/pids/rgw.gw0.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && grep -q radosgw "/proc/$pid/cmdline" 2>/dev/null || return 1
  if command -v ss >/dev/null; then
    ss -Hltnp "sport = :$RGW_PORT" 2>/dev/null | grep -q "pid=$pid," || return 1
  fi
}
if ! { ours && answering; }; then
  if answering; then
    echo "dev: port $RGW_PORT is taken by an S3 server this project did not start; set RGW_PORT" >&2
    exit 1
  fi
  bash scripts/rgw-down.sh >/dev/null
  bash scripts/rgw-up.sh
  rm -f "$STATE"/s3upload.db*
fi
# shellcheck disable=SC1091
source "$RGW_DIR/env"
export ENVIRONMENT=development
export DATABASE_URL="sqlite+aiosqlite:///$STATE/s3upload.db"
export S3_REGION=default S3_BUCKET=${S3_BUCKET:-s3upload-dev}
# RGW (Ceph Pacific) enforces Content-MD5 but not the newer x-amz-checksum-* headers.
export S3_CHECKSUM_ALGORITHMS='["MD5"]'
export CORS_ORIGINS=${CORS_ORIGINS:-'["http://127.0.0.1:8000","http://localhost:8000"]'}
# RGW pushes ObjectCreated/ObjectRemoved to the webhook, so uploads verify without complete.
PORT=${PORT:-8000}
export EVENTS_SECRET=${EVENTS_SECRET:-local-development-events-secret}
export EVENTS_WEBHOOK_URL="http://127.0.0.1:$PORT/events/s3"
export SWEEP_INTERVAL=${SWEEP_INTERVAL:-60}
export PROFILES=${PROFILES:-'{"default": {}, "images": {"allowed_types": ["image/*"], "max_size": 52428800,
  "variants": {"thumb": {"width": 256, "height": 256, "fit": "cover", "format": "webp"},
               "large": {"width": 1600, "fit": "inside", "format": "jpeg", "quality": 85}}}}'}
.venv/bin/s3upload migrate
.venv/bin/s3upload bucket setup
echo
echo "Development token (subject dev-user, 24 h):"
echo "  $(.venv/bin/s3upload token dev-user)"
echo "API and docs: http://127.0.0.1:$PORT/   (stop RGW afterwards with: make stop)"
echo
exec .venv/bin/s3upload serve --host 127.0.0.1 --port "$PORT"
