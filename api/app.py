"""The data API application: read-only endpoints over the published warehouse, the report
registry and the alert store; an import endpoint into landing/; inbound webhooks.

:func:`create_app` builds it for one home; ``siteledger api serve`` runs it under uvicorn.
Every request goes through :func:`_audited` (one audit entry each, written in the background)
and, except ``/v1/health`` and the webhooks (which carry a signature instead), through
:func:`_principal` (API key, revocation, rate limit).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import duckdb
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, TypeAdapter, ValidationError

from alerts.channels.verify import WebhookRefused, verify_webhook
from alerts.state import OPEN_STATES, AlertEvent, AlertStateError, AlertStore
from api.audit import AuditWriter
from api.imports import ImportRefused, accept_readings, find_site, upload_layout
from api.keys import MAX_AUDIT_TEXT, KeyStore, Principal, principal
from api.models import (
    Alert,
    Artifact,
    Facility,
    FacilityBalanceDay,
    FacilityBalanceMonth,
    Health,
    ImportOutcome,
    Page,
    Problem,
    QualityScore,
    Report,
    Site,
    SiteBalanceDay,
    SiteBalanceMonth,
    WebhookOutcome,
)
from api.ratelimit import RateLimiter, retry_after
from api.warehouse import PublishedReader, WarehouseUnavailable
from api.webhooks import SECRET_ENV, AckEvent, InboundEvent, ReadingsFileEvent, SeenMessages
from ingestion.files.limits import ImportLimits
from reports.registry import Registry, RegistryError, ReportRecord
from siteledger.settings import Settings
from siteledger.state import StateStore

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

MAX_PAGE = 1000
DEFAULT_PAGE = 100
MAX_OFFSET = 10_000_000
DEFAULT_MAX_UPLOAD_BYTES = 32 * 1024 * 1024
MAX_UPLOAD_ENV = "SITELEDGER_API_MAX_UPLOAD_BYTES"
# ids as site files allow them (siteledger.site.identifiers) and report ids: anything else is
# refused (422) before it reaches a query or a path
ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
REPORT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$"
ARTIFACT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "json": "application/json",
    "xml": "application/xml",
    "sankey": "text/html",
}

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <token>")
_header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: <token>")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A parameter is out of place."},
    401: {"model": Problem, "description": "No key, or an unknown key."},
    403: {"model": Problem, "description": "The key is revoked or does not cover this site."},
    404: {"model": Problem, "description": "Not found (or not visible to this key)."},
    429: {"model": Problem, "description": "Rate limit reached; see Retry-After."},
    503: {"model": Problem, "description": "Nothing is published yet."},
}


@dataclass
class ApiContext:
    """What the endpoints share: the home and the stores opened once per process."""

    settings: Settings
    store: StateStore
    keys: KeyStore
    reader: PublishedReader
    limiter: RateLimiter
    audit: AuditWriter
    registry: Registry
    alerts: AlertStore
    seen: SeenMessages
    webhook_secret: str | None
    max_upload_bytes: int
    import_limits: ImportLimits


def _context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(_context)]


def _principal(
    request: Request,
    ctx: Context,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header_key)],
) -> Principal:
    token = bearer.credentials if bearer is not None else header_key
    if not token:
        raise HTTPException(
            401,
            "an API key is required: Authorization: Bearer <token> or X-API-Key: <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = ctx.keys.lookup(token)
    if key is None:
        raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
    request.state.key_id = key.key_id
    if key.revoked_at is not None:
        raise HTTPException(403, f"API key {key.key_id} was revoked")
    wait = ctx.limiter.take(key.key_id, key.rate_per_minute)
    if wait > 0:
        raise HTTPException(
            429,
            f"rate limit of {key.rate_per_minute} requests a minute reached for {key.key_id}",
            headers={"Retry-After": retry_after(wait)},
        )
    return principal(key)


Caller = Annotated[Principal, Depends(_principal)]
SiteId = Annotated[str, PathParam(pattern=ID, description="Site id (dim_sites.site_id).")]
NodeId = Annotated[str, PathParam(pattern=ID, description="Facility id (dim_nodes.node_id).")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page size, at most {MAX_PAGE}.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    """Only ``YYYY-MM-DD``: pydantic alone would also take a number of seconds since 1970."""
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("a date is YYYY-MM-DD (ISO 8601)")
    return value


IsoDay = Annotated[dt.date, BeforeValidator(_iso_day)]
Start = Annotated[IsoDay | None, Query(description="First day (YYYY-MM-DD), inclusive.")]
End = Annotated[IsoDay | None, Query(description="Last day (YYYY-MM-DD), inclusive.")]


def _require_site(caller: Principal, site_id: str) -> None:
    if not caller.scope.covers_site(site_id):
        raise HTTPException(403, f"API key {caller.key_id} does not cover site {site_id}")


def _require_facility(caller: Principal, site_id: str, node_id: str) -> None:
    if not caller.scope.covers_facility(site_id, node_id):
        raise HTTPException(
            403, f"API key {caller.key_id} does not cover facility {node_id} of site {site_id}"
        )


def _rows(
    ctx: ApiContext,
    model: type[M],
    table: str,
    where: Sequence[tuple[str, Any]],
    order: str,
    limit: int,
    offset: int,
    extra_sql: str = "",
    extra_params: Sequence[Any] = (),
) -> Page[M]:
    """A page of ``model`` rows of a published table. Column and table names come from this
    module and the models, never from a request; every value is a bound parameter."""
    columns = list(model.model_fields)
    clauses = [clause for clause, _ in where] + ([extra_sql] if extra_sql else [])
    params = [value for _, value in where] + list(extra_params)
    sql = (
        f"select {', '.join(columns)} from {table}"  # noqa: S608 (names from code, values bound)
        + (f" where {' and '.join(clauses)}" if clauses else "")
        + f" order by {order} limit ? offset ?"
    )
    with ctx.reader.cursor() as (cursor, tables):
        if table not in tables:
            raise HTTPException(404, f"{table} is not in the published warehouse")
        found = cursor.execute(sql, [*params, limit + 1, offset]).fetchall()
    items = [model.model_validate(dict(zip(columns, row, strict=True))) for row in found[:limit]]
    return Page[model](  # type: ignore[valid-type]
        items=items,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(found) > limit else None,
    )


def _json(page: BaseModel) -> Response:
    """The page serialised once by pydantic. Handing FastAPI the model instead would validate
    it a second time and encode it through ``json.dumps``: for a year of daily balances that was
    about half of a request's 10 ms."""
    return Response(page.model_dump_json(), media_type="application/json")


