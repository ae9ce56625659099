from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from sop_shared.bulk import BulkRow, parse_rows
from sop_shared.problems import ValidationFailed


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product: str
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    quantity: float = Field(ge=0)


def test_csv_jsonl_and_json_give_the_same_rows() -> None:
    csv = b"product,month,quantity\nA,2026-01,5\nB,2026-02,7\n"
    jsonl = b'{"product":"A","month":"2026-01","quantity":5}\n{"product":"B","month":"2026-02","quantity":7}\n'
    js = b'[{"product":"A","month":"2026-01","quantity":5},{"product":"B","month":"2026-02","quantity":7}]'
    parsed = [
        parse_rows(body, ct, Row)
        for body, ct in (
            (csv, "text/csv"),
            (jsonl, "application/x-ndjson"),
            (js, "application/json"),
        )
    ]
    assert parsed[0] == parsed[1] == parsed[2]
    assert parsed[0][1].quantity == 7


def test_errors_name_row_and_column() -> None:
    body = b"product,month,quantity,colour\nA,2026-13,-1,red\n"
    with pytest.raises(ValidationFailed) as caught:
        parse_rows(body, "text/csv", Row)
    found = {(e.row, e.field) for e in caught.value.errors or []}
    assert found == {(1, "month"), (1, "quantity"), (1, "colour")}


def test_duplicate_keys_in_one_batch_are_refused() -> None:
    body = b"product,month,quantity\nA,2026-01,5\nA,2026-01,6\n"
    with pytest.raises(ValidationFailed) as caught:
        parse_rows(body, "text/csv", Row, key=lambda r: (r.product, r.month))
    assert caught.value.errors[0].row == 2
    assert "duplicate of row 1" in caught.value.errors[0].message


def test_malformed_json_line_names_its_row() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_rows(
            b'{"product":"A","month":"2026-01","quantity":1}\n{oops\n', "application/x-ndjson", Row
        )
    assert caught.value.errors[0].row == 2


@pytest.mark.parametrize("content_type", ["text/csv", "application/x-ndjson", "application/json"])
def test_a_body_that_is_not_utf8_is_a_problem_naming_the_body(content_type: str) -> None:
    """An ERP export in Latin-1 gets a 422 naming the body, not an unhandled decode error
    (a 500): it raised UnicodeDecodeError before the decode moved inside the reader."""
    with pytest.raises(ValidationFailed) as caught:
        parse_rows("product,month,quantity\nCafé,2026-01,1\n".encode("latin-1"), content_type, Row)
    assert caught.value.errors[0].field == "body"
    assert caught.value.errors[0].message.startswith("not UTF-8")


class _Lot(BulkRow):
    item: str
    moq: float = Field(default=0.0, ge=0)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"item,moq\nA,5\nB,inf\n", "text/csv"),
        (b"item,moq\nA,5\nB,NaN\n", "text/csv"),
        (b'{"item": "A", "moq": 5}\n{"item": "B", "moq": Infinity}\n', "application/x-ndjson"),
    ],
)
def test_a_number_that_is_not_finite_is_the_rows_error(body: bytes, content_type: str) -> None:
    """``ge=0`` lets ``inf`` through; a feed row must refuse it (it failed every later plan)."""
    with pytest.raises(ValidationFailed) as refused:
        parse_rows(body, content_type, _Lot)
    assert [(e.row, e.field) for e in refused.value.errors or []] == [(2, "moq")]


def test_a_blank_cell_takes_the_default() -> None:
    [row] = parse_rows(b"item,moq\nA,\n", "text/csv", _Lot)
    assert row.moq == 0.0
