"""The MLLP listener over a real socket on 127.0.0.1: an ACK per message, bounded, stoppable."""

import socket
import threading

import pytest
from django.core.management import call_command

from discharge.models import Admission
from interop import services
from interop.hl7.mllp import END, START, MllpServer, frame, split_batch, unframe
from interop.models import Hl7Message
from tests.interop.conftest import adt

# The listener answers from its own threads, with their own database connections.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def receive(raw: bytes) -> str:
    return services.hl7_message_receive(raw=raw, via="mllp").ack


@pytest.fixture
def listener():
    server = MllpServer(("127.0.0.1", 0), handle_message=receive, idle_timeout=5)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.stop()
    thread.join(timeout=5)
    server.server_close()
    assert not thread.is_alive()


def exchange(server, *messages: str, chunk: int | None = None) -> list[str]:
    """Send framed messages on one connection and read one ACK for each."""
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        data = b"".join(frame(m) for m in messages)
        if chunk:
            for i in range(0, len(data), chunk):
                sock.sendall(data[i : i + chunk])
        else:
            sock.sendall(data)
        buffer, acks = b"", []
        while len(acks) < len(messages):
            part = sock.recv(65536)
            assert part, "the listener closed the connection early"
            buffer += part
            found, buffer = unframe(buffer)
            acks += [f.decode() for f in found]
    return acks


def test_each_message_gets_its_ack_over_one_connection(listener, ward, ward_code, other_ward):
    acks = exchange(listener, adt("A01", "T1"), adt("A02", "T2", ward="W9"), "garbage")
    assert "MSA|AA|T1" in acks[0]
    assert "MSA|AA|T2" in acks[1]
    assert "MSA|AR|" in acks[2]
    assert Admission.objects.get().current_ward == other_ward
    assert set(Hl7Message.objects.values_list("via", flat=True)) == {"mllp"}


def test_a_message_split_across_packets_is_put_back_together(listener, ward, ward_code):
    acks = exchange(listener, adt("A01", "T1"), chunk=7)
    assert "MSA|AA|T1" in acks[0]
    assert Admission.objects.count() == 1


def test_a_failing_message_gets_a_nack_naming_the_reason(listener, ward, ward_code):
    (nack,) = exchange(listener, adt("A01", "T1", site="NOWHERE"))
    assert "MSA|AE|T1|" in nack
    assert "NOWHERE" in nack
    assert Hl7Message.objects.get().status == "failed"


def test_the_listener_stops_after_its_message_limit(ward, ward_code):
    server = MllpServer(("127.0.0.1", 0), handle_message=receive, max_messages=1)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    exchange(server, adt("A01", "T1"))
    thread.join(timeout=5)
    server.server_close()
    assert not thread.is_alive()


def test_the_command_serves_until_its_time_is_up(ward, ward_code):
    # Port 0: the system picks a free port; the command returns after --seconds.
    call_command("hl7_listen", "--port", "0", "--seconds", "0.5")


def test_an_oversized_message_is_refused(ward, ward_code):
    server = MllpServer(("127.0.0.1", 0), handle_message=receive, max_bytes=100)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with socket.create_connection(server.server_address[:2], timeout=10) as sock:
            sock.sendall(START + b"MSH|" + b"x" * 500)
            reply = sock.recv(65536)
        assert b"MSA|AR|" in reply
        assert not Hl7Message.objects.exists()
    finally:
        server.stop()
        thread.join(timeout=5)
        server.server_close()


def test_batch_files_split_into_messages():
    plain = b"FHS|^~\\&\nBHS|^~\\&\nMSH|a\nPID|1\nMSH|b\nPID|2\nBTS|2\nFTS|1\n"
    assert list(split_batch(plain)) == [b"MSH|a\rPID|1", b"MSH|b\rPID|2"]
    framed = START + b"MSH|a\rPID|1" + END + START + b"MSH|b" + END
    assert list(split_batch(framed)) == [b"MSH|a\rPID|1", b"MSH|b"]
