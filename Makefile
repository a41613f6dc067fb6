# cio-relay: `make run` starts the whole system, `make test` runs every test. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.tests: $(VENV)/.runtime tests/requirements.txt
	$(BIN)/python -m pip install --quiet -r tests/requirements.txt
	touch $@

# The browser SDKs' tests load each SDK from its npm package, at the versions tests/package-lock.json pins.
tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund

# The browser tests drive Debian's Chromium; a fresh machine gets it from apt.
chromium:
	@command -v chromium >/dev/null || { \
		export DEBIAN_FRONTEND=noninteractive; \
		$(SUDO) apt-get install -y --no-install-recommends chromium \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }; }

# Migrate, make sure an admin login exists (printed once), then web + worker + scheduler until Ctrl-C.
run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py ensure_admin
	@echo "cio-relay: admin at http://$${CIO_RELAY_BIND:-127.0.0.1:8000}/admin/ , ingestion at /v1/"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --procfile cio_project/Procfile --app-root .

# Lint, then the whole suite on PostgreSQL + Redis (when reachable) and on the embedded defaults.
test: $(VENV)/.tests chromium tests/node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tests/run.py

lint: $(VENV)/.tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.tests
	for name in transformer ingestion delivery admin; do $(BIN)/python bench/$$name.py || exit 1; done

clean:
	rm -rf $(VENV) var
