# The README's two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
HOST ?= 127.0.0.1
PORT ?= 5000
BABEL := $(BIN)/pybabel
I18N := portal/translations
E2E := tests/e2e

.PHONY: run test install install-dev migrate seed serve lint clean
.PHONY: translations-extract translations-update translations-compile browser-deps docs-screenshots mutation

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
run: seed translations-compile
	@echo "Serving on http://$(HOST):$(PORT) with a background worker  (Ctrl-C to stop)"
	@export SMS_DELIVERY=$${SMS_DELIVERY:-worker}; \
	$(FLASK) worker --workers 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: install the test tools and run the whole suite (PostgreSQL when TEST_DATABASE_URL is set)
test: install-dev translations-compile browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

## Spanish: extract the messages, merge them into portal/translations/es/LC_MESSAGES/messages.po (translate
## the new ones there, plain and warm, "usted"), compile (.mo files are built, never committed).
translations-extract: install
	$(BABEL) -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --sort-output \
	  --add-location=file --project="Family Liaison Portal" \
	  --copyright-holder="Family Liaison Portal contributors" -o $(I18N)/messages.pot .

translations-update: translations-extract
	$(BABEL) -q update -i $(I18N)/messages.pot -d $(I18N)

translations-compile: install
	$(BABEL) -q compile -d $(I18N)

## axe-core for the browser tests, from npm, pinned by tests/e2e/package-lock.json (never fetched while testing)
$(E2E)/node_modules/.installed: $(E2E)/package.json $(E2E)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(E2E) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the browser tests will be skipped (install Node.js and npm to run them)"; fi

browser-deps: $(E2E)/node_modules/.installed

## Retake the README's pictures (docs/*.png) with the browser journeys
docs-screenshots: install-dev translations-compile browser-deps
	UPDATE_DOCS_SCREENSHOTS=1 $(BIN)/pytest $(E2E) -k "joins_from_the_texted_link or liaison_adds_and_invites"

## make mutation: mutmut over portal/access.py with the access tests ([mutmut] in setup.cfg), on SQLite, two workers
## at most; by hand, not part of make test or CI (about a quarter of an hour). Survivors: docs/MUTATION.md
mutation: install-dev translations-compile
	rm -rf mutants && mkdir mutants
	env -u TEST_DATABASE_URL nice -n 10 $(BIN)/mutmut run --max-children 2 >mutants/run.log 2>&1 \
	  || { tail -c 3000 mutants/run.log; exit 1; }
	@$(BIN)/mutmut export-cicd-stats >/dev/null
	@$(BIN)/python -c 'import json; s = json.load(open("mutants/mutmut-cicd-stats.json")); \
	  s["percent"] = 100 * s["killed"] / s["total"]; \
	  print("mutmut over portal/access.py: %(killed)d of %(total)d mutants killed (%(percent).1f %%), " \
	        "%(survived)d survived, %(timeout)d timed out, %(no_tests)d without tests, " \
	        "%(suspicious)d suspicious" % s)'
	@$(BIN)/mutmut results

lint: install-dev
	$(BIN)/ruff check portal tests config.py
	$(BIN)/bandit -q -r portal -lll
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) instance $(E2E)/node_modules test-artifacts test-results
	find $(I18N) -name '*.mo' -delete
