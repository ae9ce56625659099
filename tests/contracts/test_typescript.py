"""Front-end proof: TypeScript types generated from the committed OpenAPI documents compile.

deploy/typescript is a tiny npm project (openapi-typescript + typescript, pinned and locked).
The test installs it (`npm ci`, skipped while node_modules matches package-lock.json), writes
generated/<service>.ts from deploy/contracts/<service>.openapi.json, type-checks client.ts
against them (`tsc --noEmit`) and proves the check has teeth: a file reading a member the
contract lacks must fail to compile.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "deploy" / "typescript"
CONTRACTS = ROOT / "deploy" / "contracts"
GENERATED = PROJECT / "generated"
SERVICES = ("demand", "supply", "capacity", "cycle")
BIN = PROJECT / "node_modules" / ".bin"
STAMP = PROJECT / "node_modules" / ".sop-installed"

# quiet, offline-friendly npm: no audit, fund or update checks
ENV = {
    **os.environ,
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_update_notifier": "false",
    "NO_COLOR": "1",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed: the TypeScript contract check needs Node.js 20 and npm"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must run it)")
        pytest.skip(message)
    return path


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=PROJECT, env=ENV, capture_output=True, text=True, timeout=timeout, check=False
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    # tsc reports on stdout, npm and openapi-typescript on stderr: show both
    return f"$ {' '.join(result.args)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def _install_fingerprint(node: str) -> str:
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    digest = hashlib.sha256(version.stdout.encode())
    for name in ("package.json", "package-lock.json"):
        digest.update((PROJECT / name).read_bytes())
    return digest.hexdigest()


def _npm_ci(node: str, npm: str) -> None:
    """`npm ci`, unless node_modules was installed from this very lock file and Node."""
    fingerprint = _install_fingerprint(node)
    binaries = [BIN / "tsc", BIN / "openapi-typescript"]
    if STAMP.exists() and STAMP.read_text() == fingerprint and all(b.exists() for b in binaries):
        return
    result = _run([npm, "ci", "--no-audit", "--no-fund"], timeout=240)
    assert result.returncode == 0, _output(result)
    STAMP.write_text(fingerprint)


def _generate() -> None:
    """openapi-typescript for the four services, in parallel (each is a Node start-up).

    The locked binaries are run directly (what `npx openapi-typescript` resolves to, without
    npx's start-up or any chance of it fetching a package)."""
    GENERATED.mkdir(exist_ok=True)
    commands = [
        [
            str(BIN / "openapi-typescript"),
            f"../contracts/{svc}.openapi.json",
            "-o",
            f"generated/{svc}.ts",
        ]
        for svc in SERVICES
    ]
    running = [
        subprocess.Popen(
            command,
            cwd=PROJECT,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    failures = []
    for command, process in zip(commands, running, strict=True):
        stdout, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(f"$ {' '.join(command)}\n{stdout[-4000:]}\n{stderr[-4000:]}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def tsc() -> str:
    """Installs the project, generates the types and answers the path of the locked tsc."""
    node, npm = _tool("node"), _tool("npm")
    _npm_ci(node, npm)
    _generate()
    return str(BIN / "tsc")


def test_types_are_generated_for_every_service(tsc: str) -> None:
    for svc in SERVICES:
        assert (CONTRACTS / f"{svc}.openapi.json").exists()
        text = (GENERATED / f"{svc}.ts").read_text()
        assert "export interface paths" in text, svc
        assert '"/api/v1/jobs/{job_id}"' in text, svc
        assert "ProblemDetails" in text, svc


def test_client_type_checks_against_the_contracts(tsc: str) -> None:
    result = _run([tsc, "--noEmit", "-p", "."])
    assert result.returncode == 0, _output(result)


def test_type_check_rejects_a_member_the_contract_lacks(tsc: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="negative-", dir=GENERATED))
    try:
        (work / "tsconfig.json").write_text(
            '{"extends": "../../tsconfig.json", "include": ["bad.ts"]}\n'
        )
        (work / "bad.ts").write_text(
            'import type { components, paths } from "../demand";\n'
            'declare const product: components["schemas"]["ProductRead"];\n'
            "export const missing: unknown = product.no_such_field;\n"
            "export const fine: string = product.code;\n"
            'export type MissingPath = paths["/api/v1/no-such-path"];\n'
        )
        result = _run([tsc, "--noEmit", "-p", str(work.relative_to(PROJECT))])
        assert result.returncode != 0, "tsc accepted a property the contract lacks"
        errors = [line for line in result.stdout.splitlines() if "error TS" in line]
        assert any("bad.ts(3," in e and "TS2339" in e and "'no_such_field'" in e for e in errors), (
            _output(result)
        )
        assert any("bad.ts(5," in e and "TS2339" in e and "no-such-path" in e for e in errors), (
            _output(result)
        )
        # the valid line compiles: the failure is the missing members, nothing else
        assert len(errors) == 2, _output(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
