"""CloudEvents 1.0 structured-mode JSON envelope.

Extension attributes (lower-case alphanumerics per the spec): ``sopcycle``,
``sopscenario``, ``sopversion`` (aggregate version, for stale-update guards)
and ``traceparent`` (W3C trace context, the distributed-tracing extension).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def topic_for(domain: str) -> str:
    """One topic per producing domain (ARCHITECTURE.md)."""
    return f"sop.{domain}.v1"


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str = Field(description="URI reference of the producing service, e.g. /sop/demand")
    type: str = Field(
        description="Reverse-DNS event type with major version, e.g. sop.demand.plan.changed.v1"
    )
    subject: str | None = Field(default=None, description="Aggregate id the event is about")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    sopcycle: str | None = Field(default=None, description="Cycle month YYYY-MM (extension)")
    sopscenario: str | None = Field(default=None, description="Scenario code (extension)")
    sopversion: int | None = Field(default=None, description="Aggregate version (extension)")
    traceparent: str | None = Field(default=None, description="W3C trace context (extension)")
    data: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        return cls.model_validate_json(raw)


def new_event(
    *,
    source: str,
    type: str,
    subject: str | None,
    data: BaseModel | dict[str, Any],
    cycle: str | None = None,
    scenario: str | None = None,
    version: int | None = None,
) -> CloudEvent:
    """Build an envelope, validating ``data`` against the catalogue when the type is known."""
    from sop_shared.events.catalog import EVENT_TYPES
    from sop_shared.tracing import current_traceparent

    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    spec = EVENT_TYPES.get(type)
    if spec is not None:
        payload = spec.data_model.model_validate(payload).model_dump(mode="json")
    return CloudEvent(
        source=source,
        type=type,
        subject=subject,
        data=payload,
        sopcycle=cycle,
        sopscenario=scenario,
        sopversion=version,
        traceparent=current_traceparent(),
        dataschema=f"urn:sop:schema:{type}" if spec is not None else None,
    )
