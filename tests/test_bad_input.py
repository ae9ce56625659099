"""Bad input (malformed JSON, wrong types, unknown fields): a 422 problem naming the field, nothing written.

Every route of the four services whose body is a JSON pydantic model is exercised with a
token of a role it accepts: (a) a truncated copy of a valid body, (b) each declared field,
nested ones included, given a value of the wrong JSON type, (c) an unknown field at the
top and inside each nested object. Each answer must be a 422 ``application/problem+json``
whose ``errors`` name that field and nothing else, and every table (outbox included) keeps
its row count. Path parameters name rows that do not exist: body validation answers
first, so the answer is still the 422, not a 404.

Bulk endpoints read the raw body (CSV, JSONL, JSON) and have their own tests; here they
only have to forbid unknown columns in their documented row schema.

The apps run in-process on a fresh database migrated by their lifespan (PostgreSQL when
``SOP_TEST_DATABASE_URL`` is set, SQLite otherwise).
"""

from __future__ import annotations

import importlib
import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import inspect, text

from sop_shared.auth import create_token
from sop_shared.devstack import SERVICES
from sop_shared.settings import AuthSettings
from sop_shared.testing import create_database, drop_database

MONTH = "2026-01"
NO_UUID = "00000000-0000-0000-0000-00000000abcd"

#: (service, method, route path) -> (a URL whose path parameters name no existing row,
#: a minimal valid body). A new JSON-body route fails ``test_every_json_body_route_is_covered``
#: until it is added here.
CASES: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {
    ("demand", "POST", "/api/v1/products"): (
        "/api/v1/products",
        {"code": "BAD-1", "name": "Widget", "family": "WIDGETS", "category": "TOOLS"},
    ),
    ("demand", "PATCH", "/api/v1/products/{code}"): (
        "/api/v1/products/NO-SUCH-PRODUCT",
        {"name": "Widget", "launch_curve": [0.2, 0.5]},
    ),
    ("demand", "POST", "/api/v1/promotions"): (
        "/api/v1/promotions",
        {
            "name": "Spring",
            "level": "product",
            "node": "SKU-1",
            "month_from": MONTH,
            "month_to": "2026-02",
            "uplift_pct": 10,
        },
    ),
    ("demand", "POST", "/api/v1/forecast-runs"): ("/api/v1/forecast-runs", {"cycle": MONTH}),
    ("demand", "POST", "/api/v1/demand-plans"): ("/api/v1/demand-plans", {"cycle": MONTH}),
    ("demand", "POST", "/api/v1/demand-plans/{plan_id}/overrides"): (
        f"/api/v1/demand-plans/{NO_UUID}/overrides",
        {"reason": "trade promotion", "items": [{"node": "SKU-1", "month": MONTH, "quantity": 5}]},
    ),
    ("supply", "POST", "/api/v1/sites"): ("/api/v1/sites", {"code": "DC-1", "name": "North DC"}),
    ("supply", "POST", "/api/v1/supply-plans"): (
        "/api/v1/supply-plans",
        {"demand_plan_id": NO_UUID, "cycle": MONTH},
    ),
    ("capacity", "POST", "/api/v1/resources"): (
        "/api/v1/resources",
        {"code": "LINE-1", "name": "Line 1", "site": "PLANT-A"},
    ),
    ("capacity", "POST", "/api/v1/production-plans"): (
        "/api/v1/production-plans",
        {"supply_plan_id": NO_UUID, "cycle": MONTH},
    ),
    ("cycle", "POST", "/api/v1/cycles"): ("/api/v1/cycles", {"month": MONTH}),
    ("cycle", "PATCH", "/api/v1/cycles/{month}/steps/{step}"): (
        f"/api/v1/cycles/{MONTH}/steps/demand_review",
        {"owner_user": "ann", "due_date": "2026-01-20"},
    ),
    ("cycle", "POST", "/api/v1/cycles/{month}/steps/{step}/start"): (
        f"/api/v1/cycles/{MONTH}/steps/demand_review/start",
        {"reason": "data is in"},
    ),
    ("cycle", "POST", "/api/v1/cycles/{month}/steps/{step}/complete"): (
        f"/api/v1/cycles/{MONTH}/steps/demand_review/complete",
        {"reason": "plan agreed"},
    ),
    ("cycle", "POST", "/api/v1/cycles/{month}/steps/{step}/reopen"): (
        f"/api/v1/cycles/{MONTH}/steps/demand_review/reopen",
        {"reason": "late orders"},
    ),
    ("cycle", "POST", "/api/v1/cycles/{month}/scenarios"): (
        f"/api/v1/cycles/{MONTH}/scenarios",
        {
            "code": "upside",
            "name": "Upside",
            "parameters": {"service_level": 0.97, "demand_change_pct": {"COFFEE": 5}},
        },
    ),
    ("cycle", "PATCH", "/api/v1/cycles/{month}/scenarios/{code}"): (
        f"/api/v1/cycles/{MONTH}/scenarios/nosuch",
        {"name": "Upside", "parameters": {"overtime_allowed": True}},
    ),
    ("cycle", "POST", "/api/v1/cycles/{month}/decisions"): (
        f"/api/v1/cycles/{MONTH}/decisions",
        {"topic": "Add a shift?", "options": ["yes", "no"]},
    ),
    ("cycle", "PATCH", "/api/v1/cycles/{month}/decisions/{decision_id}"): (
        f"/api/v1/cycles/{MONTH}/decisions/987654",
        {"chosen_option": "yes"},
    ),
    ("cycle", "POST", "/api/v1/cycles/{month}/approve"): (
        f"/api/v1/cycles/{MONTH}/approve",
        {"comment": "approved"},
    ),
    ("cycle", "POST", "/api/v1/cycles/{month}/send-back"): (
        f"/api/v1/cycles/{MONTH}/send-back",
        {"step": "supply_review", "comment": "redo the supply plan"},
    ),
}

