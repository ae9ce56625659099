"""Vectorised parsing and validation of sales-history batches (up to millions of rows).

``sop_shared.bulk.parse_rows`` validates row by row with pydantic, which is right for
small feeds and far too slow for a million rows. Here the body becomes one DataFrame and
every rule is a vectorised mask; the first ``MAX_REPORTED_ERRORS`` failures are still
reported with their 1-based row number (CSV header excluded) and column, like parse_rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_shared.bulk import CSV_TYPES, MAX_REPORTED_ERRORS, media_type, raw_records
from sop_shared.problems import FieldError, ValidationFailed
from sop_shared.types import MAX_QUANTITY


@dataclass
class Issue:
    """A failed rule: which rows (0-based positions), which column, and their messages."""

    rows: np.ndarray
    field: str
    message: Callable[[np.ndarray], list[str]]


def refuse(issues: list[Issue], what: str) -> None:
    """Raise one problem naming the first rows and columns, if any rule failed."""
    total = sum(int(i.rows.size) for i in issues)
    if not total:
        return
    errors: list[tuple[int, int, FieldError]] = []
    for order, issue in enumerate(issues):
        first = issue.rows[:MAX_REPORTED_ERRORS]
        for pos, msg in zip(first.tolist(), issue.message(first), strict=True):
            errors.append((pos, order, FieldError(row=pos + 1, field=issue.field, message=msg)))
    errors.sort(key=lambda e: (e[0], e[1]))
    shown = [e[2] for e in errors[:MAX_REPORTED_ERRORS]]
    first_error = shown[0]
    raise ValidationFailed(
        f"{total} invalid {what}; first: row {first_error.row}, {first_error.field}: "
        f"{first_error.message}. Nothing was written.",
        errors=shown,
        error_count=total,
    )


def fixed(message: str) -> Callable[[np.ndarray], list[str]]:
    return lambda rows: [message] * rows.size


def valued(
    values: pd.Series, template: str, *, transform: Callable[[object], object] = repr
) -> Callable[[np.ndarray], list[str]]:
    """A message quoting each failing row's value: ``template.format(value=...)``."""
    return lambda rows: [template.format(value=transform(v)) for v in values.iloc[rows].tolist()]


# ----------------------------------------------------------------------------- parsing


def read_frame(
    body: bytes,
    content_type: str | None,
    *,
    columns: Iterable[str],
    numeric: Iterable[str] = (),
) -> pd.DataFrame:
    """The body as a DataFrame of raw values (CSV: strings, ``numeric`` columns parsed as
    floats when they all are; JSON: as sent)."""
    kind = media_type(content_type)
    if not body.strip():
        raise ValidationFailed(
            "The batch is empty.", errors=[FieldError(field="body", message="no rows")]
        )
    if kind in CSV_TYPES:
        frame = _read_csv(body, set(numeric))
    else:  # JSON lines or a JSON array: the shared reader, then one frame
        frame = _from_records([record for _, record in raw_records(body, kind)])
    if frame.empty:
        raise ValidationFailed(
            "The batch is empty.", errors=[FieldError(field="body", message="no rows")]
        )
    _check_columns(frame, set(columns))
    return frame.reset_index(drop=True)


def _read_csv(body: bytes, numeric: set[str]) -> pd.DataFrame:
    """pyarrow's CSV reader; numbers parsed natively unless some cell is not a number
    (then everything is read as text, so the bad cells can be named)."""
    first_line = body[: body.find(b"\n") if b"\n" in body else len(body)]
    header = [
        h.strip().strip('"').lstrip("\ufeff") for h in first_line.decode("utf-8-sig").split(",")
    ]
    typed = {h: ("float64" if h in numeric else str) for h in header}
    frame = None
    for dtype in (typed, str) if numeric else (str,):
        try:
            frame = pd.read_csv(io.BytesIO(body), dtype=dtype, engine="pyarrow", encoding="utf-8")
            break
        except Exception as exc:  # noqa: BLE001  (pyarrow raises several types)
            error = exc
    if frame is None:
        raise _csv_problem(body, error)
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    for name in frame.columns:
        if pd.api.types.is_string_dtype(frame[name].dtype):
            frame[name] = frame[name].str.strip()
    return frame


