"""Postgres restarts under the running web server: a plain 503 while it is down, then back by itself.

The web server is gunicorn, as in production, on a throwaway Postgres seeded with the demo
city; the test signs in as the demo ward nurse and stops and starts the database under it.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from homefirst.demo import personas
from tests.throwaway import ProjectProcess, ThrowawayPostgres, free_port, project_env, wait_for

# Longer than this is a hang: a dead database must be reported, not waited on.
ANSWER_SECONDS = 10


class Browser:
    """A signed-in session over HTTP: cookies kept, answers returned whatever their status."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, float]:
        """Status, body and seconds taken."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.monotonic()
        try:
            with self.opener.open(self.base_url + path, body, timeout=30) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        return status, content.decode(), time.monotonic() - started

    def sign_in(self, username: str, password: str) -> str:
        status, page, _ = self.request("/accounts/login/")
        assert status == 200, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, page, _ = self.request(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        assert status == 200, page
        return page


@pytest.fixture
def web_server(seeded_postgres: ThrowawayPostgres, tmp_path) -> Iterator[ProjectProcess]:
    """gunicorn with one worker on the seeded throwaway Postgres."""
    port = free_port()
    server = ProjectProcess(
        [
            *(sys.executable, "-m", "gunicorn", "homefirst.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"),
        ],
        env=project_env(tmp_path, DATABASE_URL=seeded_postgres.url()),
        log=tmp_path / "gunicorn.log",
        port=port,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if not seeded_postgres.running():  # leave it running for the next test
            seeded_postgres.start()


def test_requests_fail_with_a_503_while_postgres_is_down_and_recover_without_a_restart(
    seeded_postgres, web_server
):
    browser = Browser(f"http://127.0.0.1:{web_server.port}")
    assert wait_for(lambda: web_server.answers(), seconds=30), web_server.log()
    wards = browser.sign_in("nurse", personas.DEMO_PASSWORD)
    assert "Sign out" in wards
    workers = {p.pid for p in web_server.children()}

    seeded_postgres.stop()

    status, page, seconds = browser.request("/wards/")
    assert status == 503, page
    assert seconds < ANSWER_SECONDS
    assert "HomeFirst is briefly unavailable" in page
    assert "Traceback" not in page and "OperationalError" not in page
    status, body, seconds = browser.request("/api/v1/admissions/")
    assert status == 503, body
    assert seconds < ANSWER_SECONDS
    assert "cannot reach its database" in json.loads(body)["detail"]

    seeded_postgres.start()

    # The very next request is served: the broken connection was dropped, a new one is made.
    status, page, _ = browser.request("/wards/")
    assert status == 200, page
    assert "Sign out" in page  # the session, kept in Postgres, survived the restart
    assert web_server.alive()
    assert {p.pid for p in web_server.children()} == workers, "the web server was restarted"
