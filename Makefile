# zwfw — the two commands a user needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
BIN     := $(VENV)/bin
# The first Python ≥ 3.11 found on PATH (override with `make PYTHON=python3.12 …`).
PYTHON  ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
             command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
             && { echo $$p; break; }; done)
HOST    ?= 127.0.0.1
PORT    ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: help setup chromium screenshots run web worker migrate demo test lint format typecheck schema bench clean

help:
	@echo "make run        set up, migrate, load demo data, serve http://$(HOST):$(PORT) with a task worker"
	@echo "make test       the whole test suite (SQLite; PostgreSQL too when DATABASE_URL is set)"
	@echo "make lint       ruff check + ruff format --check + mypy"
	@echo "make bench      benchmarks (figures with their data sizes)"
	@echo "make worker     the background task worker alone"
	@echo "make schema     regenerate docs/api/openapi.json"

$(BIN)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "zwfw needs Python >= 3.11 (apt-get install python3)"; exit 1; fi
	@if ! $(PYTHON) -m venv --help >/dev/null 2>&1 || ! $(PYTHON) -c 'import ensurepip' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing python3-venv (Debian package)"; apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else echo "Python's venv module is missing: run 'sudo apt-get install python3-venv' and try again"; exit 1; fi; \
	fi
	@# A CJK TrueType font to embed in notices and licences, and poppler's tools the tests use
	@# to read PDFs back. Without the font, PDFs fall back to a non-embedded font and say so.
	@missing=""; [ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing="fonts-wqy-zenhei"; \
	  command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "installing Debian packages:$$missing"; apt-get update -qq && apt-get install -y -qq $$missing || \
	      echo "could not install$$missing: PDFs use a fallback font; PDF tests are skipped"; \
	    else echo "optional Debian packages missing:$$missing — 'sudo apt-get install$$missing' (PDFs fall back to a non-embedded font)"; fi; \
	  fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

# Front-end packages (ECharts, htmx; axe-core for the accessibility tests) from the npm registry,
# served as static files. Node.js and npm are Debian packages.
node_modules/.installed: package.json package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Node.js and npm (Debian packages)"; apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else echo "npm is missing: 'sudo apt-get install nodejs npm' (dashboards need ECharts)"; exit 1; fi; \
	fi
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The browser tests drive Debian's Chromium through Playwright (which cannot fetch its own browser).
chromium:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Chromium (Debian package) for the browser tests"; \
	    apt-get update -qq && apt-get install -y -qq chromium || echo "could not install chromium: browser tests are skipped"; \
	  else echo "chromium is missing: 'sudo apt-get install chromium' (browser tests are skipped without it)"; fi; \
	fi

setup: $(BIN)/.installed node_modules/.installed

migrate: setup
	$(BIN)/zwfw migrate --noinput

demo: migrate
	$(BIN)/zwfw load_demo

run: demo
	@echo "zwfw demo: http://$(HOST):$(PORT)/  (API docs: /api/v1/docs) — Ctrl-C stops web and worker"
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/zwfw worker & \
	  $(BIN)/zwfw send_outbox --loop & \
	  $(BIN)/zwfw case_sweep --loop & \
	  $(BIN)/zwfw supervision_sweep --loop & \
	  $(BIN)/zwfw runserver $(HOST):$(PORT) --noreload & \
	  wait

web: migrate
	$(BIN)/zwfw runserver $(HOST):$(PORT)

worker: migrate
	$(BIN)/zwfw worker

test: setup chromium
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: setup
	$(BIN)/zwfw export_openapi docs/api/openapi.json

bench: migrate
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Refresh the screenshots linked from the README (the browser tests write them).
screenshots: setup chromium
	ZWFW_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -n 0 -p no:cacheprovider tests/browser

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .mypy_cache .ruff_cache
