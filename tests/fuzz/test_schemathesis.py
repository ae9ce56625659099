"""API fuzzing: schemathesis against every service's OpenAPI document, with a valid token.

Checks: no 5xx answer, and every answer matches its own documented schema and status.
Each service runs in-process on a throw-away SQLite database (migrated by its lifespan).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from sop_shared.auth import create_token
from sop_shared.settings import AuthSettings

pytestmark = pytest.mark.fuzz

TOKEN = {
    "Authorization": f"Bearer {create_token(AuthSettings(), subject='fuzzer', roles=['admin'])}"
}


@pytest.fixture(scope="module", params=["demand", "supply", "capacity", "cycle"])
def fuzz_schema(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    service = request.param
    main = importlib.import_module(f"sop_{service}.main")
    settings_module = importlib.import_module(f"sop_{service}.settings")
    base = settings_module.get_settings()
    url = f"sqlite:///{tmp_path_factory.mktemp(service) / 'fuzz.db'}"
    app = main.create_app(base.model_copy(update={"database_url": url, "run_workers": False}))
    with TestClient(app):  # runs the lifespan: migrations, engine
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_their_schema(case: Any) -> None:
    case.call_and_validate(
        headers=TOKEN,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
