"""Backups: a seeded database goes out with `backup` and comes back whole with `restore`.

Both ways of naming the database are used: DATABASE_URL, and none at all (the embedded
Postgres under the data folder, which the throwaway server here stands in for).
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from homefirst.backup import client_args, describe
from tests.throwaway import BASE_DIR, ThrowawayPostgres, manage, project_env

PROBE = "backup_probe"


def backup_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "homefirst.backup", *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def sql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def table_counts(url: str) -> dict[str, int]:
    """Rows in every table of the project (the probe aside)."""
    with psycopg.connect(url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
            if name != PROBE
        ]
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in tables
        }


def dashboard_figures(url: str, *, computed_at: bool = True) -> dict[str, list[tuple]]:
    """Every row of every dashboard snapshot table: the figures the dashboards show."""
    with psycopg.connect(url) as connection:
        columns = connection.execute(
            """
            SELECT table_name, string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name LIKE 'dashboards\\_%%'
              AND table_name <> 'dashboards_pendingrecompute' AND (%s OR column_name <> 'computed_at')
            GROUP BY table_name ORDER BY table_name
            """,
            [computed_at],
        ).fetchall()
        return {
            table: connection.execute(f'SELECT {names} FROM "{table}" ORDER BY {names}').fetchall()
            for table, names in columns
        }


def damage(url: str) -> None:
    """What a restore must undo: lost figures, an edited name."""
    sql(
        url,
        "TRUNCATE dashboards_dailycensus",
        "UPDATE homefirst_organisation SET name = name || ' (edited)'",
    )


@pytest.fixture
def before(seeded_postgres: ThrowawayPostgres) -> tuple[dict, dict]:
    url = seeded_postgres.url()
    counts, figures = table_counts(url), dashboard_figures(url)
    assert counts["discharge_admission"] > 0 and figures["dashboards_dailycensus"]
    return counts, figures


def test_a_backup_restores_the_database_whole_with_database_url(
    seeded_postgres: ThrowawayPostgres, before, tmp_path
):
    url = seeded_postgres.url()
    env = project_env(tmp_path, DATABASE_URL=url)
    target = tmp_path / "homefirst.dump"

    dashboard_figures_at_backup = dashboard_figures(url, computed_at=False)
    made = backup_command("backup", "--output", str(target), env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"Backup written: {target}" in made.stdout
    damage(url)
    assert (table_counts(url), dashboard_figures(url)) != before

    restored = backup_command("restore", str(target), "--yes", env=env)

    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Restored in" in restored.stdout
    assert (table_counts(url), dashboard_figures(url)) == before
    with psycopg.connect(url) as connection:
        edited = connection.execute(
            "SELECT count(*) FROM homefirst_organisation WHERE name LIKE '%(edited)'"
        ).fetchone()[0]
    assert edited == 0
    # The restored records are whole: the dashboards recomputed from them show the same figures.
    manage("recompute_dashboards", env=env)
    assert dashboard_figures(url, computed_at=False) == dashboard_figures_at_backup


def test_the_embedded_database_restores_from_its_newest_backup(
    seeded_postgres: ThrowawayPostgres, before
):
    url = seeded_postgres.url()
    # No DATABASE_URL: the command finds the Postgres in the data folder, as `make backup` does.
    env = project_env(seeded_postgres.folder)
    sql(url, f"CREATE TABLE {PROBE} (note text)", f"INSERT INTO {PROBE} VALUES ('older')")
    try:
        older = backup_command("backup", env=env)
        assert older.returncode == 0, older.stdout + older.stderr
        sql(url, f"UPDATE {PROBE} SET note = 'newest'")
        newest = backup_command("backup", env=env)
        assert newest.returncode == 0, newest.stdout + newest.stderr
        backups = sorted((seeded_postgres.folder / "backups").glob("*.dump"))
        assert len(backups) == 2
        sql(url, f"UPDATE {PROBE} SET note = 'since'")
        damage(url)

        refused = backup_command("restore", env=env)  # not confirmed, and no one to ask
        assert refused.returncode == 1
        assert "--yes" in refused.stdout
        assert dashboard_figures(url) != before[1]

        restored = backup_command("restore", "--yes", env=env)

        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert (table_counts(url), dashboard_figures(url)) == before
        with psycopg.connect(url) as connection:
            assert connection.execute(f"SELECT note FROM {PROBE}").fetchone()[0] == "newest"
    finally:
        sql(url, f"DROP TABLE IF EXISTS {PROBE}")


def test_the_password_travels_in_the_environment_and_never_shows():
    url = "postgres://hf:s3cr%40t@db.example:5432/homefirst"

    address, env = client_args(url)

    assert address == "postgres://hf@db.example:5432/homefirst"
    assert env["PGPASSWORD"] == "s3cr@t"
    assert describe(url) == "database 'homefirst' on db.example:5432"
    assert (
        describe("postgresql://postgres:@/postgres?host=/srv/pg")
        == "database 'postgres' on /srv/pg"
    )
