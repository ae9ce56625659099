"""``make run``: the embedded broker and the four services as processes on loopback.

A service that dies while the stack runs is restarted (``Supervisor``), with a line saying
so; the others and the broker keep running. Ctrl-C (SIGINT) or SIGTERM stops every process this started, also while it is still
starting: every wait of the start-up (broker, readiness, demo load) gives way to the stop
flag, and the program then exits quietly with 0. The same class starts the stack for the
end-to-end tests, on free ports and throw-away databases.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from sop_shared.auth import create_token
from sop_shared.broker import EmbeddedBroker
from sop_shared.settings import AuthSettings, PlatformSettings, load_env_file

SERVICES = {"demand": 8101, "supply": 8102, "capacity": 8103, "cycle": 8104}

T = TypeVar("T")


class Interrupted(Exception):
    """The stop flag was set (Ctrl-C, SIGTERM) while the stack was starting."""


@dataclass
class DevStack:
    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    broker_port: int = 19092
    database_urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    broker: EmbeddedBroker | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: Set by a signal handler: start-up waits give way to it (``Interrupted``).
    stop_event: threading.Event = field(default_factory=threading.Event)
    _helpers: dict[str, threading.Thread] = field(default_factory=dict, init=False, repr=False)

    def check_stop(self) -> None:
        if self.stop_event.is_set():
            raise Interrupted

    def until_stopped(self, work: Callable[[], T], name: str = "devstack-start") -> T:
        """``work()``'s result, or ``Interrupted`` as soon as the stop flag is set.

        For waits that cannot look at the flag themselves (a blocking HTTP call, the demo
        loader): ``work`` runs in a daemon thread that is left behind on interruption; it
        only talks to processes that are being stopped, and dies with this one.
        """
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # handed to the caller, never printed by the thread
                outcome["error"] = exc

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._helpers[name] = thread
        thread.start()
        while thread.is_alive():
            if self.stop_event.wait(0.1):
                raise Interrupted
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]  # type: ignore[no-any-return]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    def service_env(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env["SOP_KAFKA_BOOTSTRAP_SERVERS"] = self.bootstrap
        env["SOP_DATA_DIR"] = str(self.data_dir)
        for name, port in self.ports.items():
            env[f"SOP_{name.upper()}_PORT"] = str(port)
            env[f"SOP_{name.upper()}_URL"] = self.url(name)
            if name in self.database_urls:
                env[f"SOP_{name.upper()}_DATABASE_URL"] = self.database_urls[name]
        return env

    def start_broker(self) -> None:
        self.check_stop()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        broker = EmbeddedBroker(port=self.broker_port, log_path=self.data_dir / "broker.log")
        self.broker = broker
        # a broker killed by the same Ctrl-C would otherwise be waited for 20 s
        self.until_stopped(broker.start, name="broker-start")

    def stop_broker(self) -> None:
        if self.broker is None:
            return
        starting = self._helpers.get("broker-start")
        deadline = time.monotonic() + 10
        # interrupted between "start" and its Popen: wait for the process to exist, then stop it
        while (
            self.broker.process is None
            and starting is not None
            and starting.is_alive()
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        self.broker.stop()

    def start_service(self, name: str) -> None:
        self.check_stop()
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"sop_{name}"],
            env=self.service_env(),
            stdout=log,
            stderr=subprocess.STDOUT if self.quiet else None,
        )

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def wait_ready(self, names: list[str] | None = None, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        for name in names or list(self.ports):
            while True:
                self.check_stop()
                proc = self.processes.get(name)
                if proc is not None and proc.poll() is not None:
                    self.check_stop()  # a service that exited on the same Ctrl-C is no error
                    raise RuntimeError(
                        f"{name} exited with {proc.returncode}; see {self.data_dir / (name + '.log')}"
                    )
                try:
                    if httpx.get(self.url(name) + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout}s")
                if self.stop_event.wait(0.2):
                    raise Interrupted

    def start(self) -> DevStack:
        self.start_broker()
        for name in self.ports:
            self.start_service(name)
        self.wait_ready()
        return self

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_service(name)
        self.stop_broker()

    def __enter__(self) -> DevStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Supervisor:
    """Restarts a service of ``make run`` that dies, saying so on one clear line.

    The rest of the stack (and the memory-only broker with the chains in flight) keeps
    running. A service that keeps dying right after its start is restarted with a growing
    delay (up to a minute), so a broken one does not spin.
    """

    def __init__(self, stack: DevStack, out: Any) -> None:
        self.stack, self.out = stack, out
        self.restarts: dict[str, int] = {}
        self.started: dict[str, float] = dict.fromkeys(stack.processes, time.monotonic())
        self.due: dict[str, float] = {}

    def check(self) -> list[str]:
        """One look at every service: restart those that died (when their delay is over)."""
        restarted = []
        now = time.monotonic()
        for name, proc in list(self.stack.processes.items()):
            if proc.poll() is None or self.stack.stop_event.is_set():
                continue
            if name not in self.due:
                quick = now - self.started.get(name, 0.0) < 30
                count = self.restarts[name] = self.restarts.get(name, 0) + 1 if quick else 1
                delay = min(2.0 ** (count - 1), 60.0) if count > 1 else 0.0
                self.due[name] = now + delay
                self.out.write(
                    f"!! {name} died (exit code {proc.returncode}); restarting it"
                    f"{f' in {delay:.0f} s' if delay >= 1 else ''} (restart {count}); "
                    f"log: {self.stack.data_dir / (name + '.log')}\n"
                )
                self.out.flush()
            if now >= self.due[name]:
                del self.due[name]
                self.stack.start_service(name)
                self.started[name] = time.monotonic()
                restarted.append(name)
                self.out.write(f"   {name} restarted (pid {self.stack.processes[name].pid})\n")
                self.out.flush()
        return restarted


def load_demo(stack: DevStack, token: str) -> str | None:
    """Load the demo company through the public APIs, if the demo loader is installed."""
    try:
        demo = importlib.import_module("sop_cycle.demo")
    except ModuleNotFoundError:
        return None
    urls = {n: stack.url(n) for n in stack.ports}
    return str(stack.until_stopped(lambda: demo.load(urls, token), name="demo-load"))


def start_cycle(stack: DevStack, token: str, month: str, timeout: float = 900.0) -> str:
    """Run the forecast and submit the first demand plan of ``month``; returns its plan id.

    From there the supply and production plans follow by events alone. A month that already
    has a submitted (or approved) plan keeps it: a second ``make run`` on the same data
    must not replace the planners' work with a fresh version.
    """
    headers = {"Authorization": f"Bearer {token}"}
    demand = stack.url("demand") + "/api/v1"
    for status in ("approved", "submitted"):
        existing = httpx.get(
            f"{demand}/demand-plans",
            params={"cycle": month, "scenario": "base", "status": status, "limit": 1},
            headers=headers,
            timeout=30,
        )
        existing.raise_for_status()
        if items := existing.json()["items"]:
            return str(items[0]["id"])
    run = httpx.post(f"{demand}/forecast-runs", json={"cycle": month}, headers=headers, timeout=60)
    run.raise_for_status()
    deadline = time.monotonic() + timeout
    while True:
        job = httpx.get(
            stack.url("demand") + run.headers["Location"], headers=headers, timeout=30
        ).json()
        if job["state"] == "succeeded":
            break
        if job["state"] == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"forecast run did not succeed: {job.get('error') or job['state']}")
        if stack.stop_event.wait(1.0):
            raise Interrupted
    plan = httpx.post(
        f"{demand}/demand-plans",
        json={"cycle": month, "scenario": "base"},
        headers=headers,
        timeout=120,
    )
    plan.raise_for_status()
    plan_id = str(plan.json()["id"])
    submitted = httpx.post(
        f"{demand}/demand-plans/{plan_id}/submit",
        headers={**headers, "If-Match": plan.headers["ETag"]},
        timeout=120,
    )
    submitted.raise_for_status()
    return plan_id


def main() -> int:
    load_env_file()  # ports, secret, database URLs: the services inherit the environment
    platform = PlatformSettings()
    ports = {
        name: int(os.environ.get(f"SOP_{name.upper()}_PORT", port))
        for name, port in SERVICES.items()
    }
    broker_port = int(
        os.environ.get("SOP_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092").rpartition(":")[2]
    )
    stack = DevStack(data_dir=platform.data_dir, ports=ports, broker_port=broker_port, quiet=True)
    stop = stack.stop_event
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out = sys.stdout
    code = 0
    try:
        out.write(
            f"starting broker on {stack.bootstrap} and services (logs in {platform.data_dir})\n"
        )
        out.flush()
        stack.start()
        token = create_token(AuthSettings(), subject="dev-admin", roles=["admin"])
        demo = load_demo(stack, token) if os.environ.get("SOP_LOAD_DEMO", "1") == "1" else None
        if demo:
            month = time.strftime("%Y-%m")
            out.write(
                f"demo loaded; running the {month} forecast and submitting the demand plan...\n"
            )
            out.flush()
            plan_id = stack.until_stopped(lambda: start_cycle(stack, token, month), "demo-cycle")
            demo += (
                f"; demand plan {plan_id} submitted (supply and capacity plans follow by events)"
            )
        out.write("\nS&OP platform is up:\n")
        for name in stack.ports:
            out.write(f"  {name:<9} {stack.url(name)}   docs {stack.url(name)}/docs\n")
        out.write(f"  broker    {stack.bootstrap}\n")
        if demo:
            out.write(f"  demo      {demo}\n")
        out.write(f"\ndevelopment token (admin):\n{token}\n\nPress Ctrl-C to stop.\n")
        out.flush()
        supervisor = Supervisor(stack, out)
        while not stop.wait(1.0):
            supervisor.check()
    except Interrupted:
        out.write("interrupted while starting\n")
    finally:
        out.write("stopping...\n")
        out.flush()
        stack.stop()
        out.write("stopped\n")
        out.flush()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
