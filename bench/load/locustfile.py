"""HomeFirst under a morning's load: ward staff at the board round, social workers co-editing
recovery plans, system leaders reading the flow dashboards.

Each simulated person signs in with their own account, as a browser would (CSRF token,
password, and for leaders the code from their authenticator app), then does what the pages
make a browser do: open the page, poll what the page polls, open an inline form, take time
to fill it in, save it, and follow the save's htmx events. Every save is logged, with what it
sent and the answer, to the JSONL file ``LOAD_EDIT_LOG`` for ``check.py``.

Environment: ``LOAD_USERS`` (the file ``prepare.py`` wrote), ``LOAD_EDIT_LOG`` (where to
log the edits). Weights 200:20:10, so 230 users are 200 ward staff, 20 social workers and 10
leaders. ``run.sh`` runs it; see the docstring there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import gevent
import page
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser
from locust.user.task import LOCUST_STATE_STOPPING

USERS = json.loads(Path(os.environ.get("LOAD_USERS", "/tmp/load/users.json")).read_text())
EDIT_LOG = Path(os.environ.get("LOAD_EDIT_LOG", "/tmp/load/edits.jsonl"))
# The measured period: it starts once every user has signed in (sign-in hashes each password,
# which is slow on purpose and would otherwise swamp the first minutes) and lasts this long.
STEADY_SECONDS = float(os.environ.get("LOAD_STEADY_SECONDS", "300"))
# In every value a client writes, so values stay unique across runs on one database.
RUN_ID = os.environ.get("LOAD_RUN_ID") or time.strftime("%Y%m%d%H%M%S")
SIGN_IN_STATS = Path(os.environ.get("LOAD_SIGN_IN_STATS", str(EDIT_LOG.with_name("sign_in.json"))))
LOCAL = ZoneInfo("Europe/London")

# How people pace their work (seconds). The pages poll as they do in a browser.
POLL_BOARD = 30  # the board's transfer-of-care statuses (pathways/includes/board_poller.html)
POLL_PLAN = 5  # the plan's changes and who is editing (recovery_plans/plan.html)
PRESENCE_RENEW = 10  # an open plan form renews its editing lease
POLL_DASHBOARD = 30  # the dashboard's freshness line
BETWEEN_PATIENTS = (5, 25)  # from one patient to the next at the board round
FILL_IN_BOARD = (3, 10)  # ticking criteria or picking a date
BOARD_RELOAD_EVERY = 10  # patients, after which the board is reloaded
CTR_SHARE = 0.65  # of board edits; the rest change the expected date of discharge
BETWEEN_PLAN_EDITS = (10, 30)
FILL_IN_PLAN = (5, 20)  # writing a line in a section or a goal
GOAL_SHARE = 0.3  # of plan edits; the rest edit a text section
SWITCH_PLAN = 0.2  # chance of moving to one's other plan before an edit
BETWEEN_DASHBOARDS = (15, 45)
RESAVE_AFTER_CONFLICT = 0.5  # "Someone else saved first": save mine again, or keep theirs


def totp(key_hex: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The code an authenticator app shows for this key now (RFC 6238, SHA-1)."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


class EditLog:
    """One JSON line per save the clients send: what, the version it started from, the answer."""

    def __init__(self) -> None:
        self._file = None

    def open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def write(self, **record: object) -> None:
        if self._file is not None:
            self._file.write(json.dumps(record, default=str) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


edit_log = EditLog()


@events.test_start.add_listener
def _open_log(environment, **_kwargs) -> None:
    edit_log.open(EDIT_LOG)
    # check.py reads the audit history from here on.
    edit_log.write(event="run starts", at=dt.datetime.now(dt.UTC).isoformat(), run=RUN_ID)


@events.test_stop.add_listener
def _close_log(environment, **_kwargs) -> None:
    edit_log.close()


class MeasuredPeriod:
    """Counts users in; when the last has signed in, keeps the sign-in figures, resets the
    statistics and ends the run ``STEADY_SECONDS`` later."""

    signed_in = 0

    @classmethod
    def user_signed_in(cls, environment) -> None:
        cls.signed_in += 1
        runner = environment.runner
        if runner is None or cls.signed_in != runner.target_user_count:
            return
        SIGN_IN_STATS.write_text(json.dumps(_stats_rows(runner.stats), indent=1))
        runner.stats.reset_all()
        edit_log.write(event="measured period starts", at=dt.datetime.now(dt.UTC).isoformat())
        gevent.spawn_later(STEADY_SECONDS, runner.quit)


def _stats_rows(stats) -> list[dict]:
    """Each request kind's figures so far (the sign-in phase, before the reset)."""
    rows = []
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        rows.append(
            {
                "name": entry.name,
                "method": entry.method,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p95_ms": entry.get_response_time_percentile(0.95),
                "p99_ms": entry.get_response_time_percentile(0.99),
                "max_ms": entry.max_response_time,
            }
        )
    return rows


