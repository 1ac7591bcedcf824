"""Every error as RFC 9457 problem+json, mapped once here.

A problem says what went wrong (`title`, `detail`) and, for bad input, each problem with
where it is (`errors[].path`, in the document's notation: `touchpoints[0].curve.points[2]`)
and in which part of the request (`errors[].location`: body, query, path, header). Nothing
answers with a traceback: an unexpected exception becomes a plain 500 problem (and is logged).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import DomainError
from optimizer.document import DocumentError, format_path

log = logging.getLogger("journeyfolio.api")

PROBLEM_JSON = "application/problem+json"


class ProblemItem(BaseModel):
    """One thing wrong with the request: where and what."""

    model_config = ConfigDict(extra="forbid")
    location: str
    """body, query, path or header of the request; or document: the portfolio document the
    change would produce (as GET .../document shows it)."""
    path: str
    """Key path inside that location (`journeys[2].touchpoints[0].weight`)."""
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    model_config = ConfigDict(extra="forbid")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemItem] = []


def problem_response(
    request: Request | None,
    status: int,
    detail: str,
    *,
    errors: Iterable[ProblemItem] = (),
    headers: Mapping[str, str] | None = None,
    title: str | None = None,
    instance: str | None = None,
) -> JSONResponse:
    body = Problem(
        title=title or TITLES.get(status) or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else instance,
        errors=list(errors),
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
"""RFC 9110's names where Python's http module still has the old ones."""

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key missing",
}


def _items(errors: Sequence[Any]) -> list[ProblemItem]:
    items = []
    for error in errors:
        loc = list(error.get("loc", ()))
        location = str(loc[0]) if loc else "body"
        rest = loc[1:]
        message = _MESSAGES.get(error.get("type", ""), str(error.get("msg", "invalid")))
        message = message.removeprefix("Value error, ")
        if location == "body" and rest and rest[-1] == "points" and message.startswith("["):
            # A curve's "[i]: ..." messages name the point: fold the index into the path.
            for part in message.split("; "):
                index, _, text = part.partition(": ")
                items.append(
                    ProblemItem(location=location, path=format_path(rest) + index, message=text)
                )
            continue
        items.append(ProblemItem(location=location, path=format_path(rest), message=message))
    return items


def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = list(error.errors())
    for item in errors:
        if item.get("type") == "json_invalid":
            reason = (item.get("ctx") or {}).get("error", "invalid JSON")
            position = item["loc"][-1] if len(item.get("loc", ())) > 1 else "?"
            return problem_response(
                request,
                400,
                f"the request body is not valid JSON: {reason} (at character {position})",
            )
    body_errors = [e for e in errors if tuple(e.get("loc", ())) == ("body",)]
    if body_errors and body_errors[0].get("type") == "missing":
        detail = "a JSON body is required"
    elif body_errors and body_errors[0].get("type", "").endswith("_type"):
        detail = (
            "the request body must be a JSON object (send it with Content-Type: application/json)"
        )
    else:
        detail = f"the request has {len(errors)} problem(s); nothing was changed"
    return problem_response(request, 422, detail, errors=_items(errors))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (FastAPI makes one route per method,
    so Starlette's own Allow header names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:  # PARTIAL: the path matches, the method does not
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        items = [
            ProblemItem(location=error.location, path=p.path, message=p.message)
            for p in error.problems
        ]
        return problem_response(
            request, error.status, error.detail, errors=items, headers=error.headers
        )

    @app.exception_handler(DocumentError)
    async def _document(request: Request, error: DocumentError) -> JSONResponse:
        items = [
            ProblemItem(location="body", path=p.path, message=p.message) for p in error.problems
        ]
        return problem_response(
            request, 422, f"the portfolio document has {len(items)} problem(s)", errors=items
        )

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return _validation(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = (
            error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        )
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        headers = dict(error.headers or {})
        if error.status_code == 405:
            allowed = allowed_methods(request)
            detail = (
                f"{request.method} is not allowed on {request.url.path} "
                f"(allowed: {', '.join(allowed)})"
            )
            headers["Allow"] = ", ".join(allowed)
        return problem_response(request, error.status_code, detail, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
        # Only a concurrent write can get here (every rule is checked before writing).
        log.warning("integrity error on %s %s: %s", request.method, request.url.path, error.orig)
        return problem_response(
            request, 409, "a concurrent change got there first; read the resource and retry"
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, error: DataError) -> JSONResponse:
        # A value the validation let through but the database cannot hold.
        log.warning("data error on %s %s: %s", request.method, request.url.path, error.orig)
        return problem_response(
            request, 422, f"the database cannot store a value of this request: {error.orig}"
        )

    @app.exception_handler(OperationalError)
    async def _database(request: Request, error: OperationalError) -> JSONResponse:
        log.error("database error on %s %s: %s", request.method, request.url.path, error.orig)
        return problem_response(
            request,
            503,
            "the database is busy or does not answer; retry in a moment",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, error: PoolTimeout) -> JSONResponse:
        log.warning("no database connection for %s %s: %s", request.method, request.url.path, error)
        return problem_response(
            request,
            503,
            "the server is busy (no database connection free); retry in a moment",
            headers={"Retry-After": "2"},
        )


class Unexpected:
    """Pure ASGI middleware: an exception no handler took becomes a 500 problem (logged).

    It answers and ends there, where Starlette's own last-resort handler answers and then
    re-raises, which makes uvicorn close the connection: the client's next request on the same
    keep-alive connection would fail too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # half an answer is out: only closing the connection can tell the client
            response = problem_response(
                None,
                500,
                "an unexpected error happened; it has been logged",
                instance=scope.get("path"),
            )
            await response(scope, receive, send)
