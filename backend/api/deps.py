"""Dependencies of the routes: the session, the settings, the caller and its role, paging,
and the headers that make writes safe (If-Match, Idempotency-Key)."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from backend import security
from backend.config import Settings, get_settings
from backend.db import get_session
from backend.security import Caller, Role

SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (`journeyfolio keys create`): `Authorization: Bearer KEY`.",
)


def get_caller(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    # The raw header, so a malformed one gets a precise message.
    caller = security.authenticate(
        session=session, authorization=request.headers.get("authorization")
    )
    # End the transaction: the connection goes back to the pool until the route's own work.
    session.commit()
    return caller


def requires(role: Role) -> Callable[[Caller], Caller]:
    """A dependency: the caller, when it has `role` or a higher one (else 403)."""

    def dependency(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        caller.require(role)
        return caller

    return dependency


CallerDep = Annotated[Caller, Depends(get_caller)]
OwnerDep = Annotated[Caller, Depends(requires(Role.owner))]
PlannerDep = Annotated[Caller, Depends(requires(Role.planner))]

PortfolioId = Annotated[
    str, Path(description="The portfolio's id.", examples=["sonnenreisen-2027"])
]
"""Examples in the schema name the demo portfolio (seeds/), so they work against `seed`."""

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of the version you change (from a GET); required.",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Any unique string: a retry with the same key returns the first "
        "answer instead of creating again (remembered for 24 hours by default).",
    ),
]


class Paging:
    """`offset` and `limit` of a list (the page size is capped by the settings)."""

    def __init__(
        self,
        settings: SettingsDep,
        offset: Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.")] = 50,
    ) -> None:
        self.offset = offset
        self.limit = min(limit, settings.max_page_size)


PagingDep = Annotated[Paging, Depends()]