@dataclass
class Periodic:
    """Something the open page does by itself every ``every`` seconds."""

    every: float
    action: Callable[[], None]
    last: float = field(default_factory=time.monotonic)


class Poller:
    """An element that polls: its URL and headers, refreshed from each 200 answer."""

    def __init__(self, element_id: str, attrs: dict[str, str] | None) -> None:
        self.element_id = element_id
        self.url = (attrs or {}).get("hx-get", "")
        self.headers = page.hx_headers(attrs)

    def refresh(self, html: str, etag: str | None) -> None:
        attrs = page.element(html, self.element_id)
        if attrs:
            self.url = attrs.get("hx-get", self.url)
            self.headers = page.hx_headers(attrs)
        if etag:
            self.headers["If-None-Match"] = etag


class HomeFirstUser(FastHttpUser):
    """A signed-in person with a page open; subclasses say who and what they do."""

    abstract = True
    wait_time = constant(0)  # pacing is inside the tasks, where the page keeps polling
    role = ""
    _numbers: itertools.count

    def on_start(self) -> None:
        n = next(type(self)._numbers)
        people = USERS[self.role]
        self.me = people[n % len(people)]
        self.username = self.me["username"]
        self.rng = random.Random(self.username)
        self.csrf = ""
        self.page_url = "/"
        self.edits = itertools.count(1)
        self.page_timers: list[Periodic] = []  # the page's polling
        self.form_timers: list[Periodic] = []  # an open form's lease renewal
        self.sign_in()
        self.after_sign_in()
        MeasuredPeriod.user_signed_in(self.environment)

    def after_sign_in(self) -> None:
        """Open the first page."""

    # --- HTTP, as a browser and htmx send it ---------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
        pairs: list[tuple[str, str]] | None = None,
        redirects: bool = True,
        by_status: bool = False,
    ):
        """One request; any status outside ``expect`` counts as a failure in the statistics.

        ``by_status`` files the request under its name and status (a poll's 304 costs far
        less than its 200)."""
        headers = dict(headers or {})
        body = None
        if pairs is not None:
            body = urlencode(pairs, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        with self.client.request(
            method,
            path,
            name=name,
            headers=headers,
            data=body,
            catch_response=True,
            allow_redirects=redirects,
        ) as response:
            if by_status:
                response.request_meta["name"] = f"{name} ({response.status_code})"
            if response.status_code in expect:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code} from {path}")
        return response

    def htmx(self, method: str, path: str, *, name: str, target: str = "", **kwargs):
        headers = {
            "HX-Request": "true",
            "HX-Current-URL": f"{self.host}{self.page_url}",
            "X-CSRFToken": self.csrf,
            **kwargs.pop("headers", {}),
        }
        if target:
            headers["HX-Target"] = target
        return self.call(method, path, name=name, headers=headers, **kwargs)

    def open_page(self, path: str, *, name: str):
        response = self.call("GET", path, name=name)
        self.page_url = path
        if match := re.search(r'"X-CSRFToken": "([^"]+)"', response.text or ""):
            self.csrf = match.group(1)
        return response

    def sign_in(self) -> None:
        form = page.form_posting_to(
            self.call("GET", "/accounts/login/", name="sign in: page").text, ""
        )
        token = form.values["csrfmiddlewaretoken"] if form else ""
        self.call(
            "POST",
            "/accounts/login/",
            name="sign in: password",
            expect=(302,),
            redirects=False,
            pairs=[
                ("csrfmiddlewaretoken", token),
                ("username", self.username),
                ("password", USERS["password"]),
                ("next", ""),
            ],
        )

    # --- Time passing with the page open --------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        """Sleep, a second at a time: when the run ends, leave before sending anything more,
        so no save is cut off in flight (the edit log then holds every save sent)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._state == LOCUST_STATE_STOPPING:
                raise StopUser()
            gevent.sleep(min(1.0, left))
        if self._state == LOCUST_STATE_STOPPING:
            raise StopUser()

    def think(self, seconds: float) -> None:
        """Wait while the page does what it does on its own: poll, renew leases."""
        end = time.monotonic() + seconds
        while True:
            timers = [*self.page_timers, *self.form_timers]
            now = time.monotonic()
            nxt = min(timers, key=lambda t: t.last + t.every, default=None)
            if nxt is None or nxt.last + nxt.every > end:
                self.sleep(end - now)
                return
            self.sleep(nxt.last + nxt.every - now)
            nxt.last = time.monotonic()
            nxt.action()

    def polling(self, element_id: str, html: str, every: float) -> None:
        """The page just loaded: poll as its element ``element_id`` says."""
        poller = Poller(element_id, page.element(html, element_id))
        self.page_timers = [Periodic(every, lambda: self.poll(poller))]

    def poll(self, poller: Poller) -> None:
        if not poller.url:
            return
        response = self.htmx(
            "GET",
            poller.url,
            name=self.poll_name,
            target=poller.element_id,
            headers=poller.headers,
            expect=(200, 304),
            by_status=True,
        )
        if response.status_code == 200:
            poller.refresh(response.text or "", response.headers.get("ETag"))
            self.polled(response)

    poll_name = "poll"

    def polled(self, response) -> None:
        """A poll answered with news (200): follow its events."""

    # --- Saves -------------------------------------------------------------------------------

    def save(
        self,
        *,
        path: str,
        name: str,
        target: str,
        form: page.Form,
        kind: str,
        entity: dict,
        field: str,
        value: object,
        retry: bool = False,
    ):
        """Post the form, log what was sent and the answer; 409 is an answer, not a failure."""
        version = form.values.get("expected_version")
        sent_at = dt.datetime.now(dt.UTC).isoformat()
        started = time.perf_counter()
        response = self.htmx(
            "POST", path, name=name, target=target, pairs=form.pairs(), expect=(200, 409)
        )
        edit_log.write(
            at=sent_at,
            user=self.username,
            kind=kind,
            entity=entity,
            field=field,
            value=value,
            version=int(version) if version else None,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 1),
            retry=retry,
        )
        return response


