# Formflow — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
FLASK  := $(BIN)/flask --app wsgi
PORT   := $(or $(FORMFLOW_PORT),5000)
CATALOGS := $(wildcard platform/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: help venv translations run test test-sqlite test-pg lint fmt messages browser-deps bench clean

help:
	@echo "make run     create .venv, migrate the SQLite database, load demo data, serve on 127.0.0.1:$(PORT)"
	@echo "make test    the whole suite on SQLite, then on PostgreSQL (FORMFLOW_TEST_DATABASE_URL)"
	@echo "make lint    ruff check + format check + import-linter layers;  make fmt  reformat"
	@echo "make messages  extract strings and update the .po catalogues"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Translations are compiled by the build, never committed as binaries.
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(COMPILED)

run: venv translations
	$(FLASK) formflow init-db
	$(FLASK) formflow demo
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: venv translations browser-deps
	$(PY) scripts/run_tests.py $(PYTEST_ARGS)

test-sqlite: venv translations
	$(PY) scripts/run_tests.py --only sqlite $(PYTEST_ARGS)

test-pg: venv translations
	$(PY) scripts/run_tests.py --only postgresql $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: venv
	$(BIN)/pybabel extract --no-location --sort-by-file -F babel.cfg -k _l -k lazy_gettext -o platform/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i platform/translations/messages.pot -d platform/translations

# Browser tests drive Debian's chromium through Playwright (no browser downloads).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends chromium >/dev/null || \
	    { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }; \
	  else sudo apt-get install -y --no-install-recommends chromium >/dev/null; fi; }

# Speed targets live here, not in timed tests: each run compares against its own baseline.
bench: $(STAMP) $(COMPILED)
	$(PY) scripts/bench_forms.py $(BENCH_ARGS)
	$(PY) scripts/bench_rules.py
	$(PY) scripts/bench_ledger.py
	$(PY) scripts/bench_fees.py
	$(PY) scripts/bench_exports.py
	$(PY) scripts/bench_reconcile.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache $(COMPILED)
