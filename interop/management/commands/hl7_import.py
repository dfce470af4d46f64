"""Import a batch of HL7 v2 ADT messages from files, through the same pipeline as the listener."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from interop import services
from interop.hl7.mllp import split_batch
from interop.models import Hl7Message


class Command(BaseCommand):
    help = "Apply the ADT messages in each FILE (plain or MLLP-framed), showing progress."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--quiet-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, files: list[Path], quiet_progress: bool = False, **options):
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        messages = [m for f in files for m in split_batch(f.read_bytes())]
        outcomes: Counter[str] = Counter()
        for raw in tqdm(messages, unit="msg", disable=quiet_progress, file=self.stderr._out):
            receipt = services.hl7_message_receive(raw=raw, via=Hl7Message.Via.FILE)
            key = (
                "duplicate"
                if receipt.duplicate
                else (receipt.message.status if receipt.message else "failed")
            )
            outcomes[key] += 1
            if receipt.code != "AA":
                self.stderr.write(
                    f"{receipt.code} {receipt.message.control_id if receipt.message else '?'}: {receipt.text}"
                )
        summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "nothing"
        self.stdout.write(f"{len(messages)} message(s): {summary}.")
