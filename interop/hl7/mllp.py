"""A bounded MLLP server: framed HL7 in, one ACK or NACK out per message, stoppable at any time."""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

from django.db import close_old_connections, connection

from interop.hl7 import ack
from interop.hl7.parse import header

log = logging.getLogger(__name__)

START, END = b"\x0b", b"\x1c\r"


def frame(text: str) -> bytes:
    """Wrap one message in the MLLP start and end bytes."""
    return START + text.encode() + END


def unframe(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Whole messages in the buffer, and what is left over after the last one."""
    messages = []
    while END in buffer:
        block, buffer = buffer.split(END, 1)
        start = block.find(START)
        messages.append(block[start + 1 :] if start >= 0 else block)
    return messages, buffer


def split_batch(data: bytes) -> Iterator[bytes]:
    """Messages in a file: MLLP-framed, or plain text starting each with MSH (batch headers skipped)."""
    if START in data:
        messages, rest = unframe(data)
        yield from (m for m in messages if m.strip())
        if rest.strip(b"\x0b\r\n "):
            yield rest.replace(START, b"")
        return
    current: list[bytes] = []
    for line in data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        if line.startswith(b"MSH"):
            if current:
                yield b"\r".join(current)
            current = [line]
        elif line[:3] in {b"FHS", b"BHS", b"BTS", b"FTS"} or not line.strip():
            continue
        elif current:
            current.append(line)
    if current:
        yield b"\r".join(current)


class MllpServer(socketserver.ThreadingTCPServer):
    """One thread per connection, at most ``max_connections`` at once; each message handled in turn."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        handle_message: Callable[[bytes], str],
        max_connections: int = 16,
        max_bytes: int = 1_000_000,
        idle_timeout: float = 300.0,
        max_messages: int | None = None,
    ) -> None:
        super().__init__(address, _Connection)
        self.handle_message = handle_message
        self.slots = threading.BoundedSemaphore(max_connections)
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.max_messages = max_messages
        self.handled = 0
        self._count_lock = threading.Lock()
        self.stopping = threading.Event()

    def count_one(self) -> None:
        """Note a message answered; stop once the limit (if any) is reached."""
        with self._count_lock:
            self.handled += 1
            done = self.max_messages is not None and self.handled >= self.max_messages
        if done:
            self.stop()

    def stop(self) -> None:
        """Stop accepting, let current messages finish; safe to call from any thread."""
        if not self.stopping.is_set():
            self.stopping.set()
            threading.Thread(target=self.shutdown, daemon=True).start()


class _Connection(socketserver.BaseRequestHandler):
    server: MllpServer

    def handle(self) -> None:
        if not self.server.slots.acquire(blocking=False):
            log.warning("MLLP: refusing %s, too many connections", self.client_address)
            return
        try:
            self._serve()
        finally:
            self.server.slots.release()
            connection.close()

    def _serve(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(1.0)
        buffer, idle = b"", 0.0
        while not self.server.stopping.is_set():
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                idle += 1.0
                if idle >= self.server.idle_timeout:
                    return
                continue
            except OSError:
                return
            if not chunk:
                return
            idle = 0.0
            messages, buffer = unframe(buffer + chunk)
            for message in messages:
                close_old_connections()
                try:
                    reply = self.server.handle_message(message)
                except Exception:  # never let one message take the listener down
                    log.exception("MLLP: message could not be handled")
                    reply = ack.build(
                        code="AE",
                        header=header(message),
                        text="Internal error.",
                        error="application",
                    )
                sock.sendall(frame(reply))
                self.server.count_one()
            if len(buffer) > self.server.max_bytes:
                sock.sendall(
                    frame(
                        ack.build(
                            code="AR",
                            header=header(buffer),
                            text=f"Message larger than {self.server.max_bytes} bytes.",
                            error="parse",
                        )
                    )
                )
                return
