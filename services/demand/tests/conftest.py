from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sop_demand.main import create_app
from sop_demand.settings import DemandSettings


@pytest.fixture(scope="session")
def service_dir() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app_factory() -> Callable[..., Any]:
    return lambda **overrides: create_app(DemandSettings(**overrides))