def _csv_problem(body: bytes, exc: Exception) -> ValidationFailed:
    """Locate the malformed row with the csv module (slow, only on the error path)."""
    text = body.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
        for number, row in enumerate(reader, start=1):
            if row and len(row) != len(header):
                return ValidationFailed(
                    f"Row {number} has {len(row)} fields, the header {len(header)}. Nothing was written.",
                    errors=[
                        FieldError(
                            row=number,
                            field="row",
                            message=f"expected {len(header)} fields, got {len(row)}",
                        )
                    ],
                )
    except csv.Error as err:
        return ValidationFailed(
            f"Malformed CSV: {err}.", errors=[FieldError(field="body", message=str(err))]
        )
    return ValidationFailed(
        "The body is not valid CSV.", errors=[FieldError(field="body", message=str(exc)[:300])]
    )


def _from_records(records: list[object]) -> pd.DataFrame:
    bad = [i for i, r in enumerate(records) if not isinstance(r, dict)]
    if bad:
        refuse([Issue(np.asarray(bad), "row", fixed("expected an object"))], "row(s)")
    return pd.DataFrame.from_records(records)


def _check_columns(frame: pd.DataFrame, allowed: set[str]) -> None:
    unknown = [c for c in frame.columns if c not in allowed]
    if unknown:
        raise ValidationFailed(
            f"Unknown column(s): {', '.join(map(str, unknown))}. Nothing was written.",
            errors=[FieldError(field=str(c), message="unknown column") for c in unknown],
        )


# ----------------------------------------------------------------------------- cell rules


def text_column(
    frame: pd.DataFrame,
    name: str,
    issues: list[Issue],
    *,
    required: bool,
    pattern: re.Pattern[str] | None = None,
    pattern_message: str = "invalid value {value}",
    allowed: Mapping[str, object] | set[str] | None = None,
    allowed_message: str = "unknown value {value}",
) -> tuple[pd.Series, np.ndarray]:
    """A string column and its codes (-1 where blank), checked on its distinct values:
    a million rows carry a few thousand codes and a few dozen months."""
    n = len(frame)
    if name not in frame.columns:
        if required:
            issues.append(Issue(np.arange(n), name, fixed("required")))
        return pd.Series([""] * n, dtype=object), np.full(n, -1, dtype=np.int64)
    raw = frame[name]
    not_text = np.zeros(n, dtype=bool)
    if not pd.api.types.is_string_dtype(raw.dtype) or raw.dtype == object:
        # JSON may carry numbers or objects where text is expected
        is_text = raw.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        not_text = ~is_text & ~raw.isna().to_numpy(dtype=bool)
        issues.append(Issue(np.flatnonzero(not_text), name, fixed("expected a string")))
        raw = raw.where(is_text, None).astype("str")
    codes, uniques = pd.factorize(raw)
    codes = np.asarray(codes, dtype=np.int64)
    distinct = [str(u) for u in uniques]
    empty = np.array([u == "" for u in distinct] + [True], dtype=bool)  # last: code -1
    codes = np.where(empty[codes], -1, codes)
    missing = (codes < 0) & ~not_text
    if required:
        issues.append(Issue(np.flatnonzero(missing), name, fixed("required")))
    values = raw.fillna("")
    bad_unique = np.zeros(len(distinct) + 1, dtype=bool)
    if pattern is not None:
        bad_unique[:-1] = [u != "" and not pattern.match(u) for u in distinct]
        issues.append(
            Issue(np.flatnonzero(bad_unique[codes]), name, valued(values, pattern_message))
        )
    if allowed is not None:
        unknown = np.zeros(len(distinct) + 1, dtype=bool)
        unknown[:-1] = [
            u != "" and not bad_unique[i] and u not in allowed for i, u in enumerate(distinct)
        ]
        issues.append(Issue(np.flatnonzero(unknown[codes]), name, valued(values, allowed_message)))
    return values, codes


