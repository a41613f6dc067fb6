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

# Migrate, make sure an admin login exists (printed once), then web + worker + scheduler until Ctrl-C,
# each restarted if it exits (cio_project/supervisord.conf).
DATA_DIR := $(abspath $(or $(CIO_RELAY_DATA_DIR),var))
run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py ensure_admin
	@echo "cio-relay: admin at http://$${CIO_RELAY_BIND:-127.0.0.1:8000}/admin/ , ingestion at /v1/"
	@# Every process writes its /metrics counters here; a fresh start counts from zero.
	rm -rf "$(DATA_DIR)/metrics" && mkdir -p "$(DATA_DIR)/metrics"
	@# exec: supervisord takes the shell's place. Ctrl-C reaches the shell too, and a shell that dies of it
	@# makes make print "*** [run] Interrupt" as an error, although supervisord stopped everything cleanly.
	exec env PATH="$(abspath $(BIN)):$$PATH" PROMETHEUS_MULTIPROC_DIR="$(DATA_DIR)/metrics" \
		CIO_RELAY_ROOT="$(CURDIR)" CIO_RELAY_RUN_DIR="$(DATA_DIR)" \
		CIO_RELAY_BIND="$${CIO_RELAY_BIND:-127.0.0.1:8000}" LOG_LEVEL="$${LOG_LEVEL:-INFO}" \
		WEB_WORKERS="$${WEB_WORKERS:-2}" WEB_THREADS="$${WEB_THREADS:-4}" \
		WORKER_CONCURRENCY="$${WORKER_CONCURRENCY:-2}" \
		$(BIN)/supervisord --configuration cio_project/supervisord.conf

# Lint, then the whole suite on PostgreSQL + Redis (when reachable) and on the embedded defaults.
test: $(VENV)/.tests chromium tests/node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tests/run.py

lint: $(VENV)/.tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.tests
	for name in transformer ingestion delivery admin warehouse webhooks; do $(BIN)/python bench/$$name.py || exit 1; done

clean:
	rm -rf $(VENV) var
