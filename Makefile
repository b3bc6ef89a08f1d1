# Two commands on a fresh machine: `make run` (install + run the service) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run test bench-api clean

setup: $(VENV)/.installed $(VENV)/.client-installed
	bash frontend/setup.sh

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The Python client and `matsvc` CLI (client/), editable, so its tests run against the source.
$(VENV)/.client-installed: $(VENV)/.installed client/pyproject.toml
	$(PY) -m pip install --quiet -e ./client
	touch $@

run: setup
	$(PY) manage.py runservice

# --browser: Debian's chromium for the browser tests (installed once, skipped when present).
test: setup
	bash frontend/setup.sh --browser
	$(PY) -m pytest

bench-api: setup
	$(PY) bench/api.py

clean:
	rm -rf var/staging var/test-db.sqlite3*
