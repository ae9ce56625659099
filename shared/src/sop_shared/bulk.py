"""Bulk ingest for ERP feeds: CSV, JSON lines or a JSON array; validated row by row,
applied all-or-nothing, and made safe to retry with an ``Idempotency-Key``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, get_args

from fastapi import Depends, Header, Request
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import Column, Table, insert, text
from sqlmodel import Field, Session, SQLModel

from sop_shared.jsontype import JsonColumnType
from sop_shared.problems import Conflict, FieldError, ValidationFailed


class BulkRow(BaseModel):
    """Base of a feed row: unknown columns are refused; numbers must be finite (``inf`` or
    ``NaN`` in a CSV cell, or JSON ``Infinity``, is the row's error, not a value that would
    fail every later plan). A blank CSV cell takes the field's default (``parse_rows``); in
    JSON a field left out does, and ``null`` is accepted only where the schema allows it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """A JSON row's ``true``/``false`` is refused where the column is no boolean."""
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if annotation is not bool and bool not in get_args(annotation):
                raise ValueError("expected a value of the column's type, not true/false")
        return value


R = TypeVar("R", bound=BaseModel)
MAX_REPORTED_ERRORS = 100

CSV_TYPES = ("text/csv", "application/csv")
JSONL_TYPES = (
    "application/x-ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
)


class IdempotencyRecord(SQLModel, table=True):
    """The answer given to a bulk request, replayed when the same key comes again."""

    __tablename__ = "idempotency_record"

    key: str = Field(primary_key=True, max_length=200)
    endpoint: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_column=Column(JsonColumnType, nullable=False))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def replay(
    session: Session, *, key: str | None, endpoint: str, digest: str
) -> dict[str, Any] | None:
    """The stored answer for ``key`` or None; the same key with another body is refused."""
    if not key:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # Serialise twins of one key: the second waits here, then replays the first's answer.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"{endpoint}|{key}"},
        )
    record = session.get(IdempotencyRecord, (key, endpoint))
    if record is None:
        return None
    if record.request_hash != digest:
        raise Conflict(
            "This Idempotency-Key was already used with a different body.",
            code="idempotency-key-reused",
        )
    return record.response


def remember(
    session: Session,
    *,
    key: str | None,
    endpoint: str,
    digest: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Store the answer in the same transaction as the writes it describes."""
    if key:
        session.add(
            IdempotencyRecord(
                key=key,
                endpoint=endpoint,
                request_hash=digest,
                status_code=status_code,
                response=response,
            )
        )
        session.flush()  # a concurrent twin fails here (primary key), before anything commits


def media_type(request_content_type: str | None) -> str:
    return (request_content_type or "application/json").split(";")[0].strip().lower()


def _json_error(exc: ValueError | RecursionError) -> str:
    """The message for JSON the parser refused (malformed, nested too deeply, an integer
    of more than 4,300 digits)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed JSON: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "malformed JSON: nested too deeply"
    return f"malformed JSON: {str(exc)[:200]}"


def raw_records(body: bytes, content_type: str) -> Iterable[tuple[int, dict[str, Any]]]:
    """(row number, record) pairs; row numbers are 1-based data rows (CSV header excluded)."""
    kind = media_type(content_type)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "The body is not UTF-8 text.",
            errors=[
                FieldError(field="body", message=f"not UTF-8: {exc.reason} at byte {exc.start}")
            ],
        ) from exc
    if kind in CSV_TYPES:
        # newline="": the csv module sees the line endings itself (CRLF, LF or CR alone)
        reader = csv.DictReader(io.StringIO(text, newline=""))
        i = 0
        try:
            for i, row in enumerate(reader, start=1):
                yield (
                    i,
                    {
                        k.strip(): (v.strip() if isinstance(v, str) else v)
                        for k, v in row.items()
                        if k
                    },
                )
        except csv.Error as exc:  # a cell over csv.field_size_limit(), a stray quote...
            raise ValidationFailed(
                f"Malformed CSV at row {i + 1}: {exc}. Nothing was written.",
                errors=[FieldError(row=i + 1, field="row", message=f"malformed CSV: {exc}")],
            ) from exc
        return
    if kind in JSONL_TYPES:
        for i, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
                raise ValidationFailed(
                    f"Row {i} is not valid JSON.",
                    errors=[FieldError(row=i, field="row", message=_json_error(exc))],
                ) from exc
            yield i, record
        return
    try:
        data = json.loads(text or "[]")
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed(
            "The body is not valid JSON.",
            errors=[FieldError(field="body", message=_json_error(exc))],
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise ValidationFailed(
            "Send a JSON array of rows, JSON lines or CSV.",
            errors=[FieldError(field="body", message="expected an array of rows")],
        )
    yield from enumerate(data, start=1)


def parse_rows(
    body: bytes,
    content_type: str,
    model: type[R],
    *,
    key: Callable[[R], Hashable] | None = None,
    blank_as_none: bool = True,
) -> list[R]:
    """Validate every row; any error refuses the whole batch naming row and column."""
    rows: list[R] = []
    errors: list[FieldError] = []
    seen: dict[Hashable, int] = {}
    csv_body = media_type(content_type) in CSV_TYPES
    for number, record in raw_records(body, content_type):
        if not isinstance(record, dict):
            errors.append(FieldError(row=number, field="row", message="expected an object"))
            continue
        if blank_as_none and csv_body:
            # CSV has no "absent": an empty cell (or a missing trailing one) is. JSON says
            # absent by leaving the key out; its "" and null are values, checked as such.
            record = {k: v for k, v in record.items() if v is not None and v != ""}
        try:
            row = model.model_validate(record)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "row"
                message = "unknown column" if err["type"] == "extra_forbidden" else err["msg"]
                errors.append(FieldError(row=number, field=field, message=message))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
            continue
        if key is not None:
            k = key(row)
            if k in seen:
                errors.append(
                    FieldError(row=number, field="row", message=f"duplicate of row {seen[k]}: {k}")
                )
            else:
                seen[k] = number
        rows.append(row)
    if errors:
        raise ValidationFailed(
            f"{len(errors)} invalid row(s){'+' if len(errors) >= MAX_REPORTED_ERRORS else ''}; "
            f"first: row {errors[0].row}, {errors[0].field}: {errors[0].message}. Nothing was written.",
            errors=errors[:MAX_REPORTED_ERRORS],
        )
    if not rows:
        raise ValidationFailed(
            "The batch is empty.", errors=[FieldError(field="body", message="no rows")]
        )
    return rows


def refuse_rows(problems: Sequence[tuple[int, str, str]], summary: str) -> None:
    """Raise one all-or-nothing refusal for business-rule errors found after parsing."""
    if problems:
        raise ValidationFailed(
            f"{summary}; first: row {problems[0][0]}, {problems[0][1]}: {problems[0][2]}. Nothing was written.",
            errors=[
                FieldError(row=r, field=f, message=m) for r, f, m in problems[:MAX_REPORTED_ERRORS]
            ],
        )


def copy_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert many rows in the session's transaction: COPY on PostgreSQL, executemany elsewhere."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        count = 0
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= 5000:
            connection.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
        count += len(batch)
    return count


async def read_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(read_body)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Retries with the same key are applied once",
    ),
]


def bulk_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a bulk body in its three accepted forms."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    columns = ", ".join(schema.get("properties", {}))
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": schema}},
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "one JSON object per line"}
                },
                "text/csv": {"schema": {"type": "string", "description": f"header row: {columns}"}},
            },
        }
    }
