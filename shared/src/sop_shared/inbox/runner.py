"""Consumer runner: a kafka-python consumer group applying each event once in effect.

Per record: one DB transaction that inserts the inbox row (``ON CONFLICT DO
NOTHING``) and, if it was new, runs the handler. The Kafka offset is committed
only after the DB commit, so a crash redelivers and the inbox absorbs it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import ConsumerRebalanceListener, KafkaConsumer
from opentelemetry.trace import SpanKind
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sop_shared.db import transaction
from sop_shared.events.envelope import CloudEvent
from sop_shared.inbox.models import ProcessedMessage
from sop_shared.kafka import ensure_topics, make_consumer, make_producer
from sop_shared.metrics import EVENTS_CONSUMED
from sop_shared.settings import KafkaSettings
from sop_shared.tracing import span

log = logging.getLogger("sop.inbox")

Handler = Callable[[Session, CloudEvent], None]


class EventRejected(Exception):
    """A handler refuses an event for good (e.g. its lineage mixes scenarios): no retry, the
    record goes to ``<topic>.dlq`` at once with this reason in its ``error`` header."""


@dataclass
class ConsumerSpec:
    """A consumer group of a service: which topics, which handler per event type."""

    purpose: str
    topics: list[str]
    handlers: dict[str, Handler]


def _claim(session: Session, consumer: str, event: CloudEvent) -> bool:
    """Insert the inbox row; False when this consumer already applied the event."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = (
        ProcessedMessage.__table__
    )  # Core insert: ORM bulk paths do not report rowcounts reliably
    stmt = (
        insert(table)
        .values(
            consumer=consumer,
            event_id=event.id,
            event_type=event.type,
            processed_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(table.c.event_id)
    )
    return session.connection().execute(stmt).first() is not None


def apply_once(engine: Engine, consumer: str, event: CloudEvent, handler: Handler) -> bool:
    """Apply ``event`` with ``handler`` unless already applied; True if applied now."""
    with transaction(engine) as session:
        if not _claim(session, consumer, event):
            return False
        with span(
            f"consume {event.type}",
            traceparent=event.traceparent,
            kind=SpanKind.CONSUMER,
            attributes={"messaging.message.id": event.id, "sop.consumer": consumer},
        ):
            handler(session, event)
    return True


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    def on_partitions_revoked(self, revoked: object) -> None:
        # Offsets are committed after every processed batch, before the next poll (in which
        # a rebalance runs), so nothing is pending here; kafka-python 3 also forbids a
        # blocking commit from this callback. Redelivery after a crash is absorbed by the inbox.
        log.info("%s revoked %s", self.runner.consumer_name, revoked)

    def on_partitions_assigned(self, assigned: object) -> None:
        log.info("%s assigned %s", self.runner.consumer_name, assigned)


class ConsumerRunner:
    """Runs one consumer group for a service; ``handlers`` map event type → handler."""

    def __init__(
        self,
        engine: Engine,
        settings: KafkaSettings,
        *,
        consumer_name: str,
        topics: list[str],
        handlers: dict[str, Handler],
        group_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.consumer_name = consumer_name
        self.group_id = group_id or consumer_name
        self.topics = topics
        self.handlers = handlers
        self._consumer: KafkaConsumer | None = None
        self.assigned = threading.Event()

    def commit_offsets(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.commit()
            except Exception:  # a failed commit only means redelivery, which the inbox absorbs
                log.warning("offset commit failed for %s", self.consumer_name, exc_info=True)

    def handle(self, event: CloudEvent) -> str:
        handler = self.handlers.get(event.type)
        if handler is None:
            EVENTS_CONSUMED.labels(self.consumer_name, "ignored").inc()
            return "ignored"
        attempts = self.settings.consumer_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                applied = apply_once(self.engine, self.consumer_name, event, handler)
                outcome = "applied" if applied else "duplicate"
                EVENTS_CONSUMED.labels(self.consumer_name, outcome).inc()
                return outcome
            except EventRejected:
                raise  # permanent: retrying cannot change the answer
            except Exception as exc:
                log.warning(
                    "handler failed (attempt %s/%s) for %s: %s",
                    attempt,
                    attempts,
                    event.id,
                    exc,
                    extra={"event_id": event.id, "event_type": event.type},
                )
                if attempt == attempts:
                    raise
                time.sleep(min(0.2 * 2**attempt, 5.0))
        raise AssertionError("unreachable")

    def _dead_letter(self, topic: str, raw: bytes, key: bytes | None, error: str) -> None:
        producer = make_producer(self.settings, client_id=f"{self.consumer_name}-dlq")
        try:
            producer.send(
                f"{topic}.dlq",
                key=key,
                value=raw,
                headers=[
                    ("error", error[:1000].encode()),
                    ("consumer", self.consumer_name.encode()),
                ],
            ).get(timeout=self.settings.delivery_timeout_ms / 1000)
        finally:
            producer.close(timeout=2)
        EVENTS_CONSUMED.labels(self.consumer_name, "dead_lettered").inc()

    def process_record(self, topic: str, key: bytes | None, value: bytes) -> str:
        try:
            event = CloudEvent.from_json(value)
        except Exception as exc:
            log.error("undecodable record on %s: %s", topic, exc)
            self._dead_letter(topic, value, key, f"undecodable: {exc}")
            return "dead_lettered"
        try:
            return self.handle(event)
        except Exception as exc:
            log.error("event %s dead-lettered after retries: %s", event.id, exc)
            self._dead_letter(topic, value, key, str(exc))
            return "dead_lettered"

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ensure_topics(self.settings, self.topics)
                self._consumer = make_consumer(
                    self.settings, group_id=self.group_id, client_id=f"{self.consumer_name}"
                )
                self._consumer.subscribe(self.topics, listener=_CommitOnRevoke(self))
                while not stop.is_set():
                    batch = self._consumer.poll(timeout_ms=500)
                    if self._consumer.assignment():
                        self.assigned.set()
                    for records in batch.values():
                        for record in records:
                            self.process_record(record.topic, record.key, record.value)
                    if batch:
                        self._consumer.commit()
            except Exception as exc:
                log.warning("consumer %s lost the broker: %s; retrying", self.consumer_name, exc)
                stop.wait(1.0)
            finally:
                if self._consumer is not None:
                    try:
                        self._consumer.close(autocommit=False)
                    except Exception:  # closing after a broker loss may fail; we reconnect anyway
                        log.debug("consumer close failed", exc_info=True)
                    self._consumer = None
