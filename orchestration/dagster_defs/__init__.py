"""Dagster definitions, one module per capability; orchestration.definitions merges them."""
