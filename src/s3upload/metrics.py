"""Prometheus metrics. Labels carry route templates and fixed words, never user input."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "s3upload_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "s3upload_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UPLOADS_CREATED = Counter(
    "s3upload_uploads_created_total", "Uploads created.", ["strategy", "profile"]
)
VERIFICATIONS = Counter(
    "s3upload_verifications_total",
    "Objects checked in the store before `uploaded`.",
    ["outcome"],  # uploaded, failed, missing
)
STORE_ERRORS = Counter("s3upload_store_errors_total", "Object store failures.", ["kind"])
EVENTS = Counter("s3upload_events_total", "S3 event records received.", ["outcome"])
SWEEPER = Counter("s3upload_sweeper_actions_total", "Uploads the sweeper acted on.", ["action"])
WRITE_BATCH = Histogram(
    "s3upload_write_batch_size",
    "New uploads written per database transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
RATE_LIMITED = Counter("s3upload_rate_limited_total", "Requests refused by a limit.", ["limit"])

CONTENT_TYPE = CONTENT_TYPE_LATEST


def exposition() -> bytes:
    """The metrics text; aggregated across worker processes when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


WEBHOOK_DELIVERIES = Counter(
    "s3upload_webhook_deliveries_total",
    "Webhook delivery attempts by outcome.",
    ["outcome"],  # delivered, retried, failed
)
WEBHOOK_ATTEMPTS = Histogram(
    "s3upload_webhook_attempts",
    "Attempts a webhook delivery took, counted when it ended (delivered or failed).",
    buckets=(1, 2, 3, 4, 5, 6, 7, 8),
)
WEBHOOK_OLDEST = Gauge(
    "s3upload_webhook_oldest_undelivered_seconds",
    "Age of the oldest event not yet delivered to every endpoint (0 when none).",
    multiprocess_mode="max",
)

AUTHZ_HOOK = Counter(
    "s3upload_authz_hook_total",
    "Questions asked of the authorization hook, by outcome.",
    ["outcome"],  # allow, deny, error
)
AUTHZ_HOOK_SECONDS = Histogram(
    "s3upload_authz_hook_duration_seconds",
    "Time the authorization hook took to answer (errors and timeouts included).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
AUTHZ_CACHE = Counter(
    "s3upload_authz_cache_total",
    "Scope decisions looked up in the cache of allows.",
    ["result"],  # hit, miss
)

PROCESSED = Counter(
    "s3upload_processed_total",
    "Files processed, by outcome.",
    ["outcome"],  # completed, failed, retried
)
PROCESS_SECONDS = Histogram(
    "s3upload_process_duration_seconds",
    "Time to make every variant of one file.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
