"""Process entry points shared by the services: the API under uvicorn, or a worker alone."""

from __future__ import annotations

import importlib
import signal
import threading
from typing import Any

import uvicorn

from sop_shared.db import make_engine
from sop_shared.logging import configure_logging
from sop_shared.outbox import OutboxRelay


def _load(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def serve(app_factory: str, settings_getter: str) -> None:
    settings = _load(settings_getter)()
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def _until_signalled() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def run_relay(settings_getter: str) -> None:
    """``python -m sop_<svc>.relay``: the outbox relay as its own process (one per service)."""
    settings = _load(settings_getter)()
    configure_logging(
        f"{settings.service_name}-relay", settings.platform.log_level, settings.platform.log_json
    )
    relay = OutboxRelay(
        make_engine(settings.database_url), settings.kafka, service=settings.service_name
    )
    relay.run_forever(_until_signalled())


def run_consumers(settings_getter: str, consumers_getter: str) -> None:
    """``python -m sop_<svc>.consumers``: the service's consumer groups without the API."""
    from sop_shared.app import start_workers

    settings = _load(settings_getter)()
    configure_logging(
        f"{settings.service_name}-consumers",
        settings.platform.log_level,
        settings.platform.log_json,
    )
    engine = make_engine(settings.database_url)
    workers = start_workers(settings.model_copy(), engine, _load(consumers_getter)(), relay=False)
    _until_signalled().wait()
    workers.shutdown()
