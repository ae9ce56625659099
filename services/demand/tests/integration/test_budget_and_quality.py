"""Demand budget feeds, the data-quality report and the step-1 data-status gate."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from sop_demand.budget.models import DemandBudget
from tests import builders


@pytest.fixture
def catalogue(session: Session) -> None:
    builders.product(session, "A", family="F1")
    builders.product(session, "B", family="F1")
    builders.product(session, "SILENT", family="F2")
    builders.product(session, "LAUNCH", family="F2", lifecycle="npi")


@pytest.mark.usefixtures("catalogue")
class TestBudget:
    def test_product_and_family_cells_are_upserted(
        self, client: Any, token: Any, session: Session
    ) -> None:
        rows = [
            {"product": "A", "month": "2027-01", "quantity": 100, "revenue": 1000},
            {"family": "F1", "month": "2027-01", "quantity": 250, "revenue": 2500},
        ]
        first = client.post("/api/v1/demand-budgets", json=rows, headers=token("integration"))
        assert first.json() == {"rows": 2, "created": 2, "updated": 0}
        csv = "product,month,quantity,revenue\nA,2027-01,110,1100\n"
        second = client.post(
            "/api/v1/demand-budgets",
            content=csv.encode(),
            headers={**token("integration"), "content-type": "text/csv"},
        )
        assert second.json() == {"rows": 1, "created": 0, "updated": 1}
        page = client.get(
            "/api/v1/demand-budgets", params={"year": 2027}, headers=token("viewer")
        ).json()
        assert [(i["level"], i["node"], i["quantity"]) for i in page["items"]] == [
            ("family", "F1", 250.0),
            ("product", "A", 110.0),
        ]

    def test_unknown_product_or_family_refuses_the_batch(
        self, client: Any, token: Any, session: Session
    ) -> None:
        rows = [
            {"product": "A", "month": "2027-01", "quantity": 1},
            {"product": "GHOST", "month": "2027-01", "quantity": 1},
            {"family": "NOPE", "month": "2027-02", "quantity": 1},
            {"product": "A", "family": "F1", "month": "2027-03", "quantity": 1},
            {"product": "B", "month": "2027-13", "quantity": 1},
        ]
        response = client.post("/api/v1/demand-budgets", json=rows, headers=token("integration"))
        assert response.status_code == 422
        fields = [(e["row"], e["field"]) for e in response.json()["errors"]]
        assert fields == [(4, "row"), (5, "month")]  # shape errors first, then references
        response = client.post(
            "/api/v1/demand-budgets", json=rows[:3], headers=token("integration")
        )
        fields = [(e["row"], e["field"]) for e in response.json()["errors"]]
        assert fields == [(2, "product"), (3, "family")]
        assert session.exec(select(DemandBudget)).all() == []


@pytest.mark.usefixtures("catalogue")
class TestDataQuality:
    def test_report_finds_gaps_outliers_and_silent_products(
        self, client: Any, token: Any, session: Session
    ) -> None:
        # A: Jan-Aug with March missing (a gap) and a spike of 500 in August
        builders.sales(
            session,
            "A",
            {
                "2026-01": 100,
                "2026-02": 102,
                "2026-04": 98,
                "2026-05": 101,
                "2026-06": 99,
                "2026-07": 100,
                "2026-08": 500,
            },
        )
        builders.sales(session, "B", {"2026-07": 10, "2026-08": 12})
        report = client.get(
            "/api/v1/data-quality", params={"months": 12}, headers=token("viewer")
        ).json()
        assert report["last_month_loaded"] == "2026-08"
        assert (report["month_from"], report["month_to"]) == ("2025-09", "2026-08")
        assert report["series"] == 2
        assert report["gaps"]["count"] == 1
        assert report["gaps"]["items"][0]["missing_months"] == ["2026-03"]
        # median of A = 100, MAD = 1 (|dev| sorted 0,0,1,1,2,2,400): z = 0.6745 * 400 / 1
        assert report["outliers"]["count"] == 1
        spike = report["outliers"]["items"][0]
        assert (spike["month"], spike["quantity"], spike["median"]) == ("2026-08", 500.0, 100.0)
        assert spike["score"] == pytest.approx(0.6745 * 400)
        # the NPI product is expected to have no history; the silent active one is flagged
        assert report["products_without_history"] == {"count": 1, "items": ["SILENT"]}
        assert report["months"][-1] == {
            "month": "2026-08",
            "rows": 2,
            "quantity": 512.0,
            "revenue": 5120.0,
        }

    def test_data_status_gate(self, client: Any, token: Any, session: Session) -> None:
        builders.sales(session, "A", {"2026-10": 5})
        builders.sales(session, "B", {"2026-10": 5})
        status = client.get(
            "/api/v1/data-status", params={"month": "2026-10"}, headers=token("integration")
        ).json()
        assert status["service"] == "demand"
        assert status["last_month_loaded"] == "2026-10"
        checks = {c["name"]: c["ok"] for c in status["checks"]}
        assert checks == {
            "sales_history_loaded": True,
            "no_negative_values": True,
            "selling_products_have_history": False,  # SILENT
        }
        assert status["ready"] is False
        builders.sales(session, "SILENT", {"2026-09": 1})
        ready = client.get(
            "/api/v1/data-status", params={"month": "2026-10"}, headers=token("integration")
        ).json()
        assert ready["ready"] is True
        missing = client.get(
            "/api/v1/data-status", params={"month": "2026-11"}, headers=token("integration")
        ).json()
        assert missing["ready"] is False
        assert missing["checks"][0]["detail"] == "no sales history for 2026-11"

    def test_month_parameter_is_validated(self, client: Any, token: Any) -> None:
        response = client.get(
            "/api/v1/data-status", params={"month": "2026-13"}, headers=token("viewer")
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.month"


@pytest.mark.usefixtures("catalogue")
class TestPromotions:
    BODY = {
        "name": "Spring",
        "level": "family",
        "node": "F1",
        "month_from": "2027-03",
        "month_to": "2027-04",
        "uplift_pct": 10,
    }

    def test_created_once_per_idempotency_key(self, client: Any, token: Any) -> None:
        headers = {**token("demand_planner"), "Idempotency-Key": "promo-1"}
        first = client.post("/api/v1/promotions", json=self.BODY, headers=headers)
        again = client.post("/api/v1/promotions", json=self.BODY, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        listed = client.get(
            "/api/v1/promotions", params={"month": "2027-04"}, headers=token("viewer")
        ).json()
        assert listed["total"] == 1
        gone = client.delete(
            f"/api/v1/promotions/{first.json()['id']}", headers=token("demand_planner")
        )
        assert gone.status_code == 204

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"node": "NOPE"}, "body.node"),
            ({"month_to": "2027-01"}, "body"),
            ({"uplift_pct": None}, "body"),
            ({"month_from": "2027-3"}, "body.month_from"),
        ],
    )
    def test_bad_promotion_is_refused(
        self, client: Any, token: Any, change: dict[str, Any], field: str
    ) -> None:
        response = client.post(
            "/api/v1/promotions", json={**self.BODY, **change}, headers=token("demand_planner")
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
