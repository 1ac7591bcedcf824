"""Is the service up (`/health`), and can it work (`/ready`: its database answers)? No key
needed.

`/health` runs on the event loop and touches neither the database nor a worker thread, so it
answers at once however busy the server is (a long import, every connection in use).
`/ready` asks the database, on a connection of the pool, with a read-only transaction that
never waits for a writer."""

from importlib import metadata
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from backend.api.deps import SessionDep
from backend.api.route import JsonRoute
from backend.errors import DomainError
from backend.models import Health

router = APIRouter(route_class=JsonRoute, tags=["health"])


def _version() -> str:
    try:
        return metadata.version("journeyfolio")
    except metadata.PackageNotFoundError:
        return "unknown"


class Unavailable(DomainError):
    status = 503


@router.get("/health", response_model=Health)
async def read_health(*, request: Request) -> Any:
    """Whether the API answers (the database is not asked: see `/ready`)."""
    return {
        "status": "ok",
        "database": request.app.state.engine.dialect.name,
        "version": _version(),
    }


@router.get("/ready", response_model=Health, responses={503: {"description": "Not ready."}})
def read_ready(*, session: SessionDep) -> Any:
    """Whether the API and its database answer."""
    try:
        # SQLModel's exec() is typed for select() only; a raw SELECT 1 is what this probe wants
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as error:  # any driver error means the same thing here
        raise Unavailable(f"the database does not answer: {type(error).__name__}") from None
    return {
        "status": "ok",
        "database": session.get_bind().dialect.name,
        "version": _version(),
    }