# --- Ward staff at the board round ------------------------------------------------------------


class WardStaff(HomeFirstUser):
    """A nurse or doctor at a ward's board: reviews patients against the criteria, moves EDDs."""

    weight = 200
    role = "ward_staff"
    _numbers = itertools.count()
    poll_name = "board: transfer statuses poll"

    def after_sign_in(self) -> None:
        self.ward = self.me["ward"]
        self.call("GET", "/", name="wards: overview")  # home sends ward staff to their wards
        self.patients_seen = 0
        self.open_board()

    def open_board(self) -> None:
        html = self.open_page(f"/wards/{self.ward}/", name="board: page").text or ""
        self.admissions = [int(a) for a in re.findall(r'id="admission-(\d+)"', html)]
        self.polling("transfer-poller", html, POLL_BOARD)

    @task
    def next_patient(self) -> None:
        self.think(self.rng.uniform(*BETWEEN_PATIENTS))
        if self.patients_seen and self.patients_seen % BOARD_RELOAD_EVERY == 0:
            self.open_board()
        self.patients_seen += 1
        if not self.admissions:
            return
        admission = self.rng.choice(self.admissions)
        if self.rng.random() < CTR_SHARE:
            self.edit(admission, "ctr")
        else:
            self.edit(admission, "edd")

    def edit(self, admission: int, kind: str) -> None:
        path = f"/admissions/{admission}/{kind}/"
        target = f"admission-{admission}"
        response = self.htmx("GET", path, name=f"board: {kind} form", target=target)
        form = page.form_posting_to(response.text or "", path)
        if form is None:
            return
        self.think(self.rng.uniform(*FILL_IN_BOARD))
        value = self.fill_ctr(form) if kind == "ctr" else self.fill_edd(form)
        retry = False
        while True:
            answer = self.save(
                path=path,
                name=f"board: {kind} save",
                target=target,
                form=form,
                kind=kind,
                entity={"model": "admission", "id": admission},
                field="latest_review" if kind == "ctr" else "expected_discharge_date",
                value=value,
                retry=retry,
            )
            if answer.status_code == 200:
                # HX-Trigger: boardChanged makes the board refresh its counts.
                self.htmx(
                    "GET",
                    f"/wards/{self.ward}/summary/",
                    name="board: summary",
                    target="board-summary",
                )
                return
            conflict = (
                page.form_posting_to(answer.text or "", path) if answer.status_code == 409 else None
            )
            if conflict is None or retry or self.rng.random() >= RESAVE_AFTER_CONFLICT:
                return  # keep theirs: Cancel
            self.think(self.rng.uniform(2, 5))  # read the warning, then save mine again
            form, retry = conflict, True
            value = self.form_value(form, kind)

    def fill_ctr(self, form: page.Form) -> dict:
        criteria = form.choices.get("criteria", [])
        roll = self.rng.random()
        if roll < 0.55 and criteria:
            chosen = sorted(self.rng.sample(criteria, self.rng.randint(1, min(2, len(criteria)))))
            exception = ""
        elif roll < 0.95:
            chosen, exception = [], ""
        else:
            chosen, exception = [], "Awaiting a specialist opinion before discharge."
        form.values["criteria"] = chosen
        form.values["exception_reason"] = exception
        form.values["note"] = (
            f"Board round: {self.username} review {next(self.edits)} (run {RUN_ID})"
        )
        return self.form_value(form, "ctr")

    def fill_edd(self, form: page.Form) -> str:
        today = dt.datetime.now(LOCAL).date()
        current = form.values.get("expected_discharge_date", "")
        options = [(today + dt.timedelta(days=n)).isoformat() for n in range(0, 15)]
        form.values["expected_discharge_date"] = self.rng.choice(
            [d for d in options if d != current]
        )
        return self.form_value(form, "edd")

    @staticmethod
    def form_value(form: page.Form, kind: str) -> object:
        if kind == "edd":
            return form.values["expected_discharge_date"]
        criteria = form.values.get("criteria", [])
        return {
            "criteria": sorted(criteria if isinstance(criteria, list) else [criteria]),
            "exception_reason": form.values.get("exception_reason", ""),
            "note": form.values.get("note", ""),
        }


