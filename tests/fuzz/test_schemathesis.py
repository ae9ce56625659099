"""API fuzzing: schemathesis, every check and every phase (examples, coverage, fuzzing and
the stateful phase over the links it infers), against the four services running as
processes with their broker, on PostgreSQL when ``SOP_TEST_DATABASE_URL`` is set (CI).

No answer may be a 5xx, none may carry a status code or content type its operation does
not document, every answer must match its schema, invalid data must be refused, ``Allow``
must list the methods of a 405... (``st run --checks all``). Each service is fuzzed for a
fixed time budget (``FUZZ_SECONDS``, the four at once), which bounds the CI time.
Failed authentication is not rate-limited here (the ``ignored_auth`` check sends many
bad tokens on purpose); ``shared/tests/test_hardening.py`` shows the limit.

Checked that it can fail: before ``/metrics`` was documented as ``text/plain`` the run
reported ST105 (undocumented content type), and a JSON sales row with ``channel: ""``
reported ST201 until the schema documented the blank.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sop_shared.auth import create_token
from sop_shared.broker import free_port
from sop_shared.devstack import SERVICES, DevStack
from sop_shared.settings import AuthSettings
from sop_shared.testing import create_database, drop_database

pytestmark = [pytest.mark.fuzz, pytest.mark.e2e]

HERE = Path(__file__).resolve().parent
FUZZ_SECONDS = int(os.environ.get("SOP_FUZZ_SECONDS", "60"))
PHASES = "examples,coverage,fuzzing,stateful"


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    tmp = tmp_path_factory.mktemp("fuzz")
    urls = {name: create_database(f"fuzz_{name}", tmp) for name in SERVICES}
    stack = DevStack(
        data_dir=tmp,
        ports={name: free_port() for name in SERVICES},
        broker_port=free_port(),
        database_urls=urls,
        env={"SOP_ENV": "test", "SOP_LOG_LEVEL": "WARNING", "SOP_AUTH_FAILED_LIMIT": "0"},
        quiet=True,
    )
    try:
        with stack:
            yield stack
    finally:
        for url in urls.values():
            drop_database(url)


def test_no_server_error_and_every_answer_as_documented(
    fuzz_stack: DevStack, tmp_path: Path
) -> None:
    token = create_token(AuthSettings(), subject="fuzzer", roles=["admin"])
    runs = {}
    for service in SERVICES:
        report = tmp_path / f"{service}.xml"
        command = [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{fuzz_stack.url(service)}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            # Plans and forecast runs are made by jobs: POST /supply-plans, /production-plans
            # and /forecast-runs answer 202 with the job (Location: /api/v1/jobs/{id}). The
            # stateful phase infers a link from that POST to GET .../{plan_id} with the job's
            # id, which is no plan's, and reports its 404 as "created resource not found"
            # (ST302); schemathesis 4.32 has no per-operation switch that reaches the stateful
            # phase (tried), so this one check is off; every other check runs in every phase.
            "--exclude-checks",
            "ensure_resource_availability",
            "--phases",
            PHASES,
            "--max-examples",
            "10",
            "--max-time",
            str(FUZZ_SECONDS),
            "--workers",
            "1",
            "--seed",
            "18",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ]
        log = (tmp_path / f"{service}.log").open("w")
        runs[service] = (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log)
    failed = {}
    for service, (proc, log) in runs.items():
        code = proc.wait(timeout=FUZZ_SECONDS * 3 + 300)
        log.close()
        output = (tmp_path / f"{service}.log").read_text()
        assert "Tested: 0" not in output, output[-3000:]
        if code != 0:
            failed[service] = output[output.find("FAILURES") :][:20_000]
    assert not failed, "\n\n".join(f"== {s}\n{out}" for s, out in failed.items())