KINDS = ("malformed-json", "wrong-type", "non-finite", "unknown-field")


# --- the apps ----------------------------------------------------------------------------


def _route_contexts(app: Any) -> Iterator[Any]:
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()


def _allowed_roles(route: Any) -> list[str]:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        allowed = getattr(dep.call, "allowed_roles", None)
        if allowed is not None:
            return sorted(str(r) for r in allowed)
        stack.extend(dep.dependencies)
    raise AssertionError(f"{route.path} declares no roles")


def _body_model(route: Any) -> type[BaseModel] | None:
    """The pydantic model of the route's JSON body (``Model | None`` included), if any."""
    params = route.dependant.body_params
    if not params:
        return None
    assert len(params) == 1, f"{route.path}: several body parameters"
    annotation = params[0].field_info.annotation
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    raise AssertionError(f"{route.path}: body {annotation!r} is not a pydantic model")


def _json_body_routes(app: Any) -> dict[tuple[str, str], Any]:
    out = {}
    for route in _route_contexts(app):
        if _body_model(route) is not None:
            for method in route.methods:
                out[(method, route.path)] = route
    return out


def _new_app(service: str, database_url: str) -> Any:
    main = importlib.import_module(f"sop_{service}.main")
    settings = importlib.import_module(f"sop_{service}.settings").get_settings()
    return main.create_app(
        type(settings)(database_url=database_url, run_workers=False, migrate_on_start=True)
    )


class Service:
    """One service app in-process on its own fresh, migrated database."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.database_url = create_database(f"badin_{name}", tmp)
        self.client = TestClient(_new_app(name, self.database_url), raise_server_exceptions=False)
        self.client.__enter__()  # runs the lifespan: migrations to head
        self.routes = _json_body_routes(self.client.app)
        self.tables = sorted(inspect(self.client.app.state.engine).get_table_names())
        assert {"outbox_event", "processed_message", "job"} <= set(self.tables), self.tables

    def row_counts(self) -> dict[str, int]:
        with self.client.app.state.engine.connect() as conn:
            return {
                t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
                for t in self.tables
            }

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        drop_database(self.database_url)


class _Started(dict[str, Service]):
    """Each service is started on first use, so a run of one service's cases starts one app."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        super().__init__()
        self.tmp = tmp

    def __missing__(self, name: str) -> Service:
        self[name] = Service(name, self.tmp.mktemp(name))
        return self[name]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Service]]:
    started = _Started(tmp_path_factory)
    try:
        yield started
    finally:
        for service in started.values():
            service.close()


