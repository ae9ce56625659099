from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from sop_cycle.main import create_app
from sop_cycle.settings import CycleSettings
from sop_shared.db import make_engine
from sop_shared.migrations import upgrade
from sop_shared.testing import create_database, drop_database

from .fakes import FakePeers

#: Tests see this as today unless they override it (overdue is computed against it).
TODAY = date(2026, 12, 1)


@pytest.fixture(scope="session")
def service_dir() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def committed_engine(
    service_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database of its own for tests whose transactions really commit (jobs, consumers,
    relay), so their rows never show in the rolled-back tests' database."""
    url = create_database("cycle_committed", tmp_path_factory.mktemp("committed"))
    upgrade(service_dir, url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def peers() -> FakePeers:
    """The demand, supply and capacity services, faked behind ``httpx.MockTransport``."""
    return FakePeers()


@pytest.fixture
def app_factory(peers: FakePeers) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        from sop_cycle.api.deps import get_today

        app = create_app(
            CycleSettings(**{"peer_attempts": 1, **overrides}), peer_transport=peers.transport
        )
        app.dependency_overrides[get_today] = lambda: TODAY
        return app

    return make
