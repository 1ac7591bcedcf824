"""Dependencies between touchpoints: `touchpoint` requires `requires` (never better than it).

A dependency is named by its two touchpoints:
/portfolios/{portfolio_id}/dependencies/{touchpoint_id}/{requires_id}.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from backend import crud
from backend.api.deps import (
    CallerDep,
    IfMatch,
    PagingDep,
    PlannerDep,
    PortfolioId,
    SessionDep,
    SettingsDep,
)
from backend.api.route import JsonRoute
from backend.crud import DEPENDENCIES
from backend.models import DependencyCreate, DependencyPublic, DependencyUpdate, Page

router = APIRouter(
    route_class=JsonRoute, prefix="/portfolios/{portfolio_id}/dependencies", tags=["dependencies"]
)
TouchpointId = Annotated[
    str, Path(description="The touchpoint that requires another.", examples=["app"])
]
RequiresId = Annotated[
    str, Path(description="The touchpoint it requires.", examples=["web-booking"])
]


@router.get("", response_model=Page[DependencyPublic], response_model_exclude_none=True)
def read_dependencies(
    *, session: SessionDep, _caller: CallerDep, paging: PagingDep, portfolio_id: PortfolioId
) -> Any:
    """List the dependencies between touchpoints."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    rows, total = crud.list_entities(
        session=session,
        portfolio=portfolio,
        kind=DEPENDENCIES,
        offset=paging.offset,
        limit=paging.limit,
    )
    return {
        "items": [DEPENDENCIES.public(row) for row in rows],
        "total": total,
        "offset": paging.offset,
        "limit": paging.limit,
    }


@router.post("", status_code=201, response_model=DependencyPublic, response_model_exclude_none=True)
def create_dependency(
    *,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    response: Response,
    portfolio_id: PortfolioId,
    body: DependencyCreate,
) -> Any:
    """Add a dependency (refused when it would close a cycle)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    row = crud.create_entity(
        session=session,
        portfolio=portfolio,
        kind=DEPENDENCIES,
        data=body.model_dump(mode="json"),
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
    response.headers["ETag"] = crud.etag(row)
    response.headers["Location"] = f"{request.url.path}/{row.touchpoint}/{row.requires}"
    return DEPENDENCIES.public(row)


@router.get(
    "/{touchpoint_id}/{requires_id}",
    response_model=DependencyPublic,
    response_model_exclude_none=True,
)
def read_dependency(
    *,
    session: SessionDep,
    _caller: CallerDep,
    response: Response,
    portfolio_id: PortfolioId,
    touchpoint_id: TouchpointId,
    requires_id: RequiresId,
) -> Any:
    """One dependency, with its ETag."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    row = crud.get_dependency(
        session=session, portfolio=portfolio, touchpoint=touchpoint_id, requires=requires_id
    )
    response.headers["ETag"] = crud.etag(row)
    return DEPENDENCIES.public(row)


@router.patch(
    "/{touchpoint_id}/{requires_id}",
    response_model=DependencyPublic,
    response_model_exclude_none=True,
)
def update_dependency(
    *,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    response: Response,
    portfolio_id: PortfolioId,
    touchpoint_id: TouchpointId,
    requires_id: RequiresId,
    if_match: IfMatch = None,
    body: DependencyUpdate,
) -> Any:
    """Point a dependency at other touchpoints (its URL changes with them; needs If-Match)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    row = crud.get_dependency(
        session=session, portfolio=portfolio, touchpoint=touchpoint_id, requires=requires_id
    )
    crud.check_if_match(if_match=if_match, current=crud.etag(row))
    row = crud.update_entity(
        session=session,
        portfolio=portfolio,
        kind=DEPENDENCIES,
        row=row,
        changes=body.model_dump(mode="json", exclude_unset=True),
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
    response.headers["ETag"] = crud.etag(row)
    base = request.url.path.rsplit("/", 2)[0]
    response.headers["Content-Location"] = f"{base}/{row.touchpoint}/{row.requires}"
    return DEPENDENCIES.public(row)


@router.delete("/{touchpoint_id}/{requires_id}", status_code=204)
def delete_dependency(
    *,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    portfolio_id: PortfolioId,
    touchpoint_id: TouchpointId,
    requires_id: RequiresId,
    if_match: IfMatch = None,
) -> None:
    """Remove a dependency (needs If-Match)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    row = crud.get_dependency(
        session=session, portfolio=portfolio, touchpoint=touchpoint_id, requires=requires_id
    )
    crud.check_if_match(if_match=if_match, current=crud.etag(row))
    crud.delete_entity(
        session=session,
        portfolio=portfolio,
        kind=DEPENDENCIES,
        row=row,
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
