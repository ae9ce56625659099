"""FastAPI dependencies of the capacity service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sop_capacity.supply import SupplyGateway


def get_supply(request: Request) -> SupplyGateway:
    """The supply client, with the transport the app was built with (a fake in tests)."""
    return SupplyGateway(
        request.app.state.settings, transport=getattr(request.app.state, "supply_transport", None)
    )


SupplyDep = Annotated[SupplyGateway, Depends(get_supply)]
