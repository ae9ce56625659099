"""ETag / If-Match helpers: the ETag of an aggregate is its ``version``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from sop_shared.problems import FieldError, PreconditionRequired, ValidationFailed


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def parse_if_match(value: str | None, *, required: bool = False) -> int | None:
    """``"3"`` or ``W/"3"`` → 3; ``*`` or absent → None (unless required)."""
    if value is None or value.strip() == "*":
        if required and value is None:
            raise PreconditionRequired(
                "This change needs an If-Match header with the current ETag."
            )
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ValidationFailed(
            "If-Match must carry an ETag from a previous read.",
            errors=[FieldError(field="header.If-Match", message=f"not an ETag: {value!r}")],
        )
    return int(raw)


IfMatchHeader = Annotated[
    str | None, Header(alias="If-Match", description="ETag from a previous read")
]
