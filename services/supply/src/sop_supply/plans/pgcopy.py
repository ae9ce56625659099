"""Bulk rows in PostgreSQL's binary COPY format, built with numpy instead of row by row.

``sop_shared.bulk.copy_rows`` calls ``write_row`` once per row: ~40 s for the 2.4 M lines of
a 100k item-site × 24-month plan on the 2-core development machine, more than the plan's
whole end-to-end budget. Here a plan is a grid of entities (item-sites) × subs (months):
rows whose variable-length fields have the same byte lengths share one layout, so a group
is one ``[entities, subs, row bytes]`` uint8 array filled column by column (a strided copy
per column) and sent as is. On SQLite (tests, the embedded default) the same rows go
through ``copy_rows``.

Format: https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4 — header,
then per row an int16 field count and per field an int32 byte length (-1 = NULL) and the
value in network byte order; an int16 -1 ends the data.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Table
from sqlmodel import Session

from sop_shared.bulk import copy_rows

Kind = Literal["float8", "int4", "bool", "uuid", "text"]
HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
_FIXED: dict[str, tuple[int, str]] = {"float8": (8, ">f8"), "int4": (4, ">i4"), "bool": (1, "u1")}
ENTITIES_PER_BLOCK = 20_000


@dataclass(frozen=True)
class Field:
    """One column of a grid of E entities × S subs.

    ``values``: a scalar, ``[E]`` (per entity), ``[S]`` (per sub, ``per_sub=True``) or
    ``[E, S]``. Text is a scalar or one string per entity (None = NULL), or one per sub of
    equal byte length (month codes); a uuid is a scalar.
    """

    name: str
    kind: Kind
    values: Any
    per_sub: bool = False


def _encode(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


class _Text:
    """A text column as per-entity byte strings with their lengths (-1 = NULL)."""

    def __init__(self, field: Field, n_entities: int, n_subs: int) -> None:
        self.field = field
        self.scalar: bytes | None = None
        self.per_sub: list[bytes] | None = None
        self.codes: npt.NDArray[np.int64] | None = None
        self.encoded: np.ndarray | None = None
        if isinstance(field.values, str) or field.values is None:
            self.scalar = _encode(field.values)
            self.lengths = np.full(n_entities, -1 if self.scalar is None else len(self.scalar))
        elif field.per_sub:
            self.per_sub = [str(v).encode() for v in field.values]
            sizes = {len(b) for b in self.per_sub}
            if len(sizes) != 1 or len(self.per_sub) != n_subs:
                raise ValueError(f"{field.name}: per-sub text needs {n_subs} values of one length")
            self.lengths = np.full(n_entities, sizes.pop())
        else:
            # Few distinct values (sites, kinds, families, months) repeat over many entities:
            # encode each distinct value once and pick by code.
            codes, uniques = pd.factorize(
                pd.Series(field.values, dtype=object), use_na_sentinel=True
            )
            encoded = [value.encode() for value in uniques] + [b""]  # code -1 (NULL) -> b""
            lengths = np.array([len(b) for b in encoded[:-1]] + [-1], dtype=np.int64)
            self.codes = np.asarray(codes, dtype=np.int64)
            self.encoded = np.array(encoded, dtype=object)
            self.lengths = lengths[self.codes]

    def block(self, idx: npt.NDArray[np.int64], n_subs: int, size: int) -> np.ndarray | None:
        """The values of entities ``idx`` (all ``size`` bytes long) as opaque items [g|1, S|1]."""
        if size <= 0:
            return None
        if self.scalar is not None:
            return np.frombuffer(self.scalar, dtype=f"V{size}").reshape(1, 1)
        if self.per_sub is not None:
            return np.frombuffer(b"".join(self.per_sub), dtype=f"V{size}").reshape(1, n_subs)
        assert self.codes is not None
        assert self.encoded is not None
        joined = b"".join(self.encoded[self.codes[idx]])
        return np.frombuffer(joined, dtype=f"V{size}").reshape(idx.size, 1)


def _fixed_block(field: Field, idx: npt.NDArray[np.int64], n_subs: int) -> np.ndarray:
    """The values of entities ``idx`` as opaque big-endian items, shaped [g|1, S|1]."""
    size, dtype = _FIXED[field.kind]
    values = np.asarray(field.values)
    if values.ndim == 0:
        arr = values.astype(dtype).reshape(1, 1)
    elif field.per_sub:
        arr = values.astype(dtype).reshape(1, n_subs)
    elif values.ndim == 1:
        arr = values[idx].astype(dtype).reshape(idx.size, 1)
    else:
        arr = values[idx].astype(dtype)
    return np.ascontiguousarray(arr).view(f"V{size}")


def _layout(fields: Sequence[Field], text_len: dict[str, int]) -> tuple[np.dtype, list[int]]:
    """A structured dtype of one row: count, then per field its length and its bytes."""
    names, formats, offsets, sizes = ["_count"], ["V2"], [0], []
    offset = 2
    for i, f in enumerate(fields):
        if f.kind == "text":
            size = text_len[f.name]
        elif f.kind == "uuid":
            size = 16
        else:
            size = _FIXED[f.kind][0]
        sizes.append(size)
        names.append(f"_len{i}")
        formats.append("V4")
        offsets.append(offset)
        offset += 4
        if size > 0:
            names.append(f"_val{i}")
            formats.append(f"V{size}")
            offsets.append(offset)
            offset += size
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": offset})
    return dtype, sizes


def binary_chunks(
    fields: Sequence[Field], n_entities: int, n_subs: int
) -> Iterator[bytes | memoryview]:
    """The COPY payload of the grid, in blocks of at most ``ENTITIES_PER_BLOCK`` entities.

    A block is a view of a buffer reused by the next block: send it before asking for more.

    Each row layout is a structured dtype with one opaque (``V``) item per field, so filling
    a column is one strided copy of whole items, not a loop over its bytes.
    """
    yield HEADER
    texts = {f.name: _Text(f, n_entities, n_subs) for f in fields if f.kind == "text"}
    if texts:
        lengths = np.stack([t.lengths for t in texts.values()], axis=1)
        layouts, group_of = np.unique(lengths, axis=0, return_inverse=True)
        group_of = group_of.ravel()
    else:
        layouts, group_of = np.zeros((1, 0), dtype=np.int64), np.zeros(n_entities, dtype=np.int64)
    order = np.argsort(group_of, kind="stable")
    bounds = np.searchsorted(group_of[order], np.arange(layouts.shape[0] + 1))
    for g, layout in enumerate(layouts):
        text_len = dict(zip(texts, (int(x) for x in layout), strict=True))
        dtype, sizes = _layout(fields, text_len)
        # Everything that is the same in every row (count, lengths, constants) is set once in
        # a template row; a block starts as copies of it and only the values vary.
        template = np.zeros(1, dtype=dtype)
        template["_count"] = np.frombuffer(struct.pack(">h", len(fields)), dtype="V2")[0]
        varying = []
        for i, (f, size) in enumerate(zip(fields, sizes, strict=True)):
            template[f"_len{i}"] = np.frombuffer(struct.pack(">i", size), dtype="V4")[0]
            if size <= 0:
                continue
            if f.kind == "uuid":
                template[f"_val{i}"] = np.frombuffer(uuid.UUID(str(f.values)).bytes, dtype="V16")[0]
            elif f.kind == "text" and (constant := texts[f.name].scalar) is not None:
                template[f"_val{i}"] = np.frombuffer(constant, dtype=f"V{size}")[0]
            else:
                varying.append((i, f, size))
        members = order[bounds[g] : bounds[g + 1]]
        block = min(members.size, ENTITIES_PER_BLOCK)
        buffer = np.repeat(template, block * n_subs).reshape(block, n_subs)
        for start in range(0, members.size, block):
            idx = members[start : start + block]
            out = buffer[: idx.size]
            for i, f, size in varying:
                if f.kind == "text":
                    out[f"_val{i}"] = texts[f.name].block(idx, n_subs, size)
                else:
                    out[f"_val{i}"] = _fixed_block(f, idx, n_subs)
            yield memoryview(out.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
    yield TRAILER


def _row_values(fields: Sequence[Field], n_entities: int, n_subs: int) -> Iterator[tuple[Any, ...]]:
    """The same grid as Python tuples (entity-major), for ``copy_rows`` on SQLite."""
    columns = []
    for f in fields:
        values = f.values
        if f.kind == "uuid" or isinstance(values, str) or values is None or np.ndim(values) == 0:
            scalar = values.item() if isinstance(values, np.generic) else values
            columns.append(lambda e, s, v=scalar: v)
        elif f.per_sub:
            seq = list(np.asarray(values).tolist()) if not isinstance(values, list) else values
            columns.append(lambda e, s, v=seq: v[s])
        elif f.kind == "text" or np.ndim(values) == 1:
            seq = values if isinstance(values, list) else np.asarray(values).tolist()
            columns.append(lambda e, s, v=seq: v[e])
        else:
            grid = np.asarray(values).tolist()
            columns.append(lambda e, s, v=grid: v[e][s])
    for e in range(n_entities):
        for s in range(n_subs):
            yield tuple(get(e, s) for get in columns)


def copy_grid(
    session: Session, table: Table, fields: Sequence[Field], n_entities: int, n_subs: int
) -> int:
    """Insert the E × S rows in the session's transaction; returns the row count."""
    if n_entities == 0 or n_subs == 0:
        return 0
    connection = session.connection()
    names = [f.name for f in fields]
    if connection.dialect.name != "postgresql":
        return copy_rows(session, table, names, _row_values(fields, n_entities, n_subs))
    raw = connection.connection.driver_connection
    assert raw is not None
    statement = f'COPY "{table.name}" ({", ".join(names)}) FROM STDIN (FORMAT BINARY)'
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in binary_chunks(fields, n_entities, n_subs):
            copy.write(chunk)
    return n_entities * n_subs
