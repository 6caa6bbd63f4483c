#!/usr/bin/env bash
# example.sh - the event-photos example (examples/event-photos/) with one command: the service
# as `make run` starts it (scripts/dev.sh: RGW, SQLite, migrations, bucket, events), set up for
# the app (the public photos profile with its thumbnails, the authorization hook, webhooks, the
# app's origin in CORS), and the app itself on http://127.0.0.1:8100, stopped when the service
# stops.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
STATE=$PWD/.local
mkdir -p "$STATE"
export PORT=${PORT:-8000} APP_PORT=${APP_PORT:-8100}
SERVICE="http://127.0.0.1:$PORT" APP="http://127.0.0.1:$APP_PORT"
# The secrets the service and the app share, made once per checkout.
SECRETS=$STATE/event-photos.env
if [ ! -f "$SECRETS" ]; then
  .venv/bin/python - >"$SECRETS" <<'PY'
import base64, secrets
def whsec(): return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
print(f"JWT_SECRET={secrets.token_urlsafe(32)}\nHOOK_SECRET={whsec()}\nWEBHOOK_SECRET={whsec()}")
PY
fi
# shellcheck disable=SC1090
source "$SECRETS"

# The service's side (read by scripts/dev.sh and s3upload).
export AUTH_JWT_SECRET=$JWT_SECRET
# Photos are public (thumbnails for anyone, from their own prefix) and processed by the service.
export PROFILES='{"default": {}, "photos": {"allowed_types": ["image/*"], "max_size": 20971520,
  "scope_types": ["event"], "metadata_keys": ["title", "description"],
  "metadata_required": ["title"], "access": "hook", "claim_within": 3600,
  "key_prefix": "photos", "public": true, "cache_control": "public, max-age=31536000, immutable",
  "variants": {"thumb": {"width": 320, "height": 320, "fit": "cover", "format": "webp"},
               "large": {"width": 1600, "fit": "inside", "format": "jpeg", "quality": 85}}}}'
export AUTHZ_HOOK_URL="$APP/hook" AUTHZ_HOOK_SECRET=$HOOK_SECRET
# Allows are cached briefly, so a removal from an event shows within seconds.
export AUTHZ_CACHE_TTL=${AUTHZ_CACHE_TTL:-5}
export WEBHOOKS="[{\"url\": \"$APP/webhooks\", \"secret\": \"$WEBHOOK_SECRET\"}]"
export CORS_ORIGINS="[\"$SERVICE\", \"http://localhost:$PORT\", \"$APP\"]"
export SWEEP_INTERVAL=${SWEEP_INTERVAL:-10}

# The app's side.
STORE="http://127.0.0.1:${RGW_PORT:-7480}"
SERVICE_URL=$SERVICE STORE_URL=$STORE PUBLIC_URL=${PUBLIC_BASE_URL:-$STORE} APP_JWT_SECRET=$JWT_SECRET \
  HOOK_SECRET=$HOOK_SECRET WEBHOOK_SECRET=$WEBHOOK_SECRET \
  EVENT_PHOTOS_DB=$STATE/event-photos.db \
  .venv/bin/python examples/event-photos/app.py &
APP_PID=$!
# Say where to go once both answer.
(
  until curl -sf "$SERVICE/healthz" >/dev/null && curl -sf "$APP/healthz" >/dev/null; do
    sleep 0.5
  done
  printf '\nEvent photos: open %s/  (the service: %s/, stop both with Ctrl-C)\n\n' "$APP" "$SERVICE"
) &
WAITER=$!
trap 'kill "$APP_PID" "$WAITER" 2>/dev/null || true' EXIT
# Not exec: this script stays to stop the app when the service stops.
bash scripts/dev.sh
