"""Runs whose worker process is gone (a killed `omni`, a run worker killed by the out-of-memory killer, a
machine restarted mid-run) never record their end: Dagster keeps them in progress for ever, and with one
run at a time (orchestration/cli.py, INSTANCE_CONFIG) they would block the daemon's queue and `omni`.
Dagster's run monitoring cannot tell for local runs (the default run launcher has no worker health
check), so they are found here and marked failed: by `omni` before it starts, and by stale_runs_sensor
every minute while the daemon runs."""

from __future__ import annotations

import os
import socket

import dagster as dg

# Tags of the runs `omni` starts in-process: its process is the run's worker.
PID_TAG, HOST_TAG = "omni/pid", "omni/host"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# how much later than the run's launch its worker's start may read (the kernel counts in clock ticks,
# since a boot time in whole seconds)
_START_SLACK_SECONDS = 5.0
_WORKER_STARTED = "Started process for run (pid: "


def _process_start(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), None if there is no such process. Where /proc cannot
    tell the time (not Linux), a live process reads as started at 0 (never younger than a run)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open("/proc/stat") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return 0.0
    # field 22, counted after the command name (which may hold spaces and parentheses)
    ticks = float(stat[stat.rfind(")") + 2 :].split()[19])
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _local_origin(run: dg.DagsterRun) -> bool:
    """Whether the run's worker ran on this machine: its code location is a server the daemon or UI
    started here, or a gRPC server on this host (a remote one's processes are not ours to look at)."""
    from dagster._core.remote_origin import (
        GrpcServerCodeLocationOrigin,
        InProcessCodeLocationOrigin,
        ManagedGrpcPythonEnvCodeLocationOrigin,
    )

    if run.remote_job_origin is None:
        return False
    origin = run.remote_job_origin.repository_origin.code_location_origin
    if isinstance(origin, (ManagedGrpcPythonEnvCodeLocationOrigin, InProcessCodeLocationOrigin)):
        return True
    return isinstance(origin, GrpcServerCodeLocationOrigin) and origin.host in (
        "localhost",
        "127.0.0.1",
        socket.gethostname(),
    )


def run_worker(instance: dg.DagsterInstance, record) -> tuple[int, float] | None:
    """(pid, when it was launched) of the run's worker process on this machine, None when unknown: `omni`'s
    tags, else the pid the run worker logged on start (runs of the daemon and the UI)."""
    run = record.dagster_run
    pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
    if pid:
        return (int(pid), record.create_timestamp.timestamp()) if host == socket.gethostname() else None
    if not _local_origin(run):
        return None
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if (entry.message or "").startswith(_WORKER_STARTED):
            logged = entry.dagster_event.engine_event_data.metadata.get("pid")
            if logged is not None:
                return int(logged.value), entry.timestamp
    return None


def worker_gone(instance: dg.DagsterInstance, record) -> str | None:
    """Why the in-progress run's worker is known to be gone, None if it may still run."""
    worker = run_worker(instance, record)
    if worker is None:
        return None
    pid, launched = worker
    started = _process_start(pid)
    if started is None:
        return f"its worker process ({pid}) ended without recording the run's end"
    if started > launched + _START_SLACK_SECONDS:
        return f"its worker process ({pid}) ended without recording the run's end (the pid is another process's now)"
    return None


def fail_stale_runs(instance: dg.DagsterInstance) -> list[str]:
    """Marks failed every in-progress run whose worker is gone; returns their ids."""
    failed = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        reason = worker_gone(instance, record)
        if reason:
            instance.report_run_failed(record.dagster_run, message=reason)
            failed.append(record.dagster_run.run_id)
    return failed


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def stale_runs_sensor(context: dg.SensorEvaluationContext):
    """Marks failed the runs whose worker process is gone (killed, the machine restarted), which would
    otherwise stay in progress and block the queue (one run at a time). Requests nothing."""
    failed = fail_stale_runs(context.instance)
    return dg.SkipReason(
        f"marked failed, their worker gone: {', '.join(failed)}" if failed else "no run with its worker gone"
    )
