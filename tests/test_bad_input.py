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
    ("demand", "POST", "/api/v1/dead-letters/replay"): (
        "/api/v1/dead-letters/replay",
        {"ids": [987654], "consumer": "demand.plans"},
    ),
    ("supply", "POST", "/api/v1/dead-letters/replay"): (
        "/api/v1/dead-letters/replay",
        {"ids": [987654], "consumer": "supply.plans"},
    ),
    ("capacity", "POST", "/api/v1/dead-letters/replay"): (
        "/api/v1/dead-letters/replay",
        {"ids": [987654], "consumer": "capacity.plans"},
    ),
    ("cycle", "POST", "/api/v1/dead-letters/replay"): (
        "/api/v1/dead-letters/replay",
        {"ids": [987654], "consumer": "cycle.plans"},
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


# --- values the planning cannot carry, parser limits, overflow, NUL --------------------

HUGE = 1e308
DIGITS_5000 = "9" * 5000
DEEP_JSON = "[" * 100_000 + "]" * 100_000
LONG_CELL = "x" * 140_000  # over the csv module's 131,072-character field limit


def _csv(*lines: str, end: str = "\n") -> dict[str, Any]:
    return {"content": end.join(lines) + end, "headers": {"Content-Type": "text/csv"}}


def _json(text: str) -> dict[str, Any]:
    return {"content": text, "headers": {"Content-Type": "application/json"}}


#: (service, method, url, request keywords, the field or detail the problem must name).
#: Each must answer a 4xx problem document (422 unless said otherwise) and write nothing.
BAD_VALUES: dict[str, tuple[str, str, str, dict[str, Any], str]] = {
    # values the planning cannot carry (finite but past the documented maximum)
    "override of 1e308": (
        "demand",
        "POST",
        f"/api/v1/demand-plans/{NO_UUID}/overrides",
        {"json": {"reason": "r", "items": [{"node": "P-1", "month": MONTH, "quantity": HUGE}]}},
        "body.items.0.quantity",
    ),
    "product price of 1e308": (
        "demand",
        "POST",
        "/api/v1/products",
        {"json": {"code": "BIG", "name": "n", "family": "F", "category": "C", "price": HUGE}},
        "body.price",
    ),
    "sales row of 1e308 (CSV)": (
        "demand",
        "POST",
        "/api/v1/sales-history",
        _csv("product,site,month,quantity", f"P-1,S-1,{MONTH},1e308"),
        "quantity",
    ),
    "sales row of 1e308 (JSON)": (
        "demand",
        "POST",
        "/api/v1/sales-history",
        {"json": [{"product": "P-1", "site": "S-1", "month": MONTH, "quantity": HUGE}]},
        "quantity",
    ),
    "sales row for 2999-12": (
        "demand",
        "POST",
        "/api/v1/sales-history",
        _csv("product,site,month,quantity", "P-1,S-1,2999-12,5"),
        "month",
    ),
    "inventory of 1e308": (
        "supply",
        "POST",
        "/api/v1/inventory/bulk",
        {"json": [{"product": "P-1", "site": "S-1", "month": MONTH, "on_hand": HUGE}]},
        "on_hand",
    ),
    "routing hours of 1e308": (
        "capacity",
        "POST",
        "/api/v1/routings/bulk",
        {"json": [{"product": "P-1", "resource": "R-1", "hours_per_unit": HUGE}]},
        "hours_per_unit",
    ),
    "cycle for 2999-12": (
        "cycle",
        "POST",
        "/api/v1/cycles",
        {"json": {"month": "2999-12"}},
        "body.month",
    ),
    # codes outside the safe alphabet
    "product code with /": (
        "demand",
        "POST",
        "/api/v1/products",
        {"json": {"code": "A/B", "name": "n", "family": "F", "category": "C"}},
        "body.code",
    ),
    "site code with /": (
        "supply",
        "POST",
        "/api/v1/sites",
        {"json": {"code": "DC/1", "name": "n"}},
        "body.code",
    ),
    # numbers and ids past what the columns hold
    "lag of 20 digits": (
        "demand",
        "GET",
        "/api/v1/forecast-accuracy?lag=99999999999999999999",
        {},
        "query.lag",
    ),
    "by=family twice": (
        "demand",
        "GET",
        "/api/v1/forecast-accuracy?by=family&by=family",
        {},
        "query.by",
    ),
    "promotion id 2^31": (
        "demand",
        "GET",
        "/api/v1/promotions/2147483648",
        {},
        "path.promotion_id",
    ),
    "decision id 2^31": (
        "cycle",
        "GET",
        f"/api/v1/cycles/{MONTH}/decisions/2147483648",
        {},
        "path.decision_id",
    ),
    "unbounded offset on cycles": (
        "cycle",
        "GET",
        f"/api/v1/cycles?offset={10**20}",
        {},
        "query.offset",
    ),
    "unbounded offset on products": (
        "demand",
        "GET",
        f"/api/v1/products?offset={10**20}",
        {},
        "query.offset",
    ),
    "step month without the pattern": (
        "cycle",
        "PATCH",
        "/api/v1/cycles/2026-13/steps/demand_review",
        {"json": {"owner_user": "ann"}},
        "path.month",
    ),
    "step due_date null": (
        "cycle",
        "PATCH",
        f"/api/v1/cycles/{MONTH}/steps/demand_review",
        {"json": {"due_date": None}},
        "body.due_date",
    ),
    # NUL characters (PostgreSQL cannot store them in text)
    "NUL in a query filter": ("demand", "GET", "/api/v1/products?family=a%00b", {}, "NUL"),
    "NUL in a JSON field": (
        "demand",
        "POST",
        "/api/v1/products",
        _json('{"code": "NUL-1", "name": "a\\u0000b", "family": "F", "category": "C"}'),
        "NUL",
    ),
    "NUL in a CSV cell": (
        "supply",
        "POST",
        "/api/v1/materials/bulk",
        _csv("code,name", "M-1,a\x00b"),
        "NUL",
    ),
    "NUL in a path": ("cycle", "GET", "/api/v1/cycles/2026-01%00", {}, "NUL"),
    # parser limits
    "deeply nested JSON body": ("demand", "POST", "/api/v1/products", _json(DEEP_JSON), "body"),
    "deeply nested bulk JSON": (
        "supply",
        "POST",
        "/api/v1/materials/bulk",
        _json(DEEP_JSON),
        "body",
    ),
    "5,000-digit integer in a body": (
        "cycle",
        "POST",
        "/api/v1/cycles",
        _json('{"month": "2026-01", "x": ' + DIGITS_5000 + "}"),
        "body",
    ),
    "5,000-digit integer in a bulk row": (
        "capacity",
        "POST",
        "/api/v1/routings/bulk",
        {
            "content": '{"product": "P-1", "resource": "R-1", "hours_per_unit": '
            + DIGITS_5000
            + "}\n",
            "headers": {"Content-Type": "application/x-ndjson"},
        },
        "row",
    ),
    "CSV cell over 131,072 characters": (
        "capacity",
        "POST",
        "/api/v1/resources/bulk",
        _csv("code,name,site", f"R-1,{LONG_CELL},PLANT"),
        "row",
    ),
    "sales CSV cell over 131,072 characters": (
        "demand",
        "POST",
        "/api/v1/sales-history",
        _csv("product,site,month,quantity", f"P-1,{LONG_CELL},{MONTH},5"),
        "site",
    ),
}


def _problem_names(problem: dict[str, Any]) -> str:
    return " ".join(
        [problem.get("detail") or "", *(e["field"] for e in problem.get("errors") or [])]
    )


@pytest.fixture(scope="module")
def known_product(services: dict[str, Service]) -> str:
    """A product the sales rows name, so a row is refused for its value, not its product."""
    response = services["demand"].client.post(
        "/api/v1/products",
        json={"code": "P-1", "name": "Widget", "family": "F", "category": "C"},
        headers=_headers(["admin"]),
    )
    assert response.status_code == 201, response.text
    return "P-1"


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_value_is_a_4xx_problem_and_writes_nothing(
    services: dict[str, Service], known_product: str, case: str
) -> None:
    service, method, url, kwargs, names = BAD_VALUES[case]
    running = services[service]
    headers = {**_headers(["admin"]), **kwargs.get("headers", {})}
    before = running.row_counts()
    response = running.client.request(
        method, url, **{k: v for k, v in kwargs.items() if k != "headers"}, headers=headers
    )
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:500])
    assert response.status_code == 422, (case, response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/problem+json", case
    problem = response.json()
    assert problem["status"] == 422
    assert names in _problem_names(problem), (case, problem)
    assert problem["trace_id"] == response.headers["x-request-id"]
    assert running.row_counts() == before, case


def test_cr_only_line_endings_read_like_lf(services: dict[str, Service]) -> None:
    """A CSV with old Mac line endings (CR alone) is read row by row, like LF and CRLF."""
    running = services["capacity"]
    headers = {**_headers(["admin"]), "Content-Type": "text/csv"}
    for end, code in (("\r", "CR-ONLY"), ("\r\n", "CR-LF"), ("\n", "LF")):
        body = end.join(["code,name,site", f"{code}-1,One,PLANT", f"{code}-2,Two,PLANT"]) + end
        response = running.client.post("/api/v1/resources/bulk", content=body, headers=headers)
        assert response.status_code == 200, (end, response.text)
        for suffix in ("1", "2"):
            got = running.client.get(f"/api/v1/resources/{code}-{suffix}", headers=headers)
            assert got.status_code == 200, (end, got.text)
            assert got.json()["site"] == "PLANT"


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_documented_number_fits_its_column(service: str, tmp_path: Path) -> None:
    """Every integer a request may carry (parameter or body) is documented within a 32-bit
    column, every number within the planning's maximum: what the OpenAPI allows is stored."""
    from sop_shared.types import MAX_INT32, MAX_QUANTITY

    document = _new_app(service, f"sqlite:///{tmp_path / 'unused.db'}").openapi()
    components = document.get("components", {}).get("schemas", {})
    unbounded: list[str] = []

    def walk(schema: Any, at: str, seen: frozenset[str]) -> None:
        if isinstance(schema, list):
            for item in schema:
                walk(item, at, seen)
            return
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                walk(components[name], f"{at}>{name}", seen | {name})
            return
        kind = schema.get("type")
        if kind in ("integer", "number"):
            limit = MAX_INT32 if kind == "integer" else MAX_QUANTITY
            top = schema.get("maximum", schema.get("exclusiveMaximum"))
            bottom = schema.get("minimum", schema.get("exclusiveMinimum"))
            if top is None or top > limit or bottom is None or bottom < -limit:
                unbounded.append(f"{at} ({kind} {bottom}..{top})")
        for key, value in schema.items():
            if key == "properties":
                for name, prop in value.items():
                    walk(prop, f"{at}.{name}", seen)
            elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
                walk(value, at, seen)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                walk(
                    parameter.get("schema", {}), f"{method} {path} {parameter['name']}", frozenset()
                )
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content.get("schema", {}), f"{method} {path} body", frozenset())
    assert unbounded == []
