"""Products over HTTP: contract, auth, problem documents and the outbox row of each change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from sop_demand.products.models import Product
from sop_shared.outbox.models import OutboxEvent

NEW = {
    "code": "SKU-1",
    "name": "Widget",
    "family": "WID",
    "category": "HARD",
    "price": 10.0,
    "cost": 6.0,
}


def _outbox(session: Session, subject: str) -> list[OutboxEvent]:
    rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))).all()
    return [r for r in rows if r.payload.get("subject") == subject]


class TestCreate:
    def test_created_product_is_readable_and_queues_its_event(
        self, client: Any, token: Any, session: Session
    ) -> None:
        response = client.post("/api/v1/products", json=NEW, headers=token("demand_planner"))
        assert response.status_code == 201
        assert response.headers["ETag"] == '"1"'
        assert response.json()["code"] == "SKU-1"
        read = client.get("/api/v1/products/SKU-1", headers=token("viewer"))
        assert read.json()["family"] == "WID"
        events = _outbox(session, "SKU-1")
        assert [e.event_type for e in events] == ["sop.demand.product.changed.v1"]
        assert events[0].payload["data"]["price"] == 10.0
        assert events[0].payload["specversion"] == "1.0"
        assert events[0].published_at is None

    def test_duplicate_code_is_a_conflict_problem(self, client: Any, token: Any) -> None:
        client.post("/api/v1/products", json=NEW, headers=token("demand_planner"))
        again = client.post("/api/v1/products", json=NEW, headers=token("demand_planner"))
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["code"] == "product-exists"


class TestBadInputWritesNothing:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({**NEW, "colour": "red"}, "body.colour"),
            ({**NEW, "price": "cheap"}, "body.price"),
            ({**NEW, "price": -1}, "body.price"),
            ({k: v for k, v in NEW.items() if k != "family"}, "body.family"),
            ({**NEW, "lifecycle": "retired"}, "body.lifecycle"),
            ({**NEW, "launch_date": "2027-01-01", "eol_date": "2026-01-01"}, "body"),
        ],
    )
    def test_invalid_body_names_the_field(
        self, client: Any, token: Any, session: Session, body: dict[str, Any], field: str
    ) -> None:
        response = client.post("/api/v1/products", json=body, headers=token("demand_planner"))
        assert response.status_code == 422
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["type"].endswith("/validation-error")
        assert any(e["field"] == field for e in problem["errors"]), problem
        assert session.exec(select(Product).where(Product.code == "SKU-1")).first() is None
        assert _outbox(session, "SKU-1") == []

    def test_malformed_json_is_a_problem(self, client: Any, token: Any, session: Session) -> None:
        response = client.post(
            "/api/v1/products",
            content=b'{"code": "SKU-1", ',
            headers={**token("demand_planner"), "content-type": "application/json"},
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert error["field"].startswith("body")
        assert error["message"].startswith("malformed JSON")
        assert session.exec(select(Product).where(Product.code == "SKU-1")).first() is None
        assert _outbox(session, "SKU-1") == []


class TestAccess:
    def test_no_token_is_401_with_challenge(self, client: Any) -> None:
        response = client.get("/api/v1/products")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["code"] == "unauthorized"

    def test_wrong_role_is_403(self, client: Any, token: Any) -> None:
        response = client.post("/api/v1/products", json=NEW, headers=token("supply_planner"))
        assert response.status_code == 403
        assert "demand_planner" in response.json()["required_roles"]

    def test_expired_token_is_401(self, client: Any, token: Any) -> None:
        response = client.get("/api/v1/products", headers=token("viewer", ttl_seconds=-10))
        assert response.status_code == 401
        assert response.json()["code"] == "token-expired"

    def test_health_readiness_metrics_and_docs_are_open(self, client: Any) -> None:
        for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
            assert client.get(path).status_code == 200, path


class TestConcurrency:
    def test_stale_if_match_is_refused_and_changes_nothing(
        self, client: Any, token: Any, session: Session
    ) -> None:
        client.post("/api/v1/products", json=NEW, headers=token("demand_planner"))
        ok = client.patch(
            "/api/v1/products/SKU-1",
            json={"price": 12},
            headers={**token("demand_planner"), "If-Match": '"1"'},
        )
        assert ok.status_code == 200
        assert ok.headers["ETag"] == '"2"'
        stale = client.patch(
            "/api/v1/products/SKU-1",
            json={"price": 99},
            headers={**token("demand_planner"), "If-Match": '"1"'},
        )
        assert stale.status_code == 412
        assert stale.json()["current_version"] == 2
        assert client.get("/api/v1/products/SKU-1", headers=token("viewer")).json()["price"] == 12
        assert len(_outbox(session, "SKU-1")) == 2


class TestCommitFailure:
    def test_failed_commit_is_a_problem_not_a_200(
        self, client: Any, token: Any, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken_commit() -> None:
            raise OperationalError("COMMIT", {}, Exception("connection lost"))

        monkeypatch.setattr(session, "commit", broken_commit)
        response = client.post("/api/v1/products", json=NEW, headers=token("demand_planner"))
        assert response.status_code == 503
        assert response.json()["code"] == "database-unavailable"
        monkeypatch.undo()
        assert session.exec(select(Product).where(Product.code == "SKU-1")).first() is None