def _day_range(column: str, start: dt.date | None, end: dt.date | None) -> list[tuple[str, Any]]:
    where: list[tuple[str, Any]] = []
    if start is not None:
        where.append((f"{column} >= ?", start))
    if end is not None:
        where.append((f"{column} <= ?", end))
    return where


def _site_filter(caller: Principal, column: str = "site_id") -> tuple[str, list[str]]:
    listed = caller.scope.listed_sites()
    if listed is None:
        return "", []
    if not listed:
        return "false", []
    return f"{column} in ({', '.join('?' for _ in listed)})", listed


def _page(items: Sequence[M], limit: int, offset: int) -> Page[M]:
    window = list(items[offset : offset + limit])
    more = len(items) > offset + limit
    return Page(
        items=window, limit=limit, offset=offset, next_offset=offset + limit if more else None
    )


def _report(record: ReportRecord) -> Report:
    artifacts = [
        Artifact(
            format=fmt,
            sha256=str(art.get("sha256", "")),
            bytes=int(art.get("bytes", 0)),
            download=f"/v1/reports/{record.report_id}/artifacts/{fmt}",
        )
        for fmt, art in sorted(record.artifacts.items())
    ]
    values = {name: getattr(record, name) for name in Report.model_fields if name != "artifacts"}
    return Report(**values, artifacts=artifacts)


def _alert(event: AlertEvent) -> Alert:
    return Alert.model_validate(event)


def _inside(path: Path, root: Path) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real.startswith(base.rstrip(os.sep) + os.sep)


