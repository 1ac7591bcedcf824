"""Scenarios of a portfolio: named overrides (budget, pooling, caps, priorities, floors...)."""

from backend.api.routes.entities import entity_router
from backend.crud import SCENARIOS
from backend.models import ScenarioCreate, ScenarioPublic, ScenarioUpdate

router = entity_router(SCENARIOS, ScenarioCreate, ScenarioUpdate, ScenarioPublic)
