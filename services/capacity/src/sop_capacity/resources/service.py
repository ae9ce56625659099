"""Resource use cases."""

from __future__ import annotations

from sqlmodel import Session

from sop_capacity.resources.models import Resource
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.resources.schemas import ResourceCreate, ResourcePage, ResourceRead
from sop_shared.problems import Conflict, NotFound


def create_resource(session: Session, *, data: ResourceCreate) -> Resource:
    repo = ResourceRepository(session)
    if repo.get_by(code=data.code) is not None:
        raise Conflict(f"Resource {data.code!r} already exists.", code="resource-exists")
    resource = repo.add(Resource(**data.model_dump()))
    session.flush()
    return resource


def get_resource(session: Session, *, code: str) -> Resource:
    resource = ResourceRepository(session).get_by(code=code)
    if resource is None:
        raise NotFound(f"Resource {code!r} does not exist.")
    return resource


def list_resources(session: Session, *, site: str | None, limit: int, offset: int) -> ResourcePage:
    rows, total = ResourceRepository(session).list_at(site=site, limit=limit, offset=offset)
    return ResourcePage(
        items=[ResourceRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
