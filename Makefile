PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the project's dependencies change.
STAMP := $(VENV)/.installed

.PHONY: run test test-browser lint format bench migrate clean messages makemessages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The translation catalogues: .po files are kept in the repository, .mo files built here.
messages: $(STAMP)
	$(BIN)/python manage.py compilemessages --ignore '.venv' --ignore 'staticfiles' --ignore 'node_modules' -v 0

# Refreshes the project's catalogue (templates and console/) from the code; each app's own
# is made inside its directory. The patterns end in "?*" so that templates/certificates/
# is kept while certificates/ is left out. Then translate the new entries (docs/glossary.md).
makemessages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete \
	  --ignore 'certificates/?*' --ignore 'api/?*' --ignore 'acme_server/?*' \
	  --ignore 'deployments/?*' --ignore '.venv' --ignore 'tests/?*' --ignore 'bench/?*' \
	  --ignore 'staticfiles' --ignore 'test-artifacts'

run: $(STAMP) messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Serving the console on http://127.0.0.1:8000 (sign in as demo / demo), with a task worker"
	# The worker (Verify checks, ACME validation) runs beside the web server and stops with it.
	$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP) messages
	$(BIN)/python -m pytest

test-browser: $(STAMP) messages
	REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Options go through ARGS, e.g. make bench ARGS="--quick"; DATABASE_URL picks PostgreSQL.
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -name "*.mo" -path "*/locale/*" -print -delete
