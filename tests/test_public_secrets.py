"""Production refuses any JWT secret written in the repository.

* Each of the four services, started as a process with ``SOP_ENV=production`` and the
  ``.env.example`` secret, exits with an error naming ``SOP_AUTH_JWT_SECRET`` and never
  answers (``shared/tests/test_settings_and_logging.py`` shows a random secret accepted).
* Every value assigned to ``SOP_AUTH_JWT_SECRET`` (or ``jwt_secret``) in a file of the
  repository outside the tests is refused by the production settings: a new placeholder
  in a compose file, manifest or README fails here until it is listed in
  ``sop_shared.settings.PUBLIC_SECRETS``.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from dotenv import dotenv_values

from sop_shared.broker import free_port
from sop_shared.devstack import SERVICES
from sop_shared.settings import AuthSettings, PlatformSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SECRET = dotenv_values(ROOT / ".env.example")["SOP_AUTH_JWT_SECRET"]
ASSIGNMENT = re.compile(
    r"""(?:SOP_AUTH_JWT_SECRET|jwt_secret)["']?\s*[:=]\s*["']?([^"'\s$<>{}()]+)["']?"""
)
SKIPPED_DIRS = {".git", ".venv", ".tools", "var", "tests", "node_modules", "__pycache__"}


def _start(service: str, secret: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "SOP_ENV": "production",
        "SOP_AUTH_JWT_SECRET": secret,
        f"SOP_{service.upper()}_DATABASE_URL": f"sqlite:///{tmp / service}.db",
        f"SOP_{service.upper()}_PORT": str(port),
        "SOP_KAFKA_ENABLED": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", f"sop_{service}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return proc, port


def test_production_start_refuses_the_env_example_secret(tmp_path: Path) -> None:
    assert EXAMPLE_SECRET
    started = {service: _start(service, EXAMPLE_SECRET, tmp_path)[0] for service in SERVICES}
    for service, proc in started.items():
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode != 0, (service, out.decode()[-2000:])
        assert b"SOP_AUTH_JWT_SECRET is a value written in the repository" in out, (
            service,
            out[-2000:],
        )
        assert EXAMPLE_SECRET.encode() not in out  # the secret itself is not printed


def _repository_secrets() -> dict[str, str]:
    """Each secret literal assigned in the repository (tests excluded) -> where."""
    found: dict[str, str] = {}
    for path in ROOT.rglob("*"):
        if any(part in SKIPPED_DIRS for part in path.relative_to(ROOT).parts):
            continue
        if not path.is_file() or path.stat().st_size > 1_000_000:
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for match in ASSIGNMENT.finditer(text):
            found.setdefault(match.group(1), str(path.relative_to(ROOT)))
    return found


def test_every_secret_written_in_the_repository_is_refused_in_production() -> None:
    written = _repository_secrets()
    assert EXAMPLE_SECRET in written  # the scan sees .env.example
    accepted = []
    for value, where in written.items():
        try:
            ServiceSettings(
                platform=PlatformSettings(env="production"), auth=AuthSettings(jwt_secret=value)
            )
        except ValueError:
            continue
        accepted.append((where, value))
    assert accepted == []
    ServiceSettings(  # the control: a secret of one's own is accepted
        platform=PlatformSettings(env="production"),
        auth=AuthSettings(jwt_secret=secrets.token_urlsafe(48)),
    )
