"""Consumer runner: a kafka-python consumer group applying each event once in effect.

Per record: one DB transaction that inserts the inbox row (``ON CONFLICT DO
NOTHING``) and, if it was new, runs the handler. The Kafka offset is committed
only after the DB commit, so a crash redelivers and the inbox absorbs it.

An outage is not the message's fault. When the database or a peer cannot be reached
(``sop_shared.outages.is_outage``) the runner commits the offsets of what it applied,
rewinds to the failed record, pauses its partitions and retries with a growing backoff,
for as long as the outage lasts; nothing is skipped and nothing is dead-lettered. Only a
record that fails on its own (it does not parse, a domain rule refuses it, a handler bug
that repeats) becomes a dead letter: a ``dead_letter`` row with the reason, plus a copy on
``<topic>.dlq``; ``replay_dead_letters`` re-applies those once the cause is fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from opentelemetry.trace import SpanKind
from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_shared.db import transaction
from sop_shared.events.envelope import CloudEvent
from sop_shared.inbox.models import DeadLetter, ProcessedMessage
from sop_shared.kafka import ensure_topics, make_consumer, make_producer
from sop_shared.metrics import CONSUMER_PAUSED, DEAD_LETTERS, EVENTS_CONSUMED
from sop_shared.outages import failure_kind, is_outage
from sop_shared.problems import Unprocessable
from sop_shared.settings import KafkaSettings
from sop_shared.tracing import span

log = logging.getLogger("sop.inbox")

Handler = Callable[[Session, CloudEvent], None]


class EventRejected(Unprocessable):
    """A handler refuses an event for good (e.g. its lineage mixes scenarios): a domain rule,
    so no retry; the record is dead-lettered at once with this reason."""

    code, title = "event-rejected", "Event rejected"


@dataclass
class ConsumerSpec:
    """A consumer group of a service: which topics, which handler per event type."""

    purpose: str
    topics: list[str]
    handlers: dict[str, Handler]


class Outage(Exception):
    """A dependency (database, peer) is unavailable: retry the record later, unchanged."""


class Poison(Exception):
    """The record itself cannot be applied; ``reason`` is validation, domain or error."""

    def __init__(self, reason: str, error: str, event: CloudEvent | None = None) -> None:
        super().__init__(error)
        self.reason, self.error, self.event = reason, error, event


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


def apply_with_retries(
    engine: Engine, consumer: str, event: CloudEvent, handler: Handler, attempts: int
) -> bool:
    """``apply_once``, telling failures apart: ``Outage`` when a dependency is down,
    ``Poison`` when the event fails on its own (a bug gets ``attempts`` quick tries first)."""
    for attempt in range(1, attempts + 1):
        try:
            return apply_once(engine, consumer, event, handler)
        except Exception as exc:
            if is_outage(exc):
                raise Outage(str(exc)) from exc
            reason = failure_kind(exc)
            log.warning(
                "%s: event %s failed (%s, attempt %s/%s): %s",
                consumer,
                event.id,
                reason,
                attempt,
                attempts,
                exc,
                extra={"event_id": event.id, "event_type": event.type},
            )
            if reason != "error" or attempt == attempts:  # a refusal repeats: no retry
                raise Poison(reason, str(exc) or type(exc).__name__, event) from exc
            time.sleep(min(0.2 * 2**attempt, 2.0))
    raise AssertionError("unreachable")


class _LogRebalance(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner

    def on_partitions_revoked(self, revoked: object) -> None:
        # Offsets of applied records are committed before the next poll (in which a
        # rebalance runs), so nothing is pending here; kafka-python 3 also forbids a
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
        service: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.consumer_name = consumer_name
        self.service = service or consumer_name.split(".", 1)[0]
        self.group_id = group_id or consumer_name
        self.topics = topics
        self.handlers = handlers
        self._consumer: KafkaConsumer | None = None
        self.assigned = threading.Event()
        #: Set while the runner waits out an outage (its partitions paused).
        self.paused = threading.Event()
        self._delay = 0.0
        self._outage: Outage | None = None

    # --- one record ------------------------------------------------------------------------

    def handle(self, event: CloudEvent) -> str:
        """Apply one decoded event: ``applied``, ``duplicate`` or ``ignored``; raises
        ``Outage`` or ``Poison``."""
        handler = self.handlers.get(event.type)
        if handler is None:
            EVENTS_CONSUMED.labels(self.consumer_name, "ignored").inc()
            return "ignored"
        applied = apply_with_retries(
            self.engine, self.consumer_name, event, handler, self.settings.consumer_max_attempts
        )
        outcome = "applied" if applied else "duplicate"
        EVENTS_CONSUMED.labels(self.consumer_name, outcome).inc()
        return outcome

    def process_record(
        self, topic: str, key: bytes | None, value: bytes, partition: int = -1, offset: int = -1
    ) -> str:
        """Apply a record or dead-letter it; raises ``Outage`` (nothing recorded) when a
        dependency is down, the dead-lettering included."""
        try:
            try:
                event = CloudEvent.from_json(value)
            except Exception as exc:
                raise Poison("validation", f"undecodable: {exc}") from exc
            return self.handle(event)
        except Poison as poison:
            log.error(
                "%s: record %s/%s@%s dead-lettered (%s): %s",
                self.consumer_name,
                topic,
                partition,
                offset,
                poison.reason,
                poison.error,
            )
            try:
                self._dead_letter(topic, partition, offset, key, value, poison)
            except Exception as exc:
                raise Outage(f"dead-lettering failed: {exc}") from exc
            return "dead_lettered"

    def _dead_letter(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        raw: bytes,
        poison: Poison,
    ) -> None:
        event = poison.event
        with transaction(self.engine) as session:
            known = session.exec(
                select(DeadLetter.id).where(
                    col(DeadLetter.consumer) == self.consumer_name,
                    col(DeadLetter.topic) == topic,
                    col(DeadLetter.partition) == partition,
                    col(DeadLetter.offset) == offset,
                )
            ).first()
            if known is None:
                session.add(
                    DeadLetter(
                        consumer=self.consumer_name,
                        topic=topic,
                        partition=partition,
                        offset=offset,
                        key=key.decode(errors="replace")[:200] if key else None,
                        event_id=event.id if event else None,
                        event_type=event.type[:200] if event else None,
                        payload=raw,
                        reason=poison.reason,
                        error=poison.error[:4000],
                    )
                )
        producer = make_producer(self.settings, client_id=f"{self.consumer_name}-dlq")
        try:
            producer.send(
                f"{topic}.dlq",
                key=key,
                value=raw,
                headers=[
                    ("error", poison.error[:1000].encode()),
                    ("reason", poison.reason.encode()),
                    ("consumer", self.consumer_name.encode()),
                    ("source", f"{topic}/{partition}@{offset}".encode()),
                ],
            ).get(timeout=self.settings.delivery_timeout_ms / 1000)
        finally:
            producer.close(timeout=2)
        EVENTS_CONSUMED.labels(self.consumer_name, "dead_lettered").inc()
        count_dead_letters(self.engine, self.service)

    # --- the loop --------------------------------------------------------------------------

    def commit_offsets(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        if self._consumer is not None and offsets:
            try:
                self._consumer.commit(offsets)
            except Exception:  # a failed commit only means redelivery, which the inbox absorbs
                log.warning("offset commit failed for %s", self.consumer_name, exc_info=True)

    def process_batch(self, consumer: KafkaConsumer, batch: dict[TopicPartition, Any]) -> bool:
        """Apply a polled batch; on an outage rewind to the first record not applied (of
        every partition of the batch) and return False. Commits what was applied."""
        done: dict[TopicPartition, OffsetAndMetadata] = {}
        partitions = list(batch.items())
        for index, (tp, records) in enumerate(partitions):
            for record in records:
                try:
                    self.process_record(
                        record.topic, record.key, record.value, record.partition, record.offset
                    )
                except Outage as exc:
                    self.commit_offsets(done)
                    consumer.seek(tp, record.offset)
                    for later, rest in partitions[index + 1 :]:
                        consumer.seek(later, rest[0].offset)
                    self._outage = exc
                    return False
                done[tp] = OffsetAndMetadata(record.offset + 1, "", -1)
        self.commit_offsets(done)
        return True

    def wait_out_outage(self, consumer: KafkaConsumer, stop: threading.Event) -> None:
        """Pause every partition and wait with a growing delay; polls meanwhile keep the
        group membership (paused partitions return nothing). Records a rebalance hands
        over during the wait are rewound, never dropped."""
        self._delay = min(max(self._delay * 2, 0.5), self.settings.consumer_max_backoff_seconds)
        exc = self._outage
        log.warning(
            "%s: a dependency is unavailable (%s); partitions paused, nothing committed, "
            "retrying in %.1f s",
            self.consumer_name,
            exc,
            self._delay,
        )
        self.paused.set()
        CONSUMER_PAUSED.labels(self.consumer_name).set(1)
        deadline = time.monotonic() + self._delay
        consumer.pause(*consumer.assignment())
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            got = consumer.poll(timeout_ms=int(min(left, 0.5) * 1000) + 1)
            for tp, records in got.items():  # newly assigned, not paused: hand them back
                consumer.seek(tp, records[0].offset)
            consumer.pause(*consumer.assignment())
        consumer.resume(*consumer.paused())

    def _recovered(self) -> None:
        if self.paused.is_set():
            log.info("%s: dependency back; partitions resumed", self.consumer_name)
        self.paused.clear()
        CONSUMER_PAUSED.labels(self.consumer_name).set(0)
        self._delay = 0.0

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ensure_topics(self.settings, self.topics)
                self._consumer = consumer = make_consumer(
                    self.settings, group_id=self.group_id, client_id=f"{self.consumer_name}"
                )
                consumer.subscribe(self.topics, listener=_LogRebalance(self))
                while not stop.is_set():
                    batch = consumer.poll(timeout_ms=500)
                    if consumer.assignment():
                        self.assigned.set()
                    if not batch:
                        continue
                    if self.process_batch(consumer, batch):
                        self._recovered()
                    else:
                        self.wait_out_outage(consumer, stop)
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


# --- dead letters ----------------------------------------------------------------------------


def count_dead_letters(engine: Engine, service: str) -> int:
    """Dead letters not yet replayed (also the ``sop_dead_letters`` gauge)."""
    with Session(engine) as session:
        count = session.exec(
            select(func.count())
            .select_from(DeadLetter)
            .where(col(DeadLetter.replayed_at).is_(None))
        ).one()
    DEAD_LETTERS.labels(service).set(int(count))
    return int(count)


def list_dead_letters(
    engine: Engine, *, include_replayed: bool = False, limit: int = 100
) -> tuple[list[DeadLetter], int]:
    """The newest dead letters (pending only, unless asked) and how many there are."""
    where = [] if include_replayed else [col(DeadLetter.replayed_at).is_(None)]
    with Session(engine, expire_on_commit=False) as session:
        total = session.exec(select(func.count()).select_from(DeadLetter).where(*where)).one()
        rows = session.exec(
            select(DeadLetter).where(*where).order_by(col(DeadLetter.id).desc()).limit(limit)
        ).all()
    return list(rows), int(total)


@dataclass
class ReplayOutcome:
    id: int
    consumer: str
    event_id: str | None
    outcome: str  # applied, duplicate, ignored, failed
    error: str | None = None


def replay_dead_letters(
    engine: Engine,
    handlers: dict[str, dict[str, Handler]],
    *,
    service: str,
    ids: Iterable[int] | None = None,
    consumer: str | None = None,
) -> list[ReplayOutcome]:
    """Re-apply dead letters (all not yet replayed, or the given ids) with the handlers of
    their consumer. Each is one transaction like a consumed record; one that still fails
    stays a dead letter with its latest error. The inbox makes a replay after the event was
    applied otherwise a no-op (``duplicate``)."""
    query = select(DeadLetter).where(col(DeadLetter.replayed_at).is_(None))
    if ids is not None:
        query = query.where(col(DeadLetter.id).in_(list(ids)))
    if consumer is not None:
        query = query.where(col(DeadLetter.consumer) == consumer)
    with Session(engine, expire_on_commit=False) as session:
        letters = list(session.exec(query.order_by(col(DeadLetter.id))).all())
    outcomes = [_replay_one(engine, handlers, letter) for letter in letters]
    count_dead_letters(engine, service)
    return outcomes


def _replay_one(
    engine: Engine, handlers: dict[str, dict[str, Handler]], letter: DeadLetter
) -> ReplayOutcome:
    assert letter.id is not None
    outcome, error = "failed", None
    try:
        event = CloudEvent.from_json(letter.payload)
        known = handlers.get(letter.consumer)
        if known is None:
            raise LookupError(f"no consumer {letter.consumer!r} in this service")
        handler = known.get(event.type)
        if handler is None:
            outcome = "ignored"
        else:
            applied = apply_with_retries(engine, letter.consumer, event, handler, attempts=1)
            outcome = "applied" if applied else "duplicate"
    except Poison as exc:
        error = exc.error
    except Exception as exc:  # an outage, a decode error: reported, the letter stays
        error = f"{type(exc).__name__}: {exc}"
    with transaction(engine) as session:
        row = session.get(DeadLetter, letter.id)
        assert row is not None
        row.replay_attempts += 1
        row.replay_error = error[:4000] if error else None
        if error is None:
            row.replayed_at = datetime.now(UTC)
        session.add(row)
    if error is None:
        EVENTS_CONSUMED.labels(letter.consumer, f"replayed_{outcome}").inc()
    log.info("dead letter %s of %s replayed: %s %s", letter.id, letter.consumer, outcome, error)
    return ReplayOutcome(letter.id, letter.consumer, letter.event_id, outcome, error)
