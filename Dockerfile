# The campaign bot. Build with a mirror by overriding the base image:
#   docker build --build-arg PYTHON_IMAGE=registry.example.org/python:3.12-slim .
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/__init__.py
COPY handlers/__init__.py handlers/__init__.py
RUN pip install .

COPY bot bot
COPY handlers handlers
COPY locales locales
COPY assets assets
COPY campaign.toml ./

RUN useradd --system --uid 10001 --home-dir /app campaign \
    && mkdir -p /data && chown campaign /data
USER campaign
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=2)" || exit 1

# Run from /app so the bot finds locales/ and campaign.toml beside its code.
CMD ["python", "-m", "bot"]
