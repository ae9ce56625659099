"""ERP product feeds: bulk upsert by code, idempotent, events only for real changes."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from sop_demand.products.models import Product
from sop_shared.outbox.models import OutboxEvent

URL = "/api/v1/products/bulk"
CHANGED = "sop.demand.product.changed.v1"


def _events(session: Session) -> list[OutboxEvent]:
    rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))).all()
    return [r for r in rows if r.event_type == CHANGED]


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


FEED = [
    {"code": "A", "name": "Alpha", "family": "F1", "category": "C1", "price": 10},
    {"code": "B", "name": "Beta", "family": "F1", "category": "C1", "price": 20},
    {
        "code": "N",
        "name": "New",
        "family": "F1",
        "category": "C1",
        "lifecycle": "npi",
        "launch_date": "2027-01-01",
        "analog_code": "A",
        "scaling_factor": 0.5,
        "launch_curve": [0.2, 0.5],
        "launch_probability": 0.8,
    },
]


class TestBulkUpsert:
    def test_creates_then_changes_only_what_changed(
        self, client: Any, token: Any, session: Session
    ) -> None:
        headers = token("integration")
        first = client.post(URL, json=FEED, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json() | {"changed_codes": None} == {
            "rows": 3,
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "changed_codes": None,
        }
        assert len(_events(session)) == 3
        npi = session.exec(select(Product).where(Product.code == "N")).one()
        assert (npi.analog_code, npi.scaling_factor, npi.launch_curve) == ("A", 0.5, [0.2, 0.5])

        again = [dict(FEED[0]), {**FEED[1], "price": 25}, dict(FEED[2])]
        second = client.post(URL, json=again, headers=headers)
        assert second.json()["updated"] == 1
        assert second.json()["unchanged"] == 2
        assert second.json()["changed_codes"] == ["B"]
        events = _events(session)
        assert len(events) == 4  # one more event, for B only
        data = events[-1].payload["data"]
        assert (data["code"], data["price"], data["version"]) == ("B", 25.0, 2)

    def test_csv_feed_with_a_launch_curve(self, client: Any, token: Any, session: Session) -> None:
        response = client.post(
            URL,
            content=_csv(
                "code,name,family,category,price,lifecycle,launch_date,analog_code,launch_curve",
                "A,Alpha,F1,C1,10,active,,,",
                "N,New,F1,C1,12,npi,2027-02-01,A,0.25|0.5|0.75",
            ),
            headers={**token("integration"), "content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        npi = session.exec(select(Product).where(Product.code == "N")).one()
        assert npi.launch_curve == [0.25, 0.5, 0.75]
        assert str(npi.launch_date) == "2027-02-01"

    def test_partial_row_keeps_other_fields(
        self, client: Any, token: Any, session: Session
    ) -> None:
        client.post(URL, json=FEED[:1], headers=token("integration"))
        response = client.post(URL, json=[{"code": "A", "price": 11}], headers=token("integration"))
        assert response.json()["updated"] == 1
        a = session.exec(select(Product).where(Product.code == "A")).one()
        assert (a.name, a.family, a.price, a.version) == ("Alpha", "F1", 11.0, 2)

    def test_retry_with_same_idempotency_key_is_applied_once(
        self, client: Any, token: Any, session: Session
    ) -> None:
        headers = {**token("integration"), "Idempotency-Key": "feed-42"}
        first = client.post(URL, json=FEED[:2], headers=headers)
        # the same products changed meanwhile: a replay must not re-apply the old feed
        client.post(URL, json=[{"code": "A", "price": 99}], headers=token("integration"))
        replay = client.post(URL, json=FEED[:2], headers=headers)
        assert replay.status_code == 200
        assert replay.json() == first.json()
        a = session.exec(select(Product).where(Product.code == "A")).one()
        assert a.price == 99.0
        other = client.post(URL, json=FEED[:1], headers=headers)
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency-key-reused"


class TestBulkRefusals:
    def test_new_product_without_family_and_unknown_analog_refuse_everything(
        self, client: Any, token: Any, session: Session
    ) -> None:
        bad = [
            FEED[0],
            {"code": "X", "name": "No family", "category": "C1"},
            {**FEED[2], "analog_code": "GHOST"},
        ]
        response = client.post(URL, json=bad, headers=token("integration"))
        assert response.status_code == 422
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert {(e["row"], e["field"]) for e in problem["errors"]} == {
            (2, "family"),
            (3, "analog_code"),
        }
        assert "GHOST" in problem["errors"][-1]["message"]
        assert session.exec(select(Product)).all() == []
        assert _events(session) == []

    def test_duplicate_code_and_bad_values_name_row_and_column(
        self, client: Any, token: Any, session: Session
    ) -> None:
        response = client.post(
            URL,
            content=_csv(
                "code,name,family,category,price,launch_probability",
                "A,Alpha,F1,C1,10,1",
                "B,Beta,F1,C1,-3,1",
                "A,Again,F1,C1,10,1",
                "C,Gamma,F1,C1,10,1.5",
            ),
            headers={**token("integration"), "content-type": "text/csv"},
        )
        assert response.status_code == 422
        errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
        assert errors == {(2, "price"), (3, "row"), (4, "launch_probability")}
        assert session.exec(select(Product)).all() == []

    def test_self_reference_is_refused(self, client: Any, token: Any) -> None:
        response = client.post(
            URL, json=[{**FEED[0], "successor_code": "A"}], headers=token("integration")
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["message"] == "a product cannot be its own successor"

    def test_viewer_may_not_load(self, client: Any, token: Any) -> None:
        assert client.post(URL, json=FEED, headers=token("viewer")).status_code == 403
