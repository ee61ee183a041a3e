# proc-service: gunicorn (gunicorn.conf.py) on 0.0.0.0:8000, as a non-root user.
#
#   docker build -t proc-service .                       # on python:3.12-slim
#   podman build --format docker --build-arg BASE_IMAGE=localhost/debian-base:bookworm \
#     -v /etc/ssl/certs/ca-certificates.crt:/host-ca.crt:ro --build-arg PIP_CERT=/host-ca.crt .
#
# BASE_IMAGE is any Debian-based image: an official Python image (Python there is used), or a
# plain Debian (Debian's python3 is installed). Configuration: PROC_* variables (README).
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS base
# Only when the base lacks Python (plain Debian); an official Python image is used as it is.
RUN if ! command -v python3 >/dev/null 2>&1; then \
        apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb; \
    fi

FROM base AS build
# A CA bundle for pip behind an intercepting proxy, mounted at build time (never copied in).
ARG PIP_CERT
RUN if ! python3 -c "import ensurepip" 2>/dev/null; then \
        apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv; \
    fi
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \
    && if [ -z "${PIP_CERT:-}" ]; then unset PIP_CERT; fi \
    && /opt/venv/bin/pip install --quiet --no-cache-dir --disable-pip-version-check \
        -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --quiet --yes pip setuptools
WORKDIR /app
COPY proc_service ./proc_service
COPY migrations ./migrations
COPY alembic.ini gunicorn.conf.py wsgi.py deploy/entrypoint.py ./
RUN /opt/venv/bin/python -m compileall -q proc_service migrations ./*.py

FROM base AS runtime
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent proc
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# instance/: the SQLite database when PROC_DATABASE_URL is unset (for a quick look only).
RUN mkdir /app/instance && chown proc:proc /app/instance
WORKDIR /app
# gunicorn puts its control socket under XDG_RUNTIME_DIR (the user proc has no home).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROC_BIND=0.0.0.0:8000 \
    XDG_RUNTIME_DIR=/tmp
USER proc
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# gunicorn is PID 1 (exec from the entrypoint): SIGTERM stops accepting, lets requests in
# flight finish (PROC_GRACEFUL_TIMEOUT, default 20 s), then exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python3", "/app/entrypoint.py"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
