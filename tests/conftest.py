"""Cross-service tests: the services run as processes on loopback with a real broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sop_shared.broker import free_port
from sop_shared.devstack import SERVICES, DevStack
from sop_shared.testing import create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]


def new_stack(tmp: Path) -> DevStack:
    """A stack on free ports with fresh databases (PostgreSQL when configured)."""
    urls = {name: create_database(name, tmp) for name in SERVICES}
    return DevStack(
        data_dir=tmp,
        ports={name: free_port() for name in SERVICES},
        broker_port=free_port(),
        database_urls=urls,
        env={
            "SOP_ENV": "test",
            "SOP_LOG_LEVEL": "INFO",
            # spans to each service's log, one JSON line each, flushed within 0.5 s
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_BSP_SCHEDULE_DELAY": "500",
        },
        quiet=True,
    )


def _run_stack(tmp: Path) -> Iterator[DevStack]:
    running = new_stack(tmp)
    try:
        with running:
            yield running
    finally:
        for url in running.database_urls.values():
            drop_database(url)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """One stack shared by the cross-service tests that tolerate each other's data."""
    yield from _run_stack(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def fresh_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """A stack of its own, for a test that needs a company with nothing else in it."""
    yield from _run_stack(tmp_path_factory.mktemp("fresh"))
