"""Runs whose worker process is gone (a killed `omni`, a machine restarted mid-run, a killed process tree)
never record their end: Dagster keeps them in progress for ever, and with one run at a time
(orchestration/cli.py, INSTANCE_CONFIG) they would block the daemon's queue and `omni`. Dagster's run
monitoring cannot tell for local runs (the default run launcher has no worker health check), so they are
found here and marked failed: by stale_runs_sensor every minute while the daemon runs, and by `omni`
before it starts. Dagster's run retries (INSTANCE_CONFIG) then run a daemon's run again once.

A worker is known by its host, pid and identity (the kernel's boot id and the process's start time in
clock ticks since boot), never by wall-clock times, which a clock step moves: `omni` tags its runs with
its own; a run of the daemon or the UI logs its worker's pid on start, and the sensor (which runs in the
code server beside the workers it launches) records that worker's host and identity on first sight."""

from __future__ import annotations

import os
import socket

import dagster as dg

# Tags of the runs `omni` starts in-process: its process is the run's worker.
PID_TAG, HOST_TAG = "omni/pid", "omni/host"
# "<host>|<pid>|<boot id>:<start ticks>" of the run's worker (omni's own, or recorded by the sensor)
WORKER_TAG = "omni/worker"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_WORKER_STARTED = "Started process for run (pid: "
# A run without a recorded worker identity is taken as ended by a restart when the machine booted this
# long after the run started (wall clocks: a margin that no clock step of a sleeping laptop makes up).
_RESTART_SLACK_SECONDS = 600.0


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def process_identity(pid: int) -> str | None:
    """'<boot id>:<start ticks>' of process `pid`, None if there is no such process, '' where /proc cannot
    tell (not Linux): a pid reused after a restart or a wrap-around has another identity."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    stat, boot_id = _read(f"/proc/{pid}/stat"), _read("/proc/sys/kernel/random/boot_id")
    if stat is None or boot_id is None:
        return "" if stat is None and boot_id is None else None
    # field 22, counted after the command name (which may hold spaces and parentheses)
    return f"{boot_id.strip()}:{stat[stat.rfind(')') + 2 :].split()[19]}"


def worker_tag(pid: int) -> str:
    return f"{socket.gethostname()}|{pid}|{process_identity(pid) or ''}"


def _boot_time() -> float | None:
    stat = _read("/proc/stat")
    lines = [line for line in (stat or "").splitlines() if line.startswith("btime ")]
    return float(lines[0].split()[1]) if lines else None


def _local_origin(run: dg.DagsterRun) -> bool:
    """Whether the run's worker was launched by a code server the daemon or the UI started on their machine
    (or a gRPC server on localhost): the machine the sensor runs on."""
    from dagster._core.remote_origin import (
        GrpcServerCodeLocationOrigin,
        InProcessCodeLocationOrigin,
        ManagedGrpcPythonEnvCodeLocationOrigin,
    )

    origin = run.remote_job_origin.repository_origin.code_location_origin
    if isinstance(origin, (ManagedGrpcPythonEnvCodeLocationOrigin, InProcessCodeLocationOrigin)):
        return True
    return isinstance(origin, GrpcServerCodeLocationOrigin) and origin.host in ("localhost", "127.0.0.1")


def _logged_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[int, float] | None:
    """(pid, when) the run's worker logged on start, None before it has."""
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if (entry.message or "").startswith(_WORKER_STARTED):
            logged = entry.dagster_event.engine_event_data.metadata.get("pid")
            if logged is not None:
                return int(logged.value), entry.timestamp
    return None


def worker_gone(instance: dg.DagsterInstance, record, *, beside_workers: bool) -> str | None:
    """Why the in-progress run's worker is known to be gone, None if it may still run. beside_workers: the
    caller runs on the machine of the daemon's workers (the sensor); it then records a daemon run's worker
    on first sight. `omni` is not (a devcontainer, another machine sharing the instance): it judges a
    daemon run only once the sensor has recorded its worker."""
    run = record.dagster_run
    tag = run.tags.get(WORKER_TAG)
    if run.remote_job_origin is None:  # `omni` in-process (a re-executed run copies tags, but has an origin)
        if not run.tags.get(PID_TAG):
            return None
        host, pid, identity = run.tags.get(HOST_TAG), int(run.tags[PID_TAG]), None
        if tag:
            host, _, identity = tag.split("|", 2)
        launched = record.create_timestamp.timestamp()
    elif tag:
        host, pid_text, identity = tag.split("|", 2)
        pid, launched = int(pid_text), None
    else:
        if not (beside_workers and _local_origin(run)):
            return None
        logged = _logged_worker(instance, run)
        if logged is None:
            return None
        host, identity, (pid, launched) = socket.gethostname(), None, logged
    if host != socket.gethostname():
        return None
    now = process_identity(pid)
    if now is None:
        return f"its worker process ({pid}) ended without recording the run's end"
    if identity:
        return (
            None if now in (identity, "") else f"its worker process ({pid}) is gone (the pid is another process's now)"
        )
    # no identity recorded (a daemon run seen for the first time, or a run of an older omni): the live pid
    # is its worker unless the machine restarted after the launch (by a margin no clock step makes up)
    boot = _boot_time()
    if launched is not None and boot is not None and boot > launched + _RESTART_SLACK_SECONDS:
        return f"its worker process ({pid}) is gone: the machine restarted after the run started"
    if run.remote_job_origin is not None and now:
        instance.add_run_tags(run.run_id, {WORKER_TAG: f"{host}|{pid}|{now}"})
    return None


def fail_stale_runs(instance: dg.DagsterInstance, *, beside_workers: bool = True) -> list[str]:
    """Marks failed every in-progress run whose worker is gone; returns their ids."""
    failed = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        reason = worker_gone(instance, record, beside_workers=beside_workers)
        if reason:
            instance.report_run_failed(record.dagster_run, message=reason)
            failed.append(record.dagster_run.run_id)
    return failed


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def stale_runs_sensor(context: dg.SensorEvaluationContext):
    """Marks failed the runs whose worker process is gone (killed, the machine restarted), which would
    otherwise stay in progress and block the queue (one run at a time); Dagster's run retries run a
    daemon's run again. Requests nothing."""
    failed = fail_stale_runs(context.instance)
    return dg.SkipReason(
        f"marked failed, their worker gone: {', '.join(failed)}" if failed else "no run with its worker gone"
    )
