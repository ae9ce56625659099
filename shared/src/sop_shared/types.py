"""Value types shared by the API contracts of every service."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: A planning bucket: one calendar month, ``YYYY-MM``.
Month = Annotated[
    str,
    Field(
        pattern=r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$",
        examples=["2026-12"],
        description="Month bucket YYYY-MM",
    ),
]
#: A scenario code; ``base`` is the cycle's main plan.
ScenarioCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$", examples=["base"])]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$", examples=["SKU-1001"])]
