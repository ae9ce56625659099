"""Every error of an app renders as an RFC 9457 problem document."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from sop_shared.problems import Conflict, NotFound, Unprocessable, install_problem_handlers


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int


def _app() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    def create(body: Body) -> dict[str, int]:
        if body.quantity == 404:
            raise NotFound("no such thing")
        if body.quantity == 409:
            raise Conflict("already there", code="thing-exists", thing=7)
        if body.quantity == 422:
            raise Unprocessable("rule broken")
        if body.quantity == 500:
            raise RuntimeError("secret internals")
        return {"quantity": body.quantity}

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("quantity", "status", "code"),
    [
        (404, 404, "not-found"),
        (409, 409, "thing-exists"),
        (422, 422, "unprocessable"),
        (500, 500, "internal-error"),
    ],
)
def test_domain_errors_render_as_problems(quantity: int, status: int, code: str) -> None:
    response = _app().post("/things", json={"quantity": quantity})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://errors.sop.example/{code}"
    assert body["instance"] == "/things"


def test_extension_members_are_kept() -> None:
    assert _app().post("/things", json={"quantity": 409}).json()["thing"] == 7


def test_internal_errors_hide_internals() -> None:
    body = _app().post("/things", json={"quantity": 500}).json()
    assert "secret" not in body["detail"]


def test_validation_names_each_field() -> None:
    response = _app().post("/things", json={"quantity": "many", "colour": "red"})
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields["body.colour"] == "unknown field"
    assert "body.quantity" in fields


def test_routing_errors_share_the_shape() -> None:
    client = _app()
    assert client.get("/nowhere").json()["code"] == "not-found"
    assert client.get("/things").json()["code"] == "method-not-allowed"
