from __future__ import annotations

from sop_shared.repository import Repository
from sop_supply.sites.models import Site


class SiteRepository(Repository[Site]):
    model = Site
