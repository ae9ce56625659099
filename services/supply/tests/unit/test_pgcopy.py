"""The binary COPY payload decodes back to the grid it was built from (PostgreSQL's format)."""

from __future__ import annotations

import struct
import uuid

import numpy as np
import pytest

from sop_supply.plans import pgcopy
from sop_supply.plans.pgcopy import Field, binary_chunks


def decode(payload: bytes, kinds: list[str]) -> list[tuple[object, ...]]:
    """A reader of the format: header, rows of (int16 count, (int32 length, bytes)...), -1."""
    assert payload.startswith(pgcopy.HEADER)
    pos, rows = len(pgcopy.HEADER), []
    while True:
        (count,) = struct.unpack_from(">h", payload, pos)
        pos += 2
        if count == -1:
            assert pos == len(payload)
            return rows
        assert count == len(kinds)
        row: list[object] = []
        for kind in kinds:
            (size,) = struct.unpack_from(">i", payload, pos)
            pos += 4
            raw, pos = (None, pos) if size == -1 else (payload[pos : pos + size], pos + size)
            if raw is None:
                row.append(None)
            elif kind == "text":
                row.append(raw.decode())
            elif kind == "float8":
                row.append(struct.unpack(">d", raw)[0])
            elif kind == "int4":
                row.append(struct.unpack(">i", raw)[0])
            elif kind == "bool":
                row.append(raw == b"\x01")
            else:
                row.append(uuid.UUID(bytes=raw))
        rows.append(tuple(row))


def test_grid_with_varying_text_lengths_nulls_and_constants() -> None:
    plan = uuid.uuid4()
    values = np.arange(6, dtype=float).reshape(3, 2) + 0.5
    fields = [
        Field("plan_id", "uuid", plan),
        Field("product", "text", ["A", "BBB", "CC"]),
        Field("site", "text", [None, "S1", None]),
        Field("month", "text", ["2027-01", "2027-02"], per_sub=True),
        Field("kind", "text", "product"),
        Field("value", "float8", values),
        Field("cost", "float8", np.array([1.0, 2.0, np.inf])),
        Field("level", "int4", np.array([0, 1, 2])),
        Field("make", "bool", np.array([True, False, True])),
    ]
    payload = b"".join(bytes(c) for c in binary_chunks(fields, 3, 2))
    rows = decode(payload, [f.kind for f in fields])
    expected = {
        (plan, p, s, m, "product", float(values[e, k]), c, lvl, mk)
        for e, (p, s, c, lvl, mk) in enumerate(
            zip(
                ["A", "BBB", "CC"],
                [None, "S1", None],
                [1.0, 2.0, np.inf],
                [0, 1, 2],
                [True, False, True],
                strict=True,
            )
        )
        for k, m in enumerate(["2027-01", "2027-02"])
    }
    assert len(rows) == 6
    assert set(rows) == expected


def test_blocks_reuse_one_buffer_but_each_is_sent_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgcopy, "ENTITIES_PER_BLOCK", 2)
    n = 5
    fields = [
        Field("product", "text", [f"P{i}" for i in range(n)]),
        Field("q", "float8", np.arange(n, dtype=float)),
    ]
    payload = b"".join(bytes(c) for c in binary_chunks(fields, n, 1))
    assert decode(payload, ["text", "float8"]) == [(f"P{i}", float(i)) for i in range(n)]


def test_per_sub_text_must_have_one_length() -> None:
    with pytest.raises(ValueError, match="one length"):
        list(binary_chunks([Field("month", "text", ["2027-1", "2027-02"], per_sub=True)], 1, 2))
