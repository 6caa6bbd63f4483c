# s3upload: a small, non-root image. Build: docker build -t s3upload .
FROM python:3.11.10-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels '.[server]'

FROM python:3.11.10-slim-bookworm
# libmagic: the real type of uploaded bytes (python-magic); libvips comes in pyvips-binary.
RUN apt-get update && apt-get install -y --no-install-recommends libmagic1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 s3upload
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 's3upload[server]' && rm -rf /wheels
USER s3upload
WORKDIR /home/s3upload
# libvips: one thread per image (files are processed side by side instead); two malloc arenas
# keep a worker's memory flat from image to image (docs/bench/thumbnails.md).
ENV ENVIRONMENT=production PYTHONUNBUFFERED=1 PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \
    VIPS_CONCURRENCY=1 MALLOC_ARENA_MAX=2
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# One worker per core; migrations and bucket set-up run as separate one-shot commands.
CMD ["sh", "-c", "mkdir -p $PROMETHEUS_MULTIPROC_DIR && exec s3upload serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
