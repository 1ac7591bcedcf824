"""All routes of /api/v1."""

from fastapi import APIRouter

from backend.api.routes import (
    departments,
    dependencies,
    evidence,
    health,
    jobs,
    journeys,
    personas,
    portfolios,
    runs,
    scenarios,
    tables,
    touchpoints,
)

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(evidence.me)
api_router.include_router(portfolios.router)
api_router.include_router(departments.router)
api_router.include_router(personas.router)
api_router.include_router(touchpoints.router)
api_router.include_router(evidence.router)
api_router.include_router(dependencies.router)
api_router.include_router(journeys.router)
api_router.include_router(journeys.links)
api_router.include_router(scenarios.router)
api_router.include_router(runs.router)
api_router.include_router(jobs.router)
api_router.include_router(tables.router)