def create_app(
    settings: Settings,
    *,
    webhook_secret: str | None = None,
    max_upload_bytes: int | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The API over one home. ``webhook_secret`` defaults to ``SITELEDGER_API_WEBHOOK_SECRET``
    (webhooks answer 404 without one); ``max_upload_bytes`` to
    ``SITELEDGER_API_MAX_UPLOAD_BYTES`` or 32 MiB."""
    store = StateStore(settings.state_store_url)
    keys = KeyStore(store)
    upload_limit = max_upload_bytes or int(
        os.environ.get(MAX_UPLOAD_ENV) or DEFAULT_MAX_UPLOAD_BYTES
    )
    ctx = ApiContext(
        settings=settings,
        store=store,
        keys=keys,
        reader=PublishedReader(settings.published_db, settings.warehouse_dir / "versions"),
        limiter=limiter or RateLimiter(),
        audit=AuditWriter(keys),
        registry=Registry(store),
        alerts=AlertStore(store),
        seen=SeenMessages(store),
        webhook_secret=webhook_secret or os.environ.get(SECRET_ENV) or None,
        max_upload_bytes=upload_limit,
        import_limits=ImportLimits.from_env(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.audit.start()
        try:
            yield
        finally:
            ctx.audit.close()
            ctx.reader.close()

    app = FastAPI(
        title="siteledger data API",
        version="1",
        description="Read-only access to the published warehouse, reports and alerts of one "
        "siteledger home; an import endpoint for meter readings; inbound webhooks.",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    app.state.context = ctx

    @app.middleware("http")
    async def _audited(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request.state.key_id = None
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            ctx.audit.put(
                {
                    "at": dt.datetime.now(dt.UTC),
                    "key_id": request.state.key_id,
                    "method": request.method[:8],
                    "path": request.url.path[:MAX_AUDIT_TEXT],
                    "query": request.url.query[:MAX_AUDIT_TEXT],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "client_ip": request.client.host if request.client else None,
                }
            )

    @app.exception_handler(WarehouseUnavailable)
    async def _unavailable(request: Request, exc: WarehouseUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(duckdb.Error)
    async def _warehouse_error(request: Request, exc: duckdb.Error) -> JSONResponse:
        log.error("warehouse query failed: %s", exc)
        return JSONResponse({"detail": "the warehouse could not answer; try again"}, 503)

    # -- health -----------------------------------------------------------------------------
    @app.get("/v1/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Whether a warehouse is published (no key needed; for load balancers)."""
        try:
            with ctx.reader.cursor() as (_, tables):
                return Health(status="ok", warehouse_tables=len(tables))
        except WarehouseUnavailable:
            return Health(status="no_warehouse", warehouse_tables=0)

    # -- sites and facilities ---------------------------------------------------------------
    @app.get("/v1/sites", response_model=Page[Site], tags=["sites"])
    def sites(caller: Caller, limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> Response:
        """The sites this key sees (``dim_sites``)."""
        clause, params = _site_filter(caller)
        return _json(_rows(ctx, Site, "dim_sites", [], "site_id", limit, offset, clause, params))

    @app.get("/v1/sites/{site_id}", response_model=Site, tags=["sites"])
    def site(caller: Caller, site_id: SiteId) -> Site:
        """One site."""
        if not caller.scope.touches_site(site_id):
            raise HTTPException(403, f"API key {caller.key_id} does not cover site {site_id}")
        page = _rows(ctx, Site, "dim_sites", [("site_id = ?", site_id)], "site_id", 1, 0)
        if not page.items:
            raise HTTPException(404, f"no site {site_id} in the published warehouse")
        return page.items[0]

    @app.get("/v1/sites/{site_id}/facilities", response_model=Page[Facility], tags=["sites"])
    def facilities(
        caller: Caller, site_id: SiteId, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
    ) -> Response:
        """The facilities (stores, tasks, sources, destinations) of a site this key sees."""
        if not caller.scope.touches_site(site_id):
            raise HTTPException(403, f"API key {caller.key_id} does not cover site {site_id}")
        where: list[tuple[str, Any]] = [("site_id = ?", site_id)]
        extra, params = "", []
        if not caller.scope.covers_site(site_id):
            params = sorted(n for s, n in caller.scope.facilities if s == site_id)
            extra = f"node_id in ({', '.join('?' for _ in params)})"
        return _json(
            _rows(ctx, Facility, "dim_nodes", where, "node_id", limit, offset, extra, params)
        )

    # -- balances ---------------------------------------------------------------------------
    @app.get(
        "/v1/sites/{site_id}/balances/daily", response_model=Page[SiteBalanceDay], tags=["balances"]
    )
    def site_daily(
        caller: Caller,
        site_id: SiteId,
        start: Start = None,
        end: End = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Response:
        """The site's water balance per local day (``fct_site_balance_daily``), oldest first."""
        _require_site(caller, site_id)
        where = [("site_id = ?", site_id), *_day_range("day", start, end)]
        return _json(
            _rows(ctx, SiteBalanceDay, "fct_site_balance_daily", where, "day", limit, offset)
        )

    @app.get(
        "/v1/sites/{site_id}/balances/monthly",
        response_model=Page[SiteBalanceMonth],
        tags=["balances"],
    )
    def site_monthly(
        caller: Caller,
        site_id: SiteId,
        start: Start = None,
        end: End = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Response:
        """The site's water balance per calendar month (``fct_site_balance_monthly``); ``start``
        and ``end`` select months by their first day."""
        _require_site(caller, site_id)
        where = [("site_id = ?", site_id), *_day_range("month_start", start, end)]
        return _json(
            _rows(
                ctx,
                SiteBalanceMonth,
                "fct_site_balance_monthly",
                where,
                "month_start",
                limit,
                offset,
            )
        )

    @app.get(
        "/v1/sites/{site_id}/facilities/{node_id}/balances/daily",
        response_model=Page[FacilityBalanceDay],
        tags=["balances"],
    )
    def facility_daily(
        caller: Caller,
        site_id: SiteId,
        node_id: NodeId,
        start: Start = None,
        end: End = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Response:
        """A store's or task's balance per local day (``fct_node_balance_daily``)."""
        _require_facility(caller, site_id, node_id)
        where = [("site_id = ?", site_id), ("node_id = ?", node_id)]
        where += _day_range("day", start, end)
        return _json(
            _rows(ctx, FacilityBalanceDay, "fct_node_balance_daily", where, "day", limit, offset)
        )

    @app.get(
        "/v1/sites/{site_id}/facilities/{node_id}/balances/monthly",
        response_model=Page[FacilityBalanceMonth],
        tags=["balances"],
    )
    def facility_monthly(
        caller: Caller,
        site_id: SiteId,
        node_id: NodeId,
        start: Start = None,
        end: End = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Response:
        """A store's or task's balance per calendar month (``fct_node_balance_monthly``)."""
        _require_facility(caller, site_id, node_id)
        where = [("site_id = ?", site_id), ("node_id = ?", node_id)]
        where += _day_range("month_start", start, end)
        return _json(
            _rows(
                ctx,
                FacilityBalanceMonth,
                "fct_node_balance_monthly",
                where,
                "month_start",
                limit,
                offset,
            )
        )

    # -- quality ----------------------------------------------------------------------------
    @app.get(
        "/v1/sites/{site_id}/quality-scores", response_model=Page[QualityScore], tags=["quality"]
    )
    def quality_scores(
        caller: Caller,
        site_id: SiteId,
        start: Start = None,
        end: End = None,
        scope: Annotated[
            str | None, Query(pattern="^(site|node|meter)$", description="site, node or meter")
        ] = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Response:
        """Daily data-quality scores of the site, its nodes and meters
        (``fct_quality_scores_daily``)."""
        _require_site(caller, site_id)
        where = [("site_id = ?", site_id), *_day_range("day", start, end)]
        if scope is not None:
            where.append(("scope = ?", scope))
        return _json(
            _rows(
                ctx,
                QualityScore,
                "fct_quality_scores_daily",
                where,
                "day, scope, scope_id",
                limit,
                offset,
            )
        )

    # -- reports ----------------------------------------------------------------------------
    @app.get("/v1/reports", response_model=Page[Report], tags=["reports"])
    def reports(
        caller: Caller,
        site_id: Annotated[str | None, Query(pattern=ID)] = None,
        status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,16}$")] = None,
        latest_only: bool = False,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[Report]:
        """Reports in the registry for the sites this key covers, by site, definition, period
        and version."""
        if site_id is not None:
            _require_site(caller, site_id)
        records = ctx.registry.list(site_id=site_id, status=status, latest_only=latest_only)
        visible = [r for r in records if caller.scope.covers_site(r.site_id)]
        return _page([_report(r) for r in visible], limit, offset)

    def _visible_report(caller: Principal, report_id: str) -> ReportRecord:
        try:
            record = ctx.registry.get(report_id)
        except RegistryError:
            raise HTTPException(404, f"no report {report_id}") from None
        if not caller.scope.covers_site(record.site_id):
            # the same answer as for a report that does not exist: ids do not leak
            raise HTTPException(404, f"no report {report_id}")
        return record

    @app.get("/v1/reports/{report_id}", response_model=Report, tags=["reports"])
    def report(caller: Caller, report_id: Annotated[str, PathParam(pattern=REPORT_ID)]) -> Report:
        """One report version and its artifacts."""
        return _report(_visible_report(caller, report_id))

    @app.get(
        "/v1/reports/{report_id}/artifacts/{fmt}",
        response_class=FileResponse,
        tags=["reports"],
        responses={200: {"content": {t: {} for t in sorted(set(ARTIFACT_TYPES.values()))}}},
    )
    def report_artifact(
        caller: Caller,
        report_id: Annotated[str, PathParam(pattern=REPORT_ID)],
        fmt: Annotated[str, PathParam(pattern=r"^[a-z]{1,12}$")],
    ) -> FileResponse:
        """Download one artifact (pdf, xlsx, csv, json, xml, sankey) of a report."""
        record = _visible_report(caller, report_id)
        artifact = record.artifacts.get(fmt)
        if not isinstance(artifact, dict) or "path" not in artifact:
            raise HTTPException(404, f"report {report_id} has no {fmt} artifact")
        path = Path(str(artifact["path"]))
        # a registry row names a file; it is served only from inside the artifacts folder
        if not _inside(path, ctx.settings.reports_dir) or not path.is_file():
            log.warning(
                "report %s: artifact %s is not under %s", report_id, path, ctx.settings.reports_dir
            )
            raise HTTPException(404, f"the {fmt} artifact of report {report_id} is not available")
        return FileResponse(
            os.path.realpath(path),
            media_type=ARTIFACT_TYPES.get(fmt, "application/octet-stream"),
            filename=path.name,
        )

    # -- alerts -----------------------------------------------------------------------------
    @app.get("/v1/alerts", response_model=Page[Alert], tags=["alerts"])
    def alerts(
        caller: Caller,
        site_id: Annotated[str | None, Query(pattern=ID)] = None,
        state: Annotated[str | None, Query(pattern="^(open|pending|firing|resolved)$")] = None,
        limit: Limit = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> Page[Alert]:
        """Alert events of the sites this key covers, newest first (``state=open`` for pending
        and firing)."""
        from sqlalchemy import select

        if site_id is not None:
            _require_site(caller, site_id)
        query = select(AlertEvent).order_by(AlertEvent.opened_at.desc(), AlertEvent.event_id)
        if site_id is not None:
            query = query.where(AlertEvent.site == site_id)
        elif not caller.scope.everything:
            query = query.where(AlertEvent.site.in_(sorted(caller.scope.sites)))
        if state == "open":
            query = query.where(AlertEvent.state.in_(OPEN_STATES))
        elif state is not None:
            query = query.where(AlertEvent.state == state)
        with ctx.store.session() as session:
            found = list(session.scalars(query.limit(limit + 1).offset(offset)))
            items = [_alert(e) for e in found[:limit]]
        more = len(found) > limit
        return Page(
            items=items, limit=limit, offset=offset, next_offset=offset + limit if more else None
        )

    # -- import -----------------------------------------------------------------------------
    @app.post(
        "/v1/sites/{site_id}/readings",
        response_model=ImportOutcome,
        status_code=201,
        tags=["import"],
        responses={
            200: {"model": ImportOutcome, "description": "Duplicate, quarantined or failed."},
            413: {"model": Problem, "description": "The file is over the upload limit."},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {
                        "schema": {"type": "string", "format": "binary", "minLength": 1}
                    }
                },
            }
        },
    )
    async def upload_readings(
        request: Request,
        caller: Caller,
        site_id: SiteId,
        layout: Annotated[str | None, Query(pattern=ID)] = None,
    ) -> Response:
        """Import a readings file (CSV or Excel in one of the site's layouts) through the file
        importer: 201 when committed; 200 with the importer's verdict otherwise."""
        _require_site(caller, site_id)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > ctx.max_upload_bytes:
            raise HTTPException(413, f"the file is over {ctx.max_upload_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > ctx.max_upload_bytes:
                raise HTTPException(413, f"the file is over {ctx.max_upload_bytes} bytes")
            chunks.append(chunk)
        data = b"".join(chunks)
        if not data:
            raise HTTPException(400, "the request body is empty: send the file's bytes")
        config = await run_in_threadpool(find_site, ctx.settings, site_id)
        if config is None:
            raise HTTPException(404, f"no site file for site {site_id} in {ctx.settings.sites_dir}")
        try:
            chosen = upload_layout(config, layout)
        except ImportRefused as exc:
            raise HTTPException(400, str(exc)) from None
        outcome = await run_in_threadpool(
            accept_readings,
            ctx.settings,
            ctx.store,
            config,
            chosen,
            data,
            caller.key_id,
            ctx.import_limits,
        )
        return JSONResponse(
            outcome.model_dump(mode="json"),
            status_code=201 if outcome.status == "committed" else 200,
        )

    # -- webhooks ---------------------------------------------------------------------------
    events = TypeAdapter[Any](InboundEvent)

    @app.post(
        "/v1/webhooks/events",
        response_model=WebhookOutcome,
        tags=["webhooks"],
        responses={409: {"model": Problem, "description": "The event cannot be applied."}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def webhook(request: Request) -> WebhookOutcome:
        """A Standard Webhooks signed event (``readings.file`` or ``alert.acknowledged``);
        the signature, not an API key, authenticates it."""
        if ctx.webhook_secret is None:
            raise HTTPException(404, f"inbound webhooks are off: set {SECRET_ENV}")
        body = await request.body()
        if len(body) > ctx.max_upload_bytes * 2:
            raise HTTPException(413, "the message is over the upload limit")
        try:
            message_id = verify_webhook(ctx.webhook_secret, request.headers, body, time.time())
        except WebhookRefused as exc:
            raise HTTPException(401, f"webhook refused: {exc}") from None
        try:
            event = events.validate_json(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise HTTPException(400, f"not a known event: {where}: {first['msg']}") from None
        if not await run_in_threadpool(ctx.seen.claim, message_id, event.type):
            return WebhookOutcome(message_id=message_id, type=event.type, status="duplicate")
        try:
            outcome = await run_in_threadpool(_apply, ctx, message_id, event)
        except BaseException:
            await run_in_threadpool(ctx.seen.release, message_id)
            raise
        await run_in_threadpool(ctx.seen.done, message_id, outcome.status)
        return outcome

    return app


def _apply(ctx: ApiContext, message_id: str, event: Any) -> WebhookOutcome:
    if isinstance(event, AckEvent):
        data = event.data
        try:
            found = ctx.alerts.get(data.event_id)
        except AlertStateError:
            found = None
        if found is None or found.event_id != data.event_id:
            raise HTTPException(404, f"no alert event {data.event_id}")
        try:
            ctx.alerts.ack(data.event_id, f"webhook:{data.actor}", data.note)
        except AlertStateError as exc:
            raise HTTPException(409, str(exc)) from None
        return WebhookOutcome(
            message_id=message_id, type=event.type, status="processed", alert_event_id=data.event_id
        )
    assert isinstance(event, ReadingsFileEvent)
    data_file = event.data
    config = find_site(ctx.settings, data_file.site_id)
    if config is None:
        raise HTTPException(404, f"no site file for site {data_file.site_id}")
    try:
        content = data_file.content()
        layout = upload_layout(config, data_file.layout)
    except (ImportRefused, ValueError) as exc:
        raise HTTPException(400, str(exc)) from None
    if len(content) > ctx.max_upload_bytes:
        raise HTTPException(413, f"the file is over {ctx.max_upload_bytes} bytes")
    outcome = accept_readings(
        ctx.settings, ctx.store, config, layout, content, "webhook", ctx.import_limits
    )
    return WebhookOutcome(
        message_id=message_id, type=event.type, status="processed", import_outcome=outcome
    )
