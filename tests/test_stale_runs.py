"""Runs whose worker process is gone are marked failed (by the sensor and by `omni`), live ones and runs of
a remote code server are left alone."""

from __future__ import annotations

import subprocess
import time

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.remote_origin import (
    GrpcServerCodeLocationOrigin,
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from orchestration.cli import refuse_if_a_run_is_in_progress
from orchestration.dagster_defs.stale_runs import fail_stale_runs, stale_runs_sensor

LOCAL = ManagedGrpcPythonEnvCodeLocationOrigin(
    loadable_target_origin=LoadableTargetOrigin(module_name="orchestration.definitions"), location_name="omni"
)
REMOTE = GrpcServerCodeLocationOrigin(host="10.9.8.7", port=4000, location_name="omni")


def _daemon_run(instance: dg.DagsterInstance, location, worker_pid: int | None, launched: float) -> str:
    """A run as the daemon launches it: its origin, started, and the pid its worker logged on start."""
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "daily_job")
    run = dg.DagsterRun(job_name="daily_job", run_id=f"run-{len(instance.get_runs())}", remote_job_origin=origin)
    instance.add_run(run)

    def log(event: dg.DagsterEvent) -> None:
        instance.handle_new_event(
            dg.EventLogEntry(
                error_info=None,
                level="DEBUG",
                user_message="",
                run_id=run.run_id,
                timestamp=launched,
                dagster_event=event,
            )  # fmt: skip
        )

    log(dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name="daily_job"))
    if worker_pid is not None:
        message = f"Started process for run (pid: {worker_pid})."
        log(
            dg.DagsterEvent(
                dg.DagsterEventType.ENGINE_EVENT.value,
                job_name="daily_job",
                message=message,
                event_specific_data=EngineEventData.in_process(worker_pid),
            )  # fmt: skip
        )  # as the run worker logs it: the message in the event, none of the user's
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    return run.run_id


def _ended_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_worker():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _status(instance, run_id):
    return instance.get_run_by_id(run_id).status


def test_the_sensor_fails_daemon_runs_whose_worker_is_gone_and_leaves_the_others(live_worker):
    instance = dg.DagsterInstance.ephemeral()
    now = time.time()
    gone = _daemon_run(instance, LOCAL, _ended_pid(), now)
    alive = _daemon_run(instance, LOCAL, live_worker, now)
    # the machine restarted: the logged pid is another, younger process's now
    reused = _daemon_run(instance, LOCAL, live_worker, now - 3600)
    remote = _daemon_run(instance, REMOTE, _ended_pid(), now)  # not our processes to look at
    starting = _daemon_run(instance, LOCAL, None, now)  # no worker logged yet
    result = stale_runs_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SkipReason) and gone in result.skip_message and reused in result.skip_message
    assert _status(instance, gone) == _status(instance, reused) == dg.DagsterRunStatus.FAILURE
    for run_id in (alive, remote, starting):
        assert _status(instance, run_id) == dg.DagsterRunStatus.STARTED
    assert fail_stale_runs(instance) == []
    failure = instance.all_logs(gone, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
    assert "worker process" in failure.message and "ended without recording the run's end" in failure.message


def test_omni_fails_a_dead_daemon_run_instead_of_waiting_for_it(live_worker):
    instance = dg.DagsterInstance.ephemeral()
    gone = _daemon_run(instance, LOCAL, _ended_pid(), time.time())
    refuse_if_a_run_is_in_progress(instance)  # not busy: the dead run is marked failed
    assert _status(instance, gone) == dg.DagsterRunStatus.FAILURE
    alive = _daemon_run(instance, LOCAL, live_worker, time.time())
    with pytest.raises(Exception, match=f"run {alive} of daily_job, started by the Dagster daemon or UI"):
        refuse_if_a_run_is_in_progress(instance)
