"""Every service: upgrade head → downgrade base → upgrade head, then no autogenerate drift.

Each service is checked in its own process so one service's models never leak
into another's metadata (SQLModel registers every table in one global registry).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sop_shared.devstack import SERVICES
from sop_shared.testing import create_database, drop_database, postgres_admin_url

ROOT = Path(__file__).resolve().parents[1]


def _round_trip(service: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, f"SOP_{service.upper()}_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "sop_shared.migrations", str(ROOT / "services" / service), url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("service", list(SERVICES))
def test_migrations_round_trip_without_drift(
    service: str, backend: str, tmp_path: Path, monkeypatch
) -> None:
    if backend == "postgresql" and postgres_admin_url() is None:
        pytest.skip("set SOP_TEST_DATABASE_URL to run against PostgreSQL (CI does)")
    if backend == "sqlite":
        monkeypatch.delenv("SOP_TEST_DATABASE_URL", raising=False)
    url = create_database(f"mig_{service}", tmp_path)
    try:
        result = _round_trip(service, url)
        assert result.returncode == 0, (
            f"{service} migrations on {backend}:\n{result.stderr[-4000:]}"
        )
    finally:
        drop_database(url)


def test_replicas_starting_together_migrate_once(tmp_path: Path) -> None:
    """Three processes upgrade one fresh PostgreSQL database at the same moment (replicas of
    a service starting together): all succeed and the schema is at head. Checked that it can
    fail: without the advisory lock in ``run_env`` the others fail on the tables the first one
    is creating (duplicate key in pg_type / relation already exists)."""
    if postgres_admin_url() is None:
        pytest.skip("set SOP_TEST_DATABASE_URL to run against PostgreSQL (CI does)")
    url = create_database("mig_race", tmp_path)
    env = {**os.environ, "SOP_DEMAND_DATABASE_URL": url}
    code = (
        "import sys; from pathlib import Path; from sop_shared.migrations import upgrade; "
        "upgrade(Path(sys.argv[1]), sys.argv[2])"
    )
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(ROOT / "services" / "demand"), url],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [(p.wait(timeout=240), p.stderr.read() if p.stderr else "") for p in procs]
        assert all(rc == 0 for rc, _ in results), [err[-1500:] for rc, err in results if rc]
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from sop_shared.migrations import check; "
                "check(Path(sys.argv[1]), sys.argv[2])",
                str(ROOT / "services" / "demand"),
                url,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stderr[-2000:]
    finally:
        drop_database(url)
