"""httpx clients for calls between services: explicit timeouts, retries on transient
failures, the request id and trace context passed along, and upstream problems
mapped back to ``DomainError`` so the caller answers with a proper problem too.

Never call another service inside an open database transaction (STYLE §2).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from sop_shared.auth import create_token
from sop_shared.logging import current_request_id
from sop_shared.problems import DomainError, NotFound, UpstreamUnavailable, ValidationFailed
from sop_shared.settings import AuthSettings
from sop_shared.tracing import current_traceparent

TIMEOUT = httpx.Timeout(connect=3.0, read=60.0, write=30.0, pool=5.0)
RETRY_STATUSES = {502, 503, 504}


class ServiceClient:
    """A client for one peer service, authenticated as ``integration``."""

    def __init__(
        self,
        base_url: str,
        auth: AuthSettings,
        *,
        caller: str,
        attempts: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.caller = caller
        self.attempts = attempts
        self._client = httpx.Client(base_url=self.base_url, timeout=TIMEOUT, transport=transport)

    def _headers(self) -> dict[str, str]:
        token = create_token(
            self.auth, subject=f"service:{self.caller}", roles=["integration"], ttl_seconds=600
        )
        headers = {"Authorization": f"Bearer {token}", "User-Agent": f"sop-{self.caller}"}
        if rid := current_request_id():
            headers["X-Request-ID"] = rid
        if tp := current_traceparent():
            headers["traceparent"] = tp
        return headers

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                response = self._client.request(method, path, headers=self._headers(), **kwargs)
            except httpx.InvalidURL as exc:
                raise ValidationFailed(f"Not a usable identifier in {path!r}: {exc}") from exc
            except httpx.TransportError as exc:
                last = exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    return _raise_for_problem(response)
                last = UpstreamUnavailable(f"{self.base_url}{path} answered {response.status_code}")
            time.sleep(min(0.25 * 2**attempt, 3.0))
        raise UpstreamUnavailable(
            f"{self.base_url}{path} is unavailable: {last}", code="upstream-unavailable"
        )

    def get_json(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params=params).json()

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self._send("POST", path, json=body, **kwargs).json()

    @contextmanager
    def open(self, path: str, **params: Any) -> Iterator[io.BufferedReader]:
        """The response body as a binary file read while it arrives (``pandas.read_csv``
        takes it as is), so a plan of millions of lines is never one bytes object."""
        try:
            with self._client.stream(
                "GET", path, params=params, headers=self._headers()
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_problem(response)
                yield io.BufferedReader(_ChunkReader(response.iter_bytes()), 1 << 20)
        except httpx.InvalidURL as exc:
            raise ValidationFailed(f"Not a usable identifier in {path!r}: {exc}") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"{self.base_url}{path} is unavailable: {exc}") from exc

    def iter_jsonl(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Stream JSON lines (``?format=jsonl``) without holding the whole plan in memory."""
        with self.open(path, **{**params, "format": "jsonl"}) as body:
            for line in body:
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ChunkReader(io.RawIOBase):
    """A raw, read-only file over an iterator of byte chunks (an httpx response body)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def _raise_for_problem(response: httpx.Response) -> httpx.Response:
    if response.status_code < 400:
        return response
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    detail = f"upstream {response.request.url.path}: {body.get('detail') or body.get('title') or response.status_code}"
    if response.status_code == 404:
        raise NotFound(detail, code=body.get("code", "not-found"))
    error = DomainError(
        detail, code=body.get("code", "upstream-error"), title=body.get("title", "Upstream error")
    )
    error.status = response.status_code if response.status_code < 500 else 502
    raise error
