"""Streams of query rows: the same rows as JSON lines or CSV on SQLite and on PostgreSQL
(where CSV is the server's COPY, fed a query whose parameters are inlined)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Column, Float, MetaData, String, Table, Uuid, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sop_shared.db import make_engine
from sop_shared.streaming import LineFormat, stream_query
from sop_shared.testing import create_database, drop_database

metadata = MetaData()
lines = Table(
    "line",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("product", String(64), primary_key=True),
    Column("site", String(64)),
    Column("quantity", Float, nullable=True),
)
PLAN = uuid.UUID("8b5d4c1e-0000-4000-8000-000000000001")
OTHER = uuid.UUID("8b5d4c1e-0000-4000-8000-000000000002")
ROWS = [
    {"plan_id": PLAN, "product": "NA", "site": "O'Brien", "quantity": 1.5},
    {"plan_id": PLAN, "product": 'M,"b"', "site": "O'Brien", "quantity": None},
    {"plan_id": PLAN, "product": "Z-9", "site": "O'Brien", "quantity": 12.0},
    {"plan_id": PLAN, "product": "Z-X", "site": "elsewhere", "quantity": 3.0},
    {"plan_id": OTHER, "product": "NA", "site": "O'Brien", "quantity": 99.0},
]
COLUMNS = ["product", "site", "quantity"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = create_database("streaming", tmp_path)
    eng = make_engine(url)
    metadata.create_all(eng)  # a table of the test's own, no service's migrations
    with eng.begin() as connection:
        connection.execute(insert(lines), ROWS)
    yield eng
    eng.dispose()
    drop_database(url)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = FastAPI()

    @app.get("/lines")
    def read(format: LineFormat, site: str) -> Any:
        query = (
            select(lines.c.product, lines.c.site, lines.c.quantity)
            .where(lines.c.plan_id == PLAN, lines.c.site == site)
            .order_by(lines.c.product)
        )
        return stream_query(Session(engine), query, columns=COLUMNS, fmt=format, filename="x")

    with TestClient(app) as test_client:
        yield test_client


EXPECTED = [('M,"b"', "O'Brien", None), ("NA", "O'Brien", 1.5), ("Z-9", "O'Brien", 12.0)]


def test_csv_holds_the_filtered_rows_quoted_and_with_empty_nulls(client: TestClient) -> None:
    """The filter has a quote in it (inlined for COPY, so it must be escaped, not spliced),
    a product has a comma and quotes, a quantity is null."""
    response = client.get("/lines", params={"format": "csv", "site": "O'Brien"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header == COLUMNS
    assert [(p, s, float(q) if q else None) for p, s, q in rows] == EXPECTED


def test_json_lines_hold_the_same_rows(client: TestClient) -> None:
    response = client.get("/lines", params={"format": "jsonl", "site": "O'Brien"})
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [(r["product"], r["site"], r["quantity"]) for r in rows] == EXPECTED


def test_a_filter_that_matches_nothing_gives_the_header_alone(client: TestClient) -> None:
    response = client.get("/lines", params={"format": "csv", "site": "nowhere'; DROP TABLE x"})
    assert response.text.splitlines() == [",".join(COLUMNS)]
