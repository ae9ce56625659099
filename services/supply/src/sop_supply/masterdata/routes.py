"""Bulk feeds (CSV, JSON lines or a JSON array; all-or-nothing; Idempotency-Key) and pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.datastatus import DataStatus
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses
from sop_shared.types import Month
from sop_supply.masterdata import service
from sop_supply.masterdata.models import (
    BomLine,
    Contract,
    InventorySnapshot,
    ItemSite,
    Material,
    OpenSupply,
    Supplier,
)
from sop_supply.masterdata.schemas import (
    BomPage,
    BomRow,
    BulkResult,
    ContractPage,
    ContractRow,
    InventoryPage,
    InventoryRow,
    ItemSitePage,
    ItemSiteRow,
    MaterialPage,
    MaterialRow,
    OpenSupplyPage,
    OpenSupplyRow,
    SupplierPage,
    SupplierRow,
    SupplyBudgetPage,
    SupplyBudgetRow,
)

router = APIRouter(responses=problem_responses(401, 403, 422))

WRITERS = (Role.supply_planner, Role.integration)
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
BULK = {
    "status_code": 200,
    "response_model": BulkResult,
    "responses": problem_responses(409, 413),
    "dependencies": [require_roles(*WRITERS)],
}
BULK_DOC = (
    "Body: a JSON array (or {items: [...]}), JSON lines or CSV with a header row. Every row "
    "is validated; one bad row refuses the whole batch (a problem document names each row "
    "and column) and nothing is written. Retries with the same Idempotency-Key are applied once."
)


def _upload(request: Request, body: bytes, key: str | None) -> service.Upload:
    return service.Upload(
        body=body, content_type=request.headers.get("content-type"), idempotency_key=key
    )


# --- materials -------------------------------------------------------------------------------


@router.post(
    "/materials/bulk",
    tags=["materials"],
    summary="Load purchased materials (upsert by code)",
    description=BULK_DOC,
    openapi_extra=bulk_openapi(MaterialRow),
    **BULK,
)
def ingest_materials(
    request: Request, body: RawBody, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> BulkResult:
    return service.ingest_materials(session, upload=_upload(request, body, idempotency_key))


@router.get(
    "/materials",
    tags=["materials"],
    response_model=MaterialPage,
    dependencies=[require_roles(*READ_ROLES)],
)
def list_materials(
    session: SessionDep, family: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> Any:
    return service.list_page(
        session,
        Material,
        MaterialPage,
        filters={"family": family},
        order_by=["code"],
        limit=limit,
        offset=offset,
    )


# --- suppliers -------------------------------------------------------------------------------


@router.post(
    "/suppliers/bulk",
    tags=["suppliers"],
    summary="Load suppliers (upsert by code)",
    description=BULK_DOC,
    openapi_extra=bulk_openapi(SupplierRow),
    **BULK,
)
def ingest_suppliers(
    request: Request, body: RawBody, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> BulkResult:
    return service.ingest_suppliers(session, upload=_upload(request, body, idempotency_key))


@router.get(
    "/suppliers",
    tags=["suppliers"],
    response_model=SupplierPage,
    dependencies=[require_roles(*READ_ROLES)],
)
def list_suppliers(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> Any:
    return service.list_page(
        session,
        Supplier,
        SupplierPage,
        filters={},
        order_by=["code"],
        limit=limit,
        offset=offset,
    )


# --- item-sites ------------------------------------------------------------------------------


@router.post(
    "/item-sites/bulk",
    tags=["item-sites"],
    summary="Load item-site supply parameters (upsert by product and site)",
    description=BULK_DOC,
    openapi_extra=bulk_openapi(ItemSiteRow),
    **BULK,
)
def ingest_item_sites(
    request: Request, body: RawBody, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> BulkResult:
    return service.ingest_item_sites(session, upload=_upload(request, body, idempotency_key))


@router.get(
    "/item-sites",
    tags=["item-sites"],
    response_model=ItemSitePage,
    dependencies=[require_roles(*READ_ROLES)],
)
def list_item_sites(
    session: SessionDep,
    product: str | None = None,
    site: str | None = None,
    make_or_buy: Literal["make", "buy"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return service.list_page(
        session,
        ItemSite,
        ItemSitePage,
        filters={"product": product, "site": site, "make_or_buy": make_or_buy},
        order_by=["product", "site"],
        limit=limit,
        offset=offset,
    )


# --- inventory -------------------------------------------------------------------------------


@router.post(
    "/inventory/bulk",
    tags=["inventory"],
    summary="Load inventory snapshots (upsert by product, site and month)",
    description=BULK_DOC,
    openapi_extra=bulk_openapi(InventoryRow),
    **BULK,
)
def ingest_inventory(
    request: Request, body: RawBody, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> BulkResult:
    return service.ingest_inventory(session, upload=_upload(request, body, idempotency_key))


@router.get(
    "/inventory",
    tags=["inventory"],
    response_model=InventoryPage,
    dependencies=[require_roles(*READ_ROLES)],
)
def list_inventory(
    session: SessionDep,
    product: str | None = None,
    site: str | None = None,
    month: Month | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return service.list_page(
        session,
        InventorySnapshot,
        InventoryPage,
        filters={"product": product, "site": site, "month": month},
        order_by=["product", "site", "month"],
        limit=limit,
        offset=offset,
    )


# --- open supply -----------------------------------------------------------------------------


@router.post(
    "/open-supply/bulk",
    tags=["open-supply"],
    summary="Load open purchase and production orders (upsert by order_ref)",
    description=BULK_DOC
    + " With replace=true the batch is the whole open order book: orders not in it are deleted.",
    openapi_extra=bulk_openapi(OpenSupplyRow),
    **BULK,
)
def ingest_open_supply(
    request: Request,
    body: RawBody,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
    replace: bool = False,
) -> BulkResult:
    return service.ingest_open_supply(
        session, upload=_upload(request, body, idempotency_key), replace=replace
    )


@router.get(
    "/open-supply",
    tags=["open-supply"],
    response_model=OpenSupplyPage,
    dependencies=[require_roles(*READ_ROLES)],
)
def list_open_supply(
    session: SessionDep,
    product: str | None = None,
    site: str | None = None,
    kind: Literal["purchase", "production"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return service.list_page(
        session,
        OpenSupply,
        OpenSupplyPage,
        filters={"product": product, "site": site, "kind": kind},
        order_by=["due_month", "order_ref"],
        limit=limit,
        offset=offset,
    )


# --- bills of material -----------------------------------------------------------------------


@router.post(
    "/boms/bulk",
    tags=["boms"],
    summary="Load bills of material (each product named is replaced as a whole)",
    description=BULK_DOC + " A batch that would create a cycle is refused naming the cycle.",
    openapi_extra=bulk_openapi(BomRow),
    **BULK,
)
def ingest_boms(
    request: Request, body: RawBody, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> BulkResult:
    return service.ingest_boms(session, upload=_upload(request, body, idempotency_key))


@router.get(
    "/boms", tags=["boms"], response_model=BomPage, dependencies=[require_roles(*READ_ROLES)]
)
def list_boms(
    session: SessionDep,
    product: str | None = None,
    material: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return service.list_page(
        session,
        BomLine,
        BomPage,
        filters={"product": product, "material": material},
        order_by=["product", "material"],
        limit=limit,
        offset=offset,
    )


# --- contracts -------------------------------------------------------------------------------


@router.post(
    "/contracts/bulk",
    tags=["contracts"],
    summary="Load supplier contracts with volume commitments (upsert by code)",
    description=BULK_DOC,
    openapi_extra=bulk_openapi(ContractRow),
    **BULK,
)
def ingest_contracts(
    request: Request, body: RawBody, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> BulkResult:
    return service.ingest_contracts(session, upload=_upload(request, body, idempotency_key))


@router.get(
    "/contracts",
    tags=["contracts"],
    response_model=ContractPage,
    dependencies=[require_roles(*READ_ROLES)],
)
def list_contracts(
    session: SessionDep,
    supplier: str | None = None,
    material: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return service.list_page(
        session,
        Contract,
        ContractPage,
        filters={"supplier": supplier, "material": material},
        order_by=["code"],
        limit=limit,
        offset=offset,
    )


# --- supply budget ---------------------------------------------------------------------------


@router.post(
    "/supply-budget/bulk",
    tags=["supply-budget"],
    summary="Load the supply budget per product or family and month (volume and value)",
    description=BULK_DOC,
    openapi_extra=bulk_openapi(SupplyBudgetRow),
    **BULK,
)
def ingest_supply_budget(
    request: Request, body: RawBody, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> BulkResult:
    return service.ingest_supply_budget(session, upload=_upload(request, body, idempotency_key))


@router.get(
    "/supply-budget",
    tags=["supply-budget"],
    response_model=SupplyBudgetPage,
    dependencies=[require_roles(*READ_ROLES)],
)
def list_supply_budget(
    session: SessionDep,
    level: Literal["product", "family"] | None = None,
    code: str | None = None,
    month: Month | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return service.list_supply_budget(
        session, level=level, code=code, month=month, limit=limit, offset=offset
    )


# --- data status -----------------------------------------------------------------------------


def _previous_month() -> str:
    today = datetime.now(UTC)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@router.get(
    "/data-status",
    tags=["data-status"],
    response_model=DataStatus,
    summary="Is the supply data of a month loaded? (the cycle's step-1 gate)",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_data_status(session: SessionDep, month: Month | None = None) -> DataStatus:
    return service.data_status(session, month=month or _previous_month())
