"""`omni`: the command line for analytics engineers and schedulers.

  omni run [--start D] [--end D] [--full-refresh]
                                   demo exports if the landing folder is empty, then ONE Dagster run of
                                   daily_job over every landing day: ingest, dbt build, gates, publish
  omni day YYYY-MM-DD               one landing day: ingest it, build incrementally, gate, publish
  omni backfill START END [--full-refresh]
                                   a date range as one Dagster run (one dbt build over the range)
  omni today                        today's partition (in OMNI_TIMEZONE), incrementally
  omni demo [--persons N ...]       write demo exports into the landing folder
  omni summary                      print the summary of what is in the lake and the serving database
  omni evaluate-identity            pairwise precision / recall of person_identifiers against the truth

Exit codes: 0 done; 1 failed (nothing published for a failed build or gate, see the message); 2 built and
published, but landed files could not be ingested (named in the message, they stay in landing); 3 another
run is in progress on the instance (nothing done: try again later).

Every run goes through the Dagster instance in DAGSTER_HOME (default data/dagster), so runs, asset
materialisations and check results show up in `make dev` (the Dagster UI).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import warnings
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.config import DBT_PROJECT_DIR, Paths, dbt_env, get_paths
from orchestration.funnels.definitions import FunnelDefinitionError


class CommandError(RuntimeError):
    """An error the user can fix; printed without a traceback."""

    exit_code = 1


class BusyError(CommandError):
    """Another run is in progress on the instance: exit 3, so that a scheduler can try again later."""

    exit_code = 3

    def __init__(self, which: str, message: str):
        super().__init__(f"{which}: {message}")
        self.which = which  # "run <id> of <job>, started by ..., is in progress on the instance in ..."


class UnreadFilesError(CommandError):
    """The run built and published, but landed files could not be ingested: exit 2, so that a scheduler
    tells a day with a missing export from a good one (exit 0) and from a failed run (exit 1)."""

    exit_code = 2


# A new Dagster instance runs one run at a time: every run writes the one DuckDB build file, which one
# process can open for writing; a second run would fail on its lock, or publish marts that its own gates
# never saw. The daemon queues the runs the schedule and the sensor request; `omni` waits for none and
# refuses to start beside a run in progress (refuse_if_a_run_is_in_progress).
INSTANCE_CONFIG = """# written by omni (orchestration/cli.py): one run at a time, see INSTANCE_CONFIG there
concurrency:
  runs:
    max_concurrent_runs: 1
