#!/usr/bin/env bash
# install-deps.sh - everything s3upload needs on Debian 12: Ceph RGW and PostgreSQL packages,
# and a virtualenv in .venv with the package, its server extra and the development tools.
# Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="radosgw ceph-mon ceph-osd ceph-common postgresql redis-server uuid-runtime curl"
# libmagic tells the real type of uploaded bytes (python-magic loads it).
PKGS="$PKGS libmagic1"
# Chromium drives the browser tests (tests/e2e); npm installs Uppy for /demo/uppy
# (scripts/build-uppy.sh), from Debian if the machine has no npm of its own.
PKGS="$PKGS chromium"
# docker-compose checks compose.yaml's structure in the tests (no Docker engine is needed).
PKGS="$PKGS docker-compose"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "install-deps: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
if ! .venv/bin/python -c "import s3upload, fastapi, pytest, mypy" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install -q -U pip
  .venv/bin/pip install -q -e '.[server,dev]'
  touch .venv/.installed
fi
echo "install-deps: ready"
