"""Benchmark of the interop paths: HL7 v2 ADT ingestion and FHIR import, each against a floor.

1. ADT throughput: admit-transfer-discharge sequences, every message through the whole
   pipeline (idempotency check, record, apply through the services, ACK) into Postgres,
   against the floor of parsing the same messages with the HL7 library alone.
2. FHIR import of 10,000 inpatient encounters (and their patients) from NDJSON, against
   the floor of validating the same resources with fhir.resources alone.

Run with your own, migrated database (the run adds its own site, wards and patients) and a
Redis, as in production: each change queues the dashboards' debounced recompute for the
Celery worker (without REDIS_URL tasks run in process, once per change, and dominate):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_api_dev
    export REDIS_URL=redis://127.0.0.1:6379/7
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/interop.py

The tasks the run queued are purged from that Redis database at the end.

Options: --patients N (ADT sequences, 3 messages each; default 1000), --encounters N
(default 10000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homefirst.settings.local")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

import hl7  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from fhir.resources.R4B.encounter import Encounter  # noqa: E402
from fhir.resources.R4B.patient import Patient as FhirPatient  # noqa: E402

from discharge import nhs_number  # noqa: E402
from discharge.models import Admission  # noqa: E402
from homefirst.celery import app as celery_app  # noqa: E402
from homefirst.models import Organisation, Site, Ward  # noqa: E402
from interop import services  # noqa: E402
from interop.fhir.imports import read_resources  # noqa: E402
from interop.hl7.parse import normalise  # noqa: E402
from interop.models import Hl7Message, SiteCode, WardCode  # noqa: E402


def nhs_numbers(start: int, count: int) -> list[str]:
    """Valid NHS numbers from the 999 test range, from ``start`` on."""
    found, n = [], start
    while len(found) < count:
        first_nine = f"9{n % 10**8:08d}"
        digit = nhs_number.check_digit(first_nine)
        if digit is not None:
            found.append(f"{first_nine}{digit}")
        n += 1
    return found


def setting_up(tag: str) -> tuple[Site, Organisation]:
    """A trust, council, site and two mapped wards for this run."""
    trust, _ = Organisation.objects.get_or_create(
        ods_code="RBENCH", defaults={"name": "Bench Trust", "kind": "acute_trust"}
    )
    council, _ = Organisation.objects.get_or_create(
        ods_code="E99999999", defaults={"name": "Bench Council", "kind": "local_authority"}
    )
    site = Site.objects.create(organisation=trust, code=f"B{tag[:8]}", name=f"Bench {tag}")
    SiteCode.objects.create(code=f"SITE-{tag}", site=site, default_local_authority=council)
    for code in ("WA", "WB"):
        ward = Ward.objects.create(site=site, code=code, name=f"Bench ward {code}", bed_count=5000)
        WardCode.objects.create(site=site, code=code, ward=ward)
    return site, council


def adt_messages(tag: str, numbers: list[str]) -> list[str]:
    """Admit, transfer and discharge for each patient: three NHS-style messages each."""
    base = timezone.now() - dt.timedelta(days=5)
    messages = []
    for i, number in enumerate(numbers):
        admitted = base + dt.timedelta(seconds=i * 7)
        for n, (event, ward, at) in enumerate(
            [
                ("A01", "WA", admitted),
                ("A02", "WB", admitted + dt.timedelta(days=1)),
                ("A03", "WB", admitted + dt.timedelta(days=3)),
            ]
        ):
            when = at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S+0000")
            a01 = when if event == "A01" else ""
            a03 = when if event == "A03" else ""
            messages.append(
                "\r".join(
                    [
                        f"MSH|^~\\&|PAS|BENCH|HOMEFIRST|HF|{when}||ADT^{event}^ADT_A01|{tag}-{i}-{n}|P|2.4",
                        f"EVN|{event}|{when}||||{when}",
                        f"PID|1||H{tag}{i}^^^BENCH^MR~{number}^^^NHS^NH||PATIENT^TEST^^^MS||19400101|F|||1 HIGH ST^^LEEDS^^LS1 4AP",
                        f"PV1|1|I|{ward}^^B{i}^SITE-{tag}|1|||||||||||||||V{tag}{i}^^^BENCH^VN"
                        f"|||||||||||||||||1|19|||||||{a01}|{a03}",
                    ]
                )
            )
    return messages


def fhir_ndjson(tag: str, numbers: list[str]) -> str:
    """One Patient and one finished inpatient Encounter (two wards) per NHS number."""
    lines = []
    # Recent stays, as a feed catching up would send: each change marks the dashboards' days
    # from then to today stale, so years-old history costs more per encounter (see docs).
    start = timezone.now() - dt.timedelta(days=30)
    for i, number in enumerate(numbers):
        admitted = start + dt.timedelta(minutes=2 * i)
        moved = admitted + dt.timedelta(days=1)
        left = admitted + dt.timedelta(days=4)
        lines.append(
            json.dumps(
                {
                    "resourceType": "Patient",
                    "id": f"p{i}",
                    "identifier": [
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": number}
                    ],
                    "name": [{"family": "Patient", "given": ["Fhir"]}],
                    "gender": "female",
                    "birthDate": "1940-01-01",
                }
            )
        )
        lines.append(
            json.dumps(
                {
                    "resourceType": "Encounter",
                    "id": f"e{i}",
                    "identifier": [{"system": f"urn:bench:{tag}", "value": f"e{i}"}],
                    "status": "finished",
                    "class": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "IMP",
                    },
                    "subject": {"reference": f"Patient/p{i}"},
                    "period": {"start": admitted.isoformat(), "end": left.isoformat()},
                    "location": [
                        {
                            "location": {"display": "WA"},
                            "status": "completed",
                            "period": {"start": admitted.isoformat(), "end": moved.isoformat()},
                        },
                        {
                            "location": {"display": "WB"},
                            "status": "completed",
                            "period": {"start": moved.isoformat(), "end": left.isoformat()},
                        },
                    ],
                    "hospitalization": {
                        "dischargeDisposition": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/discharge-disposition",
                                    "code": "home",
                                }
                            ]
                        }
                    },
                }
            )
        )
    return "\n".join(lines)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--encounters", type=int, default=10_000)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8].upper()
    site, council = setting_up(tag)
    start = int(tag[:6], 16) * 10  # far apart per run, so runs never share a patient
    print(f"Run {tag} on {connection.settings_dict['NAME']}")

    # 1. ADT: parsing alone with the library, then the whole pipeline into Postgres.
    messages = adt_messages(tag, nhs_numbers(start, args.patients))
    texts = [normalise(m) for m in messages]
    began = time.perf_counter()
    for text in texts:
        hl7.parse(text)
    floor = time.perf_counter() - began
    began = time.perf_counter()
    codes = [services.hl7_message_receive(raw=m, via="file").code for m in messages]
    pipeline = time.perf_counter() - began
    applied = Hl7Message.objects.filter(control_id__startswith=f"{tag}-", status="applied").count()
    discharged = Admission.objects.filter(site=site, status="discharged").count()
    print(f"\nADT: {len(messages)} messages ({args.patients} admit-transfer-discharge sequences)")
    print(f"  floor, hl7.parse alone:   {floor:8.2f} s  {rate(len(messages), floor)}")
    print(f"  whole pipeline:           {pipeline:8.2f} s  {rate(len(messages), pipeline)}")
    print(f"  pipeline / floor:         {pipeline / floor:8.1f} x")
    print(f"  ACKs: {codes.count('AA')} AA; applied {applied}; admissions discharged {discharged}")

    if args.encounters <= 0:
        return
    # 2. FHIR: validating alone with fhir.resources, then the import into Postgres.
    text = fhir_ndjson(tag, nhs_numbers(start + 5 * args.patients + 1000, args.encounters))
    resources = list(read_resources(text))
    began = time.perf_counter()
    for resource in resources:
        (FhirPatient if resource["resourceType"] == "Patient" else Encounter).model_validate(
            resource
        )
    floor = time.perf_counter() - began
    began = time.perf_counter()
    report = services.fhir_import(texts=[text], site=site, council=council, source=f"bench-{tag}")
    imported = time.perf_counter() - began
    print(
        f"\nFHIR import: {len(resources)} resources ({args.encounters} encounters and their patients)"
    )
    print(
        f"  floor, fhir.resources validation alone: {floor:8.2f} s  {rate(len(resources), floor)}"
    )
    print(
        f"  whole import:                           {imported:8.2f} s  {rate(len(resources), imported)}"
    )
    print(f"  encounters per second:                  {args.encounters / imported:8.0f}")
    print(f"  import / floor:                         {imported / floor:8.1f} x")
    print(f"  outcomes: {dict(sorted(report.counts.items()))}")
    if report.problems:
        print(f"  first problem: {report.problems[0]}")


def purge_queued_tasks() -> None:
    """Drop the dashboard recomputes this run queued (no worker runs in a benchmark)."""
    if settings.REDIS_URL:
        purged = celery_app.control.purge()
        print(f"\n(purged {purged} queued task(s) from {settings.REDIS_URL})")


if __name__ == "__main__":
    try:
        main()
    finally:
        purge_queued_tasks()
