"""List, read, create, update and delete for the entities of a portfolio that have an id
(departments, personas, touchpoints, journeys, scenarios): one router factory, so every kind
behaves the same (ETags, If-Match, 404/409/412/422, audit)."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel

from backend import crud
from backend.api.deps import (
    CallerDep,
    IfMatch,
    PagingDep,
    PortfolioId,
    SessionDep,
    SettingsDep,
    requires,
)
from backend.api.route import JsonRoute
from backend.crud import Kind
from backend.models import Page
from backend.security import Caller, Role

UpdateCheck = Callable[[Caller, Any, dict[str, Any]], None]

# The factory's request and response models are arguments, which FastAPI reads from the
# annotations at run time but mypy cannot use as types: the `valid-type` ignores below are
# those places, and the bodies are read through a BaseModel-typed name.


def entity_router(
    kind: Kind,
    create_model: type[BaseModel],
    update_model: type[BaseModel],
    public_model: type[BaseModel],
    *,
    update_role: Role = Role.planner,
    check_update: UpdateCheck | None = None,
) -> APIRouter:
    """The five routes of one kind under /portfolios/{portfolio_id}/{kind.key}."""
    label = kind.label
    param = f"{label}_id"
    router = APIRouter(
        route_class=JsonRoute, prefix=f"/portfolios/{{portfolio_id}}/{kind.key}", tags=[kind.key]
    )
    EntityId = Annotated[
        str, Path(alias=param, description=f"The {label}'s id.", examples=[kind.example])
    ]
    Writer = Annotated[Caller, Depends(requires(Role.planner))]
    Updater = Annotated[Caller, Depends(requires(update_role))]

    def read_items(
        *, session: SessionDep, _caller: CallerDep, paging: PagingDep, portfolio_id: PortfolioId
    ) -> Any:
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
        rows, total = crud.list_entities(
            session=session,
            portfolio=portfolio,
            kind=kind,
            offset=paging.offset,
            limit=paging.limit,
        )
        return {
            "items": [kind.public(row) for row in rows],
            "total": total,
            "offset": paging.offset,
            "limit": paging.limit,
        }

    def read_item(
        *,
        session: SessionDep,
        _caller: CallerDep,
        response: Response,
        portfolio_id: PortfolioId,
        entity_id: EntityId,
    ) -> Any:
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id)
        row = crud.get_entity(session=session, portfolio=portfolio, kind=kind, entity_id=entity_id)
        response.headers["ETag"] = crud.etag(row)
        return kind.public(row)

    def create_item(
        *,
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        caller: Writer,
        response: Response,
        portfolio_id: PortfolioId,
        body: create_model,  # type: ignore[valid-type]  # a model given to the factory
    ) -> Any:
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
        created: BaseModel = body
        data = created.model_dump(mode="json", exclude_none=True)
        row = crud.create_entity(
            session=session,
            portfolio=portfolio,
            kind=kind,
            data=data,
            caller=caller,
            limits=settings.limits(),
        )
        session.commit()
        response.headers["ETag"] = crud.etag(row)
        response.headers["Location"] = f"{request.url.path}/{row.id}"
        return kind.public(row)

    def update_item(
        *,
        session: SessionDep,
        settings: SettingsDep,
        caller: Updater,
        response: Response,
        portfolio_id: PortfolioId,
        entity_id: EntityId,
        if_match: IfMatch = None,
        body: update_model,  # type: ignore[valid-type]  # a model given to the factory
    ) -> Any:
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
        row = crud.get_entity(session=session, portfolio=portfolio, kind=kind, entity_id=entity_id)
        patch: BaseModel = body
        changes = patch.model_dump(mode="json", exclude_unset=True)
        if check_update is not None:
            check_update(caller, row, changes)
        crud.check_if_match(if_match=if_match, current=crud.etag(row))
        row = crud.update_entity(
            session=session,
            portfolio=portfolio,
            kind=kind,
            row=row,
            changes=changes,
            caller=caller,
            limits=settings.limits(),
        )
        session.commit()
        response.headers["ETag"] = crud.etag(row)
        return kind.public(row)

    def delete_item(
        *,
        session: SessionDep,
        settings: SettingsDep,
        caller: Writer,
        portfolio_id: PortfolioId,
        entity_id: EntityId,
        if_match: IfMatch = None,
    ) -> None:
        portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, lock=True)
        row = crud.get_entity(session=session, portfolio=portfolio, kind=kind, entity_id=entity_id)
        crud.check_if_match(if_match=if_match, current=crud.etag(row))
        crud.delete_entity(
            session=session,
            portfolio=portfolio,
            kind=kind,
            row=row,
            caller=caller,
            limits=settings.limits(),
        )
        session.commit()

    one = f"/{{{param}}}"
    router.add_api_route(
        "",
        read_items,
        methods=["GET"],
        response_model=Page[public_model],  # type: ignore[valid-type]  # a model given to the factory
        response_model_exclude_none=True,
        name=f"read_{kind.key}",
        summary=f"List the {kind.key}",
        description=f"The portfolio's {kind.key}, in document order.",
    )
    router.add_api_route(
        "",
        create_item,
        methods=["POST"],
        status_code=201,
        response_model=public_model,
        response_model_exclude_none=True,
        name=f"create_{label}",
        summary=f"Create a {label}",
        description=f"Add a {label}; refused (422) when the portfolio would break a rule.",
    )
    router.add_api_route(
        one,
        read_item,
        methods=["GET"],
        response_model=public_model,
        response_model_exclude_none=True,
        name=f"read_{label}",
        summary=f"Read a {label}",
        description=f"One {label}, with its ETag.",
    )
    router.add_api_route(
        one,
        update_item,
        methods=["PATCH"],
        response_model=public_model,
        response_model_exclude_none=True,
        name=f"update_{label}",
        summary=f"Update a {label}",
        description="Change the fields given (null removes an optional one); needs If-Match.",
    )
    router.add_api_route(
        one,
        delete_item,
        methods=["DELETE"],
        status_code=204,
        name=f"delete_{label}",
        summary=f"Delete a {label}",
        description=f"Remove a {label}; refused (422) while something refers to it.",
    )
    return router
