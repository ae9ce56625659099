"""Master data and positions over HTTP: bulk feeds, their refusals, pages and data status."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from sop_shared.bulk import IdempotencyRecord
from sop_shared.events import new_event
from sop_shared.readmodels.products import apply_product_changed
from sop_supply.masterdata.models import (
    BomLine,
    Contract,
    InventorySnapshot,
    ItemSite,
    Material,
    OpenSupply,
    SupplyBudget,
)

PLANNER = "supply_planner"
ITEM = {"product": "FG-1", "site": "P1", "make_or_buy": "make", "lead_time_months": 1}


def post(client: Any, token: Any, path: str, rows: Any, **headers: str) -> Any:
    return client.post(f"/api/v1/{path}/bulk", json=rows, headers={**token(PLANNER), **headers})


def post_raw(client: Any, token: Any, path: str, body: str, content_type: str) -> Any:
    return client.post(
        f"/api/v1/{path}/bulk",
        content=body.encode(),
        headers={**token(PLANNER), "content-type": content_type},
    )


def count(session: Session, model: Any) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def assert_refused(response: Any, code: str, row: int, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code, problem
    assert "Nothing was written" in problem["detail"]
    assert {"row": row, "field": field} in [
        {"row": e["row"], "field": e["field"]} for e in problem["errors"]
    ], problem
    return problem


@pytest.fixture
def catalogue(seed: Any) -> None:
    for code in ("FG-1", "FG-2"):
        seed.product(code, family="BIKES", cost=50.0)
    for code in ("P1", "P2"):
        seed.site(code)


@pytest.fixture
def materials(client: Any, token: Any, catalogue: None) -> None:
    response = post(
        client,
        token,
        "materials",
        [
            {"code": "RM-A", "name": "Steel", "unit_cost": 2.0},
            {"code": "RM-B", "name": "Paint", "unit_cost": 1.0, "family": "COATINGS"},
        ],
    )
    assert response.status_code == 200, response.text
    assert post(client, token, "suppliers", [{"code": "SUP-1", "name": "Acme"}]).status_code == 200


class TestItemSites:
    def test_json_csv_and_jsonl_feeds_upsert_and_page(
        self, client: Any, token: Any, session: Session, catalogue: None
    ) -> None:
        first = post(client, token, "item-sites", [ITEM])
        assert first.json() == {
            "resource": "item-sites",
            "received": 1,
            "created": 1,
            "updated": 0,
            "deleted": 0,
        }
        csv = (
            "product,site,make_or_buy,lead_time_months,moq,lot_multiple,ss_policy,ss_value,shelf_life_months\n"
            "FG-1,P1,make,2,100,10,months_of_cover,1.5,\n"
            "FG-2,P1,buy,3,,,statistical,40,6\n"
        )
        second = post_raw(client, token, "item-sites", csv, "text/csv")
        assert second.status_code == 200, second.text
        assert (second.json()["created"], second.json()["updated"]) == (1, 1)
        jsonl = '{"product": "FG-2", "site": "P2", "make_or_buy": "buy", "lead_time_months": 0}\n'
        assert (
            post_raw(client, token, "item-sites", jsonl, "application/x-ndjson").status_code == 200
        )

        page = client.get("/api/v1/item-sites", params={"site": "P1"}, headers=token("viewer"))
        assert page.status_code == 200
        body = page.json()
        assert body["total"] == 2
        fg1, fg2 = body["items"]
        assert (fg1["lead_time_months"], fg1["moq"], fg1["ss_policy"], fg1["ss_value"]) == (
            2,
            100.0,
            "months_of_cover",
            1.5,
        )
        assert fg1["shelf_life_months"] is None
        # blank CSV cells take the defaults
        assert (fg2["moq"], fg2["lot_multiple"], fg2["service_level"]) == (0.0, 0.0, 0.95)
        assert fg2["shelf_life_months"] == 6
        assert count(session, ItemSite) == 3

    def test_retry_with_the_same_key_is_applied_once(
        self, client: Any, token: Any, session: Session, catalogue: None
    ) -> None:
        key = {"Idempotency-Key": "feed-42"}
        first = post(client, token, "item-sites", [ITEM], **key)
        again = post(client, token, "item-sites", [ITEM], **key)
        assert again.status_code == 200
        assert again.json() == first.json()  # the answer of the first call, not "updated: 1"
        assert count(session, ItemSite) == 1
        other = post(client, token, "item-sites", [{**ITEM, "moq": 5}], **key)
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency-key-reused"

    def test_unknown_product_is_refused_naming_the_row(
        self, client: Any, token: Any, session: Session, catalogue: None
    ) -> None:
        rows = [ITEM, {**ITEM, "product": "GHOST", "site": "P2"}]
        problem = assert_refused(
            post(client, token, "item-sites", rows), "unknown-product", 2, "product"
        )
        assert "GHOST" in problem["errors"][0]["message"]
        assert count(session, ItemSite) == 0

    def test_unknown_site_is_refused_naming_the_row(
        self, client: Any, token: Any, session: Session, catalogue: None
    ) -> None:
        rows = [{**ITEM, "site": "NOWHERE"}]
        problem = assert_refused(post(client, token, "item-sites", rows), "unknown-site", 1, "site")
        assert "NOWHERE" in problem["detail"]
        assert count(session, ItemSite) == 0

    def test_negative_lead_time_is_refused_and_nothing_is_written(
        self, client: Any, token: Any, session: Session, catalogue: None
    ) -> None:
        rows = [ITEM, {**ITEM, "product": "FG-2", "lead_time_months": -1}]
        problem = assert_refused(
            post(client, token, "item-sites", rows), "validation-error", 2, "lead_time_months"
        )
        assert "greater than or equal to 0" in problem["errors"][0]["message"]
        assert count(session, ItemSite) == 0
        assert count(session, IdempotencyRecord) == 0

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"ss_policy": "guess"}, "ss_policy"),
            ({"service_level": 1.0}, "service_level"),
            ({"lead_time_months": 1.5}, "lead_time_months"),
            ({"make_or_buy": None}, "make_or_buy"),
            ({"colour": "red"}, "colour"),
        ],
    )
    def test_invalid_values_name_row_and_column(
        self, client: Any, token: Any, session: Session, catalogue: None, change: Any, field: str
    ) -> None:
        row = {k: v for k, v in {**ITEM, **change}.items() if v is not None}
        assert_refused(post(client, token, "item-sites", [row]), "validation-error", 1, field)
        assert count(session, ItemSite) == 0

    def test_a_lead_time_over_120_months_is_refused(
        self, client: Any, token: Any, session: Session, catalogue: None
    ) -> None:
        # 120 months (10 years) is the documented bound: a longer one is a unit mistake
        rows = [
            {**ITEM, "lead_time_months": 120},
            {**ITEM, "product": "FG-2", "lead_time_months": 121},
        ]
        problem = assert_refused(
            post(client, token, "item-sites", rows), "validation-error", 2, "lead_time_months"
        )
        # row 1's 120 is within the bound: row 2 is the only error
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [(2, "lead_time_months")]
        assert "less than or equal to 120" in problem["errors"][0]["message"]
        assert count(session, ItemSite) == 0

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            (
                "text/csv",
                "product,site,make_or_buy,lead_time_months,moq\n"
                "FG-1,P1,make,1,10\n"
                "FG-2,P1,buy,1,inf\n",
            ),
            (
                "application/json",
                '[{"product": "FG-1", "site": "P1", "make_or_buy": "make", "lead_time_months": 1},'
                ' {"product": "FG-2", "site": "P1", "make_or_buy": "buy", "lead_time_months": 1,'
                ' "moq": Infinity}]',
            ),
            (
                "application/x-ndjson",
                '{"product": "FG-1", "site": "P1", "make_or_buy": "make", "lead_time_months": 1}\n'
                '{"product": "FG-2", "site": "P1", "make_or_buy": "buy", "lead_time_months": 1,'
                ' "moq": NaN}\n',
            ),
        ],
        ids=["csv-inf", "json-Infinity", "jsonl-NaN"],
    )
    def test_a_non_finite_number_is_refused_naming_row_and_column(
        self,
        client: Any,
        token: Any,
        session: Session,
        catalogue: None,
        content_type: str,
        body: str,
    ) -> None:
        # the moq of row 2 is not a number a plan can use: the whole batch is refused
        response = client.post(
            "/api/v1/item-sites/bulk",
            content=body.encode(),
            headers={**token(PLANNER), "content-type": content_type, "Idempotency-Key": "k-inf"},
        )
        problem = assert_refused(response, "validation-error", 2, "moq")
        assert "finite" in problem["errors"][0]["message"]
        assert count(session, ItemSite) == 0
        assert count(session, IdempotencyRecord) == 0

    def test_a_material_can_have_item_site_parameters(
        self, client: Any, token: Any, materials: None
    ) -> None:
        row = {"product": "RM-A", "site": "P1", "make_or_buy": "buy", "lead_time_months": 2}
        assert post(client, token, "item-sites", [row]).status_code == 200


class TestPositions:
    def test_inventory_snapshots_and_open_supply(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        inventory = [
            {
                "product": "FG-1",
                "site": "P1",
                "month": "2026-11",
                "on_hand": 120,
                "quality_hold": 20,
            },
            {"product": "RM-A", "site": "P1", "month": "2026-11", "on_hand": 500, "in_transit": 50},
        ]
        assert post(client, token, "inventory", inventory).status_code == 200
        orders = [
            {
                "order_ref": "PO-1",
                "kind": "purchase",
                "product": "RM-A",
                "site": "P1",
                "due_month": "2026-12",
                "quantity": 300,
                "supplier": "SUP-1",
            },
            {
                "order_ref": "WO-1",
                "kind": "production",
                "product": "FG-1",
                "site": "P1",
                "due_month": "2027-01",
                "quantity": 80,
            },
        ]
        assert post(client, token, "open-supply", orders).status_code == 200
        replaced = client.post(
            "/api/v1/open-supply/bulk",
            params={"replace": "true"},
            json=[{**orders[0], "quantity": 250}],
            headers=token(PLANNER),
        )
        assert replaced.json() | {} == {
            "resource": "open-supply",
            "received": 1,
            "created": 0,
            "updated": 1,
            "deleted": 1,
        }
        page = client.get("/api/v1/open-supply", headers=token("viewer")).json()
        assert [(o["order_ref"], o["quantity"]) for o in page["items"]] == [("PO-1", 250.0)]
        stock = client.get(
            "/api/v1/inventory", params={"product": "FG-1"}, headers=token("viewer")
        ).json()
        assert stock["items"][0]["quality_hold"] == 20.0

    def test_quality_hold_above_on_hand_is_refused(
        self, client: Any, token: Any, session: Session, catalogue: None
    ) -> None:
        row = {"product": "FG-1", "site": "P1", "month": "2026-11", "on_hand": 5, "quality_hold": 9}
        assert_refused(
            post(client, token, "inventory", [row]), "invalid-inventory", 1, "quality_hold"
        )
        assert count(session, InventorySnapshot) == 0

    def test_open_order_of_unknown_site_and_supplier_is_refused(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        row = {
            "order_ref": "PO-9",
            "kind": "purchase",
            "product": "RM-A",
            "site": "P9",
            "due_month": "2026-12",
            "quantity": 1,
            "supplier": "NOBODY",
        }
        problem = assert_refused(
            post(client, token, "open-supply", [row]), "invalid-rows", 1, "site"
        )
        assert {"row": 1, "field": "supplier", "message": "unknown supplier 'NOBODY'"} in problem[
            "errors"
        ]
        assert count(session, OpenSupply) == 0


class TestBillsOfMaterial:
    def test_a_batch_replaces_the_bill_of_each_product_it_names(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        first = [
            {"product": "FG-1", "material": "RM-A", "qty_per": 2},
            {"product": "FG-1", "material": "RM-B", "qty_per": 0.5},
            {"product": "FG-2", "material": "RM-A", "qty_per": 1},
        ]
        assert post(client, token, "boms", first).status_code == 200
        second = post(
            client, token, "boms", [{"product": "FG-1", "material": "RM-A", "qty_per": 3}]
        )
        assert (second.json()["created"], second.json()["updated"], second.json()["deleted"]) == (
            0,
            1,
            1,
        )
        page = client.get("/api/v1/boms", headers=token("viewer")).json()
        assert [(b["product"], b["material"], b["qty_per"]) for b in page["items"]] == [
            ("FG-1", "RM-A", 3.0),
            ("FG-2", "RM-A", 1.0),
        ]

    def test_a_cycle_is_refused_naming_it(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        # RM-A is made from RM-B (a sub-assembly), which is already in the BOM...
        assert (
            post(
                client, token, "boms", [{"product": "RM-A", "material": "RM-B", "qty_per": 1}]
            ).status_code
            == 200
        )
        # ...so a batch making RM-B from FG-1 and FG-1 from RM-A closes RM-A -> RM-B -> FG-1 -> RM-A.
        rows = [
            {"product": "FG-2", "material": "RM-A", "qty_per": 1},
            {"product": "RM-B", "material": "FG-1", "qty_per": 1},
            {"product": "FG-1", "material": "RM-A", "qty_per": 2},
        ]
        problem = assert_refused(post(client, token, "boms", rows), "bom-cycle", 2, "material")
        assert problem["cycle"] == ["FG-1", "RM-A", "RM-B", "FG-1"]
        assert "FG-1 -> RM-A -> RM-B -> FG-1" in problem["detail"]
        assert sorted(e["row"] for e in problem["errors"]) == [2, 3]
        assert count(session, BomLine) == 1

    def test_a_product_made_from_itself_is_a_cycle(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        rows = [{"product": "FG-1", "material": "FG-1", "qty_per": 1}]
        problem = assert_refused(post(client, token, "boms", rows), "bom-cycle", 1, "material")
        assert problem["cycle"] == ["FG-1", "FG-1"]
        assert count(session, BomLine) == 0

    def test_unknown_material_is_refused(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        rows = [{"product": "FG-1", "material": "RM-Z", "qty_per": 1}]
        assert_refused(post(client, token, "boms", rows), "unknown-product", 1, "material")
        assert count(session, BomLine) == 0


class TestContractsAndBudget:
    CONTRACT = {
        "code": "C-1",
        "supplier": "SUP-1",
        "material": "RM-A",
        "period_start": "2027-01",
        "period_end": "2027-06",
        "min_volume": 1000,
        "max_volume": 5000,
        "price": 2.0,
    }

    def test_contract_is_loaded(self, client: Any, token: Any, materials: None) -> None:
        assert post(client, token, "contracts", [self.CONTRACT]).status_code == 200
        page = client.get("/api/v1/contracts", params={"material": "RM-A"}, headers=token("viewer"))
        assert page.json()["items"][0]["max_volume"] == 5000.0

    def test_minimum_above_maximum_is_refused(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        rows = [self.CONTRACT, {**self.CONTRACT, "code": "C-2", "min_volume": 6000}]
        problem = assert_refused(
            post(client, token, "contracts", rows), "invalid-contract", 2, "min_volume"
        )
        assert "minimum 6000 exceeds the maximum 5000" in problem["errors"][0]["message"]
        assert count(session, Contract) == 0

    def test_period_ending_before_it_starts_is_refused(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        rows = [{**self.CONTRACT, "period_end": "2026-12"}]
        assert_refused(post(client, token, "contracts", rows), "invalid-contract", 1, "period_end")

    def test_budget_per_product_or_family(
        self, client: Any, token: Any, session: Session, materials: None
    ) -> None:
        rows = [
            {"product": "FG-1", "month": "2027-01", "volume": 100, "value": 5000},
            {"family": "BIKES", "month": "2027-01", "volume": 300, "value": 15000},
        ]
        assert post(client, token, "supply-budget", rows).status_code == 200
        page = client.get("/api/v1/supply-budget", headers=token("viewer")).json()
        assert [(r["family"], r["product"], r["volume"]) for r in page["items"]] == [
            ("BIKES", None, 300.0),
            (None, "FG-1", 100.0),
        ]
        bad = [
            {"product": "FG-1", "family": "BIKES", "month": "2027-01", "volume": 1, "value": 1},
            {"family": "BOATS", "month": "2027-01", "volume": 1, "value": 1},
        ]
        problem = assert_refused(
            post(client, token, "supply-budget", bad), "invalid-rows", 1, "product"
        )
        assert problem["errors"][1] == {
            "row": 2,
            "field": "family",
            "message": "unknown family 'BOATS'",
        }
        assert count(session, SupplyBudget) == 2


class TestDataStatus:
    def test_ready_only_when_every_item_site_has_its_stock(
        self, client: Any, token: Any, catalogue: None
    ) -> None:
        rows = [ITEM, {**ITEM, "product": "FG-2"}]
        post(client, token, "item-sites", rows)
        post(
            client,
            token,
            "inventory",
            [{"product": "FG-1", "site": "P1", "month": "2026-11", "on_hand": 1}],
        )
        status = client.get(
            "/api/v1/data-status", params={"month": "2026-11"}, headers=token("integration")
        ).json()
        assert status["service"] == "supply"
        assert status["ready"] is False
        assert status["last_month_loaded"] == "2026-11"
        checks = {c["name"]: c for c in status["checks"]}
        assert (
            checks["inventory_snapshot"]["detail"] == "1 of 2 item-site(s) have stock as of 2026-11"
        )
        post(
            client,
            token,
            "inventory",
            [{"product": "FG-2", "site": "P1", "month": "2026-11", "on_hand": 1}],
        )
        status = client.get(
            "/api/v1/data-status", params={"month": "2026-11"}, headers=token("integration")
        ).json()
        assert status["ready"] is True, status

    def test_nothing_loaded_is_not_ready(self, client: Any, token: Any) -> None:
        status = client.get("/api/v1/data-status", headers=token("viewer")).json()
        assert status["ready"] is False
        assert status["last_month_loaded"] is None


def test_materials_cannot_reuse_a_product_code(
    client: Any, token: Any, session: Session, catalogue: None
) -> None:
    response = post(client, token, "materials", [{"code": "FG-1", "name": "dup"}])
    assert_refused(response, "code-is-a-product", 1, "code")
    assert count(session, Material) == 0


def _feed_row(resource: str, code: str, i: int) -> dict[str, Any]:
    """A row of ``resource`` that names ``code`` where a product goes (``i`` keeps keys apart)."""
    return {
        "item-sites": {**ITEM, "product": code, "site": f"P{i}"},
        "inventory": {"product": code, "site": "P1", "month": f"2026-1{i}", "on_hand": 5},
        "open-supply": {
            "order_ref": f"WO-{i}",
            "kind": "production",
            "product": code,
            "site": "P1",
            "due_month": "2027-01",
            "quantity": 5,
        },
        "contracts": {
            "code": f"C-{i}",
            "supplier": "SUP-1",
            "material": code,
            "period_start": "2027-01",
            "period_end": "2027-03",
            "max_volume": 10,
        },
        "boms (product)": {"product": code, "material": "RM-A", "qty_per": 1},
        "boms (material)": {"product": f"FG-{i}", "material": code, "qty_per": 1},
        "supply-budget": {"product": code, "month": f"2027-0{i}", "volume": 1, "value": 1},
    }[resource]


# feed, the field naming the item, its table, a code the first (valid) row uses
PRODUCT_FEEDS = [
    ("item-sites", "product", ItemSite, "FG-2"),
    ("inventory", "product", InventorySnapshot, "FG-2"),
    ("open-supply", "product", OpenSupply, "FG-2"),
    ("contracts", "material", Contract, "RM-A"),
    ("boms (product)", "product", BomLine, "FG-2"),
    ("boms (material)", "material", BomLine, "RM-B"),
    ("supply-budget", "product", SupplyBudget, "FG-2"),
]


class TestUnknownProducts:
    """Every feed naming a product refuses an unknown one, or one demand deleted, naming the
    row and the column; the valid row of the same batch is not written either."""

    @pytest.fixture
    def deleted(self, session: Session, materials: None, seed: Any) -> str:
        """FG-9, known until demand's product.changed event deleted it."""
        seed.product("FG-9")
        event = new_event(
            source="/sop/demand",
            type="sop.demand.product.changed.v1",
            subject="FG-9",
            data={"code": "FG-9", "name": "Old", "family": "F", "category": "C", "version": 2}
            | {"deleted": True},
        )
        apply_product_changed(session, event)
        session.flush()
        return "FG-9"

    @pytest.mark.parametrize(("resource", "field", "model", "valid"), PRODUCT_FEEDS)
    @pytest.mark.parametrize("case", ["unknown", "deleted"])
    def test_refused_naming_row_and_column(
        self,
        client: Any,
        token: Any,
        session: Session,
        deleted: str,
        resource: str,
        field: str,
        model: Any,
        valid: str,
        case: str,
    ) -> None:
        code = "GHOST" if case == "unknown" else deleted
        before = count(session, model)
        rows = [_feed_row(resource, valid, 1), _feed_row(resource, code, 2)]
        path = resource.split(" ")[0]
        problem = assert_refused(post(client, token, path, rows), "unknown-product", 2, field)
        assert f"unknown product or material {code!r}" in problem["errors"][0]["message"]
        assert count(session, model) == before
        # the same row naming a known product goes through (the refusal was the product)
        assert post(client, token, path, rows[:1]).status_code == 200
