"""copy_database: a copy of a DuckDB file keeps the transactions still in its write-ahead log."""

from __future__ import annotations

import shutil

import duckdb

from orchestration.duckdb_files import copy_database, wal_of


def _database_with_rows_in_its_log(path):
    con = duckdb.connect(str(path), config={"checkpoint_threshold": "1GB"})
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("create table t as select range as i from range(1000)")
    con.close()
    assert wal_of(path).exists()


def test_copy_keeps_the_rows_of_the_log(tmp_path):
    source = tmp_path / "a.duckdb"
    _database_with_rows_in_its_log(source)
    copy_database(source, tmp_path / "b.duckdb")
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        assert con.execute("select count(*) from t").fetchone() == (1000,)
    # the file alone lacks them: what copying it without its log loses
    shutil.copyfile(source, tmp_path / "c.duckdb")
    with duckdb.connect(str(tmp_path / "c.duckdb")) as con:
        assert con.execute("select count(*) from information_schema.tables where table_name = 't'").fetchone() == (0,)


def test_copy_removes_a_stale_log_at_the_target(tmp_path):
    source = tmp_path / "a.duckdb"
    with duckdb.connect(str(source)) as con:
        con.execute("create table t as select 1 as i")
    target = tmp_path / "b.duckdb"
    _database_with_rows_in_its_log(target)
    copy_database(source, target)
    assert not wal_of(target).exists()
    with duckdb.connect(str(target)) as con:
        assert con.execute("select count(*) from t").fetchone() == (1,)