# --- Social workers co-editing recovery plans -------------------------------------------------


class SocialWorker(HomeFirstUser):
    """A social worker on two people's recovery plans, editing sections and goals."""

    weight = 20
    role = "social_workers"
    _numbers = itertools.count()
    poll_name = "plan: poll"

    def after_sign_in(self) -> None:
        self.open_plan(self.me["plans"][0])

    def open_plan(self, plan: int) -> None:
        self.plan = plan
        html = self.open_page(f"/plans/{plan}/", name="plan: page").text or ""
        self.sections = sorted(set(re.findall(rf"/plans/{plan}/sections/(\w+)/edit/", html)))
        self.goals = sorted(set(re.findall(rf"/plans/{plan}/lists/goals/(\d+)/edit/", html)))
        self.polling("plan-poller", html, POLL_PLAN)

    def polled(self, response) -> None:
        """Re-render the sections others changed (HX-Trigger: plan-<key>, ...)."""
        events = response.headers.get("HX-Trigger") or ""
        for event in [e.strip() for e in events.split(",") if e.strip()]:
            key = event.removeprefix("plan-")
            html = (
                self.htmx(
                    "GET",
                    f"/plans/{self.plan}/sections/{key}/",
                    name="plan: section",
                    target=f"plan-{key}",
                ).text
                or ""
            )
            if key == "goals":
                self.goals = (
                    sorted(set(re.findall(rf"/plans/{self.plan}/lists/goals/(\d+)/edit/", html)))
                    or self.goals
                )

    @task
    def next_edit(self) -> None:
        self.think(self.rng.uniform(*BETWEEN_PLAN_EDITS))
        if self.rng.random() < SWITCH_PLAN:
            others = [p for p in self.me["plans"] if p != self.plan]
            if others:
                self.open_plan(self.rng.choice(others))
        if self.goals and self.rng.random() < GOAL_SHARE:
            goal = self.rng.choice(self.goals)
            self.edit(
                path=f"/plans/{self.plan}/lists/goals/{goal}/edit/",
                section="goals",
                kind="goal",
                entity={"model": "goal", "id": int(goal), "plan": self.plan},
                fields=("description", "measure"),
            )
        elif self.sections:
            key = self.rng.choice(self.sections)
            self.edit(
                path=f"/plans/{self.plan}/sections/{key}/edit/",
                section=key,
                kind="section",
                entity={"model": "plansection", "plan": self.plan, "key": key},
                fields=None,
            )

    def edit(self, *, path: str, section: str, kind: str, entity: dict, fields) -> None:
        target = f"plan-{section}"
        form = page.form_posting_to(
            self.htmx("GET", path, name=f"plan: {kind} form", target=target).text or "", path
        )
        if form is None:
            return
        presence = f"/plans/{self.plan}/sections/{section}/presence/"

        def renew() -> None:
            self.htmx("POST", presence, name="plan: presence", expect=(204,), pairs=[])

        renew()  # the form's lease element fires on load, then every 10 s
        self.form_timers = [Periodic(PRESENCE_RENEW, renew)]
        try:
            self.think(self.rng.uniform(*FILL_IN_PLAN))
            names = [n for n in (fields or form.values) if n != "expected_version"]
            field = self.rng.choice(names)
            value = (
                f"{field.replace('_', ' ')}: noted by {self.username}, "
                f"edit {next(self.edits)} (run {RUN_ID})"
            )
            form.values[field] = value
            retry = False
            while True:
                answer = self.save(
                    path=path,
                    name=f"plan: {kind} save",
                    target=target,
                    form=form,
                    kind=kind,
                    entity=entity,
                    field=field,
                    value=value,
                    retry=retry,
                )
                if answer.status_code != 409 or retry:
                    return
                conflict = page.form_posting_to(answer.text or "", path)
                if conflict is None or self.rng.random() >= RESAVE_AFTER_CONFLICT:
                    self.htmx(
                        "POST",
                        presence,
                        name="plan: presence",
                        pairs=[("leaving", "1")],
                        target=target,
                    )  # Cancel: let go of the section
                    return
                self.think(self.rng.uniform(2, 5))
                form, retry = conflict, True
                value = form.values.get(field, "")
        finally:
            self.form_timers = []


