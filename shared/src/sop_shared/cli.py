"""``sop``: the operators' and integrators' command line.

Load a file into any bulk endpoint (with a progress bar and an Idempotency-Key),
mint a token, start a run and follow its job, export plan lines to CSV or Excel.
"""

from __future__ import annotations

import csv
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from sop_shared.auth import Role, create_token
from sop_shared.settings import AuthSettings, ServiceUrls, load_env_file


def _read_env_file() -> None:
    """The stack's secret and URLs from ``.env``, like every other entry point."""
    load_env_file()


app = typer.Typer(help="S&OP platform command line", no_args_is_help=True, callback=_read_env_file)

ServiceOpt = Annotated[
    str, typer.Option("--service", "-s", help="demand, supply, capacity or cycle")
]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", envvar="SOP_TOKEN", help="bearer token (default: mint one locally)"),
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", help="base URL of the service (default: from SOP_<SVC>_URL)")
]

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".json": "application/json",
}


def _base(service: str, url: str | None) -> str:
    if url:
        return url.rstrip("/")
    urls = ServiceUrls()
    try:
        return str(getattr(urls, f"{service}_url")).rstrip("/")
    except AttributeError:
        raise typer.BadParameter(f"unknown service {service!r}") from None


def _headers(token: str | None, role: str = "admin") -> dict[str, str]:
    token = token or create_token(AuthSettings(), subject="sop-cli", roles=[role])
    return {"Authorization": f"Bearer {token}"}


def _fail(response: httpx.Response) -> None:
    try:
        problem = response.json()
    except ValueError:
        problem = {"detail": response.text}
    typer.secho(
        f"{response.status_code} {problem.get('title', '')}: {problem.get('detail', '')}",
        fg="red",
        err=True,
    )
    for error in (problem.get("errors") or [])[:20]:
        where = f"row {error['row']}, " if error.get("row") else ""
        typer.secho(f"  {where}{error.get('field')}: {error.get('message')}", fg="red", err=True)
    raise typer.Exit(1)


@app.command()
def token(
    role: Annotated[Role, typer.Argument(help="role to put in the token")],
    subject: str = "sop-cli",
    ttl: int = 8 * 3600,
) -> None:
    """Print a bearer token the local stack accepts (signed with SOP_AUTH_JWT_SECRET)."""
    typer.echo(create_token(AuthSettings(), subject=subject, roles=[role.value], ttl_seconds=ttl))


@app.command()
def load(
    path: Annotated[str, typer.Argument(help="bulk endpoint, e.g. /api/v1/sales-history:bulk")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV, JSON lines or JSON array")
    ],
    service: ServiceOpt = "demand",
    token: TokenOpt = None,
    url: UrlOpt = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="default: derived from the file's content")
    ] = None,
) -> None:
    """Upload a file to a bulk endpoint, all-or-nothing; a retry with the same key applies once."""
    content_type = CONTENT_TYPES.get(file.suffix.lower(), "text/csv")
    size = file.stat().st_size
    key = (
        idempotency_key
        or f"cli-{uuid.uuid5(uuid.NAMESPACE_URL, f'{path}:{file.stat().st_mtime_ns}:{size}:{file.name}')}"
    )

    def chunks() -> Iterator[bytes]:
        with (
            file.open("rb") as handle,
            typer.progressbar(length=size, label=f"uploading {file.name}") as bar,
        ):
            while chunk := handle.read(1 << 20):
                bar.update(len(chunk))
                yield chunk

    response = httpx.post(
        _base(service, url) + path,
        content=chunks(),
        headers={
            **_headers(token),
            "Content-Type": content_type,
            "Content-Length": str(size),
            "Idempotency-Key": key,
        },
        timeout=httpx.Timeout(600.0, connect=5.0),
    )
    if response.status_code >= 400:
        _fail(response)
    typer.echo(json.dumps(response.json(), indent=2))