def _headers(roles: list[str]) -> dict[str, str]:
    token = create_token(AuthSettings(), subject="bad-input", roles=roles, ttl_seconds=3600)
    # If-Match as a change needs it: the precondition must not be what refuses the request
    return {"Authorization": f"Bearer {token}", "If-Match": '"1"'}


# --- the bad bodies ----------------------------------------------------------------------


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _json_types(schema: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    """The JSON types a property accepts (``any`` when the schema does not say)."""
    schema = _resolve(schema, defs)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return set().union(*(_json_types(b, defs) for b in branches))
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return {_json_type(v) for v in values}
    declared = schema.get("type")
    if declared is None:
        return {"any"}
    return {declared} if isinstance(declared, str) else set(declared)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


# A value of each JSON type; the first one the property does not accept is sent. (No
# number: a date accepts a Unix timestamp, and every type below is wrong for a number.)
WRONG_VALUES = [("string", "not-of-this-type"), ("array", [{"wrong": "type"}]), ("object", {})]


def _wrong_value(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    accepted = _json_types(schema, defs)
    assert "any" not in accepted, f"untyped property {schema}: give it a type"
    if "integer" in accepted:
        accepted.add("number")
    return next(value for kind, value in WRONG_VALUES if kind not in accepted)


def _object_schema(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema among a property's branches (``Model | None``), if any."""
    schema = _resolve(schema, defs)
    for branch in schema.get("anyOf") or [schema]:
        branch = _resolve(branch, defs)
        if "properties" in branch:
            return branch
    return None


def _items_schema(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    schema = _resolve(schema, defs)
    for branch in schema.get("anyOf") or [schema]:
        branch = _resolve(branch, defs)
        if branch.get("type") == "array" and "items" in branch:
            return _object_schema(branch["items"], defs)
    return None


def _objects(
    schema: dict[str, Any], defs: dict[str, Any], body: Any, at: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every object of ``body`` with its location and schema, the body itself first."""
    yield at, schema
    for name, prop in schema.get("properties", {}).items():
        value = body.get(name)
        if isinstance(value, dict) and (sub := _object_schema(prop, defs)):
            yield from _objects(sub, defs, value, (*at, name))
        elif isinstance(value, list) and value and (sub := _items_schema(prop, defs)):
            yield from _objects(sub, defs, value[0], (*at, name, 0))


def _replaced(body: Any, at: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``body`` with ``value`` at location ``at``."""
    copy = json.loads(json.dumps(body))
    target = copy
    for part in at[:-1]:
        target = target[part]
    target[at[-1]] = value
    return copy


def _bad_bodies(model: type[BaseModel], body: dict[str, Any], kind: str) -> list[tuple[str, Any]]:
    """(field the answer must name, bad body) pairs of one kind."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    out: list[tuple[str, Any]] = []
    for at, obj in _objects(schema, defs, body):
        if kind == "unknown-field":
            field = (*at, "unexpected_field")
            out.append((_dotted(field), _replaced(body, field, 1)))
        elif kind == "wrong-type":
            for name, prop in obj.get("properties", {}).items():
                field = (*at, name)
                out.append((_dotted(field), _replaced(body, field, _wrong_value(prop, defs))))
        elif kind == "non-finite":  # JSON's Infinity / NaN, which Python's parser accepts
            for name, prop in obj.get("properties", {}).items():
                if "number" in _json_types(prop, defs):
                    field = (*at, name)
                    out.extend(
                        (_dotted(field), _replaced(body, field, value))
                        for value in (float("inf"), float("nan"))
                    )
    return out


def _dotted(at: tuple[Any, ...]) -> str:
    return ".".join(["body", *(str(p) for p in at)])


def _assert_problem(response: Any, field: str, what: str) -> None:
    assert response.status_code == 422, (what, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", what
    problem = response.json()
    assert problem["code"] == "validation-error", (what, problem)
    fields = [e["field"] for e in problem["errors"]]
    # named, and nothing else is: the path values and the rest of the body were valid
    assert fields, (what, problem)
    for name in fields:
        assert name == field or name.startswith(field + "."), (what, field, problem["errors"])


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_json_body_route_is_covered(services: dict[str, Service], service: str) -> None:
    """The table above lists exactly the service's JSON-body routes; the rest are bulk."""
    running = services[service]
    found = {(service, m, p) for m, p in running.routes}
    listed = {key for key in CASES if key[0] == service}
    assert found == listed, {"missing here": found - listed, "gone": listed - found}
    for method, path in running.routes:
        model = _body_model(running.routes[(method, path)])
        assert model is not None
        model.model_validate(CASES[(service, method, path)][1])  # the minimal body is valid
    # A request body that is no pydantic model is a bulk upload (CSV, JSONL or JSON rows).
    for path, operations in running.client.app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation and (method.upper(), path) not in running.routes:
                assert "text/csv" in operation["requestBody"]["content"], (method, path)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("service", "method", "path"), list(CASES), ids=[" ".join(key) for key in CASES]
)
def test_bad_body_is_a_422_naming_the_field_and_writes_nothing(
    services: dict[str, Service], service: str, method: str, path: str, kind: str
) -> None:
    running = services[service]
    route = running.routes[(method, path)]
    url, body = CASES[(service, method, path)]
    headers = _headers(_allowed_roles(route))
    model = _body_model(route)
    assert model is not None
    before = running.row_counts()
    if kind == "malformed-json":
        raw = json.dumps(body)[:-1]  # the closing brace is missing
        response = running.client.request(
            method, url, content=raw, headers={**headers, "Content-Type": "application/json"}
        )
        _assert_problem(response, "body", f"{method} {url} {raw}")
        assert "malformed JSON" in response.json()["errors"][0]["message"]
    else:
        cases = _bad_bodies(model, body, kind)
        if kind == "non-finite" and not cases:
            pytest.skip("no number in this body")
        assert cases
        for field, bad in cases:
            response = running.client.request(
                method,
                url,
                content=json.dumps(bad),  # json.dumps writes inf as Infinity, httpx would refuse
                headers={**headers, "Content-Type": "application/json"},
            )
            _assert_problem(response, field, f"{method} {url} {bad}")
            if kind == "unknown-field":
                assert response.json()["errors"][0]["message"] == "unknown field"
    assert running.row_counts() == before


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _loose_objects(schema: Any, components: dict[str, Any], seen: set[str]) -> Iterator[str]:
    """Titles of object schemas (through $ref, anyOf, items...) that allow unknown keys."""
    if isinstance(schema, list):
        for item in schema:
            yield from _loose_objects(item, components, seen)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            yield from _loose_objects(components[name], components, seen)
        return
    if "properties" in schema and schema.get("additionalProperties") is not False:
        yield schema.get("title", "?")
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            for sub in value.values():
                yield from _loose_objects(sub, components, seen)
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
            yield from _loose_objects(value, components, seen)


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_request_body_model_forbids_unknown_fields(service: str, tmp_path: Path) -> None:
    """Recursively, through nested models: ``extra="forbid"`` on every input model."""
    app = _new_app(service, f"sqlite:///{tmp_path / 'unused.db'}")  # never started
    models = {
        m for route in _json_body_routes(app).values() for m in _models_in(_body_model(route))
    }
    assert models
    assert sorted(m.__name__ for m in models if m.model_config.get("extra") != "forbid") == []
    # the documented bodies too, bulk row schemas included
    document = app.openapi()
    components = document.get("components", {}).get("schemas", {})
    loose = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for title in _loose_objects(content.get("schema", {}), components, set()):
                    loose.append((method, path, title))
    assert loose == []
