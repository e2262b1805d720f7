"""Runs whose worker process is gone are ended (by the sensor and by `omni`), live ones and runs of
another code server are left alone, and a daily partition's run is requested again once."""

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
    RERUN_OF_TAG,
    WORKER_TAG,
    end_stale_runs,
    here,
    process_identity,
    stale_runs_sensor,
)
from tests.conftest import ended_pid, log_run_event, start_run

LOCAL = ManagedGrpcPythonEnvCodeLocationOrigin(
    loadable_target_origin=LoadableTargetOrigin(module_name="orchestration.definitions"), location_name="omni"
)
REMOTE = GrpcServerCodeLocationOrigin(host="10.9.8.7", port=4000, location_name="another")


def _daemon_run(
    instance: dg.DagsterInstance, location, worker_pid: int | None, launched: float, tags: dict | None = None
) -> str:
    """A run as the daemon launches it: its origin, started, and the pid its worker logged on start."""
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "daily_job")
    run_id = f"run-{len(instance.get_runs())}"
    run = dg.DagsterRun(job_name="daily_job", run_id=run_id, remote_job_origin=origin, tags=tags or {})
    start_run(instance, run, launched)
    if worker_pid is not None:
        message = f"Started process for run (pid: {worker_pid})."
        event = dg.DagsterEvent(dg.DagsterEventType.ENGINE_EVENT.value, job_name="daily_job", message=message,
                                event_specific_data=EngineEventData.in_process(worker_pid))  # fmt: skip
        log_run_event(instance, run_id, event, launched)  # as the run worker logs it: the message in the event
    return run.run_id


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


def test_the_code_server_ends_its_runs_whose_worker_is_gone_and_records_live_ones(live_worker):
    """As the sensor does in the code server that launched the workers (location "omni")."""
    instance = dg.DagsterInstance.ephemeral()
    now = time.time()
    gone = _daemon_run(instance, LOCAL, ended_pid(), now)
    alive = _daemon_run(instance, LOCAL, live_worker, now)  # our child, as the server's workers are
    # pid 1 is not our child: a stranger holding the pid since a restart after the run started ...
    restarted = _daemon_run(instance, LOCAL, 1, _boot_time() - 3600)
    # ... or a worker of an earlier code server still running: not judged
    earlier_server = _daemon_run(instance, LOCAL, 1, now)
    other_location = _daemon_run(instance, REMOTE, ended_pid(), now)  # another code server's run
    starting = _daemon_run(instance, LOCAL, None, now)  # no worker logged yet
    failed = {run.run_id for run in end_stale_runs(instance, location="omni")}
    assert failed == {gone, restarted}
    assert _status(instance, gone) == _status(instance, restarted) == dg.DagsterRunStatus.FAILURE
    for run_id in (alive, earlier_server, other_location, starting):
        assert _status(instance, run_id) == dg.DagsterRunStatus.STARTED
    failure = instance.all_logs(gone, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
    assert "worker process" in failure.message and "ended without recording the run's end" in failure.message
    # the live worker is recorded for its run (where, pid, boot id and start ticks), not by wall clocks
    recorded = instance.get_run_by_id(alive).tags[WORKER_TAG]
    assert recorded == f"{alive}|{here()}|{live_worker}|{process_identity(live_worker)}"
    assert end_stale_runs(instance, location="omni") == []
    # a recorded worker whose pid another process holds now (a wrap-around, a restart) is gone
    instance.add_run_tags(alive, {WORKER_TAG: f"{alive}|{here()}|{live_worker}|other-boot:1"})
    assert [run.run_id for run in end_stale_runs(instance, location="omni")] == [alive]


def test_a_re_executed_run_is_not_judged_by_its_parents_worker(live_worker):
    """Dagster copies tags onto a re-executed run (the UI's re-execute, run retries): the parent's dead
    worker must not end the new run."""
    instance = dg.DagsterInstance.ephemeral()
    parent = "run-parent"
    copied = {WORKER_TAG: f"{parent}|{here()}|{ended_pid()}|b:1", PID_TAG: "1", HOST_TAG: socket.gethostname()}
    child = _daemon_run(instance, LOCAL, live_worker, time.time(), copied)
    assert end_stale_runs(instance, location="omni") == [] and end_stale_runs(instance, location=None) == []
    assert _status(instance, child) == dg.DagsterRunStatus.STARTED


def test_a_run_being_canceled_whose_worker_is_gone_is_canceled_not_failed():
    instance = dg.DagsterInstance.ephemeral()
    run_id = _daemon_run(instance, LOCAL, ended_pid(), time.time())
    instance.report_run_canceling(instance.get_run_by_id(run_id))  # Terminate, without force
    assert end_stale_runs(instance, location="omni") == []
    assert _status(instance, run_id) == dg.DagsterRunStatus.CANCELED


def test_the_sensor_requests_a_daily_partition_again_once(live_worker):
    instance = dg.DagsterInstance.ephemeral()
    ended = ended_pid()
    day = "2026-10-02"
    first = f"run-{len(instance.get_runs())}"
    _daemon_run(instance, LOCAL, None, time.time(),
                {"dagster/partition": day, WORKER_TAG: f"{first}|{here()}|{ended}|b:1"})  # fmt: skip
    result = list(stale_runs_sensor(dg.build_sensor_context(instance=instance)))
    assert [(r.partition_key, r.tags[RERUN_OF_TAG]) for r in result] == [(day, first)]
    # the run requested again dies too: ended, not requested a third time
    second = f"run-{len(instance.get_runs())}"
    tags = {"dagster/partition": day, RERUN_OF_TAG: first, WORKER_TAG: f"{second}|{here()}|{ended}|b:1"}
    _daemon_run(instance, LOCAL, None, time.time(), tags)
    (skip,) = stale_runs_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(skip, dg.SkipReason) and second in skip.skip_message
    assert _status(instance, second) == dg.DagsterRunStatus.FAILURE


def test_omni_judges_a_daemon_run_only_once_its_worker_is_recorded_where_omni_runs(live_worker):
    """omni may run in another container or on another machine than the daemon's workers: a pid it cannot
    see is no proof. It ends a daemon run whose worker recorded where omni runs is gone, and its own runs."""
    instance = dg.DagsterInstance.ephemeral()
    unrecorded = _daemon_run(instance, LOCAL, ended_pid(), time.time())
    with pytest.raises(Exception, match=f"run {unrecorded} of daily_job, started by the Dagster daemon or UI"):
        refuse_if_a_run_is_in_progress(instance)
    instance.report_run_failed(instance.get_run_by_id(unrecorded))
    n = len(instance.get_runs())
    elsewhere = _daemon_run(instance, LOCAL, None, time.time(), {WORKER_TAG: f"run-{n}|another-host/ns|1|b:1"})
    with pytest.raises(Exception, match=f"run {elsewhere} of daily_job"):
        refuse_if_a_run_is_in_progress(instance)
    instance.report_run_failed(instance.get_run_by_id(elsewhere))
    ended, n = ended_pid(), len(instance.get_runs())
    recorded = _daemon_run(instance, LOCAL, None, time.time(), {WORKER_TAG: f"run-{n}|{here()}|{ended}|b:1"})
    refuse_if_a_run_is_in_progress(instance)  # not busy: the dead run is marked failed
    assert _status(instance, recorded) == dg.DagsterRunStatus.FAILURE
