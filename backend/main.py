"""The Journeyfolio API: `create_app(settings)` builds it, `app` is the default one
(`uvicorn backend.main:app`; `journeyfolio serve` applies the migrations first)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from backend.api import errors, openapi
from backend.api.limits import Admission, BodyLimit
from backend.api.main import api_router
from backend.config import Settings, get_settings
from backend.db import make_engine
from backend.jobs import JobQueue

API_PREFIX = "/api/v1"

DESCRIPTION = """
Customer journeys managed as a portfolio of products: keep portfolios in a database, change
them safely with many users, run and keep scenarios, compare them, export the numbers.

Every request but `/health` and `/ready` carries `Authorization: Bearer KEY`
(`journeyfolio keys create`).
Changes need `If-Match` with the ETag of a GET; creates of portfolios and runs honour
`Idempotency-Key`. Errors are RFC 9457 problem+json.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(
        settings.database_url,
        busy_timeout=settings.sqlite_busy_timeout,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # As many worker threads (sync routes and dependencies) as database connections.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        yield
        engine.dispose()

    app = FastAPI(
        title="Journeyfolio API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.queue = JobQueue(settings, engine)
    app.dependency_overrides[get_settings] = lambda: settings
    errors.install(app)
    # The last added runs first: errors -> body size -> admission -> the routes.
    app.add_middleware(
        Admission,
        slots=settings.db_pool_size,
        wait=settings.db_pool_timeout,
        exempt=(f"{API_PREFIX}/health",),
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(errors.Unexpected)
    app.include_router(api_router, prefix=API_PREFIX)
    openapi.install(app)
    return app


app = create_app()
