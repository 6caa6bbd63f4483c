# s3upload: `make run` starts the service locally, `make test` runs the whole test suite.
.PHONY: run stop test lint deps bench perf uppy example

deps:
	bash scripts/install-deps.sh

# Uppy for /demo/uppy, from the npm registry (not committed); without it its e2e test skips.
uppy:
	bash scripts/build-uppy.sh || echo "make: Uppy could not be installed; the Uppy e2e test will skip" >&2

run:
	bash scripts/dev.sh

# The event-photos example app on http://127.0.0.1:8100, with the service set up for it.
example:
	bash scripts/example.sh

stop:
	RGW_DIR=$(CURDIR)/.local/rgw bash scripts/rgw-down.sh

test: deps uppy
	.venv/bin/pytest --cov --cov-report=term --cov-fail-under=90

lint: deps
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: deps
	.venv/bin/python bench/create_latency.py

# Throughput under wrk (before/after against REF), growth to 1M rows, plots: docs/bench/performance.md
perf: deps
	command -v wrk >/dev/null || apt-get install -y wrk
	.venv/bin/pip install -q -e '.[bench]'
	.venv/bin/python bench/throughput.py $(if $(REF),--baseline $(REF))
	.venv/bin/python bench/growth.py
	.venv/bin/python bench/report.py
