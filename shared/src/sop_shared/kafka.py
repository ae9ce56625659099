"""kafka-python factories with the platform's settings, and topic creation."""

from __future__ import annotations

import logging
import socket
import struct
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from sop_shared.settings import KafkaSettings

log = logging.getLogger("sop.kafka")


def broker_reachable(settings: KafkaSettings, timeout: float = 1.5) -> bool:
    """The first bootstrap server answers a Metadata request within ``timeout`` seconds.

    A real protocol round trip, not a TCP connect: a frozen broker (or a proxy in front of a
    dead one) still accepts connections but answers nothing. One small request, written by
    hand so that no client (with its own retries and timeouts) is built per probe.
    """
    host, _, port = settings.bootstrap_servers.split(",")[0].rpartition(":")
    correlation = 0x50524F42
    client = b"sop-readyz"
    # Metadata v1, header v1 (api key 3, version 1, correlation id, client id) and an empty
    # topic array: the broker list only.
    body = struct.pack(">hhih", 3, 1, correlation, len(client)) + client + struct.pack(">i", 0)
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout) as sock:
            sock.settimeout(max(deadline - time.monotonic(), 0.05))
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = _read(sock, 8, deadline)
            size, answered = struct.unpack(">ii", head)
            if answered != correlation or size < 8:
                return False
            (brokers,) = struct.unpack(">i", _read(sock, 4, deadline))
            return brokers >= 1
    except (OSError, ValueError, struct.error):
        return False


def _read(sock: socket.socket, n: int, deadline: float) -> bytes:
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("broker metadata timed out")
        sock.settimeout(left)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


def make_producer(settings: KafkaSettings, client_id: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        retries=3,
        request_timeout_ms=settings.request_timeout_ms,
        delivery_timeout_ms=settings.delivery_timeout_ms,
        max_block_ms=settings.request_timeout_ms,
        bootstrap_timeout_ms=settings.request_timeout_ms,
    )


def make_consumer(settings: KafkaSettings, *, group_id: str, client_id: str) -> KafkaConsumer:
    """Manual commits after the database commit, from the earliest offset (STYLE §6)."""
    return KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.max_poll_records,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        request_timeout_ms=max(settings.request_timeout_ms, settings.session_timeout_ms + 1000),
        bootstrap_timeout_ms=settings.request_timeout_ms,
    )


def ensure_topics(settings: KafkaSettings, topics: list[str]) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    admin = KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="sop-admin",
        request_timeout_ms=settings.request_timeout_ms,
        bootstrap_timeout_ms=settings.request_timeout_ms,
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        try:
            admin.create_topics(
                [
                    NewTopic(t, num_partitions=settings.partitions, replication_factor=1)
                    for t in missing
                ]
            )
            log.info("created topics %s", missing)
        except TopicAlreadyExistsError:
            pass
    finally:
        admin.close()
