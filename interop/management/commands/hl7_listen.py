"""Listen for HL7 v2 ADT messages over MLLP and answer each with an ACK or NACK."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from interop import services
from interop.hl7.mllp import MllpServer
from interop.models import Hl7Message


class Command(BaseCommand):
    help = "Run the MLLP listener (stops on Ctrl-C, SIGTERM, or after --max-messages / --seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HL7_MLLP_HOST)
        parser.add_argument("--port", type=int, default=settings.HL7_MLLP_PORT)
        parser.add_argument("--max-connections", type=int, default=16)
        parser.add_argument("--max-bytes", type=int, default=1_000_000)
        parser.add_argument("--idle-timeout", type=float, default=300.0)
        parser.add_argument("--max-messages", type=int, default=None)
        parser.add_argument("--seconds", type=float, default=None, help="Stop after this long.")

    def handle(self, *args, **options):
        server = MllpServer(
            (options["host"], options["port"]),
            handle_message=lambda raw: (
                services.hl7_message_receive(raw=raw, via=Hl7Message.Via.MLLP).ack
            ),
            max_connections=options["max_connections"],
            max_bytes=options["max_bytes"],
            idle_timeout=options["idle_timeout"],
            max_messages=options["max_messages"],
        )
        host, port = server.server_address[:2]
        self.stdout.write(f"Listening for HL7 over MLLP on {host}:{port}")
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: server.stop())
        timer = None
        if options["seconds"]:
            timer = threading.Timer(options["seconds"], server.stop)
            timer.daemon = True
            timer.start()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            if timer:
                timer.cancel()
            server.server_close()
        self.stdout.write(f"Stopped after {server.handled} message(s).")
