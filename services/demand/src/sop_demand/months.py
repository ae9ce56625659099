"""``YYYY-MM`` month buckets as integers (year * 12 + month - 1), vectorised."""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import pandas as pd


@overload
def month_index(value: str) -> int: ...
@overload
def month_index(value: pd.Series | pd.Index | np.ndarray | list[str]) -> np.ndarray: ...
def month_index(value: Any) -> Any:
    """``"2026-03"`` → 24314; arrays and Series element-wise."""
    if isinstance(value, str):
        return int(value[:4]) * 12 + int(value[5:7]) - 1
    s = pd.Series(value, dtype=object).astype(str)
    return (
        s.str.slice(0, 4).astype(np.int64).to_numpy() * 12
        + s.str.slice(5, 7).astype(np.int64).to_numpy()
        - 1
    )


def month_of_index(index: int) -> str:
    year, month0 = divmod(int(index), 12)
    return f"{year:04d}-{month0 + 1:02d}"


def months_of_index(index: np.ndarray) -> np.ndarray:
    """Vectorised inverse of ``month_index``."""
    index = np.asarray(index, dtype=np.int64)
    year, month0 = np.divmod(index, 12)
    return np.char.add(
        np.char.add(np.char.zfill(year.astype(str), 4), "-"),
        np.char.zfill((month0 + 1).astype(str), 2),
    ).astype(object)


def add_months(month: str, n: int) -> str:
    return month_of_index(month_index(month) + n)


def month_range(start: str, count: int) -> list[str]:
    first = month_index(start)
    return [month_of_index(first + i) for i in range(count)]


def month_start(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01")


def to_timestamps(months: pd.Series) -> pd.Series:
    return pd.to_datetime(months.astype(str) + "-01", format="%Y-%m-%d")


def from_timestamps(stamps: pd.Series) -> pd.Series:
    return pd.to_datetime(stamps).dt.strftime("%Y-%m")
