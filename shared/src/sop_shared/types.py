"""Value types shared by the API contracts of every service.

Every value a plan carries is bounded here, once, so that whatever the OpenAPI document
allows also fits the database column and the planning arithmetic:

* quantities (units) are finite and at most ``MAX_QUANTITY``; money (prices, costs,
  revenue, values) at most ``MAX_MONEY``; hours at most ``MAX_HOURS``;
* months are ``YYYY-MM`` within ``MONTH_YEARS_BACK`` years before and
  ``MONTH_YEARS_AHEAD`` years after the current month;
* codes use letters, digits, ``_``, ``.`` and ``-`` only (no ``/``, which no URL path
  segment can carry), at most 64 characters;
* integer ids and versions fit a 32-bit signed column (``MAX_INT32``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field

#: The largest quantity (units) any plan, feed or override may carry: 10^12.
MAX_QUANTITY = 1e12
#: The largest amount of money (price, cost, revenue, value) in the company currency: 10^12.
MAX_MONEY = 1e12
#: The largest number of hours (a routing's hours per unit, a month's hours worked).
MAX_HOURS = 1e6
#: The largest id or version number: a PostgreSQL ``integer``.
MAX_INT32 = 2**31 - 1
#: Months are accepted this many years before and after the current month.
MONTH_YEARS_BACK = 50
MONTH_YEARS_AHEAD = 10

MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
CODE_RE = re.compile(CODE_PATTERN)
MONTH_RE = re.compile(MONTH_PATTERN)


def month_window(now: datetime | None = None) -> tuple[str, str]:
    """The first and last month accepted today, both ``YYYY-MM``."""
    now = now or datetime.now(UTC)
    return (
        f"{now.year - MONTH_YEARS_BACK:04d}-{now.month:02d}",
        f"{now.year + MONTH_YEARS_AHEAD:04d}-{now.month:02d}",
    )


def in_month_window(value: str) -> str:
    """``value`` if it lies in ``month_window()``; a ``ValueError`` naming the window if not."""
    first, last = month_window()
    if not first <= value <= last:
        raise ValueError(f"month must lie between {first} and {last}, got {value}")
    return value


_MONTH_DESCRIPTION = (
    f"Month bucket YYYY-MM, at most {MONTH_YEARS_BACK} years before and "
    f"{MONTH_YEARS_AHEAD} years after the current month"
)

#: A planning bucket: one calendar month, ``YYYY-MM``, within the window around today.
Month = Annotated[
    str,
    Field(pattern=MONTH_PATTERN, examples=["2026-12"], description=_MONTH_DESCRIPTION),
    AfterValidator(in_month_window),
]
#: A scenario code; ``base`` is the cycle's main plan.
ScenarioCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$", examples=["base"])]
#: A product, site, resource, material... code: a safe alphabet that any URL path carries.
Code = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        examples=["SKU-1001"],
        description="Letters, digits, '_', '.' and '-', at most 64 characters",
    ),
]


def not_a_boolean(value: object) -> object:
    """JSON ``true``/``false`` is no number (pydantic's lax mode would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


_NUMBER = BeforeValidator(not_a_boolean)

#: A quantity in the product's unit: finite, 0 to ``MAX_QUANTITY``.
Quantity = Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False), _NUMBER]
#: A signed quantity (a change): finite, within ±``MAX_QUANTITY``.
SignedQuantity = Annotated[
    float, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False), _NUMBER
]
#: A price, cost, revenue or value in the company currency: finite, 0 to ``MAX_MONEY``.
Money = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False), _NUMBER]
#: Hours: finite, 0 to ``MAX_HOURS``.
Hours = Annotated[float, Field(ge=0, le=MAX_HOURS, allow_inf_nan=False), _NUMBER]
#: A dimensionless factor or rate (a scaling factor, a cost rate): finite, 0 to 1000.
Factor = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False), _NUMBER]
#: An integer id or version number that fits a 32-bit column.
Int32 = Annotated[int, Field(ge=1, le=MAX_INT32), _NUMBER]


H = TypeVar("H", bound=Hashable)


def distinct(values: list[H]) -> list[H]:
    """``values`` if no value repeats (e.g. ``by=family&by=family``); a ``ValueError`` if one does."""
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"each value may be given once; repeated: {', '.join(repeated)}")
    return values


MAX_OFFSET = 2_000_000_000
"""The largest page offset a list accepts (a SQL OFFSET, far beyond any real table)."""
