from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sop_supply.main import create_app
from sop_supply.models import ProductRef, Site
from sop_supply.settings import SupplySettings


@pytest.fixture(scope="session")
def service_dir() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app_factory() -> Callable[..., Any]:
    return lambda **overrides: create_app(SupplySettings(**overrides))


class Seed:
    """Builders: persist the rows a test starts from (products as demand's events leave them)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def product(self, code: str, *, family: str = "FAM", cost: float = 0.0) -> ProductRef:
        row = ProductRef(
            code=code,
            name=code,
            family=family,
            category="CAT",
            unit="EA",
            cost=cost,
            lifecycle="active",
            version=1,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def site(self, code: str) -> Site:
        row = Site(code=code, name=code)
        self.session.add(row)
        self.session.flush()
        return row


@pytest.fixture
def seed(session: Session) -> Seed:
    return Seed(session)
