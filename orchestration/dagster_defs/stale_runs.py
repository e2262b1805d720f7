"""Runs whose worker process is gone (a killed `omni`, a machine restarted mid-run, a killed process tree)
never record their end: Dagster keeps them in progress for ever, and with one run at a time
(orchestration/cli.py, INSTANCE_CONFIG) they would block the daemon's queue and `omni`. Dagster's run
monitoring cannot tell for local runs (the default run launcher has no worker health check), so they are
found here and ended: by stale_runs_sensor every minute while the daemon runs, and by `omni` before it
starts. The sensor requests a daily partition's run again once.

A worker is known by where it runs (host name and pid namespace), its pid and its identity (the kernel's
boot id and the process's start time in ticks since boot), never by wall clocks, which a clock step moves;
the record names its run, since Dagster copies tags onto a re-executed run. `omni` records its own; a run
of the daemon or the UI logs its worker's pid on start, and the sensor, which runs in the code server
that launched the worker, records it on first sight when the worker is its own child."""

from __future__ import annotations

import os
import socket

import dagster as dg

from orchestration.dagster_defs.jobs import daily_job

# Tags of the runs `omni` starts in-process: its process is the run's worker.
PID_TAG, HOST_TAG = "omni/pid", "omni/host"
# "<run id>|<where>|<pid>|<identity>" of the run's worker (omni's own, or recorded by the sensor)
WORKER_TAG = "omni/worker"
# the run the sensor requested again after its worker was gone (a run is requested again once)
RERUN_OF_TAG = "omni/rerun_of"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_WORKER_STARTED = "Started process for run (pid: "
# A run whose worker was never recorded is taken as ended by a restart when the machine booted this long
# after the run started (wall clocks: a margin that no clock step of a sleeping laptop makes up).
_RESTART_SLACK_SECONDS = 600.0


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 on (after the command name, which may hold spaces and parentheses)."""
    stat = _read(f"/proc/{pid}/stat")
    return stat[stat.rfind(")") + 2 :].split() if stat else None


def process_identity(pid: int) -> str | None:
    """'<boot id>:<start ticks>' of process `pid`; None only if there is no such process; '' when it
    exists but /proc cannot tell (not Linux, hidden pids): unknown, taken as alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    fields, boot_id = _stat_fields(pid), _read("/proc/sys/kernel/random/boot_id")
    if fields is None or boot_id is None:
        return ""
    return f"{boot_id.strip()}:{fields[19]}"  # field 22: start time in clock ticks since boot


def _parent(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None  # field 4


def here() -> str:
    """This process's machine and pid namespace: containers can share a host name, not pids."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}/{namespace}"


def worker_tag(run_id: str, pid: int) -> str:
    return f"{run_id}|{here()}|{pid}|{process_identity(pid) or ''}"


def _boot_time() -> float | None:
    lines = [line for line in (_read("/proc/stat") or "").splitlines() if line.startswith("btime ")]
    return float(lines[0].split()[1]) if lines else None


def _logged_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[int, float] | None:
    """(pid, when) the run's worker logged on start, None before it has."""
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if (entry.message or "").startswith(_WORKER_STARTED):
            logged = entry.dagster_event.engine_event_data.metadata.get("pid")
            if logged is not None:
                return int(logged.value), entry.timestamp
    return None


def _recorded_worker(run: dg.DagsterRun) -> tuple[str, int, str] | None:
    """(where, pid, identity) recorded for this very run (a re-executed run carries its parent's)."""
    parts = run.tags.get(WORKER_TAG, "").split("|")
    if len(parts) != 4 or parts[0] != run.run_id:
        return None
    return parts[1], int(parts[2]), parts[3]


def worker_gone(instance: dg.DagsterInstance, record, *, location: str | None) -> str | None:
    """Why the in-progress run's worker is known to be gone, None if it may still run. location: the code
    location the caller is the server of (the sensor), which launched the workers of its runs and records
    such a run's worker on first sight; None for `omni` (it may run in a container or on a machine apart
    from the daemon's workers): it judges a daemon's run only once its worker is recorded where `omni` runs."""
    run = record.dagster_run
    recorded = _recorded_worker(run)
    if recorded:
        where, pid, identity = recorded
        if where != here():
            return None
        now = process_identity(pid)
        if now is None:
            return f"its worker process ({pid}) ended without recording the run's end"
        if now and identity and now != identity:
            return f"its worker process ({pid}) is gone (the pid is another process's now)"
        return None
    if run.remote_job_origin is None or location is None:
        return None  # an omni run of an older release, or omni looking at a daemon's run not recorded yet
    if run.remote_job_origin.repository_origin.code_location_origin.location_name != location:
        return None  # launched by another code server, perhaps on another machine
    logged = _logged_worker(instance, run)
    if logged is None:
        return None  # no worker started yet
    pid, launched = logged
    now = process_identity(pid)
    if now is None:
        return f"its worker process ({pid}) ended without recording the run's end"
    if _parent(pid) == os.getpid():
        instance.add_run_tags(run.run_id, {WORKER_TAG: worker_tag(run.run_id, pid)})
        return None
    # not this code server's child: a stranger holding the pid since a restart, or a worker of an earlier
    # code server (restarted since) still running; only a restart well after the launch tells them apart
    boot = _boot_time()
    if boot is not None and boot > launched + _RESTART_SLACK_SECONDS:
        return f"its worker process ({pid}) is gone: the machine restarted after the run started"
    return None


def end_stale_runs(instance: dg.DagsterInstance, *, location: str | None) -> list[dg.DagsterRun]:
    """Ends every in-progress run whose worker is gone: failed, or canceled if it was being canceled (a
    Terminate without force). Returns the runs marked failed."""
    failed = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        reason = worker_gone(instance, record, location=location)
        if not reason:
            continue
        run = instance.get_run_by_id(record.dagster_run.run_id)  # it may have ended meanwhile
        if run is None or run.status not in IN_PROGRESS:
            continue
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message=reason)
        else:
            instance.report_run_failed(run, message=reason)
            failed.append(run)
    return failed


@dg.sensor(job=daily_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def stale_runs_sensor(context: dg.SensorEvaluationContext):
    """Ends the runs whose worker process is gone (killed, the machine restarted), which would otherwise
    stay in progress and block the queue (one run at a time), and requests a daily partition's run again
    once (not a range's, nor a run it requested itself)."""
    origin = context.code_location_origin
    failed = end_stale_runs(context.instance, location=origin.location_name if origin else None)
    again = [
        run
        for run in failed
        if run.job_name == daily_job.name and run.tags.get("dagster/partition") and RERUN_OF_TAG not in run.tags
    ]
    for run in again:
        yield dg.RunRequest(
            run_key=f"rerun:{run.run_id}",
            partition_key=run.tags["dagster/partition"],
            tags={RERUN_OF_TAG: run.run_id},
        )
    if not again:
        ended = ", ".join(run.run_id for run in failed)
        yield dg.SkipReason(f"marked failed, their worker gone: {ended}" if failed else "no run with its worker gone")
