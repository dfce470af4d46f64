"""What `make run` prints and starts (the orchestration itself is checked by running it)."""

from __future__ import annotations

from homefirst import launcher
from homefirst.demo.personas import ADMIN_USERNAME, DEMO_PASSWORD, PERSONAS


def test_banner_names_the_address_the_admin_and_every_demo_login() -> None:
    text = launcher.banner(8123)

    assert "http://127.0.0.1:8123/" in text
    assert "http://127.0.0.1:8123/admin/" in text
    for persona in PERSONAS:
        line = next(line for line in text.splitlines() if line.split()[:1] == [persona.username])
        assert DEMO_PASSWORD in line
        assert persona.describes in line
    assert any(line.split()[:1] == [ADMIN_USERNAME] for line in text.splitlines())


def test_processes_serve_on_the_port_and_keep_beats_schedule_in_the_data_dir() -> None:
    processes = launcher._processes(8123)

    assert set(processes) == {"web", "worker", "beat"}
    assert "127.0.0.1:8123" in processes["web"]
    assert str(launcher.embedded.DATA_DIR / "celerybeat-schedule") in processes["beat"]
