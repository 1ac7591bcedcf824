"""Journeys and their touchpoint links.

Planners create and delete journeys; a journey owner changes their own journey (stages,
KPIs, links, value...) but not its leadership fields (owner, priority, floor).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlmodel import Session

from backend import crud
from backend.api.deps import (
    CallerDep,
    IfMatch,
    OwnerDep,
    PagingDep,
    PortfolioId,
    SessionDep,
    SettingsDep,
)
from backend.api.route import JsonRoute
from backend.api.routes.entities import entity_router
from backend.crud import JOURNEYS
from backend.models import (
    Journey,
    JourneyCreate,
    JourneyPublic,
    JourneyUpdate,
    LinkCreate,
    LinkPublic,
    LinkUpdate,
    Page,
    Portfolio,
)
from backend.security import Caller, Role


def _check_journey(caller: Caller, row: Journey, changes: dict[str, Any]) -> None:
    caller.require_journey(row.id, row.owner)
    caller.require_fields(set(changes))


router = entity_router(
    JOURNEYS,
    JourneyCreate,
    JourneyUpdate,
    JourneyPublic,
    update_role=Role.owner,
    check_update=_check_journey,
)


def _journey(session: Session, portfolio: Portfolio, journey_id: str) -> Journey:
    journey: Journey = crud.get_entity(
        session=session, portfolio=portfolio, kind=JOURNEYS, entity_id=journey_id
    )
    return journey


links = APIRouter(
    route_class=JsonRoute,
    prefix="/portfolios/{portfolio_id}/journeys/{journey_id}/links",
    tags=["links"],
)
JourneyId = Annotated[str, Path(description="The journey's id.", examples=["family-problem"])]
TouchpointId = Annotated[str, Path(description="The linked touchpoint's id.", examples=["hotline"])]


@links.get("", response_model=Page[LinkPublic], response_model_exclude_none=True)
def read_links(
    *,
    session: SessionDep,
    _caller: CallerDep,
    paging: PagingDep,
    portfolio_id: PortfolioId,
    journey_id: JourneyId,
) -> Any:
    """List where the journey meets its touchpoints, in order."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    journey = crud.get_entity(
        session=session, portfolio=portfolio, kind=JOURNEYS, entity_id=journey_id
    )
    rows = journey.links[paging.offset : paging.offset + paging.limit]
    return {
        "items": [crud.link_public(journey, link) for link in rows],
        "total": len(journey.links),
        "offset": paging.offset,
        "limit": paging.limit,
    }


@links.post("", status_code=201, response_model=LinkPublic, response_model_exclude_none=True)
def create_link(
    *,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: OwnerDep,
    response: Response,
    portfolio_id: PortfolioId,
    journey_id: JourneyId,
    body: LinkCreate,
) -> Any:
    """Link the journey to a touchpoint (its owner or a planner)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    journey = crud.get_entity(
        session=session, portfolio=portfolio, kind=JOURNEYS, entity_id=journey_id
    )
    caller.require_journey(journey.id, journey.owner)
    link = crud.create_link(
        session=session,
        portfolio=portfolio,
        journey=journey,
        data=body.model_dump(mode="json", exclude_none=True),
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
    response.headers["ETag"] = crud.etag(link)
    response.headers["Location"] = f"{request.url.path}/{link.touchpoint}"
    return crud.link_public(journey, link)


@links.get("/{touchpoint_id}", response_model=LinkPublic, response_model_exclude_none=True)
def read_link(
    *,
    session: SessionDep,
    _caller: CallerDep,
    response: Response,
    portfolio_id: PortfolioId,
    journey_id: JourneyId,
    touchpoint_id: TouchpointId,
) -> Any:
    """One link of the journey, with its ETag."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
    journey = crud.get_entity(
        session=session, portfolio=portfolio, kind=JOURNEYS, entity_id=journey_id
    )
    link = crud.get_link(journey=journey, touchpoint=touchpoint_id, portfolio=portfolio)
    response.headers["ETag"] = crud.etag(link)
    return crud.link_public(journey, link)


@links.patch("/{touchpoint_id}", response_model=LinkPublic, response_model_exclude_none=True)
def update_link(
    *,
    session: SessionDep,
    settings: SettingsDep,
    caller: OwnerDep,
    response: Response,
    portfolio_id: PortfolioId,
    journey_id: JourneyId,
    touchpoint_id: TouchpointId,
    if_match: IfMatch = None,
    body: LinkUpdate,
) -> Any:
    """Change a link's stage, weight, critical flag or emotion (needs If-Match)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    journey = crud.get_entity(
        session=session, portfolio=portfolio, kind=JOURNEYS, entity_id=journey_id
    )
    link = crud.get_link(journey=journey, touchpoint=touchpoint_id, portfolio=portfolio)
    caller.require_journey(journey.id, journey.owner)
    crud.check_if_match(if_match=if_match, current=crud.etag(link))
    link = crud.update_link(
        session=session,
        portfolio=portfolio,
        journey=journey,
        link=link,
        changes=body.model_dump(mode="json", exclude_unset=True),
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
    response.headers["ETag"] = crud.etag(link)
    return crud.link_public(journey, link)


@links.delete("/{touchpoint_id}", status_code=204)
def delete_link(
    *,
    session: SessionDep,
    settings: SettingsDep,
    caller: OwnerDep,
    portfolio_id: PortfolioId,
    journey_id: JourneyId,
    touchpoint_id: TouchpointId,
    if_match: IfMatch = None,
) -> None:
    """Unlink a touchpoint from the journey (not its last one; needs If-Match)."""
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
    journey = crud.get_entity(
        session=session, portfolio=portfolio, kind=JOURNEYS, entity_id=journey_id
    )
    link = crud.get_link(journey=journey, touchpoint=touchpoint_id, portfolio=portfolio)
    caller.require_journey(journey.id, journey.owner)
    crud.check_if_match(if_match=if_match, current=crud.etag(link))
    crud.delete_link(
        session=session,
        portfolio=portfolio,
        journey=journey,
        link=link,
        caller=caller,
        limits=settings.limits(),
    )
    session.commit()