def number_column(
    frame: pd.DataFrame,
    name: str,
    issues: list[Issue],
    *,
    required: bool,
    minimum: float | None = 0.0,
    maximum: float = MAX_QUANTITY,
) -> pd.Series:
    """A float column; NaN where blank (when optional). Refuses text, infinities, negatives
    and values over ``maximum`` (the documented bound of the planning's values)."""
    n = len(frame)
    if name not in frame.columns:
        if required:
            issues.append(Issue(np.arange(n), name, fixed("required")))
        return pd.Series(np.full(n, np.nan))
    raw = frame[name]
    if pd.api.types.is_bool_dtype(raw.dtype):  # JSON: booleans are not numbers
        missing = raw.isna().to_numpy(dtype=bool)
        arr = np.full(n, np.nan)
        not_number = ~missing
    elif pd.api.types.is_numeric_dtype(raw.dtype):  # parsed as numbers already
        arr = raw.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(arr)
        not_number = np.isinf(arr)
    else:
        if raw.dtype == object:
            flags = raw.map(lambda v: isinstance(v, bool), na_action="ignore")
            raw_numbers = raw.where(~flags.fillna(False).to_numpy(dtype=bool))
        else:
            raw_numbers = raw
        arr = pd.to_numeric(raw_numbers, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        text = raw.astype("str").fillna("")
        missing = (raw.isna() | (text == "")).to_numpy(dtype=bool)
        not_number = ~missing & ~np.isfinite(arr)
    if required:
        issues.append(Issue(np.flatnonzero(missing), name, fixed("required")))
    issues.append(Issue(np.flatnonzero(not_number), name, valued(raw, "not a number: {value}")))
    numbers = pd.Series(np.where(np.isfinite(arr), arr, np.nan))
    if minimum is not None:
        below = np.isfinite(arr) & (arr < minimum)
        rule = "must not be negative" if minimum == 0 else f"must not be below {minimum:g}"
        issues.append(
            Issue(
                np.flatnonzero(below),
                name,
                valued(numbers, rule + ", got {value}", transform=lambda v: f"{v:g}"),
            )
        )
    above = np.isfinite(arr) & (arr > maximum)
    issues.append(
        Issue(
            np.flatnonzero(above),
            name,
            valued(
                numbers, f"must not exceed {maximum:g}, got {{value}}", transform=lambda v: f"{v:g}"
            ),
        )
    )
    return numbers


def duplicates(
    frame: pd.DataFrame, keys: list[str], codes: list[np.ndarray], issues: list[Issue]
) -> None:
    """Later rows repeating an earlier row's key, each naming the first row.

    The key columns' codes are packed into one int64 per row, so finding duplicates is one
    hash pass over integers instead of over several string columns.
    """
    sizes = [int(c.max(initial=-1)) + 2 for c in codes]
    if np.prod(np.asarray(sizes, dtype=float)) < 2**62:
        packed = np.zeros(len(frame), dtype=np.int64)
        for c, size in zip(codes, sizes, strict=True):
            packed = packed * size + (c + 1)
        key = pd.Series(packed)
    else:  # too many distinct values to pack: hash the columns themselves
        key = pd.Series(pd.util.hash_pandas_object(frame[keys], index=False).to_numpy())
    dup = key.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first_pos = pd.Series(np.arange(len(frame))).groupby(key.to_numpy()).transform("first")

    def message(rows: np.ndarray) -> list[str]:
        sub = frame.iloc[rows]
        firsts = first_pos.iloc[rows].to_numpy() + 1
        return [
            f"duplicate of row {f}: "
            + ", ".join(f"{k}={v!r}" for k, v in zip(keys, vals, strict=True))
            for f, vals in zip(firsts, sub[keys].itertuples(index=False, name=None), strict=True)
        ]

    issues.append(Issue(np.flatnonzero(dup), "row", message))
