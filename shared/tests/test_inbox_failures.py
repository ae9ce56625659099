"""A consumer's failures are told apart by one rule (``sop_shared.outages``): a handler's
refusal is final (no retry), a bug gets its quick retries, and either ends as ``Poison``
with its reason; nothing is recorded as applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sop_shared.db import make_engine
from sop_shared.events.envelope import CloudEvent
from sop_shared.inbox import EventRejected, ProcessedMessage
from sop_shared.inbox.runner import Poison, apply_with_retries


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    ProcessedMessage.__table__.create(eng)  # type: ignore[attr-defined]  # the table alone
    yield eng
    eng.dispose()


def _event() -> CloudEvent:
    return CloudEvent(source="test", type="sop.test.thing.v1", subject="s", data={})


def _failing(error: Exception, calls: list[int]) -> Any:
    def handler(session: Session, event: CloudEvent) -> None:
        calls.append(1)
        raise error

    return handler


def test_a_refused_event_is_a_domain_dead_letter_without_retries(engine: Engine) -> None:
    calls: list[int] = []
    refusal = EventRejected("lineage mixes scenarios in X: upstream of scenario base")
    with pytest.raises(Poison) as poison:
        apply_with_retries(engine, "t.plans", _event(), _failing(refusal, calls), attempts=3)
    assert poison.value.reason == "domain"
    assert "lineage mixes scenarios" in poison.value.error
    assert calls == [1]
    with Session(engine) as session:
        assert session.exec(select(ProcessedMessage)).all() == []


def test_a_bug_is_retried_then_dead_lettered_as_an_error(engine: Engine) -> None:
    calls: list[int] = []
    with pytest.raises(Poison) as poison:
        apply_with_retries(
            engine, "t.plans", _event(), _failing(RuntimeError("boom"), calls), attempts=2
        )
    assert poison.value.reason == "error"
    assert calls == [1, 1]
