"""Master data over HTTP: resources, calendars, routings, workforce and history, all-or-nothing."""

from __future__ import annotations

from typing import Any

import pytest
from builders import add_products, ok, post_bulk
from sqlmodel import Session, select

from sop_capacity.calendars.models import ResourceCalendar
from sop_capacity.history.models import ProductionHistory
from sop_capacity.resources.models import Resource
from sop_capacity.routings.models import Routing
from sop_capacity.workforce.models import Workforce

RESOURCES = [
    {"code": "CREW-A", "name": "Packing crew", "site": "PA", "kind": "labour_pool"},
    {"code": "LINE-1", "name": "Line 1", "site": "PA", "kind": "line", "labour_pool": "CREW-A"},
    {"code": "CO-1", "name": "Co-packer", "site": "EXT", "kind": "copacker"},
]


def _resources(client: Any, token: Any) -> None:
    ok(post_bulk(client, token, "resources", RESOURCES))


def _problem(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


class TestResources:
    def test_bulk_creates_then_updates_and_a_pool_names_itself(
        self, client: Any, token: Any
    ) -> None:
        first = ok(post_bulk(client, token, "resources", RESOURCES, fmt="csv"))
        assert first == {"received": 3, "created": 3, "updated": 0}
        crew = ok(client.get("/api/v1/resources/CREW-A", headers=token("viewer")))
        assert crew["labour_pool"] == "CREW-A"
        assert crew["version"] == 1

        changed = [{**RESOURCES[2], "overtime_hour_cost": 45.0}]
        assert ok(post_bulk(client, token, "resources", changed)) == {
            "received": 1,
            "created": 0,
            "updated": 1,
        }
        co = client.get("/api/v1/resources/CO-1", headers=token("viewer"))
        assert co.json()["overtime_hour_cost"] == 45.0
        assert co.headers["ETag"] == '"2"'
        page = ok(client.get("/api/v1/resources?kind=labour_pool", headers=token("viewer")))
        assert [r["code"] for r in page["items"]] == ["CREW-A"]

    def test_pool_reference_to_a_line_refuses_the_whole_batch(
        self, client: Any, token: Any, session: Session
    ) -> None:
        rows = [
            {"code": "LINE-9", "name": "L9", "site": "PA"},
            {"code": "LINE-8", "name": "L8", "site": "PA", "labour_pool": "LINE-9"},
            {"code": "LINE-7", "name": "L7", "site": "PA", "labour_pool": "NOPE"},
        ]
        problem = _problem(post_bulk(client, token, "resources", rows))
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [
            (2, "labour_pool"),
            (3, "labour_pool"),
        ]
        assert "not a labour_pool" in problem["errors"][0]["message"]
        assert session.exec(select(Resource)).all() == []

    def test_single_create_checks_the_pool_too(self, client: Any, token: Any) -> None:
        body = {"code": "LINE-5", "name": "L5", "site": "PA", "labour_pool": "GHOST"}
        problem = _problem(
            client.post("/api/v1/resources", json=body, headers=token("capacity_planner"))
        )
        assert problem["errors"][0]["field"] == "body.labour_pool"


class TestCalendars:
    def test_available_hours_come_from_shifts_days_efficiency_and_maintenance(
        self, client: Any, token: Any
    ) -> None:
        _resources(client, token)
        # 2 shifts x 8 h x 20 days x 0.9 - 8 h maintenance = 288 - 8 = 280 h.
        rows = [
            {
                "resource": "LINE-1",
                "month": "2027-01",
                "shifts": 2,
                "hours_per_shift": 8,
                "working_days": 20,
                "efficiency": 0.9,
                "maintenance_hours": 8,
            },
            {"resource": "LINE-1", "month": "2027-02", "working_days": 19},  # 1 x 8 x 19 = 152
        ]
        assert ok(post_bulk(client, token, "calendars", rows, fmt="jsonl"))["created"] == 2
        page = ok(client.get("/api/v1/calendars?resource=LINE-1", headers=token("viewer")))
        assert [(c["month"], c["available_hours"]) for c in page["items"]] == [
            ("2027-01", pytest.approx(280.0)),
            ("2027-02", pytest.approx(152.0)),
        ]

        # Uploading the month again replaces it: 1 x 8 x 10 = 80 h.
        again = [{"resource": "LINE-1", "month": "2027-01", "working_days": 10}]
        assert ok(post_bulk(client, token, "calendars", again)) == {
            "received": 1,
            "created": 0,
            "updated": 1,
        }
        page = ok(
            client.get(
                "/api/v1/calendars?resource=LINE-1&to_month=2027-01", headers=token("viewer")
            )
        )
        assert [c["available_hours"] for c in page["items"]] == [80.0]

    @pytest.mark.parametrize(
        ("row", "field"),
        [
            ({"resource": "LINE-1", "month": "2027-13", "working_days": 20}, "month"),
            ({"resource": "LINE-1", "month": "01/2027", "working_days": 20}, "month"),
            ({"resource": "LINE-1", "month": "2027-01", "working_days": -2}, "working_days"),
            (
                {
                    "resource": "LINE-1",
                    "month": "2027-01",
                    "working_days": 20,
                    "maintenance_hours": -4,
                },
                "maintenance_hours",
            ),
            ({"resource": "GHOST", "month": "2027-01", "working_days": 20}, "resource"),
            ({"resource": "LINE-1", "month": "2027-01", "working_days": 20, "x": 1}, "x"),
            # JSON Infinity / NaN: was a 500 (maintenance) or stored and read back as null
            (
                {
                    "resource": "LINE-1",
                    "month": "2027-01",
                    "working_days": 20,
                    "maintenance_hours": float("inf"),
                },
                "maintenance_hours",
            ),
            (
                {
                    "resource": "LINE-1",
                    "month": "2027-01",
                    "working_days": 20,
                    "max_overtime_hours": float("nan"),
                },
                "max_overtime_hours",
            ),
        ],
    )
    def test_bad_row_names_row_and_column_and_writes_nothing(
        self, client: Any, token: Any, session: Session, row: dict[str, Any], field: str
    ) -> None:
        _resources(client, token)
        good = {"resource": "LINE-1", "month": "2027-03", "working_days": 20}
        problem = _problem(post_bulk(client, token, "calendars", [good, row], fmt="jsonl"))
        assert problem["code"] == "validation-error"
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [(2, field)]
        assert "Nothing was written" in problem["detail"]
        assert session.exec(select(ResourceCalendar)).all() == []

    def test_maintenance_above_the_gross_hours_is_refused_not_clipped(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        rows = [
            # 1 x 8 x 20 x 1.0 = 160 gross; 160 h of maintenance leaves 0 h: allowed.
            {
                "resource": "LINE-1",
                "month": "2027-01",
                "working_days": 20,
                "maintenance_hours": 160,
            },
            # 2 x 8 x 10 x 0.5 = 80 gross; 81 h of maintenance would be clipped to 0: refused.
            {
                "resource": "LINE-1",
                "month": "2027-02",
                "shifts": 2,
                "working_days": 10,
                "efficiency": 0.5,
                "maintenance_hours": 81,
            },
            # No working days: 0 gross, so any maintenance is refused.
            {"resource": "LINE-1", "month": "2027-03", "working_days": 0, "maintenance_hours": 8},
        ]
        problem = _problem(post_bulk(client, token, "calendars", rows, fmt="csv"))
        assert problem["code"] == "validation-error"
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [
            (2, "maintenance_hours"),
            (3, "maintenance_hours"),
        ]
        assert "81 h is more than the month's gross hours 80 h" in problem["errors"][0]["message"]
        assert "gross hours 0 h" in problem["errors"][1]["message"]
        assert "row 2, maintenance_hours" in problem["detail"]
        assert "Nothing was written" in problem["detail"]
        assert session.exec(select(ResourceCalendar)).all() == []
        # The first row alone is fine: 160 - 160 = 0 available hours.
        ok(post_bulk(client, token, "calendars", rows[:1]))
        [stored] = session.exec(select(ResourceCalendar)).all()
        assert stored.available_hours == 0.0

    def test_an_infinite_csv_cell_is_refused(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        rows = [
            {
                "resource": "LINE-1",
                "month": "2027-01",
                "working_days": 20,
                "max_overtime_hours": "inf",
            }
        ]
        problem = _problem(post_bulk(client, token, "calendars", rows, fmt="csv"))
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [(1, "max_overtime_hours")]
        assert session.exec(select(ResourceCalendar)).all() == []

    def test_blank_csv_cells_take_the_defaults(self, client: Any, token: Any) -> None:
        _resources(client, token)
        rows = [
            {"resource": "LINE-1", "month": "2027-01", "working_days": 20, "shifts": 2},
            {"resource": "LINE-1", "month": "2027-02", "working_days": 20, "shifts": ""},
        ]
        ok(post_bulk(client, token, "calendars", rows, fmt="csv"))
        page = ok(client.get("/api/v1/calendars", headers=token("viewer")))
        # 2 x 8 x 20 = 320; a blank shifts cell is the default single shift: 160.
        assert [c["available_hours"] for c in page["items"]] == [320.0, 160.0]

    def test_idempotency_key_replays_and_refuses_another_body(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        rows = [{"resource": "LINE-1", "month": "2027-01", "working_days": 20}]
        first = ok(post_bulk(client, token, "calendars", rows, key="cal-1"))
        again = ok(post_bulk(client, token, "calendars", rows, key="cal-1"))
        assert first == again == {"received": 1, "created": 1, "updated": 0}
        other = [{"resource": "LINE-1", "month": "2027-01", "working_days": 5}]
        problem = _problem(post_bulk(client, token, "calendars", other, key="cal-1"), 409)
        assert problem["code"] == "idempotency-key-reused"
        assert [c.working_days for c in session.exec(select(ResourceCalendar)).all()] == [20]


class TestRoutings:
    def test_several_methods_per_product(self, client: Any, token: Any, session: Session) -> None:
        _resources(client, token)
        add_products(session, "SKU-1")
        rows = [
            {"product": "SKU-1", "resource": "LINE-1", "hours_per_unit": 0.1, "cost_per_unit": 2},
            {
                "product": "SKU-1",
                "resource": "CO-1",
                "hours_per_unit": 0.0,
                "cost_per_unit": 5,
                "priority": 2,
            },
        ]
        assert ok(post_bulk(client, token, "routings", rows))["created"] == 2
        page = ok(client.get("/api/v1/routings?product=SKU-1", headers=token("viewer")))
        assert [(r["resource"], r["priority"]) for r in page["items"]] == [
            ("LINE-1", 1),
            ("CO-1", 2),
        ]

    def test_unknown_product_and_resource_and_negative_hours_write_nothing(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        add_products(session, "SKU-1")
        rows = [
            {"product": "SKU-1", "resource": "LINE-1", "hours_per_unit": 0.1},
            {"product": "SKU-404", "resource": "LINE-1", "hours_per_unit": 0.1},
            {"product": "SKU-1", "resource": "LINE-404", "hours_per_unit": 0.1},
        ]
        problem = _problem(post_bulk(client, token, "routings", rows))
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [
            (2, "product"),
            (3, "resource"),
        ]
        assert "SKU-404" in problem["errors"][0]["message"]
        negative = [{"product": "SKU-1", "resource": "LINE-1", "hours_per_unit": -0.5}]
        problem = _problem(post_bulk(client, token, "routings", negative, fmt="jsonl"))
        assert problem["errors"][0]["field"] == "hours_per_unit"
        assert session.exec(select(Routing)).all() == []

    def test_idempotency_key_replays_and_refuses_another_body(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        add_products(session, "SKU-1")
        rows = [{"product": "SKU-1", "resource": "LINE-1", "hours_per_unit": 0.1}]
        first = ok(post_bulk(client, token, "routings", rows, key="rt-1"))
        again = ok(post_bulk(client, token, "routings", rows, key="rt-1"))
        # The replay answers as the first call did ("created": 1); applied again, the same
        # body reports an update, as the call without a key shows.
        assert first == again == {"received": 1, "created": 1, "updated": 0}
        assert ok(post_bulk(client, token, "routings", rows))["updated"] == 1
        other = [{"product": "SKU-1", "resource": "LINE-1", "hours_per_unit": 0.5}]
        problem = _problem(post_bulk(client, token, "routings", other, key="rt-1"), 409)
        assert problem["code"] == "idempotency-key-reused"
        assert [r.hours_per_unit for r in session.exec(select(Routing)).all()] == [0.1]


class TestWorkforce:
    CREW = {
        "pool": "CREW-A",
        "headcount": 10,
        "hours_per_person": 160,
        "max_overtime_share": 0.2,
        "regular_hour_cost": 25,
        "overtime_hour_cost": 40,
        "hire_cost": 2000,
        "fire_cost": 3000,
        "min_headcount": 5,
        "max_headcount": 15,
    }

    def test_crew_of_a_labour_pool_round_trips_every_field(self, client: Any, token: Any) -> None:
        _resources(client, token)
        ok(post_bulk(client, token, "workforce", [self.CREW], fmt="csv"))
        crew = ok(client.get("/api/v1/workforce/CREW-A", headers=token("viewer")))
        assert crew == self.CREW
        # A crew without a ceiling: max_headcount stays empty, the defaults fill the rest.
        bare = {"pool": "CREW-A", "headcount": 4, "hours_per_person": 150}
        ok(post_bulk(client, token, "workforce", [bare]))
        crew = ok(client.get("/api/v1/workforce/CREW-A", headers=token("viewer")))
        assert crew == {
            **bare,
            "max_overtime_share": 0.0,
            "regular_hour_cost": 0.0,
            "overtime_hour_cost": 0.0,
            "hire_cost": 0.0,
            "fire_cost": 0.0,
            "min_headcount": 0.0,
            "max_headcount": None,
        }

    def test_pool_must_be_a_labour_pool_and_bounds_in_order(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        rows = [
            {**self.CREW, "pool": "LINE-1"},
            {**self.CREW, "min_headcount": 20},
        ]
        problem = _problem(post_bulk(client, token, "workforce", rows))
        # The bound check names the field; it is a row rule, reported before the reference
        # check (row 1's pool), so only row 2 is named.
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [(2, "max_headcount")]
        assert "must not be below min_headcount (20)" in problem["errors"][0]["message"]
        problem = _problem(post_bulk(client, token, "workforce", rows[:1]))
        assert "not a labour_pool" in problem["errors"][0]["message"]
        assert session.exec(select(Workforce)).all() == []

    @pytest.mark.parametrize(
        ("bounds", "message"),
        [
            # The review's case: 50 people with a ceiling of 10.
            ({"headcount": 50, "max_headcount": 10}, "50 is above max_headcount (10)"),
            ({"headcount": 3, "min_headcount": 5}, "3 is below min_headcount (5)"),
        ],
    )
    def test_headcount_outside_its_limits_is_refused(
        self, client: Any, token: Any, session: Session, bounds: dict[str, Any], message: str
    ) -> None:
        _resources(client, token)
        row = {**self.CREW, "min_headcount": 0, "max_headcount": None, **bounds}
        problem = _problem(post_bulk(client, token, "workforce", [row], fmt="jsonl"))
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [(1, "headcount")]
        assert problem["errors"][0]["message"] == message
        assert "row 1, headcount" in problem["detail"]
        assert "Nothing was written" in problem["detail"]
        assert session.exec(select(Workforce)).all() == []

    def test_headcount_on_its_limits_is_accepted(self, client: Any, token: Any) -> None:
        _resources(client, token)
        # 15 = max_headcount and 5 = min_headcount: both limits are inclusive.
        ok(post_bulk(client, token, "workforce", [{**self.CREW, "headcount": 15}]))
        ok(post_bulk(client, token, "workforce", [{**self.CREW, "headcount": 5}]))
        crew = ok(client.get("/api/v1/workforce/CREW-A", headers=token("viewer")))
        assert crew["headcount"] == 5


class TestHistoryAndDataStatus:
    def test_real_utilisation_and_efficiency(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        add_products(session, "SKU-1", "SKU-2")
        ok(
            post_bulk(
                client,
                token,
                "routings",
                [{"product": "SKU-1", "resource": "LINE-1", "hours_per_unit": 0.1}],
            )
        )
        ok(
            post_bulk(
                client,
                token,
                "calendars",
                [{"resource": "LINE-1", "month": "2026-11", "working_days": 25}],  # 200 h
            )
        )
        rows = [
            # SKU-1: 1,000 units at 0.1 h = 100 standard hours, in 125 hours -> 80 %.
            {
                "resource": "LINE-1",
                "month": "2026-11",
                "product": "SKU-1",
                "output_quantity": 1000,
                "hours_worked": 125,
            },
            # SKU-2 has no routing on LINE-1: counts for utilisation, not for efficiency.
            {
                "resource": "LINE-1",
                "month": "2026-11",
                "product": "SKU-2",
                "output_quantity": 50,
                "hours_worked": 25,
            },
        ]
        ok(post_bulk(client, token, "production-history", rows, fmt="csv"))
        cells = ok(client.get("/api/v1/production-history/utilisation", headers=token("viewer")))[
            "items"
        ]
        assert len(cells) == 1
        cell = cells[0]
        # (125 + 25) / 200 = 75 % utilisation.
        assert cell["hours_worked"] == 150
        assert cell["utilisation"] == pytest.approx(0.75)
        assert cell["earned_hours"] == pytest.approx(100.0)
        assert cell["efficiency"] == pytest.approx(0.8)

    def test_history_with_unknown_product_writes_nothing(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _resources(client, token)
        rows = [
            {
                "resource": "LINE-1",
                "month": "2026-11",
                "product": "GHOST",
                "output_quantity": 1,
                "hours_worked": 1,
            }
        ]
        problem = _problem(post_bulk(client, token, "production-history", rows))
        assert problem["errors"][0]["field"] == "product"
        assert session.exec(select(ProductionHistory)).all() == []

    def test_data_status_names_what_is_missing_until_everything_is_in(
        self, client: Any, token: Any, session: Session
    ) -> None:
        empty = ok(client.get("/api/v1/data-status?month=2026-11", headers=token("integration")))
        assert empty["service"] == "capacity"
        assert empty["ready"] is False
        assert empty["last_month_loaded"] is None

        _resources(client, token)
        add_products(session, "SKU-1")
        ok(post_bulk(client, token, "workforce", [TestWorkforce.CREW]))
        ok(
            post_bulk(
                client,
                token,
                "routings",
                [{"product": "SKU-1", "resource": "LINE-1", "hours_per_unit": 0.1}],
            )
        )
        months = [f"2026-{m:02d}" for m in (11, 12)] + [f"2027-{m:02d}" for m in range(1, 12)]
        calendars = [
            {"resource": r, "month": m, "working_days": 20}
            for r in ("LINE-1", "CO-1")
            for m in months
        ]
        ok(post_bulk(client, token, "calendars", calendars[:-1]))  # CO-1 misses 2027-11
        status = ok(client.get("/api/v1/data-status?month=2026-11", headers=token("viewer")))
        checks = {c["name"]: c for c in status["checks"]}
        assert checks["workforce"]["ok"]
        assert checks["routings"]["ok"]
        assert not checks["calendars"]["ok"]
        assert "CO-1" in checks["calendars"]["detail"]
        assert not checks["production_history"]["ok"]

        ok(post_bulk(client, token, "calendars", calendars[-1:]))
        history = [
            {"resource": "LINE-1", "month": "2026-11", "output_quantity": 10, "hours_worked": 1}
        ]
        ok(post_bulk(client, token, "production-history", history))
        status = ok(client.get("/api/v1/data-status?month=2026-11", headers=token("viewer")))
        assert status["ready"] is True, status
        assert status["last_month_loaded"] == "2026-11"

    def test_data_status_month_must_be_a_month(self, client: Any, token: Any) -> None:
        problem = _problem(client.get("/api/v1/data-status?month=2026-1", headers=token("viewer")))
        assert problem["errors"][0]["field"] == "query.month"
