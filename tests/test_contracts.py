"""The committed OpenAPI and AsyncAPI files match the code (run `make contracts` after a change)."""

from __future__ import annotations

import subprocess
import sys

from sop_shared.contracts import asyncapi


def test_committed_contracts_match_the_code() -> None:
    # its own process: importing all four services here would mix their SQLModel metadata
    result = subprocess.run(
        [sys.executable, "-m", "sop_shared.contracts", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_asyncapi_lists_every_event_with_its_data_schema() -> None:
    doc = asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert "sop.demand.plan.changed.v1" in names
    assert "sop.cycle.plan.approved.v1" in names
    assert "PlanChangedData" in doc["components"]["schemas"]
    assert {c["address"] for c in doc["channels"].values()} == {
        "sop.demand.v1",
        "sop.supply.v1",
        "sop.capacity.v1",
        "sop.cycle.v1",
    }
