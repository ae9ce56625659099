from __future__ import annotations

import pytest
from pydantic import ValidationError

from sop_shared.etag import parse_if_match
from sop_shared.events import EVENT_TYPES, CloudEvent, new_event
from sop_shared.problems import PreconditionRequired, ValidationFailed


def test_envelope_is_cloudevents_json_with_extensions() -> None:
    event = new_event(
        source="/sop/demand",
        type="sop.demand.plan.changed.v1",
        subject="plan-1",
        data={"plan_id": "plan-1", "cycle": "2026-12", "version": 2, "status": "submitted"},
        cycle="2026-12",
        scenario="base",
        version=2,
    )
    parsed = CloudEvent.from_json(event.to_json())
    assert parsed.specversion == "1.0"
    assert parsed.datacontenttype == "application/json"
    assert (parsed.sopcycle, parsed.sopscenario, parsed.sopversion) == ("2026-12", "base", 2)
    assert parsed.data["scenario"] == "base"  # catalogue default filled in


def test_catalogued_payloads_are_validated() -> None:
    with pytest.raises(ValidationError):
        new_event(
            source="/sop/demand",
            type="sop.demand.plan.changed.v1",
            subject="p",
            data={"cycle": "2026-12"},
        )


def test_every_catalogued_type_lives_on_its_domain_topic() -> None:
    for spec in EVENT_TYPES.values():
        assert spec.type.startswith(f"sop.{spec.domain}.")
        assert spec.topic == f"sop.{spec.domain}.v1"


@pytest.mark.parametrize(
    ("header", "version"), [('"3"', 3), ('W/"12"', 12), ("*", None), (None, None)]
)
def test_if_match_forms(header: str | None, version: int | None) -> None:
    assert parse_if_match(header) == version


def test_if_match_garbage_and_required() -> None:
    with pytest.raises(ValidationFailed):
        parse_if_match('"abc"')
    with pytest.raises(PreconditionRequired):
        parse_if_match(None, required=True)
