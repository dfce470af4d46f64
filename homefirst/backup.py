"""Back up the database to a file, and restore one over it (`make backup`, `make restore`).

``python -m homefirst.backup backup [--output PATH]`` writes pg_dump's custom format
(compressed, restorable table by table) to ``.data/backups/`` unless told where.
``python -m homefirst.backup restore [PATH] [--yes]`` restores the newest backup there, or
PATH, over the database, in one transaction: if anything fails, the database is as it was.

The database is DATABASE_URL's, or else the embedded one under ``.data/`` (started if need
be, as every command does). pg_dump and pg_restore must suit the server's version, so they
are chosen by it: pgserver's own, the system's (``/usr/lib/postgresql/N/bin``), or PATH's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from tqdm import tqdm

from homefirst import embedded

BACKUP_DIR = embedded.DATA_DIR / "backups"
SUFFIX = ".dump"
# The system's client tools: Debian and Ubuntu, then the PostgreSQL RPMs.
SYSTEM_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")
# pg_dump and pg_restore name each table as they reach it with --verbose.
TABLE_LINE = {
    "pg_dump": re.compile(r"dumping contents of table "),
    "pg_restore": re.compile(r"processing data for table "),
}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says what to do."""


def say(message: str) -> None:
    print(message, flush=True)


# --- The database and the tools ------------------------------------------------------------


def database_url() -> str:
    """DATABASE_URL, or the embedded Postgres's (starting it if it is not running)."""
    return os.environ.get("DATABASE_URL") or embedded.postgres_url()


def describe(url: str) -> str:
    """The database named by a URL, for messages: never its password."""
    parts = urlsplit(url)
    query_host = re.search(r"(?:^|&)host=([^&]+)", parts.query)
    where = query_host.group(1) if query_host else (parts.hostname or "localhost")
    if parts.port:
        where += f":{parts.port}"
    return f"database '{parts.path.lstrip('/') or 'postgres'}' on {where}"


