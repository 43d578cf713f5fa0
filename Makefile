# The README's two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev migrate seed serve lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

## make run: install, upgrade the database, seed demo data once, serve on http://127.0.0.1:5000, with a background
## worker beside it that delivers texts (printed on this console in development); Ctrl-C stops both
run: seed
	@echo "Serving on http://$(HOST):$(PORT) with a background worker  (Ctrl-C to stop)"
	@export SMS_DELIVERY=$${SMS_DELIVERY:-worker}; \
	$(FLASK) worker --workers 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: install the test tools and run the whole suite (PostgreSQL when TEST_DATABASE_URL is set)
test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check portal tests config.py
	$(BIN)/bandit -q -r portal -lll

clean:
	rm -rf $(VENV) instance
