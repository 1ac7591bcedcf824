"""Is the service up and its database reachable (no key needed)."""

from importlib import metadata
from typing import Any

from fastapi import APIRouter
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
def read_health(*, session: SessionDep) -> Any:
    """Whether the API and its database answer."""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as error:  # any driver error means the same thing here
        raise Unavailable(f"the database does not answer: {type(error).__name__}") from None
    return {
        "status": "ok",
        "database": session.get_bind().dialect.name,
        "version": _version(),
    }
