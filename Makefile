# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean chromium

# Python may keep compiled modules (__pycache__/, ignored by git). Machines that forbid it
# (PYTHONDONTWRITEBYTECODE=1, as this one does) compile every module again in every process:
# about half a CPU second per server start and per CLI call, and pytest's assertion rewriting of
# every test module in every worker, more than a fifth of the test suite's CPU.
unexport PYTHONDONTWRITEBYTECODE

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

# Front-end packages: pinyin-pro and qrcode-generator for the app (served from node_modules),
# fake-indexeddb and axe-core for tests.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

run: install
	@mkdir -p data
	$(VENV)/bin/fieldcards --data data serve --host 127.0.0.1 --port 8000

# Browser tests drive Debian's chromium (Playwright cannot download its own browser here), with a
# CJK font so that Chinese screens render in screenshots.
BROWSER_PACKAGES := chromium fonts-wqy-zenhei
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wenquanyi; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES); \
	fi

lint: install
	$(VENV)/bin/ruff check sync server tests bench
	$(VENV)/bin/ruff format --check sync server tests bench
	$(VENV)/bin/mypy

test: install chromium lint
	node --test tests/js/
	# Many tests wait on real servers, Litestream and kill -9 restarts: three workers keep two
	# cores busy (two left them idle a fifth of the run). The browser tests run after, alone, so
	# that two Chromiums never share 2 cores.
	$(PY) -m compileall -q sync server tests bench
	$(VENV)/bin/pytest -q -n 3 --ignore=tests/e2e
	$(VENV)/bin/pytest -q tests/e2e

bench: install
	$(PY) bench/sync.py
	$(PY) bench/push_profile.py
	$(PY) bench/office.py
	$(PY) bench/office.py --rows 20000 --in-process
	$(PY) bench/durability.py
	$(PY) bench/stall.py
	$(PY) bench/field.py
	$(PY) bench/fleet.py

clean:
	rm -rf $(VENV) build *.egg-info node_modules