"""


def _max_concurrent_runs(config: Path):
    """The run limit a dagster.yaml sets (concurrency.runs, or the queued run coordinator's), else None."""
    import yaml

    try:
        data = yaml.safe_load(config.read_text()) or {}
    except yaml.YAMLError:
        return None
    runs = (data.get("concurrency") or {}).get("runs") or {}
    coordinator = ((data.get("run_coordinator") or {}).get("config") or {}).get("max_concurrent_runs")
    return runs.get("max_concurrent_runs", coordinator)


def ensure_instance_config(dagster_home: Path) -> None:
    """INSTANCE_CONFIG in a new (or empty) dagster.yaml; a user's own configuration is kept."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists() or not config.read_text().strip():
        config.write_text(INSTANCE_CONFIG)
    elif _max_concurrent_runs(config) != 1:
        print(
            f"warning: {config} does not set concurrency.runs.max_concurrent_runs: 1; runs the daemon starts "
            "at once would collide on the build database (see INSTANCE_CONFIG in orchestration/cli.py)",
            file=sys.stderr,
        )


def _prepare_environment(paths: Paths, refuse_busy: bool = False) -> None:
    """Absolute paths for every child process and a persistent Dagster instance. refuse_busy: stop first if
    a run is in progress on the instance (before the funnels and dbt's manifest are written again)."""
    os.environ.update(dbt_env(paths))
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    ensure_instance_config(paths.dagster_home)
    if refuse_busy:
        refuse_if_a_run_is_in_progress(_instance())
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    from orchestration.funnels.compile import compile_funnels
    from orchestration.lake_layout import ensure_schema_stubs

    ensure_schema_stubs(paths)
    # dbt's funnel_config source must exist before dbt parses or builds; invalid YAML stops us here.
    compile_funnels(DBT_PROJECT_DIR / "funnels", paths)


def prepare_dev() -> None:
    """`make dev`: the environment, funnel configuration and dbt manifest the UI loads. Beside a run in
    progress they are left as that run wrote them (written again, they would change under it); the UI
    still starts, to watch it."""
    paths = get_paths()
    try:
        _prepare_environment(paths, refuse_busy=True)
    except BusyError as exc:
        print(
            f"note: {exc.which}: the funnel configuration and dbt's manifest are left as that run "
            "wrote them (run make dev again after it to load changed funnels or models)",
            file=sys.stderr,
        )
        return
    dbt_parse(paths)


def dbt_parse(paths: Paths) -> None:
    """Write manifest.json in dbt's target folder (config.dbt_target_path), which the Dagster dbt assets are
    loaded from."""
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    proc = subprocess.run(
        [dbt, "parse", "--quiet"], cwd=DBT_PROJECT_DIR, env=dbt_env(paths), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise CommandError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")


def landing_days(paths: Paths) -> list[date]:
    days: set[date] = set()
    if paths.landing.is_dir():
        for table_dir in paths.landing.iterdir():
            if table_dir.is_dir():
                for d in table_dir.iterdir():
                    try:
                        days.add(date.fromisoformat(d.name))
                    except ValueError:
                        continue
    return sorted(days)


def generate_demo_if_empty(paths: Paths, args: argparse.Namespace) -> dict | None:
    if landing_days(paths):
        return None
    print(f"Landing folder {paths.landing} is empty: generating the demo exports ...", flush=True)
    return generate_demo(paths, args)


def generate_demo(paths: Paths, args: argparse.Namespace) -> dict:
    """The demo exports into the landing folder (and the truth beside them), as the CLI's demo flags say."""
    from orchestration import demo

    return demo.generate(
        persons=args.persons,
        days=args.days,
        start=date.fromisoformat(args.demo_start),
        seed=args.seed,
        landing_dir=paths.landing,
        truth_dir=paths.truth,
        progress=sys.stderr.isatty(),
        incident=args.incident,
    )


# Dagster's console logger at INFO: step starts/ends and our messages, not every event.
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _instance():
    from dagster import DagsterInstance

    return DagsterInstance.get()


def refuse_if_a_run_is_in_progress(instance) -> None:
    """Two runs at once would both write the build database. A run whose worker process is gone (killed,
    or the machine restarted: it never recorded its end) is ended instead, or it would block every later
    run and the daemon's queue (orchestration/dagster_defs/stale_runs.py)."""
    import dagster as dg

    from orchestration.dagster_defs.stale_runs import HOST_TAG, IN_PROGRESS, PID_TAG, end_stale_runs

    end_stale_runs(instance, location=None)
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS), limit=1):
        run = record.dagster_run
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        started_by = f"omni (pid {pid} on {host})" if pid else "the Dagster daemon or UI"
        raise BusyError(
            f"run {run.run_id} of {run.job_name}, started by {started_by}, is in progress on the instance in "
            f"{os.environ.get('DAGSTER_HOME')}",
            "try again when it has ended (two runs at once would both write the build database, which one "
            "process at a time can open). A run whose worker is gone is marked failed by the daemon's "
            "stale_runs_sensor within a minute; if it is not running any more and the daemon is not running "
            "either, terminate it in the Dagster UI (make dev: Runs, the run, Terminate, force)",
        )


def check_partition_range(start: date, end: date) -> None:
    """The range must be daily partitions, checked before a run starts: Dagster would otherwise retry
    each ingestion step and report "Exceeded max_retries", the cause only in stack traces."""
    from orchestration.dagster_defs.partitions import START_DATE, TIMEZONE, daily_partitions

    if end < start:
        raise CommandError(f"the range ends ({end}) before it starts ({start})")
    keys = daily_partitions.get_partition_keys()
    if start.isoformat() < keys[0]:
        raise CommandError(
            f"{start} is before the first daily partition, {keys[0]} (OMNI_START_DATE={START_DATE}): "
            f"set OMNI_START_DATE={start} (or earlier) to ingest it"
        )
    if end.isoformat() > keys[-1]:
        raise CommandError(
            f"{end} is after the last daily partition, {keys[-1]} (today in OMNI_TIMEZONE={TIMEZONE}): "
            "a landing day can be built from that day on"
        )


def run_daily(start: date, end: date, full_refresh: bool = False) -> list[str]:
    """One Dagster run of daily_job over the partition range: ingestion, dbt build, gates, publish.

    Every partitioned asset has a single-run backfill policy, so a range is one run and one `dbt build`
    (with the window min_date/max_date); incremental models reprocess the range widened by var lookback_days.
    Returns what the failed `export_files_ingested` checks say (files that could not be ingested).
    """
    import dagster as dg
    from dagster._core.utils import make_new_run_id

    from orchestration.dagster_defs.ingestion import FILES_INGESTED_CHECK
    from orchestration.dagster_defs.stale_runs import HOST_TAG, PID_TAG, WORKER_TAG, worker_tag
    from orchestration.definitions import defs

    job = defs.resolve_job_def("daily_job")
    run_id = make_new_run_id()  # named in the worker's tag: a re-executed run copies tags
    tags = {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
        PID_TAG: str(os.getpid()),
        WORKER_TAG: worker_tag(run_id, os.getpid()),
        HOST_TAG: socket.gethostname(),
    }
    run_config = dict(RUN_CONFIG)
    if full_refresh:
        run_config["ops"] = {"warehouse_dbt_models": {"config": {"full_refresh": True}}}
    what = f"{start}" if start == end else f"{start} .. {end}"
    print(
        f"Landing days {what}: ingest, dbt build{' --full-refresh' if full_refresh else ''}, gates, publish "
        "(one Dagster run) ...",
        flush=True,
    )
    # (a run in progress was refused by _prepare_environment, before the funnels and the manifest)
    result = job.execute_in_process(
        instance=_instance(), run_id=run_id, tags=tags, raise_on_error=False, run_config=run_config
    )
    unread = [
        f"  {ev.asset_key.to_user_string()}: " + (ev.description or "").strip().replace("\n", "\n    ")
        for ev in result.get_asset_check_evaluations()
        if ev.check_name == FILES_INGESTED_CHECK and not ev.passed
    ]
    if not result.success:
        # each step's whole message (a publish blocked by an earlier day's gate says which, further down)
        failures = [
            f"  {e.step_key}: " + "\n    ".join(e.event_specific_data.error.message.strip().splitlines()[:20])
            for e in result.all_events
            if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
        ]
        # A blocking check's step error only names the check: say what failed (suite, expectation, sample).
        for ev in result.get_asset_check_evaluations():
            if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR:
                detail = (ev.description or "").strip().replace("\n", "\n      ")
                failures.append(f"  check {ev.check_name} on {ev.asset_key.to_user_string()}: {detail}")
        raise CommandError(f"run {result.run_id} failed:\n" + "\n".join(failures + unread))
    return unread


def _raise_if_unread(unread: list[str]) -> None:
    if unread:
        raise UnreadFilesError(
            "the run built and published, but these landed files could not be ingested (none of their rows "
            "is in the lake; they stay in landing: land a fixed export, then run the day again):\n" + "\n".join(unread)
        )


def run(args: argparse.Namespace) -> None:
    paths = get_paths()
    _prepare_environment(paths, refuse_busy=True)
    t0 = time.monotonic()
    demo_summary = generate_demo_if_empty(paths, args)
    days = landing_days(paths)
    if not days:
        raise CommandError(f"nothing to ingest: no landing/<table>/<YYYY-MM-DD>/ folders under {paths.landing}")
    start = date.fromisoformat(args.start) if args.start else days[0]
    end = date.fromisoformat(args.end) if args.end else days[-1]
    check_partition_range(start, end)
    _build_days(paths, start, end, args.full_refresh, demo=demo_summary, started=t0)


def run_range(start: date, end: date, full_refresh: bool = False) -> None:
    check_partition_range(start, end)
    paths = get_paths()
    _prepare_environment(paths, refuse_busy=True)
    _build_days(paths, start, end, full_refresh)


def _build_days(
    paths: Paths, start: date, end: date, full_refresh: bool, demo: dict | None = None, started: float | None = None
) -> None:
    """dbt's manifest, one run over the (checked) range, the summary; exit 2 when files were not ingested."""
    dbt_parse(paths)
    unread = run_daily(start, end, full_refresh=full_refresh)
    from orchestration.summary import print_summary

    print_summary(paths, demo=demo, seconds=None if started is None else time.monotonic() - started)
    _raise_if_unread(unread)


def main(argv: list[str] | None = None) -> int:
    # Dagster flags features we rely on (single-run backfills, partitioned checks) as beta/preview.
    warnings.filterwarnings("ignore", message=".*is currently in (beta|preview).*")
    from orchestration.demo import DEFAULT_DAYS, DEFAULT_PERSONS, DEFAULT_SEED, DEFAULT_START

    parser = argparse.ArgumentParser(prog="omni", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def demo_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--persons", type=int, default=DEFAULT_PERSONS)
        p.add_argument("--days", type=int, default=DEFAULT_DAYS)
        p.add_argument("--demo-start", default=DEFAULT_START.isoformat())
        p.add_argument("--seed", type=int, default=DEFAULT_SEED)
        p.add_argument("--incident", default=None, help="e.g. app_checkout:2026-10-15:2026-10-17")

    p_run = sub.add_parser("run", help="demo if empty, ingest every landing day, build, summary")
    p_run.add_argument("--start", help="first landing day to ingest (default: the earliest present)")
    p_run.add_argument("--end", help="last landing day to ingest (default: the latest present)")
    p_run.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    demo_options(p_run)
    p_day = sub.add_parser("day", help="ingest one landing day, then build")
    p_day.add_argument("day")
    p_back = sub.add_parser("backfill", help="ingest a date range as one run, then build")
    p_back.add_argument("start")
    p_back.add_argument("end")
    p_back.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    sub.add_parser("today", help="ingest today's landing day, then build")
    p_demo = sub.add_parser("demo", help="write demo exports into the landing folder")
    demo_options(p_demo)
    sub.add_parser("summary", help="print the summary")
    sub.add_parser("evaluate-identity", help="compare person_identifiers with data/truth/identifiers.csv")

    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            run(args)
        elif args.command == "day":
            d = date.fromisoformat(args.day)
            run_range(d, d)
        elif args.command == "backfill":
            run_range(date.fromisoformat(args.start), date.fromisoformat(args.end), full_refresh=args.full_refresh)
        elif args.command == "today":
            tz = ZoneInfo(os.environ.get("OMNI_TIMEZONE", "Europe/Copenhagen"))
            today = datetime.now(tz).date()
            run_range(today, today)
        elif args.command == "demo":
            print(generate_demo(get_paths(), args))
        elif args.command == "summary":
            from orchestration.summary import print_summary

            print_summary(get_paths())
        elif args.command == "evaluate-identity":
            from orchestration.summary import print_identity_evaluation

            print_identity_evaluation(get_paths())
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except FunnelDefinitionError as exc:
        print(f"error: invalid funnel definitions:\n{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
