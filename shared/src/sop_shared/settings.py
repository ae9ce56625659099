"""Settings shared by every service (pydantic-settings only).

Common values (broker, token secret, service URLs) are read under ``SOP_``;
each service's own values under ``SOP_<SVC>_`` (see ``ServiceSettings``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "sop-local-development-secret-not-for-production"
ROOT = Path(__file__).resolve().parents[3]

#: Secrets written in the repository (defaults, examples, placeholders): public, so never a
#: production secret. ``tests/test_public_secrets.py`` scans the repository and fails when a
#: secret written there is missing from this list. The repository's own example files are
#: read as well when present (a source checkout), so an edited placeholder is refused too.
PUBLIC_SECRETS = frozenset(
    {
        DEV_SECRET,
        "change-me-to-32-or-more-random-characters",  # .env.example
        "CHANGE-ME",  # deploy/k8s/secret.example.yaml
    }
)
#: A production secret has at least this many distinct characters (``"x" * 40`` is not one).
MIN_SECRET_DISTINCT_CHARS = 10


def repository_secrets(root: Path = ROOT) -> set[str]:
    """``PUBLIC_SECRETS`` plus the JWT secrets of the example files under ``root``."""
    found = set(PUBLIC_SECRETS)
    example = root / ".env.example"
    if example.is_file():
        value = dotenv_values(example).get("SOP_AUTH_JWT_SECRET")
        if value:
            found.add(value)
    return found


def weak_secret_reason(secret: str) -> str | None:
    """Why ``secret`` may not sign production tokens, or None if it may."""
    if secret in repository_secrets():
        return "SOP_AUTH_JWT_SECRET is a value written in the repository; set a secret of your own"
    if len(secret) < 32:
        return "SOP_AUTH_JWT_SECRET must be at least 32 characters"
    if len(set(secret)) < MIN_SECRET_DISTINCT_CHARS:
        return "SOP_AUTH_JWT_SECRET is not random enough (too few distinct characters)"
    return None


class KafkaSettings(BaseSettings):
    """Broker connection; the consumer timings are low so groups join in ~3 s (STYLE §0)."""

    model_config = SettingsConfigDict(env_prefix="SOP_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:19092"
    enabled: bool = True
    partitions: int = 3
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    max_poll_interval_ms: int = 300000
    max_poll_records: int = 50
    request_timeout_ms: int = 10000
    delivery_timeout_ms: int = 15000
    relay_batch_size: int = 200
    relay_idle_seconds: float = 0.2
    consumer_max_attempts: int = 5
    #: The longest wait between retries while a consumer's database or peer is down.
    consumer_max_backoff_seconds: float = 5.0


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_AUTH_", extra="ignore")

    jwt_secret: str = DEV_SECRET
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    issuer: str = "sop-platform"
    token_ttl_seconds: int = 8 * 3600
    # Requests presenting an invalid token: after this many from one client address within
    # the window, answer 429 with Retry-After until the window passes (0: no limit).
    failed_limit: int = Field(default=30, ge=0)
    failed_window_seconds: float = Field(default=60.0, gt=0)


class ServiceUrls(BaseSettings):
    """Where the other services answer; used by REST calls between services."""

    model_config = SettingsConfigDict(env_prefix="SOP_", extra="ignore")

    demand_url: str = "http://127.0.0.1:8101"
    supply_url: str = "http://127.0.0.1:8102"
    capacity_url: str = "http://127.0.0.1:8103"
    cycle_url: str = "http://127.0.0.1:8104"


class PlatformSettings(BaseSettings):
    """Settings common to every service, under ``SOP_``."""

    model_config = SettingsConfigDict(env_prefix="SOP_", extra="ignore")

    env: Literal["local", "test", "production"] = "local"
    data_dir: Path = ROOT / "var"
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = 200 * 1024 * 1024
    # A running job whose runner has not beaten for this long was cut off (killed process,
    # lost host) and is marked failed by any replica; live runners beat every quarter of it.
    job_stale_seconds: float = Field(default=60.0, gt=0)
    # Database connections per process (PostgreSQL and file SQLite): a request that finds
    # none free within the timeout is answered 503 with Retry-After.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    db_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    # Browser origins allowed to call the API (CORS); empty (the default): none, closed.
    cors_origins: list[str] = Field(default_factory=list)
    # Starts of a job cut off that way before it is failed for good (with a job.failed event).
    job_max_attempts: int = Field(default=3, ge=1)


class ServiceSettings(BaseSettings):
    """Base of each ``<Svc>Settings``; subclasses set ``service_name`` and ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8100
    database_url: str = ""
    migrate_on_start: bool = True
    run_workers: bool = True
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    urls: ServiceUrls = Field(default_factory=ServiceUrls)

    @model_validator(mode="after")
    def _defaults_and_fail_fast(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.platform.data_dir / (self.service_name + '.db')}"
        if self.platform.env == "production":
            reason = weak_secret_reason(self.auth.jwt_secret)
            if reason:
                raise ValueError(reason)
        return self

    @property
    def topic(self) -> str:
        """The one topic this service produces to (ARCHITECTURE.md: one per domain)."""
        return f"sop.{self.service_name}.v1"


def load_env_file(path: str | os.PathLike[str] | None = None) -> list[str]:
    """Put the ``.env`` file's settings into this process's environment (variables already
    set win), so every settings class and every child process (``make run`` starts the
    services) sees them. Called by the developer's commands (``make run``, ``make token``,
    ``sop``), never on import; ``SOP_ENV_FILE`` names another file (the test suite points it
    at nothing, so a developer's ``.env`` never reaches the tests). Returns the names set."""
    path = path or os.environ.get("SOP_ENV_FILE", ".env")
    loaded = []
    for name, value in dotenv_values(path).items():
        if value is not None and name not in os.environ:
            os.environ[name] = value
            loaded.append(name)
    return loaded
