"""`omni`'s checks before a run: the partition range, one run at a time on the instance."""

from __future__ import annotations

import os
import socket
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.cli import (
    INSTANCE_CONFIG,
    CommandError,
    check_partition_range,
    ensure_instance_config,
    refuse_if_a_run_is_in_progress,
)
from orchestration.dagster_defs.partitions import START_DATE, TIMEZONE
from orchestration.dagster_defs.stale_runs import HOST_TAG, PID_TAG, WORKER_TAG, worker_tag
from tests.conftest import ended_pid, start_run


def test_a_range_outside_the_partitions_is_refused_with_its_cause():
    first = date.fromisoformat(START_DATE)
    with pytest.raises(CommandError, match="before the first daily partition.*OMNI_START_DATE"):
        check_partition_range(first - timedelta(days=1), first)
    after_today = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=2)
    with pytest.raises(CommandError, match="after the last daily partition.*OMNI_TIMEZONE"):
        check_partition_range(first, after_today)
    with pytest.raises(CommandError, match="ends .* before it starts"):
        check_partition_range(first + timedelta(days=1), first)
    check_partition_range(first, first + timedelta(days=1))


def _started_run(instance: dg.DagsterInstance, worker_pid: int | None) -> dg.DagsterRun:
    """A run as `omni` starts it in-process (its worker recorded in its tags), or without a worker."""
    run_id = f"run-{len(instance.get_runs())}"
    tags = {}
    if worker_pid:
        tags = {PID_TAG: str(worker_pid), HOST_TAG: socket.gethostname(), WORKER_TAG: worker_tag(run_id, worker_pid)}
    run = dg.DagsterRun(job_name="daily_job", run_id=run_id, tags=tags)
    start_run(instance, run)
    return run


def test_a_run_in_progress_is_waited_for_and_a_killed_one_is_marked_failed():
    instance = dg.DagsterInstance.ephemeral()
    refuse_if_a_run_is_in_progress(instance)  # nothing in progress
    killed = _started_run(instance, ended_pid())
    refuse_if_a_run_is_in_progress(instance)
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    running = _started_run(instance, os.getpid())
    with pytest.raises(CommandError, match=f"run {running.run_id} of daily_job, started by omni") as busy:
        refuse_if_a_run_is_in_progress(instance)
    assert busy.value.exit_code == 3 and "terminate it in the Dagster UI" in str(busy.value)
    instance.report_run_failed(instance.get_run_by_id(running.run_id))
    daemon = _started_run(instance, None)
    with pytest.raises(CommandError, match=f"run {daemon.run_id} of daily_job, started by the Dagster daemon"):
        refuse_if_a_run_is_in_progress(instance)


def test_a_new_instance_runs_one_run_at_a_time_and_a_users_configuration_is_kept(tmp_path, capsys):
    home = tmp_path / "dagster"
    ensure_instance_config(home)
    config = home / "dagster.yaml"
    assert config.read_text() == INSTANCE_CONFIG
    instance = dg.DagsterInstance.from_config(str(home))
    assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    config.write_text("telemetry:\n  enabled: false\n")
    ensure_instance_config(home)
    assert config.read_text() == "telemetry:\n  enabled: false\n"
    assert "does not set concurrency.runs.max_concurrent_runs: 1" in capsys.readouterr().err
    config.write_text("# max_concurrent_runs: 1\nconcurrency:\n  runs:\n    max_concurrent_runs:  10\n")
    ensure_instance_config(home)
    assert "does not set" in capsys.readouterr().err
    config.write_text("run_coordinator:\n  module: m\n  class: C\n  config:\n    max_concurrent_runs: 1\n")
    ensure_instance_config(home)
    assert capsys.readouterr().err == ""


def test_make_dev_beside_a_run_in_progress_leaves_the_funnels_and_manifest_as_the_run_wrote_them(
    data_dir, monkeypatch, capsys
):
    from orchestration import cli
    from orchestration.config import get_paths
    from orchestration.funnels.compile import config_dir

    parsed = []
    monkeypatch.setattr(cli, "dbt_parse", lambda paths: parsed.append(paths))
    saved = dict(os.environ)  # prepare_dev sets the environment of the process, as make dev needs
    try:
        cli.prepare_dev()
        funnels = sorted(config_dir(get_paths()).glob("*.parquet"))
        assert parsed and funnels
        written = {f: f.stat().st_mtime_ns for f in funnels}
        running = _started_run(dg.DagsterInstance.get(), os.getpid())  # an omni run, alive
        cli.prepare_dev()
        assert len(parsed) == 1 and {f: f.stat().st_mtime_ns for f in funnels} == written
        assert f"note: run {running.run_id} of daily_job" in capsys.readouterr().err
    finally:
        os.environ.clear()
        os.environ.update(saved)
