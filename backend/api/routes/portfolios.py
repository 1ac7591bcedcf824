"""Portfolios: import, list, read, change, delete, export as a document, audit log."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from backend import crud, idempotency
from backend.api.deps import (
    CallerDep,
    IdempotencyKey,
    IfMatch,
    PagingDep,
    PlannerDep,
    PortfolioId,
    SessionDep,
    SettingsDep,
)
from backend.api.route import JsonRoute
from backend.models import AuditPublic, Page, PortfolioPublic, PortfolioUpdate, as_utc
from optimizer.document import PortfolioDocument, dump_yaml, validate_document

router = APIRouter(route_class=JsonRoute, prefix="/portfolios", tags=["portfolios"])

YAML = "application/yaml"


@router.get("", response_model=Page[PortfolioPublic])
def read_portfolios(*, session: SessionDep, _caller: CallerDep, paging: PagingDep) -> Any:
    """List the portfolios."""
    rows, total = crud.list_portfolios(session=session, offset=paging.offset, limit=paging.limit)
    return {
        "items": [crud.portfolio_public(session=session, portfolio=row) for row in rows],
        "total": total,
        "offset": paging.offset,
        "limit": paging.limit,
    }


@router.post(
    "",
    status_code=201,
    response_model=PortfolioPublic,
    # the same document as YAML (backend/api/openapi.py copies the JSON schema here)
    openapi_extra={"requestBody": {"content": {YAML: {}}}},
)
def create_portfolio(
    *,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    idempotency_key: IdempotencyKey = None,
    document: PortfolioDocument,
) -> Any:
    """Import a portfolio document (shared/portfolio-format.md)."""
    data = document.model_dump(mode="json", exclude_none=True)

    def create() -> idempotency.Created:
        validated = validate_document(data, limits=settings.limits())
        portfolio = crud.import_portfolio(session=session, document=validated, caller=caller)
        body = crud.portfolio_public(session=session, portfolio=portfolio)
        return idempotency.Created(
            body=PortfolioPublic.model_validate(body),
            headers={
                "Location": f"{request.url.path}/{portfolio.id}",
                "ETag": crud.etag(portfolio),
            },
        )

    return idempotency.create_once(
        session=session,
        caller=caller,
        key=idempotency_key,
        request=request,
        payload=data,
        response=response,
        ttl_hours=settings.idempotency_ttl_hours,
        create=create,
    )


@router.get("/{portfolio_id}", response_model=PortfolioPublic)
def read_portfolio(
    *, session: SessionDep, _caller: CallerDep, response: Response, portfolio_id: PortfolioId
) -> Any:
    """One portfolio: its own fields, how many entities it has and its plan of record."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    response.headers["ETag"] = crud.etag(portfolio)
    return crud.portfolio_public(session=session, portfolio=portfolio)


@router.patch("/{portfolio_id}", response_model=PortfolioPublic)
def update_portfolio(
    *,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    response: Response,
    portfolio_id: PortfolioId,
    if_match: IfMatch = None,
    changes: PortfolioUpdate,
) -> Any:
    """Change a portfolio's name, currency, period, description or budget."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    crud.check_if_match(if_match=if_match, current=crud.etag(portfolio))
    crud.update_portfolio(
        session=session,
        portfolio=portfolio,
        changes=changes.model_dump(mode="json", exclude_unset=True),
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
    response.headers["ETag"] = crud.etag(portfolio)
    return crud.portfolio_public(session=session, portfolio=portfolio)


@router.delete("/{portfolio_id}", status_code=204)
def delete_portfolio(
    *, session: SessionDep, caller: PlannerDep, portfolio_id: PortfolioId, if_match: IfMatch = None
) -> None:
    """Delete a portfolio and everything in it (not when it has an approved plan)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    crud.check_if_match(if_match=if_match, current=crud.etag(portfolio))
    crud.delete_portfolio(session=session, portfolio=portfolio, caller=caller)
    session.commit()


@router.get(
    "/{portfolio_id}/document",
    response_model=PortfolioDocument,
    response_model_exclude_none=True,
    responses={200: {"content": {YAML: {"schema": {"type": "string"}}}}},
)
def read_document(
    *,
    request: Request,
    session: SessionDep,
    _caller: CallerDep,
    response: Response,
    portfolio_id: PortfolioId,
) -> Any:
    """Export the portfolio as a document (import it again to get the same portfolio): JSON,
    or YAML when the request accepts `application/yaml` and not JSON."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, consistent=True)
    document = crud.export_document(session=session, portfolio=portfolio)
    accept = request.headers.get("accept", "")
    if "yaml" in accept and "json" not in accept:
        return Response(
            content=dump_yaml(document),
            media_type=YAML,
            headers={
                "ETag": crud.etag(portfolio),
                "Content-Disposition": f'attachment; filename="{portfolio.id}.yaml"',
            },
        )
    response.headers["ETag"] = crud.etag(portfolio)
    response.headers["Content-Disposition"] = f'attachment; filename="{portfolio.id}.json"'
    return document


@router.get("/{portfolio_id}/audit", response_model=Page[AuditPublic])
def read_audit(
    *,
    session: SessionDep,
    _caller: CallerDep,
    paging: PagingDep,
    portfolio_id: PortfolioId,
    entity: Annotated[
        str | None, Query(max_length=32, description="Only this kind (journey, link...).")
    ] = None,
    entity_id: Annotated[str | None, Query(max_length=200, description="Only this id.")] = None,
) -> Any:
    """Who changed what in the portfolio, when, before and after (newest first); kept, and
    readable, after the portfolio is deleted."""
    rows, total = crud.list_audit(
        session=session,
        portfolio_id=portfolio_id,
        offset=paging.offset,
        limit=paging.limit,
        entity=entity,
        entity_id=entity_id,
    )
    if total == 0:
        crud.get_portfolio(session=session, portfolio_id=portfolio_id)  # 404 if never there
    items = [
        {
            "id": row.pk,
            "portfolio_id": row.portfolio_id,
            "at": as_utc(row.at),
            "actor": row.actor,
            "role": row.role,
            "action": row.action,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "before": row.before,
            "after": row.after,
        }
        for row in rows
    ]
    return {"items": items, "total": total, "offset": paging.offset, "limit": paging.limit}
