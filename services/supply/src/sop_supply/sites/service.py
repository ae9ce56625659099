"""Site use cases."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sop_shared.problems import Conflict, NotFound
from sop_supply.sites.models import Site
from sop_supply.sites.repository import SiteRepository
from sop_supply.sites.schemas import SiteCreate, SitePage, SiteRead


def create_site(session: Session, *, data: SiteCreate) -> Site:
    repo = SiteRepository(session)
    if repo.get_by(code=data.code) is not None:
        raise Conflict(f"Site {data.code!r} already exists.", code="site-exists")
    site = repo.add(Site(**data.model_dump()))
    session.flush()
    return site


def get_site(session: Session, *, code: str) -> Site:
    site = SiteRepository(session).get_by(code=code)
    if site is None:
        raise NotFound(f"Site {code!r} does not exist.")
    return site


def list_sites(session: Session, *, limit: int, offset: int) -> SitePage:
    rows, total = SiteRepository(session).list_page(
        select(Site), order_by=col(Site.code), limit=limit, offset=offset
    )
    return SitePage(
        items=[SiteRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
