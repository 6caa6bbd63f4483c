#!/usr/bin/env bash
# build-uppy.sh - install Uppy for the /demo/uppy page from the npm registry, exactly as pinned
# in src/s3upload/web/uppy/package-lock.json, into src/s3upload/web/uppy/node_modules
# (git-ignored, never committed). The service serves node_modules/uppy/dist when present.
# Safe to re-run: does nothing while the installed tree matches the lock.
set -euo pipefail
cd "$(dirname "$0")/../src/s3upload/web/uppy"
if ! command -v npm >/dev/null 2>&1; then
  echo "build-uppy: npm not found; install Node.js and npm (scripts/install-deps.sh does)" >&2
  exit 1
fi
bundle=node_modules/uppy/dist/uppy.min.mjs
if [ -f "$bundle" ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "build-uppy: up to date"
  exit 0
fi
# No install scripts: only the published files are needed.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
test -f "$bundle"
echo "build-uppy: uppy $(node -p 'require("./node_modules/uppy/package.json").version') in $PWD/node_modules/uppy/dist"
