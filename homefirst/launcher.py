"""Runs the whole local stack (`make run`) and stops what it leaves behind (`make stop`).

``python -m homefirst.launcher run`` starts the embedded Postgres and Redis when
DATABASE_URL / REDIS_URL are unset, migrates, seeds the demo data once, then runs the web
server, a Celery worker and Celery beat side by side until Ctrl-C. It only orchestrates:
every rule lives in the apps.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

import psutil  # installed with pgserver, which uses it the same way
from honcho.manager import Manager
from honcho.printer import Message, Printer

from homefirst import embedded

BASE_DIR = embedded.BASE_DIR
LOCK_FILE = embedded.DATA_DIR / "launcher.pid"
WEB_HOST = "127.0.0.1"
# Set in every child's environment, so that the children of a launcher that was killed
# outright (and so could not stop them) can be found and stopped later.
LAUNCH_MARK = "HOMEFIRST_LAUNCHED_FROM"


class Stopped(Exception):
    """Raised by the SIGTERM handler so that start-up unwinds through the clean-up code."""


def say(message: str) -> None:
    """Print one launcher line, flushed at once so it keeps its place among the children's."""
    print(f"homefirst | {message}", flush=True)


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running_launcher() -> int | None:
    """The id of another launcher already running from this checkout, if any."""
    try:
        pid = int(LOCK_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    # The id may have been reused since (after a reboot, say): check it is a launcher.
    try:
        if "homefirst.launcher" not in " ".join(psutil.Process(pid).cmdline()):
            return None
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        pass  # another user's process: assume the worst and leave it alone
    return pid


def _leftover_children() -> list[psutil.Process]:
    """Processes started by an earlier launcher from this checkout that are still running."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(LAUNCH_MARK) == str(embedded.DATA_DIR):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _stop_leftover_children() -> None:
    """Stop web, worker and beat processes left by a killed launcher (they hold the port)."""
    leftovers = _leftover_children()
    if not leftovers:
        return
    say(f"Stopping {len(leftovers)} process(es) left by an earlier run ...")
    for proc in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _gone, alive = psutil.wait_procs(leftovers, timeout=10)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


def _port_free(port: int) -> bool:
    """Whether the web server can bind its port (checked early: after migrating is too late)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((WEB_HOST, port))
        except OSError:
            return False
    return True


def _manage(*args: str, env: dict[str, str]) -> None:
    """Run one manage.py command in the foreground, stopping the launch if it fails."""
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    say(f"$ manage.py {' '.join(args)}")
    subprocess.run(command, env=env, cwd=BASE_DIR, check=True)


def banner(port: int) -> str:
    """The address and the demo logins, printed once the web server answers."""
    from homefirst.demo import personas

    url = f"http://{WEB_HOST}:{port}"
    admin_password = getattr(personas, "ADMIN_PASSWORD", personas.DEMO_PASSWORD)
    rows = [(p.username, personas.DEMO_PASSWORD, p.describes) for p in personas.PERSONAS]
    rows.append((personas.FAMILY_USERNAME, personas.DEMO_PASSWORD, personas.FAMILY_DESCRIBES))
    rows.append((personas.ADMIN_USERNAME, admin_password, f"superuser: the admin at {url}/admin/"))
    width = max(len(row[0]) for row in rows)
    pw_width = max(len(row[1]) for row in rows)
    lines = [
        "",
        "=" * 78,
        f"  HomeFirst is running at {url}/",
        f"  Admin site:             {url}/admin/",
        "",
        "  Demo logins:",
        *(f"    {user:<{width}}  {pw:<{pw_width}}  {what}" for user, pw, what in rows),
        "",
        "  Press Ctrl-C to stop everything (the data stays in .data/ for the next run).",
        "=" * 78,
        "",
    ]
    return "\n".join(lines) + "\n"


class _Printer(Printer):
    """Honcho's prefixed, coloured printer that also notices when the worker is ready."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self.worker_ready = threading.Event()

    def write(self, message: Message) -> None:
        super().write(message)
        if message.name == "worker" and b" ready." in _as_bytes(message.data):
            self.worker_ready.set()


def _as_bytes(data: bytes | str) -> bytes:
    """Children's lines arrive as bytes, the manager's own as text."""
    return data if isinstance(data, bytes) else data.encode()


def _announce_when_ready(port: int, printer: _Printer, done: threading.Event) -> None:
    """Wait for the web server to accept connections, then print the banner."""
    deadline = time.monotonic() + 120
    while not done.is_set() and time.monotonic() < deadline:
        try:
            with socket.create_connection((WEB_HOST, port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        return
    # The worker's start-up banner is long; print ours after it so it stays on screen.
    printer.worker_ready.wait(timeout=30)
    if done.is_set():
        return
    # One write, so the banner is not interleaved with the children's lines.
    sys.stdout.write(banner(port))
    sys.stdout.flush()


def _processes(port: int) -> dict[str, list[str]]:
    """The long-running children, by the name that prefixes their log lines."""
    celery = [sys.executable, "-m", "celery", "-A", "homefirst"]
    schedule = str(embedded.DATA_DIR / "celerybeat-schedule")
    return {
        # --noreload: one process that stops on SIGTERM; DEBUG serves the static files.
        "web": [sys.executable, "manage.py", "runserver", f"{WEB_HOST}:{port}", "--noreload"],
        "worker": [*celery, "worker", "-l", "info", "--concurrency", "2"],
        "beat": [*celery, "beat", "-l", "info", "-s", schedule],
    }


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM during start-up into an exception, so the clean-up still runs."""
    raise Stopped


def _stop_service(name: str, stop_it: Callable[[], None]) -> None:
    """Stop one embedded service, reporting rather than raising so the next one still stops."""
    say(f"Stopping the embedded {name} ...")
    try:
        stop_it()
    except Exception as error:
        say(f"Could not stop the embedded {name} ({error}); `make stop` tries again.")


def run(port: int) -> int:
    """Start the services the environment does not name, prepare the database, run the stack."""
    other = _running_launcher()
    if other is not None:
        say(f"HomeFirst is already running from this folder (pid {other}); stop it first.")
        return 1
    _stop_leftover_children()
    if not _port_free(port):
        say(f"Port {port} on {WEB_HOST} is in use: stop what uses it or run `make run PORT=8001`.")
        return 1

    embedded.DATA_DIR.mkdir(parents=True, exist_ok=True)
    LOCK_FILE.write_text(str(os.getpid()))
    signal.signal(signal.SIGTERM, _on_sigterm)

    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "homefirst.settings.local")
    env["PYTHONUNBUFFERED"] = "1"  # children's lines reach the log as they are written
    env[LAUNCH_MARK] = str(embedded.DATA_DIR)
    own_postgres = not env.get("DATABASE_URL")
    own_redis = not env.get("REDIS_URL")
    stopped_by_signal = False
    manager: Manager | None = None
    started = time.monotonic()
    try:
        if own_postgres:
            say(f"Starting the embedded Postgres (data in {embedded.POSTGRES_DIR}) ...")
            env["DATABASE_URL"] = embedded.postgres_url()
        else:
            say("Using the Postgres named by DATABASE_URL.")
        if own_redis:
            say("Starting the embedded Redis ...")
            env["REDIS_URL"] = embedded.redis_start()
        else:
            say("Using the Redis named by REDIS_URL.")

        _manage("migrate", "--noinput", env=env)
        _manage("seed_demo", "--if-empty", env=env)
        # Fill the dashboards' snapshots now (a second or two) rather than wait for beat's
        # safety net; idempotent, so a second start rewrites nothing.
        _manage("recompute_dashboards", env=env)

        printer = _Printer()
        manager = Manager(printer=printer)
        for name, command in _processes(port).items():
            manager.add_process(name, shlex.join(command), env=env, cwd=str(BASE_DIR))
        say(f"Ready to serve after {time.monotonic() - started:.1f}s; starting web, worker, beat.")

        done = threading.Event()
        threading.Thread(
            target=_announce_when_ready, args=(port, printer, done), daemon=True
        ).start()
        # Manager.loop() installs its own SIGINT/SIGTERM handlers: either signal stops every
        # child (SIGKILL after 5 s), and the loop returns once all have exited.
        manager.loop()
        done.set()
        stopped_by_signal = manager.returncode in (130, 143)
    except (KeyboardInterrupt, Stopped):
        stopped_by_signal = True
        say("Interrupted during start-up.")
    except subprocess.CalledProcessError as error:
        say(f"Start-up step failed (exit {error.returncode}): {shlex.join(map(str, error.cmd))}")
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave servers running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if own_redis:
            _stop_service("Redis", embedded.redis_stop)
        if own_postgres:
            _stop_service("Postgres", embedded.postgres_stop)
        LOCK_FILE.unlink(missing_ok=True)
        say("Stopped.")
    if stopped_by_signal:
        return 0
    if manager is None:
        return 1
    return manager.returncode or 1  # a child exited by itself: that is a failure


def stop() -> int:
    """Stop a running launcher, then any embedded Redis or Postgres left running."""
    other = _running_launcher()
    if other is not None:
        say(f"Stopping the running HomeFirst (pid {other}) ...")
        os.kill(other, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _pid_alive(other) and time.monotonic() < deadline:
            time.sleep(0.2)
    _stop_leftover_children()
    # Left by a killed run (Redis) or by standalone commands (settings start pgserver).
    if embedded.REDIS_SOCKET.exists():
        say("Stopping the embedded Redis ...")
        embedded.redis_socket_clear()
    if embedded.postgres_running():
        say("Stopping the embedded Postgres ...")
        embedded.postgres_stop()
    say("Nothing of HomeFirst's is running.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run `run` or `stop`."""
    parser = argparse.ArgumentParser(prog="python -m homefirst.launcher", description=__doc__)
    parser.add_argument("command", choices=["run", "stop"])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT") or 8000), help="web port"
    )
    args = parser.parse_args(argv)
    os.chdir(BASE_DIR)
    if args.command == "run":
        return run(args.port)
    return stop()


if __name__ == "__main__":
    sys.exit(main())
