# One command runs the bot, one runs the tests; each builds the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check lint bench lock clean

# uv installs exactly what uv.lock pins (hashes checked); it comes from the package registry into
# the project's own venv, pinned here, so a fresh machine needs only Python, venv, git and make.
# --locked fails when pyproject.toml changed without `make lock`; --inexact keeps uv and pip.
UV_VERSION := 0.13.8
UV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never $(BIN)/uv

$(STAMP): pyproject.toml uv.lock
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) sync --locked --inexact --extra dev --python $(BIN)/python --quiet
	touch $(STAMP)

# Refresh uv.lock on purpose: every dependency to its newest release within pyproject's bounds.
lock: $(STAMP)
	$(UV) lock --upgrade

run: $(STAMP)
	$(BIN)/python -m bot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# The fast lane while working: the same lint and types, every test but those marked slow.
check: lint
	$(BIN)/python -m pytest -m "not slow"

# About ten minutes: the bot against same-run references, printed as a table (see BENCHMARKS.md).
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
