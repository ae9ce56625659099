"""The outbox relay: sends committed outbox rows to Kafka in ``seq`` order.

One batch is one transaction (STYLE §5): lock unpublished rows (``SKIP LOCKED`` on
PostgreSQL), send, wait for the acks, mark them published. The first failure stops
the batch so a later event for the same key can never overtake an earlier one.

One relay of a service sends at a time, however many replicas run one: on PostgreSQL a
batch starts by taking the service's advisory transaction lock (``pg_try_advisory_xact_lock``)
and a relay that does not get it sends nothing this round. Batches therefore never overlap,
each one sends the oldest unpublished rows in ``seq`` order after the previous batch's were
acknowledged, and per-key order holds across replicas; when the relay holding the lock dies,
its transaction ends with its connection and the next replica's batch takes over. SQLite
needs no lock: a batch begins with ``BEGIN IMMEDIATE`` (``sop_shared.db``), which already
serialises relays sharing the file.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaProducer
from sqlalchemy import delete, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_shared.db import transaction
from sop_shared.kafka import broker_reachable, ensure_topics, make_producer
from sop_shared.metrics import OUTBOX_FAILURES, OUTBOX_OLDEST_AGE, OUTBOX_PENDING, OUTBOX_PUBLISHED
from sop_shared.outbox.models import OutboxEvent
from sop_shared.settings import KafkaSettings

log = logging.getLogger("sop.outbox")


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        settings: KafkaSettings,
        *,
        service: str,
        producer_factory: Callable[[], KafkaProducer] | None = None,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.service = service
        self._producer_factory = producer_factory or (
            lambda: make_producer(settings, client_id=f"{service}-relay")
        )
        self._producer: KafkaProducer | None = None
        self._known_topics: set[str] = set()
        self.retention = retention
        self._last_housekeeping = 0.0
        #: The advisory lock of this service's relays (stable across processes and hosts).
        self.lock_key = zlib.crc32(f"sop-outbox-relay:{service}".encode())
        self.leading = False

    def _connected_producer(self) -> KafkaProducer | None:
        if not broker_reachable(self.settings):  # fail fast instead of blocking on timeouts
            self._drop_producer()
            return None
        if self._producer is None:
            try:
                self._producer = self._producer_factory()
            except Exception as exc:  # NoBrokersAvailable and friends: retry on the next tick
                log.warning("relay cannot reach the broker: %s", exc)
                return None
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # closing a broken producer must not mask the real error
                log.debug("closing producer failed", exc_info=True)
        self._producer = None
        self._known_topics.clear()

    def run_once(self) -> int:
        """Send one batch; returns how many rows were published."""
        producer = self._connected_producer()
        if producer is None:
            OUTBOX_FAILURES.labels(self.service).inc()
            return 0
        published = 0
        failed = False
        with transaction(self.engine) as session:
            if not self._lead(session):
                return 0
            rows = session.exec(
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None))
                .order_by(col(OutboxEvent.seq))
                .limit(self.settings.relay_batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            try:
                missing = {r.topic for r in rows} - self._known_topics
                if missing:
                    ensure_topics(self.settings, sorted(missing))
                    self._known_topics |= missing
                futures = [(row, self._send(producer, row)) for row in rows]
                now = datetime.now(UTC)
                for row, future in futures:
                    future.get(timeout=self.settings.delivery_timeout_ms / 1000)
                    row.published_at = now
                    session.add(row)
                    published += 1
            except Exception as exc:
                failed = True
                first_unsent = next(r for r in rows if r.published_at is None)
                first_unsent.attempts += 1
                first_unsent.last_error = str(exc)[:2000]
                session.add(first_unsent)
                log.warning("relay batch stopped at seq %s: %s", first_unsent.seq, exc)
        if failed:
            OUTBOX_FAILURES.labels(self.service).inc()
            self._drop_producer()
        OUTBOX_PUBLISHED.labels(self.service).inc(published)
        return published

    def _lead(self, session: Session) -> bool:
        """Take this service's relay lock for the batch's transaction (PostgreSQL)."""
        if session.get_bind().dialect.name != "postgresql":
            return True
        # A relay whose host vanished without closing its connection must not keep the lock
        # (and so every relay of the service) until TCP keepalive notices: its session ends
        # once its batch has idled this long (well above a batch's wait for the acks).
        idle_ms = max(30_000, 2 * self.settings.delivery_timeout_ms)
        session.execute(
            text("SELECT set_config('idle_in_transaction_session_timeout', :ms, true)"),
            {"ms": str(idle_ms)},
        )
        got = bool(
            session.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": self.lock_key}
            ).scalar()
        )
        if got != self.leading:
            log.info("%s relay %s", self.service, "leads" if got else "stands by")
            self.leading = got
        return got

    def _send(self, producer: KafkaProducer, row: OutboxEvent) -> Any:
        headers = [(k, str(v).encode()) for k, v in row.headers.items()]
        return producer.send(
            row.topic,
            key=row.key.encode(),
            value=_json_bytes(row.payload),
            headers=headers,
        )

    def observe(self) -> tuple[int, float]:
        """Pending count and age of the oldest pending row, also exported as metrics."""
        with transaction(self.engine) as session:
            pending, oldest = session.exec(
                select(func.count(), func.min(OutboxEvent.created_at)).where(
                    col(OutboxEvent.published_at).is_(None)
                )
            ).one()
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = (datetime.now(UTC) - oldest).total_seconds()
        OUTBOX_PENDING.labels(self.service).set(pending)
        OUTBOX_OLDEST_AGE.labels(self.service).set(age)
        return int(pending), age

    def housekeeping(self) -> int:
        """Delete published rows older than the retention."""
        cutoff = datetime.now(UTC) - self.retention
        with transaction(self.engine) as session:
            result = session.exec(
                delete(OutboxEvent).where(
                    col(OutboxEvent.published_at).is_not(None),
                    col(OutboxEvent.published_at) < cutoff,
                )
            )
            return int(result.rowcount or 0)

    def run_forever(self, stop: threading.Event) -> None:
        backoff = self.settings.relay_idle_seconds
        while not stop.is_set():
            try:
                sent = self.run_once()
                self.observe()
                if time.monotonic() - self._last_housekeeping > 3600:
                    self.housekeeping()
                    self._last_housekeeping = time.monotonic()
                if sent:
                    backoff = self.settings.relay_idle_seconds
                    continue
            except Exception:
                log.exception("relay loop error")
                backoff = min(backoff * 2, 5.0)
            stop.wait(backoff)
        self._drop_producer()


def _json_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode()
