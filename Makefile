# make run: set everything up and serve on http://127.0.0.1:$(PORT)
# make test: install what the tests need and run the whole suite
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test setup test-setup chromium clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

static/wasm/VERSION: package.json package-lock.json scripts/install-wasm.sh
	scripts/install-wasm.sh

setup: $(VENV)/.installed static/wasm/VERSION

test-setup: $(VENV)/.test-installed static/wasm/VERSION chromium

chromium:
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo seed
	PORT=$(PORT) scripts/serve.sh

test: test-setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
