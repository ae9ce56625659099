"""pytest fixtures every service's tests use (load with ``pytest_plugins``).

Databases: PostgreSQL when ``SOP_TEST_DATABASE_URL`` is set (a fresh database is
created per test session and service, then dropped), SQLite otherwise. Schemas
are always built with ``alembic upgrade head``, never ``create_all``. Each test
runs inside an outer transaction that is rolled back (``create_savepoint``).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from sop_shared.auth import create_token
from sop_shared.broker import EmbeddedBroker
from sop_shared.db import make_engine
from sop_shared.migrations import upgrade
from sop_shared.settings import AuthSettings, KafkaSettings

# The suite never reads a developer's .env (its secret or database URLs would reach the
# stacks the tests start through `make run` and `make token`); subprocesses inherit this.
os.environ["SOP_ENV_FILE"] = os.devnull


def postgres_admin_url() -> str | None:
    return os.environ.get("SOP_TEST_DATABASE_URL") or None


def create_database(prefix: str, tmp_dir: Path) -> str:
    """A new empty database: PostgreSQL if configured, else a SQLite file in ``tmp_dir``."""
    admin = postgres_admin_url()
    if admin is None:
        return f"sqlite:///{tmp_dir / (prefix + '-' + uuid.uuid4().hex[:8] + '.db')}"
    name = f"sop_test_{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_psycopg_dsn(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(_sqlalchemy_url(admin)).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    admin = postgres_admin_url()
    assert admin is not None
    name = make_url(url).database
    with psycopg.connect(_psycopg_dsn(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _psycopg_dsn(url: str) -> str:
    return (
        make_url(_sqlalchemy_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Bounded polling for asynchronous outcomes (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """The embedded Kafka-protocol broker, started once per test session."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture(scope="session")
def kafka_settings(broker: EmbeddedBroker) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=broker.bootstrap, relay_idle_seconds=0.05)


@pytest.fixture(scope="session")
def database_url(service_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this test session (PostgreSQL or SQLite)."""
    url = create_database(service_dir.name, tmp_path_factory.mktemp("db"))
    upgrade(service_dir, url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def auth_settings() -> AuthSettings:
    return AuthSettings()


@pytest.fixture
def token(auth_settings: AuthSettings) -> Callable[..., dict[str, str]]:
    """``token("demand_planner")`` → Authorization header for that role."""

    def _make(*roles: str, subject: str = "tester", **kwargs: Any) -> dict[str, str]:
        jwt = create_token(auth_settings, subject=subject, roles=list(roles), **kwargs)
        return {"Authorization": f"Bearer {jwt}"}

    return _make


@pytest.fixture
def client(app_factory: Callable[..., Any], session: Session, database_url: str) -> Iterator[Any]:
    """A TestClient on the service app whose requests run in the test's rolled-back transaction."""
    from fastapi.testclient import TestClient

    from sop_shared.deps import get_session

    app = app_factory(database_url=database_url, migrate_on_start=False, run_workers=False)

    def _session() -> Iterator[Session]:
        try:
            yield session
            session.commit()  # releases the savepoint; the outer transaction still rolls back
        except BaseException:
            session.rollback()
            raise

    app.dependency_overrides[get_session] = _session
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


class TcpProxy:
    """A loopback TCP forwarder a test can cut and restore, to simulate a database outage."""

    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        import socket as _socket

        self._socket = _socket
        self.target = (target_host, target_port)
        self.port = port or _free_port()
        self._server: Any = None
        self._conns: list[Any] = []
        self._running = False

    def start(self) -> TcpProxy:
        import threading

        server = self._socket.socket()
        server.setsockopt(self._socket.SOL_SOCKET, self._socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server, self._running = server, True
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        import threading

        while self._running:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._running:  # accepted from the backlog while stopping
                client.close()
                return
            try:
                upstream = self._socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self._conns += [client, upstream]
            if not self._running:  # stop() ran meanwhile: cut this pair too
                for conn in (client, upstream):
                    with contextlib.suppress(OSError):
                        conn.close()
                return
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: Any, dst: Any) -> None:
        import socket as _socket

        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):  # shutdown, not just close: the other direction's thread is
                with contextlib.suppress(OSError):  # blocked in recv() on the same socket,
                    s.shutdown(_socket.SHUT_RDWR)  # and close() alone would not send the FIN
                with contextlib.suppress(OSError):
                    s.close()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        self._running = False
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(self._socket.SHUT_RDWR)  # wakes the blocked accept()
            self._server.close()
        for conn in self._conns:
            try:
                conn.shutdown(self._socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass
        self._conns = []


def _free_port() -> int:
    from sop_shared.broker import free_port

    return free_port()
