# Two commands for a new user: `make run` (demo end to end) and `make test` (what CI runs).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_PROFILES_DIR := $(CURDIR)
export PYTHONUNBUFFERED := 1

.PHONY: setup run test test-fast test-spark lint dev bench demo clean

# One command installs everything, pinned (requirements.lock is the whole resolved tree).
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Demo end to end through Dagster: exports (if landing is empty), ingestion, dbt, gates, publish, summary.
run: $(STAMP)
	$(BIN)/omni run

# Lint, then every test (unit, dbt unit tests, bad inputs, whole pipeline on a small demo).
test: $(STAMP) lint
	$(BIN)/python -m pytest -q -ra -n 2 --dist loadfile --no-loadscope-reorder

# Python tests without the slow whole-pipeline ones (fast feedback while editing).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -ra -m "not integration"

# dbt on Spark in-process (PySpark, Java 17): the identity components and the Spark variants of the
# dispatched macros. Its own venv, as PySpark is large and the main build does not need it.
SPARK_VENV := .venv-spark
$(SPARK_VENV)/.installed: requirements-spark.lock
	@command -v java >/dev/null || { echo "Java 17 is required for PySpark (java not found)"; exit 1; }
	test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet -r requirements-spark.lock
	touch $@

test-spark: $(SPARK_VENV)/.installed
	$(SPARK_VENV)/bin/python -m pytest -q -ra -p no:cacheprovider tests_spark

lint: $(STAMP)
	$(BIN)/ruff check orchestration tests tests_spark bench
	$(BIN)/ruff format --check orchestration tests tests_spark bench
	$(BIN)/python -m orchestration.lint_sql

# The Dagster UI on localhost, on the same instance `make run` records its runs in.
dev: $(STAMP)
	$(BIN)/python -c "from orchestration.cli import prepare_dev; prepare_dev()"
	# dbt on PATH: dagster-dbt's parse on load (DbtProject.prepare_if_dev) calls `dbt` by name
	PATH="$(abspath $(BIN)):$$PATH" \
	DAGSTER_HOME=$$($(BIN)/python -c "from orchestration.config import get_paths; print(get_paths().dagster_home)") \
		$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# Figures and ratios against baselines run in the same process (sizes: see bench/run.py --help).
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

demo: $(STAMP)
	$(BIN)/omni demo

clean:
	rm -rf data target logs
