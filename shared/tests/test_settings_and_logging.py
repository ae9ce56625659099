from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from sop_shared.logging import JsonFormatter, redact, reset_request_id, set_request_id
from sop_shared.settings import AuthSettings, PlatformSettings, ServiceSettings


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
    ok = ServiceSettings(
        platform=PlatformSettings(env="production"), auth=AuthSettings(jwt_secret="x" * 40)
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
