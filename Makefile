# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	@mkdir -p data
	$(VENV)/bin/fieldcards --data data serve --host 127.0.0.1 --port 8000

test: install
	$(VENV)/bin/pytest -q

bench: install
	$(PY) bench/sync.py

clean:
	rm -rf $(VENV) build *.egg-info
