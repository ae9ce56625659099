from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from sop_shared.auth import Role, decode_token
from sop_shared.logging import JsonFormatter, redact, reset_request_id, set_request_id
from sop_shared.settings import (
    AuthSettings,
    KafkaSettings,
    PlatformSettings,
    ServiceSettings,
    load_env_file,
)


def test_sqlite_file_under_the_data_folder_by_default(tmp_path) -> None:
    settings = ServiceSettings(service_name="demand", platform=PlatformSettings(data_dir=tmp_path))
    assert settings.database_url == f"sqlite:///{tmp_path / 'demand.db'}"
    assert settings.topic == "sop.demand.v1"


def test_common_settings_come_from_sop_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("SOP_SUPPLY_URL", "http://supply:8000")
    settings = ServiceSettings(service_name="demand")
    assert settings.kafka.bootstrap_servers == "broker:9092"
    assert settings.urls.supply_url == "http://supply:8000"


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="SOP_AUTH_JWT_SECRET"):
        ServiceSettings(platform=PlatformSettings(env="production"))
    with pytest.raises(ValidationError, match="not random enough"):
        ServiceSettings(
            platform=PlatformSettings(env="production"), auth=AuthSettings(jwt_secret="x" * 40)
        )
    ok = ServiceSettings(
        platform=PlatformSettings(env="production"),
        auth=AuthSettings(jwt_secret=secrets.token_urlsafe(40)),
    )
    assert ok.platform.env == "production"


def test_logs_are_json_with_request_id_and_no_secrets() -> None:
    token = set_request_id("req-42")
    try:
        record = logging.LogRecord(
            "t", logging.INFO, "f", 1, "auth Bearer eyJabc.def.ghi password=hunter2", None, None
        )
        entry = json.loads(JsonFormatter("demand").format(record))
    finally:
        reset_request_id(token)
    assert entry["request_id"] == "req-42"
    assert entry["service"] == "demand"
    assert "eyJabc" not in entry["message"]
    assert "hunter2" not in entry["message"]


def test_redact_keeps_ordinary_text() -> None:
    assert redact("plan 2026-12 submitted by ann") == "plan 2026-12 submitted by ann"


def test_env_file_settings_reach_every_settings_class_and_never_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SOP_KAFKA_BOOTSTRAP_SERVERS=10.0.0.9:9092\nSOP_AUTH_ISSUER=from-file\nSOP_ENV=test\n"
    )
    monkeypatch.setenv("SOP_ENV", "production")  # already set: the file does not win
    for name in ("SOP_KAFKA_BOOTSTRAP_SERVERS", "SOP_AUTH_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    loaded = load_env_file(env_file)
    try:
        assert sorted(loaded) == ["SOP_AUTH_ISSUER", "SOP_KAFKA_BOOTSTRAP_SERVERS"]
        assert KafkaSettings().bootstrap_servers == "10.0.0.9:9092"
        assert AuthSettings().issuer == "from-file"
        assert PlatformSettings().env == "production"
    finally:
        for name in loaded:
            os.environ.pop(name, None)


def test_make_token_signs_with_the_secret_of_the_env_file(tmp_path: Path) -> None:
    """``make token`` must print a token the stack accepts when .env sets the secret."""
    secret = "s" * 40
    (tmp_path / ".env").write_text(f"SOP_AUTH_JWT_SECRET={secret}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOP_")}
    out = subprocess.run(
        [sys.executable, "-m", "sop_shared.token", "viewer"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    caller = decode_token(AuthSettings(jwt_secret=secret), out)
    assert caller.roles == {Role.viewer}


def test_the_suite_never_reads_a_developers_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("SOP_AUTH_ISSUER=from-a-developers-file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOP_AUTH_ISSUER", raising=False)
    assert load_env_file() == []  # the test plugin points SOP_ENV_FILE at nothing
    assert AuthSettings().issuer == "sop-platform"
