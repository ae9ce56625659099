"""FastAPI dependencies every service uses: the request's session and settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from sop_shared.auth import Caller, current_caller
from sop_shared.settings import ServiceSettings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the route returns.

    ``scope="function"`` (below) runs the commit before the response is sent, so a
    failed commit surfaces as a problem response, not as a 200 already on the wire.
    GET and HEAD read through ``read_only`` (on SQLite: no write lock taken).
    """
    reads = request.method in ("GET", "HEAD")
    engine = request.app.state.read_engine if reads else request.app.state.engine
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_jobs(request: Request) -> Any:
    """The process's ``JobRunner`` (typed ``Any``: jobs' routes import this module)."""
    return request.app.state.jobs


def get_settings_dep(request: Request) -> Any:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings_dep)]
CallerDep = Annotated[Caller, Depends(current_caller)]
JobsDep = Annotated[Any, Depends(get_jobs)]