# --- System leaders reading the dashboards ---------------------------------------------------


class SystemLeader(HomeFirstUser):
    """A director reading the flow dashboards, drilling into sites, wards and pathways."""

    weight = 10
    role = "leaders"
    _numbers = itertools.count()
    poll_name = "dashboard: status poll"

    def sign_in(self) -> None:
        super().sign_in()
        # The two-factor middleware asks for the code before anything else opens.
        verify = self.call("GET", "/dashboards/", name="sign in: two-factor page")
        form = page.form_posting_to(verify.text or "", "")
        token = form.values["csrfmiddlewaretoken"] if form else ""
        self.call(
            "POST",
            "/accounts/two-factor/",
            name="sign in: two-factor code",
            expect=(302,),
            redirects=False,
            pairs=[
                ("csrfmiddlewaretoken", token),
                ("code", totp(self.me["totp_key"])),
                ("next", "/dashboards/"),
            ],
        )

    def after_sign_in(self) -> None:
        self.view("/dashboards/", name="dashboard: system")

    def view(self, path: str, *, name: str) -> None:
        html = self.open_page(path, name=name).text or ""
        self.links = sorted(
            set(
                link.replace("&amp;", "&")
                for link in re.findall(r'href="(/dashboards/\?[^"]+)"', html)
            )
        )
        self.polling("dashboard-status", html, POLL_DASHBOARD)

    @task
    def next_view(self) -> None:
        self.think(self.rng.uniform(*BETWEEN_DASHBOARDS))
        if self.links and self.rng.random() < 0.7:
            self.view(self.rng.choice(self.links), name="dashboard: drill-down or range")
        else:
            self.view("/dashboards/", name="dashboard: system")
