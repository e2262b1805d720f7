"""Runs whose worker process is gone are marked failed (by the sensor and by `omni`), live ones and runs of
a remote code server are left alone."""

from __future__ import annotations

import socket
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
from orchestration.dagster_defs.stale_runs import (
    HOST_TAG,
    PID_TAG,
    WORKER_TAG,
    fail_stale_runs,
    process_identity,
    stale_runs_sensor,
)

LOCAL = ManagedGrpcPythonEnvCodeLocationOrigin(
    loadable_target_origin=LoadableTargetOrigin(module_name="orchestration.definitions"), location_name="omni"
)
REMOTE = GrpcServerCodeLocationOrigin(host="10.9.8.7", port=4000, location_name="omni")


def _daemon_run(
    instance: dg.DagsterInstance, location, worker_pid: int | None, launched: float, tags: dict | None = None
) -> str:
    """A run as the daemon launches it: its origin, started, and the pid its worker logged on start."""
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "daily_job")
    run_id = f"run-{len(instance.get_runs())}"
    run = dg.DagsterRun(job_name="daily_job", run_id=run_id, remote_job_origin=origin, tags=tags or {})
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


def _boot_time() -> float:
    with open("/proc/stat") as f:
        return next(float(line.split()[1]) for line in f if line.startswith("btime "))


def test_the_sensor_fails_daemon_runs_whose_worker_is_gone_and_leaves_the_others(live_worker):
    instance = dg.DagsterInstance.ephemeral()
    now = time.time()
    gone = _daemon_run(instance, LOCAL, _ended_pid(), now)
    alive = _daemon_run(instance, LOCAL, live_worker, now)
    # the machine restarted after the run started: the logged pid is another process's now
    restarted = _daemon_run(instance, LOCAL, live_worker, _boot_time() - 3600)
    remote = _daemon_run(instance, REMOTE, _ended_pid(), now)  # not our processes to look at
    starting = _daemon_run(instance, LOCAL, None, now)  # no worker logged yet
    result = stale_runs_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SkipReason) and gone in result.skip_message and restarted in result.skip_message
    assert _status(instance, gone) == _status(instance, restarted) == dg.DagsterRunStatus.FAILURE
    for run_id in (alive, remote, starting):
        assert _status(instance, run_id) == dg.DagsterRunStatus.STARTED
    failure = instance.all_logs(gone, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
    assert "worker process" in failure.message and "ended without recording the run's end" in failure.message
    # the live worker is recorded on first sight (host, pid, boot id and start ticks), not by wall clocks
    recorded = instance.get_run_by_id(alive).tags[WORKER_TAG]
    assert recorded == f"{socket.gethostname()}|{live_worker}|{process_identity(live_worker)}"
    assert fail_stale_runs(instance) == []
    # a recorded worker whose pid another process holds now (a wrap-around, a restart) is gone
    instance.add_run_tags(alive, {WORKER_TAG: f"{socket.gethostname()}|{live_worker}|other-boot:1"})
    assert fail_stale_runs(instance) == [alive]


def test_omni_judges_a_daemon_run_only_once_the_sensor_recorded_its_worker(live_worker):
    """omni may run in another container or on another machine than the daemon's workers: a pid it cannot
    see is no proof. It fails a daemon run whose recorded worker on its host is gone, and omni runs."""
    instance = dg.DagsterInstance.ephemeral()
    unrecorded = _daemon_run(instance, LOCAL, _ended_pid(), time.time())
    with pytest.raises(Exception, match=f"run {unrecorded} of daily_job, started by the Dagster daemon or UI"):
        refuse_if_a_run_is_in_progress(instance)
    instance.report_run_failed(instance.get_run_by_id(unrecorded))
    here = socket.gethostname()
    elsewhere = _daemon_run(instance, LOCAL, None, time.time(), {WORKER_TAG: f"another-host|{_ended_pid()}|b:1"})
    with pytest.raises(Exception, match=f"run {elsewhere} of daily_job"):
        refuse_if_a_run_is_in_progress(instance)
    instance.report_run_failed(instance.get_run_by_id(elsewhere))
    ended = _ended_pid()
    recorded = _daemon_run(instance, LOCAL, ended, time.time(), {WORKER_TAG: f"{here}|{ended}|b:1"})
    refuse_if_a_run_is_in_progress(instance)  # not busy: the dead run is marked failed
    assert _status(instance, recorded) == dg.DagsterRunStatus.FAILURE
    # an omni run whose pid a younger process holds now (its identity differs)
    run = dg.DagsterRun(job_name="daily_job", run_id="omni-reused", tags={
        PID_TAG: str(live_worker), HOST_TAG: here, WORKER_TAG: f"{here}|{live_worker}|other-boot:1"})  # fmt: skip
    instance.add_run(run)
    instance.handle_new_event(
        dg.EventLogEntry(error_info=None, level="DEBUG", user_message="", run_id=run.run_id, timestamp=time.time(),
                         dagster_event=dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name="daily_job"))
    )  # fmt: skip
    refuse_if_a_run_is_in_progress(instance)
    assert _status(instance, "omni-reused") == dg.DagsterRunStatus.FAILURE
