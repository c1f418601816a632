# The campaign bot in two stages: uv installs exactly what uv.lock pins into /opt/venv, and the
# final image gets that venv and the campaign files only (no uv, no pip cache, no build tools).
# Build from a mirror by overriding the base image; both stages use it, because the venv runs on
# the Python it was built with:
#   docker build --build-arg PYTHON_IMAGE=registry.example.org/python:3.12-slim .
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS build

# The Makefile's UV_VERSION: the image installs with the same uv as `make`.
ARG UV_VERSION=0.13.8
# Bytecode is compiled here because the running user cannot write it into the root-owned venv,
# and every start would compile the dependencies again in memory.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python3 -m pip install "uv==${UV_VERSION}"

WORKDIR /src
# Dependencies from the lock alone, so a code change does not reinstall them. The `dev` extra
# (pytest, ruff, mypy) is left out: uv installs an extra only when asked with --extra. The
# dependencies' own test suites (numpy's and matplotlib's, 24 MB) are never imported.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project \
    && find /opt/venv -type d -name tests -prune -exec rm -rf {} +

# Then the project as a built wheel, not editable: the venv must not point back at /src.
COPY README.md ./
COPY bot bot
COPY handlers handlers
COPY locales locales
RUN uv sync --locked --no-dev --no-editable


FROM ${PYTHON_IMAGE}

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/var/cache/matplotlib \
    DATA_DIR=/data \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080

RUN useradd --system --uid 10001 --home-dir /app --no-create-home campaign \
    && mkdir -p /data /var/cache/matplotlib \
    && chown campaign /data /var/cache/matplotlib
WORKDIR /app

COPY --from=build /opt/venv /opt/venv

USER campaign
# matplotlib's font list, built once here into its writable MPLCONFIGDIR: otherwise every new
# container scans the fonts again before its first chart.
RUN python -c "import matplotlib.font_manager"

# Read from the working directory at run time: CAMPAIGN_FILE defaults to ./campaign.toml and its
# photo path is relative to it. The messages (locales) are package data inside the venv.
COPY campaign.toml ./
COPY assets assets

VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=2)" || exit 1

CMD ["campaign-bot"]