def _follow(base: str, headers: dict[str, str], job_url: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with typer.progressbar(length=100, label="running") as bar:
        shown = 0
        while True:
            job = httpx.get(
                base + job_url if job_url.startswith("/") else job_url, headers=headers
            ).json()
            progress = int(100 * float(job.get("progress") or 0))
            bar.update(max(progress - shown, 0))
            shown = max(shown, progress)
            if job.get("state") in ("succeeded", "failed"):
                return job
            if time.monotonic() > deadline:
                raise typer.Exit(2)
            time.sleep(0.5)


@app.command()
def run(
    path: Annotated[str, typer.Argument(help="run endpoint, e.g. /api/v1/forecast-runs")],
    body: Annotated[str, typer.Option(help="JSON body")] = "{}",
    service: ServiceOpt = "demand",
    token: TokenOpt = None,
    url: UrlOpt = None,
    follow: bool = True,
    timeout: float = 1800.0,
) -> None:
    """Start a forecast or plan run (202 + job) and follow its progress to the end."""
    base = _base(service, url)
    headers = _headers(token)
    response = httpx.post(base + path, json=json.loads(body), headers=headers, timeout=60)
    if response.status_code >= 400:
        _fail(response)
    job_url = response.headers.get("Location") or f"/api/v1/jobs/{response.json()['id']}"
    if not follow:
        typer.echo(job_url)
        return
    job = _follow(base, headers, job_url, timeout)
    typer.echo(json.dumps(job, indent=2, default=str))
    if job["state"] != "succeeded":
        raise typer.Exit(1)


@app.command()
def export(
    path: Annotated[
        str, typer.Argument(help="lines endpoint, e.g. /api/v1/supply-plans/<id>/lines")
    ],
    out: Annotated[Path, typer.Argument(help="output file: .csv or .xlsx")],
    service: ServiceOpt = "supply",
    token: TokenOpt = None,
    url: UrlOpt = None,
) -> None:
    """Export plan lines (streamed as JSON lines) to CSV or Excel."""
    rows = 0
    with httpx.stream(
        "GET",
        _base(service, url) + path,
        params={"format": "jsonl"},
        headers=_headers(token),
        timeout=httpx.Timeout(600.0, connect=5.0),
    ) as response:
        if response.status_code >= 400:
            response.read()
            _fail(response)
        records = (json.loads(line) for line in response.iter_lines() if line.strip())
        rows = (
            _write_xlsx(records, out) if out.suffix.lower() == ".xlsx" else _write_csv(records, out)
        )
    typer.echo(f"{rows} rows written to {out}")


def _write_csv(records: Iterator[dict[str, Any]], out: Path) -> int:
    count = 0
    with out.open("w", newline="") as handle:
        writer: csv.DictWriter[str] | None = None
        for record in records:
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(record))
                writer.writeheader()
            writer.writerow(record)
            count += 1
    return count


def _write_xlsx(records: Iterator[dict[str, Any]], out: Path) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("lines")
    count = 0
    columns: list[str] = []
    for record in records:
        if not columns:
            columns = list(record)
            sheet.append(columns)
        sheet.append([record.get(c) for c in columns])
        count += 1
    book.save(out)
    return count


dead_letters = typer.Typer(
    help="Events a service's consumers could not apply (bad payload, domain rule, bug)",
    no_args_is_help=True,
)
app.add_typer(dead_letters, name="dead-letters")


@dead_letters.command("list")
def list_dead_letters(
    service: ServiceOpt,
    token: TokenOpt = None,
    url: UrlOpt = None,
    include_replayed: Annotated[bool, typer.Option(help="also those replayed already")] = False,
) -> None:
    """List the dead letters of a service with their reason and error."""
    response = httpx.get(
        _base(service, url) + "/api/v1/dead-letters",
        params={"include_replayed": include_replayed, "limit": 1000},
        headers=_headers(token),
        timeout=30,
    )
    if response.status_code >= 400:
        _fail(response)
    page = response.json()
    for item in page["items"]:
        state = "replayed" if item["replayed_at"] else "pending"
        typer.echo(
            f"{item['id']:>6}  {state:<8} {item['consumer']:<24} {item['event_type'] or '-':<32} "
            f"{item['reason']}: {item['replay_error'] or item['error']}"
        )
    typer.echo(f"{page['total']} dead letter(s)")


@dead_letters.command("replay")
def replay_dead_letters(
    service: ServiceOpt,
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="dead letter id (repeat); all if none")
    ] = None,
    consumer: Annotated[str | None, typer.Option(help="only this consumer's")] = None,
    token: TokenOpt = None,
    url: UrlOpt = None,
) -> None:
    """Re-apply dead letters once their cause is fixed; exits 1 if any still fails."""
    response = httpx.post(
        _base(service, url) + "/api/v1/dead-letters/replay",
        json={"ids": ids or None, "consumer": consumer},
        headers=_headers(token),
        timeout=600,
    )
    if response.status_code >= 400:
        _fail(response)
    answer = response.json()
    for result in answer["results"]:
        typer.echo(
            f"{result['id']:>6}  {result['outcome']:<9} {result['consumer']} "
            f"{result['event_id'] or ''} {result['error'] or ''}".rstrip()
        )
    typer.echo(f"{len(answer['results'])} replayed, {answer['pending']} still pending")
    if any(r["outcome"] == "failed" for r in answer["results"]):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
