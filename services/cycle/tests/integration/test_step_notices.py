"""Step notices: every transition a step's owner must hear of (stale, overdue, sent back,
approved) is published through the outbox with what a notification sender needs.

The stale notices of plan events are in test_plan_events.py; the relay publishing outbox
rows to the broker is tested in the kafka tier.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, col, select

from sop_cycle.cycles.service import announce_overdue
from sop_cycle.cycles.watch import check_overdue
from sop_shared.events.catalog import StepNoticeData
from sop_shared.outbox.models import OutboxEvent

from ..builders import full_chain
from ..fakes import FakePeers

MONTH = "2026-12"
BASE = f"/api/v1/cycles/{MONTH}"
COORD = "sop_coordinator"
# due dates of 2026-12 (working days 3, 6, 9, 12, 15, 17, 19): Dec 3, 8, 11, 16, 21, 23, 28


def _notices(session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))).all()
    return [
        {"type": r.event_type, "topic": r.topic, "key": r.key, **r.payload["data"]}
        for r in rows
        if r.event_type.startswith("sop.cycle.step.")
        and r.event_type != "sop.cycle.step.changed.v1"
        and (kind is None or r.event_type == f"sop.cycle.step.{kind}.v1")
    ]


@pytest.fixture
def cycle(client: Any, token: Any, session: Session, peers: FakePeers) -> None:
    peers.all_ready("2026-11")
    response = client.post("/api/v1/cycles", json={"month": MONTH}, headers=token(COORD))
    assert response.status_code == 201, response.text


@pytest.fixture
def reviewed(client: Any, token: Any, session: Session, cycle: None) -> None:
    full_chain(session, tag="1")
    for step in (
        "data_gathering",
        "product_review",
        "demand_review",
        "supply_review",
        "production_review",
        "pre_sop",
    ):
        response = client.post(f"{BASE}/steps/{step}/complete", headers=token(COORD))
        assert response.status_code == 200, (step, response.text)


class TestOverdue:
    def test_steps_past_their_due_date_are_announced_once(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        # on Dec 10, data gathering (due Dec 3) and product review (due Dec 8) are late
        announced = announce_overdue(session, today=date(2026, 12, 10))
        session.commit()
        assert announced == [(MONTH, "data_gathering"), (MONTH, "product_review")]
        notices = _notices(session, "overdue")
        assert [(n["step"], n["notice"], n["due_date"]) for n in notices] == [
            ("data_gathering", "overdue", "2026-12-03"),
            ("product_review", "overdue", "2026-12-08"),
        ]
        first = notices[0]
        assert (first["topic"], first["key"], first["owner_role"]) == (
            "sop.cycle.v1",
            MONTH,
            "sop_coordinator",
        )
        assert first["actor"] == "system:clock"
        assert first["link"] == f"{BASE}/steps/data_gathering"
        StepNoticeData.model_validate(
            {k: v for k, v in first.items() if k not in ("type", "topic", "key")}
        )
        # the audit trail says it, the status stays what it was
        trail = client.get(f"{BASE}/audit?step=product_review", headers=token("viewer")).json()
        (row,) = [t for t in trail["items"] if t["action"] == "overdue"]
        assert (row["from_status"], row["to_status"]) == ("not_started", "not_started")
        assert row["reason"] == "due 2026-12-08, not completed"

        # the next round the same day, or the next day, announces nothing new
        assert announce_overdue(session, today=date(2026, 12, 10)) == []
        assert announce_overdue(session, today=date(2026, 12, 11)) == []
        # demand review (due Dec 11) joins on Dec 12
        assert announce_overdue(session, today=date(2026, 12, 12)) == [(MONTH, "demand_review")]

    def test_a_completed_step_is_never_overdue_and_a_moved_due_date_announces_again(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        done = client.post(f"{BASE}/steps/data_gathering/complete", headers=token(COORD))
        assert done.status_code == 200, done.text
        assert announce_overdue(session, today=date(2026, 12, 9)) == [(MONTH, "product_review")]
        moved = client.patch(
            f"{BASE}/steps/product_review",
            json={"due_date": "2026-12-14", "owner_user": "dana"},
            headers=token(COORD),
        )
        assert moved.status_code == 200, moved.text
        # Dec 14: product review is due today (not late yet); demand review (Dec 11) is
        assert announce_overdue(session, today=date(2026, 12, 14)) == [(MONTH, "demand_review")]
        # Dec 15: product review missed its new due date: announced again
        assert announce_overdue(session, today=date(2026, 12, 15)) == [(MONTH, "product_review")]
        latest = _notices(session, "overdue")[-1]
        assert (latest["step"], latest["due_date"], latest["owner_user"]) == (
            "product_review",
            "2026-12-14",
            "dana",
        )

    def test_an_approved_cycle_announces_nothing(
        self, client: Any, token: Any, session: Session, reviewed: None, peers: FakePeers
    ) -> None:
        approved = client.post(f"{BASE}/approve", headers=token("executive"))
        assert approved.status_code == 200, approved.text
        assert announce_overdue(session, today=date(2027, 1, 31)) == []

    def test_the_watcher_round_commits_its_notices(
        self, client: Any, session: Session, cycle: None
    ) -> None:
        # the round the background watcher runs: its own transaction on the app's engine
        engine = session.get_bind()
        announced = check_overdue(engine, today=date(2026, 12, 4))
        assert announced == [(MONTH, "data_gathering")]
        assert [n["step"] for n in _notices(session, "overdue")] == ["data_gathering"]


class TestExecutiveNotices:
    def test_sent_back_tells_the_step_owner_and_stale_tells_the_later_ones(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        response = client.post(
            f"{BASE}/send-back",
            json={"step": "supply_review", "comment": "Rebuild stock of A before January"},
            headers=token("executive", subject="erin"),
        )
        assert response.status_code == 200, response.text
        (sent,) = _notices(session, "sent-back")
        assert (sent["step"], sent["notice"], sent["status"], sent["owner_role"]) == (
            "supply_review",
            "sent_back",
            "in_progress",
            "supply_planner",
        )
        assert (sent["actor"], sent["reason"]) == (
            "erin",
            "sent back by executives: Rebuild stock of A before January",
        )
        stale = _notices(session, "stale")
        assert [(n["step"], n["owner_role"]) for n in stale] == [
            ("production_review", "capacity_planner"),
            ("pre_sop", "sop_coordinator"),
        ]

    def test_approval_tells_the_executive_step_owner(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        approved = client.post(
            f"{BASE}/approve", json={"comment": "go"}, headers=token("executive", subject="erin")
        )
        assert approved.status_code == 200, approved.text
        (notice,) = _notices(session, "approved")
        assert (notice["step"], notice["notice"], notice["status"], notice["actor"]) == (
            "executive_sop",
            "approved",
            "completed",
            "erin",
        )
        assert notice["owner_role"] == "executive"
        assert notice["reason"] == "go"
