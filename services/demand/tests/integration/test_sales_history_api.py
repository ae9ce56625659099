"""Sales-history batches: all-or-nothing, row + column in every error, months replaced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from sop_demand.history.models import SalesHistory, SalesLoad
from tests import builders

URL = "/api/v1/sales-history"


@pytest.fixture
def catalogue(session: Session) -> None:
    builders.product(session, "A", price=10.0)
    builders.product(session, "B", price=2.5, family="FB")


def _post(client: Any, token: Any, text: str, kind: str = "text/csv", **params: Any) -> Any:
    headers = {**token("integration"), "content-type": kind, **params.pop("headers", {})}
    return client.post(URL, content=text.encode(), headers=headers, params=params)


def _stored(session: Session) -> list[tuple[Any, ...]]:
    rows = session.exec(
        select(SalesHistory).order_by(
            col(SalesHistory.product), col(SalesHistory.site), col(SalesHistory.month)
        )
    ).all()
    return [(r.product, r.site, r.channel, r.month, r.quantity, r.revenue) for r in rows]


CSV = """product,site,channel,month,quantity,revenue
A,S1,,2026-01,100,1000
A,S1,,2026-02,120,
B,S2,RETAIL,2026-01,40,95
"""


@pytest.mark.usefixtures("catalogue")
class TestLoad:
    def test_csv_batch_is_stored_with_revenue_defaulting_to_list_price(
        self, client: Any, token: Any, session: Session
    ) -> None:
        response = _post(client, token, CSV)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["rows"], body["months"], body["mode"]) == (
            3,
            ["2026-01", "2026-02"],
            "replace",
        )
        # A 2026-02 has no revenue: 120 units × list price 10 = 1,200
        assert _stored(session) == [
            ("A", "S1", "", "2026-01", 100.0, 1000.0),
            ("A", "S1", "", "2026-02", 120.0, 1200.0),
            ("B", "S2", "RETAIL", "2026-01", 40.0, 95.0),
        ]

    def test_jsonl_and_json_are_accepted(self, client: Any, token: Any, session: Session) -> None:
        lines = "\n".join(
            json.dumps(r)
            for r in [
                {"product": "A", "site": "S1", "month": "2026-03", "quantity": 5},
                {"product": "B", "site": "S1", "month": "2026-03", "quantity": 4, "revenue": 9},
            ]
        )
        assert _post(client, token, lines, "application/x-ndjson").status_code == 200
        array = json.dumps([{"product": "A", "site": "S1", "month": "2026-04", "quantity": 1}])
        assert _post(client, token, array, "application/json").status_code == 200
        assert [r[3:] for r in _stored(session)] == [
            ("2026-03", 5.0, 50.0),
            ("2026-04", 1.0, 10.0),
            ("2026-03", 4.0, 9.0),
        ]

    def test_reloading_a_month_replaces_it_whole(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _post(client, token, CSV)
        # January is sent again, corrected, without the B row: B's January must go too
        again = _post(client, token, "product,site,month,quantity\nA,S1,2026-01,90\n")
        assert again.json()["replaced_rows"] == 2
        assert _stored(session) == [
            ("A", "S1", "", "2026-01", 90.0, 900.0),
            ("A", "S1", "", "2026-02", 120.0, 1200.0),
        ]

    def test_merge_mode_replaces_only_the_batch_keys(
        self, client: Any, token: Any, session: Session
    ) -> None:
        _post(client, token, CSV)
        merged = _post(
            client, token, "product,site,month,quantity\nA,S1,2026-01,90\n", mode="merge"
        )
        assert merged.json()["replaced_rows"] == 1
        assert [r[0:5] for r in _stored(session)] == [
            ("A", "S1", "", "2026-01", 90.0),
            ("A", "S1", "", "2026-02", 120.0),
            ("B", "S2", "RETAIL", "2026-01", 40.0),
        ]

    def test_retry_with_the_same_key_is_applied_once(
        self, client: Any, token: Any, session: Session
    ) -> None:
        key = {"Idempotency-Key": "sales-2026-01"}
        first = _post(client, token, CSV, headers=key)
        second = _post(client, token, CSV, headers=key)
        assert second.status_code == 200
        assert second.json() == first.json()
        assert session.exec(select(func.count()).select_from(SalesLoad)).one() == 1
        assert len(_stored(session)) == 3

    def test_rows_are_readable_paged_and_streamed(self, client: Any, token: Any) -> None:
        _post(client, token, CSV)
        page = client.get(URL, params={"product": "A", "limit": 1}, headers=token("viewer"))
        assert page.json()["total"] == 2
        assert page.json()["items"] == [
            {
                "product": "A",
                "site": "S1",
                "channel": None,
                "month": "2026-01",
                "quantity": 100.0,
                "revenue": 1000.0,
            }
        ]
        stream = client.get(URL, params={"format": "csv", "family": "FB"}, headers=token("viewer"))
        assert stream.headers["content-type"].startswith("text/csv")
        assert stream.text.splitlines() == [
            "product,site,channel,month,quantity,revenue",
            "B,S2,RETAIL,2026-01,40.0,95.0",
        ]
        lines = client.get(URL, params={"format": "jsonl"}, headers=token("viewer"))
        assert [json.loads(x)["month"] for x in lines.text.splitlines()] == [
            "2026-01",
            "2026-02",
            "2026-01",
        ]


@pytest.mark.usefixtures("catalogue")
class TestRefusals:
    """Each bad batch: a 422 problem naming row and column, and nothing written."""

    @pytest.mark.parametrize(
        ("text", "row", "field", "message"),
        [
            (
                "product,site,month,quantity\nA,S1,2026-01,1\nGHOST,S1,2026-01,1\n",
                2,
                "product",
                "unknown product 'GHOST'",
            ),
            (
                "product,site,month,quantity\nA,S1,2026-01,-5\n",
                1,
                "quantity",
                "must not be negative, got -5",
            ),
            (
                "product,site,month,quantity\nA,S1,2026-1,5\n",
                1,
                "month",
                "month must be YYYY-MM, got '2026-1'",
            ),
            (
                "product,site,month,quantity\nA,S1,01/2026,5\n",
                1,
                "month",
                "month must be YYYY-MM, got '01/2026'",
            ),
            (
                "product,site,month,quantity\nA,S1,2026-01,five\n",
                1,
                "quantity",
                "not a number: 'five'",
            ),
            ("product,site,month,quantity\nA,,2026-01,5\n", 1, "site", "required"),
            (
                "product,site,month,quantity\nA,S1,2026-01,5\nB,S1,2026-01,5\nA,S1,2026-01,7\n",
                3,
                "row",
                "duplicate of row 1: product='A', site='S1', channel='', month='2026-01'",
            ),
            (
                "product,site,month,quantity\nA,S1,2026-01,5,9\n",
                1,
                "row",
                "expected 4 fields, got 5",
            ),
        ],
    )
    def test_bad_csv_row(
        self,
        client: Any,
        token: Any,
        session: Session,
        text: str,
        row: int,
        field: str,
        message: str,
    ) -> None:
        response = _post(client, token, text)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "validation-error"
        assert {"row": row, "field": field, "message": message} in problem["errors"]
        assert "Nothing was written" in problem["detail"]
        assert _stored(session) == []
        assert session.exec(select(SalesLoad)).all() == []

    def test_every_bad_row_is_named_not_just_the_first(
        self, client: Any, token: Any, session: Session
    ) -> None:
        rows = "\n".join(f"A,S1,2026-{m:02d},-1" for m in range(1, 13))
        response = _post(
            client, token, "product,site,month,quantity\n" + rows + "\nX,S1,2026-01,1\n"
        )
        problem = response.json()
        assert problem["error_count"] == 13
        assert [e["row"] for e in problem["errors"]] == list(range(1, 14))

    def test_unknown_and_missing_columns(self, client: Any, token: Any, session: Session) -> None:
        unknown = _post(client, token, "product,site,month,quantity,colour\nA,S1,2026-01,1,red\n")
        assert unknown.json()["errors"] == [{"field": "colour", "message": "unknown column"}]
        missing = _post(client, token, "product,site,month\nA,S1,2026-01\n")
        assert {"row": 1, "field": "quantity", "message": "required"} in missing.json()["errors"]
        assert _stored(session) == []

    def test_bad_json_types_and_lines(self, client: Any, token: Any, session: Session) -> None:
        wrong = json.dumps([{"product": 7, "site": "S1", "month": "2026-01", "quantity": True}])
        errors = _post(client, token, wrong, "application/json").json()["errors"]
        assert {(e["row"], e["field"]) for e in errors} == {(1, "product"), (1, "quantity")}
        broken = '{"product": "A", "site": "S1", "month": "2026-01", "quantity": 1}\n{"product": '
        problem = _post(client, token, broken, "application/x-ndjson").json()
        assert problem["errors"][0]["row"] == 2
        assert _stored(session) == []

    def test_empty_batch(self, client: Any, token: Any) -> None:
        assert _post(client, token, "").status_code == 422
        assert _post(client, token, "product,site,month,quantity\n").status_code == 422