def client_args(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment carrying it.

    A password on a command line can be read by anyone on the machine (ps); PGPASSWORD cannot.
    """
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}@{netloc}" if user else netloc)
    return urlunsplit(parts), env


def server_major(url: str) -> int:
    """The major version of the server (15 for 15.4)."""
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            (number,) = connection.execute("SHOW server_version_num").fetchone()
    except psycopg.OperationalError as error:
        raise BackupError(f"Cannot connect to the {describe(url)}: {error}".strip()) from error
    return int(number) // 10000


def tool_major(path: Path) -> int | None:
    """The major version of a PostgreSQL client tool, or None if it does not run."""
    try:
        output = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", output)
    return int(match.group(1)) if match else None


def _candidates(name: str) -> Iterable[Path]:
    pgserver = embedded._import_pgserver()
    yield pgserver._commands.POSTGRES_BIN_PATH / name
    for pattern in SYSTEM_BIN_GLOBS:
        yield from (Path(folder) / name for folder in sorted(Path("/").glob(pattern.lstrip("/"))))
    if found := shutil.which(name):
        yield Path(found)


def find_tool(name: str, major: int) -> Path:
    """The tool of the server's own version, else the oldest newer one (they read older servers)."""
    versions: dict[Path, int] = {}
    for path in _candidates(name):
        if path.exists() and path not in versions and (version := tool_major(path)) is not None:
            versions[path] = version
    for path, version in versions.items():
        if version == major:
            return path
    newer = sorted((version, str(path)) for path, version in versions.items() if version > major)
    if newer:
        return Path(newer[0][1])
    found = ", ".join(f"{path} ({version})" for path, version in versions.items()) or "none"
    raise BackupError(
        f"No {name} for PostgreSQL {major} was found (found: {found}). Install the PostgreSQL "
        f"{major} client tools, e.g. `apt-get install postgresql-client-{major}`."
    )


def table_count(url: str) -> int:
    """How many tables hold data, for the progress bar."""
    with psycopg.connect(url, connect_timeout=10) as connection:
        (count,) = connection.execute(
            """
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%%'
            """
        ).fetchone()
    return count


def _run(tool: Path, args: Sequence[str], *, env: dict[str, str], tables: int) -> None:
    """Run pg_dump or pg_restore with --verbose, showing a table count as it goes.

    Raises BackupError with the tool's own complaint if it fails.
    """
    progress_line = TABLE_LINE[tool.name]
    others: list[str] = []
    with (
        subprocess.Popen(
            [str(tool), "--verbose", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        tqdm(total=tables, unit=" tables", disable=not sys.stdout.isatty()) as bar,
    ):
        for line in process.stderr:
            if progress_line.search(line):
                bar.update(1)
            else:
                others.append(line.rstrip())
    if process.returncode != 0:
        complaint = [line for line in others if "error" in line.lower()] or others[-10:]
        raise BackupError(
            f"{tool.name} failed (exit {process.returncode}):\n" + "\n".join(complaint)
        )


# --- Backup and restore ---------------------------------------------------------------------


def backup(output: Path | None = None) -> Path:
    """Write the database to ``output`` (default: a new timestamped file in BACKUP_DIR)."""
    url = database_url()
    major = server_major(url)
    pg_dump = find_tool("pg_dump", major)
    target = (output or new_backup_path()).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed when complete: a half-written file is never "the newest backup".
    partial = target.with_name(target.name + ".partial")
    tables = table_count(url)
    say(f"Backing up the {describe(url)} (PostgreSQL {major}, {tables} tables) with {pg_dump} ...")
    started = time.monotonic()
    address, env = client_args(url)
    try:
        _run(
            pg_dump,
            ["--format=custom", f"--file={partial}", f"--dbname={address}"],
            env=env,
            tables=tables,
        )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    size = target.stat().st_size / 1024 / 1024
    say(f"Backup written: {target} ({size:.1f} MB) in {time.monotonic() - started:.1f}s.")
    return target


def new_backup_path(folder: Path = BACKUP_DIR) -> Path:
    """A file name in the folder for a backup taken now, never one already there."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = folder / f"homefirst-{stamp}{SUFFIX}"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"homefirst-{stamp}-{n}{SUFFIX}"
    return path


def newest_backup(folder: Path = BACKUP_DIR) -> Path:
    """The most recently written backup in the folder."""
    backups = sorted(folder.glob(f"*{SUFFIX}"), key=lambda path: path.stat().st_mtime)
    if not backups:
        raise BackupError(
            f"No backups in {folder}: run `make backup` first, or name one with BACKUP=path."
        )
    return backups[-1]


def restore(path: Path | None = None, *, confirmed: bool = False) -> Path:
    """Replace the database's contents with a backup's (default: the newest in BACKUP_DIR)."""
    source = (path or newest_backup()).resolve()
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    url = database_url()
    major = server_major(url)
    pg_restore = find_tool("pg_restore", major)
    if not confirmed and not _confirm(f"Replace everything in the {describe(url)} with {source}?"):
        raise BackupError("Nothing restored.")
    tables = table_count_in(pg_restore, source)
    say(f"Restoring {source} into the {describe(url)} (PostgreSQL {major}) with {pg_restore} ...")
    started = time.monotonic()
    address, env = client_args(url)
    # --clean --if-exists: drop each object the backup holds before making it again.
    # --no-owner --no-privileges: the restoring user owns everything, whoever made the backup.
    # --single-transaction: all or nothing.
    _run(
        pg_restore,
        [
            *("--clean", "--if-exists", "--no-owner", "--no-privileges"),
            *("--single-transaction", "--exit-on-error", f"--dbname={address}", str(source)),
        ],
        env=env,
        tables=tables,
    )
    say(f"Restored in {time.monotonic() - started:.1f}s.")
    return source


def table_count_in(pg_restore: Path, source: Path) -> int:
    """How many tables' data the backup holds (from its table of contents)."""
    listing = subprocess.run(
        [str(pg_restore), "--list", str(source)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"{source} is not a backup pg_restore can read:\n{listing.stderr}")
    return sum(" TABLE DATA " in line for line in listing.stdout.splitlines())


def _confirm(question: str) -> bool:
    """Ask at a terminal; elsewhere, a restore must be confirmed with --yes."""
    if not sys.stdin.isatty():
        raise BackupError(
            "A restore replaces the database: confirm it with --yes (make restore YES=1)."
        )
    return input(f"{question} Type 'yes' to go on: ").strip().lower() == "yes"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m homefirst.backup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="back up the database")
    make.add_argument("--output", type=Path, help=f"the file to write (default: in {BACKUP_DIR})")
    put_back = commands.add_parser("restore", help="restore a backup over the database")
    put_back.add_argument("path", nargs="?", type=Path, help="the backup (default: the newest)")
    put_back.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            backup(args.output)
        else:
            restore(args.path, confirmed=args.yes)
    except BackupError as error:
        say(str(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
