#!/usr/bin/env bash
# check-types.sh - type-check the browser client: src/s3upload/web/static/s3upload.d.ts against
# an application's use of it (tests/types/usage.ts) and against s3upload.js itself
# (tests/types/conformance.ts), with the TypeScript pinned in tests/types/package-lock.json.
#   check-types.sh [PROJECT]   PROJECT: another tsconfig.json or its directory (default
#                              tests/types); relative to tests/types
set -euo pipefail
cd "$(dirname "$0")/../tests/types"
if ! command -v npm >/dev/null 2>&1; then
  echo "check-types: npm is missing (scripts/install-deps.sh installs it)" >&2
  exit 127
fi
# npm ci only when node_modules is missing or older than the lock file.
if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/tsc --noEmit --pretty false -p "${1:-.}"
