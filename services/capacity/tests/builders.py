"""Plain builders for capacity tests: products in the read model, master data over the API."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session

from sop_shared.events import new_event
from sop_shared.readmodels.products import apply_product_changed


def add_products(session: Session, *codes: str, price: float = 10.0, cost: float = 6.0) -> None:
    """Put products in the read model the way demand's events do."""
    for code in codes:
        event = new_event(
            source="/test",
            type="sop.demand.product.changed.v1",
            subject=code,
            data={
                "code": code,
                "name": code,
                "family": "FAM",
                "category": "CAT",
                "price": price,
                "cost": cost,
                "version": 1,
            },
        )
        apply_product_changed(session, event)
    session.flush()


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def csv_body(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    columns = list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def post_bulk(
    client: Any,
    token: Any,
    path: str,
    rows: list[dict[str, Any]],
    *,
    fmt: str = "json",
    key: str | None = None,
    role: str = "capacity_planner",
) -> Any:
    headers = token(role)
    if key:
        headers["Idempotency-Key"] = key
    if fmt == "csv":
        body, ctype = csv_body(rows), "text/csv"
    elif fmt == "jsonl":
        body, ctype = jsonl(rows), "application/x-ndjson"
    else:
        body, ctype = json.dumps(rows).encode(), "application/json"
    return client.post(
        f"/api/v1/{path}/bulk", content=body, headers={**headers, "content-type": ctype}
    )


def ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def headers(token: Any, role: str = "capacity_planner") -> dict[str, str]:
    return token(role)


def requirement(
    product: str, month: str, quantity: float, site: str = "PA", safety_stock: float = 0.0
) -> dict[str, Any]:
    """One row of supply's production-requirements stream."""
    return {
        "product": product,
        "site": site,
        "month": month,
        "quantity": quantity,
        "safety_stock": safety_stock,
        "opening_stock": 0.0,
    }


def monthly(
    product: str, quantities: list[float], first: str = "2027-01", **kw: Any
) -> list[dict[str, Any]]:
    year, month = map(int, first.split("-"))
    rows = []
    for i, quantity in enumerate(quantities):
        y, m = divmod(month - 1 + i, 12)
        rows.append(requirement(product, f"{year + y}-{m + 1:02d}", quantity, **kw))
    return rows


def seed_live(
    live: Any, token: Any, *, products: dict[str, tuple[float, float]], **data: list[dict[str, Any]]
) -> None:
    """Products (code: (price, cost)) into the read model, then master data over the API."""
    from sop_shared.db import transaction

    with transaction(live.engine) as session:
        for code, (price, cost) in products.items():
            add_products(session, code, price=price, cost=cost)
    for path in ("resources", "workforce", "calendars", "routings"):
        if data.get(path):
            ok(post_bulk(live.client, token, path, data[path]))


def plan_run(
    live: Any, token: Any, supply_plan_id: str, **body: Any
) -> tuple[Any, dict[str, Any] | None]:
    """POST a run, execute the job; returns (job as ended, plan or None)."""
    request = {"supply_plan_id": supply_plan_id, "cycle": "2027-01", **body}
    accepted = live.client.post(
        "/api/v1/production-plans", json=request, headers=token("capacity_planner")
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Location"] == f"/api/v1/jobs/{accepted.json()['id']}"
    [job] = live.run_jobs()
    if job.state != "succeeded":
        return job, None
    plan_id = job.result["production_plan_id"]
    return job, ok(live.client.get(f"/api/v1/production-plans/{plan_id}", headers=token("viewer")))


def plan_detail(
    live: Any, token: Any, plan_id: str, what: str, **params: Any
) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in {"limit": 5000, **params}.items())
    return ok(
        live.client.get(
            f"/api/v1/production-plans/{plan_id}/{what}?{query}", headers=token("viewer")
        )
    )["items"]
