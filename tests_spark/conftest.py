"""dbt on Spark, in-process: dbt-spark's `session` method (profiles.yml target `spark`) runs dbt's SQL in
the SparkSession this fixture starts (local[2], an in-memory catalog, tables under tmp_path).

Run with `make test-spark` (its own venv from requirements-spark.lock: PySpark needs Java 17)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark_warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("omni-warehouse-spark-tests")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.shuffle.partitions", "4")  # small test graphs: few tasks per stage
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")  # the warehouse's timestamps are naive UTC
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sql("create database if not exists omni")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def dbt_spark(spark, tmp_path_factory):
    """Invoke dbt against the Spark target; returns dbt's result object."""
    from dbt.cli.main import dbtRunner

    os.environ["OMNI_DBT_TARGET"] = "spark"
    target = tmp_path_factory.mktemp("dbt_target")
    messages: list[str] = []
    runner = dbtRunner(callbacks=[lambda event: messages.append(event.info.msg)])

    def invoke(*args: str):
        messages.clear()
        return runner.invoke(
            [*args, "--project-dir", str(REPO), "--profiles-dir", str(REPO), "--target-path", str(target)]
        )

    invoke.messages = lambda: "\n".join(messages)  # what dbt logged during the last invoke
    return invoke
