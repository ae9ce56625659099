"""The ``sop`` command line against a running service: load a CSV, export it back, mint a token.

And ``make token ROLE=<role>``: what it prints is accepted by the running stack, for that
role only.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from sop_shared.devstack import DevStack

pytestmark = pytest.mark.e2e

SOP = [sys.executable, "-m", "sop_shared.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _sop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SOP, *args], capture_output=True, text=True, check=False, env={**os.environ}
    )


def test_load_then_export_round_trip(stack: DevStack, tmp_path: Path) -> None:
    family = f"CLI{uuid.uuid4().hex[:4]}"
    source = tmp_path / "products.csv"
    source.write_text(
        "code,name,family,category,price\n"
        + "".join(f"{family}-{i},Item {i},{family},CLI,{i}.5\n" for i in range(1, 6))
    )
    loaded = _sop(
        "load",
        "/api/v1/products/bulk",
        str(source),
        "--service",
        "demand",
        "--url",
        stack.url("demand"),
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "uploading products.csv" in loaded.stdout + loaded.stderr

    again = _sop(
        "load",
        "/api/v1/products/bulk",
        str(source),
        "--service",
        "demand",
        "--url",
        stack.url("demand"),
    )
    assert again.returncode == 0, again.stderr  # same file, same derived key: a replay

    history = tmp_path / "history.jsonl"
    history.write_text(
        "".join(
            f'{{"product": "{family}-1", "site": "DC-CLI", "month": "2025-{m:02d}", "quantity": {m}, "revenue": {m * 2}}}\n'
            for m in range(1, 7)
        )
    )
    sales = _sop(
        "load",
        "/api/v1/sales-history",
        str(history),
        "--service",
        "demand",
        "--url",
        stack.url("demand"),
    )
    assert sales.returncode == 0, sales.stderr

    page = httpx.get(
        f"{stack.url('demand')}/api/v1/sales-history",
        params={"family": family, "limit": 1000},
        headers={"Authorization": f"Bearer {_sop('token', 'viewer').stdout.strip()}"},
    ).json()
    expected = page["total"]  # the CLI must export exactly what the endpoint serves
    assert expected >= 6
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"history{suffix}"
        exported = _sop(
            "export",
            f"/api/v1/sales-history?family={family}",
            str(out),
            "--service",
            "demand",
            "--url",
            stack.url("demand"),
        )
        assert exported.returncode == 0, exported.stderr
        assert exported.stdout.startswith(f"{expected} rows written"), exported.stdout
    rows = list(csv.DictReader((tmp_path / "history.csv").open()))
    assert len(rows) == expected
    assert {float(r["quantity"]) for r in rows} == {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "history.xlsx").active
    assert sheet is not None
    assert sheet.max_row == expected + 1  # header + lines


def test_bad_file_is_refused_naming_the_row(stack: DevStack, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("code,name,family,category,price\nOK-1,a,F,C,1\nBAD-2,b,F,C,-4\n")
    result = _sop(
        "load",
        "/api/v1/products/bulk",
        str(source),
        "--service",
        "demand",
        "--url",
        stack.url("demand"),
    )
    assert result.returncode == 1
    assert "row 2" in result.stderr
    assert "price" in result.stderr


def test_token_is_accepted_by_the_stack(stack: DevStack) -> None:
    token = _sop("token", "executive").stdout.strip()
    response = httpx.get(
        f"{stack.url('cycle')}/api/v1/cycles", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def _make_token(role: str) -> subprocess.CompletedProcess[str]:
    """``make token ROLE=<role>`` as a user types it (``-o install``: never reinstalls here)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", "install", "token", f"ROLE={role}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )


def test_make_token_is_accepted_by_the_stack_for_its_role(stack: DevStack) -> None:
    made = _make_token("viewer")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    assert len(lines) == 1, made.stdout  # only the token: the recipe line is not echoed
    headers = {"Authorization": f"Bearer {lines[0]}"}
    products = f"{stack.url('demand')}/api/v1/products"
    assert httpx.get(products, headers=headers).status_code == 200
    refused = httpx.post(
        products,
        json={"code": "VIEWER-1", "name": "Not mine", "family": "F", "category": "C"},
        headers=headers,
    )
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "viewer" not in refused.json()["required_roles"]


def test_make_token_refuses_an_unknown_role() -> None:
    made = _make_token("superuser")
    assert made.returncode == 2  # make's own code for a failed recipe...
    assert made.stdout == ""
    assert "unknown role 'superuser'" in made.stderr
    assert "demand_planner" in made.stderr  # ...which lists the roles there are
    module = subprocess.run(
        [sys.executable, "-m", "sop_shared.token", "superuser"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 2  # the module make runs exits 2 itself
    assert module.stdout == ""
