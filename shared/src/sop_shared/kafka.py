"""kafka-python factories with the platform's settings, and topic creation."""

from __future__ import annotations

import logging
import socket

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from sop_shared.settings import KafkaSettings

log = logging.getLogger("sop.kafka")


def broker_reachable(settings: KafkaSettings, timeout: float = 1.0) -> bool:
    """A cheap TCP probe of the first bootstrap server (for /readyz)."""
    host, _, port = settings.bootstrap_servers.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


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
